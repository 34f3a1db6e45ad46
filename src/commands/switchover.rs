//! `myzoo switchover --cluster C [--to NODE] [--dry-run] [--yes] [--confirm NAME] [--json]`: the
//! planned switchover from scripts and terminals, through `failover::switchover` (the same code
//! the console runs). It prints the plan, asks (unless `--yes`), then prints each step as the
//! journal records it.
//!
//! Exit codes: 0 done (or a dry run whose plan can run), 1 failed or rolled back, 2 refused
//! (the plan refuses, the lock is held, no confirmation, read-only mode), 3 ZooKeeper or
//! MySQL could not be reached to make the plan.

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Mutex;

use super::operation::{connect_operator, OperationArgs};
use super::out;
use crate::failover::journal::{OpState, Record, StepState};
use crate::failover::switchover::{self, Refused};

/// Exit code: the operation ran and did not finish (rolled back or failed).
pub const EXIT_FAILED: u8 = 1;
/// Exit code: nothing was done (plan refused, lock held, not confirmed, read-only).
pub const EXIT_REFUSED: u8 = 2;
/// Exit code: the cluster could not be read to make a plan.
pub const EXIT_UNREACHABLE: u8 = 3;

pub fn run(rt: &tokio::runtime::Runtime, args: OperationArgs, to: Option<String>) -> anyhow::Result<ExitCode> {
    crate::logging::to_stderr();
    rt.block_on(async {
        let op = match connect_operator(&args).await {
            Ok(op) => op,
            Err(e) => {
                eprintln!("myzoo: {e:#}");
                return Ok(ExitCode::from(EXIT_UNREACHABLE));
            }
        };
        let prepared = match switchover::plan(&op, to.as_deref()).await {
            Ok(p) => p,
            Err(e) => {
                eprintln!("myzoo: cannot plan the switchover: {e:#}");
                return Ok(ExitCode::from(EXIT_UNREACHABLE));
            }
        };
        if args.dry_run {
            if args.json {
                out(&format!("{}\n", serde_json::to_string_pretty(&prepared.plan)?));
            } else {
                out(&prepared.plan.render());
            }
            return Ok(ExitCode::from(if prepared.plan.can_run() { 0 } else { EXIT_REFUSED }));
        }
        if !args.json {
            out(&prepared.plan.render());
        }
        if !prepared.plan.can_run() {
            eprintln!("myzoo: the switchover is refused: {}", prepared.plan.refusals.join("; "));
            return Ok(ExitCode::from(EXIT_REFUSED));
        }
        let production = prepared.view.config.is_production();
        let confirm = match confirmation(&args, &op.paths.cluster, production) {
            Ok(c) => c,
            Err(why) => {
                eprintln!("myzoo: {why}");
                return Ok(ExitCode::from(EXIT_REFUSED));
            }
        };
        let printed = Mutex::new(HashMap::<String, StepState>::new());
        let json = args.json;
        let report = move |record: &Record| {
            if !json {
                print_steps(record, &printed);
            }
        };
        match switchover::run(&op, prepared, confirm.as_deref(), &report).await {
            Ok(record) => {
                if json {
                    out(&format!("{}\n", serde_json::to_string_pretty(&record)?));
                } else {
                    out(&format!("\n{}: {}\n", record.state.label(), record.outcome.as_deref().unwrap_or("")));
                }
                Ok(ExitCode::from(if record.state == OpState::Done { 0 } else { EXIT_FAILED }))
            }
            Err(e) if e.downcast_ref::<Refused>().is_some() => {
                eprintln!("myzoo: {e:#}");
                Ok(ExitCode::from(EXIT_REFUSED))
            }
            Err(e) => {
                eprintln!("myzoo: {e:#}");
                Ok(ExitCode::from(EXIT_FAILED))
            }
        }
    })
}

/// `--yes` (and `--confirm NAME` on production) for scripts; a terminal is asked.
pub fn confirmation(args: &OperationArgs, cluster: &str, production: bool) -> Result<Option<String>, String> {
    if args.yes {
        if production && args.confirm.as_deref() != Some(cluster) {
            return Err(format!("cluster {cluster} is production: pass --confirm {cluster}"));
        }
        return Ok(args.confirm.clone());
    }
    if !std::io::stdin().is_terminal() {
        return Err("not confirmed: pass --yes (and --confirm NAME on production) when not on a terminal".into());
    }
    let wanted = if production { cluster.to_string() } else { "yes".to_string() };
    print!("\nType {wanted:?} to run it: ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| e.to_string())?;
    if line.trim() != wanted {
        return Err("not confirmed; nothing was changed".into());
    }
    Ok(Some(cluster.to_string()))
}

/// Prints each step once when it starts and once when it ends.
pub fn print_steps(record: &Record, printed: &Mutex<HashMap<String, StepState>>) {
    let Ok(mut printed) = printed.lock() else { return };
    for step in &record.steps {
        if step.state == StepState::Pending || printed.get(&step.name) == Some(&step.state) {
            continue;
        }
        printed.insert(step.name.clone(), step.state);
        let line = match step.state {
            StepState::Running => format!("  …  {:<13} {}\n", step.name, step.title),
            _ => format!(
                "  {:<3} {:<13} {:>6} {}\n",
                match step.state {
                    StepState::Done => "ok",
                    StepState::Skipped => "--",
                    StepState::RolledBack => "<-",
                    _ => "!!",
                },
                step.name,
                step.duration_ms().map(|d| format!("{d} ms")).unwrap_or_default(),
                step.detail.as_deref().unwrap_or("")
            ),
        };
        out(&line);
    }
}
