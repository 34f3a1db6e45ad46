//! Backups: snapshots of the ZooKeeper tree kept in MySQL (the backup store) and restored from
//! it, and MySQL logical dumps with progress. Used by `myzoo zk-backup`, `myzoo mysql-backup`,
//! the console's backups screen and the coordinator's scheduled snapshots; nothing here knows
//! about a front end.
//!
//! - `dump`: logical MySQL dumps (source choice, dump pipeline, store rows, history, verify)
//! - `record`: what a snapshot keeps of a znode, its mode, the content checksum, progress (pure)
//! - `schema`: the store's tables and their version
//! - `store`: choosing the store's server (without ZooKeeper), every read and write of its rows

pub mod dump;
pub mod record;
pub mod schema;
pub mod store;

pub use record::{ContentDigest, Progress, ProgressFn, SnapshotMeta, SnapshotState, ZnodeMode, ZnodeRecord};
pub use store::{Store, StoreAccess, Want};
