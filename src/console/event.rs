//! What flows through the console's one channel ([`Event`]) and what `App::update` asks the
//! runtime to do ([`Effect`]).

use std::time::SystemTime;

use crossterm::event::KeyEvent;

use super::draft::Draft;
use super::editor::Problem;
use super::screens::backups::{BackupJob, BackupOutcome, JobError, Listing, StoreProblem};
use crate::failover::journal::Record;
use crate::failover::plan::{OpKind, Plan};
use crate::zk::{NodeInfo, ZkEvent};

#[derive(Debug, Clone)]
pub enum Event {
    /// A key press (releases are dropped before they get here).
    Key(KeyEvent),
    /// The terminal's new size in columns and rows.
    Resize(u16, u16),
    /// The clock moved on; carries the time so that `update` stays a pure function.
    Tick(SystemTime),
    /// A ZooKeeper result.
    Zk(ZkEvent),
    /// SIGTERM, SIGINT or SIGHUP: leave cleanly.
    Signal,
    /// A znode read fresh for editing, with the draft kept for it, if any.
    EditorOpened { node: NodeInfo, draft: Option<Draft>, draft_error: Option<String> },
    /// Background validation of the editor's text.
    Validated { generation: u64, problems: Vec<Problem> },
    /// How a save ended.
    Saved { path: String, result: SaveResult },
    /// A create or delete finished: the notice to show.
    Done { result: Result<String, String> },
    /// What a delete would remove, and the production cluster name to type if any.
    DeletePlanned { result: Result<(crate::ops::DeletePlan, Option<String>), String> },
    /// Audit records, newest first.
    AuditLoaded { filter: Option<String>, result: Result<Vec<(String, crate::audit::AuditRecord)>, String> },
    /// The audited reveal of a znode's masked secrets: allowed, or why not.
    Revealed { path: String, result: Result<(), String> },
    /// A search (`:find`, job `id`) moved on: what it found since the last report, the counts
    /// so far and the time since it started.
    Found { id: u64, items: Vec<crate::zk::find::Found>, progress: crate::zk::find::FindProgress, elapsed_ms: u64 },
    /// The search ended: finished (or cancelled) with its counts, or why it stopped.
    FindFinished { id: u64, result: Result<crate::zk::find::FindProgress, String>, elapsed_ms: u64 },
    /// A plan for operation `id` (fresh probes; nothing changed), or why none could be made
    /// (no credentials, ZooKeeper or MySQL unreachable).
    Planned { id: u64, cluster: String, kind: OpKind, result: Result<Planned, String> },
    /// Operation `id`, run by this console, moved on: its journal record as it now stands.
    OperationReport { id: u64, record: Box<Record> },
    /// Operation `id` ended: its final record (done, rolled back, failed), or why it did not
    /// run or stopped without a record (refused: nothing changed).
    OperationEnded { id: u64, cluster: String, kind: OpKind, result: Result<Box<Record>, OperationError> },
    /// The backup store's snapshots (and the cluster's dumps), or why the store could not be
    /// read; `seq` is the request's, so an older answer never replaces a newer one.
    BackupsLoaded { seq: u64, result: Result<Box<Listing>, StoreProblem> },
    /// Backup job `id` moved on (at most ~10 a second).
    BackupProgress { id: u64, progress: crate::backup::Progress },
    /// Backup job `id` ended: exactly one per job, cancelled ones included.
    BackupJobEnded { id: u64, result: Result<BackupOutcome, JobError> },
    /// The ensemble read for request `seq` (every member asked), or why it could not be.
    EnsembleLoaded { seq: u64, result: Result<Box<crate::zk::ensemble::EnsembleReport>, String> },
    /// The console's credential checked against the root's ACL (once per session): the problem
    /// (a wrong password), or `None`.
    AuthChecked { problem: Option<String> },
    /// An ACL change ended: the notice to show, or why it did not happen.
    AclSet { path: String, result: Result<String, AclSetProblem> },
}

/// Why an ACL change did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AclSetProblem {
    /// A production cluster's znode: the form opens again asking for the cluster's name.
    NeedsName { cluster: String, text: String, acl_version: i32 },
    /// Someone else changed the ACL first; nothing was overwritten.
    Conflict(String),
    /// Refused or failed (read-only, NoAuth, an invalid ACL …).
    Failed(String),
}

/// A plan as the console shows it, and what the confirmation needs to know.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub plan: Box<Plan>,
    /// A production cluster: running needs its name typed.
    pub production: bool,
}

/// Why an operation did not produce a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperationError {
    /// Refused before anything changed (read-only, lock held, plan refuses, not confirmed).
    Refused(String),
    /// It could not start or its journal could not be written.
    Failed(String),
}

/// The outcome of a write, as the editor needs it.
#[derive(Debug, Clone, PartialEq)]
pub enum SaveResult {
    Saved {
        version: i32,
        audit_warning: Option<String>,
    },
    /// Someone else wrote first; their data and stat.
    Conflict(NodeInfo),
    /// Read-only mode, size limit …: nothing was written.
    Refused(String),
    /// A production cluster: the operator must type this cluster's name.
    NeedsName(String),
    Failed(String),
}

/// I/O requested by `update`; the runtime runs it and feeds the result back as an [`Event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    LoadChildren(String),
    FetchNode(String),
    FetchAcl(String),
    /// Which znodes' changes the watch should read (everything else is skipped).
    Interest(std::sync::Arc<crate::zk::watch::Interest>),
    /// Read a znode fresh (and its draft) to edit it.
    OpenEditor {
        path: String,
        drafts_dir: std::path::PathBuf,
    },
    /// Validate a large text off the event loop.
    Validate {
        text: String,
        generation: u64,
        schema: Option<String>,
    },
    /// A version-checked write of edited data.
    Save {
        path: String,
        data: Vec<u8>,
        expected_version: i32,
        confirm: Option<String>,
    },
    /// The audited reveal of masked secrets.
    Reveal(String),
    Create {
        path: String,
        data: Vec<u8>,
        mode: crate::ops::NodeMode,
    },
    PlanDelete(String),
    Delete {
        path: String,
        version: i32,
        recursive: bool,
        confirm: Option<String>,
    },
    /// Put text on the operator's clipboard (OSC 52: works over SSH and through tmux).
    Copy(String),
    LoadAudit(Option<String>),
    /// Search the subtree at `root` for `pattern` (a regular expression, checked already)
    /// in names and data, as job `id`; with `secrets`, for znodes holding password-like keys in
    /// plain text instead (`:secrets`; `pattern` is empty).
    Find {
        id: u64,
        root: String,
        pattern: String,
        secrets: bool,
    },
    /// Stop search job `id` (its finished event still comes).
    CancelFind(u64),
    SaveDraft {
        dir: std::path::PathBuf,
        draft: Draft,
    },
    DropDraft {
        dir: std::path::PathBuf,
        path: String,
    },
    /// Plan operation `kind` on `cluster` as job `id` (fresh probes; changes nothing); `to`
    /// asks for a particular node. The executor keeps what running it needs.
    PlanOperation {
        id: u64,
        kind: OpKind,
        cluster: String,
        to: Option<String>,
    },
    /// Run the plan made as job `id`, confirmed by the operator (`confirm`: the production
    /// cluster's name as typed). Reports come back as [`Event::OperationReport`], then one
    /// [`Event::OperationEnded`].
    RunOperation {
        id: u64,
        kind: OpKind,
        cluster: String,
        confirm: Option<String>,
    },
    /// Acknowledge `cluster`'s last automatic failover (`:ack`, as `myzoo ack`): the result
    /// comes back as [`Event::Done`].
    Acknowledge {
        cluster: String,
    },
    /// Open the backup store (in the executor: never on the loop) and list its snapshots and
    /// `cluster`'s dumps; the answer is [`Event::BackupsLoaded`] with `seq`.
    LoadBackups {
        seq: u64,
        cluster: Option<String>,
    },
    /// Run a backup job (snapshot, diff, restore plan, restore) as job `id` with a cancel
    /// token: [`Event::BackupProgress`] as it goes, then one [`Event::BackupJobEnded`].
    BackupJob {
        id: u64,
        job: BackupJob,
    },
    /// Cancel backup job `id` (its finished event still comes, saying cancelled).
    CancelBackupJob(u64),
    /// Check the console's credential against the root's ACL: [`Event::AuthChecked`].
    CheckAuth,
    /// Replace a znode's ACL through the mutation service, checked against `acl_version` (the
    /// ACL version the operator saw): [`Event::AclSet`].
    SetAcl {
        path: String,
        acl: Vec<crate::zk::AclEntry>,
        acl_version: i32,
        confirm: Option<String>,
    },
    /// Ask every ensemble member about itself (`zk::ensemble::read`); the answer is
    /// [`Event::EnsembleLoaded`] with `seq`.
    LoadEnsemble {
        seq: u64,
    },
}
