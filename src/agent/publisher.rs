//! The ZooKeeper side of the agent: its own session (replaced after expiry), the node's
//! ephemeral znode (created, re-registered in every new session, removed on shutdown), and
//! version-checked writes of the latest status — at once when [`change::significant`] says so,
//! otherwise every `heartbeat` so a stuck agent shows as stale. It only ever *reads* the latest
//! status from a `watch` channel, so a slow or refused ZooKeeper never delays a probe.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use zookeeper_client::{Acls, Client, CreateMode, Error as ZkError, SessionState};

use super::fence::Link;
use super::metrics::AgentMetrics;
use super::{change, primary};
use crate::cluster::config::PrimaryRecord;
use crate::cluster::status::NodeStatus;
use crate::cluster::ClusterPaths;
use crate::tls::TlsMode;
use crate::zk::session::{RECONNECT_BACKOFF_MAX_MS, RECONNECT_BACKOFF_MIN_MS};
use crate::zk::ZkAccess;

/// Longest a single ZooKeeper request may take before it counts as failed and is retried.
pub const ZK_REQUEST_TIMEOUT_MS: u64 = 3_000;
/// Pause before retrying a failed write (and before retrying to register while another
/// session holds the znode).
pub const PUBLISH_RETRY_MS: u64 = 500;
/// Longest the agent waits for ZooKeeper to confirm the session is closed on shutdown.
pub const CLOSE_TIMEOUT_MS: u64 = 2_000;

/// Where to publish.
#[derive(Debug, Clone)]
pub struct PublisherConfig {
    pub zk: ZkAccess,
    pub paths: ClusterPaths,
    pub node: String,
    /// Re-publish at least this often.
    pub heartbeat: Duration,
    /// Take part in the automatic-failover coordinator's election (`agent::coordinator`).
    pub coordinator: Option<super::coordinator::CoordinatorConfig>,
}

/// What the publisher keeps up to date for the other tasks.
pub struct Feeds {
    /// The `primary` record, as the session's watch has it.
    pub primary_tx: watch::Sender<Option<PrimaryRecord>>,
    /// The id of the session the record was last read in.
    pub record_read_tx: watch::Sender<i64>,
    /// The cluster config's `mysql.tls`.
    pub policy_tx: watch::Sender<Option<TlsMode>>,
    /// The cluster config's `failover.max_lag_s`.
    pub max_lag_tx: watch::Sender<Option<u64>>,
    pub link_tx: watch::Sender<Link>,
    pub metrics: Arc<AgentMetrics>,
}

/// Why serving one session stopped.
enum SessionEnd {
    Shutdown,
    Lost(SessionState),
}

/// Runs until `cancel` fires: then removes the znode, closes the session and returns.
pub async fn run(
    cfg: PublisherConfig,
    mut status_rx: watch::Receiver<Option<NodeStatus>>,
    feeds: Feeds,
    cancel: CancellationToken,
) {
    let Feeds { primary_tx, record_read_tx, policy_tx, max_lag_tx, link_tx, metrics } = feeds;
    let mut backoff = Duration::from_millis(RECONNECT_BACKOFF_MIN_MS);
    while !cancel.is_cancelled() {
        metrics.set_zk_state("connecting");
        let Some(client) = connect(&cfg, &cancel, &mut backoff).await else {
            metrics.set_zk_state("closed");
            return;
        };
        metrics.session_established();
        let session_cancel = cancel.child_token();
        let follower = tokio::spawn(primary::follow(
            client.clone(),
            cfg.paths.primary(),
            primary_tx.clone(),
            record_read_tx.clone(),
            session_cancel.clone(),
        ));
        let policy = tokio::spawn(primary::follow_config(
            client.clone(),
            cfg.paths.config(),
            policy_tx.clone(),
            max_lag_tx.clone(),
            session_cancel.clone(),
        ));
        let linker = tokio::spawn(track_link(client.clone(), link_tx.clone(), metrics.clone(), session_cancel.clone()));
        let coordinator = cfg
            .coordinator
            .clone()
            .map(|c| tokio::spawn(super::coordinator::run(client.clone(), c, metrics.clone(), session_cancel.clone())));
        let mut node = Registration::new(&cfg, &client, metrics.clone());
        let end = node.serve(&mut status_rx, &cancel).await;
        session_cancel.cancel();
        let _ = follower.await;
        let _ = policy.await;
        let _ = linker.await;
        if let Some(c) = coordinator {
            let _ = c.await;
        }
        set_link(&link_tx, None, false);
        match end {
            SessionEnd::Shutdown => {
                node.remove().await;
                close(client).await;
                metrics.set_zk_state("closed");
                return;
            }
            SessionEnd::Lost(state) => {
                metrics.set_zk_state(zk_state_name(state));
                metrics.session_lost(zk_state_name(state));
                tracing::warn!(?state, "ZooKeeper session lost; opening a new one and registering again");
            }
        }
    }
}

/// Keeps the fencing link up to date with this session's state, on its own task so that a
/// slow write never delays it (the lease counts from the moment the client noticed a cut).
async fn track_link(
    client: Client,
    link_tx: watch::Sender<Link>,
    metrics: Arc<AgentMetrics>,
    cancel: CancellationToken,
) {
    let mut states = client.state_watcher();
    set_link(&link_tx, Some(client.clone()), client.state() == SessionState::SyncConnected);
    metrics.set_zk_state(zk_state_name(client.state()));
    loop {
        let state = tokio::select! {
            _ = cancel.cancelled() => return,
            s = states.changed() => s,
        };
        metrics.set_zk_state(zk_state_name(state));
        if state.is_terminated() {
            set_link(&link_tx, None, false);
            return;
        }
        // A read-only member is cut off from the quorum: that is no link for the lease.
        set_link(&link_tx, Some(client.clone()), state == SessionState::SyncConnected);
    }
}

/// The name `myzoo_zk_session_state` gives a session state (one of `metrics::ZK_STATES`).
pub fn zk_state_name(state: SessionState) -> &'static str {
    match state {
        SessionState::SyncConnected => "connected",
        SessionState::ConnectedReadOnly => "read_only",
        SessionState::Disconnected => "disconnected",
        SessionState::Expired => "expired",
        SessionState::Closed | SessionState::AuthFailed => "closed",
    }
}

/// Records a link state; `since` moves only when `connected` changes.
fn set_link(link_tx: &watch::Sender<Link>, client: Option<Client>, connected: bool) {
    link_tx.send_modify(|link| {
        if link.connected != connected {
            link.since = Instant::now();
        }
        link.connected = connected;
        link.client = client;
    });
}

/// Connects with back-off; `None` when the agent is stopping.
async fn connect(cfg: &PublisherConfig, cancel: &CancellationToken, backoff: &mut Duration) -> Option<Client> {
    loop {
        // Bounded: with every server refusing, the client would otherwise keep cycling.
        let attempt = tokio::time::timeout(cfg.zk.session_timeout.max(request_timeout()), cfg.zk.connect());
        let result = tokio::select! {
            _ = cancel.cancelled() => return None,
            r = attempt => r,
        };
        match result {
            Ok(Ok(client)) => {
                *backoff = Duration::from_millis(RECONNECT_BACKOFF_MIN_MS);
                let auth = cfg.zk.auth_label().unwrap_or_else(|| "none".to_string());
                tracing::info!(session = %client.session_id(), connect = %cfg.zk.connect, %auth, "ZooKeeper session established");
                // ZooKeeper takes any digest credential; a wrong password would only show as
                // NoAuth on the first write, so it is said plainly (and the agent keeps trying:
                // a corrected file is read on the next start).
                if let Err(problem) =
                    crate::zk::auth::check(&client, cfg.zk.auth.as_ref(), &cfg.paths.nodes_dir()).await
                {
                    tracing::error!("{problem}");
                }
                return Some(client);
            }
            Ok(Err(e)) => tracing::warn!(connect = %cfg.zk.connect, "ZooKeeper connect failed: {e}"),
            Err(_) => tracing::warn!(connect = %cfg.zk.connect, "ZooKeeper connect timed out"),
        }
        tokio::select! {
            _ = cancel.cancelled() => return None,
            _ = tokio::time::sleep(*backoff) => {}
        }
        *backoff = (*backoff * 2).min(Duration::from_millis(RECONNECT_BACKOFF_MAX_MS));
    }
}

/// Time from `now` to the next multiple of `period` since the epoch (a whole period when
/// `now` is exactly on one).
pub fn until_next_boundary(now: SystemTime, period: Duration) -> Duration {
    let period_ms = u64::try_from(period.as_millis()).unwrap_or(u64::MAX).max(1);
    let now_ms = now.duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    Duration::from_millis(period_ms - now_ms % period_ms)
}

fn request_timeout() -> Duration {
    Duration::from_millis(ZK_REQUEST_TIMEOUT_MS)
}

/// Drops the last client, which makes the library send `CloseSession`, and waits (briefly) for
/// the session to report closed so the process does not exit before the request is sent.
async fn close(client: Client) {
    let mut states = client.state_watcher();
    let session = client.session_id();
    drop(client);
    let closed = async {
        while !states.peek_state().is_terminated() {
            states.changed().await;
        }
    };
    match tokio::time::timeout(Duration::from_millis(CLOSE_TIMEOUT_MS), closed).await {
        Ok(()) => tracing::info!(%session, "ZooKeeper session closed"),
        Err(_) => tracing::warn!(%session, "ZooKeeper did not confirm the session close in time"),
    }
}

/// The node's znode within one session.
struct Registration<'a> {
    client: &'a Client,
    path: String,
    node: String,
    heartbeat: Duration,
    /// Data version of our znode; `None` until created in this session.
    version: Option<i32>,
    last_published: Option<NodeStatus>,
    /// When the slow heartbeat is due: the next wall-clock multiple of `heartbeat` after the
    /// last write, so every agent's routine write lands at the same moments and the positions
    /// they publish (GTIDs above all) are equally fresh and comparable.
    heartbeat_due: Instant,
    retry_at: Option<Instant>,
    /// Last failure logged, so a persistent one is logged once.
    last_error: Option<String>,
    metrics: Arc<AgentMetrics>,
}

impl<'a> Registration<'a> {
    fn new(cfg: &PublisherConfig, client: &'a Client, metrics: Arc<AgentMetrics>) -> Registration<'a> {
        Registration {
            client,
            path: cfg.paths.node(&cfg.node),
            node: cfg.node.clone(),
            heartbeat: cfg.heartbeat,
            version: None,
            last_published: None,
            heartbeat_due: Instant::now(),
            retry_at: None,
            last_error: None,
            metrics,
        }
    }

    /// Publishes as statuses arrive until the agent stops or the session ends.
    async fn serve(
        &mut self,
        status_rx: &mut watch::Receiver<Option<NodeStatus>>,
        cancel: &CancellationToken,
    ) -> SessionEnd {
        let mut states = self.client.state_watcher();
        loop {
            let latest = status_rx.borrow_and_update().clone();
            let wake = match latest {
                Some(status) => self.maybe_publish(&status).await,
                None => None,
            };
            let sleep = async {
                match wake {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = cancel.cancelled() => return SessionEnd::Shutdown,
                state = states.changed() => {
                    if state.is_terminated() {
                        return SessionEnd::Lost(state);
                    }
                    tracing::info!(?state, "ZooKeeper session state");
                }
                changed = status_rx.changed() => {
                    if changed.is_err() {
                        return SessionEnd::Shutdown;
                    }
                }
                _ = sleep => {}
            }
        }
    }

    /// Writes `status` if it is due; returns when to look again even without a new status.
    async fn maybe_publish(&mut self, status: &NodeStatus) -> Option<Instant> {
        let now = Instant::now();
        let due = self.version.is_none()
            || self.last_published.as_ref().is_none_or(|p| change::significant(p, status))
            || now >= self.heartbeat_due;
        let may_try = self.retry_at.is_none_or(|at| now >= at);
        if due && may_try {
            match tokio::time::timeout(request_timeout(), self.publish(status)).await {
                Ok(Ok(())) => self.succeeded(status),
                Ok(Err(e)) => self.failed(format!("{e:#}")),
                Err(_) => self.failed(format!("ZooKeeper did not answer within {ZK_REQUEST_TIMEOUT_MS} ms")),
            }
            self.metrics.znode_written(self.retry_at.is_none());
        }
        // A past retry time (the status went back to what was published) must not spin.
        match self.retry_at {
            Some(at) if at > Instant::now() => Some(at),
            _ => Some(self.heartbeat_due),
        }
    }

    fn succeeded(&mut self, status: &NodeStatus) {
        if self.last_error.take().is_some() {
            tracing::info!(path = %self.path, "publishing again");
        }
        self.last_published = Some(status.clone());
        self.heartbeat_due = Instant::now() + until_next_boundary(SystemTime::now(), self.heartbeat);
        self.retry_at = None;
    }

    fn failed(&mut self, error: String) {
        if self.last_error.as_ref() != Some(&error) {
            tracing::warn!(path = %self.path, "cannot publish the status: {error}");
        }
        self.last_error = Some(error);
        self.retry_at = Some(Instant::now() + Duration::from_millis(PUBLISH_RETRY_MS));
    }

    async fn publish(&mut self, status: &NodeStatus) -> Result<()> {
        let data = serde_json::to_vec(status).context("encoding the status")?;
        match self.version {
            None => self.create(&data).await,
            Some(version) => self.update(&data, version).await,
        }
    }

    /// Version-checked write. A version mismatch (someone else wrote our znode) is resolved
    /// by re-reading; a vanished znode (deleted by hand) is created again.
    async fn update(&mut self, data: &[u8], version: i32) -> Result<()> {
        match self.client.set_data(&self.path, data, Some(version)).await {
            Ok(stat) => {
                self.version = Some(stat.version);
                Ok(())
            }
            Err(ZkError::BadVersion) => {
                let current = self.owned_version().await?;
                let stat = self.client.set_data(&self.path, data, Some(current)).await.context("rewriting")?;
                self.version = Some(stat.version);
                Ok(())
            }
            Err(ZkError::NoNode) => {
                tracing::warn!(path = %self.path, "our znode was deleted; registering again");
                self.version = None;
                self.create(data).await
            }
            Err(e) => Err(e).with_context(|| format!("writing {}", self.path)),
        }
    }

    async fn create(&mut self, data: &[u8]) -> Result<()> {
        // The node's znode gets the `nodes` folder's ACL; the folder is made (with its nearest
        // ancestor's) when the cluster was not seeded yet.
        let parent = self.path.rsplit_once('/').map_or("/", |(p, _)| p).to_string();
        let acl = crate::zk::acl::ensure_folder(self.client, &parent)
            .await
            .with_context(|| format!("reading the ACL of {parent}"))?;
        let options = CreateMode::Ephemeral.with_acls(Acls::new(&acl));
        let created = self.client.create(&self.path, data, &options).await;
        match created {
            Ok((stat, _)) => {
                self.version = Some(stat.version);
                tracing::info!(path = %self.path, session = %self.client.session_id(), "registered");
                Ok(())
            }
            Err(ZkError::NodeExists) => {
                // Ours when a create was retried after a lost connection; someone else's when
                // another agent serves this node, or our previous run's session has not expired
                // yet. Never fight over it: wait until it is gone.
                let current = self.owned_version().await?;
                let stat = self.client.set_data(&self.path, data, Some(current)).await.context("adopting")?;
                self.version = Some(stat.version);
                tracing::info!(path = %self.path, "registered (znode already ours)");
                Ok(())
            }
            Err(e) => Err(e).with_context(|| format!("creating {}", self.path)),
        }
    }

    /// The znode's current version, if this session owns it; an error naming the owner if not.
    async fn owned_version(&mut self) -> Result<i32> {
        let (_, stat) = self.client.get_data(&self.path).await.with_context(|| format!("reading {}", self.path))?;
        let ours = self.client.session_id().0;
        if stat.ephemeral_owner == ours {
            return Ok(stat.version);
        }
        self.version = None;
        anyhow::bail!(
            "{} is held by another ZooKeeper session ({:#x}): another agent for node {} is running, or this \
             agent's previous run has not expired yet; waiting for it to go",
            self.path,
            stat.ephemeral_owner,
            self.node
        )
    }

    /// Deletes our znode at once on shutdown. Closing the session would remove it too; the
    /// explicit delete makes the removal not depend on the close request getting out.
    async fn remove(&self) {
        if self.version.is_none() {
            return;
        }
        match tokio::time::timeout(request_timeout(), self.client.delete(&self.path, self.version)).await {
            Ok(Ok(())) | Ok(Err(ZkError::NoNode)) => tracing::info!(path = %self.path, "unregistered"),
            Ok(Err(e)) => tracing::warn!(path = %self.path, "removing the znode: {e}"),
            Err(_) => tracing::warn!(path = %self.path, "removing the znode timed out"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeats_land_on_wall_clock_multiples() {
        let period = Duration::from_millis(5_000);
        let at = |ms: u64| UNIX_EPOCH + Duration::from_millis(ms);
        assert_eq!(until_next_boundary(at(1_795_640_001_200), period), Duration::from_millis(3_800));
        assert_eq!(until_next_boundary(at(1_795_640_004_999), period), Duration::from_millis(1));
        assert_eq!(until_next_boundary(at(1_795_640_005_000), period), period, "on a boundary: the next one");
        // Two agents writing at different moments next meet at the same instant.
        let a = at(1_795_640_001_200) + until_next_boundary(at(1_795_640_001_200), period);
        let b = at(1_795_640_003_900) + until_next_boundary(at(1_795_640_003_900), period);
        assert_eq!(a, b);
    }
}
