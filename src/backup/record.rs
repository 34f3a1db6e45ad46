//! What a snapshot keeps of one znode ([`ZnodeRecord`]), how its mode is told from its stat and
//! name, what a snapshot is ([`SnapshotMeta`]), and the content checksum over its znodes (pure;
//! the store, the export file and the restore all agree on it).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::zk::{AclEntry, NodeStat};

/// Digits ZooKeeper appends to a sequential znode's name.
pub const SEQUENCE_DIGITS: usize = 10;

/// How a znode was created, as far as it can be told afterwards.
///
/// What a client can see is limited:
/// - ZooKeeper does not remember that a znode was created sequential: a persistent znode whose
///   name ends in ten digits is recorded as [`ZnodeMode::Sequential`] (by its name). A restore
///   creates it under its exact name, and advances its parent's sequence counter past it so that
///   later sequential children do not collide with it.
/// - ZooKeeper reports `ephemeralOwner` 0 for container and TTL znodes (3.8's
///   `DataNode.copyStat` hides the server's marker from clients), so [`ZnodeMode::of`] sees them
///   as persistent; [`ZnodeMode::Container`] and [`ZnodeMode::Ttl`] come from what myzoo itself
///   recorded when it created the znode (the audit log), or from an export file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum ZnodeMode {
    Persistent,
    Sequential,
    Container,
    Ttl {
        ttl_ms: u64,
    },
    /// Kept only with `--include-ephemeral`, and never restored.
    Ephemeral,
}

impl ZnodeMode {
    /// The mode of the znode at `path` as its stat shows it (see the type's doc for what a
    /// client cannot see).
    pub fn of(path: &str, stat: &NodeStat) -> ZnodeMode {
        if stat.ephemeral_owner != 0 {
            return ZnodeMode::Ephemeral;
        }
        if sequence_of(path).is_some() {
            return ZnodeMode::Sequential;
        }
        ZnodeMode::Persistent
    }

    /// `persistent`, `sequential`, `container`, `ttl`, `ephemeral` (the store's `mode` column).
    pub fn label(self) -> &'static str {
        match self {
            ZnodeMode::Persistent => "persistent",
            ZnodeMode::Sequential => "sequential",
            ZnodeMode::Container => "container",
            ZnodeMode::Ttl { .. } => "ttl",
            ZnodeMode::Ephemeral => "ephemeral",
        }
    }

    /// The TTL of a TTL znode (the store's `ttl_ms` column).
    pub fn ttl_ms(self) -> Option<u64> {
        match self {
            ZnodeMode::Ttl { ttl_ms } => Some(ttl_ms),
            _ => None,
        }
    }

    /// The inverse of [`ZnodeMode::label`] and [`ZnodeMode::ttl_ms`].
    pub fn from_parts(label: &str, ttl_ms: Option<u64>) -> Option<ZnodeMode> {
        Some(match (label, ttl_ms) {
            ("persistent", _) => ZnodeMode::Persistent,
            ("sequential", _) => ZnodeMode::Sequential,
            ("container", _) => ZnodeMode::Container,
            ("ttl", Some(ttl_ms)) => ZnodeMode::Ttl { ttl_ms },
            ("ephemeral", _) => ZnodeMode::Ephemeral,
            _ => return None,
        })
    }

    fn tag(self) -> u8 {
        match self {
            ZnodeMode::Persistent => 0,
            ZnodeMode::Sequential => 1,
            ZnodeMode::Container => 2,
            ZnodeMode::Ttl { .. } => 3,
            ZnodeMode::Ephemeral => 4,
        }
    }
}

/// The sequence number of a sequential-looking name (`op-0000000042` → 42).
pub fn sequence_of(path: &str) -> Option<u64> {
    // Bytes, not chars: the name may end in multi-byte characters (`ünï-名前`).
    let name = crate::zk::base_name(path).as_bytes();
    let digits = name.get(name.len().checked_sub(SEQUENCE_DIGITS)?..)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// One znode as a snapshot keeps it: path, exact data, stat, ACL and mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZnodeRecord {
    pub path: String,
    pub data: Vec<u8>,
    pub stat: NodeStat,
    pub acl: Vec<AclEntry>,
    pub mode: ZnodeMode,
}

/// The `acl` column and the export file's form: `[{"scheme":…,"id":…,"perms":"cdrwa"}]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AclJson {
    pub scheme: String,
    pub id: String,
    pub perms: String,
}

/// An ACL as the store's JSON text.
pub fn acl_to_json(acl: &[AclEntry]) -> String {
    let list: Vec<AclJson> =
        acl.iter().map(|a| AclJson { scheme: a.scheme.clone(), id: a.id.clone(), perms: a.perms.clone() }).collect();
    serde_json::to_string(&list).unwrap_or_else(|_| "[]".to_string())
}

/// The store's JSON text as an ACL.
pub fn acl_from_json(text: &str) -> Result<Vec<AclEntry>, serde_json::Error> {
    let list: Vec<AclJson> = serde_json::from_str(text)?;
    Ok(list.into_iter().map(|a| AclEntry { scheme: a.scheme, id: a.id, perms: a.perms }).collect())
}

/// State of a snapshot in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SnapshotState {
    /// Being written (or its writer died: `prune` removes those older than an hour).
    Running,
    Complete,
    Failed,
}

impl SnapshotState {
    pub fn label(self) -> &'static str {
        match self {
            SnapshotState::Running => "running",
            SnapshotState::Complete => "complete",
            SnapshotState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<SnapshotState> {
        Some(match text {
            "running" => SnapshotState::Running,
            "complete" => SnapshotState::Complete,
            "failed" => SnapshotState::Failed,
            _ => return None,
        })
    }
}

/// One snapshot of a subtree, as `list` and `show` report it.
///
/// ZooKeeper has no point-in-time read: the znodes were read one batch after another while the
/// tree could change. `min_zxid`..`max_zxid` is the range of the znodes' `mzxid`/`pzxid` seen,
/// which bounds when each was last changed; `show` says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotMeta {
    pub id: u64,
    pub state: SnapshotState,
    /// The connect string it was read from.
    pub ensemble: String,
    /// The subtree's root (`/` for the whole tree; `/zookeeper` is never included).
    pub root: String,
    pub include_ephemeral: bool,
    pub started_ms: i64,
    pub finished_ms: Option<i64>,
    pub znodes: u64,
    /// Sum of the znodes' data sizes.
    pub bytes: u64,
    pub min_zxid: Option<i64>,
    pub max_zxid: Option<i64>,
    /// [`ContentDigest`] over the znodes in order, hex; `None` until complete.
    pub checksum: Option<String>,
    pub operator: String,
    pub host: String,
    /// `cli`, `console`, `coordinator`.
    pub origin: String,
    pub note: String,
    /// Why a failed snapshot failed.
    pub error: Option<String>,
}

/// The content checksum of a snapshot: SHA-256 over every znode in snapshot order, each
/// field length-prefixed so that no two different snapshots encode the same bytes. Covers
/// everything kept: path, data, mode, ACL and every stat field.
#[derive(Clone, Default)]
pub struct ContentDigest {
    hasher: Sha256,
    count: u64,
}

impl ContentDigest {
    pub fn new() -> ContentDigest {
        ContentDigest::default()
    }

    pub fn push(&mut self, r: &ZnodeRecord) {
        let h = &mut self.hasher;
        field(h, r.path.as_bytes());
        field(h, &r.data);
        h.update([r.mode.tag()]);
        h.update(r.mode.ttl_ms().unwrap_or(0).to_be_bytes());
        h.update((r.acl.len() as u32).to_be_bytes());
        for a in &r.acl {
            field(h, a.scheme.as_bytes());
            field(h, a.id.as_bytes());
            field(h, a.perms.as_bytes());
        }
        let s = &r.stat;
        for v in [s.czxid, s.mzxid, s.pzxid, s.ctime_ms, s.mtime_ms, s.ephemeral_owner] {
            h.update(v.to_be_bytes());
        }
        for v in [s.version, s.cversion, s.aversion, s.data_length, s.num_children] {
            h.update(v.to_be_bytes());
        }
        self.count += 1;
    }

    /// Znodes pushed so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The checksum in lower-case hex.
    pub fn finish(self) -> String {
        self.hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

fn field(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(bytes);
}

/// Progress of a running backup job, as the CLI prints it and the console draws its bar.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    /// What is being done: `reading`, `writing`, `verifying`, `restoring`, `dumping` …
    pub phase: String,
    /// Units done (znodes, tables) and the total when known.
    pub done: u64,
    pub total: Option<u64>,
    /// Bytes written so far, and the expected total when it can be estimated.
    pub bytes: u64,
    pub bytes_total: Option<u64>,
    pub elapsed_ms: u64,
}

impl Progress {
    /// Fraction done (0.0–1.0), by bytes when their total is known, else by units.
    pub fn fraction(&self) -> Option<f64> {
        let (done, total) = match (self.bytes_total, self.total) {
            (Some(t), _) if t > 0 => (self.bytes, t),
            (_, Some(t)) if t > 0 => (self.done, t),
            _ => return None,
        };
        Some((done as f64 / total as f64).clamp(0.0, 1.0))
    }

    /// Time left at the rate so far, when there is a fraction and a rate to go on.
    pub fn eta_ms(&self) -> Option<u64> {
        let f = self.fraction()?;
        if f <= 0.0 || self.elapsed_ms == 0 {
            return None;
        }
        Some(((self.elapsed_ms as f64) * (1.0 - f) / f).round() as u64)
    }
}

/// Where a running job reports its progress (the CLI prints, the console sends an event).
pub type ProgressFn<'a> = &'a (dyn Fn(&Progress) + Send + Sync);

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(owner: i64) -> NodeStat {
        NodeStat { ephemeral_owner: owner, ..NodeStat::default() }
    }

    #[test]
    fn modes_from_stat_and_name() {
        assert_eq!(ZnodeMode::of("/a", &stat(0)), ZnodeMode::Persistent);
        assert_eq!(ZnodeMode::of("/h/op-0000000042", &stat(0)), ZnodeMode::Sequential);
        assert_eq!(ZnodeMode::of("/h/0000000042", &stat(0)), ZnodeMode::Sequential);
        assert_eq!(ZnodeMode::of("/h/op-000000042", &stat(0)), ZnodeMode::Persistent);
        assert_eq!(ZnodeMode::of("/e", &stat(0x0100_0000_0000_0001)), ZnodeMode::Ephemeral);
        assert_eq!(sequence_of("/x/lock-0000000007"), Some(7));
        assert_eq!(sequence_of("/"), None);
        assert_eq!(sequence_of("/ünï-名前-2"), None);
        assert_eq!(sequence_of("/名前0000000003"), Some(3));
        for m in [
            ZnodeMode::Persistent,
            ZnodeMode::Sequential,
            ZnodeMode::Container,
            ZnodeMode::Ttl { ttl_ms: 5 },
            ZnodeMode::Ephemeral,
        ] {
            assert_eq!(ZnodeMode::from_parts(m.label(), m.ttl_ms()), Some(m));
        }
        assert_eq!(ZnodeMode::from_parts("ttl", None), None);
    }

    fn record(path: &str, data: &[u8]) -> ZnodeRecord {
        ZnodeRecord {
            path: path.into(),
            data: data.to_vec(),
            stat: NodeStat::default(),
            acl: vec![AclEntry { scheme: "world".into(), id: "anyone".into(), perms: "cdrwa".into() }],
            mode: ZnodeMode::Persistent,
        }
    }

    fn checksum(records: &[ZnodeRecord]) -> String {
        let mut d = ContentDigest::new();
        records.iter().for_each(|r| d.push(r));
        d.finish()
    }

    #[test]
    fn checksum_sees_every_field_and_field_boundaries() {
        let base = vec![record("/a", b"xy"), record("/b", b"")];
        let sum = checksum(&base);
        assert_eq!(sum.len(), 64);
        assert_eq!(sum, checksum(&base.clone()));
        // The same bytes split differently between path and data differ.
        assert_ne!(checksum(&[record("/ax", b"y"), record("/b", b"")]), sum);
        let mut acl = base.clone();
        acl[0].acl[0].perms = "r".into();
        assert_ne!(checksum(&acl), sum);
        let mut mode = base.clone();
        mode[1].mode = ZnodeMode::Container;
        assert_ne!(checksum(&mode), sum);
        let mut st = base.clone();
        st[0].stat.version = 1;
        assert_ne!(checksum(&st), sum);
        let reordered = vec![base[1].clone(), base[0].clone()];
        assert_ne!(checksum(&reordered), sum);
    }

    #[test]
    fn acl_json_round_trips() {
        let acl = record("/a", b"").acl;
        assert_eq!(acl_from_json(&acl_to_json(&acl)).unwrap(), acl);
        assert!(acl_from_json("nope").is_err());
    }

    #[test]
    fn progress_fraction_and_eta() {
        let p = Progress { done: 1, total: Some(4), elapsed_ms: 1_000, ..Progress::default() };
        assert_eq!(p.fraction(), Some(0.25));
        assert_eq!(p.eta_ms(), Some(3_000));
        let by_bytes = Progress { bytes: 50, bytes_total: Some(100), done: 9, total: Some(10), elapsed_ms: 10, ..p };
        assert_eq!(by_bytes.fraction(), Some(0.5));
        assert_eq!(Progress::default().eta_ms(), None);
    }
}
