//! The console's state and `App::update`, the only place it changes. Rendering reads it.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::clusters::ClusterStore;
use super::dialogs::{CreateForm, DeleteConfirm, DialogResult};
use super::draft::Draft;
use super::editor::{self, Editor, EditorKind, Request};
use super::event::SaveResult;
use super::event::{Effect, Event};
use super::keymap::{Action, Key, KeyMap, Scope};
use super::strings;
use super::theme::Theme;
use super::tree::TreeModel;
use super::view::layout;
use crate::secrets;
use crate::zk::format::{render_data, render_data_limited, DataKind, DataView};
use crate::zk::{parent_path, AclEntry, SessionBadge, ZkEvent};

/// How long a notice stays in the status line.
pub const NOTICE_TTL_MS: u64 = 5_000;
/// Slack on top of the slowest agent heartbeat before a silent watch is reported (an agent's
/// write, the notification and our tick each take a little while).
pub const WATCH_SILENCE_GRACE_MS: u64 = 2_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    /// The cluster screen: topology and node table.
    Cluster,
    /// The audit log screen.
    Audit,
    /// The znode tree screen's left pane…
    Tree,
    /// …and its right pane.
    Detail,
}

impl Pane {
    pub fn scope(self) -> Scope {
        match self {
            Pane::Cluster | Pane::Audit => Scope::Cluster,
            Pane::Tree => Scope::Tree,
            Pane::Detail => Scope::Detail,
        }
    }

    fn next(self) -> Pane {
        match self {
            Pane::Cluster | Pane::Audit => Pane::Tree,
            Pane::Tree => Pane::Detail,
            Pane::Detail => Pane::Cluster,
        }
    }

    fn prev(self) -> Pane {
        self.next().next()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Command,
    Filter,
}

/// The key-routing layer on top: help, editor and input get keys before the panes.
pub enum Mode {
    Normal,
    Help,
    /// A node's full status, over the cluster pane.
    NodeDetail {
        node: String,
        scroll: u16,
    },
    Input {
        kind: InputKind,
        text: String,
    },
    /// Editing (or viewing read-only) a znode's data.
    Editor(Box<Editor>),
    Create(CreateForm),
    Delete(DeleteConfirm),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeLevel {
    Info,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub level: NoticeLevel,
    pub expires_at: SystemTime,
}

/// The selected znode's data, formatted once per change instead of once per frame.
#[derive(Debug, Clone)]
pub struct DetailCache {
    pub path: String,
    pub mzxid: i64,
    pub czxid: i64,
    pub view: Arc<DataView>,
}

/// How the console was started: shown in the header and used for reloads.
#[derive(Debug, Clone)]
pub struct AppOptions {
    pub label: String,
    pub root: String,
    pub read_only: bool,
    pub theme: Theme,
    pub keymap: KeyMap,
    pub size: (u16, u16),
    pub now: SystemTime,
    /// Where unsaved edits are kept (`<state>/drafts`).
    pub drafts_dir: std::path::PathBuf,
}

pub struct App {
    pub label: String,
    pub drafts_dir: std::path::PathBuf,
    pub root: String,
    pub read_only: bool,
    pub theme: Theme,
    pub keymap: KeyMap,
    pub size: (u16, u16),
    pub now: SystemTime,
    pub session: SessionBadge,
    /// Since when the data on screen may be old (disconnected, expired, not yet reloaded).
    pub stale_since: Option<SystemTime>,
    /// When the watch last delivered anything (or the session became ready).
    pub watch_heard: Option<SystemTime>,
    /// Set while agents are registered but the watch has been silent for longer than their
    /// slowest heartbeat: the live view may have stopped without any error. Holds the time of
    /// the last thing heard.
    pub watch_silent_since: Option<SystemTime>,
    pub tree: TreeModel,
    pub tree_offset: usize,
    pub clusters: ClusterStore,
    /// The audit screen's records (newest first) and the path filter they were read with.
    pub audit: Option<AuditView>,
    /// Once the operator picks a screen, start-up no longer switches it for them.
    screen_chosen: bool,
    /// What the watch was last told to read: (tree structure version, selected cluster).
    interest_sent: Option<(u64, Option<String>)>,
    pub focus: Pane,
    pub detail_scroll: u16,
    pub mode: Mode,
    pub notices: VecDeque<Notice>,
    pub detail: Option<DetailCache>,
    pub acls: HashMap<String, (i32, Result<Vec<AclEntry>, String>)>,
    /// Znodes whose secrets the operator revealed (an audited action) in this session.
    pub revealed: std::collections::HashSet<String>,
    /// The path `:goto` (or start-up) wants selected once it has been read.
    pub pending_goto: Option<String>,
    pub generation: u64,
    /// How often a session became ready (first connect, reconnects, new sessions): each time,
    /// what is shown was read again.
    pub reloads: u64,
    pub dirty: bool,
    pub should_quit: bool,
}

impl App {
    pub fn new(o: AppOptions) -> App {
        App {
            label: o.label,
            drafts_dir: o.drafts_dir,
            pending_goto: Some(o.root.clone()),
            clusters: ClusterStore::new(&o.root),
            audit: None,
            root: o.root,
            read_only: o.read_only,
            theme: o.theme,
            keymap: o.keymap,
            size: o.size,
            now: o.now,
            session: SessionBadge::Connecting,
            stale_since: None,
            watch_heard: None,
            watch_silent_since: None,
            tree: TreeModel::default(),
            tree_offset: 0,
            screen_chosen: false,
            interest_sent: None,
            focus: Pane::Tree,
            detail_scroll: 0,
            mode: Mode::Normal,
            notices: VecDeque::new(),
            detail: None,
            acls: HashMap::new(),
            revealed: Default::default(),
            generation: 0,
            reloads: 0,
            dirty: true,
            should_quit: false,
        }
    }

    /// Applies one event; returns the I/O it needs. The only place state changes.
    pub fn update(&mut self, event: Event) -> Vec<Effect> {
        let mut effects = Vec::new();
        match event {
            Event::Key(key) => self.on_key(key, &mut effects),
            Event::Resize(w, h) => {
                self.size = (w, h);
                self.dirty = true;
            }
            Event::Tick(now) => self.on_tick(now, &mut effects),
            Event::Zk(ev) => self.on_zk(ev, &mut effects),
            Event::Signal => {
                self.keep_draft(&mut effects);
                self.should_quit = true;
            }
            Event::EditorOpened { node, draft, draft_error } => self.open_editor(node, draft, draft_error),
            Event::Validated { generation, problems } => {
                if let Mode::Editor(e) = &mut self.mode {
                    e.apply_validation(generation, problems);
                    self.dirty = true;
                    self.request_validation(&mut effects);
                }
            }
            Event::Saved { path, result } => self.on_saved(path, result, &mut effects),
            Event::Done { result } => match result {
                Ok(text) => self.notify(NoticeLevel::Info, text),
                Err(text) => self.notify(NoticeLevel::Error, text),
            },
            Event::DeletePlanned { result } => match result {
                Ok((plan, cluster)) => self.mode = Mode::Delete(DeleteConfirm::new(plan, cluster)),
                Err(e) => self.notify(NoticeLevel::Error, e),
            },
            Event::AuditLoaded { filter, result } => match result {
                Ok(records) => {
                    self.audit = Some(AuditView { filter, records, cursor: 0 });
                    self.choose_pane(Pane::Audit);
                }
                Err(e) => self.notify(NoticeLevel::Error, format!("audit log: {e}")),
            },
            Event::Revealed { path, result } => match result {
                Ok(()) => {
                    self.notify(NoticeLevel::Info, format!("secrets of {path} revealed (recorded in the audit log)"));
                    self.revealed.insert(path);
                    self.detail = None;
                }
                Err(e) => self.notify(NoticeLevel::Error, e),
            },
        }
        self.after_change(&mut effects);
        effects
    }

    fn now_ms(&self) -> i64 {
        self.now.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
    }

    fn on_tick(&mut self, now: SystemTime, effects: &mut Vec<Effect>) {
        self.now = now;
        self.keep_draft(effects);
        // Status ages only matter while the cluster screen shows them.
        if self.focus == Pane::Cluster && self.clusters.recompute(self.now_ms()) {
            self.dirty = true;
        }
        self.check_watch_silence();
        let before = self.notices.len();
        self.notices.retain(|n| n.expires_at > now);
        if self.notices.len() != before {
            self.dirty = true;
        }
    }

    /// Raises or clears the silent-watch warning. Agents re-publish at least every heartbeat,
    /// so with agents registered a healthy watch is never quiet for longer than the slowest one.
    fn check_watch_silence(&mut self) {
        let connected = matches!(self.session, SessionBadge::Connected | SessionBadge::ConnectedReadOnly);
        let silent = match (self.watch_heard, self.clusters.slowest_heartbeat_ms()) {
            (Some(heard), Some(heartbeat_ms)) if connected => {
                let limit = Duration::from_millis(heartbeat_ms + WATCH_SILENCE_GRACE_MS);
                self.now.duration_since(heard).is_ok_and(|quiet| quiet > limit).then_some(heard)
            }
            _ => None,
        };
        if silent.is_some() != self.watch_silent_since.is_some() {
            match silent {
                Some(heard) => tracing::warn!(
                    last_heard = ?heard,
                    "no watch events for longer than the slowest agent heartbeat; the live view may be stale"
                ),
                None => tracing::info!("watch events flowing again"),
            }
            self.watch_silent_since = silent;
            self.dirty = true;
        }
    }

    pub fn notify(&mut self, level: NoticeLevel, text: impl Into<String>) {
        let text = text.into();
        match level {
            NoticeLevel::Error => tracing::warn!(notice = %text),
            NoticeLevel::Info => tracing::info!(notice = %text),
        }
        self.notices.push_back(Notice { text, level, expires_at: self.now + Duration::from_millis(NOTICE_TTL_MS) });
        while self.notices.len() > 3 {
            self.notices.pop_front();
        }
        self.dirty = true;
    }

    fn on_zk(&mut self, ev: ZkEvent, effects: &mut Vec<Effect>) {
        // A changed znode nobody shows must not cost a frame; everything else is rare.
        self.dirty |= !matches!(ev, ZkEvent::Node(_) | ZkEvent::WatchHeard { .. });
        match ev {
            ZkEvent::Session { badge, at } => {
                self.session = badge;
                match badge {
                    SessionBadge::Connected | SessionBadge::ConnectedReadOnly => {}
                    _ => {
                        self.stale_since.get_or_insert(at);
                    }
                }
            }
            ZkEvent::Ready { generation } => {
                tracing::info!(generation, "ZooKeeper session ready; re-reading what is shown");
                self.generation = generation;
                self.reloads += 1;
                self.watch_heard = Some(self.now);
                self.check_watch_silence();
                self.tree.forget_collapsed();
                for path in self.tree.expanded_paths() {
                    self.tree.set_loading(&path);
                    effects.push(Effect::LoadChildren(path));
                }
                self.acls.clear();
                effects.extend(self.clusters.reload());
                if let Some(target) = self.pending_goto.clone() {
                    self.goto(&target, effects);
                }
            }
            ZkEvent::Children { parent, children, failed } => {
                if parent.path == "/" {
                    self.stale_since = None;
                }
                let now_ms = self.now_ms();
                let (more, _) = self.clusters.apply_children(&parent.path, &children, now_ms);
                effects.extend(more);
                if !self.screen_chosen && !self.clusters.names.is_empty() {
                    // The cluster screen is the first screen when a cluster exists.
                    self.focus = Pane::Cluster;
                    self.screen_chosen = true;
                }
                self.tree.apply_children(parent, children, failed);
                self.try_pending_goto();
            }
            ZkEvent::Node(info) => {
                let now_ms = self.now_ms();
                let cluster_changed = self.clusters.apply_node(&info, now_ms);
                let tree_changed = self.tree.apply_node(info);
                self.dirty |= cluster_changed || tree_changed;
            }
            ZkEvent::Deleted { path } => {
                let now_ms = self.now_ms();
                self.clusters.apply_deleted(&path, now_ms);
                self.tree.apply_deleted(&path);
                self.acls.remove(&path);
            }
            ZkEvent::Failed { path, error } => {
                if self.pending_goto.as_deref().is_some_and(|g| g == path || g.starts_with(&format!("{path}/"))) {
                    self.pending_goto = None;
                    self.notify(NoticeLevel::Error, format!("{path}: {error}"));
                }
                self.tree.apply_error(&path, error);
            }
            ZkEvent::WatchHeard { at } => {
                self.watch_heard = Some(at);
                if self.watch_silent_since.is_some() {
                    self.check_watch_silence();
                }
            }
            ZkEvent::Acl { path, acl } => {
                let aversion = self.tree.node(&path).and_then(|n| n.stat).map_or(-1, |s| s.aversion);
                self.acls.insert(path, (aversion, acl));
            }
        }
    }

    fn on_key(&mut self, key: KeyEvent, effects: &mut Vec<Effect>) {
        self.dirty = true;
        let k = Key::from_event(&key);
        if k == Key::ctrl('c') {
            self.keep_draft(effects);
            self.should_quit = true;
            return;
        }
        match &mut self.mode {
            Mode::Help => {
                if matches!(self.keymap.lookup(k, Scope::Global), Some(Action::Back | Action::Help | Action::Quit)) {
                    self.mode = Mode::Normal;
                }
            }
            Mode::NodeDetail { scroll, .. } => match self.keymap.lookup(k, Scope::Global) {
                Some(Action::Back | Action::Quit) => self.mode = Mode::Normal,
                Some(Action::Down) => *scroll = scroll.saturating_add(1),
                Some(Action::Up) => *scroll = scroll.saturating_sub(1),
                Some(Action::PageDown) => *scroll = scroll.saturating_add(10),
                Some(Action::PageUp) => *scroll = scroll.saturating_sub(10),
                _ => {}
            },
            Mode::Input { .. } => self.on_input_key(key, effects),
            Mode::Editor(e) => {
                let requests = e.on_key(key);
                self.on_editor_requests(requests, effects);
            }
            Mode::Create(form) => {
                let result = form.on_key(key);
                self.on_dialog(result, effects);
            }
            Mode::Delete(confirm) => {
                let result = confirm.on_key(key);
                self.on_dialog(result, effects);
            }
            Mode::Normal => {
                if let Some(action) = self.keymap.lookup(k, self.focus.scope()) {
                    self.on_action(action, effects);
                }
            }
        }
    }

    fn on_input_key(&mut self, key: KeyEvent, effects: &mut Vec<Effect>) {
        let Mode::Input { kind, text } = &mut self.mode else {
            return;
        };
        let kind = *kind;
        match key.code {
            KeyCode::Esc => {
                if kind == InputKind::Filter {
                    self.tree.set_filter(None);
                }
                self.mode = Mode::Normal;
            }
            KeyCode::Enter => {
                let line = std::mem::take(text);
                self.mode = Mode::Normal;
                if kind == InputKind::Command {
                    self.run_command(line.trim(), effects);
                }
            }
            KeyCode::Backspace => {
                text.pop();
                if kind == InputKind::Filter {
                    let f = text.clone();
                    self.tree.set_filter(Some(f));
                }
            }
            KeyCode::Char(c) if !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => {
                text.push(c);
                if kind == InputKind::Filter {
                    let f = text.clone();
                    self.tree.set_filter(Some(f));
                }
            }
            _ => {}
        }
    }

    fn page(&self) -> usize {
        usize::from(layout(self.size).tree_rows).max(1)
    }

    fn on_action(&mut self, action: Action, effects: &mut Vec<Effect>) {
        if self.focus == Pane::Cluster && self.on_cluster_action(action, effects) {
            return;
        }
        if self.focus == Pane::Audit && self.on_audit_action(action, effects) {
            return;
        }
        let detail = self.focus == Pane::Detail;
        let page = self.page();
        match action {
            Action::Quit | Action::ForceQuit => self.should_quit = true,
            Action::Help => self.mode = Mode::Help,
            Action::CommandLine => self.mode = Mode::Input { kind: InputKind::Command, text: String::new() },
            Action::Filter => {
                let text = self.tree.filter().unwrap_or_default().to_string();
                self.mode = Mode::Input { kind: InputKind::Filter, text };
            }
            Action::NextPane => self.choose_pane(self.focus.next()),
            Action::PrevPane => self.choose_pane(self.focus.prev()),
            Action::ShowClusters => self.choose_pane(Pane::Cluster),
            Action::FocusTree => self.choose_pane(Pane::Tree),
            Action::FocusDetail => self.choose_pane(Pane::Detail),
            Action::NextCluster | Action::PrevCluster => {}
            Action::Up if detail => self.detail_scroll = self.detail_scroll.saturating_sub(1),
            Action::Down if detail => self.detail_scroll = self.detail_scroll.saturating_add(1),
            Action::PageUp if detail => self.detail_scroll = self.detail_scroll.saturating_sub(page as u16),
            Action::PageDown if detail => self.detail_scroll = self.detail_scroll.saturating_add(page as u16),
            Action::Top if detail => self.detail_scroll = 0,
            Action::Bottom if detail => self.detail_scroll = u16::MAX / 2,
            Action::Up => self.tree.move_selection(-1),
            Action::Down => self.tree.move_selection(1),
            Action::PageUp => self.tree.move_selection(-(page as isize)),
            Action::PageDown => self.tree.move_selection(page as isize),
            Action::Top => self.tree.select_index(0),
            Action::Bottom => self.tree.select_index(usize::MAX),
            Action::Expand => self.expand_selected(effects),
            Action::Collapse => self.collapse_selected(),
            Action::Toggle => {
                let Some(path) = self.tree.selected_path().map(str::to_string) else {
                    return;
                };
                if self.tree.is_expanded(&path) {
                    self.tree.collapse(&path);
                } else {
                    self.expand_path(&path, effects);
                }
            }
            Action::Back => {
                if self.tree.filter().is_some() {
                    self.tree.set_filter(None);
                } else if self.focus == Pane::Detail {
                    self.focus = Pane::Tree;
                }
            }
            Action::NewChild | Action::DeleteNode if self.read_only => {
                self.notify(NoticeLevel::Error, strings::READ_ONLY_REFUSED)
            }
            Action::NewChild => {
                if let Some(path) = self.tree.selected_path().map(str::to_string) {
                    self.mode = Mode::Create(CreateForm::new(&path));
                }
            }
            Action::DeleteNode => {
                if let Some(path) = self.tree.selected_path().filter(|p| *p != "/").map(str::to_string) {
                    effects.push(Effect::PlanDelete(path));
                }
            }
            Action::CopyPath => {
                if let Some(path) = self.tree.selected_path().map(str::to_string) {
                    self.notify(NoticeLevel::Info, format!("copied {path}"));
                    effects.push(Effect::Copy(path));
                }
            }
            Action::ShowAudit => {
                let filter = self.tree.selected_path().filter(|p| *p != "/").map(str::to_string);
                effects.push(Effect::LoadAudit(filter));
            }
            Action::Reveal if self.read_only => self.notify(NoticeLevel::Error, strings::READ_ONLY_REFUSED),
            Action::Reveal => {
                if let Some(path) = self.tree.selected_path().map(str::to_string) {
                    effects.push(Effect::Reveal(path));
                }
            }
            Action::Edit => {
                if let Some(path) = self.tree.selected_path().map(str::to_string) {
                    effects.push(Effect::OpenEditor { path, drafts_dir: self.drafts_dir.clone() });
                }
            }
            Action::Reload => {
                if let Some(path) = self.tree.selected_path().map(str::to_string) {
                    self.tree.set_loading(&path);
                    effects.push(Effect::LoadChildren(path.clone()));
                    self.acls.remove(&path);
                }
            }
        }
    }

    /// Opens the editor on a fresh read; binary data opens read-only as a hex dump, and a kept
    /// draft is restored over the stored text.
    fn open_editor(&mut self, node: crate::zk::NodeInfo, draft: Option<Draft>, draft_error: Option<String>) {
        self.dirty = true;
        let view = render_data_limited(&node.data, usize::MAX);
        let schema = self.config_cluster(&node.path);
        let (kind, text) = match view.kind {
            DataKind::Binary => (EditorKind::HexReadOnly, view.lines.join("\n")),
            DataKind::Json => (EditorKind::Json, String::from_utf8_lossy(&node.data).into_owned()),
            DataKind::Text | DataKind::Empty => {
                let text = String::from_utf8_lossy(&node.data).into_owned();
                let looks_json = text.trim_start().starts_with(['{', '[']) || schema.is_some();
                (if looks_json { EditorKind::Json } else { EditorKind::Text }, text)
            }
        };
        let masked = (kind == EditorKind::Json && !self.revealed.contains(&node.path))
            .then(|| secrets::mask_json(&text))
            .flatten();
        let (text, unmasked) = match masked {
            Some(m) => (m, Some(text)),
            None => (text, None),
        };
        let mut e = Editor::open(&node, text, kind, schema, self.read_only);
        e.set_styles(self.theme.text, self.theme.label, self.theme.selected);
        e.unmasked_original = unmasked;
        if let Some(d) = draft.filter(|_| kind != EditorKind::HexReadOnly) {
            e.base_version = d.base_version;
            e.original = d.original.clone();
            e.set_text(&d.text);
            let when = crate::zk::format::utc_time(d.saved_at_ms);
            e.message = Some(if d.base_version == node.stat.version {
                format!("restored your unsaved draft from {when} UTC (esc then d discards it)")
            } else {
                format!(
                    "restored your draft from {when} UTC; it started from version {}, the znode is at {}: saving will show the conflict",
                    d.base_version, node.stat.version
                )
            });
        }
        if let Some(err) = draft_error {
            e.message = Some(format!("could not read the kept draft: {err}"));
        }
        if self.read_only && kind != EditorKind::HexReadOnly {
            e.message.get_or_insert_with(|| "read-only mode: viewing only".to_string());
        }
        if let Some(Request::Validate { text, generation }) = e.validation_request() {
            let problems = validate_text(&text, e.schema.as_deref());
            e.apply_validation(generation, problems);
        }
        self.mode = Mode::Editor(Box::new(e));
    }

    /// The data as the viewer shows it: secrets masked unless revealed.
    fn display_data(&self, path: &str, data: &[u8]) -> DataView {
        if !self.revealed.contains(path) {
            if let Some(masked) = std::str::from_utf8(data).ok().and_then(secrets::mask_json) {
                return render_data(masked.as_bytes());
            }
        }
        render_data(data)
    }

    /// `<root>/clusters/<c>/config` → `Some(c)`: that znode is checked against the schema.
    fn config_cluster(&self, path: &str) -> Option<String> {
        match crate::cluster::split_cluster_path(&self.root, path) {
            Some((c, "config")) => Some(c.to_string()),
            _ => None,
        }
    }

    fn on_editor_requests(&mut self, requests: Vec<Request>, effects: &mut Vec<Effect>) {
        let Mode::Editor(e) = &mut self.mode else { return };
        let path = e.path.clone();
        for r in requests {
            match r {
                Request::Validate { .. } => {}
                Request::Save { data, expected_version, confirm } => {
                    // Masked secrets go back in before anything is written.
                    let data = match &e.unmasked_original {
                        Some(orig) => match secrets::restore_masked(&String::from_utf8_lossy(&data), orig) {
                            Ok(text) => text.into_bytes(),
                            Err(msg) => {
                                e.save_failed(msg);
                                return;
                            }
                        },
                        None => data,
                    };
                    effects.push(Effect::Save { path: path.clone(), data, expected_version, confirm })
                }
                Request::CloseKeepDraft => {
                    if let Mode::Editor(e) = &mut self.mode {
                        e.draft_dirty = true;
                    }
                    self.keep_draft(effects);
                    self.mode = Mode::Normal;
                    self.notify(NoticeLevel::Info, format!("draft of {path} kept; e on it restores it"));
                    return;
                }
                Request::CloseDiscard => {
                    effects.push(Effect::DropDraft { dir: self.drafts_dir.clone(), path: path.clone() });
                    self.mode = Mode::Normal;
                    return;
                }
                Request::Notice(text) => {
                    self.notify(NoticeLevel::Error, text);
                    return;
                }
            }
        }
        self.request_validation(effects);
    }

    /// Validation: small texts right here, big ones off the loop (one at a time; when one
    /// finishes and the text moved on, the next starts).
    fn request_validation(&mut self, effects: &mut Vec<Effect>) {
        let Mode::Editor(e) = &mut self.mode else { return };
        if let Some(Request::Validate { text, generation }) = e.validation_request() {
            if text.len() <= editor::SYNC_VALIDATE_MAX_BYTES {
                let problems = validate_text(&text, e.schema.as_deref());
                e.apply_validation(generation, problems);
            } else if !e.validating {
                e.validating = true;
                effects.push(Effect::Validate { text, generation, schema: e.schema.clone() });
            }
        }
    }

    fn on_saved(&mut self, path: String, result: SaveResult, effects: &mut Vec<Effect>) {
        self.dirty = true;
        let Mode::Editor(e) = &mut self.mode else { return };
        if e.path != path {
            return;
        }
        match result {
            SaveResult::Saved { version, audit_warning } => {
                effects.push(Effect::DropDraft { dir: self.drafts_dir.clone(), path: path.clone() });
                self.mode = Mode::Normal;
                self.notify(NoticeLevel::Info, format!("saved {path} (version {version})"));
                if let Some(w) = audit_warning {
                    self.notify(NoticeLevel::Error, format!("saved, but the audit record failed: {w}"));
                }
            }
            SaveResult::Conflict(mut theirs) => {
                if e.unmasked_original.is_some() {
                    // Their text is shown masked too; the unmasked copy is what a re-base keeps.
                    let text = String::from_utf8_lossy(&theirs.data).into_owned();
                    e.unmasked_original = Some(text.clone());
                    theirs.data = secrets::mask_json(&text).unwrap_or(text).into_bytes();
                }
                e.conflict(theirs);
                e.draft_dirty = true;
            }
            SaveResult::NeedsName(cluster) => {
                let version = e.base_version;
                e.needs_name(cluster, version);
            }
            SaveResult::Refused(msg) | SaveResult::Failed(msg) => {
                e.save_failed(msg.clone());
                e.draft_dirty = true;
                self.notify(NoticeLevel::Error, msg);
            }
        }
    }

    /// Writes the editor's unsaved text to its draft file (on ticks, on quit, on a signal).
    fn keep_draft(&mut self, effects: &mut Vec<Effect>) {
        let now_ms = self.now_ms();
        let Mode::Editor(e) = &mut self.mode else { return };
        if !e.draft_dirty || e.read_only {
            return;
        }
        e.draft_dirty = false;
        let draft = Draft {
            path: e.path.clone(),
            base_version: e.base_version,
            original: e.original.clone(),
            text: e.text(),
            saved_at_ms: now_ms,
        };
        effects.push(Effect::SaveDraft { dir: self.drafts_dir.clone(), draft });
    }

    fn on_dialog(&mut self, result: DialogResult, effects: &mut Vec<Effect>) {
        match result {
            DialogResult::Stay => {}
            DialogResult::Cancel => self.mode = Mode::Normal,
            DialogResult::Create { path, data, mode } => {
                self.mode = Mode::Normal;
                effects.push(Effect::Create { path, data, mode });
            }
            DialogResult::Delete { path, version, recursive, confirm } => {
                self.mode = Mode::Normal;
                effects.push(Effect::Delete { path, version, recursive, confirm });
            }
        }
    }

    fn choose_pane(&mut self, pane: Pane) {
        self.focus = pane;
        self.screen_chosen = true;
        if pane == Pane::Cluster {
            let now_ms = self.now_ms();
            self.clusters.recompute(now_ms);
        }
    }

    /// Keys on the audit screen; returns false for the ones the common handler takes.
    fn on_audit_action(&mut self, action: Action, effects: &mut Vec<Effect>) -> bool {
        let Some(view) = self.audit.as_mut() else { return false };
        let last = view.records.len().saturating_sub(1);
        match action {
            Action::Up => view.cursor = view.cursor.saturating_sub(1),
            Action::Down => view.cursor = (view.cursor + 1).min(last),
            Action::Top | Action::PageUp => view.cursor = 0,
            Action::Bottom | Action::PageDown => view.cursor = last,
            Action::Reload => effects.push(Effect::LoadAudit(view.filter.clone())),
            Action::Back => self.choose_pane(Pane::Tree),
            _ => return false,
        }
        true
    }

    /// Keys on the cluster screen; returns false for the ones the common handler takes.
    fn on_cluster_action(&mut self, action: Action, effects: &mut Vec<Effect>) -> bool {
        match action {
            Action::Up => self.clusters.move_cursor(-1),
            Action::Down => self.clusters.move_cursor(1),
            Action::PageUp | Action::Top => self.clusters.move_cursor(isize::MIN / 2),
            Action::PageDown | Action::Bottom => self.clusters.move_cursor(isize::MAX / 2),
            Action::NextCluster => effects.extend(self.clusters.cycle(true)),
            Action::PrevCluster => effects.extend(self.clusters.cycle(false)),
            Action::Toggle | Action::Expand => {
                if let Some(node) = self.clusters.cursor_node() {
                    self.mode = Mode::NodeDetail { node: node.to_string(), scroll: 0 };
                }
            }
            Action::Reload => effects.extend(self.clusters.reload()),
            Action::Back | Action::Collapse | Action::Filter => {}
            _ => return false,
        }
        true
    }

    fn expand_path(&mut self, path: &str, effects: &mut Vec<Effect>) {
        if self.tree.expand(path) {
            effects.push(Effect::LoadChildren(path.to_string()));
        }
    }

    fn expand_selected(&mut self, effects: &mut Vec<Effect>) {
        let Some(path) = self.tree.selected_path().map(str::to_string) else {
            return;
        };
        if self.tree.is_expanded(&path) && self.tree.has_children(&path) {
            self.tree.move_selection(1);
        } else {
            self.expand_path(&path, effects);
        }
    }

    fn collapse_selected(&mut self) {
        let Some(path) = self.tree.selected_path().map(str::to_string) else {
            return;
        };
        if self.tree.is_expanded(&path) && path != "/" {
            self.tree.collapse(&path);
        } else {
            self.tree.select_path(parent_path(&path));
        }
    }

    fn run_command(&mut self, line: &str, effects: &mut Vec<Effect>) {
        let mut parts = line.splitn(2, char::is_whitespace);
        let cmd = parts.next().unwrap_or_default();
        let arg = parts.next().map(str::trim).unwrap_or_default();
        match cmd {
            "" => {}
            "q" | "quit" | "q!" => self.should_quit = true,
            "goto" | "g" | "cd" => {
                if !arg.starts_with('/') {
                    self.notify(NoticeLevel::Error, strings::goto_usage());
                } else {
                    let target = if arg.len() > 1 { arg.trim_end_matches('/') } else { arg };
                    self.choose_pane(Pane::Tree);
                    self.goto(target, effects);
                }
            }
            "cluster" | "c" => {
                if arg.is_empty() {
                    self.notify(NoticeLevel::Error, strings::CLUSTER_USAGE);
                    return;
                }
                match self.clusters.select(arg) {
                    Ok(more) => {
                        effects.extend(more);
                        self.choose_pane(Pane::Cluster);
                    }
                    Err(e) => self.notify(NoticeLevel::Error, e),
                }
            }
            "audit" => effects.push(Effect::LoadAudit((!arg.is_empty()).then(|| arg.to_string()))),
            "theme" => match Theme::builtin(arg) {
                Ok(t) => {
                    self.notify(NoticeLevel::Info, strings::theme_switched(&t.name));
                    self.theme = t;
                }
                Err(e) => self.notify(NoticeLevel::Error, format!("{e:#}")),
            },
            "reload" => {
                effects.extend(self.clusters.reload());
                for path in self.tree.expanded_paths() {
                    self.tree.set_loading(&path);
                    effects.push(Effect::LoadChildren(path));
                }
                self.acls.clear();
            }
            "help" => self.mode = Mode::Help,
            other => self.notify(NoticeLevel::Error, strings::unknown_command(other)),
        }
    }

    /// Expands every ancestor of `target` (reading what is missing) and selects it once read.
    fn goto(&mut self, target: &str, effects: &mut Vec<Effect>) {
        self.tree.set_filter(None);
        let mut prefix = String::new();
        let segments: Vec<&str> = target.split('/').filter(|s| !s.is_empty()).collect();
        self.expand_path("/", effects);
        for seg in segments.iter().take(segments.len().saturating_sub(1)) {
            prefix.push('/');
            prefix.push_str(seg);
            self.expand_path(&prefix, effects);
        }
        // The target is opened too, so that its children show right away.
        if target != "/" {
            self.expand_path(target, effects);
        }
        self.pending_goto = Some(target.to_string());
        self.try_pending_goto();
    }

    fn try_pending_goto(&mut self) {
        let Some(target) = self.pending_goto.clone() else {
            return;
        };
        if self.tree.select_path(&target) {
            self.pending_goto = None;
            // Start-up's own goto (to the root) must not leave the cluster screen.
            if self.screen_chosen && self.focus == Pane::Detail {
                self.focus = Pane::Tree;
            }
            return;
        }
        // The parent has been read and the target is not among its children.
        let parent = parent_path(&target);
        if let Some(node) = self.tree.node(parent) {
            if node.children.as_ref().is_some_and(|c| !c.contains(crate::zk::base_name(&target))) {
                self.pending_goto = None;
                self.notify(NoticeLevel::Error, strings::no_such_znode(&target));
            }
        }
    }

    /// Tells the watch what is worth reading when that changed: the loaded part of the tree,
    /// the cluster list, and the cluster on screen.
    fn update_interest(&mut self, effects: &mut Vec<Effect>) {
        let key = (self.tree.structure_version(), self.clusters.selected.clone());
        if self.interest_sent.as_ref() == Some(&key) {
            return;
        }
        let mut parents: std::collections::HashSet<String> = self.tree.loaded_parents().map(str::to_string).collect();
        parents.insert(crate::cluster::ClusterPaths::clusters_dir(&self.root));
        let prefixes = self.clusters.selected_base().into_iter().collect();
        effects.push(Effect::Interest(Arc::new(crate::zk::watch::Interest { parents, prefixes })));
        self.interest_sent = Some(key);
    }

    /// Keeps derived state in step: the tree's scroll offset, the formatted data of the
    /// selected znode, and the ACL read for it.
    fn after_change(&mut self, effects: &mut Vec<Effect>) {
        self.update_interest(effects);
        let rows = self.page();
        let sel = self.tree.selected_index();
        if sel < self.tree_offset {
            self.tree_offset = sel;
        } else if sel >= self.tree_offset + rows {
            self.tree_offset = sel + 1 - rows;
        }
        self.tree_offset =
            self.tree_offset.min(self.tree.rows().len().saturating_sub(rows.min(self.tree.rows().len())));
        let Some(path) = self.tree.selected_path().map(str::to_string) else {
            self.detail = None;
            return;
        };
        let Some(node) = self.tree.node(&path) else {
            return;
        };
        let Some(stat) = node.stat else {
            self.detail = None;
            return;
        };
        let fresh =
            self.detail.as_ref().is_some_and(|d| d.path == path && d.mzxid == stat.mzxid && d.czxid == stat.czxid);
        if !fresh {
            if self.detail.as_ref().is_none_or(|d| d.path != path) {
                self.detail_scroll = 0;
            }
            self.detail = Some(DetailCache {
                path: path.clone(),
                mzxid: stat.mzxid,
                czxid: stat.czxid,
                view: Arc::new(self.display_data(&path, &node.data)),
            });
        }
        let acl_fresh = self.acls.get(&path).is_some_and(|(av, _)| *av == stat.aversion || *av == -2);
        if !acl_fresh && self.generation > 0 {
            // -2 marks "asked"; the answer replaces it.
            self.acls.insert(path.clone(), (-2, Err(strings::LOADING.to_string())));
            effects.push(Effect::FetchAcl(path));
        }
    }
}

/// JSON syntax first; a cluster config is then checked field by field against its schema.
pub fn validate_text(text: &str, schema: Option<&str>) -> Vec<editor::Problem> {
    let Some(cluster) = schema else { return editor::json_problems(text) };
    crate::cluster::schema::validate_config(text, Some(cluster))
        .into_iter()
        .map(|p| editor::Problem {
            line: p.line,
            column: p.column,
            error: p.severity == crate::cluster::schema::Severity::Error,
            message: p.message,
        })
        .collect()
}

/// The audit screen's state.
#[derive(Debug, Clone)]
pub struct AuditView {
    pub filter: Option<String>,
    pub records: Vec<(String, crate::audit::AuditRecord)>,
    pub cursor: usize,
}
