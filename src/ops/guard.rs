//! The production guard: which production clusters a path belongs to or holds, read from each
//! cluster's `config` with the lenient reader.

use zookeeper_client::Client;

use super::OpError;
use crate::cluster::config::parse_config;
use crate::cluster::snapshot::list_clusters;
use crate::cluster::{split_cluster_path, ClusterPaths};
use crate::zk::load::read_many;

/// The production cluster `path` lies in (`<root>/clusters/<c>` or below), if any.
pub async fn production_cluster_for(client: &Client, root: &str, path: &str) -> Result<Option<String>, OpError> {
    let Some((cluster, _)) = split_cluster_path(root, path).filter(|(c, _)| !c.is_empty()) else {
        return Ok(None);
    };
    let found = production_among(client, root, vec![cluster.to_string()]).await?;
    Ok(found.into_iter().next())
}

/// Production clusters a delete of `path` would touch: its own cluster, or every production
/// cluster below it when `path` is an ancestor of `<root>/clusters`.
pub async fn production_clusters_affected(client: &Client, root: &str, path: &str) -> Result<Vec<String>, OpError> {
    if let Some(c) = production_cluster_for(client, root, path).await? {
        return Ok(vec![c]);
    }
    let dir = ClusterPaths::clusters_dir(root);
    let holds_clusters = path == "/" || dir == path || dir.starts_with(&format!("{path}/"));
    if !holds_clusters {
        return Ok(Vec::new());
    }
    let names = list_clusters(client, root).await.map_err(OpError::load)?;
    production_among(client, root, names).await
}

/// For a set: a blind overwrite, a write of `primary`, or a config edit that leaves production,
/// each on a production cluster, needs the cluster's name.
pub async fn production_set_guard(
    client: &Client,
    root: &str,
    path: &str,
    data: &[u8],
    expected_version: Option<i32>,
) -> Result<Vec<String>, OpError> {
    let Some(cluster) = production_cluster_for(client, root, path).await? else {
        return Ok(Vec::new());
    };
    let paths = ClusterPaths::new(root, &cluster);
    let leaves_production = path == paths.config() && !parse_config(data).is_ok_and(|c| c.is_production());
    let destructive = expected_version.is_none() || path == paths.primary() || leaves_production;
    Ok(if destructive { vec![cluster] } else { Vec::new() })
}

/// The names among `clusters` whose config says production. A config that exists but cannot
/// be read as a config counts as production: without it nothing proves the cluster is safe to
/// touch. A missing config does not.
async fn production_among(client: &Client, root: &str, clusters: Vec<String>) -> Result<Vec<String>, OpError> {
    let paths: Vec<String> = clusters.iter().map(|c| ClusterPaths::new(root, c).config()).collect();
    let (nodes, failed) = read_many(client, paths.clone()).await.map_err(OpError::load)?;
    let mut out = Vec::new();
    for (cluster, config_path) in clusters.into_iter().zip(paths) {
        let unreadable = failed.iter().any(|(p, _)| *p == config_path);
        let production = nodes
            .iter()
            .find(|n| n.path == config_path)
            .is_some_and(|n| parse_config(&n.data).map_or(true, |c| c.is_production()));
        if production || unreadable {
            out.push(cluster);
        }
    }
    Ok(out)
}
