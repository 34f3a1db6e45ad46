//! Connection profiles and well-known folders: the TOML config file in the XDG config folder.
//!
//! ```toml
//! default_profile = "sandbox"
//! [profiles.sandbox]
//! zk = "127.0.0.1:2181"
//! root = "/myzoo"
//! session_timeout_ms = 10000
//! read_only = false
//! theme = "dark"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// Environment variable that points at another config file (tests use it).
pub const CONFIG_ENV: &str = "MYZOO_CONFIG";
/// Default root of myzoo's znodes.
pub const DEFAULT_ROOT: &str = "/myzoo";
/// Default ZooKeeper session timeout.
pub const DEFAULT_SESSION_TIMEOUT_MS: u64 = 10_000;
/// Name of the profile `myzoo sandbox up` writes.
pub const SANDBOX_PROFILE: &str = "sandbox";

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
    #[serde(default)]
    pub read_only: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
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
            read_only: false,
            theme: None,
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
pub fn write_sandbox_profile(zk: &str) -> Result<PathBuf> {
    let path = config_path();
    let mut cfg = ConfigFile::load(&path)?;
    cfg.profiles.insert(SANDBOX_PROFILE.to_string(), Profile::new(zk));
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
    pub read_only: bool,
    pub theme: Option<String>,
    /// Key overrides from the config file.
    pub keys: BTreeMap<String, Vec<String>>,
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
    pub root: Option<String>,
    /// Only ever turns read-only on: a profile's `read_only = true` cannot be undone from here.
    pub read_only: bool,
    pub theme: Option<String>,
    /// Where the console or the agent logs (each has its own default).
    pub log_file: Option<PathBuf>,
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
    Ok(Resolved {
        label,
        connect,
        root: args.root.clone().or_else(|| p.as_ref().map(|p| p.root.clone())).unwrap_or_else(default_root),
        session_timeout_ms: args
            .session_timeout_ms
            .or_else(|| p.as_ref().map(|p| p.session_timeout_ms))
            .unwrap_or(DEFAULT_SESSION_TIMEOUT_MS),
        read_only: args.read_only || p.as_ref().is_some_and(|p| p.read_only),
        theme: args.theme.clone().or_else(|| p.as_ref().and_then(|p| p.theme.clone())),
        keys: cfg.keys,
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
    fn unknown_fields_are_rejected() {
        let text = "[profiles.a]\nzk = \"x\"\nzookeeper = \"typo\"\n";
        assert!(toml::from_str::<ConfigFile>(text).is_err());
    }
}
