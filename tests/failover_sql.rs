//! The flavour statements switchover and failover run (`mysql::flavor::Statements`), executed
//! for real on a MariaDB sandbox (a primary and two replicas, no agents): reading positions,
//! waiting for one (reached and timed out), finding and ending client sessions that could still
//! write, long transactions, and a hand-driven switchover — fence, wait, detach the new primary,
//! align and repoint the old one and the other replica — after which both follow the new
//! primary. It proves the SQL is accepted and does what the executor relies on; the executor's
//! own tests cover the order of steps.

mod common;

use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use myzoo::mysql::flavor::{detect, Statements};
use myzoo::sandbox::{self, mariadb};

/// Longest a wait here may take before the test fails (a liveness bound, not a figure).
const WAIT_TIMEOUT_MS: u64 = 20_000;
/// The timeout given to a wait that must time out.
const SHORT_WAIT_MS: u64 = 100;

struct Servers {
    sb: common::Sandbox,
}

impl Servers {
    fn port(&self, node: &str) -> u16 {
        self.sb.status.mysql.iter().find(|m| m.name == node).expect("server").port
    }

    async fn admin(&self, node: &str) -> Conn {
        let creds = sandbox::credentials(self.sb.dir.path()).expect("credentials");
        mariadb::connect_as(self.port(node), &creds.admin).await.expect("admin connection")
    }
}

async fn statements(conn: &mut Conn) -> Statements {
    let version: String = conn.query_first("SELECT VERSION()").await.expect("version").expect("a row");
    Statements::for_server(detect(&version))
}

async fn variable(conn: &mut Conn, name: &str) -> String {
    conn.query_first(format!("SELECT @@global.{name}")).await.expect("variable").expect("a row")
}

async fn run(conn: &mut Conn, sql: &str) {
    conn.query_drop(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Runs the wait statement and returns whether it succeeded, and how long it took.
async fn wait(conn: &mut Conn, s: &Statements, position: &str, timeout_ms: u64) -> (bool, Duration) {
    let sql = s.wait_for_position(position, timeout_ms);
    let started = Instant::now();
    let value: i64 = conn.query_first(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}")).expect("a row");
    (s.wait_succeeded(value), started.elapsed())
}

async fn replication_running(conn: &mut Conn, s: &Statements) -> bool {
    let row: Option<mysql_async::Row> = conn.query_first(s.replica_status).await.expect("replica status");
    let map = row.map(myzoo::mysql::replica::row_map).unwrap_or_default();
    let yes = |c: &str| map.get(c).cloned().flatten().as_deref() == Some("Yes");
    yes(s.columns.io_running) && yes(s.columns.sql_running)
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_statements_run_for_real() {
    let servers = Servers { sb: common::Sandbox::start_with(common::Sandbox::options(true)).await };
    let mut db1 = servers.admin("db1").await;
    let mut db2 = servers.admin("db2").await;
    let mut db3 = servers.admin("db3").await;
    let s = statements(&mut db1).await;
    assert_eq!(s.position_variable(), "gtid_binlog_pos");

    // Positions and waits.
    run(&mut db1, "CREATE DATABASE IF NOT EXISTS failover_sql").await;
    run(&mut db1, "CREATE TABLE failover_sql.t (id INT PRIMARY KEY) ENGINE=InnoDB").await;
    run(&mut db1, "INSERT INTO failover_sql.t VALUES (1)").await;
    let position = variable(&mut db1, s.position_variable()).await;
    assert!(position.starts_with("0-1-"), "{position}");
    let (ok, _) = wait(&mut db2, &s, &position, WAIT_TIMEOUT_MS).await;
    assert!(ok, "db2 reaches {position}");
    assert_eq!(variable(&mut db2, s.applied_variable()).await, position);
    let far = "0-1-999999999";
    let (ok, took) = wait(&mut db2, &s, far, SHORT_WAIT_MS).await;
    assert!(!ok, "a position never written times out");
    assert!(took >= Duration::from_millis(SHORT_WAIT_MS - 10) && took < Duration::from_millis(WAIT_TIMEOUT_MS));

    // Sessions that could still write: a client with an open transaction is listed, the
    // replicas' binlog dump threads and this connection are not; ending it rolls it back.
    let creds = sandbox::credentials(servers.sb.dir.path()).expect("credentials");
    let mut client = mariadb::connect_as(servers.port("db1"), &creds.admin).await.expect("client");
    let client_id = u64::from(client.id());
    run(&mut client, "START TRANSACTION WITH CONSISTENT SNAPSHOT").await;
    run(&mut client, "INSERT INTO failover_sql.t VALUES (2)").await;
    let sessions: Vec<(u64, String)> = db1.query(s.sessions_query()).await.expect("sessions");
    assert!(sessions.iter().any(|(id, _)| *id == client_id), "{sessions:?}");
    assert!(sessions.iter().all(|(_, user)| *user != creds.repl.user), "no binlog dump threads: {sessions:?}");
    assert!(sessions.iter().all(|(id, _)| *id != u64::from(db1.id())), "not itself");
    let replica_sessions: Vec<(u64, String)> = db2.query(s.sessions_query()).await.expect("replica sessions");
    assert!(replica_sessions.iter().all(|(_, user)| user != "system user"), "{replica_sessions:?}");

    let long: Vec<(u64, i64)> = db1.query(s.long_transactions_query(0)).await.expect("long transactions");
    assert!(long.iter().any(|(id, age)| *id == client_id && *age >= 0), "{long:?}");
    let none: Vec<(u64, i64)> = db1.query(s.long_transactions_query(3_600)).await.expect("long transactions");
    assert!(none.is_empty(), "{none:?}");

    run(&mut db1, &s.kill_session(client_id)).await;
    assert!(client.query_drop("COMMIT").await.is_err(), "the killed session is gone");
    let count: u64 = db1.query_first("SELECT COUNT(*) FROM failover_sql.t").await.expect("count").expect("a row");
    assert_eq!(count, 1, "the killed transaction rolled back");

    // A switchover by hand: db1 → db2.
    for sql in s.fence() {
        run(&mut db1, &sql).await;
    }
    let position = variable(&mut db1, s.position_variable()).await;
    let (ok, _) = wait(&mut db2, &s, &position, WAIT_TIMEOUT_MS).await;
    assert!(ok, "db2 catches up to {position}");
    run(&mut db2, s.stop_replica).await;
    run(&mut db2, s.reset_replica_all).await;
    for sql in s.unfence() {
        run(&mut db2, &sql).await;
    }
    let change = s.change_source("127.0.0.1", servers.port("db2"), &creds.repl.user, &creds.repl.password);
    if let Some(align) = s.align_replica_position() {
        run(&mut db1, align).await;
    }
    run(&mut db1, &change).await;
    run(&mut db1, s.start_replica).await;
    run(&mut db3, s.stop_replica).await;
    run(&mut db3, &change).await;
    run(&mut db3, s.start_replica).await;

    run(&mut db2, "INSERT INTO failover_sql.t VALUES (3)").await;
    let position = variable(&mut db2, s.position_variable()).await;
    assert!(position.starts_with("0-2-"), "written by db2 (server_id 2): {position}");
    for (name, conn) in [("db1", &mut db1), ("db3", &mut db3)] {
        let (ok, _) = wait(conn, &s, &position, WAIT_TIMEOUT_MS).await;
        assert!(ok, "{name} follows db2 to {position}");
        assert!(replication_running(conn, &s).await, "{name} replicates");
        assert_eq!(variable(conn, s.applied_variable()).await, position, "{name}");
    }
}
