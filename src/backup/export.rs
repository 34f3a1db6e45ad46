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
//!   [`super::record::ContentDigest`] over them, and `snapshot.znodes` their count.
//!
//! `export` checks the checksum as it writes and withholds the closing `]}` unless the rows add
//! up, so a corrupt snapshot never yields a complete file. `import` refuses a file whose znodes
//! do not add up to its recorded checksum, and leaves nothing in the store when it refuses.

use anyhow::{Context, Result};
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

/// Appends a znode's line to `buf`, after the header (`first`) or after the previous line.
fn push_line(buf: &mut Vec<u8>, first: bool, r: &ZnodeRecord) -> Result<()> {
    buf.extend_from_slice(if first { b"\n" } else { b",\n" });
    serde_json::to_writer(&mut *buf, &ZnodeLine::of(r))?;
    Ok(())
}

/// Appends the closing line, which only a complete file has.
fn push_close(buf: &mut Vec<u8>) {
    buf.extend_from_slice(b"\n");
    buf.extend_from_slice(CLOSE.as_bytes());
    buf.extend_from_slice(b"\n");
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
            push_line(&mut buf, digest.count() == 1, r)?;
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
    push_close(&mut buf);
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
    let (meta, mut records) = open(reader).await?;
    write_new(store, &meta, opts, &mut records).await
}

/// Reads an export file with every check [`import`] makes (the header, each line, each path
/// under the root, the count and the checksum), without a store: its snapshot's row and its
/// records, held in memory. For tests and small files.
pub async fn read_file<R: AsyncBufRead + Unpin>(reader: &mut R) -> Result<(SnapshotMeta, Vec<ZnodeRecord>)> {
    let (meta, mut records) = open(reader).await?;
    let mut check = Check::new(&meta);
    let mut out = Vec::new();
    while let Some(r) = records.next_record().await? {
        let r = r.map_err(Refused)?;
        check.push(&r)?;
        out.push(r);
    }
    check.finish()?;
    Ok((meta, out))
}

/// Reads the header of an export file: the snapshot's row, and where its records come from.
async fn open<R: AsyncBufRead + Unpin>(reader: &mut R) -> Result<(SnapshotMeta, Records<'_, R>)> {
    let mut first = Vec::new();
    reader.read_until(b'\n', &mut first).await.context("reading the file")?;
    let head = std::str::from_utf8(&first).ok().map(str::trim_end).and_then(|l| l.strip_suffix(ZNODES_OPEN));
    match head {
        Some(open) => {
            let text = format!("{}}}", open.trim_end().trim_end_matches(','));
            let header: Header =
                serde_json::from_str(&text).map_err(|e| Refused(format!("line 1: not an export header: {e}")))?;
            let meta = check_header(header.format, header.version, header.snapshot)?;
            Ok((meta, Records::Lines(Lines { reader, line: 1, closed: false })))
        }
        None => {
            // Not laid out a znode per line (reformatted): read it as one document.
            let mut all = first;
            reader.read_to_end(&mut all).await.context("reading the file")?;
            let doc: Document = serde_json::from_slice(&all).map_err(|e| {
                Refused(format!("line {}, column {}: not a myzoo snapshot export: {e}", e.line(), e.column()))
            })?;
            let meta = check_header(doc.format, doc.version, doc.snapshot)?;
            Ok((meta, Records::Document(doc.znodes.into_iter().enumerate())))
        }
    }
}

/// A file's records: its lines after the header, or the znodes of a whole parsed document.
enum Records<'r, R> {
    Lines(Lines<'r, R>),
    Document(std::iter::Enumerate<std::vec::IntoIter<ZnodeLine>>),
}

impl<R: AsyncBufRead + Unpin> Source for Records<'_, R> {
    async fn next_record(&mut self) -> Result<NextRecord> {
        match self {
            Records::Lines(lines) => lines.next_record().await,
            Records::Document(items) => {
                Ok(items.next().map(|(i, z)| z.into_record().map_err(|e| format!("znode {}: {e}", i + 1))))
            }
        }
    }
}

/// What every reader of a file checks as the records come: each one under the snapshot's
/// root; at the end, the count and checksum the header records.
struct Check<'m> {
    meta: &'m SnapshotMeta,
    tally: Tally,
}

impl<'m> Check<'m> {
    fn new(meta: &'m SnapshotMeta) -> Check<'m> {
        Check { meta, tally: Tally::default() }
    }

    fn push(&mut self, r: &ZnodeRecord) -> Result<()> {
        if !within(&r.path, &self.meta.root) {
            return Err(Refused(format!("{}: outside the snapshot's root {}", r.path, self.meta.root)).into());
        }
        self.tally.push(r);
        Ok(())
    }

    fn finish(self) -> Result<super::store::Totals> {
        let meta = self.meta;
        let totals = self.tally.totals();
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
        Ok(totals)
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

/// Where `write_new` gets its records (see [`Records`]).
trait Source {
    async fn next_record(&mut self) -> Result<NextRecord>;
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
    let mut check = Check::new(meta);
    let mut group = Vec::with_capacity(TX_ROWS);
    let mut seq: u32 = 0;
    loop {
        let next = source.next_record().await?;
        let done = match next {
            Some(Ok(r)) => {
                check.push(&r)?;
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
    let totals = check.finish()?;
    store.finish_snapshot(id, crate::audit::now_ms(), &totals).await
}

/// Whether `path` is `root` or below it.
fn within(path: &str, root: &str) -> bool {
    let r = root.trim_end_matches('/');
    (r.is_empty() && path.starts_with('/'))
        || path == r
        || path.strip_prefix(r).is_some_and(|rest| rest.starts_with('/'))
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
        let (back, records) = read(doc.as_bytes()).unwrap();
        assert_eq!((back, records.len()), (meta, 0));
    }

    /// [`read_file`] on bytes, on a runtime of its own.
    fn read(bytes: &[u8]) -> Result<(SnapshotMeta, Vec<ZnodeRecord>)> {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(read_file(&mut &bytes[..]))
    }

    /// An export file as `export` writes it.
    fn file_of(meta: &SnapshotMeta, records: &[ZnodeRecord]) -> Vec<u8> {
        let mut buf = header_line(meta).unwrap().into_bytes();
        for (i, r) in records.iter().enumerate() {
            push_line(&mut buf, i == 0, r).unwrap();
        }
        push_close(&mut buf);
        buf
    }

    /// The row `export` writes in the header for `records` under `root`.
    fn meta_of(root: &str, records: &[ZnodeRecord], note: String) -> SnapshotMeta {
        let mut digest = ContentDigest::new();
        for r in records {
            digest.push(r);
        }
        SnapshotMeta {
            id: 42,
            state: SnapshotState::Complete,
            ensemble: "127.0.0.1:2181".into(),
            root: root.into(),
            include_ephemeral: true,
            started_ms: 1,
            finished_ms: Some(2),
            znodes: digest.count(),
            bytes: records.iter().map(|r| r.data.len() as u64).sum(),
            min_zxid: None,
            max_zxid: None,
            checksum: Some(digest.finish()),
            operator: "me".into(),
            host: "h".into(),
            origin: "cli".into(),
            note,
            error: None,
        }
    }

    mod props {
        use proptest::prelude::*;
        use proptest::sample::Index;

        use super::*;

        fn stat() -> impl Strategy<Value = NodeStat> {
            (any::<[i64; 6]>(), any::<[i32; 5]>()).prop_map(|(l, i)| NodeStat {
                czxid: l[0],
                mzxid: l[1],
                pzxid: l[2],
                ctime_ms: l[3],
                mtime_ms: l[4],
                ephemeral_owner: l[5],
                version: i[0],
                cversion: i[1],
                aversion: i[2],
                data_length: i[3],
                num_children: i[4],
            })
        }

        fn mode() -> impl Strategy<Value = ZnodeMode> {
            prop_oneof![
                Just(ZnodeMode::Persistent),
                Just(ZnodeMode::Sequential),
                Just(ZnodeMode::Container),
                Just(ZnodeMode::Ephemeral),
                any::<u64>().prop_map(|ttl_ms| ZnodeMode::Ttl { ttl_ms }),
            ]
        }

        fn data() -> impl Strategy<Value = Vec<u8>> {
            prop_oneof![".{0,24}".prop_map(String::into_bytes), proptest::collection::vec(any::<u8>(), 0..24),]
        }

        /// A root and znodes under it, in any order (the reader does not check the order).
        fn snapshot() -> impl Strategy<Value = (String, Vec<ZnodeRecord>)> {
            let acl = proptest::collection::vec(
                (".{0,6}", ".{0,10}", "[cdrwa]{0,5}").prop_map(|(scheme, id, perms)| AclEntry { scheme, id, perms }),
                0..3,
            );
            let record = ("(/[^/]{1,6}){0,3}", data(), stat(), acl, mode());
            (prop_oneof![Just("/".to_string()), "/[a-z]{1,4}"], proptest::collection::vec(record, 0..6)).prop_map(
                |(root, rs)| {
                    let base = root.trim_end_matches('/').to_string();
                    let records = rs
                        .into_iter()
                        .map(|(rel, data, stat, acl, mode)| {
                            let path =
                                if rel.is_empty() && !base.is_empty() { base.clone() } else { format!("{base}{rel}") };
                            let path = if path.is_empty() { "/".to_string() } else { path };
                            ZnodeRecord { path, data, stat, acl, mode }
                        })
                        .collect();
                    (root, records)
                },
            )
        }

        /// Ways to change the znodes a file holds after its checksum was taken.
        #[derive(Debug, Clone)]
        enum Tamper {
            Data(Index, Vec<u8>),
            Version(Index),
            Mode(Index, ZnodeMode),
            Acl(Index, String),
            Drop(Index),
            Repeat(Index),
            Swap(Index, Index),
        }

        fn tamper() -> impl Strategy<Value = Tamper> {
            prop_oneof![
                (any::<Index>(), data()).prop_map(|(i, d)| Tamper::Data(i, d)),
                any::<Index>().prop_map(Tamper::Version),
                (any::<Index>(), mode()).prop_map(|(i, m)| Tamper::Mode(i, m)),
                (any::<Index>(), "[cdrwa]{0,5}").prop_map(|(i, p)| Tamper::Acl(i, p)),
                any::<Index>().prop_map(Tamper::Drop),
                any::<Index>().prop_map(Tamper::Repeat),
                (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Tamper::Swap(a, b)),
            ]
        }

        fn tampered(records: &[ZnodeRecord], t: &Tamper) -> Vec<ZnodeRecord> {
            let mut out = records.to_vec();
            let n = out.len();
            match t {
                Tamper::Data(i, d) => out[i.index(n)].data = d.clone(),
                Tamper::Version(i) => {
                    let s = &mut out[i.index(n)].stat;
                    s.version = s.version.wrapping_add(1);
                }
                Tamper::Mode(i, m) => out[i.index(n)].mode = *m,
                Tamper::Acl(i, p) => {
                    let r = &mut out[i.index(n)];
                    match r.acl.first_mut() {
                        Some(a) => a.perms = p.clone(),
                        None => r.acl.push(AclEntry { scheme: "world".into(), id: "anyone".into(), perms: p.clone() }),
                    }
                }
                Tamper::Drop(i) => {
                    out.remove(i.index(n));
                }
                Tamper::Repeat(i) => {
                    let r = out[i.index(n)].clone();
                    out.insert(i.index(n), r);
                }
                Tamper::Swap(a, b) => out.swap(a.index(n), b.index(n)),
            }
            out
        }

        proptest! {
            /// What `export` writes, the reader reads back exactly: the row and every znode,
            /// laid out a line per znode or reformatted as one document.
            #[test]
            fn files_round_trip((root, records) in snapshot(), note in ".{0,12}") {
                let meta = meta_of(&root, &records, note);
                let file = file_of(&meta, &records);
                let (m, r) = read(&file).unwrap();
                prop_assert_eq!((&m, &r), (&meta, &records));
                let doc: serde_json::Value = serde_json::from_slice(&file).unwrap();
                let pretty = serde_json::to_vec_pretty(&doc).unwrap();
                prop_assert_eq!(read(&pretty).unwrap(), (meta, records));
            }

            #[test]
            fn arbitrary_bytes_are_refused_never_a_panic(
                junk in proptest::collection::vec(any::<u8>(), 0..200),
                lines in proptest::collection::vec(".{0,40}", 0..4),
            ) {
                prop_assert!(read(&junk).is_err());
                // A good header followed by anything.
                let meta = meta_of("/", &[], String::new());
                let mut file = header_line(&meta).unwrap().into_bytes();
                for l in &lines {
                    file.push(b'\n');
                    file.extend_from_slice(l.as_bytes());
                }
                file.push(b'\n');
                file.extend_from_slice(&junk);
                let _ = read(&file);
            }

            /// A file cut anywhere before its closing line is refused, naming the line.
            #[test]
            fn truncated_files_are_refused_naming_the_line((root, records) in snapshot(), cut in any::<Index>()) {
                let meta = meta_of(&root, &records, String::new());
                let file = file_of(&meta, &records);
                // The last byte is the closing line's newline: without it the file is complete.
                let at = cut.index(file.len() - 1);
                let err = format!("{:#}", read(&file[..at]).unwrap_err());
                prop_assert!(err.contains("line "), "{}", err);
            }

            /// Znodes changed, dropped, repeated or reordered after the checksum was taken: refused.
            #[test]
            fn tampered_znodes_are_refused((root, records) in snapshot(), t in tamper()) {
                prop_assume!(!records.is_empty());
                let changed = tampered(&records, &t);
                prop_assume!(changed != records);
                let meta = meta_of(&root, &records, String::new());
                let err = read(&file_of(&meta, &changed)).unwrap_err();
                prop_assert!(err.downcast_ref::<Refused>().is_some(), "{:#}", err);
            }

            /// One byte of the file changed: refused, or (a byte of the header's descriptive
            /// fields, which the checksum does not cover) the very same znodes.
            #[test]
            fn a_changed_byte_never_changes_the_znodes((root, records) in snapshot(), at in any::<Index>(), byte in any::<u8>()) {
                let meta = meta_of(&root, &records, "a note".into());
                let mut file = file_of(&meta, &records);
                let i = at.index(file.len());
                prop_assume!(file[i] != byte);
                file[i] = byte;
                if let Ok((_, r)) = read(&file) {
                    prop_assert_eq!(r, records);
                }
            }

            /// A line that is not a znode is refused, naming that line.
            #[test]
            fn a_bad_line_is_named((root, records) in snapshot(), which in any::<Index>(), junk in "[^{}]{0,20}") {
                prop_assume!(!records.is_empty());
                let meta = meta_of(&root, &records, String::new());
                let file = String::from_utf8(file_of(&meta, &records)).unwrap();
                let mut lines: Vec<&str> = file.lines().collect();
                // Lines 2..=n+1 hold the znodes.
                let k = 1 + which.index(records.len());
                lines[k] = &junk;
                let err = format!("{:#}", read(lines.join("\n").as_bytes()).unwrap_err());
                prop_assert!(err.contains(&format!("line {}", k + 1)), "{}", err);
            }
        }
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
