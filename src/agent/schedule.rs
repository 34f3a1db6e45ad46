//! Scheduled snapshots of a cluster's folder into the backup store, taken by the elected
//! coordinator every `backup.zk_interval_s` (cluster config) and pruned to `backup.keep` — only
//! its own (origin `coordinator`, the same folder): an operator's snapshots are never pruned by
//! it. Each runs as a task beside the coordinator's looks, never inside one, so a slow or
//! unreachable store cannot delay a failover; at most one runs at a time.
//!
//! When the last scheduled snapshot was taken is read from the store itself, so a new
//! coordinator (after an election) keeps the schedule instead of starting it over.

use futures::FutureExt;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use zookeeper_client::Client;

use crate::zk::ZkAccess;

use crate::backup::snapshot::{self, SnapshotOptions};
use crate::backup::{SnapshotMeta, SnapshotState, Store, StoreAccess, Want};
use crate::cluster::config::parse_config;
use crate::cluster::ClusterPaths;
use crate::failover::now_ms;

/// `origin` of the snapshots the coordinator takes.
pub const SCHEDULED_ORIGIN: &str = "coordinator";
/// How soon the config is read again while scheduling is off (one small read).
pub const OFF_RECHECK_MS: i64 = 5_000;
/// How soon a failed attempt is retried (at most; a shorter interval wins), so an unreachable
/// store costs a warning a minute, not one a look.
pub const RETRY_MS: i64 = 60_000;

/// The schedule as one coordinator keeps it while it leads.
pub struct Schedule {
    store: StoreAccess,
    zk: ZkAccess,
    next_check_ms: i64,
    task: Option<JoinHandle<Outcome>>,
    /// What the last attempt did, for the coordinator's state record.
    pub last: Option<String>,
}

struct Outcome {
    next_check_ms: i64,
    summary: Option<String>,
}

impl Drop for Schedule {
    fn drop(&mut self) {
        // No longer the coordinator: its snapshot stops (the row stays `running` and is
        // pruned as abandoned).
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Schedule {
    pub fn new(store: StoreAccess, zk: ZkAccess) -> Schedule {
        Schedule { store, zk, next_check_ms: 0, task: None, last: None }
    }

    /// Called on every look of the leader: collects a finished attempt, starts one when due.
    pub fn tick(&mut self, client: &Client, paths: &ClusterPaths, node: &str) {
        if let Some(task) = &mut self.task {
            let Some(result) = task.now_or_never() else { return };
            self.task = None;
            match result {
                Ok(outcome) => {
                    self.next_check_ms = outcome.next_check_ms;
                    if let Some(s) = outcome.summary {
                        self.last = Some(s);
                    }
                }
                Err(e) => {
                    self.next_check_ms = now_ms() + RETRY_MS;
                    self.last = Some(format!("scheduled snapshot failed: {e}"));
                }
            }
        }
        if now_ms() < self.next_check_ms {
            return;
        }
        let job = Job {
            client: client.clone(),
            paths: paths.clone(),
            store: self.store.clone(),
            node: node.to_string(),
            zk: self.zk.clone(),
        };
        self.task = Some(tokio::spawn(async move { job.attempt().await }));
    }
}

/// When the next snapshot is due: `None` when it is due now.
pub fn next_due(last_finished_ms: Option<i64>, interval_s: u64, now_ms: i64) -> Option<i64> {
    let interval_ms = i64::try_from(interval_s.saturating_mul(1000)).unwrap_or(i64::MAX);
    let next = last_finished_ms?.saturating_add(interval_ms);
    (next > now_ms).then_some(next)
}

/// The scheduled snapshots of `root` to remove so that `keep` complete ones remain: older
/// complete ones, failed ones, and running ones older than an hour (their writer died).
pub fn to_prune(snapshots: &[SnapshotMeta], root: &str, keep: usize, now_ms: i64) -> Vec<u64> {
    const ABANDONED_MS: i64 = 3_600_000;
    let mut ours: Vec<&SnapshotMeta> =
        snapshots.iter().filter(|s| s.origin == SCHEDULED_ORIGIN && s.root == root).collect();
    ours.sort_by_key(|s| std::cmp::Reverse(s.id));
    let mut complete = 0;
    let mut out = Vec::new();
    for s in ours {
        match s.state {
            SnapshotState::Complete => {
                complete += 1;
                if complete > keep {
                    out.push(s.id);
                }
            }
            SnapshotState::Failed => out.push(s.id),
            SnapshotState::Running if now_ms - s.started_ms > ABANDONED_MS => out.push(s.id),
            SnapshotState::Running => {}
        }
    }
    out
}

/// One attempt, run as its own task.
struct Job {
    client: Client,
    paths: ClusterPaths,
    store: StoreAccess,
    node: String,
    zk: ZkAccess,
}

impl Job {
    async fn attempt(self) -> Outcome {
        let now = now_ms();
        let config = match self.client.get_data(&self.paths.config()).await {
            Ok((data, _)) => parse_config(&data).map(|c| c.backup).ok(),
            Err(_) => None,
        };
        let Some(config) = config.filter(|c| c.zk_interval_s > 0) else {
            return Outcome { next_check_ms: now + OFF_RECHECK_MS, summary: None };
        };
        let interval_ms = i64::try_from(config.zk_interval_s.saturating_mul(1000)).unwrap_or(i64::MAX);
        let retry = now.saturating_add(RETRY_MS.min(interval_ms));
        match self.take(config.zk_interval_s, config.keep).await {
            Ok((next, summary)) => Outcome { next_check_ms: next, summary },
            Err(e) => {
                tracing::warn!("scheduled snapshot of {}: {e:#}", self.paths.base());
                Outcome { next_check_ms: retry, summary: Some(format!("scheduled snapshot failed: {e:#}")) }
            }
        }
    }

    /// Takes a snapshot when one is due, then prunes; returns when to look again and what was
    /// done (`None` when nothing was due).
    async fn take(&self, interval_s: u64, keep: usize) -> anyhow::Result<(i64, Option<String>)> {
        let root = self.paths.base();
        let mut store = Store::open(&self.store, Want::Write).await?;
        let snapshots = store.snapshots().await?;
        let last = snapshots
            .iter()
            .filter(|s| s.origin == SCHEDULED_ORIGIN && s.root == root && s.state == SnapshotState::Complete)
            .filter_map(|s| s.finished_ms)
            .max();
        if let Some(next) = next_due(last, interval_s, now_ms()) {
            return Ok((next, None));
        }
        let opts = SnapshotOptions {
            ensemble: self.zk.connect.clone(),
            root: root.clone(),
            include_ephemeral: false,
            note: "scheduled".into(),
            operator: format!("coordinator@{}", self.node),
            host: crate::ops::actor::Actor::from_env().host,
            origin: SCHEDULED_ORIGIN.into(),
            audit_root: Some(self.paths.root.clone()),
            acl_sessions: Some(self.zk.clone()),
        };
        let meta = snapshot::create(&self.client, &mut store, &opts, &|_| {}, &CancellationToken::new()).await?;
        let mut removed = 0;
        for id in to_prune(&store.snapshots().await?, &root, keep, now_ms()) {
            store.delete_snapshot(id).await?;
            removed += 1;
        }
        let interval_ms = i64::try_from(interval_s.saturating_mul(1000)).unwrap_or(i64::MAX);
        let next = now_ms().saturating_add(interval_ms);
        tracing::info!(snapshot = meta.id, znodes = meta.znodes, pruned = removed, "scheduled snapshot of {root}");
        let at = crate::zk::format::utc_timestamp(meta.finished_ms.unwrap_or(meta.started_ms));
        Ok((next, Some(format!("scheduled snapshot {} of {root}: {} znodes at {at} UTC", meta.id, meta.znodes))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(id: u64, origin: &str, root: &str, state: SnapshotState, started_ms: i64) -> SnapshotMeta {
        SnapshotMeta {
            id,
            state,
            ensemble: String::new(),
            root: root.into(),
            include_ephemeral: false,
            started_ms,
            finished_ms: Some(started_ms + 1),
            znodes: 1,
            bytes: 0,
            min_zxid: None,
            max_zxid: None,
            checksum: None,
            operator: String::new(),
            host: String::new(),
            origin: origin.into(),
            note: String::new(),
            error: None,
        }
    }

    #[test]
    fn due_when_never_taken_or_the_interval_passed() {
        assert_eq!(next_due(None, 60, 1_000), None);
        assert_eq!(next_due(Some(1_000), 60, 30_000), Some(61_000));
        assert_eq!(next_due(Some(1_000), 60, 61_000), None);
        assert_eq!(next_due(Some(1_000), u64::MAX, 61_000), Some(i64::MAX));
    }

    #[test]
    fn prunes_only_its_own_beyond_keep() {
        use SnapshotState::*;
        let r = "/myzoo/clusters/a";
        let hour = 3_600_000;
        let snaps = vec![
            meta(9, "coordinator", r, Running, 10 * hour), // in progress: kept
            meta(8, "coordinator", r, Complete, 9 * hour), // newest 2: kept
            meta(7, "cli", r, Complete, 8 * hour),         // an operator's: never
            meta(6, "coordinator", "/myzoo/clusters/b", Complete, 8 * hour), // another cluster's
            meta(5, "coordinator", r, Complete, 7 * hour), // kept
            meta(4, "coordinator", r, Failed, 6 * hour),   // failed: removed
            meta(3, "coordinator", r, Complete, 5 * hour), // beyond keep
            meta(2, "coordinator", r, Running, hour),      // abandoned
        ];
        assert_eq!(to_prune(&snaps, r, 2, 10 * hour + 1), vec![4, 3, 2]);
        assert_eq!(to_prune(&snaps, r, 10, 10 * hour + 1), vec![4, 2]);
    }
}
