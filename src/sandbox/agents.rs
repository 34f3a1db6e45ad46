//! One `myzoo agent` per sandbox MariaDB server, started like the servers (detached, pid file
//! in `<state>/agent-<node>/`, command line naming the state folder so only ours are stopped),
//! running as the sandbox's `agent` account with its password in a 0600 file.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::process::{self, PID_FILE};
use super::secrets::Account;
use super::{prepare_server_dir, MysqlServer};
use crate::cluster::ClusterPaths;

/// Probe interval of the sandbox's agents unless the options say otherwise.
pub const DEFAULT_AGENT_INTERVAL_MS: u64 = 1_000;
/// Longest `up` waits for every agent's znode to appear.
pub(crate) const AGENT_READY_TIMEOUT_MS: u64 = 15_000;
/// Pause between looks for the agents' znodes.
const AGENT_POLL_MS: u64 = 50;
/// Prefix of an agent's folder in the state folder: `agent-db1`.
const AGENT_DIR_PREFIX: &str = "agent-";

/// One agent process; `pid` is `None` when it is not running.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AgentProcess {
    /// The node it serves (`db1` …).
    pub name: String,
    pub pid: Option<u32>,
    /// The loopback port of its HTTP endpoints (`--http`); kept when the agent is restarted,
    /// so a proxy's configuration stays right.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_port: Option<u16>,
}

/// How to start the agents.
#[derive(Debug, Clone)]
pub struct AgentSpawn<'a> {
    pub binary: &'a Path,
    pub zk: &'a str,
    /// With `--tls`: the CA and client certificate, for ZooKeeper and MySQL alike.
    pub tls: Option<&'a crate::tls::TlsFiles>,
    pub root: &'a str,
    pub cluster: &'a str,
    pub interval_ms: u64,
    /// `None`: the agent's default.
    pub session_timeout_ms: Option<u64>,
    /// How often an unchanged status is re-published; `None`: the agent's default.
    pub heartbeat_ms: Option<u64>,
    /// The replication account's password file, for the coordinator's repointing.
    pub repl_password_file: Option<&'a Path>,
    /// The backup store, for the coordinator's scheduled snapshots.
    pub backup: Option<&'a crate::config::BackupStoreConfig>,
    /// The file holding the ZooKeeper credential (`--zk-auth-file`).
    pub zk_auth_file: Option<&'a Path>,
}

/// `<state>/agent-<node>`.
pub fn agent_dir(state_dir: &Path, node: &str) -> PathBuf {
    state_dir.join(format!("{AGENT_DIR_PREFIX}{node}"))
}

/// `<state>/agent-<node>/agent.log`: the agent's own log.
pub fn agent_log(state_dir: &Path, node: &str) -> PathBuf {
    agent_dir(state_dir, node).join("agent.log")
}

/// Starts one agent per server, each serving HTTP on a free loopback port.
pub fn start(
    state_dir: &Path,
    spec: &AgentSpawn<'_>,
    servers: &[MysqlServer],
    account: &Account,
) -> Result<Vec<AgentProcess>> {
    let ports = super::ports::pick(servers.len())?;
    servers.iter().zip(ports).map(|(server, port)| start_one(state_dir, spec, server, account, port)).collect()
}

/// Starts the agent of `server` (its folder is recreated), serving HTTP on `http_port`.
pub fn start_one(
    state_dir: &Path,
    spec: &AgentSpawn<'_>,
    server: &MysqlServer,
    account: &Account,
    http_port: u16,
) -> Result<AgentProcess> {
    let dir = prepare_server_dir(state_dir, &format!("{AGENT_DIR_PREFIX}{}", server.name))?;
    let password_file = dir.join("password");
    write_private(&password_file, &account.password)?;
    let log = agent_log(state_dir, &server.name);
    let args = agent_args(spec, server, &account.user, &password_file, &log, http_port);
    let child = process::spawn_detached(spec.binary, &args, &dir.join("stdout.log"), &dir.join(PID_FILE))?;
    Ok(AgentProcess { name: server.name.clone(), pid: Some(child.id()), http_port: Some(http_port) })
}

/// The agent's command line: the password file and log file are below the state folder, which
/// is what marks the process as this sandbox's.
pub fn agent_args(
    spec: &AgentSpawn<'_>,
    server: &MysqlServer,
    user: &str,
    password_file: &Path,
    log_file: &Path,
    http_port: u16,
) -> Vec<OsString> {
    let mut args: Vec<OsString> = ["agent", "--zk", spec.zk, "--root", spec.root].map(OsString::from).to_vec();
    if let Some(ms) = spec.session_timeout_ms {
        args.extend(["--session-timeout".into(), ms.to_string().into()]);
    }
    if let Some(file) = spec.zk_auth_file {
        args.extend(["--zk-auth-file".into(), file.as_os_str().to_owned()]);
    }
    args.extend([
        "--log-file".into(),
        log_file.as_os_str().to_owned(),
        "--cluster".into(),
        spec.cluster.into(),
        "--node".into(),
        server.name.as_str().into(),
        "--mysql-host".into(),
        server.host.as_str().into(),
        "--mysql-port".into(),
        server.port.to_string().into(),
        "--mysql-user".into(),
        user.into(),
        "--mysql-password-file".into(),
        password_file.as_os_str().to_owned(),
        "--interval".into(),
        spec.interval_ms.to_string().into(),
        "--http".into(),
        format!("127.0.0.1:{http_port}").into(),
    ]);
    if let Some(ms) = spec.heartbeat_ms {
        args.extend(["--heartbeat".into(), ms.to_string().into()]);
    }
    if let Some(tls) = spec.tls {
        // Files only: whether MySQL connections use TLS is the cluster config's `mysql.tls`.
        let files = [
            ("--zk-tls-ca", &tls.ca_file),
            ("--zk-tls-cert", &tls.cert_file),
            ("--zk-tls-key", &tls.key_file),
            ("--mysql-tls-ca", &tls.ca_file),
            ("--mysql-tls-cert", &tls.cert_file),
            ("--mysql-tls-key", &tls.key_file),
        ];
        for (flag, file) in files {
            if let Some(path) = file {
                args.extend([flag.into(), path.as_os_str().to_owned()]);
            }
        }
    }
    if let Some(file) = spec.repl_password_file {
        args.extend(["--repl-password-file".into(), file.as_os_str().to_owned()]);
    }
    if let Some(store) = spec.backup {
        args.extend([
            "--backup-hosts".into(),
            store.hosts.join(",").into(),
            "--backup-database".into(),
            store.database.as_str().into(),
            "--backup-user".into(),
            store.user.as_str().into(),
        ]);
        if let Some(file) = &store.password_file {
            args.extend(["--backup-password-file".into(), file.as_os_str().to_owned()]);
        }
        if !store.tls.is_off() {
            args.extend(["--backup-tls".into(), store.tls.as_str().into()]);
        }
    }
    args
}

/// Creates `path` readable by us alone (it must not exist yet, so an older file's looser mode
/// is never inherited) and writes `text` and a line break.
pub(crate) fn write_private(path: &Path, text: &str) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    writeln!(file, "{text}").with_context(|| format!("writing {}", path.display()))
}

/// Waits until every agent's znode exists; on time-out the error quotes the missing agent's log.
pub async fn wait_registered(
    state_dir: &Path,
    zk: &crate::zk::ZkAccess,
    paths: &ClusterPaths,
    nodes: &[String],
) -> Result<()> {
    let deadline = Instant::now() + Duration::from_millis(AGENT_READY_TIMEOUT_MS);
    let client = tokio::time::timeout(Duration::from_millis(AGENT_READY_TIMEOUT_MS), zk.connect())
        .await
        .context("connecting to ZooKeeper timed out")?
        .with_context(|| format!("connecting to ZooKeeper at {}", zk.connect))?;
    for node in nodes {
        let path = paths.node(node);
        loop {
            if client.check_stat(&path).await.with_context(|| format!("looking for {path}"))?.is_some() {
                break;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the agent of {node} did not register {path} within {AGENT_READY_TIMEOUT_MS} ms; {}",
                process::with_log(&agent_log(state_dir, node))
            );
            tokio::time::sleep(Duration::from_millis(AGENT_POLL_MS)).await;
        }
    }
    Ok(())
}

/// Pids of this sandbox's running agents.
pub fn running_pids(state_dir: &Path) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir(state_dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(AGENT_DIR_PREFIX))
        .filter_map(|e| process::read_pid_file(&e.path().join(PID_FILE)).ok().flatten())
        .filter(|&pid| process::is_ours(pid, state_dir))
        .collect()
}

/// SIGTERM to every agent (each removes its znode and closes its session), before the servers
/// and ZooKeeper go.
pub async fn stop_all(state_dir: &Path) -> Result<()> {
    process::stop(running_pids(state_dir)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_name_the_state_folder_and_never_the_password() {
        let store = crate::config::BackupStoreConfig {
            hosts: vec!["127.0.0.1:4000".into(), "127.0.0.1:4001".into()],
            database: "myzoo_backup".into(),
            user: "backup".into(),
            password_file: Some("/s/backup.password".into()),
            dump_dir: None,
            tls: crate::tls::TlsMode::Required,
            tls_files: None,
        };
        let tls = crate::tls::TlsFiles {
            ca_file: Some("/s/tls/ca.pem".into()),
            cert_file: Some("/s/tls/client.pem".into()),
            key_file: Some("/s/tls/client.key".into()),
            verify_hostname: true,
        };
        let spec = AgentSpawn {
            binary: Path::new("/bin/myzoo"),
            zk: "127.0.0.1:2181",
            tls: Some(&tls),
            root: "/myzoo",
            cluster: "sandbox",
            interval_ms: 250,
            session_timeout_ms: Some(2000),
            heartbeat_ms: Some(600_000),
            repl_password_file: Some(Path::new("/s/repl.password")),
            backup: Some(&store),
            zk_auth_file: Some(Path::new("/s/zk.auth")),
        };
        let server =
            MysqlServer { name: "db2".into(), host: "127.0.0.1".into(), port: 4000, role: "replica".into(), pid: None };
        let args = agent_args(
            &spec,
            &server,
            "agent",
            Path::new("/s/agent-db2/password"),
            &agent_log(Path::new("/s"), "db2"),
            9104,
        );
        let line: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        let line = line.join(" ");
        assert!(line
            .starts_with("agent --zk 127.0.0.1:2181 --root /myzoo --session-timeout 2000 --zk-auth-file /s/zk.auth "));
        assert!(line.contains("--log-file /s/agent-db2/agent.log"));
        assert!(line.contains("--node db2 --mysql-host 127.0.0.1 --mysql-port 4000 --mysql-user agent"));
        assert!(line.contains(
            "--mysql-password-file /s/agent-db2/password --interval 250 --http 127.0.0.1:9104 --heartbeat 600000"
        ));
        assert!(line.contains(
            "--backup-hosts 127.0.0.1:4000,127.0.0.1:4001 --backup-database myzoo_backup --backup-user backup \
             --backup-password-file /s/backup.password --backup-tls required"
        ));
        assert!(line.contains(
            "--zk-tls-ca /s/tls/ca.pem --zk-tls-cert /s/tls/client.pem --zk-tls-key /s/tls/client.key \
             --mysql-tls-ca /s/tls/ca.pem --mysql-tls-cert /s/tls/client.pem --mysql-tls-key /s/tls/client.key"
        ));
        assert!(!line.contains("--mysql-tls "), "the cluster config decides: {line}");
        assert!(process::cmdline_names_dir(&line, Path::new("/s")));
    }
}
