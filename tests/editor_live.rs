//! The editor against a real ZooKeeper: an edit conflicts with another client's write between
//! open and save, and each way out (keep editing, reload and re-apply, overwrite) loses nothing;
//! a draft survives closing the editor and comes back on the next `e`.

mod common;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use myzoo::console::app::App;
use myzoo::console::editor::Stage;
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
    zk.set_data(PATH, theirs, None).await.unwrap();
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
    assert!(h.pump_until(WAIT, |_| myzoo::console::draft::load(drafts.path(), PATH).ok().flatten().is_some()).await);
    assert_eq!(myzoo::console::draft::load(drafts.path(), PATH).unwrap().unwrap().text, "mine v0");

    // 2. Reload and re-apply: based on theirs now, the edit kept, the save goes through.
    key(&h, KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert!(h.pump_until(WAIT, |a| matches!(stage(a), Some(Stage::ConfirmSave { .. }))).await);
    typed(&h, "y");
    assert!(h.pump_until(WAIT, |a| matches!(stage(a), Some(Stage::Conflict { .. }))).await);
    typed(&h, "r");
    key(&h, KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert!(h.pump_until(WAIT, |a| matches!(stage(a), Some(Stage::ConfirmSave { .. }))).await);
    typed(&h, "y");
    assert!(h.pump_until(WAIT, |a| a.overlay().is_none()).await, "save after re-base failed");
    let (data, stat) = zk.get_data(PATH).await.unwrap();
    assert_eq!((data.as_slice(), stat.version), (b"mine v0".as_slice(), 2));
    assert!(myzoo::console::draft::load(drafts.path(), PATH).unwrap().is_none(), "draft removed after save");

    // 3. Overwrite after a second confirmation, checked against their version.
    into_conflict(&mut h, &zk, b"theirs-3").await;
    typed(&h, "o");
    assert!(h.pump_until(WAIT, |a| matches!(stage(a), Some(Stage::ConfirmOverwrite { .. }))).await);
    typed(&h, "y");
    assert!(h.pump_until(WAIT, |a| a.overlay().is_none()).await, "overwrite failed");
    assert_eq!(zk.get_data(PATH).await.unwrap().0, b"mine mine v0");

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
    assert_eq!(editor_text(&h.app), "draft mine mine v0");
    h.shutdown().await;
}
