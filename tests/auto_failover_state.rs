//! The coordinator's published state, as operators see it, against a real ZooKeeper (one server
//! for the file, a chroot per test). The tests write the state as the coordinator does
//! (`coordinator::update_state`), and check that `myzoo status` (text and JSON) says what
//! automatic failover does without changing its exit code, that `myzoo ack` lifts a cool-down,
//! and that the console shows each change live through its watch and `:ack` writes `acked_ms`
//! (refused in read-only mode), both audited.

mod common;

use std::path::Path;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use myzoo::agent::coordinator::{read_state, update_state, CoordinatorState};
use myzoo::cluster::ClusterPaths;
use myzoo::console::app::App;
use myzoo::console::event::Event;
use myzoo::console::headless::Headless;
use myzoo::console::shared::NoticeLevel;
use myzoo::console::strings;
use serde_json::Value;
use zookeeper_client::{Acls, Client, CreateMode};

const WAIT: Duration = Duration::from_secs(20);
/// The cool-down the tests' coordinator state is in.
const COOLDOWN_MS: i64 = 300_000;

fn now_ms() -> i64 {
    myzoo::audit::now_ms()
}

/// Cluster `main` under `/myzoo` of `zk`: automatic failover on, db1 the recorded primary, and
/// db2 registered (its agent leads the coordinator election in these tests).
async fn seed(zk: &Client) -> ClusterPaths {
    let persistent = CreateMode::Persistent.with_acls(Acls::anyone_all());
    let paths = ClusterPaths::new("/myzoo", "main");
    zk.mkdir(&paths.nodes_dir(), &persistent).await.unwrap();
    let config = serde_json::json!({"schema": 1, "name": "main", "tier": "test",
        "nodes": [{"name": "db1", "host": "127.0.0.1", "port": 3306}, {"name": "db2", "host": "127.0.0.1", "port": 3307}],
        "failover": {"automatic": true, "cooldown_s": COOLDOWN_MS / 1000}});
    zk.create(&paths.config(), config.to_string().as_bytes(), &persistent).await.unwrap();
    zk.create(&paths.primary(), br#"{"node":"db1","epoch":2}"#, &persistent).await.unwrap();
    zk.create(&paths.node("db2"), b"{}", &CreateMode::Ephemeral.with_acls(Acls::anyone_all())).await.unwrap();
    paths
}

/// What the coordinator on db2 writes while it watches (`reason`), or after an automatic
/// failover (`blocked`).
async fn publish(zk: &Client, paths: &ClusterPaths, mode: &str, reason: &str) -> CoordinatorState {
    let now = now_ms();
    update_state(zk, paths, |s| {
        s.leader = "db2".into();
        s.mode = mode.into();
        s.reason = reason.into();
        if mode == "blocked" {
            s.last_failover_ms = Some(now - 1_000);
            s.blocked_until_ms = Some(now + COOLDOWN_MS);
        }
    })
    .await
    .expect("write the coordinator state")
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn myzoo(home: &Path, zk: &str, args: &[&str]) -> Run {
    let out = common::isolated_myzoo(home).args(["--zk", zk]).args(args).output().expect("run myzoo");
    Run {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn auto(run: &Run) -> Value {
    let v: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stdout));
    v[0]["automatic_failover"].clone()
}

async fn acks_audited(zk: &Client, origin: &str) -> usize {
    let records = myzoo::audit::list(zk, "/myzoo", 50, None).await.expect("audit log");
    records
        .iter()
        .filter(|(_, r)| r.action == "ack" && r.origin == origin && r.path.ends_with("/main/coordinator"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_says_what_automatic_failover_does_and_ack_lifts_a_cool_down() {
    let sb = common::Sandbox::shared_zk_only().await;
    let connect = sb.chroot("status").await;
    let zk = Client::connect(&connect).await.unwrap();
    let paths = seed(&zk).await;
    let home = tempfile::tempdir().unwrap();
    let home = home.path();

    // No state published: on in the config, nobody watching.
    let before = myzoo(home, &connect, &["status", "--cluster", "main"]);
    assert!(before.stdout.contains("\n  automatic failover: on — no coordinator\n"), "{}", before.stdout);
    let base_code = before.code;

    publish(&zk, &paths, "on", "db1's agent is gone: 1 of 3 confirmations").await;
    let run = myzoo(home, &connect, &["status", "--cluster", "main"]);
    assert!(run.stdout.contains("  automatic failover: on (coordinator db2)\n"), "{}", run.stdout);
    assert!(run.stdout.contains("    db1's agent is gone: 1 of 3 confirmations\n"), "{}", run.stdout);

    // Blocked by the cool-down: said in text and JSON, and the exit code does not move.
    let state = publish(&zk, &paths, "blocked", "cool-down after the last automatic failover").await;
    let until = state.blocked_until_ms.unwrap();
    let hms = myzoo::zk::format::utc_time(until);
    let run = myzoo(home, &connect, &["status", "--cluster", "main"]);
    let line = format!("  automatic failover: blocked until {hms} UTC (myzoo ack lifts it)\n");
    assert!(run.stdout.contains(&line), "{line:?} not in:\n{}", run.stdout);
    assert_eq!(run.code, base_code, "a blocked automatic failover changed the exit code");
    let run = myzoo(home, &connect, &["status", "--cluster", "main", "--json"]);
    assert_eq!(auto(&run), serde_json::json!({"mode": "blocked", "coordinator": "db2", "blocked_until_ms": until}));
    assert_eq!(run.code, base_code);

    // myzoo ack (the service the console's :ack calls too) lifts it at once.
    let ack = myzoo(home, &connect, &["ack", "--cluster", "main"]);
    assert_eq!(ack.code, 0, "{}{}", ack.stdout, ack.stderr);
    assert!(ack.stdout.contains("automatic failover may act again"), "{}", ack.stdout);
    let (state, _) = read_state(&zk, &paths).await.unwrap();
    assert!(state.acked_ms.is_some_and(|a| a >= state.last_failover_ms.unwrap()), "{state:?}");
    assert_eq!(acks_audited(&zk, "cli").await, 1);
    let run = myzoo(home, &connect, &["status", "--cluster", "main", "--json"]);
    assert_eq!(auto(&run), serde_json::json!({"mode": "on", "coordinator": "db2"}));

    // Paused in the config: the config is the truth, whatever the coordinator last wrote.
    let mut config: Value = serde_json::from_slice(&zk.get_data(&paths.config()).await.unwrap().0).unwrap();
    config["failover"]["paused"] = true.into();
    zk.set_data(&paths.config(), config.to_string().as_bytes(), None).await.unwrap();
    let run = myzoo(home, &connect, &["status", "--cluster", "main"]);
    assert!(run.stdout.contains("  automatic failover: paused\n"), "{}", run.stdout);
    assert_eq!(run.code, base_code, "a paused automatic failover changed the exit code");
}

fn keys(h: &Headless, keys: &str) {
    for c in keys.chars() {
        let code = if c == '\n' { KeyCode::Enter } else { KeyCode::Char(c) };
        h.send(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }
}

fn notices(a: &App) -> Vec<String> {
    a.notices().iter().map(|n| format!("{:?}: {}", n.level, n.text)).collect()
}

/// Pumps until the drawn screen contains `text`.
async fn wait_screen(h: &mut Headless, text: &str) {
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        h.pump_until(Duration::from_millis(100), |_| false).await;
        h.draw();
        seen = h.screen();
        if seen.contains(text) {
            return;
        }
    }
    panic!("{text:?} never shown; notices {:?}:\n{seen}", notices(&h.app));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_follows_the_coordinator_and_ack_writes_acked_ms() {
    let sb = common::Sandbox::shared_zk_only().await;
    let connect = sb.chroot("console").await;
    let zk = Client::connect(&connect).await.unwrap();
    let paths = seed(&zk).await;
    let session = |connect: &str| myzoo::zk::ZkAccess::new(connect, Duration::from_secs(10));
    let mut h = Headless::start(common::app_opts((120, 40), "/myzoo"), session(&connect)).unwrap();
    wait_screen(&mut h, "automatic failover on — no coordinator").await;
    assert!(h.screen().lines().next().unwrap().contains("auto-failover: no coordinator"), "{}", h.screen());

    // Each state the coordinator writes reaches the screen through the watch.
    publish(&zk, &paths, "on", "watching db1: up").await;
    wait_screen(&mut h, "automatic failover on (coordinator db2)").await;
    publish(&zk, &paths, "on", "db1 unreachable: Connection refused: 2 of 3 confirmations").await;
    wait_screen(&mut h, "coordinator: db1 unreachable: Connection refused: 2 of 3 confirmations").await;
    let state = publish(&zk, &paths, "blocked", "cool-down").await;
    let hms = myzoo::zk::format::utc_time(state.blocked_until_ms.unwrap());
    wait_screen(&mut h, &format!("automatic failover blocked until {hms} UTC (myzoo ack / :ack)")).await;
    assert!(h.screen().lines().next().unwrap().contains("auto-failover: blocked"), "{}", h.screen());

    // A read-only console refuses :ack and writes nothing.
    let mut ro = Headless::start(
        myzoo::console::app::AppOptions { read_only: true, ..common::app_opts((120, 40), "/myzoo") },
        session(&connect),
    )
    .unwrap();
    wait_screen(&mut ro, "automatic failover blocked until").await;
    keys(&ro, ":ack\n");
    let refused =
        |a: &App| a.notices().iter().any(|n| n.level == NoticeLevel::Error && n.text == strings::READ_ONLY_REFUSED);
    assert!(ro.pump_until(WAIT, refused).await, "{:?}", notices(&ro.app));
    ro.shutdown().await;
    assert_eq!(read_state(&zk, &paths).await.unwrap().0.acked_ms, None, "a read-only console acknowledged");

    // :ack writes acked_ms (and acked_by), audited with origin console; the block goes.
    let asked = now_ms();
    keys(&h, ":ack\n");
    let done = |a: &App| a.notices().iter().any(|n| n.level == NoticeLevel::Info && n.text.contains("acknowledged by"));
    assert!(h.pump_until(WAIT, done).await, "{:?}", notices(&h.app));
    let (state, _) = read_state(&zk, &paths).await.unwrap();
    assert!(state.acked_ms.is_some_and(|a| a >= asked), "acked_ms not written: {state:?}");
    assert!(state.acked_by.as_deref().is_some_and(|b| b.contains('@')), "{state:?}");
    assert!(notices(&h.app).iter().any(|n| n.contains("automatic failover may act again")), "{:?}", notices(&h.app));
    assert_eq!(acks_audited(&zk, "console").await, 1);
    wait_screen(&mut h, "automatic failover on (coordinator db2)").await;

    // :ack on an unknown cluster is refused before anything is written.
    keys(&h, ":ack nope\n");
    let unknown = |a: &App| a.notices().iter().any(|n| n.text.starts_with("no cluster named \"nope\""));
    assert!(h.pump_until(WAIT, unknown).await, "{:?}", notices(&h.app));
    h.shutdown().await;
}
