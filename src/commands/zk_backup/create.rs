//! `myzoo zk-backup create`: snapshot a subtree into the backup store. Changes nothing in the
//! cluster, so read-only mode allows it.

use std::process::ExitCode;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::{connect_zk, failed, resolved, store_or_exit, ProgressLine, EXIT_UNREACHABLE};
use crate::backup::snapshot::{self, SnapshotOptions};
use crate::backup::{SnapshotMeta, Want};
use crate::cli::ConsoleArgs;
use crate::commands::out;
use crate::ops::actor::Actor;
use crate::zk::format::human_bytes;

pub async fn run(
    console: &ConsoleArgs,
    path: Option<String>,
    note: String,
    include_ephemeral: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let r = resolved(console)?;
    let root = path.unwrap_or_else(|| r.root.clone());
    if !root.starts_with('/') {
        anyhow::bail!("--path {root:?} is not an absolute znode path");
    }
    let mut store = match store_or_exit(&r, Want::Write).await {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let client = match connect_zk(&r.zk(), &r.root).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("myzoo: {e:#}");
            return Ok(ExitCode::from(EXIT_UNREACHABLE));
        }
    };
    let actor = Actor::from_env();
    let opts = SnapshotOptions {
        ensemble: r.connect.clone(),
        root,
        include_ephemeral,
        note,
        operator: actor.user,
        host: actor.host,
        origin: "cli".into(),
        audit_root: Some(r.root.clone()),
        acl_sessions: Some(r.zk()),
    };
    let cancel = CancellationToken::new();
    let on_signal = cancel.clone();
    let signal = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_signal.cancel();
        }
    });
    let line = ProgressLine::new();
    let started = Instant::now();
    let result = snapshot::create(&client, &mut store, &opts, &|p| line.show(p), &cancel).await;
    signal.abort();
    line.finish();
    let meta = match result {
        Ok(m) => m,
        Err(e) => return Ok(failed(&e)),
    };
    let duration_ms = started.elapsed().as_millis() as u64;
    if json {
        let mut v = serde_json::to_value(&meta)?;
        v["duration_ms"] = duration_ms.into();
        out(&format!("{}\n", serde_json::to_string_pretty(&v)?));
    } else {
        out(&summary(&meta, duration_ms));
    }
    Ok(ExitCode::SUCCESS)
}

fn summary(meta: &SnapshotMeta, duration_ms: u64) -> String {
    format!(
        "snapshot {} of {}: {} znodes, {} of data in {:.2} s\nchecksum {}\n",
        meta.id,
        meta.root,
        meta.znodes,
        human_bytes(meta.bytes as usize),
        duration_ms as f64 / 1000.0,
        meta.checksum.as_deref().unwrap_or("-")
    )
}
