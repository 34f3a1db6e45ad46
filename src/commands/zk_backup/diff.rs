//! `myzoo zk-backup diff`: a snapshot against the live tree or another snapshot. Exit codes as
//! diff(1): 0 no differences, 1 differences, 2 trouble (no such snapshot, a path outside it),
//! 3 the store or ZooKeeper unreachable.

use std::process::ExitCode;

use super::{connect_zk, resolved, store_or_exit, EXIT_REFUSED, EXIT_UNREACHABLE};
use crate::backup::diff::{self, Against, DataChange, DiffReport};
use crate::backup::Want;
use crate::cli::ConsoleArgs;
use crate::commands::out;

pub async fn run(
    console: &ConsoleArgs,
    snapshot: u64,
    against: Option<u64>,
    path: Option<String>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let r = resolved(console)?;
    let mut store = match store_or_exit(&r, Want::Read).await {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let client = match against {
        Some(_) => None,
        None => match connect_zk(&r.zk(), &r.root).await {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!("myzoo: {e:#}");
                return Ok(ExitCode::from(EXIT_UNREACHABLE));
            }
        },
    };
    let zk = r.zk();
    let side = match (&client, against) {
        (Some(c), _) => Against::LiveOver(c, &zk),
        (None, Some(other)) => Against::Snapshot(other),
        (None, None) => return Ok(ExitCode::from(EXIT_REFUSED)),
    };
    let report = match diff::diff(&mut store, snapshot, side, path.as_deref()).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("myzoo: {e:#}");
            return Ok(ExitCode::from(EXIT_REFUSED));
        }
    };
    if json {
        out(&format!("{}\n", serde_json::to_string_pretty(&report)?));
    } else {
        out(&render(&report));
    }
    Ok(ExitCode::from(u8::from(report.has_differences())))
}

/// The report as text: a summary line, then `+` added, `-` removed, `~` changed with details.
pub fn render(r: &DiffReport) -> String {
    let mut s = format!(
        "{} ({}) → {} ({}): {} added, {} removed, {} changed, {} unchanged\n",
        r.from.label,
        r.from.root,
        r.to.label,
        r.to.root,
        r.added.len(),
        r.removed.len(),
        r.changed.len(),
        r.unchanged
    );
    for e in &r.added {
        s.push_str(&format!("+ {} ({} bytes, {})\n", e.path, e.bytes, e.mode));
    }
    for e in &r.removed {
        s.push_str(&format!("- {} ({} bytes, {})\n", e.path, e.bytes, e.mode));
    }
    for c in &r.changed {
        s.push_str(&format!("~ {}\n", c.path));
        match &c.data {
            Some(DataChange::Text { diff }) => {
                for line in diff.lines() {
                    s.push_str(&format!("    {line}\n"));
                }
            }
            Some(DataChange::Binary { from_bytes, to_bytes, from_sha256, to_sha256 }) => s.push_str(&format!(
                "    data: {from_bytes} bytes (sha256 {}…) → {to_bytes} bytes (sha256 {}…)\n",
                &from_sha256[..12.min(from_sha256.len())],
                &to_sha256[..12.min(to_sha256.len())]
            )),
            None => {}
        }
        if let Some((a, b)) = &c.acl {
            s.push_str(&format!("    acl: {} → {}\n", a.join(","), b.join(",")));
        }
        if let Some((a, b)) = &c.mode {
            s.push_str(&format!("    mode: {a} → {b}\n"));
        }
    }
    s
}
