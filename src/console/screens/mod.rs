//! The console's screens. Each is one type in its own file that owns its state and handles its
//! keys (named actions from the keymap, in its own scope), its ZooKeeper events, its watch
//! interest, its status line and its drawing; it answers with a [`Nav`]. `App` routes to them.
//!
//! Adding a screen: a new file here implementing [`Screen`], a variant in [`ScreenId`], a field
//! in [`Screens`] (the registration: `get`, `get_mut` and `all_mut` list it), and its bindings
//! in the keymap's table under its own scope.

pub mod audit;
pub mod backups;
pub mod cluster;
pub mod ensemble;
pub mod failover;
pub mod find;
pub mod overview;
pub mod tree;

use ratatui::layout::Rect;
use ratatui::Frame;

use super::keymap::{Action, Scope};
use super::overlays::Overlay;
use super::shared::{Cx, Shared};
use crate::zk::watch::Interest;
use crate::zk::ZkEvent;

/// Which screen is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScreenId {
    Overview,
    Cluster,
    Tree,
    Audit,
    Find,
    Failover,
    Backups,
    Ensemble,
}

/// What a screen (or overlay) wants after handling something.
pub enum Nav {
    /// Handled; nothing else to do.
    Done,
    /// Not for this screen: the app's common keys get it.
    Pass,
    /// Show another screen.
    Show(ScreenId),
    /// Open an overlay on top.
    Open(Overlay),
    /// Show the tree with this znode selected (read first where needed).
    Goto(String),
    /// Show this cluster on the cluster screen.
    Cluster(String),
    /// Show the failover screen for the cluster chosen, asking for a plan of this kind (with
    /// the node to promote or to rejoin).
    Failover {
        plan: Option<(crate::failover::plan::OpKind, Option<String>)>,
    },
    /// An overlay's answer for the backups screen (a note typed, a restore or cancel confirmed).
    Backup(backups::BackupRequest),
    Quit,
}

pub trait Screen {
    /// The keymap scope of what has the focus on this screen.
    fn scope(&self) -> Scope;

    /// A named action from the keymap.
    fn on_action(&mut self, action: Action, cx: &mut Cx<'_>) -> Nav;

    /// A ZooKeeper result; returns whether anything this screen shows changed.
    fn on_zk(&mut self, ev: &ZkEvent, cx: &mut Cx<'_>) -> bool;

    /// The clock moved; `shown` says whether this screen is on screen. Returns whether a
    /// redraw is needed.
    fn on_tick(&mut self, _shown: bool, _cx: &mut Cx<'_>) -> bool {
        false
    }

    /// The screen became the shown one.
    fn on_show(&mut self, _cx: &mut Cx<'_>) {}

    /// Another screen is shown instead.
    fn on_hide(&mut self) {}

    /// Read again everything shown (`:reload`).
    fn reload(&mut self, _cx: &mut Cx<'_>) {}

    /// A `:` command this screen owns (`None`: not one of its commands).
    fn command(&mut self, _cmd: &str, _arg: &str, _cx: &mut Cx<'_>) -> Option<Nav> {
        None
    }

    /// The live `/` filter, when the screen has one.
    fn filter(&self) -> Option<&str> {
        None
    }

    fn set_filter(&mut self, _filter: Option<String>) {}

    /// Adds what this screen needs the watch to read; `interest_version` changes whenever
    /// that would change, so the app only sends a new interest when needed.
    fn interest(&self, _interest: &mut Interest) {}

    fn interest_version(&self) -> u64 {
        0
    }

    /// Derived state kept in step after every update (scroll offsets, formatted data …).
    fn after_update(&mut self, _cx: &mut Cx<'_>) {}

    /// The status line when no notice is shown.
    fn status_line(&self) -> String;

    fn draw(&self, frame: &mut Frame<'_>, area: Rect, sh: &Shared);
}

/// Rows a page key moves a list cursor by.
pub const LIST_PAGE_ROWS: usize = 10;

/// Moves a list screen's cursor for the movement actions (up, down, page up/down, top,
/// bottom) over `len` rows; returns false for any other action.
pub fn move_list_cursor(cursor: &mut usize, action: Action, len: usize) -> bool {
    let last = len.saturating_sub(1);
    *cursor = match action {
        Action::Up => cursor.saturating_sub(1),
        Action::Down => (*cursor + 1).min(last),
        Action::PageUp => cursor.saturating_sub(LIST_PAGE_ROWS),
        Action::PageDown => (*cursor + LIST_PAGE_ROWS).min(last),
        Action::Top => 0,
        Action::Bottom => last,
        _ => return false,
    };
    true
}

/// How many screens there are (the length of [`Screens::all`]).
pub const SCREEN_COUNT: usize = 8;

/// Every screen, registered once.
pub struct Screens {
    pub overview: overview::OverviewScreen,
    pub cluster: cluster::ClusterScreen,
    pub tree: tree::TreeScreen,
    pub audit: audit::AuditScreen,
    pub find: find::FindScreen,
    pub failover: failover::FailoverScreen,
    pub backups: backups::BackupsScreen,
    pub ensemble: ensemble::EnsembleScreen,
}

impl Screens {
    pub fn new(root: &str) -> Screens {
        Screens {
            overview: overview::OverviewScreen::new(root),
            cluster: cluster::ClusterScreen::new(root),
            tree: tree::TreeScreen::new(root),
            audit: audit::AuditScreen::default(),
            find: find::FindScreen::new(root),
            failover: failover::FailoverScreen::new(root),
            backups: backups::BackupsScreen::new(),
            ensemble: ensemble::EnsembleScreen::new(),
        }
    }

    pub fn get(&self, id: ScreenId) -> &dyn Screen {
        match id {
            ScreenId::Overview => &self.overview,
            ScreenId::Cluster => &self.cluster,
            ScreenId::Tree => &self.tree,
            ScreenId::Audit => &self.audit,
            ScreenId::Find => &self.find,
            ScreenId::Failover => &self.failover,
            ScreenId::Backups => &self.backups,
            ScreenId::Ensemble => &self.ensemble,
        }
    }

    pub fn get_mut(&mut self, id: ScreenId) -> &mut dyn Screen {
        match id {
            ScreenId::Overview => &mut self.overview,
            ScreenId::Cluster => &mut self.cluster,
            ScreenId::Tree => &mut self.tree,
            ScreenId::Audit => &mut self.audit,
            ScreenId::Find => &mut self.find,
            ScreenId::Failover => &mut self.failover,
            ScreenId::Backups => &mut self.backups,
            ScreenId::Ensemble => &mut self.ensemble,
        }
    }

    /// Every screen with its id, for events every screen may care about. The tree comes
    /// first so that after a (re)connect `/` is the first read (the first frame needs it).
    pub fn all_mut(&mut self) -> [(ScreenId, &mut dyn Screen); SCREEN_COUNT] {
        [
            (ScreenId::Tree, &mut self.tree),
            (ScreenId::Overview, &mut self.overview),
            (ScreenId::Cluster, &mut self.cluster),
            (ScreenId::Audit, &mut self.audit),
            (ScreenId::Find, &mut self.find),
            (ScreenId::Failover, &mut self.failover),
            (ScreenId::Backups, &mut self.backups),
            (ScreenId::Ensemble, &mut self.ensemble),
        ]
    }

    pub fn all(&self) -> [&dyn Screen; SCREEN_COUNT] {
        [
            &self.tree,
            &self.overview,
            &self.cluster,
            &self.audit,
            &self.find,
            &self.failover,
            &self.backups,
            &self.ensemble,
        ]
    }
}
