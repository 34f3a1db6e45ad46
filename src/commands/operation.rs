//! What `switchover`, `failover` and `rejoin` share: their common flags as plain options,
//! connecting an [`Operator`] (ZooKeeper session, MySQL account, who is acting), and the one
//! front end that plans, shows the plan, asks, runs, and prints each step as the journal
//! records it (each command's own file only says which operation).
//!
//! Exit codes: 0 done (or a dry run whose plan can run), 1 failed or rolled back, 2 refused
//! (the plan refuses, the lock is held, no confirmation, read-only mode), 3 ZooKeeper or
//! MySQL could not be reached to make the plan.

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Mutex;

use super::out;
use crate::failover::journal::{OpState, Record, StepState};
use crate::failover::prepare::{Prepared, Refused};
use crate::failover::unplanned::FailoverOptions;
use crate::failover::{rejoin, switchover, unplanned};

use crate::cli::{ConsoleArgs, OperationFlags};
use crate::cluster::ClusterPaths;
use crate::config;
use crate::failover::{Access, Operator};
use crate::ops::actor::Actor;

/// Exit code: the operation ran and did not finish (rolled back or failed).
pub const EXIT_FAILED: u8 = 1;
/// Exit code: nothing was done (plan refused, lock held, not confirmed, read-only).
pub const EXIT_REFUSED: u8 = 2;
/// Exit code: the cluster could not be read to make a plan.
pub const EXIT_UNREACHABLE: u8 = 3;

/// Which operation a command runs.
#[derive(Debug, Clone)]
pub enum What {
    Switchover { to: Option<String> },
    Failover(FailoverOptions),
    Rejoin { node: String },
}

impl What {
    fn label(&self) -> &'static str {
        match self {
            What::Switchover { .. } => "switchover",
            What::Failover(_) => "failover",
            What::Rejoin { .. } => "rejoin",
        }
    }

    async fn plan(&self, op: &Operator) -> anyhow::Result<Prepared> {
        match self {
            What::Switchover { to } => switchover::plan(op, to.as_deref()).await,
            What::Failover(opts) => unplanned::plan(op, opts).await,
            What::Rejoin { node } => rejoin::plan(op, node).await,
        }
    }

    async fn run(
        &self,
        op: &Operator,
        prepared: Prepared,
        confirm: Option<&str>,
        report: &(dyn Fn(&Record) + Send + Sync),
    ) -> anyhow::Result<Record> {
        match self {
            What::Switchover { .. } => switchover::run(op, prepared, confirm, report).await,
            What::Failover(_) => unplanned::run(op, prepared, confirm, report).await,
            What::Rejoin { .. } => rejoin::run(op, prepared, confirm, report).await,
        }
    }
}

/// The parsed flags of an operation command.
#[derive(Debug, Clone)]
pub struct OperationArgs {
    pub console: ConsoleArgs,
    pub cluster: String,
    pub dry_run: bool,
    pub yes: bool,
    pub confirm: Option<String>,
    pub json: bool,
    pub mysql: config::MysqlAccess,
}

impl OperationArgs {
    pub fn new(console: &ConsoleArgs, flags: OperationFlags) -> OperationArgs {
        OperationArgs {
            console: console.clone(),
            cluster: flags.cluster,
            dry_run: flags.dry_run,
            yes: flags.yes,
            confirm: flags.confirm,
            json: flags.json,
            mysql: config::MysqlAccess {
                user: flags.mysql_user,
                password_file: flags.mysql_password_file,
                repl_password_file: flags.repl_password_file,
                tls: None,
            },
        }
    }
}

pub async fn connect_operator(args: &OperationArgs) -> anyhow::Result<Operator> {
    let mut overrides = super::overrides(&args.console);
    overrides.mysql = args.mysql.clone();
    let r = config::resolve(&overrides)?;
    let creds = config::operation_credentials(&r.mysql, "repl")?;
    let client = super::connect_zk(&r.zk(), &r.root).await?;
    Ok(Operator {
        client,
        paths: ClusterPaths::new(&r.root, &args.cluster),
        access: Access {
            user: creds.user,
            password: creds.password,
            repl_password: creds.repl_password,
            tls: crate::mysql::MysqlTls::for_host(r.mysql.tls.clone()),
        },
        actor: Actor::from_env(),
        origin: "cli".into(),
        read_only: r.read_only,
        guard: None,
    })
}

/// Plans, shows, confirms and runs `what`; prints each step as the journal records it.
pub fn run(rt: &tokio::runtime::Runtime, args: OperationArgs, what: What) -> anyhow::Result<ExitCode> {
    crate::logging::to_stderr();
    rt.block_on(async {
        let op = match connect_operator(&args).await {
            Ok(op) => op,
            Err(e) => {
                eprintln!("myzoo: {e:#}");
                return Ok(ExitCode::from(EXIT_UNREACHABLE));
            }
        };
        let kind = what.label();
        let prepared = match what.plan(&op).await {
            Ok(p) => p,
            Err(e) => {
                eprintln!("myzoo: cannot plan the {kind}: {e:#}");
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
            eprintln!("myzoo: the {kind} is refused: {}", prepared.plan.refusals.join("; "));
            return Ok(ExitCode::from(EXIT_REFUSED));
        }
        let production = prepared.view.config.is_production();
        let forced = prepared.plan.warnings.iter().any(|w| w.starts_with(crate::failover::unplanned::FORCED_PREFIX));
        let confirm = match confirmation(&args, &op.paths.cluster, production, forced) {
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
        match what.run(&op, prepared, confirm.as_deref(), &report).await {
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
/// `forced`: the plan loses transactions; a terminal asks a second time.
pub fn confirmation(
    args: &OperationArgs,
    cluster: &str,
    production: bool,
    forced: bool,
) -> Result<Option<String>, String> {
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
    if forced {
        print!("This loses the transactions listed above. Type \"lose them\" to go on: ");
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(|e| e.to_string())?;
        if line.trim() != "lose them" {
            return Err("not confirmed; nothing was changed".into());
        }
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
