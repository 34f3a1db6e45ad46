//! Automatic failover by the agents' elected coordinator, against a real sandbox: a `kill -9` of
//! the primary's mariadbd is failed over automatically, then blocked by the cool-down until
//! `myzoo ack`, and the old primary, restarted, is rejoined automatically; an agent killed while
//! its server serves causes no failover; a host death (agent and server together) is failed over
//! only after the agent's session has expired; and ten crashes in a row under a semi-sync writer
//! lose no acknowledged write. The tests in this file run one at a time: each starts a whole
//! cluster.

mod common;

use std::time::{Duration, Instant};

use myzoo::failover::journal::{self, OpState};
use myzoo::sandbox;

use common::cluster::{automatic, kill, wait_epoch, wait_state, Fixture, SESSION_TIMEOUT_MS, WAIT};

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crashed_server_is_failed_over_blocked_acknowledged_and_rejoined() {
    let _one = ONE_AT_A_TIME.lock().await;
    let fx = Fixture::start().await;
    automatic(&fx).await;
    wait_state(&fx, "watched the primary", |s| s.mode == "on" && s.reason.contains("up")).await;

    let killed = Instant::now();
    kill(fx.sb.mysql_pid("db1"));
    let record = wait_epoch(&fx, 2).await;
    eprintln!("automatic failover to {} recorded {} ms after the kill", record.node, killed.elapsed().as_millis());
    assert_ne!(record.node, "db1");
    let history = journal::list(&fx.zk, &fx.paths, 1).await.unwrap();
    let (_, _, rec) = history.first().expect("a journal record");
    assert_eq!(rec.owner.origin, "coordinator");
    // The journal is finished just after the record step; wait for it.
    let deadline = Instant::now() + WAIT;
    let rec = loop {
        let (_, _, r) = journal::list(&fx.zk, &fx.paths, 1).await.unwrap().remove(0);
        if r.state != OpState::Running || Instant::now() > deadline {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(rec.state, OpState::Done, "{rec:?}");

    // Blocked by the cool-down; `myzoo ack` lifts it.
    let s = wait_state(&fx, "blocked", |s| s.mode == "blocked" && s.reason.contains("cool-down")).await;
    assert!(s.blocked_until_ms.is_some() && s.last_failover_ms.is_some(), "{s:?}");
    let home = tempfile::tempdir().unwrap();
    let out = common::isolated_myzoo(home.path())
        .args(["ack", "--zk", &fx.sb.zk(), "--cluster", sandbox::CLUSTER])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    wait_state(&fx, "unblocked", |s| s.mode == "on").await;

    // The old primary comes back read-only and is rejoined by the coordinator.
    common::wait_exited(fx.sb.mysql_pid("db1"), WAIT).await;
    sandbox::restart_mysql(fx.sb.dir.path(), "db1").await.expect("restart db1");
    fx.wait_replicating("db1", &record.node).await;
    assert!(fx.read_only("db1").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dead_agent_is_not_a_dead_server_but_a_dead_host_is_after_its_session() {
    let _one = ONE_AT_A_TIME.lock().await;
    let fx = Fixture::start().await;
    automatic(&fx).await;
    wait_state(&fx, "watched the primary", |s| s.mode == "on" && s.reason.contains("up")).await;

    // db1's agent dies; its server serves on: the coordinator suspects, the plan refuses.
    kill(fx.sb.agent_pid("db1"));
    common::wait_exited(fx.sb.agent_pid("db1"), WAIT).await;
    let s = wait_state(&fx, "refused", |s| s.reason.contains("refused")).await;
    assert!(s.reason.contains("db1 accepts writes"), "{s:?}");
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(fx.primary().await.epoch, 1, "no failover while the server serves");

    // Now the server dies too: failed over.
    kill(fx.sb.mysql_pid("db1"));
    let record = wait_epoch(&fx, 2).await;
    assert_ne!(record.node, "db1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_host_death_is_failed_over_after_the_session_expires_not_before() {
    let _one = ONE_AT_A_TIME.lock().await;
    let fx = Fixture::start().await;
    automatic(&fx).await;
    wait_state(&fx, "watched the primary", |s| s.mode == "on" && s.reason.contains("up")).await;

    let killed = Instant::now();
    kill(fx.sb.agent_pid("db1"));
    kill(fx.sb.mysql_pid("db1"));
    let record = wait_epoch(&fx, 2).await;
    let after_ms = killed.elapsed().as_millis();
    eprintln!("host death: failover to {} recorded {after_ms} ms after the kill", record.node);
    // Its agent's znode (last saying "up") stays until the session expires: nothing acts before.
    assert!(
        after_ms >= u128::from(SESSION_TIMEOUT_MS) - 500,
        "failed over after {after_ms} ms, before the session expired"
    );
}

/// The trial: `kill -9` of the primary's mariadbd under an acknowledging writer with
/// semi-sync on, ten times in a row, each failed over automatically to exactly one new primary
/// (the epoch grows by one), the killed server restarted read-only and rejoined, the cool-down
/// acknowledged; at the end every acknowledged write is on the last primary.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_primary_crashes_in_a_row_lose_no_acknowledged_write() {
    const TRIALS: u64 = 10;
    let _one = ONE_AT_A_TIME.lock().await;
    let fx = Fixture::start_with(true).await;
    automatic(&fx).await;
    wait_state(&fx, "watched the primary", |s| s.mode == "on" && s.reason.contains("up")).await;
    let writer = fx.writer().await;
    let mut pids: std::collections::HashMap<String, i32> =
        fx.sb.status.mysql.iter().map(|m| (m.name.clone(), m.pid.expect("pid") as i32)).collect();
    for trial in 1..=TRIALS {
        let before = fx.primary().await;
        assert_eq!(before.epoch, trial, "one new primary per trial");
        let killed = Instant::now();
        let pid = pids[&before.node];
        kill(pid);
        common::wait_exited(pid, WAIT).await;
        let after = wait_epoch(&fx, trial + 1).await;
        let took = killed.elapsed().as_millis();
        assert_eq!(after.epoch, trial + 1, "exactly one failover");
        assert_ne!(after.node, before.node);
        // Blocked by the cool-down, then acknowledged as an operator would.
        wait_state(&fx, "blocked", |s| s.mode == "blocked").await;
        myzoo::agent::coordinator::update_state(&fx.zk, &fx.paths, |s| s.acked_ms = Some(myzoo::audit::now_ms()))
            .await
            .expect("ack");
        wait_state(&fx, "unblocked", |s| s.mode == "on").await;
        // The old primary comes back read-only and is rejoined by the coordinator.
        let server = sandbox::restart_mysql(fx.sb.dir.path(), &before.node).await.expect("restart");
        pids.insert(before.node.clone(), server.pid.expect("pid") as i32);
        assert!(fx.read_only(&before.node).await, "back read-only");
        fx.wait_replicating(&before.node, &after.node).await;
        eprintln!("trial {trial}: {} -> {} recorded {took} ms after the kill", before.node, after.node);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (acked, failures) = writer.stop().await;
    let last = fx.primary().await.node;
    let on_last = common::cluster::ids_on(&mut fx.root(&last).await).await;
    let missing: Vec<&i64> = acked.iter().filter(|id| on_last.binary_search(id).is_err()).collect();
    assert!(missing.is_empty(), "acknowledged writes lost: {missing:?} of {}", acked.len());
    assert!(!failures.is_empty() && acked.len() > 100, "the writer wrote through the trials");
    eprintln!("{TRIALS} crashes: {} writes acknowledged, none lost", acked.len());
}

/// The ZooKeeper leader killed under the agents (their sessions move to the other members)
/// does not stop automatic failover, nor a switchover run meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_zookeeper_leader_killed_under_the_cluster() {
    let _one = ONE_AT_A_TIME.lock().await;
    let fx = Fixture::start_on(false, 3).await;
    automatic(&fx).await;
    wait_state(&fx, "watched the primary", |s| s.mode == "on" && s.reason.contains("up")).await;

    let leader = sandbox::zk_leader(&fx.sb.status).await.expect("a leader");
    kill(leader.pid.expect("leader pid") as i32);
    eprintln!("killed ZooKeeper member {} (the leader)", leader.id);

    // A switchover while one member is down.
    let op = fx.operator();
    let deadline = Instant::now() + WAIT;
    let p = loop {
        match myzoo::failover::switchover::plan(&op, None).await {
            Ok(p) if p.plan.can_run() => break p,
            Ok(p) if Instant::now() > deadline => panic!("{}", p.plan.render()),
            Err(e) if Instant::now() > deadline => panic!("{e:#}"),
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    let rec = myzoo::failover::switchover::run(&op, p, None, &|_| {}).await.expect("ran");
    assert_eq!(rec.state, OpState::Done, "{rec:?}");
    let primary = fx.primary().await;
    assert_eq!(primary.epoch, 2);

    // Then the new primary's server dies: the coordinator, re-elected or not, fails over.
    wait_state(&fx, "watching the new primary", |s| s.mode == "on" && s.reason.contains(&primary.node)).await;
    kill(fx.sb.mysql_pid(&primary.node));
    let after = wait_epoch(&fx, 3).await;
    assert_ne!(after.node, primary.node);
}
