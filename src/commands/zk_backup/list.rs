//! `myzoo zk-backup list`: every snapshot in the store, newest first.

use std::process::ExitCode;

use crate::cli::ConsoleArgs;

pub async fn run(_console: &ConsoleArgs, _json: bool) -> anyhow::Result<ExitCode> {
    anyhow::bail!("zk-backup list is not built yet")
}
