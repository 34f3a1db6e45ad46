//! The audit log under `<root>/audit`: one persistent-sequential JSON znode per mutation
//! attempt (done, failed or refused), written by `ops`, listed newest first by the audit pane.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zookeeper_client::{Acls, Client, CreateMode, Error as ZkError};

use crate::zk::load::{read_many, LoadError};
use crate::zk::{base_name, child_path, describe_error};

/// Version of the record layout.
pub const AUDIT_SCHEMA: u32 = 1;
/// Name prefix of each record; ZooKeeper appends a ten-digit sequence number.
pub const ENTRY_PREFIX: &str = "entry-";
/// Records read per multi-read page while listing.
const LIST_PAGE: usize = 200;

/// One audit record. `result` is `ok`, `failed: <why>` or `refused: <why>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub schema: u32,
    pub time_ms: i64,
    pub user: String,
    pub host: String,
    #[serde(default)]
    pub ssh_client: Option<String>,
    /// `set`, `create`, `delete`, `reveal-secret` …
    pub action: String,
    pub path: String,
    #[serde(default)]
    pub version_before: Option<i32>,
    #[serde(default)]
    pub version_after: Option<i32>,
    /// SHA-256 of the data, hex; `None` when the znode did not exist (or was not read).
    #[serde(default)]
    pub digest_before: Option<String>,
    #[serde(default)]
    pub digest_after: Option<String>,
    pub result: String,
    /// `console` or `cli`.
    pub origin: String,
    /// Extra facts about the attempt (`mode ttl 60000 ms`, `recursive, 12 descendants` …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl AuditRecord {
    pub fn is_ok(&self) -> bool {
        self.result == "ok"
    }
}

/// The audit folder under a root.
pub fn audit_dir(root: &str) -> String {
    format!("{}/audit", root.trim_end_matches('/'))
}

/// SHA-256 of `data` in lower-case hex.
pub fn digest(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Why an audit record could not be written.
#[derive(Debug, thiserror::Error)]
#[error("the audit record was not written: {0}")]
pub struct AuditError(pub String);

/// Appends `record` as `<root>/audit/entry-NNNNNNNNNN` (creating the folder when missing) and
/// returns the record's path.
pub async fn append(client: &Client, root: &str, record: &AuditRecord) -> Result<String, AuditError> {
    let dir = audit_dir(root);
    let data = serde_json::to_vec(record).map_err(|e| AuditError(e.to_string()))?;
    let prefix = child_path(&dir, ENTRY_PREFIX);
    let failed = |e: ZkError| AuditError(format!("{dir}: {}", describe_error(&e)));
    // Records get the folder's ACL (it is made with the root's when missing): a protected root
    // keeps its audit log protected.
    let acl = crate::zk::acl::ensure_folder(client, &dir).await.map_err(failed)?;
    let options = CreateMode::PersistentSequential.with_acls(Acls::new(&acl));
    let (_, seq) = client.create(&prefix, &data, &options).await.map_err(failed)?;
    Ok(format!("{prefix}{seq}"))
}

/// Whether a record is about `filter` or something below it (`/` matches everything).
pub fn concerns(record_path: &str, filter: &str) -> bool {
    let f = filter.trim_end_matches('/');
    f.is_empty() || record_path == f || record_path.strip_prefix(f).is_some_and(|rest| rest.starts_with('/'))
}

/// Up to `limit` records, newest first (by sequence number), optionally only those about
/// `path_filter` or below it. Records that are not valid JSON are skipped with a warning.
pub async fn list(
    client: &Client,
    root: &str,
    limit: usize,
    path_filter: Option<&str>,
) -> Result<Vec<(String, AuditRecord)>, LoadError> {
    let dir = audit_dir(root);
    let mut names = match client.list_children(&dir).await {
        Ok(n) => n,
        Err(ZkError::NoNode) => return Ok(Vec::new()),
        Err(e) => return Err(LoadError { path: dir, message: describe_error(&e), source: Some(e) }),
    };
    // Sequence numbers are zero-padded, so the name order is the append order.
    names.sort_unstable_by(|a, b| sequence_key(b).cmp(&sequence_key(a)));
    let mut out = Vec::new();
    for page in names.chunks(LIST_PAGE) {
        let paths: Vec<String> = page.iter().map(|n| child_path(&dir, n)).collect();
        let (mut nodes, _) = read_many(client, paths).await?;
        nodes.sort_unstable_by(|a, b| sequence_key(base_name(&b.path)).cmp(&sequence_key(base_name(&a.path))));
        for node in nodes {
            let Ok(record) = serde_json::from_slice::<AuditRecord>(&node.data) else {
                tracing::warn!(path = %node.path, "skipping an audit record that is not valid");
                continue;
            };
            if path_filter.is_none_or(|f| concerns(&record.path, f)) {
                out.push((base_name(&node.path).to_string(), record));
                if out.len() >= limit {
                    return Ok(out);
                }
            }
        }
    }
    Ok(out)
}

/// Orders by the sequence number (its width grows past 2^31, so compare length first).
fn sequence_key(name: &str) -> (usize, &str) {
    let seq = name.rsplit('-').next().unwrap_or(name);
    (seq.len(), seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_sha256_hex() {
        assert_eq!(digest(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(digest(b"abc").len(), 64);
    }

    #[test]
    fn path_filter_matches_segments() {
        assert!(concerns("/a/b", "/a"));
        assert!(concerns("/a", "/a"));
        assert!(concerns("/a/b", "/"));
        assert!(!concerns("/ab", "/a"));
        assert!(concerns("/a/b", "/a/"));
    }

    #[test]
    fn sequence_order() {
        let mut names = vec!["entry-0000000002", "entry-0000000010", "entry-0000000001"];
        names.sort_unstable_by(|a, b| sequence_key(b).cmp(&sequence_key(a)));
        assert_eq!(names, ["entry-0000000010", "entry-0000000002", "entry-0000000001"]);
    }

    #[test]
    fn record_round_trip() {
        let r = AuditRecord {
            schema: AUDIT_SCHEMA,
            time_ms: 1,
            user: "u".into(),
            host: "h".into(),
            ssh_client: None,
            action: "set".into(),
            path: "/a".into(),
            version_before: Some(1),
            version_after: Some(2),
            digest_before: Some(digest(b"x")),
            digest_after: Some(digest(b"y")),
            result: "ok".into(),
            origin: "cli".into(),
            detail: None,
        };
        let text = serde_json::to_string(&r).unwrap();
        assert!(text.contains("\"ssh_client\":null"));
        assert_eq!(serde_json::from_str::<AuditRecord>(&text).unwrap(), r);
    }
}
