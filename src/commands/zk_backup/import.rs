//! `myzoo zk-backup import`: an exported JSON file into the store as a new snapshot.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::ConsoleArgs;

pub async fn run(_console: &ConsoleArgs, _input: PathBuf, _note: String, _json: bool) -> anyhow::Result<ExitCode> {
    anyhow::bail!("zk-backup import is not built yet")
}
