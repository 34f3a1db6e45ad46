//! Render snapshots of the failover screen: a switchover running (from its journal record,
//! with the lock held by the CLI), a plan with one refused candidate, the history, and the
//! confirmation once the lock is free — at 100×30 and 80×24. Pure: events in, frames out.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use myzoo::console::app::{App, AppOptions};
use myzoo::console::event::{Event, Planned};
use myzoo::console::keymap::KeyMap;
use myzoo::console::screens::failover::PlanState;
use myzoo::console::screens::ScreenId;
use myzoo::console::theme::Theme;
use myzoo::console::view;
use myzoo::failover::journal::{OpState, Owner, Record, StepState};
use myzoo::failover::lock::LockInfo;
use myzoo::failover::plan::{Candidate, NodePosition, OpKind, Plan, PlannedStep};
use myzoo::zk::{NodeInfo, NodeStat, SessionBadge, ZkEvent};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

const NOW_MS: i64 = 1_795_640_000_000;
const BASE: &str = "/myzoo/clusters/main";

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(NOW_MS as u64)
}

fn info(path: &str, data: Vec<u8>) -> NodeInfo {
    NodeInfo { path: path.into(), stat: NodeStat { czxid: 1, mzxid: 1, ..NodeStat::default() }, data }
}

const CONFIG: &str = r#"{"schema":1,"name":"main","tier":"staging",
  "nodes":[{"name":"db1","host":"10.0.0.1","port":3306},{"name":"db2","host":"10.0.0.1","port":3307},
           {"name":"db3","host":"10.0.0.1","port":3308}]}"#;

fn step(name: &str, title: &str) -> PlannedStep {
    PlannedStep { name: name.into(), title: title.into() }
}

fn plan(old: &str, new: &str, epoch: u64) -> Plan {
    Plan {
        kind: OpKind::Switchover,
        cluster: "main".into(),
        old_primary: old.into(),
        epoch,
        candidate: Some(new.into()),
        candidates: vec![
            Candidate {
                node: new.into(),
                eligible: true,
                reasons: vec!["has every transaction of the primary (0-1-4711)".into()],
                received: Some("0-1-4711".into()),
                applied: Some("0-1-4711".into()),
                behind: Some(0),
                errant: vec![],
            },
            Candidate {
                node: "db3".into(),
                eligible: false,
                reasons: vec!["marked no_promote in the cluster config".into()],
                received: Some("0-1-4711".into()),
                applied: Some("0-1-4709".into()),
                behind: Some(2),
                errant: vec![],
            },
        ],
        positions: vec![
            NodePosition {
                node: old.into(),
                role: "primary".into(),
                position: Some("0-1-4711".into()),
                read_only: Some(false),
            },
            NodePosition {
                node: new.into(),
                role: "replica".into(),
                position: Some("0-1-4711".into()),
                read_only: Some(true),
            },
            NodePosition {
                node: "db3".into(),
                role: "replica".into(),
                position: Some("0-1-4709".into()),
                read_only: Some(true),
            },
        ],
        steps: vec![
            step("lock", "take the cluster lock"),
            step("check", "re-read"),
            step("fence-old", "fence"),
            step("catch-up", "wait"),
            step("stop-replica", "stop"),
            step("record", "record"),
            step("open-new", "open"),
            step("repoint", "repoint"),
        ],
        expected_block_ms: 150,
        refusals: vec![],
        warnings: vec!["db3 is 2 transactions behind".into()],
    }
}

fn owner(origin: &str) -> Owner {
    Owner { user: "alice".into(), host: "bastion".into(), pid: 4242, origin: origin.into(), session: "0x1".into() }
}

/// A record whose first `done` steps are done and the next one running (all done when
/// `done` covers every step).
fn record(p: Plan, started_ms: i64, done: usize) -> Record {
    let mut r = Record::new(p, owner("cli"), started_ms);
    let mut t = started_ms;
    let total = r.steps.len();
    for (i, s) in r.steps.iter_mut().enumerate() {
        if i < done {
            s.state = StepState::Done;
            s.started_ms = Some(t);
            t += 40;
            s.finished_ms = Some(t);
        } else if i == done {
            s.state = StepState::Running;
            s.started_ms = Some(t);
        }
    }
    r.steps[0].detail = Some(format!("{BASE}/lock/op-0000000003"));
    if done >= total {
        r.state = OpState::Done;
        r.finished_ms = Some(t);
        r.epoch_after = Some(r.epoch_before + 1);
        r.write_block_ms = Some(112);
        r.outcome = Some(format!("{} is primary at epoch {}", r.plan.candidate.clone().unwrap(), r.epoch_before + 1));
    }
    r
}

fn lock_info() -> LockInfo {
    LockInfo {
        operation: "switchover".into(),
        user: "alice".into(),
        host: "bastion".into(),
        pid: 4242,
        origin: "cli".into(),
        since_ms: NOW_MS - 2_000,
    }
}

fn key(a: &mut App, c: char) {
    a.update(Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)));
}

/// The failover screen of cluster `main`: one finished switchover db1 → db2 in the history, a
/// second (db2 → db1) running with the lock held by the CLI, and the plan asked for with `S`.
fn app(size: (u16, u16)) -> App {
    let mut a = App::new(AppOptions {
        label: "test".into(),
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
    });
    let ev = |a: &mut App, e: ZkEvent| a.update(Event::Zk(e));
    ev(&mut a, ZkEvent::Session { badge: SessionBadge::Connected, at: now() });
    ev(&mut a, ZkEvent::Ready { generation: 1 });
    ev(
        &mut a,
        ZkEvent::Children {
            parent: info("/myzoo/clusters", vec![]),
            children: vec![info(BASE, vec![])],
            failed: vec![],
        },
    );
    ev(&mut a, ZkEvent::Node(info(&format!("{BASE}/config"), CONFIG.as_bytes().to_vec())));
    ev(&mut a, ZkEvent::Node(info(&format!("{BASE}/primary"), br#"{"node":"db2","epoch":2}"#.to_vec())));
    assert_eq!(a.screen(), ScreenId::Cluster);

    key(&mut a, 'S');
    assert_eq!(a.screen(), ScreenId::Failover);
    let PlanState::Requested { id, .. } = a.screens().failover.view().plan.clone() else {
        panic!("S did not ask for a plan")
    };
    let lock = info(&format!("{BASE}/lock/op-0000000003"), serde_json::to_vec(&lock_info()).unwrap());
    ev(
        &mut a,
        ZkEvent::Children { parent: info(&format!("{BASE}/lock"), vec![]), children: vec![lock], failed: vec![] },
    );
    let done = record(plan("db1", "db2", 1), NOW_MS - 3_600_000, 8);
    let running = record(plan("db2", "db1", 2), NOW_MS - 1_500, 3);
    let history = vec![
        info(&format!("{BASE}/history/op-0000000000"), serde_json::to_vec(&done).unwrap()),
        info(&format!("{BASE}/history/op-0000000001"), serde_json::to_vec(&running).unwrap()),
    ];
    ev(
        &mut a,
        ZkEvent::Children { parent: info(&format!("{BASE}/history"), vec![]), children: history, failed: vec![] },
    );
    let planned = Planned { plan: Box::new(plan("db2", "db1", 2)), production: false };
    a.update(Event::Planned { id, cluster: "main".into(), kind: OpKind::Switchover, result: Ok(planned) });
    a
}

fn render(app: &App) -> String {
    let (w, h) = app.shared().size;
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| view::draw(f, app)).unwrap();
    format!("{}", terminal.backend())
}

#[test]
fn a_running_switchover_and_a_plan() {
    for size in [(100, 30), (80, 24)] {
        let a = app(size);
        let screen = render(&a);
        assert!(screen.contains("fence-old") && screen.contains("running"), "{screen}");
        assert!(screen.contains("expected write-block window: ~150 ms"), "{screen}");
        assert!(screen.contains("no_promote"), "the refused candidate's reason: {screen}");
        assert!(screen.contains("switchover running"), "the header's badge: {screen}");
        insta::assert_snapshot!(format!("failover_running_and_plan_{}x{}", size.0, size.1), screen);
    }
}

/// While the lock is held, `X` is refused at once with who holds it; once the operation is
/// over and the lock free, `X` asks first, and `enter` on a history row shows its steps.
#[test]
fn running_asks_first_and_not_while_the_lock_is_held() {
    let mut a = app((100, 30));
    key(&mut a, 'X');
    assert!(a.overlay().is_none());
    assert!(a.notices().latest().unwrap().text.contains("lock is held"), "{:?}", a.notices().latest());

    let finished = record(plan("db2", "db1", 2), NOW_MS - 1_500, 8);
    let path = format!("{BASE}/history/op-0000000001");
    a.update(Event::Zk(ZkEvent::Node(info(&path, serde_json::to_vec(&finished).unwrap()))));
    a.update(Event::Zk(ZkEvent::Deleted { path: format!("{BASE}/lock/op-0000000003") }));
    assert!(!render(&a).contains("switchover running"), "badge kept after the lock went");
    key(&mut a, 'X');
    let screen = render(&a);
    assert!(screen.contains("Run the switchover of main: db2 → db1 (epoch 2 → 3)?"), "{screen}");
    insta::assert_snapshot!("failover_confirm_100x30", screen);
    key(&mut a, 'n');
    assert!(a.overlay().is_none(), "n keeps the plan");

    // The older record's steps, chosen in the history.
    a.update(Event::Key(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE)));
    a.update(Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    assert!(render(&a).contains("Operation op-0000000000"), "{}", render(&a));
    a.update(Event::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    assert_eq!(a.screen(), ScreenId::Failover, "esc first leaves the record");
    a.update(Event::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    assert_eq!(a.screen(), ScreenId::Cluster);
}

/// Read-only mode shows the plan and refuses to run it.
#[test]
fn read_only_shows_the_plan_and_refuses_to_run() {
    let mut ro = App::new(AppOptions {
        label: "test".into(),
        root: "/myzoo".into(),
        read_only: true,
        theme: Theme::builtin("dark").unwrap(),
        keymap: KeyMap::default(),
        size: (100, 30),
        now: now(),
        drafts_dir: std::env::temp_dir().join(format!("myzoo-drafts-{}", std::process::id())),
        mysql: Default::default(),
        backup_store: None,
        ensemble: Default::default(),
    });
    ro.update(Event::Zk(ZkEvent::Children {
        parent: info("/myzoo/clusters", vec![]),
        children: vec![info(BASE, vec![])],
        failed: vec![],
    }));
    key(&mut ro, 'S');
    let PlanState::Requested { id, .. } = ro.screens().failover.view().plan.clone() else { panic!("no request") };
    let planned = Planned { plan: Box::new(plan("db1", "db2", 1)), production: false };
    ro.update(Event::Planned { id, cluster: "main".into(), kind: OpKind::Switchover, result: Ok(planned) });
    assert!(render(&ro).contains("read-only mode: shown only"), "{}", render(&ro));
    key(&mut ro, 'X');
    assert!(ro.overlay().is_none());
    assert!(ro.notices().latest().unwrap().text.contains("read-only"), "{:?}", ro.notices().latest());
}

/// While this console runs an operation, `q` asks first (ctrl-c still quits at once); the
/// operation's reports take over from the plan.
#[test]
fn quitting_while_our_operation_runs_needs_a_second_q() {
    let mut a = app((100, 30));
    let PlanState::Ready { id, .. } = a.screens().failover.view().plan.clone() else { panic!("no plan") };
    let ours = record(plan("db2", "db1", 2), NOW_MS, 2);
    a.update(Event::OperationReport { id, record: Box::new(ours) });
    assert!(a.screens().failover.running());
    assert_eq!(a.screens().failover.view().plan, PlanState::None, "the plan gave way to the operation");
    key(&mut a, 'q');
    assert!(!a.should_quit(), "one q quit while an operation runs");
    assert!(a.notices().latest().unwrap().text.contains("q again"), "{:?}", a.notices().latest());
    key(&mut a, 'q');
    assert!(a.should_quit());
}
