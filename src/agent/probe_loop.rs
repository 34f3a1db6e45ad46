//! The probe loop: one probe per interval, never two at once (a probe is bounded by a timeout
//! shorter than the interval, and missed ticks are skipped), each result turned into the node's
//! whole status and handed to the publisher through a `watch` channel (latest value wins). One
//! more probe when the fencing lease runs out, so the lease acts then and not up to an interval
//! later (`fence`), and one at once when the `primary` record changes. After a change that names
//! this node, while the server is still read-only (the operation opens it just after writing
//! the record), it probes every [`QUICK_PROBE_MS`] for up to [`QUICK_PROBE_WINDOW_MS`]: `/primary`
//! turns 200 as soon as the new primary takes writes, not up to an interval later.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use std::sync::Arc;

use super::fence::{Fencer, Link};
use super::metrics::AgentMetrics;
use crate::cluster::config::PrimaryRecord;
use crate::cluster::status::{AgentInfo, Endpoint, NodeStatus, STATUS_SCHEMA};
use crate::mysql::probe::{Observation, Prober};
use crate::tls::TlsMode;

/// Longest the loop waits for the probe connection to close on shutdown.
const CLOSE_TIMEOUT_MS: u64 = 1_000;
/// Pause between probes while a newly recorded primary is waiting to be opened.
pub const QUICK_PROBE_MS: u64 = 50;
/// How long after the record named this node the loop keeps probing quickly.
pub const QUICK_PROBE_WINDOW_MS: u64 = 5_000;

/// The parts of a status that do not come from the server.
#[derive(Debug, Clone)]
pub struct StatusBase {
    pub cluster: String,
    pub node: String,
    pub agent: AgentInfo,
    pub server: Endpoint,
}

impl StatusBase {
    /// The whole status document for one observation and the primary record as last read,
    /// stamped now.
    pub fn status(&self, o: Observation, primary_seen: Option<PrimaryRecord>, fenced: Option<String>) -> NodeStatus {
        NodeStatus {
            schema: STATUS_SCHEMA,
            cluster: self.cluster.clone(),
            node: self.node.clone(),
            observed_at_ms: now_ms(),
            agent: self.agent.clone(),
            server: self.server.clone(),
            reachable: o.reachable,
            error: o.error,
            flavor: o.flavor,
            version: o.version,
            server_id: o.server_id,
            role: o.role,
            read_only: o.read_only,
            gtid: o.gtid,
            replication: o.replication,
            semi_sync: o.semi_sync,
            uptime_s: o.uptime_s,
            threads_connected: o.threads_connected,
            qps: o.qps,
            heartbeat_lag_ms: o.heartbeat_lag_ms,
            primary_seen,
            fenced,
            tls: o.tls_cipher,
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)).unwrap_or(0)
}

/// What the probe loop reads (the recorded primary, the link to ZooKeeper) and where it puts
/// each status.
pub struct Channels {
    pub primary_rx: watch::Receiver<Option<PrimaryRecord>>,
    /// The cluster config's `mysql.tls` as last read (`None`: not read yet).
    pub policy_rx: watch::Receiver<Option<TlsMode>>,
    pub link_rx: watch::Receiver<Link>,
    pub tx: watch::Sender<Option<NodeStatus>>,
    /// Probe durations go here, and whether the server is fenced for the lease.
    pub metrics: Arc<AgentMetrics>,
}

/// Probes until `cancel` fires. `primary_rx` holds the recorded primary (read, never awaited).
pub async fn run(
    mut prober: Prober,
    base: StatusBase,
    interval: Duration,
    channels: Channels,
    mut fencer: Fencer,
    cancel: CancellationToken,
) {
    let Channels { mut primary_rx, policy_rx, mut link_rx, tx, metrics } = channels;
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut was_reachable: Option<bool> = None;
    let mut last_probe = Instant::now();
    let mut link_open = true;
    let mut primary_open = true;
    let mut quick_until: Option<Instant> = None;
    // When the last probe finished: quick probes count from there, so a slow one is never
    // followed at once by the next.
    let mut last_done = Instant::now();
    loop {
        let ours = primary_rx.borrow().as_ref().is_some_and(|p| p.node == base.node);
        // A deadline the last probe has passed is covered by the ticks.
        let lease_due = fencer.lease_deadline(&link_rx.borrow()).filter(|due| ours && *due > last_probe);
        let quick_due = quick_until
            .filter(|end| ours && *end > last_probe)
            .map(|_| last_done + Duration::from_millis(QUICK_PROBE_MS));
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = ticker.tick() => {}
            _ = until(lease_due) => {}
            _ = until(quick_due) => {}
            // The link changed: look at the lease deadline again.
            changed = link_rx.changed(), if link_open => {
                link_open = changed.is_ok();
                continue;
            }
            // The record changed: probe now, and quickly while it names us and we are closed.
            changed = primary_rx.changed(), if primary_open => {
                primary_open = changed.is_ok();
                let named = primary_rx.borrow_and_update().as_ref().is_some_and(|p| p.node == base.node);
                quick_until = named.then(|| Instant::now() + Duration::from_millis(QUICK_PROBE_WINDOW_MS));
            }
        }
        last_probe = Instant::now();
        prober.apply_policy(*policy_rx.borrow());
        let primary = primary_rx.borrow().clone();
        let recorded_primary = primary.as_ref().is_some_and(|p| p.node == base.node);
        let observation = tokio::select! {
            _ = cancel.cancelled() => break,
            o = prober.probe(recorded_primary) => o,
        };
        metrics.observe_probe(last_probe.elapsed().as_secs_f64());
        log_transition(&mut was_reachable, &observation);
        if observation.read_only == Some(false) || !recorded_primary {
            quick_until = None;
        }
        let link = link_rx.borrow().clone();
        let was_fenced = fencer.fenced_for_lease();
        fencer.after_probe(&mut prober, &observation, primary.as_ref(), &link).await;
        metrics.set_fenced_for_lease(fencer.fenced_for_lease());
        if was_fenced.is_some() && fencer.fenced_for_lease().is_none() && recorded_primary {
            // Opened again (or left closed for good): this probe saw it read-only; look again
            // soon, so `/primary` follows the reopening within a quick probe.
            quick_until = Some(Instant::now() + Duration::from_millis(QUICK_PROBE_WINDOW_MS));
        }
        last_done = Instant::now();
        tx.send_replace(Some(base.status(observation, primary, fencer.note.clone())));
        metrics.status_published();
    }
    let _ = tokio::time::timeout(Duration::from_millis(CLOSE_TIMEOUT_MS), prober.close()).await;
}

/// Sleeps until `at`; forever without one.
async fn until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Logs when the server goes away or comes back, not on every probe.
fn log_transition(was: &mut Option<bool>, o: &Observation) {
    if *was == Some(o.reachable) {
        return;
    }
    match (&o.error, o.reachable) {
        (_, true) => tracing::info!(role = ?o.role, "server reachable"),
        (Some(e), false) => tracing::warn!("server unreachable: {e}"),
        (None, false) => tracing::warn!("server unreachable"),
    }
    *was = Some(o.reachable);
}
