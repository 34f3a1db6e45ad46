//! The backup store: which server to use, the schema, and every read and write of snapshot
//! rows. Nothing here touches ZooKeeper: a store is found from the profile alone, so a restore
//! works when the ensemble is gone.
//!
//! Choosing the server: writes go to the one listed server that is writable (`read_only` off:
//! the cluster's primary), so replication carries each snapshot to every replica; reads prefer
//! it and otherwise take any server that answers (a replica holds the same rows). More than one
//! writable server is refused: writing to either would split the store.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use futures::stream::{self, Stream};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Params, Row, Value};

use super::record::{acl_from_json, acl_to_json, ContentDigest, SnapshotMeta, SnapshotState, ZnodeMode, ZnodeRecord};
use super::schema::{STORE_VERSION, TABLES};
use crate::config::BackupStoreConfig;
use crate::mysql::Target;
use crate::zk::{AclEntry, NodeStat};

/// Longest a connection attempt to one store server may take.
pub const STORE_CONNECT_TIMEOUT_MS: u64 = 3_000;
/// Znodes per multi-row `INSERT`.
pub const INSERT_ROWS: usize = 500;
/// Data bytes per multi-row `INSERT` (well under MariaDB's default 16 MB `max_allowed_packet`).
pub const INSERT_BYTES: usize = 4 << 20;
/// Znodes per page when reading a snapshot back.
pub const READ_PAGE_ROWS: usize = 2_000;
/// Znode rows deleted per statement when a snapshot is removed (bounded transactions).
const DELETE_ROWS: usize = 10_000;
/// Columns of `zk_znode`, in the order the statements here use.
const ZNODE_COLUMNS: &str = "snapshot_id, seq, path, data, mode, ttl_ms, acl, czxid, mzxid, pzxid, ctime_ms, \
                             mtime_ms, version, cversion, aversion, ephemeral_owner, data_length, num_children";
const ZNODE_COLUMN_COUNT: usize = 18;
const SNAPSHOT_COLUMNS: &str = "id, state, ensemble, root, include_ephemeral, started_ms, finished_ms, znodes, bytes, \
                                min_zxid, max_zxid, checksum, operator, host, origin, note, error";

/// Why a snapshot cannot be trusted (incomplete, or its rows do not add up to its checksum):
/// a restore refuses it rather than failing half-way. Carried inside the `anyhow::Error` of
/// [`Store::verify`], so callers can tell it from an unreachable store.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct Untrusted(pub String);

/// Where and as whom to reach the store (the profile's section with its password read).
#[derive(Clone)]
pub struct StoreAccess {
    pub hosts: Vec<String>,
    pub database: String,
    pub user: String,
    pub password: Option<String>,
    /// The store's `tls` mode with this host's files (the profile's `mysql_tls`).
    pub tls: crate::mysql::MysqlTls,
}

impl std::fmt::Debug for StoreAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreAccess")
            .field("hosts", &self.hosts)
            .field("database", &self.database)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("tls", &self.tls)
            .finish()
    }
}

impl StoreAccess {
    /// The profile's store with its password (`$MYZOO_BACKUP_PASSWORD`, else its file).
    pub fn from_config(config: &BackupStoreConfig) -> Result<StoreAccess> {
        if config.hosts.is_empty() {
            bail!("the backup store lists no hosts");
        }
        if !valid_identifier(&config.database) {
            bail!("the backup store's database name {:?} is not a plain identifier", config.database);
        }
        Ok(StoreAccess {
            hosts: config.hosts.clone(),
            database: config.database.clone(),
            user: config.user.clone(),
            password: config.password()?,
            tls: crate::mysql::MysqlTls::new(config.tls, config.tls_files.clone()),
        })
    }

    /// The profile's store, or an error that says how to name one.
    pub fn from_profile(config: Option<&BackupStoreConfig>) -> Result<StoreAccess> {
        match config {
            Some(c) => StoreAccess::from_config(c),
            None => bail!(
                "no backup store: add a [profiles.<name>.backup_store] section (hosts, database, user, \
                 password_file) to {}",
                crate::config::config_path().display()
            ),
        }
    }
}

fn valid_identifier(name: &str) -> bool {
    !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// MySQL's "unknown database" and "no such table" error codes.
const ER_BAD_DB_ERROR: u16 = 1049;
const ER_NO_SUCH_TABLE: u16 = 1146;

/// A store read before any backup was written to it: not a failure, an empty store (the first
/// write creates the database and its tables).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{host}: no backup was ever taken (the backup store's database {database} does not exist yet)")]
pub struct NoBackupsYet {
    pub host: String,
    pub database: String,
}

/// What the caller will do with the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Writes: only the writable server; the schema is created or upgraded.
    Write,
    /// Reads: the writable server if one answers, else any.
    Read,
}

/// An open connection to the store's database on one server.
pub struct Store {
    conn: Conn,
    host: String,
    database: String,
    writable: bool,
    /// How the connection was made, for [`Store::sibling`].
    target: Target,
}

/// The totals a finished snapshot records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    pub znodes: u64,
    pub bytes: u64,
    pub min_zxid: Option<i64>,
    pub max_zxid: Option<i64>,
    pub checksum: String,
}

/// What a new snapshot row starts with.
#[derive(Debug, Clone)]
pub struct NewSnapshot {
    pub ensemble: String,
    pub root: String,
    pub include_ephemeral: bool,
    pub started_ms: i64,
    pub operator: String,
    pub host: String,
    pub origin: String,
    pub note: String,
}

fn target(host: &str, access: &StoreAccess) -> Result<Target> {
    let (name, port) = match host.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().with_context(|| format!("backup store host {host:?}: bad port"))?),
        None => (host, 3306),
    };
    Ok(Target {
        host: name.to_string(),
        port,
        user: access.user.clone(),
        password: access.password.clone(),
        tls: access.tls.clone(),
    })
}

async fn probe(host: String, access: StoreAccess) -> (String, Result<(Conn, bool)>) {
    let result = async {
        let t = target(&host, &access)?;
        let mut conn = crate::mysql::connect(&t, Duration::from_millis(STORE_CONNECT_TIMEOUT_MS)).await?;
        let read_only: Option<u8> = tokio::time::timeout(
            Duration::from_millis(STORE_CONNECT_TIMEOUT_MS),
            conn.query_first("SELECT @@global.read_only"),
        )
        .await
        .context("no answer to SELECT @@global.read_only")??;
        Ok((conn, read_only == Some(0)))
    }
    .await;
    (host, result)
}

impl Store {
    /// Connects to every listed server at once and picks one (see the module doc).
    pub async fn open(access: &StoreAccess, want: Want) -> Result<Store> {
        let probes = futures::future::join_all(access.hosts.iter().map(|h| probe(h.clone(), access.clone()))).await;
        let mut writable = Vec::new();
        let mut readable = Vec::new();
        let mut problems = Vec::new();
        for (host, result) in probes {
            match result {
                Ok((conn, true)) => writable.push((host, conn)),
                Ok((conn, false)) => readable.push((host, conn)),
                Err(e) => problems.push(format!("{host}: {e:#}")),
            }
        }
        if writable.len() > 1 {
            let names: Vec<&str> = writable.iter().map(|(h, _)| h.as_str()).collect();
            bail!(
                "the backup store has {} writable servers ({}): refusing to choose one",
                names.len(),
                names.join(", ")
            );
        }
        let (host, conn, is_writable) = match (writable.pop(), want) {
            (Some((h, c)), _) => (h, c, true),
            (None, Want::Read) if !readable.is_empty() => {
                let (h, c) = readable.remove(0);
                (h, c, false)
            }
            (None, _) => {
                let mut why = problems;
                why.extend(readable.iter().map(|(h, _)| format!("{h}: read-only")));
                bail!("no writable backup store server: {}", why.join("; "));
            }
        };
        let target = target(&host, access)?;
        let mut store = Store { conn, host, database: access.database.clone(), writable: is_writable, target };
        store.prepare_schema(want).await?;
        Ok(store)
    }

    /// A second connection to the same server and database (for writes side by side: a
    /// snapshot's rows go through two connections, each its own transactions).
    pub(crate) async fn sibling(&self) -> Result<Store> {
        let conn = crate::mysql::connect(&self.target, Duration::from_millis(STORE_CONNECT_TIMEOUT_MS))
            .await
            .with_context(|| format!("{}: a second connection", self.host))?;
        let mut store = Store {
            conn,
            host: self.host.clone(),
            database: self.database.clone(),
            writable: self.writable,
            target: self.target.clone(),
        };
        let db = store.database.clone();
        store.conn.query_drop(format!("USE `{db}`")).await.with_context(|| format!("{}: USE {db}", store.host))?;
        Ok(store)
    }

    /// `host:port` of the server in use.
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    /// Whether the server in use takes writes.
    pub fn writable(&self) -> bool {
        self.writable
    }

    /// The connection, for the record of dumps (`backup::dump`).
    pub fn conn(&mut self) -> &mut Conn {
        &mut self.conn
    }

    async fn prepare_schema(&mut self, want: Want) -> Result<()> {
        let db = self.database.clone();
        if want == Want::Write {
            self.conn
                .query_drop(format!("CREATE DATABASE IF NOT EXISTS `{db}`"))
                .await
                .with_context(|| format!("{}: creating the database {db}", self.host))?;
        }
        match self.conn.query_drop(format!("USE `{db}`")).await {
            Ok(()) => {}
            Err(mysql_async::Error::Server(e)) if e.code == ER_BAD_DB_ERROR => {
                return Err(NoBackupsYet { host: self.host.clone(), database: db }.into())
            }
            Err(e) => return Err(e).with_context(|| format!("{}: USE {db}", self.host)),
        }
        if want == Want::Write {
            for ddl in TABLES {
                self.conn
                    .query_drop(*ddl)
                    .await
                    .with_context(|| format!("{}: creating the store's tables", self.host))?;
            }
            self.conn
                .exec_drop("INSERT IGNORE INTO store_version (id, version) VALUES (1, ?)", (STORE_VERSION,))
                .await
                .context("recording the store's version")?;
        }
        let version: Option<u32> = match self.conn.query_first("SELECT version FROM store_version WHERE id = 1").await {
            Ok(v) => v,
            Err(mysql_async::Error::Server(e)) if e.code == ER_NO_SUCH_TABLE => {
                return Err(NoBackupsYet { host: self.host.clone(), database: db }.into())
            }
            Err(e) => return Err(e).with_context(|| format!("{}: reading the store's version", self.host)),
        };
        match version {
            Some(v) if v > STORE_VERSION => {
                bail!("the backup store in {db} has layout {v}, newer than this myzoo's {STORE_VERSION}: upgrade myzoo")
            }
            Some(_) => Ok(()),
            None => bail!("the backup store in {db} has no version row"),
        }
    }

    /// Starts a snapshot row (`running`) and returns its id.
    pub async fn begin_snapshot(&mut self, s: &NewSnapshot) -> Result<u64> {
        self.conn
            .exec_drop(
                "INSERT INTO zk_snapshot (state, ensemble, root, include_ephemeral, started_ms, operator, host, origin, note) \
                 VALUES ('running', ?, ?, ?, ?, ?, ?, ?, ?)",
                (&s.ensemble, &s.root, s.include_ephemeral, s.started_ms, &s.operator, &s.host, &s.origin, &s.note),
            )
            .await
            .context("starting the snapshot row")?;
        self.conn.last_insert_id().context("the store returned no snapshot id")
    }

    /// Inserts znodes `first_seq..` of snapshot `id` in one transaction, as multi-row inserts.
    pub async fn insert_znodes(&mut self, id: u64, first_seq: u32, records: &[ZnodeRecord]) -> Result<()> {
        let mut tx = self.conn.start_transaction(mysql_async::TxOpts::default()).await?;
        let mut seq = first_seq;
        let mut rest = records;
        let mut acl_json: Option<(&[AclEntry], String)> = None;
        while !rest.is_empty() {
            let mut n = 0;
            let mut bytes = 0;
            while n < rest.len() && n < INSERT_ROWS && (n == 0 || bytes + rest[n].data.len() <= INSERT_BYTES) {
                bytes += rest[n].data.len() + rest[n].path.len();
                n += 1;
            }
            let (chunk, tail) = rest.split_at(n);
            let mut params = Vec::with_capacity(chunk.len() * ZNODE_COLUMN_COUNT);
            for r in chunk {
                // Most znodes share their neighbour's ACL: its JSON is made once per run.
                if acl_json.as_ref().is_none_or(|(acl, _)| *acl != r.acl.as_slice()) {
                    acl_json = Some((r.acl.as_slice(), acl_to_json(&r.acl)));
                }
                let acl = acl_json.as_ref().map_or_else(String::new, |(_, json)| json.clone());
                params.extend(znode_values(id, seq, r, acl));
                seq += 1;
            }
            let sql = insert_sql(chunk.len());
            tx.exec_drop(sql, Params::Positional(params)).await.context("writing znode rows")?;
            rest = tail;
        }
        tx.commit().await.context("committing znode rows")?;
        Ok(())
    }

    /// Marks snapshot `id` complete with its totals.
    pub async fn finish_snapshot(&mut self, id: u64, finished_ms: i64, t: &Totals) -> Result<()> {
        self.conn
            .exec_drop(
                "UPDATE zk_snapshot SET state = 'complete', finished_ms = ?, znodes = ?, bytes = ?, min_zxid = ?, \
                 max_zxid = ?, checksum = ? WHERE id = ?",
                (finished_ms, t.znodes, t.bytes, t.min_zxid, t.max_zxid, &t.checksum, id),
            )
            .await
            .context("finishing the snapshot row")
    }

    /// Marks snapshot `id` failed with the reason (its rows stay until `prune`).
    pub async fn fail_snapshot(&mut self, id: u64, finished_ms: i64, error: &str) -> Result<()> {
        self.conn
            .exec_drop(
                "UPDATE zk_snapshot SET state = 'failed', finished_ms = ?, error = ? WHERE id = ?",
                (finished_ms, error, id),
            )
            .await
            .context("marking the snapshot failed")
    }

    /// Every snapshot, newest first.
    pub async fn snapshots(&mut self) -> Result<Vec<SnapshotMeta>> {
        let rows: Vec<Row> = self
            .conn
            .query(format!("SELECT {SNAPSHOT_COLUMNS} FROM zk_snapshot ORDER BY id DESC"))
            .await
            .context("listing snapshots")?;
        rows.into_iter().map(snapshot_from_row).collect()
    }

    /// One snapshot, or an error naming it.
    pub async fn snapshot(&mut self, id: u64) -> Result<SnapshotMeta> {
        let row: Option<Row> = self
            .conn
            .exec_first(format!("SELECT {SNAPSHOT_COLUMNS} FROM zk_snapshot WHERE id = ?"), (id,))
            .await
            .context("reading the snapshot row")?;
        match row {
            Some(r) => snapshot_from_row(r),
            None => bail!("no snapshot {id} in the backup store ({} on {})", self.database, self.host),
        }
    }

    /// Up to `limit` znodes of snapshot `id` after `after_seq` (`None`: from the start), in
    /// snapshot order, only those at or below `under` when given. Returns each with its `seq`.
    pub async fn znode_page(
        &mut self,
        id: u64,
        after_seq: Option<u32>,
        under: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(u32, ZnodeRecord)>> {
        let mut sql = format!("SELECT {ZNODE_COLUMNS} FROM zk_znode WHERE snapshot_id = ? AND seq > ?");
        let mut params: Vec<Value> = vec![id.into(), after_seq.map_or(-1i64, i64::from).into()];
        if let Some(p) = under.filter(|p| *p != "/") {
            sql.push_str(" AND (path = ? OR path LIKE ?)");
            params.push(p.into());
            params.push(format!("{}/%", like_escape(p)).into());
        }
        sql.push_str(&format!(" ORDER BY seq LIMIT {limit}"));
        let rows: Vec<Row> = self.conn.exec(sql, Params::Positional(params)).await.context("reading znode rows")?;
        rows.into_iter().map(znode_from_row).collect()
    }

    /// The znode at exactly `path` in snapshot `id`, if it holds one (the diff's data view).
    pub async fn znode_at(&mut self, id: u64, path: &str) -> Result<Option<ZnodeRecord>> {
        let row: Option<Row> = self
            .conn
            .exec_first(format!("SELECT {ZNODE_COLUMNS} FROM zk_znode WHERE snapshot_id = ? AND path = ?"), (id, path))
            .await
            .context("reading a znode row")?;
        row.map(|r| znode_from_row(r).map(|(_, z)| z)).transpose()
    }

    /// Recomputes snapshot `id`'s checksum from its rows and compares it with the recorded one.
    /// Refuses a snapshot that is not complete, or whose rows do not add up.
    pub async fn verify(&mut self, id: u64) -> Result<SnapshotMeta> {
        let meta = self.snapshot(id).await?;
        if meta.state != SnapshotState::Complete {
            return Err(Untrusted(format!(
                "snapshot {id} is {}, not complete: it cannot be trusted",
                meta.state.label()
            ))
            .into());
        }
        let mut digest = ContentDigest::new();
        let mut after = None;
        loop {
            let page = self.znode_page(id, after, None, READ_PAGE_ROWS).await?;
            let Some((last, _)) = page.last() else { break };
            after = Some(*last);
            page.iter().for_each(|(_, r)| digest.push(r));
        }
        let count = digest.count();
        let sum = digest.finish();
        if count != meta.znodes {
            return Err(Untrusted(format!(
                "snapshot {id} is corrupt: it records {} znodes but holds {count}",
                meta.znodes
            ))
            .into());
        }
        if meta.checksum.as_deref() != Some(sum.as_str()) {
            return Err(Untrusted(format!(
                "snapshot {id} is corrupt: its checksum is {} but its znodes add up to {sum}",
                meta.checksum.as_deref().unwrap_or("missing")
            ))
            .into());
        }
        Ok(meta)
    }

    /// Removes snapshot `id` and its znodes (in bounded chunks); returns the znode rows removed.
    pub async fn delete_snapshot(&mut self, id: u64) -> Result<u64> {
        let mut removed = 0;
        loop {
            self.conn
                .exec_drop(format!("DELETE FROM zk_znode WHERE snapshot_id = ? LIMIT {DELETE_ROWS}"), (id,))
                .await
                .context("removing znode rows")?;
            let n = self.conn.affected_rows();
            removed += n;
            if n < DELETE_ROWS as u64 {
                break;
            }
        }
        self.conn
            .exec_drop("DELETE FROM zk_snapshot WHERE id = ?", (id,))
            .await
            .context("removing the snapshot row")?;
        Ok(removed)
    }
}

/// Snapshot `id`'s znodes at or below `under`, in snapshot order, read a page at a time so
/// memory stays flat however large the snapshot is.
pub fn znodes<'a>(
    store: &'a mut Store,
    id: u64,
    under: Option<&'a str>,
) -> impl Stream<Item = Result<ZnodeRecord>> + 'a {
    let pages = stream::try_unfold((store, None::<u32>, false), move |(store, after, done)| async move {
        if done {
            return Ok(None);
        }
        let page = store.znode_page(id, after, under, READ_PAGE_ROWS).await?;
        let last = page.last().map(|(s, _)| *s);
        let done = page.len() < READ_PAGE_ROWS;
        let records: Vec<Result<ZnodeRecord>> = page.into_iter().map(|(_, r)| Ok(r)).collect();
        Ok::<_, anyhow::Error>(Some((stream::iter(records), (store, last.or(after), done))))
    });
    futures::TryStreamExt::try_flatten(pages)
}

/// `LIKE` pattern text matching `text` literally (`\` is MariaDB's default escape).
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `INSERT INTO zk_znode … VALUES (?, …), …` for `rows` rows.
fn insert_sql(rows: usize) -> String {
    let row = format!("({})", vec!["?"; ZNODE_COLUMN_COUNT].join(","));
    let mut sql = String::with_capacity(64 + ZNODE_COLUMNS.len() + rows * (row.len() + 1));
    sql.push_str("INSERT INTO zk_znode (");
    sql.push_str(ZNODE_COLUMNS);
    sql.push_str(") VALUES ");
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(&row);
    }
    sql
}

/// A row's values; `acl_json` is `acl_to_json(&r.acl)`.
fn znode_values(id: u64, seq: u32, r: &ZnodeRecord, acl_json: String) -> [Value; ZNODE_COLUMN_COUNT] {
    let s = &r.stat;
    [
        id.into(),
        seq.into(),
        r.path.as_str().into(),
        r.data.as_slice().into(),
        r.mode.label().into(),
        r.mode.ttl_ms().into(),
        acl_json.into(),
        s.czxid.into(),
        s.mzxid.into(),
        s.pzxid.into(),
        s.ctime_ms.into(),
        s.mtime_ms.into(),
        s.version.into(),
        s.cversion.into(),
        s.aversion.into(),
        s.ephemeral_owner.into(),
        s.data_length.into(),
        s.num_children.into(),
    ]
}

fn take<T: mysql_async::prelude::FromValue>(row: &mut Row, i: usize, name: &str) -> Result<T> {
    match row.take_opt::<T, usize>(i) {
        Some(Ok(v)) => Ok(v),
        Some(Err(e)) => bail!("column {name}: {e}"),
        None => bail!("column {name} missing"),
    }
}

fn znode_from_row(mut row: Row) -> Result<(u32, ZnodeRecord)> {
    let seq: u32 = take(&mut row, 1, "seq")?;
    let path: String = take(&mut row, 2, "path")?;
    let data: Vec<u8> = take(&mut row, 3, "data")?;
    let mode_label: String = take(&mut row, 4, "mode")?;
    let ttl_ms: Option<u64> = take(&mut row, 5, "ttl_ms")?;
    let acl_text: String = take(&mut row, 6, "acl")?;
    let mode = ZnodeMode::from_parts(&mode_label, ttl_ms)
        .with_context(|| format!("{path}: unknown mode {mode_label:?} in the store"))?;
    let acl = acl_from_json(&acl_text).with_context(|| format!("{path}: unreadable ACL in the store"))?;
    let stat = NodeStat {
        czxid: take(&mut row, 7, "czxid")?,
        mzxid: take(&mut row, 8, "mzxid")?,
        pzxid: take(&mut row, 9, "pzxid")?,
        ctime_ms: take(&mut row, 10, "ctime_ms")?,
        mtime_ms: take(&mut row, 11, "mtime_ms")?,
        version: take(&mut row, 12, "version")?,
        cversion: take(&mut row, 13, "cversion")?,
        aversion: take(&mut row, 14, "aversion")?,
        ephemeral_owner: take(&mut row, 15, "ephemeral_owner")?,
        data_length: take(&mut row, 16, "data_length")?,
        num_children: take(&mut row, 17, "num_children")?,
    };
    Ok((seq, ZnodeRecord { path, data, stat, acl, mode }))
}

fn snapshot_from_row(mut row: Row) -> Result<SnapshotMeta> {
    let state: String = take(&mut row, 1, "state")?;
    Ok(SnapshotMeta {
        id: take(&mut row, 0, "id")?,
        state: SnapshotState::parse(&state).with_context(|| format!("unknown snapshot state {state:?}"))?,
        ensemble: take(&mut row, 2, "ensemble")?,
        root: take(&mut row, 3, "root")?,
        include_ephemeral: take(&mut row, 4, "include_ephemeral")?,
        started_ms: take(&mut row, 5, "started_ms")?,
        finished_ms: take(&mut row, 6, "finished_ms")?,
        znodes: take(&mut row, 7, "znodes")?,
        bytes: take(&mut row, 8, "bytes")?,
        min_zxid: take(&mut row, 9, "min_zxid")?,
        max_zxid: take(&mut row, 10, "max_zxid")?,
        checksum: take(&mut row, 11, "checksum")?,
        operator: take(&mut row, 12, "operator")?,
        host: take(&mut row, 13, "host")?,
        origin: take(&mut row, 14, "origin")?,
        note: take(&mut row, 15, "note")?,
        error: take(&mut row, 16, "error")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_match_names_literally() {
        assert_eq!(like_escape("/a_b/c%d\\e"), "/a\\_b/c\\%d\\\\e");
    }

    #[test]
    fn store_access_checks_the_profile() {
        let config = BackupStoreConfig {
            hosts: vec!["127.0.0.1:3306".into()],
            database: "myzoo_backup".into(),
            user: "backup".into(),
            password_file: None,
            dump_dir: None,
            tls: crate::tls::TlsMode::Off,
            tls_files: None,
        };
        let access = StoreAccess::from_config(&config).unwrap();
        assert_eq!(target("127.0.0.1:3307", &access).unwrap().port, 3307);
        assert_eq!(target("db.example", &access).unwrap().port, 3306);
        assert!(target("db:x", &access).is_err());
        let bad = BackupStoreConfig { database: "x`; DROP".into(), ..config.clone() };
        assert!(StoreAccess::from_config(&bad).is_err());
        let none = BackupStoreConfig { hosts: vec![], ..config };
        assert!(StoreAccess::from_config(&none).is_err());
        let shown = format!("{:?}", StoreAccess { password: Some("pw".into()), ..access });
        assert!(!shown.contains("pw\"") && shown.contains("<redacted>"), "{shown}");
    }
}
