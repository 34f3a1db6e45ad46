//! The real local playground: ZooKeeper plus a MariaDB primary and two GTID replicas on loopback.
//!
//! The same code starts the servers for `myzoo sandbox up` and for the integration tests, so
//! everything is keyed on the state folder: free ports are picked at run time, every file lives
//! in the folder, and many sandboxes can run side by side.
//!
//! Layout of a state folder:
//! ```text
//! <state>/sandbox.json        the SandboxStatus, written when `up` finishes
//! <state>/secrets.json        MariaDB account passwords (mode 0600), see `credentials`
//! <state>/agent.password      the `agent` account's password (0600): what operations connect as
//! <state>/repl.password       the `repl` account's password (0600): for re-pointing replicas
//! <state>/backup.password     the `backup` account's password (0600): the backup store's
//! <state>/zk.auth             the ZooKeeper digest credential `myzoo:<password>` (0600): the
//!                             profile, the agents and the seeding authenticate with it
//! <state>/zk1 … zk3/          zoo.cfg, data/, zookeeper.log, myzoo.pid
//! <state>/db1 … db3/          data/, mysql.sock, error.log, stdout.log, myzoo.pid
//! <state>/agent-db1 … 3/      agent.log, password (0600), stdout.log, myzoo.pid
//! <state>/tls/                 with `--tls`: ca.pem, server.pem/.key, server-keystore.pem,
//!                              client.pem/.key (all 0600; see `tls`)
//! ```
//! Each server folder holds a `.myzoo-sandbox` marker; only marked folders are ever deleted.
//!
//! Choices: `up` refuses to start over a sandbox that is still running in the same folder (run
//! `down` first) and wipes the leftovers of a stopped one, so every `up` is fresh. `down` stops
//! the servers and deletes their data. `status` reports `pid: None` for a server that is not
//! running (any more).

pub mod agents;
pub mod mariadb;
pub mod secrets;
pub mod tls;
pub mod zookeeper;

mod ports;
mod process;
mod seed;
mod tools;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

pub use agents::{AgentProcess, DEFAULT_AGENT_INTERVAL_MS};
pub use secrets::{Account, Credentials};
pub use seed::CLUSTER;

/// Every sandbox server listens on this address only.
pub const LOOPBACK: &str = "127.0.0.1";
/// The status file in the state folder.
pub const STATUS_FILE: &str = "sandbox.json";
/// Marker file in each server folder `up` creates.
const SERVER_MARKER: &str = ".myzoo-sandbox";
/// The `agent` account's password, for operations run from the CLI or the console.
pub const AGENT_PASSWORD_FILE: &str = "agent.password";
/// The `repl` account's password, for pointing a server at a new primary.
pub const REPL_PASSWORD_FILE: &str = "repl.password";
/// The `backup` account's password, for the backup store and dumps.
pub const BACKUP_PASSWORD_FILE: &str = "backup.password";
/// The ZooKeeper digest credential (`myzoo:<password>`), named in the profile and given to the
/// agents with `--zk-auth-file`.
pub const ZK_AUTH_FILE: &str = "zk.auth";
/// The digest user of that credential.
pub const ZK_USER: &str = "myzoo";

/// Options for `myzoo sandbox up`.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Folder holding every server's data, config, logs and pid files.
    pub state_dir: PathBuf,
    /// 1 (standalone) or 3 (ensemble).
    pub zk_ensemble: usize,
    /// Start the three MariaDB servers too (tests that need only ZooKeeper skip them).
    pub with_mysql: bool,
    /// Seed the cluster's znodes (config, primary record, folders) and the demo tree.
    pub seed: bool,
    /// Write the `sandbox` connection profile (the CLI does; tests must not touch the user's
    /// config file).
    pub write_profile: bool,
    /// Start one `myzoo agent` per MariaDB server with this executable (`None`: no agents).
    /// The CLI passes its own executable; tests pass `env!("CARGO_BIN_EXE_myzoo")` (in a test,
    /// `current_exe` is the test binary).
    pub agent_binary: Option<PathBuf>,
    /// The agents' probe interval ([`DEFAULT_AGENT_INTERVAL_MS`] normally).
    pub agent_interval_ms: u64,
    /// The agents' ZooKeeper session timeout (`None`: the default).
    pub agent_session_timeout_ms: Option<u64>,
    /// How often the agents re-publish an unchanged status (`None`: the default). Tests make
    /// it long, so that a status they wait for can only have come from a change-driven write.
    pub agent_heartbeat_ms: Option<u64>,
    /// Start every server with semi-synchronous replication on (both sides, `AFTER_SYNC`,
    /// [`mariadb::SEMI_SYNC_TIMEOUT_MS`]).
    pub semi_sync: bool,
    /// Protect the seeded `/myzoo` tree with `digest:myzoo:HASH:cdrwa, world:anyone:r`: only the
    /// sandbox's credential (`zk.auth`) changes it, anyone reads it. `myzoo sandbox up` does
    /// (`--no-zk-acl` does not); the tests ask for it where they test it.
    pub zk_acl: bool,
    /// ZooKeeper members (by id) whose `4lw.commands.whitelist` is this instead of `*`: tests
    /// of a member that refuses the four-letter words.
    pub zk_4lw_whitelists: Vec<(u32, String)>,
    /// TLS everywhere (`tls`): certificates generated, ZooKeeper with a secure client port (the
    /// connect string names it), MariaDB offering TLS, the cluster config requiring it, and the
    /// profile, agents and backup store using it.
    pub tls: bool,
}

/// What `myzoo sandbox status --json` prints; scripts and tests find every server here.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SandboxStatus {
    pub zk: String,
    pub zk_servers: Vec<ZkServer>,
    pub mysql: Vec<MysqlServer>,
    pub state_dir: PathBuf,
    /// The agents `up` started (empty without them; absent in files from older versions).
    #[serde(default)]
    pub agents: Vec<AgentProcess>,
    /// Whether the servers run semi-synchronous replication, and the primary's wait for an
    /// acknowledgement (`None` when off). `restart_mysql` starts a server the same way.
    #[serde(default)]
    pub semi_sync: bool,
    #[serde(default)]
    pub semi_sync_timeout_ms: Option<u64>,
    /// The account switchover, failover and rejoin connect as, and the files holding its and
    /// the replication account's passwords (never the passwords themselves); `None` without
    /// MariaDB.
    #[serde(default)]
    pub mysql_user: Option<String>,
    #[serde(default)]
    pub mysql_password_file: Option<PathBuf>,
    #[serde(default)]
    pub repl_password_file: Option<PathBuf>,
    /// The backup store on the three servers (`None` without MariaDB).
    #[serde(default)]
    pub backup_store: Option<crate::config::BackupStoreConfig>,
    /// The file holding the ZooKeeper digest credential (never the credential itself).
    #[serde(default)]
    pub zk_auth_file: Option<PathBuf>,
    /// Whether `/myzoo` is protected by an ACL only that credential may write through.
    #[serde(default)]
    pub zk_acl: bool,
    /// With `--tls`: the files a client names (the CA, the client certificate and key); `zk`
    /// is then the connect string of the members' TLS ports.
    #[serde(default)]
    pub tls: Option<crate::tls::TlsFiles>,
}

impl SandboxStatus {
    /// How clients reach this sandbox's ZooKeeper as myzoo does: over TLS when it runs with
    /// TLS, with its credential (read from `zk_auth_file`; none for a sandbox started before
    /// credentials existed, or when the file cannot be read: a warning says why).
    pub fn zk_access(&self, session_timeout: std::time::Duration) -> crate::zk::ZkAccess {
        let auth = crate::config::zk_credential(self.zk_auth_file.as_deref(), None).unwrap_or_else(|e| {
            tracing::warn!("the sandbox's ZooKeeper credential: {e:#}");
            None
        });
        crate::zk::ZkAccess::new(self.zk.clone(), session_timeout).with_tls(self.tls.clone()).with_auth(auth)
    }

    /// The connect string of the plain client ports (what four-letter words use).
    pub fn zk_plain(&self) -> String {
        zookeeper::connect_string(&self.zk_servers)
    }
}

/// One ZooKeeper member; `pid` is `None` when it is not running.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ZkServer {
    pub id: u32,
    pub host: String,
    /// The plain client port (four-letter words too).
    pub port: u16,
    /// The TLS client port, with `--tls`.
    #[serde(default)]
    pub secure_port: Option<u16>,
    pub pid: Option<u32>,
    /// Its AdminServer's loopback port (`None`: off, as when `libservlet-api-java` is missing).
    #[serde(default)]
    pub admin_port: Option<u16>,
}

/// One MariaDB server (`role` is `primary` or `replica`); `pid` is `None` when it is not running.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MysqlServer {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub role: String,
    pub pid: Option<u32>,
}

pub fn default_state_dir() -> PathBuf {
    crate::config::state_dir().join("sandbox")
}

/// The MariaDB accounts (`repl`, `monitor`, `admin`, `agent`, `app`) of the sandbox in `state_dir`.
pub fn credentials(state_dir: &Path) -> Result<Credentials> {
    secrets::load(state_dir)
}

/// The unix socket of MariaDB server `name` (`db1`…) in `state_dir`.
pub fn mysql_socket(state_dir: &Path, name: &str) -> PathBuf {
    mariadb::socket_path(state_dir, name)
}

/// Starts ZooKeeper (and MariaDB unless `with_mysql` is false), waits until everything serves,
/// seeds the tree when asked, and returns where everything is. On failure every process started
/// so far is stopped and the error carries the tail of the log that explains it.
pub async fn up(opts: &SandboxOptions) -> Result<SandboxStatus> {
    anyhow::ensure!(
        matches!(opts.zk_ensemble, 1 | 3),
        "a ZooKeeper ensemble has 1 or 3 members, not {}",
        opts.zk_ensemble
    );
    let tools = tools::find(opts.with_mysql)?;
    let dir = open_state_dir(&opts.state_dir)?;
    if opts.with_mysql {
        mariadb::check_socket_paths(&dir)?;
    }
    refuse_running(&dir)?;
    clean_state(&dir)?;

    let started = Instant::now();
    let mut guard = StopOnDrop::new(dir.clone());
    let result = up_inner(opts, &tools, &dir).await;
    guard.disarm();
    match result {
        Ok(status) => {
            tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "sandbox up in {}", dir.display());
            Ok(status)
        }
        Err(e) => {
            if let Err(stop) = process::stop_all(&dir).await {
                tracing::warn!("stopping the servers after a failed up: {stop:#}");
            }
            Err(e)
        }
    }
}

async fn up_inner(opts: &SandboxOptions, tools: &tools::Tools, dir: &Path) -> Result<SandboxStatus> {
    // ZooKeeper's JVM and mariadb-install-db each take a second or two: run them side by side.
    let started = Instant::now();
    let phase = |what: &str| {
        tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "{what}");
    };
    let certs = if opts.tls { Some(tls::generate(dir)?) } else { None };
    let certs = certs.as_ref();
    let zk = async {
        let servers = zookeeper::start(dir, tools, opts.zk_ensemble, &opts.zk_4lw_whitelists, certs).await?;
        phase("ZooKeeper serving");
        Ok::<_, anyhow::Error>(servers)
    };
    let db = async {
        match &tools.mariadb {
            Some(m) => {
                mariadb::install(dir, m).await?;
                phase("MariaDB data folders installed");
                let servers = mariadb::start_all(dir, m, opts.semi_sync, certs).await?;
                phase("MariaDB servers accepting connections");
                Ok(servers)
            }
            None => Ok(Vec::new()),
        }
    };
    let (zk_servers, mysql) = tokio::try_join!(zk, db)?;
    let zk_auth_file = dir.join(ZK_AUTH_FILE);
    let zk_password = secrets::random_password()?;
    let zk_credential = crate::zk::ZkCredential::new(ZK_USER, &zk_password)
        .map_err(|e| anyhow::anyhow!("the sandbox's ZooKeeper credential: {e}"))?;
    agents::write_private(&zk_auth_file, &format!("{ZK_USER}:{zk_password}"))?;
    let mut access = crate::config::MysqlAccess::default();
    let mut backup_store_config = None;
    if !mysql.is_empty() {
        let creds = Credentials::generate()?;
        secrets::save(dir, &creds)?;
        access = write_password_files(dir, &creds)?;
        mariadb::configure(&mysql, &creds, opts.tls).await?;
        agents::write_private(&dir.join(BACKUP_PASSWORD_FILE), &creds.backup.password)?;
        backup_store_config = Some(backup_store(dir, &mysql, &creds.backup.user, certs));
        phase("accounts created, replication verified");
    }
    let semi_sync = opts.semi_sync && !mysql.is_empty();
    let mut status = SandboxStatus {
        zk: zookeeper::tls_connect_string(&zk_servers).unwrap_or_else(|| zookeeper::connect_string(&zk_servers)),
        zk_servers,
        mysql,
        state_dir: dir.to_path_buf(),
        agents: Vec::new(),
        semi_sync,
        semi_sync_timeout_ms: semi_sync.then_some(mariadb::SEMI_SYNC_TIMEOUT_MS),
        mysql_user: access.user.clone(),
        mysql_password_file: access.password_file.clone(),
        repl_password_file: access.repl_password_file.clone(),
        backup_store: backup_store_config,
        tls: certs.map(tls::SandboxCerts::client_files),
        zk_auth_file: Some(zk_auth_file),
        zk_acl: opts.zk_acl,
    };
    if opts.seed {
        let zk = status.zk_access(std::time::Duration::from_millis(seed::SEED_SESSION_TIMEOUT_MS));
        let policy = if opts.tls { crate::tls::TlsMode::Required } else { crate::tls::TlsMode::Off };
        let protect = opts.zk_acl.then_some(&zk_credential);
        seed::seed(&zk, crate::config::DEFAULT_ROOT, &status.mysql, policy, protect).await?;
        phase("ZooKeeper tree seeded");
    }
    if let (Some(binary), false) = (&opts.agent_binary, status.mysql.is_empty()) {
        status.agents = start_agents(opts, binary, dir, &status).await?;
        phase("agents registered");
    }
    write_status(dir, &status)?;
    if opts.write_profile {
        let ensemble = ensemble_options(&status.zk_servers);
        let tls = status.tls.clone().map(|files| (files.clone(), files));
        let profile = crate::config::write_sandbox_profile(
            &status.zk,
            status.zk_auth_file.as_deref(),
            &access,
            status.backup_store.clone(),
            ensemble,
            tls,
        )?;
        tracing::info!("wrote the sandbox profile to {}", profile.display());
    }
    Ok(status)
}

/// How the ensemble screen reaches the sandbox's members: the four-letter words, and each
/// member's AdminServer on its own loopback port (`None` when none runs).
pub fn ensemble_options(servers: &[ZkServer]) -> Option<crate::zk::ensemble::EnsembleOptions> {
    let admin_servers: std::collections::BTreeMap<String, String> = servers
        .iter()
        .filter_map(|s| Some((format!("{}:{}", s.host, s.port), format!("{}:{}", s.host, s.admin_port?))))
        .collect();
    (!admin_servers.is_empty()).then(|| crate::zk::ensemble::EnsembleOptions { admin_servers, ..Default::default() })
}

/// The sandbox's backup store: the `myzoo_backup` database on its three servers, as `backup`
/// (over TLS with `--tls`).
fn backup_store(
    dir: &Path,
    mysql: &[MysqlServer],
    user: &str,
    certs: Option<&tls::SandboxCerts>,
) -> crate::config::BackupStoreConfig {
    crate::config::BackupStoreConfig {
        hosts: mysql.iter().map(|m| format!("{}:{}", m.host, m.port)).collect(),
        database: crate::config::DEFAULT_BACKUP_DATABASE.to_string(),
        user: user.to_string(),
        password_file: Some(dir.join(BACKUP_PASSWORD_FILE)),
        dump_dir: Some(dir.join("dumps")),
        tls: if certs.is_some() { crate::tls::TlsMode::Required } else { crate::tls::TlsMode::Off },
        tls_files: certs.map(tls::SandboxCerts::client_files),
    }
}

/// Writes the `agent` and `repl` passwords into their own 0600 files, so that operations can
/// name a file (in the profile, in `sandbox.json`) instead of carrying a password.
fn write_password_files(dir: &Path, creds: &Credentials) -> Result<crate::config::MysqlAccess> {
    let agent = dir.join(AGENT_PASSWORD_FILE);
    let repl = dir.join(REPL_PASSWORD_FILE);
    agents::write_private(&agent, &creds.agent.password)?;
    agents::write_private(&repl, &creds.repl.password)?;
    Ok(crate::config::MysqlAccess {
        user: Some(creds.agent.user.clone()),
        password_file: Some(agent),
        repl_password_file: Some(repl),
        tls: None,
    })
}

async fn start_agents(
    opts: &SandboxOptions,
    binary: &Path,
    dir: &Path,
    status: &SandboxStatus,
) -> Result<Vec<AgentProcess>> {
    let creds = secrets::load(dir)?;
    let repl_password_file = dir.join(REPL_PASSWORD_FILE);
    let spec = agents::AgentSpawn {
        binary,
        zk: &status.zk,
        tls: status.tls.as_ref(),
        root: crate::config::DEFAULT_ROOT,
        cluster: CLUSTER,
        interval_ms: opts.agent_interval_ms,
        session_timeout_ms: opts.agent_session_timeout_ms,
        heartbeat_ms: opts.agent_heartbeat_ms,
        repl_password_file: Some(&repl_password_file),
        backup: status.backup_store.as_ref(),
        zk_auth_file: status.zk_auth_file.as_deref(),
    };
    let started = agents::start(dir, &spec, &status.mysql, &creds.agent)?;
    let paths = crate::cluster::ClusterPaths::new(crate::config::DEFAULT_ROOT, CLUSTER);
    let names: Vec<String> = started.iter().map(|a| a.name.clone()).collect();
    let zk = status.zk_access(std::time::Duration::from_millis(agents::AGENT_READY_TIMEOUT_MS));
    agents::wait_registered(dir, &zk, &paths, &names).await?;
    Ok(started)
}

/// Stops the servers started in `state_dir` (only those whose command line still names the
/// folder) and deletes their data. A folder without a sandbox is not an error.
pub async fn down(state_dir: &Path) -> Result<()> {
    if !state_dir.exists() {
        tracing::info!("no sandbox in {}", state_dir.display());
        return Ok(());
    }
    let dir = open_state_dir(state_dir)?;
    // Agents first, while ZooKeeper still runs: each removes its znode on SIGTERM.
    agents::stop_all(&dir).await?;
    process::stop_all(&dir).await?;
    clean_state(&dir)?;
    // Remove the folder too when nothing else lives there.
    let _ = std::fs::remove_dir(&dir);
    Ok(())
}

/// The status `up` recorded, with `pid: None` for every server that is no longer running.
pub fn status(state_dir: &Path) -> Result<SandboxStatus> {
    let path = state_dir.join(STATUS_FILE);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("no sandbox in {} (run `myzoo sandbox up` first)", state_dir.display()))?;
    let mut status: SandboxStatus =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    refresh_pids(&mut status);
    Ok(status)
}

fn refresh_pids(status: &mut SandboxStatus) {
    let dir = status.state_dir.clone();
    let alive = |pid: Option<u32>| pid.filter(|&p| process::is_ours(p, &dir));
    for zk in &mut status.zk_servers {
        zk.pid = alive(zk.pid);
    }
    for db in &mut status.mysql {
        db.pid = alive(db.pid);
    }
    for agent in &mut status.agents {
        agent.pid = alive(agent.pid);
    }
}

/// Starts MariaDB server `name` again on its port and data folder, after a crash or a
/// `kill -9` (it is stopped first if still running). A replica resumes replication from its own
/// GTID position (the servers run with `--skip-slave-start`, so this starts it). Updates
/// `sandbox.json` with the new pid.
pub async fn restart_mysql(state_dir: &Path, name: &str) -> Result<MysqlServer> {
    let dir = open_state_dir(state_dir)?;
    let mut current = status(&dir)?;
    let index = current
        .mysql
        .iter()
        .position(|m| m.name == name)
        .with_context(|| format!("no MariaDB server named {name} in {}", dir.display()))?;
    if let Some(pid) = current.mysql[index].pid {
        process::stop(vec![pid]).await?;
    }
    let tools = tools::find(true)?;
    let mariadb = tools.mariadb.as_ref().context("MariaDB is not installed")?;
    let certs = current.tls.as_ref().map(|_| tls::SandboxCerts::at(&dir));
    let server = mariadb::restart(&dir, mariadb, &current.mysql[index], current.semi_sync, certs.as_ref()).await?;
    current.mysql[index] = server.clone();
    write_status(&dir, &current)?;
    Ok(server)
}

/// Starts ZooKeeper member `id` again from its folder after a crash or a `kill -9` (it is
/// stopped first if still running), waits until it serves, and records its new pid.
pub async fn restart_zk(state_dir: &Path, id: u32) -> Result<ZkServer> {
    let dir = open_state_dir(state_dir)?;
    let mut current = status(&dir)?;
    let index = current
        .zk_servers
        .iter()
        .position(|z| z.id == id)
        .with_context(|| format!("no ZooKeeper member {id} in {}", dir.display()))?;
    if let Some(pid) = current.zk_servers[index].pid {
        process::stop(vec![pid]).await?;
    }
    let tools = tools::find(false)?;
    let server = zookeeper::restart(&dir, &tools, &current.zk_servers[index]).await?;
    current.zk_servers[index] = server.clone();
    write_status(&dir, &current)?;
    Ok(server)
}

/// The member a ZooKeeper session is connected to, from each member's `cons` answer; `None`
/// when no member lists it (between connections) or a member does not answer.
pub async fn zk_member_of_session(status: &SandboxStatus, session_id: i64) -> Option<ZkServer> {
    for server in &status.zk_servers {
        if let Ok(cons) = zookeeper::four_letter(server.port, "cons").await {
            if zookeeper::cons_session_ids(&cons).contains(&session_id) {
                return Some(server.clone());
            }
        }
    }
    None
}

/// The member whose `srvr` says `Mode: leader` (or `standalone` for a single member).
pub async fn zk_leader(status: &SandboxStatus) -> Option<ZkServer> {
    for server in &status.zk_servers {
        if let Ok(srvr) = zookeeper::srvr(server.port).await {
            if matches!(zookeeper::mode(&srvr), Some("leader" | "standalone")) {
                return Some(server.clone());
            }
        }
    }
    None
}

/// Creates the folder and returns its absolute form: the form in every command line, which is
/// what tells our processes apart from others.
fn open_state_dir(state_dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(state_dir).with_context(|| format!("creating {}", state_dir.display()))?;
    state_dir.canonicalize().with_context(|| format!("resolving {}", state_dir.display()))
}

fn refuse_running(dir: &Path) -> Result<()> {
    let running = process::running_pids(dir);
    anyhow::ensure!(
        running.is_empty(),
        "a sandbox is already running in {} (pids {running:?}); run `myzoo sandbox down \
         --state-dir {}` first",
        dir.display(),
        dir.display()
    );
    Ok(())
}

/// Deletes what an earlier sandbox left: marked server folders and the status and secrets files.
fn clean_state(dir: &Path) -> Result<()> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    for entry in entries.filter_map(|e| e.ok()) {
        let path = entry.path();
        if path.join(SERVER_MARKER).is_file() {
            std::fs::remove_dir_all(&path).with_context(|| format!("removing {}", path.display()))?;
        }
    }
    let files = [
        STATUS_FILE,
        secrets::SECRETS_FILE,
        AGENT_PASSWORD_FILE,
        REPL_PASSWORD_FILE,
        BACKUP_PASSWORD_FILE,
        ZK_AUTH_FILE,
    ];
    for file in files {
        remove_file_if_present(&dir.join(file))?;
    }
    Ok(())
}

fn remove_file_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("removing {}", path.display())),
    }
}

/// A fresh, marked folder `<state>/<name>` for one server. A folder of that name that `up` did
/// not create is left alone and reported.
pub(crate) fn prepare_server_dir(state_dir: &Path, name: &str) -> Result<PathBuf> {
    let dir = state_dir.join(name);
    if dir.exists() {
        anyhow::ensure!(
            dir.join(SERVER_MARKER).is_file(),
            "{} exists and was not created by `myzoo sandbox up`; choose another --state-dir",
            dir.display()
        );
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(dir.join(SERVER_MARKER), b"").with_context(|| format!("marking {}", dir.display()))?;
    Ok(dir)
}

/// Writes `sandbox.json` atomically (readers never see half a file).
fn write_status(dir: &Path, status: &SandboxStatus) -> Result<()> {
    let path = dir.join(STATUS_FILE);
    let tmp = dir.join(format!("{STATUS_FILE}.tmp"));
    let text = serde_json::to_string_pretty(status)?;
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))
}

/// Stops the sandbox's servers if `up` is abandoned midway (its future dropped, e.g. by a test
/// timeout), so no server outlives a half-finished start. Blocks while it waits for them.
struct StopOnDrop {
    dir: PathBuf,
    armed: bool,
}

impl StopOnDrop {
    fn new(dir: PathBuf) -> Self {
        StopOnDrop { dir, armed: true }
    }

    fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let pids = process::running_pids(&self.dir);
        if let Err(e) = process::stop_blocking(&pids) {
            tracing::warn!("stopping the servers of an abandoned up: {e:#}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(dir: &Path) -> SandboxStatus {
        SandboxStatus {
            zk: "127.0.0.1:2181".into(),
            zk_servers: vec![ZkServer {
                id: 1,
                host: LOOPBACK.into(),
                port: 2181,
                secure_port: Some(2281),
                pid: Some(u32::MAX - 1),
                admin_port: None,
            }],
            mysql: vec![MysqlServer {
                name: "db1".into(),
                host: LOOPBACK.into(),
                port: 3307,
                role: "primary".into(),
                pid: None,
            }],
            state_dir: dir.to_path_buf(),
            agents: vec![AgentProcess { name: "db1".into(), pid: Some(u32::MAX - 2), http_port: None }],
            semi_sync: true,
            semi_sync_timeout_ms: Some(mariadb::SEMI_SYNC_TIMEOUT_MS),
            mysql_user: Some("agent".into()),
            mysql_password_file: Some(dir.join(AGENT_PASSWORD_FILE)),
            repl_password_file: Some(dir.join(REPL_PASSWORD_FILE)),
            backup_store: Some(backup_store(dir, &[], "backup", None)),
            tls: Some(tls::SandboxCerts::at(dir).client_files()),
            zk_auth_file: Some(dir.join(ZK_AUTH_FILE)),
            zk_acl: true,
        }
    }

    #[test]
    fn status_json_round_trips() {
        let s = sample(Path::new("/tmp/x"));
        let text = serde_json::to_string_pretty(&s).unwrap();
        let back: SandboxStatus = serde_json::from_str(&text).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn status_without_agents_still_parses() {
        let mut v = serde_json::to_value(sample(Path::new("/tmp/x"))).unwrap();
        v.as_object_mut().unwrap().remove("agents");
        let back: SandboxStatus = serde_json::from_value(v).unwrap();
        assert!(back.agents.is_empty());
    }

    #[test]
    fn status_reports_dead_pids_as_none() {
        let dir = tempfile::tempdir().unwrap();
        write_status(dir.path(), &sample(dir.path())).unwrap();
        let s = status(dir.path()).unwrap();
        assert_eq!(s.zk_servers[0].pid, None);
        assert_eq!(s.zk_servers[0].port, 2181);
        assert_eq!(s.agents[0].pid, None);
    }

    #[test]
    fn status_without_sandbox_says_to_run_up() {
        let dir = tempfile::tempdir().unwrap();
        let err = status(dir.path()).unwrap_err();
        assert!(format!("{err:#}").contains("sandbox up"));
    }

    #[test]
    fn clean_state_removes_only_marked_folders() {
        let dir = tempfile::tempdir().unwrap();
        let ours = prepare_server_dir(dir.path(), "zk1").unwrap();
        std::fs::write(ours.join("zoo.cfg"), "x").unwrap();
        let theirs = dir.path().join("db1");
        std::fs::create_dir(&theirs).unwrap();
        std::fs::write(dir.path().join(STATUS_FILE), "{}").unwrap();
        clean_state(dir.path()).unwrap();
        assert!(!ours.exists());
        assert!(theirs.exists());
        assert!(!dir.path().join(STATUS_FILE).exists());
        assert!(prepare_server_dir(dir.path(), "db1").is_err());
    }

    #[tokio::test]
    async fn down_on_a_missing_folder_is_fine() {
        let dir = tempfile::tempdir().unwrap();
        down(&dir.path().join("nothing")).await.unwrap();
    }

    #[tokio::test]
    async fn ensemble_of_two_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let opts = SandboxOptions {
            state_dir: dir.path().to_path_buf(),
            zk_ensemble: 2,
            with_mysql: false,
            seed: false,
            write_profile: false,
            agent_binary: None,
            agent_interval_ms: DEFAULT_AGENT_INTERVAL_MS,
            agent_session_timeout_ms: None,
            agent_heartbeat_ms: None,
            semi_sync: false,
            zk_acl: false,
            zk_4lw_whitelists: Vec::new(),
            tls: false,
        };
        assert!(up(&opts).await.is_err());
    }

    fn pids(s: &SandboxStatus) -> Vec<u32> {
        let zk = s.zk_servers.iter().filter_map(|z| z.pid);
        zk.chain(s.mysql.iter().filter_map(|m| m.pid)).collect()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn real_sandboxes_side_by_side() {
        use mysql_async::prelude::Queryable;
        let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
        let opts: Vec<SandboxOptions> = dirs
            .iter()
            .enumerate()
            .map(|(i, d)| SandboxOptions {
                state_dir: d.path().to_path_buf(),
                zk_ensemble: 1,
                with_mysql: i == 0,
                seed: false,
                write_profile: false,
                agent_binary: None,
                agent_interval_ms: DEFAULT_AGENT_INTERVAL_MS,
                agent_session_timeout_ms: None,
                agent_heartbeat_ms: None,
                semi_sync: false,
                zk_acl: false,
                zk_4lw_whitelists: Vec::new(),
                tls: false,
            })
            .collect();
        let ups = futures::future::try_join_all(opts.iter().map(up)).await.unwrap();
        for s in &ups {
            let answer = zookeeper::srvr(s.zk_servers[0].port).await.unwrap();
            assert!(zookeeper::has_mode(&answer));
            assert_eq!(status(&s.state_dir).unwrap(), *s);
        }
        assert!(up(&opts[1]).await.unwrap_err().to_string().contains("sandbox down"));

        let creds = credentials(dirs[0].path()).unwrap();
        let mut conn = mariadb::connect_as(ups[0].mysql[1].port, &creds.monitor).await.unwrap();
        let read_only: Option<u8> = conn.query_first("SELECT @@read_only").await.unwrap();
        assert_eq!(read_only, Some(1));
        conn.disconnect().await.unwrap();

        for d in &dirs {
            down(d.path()).await.unwrap();
        }
        for s in &ups {
            assert_eq!(pids(s).len(), s.zk_servers.len() + s.mysql.len());
            assert!(pids(s).iter().all(|&p| !process::is_alive(p)));
            assert!(!s.state_dir.join(STATUS_FILE).exists());
        }
    }
}
