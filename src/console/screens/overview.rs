//! The cluster overview: every cluster with its verdict, tier, primary and epoch, replicas,
//! worst lag and automatic-failover state, worst first, filtered with `/`; `enter` opens the
//! cluster screen. While shown it follows every cluster through the watch without reading
//! each change: a change marks its cluster, and marked clusters are read again at most once a
//! second (the tick), so a thousand agent writes a second cost fifty reads.

use std::collections::{BTreeMap, BTreeSet};

use ratatui::layout::Rect;
use ratatui::Frame;

use super::{Nav, Screen};
use crate::cluster::health::{evaluate, ClusterSnapshot, ClusterView, Verdict};
use crate::cluster::{split_cluster_path, ClusterPaths};
use crate::console::event::Effect;
use crate::console::keymap::{Action, Scope};
use crate::console::overlays::{Input, Overlay};
use crate::console::shared::{Cx, Shared};
use crate::console::view::overview_pane;
use crate::zk::watch::Interest;
use crate::zk::{base_name, ZkEvent};

/// One row of the overview.
#[derive(Debug, Clone, PartialEq)]
pub struct OverviewRow {
    pub name: String,
    pub view: ClusterView,
    /// Replicas (nodes other than the recorded primary) with a status.
    pub replicas: usize,
    /// The largest replica lag (heartbeat lag, else `Seconds_Behind_Master`), in ms.
    pub worst_lag_ms: Option<i64>,
}

pub struct OverviewScreen {
    root: String,
    names: BTreeSet<String>,
    names_loaded: bool,
    snaps: BTreeMap<String, ClusterSnapshot>,
    /// Clusters whose znodes changed since they were last read.
    dirty: BTreeSet<String>,
    /// Sorted worst first, then by name; filtered.
    rows: Vec<OverviewRow>,
    filter: Option<String>,
    pub cursor: usize,
    shown: bool,
    /// The filter changed: rebuild the rows on the next update.
    stale_rows: bool,
}

impl OverviewScreen {
    pub fn new(root: &str) -> OverviewScreen {
        OverviewScreen {
            root: root.trim_end_matches('/').to_string(),
            names: BTreeSet::new(),
            names_loaded: false,
            snaps: BTreeMap::new(),
            dirty: BTreeSet::new(),
            rows: Vec::new(),
            filter: None,
            cursor: 0,
            shown: false,
            stale_rows: false,
        }
    }

    pub fn rows(&self) -> &[OverviewRow] {
        &self.rows
    }

    pub fn names_loaded(&self) -> bool {
        self.names_loaded
    }

    pub fn cluster_count(&self) -> usize {
        self.names.len()
    }

    pub fn filter_text(&self) -> Option<&str> {
        self.filter.as_deref()
    }

    fn clusters_dir(&self) -> String {
        ClusterPaths::clusters_dir(&self.root)
    }

    /// Reads one cluster's config, primary record, coordinator state and node statuses.
    fn read(&self, name: &str, cx: &mut Cx<'_>) {
        let p = ClusterPaths::new(&self.root, name);
        cx.effects([
            Effect::FetchNode(p.config()),
            Effect::FetchNode(p.primary()),
            Effect::FetchNode(p.coordinator_dir()),
            Effect::LoadChildren(p.nodes_dir()),
        ]);
    }

    /// Re-judges every cluster (ages move with the clock) and rebuilds the sorted rows.
    fn recompute(&mut self, now_ms: i64) -> bool {
        let filter = self.filter.as_deref().map(str::to_lowercase);
        let mut rows: Vec<OverviewRow> = self
            .names
            .iter()
            .filter(|n| filter.as_deref().is_none_or(|f| n.to_lowercase().contains(f)))
            .map(|name| {
                let snap = self
                    .snaps
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| ClusterSnapshot { name: name.clone(), ..ClusterSnapshot::default() });
                row(name, evaluate(&snap, now_ms))
            })
            .collect();
        rows.sort_by(|a, b| rank(b.view.verdict).cmp(&rank(a.view.verdict)).then_with(|| a.name.cmp(&b.name)));
        let changed = rows != self.rows;
        self.rows = rows;
        self.cursor = self.cursor.min(self.rows.len().saturating_sub(1));
        changed
    }

    /// Re-judges one cluster after a read (the others keep their rows): a read of one cluster
    /// must not re-parse every cluster's statuses.
    fn refresh(&mut self, name: &str, now_ms: i64) -> bool {
        let shown = self.filter.as_deref().is_none_or(|f| name.to_lowercase().contains(&f.to_lowercase()));
        let at = self.rows.iter().position(|r| r.name == name);
        if !shown || !self.names.contains(name) {
            return at.map(|i| self.rows.remove(i)).is_some();
        }
        let snap = self
            .snaps
            .get(name)
            .cloned()
            .unwrap_or_else(|| ClusterSnapshot { name: name.to_string(), ..ClusterSnapshot::default() });
        let fresh = row(name, evaluate(&snap, now_ms));
        match at {
            Some(i) if self.rows[i] == fresh => return false,
            Some(i) => self.rows[i] = fresh,
            None => self.rows.push(fresh),
        }
        self.rows.sort_by(|a, b| rank(b.view.verdict).cmp(&rank(a.view.verdict)).then_with(|| a.name.cmp(&b.name)));
        self.cursor = self.cursor.min(self.rows.len().saturating_sub(1));
        true
    }

    fn snap(&mut self, name: &str) -> &mut ClusterSnapshot {
        self.snaps
            .entry(name.to_string())
            .or_insert_with(|| ClusterSnapshot { name: name.to_string(), ..Default::default() })
    }
}

fn rank(v: Verdict) -> u8 {
    match v {
        Verdict::Healthy => 0,
        Verdict::Degraded => 1,
        Verdict::Unhealthy => 2,
    }
}

fn row(name: &str, view: ClusterView) -> OverviewRow {
    let replicas: Vec<_> = view.nodes.iter().filter(|n| !n.recorded_primary && n.status.is_some()).collect();
    let worst_lag_ms = replicas
        .iter()
        .filter_map(|n| {
            let s = n.status.as_ref()?;
            s.heartbeat_lag_ms.or_else(|| {
                s.replication
                    .as_ref()?
                    .seconds_behind
                    .map(|v| i64::try_from(v.saturating_mul(1000)).unwrap_or(i64::MAX))
            })
        })
        .max();
    OverviewRow { name: name.to_string(), replicas: replicas.len(), worst_lag_ms, view }
}

impl Screen for OverviewScreen {
    fn scope(&self) -> Scope {
        Scope::Overview
    }

    fn on_action(&mut self, action: Action, cx: &mut Cx<'_>) -> Nav {
        if super::move_list_cursor(&mut self.cursor, action, self.rows.len()) {
            return Nav::Done;
        }
        match action {
            Action::Toggle | Action::Expand => {
                if let Some(r) = self.rows.get(self.cursor) {
                    return Nav::Cluster(r.name.clone());
                }
            }
            Action::Filter => {
                return Nav::Open(Overlay::Input(Input::filter(self.filter.clone().unwrap_or_default())));
            }
            Action::Back if self.filter.is_some() => self.set_filter(None),
            Action::Reload => {
                for name in self.names.clone() {
                    self.read(&name, cx);
                }
            }
            _ => return Nav::Pass,
        }
        self.recompute(cx.shared.now_ms());
        Nav::Done
    }

    fn on_zk(&mut self, ev: &ZkEvent, cx: &mut Cx<'_>) -> bool {
        let now_ms = cx.shared.now_ms();
        match ev {
            ZkEvent::Ready { .. } => {
                cx.effect(Effect::LoadChildren(self.clusters_dir()));
                self.dirty.extend(self.names.iter().cloned());
                false
            }
            ZkEvent::Children { parent, children, .. } if parent.path == self.clusters_dir() => {
                let names: BTreeSet<String> = children.iter().map(|c| base_name(&c.path).to_string()).collect();
                for new in names.difference(&self.names) {
                    if self.shown {
                        self.read(new, cx);
                    } else {
                        self.dirty.insert(new.clone());
                    }
                }
                self.snaps.retain(|n, _| names.contains(n));
                self.names = names;
                self.names_loaded = true;
                self.recompute(now_ms)
            }
            ZkEvent::Children { parent, children, .. } => {
                let Some((cluster, "nodes")) = split_cluster_path(&self.root, &parent.path) else { return false };
                let cluster = cluster.to_string();
                let fresh: BTreeMap<String, Vec<u8>> =
                    children.iter().map(|c| (base_name(&c.path).to_string(), c.data.clone())).collect();
                let snap = self.snap(&cluster);
                for gone in snap.nodes.keys().filter(|k| !fresh.contains_key(*k)).cloned().collect::<Vec<_>>() {
                    snap.departed.insert(gone);
                }
                snap.nodes = fresh;
                self.refresh(&cluster, now_ms)
            }
            ZkEvent::Node(info) => {
                let Some((cluster, rest)) = split_cluster_path(&self.root, &info.path) else { return false };
                let (cluster, rest) = (cluster.to_string(), rest.to_string());
                let snap = self.snap(&cluster);
                match rest.as_str() {
                    "config" => snap.config = Some(info.data.clone()),
                    "primary" => snap.primary = Some(info.data.clone()),
                    "coordinator" => snap.coordinator = Some(info.data.clone()),
                    r => match r.strip_prefix("nodes/") {
                        Some(node) if !node.contains('/') => {
                            snap.nodes.insert(node.to_string(), info.data.clone());
                            snap.departed.remove(node);
                        }
                        _ => return false,
                    },
                }
                self.refresh(&cluster, now_ms)
            }
            ZkEvent::Deleted { path } => {
                let Some((cluster, rest)) = split_cluster_path(&self.root, path) else { return false };
                let (cluster, rest) = (cluster.to_string(), rest.to_string());
                if rest.is_empty() {
                    self.names.remove(&cluster);
                    self.snaps.remove(&cluster);
                    return self.refresh(&cluster, now_ms);
                } else if let Some(snap) = self.snaps.get_mut(&cluster) {
                    match rest.as_str() {
                        "config" => snap.config = None,
                        "primary" => snap.primary = None,
                        "coordinator" => snap.coordinator = None,
                        r => {
                            if let Some(node) = r.strip_prefix("nodes/") {
                                if snap.nodes.remove(node).is_some() {
                                    snap.departed.insert(node.to_string());
                                }
                            }
                        }
                    }
                }
                self.refresh(&cluster, now_ms)
            }
            ZkEvent::Touched { path } => {
                if let Some((cluster, _)) = split_cluster_path(&self.root, path) {
                    self.dirty.insert(cluster.to_string());
                }
                false
            }
            _ => false,
        }
    }

    /// Reads the clusters marked since the last tick (at most once a second each) and lets
    /// ages move.
    fn on_tick(&mut self, shown: bool, cx: &mut Cx<'_>) -> bool {
        if !shown {
            return false;
        }
        for name in std::mem::take(&mut self.dirty) {
            if self.names.contains(&name) {
                self.read(&name, cx);
            }
        }
        self.recompute(cx.shared.now_ms())
    }

    fn on_show(&mut self, cx: &mut Cx<'_>) {
        self.shown = true;
        // Statuses kept while hidden may be old: read every cluster once.
        self.dirty.clear();
        cx.effect(Effect::LoadChildren(self.clusters_dir()));
        for name in self.names.clone() {
            self.read(&name, cx);
        }
        self.recompute(cx.shared.now_ms());
    }

    fn on_hide(&mut self) {
        self.shown = false;
    }

    fn reload(&mut self, cx: &mut Cx<'_>) {
        if self.shown {
            self.on_show(cx);
        }
    }

    fn filter(&self) -> Option<&str> {
        self.filter.as_deref()
    }

    fn set_filter(&mut self, filter: Option<String>) {
        self.filter = filter.filter(|f| !f.is_empty());
        self.cursor = 0;
        // The clock is not at hand here: the rows are rebuilt at the end of this update.
        self.stale_rows = true;
    }

    fn after_update(&mut self, cx: &mut Cx<'_>) {
        if std::mem::take(&mut self.stale_rows) {
            self.recompute(cx.shared.now_ms());
        }
    }

    fn interest(&self, interest: &mut Interest) {
        interest.parents.insert(self.clusters_dir());
        if self.shown {
            interest.touch_prefixes.push(self.clusters_dir());
        }
    }

    fn interest_version(&self) -> u64 {
        u64::from(self.shown)
    }

    fn status_line(&self) -> String {
        let count = |v: Verdict| self.rows.iter().filter(|r| r.view.verdict == v).count();
        format!(
            "{} clusters · {} unhealthy · {} degraded · {} healthy",
            self.names.len(),
            count(Verdict::Unhealthy),
            count(Verdict::Degraded),
            count(Verdict::Healthy)
        )
    }

    fn draw(&self, frame: &mut Frame<'_>, area: Rect, sh: &Shared) {
        overview_pane::draw(frame, &sh.theme, self, area);
    }
}
