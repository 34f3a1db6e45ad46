//! The editor on ratatui's TestBackend: masked secrets, a JSON error with line and column, the
//! diff before saving, the conflict view; and the written data carries the real secret.

use std::time::{Duration, UNIX_EPOCH};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use myzoo::console::app::{App, AppOptions};
use myzoo::console::editor::Stage;
use myzoo::console::event::{Effect, Event, SaveResult};
use myzoo::console::keymap::KeyMap;
use myzoo::console::theme::Theme;
use myzoo::console::view;
use myzoo::zk::{NodeInfo, NodeStat, SessionBadge, ZkEvent};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

const CONFIG: &str = r#"{
  "schema": 1,
  "name": "main",
  "tier": "staging",
  "nodes": [
    {"name": "db1", "host": "10.0.0.1", "port": 3306}
  ],
  "replication": {"user": "repl", "password": "hunter2-very-secret"}
}"#;

fn node(data: &str, version: i32) -> NodeInfo {
    NodeInfo {
        path: "/myzoo/clusters/main/config".into(),
        stat: NodeStat { czxid: 1, mzxid: 10 + version as i64, version, ..NodeStat::default() },
        data: data.as_bytes().to_vec(),
    }
}

fn app() -> App {
    let now = UNIX_EPOCH + Duration::from_secs(1_795_640_000);
    let mut a = App::new(AppOptions {
        label: "test".into(),
        root: "/myzoo".into(),
        read_only: false,
        theme: Theme::builtin("dark").unwrap(),
        keymap: KeyMap::default(),
        size: (100, 30),
        now,
        drafts_dir: std::env::temp_dir().join(format!("myzoo-drafts-{}", std::process::id())),
        mysql: Default::default(),
        backup_store: None,
        ensemble: Default::default(),
    });
    a.update(Event::Zk(ZkEvent::Session { badge: SessionBadge::Connected, at: now }));
    a.update(Event::Zk(ZkEvent::Ready { generation: 1 }));
    a.update(Event::EditorOpened { node: node(CONFIG, 3), draft: None, draft_error: None });
    assert!(a.editor().is_some());
    a
}

fn key(a: &mut App, code: KeyCode, mods: KeyModifiers) -> Vec<Effect> {
    a.update(Event::Key(KeyEvent::new(code, mods)))
}

fn typed(a: &mut App, s: &str) {
    for c in s.chars() {
        key(a, KeyCode::Char(c), KeyModifiers::NONE);
    }
}

fn render(a: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(a.shared().size.0, a.shared().size.1)).unwrap();
    terminal.draw(|f| view::draw(f, a)).unwrap();
    format!("{}", terminal.backend())
}

fn goto_line(a: &mut App, line: usize) {
    for _ in 0..100 {
        key(a, KeyCode::Up, KeyModifiers::NONE);
    }
    for _ in 1..line {
        key(a, KeyCode::Down, KeyModifiers::NONE);
    }
    key(a, KeyCode::End, KeyModifiers::NONE);
}

#[test]
fn masked_error_diff_and_conflict() {
    let mut a = app();
    let screen = render(&a);
    assert!(screen.contains("••••••") && !screen.contains("hunter2"), "{screen}");
    insta::assert_snapshot!("editor_masked", screen);

    // Break the JSON on line 4: the error names the line and column.
    goto_line(&mut a, 4);
    typed(&mut a, " oops");
    let screen = render(&a);
    assert!(screen.contains("line 4 col"), "{screen}");
    insta::assert_snapshot!("editor_json_error", screen);
    for _ in 0.." oops".len() {
        key(&mut a, KeyCode::Backspace, KeyModifiers::NONE);
    }

    // Change the tier, save: the diff is shown first, masked.
    goto_line(&mut a, 4);
    for _ in 0.."staging\",".len() {
        key(&mut a, KeyCode::Backspace, KeyModifiers::NONE);
    }
    typed(&mut a, "production\",");
    assert!(key(&mut a, KeyCode::Char('s'), KeyModifiers::CONTROL).is_empty());
    let screen = render(&a);
    assert!(screen.contains("- ") && screen.contains("+   \"tier\": \"production\""), "{screen}");
    assert!(!screen.contains("hunter2"));
    insta::assert_snapshot!("editor_diff", screen);

    // Confirm: the write carries the base version and the real secret, never the mask.
    let effects = key(&mut a, KeyCode::Char('y'), KeyModifiers::NONE);
    let Some(Effect::Save { data, expected_version, .. }) = effects.iter().find(|e| matches!(e, Effect::Save { .. }))
    else {
        panic!("no save effect: {effects:?}")
    };
    assert_eq!(*expected_version, 3);
    let written = String::from_utf8_lossy(data);
    assert!(written.contains("hunter2-very-secret") && !written.contains("••"), "{written}");
    assert!(written.contains("\"production\""));

    // Someone else saved first: their change and ours, side by side.
    let theirs = CONFIG.replace("10.0.0.1", "10.0.0.9");
    a.update(Event::Saved {
        path: "/myzoo/clusters/main/config".into(),
        result: SaveResult::Conflict(node(&theirs, 4)),
    });
    let Some(e) = a.editor() else { panic!() };
    assert!(matches!(e.stage, Stage::Conflict { .. }));
    let screen = render(&a);
    assert!(screen.contains("now version 4") && screen.contains("10.0.0.9") && !screen.contains("hunter2"), "{screen}");
    insta::assert_snapshot!("editor_conflict", screen);
}
