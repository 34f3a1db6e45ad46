//! `myzoo zk-backup list`: every snapshot in the store, newest first.

use std::process::ExitCode;

use super::{failed, resolved};
use crate::backup::{snapshot, SnapshotMeta, Want};
use crate::cli::ConsoleArgs;
use crate::commands::out;
use crate::zk::format::{human_bytes, utc_timestamp};

pub async fn run(console: &ConsoleArgs, json: bool) -> anyhow::Result<ExitCode> {
    let r = resolved(console)?;
    let list = match super::open_store(&r, Want::Read).await {
        Ok(mut store) => match snapshot::list(&mut store).await {
            Ok(l) => l,
            Err(e) => return Ok(failed(&e)),
        },
        // Nothing was ever backed up: an empty list, not an unreachable store.
        Err(e) if e.downcast_ref::<crate::backup::store::NoBackupsYet>().is_some() => Vec::new(),
        Err(e) => {
            eprintln!("myzoo: the backup store could not be used: {e:#}");
            return Ok(ExitCode::from(super::EXIT_UNREACHABLE));
        }
    };
    if json {
        out(&format!("{}\n", serde_json::to_string_pretty(&list)?));
    } else if list.is_empty() {
        out("no snapshots\n");
    } else {
        out(&table(&list));
    }
    Ok(ExitCode::SUCCESS)
}

/// The snapshots as an aligned table (the note last, uncut).
pub fn table(list: &[SnapshotMeta]) -> String {
    let header = ["ID", "STATE", "ROOT", "ZNODES", "SIZE", "STARTED (UTC)", "DURATION", "ORIGIN", "OPERATOR", "NOTE"];
    let rows: Vec<[String; 10]> = list
        .iter()
        .map(|m| {
            [
                m.id.to_string(),
                m.state.label().to_string(),
                m.root.clone(),
                m.znodes.to_string(),
                human_bytes(m.bytes as usize),
                utc_timestamp(m.started_ms),
                m.finished_ms.map_or("-".to_string(), |f| format!("{:.1} s", (f - m.started_ms) as f64 / 1000.0)),
                m.origin.clone(),
                m.operator.clone(),
                m.note.replace('\n', " "),
            ]
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let mut line = |cells: Vec<&str>| {
        let last = cells.len() - 1;
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i == last {
                l.push_str(cell);
            } else {
                l.push_str(&format!("{cell:<w$}  "));
            }
        }
        text.push_str(l.trim_end());
        text.push('\n');
    };
    line(header.to_vec());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
    text
}
