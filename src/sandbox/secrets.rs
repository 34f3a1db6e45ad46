//! The sandbox's MariaDB accounts and their random passwords, kept in `<state>/secrets.json`
//! (mode 0600). Passwords never go to logs, errors, ZooKeeper or `Debug` output.

use std::fmt;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// File name of the credentials in the state folder.
pub const SECRETS_FILE: &str = "secrets.json";
/// Password length in characters (alphanumeric: ~143 bits, and nothing to escape in SQL).
const PASSWORD_LEN: usize = 24;
const PASSWORD_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// One MariaDB account.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct Account {
    pub user: String,
    pub password: String,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account").field("user", &self.user).field("password", &"<redacted>").finish()
    }
}

/// The accounts `up` creates on every server (`@'127.0.0.1'` and `@'localhost'`).
/// `root` keeps its empty password and only accepts loopback connections.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Credentials {
    /// REPLICATION SLAVE: what the replicas connect as.
    pub repl: Account,
    /// Read-only probing: PROCESS, REPLICATION CLIENT, SLAVE MONITOR, SELECT (what agents use).
    pub monitor: Account,
    /// ALL PRIVILEGES WITH GRANT OPTION: for humans at a `mariadb` prompt, never for myzoo.
    pub admin: Account,
    /// What `myzoo agent` runs as, and what switchover, failover and rejoin connect as from the
    /// CLI, the console or the coordinator: the monitoring privileges, its own `myzoo.*` tables,
    /// and exactly what fencing and promoting need (see `mariadb::AGENT_OPERATION_PRIVILEGES`).
    /// That includes `READ_ONLY ADMIN`, so this account *can* write through `read_only`: myzoo's
    /// own writes guard themselves (the heartbeat checks `@@global.read_only` in its statement).
    pub agent: Account,
    /// What applications (and the tests' writers) use: data privileges on `app.*` only, no
    /// `READ_ONLY ADMIN` or `SUPER`, so `read_only` really stops it — which is what fencing
    /// relies on.
    pub app: Account,
    /// What `myzoo zk-backup` and `myzoo mysql-backup` connect as: everything on the backup
    /// store's database, and what a consistent dump reads (see `mariadb::BACKUP_DUMP_PRIVILEGES`).
    /// No `READ_ONLY ADMIN` or `SUPER`: a store write aimed at a replica by mistake is refused
    /// by `read_only` instead of becoming an errant transaction.
    pub backup: Account,
}

impl Credentials {
    /// Fresh random passwords.
    pub fn generate() -> Result<Credentials> {
        Ok(Credentials {
            repl: account("repl")?,
            monitor: account("monitor")?,
            admin: account("admin")?,
            agent: account("agent")?,
            app: account("app")?,
            backup: account("backup")?,
        })
    }
}

fn account(user: &str) -> Result<Account> {
    Ok(Account { user: user.to_string(), password: random_password()? })
}

/// `PASSWORD_LEN` characters from the kernel's random source, without modulo bias.
pub(crate) fn random_password() -> Result<String> {
    let mut file = std::fs::File::open("/dev/urandom").context("opening /dev/urandom")?;
    let mut out = String::with_capacity(PASSWORD_LEN);
    let mut buf = [0u8; 64];
    while out.len() < PASSWORD_LEN {
        file.read_exact(&mut buf).context("reading /dev/urandom")?;
        out.extend(password_chars(&buf).take(PASSWORD_LEN - out.len()).map(char::from));
    }
    Ok(out)
}

/// Maps random bytes to the alphabet, dropping the bytes that would bias it.
fn password_chars(bytes: &[u8]) -> impl Iterator<Item = u8> + '_ {
    let n = PASSWORD_ALPHABET.len();
    let limit = 256 - 256 % n;
    bytes.iter().filter(move |&&b| usize::from(b) < limit).map(move |&b| PASSWORD_ALPHABET[usize::from(b) % n])
}

pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(SECRETS_FILE)
}

/// Writes the credentials with mode 0600, replacing any older file.
pub fn save(state_dir: &Path, creds: &Credentials) -> Result<()> {
    let path = path(state_dir);
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("removing {}", path.display())),
    }
    let text = serde_json::to_string_pretty(creds)?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Reads the credentials `up` stored in `state_dir`.
pub fn load(state_dir: &Path) -> Result<Credentials> {
    let path = path(state_dir);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading {} (was the sandbox started with MariaDB?)", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn passwords_are_long_alphanumeric_and_differ() {
        let a = random_password().unwrap();
        let b = random_password().unwrap();
        assert_eq!(a.len(), PASSWORD_LEN);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    #[test]
    fn biased_bytes_are_dropped() {
        let chars: Vec<u8> = password_chars(&[0, 61, 62, 247, 248, 255]).collect();
        assert_eq!(chars, b"A9A9".to_vec());
    }

    #[test]
    fn debug_hides_passwords() {
        let creds = Credentials::generate().unwrap();
        let text = format!("{creds:?}");
        assert!(!text.contains(&creds.admin.password));
        assert!(text.contains("redacted"));
    }

    #[test]
    fn saved_file_is_private_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let creds = Credentials::generate().unwrap();
        save(dir.path(), &creds).unwrap();
        save(dir.path(), &creds).unwrap();
        let mode = std::fs::metadata(path(dir.path())).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(load(dir.path()).unwrap(), creds);
    }
}
