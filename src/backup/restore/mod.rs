//! Restoring a snapshot's znodes into ZooKeeper: the service behind `myzoo zk-backup restore`
//! and the console's backups screen (no printing here).
//!
//! - `plan`: where each path lands, the per-policy decisions, request sizes (pure)
//! - `apply`: the writes: multi-ops under the 1 MB request limit, several in flight, a failed
//!   one retried a znode at a time so the report is exact
//! - `sequence`: advancing a parent's sequence counter past the sequential names restored
//!
//! The records stream in snapshot order (every parent before its children), a chunk at a time:
//! a chunk's znodes whose parent this restore created are known missing without a read; the
//! others are read (multi-reads, ACLs pipelined) and decided; the writes go out while the next
//! chunk is read. Memory holds a chunk, the writes in flight, and the state of parents seen
//! (znodes with children), never the tree.
//!
//! Never: a znode of the live tree missing from the snapshot is deleted; an ephemeral znode is
//! created; `/zookeeper` is written; an existing cluster `primary` record is rewritten (its
//! epoch only grows; a missing one is recreated, which is what disaster recovery needs); a
//! znode changed by someone else after it was read is overwritten.

pub mod apply;
pub mod plan;
pub mod sequence;

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use anyhow::{Context, Result};
use futures::{Stream, StreamExt};
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use zookeeper_client::{Acls, Client, CreateMode, Error as ZkError, MultiReadResult};

use super::record::{sequence_of, Progress, ProgressFn, ZnodeMode, ZnodeRecord};
use super::store::{self, Store, Untrusted};
use crate::audit::{self, AuditRecord, AUDIT_SCHEMA};
use crate::cluster::snapshot::list_clusters;
use crate::cluster::{split_cluster_path, ClusterPaths};
use crate::failover::lock::{self, ClusterLock, LockInfo};
use crate::ops::Actor;
use crate::zk::load::{acl_entry, MULTI_READ_BATCH};
use crate::zk::{describe_error, is_transient, parent_path, AclEntry, NodeStat};

pub use plan::{Action, Policy};

/// Records decided together: read in one go, written while the next chunk is read.
pub const CHUNK_RECORDS: usize = 2_000;
/// Problems (`path: why`) kept in the report beyond the counts.
pub const MAX_PROBLEMS: usize = 100;

/// How to restore.
#[derive(Debug, Clone)]
pub struct RestoreOptions {
    pub policy: Policy,
    /// Only this subtree of the snapshot (default: the snapshot's root).
    pub under: Option<String>,
    /// Restore there instead: the subtree's root lands at this path.
    pub to: Option<String>,
    /// Decide everything from the live tree, write nothing.
    pub dry_run: bool,
    /// Paths kept per action in the report.
    pub sample_paths: usize,
    /// The myzoo root: where the audit record goes and which clusters the guards look at.
    pub root: String,
    /// The production cluster's name (or names, comma-separated), typed by the operator.
    pub confirm: Option<String>,
    pub actor: Actor,
    /// `cli`, `console`.
    pub origin: String,
    pub read_only: bool,
    /// The plan's [`RestoreReport::planned_zxid`]: an existing znode changed after the plan was
    /// made (`mzxid` above it) is a conflict, not overwritten, so an edit made between the dry
    /// run an operator approved and the run is never clobbered. `None`: only the version check
    /// between this run's read and its write.
    pub unchanged_since: Option<i64>,
}

/// Where the records come from.
#[derive(Debug, Clone)]
pub struct Source {
    pub snapshot: Option<u64>,
    /// The path in the records that lands at the target (`under`, else the snapshot's root).
    pub root: String,
    /// How many records to expect, for progress.
    pub znodes: Option<u64>,
}

/// Why a restore did nothing: read-only, not confirmed, an untrusted snapshot, a held lock.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// One action's count and its first paths.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub count: u64,
    pub sample: Vec<String>,
}

/// Counts per action.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Tallies {
    pub create: Tally,
    pub overwrite: Tally,
    pub unchanged: Tally,
    pub skipped_existing: Tally,
    pub skipped_below_existing: Tally,
    pub skipped_ephemeral: Tally,
    pub kept: Tally,
    pub conflict: Tally,
    pub failed: Tally,
}

impl Tallies {
    pub fn get(&self, a: Action) -> &Tally {
        match a {
            Action::Create => &self.create,
            Action::Overwrite => &self.overwrite,
            Action::Unchanged => &self.unchanged,
            Action::SkippedExisting => &self.skipped_existing,
            Action::SkippedBelowExisting => &self.skipped_below_existing,
            Action::SkippedEphemeral => &self.skipped_ephemeral,
            Action::Kept => &self.kept,
            Action::Conflict => &self.conflict,
            Action::Failed => &self.failed,
        }
    }

    fn get_mut(&mut self, a: Action) -> &mut Tally {
        match a {
            Action::Create => &mut self.create,
            Action::Overwrite => &mut self.overwrite,
            Action::Unchanged => &mut self.unchanged,
            Action::SkippedExisting => &mut self.skipped_existing,
            Action::SkippedBelowExisting => &mut self.skipped_below_existing,
            Action::SkippedEphemeral => &mut self.skipped_ephemeral,
            Action::Kept => &mut self.kept,
            Action::Conflict => &mut self.conflict,
            Action::Failed => &mut self.failed,
        }
    }

    pub fn count(&self, a: Action) -> u64 {
        self.get(a).count
    }

    /// Every znode decided.
    pub fn total(&self) -> u64 {
        Action::ALL.iter().map(|a| self.count(*a)).sum()
    }
}

/// A parent whose sequence counter was moved past the sequential names restored under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SequenceFix {
    pub parent: String,
    pub highest_restored: u64,
    /// What the next sequential child will be numbered (from the final probe).
    pub next: i64,
    /// Create+delete pairs it took.
    pub advanced_by: u64,
}

/// What a restore did, or in a dry run would do.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    pub snapshot: Option<u64>,
    pub policy: Policy,
    pub source: String,
    pub target: String,
    pub dry_run: bool,
    /// Stopped by its cancel token between chunks (what was written is in the counts).
    pub cancelled: bool,
    pub actions: Tallies,
    /// Ancestors of the target that were missing (created, or to be created).
    pub parents_created: Vec<String>,
    pub sequence_counters: Vec<SequenceFix>,
    /// `path: why` for failures and conflicts (the first [`MAX_PROBLEMS`]).
    pub problems: Vec<String>,
    /// What a restore never does, for the plan.
    pub never: Vec<String>,
    /// Clusters whose operation lock the restore held.
    pub locked: Vec<String>,
    /// The production cluster names a real run needs typed (`confirm`).
    pub confirmation_needed: Option<String>,
    /// The highest `mzxid` among the existing znodes read: pass it to the run as
    /// [`RestoreOptions::unchanged_since`].
    pub planned_zxid: Option<i64>,
    pub duration_ms: u64,
    pub audit_path: Option<String>,
}

impl RestoreReport {
    fn new(source: &Source, target: &str, opts: &RestoreOptions) -> RestoreReport {
        RestoreReport {
            snapshot: source.snapshot,
            policy: opts.policy,
            source: source.root.clone(),
            target: target.to_string(),
            dry_run: opts.dry_run,
            cancelled: false,
            actions: Tallies::default(),
            parents_created: Vec::new(),
            sequence_counters: Vec::new(),
            problems: Vec::new(),
            never: never_lines(),
            locked: Vec::new(),
            confirmation_needed: None,
            planned_zxid: None,
            duration_ms: 0,
            audit_path: None,
        }
    }

    /// Whether everything decided was done: nothing failed, no conflict, not cancelled.
    pub fn clean(&self) -> bool {
        !self.cancelled && self.actions.count(Action::Failed) == 0 && self.actions.count(Action::Conflict) == 0
    }

    fn note(&mut self, path: &str, action: Action, why: Option<String>, sample: usize) {
        let t = self.actions.get_mut(action);
        t.count += 1;
        if t.sample.len() < sample {
            t.sample.push(path.to_string());
        }
        if let Some(why) = why {
            if self.problems.len() < MAX_PROBLEMS {
                self.problems.push(format!("{path}: {why}"));
            }
        }
    }

    /// `create 10, overwrite 2, …` for the audit detail and one-line summaries (zeros left out).
    pub fn counts_line(&self) -> String {
        let parts: Vec<String> = Action::ALL
            .iter()
            .filter(|a| self.actions.count(**a) > 0)
            .map(|a| format!("{} {}", a.label(), self.actions.count(*a)))
            .collect();
        if parts.is_empty() {
            "nothing".into()
        } else {
            parts.join(", ")
        }
    }
}

fn never_lines() -> Vec<String> {
    [
        "znodes in the live tree that the snapshot does not hold are never deleted",
        "ephemeral znodes are never restored (they belong to sessions)",
        "/zookeeper is never written",
        "an existing cluster primary record is never rewritten (its epoch only grows); a missing one is recreated",
        "a znode changed by someone else after it was read is never overwritten (reported as a conflict)",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Restores snapshot `snapshot` from `store` (its checksum verified first; an untrusted
/// snapshot is refused) through [`restore_records`].
pub async fn restore_snapshot(
    client: &Client,
    store: &mut Store,
    snapshot: u64,
    opts: &RestoreOptions,
    progress: ProgressFn<'_>,
    cancel: &CancellationToken,
) -> Result<RestoreReport> {
    let started = Instant::now();
    progress(&Progress { phase: "verifying".into(), ..Progress::default() });
    let meta = match store.verify(snapshot).await {
        Ok(m) => m,
        Err(e) => {
            if let Some(u) = e.downcast_ref::<Untrusted>() {
                let why = format!("{u}; nothing was restored");
                if !opts.dry_run {
                    let target = opts.to.clone().or_else(|| opts.under.clone()).unwrap_or_else(|| "/".into());
                    audit_restore(client, opts, &target, Some(snapshot), &format!("refused: {why}"), None).await;
                }
                return Err(Refused(why).into());
            }
            return Err(e);
        }
    };
    let root = match &opts.under {
        Some(u) => {
            if plan::relative(u, &meta.root).is_none() {
                return Err(Refused(format!("{u} is not inside snapshot {snapshot}'s subtree {}", meta.root)).into());
            }
            u.clone()
        }
        None => meta.root.clone(),
    };
    let source =
        Source { snapshot: Some(snapshot), znodes: opts.under.is_none().then_some(meta.znodes), root: root.clone() };
    let records = store::znodes(store, snapshot, Some(root.as_str()));
    let mut report = restore_records(client, records, &source, opts, progress, cancel).await?;
    report.duration_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// Restores `records` (snapshot order, at or below `source.root`) at `opts.to` (or where they
/// were) under `opts.policy`. The guards come first: read-only, production confirmation, the
/// operation lock of every cluster concerned. A restore that writes leaves one audit record.
pub async fn restore_records<S>(
    client: &Client,
    records: S,
    source: &Source,
    opts: &RestoreOptions,
    progress: ProgressFn<'_>,
    cancel: &CancellationToken,
) -> Result<RestoreReport>
where
    S: Stream<Item = Result<ZnodeRecord>>,
{
    let started = Instant::now();
    let target = opts.to.clone().unwrap_or_else(|| source.root.clone());
    let mut report = RestoreReport::new(source, &target, opts);
    let refuse = |why: String| async move {
        if !opts.dry_run {
            audit_restore(client, opts, &target_of(opts, source), source.snapshot, &format!("refused: {why}"), None)
                .await;
        }
        Err::<RestoreReport, anyhow::Error>(Refused(why).into())
    };
    if let Err(why) = crate::ops::validate_path(&target) {
        return refuse(format!("invalid target: {why}")).await;
    }
    if plan::is_system(&target) {
        return refuse("ZooKeeper's own znodes (/zookeeper) are never written".into()).await;
    }
    if opts.read_only && !opts.dry_run {
        return refuse("read-only mode: restore refused, nothing was changed".into()).await;
    }
    let production = crate::ops::guard::production_clusters_affected(client, &opts.root, &target)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if !production.is_empty() {
        let names = production.join(",");
        report.confirmation_needed = Some(names.clone());
        if !opts.dry_run && opts.confirm.as_deref().map(str::trim) != Some(names.as_str()) {
            return refuse(format!("{names}: production; type the name to confirm (--confirm {names})")).await;
        }
    }
    let mut locks = Vec::new();
    if !opts.dry_run {
        match take_locks(client, opts, &target).await {
            Ok(l) => locks = l,
            Err(why) => return refuse(why).await,
        }
        report.locked = locks.iter().map(|(c, _)| c.clone()).collect();
    }

    let result = run(client, records, source, &target, opts, &mut report, progress, cancel).await;

    for (_, l) in locks {
        l.release(client).await;
    }
    report.duration_ms = started.elapsed().as_millis() as u64;
    if !opts.dry_run {
        let outcome = match &result {
            Ok(()) if report.clean() => "ok".to_string(),
            Ok(()) if report.cancelled => format!("failed: cancelled ({})", report.counts_line()),
            Ok(()) => format!("failed: {}", report.counts_line()),
            Err(e) => format!("failed: {e:#}"),
        };
        report.audit_path = audit_restore(client, opts, &target, source.snapshot, &outcome, Some(&report)).await;
    }
    result.map(|()| report)
}

fn target_of(opts: &RestoreOptions, source: &Source) -> String {
    opts.to.clone().unwrap_or_else(|| source.root.clone())
}

/// Takes the operation lock of every existing cluster at or below `target` (or the one it is in).
async fn take_locks(
    client: &Client,
    opts: &RestoreOptions,
    target: &str,
) -> Result<Vec<(String, ClusterLock)>, String> {
    let root = &opts.root;
    let clusters = match split_cluster_path(root, target).filter(|(c, _)| !c.is_empty()) {
        Some((c, _)) => {
            let exists = client.check_stat(&ClusterPaths::new(root, c).base()).await;
            match exists {
                Ok(Some(_)) => vec![c.to_string()],
                Ok(None) => Vec::new(),
                Err(e) => return Err(format!("reading cluster {c}: {}", describe_error(&e))),
            }
        }
        None => {
            let dir = ClusterPaths::clusters_dir(root);
            if plan::relative(&dir, target).is_some() {
                list_clusters(client, root).await.map_err(|e| e.to_string())?
            } else {
                Vec::new()
            }
        }
    };
    let info = LockInfo {
        operation: "restore".into(),
        user: opts.actor.user.clone(),
        host: opts.actor.host.clone(),
        pid: std::process::id(),
        origin: opts.origin.clone(),
        since_ms: audit::now_ms(),
    };
    let mut held: Vec<(String, ClusterLock)> = Vec::new();
    for c in clusters {
        match lock::acquire(client, &ClusterPaths::new(root, &c), &info).await {
            Ok(l) => held.push((c, l)),
            Err(e) => {
                for (_, l) in held {
                    l.release(client).await;
                }
                return Err(format!("cluster {c}: {e}"));
            }
        }
    }
    Ok(held)
}

/// Appends the restore's audit record; returns its path (a failure is logged: the restore
/// itself happened or was refused either way).
async fn audit_restore(
    client: &Client,
    opts: &RestoreOptions,
    target: &str,
    snapshot: Option<u64>,
    result: &str,
    report: Option<&RestoreReport>,
) -> Option<String> {
    let mut detail = format!(
        "snapshot {}, policy {}",
        snapshot.map_or_else(|| "(records)".to_string(), |s| s.to_string()),
        opts.policy.label()
    );
    if let Some(r) = report {
        detail.push_str(&format!(", from {}: {}", r.source, r.counts_line()));
    }
    let record = AuditRecord {
        schema: AUDIT_SCHEMA,
        time_ms: audit::now_ms(),
        user: opts.actor.user.clone(),
        host: opts.actor.host.clone(),
        ssh_client: opts.actor.ssh_client.clone(),
        action: "restore".into(),
        path: target.to_string(),
        version_before: None,
        version_after: None,
        digest_before: None,
        digest_after: None,
        result: result.to_string(),
        origin: opts.origin.clone(),
        detail: Some(detail),
    };
    match audit::append(client, &opts.root, &record).await {
        Ok(p) => Some(p),
        Err(e) => {
            tracing::warn!(error = %e, "the restore's audit record");
            None
        }
    }
}

/// A znode as the live tree has it.
enum Live {
    Missing,
    Found { data: Vec<u8>, stat: NodeStat, acl: Option<Vec<AclEntry>> },
    Unreadable(String),
}

#[allow(clippy::too_many_arguments)]
async fn run<S>(
    client: &Client,
    records: S,
    source: &Source,
    target: &str,
    opts: &RestoreOptions,
    report: &mut RestoreReport,
    progress: ProgressFn<'_>,
    cancel: &CancellationToken,
) -> Result<()>
where
    S: Stream<Item = Result<ZnodeRecord>>,
{
    let started = Instant::now();
    // The target's missing ancestors first.
    for a in plan::ancestors(target) {
        match client.check_stat(&a).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                if !opts.dry_run {
                    let acl = crate::zk::acl::inherited(client, &a)
                        .await
                        .map_err(|e| anyhow::anyhow!("reading the ACL above {a}: {}", describe_error(&e)))?;
                    let folder = CreateMode::Persistent.with_acls(Acls::new(&acl));
                    match client.create(&a, b"", &folder).await {
                        Ok(_) | Err(ZkError::NodeExists) => {}
                        Err(e) => anyhow::bail!("creating the target's parent {a}: {}", describe_error(&e)),
                    }
                }
                report.parents_created.push(a);
            }
            Err(e) => anyhow::bail!("reading the target's parent {a}: {}", describe_error(&e)),
        }
    }
    let mut records = std::pin::pin!(records);
    let mut parents: HashMap<String, plan::ParentState> = HashMap::new();
    if !report.parents_created.is_empty() {
        // The target's own parent was just made: the target is missing.
        parents.insert(parent_path(target).to_string(), plan::ParentState::Created);
    }
    let mut sequences: HashMap<String, u64> = HashMap::new();
    let mut writer = apply::Writer::new(client, opts.policy);
    let mut done = 0u64;
    let mut bytes = 0u64;
    loop {
        if cancel.is_cancelled() {
            report.cancelled = true;
            break;
        }
        let mut chunk = Vec::with_capacity(CHUNK_RECORDS);
        while chunk.len() < CHUNK_RECORDS {
            match records.next().await {
                Some(r) => chunk.push(r.context("reading the snapshot")?),
                None => break,
            }
        }
        if chunk.is_empty() {
            break;
        }
        let last = chunk.len() < CHUNK_RECORDS;
        done += chunk.len() as u64;
        bytes += chunk.iter().map(|r| r.data.len() as u64).sum::<u64>();
        decide_chunk(client, chunk, source, target, opts, report, &mut parents, &mut sequences, &mut writer).await?;
        writer.flush()?;
        writer.settle(report, &mut parents, opts.sample_paths, false).await?;
        progress(&Progress {
            phase: if opts.dry_run { "planning".into() } else { "restoring".into() },
            done,
            total: source.znodes,
            bytes,
            bytes_total: None,
            elapsed_ms: started.elapsed().as_millis() as u64,
        });
        if last {
            break;
        }
    }
    writer.settle(report, &mut parents, opts.sample_paths, true).await?;
    if !opts.dry_run && !sequences.is_empty() {
        progress(&Progress {
            phase: "sequence counters".into(),
            done,
            total: source.znodes,
            bytes,
            elapsed_ms: started.elapsed().as_millis() as u64,
            ..Progress::default()
        });
        let mut list: Vec<(String, u64)> = sequences.into_iter().collect();
        list.sort();
        for (parent, highest) in list {
            match sequence::advance_past(client, &parent, highest).await {
                Ok(Some(fix)) => report.sequence_counters.push(fix),
                Ok(None) => {}
                Err(e) => {
                    if report.problems.len() < MAX_PROBLEMS {
                        report.problems.push(format!("{parent}: sequence counter: {e:#}"));
                    }
                }
            }
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn decide_chunk(
    client: &Client,
    chunk: Vec<ZnodeRecord>,
    source: &Source,
    target: &str,
    opts: &RestoreOptions,
    report: &mut RestoreReport,
    parents: &mut HashMap<String, plan::ParentState>,
    sequences: &mut HashMap<String, u64>,
    writer: &mut apply::Writer<'_>,
) -> Result<()> {
    let sample = opts.sample_paths;
    let mut mapped: Vec<(ZnodeRecord, String)> = Vec::with_capacity(chunk.len());
    for r in chunk {
        let Some(path) = plan::map_path(&r.path, &source.root, target) else {
            // Not below the source root: the stream was not filtered as promised.
            anyhow::bail!("{}: not inside {}", r.path, source.root);
        };
        mapped.push((r, path));
    }
    // Rounds, one tree level each: a znode whose parent is in this chunk and not decided yet
    // waits for it (snapshot order is breadth-first, so that is the next round), and so its
    // write is queued after its parent's.
    let mut undecided: HashSet<String> = mapped.iter().map(|(_, p)| p.clone()).collect();
    let mut round: Vec<usize> = (0..mapped.len()).collect();
    while !round.is_empty() {
        let mut waiting = Vec::new();
        let mut ready: Vec<(usize, Option<Action>)> = Vec::new();
        for i in round {
            let (r, path) = &mapped[i];
            let parent = parent_path(path);
            let early = if r.mode == ZnodeMode::Ephemeral {
                Some(Action::SkippedEphemeral)
            } else if plan::is_system(path) {
                Some(Action::Failed)
            } else if path != "/" && undecided.contains(parent) {
                waiting.push(i);
                continue;
            } else {
                plan::decide_by_parent(opts.policy, parents.get(parent).copied())
            };
            ready.push((i, early));
        }
        anyhow::ensure!(!ready.is_empty(), "internal: a chunk's znodes wait on each other");
        let to_read: Vec<String> =
            ready.iter().filter(|(_, a)| a.is_none()).map(|(i, _)| mapped[*i].1.clone()).collect();
        let mut live = read_live(client, &to_read, opts.policy == Policy::Overwrite).await?.into_iter();
        for (i, early) in ready {
            let (record, path) = &mapped[i];
            let live = if early.is_none() { live.next() } else { None };
            let (action, why, write) = decide(record, path, early, live, opts, report)?;
            undecided.remove(path);
            if record.stat.num_children > 0 {
                let open = opts.policy == Policy::MissingOnly && path == target && action == Action::SkippedExisting;
                let state = if open { Some(plan::ParentState::Open) } else { plan::ParentState::after(action) };
                if let Some(state) = state {
                    parents.insert(path.clone(), state);
                }
            }
            if record.mode == ZnodeMode::Sequential
                && matches!(
                    action,
                    Action::Create | Action::Overwrite | Action::Unchanged | Action::SkippedExisting | Action::Kept
                )
            {
                if let Some(seq) = sequence_of(path) {
                    let e = sequences.entry(parent_path(path).to_string()).or_insert(seq);
                    *e = (*e).max(seq);
                }
            }
            match write {
                Some(w) if !opts.dry_run => writer.push(w)?,
                _ => report.note(path, action, why, sample),
            }
        }
        round = waiting;
    }
    Ok(())
}

type Decided = (Action, Option<String>, Option<apply::Write>);

/// One znode's action: from its parent (`early`) or from its live read.
fn decide(
    record: &ZnodeRecord,
    path: &str,
    early: Option<Action>,
    live: Option<Live>,
    opts: &RestoreOptions,
    report: &mut RestoreReport,
) -> Result<Decided> {
    Ok(match early {
        Some(Action::SkippedEphemeral) => (Action::SkippedEphemeral, None, None),
        Some(Action::Failed) if plan::is_system(path) => {
            (Action::Failed, Some("ZooKeeper's own znodes are never written".to_string()), None)
        }
        Some(Action::Failed) => (Action::Failed, Some("its parent could not be restored".to_string()), None),
        Some(Action::Create) => (Action::Create, None, Some(apply::Write::create(path, record))),
        Some(a) => (a, None, None),
        None => match live {
            Some(Live::Missing) => (Action::Create, None, Some(apply::Write::create(path, record))),
            Some(Live::Unreadable(why)) => (Action::Failed, Some(format!("cannot read it: {why}")), None),
            Some(Live::Found { data, stat, acl }) => {
                report.planned_zxid = Some(report.planned_zxid.map_or(stat.mzxid, |z| z.max(stat.mzxid)));
                let changed_since_plan = opts.unchanged_since.is_some_and(|z| stat.mzxid > z);
                let difference = plan::Difference {
                    data: data != record.data,
                    acl: acl.as_ref().is_some_and(|a| !plan::same_acl(a, &record.acl)),
                };
                let primary = is_primary_record(&opts.root, path);
                let action = plan::decide_existing(opts.policy, difference, primary);
                if action == Action::Overwrite && changed_since_plan {
                    let why = format!("changed since the plan was made (zxid {:#x}); left as it is", stat.mzxid);
                    (Action::Conflict, Some(why), None)
                } else {
                    let write =
                        (action == Action::Overwrite).then(|| apply::Write::overwrite(path, record, difference, &stat));
                    (action, None, write)
                }
            }
            None => anyhow::bail!("internal: fewer live reads than znodes to read"),
        },
    })
}

/// Whether `path` is a cluster's `primary` record under the myzoo root.
pub fn is_primary_record(root: &str, path: &str) -> bool {
    split_cluster_path(root, path).is_some_and(|(c, rest)| !c.is_empty() && rest == "primary")
}

/// Data and stat (and the ACL when `with_acl`) of each path, in order, by multi-reads; a
/// request the server refuses as a whole (too large a reply) is split down to single znodes.
async fn read_live(client: &Client, paths: &[String], with_acl: bool) -> Result<Vec<Live>> {
    let mut out = Vec::with_capacity(paths.len());
    let reads = futures::future::join_all(paths.chunks(MULTI_READ_BATCH).map(|b| read_batch(client, b))).await;
    for r in reads {
        out.extend(r?);
    }
    if with_acl {
        let wanted: Vec<usize> =
            out.iter().enumerate().filter(|(_, l)| matches!(l, Live::Found { .. })).map(|(i, _)| i).collect();
        let acls = futures::future::join_all(wanted.iter().map(|&i| client.get_acl(&paths[i]))).await;
        for (i, acl) in wanted.into_iter().zip(acls) {
            match acl {
                Ok((acl, _)) => {
                    if let Live::Found { acl: slot, .. } = &mut out[i] {
                        *slot = Some(acl.iter().map(acl_entry).collect());
                    }
                }
                Err(ZkError::NoNode) => out[i] = Live::Missing,
                Err(e) if is_transient(&e) => anyhow::bail!("{}: {}", paths[i], describe_error(&e)),
                Err(e) => out[i] = Live::Unreadable(describe_error(&e)),
            }
        }
    }
    Ok(out)
}

fn read_batch<'a>(
    client: &'a Client,
    batch: &'a [String],
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<Live>>> + Send + 'a>> {
    Box::pin(async move {
        let mut reader = client.new_multi_reader();
        for p in batch {
            reader.add_get_data(p).map_err(|e| anyhow::anyhow!("{p}: {}", describe_error(&e)))?;
        }
        let results = match reader.commit().await {
            Ok(r) => r,
            Err(e) if is_transient(&e) || batch.len() == 1 => {
                anyhow::bail!("reading {}: {}", batch[0], describe_error(&e))
            }
            Err(_) => {
                let (a, b) = batch.split_at(batch.len() / 2);
                let mut out = read_batch(client, a).await?;
                out.extend(read_batch(client, b).await?);
                return Ok(out);
            }
        };
        let mut out = Vec::with_capacity(batch.len());
        for r in results {
            out.push(match r {
                MultiReadResult::Data { data, stat } => Live::Found { data, stat: NodeStat::from(&stat), acl: None },
                MultiReadResult::Error { err: ZkError::NoNode } => Live::Missing,
                MultiReadResult::Error { err } => Live::Unreadable(describe_error(&err)),
                _ => Live::Unreadable("unexpected reply to a multi-read".into()),
            });
        }
        anyhow::ensure!(out.len() == batch.len(), "a multi-read answered {} of {} reads", out.len(), batch.len());
        Ok(out)
    })
}
