//! `myzoo zk-backup show`: one snapshot's figures.

use std::process::ExitCode;

use crate::cli::ConsoleArgs;

pub async fn run(_console: &ConsoleArgs, _snapshot: u64, _json: bool) -> anyhow::Result<ExitCode> {
    anyhow::bail!("zk-backup show is not built yet")
}
