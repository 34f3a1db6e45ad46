//! `myzoo agent`: turns the flags, the profile and the password into an [`AgentConfig`] and runs
//! the agent service until SIGTERM/SIGINT (exit 0 after a clean shutdown).

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::agent::coordinator::CoordinatorConfig;
use crate::agent::publisher::PublisherConfig;
use crate::agent::AgentConfig;
use crate::backup::StoreAccess;
use crate::cli::{AgentArgs, ConsoleArgs};
use crate::cluster::ClusterPaths;
use crate::config::BackupStoreConfig;
use crate::failover::Access;
use crate::mysql::{MysqlTls, Target};
use crate::tls::{TlsMode, TlsOverrides};

/// Environment variable holding the MySQL password when no `--mysql-password-file` is given.
pub const PASSWORD_ENV: &str = "MYZOO_MYSQL_PASSWORD";
/// Log filter when `MYZOO_LOG` is not set: a daemon reports its state changes.
const DEFAULT_LOG_FILTER: &str = "info";

pub fn run(rt: &tokio::runtime::Runtime, zk: &ConsoleArgs, args: AgentArgs) -> Result<ExitCode> {
    // Without `--log-file`, info and above go to stderr (a service manager keeps them).
    match &zk.log_file {
        Some(path) => crate::logging::to_file(path)?,
        None => crate::logging::to_stderr_at(DEFAULT_LOG_FILTER),
    }
    let mut overrides = super::overrides(zk);
    overrides.mysql_tls = TlsOverrides {
        ca_file: args.mysql_tls_ca.clone(),
        cert_file: args.mysql_tls_cert.clone(),
        key_file: args.mysql_tls_key.clone(),
        no_verify_hostname: false,
    };
    let resolved = crate::config::resolve(&overrides)?;
    // This host's minimum, raised by the cluster config's `mysql.tls` once the agent reads it.
    let tls = match args.mysql_tls {
        Some(mode) => MysqlTls::new(super::tls_mode(mode), resolved.mysql_tls.clone()),
        None => MysqlTls::for_host(resolved.mysql_tls.clone()),
    };
    if let Some(files) = &tls.files {
        // A bad file is worth failing at start-up for, not at every probe.
        files.load().context("MySQL TLS")?;
    }
    let password = read_password(args.mysql_password_file.as_deref())?;
    let session_timeout = Duration::from_millis(resolved.session_timeout_ms);
    let lease = match args.fence_lease_ms {
        Some(0) => None,
        Some(ms) => Some(Duration::from_millis(ms)),
        None => Some(crate::agent::fence::default_lease(session_timeout)),
    };
    let paths = ClusterPaths::new(&resolved.root, &args.cluster);
    let backup = backup_store(&args, resolved.backup_store.as_ref(), &tls);
    let target =
        Target { host: args.mysql_host, port: args.mysql_port, user: args.mysql_user, password, tls: tls.clone() };
    let coordinator = (!args.no_coordinator).then(|| CoordinatorConfig {
        paths: paths.clone(),
        node: args.node.clone(),
        access: Access {
            user: target.user.clone(),
            password: target.password.clone(),
            repl_password: repl_password(args.repl_password_file.as_deref()),
            tls,
        },
        interval: Duration::from_millis(args.interval_ms),
        backup,
        zk: resolved.zk(),
    });
    let cfg = AgentConfig {
        publisher: PublisherConfig {
            zk: resolved.zk(),
            paths,
            node: args.node,
            heartbeat: Duration::from_millis(args.heartbeat_ms),
            coordinator,
        },
        target,
        interval: Duration::from_millis(args.interval_ms),
        lease,
        http: args.http,
    };
    rt.block_on(crate::agent::run_until_signal(cfg))?;
    Ok(ExitCode::SUCCESS)
}

/// The backup store for scheduled snapshots: the flags, else the profile's; a store that cannot
/// be used is a warning (the agent's main work does not depend on it).
fn backup_store(args: &AgentArgs, profile: Option<&BackupStoreConfig>, tls: &MysqlTls) -> Option<StoreAccess> {
    let mut config = if args.backup_hosts.is_empty() {
        profile.cloned()?
    } else {
        let Some(user) = args.backup_user.clone() else {
            tracing::warn!("--backup-hosts without --backup-user: no scheduled snapshots");
            return None;
        };
        BackupStoreConfig {
            hosts: args.backup_hosts.clone(),
            database: args.backup_database.clone(),
            user,
            password_file: args.backup_password_file.clone(),
            dump_dir: None,
            tls: TlsMode::Off,
            tls_files: None,
        }
    };
    if let Some(mode) = args.backup_tls {
        config.tls = super::tls_mode(mode);
    }
    config.tls_files = tls.files.clone();
    StoreAccess::from_config(&config).map_err(|e| tracing::warn!("backup store: {e:#}; no scheduled snapshots")).ok()
}

/// The replication password from the file's first line, else `$MYZOO_REPL_PASSWORD`; none (a
/// warning) when neither is readable: the coordinator then keeps servers' existing accounts.
fn repl_password(file: Option<&Path>) -> Option<String> {
    if let Some(path) = file {
        match std::fs::read_to_string(path) {
            Ok(text) => return Some(text.lines().next().unwrap_or_default().to_string()),
            Err(e) => tracing::warn!("reading the replication password file {}: {e}", path.display()),
        }
    }
    std::env::var(crate::config::REPL_PASSWORD_ENV).ok()
}

/// The password from the file's first line, else from [`PASSWORD_ENV`], else none.
fn read_password(file: Option<&Path>) -> Result<Option<String>> {
    if let Some(path) = file {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading the password file {}", path.display()))?;
        return Ok(Some(text.lines().next().unwrap_or_default().to_string()));
    }
    Ok(std::env::var(PASSWORD_ENV).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_file_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "s3cret\nignored\n").unwrap();
        assert_eq!(read_password(Some(&path)).unwrap().as_deref(), Some("s3cret"));
        assert!(read_password(Some(&dir.path().join("missing"))).is_err());
    }
}
