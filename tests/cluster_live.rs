//! The cluster screen and `myzoo status` against real agents: a healthy seeded sandbox, an
//! agent stopped with SIGTERM (gone at once), a replica's server killed (down) and restarted
//! (ok again), and the status command's exit codes.

mod common;

use std::time::Duration;

use myzoo::cluster::health::{NodeState, Verdict};
use myzoo::console::app::App;
use myzoo::console::headless::Headless;

const INTERVAL_MS: u64 = 250;
const SESSION_TIMEOUT_MS: u64 = 2_000;
const WAIT: Duration = Duration::from_secs(20);

fn state(a: &App, node: &str) -> Option<NodeState> {
    a.clusters().view.as_ref()?.node(node).map(|n| n.state)
}

fn status_cmd(sb: &common::Sandbox, json: bool) -> std::process::Output {
    let mut cmd = common::isolated_myzoo(&sb.dir.path().join("home"));
    cmd.args(["--zk", &sb.zk(), "status"]);
    if json {
        cmd.arg("--json");
    }
    cmd.output().expect("run myzoo status")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_screen_and_status_follow_real_agents() {
    let sb = common::Sandbox::with_agents(INTERVAL_MS, SESSION_TIMEOUT_MS).await;
    let mut h = Headless::start(common::app_opts((120, 40), "/myzoo"), sb.session(Duration::from_secs(10))).unwrap();
    let all_ok = |a: &App| ["db1", "db2", "db3"].iter().all(|n| state(a, n) == Some(NodeState::Ok));
    assert!(h.pump_until(WAIT, all_ok).await, "nodes never all ok: {:?}", h.app.clusters().view);
    let view = h.app.clusters().view.clone().unwrap();
    assert_eq!(view.verdict, Verdict::Healthy, "{:?}", view.problems);
    let topo: Vec<(&str, u16)> = view.topology.iter().map(|t| (t.node.as_str(), t.depth)).collect();
    assert_eq!(topo, [("db1", 0), ("db2", 1), ("db3", 1)]);
    h.draw();
    let screen = h.screen();
    assert!(screen.contains("HEALTHY") && screen.contains("Cluster sandbox"), "{screen}");

    // The scriptable view agrees and exits 0.
    let out = status_cmd(&sb, false);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "status failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("HEALTHY") && text.contains("db2") && text.contains("replica"), "{text}");

    // A replica's server dies: shown down, with the error (how fast: benches/cluster.rs).
    unsafe { libc::kill(sb.mysql_pid("db2"), libc::SIGKILL) };
    assert!(h.pump_until(WAIT, |a| state(a, "db2") == Some(NodeState::ServerDown)).await);
    let err = h.app.clusters().view.as_ref().unwrap().node("db2").unwrap().status.as_ref().unwrap().error.clone();
    assert!(err.is_some_and(|e| !e.is_empty()), "no error shown for the down server");
    myzoo::sandbox::restart_mysql(sb.dir.path(), "db2").await.expect("restart db2");
    assert!(h.pump_until(WAIT, |a| state(a, "db2") == Some(NodeState::Ok)).await, "db2 never came back");

    // The primary's agent stops cleanly: it removes its znode before it exits (so the znode is
    // gone when the process is, not left to the session's expiry), and the console shows the
    // agent gone and the cluster unhealthy.
    let pid = sb.agent_pid("db1");
    // SAFETY: kill(2) on an agent this test's sandbox started.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let status = common::wait_exited(pid, WAIT).await;
    assert!(common::exited_ok(status), "agent exit status {status:#x}");
    let zk = zookeeper_client::Client::connect(&sb.zk()).await.expect("connect to ZooKeeper");
    let znode = myzoo::cluster::ClusterPaths::new("/myzoo", "sandbox").node("db1");
    assert!(
        zk.check_stat(&znode).await.unwrap().is_none(),
        "the agent exited but left {znode} to the session's expiry"
    );
    assert!(h.pump_until(WAIT, |a| state(a, "db1") == Some(NodeState::AgentGone)).await, "db1 never shown gone");
    assert_eq!(h.app.clusters().view.as_ref().unwrap().verdict, Verdict::Unhealthy);
    let out = status_cmd(&sb, true);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stdout));
    let views: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status --json");
    assert_eq!(views[0]["verdict"], "unhealthy");
    assert!(views[0]["problems"].to_string().contains("db1"), "{views}");
    h.shutdown().await;
}
