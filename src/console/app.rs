//! `App`: the one place the console's state changes. It holds what is shared (session, notices,
//! theme, keymap, the shown screen and the overlay on top) and routes every event — keys
//! through the keymap to the overlay or the shown screen, ZooKeeper results to every screen —
//! then keeps derived state and the watch's interest in step. Fields are private; views and
//! tests read through accessors.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crossterm::event::KeyEvent;

use super::event::{AclSetProblem, Effect, Event};
use super::keymap::{Action, Key, KeyMap, Scope};
use super::overlays::{self, Input, Layer, Overlay};
use super::screens::tree::TreeFocus;
use super::screens::{Nav, ScreenId, Screens};
use super::shared::{Cx, NoticeLevel, Notices, Shared};
use super::strings;
use super::theme::Theme;
use crate::zk::watch::Interest;
use crate::zk::{SessionBadge, ZkEvent};

pub use super::shared::NOTICE_TTL_MS;

/// Slack on top of the slowest agent heartbeat before a silent watch is reported (an agent's
/// write, the notification and our tick each take a little while).
pub const WATCH_SILENCE_GRACE_MS: u64 = 2_000;

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
    /// The MySQL account for switchover (user and password files, never passwords): the
    /// executor turns it into credentials when a plan is asked for.
    pub mysql: crate::config::MysqlAccess,
    /// The profile's backup store (`None`: the backups screen says how to name one); the
    /// executor opens it, never the loop.
    pub backup_store: Option<crate::config::BackupStoreConfig>,
    /// How the ensemble screen asks the members (the profile's `[ensemble]`); the executor
    /// uses it, never the loop.
    pub ensemble: crate::zk::ensemble::EnsembleOptions,
}

pub struct App {
    shared: Shared,
    notices: Notices,
    screens: Screens,
    screen: ScreenId,
    overlay: Option<Overlay>,
    /// Once the operator picks a screen, start-up no longer switches it for them.
    screen_chosen: bool,
    /// The screens' interest versions the watch was last told about.
    interest_sent: Option<[u64; super::screens::SCREEN_COUNT]>,
    /// When the watch last delivered anything (or the session became ready).
    watch_heard: Option<SystemTime>,
    /// Set while agents are registered but the watch has been silent for longer than their
    /// slowest heartbeat: the live view may have stopped without any error. Holds the time of
    /// the last thing heard.
    watch_silent_since: Option<SystemTime>,
    /// How often a session became ready (first connect, reconnects, new sessions): each time,
    /// what is shown was read again.
    reloads: u64,
    dirty: bool,
    should_quit: bool,
    /// `q` was pressed once while this console runs an operation: the next one quits.
    quit_asked: bool,
}

impl App {
    pub fn new(o: AppOptions) -> App {
        App {
            screens: Screens::new(&o.root),
            shared: Shared {
                label: o.label,
                root: o.root,
                read_only: o.read_only,
                drafts_dir: o.drafts_dir,
                theme: o.theme,
                keymap: o.keymap,
                size: o.size,
                now: o.now,
                session: SessionBadge::Connecting,
                session_member: None,
                stale_since: None,
                generation: 0,
                revealed: Default::default(),
                zk_auth: None,
                auth_problem: None,
            },
            notices: Notices::default(),
            screen: ScreenId::Tree,
            overlay: None,
            screen_chosen: false,
            interest_sent: None,
            watch_heard: None,
            watch_silent_since: None,
            reloads: 0,
            dirty: true,
            should_quit: false,
            quit_asked: false,
        }
    }

    /// The credential the session authenticates with, as the header shows it (`digest myzoo`);
    /// set once, before the first event.
    pub fn with_zk_auth(mut self, label: Option<String>) -> App {
        self.shared.zk_auth = label;
        self
    }

    // --- Reading the state (views, tests, the runtime) ---

    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    pub fn notices(&self) -> &Notices {
        &self.notices
    }

    pub fn screens(&self) -> &Screens {
        &self.screens
    }

    /// The screen shown.
    pub fn screen(&self) -> ScreenId {
        self.screen
    }

    pub fn overlay(&self) -> Option<&Overlay> {
        self.overlay.as_ref()
    }

    /// The editor, when it is open.
    pub fn editor(&self) -> Option<&super::editor::Editor> {
        match &self.overlay {
            Some(Overlay::Editor(e)) => Some(e),
            _ => None,
        }
    }

    /// The keymap scope of what has the keys: the overlay, else the shown screen's focused
    /// pane (the hint bar follows it).
    pub fn scope(&self) -> Scope {
        match &self.overlay {
            Some(o) => o.scope(),
            None => self.screen_scope(),
        }
    }

    fn screen_scope(&self) -> Scope {
        self.screens.get(self.screen).scope()
    }

    /// The znode tree (a shortcut for the tree screen's model).
    pub fn tree(&self) -> &super::tree::TreeModel {
        self.screens.tree.tree()
    }

    /// The cluster screen's store.
    pub fn clusters(&self) -> &super::clusters::ClusterStore {
        self.screens.cluster.store()
    }

    pub fn session(&self) -> SessionBadge {
        self.shared.session
    }

    pub fn stale_since(&self) -> Option<SystemTime> {
        self.shared.stale_since
    }

    pub fn generation(&self) -> u64 {
        self.shared.generation
    }

    pub fn reloads(&self) -> u64 {
        self.reloads
    }

    pub fn watch_silent_since(&self) -> Option<SystemTime> {
        self.watch_silent_since
    }

    /// Whether something visible changed since the last frame.
    pub fn dirty(&self) -> bool {
        self.dirty
    }

    pub fn should_quit(&self) -> bool {
        self.should_quit
    }

    /// The runtime drew a frame of the current state.
    pub fn frame_drawn(&mut self) {
        self.dirty = false;
    }

    // --- The one mutator ---

    /// Applies one event; returns the I/O it needs. The only place state changes.
    pub fn update(&mut self, event: Event) -> Vec<Effect> {
        let mut effects = Vec::new();
        match event {
            Event::Key(key) => self.on_key(key, &mut effects),
            Event::Resize(w, h) => {
                self.shared.size = (w, h);
                self.dirty = true;
            }
            Event::Tick(now) => self.on_tick(now, &mut effects),
            Event::Zk(ev) => self.on_zk(ev, &mut effects),
            Event::Signal => {
                self.keep_draft(&mut effects);
                self.should_quit = true;
            }
            Event::EditorOpened { node, draft, draft_error } => {
                self.dirty = true;
                let editor = overlays::editor::open(node, draft, draft_error, &self.shared);
                self.overlay = Some(Overlay::Editor(Box::new(editor)));
            }
            Event::Validated { generation, problems } => {
                if let Some(Overlay::Editor(e)) = &mut self.overlay {
                    let mut cx = Cx::new(&self.shared, &mut effects, &mut self.notices);
                    overlays::editor::on_validated(e, generation, problems, &mut cx);
                    self.dirty = true;
                }
            }
            Event::Saved { path, result } => {
                self.dirty = true;
                if let Some(Overlay::Editor(e)) = &mut self.overlay {
                    let mut cx = Cx::new(&self.shared, &mut effects, &mut self.notices);
                    let layer = overlays::editor::on_saved(e, &path, result, &mut cx);
                    self.on_layer(layer, &mut effects);
                }
            }
            Event::Done { result } => match result {
                Ok(text) => self.notify(NoticeLevel::Info, text),
                Err(text) => self.notify(NoticeLevel::Error, text),
            },
            Event::DeletePlanned { result } => match result {
                Ok((plan, cluster)) => {
                    self.dirty = true;
                    self.overlay = Some(Overlay::Delete(super::dialogs::DeleteConfirm::new(plan, cluster)));
                }
                Err(e) => self.notify(NoticeLevel::Error, e),
            },
            Event::AuditLoaded { filter, result } => match result {
                Ok(records) => {
                    self.screens.audit.loaded(filter, records);
                    self.show(ScreenId::Audit, &mut effects);
                }
                Err(e) => self.notify(NoticeLevel::Error, format!("audit log: {e}")),
            },
            Event::Found { id, items, progress, elapsed_ms } => {
                self.dirty |= self.screens.find.found(id, items, progress, elapsed_ms) && self.screen == ScreenId::Find;
            }
            Event::FindFinished { id, result, elapsed_ms } => {
                if let Err(e) = &result {
                    self.notify(NoticeLevel::Error, format!("find stopped: {e}"));
                }
                self.dirty |= self.screens.find.finished(id, result, elapsed_ms);
            }
            Event::Planned { id, cluster, kind, result } => {
                let mut cx = Cx::new(&self.shared, &mut effects, &mut self.notices);
                self.screens.failover.planned(id, &cluster, kind, result, &mut cx);
                self.dirty = true;
            }
            Event::OperationReport { id, record } => {
                self.dirty |= self.screens.failover.reported(id, *record);
            }
            Event::OperationEnded { id, cluster: _, kind, result } => {
                let mut cx = Cx::new(&self.shared, &mut effects, &mut self.notices);
                self.dirty |= self.screens.failover.ended(id, kind, result, &mut cx);
            }
            Event::BackupsLoaded { seq, result } => {
                self.dirty |= self.screens.backups.loaded(seq, result) && self.screen == ScreenId::Backups;
            }
            Event::BackupProgress { id, progress } => {
                self.dirty |= self.screens.backups.progress(id, progress) && self.screen == ScreenId::Backups;
            }
            Event::EnsembleLoaded { seq, result } => {
                self.dirty |= self.screens.ensemble.loaded(seq, result) && self.screen == ScreenId::Ensemble;
            }
            Event::BackupJobEnded { id, result } => {
                let mut cx = Cx::new(&self.shared, &mut effects, &mut self.notices);
                let confirm = self.screens.backups.ended(id, result, &mut cx);
                self.dirty = true;
                // A restore plan that writes something asks at once (unless something else is open).
                if let (Some(confirm), None, ScreenId::Backups) = (confirm, &self.overlay, self.screen) {
                    self.overlay = Some(confirm);
                }
            }
            Event::AuthChecked { problem } => {
                if let Some(p) = &problem {
                    self.notify(NoticeLevel::Error, p.clone());
                }
                self.dirty |= self.shared.auth_problem != problem;
                self.shared.auth_problem = problem;
            }
            Event::AclSet { path, result } => {
                self.dirty = true;
                self.screens.tree.forget_acl(&path);
                match result {
                    Ok(text) => self.notify(NoticeLevel::Info, text),
                    Err(AclSetProblem::NeedsName { cluster, text, acl_version }) => {
                        let form = super::dialogs::AclForm::new(&path, acl_version, text).with_cluster(cluster);
                        self.overlay = Some(Overlay::Acl(Box::new(form)));
                    }
                    Err(AclSetProblem::Conflict(e) | AclSetProblem::Failed(e)) => self.notify(NoticeLevel::Error, e),
                }
            }
            Event::Revealed { path, result } => match result {
                Ok(()) => {
                    self.notify(NoticeLevel::Info, format!("secrets of {path} revealed (recorded in the audit log)"));
                    self.shared.revealed.insert(path);
                    self.screens.tree.refresh_detail();
                }
                Err(e) => self.notify(NoticeLevel::Error, e),
            },
        }
        self.after_change(&mut effects);
        effects
    }

    fn notify(&mut self, level: NoticeLevel, text: impl Into<String>) {
        self.notices.push(self.shared.now, level, text.into());
        self.dirty = true;
    }

    fn on_tick(&mut self, now: SystemTime, effects: &mut Vec<Effect>) {
        self.shared.now = now;
        self.keep_draft(effects);
        let shown = self.screen;
        let mut cx = Cx::new(&self.shared, effects, &mut self.notices);
        for (id, screen) in self.screens.all_mut() {
            self.dirty |= screen.on_tick(id == shown, &mut cx);
        }
        self.check_watch_silence();
        self.dirty |= self.notices.expire(now);
    }

    /// Raises or clears the silent-watch warning. Agents re-publish at least every heartbeat,
    /// so with agents registered a healthy watch is never quiet for longer than the slowest one.
    fn check_watch_silence(&mut self) {
        let silent = match (self.watch_heard, self.clusters().slowest_heartbeat_ms()) {
            (Some(heard), Some(heartbeat_ms)) if self.shared.connected() => {
                // Saturating: the heartbeat comes from an agent's document.
                let limit = Duration::from_millis(heartbeat_ms.saturating_add(WATCH_SILENCE_GRACE_MS));
                self.shared.now.duration_since(heard).is_ok_and(|quiet| quiet > limit).then_some(heard)
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

    fn on_zk(&mut self, ev: ZkEvent, effects: &mut Vec<Effect>) {
        // A changed znode nobody shows must not cost a frame; everything else is rare.
        let quiet = matches!(ev, ZkEvent::Node(_) | ZkEvent::WatchHeard { .. } | ZkEvent::Touched { .. });
        self.dirty |= !quiet;
        match &ev {
            ZkEvent::Session { badge, at } => {
                if *badge == SessionBadge::AuthFailed && self.shared.session != SessionBadge::AuthFailed {
                    self.notices.push(self.shared.now, NoticeLevel::Error, strings::AUTH_FAILED.to_string());
                }
                self.shared.session = *badge;
                if !self.shared.connected() {
                    self.shared.stale_since.get_or_insert(*at);
                }
            }
            ZkEvent::ConnectedTo { member } => {
                if *member != self.shared.session_member {
                    tracing::info!(member = ?member, "ZooKeeper session member");
                }
                self.shared.session_member = member.clone();
            }
            ZkEvent::Ready { generation } => {
                tracing::info!(generation, "ZooKeeper session ready; re-reading what is shown");
                // ZooKeeper never refuses a digest credential: a wrong password is found by
                // looking at the root's ACL, once per session.
                if self.shared.zk_auth.is_some() {
                    effects.push(Effect::CheckAuth);
                }
                self.shared.generation = *generation;
                self.reloads += 1;
                self.watch_heard = Some(self.shared.now);
                self.check_watch_silence();
            }
            ZkEvent::WatchHeard { at } => {
                self.watch_heard = Some(*at);
                if self.watch_silent_since.is_some() {
                    self.check_watch_silence();
                }
                return;
            }
            ZkEvent::Children { parent, .. } if parent.path == "/" => self.shared.stale_since = None,
            ZkEvent::ConnectFailed { reason } => {
                // The session retries every few seconds: one notice while the same one is shown.
                let text = strings::zk_connect_failed(reason);
                if !self.notices.iter().any(|n| n.text == text) {
                    self.notices.push(self.shared.now, NoticeLevel::Error, text);
                }
                return;
            }
            _ => {}
        }
        if let Some(Overlay::Editor(e)) = &mut self.overlay {
            // The editor shows at once when someone else writes or deletes its znode.
            let before = e.remote;
            match &ev {
                ZkEvent::Node(info) if info.path == e.path => e.remote_change(Some(info.stat.version)),
                ZkEvent::Deleted { path } if *path == e.path => e.remote_change(None),
                _ => {}
            }
            self.dirty |= e.remote != before;
        }
        let mut cx = Cx::new(&self.shared, effects, &mut self.notices);
        let mut changed = false;
        for (_, screen) in self.screens.all_mut() {
            changed |= screen.on_zk(&ev, &mut cx);
        }
        self.dirty |= changed;
        if !self.screen_chosen && self.screens.overview.names_loaded() && self.screens.overview.cluster_count() > 0 {
            // The first screen: the overview when there are several clusters, the cluster
            // screen when there is one.
            let first = if self.screens.overview.cluster_count() > 1 { ScreenId::Overview } else { ScreenId::Cluster };
            self.show(first, effects);
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
        if let Some(overlay) = &mut self.overlay {
            let mut cx = Cx::new(&self.shared, effects, &mut self.notices);
            let layer = overlay.on_key(key, &mut cx);
            self.on_layer(layer, effects);
            return;
        }
        let Some(action) = self.shared.keymap.lookup(k, self.screen_scope()) else { return };
        let mut cx = Cx::new(&self.shared, effects, &mut self.notices);
        let nav = self.screens.get_mut(self.screen).on_action(action, &mut cx);
        match nav {
            Nav::Pass => self.on_common_action(action, effects),
            nav => self.on_nav(nav, effects),
        }
    }

    /// Keys every screen shares, when the screen did not take them.
    fn on_common_action(&mut self, action: Action, effects: &mut Vec<Effect>) {
        match action {
            // Quitting stops an operation this console runs between two steps; the journal
            // says how far it got, but the operator should mean it (ctrl-c always quits).
            Action::Quit if self.screens.failover.running() && !self.quit_asked => {
                self.quit_asked = true;
                self.notify(NoticeLevel::Error, strings::QUIT_WHILE_RUNNING);
            }
            Action::Quit if self.screens.backups.running() && !self.quit_asked => {
                self.quit_asked = true;
                self.notify(NoticeLevel::Error, strings::QUIT_WHILE_BACKUP_JOB);
            }
            Action::Quit | Action::ForceQuit => self.should_quit = true,
            Action::Help => self.overlay = Some(Overlay::Help(self.screen_scope())),
            Action::CommandLine => self.overlay = Some(Overlay::Input(Input::command())),
            Action::NextPane => match self.screen {
                ScreenId::Tree => self.show(ScreenId::Cluster, effects),
                ScreenId::Overview
                | ScreenId::Cluster
                | ScreenId::Audit
                | ScreenId::Find
                | ScreenId::Failover
                | ScreenId::Backups
                | ScreenId::Ensemble => self.show_tree(TreeFocus::Tree, effects),
            },
            Action::PrevPane => match self.screen {
                ScreenId::Tree => self.show(ScreenId::Cluster, effects),
                ScreenId::Overview
                | ScreenId::Cluster
                | ScreenId::Audit
                | ScreenId::Find
                | ScreenId::Failover
                | ScreenId::Backups
                | ScreenId::Ensemble => self.show_tree(TreeFocus::Detail, effects),
            },
            Action::ShowOverview => self.show(ScreenId::Overview, effects),
            Action::ShowClusters => self.show(ScreenId::Cluster, effects),
            Action::ShowBackups => self.show(ScreenId::Backups, effects),
            Action::ShowEnsemble => self.show(ScreenId::Ensemble, effects),
            Action::FocusTree => self.show_tree(TreeFocus::Tree, effects),
            Action::FocusDetail => self.show_tree(TreeFocus::Detail, effects),
            Action::ShowAudit => {
                let filter = self.screens.tree.selected_path().filter(|p| *p != "/").map(str::to_string);
                effects.push(Effect::LoadAudit(filter));
            }
            _ => {}
        }
    }

    fn on_nav(&mut self, nav: Nav, effects: &mut Vec<Effect>) {
        match nav {
            Nav::Done | Nav::Pass => {}
            Nav::Show(id) => self.show(id, effects),
            Nav::Open(overlay) => self.overlay = Some(overlay),
            Nav::Cluster(name) => {
                let mut cx = Cx::new(&self.shared, effects, &mut self.notices);
                if self.screens.cluster.select(&name, &mut cx) {
                    self.show(ScreenId::Cluster, effects);
                }
            }
            Nav::Failover { plan } => {
                self.follow_cluster(effects);
                self.show(ScreenId::Failover, effects);
                if let Some((kind, to)) = plan {
                    let mut cx = Cx::new(&self.shared, effects, &mut self.notices);
                    self.screens.failover.request_plan(kind, to, &mut cx);
                }
            }
            Nav::Backup(req) => {
                let mut cx = Cx::new(&self.shared, effects, &mut self.notices);
                self.screens.backups.request(req, &mut cx);
            }
            Nav::Goto(path) => {
                self.show(ScreenId::Tree, effects);
                let mut cx = Cx::new(&self.shared, effects, &mut self.notices);
                self.screens.tree.goto(&path, &mut cx);
            }
            Nav::Quit => self.should_quit = true,
        }
    }

    fn on_layer(&mut self, layer: Layer, effects: &mut Vec<Effect>) {
        self.dirty = true;
        match layer {
            Layer::Stay => {}
            Layer::Close => self.overlay = None,
            Layer::Then(nav) => {
                self.overlay = None;
                self.on_nav(nav, effects);
            }
            Layer::Filter(text) => self.screens.get_mut(self.screen).set_filter(text),
            Layer::FilterClosed(text) => {
                self.screens.get_mut(self.screen).set_filter(text);
                self.overlay = None;
            }
            Layer::Command(line) => {
                self.overlay = None;
                self.run_command(line.trim(), effects);
            }
        }
    }

    fn show(&mut self, id: ScreenId, effects: &mut Vec<Effect>) {
        if self.screen != id {
            self.screens.get_mut(self.screen).on_hide();
        }
        self.screen = id;
        self.screen_chosen = true;
        let mut cx = Cx::new(&self.shared, effects, &mut self.notices);
        self.screens.get_mut(id).on_show(&mut cx);
    }

    fn show_tree(&mut self, focus: TreeFocus, effects: &mut Vec<Effect>) {
        self.screens.tree.set_focus(focus);
        self.show(ScreenId::Tree, effects);
    }

    /// `:` commands: the app's own, then each screen's.
    fn run_command(&mut self, line: &str, effects: &mut Vec<Effect>) {
        let mut parts = line.splitn(2, char::is_whitespace);
        let cmd = parts.next().unwrap_or_default();
        let arg = parts.next().map(str::trim).unwrap_or_default();
        match cmd {
            "" => {}
            "q" | "quit" | "q!" => self.should_quit = true,
            "help" => self.overlay = Some(Overlay::Help(self.screen_scope())),
            "theme" => match Theme::builtin(arg) {
                Ok(t) => {
                    self.notify(NoticeLevel::Info, strings::theme_switched(&t.name));
                    self.shared.theme = t;
                }
                Err(e) => self.notify(NoticeLevel::Error, format!("{e:#}")),
            },
            "reload" => {
                let mut cx = Cx::new(&self.shared, effects, &mut self.notices);
                for (_, screen) in self.screens.all_mut() {
                    screen.reload(&mut cx);
                }
            }
            _ => {
                // `:find PATTERN` searches under the znode selected in the tree.
                let here = self.screens.tree.selected_path().unwrap_or(&self.shared.root).to_string();
                self.screens.find.set_default_root(&here);
                let mut cx = Cx::new(&self.shared, effects, &mut self.notices);
                let nav = self.screens.all_mut().into_iter().find_map(|(_, s)| s.command(cmd, arg, &mut cx));
                match nav {
                    Some(nav) => self.on_nav(nav, effects),
                    None => self.notify(NoticeLevel::Error, strings::unknown_command(cmd)),
                }
            }
        }
    }

    /// Keeps the editor's unsaved text in its draft (ticks, quit, signals).
    fn keep_draft(&mut self, effects: &mut Vec<Effect>) {
        if let Some(Overlay::Editor(e)) = &mut self.overlay {
            let mut cx = Cx::new(&self.shared, effects, &mut self.notices);
            overlays::editor::keep_draft(e, &mut cx);
        }
    }

    /// The failover and backups screens follow the cluster chosen on the cluster screen.
    fn follow_cluster(&mut self, effects: &mut Vec<Effect>) {
        let mut cx = Cx::new(&self.shared, effects, &mut self.notices);
        let chosen = self.screens.cluster.store().selected.as_deref();
        self.screens.failover.follow(chosen, &mut cx);
        self.screens.backups.follow(chosen, &mut cx);
    }

    /// Keeps derived state in step, and tells the watch what is worth reading when that
    /// changed (the loaded part of the tree, the cluster list, the cluster on screen).
    fn after_change(&mut self, effects: &mut Vec<Effect>) {
        self.follow_cluster(effects);
        let mut cx = Cx::new(&self.shared, effects, &mut self.notices);
        for (_, screen) in self.screens.all_mut() {
            screen.after_update(&mut cx);
        }
        let versions = self.screens.all().map(|s| s.interest_version());
        if self.interest_sent.as_ref() == Some(&versions) {
            return;
        }
        let mut interest = Interest::default();
        for screen in self.screens.all() {
            screen.interest(&mut interest);
        }
        effects.push(Effect::Interest(Arc::new(interest)));
        self.interest_sent = Some(versions);
    }
}

pub use overlays::editor::validate_text;
