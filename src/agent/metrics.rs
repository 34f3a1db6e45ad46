//! The agent's Prometheus metrics (`/metrics`, OpenMetrics text via `prometheus-client`) and the
//! few facts its tasks share with the HTTP endpoints beyond the `watch` channels.
//!
//! Counters and the probe histogram are updated where things happen (probe loop, publisher,
//! coordinator); gauges that describe the node are set from the latest status at scrape time,
//! so a scrape always shows one consistent look. Unknown values (the lag of a server that is
//! not replicating, the read-only flag of an unreachable server) are `NaN`, never a made-up 0.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use super::endpoints::{self, AgentView};
use crate::cluster::status::{Flavor, ServerRole};
use crate::failover::gtid::Position;

type Labels = Vec<(&'static str, String)>;
type FloatGauge = Gauge<f64, AtomicU64>;

/// Every node state `myzoo_node_state` names, so each is always present (1 for the current).
pub const NODE_STATES: [&str; 6] = ["ok", "lagging", "replication_broken", "server_down", "stalled", "starting"];
/// Every role `myzoo_role` names.
pub const ROLES: [&str; 3] = ["primary", "replica", "unknown"];
/// Every ZooKeeper session state `myzoo_zk_session_state` names.
pub const ZK_STATES: [&str; 6] = ["connecting", "connected", "read_only", "disconnected", "expired", "closed"];

/// The agent's metrics and shared facts; one per agent, behind an `Arc`.
pub struct AgentMetrics {
    registry: Registry,
    /// Serialises scrapes: gauges are set from one look, then encoded.
    scrape: Mutex<()>,
    node_state: Family<Labels, Gauge>,
    role: Family<Labels, Gauge>,
    server_up: Gauge,
    read_only: FloatGauge,
    lag: Family<Labels, FloatGauge>,
    gtid: Family<Labels, FloatGauge>,
    probe_age: FloatGauge,
    probe_duration: Histogram,
    zk_state: Family<Labels, Gauge>,
    zk_sessions: Counter,
    zk_losses: Family<Labels, Counter>,
    znode_writes: Family<Labels, Counter>,
    coordinator: Gauge,
    failovers: Family<Labels, Counter>,
    fenced: Gauge,
    primary_ok: Gauge,
    replica_ok: Gauge,
    /// Index into [`ZK_STATES`], written by the publisher.
    zk_state_now: AtomicU64,
    /// When the last status was published (stamped with `observed_at_ms` at the same point),
    /// by the monotonic clock: the endpoints' stall check (a wall clock stepped back would make
    /// an old probe look fresh).
    last_probe: std::sync::Mutex<Option<std::time::Instant>>,
    /// The epoch the agent fenced its server at for the lease; -1: not fenced for it.
    fenced_for_lease: AtomicI64,
}

impl std::fmt::Debug for AgentMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentMetrics").finish_non_exhaustive()
    }
}

impl AgentMetrics {
    pub fn new(cluster: &str, node: &str) -> AgentMetrics {
        let mut registry = Registry::with_prefix("myzoo");
        let info: Labels = vec![
            ("cluster", cluster.to_string()),
            ("node", node.to_string()),
            ("version", env!("CARGO_PKG_VERSION").to_string()),
            ("commit", crate::COMMIT.to_string()),
        ];
        registry.register("agent", "The agent: its cluster, node, version and commit", Info::new(info));
        let m = AgentMetrics {
            registry,
            scrape: Mutex::new(()),
            node_state: Family::default(),
            role: Family::default(),
            server_up: Gauge::default(),
            read_only: FloatGauge::default(),
            lag: Family::default(),
            gtid: Family::default(),
            probe_age: FloatGauge::default(),
            // 1 ms … ~8 s.
            probe_duration: Histogram::new(exponential_buckets(0.001, 2.0, 14)),
            zk_state: Family::default(),
            zk_sessions: Counter::default(),
            zk_losses: Family::default(),
            znode_writes: Family::default(),
            coordinator: Gauge::default(),
            failovers: Family::default(),
            fenced: Gauge::default(),
            primary_ok: Gauge::default(),
            replica_ok: Gauge::default(),
            zk_state_now: AtomicU64::new(0),
            last_probe: std::sync::Mutex::new(None),
            fenced_for_lease: AtomicI64::new(-1),
        };
        m.register()
    }

    fn register(mut self) -> AgentMetrics {
        let r = &mut self.registry;
        r.register("node_state", "The node's state as its agent sees it (1: current)", self.node_state.clone());
        r.register("role", "The server's role from its replication state (1: current)", self.role.clone());
        r.register("server_up", "Whether the last probe reached the server", self.server_up.clone());
        r.register("read_only", "The server's read_only (NaN: not known)", self.read_only.clone());
        r.register(
            "replication_lag_seconds",
            "Replication lag: heartbeat (measured from the primary's heartbeat row) and reported (Seconds_Behind_Master); NaN: not replicating or not known",
            self.lag.clone(),
        );
        r.register(
            "gtid_sequence",
            "Sequence number of the server's GTID position per replication domain (MariaDB) or source uuid (MySQL)",
            self.gtid.clone(),
        );
        r.register("probe_age_seconds", "Time since the last probe finished", self.probe_age.clone());
        r.register("probe_duration_seconds", "How long probes of the server take", self.probe_duration.clone());
        r.register("zk_session_state", "The agent's ZooKeeper session state (1: current)", self.zk_state.clone());
        r.register("zk_sessions", "ZooKeeper sessions established", self.zk_sessions.clone());
        r.register("zk_session_losses", "ZooKeeper sessions lost, by how they ended", self.zk_losses.clone());
        r.register("znode_writes", "Writes of the node's status znode, by result", self.znode_writes.clone());
        r.register(
            "coordinator_leader",
            "Whether this agent leads the automatic-failover coordinator",
            self.coordinator.clone(),
        );
        r.register("failovers", "Automatic failovers this agent ran as coordinator, by result", self.failovers.clone());
        r.register(
            "fenced_for_lease",
            "Whether the agent holds its server read-only for the fencing lease",
            self.fenced.clone(),
        );
        r.register("primary_endpoint_up", "What /primary answers now (1: 200)", self.primary_ok.clone());
        r.register("replica_endpoint_up", "What /replica answers now (1: 200)", self.replica_ok.clone());
        set_one_of(&self.node_state, "state", &NODE_STATES, "starting");
        set_one_of(&self.role, "role", &ROLES, "unknown");
        set_one_of(&self.zk_state, "state", &ZK_STATES, "connecting");
        for result in ["ok", "error"] {
            self.znode_writes.get_or_create(&vec![("result", result.to_string())]).get();
        }
        self
    }

    /// A probe finished, taking `seconds`.
    pub fn observe_probe(&self, seconds: f64) {
        self.probe_duration.observe(seconds);
    }

    /// A probe's status was just published (call it after the status is sent: a reader that
    /// asks [`Self::since_last_probe_ms`] before it reads the status then never pairs a newer
    /// time with an older status).
    pub fn status_published(&self) {
        if let Ok(mut last) = self.last_probe.lock() {
            *last = Some(std::time::Instant::now());
        }
    }

    /// Milliseconds since the last status was published, by the monotonic clock.
    pub fn since_last_probe_ms(&self) -> Option<i64> {
        let last = *self.last_probe.lock().ok()?;
        last.map(|t| i64::try_from(t.elapsed().as_millis()).unwrap_or(i64::MAX))
    }

    pub fn znode_written(&self, ok: bool) {
        self.znode_writes.get_or_create(&vec![("result", if ok { "ok" } else { "error" }.to_string())]).inc();
    }

    pub fn session_established(&self) {
        self.zk_sessions.inc();
    }

    /// A session ended other than by our own close (`state`: `expired`, `closed` …).
    pub fn session_lost(&self, state: &str) {
        self.zk_losses.get_or_create(&vec![("state", state.to_string())]).inc();
    }

    /// `state` is one of [`ZK_STATES`].
    pub fn set_zk_state(&self, state: &str) {
        let i = ZK_STATES.iter().position(|s| *s == state).unwrap_or(0);
        self.zk_state_now.store(i as u64, Ordering::Relaxed);
    }

    /// `myzoo_coordinator_leader` is 1 while the guard lives and 0 again however leading ends:
    /// returned, or the task dropped or panicked (a gauge left at 1 would show two leaders).
    pub fn leading(&self) -> LeaderGauge {
        self.coordinator.set(1);
        LeaderGauge(self.coordinator.clone())
    }

    /// An automatic failover this agent ran; `result` is the operation's final state.
    pub fn failover_run(&self, result: &str) {
        self.failovers.get_or_create(&vec![("result", result.to_string())]).inc();
    }

    pub fn set_fenced_for_lease(&self, epoch: Option<u64>) {
        let v = epoch.and_then(|e| i64::try_from(e).ok()).unwrap_or(-1);
        self.fenced_for_lease.store(v, Ordering::Relaxed);
    }

    pub fn fenced_for_lease(&self) -> Option<u64> {
        u64::try_from(self.fenced_for_lease.load(Ordering::Relaxed)).ok()
    }

    /// The text exposition for one look at the agent.
    pub fn scrape(&self, view: &AgentView) -> String {
        let _one_at_a_time = self.scrape.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.set_gauges(view);
        let mut out = String::new();
        if let Err(e) = encode(&mut out, &self.registry) {
            // Only a formatter error, which a String never returns; still, say so.
            let _ = writeln!(out, "# encoding failed: {e}");
        }
        out
    }

    fn set_gauges(&self, v: &AgentView) {
        let state = node_state(v);
        set_one_of(&self.node_state, "state", &NODE_STATES, state);
        let s = v.status.as_ref();
        let role = match s.map(|s| s.role) {
            Some(ServerRole::Primary) => "primary",
            Some(ServerRole::Replica) => "replica",
            _ => "unknown",
        };
        set_one_of(&self.role, "role", &ROLES, role);
        let zk = ZK_STATES.get(self.zk_state_now.load(Ordering::Relaxed) as usize).copied().unwrap_or("connecting");
        set_one_of(&self.zk_state, "state", &ZK_STATES, zk);
        self.server_up.set(i64::from(s.is_some_and(|s| s.reachable)));
        let reachable = s.filter(|s| s.reachable);
        self.read_only.set(reachable.and_then(|s| s.read_only).map_or(f64::NAN, |r| f64::from(u8::from(r))));
        let replication = reachable.and_then(|s| s.replication.as_ref());
        let heartbeat = reachable.filter(|_| replication.is_some()).and_then(|s| s.heartbeat_lag_ms);
        self.lag.get_or_create(&source("heartbeat")).set(heartbeat.map_or(f64::NAN, |ms| ms as f64 / 1000.0));
        let reported = replication.and_then(|r| r.seconds_behind);
        self.lag.get_or_create(&source("reported")).set(reported.map_or(f64::NAN, |s| s as f64));
        self.gtid.clear();
        for (domain, seq) in reachable.map(gtid_sequences).unwrap_or_default() {
            self.gtid.get_or_create(&vec![("domain", domain)]).set(seq as f64);
        }
        self.probe_age.set(v.probe_age_ms().map_or(f64::NAN, |ms| ms as f64 / 1000.0));
        self.fenced.set(i64::from(v.fenced_for_lease.is_some()));
        self.primary_ok.set(i64::from(endpoints::primary(v).ok));
        self.replica_ok.set(i64::from(endpoints::replica(v).ok));
    }
}

fn source(name: &str) -> Labels {
    vec![("source", name.to_string())]
}

/// Sets the family member whose `key` label is `current` to 1 and every other to 0.
fn set_one_of(family: &Family<Labels, Gauge>, key: &'static str, names: &[&str], current: &str) {
    for name in names {
        family.get_or_create(&vec![(key, name.to_string())]).set(i64::from(*name == current));
    }
}

/// The agent's own view of its node, one of [`NODE_STATES`].
pub fn node_state(v: &AgentView) -> &'static str {
    let Some(s) = &v.status else { return "starting" };
    if u64::try_from(v.probe_age_ms().unwrap_or(0)).unwrap_or(u64::MAX) > v.stall_after_ms() {
        return "stalled";
    }
    if !s.reachable {
        return "server_down";
    }
    let Some(r) = &s.replication else { return "ok" };
    if !r.io_ok() || !r.sql_ok() {
        return "replication_broken";
    }
    let max_lag_s = v.max_lag_s.unwrap_or(crate::cluster::config::DEFAULT_MAX_LAG_S);
    if endpoints::replica_lag(s, v.interval_ms, max_lag_s).is_some_and(|lag| !lag.within) {
        return "lagging";
    }
    "ok"
}

/// Per domain (MariaDB) or source uuid (MySQL), the highest sequence number of the position.
pub fn gtid_sequences(s: &crate::cluster::status::NodeStatus) -> Vec<(String, u64)> {
    let Some(text) = s.gtid.position() else { return Vec::new() };
    match Position::parse(s.flavor.unwrap_or(Flavor::Mariadb), text) {
        Ok(Position::Mariadb(p)) => p.0.iter().map(|(domain, (_, seq))| (domain.to_string(), *seq)).collect(),
        Ok(Position::Mysql(set)) => {
            set.intervals().iter().filter_map(|(uuid, ivs)| ivs.last().map(|(_, end)| (uuid.clone(), *end))).collect()
        }
        Err(_) => Vec::new(),
    }
}

/// See [`AgentMetrics::leading`].
#[must_use = "the gauge falls back to 0 when the guard is dropped"]
pub struct LeaderGauge(Gauge);

impl Drop for LeaderGauge {
    fn drop(&mut self) {
        self.0.set(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::config::PrimaryRecord;
    use crate::cluster::status::tests::sample;
    use openmetrics_parser::openmetrics::parse_openmetrics;
    use openmetrics_parser::OpenMetricsValue;

    const NOW: i64 = 1_795_640_000_000;

    fn view(role: ServerRole) -> AgentView {
        let mut s = sample("db1", role);
        s.observed_at_ms = NOW - 100;
        s.reachable = true;
        s.read_only = Some(false);
        s.gtid.current = Some("0-1-42,3-7-9".into());
        s.primary_seen = Some(PrimaryRecord { node: "db1".into(), epoch: 2 });
        AgentView {
            node: "db1".into(),
            status: Some(s),
            recorded: Some(PrimaryRecord { node: "db1".into(), epoch: 2 }),
            zk_connected: true,
            zk_since_ms: 5,
            record_current: true,
            max_lag_s: None,
            fenced_for_lease: None,
            interval_ms: 1000,
            now_ms: NOW,
            probe_elapsed_ms: None,
        }
    }

    /// `(family, label value)` → value, from a strict OpenMetrics parse.
    fn values(text: &str) -> Vec<(String, String, f64)> {
        let parsed = parse_openmetrics(text).unwrap_or_else(|e| panic!("not OpenMetrics: {e:?}\n{text}"));
        let mut out = Vec::new();
        for (name, family) in &parsed.families {
            for sample in family.iter_samples() {
                let labels = sample.get_labelset().unwrap();
                let label = labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
                let v = match &sample.value {
                    OpenMetricsValue::Gauge(n) | OpenMetricsValue::Unknown(n) => n.as_f64(),
                    OpenMetricsValue::Counter(c) => c.value.as_f64(),
                    OpenMetricsValue::Histogram(h) => h.count.unwrap_or(0) as f64,
                    OpenMetricsValue::Info => 1.0,
                    other => panic!("unexpected {other:?}"),
                };
                out.push((name.clone(), label, v));
            }
        }
        out
    }

    fn value(all: &[(String, String, f64)], name: &str, label: &str) -> f64 {
        all.iter()
            .find(|(n, l, _)| n == name && l == label)
            .unwrap_or_else(|| panic!("{name}{{{label}}} missing from {all:?}"))
            .2
    }

    #[test]
    fn a_scrape_is_strict_openmetrics_with_every_family() {
        let m = AgentMetrics::new("sandbox", "db1");
        m.observe_probe(0.004);
        m.znode_written(true);
        m.znode_written(false);
        m.session_established();
        m.set_zk_state("connected");
        let leading = m.leading();
        m.failover_run("done");
        let all = values(&m.scrape(&view(ServerRole::Primary)));
        assert_eq!(value(&all, "myzoo_role", "role=primary"), 1.0);
        assert_eq!(value(&all, "myzoo_role", "role=replica"), 0.0);
        assert_eq!(value(&all, "myzoo_node_state", "state=ok"), 1.0);
        assert_eq!(value(&all, "myzoo_node_state", "state=stalled"), 0.0);
        assert_eq!(value(&all, "myzoo_server_up", ""), 1.0);
        assert_eq!(value(&all, "myzoo_read_only", ""), 0.0);
        assert!(value(&all, "myzoo_replication_lag_seconds", "source=heartbeat").is_nan(), "a primary has no lag");
        assert_eq!(value(&all, "myzoo_gtid_sequence", "domain=0"), 42.0);
        assert_eq!(value(&all, "myzoo_gtid_sequence", "domain=3"), 9.0);
        assert_eq!(value(&all, "myzoo_probe_duration_seconds", ""), 1.0);
        assert_eq!(value(&all, "myzoo_zk_session_state", "state=connected"), 1.0);
        assert_eq!(value(&all, "myzoo_zk_session_state", "state=connecting"), 0.0);
        assert_eq!(value(&all, "myzoo_zk_sessions", ""), 1.0);
        assert_eq!(value(&all, "myzoo_znode_writes", "result=ok"), 1.0);
        assert_eq!(value(&all, "myzoo_znode_writes", "result=error"), 1.0);
        assert_eq!(value(&all, "myzoo_coordinator_leader", ""), 1.0);
        assert_eq!(value(&all, "myzoo_failovers", "result=done"), 1.0);
        assert_eq!(value(&all, "myzoo_primary_endpoint_up", ""), 1.0);
        assert_eq!(value(&all, "myzoo_replica_endpoint_up", ""), 0.0);
        assert!(all.iter().any(|(n, l, _)| n == "myzoo_agent" && l.contains("node=db1")), "{all:?}");
        drop(leading);
        let all = values(&m.scrape(&view(ServerRole::Primary)));
        assert_eq!(value(&all, "myzoo_coordinator_leader", ""), 0.0, "back to 0 when leading ends");
    }

    #[test]
    fn the_leader_gauge_falls_when_leading_panics() {
        let m = AgentMetrics::new("sandbox", "db1");
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _leading = m.leading();
            panic!("the leader's task failed");
        }));
        assert!(panicked.is_err());
        let all = values(&m.scrape(&view(ServerRole::Primary)));
        assert_eq!(value(&all, "myzoo_coordinator_leader", ""), 0.0);
    }

    #[test]
    fn an_unreachable_server_has_unknown_values_not_zeros() {
        let m = AgentMetrics::new("sandbox", "db2");
        let mut v = view(ServerRole::Replica);
        let s = v.status.as_mut().unwrap();
        s.reachable = false;
        s.read_only = None;
        let all = values(&m.scrape(&v));
        assert_eq!(value(&all, "myzoo_server_up", ""), 0.0);
        assert!(value(&all, "myzoo_read_only", "").is_nan());
        assert_eq!(value(&all, "myzoo_node_state", "state=server_down"), 1.0);
        assert!(!all.iter().any(|(n, _, _)| n == "myzoo_gtid_sequence"), "no position for an unreachable server");
        v.status.as_mut().unwrap().observed_at_ms = NOW - 10_000;
        let all = values(&m.scrape(&v));
        assert_eq!(value(&all, "myzoo_node_state", "state=stalled"), 1.0);
        assert_eq!(value(&all, "myzoo_node_state", "state=server_down"), 0.0);
    }

    #[test]
    fn gtid_sequences_of_both_flavours() {
        let mut s = sample("db1", ServerRole::Primary);
        s.gtid.current = Some("0-1-19,1-2-5".into());
        assert_eq!(gtid_sequences(&s), vec![("0".into(), 19), ("1".into(), 5)]);
        s.flavor = Some(Flavor::Mysql);
        s.gtid.current = None;
        s.gtid.executed = Some("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7-23".into());
        assert_eq!(gtid_sequences(&s), vec![("3e11fa47-71ca-11e1-9e33-c80aa9429562".into(), 23)]);
        s.gtid.executed = Some("garbage".into());
        assert!(gtid_sequences(&s).is_empty());
    }
}
