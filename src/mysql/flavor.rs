//! Each flavour's statements and names, in one place: detection from `SELECT VERSION()`, the
//! replica status query and its column names, the GTID, read-only and semi-sync variables, the
//! fencing statements, switching semi-sync's source side, and what switchover/failover run (repointing, waiting for a position,
//! ending sessions). Pure functions, unit-tested per flavour and version.

pub use crate::cluster::status::Flavor;
use crate::mysql::replica::truthy;

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
/// MySQL 8.0.23 added `CHANGE REPLICATION SOURCE TO` and its `SOURCE_*` options.
const MYSQL_CHANGE_SOURCE_WORDS: Version = Version::new(8, 0, 23);
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
    /// What the IO thread has received: MariaDB `Gtid_IO_Pos`, MySQL `Retrieved_Gtid_Set`.
    pub received_gtid: &'static str,
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
/// The TLS cipher of this session (empty when the connection is plain); the same on both
/// flavours: `(Variable_name, Value)`.
pub const TLS_CIPHER_QUERY: &str = "SHOW SESSION STATUS LIKE 'Ssl_cipher'";

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
    /// Forgets the replication source entirely (a promoted node must not reconnect to its old
    /// source after a restart).
    pub reset_replica_all: &'static str,
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
    received_gtid: "Gtid_IO_Pos",
};

const MYSQL_OLD_COLUMNS: ReplicaColumns =
    ReplicaColumns { using_gtid: "Auto_Position", received_gtid: "Retrieved_Gtid_Set", ..MARIADB_COLUMNS };

const MYSQL_COLUMNS: ReplicaColumns = ReplicaColumns {
    io_running: "Replica_IO_Running",
    sql_running: "Replica_SQL_Running",
    source_host: "Source_Host",
    source_port: "Source_Port",
    seconds_behind: "Seconds_Behind_Source",
    last_io_error: "Last_IO_Error",
    last_sql_error: "Last_SQL_Error",
    using_gtid: "Auto_Position",
    received_gtid: "Retrieved_Gtid_Set",
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
            reset_replica_all: "RESET SLAVE ALL",
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
            reset_replica_all: if new_words { "RESET REPLICA ALL" } else { "RESET SLAVE ALL" },
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

    /// The semi-sync source side's setting, as (`Variable_name`, `Value`) rows: one per name the
    /// server has, none without semi-sync (MySQL without the plugin). Read before it is switched,
    /// because MySQL 8.0.26+ has the old or the new name depending on the plugin loaded.
    pub fn semi_sync_source_query(&self) -> String {
        format!("SHOW GLOBAL VARIABLES WHERE Variable_name IN ({})", quoted_list(self.semi_sync.source_enabled))
    }

    /// The first of this flavour's source-side names among `rows` (the answer to
    /// [`Statements::semi_sync_source_query`]) and whether it is on; `None` without semi-sync.
    pub fn semi_sync_source_setting(&self, rows: &[(String, String)]) -> Option<(&'static str, bool)> {
        self.semi_sync
            .source_enabled
            .iter()
            .find_map(|name| rows.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| (*name, truthy(v))))
    }

    /// Switches the semi-sync source side (a commit returns only once a replica acknowledged
    /// it). Semi-sync is per server, so operations move it with the primary: on for a new
    /// primary of a cluster that runs semi-sync, off for a server that becomes a replica. A
    /// replica with it on waits for acknowledgements at each commit of its applier (its binary
    /// log takes replicated transactions too) from replicas it does not have: on MariaDB the
    /// first such commit waits the whole `rpl_semi_sync_master_timeout` before the server falls
    /// back, and nothing gets past the applier meanwhile — not a position wait, not `STOP SLAVE`.
    /// `name` comes from [`Statements::semi_sync_source_setting`].
    pub fn set_semi_sync_source(&self, name: &'static str, on: bool) -> String {
        format!("SET GLOBAL {name} = {}", if on { "ON" } else { "OFF" })
    }
}

impl Statements {
    /// Points this server at a new source, by GTID (never by file and offset, which differ
    /// per server). MariaDB replicates from `gtid_slave_pos` (see
    /// [`Statements::align_replica_position`]); MySQL from its `gtid_executed`. A one-second
    /// connect retry so a replica reattaches quickly when the new primary opens.
    pub fn change_source(&self, host: &str, port: u16, user: &str, password: &str) -> String {
        self.change_source_with(host, port, Some((user, password)))
    }

    /// [`Statements::change_source`] that leaves the account out, so a server already
    /// replicating keeps the credentials it has (what the statement does for omitted options).
    pub fn change_source_keeping_account(&self, host: &str, port: u16) -> String {
        self.change_source_with(host, port, None)
    }

    fn change_source_with(&self, host: &str, port: u16, account: Option<(&str, &str)>) -> String {
        let host = sql_str(host);
        let (mu, su) = match account {
            Some((user, password)) => {
                let (user, password) = (sql_str(user), sql_str(password));
                (
                    format!(" MASTER_USER={user}, MASTER_PASSWORD={password},"),
                    format!(" SOURCE_USER={user}, SOURCE_PASSWORD={password},"),
                )
            }
            None => (String::new(), String::new()),
        };
        match self.kind.flavor {
            Flavor::Mariadb => format!(
                "CHANGE MASTER TO MASTER_HOST={host}, MASTER_PORT={port},{mu} MASTER_USE_GTID=slave_pos, \
                 MASTER_CONNECT_RETRY=1"
            ),
            Flavor::Mysql if self.kind.version >= MYSQL_CHANGE_SOURCE_WORDS => format!(
                "CHANGE REPLICATION SOURCE TO SOURCE_HOST={host}, SOURCE_PORT={port},{su} SOURCE_AUTO_POSITION=1, \
                 SOURCE_CONNECT_RETRY=1"
            ),
            Flavor::Mysql => format!(
                "CHANGE MASTER TO MASTER_HOST={host}, MASTER_PORT={port},{mu} MASTER_AUTO_POSITION=1, \
                 MASTER_CONNECT_RETRY=1"
            ),
        }
    }

    /// MariaDB only: run before pointing a former primary at the new one. Its own writes are in
    /// `gtid_binlog_pos`/`gtid_current_pos` but not in `gtid_slave_pos`, and `MASTER_USE_GTID =
    /// slave_pos` would otherwise ask the new primary for transactions it already has.
    pub fn align_replica_position(&self) -> Option<&'static str> {
        match self.kind.flavor {
            Flavor::Mariadb => Some("SET GLOBAL gtid_slave_pos = @@global.gtid_current_pos"),
            Flavor::Mysql => None,
        }
    }

    /// Blocks until this server has applied `position` or `timeout_ms` passes; the one value it
    /// returns goes to [`Statements::wait_succeeded`]. MariaDB's `MASTER_GTID_WAIT` takes
    /// fractional seconds (0 ok, -1 timeout). MySQL's timeout is given in whole seconds, rounded
    /// up and at least 1, because a zero timeout there means "wait forever".
    pub fn wait_for_position(&self, position: &str, timeout_ms: u64) -> String {
        let position = sql_str(position);
        match self.kind.flavor {
            Flavor::Mariadb => {
                format!("SELECT MASTER_GTID_WAIT({position}, {}.{:03})", timeout_ms / 1000, timeout_ms % 1000)
            }
            Flavor::Mysql => {
                format!("SELECT WAIT_FOR_EXECUTED_GTID_SET({position}, {})", timeout_ms.div_ceil(1000).max(1))
            }
        }
    }

    /// Whether the value [`Statements::wait_for_position`] returned means the position was
    /// reached (MariaDB 0 vs -1 on timeout; MySQL 0 vs 1 on timeout).
    pub fn wait_succeeded(&self, value: i64) -> bool {
        value == 0
    }

    /// What a primary's position is read from: every transaction in its binary log, including
    /// ones it replicated (MariaDB `gtid_binlog_pos`, MySQL `gtid_executed`).
    pub fn position_variable(&self) -> &'static str {
        match self.kind.flavor {
            Flavor::Mariadb => "gtid_binlog_pos",
            Flavor::Mysql => "gtid_executed",
        }
    }

    /// What a server has applied, replicated or written locally (MariaDB `gtid_current_pos`,
    /// MySQL `gtid_executed`).
    pub fn applied_variable(&self) -> &'static str {
        match self.kind.flavor {
            Flavor::Mariadb => "gtid_current_pos",
            Flavor::Mysql => "gtid_executed",
        }
    }

    /// Client sessions that could still write (`ID`, `USER`): after fencing, they are ended so
    /// a transaction begun before `read_only` cannot commit on the old primary. Left alone:
    /// replicas reading the binary log (`Binlog Dump*`; ending them would cut off the replicas
    /// that must catch up), MariaDB's replication threads (`Slave_*`), and the server's own
    /// threads (`Daemon`; user `system user` — MySQL's appliers — or `event_scheduler`).
    pub fn sessions_query(&self) -> &'static str {
        const QUERY: &str = concat!(
            "SELECT ID, USER FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND COMMAND NOT IN (",
            "'Binlog Dump', 'Binlog Dump GTID', 'Daemon', 'Slave_IO', 'Slave_SQL', 'Slave_worker'",
            ") AND USER NOT IN ('system user', 'event_scheduler')"
        );
        QUERY
    }

    /// Ends one session found by [`Statements::sessions_query`] (its connection, not just its
    /// statement, so an open transaction rolls back).
    pub fn kill_session(&self, id: u64) -> String {
        format!("KILL CONNECTION {id}")
    }

    /// InnoDB transactions open for at least `min_s` seconds (`thread id`, `age in seconds`):
    /// a long one makes a switchover wait or roll back a lot, so preflight reports them.
    pub fn long_transactions_query(&self, min_s: u64) -> String {
        format!(
            "SELECT trx_mysql_thread_id, TIMESTAMPDIFF(SECOND, trx_started, NOW()) FROM information_schema.INNODB_TRX \
             WHERE trx_started <= NOW() - INTERVAL {min_s} SECOND"
        )
    }
}

/// An SQL string literal: single quotes, with backslash and quote escaped (the default
/// `sql_mode`; `NO_BACKSLASH_ESCAPES` would need doubled quotes instead).
pub fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
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

    #[test]
    fn semi_sync_source_per_flavour_and_version() {
        let rows = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
        };
        for v in ["10.6.18-MariaDB", "10.11.19-MariaDB-0+deb12u1", "8.0.21"] {
            let s = stmts(v);
            assert_eq!(
                s.semi_sync_source_query(),
                "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('rpl_semi_sync_master_enabled')"
            );
            assert_eq!(
                s.semi_sync_source_setting(&rows(&[("rpl_semi_sync_master_enabled", "ON")])),
                Some(("rpl_semi_sync_master_enabled", true))
            );
            assert_eq!(
                s.semi_sync_source_setting(&rows(&[("rpl_semi_sync_master_enabled", "OFF")])),
                Some(("rpl_semi_sync_master_enabled", false))
            );
            assert_eq!(
                s.set_semi_sync_source("rpl_semi_sync_master_enabled", false),
                "SET GLOBAL rpl_semi_sync_master_enabled = OFF"
            );
            assert_eq!(
                s.set_semi_sync_source("rpl_semi_sync_master_enabled", true),
                "SET GLOBAL rpl_semi_sync_master_enabled = ON"
            );
        }
        // MySQL 8.0.26+: whichever plugin is loaded names the variable; the new name first.
        for v in ["8.0.36", "8.4.3"] {
            let s = stmts(v);
            assert_eq!(
                s.semi_sync_source_query(),
                "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('rpl_semi_sync_source_enabled', \
                 'rpl_semi_sync_master_enabled')"
            );
            assert_eq!(
                s.semi_sync_source_setting(&rows(&[("rpl_semi_sync_master_enabled", "ON")])),
                Some(("rpl_semi_sync_master_enabled", true))
            );
            assert_eq!(
                s.semi_sync_source_setting(&rows(&[
                    ("rpl_semi_sync_master_enabled", "OFF"),
                    ("rpl_semi_sync_source_enabled", "ON")
                ])),
                Some(("rpl_semi_sync_source_enabled", true))
            );
            assert_eq!(
                s.set_semi_sync_source("rpl_semi_sync_source_enabled", true),
                "SET GLOBAL rpl_semi_sync_source_enabled = ON"
            );
        }
        // No plugin: nothing to switch.
        assert_eq!(stmts("8.4.3").semi_sync_source_setting(&[]), None);
    }

    #[test]
    fn sql_strings_are_escaped() {
        assert_eq!(sql_str("a'b\\c"), "'a\\'b\\\\c'");
        assert_eq!(sql_str(""), "''");
    }

    #[test]
    fn change_source_per_flavour_and_version() {
        let args = ("db'1", 3307, "repl", "pa\\ss'");
        let change = |v: &str| stmts(v).change_source(args.0, args.1, args.2, args.3);
        let mariadb = "CHANGE MASTER TO MASTER_HOST='db\\'1', MASTER_PORT=3307, MASTER_USER='repl', \
                       MASTER_PASSWORD='pa\\\\ss\\'', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1";
        assert_eq!(change("10.6.18-MariaDB"), mariadb);
        assert_eq!(change("10.11.19-MariaDB-0+deb12u1"), mariadb);
        assert_eq!(
            change("8.0.21"),
            "CHANGE MASTER TO MASTER_HOST='db\\'1', MASTER_PORT=3307, MASTER_USER='repl', \
             MASTER_PASSWORD='pa\\\\ss\\'', MASTER_AUTO_POSITION=1, MASTER_CONNECT_RETRY=1"
        );
        // 8.0.22 has the replica words but not yet CHANGE REPLICATION SOURCE.
        assert!(change("8.0.22").starts_with("CHANGE MASTER TO"));
        let new = "CHANGE REPLICATION SOURCE TO SOURCE_HOST='db\\'1', SOURCE_PORT=3307, SOURCE_USER='repl', \
                   SOURCE_PASSWORD='pa\\\\ss\\'', SOURCE_AUTO_POSITION=1, SOURCE_CONNECT_RETRY=1";
        assert_eq!(change("8.0.23"), new);
        assert_eq!(change("8.0.36"), new);
        assert_eq!(change("8.4.3"), new);
    }

    #[test]
    fn failover_statements_per_flavour() {
        for v in ["10.6.18-MariaDB", "10.11.19-MariaDB"] {
            let s = stmts(v);
            assert_eq!(s.align_replica_position(), Some("SET GLOBAL gtid_slave_pos = @@global.gtid_current_pos"));
            assert_eq!(s.wait_for_position("0-1-20", 1500), "SELECT MASTER_GTID_WAIT('0-1-20', 1.500)");
            assert_eq!(s.wait_for_position("0-1-20", 100), "SELECT MASTER_GTID_WAIT('0-1-20', 0.100)");
            assert!(s.wait_succeeded(0) && !s.wait_succeeded(-1));
            assert_eq!(s.reset_replica_all, "RESET SLAVE ALL");
            assert_eq!((s.position_variable(), s.applied_variable()), ("gtid_binlog_pos", "gtid_current_pos"));
        }
        for v in ["8.0.21", "8.0.36", "8.4.3"] {
            let s = stmts(v);
            assert_eq!(s.align_replica_position(), None);
            let set = "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5";
            assert_eq!(s.wait_for_position(set, 1500), format!("SELECT WAIT_FOR_EXECUTED_GTID_SET('{set}', 2)"));
            // Never 0 seconds, which would mean "forever".
            assert_eq!(s.wait_for_position(set, 100), format!("SELECT WAIT_FOR_EXECUTED_GTID_SET('{set}', 1)"));
            assert!(s.wait_succeeded(0) && !s.wait_succeeded(1));
            assert_eq!((s.position_variable(), s.applied_variable()), ("gtid_executed", "gtid_executed"));
        }
        assert_eq!(stmts("8.0.21").reset_replica_all, "RESET SLAVE ALL");
        assert_eq!(stmts("8.0.36").reset_replica_all, "RESET REPLICA ALL");
        assert_eq!(stmts("8.4.3").reset_replica_all, "RESET REPLICA ALL");
    }

    #[test]
    fn sessions_and_long_transactions() {
        for v in ["10.6.18-MariaDB", "10.11.19-MariaDB", "8.0.21", "8.0.36", "8.4.3"] {
            let s = stmts(v);
            assert_eq!(
                s.sessions_query(),
                "SELECT ID, USER FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND COMMAND NOT IN \
                 ('Binlog Dump', 'Binlog Dump GTID', 'Daemon', 'Slave_IO', 'Slave_SQL', 'Slave_worker') AND USER \
                 NOT IN ('system user', 'event_scheduler')"
            );
            assert_eq!(s.kill_session(42), "KILL CONNECTION 42");
            assert_eq!(
                s.long_transactions_query(30),
                "SELECT trx_mysql_thread_id, TIMESTAMPDIFF(SECOND, trx_started, NOW()) FROM \
                 information_schema.INNODB_TRX WHERE trx_started <= NOW() - INTERVAL 30 SECOND"
            );
        }
    }
}
