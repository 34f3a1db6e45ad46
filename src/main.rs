//! Thin entry point: parse the arguments and hand them to `myzoo::commands::run`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = myzoo::cli::Cli::parse();
    myzoo::commands::run(cli)
}
