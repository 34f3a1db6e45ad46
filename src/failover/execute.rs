//! The journaled execution every operation shares: the guards before anything changes
//! (read-only, production confirmation, the plan's refusals), the cluster lock, the journal
//! record and its steps, the `record` step (the point of no return), opening the new primary,
//! repointing the others, hooks, the audit record and the lock's release. Switchover and
//! failover differ only in the steps before `record` (`switchover`, `unplanned`).

use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::hooks;
use super::journal::{Journal, OpState, Owner, Record, StepState};
use super::lock::{self, ClusterLock, LockInfo};
use super::plan::OpKind;
use super::prepare::{Prepared, Refused};
use super::server::Server;
use super::{now_ms, Operator};
use crate::audit::{self, AuditRecord, AUDIT_SCHEMA};
use crate::cluster::config::{parse_primary, PrimaryRecord};
use crate::mysql::Target;
use crate::zk::describe_error;

/// Longest we try to learn whether a `record` write whose answer was lost was applied.
const RECORD_RESOLVE_TIMEOUT_MS: u64 = 10_000;
/// Pause between reads while resolving a lost answer.
const RECORD_RESOLVE_RETRY_MS: u64 = 200;

/// A step's failure: which step, and why.
pub struct StepFailure {
    pub step: &'static str,
    pub error: anyhow::Error,
}

/// `map_err` helper: `.map_err(fail("catch-up"))`.
pub fn fail(step: &'static str) -> impl Fn(anyhow::Error) -> StepFailure {
    move |error| StepFailure { step, error }
}

/// One running operation: its lock, its journal, and who is told about each change.
pub struct Execution<'a> {
    pub op: &'a Operator,
    pub prepared: &'a Prepared,
    pub kind: OpKind,
    lock: ClusterLock,
    pub journal: Journal,
    report: &'a (dyn Fn(&Record) + Send + Sync),
    /// When writes started being refused (the old primary fenced, or found gone).
    pub block_from: Option<Instant>,
    /// When ZooKeeper last accepted one of our writes.
    last_written: Instant,
    /// The cluster runs semi-sync (learnt before `record`, from the old primary): `open-new`
    /// switches the new primary's source side on, so its first write already waits for a
    /// replica's acknowledgement.
    pub semi_sync: bool,
}

impl<'a> Execution<'a> {
    /// Checks the guards, takes the lock and creates the journal record (its `lock` step done).
    /// An `Err` means nothing was changed.
    pub async fn start(
        op: &'a Operator,
        prepared: &'a Prepared,
        confirm: Option<&str>,
        report: &'a (dyn Fn(&Record) + Send + Sync),
    ) -> Result<Execution<'a>> {
        let kind = prepared.plan.kind;
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
            operation: kind.label().into(),
            user: op.actor.user.clone(),
            host: op.actor.host.clone(),
            pid: std::process::id(),
            origin: op.origin.clone(),
            since_ms: now_ms(),
        };
        let lock = lock::acquire(&op.client, &op.paths, &info).await.map_err(Refused::Lock)?;
        // An operation left running by a dead owner is finished or rolled back first; what it
        // did changes the cluster, so this plan is stale and the operator plans again.
        match super::recover::recover_orphans(op, &lock).await {
            Ok(done) if done.is_empty() => {}
            Ok(done) => {
                lock.release(&op.client).await;
                return Err(Refused::Orphans(done.join("; ")).into());
            }
            Err(e) => {
                lock.release(&op.client).await;
                return Err(e.context("looking for operations left running by a dead owner"));
            }
        }
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
                lock.release(&op.client).await;
                return Err(e.into());
            }
        };
        journal.end_step("lock", StepState::Done, Some(lock.path.clone()), now_ms());
        if let Err(e) = journal.save(&op.client).await {
            tracing::warn!("{e}");
        }
        report(&journal.record);
        Ok(Execution {
            op,
            prepared,
            kind,
            lock,
            journal,
            report,
            block_from: None,
            semi_sync: false,
            last_written: Instant::now(),
        })
    }

    /// Carries on a journal record found on the server (recovery of a dead owner's operation),
    /// under a lock the caller holds.
    pub fn adopt(
        op: &'a Operator,
        prepared: &'a Prepared,
        lock: ClusterLock,
        journal: Journal,
        report: &'a (dyn Fn(&Record) + Send + Sync),
    ) -> Execution<'a> {
        // The dead owner's reading of the old primary is lost: the cluster uses semi-sync if
        // any agent reports it configured.
        let semi_sync = prepared
            .view
            .statuses
            .values()
            .any(|s| s.semi_sync.as_ref().is_some_and(|x| x.source_enabled || x.replica_enabled));
        Execution {
            op,
            prepared,
            kind: prepared.plan.kind,
            lock,
            journal,
            report,
            block_from: None,
            semi_sync,
            last_written: Instant::now(),
        }
    }

    /// Gives the lock back to the caller that lent it to [`Execution::adopt`] (no audit, no
    /// release: the caller does both).
    pub fn into_parts(self) -> (ClusterLock, Journal) {
        (self.lock, self.journal)
    }

    pub fn old(&self) -> &'a str {
        &self.prepared.plan.old_primary
    }

    pub fn candidate(&self) -> &'a str {
        self.prepared.plan.candidate.as_deref().unwrap_or_default()
    }

    pub fn target(&self, node: &str) -> &'a Target {
        &self.prepared.targets[node]
    }

    /// Marks a step running, after checking the session: a lost session may have lost the lock,
    /// so the operation stops before its next step. Three checks: the client's own state; the
    /// time since ZooKeeper last accepted one of our writes (a process suspended for longer than
    /// the session timeout may have lost its session without its client knowing yet); and the
    /// version-checked journal write itself (it fails on an expired session, and after a
    /// recovery by someone else changed the record).
    pub async fn begin(&mut self, name: &str) -> Result<()> {
        anyhow::ensure!(
            !self.op.client.state().is_terminated(),
            "the ZooKeeper session ended ({:?}); stopping before {name}",
            self.op.client.state()
        );
        let quiet = self.last_written.elapsed();
        anyhow::ensure!(
            quiet < self.op.client.session_timeout(),
            "nothing was written to ZooKeeper for {} ms, longer than the session timeout (this process stalled?); \
             stopping before {name}",
            quiet.as_millis()
        );
        self.journal.start_step(name, now_ms());
        self.journal.save(&self.op.client).await.context("writing the journal")?;
        self.last_written = Instant::now();
        (self.report)(&self.journal.record);
        Ok(())
    }

    pub async fn end(&mut self, name: &str, state: StepState, detail: Option<String>) {
        self.journal.end_step(name, state, detail, now_ms());
        match self.journal.save(&self.op.client).await {
            Ok(()) => self.last_written = Instant::now(),
            Err(e) => tracing::warn!("{e}"),
        }
        (self.report)(&self.journal.record);
    }

    /// Runs `name` as one journaled step.
    pub async fn step<T>(
        &mut self,
        name: &'static str,
        work: impl std::future::Future<Output = Result<(T, String)>>,
    ) -> Result<T, StepFailure> {
        self.begin(name).await.map_err(fail(name))?;
        let (value, detail) = work.await.map_err(fail(name))?;
        self.end(name, StepState::Done, Some(detail)).await;
        Ok(value)
    }

    /// Ends the operation after a failure before `record`: `rolled` says what was undone.
    pub async fn failed_before_record(&mut self, f: StepFailure, rolled: String) -> anyhow::Error {
        let outcome = format!("step {} failed: {:#}; {rolled}", f.step, f.error);
        self.end(f.step, StepState::Failed, Some(format!("{:#}", f.error))).await;
        let state = if rolled.starts_with("rolled back") { OpState::RolledBack } else { OpState::Failed };
        self.journal.finish(state, outcome.clone(), now_ms());
        if let Err(e) = self.journal.save(&self.op.client).await {
            tracing::warn!("{e}");
        }
        anyhow::anyhow!(outcome)
    }

    /// Nothing moved since the plan: the record has the version and the node it had.
    pub async fn check_record(&self) -> Result<String> {
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
        let record = parse_primary(&data).map_err(anyhow::Error::msg)?;
        anyhow::ensure!(record.node == self.old(), "the primary record names {} now", record.node);
        Ok(format!("primary record version {}, epoch {}", stat.version, record.epoch))
    }

    pub async fn hook(&self, cmd: &str, phase: &str) -> Result<String> {
        let env = hooks::HookEnv {
            operation: self.kind.label().into(),
            phase: phase.into(),
            cluster: self.op.paths.cluster.clone(),
            old_primary: self.old().to_string(),
            new_primary: self.candidate().to_string(),
            epoch: self.prepared.view.primary.epoch.saturating_add(1),
        };
        hooks::run(cmd, &env, Duration::from_secs(self.prepared.view.config.hooks.timeout_s)).await
    }

    /// The point of no return: one multi-op that checks our lock znode and the record's version
    /// and writes the new record (epoch + 1).
    pub async fn record(&mut self) -> Result<(u64, String)> {
        // The epoch is read from ZooKeeper: one at its maximum cannot grow, and wrapping to 0
        // would let every fenced node look current again.
        let epoch =
            self.prepared.view.primary.epoch.checked_add(1).context("the primary record's epoch is at its maximum")?;
        let new = PrimaryRecord { node: self.candidate().to_string(), epoch };
        let data = serde_json::to_vec(&new)?;
        let path = self.op.paths.primary();
        let mut multi = self.op.client.new_multi_writer();
        multi.add_check_version(&self.lock.path, 0)?;
        if let Some(guard) = &self.op.guard {
            multi.add_check_version(guard, 0)?;
        }
        multi.add_set_data(&path, &data, Some(self.prepared.view.primary_version))?;
        match multi.commit().await {
            Ok(_) => {}
            Err(zookeeper_client::MultiWriteError::OperationFailed { index, source }) => {
                let what = match (index, self.op.guard.is_some()) {
                    (0, _) => "our cluster lock is gone",
                    (1, true) => "this coordinator was deposed (its election znode is gone)",
                    _ => "the primary record changed",
                };
                anyhow::bail!("{what} ({})", describe_error(&source))
            }
            Err(e) => {
                // The answer was lost: learn from the record itself whether it was written.
                tracing::warn!("writing the primary record: {e}; reading it back");
                self.resolve_record(&new).await?;
            }
        }
        self.journal.record.epoch_after = Some(epoch);
        Ok((epoch, format!("{} is primary, epoch {epoch}", self.candidate())))
    }

    async fn resolve_record(&self, wanted: &PrimaryRecord) -> Result<()> {
        let deadline = Instant::now() + Duration::from_millis(RECORD_RESOLVE_TIMEOUT_MS);
        loop {
            match self.op.client.get_data(&self.op.paths.primary()).await {
                Ok((data, _)) => {
                    let now = parse_primary(&data).map_err(anyhow::Error::msg)?;
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
                Err(_) => tokio::time::sleep(Duration::from_millis(RECORD_RESOLVE_RETRY_MS)).await,
            }
        }
    }

    /// Everything after `record`: open the new primary, point `others` at it, the post hook,
    /// and the operation's end. The new primary is recorded, so nothing here rolls back; a
    /// step that fails is reported and the operation ends `failed` with what is left to do.
    pub async fn after_record(&mut self, others: &[String], post_hook: Option<String>, done: &str) -> Result<()> {
        let mut problems = Vec::new();
        match self.begin("open-new").await {
            Ok(()) => match self.open_new().await {
                Ok(semi_sync) => {
                    let block = self.block_from.map(|t| i64::try_from(t.elapsed().as_millis()).unwrap_or(i64::MAX));
                    self.journal.record.write_block_ms = block;
                    let detail = format!(
                        "{} writable{semi_sync}; writes were refused for {} ms",
                        self.candidate(),
                        block.map_or("?".to_string(), |b| b.to_string())
                    );
                    self.end("open-new", StepState::Done, Some(detail)).await;
                }
                Err(e) => {
                    self.end("open-new", StepState::Failed, Some(format!("{e:#}"))).await;
                    problems.push(format!("opening {}: {e:#}", self.candidate()));
                }
            },
            Err(e) => problems.push(format!("{e:#}")),
        }
        if !others.is_empty() && self.begin("repoint").await.is_ok() {
            let (detail, failures) = self.repoint(others).await;
            let state = if failures.is_empty() { StepState::Done } else { StepState::Failed };
            self.end("repoint", state, Some(detail)).await;
            problems.extend(failures);
        }
        if let Some(cmd) = post_hook {
            if self.begin("post-hook").await.is_ok() {
                match self.hook(&cmd, "post").await {
                    Ok(out) => self.end("post-hook", StepState::Done, Some(out)).await,
                    Err(e) => {
                        self.end("post-hook", StepState::Failed, Some(format!("{e:#}"))).await;
                        problems.push(format!("post-{} hook: {e:#}", self.kind.label()));
                    }
                }
            }
        }
        let epoch = self.journal.record.epoch_after.unwrap_or_default();
        let (state, outcome) = if problems.is_empty() {
            (OpState::Done, format!("{} is primary (epoch {epoch}); {done}", self.candidate()))
        } else {
            (
                OpState::Failed,
                format!("{} is recorded primary (epoch {epoch}), but: {}", self.candidate(), problems.join("; ")),
            )
        };
        self.journal.finish(state, outcome.clone(), now_ms());
        if let Err(e) = self.journal.save(&self.op.client).await {
            tracing::warn!("{e}");
        }
        (self.report)(&self.journal.record);
        anyhow::ensure!(problems.is_empty(), outcome);
        Ok(())
    }

    /// Opens the new primary; returns what it did with semi-sync, for the step's detail.
    async fn open_new(&self) -> Result<&'static str> {
        let mut server = Server::open(self.candidate(), self.target(self.candidate())).await?;
        server.exec(server.stmts.reset_replica_all).await?;
        // Before it opens, so no write on it commits without an acknowledgement.
        let semi_sync = match self.semi_sync {
            true if server.switch_semi_sync_source(true).await? => ", semi-sync source side switched on",
            true => ", semi-sync source side on",
            false => "",
        };
        server.unfence().await?;
        server.close().await;
        Ok(semi_sync)
    }

    /// Points each of `nodes` at the new primary; returns a summary and the failures. An old
    /// primary among them first starts its replica position where its own log ends, and goes
    /// last: by then the others have left it, so no replica is attached when its semi-sync
    /// source side is switched off (older MariaDB releases could crash when a semi-sync
    /// replica disconnected from a server whose source side had been switched off while it was
    /// attached, MDEV-36359), and the new primary's first acknowledgements come from replicas
    /// that were never held up.
    async fn repoint(&self, nodes: &[String]) -> (String, Vec<String>) {
        let source = self.target(self.candidate()).clone();
        let repl_user = self.prepared.view.config.replication.user.clone();
        let repl_password = self.op.access.repl_password.clone();
        let mut done = Vec::new();
        let mut failures = Vec::new();
        let mut ordered: Vec<&String> = nodes.iter().filter(|n| *n != self.old()).collect();
        ordered.extend(nodes.iter().filter(|n| *n == self.old()));
        for node in ordered {
            // A node with errant transactions would break on the first event in strict mode, or
            // worse, serve them: it is left as it is and reported, for a person to resolve.
            if let Some(c) = self.prepared.plan.candidates.iter().find(|c| &c.node == node && !c.errant.is_empty()) {
                failures.push(format!("{node} not repointed: errant transactions ({})", c.errant.join("; ")));
                continue;
            }
            let align = node == self.old();
            let result = async {
                let mut server = Server::open(node, self.target(node)).await?;
                let semi_sync_off = server.replicate_from(&source, &repl_user, repl_password.as_deref(), align).await?;
                server.close().await;
                anyhow::Ok(semi_sync_off)
            }
            .await;
            match result {
                Ok(false) => done.push(node.clone()),
                Ok(true) => done.push(format!("{node} (semi-sync source side switched off)")),
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

    /// Writes the audit record, releases the lock, and returns the final record.
    pub async fn close(mut self, ok: bool) -> Record {
        let audited = self.audit_record(ok);
        if let Err(e) = audit::append(&self.op.client, &self.op.paths.root, &audited).await {
            tracing::warn!("{e}");
            self.journal.record.outcome = Some(format!(
                "{} (the audit record was not written: {e})",
                self.journal.record.outcome.clone().unwrap_or_default()
            ));
            if let Err(e) = self.journal.save(&self.op.client).await {
                tracing::warn!("{e}");
            }
        }
        self.lock.release(&self.op.client).await;
        (self.report)(&self.journal.record);
        self.journal.record
    }

    fn audit_record(&self, ok: bool) -> AuditRecord {
        let record = &self.journal.record;
        let result =
            if ok { "ok".to_string() } else { format!("failed: {}", record.outcome.clone().unwrap_or_default()) };
        let version = self.prepared.view.primary_version;
        AuditRecord {
            schema: AUDIT_SCHEMA,
            time_ms: now_ms(),
            user: self.op.actor.user.clone(),
            host: self.op.actor.host.clone(),
            ssh_client: self.op.actor.ssh_client.clone(),
            action: self.kind.label().into(),
            path: self.op.paths.primary(),
            version_before: Some(version),
            version_after: record.epoch_after.map(|_| version + 1),
            digest_before: None,
            digest_after: None,
            result,
            origin: self.op.origin.clone(),
            detail: Some(format!(
                "{} → {} epoch {} → {}; {}; journal {}",
                record.old_primary,
                record.new_primary.as_deref().unwrap_or("?"),
                record.epoch_before,
                record.epoch_after.map_or("-".to_string(), |e| e.to_string()),
                record.state.label(),
                self.journal.path
            )),
        }
    }
}
