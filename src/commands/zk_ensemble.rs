//! `myzoo zk ensemble`: every member of the ZooKeeper ensemble asked once and judged
//! (`zk::ensemble::read`), printed as text or JSON, with `myzoo status`'s exit codes: 0 healthy,
//! 1 degraded, 2 unhealthy, 3 unknown. The first line of the text says which.
//!
//! A session is opened for `/zookeeper/config` and to say which member it lands on; without one
//! (the quorum lost, every member down) the connect string's members are asked all the same.

use std::process::ExitCode;
use std::time::Duration;

use super::out;
use super::status::{EXIT_DEGRADED, EXIT_HEALTHY, EXIT_UNHEALTHY, EXIT_UNKNOWN};
use crate::cli::ConsoleArgs;
use crate::zk::ensemble::{self, table, EnsembleReport, EnsembleVerdict};

/// How long the command waits for a session before asking the members without one. A lost
/// quorum refuses sessions at once; a frozen member holds a connect for this long at most.
pub const SESSION_WAIT_MS: u64 = 2_000;

pub fn run(rt: &tokio::runtime::Runtime, args: &ConsoleArgs, json: bool) -> anyhow::Result<ExitCode> {
    crate::logging::to_stderr();
    let code = match rt.block_on(check(args)) {
        Ok(report) => {
            if json {
                out(&format!("{}\n", serde_json::to_string_pretty(&report)?));
            } else {
                out(&table::render_text(&report));
            }
            exit_code(report.judgement.verdict)
        }
        Err(e) => {
            let reason = format!("{e:#}").split_whitespace().collect::<Vec<_>>().join(" ");
            if !json {
                out(&format!("ENSEMBLE UNKNOWN: {reason}\n"));
            }
            eprintln!("myzoo: ensemble unknown: {reason}");
            EXIT_UNKNOWN
        }
    };
    Ok(ExitCode::from(code))
}

async fn check(args: &ConsoleArgs) -> anyhow::Result<EnsembleReport> {
    let r = crate::config::resolve(&super::overrides(args))?;
    let connector = zookeeper_client::Client::connector()
        .with_session_timeout(Duration::from_millis(r.session_timeout_ms))
        .with_fail_eagerly();
    let client = match tokio::time::timeout(Duration::from_millis(SESSION_WAIT_MS), connector.connect(&r.connect)).await
    {
        Ok(Ok(c)) => Some(c),
        Ok(Err(e)) => {
            tracing::warn!("no ZooKeeper session ({e}); asking the connect string's members");
            None
        }
        Err(_) => {
            tracing::warn!("no ZooKeeper session within {SESSION_WAIT_MS} ms; asking the connect string's members");
            None
        }
    };
    ensemble::read(&r.connect, client.as_ref(), &r.ensemble).await.map_err(anyhow::Error::msg)
}

fn exit_code(verdict: EnsembleVerdict) -> u8 {
    match verdict {
        EnsembleVerdict::Healthy => EXIT_HEALTHY,
        EnsembleVerdict::Degraded => EXIT_DEGRADED,
        EnsembleVerdict::Unhealthy => EXIT_UNHEALTHY,
        EnsembleVerdict::Unknown => EXIT_UNKNOWN,
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn verdicts_map_to_monitoring_codes() {
        assert_eq!(exit_code(EnsembleVerdict::Healthy), 0);
        assert_eq!(exit_code(EnsembleVerdict::Degraded), 1);
        assert_eq!(exit_code(EnsembleVerdict::Unhealthy), 2);
        assert_eq!(exit_code(EnsembleVerdict::Unknown), 3);
    }

    /// The help text lives with the clap types; it must name the codes and the limit used here.
    #[test]
    fn help_names_the_exit_codes_and_the_time_limit() {
        let mut cli = crate::cli::Cli::command();
        let zk = cli.find_subcommand_mut("zk").expect("zk");
        let help = zk.find_subcommand_mut("ensemble").expect("ensemble").render_long_help().to_string();
        for text in [
            format!("{EXIT_HEALTHY} healthy"),
            format!("{EXIT_DEGRADED} degraded"),
            format!("{EXIT_UNHEALTHY} unhealthy"),
            format!("{EXIT_UNKNOWN} unknown"),
            format!("within {} s", ensemble::probe::ASK_TIMEOUT_MS / 1000),
        ] {
            assert!(help.contains(&text), "{text:?} not in:\n{help}");
        }
    }
}
