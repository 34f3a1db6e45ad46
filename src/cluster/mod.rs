//! Clusters as myzoo sees them: the znode layout under the root, the node status document
//! agents publish, the config and primary records, and the pure health verdicts that the
//! console and `myzoo status` share, and the endpoints applications are pointed at
//! (`endpoint`), and the HAProxy configs that follow the agents (`haproxy`). No I/O here except
//! the one-shot reads of `snapshot` and `report`.

pub mod config;
pub mod coordinator;
pub mod endpoint;
pub mod follow;
pub mod haproxy;
pub mod health;
pub mod report;
pub mod schema;
pub mod snapshot;
pub mod status;
pub mod table;

/// Paths of one cluster's znodes under a root (default `/myzoo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterPaths {
    pub root: String,
    pub cluster: String,
}

impl ClusterPaths {
    pub fn new(root: &str, cluster: &str) -> ClusterPaths {
        ClusterPaths { root: root.trim_end_matches('/').to_string(), cluster: cluster.to_string() }
    }
    pub fn clusters_dir(root: &str) -> String {
        format!("{}/clusters", root.trim_end_matches('/'))
    }
    pub fn base(&self) -> String {
        format!("{}/clusters/{}", self.root, self.cluster)
    }
    pub fn config(&self) -> String {
        format!("{}/config", self.base())
    }
    pub fn primary(&self) -> String {
        format!("{}/primary", self.base())
    }
    pub fn nodes_dir(&self) -> String {
        format!("{}/nodes", self.base())
    }
    pub fn node(&self, node: &str) -> String {
        format!("{}/nodes/{node}", self.base())
    }
    pub fn coordinator_dir(&self) -> String {
        format!("{}/coordinator", self.base())
    }
    pub fn lock_dir(&self) -> String {
        format!("{}/lock", self.base())
    }
    pub fn history_dir(&self) -> String {
        format!("{}/history", self.base())
    }
}

/// Splits `<root>/clusters/<cluster>/<rest>` into `(cluster, rest)`.
pub fn split_cluster_path<'a>(root: &str, path: &'a str) -> Option<(&'a str, &'a str)> {
    let prefix = ClusterPaths::clusters_dir(root);
    let rest = path.strip_prefix(&prefix)?.strip_prefix('/')?;
    match rest.split_once('/') {
        Some((c, r)) => Some((c, r)),
        None => Some((rest, "")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_paths() {
        let p = ClusterPaths::new("/myzoo/", "main");
        assert_eq!(p.node("db1"), "/myzoo/clusters/main/nodes/db1");
        assert_eq!(p.primary(), "/myzoo/clusters/main/primary");
        assert_eq!(split_cluster_path("/myzoo", "/myzoo/clusters/main/nodes/db1"), Some(("main", "nodes/db1")));
        assert_eq!(split_cluster_path("/myzoo", "/myzoo/clusters/main"), Some(("main", "")));
        assert_eq!(split_cluster_path("/myzoo", "/other/clusters/main"), None);
    }
}
