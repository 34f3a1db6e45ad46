//! `myzoo agent`: the daemon beside one MySQL/MariaDB server. It probes the server, publishes
//! the node's status as an ephemeral znode, and (when its node is the recorded primary) writes
//! the replication heartbeat. It never pulls in the console.

use std::process::ExitCode;

use crate::cli::{AgentArgs, ConsoleArgs};

pub fn run(_rt: &tokio::runtime::Runtime, _zk: ConsoleArgs, _args: AgentArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet")
}
