//! `myzoo switchover --cluster C [--to NODE] [--dry-run] [--yes] [--confirm NAME] [--json]`: the
//! planned switchover (`failover::switchover`, the code the console runs too) through the
//! operations' shared front end (`commands::operation`, which holds the exit codes).

use std::process::ExitCode;

use super::operation::{self, OperationArgs, What};

pub fn run(rt: &tokio::runtime::Runtime, args: OperationArgs, to: Option<String>) -> anyhow::Result<ExitCode> {
    operation::run(rt, args, What::Switchover { to })
}
