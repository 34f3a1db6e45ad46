//! `myzoo zk-backup create`: snapshot a subtree into the backup store.

use std::process::ExitCode;

use crate::cli::ConsoleArgs;

pub async fn run(
    _console: &ConsoleArgs,
    _path: Option<String>,
    _note: String,
    _include_ephemeral: bool,
    _json: bool,
) -> anyhow::Result<ExitCode> {
    anyhow::bail!("zk-backup create is not built yet")
}
