//! Cluster-status benchmarks against real servers. Run:
//! `cargo bench --bench cluster [-- scale]`.
//!
//! - scale — 50 clusters × 3 simulated agents (a child process) each publishing a status change
//!   10 times a second; the headless console shows one cluster. Measures watch-to-screen latency
//!   for the shown cluster's nodes and the console process's CPU.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use myzoo::cluster::status::*;
use myzoo::cluster::ClusterPaths;
use myzoo::console::headless::Headless;
use zookeeper_client::{Acls, Client, CreateMode};

const CLUSTERS: usize = 50;
const NODES_PER_CLUSTER: usize = 3;
const UPDATES_PER_SECOND: u64 = 10;
const RUN_SECONDS: u64 = 15;
const WARMUP_SECONDS: u64 = 3;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    if args.first().map(String::as_str) == Some("simulate") {
        rt.block_on(simulate(&args[1], args[2].parse().unwrap()));
        return;
    }
    let which = args.first().cloned().unwrap_or_else(|| "all".into());
    if which == "all" || which == "scale" {
        rt.block_on(bench_scale());
    }
}

fn now_us() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as i64)
}

fn cluster_name(c: usize) -> String {
    format!("c{c:02}")
}

/// A status as an agent would publish it. The simulated agents put a sequence number in
/// `uptime_s` and the send time in microseconds in `qps`, so the console side can tell which
/// write it is looking at and how long ago it was made.
fn status(cluster: &str, node: usize, seq: u64) -> Vec<u8> {
    let us = now_us();
    let role = if node == 1 { ServerRole::Primary } else { ServerRole::Replica };
    let s = NodeStatus {
        schema: STATUS_SCHEMA,
        cluster: cluster.into(),
        node: format!("db{node}"),
        observed_at_ms: us / 1000,
        agent: AgentInfo { host: "sim".into(), pid: 1, version: "sim".into(), interval_ms: 100, heartbeat_ms: 5000 },
        server: Endpoint { host: "127.0.0.1".into(), port: 3300 + node as u16 },
        reachable: true,
        error: None,
        flavor: Some(Flavor::Mariadb),
        version: Some("10.11.19-MariaDB".into()),
        role,
        read_only: Some(node != 1),
        gtid: Gtid { current: Some(format!("0-1-{seq}")), ..Gtid::default() },
        replication: (node != 1).then(|| Replication {
            source_host: "127.0.0.1".into(),
            source_port: 3301,
            io_running: "Yes".into(),
            sql_running: "Yes".into(),
            seconds_behind: Some(0),
            ..Replication::default()
        }),
        semi_sync: None,
        uptime_s: Some(seq),
        threads_connected: Some(5),
        qps: Some(us as f64),
        heartbeat_lag_ms: (node != 1).then_some((seq % 50) as i64),
    };
    serde_json::to_vec(&s).unwrap_or_default()
}

async fn setup(zk: &str) {
    let client = Client::connect(zk).await.unwrap();
    let p = CreateMode::Persistent.with_acls(Acls::anyone_all());
    for dir in ["/myzoo", "/myzoo/clusters"] {
        let _ = client.create(dir, b"", &p).await;
    }
    for c in 0..CLUSTERS {
        let paths = ClusterPaths::new("/myzoo", &cluster_name(c));
        let nodes: Vec<String> = (1..=NODES_PER_CLUSTER)
            .map(|n| format!(r#"{{"name":"db{n}","host":"127.0.0.1","port":{}}}"#, 3300 + n))
            .collect();
        let config =
            format!(r#"{{"schema":1,"name":"{}","tier":"development","nodes":[{}]}}"#, paths.cluster, nodes.join(","));
        let _ = client.create(&paths.base(), b"", &p).await;
        let _ = client.create(&paths.config(), config.as_bytes(), &p).await;
        let _ = client.create(&paths.primary(), br#"{"node":"db1","epoch":1}"#, &p).await;
        let _ = client.create(&paths.nodes_dir(), b"", &p).await;
    }
}

/// Child process: 150 simulated agents, each publishing a changed status 10 times a second.
async fn simulate(zk: &str, seconds: u64) {
    let client = Client::connect(zk).await.unwrap();
    let eph = CreateMode::Ephemeral.with_acls(Acls::anyone_all());
    let mut paths = Vec::new();
    for c in 0..CLUSTERS {
        let name = cluster_name(c);
        for n in 1..=NODES_PER_CLUSTER {
            let path = ClusterPaths::new("/myzoo", &name).node(&format!("db{n}"));
            client.create(&path, &status(&name, n, 0), &eph).await.unwrap();
            paths.push((name.clone(), n, path));
        }
    }
    let mut tick = tokio::time::interval(Duration::from_millis(1000 / UPDATES_PER_SECOND));
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut seq = 0;
    while Instant::now() < end {
        tick.tick().await;
        seq += 1;
        let writes: Vec<_> = paths.iter().map(|(c, n, p)| client.set_data(p, &status(c, *n, seq), None)).collect();
        for w in futures::future::join_all(writes).await {
            w.unwrap();
        }
    }
}

fn cpu_ns_self() -> u64 {
    let mut total = 0;
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for t in tasks.flatten() {
            if let Ok(s) = std::fs::read_to_string(t.path().join("schedstat")) {
                total += s.split_whitespace().next().and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
            }
        }
    }
    total
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

async fn bench_scale() {
    let sb = common::Sandbox::zk_only().await;
    setup(&sb.zk()).await;
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["simulate", &sb.zk(), &(RUN_SECONDS + WARMUP_SECONDS + 2).to_string()])
        .spawn()
        .unwrap();
    let mut h = Headless::start(common::app_opts((120, 40), "/myzoo"), sb.session(Duration::from_secs(10))).unwrap();
    let shown = |a: &myzoo::console::app::App| {
        a.clusters
            .view
            .as_ref()
            .is_some_and(|v| v.nodes.iter().filter(|n| n.status.is_some()).count() == NODES_PER_CLUSTER)
    };
    assert!(h.pump_until(Duration::from_secs(20), shown).await, "cluster c00 never showed its three nodes");
    h.pump_until(Duration::from_secs(WARMUP_SECONDS), |_| false).await;

    let mut last_seq = [0u64; NODES_PER_CLUSTER];
    let mut samples: Vec<f64> = Vec::new();
    let (cpu0, t0) = (cpu_ns_self(), Instant::now());
    h.pump_until(Duration::from_secs(RUN_SECONDS), |a| {
        if a.dirty {
            return false;
        }
        let Some(v) = &a.clusters.view else { return false };
        let now = now_us();
        for (i, n) in v.nodes.iter().enumerate().take(NODES_PER_CLUSTER) {
            if let Some(s) = &n.status {
                let seq = s.uptime_s.unwrap_or(0);
                if seq > last_seq[i] {
                    last_seq[i] = seq;
                    samples.push((now - s.qps.unwrap_or(0.0) as i64) as f64 / 1000.0);
                }
            }
        }
        false
    })
    .await;
    let cpu_ms = (cpu_ns_self() - cpu0) as f64 / 1e6;
    let wall_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let events = CLUSTERS * NODES_PER_CLUSTER * UPDATES_PER_SECOND as usize;
    h.shutdown().await;
    let _ = child.wait();
    let (p50, p99, max) =
        (percentile(&mut samples, 0.5), percentile(&mut samples, 0.99), percentile(&mut samples, 1.0));
    println!(
        "== scale: {CLUSTERS} clusters × {NODES_PER_CLUSTER} simulated agents at {UPDATES_PER_SECOND}/s each ({events} status changes/s through the console's watch), {RUN_SECONDS} s =="
    );
    println!("watch to screen for the shown cluster: p50 {p50:.2} ms   p99 {p99:.2} ms   max {max:.2} ms   ({} frames sampled)", samples.len());
    println!("console CPU (watch, reads, update, draw): {:.1} % of a core", cpu_ms / wall_ms * 100.0);
}
