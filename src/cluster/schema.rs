//! Strict validation of a cluster's `config` document for the editor: JSON syntax with line and
//! column, then every field against schema 1, with unknown fields reported (never dropped).
//! The lenient reader that the rest of myzoo uses is `cluster::config`.
//!
//! Positions: serde_json gives them for syntax errors; for fields, a small position-recording
//! pass over the (already valid) text maps every JSON pointer to the line and column of its key
//! (or of the value, for array elements), so that `nodes/1/port` points at that node's `port`.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::secrets::escape_pointer;

/// The config schema this build understands.
pub const CONFIG_SCHEMA: u64 = 1;
/// Values of `tier`; `production` makes the header red and asks for the cluster name.
pub const TIERS: &[&str] = &["development", "staging", "production"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One finding, at a 1-based line and column of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub severity: Severity,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}:{}: {kind}: {}", self.line, self.column, self.message)
    }
}

/// JSON syntax only, for any znode: the first error with its line and column.
pub fn validate_json(text: &str) -> Result<(), Problem> {
    match serde_json::from_str::<Value>(text) {
        Ok(_) => Ok(()),
        Err(e) => Err(syntax_problem(text, &e)),
    }
}

fn syntax_problem(text: &str, e: &serde_json::Error) -> Problem {
    let full = e.to_string();
    // serde_json appends " at line L column C"; the position is carried separately.
    let message = full.rfind(" at line ").map_or(full.as_str(), |i| &full[..i]).to_string();
    let (line, column) = syntax_position(text, e);
    Problem { line, column, message: format!("JSON syntax: {message}"), severity: Severity::Error }
}

/// Where serde_json says a syntax error is, as a 1-based line and a 1-based column counted in
/// characters like the field positions (serde_json counts the column in bytes, so a line with
/// `é` before the error would point past it).
pub fn syntax_position(text: &str, e: &serde_json::Error) -> (usize, usize) {
    let line = e.line().max(1);
    let Some(row) = text.split('\n').nth(line - 1) else { return (line, e.column().max(1)) };
    let mut end = e.column().saturating_sub(1).min(row.len());
    while !row.is_char_boundary(end) {
        end -= 1;
    }
    (line, row[..end].chars().count() + 1)
}

/// Validates a cluster config; `cluster` is the cluster's znode name when known (the document's
/// `name` must equal it). Problems come sorted by position; no problems means valid.
pub fn validate_config(text: &str, cluster: Option<&str>) -> Vec<Problem> {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return vec![syntax_problem(text, &e)],
    };
    let mut c = Checker { positions: locate(text), problems: Vec::new() };
    let Some(top) = value.as_object() else {
        c.error("", "the config must be a JSON object");
        return c.problems;
    };
    c.check_top(top, cluster);
    // Anyone who can read the tree reads the config: it refers to credentials, never holds them.
    for pointer in crate::secrets::plain_text_secrets(text.as_bytes()) {
        c.error(
            &pointer,
            format!(
                "{}: a credential in plain text; the cluster config never holds one: keep it in a file \
                 on the hosts that need it and name the file (…_file), or use the environment",
                pointer.trim_start_matches('/').replace('/', ".")
            ),
        );
    }
    c.problems.sort_by_key(|p| (p.line, p.column, p.severity));
    c.problems
}

struct Checker {
    positions: HashMap<String, (usize, usize)>,
    problems: Vec<Problem>,
}

impl Checker {
    fn push(&mut self, pointer: &str, severity: Severity, message: String) {
        let (line, column) = self.positions.get(pointer).copied().unwrap_or((1, 1));
        self.problems.push(Problem { line, column, message, severity });
    }
    fn error(&mut self, pointer: &str, message: impl Into<String>) {
        self.push(pointer, Severity::Error, message.into());
    }
    fn warning(&mut self, pointer: &str, message: impl Into<String>) {
        self.push(pointer, Severity::Warning, message.into());
    }

    /// Reports members not in `known` as warnings naming them.
    fn unknown_fields(&mut self, pointer: &str, map: &Map<String, Value>, known: &[&str], what: &str) {
        for k in map.keys().filter(|k| !known.contains(&k.as_str())) {
            let p = format!("{pointer}/{}", escape_pointer(k));
            self.warning(&p, format!("unknown field `{k}` in {what}: myzoo keeps it but does not use it (a typo?)"));
        }
    }

    fn check_top(&mut self, top: &Map<String, Value>, cluster: Option<&str>) {
        const KNOWN: &[&str] =
            &["schema", "name", "tier", "nodes", "failover", "fencing", "hooks", "replication", "backup", "mysql"];
        match top.get("schema") {
            None => self.error("", format!("missing field `schema` (must be {CONFIG_SCHEMA})")),
            Some(v) if v.as_u64() == Some(CONFIG_SCHEMA) => {}
            Some(v) => self.error("/schema", format!("`schema` must be {CONFIG_SCHEMA}, found {v}")),
        }
        self.check_name(top.get("name"), cluster);
        match top.get("tier") {
            None => self.error("", format!("missing field `tier` (one of {})", TIERS.join(", "))),
            Some(Value::String(t)) if TIERS.contains(&t.as_str()) => {}
            Some(v) => self.error("/tier", format!("`tier` must be one of {}, found {v}", TIERS.join(", "))),
        }
        match top.get("nodes") {
            None => self.error("", "missing field `nodes` (a list of {name, host, port})"),
            Some(Value::Array(nodes)) => self.check_nodes(nodes),
            Some(_) => self.error("/nodes", "`nodes` must be a list of {name, host, port}"),
        }
        match top.get("failover") {
            None => {}
            Some(Value::Object(f)) => self.check_failover(f),
            Some(_) => self.error("/failover", "`failover` must be an object {automatic, cooldown_s, max_lag_s, …}"),
        }
        match top.get("fencing") {
            None => {}
            Some(Value::Object(f)) => self.check_fencing(f),
            Some(_) => self.error("/fencing", "`fencing` must be an object {lease_ms}"),
        }
        match top.get("hooks") {
            None => {}
            Some(Value::Object(h)) => self.check_hooks(h),
            Some(_) => self.error("/hooks", "`hooks` must be an object {pre_switchover, …, timeout_s}"),
        }
        match top.get("replication") {
            None => {}
            Some(Value::Object(r)) => self.check_replication(r),
            Some(_) => self.error("/replication", "`replication` must be an object {user}"),
        }
        match top.get("backup") {
            None => {}
            Some(Value::Object(b)) => self.check_backup(b),
            Some(_) => self.error("/backup", "`backup` must be an object {zk_interval_s, keep}"),
        }
        match top.get("mysql") {
            None => {}
            Some(Value::Object(m)) => self.check_mysql(m),
            Some(_) => self.error("/mysql", "`mysql` must be an object {tls}"),
        }
        self.unknown_fields("", top, KNOWN, "the config");
    }

    fn check_name(&mut self, name: Option<&Value>, cluster: Option<&str>) {
        match name {
            None => self.error("", "missing field `name` (the cluster's name)"),
            Some(Value::String(n)) if n.trim().is_empty() => self.error("/name", "`name` must not be empty"),
            Some(Value::String(n)) => {
                if let Some(c) = cluster.filter(|c| *c != n) {
                    self.error("/name", format!("`name` is {n:?} but the cluster's znode is named {c:?}"));
                }
            }
            Some(v) => self.error("/name", format!("`name` must be a string, found {v}")),
        }
    }

    fn check_nodes(&mut self, nodes: &[Value]) {
        const KNOWN: &[&str] = &["name", "host", "port", "no_promote"];
        let mut seen = HashSet::new();
        for (i, node) in nodes.iter().enumerate() {
            let p = format!("/nodes/{i}");
            let Some(map) = node.as_object() else {
                self.error(&p, format!("nodes[{i}] must be an object {{name, host, port}}"));
                continue;
            };
            match map.get("name") {
                Some(Value::String(n)) if !n.trim().is_empty() => {
                    if !seen.insert(n.clone()) {
                        self.error(&format!("{p}/name"), format!("node name {n:?} appears more than once"));
                    }
                }
                Some(_) => self.error(&format!("{p}/name"), format!("nodes[{i}].name must be a non-empty string")),
                None => self.error(&p, format!("nodes[{i}] is missing `name`")),
            }
            match map.get("host") {
                Some(Value::String(h)) if !h.trim().is_empty() => {}
                Some(_) => self.error(&format!("{p}/host"), format!("nodes[{i}].host must be a non-empty string")),
                None => self.error(&p, format!("nodes[{i}] is missing `host`")),
            }
            match map.get("port") {
                Some(v) if v.as_u64().is_some_and(|port| (1..=65_535).contains(&port)) => {}
                Some(v) => self.error(&format!("{p}/port"), format!("nodes[{i}].port must be 1..65535, found {v}")),
                None => self.error(&p, format!("nodes[{i}] is missing `port`")),
            }
            match map.get("no_promote") {
                None | Some(Value::Bool(_)) => {}
                Some(v) => self.error(
                    &format!("{p}/no_promote"),
                    format!("nodes[{i}].no_promote must be true or false, found {v}"),
                ),
            }
            self.unknown_fields(&p, map, KNOWN, &format!("nodes[{i}]"));
        }
    }

    /// `field` of `object`, if present, must be true or false.
    fn check_bool(&mut self, object: &str, map: &Map<String, Value>, field: &str) {
        match map.get(field) {
            None | Some(Value::Bool(_)) => {}
            Some(v) => {
                self.error(&format!("/{object}/{field}"), format!("{object}.{field} must be true or false, found {v}"))
            }
        }
    }

    /// `field` of `object`, if present, must be a whole number in `min..=max`; `what` names the
    /// unit for the message ("seconds", "milliseconds", …).
    fn check_uint(&mut self, object: &str, map: &Map<String, Value>, field: &str, min: u64, max: u64, what: &str) {
        match map.get(field) {
            None => {}
            Some(v) if v.as_u64().is_some_and(|n| (min..=max).contains(&n)) => {}
            Some(v) => {
                let range = if max >= u64::from(u32::MAX) { format!("≥ {min}") } else { format!("{min}..{max}") };
                self.error(
                    &format!("/{object}/{field}"),
                    format!("{object}.{field} must be a whole number of {what} {range}, found {v}"),
                )
            }
        }
    }

    fn check_failover(&mut self, f: &Map<String, Value>) {
        const KNOWN: &[&str] = &[
            "automatic",
            "cooldown_s",
            "max_lag_s",
            "confirmations",
            "auto_rejoin",
            "catch_up_timeout_ms",
            "long_transaction_s",
            "paused",
        ];
        for field in ["automatic", "auto_rejoin", "paused"] {
            self.check_bool("failover", f, field);
        }
        self.check_uint("failover", f, "cooldown_s", 0, u64::MAX, "seconds");
        self.check_uint("failover", f, "max_lag_s", 0, u64::MAX, "seconds");
        // Zero confirmations would fail over on no evidence at all.
        self.check_uint("failover", f, "confirmations", 1, u64::from(u32::MAX), "observations");
        self.check_uint("failover", f, "catch_up_timeout_ms", 0, u64::MAX, "milliseconds");
        self.check_uint("failover", f, "long_transaction_s", 0, u64::MAX, "seconds");
        self.unknown_fields("/failover", f, KNOWN, "failover");
    }

    fn check_backup(&mut self, b: &Map<String, Value>) {
        const KNOWN: &[&str] = &["zk_interval_s", "keep"];
        self.check_uint("backup", b, "zk_interval_s", 0, u64::MAX, "seconds");
        // Keeping none would delete each snapshot right after taking it.
        self.check_uint("backup", b, "keep", 1, u64::from(u32::MAX), "snapshots");
        self.unknown_fields("/backup", b, KNOWN, "backup");
    }

    fn check_fencing(&mut self, f: &Map<String, Value>) {
        const KNOWN: &[&str] = &["lease_ms"];
        // null is the documented "derive it from the agent's session timeout".
        if !matches!(f.get("lease_ms"), Some(Value::Null)) {
            self.check_uint("fencing", f, "lease_ms", 1, u64::MAX, "milliseconds");
        }
        self.unknown_fields("/fencing", f, KNOWN, "fencing");
    }

    fn check_hooks(&mut self, h: &Map<String, Value>) {
        const COMMANDS: &[&str] = &["pre_switchover", "post_switchover", "pre_failover", "post_failover"];
        const KNOWN: &[&str] = &["pre_switchover", "post_switchover", "pre_failover", "post_failover", "timeout_s"];
        for field in COMMANDS {
            match h.get(*field) {
                None | Some(Value::Null) => {}
                Some(Value::String(c)) if !c.trim().is_empty() => {}
                Some(v) => self.error(
                    &format!("/hooks/{field}"),
                    format!("hooks.{field} must be a command (a non-empty string) or null, found {v}"),
                ),
            }
        }
        // A zero timeout would kill every hook before it starts.
        self.check_uint("hooks", h, "timeout_s", 1, u64::MAX, "seconds");
        self.unknown_fields("/hooks", h, KNOWN, "hooks");
    }

    fn check_mysql(&mut self, m: &Map<String, Value>) {
        const KNOWN: &[&str] = &["tls"];
        const MODES: &str = "\"off\", \"preferred\" or \"required\"";
        match m.get("tls") {
            None => {}
            Some(Value::String(t)) if t.parse::<crate::tls::TlsMode>().is_ok() => {}
            Some(v) => self.error("/mysql/tls", format!("mysql.tls must be {MODES}, found {v}")),
        }
        // A CA path here would mean nothing on another host: it belongs in each host's profile
        // (`mysql_tls.ca_file`) or agent flags (`--mysql-tls-ca`).
        for (field, flag) in
            [("ca_file", "--mysql-tls-ca"), ("cert_file", "--mysql-tls-cert"), ("key_file", "--mysql-tls-key")]
        {
            if m.contains_key(field) {
                self.warning(
                    &format!("/mysql/{field}"),
                    format!(
                        "mysql.{field} is not read from the cluster config: TLS files are per host \
                         (the profile's mysql_tls.{field}, or the agent's {flag})"
                    ),
                );
            }
        }
        let unknown: Map<String, Value> = m
            .iter()
            .filter(|(k, _)| !["ca_file", "cert_file", "key_file"].contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        self.unknown_fields("/mysql", &unknown, KNOWN, "mysql");
    }

    fn check_replication(&mut self, r: &Map<String, Value>) {
        const KNOWN: &[&str] = &["user"];
        match r.get("user") {
            None => self.error("/replication", "replication is missing `user`"),
            Some(Value::String(u)) if !u.trim().is_empty() => {}
            Some(_) => self.error("/replication/user", "replication.user must be a non-empty string"),
        }
        self.unknown_fields("/replication", r, KNOWN, "replication");
    }
}

/// Maps every JSON pointer in valid JSON text to the 1-based (line, column) of its key (object
/// members) or of its value (array elements and the document itself).
pub fn locate(text: &str) -> HashMap<String, (usize, usize)> {
    let mut s = Scanner { chars: text.chars().collect(), i: 0, line: 1, col: 1, out: HashMap::new() };
    let at = s.pos();
    s.out.insert(String::new(), at);
    s.value(&mut String::new());
    s.out
}

/// Just enough of a JSON reader to record positions; the text was already validated by
/// serde_json, so malformed input only needs to stop the scan, not to be diagnosed.
struct Scanner {
    chars: Vec<char>,
    i: usize,
    line: usize,
    col: usize,
    out: HashMap<String, (usize, usize)>,
}

impl Scanner {
    fn pos(&self) -> (usize, usize) {
        (self.line, self.col)
    }
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += 1;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }
    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn value(&mut self, pointer: &mut String) {
        self.skip_ws();
        match self.peek() {
            Some('{') => self.object(pointer),
            Some('[') => self.array(pointer),
            Some('"') => {
                self.string();
            }
            Some(_) => {
                while self.peek().is_some_and(|c| !matches!(c, ',' | '}' | ']') && !c.is_whitespace()) {
                    self.bump();
                }
            }
            None => {}
        }
    }

    fn object(&mut self, pointer: &mut String) {
        self.bump();
        loop {
            self.skip_ws();
            match self.peek() {
                Some('"') => {}
                Some('}') | None => {
                    self.bump();
                    return;
                }
                Some(_) => {
                    self.bump();
                    continue;
                }
            }
            let at = self.pos();
            let key = self.string();
            let len = pointer.len();
            pointer.push('/');
            pointer.push_str(&escape_pointer(&key));
            self.out.insert(pointer.clone(), at);
            self.skip_ws();
            if self.peek() == Some(':') {
                self.bump();
            }
            self.value(pointer);
            pointer.truncate(len);
            self.skip_ws();
            if self.peek() == Some(',') {
                self.bump();
            }
        }
    }

    fn array(&mut self, pointer: &mut String) {
        self.bump();
        let mut index = 0usize;
        loop {
            self.skip_ws();
            match self.peek() {
                Some(']') | None => {
                    self.bump();
                    return;
                }
                Some(',') => {
                    self.bump();
                    continue;
                }
                Some(_) => {}
            }
            let len = pointer.len();
            pointer.push_str(&format!("/{index}"));
            let at = self.pos();
            self.out.insert(pointer.clone(), at);
            let before = self.i;
            self.value(pointer);
            if self.i == before {
                // Not a value (`[}` in malformed text): step over it, or this loop never ends.
                self.bump();
            }
            pointer.truncate(len);
            index += 1;
        }
    }

    /// Reads a string literal and returns its unescaped content.
    fn string(&mut self) -> String {
        let start = self.i;
        self.bump();
        while let Some(c) = self.bump() {
            match c {
                '\\' => {
                    self.bump();
                }
                '"' => break,
                _ => {}
            }
        }
        let literal: String = self.chars[start..self.i].iter().collect();
        serde_json::from_str::<String>(&literal).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{
  "schema": 1,
  "name": "main",
  "tier": "production",
  "nodes": [
    {"name": "db1", "host": "10.0.0.1", "port": 3306},
    {"name": "db2", "host": "10.0.0.2", "port": 3306}
  ],
  "failover": {"automatic": true, "cooldown_s": 300},
  "replication": {"user": "repl"}
}"#;

    /// Every field schema 1 knows, each set.
    const FULL: &str = r#"{
  "schema": 1,
  "name": "main",
  "tier": "production",
  "nodes": [
    {"name": "db1", "host": "10.0.0.1", "port": 3306},
    {"name": "db2", "host": "10.0.0.2", "port": 3306, "no_promote": true}
  ],
  "failover": {
    "automatic": true,
    "cooldown_s": 300,
    "max_lag_s": 10,
    "confirmations": 3,
    "auto_rejoin": false,
    "catch_up_timeout_ms": 5000,
    "long_transaction_s": 60,
    "paused": false
  },
  "fencing": {"lease_ms": null},
  "hooks": {
    "pre_switchover": "/usr/local/bin/drain",
    "post_switchover": null,
    "pre_failover": null,
    "post_failover": "/usr/local/bin/page",
    "timeout_s": 30
  },
  "replication": {"user": "repl"},
  "backup": {"zk_interval_s": 3600, "keep": 24},
  "mysql": {"tls": "required"}
}"#;

    #[test]
    fn a_good_config_has_no_problems() {
        assert_eq!(validate_config(GOOD, Some("main")), vec![]);
        assert_eq!(validate_config(GOOD, None), vec![]);
    }

    #[test]
    fn a_credential_in_the_config_is_an_error_where_it_stands() {
        let text = GOOD.replacen('{', "{\n  \"replication_password\": \"hunter2\",", 1);
        let problems = validate_config(&text, Some("main"));
        let secret: Vec<_> = problems.iter().filter(|p| p.message.contains("credential in plain text")).collect();
        assert_eq!(secret.len(), 1, "{problems:?}");
        assert_eq!((secret[0].line, secret[0].severity), (2, Severity::Error));
        assert!(secret[0].message.starts_with("replication_password") && !secret[0].message.contains("hunter2"));
        // Naming a file is what the config should do.
        let file = GOOD.replacen('{', "{\n  \"replication_password_file\": \"/etc/myzoo/repl\",", 1);
        assert!(validate_config(&file, Some("main")).iter().all(|p| !p.message.contains("credential")));
    }

    #[test]
    fn every_new_field_is_accepted() {
        assert_eq!(validate_config(FULL, Some("main")), vec![]);
        let lease = FULL.replace("\"lease_ms\": null", "\"lease_ms\": 4000");
        assert_eq!(validate_config(&lease, None), vec![]);
        let cfg = super::super::config::parse_config(FULL.as_bytes()).unwrap();
        assert!(cfg.nodes[1].no_promote);
        assert_eq!(cfg.hooks.post_failover.as_deref(), Some("/usr/local/bin/page"));
        assert_eq!((cfg.backup.zk_interval_s, cfg.backup.keep), (3600, 24));
        assert_eq!(cfg.mysql.tls, crate::tls::TlsMode::Required);
        let keep0 = FULL.replace("\"keep\": 24", "\"keep\": 0");
        let problems = validate_config(&keep0, None);
        assert!(problems.len() == 1 && problems[0].message.starts_with("backup.keep"), "{problems:?}");
    }

    #[test]
    fn new_fields_are_type_checked_with_positions() {
        let text = FULL
            .replace("\"no_promote\": true", "\"no_promote\": \"yes\"")
            .replace("\"max_lag_s\": 10", "\"max_lag_s\": 1.5")
            .replace("\"confirmations\": 3", "\"confirmations\": 0")
            .replace("\"auto_rejoin\": false", "\"auto_rejoin\": 1")
            .replace("\"catch_up_timeout_ms\": 5000", "\"catch_up_timeout_ms\": -5")
            .replace("\"long_transaction_s\": 60", "\"long_transaction_s\": \"60\"")
            .replace("\"paused\": false", "\"paused\": null")
            .replace("\"lease_ms\": null", "\"lease_ms\": 0")
            .replace("\"pre_switchover\": \"/usr/local/bin/drain\"", "\"pre_switchover\": \" \"")
            .replace("\"pre_failover\": null", "\"pre_failover\": [\"x\"]")
            .replace("\"timeout_s\": 30", "\"timeout_s\": 0");
        let problems = validate_config(&text, None);
        let found: Vec<(usize, usize, &str)> =
            problems.iter().map(|p| (p.line, p.column, p.message.as_str())).collect();
        let expect = [
            (7, 55, "nodes[1].no_promote"),
            (12, 5, "failover.max_lag_s"),
            (13, 5, "failover.confirmations"),
            (14, 5, "failover.auto_rejoin"),
            (15, 5, "failover.catch_up_timeout_ms"),
            (16, 5, "failover.long_transaction_s"),
            (17, 5, "failover.paused"),
            (19, 15, "fencing.lease_ms"),
            (21, 5, "hooks.pre_switchover"),
            (23, 5, "hooks.pre_failover"),
            (25, 5, "hooks.timeout_s"),
        ];
        assert_eq!(problems.len(), expect.len(), "{found:?}");
        for ((line, column, field), p) in expect.iter().zip(&problems) {
            assert_eq!((p.line, p.column), (*line, *column), "{field}: {found:?}");
            assert!(p.message.starts_with(field), "{field}: {}", p.message);
            assert_eq!(p.severity, Severity::Error);
        }
        assert!(problems[2].message.contains("≥ 1"), "{}", problems[2].message);
    }

    #[test]
    fn mysql_tls_is_one_of_three_modes_and_files_are_per_host() {
        for mode in ["off", "preferred", "required"] {
            let text = FULL.replace("\"tls\": \"required\"", &format!("\"tls\": \"{mode}\""));
            assert_eq!(validate_config(&text, None), vec![], "{mode}");
        }
        let bad = FULL.replace("\"tls\": \"required\"", "\"tls\": true");
        let problems = validate_config(&bad, None);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!((problems[0].line, problems[0].severity), (29, Severity::Error));
        assert!(problems[0].message.starts_with("mysql.tls must be \"off\""), "{}", problems[0].message);
        let with_ca =
            FULL.replace("\"tls\": \"required\"", "\"tls\": \"required\", \"ca_file\": \"/etc/ca.pem\", \"tsl\": 1");
        let problems = validate_config(&with_ca, None);
        let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(problems.len(), 2, "{messages:?}");
        assert!(problems.iter().all(|p| p.severity == Severity::Warning));
        assert!(
            messages[0].contains("mysql.ca_file is not read") && messages[0].contains("--mysql-tls-ca"),
            "{messages:?}"
        );
        assert!(messages[1].contains("`tsl` in mysql"), "{messages:?}");
        let wrong = FULL.replace("\"mysql\": {\"tls\": \"required\"}", "\"mysql\": \"tls\"");
        assert!(validate_config(&wrong, None)[0].message.contains("`mysql` must be an object"));
    }

    #[test]
    fn new_objects_report_wrong_types_and_unknown_fields() {
        let text = FULL
            .replace("\"fencing\": {\"lease_ms\": null}", "\"fencing\": {\"lease\": 1}")
            .replace("\"timeout_s\": 30", "\"timeout_s\": 30, \"on_error\": \"x\"")
            .replace("\"paused\": false", "\"paused\": false, \"pause\": true");
        let problems = validate_config(&text, None);
        let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(problems.len(), 3, "{messages:?}");
        assert!(problems.iter().all(|p| p.severity == Severity::Warning));
        assert!(messages[0].contains("`pause` in failover"));
        assert!(messages[1].contains("`lease` in fencing"));
        assert!(messages[2].contains("`on_error` in hooks"));
        let wrong = FULL.replace("\"fencing\": {\"lease_ms\": null}", "\"fencing\": 5");
        assert!(validate_config(&wrong, None)[0].message.contains("`fencing` must be an object"));
        let wrong =
            FULL.replace("\"hooks\": {", "\"hooks\": [{").replace("\"timeout_s\": 30\n  }", "\"timeout_s\": 30\n  }]");
        assert!(validate_config(&wrong, None)[0].message.contains("`hooks` must be an object"));
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let p = validate_json("{\n  \"a\": 1,\n  \"b\" 2\n}").unwrap_err();
        assert_eq!((p.line, p.column), (3, 7));
        assert!(p.message.starts_with("JSON syntax: expected `:`"), "{}", p.message);
        assert!(!p.message.contains("at line"));
        assert_eq!(validate_config("{\n  \"a\": 1,\n  \"b\" 2\n}", None)[0].line, 3);
        assert!(validate_json("[1, 2]").is_ok());
    }

    #[test]
    fn fields_are_checked_with_positions() {
        let text = GOOD
            .replace("\"tier\": \"production\"", "\"tier\": \"prod\"")
            .replace("\"port\": 3306}\n  ]", "\"port\": 70000}\n  ]")
            .replace("\"cooldown_s\": 300", "\"cooldown_s\": -1");
        let problems = validate_config(&text, Some("main"));
        let lines: Vec<(usize, &str)> = problems.iter().map(|p| (p.line, p.message.as_str())).collect();
        assert_eq!(problems.len(), 3, "{lines:?}");
        assert_eq!((problems[0].line, problems[0].column), (4, 3));
        assert!(problems[0].message.contains("tier"));
        assert_eq!(problems[1].line, 7);
        assert!(problems[1].message.contains("nodes[1].port"));
        assert_eq!(problems[2].line, 9);
        assert!(problems[2].message.contains("cooldown_s"));
        assert!(problems.iter().all(|p| p.severity == Severity::Error));
    }

    #[test]
    fn unknown_fields_are_warnings_that_name_them() {
        let text = GOOD.replace("\"schema\": 1,", "\"schema\": 1,\n  \"teir\": \"x\",").replace(
            "{\"name\": \"db1\", \"host\": \"10.0.0.1\", \"port\": 3306}",
            "{\"name\": \"db1\", \"host\": \"10.0.0.1\", \"port\": 3306, \"weight\": 2}",
        );
        let problems = validate_config(&text, None);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.iter().all(|p| p.severity == Severity::Warning));
        assert_eq!(problems[0].line, 3);
        assert!(problems[0].message.contains("`teir`"));
        assert_eq!(problems[1].line, 7);
        assert!(problems[1].message.contains("`weight`") && problems[1].message.contains("nodes[0]"));
    }

    #[test]
    fn missing_and_mismatched_fields() {
        let problems = validate_config(
            r#"{"name": "other", "nodes": [{"name": "a"}, {"name": "a", "host": "h", "port": 1}]}"#,
            Some("main"),
        );
        let text: Vec<String> = problems.iter().map(|p| p.message.clone()).collect();
        assert!(text.iter().any(|m| m.contains("missing field `schema`")), "{text:?}");
        assert!(text.iter().any(|m| m.contains("missing field `tier`")));
        assert!(text.iter().any(|m| m.contains("cluster's znode is named \"main\"")));
        assert!(text.iter().any(|m| m.contains("missing `host`")));
        assert!(text.iter().any(|m| m.contains("missing `port`")));
        assert!(text.iter().any(|m| m.contains("more than once")));
        assert!(validate_config("[1]", None)[0].message.contains("must be a JSON object"));
        let schema2 = GOOD.replace("\"schema\": 1", "\"schema\": 2");
        assert!(validate_config(&schema2, None)[0].message.contains("`schema` must be 1"));
    }

    /// Found by `tests/proptest_parsers.rs`: a `}` inside an array made the scan loop forever,
    /// recording `/0`, `/1`, … until memory ran out.
    #[test]
    fn locate_stops_on_malformed_text() {
        for text in ["[}", "[1, }", "{\"a\": [}]}", "[[}}]"] {
            let pos = locate(text);
            assert!(pos.len() <= text.len() + 1, "{text}: {pos:?}");
        }
    }

    #[test]
    fn locate_handles_escapes_and_nesting() {
        let text = "{\"a\\\"b\": [1, {\"c/d\": \"x,}\"}],\n \"e\": null}";
        let pos = locate(text);
        assert_eq!(pos["/a\"b"], (1, 2));
        assert_eq!(pos["/a\"b/1/c~1d"], (1, 15));
        assert_eq!(pos["/e"], (2, 2));
    }
}
