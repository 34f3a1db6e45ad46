//! The programs and jars the sandbox needs, found up front with the Debian package to install
//! when one is missing, so `up` fails before it starts anything.

use std::path::{Path, PathBuf};

use anyhow::Result;

/// Folder where Debian installs Java libraries, ZooKeeper's jar among them.
pub const JAVA_LIB_DIR: &str = "/usr/share/java";

/// Everything `up` runs.
#[derive(Debug, Clone)]
pub struct Tools {
    pub java: PathBuf,
    pub zookeeper_jar: PathBuf,
    /// `None` when only ZooKeeper is wanted.
    pub mariadb: Option<MariadbTools>,
}

#[derive(Debug, Clone)]
pub struct MariadbTools {
    pub mariadbd: PathBuf,
    pub install_db: PathBuf,
}

/// Finds every tool, or fails naming each missing one and its package.
pub fn find(with_mysql: bool) -> Result<Tools> {
    let mut missing = Vec::new();
    let java = find_program(&["java"], "default-jre-headless", &mut missing);
    let zookeeper_jar = find_file(&Path::new(JAVA_LIB_DIR).join("zookeeper.jar"), "zookeeper", &mut missing);
    let mariadb = if with_mysql {
        let mariadbd = find_program(&["mariadbd", "mysqld"], "mariadb-server", &mut missing);
        let install_db = find_program(&["mariadb-install-db", "mysql_install_db"], "mariadb-server", &mut missing);
        Some(MariadbTools { mariadbd, install_db })
    } else {
        None
    };
    anyhow::ensure!(
        missing.is_empty(),
        "the sandbox needs programs that are not installed:\n  {}",
        missing.join("\n  ")
    );
    Ok(Tools { java, zookeeper_jar, mariadb })
}

/// The MariaDB server programs alone (a throw-away server needs no ZooKeeper).
pub fn find_mariadb() -> Result<MariadbTools> {
    let mut missing = Vec::new();
    let mariadbd = find_program(&["mariadbd", "mysqld"], "mariadb-server", &mut missing);
    let install_db = find_program(&["mariadb-install-db", "mysql_install_db"], "mariadb-server", &mut missing);
    anyhow::ensure!(missing.is_empty(), "programs that are not installed:\n  {}", missing.join("\n  "));
    Ok(MariadbTools { mariadbd, install_db })
}

/// Searches `$PATH` and then the sbin/bin folders (mariadbd lives in /usr/sbin, which is not on
/// every user's `$PATH`).
fn find_program(names: &[&str], package: &str, missing: &mut Vec<String>) -> PathBuf {
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    dirs.extend(["/usr/sbin", "/usr/bin", "/sbin", "/bin"].map(PathBuf::from));
    for name in names {
        if let Some(found) = dirs.iter().map(|d| d.join(name)).find(|p| is_executable(p)) {
            return found;
        }
    }
    missing.push(format!("{} (install the Debian package `{package}`)", names[0]));
    PathBuf::from(names[0])
}

fn find_file(path: &Path, package: &str, missing: &mut Vec<String>) -> PathBuf {
    if !path.is_file() {
        missing.push(format!("{} (install the Debian package `{package}`)", path.display()));
    }
    path.to_path_buf()
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_program_names_its_package() {
        let mut missing = Vec::new();
        find_program(&["myzoo-no-such-program"], "some-package", &mut missing);
        assert_eq!(missing.len(), 1);
        assert!(missing[0].contains("some-package"));
    }

    #[test]
    fn finds_a_program_that_exists() {
        let mut missing = Vec::new();
        let sh = find_program(&["sh"], "dash", &mut missing);
        assert!(missing.is_empty());
        assert!(sh.ends_with("sh"));
    }
}
