//! The pure part of a restore: where a snapshot path lands (`--path`/`--to`), what each znode
//! gets under each policy, the size of a write in a request, and the sequence-counter figures.
//! No I/O here, so every rule is unit-tested.

use serde::Serialize;

use crate::zk::{child_path, AclEntry};

/// ZooKeeper's own subtree: never written.
pub const SYSTEM_ROOT: &str = "/zookeeper";
/// Bytes a multi-op request may carry: ZooKeeper's packet limit less a margin for the headers
/// and what the size estimate does not count.
pub const MULTI_BUDGET_BYTES: usize = crate::ops::ZK_MAX_PACKET_BYTES - (64 << 10);
/// Bytes counted for one operation beside its path, data and ACL (op header, flags, version,
/// vector lengths), rounded up.
pub const OP_OVERHEAD_BYTES: usize = 48;
/// Bytes counted for one ACL entry beside its scheme and id (perms, string lengths).
pub const ACL_ENTRY_OVERHEAD_BYTES: usize = 16;

/// How a restore treats znodes that already exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// Create what is missing; rewrite existing znodes whose data or ACL differ (version-checked).
    Overwrite,
    /// Create what is missing anywhere; leave existing znodes alone.
    SkipExisting,
    /// Recreate only subtrees whose root is missing: below the restore's root, an existing
    /// znode and everything below it stay as they are.
    MissingOnly,
}

impl Policy {
    pub fn label(self) -> &'static str {
        match self {
            Policy::Overwrite => "overwrite",
            Policy::SkipExisting => "skip-existing",
            Policy::MissingOnly => "missing-only",
        }
    }
}

/// What happened (or, in a dry run, would happen) to one znode of the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Create,
    Overwrite,
    Unchanged,
    SkippedExisting,
    SkippedBelowExisting,
    SkippedEphemeral,
    /// An existing cluster `primary` record that overwrite would have rewritten: its epoch only grows.
    Kept,
    /// Changed by someone else between the read and the write: left as they made it.
    Conflict,
    Failed,
}

impl Action {
    pub const ALL: [Action; 9] = [
        Action::Create,
        Action::Overwrite,
        Action::Unchanged,
        Action::SkippedExisting,
        Action::SkippedBelowExisting,
        Action::SkippedEphemeral,
        Action::Kept,
        Action::Conflict,
        Action::Failed,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Overwrite => "overwrite",
            Action::Unchanged => "unchanged",
            Action::SkippedExisting => "skipped-existing",
            Action::SkippedBelowExisting => "skipped-below-existing",
            Action::SkippedEphemeral => "skipped-ephemeral",
            Action::Kept => "kept",
            Action::Conflict => "conflict",
            Action::Failed => "failed",
        }
    }
}

/// `path` relative to `root`: `Some("")` for the root itself, `Some("a/b")` below it, `None`
/// outside it.
pub fn relative<'a>(path: &'a str, root: &str) -> Option<&'a str> {
    if root == "/" {
        return Some(path.strip_prefix('/').unwrap_or(path));
    }
    if path == root {
        return Some("");
    }
    path.strip_prefix(root)?.strip_prefix('/')
}

/// `rel` (from [`relative`]) under `root`.
pub fn join(root: &str, rel: &str) -> String {
    if rel.is_empty() {
        root.to_string()
    } else {
        child_path(root, rel)
    }
}

/// Where snapshot path `path` lands when the subtree at `from` is restored at `to`.
pub fn map_path(path: &str, from: &str, to: &str) -> Option<String> {
    relative(path, from).map(|rel| join(to, rel))
}

/// Whether `path` is ZooKeeper's own (`/zookeeper` or below).
pub fn is_system(path: &str) -> bool {
    relative(path, SYSTEM_ROOT).is_some()
}

/// The ancestors of `path`, outermost first, without `/` and without `path`.
pub fn ancestors(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = path[at + 1..].find('/') {
        at += i + 1;
        out.push(path[..at].to_string());
    }
    out
}

/// What the restore knows about a znode whose children may follow (snapshot order puts every
/// parent first), so children are decided without reading the live tree where the answer is
/// already known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParentState {
    /// Created by this restore (or would be, in a dry run): its children are missing too.
    Created,
    /// It exists in the live tree.
    Existing,
    /// The restore's own root under missing-only: it exists, and its children are looked at
    /// one by one (each missing child subtree is recreated, each existing one left alone).
    Open,
    /// Below an existing znode under missing-only.
    Below,
    /// Could not be created: its children cannot be either.
    Missing,
}

impl ParentState {
    /// What an action leaves a parent as.
    pub fn after(action: Action) -> Option<ParentState> {
        match action {
            Action::Create => Some(ParentState::Created),
            Action::Overwrite | Action::Unchanged | Action::SkippedExisting | Action::Kept | Action::Conflict => {
                Some(ParentState::Existing)
            }
            Action::SkippedBelowExisting => Some(ParentState::Below),
            Action::Failed => Some(ParentState::Missing),
            Action::SkippedEphemeral => None,
        }
    }
}

/// What a znode gets before its live state is known: `Some` when the parent says it all.
pub fn decide_by_parent(policy: Policy, parent: Option<ParentState>) -> Option<Action> {
    match (parent?, policy) {
        (ParentState::Created, _) => Some(Action::Create),
        (ParentState::Missing, _) => Some(Action::Failed),
        (ParentState::Open, _) => None,
        (ParentState::Existing | ParentState::Below, Policy::MissingOnly) => Some(Action::SkippedBelowExisting),
        (ParentState::Existing | ParentState::Below, _) => None,
    }
}

/// What changes in an existing znode under overwrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Difference {
    pub data: bool,
    pub acl: bool,
}

/// What an existing znode gets. `primary`: it is a cluster's primary record.
pub fn decide_existing(policy: Policy, difference: Difference, primary: bool) -> Action {
    match policy {
        Policy::SkipExisting | Policy::MissingOnly => Action::SkippedExisting,
        Policy::Overwrite if !difference.data && !difference.acl => Action::Unchanged,
        Policy::Overwrite if primary => Action::Kept,
        Policy::Overwrite => Action::Overwrite,
    }
}

/// ACLs compared as ZooKeeper keeps them: a set of entries (order and repeats do not matter).
pub fn same_acl(a: &[AclEntry], b: &[AclEntry]) -> bool {
    let key = |list: &[AclEntry]| {
        let mut v: Vec<(String, String, String)> = list
            .iter()
            .map(|e| {
                let mut perms: Vec<char> = e.perms.chars().collect();
                perms.sort_unstable();
                (e.scheme.clone(), e.id.clone(), perms.into_iter().collect())
            })
            .collect();
        v.sort();
        v.dedup();
        v
    };
    key(a) == key(b)
}

/// Bytes one write counts against [`MULTI_BUDGET_BYTES`].
pub fn op_bytes(path: &str, data_len: usize, acl: &[AclEntry]) -> usize {
    let acl_bytes: usize = acl.iter().map(|a| a.scheme.len() + a.id.len() + ACL_ENTRY_OVERHEAD_BYTES).sum();
    path.len() + data_len + acl_bytes + OP_OVERHEAD_BYTES
}

/// Groups writes of the given sizes into requests: consecutive runs within `budget` bytes and
/// `max_ops` operations. A write larger than the budget goes alone. Returns run lengths.
pub fn group_sizes(sizes: &[usize], budget: usize, max_ops: usize) -> Vec<usize> {
    let mut runs = Vec::new();
    let (mut n, mut bytes) = (0usize, 0usize);
    for &s in sizes {
        if n > 0 && (bytes + s > budget || n >= max_ops) {
            runs.push(n);
            n = 0;
            bytes = 0;
        }
        n += 1;
        bytes += s;
    }
    if n > 0 {
        runs.push(n);
    }
    runs
}

/// The sequence number ZooKeeper will give the next sequential child, from the parent's stat as
/// a client sees it: 3.8 shows `cversion = 2 * persisted - numChildren` (each delete counts as a
/// change too) and numbers children from the persisted count of creates. `None` when the stat
/// does not fit that formula (another server version): the caller probes instead.
pub fn next_sequence(visible_cversion: i32, num_children: i32) -> Option<i64> {
    let sum = i64::from(visible_cversion) + i64::from(num_children);
    (sum >= 0 && sum % 2 == 0).then_some(sum / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acl(perms: &str) -> Vec<AclEntry> {
        vec![AclEntry { scheme: "world".into(), id: "anyone".into(), perms: perms.into() }]
    }

    #[test]
    fn paths_map_between_roots() {
        assert_eq!(map_path("/a/b/c", "/a", "/x"), Some("/x/b/c".into()));
        assert_eq!(map_path("/a", "/a", "/x/y"), Some("/x/y".into()));
        assert_eq!(map_path("/ab", "/a", "/x"), None);
        assert_eq!(map_path("/a/b", "/", "/x"), Some("/x/a/b".into()));
        assert_eq!(map_path("/", "/", "/x"), Some("/x".into()));
        assert_eq!(map_path("/a/b", "/a", "/"), Some("/b".into()));
        assert_eq!(map_path("/a", "/a", "/"), Some("/".into()));
        assert_eq!(relative("/", "/"), Some(""));
        assert!(is_system("/zookeeper/quota") && is_system("/zookeeper") && !is_system("/zookeeperx"));
        assert_eq!(ancestors("/a/b/c"), vec!["/a".to_string(), "/a/b".into()]);
        assert!(ancestors("/a").is_empty() && ancestors("/").is_empty());
    }

    #[test]
    fn decisions_per_policy() {
        use Action::*;
        for p in [Policy::Overwrite, Policy::SkipExisting, Policy::MissingOnly] {
            assert_eq!(decide_by_parent(p, Some(ParentState::Created)), Some(Create));
            assert_eq!(decide_by_parent(p, Some(ParentState::Missing)), Some(Failed));
            assert_eq!(decide_by_parent(p, None), None);
        }
        assert_eq!(decide_by_parent(Policy::MissingOnly, Some(ParentState::Existing)), Some(SkippedBelowExisting));
        assert_eq!(decide_by_parent(Policy::MissingOnly, Some(ParentState::Below)), Some(SkippedBelowExisting));
        assert_eq!(decide_by_parent(Policy::SkipExisting, Some(ParentState::Existing)), None);
        assert_eq!(decide_by_parent(Policy::MissingOnly, Some(ParentState::Open)), None);
        let same = Difference::default();
        let data = Difference { data: true, acl: false };
        assert_eq!(decide_existing(Policy::Overwrite, same, false), Unchanged);
        assert_eq!(decide_existing(Policy::Overwrite, data, false), Overwrite);
        assert_eq!(decide_existing(Policy::Overwrite, data, true), Kept);
        assert_eq!(decide_existing(Policy::Overwrite, same, true), Unchanged);
        assert_eq!(decide_existing(Policy::SkipExisting, data, false), SkippedExisting);
        assert_eq!(decide_existing(Policy::MissingOnly, data, true), SkippedExisting);
        assert_eq!(ParentState::after(Conflict), Some(ParentState::Existing));
        assert_eq!(ParentState::after(SkippedEphemeral), None);
    }

    #[test]
    fn acls_compare_as_sets() {
        let mut two = acl("rwcda");
        two.push(AclEntry { scheme: "digest".into(), id: "ops:x=".into(), perms: "r".into() });
        let mut swapped = vec![two[1].clone(), two[0].clone()];
        assert!(same_acl(&two, &swapped));
        swapped[0].perms = "rw".into();
        assert!(!same_acl(&two, &swapped));
        assert!(same_acl(&acl("cdrwa"), &acl("rwcda")));
    }

    #[test]
    fn requests_stay_under_the_budget() {
        let kb = 1 << 10;
        // Three ~400 KB znodes: two fit one request, the third goes in the next.
        assert_eq!(group_sizes(&[400 * kb, 400 * kb, 400 * kb], MULTI_BUDGET_BYTES, 500), vec![2, 1]);
        // A write over the budget goes alone.
        assert_eq!(group_sizes(&[10, 2 * MULTI_BUDGET_BYTES, 10], MULTI_BUDGET_BYTES, 500), vec![1, 1, 1]);
        assert_eq!(group_sizes(&[1; 7], 100, 3), vec![3, 3, 1]);
        assert!(group_sizes(&[], 100, 3).is_empty());
        assert_eq!(op_bytes("/a", 10, &acl("r")), 2 + 10 + 5 + 6 + ACL_ENTRY_OVERHEAD_BYTES + OP_OVERHEAD_BYTES);
    }

    #[test]
    fn the_next_sequence_number_from_a_stat() {
        // 5 creates, 2 deletes: persisted cversion 5, 3 children, clients see 2*5-3 = 7.
        assert_eq!(next_sequence(7, 3), Some(5));
        assert_eq!(next_sequence(0, 0), Some(0));
        assert_eq!(next_sequence(4, 1), None);
    }
}
