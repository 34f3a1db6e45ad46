//! The JSON an agent publishes at `<root>/clusters/<cluster>/nodes/<node>` (ephemeral): the
//! contract between `myzoo agent`, the console and `myzoo status`. Bump [`STATUS_SCHEMA`] on an
//! incompatible change; readers show an unknown schema as such instead of guessing.

use serde::{Deserialize, Serialize};

use super::config::PrimaryRecord;

/// Version of the node status document.
pub const STATUS_SCHEMA: u32 = 1;

/// Which server software a node runs; decides which statements the agent uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    Mariadb,
    Mysql,
}

/// The role as the server itself sees it (from its replication state), not as recorded in
/// ZooKeeper's `primary` znode; the console compares the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServerRole {
    /// Not replicating from anyone.
    Primary,
    /// Configured to replicate from a source.
    Replica,
    /// Not known (server unreachable).
    Unknown,
}

/// One node's status at one moment, as its agent saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeStatus {
    pub schema: u32,
    pub cluster: String,
    pub node: String,
    /// When the agent finished this probe, milliseconds since the epoch (agent's clock).
    pub observed_at_ms: i64,
    pub agent: AgentInfo,
    /// Host and port the agent probes.
    pub server: Endpoint,
    /// Whether the last probe reached the server; `error` says why not.
    pub reachable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavor: Option<Flavor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The server's `server_id`: MariaDB GTIDs carry it, so failover can tell a replica's own
    /// (errant) writes from replicated ones. Optional, so older agents' documents still parse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_id: Option<u32>,
    pub role: ServerRole,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    #[serde(default)]
    pub gtid: Gtid,
    /// Present when the server is configured as a replica.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication: Option<Replication>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semi_sync: Option<SemiSync>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uptime_s: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads_connected: Option<u64>,
    /// Queries per second since the previous probe (from the `Queries` status counter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qps: Option<f64>,
    /// True replication lag from the heartbeat row the primary's agent writes, in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_lag_ms: Option<i64>,
    /// The `primary` record as this agent last read it (absent: none read, or none recorded).
    /// An agent whose view lags the record shows it here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_seen: Option<PrimaryRecord>,
    /// The last time this agent made its server read-only, and why (`agent::fence`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fenced: Option<String>,
    /// The TLS cipher of the agent's connection to its server; absent when it is plain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentInfo {
    pub host: String,
    pub pid: u32,
    pub version: String,
    /// Probe interval, so readers can tell when a status is stale.
    pub interval_ms: u64,
    /// Slowest re-publish interval when nothing changes.
    pub heartbeat_ms: u64,
    /// `host:port` of the agent's HTTP endpoints (`/primary`, `/replica`, `/health`,
    /// `/metrics`) as others reach them; absent when it serves none (`--http` not given).
    /// `myzoo haproxy-config` points the proxy's checks here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
}

/// GTID positions. MariaDB fills `current`, `slave` and `binlog`; MySQL fills `executed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gtid {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slave: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binlog: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executed: Option<String>,
}

impl Gtid {
    /// The position an operator compares across nodes.
    pub fn position(&self) -> Option<&str> {
        self.current.as_deref().or(self.executed.as_deref())
    }
}

/// A replica's replication state (`SHOW SLAVE STATUS` / `SHOW REPLICA STATUS`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replication {
    pub source_host: String,
    pub source_port: u16,
    /// "Yes", "No" or "Connecting", as the server says.
    pub io_running: String,
    pub sql_running: String,
    /// `Seconds_Behind_Master`; `None` when the server reports NULL.
    #[serde(default)]
    pub seconds_behind: Option<u64>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub last_io_error: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub last_sql_error: String,
    /// MariaDB `Using_Gtid` (`Slave_Pos`, `Current_Pos`, `No`); MySQL `Auto_Position` as "1"/"0".
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub using_gtid: String,
    /// What the IO thread has received (MariaDB `Gtid_IO_Pos`, MySQL `Retrieved_Gtid_Set`):
    /// failover ranks on it, because received transactions in the relay log can still be
    /// applied after the primary is gone.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub gtid_io_pos: String,
}

impl Replication {
    pub fn io_ok(&self) -> bool {
        self.io_running == "Yes"
    }
    pub fn sql_ok(&self) -> bool {
        self.sql_running == "Yes"
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SemiSync {
    pub source_enabled: bool,
    pub replica_enabled: bool,
    /// Whether semi-sync is active right now on the source side (`Rpl_semi_sync_master_status`).
    pub source_active: bool,
}

/// What a reader makes of a node znode's bytes.
#[derive(Debug, Clone, PartialEq)]
pub enum ParsedStatus {
    Ok(Box<NodeStatus>),
    /// The JSON names a schema this build does not know.
    UnknownSchema(u64),
    /// Not JSON, or JSON that does not fit the schema; the message says where.
    Malformed(String),
}

/// Parses a node znode's data without ever failing: bad input becomes a value to show.
pub fn parse_status(data: &[u8]) -> ParsedStatus {
    let value: serde_json::Value = match serde_json::from_slice(data) {
        Ok(v) => v,
        Err(e) => return ParsedStatus::Malformed(format!("not JSON: {e}")),
    };
    match value.get("schema").and_then(serde_json::Value::as_u64) {
        Some(s) if s == u64::from(STATUS_SCHEMA) => {}
        Some(s) => return ParsedStatus::UnknownSchema(s),
        None => return ParsedStatus::Malformed("no \"schema\" field".into()),
    }
    match serde_json::from_value::<NodeStatus>(value) {
        Ok(s) => ParsedStatus::Ok(Box::new(s)),
        Err(e) => ParsedStatus::Malformed(format!("does not fit schema {STATUS_SCHEMA}: {e}")),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn sample(node: &str, role: ServerRole) -> NodeStatus {
        NodeStatus {
            schema: STATUS_SCHEMA,
            cluster: "sandbox".into(),
            node: node.into(),
            observed_at_ms: 1_795_640_000_000,
            agent: AgentInfo {
                host: "bastion".into(),
                pid: 42,
                version: "0.1.0".into(),
                interval_ms: 1000,
                heartbeat_ms: 5000,
                http: None,
            },
            server: Endpoint { host: "127.0.0.1".into(), port: 3306 },
            reachable: true,
            error: None,
            flavor: Some(Flavor::Mariadb),
            version: Some("10.11.19-MariaDB".into()),
            server_id: Some(7),
            role,
            read_only: Some(role != ServerRole::Primary),
            gtid: Gtid { current: Some("0-1-100".into()), ..Gtid::default() },
            replication: (role == ServerRole::Replica).then(|| Replication {
                source_host: "127.0.0.1".into(),
                source_port: 3306,
                io_running: "Yes".into(),
                sql_running: "Yes".into(),
                seconds_behind: Some(0),
                using_gtid: "Slave_Pos".into(),
                gtid_io_pos: "0-1-100".into(),
                ..Replication::default()
            }),
            semi_sync: None,
            uptime_s: Some(100),
            threads_connected: Some(3),
            qps: Some(1.5),
            heartbeat_lag_ms: (role == ServerRole::Replica).then_some(12),
            primary_seen: None,
            fenced: None,
            tls: None,
        }
    }

    #[test]
    fn round_trip() {
        let s = sample("db2", ServerRole::Replica);
        let bytes = serde_json::to_vec(&s).unwrap();
        assert_eq!(parse_status(&bytes), ParsedStatus::Ok(Box::new(s)));
    }

    #[test]
    fn bad_input_becomes_a_value() {
        assert!(matches!(parse_status(b"{nope"), ParsedStatus::Malformed(m) if m.starts_with("not JSON")));
        assert!(matches!(parse_status(b"{}"), ParsedStatus::Malformed(m) if m.contains("schema")));
        assert_eq!(parse_status(br#"{"schema": 99}"#), ParsedStatus::UnknownSchema(99));
        assert!(matches!(parse_status(br#"{"schema": 1, "node": 5}"#), ParsedStatus::Malformed(_)));
        assert!(matches!(parse_status(&[0xff, 0xfe]), ParsedStatus::Malformed(_)));
    }
}
