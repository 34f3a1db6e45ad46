//! Editor benchmarks (no servers needed). Run: `cargo bench --bench editor`.
//!
//! - keystroke — keystroke to drawn frame in the editor on a 1 MB JSON document (120×40),
//!   beside the same on a 1 KB document: `App::update` with the key, then `view::draw`.
//! - diff — the save view's line diff of two 1 MB JSON documents that differ in a few places.

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
use support::percentile;

const KEYSTROKES: usize = 400;
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
        let mut b = keystrokes(editor_on(&big));
        let mut s = keystrokes(editor_on(&document(1024)));
        println!("== editor: keystroke → drawn frame, 120×40 ({KEYSTROKES} keys typed mid-document) ==");
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
