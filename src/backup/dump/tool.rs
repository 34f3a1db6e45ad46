//! The dump and client programs and their command lines, per flavour (the only place that
//! knows them). Passwords never go on a command line (`ps` shows it to everyone): the child
//! gets them in `MYSQL_PWD`, which only its own user can read.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::cluster::status::Flavor;
use crate::mysql::MysqlTls;
use crate::tls::TlsMode;

/// Environment variable naming the dump program (a path, or a name searched on `PATH`).
pub const DUMP_TOOL_ENV: &str = "MYZOO_DUMP_TOOL";
/// Environment variable naming the client that loads a dump (`verify`).
pub const CLIENT_TOOL_ENV: &str = "MYZOO_MYSQL_CLIENT";
/// Where the child finds its password.
pub const PASSWORD_ENV: &str = "MYSQL_PWD";

/// The dump program: `configured` (the options' field), else `$MYZOO_DUMP_TOOL`, else the
/// flavour's on `PATH` (`mariadb-dump`, then `mysqldump`).
pub fn dump_tool(configured: Option<&Path>, flavor: Flavor) -> Result<PathBuf> {
    let names: &[&str] = match flavor {
        Flavor::Mariadb => &["mariadb-dump", "mysqldump"],
        Flavor::Mysql => &["mysqldump"],
    };
    find(configured, DUMP_TOOL_ENV, names)
}

/// The client that loads a dump into the throw-away server.
pub fn client_tool(configured: Option<&Path>, flavor: Flavor) -> Result<PathBuf> {
    let names: &[&str] = match flavor {
        Flavor::Mariadb => &["mariadb", "mysql"],
        Flavor::Mysql => &["mysql"],
    };
    find(configured, CLIENT_TOOL_ENV, names)
}

fn find(configured: Option<&Path>, env: &str, names: &[&str]) -> Result<PathBuf> {
    let from_env = std::env::var_os(env).filter(|v| !v.is_empty()).map(PathBuf::from);
    let wanted: Vec<PathBuf> = match configured.map(Path::to_path_buf).or(from_env) {
        Some(p) => vec![p],
        None => names.iter().map(PathBuf::from).collect(),
    };
    for w in &wanted {
        if let Some(found) = resolve(w) {
            return Ok(found);
        }
    }
    let shown: Vec<String> = wanted.iter().map(|p| p.display().to_string()).collect();
    anyhow::bail!(
        "{} not found (install the Debian package mariadb-client, or name the program in ${env})",
        shown.join(" or ")
    )
}

fn resolve(p: &Path) -> Option<PathBuf> {
    if p.components().count() > 1 {
        return is_executable(p).then(|| p.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(p)).find(|c| is_executable(c))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// The dump's options: one consistent snapshot, routines, triggers and events, and the GTID
/// position as a comment in the stream (MariaDB `--master-data=2 --gtid` writes
/// `-- SET GLOBAL gtid_slave_pos='…'` at the end; MySQL `--source-data=2` with
/// `--set-gtid-purged=COMMENTED` writes `-- SET @@GLOBAL.GTID_PURGED=…`).
/// `tls`: the options [`tls_args`] gives, before the database names.
pub fn dump_args(
    flavor: Flavor,
    host: &str,
    port: u16,
    user: &str,
    databases: &[String],
    tls: &[String],
) -> Vec<String> {
    let mut args = vec![
        format!("--host={host}"),
        format!("--port={port}"),
        format!("--user={user}"),
        "--protocol=TCP".to_string(),
        "--single-transaction".to_string(),
        "--routines".to_string(),
        "--triggers".to_string(),
        "--events".to_string(),
    ];
    match flavor {
        Flavor::Mariadb => args.extend(["--master-data=2".to_string(), "--gtid".to_string()]),
        Flavor::Mysql => args.extend(["--source-data=2".to_string(), "--set-gtid-purged=COMMENTED".to_string()]),
    }
    args.extend(tls.iter().cloned());
    args.push("--databases".to_string());
    args.extend(databases.iter().cloned());
    args
}

/// The program's TLS options for a connection made with `tls` (`None`: plain). The server's
/// certificate is checked, name included, when there is a CA file or TLS is required, as our
/// own connections do; only file paths go on the command line.
pub fn tls_args(flavor: Flavor, tls: Option<&MysqlTls>) -> Vec<String> {
    let Some(tls) = tls.filter(|t| !t.mode.is_off()) else {
        return Vec::new();
    };
    let files = tls.files.clone().unwrap_or_default();
    let verify = files.ca_file.is_some() || tls.mode == TlsMode::Required;
    let mut args = match (flavor, verify) {
        (Flavor::Mariadb, true) => vec!["--ssl".to_string(), "--ssl-verify-server-cert".to_string()],
        (Flavor::Mariadb, false) => vec!["--ssl".to_string()],
        (Flavor::Mysql, true) => vec!["--ssl-mode=VERIFY_IDENTITY".to_string()],
        (Flavor::Mysql, false) => vec!["--ssl-mode=REQUIRED".to_string()],
    };
    let path = |flag: &str, p: &Option<PathBuf>| p.as_ref().map(|p| format!("{flag}={}", p.display()));
    args.extend(path("--ssl-ca", &files.ca_file));
    args.extend(path("--ssl-cert", &files.cert_file));
    args.extend(path("--ssl-key", &files.key_file));
    args
}

/// The client's options to load a dump (binary values intact).
pub fn load_args(host: &str, port: u16, user: &str) -> Vec<String> {
    vec![
        format!("--host={host}"),
        format!("--port={port}"),
        format!("--user={user}"),
        "--protocol=TCP".to_string(),
        "--binary-mode".to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::TlsFiles;

    #[test]
    fn each_flavour_asks_for_a_consistent_dump_with_its_gtid_and_no_password() {
        let dbs = vec!["app".to_string(), "myzoo".to_string()];
        let m = dump_args(Flavor::Mariadb, "127.0.0.1", 3307, "backup", &dbs, &[]);
        for want in ["--single-transaction", "--routines", "--triggers", "--events", "--master-data=2", "--gtid"] {
            assert!(m.iter().any(|a| a == want), "{want} in {m:?}");
        }
        assert_eq!(&m[m.len() - 3..], ["--databases", "app", "myzoo"]);
        let y = dump_args(Flavor::Mysql, "h", 1, "u", &dbs, &[]);
        assert!(y.iter().any(|a| a == "--source-data=2") && y.iter().any(|a| a == "--set-gtid-purged=COMMENTED"));
        assert!(!m.iter().chain(&y).any(|a| a.contains("password")));
    }

    #[test]
    fn tls_options_per_flavour_before_the_databases() {
        let dbs = vec!["app".to_string()];
        assert!(tls_args(Flavor::Mariadb, None).is_empty());
        assert!(tls_args(Flavor::Mariadb, Some(&MysqlTls::default())).is_empty());
        let files = TlsFiles {
            ca_file: Some("/t/ca.pem".into()),
            cert_file: Some("/t/client.pem".into()),
            key_file: Some("/t/client.key".into()),
            verify_hostname: true,
        };
        let required = MysqlTls::new(TlsMode::Required, Some(files));
        let m = tls_args(Flavor::Mariadb, Some(&required));
        assert_eq!(
            m,
            [
                "--ssl",
                "--ssl-verify-server-cert",
                "--ssl-ca=/t/ca.pem",
                "--ssl-cert=/t/client.pem",
                "--ssl-key=/t/client.key"
            ]
        );
        let args = dump_args(Flavor::Mariadb, "h", 1, "u", &dbs, &m);
        assert_eq!(&args[args.len() - 2..], ["--databases", "app"]);
        assert_eq!(tls_args(Flavor::Mysql, Some(&required))[0], "--ssl-mode=VERIFY_IDENTITY");
        // Preferred without a CA: encrypted, not checked (as our own connection was).
        let preferred = MysqlTls::new(TlsMode::Preferred, None);
        assert_eq!(tls_args(Flavor::Mariadb, Some(&preferred)), ["--ssl"]);
        assert_eq!(tls_args(Flavor::Mysql, Some(&preferred)), ["--ssl-mode=REQUIRED"]);
    }

    #[test]
    fn a_missing_tool_says_how_to_get_one() {
        let e = find(Some(Path::new("/nonexistent/dump")), "MYZOO_TEST_UNSET_VAR", &["x"]).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/dump") && e.to_string().contains("MYZOO_TEST_UNSET_VAR"));
        assert!(find(None, "MYZOO_TEST_UNSET_VAR", &["sh"]).is_ok());
    }
}
