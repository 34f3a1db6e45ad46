//! The agents' HTTP endpoints against a real sandbox (three MariaDB servers, agents started by
//! the sandbox with `--http 127.0.0.1:0`): `/primary` is 200 on the recorded primary alone and
//! moves with a switchover without ever being 200 on two nodes at once; `/replica` is 200 on
//! healthy replicas and 503 on a hung one; a frozen agent answers nothing, never 200; `/health`
//! is JSON; every agent's `/metrics` parses with a strict OpenMetrics parser and says what the
//! cluster is.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::cluster::{Fixture, WAIT};
use common::faults::Thaw;
use common::http::{agent_addrs, get, parse_scrape, sample, Answer};
use myzoo::failover::switchover;

/// Bound of one request: an agent answers from memory, in microseconds.
const REQUEST_TIMEOUT: Duration = Duration::from_millis(2_000);

async fn ask(addr: &str, path: &str) -> Answer {
    get(addr, path, REQUEST_TIMEOUT).await.unwrap_or_else(|e| panic!("{e}"))
}

/// Waits until `path` on `addr` answers `code`; returns that answer.
async fn wait_code(addr: &str, path: &str, code: u16) -> Answer {
    let deadline = Instant::now() + WAIT;
    loop {
        let a = ask(addr, path).await;
        if a.code == code {
            return a;
        }
        assert!(Instant::now() < deadline, "{addr}{path} never answered {code}; last: {} {}", a.code, a.body);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn endpoints_and_metrics_follow_the_cluster_through_a_switchover_and_faults() {
    let fx = Fixture::start().await;
    let addrs: BTreeMap<String, String> = agent_addrs(&fx.zk, &fx.paths.nodes_dir()).await.into_iter().collect();
    assert_eq!(addrs.len(), 3, "{addrs:?}");
    let old = fx.primary().await.node;
    let replicas: Vec<String> = addrs.keys().filter(|n| **n != old).cloned().collect();

    // The recorded primary alone answers 200 on /primary; the replicas on /replica.
    let yes = wait_code(&addrs[&old], "/primary", 200).await;
    assert!(yes.body.starts_with("primary at epoch"), "{}", yes.body);
    assert_eq!(yes.header("cache-control"), Some("no-store"));
    for r in &replicas {
        let no = ask(&addrs[r], "/primary").await;
        assert_eq!(no.code, 503, "{r}: {}", no.body);
        assert!(no.body.contains(&format!("not the recorded primary ({old} is")), "{}", no.body);
        let ok = wait_code(&addrs[r], "/replica", 200).await;
        assert!(ok.body.starts_with("replica of"), "{}", ok.body);
    }
    let no = ask(&addrs[&old], "/replica").await;
    assert_eq!((no.code, no.body.as_str()), (503, "this node is the recorded primary\n"));

    // /health is JSON about the agent itself.
    let health = ask(&addrs[&old], "/health").await;
    assert_eq!(health.code, 200);
    assert_eq!(health.header("content-type"), Some("application/json"));
    let h: serde_json::Value = serde_json::from_str(&health.body).expect("health JSON");
    assert_eq!(h["node"], old.as_str());
    assert_eq!(h["zk_connected"], true);
    assert_eq!(h["primary"]["ok"], true);
    assert_eq!(h["role"], "primary");

    // Every agent's scrape parses strictly and describes its node; one coordinator leads.
    let mut leaders = 0.0;
    for (node, addr) in &addrs {
        let scrape = ask(addr, "/metrics").await;
        assert_eq!(scrape.code, 200);
        assert!(scrape.header("content-type").unwrap_or_default().starts_with("application/openmetrics-text"));
        let all = parse_scrape(&scrape.body);
        let role = if *node == old { "primary" } else { "replica" };
        assert_eq!(sample(&all, "myzoo_role", &format!("role={role}")), 1.0, "{node}");
        assert_eq!(sample(&all, "myzoo_server_up", ""), 1.0, "{node}");
        assert_eq!(sample(&all, "myzoo_read_only", ""), if *node == old { 0.0 } else { 1.0 }, "{node}");
        assert_eq!(sample(&all, "myzoo_zk_session_state", "state=connected"), 1.0, "{node}");
        assert!(sample(&all, "myzoo_znode_writes", "result=ok") >= 1.0, "{node}");
        assert!(sample(&all, "myzoo_probe_duration_seconds", "") >= 1.0, "{node}");
        assert!(sample(&all, "myzoo_gtid_sequence", "domain=0") >= 1.0, "{node}: the seeded data is in domain 0");
        assert_eq!(sample(&all, "myzoo_primary_endpoint_up", ""), if *node == old { 1.0 } else { 0.0 }, "{node}");
        if *node != old {
            let lag = sample(&all, "myzoo_replication_lag_seconds", "source=reported");
            assert!(lag.is_finite() && lag >= 0.0, "{node}: reported lag {lag}");
        }
        leaders += sample(&all, "myzoo_coordinator_leader", "");
    }
    assert_eq!(leaders, 1.0, "exactly one agent leads the coordinator");

    // A switchover moves /primary; polled all along, it is never 200 on two nodes at once.
    let new = replicas[0].clone();
    let op = fx.operator();
    let p = switchover::plan(&op, Some(&new)).await.expect("plan");
    assert!(p.plan.can_run(), "{}", p.plan.render());
    let watch_addrs: Vec<String> = addrs.values().cloned().collect();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let poller = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut both = Vec::new();
            let mut rounds = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let mut yes = Vec::new();
                for a in &watch_addrs {
                    if get(a, "/primary", REQUEST_TIMEOUT).await.map(|x| x.code) == Ok(200) {
                        yes.push(a.clone());
                    }
                }
                if yes.len() > 1 {
                    both.push(yes);
                }
                rounds += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            (rounds, both)
        })
    };
    let record = switchover::run(&op, p, None, &|_| {}).await.expect("switchover ran");
    assert!(record.epoch_after.is_some(), "{record:?}");
    let opened = Instant::now();
    wait_code(&addrs[&new], "/primary", 200).await;
    let took = opened.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (rounds, both) = poller.await.unwrap();
    assert!(both.is_empty(), "two nodes answered 200 on /primary at once: {both:?}");
    assert!(rounds > 10, "the poller looked only {rounds} times");
    let no = ask(&addrs[&old], "/primary").await;
    assert_eq!(no.code, 503);
    assert!(no.body.contains(&format!("not the recorded primary ({new} is")), "{}", no.body);
    wait_code(&addrs[&old], "/replica", 200).await;
    println!("/primary was 200 on {new} {} ms after the switchover returned", took.as_millis());

    // A frozen agent answers nothing at all: the proxy's check times out, never a stale 200.
    let agent = fx.sb.agent_pid(&new);
    {
        // SAFETY: kill(2) on a process this test's sandbox started; thawed on drop.
        assert_eq!(unsafe { libc::kill(agent, libc::SIGSTOP) }, 0);
        let _thaw = Thaw(agent);
        common::wait_stopped(agent, WAIT).await;
        let frozen = get(&addrs[&new], "/primary", Duration::from_millis(500)).await;
        assert!(frozen.is_err(), "a frozen agent answered: {frozen:?}");
    }
    // Thawed: its last probe is old, so it must not say yes before probing again.
    wait_code(&addrs[&new], "/primary", 200).await;

    // A hung MySQL server: the replica's probes time out and /replica says so.
    let hung = old.clone();
    let server = fx.sb.mysql_pid(&hung);
    {
        // SAFETY: as above.
        assert_eq!(unsafe { libc::kill(server, libc::SIGSTOP) }, 0);
        let _thaw = Thaw(server);
        let no = wait_code(&addrs[&hung], "/replica", 503).await;
        assert!(no.body.contains("server unreachable") || no.body.contains("stalled"), "{}", no.body);
        let all = parse_scrape(&ask(&addrs[&hung], "/metrics").await.body);
        assert_eq!(sample(&all, "myzoo_server_up", ""), 0.0);
        assert!(sample(&all, "myzoo_read_only", "").is_nan());
    }
    wait_code(&addrs[&hung], "/replica", 200).await;
}

/// A three-member ensemble; each member killed in turn (so the agents' own members among them)
/// and restarted: the agents reconnect within their sessions, `/primary` is 200 again on the
/// recorded primary after each kill and never on another node meanwhile, and no agent ever
/// needed a new session.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn primary_endpoint_rides_out_zookeeper_member_kills_within_the_session() {
    let fx = Fixture::start_on(false, 3).await;
    let addrs: BTreeMap<String, String> = agent_addrs(&fx.zk, &fx.paths.nodes_dir()).await.into_iter().collect();
    let primary = fx.primary().await.node;
    wait_code(&addrs[&primary], "/primary", 200).await;
    let members = fx.sb.status.zk_servers.clone();
    assert_eq!(members.len(), 3);
    for member in members {
        let pid = member.pid.expect("member running") as i32;
        common::cluster::kill(pid);
        common::wait_exited(pid, WAIT).await;
        // While the agents move to the surviving members, no other node says yes.
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until {
            for (node, addr) in addrs.iter().filter(|(n, _)| **n != primary) {
                let a = ask(addr, "/primary").await;
                assert_ne!(a.code, 200, "{node} said yes with member {} down: {}", member.id, a.body);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        wait_code(&addrs[&primary], "/primary", 200).await;
        myzoo::sandbox::restart_zk(fx.sb.dir.path(), member.id).await.expect("restart the member");
    }
    for (node, addr) in &addrs {
        let all = parse_scrape(&ask(addr, "/metrics").await.body);
        assert_eq!(sample(&all, "myzoo_zk_sessions", ""), 1.0, "{node}: reconnected within its session, not a new one");
        assert_eq!(sample(&all, "myzoo_zk_session_state", "state=connected"), 1.0, "{node}");
    }
}
