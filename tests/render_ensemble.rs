//! Render snapshots of the ensemble screen: a healthy three-member ensemble with the console's
//! session on one member (marked, and named in the header), and a degraded one — a member
//! down with its reason, one read through its AdminServer, one lagging — at 80×24 and 160×40.
//! The members' numbers are real ZooKeeper 3.8 answers (`src/zk/ensemble/fixtures`). Pure:
//! events in, frames out.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use myzoo::console::app::{App, AppOptions};
use myzoo::console::event::{Effect, Event};
use myzoo::console::keymap::KeyMap;
use myzoo::console::screens::ScreenId;
use myzoo::console::theme::Theme;
use myzoo::console::view;
use myzoo::zk::ensemble::members::{merge, parse_connect_string, parse_dynamic_config};
use myzoo::zk::ensemble::stats::{parse_mntr, parse_srvr};
use myzoo::zk::ensemble::{verdict, EnsembleReport, MemberReport, MemberStats, Reach, Via, Zxid};
use myzoo::zk::{SessionBadge, ZkEvent};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

const NOW_MS: i64 = 1_795_640_000_000;
const SIZES: [(u16, u16); 2] = [(80, 24), (160, 40)];
const CONNECT: &str = "127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183";
const CONFIG: &str = "server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181\n\
                      server.2=127.0.0.1:2889:3889:participant;127.0.0.1:2182\n\
                      server.3=127.0.0.1:2890:3890:participant;127.0.0.1:2183\nversion=0\n";
const SRVR_LEADER: &str = include_str!("../src/zk/ensemble/fixtures/srvr-leader.txt");
const MNTR_LEADER: &str = include_str!("../src/zk/ensemble/fixtures/mntr-leader.txt");
const SRVR_FOLLOWER: &str = include_str!("../src/zk/ensemble/fixtures/srvr-follower.txt");
const MNTR_FOLLOWER: &str = include_str!("../src/zk/ensemble/fixtures/mntr-follower.txt");

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(NOW_MS as u64)
}

fn options(size: (u16, u16)) -> AppOptions {
    AppOptions {
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
    }
}

fn leader() -> MemberStats {
    parse_mntr(MNTR_LEADER).unwrap().or(parse_srvr(SRVR_LEADER).unwrap())
}

fn follower() -> MemberStats {
    parse_mntr(MNTR_FOLLOWER).unwrap().or(parse_srvr(SRVR_FOLLOWER).unwrap())
}

/// What one member said: how far we got, how, its numbers, why not.
type Said<'a> = (Reach, Option<Via>, Option<MemberStats>, Option<&'a str>);

/// The three members with what each said, judged as the service judges them.
fn report(said: [Said<'_>; 3]) -> Box<EnsembleReport> {
    let members = merge(&parse_connect_string(CONNECT).unwrap(), &parse_dynamic_config(CONFIG));
    let mut reports: Vec<MemberReport> = members
        .into_iter()
        .zip(said)
        .map(|(member, (reach, via, stats, reason))| MemberReport {
            address: member.address(),
            member,
            reach,
            via,
            stats,
            reason: reason.map(str::to_string),
            behind_leader: None,
            older_epoch: false,
            session: false,
        })
        .collect();
    verdict::annotate_lag(&mut reports);
    let judgement = verdict::judge(&reports);
    Box::new(EnsembleReport {
        observed_at_ms: NOW_MS,
        elapsed_ms: 3,
        members: reports,
        judgement,
        session_member: Some("127.0.0.1:2182".into()),
        notes: Vec::new(),
    })
}

fn healthy() -> Box<EnsembleReport> {
    let s = Some(Via::FourLetterWords);
    report([
        (Reach::Serving, s, Some(follower()), None),
        (Reach::Serving, s, Some(follower()), None),
        (Reach::Serving, s, Some(leader()), None),
    ])
}

fn degraded() -> Box<EnsembleReport> {
    let mut lagging = follower();
    lagging.zxid = Some(Zxid(leader().zxid.unwrap().0 - (1 << 32) + 3));
    lagging.outstanding_requests = Some(250);
    report([
        (Reach::Down, None, None, Some("connection refused; AdminServer 127.0.0.1:8081: connection refused")),
        (Reach::Serving, Some(Via::AdminServer), Some(lagging), None),
        (Reach::Serving, Some(Via::FourLetterWords), Some(leader()), None),
    ])
}

/// A connected console on `127.0.0.1:2182`, then `Z`: the ensemble screen, answered by `report`.
fn app(size: (u16, u16), report: Box<EnsembleReport>) -> App {
    let mut a = App::new(options(size));
    a.update(Event::Zk(ZkEvent::Session { badge: SessionBadge::Connected, at: now() }));
    a.update(Event::Zk(ZkEvent::ConnectedTo { member: Some("127.0.0.1:2182".into()) }));
    a.update(Event::Zk(ZkEvent::Ready { generation: 1 }));
    let fx = a.update(Event::Key(KeyEvent::new(KeyCode::Char('Z'), KeyModifiers::NONE)));
    assert_eq!(a.screen(), ScreenId::Ensemble);
    let seq = fx
        .iter()
        .find_map(|e| match e {
            Effect::LoadEnsemble { seq } => Some(*seq),
            _ => None,
        })
        .expect("the screen asks the members when shown");
    a.update(Event::EnsembleLoaded { seq, result: Ok(report) });
    a
}

fn render(app: &App) -> String {
    let (w, h) = app.shared().size;
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| view::draw(f, app)).unwrap();
    format!("{}", terminal.backend())
}

#[test]
fn a_healthy_ensemble_with_the_session_on_one_member() {
    for size in SIZES {
        let mut a = app(size, healthy());
        let screen = render(&a);
        assert!(screen.contains("connected 127.0.0.1:2182"), "the header names the member: {screen}");
        assert!(screen.contains("HEALTHY") && screen.contains("3 of 3 voting members serving, 2 needed"), "{screen}");
        assert!(screen.contains("127.0.0.1:2182 *"), "the session's member is marked: {screen}");
        assert!(screen.contains("leader") && screen.contains("follower"), "{screen}");
        assert!(screen.contains("0x100000082 (epoch 1, counter 130)"), "the selected member's zxid: {screen}");
        assert!(screen.contains("ask the members now"), "the hint bar: {screen}");
        insta::assert_snapshot!(format!("ensemble_healthy_{}x{}", size.0, size.1), screen);
        // The cursor moves to the leader: its followers in sync show in the details.
        for _ in 0..2 {
            a.update(Event::Key(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE)));
        }
        let screen = render(&a);
        assert!(screen.contains("2/2 synced/learners"), "{screen}");
    }
}

#[test]
fn a_degraded_ensemble_says_why() {
    for size in SIZES {
        let a = app(size, degraded());
        let screen = render(&a);
        assert!(screen.contains("DEGRADED") && screen.contains("one failure from losing quorum"), "{screen}");
        assert!(screen.contains("127.0.0.1:2181 down: connection refused"), "the reason: {screen}");
        assert!(screen.contains("older epoch"), "the lagging member: {screen}");
        assert!(screen.contains("250 outstanding requests"), "{screen}");
        insta::assert_snapshot!(format!("ensemble_degraded_{}x{}", size.0, size.1), screen);
    }
}
