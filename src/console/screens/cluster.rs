//! The cluster screen: one cluster's verdict, topology and node table, live from the watch;
//! `[`/`]` and `:cluster NAME` choose the cluster, `enter` opens a node's full status, `S`
//! plans a switchover and `H` shows the operations (both on the failover screen), `:ack`
//! acknowledges the last automatic failover (lifts the coordinator's cool-down).

use ratatui::layout::Rect;
use ratatui::Frame;

use super::{Nav, Screen};
use crate::cluster::ClusterPaths;
use crate::console::clusters::ClusterStore;
use crate::console::event::Effect;
use crate::console::keymap::{Action, Scope};
use crate::console::overlays::{NodeDetail, Overlay};
use crate::console::shared::{Cx, Shared};
use crate::console::strings;
use crate::console::view::cluster_pane;
use crate::failover::plan::OpKind;
use crate::zk::watch::Interest;
use crate::zk::ZkEvent;

pub struct ClusterScreen {
    root: String,
    store: ClusterStore,
}

impl ClusterScreen {
    pub fn new(root: &str) -> ClusterScreen {
        ClusterScreen { root: root.to_string(), store: ClusterStore::new(root) }
    }

    pub fn store(&self) -> &ClusterStore {
        &self.store
    }

    /// Chooses the cluster shown (reads it); an unknown name is refused with a notice.
    pub fn select(&mut self, name: &str, cx: &mut Cx<'_>) -> bool {
        match self.store.select(name) {
            Ok(more) => {
                cx.effects(more);
                true
            }
            Err(e) => {
                cx.error(e);
                false
            }
        }
    }

    /// `:ack [NAME]`: acknowledges the last automatic failover of the chosen cluster (or the
    /// one named), as `myzoo ack` does; the executor writes it and posts the result.
    fn acknowledge(&self, arg: &str, cx: &mut Cx<'_>) {
        if cx.shared.read_only {
            cx.error(strings::READ_ONLY_REFUSED);
            return;
        }
        let store = &self.store;
        let cluster = if arg.is_empty() { store.selected.clone() } else { Some(arg.to_string()) };
        let Some(cluster) = cluster else {
            cx.error(strings::NO_CLUSTER_SELECTED);
            return;
        };
        if store.names_loaded && !store.names.contains(&cluster) {
            cx.error(strings::no_such_cluster(&cluster, &store.names));
            return;
        }
        cx.effect(Effect::Acknowledge { cluster });
    }
}

impl Screen for ClusterScreen {
    fn scope(&self) -> Scope {
        Scope::Cluster
    }

    fn on_action(&mut self, action: Action, cx: &mut Cx<'_>) -> Nav {
        let store = &mut self.store;
        match action {
            Action::Up => store.move_cursor(-1),
            Action::Down => store.move_cursor(1),
            Action::PageUp | Action::Top => store.move_cursor(isize::MIN / 2),
            Action::PageDown | Action::Bottom => store.move_cursor(isize::MAX / 2),
            Action::NextCluster => cx.effects(store.cycle(true)),
            Action::PrevCluster => cx.effects(store.cycle(false)),
            Action::Toggle | Action::Expand => {
                if let Some(node) = store.cursor_node() {
                    return Nav::Open(Overlay::NodeDetail(NodeDetail::new(node)));
                }
            }
            Action::Reload => cx.effects(store.reload()),
            Action::PlanSwitchover => return Nav::Failover { plan: Some((OpKind::Switchover, None)) },
            Action::PlanFailover => return Nav::Failover { plan: Some((OpKind::Failover, None)) },
            Action::PlanRejoin => {
                let node = store.cursor_node().map(str::to_string);
                return Nav::Failover { plan: Some((OpKind::Rejoin, node)) };
            }
            Action::ShowFailover => return Nav::Failover { plan: None },
            Action::Back => return Nav::Show(super::ScreenId::Overview),
            Action::Collapse | Action::Filter => {}
            _ => return Nav::Pass,
        }
        Nav::Done
    }

    fn on_zk(&mut self, ev: &ZkEvent, cx: &mut Cx<'_>) -> bool {
        let now_ms = cx.shared.now_ms();
        match ev {
            ZkEvent::Ready { .. } => {
                cx.effects(self.store.reload());
                false
            }
            ZkEvent::Children { parent, children, .. } => {
                let (more, changed) = self.store.apply_children(&parent.path, children, now_ms);
                cx.effects(more);
                changed
            }
            ZkEvent::Node(info) => self.store.apply_node(info, now_ms),
            ZkEvent::Deleted { path } => self.store.apply_deleted(path, now_ms),
            _ => false,
        }
    }

    /// Status ages only matter while the screen shows them; automatic failover (a cool-down
    /// ending) is in the header on other screens too.
    fn on_tick(&mut self, shown: bool, cx: &mut Cx<'_>) -> bool {
        self.store.on_tick(cx.shared.now_ms(), shown)
    }

    fn reload(&mut self, cx: &mut Cx<'_>) {
        cx.effects(self.store.reload());
    }

    fn on_show(&mut self, cx: &mut Cx<'_>) {
        self.store.recompute(cx.shared.now_ms());
    }

    fn command(&mut self, cmd: &str, arg: &str, cx: &mut Cx<'_>) -> Option<Nav> {
        if cmd == "ack" {
            self.acknowledge(arg, cx);
            return Some(Nav::Done);
        }
        if !matches!(cmd, "cluster" | "c") {
            return None;
        }
        if arg.is_empty() {
            cx.error(strings::CLUSTER_USAGE);
            return Some(Nav::Done);
        }
        Some(match self.store.select(arg) {
            Ok(more) => {
                cx.effects(more);
                Nav::Show(super::ScreenId::Cluster)
            }
            Err(e) => {
                cx.error(e);
                Nav::Done
            }
        })
    }

    fn interest(&self, interest: &mut Interest) {
        interest.parents.insert(ClusterPaths::clusters_dir(&self.root));
        interest.prefixes.extend(self.store.selected_base());
    }

    fn interest_version(&self) -> u64 {
        // The selected cluster is the only thing that moves the interest; names are short.
        self.store.selected.as_deref().map_or(0, |s| {
            s.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
        })
    }

    fn status_line(&self) -> String {
        let store = &self.store;
        let total = store.view.as_ref().map_or(0, |v| v.topology.len());
        let name = store.selected.as_deref().unwrap_or("-");
        let node = store.cursor_node().unwrap_or("-");
        let pos = if total == 0 { 0 } else { store.cursor + 1 };
        format!("cluster {name} · node {node} {pos}/{total}")
    }

    fn draw(&self, frame: &mut Frame<'_>, area: Rect, sh: &Shared) {
        cluster_pane::draw(frame, &sh.theme, &self.store, area);
    }
}
