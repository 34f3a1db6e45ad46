//! The planned switchover: plan (fresh probes of every node, ranking, preflight), then the
//! steps under the cluster lock, each one journaled:
//!
//! ```text
//! lock → check → [pre-hook] → fence-old → catch-up → stop-replica → record → open-new → repoint → [post-hook]
//! ```
//! The `record` step (the `primary` znode, epoch + 1, in one multi-op that also checks our lock
//! znode and the record's version) is the point of no return. A failure before it rolls back:
//! the candidate replicates again and the old primary is made writable again, and the journal
//! says which step failed and why. After it, the operation goes forward: the new primary is
//! opened and the others are pointed at it; a server that cannot be repointed is reported.
//!
//! Writes are refused from `fence-old` to `open-new`; that window is measured and journaled.
//! The new primary is opened only after the record names it, because every agent keeps a
//! server that is not the recorded primary read-only.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::journal::{Journal, OpState, Owner, Record, StepState};
use super::lock::{self, ClusterLock, LockInfo};
use super::plan::{Candidate, NodePosition, OpKind, Plan, PlannedStep};
use super::rank::{self, Facts, Purpose, RankInput, Ranked};
use super::server::Server;
use super::view::ClusterView;
use super::{hooks, now_ms, Operator};
use crate::audit::{self, AuditRecord, AUDIT_SCHEMA};
use crate::cluster::config::PrimaryRecord;
use crate::cluster::status::{Flavor, ServerRole};
use crate::mysql::probe::{Observation, Prober};
use crate::mysql::Target;
use crate::zk::describe_error;

/// Longest a planning probe of one server may take.
const PLAN_PROBE_TIMEOUT_MS: u64 = 2_000;
/// Fixed part of the expected write-block window: fence, stop, record, open (loopback-fast
/// servers take tens of milliseconds; the estimate is deliberately generous).
const BLOCK_BASE_MS: u64 = 150;
/// Longest we try to learn whether a `record` write whose answer was lost was applied.
const RECORD_RESOLVE_TIMEOUT_MS: u64 = 10_000;

/// A plan and what running it needs.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub plan: Plan,
    /// Every node of a cluster runs one flavour: the old primary's (MariaDB when unknown).
    pub flavor: Flavor,
    pub view: ClusterView,
    pub targets: BTreeMap<String, Target>,
}

/// Builds the plan from fresh probes of every node; never changes anything.
pub async fn plan(op: &Operator, to: Option<&str>) -> Result<Prepared> {
    let view = ClusterView::read(&op.client, &op.paths).await?;
    let old = view.primary.node.clone();
    let mut targets = BTreeMap::new();
    for name in view.names() {
        let target = view.target(&name, &op.access).with_context(|| format!("node {name} has no address"))?;
        targets.insert(name, target);
    }
    anyhow::ensure!(targets.contains_key(&old), "the recorded primary {old} is not in the cluster's config");
    let observed = observe_all(&targets).await;
    let mut refusals = Vec::new();
    let mut warnings = Vec::new();
    if let Some(to) = to {
        if to == old {
            refusals.push(format!("{to} is already the primary"));
        } else if !targets.contains_key(to) {
            refusals.push(format!("{to} is not a node of cluster {}", op.paths.cluster));
        }
    }
    let old_obs = &observed[&old];
    let flavor = old_obs.flavor.unwrap_or(Flavor::Mariadb);
    let primary_position = if old_obs.reachable { primary_position(old_obs) } else { None };
    if !old_obs.reachable {
        refusals.push(format!(
            "the primary {old} is unreachable ({}): a switchover needs it; see `myzoo failover`",
            old_obs.error.as_deref().unwrap_or("no answer")
        ));
    } else if old_obs.role == ServerRole::Replica {
        refusals.push(format!("the recorded primary {old} is itself replicating"));
    } else if old_obs.read_only == Some(true) {
        warnings.push(format!("the primary {old} is already read-only"));
    }
    if old_obs.reachable {
        match long_transactions(&targets[&old], view.config.failover.long_transaction_s).await {
            Ok(found) if !found.is_empty() => refusals.push(format!(
                "transactions open on {old} for longer than {} s (thread: seconds): {}",
                view.config.failover.long_transaction_s,
                found.iter().map(|(id, s)| format!("{id}: {s}")).collect::<Vec<_>>().join(", ")
            )),
            Ok(_) => {}
            Err(e) => refusals.push(format!("cannot check {old} for long transactions: {e:#}")),
        }
    }
    let old_target = &targets[&old];
    let mut facts = Vec::new();
    for name in view.names().into_iter().filter(|n| *n != old) {
        let obs = &observed[&name];
        let no_promote = view.node(&name).is_some_and(|n| n.no_promote);
        match &obs.replication {
            _ if !obs.reachable => refusals.push(format!(
                "every replica must be replicating: {name} is unreachable ({})",
                obs.error.as_deref().unwrap_or("no answer")
            )),
            None => refusals.push(format!("every replica must be replicating: {name} is not a replica")),
            Some(r) if !r.io_ok() || !r.sql_ok() => refusals.push(format!(
                "every replica must be replicating: {name} has IO thread {} and SQL thread {}{}",
                r.io_running,
                r.sql_running,
                [&r.last_io_error, &r.last_sql_error]
                    .iter()
                    .filter(|e| !e.is_empty())
                    .map(|e| format!(" ({e})"))
                    .collect::<String>()
            )),
            Some(r) if r.source_port != old_target.port => {
                warnings.push(format!("{name} replicates from {}:{}, not from {old}", r.source_host, r.source_port))
            }
            Some(_) => {}
        }
        facts.push(facts_of(&name, obs, no_promote));
    }
    let input = RankInput {
        purpose: Purpose::Switchover,
        old_primary: &old,
        primary_position: primary_position.as_deref(),
        flavor,
        nodes: &facts,
        max_lag_ms: i64::try_from(view.config.failover.max_lag_s.saturating_mul(1000)).unwrap_or(i64::MAX),
        wanted: to,
    };
    let ranked = rank::rank(&input);
    let candidate = ranked.iter().find(|r| r.eligible).map(|r| r.node.clone());
    if candidate.is_none() && refusals.is_empty() {
        refusals.push("no replica is safe to promote (see the reasons under each candidate)".into());
    }
    let candidate_lag =
        candidate.as_ref().and_then(|c| facts.iter().find(|f| &f.node == c)).and_then(|f| f.lag_ms).unwrap_or(0);
    let catch_up_ms = view.config.failover.catch_up_timeout_ms;
    let positions = view
        .names()
        .iter()
        .map(|n| {
            let obs = &observed[n];
            NodePosition {
                node: n.clone(),
                role: if !obs.reachable {
                    "down".into()
                } else if *n == old {
                    "primary".into()
                } else {
                    "replica".into()
                },
                position: if *n == old { primary_position.clone() } else { obs.gtid.position().map(str::to_string) },
                read_only: obs.read_only,
            }
        })
        .collect();
    let plan = Plan {
        kind: OpKind::Switchover,
        cluster: op.paths.cluster.clone(),
        old_primary: old.clone(),
        epoch: view.primary.epoch,
        candidate: candidate.clone(),
        candidates: ranked.iter().map(candidate_view).collect(),
        positions,
        steps: steps(&view, &old, candidate.as_deref().unwrap_or("?"), catch_up_ms),
        expected_block_ms: BLOCK_BASE_MS + u64::try_from(candidate_lag.max(0)).unwrap_or(0).min(catch_up_ms),
        refusals,
        warnings,
    };
    Ok(Prepared { plan, flavor, view, targets })
}

pub fn candidate_view(r: &Ranked) -> Candidate {
    Candidate {
        node: r.node.clone(),
        eligible: r.eligible,
        reasons: r.reasons.clone(),
        received: r.received.clone(),
        applied: r.applied.clone(),
        behind: r.behind,
        errant: r.errant.clone(),
    }
}

fn steps(view: &ClusterView, old: &str, new: &str, catch_up_ms: u64) -> Vec<PlannedStep> {
    let others: Vec<String> = view.names().into_iter().filter(|n| n != new).collect();
    let mut steps = vec![
        step("lock", "take the cluster lock"),
        step("check", &format!("re-read the primary record and {new}; stop if anything moved")),
    ];
    if view.config.hooks.pre_switchover.is_some() {
        steps.push(step("pre-hook", "run the pre-switchover hook (a failure aborts)"));
    }
    steps.extend([
        step("fence-old", &format!("make {old} read-only and end its client sessions; read its last position")),
        step("catch-up", &format!("wait until {new} has applied {old}'s last transaction (at most {catch_up_ms} ms)")),
        step("stop-replica", &format!("stop replication on {new}; check nothing reached {old} since the fence")),
        step(
            "record",
            &format!(
                "record {new} as primary, epoch {} (checked against the lock and the record's version)",
                view.primary.epoch + 1
            ),
        ),
        step("open-new", &format!("forget {new}'s replication settings and make it writable")),
        step("repoint", &format!("point {} at {new} with GTID positioning", others.join(", "))),
    ]);
    if view.config.hooks.post_switchover.is_some() {
        steps.push(step("post-hook", "run the post-switchover hook"));
    }
    steps
}

fn step(name: &str, title: &str) -> PlannedStep {
    PlannedStep { name: name.to_string(), title: title.to_string() }
}

/// Probes every node at once with a fresh connection each.
pub async fn observe_all(targets: &BTreeMap<String, Target>) -> BTreeMap<String, Observation> {
    let probes = targets.iter().map(|(name, target)| async move {
        let mut prober = Prober::new(target.clone(), name, Duration::from_millis(PLAN_PROBE_TIMEOUT_MS));
        let obs = prober.probe(false).await;
        prober.close().await;
        (name.clone(), obs)
    });
    futures::future::join_all(probes).await.into_iter().collect()
}

/// A primary's own position: its binary log (MariaDB) or executed set (MySQL).
pub fn primary_position(obs: &Observation) -> Option<String> {
    obs.gtid.binlog.clone().or_else(|| obs.gtid.executed.clone()).or_else(|| obs.gtid.current.clone())
}

/// Ranking facts from a fresh probe.
pub fn facts_of(node: &str, obs: &Observation, no_promote: bool) -> Facts {
    let applied = obs.gtid.current.clone().or_else(|| obs.gtid.executed.clone());
    let received = obs.replication.as_ref().and_then(|r| {
        if r.gtid_io_pos.is_empty() {
            return None;
        }
        Some(match (&obs.flavor, &obs.gtid.executed) {
            // MySQL: what was retrieved plus what was executed (the retrieved set alone starts
            // where this connection to the source started).
            (Some(Flavor::Mysql), Some(exec)) => format!("{exec},{}", r.gtid_io_pos),
            _ => r.gtid_io_pos.clone(),
        })
    });
    Facts {
        node: node.to_string(),
        reachable: obs.reachable,
        server_id: obs.server_id,
        flavor: obs.flavor,
        read_only: obs.read_only,
        applied,
        received,
        replication: obs.replication.clone(),
        lag_ms: obs.heartbeat_lag_ms.or_else(|| {
            obs.replication
                .as_ref()
                .and_then(|r| r.seconds_behind)
                .map(|s| i64::try_from(s).unwrap_or(i64::MAX / 1000) * 1000)
        }),
        no_promote,
    }
}

async fn long_transactions(target: &Target, min_s: u64) -> Result<Vec<(u64, u64)>> {
    let mut server = Server::open("primary", target).await?;
    let sql = server.stmts.long_transactions_query(min_s);
    let rows: Vec<(u64, Option<u64>)> = server.rows(&sql).await?;
    server.close().await;
    Ok(rows.into_iter().map(|(id, s)| (id, s.unwrap_or(0))).collect())
}

/// Why a switchover did not run at all.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("read-only mode: nothing is changed")]
    ReadOnly,
    #[error("cluster {0} is production: type its name to confirm")]
    NeedsConfirmation(String),
    #[error("the plan refuses: {0}")]
    Plan(String),
    #[error(transparent)]
    Lock(#[from] lock::LockError),
}

/// What the steps left behind, for the rollback and the outcome.
#[derive(Default)]
struct Progress {
    fenced: bool,
    replication_stopped: bool,
    fence_at: Option<Instant>,
}

/// Runs a prepared switchover. `confirm` is the cluster name typed by the operator (needed on
/// production). `report` sees the record after every change. Returns the final record; an
/// `Err` means nothing was changed (refused) or the journal could not even be created.
pub async fn run(
    op: &Operator,
    prepared: Prepared,
    confirm: Option<&str>,
    report: &(dyn Fn(&Record) + Send + Sync),
) -> Result<Record> {
    if op.read_only {
        return Err(Refused::ReadOnly.into());
    }
    if prepared.view.config.is_production() && confirm != Some(op.paths.cluster.as_str()) {
        return Err(Refused::NeedsConfirmation(op.paths.cluster.clone()).into());
    }
    if !prepared.plan.can_run() {
        return Err(Refused::Plan(prepared.plan.refusals.join("; ")).into());
    }
    let info = LockInfo {
        operation: OpKind::Switchover.label().into(),
        user: op.actor.user.clone(),
        host: op.actor.host.clone(),
        pid: std::process::id(),
        origin: op.origin.clone(),
        since_ms: now_ms(),
    };
    let held = lock::acquire(&op.client, &op.paths, &info).await.map_err(Refused::Lock)?;
    let owner = Owner {
        user: op.actor.user.clone(),
        host: op.actor.host.clone(),
        pid: std::process::id(),
        origin: op.origin.clone(),
        session: format!("{:#x}", op.client.session_id().0),
    };
    let record = Record::new(prepared.plan.clone(), owner, now_ms());
    let mut journal = match Journal::create(&op.client, &op.paths, record).await {
        Ok(j) => j,
        Err(e) => {
            held.release(&op.client).await;
            return Err(e.into());
        }
    };
    journal.end_step("lock", StepState::Done, Some(held.path.clone()), now_ms());
    let _ = journal.save(&op.client).await;
    report(&journal.record);
    let mut steps = Steps { op, prepared: &prepared, lock: &held, journal, report, progress: Progress::default() };
    let result = steps.run_all().await;
    let mut journal = steps.journal;
    let outcome_ok = result.is_ok();
    let audited = audit_record(op, &prepared, &journal.record, outcome_ok);
    if let Err(e) = audit::append(&op.client, &op.paths.root, &audited).await {
        tracing::warn!("{e}");
        journal.record.outcome = Some(format!(
            "{} (the audit record was not written: {e})",
            journal.record.outcome.clone().unwrap_or_default()
        ));
        let _ = journal.save(&op.client).await;
    }
    held.release(&op.client).await;
    report(&journal.record);
    Ok(journal.record)
}

fn audit_record(op: &Operator, prepared: &Prepared, record: &Record, ok: bool) -> AuditRecord {
    let result = if ok { "ok".to_string() } else { format!("failed: {}", record.outcome.clone().unwrap_or_default()) };
    AuditRecord {
        schema: AUDIT_SCHEMA,
        time_ms: now_ms(),
        user: op.actor.user.clone(),
        host: op.actor.host.clone(),
        ssh_client: op.actor.ssh_client.clone(),
        action: OpKind::Switchover.label().into(),
        path: op.paths.primary(),
        version_before: Some(prepared.view.primary_version),
        version_after: (record.state == OpState::Done).then_some(prepared.view.primary_version + 1),
        digest_before: None,
        digest_after: None,
        result,
        origin: op.origin.clone(),
        detail: Some(format!(
            "{} → {} epoch {} → {}; {}",
            record.old_primary,
            record.new_primary.as_deref().unwrap_or("?"),
            record.epoch_before,
            record.epoch_after.map_or("-".to_string(), |e| e.to_string()),
            record.state.label()
        )),
    }
}

struct Steps<'a> {
    op: &'a Operator,
    prepared: &'a Prepared,
    lock: &'a ClusterLock,
    journal: Journal,
    report: &'a (dyn Fn(&Record) + Send + Sync),
    progress: Progress,
}

/// A step's failure: which step, and why.
struct StepFailure {
    step: &'static str,
    error: anyhow::Error,
}

impl<'a> Steps<'a> {
    fn old(&self) -> &str {
        &self.prepared.plan.old_primary
    }

    fn candidate(&self) -> &str {
        self.prepared.plan.candidate.as_deref().unwrap_or_default()
    }

    fn target(&self, node: &str) -> &Target {
        &self.prepared.targets[node]
    }

    async fn begin(&mut self, name: &str) -> Result<()> {
        // A lost session may have lost the lock: stop before the next step.
        anyhow::ensure!(
            !self.op.client.state().is_terminated(),
            "the ZooKeeper session ended ({:?}); stopping before {name}",
            self.op.client.state()
        );
        self.journal.start_step(name, now_ms());
        self.journal.save(&self.op.client).await.context("writing the journal")?;
        (self.report)(&self.journal.record);
        Ok(())
    }

    async fn end(&mut self, name: &str, state: StepState, detail: Option<String>) {
        self.journal.end_step(name, state, detail, now_ms());
        if let Err(e) = self.journal.save(&self.op.client).await {
            tracing::warn!("{e}");
        }
        (self.report)(&self.journal.record);
    }

    async fn run_all(&mut self) -> Result<()> {
        match self.before_record().await {
            Ok(()) => {}
            Err(f) => {
                let rolled = self.roll_back().await;
                let outcome = format!("step {} failed: {:#}; {rolled}", f.step, f.error);
                self.end(f.step, StepState::Failed, Some(format!("{:#}", f.error))).await;
                let state = if rolled.starts_with("rolled back") { OpState::RolledBack } else { OpState::Failed };
                self.journal.finish(state, outcome.clone(), now_ms());
                let _ = self.journal.save(&self.op.client).await;
                anyhow::bail!(outcome);
            }
        }
        self.after_record().await
    }

    async fn before_record(&mut self) -> Result<(), StepFailure> {
        let fail = |step: &'static str| move |error: anyhow::Error| StepFailure { step, error };
        self.begin("check").await.map_err(fail("check"))?;
        let detail = self.check().await.map_err(fail("check"))?;
        self.end("check", StepState::Done, Some(detail)).await;

        if let Some(cmd) = self.prepared.view.config.hooks.pre_switchover.clone() {
            self.begin("pre-hook").await.map_err(fail("pre-hook"))?;
            let out = self.hook(&cmd, "pre").await.map_err(fail("pre-hook"))?;
            self.end("pre-hook", StepState::Done, Some(out)).await;
        }

        self.begin("fence-old").await.map_err(fail("fence-old"))?;
        let (position, ended) = self.fence_old().await.map_err(fail("fence-old"))?;
        self.end("fence-old", StepState::Done, Some(format!("read-only; {ended} sessions ended; position {position}")))
            .await;

        self.begin("catch-up").await.map_err(fail("catch-up"))?;
        let waited = self.catch_up(&position).await.map_err(fail("catch-up"))?;
        self.end(
            "catch-up",
            StepState::Done,
            Some(format!("{} applied {position} after {waited} ms", self.candidate())),
        )
        .await;

        self.begin("stop-replica").await.map_err(fail("stop-replica"))?;
        self.stop_replica(&position).await.map_err(fail("stop-replica"))?;
        self.end("stop-replica", StepState::Done, None).await;

        self.begin("record").await.map_err(fail("record"))?;
        let epoch = self.record().await.map_err(fail("record"))?;
        self.journal.record.epoch_after = Some(epoch);
        self.end("record", StepState::Done, Some(format!("{} is primary, epoch {epoch}", self.candidate()))).await;
        Ok(())
    }

    /// Nothing moved since the plan: same record version, candidate still replicating.
    async fn check(&mut self) -> Result<String> {
        let (data, stat) = self
            .op
            .client
            .get_data(&self.op.paths.primary())
            .await
            .map_err(|e| anyhow::anyhow!("reading the primary record: {}", describe_error(&e)))?;
        anyhow::ensure!(
            stat.version == self.prepared.view.primary_version,
            "the primary record changed since the plan (version {} → {}): plan again",
            self.prepared.view.primary_version,
            stat.version
        );
        let record: PrimaryRecord = crate::cluster::config::parse_primary(&data).map_err(anyhow::Error::msg)?;
        anyhow::ensure!(record.node == self.old(), "the primary record names {} now", record.node);
        Ok(format!("primary record version {}, epoch {}", stat.version, record.epoch))
    }

    async fn hook(&mut self, cmd: &str, phase: &str) -> Result<String> {
        let env = hooks::HookEnv {
            operation: OpKind::Switchover.label().into(),
            phase: phase.into(),
            cluster: self.op.paths.cluster.clone(),
            old_primary: self.old().to_string(),
            new_primary: self.candidate().to_string(),
            epoch: self.prepared.view.primary.epoch + 1,
        };
        hooks::run(cmd, &env, Duration::from_secs(self.prepared.view.config.hooks.timeout_s)).await
    }

    async fn fence_old(&mut self) -> Result<(String, usize)> {
        let mut server = Server::open(self.old(), self.target(self.old())).await?;
        self.progress.fence_at = Some(Instant::now());
        // Marked before the statement: a timed-out SET may still take effect, and the rollback
        // must then undo it.
        self.progress.fenced = true;
        server.fence().await?;
        let ended = server.end_sessions().await?;
        let position = server.position().await?;
        server.close().await;
        Ok((position, ended))
    }

    async fn catch_up(&mut self, position: &str) -> Result<u128> {
        let started = Instant::now();
        let timeout_ms = self.prepared.view.config.failover.catch_up_timeout_ms;
        let mut server = Server::open(self.candidate(), self.target(self.candidate())).await?;
        let sql = server.stmts.wait_for_position(position, timeout_ms);
        let value = server.value_within(&sql, timeout_ms + super::server::STATEMENT_TIMEOUT_MS).await?;
        let value: i64 = value.as_deref().unwrap_or("").trim().parse().unwrap_or(i64::MIN);
        let ok = server.stmts.wait_succeeded(value);
        server.close().await;
        anyhow::ensure!(ok, "{} did not apply {position} within {timeout_ms} ms", self.candidate());
        Ok(started.elapsed().as_millis())
    }

    async fn stop_replica(&mut self, fenced_position: &str) -> Result<()> {
        let mut server = Server::open(self.candidate(), self.target(self.candidate())).await?;
        server.exec(server.stmts.stop_replica).await?;
        self.progress.replication_stopped = true;
        let applied_sql = format!("SELECT @@global.{}", server.stmts.applied_variable());
        let applied = server.value(&applied_sql).await?.unwrap_or_default().replace('\n', "");
        server.close().await;
        // Anything that reached the old primary after the fence (a session that bypasses
        // read_only) would be lost: compare its position now with what the candidate applied.
        let mut old = Server::open(self.old(), self.target(self.old())).await?;
        let now = old.position().await?;
        old.close().await;
        let flavor = self.prepared.flavor;
        let applied_pos = super::gtid::Position::parse(flavor, &applied).map_err(anyhow::Error::msg)?;
        let old_pos = super::gtid::Position::parse(flavor, &now).map_err(anyhow::Error::msg)?;
        anyhow::ensure!(
            applied_pos.contains(&old_pos),
            "{} has {} that {} lacks (written after the fence by a session that bypasses read-only, or not applied); \
             fenced at {fenced_position}",
            self.old(),
            applied_pos.missing_text(&old_pos),
            self.candidate()
        );
        Ok(())
    }

    /// The point of no return: one multi-op that checks our lock znode and the record's
    /// version and writes the new record.
    async fn record(&mut self) -> Result<u64> {
        let epoch = self.prepared.view.primary.epoch + 1;
        let new = PrimaryRecord { node: self.candidate().to_string(), epoch };
        let data = serde_json::to_vec(&new)?;
        let path = self.op.paths.primary();
        let mut multi = self.op.client.new_multi_writer();
        multi.add_check_version(&self.lock.path, 0)?;
        multi.add_set_data(&path, &data, Some(self.prepared.view.primary_version))?;
        match multi.commit().await {
            Ok(_) => Ok(epoch),
            Err(zookeeper_client::MultiWriteError::OperationFailed { index, source }) => {
                let what = if index == 0 { "our cluster lock is gone" } else { "the primary record changed" };
                anyhow::bail!("{what} ({})", describe_error(&source))
            }
            Err(e) => {
                // The answer was lost: learn from the record itself whether it was written.
                tracing::warn!("writing the primary record: {e}; reading it back");
                self.resolve_record(&new).await?;
                Ok(epoch)
            }
        }
    }

    async fn resolve_record(&self, wanted: &PrimaryRecord) -> Result<()> {
        let deadline = Instant::now() + Duration::from_millis(RECORD_RESOLVE_TIMEOUT_MS);
        loop {
            match self.op.client.get_data(&self.op.paths.primary()).await {
                Ok((data, _)) => {
                    let now = crate::cluster::config::parse_primary(&data).map_err(anyhow::Error::msg)?;
                    anyhow::ensure!(
                        &now == wanted,
                        "the primary record was not written (it names {} epoch {})",
                        now.node,
                        now.epoch
                    );
                    return Ok(());
                }
                Err(e) if Instant::now() >= deadline => {
                    anyhow::bail!("cannot tell whether the primary record was written: {}", describe_error(&e))
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    /// Undoes what the steps before `record` did; says what it did.
    async fn roll_back(&mut self) -> String {
        let mut done = Vec::new();
        let mut failed = Vec::new();
        if self.progress.replication_stopped {
            match self.restart_candidate().await {
                Ok(()) => done.push(format!("{} replicates from {} again", self.candidate(), self.old())),
                Err(e) => failed.push(format!("restarting replication on {}: {e:#}", self.candidate())),
            }
        }
        if self.progress.fenced {
            match self.unfence_old().await {
                Ok(()) => done.push(format!("{} is writable again", self.old())),
                Err(e) => failed.push(format!("making {} writable again: {e:#}", self.old())),
            }
        }
        for s in &mut self.journal.record.steps {
            if s.state == StepState::Done && matches!(s.name.as_str(), "fence-old" | "stop-replica") {
                s.state = StepState::RolledBack;
            }
        }
        match (done.is_empty(), failed.is_empty()) {
            (true, true) => "rolled back: nothing had changed".to_string(),
            (_, true) => format!("rolled back: {}", done.join("; ")),
            _ => format!("ROLLBACK INCOMPLETE: {}; done: {}", failed.join("; "), done.join("; ")),
        }
    }

    async fn restart_candidate(&self) -> Result<()> {
        let mut server = Server::open(self.candidate(), self.target(self.candidate())).await?;
        server.exec(server.stmts.start_replica).await?;
        server.close().await;
        Ok(())
    }

    async fn unfence_old(&self) -> Result<()> {
        let mut server = Server::open(self.old(), self.target(self.old())).await?;
        server.unfence().await?;
        server.close().await;
        Ok(())
    }

    async fn after_record(&mut self) -> Result<()> {
        let mut problems = Vec::new();
        match self.begin("open-new").await {
            Ok(()) => match self.open_new().await {
                Ok(()) => {
                    let block =
                        self.progress.fence_at.map(|t| i64::try_from(t.elapsed().as_millis()).unwrap_or(i64::MAX));
                    self.journal.record.write_block_ms = block;
                    let detail =
                        format!("{} writable; writes were refused for {} ms", self.candidate(), block.unwrap_or(-1));
                    self.end("open-new", StepState::Done, Some(detail)).await;
                }
                Err(e) => {
                    self.end("open-new", StepState::Failed, Some(format!("{e:#}"))).await;
                    problems.push(format!("opening {}: {e:#}", self.candidate()));
                }
            },
            Err(e) => problems.push(format!("{e:#}")),
        }
        if self.begin("repoint").await.is_ok() {
            let (detail, failures) = self.repoint().await;
            let state = if failures.is_empty() { StepState::Done } else { StepState::Failed };
            self.end("repoint", state, Some(detail)).await;
            problems.extend(failures);
        }
        if let Some(cmd) = self.prepared.view.config.hooks.post_switchover.clone() {
            if self.begin("post-hook").await.is_ok() {
                match self.hook(&cmd, "post").await {
                    Ok(out) => self.end("post-hook", StepState::Done, Some(out)).await,
                    Err(e) => {
                        self.end("post-hook", StepState::Failed, Some(format!("{e:#}"))).await;
                        problems.push(format!("post-switchover hook: {e:#}"));
                    }
                }
            }
        }
        let epoch = self.journal.record.epoch_after.unwrap_or_default();
        let (state, outcome) = if problems.is_empty() {
            (
                OpState::Done,
                format!("{} is primary (epoch {epoch}); {} replicates from it", self.candidate(), self.old()),
            )
        } else {
            (
                OpState::Failed,
                format!("{} is recorded primary (epoch {epoch}), but: {}", self.candidate(), problems.join("; ")),
            )
        };
        self.journal.finish(state, outcome.clone(), now_ms());
        let _ = self.journal.save(&self.op.client).await;
        (self.report)(&self.journal.record);
        anyhow::ensure!(problems.is_empty(), outcome);
        Ok(())
    }

    async fn open_new(&mut self) -> Result<()> {
        let mut server = Server::open(self.candidate(), self.target(self.candidate())).await?;
        server.exec(server.stmts.reset_replica_all).await?;
        server.unfence().await?;
        server.close().await;
        Ok(())
    }

    /// Points every other node at the new primary; returns a summary and the failures.
    async fn repoint(&mut self) -> (String, Vec<String>) {
        let new_target = self.target(self.candidate()).clone();
        let repl_user = self.prepared.view.config.replication.user.clone();
        let repl_password = self.op.access.repl_password.clone().unwrap_or_default();
        let mut done = Vec::new();
        let mut failures = Vec::new();
        let others: Vec<String> = self.prepared.view.names().into_iter().filter(|n| n != self.candidate()).collect();
        for node in others {
            let is_old = node == self.old();
            let result = async {
                let mut server = Server::open(&node, self.target(&node)).await?;
                server.replicate_from(&new_target, &repl_user, &repl_password, is_old).await?;
                server.close().await;
                anyhow::Ok(())
            }
            .await;
            match result {
                Ok(()) => done.push(node),
                Err(e) => failures.push(format!("repointing {node}: {e:#}")),
            }
        }
        let detail = if failures.is_empty() {
            format!("{} replicate from {}", done.join(", "), self.candidate())
        } else {
            format!("done: {}; failed: {}", done.join(", "), failures.join("; "))
        };
        (detail, failures)
    }
}
