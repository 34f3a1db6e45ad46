//! One-shot cluster reports, for `myzoo status`: read every cluster (or one) and judge it with
//! the console's verdicts ([`collect`]), and the text form of the result ([`render`]). The
//! command's front end (arguments, connecting, exit codes) is `commands::status`.

use std::time::{SystemTime, UNIX_EPOCH};

use zookeeper_client::Client;

use super::health::{evaluate, ClusterView, Verdict};
use super::{snapshot, table};

/// Reads and judges the named cluster, or every cluster under `root`; no cluster to report on
/// (none at all, or none by that name) is an error.
pub async fn collect(client: &Client, root: &str, cluster: Option<&str>) -> anyhow::Result<Vec<ClusterView>> {
    let names = match cluster {
        Some(c) => vec![c.to_string()],
        None => snapshot::list_clusters(client, root).await?,
    };
    if names.is_empty() {
        anyhow::bail!("no clusters under {root}/clusters");
    }
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    let mut views = Vec::with_capacity(names.len());
    for name in names {
        let snap = snapshot::read_cluster(client, root, &name).await?;
        if snap.config.is_none() && snap.primary.is_none() && snap.nodes.is_empty() {
            anyhow::bail!("no cluster named {name:?} under {root}/clusters");
        }
        views.push(evaluate(&snap, now_ms));
    }
    Ok(views)
}

/// How `myzoo status` says a cool-down is lifted.
pub const ACK_HINT: &str = "myzoo ack lifts it";

/// The text form: a summary line per cluster, automatic failover (and what the coordinator
/// says, when it is worth a look), its problems, then the node table.
pub fn render(views: &[ClusterView]) -> String {
    let mut out = String::new();
    for v in views {
        out.push_str(&summary_line(v));
        out.push('\n');
        if let Some(line) = auto_failover_line(v) {
            out.push_str(&line);
        }
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
    let verdict = match v.verdict {
        Verdict::Healthy => "HEALTHY",
        Verdict::Degraded => "DEGRADED",
        Verdict::Unhealthy => "UNHEALTHY",
    };
    format!("cluster {}  tier {tier}  primary {primary}  {verdict}", v.name)
}

/// `  automatic failover: blocked until 12:04:00 UTC (myzoo ack lifts it)`, and the
/// coordinator's reason on the next line when there is one; none without a config.
pub fn auto_failover_line(v: &ClusterView) -> Option<String> {
    let a = v.automatic_failover.as_ref()?;
    let mut out = format!("  automatic failover: {}\n", a.describe(ACK_HINT));
    if let Some(r) = &a.reason {
        out.push_str(&format!("    {r}\n"));
    }
    Some(out)
}
