//! The dump and client programs and their command lines, per flavour (the only place that
//! knows them). Passwords never go on a command line (`ps` shows it to everyone): the child
//! gets them in `MYSQL_PWD`, which only its own user can read.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::cluster::status::Flavor;

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
pub fn dump_args(flavor: Flavor, host: &str, port: u16, user: &str, databases: &[String]) -> Vec<String> {
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
    args.push("--databases".to_string());
    args.extend(databases.iter().cloned());
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

    #[test]
    fn each_flavour_asks_for_a_consistent_dump_with_its_gtid_and_no_password() {
        let dbs = vec!["app".to_string(), "myzoo".to_string()];
        let m = dump_args(Flavor::Mariadb, "127.0.0.1", 3307, "backup", &dbs);
        for want in ["--single-transaction", "--routines", "--triggers", "--events", "--master-data=2", "--gtid"] {
            assert!(m.iter().any(|a| a == want), "{want} in {m:?}");
        }
        assert_eq!(&m[m.len() - 3..], ["--databases", "app", "myzoo"]);
        let y = dump_args(Flavor::Mysql, "h", 1, "u", &dbs);
        assert!(y.iter().any(|a| a == "--source-data=2") && y.iter().any(|a| a == "--set-gtid-purged=COMMENTED"));
        assert!(!m.iter().chain(&y).any(|a| a.contains("password")));
    }

    #[test]
    fn a_missing_tool_says_how_to_get_one() {
        let e = find(Some(Path::new("/nonexistent/dump")), "MYZOO_TEST_UNSET_VAR", &["x"]).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/dump") && e.to_string().contains("MYZOO_TEST_UNSET_VAR"));
        assert!(find(None, "MYZOO_TEST_UNSET_VAR", &["sh"]).is_ok());
    }
}
