//! Soaks of the headless console against a real ZooKeeper holding clusters (one healthy-ish,
//! one full of broken documents) and data znodes of every kind:
//! - the key soak: a million random key events (every key the keymap knows, random characters,
//!   esc/enter/tab, ctrl and alt combinations, typed `:` commands), with resizes and clock ticks
//!   interleaved; no panic, every frame drawable, the state's invariants kept;
//! - the resize soak: on every screen and the overlays, 500 resizes between 20×5 and 300×100
//!   (random, the edges, one-column and one-row steps), drawing after each.
//!
//! Nothing is ever written: the app acts as a writable console (so dialogs and confirmations
//! are reached), but its executor refuses every write at the guards
//! (`Headless::start_with_writes_refused`), there is no MySQL behind the clusters and no
//! credentials for one, and no backup store. The quit keys are filtered out and counted (`q`
//! and `ctrl-c` wherever they would quit); a quit reached otherwise (`:q` typed at random)
//! restarts the app on the same session, and is counted too.
//!
//! `MYZOO_SOAK_SEED` replays a run (the seed is printed); `MYZOO_SOAK_EVENTS` changes the
//! number of key events (default 1,000,000).

mod common;

use std::time::{Duration, Instant, SystemTime};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use myzoo::console::app::App;
use myzoo::console::event::Event;
use myzoo::console::headless::Headless;
use myzoo::console::keymap::{Action, Key, KeyMap, Scope};
use myzoo::console::screens::ScreenId;
use myzoo::console::strings;
use myzoo::console::view;
use zookeeper_client::{Acls, Client, CreateMode};

const WAIT: Duration = Duration::from_secs(20);
const KEY_EVENTS: u64 = 1_000_000;
/// A frame is drawn (and checked) once per this many key events, and at the end.
const DRAW_EVERY_EVENTS: u64 = 1_000;
/// The invariants that walk the tree's rows are checked once per this many events.
const DEEP_CHECK_EVERY_EVENTS: u64 = 100;
/// A clock tick once per this many events (the real loop ticks every second).
const TICK_EVERY_EVENTS: u64 = 2_000;
const RESIZES_PER_SCREEN: usize = 500;
const MIN_SIZE: (u16, u16) = (20, 5);
const MAX_SIZE: (u16, u16) = (300, 100);
const ROOT: &str = "/myzoo";

fn seed() -> u64 {
    match std::env::var("MYZOO_SOAK_SEED") {
        Ok(s) => s.trim().parse().expect("MYZOO_SOAK_SEED is a number"),
        Err(_) => SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64),
    }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

fn status(node: &str, primary: bool, observed_at_ms: i64) -> serde_json::Value {
    let mut s = serde_json::json!({
        "schema": 1, "cluster": "main", "node": node, "observed_at_ms": observed_at_ms,
        "agent": {"host": "h", "pid": 1, "version": "0.1.0", "interval_ms": 1000, "heartbeat_ms": 5000},
        "server": {"host": "127.0.0.1", "port": 9},
        "reachable": true, "flavor": "mariadb", "version": "10.11.19-MariaDB", "server_id": 1,
        "role": if primary { "primary" } else { "replica" }, "read_only": !primary,
        "gtid": {"current": if primary { "0-1-100" } else { "0-1-97" }},
        "uptime_s": 100, "threads_connected": 3, "qps": 1.5,
    });
    if !primary {
        s["replication"] = serde_json::json!({
            "source_host": "127.0.0.1", "source_port": 9, "io_running": "Yes", "sql_running": "Yes",
            "seconds_behind": 4, "using_gtid": "Slave_Pos", "gtid_io_pos": "0-1-99",
        });
        s["heartbeat_lag_ms"] = serde_json::json!(4_200);
    }
    s
}

/// The tree every soak runs against: two clusters (one with broken and extreme documents),
/// an audit record, and data znodes of every kind.
async fn seed_tree(connect: &str) -> Client {
    let zk = Client::connect(connect).await.expect("connect to ZooKeeper");
    let persistent = CreateMode::Persistent.with_acls(Acls::anyone_all());
    let now = now_ms();
    let big: String = (0..4_000).map(|i| format!("line {i} of a long text znode\n")).collect();
    let extreme = serde_json::json!({
        "schema": 1, "cluster": "odd", "node": "x", "observed_at_ms": i64::MIN,
        "agent": {"host": "", "pid": u32::MAX, "version": "", "interval_ms": u64::MAX, "heartbeat_ms": u64::MAX},
        "server": {"host": "", "port": 0}, "reachable": false, "error": "e".repeat(500),
        "role": "unknown", "heartbeat_lag_ms": i64::MIN, "qps": -1e300, "uptime_s": u64::MAX,
        "replication": {"source_host": "x", "source_port": 65535, "io_running": "", "sql_running": "",
                        "seconds_behind": u64::MAX},
        "gtid": {"current": "99999999999999999999-1-1,x", "executed": "zz"},
        "primary_seen": {"node": "名前", "epoch": u64::MAX},
    });
    let znodes: Vec<(String, Vec<u8>)> = vec![
        ("/myzoo".into(), vec![]),
        ("/myzoo/clusters".into(), vec![]),
        ("/myzoo/clusters/main".into(), vec![]),
        (
            "/myzoo/clusters/main/config".into(),
            serde_json::to_vec_pretty(&serde_json::json!({
                "schema": 1, "name": "main", "tier": "production",
                "nodes": [{"name": "db1", "host": "127.0.0.1", "port": 9},
                          {"name": "db2", "host": "127.0.0.1", "port": 9},
                          {"name": "db3", "host": "127.0.0.1", "port": 9},
                          {"name": "db4", "host": "127.0.0.1", "port": 9, "no_promote": true}],
                "failover": {"automatic": true, "cooldown_s": 300},
                "hooks": {"post_failover": "/bin/true"},
                "backup": {"zk_interval_s": 3600, "keep": 3},
            }))
            .unwrap(),
        ),
        ("/myzoo/clusters/main/primary".into(), br#"{"node":"db1","epoch":3}"#.to_vec()),
        (
            "/myzoo/clusters/main/coordinator".into(),
            serde_json::to_vec(&serde_json::json!({
                "leader": "db2", "mode": "blocked", "reason": "cool-down after the last automatic failover",
                "last_failover_ms": now - 60_000, "blocked_until_ms": now + 3_600_000,
            }))
            .unwrap(),
        ),
        ("/myzoo/clusters/main/nodes".into(), vec![]),
        ("/myzoo/clusters/main/nodes/db1".into(), serde_json::to_vec(&status("db1", true, now)).unwrap()),
        ("/myzoo/clusters/main/nodes/db2".into(), serde_json::to_vec(&status("db2", false, now)).unwrap()),
        ("/myzoo/clusters/main/nodes/db3".into(), b"{not json".to_vec()),
        ("/myzoo/clusters/main/history".into(), vec![]),
        ("/myzoo/clusters/main/history/op-0000000001".into(), br#"{"operation":"switchover","steps":7}"#.to_vec()),
        ("/myzoo/clusters/main/history/op-0000000002".into(), vec![0xff, 0x00, 0x7b]),
        ("/myzoo/clusters/main/lock".into(), vec![]),
        ("/myzoo/clusters/odd".into(), vec![]),
        (
            "/myzoo/clusters/odd/config".into(),
            br#"{"schema":1,"name":"odd","tier":"staging","nodes":[{"name":"x","port":70000}]}"#.to_vec(),
        ),
        ("/myzoo/clusters/odd/primary".into(), br#"{"node": 5}"#.to_vec()),
        ("/myzoo/clusters/odd/coordinator".into(), vec![0xde, 0xad, 0xbe, 0xef]),
        ("/myzoo/clusters/odd/nodes".into(), vec![]),
        ("/myzoo/clusters/odd/nodes/x".into(), serde_json::to_vec(&extreme).unwrap()),
        ("/myzoo/clusters/odd/nodes/y".into(), br#"{"schema": 99}"#.to_vec()),
        ("/myzoo/clusters/empty".into(), vec![]),
        ("/myzoo/audit".into(), vec![]),
        ("/myzoo/audit/entry-0000000000".into(), br#"{"schema":1,"action":"set","path":"/x"}"#.to_vec()),
        ("/myzoo/audit/entry-0000000001".into(), b"garbage".to_vec()),
        ("/data".into(), vec![]),
        ("/data/json".into(), br#"{"a":[1,2,{"b":null}],"password":"hunter2","n":1.5e300}"#.to_vec()),
        ("/data/binary".into(), (0..=255u8).collect()),
        ("/data/big".into(), big.into_bytes()),
        ("/data/名前-é€".into(), "ünï-名前 😀\u{200b}\t|".as_bytes().to_vec()),
        ("/data/deep".into(), vec![]),
        ("/data/many".into(), vec![]),
    ];
    for (path, data) in &znodes {
        zk.create(path, data, &persistent).await.unwrap_or_else(|e| panic!("creating {path}: {e}"));
    }
    let mut deep = "/data/deep".to_string();
    for level in 0..12 {
        deep.push_str(&format!("/level-{level}-with-a-longer-name"));
        zk.create(&deep, b"", &persistent).await.unwrap();
    }
    for i in 0..150 {
        zk.create(&format!("/data/many/child-{i:04}"), format!("{i}").as_bytes(), &persistent).await.unwrap();
    }
    zk
}

async fn started(tag: &str, size: (u16, u16)) -> (std::sync::Arc<common::Sandbox>, Client, Headless) {
    let sb = common::Sandbox::shared_zk_only().await;
    let connect = sb.chroot(tag).await;
    let zk = seed_tree(&connect).await;
    let mut opts = common::app_opts(size, ROOT);
    opts.drafts_dir = sb.dir.path().join(format!("drafts-{tag}"));
    let session = myzoo::zk::ZkAccess::new(connect, Duration::from_secs(10));
    let mut h = Headless::start_with_writes_refused(opts, session).expect("headless console");
    assert!(
        h.pump_until(WAIT, |a| a.tree().node("/data").is_some() && a.screens().overview.cluster_count() == 3).await,
        "the tree and the clusters never loaded"
    );
    (sb, zk, h)
}

/// What a frame must look like: the whole area drawn at the app's size; below 80×24 the
/// too-small notice, else the header's badge on the first row and the first hint of what has
/// the keys on the last (hints put help first, so it survives a narrow terminal).
fn check_frame(h: &Headless, context: &dyn Fn() -> String) {
    let buf = h.terminal.backend().buffer();
    let (w, height) = h.app.shared().size;
    let row = |y: u16| -> String { (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect() };
    let shown = || {
        let rows: String = (0..buf.area.height).map(|y| format!("{y:3}|{}|\n", row(y).trim_end())).collect();
        format!("scope {:?}, size {w}×{height}\n{rows}", h.app.scope())
    };
    assert_eq!((buf.area.width, buf.area.height), (w, height), "{}: frame size", context());
    if view::too_small((w, height)) {
        let notice = (0..height).any(|y| row(y).contains(strings::TOO_SMALL));
        assert!(notice, "{}: no too-small notice:\n{}", context(), shown());
        return;
    }
    assert!(row(0).starts_with(&format!(" {} ", strings::APP_NAME)), "{}: header:\n{}", context(), shown());
    if let Some((first, _)) = h.app.shared().keymap.hint_labels(h.app.scope()).first() {
        assert!(row(height - 1).starts_with(first.as_str()), "{}: hint bar lost {first:?}:\n{}", context(), shown());
    }
}

/// The state's invariants after any event.
fn check_state(app: &App, deep: bool, context: &dyn Fn() -> String) {
    let tree = app.tree();
    let rows = tree.rows();
    let selected = tree.selected_index();
    assert!(
        selected < rows.len() || (rows.is_empty() && selected == 0),
        "{}: selection {selected} of {} rows",
        context(),
        rows.len()
    );
    assert!(app.screens().tree.offset() <= selected, "{}: tree scrolled past its selection", context());
    let (w, h) = app.shared().size;
    let in_range = (MIN_SIZE.0..=MAX_SIZE.0).contains(&w) && (MIN_SIZE.1..=MAX_SIZE.1).contains(&h);
    assert!(in_range, "{}: size {w}×{h}", context());
    if deep {
        for r in rows {
            assert!(tree.node(&r.path).is_some(), "{}: row {} has no znode", context(), r.path);
        }
        if let Some(node) = app.clusters().cursor_node() {
            assert!(!node.is_empty(), "{}: an empty cluster cursor", context());
        }
    }
}

/// Every key the keymap binds, in every scope.
fn table_keys() -> Vec<KeyEvent> {
    let mut keys: Vec<KeyEvent> = KeyMap::default()
        .bindings
        .iter()
        .flat_map(|bd| bd.keys.iter())
        .map(|k| KeyEvent::new(k.code, k.mods))
        .collect();
    keys.sort_by_key(|k| format!("{k:?}"));
    keys.dedup();
    keys
}

const SPECIAL: &[KeyCode] = &[
    KeyCode::Esc,
    KeyCode::Enter,
    KeyCode::Tab,
    KeyCode::BackTab,
    KeyCode::Backspace,
    KeyCode::Delete,
    KeyCode::Insert,
    KeyCode::Up,
    KeyCode::Down,
    KeyCode::Left,
    KeyCode::Right,
    KeyCode::Home,
    KeyCode::End,
    KeyCode::PageUp,
    KeyCode::PageDown,
];

const ODD_CHARS: &[char] = &['é', '€', '😀', '名', '\u{200b}', '\u{301}', '\u{fe0f}', 'ß', '\u{7f}', '\u{1b}'];

/// Commands an operator types: they reach the screens keys alone rarely do.
const COMMANDS: &[&str] = &[
    "goto /data/json",
    "goto /data/big",
    "goto /data/many/child-0100",
    "goto /myzoo/clusters/odd/nodes/x",
    "cluster main",
    "cluster odd",
    "c empty",
    "find child-01",
    "find /data 名前",
    "audit",
    "failover",
    "backups",
    "reload",
    "theme light",
    "theme dark",
    "theme nope",
    "ack",
    "help",
    "cd /",
    "g /nope",
];

/// One step of the key soak.
enum Step {
    Key(KeyEvent),
    Resize(u16, u16),
    Type(&'static str),
}

struct Generator {
    rng: fastrand::Rng,
    table: Vec<KeyEvent>,
}

impl Generator {
    fn size(&mut self, now: (u16, u16)) -> (u16, u16) {
        let r = &mut self.rng;
        match r.u8(0..10) {
            0 => MIN_SIZE,
            1 => MAX_SIZE,
            2 => (view::MIN_WIDTH_COLS, view::MIN_HEIGHT_ROWS),
            // One column or one row at a time, around where the layout changes too.
            3..=5 => {
                let w = now.0.saturating_add_signed(r.i16(-1..=1)).clamp(MIN_SIZE.0, MAX_SIZE.0);
                let h = now.1.saturating_add_signed(r.i16(-1..=1)).clamp(MIN_SIZE.1, MAX_SIZE.1);
                (w, h)
            }
            _ => (r.u16(MIN_SIZE.0..=MAX_SIZE.0), r.u16(MIN_SIZE.1..=MAX_SIZE.1)),
        }
    }

    fn step(&mut self, size: (u16, u16), scope: Scope) -> Step {
        // Where most keys are text, leave again as an operator would: the editor after a few
        // dozen keys, its "keep your changes?" question mostly with an answer.
        match scope {
            Scope::Editor if self.rng.u8(0..10) == 0 => {
                return Step::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE))
            }
            Scope::CloseEdit if self.rng.bool() => {
                return Step::Key(KeyEvent::new(
                    KeyCode::Char(['k', 'y', 'd'][self.rng.usize(0..3)]),
                    KeyModifiers::NONE,
                ))
            }
            _ => {}
        }
        let roll = self.rng.u32(0..10_000);
        if roll < 25 {
            let (w, h) = self.size(size);
            return Step::Resize(w, h);
        }
        if roll < 45 {
            return Step::Type(COMMANDS[self.rng.usize(0..COMMANDS.len())]);
        }
        // Esc often enough that dialogs and the command line are left again too.
        if roll < 345 {
            return Step::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
        }
        let r = &mut self.rng;
        let key = match r.u8(0..20) {
            0..=9 => self.table[r.usize(0..self.table.len())],
            10..=13 => KeyEvent::new(KeyCode::Char(r.char(' '..='~')), KeyModifiers::NONE),
            14 => KeyEvent::new(KeyCode::Char(ODD_CHARS[r.usize(0..ODD_CHARS.len())]), KeyModifiers::NONE),
            15..=16 => KeyEvent::new(SPECIAL[r.usize(0..SPECIAL.len())], KeyModifiers::NONE),
            17 => KeyEvent::new(KeyCode::F(r.u8(1..=12)), KeyModifiers::NONE),
            _ => {
                let mods = [KeyModifiers::CONTROL, KeyModifiers::ALT, KeyModifiers::SHIFT][r.usize(0..3)]
                    | if r.bool() { KeyModifiers::NONE } else { KeyModifiers::CONTROL };
                let code =
                    if r.u8(0..4) == 0 { SPECIAL[r.usize(0..SPECIAL.len())] } else { KeyCode::Char(r.char('a'..='z')) };
                KeyEvent::new(code, mods)
            }
        };
        Step::Key(key)
    }
}

/// Whether `key` would quit here: `ctrl-c` anywhere, the keys bound to quit where nothing is
/// typed.
fn quits(app: &App, key: &KeyEvent) -> bool {
    let k = Key::from_event(key);
    k == Key::ctrl('c') || matches!(app.shared().keymap.lookup(k, app.scope()), Some(Action::Quit | Action::ForceQuit))
}

#[derive(Default, Debug)]
struct Tally {
    keys: u64,
    resizes: u64,
    commands: u64,
    quits_filtered: u64,
    restarts: u64,
    frames: u64,
    screens: Vec<(ScreenId, u64)>,
    scopes: Vec<(Scope, u64)>,
}

/// One more for `what` in a short list of counts.
fn count<T: PartialEq>(counts: &mut Vec<(T, u64)>, what: T) {
    match counts.iter_mut().find(|(k, _)| *k == what) {
        Some((_, n)) => *n += 1,
        None => counts.push((what, 1)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_random_keys() {
    let seed = seed();
    let events: u64 = std::env::var("MYZOO_SOAK_EVENTS").ok().and_then(|s| s.parse().ok()).unwrap_or(KEY_EVENTS);
    eprintln!("key soak: seed {seed} (MYZOO_SOAK_SEED={seed} replays it), {events} key events");
    let (_sb, _zk, mut h) = started("soak-keys", (120, 40)).await;
    let started = Instant::now();
    let mut g = Generator { rng: fastrand::Rng::with_seed(seed), table: table_keys() };
    let mut t = Tally::default();
    let mut n = 0u64;
    while n < events {
        let at = n;
        let context = move || format!("seed {seed}, event {at}");
        match g.step(h.app.shared().size, h.app.scope()) {
            Step::Resize(w, hh) => {
                h.resize(w, hh);
                t.resizes += 1;
            }
            Step::Type(cmd) => {
                let keys =
                    std::iter::once(KeyCode::Char(':')).chain(cmd.chars().map(KeyCode::Char)).chain([KeyCode::Enter]);
                for code in keys {
                    h.feed(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
                }
                t.commands += 1;
            }
            Step::Key(key) => {
                if quits(&h.app, &key) {
                    t.quits_filtered += 1;
                    continue;
                }
                h.feed(Event::Key(key));
                t.keys += 1;
            }
        }
        n += 1;
        if h.app.should_quit() {
            t.restarts += 1;
            h.restart();
        }
        if n.is_multiple_of(TICK_EVERY_EVENTS) {
            h.feed(Event::Tick(SystemTime::now()));
        }
        check_state(&h.app, n.is_multiple_of(DEEP_CHECK_EVERY_EVENTS), &context);
        count(&mut t.screens, h.app.screen());
        count(&mut t.scopes, h.app.scope());
        if n.is_multiple_of(DRAW_EVERY_EVENTS) {
            h.draw();
            t.frames += 1;
            check_frame(&h, &context);
        }
    }
    h.apply_pending();
    h.draw();
    t.frames += 1;
    check_frame(&h, &|| format!("seed {seed}, the end"));
    let elapsed = started.elapsed();
    eprintln!("key soak: {t:#?}\nkey soak: {events} events in {:.1} s", elapsed.as_secs_f64());
    // The soak reached every screen and the overlays that take keys.
    for s in [
        ScreenId::Overview,
        ScreenId::Cluster,
        ScreenId::Tree,
        ScreenId::Audit,
        ScreenId::Find,
        ScreenId::Failover,
        ScreenId::Backups,
    ] {
        assert!(t.screens.iter().any(|(k, _)| *k == s), "seed {seed}: never on {s:?}: {t:#?}");
    }
    if events >= KEY_EVENTS {
        for s in [Scope::Popup, Scope::Editor, Scope::Confirm, Scope::Dialog, Scope::Input] {
            assert!(t.scopes.iter().any(|(k, _)| *k == s), "seed {seed}: never in {s:?}: {t:#?}");
        }
    }
    h.shutdown().await;
}

/// 500 sizes: the edges first, then random sizes and one-step walks.
fn sizes(rng: &mut fastrand::Rng) -> Vec<(u16, u16)> {
    let mut out =
        vec![MIN_SIZE, MAX_SIZE, (80, 24), (79, 24), (80, 23), (MIN_SIZE.0, MAX_SIZE.1), (MAX_SIZE.0, MIN_SIZE.1)];
    let mut g = Generator { rng: rng.fork(), table: Vec::new() };
    while out.len() < RESIZES_PER_SCREEN {
        let last = out[out.len() - 1];
        out.push(g.size(last));
    }
    out
}

fn key(h: &mut Headless, code: KeyCode) {
    h.feed(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn command(h: &mut Headless, line: &str) {
    key(h, KeyCode::Char(':'));
    for c in line.chars() {
        key(h, KeyCode::Char(c));
    }
    key(h, KeyCode::Enter);
}

/// Leaves any overlay and goes back to the tree at a size where everything is drawn.
async fn reset(h: &mut Headless) {
    h.resize(120, 40);
    for _ in 0..4 {
        if h.app.overlay().is_none() {
            break;
        }
        key(h, KeyCode::Esc);
        // An editor with changes asks what to do with them: discard.
        if h.app.scope() == Scope::CloseEdit {
            key(h, KeyCode::Char('d'));
        }
    }
    assert!(h.app.overlay().is_none(), "an overlay stayed open");
    key(h, KeyCode::Char('2'));
}

const DEEP: &str = "/data/deep/level-0-with-a-longer-name/level-1-with-a-longer-name/level-2-with-a-longer-name/\
                    level-3-with-a-longer-name/level-4-with-a-longer-name/level-5-with-a-longer-name";

/// A screen or overlay of the resize soak: the keys and commands that reach it, and what says
/// it is there with its data.
struct State {
    name: &'static str,
    steps: Vec<String>,
    ready: fn(&App) -> bool,
}

fn state(name: &'static str, steps: &[&str], ready: fn(&App) -> bool) -> State {
    State { name, steps: steps.iter().map(|s| s.to_string()).collect(), ready }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resizes_on_every_screen() {
    let seed = seed();
    eprintln!("resize soak: seed {seed} (MYZOO_SOAK_SEED={seed} replays it)");
    let (_sb, _zk, mut h) = started("soak-resize", (120, 40)).await;
    let mut rng = fastrand::Rng::with_seed(seed);
    let started = Instant::now();
    // How to reach each screen or overlay, and what says it is there with its data.
    let states = [
        state("tree, JSON selected", &[":goto /data/json"], |a| a.tree().selected_path() == Some("/data/json")),
        state("tree, long text", &[":goto /data/big"], |a| a.tree().selected_path() == Some("/data/big")),
        state("tree, deep", &[&format!(":goto {DEEP}")], |a| a.tree().selected_path() == Some(DEEP)),
        state("cluster main", &[":cluster main"], |a| {
            a.screen() == ScreenId::Cluster && a.clusters().selected.as_deref() == Some("main")
        }),
        state("cluster odd", &[":cluster odd"], |a| {
            a.screen() == ScreenId::Cluster && a.clusters().selected.as_deref() == Some("odd")
        }),
        state("overview", &["0"], |a| a.screen() == ScreenId::Overview),
        state("audit", &[":audit"], |a| a.screen() == ScreenId::Audit),
        state("find", &[":find child-01"], |a| a.screen() == ScreenId::Find),
        state("failover", &[":cluster main", ":failover"], |a| a.screen() == ScreenId::Failover),
        state("backups", &[":cluster main", ":backups"], |a| a.screen() == ScreenId::Backups),
        state("help", &[":goto /data/json", "?"], |a| a.scope() == Scope::Popup),
        state("editor", &[":goto /data/json", "e"], |a| a.editor().is_some()),
        state("command line", &[":"], |a| a.scope() == Scope::Input),
        state("create dialog", &[":goto /data/json", "n"], |a| a.scope() == Scope::Dialog),
        state("delete confirmation", &[":goto /data/many/child-0001", "d"], |a| a.scope() == Scope::Danger),
    ];
    let mut timings = Vec::new();
    for State { name, steps, ready } in states {
        reset(&mut h).await;
        for s in steps {
            match s.strip_prefix(':') {
                Some(line) if !line.is_empty() => command(&mut h, line),
                _ => {
                    for c in s.chars() {
                        key(&mut h, KeyCode::Char(c));
                    }
                }
            }
            let _ = h.pump_until(Duration::from_millis(200), |_| false).await;
        }
        assert!(h.pump_until(WAIT, ready).await, "{name}: never reached:\n{}", h.screen());
        let one = Instant::now();
        for (i, (w, hh)) in sizes(&mut rng).into_iter().enumerate() {
            h.resize(w, hh);
            h.apply_pending();
            h.draw();
            check_frame(&h, &|| format!("seed {seed}, {name}, resize {i} to {w}×{hh}"));
        }
        assert!(ready(&h.app), "{name}: lost by resizing");
        timings.push((name, one.elapsed()));
    }
    for (name, t) in &timings {
        eprintln!("resize soak: {name}: {RESIZES_PER_SCREEN} resizes in {:.2} s", t.as_secs_f64());
    }
    eprintln!("resize soak: {:.1} s in all", started.elapsed().as_secs_f64());
    h.shutdown().await;
}
