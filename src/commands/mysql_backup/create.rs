//! `myzoo mysql-backup create`: dump a cluster from its best replica (or `--node`).

use std::path::PathBuf;
use std::process::ExitCode;

use crate::backup::dump::{self, DumpOptions, DumpRecord, DumpState};
use crate::backup::Want;
use crate::cli::ConsoleArgs;
use crate::ops::actor::Actor;

pub struct Args {
    pub cluster: String,
    pub node: Option<String>,
    pub out: Option<PathBuf>,
    pub keep: Option<usize>,
    pub json: bool,
}

pub async fn run(console: &ConsoleArgs, args: Args) -> anyhow::Result<ExitCode> {
    let r = super::resolved(console)?;
    let access = super::store_access(&r)?;
    let out_dir = args
        .out
        .clone()
        .or_else(|| r.backup_store.as_ref().and_then(|s| s.dump_dir.clone()))
        .unwrap_or_else(|| crate::config::state_dir().join("dumps"));
    let mut store = match super::open_store(&access, Want::Write).await {
        Ok(s) => s,
        Err(e) => return Ok(super::refused_or_unreachable(dump::DumpError::Unreachable(e), args.json)),
    };
    let zk = match super::connect_zk(&r.zk(), &r.root).await {
        Ok(c) => c,
        Err(e) => return Ok(super::refused_or_unreachable(dump::DumpError::Unreachable(e), args.json)),
    };
    let actor = Actor::from_env();
    let opts = DumpOptions {
        cluster: args.cluster.clone(),
        node: args.node.clone(),
        out_dir,
        keep: args.keep,
        tool: None,
        access,
        operator: actor.user,
        host: actor.host,
        origin: "cli".into(),
    };
    let cancel = super::cancel_on_signals();
    let printer = super::ProgressPrinter::new();
    let show = |p: &dump::DumpProgress| printer.show(p);
    let result = dump::create(&zk, &r.root, &opts, Some(&mut store), &show, &cancel).await;
    printer.done();
    let record = match result {
        Ok(r) => r,
        Err(e) => return Ok(super::refused_or_unreachable(e, args.json)),
    };
    if args.json {
        crate::commands::out(&format!("{}\n", serde_json::to_string_pretty(&record)?));
    } else {
        crate::commands::out(&summary(&record));
    }
    Ok(match record.state {
        DumpState::Complete => ExitCode::SUCCESS,
        _ => {
            if !args.json {
                eprintln!("error: {}", record.error.as_deref().unwrap_or(record.state.label()));
            }
            ExitCode::from(super::EXIT_FAILED)
        }
    })
}

fn summary(d: &DumpRecord) -> String {
    let mut out = format!(
        "dump {} of {}: {} from {} ({}, {})\n",
        d.id.map_or("-".into(), |i| i.to_string()),
        d.cluster,
        d.state.label(),
        d.node,
        d.role,
        d.source
    );
    if d.state == DumpState::Complete {
        out.push_str(&format!("  file      {}\n", d.file.display()));
        out.push_str(&format!("  sha256    {}\n", d.checksum.as_deref().unwrap_or("-")));
        out.push_str(&format!("  gtid      {}\n", d.gtid_position.as_deref().unwrap_or("-")));
        out.push_str(&format!(
            "  size      {} ({} raw), {} tables\n",
            super::size(d.bytes),
            super::size(d.raw_bytes),
            d.tables.len()
        ));
        if let (Some(ms), Some(rate)) = (d.duration_ms(), d.rate_bytes_per_s()) {
            out.push_str(&format!("  took      {:.1}s ({}/s)\n", ms as f64 / 1000.0, super::size(rate as u64)));
        }
        if !d.removed.is_empty() {
            let ids: Vec<String> = d.removed.iter().map(u64::to_string).collect();
            out.push_str(&format!("  removed   {} (beyond --keep)\n", ids.join(", ")));
        }
    }
    out
}
