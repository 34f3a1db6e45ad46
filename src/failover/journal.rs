//! The journal of an operation: one persistent sequential znode under `<cluster>/history/`
//! (`op-NNNNNNNNNN`) holding the plan, every step with its state and timings, and the
//! operation's state. The lock holder creates it before the first change and rewrites it
//! (version-checked) as each step starts and ends, so a console anywhere shows the operation
//! live through its watch, and a later holder that finds a record left `running` by a dead
//! owner knows exactly how far it got.

use serde::{Deserialize, Serialize};
use zookeeper_client::{Acls, Client, CreateMode, Error as ZkError};

use super::plan::{OpKind, Plan};
use crate::cluster::ClusterPaths;
use crate::zk::load::read_many;
use crate::zk::{child_path, describe_error};

/// Version of the record layout.
pub const HISTORY_SCHEMA: u32 = 1;
/// Name prefix of each record; ZooKeeper appends a ten-digit sequence number.
pub const RECORD_PREFIX: &str = "op-";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpState {
    Running,
    /// Finished: the new primary is recorded and open.
    Done,
    /// Stopped before the point of no return and rolled back: the old primary is primary again.
    RolledBack,
    /// Stopped and could not be rolled back cleanly: the record says what is left to do.
    Failed,
}

impl OpState {
    pub fn label(self) -> &'static str {
        match self {
            OpState::Running => "running",
            OpState::Done => "done",
            OpState::RolledBack => "rolled back",
            OpState::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepState {
    Pending,
    Running,
    Done,
    Failed,
    Skipped,
    RolledBack,
}

impl StepState {
    pub fn label(self) -> &'static str {
        match self {
            StepState::Pending => "pending",
            StepState::Running => "running",
            StepState::Done => "done",
            StepState::Failed => "FAILED",
            StepState::Skipped => "skipped",
            StepState::RolledBack => "rolled back",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub name: String,
    pub title: String,
    pub state: StepState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_ms: Option<i64>,
    /// What happened (the position waited for, the sessions ended) or why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Step {
    pub fn duration_ms(&self) -> Option<i64> {
        Some(self.finished_ms? - self.started_ms?)
    }
}

/// Who runs the operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub user: String,
    pub host: String,
    pub pid: u32,
    /// `cli`, `console`, `coordinator`.
    pub origin: String,
    /// The owner's ZooKeeper session, hex: a record `running` whose session is gone is orphaned.
    pub session: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub schema: u32,
    pub kind: OpKind,
    pub cluster: String,
    pub state: OpState,
    pub owner: Owner,
    pub started_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_ms: Option<i64>,
    pub old_primary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_primary: Option<String>,
    pub epoch_before: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch_after: Option<u64>,
    /// Writes refused from the fence to the open, as measured by the owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_block_ms: Option<i64>,
    pub plan: Plan,
    pub steps: Vec<Step>,
    /// The last word: what was done, or which step failed and why, and what was rolled back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

impl Record {
    /// A fresh `running` record with every planned step pending.
    pub fn new(plan: Plan, owner: Owner, now_ms: i64) -> Record {
        let steps = plan
            .steps
            .iter()
            .map(|s| Step {
                name: s.name.clone(),
                title: s.title.clone(),
                state: StepState::Pending,
                started_ms: None,
                finished_ms: None,
                detail: None,
            })
            .collect();
        Record {
            schema: HISTORY_SCHEMA,
            kind: plan.kind,
            cluster: plan.cluster.clone(),
            state: OpState::Running,
            owner,
            started_ms: now_ms,
            finished_ms: None,
            old_primary: plan.old_primary.clone(),
            new_primary: plan.candidate.clone(),
            epoch_before: plan.epoch,
            epoch_after: None,
            write_block_ms: None,
            plan,
            steps,
            outcome: None,
        }
    }

    pub fn step(&self, name: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.name == name)
    }

    fn step_mut(&mut self, name: &str) -> Option<&mut Step> {
        self.steps.iter_mut().find(|s| s.name == name)
    }

    pub fn duration_ms(&self) -> Option<i64> {
        Some(self.finished_ms? - self.started_ms)
    }
}

pub fn parse_record(data: &[u8]) -> Result<Record, String> {
    serde_json::from_slice(data).map_err(|e| format!("history record is not valid: {e}"))
}

#[derive(Debug, thiserror::Error)]
#[error("journal {path}: {message}")]
pub struct JournalError {
    pub path: String,
    pub message: String,
}

/// A record being written by its owner: the path, the version last written, the record.
#[derive(Debug, Clone)]
pub struct Journal {
    pub path: String,
    version: i32,
    pub record: Record,
}

impl Journal {
    /// Creates the record under `<cluster>/history/`.
    pub async fn create(client: &Client, paths: &ClusterPaths, record: Record) -> Result<Journal, JournalError> {
        let dir = paths.history_dir();
        let err = |path: &str, e: &ZkError| JournalError { path: path.to_string(), message: describe_error(e) };
        let data =
            serde_json::to_vec(&record).map_err(|e| JournalError { path: dir.clone(), message: e.to_string() })?;
        let acl = crate::zk::acl::ensure_folder(client, &dir).await.map_err(|e| err(&dir, &e))?;
        let prefix = child_path(&dir, RECORD_PREFIX);
        let options = CreateMode::PersistentSequential.with_acls(Acls::new(&acl));
        let (_, seq) = client.create(&prefix, &data, &options).await.map_err(|e| err(&prefix, &e))?;
        Ok(Journal { path: format!("{prefix}{seq}"), version: 0, record })
    }

    /// Takes over a record found on the server (a later holder finishing an orphaned one).
    pub fn adopt(path: String, version: i32, record: Record) -> Journal {
        Journal { path, version, record }
    }

    /// Writes the record as it stands, checked against the version we last wrote: a second
    /// writer is a bug worth stopping for.
    pub async fn save(&mut self, client: &Client) -> Result<(), JournalError> {
        let data = serde_json::to_vec(&self.record)
            .map_err(|e| JournalError { path: self.path.clone(), message: e.to_string() })?;
        match client.set_data(&self.path, &data, Some(self.version)).await {
            Ok(stat) => {
                self.version = stat.version;
                Ok(())
            }
            Err(e) => Err(JournalError { path: self.path.clone(), message: describe_error(&e) }),
        }
    }

    pub fn start_step(&mut self, name: &str, now_ms: i64) {
        if let Some(s) = self.record.step_mut(name) {
            s.state = StepState::Running;
            s.started_ms = Some(now_ms);
        }
    }

    pub fn end_step(&mut self, name: &str, state: StepState, detail: Option<String>, now_ms: i64) {
        if let Some(s) = self.record.step_mut(name) {
            if s.started_ms.is_none() {
                s.started_ms = Some(now_ms);
            }
            s.state = state;
            s.finished_ms = Some(now_ms);
            if detail.is_some() {
                s.detail = detail;
            }
        }
    }

    pub fn finish(&mut self, state: OpState, outcome: String, now_ms: i64) {
        self.record.state = state;
        self.record.outcome = Some(outcome);
        self.record.finished_ms = Some(now_ms);
        for s in &mut self.record.steps {
            if s.state == StepState::Pending {
                s.state = StepState::Skipped;
            }
        }
    }
}

/// Up to `limit` records, newest first. Unreadable records are skipped with a warning.
pub async fn list(
    client: &Client,
    paths: &ClusterPaths,
    limit: usize,
) -> Result<Vec<(String, i32, Record)>, JournalError> {
    let dir = paths.history_dir();
    let mut names = match client.list_children(&dir).await {
        Ok(n) => n,
        Err(ZkError::NoNode) => return Ok(Vec::new()),
        Err(e) => return Err(JournalError { path: dir, message: describe_error(&e) }),
    };
    names.retain(|n| n.starts_with(RECORD_PREFIX));
    names.sort_unstable_by(|a, b| b.cmp(a));
    names.truncate(limit);
    let wanted: Vec<String> = names.iter().map(|n| child_path(&dir, n)).collect();
    let (nodes, failed) =
        read_many(client, wanted).await.map_err(|e| JournalError { path: dir.clone(), message: e.message })?;
    for (path, why) in failed {
        tracing::warn!("{path}: {why}");
    }
    let mut out = Vec::new();
    for info in nodes {
        match parse_record(&info.data) {
            Ok(r) => out.push((info.path, info.stat.version, r)),
            Err(e) => tracing::warn!("{}: {e}", info.path),
        }
    }
    out.sort_by(|a, b| b.0.cmp(&a.0));
    Ok(out)
}
