//! `myzoo zk-backup diff`: a snapshot against the live tree or another snapshot.

use std::process::ExitCode;

use crate::cli::ConsoleArgs;

pub async fn run(
    _console: &ConsoleArgs,
    _snapshot: u64,
    _against: Option<u64>,
    _path: Option<String>,
    _json: bool,
) -> anyhow::Result<ExitCode> {
    anyhow::bail!("zk-backup diff is not built yet")
}
