//! `myzoo zk-backup prune`: keep the newest N complete snapshots; remove older ones, failed
//! ones and abandoned running ones. It changes the store, so read-only mode refuses it.

use std::process::ExitCode;

use super::{failed, refuse_read_only, resolved, store_or_exit};
use crate::backup::{snapshot, Want};
use crate::cli::ConsoleArgs;
use crate::commands::out;

pub async fn run(console: &ConsoleArgs, keep: usize, dry_run: bool, json: bool) -> anyhow::Result<ExitCode> {
    let r = resolved(console)?;
    if !dry_run {
        if let Some(code) = refuse_read_only(&r, "prune") {
            return Ok(code);
        }
    }
    let mut store = match store_or_exit(&r, if dry_run { Want::Read } else { Want::Write }).await {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let report = match snapshot::prune(&mut store, keep, dry_run).await {
        Ok(rep) => rep,
        Err(e) => return Ok(failed(&e)),
    };
    if json {
        out(&format!("{}\n", serde_json::to_string_pretty(&report)?));
        return Ok(ExitCode::SUCCESS);
    }
    let verb = if dry_run { "would remove" } else { "removed" };
    let mut text = String::new();
    for p in &report.removed {
        let rows = p.znode_rows.map_or(String::new(), |n| format!(", {n} znode rows"));
        text.push_str(&format!("{verb} snapshot {} ({}: {}{rows})\n", p.id, p.state.label(), p.reason));
    }
    text.push_str(&format!(
        "{verb} {} snapshot(s); kept {} complete: {}\n",
        report.removed.len(),
        report.kept.len(),
        report.kept.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
    ));
    out(&text);
    Ok(ExitCode::SUCCESS)
}
