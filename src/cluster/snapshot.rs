//! One-shot reads of clusters from ZooKeeper into [`ClusterSnapshot`]s (for `myzoo status`;
//! the console keeps its snapshots live from watch events instead).

use std::collections::BTreeMap;

use zookeeper_client::{Client, Error as ZkError};

use super::health::ClusterSnapshot;
use super::ClusterPaths;
use crate::zk::load::{self, LoadError};
use crate::zk::{base_name, describe_error};

/// Names of the clusters under `<root>/clusters`, sorted; none when the folder is absent.
pub async fn list_clusters(client: &Client, root: &str) -> Result<Vec<String>, LoadError> {
    let dir = ClusterPaths::clusters_dir(root);
    match client.list_children(&dir).await {
        Ok(mut names) => {
            names.sort();
            Ok(names)
        }
        Err(ZkError::NoNode) => Ok(Vec::new()),
        Err(e) => Err(LoadError { path: dir, message: describe_error(&e), source: Some(e) }),
    }
}

/// Reads a cluster's config, primary record, coordinator state and every registered node's
/// status.
pub async fn read_cluster(client: &Client, root: &str, cluster: &str) -> Result<ClusterSnapshot, LoadError> {
    let paths = ClusterPaths::new(root, cluster);
    let (found, failed) =
        load::read_many(client, vec![paths.config(), paths.primary(), paths.coordinator_dir()]).await?;
    if let Some((path, message)) = failed.into_iter().next() {
        return Err(LoadError { path, message, source: None });
    }
    let mut snap = ClusterSnapshot { name: cluster.to_string(), ..ClusterSnapshot::default() };
    for n in found {
        if n.path == paths.config() {
            snap.config = Some(n.data);
        } else if n.path == paths.primary() {
            snap.primary = Some(n.data);
        } else {
            snap.coordinator = Some(n.data);
        }
    }
    snap.nodes = match load::load_children(client, &paths.nodes_dir()).await {
        Ok(c) => c.children.into_iter().map(|n| (base_name(&n.path).to_string(), n.data)).collect(),
        Err(LoadError { source: Some(ZkError::NoNode), .. }) => BTreeMap::new(),
        Err(e) => return Err(e),
    };
    Ok(snap)
}
