//! The interactive console: event loop, state (`App::update`), keymap, themes and views.

use std::process::ExitCode;

use crate::cli::ConsoleArgs;

pub fn run(_rt: &tokio::runtime::Runtime, _args: ConsoleArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet")
}
