//! `myzoo zk-backup export`: a snapshot as a portable JSON file.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::ConsoleArgs;

pub async fn run(_console: &ConsoleArgs, _snapshot: u64, _out: PathBuf) -> anyhow::Result<ExitCode> {
    anyhow::bail!("zk-backup export is not built yet")
}
