//! `myzoo zk-backup show`: one snapshot's figures, with what its zxid range means.

use std::process::ExitCode;

use super::{failed, resolved, store_or_exit};
use crate::backup::snapshot::{self, zxid_range_text, zxid_text};
use crate::backup::{SnapshotMeta, Want};
use crate::cli::ConsoleArgs;
use crate::commands::out;
use crate::zk::format::{human_bytes, utc_timestamp};

pub async fn run(console: &ConsoleArgs, id: u64, json: bool) -> anyhow::Result<ExitCode> {
    let r = resolved(console)?;
    let mut store = match store_or_exit(&r, Want::Read).await {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let meta = match snapshot::show(&mut store, id).await {
        Ok(m) => m,
        Err(e) => return Ok(failed(&e)),
    };
    if json {
        let mut v = serde_json::to_value(&meta)?;
        v["min_zxid_hex"] = meta.min_zxid.map(|z| format!("{z:#x}")).into();
        v["max_zxid_hex"] = meta.max_zxid.map(|z| format!("{z:#x}")).into();
        v["point_in_time"] = false.into();
        out(&format!("{}\n", serde_json::to_string_pretty(&v)?));
    } else {
        out(&text(&meta, store.host()));
    }
    Ok(ExitCode::SUCCESS)
}

fn text(m: &SnapshotMeta, store_host: &str) -> String {
    let mut t = String::new();
    let mut row = |k: &str, v: String| t.push_str(&format!("{k:<12} {v}\n"));
    row("snapshot", m.id.to_string());
    row("state", m.state.label().to_string());
    row("ensemble", m.ensemble.clone());
    row("root", m.root.clone());
    row("ephemerals", if m.include_ephemeral { "kept" } else { "left out" }.to_string());
    row("started", format!("{} UTC", utc_timestamp(m.started_ms)));
    row(
        "finished",
        m.finished_ms
            .map_or("-".into(), |f| format!("{} UTC ({:.2} s)", utc_timestamp(f), (f - m.started_ms) as f64 / 1000.0)),
    );
    row("znodes", m.znodes.to_string());
    row("data", format!("{} ({} bytes)", human_bytes(m.bytes as usize), m.bytes));
    row("min zxid", m.min_zxid.map_or("-".into(), zxid_text));
    row("max zxid", m.max_zxid.map_or("-".into(), zxid_text));
    row("checksum", m.checksum.clone().unwrap_or_else(|| "-".into()));
    row("taken by", format!("{}@{} ({})", m.operator, m.host, m.origin));
    row("note", m.note.clone());
    if let Some(e) = &m.error {
        row("error", e.clone());
    }
    row("store", store_host.to_string());
    t.push_str(&format!("\n{}\n", zxid_range_text(m)));
    t
}
