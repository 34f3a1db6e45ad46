//! Render snapshots of the backups screen: the snapshots and dumps of a store, a snapshot job
//! running with its progress bar, a diff against the live tree, a restore plan with its
//! confirmation, and the notice when no store is configured — at 80×24 and 120×40. Pure:
//! events in, frames out.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use myzoo::backup::{Progress, SnapshotMeta, SnapshotState};
use myzoo::console::app::{App, AppOptions};
use myzoo::console::event::{Effect, Event};
use myzoo::console::keymap::{KeyMap, Scope};
use myzoo::console::overlays::Overlay;
use myzoo::console::screens::backups::{
    ActionTally, BackupJob, BackupOutcome, DiffChange, DiffEntry, DiffView, DumpRow, JobError, Listing, Panel,
    RestoreView, StoreProblem,
};
use myzoo::console::screens::ScreenId;
use myzoo::console::theme::Theme;
use myzoo::console::view;
use myzoo::zk::{NodeInfo, NodeStat, SessionBadge, ZkEvent};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

const NOW_MS: i64 = 1_795_640_000_000;
const BASE: &str = "/myzoo/clusters/main";
const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(NOW_MS as u64)
}

fn info(path: &str, data: Vec<u8>) -> NodeInfo {
    NodeInfo { path: path.into(), stat: NodeStat { czxid: 1, mzxid: 1, ..NodeStat::default() }, data }
}

const CONFIG: &str = r#"{"schema":1,"name":"main","tier":"staging",
  "nodes":[{"name":"db1","host":"10.0.0.1","port":3306},{"name":"db2","host":"10.0.0.1","port":3307}]}"#;

fn press(a: &mut App, code: KeyCode) -> Vec<Effect> {
    a.update(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn key(a: &mut App, c: char) -> Vec<Effect> {
    press(a, KeyCode::Char(c))
}

fn options(size: (u16, u16), theme: &str, read_only: bool) -> AppOptions {
    AppOptions {
        label: "test".into(),
        root: "/myzoo".into(),
        read_only,
        theme: Theme::builtin(theme).unwrap(),
        keymap: KeyMap::default(),
        size,
        now: now(),
        drafts_dir: std::env::temp_dir().join(format!("myzoo-drafts-{}", std::process::id())),
        mysql: Default::default(),
        backup_store: None,
        ensemble: Default::default(),
    }
}

fn snapshot(id: u64, state: SnapshotState, note: &str, origin: &str, age_ms: i64) -> SnapshotMeta {
    let started_ms = NOW_MS - age_ms;
    SnapshotMeta {
        id,
        state,
        ensemble: "127.0.0.1:2181".into(),
        root: "/myzoo".into(),
        include_ephemeral: false,
        started_ms,
        finished_ms: (state != SnapshotState::Running).then_some(started_ms + 1_840),
        znodes: 2_914 + id,
        bytes: 1_204_000 + id * 1_000,
        min_zxid: Some(1),
        max_zxid: Some(99),
        checksum: None,
        operator: "alice".into(),
        host: "bastion".into(),
        origin: origin.into(),
        note: note.into(),
        error: (state == SnapshotState::Failed).then(|| "connection lost".to_string()),
    }
}

fn listing() -> Box<Listing> {
    Box::new(Listing {
        server: "10.0.0.1:3306".into(),
        database: "myzoo_backup".into(),
        writable: true,
        snapshots: vec![
            snapshot(3, SnapshotState::Complete, "before config change", "console", 60_000),
            snapshot(2, SnapshotState::Failed, "", "coordinator", 3_600_000),
            snapshot(1, SnapshotState::Complete, "nightly", "coordinator", 86_400_000),
        ],
        dumps: Some(Ok(vec![
            DumpRow {
                id: Some(2),
                node: "db2".into(),
                gtid_position: Some("0-1-4711".into()),
                bytes: 52_400_000,
                started_ms: NOW_MS - 7_200_000,
                duration_ms: Some(41_000),
                state: "complete".into(),
            },
            DumpRow {
                id: Some(1),
                node: "db2".into(),
                gtid_position: Some("0-1-4100".into()),
                bytes: 51_900_000,
                started_ms: NOW_MS - 93_600_000,
                duration_ms: Some(39_500),
                state: "complete".into(),
            },
        ])),
    })
}

/// The load the screen asked for, with its sequence number.
fn load_seq(effects: &[Effect]) -> u64 {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadBackups { seq, cluster } => {
                assert_eq!(cluster.as_deref(), Some("main"), "the dumps follow the chosen cluster");
                Some(*seq)
            }
            _ => None,
        })
        .expect("the screen lists the store when first shown")
}

fn job_of(effects: &[Effect]) -> (u64, BackupJob) {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::BackupJob { id, job } => Some((*id, job.clone())),
            _ => None,
        })
        .expect("a job was started")
}

/// The cluster screen of `main`, then `B`: the backups screen, with its listing answered by
/// `result` (`None`: left unanswered).
fn app_with(size: (u16, u16), theme: &str, read_only: bool, result: Option<Result<Box<Listing>, StoreProblem>>) -> App {
    let mut a = App::new(options(size, theme, read_only));
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
    ev(&mut a, ZkEvent::Node(info(&format!("{BASE}/primary"), br#"{"node":"db1","epoch":1}"#.to_vec())));
    assert_eq!(a.screen(), ScreenId::Cluster);
    let fx = key(&mut a, 'B');
    assert_eq!(a.screen(), ScreenId::Backups);
    let seq = load_seq(&fx);
    if let Some(result) = result {
        a.update(Event::BackupsLoaded { seq, result });
    }
    a
}

fn app(size: (u16, u16)) -> App {
    app_with(size, "dark", false, Some(Ok(listing())))
}

fn render(app: &App) -> String {
    let (w, h) = app.shared().size;
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| view::draw(f, app)).unwrap();
    format!("{}", terminal.backend())
}

#[test]
fn snapshots_and_dumps() {
    for size in SIZES {
        let a = app(size);
        let screen = render(&a);
        assert!(screen.contains("store myzoo_backup on 10.0.0.1:3306"), "the store's server: {screen}");
        assert!(screen.contains("before config change") && screen.contains("failed"), "{screen}");
        assert!(screen.contains("0-1-4711"), "the dumps' GTID position: {screen}");
        assert!(screen.contains("new snapshot"), "the hint bar: {screen}");
        insta::assert_snapshot!(format!("backups_list_{}x{}", size.0, size.1), screen);
    }
}

#[test]
fn a_snapshot_running_with_its_progress_bar() {
    for size in SIZES {
        let mut a = app(size);
        key(&mut a, 'b');
        assert_eq!(a.scope(), Scope::Input, "b asks for a note first");
        for c in "before upgrade".chars() {
            key(&mut a, c);
        }
        let (id, job) = job_of(&press(&mut a, KeyCode::Enter));
        assert_eq!(job, BackupJob::Snapshot { note: "before upgrade".into() });
        let progress = Progress {
            phase: "reading".into(),
            done: 1_200,
            total: Some(3_000),
            bytes: 600_000,
            bytes_total: None,
            elapsed_ms: 1_500,
        };
        a.update(Event::BackupProgress { id, progress });
        let screen = render(&a);
        assert!(screen.contains("snapshot running") && screen.contains(" 40%"), "{screen}");
        assert!(screen.contains("1,200 / 3,000 znodes") && screen.contains("ETA"), "{screen}");
        insta::assert_snapshot!(format!("backups_job_running_{}x{}", size.0, size.1), screen);

        // esc asks; y cancels the token; the one finished event says cancelled.
        press(&mut a, KeyCode::Esc);
        assert!(matches!(a.overlay(), Some(Overlay::CancelJob(_))));
        assert!(render(&a).contains("Cancel the running snapshot?"));
        let fx = key(&mut a, 'y');
        assert!(fx.contains(&Effect::CancelBackupJob(id)), "{fx:?}");
        assert!(render(&a).contains("cancelling"));
        let fx = a.update(Event::BackupJobEnded { id, result: Err(JobError::Cancelled) });
        assert!(fx.iter().any(|e| matches!(e, Effect::LoadBackups { .. })), "the list is read again: {fx:?}");
        assert!(!a.screens().backups.running());
        assert!(render(&a).contains("snapshot cancelled"));
    }
}

fn diff() -> DiffView {
    DiffView {
        snapshot: 3,
        against: "live".into(),
        added: vec![DiffEntry { path: format!("{BASE}/history/op-0000000004"), bytes: 2_310 }],
        removed: vec![DiffEntry { path: "/myzoo/clusters/old".into(), bytes: 0 }],
        changed: vec![DiffChange {
            path: format!("{BASE}/config"),
            lines: vec![
                "--- snapshot 3".into(),
                "+++ live".into(),
                "@@ -3,3 +3,3 @@".into(),
                "   \"failover\": {".into(),
                "-    \"automatic\": false".into(),
                "+    \"automatic\": true".into(),
                " }".into(),
            ],
        }],
        unchanged: 2_911,
    }
}

#[test]
fn a_diff_against_the_live_tree() {
    for size in SIZES {
        let mut a = app(size);
        let (id, job) = job_of(&key(&mut a, 'd'));
        assert_eq!(job, BackupJob::Diff { snapshot: 3 });
        a.update(Event::BackupJobEnded { id, result: Ok(BackupOutcome::Diff(Box::new(diff()))) });
        let screen = render(&a);
        assert!(screen.contains("+ /myzoo/clusters/main/history/op-0000000004"), "{screen}");
        assert!(screen.contains("\"automatic\": true"), "the data diff: {screen}");
        insta::assert_snapshot!(format!("backups_diff_{}x{}", size.0, size.1), screen);
        // It scrolls, and esc closes it.
        key(&mut a, 'j');
        assert!(matches!(a.screens().backups.view().panel, Panel::Diff { scroll: 1, .. }));
        press(&mut a, KeyCode::Esc);
        assert_eq!(a.screens().backups.view().panel, Panel::None);
        assert_eq!(a.screen(), ScreenId::Backups);
    }
}

fn plan(dry_run: bool) -> RestoreView {
    let tally = |label: &str, count: u64, sample: &[&str]| ActionTally {
        label: label.into(),
        count,
        sample: sample.iter().map(|s| s.to_string()).collect(),
    };
    RestoreView {
        snapshot: 3,
        dry_run,
        cancelled: false,
        policy: "skip-existing".into(),
        source: "/myzoo".into(),
        target: "/myzoo".into(),
        actions: vec![
            tally("create", 2, &["/myzoo/clusters/old", "/myzoo/clusters/old/config"]),
            tally("overwrite", 0, &[]),
            tally("unchanged", 2_900, &[]),
            tally("skipped-existing", 12, &[&format!("{BASE}/config")]),
            tally("skipped-ephemeral", 2, &[&format!("{BASE}/nodes/db1"), &format!("{BASE}/nodes/db2")]),
        ],
        problems: vec![],
        confirmation_needed: None,
        duration_ms: 310,
        planned_zxid: Some(0x1_0000_0042),
    }
}

#[test]
fn a_restore_plan_then_its_confirmation() {
    for size in SIZES {
        let mut a = app(size);
        let (id, job) = job_of(&key(&mut a, 'r'));
        assert_eq!(job, BackupJob::RestorePlan { snapshot: 3 });
        a.update(Event::BackupJobEnded { id, result: Ok(BackupOutcome::RestorePlan(Box::new(plan(true)))) });
        assert!(matches!(a.overlay(), Some(Overlay::Restore(_))), "the confirmation opens with the plan");
        let screen = render(&a);
        assert!(screen.contains("Restore snapshot 3 into /myzoo (skip-existing)?"), "{screen}");
        insta::assert_snapshot!(format!("backups_restore_confirm_{}x{}", size.0, size.1), screen);
        // n keeps the plan on screen; X asks again; y restores.
        key(&mut a, 'n');
        assert!(a.overlay().is_none());
        let screen = render(&a);
        assert!(screen.contains("Restore plan") && screen.contains("/myzoo/clusters/old/config"), "{screen}");
        insta::assert_snapshot!(format!("backups_restore_plan_{}x{}", size.0, size.1), screen);
        key(&mut a, 'X');
        let (run, job) = job_of(&key(&mut a, 'y'));
        // The run carries the plan's zxid: what changed after the plan is a conflict.
        assert_eq!(job, BackupJob::Restore { snapshot: 3, confirm: None, unchanged_since: Some(0x1_0000_0042) });
        let fx =
            a.update(Event::BackupJobEnded { id: run, result: Ok(BackupOutcome::Restored(Box::new(plan(false)))) });
        assert!(fx.iter().any(|e| matches!(e, Effect::LoadBackups { .. })));
        assert!(a.notices().latest().unwrap().text.contains("restore of snapshot 3 into /myzoo done"));
    }
}

#[test]
fn read_only_refuses_the_restore_before_anything_runs() {
    let mut a = app_with((80, 24), "dark", true, Some(Ok(listing())));
    let (id, _) = job_of(&key(&mut a, 'r'));
    a.update(Event::BackupJobEnded { id, result: Ok(BackupOutcome::RestorePlan(Box::new(plan(true)))) });
    assert!(a.overlay().is_none(), "no confirmation in read-only mode");
    assert!(render(&a).contains("read-only mode: shown only"));
    let fx = key(&mut a, 'X');
    assert!(fx.iter().all(|e| !matches!(e, Effect::BackupJob { .. })), "{fx:?}");
    assert!(a.notices().latest().unwrap().text.contains("read-only"));
}

#[test]
fn no_store_is_a_notice_and_the_screen_stays_usable() {
    for size in SIZES {
        let why = StoreProblem::NotConfigured("no backup store: add a section".into());
        let mut a = app_with(size, "dark", false, Some(Err(why)));
        let screen = render(&a);
        assert!(screen.contains("no backup store configured"), "{screen}");
        insta::assert_snapshot!(format!("backups_no_store_{}x{}", size.0, size.1), screen);
        let fx = key(&mut a, 'b');
        assert!(a.overlay().is_none() && fx.iter().all(|e| !matches!(e, Effect::BackupJob { .. })));
        key(&mut a, '?');
        assert!(render(&a).contains("new snapshot"), "help from the same table");
        press(&mut a, KeyCode::Esc);
        press(&mut a, KeyCode::Esc);
        assert_eq!(a.screen(), ScreenId::Cluster, "esc goes back");
    }
    // Unreachable: the reason, and the last listing stays.
    let mut a = app((80, 24));
    let seq = load_seq(&a.update(Event::Key(KeyEvent::new(KeyCode::Char('R'), KeyModifiers::NONE))));
    a.update(Event::BackupsLoaded { seq, result: Err(StoreProblem::Unreachable("10.0.0.1:3306: refused".into())) });
    let screen = render(&a);
    assert!(screen.contains("cannot be read: 10.0.0.1:3306: refused") && screen.contains("nightly"), "{screen}");
}

#[test]
fn no_colour_draws_the_same_text() {
    let mut a = app_with((80, 24), "monochrome", false, Some(Ok(listing())));
    key(&mut a, 'b');
    let (id, _) = job_of(&press(&mut a, KeyCode::Enter));
    a.update(Event::BackupProgress {
        id,
        progress: Progress { phase: "writing".into(), done: 10, total: Some(20), ..Progress::default() },
    });
    assert!(render(&a).contains(" 50%"));
    // Listing and opening: `:backups` works from anywhere.
    let mut b = app_with((80, 24), "dark", false, None);
    press(&mut b, KeyCode::Esc);
    assert_eq!(b.screen(), ScreenId::Cluster);
    for c in ":backups".chars() {
        key(&mut b, c);
    }
    press(&mut b, KeyCode::Enter);
    assert_eq!(b.screen(), ScreenId::Backups);
    assert!(render(&b).contains("opening the backup store"));
}
