//! `myzoo mysql-backup`: logical dumps of a cluster's MySQL data (`backup::dump`), one file per
//! subcommand; this file dispatches and holds what they share (the profile, the store, a
//! ZooKeeper session, cancellation on Ctrl-C/SIGTERM, the progress line, the exit codes).

mod create;
mod list;
mod verify;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::backup::dump::{DumpError, DumpProgress};
use crate::backup::{Store, StoreAccess, Want};
use crate::cli::{ConsoleArgs, MysqlBackupAction};
use crate::config::{self, Resolved};

pub(crate) use super::connect_zk;

/// Exit code: the job ran and failed, or was cancelled.
pub const EXIT_FAILED: u8 = 1;
/// Exit code: nothing was done (no node qualifies, the dump is not complete).
pub const EXIT_REFUSED: u8 = 2;
/// Exit code: the store or ZooKeeper could not be reached.
pub const EXIT_UNREACHABLE: u8 = 3;
/// Without a terminal, one progress line this often.
const PROGRESS_LINE_EVERY_MS: u64 = 5_000;

pub fn run(rt: &tokio::runtime::Runtime, console: &ConsoleArgs, action: MysqlBackupAction) -> anyhow::Result<ExitCode> {
    crate::logging::to_stderr();
    rt.block_on(async move {
        match action {
            MysqlBackupAction::Create { cluster, node, out, keep, json } => {
                create::run(console, create::Args { cluster, node, out, keep, json }).await
            }
            MysqlBackupAction::List { cluster, json } => list::run(console, &cluster, json).await,
            MysqlBackupAction::Verify { cluster, id, json } => verify::run(console, &cluster, id, json).await,
        }
    })
}

fn resolved(console: &ConsoleArgs) -> anyhow::Result<Resolved> {
    config::resolve(&super::overrides(console))
}

fn store_access(r: &Resolved) -> anyhow::Result<StoreAccess> {
    StoreAccess::from_profile(r.backup_store.as_ref())
}

async fn open_store(access: &StoreAccess, want: Want) -> anyhow::Result<Store> {
    Store::open(access, want).await
}

/// A token cancelled by Ctrl-C or SIGTERM.
fn cancel_on_signals() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term => {}
        }
        eprintln!("\nstopping: cancelling the job");
        t.cancel();
    });
    token
}

/// `1.5 GiB`-style sizes for the progress line and the summaries.
fn size(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// One progress line: phase, tables, bytes raw/compressed, rate, percent and ETA.
pub fn progress_line(p: &DumpProgress) -> String {
    let g = &p.progress;
    let mut line = g.phase.clone();
    if !p.node.is_empty() {
        line.push_str(&format!(" {}", p.node));
    }
    if let Some(total) = g.total {
        line.push_str(&format!(" · tables {}/{total}", g.done));
    }
    if g.bytes > 0 {
        line.push_str(&format!(" · {}", size(g.bytes)));
        if p.compressed_bytes > 0 {
            line.push_str(&format!(" ({} compressed)", size(p.compressed_bytes)));
        }
    }
    if p.rate_bytes_per_s > 0.0 {
        line.push_str(&format!(" · {}/s", size(p.rate_bytes_per_s as u64)));
    }
    if let Some(f) = g.fraction() {
        line.push_str(&format!(" · {:.0}%", f * 100.0));
    }
    if let Some(eta) = g.eta_ms() {
        line.push_str(&format!(" · ETA {}s", eta.div_ceil(1000)));
    }
    line
}

/// Prints progress to stderr: in place on a terminal, else a line every few seconds.
pub struct ProgressPrinter {
    terminal: bool,
    last: Mutex<Option<Instant>>,
}

impl Default for ProgressPrinter {
    fn default() -> Self {
        ProgressPrinter::new()
    }
}

impl ProgressPrinter {
    pub fn new() -> ProgressPrinter {
        ProgressPrinter { terminal: std::io::stderr().is_terminal(), last: Mutex::new(None) }
    }

    pub fn show(&self, p: &DumpProgress) {
        let line = progress_line(p);
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(err, "\r\x1b[2K{line}");
            let _ = err.flush();
            return;
        }
        let Ok(mut last) = self.last.lock() else { return };
        let due = last.is_none_or(|t| t.elapsed() >= Duration::from_millis(PROGRESS_LINE_EVERY_MS));
        if due {
            *last = Some(Instant::now());
            let _ = writeln!(err, "{line}");
        }
    }

    /// Ends the in-place line.
    pub fn done(&self) {
        if self.terminal {
            let _ = writeln!(std::io::stderr());
        }
    }
}

/// The exit code and message for a job that did not start.
fn refused_or_unreachable(e: DumpError, json: bool) -> ExitCode {
    let code = match &e {
        DumpError::Refused(_) => EXIT_REFUSED,
        DumpError::Unreachable(_) => EXIT_UNREACHABLE,
        DumpError::Failed(_) => EXIT_FAILED,
    };
    if json {
        let value = match &e {
            DumpError::Refused(r) => serde_json::json!({
                "result": "refused",
                "error": e.to_string(),
                "reasons": r.reasons.iter().map(|(n, why)| serde_json::json!({"node": n, "reason": why})).collect::<Vec<_>>(),
            }),
            _ => serde_json::json!({
                "result": if code == EXIT_UNREACHABLE { "unreachable" } else { "failed" },
                "error": e.to_string(),
            }),
        };
        crate::commands::out(&format!("{value}\n"));
    }
    eprintln!("error: {e}");
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::record::Progress;

    #[test]
    fn the_progress_line_has_every_figure() {
        let p = DumpProgress {
            progress: Progress {
                phase: "dumping".into(),
                done: 3,
                total: Some(12),
                bytes: 512 << 20,
                bytes_total: Some(1 << 30),
                elapsed_ms: 10_000,
            },
            compressed_bytes: 100 << 20,
            rate_bytes_per_s: 50.0 * 1024.0 * 1024.0,
            node: "db2".into(),
        };
        assert_eq!(
            progress_line(&p),
            "dumping db2 · tables 3/12 · 512.0 MiB (100.0 MiB compressed) · 50.0 MiB/s · 50% · ETA 10s"
        );
    }
}
