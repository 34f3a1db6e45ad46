//! Command-line definitions (clap) and the dispatch from a parsed command to the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::sandbox::{self, SandboxOptions};

#[derive(Debug, Parser)]
#[command(name = "myzoo", version, about = "Operator console for MySQL/MariaDB clusters coordinated through ZooKeeper")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub console: ConsoleArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The interactive console (the default).
    Console(ConsoleArgs),
    /// The daemon beside one MySQL/MariaDB server: probes it and publishes its status.
    Agent(AgentArgs),
    /// Cluster status as text (or `--json`); exits non-zero when the cluster is unhealthy.
    Status {
        /// Cluster name (default: every cluster under the root).
        #[arg(long)]
        cluster: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// A real local playground: ZooKeeper plus a MariaDB primary and two replicas.
    Sandbox {
        #[command(subcommand)]
        action: SandboxAction,
    },
    /// Read and change znodes from scripts: the console's operations, guards and audit.
    Zk {
        #[command(subcommand)]
        action: crate::ops::command::ZkAction,
    },
}

/// How to reach ZooKeeper and how the console behaves.
#[derive(Debug, Clone, Args, Default)]
pub struct ConsoleArgs {
    /// ZooKeeper connect string, e.g. `zk1:2181,zk2:2181/chroot` (overrides the profile).
    #[arg(long, global = true, env = "MYZOO_ZK")]
    pub zk: Option<String>,
    /// Named profile from the config file.
    #[arg(long, short = 'p', global = true, env = "MYZOO_PROFILE")]
    pub profile: Option<String>,
    /// ZooKeeper session timeout in milliseconds.
    #[arg(long = "session-timeout", global = true, value_name = "MS")]
    pub session_timeout_ms: Option<u64>,
    /// Root of myzoo's znodes.
    #[arg(long, global = true)]
    pub root: Option<String>,
    /// Refuse every action that would change ZooKeeper or MySQL.
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Colour theme: dark, light, high-contrast, monochrome.
    #[arg(long, global = true)]
    pub theme: Option<String>,
    /// Log file for the console (default: the state folder's myzoo.log) and the agent (default: stderr).
    #[arg(long, global = true, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
}

impl ConsoleArgs {
    /// The plain options the services take.
    pub fn overrides(&self) -> crate::config::Overrides {
        crate::config::Overrides {
            zk: self.zk.clone(),
            profile: self.profile.clone(),
            session_timeout_ms: self.session_timeout_ms,
            root: self.root.clone(),
            read_only: self.read_only,
            theme: self.theme.clone(),
            log_file: self.log_file.clone(),
        }
    }
}

/// `myzoo agent`: which server to probe and where to publish. ZooKeeper comes from the global
/// `--zk`/`--profile`/`--root`/`--session-timeout`. The MySQL password comes from
/// `--mysql-password-file` or `$MYZOO_MYSQL_PASSWORD`, never from the command line.
#[derive(Debug, Clone, Args)]
pub struct AgentArgs {
    #[arg(long)]
    pub cluster: String,
    #[arg(long)]
    pub node: String,
    #[arg(long, default_value = "127.0.0.1")]
    pub mysql_host: String,
    #[arg(long, default_value_t = 3306)]
    pub mysql_port: u16,
    #[arg(long, default_value = "monitor")]
    pub mysql_user: String,
    /// File holding the MySQL password (first line).
    #[arg(long, value_name = "PATH")]
    pub mysql_password_file: Option<PathBuf>,
    /// Probe interval.
    #[arg(long = "interval", value_name = "MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(100..=60_000))]
    pub interval_ms: u64,
    /// Re-publish at least this often when nothing changes, so a stuck agent shows as stale.
    #[arg(long = "heartbeat", value_name = "MS", default_value_t = 5000,
          value_parser = clap::value_parser!(u64).range(500..=600_000))]
    pub heartbeat_ms: u64,
}

#[derive(Debug, Subcommand)]
pub enum SandboxAction {
    /// Start ZooKeeper and three MariaDB servers, seed the demo tree, write the `sandbox` profile.
    Up {
        #[command(flatten)]
        dir: StateDirArg,
        /// Number of ZooKeeper servers: 1 or 3.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=3))]
        zk_ensemble: u8,
        /// Start only ZooKeeper.
        #[arg(long)]
        no_mysql: bool,
    },
    /// Stop exactly what `up` started.
    Down {
        #[command(flatten)]
        dir: StateDirArg,
    },
    /// Show the sandbox's servers.
    Status {
        #[command(flatten)]
        dir: StateDirArg,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct StateDirArg {
    /// Folder for the sandbox's data, logs and pid files.
    #[arg(long, env = "MYZOO_SANDBOX_DIR")]
    pub state_dir: Option<PathBuf>,
}

impl StateDirArg {
    fn path(&self) -> PathBuf {
        self.state_dir.clone().unwrap_or_else(sandbox::default_state_dir)
    }
}

/// Runs the parsed command; errors are printed to stderr with their causes.
pub fn run(cli: Cli) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("myzoo: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        None => crate::console::run(&runtime, cli.console.overrides()),
        Some(Command::Console(args)) => crate::console::run(&runtime, merge(cli.console, args).overrides()),
        Some(Command::Agent(args)) => crate::agent::run(&runtime, cli.console, args),
        Some(Command::Status { cluster, json }) => {
            crate::logging::to_stderr();
            crate::cluster::report::run(&runtime, cli.console, cluster, json)
        }
        Some(Command::Sandbox { action }) => {
            crate::logging::to_stderr();
            runtime.block_on(run_sandbox(action))
        }
        Some(Command::Zk { action }) => {
            crate::logging::to_stderr();
            crate::ops::command::run(&runtime, cli.console, action)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("myzoo: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `myzoo --zk X console` and `myzoo console --zk X` mean the same.
fn merge(outer: ConsoleArgs, inner: ConsoleArgs) -> ConsoleArgs {
    ConsoleArgs {
        zk: inner.zk.or(outer.zk),
        profile: inner.profile.or(outer.profile),
        session_timeout_ms: inner.session_timeout_ms.or(outer.session_timeout_ms),
        root: inner.root.or(outer.root),
        read_only: inner.read_only || outer.read_only,
        theme: inner.theme.or(outer.theme),
        log_file: inner.log_file.or(outer.log_file),
    }
}

async fn run_sandbox(action: SandboxAction) -> anyhow::Result<ExitCode> {
    match action {
        SandboxAction::Up { dir, zk_ensemble, no_mysql } => {
            let opts = SandboxOptions {
                state_dir: dir.path(),
                zk_ensemble: usize::from(zk_ensemble),
                with_mysql: !no_mysql,
                seed: true,
                write_profile: true,
                agent_binary: std::env::current_exe().ok(),
                agent_interval_ms: sandbox::DEFAULT_AGENT_INTERVAL_MS,
                agent_session_timeout_ms: None,
            };
            let status = sandbox::up(&opts).await?;
            out(&format!("{}Open the console with: myzoo\n", sandbox_text(&status)));
            Ok(ExitCode::SUCCESS)
        }
        SandboxAction::Down { dir } => {
            sandbox::down(&dir.path()).await?;
            out("sandbox stopped\n");
            Ok(ExitCode::SUCCESS)
        }
        SandboxAction::Status { dir, json } => {
            let status = sandbox::status(&dir.path())?;
            if json {
                out(&format!("{}\n", serde_json::to_string_pretty(&status)?));
            } else {
                out(&sandbox_text(&status));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Writes to stdout; a closed pipe (`myzoo … | head`) is not an error worth a panic.
pub fn out(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
}

fn sandbox_text(status: &sandbox::SandboxStatus) -> String {
    let mut out = format!("state folder  {}\nzookeeper     {}\n", status.state_dir.display(), status.zk);
    for m in &status.mysql {
        let pid = m.pid.map_or_else(|| "stopped".to_string(), |p| format!("pid {p}"));
        out.push_str(&format!("mariadb       {:<10} {:<8} {}:{}  {}\n", m.name, m.role, m.host, m.port, pid));
    }
    for a in &status.agents {
        let pid = a.pid.map_or_else(|| "stopped".to_string(), |p| format!("pid {p}"));
        out.push_str(&format!("agent         {:<10} {pid}\n", a.name));
    }
    out
}
