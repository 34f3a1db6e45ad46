//! `myzoo mysql-backup list`: a cluster's dumps from the backup store, newest first.

use std::process::ExitCode;

use crate::backup::dump::{self, DumpRecord};
use crate::backup::Want;
use crate::cli::ConsoleArgs;

pub async fn run(console: &ConsoleArgs, cluster: &str, json: bool) -> anyhow::Result<ExitCode> {
    let r = super::resolved(console)?;
    let access = super::store_access(&r)?;
    let listed = match super::open_store(&access, Want::Read).await {
        Ok(mut store) => dump::list(&mut store, cluster).await,
        Err(e) => Err(e),
    };
    let dumps = match listed {
        Ok(d) => d,
        Err(e) => return Ok(super::refused_or_unreachable(dump::DumpError::Unreachable(e), json)),
    };
    if json {
        crate::commands::out(&format!("{}\n", serde_json::to_string_pretty(&dumps)?));
    } else {
        crate::commands::out(&render(&dumps));
    }
    Ok(ExitCode::SUCCESS)
}

fn render(dumps: &[DumpRecord]) -> String {
    if dumps.is_empty() {
        return "no dumps\n".into();
    }
    let mut out = format!(
        "{:>5}  {:<19}  {:<9}  {:<10}  {:>10}  {:>10}  {:>8}  {}\n",
        "id", "started (UTC)", "state", "node", "size", "raw", "took", "GTID / file"
    );
    for d in dumps {
        let took = d.duration_ms().map_or("-".into(), |ms| format!("{:.1}s", ms as f64 / 1000.0));
        out.push_str(&format!(
            "{:>5}  {:<19}  {:<9}  {:<10}  {:>10}  {:>10}  {:>8}  {}  {}\n",
            d.id.unwrap_or_default(),
            crate::zk::format::utc_timestamp(d.started_ms),
            d.state.label(),
            d.node,
            super::size(d.bytes),
            super::size(d.raw_bytes),
            took,
            d.gtid_position.as_deref().unwrap_or("-"),
            d.file.display()
        ));
        if let Some(e) = &d.error {
            out.push_str(&format!("       {e}\n"));
        }
    }
    out
}
