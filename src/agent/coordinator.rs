//! Automatic failover: the agents of a cluster elect one coordinator through ZooKeeper
//! (ephemeral sequential znodes under `<cluster>/coordinator/`; the lowest leads), and the
//! leader watches the recorded primary. After `failover.confirmations` consecutive looks that
//! find it down (its agent's znode gone, or reporting the server unreachable), it plans the
//! unplanned failover — whose observers confirm again, directly and through the replicas — and
//! runs it when the plan can run. Its writes of the `primary` record also check its own
//! election znode, so a deposed coordinator cannot promote.
//!
//! Anti-flapping: after an automatic failover, automatic failover is blocked for
//! `failover.cooldown_s` unless an operator acknowledges it (`myzoo ack`, `:ack`). With
//! `failover.paused` it does nothing. Its state (on / off / paused / blocked until …, and why it
//! would not act right now) is written into the `coordinator/` znode's data for the console
//! and `myzoo status`. With `failover.auto_rejoin` it also rejoins a node that is back, read-only
//! and not replicating, when it has no errant transactions. And whatever the config says, it
//! finishes or rolls back an operation left running by a dead owner (`failover::recover`).

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use zookeeper_client::{Acls, Client, CreateMode, Error as ZkError};

use super::metrics::AgentMetrics;
use crate::audit::{self, AuditRecord, AUDIT_SCHEMA};
use crate::cluster::ClusterPaths;
use crate::failover::journal::OpState;
use crate::failover::unplanned::FailoverOptions;
use crate::failover::view::ClusterView;
use crate::failover::{now_ms, rejoin, unplanned, Access, Operator};
use crate::ops::actor::Actor;
use crate::zk::{child_path, describe_error};

/// Name prefix of the election znodes.
pub const CANDIDATE_PREFIX: &str = "c-";
/// Pause after an error before trying again.
const RETRY_MS: u64 = 1_000;

pub use crate::cluster::coordinator::{parse_state, CoordinatorState};

/// Reads the state and its version (an empty or unreadable one reads as the default).
pub async fn read_state(client: &Client, paths: &ClusterPaths) -> Result<(CoordinatorState, i32), ZkError> {
    match client.get_data(&paths.coordinator_dir()).await {
        Ok((data, stat)) => Ok((parse_state(&data), stat.version)),
        Err(ZkError::NoNode) => Ok((CoordinatorState::default(), -1)),
        Err(e) => Err(e),
    }
}

/// Changes the state with a version-checked write, retrying on a concurrent change.
pub async fn update_state(
    client: &Client,
    paths: &ClusterPaths,
    change: impl Fn(&mut CoordinatorState),
) -> Result<CoordinatorState, ZkError> {
    let dir = paths.coordinator_dir();
    loop {
        let (mut state, version) = read_state(client, paths).await?;
        if version < 0 {
            crate::zk::acl::ensure_folder(client, &dir).await?;
            continue;
        }
        let before = state.clone();
        change(&mut state);
        if state == before {
            return Ok(state);
        }
        let data = serde_json::to_vec(&state).map_err(|e| ZkError::UnexpectedError(e.to_string()))?;
        match client.set_data(&dir, &data, Some(version)).await {
            Ok(_) => return Ok(state),
            Err(ZkError::BadVersion) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// What an acknowledgement did.
#[derive(Debug, Clone)]
pub struct Acknowledged {
    /// The state as written.
    pub state: CoordinatorState,
    /// `user@host` of the operator, as recorded in `acked_by`.
    pub by: String,
    /// Whether automatic failover is still blocked (the cool-down was not the block, or a newer
    /// automatic failover came after the acknowledgement).
    pub still_blocked: bool,
    /// The audit record could not be written (the acknowledgement itself was).
    pub audit_error: Option<String>,
}

/// Acknowledges the last automatic failover for every front end (`myzoo ack`, the console's
/// `:ack`): records `acked_ms`/`acked_by` in the coordinator's state, which lifts the cool-down
/// at once, and appends an audit record. `origin` is the front end (`cli`, `console`). The
/// caller refuses in read-only mode.
pub async fn acknowledge(
    client: &Client,
    paths: &ClusterPaths,
    actor: &Actor,
    origin: &str,
) -> anyhow::Result<Acknowledged> {
    let cluster = &paths.cluster;
    let exists = client.check_stat(&paths.config()).await.map_err(|e| anyhow::anyhow!(describe_error(&e)))?;
    anyhow::ensure!(exists.is_some(), "no cluster named {cluster:?}");
    let now = audit::now_ms();
    let by = format!("{}@{}", actor.user, actor.host);
    let state = update_state(client, paths, |s| {
        s.acked_ms = Some(now);
        s.acked_by = Some(by.clone());
    })
    .await
    .map_err(|e| anyhow::anyhow!("{}: {}", paths.coordinator_dir(), describe_error(&e)))?;
    let record = AuditRecord {
        schema: AUDIT_SCHEMA,
        time_ms: now,
        user: actor.user.clone(),
        host: actor.host.clone(),
        ssh_client: actor.ssh_client.clone(),
        action: "ack".into(),
        path: paths.coordinator_dir(),
        version_before: None,
        version_after: None,
        digest_before: None,
        digest_after: None,
        result: "ok".into(),
        origin: origin.into(),
        detail: Some("acknowledged the last automatic failover; the cool-down is lifted".into()),
    };
    let audit_error = audit::append(client, &paths.root, &record).await.err().map(|e| e.to_string());
    let still_blocked = state.blocked(audit::now_ms());
    Ok(Acknowledged { state, by, still_blocked, audit_error })
}

/// What the coordinator needs besides its session.
#[derive(Debug, Clone)]
pub struct CoordinatorConfig {
    pub paths: ClusterPaths,
    pub node: String,
    pub access: Access,
    /// How often the leader looks (the agent's probe interval).
    pub interval: Duration,
    /// Where scheduled snapshots go (`backup.zk_interval_s`); `None`: none are taken.
    pub backup: Option<crate::backup::StoreAccess>,
    /// How the agent reaches ZooKeeper: its connect string is recorded with each scheduled
    /// snapshot, which opens its ACL reads' sessions the same way.
    pub zk: crate::zk::ZkAccess,
}

/// Runs for one ZooKeeper session: takes part in the election, and leads when elected.
pub async fn run(client: Client, cfg: CoordinatorConfig, metrics: Arc<AgentMetrics>, cancel: CancellationToken) {
    let ours = match enter(&client, &cfg).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!("coordinator election: cannot enter: {}", describe_error(&e));
            return;
        }
    };
    loop {
        match lowest(&client, &cfg.paths).await {
            Ok((Some(first), _)) if first == ours => break,
            Ok((_, watcher)) => {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = watcher.changed() => continue,
                }
            }
            Err(e) => {
                tracing::debug!("coordinator election: {}", describe_error(&e));
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_millis(RETRY_MS)) => continue,
                }
            }
        }
    }
    tracing::info!(election = %ours, "elected coordinator of cluster {}", cfg.paths.cluster);
    let _leading = metrics.leading();
    lead(&client, &cfg, &ours, &metrics, &cancel).await;
}

async fn enter(client: &Client, cfg: &CoordinatorConfig) -> Result<String, ZkError> {
    let dir = cfg.paths.coordinator_dir();
    let acl = crate::zk::acl::ensure_folder(client, &dir).await?;
    let data = serde_json::json!({"node": cfg.node, "pid": std::process::id()}).to_string();
    let prefix = child_path(&dir, CANDIDATE_PREFIX);
    let (_, seq) =
        client.create(&prefix, data.as_bytes(), &CreateMode::EphemeralSequential.with_acls(Acls::new(&acl))).await?;
    Ok(format!("{prefix}{seq}"))
}

/// The lowest election znode, and a watcher on the folder's children.
async fn lowest(
    client: &Client,
    paths: &ClusterPaths,
) -> Result<(Option<String>, zookeeper_client::OneshotWatcher), ZkError> {
    let dir = paths.coordinator_dir();
    let (mut names, _, watcher) = client.get_and_watch_children(&dir).await?;
    names.retain(|n| n.starts_with(CANDIDATE_PREFIX));
    names.sort();
    Ok((names.first().map(|n| child_path(&dir, n)), watcher))
}

/// The leader's loop: look every interval until the session or the agent ends.
async fn lead(
    client: &Client,
    cfg: &CoordinatorConfig,
    ours: &str,
    metrics: &AgentMetrics,
    cancel: &CancellationToken,
) {
    let op = Operator {
        client: client.clone(),
        paths: cfg.paths.clone(),
        access: cfg.access.clone(),
        actor: Actor { user: format!("coordinator@{}", cfg.node), ..Actor::from_env() },
        origin: "coordinator".into(),
        read_only: false,
        guard: Some(ours.to_string()),
    };
    let mut suspect = 0u32;
    let mut last_reason = String::new();
    let mut schedule = cfg.backup.clone().map(|store| super::schedule::Schedule::new(store, cfg.zk.clone()));
    let mut ticker = tokio::time::interval(cfg.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = ticker.tick() => {}
        }
        if client.state().is_terminated() {
            return;
        }
        // Still the leader? (A znode taken by an expired session is gone.)
        match client.check_stat(ours).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                tracing::warn!("our election znode is gone: no longer the coordinator");
                return;
            }
            Err(_) => continue,
        }
        let (mode, reason) = match look(&op, cfg, metrics, &mut suspect).await {
            Ok(v) => v,
            Err(e) => ("on".to_string(), format!("cannot read the cluster: {e:#}")),
        };
        if reason != last_reason {
            tracing::info!(%mode, "coordinator: {reason}");
            last_reason = reason.clone();
        }
        if let Some(schedule) = &mut schedule {
            schedule.tick(client, &cfg.paths, &cfg.node);
        }
        let backup = schedule.as_ref().and_then(|s| s.last.clone());
        let leader = cfg.node.clone();
        if let Err(e) = update_state(client, &cfg.paths, |s| {
            s.leader = leader.clone();
            s.mode = mode.clone();
            s.reason = reason.clone();
            if backup.is_some() {
                s.backup = backup.clone();
            }
        })
        .await
        {
            tracing::debug!("coordinator state: {}", describe_error(&e));
        }
    }
}

/// An operation left running while nobody holds the lock: its owner died; finish it or roll it
/// back (whatever `failover.automatic` says — a fenced primary left behind is worse).
async fn recover(op: &Operator) -> anyhow::Result<Option<String>> {
    let newest = crate::failover::journal::list(&op.client, &op.paths, 1).await?;
    if !newest.iter().any(|(_, _, r)| r.state == OpState::Running) {
        return Ok(None);
    }
    let info = crate::failover::lock::LockInfo {
        operation: "recover".into(),
        user: op.actor.user.clone(),
        host: op.actor.host.clone(),
        pid: std::process::id(),
        origin: op.origin.clone(),
        since_ms: now_ms(),
    };
    // Held: its owner is alive and at work.
    let Ok(lock) = crate::failover::lock::acquire(&op.client, &op.paths, &info).await else {
        return Ok(None);
    };
    let done = crate::failover::recover::recover_orphans(op, &lock).await;
    lock.release(&op.client).await;
    Ok(Some(done?.join("; ")).filter(|s| !s.is_empty()))
}

/// One look: returns the mode and the reason to publish.
async fn look(
    op: &Operator,
    cfg: &CoordinatorConfig,
    metrics: &AgentMetrics,
    suspect: &mut u32,
) -> anyhow::Result<(String, String)> {
    if let Some(done) = recover(op).await? {
        return Ok(("on".into(), format!("recovered: {done}")));
    }
    let view = ClusterView::read(&op.client, &op.paths).await?;
    let f = &view.config.failover;
    let primary = view.primary.node.clone();
    if !f.automatic {
        *suspect = 0;
        return Ok(("off".into(), "automatic failover is off in the cluster config".into()));
    }
    if f.paused {
        *suspect = 0;
        return Ok(("paused".into(), "paused for maintenance (failover.paused)".into()));
    }
    let (state, _) = read_state(&op.client, &op.paths).await?;
    let now = now_ms();
    if state.blocked(now) {
        *suspect = 0;
        let until = crate::zk::format::utc_timestamp(state.blocked_until_ms.unwrap_or(now));
        return Ok((
            "blocked".into(),
            format!("cool-down after the last automatic failover, until {until} UTC (myzoo ack lifts it)"),
        ));
    }
    if f.auto_rejoin {
        auto_rejoin(op, &view).await;
    }
    let down = match view.statuses.get(&primary) {
        None => Some(format!("{primary}'s agent is gone")),
        Some(s) if !s.reachable => Some(format!("{primary} unreachable: {}", s.error.as_deref().unwrap_or("?"))),
        Some(_) => None,
    };
    let Some(why) = down else {
        *suspect = 0;
        return Ok(("on".into(), crate::cluster::coordinator::watching_reason(&primary)));
    };
    *suspect += 1;
    if *suspect < f.confirmations {
        return Ok(("on".into(), format!("{why}: {} of {} confirmations", suspect, f.confirmations)));
    }
    let prepared = unplanned::plan(op, &FailoverOptions::default()).await?;
    if !prepared.plan.can_run() {
        return Ok(("on".into(), format!("{why}, but the failover is refused: {}", prepared.plan.refusals.join("; "))));
    }
    tracing::warn!("{why}: automatic failover of cluster {} starts", op.paths.cluster);
    let record = match unplanned::run(op, prepared, Some(&op.paths.cluster), &|_| {}).await {
        Ok(r) => r,
        Err(e) => {
            metrics.failover_run("error");
            return Err(e);
        }
    };
    metrics.failover_run(&record.state.label().replace(' ', "_"));
    *suspect = 0;
    if record.epoch_after.is_some() {
        let cooldown_ms = i64::try_from(f.cooldown_s.saturating_mul(1000)).unwrap_or(i64::MAX);
        let finished = record.finished_ms.unwrap_or_else(now_ms);
        update_state(&op.client, &op.paths, |s| {
            s.last_failover_ms = Some(finished);
            s.blocked_until_ms = Some(finished.saturating_add(cooldown_ms));
        })
        .await
        .map_err(|e| anyhow::anyhow!(describe_error(&e)))?;
    }
    let _ = cfg;
    Ok((
        if record.state == OpState::Done { "blocked" } else { "on" }.into(),
        format!("automatic failover {}: {}", record.state.label(), record.outcome.unwrap_or_default()),
    ))
}

/// Rejoins nodes that are back: reachable, read-only, not replicating, not the primary.
async fn auto_rejoin(op: &Operator, view: &ClusterView) {
    for (name, s) in &view.statuses {
        if *name == view.primary.node || !s.reachable || s.read_only != Some(true) || s.replication.is_some() {
            continue;
        }
        let prepared = match rejoin::plan(op, name).await {
            Ok(p) if p.plan.can_run() => p,
            Ok(p) => {
                tracing::info!("not rejoining {name}: {}", p.plan.refusals.join("; "));
                continue;
            }
            Err(e) => {
                tracing::debug!("planning a rejoin of {name}: {e:#}");
                continue;
            }
        };
        match rejoin::run(op, prepared, Some(&op.paths.cluster), &|_| {}).await {
            Ok(r) => tracing::info!("rejoin of {name}: {}", r.state.label()),
            Err(e) => tracing::warn!("rejoin of {name}: {e:#}"),
        }
    }
}
