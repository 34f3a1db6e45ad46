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
//!
//! Semi-sync is per server, so it moves with the primary: when the old primary's source side
//! is on (read at `fence-old`), `open-new` switches the new primary's on before it opens, and
//! every server that becomes or stays a replica has its source side off (`catch-up` for the
//! candidate, `repoint` for the others, the old primary last). A replica whose source side is
//! on waits, at the first commit of its applier, for acknowledgements no replica sends — the
//! whole `rpl_semi_sync_master_timeout` on MariaDB — and holds up position waits and
//! `STOP SLAVE` meanwhile.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::Result;

use super::execute::{fail, Execution, StepFailure};
use super::gtid::Position;
use super::journal::{Record, StepState};
use super::plan::{NodePosition, OpKind, Plan, PlannedStep};
use super::prepare::{candidate_view, facts_of, observe_all, primary_position, step, Prepared};
use super::rank::{self, Purpose, RankInput};
use super::server::{Server, STATEMENT_TIMEOUT_MS};
use super::view::ClusterView;
use super::Operator;
use crate::cluster::status::{Flavor, ServerRole};
use crate::mysql::Target;

pub use super::prepare::Refused;

/// Fixed part of the expected write-block window: fence, stop, record, open (loopback-fast
/// servers take tens of milliseconds; the estimate is deliberately generous).
const BLOCK_BASE_MS: u64 = 150;

/// Builds the plan from fresh probes of every node; never changes anything.
pub async fn plan(op: &Operator, to: Option<&str>) -> Result<Prepared> {
    let view = ClusterView::read(&op.client, &op.paths).await?;
    let old = view.primary.node.clone();
    let targets = view.targets(&op.access)?;
    anyhow::ensure!(targets.contains_key(&old), "the recorded primary {old} is not in the cluster's config");
    // Replicas first, then the primary: under writes, a primary read before its replicas would
    // look behind them, and their newer transactions like errant ones.
    let replicas: BTreeMap<String, Target> =
        targets.iter().filter(|(n, _)| **n != old).map(|(n, t)| (n.clone(), t.clone())).collect();
    let mut observed = observe_all(&replicas).await;
    let primary_only: BTreeMap<String, Target> =
        targets.iter().filter(|(n, _)| **n == old).map(|(n, t)| (n.clone(), t.clone())).collect();
    observed.extend(observe_all(&primary_only).await);
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
        step(
            "fence-old",
            &format!("make {old} read-only and end its client sessions; read its last position and semi-sync setting"),
        ),
        step(
            "catch-up",
            &format!(
                "switch {new}'s semi-sync source side off if on; wait until it has applied {old}'s last transaction \
                 (at most {catch_up_ms} ms)"
            ),
        ),
        step("stop-replica", &format!("stop replication on {new}; check nothing reached {old} since the fence")),
        step(
            "record",
            &format!(
                "record {new} as primary, epoch {} (checked against the lock and the record's version)",
                view.primary.epoch.saturating_add(1)
            ),
        ),
        step(
            "open-new",
            &format!(
                "forget {new}'s replication settings, switch its semi-sync source side on if {old}'s was, and make it \
                 writable"
            ),
        ),
        step(
            "repoint",
            &format!(
                "point {} at {new} with GTID positioning, semi-sync source side off ({old} last)",
                others.join(", ")
            ),
        ),
    ]);
    if view.config.hooks.post_switchover.is_some() {
        steps.push(step("post-hook", "run the post-switchover hook"));
    }
    steps
}

async fn long_transactions(target: &Target, min_s: u64) -> Result<Vec<(u64, u64)>> {
    let mut server = Server::open("primary", target).await?;
    let sql = server.stmts.long_transactions_query(min_s);
    let rows: Vec<(u64, Option<u64>)> = server.rows(&sql).await?;
    server.close().await;
    Ok(rows.into_iter().map(|(id, s)| (id, s.unwrap_or(0))).collect())
}

/// What the steps before `record` left behind, for the rollback.
#[derive(Default)]
struct Progress {
    fenced: bool,
    replication_stopped: bool,
}

/// Runs a prepared switchover. `confirm` is the cluster name typed by the operator (needed on
/// production). `report` sees the record after every change. Returns the final record; an
/// `Err` means nothing was changed (refused, see [`Refused`]) or the journal could not even be
/// created.
pub async fn run(
    op: &Operator,
    prepared: Prepared,
    confirm: Option<&str>,
    report: &(dyn Fn(&Record) + Send + Sync),
) -> Result<Record> {
    let ex = Execution::start(op, &prepared, confirm, report).await?;
    let mut sw = Switchover { ex, progress: Progress::default() };
    let ok = match sw.before_record().await {
        Ok(()) => {
            let others: Vec<String> = prepared.view.names().into_iter().filter(|n| n != sw.ex.candidate()).collect();
            let post = prepared.view.config.hooks.post_switchover.clone();
            let done = format!("{} replicates from it", sw.ex.old());
            sw.ex.after_record(&others, post, &done).await.is_ok()
        }
        Err(f) => {
            let rolled = sw.roll_back().await;
            sw.ex.failed_before_record(f, rolled).await;
            false
        }
    };
    Ok(sw.ex.close(ok).await)
}

struct Switchover<'a> {
    ex: Execution<'a>,
    progress: Progress,
}

impl Switchover<'_> {
    async fn before_record(&mut self) -> Result<(), StepFailure> {
        let check = self.ex.check_record().await.map(|d| ((), d));
        self.ex.step("check", async { check }).await?;
        if let Some(cmd) = self.ex.prepared.view.config.hooks.pre_switchover.clone() {
            let out = self.ex.hook(&cmd, "pre").await.map(|o| ((), o));
            self.ex.step("pre-hook", async { out }).await?;
        }
        self.ex.begin("fence-old").await.map_err(fail("fence-old"))?;
        let (position, ended) = self.fence_old().await.map_err(fail("fence-old"))?;
        let semi_sync = if self.ex.semi_sync { "on" } else { "off" };
        let detail =
            format!("read-only; {ended} sessions ended; position {position}; semi-sync source side {semi_sync}");
        self.ex.end("fence-old", StepState::Done, Some(detail)).await;

        self.ex.begin("catch-up").await.map_err(fail("catch-up"))?;
        let (waited, semi_sync_off) = self.catch_up(&position).await.map_err(fail("catch-up"))?;
        let new = self.ex.candidate();
        let detail = if semi_sync_off {
            format!("{new}'s semi-sync source side switched off; it applied {position} after {waited} ms")
        } else {
            format!("{new} applied {position} after {waited} ms")
        };
        self.ex.end("catch-up", StepState::Done, Some(detail)).await;

        self.ex.begin("stop-replica").await.map_err(fail("stop-replica"))?;
        self.stop_replica(&position).await.map_err(fail("stop-replica"))?;
        self.ex.end("stop-replica", StepState::Done, None).await;

        self.ex.begin("record").await.map_err(fail("record"))?;
        let (_, detail) = self.ex.record().await.map_err(fail("record"))?;
        self.ex.end("record", StepState::Done, Some(detail)).await;
        Ok(())
    }

    async fn fence_old(&mut self) -> Result<(String, usize)> {
        let old = self.ex.old();
        let mut server = Server::open(old, self.ex.target(old)).await?;
        self.ex.block_from = Some(Instant::now());
        // Marked before the statement: a timed-out SET may still take effect, and the rollback
        // must then undo it.
        self.progress.fenced = true;
        server.fence().await?;
        let ended = server.end_sessions().await?;
        let position = server.position().await?;
        self.ex.semi_sync = server.semi_sync_source().await?.is_some_and(|(_, on)| on);
        server.close().await;
        Ok((position, ended))
    }

    /// Waits for the candidate to apply `position`; returns how long it took and whether the
    /// candidate's semi-sync source side had to be switched off first. A replica's should be
    /// off already (operations leave it so), but one demoted by hand or restarted with it on
    /// in its configuration holds its applier up to the semi-sync timeout; switching it off
    /// releases it, and the candidate stays a correct replica should the switchover roll back.
    async fn catch_up(&mut self, position: &str) -> Result<(u128, bool)> {
        let started = Instant::now();
        let new = self.ex.candidate();
        let timeout_ms = self.ex.prepared.view.config.failover.catch_up_timeout_ms;
        let mut server = Server::open(new, self.ex.target(new)).await?;
        let semi_sync_off = server.switch_semi_sync_source(false).await?;
        let sql = server.stmts.wait_for_position(position, timeout_ms);
        let value = server.value_within(&sql, timeout_ms + STATEMENT_TIMEOUT_MS).await?;
        let value: i64 = value.as_deref().unwrap_or("").trim().parse().unwrap_or(i64::MIN);
        let ok = server.stmts.wait_succeeded(value);
        server.close().await;
        anyhow::ensure!(ok, "{new} did not apply {position} within {timeout_ms} ms");
        Ok((started.elapsed().as_millis(), semi_sync_off))
    }

    async fn stop_replica(&mut self, fenced_position: &str) -> Result<()> {
        let (old, new) = (self.ex.old(), self.ex.candidate());
        let mut server = Server::open(new, self.ex.target(new)).await?;
        server.exec(server.stmts.stop_replica).await?;
        self.progress.replication_stopped = true;
        let applied_sql = format!("SELECT @@global.{}", server.stmts.applied_variable());
        let applied = server.value(&applied_sql).await?.unwrap_or_default().replace('\n', "");
        server.close().await;
        // Anything that reached the old primary after the fence (a session that bypasses
        // read_only) would be lost: compare its position now with what the candidate applied.
        let mut old_server = Server::open(old, self.ex.target(old)).await?;
        let now = old_server.position().await?;
        old_server.close().await;
        let flavor = self.ex.prepared.flavor;
        let applied_pos = Position::parse(flavor, &applied).map_err(anyhow::Error::msg)?;
        let old_pos = Position::parse(flavor, &now).map_err(anyhow::Error::msg)?;
        anyhow::ensure!(
            applied_pos.contains(&old_pos),
            "{old} has {} that {new} lacks (written after the fence by a session that bypasses read-only, or not \
             applied); fenced at {fenced_position}",
            applied_pos.missing_text(&old_pos)
        );
        Ok(())
    }

    /// Undoes what the steps before `record` did; says what it did.
    async fn roll_back(&mut self) -> String {
        let (old, new) = (self.ex.old(), self.ex.candidate());
        let mut done = Vec::new();
        let mut failed = Vec::new();
        if self.progress.replication_stopped {
            let result = async {
                let mut server = Server::open(new, self.ex.target(new)).await?;
                server.exec(server.stmts.start_replica).await?;
                server.close().await;
                anyhow::Ok(())
            }
            .await;
            match result {
                Ok(()) => done.push(format!("{new} replicates from {old} again")),
                Err(e) => failed.push(format!("restarting replication on {new}: {e:#}")),
            }
        }
        if self.progress.fenced {
            let result = async {
                let mut server = Server::open(old, self.ex.target(old)).await?;
                server.unfence().await?;
                server.close().await;
                anyhow::Ok(())
            }
            .await;
            match result {
                Ok(()) => done.push(format!("{old} is writable again")),
                Err(e) => failed.push(format!("making {old} writable again: {e:#}")),
            }
        }
        for s in &mut self.ex.journal.record.steps {
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
}
