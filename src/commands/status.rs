//! `myzoo status`: every cluster (or one) read once and judged as the console judges it,
//! printed as text or JSON. Exit code: 0 healthy or degraded, 2 unhealthy, 1 when ZooKeeper
//! cannot be read.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use zookeeper_client::Client;

use super::out;
use crate::cli::ConsoleArgs;
use crate::cluster::health::Verdict;
use crate::cluster::report;

/// Exit code for an unhealthy cluster (distinct from 1, "could not find out").
pub const EXIT_UNHEALTHY: u8 = 2;
/// How long `myzoo status` waits for ZooKeeper before giving up.
const CONNECT_TIMEOUT_MS: u64 = 10_000;

pub fn run(
    rt: &tokio::runtime::Runtime,
    args: &ConsoleArgs,
    cluster: Option<String>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    crate::logging::to_stderr();
    let r = crate::config::resolve(&super::overrides(args))?;
    let views = rt.block_on(async {
        let read = async {
            let client = Client::connect(&r.connect)
                .await
                .with_context(|| format!("connecting to ZooKeeper at {}", r.connect))?;
            report::collect(&client, &r.root, cluster.as_deref()).await
        };
        tokio::time::timeout(Duration::from_millis(CONNECT_TIMEOUT_MS), read)
            .await
            .with_context(|| format!("ZooKeeper at {} did not answer within {CONNECT_TIMEOUT_MS} ms", r.connect))?
    })?;
    if json {
        out(&format!("{}\n", serde_json::to_string_pretty(&views)?));
    } else {
        out(&report::render(&views));
    }
    let worst = views.iter().map(|v| v.verdict).max().unwrap_or(Verdict::Healthy);
    Ok(if worst == Verdict::Unhealthy { ExitCode::from(EXIT_UNHEALTHY) } else { ExitCode::SUCCESS })
}
