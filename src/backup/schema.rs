//! The backup store's tables, created and versioned by myzoo: `store_version` (one row),
//! `zk_snapshot` and `zk_znode` (snapshots of the ZooKeeper tree), `mysql_dump` (the record of
//! logical dumps). A store made by a newer myzoo is refused rather than misread.

/// The layout these statements create. Raise it with a migration when a table changes.
pub const STORE_VERSION: u32 = 1;

/// `CREATE TABLE IF NOT EXISTS` for every table, in order.
pub const TABLES: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS store_version (\
       id TINYINT UNSIGNED NOT NULL PRIMARY KEY, \
       version INT UNSIGNED NOT NULL\
     ) ENGINE=InnoDB",
    // One row per snapshot; `state` is running / complete / failed.
    "CREATE TABLE IF NOT EXISTS zk_snapshot (\
       id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, \
       state VARCHAR(16) NOT NULL, \
       ensemble VARCHAR(1024) NOT NULL, \
       root VARCHAR(4096) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, \
       include_ephemeral BOOLEAN NOT NULL, \
       started_ms BIGINT NOT NULL, \
       finished_ms BIGINT NULL, \
       znodes BIGINT UNSIGNED NOT NULL DEFAULT 0, \
       bytes BIGINT UNSIGNED NOT NULL DEFAULT 0, \
       min_zxid BIGINT NULL, \
       max_zxid BIGINT NULL, \
       checksum CHAR(64) NULL, \
       operator VARCHAR(255) NOT NULL, \
       host VARCHAR(255) NOT NULL, \
       origin VARCHAR(32) NOT NULL, \
       note TEXT NOT NULL, \
       error TEXT NULL\
     ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    // One row per znode of a snapshot; `seq` is the walk order (every parent before its children).
    "CREATE TABLE IF NOT EXISTS zk_znode (\
       snapshot_id BIGINT UNSIGNED NOT NULL, \
       seq INT UNSIGNED NOT NULL, \
       path VARCHAR(4096) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, \
       data LONGBLOB NOT NULL, \
       mode VARCHAR(16) NOT NULL, \
       ttl_ms BIGINT UNSIGNED NULL, \
       acl TEXT NOT NULL, \
       czxid BIGINT NOT NULL, \
       mzxid BIGINT NOT NULL, \
       pzxid BIGINT NOT NULL, \
       ctime_ms BIGINT NOT NULL, \
       mtime_ms BIGINT NOT NULL, \
       version INT NOT NULL, \
       cversion INT NOT NULL, \
       aversion INT NOT NULL, \
       ephemeral_owner BIGINT NOT NULL, \
       data_length INT NOT NULL, \
       num_children INT NOT NULL, \
       PRIMARY KEY (snapshot_id, seq), \
       KEY by_path (snapshot_id, path(255))\
     ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 ROW_FORMAT=DYNAMIC",
    // One row per logical dump (`backup::dump`); `state` is running / complete / failed /
    // cancelled. `tables_json` holds each table's row count and row digest as the dump stream
    // had them (what `verify` compares a restore against); `db_names` the databases dumped.
    "CREATE TABLE IF NOT EXISTS mysql_dump (\
       id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, \
       cluster VARCHAR(255) NOT NULL, \
       node VARCHAR(255) NOT NULL, \
       role VARCHAR(16) NOT NULL, \
       source VARCHAR(255) NOT NULL, \
       state VARCHAR(16) NOT NULL, \
       file VARCHAR(4096) NOT NULL, \
       started_ms BIGINT NOT NULL, \
       finished_ms BIGINT NULL, \
       bytes BIGINT UNSIGNED NOT NULL DEFAULT 0, \
       raw_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0, \
       estimate_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0, \
       tables_done INT UNSIGNED NOT NULL DEFAULT 0, \
       tables_total INT UNSIGNED NOT NULL DEFAULT 0, \
       db_names TEXT NOT NULL, \
       gtid_position TEXT NULL, \
       checksum CHAR(64) NULL, \
       tables_json LONGTEXT NULL, \
       tool VARCHAR(255) NOT NULL, \
       operator VARCHAR(255) NOT NULL, \
       host VARCHAR(255) NOT NULL, \
       origin VARCHAR(32) NOT NULL, \
       history VARCHAR(1024) NULL, \
       error TEXT NULL, \
       KEY by_cluster (cluster, started_ms)\
     ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
];
