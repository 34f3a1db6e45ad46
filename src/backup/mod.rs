//! Backups: snapshots of the ZooKeeper tree kept in MySQL (the backup store) and restored from
//! it, and MySQL logical dumps with progress. Used by `myzoo zk-backup`, `myzoo mysql-backup`,
//! the console's backups screen and the coordinator's scheduled snapshots; nothing here knows
//! about a front end.
//!
//! - `dump`: logical MySQL dumps (source choice, dump pipeline, store rows, history, verify)
//! - `record`: what a snapshot keeps of a znode, its mode, the content checksum, progress (pure)
//! - `schema`: the store's tables and their version
//! - `store`: choosing the store's server (without ZooKeeper), every read and write of its rows
//! - `walk`: reading a live subtree as records, streaming (multi-reads, pipelined ACLs)
//! - `snapshot`: a live subtree into the store (mode hints from the audit log), prune, list, show
//! - `export`: a snapshot as a portable JSON file and back, streaming, checksum checked
//! - `restore`: a snapshot back into ZooKeeper (policies, guards, multi-ops, sequence counters)
//! - `diff`: a snapshot against the live tree or another snapshot

pub mod diff;
pub mod dump;
pub mod export;
pub mod record;
pub mod restore;
pub mod schema;
pub mod snapshot;
pub mod store;
pub mod walk;

pub use record::{ContentDigest, Progress, ProgressFn, SnapshotMeta, SnapshotState, ZnodeMode, ZnodeRecord};
pub use store::{Store, StoreAccess, Want};
