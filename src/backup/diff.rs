//! A snapshot against the live tree or against another snapshot: znodes added, removed and
//! changed (data, ACL, mode), and how many are unchanged. Paths are compared relative to each
//! side's root (so a subtree restored elsewhere compares equal) and reported under the
//! snapshot's root.
//!
//! Memory: one side (the snapshot) is held as a map of relative path → data digest, size, ACL
//! and mode; the other side streams past it. Data of changed znodes is kept (up to
//! [`MAX_TEXT_DIFFS`] of them, each up to [`MAX_TEXT_DIFF_BYTES`]) to show a unified diff when
//! both sides are text; otherwise sizes and digests are shown.

use std::collections::HashMap;

use anyhow::{Context, Result};
use futures::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use zookeeper_client::Client;

use super::record::{ZnodeMode, ZnodeRecord};
use super::restore::plan::{join, relative};
use super::store::{self, Store};
use super::walk::{self, WalkOptions};
use crate::zk::{AclEntry, ZkAccess};

/// Changed znodes whose data is diffed line by line; further ones get the size/digest line.
pub const MAX_TEXT_DIFFS: usize = 1_000;
/// Larger data is summarised by size and digest, not diffed.
pub const MAX_TEXT_DIFF_BYTES: usize = 256 << 10;
/// Lines of context around each change.
pub const DIFF_CONTEXT_LINES: usize = 3;

/// What the snapshot is compared with.
#[derive(Clone, Copy)]
pub enum Against<'a> {
    Live(&'a Client),
    /// The live tree, its ACL reads spread over sessions opened with the access, as a snapshot
    /// reads it (`snapshot::ACL_SESSIONS`).
    LiveOver(&'a Client, &'a ZkAccess),
    Snapshot(u64),
}

/// One side of a diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Side {
    /// `snapshot 12` or `live`.
    pub label: String,
    pub root: String,
}

/// A znode only one side has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub path: String,
    pub bytes: usize,
    pub mode: String,
}

/// How the data differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum DataChange {
    /// A unified diff (both sides UTF-8 text).
    Text { diff: String },
    /// Sizes and SHA-256 digests (binary, large, or past [`MAX_TEXT_DIFFS`]).
    Binary { from_bytes: usize, to_bytes: usize, from_sha256: String, to_sha256: String },
}

/// A znode both sides have, and what differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<DataChange>,
    /// `scheme:id:perms` entries, from and to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acl: Option<(Vec<String>, Vec<String>)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffReport {
    pub from: Side,
    pub to: Side,
    pub added: Vec<Entry>,
    pub removed: Vec<Entry>,
    pub changed: Vec<Change>,
    pub unchanged: u64,
}

impl DiffReport {
    pub fn has_differences(&self) -> bool {
        !(self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty())
    }
}

struct Summary {
    digest: [u8; 32],
    bytes: usize,
    acl: Vec<AclEntry>,
    mode: ZnodeMode,
}

fn sha(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn acl_lines(acl: &[AclEntry]) -> Vec<String> {
    let mut v: Vec<String> = acl.iter().map(|a| format!("{}:{}:{}", a.scheme, a.id, a.perms)).collect();
    v.sort();
    v
}

/// Snapshot `snapshot` (at or below `under`) against `against`.
pub async fn diff(store: &mut Store, snapshot: u64, against: Against<'_>, under: Option<&str>) -> Result<DiffReport> {
    let meta = store.snapshot(snapshot).await?;
    let from_root = match under {
        Some(u) if relative(u, &meta.root).is_some() => u.to_string(),
        Some(u) => anyhow::bail!("{u} is not inside snapshot {snapshot}'s subtree {}", meta.root),
        None => meta.root.clone(),
    };
    // Side A into the map.
    let mut map: HashMap<String, Summary> = HashMap::new();
    {
        let mut rows = std::pin::pin!(store::znodes(store, snapshot, Some(from_root.as_str())));
        while let Some(r) = rows.next().await {
            let r = r.context("reading the snapshot")?;
            let Some(rel) = relative(&r.path, &from_root) else { continue };
            map.insert(
                rel.to_string(),
                Summary { digest: sha(&r.data), bytes: r.data.len(), acl: r.acl, mode: r.mode },
            );
        }
    }
    let (to, live) = match against {
        Against::Live(_) | Against::LiveOver(..) => (Side { label: "live".into(), root: from_root.clone() }, true),
        Against::Snapshot(other) => {
            let m = store.snapshot(other).await?;
            let root = match under {
                Some(u) if relative(u, &m.root).is_some() => u.to_string(),
                Some(u) => anyhow::bail!("{u} is not inside snapshot {other}'s subtree {}", m.root),
                None => m.root.clone(),
            };
            (Side { label: format!("snapshot {other}"), root }, false)
        }
    };
    let mut report = DiffReport {
        from: Side { label: format!("snapshot {snapshot}"), root: from_root.clone() },
        to: to.clone(),
        added: Vec::new(),
        removed: Vec::new(),
        changed: Vec::new(),
        unchanged: 0,
    };
    // Changed data kept for text diffs: relative path → the other side's data.
    let mut theirs: Vec<(String, Vec<u8>)> = Vec::new();
    let mut compare = |r: ZnodeRecord| {
        let Some(rel) = relative(&r.path, &to.root).map(str::to_string) else { return };
        let path = join(&from_root, &rel);
        let Some(mine) = map.remove(&rel) else {
            report.added.push(Entry { path, bytes: r.data.len(), mode: r.mode.label().into() });
            return;
        };
        // A client never sees container or TTL modes (see `ZnodeMode`): against the live tree
        // they compare as persistent.
        let observable = |m: ZnodeMode| match m {
            ZnodeMode::Container | ZnodeMode::Ttl { .. } if live => ZnodeMode::Persistent,
            m => m,
        };
        let data_differs = mine.digest != sha(&r.data);
        let acl = (acl_lines(&mine.acl) != acl_lines(&r.acl)).then(|| (acl_lines(&mine.acl), acl_lines(&r.acl)));
        let mode =
            (observable(mine.mode) != observable(r.mode)).then(|| (mine.mode.label().into(), r.mode.label().into()));
        if !data_differs && acl.is_none() && mode.is_none() {
            report.unchanged += 1;
            return;
        }
        let data = data_differs.then(|| DataChange::Binary {
            from_bytes: mine.bytes,
            to_bytes: r.data.len(),
            from_sha256: hex(&mine.digest),
            to_sha256: hex(&sha(&r.data)),
        });
        if data_differs
            && theirs.len() < MAX_TEXT_DIFFS
            && r.data.len() <= MAX_TEXT_DIFF_BYTES
            && mine.bytes <= MAX_TEXT_DIFF_BYTES
        {
            theirs.push((path.clone(), r.data));
        }
        report.changed.push(Change { path, data, acl, mode });
    };
    let acl_sessions = match against {
        Against::LiveOver(_, access) => super::snapshot::open_acl_sessions(Some(access)).await,
        Against::Live(_) | Against::Snapshot(_) => Vec::new(),
    };
    match against {
        Against::Live(client) | Against::LiveOver(client, _) => {
            let walk_opts = WalkOptions { root: to.root.clone(), include_ephemeral: meta.include_ephemeral };
            let mut rx = walk::tree_with(client.clone(), acl_sessions, walk_opts);
            while let Some(batch) = rx.recv().await {
                for r in batch.map_err(|e| anyhow::anyhow!("reading the live tree: {e}"))? {
                    compare(r);
                }
            }
        }
        Against::Snapshot(other) => {
            let mut rows = std::pin::pin!(store::znodes(store, other, Some(to.root.as_str())));
            while let Some(r) = rows.next().await {
                compare(r.context("reading the other snapshot")?);
            }
        }
    }
    report.removed = map
        .into_iter()
        .map(|(rel, s)| Entry { path: join(&from_root, &rel), bytes: s.bytes, mode: s.mode.label().into() })
        .collect();
    // Text diffs for the changed data kept.
    for (path, data) in theirs {
        let Some(rel) = relative(&path, &from_root) else { continue };
        let Some(mine) = store.znode_at(snapshot, &join(&from_root, rel)).await? else { continue };
        if let Some(text) = text_diff(&mine.data, &data, &report.from.label, &report.to.label) {
            if let Some(c) = report.changed.iter_mut().find(|c| c.path == path) {
                c.data = Some(DataChange::Text { diff: text });
            }
        }
    }
    report.added.sort_by(|a, b| a.path.cmp(&b.path));
    report.removed.sort_by(|a, b| a.path.cmp(&b.path));
    report.changed.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(report)
}

/// A unified diff when both sides are text (UTF-8 without NUL bytes).
pub fn text_diff(from: &[u8], to: &[u8], from_label: &str, to_label: &str) -> Option<String> {
    let a = std::str::from_utf8(from).ok().filter(|s| !s.contains('\0'))?;
    let b = std::str::from_utf8(to).ok().filter(|s| !s.contains('\0'))?;
    let diff = similar::TextDiff::from_lines(a, b);
    Some(diff.unified_diff().context_radius(DIFF_CONTEXT_LINES).header(from_label, to_label).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_binary_data() {
        let d = text_diff(b"a\nb\nc\n", b"a\nB\nc\n", "snapshot 1", "live").unwrap();
        assert!(d.contains("--- snapshot 1") && d.contains("-b\n") && d.contains("+B\n"), "{d}");
        assert!(text_diff(&[0, 159, 255], b"x", "a", "b").is_none());
        assert!(text_diff(b"a\0b", b"x", "a", "b").is_none());
        assert_eq!(
            acl_lines(&[AclEntry { scheme: "world".into(), id: "anyone".into(), perms: "r".into() }]),
            vec!["world:anyone:r".to_string()]
        );
    }
}
