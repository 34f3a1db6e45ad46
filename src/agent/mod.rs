//! `myzoo agent`: the daemon beside one MySQL/MariaDB server. It probes the server, publishes
//! the node's status as an ephemeral znode, and (when its node is the recorded primary) writes
//! the replication heartbeat. It never pulls in the console.
//!
//! Tasks, joined by `watch` channels so none ever waits for another:
//! ```text
//! probe_loop ──(latest NodeStatus)──► publisher ── ZooKeeper session, ephemeral znode
//!     ▲                                   │
//!     └──────(recorded primary)──── primary::follow (data watch on <cluster>/primary)
//! ```
//! With `--http`, `http` serves `/primary`, `/replica`, `/health` and `/metrics` from the same
//! channels (`endpoints` decides what they answer; `metrics` holds the Prometheus metrics).
//!
//! SIGTERM/SIGINT cancel one token: the probe loop stops, the publisher deletes the znode and
//! closes the session, and the process exits 0. Fencing (`fence`) runs in the probe loop after
//! every probe, on the link state the publisher keeps (`fence::Link`).

pub mod change;
pub mod coordinator;
pub mod endpoints;
pub mod fence;
pub mod http;
pub mod metrics;
pub mod primary;
pub mod probe_loop;
pub mod publisher;
pub mod schedule;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::cluster::status::{AgentInfo, Endpoint};
use crate::mysql::probe::Prober;
use crate::mysql::Target;
use probe_loop::StatusBase;
use publisher::{Feeds, PublisherConfig};

/// A probe may take at most this share of the interval, so probes never overlap.
pub const PROBE_TIMEOUT_PERCENT: u32 = 80;
/// Longest the HTTP endpoints may take to close their connections on shutdown.
const HTTP_SHUTDOWN_MS: u64 = 2_000;

/// Everything the agent needs, resolved from flags, profile and environment by its front end
/// (`commands::agent`).
#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub publisher: PublisherConfig,
    pub target: Target,
    pub interval: Duration,
    /// Fencing lease (`agent::fence`); `None` turns the lease off.
    pub lease: Option<Duration>,
    /// Where to serve the HTTP endpoints (`agent::http`); `None`: not at all. Port 0 picks a
    /// free port; the address actually bound is published in the node's status.
    pub http: Option<SocketAddr>,
}

/// Runs the agent until SIGTERM or SIGINT, then returns after a clean shutdown (znode removed,
/// session closed).
pub async fn run_until_signal(cfg: AgentConfig) -> Result<()> {
    let cancel = CancellationToken::new();
    let signals = tokio::spawn(stop_on_signal(cancel.clone()));
    let result = run_agent(cfg, cancel).await;
    signals.abort();
    result
}

/// Runs the agent until `cancel` fires; returns once the znode is removed and the session
/// closed. Usable in-process (tests) as well as from `myzoo agent`.
pub async fn run_agent(cfg: AgentConfig, cancel: CancellationToken) -> Result<()> {
    let listener = match cfg.http {
        Some(addr) => Some(http::bind(addr).await.with_context(|| format!("serving HTTP on {addr}"))?),
        None => None,
    };
    let base = StatusBase {
        cluster: cfg.publisher.paths.cluster.clone(),
        node: cfg.publisher.node.clone(),
        agent: AgentInfo {
            host: hostname(),
            pid: std::process::id(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            interval_ms: millis(cfg.interval),
            heartbeat_ms: millis(cfg.publisher.heartbeat),
            http: listener.as_ref().map(|(_, published)| published.clone()),
        },
        server: Endpoint { host: cfg.target.host.clone(), port: cfg.target.port },
    };
    tracing::info!(
        node = %base.node, cluster = %base.cluster, server = %cfg.target.address(), user = %cfg.target.user,
        interval_ms = base.agent.interval_ms, mysql_tls = cfg.target.tls.mode.as_str(), "agent starting"
    );
    let prober = Prober::new(cfg.target.clone(), &base.node, probe_timeout(cfg.interval));
    let (status_tx, status_rx) = watch::channel(None);
    let (primary_tx, primary_rx) = watch::channel(None);
    let (policy_tx, policy_rx) = watch::channel(None);
    let (link_tx, link_rx) = watch::channel(fence::Link::down(tokio::time::Instant::now()));
    let (max_lag_tx, max_lag_rx) = watch::channel(None);
    let (record_read_tx, record_read_rx) = watch::channel(0i64);
    let metrics = Arc::new(metrics::AgentMetrics::new(&base.cluster, &base.node));
    let serving = listener.map(|(listener, _)| {
        let sources = http::Sources {
            node: base.node.clone(),
            interval_ms: base.agent.interval_ms,
            status_rx: status_rx.clone(),
            primary_rx: primary_rx.clone(),
            link_rx: link_rx.clone(),
            record_read_rx,
            max_lag_rx,
            metrics: metrics.clone(),
        };
        tokio::spawn(http::serve(listener, sources, cancel.clone()))
    });
    let fencer = fence::Fencer::new(&base.node, cfg.publisher.paths.primary(), cfg.lease);
    let probing = tokio::spawn(probe_loop::run(
        prober,
        base,
        cfg.interval,
        probe_loop::Channels { primary_rx, policy_rx, link_rx, tx: status_tx, metrics: metrics.clone() },
        fencer,
        cancel.clone(),
    ));
    let feeds = Feeds { primary_tx, record_read_tx, policy_tx, max_lag_tx, link_tx, metrics };
    let publishing = tokio::spawn(publisher::run(cfg.publisher, status_rx, feeds, cancel.clone()));
    let (probed, published) = tokio::join!(probing, publishing);
    probed.context("the probe loop failed")?;
    published.context("the publisher failed")?;
    if let Some(mut serving) = serving {
        // Graceful shutdown waits for open connections; a client holding one half-sent must
        // not keep the agent from exiting.
        match tokio::time::timeout(Duration::from_millis(HTTP_SHUTDOWN_MS), &mut serving).await {
            Ok(done) => done.context("the HTTP endpoints failed")?,
            Err(_) => serving.abort(),
        }
    }
    tracing::info!("agent stopped");
    Ok(())
}

/// [`PROBE_TIMEOUT_PERCENT`] of the interval.
pub fn probe_timeout(interval: Duration) -> Duration {
    interval * PROBE_TIMEOUT_PERCENT / 100
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

async fn stop_on_signal(cancel: CancellationToken) {
    use tokio::signal::unix::{signal, SignalKind};
    let (mut term, mut int) = match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(t), Ok(i)) => (t, i),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!("cannot listen for SIGTERM/SIGINT: {e}");
            return;
        }
    };
    let name = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    tracing::info!("{name} received; stopping");
    cancel.cancel();
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_timeout_is_shorter_than_the_interval() {
        assert_eq!(probe_timeout(Duration::from_millis(1000)), Duration::from_millis(800));
        assert!(probe_timeout(Duration::from_millis(100)) < Duration::from_millis(100));
    }
}
