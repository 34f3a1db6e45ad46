//! Taking a snapshot of a live subtree into the store, and pruning old ones: the service the
//! CLI, the console and the coordinator's scheduled snapshots share (it prints nothing; it
//! reports through a [`ProgressFn`]).
//!
//! `create` streams: the walk reads ahead through its bounded channel while the store writes
//! earlier groups of records, each in one transaction, through two connections side by side
//! (the `seq` ranges are handed out by the reader, in walk order), so memory holds a few groups
//! of records whatever the tree's size. The walk is what takes the time: it reads every
//! znode's ACL with a request of its own (see `walk`), spread over [`ACL_SESSIONS`] more
//! sessions when the options say how to open them. ZooKeeper has no point-in-time read, so a
//! snapshot is the znodes as each was read; its zxid range says how far apart those reads
//! were.
//!
//! Container and TTL znodes look persistent to a client (see [`ZnodeMode`]); `create` recovers
//! their mode from myzoo's audit log: a persistent znode whose path myzoo created as a
//! container or TTL znode, at about the znode's `ctime`, is recorded with that mode.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use zookeeper_client::Client;

use super::record::{ContentDigest, Progress, ProgressFn, SnapshotMeta, SnapshotState, ZnodeMode, ZnodeRecord};
use super::store::{NewSnapshot, Store, Totals};
use super::walk::{self, WalkOptions};
use crate::audit::{self, AuditRecord};
use crate::zk::ZkAccess;

/// Records per store transaction (walk batches are grouped up to this).
pub const TX_ROWS: usize = 4_000;
/// Groups read ahead of the store's writes (each up to [`TX_ROWS`] records).
pub const WRITE_QUEUE_GROUPS: usize = 2;
/// How far an audit record's time may be from a znode's `ctime` for its mode to apply.
pub const MODE_HINT_WINDOW_MS: i64 = 5_000;
/// A `running` snapshot started longer ago than this was abandoned by a dead writer.
pub const ABANDONED_AFTER_MS: i64 = 60 * 60 * 1000;
/// Sessions opened beside the snapshot's own for the ACL reads. A server answers one session's
/// requests one after another, so more sessions read faster while the server has cores to
/// spare (`docs/BENCHMARKS.md`, the `profile` section: on the two-core sandbox, 100,000 ACL
/// reads take ~5.5 s on one session, ~2.1 s over four, ~1.6 s over eight). Eight is far under
/// ZooKeeper's default limit of 60 connections from one address.
pub const ACL_SESSIONS: usize = 8;
/// How long opening them may take; the snapshot then reads on the sessions it has.
pub const ACL_SESSIONS_CONNECT_MS: u64 = 3_000;

/// What to snapshot, and who is asking (recorded in the snapshot row).
#[derive(Debug, Clone)]
pub struct SnapshotOptions {
    /// The connect string the client is on (recorded; the client is what is read).
    pub ensemble: String,
    /// The subtree (`/` for the whole tree).
    pub root: String,
    pub include_ephemeral: bool,
    pub note: String,
    pub operator: String,
    pub host: String,
    /// `cli`, `console`, `coordinator`.
    pub origin: String,
    /// The myzoo root whose `audit` folder holds the mode hints; `None` reads no hints.
    pub audit_root: Option<String>,
    /// How to open the ACL reads' own sessions (the client's ensemble and credential); `None`
    /// reads every ACL on the client's session.
    pub acl_sessions: Option<ZkAccess>,
}

/// A snapshot stopped by its cancel token (recorded as failed with the reason `cancelled`).
#[derive(Debug, Clone, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

/// Modes ZooKeeper hides from clients, as myzoo's audit log recorded them: path → (mode, time
/// of the latest successful create of that path).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModeHints {
    by_path: HashMap<String, (ZnodeMode, i64)>,
}

impl ModeHints {
    /// From audit records in any order: the latest successful `create` of each path counts (a
    /// later plain create of the same path hides an earlier container create).
    pub fn from_audit<'a>(records: impl IntoIterator<Item = &'a AuditRecord>) -> ModeHints {
        let mut latest: HashMap<&str, (Option<ZnodeMode>, i64)> = HashMap::new();
        for r in records {
            if r.action != "create" || !r.is_ok() {
                continue;
            }
            let mode = r.detail.as_deref().and_then(hidden_mode);
            match latest.get(r.path.as_str()) {
                Some((_, t)) if *t >= r.time_ms => {}
                _ => {
                    latest.insert(r.path.as_str(), (mode, r.time_ms));
                }
            }
        }
        let by_path = latest.into_iter().filter_map(|(p, (m, t))| m.map(|m| (p.to_string(), (m, t)))).collect();
        ModeHints { by_path }
    }

    pub fn len(&self) -> usize {
        self.by_path.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_path.is_empty()
    }

    /// The mode `r` really has: its hinted mode when it looks persistent, its path was created
    /// as a container or TTL znode by myzoo, and that create happened at about its `ctime` (a
    /// znode deleted and recreated since does not match).
    pub fn mode_of(&self, r: &ZnodeRecord) -> ZnodeMode {
        if r.mode != ZnodeMode::Persistent {
            return r.mode;
        }
        match self.by_path.get(&r.path) {
            Some((mode, time_ms)) if (r.stat.ctime_ms - time_ms).abs() <= MODE_HINT_WINDOW_MS => *mode,
            _ => r.mode,
        }
    }
}

/// `mode container` → container, `mode ttl 60000 ms` → TTL (the audit detail `ops` writes);
/// any other mode is visible to clients and needs no hint.
fn hidden_mode(detail: &str) -> Option<ZnodeMode> {
    let mode = detail.strip_prefix("mode ")?;
    if mode == "container" {
        return Some(ZnodeMode::Container);
    }
    let ttl = mode.strip_prefix("ttl ")?.strip_suffix(" ms")?;
    ttl.trim().parse().ok().map(|ttl_ms| ZnodeMode::Ttl { ttl_ms })
}

/// The mode hints for znodes at or below `under`, from `<audit_root>/audit`.
pub async fn read_mode_hints(client: &Client, audit_root: &str, under: &str) -> Result<ModeHints> {
    let records = audit::list(client, audit_root, usize::MAX, Some(under))
        .await
        .map_err(|e| anyhow::anyhow!("reading the audit log for znode modes: {e}"))?;
    Ok(ModeHints::from_audit(records.iter().map(|(_, r)| r)))
}

/// Running totals of a snapshot being written or imported.
#[derive(Default)]
pub(crate) struct Tally {
    pub digest: ContentDigest,
    pub znodes: u64,
    pub bytes: u64,
    pub min_zxid: Option<i64>,
    pub max_zxid: Option<i64>,
}

impl Tally {
    pub fn push(&mut self, r: &ZnodeRecord) {
        self.digest.push(r);
        self.znodes += 1;
        self.bytes += r.data.len() as u64;
        for z in [r.stat.czxid, r.stat.mzxid, r.stat.pzxid] {
            self.min_zxid = Some(self.min_zxid.map_or(z, |m| m.min(z)));
            self.max_zxid = Some(self.max_zxid.map_or(z, |m| m.max(z)));
        }
    }

    pub fn totals(self) -> Totals {
        Totals {
            znodes: self.znodes,
            bytes: self.bytes,
            min_zxid: self.min_zxid,
            max_zxid: self.max_zxid,
            checksum: self.digest.finish(),
        }
    }
}

/// Snapshots `opts.root` into `store` (see the module doc). On an error or a cancel the row is
/// marked failed with the reason and the error returned ([`Cancelled`] for a cancel).
pub async fn create(
    client: &Client,
    store: &mut Store,
    opts: &SnapshotOptions,
    progress: ProgressFn<'_>,
    cancel: &CancellationToken,
) -> Result<SnapshotMeta> {
    let started = Instant::now();
    let id = store
        .begin_snapshot(&NewSnapshot {
            ensemble: opts.ensemble.clone(),
            root: opts.root.clone(),
            include_ephemeral: opts.include_ephemeral,
            started_ms: audit::now_ms(),
            operator: opts.operator.clone(),
            host: opts.host.clone(),
            origin: opts.origin.clone(),
            note: opts.note.clone(),
        })
        .await?;
    match write(client, store, id, opts, progress, cancel, started).await {
        Ok(totals) => {
            store.finish_snapshot(id, audit::now_ms(), &totals).await?;
            store.snapshot(id).await
        }
        Err(e) => {
            let reason = if e.is::<Cancelled>() { "cancelled".to_string() } else { format!("{e:#}") };
            if let Err(f) = store.fail_snapshot(id, audit::now_ms(), &reason).await {
                tracing::warn!(snapshot = id, error = %format!("{f:#}"), "could not mark the snapshot failed");
            }
            Err(e)
        }
    }
}

async fn write(
    client: &Client,
    store: &mut Store,
    id: u64,
    opts: &SnapshotOptions,
    progress: ProgressFn<'_>,
    cancel: &CancellationToken,
    started: Instant,
) -> Result<Totals> {
    let hints = match &opts.audit_root {
        Some(root) => tokio::select! {
            h = read_mode_hints(client, root, &opts.root) => h?,
            () = cancel.cancelled() => return Err(Cancelled.into()),
        },
        None => ModeHints::default(),
    };
    let readers = tokio::select! {
        r = open_acl_sessions(opts.acl_sessions.as_ref()) => r,
        () = cancel.cancelled() => return Err(Cancelled.into()),
    };
    let mut rx = walk::tree_with(
        client.clone(),
        readers,
        WalkOptions { root: opts.root.clone(), include_ephemeral: opts.include_ephemeral },
    );
    // The reader (walk → tally → groups) and the writers (groups → store) run side by side,
    // joined by short queues of groups: neither waits for the other while a queue has room.
    // Groups are numbered (`seq`) by the reader and go to the writers in turn; a second
    // connection to the store writes every other group when it can be opened.
    let second = match store.sibling().await {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::debug!(error = %format!("{e:#}"), "one store connection for the snapshot's rows");
            None
        }
    };
    let (tx_a, rx_a) = mpsc::channel::<(u32, Vec<ZnodeRecord>)>(WRITE_QUEUE_GROUPS);
    let (tx_b, rx_b) = mpsc::channel::<(u32, Vec<ZnodeRecord>)>(WRITE_QUEUE_GROUPS);
    let read_count = AtomicU64::new(0);
    let read_bytes = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let report = |phase: &str| {
        progress(&Progress {
            phase: phase.to_string(),
            done: read_count.load(Ordering::Relaxed),
            bytes: read_bytes.load(Ordering::Relaxed),
            elapsed_ms: started.elapsed().as_millis() as u64,
            ..Progress::default()
        })
    };
    let two = second.is_some();
    let reader = async {
        // Owned here: the writers see their queues close when the reader ends, however it ends.
        let (tx_a, tx_b) = (tx_a, tx_b);
        let mut tally = Tally::default();
        let mut group: Vec<ZnodeRecord> = Vec::with_capacity(TX_ROWS);
        let mut next_seq: u32 = 0;
        let mut groups = 0usize;
        loop {
            let batch = tokio::select! {
                b = rx.recv() => b,
                () = cancel.cancelled() => return Err(Cancelled.into()),
            };
            let done = match batch {
                Some(Ok(records)) => {
                    for mut r in records {
                        r.mode = hints.mode_of(&r);
                        tally.push(&r);
                        group.push(r);
                    }
                    read_count.store(tally.znodes, Ordering::Relaxed);
                    read_bytes.store(tally.bytes, Ordering::Relaxed);
                    report("reading");
                    false
                }
                Some(Err(e)) => bail!("reading the tree: {e}"),
                None => true,
            };
            if group.len() >= TX_ROWS || (done && !group.is_empty()) {
                let full = std::mem::replace(&mut group, Vec::with_capacity(if done { 0 } else { TX_ROWS }));
                let first = next_seq;
                next_seq = next_seq
                    .checked_add(full.len() as u32)
                    .ok_or_else(|| anyhow::anyhow!("more znodes than a snapshot can number"))?;
                let queue = if two && groups % 2 == 1 { &tx_b } else { &tx_a };
                groups += 1;
                let sent = tokio::select! {
                    s = queue.send((first, full)) => s,
                    () = cancel.cancelled() => return Err(Cancelled.into()),
                };
                if sent.is_err() {
                    // A writer stopped; its error is the one reported.
                    return Ok(tally);
                }
            }
            if done {
                break;
            }
        }
        if tally.znodes == 0 {
            bail!("{}: no such znode", opts.root);
        }
        Ok(tally)
    };
    let reader = async {
        let result = reader.await;
        if result.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        result
    };
    let mut second = second;
    let (read, a, b) = futures::join!(reader, write_groups(store, id, rx_a, &stop, cancel, &report), async {
        match second.as_mut() {
            Some(s) => write_groups(s, id, rx_b, &stop, cancel, &report).await,
            None => Ok(()),
        }
    });
    let tally = read?;
    a?;
    b?;
    if cancel.is_cancelled() {
        return Err(Cancelled.into());
    }
    Ok(tally.totals())
}

/// Up to [`ACL_SESSIONS`] sessions for the ACL reads, opened side by side; those that fail or
/// do not open within [`ACL_SESSIONS_CONNECT_MS`] are done without (the walk's own session
/// reads what the others do not).
pub async fn open_acl_sessions(access: Option<&ZkAccess>) -> Vec<Client> {
    let Some(access) = access else { return Vec::new() };
    let wait = Duration::from_millis(ACL_SESSIONS_CONNECT_MS);
    let opened =
        futures::future::join_all((0..ACL_SESSIONS).map(|_| tokio::time::timeout(wait, access.connect_eagerly())))
            .await;
    let mut sessions = Vec::with_capacity(ACL_SESSIONS);
    for result in opened {
        match result {
            Ok(Ok(client)) => sessions.push(client),
            Ok(Err(e)) => tracing::debug!(error = %e, "an ACL session did not open"),
            Err(_) => tracing::debug!(wait_ms = ACL_SESSIONS_CONNECT_MS, "an ACL session did not open in time"),
        }
    }
    sessions
}

/// Writes the groups of `queue` until it closes, each in one transaction (one being written is
/// finished, never dropped half-way); stops early once `stop` is set or on a cancel (the groups
/// still queued are not written), and sets `stop` on an error. Owning the queue, it closes it
/// when it ends, which ends the reader.
async fn write_groups(
    store: &mut Store,
    id: u64,
    mut queue: mpsc::Receiver<(u32, Vec<ZnodeRecord>)>,
    stop: &AtomicBool,
    cancel: &CancellationToken,
    report: &(dyn Fn(&str) + Sync),
) -> Result<()> {
    while let Some((first, group)) = queue.recv().await {
        if stop.load(Ordering::Relaxed) || cancel.is_cancelled() {
            break;
        }
        if let Err(e) = store.insert_znodes(id, first, &group).await {
            stop.store(true, Ordering::Relaxed);
            return Err(e);
        }
        report("writing");
    }
    Ok(())
}

/// What `prune` removed (or, dry, would remove) and kept.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PruneReport {
    pub dry_run: bool,
    /// Complete snapshots kept, newest first.
    pub kept: Vec<u64>,
    pub removed: Vec<Pruned>,
}

/// One snapshot `prune` removes, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Pruned {
    pub id: u64,
    pub state: SnapshotState,
    pub started_ms: i64,
    /// `older than the newest N`, `failed`, `abandoned (running since …)`.
    pub reason: String,
    /// Znode rows removed (`None` in a dry run).
    pub znode_rows: Option<u64>,
}

/// Which snapshots `prune` removes, from the store's list (newest first by id): complete ones
/// beyond the newest `keep`, every failed one, and running ones started before
/// `now_ms - ABANDONED_AFTER_MS`. Pure.
pub fn prune_plan(snapshots: &[SnapshotMeta], keep: usize, now_ms: i64) -> (Vec<u64>, Vec<Pruned>) {
    let mut ordered: Vec<&SnapshotMeta> = snapshots.iter().collect();
    ordered.sort_by_key(|s| std::cmp::Reverse(s.id));
    let mut kept = Vec::new();
    let mut removed = Vec::new();
    for s in ordered {
        let reason = match s.state {
            SnapshotState::Complete if kept.len() < keep => {
                kept.push(s.id);
                continue;
            }
            SnapshotState::Complete => format!("older than the newest {keep}"),
            SnapshotState::Failed => "failed".to_string(),
            SnapshotState::Running if now_ms - s.started_ms > ABANDONED_AFTER_MS => {
                format!("abandoned (running since {} UTC)", crate::zk::format::utc_timestamp(s.started_ms))
            }
            SnapshotState::Running => continue,
        };
        removed.push(Pruned { id: s.id, state: s.state, started_ms: s.started_ms, reason, znode_rows: None });
    }
    (kept, removed)
}

/// Keeps the newest `keep` complete snapshots and removes the rest (see [`prune_plan`]);
/// `dry_run` removes nothing.
pub async fn prune(store: &mut Store, keep: usize, dry_run: bool) -> Result<PruneReport> {
    let snapshots = store.snapshots().await?;
    let (kept, mut removed) = prune_plan(&snapshots, keep, audit::now_ms());
    if !dry_run {
        for p in &mut removed {
            p.znode_rows = Some(store.delete_snapshot(p.id).await?);
        }
    }
    Ok(PruneReport { dry_run, kept, removed })
}

/// Every snapshot in the store, newest first.
pub async fn list(store: &mut Store) -> Result<Vec<SnapshotMeta>> {
    store.snapshots().await
}

/// One snapshot's row.
pub async fn show(store: &mut Store, id: u64) -> Result<SnapshotMeta> {
    store.snapshot(id).await
}

/// A zxid as ZooKeeper shows it (`0x1f00000003`) and in decimal.
pub fn zxid_text(zxid: i64) -> String {
    format!("{zxid:#x} ({zxid})")
}

/// What `show` says about the zxid range: ZooKeeper reads are not a point-in-time snapshot.
pub fn zxid_range_text(meta: &SnapshotMeta) -> String {
    match (meta.min_zxid, meta.max_zxid) {
        (Some(lo), Some(hi)) => format!(
            "zxids {} .. {}: ZooKeeper has no point-in-time read, so the znodes were read one batch \
             after another while the tree could change; every znode kept was last created or changed \
             at or before zxid {hi:#x}",
            zxid_text(lo),
            zxid_text(hi)
        ),
        _ => "no zxids recorded (the snapshot is not complete)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zk::NodeStat;

    fn audit(path: &str, time_ms: i64, result: &str, detail: Option<&str>) -> AuditRecord {
        AuditRecord {
            schema: audit::AUDIT_SCHEMA,
            time_ms,
            user: "u".into(),
            host: "h".into(),
            ssh_client: None,
            action: "create".into(),
            path: path.into(),
            version_before: None,
            version_after: Some(0),
            digest_before: None,
            digest_after: None,
            result: result.into(),
            origin: "cli".into(),
            detail: detail.map(str::to_string),
        }
    }

    fn znode(path: &str, ctime_ms: i64, mode: ZnodeMode) -> ZnodeRecord {
        ZnodeRecord {
            path: path.into(),
            data: vec![],
            stat: NodeStat { ctime_ms, ..NodeStat::default() },
            acl: vec![],
            mode,
        }
    }

    #[test]
    fn audit_details_name_hidden_modes() {
        assert_eq!(hidden_mode("mode container"), Some(ZnodeMode::Container));
        assert_eq!(hidden_mode("mode ttl 60000 ms"), Some(ZnodeMode::Ttl { ttl_ms: 60_000 }));
        assert_eq!(hidden_mode("mode persistent"), None);
        assert_eq!(hidden_mode("mode persistent-sequential"), None);
        assert_eq!(hidden_mode("mode ttl x ms"), None);
        assert_eq!(hidden_mode("recursive, 12 descendants"), None);
    }

    #[test]
    fn hints_match_the_latest_successful_create_at_about_ctime() {
        let mut set = audit("/c", 1_000_000, "ok", None);
        set.action = "set".into();
        let records = vec![
            audit("/c", 1_000_000, "ok", Some("mode container")),
            audit("/t", 2_000_000, "ok", Some("mode ttl 60000 ms")),
            // A failed create says nothing.
            audit("/f", 1_000_000, "failed: exists", Some("mode container")),
            // Recreated later as persistent: the container hint is gone.
            audit("/r", 1_000_000, "ok", Some("mode container")),
            audit("/r", 3_000_000, "ok", Some("mode persistent")),
            // Order does not matter: the latest create wins.
            audit("/o", 5_000_000, "ok", Some("mode ttl 10 ms")),
            audit("/o", 4_000_000, "ok", Some("mode container")),
            set,
        ];
        let hints = ModeHints::from_audit(&records);
        assert_eq!(hints.len(), 3);
        let p = ZnodeMode::Persistent;
        assert_eq!(hints.mode_of(&znode("/c", 1_000_000 - 40, p)), ZnodeMode::Container);
        assert_eq!(hints.mode_of(&znode("/t", 2_000_000 + 3_000, p)), ZnodeMode::Ttl { ttl_ms: 60_000 });
        assert_eq!(hints.mode_of(&znode("/o", 5_000_000, p)), ZnodeMode::Ttl { ttl_ms: 10 });
        // Deleted and recreated behind myzoo's back: ctime far from the audited create.
        assert_eq!(hints.mode_of(&znode("/c", 1_000_000 + MODE_HINT_WINDOW_MS + 1, p)), p);
        assert_eq!(hints.mode_of(&znode("/r", 1_000_000, p)), p);
        assert_eq!(hints.mode_of(&znode("/f", 1_000_000, p)), p);
        assert_eq!(hints.mode_of(&znode("/x", 1_000_000, p)), p);
        // What the client can see is never overridden.
        assert_eq!(hints.mode_of(&znode("/c", 1_000_000, ZnodeMode::Ephemeral)), ZnodeMode::Ephemeral);
        assert_eq!(hints.mode_of(&znode("/c", 1_000_000, ZnodeMode::Sequential)), ZnodeMode::Sequential);
    }

    fn meta(id: u64, state: SnapshotState, started_ms: i64) -> SnapshotMeta {
        SnapshotMeta {
            id,
            state,
            ensemble: "zk".into(),
            root: "/".into(),
            include_ephemeral: false,
            started_ms,
            finished_ms: None,
            znodes: 0,
            bytes: 0,
            min_zxid: None,
            max_zxid: None,
            checksum: None,
            operator: "o".into(),
            host: "h".into(),
            origin: "cli".into(),
            note: String::new(),
            error: None,
        }
    }

    #[test]
    fn prune_keeps_the_newest_complete_and_young_running_ones() {
        let now = 10 * ABANDONED_AFTER_MS;
        use SnapshotState::*;
        let list = vec![
            meta(1, Complete, 0),
            meta(2, Failed, 0),
            meta(3, Complete, 0),
            meta(4, Running, now - ABANDONED_AFTER_MS - 1),
            meta(5, Complete, 0),
            meta(6, Running, now - 1_000),
            meta(7, Complete, 0),
        ];
        let (kept, removed) = prune_plan(&list, 2, now);
        assert_eq!(kept, vec![7, 5]);
        let ids: Vec<u64> = removed.iter().map(|p| p.id).collect();
        assert_eq!(ids, vec![4, 3, 2, 1]);
        assert!(removed[0].reason.starts_with("abandoned"), "{:?}", removed[0]);
        assert_eq!(removed[2].reason, "failed");
        assert_eq!(removed[1].reason, "older than the newest 2");
        let (kept, removed) = prune_plan(&list, 0, now);
        assert!(kept.is_empty());
        assert_eq!(removed.len(), 6, "all but the young running one");
    }

    #[test]
    fn zxids_read_as_zookeeper_shows_them() {
        assert_eq!(zxid_text(0x1f_0000_0003), "0x1f00000003 (133143986179)");
        let mut m = meta(1, SnapshotState::Complete, 0);
        assert!(zxid_range_text(&m).contains("not complete"));
        m.min_zxid = Some(2);
        m.max_zxid = Some(0x10);
        let text = zxid_range_text(&m);
        assert!(text.contains("0x2 (2) .. 0x10 (16)") && text.contains("point-in-time"), "{text}");
    }
}
