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
use super::screens::backups::{BackupJob, BackupOutcome, JobError, Listing, StoreProblem};
use crate::backup::{Progress, Store, StoreAccess, Want};
use crate::config::BackupStoreConfig;
use crate::zk::session::ZkHandle;

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
    /// Running jobs' cancel tokens by id.
    tokens: Arc<Mutex<HashMap<u64, CancellationToken>>>,
}

/// Where a job's context lives while it runs.
// TODO(backup::snapshot, backup::diff, backup::restore): read by `run` once the services are on
// main; until then nothing does.
#[allow(dead_code)]
struct JobCx {
    zk: ZkHandle,
    root: String,
    read_only: bool,
    ensemble: String,
}

impl BackupJobs {
    pub fn new(store: Option<BackupStoreConfig>, ensemble: &str) -> BackupJobs {
        BackupJobs { store, ensemble: ensemble.to_string(), tokens: Arc::default() }
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
        let cx = JobCx { zk, root: root.to_string(), read_only, ensemble: self.ensemble.clone() };
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

async fn list(access: &StoreAccess, _cluster: Option<String>) -> anyhow::Result<Listing> {
    let mut store = Store::open(access, Want::Read).await?;
    let snapshots = store.snapshots().await?;
    // TODO(backup::dump): list `_cluster`'s dumps with `backup::dump::list` once it is on main.
    let dumps = None;
    Ok(Listing {
        server: store.host().to_string(),
        database: store.database().to_string(),
        writable: store.writable(),
        snapshots,
        dumps,
    })
}

async fn run(
    _cx: &JobCx,
    _access: &StoreAccess,
    job: &BackupJob,
    _progress: crate::backup::ProgressFn<'_>,
    _cancel: &CancellationToken,
) -> Result<BackupOutcome, JobError> {
    // TODO(backup::snapshot, backup::diff, backup::restore): wired as the services land on main.
    Err(JobError::Failed(format!("{} is not built yet", job.label())))
}
