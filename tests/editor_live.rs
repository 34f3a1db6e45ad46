//! The editor against a real ZooKeeper: an edit conflicts with another client's write between
//! open and save, and each way out (keep editing, reload and re-apply, overwrite) loses nothing;
//! a draft survives closing the editor and comes back on the next `e`.

mod common;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use myzoo::console::app::App;
use myzoo::console::editor::{Remote, Stage};
use myzoo::console::event::Event;
use myzoo::console::headless::Headless;
use zookeeper_client::{Acls, Client, CreateMode};

const WAIT: Duration = Duration::from_secs(10);
const PATH: &str = "/doc";

fn key(h: &Headless, code: KeyCode, mods: KeyModifiers) {
    h.send(Event::Key(KeyEvent::new(code, mods)));
}

fn typed(h: &Headless, s: &str) {
    for c in s.chars() {
        key(h, KeyCode::Char(c), KeyModifiers::NONE);
    }
}

fn stage(a: &App) -> Option<&Stage> {
    match a.editor() {
        Some(e) => Some(&e.stage),
        _ => None,
    }
}

fn editor_text(a: &App) -> String {
    match a.editor() {
        Some(e) => e.text(),
        _ => String::new(),
    }
}

/// Opens the editor on /doc, types `edit` at the start, and saves into a conflict made by
/// another client in between.
async fn into_conflict(h: &mut Headless, zk: &Client, theirs: &[u8]) {
    key(h, KeyCode::Char('e'), KeyModifiers::NONE);
    assert!(h.pump_until(WAIT, |a| a.editor().is_some()).await, "editor did not open");
    typed(h, "mine ");
    let version = zk.set_data(PATH, theirs, None).await.unwrap().version;
    // The watch tells the editor before any save is tried.
    let told = h.pump_until(WAIT, |a| a.editor().is_some_and(|e| e.remote == Remote::ChangedTo(version))).await;
    assert!(told, "the editor never showed their write (version {version})");
    h.draw();
    let want = format!("changed by someone else, now version {version}");
    assert!(h.screen().contains(&want), "{}", h.screen());
    key(h, KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert!(h.pump_until(WAIT, |a| matches!(stage(a), Some(Stage::ConfirmSave { .. }))).await);
    typed(h, "y");
    assert!(h.pump_until(WAIT, |a| matches!(stage(a), Some(Stage::Conflict { .. }))).await, "no conflict");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicts_and_every_way_out() {
    let sb = common::Sandbox::zk_only().await;
    let zk = Client::connect(&sb.zk()).await.unwrap();
    zk.create(PATH, b"v0", &CreateMode::Persistent.with_acls(Acls::anyone_all())).await.unwrap();
    let drafts = tempfile::tempdir().unwrap();
    let opts = myzoo::console::app::AppOptions {
        drafts_dir: drafts.path().to_path_buf(),
        ..common::app_opts((120, 40), PATH)
    };
    let mut h = Headless::start(opts, sb.session(Duration::from_secs(10))).unwrap();
    assert!(h.pump_until(WAIT, |a| a.tree().selected_path() == Some(PATH)).await);
    key(&h, KeyCode::Char('2'), KeyModifiers::NONE);

    // 1. Keep editing: nothing written, the edit intact; the draft is on disk.
    into_conflict(&mut h, &zk, b"theirs-1").await;
    typed(&h, "k");
    assert!(h.pump_until(WAIT, |a| matches!(stage(a), Some(Stage::Editing))).await);
    assert_eq!(editor_text(&h.app), "mine v0");
    assert_eq!(zk.get_data(PATH).await.unwrap().0, b"theirs-1");
    h.send(Event::Tick(std::time::SystemTime::now()));
    // The tick asks for the draft; the writer puts it on disk off the loop.
    let _ = h.pump_until(Duration::from_millis(200), |_| false).await;
    let deadline = std::time::Instant::now() + WAIT;
    while myzoo::console::draft::load(drafts.path(), PATH).ok().flatten().is_none() {
        assert!(std::time::Instant::now() < deadline, "the draft was never written");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(myzoo::console::draft::load(drafts.path(), PATH).unwrap().unwrap().text, "mine v0");

    // 2. Merge onto theirs: both changed the one line, so it is marked as a conflict and the
    //    save is refused until the operator resolves it; then it goes through on their version.
    key(&h, KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert!(h.pump_until(WAIT, |a| matches!(stage(a), Some(Stage::ConfirmSave { .. }))).await);
    typed(&h, "y");
    assert!(h.pump_until(WAIT, |a| matches!(stage(a), Some(Stage::Conflict { .. }))).await);
    typed(&h, "r");
    assert!(h.pump_until(WAIT, |a| editor_text(a).contains("<<<<<<<")).await, "no conflict markers");
    let marked = editor_text(&h.app);
    assert!(marked.contains("mine v0") && marked.contains("theirs-1"), "both sides kept:\n{marked}");
    key(&h, KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert!(
        h.pump_until(WAIT, |a| a.editor().and_then(|e| e.message.clone()).is_some_and(|m| m.contains("resolve"))).await,
        "a save with conflict markers was not refused"
    );
    assert!(matches!(stage(&h.app), Some(Stage::Editing)));
    // Resolve: replace the whole text (to the last line, its end, then delete backwards).
    key(&h, KeyCode::Char('>'), KeyModifiers::ALT);
    key(&h, KeyCode::End, KeyModifiers::NONE);
    for _ in 0..marked.chars().count() {
        key(&h, KeyCode::Backspace, KeyModifiers::NONE);
    }
    typed(&h, "mine theirs-1");
    assert!(h.pump_until(WAIT, |a| editor_text(a) == "mine theirs-1").await, "{}", editor_text(&h.app));
    key(&h, KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert!(h.pump_until(WAIT, |a| matches!(stage(a), Some(Stage::ConfirmSave { .. }))).await);
    typed(&h, "y");
    assert!(h.pump_until(WAIT, |a| a.overlay().is_none()).await, "save after the merge failed");
    let (data, stat) = zk.get_data(PATH).await.unwrap();
    assert_eq!((data.as_slice(), stat.version), (b"mine theirs-1".as_slice(), 2));
    let deadline = std::time::Instant::now() + WAIT;
    while myzoo::console::draft::load(drafts.path(), PATH).unwrap().is_some() {
        assert!(std::time::Instant::now() < deadline, "the draft was not removed after the save");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // 3. Overwrite after a second confirmation, checked against their version.
    into_conflict(&mut h, &zk, b"theirs-3").await;
    typed(&h, "o");
    assert!(h.pump_until(WAIT, |a| matches!(stage(a), Some(Stage::ConfirmOverwrite { .. }))).await);
    typed(&h, "y");
    assert!(h.pump_until(WAIT, |a| a.overlay().is_none()).await, "overwrite failed");
    assert_eq!(zk.get_data(PATH).await.unwrap().0, b"mine mine theirs-1");

    // 4. Close with changes and keep the draft: e brings it back.
    key(&h, KeyCode::Char('e'), KeyModifiers::NONE);
    assert!(h.pump_until(WAIT, |a| a.editor().is_some()).await);
    typed(&h, "draft ");
    key(&h, KeyCode::Esc, KeyModifiers::NONE);
    assert!(h.pump_until(WAIT, |a| matches!(stage(a), Some(Stage::ConfirmClose))).await);
    typed(&h, "k");
    assert!(h.pump_until(WAIT, |a| a.overlay().is_none()).await);
    key(&h, KeyCode::Char('e'), KeyModifiers::NONE);
    assert!(h.pump_until(WAIT, |a| a.editor().is_some()).await);
    assert_eq!(editor_text(&h.app), "draft mine mine theirs-1");
    h.shutdown().await;
}

/// The reported case: a colleague changed `replication.user` while I changed
/// `failover.cooldown_s` in the same cluster config; `r` merges the two and the save keeps both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merging_onto_a_colleagues_edit_keeps_both_changes() {
    let sb = common::Sandbox::zk_only().await;
    let zk = Client::connect(&sb.zk()).await.unwrap();
    let path = "/myzoo/clusters/main/config";
    let config = serde_json::json!({
        "schema": 1,
        "name": "main",
        "tier": "development",
        "nodes": [{"name": "db1", "host": "127.0.0.1", "port": 3306}],
        "failover": {"automatic": false, "cooldown_s": 300},
        "replication": {"user": "repl"},
    });
    let text = format!("{}\n", serde_json::to_string_pretty(&config).unwrap());
    zk.mkdir("/myzoo/clusters/main", &CreateMode::Persistent.with_acls(Acls::anyone_all())).await.unwrap();
    zk.create(path, text.as_bytes(), &CreateMode::Persistent.with_acls(Acls::anyone_all())).await.unwrap();
    let drafts = tempfile::tempdir().unwrap();
    let opts = myzoo::console::app::AppOptions {
        drafts_dir: drafts.path().to_path_buf(),
        ..common::app_opts((120, 40), path)
    };
    let mut h = Headless::start(opts, sb.session(Duration::from_secs(10))).unwrap();
    assert!(h.pump_until(WAIT, |a| a.tree().selected_path() == Some(path)).await);
    key(&h, KeyCode::Char('2'), KeyModifiers::NONE);
    key(&h, KeyCode::Char('e'), KeyModifiers::NONE);
    assert!(h.pump_until(WAIT, |a| editor_text(a).contains("cooldown_s")).await, "editor did not open");

    // Mine: cooldown_s 300 -> 600, typed in the editor.
    let line = text.lines().position(|l| l.contains("cooldown_s")).unwrap();
    for _ in 0..line {
        key(&h, KeyCode::Down, KeyModifiers::NONE);
    }
    key(&h, KeyCode::End, KeyModifiers::NONE);
    for _ in 0..3 {
        key(&h, KeyCode::Backspace, KeyModifiers::NONE);
    }
    typed(&h, "600");
    assert!(h.pump_until(WAIT, |a| editor_text(a).contains("\"cooldown_s\": 600")).await, "{}", editor_text(&h.app));

    // Theirs, meanwhile: user repl -> repl2.
    zk.set_data(path, text.replace("\"repl\"", "\"repl2\"").as_bytes(), None).await.unwrap();

    key(&h, KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert!(h.pump_until(WAIT, |a| matches!(stage(a), Some(Stage::ConfirmSave { .. }))).await);
    typed(&h, "y");
    assert!(h.pump_until(WAIT, |a| matches!(stage(a), Some(Stage::Conflict { .. }))).await, "no conflict");
    typed(&h, "r");
    assert!(h.pump_until(WAIT, |a| editor_text(a).contains("repl2")).await, "{}", editor_text(&h.app));
    key(&h, KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert!(h.pump_until(WAIT, |a| matches!(stage(a), Some(Stage::ConfirmSave { .. }))).await, "save refused");
    typed(&h, "y");
    assert!(h.pump_until(WAIT, |a| a.overlay().is_none()).await, "save after the merge failed");

    let (data, stat) = zk.get_data(path).await.unwrap();
    let saved: serde_json::Value = serde_json::from_slice(&data).unwrap();
    assert_eq!(saved["failover"]["cooldown_s"], 600, "my change lost: {saved}");
    assert_eq!(saved["replication"]["user"], "repl2", "their change reverted: {saved}");
    assert_eq!(stat.version, 2);
    h.shutdown().await;
}
