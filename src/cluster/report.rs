//! `myzoo status`: one-shot read of every cluster (or one), the same verdicts and table as the
//! console, printed as text or JSON. Exit code: 0 healthy or degraded, 2 unhealthy, 1 when
//! ZooKeeper cannot be read.

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use zookeeper_client::Client;

use super::health::{evaluate, ClusterView, Verdict};
use super::{snapshot, table};
use crate::config::Overrides;

/// Exit code for an unhealthy cluster (distinct from 1, "could not find out").
pub const EXIT_UNHEALTHY: u8 = 2;
/// How long `myzoo status` waits for ZooKeeper before giving up.
const CONNECT_TIMEOUT_MS: u64 = 10_000;

pub fn run(
    rt: &tokio::runtime::Runtime,
    zk: Overrides,
    cluster: Option<String>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let r = crate::config::resolve(&zk)?;
    let views = rt.block_on(async {
        tokio::time::timeout(Duration::from_millis(CONNECT_TIMEOUT_MS), collect(&r.connect, &r.root, cluster))
            .await
            .with_context(|| format!("ZooKeeper at {} did not answer within {CONNECT_TIMEOUT_MS} ms", r.connect))?
    })?;
    if json {
        crate::commands::out(&format!("{}\n", serde_json::to_string_pretty(&views)?));
    } else {
        crate::commands::out(&render(&views));
    }
    let worst = views.iter().map(|v| v.verdict).max().unwrap_or(Verdict::Healthy);
    Ok(if worst == Verdict::Unhealthy { ExitCode::from(EXIT_UNHEALTHY) } else { ExitCode::SUCCESS })
}

async fn collect(connect: &str, root: &str, cluster: Option<String>) -> anyhow::Result<Vec<ClusterView>> {
    let client = Client::connect(connect).await.with_context(|| format!("connecting to ZooKeeper at {connect}"))?;
    let names = match cluster {
        Some(c) => vec![c],
        None => snapshot::list_clusters(&client, root).await?,
    };
    if names.is_empty() {
        anyhow::bail!("no clusters under {root}/clusters");
    }
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    let mut views = Vec::with_capacity(names.len());
    for name in names {
        let snap = snapshot::read_cluster(&client, root, &name).await?;
        if snap.config.is_none() && snap.primary.is_none() && snap.nodes.is_empty() {
            anyhow::bail!("no cluster named {name:?} under {root}/clusters");
        }
        views.push(evaluate(&snap, now_ms));
    }
    Ok(views)
}

/// The text form: a summary line per cluster, its problems, then the node table.
pub fn render(views: &[ClusterView]) -> String {
    let mut out = String::new();
    for v in views {
        out.push_str(&summary_line(v));
        out.push('\n');
        for p in &v.problems {
            out.push_str(&format!("  ! {p}\n"));
        }
        out.push_str(&table::render_text(v));
        out.push('\n');
    }
    out
}

pub fn summary_line(v: &ClusterView) -> String {
    let tier = v.config.as_ref().map_or("?", |c| c.tier.as_str());
    let primary = v.primary.as_ref().map_or("none".to_string(), |p| format!("{} (epoch {})", p.node, p.epoch));
    let auto = v.config.as_ref().is_some_and(|c| c.failover.automatic);
    let verdict = match v.verdict {
        Verdict::Healthy => "HEALTHY",
        Verdict::Degraded => "DEGRADED",
        Verdict::Unhealthy => "UNHEALTHY",
    };
    format!(
        "cluster {}  tier {tier}  primary {primary}  automatic failover {}  {verdict}",
        v.name,
        if auto { "on" } else { "off" }
    )
}
