//! One probe of one server: connect (or reuse the open connection), detect the flavour once per
//! connection, read variables, status counters and replica status, and do the heartbeat duty.
//! Every probe is bounded by a timeout; a failed or timed-out probe drops the connection so the
//! next one starts clean, and reports the server unreachable with the reason.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};

use super::flavor::{self, Statements};
use super::replica::{self, name_values, parse_replication, truthy};
use super::{heartbeat, Target};
use crate::cluster::status::{Flavor, Gtid, Replication, SemiSync, ServerRole};

/// What one probe saw: the server-side part of a node's status.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub reachable: bool,
    pub error: Option<String>,
    pub flavor: Option<Flavor>,
    pub version: Option<String>,
    pub server_id: Option<u32>,
    pub role: ServerRole,
    pub read_only: Option<bool>,
    pub gtid: Gtid,
    pub replication: Option<Replication>,
    pub semi_sync: Option<SemiSync>,
    pub uptime_s: Option<u64>,
    pub threads_connected: Option<u64>,
    pub qps: Option<f64>,
    pub heartbeat_lag_ms: Option<i64>,
    /// The TLS cipher of the probe's connection; `None` when it is plain.
    pub tls_cipher: Option<String>,
}

impl Observation {
    /// Nothing is known but why the server could not be reached.
    pub fn unreachable(error: String) -> Observation {
        Observation {
            reachable: false,
            error: Some(error),
            flavor: None,
            version: None,
            server_id: None,
            role: ServerRole::Unknown,
            read_only: None,
            gtid: Gtid::default(),
            replication: None,
            semi_sync: None,
            uptime_s: None,
            threads_connected: None,
            qps: None,
            heartbeat_lag_ms: None,
            tls_cipher: None,
        }
    }
}

/// An open connection and what was learnt when it was opened.
struct Session {
    conn: Conn,
    stmts: Statements,
    version: String,
    /// The writer creates the heartbeat table once per connection.
    heartbeat_table_ready: bool,
    /// The connection's TLS cipher, read once when it is opened.
    tls_cipher: Option<String>,
}

/// Probes one server again and again, keeping one connection open between probes.
pub struct Prober {
    target: Target,
    node: String,
    timeout: Duration,
    session: Option<Session>,
    /// `Queries` counter at the previous probe, for queries per second.
    prev_queries: Option<(u64, Instant)>,
    /// Last heartbeat error logged, so a persistent one is logged once.
    last_heartbeat_error: Option<String>,
    /// The TLS mode this host asks for at least (`--mysql-tls`); the cluster's policy may ask
    /// for more ([`Prober::apply_policy`]).
    local_tls: crate::tls::TlsMode,
}

impl Prober {
    /// `node` is written into the heartbeat row; `timeout` bounds each probe, connect included.
    pub fn new(target: Target, node: &str, timeout: Duration) -> Prober {
        let local_tls = target.tls.mode;
        Prober {
            target,
            node: node.to_string(),
            timeout,
            session: None,
            prev_queries: None,
            last_heartbeat_error: None,
            local_tls,
        }
    }

    /// Applies the cluster's TLS policy (`mysql.tls` in its config; `None`: not read yet): the
    /// stricter of it and this host's own mode. A change closes the connection, so the next
    /// probe connects the new way (and a server that cannot is reported down with the reason).
    pub fn apply_policy(&mut self, cluster: Option<crate::tls::TlsMode>) {
        let mode = self.local_tls.max(cluster.unwrap_or_default());
        if mode != self.target.tls.mode {
            tracing::info!(server = %self.target.address(), from = self.target.tls.mode.as_str(), to = mode.as_str(), "MySQL TLS mode changed; reconnecting");
            self.target.tls.mode = mode;
            self.session = None;
        }
    }

    /// The TLS mode the next connection uses.
    pub fn tls_mode(&self) -> crate::tls::TlsMode {
        self.target.tls.mode
    }

    /// One probe. `recorded_primary` says whether ZooKeeper's `primary` znode names this node,
    /// which makes this agent the heartbeat writer (if the server agrees it is a writable
    /// primary).
    pub async fn probe(&mut self, recorded_primary: bool) -> Observation {
        // Taken out, so a probe abandoned by the timeout drops a connection in an unknown state.
        let session = self.session.take();
        let timeout = self.timeout;
        match tokio::time::timeout(timeout, self.probe_with(session, recorded_primary)).await {
            Ok(Ok((session, observation))) => {
                self.session = Some(session);
                observation
            }
            Ok(Err(e)) => {
                let text = error_text(&e);
                tracing::debug!(server = %self.target.address(), "probe failed: {text}");
                Observation::unreachable(text)
            }
            Err(_) => Observation::unreachable(format!(
                "no answer from {} within {} ms",
                self.target.address(),
                timeout.as_millis()
            )),
        }
    }

    /// Makes the server read-only (and `super_read_only` on MySQL) and, when `end_sessions`,
    /// ends every client session but its own and the replication threads; returns how many
    /// sessions were ended. Bounded by the probe timeout; the connection is reused.
    pub async fn set_read_only(&mut self, on: bool, end_sessions: bool) -> std::result::Result<usize, String> {
        let session = self.session.take();
        let timeout = self.timeout;
        let work = async {
            let mut session = match session {
                Some(s) => s,
                None => self.open().await?,
            };
            let stmts = if on { session.stmts.fence() } else { session.stmts.unfence() };
            for sql in stmts {
                session.conn.query_drop(&sql).await.with_context(|| sql.clone())?;
            }
            let mut ended = 0;
            if on && end_sessions {
                let rows: Vec<(u64, String)> = session.conn.query(session.stmts.sessions_query()).await?;
                for (id, _user) in rows {
                    // A session that ended meanwhile is not an error.
                    if session.conn.query_drop(session.stmts.kill_session(id)).await.is_ok() {
                        ended += 1;
                    }
                }
            }
            anyhow::Ok((session, ended))
        };
        match tokio::time::timeout(timeout, work).await {
            Ok(Ok((session, ended))) => {
                self.session = Some(session);
                Ok(ended)
            }
            Ok(Err(e)) => Err(error_text(&e)),
            Err(_) => Err(format!("no answer from {} within {} ms", self.target.address(), timeout.as_millis())),
        }
    }

    /// Closes the connection politely (on shutdown).
    pub async fn close(&mut self) {
        if let Some(session) = self.session.take() {
            if let Err(e) = session.conn.disconnect().await {
                tracing::debug!("closing the probe connection: {e}");
            }
        }
    }

    async fn probe_with(&mut self, session: Option<Session>, recorded_primary: bool) -> Result<(Session, Observation)> {
        let mut session = match session {
            Some(s) => s,
            None => self.open().await?,
        };
        let (mut observation, queries) = read_state(&mut session).await?;
        observation.qps = queries.and_then(|q| self.qps(q));
        observation.tls_cipher = session.tls_cipher.clone();
        observation.heartbeat_lag_ms = self.heartbeat(&mut session, &observation, recorded_primary).await;
        Ok((session, observation))
    }

    async fn open(&mut self) -> Result<Session> {
        let mut conn = super::connect(&self.target, self.timeout).await?;
        let version: Option<String> = conn.query_first("SELECT VERSION()").await.context("SELECT VERSION()")?;
        let version = version.unwrap_or_default();
        let kind = flavor::detect(&version);
        let cipher: Option<(String, String)> =
            conn.query_first(flavor::TLS_CIPHER_QUERY).await.context(flavor::TLS_CIPHER_QUERY)?;
        let tls_cipher = cipher.map(|(_, c)| c).filter(|c| !c.is_empty());
        tracing::info!(server = %self.target.address(), %version, flavor = ?kind.flavor, tls = tls_cipher.as_deref().unwrap_or("off"), "connected");
        self.prev_queries = None;
        Ok(Session { conn, stmts: Statements::for_server(kind), version, heartbeat_table_ready: false, tls_cipher })
    }

    /// Queries per second from the `Queries` counter; `None` on the first probe of a connection
    /// and after a server restart (the counter went down).
    fn qps(&mut self, queries: u64) -> Option<f64> {
        let now = Instant::now();
        let prev = self.prev_queries.replace((queries, now))?;
        let elapsed = now.duration_since(prev.1).as_secs_f64();
        (queries >= prev.0 && elapsed > 0.0).then(|| (queries - prev.0) as f64 / elapsed)
    }

    /// Writes the heartbeat (writable recorded primary) or reads the lag (replica). Heartbeat
    /// failures never make the server unreachable: they are logged, and the lag is unknown.
    async fn heartbeat(&mut self, session: &mut Session, obs: &Observation, recorded_primary: bool) -> Option<i64> {
        let result = match obs.role {
            ServerRole::Primary if recorded_primary && obs.read_only == Some(false) => {
                write_heartbeat(session, &self.node).await.map(|()| None)
            }
            ServerRole::Replica => heartbeat::read_lag_ms(&mut session.conn).await,
            _ => Ok(None),
        };
        match result {
            Ok(lag) => {
                self.last_heartbeat_error = None;
                lag
            }
            Err(e) => {
                let text = format!("{e:#}");
                if !heartbeat::is_missing_table(&e) && self.last_heartbeat_error.as_ref() != Some(&text) {
                    tracing::warn!(server = %self.target.address(), "heartbeat: {text}");
                }
                self.last_heartbeat_error = Some(text);
                None
            }
        }
    }
}

/// The error chain without the repeats (mysql_async's messages include their sources).
fn error_text(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

async fn write_heartbeat(session: &mut Session, node: &str) -> Result<()> {
    if !session.heartbeat_table_ready {
        heartbeat::create_table(&mut session.conn).await?;
        session.heartbeat_table_ready = true;
    }
    heartbeat::write(&mut session.conn, node).await
}

/// Variables, status counters and replica status, and the raw `Queries` counter.
async fn read_state(session: &mut Session) -> Result<(Observation, Option<u64>)> {
    let stmts = &session.stmts;
    let vars = show(&mut session.conn, &stmts.variables_query()).await?;
    let status = show(&mut session.conn, &stmts.status_query()).await?;
    let row: Option<Row> =
        session.conn.query_first(stmts.replica_status).await.with_context(|| stmts.replica_status.to_string())?;
    let replication = row.map(replica::row_map).and_then(|r| parse_replication(&r, &stmts.columns));
    let number = |name: &str| status.get(&name.to_ascii_lowercase()).and_then(|v| v.trim().parse::<u64>().ok());
    let observation = Observation {
        reachable: true,
        error: None,
        flavor: Some(stmts.kind.flavor),
        version: Some(session.version.clone()),
        server_id: vars.get(flavor::SERVER_ID_VARIABLE).and_then(|v| v.trim().parse().ok()),
        role: if replication.is_some() { ServerRole::Replica } else { ServerRole::Primary },
        read_only: vars.get(flavor::READ_ONLY_VARIABLE).map(|v| truthy(v)),
        gtid: gtid(&vars, stmts),
        replication,
        semi_sync: semi_sync(&vars, &status, stmts),
        uptime_s: number(flavor::UPTIME_STATUS),
        threads_connected: number(flavor::THREADS_CONNECTED_STATUS),
        qps: None,
        heartbeat_lag_ms: None,
        tls_cipher: None,
    };
    Ok((observation, number(flavor::QUERIES_STATUS)))
}

async fn show(conn: &mut Conn, query: &str) -> Result<HashMap<String, String>> {
    let rows: Vec<(String, Option<String>)> = conn.query(query).await.with_context(|| query.to_string())?;
    Ok(name_values(rows))
}

fn gtid(vars: &HashMap<String, String>, stmts: &Statements) -> Gtid {
    let get = |name: Option<&str>| name.and_then(|n| vars.get(n).cloned());
    Gtid {
        current: get(stmts.gtid.current),
        slave: get(stmts.gtid.slave),
        binlog: get(stmts.gtid.binlog),
        // MySQL prints long GTID sets over several lines.
        executed: get(stmts.gtid.executed).map(|s| s.replace('\n', "")),
    }
}

/// `None` when the server has no semi-sync variables at all (MySQL without the plugin).
fn semi_sync(vars: &HashMap<String, String>, status: &HashMap<String, String>, stmts: &Statements) -> Option<SemiSync> {
    let first = |map: &HashMap<String, String>, names: &[&str]| {
        names.iter().find_map(|n| map.get(&n.to_ascii_lowercase())).map(|v| truthy(v))
    };
    let source_enabled = first(vars, stmts.semi_sync.source_enabled);
    let replica_enabled = first(vars, stmts.semi_sync.replica_enabled);
    if source_enabled.is_none() && replica_enabled.is_none() {
        return None;
    }
    Some(SemiSync {
        source_enabled: source_enabled.unwrap_or(false),
        replica_enabled: replica_enabled.unwrap_or(false),
        source_active: first(status, stmts.semi_sync.source_active).unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_text_drops_repeated_causes() {
        let e = anyhow::anyhow!("Connection refused").context("I/O: Connection refused").context("connecting to x");
        assert_eq!(error_text(&e), "connecting to x: I/O: Connection refused");
    }
}
