//! Service discovery for applications (`myzoo endpoint`): from one cluster's znodes to the
//! `host:port` an application should use — the recorded primary, when its own agent confirms it
//! is a writable primary, or the healthy replicas of that primary. A pure function over the read
//! data ([`compute`]); reading and watching are the caller's.
//!
//! The primary is never guessed: orchestrator#1462 kept handing out a dead primary because it
//! trusted its own record over what the servers said. Here the record names the candidate and
//! that node's agent must agree (reachable, writable, not replicating); when it does not, the
//! answer is "no usable primary" with the reason, never another node that happens to be
//! writable — two writable nodes is exactly the case where guessing loses data.

use serde::Serialize;

use super::config::{ClusterConfig, PrimaryRecord};
use super::health::{evaluate, stale_after_ms, ClusterSnapshot, ClusterView, NodeState, NodeView};
use super::status::{NodeStatus, ServerRole};

/// Which endpoints an application asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointRole {
    /// The one writable node: the recorded primary, if its agent confirms it.
    Primary,
    /// Every healthy replica of the recorded primary, for reads.
    Replica,
}

impl EndpointRole {
    pub fn label(self) -> &'static str {
        match self {
            EndpointRole::Primary => "primary",
            EndpointRole::Replica => "replica",
        }
    }
}

/// One address an application may connect to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndpointAddr {
    pub node: String,
    pub host: String,
    pub port: u16,
}

impl EndpointAddr {
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// The answer for one cluster and role; `endpoints` is empty exactly when `reason` says why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndpointAnswer {
    pub cluster: String,
    pub role: EndpointRole,
    /// The primary record's epoch (the fencing token), so a client can tell a new primary from
    /// the same one coming back; `None` without a readable record.
    pub epoch: Option<u64>,
    pub endpoints: Vec<EndpointAddr>,
    pub reason: Option<String>,
    /// When the answer would change with no new data, because a status it relied on goes stale
    /// then (ms since the epoch). Not part of the output: a watcher re-judges at that moment.
    #[serde(skip)]
    pub recheck_at_ms: Option<i64>,
}

impl EndpointAnswer {
    /// Whether anything a client sees differs (the recheck time is not seen).
    pub fn same_for_clients(&self, other: &EndpointAnswer) -> bool {
        self.cluster == other.cluster
            && self.role == other.role
            && self.epoch == other.epoch
            && self.endpoints == other.endpoints
            && self.reason == other.reason
    }
}

/// Judges `snap` at `now_ms` (ms since the epoch) for `role`.
pub fn compute(snap: &ClusterSnapshot, role: EndpointRole, now_ms: i64) -> EndpointAnswer {
    let mut answer = EndpointAnswer {
        cluster: snap.name.clone(),
        role,
        epoch: None,
        endpoints: Vec::new(),
        reason: None,
        recheck_at_ms: None,
    };
    if snap.config.is_none() && snap.primary.is_none() && snap.nodes.is_empty() {
        answer.reason = Some(format!("no cluster named {:?}", snap.name));
        return answer;
    }
    let view = evaluate(snap, now_ms);
    answer.epoch = view.primary.as_ref().map(|p| p.epoch);
    let result = match role {
        EndpointRole::Primary => primary(&view).map(|(addr, until)| (vec![addr], until)),
        EndpointRole::Replica => replicas(&view),
    };
    match result {
        Ok((endpoints, recheck_at_ms)) => {
            answer.endpoints = endpoints;
            answer.recheck_at_ms = recheck_at_ms;
        }
        Err(reason) => answer.reason = Some(reason),
    }
    answer
}

/// The recorded primary node and its view, or why there is none to consider.
fn recorded(view: &ClusterView) -> Result<(&PrimaryRecord, &NodeView), String> {
    if let Some(e) = &view.primary_error {
        return Err(e.clone());
    }
    let record = view.primary.as_ref().ok_or("no primary recorded")?;
    let node = view.node(&record.node).ok_or_else(|| format!("primary {} is not a known node", record.node))?;
    Ok((record, node))
}

/// The primary's address and when its confirming status goes stale, or why it is not usable.
fn primary(view: &ClusterView) -> Result<(EndpointAddr, Option<i64>), String> {
    let (_, node) = recorded(view)?;
    let name = &node.name;
    let status = match (node.state, &node.status) {
        (NodeState::Unreadable, _) => {
            return Err(format!("primary {name} status is unreadable: {}", node.unreadable.as_deref().unwrap_or("?")))
        }
        (NodeState::Missing, _) => return Err(format!("primary {name} has no agent registered")),
        (NodeState::AgentGone, _) => return Err(format!("primary {name}: its agent is gone")),
        // A report older than three heartbeats no longer says the server is up.
        (NodeState::Stale, _) => return Err(format!("primary {name} status is stale")),
        (_, None) => return Err(format!("primary {name} has no status")),
        (_, Some(s)) => s,
    };
    if !status.reachable {
        let why = status.error.as_deref().map(|e| format!(": {e}")).unwrap_or_default();
        return Err(format!("primary {name} server is down{why}"));
    }
    match status.read_only {
        Some(false) => {}
        Some(true) => return Err(format!("primary {name} is read-only")),
        None => return Err(format!("primary {name} does not report read_only")),
    }
    match status.role {
        ServerRole::Primary => {}
        ServerRole::Replica => return Err(format!("primary {name} is replicating")),
        ServerRole::Unknown => return Err(format!("primary {name} role is unknown")),
    }
    Ok((address(view.config.as_ref(), name, status), Some(stale_at(status))))
}

/// The recorded primary's healthy replicas, sorted by name, and when the first of their
/// statuses goes stale; an empty list is an error with the reason.
fn replicas(view: &ClusterView) -> Result<(Vec<EndpointAddr>, Option<i64>), String> {
    let (record, primary) = recorded(view)?;
    let sources = primary_addresses(view.config.as_ref(), primary);
    let mut out = Vec::new();
    let mut recheck: Option<i64> = None;
    for n in view.nodes.iter().filter(|n| n.name != record.node && n.state == NodeState::Ok) {
        let Some(status) = &n.status else { continue };
        let Some(r) = &status.replication else { continue };
        if status.role != ServerRole::Replica
            || !sources.iter().any(|(h, p)| *h == r.source_host && *p == r.source_port)
        {
            continue;
        }
        out.push(address(view.config.as_ref(), &n.name, status));
        let at = stale_at(status);
        recheck = Some(recheck.map_or(at, |r| r.min(at)));
    }
    if out.is_empty() {
        return Err(format!("no healthy replica of {}", record.node));
    }
    // `view.nodes` is sorted by name already; sorting again keeps the promise if that changes.
    out.sort_by(|a, b| a.node.cmp(&b.node));
    Ok((out, recheck))
}

/// Where the config says a node listens, else where its agent probes it: the config is what
/// applications are meant to use (it may name a service address the agent does not probe).
fn address(config: Option<&ClusterConfig>, name: &str, status: &NodeStatus) -> EndpointAddr {
    let configured =
        config.and_then(|c| c.nodes.iter().find(|n| n.name == name)).filter(|n| !n.host.is_empty() && n.port != 0);
    match configured {
        Some(c) => EndpointAddr { node: name.to_string(), host: c.host.clone(), port: c.port },
        None => EndpointAddr { node: name.to_string(), host: status.server.host.clone(), port: status.server.port },
    }
}

/// Every address the primary is known by, so a replica's source matches either.
fn primary_addresses(config: Option<&ClusterConfig>, primary: &NodeView) -> Vec<(String, u16)> {
    let mut out: Vec<(String, u16)> = config
        .iter()
        .flat_map(|c| c.nodes.iter())
        .filter(|n| n.name == primary.name)
        .map(|n| (n.host.clone(), n.port))
        .collect();
    if let Some(s) = &primary.status {
        out.push((s.server.host.clone(), s.server.port));
    }
    out
}

/// The moment `status` counts as stale (ms since the epoch).
fn stale_at(status: &NodeStatus) -> i64 {
    status.observed_at_ms.saturating_add(stale_after_ms(status))
}

#[cfg(test)]
mod tests {
    use super::super::status::tests::sample;
    use super::*;

    const NOW: i64 = 1_795_640_001_000;
    /// When the sample status goes stale: its heartbeat (5 s) times three.
    const SAMPLE_STALE_AFTER_MS: i64 = 15_000;

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
            primary: Some(br#"{"node":"db1","epoch":4}"#.to_vec()),
            ..ClusterSnapshot::default()
        };
        for st in statuses {
            s.nodes.insert(st.node.clone(), serde_json::to_vec(st).unwrap());
        }
        s
    }

    /// db1 primary on 3306; db3 and db2 replicas of it (out of order, to check sorting).
    fn healthy() -> Vec<NodeStatus> {
        let mut out = vec![sample("db1", ServerRole::Primary)];
        for (name, port) in [("db3", 3308), ("db2", 3307)] {
            let mut r = sample(name, ServerRole::Replica);
            r.server.port = port;
            out.push(r);
        }
        out
    }

    fn reason(a: &EndpointAnswer) -> &str {
        assert!(a.endpoints.is_empty(), "{a:?}");
        a.reason.as_deref().unwrap_or_default()
    }

    #[test]
    fn healthy_cluster_gives_primary_and_sorted_replicas() {
        let s = snap(&healthy());
        let p = compute(&s, EndpointRole::Primary, NOW);
        assert_eq!(p.epoch, Some(4));
        assert_eq!(p.reason, None);
        assert_eq!(p.endpoints, [EndpointAddr { node: "db1".into(), host: "127.0.0.1".into(), port: 3306 }]);
        let stale_at = healthy()[0].observed_at_ms + SAMPLE_STALE_AFTER_MS;
        assert_eq!(p.recheck_at_ms, Some(stale_at));
        let r = compute(&s, EndpointRole::Replica, NOW);
        let names: Vec<String> = r.endpoints.iter().map(EndpointAddr::address).collect();
        assert_eq!(names, ["127.0.0.1:3307", "127.0.0.1:3308"]);
        assert_eq!(r.epoch, Some(4));
        assert_eq!(serde_json::to_value(&r).unwrap()["reason"], serde_json::Value::Null);
        assert!(serde_json::to_value(&r).unwrap().get("recheck_at_ms").is_none());
    }

    #[test]
    fn the_agents_address_stands_in_for_a_node_the_config_does_not_place() {
        let mut s = snap(&healthy());
        s.config = Some(br#"{"schema":1,"name":"sandbox","nodes":[{"name":"db1"}]}"#.to_vec());
        let mut st = healthy();
        st[0].server = super::super::status::Endpoint { host: "10.0.0.1".into(), port: 3306 };
        st[1].replication.as_mut().unwrap().source_host = "10.0.0.1".into();
        s.nodes.insert("db1".into(), serde_json::to_vec(&st[0]).unwrap());
        s.nodes.insert("db3".into(), serde_json::to_vec(&st[1]).unwrap());
        let p = compute(&s, EndpointRole::Primary, NOW);
        assert_eq!(p.endpoints[0].address(), "10.0.0.1:3306");
        // db2 still replicates from 127.0.0.1:3306, which is no address of db1 any more.
        let r = compute(&s, EndpointRole::Replica, NOW);
        let names: Vec<&str> = r.endpoints.iter().map(|e| e.node.as_str()).collect();
        assert_eq!(names, ["db3"]);
    }

    #[test]
    fn a_primary_whose_agent_contradicts_the_record_is_not_usable() {
        let mut st = healthy();
        st[0].read_only = Some(true);
        assert_eq!(reason(&compute(&snap(&st), EndpointRole::Primary, NOW)), "primary db1 is read-only");

        let mut st = healthy();
        st[0].reachable = false;
        st[0].error = Some("connection refused".into());
        let a = compute(&snap(&st), EndpointRole::Primary, NOW);
        assert_eq!(reason(&a), "primary db1 server is down: connection refused");
        assert_eq!(a.epoch, Some(4), "the epoch is still reported");

        let mut st = healthy();
        st[0].role = ServerRole::Replica;
        st[0].replication = st[1].replication.clone();
        assert_eq!(reason(&compute(&snap(&st), EndpointRole::Primary, NOW)), "primary db1 is replicating");

        let mut st = healthy();
        st[0].observed_at_ms = NOW - 60_000;
        assert_eq!(reason(&compute(&snap(&st), EndpointRole::Primary, NOW)), "primary db1 status is stale");
    }

    #[test]
    fn a_gone_or_missing_primary_is_never_replaced_by_a_writable_replica() {
        let mut st = healthy();
        st[1].read_only = Some(false); // db3 writable: still not the primary
        let mut s = snap(&st[1..]);
        assert_eq!(reason(&compute(&s, EndpointRole::Primary, NOW)), "primary db1 has no agent registered");
        s.departed.insert("db1".into());
        assert_eq!(reason(&compute(&s, EndpointRole::Primary, NOW)), "primary db1: its agent is gone");
        s.nodes.insert("db1".into(), b"{oops".to_vec());
        assert!(
            reason(&compute(&s, EndpointRole::Primary, NOW)).starts_with("primary db1 status is unreadable: not JSON")
        );
    }

    #[test]
    fn bad_or_absent_records_and_unknown_clusters_give_reasons() {
        let mut s = snap(&healthy());
        s.primary = None;
        let a = compute(&s, EndpointRole::Primary, NOW);
        assert_eq!((reason(&a), a.epoch), ("no primary recorded", None));
        assert_eq!(reason(&compute(&s, EndpointRole::Replica, NOW)), "no primary recorded");
        s.primary = Some(b"garbage".to_vec());
        assert!(reason(&compute(&s, EndpointRole::Primary, NOW)).starts_with("primary record is not valid"));
        s.primary = Some(br#"{"node":"db9","epoch":7}"#.to_vec());
        let a = compute(&s, EndpointRole::Primary, NOW);
        assert_eq!((reason(&a), a.epoch), ("primary db9 is not a known node", Some(7)));
        let empty = ClusterSnapshot { name: "nope".into(), ..ClusterSnapshot::default() };
        assert_eq!(reason(&compute(&empty, EndpointRole::Replica, NOW)), "no cluster named \"nope\"");
    }

    #[test]
    fn replicas_must_be_healthy_and_follow_the_recorded_primary() {
        let mut st = healthy();
        st[1].heartbeat_lag_ms = Some(10_000); // db3 lagging
        let r = compute(&snap(&st), EndpointRole::Replica, NOW);
        let names: Vec<&str> = r.endpoints.iter().map(|e| e.node.as_str()).collect();
        assert_eq!(names, ["db2"]);

        let mut st = healthy();
        st[2].replication.as_mut().unwrap().io_running = "Connecting".into(); // db2 broken
        st[1].replication.as_mut().unwrap().source_port = 3307; // db3 replicates from db2
        assert_eq!(reason(&compute(&snap(&st), EndpointRole::Replica, NOW)), "no healthy replica of db1");

        // After a switchover recorded on db2, db1 is not listed until it replicates from db2.
        let mut s = snap(&healthy());
        s.primary = Some(br#"{"node":"db2","epoch":5}"#.to_vec());
        let r = compute(&s, EndpointRole::Replica, NOW);
        assert_eq!((reason(&r), r.epoch), ("no healthy replica of db2", Some(5)));
    }

    #[test]
    fn clients_do_not_see_the_recheck_time() {
        let a = compute(&snap(&healthy()), EndpointRole::Primary, NOW);
        let mut b = a.clone();
        b.recheck_at_ms = None;
        assert!(a.same_for_clients(&b));
        b.epoch = Some(5);
        assert!(!a.same_for_clients(&b));
    }
}
