//! A dump's record in the cluster's journal: `<cluster>/history/mysql-backup-NNNNNNNNNN`,
//! beside the operations' `op-N` records and numbered with them (one sequence per folder).
//! It borrows the journal's step vocabulary (`Step`, `StepState`, `Owner`) but is not an
//! operation `Record`: it has no plan, changes no primary and must never be "recovered" or
//! rolled back, so its own name prefix keeps it out of every reader of `op-` records (the
//! console's failover screen, orphan recovery, the coordinator) while the history still shows
//! what was done, when, by whom. Journal writes are best effort: a dump does not fail because
//! ZooKeeper went away after the source was chosen.

use serde::{Deserialize, Serialize};
use zookeeper_client::{Acls, Client, CreateMode};

use crate::cluster::ClusterPaths;
use crate::failover::journal::{Owner, Step, StepState};
use crate::zk::{child_path, describe_error};

/// Name prefix of a dump's record under `history/`.
pub const BACKUP_RECORD_PREFIX: &str = "mysql-backup-";
/// The `operation` field's value.
pub const OPERATION: &str = "mysql-backup";
pub const HISTORY_BACKUP_SCHEMA: u32 = 1;

/// The steps of a dump, in order: (name, title).
pub const STEPS: &[(&str, &str)] = &[
    ("choose-source", "choose the node to dump"),
    ("dump", "dump, compress and scan"),
    ("checksum", "write the checksum and rename the file"),
    ("record", "record the dump in the backup store"),
    ("retention", "remove dumps beyond --keep"),
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupHistory {
    pub schema: u32,
    /// Always `mysql-backup`.
    pub operation: String,
    pub cluster: String,
    /// `running`, `complete`, `failed`, `cancelled` (the dump's own states).
    pub state: String,
    pub owner: Owner,
    pub started_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_ms: Option<i64>,
    pub node: String,
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dump_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtid_position: Option<String>,
    pub steps: Vec<Step>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

impl BackupHistory {
    pub fn new(cluster: &str, owner: Owner, now_ms: i64) -> BackupHistory {
        BackupHistory {
            schema: HISTORY_BACKUP_SCHEMA,
            operation: OPERATION.into(),
            cluster: cluster.into(),
            state: "running".into(),
            owner,
            started_ms: now_ms,
            finished_ms: None,
            node: String::new(),
            file: String::new(),
            dump_id: None,
            gtid_position: None,
            steps: STEPS
                .iter()
                .map(|(name, title)| Step {
                    name: (*name).into(),
                    title: (*title).into(),
                    state: StepState::Pending,
                    started_ms: None,
                    finished_ms: None,
                    detail: None,
                })
                .collect(),
            outcome: None,
        }
    }

    pub fn start(&mut self, step: &str, now_ms: i64) {
        if let Some(s) = self.steps.iter_mut().find(|s| s.name == step) {
            s.state = StepState::Running;
            s.started_ms = Some(now_ms);
        }
    }

    pub fn end(&mut self, step: &str, state: StepState, detail: Option<String>, now_ms: i64) {
        if let Some(s) = self.steps.iter_mut().find(|s| s.name == step) {
            s.started_ms.get_or_insert(now_ms);
            s.state = state;
            s.finished_ms = Some(now_ms);
            s.detail = detail.or(s.detail.take());
        }
    }

    pub fn finish(&mut self, state: &str, outcome: String, now_ms: i64) {
        self.state = state.into();
        self.outcome = Some(outcome);
        self.finished_ms = Some(now_ms);
        for s in &mut self.steps {
            if s.state == StepState::Pending {
                s.state = StepState::Skipped;
            }
        }
    }
}

/// The record as written so far; `path` is `None` when it could not be created.
pub struct HistoryWriter {
    client: Client,
    pub path: Option<String>,
    version: i32,
    pub record: BackupHistory,
}

impl HistoryWriter {
    /// Creates the record (best effort: a failure is logged and the dump goes on).
    pub async fn create(client: &Client, paths: &ClusterPaths, record: BackupHistory) -> HistoryWriter {
        let dir = paths.history_dir();
        let mut w = HistoryWriter { client: client.clone(), path: None, version: 0, record };
        let result = async {
            let data = serde_json::to_vec(&w.record).map_err(|e| e.to_string())?;
            let acl = crate::zk::acl::ensure_folder(client, &dir).await.map_err(|e| describe_error(&e))?;
            let prefix = child_path(&dir, BACKUP_RECORD_PREFIX);
            let options = CreateMode::PersistentSequential.with_acls(Acls::new(&acl));
            let (_, seq) = client.create(&prefix, &data, &options).await.map_err(|e| describe_error(&e))?;
            Ok::<_, String>(format!("{prefix}{seq}"))
        }
        .await;
        match result {
            Ok(p) => w.path = Some(p),
            Err(e) => tracing::warn!("{dir}: the dump's history record was not written: {e}"),
        }
        w
    }

    /// Writes the record as it stands (best effort, version-checked).
    pub async fn save(&mut self) {
        let Some(path) = &self.path else { return };
        let data = match serde_json::to_vec(&self.record) {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!("{path}: {e}");
                return;
            }
        };
        match self.client.set_data(path, &data, Some(self.version)).await {
            Ok(stat) => self.version = stat.version,
            Err(e) => tracing::warn!("{path}: the dump's history record was not updated: {}", describe_error(&e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_is_not_an_operation_record() {
        let owner = Owner { user: "u".into(), host: "h".into(), pid: 1, origin: "cli".into(), session: "0".into() };
        let mut r = BackupHistory::new("c", owner, 5);
        r.start("choose-source", 6);
        r.end("choose-source", StepState::Done, Some("db2".into()), 7);
        r.finish("cancelled", "cancelled by the operator".into(), 9);
        let data = serde_json::to_vec(&r).unwrap();
        // Readers of `op-` records would refuse it anyway; its prefix keeps it away from them.
        assert!(crate::failover::journal::parse_record(&data).is_err());
        assert!(!BACKUP_RECORD_PREFIX.starts_with(crate::failover::journal::RECORD_PREFIX));
        let back: BackupHistory = serde_json::from_slice(&data).unwrap();
        assert_eq!(back.steps[0].state, StepState::Done);
        assert_eq!(back.steps[1].state, StepState::Skipped);
        assert_eq!(back.operation, "mysql-backup");
    }
}
