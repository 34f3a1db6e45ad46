//! Pure verdicts on a cluster: from the raw znode data (config, primary record, coordinator
//! state, node statuses) to each node's state, the topology, what automatic failover does
//! (`coordinator::judge`) and whether the cluster is healthy. The console's cluster pane and
//! `myzoo status` both call [`evaluate`], so they never disagree.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::config::{parse_config, parse_primary, ClusterConfig, PrimaryRecord};
use super::coordinator::{judge, parse_state, AutoFailover};
use super::status::{parse_status, NodeStatus, ParsedStatus, ServerRole};

/// Heartbeat lag above which a replica counts as lagging.
pub const LAGGING_MS: i64 = 1_000;
/// A status is stale when older than this many of the agent's re-publish intervals…
pub const STALE_HEARTBEATS: i64 = 3;
/// …and never before this much time (so a 100 ms agent does not flap to stale).
pub const STALE_MIN_MS: i64 = 5_000;

/// What the ZooKeeper reads gave for one cluster; absent znodes are `None`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterSnapshot {
    pub name: String,
    pub config: Option<Vec<u8>>,
    pub primary: Option<Vec<u8>>,
    /// The data of the `coordinator` znode: the automatic-failover coordinator's state.
    pub coordinator: Option<Vec<u8>>,
    /// Node znodes by name (the `nodes/` folder's children and their data).
    pub nodes: BTreeMap<String, Vec<u8>>,
    /// Nodes that were registered earlier in this session and are gone now.
    pub departed: BTreeSet<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeState {
    Ok,
    Lagging,
    Stale,
    ReplicationBroken,
    ServerDown,
    /// Its agent's ephemeral znode vanished while we watched.
    AgentGone,
    /// Listed in the config, never registered.
    Missing,
    /// The znode's data cannot be read as a status (malformed JSON or unknown schema).
    Unreadable,
}

impl NodeState {
    pub fn label(self) -> &'static str {
        match self {
            NodeState::Ok => "ok",
            NodeState::Lagging => "lagging",
            NodeState::Stale => "stale",
            NodeState::ReplicationBroken => "repl broken",
            NodeState::ServerDown => "server down",
            NodeState::AgentGone => "agent gone",
            NodeState::Missing => "missing",
            NodeState::Unreadable => "unreadable",
        }
    }

    /// Whether this node, as a replica, makes the cluster unhealthy.
    fn breaks_replica(self) -> bool {
        matches!(self, NodeState::ReplicationBroken)
    }

    /// Whether this node, as the primary, makes the cluster unhealthy.
    fn breaks_primary(self) -> bool {
        matches!(self, NodeState::ServerDown | NodeState::AgentGone | NodeState::Missing | NodeState::Unreadable)
    }
}

/// One node as the operator sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeView {
    pub name: String,
    pub state: NodeState,
    /// Primary / replica according to ZooKeeper's `primary` record.
    pub recorded_primary: bool,
    pub status: Option<NodeStatus>,
    /// Why the status could not be read, for `Unreadable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
    /// Things an operator should look at (wrong source, writable replica …).
    pub flags: Vec<String>,
    /// How old the status is, in ms (now minus `observed_at_ms`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Healthy,
    Degraded,
    Unhealthy,
}

/// A line of the topology: the node and how deep it sits (0 = primary or unattached).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopologyLine {
    pub node: String,
    pub depth: u16,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterView {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<ClusterConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary: Option<PrimaryRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_error: Option<String>,
    pub nodes: Vec<NodeView>,
    pub topology: Vec<TopologyLine>,
    pub verdict: Verdict,
    pub problems: Vec<String>,
    /// What automatic failover does now (config and coordinator state); none without a config.
    /// It never changes the verdict: a paused or blocked automatic failover is a choice or a
    /// safety rule, not a fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automatic_failover: Option<AutoFailover>,
}

impl ClusterView {
    pub fn node(&self, name: &str) -> Option<&NodeView> {
        self.nodes.iter().find(|n| n.name == name)
    }
}

/// Judges a cluster at `now_ms` (milliseconds since the epoch).
pub fn evaluate(snap: &ClusterSnapshot, now_ms: i64) -> ClusterView {
    let (config, config_error) = match snap.config.as_deref().map(parse_config) {
        Some(Ok(c)) => (Some(c), None),
        Some(Err(e)) => (None, Some(e)),
        None => (None, Some("no config znode".to_string())),
    };
    let (primary, primary_error) = match snap.primary.as_deref().map(parse_primary) {
        Some(Ok(p)) => (Some(p), None),
        Some(Err(e)) => (None, Some(e)),
        None => (None, None),
    };
    let primary_name = primary.as_ref().map(|p| p.node.as_str());

    // Every node we know of: registered, listed in the config, or departed.
    let mut names: BTreeSet<String> = snap.nodes.keys().cloned().collect();
    names.extend(config.iter().flat_map(|c| c.nodes.iter().map(|n| n.name.clone())));
    names.extend(snap.departed.iter().cloned());

    let mut nodes: Vec<NodeView> =
        names.iter().map(|name| node_view(snap, name, primary_name == Some(name.as_str()), now_ms)).collect();
    let endpoints = endpoint_index(&nodes, config.as_ref());
    for n in &mut nodes {
        add_flags(n, &endpoints, primary_name);
    }
    let topology = topology(&nodes, &endpoints, primary_name);
    let (verdict, problems) = verdict(&nodes, primary.as_ref(), primary_error.as_deref(), config_error.as_deref());
    let automatic_failover = automatic_failover(snap, config.as_ref(), now_ms);
    ClusterView {
        name: snap.name.clone(),
        config,
        config_error,
        primary,
        primary_error,
        nodes,
        topology,
        verdict,
        problems,
        automatic_failover,
    }
}

/// Automatic failover at `now_ms`, from the config and the coordinator's state.
pub fn automatic_failover(snap: &ClusterSnapshot, config: Option<&ClusterConfig>, now_ms: i64) -> Option<AutoFailover> {
    let state = snap.coordinator.as_deref().map(parse_state).unwrap_or_default();
    config.map(|c| judge(&c.failover, &state, |n| snap.nodes.contains_key(n), now_ms))
}

fn node_view(snap: &ClusterSnapshot, name: &str, recorded_primary: bool, now_ms: i64) -> NodeView {
    let mut view = NodeView {
        name: name.to_string(),
        state: NodeState::Missing,
        recorded_primary,
        status: None,
        unreadable: None,
        flags: Vec::new(),
        age_ms: None,
    };
    let Some(data) = snap.nodes.get(name) else {
        if snap.departed.contains(name) {
            view.state = NodeState::AgentGone;
        }
        return view;
    };
    let status = match parse_status(data) {
        ParsedStatus::Ok(s) => *s,
        ParsedStatus::UnknownSchema(v) => {
            view.state = NodeState::Unreadable;
            view.unreadable = Some(format!("unknown status schema {v}"));
            return view;
        }
        ParsedStatus::Malformed(m) => {
            view.state = NodeState::Unreadable;
            view.unreadable = Some(m);
            return view;
        }
    };
    // Saturating: the clock and the document are outside data (a status stamped far in the
    // future or the past is old or new, never an overflow).
    let age = now_ms.saturating_sub(status.observed_at_ms);
    view.age_ms = Some(age);
    view.state = state_of(&status, age);
    view.status = Some(status);
    view
}

/// How old (ms) a status may get before it is stale: `myzoo endpoint --watch` re-judges at that
/// moment, so it must use the same rule as the verdicts.
pub fn stale_after_ms(s: &NodeStatus) -> i64 {
    ms_i64(s.agent.heartbeat_ms).saturating_mul(STALE_HEARTBEATS).max(STALE_MIN_MS)
}

/// A duration from a status document as signed milliseconds, saturating.
fn ms_i64(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

fn state_of(s: &NodeStatus, age_ms: i64) -> NodeState {
    if age_ms > stale_after_ms(s) {
        return NodeState::Stale;
    }
    if !s.reachable {
        return NodeState::ServerDown;
    }
    if let Some(r) = &s.replication {
        if !r.io_ok() || !r.sql_ok() || !r.last_sql_error.is_empty() {
            return NodeState::ReplicationBroken;
        }
        // The heartbeat row is rewritten once per probe interval, so its age includes up to one
        // interval of staleness even with no lag at all: that much is not lag.
        let hb_lag = s.heartbeat_lag_ms.unwrap_or(0).saturating_sub(ms_i64(s.agent.interval_ms));
        let reported = ms_i64(r.seconds_behind.unwrap_or(0)).saturating_mul(1000);
        if hb_lag > LAGGING_MS || reported > LAGGING_MS {
            return NodeState::Lagging;
        }
    }
    NodeState::Ok
}

/// `host:port` → node name, from what the agents report and from the config.
fn endpoint_index(nodes: &[NodeView], config: Option<&ClusterConfig>) -> BTreeMap<(String, u16), String> {
    let mut idx = BTreeMap::new();
    for c in config.iter().flat_map(|c| c.nodes.iter()) {
        idx.insert((c.host.clone(), c.port), c.name.clone());
    }
    for n in nodes {
        if let Some(s) = &n.status {
            idx.insert((s.server.host.clone(), s.server.port), n.name.clone());
        }
    }
    idx
}

fn source_of<'a>(n: &NodeView, endpoints: &'a BTreeMap<(String, u16), String>) -> Option<Result<&'a str, String>> {
    let r = n.status.as_ref()?.replication.as_ref()?;
    Some(
        endpoints
            .get(&(r.source_host.clone(), r.source_port))
            .map(String::as_str)
            .ok_or_else(|| format!("{}:{}", r.source_host, r.source_port)),
    )
}

fn add_flags(n: &mut NodeView, endpoints: &BTreeMap<(String, u16), String>, primary: Option<&str>) {
    if let Some(m) = &n.unreadable {
        n.flags.push(m.clone());
    }
    let source = source_of(n, endpoints);
    let Some(s) = n.status.as_ref() else { return };
    match source {
        Some(Err(addr)) => n.flags.push(format!("source {addr} is not a known node")),
        Some(Ok(src)) if primary.is_some_and(|p| p != src) => {
            n.flags.push(format!("replicates from {src}, not the primary"))
        }
        _ => {}
    }
    if s.reachable {
        if n.recorded_primary && s.role == ServerRole::Replica {
            n.flags.push("recorded primary is replicating".into());
        }
        if !n.recorded_primary && s.read_only == Some(false) {
            n.flags.push("writable but not the recorded primary".into());
        }
        if n.recorded_primary && s.read_only == Some(true) {
            n.flags.push("primary is read-only".into());
        }
    }
}

/// Primary first with the replicas that replicate from it under it; then other chains;
/// nodes with no known source last.
fn topology(
    nodes: &[NodeView],
    endpoints: &BTreeMap<(String, u16), String>,
    primary: Option<&str>,
) -> Vec<TopologyLine> {
    let mut children: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut roots: Vec<&str> = Vec::new();
    for n in nodes {
        match source_of(n, endpoints) {
            Some(Ok(src)) if src != n.name && nodes.iter().any(|m| m.name == src) => {
                children.entry(src).or_default().push(&n.name)
            }
            _ => roots.push(&n.name),
        }
    }
    roots.sort_by_key(|r| (Some(*r) != primary, *r));
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    fn walk<'a>(
        name: &'a str,
        depth: u16,
        children: &BTreeMap<&'a str, Vec<&'a str>>,
        seen: &mut BTreeSet<&'a str>,
        out: &mut Vec<TopologyLine>,
    ) {
        if !seen.insert(name) {
            return; // a replication cycle: show each node once
        }
        out.push(TopologyLine { node: name.to_string(), depth });
        for c in children.get(name).into_iter().flatten() {
            walk(c, depth + 1, children, seen, out);
        }
    }
    for r in roots {
        walk(r, 0, &children, &mut seen, &mut out);
    }
    for n in nodes {
        walk(&n.name, 0, &children, &mut seen, &mut out);
    }
    out
}

fn verdict(
    nodes: &[NodeView],
    primary: Option<&PrimaryRecord>,
    primary_error: Option<&str>,
    config_error: Option<&str>,
) -> (Verdict, Vec<String>) {
    let mut problems = Vec::new();
    let mut verdict = Verdict::Healthy;
    let mut worse = |v: Verdict, text: String, problems: &mut Vec<String>| {
        verdict = verdict.max(v);
        problems.push(text);
    };
    if let Some(e) = config_error {
        worse(Verdict::Degraded, e.to_string(), &mut problems);
    }
    match (primary, primary_error) {
        (_, Some(e)) => worse(Verdict::Unhealthy, e.to_string(), &mut problems),
        (None, None) => worse(Verdict::Unhealthy, "no primary recorded".into(), &mut problems),
        (Some(p), None) => match nodes.iter().find(|n| n.name == p.node) {
            None => worse(Verdict::Unhealthy, format!("primary {} is not a known node", p.node), &mut problems),
            Some(n) if n.state.breaks_primary() => {
                worse(Verdict::Unhealthy, format!("primary {} is {}", n.name, n.state.label()), &mut problems)
            }
            Some(n) if n.state == NodeState::Stale => {
                worse(Verdict::Degraded, format!("primary {} status is stale", n.name), &mut problems)
            }
            _ => {}
        },
    }
    for n in nodes.iter().filter(|n| !n.recorded_primary) {
        if n.state.breaks_replica() {
            worse(Verdict::Unhealthy, format!("replica {} replication is broken", n.name), &mut problems);
        } else if n.state != NodeState::Ok {
            worse(Verdict::Degraded, format!("{} is {}", n.name, n.state.label()), &mut problems);
        }
    }
    for n in nodes {
        if n.flags.iter().any(|f| f.starts_with("writable")) {
            worse(Verdict::Unhealthy, format!("{} is writable but not the recorded primary", n.name), &mut problems);
        }
    }
    (verdict, problems)
}

#[cfg(test)]
mod tests {
    use super::super::status::tests::sample;
    use super::super::status::Replication;
    use super::*;

    const NOW: i64 = 1_795_640_001_000;

    fn snap(statuses: &[NodeStatus]) -> ClusterSnapshot {
        let mut s = ClusterSnapshot {
            name: "sandbox".into(),
            config: Some(
                br#"{"schema":1,"name":"sandbox","tier":"development","nodes":[
                {"name":"db1","host":"127.0.0.1","port":3306},
                {"name":"db2","host":"127.0.0.1","port":3307},
                {"name":"db3","host":"127.0.0.1","port":3308}]}"#
                    .to_vec(),
            ),
            primary: Some(br#"{"node":"db1","epoch":1}"#.to_vec()),
            ..ClusterSnapshot::default()
        };
        for st in statuses {
            s.nodes.insert(st.node.clone(), serde_json::to_vec(st).unwrap());
        }
        s
    }

    /// Found by `tests/proptest_parsers.rs`: numbers at the ends of their range in an agent's
    /// document overflowed the age, staleness and lag arithmetic (a panic in a debug build,
    /// a wrapped verdict in a release one).
    #[test]
    fn extreme_numbers_in_a_status_are_judged() {
        let mut st = healthy();
        st[0].observed_at_ms = i64::MIN;
        st[0].agent.heartbeat_ms = u64::MAX;
        st[1].observed_at_ms = i64::MAX;
        st[1].agent.interval_ms = u64::MAX;
        st[1].heartbeat_lag_ms = Some(i64::MIN);
        st[2].replication.as_mut().unwrap().seconds_behind = Some(u64::MAX);
        let s = snap(&st);
        for now in [i64::MIN, NOW, i64::MAX] {
            let v = evaluate(&s, now);
            assert_eq!(v.nodes.len(), 3);
            let _ = super::super::endpoint::compute(&s, super::super::endpoint::EndpointRole::Primary, now);
        }
        let v = evaluate(&s, NOW);
        assert_eq!(v.node("db1").unwrap().state, NodeState::Ok, "a huge heartbeat never goes stale");
        assert_eq!(v.node("db2").unwrap().state, NodeState::Ok, "a status from the far future is not stale");
        assert_eq!(v.node("db3").unwrap().state, NodeState::Lagging);
    }

    fn healthy() -> Vec<NodeStatus> {
        let mut out = vec![sample("db1", ServerRole::Primary)];
        for (name, port) in [("db2", 3307), ("db3", 3308)] {
            let mut r = sample(name, ServerRole::Replica);
            r.server.port = port;
            out.push(r);
        }
        out
    }

    #[test]
    fn healthy_cluster_and_topology() {
        let v = evaluate(&snap(&healthy()), NOW);
        assert_eq!(v.verdict, Verdict::Healthy, "{:?}", v.problems);
        assert!(v.nodes.iter().all(|n| n.state == NodeState::Ok));
        let topo: Vec<(&str, u16)> = v.topology.iter().map(|t| (t.node.as_str(), t.depth)).collect();
        assert_eq!(topo, [("db1", 0), ("db2", 1), ("db3", 1)]);
    }

    #[test]
    fn each_state_is_recognised() {
        let mut st = healthy();
        st[1].heartbeat_lag_ms = Some(5_000);
        st[2].replication.as_mut().unwrap().sql_running = "No".into();
        st[2].replication.as_mut().unwrap().last_sql_error = "Duplicate entry '1'".into();
        let v = evaluate(&snap(&st), NOW);
        assert_eq!(v.node("db2").unwrap().state, NodeState::Lagging);
        assert_eq!(v.node("db3").unwrap().state, NodeState::ReplicationBroken);
        assert_eq!(v.verdict, Verdict::Unhealthy);

        let mut st = healthy();
        st[1].reachable = false;
        st[1].error = Some("connection refused".into());
        st[2].observed_at_ms = NOW - 60_000;
        let v = evaluate(&snap(&st), NOW);
        assert_eq!(v.node("db2").unwrap().state, NodeState::ServerDown);
        assert_eq!(v.node("db3").unwrap().state, NodeState::Stale);
        assert_eq!(v.verdict, Verdict::Degraded);
    }

    #[test]
    fn heartbeat_staleness_of_one_interval_is_not_lag() {
        let mut st = healthy();
        st[1].heartbeat_lag_ms = Some(1_900); // interval 1000 ms: 900 ms of real lag at most
        st[2].heartbeat_lag_ms = Some(2_100);
        let v = evaluate(&snap(&st), NOW);
        assert_eq!(v.node("db2").unwrap().state, NodeState::Ok);
        assert_eq!(v.node("db3").unwrap().state, NodeState::Lagging);
    }

    #[test]
    fn absent_nodes_are_missing_or_gone_and_a_gone_primary_is_unhealthy() {
        let st = healthy();
        let mut s = snap(&st[1..]);
        s.departed.insert("db1".into());
        s.nodes.remove("db3");
        let v = evaluate(&s, NOW);
        assert_eq!(v.node("db1").unwrap().state, NodeState::AgentGone);
        assert_eq!(v.node("db3").unwrap().state, NodeState::Missing);
        assert_eq!(v.verdict, Verdict::Unhealthy);
        assert!(v.problems.iter().any(|p| p == "primary db1 is agent gone"), "{:?}", v.problems);
    }

    #[test]
    fn bad_node_data_is_shown_as_such() {
        let mut s = snap(&healthy());
        s.nodes.insert("db2".into(), b"{not json".to_vec());
        s.nodes.insert("db3".into(), br#"{"schema": 7}"#.to_vec());
        let v = evaluate(&s, NOW);
        assert_eq!(v.node("db2").unwrap().state, NodeState::Unreadable);
        assert!(v.node("db2").unwrap().flags[0].starts_with("not JSON"));
        assert_eq!(v.node("db3").unwrap().unreadable.as_deref(), Some("unknown status schema 7"));
    }

    #[test]
    fn wrong_or_unknown_sources_and_writable_replicas_are_flagged() {
        let mut st = healthy();
        st[1].replication =
            Some(Replication { source_host: "10.9.9.9".into(), source_port: 1, ..st[1].replication.clone().unwrap() });
        st[2].replication.as_mut().unwrap().source_port = 3307; // from db2
        st[2].read_only = Some(false);
        let v = evaluate(&snap(&st), NOW);
        assert!(v.node("db2").unwrap().flags.iter().any(|f| f.contains("10.9.9.9:1 is not a known node")));
        assert!(v.node("db3").unwrap().flags.iter().any(|f| f == "replicates from db2, not the primary"));
        assert!(v.node("db3").unwrap().flags.iter().any(|f| f.starts_with("writable")));
        assert_eq!(v.verdict, Verdict::Unhealthy);
        let topo: Vec<(&str, u16)> = v.topology.iter().map(|t| (t.node.as_str(), t.depth)).collect();
        assert_eq!(topo, [("db1", 0), ("db2", 0), ("db3", 1)]);
    }

    #[test]
    fn no_primary_record_is_unhealthy() {
        let mut s = snap(&healthy());
        s.primary = None;
        assert_eq!(evaluate(&s, NOW).verdict, Verdict::Unhealthy);
        s.primary = Some(b"garbage".to_vec());
        let v = evaluate(&s, NOW);
        assert!(v.primary_error.is_some());
        assert_eq!(v.verdict, Verdict::Unhealthy);
    }
}
