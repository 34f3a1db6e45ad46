//! The one event loop: terminal input, ticks, signals and ZooKeeper results arrive on one
//! channel; `App::update` applies them; effects become tasks; a frame is drawn only when
//! something changed, at most once per frame interval, after draining everything pending.

use std::io;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crossterm::event::{Event as TermEvent, EventStream, KeyEventKind};
use futures::StreamExt;
use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::Terminal;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::app::{App, AppOptions};
use super::draft;
use super::event::{Effect, Event, OperationError, Planned, SaveResult};
use super::strings;
use super::terminal::TerminalGuard;
use super::view;
use crate::failover::journal::Record;
use crate::failover::plan::OpKind;
use crate::failover::prepare::Prepared;
use crate::failover::unplanned::FailoverOptions;
use crate::failover::{rejoin, switchover, unplanned, Access, Operator};
use crate::ops::actor::Actor;
use crate::ops::{Mutation, OpError, Ops, Origin};
use crate::zk::session::{self, SessionConfig, ZkHandle};
use crate::zk::{load, ZkEvent};

/// Shortest time between two frames (~60 frames a second at most).
pub const FRAME_INTERVAL_MS: u64 = 16;
/// Clock tick: ages notices. Nothing is drawn on a tick unless something visible changed.
pub const TICK_INTERVAL_MS: u64 = 1_000;
/// Events applied before a frame is considered, so a burst cannot starve the screen.
const MAX_EVENTS_PER_FRAME: usize = 4_096;
/// How long shutdown waits for background tasks.
const SHUTDOWN_WAIT_MS: u64 = 2_000;

/// Test hook, for proving that a panic restores the terminal (tests/e2e_pty.rs): in a debug
/// build of the binary — what `cargo test` runs — typing the one character this variable holds
/// makes the event loop panic. Release builds never read it (the check is compiled only under
/// `debug_assertions`), so an operator's environment cannot crash a production console.
pub const TEST_PANIC_KEY_ENV: &str = "MYZOO_TEST_PANIC_KEY";
/// The message of that panic.
pub const TEST_PANIC_MESSAGE: &str = "panic on purpose (MYZOO_TEST_PANIC_KEY, debug builds only)";

/// Runs effects as tasks whose results come back as events.
#[derive(Clone)]
pub struct Executor {
    zk: ZkHandle,
    tx: UnboundedSender<Event>,
    /// Root and read-only flag for the mutation service (which enforces read-only itself).
    root: String,
    read_only: bool,
    /// Whether copies go to the terminal (not in headless runs).
    clipboard: bool,
    /// Running searches by job id, to cancel them.
    finds: Arc<std::sync::Mutex<std::collections::HashMap<u64, CancellationToken>>>,
    /// The draft writer's queue.
    drafts: UnboundedSender<DraftOp>,
    /// Where operations find their MySQL account (read when a plan is asked for).
    mysql: crate::config::MysqlAccess,
    /// Plans made, by job id, kept until they run or a newer plan for the cluster replaces them:
    /// a confirmed run carries out exactly the plan the operator saw.
    prepared: Arc<std::sync::Mutex<KeptPlans>>,
    /// The backup store and the backup jobs running (`console::backup_jobs`).
    backups: super::backup_jobs::BackupJobs,
    /// The credential the session authenticates with, to check it against the root's ACL.
    zk_auth: Option<crate::zk::ZkCredential>,
    /// The connect string and how to ask its members, for the ensemble screen.
    ensemble: Arc<(String, crate::zk::ensemble::EnsembleOptions)>,
}

/// Plans by job id, with their cluster.
type KeptPlans = std::collections::HashMap<u64, (String, Box<Prepared>)>;

/// One draft file operation, done in order by the draft writer.
enum DraftOp {
    Save(std::path::PathBuf, draft::Draft),
    Drop(std::path::PathBuf, String),
    /// Answers once everything queued before it is on disk.
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// The draft writer: one task taking operations in order, each on a blocking thread.
fn spawn_draft_writer() -> UnboundedSender<DraftOp> {
    let (tx, mut rx) = mpsc::unbounded_channel::<DraftOp>();
    tokio::spawn(async move {
        while let Some(op) = rx.recv().await {
            let done = tokio::task::spawn_blocking(move || match op {
                DraftOp::Save(dir, d) => {
                    if let Err(e) = draft::save(&dir, &d) {
                        tracing::warn!(error = %e, path = %d.path, "cannot keep the draft");
                    }
                    None
                }
                DraftOp::Drop(dir, path) => {
                    if let Err(e) = draft::remove(&dir, &path) {
                        tracing::warn!(error = %e, %path, "cannot remove the draft");
                    }
                    None
                }
                DraftOp::Flush(reply) => Some(reply),
            })
            .await;
            if let Ok(Some(reply)) = done {
                let _ = reply.send(());
            }
        }
    });
    tx
}

/// Records the audit screen reads at a time.
const AUDIT_RECORDS_SHOWN: usize = 500;

fn with_audit_warning(text: String, audit_error: Option<String>) -> String {
    match audit_error {
        Some(e) => format!("{text}; but the audit record failed: {e}"),
        None => text,
    }
}

impl Executor {
    pub fn new(zk: ZkHandle, tx: UnboundedSender<Event>, root: &str, read_only: bool) -> Executor {
        Executor {
            zk,
            tx,
            root: root.to_string(),
            read_only,
            clipboard: false,
            finds: Arc::default(),
            drafts: spawn_draft_writer(),
            mysql: crate::config::MysqlAccess::default(),
            prepared: Arc::default(),
            backups: Default::default(),
            ensemble: Arc::default(),
            zk_auth: None,
        }
    }

    /// The session's credential (see [`Effect::CheckAuth`]).
    pub fn with_zk_auth(mut self, auth: Option<crate::zk::ZkCredential>) -> Executor {
        self.zk_auth = auth;
        self
    }

    /// The connect string whose members the ensemble screen asks, and how.
    pub fn with_ensemble(mut self, connect: &str, options: crate::zk::ensemble::EnsembleOptions) -> Executor {
        self.ensemble = Arc::new((connect.to_string(), options));
        self
    }

    /// The profile's backup store, and how snapshots reach ZooKeeper (its connect string is
    /// recorded with each).
    pub fn with_backups(
        mut self,
        store: Option<crate::config::BackupStoreConfig>,
        zk: &crate::zk::ZkAccess,
    ) -> Executor {
        self.backups = super::backup_jobs::BackupJobs::new(store, zk);
        self
    }

    /// The MySQL account operations use (user and password files).
    pub fn with_mysql(mut self, mysql: crate::config::MysqlAccess) -> Executor {
        self.mysql = mysql;
        self
    }

    /// Copies go to the real terminal.
    pub fn with_clipboard(mut self) -> Executor {
        self.clipboard = true;
        self
    }

    fn ops(&self, client: zookeeper_client::Client) -> Ops {
        Ops::new(client, &self.root, Origin::Console).with_read_only(self.read_only)
    }

    pub fn run(&self, effect: Effect) {
        match effect {
            Effect::Interest(i) => self.zk.set_interest(i),
            // Drafts are written off the loop (a 1 MB draft is milliseconds of disk), in order,
            // by one writer; quitting waits for it (`flush_drafts`).
            Effect::SaveDraft { dir, draft } => self.draft_op(DraftOp::Save(dir, draft)),
            Effect::DropDraft { dir, path } => self.draft_op(DraftOp::Drop(dir, path)),
            Effect::Validate { text, generation, schema } => {
                let tx = self.tx.clone();
                tokio::task::spawn_blocking(move || {
                    let problems = super::overlays::editor::validate_text(&text, schema.as_deref());
                    let _ = tx.send(Event::Validated { generation, problems });
                });
            }
            Effect::LoadChildren(_) | Effect::FetchNode(_) | Effect::FetchAcl(_) => self.read(effect),
            Effect::OpenEditor { path, drafts_dir } => self.open_editor(path, drafts_dir),
            Effect::Save { path, data, expected_version, confirm } => self.save(path, data, expected_version, confirm),
            Effect::Reveal(path) => self.reveal(path),
            Effect::Create { path, data, mode } => self.create(path, data, mode),
            Effect::PlanDelete(path) => self.plan_delete(path),
            Effect::Delete { path, version, recursive, confirm } => self.delete(path, version, recursive, confirm),
            Effect::Copy(text) => self.copy(&text),
            Effect::LoadAudit(filter) => self.load_audit(filter),
            Effect::Find { id, root, pattern, secrets } => self.find(id, root, pattern, secrets),
            Effect::PlanOperation { id, kind, cluster, to } => self.plan_operation(id, kind, cluster, to),
            Effect::RunOperation { id, kind, cluster, confirm } => self.run_operation(id, kind, cluster, confirm),
            Effect::Acknowledge { cluster } => self.acknowledge(cluster),
            Effect::LoadBackups { seq, cluster } => self.backups.list(self.tx.clone(), seq, cluster),
            Effect::BackupJob { id, job } => {
                self.backups.start(self.tx.clone(), self.zk.clone(), &self.root, self.read_only, id, job)
            }
            Effect::CancelBackupJob(id) => self.backups.cancel(id),
            Effect::CheckAuth => self.check_auth(),
            Effect::SetAcl { path, acl, acl_version, confirm } => self.set_acl(path, acl, acl_version, confirm),
            Effect::LoadEnsemble { seq } => self.load_ensemble(seq),
            Effect::CancelFind(id) => {
                if let Some(token) = self.finds.lock().ok().and_then(|mut f| f.remove(&id)) {
                    token.cancel();
                }
            }
        }
    }

    /// Asks every member (bounded: each answers within its timeout) with the console's session
    /// for `/zookeeper/config` and the session's member, when there is one.
    fn load_ensemble(&self, seq: u64) {
        let client = self.zk.client();
        let tx = self.tx.clone();
        let ensemble = self.ensemble.clone();
        tokio::spawn(async move {
            let (connect, options) = &*ensemble;
            let result = crate::zk::ensemble::read(connect, client.as_ref(), options).await.map(Box::new);
            let _ = tx.send(Event::EnsembleLoaded { seq, result });
        });
    }

    fn draft_op(&self, op: DraftOp) {
        if self.drafts.send(op).is_err() {
            tracing::warn!("the draft writer has stopped; a draft was not kept");
        }
    }

    /// Waits (at most `SHUTDOWN_WAIT_MS`) until every queued draft operation is on disk.
    pub async fn flush_drafts(&self) {
        let (reply, done) = tokio::sync::oneshot::channel();
        self.draft_op(DraftOp::Flush(reply));
        if tokio::time::timeout(Duration::from_millis(SHUTDOWN_WAIT_MS), done).await.is_err() {
            tracing::warn!("drafts not written within {SHUTDOWN_WAIT_MS} ms of quitting");
        }
    }

    fn not_connected(&self, path: String) {
        let _ = self.tx.send(Event::Zk(ZkEvent::Failed {
            path,
            error: strings::NOT_CONNECTED.to_string(),
            transient: true,
        }));
    }

    fn read(&self, effect: Effect) {
        let Some(client) = self.zk.client() else {
            if let Effect::LoadChildren(p) | Effect::FetchNode(p) | Effect::FetchAcl(p) = effect {
                self.not_connected(p);
            }
            return;
        };
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let ev = match effect {
                Effect::LoadChildren(path) => match load::load_children(&client, &path).await {
                    Ok(c) => ZkEvent::Children { parent: c.parent, children: c.children, failed: c.failed },
                    Err(e) => ZkEvent::Failed { path, transient: e.transient(), error: e.message },
                },
                Effect::FetchNode(path) => match load::fetch_node(&client, &path).await {
                    Ok(node) => ZkEvent::Node(node),
                    // Absent is an answer, not an error: the readers treat it as deleted.
                    Err(load::LoadError { source: Some(zookeeper_client::Error::NoNode), .. }) => {
                        ZkEvent::Deleted { path }
                    }
                    Err(e) => ZkEvent::Failed { path, transient: e.transient(), error: e.message },
                },
                Effect::FetchAcl(path) => {
                    let acl = load::fetch_acl(&client, &path).await.map_err(|e| e.message);
                    ZkEvent::Acl { path, acl }
                }
                _ => return,
            };
            let _ = tx.send(Event::Zk(ev));
        });
    }

    /// Reads the znode fresh (an edit always starts from the latest version) and its draft.
    fn open_editor(&self, path: String, drafts_dir: std::path::PathBuf) {
        let Some(client) = self.zk.client() else { return self.not_connected(path) };
        let tx = self.tx.clone();
        tokio::spawn(async move {
            match load::fetch_node(&client, &path).await {
                Ok(node) => {
                    let (draft, draft_error) = match draft::load(&drafts_dir, &path) {
                        Ok(d) => (d, None),
                        Err(e) => (None, Some(e.to_string())),
                    };
                    let _ = tx.send(Event::EditorOpened { node, draft, draft_error });
                }
                Err(e) => {
                    let _ = tx.send(Event::Zk(ZkEvent::Failed { path, transient: e.transient(), error: e.message }));
                }
            }
        });
    }

    /// The version-checked write of an edit through the mutation service (guards, audit); a
    /// conflict comes back with their data.
    fn save(&self, path: String, data: Vec<u8>, expected_version: i32, confirm: Option<String>) {
        let Some(client) = self.zk.client() else {
            let result = SaveResult::Failed(strings::NOT_CONNECTED.to_string());
            let _ = self.tx.send(Event::Saved { path, result });
            return;
        };
        let (ops, tx) = (self.ops(client), self.tx.clone());
        tokio::spawn(async move {
            let m = Mutation::Set { path: path.clone(), data, expected_version: Some(expected_version) };
            let result = match ops.apply(m, confirm.as_deref()).await {
                Ok(o) => {
                    SaveResult::Saved { version: o.version_after.unwrap_or_default(), audit_warning: o.audit_error }
                }
                Err(OpError::BadVersion { current: Some(theirs), .. }) => SaveResult::Conflict(*theirs),
                Err(OpError::NeedsConfirmation { cluster }) => SaveResult::NeedsName(cluster),
                Err(e) if e.is_refusal() => SaveResult::Refused(e.to_string()),
                Err(e) => SaveResult::Failed(e.to_string()),
            };
            let _ = tx.send(Event::Saved { path, result });
        });
    }

    fn create(&self, path: String, data: Vec<u8>, mode: crate::ops::NodeMode) {
        let Some(client) = self.zk.client() else { return self.not_connected(path) };
        let (ops, tx) = (self.ops(client), self.tx.clone());
        tokio::spawn(async move {
            let result = match ops.apply(Mutation::Create { path: path.clone(), data, mode }, None).await {
                Ok(o) => Ok(with_audit_warning(format!("created {} ({})", o.path, mode.label()), o.audit_error)),
                Err(e) => Err(e.to_string()),
            };
            let _ = tx.send(Event::Done { result });
        });
    }

    fn plan_delete(&self, path: String) {
        let Some(client) = self.zk.client() else { return self.not_connected(path) };
        let (ops, tx) = (self.ops(client), self.tx.clone());
        tokio::spawn(async move {
            let result = async {
                let plan = ops.delete_plan(&path).await?;
                let m = Mutation::Delete { path: path.clone(), expected_version: Some(plan.version), recursive: true };
                let cluster = ops.confirmation_needed(&m).await?;
                Ok::<_, OpError>((plan, cluster))
            }
            .await
            .map_err(|e| e.to_string());
            let _ = tx.send(Event::DeletePlanned { result });
        });
    }

    fn delete(&self, path: String, version: i32, recursive: bool, confirm: Option<String>) {
        let Some(client) = self.zk.client() else { return self.not_connected(path) };
        let (ops, tx) = (self.ops(client), self.tx.clone());
        tokio::spawn(async move {
            let m = Mutation::Delete { path: path.clone(), expected_version: Some(version), recursive };
            let result = match ops.apply(m, confirm.as_deref()).await {
                Ok(o) => Ok(with_audit_warning(format!("deleted {path}"), o.audit_error)),
                Err(e) => Err(e.to_string()),
            };
            let _ = tx.send(Event::Done { result });
        });
    }

    /// OSC 52 puts text on the clipboard of the operator's own terminal, across SSH; inside
    /// tmux the sequence is wrapped so tmux passes it on.
    fn copy(&self, text: &str) {
        if !self.clipboard {
            return;
        }
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode(text);
        let osc = format!("\x1b]52;c;{encoded}\x07");
        let seq = if std::env::var_os("TMUX").is_some() { format!("\x1bPtmux;\x1b{osc}\x1b\\") } else { osc };
        use std::io::Write;
        let mut out = io::stdout();
        if let Err(e) = out.write_all(seq.as_bytes()).and_then(|()| out.flush()) {
            tracing::warn!(error = %e, "cannot write the clipboard sequence");
        }
    }

    fn load_audit(&self, filter: Option<String>) {
        let Some(client) = self.zk.client() else { return self.not_connected(String::from("audit")) };
        let (root, tx) = (self.root.clone(), self.tx.clone());
        tokio::spawn(async move {
            let result = crate::audit::list(&client, &root, AUDIT_RECORDS_SHOWN, filter.as_deref())
                .await
                .map_err(|e| e.to_string());
            let _ = tx.send(Event::AuditLoaded { filter, result });
        });
    }

    /// A search job: results and counts come back after every batch of reads (one event per
    /// batch, not per match), then exactly one finished event.
    fn find(&self, id: u64, root: String, pattern: String, secrets: bool) {
        let tx = self.tx.clone();
        let Some(client) = self.zk.client() else {
            let _ = tx.send(Event::FindFinished { id, result: Err(strings::NOT_CONNECTED.into()), elapsed_ms: 0 });
            return;
        };
        let query = match regex::Regex::new(&pattern) {
            Ok(_) if secrets => crate::zk::find::FindQuery { secrets: true, ..Default::default() },
            Ok(re) => crate::zk::find::FindQuery { any: Some(re), ..Default::default() },
            Err(e) => {
                let _ = tx.send(Event::FindFinished { id, result: Err(e.to_string()), elapsed_ms: 0 });
                return;
            }
        };
        let cancel = CancellationToken::new();
        if let Ok(mut finds) = self.finds.lock() {
            finds.insert(id, cancel.clone());
        }
        let finds = self.finds.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let elapsed = |s: Instant| u64::try_from(s.elapsed().as_millis()).unwrap_or(u64::MAX);
            // Both callbacks touch the list; a plain mutex keeps the task `Send` (never contended).
            let items = std::sync::Mutex::new(Vec::new());
            let result = crate::zk::find::find(
                &client,
                &root,
                &query,
                &cancel,
                |f| items.lock().map(|mut i| i.push(f)).unwrap_or_default(),
                |progress| {
                    let items = items.lock().map(|mut i| std::mem::take(&mut *i)).unwrap_or_default();
                    let _ = tx.send(Event::Found { id, items, progress, elapsed_ms: elapsed(started) });
                },
            )
            .await
            .map_err(|e| e.to_string());
            if let Ok(mut f) = finds.lock() {
                f.remove(&id);
            }
            let _ = tx.send(Event::FindFinished { id, result, elapsed_ms: elapsed(started) });
        });
    }

    /// An operator for `cluster` on the console's session, with the credentials read now (a
    /// password file changed since start-up is picked up), origin `console`.
    fn operator(&self, cluster: &str) -> Result<Operator, String> {
        let client = self.zk.client().ok_or_else(|| strings::NOT_CONNECTED.to_string())?;
        let creds = crate::config::operation_credentials(&self.mysql, "repl")
            .map_err(|e| strings::credentials_missing(&format!("{e:#}")))?;
        Ok(Operator {
            client,
            paths: crate::cluster::ClusterPaths::new(&self.root, cluster),
            access: Access {
                user: creds.user,
                password: creds.password,
                repl_password: creds.repl_password,
                tls: crate::mysql::MysqlTls::for_host(self.mysql.tls.clone()),
            },
            actor: Actor::from_env(),
            origin: Origin::Console.label().to_string(),
            read_only: self.read_only,
            guard: None,
        })
    }

    /// Plans off the loop (fresh probes of every node; nothing changes) and keeps what running
    /// the plan needs under the job id.
    fn plan_operation(&self, id: u64, kind: OpKind, cluster: String, to: Option<String>) {
        let tx = self.tx.clone();
        let op = match self.operator(&cluster) {
            Ok(op) => op,
            Err(e) => {
                let _ = tx.send(Event::Planned { id, cluster, kind, result: Err(e) });
                return;
            }
        };
        let prepared = self.prepared.clone();
        tokio::spawn(async move {
            let made = match kind {
                OpKind::Switchover => switchover::plan(&op, to.as_deref()).await,
                OpKind::Failover => unplanned::plan(&op, &FailoverOptions { to, force: false }).await,
                OpKind::Rejoin => match to {
                    Some(node) => rejoin::plan(&op, &node).await,
                    None => Err(anyhow::anyhow!(strings::REJOIN_NEEDS_NODE)),
                },
            }
            .map(Box::new)
            .map_err(|e| format!("{e:#}"));
            let result = made.map(|made| {
                let planned =
                    Planned { plan: Box::new(made.plan.clone()), production: made.view.config.is_production() };
                if let Ok(mut kept) = prepared.lock() {
                    kept.retain(|_, (c, _)| *c != cluster);
                    kept.insert(id, (cluster.clone(), made));
                }
                planned
            });
            let _ = tx.send(Event::Planned { id, cluster, kind, result });
        });
    }

    /// Runs the plan kept under `id`: every journal record the service reports comes back as
    /// an event, then exactly one [`Event::OperationEnded`].
    fn run_operation(&self, id: u64, kind: OpKind, cluster: String, confirm: Option<String>) {
        let tx = self.tx.clone();
        let ended = |result| Event::OperationEnded { id, cluster: cluster.clone(), kind, result };
        let kept = self.prepared.lock().ok().and_then(|mut kept| kept.remove(&id));
        let Some((_, prepared)) = kept else {
            let _ = tx.send(ended(Err(OperationError::Refused(strings::PLAN_GONE.into()))));
            return;
        };
        let op = match self.operator(&cluster) {
            Ok(op) => op,
            Err(e) => {
                let _ = tx.send(ended(Err(OperationError::Failed(e))));
                return;
            }
        };
        tokio::spawn(async move {
            let progress = tx.clone();
            let report = move |record: &Record| {
                let _ = progress.send(Event::OperationReport { id, record: Box::new(record.clone()) });
            };
            let result = match prepared.plan.kind {
                OpKind::Switchover => switchover::run(&op, *prepared, confirm.as_deref(), &report).await,
                OpKind::Failover => unplanned::run(&op, *prepared, confirm.as_deref(), &report).await,
                OpKind::Rejoin => rejoin::run(&op, *prepared, confirm.as_deref(), &report).await,
            };
            let result = result.map(Box::new).map_err(|e| {
                let text = format!("{e:#}");
                if e.downcast_ref::<switchover::Refused>().is_some() {
                    OperationError::Refused(text)
                } else {
                    OperationError::Failed(text)
                }
            });
            tracing::info!(id, %cluster, kind = kind.label(), ok = result.is_ok(), "operation ended");
            let _ = tx.send(Event::OperationEnded { id, cluster, kind, result });
        });
    }

    /// `:ack`: the same service as `myzoo ack` (state write and audit record), origin
    /// `console`; refused in read-only mode here too, whatever the screen checked.
    fn acknowledge(&self, cluster: String) {
        let tx = self.tx.clone();
        if self.read_only {
            let _ = tx.send(Event::Done { result: Err(strings::READ_ONLY_REFUSED.into()) });
            return;
        }
        let Some(client) = self.zk.client() else {
            let _ = tx.send(Event::Done { result: Err(strings::ack_failed(&cluster, strings::NOT_CONNECTED)) });
            return;
        };
        let paths = crate::cluster::ClusterPaths::new(&self.root, &cluster);
        tokio::spawn(async move {
            let result =
                crate::agent::coordinator::acknowledge(&client, &paths, &Actor::from_env(), Origin::Console.label())
                    .await
                    .map(|done| strings::acknowledged(&cluster, &done))
                    .map_err(|e| strings::ack_failed(&cluster, &format!("{e:#}")));
            let _ = tx.send(Event::Done { result });
        });
    }

    /// ZooKeeper never refuses a digest credential: it is checked against the root's ACL.
    fn check_auth(&self) {
        let Some(client) = self.zk.client() else { return };
        let (auth, root, tx) = (self.zk_auth.clone(), self.root.clone(), self.tx.clone());
        tokio::spawn(async move {
            let problem = crate::zk::auth::check(&client, auth.as_ref(), &root).await.err();
            let _ = tx.send(Event::AuthChecked { problem });
        });
    }

    /// An ACL change through the mutation service (guards, version check on the ACL version,
    /// audit record with the old and the new ACL).
    fn set_acl(&self, path: String, acl: Vec<crate::zk::AclEntry>, acl_version: i32, confirm: Option<String>) {
        use super::event::AclSetProblem;
        let Some(client) = self.zk.client() else {
            let result = Err(AclSetProblem::Failed(strings::NOT_CONNECTED.to_string()));
            let _ = self.tx.send(Event::AclSet { path, result });
            return;
        };
        let (ops, tx) = (self.ops(client), self.tx.clone());
        tokio::spawn(async move {
            let text = crate::zk::acl::text(&acl);
            let m = Mutation::SetAcl { path: path.clone(), acl, expected_aversion: Some(acl_version) };
            let result = match ops.apply(m, confirm.as_deref()).await {
                Ok(o) => Ok(with_audit_warning(strings::acl_set(&path, o.version_after), o.audit_error)),
                Err(OpError::NeedsConfirmation { cluster }) => {
                    Err(AclSetProblem::NeedsName { cluster, text, acl_version })
                }
                Err(e @ OpError::AclBadVersion { .. }) => Err(AclSetProblem::Conflict(e.to_string())),
                Err(e) => Err(AclSetProblem::Failed(e.to_string())),
            };
            let _ = tx.send(Event::AclSet { path, result });
        });
    }

    /// Revealing masked secrets is an audited action of its own.
    fn reveal(&self, path: String) {
        let Some(client) = self.zk.client() else { return self.not_connected(path) };
        let (ops, tx) = (self.ops(client), self.tx.clone());
        tokio::spawn(async move {
            let result = ops
                .apply(Mutation::RevealSecret { path: path.clone() }, None)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string());
            let _ = tx.send(Event::Revealed { path, result });
        });
    }
}

/// Runs the console until the operator quits or a signal arrives.
pub async fn run(opts: AppOptions, session_cfg: SessionConfig) -> anyhow::Result<()> {
    // Handlers first: a signal that arrives once the screen is up must never find the default
    // action (which would leave the terminal in raw mode on the alternate screen).
    let stop_signals = StopSignals::install();
    let guard = TerminalGuard::enter()?;
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    terminal.hide_cursor()?;
    let size = terminal.size()?;
    let mysql = opts.mysql.clone();
    let backup_store = opts.backup_store.clone();
    let ensemble_options = opts.ensemble.clone();
    let mut app = App::new(AppOptions { size: (size.width, size.height), now: SystemTime::now(), ..opts })
        .with_zk_auth(session_cfg.auth_label());
    let zk_auth = session_cfg.auth.clone();

    let (tx, rx) = mpsc::unbounded_channel::<Event>();
    let cancel = CancellationToken::new();
    let zk_tx = tx.clone();
    let sink: session::Sink = Arc::new(move |ev| {
        let _ = zk_tx.send(Event::Zk(ev));
    });
    let ensemble = session_cfg.connect.clone();
    let backups_zk = session_cfg.clone();
    let (zk, zk_task) = session::spawn(session_cfg, sink, cancel.clone());
    let tasks = vec![
        zk_task,
        tokio::spawn(read_terminal(tx.clone(), cancel.clone())),
        tokio::spawn(tick(tx.clone(), cancel.clone())),
        tokio::spawn(signals(stop_signals, tx.clone(), cancel.clone())),
    ];
    let executor = Executor::new(zk, tx, &app.shared().root, app.shared().read_only)
        .with_zk_auth(zk_auth)
        .with_clipboard()
        .with_mysql(mysql)
        .with_backups(backup_store, &backups_zk)
        .with_ensemble(&ensemble, ensemble_options);
    let result = event_loop(&mut app, &mut terminal, rx, &executor).await;
    executor.flush_drafts().await;

    cancel.cancel();
    let _ = tokio::time::timeout(Duration::from_millis(SHUTDOWN_WAIT_MS), futures::future::join_all(tasks)).await;
    drop(terminal);
    drop(guard);
    result
}

/// The loop proper, generic over the backend so tests and benchmarks can drive it.
pub async fn event_loop<B: Backend>(
    app: &mut App,
    terminal: &mut Terminal<B>,
    mut rx: UnboundedReceiver<Event>,
    executor: &Executor,
) -> anyhow::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    let frame_interval = Duration::from_millis(FRAME_INTERVAL_MS);
    let mut next_frame = Instant::now();
    // A resize since the last frame: the terminal may have cut or reflowed what was on screen
    // even when the size ends where it started (80×24 → 60×20 → 80×24 between two frames,
    // which ratatui, seeing no change of size, would only patch), so the frame repaints all.
    let mut resized = false;
    loop {
        if app.dirty() && Instant::now() >= next_frame {
            if std::mem::take(&mut resized) {
                repaint_all(terminal)?;
            }
            terminal.draw(|f| view::draw(f, app))?;
            app.frame_drawn();
            next_frame = Instant::now() + frame_interval;
        }
        let event = if app.dirty() {
            tokio::select! {
                ev = rx.recv() => ev,
                _ = tokio::time::sleep_until(next_frame) => continue,
            }
        } else {
            rx.recv().await
        };
        let Some(event) = event else { return Ok(()) };
        resized |= matches!(event, Event::Resize(..));
        apply(app, event, executor);
        for _ in 0..MAX_EVENTS_PER_FRAME {
            match rx.try_recv() {
                Ok(ev) => {
                    resized |= matches!(ev, Event::Resize(..));
                    apply(app, ev, executor)
                }
                Err(_) => break,
            }
        }
        if app.should_quit() {
            return Ok(());
        }
    }
}

/// Makes the next frame write every cell: the screen cleared and ratatui's idea of it reset.
/// Not `Terminal::clear`, which asks the terminal where its cursor is and, with the event
/// stream reading the answer, fails after a wait ("the cursor position could not be read").
pub(crate) fn repaint_all<B: Backend>(terminal: &mut Terminal<B>) -> Result<(), B::Error> {
    let size = terminal.size()?;
    terminal.resize(ratatui::layout::Rect::new(0, 0, size.width, size.height))
}

fn apply(app: &mut App, event: Event, executor: &Executor) {
    #[cfg(debug_assertions)]
    panic_if_asked(&event);
    for effect in app.update(event) {
        executor.run(effect);
    }
}

/// The [`TEST_PANIC_KEY_ENV`] hook; in the loop itself (not a task), so the panic ends the
/// process the way a real bug in `App::update` would.
#[cfg(debug_assertions)]
fn panic_if_asked(event: &Event) {
    static KEY: std::sync::OnceLock<Option<char>> = std::sync::OnceLock::new();
    let key = KEY.get_or_init(|| {
        let value = std::env::var(TEST_PANIC_KEY_ENV).ok()?;
        let mut chars = value.chars();
        chars.next().filter(|_| chars.next().is_none())
    });
    if let (Some(k), Event::Key(pressed)) = (key, event) {
        if pressed.code == crossterm::event::KeyCode::Char(*k) {
            panic!("{TEST_PANIC_MESSAGE}");
        }
    }
}

async fn read_terminal(tx: UnboundedSender<Event>, cancel: CancellationToken) {
    let mut events = EventStream::new();
    loop {
        let next = tokio::select! {
            _ = cancel.cancelled() => return,
            ev = events.next() => ev,
        };
        let ev = match next {
            Some(Ok(TermEvent::Key(k))) if k.kind != KeyEventKind::Release => Event::Key(k),
            Some(Ok(TermEvent::Resize(w, h))) => Event::Resize(w, h),
            Some(Ok(_)) => continue,
            Some(Err(e)) => {
                tracing::warn!(error = %e, "terminal input failed");
                Event::Signal
            }
            None => Event::Signal,
        };
        if tx.send(ev).is_err() {
            return;
        }
    }
}

async fn tick(tx: UnboundedSender<Event>, cancel: CancellationToken) {
    let mut interval = tokio::time::interval(Duration::from_millis(TICK_INTERVAL_MS));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = interval.tick() => {
                if tx.send(Event::Tick(SystemTime::now())).is_err() { return; }
            }
        }
    }
}

/// SIGTERM, SIGINT and SIGHUP, listened for from the moment they are installed.
struct StopSignals(Option<[tokio::signal::unix::Signal; 3]>);

impl StopSignals {
    fn install() -> StopSignals {
        use tokio::signal::unix::{signal, SignalKind};
        match (signal(SignalKind::terminate()), signal(SignalKind::interrupt()), signal(SignalKind::hangup())) {
            (Ok(term), Ok(int), Ok(hup)) => StopSignals(Some([term, int, hup])),
            _ => {
                tracing::warn!("cannot install signal handlers");
                StopSignals(None)
            }
        }
    }
}

async fn signals(stop: StopSignals, tx: UnboundedSender<Event>, cancel: CancellationToken) {
    let Some([mut term, mut int, mut hup]) = stop.0 else { return };
    tokio::select! {
        _ = cancel.cancelled() => return,
        _ = term.recv() => {}
        _ = int.recv() => {}
        _ = hup.recv() => {}
    }
    let _ = tx.send(Event::Signal);
}
