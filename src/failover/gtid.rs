//! GTID positions of both flavours — MariaDB per-domain lists (`0-1-19,1-2-5`) and MySQL GTID
//! sets (`uuid:1-5:7,uuid2:1-3`) — parsed, printed canonically, and compared: whether one has
//! every transaction of another, how many it lacks and which. Pure.
//!
//! A MariaDB list names only the *last* GTID of each replication domain, not the transactions
//! before it, so MariaDB comparisons are per-domain sequence-number comparisons: `0-1-20`
//! "contains" `0-2-19` even though no list can say whether the two servers' histories agree up
//! to there (divergence within a domain is what `gtid_strict_mode` and the errant-transaction
//! check in `rank` are for). MySQL sets name every transaction, so their comparisons are exact.

use std::collections::BTreeMap;
use std::fmt;

use crate::cluster::status::Flavor;

/// A MariaDB GTID list: domain → (server_id, seq) of the last transaction in that domain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MariadbPos(pub BTreeMap<u32, (u32, u64)>);

/// A MySQL GTID set: source uuid (lowercase; `uuid:tag` for MySQL 8.4 tagged GTIDs) → sorted,
/// disjoint, non-adjacent inclusive intervals. Kept private so the intervals stay normalised;
/// build one with [`GtidSet::parse`] or [`GtidSet::from_intervals`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GtidSet(BTreeMap<String, Vec<(u64, u64)>>);

/// A server's position in either flavour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    Mariadb(MariadbPos),
    Mysql(GtidSet),
}

impl MariadbPos {
    /// `0-1-19,1-2-5`; whitespace around entries is ignored; empty text is the empty position.
    pub fn parse(text: &str) -> Result<MariadbPos, String> {
        let mut domains = BTreeMap::new();
        for part in text.split(',').map(str::trim) {
            if part.is_empty() {
                if text.trim().is_empty() {
                    continue;
                }
                return Err(format!("empty entry in GTID list {text:?}"));
            }
            let fields: Vec<&str> = part.split('-').collect();
            let [domain, server_id, seq] = fields.as_slice() else {
                return Err(format!("GTID {part:?} is not domain-server_id-seq"));
            };
            let number = |what: &str, s: &str| {
                s.parse::<u64>().map_err(|_| format!("GTID {part:?}: {what} {s:?} is not a number"))
            };
            let domain = u32::try_from(number("domain", domain)?)
                .map_err(|_| format!("GTID {part:?}: domain {domain} is too large"))?;
            let server_id = u32::try_from(number("server_id", server_id)?)
                .map_err(|_| format!("GTID {part:?}: server_id {server_id} is too large"))?;
            let seq = number("sequence number", seq)?;
            if domains.insert(domain, (server_id, seq)).is_some() {
                return Err(format!("GTID list {text:?} names domain {domain} twice"));
            }
        }
        Ok(MariadbPos(domains))
    }

    fn contains(&self, other: &MariadbPos) -> bool {
        other.0.iter().all(|(d, (_, seq))| self.0.get(d).is_some_and(|(_, mine)| mine >= seq))
    }

    fn missing(&self, other: &MariadbPos) -> u64 {
        other.0.iter().fold(0u64, |sum, (d, (_, seq))| {
            let mine = self.0.get(d).map_or(0, |(_, s)| *s);
            sum.saturating_add(seq.saturating_sub(mine))
        })
    }

    /// One part per domain where `other` is ahead. The server_id printed on the first missing
    /// GTID is the last one's: a list does not say which server wrote the ones before it.
    fn missing_text(&self, other: &MariadbPos) -> String {
        let mut parts = Vec::new();
        for (d, (server_id, seq)) in &other.0 {
            let mine = self.0.get(d).map_or(0, |(_, s)| *s);
            if *seq <= mine {
                continue;
            }
            let n = seq - mine;
            let last = format!("{d}-{server_id}-{seq}");
            parts.push(if n == 1 {
                format!("domain {d}: {last} (1 transaction)")
            } else {
                format!("domain {d}: {d}-{server_id}-{} … {last} ({n} transactions)", mine + 1)
            });
        }
        parts.join("; ")
    }

    /// Per domain, the later GTID (on equal sequence numbers, ours).
    fn union(&self, other: &MariadbPos) -> MariadbPos {
        let mut out = self.0.clone();
        for (d, theirs) in &other.0 {
            let entry = out.entry(*d).or_insert(*theirs);
            if theirs.1 > entry.1 {
                *entry = *theirs;
            }
        }
        MariadbPos(out)
    }
}

impl fmt::Display for MariadbPos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(d, (s, n))| format!("{d}-{s}-{n}")).collect();
        f.write_str(&parts.join(","))
    }
}

/// `8-4-4-4-12` hex digits, any case.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// MySQL 8.4 GTID tags: a letter or underscore, then up to 31 letters, digits or underscores.
fn is_tag(s: &str) -> bool {
    let mut chars = s.chars();
    s.len() <= 32
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Sorts and merges overlapping or adjacent intervals.
fn normalise(mut intervals: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    intervals.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(intervals.len());
    for (start, end) in intervals {
        match out.last_mut() {
            Some(last) if start <= last.1.saturating_add(1) => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

/// `a − b` for normalised interval lists.
fn subtract(a: &[(u64, u64)], b: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for &(start, end) in a {
        let mut from = start;
        for &(bs, be) in b {
            if be < from || bs > end {
                continue;
            }
            if bs > from {
                out.push((from, bs - 1));
            }
            if be >= end {
                from = end.saturating_add(1);
                break;
            }
            from = be + 1;
        }
        if from <= end {
            out.push((from, end));
        }
    }
    out
}

fn count(intervals: &[(u64, u64)]) -> u64 {
    intervals.iter().fold(0u64, |sum, (s, e)| sum.saturating_add(e - s + 1))
}

impl GtidSet {
    /// `uuid:1-5:7,uuid2:1-3`; whitespace and newlines around entries are ignored, uuids are
    /// case-insensitive, the same uuid may appear more than once; empty text is the empty set.
    pub fn parse(text: &str) -> Result<GtidSet, String> {
        let mut map: BTreeMap<String, Vec<(u64, u64)>> = BTreeMap::new();
        for part in text.split(',').map(str::trim) {
            if part.is_empty() {
                if text.trim().is_empty() {
                    continue;
                }
                return Err(format!("empty entry in GTID set {text:?}"));
            }
            let mut fields = part.split(':').map(str::trim);
            let uuid = fields.next().unwrap_or_default().to_ascii_lowercase();
            if !is_uuid(&uuid) {
                return Err(format!("{uuid:?} in {part:?} is not a server uuid"));
            }
            let mut key = uuid.clone();
            let mut any = false;
            for field in fields {
                if is_tag(field) {
                    key = format!("{uuid}:{}", field.to_ascii_lowercase());
                    continue;
                }
                let interval = parse_interval(field).map_err(|e| format!("{part:?}: {e}"))?;
                map.entry(key.clone()).or_default().push(interval);
                any = true;
            }
            if !any {
                return Err(format!("{part:?} names no transactions"));
            }
        }
        Ok(GtidSet(map.into_iter().map(|(k, v)| (k, normalise(v))).collect()))
    }

    /// A set from uuid → intervals (any order, overlaps allowed); empty lists are dropped.
    pub fn from_intervals(map: BTreeMap<String, Vec<(u64, u64)>>) -> GtidSet {
        GtidSet(
            map.into_iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.to_ascii_lowercase(), normalise(v)))
                .collect(),
        )
    }

    /// uuid (or `uuid:tag`) → normalised intervals.
    pub fn intervals(&self) -> &BTreeMap<String, Vec<(u64, u64)>> {
        &self.0
    }

    /// Number of transactions in the set.
    pub fn count(&self) -> u64 {
        self.0.values().fold(0u64, |sum, v| sum.saturating_add(count(v)))
    }

    /// `self − other`: what `self` has that `other` lacks.
    pub fn difference(&self, other: &GtidSet) -> GtidSet {
        let map = self
            .0
            .iter()
            .map(|(k, v)| (k.clone(), other.0.get(k).map_or_else(|| v.clone(), |o| subtract(v, o))))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        GtidSet(map)
    }

    pub fn union(&self, other: &GtidSet) -> GtidSet {
        let mut map = self.0.clone();
        for (k, v) in &other.0 {
            let entry = map.entry(k.clone()).or_default();
            entry.extend(v.iter().copied());
            *entry = normalise(std::mem::take(entry));
        }
        GtidSet(map)
    }

    /// Only the sources whose uuid (without any tag) `keep` accepts.
    pub fn restrict(&self, keep: impl Fn(&str) -> bool) -> GtidSet {
        GtidSet(self.0.iter().filter(|(k, _)| keep(uuid_of(k))).map(|(k, v)| (k.clone(), v.clone())).collect())
    }

    /// The uuids (tags dropped) the set has transactions from.
    pub fn uuids(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.0.keys().map(|k| uuid_of(k)).collect();
        out.dedup();
        out
    }
}

/// The uuid part of a set key (`uuid` or `uuid:tag`).
fn uuid_of(key: &str) -> &str {
    key.split(':').next().unwrap_or(key)
}

fn parse_interval(field: &str) -> Result<(u64, u64), String> {
    let number = |s: &str| s.trim().parse::<u64>().map_err(|_| format!("{s:?} is not a transaction number"));
    let (start, end) = match field.split_once('-') {
        Some((a, b)) => (number(a)?, number(b)?),
        None => {
            let n = number(field)?;
            (n, n)
        }
    };
    if start == 0 {
        return Err(format!("interval {field:?} starts at 0 (transaction numbers start at 1)"));
    }
    if end < start {
        return Err(format!("interval {field:?} ends before it starts"));
    }
    Ok((start, end))
}

impl fmt::Display for GtidSet {
    /// Sources in uuid order, each `uuid:a-b:c`; tagged GTIDs as their own `uuid:tag:a-b` entry.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(k, v)| {
                let ivs: Vec<String> =
                    v.iter().map(|(s, e)| if s == e { s.to_string() } else { format!("{s}-{e}") }).collect();
                format!("{k}:{}", ivs.join(":"))
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

impl Position {
    /// Parses a position of the given flavour; the error names the part that is wrong.
    pub fn parse(flavor: Flavor, text: &str) -> Result<Position, String> {
        match flavor {
            Flavor::Mariadb => MariadbPos::parse(text).map(Position::Mariadb),
            Flavor::Mysql => GtidSet::parse(text).map(Position::Mysql),
        }
    }

    pub fn flavor(&self) -> Flavor {
        match self {
            Position::Mariadb(_) => Flavor::Mariadb,
            Position::Mysql(_) => Flavor::Mysql,
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            Position::Mariadb(p) => p.0.is_empty(),
            Position::Mysql(s) => s.0.is_empty(),
        }
    }

    /// Whether `self` has every transaction `other` has. For MariaDB: every domain of `other`
    /// is present with a sequence number at least as high (see the module doc for what a list
    /// cannot tell). Positions of different flavours never contain each other, so a mix-up errs
    /// on the side of "not caught up".
    pub fn contains(&self, other: &Position) -> bool {
        match (self, other) {
            (Position::Mariadb(a), Position::Mariadb(b)) => a.contains(b),
            (Position::Mysql(a), Position::Mysql(b)) => b.difference(a).0.is_empty(),
            _ => false,
        }
    }

    /// How many transactions `other` has that `self` lacks. For MariaDB, the sum over domains
    /// of how far `other`'s sequence number is ahead. Different flavours: `u64::MAX`, so a
    /// mix-up never looks like "nothing missing".
    pub fn missing(&self, other: &Position) -> u64 {
        match (self, other) {
            (Position::Mariadb(a), Position::Mariadb(b)) => a.missing(b),
            (Position::Mysql(a), Position::Mysql(b)) => b.difference(a).count(),
            _ => u64::MAX,
        }
    }

    /// What `self` lacks of `other`, for an operator: `domain 0: 0-1-20 … 0-1-23 (4
    /// transactions)` per domain, or the missing GTID set (`uuid:20-23`) for MySQL; empty when
    /// nothing is missing.
    pub fn missing_text(&self, other: &Position) -> String {
        match (self, other) {
            (Position::Mariadb(a), Position::Mariadb(b)) => a.missing_text(b),
            (Position::Mysql(a), Position::Mysql(b)) => b.difference(a).to_string(),
            _ => "cannot compare a MariaDB GTID list with a MySQL GTID set".into(),
        }
    }

    /// Everything either has: per-domain later GTID, or the set union. Mixing flavours returns
    /// `self` unchanged.
    pub fn union(&self, other: &Position) -> Position {
        match (self, other) {
            (Position::Mariadb(a), Position::Mariadb(b)) => Position::Mariadb(a.union(b)),
            (Position::Mysql(a), Position::Mysql(b)) => Position::Mysql(a.union(b)),
            _ => self.clone(),
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Mariadb(p) => p.fmt(f),
            Position::Mysql(s) => s.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const U1: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    const U2: &str = "4f22ab58-82db-22f2-af44-d91bb0530673";

    fn maria(s: &str) -> Position {
        Position::parse(Flavor::Mariadb, s).unwrap()
    }

    fn my(s: &str) -> Position {
        Position::parse(Flavor::Mysql, s).unwrap()
    }

    #[test]
    fn mariadb_parse_and_print() {
        let cases = [
            ("0-1-19", "0-1-19"),
            ("1-2-5, 0-1-19", "0-1-19,1-2-5"),
            ("", ""),
            ("  ", ""),
            ("0-4294967295-18446744073709551615", "0-4294967295-18446744073709551615"),
        ];
        for (text, canonical) in cases {
            assert_eq!(maria(text).to_string(), canonical, "{text:?}");
        }
        assert!(maria("").is_empty());
        assert!(!maria("0-1-1").is_empty());
    }

    #[test]
    fn mariadb_parse_errors_name_the_bad_part() {
        let cases = [
            ("0-1", "\"0-1\" is not domain-server_id-seq"),
            ("0-1-x", "sequence number \"x\""),
            ("a-1-2", "domain \"a\""),
            ("0-1-2,,1-1-1", "empty entry"),
            ("0-1-2,0-2-3", "domain 0 twice"),
            ("0-4294967296-1", "server_id 4294967296 is too large"),
            ("0-1-2-3", "\"0-1-2-3\" is not"),
        ];
        for (text, needle) in cases {
            let err = MariadbPos::parse(text).unwrap_err();
            assert!(err.contains(needle), "{text:?}: {err}");
        }
    }

    #[test]
    fn mysql_parse_and_print() {
        let cases = [
            (format!("{}:1-5:7", U1.to_uppercase()), format!("{U1}:1-5:7")),
            (format!("{U1}:1-3:4-5:7,\n{U2}:1-3"), format!("{U1}:1-5:7,{U2}:1-3")),
            (format!("{U2}:3, {U1}:1, {U2}:1-2"), format!("{U1}:1,{U2}:1-3")),
            (format!("{U1}:5-9:1-6"), format!("{U1}:1-9")),
            (format!("{U1}:1-5:mytag:1-2"), format!("{U1}:1-5,{U1}:mytag:1-2")),
            (String::new(), String::new()),
            ("\n".into(), String::new()),
        ];
        for (text, canonical) in cases {
            assert_eq!(my(&text).to_string(), canonical, "{text:?}");
        }
    }

    #[test]
    fn mysql_parse_errors_name_the_bad_part() {
        let cases = [
            ("nope:1-5".to_string(), "\"nope\" in \"nope:1-5\" is not a server uuid"),
            (U1.to_string(), "names no transactions"),
            (format!("{U1}:0-5"), "starts at 0"),
            (format!("{U1}:5-1"), "ends before it starts"),
            (format!("{U1}:1-x"), "\"x\" is not a transaction number"),
            (format!("{U1}:1,,{U2}:1"), "empty entry"),
        ];
        for (text, needle) in cases {
            let err = GtidSet::parse(&text).unwrap_err();
            assert!(err.contains(needle), "{text:?}: {err}");
        }
    }

    #[test]
    fn mariadb_contains_and_missing() {
        // (self, other, contains, missing, missing_text)
        let cases = [
            ("0-1-23", "0-1-19", true, 0, ""),
            ("0-1-19", "0-1-23", false, 4, "domain 0: 0-1-20 … 0-1-23 (4 transactions)"),
            ("0-1-22", "0-1-23", false, 1, "domain 0: 0-1-23 (1 transaction)"),
            ("0-1-19", "0-1-19", true, 0, ""),
            // A domain self lacks counts from the start.
            ("0-1-19", "0-1-19,1-2-3", false, 3, "domain 1: 1-2-1 … 1-2-3 (3 transactions)"),
            ("0-1-19,1-2-3", "0-1-19", true, 0, ""),
            ("0-1-10,1-2-5", "0-1-12,1-2-4", false, 2, "domain 0: 0-1-11 … 0-1-12 (2 transactions)"),
            (
                "0-1-10,1-2-5",
                "0-1-12,1-2-7",
                false,
                4,
                "domain 0: 0-1-11 … 0-1-12 (2 transactions); domain 1: 1-2-6 … 1-2-7 (2 transactions)",
            ),
            // Per-domain comparison only: another server's later GTID counts as ahead.
            ("0-2-20", "0-1-19", true, 0, ""),
            ("", "", true, 0, ""),
            ("0-1-5", "", true, 0, ""),
            ("", "0-1-2", false, 2, "domain 0: 0-1-1 … 0-1-2 (2 transactions)"),
        ];
        for (a, b, contains, missing, text) in cases {
            let (a_pos, b_pos) = (maria(a), maria(b));
            assert_eq!(a_pos.contains(&b_pos), contains, "{a} ⊇ {b}");
            assert_eq!(a_pos.missing(&b_pos), missing, "{a} missing of {b}");
            assert_eq!(a_pos.missing_text(&b_pos), text, "{a} missing text of {b}");
        }
    }

    #[test]
    fn mysql_contains_and_missing() {
        let cases = [
            (format!("{U1}:1-23"), format!("{U1}:1-19"), true, 0, String::new()),
            (format!("{U1}:1-19"), format!("{U1}:1-23"), false, 4, format!("{U1}:20-23")),
            (format!("{U1}:1-10:12-20"), format!("{U1}:1-20"), false, 1, format!("{U1}:11")),
            (format!("{U1}:1-5"), format!("{U1}:1-5,{U2}:1-3"), false, 3, format!("{U2}:1-3")),
            (format!("{U1}:3-4"), format!("{U1}:1-9"), false, 7, format!("{U1}:1-2:5-9")),
            (format!("{U1}:1-9,{U2}:1"), format!("{U1}:2-8"), true, 0, String::new()),
            (String::new(), String::new(), true, 0, String::new()),
            (String::new(), format!("{U1}:1-2"), false, 2, format!("{U1}:1-2")),
            (format!("{U1}:1-5"), format!("{U1}:1-5:t:1-2"), false, 2, format!("{U1}:t:1-2")),
        ];
        for (a, b, contains, missing, text) in cases {
            let (a_pos, b_pos) = (my(&a), my(&b));
            assert_eq!(a_pos.contains(&b_pos), contains, "{a} ⊇ {b}");
            assert_eq!(a_pos.missing(&b_pos), missing, "{a} missing of {b}");
            assert_eq!(a_pos.missing_text(&b_pos), text, "{a} missing text of {b}");
        }
    }

    #[test]
    fn unions() {
        assert_eq!(maria("0-1-10,1-2-5").union(&maria("0-3-12,2-4-1")).to_string(), "0-3-12,1-2-5,2-4-1");
        assert_eq!(maria("0-1-10").union(&maria("0-3-10")).to_string(), "0-1-10");
        assert_eq!(maria("").union(&maria("0-1-1")).to_string(), "0-1-1");
        assert_eq!(
            my(&format!("{U1}:1-5:9")).union(&my(&format!("{U1}:6-8,{U2}:2"))).to_string(),
            format!("{U1}:1-9,{U2}:2")
        );
        // Mixing flavours changes nothing.
        assert_eq!(maria("0-1-1").union(&my(&format!("{U1}:1"))), maria("0-1-1"));
    }

    #[test]
    fn mixed_flavours_never_look_caught_up() {
        let (m, s) = (maria("0-1-1"), my(&format!("{U1}:1")));
        assert!(!m.contains(&s) && !s.contains(&m));
        assert_eq!(m.missing(&s), u64::MAX);
        assert!(m.missing_text(&s).contains("cannot compare"));
    }

    #[test]
    fn set_helpers() {
        let s = GtidSet::parse(&format!("{U1}:1-5:t:1-2,{U2}:7")).unwrap();
        assert_eq!(s.count(), 8);
        assert_eq!(s.uuids(), [U1, U2]);
        assert_eq!(s.restrict(|u| u == U2).to_string(), format!("{U2}:7"));
        let d =
            GtidSet::from_intervals(BTreeMap::from([(U1.to_uppercase(), vec![(4, 6), (1, 2)]), (U2.into(), vec![])]));
        assert_eq!(d.to_string(), format!("{U1}:1-2:4-6"));
        assert_eq!(s.difference(&d).to_string(), format!("{U1}:3,{U1}:t:1-2,{U2}:7"));
        assert_eq!(subtract(&[(1, 10)], &[(1, 10)]), []);
        assert_eq!(subtract(&[(1, 10)], &[(0, 3), (5, 5), (9, 20)]), [(4, 4), (6, 8)]);
        assert_eq!(subtract(&[(1, 3), (7, 9)], &[(4, 6)]), [(1, 3), (7, 9)]);
        assert_eq!(normalise(vec![(5, 6), (1, 2), (3, 4)]), [(1, 6)]);
    }
}
