//! Render snapshots of the console on ratatui's TestBackend: the tree pane's states (empty,
//! loading, populated, error, stale), the help popup and the too-small notice, at 80×24 and
//! 120×40.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use myzoo::console::app::{App, AppOptions};
use myzoo::console::event::{Effect, Event};
use myzoo::console::keymap::KeyMap;
use myzoo::console::theme::Theme;
use myzoo::console::view;
use myzoo::zk::{AclEntry, NodeInfo, NodeStat, SessionBadge, ZkEvent};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_640_000)
}

fn app(size: (u16, u16)) -> App {
    App::new(AppOptions {
        label: "sandbox (127.0.0.1:2181)".into(),
        root: "/myzoo".into(),
        read_only: false,
        theme: Theme::builtin("dark").unwrap(),
        keymap: KeyMap::default(),
        size,
        now: t0(),
        drafts_dir: std::env::temp_dir().join(format!("myzoo-drafts-{}", std::process::id())),
        mysql: Default::default(),
        backup_store: None,
        ensemble: Default::default(),
    })
}

fn node(path: &str, data: &[u8], children: i32) -> NodeInfo {
    NodeInfo {
        path: path.into(),
        stat: NodeStat {
            czxid: 2,
            mzxid: 7,
            pzxid: 9,
            ctime_ms: 1_795_640_000_000,
            mtime_ms: 1_795_640_100_000,
            version: 3,
            cversion: children,
            aversion: 0,
            ephemeral_owner: 0,
            data_length: data.len() as i32,
            num_children: children,
        },
        data: data.to_vec(),
    }
}

fn zk(app: &mut App, ev: ZkEvent) -> Vec<Effect> {
    app.update(Event::Zk(ev))
}

fn connected(app: &mut App) -> Vec<Effect> {
    zk(app, ZkEvent::Session { badge: SessionBadge::Connected, at: t0() });
    zk(app, ZkEvent::Ready { generation: 1 })
}

/// The I/O among effects (the watch filter updates are not I/O).
fn io(effects: Vec<Effect>) -> Vec<Effect> {
    effects.into_iter().filter(|e| !matches!(e, Effect::Interest(_))).collect()
}

fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

const CONFIG: &[u8] = br#"{"schema":1,"name":"sandbox","tier":"development","nodes":[{"name":"db1","port":3306}]}"#;

fn populated(size: (u16, u16)) -> App {
    let mut a = app(size);
    connected(&mut a);
    zk(
        &mut a,
        ZkEvent::Children {
            failed: vec![],
            parent: node("/", b"", 3),
            children: vec![node("/demo", b"hello", 2), node("/myzoo", b"", 2), node("/zookeeper", b"", 1)],
        },
    );
    zk(
        &mut a,
        ZkEvent::Children {
            failed: vec![],
            parent: node("/myzoo", b"", 2),
            children: vec![node("/myzoo/audit", b"", 0), node("/myzoo/clusters", b"", 1)],
        },
    );
    assert_eq!(a.tree().selected_path(), Some("/myzoo"), "start-up selects the root");
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Down);
    assert_eq!(io(key(&mut a, KeyCode::Right)), vec![Effect::LoadChildren("/myzoo/clusters".into())]);
    zk(
        &mut a,
        ZkEvent::Children {
            failed: vec![],
            parent: node("/myzoo/clusters", b"", 1),
            children: vec![node("/myzoo/clusters/sandbox", b"", 1)],
        },
    );
    // A cluster exists, so the cluster screen comes first; the tree is one key away.
    assert_eq!(a.screen(), myzoo::console::screens::ScreenId::Cluster);
    key(&mut a, KeyCode::Char('2'));
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Right);
    zk(
        &mut a,
        ZkEvent::Children {
            failed: vec![],
            parent: node("/myzoo/clusters/sandbox", b"", 1),
            children: vec![node("/myzoo/clusters/sandbox/config", CONFIG, 0)],
        },
    );
    key(&mut a, KeyCode::Down);
    let acl = vec![AclEntry { scheme: "world".into(), id: "anyone".into(), perms: "cdrwa".into() }];
    zk(&mut a, ZkEvent::Acl { path: "/myzoo/clusters/sandbox/config".into(), acl: Ok((0, acl)) });
    a
}

fn render(app: &App) -> String {
    let (w, h) = app.shared().size;
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| view::draw(f, app)).unwrap();
    format!("{}", terminal.backend())
}

fn snap(name: &str, app: &App) {
    let (w, h) = app.shared().size;
    insta::assert_snapshot!(format!("{name}_{w}x{h}"), render(app));
}

#[test]
fn loading_state() {
    for size in SIZES {
        let mut a = app(size);
        let effects = connected(&mut a);
        assert_eq!(effects[0], Effect::LoadChildren("/".into()));
        snap("loading", &a);
    }
}

#[test]
fn empty_state() {
    for size in SIZES {
        let mut a = app(size);
        connected(&mut a);
        zk(&mut a, ZkEvent::Children { failed: vec![], parent: node("/", b"", 0), children: vec![] });
        snap("empty", &a);
    }
}

#[test]
fn populated_state_shows_the_selected_json() {
    for size in SIZES {
        let a = populated(size);
        assert_eq!(a.tree().selected_path(), Some("/myzoo/clusters/sandbox/config"));
        let screen = render(&a);
        assert!(screen.contains("\"tier\": \"development\""), "{screen}");
        snap("populated", &a);
    }
}

#[test]
fn error_state_is_shown_in_place() {
    for size in SIZES {
        let mut a = populated(size);
        zk(
            &mut a,
            ZkEvent::Failed {
                path: "/myzoo/clusters/sandbox/config".into(),
                error: "NoAuth: not permitted by the znode's ACL".into(),
                transient: false,
            },
        );
        let screen = render(&a);
        assert!(screen.contains("NoAuth"), "{screen}");
        snap("error", &a);
    }
}

#[test]
fn stale_state_marks_the_header_and_the_tree() {
    for size in SIZES {
        let mut a = populated(size);
        zk(&mut a, ZkEvent::Session { badge: SessionBadge::Disconnected, at: t0() + Duration::from_secs(65) });
        let screen = render(&a);
        assert!(screen.contains("stale since 20:54:25 UTC"), "{screen}");
        snap("stale", &a);
    }
}

#[test]
fn help_popup_and_too_small() {
    let mut a = populated((80, 24));
    key(&mut a, KeyCode::Char('?'));
    snap("help", &a);
    key(&mut a, KeyCode::Esc);
    a.update(Event::Resize(60, 20));
    let screen = render(&a);
    assert!(screen.contains("terminal too small"), "{screen}");
    snap("too_small", &a);
}

#[test]
fn binary_and_truncated_data() {
    let mut a = populated((120, 40));
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let mut changed = node("/myzoo/clusters/sandbox/config", &big, 0);
    changed.stat.mzxid += 1;
    zk(&mut a, ZkEvent::Node(changed));
    let screen = render(&a);
    assert!(screen.contains("binary"), "{screen}");
    a.update(Event::Key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)));
    a.update(Event::Key(KeyEvent::new(KeyCode::End, KeyModifiers::NONE)));
    let screen = render(&a);
    assert!(screen.contains("cut for display"), "{screen}");
}

/// The audit screen gives the path the width the other columns leave (it was cut at 24
/// characters at 120 columns), shortened in the middle only when it is longer still.
#[test]
fn audit_paths_take_the_remaining_width() {
    let long = "/myzoo/clusters/production-eu-west/nodes/db-replica-17";
    let record = |path: &str, result: &str| {
        let r = myzoo::audit::AuditRecord {
            schema: 1,
            time_ms: 1_795_640_000_000,
            user: "alice".into(),
            host: "bastion".into(),
            ssh_client: None,
            action: "set".into(),
            path: path.into(),
            version_before: Some(3),
            version_after: Some(4),
            digest_before: None,
            digest_after: None,
            result: result.into(),
            origin: "console".into(),
            detail: None,
        };
        ("entry-0000000001".to_string(), r)
    };
    for size in [(80, 24), (120, 40), (160, 40)] {
        let mut a = app(size);
        let records = vec![record(long, "ok"), record("/short", "refused: read-only mode")];
        a.update(Event::AuditLoaded { filter: None, result: Ok(records) });
        let screen = render(&a);
        let row = screen.lines().find(|l| l.contains("replica-17")).expect("the long path's row");
        let shown = row.split_whitespace().find(|w| w.starts_with("/myzoo")).expect("the path cell");
        match size.0 {
            160 => assert_eq!(shown, long, "the whole path fits at 160 columns:\n{screen}"),
            120 => assert!(shown.chars().count() >= 36 && shown.contains('…'), "{shown:?} at 120 columns:\n{screen}"),
            _ => assert!(shown.chars().count() >= 20 && shown.contains('…'), "{shown:?} at 80 columns:\n{screen}"),
        }
        if size.0 >= 120 {
            assert!(screen.contains("refused: read-only mode") && screen.contains("alice@bastion"), "{screen}");
        }
        if size != (160, 40) {
            snap("audit", &a);
        }
    }
}
