//! Reconnects within the same ZooKeeper session, on a real three-member ensemble: the console
//! and the agents stay live after the member they are connected to is killed, after the leader
//! is killed, and after their member is frozen (`SIGSTOP`) for less than the session timeout.
//! Every change below is made *after* the client moved to another member, so it can only be
//! seen through the re-sent watch (vendor/zookeeper-client/PATCH.md) or the re-read on reconnect.

mod common;

use std::time::{Duration, Instant};

use myzoo::cluster::status::{
    parse_status, AgentInfo, Endpoint, Flavor, Gtid, NodeStatus, ParsedStatus, ServerRole, STATUS_SCHEMA,
};
use myzoo::cluster::ClusterPaths;
use myzoo::console::headless::Headless;
use myzoo::sandbox::{self, SandboxOptions, SandboxStatus, ZkServer};
use myzoo::zk::SessionBadge;
use zookeeper_client::{Acls, Client, CreateMode};

const ROOT: &str = "/myzoo";
const CLUSTER: &str = "live";
/// The console's session timeout: long enough to move to another member while one is frozen.
const SESSION_TIMEOUT: Duration = Duration::from_secs(8);
/// How long a member stays frozen at most: well inside the session timeout.
const FREEZE: Duration = Duration::from_secs(6);
/// Longest any state below may take to arrive (elections and reconnects included).
const WAIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(50);

fn ensemble(with_mysql: bool) -> SandboxOptions {
    SandboxOptions { zk_ensemble: 3, ..common::Sandbox::options(with_mysql) }
}

fn node_status(node: &str, gtid_seq: u64) -> Vec<u8> {
    let status = NodeStatus {
        schema: STATUS_SCHEMA,
        cluster: CLUSTER.into(),
        node: node.into(),
        observed_at_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64),
        agent: AgentInfo {
            host: "test".into(),
            pid: 1,
            version: "test".into(),
            interval_ms: 1000,
            heartbeat_ms: 5000,
            http: None,
        },
        server: Endpoint { host: "127.0.0.1".into(), port: 3306 },
        reachable: true,
        error: None,
        flavor: Some(Flavor::Mariadb),
        version: Some("10.11".into()),
        server_id: None,
        role: ServerRole::Primary,
        read_only: Some(false),
        gtid: Gtid { current: Some(format!("0-1-{gtid_seq}")), ..Gtid::default() },
        replication: None,
        semi_sync: None,
        uptime_s: None,
        threads_connected: None,
        qps: None,
        heartbeat_lag_ms: None,
        primary_seen: None,
        fenced: None,
        tls: None,
    };
    serde_json::to_vec(&status).expect("status json")
}

/// A client on the whole ensemble; it finds a live member by itself.
async fn client(status: &SandboxStatus) -> Client {
    Client::connector()
        .with_session_timeout(Duration::from_secs(10))
        .connect(&status.zk)
        .await
        .expect("connect to the ensemble")
}

/// Runs a write from a test client until it gets through: the client itself may be moving
/// to another member after the fault. `ok_err` is an error that means an earlier, lost attempt
/// succeeded (`NodeExists` for a create).
async fn retry<T, F, Fut>(what: &str, ok_err: Option<zookeeper_client::Error>, mut op: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, zookeeper_client::Error>>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        match op().await {
            Ok(_) => return,
            Err(e) if Some(&e) == ok_err.as_ref() => return,
            Err(e @ (zookeeper_client::Error::ConnectionLoss | zookeeper_client::Error::Timeout)) => {
                assert!(Instant::now() < deadline, "{what}: {e}");
                tokio::time::sleep(POLL).await;
            }
            Err(e) => panic!("{what}: {e}"),
        }
    }
}

/// Waits until `session` is served by a member other than `not` (and the ensemble has a
/// leader); returns that member.
async fn wait_moved(status: &SandboxStatus, session: i64, not: u32, what: &str) -> ZkServer {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(m) = sandbox::zk_member_of_session(status, session).await.filter(|m| m.id != not) {
            if sandbox::zk_leader(status).await.is_some() {
                return m;
            }
        }
        assert!(Instant::now() < deadline, "{what}: session {session:#x} never served by another member than {not}");
        tokio::time::sleep(POLL).await;
    }
}

async fn serving(status: &SandboxStatus, session: i64) -> ZkServer {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(m) = sandbox::zk_member_of_session(status, session).await {
            return m;
        }
        assert!(Instant::now() < deadline, "no member lists session {session:#x}");
        tokio::time::sleep(POLL).await;
    }
}

fn signal(server: &ZkServer, sig: i32) {
    let pid = server.pid.expect("member pid") as i32;
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "signal {sig} to member {}", server.id);
}

#[derive(Debug, Clone, Copy)]
enum Fault {
    /// `kill -9` of the member the console is connected to.
    KillConnected,
    /// `kill -9` of the leader (the console's member, or another one).
    KillLeader,
    /// `SIGSTOP` of the console's member until the console has moved away, then `SIGCONT`.
    FreezeConnected,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_stays_live_across_member_faults() {
    let sb = common::Sandbox::start_with(ensemble(false)).await;
    let paths = ClusterPaths::new(ROOT, CLUSTER);
    let other = client(&sb.status).await;
    let persistent = CreateMode::Persistent.with_acls(Acls::anyone_all());
    other.mkdir(&format!("{}/nodes", paths.base()), &persistent).await.expect("cluster folders");
    other.create(&paths.primary(), br#"{"node":"db1","epoch":1}"#, &persistent).await.expect("primary");
    // An "agent" of our own: the node's ephemeral status, changed by the test.
    let agent = client(&sb.status).await;
    let ephemeral = CreateMode::Ephemeral.with_acls(Acls::anyone_all());
    agent.create(&paths.node("db1"), &node_status("db1", 1), &ephemeral).await.expect("node status");

    let mut h = Headless::start(common::app_opts((120, 40), ROOT), sb.session(SESSION_TIMEOUT)).expect("console");
    let gtid = |a: &myzoo::console::app::App| {
        a.clusters().view.as_ref().and_then(|v| v.node("db1")).and_then(|n| n.status.as_ref()?.gtid.current.clone())
    };
    assert!(h.pump_until(WAIT, |a| gtid(a).as_deref() == Some("0-1-1")).await, "cluster screen never showed db1");
    assert!(h.pump_until(WAIT, |a| a.tree().node(ROOT).is_some_and(|n| n.children.is_some())).await, "root not loaded");

    for (round, fault) in [Fault::KillConnected, Fault::KillLeader, Fault::FreezeConnected].into_iter().enumerate() {
        let session = h.session_id().expect("console session");
        let reloads = h.app.reloads();
        let status = sandbox::status(sb.dir.path()).expect("sandbox status");
        let connected = serving(&status, session).await;
        let victim = match fault {
            Fault::KillConnected | Fault::FreezeConnected => connected.clone(),
            Fault::KillLeader => sandbox::zk_leader(&status).await.expect("a leader"),
        };
        let moved = match fault {
            Fault::KillConnected | Fault::KillLeader => {
                signal(&victim, libc::SIGKILL);
                wait_moved(&status, session, victim.id, &format!("{fault:?}")).await;
                true
            }
            Fault::FreezeConnected => {
                // Frozen for less than the session timeout (the session must survive it): the
                // console usually moves to another member meanwhile; on a loaded machine it may
                // not get to, and then it is back on the thawed member. Either way it must be
                // live afterwards.
                signal(&victim, libc::SIGSTOP);
                let moved =
                    tokio::time::timeout(FREEZE, wait_moved(&status, session, victim.id, &format!("{fault:?}"))).await;
                signal(&victim, libc::SIGCONT);
                moved.is_ok()
            }
        };
        assert_eq!(h.session_id(), Some(session), "{fault:?}: the session must survive (a reconnect, not a new one)");
        if moved {
            // The console noticed the reconnect and its re-read is done: from here on, only
            // the watch can tell it about changes.
            let reread = h
                .pump_until(WAIT, |a| {
                    a.reloads() > reloads && a.tree().node(ROOT).is_some_and(|n| !n.loading && n.children.is_some())
                })
                .await;
            assert!(reread, "{fault:?}: the console never re-read after the reconnect (reloads {})", h.app.reloads());
        } else {
            eprintln!("{fault:?}: the console stayed on its member through the freeze");
            serving(&status, session).await;
        }
        assert_eq!(h.app.generation(), 1, "{fault:?}: a reconnect within the session, not a new session");

        // Made after the console moved: only a live watch (or the re-read) can show them.
        let created = format!("{ROOT}/after-{round}");
        retry("create after the fault", Some(zookeeper_client::Error::NodeExists), || {
            other.create(&created, b"x", &persistent)
        })
        .await;
        let seq = round as u64 + 2;
        let data = node_status("db1", seq);
        retry("status change", None, || agent.set_data(&paths.node("db1"), &data, None)).await;
        let want = format!("0-1-{seq}");
        let seen = h
            .pump_until(WAIT, |a| a.tree().node(&created).is_some() && gtid(a).as_deref() == Some(want.as_str()))
            .await;
        assert!(
            seen,
            "{fault:?}: after the reconnect the console never showed {created} (shown: {}) and db1 at {want} (shown: \
             {:?})",
            h.app.tree().node(&created).is_some(),
            gtid(&h.app)
        );
        assert_eq!(h.app.session(), SessionBadge::Connected);
        assert!(h.app.watch_silent_since().is_none(), "{fault:?}: silent-watch warning while events flow");

        if matches!(fault, Fault::KillConnected | Fault::KillLeader) {
            sandbox::restart_zk(sb.dir.path(), victim.id).await.expect("restart the killed member");
        }
    }
    h.shutdown().await;
}

/// Polls the agent's status until `pred` holds.
async fn wait_status(zk: &Client, path: &str, what: &str, pred: impl Fn(&NodeStatus) -> bool) -> NodeStatus {
    let deadline = Instant::now() + WAIT;
    loop {
        let seen = match zk.get_data(path).await {
            Ok((data, _)) => match parse_status(&data) {
                ParsedStatus::Ok(s) => Some(*s),
                _ => None,
            },
            Err(_) => None,
        };
        if let Some(s) = seen.as_ref().filter(|s| pred(s)) {
            return s.clone();
        }
        assert!(Instant::now() < deadline, "{what} never happened; last status: {seen:#?}");
        tokio::time::sleep(POLL).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_keeps_its_znode_and_follows_the_primary_record_after_its_member_dies() {
    let opts = SandboxOptions {
        seed: true,
        agent_binary: Some(env!("CARGO_BIN_EXE_myzoo").into()),
        agent_interval_ms: 250,
        agent_session_timeout_ms: Some(SESSION_TIMEOUT.as_millis() as u64),
        ..ensemble(true)
    };
    let sb = common::Sandbox::start_with(opts).await;
    let paths = ClusterPaths::new(ROOT, sandbox::CLUSTER);
    let zk = client(&sb.status).await;
    let node = paths.node("db2");

    let before = wait_status(&zk, &node, "db2 registered and seeing the primary record", |s| {
        s.primary_seen.as_ref().is_some_and(|p| p.node == "db1")
    })
    .await;
    let epoch = before.primary_seen.as_ref().map(|p| p.epoch).expect("epoch");
    let (_, stat) = zk.get_data(&node).await.expect("db2 znode");
    let session = stat.ephemeral_owner;

    let status = sandbox::status(sb.dir.path()).expect("sandbox status");
    let member = serving(&status, session).await;
    signal(&member, libc::SIGKILL);
    wait_moved(&status, session, member.id, "agent db2").await;

    // Changed after the agent moved to another member.
    let record = format!(r#"{{"node":"db1","epoch":{}}}"#, epoch + 1);
    retry("primary record change", None, || zk.set_data(&paths.primary(), record.as_bytes(), None)).await;
    wait_status(&zk, &node, "db2 publishing the new epoch", |s| {
        s.primary_seen.as_ref().is_some_and(|p| p.epoch == epoch + 1)
    })
    .await;

    let (_, after) = zk.get_data(&node).await.expect("db2 znode after the kill");
    assert_eq!(after.ephemeral_owner, session, "the znode must still belong to the same session");
    assert_eq!(after.czxid, stat.czxid, "the znode must not have been re-created");
    let log = std::fs::read_to_string(sb.dir.path().join("agent-db2").join("agent.log")).expect("agent log");
    assert!(
        log.lines().any(|l| l.contains("reconnected within the same session; reading it again")
            && l.contains(&format!("path={}", paths.primary()))),
        "the agent's log does not say it re-read the primary record after the reconnect:\n{log}"
    );
}
