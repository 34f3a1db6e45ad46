//! The replication heartbeat: the recorded primary's agent writes the current time into
//! `myzoo.heartbeat` every probe interval; replicas' agents read the row and publish how old it
//! is. `Seconds_Behind_Master` is known to lie (0 while the IO thread is stuck, jumps with long
//! transactions); the heartbeat measures what a client on the replica actually sees.
//!
//! Clocks: the row holds the *primary server's* time and the age is computed with the *replica
//! server's* clock, in one statement, so the figure is only as good as the servers' clock
//! agreement (NTP keeps it within milliseconds). Negative ages (replica clock behind) read as 0.
//! The age includes up to one write interval of staleness: it is an upper bound of the lag.
//!
//! Privileges: writing needs INSERT, UPDATE and CREATE on `myzoo.*`; reading needs SELECT. The
//! agent account also fences and promotes servers (switchover, failover), which on MariaDB
//! needs `READ_ONLY ADMIN` (on MySQL, `CONNECTION_ADMIN`/`SUPER`): with it, `read_only` no longer
//! stops this account's writes. So the write guards itself: it inserts only
//! `WHERE @@global.read_only = 0`, checked by the server in the same statement, so a heartbeat
//! never lands on a server that was fenced between the probe and the write — which would give
//! a fenced old primary a GTID of its own that the new primary does not have.

use anyhow::{Context, Result};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;

pub const DATABASE: &str = "myzoo";
pub const TABLE: &str = "heartbeat";
/// The one row the primary's agent keeps replacing.
const ROW_ID: u8 = 1;

/// Statements that create the table if missing (run by the writer only).
pub fn create_statements() -> [String; 2] {
    [
        format!("CREATE DATABASE IF NOT EXISTS {DATABASE}"),
        format!(
            "CREATE TABLE IF NOT EXISTS {DATABASE}.{TABLE} (id TINYINT UNSIGNED PRIMARY KEY, ts_us BIGINT NOT NULL, \
             server_id INT UNSIGNED, node VARCHAR(64))"
        ),
    ]
}

/// The write: the primary's own clock, in microseconds; the node name is a parameter. It writes
/// nothing on a read-only server (see the module's note on privileges); the update names the
/// new values through `VALUES()`, which MariaDB and MySQL 8 both still accept.
pub fn write_statement() -> String {
    format!(
        "INSERT INTO {DATABASE}.{TABLE} (id, ts_us, server_id, node) \
         SELECT {ROW_ID}, CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED), @@server_id, ? FROM DUAL \
         WHERE @@global.read_only = 0 \
         ON DUPLICATE KEY UPDATE ts_us = VALUES(ts_us), server_id = VALUES(server_id), node = VALUES(node)"
    )
}

/// Row written by a failover's write probe (never the agents' row, which replicas read).
const PROBE_ROW_ID: u8 = 2;

/// A failover's write probe: proves a server takes writes (one row affected) without ever
/// writing to a read-only one.
pub fn probe_write_statement() -> String {
    format!(
        "INSERT INTO {DATABASE}.{TABLE} (id, ts_us, server_id, node) \
         SELECT {PROBE_ROW_ID}, CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED), @@server_id, 'failover-probe' \
         FROM DUAL WHERE @@global.read_only = 0 ON DUPLICATE KEY UPDATE ts_us = VALUES(ts_us)"
    )
}

/// The read: the row's age in microseconds by the replica's clock.
pub fn age_query() -> String {
    format!(
        "SELECT CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED) - ts_us FROM {DATABASE}.{TABLE} WHERE id = {ROW_ID}"
    )
}

/// Microseconds of age → milliseconds of lag, never negative (clock skew).
pub fn lag_ms(age_us: i64) -> i64 {
    (age_us / 1000).max(0)
}

pub async fn create_table(conn: &mut Conn) -> Result<()> {
    for stmt in create_statements() {
        conn.query_drop(&stmt).await.with_context(|| format!("heartbeat: {stmt}"))?;
    }
    Ok(())
}

pub async fn write(conn: &mut Conn, node: &str) -> Result<()> {
    conn.exec_drop(write_statement(), (node,)).await.context("writing the heartbeat row")
}

/// The lag in ms, or `None` when there is no heartbeat row yet.
pub async fn read_lag_ms(conn: &mut Conn) -> Result<Option<i64>> {
    let age: Option<Option<i64>> = conn.query_first(age_query()).await.context("reading the heartbeat row")?;
    Ok(age.flatten().map(lag_ms))
}

/// MySQL/MariaDB "table doesn't exist" (1146) and "unknown database" (1049): no primary agent
/// has written yet, which is not worth a warning.
pub fn is_missing_table(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        matches!(
            e.downcast_ref::<mysql_async::Error>(),
            Some(mysql_async::Error::Server(s)) if s.code == 1146 || s.code == 1049
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_name_the_table_and_use_server_clocks() {
        assert!(create_statements()[1].starts_with("CREATE TABLE IF NOT EXISTS myzoo.heartbeat ("));
        assert!(write_statement().starts_with("INSERT INTO myzoo.heartbeat"));
        assert!(write_statement().contains("NOW(6)"));
        assert!(write_statement().contains("WHERE @@global.read_only = 0 ON DUPLICATE KEY UPDATE"));
        assert!(age_query().contains("FROM myzoo.heartbeat WHERE id = 1"));
    }

    #[test]
    fn lag_is_milliseconds_and_never_negative() {
        assert_eq!(lag_ms(1_500_000), 1500);
        assert_eq!(lag_ms(999), 0);
        assert_eq!(lag_ms(-20_000), 0);
    }
}
