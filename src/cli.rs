//! Command-line definitions (clap) for every subcommand, and nothing else: a leaf that imports
//! no service. `crate::commands` turns what is parsed here into the services' plain options.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
