//! Deleting znodes: the plan the console shows first (what goes), and the version-checked
//! delete, children deepest first in multi-write batches that each re-check the top znode.

use zookeeper_client::{Client, Error as ZkError, MultiReadResult, MultiWriteError};

use super::{validate_target, Facts, OpError, Ops, WRITE_ATTEMPTS};
use crate::zk::load::{fetch_node, MULTI_READ_BATCH};
use crate::zk::{child_path, NodeInfo};

/// Deletes per multi-write: each is a path and a few bytes, far below the 1 MB packet limit.
const DELETE_BATCH: usize = 500;

/// What a delete of `path` would remove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletePlan {
    pub path: String,
    /// The version the delete will be checked against unless the caller gives one.
    pub version: i32,
    /// Number of znodes below `path`.
    pub descendants: usize,
    /// Every descendant, deepest first (the order they are deleted in).
    pub paths: Vec<String>,
}

impl Ops {
    /// Reads what a delete of `path` would remove, for the console's confirmation.
    pub async fn delete_plan(&self, path: &str) -> Result<DeletePlan, OpError> {
        validate_target(path).map_err(OpError::InvalidPath)?;
        let (node, paths) = self.plan(path).await?;
        Ok(DeletePlan { path: path.to_string(), version: node.stat.version, descendants: paths.len(), paths })
    }

    async fn plan(&self, path: &str) -> Result<(NodeInfo, Vec<String>), OpError> {
        let node = fetch_node(&self.client, path).await.map_err(OpError::load)?;
        let paths = if node.stat.num_children > 0 { descendants(&self.client, path).await? } else { Vec::new() };
        Ok((node, paths))
    }

    pub(super) async fn delete(
        &self,
        path: &str,
        expected: Option<i32>,
        recursive: bool,
        facts: &mut Facts,
    ) -> Result<(), OpError> {
        for _ in 0..WRITE_ATTEMPTS {
            let (node, below) = self.plan(path).await?;
            facts.before(&node);
            if let Some(v) = expected.filter(|v| *v != node.stat.version) {
                return Err(OpError::BadVersion { path: path.to_string(), expected: v, current: Some(Box::new(node)) });
            }
            if !below.is_empty() {
                if !recursive {
                    return Err(OpError::NotEmpty { path: path.to_string(), descendants: below.len() });
                }
                facts.detail = Some(format!("recursive: {} descendant(s)", below.len()));
            }
            match self.delete_batches(path, node.stat.version, below).await {
                Ok(()) => return Ok(()),
                Err(Retry::TopChanged) if expected.is_some() => {
                    let current = fetch_node(&self.client, path).await.ok().map(Box::new);
                    return Err(OpError::BadVersion { path: path.to_string(), expected: node.stat.version, current });
                }
                Err(Retry::TopChanged | Retry::TreeChanged) => continue,
                Err(Retry::Failed(e)) => return Err(e),
            }
        }
        Err(OpError::Zk { path: path.to_string(), message: "it kept changing while being deleted; try again".into() })
    }

    /// Deletes `below` then `path`; every batch starts with a version check of `path`, so
    /// nothing goes once someone else has changed the top znode, and a subtree that fits one
    /// batch goes atomically.
    async fn delete_batches(&self, path: &str, version: i32, below: Vec<String>) -> Result<(), Retry> {
        let mut ops: Vec<(String, Option<i32>)> = below.into_iter().map(|p| (p, None)).collect();
        ops.push((path.to_string(), Some(version)));
        for chunk in ops.chunks(DELETE_BATCH) {
            let mut writer = self.client.new_multi_writer();
            let added = writer
                .add_check_version(path, version)
                .and_then(|()| chunk.iter().try_for_each(|(p, v)| writer.add_delete(p, *v)));
            added.map_err(|e| Retry::Failed(OpError::zk(path, e)))?;
            match writer.commit().await {
                Ok(_) => {}
                Err(MultiWriteError::OperationFailed { index: 0, source: ZkError::BadVersion }) => {
                    return Err(Retry::TopChanged)
                }
                // A child appeared or vanished meanwhile (or the top went): plan again.
                Err(MultiWriteError::OperationFailed { source: ZkError::NotEmpty | ZkError::NoNode, .. }) => {
                    return Err(Retry::TreeChanged)
                }
                Err(MultiWriteError::OperationFailed { source, .. } | MultiWriteError::RequestFailed { source }) => {
                    return Err(Retry::Failed(OpError::zk(path, source)))
                }
            }
        }
        Ok(())
    }
}

enum Retry {
    TopChanged,
    TreeChanged,
    Failed(OpError),
}

/// Every descendant of `path`, deepest first, listed level by level with multi-reads.
async fn descendants(client: &Client, path: &str) -> Result<Vec<String>, OpError> {
    let mut levels: Vec<Vec<String>> = Vec::new();
    let mut frontier = vec![path.to_string()];
    while !frontier.is_empty() {
        let mut next = Vec::new();
        for batch in frontier.chunks(MULTI_READ_BATCH) {
            let mut reader = client.new_multi_reader();
            for p in batch {
                reader.add_get_children(p).map_err(|e| OpError::zk(p, e))?;
            }
            let results = reader.commit().await.map_err(|e| OpError::zk(path, e))?;
            for (parent, r) in batch.iter().zip(results) {
                if let MultiReadResult::Children { mut children } = r {
                    children.sort_unstable();
                    next.extend(children.iter().map(|c| child_path(parent, c)));
                }
            }
        }
        if !next.is_empty() {
            levels.push(next.clone());
        }
        frontier = next;
    }
    Ok(levels.into_iter().rev().flatten().collect())
}
