//! MariaDB for the sandbox: one `mariadb-install-db` run copied to three data folders, three
//! `mariadbd` processes on loopback, the accounts, and GTID replication from `db1` to `db2`/`db3`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Row};

use super::process::{self, PID_FILE};
use super::secrets::{Account, Credentials};
use super::tls::SandboxCerts;
use super::tools::MariadbTools;
use super::{ports, prepare_server_dir, MysqlServer, LOOPBACK};
use crate::mysql::flavor::sql_str;

/// Server names; the first is the primary.
pub const NODE_NAMES: [&str; 3] = ["db1", "db2", "db3"];
pub const ROLE_PRIMARY: &str = "primary";
pub const ROLE_REPLICA: &str = "replica";
/// Database created on the primary to prove replication works.
pub const CHECK_DATABASE: &str = "myzoo_sandbox";
/// The applications' database: the `app` account may change nothing else.
pub const APP_DATABASE: &str = "app";
/// How long a semi-sync primary waits for a replica's acknowledgement before it gives up and
/// commits asynchronously (`--semi-sync`). MariaDB's own default: on loopback an acknowledgement
/// takes milliseconds even on a loaded two-core machine, so a primary with a replica connected
/// never falls back by accident, while a test that stops every replica sees one write wait this
/// long and the primary fall back (`Rpl_semi_sync_master_status` OFF) well within its time
/// limits.
pub const SEMI_SYNC_TIMEOUT_MS: u64 = 10_000;
/// The agent account's privileges beyond monitoring, each needed by a statement of fencing or
/// promoting on MariaDB 10.11 (checked one by one against a real server, see
/// `tests/sandbox_accounts.rs`):
/// - `READ_ONLY ADMIN`: `SET GLOBAL read_only` (and writing `myzoo.*` on a read-only server);
/// - `CONNECTION ADMIN`: `KILL CONNECTION` of other users' sessions when fencing;
/// - `REPLICATION SLAVE ADMIN`: `STOP/START SLAVE`, `CHANGE MASTER TO`,
///   `SET GLOBAL gtid_slave_pos`, `SET GLOBAL rpl_semi_sync_slave_*`;
/// - `REPLICATION MASTER ADMIN`: `SET GLOBAL rpl_semi_sync_master_*`;
/// - `RELOAD`: `RESET SLAVE ALL` (10.11 asks for RELOAD, not a replication privilege).
///
/// `MASTER_GTID_WAIT` needs none; `BINLOG ADMIN` and `SUPER` are not needed and not granted.
pub const AGENT_OPERATION_PRIVILEGES: &str =
    "READ_ONLY ADMIN, CONNECTION ADMIN, REPLICATION SLAVE ADMIN, REPLICATION MASTER ADMIN, RELOAD";
/// What a consistent logical dump of every database reads, with its GTID position (`mariadb-dump
/// --single-transaction --master-data=2 --gtid --routines --triggers --events`), granted to the
/// backup account beside everything on the store's database.
pub const BACKUP_DUMP_PRIVILEGES: &str =
    "SELECT, SHOW VIEW, TRIGGER, LOCK TABLES, EVENT, RELOAD, PROCESS, REPLICATION CLIENT, SLAVE MONITOR";
/// Longest `mariadb-install-db` run.
const INSTALL_TIMEOUT_MS: u64 = 60_000;
/// Longest wait for a started server to accept connections.
pub const MYSQL_READY_TIMEOUT_MS: u64 = 30_000;
/// Longest wait for one connection attempt.
const CONNECT_TIMEOUT_MS: u64 = 2_000;
/// Longest wait for the check database to reach both replicas.
pub const REPLICATION_TIMEOUT_MS: u64 = 15_000;
/// Longest the accounts and replication set-up may take, the replication check included.
const CONFIGURE_TIMEOUT_MS: u64 = 2 * REPLICATION_TIMEOUT_MS;
/// Pause between readiness / replication probes.
const MYSQL_POLL_MS: u64 = 100;
/// Attempts with a fresh port when another process took ours first.
const START_ATTEMPTS: usize = 3;
/// `sockaddr_un.sun_path` holds 108 bytes including the terminating NUL.
const SOCKET_PATH_MAX_BYTES: usize = 107;
/// Small memory settings, for install and server alike, so three servers fit anywhere and
/// the redo log is created quickly.
const SIZE_FLAGS: [&str; 2] = ["--innodb-buffer-pool-size=32M", "--innodb-log-file-size=8M"];
/// Run on a replica before it starts replicating (see `server_args`).
const REPLICA_SOURCE_SIDE_OFF: &str = "SET GLOBAL rpl_semi_sync_master_enabled=0";
/// Hosts every account is created for (TCP on loopback, and the unix socket).
const ACCOUNT_HOSTS: [&str; 2] = ["127.0.0.1", "localhost"];

/// `<state>/<name>/mysql.sock`.
pub fn socket_path(state_dir: &Path, name: &str) -> PathBuf {
    state_dir.join(name).join("mysql.sock")
}

fn data_dir(state_dir: &Path, name: &str) -> PathBuf {
    state_dir.join(name).join("data")
}

/// `<state>/<name>/error.log`: where mariadbd explains why it stopped.
pub fn error_log(state_dir: &Path, name: &str) -> PathBuf {
    state_dir.join(name).join("error.log")
}

/// Fails up front when the socket paths would be too long for the kernel.
pub fn check_socket_paths(state_dir: &Path) -> Result<()> {
    for name in NODE_NAMES {
        let sock = socket_path(state_dir, name);
        let len = sock.as_os_str().len();
        anyhow::ensure!(
            len <= SOCKET_PATH_MAX_BYTES,
            "the state folder path is too long for a unix socket ({} is {len} bytes, at most \
             {SOCKET_PATH_MAX_BYTES}); choose a shorter --state-dir",
            sock.display()
        );
    }
    Ok(())
}

fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Creates the three server folders and their system tables. `mariadb-install-db` takes seconds
/// while copying its result takes milliseconds, and the three would be identical anyway
/// (MariaDB keeps no per-server identity in the data folder), so it runs once.
pub async fn install(state_dir: &Path, tools: &MariadbTools) -> Result<()> {
    for name in NODE_NAMES {
        prepare_server_dir(state_dir, name)?;
    }
    let first = NODE_NAMES[0];
    run_install_db(state_dir, tools, first).await?;
    let from = data_dir(state_dir, first);
    let copies: Vec<PathBuf> = NODE_NAMES[1..].iter().map(|n| data_dir(state_dir, n)).collect();
    tokio::task::spawn_blocking(move || copies.iter().try_for_each(|to| copy_dir(&from, to)))
        .await
        .context("copying the data folder")?
}

async fn run_install_db(state_dir: &Path, tools: &MariadbTools, name: &str) -> Result<()> {
    let log_path = state_dir.join(name).join("install.log");
    let log = std::fs::File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
    let log_err = log.try_clone().context("duplicating the install log")?;
    let mut cmd = tokio::process::Command::new(&tools.install_db);
    cmd.arg("--no-defaults")
        .arg(format!("--datadir={}", data_dir(state_dir, name).display()))
        .args([
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            // No resolveip lookup of the host name: it can hang where DNS is unreachable.
            "--force",
        ])
        // Its own temporary folder: bootstraps running side by side in a shared /tmp collide
        // on temporary table names ("Unknown table 'mysql.tmp_user_sys'").
        .arg(format!("--tmpdir={}", state_dir.join(name).display()))
        .args(SIZE_FLAGS)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .kill_on_drop(true);
    if running_as_root() {
        // mariadbd refuses to run as root unless told to; the files stay ours.
        cmd.arg("--user=root");
    }
    let status = tokio::time::timeout(Duration::from_millis(INSTALL_TIMEOUT_MS), cmd.status())
        .await
        .with_context(|| format!("mariadb-install-db took over {INSTALL_TIMEOUT_MS} ms"))?
        .with_context(|| format!("running {}", tools.install_db.display()))?;
    anyhow::ensure!(status.success(), "mariadb-install-db failed ({status}); {}", process::with_log(&log_path));
    Ok(())
}

/// Recursive copy of a data folder (regular files and folders only; install-db makes no links).
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target).with_context(|| format!("copying to {}", target.display()))?;
        }
    }
    Ok(())
}

/// The `mariadbd` command line for server `name` (server id `server_id`) on `port`. With
/// `semi_sync`, every server gets both the primary's and the replica's side: any of them may be
/// promoted.
pub fn server_args(
    state_dir: &Path,
    name: &str,
    server_id: u32,
    port: u16,
    as_root: bool,
    semi_sync: bool,
    tls: Option<&SandboxCerts>,
) -> Vec<OsString> {
    let dir = state_dir.join(name);
    let mut args: Vec<String> = vec!["--no-defaults".into()];
    if as_root {
        args.push("--user=root".into());
    }
    args.extend([
        // log-basename first: it names the binary and relay logs after the server, not the host.
        format!("--log-basename={name}"),
        format!("--datadir={}", data_dir(state_dir, name).display()),
        format!("--port={port}"),
        format!("--bind-address={LOOPBACK}"),
        format!("--socket={}", socket_path(state_dir, name).display()),
        format!("--pid-file={}", dir.join("mariadbd.pid").display()),
        format!("--log-error={}", error_log(state_dir, name).display()),
        format!("--tmpdir={}", dir.display()),
        format!("--server-id={server_id}"),
        format!("--report-host={LOOPBACK}"),
        format!("--report-port={port}"),
        "--log-bin".into(),
        "--log-slave-updates".into(),
        "--gtid-strict-mode=1".into(),
        "--binlog-format=ROW".into(),
        // Replication is configured by `up`, never resumed on its own from stale settings.
        "--skip-slave-start".into(),
        // Every server starts read-only, as production's my.cnf should have it: a primary that
        // crashed and came back, or an old primary after a failover, must not take a write
        // before an operation (or the first set-up) opens it. Only `configure` and promotions
        // open a server.
        "--read-only=1".into(),
        "--skip-name-resolve".into(),
        "--character-set-server=utf8mb4".into(),
        "--collation-server=utf8mb4_general_ci".into(),
        "--performance-schema=0".into(),
        "--max-connections=100".into(),
        // A playground trades durability for speed.
        "--innodb-flush-log-at-trx-commit=2".into(),
        "--sync-binlog=0".into(),
    ]);
    // Semi-sync is built into 10.11. AFTER_SYNC: a transaction becomes visible on the primary
    // only once a replica has it, so a failover never loses what a client already saw.
    // Both sides on every server, as a production my.cnf would have it so that any server can
    // be promoted. The source side is on at start-up, though, and a replica must not keep it:
    // its applier's first commit (replicated transactions go to its binary log too) would wait
    // the whole timeout for acknowledgements from replicas it does not have, holding up
    // replication, position waits and `STOP SLAVE` — `Timeout waiting for reply of binlog`,
    // then `Semi-sync replication switched OFF` in its error log. So `configure` and `restart`
    // switch it off on replicas before they start replicating, and operations move it with the
    // primary (`failover::server::Server::replicate_from`, `failover::execute`).
    if semi_sync {
        args.extend([
            "--rpl-semi-sync-master-enabled=1".into(),
            "--rpl-semi-sync-slave-enabled=1".into(),
            "--rpl-semi-sync-master-wait-point=AFTER_SYNC".into(),
            format!("--rpl-semi-sync-master-timeout={SEMI_SYNC_TIMEOUT_MS}"),
            // A primary killed while a commit waited for its acknowledgement has that
            // transaction in its binary log but nowhere else (no client was told it committed).
            // Started as a replica, its crash recovery truncates such transactions from the log
            // (MariaDB 10.6+, semi-sync replica side on), so the old primary can be rejoined
            // instead of holding a transaction the new primary never had.
            "--init-rpl-role=SLAVE".into(),
        ]);
    } else {
        args.extend(["--rpl-semi-sync-master-enabled=0".into(), "--rpl-semi-sync-slave-enabled=0".into()]);
    }
    // TLS offered, not required by the server: whether a client must use it is the client's
    // policy (the cluster config's `mysql.tls`), and the replicas' own connections stay plain.
    if let Some(certs) = tls {
        args.extend([
            format!("--ssl-ca={}", certs.ca().display()),
            format!("--ssl-cert={}", certs.server_cert().display()),
            format!("--ssl-key={}", certs.server_key().display()),
        ]);
    }
    args.extend(SIZE_FLAGS.iter().map(|s| s.to_string()));
    args.into_iter().map(OsString::from).collect()
}

/// Starts the three servers in parallel and waits until each accepts connections.
pub async fn start_all(
    state_dir: &Path,
    tools: &MariadbTools,
    semi_sync: bool,
    tls: Option<&SandboxCerts>,
) -> Result<Vec<MysqlServer>> {
    let starts = NODE_NAMES.iter().enumerate().map(|(i, name)| start_one(state_dir, tools, name, i, semi_sync, tls));
    futures::future::try_join_all(starts).await
}

async fn start_one(
    state_dir: &Path,
    tools: &MariadbTools,
    name: &str,
    index: usize,
    semi_sync: bool,
    tls: Option<&SandboxCerts>,
) -> Result<MysqlServer> {
    let server_id = u32::try_from(index + 1).unwrap_or(u32::MAX);
    let mut attempt = 1;
    loop {
        let port = ports::pick(1)?[0];
        // A fresh error log per attempt, so "address in use" is this attempt's complaint.
        let _ = std::fs::remove_file(error_log(state_dir, name));
        let args = server_args(state_dir, name, server_id, port, running_as_root(), semi_sync, tls);
        let dir = state_dir.join(name);
        let mut child = process::spawn_detached(&tools.mariadbd, &args, &dir.join("stdout.log"), &dir.join(PID_FILE))?;
        match wait_ready(state_dir, name, &mut child, port).await {
            Ok(conn) => {
                disconnect(conn).await;
                return Ok(MysqlServer {
                    name: name.to_string(),
                    host: LOOPBACK.to_string(),
                    port,
                    role: if index == 0 { ROLE_PRIMARY } else { ROLE_REPLICA }.to_string(),
                    pid: Some(child.id()),
                });
            }
            Err(e) => {
                if let Err(stop) = process::stop(vec![child.id()]).await {
                    tracing::warn!("stopping {name} after a failed start: {stop:#}");
                }
                if attempt < START_ATTEMPTS && port_was_taken(state_dir, name) {
                    tracing::warn!("{name}: port {port} taken meanwhile, retrying with another");
                    attempt += 1;
                    continue;
                }
                return Err(e);
            }
        }
    }
}

/// Name of the throw-away server's folder under its directory (see [`start_scratch`]).
pub const SCRATCH_NAME: &str = "scratch";

/// A stand-alone, writable server for throw-away work (`mysql-backup verify` restores a dump
/// into it): installed into `dir/scratch`, on a free loopback port, `root` without password.
/// The caller stops it ([`stop_scratch`]) and deletes `dir`.
pub async fn start_scratch(dir: &Path) -> Result<MysqlServer> {
    let tools = &super::tools::find_mariadb()?;
    let name = SCRATCH_NAME;
    prepare_server_dir(dir, name)?;
    run_install_db(dir, tools, name).await?;
    let mut attempt = 1;
    loop {
        let port = ports::pick(1)?[0];
        let _ = std::fs::remove_file(error_log(dir, name));
        let args = server_args(dir, name, 1, port, running_as_root(), false, None);
        let folder = dir.join(name);
        let mut child =
            process::spawn_detached(&tools.mariadbd, &args, &folder.join("stdout.log"), &folder.join(PID_FILE))?;
        match wait_ready(dir, name, &mut child, port).await {
            Ok(mut conn) => {
                // Every sandbox server starts read-only; this one takes the restore.
                let opened = conn.query_drop("SET GLOBAL read_only = 0").await;
                disconnect(conn).await;
                let server = MysqlServer {
                    name: name.to_string(),
                    host: LOOPBACK.to_string(),
                    port,
                    role: ROLE_PRIMARY.to_string(),
                    pid: Some(child.id()),
                };
                if let Err(e) = opened {
                    let _ = process::stop(vec![child.id()]).await;
                    return Err(e).context("opening the throw-away server for writes");
                }
                return Ok(server);
            }
            Err(e) => {
                if let Err(stop) = process::stop(vec![child.id()]).await {
                    tracing::warn!("stopping {name} after a failed start: {stop:#}");
                }
                if attempt < START_ATTEMPTS && port_was_taken(dir, name) {
                    attempt += 1;
                    continue;
                }
                return Err(e);
            }
        }
    }
}

/// Stops a server [`start_scratch`] started.
pub async fn stop_scratch(server: &MysqlServer) -> Result<()> {
    match server.pid {
        Some(pid) => process::stop(vec![pid]).await,
        None => Ok(()),
    }
}

/// Starts `server` again with its data folder and port (see `sandbox::restart_mysql`).
pub async fn restart(
    state_dir: &Path,
    tools: &MariadbTools,
    server: &MysqlServer,
    semi_sync: bool,
    tls: Option<&SandboxCerts>,
) -> Result<MysqlServer> {
    let index = NODE_NAMES
        .iter()
        .position(|n| *n == server.name)
        .with_context(|| format!("{} is not a sandbox server", server.name))?;
    let server_id = u32::try_from(index + 1).unwrap_or(u32::MAX);
    let name = &server.name;
    let args = server_args(state_dir, name, server_id, server.port, running_as_root(), semi_sync, tls);
    let dir = state_dir.join(name);
    let mut child = process::spawn_detached(&tools.mariadbd, &args, &dir.join("stdout.log"), &dir.join(PID_FILE))?;
    let mut conn = match wait_ready(state_dir, name, &mut child, server.port).await {
        Ok(conn) => conn,
        Err(e) => {
            if let Err(stop) = process::stop(vec![child.id()]).await {
                tracing::warn!("stopping {name} after a failed restart: {stop:#}");
            }
            return Err(e);
        }
    };
    // Replication resumes where it is configured (a replica, or an old primary an operation
    // repointed); a server that never replicated (an old primary after a failover) stays
    // read-only and unconfigured until it is rejoined.
    let configured: Option<Row> =
        conn.query_first("SHOW SLAVE STATUS").await.with_context(|| format!("SHOW SLAVE STATUS on {name}"))?;
    if configured.is_some() {
        // A replica's semi-sync source side, on again from the command line, goes off before
        // its applier commits anything (see `server_args`).
        conn.query_drop(REPLICA_SOURCE_SIDE_OFF)
            .await
            .with_context(|| format!("{REPLICA_SOURCE_SIDE_OFF} on {name}"))?;
        conn.query_drop("START SLAVE").await.with_context(|| format!("START SLAVE on {name}"))?;
    }
    disconnect(conn).await;
    Ok(MysqlServer { pid: Some(child.id()), ..server.clone() })
}

fn port_was_taken(state_dir: &Path, name: &str) -> bool {
    std::fs::read_to_string(error_log(state_dir, name))
        .map(|log| log.contains("Address already in use"))
        .unwrap_or(false)
}

/// Polls until the server accepts a root connection; fails when it exits or time runs out.
async fn wait_ready(state_dir: &Path, name: &str, child: &mut Child, port: u16) -> Result<Conn> {
    let deadline = Instant::now() + Duration::from_millis(MYSQL_READY_TIMEOUT_MS);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            anyhow::bail!(
                "{name} (mariadbd) exited during start-up ({status}); {}",
                process::with_log(&error_log(state_dir, name))
            );
        }
        match connect_root(port).await {
            Ok(conn) => return Ok(conn),
            Err(e) if Instant::now() >= deadline => {
                return Err(e).with_context(|| {
                    format!(
                        "{name} (mariadbd) did not accept connections within \
                         {MYSQL_READY_TIMEOUT_MS} ms; {}",
                        process::with_log(&error_log(state_dir, name))
                    )
                });
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(MYSQL_POLL_MS)).await,
        }
    }
}

/// Connects as `root` (empty password, loopback only) over TCP.
pub async fn connect_root(port: u16) -> Result<Conn> {
    connect(port, "root", None).await
}

/// Connects as `account` over TCP.
pub async fn connect_as(port: u16, account: &Account) -> Result<Conn> {
    connect(port, &account.user, Some(&account.password)).await
}

async fn connect(port: u16, user: &str, password: Option<&str>) -> Result<Conn> {
    let opts = OptsBuilder::default()
        .ip_or_hostname(LOOPBACK)
        .tcp_port(port)
        .user(Some(user))
        .pass(password)
        .prefer_socket(false);
    tokio::time::timeout(Duration::from_millis(CONNECT_TIMEOUT_MS), Conn::new(opts))
        .await
        .with_context(|| format!("connecting to {LOOPBACK}:{port} timed out"))?
        .with_context(|| format!("connecting to {LOOPBACK}:{port} as {user}"))
}

async fn disconnect(conn: Conn) {
    if let Err(e) = conn.disconnect().await {
        tracing::debug!("closing a MariaDB connection: {e}");
    }
}

/// Privileges of each account; see [`Credentials`].
fn grants(creds: &Credentials) -> Vec<(&Account, Vec<String>)> {
    const MONITORING: &str = "PROCESS, REPLICATION CLIENT, SLAVE MONITOR, SELECT";
    vec![
        (&creds.repl, vec!["REPLICATION SLAVE ON *.*".to_string()]),
        (&creds.monitor, vec![format!("{MONITORING} ON *.*")]),
        (&creds.admin, vec!["ALL PRIVILEGES ON *.*".to_string()]),
        // `myzoo.*` holds the agents' own tables (see `mysql::heartbeat`): its insert-or-update
        // needs INSERT and UPDATE, the table CREATE; DELETE lets a write probe clean up after
        // itself.
        (
            &creds.agent,
            vec![
                format!("{MONITORING}, {AGENT_OPERATION_PRIVILEGES} ON *.*"),
                "INSERT, UPDATE, DELETE, CREATE ON myzoo.*".to_string(),
            ],
        ),
        (&creds.app, vec![format!("SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, INDEX, ALTER ON {APP_DATABASE}.*")]),
        (
            &creds.backup,
            vec![
                format!("{BACKUP_DUMP_PRIVILEGES} ON *.*"),
                format!("ALL PRIVILEGES ON {}.*", crate::config::DEFAULT_BACKUP_DATABASE),
            ],
        ),
    ]
}

/// `CREATE USER` and `GRANT` statements for every account and host. With `require_tls`
/// (`sandbox up --tls`) the accounts myzoo connects as (`agent`, `monitor`, `backup`) are
/// `REQUIRE SSL`: the server itself then refuses any of myzoo's connections made in plain, so
/// the sandbox proves every one of them (agents, operations, backup store, dumps) uses TLS.
/// Replication (`repl`), applications (`app`) and humans (`admin`) are left as they are.
pub fn account_statements(creds: &Credentials, require_tls: bool) -> Vec<String> {
    let mut sql = Vec::new();
    let tls_accounts = [&creds.agent.user, &creds.monitor.user, &creds.backup.user];
    for (account, privileges) in grants(creds) {
        let grant_option = if account.user == creds.admin.user { " WITH GRANT OPTION" } else { "" };
        let require = if require_tls && tls_accounts.contains(&&account.user) { " REQUIRE SSL" } else { "" };
        for host in ACCOUNT_HOSTS {
            let who = format!("{}@{}", sql_str(&account.user), sql_str(host));
            sql.push(format!("CREATE OR REPLACE USER {who} IDENTIFIED BY {}{require}", sql_str(&account.password)));
            for privilege in &privileges {
                sql.push(format!("GRANT {privilege} TO {who}{grant_option}"));
            }
        }
    }
    sql
}

/// `CHANGE MASTER TO` for a replica of the primary on `primary_port`.
pub fn change_master_statement(primary_port: u16, repl: &Account) -> String {
    format!(
        "CHANGE MASTER TO MASTER_HOST={}, MASTER_PORT={primary_port}, MASTER_USER={}, \
         MASTER_PASSWORD={}, MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1",
        sql_str(LOOPBACK),
        sql_str(&repl.user),
        sql_str(&repl.password)
    )
}

/// Creates the accounts on the primary, points both replicas at it, and proves it works.
///
/// The accounts are created once, on the primary, with the binary log on; the replicas then start
/// from an empty `gtid_slave_pos`, so they fetch the primary's binary log from its very first
/// event and receive the accounts by replication. Nothing is ever written to a replica's own
/// binary log, so all three servers share one GTID history (`0-1-N`) and `gtid_strict_mode` has
/// nothing to object to, now or after a later switchover.
pub async fn configure(servers: &[MysqlServer], creds: &Credentials, require_tls: bool) -> Result<()> {
    tokio::time::timeout(Duration::from_millis(CONFIGURE_TIMEOUT_MS), configure_all(servers, creds, require_tls))
        .await
        .with_context(|| format!("setting up replication took over {CONFIGURE_TIMEOUT_MS} ms"))?
}

async fn configure_all(servers: &[MysqlServer], creds: &Credentials, require_tls: bool) -> Result<()> {
    let (primary, replicas) = servers.split_first().context("no MariaDB servers to configure")?;
    let mut conn = connect_root(primary.port).await?;
    // With --semi-sync the first commit would wait the whole timeout for a replica that is not
    // there yet: the primary's side is off while the accounts are written (nobody listens yet)
    // and back on before the replicas connect, which is when a replica learns whether to
    // acknowledge. Without --semi-sync both statements set what is already set.
    let semi_sync: Option<u8> =
        conn.query_first("SELECT @@rpl_semi_sync_master_enabled").await.context("reading the semi-sync setting")?;
    conn.query_drop("SET GLOBAL rpl_semi_sync_master_enabled=0").await.context("pausing semi-sync")?;
    for (i, stmt) in account_statements(creds, require_tls).iter().enumerate() {
        // The statement itself holds a password: name the step, never the text.
        conn.query_drop(stmt)
            .await
            .with_context(|| format!("creating the accounts on {} (step {})", primary.name, i + 1))?;
    }
    conn.query_drop(format!("CREATE DATABASE IF NOT EXISTS {APP_DATABASE}"))
        .await
        .with_context(|| format!("creating {APP_DATABASE} on {}", primary.name))?;
    conn.query_drop(format!("SET GLOBAL rpl_semi_sync_master_enabled={}", semi_sync.unwrap_or(0)))
        .await
        .context("resuming semi-sync")?;
    // The cluster's first primary is opened here, once; later primaries by promotions.
    conn.query_drop("SET GLOBAL read_only=0").await.with_context(|| format!("opening {} for writes", primary.name))?;
    for replica in replicas {
        start_replica(replica, primary.port, &creds.repl).await?;
    }
    conn.query_drop(format!("CREATE DATABASE IF NOT EXISTS {CHECK_DATABASE}"))
        .await
        .with_context(|| format!("creating {CHECK_DATABASE} on {}", primary.name))?;
    disconnect(conn).await;
    for replica in replicas {
        wait_replicated(replica).await?;
    }
    Ok(())
}

async fn start_replica(replica: &MysqlServer, primary_port: u16, repl: &Account) -> Result<()> {
    let mut conn = connect_root(replica.port).await?;
    let name = &replica.name;
    // The semi-sync source side off: a replica is no source (see `server_args`); without
    // --semi-sync it is off already.
    for stmt in ["SET GLOBAL read_only=1", REPLICA_SOURCE_SIDE_OFF, "SET GLOBAL gtid_slave_pos=''"] {
        conn.query_drop(stmt).await.with_context(|| format!("{stmt} on {name}"))?;
    }
    conn.query_drop(change_master_statement(primary_port, repl))
        .await
        .with_context(|| format!("CHANGE MASTER TO on {name}"))?;
    conn.query_drop("START SLAVE").await.with_context(|| format!("START SLAVE on {name}"))?;
    disconnect(conn).await;
    Ok(())
}

/// Waits until [`CHECK_DATABASE`] exists on `replica`.
async fn wait_replicated(replica: &MysqlServer) -> Result<()> {
    let deadline = Instant::now() + Duration::from_millis(REPLICATION_TIMEOUT_MS);
    let mut conn = connect_root(replica.port).await?;
    let query =
        format!("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME={}", sql_str(CHECK_DATABASE));
    loop {
        let found: Option<u64> = conn
            .query_first(&query)
            .await
            .with_context(|| format!("looking for {CHECK_DATABASE} on {}", replica.name))?;
        if found.unwrap_or(0) > 0 {
            disconnect(conn).await;
            return Ok(());
        }
        if Instant::now() >= deadline {
            let why = replica_errors(&mut conn).await;
            anyhow::bail!(
                "{CHECK_DATABASE} did not reach replica {} within {REPLICATION_TIMEOUT_MS} ms \
                 ({why})",
                replica.name
            );
        }
        tokio::time::sleep(Duration::from_millis(MYSQL_POLL_MS)).await;
    }
}

/// The replication threads' state and last errors, for error messages.
async fn replica_errors(conn: &mut Conn) -> String {
    let row: Option<Row> = match conn.query_first("SHOW SLAVE STATUS").await {
        Ok(row) => row,
        Err(e) => return format!("SHOW SLAVE STATUS failed: {e}"),
    };
    let Some(row) = row else {
        return "replication is not configured".to_string();
    };
    let col = |name: &str| -> String { row.get::<Option<String>, &str>(name).flatten().unwrap_or_default() };
    format!(
        "Slave_IO_Running={}, Slave_SQL_Running={}, Last_IO_Error={:?}, Last_SQL_Error={:?}",
        col("Slave_IO_Running"),
        col("Slave_SQL_Running"),
        col("Last_IO_Error"),
        col("Last_SQL_Error")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        let a = |u: &str| Account { user: u.into(), password: format!("{u}-pw") };
        Credentials {
            repl: a("repl"),
            monitor: a("monitor"),
            admin: a("admin"),
            agent: a("agent"),
            app: a("app"),
            backup: a("backup"),
        }
    }

    #[test]
    fn accounts_exist_for_both_hosts_with_their_privileges() {
        let sql = account_statements(&creds(), false);
        assert_eq!(sql.len(), 28);
        assert!(!sql.iter().any(|s| s.contains("REQUIRE")));
        let tls = account_statements(&creds(), true);
        let required: Vec<&String> = tls.iter().filter(|s| s.ends_with(" REQUIRE SSL")).collect();
        assert_eq!(required.len(), 6, "agent, monitor and backup on both hosts: {required:?}");
        assert!(tls
            .contains(&"CREATE OR REPLACE USER 'agent'@'127.0.0.1' IDENTIFIED BY 'agent-pw' REQUIRE SSL".to_string()));
        assert!(tls.contains(&"CREATE OR REPLACE USER 'repl'@'127.0.0.1' IDENTIFIED BY 'repl-pw'".to_string()));
        assert!(sql.contains(&"CREATE OR REPLACE USER 'repl'@'127.0.0.1' IDENTIFIED BY 'repl-pw'".to_string()));
        assert!(sql.contains(&"GRANT REPLICATION SLAVE ON *.* TO 'repl'@'localhost'".to_string()));
        assert!(sql.iter().any(|s| s
            .starts_with("GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR, SELECT ON *.* TO 'monitor'@'127.0.0.1'")));
        assert!(sql.contains(&"GRANT ALL PRIVILEGES ON *.* TO 'admin'@'localhost' WITH GRANT OPTION".to_string()));
        assert!(!sql.iter().any(|s| s.contains("repl'@'localhost' WITH")));
        assert!(sql.contains(&"GRANT INSERT, UPDATE, DELETE, CREATE ON myzoo.* TO 'agent'@'127.0.0.1'".to_string()));
        assert!(sql.contains(
            &"GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR, SELECT, READ_ONLY ADMIN, CONNECTION ADMIN, \
              REPLICATION SLAVE ADMIN, REPLICATION MASTER ADMIN, RELOAD ON *.* TO 'agent'@'localhost'"
                .to_string()
        ));
        assert!(!sql.iter().any(|s| s.contains("'agent'") && (s.contains("ALL PRIVILEGES") || s.contains("SUPER"))));
        assert!(sql.contains(
            &"GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, INDEX, ALTER ON app.* TO 'app'@'127.0.0.1'"
                .to_string()
        ));
        let app: Vec<&String> = sql.iter().filter(|s| s.starts_with("GRANT") && s.contains("'app'")).collect();
        assert_eq!(app.len(), 2, "app has one grant per host: {app:?}");
        // The backup account: the store's database and what a dump reads, never a way past
        // read_only (a store write aimed at a replica must fail, not become errant).
        assert!(sql.contains(&"GRANT ALL PRIVILEGES ON myzoo_backup.* TO 'backup'@'127.0.0.1'".to_string()));
        assert!(sql.contains(&format!("GRANT {BACKUP_DUMP_PRIVILEGES} ON *.* TO 'backup'@'localhost'")));
        assert!(!sql.iter().any(|s| s.contains("'backup'")
            && (s.contains("READ_ONLY ADMIN") || s.contains("SUPER") || s.contains("ON *.* TO") && s.contains("ALL"))));
    }

    #[test]
    fn change_master_uses_gtid() {
        let stmt = change_master_statement(3307, &creds().repl);
        assert!(stmt.contains("MASTER_HOST='127.0.0.1'"));
        assert!(stmt.contains("MASTER_PORT=3307"));
        assert!(stmt.contains("MASTER_USE_GTID=slave_pos"));
    }

    #[test]
    fn server_args_keep_everything_in_the_state_folder() {
        let args = server_args(Path::new("/s"), "db2", 2, 4000, true, false, None);
        let args: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(args[0], "--no-defaults");
        assert!(args.contains(&"--user=root".to_string()));
        assert!(args.contains(&"--datadir=/s/db2/data".to_string()));
        assert!(args.contains(&"--socket=/s/db2/mysql.sock".to_string()));
        assert!(args.contains(&"--server-id=2".to_string()));
        assert!(args.contains(&"--port=4000".to_string()));
        assert!(args.contains(&"--bind-address=127.0.0.1".to_string()));
        assert!(args.contains(&"--rpl-semi-sync-master-enabled=0".to_string()));
        assert!(!server_args(Path::new("/s"), "db2", 2, 4000, false, false, None).iter().any(|a| a == "--user=root"));
        assert!(!args.iter().any(|a| a.starts_with("--ssl")));
        let certs = SandboxCerts { dir: "/s/tls".into() };
        let tls = server_args(Path::new("/s"), "db2", 2, 4000, false, false, Some(&certs));
        let tls: Vec<String> = tls.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        for flag in ["--ssl-ca=/s/tls/ca.pem", "--ssl-cert=/s/tls/server.pem", "--ssl-key=/s/tls/server.key"] {
            assert!(tls.contains(&flag.to_string()), "{flag} missing: {tls:?}");
        }
    }

    #[test]
    fn semi_sync_gives_every_server_both_sides() {
        let args = server_args(Path::new("/s"), "db3", 3, 4000, false, true, None);
        let args: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        for flag in [
            "--rpl-semi-sync-master-enabled=1",
            "--rpl-semi-sync-slave-enabled=1",
            "--rpl-semi-sync-master-wait-point=AFTER_SYNC",
            "--rpl-semi-sync-master-timeout=10000",
            "--init-rpl-role=SLAVE",
        ] {
            assert!(args.contains(&flag.to_string()), "{flag} missing: {args:?}");
        }
        assert!(!args.iter().any(|a| a.ends_with("enabled=0")));
    }

    #[test]
    fn long_state_folders_are_refused() {
        let long = PathBuf::from(format!("/tmp/{}", "x".repeat(120)));
        assert!(check_socket_paths(&long).is_err());
        assert!(check_socket_paths(Path::new("/tmp/sbx")).is_ok());
    }
}
