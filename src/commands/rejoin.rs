//! `myzoo rejoin --cluster C --node NODE [--dry-run] [--yes] [--json]`: points a node that is
//! back (an old primary after a failover) at the recorded primary, only when it has no errant
//! transactions (`failover::rejoin`), through the operations' shared front end.

use std::process::ExitCode;

use super::operation::{self, OperationArgs, What};

pub fn run(rt: &tokio::runtime::Runtime, args: OperationArgs, node: String) -> anyhow::Result<ExitCode> {
    operation::run(rt, args, What::Rejoin { node })
}
