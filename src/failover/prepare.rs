//! What every operation starts from: the plan and what running it needs (`Prepared`), fresh
//! probes of every node, ranking facts from them, and why an operation may be refused before
//! anything changes.

use std::collections::BTreeMap;
use std::time::Duration;

use super::lock;
use super::plan::{Candidate, Plan, PlannedStep};
use super::rank::{Facts, Ranked};
use super::view::ClusterView;
use crate::cluster::status::Flavor;
use crate::mysql::probe::{Observation, Prober};
use crate::mysql::Target;

/// Longest a planning probe of one server may take.
pub const PLAN_PROBE_TIMEOUT_MS: u64 = 2_000;

/// A plan and what running it needs.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub plan: Plan,
    /// Every node of a cluster runs one flavour: the old primary's (MariaDB when unknown).
    pub flavor: Flavor,
    pub view: ClusterView,
    pub targets: BTreeMap<String, Target>,
}

pub fn candidate_view(r: &Ranked) -> Candidate {
    Candidate {
        node: r.node.clone(),
        eligible: r.eligible,
        reasons: r.reasons.clone(),
        received: r.received.clone(),
        applied: r.applied.clone(),
        behind: r.behind,
        errant: r.errant.clone(),
    }
}

pub fn step(name: &str, title: &str) -> PlannedStep {
    PlannedStep { name: name.to_string(), title: title.to_string() }
}

/// Probes every node at once with a fresh connection each.
pub async fn observe_all(targets: &BTreeMap<String, Target>) -> BTreeMap<String, Observation> {
    let probes = targets.iter().map(|(name, target)| async move {
        let mut prober = Prober::new(target.clone(), name, Duration::from_millis(PLAN_PROBE_TIMEOUT_MS));
        let obs = prober.probe(false).await;
        prober.close().await;
        (name.clone(), obs)
    });
    futures::future::join_all(probes).await.into_iter().collect()
}

/// A primary's own position: its binary log (MariaDB) or executed set (MySQL).
pub fn primary_position(obs: &Observation) -> Option<String> {
    obs.gtid.binlog.clone().or_else(|| obs.gtid.executed.clone()).or_else(|| obs.gtid.current.clone())
}

/// Ranking facts from a fresh probe.
pub fn facts_of(node: &str, obs: &Observation, no_promote: bool) -> Facts {
    let applied = obs.gtid.current.clone().or_else(|| obs.gtid.executed.clone());
    let received = obs.replication.as_ref().and_then(|r| {
        if r.gtid_io_pos.is_empty() {
            return None;
        }
        Some(match (&obs.flavor, &obs.gtid.executed) {
            // MySQL: what was retrieved plus what was executed (the retrieved set alone starts
            // where this connection to the source started).
            (Some(Flavor::Mysql), Some(exec)) => format!("{exec},{}", r.gtid_io_pos),
            _ => r.gtid_io_pos.clone(),
        })
    });
    Facts {
        node: node.to_string(),
        reachable: obs.reachable,
        server_id: obs.server_id,
        flavor: obs.flavor,
        read_only: obs.read_only,
        applied,
        received,
        replication: obs.replication.clone(),
        lag_ms: obs.heartbeat_lag_ms.or_else(|| {
            obs.replication
                .as_ref()
                .and_then(|r| r.seconds_behind)
                .map(|s| i64::try_from(s).unwrap_or(i64::MAX / 1000) * 1000)
        }),
        no_promote,
    }
}

/// Why an operation did not run at all (nothing was changed).
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("read-only mode: nothing is changed")]
    ReadOnly,
    #[error("cluster {0} is production: type its name to confirm")]
    NeedsConfirmation(String),
    #[error("the plan refuses: {0}")]
    Plan(String),
    #[error(transparent)]
    Lock(#[from] lock::LockError),
    #[error("an operation left running by a dead owner was dealt with first ({0}); plan again")]
    Orphans(String),
}
