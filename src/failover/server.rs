//! One administrative connection to one server, as an operation uses it: opened fresh (never
//! the agents' connections), flavour detected on open, and every statement bounded by a
//! timeout so a hung server fails a step instead of hanging the operation.

use std::time::Duration;

use anyhow::{Context, Result};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use crate::mysql::flavor::{self, Statements};
use crate::mysql::Target;

/// Longest a single statement of a step may take (the catch-up wait has its own limit).
pub const STATEMENT_TIMEOUT_MS: u64 = 5_000;
/// Longest a connection attempt may take.
pub const CONNECT_TIMEOUT_MS: u64 = 2_000;

pub struct Server {
    pub node: String,
    pub conn: Conn,
    pub stmts: Statements,
}

impl Server {
    pub async fn open(node: &str, target: &Target) -> Result<Server> {
        let mut conn = crate::mysql::connect(target, Duration::from_millis(CONNECT_TIMEOUT_MS)).await?;
        let version: Option<String> = timed(conn.query_first("SELECT VERSION()"), STATEMENT_TIMEOUT_MS)
            .await
            .with_context(|| format!("{node}: SELECT VERSION()"))?;
        let stmts = Statements::for_server(flavor::detect(&version.unwrap_or_default()));
        Ok(Server { node: node.to_string(), conn, stmts })
    }

    /// Runs one statement; the error names the node and the statement (never a password:
    /// statements that carry one are run through [`Server::exec_secret`]).
    pub async fn exec(&mut self, sql: &str) -> Result<()> {
        timed(self.conn.query_drop(sql), STATEMENT_TIMEOUT_MS).await.with_context(|| format!("{}: {sql}", self.node))
    }

    /// Runs one statement and returns the rows it changed.
    pub async fn exec_count(&mut self, sql: &str) -> Result<u64> {
        self.exec(sql).await?;
        Ok(self.conn.affected_rows())
    }

    /// Like [`Server::exec`], but the error names only `label`.
    pub async fn exec_secret(&mut self, sql: &str, label: &str) -> Result<()> {
        timed(self.conn.query_drop(sql), STATEMENT_TIMEOUT_MS).await.with_context(|| format!("{}: {label}", self.node))
    }

    pub async fn value(&mut self, sql: &str) -> Result<Option<String>> {
        self.value_within(sql, STATEMENT_TIMEOUT_MS).await
    }

    pub async fn value_within(&mut self, sql: &str, timeout_ms: u64) -> Result<Option<String>> {
        let v: Option<Option<String>> =
            timed(self.conn.query_first(sql), timeout_ms).await.with_context(|| format!("{}: {sql}", self.node))?;
        Ok(v.flatten())
    }

    pub async fn rows<T: mysql_async::prelude::FromRow + Send + 'static>(&mut self, sql: &str) -> Result<Vec<T>> {
        timed(self.conn.query(sql), STATEMENT_TIMEOUT_MS).await.with_context(|| format!("{}: {sql}", self.node))
    }

    /// The server's own GTID position as a primary (`gtid_binlog_pos` / `gtid_executed`).
    pub async fn position(&mut self) -> Result<String> {
        let sql = format!("SELECT @@global.{}", self.stmts.position_variable());
        Ok(self.value(&sql).await?.unwrap_or_default().replace('\n', ""))
    }

    pub async fn fence(&mut self) -> Result<()> {
        for sql in self.stmts.fence() {
            self.exec(&sql).await?;
        }
        Ok(())
    }

    pub async fn unfence(&mut self) -> Result<()> {
        for sql in self.stmts.unfence() {
            self.exec(&sql).await?;
        }
        Ok(())
    }

    /// The semi-sync source side: the variable this server has and whether it is on; `None`
    /// without semi-sync (MySQL without the plugin).
    pub async fn semi_sync_source(&mut self) -> Result<Option<(&'static str, bool)>> {
        let rows: Vec<(String, String)> = self.rows(&self.stmts.semi_sync_source_query()).await?;
        Ok(self.stmts.semi_sync_source_setting(&rows))
    }

    /// Switches the semi-sync source side to `on` when the server has one that is not so
    /// already (see [`Statements::set_semi_sync_source`] for why operations move it); returns
    /// whether it changed anything. Switching it off also releases a commit waiting for an
    /// acknowledgement.
    pub async fn switch_semi_sync_source(&mut self, on: bool) -> Result<bool> {
        match self.semi_sync_source().await? {
            Some((name, now)) if now != on => {
                self.exec(&self.stmts.set_semi_sync_source(name, on)).await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Ends every client session but ours and the replication threads; returns how many.
    pub async fn end_sessions(&mut self) -> Result<usize> {
        let sessions: Vec<(u64, String)> = self.rows(self.stmts.sessions_query()).await?;
        let mut ended = 0;
        for (id, user) in sessions {
            match self.exec(&self.stmts.kill_session(id)).await {
                Ok(()) => ended += 1,
                // Gone meanwhile (it finished or was a short-lived probe): nothing to end.
                Err(e) => tracing::debug!("{}: ending session {id} of {user}: {e:#}", self.node),
            }
        }
        Ok(ended)
    }

    /// Points this server at `source` with GTID positioning and starts replication.
    /// `align` first makes the replica position start where the server itself is (an old
    /// primary that never replicated, or whose replica position is older than its own log).
    /// Without `repl_password` the server keeps the replication account it has (an old primary
    /// that never replicated then fails with a clear error).
    ///
    /// A replica is never a semi-sync source: its source side is switched off first (an old
    /// primary's is on), before its applier commits anything; that also releases an applier
    /// already waiting for an acknowledgement, which `STOP SLAVE` would otherwise wait for.
    /// Returns whether it was on.
    pub async fn replicate_from(
        &mut self,
        source: &Target,
        repl_user: &str,
        repl_password: Option<&str>,
        align: bool,
    ) -> Result<bool> {
        let semi_sync_off = self.switch_semi_sync_source(false).await?;
        // Not configured as a replica yet is fine: there is nothing to stop.
        if let Err(e) = self.exec(self.stmts.stop_replica).await {
            tracing::debug!("{e:#}");
        }
        if align {
            if let Some(sql) = self.stmts.align_replica_position() {
                self.exec(sql).await?;
            }
        }
        let change = match repl_password {
            Some(pw) => self.stmts.change_source(&source.host, source.port, repl_user, pw),
            None => self.stmts.change_source_keeping_account(&source.host, source.port),
        };
        self.exec_secret(&change, &format!("pointing replication at {}", source.address())).await?;
        self.exec(self.stmts.start_replica).await.with_context(|| {
            if repl_password.is_none() {
                "no replication password was given ($MYZOO_REPL_PASSWORD or --repl-password-file) and the server has no \
                 replication account configured"
                    .to_string()
            } else {
                "starting replication".to_string()
            }
        })?;
        Ok(semi_sync_off)
    }

    pub async fn close(self) {
        if let Err(e) = self.conn.disconnect().await {
            tracing::debug!("closing the connection: {e}");
        }
    }
}

async fn timed<T, E>(fut: impl std::future::Future<Output = std::result::Result<T, E>>, timeout_ms: u64) -> Result<T>
where
    E: std::error::Error + Send + Sync + 'static,
{
    match tokio::time::timeout(Duration::from_millis(timeout_ms), fut).await {
        Ok(r) => Ok(r?),
        Err(_) => anyhow::bail!("no answer within {timeout_ms} ms"),
    }
}
