//! What the agent's HTTP endpoints answer (`agent::http` serves them): pure verdicts from one
//! look at the agent's state, so every rule is unit-tested without a server.
//!
//! `/primary` is what a proxy routes writes by, so it answers yes only when every one of these
//! holds, and names the first that does not:
//! - the agent is not stalled: its last probe finished within [`STALL_AFTER_INTERVALS`] probe
//!   intervals (a frozen agent cannot answer at all, and the proxy's check times out);
//! - its ZooKeeper session is connected (a cut-off agent cannot know whether another node was
//!   promoted, and its lease will fence the server);
//! - the `primary` record, as the session's watch has it, names this node;
//! - the last probe was made under that same epoch (a probe from before a promotion proves
//!   nothing about the new epoch) and found the server reachable and writable;
//! - the agent has not fenced the server for its lease.
//!
//! `/replica`: not stalled, reachable, not the recorded primary, replicating with both threads
//! running, read-only, and lagging at most `failover.max_lag_s` (the heartbeat lag when the
//! primary's agent writes one, else the server's `Seconds_Behind_Master`).

use serde::Serialize;

use crate::cluster::config::PrimaryRecord;
use crate::cluster::status::{NodeStatus, ServerRole};

/// The agent counts as stalled when its last probe is older than this many intervals.
pub const STALL_AFTER_INTERVALS: u64 = 3;
/// ... and never sooner than this (tiny intervals on a loaded machine).
pub const STALL_MIN_MS: u64 = 1_000;

/// One look at the agent's state, taken when a request arrives.
#[derive(Debug, Clone)]
pub struct AgentView {
    pub node: String,
    /// The latest status the probe loop produced (`None` before the first probe).
    pub status: Option<NodeStatus>,
    /// The `primary` record as the agent's session last read it.
    pub recorded: Option<PrimaryRecord>,
    pub zk_connected: bool,
    /// Milliseconds since `zk_connected` last changed.
    pub zk_since_ms: u64,
    /// Whether `recorded` was read in the current session: a record kept from an earlier
    /// session may predate a failover that happened while this agent was away.
    pub record_current: bool,
    /// `failover.max_lag_s` from the cluster config (`None`: not read yet; the default applies).
    pub max_lag_s: Option<u64>,
    /// The epoch at which the agent fenced its server for the lease, if it did.
    pub fenced_for_lease: Option<u64>,
    pub interval_ms: u64,
    pub now_ms: i64,
    /// Milliseconds since the last status was published, by the monotonic clock; `None`: unknown, and
    /// the wall clocks' difference (`now_ms - observed_at_ms`) stands in.
    pub probe_elapsed_ms: Option<i64>,
}

/// An endpoint's answer: yes (200) or no (503), with why in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    pub ok: bool,
    pub reason: String,
}

impl Answer {
    fn yes(reason: String) -> Answer {
        Answer { ok: true, reason }
    }
    fn no(reason: impl Into<String>) -> Answer {
        Answer { ok: false, reason: reason.into() }
    }
}

impl AgentView {
    /// Milliseconds since the last probe finished, `None` before the first: by the monotonic
    /// clock when known, so a wall clock stepped back cannot make an old probe look fresh (nor
    /// one stepped forward a fresh probe stale).
    pub fn probe_age_ms(&self) -> Option<i64> {
        let status = self.status.as_ref()?;
        Some(self.probe_elapsed_ms.unwrap_or_else(|| self.now_ms.saturating_sub(status.observed_at_ms)).max(0))
    }

    /// How old the last probe may be before the agent counts as stalled.
    pub fn stall_after_ms(&self) -> u64 {
        self.interval_ms.saturating_mul(STALL_AFTER_INTERVALS).max(STALL_MIN_MS)
    }

    /// The latest status if it is fresh; otherwise why not.
    fn fresh_status(&self) -> Result<&NodeStatus, Answer> {
        let Some(status) = &self.status else {
            return Err(Answer::no("no probe has finished yet"));
        };
        let age = self.probe_age_ms().unwrap_or(0);
        let limit = self.stall_after_ms();
        if u64::try_from(age).unwrap_or(u64::MAX) > limit {
            return Err(Answer::no(format!("stalled: the last probe finished {age} ms ago (limit {limit} ms)")));
        }
        Ok(status)
    }

    fn recorded_is_us(&self) -> bool {
        self.recorded.as_ref().is_some_and(|r| r.node == self.node)
    }
}

/// `GET /primary`.
pub fn primary(v: &AgentView) -> Answer {
    let status = match v.fresh_status() {
        Ok(s) => s,
        Err(no) => return no,
    };
    if !v.zk_connected {
        return Answer::no(format!("ZooKeeper session not connected (for {} ms)", v.zk_since_ms));
    }
    if !v.record_current {
        return Answer::no("the primary record has not been read in this ZooKeeper session yet");
    }
    let Some(recorded) = &v.recorded else {
        return Answer::no("no primary is recorded");
    };
    if recorded.node != v.node {
        return Answer::no(format!("not the recorded primary ({} is, epoch {})", recorded.node, recorded.epoch));
    }
    if let Some(epoch) = v.fenced_for_lease {
        return Answer::no(format!("fenced for the lease at epoch {epoch}"));
    }
    match &status.primary_seen {
        Some(seen) if seen == recorded => {}
        Some(seen) => {
            return Answer::no(format!(
                "the last probe was made under epoch {} ({}); waiting for one under epoch {}",
                seen.epoch, seen.node, recorded.epoch
            ))
        }
        None => return Answer::no(format!("the last probe was made before epoch {} was read", recorded.epoch)),
    }
    if !status.reachable {
        return Answer::no(format!("server unreachable: {}", status.error.as_deref().unwrap_or("no answer")));
    }
    match status.read_only {
        Some(false) => Answer::yes(format!("primary at epoch {}, writable", recorded.epoch)),
        Some(true) => Answer::no(format!("recorded primary at epoch {}, but the server is read-only", recorded.epoch)),
        None => Answer::no("the server's read_only is not known"),
    }
}

/// `GET /replica`.
pub fn replica(v: &AgentView) -> Answer {
    let status = match v.fresh_status() {
        Ok(s) => s,
        Err(no) => return no,
    };
    if !status.reachable {
        return Answer::no(format!("server unreachable: {}", status.error.as_deref().unwrap_or("no answer")));
    }
    if v.recorded_is_us() {
        return Answer::no("this node is the recorded primary");
    }
    let Some(repl) = status.replication.as_ref().filter(|_| status.role == ServerRole::Replica) else {
        return Answer::no("not replicating from any source");
    };
    if !repl.io_ok() || !repl.sql_ok() {
        let error = [repl.last_io_error.as_str(), repl.last_sql_error.as_str()]
            .into_iter()
            .find(|e| !e.is_empty())
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        return Answer::no(format!("replication threads IO {} SQL {}{error}", repl.io_running, repl.sql_running));
    }
    if status.read_only != Some(true) {
        return Answer::no("a replica that is not read-only");
    }
    let max_lag_s = v.max_lag_s.unwrap_or(crate::cluster::config::DEFAULT_MAX_LAG_S);
    let Some(lag) = replica_lag(status, v.interval_ms, max_lag_s) else {
        return Answer::no("replication lag not known");
    };
    if !lag.within {
        return Answer::no(format!(
            "lagging {} ms ({}), more than failover.max_lag_s {max_lag_s} s",
            lag.ms, lag.source
        ));
    }
    Answer::yes(format!("replica of {}:{}, lag {} ms ({})", repl.source_host, repl.source_port, lag.ms, lag.source))
}

/// A replica's lag as `/replica` and `myzoo_node_state` judge it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lag {
    pub ms: i64,
    /// `heartbeat`, `reported`, or why the reported figure stands in for the heartbeat.
    pub source: String,
    pub within: bool,
}

/// The heartbeat lag (the age of the row the primary's agent rewrites every probe interval,
/// less that interval, which is not lag), else `Seconds_Behind_Master`. When the heartbeat is
/// past `max_lag_s` but the server reports itself within it, the heartbeat's writer has
/// stopped (its primary fenced, its agent gone, a long switchover) while the replica has what
/// its source sent: the reported figure counts then, so reads are not refused on every replica
/// at once. (A source lost silently is the server's own `slave_net_timeout`'s to notice.)
pub fn replica_lag(s: &NodeStatus, interval_ms: u64, max_lag_s: u64) -> Option<Lag> {
    let max_ms = i64::try_from(max_lag_s.saturating_mul(1000)).unwrap_or(i64::MAX);
    let interval = i64::try_from(interval_ms).unwrap_or(i64::MAX);
    let heartbeat = s.heartbeat_lag_ms.map(|ms| ms.saturating_sub(interval).max(0));
    let reported = s
        .replication
        .as_ref()
        .and_then(|r| r.seconds_behind)
        .map(|secs| i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX));
    let (ms, source) = match (heartbeat, reported) {
        (Some(h), Some(r)) if h > max_ms && r <= max_ms => {
            (r, format!("reported; the heartbeat is {h} ms old, its writer has stopped"))
        }
        (Some(h), _) => (h, "heartbeat".to_string()),
        (None, Some(r)) => (r, "reported".to_string()),
        (None, None) => return None,
    };
    Some(Lag { ms, source, within: ms <= max_ms })
}

/// `GET /health`: the agent's own state, for people and scripts.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    pub node: String,
    pub cluster: Option<String>,
    pub version: &'static str,
    /// 200 while the agent is probing on time; 503 when stalled or before its first probe.
    pub ok: bool,
    pub probe_age_ms: Option<i64>,
    pub zk_connected: bool,
    pub zk_since_ms: u64,
    pub recorded_primary: Option<PrimaryRecord>,
    pub reachable: Option<bool>,
    pub role: Option<ServerRole>,
    pub read_only: Option<bool>,
    pub heartbeat_lag_ms: Option<i64>,
    pub seconds_behind: Option<u64>,
    pub gtid: Option<String>,
    pub error: Option<String>,
    pub fenced: Option<String>,
    pub fenced_for_lease: Option<u64>,
    pub primary: Answer,
    pub replica: Answer,
}

pub fn health(v: &AgentView) -> Health {
    let s = v.status.as_ref();
    Health {
        node: v.node.clone(),
        cluster: s.map(|s| s.cluster.clone()),
        version: crate::VERSION,
        ok: v.fresh_status().is_ok(),
        probe_age_ms: v.probe_age_ms(),
        zk_connected: v.zk_connected,
        zk_since_ms: v.zk_since_ms,
        recorded_primary: v.recorded.clone(),
        reachable: s.map(|s| s.reachable),
        role: s.map(|s| s.role),
        read_only: s.and_then(|s| s.read_only),
        heartbeat_lag_ms: s.and_then(|s| s.heartbeat_lag_ms),
        seconds_behind: s.and_then(|s| s.replication.as_ref()).and_then(|r| r.seconds_behind),
        gtid: s.and_then(|s| s.gtid.position()).map(str::to_string),
        error: s.and_then(|s| s.error.clone()),
        fenced: s.and_then(|s| s.fenced.clone()),
        fenced_for_lease: v.fenced_for_lease,
        primary: primary(v),
        replica: replica(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::status::tests::sample;
    use crate::cluster::status::Replication;

    const NOW: i64 = 1_795_640_000_000;

    fn rec(node: &str, epoch: u64) -> PrimaryRecord {
        PrimaryRecord { node: node.into(), epoch }
    }

    /// db1, the recorded primary at epoch 4, writable, probed 100 ms ago, session connected.
    fn primary_view() -> AgentView {
        let mut s = sample("db1", ServerRole::Primary);
        s.observed_at_ms = NOW - 100;
        s.reachable = true;
        s.read_only = Some(false);
        s.primary_seen = Some(rec("db1", 4));
        AgentView {
            node: "db1".into(),
            status: Some(s),
            recorded: Some(rec("db1", 4)),
            zk_connected: true,
            zk_since_ms: 60_000,
            record_current: true,
            max_lag_s: Some(10),
            fenced_for_lease: None,
            interval_ms: 250,
            now_ms: NOW,
            probe_elapsed_ms: None,
        }
    }

    fn replica_view() -> AgentView {
        let mut v = primary_view();
        v.node = "db2".into();
        let s = v.status.as_mut().unwrap();
        s.node = "db2".into();
        s.role = ServerRole::Replica;
        s.read_only = Some(true);
        s.heartbeat_lag_ms = Some(300);
        s.replication = Some(Replication {
            source_host: "10.0.0.1".into(),
            source_port: 3306,
            io_running: "Yes".into(),
            sql_running: "Yes".into(),
            seconds_behind: Some(0),
            ..Default::default()
        });
        v
    }

    fn said(a: &Answer, words: &str) {
        assert!(!a.ok, "expected a no: {a:?}");
        assert!(a.reason.contains(words), "{words:?} not in {:?}", a.reason);
    }

    #[test]
    fn the_writable_recorded_primary_is_primary() {
        let a = primary(&primary_view());
        assert!(a.ok, "{a:?}");
        assert_eq!(a.reason, "primary at epoch 4, writable");
    }

    #[test]
    fn primary_is_refused_for_each_missing_condition() {
        let mut v = primary_view();
        v.status.as_mut().unwrap().observed_at_ms = NOW - 1_001;
        said(&primary(&v), "stalled: the last probe finished 1001 ms ago (limit 1000 ms)");

        let mut v = primary_view();
        v.interval_ms = 1_000;
        v.status.as_mut().unwrap().observed_at_ms = NOW - 2_999;
        assert!(primary(&v).ok, "three intervals of 1 s are allowed");

        // The monotonic clock decides when it is known: the wall clock stepped back 5 s makes
        // an old probe look 100 ms old; stepped forward, a fresh one look old.
        let mut v = primary_view();
        v.probe_elapsed_ms = Some(5_000);
        said(&primary(&v), "stalled: the last probe finished 5000 ms ago (limit 1000 ms)");
        let mut v = primary_view();
        v.status.as_mut().unwrap().observed_at_ms = NOW - 60_000;
        v.probe_elapsed_ms = Some(100);
        assert!(primary(&v).ok, "a fresh probe under a wall clock stepped forward");

        let mut v = primary_view();
        v.status = None;
        said(&primary(&v), "no probe has finished yet");

        let mut v = primary_view();
        v.zk_connected = false;
        v.zk_since_ms = 20;
        said(&primary(&v), "ZooKeeper session not connected (for 20 ms)");

        let mut v = primary_view();
        v.record_current = false;
        said(&primary(&v), "not been read in this ZooKeeper session yet");

        let mut v = primary_view();
        v.recorded = Some(rec("db2", 5));
        said(&primary(&v), "not the recorded primary (db2 is, epoch 5)");

        let mut v = primary_view();
        v.recorded = None;
        said(&primary(&v), "no primary is recorded");

        let mut v = primary_view();
        v.fenced_for_lease = Some(4);
        said(&primary(&v), "fenced for the lease at epoch 4");

        let mut v = primary_view();
        v.status.as_mut().unwrap().read_only = Some(true);
        said(&primary(&v), "but the server is read-only");

        let mut v = primary_view();
        let s = v.status.as_mut().unwrap();
        s.reachable = false;
        s.error = Some("connection refused".into());
        said(&primary(&v), "server unreachable: connection refused");

        let mut v = primary_view();
        v.status.as_mut().unwrap().read_only = None;
        said(&primary(&v), "read_only is not known");
    }

    #[test]
    fn a_probe_from_an_older_epoch_proves_nothing() {
        // Failed over away and back: the record names us again at epoch 6, but the last probe
        // (writable) was made under epoch 4.
        let mut v = primary_view();
        v.recorded = Some(rec("db1", 6));
        said(&primary(&v), "the last probe was made under epoch 4 (db1); waiting for one under epoch 6");
        v.status.as_mut().unwrap().primary_seen = None;
        said(&primary(&v), "before epoch 6 was read");
    }

    #[test]
    fn a_healthy_replica_is_replica_and_never_primary() {
        let v = replica_view();
        let a = replica(&v);
        assert!(a.ok, "{a:?}");
        assert_eq!(a.reason, "replica of 10.0.0.1:3306, lag 50 ms (heartbeat)", "one interval is not lag");
        said(&primary(&v), "not the recorded primary (db1 is, epoch 4)");
        said(&replica(&primary_view()), "this node is the recorded primary");
    }

    #[test]
    fn replica_is_refused_when_broken_lagging_or_writable() {
        let mut v = replica_view();
        let r = v.status.as_mut().unwrap().replication.as_mut().unwrap();
        r.sql_running = "No".into();
        r.last_sql_error = "Duplicate entry '7'".into();
        said(&replica(&v), "replication threads IO Yes SQL No: Duplicate entry '7'");

        let mut v = replica_view();
        let s = v.status.as_mut().unwrap();
        s.heartbeat_lag_ms = Some(10_251);
        s.replication.as_mut().unwrap().seconds_behind = Some(11);
        said(&replica(&v), "lagging 10001 ms (heartbeat), more than failover.max_lag_s 10 s");
        v.max_lag_s = Some(11);
        assert!(replica(&v).ok);

        let mut v = replica_view();
        let s = v.status.as_mut().unwrap();
        s.heartbeat_lag_ms = None;
        s.replication.as_mut().unwrap().seconds_behind = Some(12);
        said(&replica(&v), "lagging 12000 ms (reported)");
        v.status.as_mut().unwrap().replication.as_mut().unwrap().seconds_behind = None;
        said(&replica(&v), "replication lag not known");

        let mut v = replica_view();
        v.status.as_mut().unwrap().read_only = Some(false);
        said(&replica(&v), "not read-only");

        let mut v = replica_view();
        let s = v.status.as_mut().unwrap();
        s.role = ServerRole::Primary;
        s.replication = None;
        said(&replica(&v), "not replicating from any source");

        let mut v = replica_view();
        v.status.as_mut().unwrap().observed_at_ms = NOW - 5_000;
        said(&replica(&v), "stalled");
    }

    #[test]
    fn a_heartbeat_whose_writer_stopped_does_not_refuse_every_replica() {
        // The primary fenced for its lease (or its agent gone): nobody rewrites the heartbeat
        // row, its age grows on every replica, but the server has what its source sent.
        let mut v = replica_view();
        v.status.as_mut().unwrap().heartbeat_lag_ms = Some(30_000);
        let a = replica(&v);
        assert!(a.ok, "{a:?}");
        assert!(a.reason.contains("lag 0 ms (reported; the heartbeat is 29750 ms old"), "{}", a.reason);
        // The server itself says it lags: refused.
        v.status.as_mut().unwrap().replication.as_mut().unwrap().seconds_behind = Some(12);
        said(&replica(&v), "lagging 29750 ms (heartbeat)");
    }

    #[test]
    fn a_replica_keeps_serving_reads_while_zookeeper_is_away() {
        let mut v = replica_view();
        v.zk_connected = false;
        assert!(replica(&v).ok, "reads do not need ZooKeeper");
    }

    #[test]
    fn health_carries_both_answers() {
        let h = health(&primary_view());
        assert!(h.ok && h.primary.ok && !h.replica.ok);
        assert_eq!(h.probe_age_ms, Some(100));
        let json = serde_json::to_value(&h).unwrap();
        assert_eq!(json["recorded_primary"]["node"], "db1");
        assert_eq!(json["primary"]["ok"], true);
        let mut v = primary_view();
        v.status = None;
        assert!(!health(&v).ok);
    }
}
