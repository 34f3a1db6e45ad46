//! Editor benchmarks. Run: `cargo bench --bench editor [-- keystroke|keystroke-inprocess|diff]`.
//!
//! - keystroke — end to end: the release binary in a pseudo-terminal (120×40) against a real
//!   ZooKeeper (a sandbox started here), editing a 1 KB and a 1 MB JSON znode; from the key's
//!   bytes written to the terminal to the output read back after which the screen shows that
//!   keystroke's effect. The real loop runs meanwhile: validation (in the loop up to 64 KiB,
//!   else in the background), a tick every second, drafts written by the writer task.
//! - keystroke-inprocess — `App::update` with the key, then `view::draw` on a `TestBackend`, in
//!   this process; the effects `update` returns are dropped (no background validation, no
//!   ticks, no drafts): the cost of the update and the drawing alone, not a product figure.
//! - diff — the save view's line diff of two 1 MB JSON documents that differ in a few places.

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use std::time::{Duration, Instant, UNIX_EPOCH};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use myzoo::console::app::{App, AppOptions};
use myzoo::console::event::Event;
use myzoo::console::keymap::KeyMap;
use myzoo::console::theme::Theme;
use myzoo::console::view;
use myzoo::zk::{NodeInfo, NodeStat};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use support::{percentile, PtyConsole};
use zookeeper_client::{Acls, Client, CreateMode};

const KEYSTROKES: usize = 400;
/// Keys typed per document in the end-to-end case: rounds of 20 letters typed, then 20
/// backspaces, inside a JSON string (the document stays valid).
const E2E_KEYS: usize = 400;
const E2E_ROUND: usize = 20;
const E2E_LETTERS: &[u8; E2E_ROUND] = b"abcdefghijklmnopqrst";
/// Pause after a keystroke shows before the next key: a quick typist's 40–100 ms, varied so
/// keys land at every phase of the tick and of the frame interval.
const E2E_PAUSE_MS: (u64, u64) = (40, 100);
/// The end-to-end "1 MB" document: ZooKeeper takes at most 1 MiB less a little per request.
const E2E_BIG_BYTES: usize = 1_000_000;
const E2E_SMALL_BYTES: usize = 1_024;
const DIFF_RUNS: usize = 15;

/// A pretty-printed JSON document of about `bytes` bytes.
fn document(bytes: usize) -> String {
    let mut entries = Vec::new();
    let mut size = 0;
    let mut i = 0;
    while size < bytes {
        let e = format!(
            "  \"host-{i:06}\": {{\n    \"address\": \"10.{}.{}.{}\",\n    \"port\": 3306,\n    \"weight\": {},\n    \"tags\": [\"a\", \"b\"]\n  }}",
            i / 65536 % 256,
            i / 256 % 256,
            i % 256,
            i % 10
        );
        size += e.len() + 2;
        entries.push(e);
        i += 1;
    }
    format!("{{\n{}\n}}\n", entries.join(",\n"))
}

fn editor_on(doc: &str) -> App {
    let mut app = App::new(AppOptions {
        label: "bench".into(),
        root: "/myzoo".into(),
        read_only: false,
        theme: Theme::builtin("dark").unwrap(),
        keymap: KeyMap::default(),
        size: (120, 40),
        now: UNIX_EPOCH + Duration::from_secs(1_795_640_000),
        drafts_dir: std::env::temp_dir().join("myzoo-bench-drafts"),
        mysql: Default::default(),
        backup_store: None,
        ensemble: Default::default(),
    });
    let node = NodeInfo {
        path: "/bench/doc".into(),
        stat: NodeStat { version: 1, data_length: doc.len() as i32, ..NodeStat::default() },
        data: doc.as_bytes().to_vec(),
    };
    app.update(Event::EditorOpened { node, draft: None, draft_error: None });
    assert!(app.editor().is_some());
    app
}

/// Types into the middle of the document, drawing after each key as the event loop does.
fn keystrokes(mut app: App) -> Vec<f64> {
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    for _ in 0..(app_lines(&app) / 2) {
        // Jump to the middle with page-downs (not timed).
        app.update(Event::Key(KeyEvent::new(KeyCode::PageDown, KeyModifiers::NONE)));
        if app_cursor_line(&app) >= app_lines(&app) / 2 {
            break;
        }
    }
    terminal.draw(|f| view::draw(f, &app)).unwrap();
    let mut samples = Vec::with_capacity(KEYSTROKES);
    for i in 0..KEYSTROKES {
        let code = if i % 10 == 9 { KeyCode::Backspace } else { KeyCode::Char((b'a' + (i % 26) as u8) as char) };
        let t = Instant::now();
        let _effects = app.update(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        terminal.draw(|f| view::draw(f, &app)).unwrap();
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    samples
}

fn app_lines(app: &App) -> usize {
    match app.editor() {
        Some(e) => e.textarea.lines().len(),
        _ => 0,
    }
}

fn app_cursor_line(app: &App) -> usize {
    match app.editor() {
        Some(e) => e.textarea.cursor().0,
        _ => 0,
    }
}

fn main() {
    let which = std::env::args().skip(1).find(|a| !a.starts_with("--")).unwrap_or_else(|| "all".into());
    let big = document(1024 * 1024);
    if which == "all" || which == "keystroke" {
        bench_keystroke_e2e();
    }
    if which == "all" || which == "keystroke-inprocess" {
        let mut b = keystrokes(editor_on(&big));
        let mut s = keystrokes(editor_on(&document(1024)));
        println!("== editor, in process (not a product figure: effects dropped, no validation results, ticks or drafts): App::update + view::draw, 120×40 ({KEYSTROKES} keys typed mid-document) ==");
        println!(
            "1 MB JSON ({} lines)   p50 {:.3} ms   p99 {:.3} ms   max {:.3} ms",
            big.lines().count(),
            percentile(&mut b, 0.5),
            percentile(&mut b, 0.99),
            percentile(&mut b, 1.0)
        );
        println!(
            "1 KB JSON              p50 {:.3} ms   p99 {:.3} ms",
            percentile(&mut s, 0.5),
            percentile(&mut s, 0.99)
        );
    }
    if which == "all" || which == "diff" {
        let changed = big.replacen("\"weight\": 3", "\"weight\": 30", 5).replacen("10.0.1.", "10.9.1.", 3);
        let mut times = Vec::new();
        let mut stats = None;
        for _ in 0..DIFF_RUNS {
            let t = Instant::now();
            let (_, s) = myzoo::diff::diff_lines(&big, &changed);
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            stats = Some(s);
        }
        let small_a = document(1024);
        let small_b = small_a.replacen("\"weight\": 3", "\"weight\": 30", 1);
        let mut small = Vec::new();
        for _ in 0..DIFF_RUNS {
            let t = Instant::now();
            let _ = myzoo::diff::diff_lines(&small_a, &small_b);
            small.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let s = stats.unwrap_or_default();
        println!("== diff: two 1 MB JSON documents, {} lines changed ({DIFF_RUNS} runs) ==", s.added);
        println!(
            "median {:.2} ms   max {:.2} ms   (1 KB documents: median {:.3} ms)",
            percentile(&mut times, 0.5),
            percentile(&mut times, 1.0),
            percentile(&mut small, 0.5)
        );
    }
}

/// The address on entry `i`'s second line (see `document`).
fn address(i: usize) -> String {
    format!("10.{}.{}.{}", i / 65536 % 256, i / 256 % 256, i % 256)
}

/// Entries in `document(bytes)`.
fn entries(doc: &str) -> usize {
    doc.matches("\"host-").count()
}

/// A deterministic spread of pauses (no rand crate for this).
struct Pauses(u64);

impl Pauses {
    fn next(&mut self) -> Duration {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let (lo, hi) = E2E_PAUSE_MS;
        Duration::from_millis(lo + (self.0 >> 33) % (hi - lo + 1))
    }
}

/// Opens `path` in the real console and types `E2E_KEYS` keys into the address string of the
/// entry in the middle; each sample is key bytes written → the screen shows the new text.
fn e2e_keystrokes(zk: &str, path: &str, doc: &str) -> (Vec<f64>, usize) {
    let mut console = PtyConsole::spawn(&["--zk", zk, "--root", "/edit"], (120, 40));
    console.wait_for("connected", Duration::from_secs(15));
    console.send(format!(":goto {path}\r").as_bytes());
    console.wait_for(&format!("Znode {path}"), Duration::from_secs(15));
    console.send(b"e");
    console.wait_for(&format!("Edit {path}"), Duration::from_secs(30));
    console.wait_for("valid JSON", Duration::from_secs(30));
    // To the middle entry (ctrl-g searches), then into its address string, before the quote.
    let mid = entries(doc) / 2;
    console.send(format!("\x07\"host-{mid:06}\"\r").as_bytes());
    std::thread::sleep(Duration::from_millis(300));
    console.send(b"\x1b[B\x1b[F\x1b[D\x1b[D");
    std::thread::sleep(Duration::from_millis(500));
    let addr = address(mid);
    let mut typed = String::new();
    let mut pauses = Pauses(path.len() as u64);
    let mut samples = Vec::with_capacity(E2E_KEYS);
    for i in 0..E2E_KEYS {
        let pos = i % (2 * E2E_ROUND);
        let key = if pos < E2E_ROUND {
            typed.push(char::from(E2E_LETTERS[pos]));
            vec![E2E_LETTERS[pos]]
        } else {
            typed.pop();
            vec![0x7f]
        };
        let needle = format!("\"{addr}{typed}\"");
        match console.key_to_screen(&key, &needle, Duration::from_secs(5)) {
            Some(d) => samples.push(d.as_secs_f64() * 1000.0),
            None => panic!("key {i} never showed {needle:?}; screen:\n{}", console.screen()),
        }
        std::thread::sleep(pauses.next());
    }
    // Every key above changed the text, so ticks kept the draft: it must be on disk.
    let drafts = draft_bytes(console.home());
    console.quit(b"\x03");
    (samples, drafts)
}

/// Bytes of the draft files under a console's home (the writer task's work).
fn draft_bytes(dir: &std::path::Path) -> usize {
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                total += draft_bytes(&p);
            } else if p.components().any(|c| c.as_os_str() == "drafts") {
                total += e.metadata().map_or(0, |m| m.len() as usize);
            }
        }
    }
    total
}

fn bench_keystroke_e2e() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let sb = rt.block_on(common::Sandbox::zk_only());
    let (small, big) = (document(E2E_SMALL_BYTES), document(E2E_BIG_BYTES));
    rt.block_on(async {
        let client = Client::connect(&sb.zk()).await.unwrap();
        let p = CreateMode::Persistent.with_acls(Acls::anyone_all());
        client.create("/edit", b"", &p).await.unwrap();
        client.create("/edit/doc-1k", small.as_bytes(), &p).await.unwrap();
        client.create("/edit/doc-1m", big.as_bytes(), &p).await.unwrap();
    });
    println!(
        "== editor keystroke, end to end: the release binary in a pty (120×40), key bytes written → screen shows the keystroke; validation, ticks and drafts running ({E2E_KEYS} keys per document, {}–{} ms apart) ==",
        E2E_PAUSE_MS.0, E2E_PAUSE_MS.1
    );
    for (label, path, doc) in [("1 KB", "/edit/doc-1k", &small), ("1 MB", "/edit/doc-1m", &big)] {
        let (mut s, drafts) = e2e_keystrokes(&sb.zk(), path, doc);
        let over = s.iter().filter(|&&ms| ms > 16.0).count();
        println!(
            "{label} JSON ({} bytes, {} lines)   p50 {:.2} ms   p99 {:.2} ms   max {:.2} ms   over 16 ms: {over}   draft on disk: {drafts} bytes",
            doc.len(),
            doc.lines().count(),
            percentile(&mut s, 0.5),
            percentile(&mut s, 0.99),
            percentile(&mut s, 1.0)
        );
    }
}
