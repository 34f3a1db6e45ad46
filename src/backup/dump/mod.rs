//! Logical MySQL dumps with progress, as a service for `myzoo mysql-backup` and the console's
//! backups screen: choose the source (`source`), run the flavour's dump program (`tool`) as a
//! pipeline that compresses, hashes and scans its output on separate threads (`pipeline`,
//! `scan`), record the dump in the backup store (`rows`) and in the cluster's history
//! (`history`), keep the newest N, and verify a dump by restoring it into a throw-away server
//! (`verify`). Nothing here knows about a front end: progress goes to a callback, and every
//! figure a screen shows is in the returned [`DumpRecord`].
//!
//! What a dump contains: every database of the source but the system ones (`mysql`,
//! `information_schema`, `performance_schema`, `sys`) and the backup store's own database, with
//! routines, triggers and events, from one consistent snapshot (`--single-transaction`); the
//! GTID position of that snapshot is read from the stream. Accounts and grants (`mysql.*`) are
//! not in it: restoring them over another server's would lock its operators out.

pub mod history;
pub mod pipeline;
pub mod rows;
pub mod scan;
pub mod source;
pub mod tool;
pub mod verify;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use mysql_async::prelude::Queryable;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use zookeeper_client::Client;

use super::record::Progress;
use super::store::{Store, StoreAccess};
use crate::cluster::status::Flavor;
use crate::cluster::ClusterPaths;
use crate::failover::journal::{Owner, StepState};
use crate::mysql::Target;
use history::{BackupHistory, HistoryWriter};
use pipeline::{Live, StreamEnd, StreamSpec};
pub use scan::TableFigures;
pub use source::{choose_source, Choice, Refused};
pub use verify::{verify, TableCheck, VerifyOptions, VerifyReport};

/// Databases never dumped: the server's own.
pub const SYSTEM_DATABASES: &[&str] = &["mysql", "information_schema", "performance_schema", "sys"];
/// Longest wait for a connection to the source (its databases and size estimate).
const SOURCE_CONNECT_TIMEOUT_MS: u64 = 5_000;
/// Suffix of a dump being written; renamed away when it is complete.
pub const PARTIAL_SUFFIX: &str = ".partial";
/// Suffix of the checksum file beside a dump (`sha256sum -c` reads it).
pub const SHA256_SUFFIX: &str = ".sha256";

/// State of a dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DumpState {
    Running,
    Complete,
    Failed,
    Cancelled,
}

impl DumpState {
    pub fn label(self) -> &'static str {
        match self {
            DumpState::Running => "running",
            DumpState::Complete => "complete",
            DumpState::Failed => "failed",
            DumpState::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<DumpState> {
        Some(match text {
            "running" => DumpState::Running,
            "complete" => DumpState::Complete,
            "failed" => DumpState::Failed,
            "cancelled" => DumpState::Cancelled,
            _ => return None,
        })
    }
}

/// One dump, as `create` returns it, `list` reads it and the console shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DumpRecord {
    /// The store's id; `None` when no store recorded it.
    pub id: Option<u64>,
    pub cluster: String,
    pub node: String,
    /// `replica` or `primary` when it was dumped.
    pub role: String,
    /// `host:port` it was dumped from.
    pub source: String,
    pub state: DumpState,
    /// The dump file (`.sql.zst`; while running, the file it will be renamed to).
    pub file: PathBuf,
    pub started_ms: i64,
    pub finished_ms: Option<i64>,
    /// Compressed bytes written.
    pub bytes: u64,
    /// Bytes the dump program wrote (uncompressed SQL).
    pub raw_bytes: u64,
    /// `information_schema.TABLES.DATA_LENGTH` of the dumped tables when it started.
    pub estimate_bytes: u64,
    pub tables_done: u64,
    pub tables_total: u64,
    pub databases: Vec<String>,
    pub gtid_position: Option<String>,
    /// SHA-256 of the compressed file, hex.
    pub checksum: Option<String>,
    /// `db.table` → rows and digest, as the stream had them.
    pub tables: BTreeMap<String, TableFigures>,
    /// The dump program's path.
    pub tool: String,
    pub operator: String,
    pub host: String,
    pub origin: String,
    /// Its record under `<cluster>/history/`.
    pub history: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// Ids of the older dumps `--keep` removed (not stored).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<u64>,
}

impl DumpRecord {
    pub fn duration_ms(&self) -> Option<i64> {
        Some(self.finished_ms? - self.started_ms)
    }

    /// Raw bytes per second over the whole dump.
    pub fn rate_bytes_per_s(&self) -> Option<f64> {
        let ms = self.duration_ms()?;
        (ms > 0).then(|| self.raw_bytes as f64 * 1000.0 / ms as f64)
    }
}

/// What a dump needs besides the cluster's ZooKeeper.
#[derive(Clone, Debug)]
pub struct DumpOptions {
    pub cluster: String,
    /// Dump this node (the primary only this way); `None`: the best replica.
    pub node: Option<String>,
    /// Folder for the dump file.
    pub out_dir: PathBuf,
    /// Afterwards remove all but the newest N complete dumps of the cluster (files and rows).
    pub keep: Option<usize>,
    /// The dump program (else `$MYZOO_DUMP_TOOL`, else the flavour's on `PATH`).
    pub tool: Option<PathBuf>,
    /// The account the dump connects as (the backup store's) and the store's database, which
    /// is never dumped.
    pub access: StoreAccess,
    pub operator: String,
    pub host: String,
    /// `cli`, `console`, `coordinator`.
    pub origin: String,
}

/// Progress of a running dump: the shared [`Progress`] (bytes = raw bytes, total = the size
/// estimate; units = tables) and what only a dump has.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DumpProgress {
    pub progress: Progress,
    pub compressed_bytes: u64,
    /// Raw bytes per second so far.
    pub rate_bytes_per_s: f64,
    pub node: String,
}

pub type DumpProgressFn<'a> = &'a (dyn Fn(&DumpProgress) + Send + Sync);

/// Why a dump did not start (a dump that started ends as a record, whatever its state).
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    /// Nothing was done: no node qualifies, or the named one cannot be dumped.
    #[error(transparent)]
    Refused(#[from] Refused),
    /// ZooKeeper or the store could not be read.
    #[error("{0:#}")]
    Unreachable(anyhow::Error),
    #[error("{0:#}")]
    Failed(anyhow::Error),
}

/// `<cluster>-<node>-<YYYYMMDDTHHMMSSZ>.sql.zst`.
pub fn file_name(cluster: &str, node: &str, started_ms: i64) -> String {
    let stamp: String = crate::zk::format::utc_timestamp(started_ms)
        .chars()
        .filter_map(|c| match c {
            '-' | ':' => None,
            ' ' => Some('T'),
            c => Some(c),
        })
        .collect();
    format!("{}-{}-{stamp}Z.sql.zst", safe(cluster), safe(node))
}

fn safe(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '.') { c } else { '_' }).collect()
}

/// `sha256sum` format: `<hex>  <file name>`.
pub fn sha256_line(sum: &str, file: &Path) -> String {
    format!("{sum}  {}\n", file.file_name().map(|n| n.to_string_lossy()).unwrap_or_default())
}

/// The progress figures from the live counters.
pub fn progress_of(live: &Live, record: &DumpRecord, elapsed: Duration, phase: &str) -> DumpProgress {
    let raw = live.raw_bytes.load(Ordering::Relaxed);
    let elapsed_ms = elapsed.as_millis() as u64;
    DumpProgress {
        progress: Progress {
            phase: phase.to_string(),
            done: live.tables_done.load(Ordering::Relaxed),
            total: (record.tables_total > 0).then_some(record.tables_total),
            bytes: raw,
            bytes_total: (record.estimate_bytes > 0).then_some(record.estimate_bytes),
            elapsed_ms,
        },
        compressed_bytes: live.compressed_bytes.load(Ordering::Relaxed),
        rate_bytes_per_s: if elapsed_ms > 0 { raw as f64 * 1000.0 / elapsed_ms as f64 } else { 0.0 },
        node: record.node.clone(),
    }
}

/// What the source holds: the databases to dump, their tables, the size estimate.
struct SourceFacts {
    databases: Vec<String>,
    tables: u64,
    estimate_bytes: u64,
    /// Whether our connection to it uses TLS (with `preferred`, only when it offers TLS).
    encrypted: bool,
}

async fn source_facts(target: &Target, store_db: &str) -> Result<SourceFacts> {
    let mut conn = crate::mysql::connect(target, Duration::from_millis(SOURCE_CONNECT_TIMEOUT_MS))
        .await
        .with_context(|| format!("connecting to {}:{} as {}", target.host, target.port, target.user))?;
    let skip = |db: &str| SYSTEM_DATABASES.iter().any(|s| s.eq_ignore_ascii_case(db)) || db == store_db;
    let schemas: Vec<String> = conn
        .query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME")
        .await
        .context("listing databases")?;
    let databases: Vec<String> = schemas.into_iter().filter(|d| !skip(d)).collect();
    let rows: Vec<(String, Option<u64>)> = conn
        .query("SELECT TABLE_SCHEMA, DATA_LENGTH FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE'")
        .await
        .context("reading table sizes")?;
    let mut tables = 0;
    let mut estimate_bytes = 0;
    for (db, len) in rows.into_iter().filter(|(db, _)| databases.contains(db)) {
        let _ = db;
        tables += 1;
        estimate_bytes += len.unwrap_or(0);
    }
    let cipher: Option<(String, String)> = conn
        .query_first(crate::mysql::flavor::TLS_CIPHER_QUERY)
        .await
        .context(crate::mysql::flavor::TLS_CIPHER_QUERY)?;
    let encrypted = cipher.is_some_and(|(_, c)| !c.is_empty());
    if let Err(e) = conn.disconnect().await {
        tracing::debug!("closing the connection to the source: {e}");
    }
    Ok(SourceFacts { databases, tables, estimate_bytes, encrypted })
}

/// Takes a dump of `opts.cluster` (see the module doc). `Err` only when nothing was started
/// (refused, unreachable, nothing to dump); a dump that started returns its record, whose
/// `state` says how it ended (`complete`, `failed` with `error`, `cancelled`).
pub async fn create(
    zk: &Client,
    root: &str,
    opts: &DumpOptions,
    mut store: Option<&mut Store>,
    progress: DumpProgressFn<'_>,
    cancel: &CancellationToken,
) -> Result<DumpRecord, DumpError> {
    let paths = ClusterPaths::new(root, &opts.cluster);
    let snap = crate::cluster::snapshot::read_cluster(zk, root, &opts.cluster)
        .await
        .map_err(|e| DumpError::Unreachable(anyhow::anyhow!("reading cluster {}: {e}", opts.cluster)))?;
    if snap.config.is_none() {
        return Err(DumpError::Unreachable(anyhow::anyhow!(
            "no cluster {} under {root} (its config znode is missing)",
            opts.cluster
        )));
    }
    let now = crate::audit::now_ms();
    let view = crate::cluster::health::evaluate(&snap, now);
    let choice = choose_source(&view, opts.node.as_deref())?;
    let node =
        view.node(&choice.node).ok_or_else(|| DumpError::Failed(anyhow::anyhow!("node {} vanished", choice.node)))?;
    let status = node.status.as_ref();
    let configured = view.config.as_ref().and_then(|c| c.nodes.iter().find(|n| n.name == choice.node));
    let (host, port) = match (configured, status) {
        (Some(n), _) if !n.host.is_empty() && n.port != 0 => (n.host.clone(), n.port),
        (_, Some(s)) => (s.server.host.clone(), s.server.port),
        _ => return Err(DumpError::Failed(anyhow::anyhow!("node {} has no address", choice.node))),
    };
    let flavor = status.and_then(|s| s.flavor).unwrap_or(Flavor::Mariadb);
    let program = tool::dump_tool(opts.tool.as_deref(), flavor).map_err(DumpError::Failed)?;
    // The cluster's TLS policy over the store's mode, with this host's files.
    let policy = view.config.as_ref().map(|c| c.mysql.tls).unwrap_or_default();
    let target = Target {
        host: host.clone(),
        port,
        user: opts.access.user.clone(),
        password: opts.access.password.clone(),
        tls: opts.access.tls.at_least(policy),
    };
    let facts = source_facts(&target, &opts.access.database)
        .await
        .map_err(|e| DumpError::Failed(e.context(format!("reading what {} holds", choice.node))))?;
    if facts.databases.is_empty() {
        return Err(DumpError::Failed(anyhow::anyhow!("{} holds no database to dump", choice.node)));
    }
    std::fs::create_dir_all(&opts.out_dir)
        .with_context(|| format!("creating {}", opts.out_dir.display()))
        .map_err(DumpError::Failed)?;

    let started_ms = crate::audit::now_ms();
    let file = opts.out_dir.join(file_name(&opts.cluster, &choice.node, started_ms));
    let mut record = DumpRecord {
        id: None,
        cluster: opts.cluster.clone(),
        node: choice.node.clone(),
        role: choice.role.clone(),
        source: format!("{host}:{port}"),
        state: DumpState::Running,
        file: file.clone(),
        started_ms,
        finished_ms: None,
        bytes: 0,
        raw_bytes: 0,
        estimate_bytes: facts.estimate_bytes,
        tables_done: 0,
        tables_total: facts.tables,
        databases: facts.databases.clone(),
        gtid_position: None,
        checksum: None,
        tables: BTreeMap::new(),
        tool: program.display().to_string(),
        operator: opts.operator.clone(),
        host: opts.host.clone(),
        origin: opts.origin.clone(),
        history: None,
        error: None,
        removed: Vec::new(),
    };

    let owner = Owner {
        user: opts.operator.clone(),
        host: opts.host.clone(),
        pid: std::process::id(),
        origin: opts.origin.clone(),
        session: format!("{:#x}", zk.session_id().0),
    };
    let mut journal = BackupHistory::new(&opts.cluster, owner, started_ms);
    journal.node = choice.node.clone();
    journal.file = file.display().to_string();
    let lag = choice.lag_ms.map_or(String::new(), |l| format!(", lag {l} ms"));
    journal.end("choose-source", StepState::Done, Some(format!("{} ({}{lag})", choice.node, choice.role)), started_ms);
    journal.start("dump", started_ms);
    let mut history = HistoryWriter::create(zk, &paths, journal).await;
    record.history = history.path.clone();

    if let Some(s) = store.as_deref_mut() {
        match rows::insert(s, &record).await {
            Ok(id) => {
                record.id = Some(id);
                history.record.dump_id = Some(id);
            }
            Err(e) => {
                let e = e.context("recording the dump in the backup store");
                history.record.end("dump", StepState::Failed, Some(format!("{e:#}")), crate::audit::now_ms());
                history.record.finish("failed", format!("{e:#}"), crate::audit::now_ms());
                history.save().await;
                return Err(DumpError::Unreachable(e));
            }
        }
    }

    let partial = PathBuf::from(format!("{}{PARTIAL_SUFFIX}", file.display()));
    let spec = StreamSpec {
        program,
        // The dump program connects the way our own connection could: over TLS when it did.
        args: tool::dump_args(
            flavor,
            &host,
            port,
            &opts.access.user,
            &facts.databases,
            &tool::tls_args(flavor, facts.encrypted.then_some(&target.tls)),
        ),
        password: opts.access.password.clone(),
        out: Some(partial.clone()),
    };
    let live = Arc::new(Live::default());
    let clock = Instant::now();
    let tick = {
        let live = live.clone();
        let shown = record.clone();
        move || progress(&progress_of(&live, &shown, clock.elapsed(), "dumping"))
    };
    let outcome = pipeline::run(spec, live.clone(), &tick, cancel).await;
    record.raw_bytes = live.raw_bytes.load(Ordering::Relaxed);
    record.bytes = live.compressed_bytes.load(Ordering::Relaxed);
    record.tables_done = live.tables_done.load(Ordering::Relaxed);

    let finished = match outcome {
        Ok(StreamEnd::Done(result)) => {
            record.raw_bytes = result.raw_bytes;
            record.bytes = result.compressed_bytes;
            record.tables_done = result.scan.data_sections;
            record.gtid_position = result.scan.gtid.clone();
            record.tables = result.scan.tables;
            let now = crate::audit::now_ms();
            let detail = format!(
                "{} tables, {} raw, {} compressed, GTID {}",
                record.tables_done,
                crate::zk::format::human_bytes(record.raw_bytes as usize),
                crate::zk::format::human_bytes(record.bytes as usize),
                record.gtid_position.as_deref().unwrap_or("unknown")
            );
            history.record.end("dump", StepState::Done, Some(detail), now);
            history.record.gtid_position = record.gtid_position.clone();
            history.record.start("checksum", now);
            history.save().await;
            let sum = result.sha256.unwrap_or_default();
            match seal(&partial, &file, &sum) {
                Ok(()) => {
                    record.checksum = Some(sum.clone());
                    history.record.end(
                        "checksum",
                        StepState::Done,
                        Some(format!("sha256 {sum}")),
                        crate::audit::now_ms(),
                    );
                    Ok(())
                }
                Err(e) => {
                    history.record.end("checksum", StepState::Failed, Some(format!("{e:#}")), crate::audit::now_ms());
                    Err(e)
                }
            }
        }
        Ok(StreamEnd::Cancelled) => {
            record.state = DumpState::Cancelled;
            history.record.end("dump", StepState::Failed, Some("cancelled".into()), crate::audit::now_ms());
            Err(anyhow::anyhow!("cancelled"))
        }
        Err(e) => {
            history.record.end("dump", StepState::Failed, Some(format!("{e:#}")), crate::audit::now_ms());
            Err(e)
        }
    };
    if let Err(e) = &finished {
        remove_quietly(&partial);
        if record.state != DumpState::Cancelled {
            record.state = DumpState::Failed;
            record.error = Some(format!("{e:#}"));
        } else {
            record.error = Some("cancelled by the operator".into());
        }
    } else {
        record.state = DumpState::Complete;
    }
    record.finished_ms = Some(crate::audit::now_ms());

    if let Some(s) = store {
        history.record.start("record", crate::audit::now_ms());
        match rows::finish(s, &record).await {
            Ok(()) => history.record.end(
                "record",
                StepState::Done,
                record.id.map(|i| format!("dump {i}")),
                crate::audit::now_ms(),
            ),
            Err(e) => {
                let e = format!("{:#}", e.context("recording the dump's end in the backup store"));
                tracing::warn!("{e}");
                history.record.end("record", StepState::Failed, Some(e.clone()), crate::audit::now_ms());
                if record.state == DumpState::Complete {
                    record.error = Some(e);
                }
            }
        }
        if let (DumpState::Complete, Some(keep)) = (record.state, opts.keep) {
            history.record.start("retention", crate::audit::now_ms());
            match retain(s, &opts.cluster, keep).await {
                Ok(removed) => {
                    let detail = format!("{} removed", removed.len());
                    record.removed = removed;
                    history.record.end("retention", StepState::Done, Some(detail), crate::audit::now_ms());
                }
                Err(e) => {
                    let e = format!("{e:#}");
                    tracing::warn!("retention: {e}");
                    history.record.end("retention", StepState::Failed, Some(e), crate::audit::now_ms());
                }
            }
        }
    }
    let outcome = match record.state {
        DumpState::Complete => format!("{} from {} ({})", record.file.display(), record.node, record.role),
        _ => record.error.clone().unwrap_or_default(),
    };
    history.record.finish(record.state.label(), outcome, crate::audit::now_ms());
    history.save().await;
    progress(&progress_of(&live, &record, clock.elapsed(), record.state.label()));
    Ok(record)
}

/// Writes the checksum file and gives the dump its final name.
fn seal(partial: &Path, file: &Path, sum: &str) -> Result<()> {
    let side = PathBuf::from(format!("{}{SHA256_SUFFIX}", file.display()));
    std::fs::write(&side, sha256_line(sum, file)).with_context(|| format!("writing {}", side.display()))?;
    std::fs::rename(partial, file).with_context(|| format!("renaming {} to {}", partial.display(), file.display()))
}

fn remove_quietly(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!("removing {}: {e}", path.display()),
    }
}

/// Removes all but the newest `keep` complete dumps of `cluster`: their files, then their
/// rows. Returns the ids removed.
pub async fn retain(store: &mut Store, cluster: &str, keep: usize) -> Result<Vec<u64>> {
    let dumps = rows::list(store, cluster).await?;
    let mut removed = Vec::new();
    for d in dumps.iter().filter(|d| d.state == DumpState::Complete).skip(keep) {
        remove_quietly(&d.file);
        remove_quietly(&PathBuf::from(format!("{}{SHA256_SUFFIX}", d.file.display())));
        if let Some(id) = d.id {
            rows::delete(store, id).await?;
            removed.push(id);
        }
    }
    Ok(removed)
}

/// The cluster's dumps, newest first.
pub async fn list(store: &mut Store, cluster: &str) -> Result<Vec<DumpRecord>> {
    rows::list(store, cluster).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_checksum_lines() {
        // 2026-11-26 20:53:12 UTC
        let name = file_name("prod/eu", "db 2", 1_795_726_392_000);
        assert_eq!(name, "prod_eu-db_2-20261126T205312Z.sql.zst");
        assert_eq!(sha256_line("ab", Path::new("/x/y.sql.zst")), "ab  y.sql.zst\n");
        for s in [DumpState::Running, DumpState::Complete, DumpState::Failed, DumpState::Cancelled] {
            assert_eq!(DumpState::parse(s.label()), Some(s));
        }
    }

    #[test]
    fn progress_has_rate_and_eta_from_the_estimate() {
        let live = Live::default();
        live.raw_bytes.store(250, Ordering::Relaxed);
        live.compressed_bytes.store(50, Ordering::Relaxed);
        live.tables_done.store(1, Ordering::Relaxed);
        let record = DumpRecord {
            id: None,
            cluster: "c".into(),
            node: "db2".into(),
            role: "replica".into(),
            source: String::new(),
            state: DumpState::Running,
            file: PathBuf::new(),
            started_ms: 0,
            finished_ms: None,
            bytes: 0,
            raw_bytes: 0,
            estimate_bytes: 1000,
            tables_done: 0,
            tables_total: 4,
            databases: vec![],
            gtid_position: None,
            checksum: None,
            tables: BTreeMap::new(),
            tool: String::new(),
            operator: String::new(),
            host: String::new(),
            origin: String::new(),
            history: None,
            error: None,
            removed: vec![],
        };
        let p = progress_of(&live, &record, Duration::from_secs(1), "dumping");
        assert_eq!(p.progress.fraction(), Some(0.25));
        assert_eq!(p.progress.eta_ms(), Some(3_000));
        assert_eq!(p.rate_bytes_per_s, 250.0);
        assert_eq!((p.compressed_bytes, p.progress.done, p.progress.total), (50, 1, Some(4)));
        let unknown = DumpRecord { estimate_bytes: 0, tables_total: 0, ..record };
        assert_eq!(progress_of(&live, &unknown, Duration::from_secs(1), "dumping").progress.eta_ms(), None);
    }
}
