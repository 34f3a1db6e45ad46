//! The faults operators meet, driven against a real three-member ensemble with three MariaDB
//! servers and their agents: quorum lost and regained, the console's session expired by freezing
//! its member, a MySQL server that hangs. Each scenario checks what must hold and returns how
//! long the product took to be live again; `tests/faults.rs` asserts, `benches/faults.rs`
//! reports the figures.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use myzoo::cluster::status::{parse_status, NodeStatus, ParsedStatus};
use myzoo::cluster::ClusterPaths;
use myzoo::console::app::App;
use myzoo::console::event::Event;
use myzoo::console::headless::Headless;
use myzoo::sandbox::{self, SandboxOptions, ZkServer};
use myzoo::zk::{SessionBadge, ZkAccess};
use zookeeper_client::{Acls, Client, CreateMode};

use super::Sandbox;

pub const ROOT: &str = "/myzoo";
pub const NODES: [&str; 3] = ["db1", "db2", "db3"];
/// The agents' and the console's session timeout.
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(4);
/// Longest any awaited state may take (elections, reconnects and probes on a busy machine).
pub const WAIT: Duration = Duration::from_secs(45);
const POLL: Duration = Duration::from_millis(50);
/// Process start and shutdown on top of `myzoo status`'s own answer timeout.
pub const STATUS_SLACK: Duration = Duration::from_secs(3);

/// A three-member ensemble, three MariaDB servers with agents, and the console on the cluster.
pub struct Rig {
    pub sb: Sandbox,
    pub console: Headless,
    pub paths: ClusterPaths,
    /// Where `myzoo status` runs (never the real user's home).
    pub home: tempfile::TempDir,
    round: u32,
}

fn members(status: &sandbox::SandboxStatus) -> String {
    status.zk_servers.iter().map(|s| format!("127.0.0.1:{}", s.port)).collect::<Vec<_>>().join(",")
}

impl Rig {
    pub async fn start() -> Rig {
        let opts = SandboxOptions {
            zk_ensemble: 3,
            seed: true,
            agent_binary: Some(env!("CARGO_BIN_EXE_myzoo").into()),
            agent_interval_ms: 250,
            agent_session_timeout_ms: Some(SESSION_TIMEOUT.as_millis() as u64),
            ..Sandbox::options(true)
        };
        let sb = Sandbox::start_with(opts).await;
        let paths = ClusterPaths::new(ROOT, sandbox::CLUSTER);
        let console = Headless::start(super::app_opts((160, 50), ROOT), sb.session(SESSION_TIMEOUT)).expect("console");
        let mut rig = Rig { sb, console, paths, home: tempfile::tempdir().expect("temp home"), round: 0 };
        let all_shown = rig
            .console
            .pump_until(WAIT, |a| NODES.iter().all(|n| node_status(a, n).is_some_and(|s| s.reachable)))
            .await;
        assert!(all_shown, "the console never showed the three nodes reachable");
        rig
    }

    pub fn state_dir(&self) -> &Path {
        self.sb.dir.path()
    }

    pub fn status(&self) -> sandbox::SandboxStatus {
        sandbox::status(self.state_dir()).expect("sandbox status")
    }

    /// Every member of the ensemble, as a connect string.
    pub fn ensemble(&self) -> String {
        members(&self.status())
    }

    /// A client of the test's own on the whole ensemble.
    pub async fn client(&self) -> Client {
        ZkAccess::new(self.ensemble(), Duration::from_secs(10)).connect().await.expect("connect to the ensemble")
    }

    /// Runs `myzoo status --zk CONNECT`; returns its exit code and how long it took.
    pub fn myzoo_status(&self, connect: &str) -> (i32, Duration, String) {
        let started = Instant::now();
        let out = super::isolated_myzoo(self.home.path())
            .args(["--zk", connect, "status"])
            .output()
            .expect("run myzoo status");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.code().expect("exit code, not a signal"), started.elapsed(), text)
    }

    /// The console is live: it is connected and shows a change made now by another client
    /// (retried until the ensemble takes it). Returns when it did.
    pub async fn wait_live(&mut self, what: &str) -> Instant {
        self.round += 1;
        let path = format!("{ROOT}/live-{}", self.round);
        let zk = self.client().await;
        let persistent = CreateMode::Persistent.with_acls(Acls::anyone_all());
        let deadline = Instant::now() + WAIT;
        loop {
            match zk.create(&path, b"x", &persistent).await {
                Ok(_) | Err(zookeeper_client::Error::NodeExists) => break,
                Err(e) => assert!(Instant::now() < deadline, "{what}: the ensemble never took a write: {e}"),
            }
            tokio::time::sleep(POLL).await;
        }
        let seen = self
            .console
            .pump_until(WAIT, |a| {
                a.session() == SessionBadge::Connected
                    && a.stale_since().is_none()
                    && a.tree()
                        .node(ROOT)
                        .is_some_and(|n| n.children.as_ref().is_some_and(|c| c.contains(&path[ROOT.len() + 1..])))
            })
            .await;
        assert!(
            seen,
            "{what}: the console is not live again (badge {:?}, stale since {:?}, {path} shown: {})",
            self.console.app.session(),
            self.console.app.stale_since(),
            self.console.app.tree().node(&path).is_some()
        );
        let at = Instant::now();
        let status = self.status();
        assert_member_shown(&mut self.console, &status, what).await;
        at
    }

    /// The console answers keys: the help opens and closes, and a frame draws.
    pub async fn assert_responsive(&mut self, what: &str) {
        use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
        let key = |c| Event::Key(KeyEvent::new(c, KeyModifiers::NONE));
        self.console.send(key(KeyCode::Char('?')));
        let opened = self.console.pump_until(Duration::from_secs(5), |a| a.overlay().is_some()).await;
        assert!(opened, "{what}: the help did not open: the console does not answer keys");
        self.console.send(key(KeyCode::Esc));
        let closed = self.console.pump_until(Duration::from_secs(5), |a| a.overlay().is_none()).await;
        assert!(closed, "{what}: the help did not close");
        self.console.draw();
    }

    /// Waits until every agent has published a probe finished after `since` (wall clock).
    pub async fn wait_agents_publishing(&self, since: SystemTime, what: &str) -> Instant {
        let since_ms = since.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
        let zk = self.client().await;
        let deadline = Instant::now() + WAIT;
        loop {
            let mut fresh = 0;
            for n in NODES {
                if let Ok((data, _)) = zk.get_data(&self.paths.node(n)).await {
                    if let ParsedStatus::Ok(s) = parse_status(&data) {
                        if s.observed_at_ms > since_ms {
                            fresh += 1;
                        }
                    }
                }
            }
            if fresh == NODES.len() {
                return Instant::now();
            }
            assert!(Instant::now() < deadline, "{what}: only {fresh} of the agents published after the fault");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The header names the member the console's session is on, as that member itself says (its
/// `cons` lists the session).
pub async fn assert_member_shown(console: &mut Headless, status: &sandbox::SandboxStatus, what: &str) {
    let session = console.session_id().expect("a session");
    let deadline = Instant::now() + WAIT;
    let member = loop {
        if let Some(m) = sandbox::zk_member_of_session(status, session).await {
            break format!("{}:{}", m.host, m.port);
        }
        assert!(Instant::now() < deadline, "{what}: no member lists session {session:#x}");
        tokio::time::sleep(POLL).await;
    };
    let shown = console.pump_until(WAIT, |a| a.shared().session_member.as_deref() == Some(member.as_str())).await;
    assert!(shown, "{what}: on {member}, the console says {:?}", console.app.shared().session_member);
    console.draw();
    let screen = console.screen();
    let header = screen.lines().next().unwrap_or_default();
    assert!(header.contains(&format!("connected {member}")), "{what}: the header does not name {member}:\n{screen}");
}

pub fn node_status<'a>(a: &'a App, node: &str) -> Option<&'a NodeStatus> {
    a.clusters().view.as_ref()?.node(node)?.status.as_ref()
}

fn signal(server: &ZkServer, sig: i32) {
    let pid = server.pid.expect("member pid") as i32;
    // SAFETY: kill(2) on a ZooKeeper member this test's sandbox started.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "signal {sig} to member {}", server.id);
}

/// What losing quorum cost.
#[derive(Debug, Clone)]
pub struct QuorumFigures {
    /// Kill of two members → the console shows it is disconnected.
    pub noticed: Duration,
    /// `myzoo status` while there is no quorum (it answers 3, unknown).
    pub status_took: Duration,
    /// Members restarted → the console is live again (connected, showing a new change).
    pub console_live: Duration,
    /// Members restarted → every agent has published again.
    pub agents_publishing: Duration,
    /// Members restarted → a bare zookeeper-client session (polling every 5 ms) reads again:
    /// the floor for `console_live`.
    pub peer_live: Duration,
}

/// Polls every 5 ms until `peer` is connected and reads [`ROOT`], opening a new session on
/// `access` once the old one is over (as the console does); how long that took from `from`.
async fn peer_reads(peer: Client, access: ZkAccess, from: Instant) -> Duration {
    let deadline = Instant::now() + WAIT;
    let mut current = Some(peer);
    loop {
        match current.as_ref() {
            Some(p) if p.state_watcher().peek_state().is_terminated() => current = None,
            Some(p) => {
                if p.state_watcher().peek_state() == zookeeper_client::SessionState::SyncConnected
                    && p.get_data(ROOT).await.is_ok()
                {
                    return from.elapsed();
                }
            }
            None => {
                if let Ok(Ok(fresh)) = tokio::time::timeout(Duration::from_secs(2), access.connect_eagerly()).await {
                    current = Some(fresh);
                    continue;
                }
            }
        }
        assert!(Instant::now() < deadline, "the peer never read {ROOT} again");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Two of three members killed, quorum lost for `hold`, then both started again.
pub async fn quorum_lost(rig: &mut Rig, hold: Duration) -> QuorumFigures {
    rig.wait_live("before the quorum loss").await;
    let status = rig.status();
    let leader = sandbox::zk_leader(&status).await.expect("a leader");
    let peer_access = ZkAccess::new(members(&status), SESSION_TIMEOUT);
    let peer = peer_access.connect().await.expect("peer session");
    let follower = status.zk_servers.iter().find(|s| s.id != leader.id).expect("a follower").clone();
    let killed_at = Instant::now();
    signal(&leader, libc::SIGKILL);
    signal(&follower, libc::SIGKILL);

    let noticed = rig.console.pump_until(WAIT, |a| a.session() != SessionBadge::Connected).await;
    assert!(noticed, "quorum lost: the console still says connected");
    let noticed = killed_at.elapsed();
    rig.assert_responsive("quorum lost").await;
    rig.console.draw();
    let screen = rig.console.screen();
    assert!(screen.contains("stale since"), "quorum lost: the data is not marked stale:\n{screen}");

    let (code, status_took, text) = rig.myzoo_status(&members(&status));
    assert_eq!(code, 3, "quorum lost: myzoo status must answer unknown:\n{text}");
    let bound = Duration::from_millis(myzoo::commands::status::ANSWER_TIMEOUT_MS) + STATUS_SLACK;
    assert!(status_took < bound, "quorum lost: myzoo status took {status_took:?}, more than {bound:?}");

    // Keep quorum lost for `hold`, pumping the console all along (it must not freeze).
    while killed_at.elapsed() < hold {
        let _ = rig.console.pump_until(Duration::from_millis(500), |_| false).await;
        assert_ne!(rig.console.app.session(), SessionBadge::Connected, "connected without a quorum");
    }
    rig.assert_responsive("quorum lost for the whole hold").await;

    let restarted_wall = SystemTime::now();
    let restarted = Instant::now();
    sandbox::restart_zk(rig.state_dir(), leader.id).await.expect("restart the old leader");
    sandbox::restart_zk(rig.state_dir(), follower.id).await.expect("restart the follower");
    let peer = tokio::spawn(peer_reads(peer, peer_access, restarted));
    let live = rig.wait_live("quorum regained").await;
    let agents = rig.wait_agents_publishing(restarted_wall, "quorum regained").await;
    QuorumFigures {
        noticed,
        status_took,
        console_live: live.duration_since(restarted),
        agents_publishing: agents.duration_since(restarted),
        peer_live: peer.await.expect("peer task"),
    }
}

/// What an expired session cost.
#[derive(Debug, Clone)]
pub struct ExpiryFigures {
    /// Member thawed → a console on that member alone is live on a new session.
    pub console_live: Duration,
    /// `myzoo status` on the frozen member alone (it answers 3, unknown).
    pub status_took: Duration,
    /// Member thawed → a bare zookeeper-client whose session expired too has a new session
    /// that reads (polling every 5 ms): the floor for `console_live`.
    pub peer_live: Duration,
}

/// A console connected to one member only; that member frozen (`SIGSTOP`) past the session
/// timeout, so the rest of the ensemble expires the session; then thawed.
pub async fn session_expired(rig: &mut Rig) -> ExpiryFigures {
    let status = rig.status();
    let member = status.zk_servers[0].clone();
    let only = format!("127.0.0.1:{}", member.port);
    let mut console = Headless::start(super::app_opts((160, 50), ROOT), ZkAccess::new(only.clone(), SESSION_TIMEOUT))
        .expect("a console on one member");
    let loaded = console
        .pump_until(WAIT, |a| {
            a.session() == SessionBadge::Connected && a.tree().node(ROOT).is_some_and(|n| n.children.is_some())
        })
        .await;
    assert!(loaded, "the single-member console never loaded");
    let generation = console.app.generation();
    let peer = ZkAccess::new(only.clone(), SESSION_TIMEOUT).connect().await.expect("peer session");

    let frozen_wall = SystemTime::now();
    signal(&member, libc::SIGSTOP);
    let thaw = Thaw(member.pid.expect("member pid") as i32);
    let noticed = console.pump_until(WAIT, |a| a.session() != SessionBadge::Connected).await;
    assert!(noticed, "frozen member: the console still says connected");
    let (code, status_took, text) = rig.myzoo_status(&only);
    assert_eq!(code, 3, "frozen member: myzoo status must answer unknown:\n{text}");
    // Past the session timeout, with time for the others to elect a leader if it was theirs.
    let hold = SESSION_TIMEOUT * 2 + Duration::from_secs(3);
    let held = Instant::now();
    while held.elapsed() < hold {
        let _ = console.pump_until(Duration::from_millis(500), |_| false).await;
    }
    // The agents, on the whole ensemble, kept publishing while one member was frozen.
    rig.wait_agents_publishing(frozen_wall, "one member frozen").await;
    drop(thaw);
    let thawed = Instant::now();
    // The old session is expired: the peer opens a new one, as the console does.
    let peer_task = tokio::spawn(peer_reads(peer, ZkAccess::new(only.clone(), SESSION_TIMEOUT), thawed));

    let renewed =
        console.pump_until(WAIT, |a| a.generation() > generation && a.session() == SessionBadge::Connected).await;
    assert!(
        renewed,
        "after the expiry the console has no new session (generation {} → {}, badge {:?})",
        generation,
        console.app.generation(),
        console.app.session()
    );
    let path = format!("{ROOT}/after-expiry");
    let zk = rig.client().await;
    zk.create(&path, b"x", &CreateMode::Persistent.with_acls(Acls::anyone_all())).await.expect("a change");
    let seen = console.pump_until(WAIT, |a| a.tree().node(&path).is_some() && a.stale_since().is_none()).await;
    assert!(seen, "after the expiry the console never showed a new change");
    let console_live = thawed.elapsed();
    assert_member_shown(&mut console, &status, "after the expiry").await;
    console.shutdown().await;
    ExpiryFigures { console_live, status_took, peer_live: peer_task.await.expect("peer task") }
}

/// Sends `SIGCONT` on drop, so a failed assertion never leaves a member frozen.
pub struct Thaw(pub i32);

impl Drop for Thaw {
    fn drop(&mut self) {
        // SAFETY: kill(2) on a process this test froze.
        unsafe { libc::kill(self.0, libc::SIGCONT) };
    }
}

/// What a hung MySQL server cost.
#[derive(Debug, Clone)]
pub struct HangFigures {
    /// Freeze → the console shows the node unreachable with the reason.
    pub shown: Duration,
    /// Thaw → the console shows it reachable again.
    pub recovered: Duration,
    pub reason: String,
}

/// `SIGSTOP` of a replica's MariaDB server: its probes time out, the console stays live and
/// says why; thawed, it comes back.
pub async fn mysql_hang(rig: &mut Rig, node: &str) -> HangFigures {
    let pid = rig.sb.mysql_pid(node);
    let frozen = Instant::now();
    // SAFETY: kill(2) on a MariaDB server this test's sandbox started; `thaw` sends SIGCONT.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0, "SIGSTOP {node}");
    let thaw = Thaw(pid);
    let down = rig.console.pump_until(WAIT, |a| node_status(a, node).is_some_and(|s| !s.reachable)).await;
    assert!(down, "hung {node}: never shown unreachable");
    let shown = frozen.elapsed();
    let reason = node_status(&rig.console.app, node).and_then(|s| s.error.clone()).unwrap_or_default();
    assert!(
        reason.contains("no answer") || reason.contains("timed out"),
        "hung {node}: the reason is not a timeout: {reason:?}"
    );
    rig.assert_responsive("a MySQL server hung").await;
    rig.console.draw();
    let screen = rig.console.screen();
    assert!(screen.contains(node), "{screen}");
    // The other nodes are still probed and shown (one hung server does not stall the rest).
    let others_fresh = rig
        .console
        .pump_until(WAIT, |a| {
            NODES.iter().filter(|n| **n != node).all(|n| node_status(a, n).is_some_and(|s| s.reachable))
        })
        .await;
    assert!(others_fresh, "hung {node}: the other nodes are not shown reachable");
    drop(thaw);
    let thawed = Instant::now();
    let back = rig.console.pump_until(WAIT, |a| node_status(a, node).is_some_and(|s| s.reachable)).await;
    assert!(back, "thawed {node}: never shown reachable again");
    HangFigures { shown, recovered: thawed.elapsed(), reason }
}
