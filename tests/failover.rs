//! The unplanned failover against a real sandbox: a `kill -9` of the primary's mariadbd under a
//! writer with semi-sync on (one new primary, every acknowledged write kept, two failovers
//! started at once and exactly one runs, the old primary restarted read-only); an agent killed
//! while its server serves (no failover, and the observer that disagreed named); an errant
//! transaction on a replica (never chosen, reported) and no safe candidate (refused with the
//! reasons).

mod common;

use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use myzoo::cluster::config::PrimaryRecord;
use myzoo::cluster::status::{parse_status, ParsedStatus};
use myzoo::failover::journal::{OpState, StepState};
use myzoo::failover::unplanned::{self, FailoverOptions};
use myzoo::failover::{switchover::Refused, Operator};
use myzoo::sandbox;

use common::cluster::{ids_on, kill, Fixture, WAIT};

/// Waits until `node`'s agent publishes `reachable == want` (or its znode is gone when `want`
/// is `None`).
async fn wait_agent(fx: &Fixture, node: &str, want: Option<bool>) {
    let deadline = Instant::now() + WAIT;
    loop {
        let now = match fx.zk.get_data(&fx.paths.node(node)).await {
            Ok((data, _)) => match parse_status(&data) {
                ParsedStatus::Ok(s) => Some(s.reachable),
                _ => Some(true),
            },
            Err(_) => None,
        };
        if now == want {
            return;
        }
        assert!(Instant::now() < deadline, "{node}'s agent: {now:?}, waiting for {want:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn second_operator(fx: &Fixture) -> Operator {
    let client = zookeeper_client::Client::connect(&fx.sb.zk()).await.expect("second client");
    Operator { client, ..fx.operator() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn primary_crash_under_a_semi_sync_writer() {
    let fx = Fixture::start_with(true).await;
    let writer = fx.writer().await;
    tokio::time::sleep(Duration::from_millis(700)).await;

    kill(fx.sb.mysql_pid("db1"));
    common::wait_exited(fx.sb.mysql_pid("db1"), WAIT).await;
    wait_agent(&fx, "db1", Some(false)).await;

    // Two operators plan and run at once: exactly one failover happens.
    let (op1, op2) = (fx.operator(), second_operator(&fx).await);
    let opts = FailoverOptions::default();
    let (p1, p2) = tokio::join!(unplanned::plan(&op1, &opts), unplanned::plan(&op2, &opts));
    let (p1, p2) = (p1.expect("plan"), p2.expect("plan"));
    assert!(p1.plan.can_run(), "{}", p1.plan.render());
    let (r1, r2) = tokio::join!(unplanned::run(&op1, p1, None, &|_| {}), unplanned::run(&op2, p2, None, &|_| {}));
    let done: Vec<_> = [&r1, &r2].into_iter().filter(|r| matches!(r, Ok(rec) if rec.state == OpState::Done)).collect();
    assert_eq!(done.len(), 1, "exactly one failover ran: {r1:?} / {r2:?}");
    // The two plans were made a moment apart and may have chosen differently: the one that ran
    // says which node it promoted.
    let new = match done[0] {
        Ok(rec) => rec.new_primary.clone().expect("promoted node"),
        Err(_) => unreachable!("filtered on Ok"),
    };
    for r in [&r1, &r2] {
        match r {
            Ok(rec) if rec.state == OpState::Done => {
                assert_eq!(rec.step("wait-expiry").unwrap().state, StepState::Done);
                assert!(rec.step("drain").unwrap().detail.is_some());
            }
            // The loser was refused by the lock, or found the record moved at its check.
            Ok(rec) => assert!(rec.outcome.as_deref().unwrap_or("").contains("changed"), "{rec:?}"),
            Err(e) => assert!(matches!(e.downcast_ref::<Refused>(), Some(Refused::Lock(_))), "{e:#}"),
        }
    }
    assert_eq!(fx.primary().await, PrimaryRecord { node: new.clone(), epoch: 2 });

    tokio::time::sleep(Duration::from_millis(700)).await;
    let (acked, failures) = writer.stop().await;
    assert!(!failures.is_empty(), "the writer saw the outage");
    let on_new = ids_on(&mut fx.root(&new).await).await;
    let missing: Vec<&i64> = acked.iter().filter(|id| on_new.binary_search(id).is_err()).collect();
    assert!(missing.is_empty(), "acknowledged writes lost: {missing:?} of {}", acked.len());
    let other = if new == "db2" { "db3" } else { "db2" };
    fx.wait_replicating(other, &new).await;
    eprintln!("failover to {new}: {} writes acknowledged, none lost", acked.len());

    // The old primary comes back read-only and not replicating (it must be rejoined).
    let restarted = sandbox::restart_mysql(fx.sb.dir.path(), "db1").await.expect("restart db1");
    let mut c = sandbox::mariadb::connect_root(restarted.port).await.unwrap();
    let ro: Option<i64> = c.query_first("SELECT @@global.read_only").await.unwrap();
    assert_eq!(ro, Some(1), "the old primary is read-only when it comes back");
    let row: Option<mysql_async::Row> = c.query_first("SHOW SLAVE STATUS").await.unwrap();
    assert!(row.is_none(), "and does not replicate before a rejoin");

    // `myzoo rejoin` points it at the new primary; it stays read-only and catches up.
    let out = rejoin_cli(&fx, "db1");
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    fx.wait_replicating("db1", &new).await;
    let ro: Option<i64> = c.query_first("SELECT @@global.read_only").await.unwrap();
    assert_eq!(ro, Some(1));
    let deadline = Instant::now() + WAIT;
    while ids_on(&mut c).await.len() < acked.len() {
        assert!(Instant::now() < deadline, "db1 did not catch up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `myzoo rejoin --yes` with the sandbox's account, from an isolated home.
fn rejoin_cli(fx: &Fixture, node: &str) -> std::process::Output {
    let home = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = home.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let (agent_pw, repl_pw) = (write("agent.pw", &fx.creds.agent.password), write("repl.pw", &fx.creds.repl.password));
    common::isolated_myzoo(home.path())
        .args(["rejoin", "--zk", &fx.sb.zk(), "--cluster", sandbox::CLUSTER, "--node", node, "--yes"])
        .args(["--mysql-user", "agent", "--mysql-password-file"])
        .arg(&agent_pw)
        .arg("--repl-password-file")
        .arg(&repl_pw)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_failover_while_the_server_serves_and_no_unsafe_candidate() {
    let fx = Fixture::start().await;
    let op = fx.operator();

    // The primary's agent dies once its heartbeat reaches the replicas; its server still serves.
    let deadline = Instant::now() + WAIT;
    loop {
        let lag = match fx.zk.get_data(&fx.paths.node("db2")).await {
            Ok((data, _)) => match parse_status(&data) {
                ParsedStatus::Ok(s) => s.heartbeat_lag_ms,
                _ => None,
            },
            Err(_) => None,
        };
        if lag.is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "no heartbeat lag published by db2");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    kill(fx.sb.agent_pid("db1"));
    common::wait_exited(fx.sb.agent_pid("db1"), WAIT).await;
    wait_agent(&fx, "db1", None).await;
    let p = unplanned::plan(&op, &FailoverOptions::default()).await.expect("plan");
    assert!(!p.plan.can_run());
    let refusals = p.plan.refusals.join("\n");
    assert!(refusals.contains("db1 accepts writes") && refusals.contains("(direct)"), "{refusals}");
    // (The replicas may well agree: the heartbeat row is the dead agent's to write. The direct
    // look is what vetoes.)
    let err = unplanned::run(&op, p, None, &|_| {}).await.unwrap_err();
    assert!(matches!(err.downcast_ref::<Refused>(), Some(Refused::Plan(_))), "{err:#}");
    assert_eq!(fx.primary().await.node, "db1");

    // An errant transaction on db2 (a write that bypassed read_only), then the host of db1 dies.
    let mut c = fx.root("db2").await;
    c.query_drop("CREATE DATABASE errant_here").await.unwrap();
    kill(fx.sb.mysql_pid("db1"));
    common::wait_exited(fx.sb.mysql_pid("db1"), WAIT).await;

    // db3 may not be promoted either: no safe candidate, refused with every reason.
    fx.edit_config(|v| v["nodes"][2]["no_promote"] = true.into()).await;
    let deadline = Instant::now() + WAIT;
    let p = loop {
        let p = unplanned::plan(&op, &FailoverOptions::default()).await.expect("plan");
        // The replicas take a moment to see the primary gone.
        if p.plan.refusals.iter().all(|r| !r.contains("not confirmed gone")) || Instant::now() > deadline {
            break p;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(!p.plan.can_run(), "{}", p.plan.render());
    let db2 = p.plan.candidates.iter().find(|c| c.node == "db2").unwrap();
    assert!(!db2.eligible && !db2.errant.is_empty(), "{db2:?}");
    assert!(db2.errant.iter().any(|e| e.contains("0-2-")), "the errant GTID is named: {db2:?}");
    let db3 = p.plan.candidates.iter().find(|c| c.node == "db3").unwrap();
    assert!(!db3.eligible && db3.reasons.iter().any(|r| r.contains("no-promote")), "{db3:?}");
    assert!(p.plan.refusals.iter().any(|r| r.contains("no replica is safe")), "{:?}", p.plan.refusals);

    // Allowed again, db3 is chosen; db2 never.
    fx.edit_config(|v| v["nodes"][2]["no_promote"] = false.into()).await;
    let p = unplanned::plan(&op, &FailoverOptions::default()).await.expect("plan");
    assert_eq!(p.plan.candidate.as_deref(), Some("db3"), "{}", p.plan.render());
    let rec = unplanned::run(&op, p, None, &|_| {}).await.expect("ran");
    assert_eq!(rec.state, OpState::Failed, "{rec:?}");
    assert!(rec.outcome.as_deref().unwrap().contains("db2 not repointed: errant"), "{:?}", rec.outcome);

    // And it is never rejoined: refused (exit 2) with the errant transactions named.
    let out = rejoin_cli(&fx, "db2");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("errant") && stdout.contains("0-2-"), "{stdout}");
    assert_eq!(fx.primary().await, PrimaryRecord { node: "db3".into(), epoch: 2 });
}
