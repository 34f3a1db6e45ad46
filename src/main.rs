//! Thin entry point: parse the arguments and hand them to `myzoo::commands::run`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = match myzoo::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return myzoo::commands::usage_error(e),
    };
    myzoo::commands::run(cli)
}
