//! The cluster screen and `myzoo status` against real agents: a healthy seeded sandbox, an
//! agent stopped with SIGTERM (gone at once), a replica's server killed (down) and restarted
//! (ok again), the status command's exit codes, and an agent with the wrong MySQL password
//! (running, its node shown unreachable with MySQL's access-denied error).
//!
//! One sandbox for the file. The first test kills db2's server (and restarts it) and stops
//! db1's agent; the wrong-password test uses db3's server and a root of its own.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use myzoo::cluster::health::{NodeState, Verdict};
use myzoo::console::app::App;
use myzoo::console::headless::Headless;

const INTERVAL_MS: u64 = 250;
const SESSION_TIMEOUT_MS: u64 = 2_000;
const WAIT: Duration = Duration::from_secs(20);

fn state(a: &App, node: &str) -> Option<NodeState> {
    a.clusters().view.as_ref()?.node(node).map(|n| n.state)
}

async fn sandbox() -> Arc<common::Sandbox> {
    common::Sandbox::shared("three servers with agents", || {
        common::Sandbox::with_agents(INTERVAL_MS, SESSION_TIMEOUT_MS)
    })
    .await
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
    let sb = sandbox().await;
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

/// Stops the agent on drop (SIGTERM), so a failed assertion leaves no process behind.
struct AgentProcess(std::process::Child);

impl Drop for AgentProcess {
    fn drop(&mut self) {
        // Only while it runs: once waited for, its pid may belong to another process.
        if let Ok(None) = self.0.try_wait() {
            // SAFETY: kill(2) on the agent this test started, which has not been reaped.
            unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
            let _ = self.0.wait();
        }
    }
}

/// An agent whose MySQL password is wrong keeps running and keeps its node registered as
/// unreachable, with the server's access-denied error; `myzoo status` (text and JSON) and the
/// cluster screen show that error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_with_a_wrong_password_publishes_access_denied() {
    use myzoo::cluster::status::{parse_status, ParsedStatus};
    let sb = sandbox().await;
    let (root, cluster, node) = ("/creds", "creds", "db3");
    let paths = myzoo::cluster::ClusterPaths::new(root, cluster);
    let port = sb.status.mysql.iter().find(|m| m.name == node).expect("db3").port;
    let zk = zookeeper_client::Client::connect(&sb.zk()).await.expect("connect to ZooKeeper");
    let persistent = zookeeper_client::CreateMode::Persistent.with_acls(zookeeper_client::Acls::anyone_all());
    zk.mkdir(&paths.nodes_dir(), &persistent).await.expect("cluster folders");
    let config = serde_json::json!({
        "schema": 1, "name": cluster, "tier": "development",
        "nodes": [{"name": node, "host": "127.0.0.1", "port": port}],
    });
    zk.create(&paths.config(), config.to_string().as_bytes(), &persistent).await.expect("config");
    zk.create(&paths.primary(), br#"{"node":"db3","epoch":1}"#, &persistent).await.expect("primary record");

    // The sandbox's agent account, with a password that is not its own.
    let home = tempfile::tempdir().unwrap();
    let user = myzoo::sandbox::credentials(sb.dir.path()).expect("credentials").agent.user;
    let password_file = home.path().join("password");
    std::fs::write(&password_file, "not-the-password\n").unwrap();
    let log = home.path().join("agent.log");
    let mut cmd = common::isolated_myzoo(home.path());
    cmd.args(["agent", "--zk", &sb.zk(), "--root", root, "--log-file"])
        .arg(&log)
        .args(["--cluster", cluster, "--node", node, "--mysql-host", "127.0.0.1", "--mysql-port", &port.to_string()])
        .args(["--mysql-user", &user, "--mysql-password-file"])
        .arg(&password_file)
        .args(["--interval", &INTERVAL_MS.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut agent = AgentProcess(cmd.spawn().expect("start the agent"));

    let denied = |e: &str| e.contains("Access denied") && e.contains(&user);
    let deadline = Instant::now() + WAIT;
    let status = loop {
        let seen = match zk.get_data(&paths.node(node)).await {
            Ok((data, _)) => match parse_status(&data) {
                ParsedStatus::Ok(s) => Some(*s),
                other => panic!("the status does not parse: {other:?}"),
            },
            Err(_) => None,
        };
        if let Some(s) = seen.as_ref().filter(|s| !s.reachable && s.error.as_deref().is_some_and(denied)) {
            break s.clone();
        }
        assert!(
            agent.0.try_wait().unwrap().is_none(),
            "the agent exited:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        assert!(Instant::now() < deadline, "no access-denied status within {WAIT:?}; last: {seen:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status.role, myzoo::cluster::status::ServerRole::Unknown);
    let error = status.error.clone().unwrap_or_default();
    eprintln!("published: {error}");

    // The scriptable view: server down, the error in LAST ERROR and in the JSON; the recorded
    // primary is down, so the cluster is unhealthy (exit 2).
    let run = |json: bool| {
        let mut cmd = common::isolated_myzoo(home.path());
        cmd.args(["--zk", &sb.zk(), "--root", root, "status", "--cluster", cluster]);
        if json {
            cmd.arg("--json");
        }
        cmd.output().expect("run myzoo status")
    };
    let out = run(false);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let row = text.lines().find(|l| l.starts_with(node)).unwrap_or_default();
    assert!(row.contains("server down") && denied(row), "{text}");
    let out = run(true);
    let views: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status --json");
    let n = &views[0]["nodes"][0];
    assert_eq!((n["name"].as_str(), n["state"].as_str()), (Some(node), Some("server-down")), "{views}");
    assert!(n["status"]["error"].as_str().is_some_and(denied), "{views}");

    // The cluster screen, wide enough for the whole error.
    let session = sb.session(Duration::from_secs(10));
    let mut h = Headless::start(common::app_opts((240, 30), root), session).unwrap();
    assert!(h.pump_until(WAIT, |a| state(a, node) == Some(NodeState::ServerDown)).await, "{:?}", h.app.clusters().view);
    h.draw();
    let screen = h.screen();
    assert!(screen.lines().any(|l| l.contains("server down") && l.contains(&error)), "{screen}");
    h.shutdown().await;

    // Still running, still registered, still saying why: then a clean stop.
    assert!(agent.0.try_wait().unwrap().is_none(), "the agent exited");
    let (data, _) = zk.get_data(&paths.node(node)).await.expect("still registered");
    assert!(
        matches!(parse_status(&data), ParsedStatus::Ok(s) if !s.reachable && s.error.as_deref().is_some_and(denied))
    );
    // SAFETY: kill(2) on the agent this test started.
    unsafe { libc::kill(agent.0.id() as i32, libc::SIGTERM) };
    let exit = agent.0.wait().expect("wait for the agent");
    assert!(exit.success(), "agent exit status {exit:?}");
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(log.contains("server unreachable") && log.contains("Access denied"), "the agent's log:\n{log}");
}
