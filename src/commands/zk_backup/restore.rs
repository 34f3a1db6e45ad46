//! `myzoo zk-backup restore`: a snapshot's znodes back into ZooKeeper. Plans first (a dry run
//! of the same service), prints the plan, then asks on a terminal (or takes `--yes`; production
//! also needs `--confirm NAME`), runs, and prints what happened. `--to-zk` restores into
//! another ensemble from the store alone (disaster recovery).
//!
//! Exit codes: 0 done (or a dry run), 1 failed, conflicts or cancelled, 2 refused (checksum,
//! not confirmed, read-only, lock held), 3 the store or ZooKeeper unreachable.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use tokio_util::sync::CancellationToken;

use super::{connect_zk, resolved, store_or_exit, EXIT_FAILED, EXIT_REFUSED, EXIT_UNREACHABLE};
use crate::backup::restore::{self, Action, Policy, Refused, RestoreOptions, RestoreReport};
use crate::backup::{Progress, Want};
use crate::cli::{ConsoleArgs, RestorePolicyArg};
use crate::commands::out;
use crate::ops::actor::Actor;

/// Paths shown per action in the printed plan.
const SAMPLE_PATHS: usize = 10;

/// The parsed flags of `restore`.
#[derive(Debug, Clone)]
pub struct Args {
    pub snapshot: u64,
    pub path: Option<String>,
    pub to: Option<String>,
    pub policy: RestorePolicyArg,
    pub dry_run: bool,
    pub to_zk: Option<String>,
    pub yes: bool,
    pub confirm: Option<String>,
    pub json: bool,
}

fn policy(p: RestorePolicyArg) -> Policy {
    match p {
        RestorePolicyArg::Overwrite => Policy::Overwrite,
        RestorePolicyArg::SkipExisting => Policy::SkipExisting,
        RestorePolicyArg::MissingOnly => Policy::MissingOnly,
    }
}

pub async fn run(console: &ConsoleArgs, args: Args) -> anyhow::Result<ExitCode> {
    let r = resolved(console)?;
    let mut store = match store_or_exit(&r, Want::Read).await {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let connect = args.to_zk.clone().unwrap_or_else(|| r.connect.clone());
    let client = match connect_zk(&crate::zk::ZkAccess { connect: connect.clone(), ..r.zk() }, &r.root).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("myzoo: {e:#}");
            return Ok(ExitCode::from(EXIT_UNREACHABLE));
        }
    };
    let mut opts = RestoreOptions {
        policy: policy(args.policy),
        under: args.path.clone(),
        to: args.to.clone(),
        dry_run: true,
        sample_paths: SAMPLE_PATHS,
        root: r.root.clone(),
        confirm: args.confirm.clone(),
        actor: Actor::from_env(),
        origin: "cli".into(),
        read_only: r.read_only,
        unchanged_since: None,
    };
    let show_progress = std::io::stderr().is_terminal() && !args.json;
    let progress = move |p: &Progress| {
        if show_progress {
            let total = p.total.map(|t| format!("/{t}")).unwrap_or_default();
            eprint!("\r\x1b[K{} {}{total} znodes", p.phase, p.done);
        }
    };
    let cancel = CancellationToken::new();
    let plan = restore::restore_snapshot(&client, &mut store, args.snapshot, &opts, &progress, &cancel).await;
    if show_progress {
        eprint!("\r\x1b[K");
    }
    let plan = match plan {
        Ok(p) => p,
        Err(e) => return Ok(failed(&e)),
    };
    if args.dry_run {
        if args.json {
            out(&format!("{}\n", serde_json::to_string_pretty(&plan)?));
        } else {
            out(&render(&plan, &connect));
        }
        return Ok(ExitCode::SUCCESS);
    }
    if !args.json {
        out(&render(&plan, &connect));
    }
    if r.read_only {
        eprintln!("myzoo: read-only mode: restore refused, nothing was changed");
        return Ok(ExitCode::from(EXIT_REFUSED));
    }
    if plan.actions.count(Action::Create) + plan.actions.count(Action::Overwrite) == 0 {
        if args.json {
            out(&format!("{}\n", serde_json::to_string_pretty(&plan)?));
        } else {
            out("\nNothing to write.\n");
        }
        return Ok(ExitCode::SUCCESS);
    }
    match confirmation(&args, plan.confirmation_needed.as_deref()) {
        Ok(c) => opts.confirm = c,
        Err(why) => {
            eprintln!("myzoo: {why}");
            return Ok(ExitCode::from(EXIT_REFUSED));
        }
    }
    opts.dry_run = false;
    opts.unchanged_since = plan.planned_zxid;
    let stop = cancel.clone();
    let signals = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\nmyzoo: stopping after the writes in flight (run the restore again to finish it)");
            stop.cancel();
        }
    });
    let done = restore::restore_snapshot(&client, &mut store, args.snapshot, &opts, &progress, &cancel).await;
    signals.abort();
    if show_progress {
        eprint!("\r\x1b[K");
    }
    let report = match done {
        Ok(r) => r,
        Err(e) => return Ok(failed(&e)),
    };
    if args.json {
        out(&format!("{}\n", serde_json::to_string_pretty(&report)?));
    } else {
        out(&render_result(&report));
    }
    Ok(if report.clean() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_FAILED) })
}

fn failed(e: &anyhow::Error) -> ExitCode {
    eprintln!("myzoo: {e:#}");
    if e.downcast_ref::<Refused>().is_some() {
        ExitCode::from(EXIT_REFUSED)
    } else {
        ExitCode::from(EXIT_FAILED)
    }
}

/// `--yes` (and `--confirm NAME` on production) for scripts; a terminal is asked.
fn confirmation(args: &Args, production: Option<&str>) -> Result<Option<String>, String> {
    if let Some(names) = production {
        if args.confirm.as_deref().map(str::trim) == Some(names) {
            if args.yes {
                return Ok(args.confirm.clone());
            }
        } else if args.yes || !std::io::stdin().is_terminal() {
            return Err(format!("{names} is production: pass --confirm {names}"));
        }
    } else if args.yes {
        return Ok(None);
    }
    if !std::io::stdin().is_terminal() {
        return Err("not confirmed: pass --yes (and --confirm NAME on production) when not on a terminal".into());
    }
    let wanted = production.unwrap_or("yes").to_string();
    print!("\nType {wanted:?} to restore: ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| e.to_string())?;
    if line.trim() != wanted {
        return Err("not confirmed; nothing was changed".into());
    }
    Ok(production.map(str::to_string))
}

/// The plan as text: counts per action with the first paths, then what never happens.
pub fn render(plan: &RestoreReport, connect: &str) -> String {
    let mut s = format!(
        "Restore plan: snapshot {} {} → {} on {} (policy {})\n",
        plan.snapshot.map_or_else(|| "-".into(), |s| s.to_string()),
        plan.source,
        plan.target,
        connect,
        plan.policy.label()
    );
    s.push_str(&counts(plan, true));
    if !plan.parents_created.is_empty() {
        s.push_str(&format!("  parents to create first: {}\n", plan.parents_created.join(", ")));
    }
    if let Some(names) = &plan.confirmation_needed {
        s.push_str(&format!("  production: {names} (needs --confirm {names})\n"));
    }
    s.push_str("Never:\n");
    for line in &plan.never {
        s.push_str(&format!("  - {line}\n"));
    }
    s
}

fn counts(r: &RestoreReport, samples: bool) -> String {
    let mut s = String::new();
    for a in Action::ALL {
        let t = r.actions.get(a);
        if t.count == 0 && !matches!(a, Action::Create | Action::Overwrite) {
            continue;
        }
        s.push_str(&format!("  {:<24}{:>8}\n", a.label(), t.count));
        if samples {
            for p in &t.sample {
                s.push_str(&format!("      {p}\n"));
            }
            if t.count > t.sample.len() as u64 {
                s.push_str(&format!("      … and {} more\n", t.count - t.sample.len() as u64));
            }
        }
    }
    for p in &r.problems {
        s.push_str(&format!("  ! {p}\n"));
    }
    s
}

fn render_result(r: &RestoreReport) -> String {
    let mut s = format!(
        "\n{}: {} in {} ms\n",
        if r.clean() {
            "done"
        } else if r.cancelled {
            "cancelled"
        } else {
            "finished with problems"
        },
        r.counts_line(),
        r.duration_ms
    );
    s.push_str(&counts(r, false));
    for f in &r.sequence_counters {
        s.push_str(&format!(
            "  sequence counter of {} moved past {} (next {})\n",
            f.parent, f.highest_restored, f.next
        ));
    }
    if let Some(a) = &r.audit_path {
        s.push_str(&format!("  audit: {a}\n"));
    }
    s
}
