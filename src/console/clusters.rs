//! The console's live copy of the clusters: the names under `<root>/clusters`, and for the
//! chosen cluster its config, primary record, coordinator state and node statuses, kept
//! current by the same
//! watch events that feed the tree. The verdicts come from `cluster::health`, recomputed when
//! the data changes and when the clock moves (status ages).

use crate::cluster::coordinator::AutoFailover;
use crate::cluster::health::{automatic_failover, evaluate, ClusterSnapshot, ClusterView};
use crate::cluster::{split_cluster_path, ClusterPaths};
use crate::zk::{base_name, parent_path, NodeInfo};

use super::event::Effect;

#[derive(Debug, Clone)]
pub struct ClusterStore {
    root: String,
    pub names: Vec<String>,
    /// Whether `<root>/clusters` has been read (an empty list then means "no clusters").
    pub names_loaded: bool,
    pub selected: Option<String>,
    snap: ClusterSnapshot,
    pub view: Option<ClusterView>,
    /// Index into the view's topology order.
    pub cursor: usize,
}

impl ClusterStore {
    pub fn new(root: &str) -> ClusterStore {
        ClusterStore {
            root: root.trim_end_matches('/').to_string(),
            names: Vec::new(),
            names_loaded: false,
            selected: None,
            snap: ClusterSnapshot::default(),
            view: None,
            cursor: 0,
        }
    }

    fn paths(&self) -> Option<ClusterPaths> {
        self.selected.as_deref().map(|c| ClusterPaths::new(&self.root, c))
    }

    /// `<root>/clusters/<selected>`: everything under it is on the cluster screen.
    pub fn selected_base(&self) -> Option<String> {
        self.paths().map(|p| p.base())
    }

    /// What to read after (re)connecting: the cluster list, and the chosen cluster.
    pub fn reload(&self) -> Vec<Effect> {
        let mut e = vec![Effect::LoadChildren(ClusterPaths::clusters_dir(&self.root))];
        e.extend(self.cluster_reads());
        e
    }

    fn cluster_reads(&self) -> Vec<Effect> {
        match self.paths() {
            Some(p) => {
                vec![
                    Effect::FetchNode(p.config()),
                    Effect::FetchNode(p.primary()),
                    Effect::FetchNode(p.coordinator_dir()),
                    Effect::LoadChildren(p.nodes_dir()),
                ]
            }
            None => Vec::new(),
        }
    }

    /// Chooses a cluster; returns the reads it needs. Unknown names are refused.
    pub fn select(&mut self, name: &str) -> Result<Vec<Effect>, String> {
        if self.names_loaded && !self.names.iter().any(|n| n == name) {
            return Err(super::strings::no_such_cluster(name, &self.names));
        }
        if self.selected.as_deref() == Some(name) {
            return Ok(Vec::new());
        }
        self.selected = Some(name.to_string());
        self.snap = ClusterSnapshot { name: name.to_string(), ..ClusterSnapshot::default() };
        self.view = None;
        self.cursor = 0;
        Ok(self.cluster_reads())
    }

    /// The next (or previous) cluster in name order.
    pub fn cycle(&mut self, forward: bool) -> Vec<Effect> {
        if self.names.is_empty() {
            return Vec::new();
        }
        let i = self.selected.as_ref().and_then(|s| self.names.iter().position(|n| n == s)).unwrap_or(0);
        let n = self.names.len();
        let next = if forward { (i + 1) % n } else { (i + n - 1) % n };
        let name = self.names[next].clone();
        self.select(&name).unwrap_or_default()
    }

    /// Applies a children read; returns reads to issue (a first cluster to show) and whether
    /// anything here changed.
    pub fn apply_children(&mut self, parent: &str, children: &[NodeInfo], now_ms: i64) -> (Vec<Effect>, bool) {
        if parent == ClusterPaths::clusters_dir(&self.root) {
            self.names = children.iter().map(|c| base_name(&c.path).to_string()).collect();
            self.names.sort();
            self.names_loaded = true;
            let effects = match (&self.selected, self.names.first().cloned()) {
                (None, Some(first)) => self.select(&first).unwrap_or_default(),
                _ => Vec::new(),
            };
            return (effects, true);
        }
        let Some(p) = self.paths() else { return (Vec::new(), false) };
        if parent != p.nodes_dir() {
            return (Vec::new(), false);
        }
        let fresh: std::collections::BTreeMap<String, Vec<u8>> =
            children.iter().map(|c| (base_name(&c.path).to_string(), c.data.clone())).collect();
        for gone in self.snap.nodes.keys().filter(|k| !fresh.contains_key(*k)) {
            self.snap.departed.insert(gone.clone());
        }
        for name in fresh.keys() {
            self.snap.departed.remove(name);
        }
        self.snap.nodes = fresh;
        self.recompute(now_ms);
        (Vec::new(), true)
    }

    /// Applies a created or changed znode; returns whether anything here changed.
    pub fn apply_node(&mut self, info: &NodeInfo, now_ms: i64) -> bool {
        let Some((cluster, rest)) = split_cluster_path(&self.root, &info.path) else { return false };
        if rest.is_empty() {
            if !self.names.iter().any(|n| n == cluster) {
                self.names.push(cluster.to_string());
                self.names.sort();
                return true;
            }
            return false;
        }
        if self.selected.as_deref() != Some(cluster) {
            return false;
        }
        match rest {
            "config" => self.snap.config = Some(info.data.clone()),
            "primary" => self.snap.primary = Some(info.data.clone()),
            // Its data only: the election znodes below it are not shown.
            "coordinator" => self.snap.coordinator = Some(info.data.clone()),
            r => match r.strip_prefix("nodes/") {
                Some(node) if !node.contains('/') => {
                    self.snap.departed.remove(node);
                    self.snap.nodes.insert(node.to_string(), info.data.clone());
                }
                _ => return false,
            },
        }
        self.recompute(now_ms);
        true
    }

    /// Applies a deletion; returns whether anything here changed.
    pub fn apply_deleted(&mut self, path: &str, now_ms: i64) -> bool {
        let Some((cluster, rest)) = split_cluster_path(&self.root, path) else { return false };
        if rest.is_empty() && parent_path(path) == ClusterPaths::clusters_dir(&self.root) {
            self.names.retain(|n| n != cluster);
            return true;
        }
        if self.selected.as_deref() != Some(cluster) {
            return false;
        }
        match rest {
            "config" => self.snap.config = None,
            "primary" => self.snap.primary = None,
            "coordinator" => self.snap.coordinator = None,
            r => match r.strip_prefix("nodes/") {
                Some(node) if !node.contains('/') => {
                    if self.snap.nodes.remove(node).is_some() {
                        self.snap.departed.insert(node.to_string());
                    }
                }
                _ => return false,
            },
        }
        self.recompute(now_ms);
        true
    }

    /// Re-judges the cluster (statuses age with the clock); returns whether the view changed.
    pub fn recompute(&mut self, now_ms: i64) -> bool {
        if self.selected.is_none() {
            return false;
        }
        let view = evaluate(&self.snap, now_ms);
        let changed = self.view.as_ref() != Some(&view);
        self.cursor = self.cursor.min(view.topology.len().saturating_sub(1));
        self.view = Some(view);
        changed
    }

    /// The clock moved. Shown, the whole cluster is re-judged (status ages); not shown, only
    /// automatic failover (the header shows it on every screen but the overview), so a
    /// cool-down that ends is seen without a redraw every tick. Returns whether anything
    /// visible changed.
    pub fn on_tick(&mut self, now_ms: i64, shown: bool) -> bool {
        if shown {
            return self.recompute(now_ms);
        }
        let Some(view) = self.view.as_mut() else { return false };
        let fresh = automatic_failover(&self.snap, view.config.as_ref(), now_ms);
        if fresh == view.automatic_failover {
            return false;
        }
        view.automatic_failover = fresh;
        true
    }

    /// What automatic failover does in the chosen cluster, once its config is read.
    pub fn auto_failover(&self) -> Option<&AutoFailover> {
        self.view.as_ref()?.automatic_failover.as_ref()
    }

    /// The slowest re-publish interval among the agents registered now (their znodes exist),
    /// or `None` when no agent is registered in the shown cluster.
    pub fn slowest_heartbeat_ms(&self) -> Option<u64> {
        let view = self.view.as_ref()?;
        view.nodes
            .iter()
            .filter(|n| self.snap.nodes.contains_key(&n.name))
            .filter_map(|n| n.status.as_ref().map(|s| s.agent.heartbeat_ms))
            .max()
    }

    pub fn move_cursor(&mut self, delta: isize) {
        let len = self.view.as_ref().map_or(0, |v| v.topology.len());
        if len == 0 {
            return;
        }
        self.cursor = (self.cursor as isize + delta).clamp(0, len as isize - 1) as usize;
    }

    /// The node under the cursor.
    pub fn cursor_node(&self) -> Option<&str> {
        self.view.as_ref()?.topology.get(self.cursor).map(|t| t.node.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zk::NodeStat;

    fn info(path: &str, data: &[u8]) -> NodeInfo {
        NodeInfo { path: path.into(), stat: NodeStat::default(), data: data.to_vec() }
    }

    #[test]
    fn first_cluster_is_chosen_and_read() {
        let mut s = ClusterStore::new("/myzoo");
        assert_eq!(s.reload(), vec![Effect::LoadChildren("/myzoo/clusters".into())]);
        let (effects, changed) =
            s.apply_children("/myzoo/clusters", &[info("/myzoo/clusters/b", b""), info("/myzoo/clusters/a", b"")], 0);
        assert!(changed);
        assert_eq!(s.names, ["a", "b"]);
        assert_eq!(s.selected.as_deref(), Some("a"));
        assert_eq!(
            effects,
            vec![
                Effect::FetchNode("/myzoo/clusters/a/config".into()),
                Effect::FetchNode("/myzoo/clusters/a/primary".into()),
                Effect::FetchNode("/myzoo/clusters/a/coordinator".into()),
                Effect::LoadChildren("/myzoo/clusters/a/nodes".into()),
            ]
        );
        assert!(s.select("zzz").is_err());
        assert_eq!(s.cycle(true).len(), 4);
        assert_eq!(s.selected.as_deref(), Some("b"));
    }

    #[test]
    fn nodes_come_and_go_as_departed() {
        let mut s = ClusterStore::new("/myzoo");
        s.apply_children("/myzoo/clusters", &[info("/myzoo/clusters/a", b"")], 0);
        s.apply_children("/myzoo/clusters/a/nodes", &[info("/myzoo/clusters/a/nodes/db1", b"{}")], 0);
        assert!(s.view.as_ref().unwrap().node("db1").is_some());
        assert!(s.apply_deleted("/myzoo/clusters/a/nodes/db1", 0));
        let v = s.view.as_ref().unwrap();
        assert_eq!(v.node("db1").unwrap().state, crate::cluster::health::NodeState::AgentGone);
        assert!(s.apply_node(&info("/myzoo/clusters/a/nodes/db1", b"{}"), 0));
        assert_eq!(s.view.as_ref().unwrap().node("db1").unwrap().state, crate::cluster::health::NodeState::Unreadable);
        // Other clusters' and other folders' changes are not ours.
        assert!(!s.apply_node(&info("/myzoo/clusters/b/nodes/x", b"{}"), 0));
        assert!(!s.apply_node(&info("/myzoo/clusters/a/history/h1", b"{}"), 0));
        assert!(s.apply_node(&info("/myzoo/clusters/c", b""), 0));
        assert_eq!(s.names, ["a", "c"]);
    }

    /// The coordinator's data reaches the verdict; its election znodes do not matter.
    #[test]
    fn the_coordinator_state_is_kept_live() {
        use crate::cluster::coordinator::AutoMode;
        let mut s = ClusterStore::new("/myzoo");
        s.apply_children("/myzoo/clusters", &[info("/myzoo/clusters/a", b"")], 0);
        let config = br#"{"schema":1,"name":"a","tier":"test","nodes":[],"failover":{"automatic":true}}"#;
        assert!(s.apply_node(&info("/myzoo/clusters/a/config", config), 0));
        s.apply_children("/myzoo/clusters/a/nodes", &[info("/myzoo/clusters/a/nodes/db2", b"{}")], 0);
        assert_eq!(s.auto_failover().map(|a| a.mode), Some(AutoMode::NoCoordinator));
        let state = br#"{"leader":"db2","mode":"blocked","last_failover_ms":100,"blocked_until_ms":5000}"#;
        assert!(s.apply_node(&info("/myzoo/clusters/a/coordinator", state), 1_000));
        assert_eq!(s.auto_failover().map(|a| a.mode), Some(AutoMode::Blocked));
        assert!(!s.apply_node(&info("/myzoo/clusters/a/coordinator/c-0000000001", b"{}"), 1_000));
        // Not shown: a tick re-judges automatic failover only, and only reports a change.
        assert!(!s.on_tick(2_000, false));
        assert!(s.on_tick(6_000, false), "the cool-down ended");
        assert_eq!(s.auto_failover().map(|a| a.mode), Some(AutoMode::On));
        assert!(s.apply_deleted("/myzoo/clusters/a/coordinator", 6_000));
        assert_eq!(s.auto_failover().map(|a| a.mode), Some(AutoMode::NoCoordinator));
    }
}
