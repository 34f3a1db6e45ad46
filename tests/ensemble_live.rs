//! The ensemble screen and `myzoo zk ensemble` against real ZooKeeper (the sandbox's, Debian's
//! 3.8): a standalone server through the four-letter words and through its AdminServer; three
//! members, one of which refuses `mntr` (its whitelist) and is read through its AdminServer;
//! members found through `/zookeeper/config`; members killed one after the other, reported down
//! with the reason while the quorum's verdict and the exit code follow; and the console: the
//! header names the member its session is on (the vendored `Client::connected_server`, checked
//! against that member's `cons`), the screen asks every 2 s only while shown, and a kill of the
//! session's member shows as the session moving and the member down.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use myzoo::console::app::AppOptions;
use myzoo::console::event::Event;
use myzoo::console::headless::Headless;
use myzoo::console::screens::ScreenId;
use myzoo::sandbox::{self, SandboxOptions, SandboxStatus, ZkServer};
use myzoo::zk::ensemble::{self, EnsembleOptions, EnsembleReport, EnsembleVerdict, Quorum, Reach, Via};
use myzoo::zk::SessionBadge;
use serde_json::Value;
use zookeeper_client::Client;

/// Longest any awaited state may take (elections and reconnects included).
const WAIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(100);
/// The console's session timeout: long enough to move to another member after a kill.
const SESSION_TIMEOUT: Duration = Duration::from_secs(8);

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.describe()))
    }

    fn describe(&self) -> String {
        format!("exit {} after {:?}\nstdout:\n{}\nstderr:\n{}", self.code, self.took, self.stdout, self.stderr)
    }
}

/// `myzoo [--zk ZK] zk ensemble ARGS` with a home of its own (and its config file, if written).
fn myzoo_ensemble(home: &Path, zk: Option<&str>, args: &[&str]) -> Run {
    let started = Instant::now();
    let mut cmd = common::isolated_myzoo(home);
    if let Some(zk) = zk {
        cmd.args(["--zk", zk]);
    }
    let out = cmd.args(["zk", "ensemble"]).args(args).output().expect("run myzoo zk ensemble");
    Run {
        code: out.status.code().expect("exit code, not a signal"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: started.elapsed(),
    }
}

/// A config file in `home` whose default profile reaches `zk` with these `[ensemble]` options.
fn write_profile(home: &Path, zk: &str, ensemble: &EnsembleOptions) {
    let mut profile = toml::Table::new();
    profile.insert("zk".into(), zk.into());
    profile.insert("ensemble".into(), toml::Value::try_from(ensemble).expect("options as TOML"));
    let mut profiles = toml::Table::new();
    profiles.insert("t".into(), profile.into());
    let mut cfg = toml::Table::new();
    cfg.insert("default_profile".into(), "t".into());
    cfg.insert("profiles".into(), profiles.into());
    std::fs::write(home.join("config.toml"), toml::to_string(&cfg).expect("config")).expect("write config");
}

/// Each member's AdminServer, as `myzoo sandbox up` writes them into its profile. Fails when
/// the sandbox has none: the AdminServer needs `libservlet-api-java` (scripts/install-deps.sh).
fn admin_servers(status: &SandboxStatus) -> EnsembleOptions {
    assert!(
        status.zk_servers.iter().all(|s| s.admin_port.is_some()),
        "the sandbox's ZooKeeper runs no AdminServer: install libservlet-api-java (scripts/install-deps.sh)"
    );
    sandbox::ensemble_options(&status.zk_servers).expect("admin servers")
}

fn member(json: &Value, port: u16) -> &Value {
    json["members"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["port"] == port))
        .unwrap_or_else(|| panic!("no member on port {port} in {json:#}"))
}

fn kill(server: &ZkServer) {
    let pid = server.pid.expect("member pid") as i32;
    // SAFETY: kill(2) on a process the sandbox started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0, "kill -9 member {}", server.id);
}

async fn connect(zk: &str) -> Client {
    Client::connector()
        .with_session_timeout(Duration::from_secs(10))
        .connect(zk)
        .await
        .unwrap_or_else(|e| panic!("connect to {zk}: {e}"))
}

/// Reads the ensemble until `pred` holds; panics naming `what` after [`WAIT`].
async fn read_until(
    connect: &str,
    client: Option<&Client>,
    opts: &EnsembleOptions,
    what: &str,
    pred: impl Fn(&EnsembleReport) -> bool,
) -> EnsembleReport {
    let deadline = Instant::now() + WAIT;
    loop {
        let report = ensemble::read(connect, client, opts).await.expect("a readable connect string");
        if pred(&report) {
            return report;
        }
        assert!(Instant::now() < deadline, "{what}: never; last report: {report:#?}");
        tokio::time::sleep(POLL).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standalone_server_through_the_words_and_the_admin_server() {
    let sb = common::Sandbox::zk_only().await;
    let home = tempfile::tempdir().expect("home");
    let zk = sb.zk();
    let port = sb.status.zk_servers[0].port;

    // The four-letter words: healthy, standalone, and the command's own session is on it.
    let run = myzoo_ensemble(home.path(), Some(&zk), &[]);
    assert_eq!(run.code, 0, "{}", run.describe());
    assert!(run.stdout.starts_with("ENSEMBLE HEALTHY: standalone"), "{}", run.describe());
    let run = myzoo_ensemble(home.path(), Some(&zk), &["--json"]);
    assert_eq!(run.code, 0, "{}", run.describe());
    let json = run.json();
    let m = member(&json, port);
    assert_eq!((m["reach"].as_str(), m["via"].as_str()), (Some("serving"), Some("four-letter-words")), "{json:#}");
    assert_eq!(m["stats"]["mode"], "standalone");
    assert!(m["stats"]["watches"].is_u64() && m["stats"]["open_fds"].is_u64(), "mntr's numbers: {json:#}");
    assert_eq!(m["session"], true, "{json:#}");
    assert_eq!((json["verdict"].as_str(), json["quorum"].as_str()), (Some("healthy"), Some("standalone")));

    // The AdminServer alone (the words turned off in the profile): the same member, read over HTTP.
    let admin = admin_servers(&sb.status);
    write_profile(home.path(), &zk, &EnsembleOptions { four_letter_words: false, ..admin.clone() });
    let run = myzoo_ensemble(home.path(), None, &["--json"]);
    assert_eq!(run.code, 0, "{}", run.describe());
    let json = run.json();
    let m = member(&json, port);
    assert_eq!((m["reach"].as_str(), m["via"].as_str()), (Some("serving"), Some("admin-server")), "{json:#}");
    assert_eq!(m["stats"]["mode"], "standalone");
    assert!(m["stats"]["zxid"]["hex"].is_string(), "srvr's zxid through the AdminServer: {json:#}");
    assert!(m["stats"]["watches"].is_u64() && m["stats"]["max_fds"].is_u64(), "mntr's numbers: {json:#}");

    // Neither: no words, and an AdminServer address nothing listens on. Unknown, with why.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        l.local_addr().expect("port").port()
    };
    let mut nowhere = EnsembleOptions { four_letter_words: false, ..EnsembleOptions::default() };
    nowhere.admin_servers.insert(format!("127.0.0.1:{port}"), format!("127.0.0.1:{closed}"));
    write_profile(home.path(), &zk, &nowhere);
    let run = myzoo_ensemble(home.path(), None, &[]);
    assert_eq!(run.code, 3, "{}", run.describe());
    assert!(run.stdout.starts_with("ENSEMBLE UNKNOWN"), "{}", run.describe());
    let reason = format!("four-letter words not used; AdminServer 127.0.0.1:{closed}: connection refused");
    assert!(run.stdout.contains(&format!("127.0.0.1:{port} cannot be read: {reason}")), "{}", run.describe());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_members_one_refusing_the_words_then_killed_one_by_one() {
    // Member 2 refuses every word but srvr (ZooKeeper always allows it): its AdminServer answers.
    let opts = SandboxOptions {
        zk_ensemble: 3,
        zk_4lw_whitelists: vec![(2, "ruok".to_string())],
        ..common::Sandbox::options(false)
    };
    let sb = common::Sandbox::start_with(opts).await;
    let status = sb.status.clone();
    let [m1, m2, m3] = [0, 1, 2].map(|i| status.zk_servers[i].clone());
    let admin = admin_servers(&status);
    let client = connect(&status.zk).await;

    // Every member serving; member 2 through its AdminServer, the others through the words.
    let report = read_until(&status.zk, Some(&client), &admin, "a healthy ensemble", |r| {
        r.judgement.verdict == EnsembleVerdict::Healthy
    })
    .await;
    assert_eq!(report.judgement.quorum, Quorum::Healthy);
    assert_eq!((report.judgement.voters, report.judgement.serving_voters), (3, 3));
    let vias: Vec<(u16, Option<Via>, Option<u32>)> =
        report.members.iter().map(|m| (m.member.port, m.via, m.member.server_id)).collect();
    assert_eq!(
        vias,
        vec![
            (m1.port, Some(Via::FourLetterWords), Some(1)),
            (m2.port, Some(Via::AdminServer), Some(2)),
            (m3.port, Some(Via::FourLetterWords), Some(3)),
        ],
        "ids from /zookeeper/config"
    );
    let on = client.connected_server().map(|(h, p)| format!("{h}:{p}"));
    assert_eq!(report.session_member, on);
    assert_eq!(report.members.iter().filter(|m| m.session).count(), 1);
    assert!(report.members[1].stats.as_ref().is_some_and(|s| s.watches.is_some() && s.zxid.is_some()));

    // Without its AdminServer, member 2 says only what srvr says, and why.
    let words_only = read_until(&status.zk, Some(&client), &EnsembleOptions::default(), "srvr only", |r| {
        r.members[1].reach == Reach::Serving
    })
    .await;
    let m = &words_only.members[1];
    assert_eq!(m.via, Some(Via::FourLetterWords));
    assert_eq!(m.reason.as_deref(), Some("mntr is not in the 4lw whitelist; no AdminServer configured"));
    assert!(m.stats.as_ref().is_some_and(|s| s.zxid.is_some() && s.watches.is_none()), "{m:#?}");

    // A connect string naming one member finds the others in /zookeeper/config.
    let only3 = format!("127.0.0.1:{}", m3.port);
    let one = connect(&only3).await;
    let found = ensemble::read(&only3, Some(&one), &admin).await.expect("report");
    let named: Vec<(u16, bool, bool)> =
        found.members.iter().map(|m| (m.member.port, m.member.in_connect_string, m.member.in_dynamic_config)).collect();
    assert_eq!(named, vec![(m3.port, true, true), (m1.port, false, true), (m2.port, false, true)]);
    assert_eq!(found.judgement.verdict, EnsembleVerdict::Healthy);
    drop(one);

    // The command, with the profile `myzoo sandbox up` writes: healthy, exit 0.
    let home = tempfile::tempdir().expect("home");
    write_profile(home.path(), &status.zk, &admin);
    let run = myzoo_ensemble(home.path(), None, &[]);
    assert_eq!(run.code, 0, "{}", run.describe());
    assert!(run.stdout.starts_with("ENSEMBLE HEALTHY: quorum healthy: 3 of 3"), "{}", run.describe());

    // Member 1 killed: down with the reason, one failure from losing the quorum, exit 1.
    kill(&m1);
    let down1 = format!("127.0.0.1:{} down: connection refused", m1.port);
    let deadline = Instant::now() + WAIT;
    let run = loop {
        let run = myzoo_ensemble(home.path(), None, &[]);
        // A member dying may reset a probe's connection (unreadable) before it refuses them
        // (down): wait for the settled state.
        if run.code == 1 && run.stdout.contains("one failure from losing quorum: 2 of 3") && run.stdout.contains(&down1)
        {
            break run;
        }
        assert!(Instant::now() < deadline, "never degraded with {down1}: {}", run.describe());
        tokio::time::sleep(POLL).await;
    };
    assert!(run.stdout.contains(&down1), "{}", run.describe());
    let json = myzoo_ensemble(home.path(), None, &["--json"]).json();
    assert_eq!(member(&json, m1.port)["reach"], "down");
    let reason = member(&json, m1.port)["reason"].as_str().unwrap_or_default().to_string();
    assert_eq!(
        reason,
        format!("connection refused; AdminServer 127.0.0.1:{}: connection refused", m1.admin_port.unwrap())
    );

    // Member 2 killed too: the quorum is lost, exit 2, and the command still answers quickly
    // (no session to be had; the members are asked directly).
    kill(&m2);
    let deadline = Instant::now() + WAIT;
    let run = loop {
        let run = myzoo_ensemble(home.path(), None, &[]);
        if run.code == 2 {
            break run;
        }
        assert!(Instant::now() < deadline, "never unhealthy: {}", run.describe());
        tokio::time::sleep(POLL).await;
    };
    assert!(
        run.stdout.starts_with("ENSEMBLE UNHEALTHY: quorum lost: 0 of 3 voting members serving"),
        "{}",
        run.describe()
    );
    assert!(run.stdout.contains(&format!("127.0.0.1:{} not serving requests", m3.port)), "{}", run.describe());
    assert!(run.took < Duration::from_secs(8), "answered within the session wait and two asks: {}", run.describe());
}

fn key(h: &Headless, c: char) {
    h.send(Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_names_its_member_and_asks_only_while_shown() {
    let sb = common::Sandbox::start_with(SandboxOptions { zk_ensemble: 3, ..common::Sandbox::options(false) }).await;
    let status = sb.status.clone();
    let opts = AppOptions { ensemble: admin_servers(&status), ..common::app_opts((80, 24), "/myzoo") };
    let mut h = Headless::start(opts, sb.session(SESSION_TIMEOUT)).expect("headless console");

    // The header names the member the session is on, and that member's cons lists the session.
    assert!(
        h.pump_until(WAIT, |a| a.shared().session_member.is_some() && a.generation() > 0).await,
        "the session's member never named: {}",
        h.screen()
    );
    let session = h.session_id().expect("a session");
    let on = sandbox::zk_member_of_session(&status, session).await.expect("a member lists the session");
    let named = format!("127.0.0.1:{}", on.port);
    assert_eq!(h.app.shared().session_member.as_deref(), Some(named.as_str()));
    h.draw();
    assert!(h.screen().contains(&format!("connected {named}")), "{}", h.screen());

    // Z: the ensemble screen, healthy, the session's member marked.
    key(&h, 'Z');
    assert!(h.pump_until(WAIT, |a| a.screens().ensemble.view().report.is_some()).await, "no report: {}", h.screen());
    assert_eq!(h.app.screen(), ScreenId::Ensemble);
    h.draw();
    let screen = h.screen();
    assert!(screen.contains("HEALTHY") && screen.contains("3 of 3 voting members serving"), "{screen}");
    assert!(screen.contains(&format!("{named} *")), "{screen}");

    // Shown: asked every 2 s (over 6 s: three more asks, give or take the tick's phase).
    let before = h.app.screens().ensemble.asks();
    h.pump_until(Duration::from_secs(6), |_| false).await;
    let shown = h.app.screens().ensemble.asks() - before;
    assert!((2..=4).contains(&shown), "{shown} asks in 6 s while shown");

    // Hidden (the tree): not one ask in 6 s.
    key(&h, '2');
    assert!(h.pump_until(WAIT, |a| a.screen() == ScreenId::Tree).await);
    let before = h.app.screens().ensemble.asks();
    h.pump_until(Duration::from_secs(6), |_| false).await;
    assert_eq!(h.app.screens().ensemble.asks(), before, "asked while hidden");

    // Back on it, then the session's member killed: the session moves (the header names the
    // new member, which lists it), the killed member is down, one failure from losing quorum.
    key(&h, 'Z');
    kill(&on);
    assert!(
        h.pump_until(WAIT, |a| {
            a.session() == SessionBadge::Connected && a.shared().session_member.as_deref().is_some_and(|m| m != named)
        })
        .await,
        "the session never moved: {}",
        h.screen()
    );
    // The member it moved to may lose its clients once more while the others elect a leader:
    // the settled member is the one whose `cons` lists the session while the console is on it.
    let deadline = Instant::now() + WAIT;
    let moved_name = loop {
        let moved = sandbox::zk_member_of_session(&status, session).await.map(|m| format!("127.0.0.1:{}", m.port));
        let moved = moved.filter(|m| h.app.shared().session_member.as_deref() == Some(m.as_str()));
        if let Some(m) = moved.filter(|_| h.app.session() == SessionBadge::Connected) {
            break m;
        }
        assert!(Instant::now() < deadline, "the session never settled on a member: {}", h.screen());
        h.pump_until(POLL, |_| false).await;
    };
    assert!(
        h.pump_until(WAIT, |a| {
            a.session() == SessionBadge::Connected
                && a.shared().session_member.as_deref() == Some(moved_name.as_str())
                && a.screens().ensemble.view().report.as_ref().is_some_and(|r| {
                    r.judgement.quorum == Quorum::OneFailureFromLoss
                        && r.members.iter().any(|m| m.address == named && m.reach == Reach::Down)
                })
        })
        .await,
        "the kill never showed: {}",
        h.screen()
    );
    h.draw();
    let screen = h.screen();
    assert!(screen.contains(&format!("{named} down: connection refused")), "{screen}");
    assert!(screen.contains("one failure from losing quorum"), "{screen}");
    assert!(screen.contains(&format!("connected {moved_name}")), "{screen}");
    assert!(screen.contains(&format!("{moved_name} *")), "{screen}");
    h.shutdown().await;
}
