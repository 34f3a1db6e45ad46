//! The unplanned failover: the primary is gone, a replica takes over.
//!
//! It acts only when every observer agrees the primary is gone ([`observe`]):
//! - **its agent**: the agent's znode is gone (its session ended) or the agent reports the
//!   server unreachable;
//! - **a direct look from here**: a fresh connection fails, or a write probe does not come back
//!   (a hung server); a server that answers, writable or not, is not gone;
//! - **the replicas**: every reachable replica has lost it — IO thread not running, or the
//!   heartbeat row stopped advancing (a frozen or unreachable host keeps the IO thread
//!   "running" until `slave_net_timeout`).
//!
//! An agent that died while its server still serves therefore never causes a failover.
//!
//! Steps: `lock → check → [pre-hook] → fence-old → wait-expiry → drain → stop-replica → record →
//! open-new → repoint → [post-hook]`. `fence-old` tries, briefly, to make the old primary
//! read-only (it is expected to fail). `wait-expiry`: when the old primary's agent session has
//! ended, its agent (if alive somewhere, cut off) fenced its server by its lease before the
//! session could expire (`agent::fence`); the margin covers its last probe. `drain` lets the
//! candidate apply the relay log it has without restarting its IO thread (MariaDB discards
//! relay logs on restart). A failing pre-failover hook is reported, not obeyed: in an outage
//! the failover matters more than the hook.
//!
//! Semi-sync moves with the primary, as in a switchover: `drain` switches the candidate's
//! source side off if it is on (a replica's applier would wait for acknowledgements), and
//! `open-new` switches it on when the cluster runs semi-sync — the old primary's source side
//! as its agent last published it, or, when no status is left, the candidate's replica side.
//!
//! Data safety: the candidate must hold every transaction any reachable replica received
//! (`rank`). Transactions only the dead primary had — its last published position past the
//! best replica — are lost whoever is promoted: refused unless forced, except when semi-sync
//! was active on it, in which case (with `AFTER_SYNC`) none of them was acknowledged to a
//! client, and the plan says so.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::execute::{fail, Execution, StepFailure};
use super::journal::{Record, StepState};
use super::plan::{NodePosition, OpKind, Plan};
use super::prepare::{candidate_view, facts_of, observe_all, step, Prepared};
use super::rank::{self, Purpose, RankInput};
use super::server::{Server, STATEMENT_TIMEOUT_MS};
use super::view::ClusterView;
use super::Operator;
use crate::cluster::status::{Flavor, NodeStatus};
use crate::mysql::probe::Observation;
use crate::mysql::Target;

/// Longest the direct look at the old primary may take (connect and write probe each).
pub const DIRECT_PROBE_TIMEOUT_MS: u64 = 1_000;
/// Longest `fence-old` tries to reach the old primary.
const FENCE_OLD_TIMEOUT_MS: u64 = 1_000;
/// A heartbeat row older than this (or three agent intervals, if longer) has stopped advancing.
pub const HEARTBEAT_STALL_MIN_MS: i64 = 2_000;
/// Margin after the old agent's session ended, before promoting. Its lease (2/5 of the
/// session, acted on when it runs out) fenced the server by 17/20 of the session timeout —
/// before the expiry — so this only absorbs the fence statement itself and clock granularity.
pub const EXPIRY_MARGIN_MS: u64 = 250;

/// How a plan's warning starts when `--force` accepts losing transactions.
pub const FORCED_PREFIX: &str = "FORCED:";

/// One observer's verdict about the old primary.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Observer {
    pub name: String,
    pub says_gone: bool,
    pub detail: String,
}

/// Options of a failover plan.
#[derive(Debug, Clone, Default)]
pub struct FailoverOptions {
    /// `--to NODE`.
    pub to: Option<String>,
    /// Promote even when transactions would be lost (they are listed in the plan).
    pub force: bool,
}

/// What the observers say, from the agent's status, a direct look, and the replicas' probes.
pub async fn observe(
    old: &str,
    status: Option<&NodeStatus>,
    target: &Target,
    replicas: &BTreeMap<String, Observation>,
) -> Vec<Observer> {
    let mut out = vec![agent_observer(old, status)];
    out.push(direct_observer(old, target).await);
    let stall_ms = status
        .map(|s| i64::try_from(s.agent.interval_ms.saturating_mul(3)).unwrap_or(i64::MAX))
        .unwrap_or(0)
        .max(HEARTBEAT_STALL_MIN_MS);
    out.push(replicas_observer(old, target, replicas, stall_ms));
    out
}

/// The agent's view: znode gone, or the server reported unreachable.
pub fn agent_observer(old: &str, status: Option<&NodeStatus>) -> Observer {
    let (says_gone, detail) = match status {
        None => (true, format!("{old}'s agent znode is gone (its session ended)")),
        Some(s) if !s.reachable => {
            (true, format!("{old}'s agent reports the server down: {}", s.error.as_deref().unwrap_or("unreachable")))
        }
        Some(_) => (false, format!("{old}'s agent reports the server up")),
    };
    Observer { name: "agent".into(), says_gone, detail }
}

/// The replicas' view: each reachable one lost its source (IO thread down, or heartbeat stalled).
pub fn replicas_observer(
    old: &str,
    target: &Target,
    replicas: &BTreeMap<String, Observation>,
    stall_ms: i64,
) -> Observer {
    let mut agree = Vec::new();
    let mut disagree = Vec::new();
    for (name, obs) in replicas.iter().filter(|(_, o)| o.reachable) {
        let Some(r) = &obs.replication else {
            disagree.push(format!("{name} does not replicate"));
            continue;
        };
        if r.source_port != target.port || (r.source_host != target.host && !r.source_host.is_empty()) {
            disagree.push(format!("{name} replicates from {}:{}, not from {old}", r.source_host, r.source_port));
        } else if !r.io_ok() {
            agree.push(format!("{name}: IO thread {}", r.io_running));
        } else if obs.heartbeat_lag_ms.is_some_and(|lag| lag >= stall_ms) {
            agree.push(format!("{name}: heartbeat {} ms old", obs.heartbeat_lag_ms.unwrap_or_default()));
        } else {
            disagree.push(format!(
                "{name} still receives from {old} (IO thread running, heartbeat {})",
                obs.heartbeat_lag_ms.map_or("unknown".to_string(), |l| format!("{l} ms old"))
            ));
        }
    }
    let says_gone = !agree.is_empty() && disagree.is_empty();
    let detail = match (agree.is_empty(), disagree.is_empty()) {
        (true, true) => "no replica reachable to ask".to_string(),
        (_, true) => format!("every reachable replica lost {old}: {}", agree.join("; ")),
        _ => disagree.join("; "),
    };
    Observer { name: "replicas".into(), says_gone, detail }
}

/// A fresh connection and a write probe, each bounded by [`DIRECT_PROBE_TIMEOUT_MS`].
async fn direct_observer(old: &str, target: &Target) -> Observer {
    let timeout = Duration::from_millis(DIRECT_PROBE_TIMEOUT_MS);
    let look = async {
        let mut conn = crate::mysql::connect(target, timeout).await?;
        use mysql_async::prelude::Queryable;
        let write =
            tokio::time::timeout(timeout, conn.query_drop(crate::mysql::heartbeat::probe_write_statement())).await;
        let verdict = match write {
            Err(_) => (
                true,
                format!("{old} accepts connections but a write probe got no answer within {} ms", timeout.as_millis()),
            ),
            Ok(Ok(())) if conn.affected_rows() > 0 => (false, format!("{old} accepts writes")),
            Ok(Ok(())) => (false, format!("{old} answers, read-only")),
            // Missing table, privileges…: the server answers, so it is not gone.
            Ok(Err(e)) => (false, format!("{old} answers (write probe: {e})")),
        };
        drop(conn);
        anyhow::Ok(verdict)
    };
    let (says_gone, detail) = match look.await {
        Ok(v) => v,
        Err(e) => (true, format!("no connection to {old}: {e:#}")),
    };
    Observer { name: "direct".into(), says_gone, detail }
}

/// Builds the failover plan; never changes anything.
pub async fn plan(op: &Operator, opts: &FailoverOptions) -> Result<Prepared> {
    let view = ClusterView::read(&op.client, &op.paths).await?;
    let old = view.primary.node.clone();
    let targets = view.targets(&op.access)?;
    let old_target =
        targets.get(&old).cloned().with_context(|| format!("the recorded primary {old} is not in the config"))?;
    let replicas: BTreeMap<String, Target> =
        targets.iter().filter(|(n, _)| **n != old).map(|(n, t)| (n.clone(), t.clone())).collect();
    let observed = observe_all(&replicas).await;
    let old_status = view.statuses.get(&old);
    let observers = observe(&old, old_status, &old_target, &observed).await;
    let mut refusals = Vec::new();
    let mut warnings = Vec::new();
    for o in observers.iter().filter(|o| !o.says_gone) {
        refusals.push(format!("the primary is not confirmed gone: {} ({})", o.detail, o.name));
    }
    if let Some(to) = &opts.to {
        if *to == old {
            refusals.push(format!("{to} is the primary"));
        } else if !targets.contains_key(to) {
            refusals.push(format!("{to} is not a node of cluster {}", op.paths.cluster));
        }
    }
    let flavor =
        observed.values().find_map(|o| o.flavor).or(old_status.and_then(|s| s.flavor)).unwrap_or(Flavor::Mariadb);
    let primary_position =
        old_status.and_then(|s| s.gtid.binlog.clone().or_else(|| s.gtid.position().map(str::to_string)));
    let facts: Vec<_> =
        replicas.keys().map(|n| facts_of(n, &observed[n], view.node(n).is_some_and(|c| c.no_promote))).collect();
    let input = RankInput {
        purpose: Purpose::Failover,
        old_primary: &old,
        primary_position: primary_position.as_deref(),
        flavor,
        nodes: &facts,
        max_lag_ms: i64::try_from(view.config.failover.max_lag_s.saturating_mul(1000)).unwrap_or(i64::MAX),
        wanted: opts.to.as_deref(),
    };
    let ranked = rank::rank(&input);
    let candidate = ranked.iter().find(|r| r.eligible).map(|r| r.node.clone());
    match &candidate {
        None => refusals.push("no replica is safe to promote (see the reasons under each candidate)".into()),
        Some(c) => {
            let lost = rank::would_lose(&input, c);
            let semi_sync = old_status.and_then(|s| s.semi_sync.as_ref()).is_some_and(|s| s.source_active);
            if !lost.is_empty() {
                if semi_sync {
                    warnings.push(format!(
                        "{old}'s last published position has transactions no replica received ({lost}); semi-sync was \
                         active on it, so none of them was acknowledged to a client"
                    ));
                } else if opts.force {
                    warnings.push(format!("{FORCED_PREFIX} promoting {c} loses what only {old} had: {lost}"));
                } else {
                    refusals.push(format!(
                        "promoting {c} would lose what only {old} had: {lost} (semi-sync was not active); --force to accept"
                    ));
                }
            }
        }
    }
    let expiry_wait = old_status.is_none();
    let new = candidate.clone().unwrap_or_else(|| "?".into());
    let others: Vec<String> = replicas.keys().filter(|n| **n != new).cloned().collect();
    let mut steps =
        vec![step("lock", "take the cluster lock"), step("check", "re-read the primary record; stop if it moved")];
    if view.config.hooks.pre_failover.is_some() {
        steps.push(step("pre-hook", "run the pre-failover hook (a failure is reported, not obeyed)"));
    }
    steps.extend([
        step("fence-old", &format!("try to make {old} read-only (expected to fail: it is gone)")),
        step(
            "wait-expiry",
            &if expiry_wait {
                format!(
                    "{old}'s agent session has ended: wait {EXPIRY_MARGIN_MS} ms more (its lease fenced it, if alive)"
                )
            } else {
                format!("{old}'s agent is alive and keeps it read-only once it is back: no wait")
            },
        ),
        step(
            "drain",
            &format!(
                "switch {new}'s semi-sync source side off if on; let it apply what it received (relay log kept, IO \
                 thread not restarted)"
            ),
        ),
        step("stop-replica", &format!("stop replication on {new}")),
        step(
            "record",
            &format!(
                "record {new} as primary, epoch {} (checked against the lock and the record's version)",
                view.primary.epoch + 1
            ),
        ),
        step(
            "open-new",
            &format!(
                "forget {new}'s replication settings, switch its semi-sync source side on if the cluster runs \
                 semi-sync, and make it writable"
            ),
        ),
    ]);
    if !others.is_empty() {
        steps.push(step(
            "repoint",
            &format!("point {} at {new} with GTID positioning, semi-sync source side off", others.join(", ")),
        ));
    }
    if view.config.hooks.post_failover.is_some() {
        steps.push(step("post-hook", "run the post-failover hook"));
    }
    let positions = std::iter::once(NodePosition {
        node: old.clone(),
        role: "gone".into(),
        position: primary_position.clone(),
        read_only: None,
    })
    .chain(replicas.keys().map(|n| {
        let o = &observed[n];
        NodePosition {
            node: n.clone(),
            role: if o.reachable { "replica".into() } else { "down".into() },
            position: o.gtid.position().map(str::to_string),
            read_only: o.read_only,
        }
    }))
    .collect();
    warnings.extend(observers.iter().filter(|o| o.says_gone).map(|o| format!("observer {}: {}", o.name, o.detail)));
    let plan = Plan {
        kind: OpKind::Failover,
        cluster: op.paths.cluster.clone(),
        old_primary: old,
        epoch: view.primary.epoch,
        candidate,
        candidates: ranked.iter().map(candidate_view).collect(),
        positions,
        steps,
        expected_block_ms: if expiry_wait { EXPIRY_MARGIN_MS } else { 0 } + 200,
        refusals,
        warnings,
    };
    Ok(Prepared { plan, flavor, view, targets })
}

/// Runs a prepared failover (see [`super::switchover::run`] for the arguments and result).
pub async fn run(
    op: &Operator,
    prepared: Prepared,
    confirm: Option<&str>,
    report: &(dyn Fn(&Record) + Send + Sync),
) -> Result<Record> {
    let mut ex = Execution::start(op, &prepared, confirm, report).await?;
    // The primary is gone already: writes have been refused since before we started; the
    // window we measure is our own part of it.
    ex.block_from = Some(Instant::now());
    let ok = match before_record(&mut ex).await {
        Ok(()) => {
            let others: Vec<String> =
                prepared.view.names().into_iter().filter(|n| n != ex.candidate() && n != ex.old()).collect();
            let post = prepared.view.config.hooks.post_failover.clone();
            ex.after_record(&others, post, &format!("{} must be rejoined when it is back", ex.old())).await.is_ok()
        }
        Err(f) => {
            let rolled = roll_back(&ex).await;
            ex.failed_before_record(f, rolled).await;
            false
        }
    };
    Ok(ex.close(ok).await)
}

async fn before_record(ex: &mut Execution<'_>) -> Result<(), StepFailure> {
    let check = ex.check_record().await.map(|d| ((), d));
    ex.step("check", async { check }).await?;
    if let Some(cmd) = ex.prepared.view.config.hooks.pre_failover.clone() {
        ex.begin("pre-hook").await.map_err(fail("pre-hook"))?;
        match ex.hook(&cmd, "pre").await {
            Ok(out) => ex.end("pre-hook", StepState::Done, Some(out)).await,
            Err(e) => {
                ex.end("pre-hook", StepState::Failed, Some(format!("{e:#} (going on: the primary is gone)"))).await
            }
        }
    }
    ex.begin("fence-old").await.map_err(fail("fence-old"))?;
    let fenced = fence_old(ex).await;
    ex.end("fence-old", StepState::Done, Some(fenced)).await;

    ex.begin("wait-expiry").await.map_err(fail("wait-expiry"))?;
    let waited = if ex.prepared.view.statuses.contains_key(ex.old()) {
        "its agent is alive: no wait".to_string()
    } else {
        tokio::time::sleep(Duration::from_millis(EXPIRY_MARGIN_MS)).await;
        format!("waited {EXPIRY_MARGIN_MS} ms past the session's end")
    };
    ex.end("wait-expiry", StepState::Done, Some(waited)).await;

    ex.semi_sync = runs_semi_sync(ex);
    ex.begin("drain").await.map_err(fail("drain"))?;
    let drained = drain(ex).await.map_err(fail("drain"))?;
    ex.end("drain", StepState::Done, Some(drained)).await;

    ex.begin("stop-replica").await.map_err(fail("stop-replica"))?;
    let new = ex.candidate();
    let stopped = async {
        let mut server = Server::open(new, ex.target(new)).await?;
        server.exec(server.stmts.stop_replica).await?;
        server.close().await;
        anyhow::Ok(())
    }
    .await;
    stopped.map_err(fail("stop-replica"))?;
    ex.end("stop-replica", StepState::Done, None).await;

    ex.begin("record").await.map_err(fail("record"))?;
    let (_, detail) = ex.record().await.map_err(fail("record"))?;
    ex.end("record", StepState::Done, Some(detail)).await;
    Ok(())
}

/// Best effort: the old primary is gone, but if it answers now it is made read-only.
async fn fence_old(ex: &Execution<'_>) -> String {
    let old = ex.old();
    let attempt = async {
        let mut server = Server::open(old, ex.target(old)).await?;
        server.fence().await?;
        let ended = server.end_sessions().await?;
        server.close().await;
        anyhow::Ok(ended)
    };
    match tokio::time::timeout(Duration::from_millis(FENCE_OLD_TIMEOUT_MS), attempt).await {
        Ok(Ok(ended)) => format!("{old} answered and is now read-only; {ended} sessions ended"),
        Ok(Err(e)) => format!("{old} unreachable, as expected ({e:#})"),
        Err(_) => format!("{old} did not answer within {FENCE_OLD_TIMEOUT_MS} ms, as expected"),
    }
}

/// Whether the cluster runs semi-sync: the old primary's source side as its agent last
/// published it or, with no status left (its agent's session ended), the candidate's replica
/// side (it acknowledged as a semi-sync replica).
fn runs_semi_sync(ex: &Execution<'_>) -> bool {
    let semi_sync = |n: &str| ex.prepared.view.statuses.get(n).and_then(|s| s.semi_sync.as_ref());
    match semi_sync(ex.old()) {
        Some(old) => old.source_enabled,
        None => semi_sync(ex.candidate()).is_some_and(|c| c.replica_enabled),
    }
}

/// Waits until the candidate has applied what it received, its semi-sync source side off
/// first (see the module's note).
async fn drain(ex: &Execution<'_>) -> Result<String> {
    let new = ex.candidate();
    let started = Instant::now();
    let mut server = Server::open(new, ex.target(new)).await?;
    let semi_sync = if server.switch_semi_sync_source(false).await? {
        "; its semi-sync source side switched off first"
    } else {
        ""
    };
    let row: Option<mysql_async::Row> = {
        use mysql_async::prelude::Queryable;
        server.conn.query_first(server.stmts.replica_status).await.context("replica status")?
    };
    let received = row
        .map(crate::mysql::replica::row_map)
        .and_then(|r| r.get(server.stmts.columns.received_gtid).cloned().flatten())
        .unwrap_or_default()
        .replace('\n', "");
    if received.is_empty() {
        server.close().await;
        return Ok(format!("{new} has nothing received to apply{semi_sync}"));
    }
    let timeout_ms = ex.prepared.view.config.failover.catch_up_timeout_ms;
    let sql = server.stmts.wait_for_position(&received, timeout_ms);
    let value = server.value_within(&sql, timeout_ms + STATEMENT_TIMEOUT_MS).await?;
    let value: i64 = value.as_deref().unwrap_or("").trim().parse().unwrap_or(i64::MIN);
    let ok = server.stmts.wait_succeeded(value);
    server.close().await;
    anyhow::ensure!(ok, "{new} did not apply its relay log ({received}) within {timeout_ms} ms");
    Ok(format!("{new} applied {received} in {} ms{semi_sync}", started.elapsed().as_millis()))
}

/// Before `record` nothing but the candidate's stopped replication can have changed.
async fn roll_back(ex: &Execution<'_>) -> String {
    let new = ex.candidate();
    if ex.journal.record.step("stop-replica").is_some_and(|s| s.state == StepState::Done) {
        let result = async {
            let mut server = Server::open(new, ex.target(new)).await?;
            server.exec(server.stmts.start_replica).await?;
            server.close().await;
            anyhow::Ok(())
        }
        .await;
        return match result {
            Ok(()) => format!("rolled back: {new} replicates again"),
            Err(e) => format!("ROLLBACK INCOMPLETE: restarting replication on {new}: {e:#}"),
        };
    }
    "rolled back: nothing had changed".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::status::tests::sample;
    use crate::cluster::status::{Replication, ServerRole};

    fn target() -> Target {
        Target { host: "127.0.0.1".into(), port: 3306, user: "agent".into(), password: None, tls: Default::default() }
    }

    fn replica(io: &str, lag: Option<i64>, port: u16) -> Observation {
        let mut o = Observation::unreachable(String::new());
        o.reachable = true;
        o.error = None;
        o.replication = Some(Replication {
            source_host: "127.0.0.1".into(),
            source_port: port,
            io_running: io.into(),
            sql_running: "Yes".into(),
            ..Replication::default()
        });
        o.heartbeat_lag_ms = lag;
        o
    }

    #[test]
    fn the_agent_observer() {
        assert!(agent_observer("db1", None).says_gone);
        let mut s = sample("db1", ServerRole::Primary);
        assert!(!agent_observer("db1", Some(&s)).says_gone);
        s.reachable = false;
        s.error = Some("Connection refused".into());
        let o = agent_observer("db1", Some(&s));
        assert!(o.says_gone && o.detail.contains("Connection refused"), "{o:?}");
    }

    #[test]
    fn the_replicas_must_all_agree() {
        let t = target();
        let both = BTreeMap::from([
            ("db2".to_string(), replica("Connecting", Some(100), 3306)),
            ("db3".to_string(), replica("Yes", Some(5_000), 3306)),
        ]);
        let o = replicas_observer("db1", &t, &both, 2_000);
        assert!(o.says_gone, "{o:?}");
        // One still receiving: the primary is not gone (a dead agent, a partition).
        let split = BTreeMap::from([
            ("db2".to_string(), replica("Connecting", None, 3306)),
            ("db3".to_string(), replica("Yes", Some(300), 3306)),
        ]);
        let o = replicas_observer("db1", &t, &split, 2_000);
        assert!(!o.says_gone && o.detail.contains("db3 still receives"), "{o:?}");
        // Replicating from elsewhere: cannot vouch.
        let elsewhere = BTreeMap::from([("db2".to_string(), replica("Connecting", None, 4000))]);
        assert!(!replicas_observer("db1", &t, &elsewhere, 2_000).says_gone);
        // Nobody to ask.
        let none = BTreeMap::from([("db2".to_string(), Observation::unreachable("down".into()))]);
        let o = replicas_observer("db1", &t, &none, 2_000);
        assert!(!o.says_gone && o.detail.contains("no replica"), "{o:?}");
    }
}
