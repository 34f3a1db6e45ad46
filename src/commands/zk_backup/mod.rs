//! `myzoo zk-backup`: snapshots of the ZooKeeper tree in the backup store, one file per
//! subcommand; this file dispatches and holds what they share (the resolved profile, the
//! store, a ZooKeeper session, the exit codes).

mod create;
mod diff;
mod export;
mod import;
mod list;
mod prune;
mod restore;
mod show;

use std::process::ExitCode;
use std::time::Duration;

use crate::backup::{Store, StoreAccess, Want};
use crate::cli::{ConsoleArgs, ZkBackupAction};
use crate::config::{self, Resolved};

pub(crate) use super::connect_zk;

/// Exit code: the job ran and failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit code: nothing was done (checksum mismatch, not confirmed, read-only mode).
pub const EXIT_REFUSED: u8 = 2;
/// Exit code: the store or ZooKeeper could not be reached.
pub const EXIT_UNREACHABLE: u8 = 3;

pub fn run(rt: &tokio::runtime::Runtime, console: &ConsoleArgs, action: ZkBackupAction) -> anyhow::Result<ExitCode> {
    crate::logging::to_stderr();
    rt.block_on(async move {
        match action {
            ZkBackupAction::Create { path, note, include_ephemeral, json } => {
                create::run(console, path, note, include_ephemeral, json).await
            }
            ZkBackupAction::List { json } => list::run(console, json).await,
            ZkBackupAction::Show { snapshot, json } => show::run(console, snapshot, json).await,
            ZkBackupAction::Diff { snapshot, against, path, json } => {
                diff::run(console, snapshot, against, path, json).await
            }
            ZkBackupAction::Restore { snapshot, path, to, policy, dry_run, to_zk, yes, confirm, json } => {
                let args = restore::Args { snapshot, path, to, policy, dry_run, to_zk, yes, confirm, json };
                restore::run(console, args).await
            }
            ZkBackupAction::Export { snapshot, out } => export::run(console, snapshot, out).await,
            ZkBackupAction::Import { input, note, json } => import::run(console, input, note, json).await,
            ZkBackupAction::Prune { keep, dry_run, json } => prune::run(console, keep, dry_run, json).await,
        }
    })
}

/// The profile with the global flags applied.
pub fn resolved(console: &ConsoleArgs) -> anyhow::Result<Resolved> {
    config::resolve(&super::overrides(console))
}

/// The profile's backup store, opened for `want`.
pub async fn open_store(r: &Resolved, want: Want) -> anyhow::Result<Store> {
    let access = StoreAccess::from_profile(r.backup_store.as_ref())?;
    Store::open(&access, want).await
}

/// The store opened for `want`, or the exit code after saying on stderr why it is unreachable
/// ([`EXIT_UNREACHABLE`]: no store in the profile, no server answering, no writable server).
pub async fn store_or_exit(r: &Resolved, want: Want) -> Result<Store, ExitCode> {
    match open_store(r, want).await {
        Ok(store) => Ok(store),
        Err(e) => {
            eprintln!("myzoo: the backup store could not be used: {e:#}");
            Err(ExitCode::from(EXIT_UNREACHABLE))
        }
    }
}

/// [`EXIT_REFUSED`] after saying that read-only mode blocks `what`, when it is on.
pub fn refuse_read_only(r: &Resolved, what: &str) -> Option<ExitCode> {
    r.read_only.then(|| {
        eprintln!("myzoo: refused: read-only mode ({what} changes the backup store)");
        ExitCode::from(EXIT_REFUSED)
    })
}

/// The exit code for a job's error: [`EXIT_REFUSED`] when the data was refused (checksum,
/// malformed file), else [`EXIT_FAILED`]; the error goes to stderr.
pub fn failed(e: &anyhow::Error) -> ExitCode {
    eprintln!("myzoo: {e:#}");
    if e.is::<crate::backup::export::Refused>() {
        ExitCode::from(EXIT_REFUSED)
    } else {
        ExitCode::from(EXIT_FAILED)
    }
}

/// Prints progress on one stderr line when stderr is a terminal, at most every 100 ms.
pub struct ProgressLine {
    on: bool,
    last: std::sync::Mutex<Option<std::time::Instant>>,
}

impl Default for ProgressLine {
    fn default() -> ProgressLine {
        ProgressLine::new()
    }
}

impl ProgressLine {
    pub fn new() -> ProgressLine {
        use std::io::IsTerminal;
        ProgressLine { on: std::io::stderr().is_terminal(), last: std::sync::Mutex::new(None) }
    }

    pub fn show(&self, p: &crate::backup::Progress) {
        if !self.on {
            return;
        }
        let Ok(mut last) = self.last.lock() else { return };
        if last.is_some_and(|t| t.elapsed() < Duration::from_millis(100)) {
            return;
        }
        *last = Some(std::time::Instant::now());
        eprint!(
            "\r\x1b[K{} {} znodes, {} ({:.1} s)",
            p.phase,
            p.done,
            crate::zk::format::human_bytes(p.bytes as usize),
            p.elapsed_ms as f64 / 1000.0
        );
    }

    /// Clears the line before the result is printed.
    pub fn finish(&self) {
        if self.on {
            eprint!("\r\x1b[K");
        }
    }
}
