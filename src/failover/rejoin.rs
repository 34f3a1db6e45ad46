//! Rejoin: an old primary (or any node that stopped replicating) that is back is pointed at the
//! recorded primary — only when everything it has is a subset of the primary's, and it stays
//! read-only throughout. A node with errant transactions is reported with them, never
//! rejoined: a person decides what they were.
//!
//! Steps: `lock → check → fence → compare → repoint → verify`. Run by `myzoo rejoin`, `R` in the
//! console, and the coordinator when `failover.auto_rejoin` is on.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::execute::{Execution, StepFailure};
use super::gtid::Position;
use super::journal::{OpState, Record};
use super::plan::{Candidate, NodePosition, OpKind, Plan};
use super::prepare::{observe_all, step, Prepared};
use super::server::Server;
use super::view::ClusterView;
use super::{now_ms, Operator};
use crate::cluster::status::Flavor;
use crate::mysql::Target;

/// Longest `verify` waits for both replication threads to run.
const VERIFY_TIMEOUT_MS: u64 = 10_000;
const VERIFY_POLL_MS: u64 = 100;

/// Plans rejoining `node` to the recorded primary; never changes anything.
pub async fn plan(op: &Operator, node: &str) -> Result<Prepared> {
    let view = ClusterView::read(&op.client, &op.paths).await?;
    let primary = view.primary.node.clone();
    let mut targets = std::collections::BTreeMap::new();
    for name in [primary.as_str(), node] {
        let target = view
            .target(name, &op.access)
            .with_context(|| format!("{name} is not a node of cluster {}", op.paths.cluster))?;
        targets.insert(name.to_string(), target);
    }
    let mut refusals = Vec::new();
    let mut warnings = Vec::new();
    if node == primary {
        refusals.push(format!("{node} is the recorded primary"));
    }
    // The node first, then the primary: read in this order, the primary cannot look behind.
    let node_only = targets.iter().filter(|(n, _)| *n == node).map(|(n, t)| (n.clone(), t.clone())).collect();
    let mut observed = observe_all(&node_only).await;
    let primary_only = targets.iter().filter(|(n, _)| **n == primary).map(|(n, t)| (n.clone(), t.clone())).collect();
    observed.extend(observe_all(&primary_only).await);
    let (n, p) = (&observed[node], &observed[&primary]);
    let flavor = p.flavor.or(n.flavor).unwrap_or(Flavor::Mariadb);
    let node_pos = n.gtid.position().map(str::to_string);
    let primary_pos = p.gtid.binlog.clone().or_else(|| p.gtid.executed.clone());
    let mut errant = Vec::new();
    if !n.reachable {
        refusals.push(format!("{node} is unreachable: {}", n.error.as_deref().unwrap_or("no answer")));
    }
    if !p.reachable {
        refusals.push(format!("the primary {primary} is unreachable: {}", p.error.as_deref().unwrap_or("no answer")));
    }
    if let (Some(np), Some(pp)) = (&node_pos, &primary_pos) {
        match (Position::parse(flavor, np), Position::parse(flavor, pp)) {
            (Ok(np), Ok(pp)) => {
                let extra = pp.missing_text(&np);
                if !extra.is_empty() {
                    errant.push(extra.clone());
                    refusals.push(format!("{node} has transactions {primary} lacks (errant): {extra}; never rejoined"));
                }
            }
            (Err(e), _) | (_, Err(e)) => refusals.push(format!("cannot compare positions: {e}")),
        }
    }
    if let Some(r) = &n.replication {
        if r.io_ok() && r.sql_ok() && r.source_port == targets[&primary].port {
            refusals.push(format!("{node} already replicates from {primary}"));
        }
    }
    if n.read_only == Some(false) {
        warnings.push(format!("{node} is writable: it is made read-only first"));
    }
    let plan = Plan {
        kind: OpKind::Rejoin,
        cluster: op.paths.cluster.clone(),
        old_primary: primary.clone(),
        epoch: view.primary.epoch,
        candidate: Some(node.to_string()),
        candidates: vec![Candidate {
            node: node.to_string(),
            eligible: errant.is_empty(),
            reasons: Vec::new(),
            received: None,
            applied: node_pos.clone(),
            behind: None,
            errant,
        }],
        positions: vec![
            NodePosition {
                node: primary.clone(),
                role: "primary".into(),
                position: primary_pos,
                read_only: p.read_only,
            },
            NodePosition {
                node: node.to_string(),
                role: "rejoining".into(),
                position: node_pos,
                read_only: n.read_only,
            },
        ],
        steps: vec![
            step("lock", "take the cluster lock"),
            step("check", "re-read the primary record; stop if it moved"),
            step("fence", &format!("make sure {node} is read-only")),
            step("compare", &format!("check again that everything {node} has, {primary} has")),
            step(
                "repoint",
                &format!(
                    "switch {node}'s semi-sync source side off; point it at {primary} with GTID positioning, from \
                     where its own log ends"
                ),
            ),
            step("verify", &format!("wait until {node}'s replication threads run")),
        ],
        expected_block_ms: 0,
        refusals,
        warnings,
    };
    Ok(Prepared { plan, flavor, view, targets })
}

/// Runs a prepared rejoin (arguments and result as [`super::switchover::run`]).
pub async fn run(
    op: &Operator,
    prepared: Prepared,
    confirm: Option<&str>,
    report: &(dyn Fn(&Record) + Send + Sync),
) -> Result<Record> {
    let mut ex = Execution::start(op, &prepared, confirm, report).await?;
    let ok = match steps(&mut ex).await {
        Ok(detail) => {
            ex.journal.finish(OpState::Done, detail, now_ms());
            true
        }
        Err(f) => {
            ex.failed_before_record(f, "rolled back: nothing to undo (the node stays read-only)".into()).await;
            false
        }
    };
    if let Err(e) = ex.journal.save(&op.client).await {
        tracing::warn!("{e}");
    }
    Ok(ex.close(ok).await)
}

async fn steps(ex: &mut Execution<'_>) -> Result<String, StepFailure> {
    let (node, primary) = (ex.candidate(), ex.old());
    let (node_t, primary_t) = (ex.target(node).clone(), ex.target(primary).clone());
    let flavor = ex.prepared.flavor;
    let check = ex.check_record().await.map(|d| ((), d));
    ex.step("check", async { check }).await?;
    ex.step("fence", async {
        let mut s = Server::open(node, &node_t).await?;
        s.fence().await?;
        s.close().await;
        Ok(((), format!("{node} read-only")))
    })
    .await?;
    ex.step("compare", compare(node, &node_t, primary, &primary_t, flavor)).await?;
    let repl_user = ex.prepared.view.config.replication.user.clone();
    let repl_password = ex.op.access.repl_password.clone();
    ex.step("repoint", async {
        let mut s = Server::open(node, &node_t).await?;
        let semi_sync_off = s.replicate_from(&primary_t, &repl_user, repl_password.as_deref(), true).await?;
        s.close().await;
        let semi_sync = if semi_sync_off { "; its semi-sync source side switched off" } else { "" };
        Ok(((), format!("{node} replicates from {primary}{semi_sync}")))
    })
    .await?;
    ex.step("verify", verify(node, &node_t)).await?;
    Ok(format!("{node} rejoined: it replicates from {primary}"))
}

async fn compare(
    node: &str,
    node_t: &Target,
    primary: &str,
    primary_t: &Target,
    flavor: Flavor,
) -> Result<((), String)> {
    let mut n = Server::open(node, node_t).await?;
    let sql = format!("SELECT @@global.{}", n.stmts.applied_variable());
    let np = n.value(&sql).await?.unwrap_or_default().replace('\n', "");
    n.close().await;
    let mut p = Server::open(primary, primary_t).await?;
    let pp = p.position().await?;
    p.close().await;
    let (npos, ppos) = (
        Position::parse(flavor, &np).map_err(anyhow::Error::msg)?,
        Position::parse(flavor, &pp).map_err(anyhow::Error::msg)?,
    );
    anyhow::ensure!(ppos.contains(&npos), "{node} has transactions {primary} lacks: {}", ppos.missing_text(&npos));
    Ok(((), format!("{node} at {np} ⊆ {primary} at {pp}")))
}

async fn verify(node: &str, target: &Target) -> Result<((), String)> {
    let deadline = Instant::now() + Duration::from_millis(VERIFY_TIMEOUT_MS);
    let mut s = Server::open(node, target).await?;
    loop {
        let row: Option<mysql_async::Row> = {
            use mysql_async::prelude::Queryable;
            s.conn.query_first(s.stmts.replica_status).await.context("replica status")?
        };
        let r = row
            .map(crate::mysql::replica::row_map)
            .and_then(|r| crate::mysql::replica::parse_replication(&r, &s.stmts.columns));
        match r {
            Some(r) if r.io_ok() && r.sql_ok() => {
                s.close().await;
                return Ok(((), "both replication threads running".into()));
            }
            Some(r) if !r.last_sql_error.is_empty() || !r.last_io_error.is_empty() => {
                anyhow::bail!("replication stopped: {} {}", r.last_io_error, r.last_sql_error)
            }
            _ if Instant::now() >= deadline => {
                anyhow::bail!("replication threads not running after {VERIFY_TIMEOUT_MS} ms")
            }
            _ => tokio::time::sleep(Duration::from_millis(VERIFY_POLL_MS)).await,
        }
    }
}
