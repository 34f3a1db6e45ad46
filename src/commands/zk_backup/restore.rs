//! `myzoo zk-backup restore`: a snapshot's znodes back into ZooKeeper.

use std::process::ExitCode;

use crate::cli::{ConsoleArgs, RestorePolicyArg};

/// The parsed flags of `restore`.
#[allow(dead_code)] // read once the restore service lands
#[derive(Debug, Clone)]
pub struct Args {
    pub snapshot: u64,
    pub path: Option<String>,
    pub to: Option<String>,
    pub policy: RestorePolicyArg,
    pub dry_run: bool,
    pub to_zk: Option<String>,
    pub yes: bool,
    pub confirm: Option<String>,
    pub json: bool,
}

pub async fn run(_console: &ConsoleArgs, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("zk-backup restore is not built yet")
}
