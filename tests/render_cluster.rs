//! Render snapshots of the cluster screen: healthy, lagging, broken, server down, agent gone
//! and malformed nodes, the node popup, a production tier, at 80×24 and 120×40.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use myzoo::cluster::health::NodeState;
use myzoo::cluster::status::*;
use myzoo::console::app::{App, AppOptions};
use myzoo::console::event::Event;
use myzoo::console::keymap::KeyMap;
use myzoo::console::screens::ScreenId;
use myzoo::console::theme::Theme;
use myzoo::console::view;
use myzoo::zk::{NodeInfo, NodeStat, SessionBadge, ZkEvent};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

const NOW_MS: i64 = 1_795_640_000_000;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(NOW_MS as u64)
}

fn status(node: &str, port: u16, role: ServerRole) -> NodeStatus {
    NodeStatus {
        schema: STATUS_SCHEMA,
        cluster: "main".into(),
        node: node.into(),
        observed_at_ms: NOW_MS - 400,
        agent: AgentInfo {
            host: "db-host".into(),
            pid: 7,
            version: "0.1.0".into(),
            interval_ms: 1000,
            heartbeat_ms: 5000,
            http: None,
        },
        server: Endpoint { host: "10.0.0.1".into(), port },
        reachable: true,
        error: None,
        flavor: Some(Flavor::Mariadb),
        version: Some("10.11.19-MariaDB-0+deb12u1-log".into()),
        server_id: None,
        role,
        read_only: Some(role != ServerRole::Primary),
        gtid: Gtid { current: Some("0-1-4711".into()), ..Gtid::default() },
        replication: (role == ServerRole::Replica).then(|| Replication {
            source_host: "10.0.0.1".into(),
            source_port: 3306,
            io_running: "Yes".into(),
            sql_running: "Yes".into(),
            seconds_behind: Some(0),
            using_gtid: "Slave_Pos".into(),
            ..Replication::default()
        }),
        semi_sync: Some(SemiSync::default()),
        uptime_s: Some(86_400),
        threads_connected: Some(12),
        qps: Some(250.0),
        heartbeat_lag_ms: (role == ServerRole::Replica).then_some(35),
        primary_seen: None,
        fenced: None,
        tls: None,
    }
}

fn info(path: &str, data: Vec<u8>) -> NodeInfo {
    NodeInfo { path: path.into(), stat: NodeStat { czxid: 1, mzxid: 1, ..NodeStat::default() }, data }
}

const CONFIG: &str = r#"{"schema":1,"name":"main","tier":"TIER","failover":{"automatic":true,"cooldown_s":300},
  "nodes":[{"name":"db1","host":"10.0.0.1","port":3306},{"name":"db2","host":"10.0.0.1","port":3307},
           {"name":"db3","host":"10.0.0.1","port":3308},{"name":"db4","host":"10.0.0.1","port":3309}]}"#;

/// A console at the test's clock, connected to nothing yet.
fn new_app(size: (u16, u16)) -> App {
    App::new(AppOptions {
        label: "prod (zk1:2181)".into(),
        root: "/myzoo".into(),
        read_only: false,
        theme: Theme::builtin("dark").unwrap(),
        keymap: KeyMap::default(),
        size,
        now: now(),
        drafts_dir: std::env::temp_dir().join(format!("myzoo-drafts-{}", std::process::id())),
        mysql: Default::default(),
        backup_store: None,
        ensemble: Default::default(),
    })
}

/// What a coordinator on db2 publishes while the primary is up.
const ROUTINE: &str = r#"{"leader":"db2","mode":"on","reason":"watching db1: up"}"#;

/// A console showing cluster `main` with the given node statuses (`None` = not registered),
/// its coordinator watching an up primary.
fn app(size: (u16, u16), tier: &str, nodes: &[(&str, Option<Vec<u8>>)]) -> App {
    app_with(size, &CONFIG.replace("TIER", tier), Some(ROUTINE), nodes)
}

/// The same with this config and coordinator state (`None`: no `coordinator` znode).
fn app_with(size: (u16, u16), config: &str, coordinator: Option<&str>, nodes: &[(&str, Option<Vec<u8>>)]) -> App {
    let mut a = new_app(size);
    let ev = |a: &mut App, e: ZkEvent| a.update(Event::Zk(e));
    ev(&mut a, ZkEvent::Session { badge: SessionBadge::Connected, at: now() });
    ev(&mut a, ZkEvent::Ready { generation: 1 });
    ev(
        &mut a,
        ZkEvent::Children {
            parent: info("/myzoo/clusters", vec![]),
            children: vec![info("/myzoo/clusters/main", vec![])],
            failed: vec![],
        },
    );
    ev(&mut a, ZkEvent::Node(info("/myzoo/clusters/main/config", config.as_bytes().to_vec())));
    ev(&mut a, ZkEvent::Node(info("/myzoo/clusters/main/primary", br#"{"node":"db1","epoch":4}"#.to_vec())));
    match coordinator {
        Some(state) => ev(&mut a, ZkEvent::Node(info("/myzoo/clusters/main/coordinator", state.as_bytes().to_vec()))),
        None => ev(&mut a, ZkEvent::Deleted { path: "/myzoo/clusters/main/coordinator".into() }),
    };
    let children = nodes
        .iter()
        .filter_map(|(n, d)| d.clone().map(|d| info(&format!("/myzoo/clusters/main/nodes/{n}"), d)))
        .collect();
    ev(&mut a, ZkEvent::Children { parent: info("/myzoo/clusters/main/nodes", vec![]), children, failed: vec![] });
    assert_eq!(a.screen(), ScreenId::Cluster);
    a
}

fn json(s: &NodeStatus) -> Option<Vec<u8>> {
    Some(serde_json::to_vec(s).unwrap())
}

fn render(app: &App) -> String {
    let (w, h) = app.shared().size;
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| view::draw(f, app)).unwrap();
    format!("{}", terminal.backend())
}

fn healthy() -> Vec<NodeStatus> {
    vec![
        status("db1", 3306, ServerRole::Primary),
        status("db2", 3307, ServerRole::Replica),
        status("db3", 3308, ServerRole::Replica),
        status("db4", 3309, ServerRole::Replica),
    ]
}

fn state(a: &App, node: &str) -> NodeState {
    a.clusters().view.as_ref().unwrap().node(node).unwrap().state
}

#[test]
fn healthy_cluster() {
    for size in [(80, 24), (120, 40)] {
        let st = healthy();
        let a = app(size, "development", &st.iter().map(|s| (s.node.as_str(), json(s))).collect::<Vec<_>>());
        assert!(["db1", "db2", "db3", "db4"].iter().all(|n| state(&a, n) == NodeState::Ok));
        let screen = render(&a);
        assert!(screen.contains("HEALTHY"), "{screen}");
        insta::assert_snapshot!(format!("cluster_healthy_{}x{}", size.0, size.1), screen);
    }
}

#[test]
fn lagging_broken_down_and_gone() {
    for size in [(80, 24), (120, 40)] {
        let mut st = healthy();
        st[1].heartbeat_lag_ms = Some(8_500);
        st[1].replication.as_mut().unwrap().seconds_behind = Some(0); // SBM lies; the heartbeat does not
        let r = st[2].replication.as_mut().unwrap();
        r.sql_running = "No".into();
        r.last_sql_error = "Could not execute Write_rows_v1 event on table shop.orders; Duplicate entry '7'".into();
        st[3].reachable = false;
        st[3].error = Some("Connection refused (os error 111)".into());
        let mut nodes: Vec<(&str, Option<Vec<u8>>)> = st.iter().map(|s| (s.node.as_str(), json(s))).collect();
        let mut a = app(size, "production", &nodes);
        // db1's agent goes away: its ephemeral znode is deleted.
        a.update(Event::Zk(ZkEvent::Deleted { path: "/myzoo/clusters/main/nodes/db1".into() }));
        nodes.remove(0);
        assert_eq!(state(&a, "db1"), NodeState::AgentGone);
        assert_eq!(state(&a, "db2"), NodeState::Lagging);
        assert_eq!(state(&a, "db3"), NodeState::ReplicationBroken);
        assert_eq!(state(&a, "db4"), NodeState::ServerDown);
        let screen = render(&a);
        assert!(screen.contains("UNHEALTHY"), "{screen}");
        assert!(screen.contains("agent gone") && screen.contains("server down"), "{screen}");
        insta::assert_snapshot!(format!("cluster_problems_{}x{}", size.0, size.1), screen);
    }
}

#[test]
fn missing_stale_and_malformed_nodes() {
    let mut st = healthy();
    st[1].observed_at_ms = NOW_MS - 120_000;
    let a = app(
        (120, 40),
        "staging",
        &[
            ("db1", json(&st[0])),
            ("db2", json(&st[1])),
            ("db3", Some(b"{\"schema\": 1, \"node\": ".to_vec())),
            ("db4", None),
        ],
    );
    assert_eq!(state(&a, "db2"), NodeState::Stale);
    assert_eq!(state(&a, "db3"), NodeState::Unreadable);
    assert_eq!(state(&a, "db4"), NodeState::Missing);
    insta::assert_snapshot!("cluster_missing_stale_malformed_120x40", render(&a));
}

#[test]
fn node_popup_shows_the_full_status() {
    let st = healthy();
    let mut a = app((120, 40), "development", &st.iter().map(|s| (s.node.as_str(), json(s))).collect::<Vec<_>>());
    let key = |a: &mut App, c: KeyCode| a.update(Event::Key(KeyEvent::new(c, KeyModifiers::NONE)));
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Enter);
    let screen = render(&a);
    assert!(screen.contains("Node db2") && screen.contains("\"node\": \"db2\""), "{screen}");
    insta::assert_snapshot!("cluster_node_popup_120x40", screen);
    key(&mut a, KeyCode::Esc);
    assert!(!render(&a).contains("Node db2"));
}

/// Agents re-publish every 5 s; a watch that says nothing for longer (plus the grace) is shown
/// as a warning in the header, and the warning goes when anything is heard again. A quiet
/// ensemble without agents raises nothing.
#[test]
fn a_silent_watch_is_flagged_while_agents_are_registered() {
    let st = healthy();
    let mut a = app((120, 40), "development", &st.iter().map(|s| (s.node.as_str(), json(s))).collect::<Vec<_>>());
    let heartbeat = Duration::from_millis(st[0].agent.heartbeat_ms);
    let grace = Duration::from_millis(myzoo::console::app::WATCH_SILENCE_GRACE_MS);
    a.update(Event::Tick(now() + heartbeat));
    assert!(a.watch_silent_since().is_none(), "flagged within the heartbeat");
    assert!(!render(&a).contains("no watch events"));

    a.update(Event::Tick(now() + heartbeat + grace + Duration::from_secs(1)));
    assert_eq!(a.watch_silent_since(), Some(now()), "silence not flagged, or flagged with the wrong time");
    let screen = render(&a);
    assert!(screen.contains("no watch events since"), "{screen}");

    let heard = now() + heartbeat + grace + Duration::from_secs(2);
    a.update(Event::Zk(ZkEvent::WatchHeard { at: heard }));
    assert!(a.watch_silent_since().is_none(), "warning kept after the watch spoke again");
    assert!(!render(&a).contains("no watch events"));

    // Without registered agents there is no heartbeat to expect: never flagged.
    let mut quiet = app((120, 40), "development", &[("db1", None), ("db2", None), ("db3", None), ("db4", None)]);
    quiet.update(Event::Tick(now() + Duration::from_secs(3600)));
    assert!(quiet.watch_silent_since().is_none());
}

/// The reported reading: the primary's status taken a moment before the replicas' made it
/// look behind them (primary 0-1-141, replicas 0-1-142). Replicas are shown against it.
#[test]
fn the_primary_never_looks_behind_its_replicas() {
    let mut st = healthy();
    st[0].gtid.current = Some("0-1-141".into());
    st[1].gtid.current = Some("0-1-142".into());
    st[2].gtid.current = Some("0-1-141".into());
    st[3].gtid.current = Some("0-1-130".into());
    let a = app((120, 40), "development", &st.iter().map(|s| (s.node.as_str(), json(s))).collect::<Vec<_>>());
    let screen = render(&a);
    let row = |node: &str| {
        let first = |l: &&str| l.trim_start_matches(['"', '│']).split_whitespace().next() == Some(node);
        screen.lines().find(first).unwrap_or_default().to_string()
    };
    assert!(row("db1").contains("0-1-141"), "{screen}");
    assert!(row("db2").contains("= primary") && !screen.contains("0-1-142"), "{screen}");
    assert!(row("db3").contains("= primary"), "{screen}");
    assert!(row("db4").contains("-11"), "{screen}");
}

/// The overview with several clusters: worst first, each with its verdict, tier, primary and
/// worst lag; `/` filters; `enter` opens the cluster screen on the chosen one.
#[test]
fn overview_lists_clusters_worst_first() {
    let mut a = new_app((120, 40));
    let ev = |a: &mut App, e: ZkEvent| a.update(Event::Zk(e));
    ev(&mut a, ZkEvent::Session { badge: SessionBadge::Connected, at: now() });
    ev(&mut a, ZkEvent::Ready { generation: 1 });
    let names = ["alpha", "bravo", "charlie"];
    let base = |c: &str| format!("/myzoo/clusters/{c}");
    ev(
        &mut a,
        ZkEvent::Children {
            parent: info("/myzoo/clusters", vec![]),
            children: names.iter().map(|c| info(&base(c), vec![])).collect(),
            failed: vec![],
        },
    );
    assert_eq!(a.screen(), ScreenId::Overview, "several clusters: the overview comes first");
    for (c, tier) in names.iter().zip(["development", "production", "staging"]) {
        let config = CONFIG.replace("TIER", tier).replace("\"main\"", &format!("\"{c}\""));
        ev(&mut a, ZkEvent::Node(info(&format!("{}/config", base(c)), config.into_bytes())));
        ev(&mut a, ZkEvent::Node(info(&format!("{}/primary", base(c)), br#"{"node":"db1","epoch":4}"#.to_vec())));
        // alpha's coordinator watches, charlie's is in its cool-down, bravo has none.
        let coordinator = match *c {
            "alpha" => Some(ROUTINE.to_string()),
            "charlie" => Some(blocked_state()),
            _ => None,
        };
        if let Some(state) = coordinator {
            ev(&mut a, ZkEvent::Node(info(&format!("{}/coordinator", base(c)), state.into_bytes())));
        }
        let mut st = healthy();
        match *c {
            "bravo" => st[0].reachable = false, // the primary's server is down: unhealthy
            "charlie" => st[2].heartbeat_lag_ms = Some(8_500), // a replica lags: degraded
            _ => {}
        }
        if *c == "bravo" {
            st[0].error = Some("Can't connect".into());
        }
        let children = st.iter().map(|s| info(&format!("{}/nodes/{}", base(c), s.node), json(s).unwrap())).collect();
        ev(&mut a, ZkEvent::Children { parent: info(&format!("{}/nodes", base(c)), vec![]), children, failed: vec![] });
    }
    let rows: Vec<(String, String)> =
        a.screens().overview.rows().iter().map(|r| (r.name.clone(), format!("{:?}", r.view.verdict))).collect();
    assert_eq!(
        rows,
        [
            ("bravo".into(), "Unhealthy".into()),
            ("charlie".into(), "Degraded".into()),
            ("alpha".into(), "Healthy".into())
        ]
    );
    assert_eq!(a.screens().overview.rows()[1].worst_lag_ms, Some(8_500));
    let screen = render(&a);
    assert!(screen.contains("UNHEALTHY") && screen.contains("db1 (e4)") && screen.contains("8.5s"), "{screen}");
    assert!(screen.contains("no coord") && screen.contains("blocked"), "{screen}");
    insta::assert_snapshot!("overview_120x40", screen);

    let key = |a: &mut App, c: KeyCode| a.update(Event::Key(KeyEvent::new(c, KeyModifiers::NONE)));
    key(&mut a, KeyCode::Char('/'));
    for c in "har".chars() {
        key(&mut a, KeyCode::Char(c));
    }
    key(&mut a, KeyCode::Enter);
    let shown: Vec<&str> = a.screens().overview.rows().iter().map(|r| r.name.as_str()).collect();
    assert_eq!(shown, ["charlie"], "the filter keeps matching names");
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.screen(), ScreenId::Cluster);
    assert_eq!(a.clusters().selected.as_deref(), Some("charlie"));
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.screen(), ScreenId::Overview, "esc on a cluster goes back to all clusters");
}

/// db2's coordinator failed over a minute ago; the cool-down runs four more minutes.
fn blocked_state() -> String {
    serde_json::json!({
        "leader": "db2", "mode": "blocked",
        "reason": "cool-down after the last automatic failover (myzoo ack lifts it)",
        "last_failover_ms": NOW_MS - 60_000, "blocked_until_ms": NOW_MS + 240_000,
    })
    .to_string()
}

/// The verdict line says what automatic failover really does — config and coordinator state
/// together — with the coordinator's reason when it is worth a look, and the header says it
/// in one word; each mode drawn (the top of the 120×40 screen), and the blocked one in full at
/// 80×24. A cool-down that ends shows without any other change.
#[test]
fn automatic_failover_in_every_mode() {
    let st = healthy();
    let nodes: Vec<(&str, Option<Vec<u8>>)> = st.iter().map(|s| (s.node.as_str(), json(s))).collect();
    let config = CONFIG.replace("TIER", "production");
    let off = config.replace(r#""automatic":true"#, r#""automatic":false"#);
    let paused = config.replace(r#""cooldown_s":300"#, r#""cooldown_s":300,"paused":true"#);
    let suspect = r#"{"leader":"db2","mode":"on","reason":"db1 unreachable: Connection refused (os error 111): 1 of 3 confirmations"}"#;
    let refused = r#"{"leader":"db2","mode":"on","reason":"db1's agent is gone, but the failover is refused: no replica has every transaction"}"#;
    let gone = r#"{"leader":"db9","mode":"on","reason":"watching db1: up"}"#;
    let blocked = blocked_state();
    let cases: [(&str, &str, Option<&str>, &str); 8] = [
        ("on", &config, Some(ROUTINE), "automatic failover on (coordinator db2)"),
        ("on, primary suspected", &config, Some(suspect), "coordinator: db1 unreachable"),
        ("on, failover refused", &config, Some(refused), "failover is refused: no replica"),
        ("off", &off, Some(r#"{"leader":"db2","mode":"off"}"#), "automatic failover off"),
        ("paused", &paused, Some(ROUTINE), "automatic failover paused"),
        ("blocked", &config, Some(&blocked), "automatic failover blocked until 20:57:20 UTC (myzoo ack / :ack)"),
        ("no coordinator published", &config, None, "automatic failover on — no coordinator"),
        ("coordinator's agent gone", &config, Some(gone), "coordinator: last published by db9, whose agent is gone"),
    ];
    let mut tops = String::new();
    for (name, config, coordinator, expect) in cases {
        let a = app_with((120, 40), config, coordinator, &nodes);
        let screen = render(&a);
        assert!(screen.contains(expect), "{name}: {expect:?} not in\n{screen}");
        let badge = a.clusters().auto_failover().map(|f| f.label()).unwrap();
        assert!(screen.lines().next().unwrap().contains(&format!("auto-failover: {badge} ")), "{name}:\n{screen}");
        tops.push_str(&format!("== {name}\n"));
        for line in screen.lines().take(6) {
            tops.push_str(line);
            tops.push('\n');
        }
    }
    insta::assert_snapshot!("cluster_auto_failover_modes_120x40", tops);

    let mut a = app_with((80, 24), &config, Some(&blocked), &nodes);
    let screen = render(&a);
    assert!(screen.lines().next().unwrap().contains("auto-failover: blocked"), "{screen}");
    insta::assert_snapshot!("cluster_auto_failover_blocked_80x24", screen);
    // On another screen the header still follows the clock: the cool-down ends.
    a.update(Event::Key(KeyEvent::new(KeyCode::Char('2'), KeyModifiers::NONE)));
    assert_eq!(a.screen(), ScreenId::Tree);
    let later = now() + Duration::from_secs(241);
    a.update(Event::Zk(ZkEvent::WatchHeard { at: later }));
    a.update(Event::Tick(later));
    let screen = render(&a);
    assert!(screen.lines().next().unwrap().contains("auto-failover: on "), "{screen}");
}
