//! The `mysql_dump` rows of the backup store: one per dump, written `running` when it starts
//! and finished with its figures, read back for `list` and `verify`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use mysql_async::prelude::Queryable;
use mysql_async::Row;

use super::{DumpRecord, DumpState};
use crate::backup::Store;

const COLUMNS: &str = "id, cluster, node, role, source, state, file, started_ms, finished_ms, bytes, raw_bytes, \
                       estimate_bytes, tables_done, tables_total, db_names, gtid_position, checksum, tables_json, \
                       tool, operator, host, origin, history, error";

/// Starts the row (`running`); returns its id.
pub async fn insert(store: &mut Store, r: &DumpRecord) -> Result<u64> {
    let conn = store.conn();
    conn.exec_drop(
        "INSERT INTO mysql_dump (cluster, node, role, source, state, file, started_ms, estimate_bytes, tables_total, \
         db_names, tool, operator, host, origin, history) VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        mysql_async::Params::Positional(vec![
            r.cluster.as_str().into(),
            r.node.as_str().into(),
            r.role.as_str().into(),
            r.source.as_str().into(),
            r.file.display().to_string().into(),
            r.started_ms.into(),
            r.estimate_bytes.into(),
            r.tables_total.into(),
            r.databases.join(",").into(),
            r.tool.as_str().into(),
            r.operator.as_str().into(),
            r.host.as_str().into(),
            r.origin.as_str().into(),
            r.history.clone().into(),
        ]),
    )
    .await
    .context("starting the dump's row")?;
    conn.last_insert_id().context("the store returned no dump id")
}

/// Writes the dump's end: state and every figure.
pub async fn finish(store: &mut Store, r: &DumpRecord) -> Result<()> {
    let Some(id) = r.id else { return Ok(()) };
    let tables = serde_json::to_string(&r.tables).context("encoding the table figures")?;
    let params: Vec<mysql_async::Value> = vec![
        r.state.label().into(),
        r.finished_ms.into(),
        r.bytes.into(),
        r.raw_bytes.into(),
        r.tables_done.into(),
        r.gtid_position.clone().into(),
        r.checksum.clone().into(),
        tables.into(),
        r.error.clone().into(),
        id.into(),
    ];
    store
        .conn()
        .exec_drop(
            "UPDATE mysql_dump SET state = ?, finished_ms = ?, bytes = ?, raw_bytes = ?, tables_done = ?, \
             gtid_position = ?, checksum = ?, tables_json = ?, error = ? WHERE id = ?",
            mysql_async::Params::Positional(params),
        )
        .await
        .context("finishing the dump's row")
}

/// The cluster's dumps, newest first.
pub async fn list(store: &mut Store, cluster: &str) -> Result<Vec<DumpRecord>> {
    let rows: Vec<Row> = store
        .conn()
        .exec(
            format!("SELECT {COLUMNS} FROM mysql_dump WHERE cluster = ? ORDER BY started_ms DESC, id DESC"),
            (cluster,),
        )
        .await
        .context("listing dumps")?;
    rows.into_iter().map(from_row).collect()
}

/// One dump of `cluster` (`None`: no such dump).
pub async fn get(store: &mut Store, cluster: &str, id: u64) -> Result<Option<DumpRecord>> {
    let row: Option<Row> = store
        .conn()
        .exec_first(format!("SELECT {COLUMNS} FROM mysql_dump WHERE id = ? AND cluster = ?"), (id, cluster))
        .await
        .context("reading the dump's row")?;
    row.map(from_row).transpose()
}

pub async fn delete(store: &mut Store, id: u64) -> Result<()> {
    store.conn().exec_drop("DELETE FROM mysql_dump WHERE id = ?", (id,)).await.context("removing the dump's row")
}

fn take<T: mysql_async::prelude::FromValue>(row: &mut Row, i: usize, name: &str) -> Result<T> {
    match row.take_opt::<T, usize>(i) {
        Some(Ok(v)) => Ok(v),
        Some(Err(e)) => bail!("column {name}: {e}"),
        None => bail!("column {name} missing"),
    }
}

fn from_row(mut row: Row) -> Result<DumpRecord> {
    let state: String = take(&mut row, 5, "state")?;
    let file: String = take(&mut row, 6, "file")?;
    let dbs: String = take(&mut row, 14, "db_names")?;
    let tables: Option<String> = take(&mut row, 17, "tables_json")?;
    Ok(DumpRecord {
        id: Some(take(&mut row, 0, "id")?),
        cluster: take(&mut row, 1, "cluster")?,
        node: take(&mut row, 2, "node")?,
        role: take(&mut row, 3, "role")?,
        source: take(&mut row, 4, "source")?,
        state: DumpState::parse(&state).with_context(|| format!("unknown dump state {state:?}"))?,
        file: PathBuf::from(file),
        started_ms: take(&mut row, 7, "started_ms")?,
        finished_ms: take(&mut row, 8, "finished_ms")?,
        bytes: take(&mut row, 9, "bytes")?,
        raw_bytes: take(&mut row, 10, "raw_bytes")?,
        estimate_bytes: take(&mut row, 11, "estimate_bytes")?,
        tables_done: take(&mut row, 12, "tables_done")?,
        tables_total: take(&mut row, 13, "tables_total")?,
        databases: dbs.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
        gtid_position: take(&mut row, 15, "gtid_position")?,
        checksum: take(&mut row, 16, "checksum")?,
        tables: match tables {
            Some(t) => serde_json::from_str(&t).context("the dump's table figures in the store are not readable")?,
            None => Default::default(),
        },
        tool: take(&mut row, 18, "tool")?,
        operator: take(&mut row, 19, "operator")?,
        host: take(&mut row, 20, "host")?,
        origin: take(&mut row, 21, "origin")?,
        history: take(&mut row, 22, "history")?,
        error: take(&mut row, 23, "error")?,
        removed: Vec::new(),
    })
}
