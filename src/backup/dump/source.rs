//! Which node a dump reads from (pure): by default the healthiest, least-lagged replica —
//! registered, reachable, both replication threads running, its status fresh — lowest lag
//! first, ties by name; never the primary unless the operator names it. A refusal lists every
//! node with its reason.

use serde::Serialize;

use crate::cluster::health::{ClusterView, NodeState, NodeView};
use crate::cluster::status::ServerRole;

/// The chosen node and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Choice {
    pub node: String,
    /// `replica` or `primary`.
    pub role: String,
    /// Its lag when it was chosen, in ms (heartbeat, else `Seconds_Behind_Master`).
    pub lag_ms: Option<i64>,
    /// Every node considered, with why it was or was not a candidate.
    pub considered: Vec<(String, String)>,
}

/// No node qualifies: each node with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("no node to dump from: {}", .reasons.iter().map(|(n, r)| format!("{n}: {r}")).collect::<Vec<_>>().join("; "))]
pub struct Refused {
    pub reasons: Vec<(String, String)>,
}

/// Lag of a replica as the agents measure it (see `cluster::health`): the heartbeat's, less
/// one probe interval, else `Seconds_Behind_Master`.
pub fn lag_ms(n: &NodeView) -> Option<i64> {
    let s = n.status.as_ref()?;
    if let Some(hb) = s.heartbeat_lag_ms {
        return Some((hb - s.agent.interval_ms as i64).max(0));
    }
    s.replication.as_ref()?.seconds_behind.map(|s| s as i64 * 1000)
}

/// Why `n` cannot be a default source, or `None` when it can.
fn unfit(n: &NodeView) -> Option<String> {
    if n.recorded_primary {
        return Some("the primary (name it with --node to dump it)".into());
    }
    let Some(s) = &n.status else {
        return Some(format!("no status ({})", n.state.label()));
    };
    match n.state {
        NodeState::Ok | NodeState::Lagging => {}
        other => return Some(other.label().to_string()),
    }
    if s.role != ServerRole::Replica {
        return Some("not replicating".into());
    }
    match &s.replication {
        Some(r) if r.io_ok() && r.sql_ok() => None,
        Some(r) => Some(format!("replication stopped (IO {}, SQL {})", r.io_running, r.sql_running)),
        None => Some("not replicating".into()),
    }
}

/// The source for a dump of `view`'s cluster: `wanted` when given (any node whose server is
/// reachable, the primary included), else the best replica.
pub fn choose_source(view: &ClusterView, wanted: Option<&str>) -> Result<Choice, Refused> {
    let role = |n: &NodeView| if n.recorded_primary { "primary" } else { "replica" }.to_string();
    if let Some(name) = wanted {
        let Some(n) = view.node(name) else {
            let known: Vec<&str> = view.nodes.iter().map(|n| n.name.as_str()).collect();
            return Err(Refused {
                reasons: vec![(name.to_string(), format!("no such node (the cluster has {})", known.join(", ")))],
            });
        };
        let reachable = n.status.as_ref().is_some_and(|s| s.reachable)
            && !matches!(n.state, NodeState::Stale | NodeState::AgentGone | NodeState::Missing | NodeState::Unreadable);
        if !reachable {
            return Err(Refused { reasons: vec![(name.to_string(), n.state.label().to_string())] });
        }
        return Ok(Choice {
            node: name.to_string(),
            role: role(n),
            lag_ms: lag_ms(n),
            considered: vec![(name.to_string(), "named with --node".into())],
        });
    }
    let mut considered = Vec::new();
    let mut fit: Vec<&NodeView> = Vec::new();
    for n in &view.nodes {
        match unfit(n) {
            Some(why) => considered.push((n.name.clone(), why)),
            None => {
                let lag = lag_ms(n).map_or("lag unknown".to_string(), |l| format!("lag {l} ms"));
                considered.push((n.name.clone(), format!("candidate, {lag}")));
                fit.push(n);
            }
        }
    }
    // Healthy before lagging, then lowest lag (unknown last), then name.
    fit.sort_by_key(|n| (n.state != NodeState::Ok, lag_ms(n).unwrap_or(i64::MAX), n.name.clone()));
    match fit.first() {
        Some(n) => Ok(Choice { node: n.name.clone(), role: role(n), lag_ms: lag_ms(n), considered }),
        None => Err(Refused { reasons: considered }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::health::{NodeView, Verdict};
    use crate::cluster::status::tests::sample;
    use crate::cluster::status::Replication;

    fn replica(name: &str, state: NodeState, hb_lag_ms: Option<i64>) -> NodeView {
        let mut s = sample(name, ServerRole::Replica);
        s.replication =
            Some(Replication { io_running: "Yes".into(), sql_running: "Yes".into(), ..Replication::default() });
        s.heartbeat_lag_ms = hb_lag_ms.map(|l| l + s.agent.interval_ms as i64);
        NodeView {
            name: name.into(),
            state,
            recorded_primary: false,
            status: Some(s),
            unreadable: None,
            flags: vec![],
            age_ms: Some(0),
        }
    }

    fn primary(name: &str) -> NodeView {
        NodeView {
            name: name.into(),
            state: NodeState::Ok,
            recorded_primary: true,
            status: Some(sample(name, ServerRole::Primary)),
            unreadable: None,
            flags: vec![],
            age_ms: Some(0),
        }
    }

    fn view(nodes: Vec<NodeView>) -> ClusterView {
        ClusterView {
            name: "c".into(),
            config: None,
            config_error: None,
            primary: None,
            primary_error: None,
            nodes,
            topology: vec![],
            verdict: Verdict::Healthy,
            problems: vec![],
            automatic_failover: None,
        }
    }

    #[test]
    fn least_lagged_healthy_replica_ties_by_name() {
        let v =
            view(vec![primary("db1"), replica("db2", NodeState::Ok, Some(30)), replica("db3", NodeState::Ok, Some(5))]);
        assert_eq!(choose_source(&v, None).unwrap().node, "db3");
        let tie =
            view(vec![primary("db1"), replica("db3", NodeState::Ok, Some(5)), replica("db2", NodeState::Ok, Some(5))]);
        let c = choose_source(&tie, None).unwrap();
        assert_eq!((c.node.as_str(), c.role.as_str(), c.lag_ms), ("db2", "replica", Some(5)));
        // A lagging replica comes after a healthy one whatever the figures.
        let lag = view(vec![replica("db2", NodeState::Lagging, Some(0)), replica("db3", NodeState::Ok, Some(900))]);
        assert_eq!(choose_source(&lag, None).unwrap().node, "db3");
    }

    #[test]
    fn never_the_primary_unless_named_and_refusals_list_every_node() {
        let mut stopped = replica("db2", NodeState::ReplicationBroken, Some(0));
        if let Some(r) = stopped.status.as_mut().and_then(|s| s.replication.as_mut()) {
            r.sql_running = "No".into();
        }
        let mut down = replica("db3", NodeState::ServerDown, None);
        down.status.as_mut().unwrap().reachable = false;
        let v = view(vec![primary("db1"), stopped, down]);
        let refused = choose_source(&v, None).unwrap_err();
        assert_eq!(refused.reasons.len(), 3);
        assert!(refused.reasons[0].1.contains("primary"), "{refused}");
        assert_eq!(refused.reasons[1].1, "repl broken");
        assert_eq!(refused.reasons[2].1, "server down");
        let named = choose_source(&v, Some("db1")).unwrap();
        assert_eq!((named.node.as_str(), named.role.as_str()), ("db1", "primary"));
        assert!(choose_source(&v, Some("db3")).is_err());
        assert!(choose_source(&v, Some("db9")).unwrap_err().to_string().contains("no such node"));
    }
}
