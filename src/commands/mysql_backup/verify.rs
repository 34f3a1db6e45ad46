//! `myzoo mysql-backup verify`: check a dump's checksum, restore it into a throw-away server
//! and compare its tables (`backup::dump::verify`).

use std::process::ExitCode;

use crate::backup::dump::{self, VerifyOptions, VerifyReport};
use crate::backup::Want;
use crate::cli::ConsoleArgs;

pub async fn run(console: &ConsoleArgs, cluster: &str, id: Option<u64>, json: bool) -> anyhow::Result<ExitCode> {
    let r = super::resolved(console)?;
    let access = super::store_access(&r)?;
    let mut store = match super::open_store(&access, Want::Read).await {
        Ok(s) => s,
        Err(e) => return Ok(super::refused_or_unreachable(dump::DumpError::Unreachable(e), json)),
    };
    let cancel = super::cancel_on_signals();
    let printer = super::ProgressPrinter::new();
    let show = |p: &dump::DumpProgress| printer.show(p);
    let result = dump::verify(&mut store, cluster, id, &VerifyOptions::default(), &show, &cancel).await;
    printer.done();
    let report = match result {
        Ok(r) => r,
        Err(e) => return Ok(super::refused_or_unreachable(e, json)),
    };
    if json {
        crate::commands::out(&format!("{}\n", serde_json::to_string_pretty(&report)?));
    } else {
        crate::commands::out(&render(&report));
    }
    if report.ok {
        Ok(ExitCode::SUCCESS)
    } else {
        for p in &report.problems {
            eprintln!("error: {p}");
        }
        Ok(ExitCode::from(super::EXIT_FAILED))
    }
}

fn render(r: &VerifyReport) -> String {
    let mut out = format!(
        "dump {} of {}: {}\n  file      {}\n  checksum  {}\n",
        r.id.map_or("-".into(), |i| i.to_string()),
        r.cluster,
        if r.ok { "verified" } else { "FAILED" },
        r.file.display(),
        if r.checksum_ok { "ok" } else { "MISMATCH" }
    );
    if r.restored {
        out.push_str(&format!(
            "  {:<40} {:>10} {:>10} {:>12}  {}\n",
            "table", "rows", "COUNT(*)", "CHECKSUM", "result"
        ));
        for t in &r.tables {
            out.push_str(&format!(
                "  {:<40} {:>10} {:>10} {:>12}  {}\n",
                t.table,
                t.rows_recorded.map_or("-".into(), |n| n.to_string()),
                t.count.map_or("-".into(), |n| n.to_string()),
                t.checksum_table.map_or("-".into(), |n| n.to_string()),
                if t.ok { "ok" } else { "DIFFERS" }
            ));
        }
    }
    for p in &r.problems {
        out.push_str(&format!("  problem: {p}\n"));
    }
    out.push_str(&format!("  took      {:.1}s\n", r.duration_ms as f64 / 1000.0));
    out
}
