//! `myzoo failover --cluster C [--to NODE] [--force] [--dry-run] [--yes] [--confirm NAME] [--json]`:
//! the unplanned failover (`failover::unplanned`: it refuses unless every observer agrees the
//! primary is gone) through the operations' shared front end (`commands::operation`).
//! `--force` accepts losing the transactions the plan lists; a terminal asks a second time.

use std::process::ExitCode;

use super::operation::{self, OperationArgs, What};
use crate::failover::unplanned::FailoverOptions;

pub fn run(
    rt: &tokio::runtime::Runtime,
    args: OperationArgs,
    to: Option<String>,
    force: bool,
) -> anyhow::Result<ExitCode> {
    operation::run(rt, args, What::Failover(FailoverOptions { to, force }))
}
