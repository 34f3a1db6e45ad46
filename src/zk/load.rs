//! Reading znodes in bulk: children with their stat and data, single nodes, ACLs. (Whole
//! subtrees are walked by `zk::find`, which streams and reports what it cannot read.)
//!
//! Everything goes through ZooKeeper multi-reads (one round trip for hundreds of reads), which
//! is what makes a 100,000-znode tree load in well under a second.

use futures::stream::{self, StreamExt, TryStreamExt};
use zookeeper_client::{Client, Error as ZkError, MultiReadResult};

use super::{child_path, describe_error, AclEntry, NodeInfo, NodeStat};

/// Reads per multi-read request: small enough that a batch of ~100-byte znodes stays far below
/// ZooKeeper's 1 MB packet limit, large enough to amortise the round trip.
pub const MULTI_READ_BATCH: usize = 500;
/// Multi-read requests in flight at once during a subtree load.
pub const MULTI_READ_IN_FLIGHT: usize = 8;

/// Errors from loading, already phrased for an operator.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct LoadError {
    pub path: String,
    pub message: String,
    #[source]
    pub source: Option<ZkError>,
}

impl LoadError {
    /// The read failed for want of a connection (see [`super::is_transient`]).
    pub fn transient(&self) -> bool {
        self.source.as_ref().is_some_and(super::is_transient)
    }

    fn zk(path: &str, e: ZkError) -> Self {
        LoadError { path: path.to_string(), message: describe_error(&e), source: Some(e) }
    }
}

/// Reads one znode's stat and data.
pub async fn fetch_node(client: &Client, path: &str) -> Result<NodeInfo, LoadError> {
    let (data, stat) = client.get_data(path).await.map_err(|e| LoadError::zk(path, e))?;
    Ok(NodeInfo { path: path.to_string(), stat: NodeStat::from(&stat), data })
}

/// Reads a znode's ACL and its ACL version (`aversion`, what a change is checked against).
pub async fn fetch_acl(client: &Client, path: &str) -> Result<(i32, Vec<AclEntry>), LoadError> {
    let (acl, stat) = client.get_acl(path).await.map_err(|e| LoadError::zk(path, e))?;
    Ok((stat.aversion, acl.iter().map(acl_entry).collect()))
}

/// One ACL entry as myzoo shows and keeps it (`perms` as `cdrwa` letters).
pub fn acl_entry(a: &zookeeper_client::Acl) -> AclEntry {
    AclEntry { scheme: a.scheme().to_string(), id: a.id().to_string(), perms: perms_text(a) }
}

fn perms_text(acl: &zookeeper_client::Acl) -> String {
    use zookeeper_client::Permission as P;
    let p = acl.permission();
    [(P::CREATE, 'c'), (P::DELETE, 'd'), (P::READ, 'r'), (P::WRITE, 'w'), (P::ADMIN, 'a')]
        .iter()
        .filter(|(bit, _)| p.has(*bit))
        .map(|(_, c)| *c)
        .collect()
}

/// A parent with its children: those read, and those whose read failed (NoAuth …) with why.
#[derive(Debug, Clone)]
pub struct Children {
    /// The parent's data and stat; the stat's `pzxid`, `cversion` and `num_children` are the
    /// child list's, so they describe the moment the names were listed.
    pub parent: NodeInfo,
    pub children: Vec<NodeInfo>,
    pub failed: Vec<(String, String)>,
}

/// Reads `parent` and every child of it (stat and data) in as few round trips as possible.
/// Children that vanish between the listing and the read are left out; children that cannot
/// be read are listed in `failed` so that they are shown with their error.
pub async fn load_children(client: &Client, parent: &str) -> Result<Children, LoadError> {
    let (mut names, listed) = client.get_children(parent).await.map_err(|e| LoadError::zk(parent, e))?;
    names.sort_unstable();
    let mut paths = Vec::with_capacity(names.len() + 1);
    paths.push(parent.to_string());
    paths.extend(names.iter().map(|n| child_path(parent, n)));
    let (mut nodes, failed) = read_many(client, paths).await?;
    if let Some((_, error)) = failed.iter().find(|(p, _)| p == parent) {
        return Err(LoadError { path: parent.to_string(), message: error.clone(), source: None });
    }
    let mut parent_info = match nodes.iter().position(|n| n.path == parent) {
        Some(i) => nodes.remove(i),
        None => return Err(LoadError::zk(parent, ZkError::NoNode)),
    };
    // The names and the data are two reads. The stat's children fields are the list's, so its
    // pzxid says which moment the names describe (the console tells a listing older than a
    // change it has already shown by it); the data fields stay the data's.
    if parent_info.stat.czxid == listed.czxid {
        parent_info.stat.pzxid = listed.pzxid;
        parent_info.stat.cversion = listed.cversion;
        parent_info.stat.num_children = listed.num_children;
    }
    Ok(Children { parent: parent_info, children: nodes, failed })
}

/// Znodes read, and paths whose read failed with the reason.
pub type ReadResults = (Vec<NodeInfo>, Vec<(String, String)>);

/// Reads stat and data of many paths with pipelined multi-reads; missing paths are skipped,
/// unreadable ones returned with the reason.
pub async fn read_many(client: &Client, paths: Vec<String>) -> Result<ReadResults, LoadError> {
    let batches: Vec<Vec<String>> = paths.chunks(MULTI_READ_BATCH).map(<[String]>::to_vec).collect();
    let results: Vec<ReadResults> = stream::iter(batches)
        .map(|batch| read_batch(client, batch))
        .buffered(MULTI_READ_IN_FLIGHT)
        .try_collect()
        .await?;
    let mut nodes = Vec::with_capacity(paths.len());
    let mut failed = Vec::new();
    for (n, f) in results {
        nodes.extend(n);
        failed.extend(f);
    }
    Ok((nodes, failed))
}

async fn read_batch(client: &Client, batch: Vec<String>) -> Result<ReadResults, LoadError> {
    let mut reader = client.new_multi_reader();
    for p in &batch {
        reader.add_get_data(p).map_err(|e| LoadError::zk(p, e))?;
    }
    let results = match reader.commit().await {
        Ok(r) => r,
        // A batch can exceed the packet limit when znodes are large: read those one at a time.
        Err(ZkError::ConnectionLoss) | Err(ZkError::MarshallingError) | Err(ZkError::UnexpectedError(_)) => {
            return read_one_by_one(client, batch).await
        }
        Err(e) => return Err(LoadError::zk(&batch[0], e)),
    };
    let mut out = Vec::with_capacity(batch.len());
    let mut failed = Vec::new();
    for (path, r) in batch.into_iter().zip(results) {
        match r {
            MultiReadResult::Data { data, stat } => out.push(NodeInfo { path, stat: NodeStat::from(&stat), data }),
            MultiReadResult::Error { err: ZkError::NoNode } => {}
            MultiReadResult::Error { err } => failed.push((path, describe_error(&err))),
            _ => {}
        }
    }
    Ok((out, failed))
}

async fn read_one_by_one(client: &Client, batch: Vec<String>) -> Result<ReadResults, LoadError> {
    let mut out = Vec::with_capacity(batch.len());
    let mut failed = Vec::new();
    for p in batch {
        match fetch_node(client, &p).await {
            Ok(n) => out.push(n),
            Err(LoadError { source: Some(ZkError::NoNode), .. }) => {}
            Err(e @ LoadError { source: Some(ZkError::ConnectionLoss), .. }) => return Err(e),
            Err(e) => failed.push((e.path, e.message)),
        }
    }
    Ok((out, failed))
}
