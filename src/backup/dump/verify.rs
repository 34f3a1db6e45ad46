//! Verifying a dump: its file's SHA-256 against the recorded one, then a restore into a
//! throw-away MariaDB server of the sandbox kind (`sandbox::mariadb::start_scratch`, in a
//! temporary folder, stopped and deleted afterwards) and a comparison per table.
//!
//! Compared against what: not the live source, which has moved on since the dump. At dump
//! time the stream itself was scanned (`scan`): rows per table and an order-independent
//! digest of their literal text. Verify dumps the restored server again with the same
//! program and options, scans that stream the same way, and requires the same figures for
//! every table; it also counts each table's rows with `COUNT(*)` (which must match) and reports
//! its `CHECKSUM TABLE` (there is nothing recorded to compare it with, but it lets an operator
//! compare with a quiesced source). Any difference fails with the table named.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use mysql_async::prelude::Queryable;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::pipeline::{self, Live, StreamEnd, StreamSpec};
use super::{rows, tool, DumpError, DumpProgress, DumpProgressFn, DumpRecord, DumpState, Refused};
use crate::backup::record::Progress;
use crate::backup::Store;
use crate::cluster::status::Flavor;
use crate::sandbox::mariadb;

/// Bytes of decompressed SQL handed to the client at a time.
const LOAD_CHUNK_BYTES: usize = 256 << 10;

#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// The dump program for the second dump (else the one recorded, else the usual search).
    pub tool: Option<PathBuf>,
    /// The client that loads the dump (else `$MYZOO_MYSQL_CLIENT`, else `mariadb`/`mysql`).
    pub client: Option<PathBuf>,
    /// Where the throw-away server's folder goes (default: the system's temporary folder).
    pub scratch_parent: Option<PathBuf>,
}

/// One table's comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableCheck {
    pub table: String,
    pub rows_recorded: Option<u64>,
    /// Rows in the second dump's stream.
    pub rows_restored: Option<u64>,
    /// `SELECT COUNT(*)` on the restored server.
    pub count: Option<u64>,
    pub digest_recorded: Option<String>,
    pub digest_restored: Option<String>,
    /// `CHECKSUM TABLE` on the restored server.
    pub checksum_table: Option<u64>,
    pub ok: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    pub id: Option<u64>,
    pub cluster: String,
    pub file: PathBuf,
    pub checksum_recorded: Option<String>,
    pub checksum_found: Option<String>,
    pub checksum_ok: bool,
    /// Whether the restore ran (not after a checksum mismatch).
    pub restored: bool,
    pub tables: Vec<TableCheck>,
    /// Every difference, each naming its table; empty when the dump is good.
    pub problems: Vec<String>,
    pub ok: bool,
    pub duration_ms: u64,
}

/// Verifies dump `id` of `cluster` (default: its newest complete one). `Err` when nothing
/// could be checked (no such dump, not complete, store unreadable); a check that ran returns
/// its report, `ok` or with its problems.
pub async fn verify(
    store: &mut Store,
    cluster: &str,
    id: Option<u64>,
    opts: &VerifyOptions,
    progress: DumpProgressFn<'_>,
    cancel: &CancellationToken,
) -> Result<VerifyReport, DumpError> {
    let record = match id {
        Some(id) => rows::get(store, cluster, id).await.map_err(DumpError::Unreachable)?.ok_or_else(|| Refused {
            reasons: vec![(format!("dump {id}"), format!("not in the backup store for cluster {cluster}"))],
        })?,
        None => rows::list(store, cluster)
            .await
            .map_err(DumpError::Unreachable)?
            .into_iter()
            .find(|d| d.state == DumpState::Complete)
            .ok_or_else(|| Refused {
                reasons: vec![(cluster.to_string(), "no complete dump in the backup store".into())],
            })?,
    };
    if record.state != DumpState::Complete {
        let name = format!("dump {}", record.id.unwrap_or_default());
        return Err(Refused { reasons: vec![(name, format!("is {}, not complete", record.state.label()))] }.into());
    }
    verify_record(&record, opts, progress, cancel).await.map_err(DumpError::Failed)
}

/// Verifies a dump whose record is at hand (see [`verify`]).
pub async fn verify_record(
    record: &DumpRecord,
    opts: &VerifyOptions,
    progress: DumpProgressFn<'_>,
    cancel: &CancellationToken,
) -> Result<VerifyReport> {
    let clock = Instant::now();
    let mut report = VerifyReport {
        id: record.id,
        cluster: record.cluster.clone(),
        file: record.file.clone(),
        checksum_recorded: record.checksum.clone(),
        checksum_found: None,
        checksum_ok: false,
        restored: false,
        tables: Vec::new(),
        problems: Vec::new(),
        ok: false,
        duration_ms: 0,
    };
    let phase = |name: &str, done: u64, total: Option<u64>, bytes: u64, bytes_total: Option<u64>| {
        progress(&DumpProgress {
            progress: Progress {
                phase: name.into(),
                done,
                total,
                bytes,
                bytes_total,
                elapsed_ms: clock.elapsed().as_millis() as u64,
            },
            node: record.node.clone(),
            ..DumpProgress::default()
        })
    };
    phase("checksum", 0, None, 0, Some(record.bytes));
    match pipeline::file_sha256(record.file.clone()).await {
        Ok(sum) => {
            report.checksum_ok = record.checksum.as_deref() == Some(sum.as_str());
            if !report.checksum_ok {
                report.problems.push(format!(
                    "checksum mismatch: {} has sha256 {sum}, the store recorded {}",
                    record.file.display(),
                    record.checksum.as_deref().unwrap_or("none")
                ));
            }
            report.checksum_found = Some(sum);
        }
        Err(e) => report.problems.push(format!("{e:#}")),
    }
    if !report.checksum_ok {
        report.duration_ms = clock.elapsed().as_millis() as u64;
        return Ok(report);
    }

    let parent = opts.scratch_parent.clone().unwrap_or_else(std::env::temp_dir);
    // Short: the server's socket path must fit in 107 bytes.
    let dir = parent.join(format!("myzoo-verify-{}-{}", std::process::id(), crate::audit::now_ms()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    phase("starting a throw-away server", 0, None, 0, None);
    let result = async {
        let server = mariadb::start_scratch(&dir).await.context("starting the throw-away server")?;
        let result = restore_and_compare(record, opts, server.port, &phase, cancel, &mut report).await;
        if let Err(e) = mariadb::stop_scratch(&server).await {
            tracing::warn!("stopping the throw-away server: {e:#}");
        }
        result
    }
    .await;
    if let Err(e) = std::fs::remove_dir_all(&dir) {
        tracing::warn!("removing {}: {e}", dir.display());
    }
    result?;
    report.ok = report.problems.is_empty();
    report.duration_ms = clock.elapsed().as_millis() as u64;
    phase(
        if report.ok { "verified" } else { "failed" },
        report.tables.len() as u64,
        Some(report.tables.len() as u64),
        0,
        None,
    );
    Ok(report)
}

type PhaseFn<'a> = dyn Fn(&str, u64, Option<u64>, u64, Option<u64>) + Send + Sync + 'a;

async fn restore_and_compare(
    record: &DumpRecord,
    opts: &VerifyOptions,
    port: u16,
    phase: &PhaseFn<'_>,
    cancel: &CancellationToken,
    report: &mut VerifyReport,
) -> Result<()> {
    let host = crate::sandbox::LOOPBACK;
    // Load.
    let client = tool::client_tool(opts.client.as_deref(), Flavor::Mariadb)?;
    let fed = Arc::new(AtomicU64::new(0));
    let load = load(client, tool::load_args(host, port, "root"), record.file.clone(), fed.clone());
    tokio::pin!(load);
    let mut ticker = tokio::time::interval(Duration::from_millis(pipeline::PROGRESS_INTERVAL_MS));
    loop {
        tokio::select! {
            r = &mut load => { r?; break; }
            _ = cancel.cancelled() => bail!("cancelled"),
            _ = ticker.tick() => phase("restoring", 0, None, fed.load(Ordering::Relaxed), Some(record.raw_bytes)),
        }
    }
    report.restored = true;

    // Dump the restored server the same way and scan it.
    let recorded_tool = Some(PathBuf::from(&record.tool)).filter(|p| p.is_file());
    let program = tool::dump_tool(opts.tool.as_deref().or(recorded_tool.as_deref()), Flavor::Mariadb)?;
    let spec = StreamSpec {
        program,
        args: tool::dump_args(Flavor::Mariadb, host, port, "root", &record.databases, &[]),
        password: None,
        out: None,
    };
    let live = Arc::new(Live::default());
    let tick = {
        let live = live.clone();
        move || {
            phase(
                "dumping the restore",
                live.tables_done.load(Ordering::Relaxed),
                Some(record.tables_total),
                live.raw_bytes.load(Ordering::Relaxed),
                Some(record.raw_bytes),
            )
        }
    };
    let again = match pipeline::run(spec, live, &tick, cancel).await? {
        StreamEnd::Done(r) => r.scan,
        StreamEnd::Cancelled => bail!("cancelled"),
    };

    // Count and checksum each table on the restored server.
    let target = crate::mysql::Target {
        host: host.to_string(),
        port,
        user: "root".into(),
        password: None,
        tls: Default::default(),
    };
    let mut conn = crate::mysql::connect(&target, Duration::from_secs(5)).await?;
    let mut names: Vec<String> = record.tables.keys().cloned().collect();
    names.extend(again.tables.keys().filter(|k| !record.tables.contains_key(*k)).cloned());
    let total = names.len() as u64;
    let mut counted: BTreeMap<String, (Option<u64>, Option<u64>)> = BTreeMap::new();
    for (i, name) in names.iter().enumerate() {
        phase("counting", i as u64, Some(total), 0, None);
        let quoted = quote_table(name);
        let count: Option<u64> = conn.query_first(format!("SELECT COUNT(*) FROM {quoted}")).await.ok().flatten();
        let sum: Option<(String, Option<u64>)> =
            conn.query_first(format!("CHECKSUM TABLE {quoted}")).await.ok().flatten();
        counted.insert(name.clone(), (count, sum.and_then(|(_, s)| s)));
    }
    let _ = conn.disconnect().await;

    for name in names {
        let rec = record.tables.get(&name);
        let got = again.tables.get(&name);
        let (count, checksum_table) = counted.get(&name).cloned().unwrap_or((None, None));
        let mut check = TableCheck {
            table: name.clone(),
            rows_recorded: rec.map(|t| t.rows),
            rows_restored: got.map(|t| t.rows),
            count,
            digest_recorded: rec.map(|t| t.digest.clone()),
            digest_restored: got.map(|t| t.digest.clone()),
            checksum_table,
            ok: true,
        };
        let mut fail = |why: String| {
            check.ok = false;
            report.problems.push(format!("{name}: {why}"));
        };
        match (rec, got) {
            (None, _) => fail("in the restore but not in the dump's record".into()),
            (Some(_), None) => fail("missing from the restore".into()),
            (Some(r), Some(g)) => {
                if r.rows != g.rows {
                    fail(format!("{} rows recorded, {} restored", r.rows, g.rows));
                } else if r.digest != g.digest {
                    fail("the restored rows differ from the dumped ones (digest mismatch)".into());
                }
                if count != Some(r.rows) {
                    fail(format!(
                        "COUNT(*) is {} on the restore, {} rows recorded",
                        count.map_or("unknown".into(), |c| c.to_string()),
                        r.rows
                    ));
                }
            }
        }
        report.tables.push(check);
    }
    Ok(())
}

/// `db.table` as a quoted name (`` `db`.`table` ``).
fn quote_table(name: &str) -> String {
    let q = |s: &str| format!("`{}`", s.replace('`', "``"));
    match name.split_once('.') {
        Some((db, t)) => format!("{}.{}", q(db), q(t)),
        None => q(name),
    }
}

/// Decompresses `file` into the client's standard input.
async fn load(client: PathBuf, args: Vec<String>, file: PathBuf, fed: Arc<AtomicU64>) -> Result<()> {
    tokio::task::spawn_blocking(move || -> Result<()> {
        let name = client.display().to_string();
        let mut child = Command::new(&client)
            .args(&args)
            .env_remove(tool::PASSWORD_ENV)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        let mut stdin = child.stdin.take().context("no pipe to the client")?;
        let mut stderr = child.stderr.take().context("no pipe from the client")?;
        let errors = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let fed_result = (|| -> Result<()> {
            let f = std::fs::File::open(&file).with_context(|| format!("opening {}", file.display()))?;
            let mut decoder = zstd::stream::read::Decoder::new(f).context("starting zstd")?;
            let mut buf = vec![0u8; LOAD_CHUNK_BYTES];
            let mut total = 0u64;
            loop {
                let n = decoder.read(&mut buf).with_context(|| format!("decompressing {}", file.display()))?;
                if n == 0 {
                    return Ok(());
                }
                stdin.write_all(&buf[..n]).context("the client stopped reading")?;
                total += n as u64;
                fed.store(total, Ordering::Relaxed);
            }
        })();
        drop(stdin);
        let status = child.wait().context("waiting for the client")?;
        let text = errors.join().unwrap_or_default();
        if !status.success() {
            bail!("loading the dump failed ({status}): {}", text.trim());
        }
        fed_result
    })
    .await
    .context("the loader stopped")?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_quoted() {
        assert_eq!(quote_table("app.t"), "`app`.`t`");
        assert_eq!(quote_table("app.we`ird"), "`app`.`we``ird`");
    }
}
