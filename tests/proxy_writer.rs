//! A real HAProxy (Debian's package) in front of a real sandbox cluster, configured by
//! `myzoo haproxy-config` and following the agents' `/primary` and `/replica`: a writer that
//! only knows HAProxy's write port keeps writing across a planned switchover and across an
//! automatic failover (`kill -9` of the primary's server, semi-synchronous replication), and
//! every write it had acknowledged is on the final primary. The windows in which writes failed
//! are printed here; `cargo bench --bench proxy` measures them.

mod common;

use std::time::{Duration, Instant};

use common::cluster::{automatic, ids_on, kill, wait_epoch, wait_state, Fixture, Writer, WAIT};
use common::haproxy::{free_port, Haproxy};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use myzoo::failover::switchover;

/// HAProxy's check interval here (the command's `--check-interval`).
const CHECK_INTERVAL_MS: u64 = 100;
/// Acknowledged writes that prove the writer is writing again.
const ACKS: usize = 20;

fn loopback(port: u16) -> String {
    format!("127.0.0.1:{port}")
}

/// The server a connection through `port` lands on (its `@@port`).
async fn lands_on(port: u16, fx: &Fixture) -> u16 {
    let mut c = Conn::new(common::cluster::app_conn_opts(port, &fx.creds)).await.expect("connect through HAProxy");
    let p: Option<u16> = c.query_first("SELECT @@port").await.expect("@@port");
    p.expect("a port")
}

/// Waits until the writer has `ACKS` more acknowledged writes than `before`.
async fn wait_writing(writer: &Writer, before: usize, what: &str) {
    let deadline = Instant::now() + WAIT;
    while writer.acked() < before + ACKS {
        assert!(Instant::now() < deadline, "the writer through HAProxy does not write again {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Milliseconds between the first and the last failed write at or after `since_ms`.
fn window_ms(failures_ms: &[i64], since_ms: i64) -> Option<i64> {
    let after: Vec<i64> = failures_ms.iter().copied().filter(|t| *t >= since_ms).collect();
    Some(after.last()? - after.first()?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_writer_through_haproxy_survives_a_switchover_and_an_automatic_failover() {
    let fx = Fixture::start_with(true).await;
    let port = |n: &str| fx.port(n);

    // The command writes the config from the cluster config and the agents' published addresses.
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("haproxy.cfg");
    let (write, read, stats) = (free_port(), free_port(), free_port());
    let run = common::isolated_myzoo(home.path())
        .args(["--zk", &fx.sb.zk(), "haproxy-config", "--cluster", myzoo::sandbox::CLUSTER])
        .args(["--write-bind", &loopback(write), "--read-bind", &loopback(read), "--stats", &loopback(stats)])
        .args(["--check-interval", &CHECK_INTERVAL_MS.to_string(), "--out"])
        .arg(&out)
        .output()
        .expect("run myzoo haproxy-config");
    assert!(run.status.success(), "{}: {}", run.status, String::from_utf8_lossy(&run.stderr));
    let config = std::fs::read_to_string(&out).unwrap();
    let hp = Haproxy::start(&config, &loopback(stats), &[&loopback(write), &loopback(read)]).await;
    // HAProxy 2.6 starts every server UP until its first check says otherwise: wait for the
    // checks' verdicts, not the start-up state.
    for n in ["db2", "db3"] {
        hp.wait_status("sandbox_write", n, "DOWN").await;
    }
    hp.wait_status("sandbox_read", "db1", "DOWN").await;
    assert_eq!(hp.status("sandbox_write", "db1").await.as_deref(), Some("UP"));
    assert_eq!(hp.status("sandbox_read", "db2").await.as_deref(), Some("UP"));
    assert_eq!(hp.status("sandbox_read", "db3").await.as_deref(), Some("UP"));
    assert_eq!(lands_on(write, &fx).await, port("db1"));
    let reader = lands_on(read, &fx).await;
    assert!(reader == port("db2") || reader == port("db3"), "reads land on a replica, not {reader}");

    // The table exists on every node before the writer starts.
    let mut c = fx.root("db1").await;
    c.query_drop("CREATE TABLE IF NOT EXISTS app.writes (id BIGINT PRIMARY KEY, at TIMESTAMP(6) DEFAULT NOW(6))")
        .await
        .expect("writes table");
    fx.wait_replicating("db2", "db1").await;
    let writer = Writer::through(write, fx.creds.clone());
    wait_writing(&writer, 0, "at the start").await;

    // A planned switchover to db2.
    let op = fx.operator();
    let started_ms = myzoo::audit::now_ms();
    let p = switchover::plan(&op, Some("db2")).await.expect("plan");
    assert!(p.plan.can_run(), "{}", p.plan.render());
    let record = switchover::run(&op, p, None, &|_| {}).await.expect("switchover");
    assert!(record.epoch_after.is_some(), "{record:?}");
    wait_writing(&writer, writer.acked(), "after the switchover").await;
    assert_eq!(lands_on(write, &fx).await, port("db2"), "writes follow the switchover");
    hp.wait_status("sandbox_write", "db1", "DOWN").await;
    let switchover_window = window_ms(&writer.failures(), started_ms);

    // An automatic failover: db2's server killed; the coordinator promotes a replica.
    automatic(&fx).await;
    wait_state(&fx, "watched db2", |s| s.mode == "on" && s.reason.contains("db2")).await;
    let epoch = fx.primary().await.epoch;
    let killed_ms = myzoo::audit::now_ms();
    kill(fx.sb.mysql_pid("db2"));
    let promoted = wait_epoch(&fx, epoch + 1).await;
    assert_ne!(promoted.node, "db2");
    wait_writing(&writer, writer.acked(), "after the failover").await;
    assert_eq!(lands_on(write, &fx).await, port(&promoted.node), "writes follow the failover");
    let failover_window = window_ms(&writer.failures(), killed_ms);

    let (acked, _) = writer.stop().await;
    let on_primary = ids_on(&mut fx.root(&promoted.node).await).await;
    let missing: Vec<i64> = acked.iter().filter(|id| on_primary.binary_search(id).is_err()).copied().collect();
    assert!(missing.is_empty(), "acknowledged writes missing on {}: {missing:?} of {}", promoted.node, acked.len());
    println!(
        "through HAProxy: {} writes acknowledged, none lost; writes failed for {switchover_window:?} ms in the \
         switchover and {failover_window:?} ms in the failover",
        acked.len()
    );
}
