//! The backups screen: the backup store's ZooKeeper snapshots and the chosen cluster's MySQL
//! dumps, with the store's server; `b` takes a snapshot (asking for a note), `d` diffs the
//! selected snapshot against the live tree, `r` restores it (the dry-run plan first, then the
//! confirmation, then the run). Each of those is a job run by the executor off the loop, with
//! an id, progress events and a cancel token (`esc` asks to cancel it), and exactly one
//! finished event. Nothing here reads ZooKeeper or MySQL itself.

use ratatui::layout::Rect;
use ratatui::Frame;

use super::{Nav, Screen, ScreenId};
use crate::backup::{Progress, SnapshotMeta, SnapshotState};
use crate::console::dialogs::{CancelJobConfirm, RestoreConfirm};
use crate::console::event::Effect;
use crate::console::keymap::{Action, Scope};
use crate::console::overlays::{Input, Overlay};
use crate::console::shared::{Cx, Shared};
use crate::console::strings;
use crate::console::view::backups_pane;
use crate::zk::ZkEvent;

/// Rows a page key scrolls a diff or plan by.
pub const PANEL_PAGE_ROWS: usize = 10;

/// A job the screen asks the executor to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupJob {
    /// Snapshot the console's root into the store, with the operator's note.
    Snapshot { note: String },
    /// Snapshot `snapshot` against the live tree.
    Diff { snapshot: u64 },
    /// What restoring `snapshot` would do (a dry run: nothing is written).
    RestorePlan { snapshot: u64 },
    /// Restore `snapshot`; `confirm` is the production cluster name(s) as typed;
    /// `unchanged_since` is the plan's zxid, so a znode edited after the operator saw the plan
    /// is a conflict, not overwritten.
    Restore { snapshot: u64, confirm: Option<String>, unchanged_since: Option<i64> },
}

impl BackupJob {
    pub fn label(&self) -> &'static str {
        match self {
            BackupJob::Snapshot { .. } => "snapshot",
            BackupJob::Diff { .. } => "diff",
            BackupJob::RestorePlan { .. } => "restore plan",
            BackupJob::Restore { .. } => "restore",
        }
    }
}

/// A MySQL dump as the screen lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpRow {
    pub id: Option<u64>,
    pub node: String,
    pub gtid_position: Option<String>,
    pub bytes: u64,
    pub started_ms: i64,
    pub duration_ms: Option<i64>,
    pub state: String,
}

/// What the store holds, as the executor read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    /// `host:port` of the server read.
    pub server: String,
    pub database: String,
    pub writable: bool,
    /// Newest first.
    pub snapshots: Vec<SnapshotMeta>,
    /// The cluster's dumps, newest first; `None` when there is no cluster or no dump service.
    pub dumps: Option<Result<Vec<DumpRow>, String>>,
}

/// Why the store could not be listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreProblem {
    /// The profile names no backup store.
    NotConfigured(String),
    /// It is named but could not be opened or read.
    Unreachable(String),
}

/// What the screen knows of the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreState {
    /// Not asked yet.
    Unknown,
    Loading,
    Ready {
        server: String,
        database: String,
        writable: bool,
    },
    NotConfigured(String),
    Unreachable(String),
}

/// One znode added or removed, for the diff view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffEntry {
    pub path: String,
    pub bytes: usize,
}

/// One changed znode: what changed, as lines (a unified data diff, ACL or mode changes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffChange {
    pub path: String,
    pub lines: Vec<String>,
}

/// A snapshot compared with the live tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffView {
    pub snapshot: u64,
    /// What it was compared with (`live`, `snapshot 7`).
    pub against: String,
    /// In the live tree, not in the snapshot.
    pub added: Vec<DiffEntry>,
    /// In the snapshot, gone from the live tree.
    pub removed: Vec<DiffEntry>,
    pub changed: Vec<DiffChange>,
    pub unchanged: u64,
}

/// One restore action's count and first paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionTally {
    pub label: String,
    pub count: u64,
    pub sample: Vec<String>,
}

/// A restore's plan (dry run) or result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreView {
    pub snapshot: u64,
    pub dry_run: bool,
    pub cancelled: bool,
    pub policy: String,
    pub source: String,
    pub target: String,
    /// Every action, including those with no znode.
    pub actions: Vec<ActionTally>,
    pub problems: Vec<String>,
    /// The production cluster names a real run needs typed.
    pub confirmation_needed: Option<String>,
    pub duration_ms: u64,
    /// The newest change the plan saw (the run refuses to overwrite anything newer).
    pub planned_zxid: Option<i64>,
}

impl RestoreView {
    /// Znodes it writes (or would write).
    pub fn writes(&self) -> u64 {
        self.actions.iter().filter(|a| matches!(a.label.as_str(), "create" | "overwrite")).map(|a| a.count).sum()
    }

    pub fn count(&self, label: &str) -> u64 {
        self.actions.iter().find(|a| a.label == label).map_or(0, |a| a.count)
    }
}

/// How a job ended, when it produced something.
#[derive(Debug, Clone, PartialEq)]
pub enum BackupOutcome {
    Snapshot(Box<SnapshotMeta>),
    Diff(Box<DiffView>),
    RestorePlan(Box<RestoreView>),
    /// Done, or stopped by its cancel token (`cancelled`): what was written is in the counts.
    Restored(Box<RestoreView>),
}

/// Why a job produced nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// Its cancel token stopped it.
    Cancelled,
    /// Refused before anything changed (read-only, not confirmed, untrusted snapshot …).
    Refused(String),
    Failed(String),
}

/// What an overlay on this screen asks of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupRequest {
    /// The note was typed: take the snapshot.
    Snapshot { note: String },
    /// The restore was confirmed.
    Restore { snapshot: u64, confirm: Option<String> },
    /// Cancelling the running job was confirmed.
    Cancel { id: u64 },
}

/// The job this console runs now.
#[derive(Debug, Clone, PartialEq)]
pub struct RunningJob {
    pub id: u64,
    pub job: BackupJob,
    pub started_ms: i64,
    pub progress: Option<Progress>,
    /// The operator asked to cancel it; its finished event is awaited.
    pub cancelling: bool,
}

/// What the lower part of the screen shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Panel {
    /// The dumps.
    None,
    Diff {
        view: Box<DiffView>,
        scroll: usize,
    },
    Restore {
        view: Box<RestoreView>,
        scroll: usize,
    },
}

/// What the painter reads.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupsView {
    pub store: StoreState,
    pub cluster: Option<String>,
    pub snapshots: Vec<SnapshotMeta>,
    /// `None`: not listed (no cluster chosen, or no dump service in this build).
    pub dumps: Option<Result<Vec<DumpRow>, String>>,
    pub cursor: usize,
    pub job: Option<RunningJob>,
    pub panel: Panel,
    /// How the last job ended, and whether that was good news.
    pub last: Option<(String, bool)>,
}

impl BackupsView {
    pub fn selected(&self) -> Option<&SnapshotMeta> {
        self.snapshots.get(self.cursor)
    }
}

pub struct BackupsScreen {
    view: BackupsView,
    next_id: u64,
    /// The newest listing asked for; older answers are dropped.
    load_seq: u64,
}

impl BackupsScreen {
    pub fn new() -> BackupsScreen {
        BackupsScreen {
            view: BackupsView {
                store: StoreState::Unknown,
                cluster: None,
                snapshots: Vec::new(),
                dumps: None,
                cursor: 0,
                job: None,
                panel: Panel::None,
                last: None,
            },
            next_id: 0,
            load_seq: 0,
        }
    }

    pub fn view(&self) -> &BackupsView {
        &self.view
    }

    /// Whether this console runs a backup job now.
    pub fn running(&self) -> bool {
        self.view.job.is_some()
    }

    /// Follows the cluster chosen on the cluster screen (its dumps are listed).
    pub fn follow(&mut self, cluster: Option<&str>, cx: &mut Cx<'_>) {
        if self.view.cluster.as_deref() == cluster {
            return;
        }
        self.view.cluster = cluster.map(str::to_string);
        self.view.dumps = None;
        if self.view.store != StoreState::Unknown {
            self.load(cx);
        }
    }

    fn load(&mut self, cx: &mut Cx<'_>) {
        self.load_seq += 1;
        if !matches!(self.view.store, StoreState::Ready { .. }) {
            self.view.store = StoreState::Loading;
        }
        cx.effect(Effect::LoadBackups { seq: self.load_seq, cluster: self.view.cluster.clone() });
    }

    /// The executor's listing; an answer to an older request is dropped.
    pub fn loaded(&mut self, seq: u64, result: Result<Box<Listing>, StoreProblem>) -> bool {
        if seq != self.load_seq {
            return false;
        }
        match result {
            Ok(l) => {
                let l = *l;
                self.view.store = StoreState::Ready { server: l.server, database: l.database, writable: l.writable };
                // Keep the same snapshot selected when the list grows at the top.
                let selected = self.view.selected().map(|s| s.id);
                self.view.snapshots = l.snapshots;
                self.view.cursor = selected
                    .and_then(|id| self.view.snapshots.iter().position(|s| s.id == id))
                    .unwrap_or(self.view.cursor)
                    .min(self.view.snapshots.len().saturating_sub(1));
                self.view.dumps = l.dumps;
            }
            Err(StoreProblem::NotConfigured(why)) => {
                self.view.store = StoreState::NotConfigured(why);
                self.view.snapshots.clear();
                self.view.cursor = 0;
            }
            Err(StoreProblem::Unreachable(why)) => self.view.store = StoreState::Unreachable(why),
        }
        true
    }

    /// Starts `job` unless one runs already (one at a time per console).
    fn start(&mut self, job: BackupJob, cx: &mut Cx<'_>) {
        if let Some(running) = &self.view.job {
            cx.error(strings::backup_job_busy(running.job.label()));
            return;
        }
        self.next_id += 1;
        let id = self.next_id;
        self.view.job = Some(RunningJob {
            id,
            job: job.clone(),
            started_ms: cx.shared.now_ms(),
            progress: None,
            cancelling: false,
        });
        cx.effect(Effect::BackupJob { id, job });
    }

    fn store_usable(&self, cx: &mut Cx<'_>) -> bool {
        match &self.view.store {
            StoreState::NotConfigured(_) => {
                cx.error(strings::NO_BACKUP_STORE);
                false
            }
            _ => true,
        }
    }

    fn selected_snapshot(&self, cx: &mut Cx<'_>) -> Option<u64> {
        match self.view.selected() {
            Some(s) if s.state == SnapshotState::Complete => Some(s.id),
            Some(s) => {
                cx.error(strings::snapshot_not_complete(s.id, s.state.label()));
                None
            }
            None => {
                cx.error(strings::NO_SNAPSHOT_SELECTED);
                None
            }
        }
    }

    /// An overlay's answer: the note typed, the restore confirmed, the cancel confirmed.
    pub fn request(&mut self, req: BackupRequest, cx: &mut Cx<'_>) {
        match req {
            BackupRequest::Snapshot { note } => self.start(BackupJob::Snapshot { note: note.trim().to_string() }, cx),
            BackupRequest::Restore { snapshot, confirm } => {
                if cx.shared.read_only {
                    cx.error(strings::READ_ONLY_REFUSED_RESTORE);
                    return;
                }
                // The run carries out the plan on screen: anything changed since it was read is
                // a conflict.
                let planned = match &self.view.panel {
                    Panel::Restore { view, .. } if view.dry_run && view.snapshot == snapshot => Some(view.planned_zxid),
                    _ => None,
                };
                let Some(unchanged_since) = planned else {
                    cx.error(strings::RESTORE_PLAN_FIRST);
                    return;
                };
                self.start(BackupJob::Restore { snapshot, confirm, unchanged_since }, cx);
            }
            BackupRequest::Cancel { id } => {
                if let Some(job) = self.view.job.as_mut().filter(|j| j.id == id) {
                    job.cancelling = true;
                    cx.effect(Effect::CancelBackupJob(id));
                }
            }
        }
    }

    /// Progress of our job (another job's, or a late one, is dropped).
    pub fn progress(&mut self, id: u64, progress: crate::backup::Progress) -> bool {
        match self.view.job.as_mut().filter(|j| j.id == id) {
            Some(job) => {
                job.progress = Some(progress);
                true
            }
            None => false,
        }
    }

    /// Our job ended: the result goes into the view and a notice; after a snapshot or a
    /// restore the list is read again. A restore plan that writes something opens the
    /// confirmation (returned for the app to open).
    pub fn ended(&mut self, id: u64, result: Result<BackupOutcome, JobError>, cx: &mut Cx<'_>) -> Option<Overlay> {
        let job = self.view.job.take_if(|j| j.id == id)?;
        let label = job.job.label();
        let mut confirm = None;
        let (text, ok) = match result {
            Ok(BackupOutcome::Snapshot(meta)) => {
                self.load(cx);
                (strings::snapshot_taken(&meta), true)
            }
            Ok(BackupOutcome::Diff(diff)) => {
                let text = strings::diff_done(&diff);
                self.view.panel = Panel::Diff { view: diff, scroll: 0 };
                (text, true)
            }
            Ok(BackupOutcome::RestorePlan(plan)) => {
                let text = strings::restore_planned(&plan);
                if cx.shared.read_only {
                    cx.info(strings::READ_ONLY_RESTORE_PLAN_ONLY);
                } else if plan.writes() > 0 {
                    confirm = Some(Overlay::Restore(Box::new(RestoreConfirm::new(&plan))));
                }
                self.view.panel = Panel::Restore { view: plan, scroll: 0 };
                (text, true)
            }
            Ok(BackupOutcome::Restored(report)) => {
                self.load(cx);
                let text = strings::restore_done(&report);
                let ok = !report.cancelled && report.count("failed") == 0 && report.count("conflict") == 0;
                self.view.panel = Panel::Restore { view: report, scroll: 0 };
                (text, ok)
            }
            Err(JobError::Cancelled) => {
                if matches!(job.job, BackupJob::Snapshot { .. }) {
                    self.load(cx);
                }
                (strings::job_cancelled(label), false)
            }
            Err(JobError::Refused(why)) => (strings::job_refused(label, &why), false),
            Err(JobError::Failed(why)) => (strings::job_failed(label, &why), false),
        };
        if ok {
            cx.info(text.clone());
        } else {
            cx.error(text.clone());
        }
        self.view.last = Some((text, ok));
        confirm
    }

    /// `r`: the dry-run plan first.
    fn plan_restore(&mut self, cx: &mut Cx<'_>) {
        if !self.store_usable(cx) {
            return;
        }
        if let Some(snapshot) = self.selected_snapshot(cx) {
            self.start(BackupJob::RestorePlan { snapshot }, cx);
        }
    }

    /// `X`: the confirmation again for the plan on screen.
    fn confirm_restore(&mut self, cx: &mut Cx<'_>) -> Nav {
        let Panel::Restore { view, .. } = &self.view.panel else {
            cx.error(strings::NO_RESTORE_PLAN);
            return Nav::Done;
        };
        if !view.dry_run {
            cx.error(strings::NO_RESTORE_PLAN);
            return Nav::Done;
        }
        if cx.shared.read_only {
            cx.error(strings::READ_ONLY_REFUSED_RESTORE);
            return Nav::Done;
        }
        if view.writes() == 0 {
            cx.info(strings::RESTORE_NOTHING_TO_DO);
            return Nav::Done;
        }
        Nav::Open(Overlay::Restore(Box::new(RestoreConfirm::new(view))))
    }

    fn scroll_panel(&mut self, action: Action) -> bool {
        let (scroll, len) = match &mut self.view.panel {
            Panel::None => return false,
            Panel::Diff { view, scroll } => (scroll, backups_pane::diff_line_count(view)),
            Panel::Restore { view, scroll } => (scroll, backups_pane::restore_line_count(view)),
        };
        let last = len.saturating_sub(1);
        *scroll = match action {
            Action::Up => scroll.saturating_sub(1),
            Action::Down => (*scroll + 1).min(last),
            Action::PageUp => scroll.saturating_sub(PANEL_PAGE_ROWS),
            Action::PageDown => (*scroll + PANEL_PAGE_ROWS).min(last),
            Action::Top => 0,
            Action::Bottom => last,
            _ => return false,
        };
        true
    }
}

impl Default for BackupsScreen {
    fn default() -> Self {
        BackupsScreen::new()
    }
}

impl Screen for BackupsScreen {
    fn scope(&self) -> Scope {
        Scope::Backups
    }

    fn on_action(&mut self, action: Action, cx: &mut Cx<'_>) -> Nav {
        // With a diff or plan open, the movement keys scroll it; else they move in the list.
        if self.scroll_panel(action) {
            return Nav::Done;
        }
        let len = self.view.snapshots.len();
        if super::move_list_cursor(&mut self.view.cursor, action, len) {
            return Nav::Done;
        }
        match action {
            Action::NewSnapshot => {
                if self.store_usable(cx) {
                    return Nav::Open(Overlay::Input(Input::snapshot_note()));
                }
            }
            Action::DiffSnapshot => {
                if self.store_usable(cx) {
                    if let Some(snapshot) = self.selected_snapshot(cx) {
                        self.start(BackupJob::Diff { snapshot }, cx);
                    }
                }
            }
            Action::RestoreSnapshot => self.plan_restore(cx),
            Action::RunPlan => return self.confirm_restore(cx),
            Action::Reload => self.load(cx),
            Action::Back => {
                if let Some(job) = &self.view.job {
                    return Nav::Open(Overlay::CancelJob(CancelJobConfirm::new(job.id, job.job.label())));
                }
                if self.view.panel != Panel::None {
                    self.view.panel = Panel::None;
                } else {
                    return Nav::Show(ScreenId::Cluster);
                }
            }
            _ => return Nav::Pass,
        }
        Nav::Done
    }

    fn on_zk(&mut self, _ev: &ZkEvent, _cx: &mut Cx<'_>) -> bool {
        false
    }

    /// A running job's elapsed time moves while it is on screen.
    fn on_tick(&mut self, shown: bool, _cx: &mut Cx<'_>) -> bool {
        shown && self.view.job.is_some()
    }

    fn on_show(&mut self, cx: &mut Cx<'_>) {
        if self.view.store == StoreState::Unknown {
            self.load(cx);
        }
    }

    fn reload(&mut self, cx: &mut Cx<'_>) {
        if self.view.store != StoreState::Unknown {
            self.load(cx);
        }
    }

    fn command(&mut self, cmd: &str, _arg: &str, _cx: &mut Cx<'_>) -> Option<Nav> {
        (cmd == "backups" || cmd == "backup").then_some(Nav::Show(ScreenId::Backups))
    }

    fn status_line(&self) -> String {
        let total = self.view.snapshots.len();
        let pos = if total == 0 { 0 } else { self.view.cursor + 1 };
        strings::backups_status_line(&self.view.store, pos, total)
    }

    fn draw(&self, frame: &mut Frame<'_>, area: Rect, sh: &Shared) {
        backups_pane::draw(frame, sh, &self.view, area);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::keymap::KeyMap;
    use crate::console::shared::Notices;
    use crate::console::theme::Theme;
    use std::time::{Duration, UNIX_EPOCH};

    fn shared(read_only: bool) -> Shared {
        Shared {
            label: "t".into(),
            root: "/myzoo".into(),
            read_only,
            drafts_dir: std::env::temp_dir(),
            theme: Theme::builtin("dark").unwrap(),
            keymap: KeyMap::default(),
            size: (80, 24),
            now: UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            session: crate::zk::SessionBadge::Connected,
            session_member: None,
            stale_since: None,
            generation: 1,
            revealed: Default::default(),
            zk_auth: None,
            auth_problem: None,
        }
    }

    fn meta(id: u64, state: SnapshotState) -> SnapshotMeta {
        SnapshotMeta {
            id,
            state,
            ensemble: "127.0.0.1:2181".into(),
            root: "/myzoo".into(),
            include_ephemeral: false,
            started_ms: 1_800_000_000_000,
            finished_ms: Some(1_800_000_001_000),
            znodes: 10,
            bytes: 100,
            min_zxid: None,
            max_zxid: None,
            checksum: None,
            operator: "alice".into(),
            host: "h".into(),
            origin: "console".into(),
            note: String::new(),
            error: None,
        }
    }

    fn listing(snapshots: Vec<SnapshotMeta>) -> Box<Listing> {
        Box::new(Listing {
            server: "127.0.0.1:3306".into(),
            database: "myzoo_backup".into(),
            writable: true,
            snapshots,
            dumps: None,
        })
    }

    /// Runs `f` with a context; returns the effects it asked for.
    fn with_cx<T>(sh: &Shared, notices: &mut Notices, f: impl FnOnce(&mut Cx<'_>) -> T) -> (T, Vec<Effect>) {
        let mut effects = Vec::new();
        let out = f(&mut Cx::new(sh, &mut effects, notices));
        (out, effects)
    }

    fn loaded_screen(sh: &Shared, n: &mut Notices) -> BackupsScreen {
        let mut s = BackupsScreen::new();
        let ((), fx) = with_cx(sh, n, |cx| s.on_show(cx));
        assert_eq!(fx, vec![Effect::LoadBackups { seq: 1, cluster: None }]);
        assert!(s.loaded(1, Ok(listing(vec![meta(2, SnapshotState::Complete), meta(1, SnapshotState::Failed)]))));
        s
    }

    #[test]
    fn keys_become_jobs_one_at_a_time() {
        let sh = shared(false);
        let mut n = Notices::default();
        let mut s = loaded_screen(&sh, &mut n);
        // b asks for the note first.
        let (nav, fx) = with_cx(&sh, &mut n, |cx| s.on_action(Action::NewSnapshot, cx));
        assert!(matches!(nav, Nav::Open(Overlay::Input(_))) && fx.is_empty());
        let ((), fx) = with_cx(&sh, &mut n, |cx| s.request(BackupRequest::Snapshot { note: " before x ".into() }, cx));
        assert_eq!(fx, vec![Effect::BackupJob { id: 1, job: BackupJob::Snapshot { note: "before x".into() } }]);
        // A second job while one runs is refused.
        let (_, fx) = with_cx(&sh, &mut n, |cx| s.on_action(Action::DiffSnapshot, cx));
        assert!(fx.is_empty());
        assert!(n.latest().unwrap().text.contains("already"), "{:?}", n.latest());
        // esc asks to cancel; y cancels the token.
        let (nav, _) = with_cx(&sh, &mut n, |cx| s.on_action(Action::Back, cx));
        assert!(matches!(nav, Nav::Open(Overlay::CancelJob(_))));
        let ((), fx) = with_cx(&sh, &mut n, |cx| s.request(BackupRequest::Cancel { id: 1 }, cx));
        assert_eq!(fx, vec![Effect::CancelBackupJob(1)]);
        assert!(s.view().job.as_ref().unwrap().cancelling);
        // The one finished event says cancelled and the list is read again.
        let (confirm, fx) = with_cx(&sh, &mut n, |cx| s.ended(1, Err(JobError::Cancelled), cx));
        assert!(confirm.is_none() && !s.running());
        assert_eq!(fx, vec![Effect::LoadBackups { seq: 2, cluster: None }]);
        assert!(n.latest().unwrap().text.contains("cancelled"), "{:?}", n.latest());
        // A late duplicate changes nothing.
        let (confirm, fx) = with_cx(&sh, &mut n, |cx| s.ended(1, Err(JobError::Cancelled), cx));
        assert!(confirm.is_none() && fx.is_empty());
    }

    #[test]
    fn diff_and_restore_take_the_selected_complete_snapshot() {
        let sh = shared(false);
        let mut n = Notices::default();
        let mut s = loaded_screen(&sh, &mut n);
        let (_, fx) = with_cx(&sh, &mut n, |cx| s.on_action(Action::DiffSnapshot, cx));
        assert_eq!(fx, vec![Effect::BackupJob { id: 1, job: BackupJob::Diff { snapshot: 2 } }]);
        let diff = DiffView {
            snapshot: 2,
            against: "live".into(),
            added: vec![],
            removed: vec![DiffEntry { path: "/myzoo/x".into(), bytes: 3 }],
            changed: vec![],
            unchanged: 9,
        };
        with_cx(&sh, &mut n, |cx| s.ended(1, Ok(BackupOutcome::Diff(Box::new(diff))), cx));
        assert!(matches!(s.view().panel, Panel::Diff { .. }));
        // Movement scrolls the open diff, not the list; esc closes it.
        with_cx(&sh, &mut n, |cx| s.on_action(Action::Down, cx));
        assert_eq!(s.view().cursor, 0);
        assert!(matches!(s.view().panel, Panel::Diff { scroll: 1, .. }));
        with_cx(&sh, &mut n, |cx| s.on_action(Action::Back, cx));
        assert_eq!(s.view().panel, Panel::None);
        // The failed snapshot cannot be restored.
        with_cx(&sh, &mut n, |cx| s.on_action(Action::Down, cx));
        let (_, fx) = with_cx(&sh, &mut n, |cx| s.on_action(Action::RestoreSnapshot, cx));
        assert!(fx.is_empty());
        assert!(n.latest().unwrap().text.contains("failed"), "{:?}", n.latest());
        // The complete one: the dry-run plan, then the confirmation opens by itself.
        with_cx(&sh, &mut n, |cx| s.on_action(Action::Top, cx));
        let (_, fx) = with_cx(&sh, &mut n, |cx| s.on_action(Action::RestoreSnapshot, cx));
        assert_eq!(fx, vec![Effect::BackupJob { id: 2, job: BackupJob::RestorePlan { snapshot: 2 } }]);
        let plan = restore_view(true, 1);
        let (confirm, _) = with_cx(&sh, &mut n, |cx| s.ended(2, Ok(BackupOutcome::RestorePlan(Box::new(plan))), cx));
        assert!(matches!(confirm, Some(Overlay::Restore(_))));
        let ((), fx) = with_cx(&sh, &mut n, |cx| s.request(BackupRequest::Restore { snapshot: 2, confirm: None }, cx));
        let job = BackupJob::Restore { snapshot: 2, confirm: None, unchanged_since: Some(77) };
        assert_eq!(fx, vec![Effect::BackupJob { id: 3, job }]);
        let (_, fx) =
            with_cx(&sh, &mut n, |cx| s.ended(3, Ok(BackupOutcome::Restored(Box::new(restore_view(false, 1)))), cx));
        assert_eq!(fx, vec![Effect::LoadBackups { seq: 2, cluster: None }], "the list is read again");
        assert!(matches!(&s.view().panel, Panel::Restore { view, .. } if !view.dry_run));
        assert!(s.view().last.as_ref().is_some_and(|(_, ok)| *ok));
    }

    fn restore_view(dry_run: bool, create: u64) -> RestoreView {
        RestoreView {
            snapshot: 2,
            dry_run,
            cancelled: false,
            policy: "skip-existing".into(),
            source: "/myzoo".into(),
            target: "/myzoo".into(),
            actions: vec![
                ActionTally { label: "create".into(), count: create, sample: vec!["/myzoo/x".into()] },
                ActionTally { label: "unchanged".into(), count: 9, sample: vec![] },
            ],
            problems: vec![],
            confirmation_needed: None,
            duration_ms: 12,
            planned_zxid: Some(77),
        }
    }

    #[test]
    fn read_only_shows_the_plan_and_refuses_the_restore() {
        let sh = shared(true);
        let mut n = Notices::default();
        let mut s = loaded_screen(&sh, &mut n);
        with_cx(&sh, &mut n, |cx| s.on_action(Action::RestoreSnapshot, cx));
        let (confirm, _) =
            with_cx(&sh, &mut n, |cx| s.ended(1, Ok(BackupOutcome::RestorePlan(Box::new(restore_view(true, 1)))), cx));
        assert!(confirm.is_none(), "no confirmation in read-only mode");
        let (nav, _) = with_cx(&sh, &mut n, |cx| s.on_action(Action::RunPlan, cx));
        assert!(matches!(nav, Nav::Done));
        assert!(n.latest().unwrap().text.contains("read-only"), "{:?}", n.latest());
        let ((), fx) = with_cx(&sh, &mut n, |cx| s.request(BackupRequest::Restore { snapshot: 2, confirm: None }, cx));
        assert!(fx.is_empty(), "refused before anything runs");
    }

    #[test]
    fn progress_and_listings_are_matched_to_their_request() {
        let sh = shared(false);
        let mut n = Notices::default();
        let mut s = loaded_screen(&sh, &mut n);
        assert!(!s.progress(7, Progress::default()), "no such job");
        with_cx(&sh, &mut n, |cx| s.request(BackupRequest::Snapshot { note: String::new() }, cx));
        let p = Progress { phase: "reading".into(), done: 5, total: Some(10), ..Progress::default() };
        assert!(s.progress(1, p.clone()));
        assert_eq!(s.view().job.as_ref().unwrap().progress, Some(p));
        // An older listing never replaces a newer one; a missing store is a notice state.
        with_cx(&sh, &mut n, |cx| s.on_action(Action::Reload, cx));
        assert!(!s.loaded(1, Ok(listing(vec![]))));
        assert!(s.loaded(2, Err(StoreProblem::Unreachable("refused".into()))));
        assert_eq!(s.view().store, StoreState::Unreachable("refused".into()));
        assert_eq!(s.view().snapshots.len(), 2, "the last listing stays on screen");
        with_cx(&sh, &mut n, |cx| s.on_action(Action::Reload, cx));
        assert!(s.loaded(3, Err(StoreProblem::NotConfigured("none".into()))));
        let (nav, fx) = with_cx(&sh, &mut n, |cx| s.on_action(Action::NewSnapshot, cx));
        assert!(matches!(nav, Nav::Done) && fx.is_empty(), "no snapshot without a store");
    }
}
