//! `myzoo zk-backup prune`: keep the newest N complete snapshots.

use std::process::ExitCode;

use crate::cli::ConsoleArgs;

pub async fn run(_console: &ConsoleArgs, _keep: usize, _dry_run: bool, _json: bool) -> anyhow::Result<ExitCode> {
    anyhow::bail!("zk-backup prune is not built yet")
}
