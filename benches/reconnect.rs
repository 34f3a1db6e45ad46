//! Reconnect benchmark on a real three-member ensemble (started here). Run:
//! `cargo bench --bench reconnect`.
//!
//! Each run `kill -9`s the member a session is connected to and, at that moment, another client
//! changes a znode the console shows (retrying until the ensemble takes it). Measured:
//! - console: kill → the headless console (the product's app, session, watch and executor) has
//!   the change (it reconnected within the session, re-read, and its watch is live again);
//! - peer: kill → a bare `zookeeper-client` session, polling every 5 ms, is connected again and
//!   reads the new value (its own reconnect and one read, nothing else): the floor the console's
//!   figure cannot beat. (ZooKeeper does not replay watch events missed while disconnected, so a
//!   bare watch alone would never see a change made during the reconnect.)
//!
//! Runs alternate between killing the console's member and the peer's; the killed member is
//! started again before the next run.

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use std::time::{Duration, Instant};

use myzoo::console::headless::Headless;
use myzoo::sandbox::{self, SandboxOptions, SandboxStatus, ZkServer};
use support::percentile;
use zookeeper_client::{Acls, Client, CreateMode, SessionState};

/// Runs for the console and for the peer each; the killed member is the leader in some of
/// them and a follower in the others, as it happens, and the figures are split by that.
const RUNS_EACH: usize = 10;
const SESSION_TIMEOUT: Duration = Duration::from_secs(8);
const WAIT: Duration = Duration::from_secs(30);
const ROOT: &str = "/bench";
/// The peer's polling step: what its figure may be late by.
const POLL_MS: u64 = 5;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(run());
}

async fn run() {
    let opts = SandboxOptions { zk_ensemble: 3, ..common::Sandbox::options(false) };
    let sb = common::Sandbox::start_with(opts).await;
    let writer = connect(&sb.zk()).await;
    let persistent = CreateMode::Persistent.with_acls(Acls::anyone_all());
    writer.create(ROOT, b"0", &persistent).await.unwrap();

    let mut h = Headless::start(common::app_opts((120, 40), ROOT), sb.session(SESSION_TIMEOUT)).unwrap();
    assert!(h.pump_until(WAIT, |a| a.tree().node(ROOT).is_some()).await, "console never loaded {ROOT}");
    let peer = connect(&sb.zk()).await;

    // [console, peer] × [follower killed, leader killed]
    let mut ms: [[Vec<f64>; 2]; 2] = Default::default();
    for run in 0..RUNS_EACH * 2 {
        let status = sandbox::status(sb.dir.path()).unwrap();
        let value = format!("{run}");
        let console_run = run % 2 == 0;
        let session = if console_run { h.session_id().unwrap() } else { peer.session_id().0 };
        let victim = member_of(&status, session).await;
        let leader = sandbox::zk_leader(&status).await.is_some_and(|l| l.id == victim.id);
        let writer = writer_avoiding(&status, victim.id).await;
        let started = Instant::now();
        unsafe { libc::kill(victim.pid.unwrap() as i32, libc::SIGKILL) };
        // The write goes in as soon as the ensemble takes it (after an election when the
        // victim was the leader).
        while let Err(e) = writer.set_data(ROOT, value.as_bytes(), None).await {
            assert!(started.elapsed() < WAIT, "run {run}: the write never got through: {e}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if console_run {
            let seen = h.pump_until(WAIT, |a| a.tree().node(ROOT).is_some_and(|n| n.data == value.as_bytes())).await;
            assert!(seen, "run {run}: the console never showed the change");
            ms[0][usize::from(leader)].push(started.elapsed().as_secs_f64() * 1e3);
        } else {
            // ZooKeeper does not replay persistent-watch events missed while disconnected, so
            // the peer, like the console, must read again after its reconnect.
            let seen = tokio::time::timeout(WAIT, async {
                loop {
                    if peer.state_watcher().peek_state() == SessionState::SyncConnected {
                        if let Ok((data, _)) = peer.get_data(ROOT).await {
                            if data == value.as_bytes() {
                                break;
                            }
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(POLL_MS)).await;
                }
            })
            .await;
            assert!(seen.is_ok(), "run {run}: the peer's watch never reported the change");
            ms[1][usize::from(leader)].push(started.elapsed().as_secs_f64() * 1e3);
        }
        sandbox::restart_zk(sb.dir.path(), victim.id).await.unwrap();
    }
    println!("reconnect after kill -9 of the connected member (3-member ensemble, session timeout 8 s)");
    let mut medians = [[None; 2]; 2];
    for (who, name) in
        ["console: kill -> the change made at the kill is shown", "peer: kill -> bare client reconnected, reads it"]
            .iter()
            .enumerate()
    {
        for (kind, victim) in ["a follower", "the leader"].iter().enumerate() {
            let v = &mut ms[who][kind];
            if v.is_empty() {
                println!("{name}, {victim} killed: no run");
                continue;
            }
            let (p50, min, max) = (percentile(v, 0.5), percentile(v, 0.0), percentile(v, 1.0));
            medians[who][kind] = Some(p50);
            println!(
                "{name}, {victim} killed: median {p50:.1} ms, min {min:.1} ms, max {max:.1} ms ({} runs)",
                v.len()
            );
        }
    }
    for (kind, victim) in ["a follower", "the leader"].iter().enumerate() {
        if let (Some(c), Some(p)) = (medians[0][kind], medians[1][kind]) {
            println!("console / peer, {victim} killed: {:.2}x", c / p);
        }
    }
    h.shutdown().await;
}

async fn connect(zk: &str) -> Client {
    Client::connector().with_session_timeout(SESSION_TIMEOUT).connect(zk).await.unwrap()
}

/// A client for the change, on a member that survives the kill.
async fn writer_avoiding(status: &SandboxStatus, id: u32) -> Client {
    let others: Vec<String> =
        status.zk_servers.iter().filter(|s| s.id != id).map(|s| format!("{}:{}", s.host, s.port)).collect();
    connect(&others.join(",")).await
}

async fn member_of(status: &SandboxStatus, session: i64) -> ZkServer {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(m) = sandbox::zk_member_of_session(status, session).await {
            return m;
        }
        assert!(Instant::now() < deadline, "no member serves session {session:#x}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
