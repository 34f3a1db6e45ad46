//! The parts of a cluster's `config` znode and `primary` znode that readers rely on. Reading is
//! lenient (unknown fields are kept out of the way, not rejected); strict validation for
//! editing lives with the editor.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterConfig {
    #[serde(default)]
    pub schema: u32,
    #[serde(default)]
    pub name: String,
    /// `production` turns the header red and asks for the cluster name before dangerous actions.
    #[serde(default)]
    pub tier: String,
    #[serde(default)]
    pub nodes: Vec<ConfigNode>,
    #[serde(default)]
    pub failover: FailoverConfig,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigNode {
    pub name: String,
    #[serde(default)]
    pub host: String,
    #[serde(default)]
    pub port: u16,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailoverConfig {
    #[serde(default)]
    pub automatic: bool,
    #[serde(default)]
    pub cooldown_s: u64,
}

impl ClusterConfig {
    pub fn is_production(&self) -> bool {
        self.tier.eq_ignore_ascii_case("production") || self.tier.eq_ignore_ascii_case("prod")
    }
}

/// `<cluster>/primary`: which node is primary, and the fencing epoch that only grows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrimaryRecord {
    pub node: String,
    pub epoch: u64,
}

/// Parses a config znode; the error is phrased for the screen.
pub fn parse_config(data: &[u8]) -> Result<ClusterConfig, String> {
    serde_json::from_slice(data).map_err(|e| format!("config is not valid: {e}"))
}

pub fn parse_primary(data: &[u8]) -> Result<PrimaryRecord, String> {
    serde_json::from_slice(data).map_err(|e| format!("primary record is not valid: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_config_and_strict_primary() {
        let cfg =
            parse_config(br#"{"schema":1,"name":"x","tier":"Production","extra":1,"nodes":[{"name":"a"}]}"#).unwrap();
        assert!(cfg.is_production());
        assert_eq!(cfg.nodes[0].name, "a");
        assert!(parse_config(b"[").is_err());
        assert_eq!(parse_primary(br#"{"node":"db1","epoch":3}"#).unwrap().epoch, 3);
        assert!(parse_primary(br#"{"node":"db1"}"#).is_err());
    }
}
