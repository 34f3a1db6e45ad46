//! The backups screen against a real sandbox (ZooKeeper and MariaDB with the sandbox's backup
//! store): `:backups` opens it, `b` with a note snapshots `/myzoo` through the executor and the
//! snapshot shows in the list; then a znode is deleted, and `r` → the dry-run plan → `y`
//! restores it.

mod common;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use myzoo::backup::SnapshotState;
use myzoo::console::app::{App, AppOptions};
use myzoo::console::event::Event;
use myzoo::console::headless::Headless;
use myzoo::console::overlays::Overlay;
use myzoo::console::screens::backups::StoreState;
use myzoo::console::screens::ScreenId;
use zookeeper_client::{Acls, CreateMode};

const SESSION_TIMEOUT: Duration = Duration::from_secs(10);
/// Liveness bound for waits (not a figure).
const WAIT: Duration = Duration::from_secs(60);
const NOTE: &str = "before the test change";
const KEPT: &str = "/myzoo/kept";

fn typed(h: &Headless, text: &str) {
    for c in text.chars() {
        let code = if c == '\n' { KeyCode::Enter } else { KeyCode::Char(c) };
        h.send(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }
}

/// The screen heard from the store (listed, or why not).
fn store_answered(a: &App) -> bool {
    !matches!(a.screens().backups.view().store, StoreState::Unknown | StoreState::Loading)
}

fn job_over(a: &App) -> bool {
    !a.screens().backups.running() && a.screens().backups.view().last.is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn snapshot_then_restore_from_the_console() {
    let sb = common::Sandbox::start_with(common::Sandbox::options(true)).await;
    let store = sb.status.backup_store.clone();
    assert!(store.is_some(), "the sandbox names its backup store");
    let zk = zookeeper_client::Client::connect(&sb.zk()).await.expect("connect to ZooKeeper");
    let persistent = CreateMode::Persistent.with_acls(Acls::anyone_all());
    for path in ["/myzoo", KEPT] {
        let _ = zk.create(path, b"{\"v\":1}", &persistent).await;
    }

    let opts = AppOptions { backup_store: store, ..common::app_opts((120, 40), "/myzoo") };
    let mut h = Headless::start(opts, sb.session(SESSION_TIMEOUT)).unwrap();
    assert!(h.pump_until(WAIT, |a| a.shared().connected()).await, "never connected");
    typed(&h, ":backups\n");
    assert!(h.pump_until(WAIT, |a| a.screen() == ScreenId::Backups && store_answered(a)).await);

    // b: the note, then the job; it ends once and the list shows the snapshot.
    typed(&h, "b");
    assert!(h.pump_until(WAIT, |a| matches!(a.overlay(), Some(Overlay::Input(_)))).await, "no note asked");
    typed(&h, &format!("{NOTE}\n"));
    assert!(h.pump_until(WAIT, job_over).await, "the snapshot job never ended");
    let (text, ok) = h.app.screens().backups.view().last.clone().unwrap();
    assert!(ok, "the snapshot failed: {text}");
    let listed = |a: &App| {
        a.screens()
            .backups
            .view()
            .snapshots
            .first()
            .is_some_and(|s| s.note == NOTE && s.state == SnapshotState::Complete)
    };
    assert!(h.pump_until(WAIT, listed).await, "not listed: {:?}", h.app.screens().backups.view().store);
    h.draw();
    let screen = h.screen();
    assert!(screen.contains(NOTE) && screen.contains("complete"), "{screen}");
    assert!(matches!(h.app.screens().backups.view().store, StoreState::Ready { .. }));

    // r: the dry-run plan, the confirmation, y: the deleted znode is back.
    zk.delete(KEPT, None).await.expect("delete the znode");
    typed(&h, "r");
    assert!(
        h.pump_until(WAIT, |a| matches!(a.overlay(), Some(Overlay::Restore(_)))).await,
        "no confirmation: {:?}",
        h.app.screens().backups.view().last
    );
    h.draw();
    assert!(h.screen().contains("Restore snapshot"), "{}", h.screen());
    let planned = h.app.screens().backups.view().last.clone();
    typed(&h, "y");
    let restored = |a: &App| job_over(a) && a.screens().backups.view().last != planned;
    assert!(h.pump_until(WAIT, restored).await, "the restore never ended");
    let (text, ok) = h.app.screens().backups.view().last.clone().unwrap();
    assert!(ok && text.contains("done"), "{text}");
    let (data, _) = zk.get_data(KEPT).await.expect("the znode is restored");
    assert_eq!(data, b"{\"v\":1}");
    h.shutdown().await;
}
