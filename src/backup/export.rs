//! Snapshots as portable JSON files: `export` writes one from the store, `import` reads one into
//! the store as a new snapshot. Both stream, so a snapshot of any size takes flat memory, and the
//! file round-trips byte for byte (data, ACL, stat, mode and the checksum).
//!
//! The file is one JSON document, laid out one znode per line so that it can be read a line at a
//! time (a file reformatted by another tool is still read, as a whole document):
//!
//! ```text
//! {"format":"myzoo-zk-snapshot","version":1,"snapshot":{…the SnapshotMeta fields…},"znodes":[
//! {"path":"/a","data_text":"{\"x\":1}","mode":"persistent","ttl_ms":null,"acl":[{"scheme":"world","id":"anyone","perms":"cdrwa"}],"stat":{"czxid":…,…}},
//! {"path":"/a/b","data_base64":"AP8=","mode":"ttl","ttl_ms":60000,"acl":[…],"stat":{…}}
//! ]}
//! ```
//!
//! - `data_text` holds data that is valid UTF-8 (JSON strings carry it exactly); other data is in
//!   `data_base64` (standard alphabet, padded). A znode has exactly one of the two.
//! - `mode` is `persistent`, `sequential`, `container`, `ttl` (with `ttl_ms`) or `ephemeral`.
//! - `stat` has every field of ZooKeeper's stat (`czxid`, `mzxid`, `pzxid`, `ctime_ms`,
//!   `mtime_ms`, `version`, `cversion`, `aversion`, `ephemeral_owner`, `data_length`,
//!   `num_children`).
//! - znodes are in snapshot order (every parent before its children); `snapshot.checksum` is the
//!   [`ContentDigest`](super::record::ContentDigest) over them, and `snapshot.znodes` their count.
//!
//! `export` checks the checksum as it writes and withholds the closing `]}` unless the rows add
//! up, so a corrupt snapshot never yields a complete file. `import` refuses a file whose znodes
//! do not add up to its recorded checksum, and leaves nothing in the store when it refuses.

use anyhow::{bail, Context, Result};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::record::{AclJson, ContentDigest, SnapshotMeta, SnapshotState, ZnodeMode, ZnodeRecord};
use super::snapshot::{Tally, TX_ROWS};
use super::store::{NewSnapshot, Store, READ_PAGE_ROWS};
use crate::zk::{AclEntry, NodeStat};

/// The `format` field of every export file.
pub const FORMAT: &str = "myzoo-zk-snapshot";
/// The layout this myzoo writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The `origin` of a snapshot made by `import`.
pub const IMPORT_ORIGIN: &str = "import";
/// What ends the header line.
const ZNODES_OPEN: &str = "\"znodes\":[";
/// The last line.
const CLOSE: &str = "]}";

/// The file or the snapshot was refused (a checksum that does not match, a malformed or
/// truncated file, a snapshot that is not complete): nothing was imported or exported.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    snapshot: SnapshotMeta,
}

#[derive(Deserialize)]
struct Document {
    format: String,
    version: u32,
    snapshot: SnapshotMeta,
    znodes: Vec<ZnodeLine>,
}

/// One znode as a line of the file.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ZnodeLine {
    path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data_base64: Option<String>,
    mode: String,
    #[serde(default)]
    ttl_ms: Option<u64>,
    acl: Vec<AclJson>,
    stat: NodeStat,
}

impl ZnodeLine {
    fn of(r: &ZnodeRecord) -> ZnodeLine {
        let (data_text, data_base64) = match std::str::from_utf8(&r.data) {
            Ok(text) => (Some(text.to_string()), None),
            Err(_) => (None, Some(base64::engine::general_purpose::STANDARD.encode(&r.data))),
        };
        ZnodeLine {
            path: r.path.clone(),
            data_text,
            data_base64,
            mode: r.mode.label().to_string(),
            ttl_ms: r.mode.ttl_ms(),
            acl: r
                .acl
                .iter()
                .map(|a| AclJson { scheme: a.scheme.clone(), id: a.id.clone(), perms: a.perms.clone() })
                .collect(),
            stat: r.stat,
        }
    }

    fn into_record(self) -> std::result::Result<ZnodeRecord, String> {
        let data = match (self.data_text, self.data_base64) {
            (Some(text), None) => text.into_bytes(),
            (None, Some(b64)) => base64::engine::general_purpose::STANDARD
                .decode(b64.as_bytes())
                .map_err(|e| format!("{}: data_base64 is not base64: {e}", self.path))?,
            (None, None) => return Err(format!("{}: neither data_text nor data_base64", self.path)),
            (Some(_), Some(_)) => return Err(format!("{}: both data_text and data_base64", self.path)),
        };
        let mode = ZnodeMode::from_parts(&self.mode, self.ttl_ms)
            .ok_or_else(|| format!("{}: unknown mode {:?}", self.path, self.mode))?;
        let acl = self.acl.into_iter().map(|a| AclEntry { scheme: a.scheme, id: a.id, perms: a.perms }).collect();
        Ok(ZnodeRecord { path: self.path, data, stat: self.stat, acl, mode })
    }
}

/// The header line (without its newline).
fn header_line(meta: &SnapshotMeta) -> Result<String> {
    let header = Header { format: FORMAT.to_string(), version: FORMAT_VERSION, snapshot: meta.clone() };
    let text = serde_json::to_string(&header)?;
    let open = text.strip_suffix('}').context("a JSON object ends with }")?;
    Ok(format!("{open},{ZNODES_OPEN}"))
}

/// Writes snapshot `id` to `writer` as an export file (see the module doc) and returns its row.
/// Refuses ([`Refused`]) a snapshot that is not complete or whose rows do not add up; then the
/// output has no closing line, so it cannot be imported.
pub async fn export<W: AsyncWrite + Unpin>(store: &mut Store, id: u64, writer: &mut W) -> Result<SnapshotMeta> {
    let meta = store.snapshot(id).await?;
    if meta.state != SnapshotState::Complete {
        return Err(
            Refused(format!("snapshot {id} is {}, not complete: it cannot be exported", meta.state.label())).into()
        );
    }
    let mut out = tokio::io::BufWriter::with_capacity(1 << 20, writer);
    let mut buf = header_line(&meta)?.into_bytes();
    let mut digest = ContentDigest::new();
    let mut after = None;
    loop {
        let page = store.znode_page(id, after, None, READ_PAGE_ROWS).await?;
        let Some((last, _)) = page.last() else { break };
        after = Some(*last);
        for (_, r) in &page {
            digest.push(r);
            buf.extend_from_slice(if digest.count() == 1 { b"\n" } else { b",\n" });
            serde_json::to_writer(&mut buf, &ZnodeLine::of(r))?;
        }
        out.write_all(&buf).await.context("writing the export")?;
        buf.clear();
        if page.len() < READ_PAGE_ROWS {
            break;
        }
    }
    let count = digest.count();
    let sum = digest.finish();
    if count != meta.znodes || meta.checksum.as_deref() != Some(sum.as_str()) {
        out.flush().await.ok();
        return Err(Refused(format!(
            "snapshot {id} is corrupt: it records {} znodes with checksum {}, but its rows are {count} znodes \
             adding up to {sum}",
            meta.znodes,
            meta.checksum.as_deref().unwrap_or("missing")
        ))
        .into());
    }
    buf.extend_from_slice(b"\n");
    buf.extend_from_slice(CLOSE.as_bytes());
    buf.extend_from_slice(b"\n");
    out.write_all(&buf).await.context("writing the export")?;
    out.flush().await.context("writing the export")?;
    Ok(meta)
}

/// Who imports, and why (recorded in the new snapshot's row).
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Empty: `import of snapshot N (taken … UTC from …)`.
    pub note: String,
    pub operator: String,
    pub host: String,
}

/// Reads an export file from `reader` into the store as a new snapshot (origin `import`) and
/// returns its row; its checksum is the original's. A malformed or truncated file, or one whose
/// znodes do not add up to its checksum, is refused ([`Refused`], naming the line) and leaves
/// nothing in the store.
pub async fn import<R: AsyncBufRead + Unpin>(
    store: &mut Store,
    reader: &mut R,
    opts: &ImportOptions,
) -> Result<SnapshotMeta> {
    let mut first = Vec::new();
    reader.read_until(b'\n', &mut first).await.context("reading the file")?;
    let head = std::str::from_utf8(&first).ok().map(str::trim_end).and_then(|l| l.strip_suffix(ZNODES_OPEN));
    match head {
        Some(open) => {
            let text = format!("{}}}", open.trim_end().trim_end_matches(','));
            let header: Header =
                serde_json::from_str(&text).map_err(|e| Refused(format!("line 1: not an export header: {e}")))?;
            let meta = check_header(header.format, header.version, header.snapshot)?;
            let mut lines = Lines { reader, line: 1, closed: false };
            write_new(store, &meta, opts, &mut lines).await
        }
        None => {
            // Not laid out a znode per line (reformatted): read it as one document.
            let mut all = first;
            reader.read_to_end(&mut all).await.context("reading the file")?;
            let doc: Document = serde_json::from_slice(&all).map_err(|e| {
                Refused(format!("line {}, column {}: not a myzoo snapshot export: {e}", e.line(), e.column()))
            })?;
            let meta = check_header(doc.format, doc.version, doc.snapshot)?;
            let mut items = doc.znodes.into_iter().enumerate();
            let mut next = move || -> NextRecord {
                let (i, z) = items.next()?;
                Some(z.into_record().map_err(|e| format!("znode {}: {e}", i + 1)))
            };
            write_new(store, &meta, opts, &mut next).await
        }
    }
}

fn check_header(format: String, version: u32, meta: SnapshotMeta) -> Result<SnapshotMeta> {
    if format != FORMAT {
        return Err(Refused(format!("not a myzoo snapshot export (format {format:?})")).into());
    }
    if version > FORMAT_VERSION {
        return Err(Refused(format!(
            "the file has export format {version}, newer than this myzoo's {FORMAT_VERSION}: upgrade myzoo"
        ))
        .into());
    }
    if meta.state != SnapshotState::Complete || meta.checksum.is_none() {
        return Err(Refused(format!("the file holds snapshot {} that is not complete", meta.id)).into());
    }
    Ok(meta)
}

/// The next record of a file, `None` at its end, or why it could not be read (naming where).
type NextRecord = Option<std::result::Result<ZnodeRecord, String>>;

/// Where `write_new` gets its records: a streamed file or a parsed document.
trait Source {
    async fn next_record(&mut self) -> Result<NextRecord>;
}

impl<F: FnMut() -> NextRecord + Send> Source for F {
    async fn next_record(&mut self) -> Result<NextRecord> {
        Ok(self())
    }
}

/// A file read a znode per line after its header.
struct Lines<'r, R> {
    reader: &'r mut R,
    line: u64,
    closed: bool,
}

impl<R: AsyncBufRead + Unpin> Source for Lines<'_, R> {
    async fn next_record(&mut self) -> Result<NextRecord> {
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let n = self.reader.read_until(b'\n', &mut buf).await.context("reading the file")?;
            if n == 0 {
                if self.closed {
                    return Ok(None);
                }
                return Ok(Some(Err(format!(
                    "line {}: the file ends before its closing {CLOSE} (truncated?)",
                    self.line + 1
                ))));
            }
            self.line += 1;
            let Ok(text) = std::str::from_utf8(&buf) else {
                return Ok(Some(Err(format!("line {}: not UTF-8", self.line))));
            };
            let text = text.trim();
            if self.closed {
                if text.is_empty() {
                    continue;
                }
                return Ok(Some(Err(format!("line {}: text after the closing {CLOSE}", self.line))));
            }
            if text == CLOSE {
                self.closed = true;
                continue;
            }
            let object = text.strip_suffix(',').unwrap_or(text);
            let parsed = serde_json::from_str::<ZnodeLine>(object)
                .map_err(|e| format!("line {}: not a znode: {e}", self.line))
                .and_then(|z| z.into_record().map_err(|e| format!("line {}: {e}", self.line)));
            return Ok(Some(parsed));
        }
    }
}

/// Writes the records of `source` as a new snapshot described by `meta`; on any problem the
/// partial snapshot is removed.
async fn write_new(
    store: &mut Store,
    meta: &SnapshotMeta,
    opts: &ImportOptions,
    source: &mut impl Source,
) -> Result<SnapshotMeta> {
    let note = if opts.note.is_empty() {
        format!(
            "import of snapshot {} (taken {} UTC from {})",
            meta.id,
            crate::zk::format::utc_timestamp(meta.started_ms),
            meta.ensemble
        )
    } else {
        opts.note.clone()
    };
    let id = store
        .begin_snapshot(&NewSnapshot {
            ensemble: meta.ensemble.clone(),
            root: meta.root.clone(),
            include_ephemeral: meta.include_ephemeral,
            started_ms: crate::audit::now_ms(),
            operator: opts.operator.clone(),
            host: opts.host.clone(),
            origin: IMPORT_ORIGIN.to_string(),
            note,
        })
        .await?;
    match fill(store, id, meta, source).await {
        Ok(()) => store.snapshot(id).await,
        Err(e) => {
            if let Err(d) = store.delete_snapshot(id).await {
                tracing::warn!(snapshot = id, error = %format!("{d:#}"), "could not remove a refused import");
                let _ = store.fail_snapshot(id, crate::audit::now_ms(), &format!("{e:#}")).await;
            }
            Err(e)
        }
    }
}

async fn fill(store: &mut Store, id: u64, meta: &SnapshotMeta, source: &mut impl Source) -> Result<()> {
    let mut tally = Tally::default();
    let mut group = Vec::with_capacity(TX_ROWS);
    let mut seq: u32 = 0;
    loop {
        let next = source.next_record().await?;
        let done = match next {
            Some(Ok(r)) => {
                if !within(&r.path, &meta.root) {
                    return Err(Refused(format!("{}: outside the snapshot's root {}", r.path, meta.root)).into());
                }
                tally.push(&r);
                group.push(r);
                false
            }
            Some(Err(why)) => return Err(Refused(why).into()),
            None => true,
        };
        if group.len() >= TX_ROWS || (done && !group.is_empty()) {
            store.insert_znodes(id, seq, &group).await?;
            seq = seq.checked_add(group.len() as u32).context("more znodes than a snapshot can number")?;
            group.clear();
        }
        if done {
            break;
        }
    }
    let totals = tally.totals();
    if totals.znodes != meta.znodes || meta.checksum.as_deref() != Some(totals.checksum.as_str()) {
        return Err(Refused(format!(
            "the file's znodes do not match its checksum: it records {} znodes with checksum {}, but holds {} \
             adding up to {} (changed or damaged since it was exported)",
            meta.znodes,
            meta.checksum.as_deref().unwrap_or("missing"),
            totals.znodes,
            totals.checksum
        ))
        .into());
    }
    store.finish_snapshot(id, crate::audit::now_ms(), &totals).await
}

/// Whether `path` is `root` or below it.
fn within(path: &str, root: &str) -> bool {
    let r = root.trim_end_matches('/');
    (r.is_empty() && path.starts_with('/'))
        || path == r
        || path.strip_prefix(r).is_some_and(|rest| rest.starts_with('/'))
}

/// Reads a whole export file into records and its header, for tests and small files.
pub fn parse_document(text: &[u8]) -> Result<(SnapshotMeta, Vec<ZnodeRecord>)> {
    let doc: Document = serde_json::from_slice(text).context("not a myzoo snapshot export")?;
    let meta = check_header(doc.format, doc.version, doc.snapshot)?;
    let records = doc.znodes.into_iter().map(ZnodeLine::into_record).collect::<std::result::Result<Vec<_>, _>>();
    match records {
        Ok(r) => Ok((meta, r)),
        Err(e) => bail!(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(path: &str, data: &[u8], mode: ZnodeMode) -> ZnodeRecord {
        ZnodeRecord {
            path: path.into(),
            data: data.to_vec(),
            stat: NodeStat { czxid: 3, mzxid: 4, pzxid: 5, ctime_ms: 6, version: 1, ..NodeStat::default() },
            acl: vec![AclEntry { scheme: "digest".into(), id: "ops:x=".into(), perms: "cdrwa".into() }],
            mode,
        }
    }

    #[test]
    fn lines_round_trip_text_and_binary_data() {
        for r in [
            record("/a", b"{\"x\":1}\n\t\0", ZnodeMode::Persistent),
            record("/a/ü €", &[0, 159, 255], ZnodeMode::Ttl { ttl_ms: 60_000 }),
            record("/a/e", b"", ZnodeMode::Container),
        ] {
            let text = serde_json::to_string(&ZnodeLine::of(&r)).unwrap();
            assert!(!text.contains('\n'), "one line: {text}");
            let back = serde_json::from_str::<ZnodeLine>(&text).unwrap().into_record().unwrap();
            assert_eq!(back, r);
        }
        let bin = serde_json::to_string(&ZnodeLine::of(&record("/b", &[0xff], ZnodeMode::Persistent))).unwrap();
        assert!(bin.contains("\"data_base64\":\"/w==\"") && !bin.contains("data_text"), "{bin}");
        let both = r#"{"path":"/x","data_text":"","data_base64":"","mode":"persistent","ttl_ms":null,"acl":[],"stat":{"czxid":0,"mzxid":0,"pzxid":0,"ctime_ms":0,"mtime_ms":0,"version":0,"cversion":0,"aversion":0,"ephemeral_owner":0,"data_length":0,"num_children":0}}"#;
        assert!(serde_json::from_str::<ZnodeLine>(both).unwrap().into_record().is_err());
        assert!(
            serde_json::from_str::<ZnodeLine>(
                &both.replace("\"persistent\"", "\"ttl\"").replace(",\"data_base64\":\"\"", "")
            )
            .unwrap()
            .into_record()
            .is_err(),
            "a TTL mode needs ttl_ms"
        );
    }

    #[test]
    fn the_header_line_opens_the_znode_list() {
        let meta = SnapshotMeta {
            id: 7,
            state: SnapshotState::Complete,
            ensemble: "127.0.0.1:2181".into(),
            root: "/myzoo".into(),
            include_ephemeral: false,
            started_ms: 1,
            finished_ms: Some(2),
            znodes: 0,
            bytes: 0,
            min_zxid: None,
            max_zxid: None,
            checksum: Some(ContentDigest::new().finish()),
            operator: "me".into(),
            host: "h".into(),
            origin: "cli".into(),
            note: String::new(),
            error: None,
        };
        let line = header_line(&meta).unwrap();
        assert!(line.starts_with("{\"format\":\"myzoo-zk-snapshot\",\"version\":1,\"snapshot\":{\"id\":7,"), "{line}");
        assert!(line.ends_with("},\"znodes\":["), "{line}");
        let doc = format!("{line}\n{CLOSE}\n");
        let (back, records) = parse_document(doc.as_bytes()).unwrap();
        assert_eq!((back, records.len()), (meta, 0));
    }

    #[test]
    fn paths_must_be_under_the_root() {
        assert!(within("/a", "/"));
        assert!(within("/a/b", "/a"));
        assert!(within("/a", "/a"));
        assert!(!within("/ab", "/a"));
        assert!(!within("a", "/"));
    }
}
