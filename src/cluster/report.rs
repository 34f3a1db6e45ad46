//! `myzoo status`: one-shot read of every cluster (or one), the same verdicts as the console,
//! printed as text or JSON; the exit code says whether the cluster is healthy.

use std::process::ExitCode;

use crate::cli::ConsoleArgs;

pub fn run(
    _rt: &tokio::runtime::Runtime,
    _zk: ConsoleArgs,
    _cluster: Option<String>,
    _json: bool,
) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet")
}
