//! Connection profiles and well-known folders: the TOML config file in the XDG config folder.
//!
//! ```toml
//! default_profile = "sandbox"
//! [profiles.sandbox]
//! zk = "127.0.0.1:2181"
//! root = "/myzoo"
//! session_timeout_ms = 10000
//! # a file holding the ZooKeeper digest credential `user:password` (see `zk_credential`)
//! zk_auth_file = "/home/me/.local/state/myzoo/sandbox/zk.auth"
//! read_only = false
//! theme = "dark"
//! # the account switchover, failover and rejoin connect as (see `operation_credentials`)
//! mysql_user = "agent"
//! mysql_password_file = "/home/me/.local/state/myzoo/sandbox/agent.password"
//! repl_password_file = "/home/me/.local/state/myzoo/sandbox/repl.password"
//! # where `myzoo zk-backup` and `myzoo mysql-backup` keep their records (see `backup::store`)
//! [profiles.sandbox.backup_store]
//! hosts = ["127.0.0.1:3306", "127.0.0.1:3307", "127.0.0.1:3308"]
//! database = "myzoo_backup"
//! user = "backup"
//! password_file = "/home/me/.local/state/myzoo/sandbox/backup.password"
//! tls = "required"                     # off (default) | preferred | required
//! # how the ensemble screen and `myzoo zk ensemble` ask the members (see `zk::ensemble`)
//! [profiles.sandbox.ensemble]
//! four_letter_words = true
//! admin_port = 8080                                  # every member's AdminServer, or per member:
//! admin_servers = { "127.0.0.1:2181" = "127.0.0.1:8080" }
//! # TLS to ZooKeeper (see `zk::access`): a CA, and a client certificate when the servers want one
//! [profiles.sandbox.zk_tls]
//! ca_file = "/home/me/.local/state/myzoo/sandbox/tls/ca.pem"
//! cert_file = "/home/me/.local/state/myzoo/sandbox/tls/client.pem"
//! key_file = "/home/me/.local/state/myzoo/sandbox/tls/client.key"
//! verify_hostname = true               # the default; false is logged as a warning
//! # this host's files for TLS to MySQL; whether TLS is used is each cluster's `mysql.tls`
//! [profiles.sandbox.mysql_tls]
//! ca_file = "/home/me/.local/state/myzoo/sandbox/tls/ca.pem"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::tls::{TlsFiles, TlsMode, TlsOverrides};
use crate::zk::ensemble::EnsembleOptions;

/// Environment variable that points at another config file (tests use it).
pub const CONFIG_ENV: &str = "MYZOO_CONFIG";
/// Default root of myzoo's znodes.
pub const DEFAULT_ROOT: &str = "/myzoo";
/// Default ZooKeeper session timeout.
pub const DEFAULT_SESSION_TIMEOUT_MS: u64 = 10_000;
/// Name of the profile `myzoo sandbox up` writes.
pub const SANDBOX_PROFILE: &str = "sandbox";
/// The operations account when neither the profile nor the caller names one.
pub const MYSQL_USER_ENV: &str = "MYZOO_MYSQL_USER";
/// The operations account's password; wins over `mysql_password_file`.
pub const MYSQL_PASSWORD_ENV: &str = "MYZOO_MYSQL_PASSWORD";
/// The replication account's password; wins over `repl_password_file`.
pub const REPL_PASSWORD_ENV: &str = "MYZOO_REPL_PASSWORD";
/// The backup store account's password; wins over the store's `password_file`.
pub const BACKUP_PASSWORD_ENV: &str = "MYZOO_BACKUP_PASSWORD";
/// The backup store's database when the profile does not name one.
pub const DEFAULT_BACKUP_DATABASE: &str = "myzoo_backup";
/// Permission bits that let anyone on the machine read a file.
const WORLD_READABLE_MODE: u32 = 0o004;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_profile: Option<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
    /// Key overrides: `action-name = ["key", …]` (see `console::keymap`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub keys: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// ZooKeeper connect string: `host:port[,host:port…][/chroot]`.
    pub zk: String,
    #[serde(default = "default_root")]
    pub root: String,
    #[serde(default = "default_session_timeout_ms")]
    pub session_timeout_ms: u64,
    /// A file holding the ZooKeeper digest credential (`user:password`, first line): the
    /// credential never goes into this file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zk_auth_file: Option<PathBuf>,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
    /// The MySQL account switchover, failover and rejoin connect as (see [`MysqlAccess`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mysql_user: Option<String>,
    /// A file holding that account's password: passwords never go into this file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mysql_password_file: Option<PathBuf>,
    /// A file holding the replication account's password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repl_password_file: Option<PathBuf>,
    /// Where backups are kept (see [`BackupStoreConfig`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_store: Option<BackupStoreConfig>,
    /// How the ensemble's members are asked (four-letter words, AdminServer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ensemble: Option<EnsembleOptions>,
    /// TLS to ZooKeeper: a CA file turns it on for every server of `zk` (see `zk::access`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zk_tls: Option<TlsFiles>,
    /// This host's files for TLS to MySQL (whether it is used is each cluster's `mysql.tls`,
    /// or the backup store's `tls`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mysql_tls: Option<TlsFiles>,
}

/// The backup store: a MySQL database that holds snapshots of the ZooKeeper tree and the record
/// of MySQL dumps. Its address is in the profile, never in ZooKeeper, so that a restore works
/// when the ensemble is gone. By default it lists the cluster's own servers: writes go to the
/// one that is writable (the primary), so replication copies every snapshot to the replicas;
/// reads take any server that answers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BackupStoreConfig {
    /// `host:port` of each server that may hold the store, in order of preference.
    pub hosts: Vec<String>,
    #[serde(default = "default_backup_database")]
    pub database: String,
    pub user: String,
    /// A file holding the account's password (`$MYZOO_BACKUP_PASSWORD` wins over it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// Where `myzoo mysql-backup create` writes dumps when `--out` is not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dump_dir: Option<PathBuf>,
    /// TLS to the store's servers, with the profile's `mysql_tls` files. The store is found
    /// without ZooKeeper, so no cluster config can say it.
    #[serde(default, skip_serializing_if = "TlsMode::is_off")]
    pub tls: TlsMode,
    /// This host's TLS files for the store: the profile's `mysql_tls`, filled in by [`resolve`]
    /// (not a field of this section: the files are named once per profile).
    #[serde(skip)]
    pub tls_files: Option<TlsFiles>,
}

fn default_backup_database() -> String {
    DEFAULT_BACKUP_DATABASE.to_string()
}

impl BackupStoreConfig {
    /// The store account's password: `$MYZOO_BACKUP_PASSWORD`, else the password file, else none.
    pub fn password(&self) -> Result<Option<String>> {
        self.password_from(|name| std::env::var(name).ok())
    }

    fn password_from(&self, env: impl Fn(&str) -> Option<String>) -> Result<Option<String>> {
        match env(BACKUP_PASSWORD_ENV) {
            Some(p) => Ok(Some(p)),
            None => self.password_file.as_deref().map(read_password_file).transpose(),
        }
    }
}

fn default_root() -> String {
    DEFAULT_ROOT.to_string()
}

fn default_session_timeout_ms() -> u64 {
    DEFAULT_SESSION_TIMEOUT_MS
}

impl Profile {
    pub fn new(zk: impl Into<String>) -> Self {
        Profile {
            zk: zk.into(),
            root: default_root(),
            session_timeout_ms: DEFAULT_SESSION_TIMEOUT_MS,
            zk_auth_file: None,
            read_only: false,
            theme: None,
            mysql_user: None,
            mysql_password_file: None,
            repl_password_file: None,
            backup_store: None,
            ensemble: None,
            zk_tls: None,
            mysql_tls: None,
        }
    }
}

/// `$MYZOO_CONFIG`, else `$XDG_CONFIG_HOME/myzoo/config.toml`.
pub fn config_path() -> PathBuf {
    if let Some(p) = std::env::var_os(CONFIG_ENV) {
        return PathBuf::from(p);
    }
    dirs::config_dir().unwrap_or_else(|| PathBuf::from(".config")).join("myzoo").join("config.toml")
}

/// `$XDG_STATE_HOME/myzoo` (falls back to `~/.local/state/myzoo`): logs, drafts, the sandbox.
pub fn state_dir() -> PathBuf {
    dirs::state_dir()
        .or_else(|| dirs::home_dir().map(|h| h.join(".local").join("state")))
        .unwrap_or_else(std::env::temp_dir)
        .join("myzoo")
}

impl ConfigFile {
    /// Reads the file; a missing file is an empty config, a malformed one is an error naming it.
    pub fn load(path: &Path) -> Result<ConfigFile> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).with_context(|| format!("config file {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ConfigFile::default()),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let text = toml::to_string_pretty(self)?;
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }

    /// The named profile, else the default one, else the only one.
    pub fn profile(&self, name: Option<&str>) -> Result<Option<(String, Profile)>> {
        let wanted = name.map(str::to_string).or_else(|| self.default_profile.clone());
        match wanted {
            Some(n) => match self.profiles.get(&n) {
                Some(p) => Ok(Some((n, p.clone()))),
                None => anyhow::bail!("no profile named {n:?} in {}", config_path().display()),
            },
            None if self.profiles.len() == 1 => Ok(self.profiles.iter().next().map(|(n, p)| (n.clone(), p.clone()))),
            None => Ok(None),
        }
    }
}

/// Writes (or replaces) the sandbox profile and makes it the default, keeping other profiles.
/// `zk_auth_file` names the file holding the sandbox's ZooKeeper credential, `mysql` its
/// operations account and its password files (empty without MariaDB), `backup_store` its backup
/// store (`None` without MariaDB), `ensemble` where its members' AdminServers are.
/// `tls` holds the sandbox's client files for ZooKeeper and MySQL (`None` without `--tls`).
pub fn write_sandbox_profile(
    zk: &str,
    zk_auth_file: Option<&Path>,
    mysql: &MysqlAccess,
    backup_store: Option<BackupStoreConfig>,
    ensemble: Option<EnsembleOptions>,
    tls: Option<(TlsFiles, TlsFiles)>,
) -> Result<PathBuf> {
    let path = config_path();
    let mut cfg = ConfigFile::load(&path)?;
    let (zk_tls, mysql_tls) = tls.unzip();
    let profile = Profile {
        zk_auth_file: zk_auth_file.map(Path::to_path_buf),
        mysql_user: mysql.user.clone(),
        mysql_password_file: mysql.password_file.clone(),
        repl_password_file: mysql.repl_password_file.clone(),
        backup_store,
        ensemble,
        zk_tls,
        mysql_tls,
        ..Profile::new(zk)
    };
    cfg.profiles.insert(SANDBOX_PROFILE.to_string(), profile);
    cfg.default_profile = Some(SANDBOX_PROFILE.to_string());
    cfg.save(&path)?;
    Ok(path)
}

/// Where to connect and how, after flags, environment and profile have been combined.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// What the header shows: `profile (connect string)` or the connect string.
    pub label: String,
    pub connect: String,
    pub root: String,
    pub session_timeout_ms: u64,
    /// The ZooKeeper digest credential every session authenticates with (see [`zk_credential`]).
    pub zk_auth: Option<crate::zk::ZkCredential>,
    pub read_only: bool,
    pub theme: Option<String>,
    /// Key overrides from the config file.
    pub keys: BTreeMap<String, Vec<String>>,
    /// How operations reach MySQL (turned into credentials by [`operation_credentials`]).
    pub mysql: MysqlAccess,
    /// Where backups are kept; `None` when the profile names no store.
    pub backup_store: Option<BackupStoreConfig>,
    /// How the ensemble's members are asked (the defaults without a profile section).
    pub ensemble: EnsembleOptions,
    /// TLS to ZooKeeper (profile's `zk_tls` under the `--zk-tls-*` flags); `None`: plain.
    pub zk_tls: Option<TlsFiles>,
    /// This host's files for TLS to MySQL (profile's `mysql_tls` under the flags).
    pub mysql_tls: Option<TlsFiles>,
}

impl Resolved {
    /// How this profile reaches ZooKeeper.
    pub fn zk(&self) -> crate::zk::ZkAccess {
        crate::zk::ZkAccess::new(self.connect.clone(), std::time::Duration::from_millis(self.session_timeout_ms))
            .with_auth(self.zk_auth.clone())
            .with_tls(self.zk_tls.clone())
    }
}

/// Where switchover, failover and rejoin find their MySQL account: a user and files holding
/// passwords, never the passwords themselves (they would end up in shell history and `ps`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MysqlAccess {
    pub user: Option<String>,
    pub password_file: Option<PathBuf>,
    pub repl_password_file: Option<PathBuf>,
    /// This host's TLS files for MySQL (the profile's `mysql_tls`; [`resolve`] fills it in).
    pub tls: Option<TlsFiles>,
}

impl MysqlAccess {
    /// `self`'s fields where set, else `base`'s: overrides win field by field.
    fn over(&self, base: MysqlAccess) -> MysqlAccess {
        MysqlAccess {
            user: self.user.clone().or(base.user),
            password_file: self.password_file.clone().or(base.password_file),
            repl_password_file: self.repl_password_file.clone().or(base.repl_password_file),
            tls: self.tls.clone().or(base.tls),
        }
    }
}

/// The account an operation connects as, and the replication account's, with their passwords.
#[derive(Clone, PartialEq)]
pub struct OperationCredentials {
    pub user: String,
    pub password: Option<String>,
    pub repl_user: String,
    pub repl_password: Option<String>,
}

impl std::fmt::Debug for OperationCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redact = |p: &Option<String>| if p.is_some() { "<redacted>" } else { "<none>" };
        f.debug_struct("OperationCredentials")
            .field("user", &self.user)
            .field("password", &redact(&self.password))
            .field("repl_user", &self.repl_user)
            .field("repl_password", &redact(&self.repl_password))
            .finish()
    }
}

/// The account switchover/failover/rejoin connect as, and the replication account's password
/// (for pointing a server that never replicated at a new primary). Passwords: `$MYZOO_MYSQL_PASSWORD`
/// / `$MYZOO_REPL_PASSWORD` win over the files; never from the command line.
///
/// The user is the configured one, else `$MYZOO_MYSQL_USER`; there is no built-in default, so
/// that an operation never runs as an account nobody chose. `repl_user` comes from the
/// cluster's config (`replication.user`).
pub fn operation_credentials(access: &MysqlAccess, repl_user: &str) -> Result<OperationCredentials> {
    operation_credentials_from(access, repl_user, |name| std::env::var(name).ok())
}

/// [`operation_credentials`] with the environment passed in, so tests need not change the
/// process's (which other tests read at the same time).
fn operation_credentials_from(
    access: &MysqlAccess,
    repl_user: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<OperationCredentials> {
    let user = access.user.clone().filter(|u| !u.is_empty()).or_else(|| env(MYSQL_USER_ENV).filter(|u| !u.is_empty()));
    let user = user.context("no MySQL account for operations: set mysql_user in the profile or pass --mysql-user")?;
    let password = match env(MYSQL_PASSWORD_ENV) {
        Some(p) => Some(p),
        None => access.password_file.as_deref().map(read_password_file).transpose()?,
    };
    let repl_password = match env(REPL_PASSWORD_ENV) {
        Some(p) => Some(p),
        None => access.repl_password_file.as_deref().map(read_password_file).transpose()?,
    };
    Ok(OperationCredentials { user, password, repl_user: repl_user.to_string(), repl_password })
}

/// The ZooKeeper digest credential: the file named by `--zk-auth-file`, else `$MYZOO_ZK_AUTH`
/// (`user:password`), else the profile's `zk_auth_file`, else none (anonymous). Never from the
/// command line: a flag names a file, not the secret. Errors never quote the secret.
pub fn zk_credential(flag_file: Option<&Path>, profile_file: Option<&Path>) -> Result<Option<crate::zk::ZkCredential>> {
    zk_credential_from(flag_file, profile_file, |name| std::env::var(name).ok())
}

fn zk_credential_from(
    flag_file: Option<&Path>,
    profile_file: Option<&Path>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<crate::zk::ZkCredential>> {
    use crate::zk::auth::ZK_AUTH_ENV;
    use crate::zk::ZkCredential;
    let from_file = |path: &Path| -> Result<ZkCredential> {
        let text = read_password_file(path)?;
        let first = text.lines().next().unwrap_or_default();
        ZkCredential::parse(first).with_context(|| format!("the ZooKeeper credential file {}", path.display()))
    };
    if let Some(path) = flag_file {
        return from_file(path).map(Some);
    }
    if let Some(text) = env(ZK_AUTH_ENV).filter(|t| !t.is_empty()) {
        return ZkCredential::parse(&text).map(Some).with_context(|| format!("${ZK_AUTH_ENV}"));
    }
    profile_file.map(from_file).transpose()
}

/// A password file's text without its trailing line break. A file others can read is used but
/// warned about: refusing it would stop a failover at the worst moment.
pub(crate) fn read_password_file(path: &Path) -> Result<String> {
    use std::os::unix::fs::PermissionsExt;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading the password file {}", path.display()))?;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & WORLD_READABLE_MODE != 0 {
            tracing::warn!("the password file {} is readable by anyone: chmod 600 it", path.display());
        }
    }
    Ok(text.trim_end_matches(['\n', '\r']).to_string())
}

/// What a caller (the command line, a test) sets over the config file; `None` and `false` leave
/// the profile's value. Built by the front end, so this module never depends on the command line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// ZooKeeper connect string; replaces the profile's (and its name in the label).
    pub zk: Option<String>,
    /// Profile to use instead of the default one.
    pub profile: Option<String>,
    pub session_timeout_ms: Option<u64>,
    /// A file holding the ZooKeeper credential; wins over `$MYZOO_ZK_AUTH` and the profile's.
    pub zk_auth_file: Option<PathBuf>,
    pub root: Option<String>,
    /// Only ever turns read-only on: a profile's `read_only = true` cannot be undone from here.
    pub read_only: bool,
    pub theme: Option<String>,
    /// Where the console or the agent logs (each has its own default).
    pub log_file: Option<PathBuf>,
    /// The operations account; each field set here wins over the profile's.
    pub mysql: MysqlAccess,
    /// TLS files for ZooKeeper (`--zk-tls-ca` …), each over the profile's `zk_tls`.
    pub zk_tls: TlsOverrides,
    /// TLS files for MySQL (the agent's `--mysql-tls-ca` …), each over the profile's `mysql_tls`.
    pub mysql_tls: TlsOverrides,
}

/// Combines the overrides (`--zk`/`--profile`/`--root`/`--session-timeout`/`--read-only`/`--theme`)
/// with the config file: overrides win over the profile, the profile over defaults.
pub fn resolve(args: &Overrides) -> Result<Resolved> {
    let path = config_path();
    let cfg = ConfigFile::load(&path)?;
    let profile = cfg.profile(args.profile.as_deref())?;
    let (label, connect, p) = match (&args.zk, profile) {
        (Some(zk), _) => (zk.clone(), zk.clone(), None),
        (None, Some((name, p))) => (format!("{name} ({})", p.zk), p.zk.clone(), Some(p)),
        (None, None) => anyhow::bail!(
            "no ZooKeeper to connect to: pass --zk HOST:PORT, add a profile to {}, or run `myzoo sandbox up`",
            path.display()
        ),
    };
    let zk_auth = zk_credential(args.zk_auth_file.as_deref(), p.as_ref().and_then(|p| p.zk_auth_file.as_deref()))?;
    let mysql_tls = args.mysql_tls.over(p.as_ref().and_then(|p| p.mysql_tls.clone()));
    Ok(Resolved {
        label,
        connect,
        zk_auth,
        root: args.root.clone().or_else(|| p.as_ref().map(|p| p.root.clone())).unwrap_or_else(default_root),
        session_timeout_ms: args
            .session_timeout_ms
            .or_else(|| p.as_ref().map(|p| p.session_timeout_ms))
            .unwrap_or(DEFAULT_SESSION_TIMEOUT_MS),
        read_only: args.read_only || p.as_ref().is_some_and(|p| p.read_only),
        theme: args.theme.clone().or_else(|| p.as_ref().and_then(|p| p.theme.clone())),
        keys: cfg.keys,
        backup_store: p
            .as_ref()
            .and_then(|p| p.backup_store.clone())
            .map(|store| BackupStoreConfig { tls_files: mysql_tls.clone(), ..store }),
        ensemble: p.as_ref().and_then(|p| p.ensemble.clone()).unwrap_or_default(),
        zk_tls: args.zk_tls.over(p.as_ref().and_then(|p| p.zk_tls.clone())),
        mysql: args.mysql.over(MysqlAccess {
            tls: mysql_tls.clone(),
            ..p.map(|p| MysqlAccess {
                user: p.mysql_user,
                password_file: p.mysql_password_file,
                repl_password_file: p.repl_password_file,
                tls: None,
            })
            .unwrap_or_default()
        }),
        mysql_tls: mysql_tls.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_round_trip_and_defaults() {
        let text = "default_profile = \"a\"\n[profiles.a]\nzk = \"127.0.0.1:1/x\"\n";
        let cfg: ConfigFile = toml::from_str(text).unwrap();
        let (name, p) = cfg.profile(None).unwrap().unwrap();
        assert_eq!(name, "a");
        assert_eq!(p.root, "/myzoo");
        assert_eq!(p.session_timeout_ms, DEFAULT_SESSION_TIMEOUT_MS);
        assert!(cfg.profile(Some("missing")).is_err());
    }

    #[test]
    fn mysql_access_fields_round_trip_and_overrides_win_field_by_field() {
        let text = "[profiles.a]\nzk = \"x\"\nmysql_user = \"agent\"\nmysql_password_file = \"/s/agent.password\"\n\
                    repl_password_file = \"/s/repl.password\"\n";
        let cfg: ConfigFile = toml::from_str(text).unwrap();
        let p = &cfg.profiles["a"];
        assert_eq!(p.mysql_user.as_deref(), Some("agent"));
        assert_eq!(p.repl_password_file.as_deref(), Some(Path::new("/s/repl.password")));
        let back: ConfigFile = toml::from_str(&toml::to_string_pretty(&cfg).unwrap()).unwrap();
        assert_eq!(back, cfg);
        // Fields a profile does not set are not written.
        assert!(!toml::to_string_pretty(&Profile::new("x")).unwrap().contains("mysql"));

        let profile = MysqlAccess {
            user: Some("agent".into()),
            password_file: Some("/s/agent.password".into()),
            repl_password_file: Some("/s/repl.password".into()),
            tls: None,
        };
        let over = MysqlAccess { user: Some("ops".into()), ..MysqlAccess::default() };
        let merged = over.over(profile.clone());
        assert_eq!(merged.user.as_deref(), Some("ops"));
        assert_eq!(merged.password_file, profile.password_file);
        assert_eq!(merged.repl_password_file, profile.repl_password_file);
        assert_eq!(MysqlAccess::default().over(profile.clone()), profile);
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn operation_credentials_read_password_files() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("agent.password");
        let repl = dir.path().join("repl.password");
        std::fs::write(&pw, "s3cret\n").unwrap();
        std::fs::write(&repl, "r3pl\r\n").unwrap();
        std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o600)).unwrap();
        let access = MysqlAccess {
            user: Some("agent".into()),
            password_file: Some(pw),
            repl_password_file: Some(repl),
            tls: None,
        };
        let creds = operation_credentials_from(&access, "repl", no_env).unwrap();
        assert_eq!(creds.user, "agent");
        assert_eq!(creds.password.as_deref(), Some("s3cret"));
        assert_eq!(creds.repl_user, "repl");
        assert_eq!(creds.repl_password.as_deref(), Some("r3pl"));
        let shown = format!("{creds:?}");
        assert!(!shown.contains("s3cret") && !shown.contains("r3pl") && shown.contains("<redacted>"), "{shown}");

        // No files: no passwords (a passwordless account is allowed), not an error.
        let bare = MysqlAccess { user: Some("agent".into()), ..MysqlAccess::default() };
        let creds = operation_credentials_from(&bare, "repl", no_env).unwrap();
        assert_eq!((creds.password, creds.repl_password), (None, None));
        // A file named but missing is an error naming it.
        let missing = MysqlAccess { password_file: Some(dir.path().join("nope")), ..bare };
        let err = operation_credentials_from(&missing, "repl", no_env).unwrap_err();
        assert!(format!("{err:#}").contains("nope"), "{err:#}");
    }

    #[test]
    fn operation_credentials_environment_and_missing_user() {
        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("pw");
        std::fs::write(&pw, "from-file\n").unwrap();
        let env = |name: &str| match name {
            MYSQL_USER_ENV => Some("env-user".to_string()),
            MYSQL_PASSWORD_ENV => Some("from-env".to_string()),
            _ => None,
        };
        // The environment's password wins over the file; a configured user over the environment's.
        let access = MysqlAccess {
            user: Some("agent".into()),
            password_file: Some(pw.clone()),
            repl_password_file: None,
            tls: None,
        };
        let creds = operation_credentials_from(&access, "repl", env).unwrap();
        assert_eq!((creds.user.as_str(), creds.password.as_deref()), ("agent", Some("from-env")));
        // Without a configured user, $MYZOO_MYSQL_USER is used …
        let unnamed = MysqlAccess { user: None, ..access };
        assert_eq!(operation_credentials_from(&unnamed, "repl", env).unwrap().user, "env-user");
        // … and without either, there is no default.
        let err = operation_credentials_from(&unnamed, "repl", no_env).unwrap_err().to_string();
        assert!(err.contains("no MySQL account for operations") && err.contains("mysql_user"), "{err}");
    }

    #[test]
    fn backup_store_section_defaults_and_password() {
        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("backup.password");
        std::fs::write(&pw, "b4ckup\n").unwrap();
        let text = format!(
            "[profiles.a]\nzk = \"x\"\n[profiles.a.backup_store]\nhosts = [\"127.0.0.1:3306\"]\nuser = \"backup\"\n\
             password_file = {:?}\n",
            pw.display().to_string()
        );
        let cfg: ConfigFile = toml::from_str(&text).unwrap();
        let store = cfg.profiles["a"].backup_store.clone().unwrap();
        assert_eq!(store.database, DEFAULT_BACKUP_DATABASE);
        assert_eq!(store.hosts, vec!["127.0.0.1:3306".to_string()]);
        assert_eq!(store.password_from(no_env).unwrap().as_deref(), Some("b4ckup"));
        let env = |name: &str| (name == BACKUP_PASSWORD_ENV).then(|| "from-env".to_string());
        assert_eq!(store.password_from(env).unwrap().as_deref(), Some("from-env"));
        let back: ConfigFile = toml::from_str(&toml::to_string_pretty(&cfg).unwrap()).unwrap();
        assert_eq!(back, cfg);
        assert!(toml::from_str::<ConfigFile>(
            "[profiles.a]\nzk = \"x\"\n[profiles.a.backup_store]\nhosts = []\nuser = \"b\"\npasword = 1\n"
        )
        .is_err());
    }

    #[test]
    fn zk_credential_flag_file_then_environment_then_profile() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let flag = dir.path().join("flag.auth");
        let profile = dir.path().join("profile.auth");
        std::fs::write(&flag, "ops:fl4g\n").unwrap();
        std::fs::write(&profile, "myzoo:pr0file\nignored\n").unwrap();
        std::fs::set_permissions(&flag, std::fs::Permissions::from_mode(0o600)).unwrap();
        let env = |name: &str| (name == crate::zk::auth::ZK_AUTH_ENV).then(|| "envuser:env".to_string());
        let user = |c: Option<crate::zk::ZkCredential>| c.map(|c| c.user().to_string());
        assert_eq!(user(zk_credential_from(Some(&flag), Some(&profile), env).unwrap()).as_deref(), Some("ops"));
        assert_eq!(user(zk_credential_from(None, Some(&profile), env).unwrap()).as_deref(), Some("envuser"));
        assert_eq!(user(zk_credential_from(None, Some(&profile), no_env).unwrap()).as_deref(), Some("myzoo"));
        assert_eq!(zk_credential_from(None, None, no_env).unwrap(), None);
        // A malformed file names the file and never quotes what it holds.
        std::fs::write(&profile, "justapassword\n").unwrap();
        let err = format!("{:#}", zk_credential_from(None, Some(&profile), no_env).unwrap_err());
        assert!(
            err.contains("profile.auth") && err.contains("user:password") && !err.contains("justapassword"),
            "{err}"
        );
        let missing = format!("{:#}", zk_credential_from(Some(&dir.path().join("nope")), None, no_env).unwrap_err());
        assert!(missing.contains("nope"), "{missing}");
        let bad_env = |_: &str| Some("nocolon".to_string());
        let err = format!("{:#}", zk_credential_from(None, None, bad_env).unwrap_err());
        assert!(err.contains("MYZOO_ZK_AUTH") && !err.contains("nocolon"), "{err}");
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let text = "[profiles.a]\nzk = \"x\"\nzookeeper = \"typo\"\n";
        assert!(toml::from_str::<ConfigFile>(text).is_err());
    }
}
