//! Reading a dump stream as it passes (pure): the GTID position from the header comments, the
//! tables seen, and per table the rows of its `INSERT` statements — their count and an
//! order-independent digest — with a small state machine that knows SQL string quoting, so a
//! `(`, `)`, `'` or `;` inside a value never confuses it. The same figures computed over a dump
//! of the restored server are what `verify` compares.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3;

/// Bytes of a line kept to recognise it (comments, `USE`, the start of an `INSERT`).
const LINE_KEEP_BYTES: usize = 4096;

/// What one table's data holds, as the dump stream says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableFigures {
    pub rows: u64,
    /// Sum (mod 2^128) of each row's XXH3-128 over its literal text `( … )` as the dump tool
    /// wrote it, in lower-case hex: independent of row order. A fast non-cryptographic hash on
    /// purpose: it runs over every byte beside the dump and must not slow it; tampering is the
    /// file's SHA-256's business.
    pub digest: String,
}

/// The figures of a whole stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanResult {
    /// `db.table` → figures, for every table whose data section the stream has.
    pub tables: BTreeMap<String, TableFigures>,
    /// The GTID position the dump tool wrote (MariaDB `gtid_slave_pos`, MySQL `GTID_PURGED`).
    pub gtid: Option<String>,
    /// `-- Table structure for table` comments seen.
    pub structures: u64,
    /// `-- Dumping data for table` comments seen.
    pub data_sections: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Collecting a line to recognise it.
    Line,
    /// Skipping the rest of an over-long line.
    SkipLine,
    /// In an `INSERT … VALUES` statement, between rows.
    Between,
    /// In a row, outside strings; `depth` counts open parentheses.
    Row,
    /// In a quoted string of a row.
    Str,
    /// Just after a backslash in a string.
    Escape,
    /// Just after a quote in a string: a second quote continues it (`''`).
    QuoteEnd,
}

#[derive(Default)]
struct Accum {
    rows: u64,
    sum: u128,
}

/// The scanner; feed it the stream in chunks of any size.
pub struct Scanner {
    state: State,
    line: Vec<u8>,
    db: Option<String>,
    table: Option<String>,
    depth: u32,
    row: Xxh3,
    tables: BTreeMap<String, Accum>,
    gtid: Option<String>,
    structures: u64,
    data_sections: u64,
}

impl Default for Scanner {
    fn default() -> Self {
        Scanner::new()
    }
}

impl Scanner {
    pub fn new() -> Scanner {
        Scanner {
            state: State::Line,
            line: Vec::with_capacity(256),
            db: None,
            table: None,
            depth: 0,
            row: Xxh3::new(),
            tables: BTreeMap::new(),
            gtid: None,
            structures: 0,
            data_sections: 0,
        }
    }

    /// Data sections seen so far (the progress line's "tables done").
    pub fn data_sections(&self) -> u64 {
        self.data_sections
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        let mut i = 0;
        // Start of the part of `chunk` that belongs to the row being read (hashed in slices).
        let mut row_from = if matches!(self.state, State::Row | State::Str | State::Escape | State::QuoteEnd) {
            Some(0)
        } else {
            None
        };
        while i < chunk.len() {
            let b = chunk[i];
            match self.state {
                State::Line => {
                    if b == b'\n' {
                        self.end_line();
                    } else if self.line.len() >= LINE_KEEP_BYTES {
                        self.line.clear();
                        self.state = State::SkipLine;
                    } else {
                        self.line.push(b);
                        if b == b'S' && self.line.starts_with(b"INSERT ") && self.line.ends_with(b" VALUES") {
                            self.table = insert_table(&self.line).map(|t| self.key(&t));
                            self.line.clear();
                            self.state = State::Between;
                        }
                    }
                }
                State::SkipLine => {
                    match memchr::memchr(b'\n', &chunk[i..]) {
                        Some(at) => {
                            i += at;
                            self.state = State::Line;
                        }
                        None => i = chunk.len(),
                    }
                    continue;
                }
                State::Between => match b {
                    b'(' => {
                        self.state = State::Row;
                        self.depth = 1;
                        self.row.reset();
                        row_from = Some(i);
                    }
                    b';' => self.state = State::Line,
                    _ => {}
                },
                State::Row => match b {
                    b'\'' => self.state = State::Str,
                    b'(' => self.depth += 1,
                    b')' => {
                        self.depth -= 1;
                        if self.depth == 0 {
                            if let Some(from) = row_from.take() {
                                self.row.update(&chunk[from..=i]);
                            }
                            self.end_row();
                            self.state = State::Between;
                        }
                    }
                    _ => {}
                },
                State::Str => {
                    // The bulk of a dump is string data: jump to the next quote or backslash.
                    match memchr::memchr2(b'\'', b'\\', &chunk[i..]) {
                        Some(at) => {
                            i += at;
                            self.state = if chunk[i] == b'\'' { State::QuoteEnd } else { State::Escape };
                        }
                        None => i = chunk.len(),
                    }
                    i += 1;
                    continue;
                }
                State::Escape => self.state = State::Str,
                State::QuoteEnd => {
                    if b == b'\'' {
                        self.state = State::Str;
                    } else {
                        self.state = State::Row;
                        continue; // this byte is the row's again
                    }
                }
            }
            i += 1;
        }
        if let Some(from) = row_from {
            if from < chunk.len() {
                self.row.update(&chunk[from..]);
            }
        }
    }

    /// The figures, once the whole stream has been fed.
    pub fn finish(mut self) -> ScanResult {
        if self.state == State::Line && !self.line.is_empty() {
            self.end_line();
        }
        ScanResult {
            tables: self
                .tables
                .into_iter()
                .map(|(k, a)| (k, TableFigures { rows: a.rows, digest: format!("{:032x}", a.sum) }))
                .collect(),
            gtid: self.gtid,
            structures: self.structures,
            data_sections: self.data_sections,
        }
    }

    fn key(&self, table: &str) -> String {
        match &self.db {
            Some(db) => format!("{db}.{table}"),
            None => table.to_string(),
        }
    }

    fn end_row(&mut self) {
        let hash = self.row.digest128();
        let key = self.table.clone().unwrap_or_default();
        let acc = self.tables.entry(key).or_default();
        acc.rows += 1;
        acc.sum = acc.sum.wrapping_add(hash);
    }

    fn end_line(&mut self) {
        let line = std::mem::take(&mut self.line);
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches('\r');
        if let Some(comment) = text.strip_prefix("-- ") {
            if let Some(rest) = comment.strip_prefix("Current Database: ") {
                self.db = first_identifier(rest);
            } else if comment.starts_with("Table structure for table ") {
                self.structures += 1;
            } else if let Some(rest) = comment.strip_prefix("Dumping data for table ") {
                self.data_sections += 1;
                if let Some(t) = first_identifier(rest) {
                    let key = self.key(&t);
                    self.tables.entry(key).or_default();
                }
            } else if let Some(g) = parse_gtid_line(comment) {
                self.gtid = Some(g);
            }
        } else if let Some(rest) = text.strip_prefix("USE ") {
            if let Some(db) = first_identifier(rest) {
                self.db = Some(db);
            }
        } else if let Some(g) = parse_gtid_line(text) {
            self.gtid = Some(g);
        }
        self.line = line;
        self.line.clear();
    }
}

/// The GTID position in a header line (without its `-- `), if it is one:
/// MariaDB `SET GLOBAL gtid_slave_pos='0-1-4';`, MySQL
/// `SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ 'uuid:1-5';`.
pub fn parse_gtid_line(line: &str) -> Option<String> {
    let lower = line.trim_start().to_ascii_lowercase();
    let is_gtid = lower.starts_with("set global gtid_slave_pos") || lower.starts_with("set @@global.gtid_purged");
    if !is_gtid {
        return None;
    }
    // The position is the last quoted string of the line.
    let end = line.rfind('\'')?;
    let start = line[..end].rfind('\'')?;
    Some(line[start + 1..end].to_string())
}

/// The table of `INSERT INTO `t` VALUES` (or `INSERT IGNORE INTO …`).
fn insert_table(line: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(line);
    let at = text.find(" INTO ")?;
    first_identifier(&text[at + 6..])
}

/// The first back-quoted identifier of `text` (doubled back-quotes inside it are one), else
/// the first word without trailing punctuation.
fn first_identifier(text: &str) -> Option<String> {
    let text = text.trim_start();
    if let Some(rest) = text.strip_prefix('`') {
        let mut out = String::new();
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '`' {
                if chars.peek() == Some(&'`') {
                    chars.next();
                    out.push('`');
                } else {
                    return Some(out);
                }
            } else {
                out.push(c);
            }
        }
        return None;
    }
    let word: String = text.chars().take_while(|c| !c.is_whitespace() && *c != ';').collect();
    (!word.is_empty()).then_some(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "/*M!999999\\- enable the sandbox mode */ \n\
-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB\n\
-- CHANGE MASTER TO MASTER_USE_GTID=slave_pos;\n\
--\n\
-- Current Database: `app`\n\
--\n\
CREATE DATABASE /*!32312 IF NOT EXISTS*/ `app`;\n\
USE `app`;\n\
--\n\
-- Table structure for table `t`\n\
--\n\
CREATE TABLE `t` (\n  `id` int(11) NOT NULL\n) ENGINE=InnoDB;\n\
--\n\
-- Dumping data for table `t`\n\
--\n\
LOCK TABLES `t` WRITE;\n\
INSERT INTO `t` VALUES\n\
(1,'\\0\\'x(','it\\'s \\\"\u{e9}\\\\',NULL),\n\
(2,'a\\nb);','x',3),\n\
(3,'o''k',_binary 'z',(4));\n\
UNLOCK TABLES;\n\
--\n\
-- Table structure for table `empty`\n\
--\n\
--\n\
-- Dumping data for table `empty`\n\
--\n\
INSERT INTO `we``ird` VALUES (1),(2);\n\
-- The deferred gtid setting for slave corresponding to the master-data CHANGE-MASTER follows\n\
--\n\
-- SET GLOBAL gtid_slave_pos='0-1-4,1-2-9';\n\
-- Dump completed on 2026-11-28 18:46:18\n";

    #[test]
    fn counts_rows_quote_aware_and_reads_the_gtid() {
        let mut s = Scanner::new();
        s.feed(SAMPLE.as_bytes());
        let r = s.finish();
        assert_eq!(r.gtid.as_deref(), Some("0-1-4,1-2-9"));
        assert_eq!(r.structures, 2);
        assert_eq!(r.data_sections, 2);
        assert_eq!(r.tables["app.t"].rows, 3);
        assert_eq!(r.tables["app.empty"].rows, 0);
        assert_eq!(r.tables["app.we`ird"].rows, 2);
        assert_eq!(r.tables.len(), 3);
    }

    #[test]
    fn any_chunking_gives_the_same_figures() {
        let mut whole = Scanner::new();
        whole.feed(SAMPLE.as_bytes());
        let whole = whole.finish();
        for size in [1, 2, 3, 7, 64] {
            let mut s = Scanner::new();
            SAMPLE.as_bytes().chunks(size).for_each(|c| s.feed(c));
            assert_eq!(s.finish(), whole, "chunks of {size}");
        }
    }

    #[test]
    fn digest_ignores_row_order_and_sees_values() {
        let a = "INSERT INTO `t` VALUES (1,'a'),(2,'b');\n";
        let b = "INSERT INTO `t` VALUES\n(2,'b'),\n(1,'a');\n";
        let c = "INSERT INTO `t` VALUES (1,'a'),(2,'c');\n";
        let figures = |text: &str| {
            let mut s = Scanner::new();
            s.feed(text.as_bytes());
            s.finish().tables["t"].clone()
        };
        assert_eq!(figures(a), figures(b));
        assert_ne!(figures(a).digest, figures(c).digest);
        assert_eq!(figures(c).rows, 2);
    }

    #[test]
    fn gtid_lines_of_both_flavours() {
        assert_eq!(parse_gtid_line("SET GLOBAL gtid_slave_pos='0-1-4';").as_deref(), Some("0-1-4"));
        assert_eq!(
            parse_gtid_line("SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5';")
                .as_deref(),
            Some("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5")
        );
        assert_eq!(parse_gtid_line("SET GLOBAL gtid_slave_pos='';").as_deref(), Some(""));
        assert_eq!(parse_gtid_line("CHANGE MASTER TO MASTER_USE_GTID=slave_pos;"), None);
    }
}
