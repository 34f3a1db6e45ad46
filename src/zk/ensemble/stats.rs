//! What a member says about itself, read from the four-letter words `srvr` and `mntr` or from
//! the AdminServer's JSON (`/commands/srvr`, `/commands/mntr`). Pure parsers; the fixtures in
//! `fixtures/` are real answers of ZooKeeper 3.8 (Debian's package, the sandbox's).

use serde::{Serialize, Serializer};

/// What ZooKeeper answers to any word while it is not part of a working quorum.
pub const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests";
/// The end of ZooKeeper's answer to a word left out of `4lw.commands.whitelist`
/// (`mntr is not executed because it is not in the whitelist.`).
const NOT_WHITELISTED: &str = "is not executed because it is not in the whitelist";

/// The member's part in the ensemble.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Leader,
    Follower,
    Observer,
    Standalone,
    /// Serving reads only, cut off from the quorum (`readonlymode.enabled`).
    ReadOnly,
    /// Up, but not part of a working quorum (electing, or the quorum is lost).
    NotServing,
}

impl Mode {
    pub fn label(self) -> &'static str {
        match self {
            Mode::Leader => "leader",
            Mode::Follower => "follower",
            Mode::Observer => "observer",
            Mode::Standalone => "standalone",
            Mode::ReadOnly => "read-only",
            Mode::NotServing => "not serving",
        }
    }

    fn parse(text: &str) -> Option<Mode> {
        match text.trim() {
            "leader" => Some(Mode::Leader),
            "follower" => Some(Mode::Follower),
            "observer" => Some(Mode::Observer),
            "standalone" => Some(Mode::Standalone),
            "read-only" | "readonly" | "ro" => Some(Mode::ReadOnly),
            _ => None,
        }
    }

    /// Whether it serves clients.
    pub fn serving(self) -> bool {
        !matches!(self, Mode::NotServing)
    }
}

/// A ZooKeeper transaction id: the leader's epoch in the high 32 bits, a counter within the
/// epoch in the low 32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Zxid(pub i64);

impl Zxid {
    pub fn epoch(self) -> i64 {
        self.0 >> 32
    }

    pub fn counter(self) -> i64 {
        self.0 & 0xffff_ffff
    }

    pub fn hex(self) -> String {
        format!("{:#x}", self.0)
    }
}

impl Serialize for Zxid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Zxid", 3)?;
        st.serialize_field("hex", &self.hex())?;
        st.serialize_field("epoch", &self.epoch())?;
        st.serialize_field("counter", &self.counter())?;
        st.end()
    }
}

/// Everything a member told us; fields it did not say stay `None` (`srvr` alone has no watch
/// counts, the AdminServer's `mntr` no zxid).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct MemberStats {
    pub mode: Option<Mode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zxid: Option<Zxid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_min_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_avg_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_max_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outstanding_requests: Option<u64>,
    /// Client connections (`num_alive_connections`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connections: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub znodes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watches: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ephemerals: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approximate_data_bytes: Option<u64>,
    /// On the leader: its learners (followers and observers), and the voting followers in sync.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub followers: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub synced_followers: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_fds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_fds: Option<u64>,
    /// The voting members as this member counts them (`quorum_size`, 3.6+; not standalone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quorum_size: Option<u64>,
}

impl MemberStats {
    /// A member that answered only that it is not serving.
    pub fn not_serving() -> MemberStats {
        MemberStats { mode: Some(Mode::NotServing), ..MemberStats::default() }
    }

    /// `self`'s fields where set, else `other`'s.
    pub fn or(self, other: MemberStats) -> MemberStats {
        MemberStats {
            mode: self.mode.or(other.mode),
            version: self.version.or(other.version),
            zxid: self.zxid.or(other.zxid),
            latency_min_ms: self.latency_min_ms.or(other.latency_min_ms),
            latency_avg_ms: self.latency_avg_ms.or(other.latency_avg_ms),
            latency_max_ms: self.latency_max_ms.or(other.latency_max_ms),
            outstanding_requests: self.outstanding_requests.or(other.outstanding_requests),
            connections: self.connections.or(other.connections),
            znodes: self.znodes.or(other.znodes),
            watches: self.watches.or(other.watches),
            ephemerals: self.ephemerals.or(other.ephemerals),
            approximate_data_bytes: self.approximate_data_bytes.or(other.approximate_data_bytes),
            followers: self.followers.or(other.followers),
            synced_followers: self.synced_followers.or(other.synced_followers),
            open_fds: self.open_fds.or(other.open_fds),
            max_fds: self.max_fds.or(other.max_fds),
            quorum_size: self.quorum_size.or(other.quorum_size),
        }
    }

    /// Whether it has what `mntr` adds to `srvr` (watches, ephemerals, descriptors).
    pub fn has_monitoring(&self) -> bool {
        self.watches.is_some() || self.ephemerals.is_some() || self.open_fds.is_some()
    }
}

/// How an answer to a word can fail to be stats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `<word> is not executed because it is not in the whitelist.`
    NotWhitelisted(String),
    /// Something else: the text (cut) says what.
    Unreadable(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NotWhitelisted(word) => write!(f, "{word} is not in the 4lw whitelist"),
            Refusal::Unreadable(text) => write!(f, "unreadable answer: {text}"),
        }
    }
}

/// Answers that are not stats: not serving (that one *is* a state), refused, empty.
fn refusal(word: &str, answer: &str) -> Option<Result<MemberStats, Refusal>> {
    let text = answer.trim();
    if text.starts_with(NOT_SERVING) {
        return Some(Ok(MemberStats::not_serving()));
    }
    if text.contains(NOT_WHITELISTED) {
        return Some(Err(Refusal::NotWhitelisted(word.to_string())));
    }
    if text.is_empty() {
        // ZooKeeper before 3.5 closes the connection without a word for commands it refuses.
        return Some(Err(Refusal::Unreadable(format!("{word}: empty answer"))));
    }
    None
}

/// Parses a `srvr` answer.
pub fn parse_srvr(answer: &str) -> Result<MemberStats, Refusal> {
    if let Some(r) = refusal("srvr", answer) {
        return r;
    }
    let mut s = MemberStats::default();
    for line in answer.lines() {
        let Some((key, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        match key.trim() {
            "Zookeeper version" => s.version = Some(version_number(value)),
            "Latency min/avg/max" => {
                let mut parts = value.split('/').map(|v| v.trim().parse::<f64>().ok());
                s.latency_min_ms = parts.next().flatten();
                s.latency_avg_ms = parts.next().flatten();
                s.latency_max_ms = parts.next().flatten();
            }
            "Connections" => s.connections = value.parse().ok(),
            "Outstanding" => s.outstanding_requests = value.parse().ok(),
            "Zxid" => s.zxid = parse_hex(value).map(Zxid),
            "Mode" => s.mode = Mode::parse(value),
            "Node count" => s.znodes = value.parse().ok(),
            _ => {}
        }
    }
    if s.mode.is_none() {
        return Err(Refusal::Unreadable(cut(answer)));
    }
    Ok(s)
}

/// Parses a `mntr` answer (`zk_key<TAB>value` lines).
pub fn parse_mntr(answer: &str) -> Result<MemberStats, Refusal> {
    if let Some(r) = refusal("mntr", answer) {
        return r;
    }
    let pairs = answer.lines().filter_map(|l| {
        let (k, v) = l.split_once('\t')?;
        Some((k.trim().strip_prefix("zk_")?, v.trim()))
    });
    let s = from_pairs(pairs);
    if s.mode.is_none() {
        return Err(Refusal::Unreadable(cut(answer)));
    }
    Ok(s)
}

/// The fields `mntr` and the AdminServer's `mntr` share (keys without `zk_`).
fn from_pairs<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> MemberStats {
    let mut s = MemberStats::default();
    for (key, value) in pairs {
        let n = || value.parse::<u64>().ok();
        let f = || value.parse::<f64>().ok();
        match key {
            "version" => s.version = Some(version_number(value)),
            "server_state" => s.mode = Mode::parse(value),
            "min_latency" => s.latency_min_ms = f(),
            "avg_latency" => s.latency_avg_ms = f(),
            "max_latency" => s.latency_max_ms = f(),
            "outstanding_requests" => s.outstanding_requests = n(),
            "num_alive_connections" => s.connections = n(),
            "znode_count" => s.znodes = n(),
            "watch_count" => s.watches = n(),
            "ephemerals_count" => s.ephemerals = n(),
            "approximate_data_size" => s.approximate_data_bytes = n(),
            // `learners` since 3.6, `followers` before.
            "learners" | "followers" => s.followers = s.followers.or(n()),
            "synced_followers" => s.synced_followers = n(),
            "open_file_descriptor_count" => s.open_fds = n(),
            "max_file_descriptor_count" => s.max_fds = n(),
            "quorum_size" => s.quorum_size = n(),
            _ => {}
        }
    }
    s
}

/// The AdminServer's answers: `/commands/srvr` (`server_stats`) and `/commands/mntr` (flat), as
/// JSON. Either may be missing; an `error` in one says why.
pub fn from_admin(srvr: Option<&serde_json::Value>, mntr: Option<&serde_json::Value>) -> Result<MemberStats, Refusal> {
    use serde_json::Value;
    let error = |v: Option<&Value>| v.and_then(|v| v.get("error")).and_then(Value::as_str).map(str::to_string);
    if let Some(e) = error(srvr).or_else(|| error(mntr)) {
        return if e.starts_with(NOT_SERVING) {
            Ok(MemberStats::not_serving())
        } else {
            Err(Refusal::Unreadable(cut(&e)))
        };
    }
    let mut from_mntr = MemberStats::default();
    if let Some(Value::Object(map)) = mntr {
        let texts: Vec<(&str, String)> = map
            .iter()
            .filter_map(|(k, v)| match v {
                Value::String(s) => Some((k.as_str(), s.clone())),
                Value::Number(n) => Some((k.as_str(), n.to_string())),
                _ => None,
            })
            .collect();
        from_mntr = from_pairs(texts.iter().map(|(k, v)| (*k, v.as_str())));
    }
    let mut from_srvr = MemberStats::default();
    if let Some(v) = srvr {
        let stats = v.get("server_stats");
        let num = |key: &str| stats.and_then(|s| s.get(key));
        from_srvr.version = v.get("version").and_then(Value::as_str).map(version_number);
        from_srvr.mode = num("server_state").and_then(Value::as_str).and_then(Mode::parse);
        from_srvr.zxid = num("last_processed_zxid").and_then(Value::as_i64).map(Zxid);
        from_srvr.latency_min_ms = num("min_latency").and_then(Value::as_f64);
        from_srvr.latency_avg_ms = num("avg_latency").and_then(Value::as_f64);
        from_srvr.latency_max_ms = num("max_latency").and_then(Value::as_f64);
        from_srvr.outstanding_requests = num("outstanding_requests").and_then(Value::as_u64);
        from_srvr.connections = num("num_alive_client_connections").and_then(Value::as_u64);
        from_srvr.znodes = v.get("node_count").and_then(Value::as_u64);
    }
    let s = from_mntr.or(from_srvr);
    if s.mode.is_none() {
        return Err(Refusal::Unreadable("the AdminServer's answer names no server state".to_string()));
    }
    Ok(s)
}

/// `3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC` → `3.8.0`.
fn version_number(text: &str) -> String {
    let first = text.split([',', ' ']).next().unwrap_or(text);
    first.split('-').next().unwrap_or(first).to_string()
}

fn parse_hex(text: &str) -> Option<i64> {
    let digits = text.trim().strip_prefix("0x").unwrap_or(text.trim());
    u64::from_str_radix(digits, 16).ok().map(|v| v as i64)
}

/// The first line of an answer, cut for a reason.
fn cut(text: &str) -> String {
    const MAX_CHARS: usize = 120;
    let line = text.trim().lines().next().unwrap_or_default();
    line.chars().take(MAX_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRVR_LEADER: &str = include_str!("fixtures/srvr-leader.txt");
    const SRVR_FOLLOWER: &str = include_str!("fixtures/srvr-follower.txt");
    const SRVR_STANDALONE: &str = include_str!("fixtures/srvr-standalone.txt");
    const MNTR_LEADER: &str = include_str!("fixtures/mntr-leader.txt");
    const MNTR_FOLLOWER: &str = include_str!("fixtures/mntr-follower.txt");
    const NOT_SERVING_ANSWER: &str = include_str!("fixtures/not-serving.txt");
    const MNTR_REFUSED: &str = include_str!("fixtures/mntr-not-whitelisted.txt");
    const ADMIN_SRVR: &str = include_str!("fixtures/admin-srvr-standalone.json");
    const ADMIN_MNTR: &str = include_str!("fixtures/admin-mntr-standalone.json");

    #[test]
    fn srvr_of_a_leader_follower_and_standalone() {
        let s = parse_srvr(SRVR_LEADER).unwrap();
        assert_eq!(s.mode, Some(Mode::Leader));
        assert_eq!(s.version.as_deref(), Some("3.8.0"));
        assert_eq!(s.zxid, Some(Zxid(0x1_0000_0082)));
        assert_eq!((s.zxid.unwrap().epoch(), s.zxid.unwrap().counter()), (1, 0x82));
        assert_eq!((s.latency_min_ms, s.latency_avg_ms, s.latency_max_ms), (Some(2.0), Some(17.1221), Some(31.0)));
        assert_eq!((s.connections, s.outstanding_requests, s.znodes), (Some(1), Some(0), Some(75)));
        assert!(!s.has_monitoring(), "srvr has no watch counts");
        assert_eq!(parse_srvr(SRVR_FOLLOWER).unwrap().mode, Some(Mode::Follower));
        let solo = parse_srvr(SRVR_STANDALONE).unwrap();
        assert_eq!((solo.mode, solo.zxid), (Some(Mode::Standalone), Some(Zxid(0))));
    }

    #[test]
    fn mntr_of_a_leader_and_a_follower() {
        let s = parse_mntr(MNTR_LEADER).unwrap();
        assert_eq!(s.mode, Some(Mode::Leader));
        assert_eq!((s.followers, s.synced_followers, s.quorum_size), (Some(2), Some(2), Some(3)));
        assert_eq!((s.watches, s.ephemerals, s.znodes), (Some(0), Some(0), Some(75)));
        assert_eq!((s.open_fds, s.max_fds), (Some(47), Some(20000)));
        assert!(s.approximate_data_bytes.is_some_and(|b| b > 0));
        assert!(s.zxid.is_none(), "mntr carries no zxid");
        let f = parse_mntr(MNTR_FOLLOWER).unwrap();
        assert_eq!((f.mode, f.followers, f.synced_followers), (Some(Mode::Follower), None, None));
        assert_eq!((f.connections, f.open_fds, f.quorum_size), (Some(1), Some(45), Some(3)));
        // Both together: srvr's zxid with mntr's counts.
        let both = parse_mntr(MNTR_LEADER).unwrap().or(parse_srvr(SRVR_LEADER).unwrap());
        assert_eq!((both.zxid, both.watches), (Some(Zxid(0x1_0000_0082)), Some(0)));
    }

    #[test]
    fn refusals_and_not_serving() {
        assert_eq!(parse_srvr(NOT_SERVING_ANSWER), Ok(MemberStats::not_serving()));
        assert_eq!(parse_mntr(NOT_SERVING_ANSWER), Ok(MemberStats::not_serving()));
        assert_eq!(parse_mntr(MNTR_REFUSED), Err(Refusal::NotWhitelisted("mntr".into())));
        assert_eq!(Refusal::NotWhitelisted("mntr".into()).to_string(), "mntr is not in the 4lw whitelist");
        assert!(matches!(parse_srvr(""), Err(Refusal::Unreadable(_))));
        assert!(matches!(parse_srvr("HTTP/1.1 400 Bad Request\r\n"), Err(Refusal::Unreadable(_))));
    }

    #[test]
    fn admin_server_json() {
        let srvr: serde_json::Value = serde_json::from_str(ADMIN_SRVR).unwrap();
        let mntr: serde_json::Value = serde_json::from_str(ADMIN_MNTR).unwrap();
        let s = from_admin(Some(&srvr), Some(&mntr)).unwrap();
        assert_eq!(s.mode, Some(Mode::Standalone));
        assert_eq!(s.version.as_deref(), Some("3.8.0"));
        assert_eq!(s.zxid, Some(Zxid(0)));
        assert_eq!((s.znodes, s.watches, s.ephemerals), (Some(5), Some(0), Some(0)));
        assert_eq!((s.open_fds, s.max_fds, s.approximate_data_bytes), (Some(44), Some(20000), Some(44)));
        assert_eq!(s.latency_avg_ms, Some(0.0));
        // srvr alone still gives the state and zxid.
        let only = from_admin(Some(&srvr), None).unwrap();
        assert_eq!((only.mode, only.watches), (Some(Mode::Standalone), None));
        let not_serving = serde_json::json!({"command": "mntr", "error": NOT_SERVING});
        assert_eq!(from_admin(None, Some(&not_serving)), Ok(MemberStats::not_serving()));
        // A leader of the sandbox's three-member ensemble.
        let srvr: serde_json::Value = serde_json::from_str(include_str!("fixtures/admin-srvr-leader.json")).unwrap();
        let mntr: serde_json::Value = serde_json::from_str(include_str!("fixtures/admin-mntr-leader.json")).unwrap();
        let l = from_admin(Some(&srvr), Some(&mntr)).unwrap();
        assert_eq!(l.mode, Some(Mode::Leader));
        assert_eq!((l.followers, l.synced_followers, l.quorum_size), (Some(2), Some(2), Some(3)));
        assert_eq!(l.zxid, Some(Zxid(0x1_0000_0082)));
        let unknown = serde_json::json!({"command": "nosuch", "error": "Unknown command: nosuch"});
        assert!(matches!(from_admin(Some(&unknown), None), Err(Refusal::Unreadable(e)) if e.contains("Unknown")));
    }

    #[test]
    fn zxids_split_and_print() {
        let z = Zxid(0x3_0000_0010);
        assert_eq!((z.epoch(), z.counter(), z.hex()), (3, 16, "0x300000010".to_string()));
        assert_eq!(
            serde_json::to_value(z).unwrap(),
            serde_json::json!({"hex": "0x300000010", "epoch": 3, "counter": 16})
        );
    }
}
