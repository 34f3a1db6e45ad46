//! The executor's side of the backups screen: opening the backup store and listing it, and the
//! backup jobs (snapshot, diff, restore plan, restore) as tokio tasks with an id, a cancel
//! token, progress sent as events (at most [`PROGRESS_INTERVAL_MS`] apart) and exactly one
//! finished event. The services' reports become the screen's views here, so the screen and its
//! painter never depend on a service's types beyond `backup::Progress` and `SnapshotMeta`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::event::Event;
use super::screens::backups::{
    ActionTally, BackupJob, BackupOutcome, DiffChange, DiffEntry, DiffView, JobError, Listing, RestoreView,
    StoreProblem,
};
use crate::backup::{Progress, Store, StoreAccess, Want};
use crate::config::BackupStoreConfig;
use crate::zk::session::ZkHandle;
use crate::zk::ZkAccess;

/// Shortest time between two progress events of one job (~10 a second).
pub const PROGRESS_INTERVAL_MS: u64 = 100;
/// Longest the listing may take before the screen hears the store is unreachable.
pub const LIST_TIMEOUT_MS: u64 = 10_000;

/// What backup jobs need to know, shared by every job of one console.
#[derive(Clone, Default)]
pub struct BackupJobs {
    /// The profile's store (`None`: the screen says how to name one).
    pub store: Option<BackupStoreConfig>,
    /// The connect string, recorded with each snapshot.
    pub ensemble: String,
    /// How the console reaches ZooKeeper: a snapshot opens its ACL reads' sessions this way.
    pub zk: Option<ZkAccess>,
    /// Running jobs' cancel tokens by id.
    tokens: Arc<Mutex<HashMap<u64, CancellationToken>>>,
}

/// Where a job's context lives while it runs.
struct JobCx {
    zk: ZkHandle,
    root: String,
    read_only: bool,
    ensemble: String,
    access: Option<ZkAccess>,
}

impl BackupJobs {
    pub fn new(store: Option<BackupStoreConfig>, zk: &ZkAccess) -> BackupJobs {
        BackupJobs { store, ensemble: zk.connect.clone(), zk: Some(zk.clone()), tokens: Arc::default() }
    }

    fn access(&self) -> Result<StoreAccess, StoreProblem> {
        match &self.store {
            None => Err(StoreProblem::NotConfigured(match StoreAccess::from_profile(None) {
                Err(e) => format!("{e:#}"),
                Ok(_) => String::new(),
            })),
            Some(c) => StoreAccess::from_config(c).map_err(|e| StoreProblem::Unreachable(format!("{e:#}"))),
        }
    }

    /// Opens the store and lists it, off the loop; the answer comes back as
    /// [`Event::BackupsLoaded`].
    pub fn list(&self, tx: UnboundedSender<Event>, seq: u64, cluster: Option<String>) {
        let access = self.access();
        tokio::spawn(async move {
            let result = match access {
                Err(p) => Err(p),
                Ok(access) => {
                    let listed = tokio::time::timeout(Duration::from_millis(LIST_TIMEOUT_MS), list(&access, cluster))
                        .await
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("no answer within {LIST_TIMEOUT_MS} ms")));
                    listed.map(Box::new).map_err(|e| StoreProblem::Unreachable(format!("{e:#}")))
                }
            };
            let _ = tx.send(Event::BackupsLoaded { seq, result });
        });
    }

    /// Runs `job` as job `id`: progress events, then exactly one [`Event::BackupJobEnded`].
    pub fn start(
        &self,
        tx: UnboundedSender<Event>,
        zk: ZkHandle,
        root: &str,
        read_only: bool,
        id: u64,
        job: BackupJob,
    ) {
        let cancel = CancellationToken::new();
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.insert(id, cancel.clone());
        }
        let tokens = self.tokens.clone();
        let access = self.access();
        let cx =
            JobCx { zk, root: root.to_string(), read_only, ensemble: self.ensemble.clone(), access: self.zk.clone() };
        tokio::spawn(async move {
            let progress = Throttled::new(tx.clone(), id);
            let report = |p: &Progress| progress.send(p);
            let result = match access {
                Err(StoreProblem::NotConfigured(why) | StoreProblem::Unreachable(why)) => Err(JobError::Failed(why)),
                Ok(access) => run(&cx, &access, &job, &report, &cancel).await,
            };
            // A job stopped by its token says so, whatever error its service gave.
            let result = match result {
                Err(JobError::Failed(_)) if cancel.is_cancelled() => Err(JobError::Cancelled),
                other => other,
            };
            if let Ok(mut t) = tokens.lock() {
                t.remove(&id);
            }
            tracing::info!(id, job = job.label(), ok = result.is_ok(), "backup job ended");
            let _ = tx.send(Event::BackupJobEnded { id, result });
        });
    }

    /// Cancels job `id`'s token (its finished event still comes).
    pub fn cancel(&self, id: u64) {
        if let Some(token) = self.tokens.lock().ok().and_then(|t| t.get(&id).cloned()) {
            token.cancel();
        }
    }
}

/// Progress events at most every [`PROGRESS_INTERVAL_MS`], phase changes at once.
struct Throttled {
    tx: UnboundedSender<Event>,
    id: u64,
    last: Mutex<Option<(Instant, String)>>,
}

impl Throttled {
    fn new(tx: UnboundedSender<Event>, id: u64) -> Throttled {
        Throttled { tx, id, last: Mutex::new(None) }
    }

    fn send(&self, p: &Progress) {
        let Ok(mut last) = self.last.lock() else { return };
        let due = match &*last {
            Some((at, phase)) => *phase != p.phase || at.elapsed() >= Duration::from_millis(PROGRESS_INTERVAL_MS),
            None => true,
        };
        if due {
            *last = Some((Instant::now(), p.phase.clone()));
            let _ = self.tx.send(Event::BackupProgress { id: self.id, progress: p.clone() });
        }
    }
}

async fn list(access: &StoreAccess, cluster: Option<String>) -> anyhow::Result<Listing> {
    let mut store = match Store::open(access, Want::Read).await {
        Ok(s) => s,
        // Nothing was ever backed up: an empty store, not an unreachable one.
        Err(e) => match e.downcast_ref::<crate::backup::store::NoBackupsYet>() {
            Some(empty) => {
                return Ok(Listing {
                    server: empty.host.clone(),
                    database: empty.database.clone(),
                    writable: false,
                    snapshots: Vec::new(),
                    dumps: cluster.map(|_| Ok(Vec::new())),
                })
            }
            None => return Err(e),
        },
    };
    let snapshots = store.snapshots().await?;
    let dumps = match cluster {
        None => None,
        Some(c) => Some(crate::backup::dump::list(&mut store, &c).await.map(dump_rows).map_err(|e| format!("{e:#}"))),
    };
    Ok(Listing {
        server: store.host().to_string(),
        database: store.database().to_string(),
        writable: store.writable(),
        snapshots,
        dumps,
    })
}

fn dump_rows(records: Vec<crate::backup::dump::DumpRecord>) -> Vec<super::screens::backups::DumpRow> {
    records
        .into_iter()
        .map(|d| super::screens::backups::DumpRow {
            id: d.id,
            node: d.node,
            gtid_position: d.gtid_position,
            bytes: d.bytes,
            started_ms: d.started_ms,
            duration_ms: d.finished_ms.map(|f| f - d.started_ms),
            state: d.state.label().to_string(),
        })
        .collect()
}

/// Paths kept per restore action in the plan and the report.
const SAMPLE_PATHS: usize = 5;

async fn run(
    cx: &JobCx,
    access: &StoreAccess,
    job: &BackupJob,
    progress: crate::backup::ProgressFn<'_>,
    cancel: &CancellationToken,
) -> Result<BackupOutcome, JobError> {
    use crate::backup::{diff, restore, snapshot};
    let failed = |e: anyhow::Error| JobError::Failed(format!("{e:#}"));
    let client = cx.zk.client().ok_or_else(|| JobError::Failed(super::strings::NOT_CONNECTED.into()))?;
    let want = if matches!(job, BackupJob::Snapshot { .. }) { Want::Write } else { Want::Read };
    let mut store = Store::open(access, want).await.map_err(failed)?;
    let actor = crate::ops::actor::Actor::from_env();
    let origin = crate::ops::Origin::Console.label().to_string();
    match job {
        BackupJob::Snapshot { note } => {
            let opts = snapshot::SnapshotOptions {
                ensemble: cx.ensemble.clone(),
                root: cx.root.clone(),
                include_ephemeral: false,
                note: note.clone(),
                operator: actor.user.clone(),
                host: actor.host.clone(),
                origin,
                audit_root: Some(cx.root.clone()),
                acl_sessions: cx.access.clone(),
            };
            let meta = snapshot::create(&client, &mut store, &opts, progress, cancel).await.map_err(failed)?;
            Ok(BackupOutcome::Snapshot(Box::new(meta)))
        }
        BackupJob::Diff { snapshot } => {
            let live = match &cx.access {
                Some(access) => diff::Against::LiveOver(&client, access),
                None => diff::Against::Live(&client),
            };
            let report = diff::diff(&mut store, *snapshot, live, None).await.map_err(failed)?;
            Ok(BackupOutcome::Diff(Box::new(diff_view(*snapshot, report))))
        }
        BackupJob::RestorePlan { snapshot } | BackupJob::Restore { snapshot, .. } => {
            let dry_run = matches!(job, BackupJob::RestorePlan { .. });
            let (confirm, unchanged_since) = match job {
                BackupJob::Restore { confirm, unchanged_since, .. } => (confirm.clone(), *unchanged_since),
                _ => (None, None),
            };
            let opts = restore::RestoreOptions {
                policy: restore::Policy::SkipExisting,
                under: None,
                to: None,
                dry_run,
                sample_paths: SAMPLE_PATHS,
                root: cx.root.clone(),
                confirm,
                actor,
                origin,
                read_only: cx.read_only,
                unchanged_since,
            };
            let report = restore::restore_snapshot(&client, &mut store, *snapshot, &opts, progress, cancel)
                .await
                .map_err(|e| match e.downcast_ref::<restore::Refused>() {
                    Some(r) => JobError::Refused(r.0.clone()),
                    None => failed(e),
                })?;
            let view = restore_view(*snapshot, &report);
            Ok(if dry_run {
                BackupOutcome::RestorePlan(Box::new(view))
            } else {
                BackupOutcome::Restored(Box::new(view))
            })
        }
    }
}

fn diff_view(snapshot: u64, r: crate::backup::diff::DiffReport) -> DiffView {
    use crate::backup::diff::DataChange;
    let entry = |e: crate::backup::diff::Entry| DiffEntry { path: e.path, bytes: e.bytes };
    DiffView {
        snapshot,
        against: r.to.label.clone(),
        added: r.added.into_iter().map(entry).collect(),
        removed: r.removed.into_iter().map(entry).collect(),
        changed: r
            .changed
            .into_iter()
            .map(|c| {
                let mut lines = Vec::new();
                match c.data {
                    Some(DataChange::Text { diff }) => lines.extend(diff.lines().map(str::to_string)),
                    Some(DataChange::Binary { from_bytes, to_bytes, from_sha256, to_sha256 }) => lines.push(format!(
                        "data (binary): {from_bytes} B sha256 {} → {to_bytes} B sha256 {}",
                        from_sha256.get(..12).unwrap_or(&from_sha256),
                        to_sha256.get(..12).unwrap_or(&to_sha256)
                    )),
                    None => {}
                }
                if let Some((from, to)) = c.acl {
                    lines.push(format!("acl: {} → {}", from.join(","), to.join(",")));
                }
                if let Some((from, to)) = c.mode {
                    lines.push(format!("mode: {from} → {to}"));
                }
                DiffChange { path: c.path, lines }
            })
            .collect(),
        unchanged: r.unchanged,
    }
}

fn restore_view(snapshot: u64, r: &crate::backup::restore::RestoreReport) -> RestoreView {
    use crate::backup::restore::Action;
    RestoreView {
        snapshot,
        dry_run: r.dry_run,
        cancelled: r.cancelled,
        policy: r.policy.label().to_string(),
        source: r.source.clone(),
        target: r.target.clone(),
        actions: Action::ALL
            .iter()
            .map(|a| {
                let t = r.actions.get(*a);
                ActionTally { label: a.label().to_string(), count: t.count, sample: t.sample.clone() }
            })
            .collect(),
        problems: r.problems.clone(),
        confirmation_needed: r.confirmation_needed.clone(),
        duration_ms: r.duration_ms,
        planned_zxid: r.planned_zxid,
    }
}
