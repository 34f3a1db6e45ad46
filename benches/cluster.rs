//! Cluster-status benchmarks against real servers. Run:
//! `cargo bench --bench cluster [-- scale|detect|agent|idle]`.
//!
//! - scale  — 50 clusters × 3 simulated agents (a child process) each publishing a status change
//!   10 times a second; the headless console shows one cluster. Measures watch-to-screen latency
//!   for the shown cluster's nodes and the console process's CPU.
//! - overview — the same 50 busy clusters with the console on the cluster overview, which
//!   follows every cluster through the watch with reads coalesced to one per cluster per tick:
//!   the console's CPU, and how old the overview's data for a cluster nobody opened is.
//! - detect — real agents at a 250 ms interval; `kill -9` of a replica's mariadbd until the
//!   console's state shows it down, 12 runs (the server is restarted between runs).
//! - agent  — one real agent at a 1 s interval for 30 s with nothing changing: its CPU, peak
//!   memory, and how many times it wrote its znode (each write's wall-clock time and what
//!   changed), beside the ZooKeeper server's CPU.
//! - idle   — the real binary in a pseudo-terminal on the cluster screen of a sandbox with real
//!   agents, 60 s with nothing changing: bytes written to the terminal per second, the console's
//!   CPU, and which cells the frames changed.

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use myzoo::cluster::status::*;
use myzoo::cluster::ClusterPaths;
use myzoo::console::headless::Headless;
use support::{cpu_ns, percentile, PtyConsole};
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
    if which == "all" || which == "overview" {
        rt.block_on(bench_overview());
    }
    if which == "all" || which == "detect" {
        rt.block_on(bench_detect());
    }
    if which == "all" || which == "agent" {
        rt.block_on(bench_agent());
    }
    if which == "all" || which == "idle" {
        let sb = rt.block_on(common::Sandbox::with_agents(myzoo::sandbox::DEFAULT_AGENT_INTERVAL_MS, 10_000));
        bench_idle(&sb);
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
        agent: AgentInfo {
            host: "sim".into(),
            pid: 1,
            version: "sim".into(),
            interval_ms: 100,
            heartbeat_ms: 5000,
            http: None,
        },
        server: Endpoint { host: "127.0.0.1".into(), port: 3300 + node as u16 },
        reachable: true,
        error: None,
        flavor: Some(Flavor::Mariadb),
        version: Some("10.11.19-MariaDB".into()),
        server_id: None,
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
        primary_seen: None,
        fenced: None,
        tls: None,
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

/// A sandbox with the 50 clusters, the simulated agents running in a child process, and a
/// headless console on it.
async fn busy_clusters() -> (common::Sandbox, std::process::Child, Headless) {
    let sb = common::Sandbox::zk_only().await;
    setup(&sb.zk()).await;
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["simulate", &sb.zk(), &(RUN_SECONDS + WARMUP_SECONDS + 2).to_string()])
        .spawn()
        .unwrap();
    let h = Headless::start(common::app_opts((120, 40), "/myzoo"), sb.session(Duration::from_secs(10))).unwrap();
    (sb, child, h)
}

async fn bench_scale() {
    // The sandbox stays up until the end of the case (dropping it stops the servers).
    let (_sandbox, mut child, mut h) = busy_clusters().await;
    let shown = |a: &myzoo::console::app::App| {
        a.clusters()
            .view
            .as_ref()
            .is_some_and(|v| v.nodes.iter().filter(|n| n.status.is_some()).count() == NODES_PER_CLUSTER)
    };
    assert!(h.pump_until(Duration::from_secs(20), shown).await, "cluster c00 never showed its three nodes");
    // With fifty clusters the console opens on the overview: this case is the cluster screen.
    h.send(myzoo::console::event::Event::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('1'),
        crossterm::event::KeyModifiers::NONE,
    )));
    let on_cluster = |a: &myzoo::console::app::App| a.screen() == myzoo::console::screens::ScreenId::Cluster;
    assert!(h.pump_until(Duration::from_secs(5), on_cluster).await, "never on the cluster screen");
    h.pump_until(Duration::from_secs(WARMUP_SECONDS), |_| false).await;

    let mut last_seq = [0u64; NODES_PER_CLUSTER];
    let mut samples: Vec<f64> = Vec::new();
    let (cpu0, t0) = (cpu_ns("self"), Instant::now());
    h.pump_until(Duration::from_secs(RUN_SECONDS), |a| {
        if a.dirty() {
            return false;
        }
        let Some(v) = &a.clusters().view else { return false };
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
    let cpu_ms = (cpu_ns("self") - cpu0) as f64 / 1e6;
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

async fn bench_overview() {
    use myzoo::console::screens::ScreenId;
    // The sandbox stays up until the end of the case (dropping it stops the servers).
    let (_sandbox, mut child, mut h) = busy_clusters().await;
    let all = |a: &myzoo::console::app::App| {
        a.screen() == ScreenId::Overview
            && a.screens().overview.rows().len() == CLUSTERS
            && a.screens().overview.rows().iter().all(|r| r.replicas == NODES_PER_CLUSTER - 1)
    };
    assert!(h.pump_until(Duration::from_secs(20), all).await, "the overview never listed every cluster");
    h.pump_until(Duration::from_secs(WARMUP_SECONDS), |_| false).await;

    // How old is what the overview shows for the last cluster? The simulated agents put their
    // send time (µs) in `qps`.
    let far = cluster_name(CLUSTERS - 1);
    let mut ages_ms: Vec<f64> = Vec::new();
    let (cpu0, t0) = (cpu_ns("self"), Instant::now());
    let mut next_sample = Instant::now();
    h.pump_until(Duration::from_secs(RUN_SECONDS), |a| {
        if Instant::now() < next_sample {
            return false;
        }
        next_sample = Instant::now() + Duration::from_millis(100);
        let row = a.screens().overview.rows().iter().find(|r| r.name == far);
        let newest = row.and_then(|r| r.view.nodes.iter().filter_map(|n| n.status.as_ref()?.qps).reduce(f64::max));
        if let Some(sent_us) = newest {
            ages_ms.push((now_us() - sent_us as i64) as f64 / 1000.0);
        }
        false
    })
    .await;
    let cpu_ms = (cpu_ns("self") - cpu0) as f64 / 1e6;
    let wall_ms = t0.elapsed().as_secs_f64() * 1000.0;
    h.shutdown().await;
    let _ = child.wait();
    let (p50, p99, max) =
        (percentile(&mut ages_ms, 0.5), percentile(&mut ages_ms, 0.99), percentile(&mut ages_ms, 1.0));
    println!(
        "== overview: the same {CLUSTERS} busy clusters, console on the overview (coalesced reads), {RUN_SECONDS} s =="
    );
    println!(
        "age of the overview's data for {far} (sampled every 100 ms): p50 {p50:.0} ms   p99 {p99:.0} ms   max {max:.0} ms   ({} samples)",
        ages_ms.len()
    );
    println!("console CPU on the overview: {:.1} % of a core", cpu_ms / wall_ms * 100.0);
}

const DETECT_RUNS: usize = 12;
const DETECT_INTERVAL_MS: u64 = 250;

async fn bench_detect() {
    use myzoo::cluster::health::NodeState;
    let sb = common::Sandbox::with_agents(DETECT_INTERVAL_MS, 2_000).await;
    let mut h = Headless::start(common::app_opts((120, 40), "/myzoo"), sb.session(Duration::from_secs(10))).unwrap();
    let state = |a: &myzoo::console::app::App| a.clusters().view.as_ref().and_then(|v| v.node("db3")).map(|n| n.state);
    assert!(h.pump_until(Duration::from_secs(20), |a| state(a) == Some(NodeState::Ok)).await, "db3 never ok");
    let mut samples = Vec::new();
    for run in 0..DETECT_RUNS {
        let pid =
            myzoo::sandbox::status(sb.dir.path()).unwrap().mysql.iter().find(|m| m.name == "db3").unwrap().pid.unwrap();
        let t = Instant::now();
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        assert!(
            h.pump_until(Duration::from_secs(10), |a| !a.dirty() && state(a) == Some(NodeState::ServerDown)).await,
            "run {run}: never down"
        );
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
        myzoo::sandbox::restart_mysql(sb.dir.path(), "db3").await.unwrap();
        assert!(
            h.pump_until(Duration::from_secs(20), |a| state(a) == Some(NodeState::Ok)).await,
            "run {run}: never back"
        );
    }
    h.shutdown().await;
    let (p50, max) = (percentile(&mut samples, 0.5), percentile(&mut samples, 1.0));
    let min = percentile(&mut samples, 0.0);
    println!("== detection: kill -9 of a replica's mariadbd → console shows it down ({DETECT_RUNS} runs, {DETECT_INTERVAL_MS} ms probe interval) ==");
    println!("p50 {p50:.0} ms   min {min:.0} ms   max {max:.0} ms");
}

const AGENT_SECONDS: u64 = 30;

fn vm_hwm_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn bench_agent() {
    let sb = common::Sandbox::with_agents(1_000, 10_000).await;
    let client = Client::connect(&sb.zk()).await.unwrap();
    let path = ClusterPaths::new("/myzoo", "sandbox").node("db2");
    // Let start-up settle (first probes, replication heartbeat table created).
    tokio::time::sleep(Duration::from_secs(5)).await;
    let agent = sb.agent_pid("db2") as u32;
    let zk_pid = sb.zk_pid().to_string();
    let (_, stat0) = client.get_data(&path).await.unwrap();
    let (cpu0, zk0, t0) = (cpu_ns(&agent.to_string()), cpu_ns(&zk_pid), Instant::now());
    // Every write, from a data watch (one notification per write; no polling load on ZooKeeper).
    let mut seen: Vec<(i64, serde_json::Value)> = Vec::new();
    let end = tokio::time::Instant::now() + Duration::from_secs(AGENT_SECONDS);
    let (mut data, mut stat, mut watcher) = client.get_and_watch_data(&path).await.unwrap();
    let mut last_version = stat0.version;
    loop {
        if stat.version != last_version {
            last_version = stat.version;
            seen.push((stat.mtime, serde_json::from_slice(&data).unwrap_or_default()));
        }
        if tokio::time::timeout_at(end, watcher.changed()).await.is_err() {
            break;
        }
        (data, stat, watcher) = client.get_and_watch_data(&path).await.unwrap();
    }
    let (_, stat1) = client.get_data(&path).await.unwrap();
    let (cpu1, zk1, wall) = (cpu_ns(&agent.to_string()), cpu_ns(&zk_pid), t0.elapsed().as_secs_f64());
    let writes = stat1.version - stat0.version;
    println!("== agent steady state: one replica's agent, 1 s probe interval, 5 s slow heartbeat, {AGENT_SECONDS} s with nothing changing ==");
    println!(
        "agent CPU {:.3} % of a core   peak RSS {:.1} MiB   znode writes {writes} in {wall:.0} s = {:.1} per minute (slow heartbeat alone: 12/min)",
        (cpu1 - cpu0) as f64 / 1e9 / wall * 100.0,
        vm_hwm_kib(agent) as f64 / 1024.0,
        writes as f64 / wall * 60.0
    );
    println!(
        "peer: the ZooKeeper server's CPU over the same time {:.2} % of a core",
        (zk1 - zk0) as f64 / 1e9 / wall * 100.0
    );
    // Each write: where it fell against the 5 s wall-clock boundaries, and what made it news.
    let heartbeat_ms = seen.first().and_then(|(_, v)| v["agent"]["heartbeat_ms"].as_i64()).unwrap_or(5_000);
    let mut prev: Option<&serde_json::Value> = None;
    let mut off_boundary = 0;
    for (mtime, v) in &seen {
        let offset = mtime.rem_euclid(heartbeat_ms);
        let on_boundary = offset < AGENT_BOUNDARY_SLACK_MS;
        off_boundary += usize::from(!on_boundary);
        let changed = prev.map(|p| changed_fields(p, v, "")).unwrap_or_default();
        println!(
            "  write at {:>5} ms past a {heartbeat_ms} ms boundary{}  changed: {}",
            offset,
            if on_boundary { " (slow heartbeat)" } else { "" },
            changed.join(", ")
        );
        prev = Some(v);
    }
    println!("writes seen {}; off the slow-heartbeat boundaries: {off_boundary}", seen.len());
}

/// A write within this long after a heartbeat boundary counts as the slow heartbeat.
const AGENT_BOUNDARY_SLACK_MS: i64 = 300;

/// Dotted paths of the leaves that differ between two JSON documents.
fn changed_fields(a: &serde_json::Value, b: &serde_json::Value, at: &str) -> Vec<String> {
    match (a, b) {
        (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter()
                .flat_map(|k| {
                    let null = serde_json::Value::Null;
                    let here = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
                    changed_fields(x.get(k).unwrap_or(&null), y.get(k).unwrap_or(&null), &here)
                })
                .collect()
        }
        _ if a == b => Vec::new(),
        _ => vec![format!("{at} {a} → {b}")],
    }
}

const IDLE_SECONDS: u64 = 60;
const IDLE_SIZE: (u16, u16) = (120, 40);

/// The real console on the cluster screen with nothing happening but the agents' routine
/// work: what it writes to the terminal, what that costs, and which cells change.
fn bench_idle(sb: &common::Sandbox) {
    use myzoo::cluster::table::HEADERS;
    let console = PtyConsole::spawn(&["--zk", &sb.zk()], IDLE_SIZE);
    console.wait_for("Cluster sandbox", Duration::from_secs(30));
    console.wait_for("HEALTHY", Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(5));
    let pid = console.pid.to_string();
    let (b0, c0, since) = (console.bytes(), cpu_ns(&pid), std::time::Instant::now());
    std::thread::sleep(Duration::from_secs(IDLE_SECONDS));
    let (b1, c1, wall) = (console.bytes(), cpu_ns(&pid), since.elapsed().as_secs_f64());
    let screen = console.screen();
    let bursts = support::replay_bursts(&console.recording(), since, IDLE_SIZE, Duration::from_millis(5));
    console.quit(b"q");

    // Name the columns from the table's header row on screen.
    let header = screen.lines().find(|l| l.contains("NODE") && l.contains("AGE")).unwrap_or_default();
    let starts: Vec<(usize, &str)> = HEADERS
        .iter()
        .filter_map(|h| {
            let at = |i: usize| header[..i].chars().count();
            match *h {
                "NODE" => header.find(h).map(at),
                _ => header.find(&format!(" {h} ")).or_else(|| header.find(&format!(" {h}"))).map(|i| at(i + 1)),
            }
            .map(|c| (c, *h))
        })
        .collect();
    let column = |c: usize| starts.iter().rev().find(|(s, _)| *s <= c).map_or("(left of the table)", |(_, h)| h);
    let mut tally: std::collections::BTreeMap<String, usize> = Default::default();
    for b in &bursts {
        for ch in &b.changed {
            let label = ch.after.trim_start_matches(['│', ' ']).split_whitespace().next().unwrap_or("").to_string();
            let mut cols: Vec<&str> = ch.columns().into_iter().map(column).collect();
            cols.dedup();
            let what = if starts.is_empty() || !ch.after.contains('│') {
                format!("row {}", ch.row)
            } else {
                format!("row {} ({label}) {}", ch.row, cols.join("+"))
            };
            *tally.entry(what).or_default() += 1;
        }
    }
    let bytes = b1 - b0;
    let cpu_ms = (c1 - c0) as f64 / 1e6;
    println!(
        "== idle on the cluster screen: real binary in a pty ({}×{}), 3 real agents (1 s probes), {IDLE_SECONDS} s ==",
        IDLE_SIZE.0, IDLE_SIZE.1
    );
    println!(
        "bytes written to the terminal {bytes} = {:.0} bytes/s   console CPU {cpu_ms:.1} ms = {:.3} % of a core   frames {} ({} with no text change)",
        bytes as f64 / wall,
        cpu_ms / (wall * 1000.0) * 100.0,
        bursts.len(),
        bursts.iter().filter(|b| b.changed.is_empty()).count()
    );
    println!("what the frames changed (screen row, node, columns: times in {IDLE_SECONDS} s):");
    for (what, n) in &tally {
        println!("  {what}: {n}");
    }
    println!("screen at the end:\n{screen}");
}
