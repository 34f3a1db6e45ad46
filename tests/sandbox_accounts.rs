//! The sandbox's MariaDB accounts on real servers: the `app` account is stopped by `read_only`,
//! the `agent` account (what operations connect as, found through the profile's password files)
//! can run every statement fencing and promoting need, and its heartbeat never writes to a
//! read-only server. The sandbox runs with `--semi-sync`, which is checked too.

mod common;

use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use myzoo::config::{self, MysqlAccess};
use myzoo::mysql::{heartbeat, Target};
use myzoo::sandbox::{self, mariadb, SandboxOptions};

/// Longest wait for replication to show something on a replica (milliseconds on loopback; a
/// loaded two-core machine may take longer).
const REPLICATION_WAIT_MS: u64 = 30_000;
/// Longest wait for one connection.
const CONNECT_TIMEOUT_MS: u64 = 5_000;
/// ER_OPTION_PREVENTS_STATEMENT: "running with the --read-only option".
const ER_READ_ONLY: u16 = 1290;
/// ER_TABLEACCESS_DENIED_ERROR and ER_DBACCESS_DENIED_ERROR.
const ER_TABLE_ACCESS_DENIED: u16 = 1142;
const ER_DB_ACCESS_DENIED: u16 = 1044;

fn server_code(e: &mysql_async::Error) -> Option<u16> {
    match e {
        mysql_async::Error::Server(s) => Some(s.code),
        _ => None,
    }
}

async fn status_var(conn: &mut Conn, name: &str) -> String {
    let row: Option<(String, String)> =
        conn.query_first(format!("SHOW GLOBAL STATUS LIKE '{name}'")).await.expect("SHOW GLOBAL STATUS");
    row.map(|(_, v)| v).unwrap_or_default()
}

/// Runs `stmt` as the agent account and fails the test with the server's words if refused.
async fn allowed(conn: &mut Conn, stmt: &str) {
    conn.query_drop(stmt).await.unwrap_or_else(|e| panic!("the agent account could not run `{stmt}`: {e}"));
}

async fn wait_for_row(conn: &mut Conn, query: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_millis(REPLICATION_WAIT_MS);
    loop {
        if conn.query_first::<i64, _>(query).await.ok().flatten().is_some() {
            return;
        }
        assert!(Instant::now() < deadline, "{what} did not arrive within {REPLICATION_WAIT_MS} ms");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_fencing_privileges_heartbeat_guard_and_semi_sync() {
    let sb = common::Sandbox::start_with(SandboxOptions { semi_sync: true, ..common::Sandbox::options(true) }).await;
    let status = &sb.status;
    let creds = sandbox::credentials(sb.dir.path()).expect("credentials");
    let port = |name: &str| status.mysql.iter().find(|m| m.name == name).expect("server").port;
    let (db1, db3) = (port("db1"), port("db3"));

    // --- semi-sync: recorded, and on at the primary with both replicas acknowledging.
    assert!(status.semi_sync);
    assert_eq!(status.semi_sync_timeout_ms, Some(mariadb::SEMI_SYNC_TIMEOUT_MS));
    let mut root1 = mariadb::connect_root(db1).await.expect("root on db1");
    let deadline = Instant::now() + Duration::from_millis(REPLICATION_WAIT_MS);
    while status_var(&mut root1, "Rpl_semi_sync_master_clients").await != "2" {
        assert!(Instant::now() < deadline, "both replicas never registered as semi-sync clients");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status_var(&mut root1, "Rpl_semi_sync_master_status").await, "ON");
    for replica in &status.mysql[1..] {
        let mut conn = mariadb::connect_root(replica.port).await.expect("root on a replica");
        assert_eq!(status_var(&mut conn, "Rpl_semi_sync_slave_status").await, "ON", "{}", replica.name);
        conn.disconnect().await.expect("disconnect");
    }

    // --- the operations account, found the way the CLI finds it: user and password files.
    let access = MysqlAccess {
        user: status.mysql_user.clone(),
        password_file: status.mysql_password_file.clone(),
        repl_password_file: status.repl_password_file.clone(),
        tls: None,
    };
    for file in [&access.password_file, &access.repl_password_file] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file.as_ref().expect("password file named")).expect("file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let ops = config::operation_credentials(&access, "repl").expect("operation credentials");
    assert_eq!(ops.user, creds.agent.user);
    assert_eq!(ops.password.as_deref(), Some(creds.agent.password.as_str()));
    assert_eq!(ops.repl_password.as_deref(), Some(creds.repl.password.as_str()));
    let target = |port: u16| Target {
        host: sandbox::LOOPBACK.into(),
        port,
        user: ops.user.clone(),
        password: ops.password.clone(),
        tls: Default::default(),
    };
    let timeout = Duration::from_millis(CONNECT_TIMEOUT_MS);
    let mut agent1 = myzoo::mysql::connect(&target(db1), timeout).await.expect("agent on db1");
    let mut agent3 = myzoo::mysql::connect(&target(db3), timeout).await.expect("agent on db3");

    // Nothing beyond what the grants list: no SUPER, no ALL, no BINLOG ADMIN for the agent;
    // nothing outside `app` for the app account.
    let grants: Vec<String> = agent1.query("SHOW GRANTS").await.expect("SHOW GRANTS");
    let text = grants.join("\n");
    for privilege in
        ["READ_ONLY ADMIN", "CONNECTION ADMIN", "REPLICATION SLAVE ADMIN", "REPLICATION MASTER ADMIN", "RELOAD"]
    {
        assert!(text.contains(privilege), "agent lacks {privilege}: {text}");
    }
    for privilege in ["SUPER", "ALL PRIVILEGES", "BINLOG ADMIN"] {
        assert!(!text.contains(privilege), "agent has {privilege}: {text}");
    }

    // --- the app account writes while db1 is writable …
    let mut app1 = mariadb::connect_as(db1, &creds.app).await.expect("app on db1");
    let app_grants: Vec<String> = app1.query("SHOW GRANTS").await.expect("SHOW GRANTS");
    assert!(app_grants.iter().all(|g| !g.contains("READ_ONLY ADMIN") && !g.contains("SUPER")), "{app_grants:?}");
    app1.query_drop("CREATE TABLE app.t (id INT PRIMARY KEY)").await.expect("app creates a table");
    app1.query_drop("INSERT INTO app.t VALUES (1)").await.expect("app writes while writable");
    let refused = app1.query_drop("CREATE TABLE myzoo.nope (id INT)").await.expect_err("app outside app.*");
    assert!(matches!(server_code(&refused), Some(ER_TABLE_ACCESS_DENIED | ER_DB_ACCESS_DENIED)), "{refused}");

    // --- the agent's own tables: the heartbeat and a write probe, while writable.
    heartbeat::create_table(&mut agent1).await.expect("agent creates the heartbeat table");
    heartbeat::write(&mut agent1, "db1").await.expect("heartbeat while writable");
    assert_eq!(agent1.affected_rows(), 1);
    allowed(&mut agent1, "CREATE TABLE IF NOT EXISTS myzoo.write_probe (id INT PRIMARY KEY)").await;
    allowed(&mut agent1, "INSERT INTO myzoo.write_probe VALUES (1) ON DUPLICATE KEY UPDATE id = id").await;
    allowed(&mut agent1, "DELETE FROM myzoo.write_probe").await;
    let before: Option<(i64, String)> =
        agent1.query_first("SELECT ts_us, node FROM myzoo.heartbeat").await.expect("row");
    let before = before.expect("the heartbeat row was written");

    // --- fencing: read_only on, other users' sessions killed.
    allowed(&mut agent1, "SET GLOBAL read_only = 1").await;
    let err = app1.query_drop("INSERT INTO app.t VALUES (2)").await.expect_err("read_only stops the app account");
    assert_eq!(server_code(&err), Some(ER_READ_ONLY), "{err}");
    let victim: Option<u64> = app1.query_first("SELECT CONNECTION_ID()").await.expect("connection id");
    allowed(&mut agent1, &format!("KILL CONNECTION {}", victim.expect("id"))).await;
    assert!(app1.query_drop("SELECT 1").await.is_err(), "the killed session still answers");

    // The heartbeat statement succeeds and writes nothing on a read-only server (no row change,
    // no GTID of its own), even though this account could write.
    let gtid_before: Option<String> = agent1.query_first("SELECT @@gtid_binlog_pos").await.expect("gtid");
    heartbeat::write(&mut agent1, "db1").await.expect("heartbeat statement on a read-only server");
    assert_eq!(agent1.affected_rows(), 0, "the heartbeat wrote to a read-only server");
    let after: Option<(i64, String)> =
        agent1.query_first("SELECT ts_us, node FROM myzoo.heartbeat").await.expect("row");
    assert_eq!(after, Some(before));
    let gtid_after: Option<String> = agent1.query_first("SELECT @@gtid_binlog_pos").await.expect("gtid");
    assert_eq!(gtid_after, gtid_before);

    // --- semi-sync settings, both sides (set to what they are, so the sandbox keeps running semi-sync).
    let timeout_stmt = format!("SET GLOBAL rpl_semi_sync_master_timeout = {}", mariadb::SEMI_SYNC_TIMEOUT_MS);
    allowed(&mut agent1, &timeout_stmt).await;
    allowed(&mut agent1, "SET GLOBAL rpl_semi_sync_master_enabled = 1").await;
    allowed(&mut agent1, "SET GLOBAL rpl_semi_sync_slave_enabled = 1").await;
    allowed(&mut agent1, "SET GLOBAL read_only = 0").await;

    // --- promoting and re-pointing, on db3: stop, wait for a position, forget the old source,
    // set the position, point at a primary with the replication password from its file, start.
    let pos: Option<String> = agent1.query_first("SELECT @@gtid_binlog_pos").await.expect("gtid");
    let pos = pos.expect("gtid position");
    let waited: Option<i64> =
        agent3.exec_first("SELECT MASTER_GTID_WAIT(?, 30)", (pos.clone(),)).await.expect("MASTER_GTID_WAIT");
    assert_eq!(waited, Some(0), "db3 did not reach {pos}");
    allowed(&mut agent3, "STOP SLAVE").await;
    allowed(&mut agent3, "RESET SLAVE ALL").await;
    allowed(&mut agent3, &format!("SET GLOBAL gtid_slave_pos = '{pos}'")).await;
    let repl =
        sandbox::Account { user: ops.repl_user.clone(), password: ops.repl_password.clone().unwrap_or_default() };
    allowed(&mut agent3, &mariadb::change_master_statement(db1, &repl)).await;
    allowed(&mut agent3, "START SLAVE").await;

    // db3 replicates again: a write by the app account on db1 arrives.
    let mut app1 = mariadb::connect_as(db1, &creds.app).await.expect("app on db1");
    app1.query_drop("INSERT INTO app.t VALUES (3)").await.expect("app writes after read_only is off");
    wait_for_row(&mut agent3, "SELECT id FROM app.t WHERE id = 3", "the row written after re-pointing db3").await;

    for conn in [app1, agent1, agent3, root1] {
        conn.disconnect().await.expect("disconnect");
    }
}
