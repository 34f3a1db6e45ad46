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
        Err(e) => Err(syntax_problem(&e)),
    }
}

fn syntax_problem(e: &serde_json::Error) -> Problem {
    let full = e.to_string();
    // serde_json appends " at line L column C"; the position is carried separately.
    let message = full.rfind(" at line ").map_or(full.as_str(), |i| &full[..i]).to_string();
    Problem {
        line: e.line().max(1),
        column: e.column().max(1),
        message: format!("JSON syntax: {message}"),
        severity: Severity::Error,
    }
}

/// Validates a cluster config; `cluster` is the cluster's znode name when known (the document's
/// `name` must equal it). Problems come sorted by position; no problems means valid.
pub fn validate_config(text: &str, cluster: Option<&str>) -> Vec<Problem> {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return vec![syntax_problem(&e)],
    };
    let mut c = Checker { positions: locate(text), problems: Vec::new() };
    let Some(top) = value.as_object() else {
        c.error("", "the config must be a JSON object");
        return c.problems;
    };
    c.check_top(top, cluster);
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
        const KNOWN: &[&str] = &["schema", "name", "tier", "nodes", "failover", "replication"];
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
            Some(_) => self.error("/failover", "`failover` must be an object {automatic, cooldown_s}"),
        }
        match top.get("replication") {
            None => {}
            Some(Value::Object(r)) => self.check_replication(r),
            Some(_) => self.error("/replication", "`replication` must be an object {user}"),
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
        const KNOWN: &[&str] = &["name", "host", "port"];
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
            self.unknown_fields(&p, map, KNOWN, &format!("nodes[{i}]"));
        }
    }

    fn check_failover(&mut self, f: &Map<String, Value>) {
        const KNOWN: &[&str] = &["automatic", "cooldown_s"];
        match f.get("automatic") {
            None | Some(Value::Bool(_)) => {}
            Some(v) => {
                self.error("/failover/automatic", format!("failover.automatic must be true or false, found {v}"))
            }
        }
        match f.get("cooldown_s") {
            None => {}
            Some(v) if v.as_u64().is_some() => {}
            Some(v) => self.error(
                "/failover/cooldown_s",
                format!("failover.cooldown_s must be a whole number of seconds ≥ 0, found {v}"),
            ),
        }
        self.unknown_fields("/failover", f, KNOWN, "failover");
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
            self.value(pointer);
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

    #[test]
    fn a_good_config_has_no_problems() {
        assert_eq!(validate_config(GOOD, Some("main")), vec![]);
        assert_eq!(validate_config(GOOD, None), vec![]);
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

    #[test]
    fn locate_handles_escapes_and_nesting() {
        let text = "{\"a\\\"b\": [1, {\"c/d\": \"x,}\"}],\n \"e\": null}";
        let pos = locate(text);
        assert_eq!(pos["/a\"b"], (1, 2));
        assert_eq!(pos["/a\"b/1/c~1d"], (1, 15));
        assert_eq!(pos["/e"], (2, 2));
    }
}
