//! Each flavour's statements and names, in one place: detection from `SELECT VERSION()`, the
//! replica status query and its column names, the GTID, read-only and semi-sync variables, and
//! the fencing statements. Pure functions, unit-tested per flavour and version.

pub use crate::cluster::status::Flavor;

/// A server version, compared numerically (`8.0.9 < 8.0.22`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Version {
        Version { major, minor, patch }
    }
}

/// MySQL 8.0.22 added `SHOW REPLICA STATUS` and its `Replica_*`/`Source_*` columns.
const MYSQL_REPLICA_WORDS: Version = Version::new(8, 0, 22);
/// MySQL 8.0.26 renamed the semi-sync plugins' variables (`rpl_semi_sync_source_*`).
const MYSQL_SEMI_SYNC_SOURCE_WORDS: Version = Version::new(8, 0, 26);

/// What `SELECT VERSION()` says about the server: `10.11.19-MariaDB-0+deb12u1`, `8.4.3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerKind {
    pub flavor: Flavor,
    pub version: Version,
}

/// Detects the flavour and version from `SELECT VERSION()`. An unparsable version counts as
/// the newest known, so the modern statements are tried.
pub fn detect(version_string: &str) -> ServerKind {
    let flavor = if version_string.to_ascii_lowercase().contains("mariadb") { Flavor::Mariadb } else { Flavor::Mysql };
    let version = parse_version(version_string).unwrap_or(Version::new(u32::MAX, 0, 0));
    ServerKind { flavor, version }
}

/// The leading `major.minor.patch` of a version string.
pub fn parse_version(s: &str) -> Option<Version> {
    let numeric: String = s.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    let mut parts = numeric.split('.').map(|p| p.parse::<u32>().ok());
    let major = parts.next()??;
    let minor = parts.next().flatten().unwrap_or(0);
    let patch = parts.next().flatten().unwrap_or(0);
    Some(Version { major, minor, patch })
}

/// Column names of the replica status row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaColumns {
    pub io_running: &'static str,
    pub sql_running: &'static str,
    pub source_host: &'static str,
    pub source_port: &'static str,
    pub seconds_behind: &'static str,
    pub last_io_error: &'static str,
    pub last_sql_error: &'static str,
    /// MariaDB `Using_Gtid`; MySQL `Auto_Position`.
    pub using_gtid: &'static str,
}

/// GTID variables; `None` where the flavour has no such variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GtidVariables {
    pub current: Option<&'static str>,
    pub slave: Option<&'static str>,
    pub binlog: Option<&'static str>,
    pub executed: Option<&'static str>,
}

/// Semi-sync names. Each is a list because MySQL 8.0.26+ has the old or the new name depending
/// on which plugin is installed; the first present wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SemiSyncNames {
    pub source_enabled: &'static [&'static str],
    pub replica_enabled: &'static [&'static str],
    /// Status variable: semi-sync active on the source right now.
    pub source_active: &'static [&'static str],
}

/// Status counters the probe reads (same names on both flavours).
pub const UPTIME_STATUS: &str = "Uptime";
pub const THREADS_CONNECTED_STATUS: &str = "Threads_connected";
pub const QUERIES_STATUS: &str = "Queries";
pub const READ_ONLY_VARIABLE: &str = "read_only";
pub const SUPER_READ_ONLY_VARIABLE: &str = "super_read_only";
pub const SERVER_ID_VARIABLE: &str = "server_id";

/// Every statement and name the agent uses for one flavour and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statements {
    pub kind: ServerKind,
    pub replica_status: &'static str,
    pub columns: ReplicaColumns,
    pub gtid: GtidVariables,
    pub semi_sync: SemiSyncNames,
    /// `read_only`, plus `super_read_only` on MySQL (which also stops SUPER users).
    pub read_only_variables: &'static [&'static str],
    pub start_replica: &'static str,
    pub stop_replica: &'static str,
}

const MARIADB_COLUMNS: ReplicaColumns = ReplicaColumns {
    io_running: "Slave_IO_Running",
    sql_running: "Slave_SQL_Running",
    source_host: "Master_Host",
    source_port: "Master_Port",
    seconds_behind: "Seconds_Behind_Master",
    last_io_error: "Last_IO_Error",
    last_sql_error: "Last_SQL_Error",
    using_gtid: "Using_Gtid",
};

const MYSQL_OLD_COLUMNS: ReplicaColumns = ReplicaColumns { using_gtid: "Auto_Position", ..MARIADB_COLUMNS };

const MYSQL_COLUMNS: ReplicaColumns = ReplicaColumns {
    io_running: "Replica_IO_Running",
    sql_running: "Replica_SQL_Running",
    source_host: "Source_Host",
    source_port: "Source_Port",
    seconds_behind: "Seconds_Behind_Source",
    last_io_error: "Last_IO_Error",
    last_sql_error: "Last_SQL_Error",
    using_gtid: "Auto_Position",
};

impl Statements {
    pub fn for_server(kind: ServerKind) -> Statements {
        match kind.flavor {
            Flavor::Mariadb => Self::mariadb(kind),
            Flavor::Mysql => Self::mysql(kind),
        }
    }

    fn mariadb(kind: ServerKind) -> Statements {
        Statements {
            kind,
            replica_status: "SHOW SLAVE STATUS",
            columns: MARIADB_COLUMNS,
            gtid: GtidVariables {
                current: Some("gtid_current_pos"),
                slave: Some("gtid_slave_pos"),
                binlog: Some("gtid_binlog_pos"),
                executed: None,
            },
            semi_sync: SemiSyncNames {
                source_enabled: &["rpl_semi_sync_master_enabled"],
                replica_enabled: &["rpl_semi_sync_slave_enabled"],
                source_active: &["Rpl_semi_sync_master_status"],
            },
            read_only_variables: &[READ_ONLY_VARIABLE],
            start_replica: "START SLAVE",
            stop_replica: "STOP SLAVE",
        }
    }

    fn mysql(kind: ServerKind) -> Statements {
        let new_words = kind.version >= MYSQL_REPLICA_WORDS;
        let semi_sync = if kind.version >= MYSQL_SEMI_SYNC_SOURCE_WORDS {
            SemiSyncNames {
                source_enabled: &["rpl_semi_sync_source_enabled", "rpl_semi_sync_master_enabled"],
                replica_enabled: &["rpl_semi_sync_replica_enabled", "rpl_semi_sync_slave_enabled"],
                source_active: &["Rpl_semi_sync_source_status", "Rpl_semi_sync_master_status"],
            }
        } else {
            SemiSyncNames {
                source_enabled: &["rpl_semi_sync_master_enabled"],
                replica_enabled: &["rpl_semi_sync_slave_enabled"],
                source_active: &["Rpl_semi_sync_master_status"],
            }
        };
        Statements {
            kind,
            replica_status: if new_words { "SHOW REPLICA STATUS" } else { "SHOW SLAVE STATUS" },
            columns: if new_words { MYSQL_COLUMNS } else { MYSQL_OLD_COLUMNS },
            gtid: GtidVariables { current: None, slave: None, binlog: None, executed: Some("gtid_executed") },
            semi_sync,
            read_only_variables: &[READ_ONLY_VARIABLE, SUPER_READ_ONLY_VARIABLE],
            start_replica: if new_words { "START REPLICA" } else { "START SLAVE" },
            stop_replica: if new_words { "STOP REPLICA" } else { "STOP SLAVE" },
        }
    }

    /// Every global variable the probe reads.
    pub fn variable_names(&self) -> Vec<&'static str> {
        let mut names = vec![SERVER_ID_VARIABLE];
        names.extend(self.read_only_variables);
        names.extend([self.gtid.current, self.gtid.slave, self.gtid.binlog, self.gtid.executed].into_iter().flatten());
        names.extend(self.semi_sync.source_enabled);
        names.extend(self.semi_sync.replica_enabled);
        names
    }

    /// Every global status counter the probe reads.
    pub fn status_names(&self) -> Vec<&'static str> {
        let mut names = vec![UPTIME_STATUS, THREADS_CONNECTED_STATUS, QUERIES_STATUS];
        names.extend(self.semi_sync.source_active);
        names
    }

    /// One round trip for all variables. `SHOW … WHERE … IN` (not `SELECT @@x`) because a
    /// missing variable (semi-sync plugin not loaded) must not fail the whole query.
    pub fn variables_query(&self) -> String {
        format!("SHOW GLOBAL VARIABLES WHERE Variable_name IN ({})", quoted_list(&self.variable_names()))
    }

    pub fn status_query(&self) -> String {
        format!("SHOW GLOBAL STATUS WHERE Variable_name IN ({})", quoted_list(&self.status_names()))
    }

    /// Makes the server refuse writes (fencing). MySQL needs `super_read_only` too, or SUPER
    /// users (and the replication applier's peers) could still write.
    pub fn fence(&self) -> Vec<String> {
        self.read_only_variables.iter().map(|v| format!("SET GLOBAL {v} = ON")).collect()
    }

    /// Opens the server for writes; `super_read_only` must be lifted before `read_only`.
    pub fn unfence(&self) -> Vec<String> {
        self.read_only_variables.iter().rev().map(|v| format!("SET GLOBAL {v} = OFF")).collect()
    }
}

/// `'a', 'b'` — the names are our own constants, never user input.
fn quoted_list(names: &[&str]) -> String {
    names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmts(version: &str) -> Statements {
        Statements::for_server(detect(version))
    }

    #[test]
    fn detection_and_versions() {
        let k = detect("10.11.19-MariaDB-0+deb12u1");
        assert_eq!(k.flavor, Flavor::Mariadb);
        assert_eq!(k.version, Version::new(10, 11, 19));
        let k = detect("8.0.21-log");
        assert_eq!((k.flavor, k.version), (Flavor::Mysql, Version::new(8, 0, 21)));
        assert_eq!(detect("8.4").version, Version::new(8, 4, 0));
        assert!(Version::new(8, 0, 9) < Version::new(8, 0, 22));
        assert_eq!(parse_version("garbage"), None);
        assert_eq!(detect("garbage").version.major, u32::MAX);
    }

    #[test]
    fn mariadb_statements() {
        let s = stmts("10.6.18-MariaDB");
        assert_eq!(s.replica_status, "SHOW SLAVE STATUS");
        assert_eq!(s.columns.io_running, "Slave_IO_Running");
        assert_eq!(s.columns.source_host, "Master_Host");
        assert_eq!(s.columns.seconds_behind, "Seconds_Behind_Master");
        assert_eq!(s.columns.using_gtid, "Using_Gtid");
        assert_eq!(
            s.variables_query(),
            "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('server_id', 'read_only', 'gtid_current_pos', \
             'gtid_slave_pos', 'gtid_binlog_pos', 'rpl_semi_sync_master_enabled', 'rpl_semi_sync_slave_enabled')"
        );
        assert_eq!(
            s.status_query(),
            "SHOW GLOBAL STATUS WHERE Variable_name IN ('Uptime', 'Threads_connected', 'Queries', \
             'Rpl_semi_sync_master_status')"
        );
        assert_eq!(s.fence(), ["SET GLOBAL read_only = ON"]);
        assert_eq!(s.stop_replica, "STOP SLAVE");
    }

    #[test]
    fn mysql_80_old_and_new_words() {
        let old = stmts("8.0.21");
        assert_eq!(old.replica_status, "SHOW SLAVE STATUS");
        assert_eq!(old.columns.io_running, "Slave_IO_Running");
        assert_eq!(old.columns.using_gtid, "Auto_Position");
        assert_eq!(old.semi_sync.source_enabled, ["rpl_semi_sync_master_enabled"]);
        assert_eq!(old.start_replica, "START SLAVE");

        let new = stmts("8.0.36");
        assert_eq!(new.replica_status, "SHOW REPLICA STATUS");
        assert_eq!(new.columns.io_running, "Replica_IO_Running");
        assert_eq!(new.columns.source_host, "Source_Host");
        assert_eq!(new.columns.source_port, "Source_Port");
        assert_eq!(new.columns.seconds_behind, "Seconds_Behind_Source");
        assert_eq!(new.semi_sync.source_active[0], "Rpl_semi_sync_source_status");
        assert_eq!(new.start_replica, "START REPLICA");
        assert!(new.variables_query().contains("'gtid_executed'"));
        assert!(!new.variables_query().contains("gtid_current_pos"));
    }

    #[test]
    fn mysql_84_uses_replica_words_and_super_read_only() {
        let s = stmts("8.4.3");
        assert_eq!(s.replica_status, "SHOW REPLICA STATUS");
        assert_eq!(s.gtid.executed, Some("gtid_executed"));
        assert!(s.variables_query().contains("'super_read_only'"));
        assert!(s.variables_query().contains("'rpl_semi_sync_replica_enabled'"));
        assert_eq!(s.fence(), ["SET GLOBAL read_only = ON", "SET GLOBAL super_read_only = ON"]);
        assert_eq!(s.unfence(), ["SET GLOBAL super_read_only = OFF", "SET GLOBAL read_only = OFF"]);
    }
}
