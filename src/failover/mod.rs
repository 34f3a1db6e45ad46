//! Switchover, failover and rejoin: one implementation used by the console, the scriptable
//! commands (`myzoo switchover|failover|rejoin`) and the automatic coordinator in the agent.
//!
//! - `gtid`    — GTID positions (MariaDB per-domain lists, MySQL GTID sets): parse, compare,
//!   what one has that another lacks. Pure.
//! - `rank`    — candidate ranking with the reason for each rank: a pure function of observed
//!   facts, table-tested.
//! - `journal` — the operation record under `<cluster>/history/` (plan, steps, timings, state),
//!   written by the lock holder as it goes.
//! - `lock`    — one operation per cluster at a time, enforced in ZooKeeper.
//! - `execute` — the journaled execution every operation shares (guards, lock, journal, the
//!   `record` step, opening, repointing, hooks, audit); `prepare` — plans' shared parts.
//! - `switchover` — the planned switchover: plan, preflight, steps, rollback.
//! - `unplanned` — the failover: observers that must agree the primary is gone, plan, steps.
//! - `recover` — an operation left running by a dead owner, finished or rolled back.
//! - `rejoin` — a node that is back pointed at the primary, only without errant transactions.

pub mod execute;
pub mod gtid;
pub mod hooks;
pub mod journal;
pub mod lock;
pub mod plan;
pub mod prepare;
pub mod rank;
pub mod recover;
pub mod rejoin;
pub mod server;
pub mod switchover;
pub mod unplanned;
pub mod view;

use std::fmt;

use zookeeper_client::Client;

use crate::cluster::ClusterPaths;
use crate::ops::actor::Actor;

/// The MySQL account operations connect as, and the replication account's password (needed to
/// point a server that never replicated, such as an old primary, at the new one).
#[derive(Clone, Default)]
pub struct Access {
    pub user: String,
    pub password: Option<String>,
    /// The replication account's password; its user is the cluster config's `replication.user`.
    pub repl_password: Option<String>,
    /// This host's TLS files and minimum mode; the cluster config's `mysql.tls` may ask for
    /// more ([`view::ClusterView::target`]).
    pub tls: crate::mysql::MysqlTls,
}

impl fmt::Debug for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Access")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("repl_password", &self.repl_password.as_ref().map(|_| "<redacted>"))
            .field("tls", &self.tls)
            .finish()
    }
}

/// Who runs an operation, on which cluster, through which session.
#[derive(Clone)]
pub struct Operator {
    pub client: Client,
    pub paths: ClusterPaths,
    pub access: Access,
    pub actor: Actor,
    /// `cli`, `console`, `coordinator`.
    pub origin: String,
    /// Read-only mode: plans may be shown, nothing runs.
    pub read_only: bool,
    /// A znode that must still exist, unchanged, for the `record` step to write: the
    /// coordinator's election znode, so a deposed coordinator cannot promote.
    pub guard: Option<String>,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    crate::audit::now_ms()
}
