//! `myzoo zk get | set | create | delete`.

use std::process::ExitCode;

use crate::cli::ConsoleArgs;

pub fn run(
    rt: &tokio::runtime::Runtime,
    args: &ConsoleArgs,
    action: crate::ops::command::ZkAction,
) -> anyhow::Result<ExitCode> {
    crate::logging::to_stderr();
    crate::ops::command::run(rt, super::overrides(args), action)
}
