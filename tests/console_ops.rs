//! Creating, deleting, auditing and read-only mode through the console (headless, real
//! ZooKeeper): every change goes through the dialogs and the mutation service.

mod common;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use myzoo::console::app::App;
use myzoo::console::event::Event;
use myzoo::console::headless::Headless;
use myzoo::console::overlays::Overlay;
use myzoo::console::screens::ScreenId;
use zookeeper_client::{Acls, Client, CreateMode};

const WAIT: Duration = Duration::from_secs(10);

fn send_keys(h: &Headless, keys: &str) {
    for c in keys.chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            '\t' => KeyCode::Tab,
            '\x1b' => KeyCode::Esc,
            '→' => KeyCode::Right,
            c => KeyCode::Char(c),
        };
        h.send(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }
}

fn notice(a: &App) -> String {
    a.notices().iter().map(|n| n.text.clone()).collect::<Vec<_>>().join(" | ")
}

async fn setup(read_only: bool) -> (common::Sandbox, Client, Headless) {
    let sb = common::Sandbox::zk_only().await;
    let zk = Client::connect(&sb.zk()).await.unwrap();
    let p = CreateMode::Persistent.with_acls(Acls::anyone_all());
    for path in ["/work", "/work/leaf", "/work/tree", "/work/tree/a", "/work/tree/b"] {
        zk.create(path, b"x", &p).await.unwrap();
    }
    let opts = myzoo::console::app::AppOptions { read_only, ..common::app_opts((120, 40), "/work") };
    let mut h = Headless::start(opts, sb.session(Duration::from_secs(10))).unwrap();
    assert!(
        h.pump_until(WAIT, |a| a.tree().selected_path() == Some("/work") && a.tree().node("/work/tree").is_some())
            .await
    );
    (sb, zk, h)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_delete_and_audit_from_the_console() {
    let (_sb, zk, mut h) = setup(false).await;
    // n: a child of /work, persistent, with a JSON template.
    send_keys(&h, "nnew-child\t\t→\n");
    assert!(h.pump_until(WAIT, |a| a.tree().node("/work/new-child").is_some()).await, "{}", notice(&h.app));
    assert_eq!(zk.get_data("/work/new-child").await.unwrap().0, b"{}\n");

    // d on a leaf: y deletes it.
    send_keys(&h, ":goto /work/leaf\n");
    assert!(h.pump_until(WAIT, |a| a.tree().selected_path() == Some("/work/leaf")).await);
    send_keys(&h, "d");
    assert!(h.pump_until(WAIT, |a| matches!(a.overlay(), Some(Overlay::Delete(_)))).await);
    send_keys(&h, "y");
    assert!(h.pump_until(WAIT, |a| a.tree().node("/work/leaf").is_none()).await, "{}", notice(&h.app));

    // d on a subtree: the name must be typed; a wrong name deletes nothing.
    send_keys(&h, ":goto /work/tree\n");
    assert!(h.pump_until(WAIT, |a| a.tree().selected_path() == Some("/work/tree")).await);
    send_keys(&h, "d");
    assert!(h.pump_until(WAIT, |a| matches!(a.overlay(), Some(Overlay::Delete(d)) if d.plan.descendants == 2)).await);
    send_keys(&h, "y\n");
    // The dialog refuses at once and stays open; only then is it safe to look at ZooKeeper.
    let refused = |a: &App| match a.overlay() {
        Some(Overlay::Delete(d)) => d.error.as_deref().is_some_and(|e| e.contains("nothing was deleted")),
        _ => false,
    };
    assert!(
        h.pump_until(WAIT, refused).await,
        "a wrong name was not refused in the dialog; notices: {}",
        notice(&h.app)
    );
    assert!(zk.check_stat("/work/tree").await.unwrap().is_some(), "a wrong name deleted the subtree");
    send_keys(&h, "\x1b");
    assert!(h.pump_until(WAIT, |a| a.overlay().is_none()).await);
    send_keys(&h, "d");
    assert!(h.pump_until(WAIT, |a| matches!(a.overlay(), Some(Overlay::Delete(_)))).await);
    send_keys(&h, "tree\n");
    assert!(h.pump_until(WAIT, |a| a.tree().node("/work/tree").is_none()).await, "{}", notice(&h.app));
    assert!(zk.check_stat("/work/tree").await.unwrap().is_none());
    // The delete's audit record is written after the znode is gone, and the audit screen reads
    // the log once: the next step needs the record written, not only the znode gone.
    let deadline = std::time::Instant::now() + WAIT;
    while !myzoo::audit::list(&zk, "/work", 10, Some("/work/tree"))
        .await
        .unwrap()
        .iter()
        .any(|(_, r)| r.action == "delete" && r.path == "/work/tree")
    {
        assert!(std::time::Instant::now() < deadline, "the delete's audit record was never written");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A: the audit screen for /work lists all three, newest first.
    send_keys(&h, ":audit /work\n");
    assert!(h.pump_until(WAIT, |a| a.screen() == ScreenId::Audit && a.screens().audit.view().is_some()).await);
    let actions: Vec<(String, String)> =
        h.app.screens().audit.view().unwrap().records.iter().map(|(_, r)| (r.action.clone(), r.path.clone())).collect();
    assert_eq!(
        actions,
        [
            ("delete".to_string(), "/work/tree".to_string()),
            ("delete".to_string(), "/work/leaf".to_string()),
            ("create".to_string(), "/work/new-child".to_string())
        ]
    );
    h.draw();
    assert!(h.screen().contains("Audit") && h.screen().contains("/work/leaf"), "{}", h.screen());
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_console_refuses_every_change() {
    let (_sb, zk, mut h) = setup(true).await;
    let before = zk.get_children("/work").await.unwrap();
    // create, delete, reveal: refused at the key, with a notice.
    let refusals = |a: &App| a.notices().iter().filter(|n| n.text.contains("read-only")).count();
    for (i, keys) in ["n", "d", "3R"].into_iter().enumerate() {
        send_keys(&h, keys);
        assert!(h.pump_until(WAIT, |a| refusals(a) == i + 1).await, "{keys}: {}", notice(&h.app));
        assert!(h.app.overlay().is_none());
    }
    // edit: the editor opens for viewing; typing changes nothing and saving is refused. (The
    // refusals above are still on the notice list, so wait for this one's own text.)
    send_keys(&h, "2e");
    assert!(h.pump_until(WAIT, |a| a.editor().is_some()).await);
    send_keys(&h, "zz");
    h.send(Event::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)));
    let save_refused = |a: &App| a.notices().iter().any(|n| n.text == "read-only mode: saving is disabled");
    assert!(h.pump_until(WAIT, save_refused).await, "{}", notice(&h.app));
    assert_eq!(h.app.editor().map(|e| e.text()).as_deref(), Some("x"), "typing changed a read-only editor's text");
    let after = zk.get_children("/work").await.unwrap();
    assert_eq!(before.0, after.0);
    assert_eq!(before.1.cversion, after.1.cversion);
    assert_eq!(zk.get_data("/work").await.unwrap().0, b"x", "data unchanged");
    h.shutdown().await;
}
