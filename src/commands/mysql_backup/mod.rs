//! `myzoo mysql-backup`: logical dumps of a cluster's MySQL data, one file per subcommand.

use std::process::ExitCode;

use crate::cli::{ConsoleArgs, MysqlBackupAction};

pub fn run(rt: &tokio::runtime::Runtime, console: &ConsoleArgs, action: MysqlBackupAction) -> anyhow::Result<ExitCode> {
    crate::logging::to_stderr();
    let _ = (rt, console);
    match action {
        MysqlBackupAction::Create { .. } | MysqlBackupAction::List { .. } | MysqlBackupAction::Verify { .. } => {
            anyhow::bail!("mysql-backup is not built yet")
        }
    }
}
