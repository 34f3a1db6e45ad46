//! The ZooKeeper ensemble as operators see it, for `myzoo zk ensemble` and the console's
//! ensemble screen (no front end here): every member from the connect string and
//! `/zookeeper/config` (`members`), each asked about itself in parallel through the four-letter
//! words or its AdminServer (`probe`, parsed by `stats`), how far each is behind the leader, and
//! the pure verdicts (`verdict`); plus which member a client's session is on.

pub mod members;
pub mod probe;
pub mod stats;
pub mod table;
pub mod verdict;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use zookeeper_client::Client;

pub use members::Member;
pub use probe::{Reach, Via};
pub use stats::{MemberStats, Mode, Zxid};
pub use verdict::{EnsembleVerdict, Judgement, Quorum};

/// Longest wait for `/zookeeper/config` before the members are judged without it.
pub const CONFIG_READ_TIMEOUT_MS: u64 = 1_000;

/// How to ask the members; the profile's `[profiles.NAME.ensemble]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnsembleOptions {
    /// Ask `srvr` and `mntr` on each member's client port (they must be in the members'
    /// `4lw.commands.whitelist`; `srvr` always is).
    pub four_letter_words: bool,
    /// The AdminServer's port on every member's host (ZooKeeper's default is 8080), when the
    /// members run one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_port: Option<u16>,
    /// A member's AdminServer (`host:port`) by the member's `host:clientport`; wins over
    /// `admin_port`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub admin_servers: BTreeMap<String, String>,
    /// Longest wait for one member's answer, in milliseconds.
    pub timeout_ms: u64,
}

impl Default for EnsembleOptions {
    fn default() -> Self {
        EnsembleOptions {
            four_letter_words: true,
            admin_port: None,
            admin_servers: BTreeMap::new(),
            timeout_ms: probe::ASK_TIMEOUT_MS,
        }
    }
}

impl EnsembleOptions {
    /// Where `member`'s AdminServer is, if anywhere.
    pub fn admin_for(&self, member: &Member) -> Option<(String, u16)> {
        if let Some(addr) = self.admin_servers.get(&member.address()) {
            return members::parse_connect_string(addr).ok()?.into_iter().next();
        }
        self.admin_port.map(|port| (member.host.clone(), port))
    }
}

/// One member, asked once and judged against the others.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemberReport {
    /// `host:port` of its client port.
    pub address: String,
    #[serde(flatten)]
    pub member: Member,
    pub reach: Reach,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<Via>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<MemberStats>,
    /// Why it is down or unreadable, or what is missing from what it said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Transactions behind the leader (zxid counters, same epoch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub behind_leader: Option<i64>,
    /// On an older epoch than the leader (the counters cannot be compared).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub older_epoch: bool,
    /// The session of the client that read the report is on this member.
    pub session: bool,
}

impl MemberReport {
    pub fn mode(&self) -> Option<Mode> {
        self.stats.as_ref().and_then(|s| s.mode)
    }
}

/// The whole ensemble at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnsembleReport {
    /// When the members were asked (ms since the epoch).
    pub observed_at_ms: i64,
    /// How long asking took.
    pub elapsed_ms: u64,
    pub members: Vec<MemberReport>,
    #[serde(flatten)]
    pub judgement: Judgement,
    /// The member the reading client's session is on (`None`: no session, or between members).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_member: Option<String>,
    /// What could not be read besides the members (`/zookeeper/config` …).
    pub notes: Vec<String>,
}

/// The member `client`'s session is connected to, as `host:port`.
pub fn session_member(client: &Client) -> Option<String> {
    use zookeeper_client::SessionState;
    if !matches!(client.state(), SessionState::SyncConnected | SessionState::ConnectedReadOnly) {
        return None;
    }
    client.connected_server().map(|(host, port)| members::address(&host, port))
}

/// `/zookeeper/config`'s `server.N` lines, through `client`, within [`CONFIG_READ_TIMEOUT_MS`].
async fn dynamic_config(client: &Client) -> Result<Vec<members::ConfigServer>, String> {
    let read = tokio::time::timeout(Duration::from_millis(CONFIG_READ_TIMEOUT_MS), client.get_config()).await;
    match read {
        Ok(Ok((data, _))) => Ok(members::parse_dynamic_config(&String::from_utf8_lossy(&data))),
        Ok(Err(e)) => Err(format!("cannot read /zookeeper/config: {e}")),
        Err(_) => Err(format!("/zookeeper/config not read within {CONFIG_READ_TIMEOUT_MS} ms")),
    }
}

/// Reads the ensemble once: the members of `connect` (plus `/zookeeper/config`'s, through
/// `client` when there is one), each asked in parallel, judged together. Only a connect
/// string that cannot be read is an error; everything else is in the report.
pub async fn read(connect: &str, client: Option<&Client>, opts: &EnsembleOptions) -> Result<EnsembleReport, String> {
    let started = std::time::Instant::now();
    let observed_at_ms = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    let listed = members::parse_connect_string(connect)?;
    let mut notes = Vec::new();
    let config = match client {
        Some(c) => dynamic_config(c).await.unwrap_or_else(|e| {
            notes.push(e);
            Vec::new()
        }),
        None => {
            notes.push("no ZooKeeper session: /zookeeper/config not read".to_string());
            Vec::new()
        }
    };
    let members = members::merge(&listed, &config);
    let session = client.and_then(session_member);
    let probes = futures::future::join_all(members.iter().map(|m| probe::probe(m, opts))).await;
    let mut reports: Vec<MemberReport> = members
        .into_iter()
        .zip(probes)
        .map(|(member, p)| MemberReport {
            address: member.address(),
            session: session.as_deref() == Some(member.address().as_str()),
            member,
            reach: p.reach,
            via: p.via,
            stats: p.stats,
            reason: p.reason,
            behind_leader: None,
            older_epoch: false,
        })
        .collect();
    verdict::annotate_lag(&mut reports);
    let judgement = verdict::judge(&reports);
    Ok(EnsembleReport {
        observed_at_ms,
        elapsed_ms: started.elapsed().as_millis() as u64,
        members: reports,
        judgement,
        session_member: session,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_servers_per_member_win_over_the_common_port() {
        let m = members::merge(&members::parse_connect_string("zk1:2181,zk2:2181").unwrap(), &[]);
        let mut o = EnsembleOptions::default();
        assert_eq!(o.admin_for(&m[0]), None);
        o.admin_port = Some(8080);
        assert_eq!(o.admin_for(&m[0]), Some(("zk1".to_string(), 8080)));
        o.admin_servers.insert("zk2:2181".into(), "10.0.0.2:9090".into());
        assert_eq!(o.admin_for(&m[1]), Some(("10.0.0.2".to_string(), 9090)));
    }

    #[test]
    fn options_read_from_toml_with_defaults() {
        let o: EnsembleOptions = toml::from_str("admin_port = 8080").unwrap();
        assert_eq!(o, EnsembleOptions { admin_port: Some(8080), ..EnsembleOptions::default() });
        let o: EnsembleOptions =
            toml::from_str("four_letter_words = false\n[admin_servers]\n\"127.0.0.1:2181\" = \"127.0.0.1:8080\"\n")
                .unwrap();
        assert!(!o.four_letter_words);
        assert_eq!(o.admin_servers.len(), 1);
        assert!(toml::from_str::<EnsembleOptions>("admin = 1").is_err(), "unknown keys are refused");
    }
}
