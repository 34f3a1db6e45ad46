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
//! SIGTERM/SIGINT cancel one token: the probe loop stops, the publisher deletes the znode and
//! closes the session, and the process exits 0. Later, failover election and fencing will be
//! further tasks on the same session and token.

pub mod change;
pub mod primary;
pub mod probe_loop;
pub mod publisher;

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::cli::AgentArgs;
use crate::cluster::status::{AgentInfo, Endpoint};
use crate::cluster::ClusterPaths;
use crate::config::Overrides;
use crate::mysql::probe::Prober;
use crate::mysql::Target;
use probe_loop::StatusBase;
use publisher::PublisherConfig;

/// Environment variable holding the MySQL password when no `--mysql-password-file` is given.
pub const PASSWORD_ENV: &str = "MYZOO_MYSQL_PASSWORD";
/// A probe may take at most this share of the interval, so probes never overlap.
pub const PROBE_TIMEOUT_PERCENT: u32 = 80;
/// Log filter when `MYZOO_LOG` is not set: a daemon reports its state changes.
const DEFAULT_LOG_FILTER: &str = "info";

/// Everything the agent needs, resolved from flags, profile and environment.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub publisher: PublisherConfig,
    pub target: Target,
    pub interval: Duration,
}

/// Entry point of `myzoo agent`: exits 0 after a clean shutdown on SIGTERM/SIGINT.
pub fn run(rt: &tokio::runtime::Runtime, zk: Overrides, args: AgentArgs) -> Result<ExitCode> {
    match &zk.log_file {
        Some(path) => crate::logging::to_file(path)?,
        None => log_to_stderr(),
    }
    let resolved = crate::config::resolve(&zk)?;
    let password = read_password(args.mysql_password_file.as_deref())?;
    let cfg = AgentConfig {
        publisher: PublisherConfig {
            connect: resolved.connect,
            session_timeout: Duration::from_millis(resolved.session_timeout_ms),
            paths: ClusterPaths::new(&resolved.root, &args.cluster),
            node: args.node.clone(),
            heartbeat: Duration::from_millis(args.heartbeat_ms),
        },
        target: Target { host: args.mysql_host, port: args.mysql_port, user: args.mysql_user, password },
        interval: Duration::from_millis(args.interval_ms),
    };
    rt.block_on(async {
        let cancel = CancellationToken::new();
        let signals = tokio::spawn(stop_on_signal(cancel.clone()));
        let result = run_agent(cfg, cancel).await;
        signals.abort();
        result
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Runs the agent until `cancel` fires; returns once the znode is removed and the session
/// closed. Usable in-process (tests) as well as from `myzoo agent`.
pub async fn run_agent(cfg: AgentConfig, cancel: CancellationToken) -> Result<()> {
    let base = StatusBase {
        cluster: cfg.publisher.paths.cluster.clone(),
        node: cfg.publisher.node.clone(),
        agent: AgentInfo {
            host: hostname(),
            pid: std::process::id(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            interval_ms: millis(cfg.interval),
            heartbeat_ms: millis(cfg.publisher.heartbeat),
        },
        server: Endpoint { host: cfg.target.host.clone(), port: cfg.target.port },
    };
    tracing::info!(
        node = %base.node, cluster = %base.cluster, server = %cfg.target.address(), user = %cfg.target.user,
        interval_ms = base.agent.interval_ms, "agent starting"
    );
    let prober = Prober::new(cfg.target.clone(), &base.node, probe_timeout(cfg.interval));
    let (status_tx, status_rx) = watch::channel(None);
    let (primary_tx, primary_rx) = watch::channel(None);
    let probing = tokio::spawn(probe_loop::run(prober, base, cfg.interval, primary_rx, status_tx, cancel.clone()));
    let publishing = tokio::spawn(publisher::run(cfg.publisher, status_rx, primary_tx, cancel.clone()));
    let (probed, published) = tokio::join!(probing, publishing);
    probed.context("the probe loop failed")?;
    published.context("the publisher failed")?;
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

/// The password from the file's first line, else from [`PASSWORD_ENV`], else none.
fn read_password(file: Option<&Path>) -> Result<Option<String>> {
    if let Some(path) = file {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading the password file {}", path.display()))?;
        return Ok(Some(text.lines().next().unwrap_or_default().to_string()));
    }
    Ok(std::env::var(PASSWORD_ENV).ok())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// Without `--log-file`, info and above go to stderr (a service manager keeps them).
fn log_to_stderr() {
    crate::logging::to_stderr_at(DEFAULT_LOG_FILTER);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_timeout_is_shorter_than_the_interval() {
        assert_eq!(probe_timeout(Duration::from_millis(1000)), Duration::from_millis(800));
        assert!(probe_timeout(Duration::from_millis(100)) < Duration::from_millis(100));
    }

    #[test]
    fn password_file_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "s3cret\nignored\n").unwrap();
        assert_eq!(read_password(Some(&path)).unwrap().as_deref(), Some("s3cret"));
        assert!(read_password(Some(&dir.path().join("missing"))).is_err());
    }
}
