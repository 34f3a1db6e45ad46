//! The planned switchover against a real sandbox (ZooKeeper, a MariaDB primary, two GTID
//! replicas, their agents): the plan refuses a broken replica; a failing pre-hook aborts with
//! nothing changed; a candidate that cannot catch up is rolled back (old primary writable
//! again, candidate replicating again); a second operation is refused while the lock is held;
//! and a switchover under a continuous writer loses no acknowledged write, refuses writes only
//! inside the window, and leaves the old primary replicating from the new one — then the
//! command-line front end switches back.

mod common;

use common::cluster::{app_conn_opts, ids_on, Fixture, Writer, WRITER_DISCOVERY_SLACK_MS};

use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use myzoo::cluster::config::PrimaryRecord;
use myzoo::failover::journal::{OpState, StepState};
use myzoo::failover::switchover::{self, Refused};
use myzoo::sandbox;
use zookeeper_client::Client;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn switchover_scenarios_on_a_real_cluster() {
    let fx = Fixture::start().await;
    let op = fx.operator();
    fx.edit_config(|v| v["failover"]["catch_up_timeout_ms"] = 1_000.into()).await;
    let mut c = fx.root("db1").await;
    c.query_drop("CREATE TABLE app.writes (id BIGINT PRIMARY KEY, at TIMESTAMP(6) DEFAULT NOW(6))").await.unwrap();
    drop(c);

    // 1. A replica that does not replicate: the plan refuses and says which and why.
    fx.root("db3").await.query_drop("STOP SLAVE SQL_THREAD").await.unwrap();
    let p = switchover::plan(&op, None).await.expect("plan");
    assert!(!p.plan.can_run());
    assert!(p.plan.refusals.iter().any(|r| r.contains("db3") && r.contains("SQL thread No")), "{:?}", p.plan.refusals);
    fx.root("db3").await.query_drop("START SLAVE").await.unwrap();
    fx.wait_replicating("db3", "db1").await;

    // 2. A failing pre-switchover hook aborts before anything changes.
    fx.edit_config(|v| {
        v["hooks"] = serde_json::json!({"pre_switchover": "echo proxy says no; exit 7", "timeout_s": 5})
    })
    .await;
    let p = switchover::plan(&op, Some("db2")).await.expect("plan");
    assert!(p.plan.can_run(), "{}", p.plan.render());
    let rec = switchover::run(&op, p, None, &|_| {}).await.expect("ran");
    assert_eq!(rec.state, OpState::RolledBack, "{rec:?}");
    assert_eq!(rec.step("pre-hook").unwrap().state, StepState::Failed);
    assert!(rec.outcome.as_deref().unwrap().contains("proxy says no"), "{:?}", rec.outcome);
    assert!(!fx.read_only("db1").await);
    assert_eq!(fx.primary().await, PrimaryRecord { node: "db1".into(), epoch: 1 });
    fx.edit_config(|v| v["hooks"] = serde_json::json!({})).await;

    // 3. A candidate that cannot catch up (its SQL thread stopped after the plan): rolled back.
    let p = switchover::plan(&op, Some("db2")).await.expect("plan");
    assert!(p.plan.can_run(), "{}", p.plan.render());
    fx.root("db2").await.query_drop("STOP SLAVE SQL_THREAD").await.unwrap();
    // Something to catch up on.
    let mut app = Conn::new(app_conn_opts(fx.port("db1"), &fx.creds)).await.unwrap();
    app.query_drop("INSERT INTO app.writes (id) VALUES (-1)").await.unwrap();
    let rec = switchover::run(&op, p, None, &|_| {}).await.expect("ran");
    assert_eq!(rec.state, OpState::RolledBack, "{rec:?}");
    assert_eq!(rec.step("catch-up").unwrap().state, StepState::Failed);
    assert_eq!(rec.step("fence-old").unwrap().state, StepState::RolledBack);
    assert!(rec.outcome.as_deref().unwrap().contains("db1 is writable again"), "{:?}", rec.outcome);
    assert!(!fx.read_only("db1").await, "the old primary is writable again");
    // The fence ended the writer's session; a new one writes again.
    assert!(app.query_drop("SELECT 1").await.is_err(), "the fence ended client sessions");
    let mut app = Conn::new(app_conn_opts(fx.port("db1"), &fx.creds)).await.unwrap();
    app.query_drop("DELETE FROM app.writes WHERE id = -1").await.expect("writes work again on db1");
    assert_eq!(fx.primary().await.node, "db1");
    fx.root("db2").await.query_drop("START SLAVE").await.unwrap();
    fx.wait_replicating("db2", "db1").await;

    // 4. Someone else holds the lock: refused, nothing written.
    let info = myzoo::failover::lock::LockInfo {
        operation: "failover".into(),
        user: "colleague".into(),
        host: "bastion".into(),
        pid: 1,
        origin: "console".into(),
        since_ms: 0,
    };
    let other = Client::connect(&fx.sb.zk()).await.unwrap();
    let held = myzoo::failover::lock::acquire(&other, &fx.paths, &info).await.expect("colleague's lock");
    let p = switchover::plan(&op, None).await.expect("plan");
    let err = switchover::run(&op, p, None, &|_| {}).await.unwrap_err();
    assert!(matches!(err.downcast_ref::<Refused>(), Some(Refused::Lock(_))), "{err:#}");
    assert!(format!("{err:#}").contains("colleague@bastion"), "{err:#}");
    held.release(&other).await;

    // 5. The real thing, under a continuous writer.
    let ports: Vec<(String, u16)> = fx.sb.status.mysql.iter().map(|m| (m.name.clone(), m.port)).collect();
    let writer = Writer::start(fx.zk.clone(), fx.paths.clone(), ports, fx.creds.clone());
    tokio::time::sleep(Duration::from_millis(800)).await;
    let p = switchover::plan(&op, None).await.expect("plan");
    assert!(p.plan.can_run(), "{}", p.plan.render());
    let new = p.plan.candidate.clone().unwrap();
    let rec = switchover::run(&op, p, None, &|_| {}).await.expect("ran");
    assert_eq!(rec.state, OpState::Done, "{}", serde_json::to_string_pretty(&rec).unwrap());
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (acked, failures) = writer.stop().await;
    assert_eq!(fx.primary().await, PrimaryRecord { node: new.clone(), epoch: 2 });
    let fence_start = rec.step("fence-old").unwrap().started_ms.unwrap();
    let open_end = rec.step("open-new").unwrap().finished_ms.unwrap();
    assert!(acked.len() > 10, "the writer wrote before and after: {}", acked.len());
    for f in &failures {
        assert!(
            *f >= fence_start && *f <= open_end + WRITER_DISCOVERY_SLACK_MS,
            "a write failed at {f}, outside the window {fence_start}..{open_end}"
        );
    }
    let on_new = ids_on(&mut fx.root(&new).await).await;
    let missing: Vec<&i64> = acked.iter().filter(|id| on_new.binary_search(id).is_err()).collect();
    assert!(missing.is_empty(), "acknowledged writes lost: {missing:?}");
    assert!(fx.read_only("db1").await, "the old primary stays read-only");
    assert!(!fx.read_only(&new).await);
    fx.wait_replicating("db1", &new).await;
    let third = if new == "db2" { "db3" } else { "db2" };
    fx.wait_replicating(third, &new).await;
    let block = rec.write_block_ms.expect("window measured");
    assert!((0..5_000).contains(&block), "window {block} ms");
    eprintln!(
        "switchover to {new}: writes refused for {block} ms; {} acknowledged, {} attempts failed",
        acked.len(),
        failures.len()
    );

    // 6. The command line switches back to db1: plan, steps, journal, exit 0.
    let home = tempfile::tempdir().unwrap();
    let dir = fx.sb.dir.path();
    let pw = |name: &str, text: &str| {
        let p = home.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let agent_pw = pw("agent.pw", &fx.creds.agent.password);
    let repl_pw = pw("repl.pw", &fx.creds.repl.password);
    let out = common::isolated_myzoo(home.path())
        .args(["switchover", "--zk", &fx.sb.zk(), "--cluster", sandbox::CLUSTER, "--to", "db1", "--yes"])
        .args(["--mysql-user", "agent", "--mysql-password-file"])
        .arg(&agent_pw)
        .arg("--repl-password-file")
        .arg(&repl_pw)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("candidates (best first)") && stdout.contains("open-new"), "{stdout}");
    assert!(!stdout.contains(&fx.creds.repl.password) && !stdout.contains(&fx.creds.agent.password));
    assert_eq!(fx.primary().await, PrimaryRecord { node: "db1".into(), epoch: 3 });
    fx.wait_replicating(&new, "db1").await;
    let _ = dir;
}
