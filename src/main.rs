//! Thin entry point: parse arguments, dispatch to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = myzoo::cli::Cli::parse();
    myzoo::commands::run(cli)
}
