//! `myzoo agent` against a real sandbox (ZooKeeper plus a MariaDB primary and two replicas, one
//! agent process per server): registration with a full status, removal on SIGTERM by the agent
//! itself and on SIGKILL after the session timeout, a killed server reported down and back,
//! heartbeat lag following a stopped SQL thread, and a broken replication shown with its error.
//!
//! Bounds here are generous (a loaded two-core machine must not fail them); how fast things
//! happen is measured in `benches/cluster.rs`. What each check proves does not rest on a tight
//! bound: see [`HEARTBEAT_MS`] and the SIGTERM check.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use myzoo::cluster::status::{parse_status, NodeStatus, ParsedStatus, ServerRole};
use myzoo::cluster::ClusterPaths;
use myzoo::sandbox::{self, SandboxOptions, SandboxStatus};
use zookeeper_client::{Acls, Client, CreateMode};

/// Probe interval of the test agents: short, so the tests are quick.
const INTERVAL_MS: u64 = 250;
/// Session timeout of the test agents (the sandbox's ZooKeeper allows down to 1 s).
const SESSION_TIMEOUT_MS: u64 = 2_000;
/// How often the test agents re-publish an unchanged status: far longer than any wait here, and
/// the waits for a change-driven write keep clear of its wall-clock boundaries
/// ([`clear_of_heartbeat`]), so a status that arrives in time was written because it changed.
const HEARTBEAT_MS: u64 = 600_000;
/// Longest any condition below may take to become true (a liveness bound, not a figure).
const WAIT: Duration = Duration::from_secs(30);
/// Pause between looks at ZooKeeper while polling.
const POLL: Duration = Duration::from_millis(10);

/// The shared test sandbox (stopped on drop) plus a client, with agents and db1 recorded as
/// primary by hand.
struct Sandbox {
    inner: common::Sandbox,
    status: SandboxStatus,
    zk: Client,
}

impl Sandbox {
    async fn start() -> Sandbox {
        let opts = SandboxOptions {
            agent_binary: Some(env!("CARGO_BIN_EXE_myzoo").into()),
            agent_interval_ms: INTERVAL_MS,
            agent_session_timeout_ms: Some(SESSION_TIMEOUT_MS),
            agent_heartbeat_ms: Some(HEARTBEAT_MS),
            ..common::Sandbox::options(true)
        };
        let inner = common::Sandbox::start_with(opts).await;
        let status = inner.status.clone();
        let zk = Client::connect(&status.zk).await.expect("connect to ZooKeeper");
        // Unseeded: record db1 as primary ourselves. The agents are already running, so this
        // also proves they follow the znode through a watch.
        let paths = ClusterPaths::new("/myzoo", sandbox::CLUSTER);
        let persistent = CreateMode::Persistent.with_acls(Acls::anyone_all());
        zk.mkdir(&paths.base(), &persistent).await.expect("cluster folder");
        zk.create(&paths.primary(), br#"{"node":"db1","epoch":1}"#, &persistent).await.expect("primary record");
        Sandbox { inner, status, zk }
    }

    fn path(&self, node: &str) -> String {
        ClusterPaths::new("/myzoo", sandbox::CLUSTER).node(node)
    }

    fn port(&self, node: &str) -> u16 {
        self.status.mysql.iter().find(|m| m.name == node).expect("server").port
    }

    fn agent_pid(&self, node: &str) -> u32 {
        self.status.agents.iter().find(|a| a.name == node).and_then(|a| a.pid).expect("agent pid")
    }

    fn state(&self) -> &Path {
        self.inner.dir.path()
    }

    async fn read(&self, node: &str) -> Option<NodeStatus> {
        match self.zk.get_data(&self.path(node)).await {
            Ok((data, _)) => match parse_status(&data) {
                ParsedStatus::Ok(s) => Some(*s),
                other => panic!("{node}: status does not parse: {other:?}"),
            },
            Err(zookeeper_client::Error::NoNode) => None,
            Err(e) => panic!("reading {node}: {e}"),
        }
    }

    /// Polls `node`'s znode until `pred` holds; panics with the last status seen after [`WAIT`].
    async fn wait_for(&self, node: &str, what: &str, pred: impl Fn(&NodeStatus) -> bool) -> NodeStatus {
        self.wait_for_within(node, what, WAIT, pred).await
    }

    async fn wait_for_within(
        &self,
        node: &str,
        what: &str,
        within: Duration,
        pred: impl Fn(&NodeStatus) -> bool,
    ) -> NodeStatus {
        let deadline = Instant::now() + within;
        loop {
            let seen = self.read(node).await;
            if let Some(s) = seen.as_ref().filter(|s| pred(s)) {
                return s.clone();
            }
            assert!(
                Instant::now() < deadline,
                "{node}: {what} never happened within {within:?}; last status: {seen:#?}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Polls until the znode is gone; returns how long that took.
    async fn wait_gone(&self, node: &str, since: Instant, within: Duration) -> Duration {
        loop {
            if self.zk.check_stat(&self.path(node)).await.expect("check_stat").is_none() {
                return since.elapsed();
            }
            assert!(since.elapsed() < within, "{node}: znode still there after {within:?}");
            tokio::time::sleep(POLL).await;
        }
    }

    async fn admin(&self, node: &str) -> mysql_async::Conn {
        let creds = sandbox::credentials(self.state()).expect("credentials");
        sandbox::mariadb::connect_as(self.port(node), &creds.admin).await.expect("admin connection")
    }
}

fn signal(pid: u32, sig: libc::c_int) {
    // SAFETY: kill(2) on a pid this test's sandbox started.
    let rc = unsafe { libc::kill(pid as libc::pid_t, sig) };
    assert_eq!(rc, 0, "kill({pid}, {sig}) failed");
}

/// Returns once the next wall-clock boundary of the agents' slow heartbeat is more than
/// `window` away (sleeping past it if need be), so nothing written within `window` from now is
/// a heartbeat.
async fn clear_of_heartbeat(window: Duration) {
    let period = Duration::from_millis(HEARTBEAT_MS);
    let until = myzoo::agent::publisher::until_next_boundary(std::time::SystemTime::now(), period);
    if until <= window {
        eprintln!("waiting {until:?} for the heartbeat boundary to pass");
        tokio::time::sleep(until + Duration::from_secs(1)).await;
    }
}

fn replication_ok(s: &NodeStatus) -> bool {
    s.replication.as_ref().is_some_and(|r| r.io_ok() && r.sql_ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_register_with_the_servers_status() {
    let sb = Sandbox::start().await;
    let primary = sb.wait_for("db1", "reachable primary", |s| s.reachable && s.role == ServerRole::Primary).await;
    assert_eq!(primary.read_only, Some(false));
    assert!(primary.gtid.current.as_deref().is_some_and(|g| g.starts_with("0-1-")), "{:?}", primary.gtid);
    assert!(primary.gtid.binlog.is_some());
    assert_eq!(primary.replication, None);
    assert_eq!(primary.heartbeat_lag_ms, None);
    assert_eq!(primary.agent.interval_ms, INTERVAL_MS);
    assert_eq!(primary.agent.pid, sb.agent_pid("db1"));
    assert_eq!(primary.server.port, sb.port("db1"));
    assert!(primary.version.as_deref().is_some_and(|v| v.contains("MariaDB")));
    assert!(primary.uptime_s.is_some() && primary.threads_connected.is_some());

    for node in ["db2", "db3"] {
        let s = sb
            .wait_for(node, "replica with heartbeat lag", |s| {
                s.reachable && s.role == ServerRole::Replica && s.heartbeat_lag_ms.is_some()
            })
            .await;
        assert_eq!(s.read_only, Some(true));
        let r = s.replication.as_ref().expect("replication");
        assert_eq!((r.io_running.as_str(), r.sql_running.as_str()), ("Yes", "Yes"));
        assert_eq!(r.source_port, sb.port("db1"));
        assert_eq!(r.using_gtid, "Slave_Pos");
        assert!(s.gtid.slave.as_deref().is_some_and(|g| g.starts_with("0-1-")), "{:?}", s.gtid);
        assert!(s.heartbeat_lag_ms.is_some_and(|l| (0..5_000).contains(&l)), "{:?}", s.heartbeat_lag_ms);
    }

    // The heartbeat row is the primary agent's, and it reached the replicas.
    let mut conn = sb.admin("db2").await;
    let row: Option<(String, u32)> =
        conn.query_first("SELECT node, server_id FROM myzoo.heartbeat WHERE id = 1").await.unwrap();
    assert_eq!(row, Some(("db1".to_string(), 1)));
    conn.disconnect().await.unwrap();

    // `down` stops the agents too.
    let pids: Vec<u32> = ["db1", "db2", "db3"].iter().map(|n| sb.agent_pid(n)).collect();
    assert_eq!(sandbox::status(sb.state()).unwrap().agents.iter().filter(|a| a.pid.is_some()).count(), 3);
    sandbox::down(sb.state()).await.unwrap();
    for pid in pids {
        assert!(!Path::new(&format!("/proc/{pid}")).exists(), "agent {pid} survived down");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_removes_at_once_a_lost_session_re_registers_sigkill_expires() {
    let sb = Sandbox::start().await;
    sb.wait_for("db3", "registered", |s| s.reachable).await;
    sb.wait_for("db2", "registered", |s| s.reachable).await;

    // SIGTERM: the agent deletes its znode and closes its session *before* it exits, so once
    // it has exited (with status 0) the znode must already be gone. An agent that merely died
    // would leave it to the session's expiry, SESSION_TIMEOUT_MS later, and fail here — no
    // matter how slow the machine.
    let killed = Instant::now();
    signal(sb.agent_pid("db3"), libc::SIGTERM);
    let status = common::wait_exited(sb.agent_pid("db3") as i32, WAIT).await;
    assert!(common::exited_ok(status), "agent exit status {status:#x}");
    assert!(sb.read("db3").await.is_none(), "the agent exited but left its znode to the session's expiry");
    eprintln!("SIGTERM: exited, znode gone, after {:?}", killed.elapsed());
    let log = sandbox::agents::agent_log(sb.state(), "db3");
    let deadline = Instant::now() + WAIT;
    while !std::fs::read_to_string(&log).unwrap_or_default().contains("agent stopped") {
        assert!(Instant::now() < deadline, "agent did not stop cleanly:\n{}", std::fs::read_to_string(&log).unwrap());
        tokio::time::sleep(POLL).await;
    }

    // A frozen agent loses its session; thawed, it opens a new one and registers again.
    sb.wait_for("db1", "registered", |s| s.reachable).await;
    let (_, before) = sb.zk.get_data(&sb.path("db1")).await.unwrap();
    signal(sb.agent_pid("db1"), libc::SIGSTOP);
    let frozen = Instant::now();
    sb.wait_gone("db1", frozen, WAIT).await;
    signal(sb.agent_pid("db1"), libc::SIGCONT);
    sb.wait_for("db1", "registered again", |s| s.reachable).await;
    let (_, after) = sb.zk.get_data(&sb.path("db1")).await.unwrap();
    assert_ne!(after.ephemeral_owner, before.ephemeral_owner, "not a new session");
    eprintln!("SIGSTOP/SIGCONT: registered again {:?} after the freeze began", frozen.elapsed());

    let killed = Instant::now();
    signal(sb.agent_pid("db2"), libc::SIGKILL);
    assert!(sb.read("db2").await.is_some(), "znode vanished right after SIGKILL");
    let took = sb.wait_gone("db2", killed, WAIT).await;
    eprintln!("SIGKILL: znode gone after {took:?} (session timeout {SESSION_TIMEOUT_MS} ms)");
    assert!(took >= Duration::from_millis(SESSION_TIMEOUT_MS / 2), "gone too early for a session expiry: {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_is_reported_down_then_back() {
    let sb = Sandbox::start().await;
    sb.wait_for("db2", "replicating", |s| s.reachable && replication_ok(s)).await;

    let mysqld = sb.status.mysql[1].pid.expect("db2 pid");
    // Reported within REPORT_WAIT with no heartbeat due in it: the agent wrote because the
    // status changed, not because a heartbeat came round (how fast: benches/cluster.rs).
    const REPORT_WAIT: Duration = Duration::from_secs(20);
    clear_of_heartbeat(REPORT_WAIT).await;
    let killed = Instant::now();
    signal(mysqld, libc::SIGKILL);
    let down = sb.wait_for_within("db2", "reported down", REPORT_WAIT, |s| !s.reachable).await;
    let took = killed.elapsed();
    eprintln!("kill -9: reported down after {took:?} (interval {INTERVAL_MS} ms)");
    assert!(down.error.as_deref().is_some_and(|e| !e.is_empty()), "{down:#?}");
    assert_eq!(down.role, ServerRole::Unknown);
    assert_eq!(down.replication, None);

    // The znode stays while the agent lives: it says the server is down, and keeps saying so.
    tokio::time::sleep(Duration::from_millis(3 * INTERVAL_MS)).await;
    assert!(sb.read("db2").await.is_some_and(|s| !s.reachable));

    sandbox::restart_mysql(sb.state(), "db2").await.unwrap();
    let back = sb.wait_for("db2", "back and replicating", |s| s.reachable && replication_ok(s)).await;
    assert_eq!(back.role, ServerRole::Replica);
    assert_eq!(back.error, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeat_lag_follows_the_sql_thread_and_broken_replication_shows() {
    let sb = Sandbox::start().await;
    sb.wait_for("db2", "replicating with lag", |s| replication_ok(s) && s.heartbeat_lag_ms.is_some()).await;
    let mut primary = sb.admin("db1").await;
    let mut replica = sb.admin("db2").await;

    replica.query_drop("STOP SLAVE SQL_THREAD").await.unwrap();
    let stopped = Instant::now();
    primary.query_drop("CREATE TABLE myzoo_sandbox.w (id INT PRIMARY KEY)").await.unwrap();
    for i in 0..5 {
        primary.query_drop(format!("INSERT INTO myzoo_sandbox.w VALUES ({i})")).await.unwrap();
    }
    let lagging = sb.wait_for("db2", "lag over 1 s", |s| s.heartbeat_lag_ms.is_some_and(|l| l > 1_000)).await;
    eprintln!("SQL thread stopped: lag {:?} ms published after {:?}", lagging.heartbeat_lag_ms, stopped.elapsed());
    assert_eq!(lagging.replication.as_ref().map(|r| r.sql_running.as_str()), Some("No"));
    // The last heartbeat applied may be up to one interval older than the stop.
    let earliest = Duration::from_millis(1_000 - INTERVAL_MS - 100);
    assert!(stopped.elapsed() >= earliest, "lag over 1 s after only {:?}", stopped.elapsed());

    replica.query_drop("START SLAVE SQL_THREAD").await.unwrap();
    let started = Instant::now();
    let caught_up = sb
        .wait_for("db2", "lag back under 500 ms", |s| replication_ok(s) && s.heartbeat_lag_ms.is_some_and(|l| l < 500))
        .await;
    eprintln!("SQL thread started: lag {:?} ms after {:?}", caught_up.heartbeat_lag_ms, started.elapsed());

    // A row only the replica has, then the same key on the primary: duplicate key on the replica.
    replica.query_drop("SET SESSION sql_log_bin = 0").await.unwrap();
    let deadline = Instant::now() + WAIT;
    while replica.query_drop("INSERT INTO myzoo_sandbox.w VALUES (100)").await.is_err() {
        assert!(Instant::now() < deadline, "table w never reached db2");
        tokio::time::sleep(POLL).await;
    }
    primary.query_drop("INSERT INTO myzoo_sandbox.w VALUES (100)").await.unwrap();
    let broken = sb
        .wait_for("db2", "SQL thread stopped by an error", |s| {
            s.replication.as_ref().is_some_and(|r| r.sql_running == "No" && !r.last_sql_error.is_empty())
        })
        .await;
    let r = broken.replication.as_ref().unwrap();
    assert!(r.last_sql_error.contains("Duplicate"), "{}", r.last_sql_error);
    assert_eq!(r.io_running, "Yes");
    assert!(broken.reachable);
    primary.disconnect().await.unwrap();
    replica.disconnect().await.unwrap();
}
