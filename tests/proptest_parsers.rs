//! Property tests for every parser of outside data that has a public entry point: what agents
//! publish (node status), what operators write (cluster config, theme, `[keys]`, the config
//! file), what servers print (GTID lists, replica status rows, dump streams) and what any
//! znode holds (the data view). Three kinds of property:
//! - never panic, on arbitrary bytes and text and on structured-but-wrong documents (a valid
//!   document with one field replaced by a value of another type, removed, or joined by an
//!   unknown one), including everything that reads the parsed value afterwards (the cluster
//!   verdicts, the node table, `myzoo status`'s text, the endpoint answer);
//! - round trips where a writer exists: serialise → parse gives the same value;
//! - errors name where they are, where the parser promises it (the config editor's line and
//!   column).
//!
//! The export file's reader is tested beside it (`src/backup/export.rs`), where its private
//! pieces are reachable. Failures found here are kept in `proptest_parsers.proptest-regressions`.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;

use myzoo::backup::dump::scan::{parse_gtid_line, Scanner};
use myzoo::cluster::config::{
    parse_config, parse_primary, BackupConfig, ClusterConfig, ConfigNode, FailoverConfig, FencingConfig, HooksConfig,
    MysqlConfig, PrimaryRecord, ReplicationConfig,
};
use myzoo::cluster::coordinator::{judge, parse_state, CoordinatorState};
use myzoo::cluster::endpoint::{self, EndpointRole};
use myzoo::cluster::health::{evaluate, ClusterSnapshot};
use myzoo::cluster::schema::{locate, validate_config, validate_json, Severity, TIERS};
use myzoo::cluster::status::{
    parse_status, AgentInfo, Endpoint, Flavor, Gtid, NodeStatus, ParsedStatus, Replication, SemiSync, ServerRole,
    STATUS_SCHEMA,
};
use myzoo::cluster::{report, table};
use myzoo::config::{BackupStoreConfig, ConfigFile, Profile};
use myzoo::console::editor::json_problems;
use myzoo::console::keymap::{Action, Key, KeyMap, Scope};
use myzoo::console::theme::Theme;
use myzoo::failover::gtid::{GtidSet, MariadbPos, Position};
use myzoo::mysql::flavor::{detect, Statements};
use myzoo::mysql::replica::{parse_replication, RowMap};
use myzoo::tls::TlsMode;
use myzoo::zk::format::{render_data_limited, utc_time, utc_timestamp, DataKind};

// ---------------------------------------------------------------------------------------------
// Shared strategies
// ---------------------------------------------------------------------------------------------

/// Any JSON value, a few levels deep.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter("JSON numbers are finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every JSON pointer inside `v` (not the document itself).
fn pointers(v: &Value) -> Vec<String> {
    fn walk(v: &Value, at: &str, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                    out.push(p.clone());
                    walk(child, &p, out);
                }
            }
            Value::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    let p = format!("{at}/{i}");
                    out.push(p.clone());
                    walk(child, &p, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, "", &mut out);
    out
}

/// One way to spoil a valid document.
#[derive(Debug, Clone)]
enum Spoil {
    /// The value at a pointer becomes another value (often of another type).
    Replace(Index, Value),
    /// The member at a pointer is removed.
    Remove(Index),
    /// An object gains a member it does not know.
    Unknown(Index, String, Value),
}

fn spoil() -> impl Strategy<Value = Spoil> {
    prop_oneof![
        (any::<Index>(), json()).prop_map(|(i, v)| Spoil::Replace(i, v)),
        any::<Index>().prop_map(Spoil::Remove),
        (any::<Index>(), "[a-z_]{1,10}", json()).prop_map(|(i, k, v)| Spoil::Unknown(i, k, v)),
    ]
}

/// Applies `s` to `doc`; returns the pointer it changed.
fn apply_spoil(doc: &mut Value, s: &Spoil) -> String {
    let ptrs = pointers(doc);
    match s {
        Spoil::Replace(..) | Spoil::Remove(_) if ptrs.is_empty() => String::new(),
        Spoil::Replace(i, v) => {
            let p = i.get(&ptrs).clone();
            if let Some(slot) = doc.pointer_mut(&p) {
                *slot = v.clone();
            }
            p
        }
        Spoil::Remove(i) => {
            let p = i.get(&ptrs).clone();
            let (parent, last) = p.rsplit_once('/').unwrap_or(("", &p));
            let key = last.replace("~1", "/").replace("~0", "~");
            match doc.pointer_mut(parent) {
                Some(Value::Object(m)) => {
                    m.remove(&key);
                }
                Some(Value::Array(a)) => {
                    if let Ok(i) = key.parse::<usize>() {
                        if i < a.len() {
                            a.remove(i);
                        }
                    }
                }
                _ => {}
            }
            p
        }
        Spoil::Unknown(i, k, v) => {
            let objects: Vec<String> = std::iter::once(String::new())
                .chain(ptrs)
                .filter(|p| doc.pointer(p).is_some_and(Value::is_object))
                .collect();
            let p = i.get(&objects).clone();
            if let Some(Value::Object(m)) = doc.pointer_mut(&p) {
                m.insert(k.clone(), v.clone());
            }
            format!("{p}/{k}")
        }
    }
}

/// A float that survives a trip through JSON text exactly.
fn exact_f64() -> impl Strategy<Value = f64> {
    (any::<i32>(), 0u32..4).prop_map(|(n, k)| f64::from(n) / f64::from(1u32 << k))
}

// ---------------------------------------------------------------------------------------------
// Node status documents (`cluster::status`) and everything that reads them
// ---------------------------------------------------------------------------------------------

fn primary_record() -> impl Strategy<Value = PrimaryRecord> {
    (".{0,8}", any::<u64>()).prop_map(|(node, epoch)| PrimaryRecord { node, epoch })
}

fn replication() -> impl Strategy<Value = Replication> {
    (
        (".{0,10}", any::<u16>(), prop_oneof!["Yes", "No", "Connecting", ".{0,4}"]),
        (prop_oneof!["Yes", "No", ".{0,4}"], any::<Option<u64>>(), ".{0,10}", ".{0,10}"),
        (".{0,8}", ".{0,16}"),
    )
        .prop_map(
            |((source_host, source_port, io_running), (sql_running, seconds_behind, io_err, sql_err), (g, pos))| {
                Replication {
                    source_host,
                    source_port,
                    io_running,
                    sql_running,
                    seconds_behind,
                    last_io_error: io_err,
                    last_sql_error: sql_err,
                    using_gtid: g,
                    gtid_io_pos: pos,
                }
            },
        )
}

/// Node statuses with every number over its whole range: what a buggy or hostile agent could
/// publish that still fits the schema.
fn node_status() -> impl Strategy<Value = NodeStatus> {
    (node_status_base(), proptest::option::of(".{0,12}")).prop_map(|(s, tls)| NodeStatus { tls, ..s })
}

fn node_status_base() -> impl Strategy<Value = NodeStatus> {
    let agent = (".{0,8}", any::<u32>(), ".{0,6}", any::<u64>(), any::<u64>()).prop_map(
        |(host, pid, version, interval_ms, heartbeat_ms)| AgentInfo {
            host,
            pid,
            version,
            interval_ms,
            heartbeat_ms,
            http: None,
        },
    );
    let gtid = (
        proptest::option::of("[0-9,-]{0,12}"),
        proptest::option::of(".{0,8}"),
        proptest::option::of(".{0,8}"),
        proptest::option::of(".{0,12}"),
    )
        .prop_map(|(current, slave, binlog, executed)| Gtid { current, slave, binlog, executed });
    let semi = (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(a, b, c)| SemiSync {
        source_enabled: a,
        replica_enabled: b,
        source_active: c,
    });
    (
        ("[a-z]{1,6}", "[a-z0-9]{1,6}", any::<i64>(), agent, (".{0,8}", any::<u16>())),
        (
            any::<bool>(),
            proptest::option::of(".{0,10}"),
            proptest::option::of(prop_oneof![Just(Flavor::Mariadb), Just(Flavor::Mysql)]),
            proptest::option::of(".{0,10}"),
            any::<Option<u32>>(),
            prop_oneof![Just(ServerRole::Primary), Just(ServerRole::Replica), Just(ServerRole::Unknown)],
            any::<Option<bool>>(),
        ),
        (gtid, proptest::option::of(replication()), proptest::option::of(semi)),
        (
            any::<Option<u64>>(),
            any::<Option<u64>>(),
            proptest::option::of(exact_f64()),
            any::<Option<i64>>(),
            proptest::option::of(primary_record()),
            proptest::option::of(".{0,8}"),
        ),
    )
        .prop_map(
            |(
                (cluster, node, observed_at_ms, agent, (host, port)),
                (reachable, error, flavor, version, server_id, role, read_only),
                (gtid, replication, semi_sync),
                (uptime_s, threads_connected, qps, heartbeat_lag_ms, primary_seen, fenced),
            )| NodeStatus {
                schema: STATUS_SCHEMA,
                cluster,
                node,
                observed_at_ms,
                agent,
                server: Endpoint { host, port },
                reachable,
                error,
                flavor,
                version,
                server_id,
                role,
                read_only,
                gtid,
                replication,
                semi_sync,
                uptime_s,
                threads_connected,
                qps,
                heartbeat_lag_ms,
                primary_seen,
                fenced,
                tls: None,
            },
        )
}

/// Everything downstream of a cluster's znodes: the verdicts, the node table, `myzoo status`'s
/// text, and both endpoint answers, at `now_ms`.
fn read_everything(snap: &ClusterSnapshot, now_ms: i64) {
    let view = evaluate(snap, now_ms);
    for n in &view.nodes {
        let _ = table::node_cells(&view, n);
    }
    let _ = table::render_text(&view);
    let _ = report::render(std::slice::from_ref(&view));
    let _ = endpoint::compute(snap, EndpointRole::Primary, now_ms);
    let _ = endpoint::compute(snap, EndpointRole::Replica, now_ms);
}

fn snapshot_with(
    nodes: BTreeMap<String, Vec<u8>>,
    config: Option<Vec<u8>>,
    primary: Option<Vec<u8>>,
) -> ClusterSnapshot {
    ClusterSnapshot {
        name: "c".into(),
        config,
        primary,
        coordinator: None,
        nodes,
        departed: BTreeSet::from(["gone".to_string()]),
    }
}

proptest! {
    #[test]
    fn node_status_round_trips(s in node_status()) {
        let bytes = serde_json::to_vec(&s).unwrap();
        prop_assert_eq!(parse_status(&bytes), ParsedStatus::Ok(Box::new(s)));
    }

    #[test]
    fn node_status_never_panics_on_bytes(data in proptest::collection::vec(any::<u8>(), 0..256), now in any::<i64>()) {
        let _ = parse_status(&data);
        let snap = snapshot_with(BTreeMap::from([("db1".to_string(), data)]), None, None);
        read_everything(&snap, now);
    }

    /// A valid status with one field spoilt is read as a value (never a panic), and every
    /// reader downstream copes with whatever parsed.
    #[test]
    fn spoilt_node_status_is_a_value(s in node_status(), how in spoil(), now in any::<i64>()) {
        let mut doc = serde_json::to_value(&s).unwrap();
        apply_spoil(&mut doc, &how);
        let bytes = serde_json::to_vec(&doc).unwrap();
        match parse_status(&bytes) {
            ParsedStatus::Ok(_) | ParsedStatus::UnknownSchema(_) => {}
            ParsedStatus::Malformed(m) => prop_assert!(!m.is_empty()),
        }
        let snap = snapshot_with(BTreeMap::from([("db1".to_string(), bytes)]), None, None);
        read_everything(&snap, now);
    }

    /// Extreme but well-formed statuses (any clock, any interval, any lag) through every
    /// reader, with the node recorded as primary and as a replica.
    #[test]
    fn extreme_statuses_are_judged(
        primary in node_status(),
        replica in node_status(),
        epoch in any::<u64>(),
        now in any::<i64>(),
    ) {
        let nodes = BTreeMap::from([
            ("db1".to_string(), serde_json::to_vec(&primary).unwrap()),
            ("db2".to_string(), serde_json::to_vec(&replica).unwrap()),
        ]);
        let config = serde_json::to_vec(&serde_json::json!({
            "schema": 1, "name": "c", "tier": "production",
            "nodes": [
                {"name": "db1", "host": primary.server.host, "port": primary.server.port},
                {"name": "db2", "host": replica.server.host, "port": replica.server.port},
            ],
            "failover": {"automatic": true},
        })).unwrap();
        let record = serde_json::to_vec(&PrimaryRecord { node: "db1".into(), epoch }).unwrap();
        let mut snap = snapshot_with(nodes, Some(config), Some(record));
        read_everything(&snap, now);
        snap.coordinator = Some(serde_json::to_vec(&CoordinatorState {
            leader: "db2".into(),
            mode: "blocked".into(),
            blocked_until_ms: Some(now),
            last_failover_ms: Some(i64::MIN),
            acked_ms: Some(i64::MAX),
            ..Default::default()
        }).unwrap());
        read_everything(&snap, now);
    }
}

// ---------------------------------------------------------------------------------------------
// Cluster config (`cluster::config`) and its strict validation (`cluster::schema`)
// ---------------------------------------------------------------------------------------------

/// Configs the strict validator must accept: names unique and non-empty, ports in range,
/// every bounded number within its bounds.
fn valid_config() -> impl Strategy<Value = ClusterConfig> {
    let tls = prop::sample::select(vec![TlsMode::Off, TlsMode::Preferred, TlsMode::Required]);
    (valid_config_base(), tls).prop_map(|(c, tls)| ClusterConfig { mysql: MysqlConfig { tls }, ..c })
}

fn valid_config_base() -> impl Strategy<Value = ClusterConfig> {
    let node = ("[a-zA-Z0-9 ._-]{0,10}", 1u16..=u16::MAX, any::<bool>())
        .prop_map(|(host, port, no_promote)| (format!("h{host}"), port, no_promote));
    let failover = (
        (any::<bool>(), any::<u64>(), any::<u64>(), 1u32..=u32::MAX),
        (any::<bool>(), any::<u64>(), any::<u64>(), any::<bool>()),
    )
        .prop_map(|((automatic, cooldown_s, max_lag_s, confirmations), (auto_rejoin, catch, long, paused))| {
            FailoverConfig {
                automatic,
                cooldown_s,
                max_lag_s,
                confirmations,
                auto_rejoin,
                catch_up_timeout_ms: catch,
                long_transaction_s: long,
                paused,
            }
        });
    let hook = proptest::option::of("[a-z/][a-z /._-]{0,12}");
    let hooks = (hook.clone(), hook.clone(), hook.clone(), hook, 1u64..=u64::MAX).prop_map(|(a, b, c, d, t)| {
        HooksConfig { pre_switchover: a, post_switchover: b, pre_failover: c, post_failover: d, timeout_s: t }
    });
    (
        ("[a-z][a-z0-9-]{0,10}", prop::sample::select(TIERS.to_vec())),
        proptest::collection::btree_map("[a-z][a-z0-9]{0,5}", node, 0..5),
        failover,
        (proptest::option::of(1u64..=u64::MAX), hooks, "[a-z][a-z0-9_]{0,8}", any::<u64>(), 1usize..=u32::MAX as usize),
    )
        .prop_map(|((name, tier), nodes, failover, (lease_ms, hooks, user, zk_interval_s, keep))| ClusterConfig {
            schema: 1,
            name,
            tier: tier.to_string(),
            nodes: nodes
                .into_iter()
                .map(|(name, (host, port, no_promote))| ConfigNode { name, host, port, no_promote })
                .collect(),
            failover,
            fencing: FencingConfig { lease_ms },
            hooks,
            replication: ReplicationConfig { user },
            backup: BackupConfig { zk_interval_s, keep },
            mysql: MysqlConfig::default(),
        })
}

/// The text at a 1-based line and column (columns in characters).
fn text_at(text: &str, line: usize, column: usize) -> String {
    text.lines().nth(line.saturating_sub(1)).unwrap_or_default().chars().skip(column.saturating_sub(1)).collect()
}

proptest! {
    /// What the strict validator accepts, the lenient reader reads back as the same value.
    #[test]
    fn valid_config_round_trips_and_validates(cfg in valid_config(), pretty in any::<bool>()) {
        let text = if pretty { serde_json::to_string_pretty(&cfg) } else { serde_json::to_string(&cfg) }.unwrap();
        prop_assert_eq!(validate_config(&text, Some(&cfg.name)), vec![]);
        prop_assert_eq!(parse_config(text.as_bytes()).unwrap(), cfg);
    }

    #[test]
    fn config_parsers_never_panic_on_text(text in ".{0,200}", cluster in proptest::option::of(".{0,6}")) {
        let _ = parse_config(text.as_bytes());
        let _ = validate_json(&text);
        let problems = validate_config(&text, cluster.as_deref());
        let lines = text.lines().count().max(1);
        for p in &problems {
            prop_assert!(p.line >= 1 && p.column >= 1, "{:?}", p);
            prop_assert!(p.line <= lines + 1, "line {} of {} lines: {:?}", p.line, lines, p);
        }
        let _ = locate(&text);
    }

    /// The position scanner stops on any text, valid or not (it once looped forever on `[}`).
    #[test]
    fn locate_always_stops(text in r#"[\[\]{}",: a0-9\\]{0,40}"#) {
        let pos = locate(&text);
        prop_assert!(pos.len() <= text.chars().count() + 1);
    }

    #[test]
    fn config_parsers_never_panic_on_bytes(data in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = parse_config(&data);
        let _ = parse_primary(&data);
    }

    /// A valid config with one field spoilt: the lenient reader never panics, and the strict
    /// validator's problems point at the text — a field's problem at that field's key.
    #[test]
    fn spoilt_config_problems_name_their_place(cfg in valid_config(), how in spoil()) {
        let mut doc = serde_json::to_value(&cfg).unwrap();
        apply_spoil(&mut doc, &how);
        let text = serde_json::to_string_pretty(&doc).unwrap();
        let _ = parse_config(text.as_bytes());
        let problems = validate_config(&text, Some(&cfg.name));
        for p in &problems {
            let at = text_at(&text, p.line, p.column);
            prop_assert!(!at.is_empty(), "{} points past its line:\n{}", p, text);
            // `nodes[1].port must …`, `failover.max_lag_s must …`: the key named is the one
            // pointed at (a missing field is reported at the object it is missing from).
            if let Some(field) = p.message.split_whitespace().next().and_then(|w| w.rsplit('.').next()) {
                if p.severity == Severity::Error && p.message.contains(" must ") && !field.contains('[') && field != "the" {
                    let key = field.trim_matches('`');
                    prop_assert!(at.starts_with(&format!("\"{key}\"")), "{} points at {:?}:\n{}", p, at, text);
                }
            }
        }
    }

    /// A syntax error is reported at its line and column, counted in characters: the editor
    /// puts the cursor there.
    #[test]
    fn syntax_errors_point_at_the_error(cfg in valid_config(), prefix in "[a-zé€😀 ]{0,6}", cut in any::<Index>()) {
        // A name with non-ASCII characters before the error, then the document cut short or
        // broken by a stray character.
        let mut doc = serde_json::to_value(&cfg).unwrap();
        doc["name"] = Value::from(prefix);
        let text = serde_json::to_string_pretty(&doc).unwrap();
        let chars: Vec<char> = text.chars().collect();
        let at = cut.index(chars.len());
        let broken: String = chars[..at].iter().chain(std::iter::once(&'#')).chain(chars[at..].iter()).collect();
        // Inside a string the `#` is text; anywhere else it is the error, at its own place.
        if let Err(p) = validate_json(&broken) {
            let before: String = chars[..at].iter().collect();
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            prop_assert_eq!((p.line, p.column), (line, column), "{}:\n{}", p, broken);
            prop_assert_eq!(validate_config(&broken, None), vec![p.clone()]);
            let shown = json_problems(&broken);
            prop_assert_eq!((shown[0].line, shown[0].column), (p.line, p.column));
        }
    }

    #[test]
    fn primary_record_round_trips(r in primary_record()) {
        prop_assert_eq!(parse_primary(&serde_json::to_vec(&r).unwrap()).unwrap(), r);
    }

    #[test]
    fn spoilt_primary_record_is_an_error_or_a_record(r in primary_record(), how in spoil()) {
        let mut doc = serde_json::to_value(&r).unwrap();
        apply_spoil(&mut doc, &how);
        match parse_primary(&serde_json::to_vec(&doc).unwrap()) {
            Ok(_) => {}
            Err(e) => prop_assert!(e.starts_with("primary record is not valid"), "{}", e),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The coordinator's state record (`cluster::coordinator`)
// ---------------------------------------------------------------------------------------------

fn coordinator_state() -> impl Strategy<Value = CoordinatorState> {
    (
        (".{0,8}", prop_oneof!["off", "on", "paused", "blocked", ".{0,6}"], ".{0,20}"),
        (any::<Option<i64>>(), any::<Option<i64>>(), any::<Option<i64>>()),
        (proptest::option::of(".{0,8}"), proptest::option::of(".{0,12}")),
    )
        .prop_map(|((leader, mode, reason), (last, until, acked), (acked_by, backup))| CoordinatorState {
            leader,
            mode,
            reason,
            last_failover_ms: last,
            blocked_until_ms: until,
            acked_ms: acked,
            acked_by,
            backup,
        })
}

proptest! {
    #[test]
    fn coordinator_state_round_trips(s in coordinator_state()) {
        prop_assert_eq!(parse_state(&serde_json::to_vec(&s).unwrap()), s);
    }

    #[test]
    fn coordinator_state_is_judged_whatever_it_holds(
        s in coordinator_state(),
        how in spoil(),
        data in proptest::collection::vec(any::<u8>(), 0..64),
        automatic in any::<bool>(),
        paused in any::<bool>(),
        now in any::<i64>(),
    ) {
        let mut doc = serde_json::to_value(&s).unwrap();
        apply_spoil(&mut doc, &how);
        let config = FailoverConfig { automatic, paused, ..FailoverConfig::default() };
        for state in [parse_state(&serde_json::to_vec(&doc).unwrap()), parse_state(&data), s] {
            let v = judge(&config, &state, |n| n.len() % 2 == 0, now);
            let _ = v.describe("myzoo ack");
            let _ = v.label();
            let _ = state.blocked(now);
        }
        let _ = (utc_time(now), utc_timestamp(now));
    }
}

// ---------------------------------------------------------------------------------------------
// Theme files (`console::theme`)
// ---------------------------------------------------------------------------------------------

const DARK: &str = include_str!("../themes/dark.toml");

/// The style names a theme file must set, from the shipped dark theme.
fn style_names() -> Vec<String> {
    let file: toml::Table = toml::from_str(DARK).unwrap();
    file["styles"].as_table().unwrap().keys().cloned().collect()
}

fn style_of(t: &Theme, name: &str) -> ratatui::style::Style {
    match name {
        "text" => t.text,
        "muted" => t.muted,
        "title" => t.title,
        "border" => t.border,
        "border_focused" => t.border_focused,
        "selected" => t.selected,
        "selected_unfocused" => t.selected_unfocused,
        "header" => t.header,
        "header_production" => t.header_production,
        "badge_ok" => t.badge_ok,
        "badge_warn" => t.badge_warn,
        "badge_error" => t.badge_error,
        "badge_readonly" => t.badge_readonly,
        "hint_key" => t.hint_key,
        "hint_text" => t.hint_text,
        "notice_info" => t.notice_info,
        "notice_error" => t.notice_error,
        "error" => t.error,
        "ephemeral" => t.ephemeral,
        "label" => t.label,
        "input" => t.input,
        "state_ok" => t.state_ok,
        "state_warn" => t.state_warn,
        "state_error" => t.state_error,
        "diff_added" => t.diff_added,
        "diff_removed" => t.diff_removed,
        other => panic!("style {other} is new: name it here"),
    }
}

fn colour() -> impl Strategy<Value = ratatui::style::Color> {
    use ratatui::style::Color;
    prop_oneof![
        prop::sample::select(vec![
            Color::Reset,
            Color::Black,
            Color::Red,
            Color::Green,
            Color::Yellow,
            Color::Blue,
            Color::Magenta,
            Color::Cyan,
            Color::Gray,
            Color::DarkGray,
            Color::LightRed,
            Color::LightGreen,
            Color::LightYellow,
            Color::LightBlue,
            Color::LightMagenta,
            Color::LightCyan,
            Color::White,
        ]),
        any::<u8>().prop_map(Color::Indexed),
        any::<(u8, u8, u8)>().prop_map(|(r, g, b)| Color::Rgb(r, g, b)),
    ]
}

/// One style as a theme file writes it, and the style it must read as.
fn style_spec() -> impl Strategy<Value = (String, ratatui::style::Style)> {
    use ratatui::style::{Modifier, Style};
    (proptest::option::of(colour()), proptest::option::of(colour()), any::<[bool; 5]>()).prop_map(|(fg, bg, flags)| {
        let mut parts = Vec::new();
        let mut style = Style::default();
        if let Some(c) = fg {
            parts.push(format!("fg = \"{c}\""));
            style = style.fg(c);
        }
        if let Some(c) = bg {
            parts.push(format!("bg = \"{c}\""));
            style = style.bg(c);
        }
        let names = ["bold", "dim", "italic", "underlined", "reversed"];
        let mods = [Modifier::BOLD, Modifier::DIM, Modifier::ITALIC, Modifier::UNDERLINED, Modifier::REVERSED];
        for ((on, name), m) in flags.iter().zip(names).zip(mods) {
            parts.push(format!("{name} = {on}"));
            if *on {
                style = style.add_modifier(m);
            }
        }
        (format!("{{ {} }}", parts.join(", ")), style)
    })
}

proptest! {
    /// A theme file written from styles reads back as those styles.
    #[test]
    fn theme_round_trips(name in "[a-z][a-z -]{0,10}", specs in proptest::collection::vec(style_spec(), 26)) {
        let names = style_names();
        prop_assert_eq!(names.len(), specs.len(), "the number of styles changed: update this test");
        let mut text = format!("name = {name:?}\n[styles]\n");
        for (n, (spec, _)) in names.iter().zip(&specs) {
            text.push_str(&format!("{n} = {spec}\n"));
        }
        let theme = Theme::parse(&text).unwrap();
        prop_assert_eq!(&theme.name, &name);
        for (n, (_, style)) in names.iter().zip(&specs) {
            prop_assert_eq!(style_of(&theme, n), *style, "{}", n);
        }
    }

    #[test]
    fn theme_parser_never_panics(text in ".{0,300}", line in any::<Index>(), junk in ".{0,20}") {
        let _ = Theme::parse(&text);
        // The shipped theme with one line replaced: rejected or read, never a panic.
        let mut lines: Vec<&str> = DARK.lines().collect();
        let i = line.index(lines.len());
        lines[i] = &junk;
        let _ = Theme::parse(&lines.join("\n"));
    }
}

// ---------------------------------------------------------------------------------------------
// Keymap overrides (`console::keymap`)
// ---------------------------------------------------------------------------------------------

/// Every key `[keys]` can name.
fn key() -> impl Strategy<Value = Key> {
    use crossterm::event::{KeyCode as K, KeyModifiers as M};
    let code = prop_oneof![
        // The arrows print as glyphs (`↑`), which name the arrow keys: no keyboard types them.
        any::<char>().prop_filter("printable", |c| !c.is_control() && !"↑↓←→".contains(*c)).prop_map(K::Char),
        prop::sample::select(vec![
            K::Tab,
            K::BackTab,
            K::Enter,
            K::Esc,
            K::Up,
            K::Down,
            K::Left,
            K::Right,
            K::PageUp,
            K::PageDown,
            K::Home,
            K::End,
            K::Backspace,
        ]),
        any::<u8>().prop_map(K::F),
    ];
    let mods = prop::sample::select(vec![M::NONE, M::CONTROL, M::ALT, M::CONTROL | M::ALT]);
    (code, mods).prop_map(|(code, mods)| Key { code, mods })
}

fn action() -> impl Strategy<Value = Action> {
    use Action::*;
    prop::sample::select(vec![
        Quit,
        ForceQuit,
        Help,
        CommandLine,
        Filter,
        NextPane,
        PrevPane,
        ShowOverview,
        ShowClusters,
        FocusTree,
        FocusDetail,
        NextCluster,
        PrevCluster,
        Up,
        Down,
        PageUp,
        PageDown,
        Top,
        Bottom,
        Expand,
        Collapse,
        Toggle,
        Back,
        Reload,
        Edit,
        Reveal,
        NewChild,
        DeleteNode,
        CopyPath,
        ShowAudit,
        ShowFailover,
        PlanSwitchover,
        PlanFailover,
        PlanRejoin,
        RunPlan,
        ShowBackups,
        NewSnapshot,
        DiffSnapshot,
        RestoreSnapshot,
        Save,
        Find,
        FindNext,
        Undo,
        Redo,
        ReloadTheirs,
        KeepEditing,
        Overwrite,
        KeepDraft,
        Discard,
        Confirm,
        Cancel,
        Submit,
        NextField,
        PrevChoice,
        NextChoice,
        DeleteChar,
    ])
}

fn action_name(a: Action) -> String {
    serde_json::to_value(a).unwrap().as_str().unwrap().to_string()
}

proptest! {
    /// A key printed (as the hint bar and help show it) reads back as the same key.
    #[test]
    fn keys_round_trip(k in key()) {
        let text = k.to_string();
        prop_assert_eq!(Key::parse(&text), Some(k), "{:?} printed as {:?}", k, text);
    }

    #[test]
    fn key_parser_never_panics(text in ".{0,12}", prefix in prop::sample::select(vec!["", "ctrl-", "alt-", "ctrl-alt-", "f"])) {
        let _ = Key::parse(&text);
        let _ = Key::parse(&format!("{prefix}{text}"));
    }

    /// Overrides either apply — every named action then answers to exactly its new keys in
    /// each of its scopes — or are refused naming the bad action or key.
    #[test]
    fn overrides_apply_or_name_what_is_wrong(
        good in proptest::collection::btree_map(action(), proptest::collection::vec(key(), 1..3), 0..4),
        bad_name in proptest::option::of("[a-z-]{1,10}"),
        bad_key in proptest::option::of(".{2,8}"),
    ) {
        let mut overrides: BTreeMap<String, Vec<String>> =
            good.iter().map(|(a, keys)| (action_name(*a), keys.iter().map(Key::to_string).collect())).collect();
        if let Some(n) = &bad_name {
            overrides.entry(n.clone()).or_insert_with(|| vec!["x".into()]);
        }
        if let (Some(k), Some((_, keys))) = (&bad_key, overrides.iter_mut().next()) {
            keys.push(k.clone());
        }
        match KeyMap::default().with_overrides(&overrides) {
            Ok(km) => {
                for (name, texts) in &overrides {
                    let a: Action = serde_json::from_value(Value::from(name.as_str())).unwrap();
                    let keys: Vec<Key> = texts.iter().map(|t| Key::parse(t).unwrap()).collect();
                    for bd in km.bindings.iter().filter(|bd| bd.action == a) {
                        prop_assert_eq!(&bd.keys, &keys);
                    }
                }
                let _ = km.hints(Scope::Tree);
            }
            Err(e) => {
                let e = e.to_string();
                let named = overrides.keys().any(|n| e.contains(&format!("{n:?}")))
                    || overrides.values().flatten().any(|k| e.contains(&format!("{k:?}")));
                prop_assert!(named, "{}", e);
            }
        }
    }
}

/// Every key of the shipped table prints as something `[keys]` reads back.
#[test]
fn every_default_key_prints_as_a_name_the_config_reads() {
    for bd in KeyMap::default().bindings {
        for k in bd.keys {
            assert_eq!(Key::parse(&k.to_string()), Some(k), "{:?} of {:?} prints as {}", k, bd.action, k);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The config file (`config`)
// ---------------------------------------------------------------------------------------------

fn profile() -> impl Strategy<Value = Profile> {
    let path = proptest::option::of(".{0,12}".prop_map(std::path::PathBuf::from));
    let store = proptest::option::of(
        (proptest::collection::vec(".{0,10}", 0..3), ".{0,8}", ".{0,8}", path.clone(), path.clone()).prop_map(
            |(hosts, database, user, password_file, dump_dir)| BackupStoreConfig {
                hosts,
                database,
                user,
                password_file,
                dump_dir,
                tls: TlsMode::Off,
                tls_files: None,
            },
        ),
    );
    (
        (".{0,16}", ".{0,8}", any::<u64>(), any::<bool>(), proptest::option::of(".{0,8}")),
        (proptest::option::of(".{0,8}"), path.clone(), path, store),
    )
        .prop_map(|((zk, root, session_timeout_ms, read_only, theme), (mysql_user, pw, repl, backup_store))| {
            Profile {
                zk,
                root,
                session_timeout_ms,
                read_only,
                theme,
                mysql_user,
                mysql_password_file: pw,
                repl_password_file: repl,
                backup_store,
                ensemble: None,
                zk_tls: None,
                mysql_tls: None,
                zk_auth_file: None,
            }
        })
}

fn config_file() -> impl Strategy<Value = ConfigFile> {
    (
        proptest::option::of(".{0,8}"),
        proptest::collection::btree_map(".{0,8}", profile(), 0..3),
        proptest::collection::btree_map(".{0,8}", proptest::collection::vec(".{0,6}", 0..3), 0..3),
    )
        .prop_map(|(default_profile, profiles, keys)| ConfigFile { default_profile, profiles, keys })
}

proptest! {
    #[test]
    fn config_file_round_trips(cfg in config_file()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        cfg.save(&path).unwrap();
        prop_assert_eq!(ConfigFile::load(&path).unwrap(), cfg);
    }

    /// A malformed file is an error naming the file, and the line where TOML says it is.
    #[test]
    fn config_file_errors_name_the_file(text in ".{0,200}", line in any::<Index>(), junk in ".{0,20}") {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let good = "default_profile = \"a\"\n[profiles.a]\nzk = \"127.0.0.1:2181\"\nroot = \"/myzoo\"\n\
                    session_timeout_ms = 10000\n[keys]\nquit = [\"x\"]\n";
        let mut lines: Vec<&str> = good.lines().collect();
        let i = line.index(lines.len());
        lines[i] = &junk;
        for text in [text, lines.join("\n")] {
            std::fs::write(&path, &text).unwrap();
            if let Err(e) = ConfigFile::load(&path) {
                let e = format!("{e:#}");
                prop_assert!(e.contains(&path.display().to_string()), "{}", e);
                prop_assert!(e.contains("line "), "{}", e);
            }
        }
    }

}

// ---------------------------------------------------------------------------------------------
// GTID positions (`failover::gtid`)
// ---------------------------------------------------------------------------------------------

fn mariadb_pos() -> impl Strategy<Value = MariadbPos> {
    proptest::collection::btree_map(any::<u32>(), (any::<u32>(), any::<u64>()), 0..5).prop_map(MariadbPos)
}

/// Positions as servers write them: sequence numbers start at 1.
fn mariadb_pos_from_one() -> impl Strategy<Value = MariadbPos> {
    proptest::collection::btree_map(0u32..4, (any::<u32>(), 1u64..=u64::MAX), 0..4).prop_map(MariadbPos)
}

fn uuid() -> impl Strategy<Value = String> {
    "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
}

fn gtid_set() -> impl Strategy<Value = GtidSet> {
    let key = (uuid(), proptest::option::of("[a-z_][a-z0-9_]{0,31}"))
        .prop_map(|(u, tag)| tag.map_or(u.clone(), |t| format!("{u}:{t}")));
    let interval = (1u64..=u64::MAX, any::<u16>()).prop_map(|(s, len)| (s, s.saturating_add(u64::from(len))));
    proptest::collection::btree_map(key, proptest::collection::vec(interval, 1..4), 0..4)
        .prop_map(GtidSet::from_intervals)
}

proptest! {
    #[test]
    fn mariadb_positions_round_trip(p in mariadb_pos(), spaced in any::<bool>()) {
        let text = if spaced { p.to_string().replace(',', " , ") } else { p.to_string() };
        prop_assert_eq!(MariadbPos::parse(&text).unwrap(), p);
    }

    #[test]
    fn mysql_sets_round_trip(s in gtid_set(), upper in any::<bool>()) {
        let text = if upper { s.to_string().to_uppercase() } else { s.to_string() };
        prop_assert_eq!(GtidSet::parse(&text).unwrap(), s);
    }

    #[test]
    fn gtid_parsers_never_panic(text in "[0-9a-fA-F:, \n_-]{0,60}", any_text in ".{0,40}") {
        for t in [&text, &any_text] {
            if let Err(e) = MariadbPos::parse(t) { prop_assert!(!e.is_empty()); }
            if let Err(e) = GtidSet::parse(t) { prop_assert!(!e.is_empty()); }
        }
    }

    /// What the comparisons promise, on parsed positions of both flavours.
    #[test]
    fn gtid_comparisons_hold(a in mariadb_pos_from_one(), b in mariadb_pos_from_one(), x in gtid_set(), y in gtid_set()) {
        for (p, q) in [
            (Position::Mariadb(a.clone()), Position::Mariadb(b.clone())),
            (Position::Mysql(x.clone()), Position::Mysql(y.clone())),
        ] {
            let u = p.union(&q);
            prop_assert!(u.contains(&p) && u.contains(&q));
            prop_assert_eq!(u.missing(&p), 0);
            prop_assert!(p.contains(&q) == (p.missing(&q) == 0), "{} vs {}", p, q);
            prop_assert_eq!(p.missing_text(&q).is_empty(), p.missing(&q) == 0);
            let _ = p.to_string();
        }
        prop_assert_eq!(Position::Mariadb(a).missing(&Position::Mysql(x)), u64::MAX);
    }
}

// ---------------------------------------------------------------------------------------------
// Replica status rows (`mysql::replica`)
// ---------------------------------------------------------------------------------------------

proptest! {
    /// A replica status row written from a `Replication` reads back as it.
    #[test]
    fn replica_rows_round_trip(r in replication(), version in prop::sample::select(vec!["10.11.19-MariaDB", "8.4.3", "8.0.21", "5.7.44"])) {
        let cols = Statements::for_server(detect(version)).columns;
        let r = Replication {
            source_host: format!("h{}", r.source_host),
            gtid_io_pos: r.gtid_io_pos.replace('\n', ""),
            ..r
        };
        let mut row = RowMap::new();
        row.insert(cols.source_host.into(), Some(r.source_host.clone()));
        row.insert(cols.source_port.into(), Some(r.source_port.to_string()));
        row.insert(cols.io_running.into(), Some(r.io_running.clone()));
        row.insert(cols.sql_running.into(), Some(r.sql_running.clone()));
        row.insert(cols.seconds_behind.into(), r.seconds_behind.map(|s| s.to_string()));
        row.insert(cols.last_io_error.into(), Some(r.last_io_error.clone()));
        row.insert(cols.last_sql_error.into(), Some(r.last_sql_error.clone()));
        row.insert(cols.using_gtid.into(), Some(r.using_gtid.clone()));
        row.insert(cols.received_gtid.into(), Some(r.gtid_io_pos.clone()));
        prop_assert_eq!(parse_replication(&row, &cols), Some(r));
    }

    #[test]
    fn replica_rows_never_panic(
        values in proptest::collection::vec(proptest::option::of(".{0,12}"), 9),
        extra in proptest::collection::btree_map(".{0,8}", proptest::option::of(".{0,8}"), 0..4),
        version in ".{0,16}",
    ) {
        let cols = Statements::for_server(detect(&version)).columns;
        let names = [
            cols.source_host, cols.source_port, cols.io_running, cols.sql_running, cols.seconds_behind,
            cols.last_io_error, cols.last_sql_error, cols.using_gtid, cols.received_gtid,
        ];
        let mut row: RowMap = extra.into_iter().collect();
        row.extend(names.iter().map(|n| n.to_string()).zip(values));
        let _ = parse_replication(&row, &cols);
    }
}

// ---------------------------------------------------------------------------------------------
// Dump streams (`backup::dump::scan`)
// ---------------------------------------------------------------------------------------------

/// A SQL literal as the dump tools write one.
fn sql_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        Just("NULL".to_string()),
        ".{0,12}".prop_map(|s| {
            let escaped = s.replace('\\', "\\\\").replace('\'', "\\'").replace('\n', "\\n").replace('\0', "\\0");
            format!("'{escaped}'")
        }),
        ".{0,8}".prop_map(|s| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))),
    ]
}

fn dump_table() -> impl Strategy<Value = (String, Vec<String>)> {
    let row = proptest::collection::vec(sql_value(), 1..4).prop_map(|v| format!("({})", v.join(",")));
    ("[a-z][a-z0-9_]{0,6}", proptest::collection::vec(row, 0..6))
}

fn dump_text(db: &str, tables: &[(String, Vec<String>)], gtid: &str) -> String {
    let mut out = format!("-- MariaDB dump\n--\n-- Current Database: `{db}`\n--\nUSE `{db}`;\n");
    for (t, rows) in tables {
        out.push_str(&format!("--\n-- Table structure for table `{t}`\n--\nCREATE TABLE `{t}` (x int);\n"));
        out.push_str(&format!("--\n-- Dumping data for table `{t}`\n--\n"));
        if !rows.is_empty() {
            out.push_str(&format!("INSERT INTO `{t}` VALUES {};\n", rows.join(",")));
        }
    }
    out.push_str(&format!("-- SET GLOBAL gtid_slave_pos='{gtid}';\n"));
    out
}

fn scan(chunks: &[&[u8]]) -> myzoo::backup::dump::scan::ScanResult {
    let mut s = Scanner::new();
    for c in chunks {
        s.feed(c);
    }
    s.finish()
}

proptest! {
    /// The scanner reads what a dump says: its tables, their row counts, and a digest that
    /// does not depend on row order; whatever the chunks it is fed in.
    #[test]
    fn dumps_are_read_whatever_the_chunks(
        tables in proptest::collection::btree_map("[a-z][a-z0-9_]{0,6}", dump_table().prop_map(|t| t.1), 1..4),
        gtid in "[0-9]-[0-9]-[0-9]{1,4}",
        cuts in proptest::collection::vec(any::<Index>(), 0..6),
        rotate in any::<usize>(),
    ) {
        let tables: Vec<(String, Vec<String>)> = tables.into_iter().collect();
        let text = dump_text("app", &tables, &gtid);
        let whole = scan(&[text.as_bytes()]);
        prop_assert_eq!(whole.gtid.as_deref(), Some(gtid.as_str()));
        prop_assert_eq!(whole.data_sections, tables.len() as u64);
        prop_assert_eq!(whole.structures, tables.len() as u64);
        for (t, rows) in &tables {
            prop_assert_eq!(whole.tables[&format!("app.{t}")].rows, rows.len() as u64);
        }
        let bytes = text.as_bytes();
        let mut at: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
        at.sort_unstable();
        let mut chunks = Vec::new();
        let mut from = 0;
        for a in at {
            chunks.push(&bytes[from..a]);
            from = a;
        }
        chunks.push(&bytes[from..]);
        prop_assert_eq!(&scan(&chunks), &whole);
        // Rows in another order: the same digest.
        let turned: Vec<(String, Vec<String>)> = tables
            .iter()
            .map(|(t, rows)| {
                let mut r = rows.clone();
                if !r.is_empty() {
                    let n = rotate % r.len();
                    r.rotate_left(n);
                }
                (t.clone(), r)
            })
            .collect();
        prop_assert_eq!(scan(&[dump_text("app", &turned, &gtid).as_bytes()]), whole);
    }

    #[test]
    fn scanner_never_panics(data in proptest::collection::vec(any::<u8>(), 0..512), split in any::<Index>(), line in ".{0,40}") {
        let at = split.index(data.len() + 1);
        let _ = scan(&[&data[..at], &data[at..]]);
        let _ = scan(&[line.as_bytes()]);
        let _ = parse_gtid_line(&line);
        let _ = parse_gtid_line(&format!("SET GLOBAL gtid_slave_pos={line}"));
    }
}

// ---------------------------------------------------------------------------------------------
// Znode data shown on screen (`zk::format`)
// ---------------------------------------------------------------------------------------------

proptest! {
    #[test]
    fn data_views_never_panic_and_cut_where_they_say(data in proptest::collection::vec(any::<u8>(), 0..300), limit in 1usize..400) {
        let v = render_data_limited(&data, limit);
        prop_assert_eq!(v.total_bytes, data.len());
        match v.kind {
            DataKind::Empty => prop_assert!(data.is_empty()),
            DataKind::Binary => {
                let shown = data.len().min(limit);
                prop_assert_eq!(v.lines.len(), shown.div_ceil(16));
                prop_assert_eq!(v.truncated, shown < data.len());
            }
            DataKind::Text => {
                let shown: usize = v.lines.iter().map(String::len).sum();
                prop_assert!(shown <= limit);
            }
            DataKind::Json => {}
        }
    }

    /// JSON is shown pretty-printed; read back, it is the same document.
    #[test]
    fn json_data_round_trips(doc in json()) {
        let text = serde_json::to_vec(&doc).unwrap();
        let v = render_data_limited(&text, usize::MAX);
        if doc.is_object() || doc.is_array() {
            prop_assert_eq!(v.kind, DataKind::Json);
            let back: Value = serde_json::from_str(&v.lines.join("\n")).unwrap();
            prop_assert_eq!(back, doc);
        }
    }

    #[test]
    fn text_data_round_trips(text in "[^\\p{Cc}]{0,40}(\n[^\\p{Cc}]{0,40}){0,4}") {
        let v = render_data_limited(text.as_bytes(), usize::MAX);
        if v.kind == DataKind::Text {
            prop_assert_eq!(v.lines.join("\n"), text.strip_suffix('\n').unwrap_or(&text));
        }
    }
}
