//! Operations whose owner died half-way, against a real sandbox whose agents run the
//! coordinator: one killed while waiting for the candidate to catch up (the old primary already
//! fenced) is rolled back — the old primary writable again; one that died after writing the
//! `primary` record is finished — the new primary opened and the others repointed. Either way
//! the journal says which, and by whom. (The owner here is an operation run in the test and
//! killed with its ZooKeeper session; a coordinator that dies leaves the same state behind.)

mod common;

use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use myzoo::cluster::config::PrimaryRecord;
use myzoo::failover::journal::{self, Journal, OpState, Record, StepState};
use myzoo::failover::lock::{self, LockInfo};
use myzoo::failover::{switchover, Operator};
use zookeeper_client::Client;

use common::cluster::{Fixture, WAIT};

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn owner(fx: &Fixture) -> (Client, Operator) {
    let client = Client::connect(&fx.sb.zk()).await.expect("owner's session");
    let op = Operator {
        client: client.clone(),
        actor: myzoo::ops::actor::Actor { user: "doomed".into(), host: "gone".into(), ssh_client: None },
        ..fx.operator()
    };
    (client, op)
}

async fn newest(fx: &Fixture) -> Option<Record> {
    journal::list(&fx.zk, &fx.paths, 1).await.expect("journal").pop().map(|(_, _, r)| r)
}

async fn wait_record(fx: &Fixture, what: &str, ok: impl Fn(&Record) -> bool) -> Record {
    let deadline = Instant::now() + WAIT;
    loop {
        let r = newest(fx).await;
        if let Some(r) = r.as_ref().filter(|r| ok(r)) {
            return r.clone();
        }
        assert!(Instant::now() < deadline, "journal never {what}: {r:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_owner_dead_before_the_record_is_rolled_back() {
    let _one = ONE_AT_A_TIME.lock().await;
    let fx = Fixture::start().await;
    fx.edit_config(|v| v["failover"]["catch_up_timeout_ms"] = 30_000.into()).await;
    let (client, op) = owner(&fx).await;
    let p = switchover::plan(&op, Some("db2")).await.expect("plan");
    assert!(p.plan.can_run(), "{}", p.plan.render());
    // db2 will wait for a transaction it cannot apply.
    fx.root("db2").await.query_drop("STOP SLAVE SQL_THREAD").await.unwrap();
    fx.root("db1").await.query_drop("CREATE DATABASE something_to_wait_for").await.unwrap();
    let task = tokio::spawn(async move { switchover::run(&op, p, None, &|_| {}).await });
    wait_record(&fx, "waiting in catch-up", |r| r.step("catch-up").is_some_and(|s| s.state == StepState::Running))
        .await;
    assert!(fx.read_only("db1").await, "the old primary is fenced while the owner waits");

    // The owner dies: its task and its session are gone.
    task.abort();
    let _ = task.await;
    drop(client);

    let r = wait_record(&fx, "recovered", |r| r.state != OpState::Running).await;
    assert_eq!(r.state, OpState::RolledBack, "{r:?}");
    let outcome = r.outcome.clone().unwrap_or_default();
    assert!(outcome.contains("db1 is writable again") && outcome.contains("coordinator"), "{outcome}");
    assert!(outcome.contains("doomed@gone"), "it names the dead owner: {outcome}");
    assert_eq!(r.step("catch-up").unwrap().state, StepState::Failed);
    assert!(!fx.read_only("db1").await, "the old primary is writable again");
    assert_eq!(fx.primary().await, PrimaryRecord { node: "db1".into(), epoch: 1 });
    fx.root("db2").await.query_drop("START SLAVE").await.unwrap();
    fx.wait_replicating("db2", "db1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_owner_dead_after_the_record_is_finished() {
    let _one = ONE_AT_A_TIME.lock().await;
    let fx = Fixture::start().await;
    let (client, op) = owner(&fx).await;
    let p = switchover::plan(&op, Some("db2")).await.expect("plan");
    assert!(p.plan.can_run(), "{}", p.plan.render());

    // What a switchover that died just after its `record` step leaves behind, done by hand
    // under the owner's lock and journal: db1 fenced, db2 caught up and stopped, the record
    // naming db2 at epoch 2; db2 not yet writable, nobody repointed.
    let info = LockInfo {
        operation: "switchover".into(),
        user: "doomed".into(),
        host: "gone".into(),
        pid: 1,
        origin: "cli".into(),
        since_ms: 0,
    };
    let held = lock::acquire(&client, &fx.paths, &info).await.expect("owner's lock");
    let owner_info = journal::Owner {
        user: "doomed".into(),
        host: "gone".into(),
        pid: 1,
        origin: "cli".into(),
        session: "0x1".into(),
    };
    let mut j = Journal::create(&client, &fx.paths, Record::new(p.plan.clone(), owner_info, 0)).await.expect("journal");
    let mut db1 = fx.root("db1").await;
    db1.query_drop("SET GLOBAL read_only = 1").await.unwrap();
    let pos: Option<String> = db1.query_first("SELECT @@global.gtid_binlog_pos").await.unwrap();
    let mut db2 = fx.root("db2").await;
    let waited: Option<i64> =
        db2.query_first(format!("SELECT MASTER_GTID_WAIT('{}', 10)", pos.unwrap())).await.unwrap();
    assert_eq!(waited, Some(0));
    db2.query_drop("STOP SLAVE").await.unwrap();
    for step in ["lock", "check", "fence-old", "catch-up", "stop-replica", "record"] {
        j.end_step(step, StepState::Done, None, myzoo::audit::now_ms());
    }
    j.save(&client).await.unwrap();
    let (_, stat) = fx.zk.get_data(&fx.paths.primary()).await.unwrap();
    let record = serde_json::to_vec(&PrimaryRecord { node: "db2".into(), epoch: 2 }).unwrap();
    fx.zk.set_data(&fx.paths.primary(), &record, Some(stat.version)).await.unwrap();
    // The owner dies: every handle on its session goes.
    drop(held);
    drop(op);
    drop(client);

    let r = wait_record(&fx, "recovered", |r| r.state != OpState::Running).await;
    assert_eq!(r.state, OpState::Done, "{r:?}");
    assert!(r.outcome.clone().unwrap_or_default().contains("finished by"), "{:?}", r.outcome);
    assert!(!fx.read_only("db2").await, "the new primary is open");
    fx.wait_replicating("db1", "db2").await;
    fx.wait_replicating("db3", "db2").await;
}
