//! `myzoo generate completions SHELL` and `myzoo generate man DIR` (hidden): shell completion
//! scripts and man pages made from the clap definitions in [`crate::cli`], so they never drift
//! from the real command line. The Debian package (`scripts/package-deb.sh`) ships their output.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::CommandFactory;

use crate::cli::{Cli, GenerateAction};

/// Writes what was asked; exit 0, or an error naming the directory that could not be written.
pub fn run(what: GenerateAction) -> anyhow::Result<ExitCode> {
    match what {
        GenerateAction::Completions { shell } => {
            let mut out = std::io::stdout().lock();
            clap_complete::generate(shell, &mut Cli::command(), "myzoo", &mut out);
            out.flush().context("writing the completion script")?;
        }
        GenerateAction::Man { dir } => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            // One page per visible subcommand, recursively: myzoo.1, myzoo-agent.1, myzoo-zk-get.1…
            clap_mangen::generate_to(Cli::command(), &dir)
                .with_context(|| format!("writing man pages into {}", dir.display()))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
