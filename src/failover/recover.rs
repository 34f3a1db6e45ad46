//! Operations left running by a dead owner. Whoever next holds the cluster lock (the
//! coordinator on every look, or an operator's next operation before it starts) finds journal
//! records still `running` — their owner held the lock for the whole operation, so if we hold
//! it now, the owner is gone — and makes the cluster consistent again:
//! - the `primary` record already names the new node (the point of no return was passed):
//!   **finish it** — open the new primary, repoint the others, run the post hook;
//! - it does not: **roll it back** — the candidate replicates again, and a switchover's old
//!   primary (still the recorded one) is made writable again.
//!
//! The record says which, and by whom. A stalled owner that wakes up cannot carry on: its next
//! step begins with a version-checked write of the journal, which the recovery has changed, and
//! its `record` step checks a lock it no longer holds.

use anyhow::Result;

use super::execute::Execution;
use super::journal::{self, Journal, OpState, Record, StepState};
use super::lock::ClusterLock;
use super::plan::OpKind;
use super::prepare::Prepared;
use super::server::Server;
use super::view::ClusterView;
use super::{now_ms, Operator};
use crate::audit;
use crate::cluster::status::Flavor;

/// How many of the newest journal records are looked at.
const ORPHAN_SCAN: usize = 10;

/// Finishes or rolls back every `running` record; `lock` must be held by the caller. Returns
/// what was done, one line per record (empty: nothing was left running).
pub async fn recover_orphans(op: &Operator, lock: &ClusterLock) -> Result<Vec<String>> {
    let records = journal::list(&op.client, &op.paths, ORPHAN_SCAN).await?;
    let mut done = Vec::new();
    for (path, version, record) in records.into_iter().filter(|(_, _, r)| r.state == OpState::Running) {
        tracing::warn!(%path, "found an operation left running by a dead owner");
        done.push(recover_one(op, lock, path, version, record).await?);
    }
    Ok(done)
}

async fn recover_one(op: &Operator, lock: &ClusterLock, path: String, version: i32, record: Record) -> Result<String> {
    let view = ClusterView::read(&op.client, &op.paths).await?;
    let mut targets = std::collections::BTreeMap::new();
    for name in view.names() {
        if let Some(t) = view.target(&name, &op.access) {
            targets.insert(name, t);
        }
    }
    let flavor = view.statuses.values().find_map(|s| s.flavor).unwrap_or(Flavor::Mariadb);
    let prepared = Prepared { plan: record.plan.clone(), flavor, view, targets };
    let owner =
        format!("{}@{} ({}, pid {})", record.owner.user, record.owner.host, record.owner.origin, record.owner.pid);
    let who = format!("{}@{} ({})", op.actor.user, op.actor.host, op.origin);
    let new = record.new_primary.clone().unwrap_or_default();
    let recorded = record.kind != OpKind::Rejoin
        && prepared.view.primary.node == new
        && prepared.view.primary.epoch == record.epoch_before + 1;
    let journal = Journal::adopt(path.clone(), version, record);
    let mut ex = Execution::adopt(op, &prepared, lock.clone(), journal, &|_| {});
    for s in &mut ex.journal.record.steps {
        if s.state == StepState::Running {
            s.state = StepState::Failed;
            s.finished_ms = Some(now_ms());
            s.detail = Some(format!("its owner {owner} died during this step"));
        }
    }
    let said = if recorded {
        ex.journal.record.epoch_after = Some(prepared.view.primary.epoch);
        if let Some(s) = ex.journal.record.steps.iter_mut().find(|s| s.name == "record") {
            if s.state != StepState::Done {
                s.state = StepState::Done;
                s.detail = Some("found written by the recovery".into());
            }
        }
        let old = ex.old().to_string();
        let others: Vec<String> = prepared
            .view
            .names()
            .into_iter()
            .filter(|n| *n != new && (ex.kind == OpKind::Switchover || *n != old))
            .collect();
        let post = match ex.kind {
            OpKind::Switchover => prepared.view.config.hooks.post_switchover.clone(),
            _ => prepared.view.config.hooks.post_failover.clone(),
        };
        let result = ex.after_record(&others, post, &format!("finished by {who} after its owner {owner} died")).await;
        format!(
            "{path}: finished by {who} (the record already named {new}): {}",
            match result {
                Ok(()) => "done".to_string(),
                Err(e) => format!("{e:#}"),
            }
        )
    } else {
        let rolled = roll_back(&ex).await;
        let outcome = format!("{rolled} by {who} after its owner {owner} died");
        let state = if rolled.starts_with("rolled back") { OpState::RolledBack } else { OpState::Failed };
        ex.journal.finish(state, outcome.clone(), now_ms());
        format!("{path}: {outcome}")
    };
    let (_, mut journal) = ex.into_parts();
    if let Err(e) = journal.save(&op.client).await {
        tracing::warn!("{e}");
    }
    let detail = said.clone();
    let entry = audit::AuditRecord {
        schema: audit::AUDIT_SCHEMA,
        time_ms: now_ms(),
        user: op.actor.user.clone(),
        host: op.actor.host.clone(),
        ssh_client: op.actor.ssh_client.clone(),
        action: "recover".into(),
        path,
        version_before: None,
        version_after: None,
        digest_before: None,
        digest_after: None,
        result: "ok".into(),
        origin: op.origin.clone(),
        detail: Some(detail),
    };
    if let Err(e) = audit::append(&op.client, &op.paths.root, &entry).await {
        tracing::warn!("{e}");
    }
    tracing::warn!("{said}");
    Ok(said)
}

/// Undoes what the dead owner's steps before `record` may have done.
async fn roll_back(ex: &Execution<'_>) -> String {
    let started = |name: &str| ex.journal.record.step(name).is_some_and(|s| s.started_ms.is_some());
    let (old, new) = (ex.old(), ex.candidate());
    let mut done = Vec::new();
    let mut failed = Vec::new();
    if matches!(ex.kind, OpKind::Switchover | OpKind::Failover) && started("stop-replica") {
        match run_on(ex, new, |s| s.stmts.start_replica.to_string()).await {
            Ok(()) => done.push(format!("{new} replicates again")),
            Err(e) => failed.push(format!("restarting replication on {new}: {e:#}")),
        }
    }
    if ex.kind == OpKind::Switchover && started("fence-old") {
        let unfence = async {
            let mut s = Server::open(old, ex.target(old)).await?;
            s.unfence().await?;
            s.close().await;
            anyhow::Ok(())
        };
        match unfence.await {
            Ok(()) => done.push(format!("{old} is writable again")),
            Err(e) => failed.push(format!("making {old} writable again: {e:#}")),
        }
    }
    match (done.is_empty(), failed.is_empty()) {
        (true, true) => "rolled back: nothing had changed".to_string(),
        (_, true) => format!("rolled back: {}", done.join("; ")),
        _ => format!("ROLLBACK INCOMPLETE: {}; done: {}", failed.join("; "), done.join("; ")),
    }
}

async fn run_on(ex: &Execution<'_>, node: &str, sql: impl Fn(&Server) -> String) -> Result<()> {
    let mut s = Server::open(node, ex.target(node)).await?;
    let stmt = sql(&s);
    s.exec(&stmt).await?;
    s.close().await;
    Ok(())
}
