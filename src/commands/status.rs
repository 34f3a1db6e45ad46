//! `myzoo status`.

use std::process::ExitCode;

use crate::cli::ConsoleArgs;

pub fn run(
    rt: &tokio::runtime::Runtime,
    args: &ConsoleArgs,
    cluster: Option<String>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    crate::logging::to_stderr();
    crate::cluster::report::run(rt, super::overrides(args), cluster, json)
}
