//! The znode tree screen: the tree pane (lazy, live, filtered) and the znode pane (stat, ACL,
//! data with secrets masked); `:goto` selects a path, reading what is missing on the way.

use std::collections::HashMap;
use std::sync::Arc;

use ratatui::layout::Rect;
use ratatui::Frame;

use super::{Nav, Screen};
use crate::console::dialogs::{AclForm, CreateForm};
use crate::console::event::Effect;
use crate::console::keymap::{Action, Scope};
use crate::console::overlays::{Input, Overlay};
use crate::console::shared::{Cx, Shared};
use crate::console::strings;
use crate::console::tree::TreeModel;
use crate::console::view::{self, detail, layout, tree_pane};
use crate::secrets;
use crate::zk::format::{render_data, DataView};
use crate::zk::watch::Interest;
use crate::zk::{base_name, parent_path, AclEntry, ZkEvent};

/// Which of the screen's two panes has the focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeFocus {
    Tree,
    Detail,
}

/// The selected znode's data as the znode pane shows it, formatted once per change.
#[derive(Debug, Clone)]
pub struct DetailCache {
    pub path: String,
    pub mzxid: i64,
    pub czxid: i64,
    pub view: Arc<DataView>,
}

/// What is known of a znode's ACL.
#[derive(Debug, Clone, PartialEq)]
pub enum AclState {
    /// Asked for; the answer replaces this.
    Asked,
    /// Read when the tree's stat said `aversion` (it is read again when that moves), with the
    /// ACL version the server returned with it (`acl_version`, what an edit is checked
    /// against; -1 when unreadable), or why it could not be read.
    Read { aversion: i32, acl_version: i32, acl: Result<Vec<AclEntry>, String> },
}

pub struct TreeScreen {
    tree: TreeModel,
    /// First tree row shown.
    offset: usize,
    focus: TreeFocus,
    detail: Option<DetailCache>,
    detail_scroll: u16,
    acls: HashMap<String, AclState>,
    /// The path `:goto` (or start-up) wants selected once it has been read.
    pending_goto: Option<String>,
    /// Password-like keys held in plain text by the znodes on screen, by path, with the mzxid
    /// they were looked for at (looked for once per change, only for visible rows).
    secrets: HashMap<String, (i64, Vec<String>)>,
}

impl TreeScreen {
    pub fn new(root: &str) -> TreeScreen {
        TreeScreen {
            tree: TreeModel::default(),
            offset: 0,
            focus: TreeFocus::Tree,
            detail: None,
            detail_scroll: 0,
            acls: HashMap::new(),
            pending_goto: Some(root.to_string()),
            secrets: HashMap::new(),
        }
    }

    /// The password-like keys `path`'s data holds in plain text (empty when none, or not looked
    /// at: data over [`crate::secrets::MARKER_SCAN_MAX_BYTES`] is left to `:secrets`).
    pub fn plain_text_secrets(&self, path: &str) -> &[String] {
        self.secrets.get(path).map_or(&[], |(_, keys)| keys.as_slice())
    }

    /// Forgets `path`'s ACL so it is read again (after this console changed it: ZooKeeper's
    /// watches say nothing about ACL changes).
    pub fn forget_acl(&mut self, path: &str) {
        self.acls.remove(path);
    }

    /// Looks for plain-text secrets in the visible rows whose data changed since last looked.
    fn mark_secrets(&mut self, rows: usize) {
        let visible: Vec<String> =
            self.tree.rows().iter().skip(self.offset).take(rows).map(|r| r.path.clone()).collect();
        for path in visible {
            let Some(node) = self.tree.node(&path) else { continue };
            let Some(stat) = node.stat else { continue };
            if self.secrets.get(&path).is_some_and(|(mzxid, _)| *mzxid == stat.mzxid) {
                continue;
            }
            let keys = if node.data.len() <= secrets::MARKER_SCAN_MAX_BYTES {
                secrets::plain_text_secrets(&node.data)
            } else {
                Vec::new()
            };
            self.secrets.insert(path, (stat.mzxid, keys));
        }
        if self.secrets.len() > self.tree.len() * 2 {
            let tree = &self.tree;
            self.secrets.retain(|p, _| tree.node(p).is_some());
        }
    }

    pub fn tree(&self) -> &TreeModel {
        &self.tree
    }

    pub fn focus(&self) -> TreeFocus {
        self.focus
    }

    pub fn offset(&self) -> usize {
        self.offset
    }

    pub fn detail(&self) -> Option<&DetailCache> {
        self.detail.as_ref()
    }

    pub fn detail_scroll(&self) -> u16 {
        self.detail_scroll
    }

    pub fn acl(&self, path: &str) -> Option<&AclState> {
        self.acls.get(path)
    }

    pub fn pending_goto(&self) -> Option<&str> {
        self.pending_goto.as_deref()
    }

    pub fn selected_path(&self) -> Option<&str> {
        self.tree.selected_path()
    }

    /// Moves the focus between the tree and the znode pane (`2`, `3`).
    pub fn set_focus(&mut self, focus: TreeFocus) {
        self.focus = focus;
    }

    /// Forgets the secrets view of `path` so it is formatted again (after a reveal).
    pub fn refresh_detail(&mut self) {
        self.detail = None;
    }

    fn page(sh: &Shared) -> usize {
        usize::from(layout(sh.size).tree_rows).max(1)
    }

    fn expand_path(&mut self, path: &str, cx: &mut Cx<'_>) {
        if self.tree.expand(path) {
            cx.effect(Effect::LoadChildren(path.to_string()));
        }
    }

    fn expand_selected(&mut self, cx: &mut Cx<'_>) {
        let Some(path) = self.tree.selected_path().map(str::to_string) else {
            return;
        };
        if self.tree.is_expanded(&path) && self.tree.has_children(&path) {
            self.tree.move_selection(1);
        } else {
            self.expand_path(&path, cx);
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

    /// Expands every ancestor of `target` (reading what is missing) and selects it once read.
    pub fn goto(&mut self, target: &str, cx: &mut Cx<'_>) {
        self.tree.set_filter(None);
        let mut prefix = String::new();
        let segments: Vec<&str> = target.split('/').filter(|s| !s.is_empty()).collect();
        self.expand_path("/", cx);
        for seg in segments.iter().take(segments.len().saturating_sub(1)) {
            prefix.push('/');
            prefix.push_str(seg);
            self.expand_path(&prefix, cx);
        }
        // The target is opened too, so that its children show right away.
        if target != "/" {
            self.expand_path(target, cx);
        }
        self.pending_goto = Some(target.to_string());
        self.try_pending_goto(cx);
    }

    fn try_pending_goto(&mut self, cx: &mut Cx<'_>) {
        let Some(target) = self.pending_goto.clone() else {
            return;
        };
        if self.tree.select_path(&target) {
            self.pending_goto = None;
            self.focus = TreeFocus::Tree;
            return;
        }
        // The parent has been read and the target is not among its children.
        let parent = parent_path(&target);
        if let Some(node) = self.tree.node(parent) {
            if node.children.as_ref().is_some_and(|c| !c.contains(base_name(&target))) {
                self.pending_goto = None;
                cx.error(strings::no_such_znode(&target));
            }
        }
    }

    /// The data as the znode pane shows it: secrets masked unless revealed.
    fn display_data(sh: &Shared, path: &str, data: &[u8]) -> DataView {
        if !sh.revealed.contains(path) {
            if let Some(masked) = std::str::from_utf8(data).ok().and_then(secrets::mask_json) {
                return render_data(masked.as_bytes());
            }
        }
        render_data(data)
    }

    fn selected(&self) -> Option<String> {
        self.tree.selected_path().map(str::to_string)
    }
}

impl Screen for TreeScreen {
    fn scope(&self) -> Scope {
        match self.focus {
            TreeFocus::Tree => Scope::Tree,
            TreeFocus::Detail => Scope::Detail,
        }
    }

    fn on_action(&mut self, action: Action, cx: &mut Cx<'_>) -> Nav {
        let detail = self.focus == TreeFocus::Detail;
        let page = Self::page(cx.shared);
        let read_only = cx.shared.read_only;
        match action {
            Action::NextPane if !detail => self.focus = TreeFocus::Detail,
            Action::PrevPane if detail => self.focus = TreeFocus::Tree,
            Action::FocusTree => self.focus = TreeFocus::Tree,
            Action::FocusDetail => self.focus = TreeFocus::Detail,
            Action::Filter => {
                let text = self.tree.filter().unwrap_or_default().to_string();
                return Nav::Open(Overlay::Input(Input::filter(text)));
            }
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
            Action::Expand => self.expand_selected(cx),
            Action::Collapse => self.collapse_selected(),
            Action::Toggle => {
                let Some(path) = self.selected() else { return Nav::Done };
                if self.tree.is_expanded(&path) {
                    self.tree.collapse(&path);
                } else {
                    self.expand_path(&path, cx);
                }
            }
            Action::Back => {
                if self.tree.filter().is_some() {
                    self.tree.set_filter(None);
                } else if detail {
                    self.focus = TreeFocus::Tree;
                } else {
                    return Nav::Pass;
                }
            }
            Action::NewChild | Action::DeleteNode | Action::Reveal if read_only => cx.error(strings::READ_ONLY_REFUSED),
            Action::NewChild | Action::DeleteNode
                if self.tree.selected_path().is_some_and(crate::ops::path::is_system) =>
            {
                cx.error(crate::ops::path::SYSTEM_READ_ONLY_REASON)
            }
            Action::NewChild => {
                if let Some(path) = self.selected() {
                    return Nav::Open(Overlay::Create(CreateForm::new(&path)));
                }
            }
            Action::DeleteNode => {
                if let Some(path) = self.selected().filter(|p| p != "/") {
                    cx.effect(Effect::PlanDelete(path));
                }
            }
            Action::CopyPath => {
                if let Some(path) = self.selected() {
                    cx.info(format!("copied {path}"));
                    cx.effect(Effect::Copy(path));
                }
            }
            Action::Reveal => {
                if let Some(path) = self.selected() {
                    cx.effect(Effect::Reveal(path));
                }
            }
            Action::EditAcl if read_only => cx.error(strings::READ_ONLY_REFUSED),
            Action::EditAcl if self.tree.selected_path().is_some_and(crate::ops::path::is_system) => {
                cx.error(crate::ops::path::SYSTEM_READ_ONLY_REASON)
            }
            Action::EditAcl => {
                let Some(path) = self.selected() else { return Nav::Done };
                match self.acls.get(&path) {
                    Some(AclState::Read { acl: Ok(entries), acl_version, .. }) => {
                        let form = AclForm::new(&path, *acl_version, crate::zk::acl::text(entries));
                        return Nav::Open(Overlay::Acl(Box::new(form)));
                    }
                    Some(AclState::Read { acl: Err(e), .. }) => cx.error(strings::acl_unreadable(e)),
                    Some(AclState::Asked) | None => cx.error(strings::ACL_NOT_READ),
                }
            }
            Action::Edit => {
                if let Some(path) = self.selected() {
                    cx.effect(Effect::OpenEditor { path, drafts_dir: cx.shared.drafts_dir.clone() });
                }
            }
            Action::Reload => {
                if let Some(path) = self.selected() {
                    self.tree.set_loading(&path);
                    cx.effect(Effect::LoadChildren(path.clone()));
                    self.acls.remove(&path);
                }
            }
            _ => return Nav::Pass,
        }
        Nav::Done
    }

    fn on_zk(&mut self, ev: &ZkEvent, cx: &mut Cx<'_>) -> bool {
        match ev {
            ZkEvent::Ready { .. } => {
                self.tree.forget_collapsed();
                self.reload(cx);
                if let Some(target) = self.pending_goto.clone() {
                    self.goto(&target, cx);
                }
                true
            }
            ZkEvent::Children { parent, children, failed } => {
                // Other screens read children too (a cluster's nodes): the tree takes only the
                // reads of znodes it shows, or it would make the watch read all of theirs.
                if self.tree.node(&parent.path).is_none() {
                    return false;
                }
                self.tree.apply_children(parent.clone(), children.clone(), failed.clone());
                self.try_pending_goto(cx);
                true
            }
            ZkEvent::Node(info) => self.tree.apply_node(info.clone()),
            ZkEvent::Deleted { path } => {
                self.tree.apply_deleted(path);
                self.acls.remove(path);
                true
            }
            ZkEvent::Failed { path, error, transient } => {
                // A read that failed for want of a connection is made again on reconnect: the
                // goto waits for it. Only an answer about the znode (NoNode, NoAuth) ends it.
                let on_the_way =
                    self.pending_goto.as_deref().is_some_and(|g| g == path || g.starts_with(&format!("{path}/")));
                // A locked target is still listed by its parent: it is selected (locked, with
                // the reason) once that listing arrives.
                let locked_target = self.pending_goto.as_deref() == Some(path.as_str()) && error.starts_with("NoAuth");
                if on_the_way && !transient && !locked_target {
                    self.pending_goto = None;
                    cx.error(format!("{path}: {error}"));
                }
                self.tree.apply_error(path, error.clone());
                true
            }
            ZkEvent::Acl { path, acl } => {
                // The ACL version read with the ACL is what an edit of it is checked against;
                // the tree's is what says when to read it again.
                let aversion = self.tree.node(path).and_then(|n| n.stat).map_or(-1, |s| s.aversion);
                let state = match acl {
                    Ok((acl_version, entries)) => {
                        AclState::Read { aversion, acl_version: *acl_version, acl: Ok(entries.clone()) }
                    }
                    Err(e) => AclState::Read { aversion, acl_version: -1, acl: Err(e.clone()) },
                };
                self.acls.insert(path.clone(), state);
                true
            }
            ZkEvent::Session { .. }
            | ZkEvent::ConnectedTo { .. }
            | ZkEvent::WatchHeard { .. }
            | ZkEvent::Touched { .. }
            | ZkEvent::ConnectFailed { .. } => false,
        }
    }

    fn command(&mut self, cmd: &str, arg: &str, cx: &mut Cx<'_>) -> Option<Nav> {
        if !matches!(cmd, "goto" | "g" | "cd") {
            return None;
        }
        if !arg.starts_with('/') {
            cx.error(strings::goto_usage());
            return Some(Nav::Done);
        }
        let target = if arg.len() > 1 { arg.trim_end_matches('/') } else { arg };
        Some(Nav::Goto(target.to_string()))
    }

    /// Re-reads everything expanded (after a reconnect, or `:reload`).
    fn reload(&mut self, cx: &mut Cx<'_>) {
        for path in self.tree.expanded_paths() {
            self.tree.set_loading(&path);
            cx.effect(Effect::LoadChildren(path));
        }
        self.acls.clear();
    }

    fn filter(&self) -> Option<&str> {
        self.tree.filter()
    }

    fn set_filter(&mut self, filter: Option<String>) {
        self.tree.set_filter(filter);
    }

    fn interest(&self, interest: &mut Interest) {
        interest.parents.extend(self.tree.loaded_parents().map(str::to_string));
    }

    fn interest_version(&self) -> u64 {
        self.tree.structure_version()
    }

    /// Keeps the scroll offset, the selected znode's formatted data and its ACL read in step.
    fn after_update(&mut self, cx: &mut Cx<'_>) {
        let rows = Self::page(cx.shared);
        let sel = self.tree.selected_index();
        if sel < self.offset {
            self.offset = sel;
        } else if sel >= self.offset + rows {
            self.offset = sel + 1 - rows;
        }
        let len = self.tree.rows().len();
        self.offset = self.offset.min(len.saturating_sub(rows.min(len)));
        self.mark_secrets(rows);
        let Some(path) = self.selected() else {
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
                view: Arc::new(Self::display_data(cx.shared, &path, &node.data)),
            });
        }
        let acl_fresh = match self.acls.get(&path) {
            Some(AclState::Asked) => true,
            Some(AclState::Read { aversion, .. }) => *aversion == stat.aversion,
            None => false,
        };
        if !acl_fresh && cx.shared.generation > 0 {
            self.acls.insert(path.clone(), AclState::Asked);
            cx.effect(Effect::FetchAcl(path));
        }
    }

    fn status_line(&self) -> String {
        let rows = self.tree.rows().len();
        let pos = if rows == 0 { 0 } else { self.tree.selected_index() + 1 };
        format!("{} · {pos}/{rows}", self.tree.selected_path().unwrap_or(""))
    }

    fn draw(&self, frame: &mut Frame<'_>, area: Rect, sh: &Shared) {
        let areas = view::split_tree(area);
        tree_pane::draw(frame, sh, self, areas.0);
        detail::draw(frame, sh, self, areas.1);
    }
}
