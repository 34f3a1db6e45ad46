//! Fencing by the agents against a real sandbox, under faults: a primary frozen (`SIGSTOP`)
//! until the coordinator has failed over is made read-only by its own agent as soon as it runs
//! again; a primary whose agent is cut off from ZooKeeper is made read-only by the lease before
//! its session can expire, is not failed over (its server still answers), and is opened again
//! when the agent is back and the record still names it at the same epoch. The tests in this
//! file run one at a time: each starts a whole cluster.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use myzoo::agent::coordinator::read_state;
use myzoo::agent::publisher::PublisherConfig;
use myzoo::agent::{fence, AgentConfig};
use myzoo::cluster::config::PrimaryRecord;
use myzoo::cluster::status::{parse_status, NodeStatus, ParsedStatus};
use myzoo::mysql::Target;
use myzoo::sandbox;
use myzoo::zk::session::RECONNECT_BACKOFF_MAX_MS;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use common::cluster::{automatic, wait_epoch, wait_state, Fixture, INTERVAL_MS, SESSION_TIMEOUT_MS, WAIT};

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Time for one fencing action once the agent decided: a connection, `SET GLOBAL`s, ending the
/// sessions (a loaded 2-core machine included).
const FENCE_SLACK_MS: u64 = 750;
/// Pause between looks while measuring (small against the figures measured).
const POLL_MS: u64 = 20;
/// Longest a look at a server may take.
const LOOK_TIMEOUT_MS: u64 = 500;
/// How long after the bound the "never two writable servers" watch goes on.
const TWO_WRITABLE_WATCH_MS: u64 = 3_000;

fn signal(pid: i32, sig: libc::c_int) {
    // SAFETY: kill(2) on a process the sandbox of this test started.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "kill({pid}, {sig}): {}", std::io::Error::last_os_error());
}

/// Sends `SIGCONT` on drop, so a failing assertion never leaves a stopped mariadbd behind (the
/// sandbox's shutdown could not stop it).
struct Frozen(i32);

impl Frozen {
    fn freeze(pid: i32) -> Frozen {
        signal(pid, libc::SIGSTOP);
        Frozen(pid)
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        // SAFETY: as in `signal`; the result does not matter on the way out.
        unsafe { libc::kill(self.0, libc::SIGCONT) };
    }
}

/// `@@global.read_only` of the server on `port` through a fresh root connection: `None` when it
/// does not answer within [`LOOK_TIMEOUT_MS`] (or the fence ended this very session).
async fn read_only_now(port: u16) -> Option<bool> {
    let look = async {
        let mut c = sandbox::mariadb::connect_root(port).await.ok()?;
        let v: Option<i64> = c.query_first("SELECT @@global.read_only").await.ok()?;
        let _ = c.disconnect().await;
        v.map(|v| v == 1)
    };
    tokio::time::timeout(Duration::from_millis(LOOK_TIMEOUT_MS), look).await.ok().flatten()
}

/// Polls until `node`'s server answers `read_only = want`; returns how long it took.
async fn wait_read_only(fx: &Fixture, node: &str, want: bool, within: Duration) -> Duration {
    let started = Instant::now();
    let port = fx.port(node);
    loop {
        if read_only_now(port).await == Some(want) {
            return started.elapsed();
        }
        assert!(started.elapsed() < within, "{node} not read_only={want} within {within:?}");
        tokio::time::sleep(Duration::from_millis(POLL_MS)).await;
    }
}

async fn status(fx: &Fixture, node: &str) -> Option<NodeStatus> {
    match fx.zk.get_data(&fx.paths.node(node)).await {
        Ok((data, _)) => match parse_status(&data) {
            ParsedStatus::Ok(s) => Some(*s),
            other => panic!("{node}: status does not parse: {other:?}"),
        },
        Err(zookeeper_client::Error::NoNode) => None,
        Err(e) => panic!("reading {node}'s status: {e}"),
    }
}

async fn wait_status(fx: &Fixture, node: &str, what: &str, ok: impl Fn(&NodeStatus) -> bool) -> NodeStatus {
    let deadline = Instant::now() + WAIT;
    loop {
        let s = status(fx, node).await;
        if let Some(s) = s.as_ref().filter(|s| ok(s)) {
            return s.clone();
        }
        assert!(Instant::now() < deadline, "{node}'s agent never published {what}: {s:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every server's `read_only`, for `within`: fails the moment two answer writable.
async fn never_two_writable(fx: &Fixture, within: Duration) {
    let names: Vec<String> = fx.sb.status.mysql.iter().map(|m| m.name.clone()).collect();
    let started = Instant::now();
    let mut looks = 0;
    while started.elapsed() < within {
        let mut writable = Vec::new();
        for n in &names {
            if read_only_now(fx.port(n)).await == Some(false) {
                writable.push(n.clone());
            }
        }
        assert!(writable.len() <= 1, "two writable servers at once: {writable:?}");
        looks += 1;
        tokio::time::sleep(Duration::from_millis(POLL_MS)).await;
    }
    eprintln!("never two writable servers over {within:?} ({looks} looks at every server)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_frozen_primary_is_fenced_by_its_agent_as_soon_as_it_runs_again() {
    let _one = ONE_AT_A_TIME.lock().await;
    let fx = Fixture::start().await;
    automatic(&fx).await;
    wait_state(&fx, "watched the primary", |s| s.mode == "on" && s.reason.contains("up")).await;
    assert_eq!(fx.primary().await, PrimaryRecord { node: "db1".into(), epoch: 1 });

    let frozen_at = Instant::now();
    let frozen = Frozen::freeze(fx.sb.mysql_pid("db1"));
    let record = wait_epoch(&fx, 2).await;
    assert_eq!(record.epoch, 2);
    assert_ne!(record.node, "db1");
    eprintln!("db1 frozen: failover to {} recorded after {} ms", record.node, frozen_at.elapsed().as_millis());

    // db1 runs again, still writable as it was when it froze; its agent (alive all along) sees
    // a writable server that is not the recorded primary.
    drop(frozen);
    let resumed_at = Instant::now();
    // Its next probe, the confirming read of the record, the fence itself.
    let bound = Duration::from_millis(INTERVAL_MS * 2 + fence::CONFIRM_TIMEOUT_MS + FENCE_SLACK_MS);
    let took = wait_read_only(&fx, "db1", true, bound).await;
    eprintln!("db1 read-only {} ms after SIGCONT (bound {} ms)", took.as_millis(), bound.as_millis());

    let s = wait_status(&fx, "db1", "fenced", |s| s.fenced.is_some()).await;
    let why = s.fenced.unwrap_or_default();
    assert!(why.contains("not the recorded primary") && why.contains(&record.node), "{why}");
    eprintln!("db1's agent publishes: fenced = {why:?}");

    // From SIGCONT + bound on, never two writable servers.
    tokio::time::sleep_until((resumed_at + bound).into()).await;
    never_two_writable(&fx, Duration::from_millis(TWO_WRITABLE_WATCH_MS)).await;
    assert_eq!(read_only_now(fx.port(&record.node)).await, Some(false), "the new primary is writable");
}

/// What a cut does to the connections open at the time. New connections are accepted and never
/// forwarded either way (a black hole, like a partition, not a refusal the client would notice
/// at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    /// Closed: the client notices at once.
    Drop,
    /// Kept open, nothing passes (a partition as the network makes it): the client notices only
    /// when its connection timeout (2/5 of the session timeout) runs out.
    Silence,
}

/// A TCP proxy in front of ZooKeeper that can partition its clients (see [`Cut`]); healed,
/// connections held by the cut are forwarded as a healed network would deliver them (silenced
/// ones are closed: their bytes are lost, and the client has given up on them), and new ones
/// pass.
struct Proxy {
    addr: SocketAddr,
    up: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: SocketAddr, cut: Cut) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let (up, up_rx) = watch::channel(true);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(Self::serve(client, upstream, up_rx.clone(), cut));
            }
        });
        Proxy { addr, up, task }
    }

    async fn serve(mut client: TcpStream, upstream: SocketAddr, mut up: watch::Receiver<bool>, cut: Cut) {
        // Cut: hold the connection, read nothing, until the network heals.
        if up.wait_for(|up| *up).await.is_err() {
            return;
        }
        let Ok(mut server) = TcpStream::connect(upstream).await else { return };
        tokio::select! {
            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
            _ = up.wait_for(|up| !*up) => {}
        }
        if cut == Cut::Silence {
            let _ = up.wait_for(|up| *up).await;
        }
        // Dropping both ends closes them.
    }

    fn connect_string(&self) -> String {
        self.addr.to_string()
    }

    fn cut(&self) {
        self.up.send_replace(false);
    }

    fn heal(&self) {
        self.up.send_replace(true);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The status code of the agent's `/primary` (0: no answer within a second).
async fn primary_endpoint(addr: &str) -> u16 {
    common::http::get(addr, "/primary", Duration::from_secs(1)).await.map_or(0, |a| a.code)
}

/// db1's agent, run in this process (without a coordinator) with its ZooKeeper link through
/// `connect`.
fn in_process_agent(fx: &Fixture, connect: String) -> AgentConfig {
    let session_timeout = Duration::from_millis(SESSION_TIMEOUT_MS);
    AgentConfig {
        publisher: PublisherConfig {
            zk: myzoo::zk::ZkAccess::new(connect, session_timeout),
            paths: fx.paths.clone(),
            node: "db1".into(),
            heartbeat: Duration::from_millis(5_000),
            coordinator: None,
        },
        target: Target {
            host: "127.0.0.1".into(),
            port: fx.port("db1"),
            user: fx.creds.agent.user.clone(),
            password: Some(fx.creds.agent.password.clone()),
            tls: Default::default(),
        },
        interval: Duration::from_millis(INTERVAL_MS),
        lease: Some(fence::default_lease(session_timeout)),
        http: Some("127.0.0.1:0".parse().unwrap()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_primary_cut_off_from_zookeeper_is_fenced_by_the_lease_not_failed_over_and_reopened() {
    cut_off_primary(Cut::Drop).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_primary_silently_partitioned_from_zookeeper_is_fenced_before_its_session_expires() {
    cut_off_primary(Cut::Silence).await;
}

/// The lease scenario with the agent's open ZooKeeper connection dropped or silenced by `cut`.
async fn cut_off_primary(cut: Cut) {
    let _one = ONE_AT_A_TIME.lock().await;
    let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("myzoo=info").try_init();
    let fx = Fixture::start().await;
    automatic(&fx).await;
    wait_state(&fx, "watched the primary", |s| s.mode == "on" && s.reason.contains("up")).await;
    assert_eq!(fx.primary().await, PrimaryRecord { node: "db1".into(), epoch: 1 });

    // db1's agent is replaced by one in this process whose ZooKeeper link goes through a proxy.
    signal(fx.sb.agent_pid("db1"), libc::SIGTERM);
    common::wait_exited(fx.sb.agent_pid("db1"), WAIT).await;
    let upstream: SocketAddr = fx.sb.zk().parse().expect("a single ZooKeeper address");
    let proxy = Proxy::start(upstream, cut).await;
    let cfg = in_process_agent(&fx, proxy.connect_string());
    let session_timeout = cfg.publisher.zk.session_timeout;
    let lease = cfg.lease.expect("a lease");
    let cancel = CancellationToken::new();
    let agent = tokio::spawn(myzoo::agent::run_agent(cfg, cancel.clone()));
    let ours = std::process::id();
    wait_status(&fx, "db1", "its status from the in-process agent", |s| s.agent.pid == ours && s.reachable).await;
    wait_state(&fx, "watched the primary again", |s| s.mode == "on" && s.reason == "watching db1: up").await;
    assert_eq!(read_only_now(fx.port("db1")).await, Some(false), "db1 serves before the cut");
    let http = common::http::agent_addrs(&fx.zk, &fx.paths.nodes_dir())
        .await
        .into_iter()
        .find(|(n, _)| n == "db1")
        .map(|(_, a)| a)
        .expect("db1's agent serves HTTP");
    assert_eq!(primary_endpoint(&http).await, 200, "/primary on db1 before the cut");

    // The cut. db1 must be read-only within the lease (plus the fence itself; when silenced,
    // plus the time the client takes to notice: its connection timeout, checked every 1/20 of
    // the session timeout), and before ZooKeeper expires the agent's session (its znode goes
    // then). Not plus a probe interval: the agent probes when the lease runs out.
    let cut_at = Instant::now();
    proxy.cut();
    let noticed_within = match cut {
        Cut::Drop => Duration::ZERO,
        Cut::Silence => session_timeout * 2 / 5 + session_timeout / 20,
    };
    let fence_bound = noticed_within + lease + Duration::from_millis(FENCE_SLACK_MS);
    let port = fx.port("db1");
    let (mut fenced_after, mut expired_after) = (None, None);
    while fenced_after.is_none() || expired_after.is_none() {
        let at = cut_at.elapsed();
        if fenced_after.is_none() && read_only_now(port).await == Some(true) {
            fenced_after = Some(at);
        }
        if fenced_after.is_some() {
            assert_ne!(primary_endpoint(&http).await, 200, "/primary said yes on a fenced primary");
        }
        if expired_after.is_none() && fx.zk.check_stat(&fx.paths.node("db1")).await.expect("stat").is_none() {
            expired_after = Some(at);
        }
        assert!(at < session_timeout * 3, "fenced after {fenced_after:?}, session expired after {expired_after:?}");
        tokio::time::sleep(Duration::from_millis(POLL_MS)).await;
    }
    let (fenced_after, expired_after) = (fenced_after.unwrap_or_default(), expired_after.unwrap_or_default());
    eprintln!(
        "cut off ({cut:?}): db1 read-only after {} ms (lease {} ms, bound {} ms); its session expired (znode gone) after {} ms",
        fenced_after.as_millis(),
        lease.as_millis(),
        fence_bound.as_millis(),
        expired_after.as_millis()
    );
    assert!(fenced_after <= fence_bound, "fenced after {fenced_after:?}, past the lease bound {fence_bound:?}");
    assert!(fenced_after < expired_after, "fenced after {fenced_after:?}, not before the expiry at {expired_after:?}");

    // The coordinator sees db1's agent gone, but db1 answers (read-only): no failover, for two
    // session timeouts after the expiry; db1 stays read-only all along.
    let hold_until = cut_at + expired_after + session_timeout * 2;
    let mut vetoed = None;
    while Instant::now() < hold_until {
        let p = fx.primary().await;
        assert_eq!(p, PrimaryRecord { node: "db1".into(), epoch: 1 }, "failed over while db1 answers");
        assert_ne!(read_only_now(port).await, Some(false), "db1 writable while its agent is cut off");
        assert_ne!(primary_endpoint(&http).await, 200, "/primary said yes while the agent is cut off");
        if vetoed.is_none() {
            let (s, _) = read_state(&fx.zk, &fx.paths).await.expect("coordinator state");
            if s.reason.contains("refused") {
                assert!(s.reason.contains("db1 answers, read-only"), "{s:?}");
                vetoed = Some(s.reason);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let vetoed = vetoed.expect("the coordinator never considered a failover (db1's znode was gone)");
    eprintln!("coordinator, db1's agent cut off: {vetoed}");

    // Heal: a new session, the record still names db1 at epoch 1, so db1 is opened again.
    let healed_at = Instant::now();
    proxy.heal();
    // A connect attempt in flight, the longest back-off before the next, a probe, the
    // confirming read and the write.
    let reopen_bound = session_timeout
        + Duration::from_millis(RECONNECT_BACKOFF_MAX_MS + INTERVAL_MS + fence::CONFIRM_TIMEOUT_MS + FENCE_SLACK_MS);
    let took = wait_read_only(&fx, "db1", false, reopen_bound).await;
    eprintln!("healed: db1 writable again {} ms later (bound {} ms)", took.as_millis(), reopen_bound.as_millis());
    assert_eq!(fx.primary().await, PrimaryRecord { node: "db1".into(), epoch: 1 });
    let s =
        wait_status(&fx, "db1", "the reopening", |s| s.fenced.as_deref().is_some_and(|f| f.contains("writable again")))
            .await;
    eprintln!("db1's agent publishes: fenced = {:?} ({} ms after the heal)", s.fenced, healed_at.elapsed().as_millis());
    let deadline = Instant::now() + WAIT;
    while primary_endpoint(&http).await != 200 {
        assert!(Instant::now() < deadline, "/primary never said yes again after the reopening");
        tokio::time::sleep(Duration::from_millis(POLL_MS)).await;
    }

    cancel.cancel();
    agent.await.expect("agent task").expect("agent");
}
