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
    #[serde(default)]
    pub fencing: FencingConfig,
    #[serde(default)]
    pub hooks: HooksConfig,
    #[serde(default)]
    pub replication: ReplicationConfig,
    #[serde(default)]
    pub backup: BackupConfig,
    #[serde(default)]
    pub mysql: MysqlConfig,
}

/// How myzoo connects to the cluster's servers. Only the policy lives here: the CA and client
/// certificate are files on each host (the profile's `mysql_tls`, the agent's `--mysql-tls-*`
/// flags), since a path means nothing on another machine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MysqlConfig {
    /// `off` (the default), `preferred` or `required`: with `required`, agents, operations and
    /// dumps refuse a server that does not offer TLS, and check its certificate.
    #[serde(default)]
    pub tls: crate::tls::TlsMode,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigNode {
    pub name: String,
    #[serde(default)]
    pub host: String,
    #[serde(default)]
    pub port: u16,
    /// Never chosen as the new primary (a delayed replica, a backup host, a smaller machine);
    /// it still replicates and is re-pointed at whichever node is promoted.
    #[serde(default)]
    pub no_promote: bool,
}

/// Default of [`FailoverConfig::max_lag_s`].
pub const DEFAULT_MAX_LAG_S: u64 = 10;
/// Default of [`FailoverConfig::confirmations`].
pub const DEFAULT_CONFIRMATIONS: u32 = 3;
/// Default of [`FailoverConfig::catch_up_timeout_ms`].
pub const DEFAULT_CATCH_UP_TIMEOUT_MS: u64 = 5_000;
/// Default of [`FailoverConfig::long_transaction_s`].
pub const DEFAULT_LONG_TRANSACTION_S: u64 = 60;
/// Default of [`HooksConfig::timeout_s`].
pub const DEFAULT_HOOK_TIMEOUT_S: u64 = 30;
/// Default of [`ReplicationConfig::user`].
pub const DEFAULT_REPLICATION_USER: &str = "repl";

/// How switchover and failover behave. Every field has a default, so a config written before a
/// field existed keeps working and means what the default says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailoverConfig {
    #[serde(default)]
    pub automatic: bool,
    #[serde(default)]
    pub cooldown_s: u64,
    /// A candidate lagging more than this is not promoted: promoting it would either lose what
    /// it has not received or keep the cluster without a primary while it catches up.
    #[serde(default = "default_max_lag_s")]
    pub max_lag_s: u64,
    /// Consecutive observations that confirm the primary is gone before an automatic failover,
    /// so one slow probe or a blip of the network never moves the primary.
    #[serde(default = "default_confirmations")]
    pub confirmations: u32,
    /// Re-point the old primary at the new one when it comes back (off: an operator runs
    /// `myzoo rejoin` after looking at what it may hold that the others do not).
    #[serde(default)]
    pub auto_rejoin: bool,
    /// Longest wait for the candidate to apply everything it received before it is opened.
    #[serde(default = "default_catch_up_timeout_ms")]
    pub catch_up_timeout_ms: u64,
    /// A switchover refuses while a transaction on the primary is older than this: fencing
    /// would kill it and its rollback could outlast the switchover.
    #[serde(default = "default_long_transaction_s")]
    pub long_transaction_s: u64,
    /// Maintenance: automatic failover does not act (operators still can).
    #[serde(default)]
    pub paused: bool,
}

fn default_max_lag_s() -> u64 {
    DEFAULT_MAX_LAG_S
}
fn default_confirmations() -> u32 {
    DEFAULT_CONFIRMATIONS
}
fn default_catch_up_timeout_ms() -> u64 {
    DEFAULT_CATCH_UP_TIMEOUT_MS
}
fn default_long_transaction_s() -> u64 {
    DEFAULT_LONG_TRANSACTION_S
}
fn default_hook_timeout_s() -> u64 {
    DEFAULT_HOOK_TIMEOUT_S
}
fn default_replication_user() -> String {
    DEFAULT_REPLICATION_USER.to_string()
}

impl Default for FailoverConfig {
    fn default() -> Self {
        FailoverConfig {
            automatic: false,
            cooldown_s: 0,
            max_lag_s: DEFAULT_MAX_LAG_S,
            confirmations: DEFAULT_CONFIRMATIONS,
            auto_rejoin: false,
            catch_up_timeout_ms: DEFAULT_CATCH_UP_TIMEOUT_MS,
            long_transaction_s: DEFAULT_LONG_TRANSACTION_S,
            paused: false,
        }
    }
}

/// How long a primary may keep writing without hearing from ZooKeeper.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FencingConfig {
    /// `None`: derived from the agent's ZooKeeper session timeout, so that a primary cut off
    /// from ZooKeeper fences itself before the others may promote a replica.
    #[serde(default)]
    pub lease_ms: Option<u64>,
}

/// Operator commands run around switchovers and failovers (moving a virtual IP, telling a
/// proxy, paging someone). `None`: no hook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HooksConfig {
    #[serde(default)]
    pub pre_switchover: Option<String>,
    #[serde(default)]
    pub post_switchover: Option<String>,
    #[serde(default)]
    pub pre_failover: Option<String>,
    #[serde(default)]
    pub post_failover: Option<String>,
    /// A hook that runs longer is killed, so a hung script cannot hold a failover forever.
    #[serde(default = "default_hook_timeout_s")]
    pub timeout_s: u64,
}

impl Default for HooksConfig {
    fn default() -> Self {
        HooksConfig {
            pre_switchover: None,
            post_switchover: None,
            pre_failover: None,
            post_failover: None,
            timeout_s: DEFAULT_HOOK_TIMEOUT_S,
        }
    }
}

/// Default of [`BackupConfig::keep`].
pub const DEFAULT_BACKUP_KEEP: usize = 24;

/// Scheduled snapshots of the cluster's folder, taken by the automatic-failover coordinator
/// into the backup store (`agent::schedule`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupConfig {
    /// Seconds between snapshots; 0 (the default) takes none.
    #[serde(default)]
    pub zk_interval_s: u64,
    /// Scheduled snapshots of this cluster kept; older ones are pruned.
    #[serde(default = "default_backup_keep")]
    pub keep: usize,
}

fn default_backup_keep() -> usize {
    DEFAULT_BACKUP_KEEP
}

impl Default for BackupConfig {
    fn default() -> Self {
        BackupConfig { zk_interval_s: 0, keep: DEFAULT_BACKUP_KEEP }
    }
}

/// The account replicas connect to their primary as (its password is never in ZooKeeper).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicationConfig {
    #[serde(default = "default_replication_user")]
    pub user: String,
}

impl Default for ReplicationConfig {
    fn default() -> Self {
        ReplicationConfig { user: default_replication_user() }
    }
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

    #[test]
    fn missing_fields_take_their_defaults() {
        let cfg = parse_config(br#"{"schema":1,"name":"x","failover":{"automatic":true},"hooks":{}}"#).unwrap();
        assert!(cfg.failover.automatic);
        assert_eq!(cfg.failover.max_lag_s, 10);
        assert_eq!(cfg.failover.confirmations, 3);
        assert_eq!(cfg.failover.catch_up_timeout_ms, 5000);
        assert_eq!(cfg.failover.long_transaction_s, 60);
        assert!(!cfg.failover.auto_rejoin && !cfg.failover.paused);
        assert_eq!(cfg.hooks.timeout_s, 30);
        assert_eq!(cfg.hooks.pre_failover, None);
        assert_eq!(cfg.fencing.lease_ms, None);
        assert_eq!(cfg.replication.user, "repl");
        assert_eq!(parse_config(b"{}").unwrap().failover, FailoverConfig::default());
        assert_eq!(parse_config(b"{}").unwrap().hooks, HooksConfig::default());
    }

    #[test]
    fn new_fields_are_read() {
        let cfg = parse_config(
            br#"{"nodes":[{"name":"a","no_promote":true}],
                "failover":{"max_lag_s":2,"confirmations":5,"auto_rejoin":true,"catch_up_timeout_ms":100,
                            "long_transaction_s":7,"paused":true},
                "fencing":{"lease_ms":4000},
                "hooks":{"post_failover":"/bin/true","timeout_s":5},
                "replication":{"user":"r"}}"#,
        )
        .unwrap();
        assert!(cfg.nodes[0].no_promote);
        let f = &cfg.failover;
        assert_eq!((f.max_lag_s, f.confirmations, f.catch_up_timeout_ms, f.long_transaction_s), (2, 5, 100, 7));
        assert!(f.auto_rejoin && f.paused);
        assert_eq!(cfg.fencing.lease_ms, Some(4000));
        assert_eq!(cfg.hooks.post_failover.as_deref(), Some("/bin/true"));
        assert_eq!(cfg.hooks.timeout_s, 5);
        assert_eq!(cfg.replication.user, "r");
    }

    #[test]
    fn mysql_tls_policy_defaults_to_off() {
        use crate::tls::TlsMode;
        assert_eq!(parse_config(b"{}").unwrap().mysql.tls, TlsMode::Off);
        assert_eq!(parse_config(br#"{"mysql":{"tls":"required"}}"#).unwrap().mysql.tls, TlsMode::Required);
        assert_eq!(parse_config(br#"{"mysql":{}}"#).unwrap().mysql.tls, TlsMode::Off);
        assert!(parse_config(br#"{"mysql":{"tls":"always"}}"#).is_err());
    }
}
