//! `myzoo agent`.

use std::process::ExitCode;

use crate::cli::{AgentArgs, ConsoleArgs};

pub fn run(rt: &tokio::runtime::Runtime, args: &ConsoleArgs, agent: AgentArgs) -> anyhow::Result<ExitCode> {
    crate::agent::run(rt, super::overrides(args), agent)
}
