//! What an operation starts from: the cluster's config, its `primary` record with the znode
//! version (every write of the record is checked against it), and the agents' statuses.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use zookeeper_client::Client;

use crate::cluster::config::{parse_config, parse_primary, ClusterConfig, ConfigNode, PrimaryRecord};
use crate::cluster::status::{parse_status, NodeStatus, ParsedStatus};
use crate::cluster::ClusterPaths;
use crate::mysql::Target;
use crate::zk::describe_error;

use super::Access;

#[derive(Debug, Clone)]
pub struct ClusterView {
    pub config: ClusterConfig,
    pub primary: PrimaryRecord,
    pub primary_version: i32,
    /// Statuses of the nodes whose agents are registered (and readable).
    pub statuses: BTreeMap<String, NodeStatus>,
}

impl ClusterView {
    pub async fn read(client: &Client, paths: &ClusterPaths) -> Result<ClusterView> {
        let (config, _) = client
            .get_data(&paths.config())
            .await
            .map_err(|e| anyhow::anyhow!("{}: {}", paths.config(), describe_error(&e)))?;
        let config = parse_config(&config).map_err(anyhow::Error::msg)?;
        let (primary, stat) = client
            .get_data(&paths.primary())
            .await
            .map_err(|e| anyhow::anyhow!("{}: {} (no primary recorded?)", paths.primary(), describe_error(&e)))?;
        let primary = parse_primary(&primary).map_err(anyhow::Error::msg)?;
        let snap = crate::cluster::snapshot::read_cluster(client, &paths.root, &paths.cluster)
            .await
            .with_context(|| format!("reading cluster {}", paths.cluster))?;
        let statuses = snap
            .nodes
            .iter()
            .filter_map(|(name, data)| match parse_status(data) {
                ParsedStatus::Ok(s) => Some((name.clone(), *s)),
                _ => None,
            })
            .collect();
        Ok(ClusterView { config, primary, primary_version: stat.version, statuses })
    }

    pub fn node(&self, name: &str) -> Option<&ConfigNode> {
        self.config.nodes.iter().find(|n| n.name == name)
    }

    /// Where to reach `node`: the config's address, else what its agent reports.
    pub fn target(&self, name: &str, access: &Access) -> Option<Target> {
        let (host, port) = match self.node(name) {
            Some(n) if !n.host.is_empty() && n.port != 0 => (n.host.clone(), n.port),
            _ => {
                let s = self.statuses.get(name)?;
                (s.server.host.clone(), s.server.port)
            }
        };
        Some(Target {
            host,
            port,
            user: access.user.clone(),
            password: access.password.clone(),
            tls: access.tls.at_least(self.config.mysql.tls),
        })
    }

    /// Where to reach every node named in the config; an error names a node without address.
    pub fn targets(&self, access: &Access) -> Result<BTreeMap<String, Target>> {
        let mut targets = BTreeMap::new();
        for name in self.names() {
            let target = self.target(&name, access).with_context(|| format!("node {name} has no address"))?;
            targets.insert(name, target);
        }
        Ok(targets)
    }

    /// Every node named in the config, in order.
    pub fn names(&self) -> Vec<String> {
        self.config.nodes.iter().map(|n| n.name.clone()).collect()
    }
}
