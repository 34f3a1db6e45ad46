//! One operation per cluster at a time, enforced in ZooKeeper (not in a UI): each contender
//! creates an ephemeral sequential znode under `<cluster>/lock/`; the lowest sequence holds the
//! lock, and anyone else removes its own znode at once and is told who holds it. A holder that
//! dies loses the lock when its session expires; its journal record (left `running`) says what
//! it was doing, so the next holder can finish it or roll it back.
//!
//! The holder's znode name is unique (sequential), so a multi-op that checks it
//! (`check_version(lock, 0)`) only succeeds while this very holder still holds the lock: a
//! deposed holder whose session expired cannot write the `primary` record.

use serde::{Deserialize, Serialize};
use zookeeper_client::{Acls, Client, CreateMode, Error as ZkError};

use crate::cluster::ClusterPaths;
use crate::zk::{child_path, describe_error};

/// Name prefix of each contender's znode.
pub const LOCK_PREFIX: &str = "op-";

/// What a holder writes into its lock znode, so a refused contender can say who holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// `switchover`, `failover`, `rejoin`.
    pub operation: String,
    pub user: String,
    pub host: String,
    pub pid: u32,
    /// `cli`, `console`, `coordinator`.
    pub origin: String,
    pub since_ms: i64,
}

/// A held lock: the path of our ephemeral znode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterLock {
    pub path: String,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another operation holds the cluster lock: {} by {}@{} ({}, pid {}) since {}", .0.operation, .0.user, .0.host, .0.origin, .0.pid, crate::zk::format::utc_timestamp(.0.since_ms))]
    Busy(LockInfo),
    #[error("another operation holds the cluster lock ({0})")]
    BusyUnknown(String),
    #[error("taking the cluster lock: {0}")]
    Zk(String),
}

fn zk_error(path: &str, e: &ZkError) -> LockError {
    LockError::Zk(format!("{path}: {}", describe_error(e)))
}

/// Tries once to take the lock; never waits behind another holder.
pub async fn acquire(client: &Client, paths: &ClusterPaths, info: &LockInfo) -> Result<ClusterLock, LockError> {
    let dir = paths.lock_dir();
    let data = serde_json::to_vec(info).map_err(|e| LockError::Zk(e.to_string()))?;
    let acl = crate::zk::acl::ensure_folder(client, &dir).await.map_err(|e| zk_error(&dir, &e))?;
    let prefix = child_path(&dir, LOCK_PREFIX);
    let options = CreateMode::EphemeralSequential.with_acls(Acls::new(&acl));
    let (_, seq) = client.create(&prefix, &data, &options).await.map_err(|e| zk_error(&prefix, &e))?;
    let ours = format!("{prefix}{seq}");
    let mut names = client.list_children(&dir).await.map_err(|e| zk_error(&dir, &e))?;
    names.sort_by_key(|n| sequence(n));
    let lowest = names.first().map(|n| child_path(&dir, n));
    if lowest.as_deref() == Some(ours.as_str()) {
        return Ok(ClusterLock { path: ours });
    }
    // Not ours: step back at once, then say who holds it.
    if let Err(e) = client.delete(&ours, None).await {
        tracing::warn!("removing our lock attempt {ours}: {}", describe_error(&e));
    }
    let Some(holder) = lowest else {
        return Err(LockError::BusyUnknown("no holder found".into()));
    };
    match client.get_data(&holder).await {
        Ok((data, _)) => match serde_json::from_slice::<LockInfo>(&data) {
            Ok(info) => Err(LockError::Busy(info)),
            Err(_) => Err(LockError::BusyUnknown(holder)),
        },
        // It went away meanwhile: still refuse; the caller may try again.
        Err(_) => Err(LockError::BusyUnknown(holder)),
    }
}

/// The sequence number ZooKeeper appended (names from elsewhere sort last).
fn sequence(name: &str) -> i64 {
    name.strip_prefix(LOCK_PREFIX).and_then(|s| s.parse().ok()).unwrap_or(i64::MAX)
}

impl ClusterLock {
    /// Gives the lock back. A failure is logged: the znode goes with the session anyway.
    pub async fn release(self, client: &Client) {
        match client.delete(&self.path, None).await {
            Ok(()) | Err(ZkError::NoNode) => {}
            Err(e) => tracing::warn!("releasing {}: {}", self.path, describe_error(&e)),
        }
    }
}

/// Who holds the lock now, if anyone (for the console and `status`).
pub async fn holder(client: &Client, paths: &ClusterPaths) -> Result<Option<LockInfo>, LockError> {
    let dir = paths.lock_dir();
    let mut names = match client.list_children(&dir).await {
        Ok(n) => n,
        Err(ZkError::NoNode) => return Ok(None),
        Err(e) => return Err(zk_error(&dir, &e)),
    };
    names.sort_by_key(|n| sequence(n));
    for name in names {
        let path = child_path(&dir, &name);
        match client.get_data(&path).await {
            Ok((data, _)) => return Ok(serde_json::from_slice(&data).ok()),
            Err(ZkError::NoNode) => continue,
            Err(e) => return Err(zk_error(&path, &e)),
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_sort_numerically_and_strangers_last() {
        let mut names = vec!["op-0000000010".to_string(), "junk".into(), "op-0000000002".into()];
        names.sort_by_key(|n| sequence(n));
        assert_eq!(names, ["op-0000000002", "op-0000000010", "junk"]);
    }
}
