//! `myzoo status`: every cluster (or one) read once and judged as the console judges it,
//! printed as text or JSON, with the exit codes of a monitoring plugin (Nagios, Icinga, Sensu):
//! 0 healthy, 1 degraded, 2 unhealthy, 3 unknown. With several clusters the worst wins.
//!
//! Unknown is anything that keeps us from judging: no connection to configure, ZooKeeper
//! unreachable or not answering within [`ANSWER_TIMEOUT_MS`], no such cluster, no clusters at
//! all. Its reason goes to stderr on one line; in text mode stdout is `UNKNOWN: reason` (the
//! first line is what monitoring systems read), with `--json` stdout stays empty, so it never
//! prints half an answer. A bad command line is unknown too (`commands::usage_error`).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use super::out;
use crate::cli::ConsoleArgs;
use crate::cluster::health::{ClusterView, Verdict};
use crate::cluster::report;

pub const EXIT_HEALTHY: u8 = 0;
pub const EXIT_DEGRADED: u8 = 1;
pub const EXIT_UNHEALTHY: u8 = 2;
pub const EXIT_UNKNOWN: u8 = 3;
/// How long ZooKeeper has to connect and answer every read before the status is unknown. A
/// check must answer well before its monitoring system gives up on it (10 s is a common
/// default), and a ZooKeeper that has not answered in this long is not worth waiting for.
pub const ANSWER_TIMEOUT_MS: u64 = 5_000;

pub fn run(
    rt: &tokio::runtime::Runtime,
    args: &ConsoleArgs,
    cluster: Option<String>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    crate::logging::to_stderr();
    let code = match rt.block_on(check(args, cluster.as_deref())).and_then(|views| print(&views, json)) {
        Ok(code) => code,
        Err(e) => {
            let reason = one_line(&format!("{e:#}"));
            // Monitoring systems read the first line of stdout as the service's state.
            if !json {
                super::out(&format!("UNKNOWN: {reason}\n"));
            }
            eprintln!("myzoo: status unknown: {reason}");
            EXIT_UNKNOWN
        }
    };
    Ok(ExitCode::from(code))
}

/// Connects and reads within [`ANSWER_TIMEOUT_MS`], then judges.
async fn check(args: &ConsoleArgs, cluster: Option<&str>) -> anyhow::Result<Vec<ClusterView>> {
    let r = crate::config::resolve(&super::overrides(args))?;
    let read = async {
        // Fail eagerly: once every server has refused, stop rather than cycle through them
        // again until the session timeout.
        let client =
            r.zk().connect_eagerly().await.with_context(|| format!("cannot connect to ZooKeeper at {}", r.connect))?;
        super::check_zk_auth(&client, &r.zk(), &r.root).await?;
        report::collect(&client, &r.root, cluster).await
    };
    tokio::time::timeout(Duration::from_millis(ANSWER_TIMEOUT_MS), read)
        .await
        .with_context(|| format!("ZooKeeper at {} did not answer within {ANSWER_TIMEOUT_MS} ms", r.connect))?
}

fn print(views: &[ClusterView], json: bool) -> anyhow::Result<u8> {
    if json {
        out(&format!("{}\n", serde_json::to_string_pretty(views)?));
    } else {
        out(&report::render(views));
    }
    Ok(exit_code(views.iter().map(|v| v.verdict)))
}

/// The worst verdict's code; no verdict at all is nothing known.
fn exit_code(verdicts: impl IntoIterator<Item = Verdict>) -> u8 {
    match verdicts.into_iter().max() {
        Some(Verdict::Healthy) => EXIT_HEALTHY,
        Some(Verdict::Degraded) => EXIT_DEGRADED,
        Some(Verdict::Unhealthy) => EXIT_UNHEALTHY,
        None => EXIT_UNKNOWN,
    }
}

/// Monitoring systems keep the first line: causes that span lines are joined.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_worst_verdict_wins() {
        use Verdict::*;
        assert_eq!(exit_code([Healthy, Healthy]), 0);
        assert_eq!(exit_code([Healthy, Degraded, Healthy]), 1);
        assert_eq!(exit_code([Degraded, Unhealthy, Healthy]), 2);
        assert_eq!(exit_code([]), 3);
    }

    #[test]
    fn reasons_fit_on_one_line() {
        assert_eq!(one_line("reading /x: connection\n  lost\n"), "reading /x: connection lost");
    }

    /// The help text lives with the clap types; it must name the codes and the limit used here.
    #[test]
    fn help_names_the_exit_codes_and_the_time_limit() {
        let mut cli = crate::cli::Cli::command();
        let help = cli.find_subcommand_mut("status").expect("status").render_long_help().to_string();
        for text in [
            format!("{EXIT_HEALTHY} healthy"),
            format!("{EXIT_DEGRADED} degraded"),
            format!("{EXIT_UNHEALTHY} unhealthy"),
            format!("{EXIT_UNKNOWN} unknown"),
            format!("silent for {} s", ANSWER_TIMEOUT_MS / 1000),
        ] {
            assert!(help.contains(&text), "{text:?} not in:\n{help}");
        }
    }
}
