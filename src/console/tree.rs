//! The console's copy of the znode tree: what is loaded, what is expanded, the flattened rows
//! the tree pane shows, the filter and the selection. Pure data; no I/O, no drawing.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use crate::zk::{base_name, child_path, parent_path, NodeInfo, NodeStat};

/// One znode as the console knows it.
#[derive(Debug, Clone, Default)]
pub struct Node {
    pub stat: Option<NodeStat>,
    pub data: Vec<u8>,
    /// `None` until the children have been read.
    pub children: Option<BTreeSet<String>>,
    pub expanded: bool,
    /// At least one read of the children is under way.
    pub loading: bool,
    /// Why the last read failed (NoNode, NoAuth …); shown in place.
    pub error: Option<String>,
    /// Children reads asked and not answered yet (any answer for the path counts: another
    /// screen's listing of it too, so this may run low, never high).
    listings_in_flight: u32,
    /// Children seen deleted, by name and the `czxid` of the incarnation deleted (the last
    /// [`DELETIONS_KEPT`]). A listing that still holds one was read before that deletion,
    /// whenever it arrives: the child is left out. (A child created after a listing needs no
    /// record: its own `czxid`, newer than the listing's `pzxid`, says so.)
    deleted: VecDeque<(String, i64)>,
    /// Children deleted while a listing was under way that were never read, so their
    /// incarnation is unknown; kept until every listing is in or the name is read again.
    deleted_unread: BTreeSet<String>,
    /// Children read while the first listing is under way (no child set to put them in yet).
    seen_before_listed: BTreeSet<String>,
}

/// Deletions remembered per parent: a listing older than this many deletions in its folder
/// has long been answered.
const DELETIONS_KEPT: usize = 256;

impl Node {
    fn listing_asked(&mut self) {
        self.listings_in_flight += 1;
        self.loading = true;
    }

    /// A children read answered (or failed).
    fn listing_answered(&mut self) {
        self.listings_in_flight = self.listings_in_flight.saturating_sub(1);
        self.loading = self.listings_in_flight > 0;
        if !self.loading {
            self.deleted_unread.clear();
        }
    }

    fn child_deleted(&mut self, name: &str, czxid: Option<i64>) {
        match czxid {
            Some(czxid) => {
                if self.deleted.len() == DELETIONS_KEPT {
                    self.deleted.pop_front();
                }
                self.deleted.push_back((name.to_string(), czxid));
            }
            None if self.loading => {
                self.deleted_unread.insert(name.to_string());
            }
            None => {}
        }
    }
}

/// Whether a read of a znode is older than what is known of it: an earlier incarnation
/// (`czxid`), or the same one with its data (`mzxid`) or, with the same data, its children
/// (`pzxid`) behind.
fn is_older(known: Option<&NodeStat>, read: &NodeStat) -> bool {
    known.is_some_and(|k| {
        k.czxid > read.czxid
            || (k.czxid == read.czxid && (k.mzxid > read.mzxid || (k.mzxid == read.mzxid && k.pzxid > read.pzxid)))
    })
}

/// One visible line of the tree pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub path: String,
    pub depth: u16,
}

#[derive(Debug, Clone)]
pub struct TreeModel {
    nodes: HashMap<String, Node>,
    rows: Vec<Row>,
    filter: Option<String>,
    selected: Option<String>,
    selected_index: usize,
    /// Bumped whenever rows are rebuilt, i.e. whenever what is loaded or shown may have changed.
    structure_version: u64,
}

impl Default for TreeModel {
    fn default() -> Self {
        let mut nodes = HashMap::new();
        nodes.insert("/".to_string(), Node { expanded: true, ..Node::default() });
        let mut t = TreeModel {
            nodes,
            rows: Vec::new(),
            filter: None,
            selected: None,
            selected_index: 0,
            structure_version: 0,
        };
        t.rebuild_rows();
        t
    }
}

impl TreeModel {
    pub fn node(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    pub fn filter(&self) -> Option<&str> {
        self.filter.as_deref()
    }

    pub fn selected_index(&self) -> usize {
        self.selected_index
    }

    pub fn selected_path(&self) -> Option<&str> {
        self.rows.get(self.selected_index).map(|r| r.path.as_str())
    }

    pub fn structure_version(&self) -> u64 {
        self.structure_version
    }

    /// Znodes whose children are loaded (or being read): their children are on screen or one
    /// key away, so their changes are worth reading.
    pub fn loaded_parents(&self) -> impl Iterator<Item = &str> {
        self.nodes.iter().filter(|(_, n)| n.children.is_some() || n.loading || n.expanded).map(|(p, _)| p.as_str())
    }

    /// Paths of expanded znodes, parents before children: what a reload must read again.
    pub fn expanded_paths(&self) -> Vec<String> {
        let mut v: Vec<String> = self.nodes.iter().filter(|(_, n)| n.expanded).map(|(p, _)| p.clone()).collect();
        v.sort_by_key(|p| (p.matches('/').count(), p.clone()));
        v
    }

    fn entry(&mut self, path: &str) -> &mut Node {
        self.nodes.entry(path.to_string()).or_default()
    }

    /// Marks a read of `path`'s children as under way.
    pub fn set_loading(&mut self, path: &str) {
        self.entry(path).listing_asked();
    }

    /// Applies a children read: the parent's own data, its child list, each child's data.
    /// Children no longer listed are dropped with their subtrees.
    ///
    /// A listing can arrive after the watch's reads of changes made after it was read (they
    /// come by different roads), and must not undo them. The parent's `pzxid` in a listing is
    /// the moment its names describe (`zk::load`), so a child it lacks is kept when that
    /// child's `czxid` is newer, and a listed child of an incarnation seen deleted is left out.
    /// A child's data already newer than the listing's is kept.
    pub fn apply_children(&mut self, parent: NodeInfo, children: Vec<NodeInfo>, failed: Vec<(String, String)>) {
        let listed_at = parent.stat.pzxid;
        let p = self.entry(&parent.path);
        let mut old = p.children.take().unwrap_or_default();
        old.extend(std::mem::take(&mut p.seen_before_listed));
        let deleted: HashSet<(&str, i64)> = p.deleted.iter().map(|(n, c)| (n.as_str(), *c)).collect();
        let deleted_since = |path: &str, czxid: i64| {
            deleted.contains(&(base_name(path), czxid)) || p.deleted_unread.contains(base_name(path))
        };
        let children: Vec<NodeInfo> = children.into_iter().filter(|c| !deleted_since(&c.path, c.stat.czxid)).collect();
        p.listing_answered();
        p.error = None;
        if !is_older(p.stat.as_ref(), &parent.stat) {
            p.stat = Some(parent.stat);
            p.data = parent.data;
        }
        let mut names: BTreeSet<String> = children
            .iter()
            .map(|c| &c.path)
            .chain(failed.iter().map(|(p, _)| p))
            .map(|p| base_name(p).to_string())
            .collect();
        for name in old {
            if names.contains(&name) {
                continue;
            }
            let path = child_path(&parent.path, &name);
            let created_since = self.nodes.get(&path).and_then(|n| n.stat).is_some_and(|s| s.czxid > listed_at);
            if created_since {
                names.insert(name);
            } else {
                self.remove_subtree(&path);
            }
        }
        for c in children {
            let n = self.entry(&c.path);
            if !is_older(n.stat.as_ref(), &c.stat) {
                n.stat = Some(c.stat);
                n.data = c.data;
                n.error = None;
            }
        }
        for (path, error) in failed {
            self.entry(&path).error = Some(error);
        }
        self.entry(&parent.path).children = Some(names);
        self.rebuild_rows();
    }

    /// Applies one znode read (from a watch or a fetch). An older read never replaces a newer
    /// one: the stat's zxids decide. Returns whether the tree took it.
    pub fn apply_node(&mut self, info: NodeInfo) -> bool {
        if is_older(self.nodes.get(&info.path).and_then(|n| n.stat.as_ref()), &info.stat) {
            return false;
        }
        let parent = parent_path(&info.path).to_string();
        let mut structural = false;
        if info.path != "/" {
            let name = base_name(&info.path).to_string();
            let listed = |p: &Node| p.children.is_some() || p.loading;
            if let Some(p) = self.nodes.get_mut(&parent).filter(|p| listed(p)) {
                // Read after its deletion (the watch's reads come in order): it exists again.
                p.deleted_unread.remove(&name);
                structural = match p.children.as_mut() {
                    Some(set) => set.insert(name),
                    None => {
                        p.seen_before_listed.insert(name);
                        false
                    }
                };
            } else if !self.nodes.contains_key(&info.path) {
                // The parent's children are not listed or being read: nothing on screen shows
                // this znode.
                return false;
            }
        }
        let n = self.entry(&info.path);
        n.stat = Some(info.stat);
        n.data = info.data;
        n.error = None;
        if structural {
            self.rebuild_rows();
        }
        true
    }

    /// Applies a deletion: the znode and everything under it go.
    pub fn apply_deleted(&mut self, path: &str) {
        if path == "/" {
            return;
        }
        let parent = parent_path(path).to_string();
        let czxid = self.nodes.get(path).and_then(|n| n.stat).map(|s| s.czxid);
        let name = base_name(path);
        let removed_from_parent = self.nodes.get_mut(&parent).is_some_and(|p| {
            if p.children.is_some() || p.loading {
                p.child_deleted(name, czxid);
            }
            p.seen_before_listed.remove(name);
            p.children.as_mut().is_some_and(|set| set.remove(name))
        });
        let existed = self.remove_subtree(path);
        if removed_from_parent || existed {
            self.rebuild_rows();
        }
    }

    /// Records a failed read in place.
    /// A read that says the znode does not exist removes it; other errors are kept on a known
    /// znode (never creating one: a late error must not bring back a deleted znode).
    pub fn apply_error(&mut self, path: &str, error: String) {
        if error.starts_with("NoNode") && path != "/" {
            self.apply_deleted(path);
            return;
        }
        if let Some(n) = self.nodes.get_mut(path) {
            n.listing_answered();
            n.error = Some(error);
            // Read while a listing that failed was under way: nothing shows them.
            let unlisted = if n.loading { BTreeSet::new() } else { std::mem::take(&mut n.seen_before_listed) };
            for name in unlisted {
                self.remove_subtree(&child_path(path, &name));
            }
            self.rebuild_rows();
        }
    }

    fn remove_subtree(&mut self, path: &str) -> bool {
        let Some(node) = self.nodes.remove(path) else {
            return false;
        };
        for c in node.children.iter().flatten() {
            self.remove_subtree(&child_path(path, c));
        }
        true
    }

    /// Forgets the children of collapsed znodes (they are re-read when expanded) so that a
    /// reload after reconnect reads only what is visible.
    pub fn forget_collapsed(&mut self) {
        let collapsed: Vec<String> =
            self.nodes.iter().filter(|(_, n)| !n.expanded && n.children.is_some()).map(|(p, _)| p.clone()).collect();
        for p in collapsed {
            if let Some(children) = self.nodes.get_mut(&p).and_then(|n| n.children.take()) {
                for c in children {
                    self.remove_subtree(&child_path(&p, &c));
                }
            }
        }
        self.rebuild_rows();
    }

    /// Expands `path`; returns true when its children must be read first.
    pub fn expand(&mut self, path: &str) -> bool {
        let n = self.entry(path);
        n.expanded = true;
        let needs_load = n.children.is_none() && !n.loading;
        if needs_load {
            n.listing_asked();
        }
        self.rebuild_rows();
        needs_load
    }

    pub fn collapse(&mut self, path: &str) {
        if let Some(n) = self.nodes.get_mut(path) {
            n.expanded = false;
        }
        self.rebuild_rows();
    }

    pub fn is_expanded(&self, path: &str) -> bool {
        self.nodes.get(path).is_some_and(|n| n.expanded)
    }

    /// Whether a znode has (or may have) children to show.
    pub fn has_children(&self, path: &str) -> bool {
        match self.nodes.get(path) {
            Some(Node { children: Some(set), .. }) => !set.is_empty(),
            Some(Node { stat: Some(s), .. }) => s.num_children > 0,
            _ => false,
        }
    }

    /// Sets (or clears, with an empty string) the filter: rows whose path contains it,
    /// case-insensitively, and their ancestors.
    pub fn set_filter(&mut self, filter: Option<String>) {
        self.filter = filter.filter(|f| !f.is_empty()).map(|f| f.to_lowercase());
        self.rebuild_rows();
    }

    pub fn select_index(&mut self, index: usize) {
        if self.rows.is_empty() {
            self.selected_index = 0;
            self.selected = None;
            return;
        }
        self.selected_index = index.min(self.rows.len() - 1);
        self.selected = Some(self.rows[self.selected_index].path.clone());
    }

    /// Selects a path if it is visible; returns whether it was.
    pub fn select_path(&mut self, path: &str) -> bool {
        match self.rows.iter().position(|r| r.path == path) {
            Some(i) => {
                self.select_index(i);
                true
            }
            None => false,
        }
    }

    pub fn move_selection(&mut self, delta: isize) {
        let max = self.rows.len().saturating_sub(1) as isize;
        let next = (self.selected_index as isize + delta).clamp(0, max);
        self.select_index(next as usize);
    }

    /// Recomputes the visible rows, keeping the selected path selected when it is still there
    /// (else the nearest row above where it was).
    fn rebuild_rows(&mut self) {
        self.structure_version += 1;
        let mut rows = Vec::with_capacity(self.rows.len().max(16));
        let filter = self.filter.clone();
        self.push_rows("/", 0, filter.as_deref(), &mut rows);
        self.rows = rows;
        let keep = self.selected.clone();
        let found = keep.as_deref().and_then(|p| self.rows.iter().position(|r| r.path == p));
        match found {
            Some(i) => self.selected_index = i,
            None => self.select_index(self.selected_index.min(self.rows.len().saturating_sub(1))),
        }
    }

    /// Pushes `path` and its visible descendants; with a filter, only matches and their
    /// ancestors. Returns whether anything was pushed.
    fn push_rows(&self, path: &str, depth: u16, filter: Option<&str>, rows: &mut Vec<Row>) -> bool {
        let Some(node) = self.nodes.get(path) else {
            return false;
        };
        let at = rows.len();
        rows.push(Row { path: path.to_string(), depth });
        let mut any_child = false;
        let show_children = node.expanded || filter.is_some();
        if show_children {
            if let Some(children) = &node.children {
                for c in children {
                    any_child |= self.push_rows(&child_path(path, c), depth + 1, filter, rows);
                }
            }
        }
        match filter {
            Some(f) if !any_child && depth > 0 && !path.to_lowercase().contains(f) => {
                rows.truncate(at);
                false
            }
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A znode made at zxid 1 and last changed (data or children) at `mzxid`.
    fn info(path: &str, mzxid: i64, children: i32) -> NodeInfo {
        NodeInfo {
            path: path.to_string(),
            stat: NodeStat { czxid: 1, mzxid, pzxid: mzxid, num_children: children, ..NodeStat::default() },
            data: Vec::new(),
        }
    }

    /// A znode made at `zxid`.
    fn created(path: &str, zxid: i64) -> NodeInfo {
        let mut i = info(path, zxid, 0);
        i.stat.czxid = zxid;
        i
    }

    fn loaded() -> TreeModel {
        let mut t = TreeModel::default();
        t.apply_children(info("/", 1, 2), vec![info("/a", 1, 1), info("/b", 1, 0)], vec![]);
        t
    }

    fn paths(t: &TreeModel) -> Vec<&str> {
        t.rows().iter().map(|r| r.path.as_str()).collect()
    }

    #[test]
    fn expand_collapse_and_rows() {
        let mut t = loaded();
        assert_eq!(paths(&t), ["/", "/a", "/b"]);
        assert!(t.expand("/a"));
        t.apply_children(info("/a", 1, 1), vec![info("/a/x", 1, 0)], vec![]);
        assert_eq!(paths(&t), ["/", "/a", "/a/x", "/b"]);
        assert_eq!(t.rows()[2].depth, 2);
        t.collapse("/a");
        assert_eq!(paths(&t), ["/", "/a", "/b"]);
        assert!(!t.expand("/a"), "children are cached");
    }

    #[test]
    fn watch_events_insert_and_remove() {
        let mut t = loaded();
        t.apply_node(info("/c", 5, 0));
        assert_eq!(paths(&t), ["/", "/a", "/b", "/c"]);
        t.apply_deleted("/a");
        assert_eq!(paths(&t), ["/", "/b", "/c"]);
        // A znode under an unloaded parent is not shown.
        t.apply_node(info("/b/deep", 6, 0));
        assert!(t.node("/b/deep").is_none());
    }

    /// The reload after a new session lists the root, and a znode is created meanwhile: the
    /// watch's read of it can arrive before the older listing, which must not undo it (a
    /// console that never showed the new znode, seen in CI).
    #[test]
    fn a_listing_older_than_the_watch_events_does_not_undo_them() {
        let mut t = loaded();
        t.set_loading("/");
        t.apply_node(created("/c", 7));
        t.apply_deleted("/b");
        let mut listed_a = info("/a", 1, 1);
        listed_a.data = b"old".to_vec();
        let mut newer_a = info("/a", 8, 1);
        newer_a.data = b"new".to_vec();
        t.apply_node(newer_a);
        // Listed before all three changes.
        t.apply_children(info("/", 1, 2), vec![listed_a, info("/b", 1, 0)], vec![]);
        assert_eq!(paths(&t), ["/", "/a", "/c"]);
        assert_eq!(t.node("/a").unwrap().data, b"new", "the listing's older data replaced newer");
        assert!(!t.node("/").unwrap().loading);
        // Another screen's listing of the same moment, arriving when the tree asked nothing.
        t.apply_children(info("/", 1, 2), vec![info("/a", 1, 1), info("/b", 1, 0)], vec![]);
        assert_eq!(paths(&t), ["/", "/a", "/c"], "a listing from before a deletion brought it back");
        // A listing newer than every change is the truth.
        t.set_loading("/");
        t.apply_children(info("/", 9, 1), vec![info("/a", 8, 1)], vec![]);
        assert_eq!(paths(&t), ["/", "/a"]);
    }

    /// A child deleted and made again while a listing is under way: the listing's copy of the
    /// deleted one stays out, the new one stays in.
    #[test]
    fn a_child_made_again_while_listing_is_the_new_one() {
        let mut t = loaded();
        t.set_loading("/");
        t.apply_deleted("/b");
        t.apply_node(created("/b", 6));
        t.apply_children(info("/", 1, 2), vec![info("/a", 1, 1), info("/b", 1, 0)], vec![]);
        assert_eq!(paths(&t), ["/", "/a", "/b"]);
        assert_eq!(t.node("/b").unwrap().stat.unwrap().czxid, 6);
    }

    /// A child never read, deleted and made again before the first listing reads: the listing
    /// holds the new one, which the watch has read too, and it is shown.
    #[test]
    fn an_unread_child_made_again_before_the_first_listing_is_shown() {
        let mut t = loaded();
        assert!(t.expand("/b"));
        t.apply_deleted("/b/x");
        t.apply_node(created("/b/x", 6));
        t.apply_children(info("/b", 7, 1), vec![created("/b/x", 6)], vec![]);
        assert_eq!(paths(&t), ["/", "/a", "/b", "/b/x"]);
        // Deleted again before an older listing of it arrives: it stays out.
        t.set_loading("/b");
        t.apply_deleted("/b/x");
        t.apply_children(info("/b", 7, 1), vec![created("/b/x", 6)], vec![]);
        assert_eq!(paths(&t), ["/", "/a", "/b"]);
    }

    #[test]
    fn an_older_incarnation_never_replaces_a_newer_one() {
        let mut t = loaded();
        t.apply_node(created("/b", 9));
        assert!(!t.apply_node(info("/b", 12, 0)), "a read of the deleted /b (czxid 1) won");
        assert_eq!(t.node("/b").unwrap().stat.unwrap().czxid, 9);
    }

    /// A first listing that fails leaves nothing it was going to hold behind.
    #[test]
    fn a_failed_first_listing_leaves_no_children_behind() {
        let mut t = loaded();
        assert!(t.expand("/b"));
        t.apply_node(created("/b/x", 5));
        t.apply_error("/b", "NoAuth: not permitted by the znode's ACL".into());
        assert!(t.node("/b/x").is_none());
        assert!(!t.node("/b").unwrap().loading);
    }

    /// A first listing under way: a child created meanwhile is kept for it, and two listings
    /// in flight both see the change (the first answer does not forget it).
    #[test]
    fn changes_while_listing_survive_each_listing_in_flight() {
        let mut t = loaded();
        assert!(t.expand("/b"));
        t.set_loading("/b");
        t.apply_node(created("/b/new", 5));
        assert!(t.node("/b/new").is_some(), "a read under a parent being listed is kept for the listing");
        t.apply_children(info("/b", 1, 1), vec![info("/b/old", 1, 0)], vec![]);
        assert!(t.node("/b").unwrap().loading, "one listing still under way");
        t.apply_children(info("/b", 1, 1), vec![info("/b/old", 1, 0)], vec![]);
        assert_eq!(paths(&t), ["/", "/a", "/b", "/b/new", "/b/old"]);
        assert!(!t.node("/b").unwrap().loading);
    }

    #[test]
    fn older_reads_never_replace_newer() {
        let mut t = loaded();
        let mut newer = info("/b", 9, 0);
        newer.data = b"new".to_vec();
        t.apply_node(newer);
        let mut older = info("/b", 3, 0);
        older.data = b"old".to_vec();
        t.apply_node(older);
        assert_eq!(t.node("/b").unwrap().data, b"new");
        // A re-created znode (new czxid) always wins.
        let mut reborn = info("/b", 2, 0);
        reborn.stat.czxid = 8;
        reborn.data = b"reborn".to_vec();
        t.apply_node(reborn);
        assert_eq!(t.node("/b").unwrap().data, b"reborn");
    }

    #[test]
    fn selection_follows_the_path_across_changes() {
        let mut t = loaded();
        assert!(t.select_path("/b"));
        t.apply_node(info("/0first", 5, 0));
        assert_eq!(t.selected_path(), Some("/b"));
        t.apply_deleted("/b");
        assert_eq!(t.selected_path(), Some("/a"));
        t.move_selection(-10);
        assert_eq!(t.selected_path(), Some("/"));
        t.move_selection(100);
        assert_eq!(t.selected_path(), Some("/a"));
    }

    #[test]
    fn filter_keeps_matches_and_ancestors() {
        let mut t = loaded();
        t.expand("/a");
        t.apply_children(info("/a", 1, 2), vec![info("/a/Config", 1, 0), info("/a/other", 1, 0)], vec![]);
        t.collapse("/a");
        t.set_filter(Some("config".into()));
        assert_eq!(paths(&t), ["/", "/a", "/a/Config"]);
        t.set_filter(None);
        assert_eq!(paths(&t), ["/", "/a", "/b"]);
    }

    #[test]
    fn reload_forgets_collapsed_children_and_lists_expanded_parents_first() {
        let mut t = loaded();
        t.expand("/a");
        t.apply_children(info("/a", 1, 1), vec![info("/a/x", 1, 0)], vec![]);
        t.collapse("/a");
        t.forget_collapsed();
        assert!(t.node("/a/x").is_none());
        assert!(t.node("/a").unwrap().children.is_none());
        t.expand("/b");
        assert_eq!(t.expanded_paths(), ["/", "/b"]);
    }

    #[test]
    fn late_errors_never_bring_back_a_deleted_znode() {
        let mut t = loaded();
        t.apply_deleted("/a");
        t.apply_error("/a", "ConnectionLoss: no server reachable".into());
        assert!(t.node("/a").is_none());
        t.apply_error("/b", "NoNode: the znode does not exist".into());
        assert!(t.node("/b").is_none());
        t.apply_error("/", "NoAuth: not permitted".into());
        assert!(t.node("/").unwrap().error.is_some());
    }

    #[test]
    fn a_vanished_child_goes_with_its_subtree() {
        let mut t = loaded();
        t.expand("/a");
        t.apply_children(info("/a", 1, 1), vec![info("/a/x", 1, 0)], vec![]);
        t.apply_children(info("/", 2, 1), vec![info("/b", 1, 0)], vec![]);
        assert!(t.node("/a/x").is_none());
        assert_eq!(paths(&t), ["/", "/b"]);
    }
}
