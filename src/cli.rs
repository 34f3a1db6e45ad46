//! Command-line definitions (clap) for every subcommand, and nothing else: a leaf that imports
//! no service. `crate::commands` turns what is parsed here into the services' plain options.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "myzoo", version = VERSION, about = "Operator console for MySQL/MariaDB clusters coordinated through ZooKeeper")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub console: ConsoleArgs,
}

/// `myzoo --version`: the crate's version and the commit it was built from (`build.rs`); the same
/// text as `myzoo::VERSION`, spelled here so the clap definitions stand alone.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("MYZOO_COMMIT"), ")");

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The interactive console (the default).
    Console(ConsoleArgs),
    /// Shell completions and man pages generated from these definitions, for packagers
    /// (`scripts/package-deb.sh`); hidden from help.
    #[command(hide = true)]
    Generate {
        #[command(subcommand)]
        what: GenerateAction,
    },
    /// The daemon beside one MySQL/MariaDB server: probes it and publishes its status.
    Agent(AgentArgs),
    /// Cluster status as text (or `--json`); exits 0 healthy, 1 degraded, 2 unhealthy, 3 unknown.
    #[command(after_help = STATUS_EXIT_HELP)]
    Status {
        /// Cluster name (default: every cluster under the root).
        #[arg(long)]
        cluster: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Where applications should connect: the recorded primary when its agent confirms it, or
    /// its healthy replicas; `--watch` prints each change until stopped.
    #[command(after_help = ENDPOINT_EXIT_HELP)]
    Endpoint {
        /// Cluster name.
        #[arg(long)]
        cluster: String,
        #[arg(long, value_enum, default_value_t = RoleArg::Primary)]
        role: RoleArg,
        /// Keep running and print a line each time the answer changes (ZooKeeper watches).
        #[arg(long)]
        watch: bool,
        /// `{cluster, role, epoch, endpoints: [{node, host, port}], reason}` (one per line with --watch).
        #[arg(long)]
        json: bool,
    },
    /// An HAProxy config for a cluster: a write frontend checking each agent's /primary, a read
    /// frontend checking /replica (servers from the cluster config, checks at each agent's
    /// published HTTP address).
    #[command(name = "haproxy-config", after_help = HAPROXY_CONFIG_HELP)]
    HaproxyConfig(HaproxyConfigArgs),
    /// A real local playground: ZooKeeper plus a MariaDB primary and two replicas.
    Sandbox {
        #[command(subcommand)]
        action: SandboxAction,
    },
    /// Planned switchover: fence the primary, let a replica catch up, promote it, repoint the others.
    #[command(after_help = OPERATION_EXIT_HELP)]
    Switchover {
        #[command(flatten)]
        flags: OperationFlags,
        /// The replica to promote (default: the best ranked).
        #[arg(long)]
        to: Option<String>,
    },
    /// Unplanned failover: only when every observer agrees the primary is gone; promotes the replica
    /// that has every transaction any replica received.
    #[command(after_help = OPERATION_EXIT_HELP)]
    Failover {
        #[command(flatten)]
        flags: OperationFlags,
        /// The replica to promote (default: the best ranked).
        #[arg(long)]
        to: Option<String>,
        /// Promote even if transactions only the old primary had are lost (they are listed first).
        #[arg(long)]
        force: bool,
    },
    /// Point a node that is back (an old primary) at the primary; refused with errant transactions.
    #[command(after_help = OPERATION_EXIT_HELP)]
    Rejoin {
        #[command(flatten)]
        flags: OperationFlags,
        #[arg(long)]
        node: String,
    },
    /// Acknowledge the last automatic failover: lifts the coordinator's cool-down (audited).
    Ack {
        #[arg(long)]
        cluster: String,
    },
    /// Read and change znodes from scripts: the console's operations, guards and audit.
    Zk {
        #[command(subcommand)]
        action: ZkAction,
    },
    /// Snapshots of the ZooKeeper tree in the backup store (MySQL), and restoring them.
    #[command(name = "zk-backup", after_help = ZK_BACKUP_HELP)]
    ZkBackup {
        #[command(subcommand)]
        action: ZkBackupAction,
    },
    /// Logical dumps of a cluster's MySQL data, taken from a replica, with progress.
    #[command(name = "mysql-backup", after_help = MYSQL_BACKUP_HELP)]
    MysqlBackup {
        #[command(subcommand)]
        action: MysqlBackupAction,
    },
}

/// Shown under `myzoo zk-backup --help`.
const ZK_BACKUP_HELP: &str = "The backup store is the profile's [backup_store] section (a MySQL \
database, by default on the cluster's servers: writes go to the writable one, so replication copies \
each snapshot); its password comes from its password_file or $MYZOO_BACKUP_PASSWORD. Read-only mode \
refuses what changes the store (import, prune) but not create, which changes nothing in the cluster. \
Exit codes: 0 \
done, 1 failed, 2 refused (checksum mismatch, not confirmed, read-only mode), 3 the store or \
ZooKeeper could not be reached.";

/// Shown under `myzoo mysql-backup --help`.
const MYSQL_BACKUP_HELP: &str = "Dumps run mariadb-dump (or mysqldump) with a consistent snapshot, \
routines, triggers, events and the GTID position, compressed with zstd, with a SHA-256 checksum; \
they are recorded in the backup store and in the cluster's history. Exit codes: 0 done, 1 failed \
or cancelled (the partial file is removed), 2 refused, 3 unreachable.";

/// `myzoo zk-backup …`. `SNAP` is a snapshot id from `list`.
#[derive(Debug, Subcommand)]
pub enum ZkBackupAction {
    /// Snapshot a subtree (default: the profile's root) into the backup store. Allowed in
    /// read-only mode: it changes nothing in the cluster.
    Create {
        /// The subtree to keep (`/` for the whole tree; `/zookeeper` is never kept).
        #[arg(long)]
        path: Option<String>,
        /// Why this snapshot was taken (shown by `list`).
        #[arg(long, default_value = "")]
        note: String,
        /// Keep ephemeral znodes too (they are never restored).
        #[arg(long)]
        include_ephemeral: bool,
        #[arg(long)]
        json: bool,
    },
    /// Every snapshot in the store, newest first.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One snapshot's figures (zxid range, checksum, who took it).
    Show {
        snapshot: u64,
        #[arg(long)]
        json: bool,
    },
    /// Added, removed and changed znodes: a snapshot against the live tree, or against another snapshot.
    Diff {
        snapshot: u64,
        /// Compare with this snapshot instead of the live tree.
        #[arg(long, value_name = "SNAP")]
        against: Option<u64>,
        /// Only this subtree.
        #[arg(long)]
        path: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Write a snapshot's znodes back into ZooKeeper (checksum verified first).
    Restore {
        snapshot: u64,
        /// Only this subtree of the snapshot.
        #[arg(long)]
        path: Option<String>,
        /// Restore under this path instead of the original one (the subtree's root moves here).
        #[arg(long)]
        to: Option<String>,
        #[arg(long, value_enum, default_value_t = RestorePolicyArg::SkipExisting)]
        policy: RestorePolicyArg,
        /// Print the plan (counts per action, the first paths) and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Rebuild on another (new, empty) ensemble: this connect string instead of the profile's.
        #[arg(long, value_name = "CONNECT")]
        to_zk: Option<String>,
        /// Do not ask; scripts must pass this (production also needs --confirm NAME).
        #[arg(long)]
        yes: bool,
        /// The cluster's name, typed, when the restore writes into a production cluster.
        #[arg(long, value_name = "CLUSTER")]
        confirm: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Write a snapshot to a portable JSON file (binary data in base64).
    Export {
        snapshot: u64,
        /// The file to write (`-` for stdout).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Read an exported JSON file into the store as a new snapshot (its checksum checked first).
    /// Refused in read-only mode: it changes the store.
    Import {
        /// The file to read (`-` for stdin).
        #[arg(long = "in", value_name = "FILE")]
        input: PathBuf,
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove all but the newest N complete snapshots (and failed or abandoned ones). Refused in
    /// read-only mode unless --dry-run: it changes the store.
    Prune {
        #[arg(long)]
        keep: usize,
        /// Say what would be removed and remove nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
}

/// How a restore treats znodes that already exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RestorePolicyArg {
    /// Create what is missing and rewrite existing znodes whose data or ACL differ.
    Overwrite,
    /// Create what is missing anywhere; leave existing znodes as they are.
    SkipExisting,
    /// Recreate only subtrees that are gone; an existing znode and everything below it are left alone.
    MissingOnly,
}

/// `myzoo mysql-backup …`.
#[derive(Debug, Subcommand)]
pub enum MysqlBackupAction {
    /// Dump the cluster's data from its healthiest, least-lagged replica.
    Create {
        #[arg(long)]
        cluster: String,
        /// Dump this node instead (naming the primary is the only way to dump it).
        #[arg(long)]
        node: Option<String>,
        /// Folder for the dump (default: the store's dump_dir, else the state folder's dumps/).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Afterwards remove all but the newest N complete dumps of the cluster.
        #[arg(long)]
        keep: Option<usize>,
        #[arg(long)]
        json: bool,
    },
    /// The cluster's dumps, newest first.
    List {
        #[arg(long)]
        cluster: String,
        #[arg(long)]
        json: bool,
    },
    /// Check a dump's checksum, restore it into a throw-away server and compare its tables.
    Verify {
        #[arg(long)]
        cluster: String,
        /// The dump's id from `list` (default: the newest complete one).
        #[arg(long)]
        id: Option<u64>,
        #[arg(long)]
        json: bool,
    },
}

/// Shown under `myzoo status --help` (the codes and the time limit are `commands::status`'s).
const STATUS_EXIT_HELP: &str = "Exit codes, as monitoring plugins use them (Nagios, Icinga, Sensu): \
0 healthy, 1 degraded (a replica down, lagging or stale …), 2 unhealthy (no usable primary, broken \
replication, a writable replica), 3 unknown (ZooKeeper unreachable or silent for 5 s, no such \
cluster, no clusters at all; the reason is printed on stderr). With several clusters the worst \
wins; --json gives the same code.";

/// Shown under the operations' `--help`.
const OPERATION_EXIT_HELP: &str = "Exit codes: 0 done (a dry run: the plan can run), 1 failed or rolled \
back (the journal in <cluster>/history says which step and why), 2 refused (the plan refuses, another \
operation holds the lock, not confirmed, read-only mode), 3 the cluster could not be read. Passwords \
come from files or $MYZOO_MYSQL_PASSWORD / $MYZOO_REPL_PASSWORD, never from the command line.";

/// Flags every cluster operation (switchover, failover, rejoin) takes.
#[derive(Debug, Clone, Args)]
pub struct OperationFlags {
    #[arg(long)]
    pub cluster: String,
    /// Show the plan (ranking, positions, steps, expected write-block window) and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask; scripts must pass this (production also needs --confirm NAME).
    #[arg(long)]
    pub yes: bool,
    /// The cluster's name, typed, for a production cluster.
    #[arg(long, value_name = "CLUSTER")]
    pub confirm: Option<String>,
    #[arg(long)]
    pub json: bool,
    /// MySQL account the operation connects as (default: the profile's `mysql_user`).
    #[arg(long)]
    pub mysql_user: Option<String>,
    /// File holding that account's password (or $MYZOO_MYSQL_PASSWORD).
    #[arg(long)]
    pub mysql_password_file: Option<PathBuf>,
    /// File holding the replication account's password (or $MYZOO_REPL_PASSWORD).
    #[arg(long)]
    pub repl_password_file: Option<PathBuf>,
}

/// Shown under `myzoo haproxy-config --help`.
const HAPROXY_CONFIG_HELP: &str = "Servers come from the cluster config (host, port), and from nodes \
whose agent publishes a status without being in the config. Each server is checked at its agent's \
HTTP address as published in its status (agent.http, from `myzoo agent --http`); a node whose agent \
publishes none (down, or without --http) is an error unless --agent-port says where its agents \
listen. Check the file with `haproxy -c -f FILE`, install it as /etc/haproxy/haproxy.cfg and run \
`systemctl reload haproxy`. Exit codes: 0 written, 1 a node has no address or no check address, \
or ZooKeeper could not be read.";

/// `myzoo haproxy-config`.
#[derive(Debug, Clone, Args)]
pub struct HaproxyConfigArgs {
    /// Cluster name.
    #[arg(long)]
    pub cluster: String,
    /// Where applications connect for writes (HOST:PORT; `*:PORT` for every address).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:3307")]
    pub write_bind: String,
    /// Where applications connect for reads.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:3308")]
    pub read_bind: String,
    /// How often HAProxy checks each agent, in milliseconds.
    #[arg(long = "check-interval", value_name = "MS", default_value_t = 200)]
    pub check_interval_ms: u64,
    /// Check nodes whose agent publishes no HTTP address on this port of the node's host.
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub agent_port: Option<u16>,
    /// Also serve HAProxy's stats page here (HTTP; CSV at /;csv).
    #[arg(long = "stats", value_name = "HOST:PORT")]
    pub stats_bind: Option<String>,
    /// Write the config to this file (atomically: a temporary file, then renamed) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Shown under `myzoo endpoint --help` (the codes are `commands::endpoint`'s).
const ENDPOINT_EXIT_HELP: &str = "Exit codes: 0 at least one usable endpoint, 1 none (the reason on \
stderr), 3 ZooKeeper unreachable or silent for 5 s. With --watch: 0 on SIGTERM/SIGINT or when stdout \
is closed, 3 when the first connection fails; later connection losses are waited out.";

/// Which endpoints `myzoo endpoint` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    Primary,
    Replica,
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
    /// File holding the ZooKeeper digest credential `user:password` (else $MYZOO_ZK_AUTH, else
    /// the profile's zk_auth_file); the credential itself never goes on the command line.
    #[arg(long = "zk-auth-file", global = true, value_name = "PATH")]
    pub zk_auth_file: Option<PathBuf>,
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
    /// CA certificate(s), PEM, for TLS to ZooKeeper: turns TLS on for every server of the
    /// connect string not written `tcp://…` (overrides the profile's zk_tls.ca_file).
    #[arg(long, global = true, value_name = "PATH")]
    pub zk_tls_ca: Option<PathBuf>,
    /// Client certificate, PEM, for ZooKeeper servers that want one (with --zk-tls-key).
    #[arg(long, global = true, value_name = "PATH")]
    pub zk_tls_cert: Option<PathBuf>,
    /// The client certificate's private key, PEM.
    #[arg(long, global = true, value_name = "PATH")]
    pub zk_tls_key: Option<PathBuf>,
    /// Trust any ZooKeeper server with a certificate from the CA, whatever name it lists
    /// (hostname verification is on by default; turning it off is logged).
    #[arg(long, global = true)]
    pub zk_tls_no_verify_hostname: bool,
}

/// `myzoo generate …`: what to write.
#[derive(Debug, Subcommand)]
pub enum GenerateAction {
    /// The completion script for SHELL, on stdout.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// `myzoo.1` and one page per subcommand (`myzoo-agent.1`, …) into DIR (created if missing).
    Man { dir: PathBuf },
}

/// `--mysql-tls`, `--backup-tls`: whether MySQL connections use TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TlsModeArg {
    Off,
    Preferred,
    Required,
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
    /// Fencing lease: the recorded primary's server is made read-only after this long cut off
    /// from ZooKeeper (default: 2/5 of the session timeout; 0 turns the lease off, and with it the
    /// guarantee that a cut-off primary stops taking writes before another is promoted).
    #[arg(long = "fence-lease", value_name = "MS")]
    pub fence_lease_ms: Option<u64>,
    /// File holding the replication account's password (or $MYZOO_REPL_PASSWORD): the
    /// coordinator needs it to point an old primary at a new one.
    #[arg(long, value_name = "PATH")]
    pub repl_password_file: Option<PathBuf>,
    /// Do not take part in the automatic-failover coordinator's election.
    #[arg(long)]
    pub no_coordinator: bool,
    /// Serve /primary and /replica (for proxies' health checks: 200 or 503), /health (JSON) and
    /// /metrics (Prometheus) on this address, e.g. 0.0.0.0:9104 (port 0: any free port; the
    /// address bound is published in the node's status). Off by default.
    #[arg(long, value_name = "ADDR:PORT")]
    pub http: Option<std::net::SocketAddr>,
    /// Backup store servers for the coordinator's scheduled snapshots (`backup.zk_interval_s` in
    /// the cluster config), `host:port,…` (default: the profile's backup_store).
    #[arg(long, value_delimiter = ',', value_name = "HOST:PORT,…")]
    pub backup_hosts: Vec<String>,
    /// The backup store's database.
    #[arg(long, value_name = "NAME", default_value = "myzoo_backup")]
    pub backup_database: String,
    /// The backup store's account (required with --backup-hosts).
    #[arg(long, value_name = "USER")]
    pub backup_user: Option<String>,
    /// File holding that account's password (or $MYZOO_BACKUP_PASSWORD).
    #[arg(long, value_name = "PATH")]
    pub backup_password_file: Option<PathBuf>,
    /// TLS to the backup store's servers (default: the profile's backup_store.tls, else off).
    #[arg(long, value_enum, value_name = "MODE")]
    pub backup_tls: Option<TlsModeArg>,
    /// TLS to the MySQL server at least this strict, whatever the cluster config's mysql.tls
    /// says (the stricter of the two applies). Default: preferred with a CA file, else off.
    #[arg(long, value_enum, value_name = "MODE")]
    pub mysql_tls: Option<TlsModeArg>,
    /// CA certificate(s), PEM, the MySQL servers' certificates must chain to (overrides the
    /// profile's mysql_tls.ca_file); also used for the backup store and operations.
    #[arg(long, value_name = "PATH")]
    pub mysql_tls_ca: Option<PathBuf>,
    /// Client certificate, PEM, for MySQL servers that want one (with --mysql-tls-key).
    #[arg(long, value_name = "PATH")]
    pub mysql_tls_cert: Option<PathBuf>,
    /// The client certificate's private key, PEM.
    #[arg(long, value_name = "PATH")]
    pub mysql_tls_key: Option<PathBuf>,
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
        /// Semi-synchronous replication on every server (AFTER_SYNC; a primary waits 10 s for
        /// a replica's acknowledgement before it falls back to asynchronous).
        #[arg(long, conflicts_with = "no_mysql")]
        semi_sync: bool,
        /// Leave /myzoo open to anyone. By default it is protected as production trees are
        /// (digest:myzoo:HASH:cdrwa, world:anyone:r): the sandbox's credential (`<state>/zk.auth`,
        /// named in the profile and given to the agents) writes it, anyone reads it.
        #[arg(long)]
        no_zk_acl: bool,
        /// TLS everywhere: certificates generated in the state folder (a CA, a server
        /// certificate for 127.0.0.1/localhost, a client certificate), ZooKeeper with a TLS
        /// client port, MariaDB with TLS, the cluster config requiring it, and the profile and
        /// agents using it.
        #[arg(long)]
        tls: bool,
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

/// Shown under every `myzoo zk` help page (the codes are `commands::zk`'s).
const ZK_FIND_EXIT_HELP: &str =
    "Exit codes: 0 something matched, 1 nothing matched (like grep), 2 usage or bad regex, 3 error; \
     unreadable znodes are listed, and counted in the summary.";

const ZK_EXIT_HELP: &str = "Exit codes: 0 done, 1 error, 3 BadVersion (changed by someone else), 4 refused: read-only.";

/// Shown under `myzoo zk secrets --help`.
const ZK_SECRETS_EXIT_HELP: &str = "Exit codes: 0 no znode holds a password-like key in plain text, \
     1 some do (listed: path and keys, never values), 3 error. Unreadable znodes are listed on stderr.";

/// Shown under `myzoo zk setacl --help` and `getacl --help`.
const ZK_ACL_HELP: &str = "An ACL entry is scheme:id:perms as zkCli writes it, perms from cdrwa \
     (create, delete, read, write, admin): world:anyone:r, digest:USER:HASH:cdrwa (HASH from \
     `myzoo zk digest USER`), ip:10.0.0.0/8:r, auth::cdrwa. Several entries: separate them with \
     commas or give several arguments. Exit codes: 0 done, 1 error, 3 BadVersion (the ACL changed \
     since the --version given), 4 refused: read-only.";
/// Shown under `myzoo zk ensemble --help` (the codes and limits are `commands::zk_ensemble`'s).
const ZK_ENSEMBLE_HELP: &str = "Each member is asked with the four-letter words srvr and mntr on its client port \
(they must be in its 4lw.commands.whitelist), else its AdminServer when the profile's [ensemble] section names \
one; a member answers within 1 s or is reported with the reason. Exit codes (as myzoo status): 0 healthy, \
1 degraded, 2 unhealthy (quorum lost), 3 unknown (members that cannot be read, no configuration); the first \
line of the text output says which.";

#[derive(Debug, Subcommand)]
#[command(after_help = ZK_EXIT_HELP)]
pub enum ZkAction {
    /// Print a znode's data; secrets in JSON are masked unless --reveal (which is audited).
    #[command(after_help = ZK_EXIT_HELP)]
    Get {
        /// The znode's absolute path.
        path: String,
        /// `{path, stat, data_text | data_hex, masked}` instead of the raw data.
        #[arg(long)]
        json: bool,
        /// Show secrets unmasked (recorded in the audit log; refused in read-only mode).
        #[arg(long)]
        reveal: bool,
    },
    /// Replace a znode's data, checked against the version you read (or --force to overwrite).
    #[command(after_help = ZK_EXIT_HELP)]
    Set {
        /// The znode's absolute path.
        path: String,
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        version: VersionArgs,
        /// The cluster's name, required for destructive changes on a production cluster.
        #[arg(long, value_name = "CLUSTER")]
        confirm: Option<String>,
        /// Print the outcome as one JSON object (also on failure).
        #[arg(long)]
        json: bool,
    },
    /// Create a znode (its parent must exist); prints the created path.
    #[command(after_help = ZK_EXIT_HELP)]
    Create {
        /// The znode's absolute path.
        path: String,
        #[command(flatten)]
        data: DataArgs,
        #[arg(long, value_enum, default_value_t = ModeArg::Persistent)]
        mode: ModeArg,
        /// Time to live for `--mode ttl`.
        #[arg(long, value_name = "MS", required_if_eq("mode", "ttl"))]
        ttl_ms: Option<u64>,
        /// Print the outcome as one JSON object (also on failure).
        #[arg(long)]
        json: bool,
    },
    /// Search a subtree's names and data (regular expressions); lists matches and the znodes
    /// that could not be read. Secrets are masked before matching.
    #[command(after_help = ZK_FIND_EXIT_HELP)]
    Find {
        /// Where to start (the whole subtree below it is searched).
        #[arg(default_value = "/")]
        path: String,
        /// Regular expression matched against each znode's name.
        #[arg(long, value_name = "REGEX")]
        name: Option<String>,
        /// Regular expression matched against each znode's data (as text).
        #[arg(long, value_name = "REGEX")]
        data: Option<String>,
        /// One JSON object per line as results arrive (`match`, `unreadable`), then a `summary`.
        #[arg(long)]
        json: bool,
    },
    /// Print a znode's ACL, one `scheme:id:perms` entry per line (its ACL version on stderr).
    #[command(name = "getacl", after_help = ZK_ACL_HELP)]
    Getacl {
        /// The znode's absolute path.
        path: String,
        /// `{path, aversion, acl: ["scheme:id:perms", …]}`.
        #[arg(long)]
        json: bool,
    },
    /// Replace a znode's ACL, checked against its ACL version; audited with the old and new ACL.
    #[command(name = "setacl", after_help = ZK_ACL_HELP)]
    Setacl {
        /// The znode's absolute path.
        path: String,
        /// The new ACL: `scheme:id:perms` entries (comma- or space-separated).
        #[arg(required = true, value_name = "ACL")]
        acl: Vec<String>,
        /// Write only if the ACL is still at this ACL version (`aversion`, as getacl prints it).
        #[arg(long = "version", value_name = "N")]
        version: Option<i32>,
        /// The cluster's name, required for ACL changes in a production cluster.
        #[arg(long, value_name = "CLUSTER")]
        confirm: Option<String>,
        /// Print the outcome as one JSON object (also on failure).
        #[arg(long)]
        json: bool,
    },
    /// Print the digest id `USER:base64(sha1(USER:password))` an ACL names, as ZooKeeper computes
    /// it. The password comes from standard input (asked for without echo on a terminal) or a file.
    Digest {
        user: String,
        /// Read the password from this file's first line instead of standard input.
        #[arg(long, value_name = "PATH")]
        password_file: Option<PathBuf>,
    },
    /// List znodes (under PATH, default: the root) whose data holds password-like keys in plain
    /// text: the cluster config should refer to credentials (files), never hold them.
    #[command(after_help = ZK_SECRETS_EXIT_HELP)]
    Secrets {
        /// Where to start (default: the profile's root).
        path: Option<String>,
        /// One JSON object per line (`secret`, `unreadable`), then a `summary`.
        #[arg(long)]
        json: bool,
    },
    /// The ensemble's members (connect string and /zookeeper/config): mode, zxid and how far
    /// behind the leader, latency, requests, connections, counts, descriptors; the quorum's verdict.
    #[command(after_help = ZK_ENSEMBLE_HELP)]
    Ensemble {
        /// The whole report as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Delete a znode, checked against its version (or --force); --recursive for a subtree.
    #[command(after_help = ZK_EXIT_HELP)]
    Delete {
        /// The znode's absolute path.
        path: String,
        #[command(flatten)]
        version: VersionArgs,
        /// Delete every descendant too.
        #[arg(long)]
        recursive: bool,
        /// The cluster's name, required for deletes in a production cluster.
        #[arg(long, value_name = "CLUSTER")]
        confirm: Option<String>,
        /// Print the outcome as one JSON object (also on failure).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// The data, as given.
    #[arg(long, conflicts_with = "file")]
    pub data: Option<String>,
    /// Read the data from a file; `-` reads standard input.
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct VersionArgs {
    /// Write only if the znode is still at this version.
    #[arg(long, value_name = "N", required_unless_present = "force", conflicts_with = "force")]
    pub expect_version: Option<i32>,
    /// Write whatever the version is.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    Persistent,
    PersistentSequential,
    Container,
    Ttl,
    /// Refused (the znode would vanish when this command exits); listed to say why.
    Ephemeral,
}
