//! Switchover and failover benchmarks on a real sandbox (ZooKeeper, a MariaDB primary and two GTID
//! replicas with semi-synchronous replication, one real agent per server probing every 250 ms).
//! Run: `cargo bench --bench failover [-- switchover|failover|proxy]`.
//!
//! Sections (the first argument; none runs them all):
//! - `switchover`: the product's planned switchover exactly as `myzoo switchover` runs it
//!   (`failover::switchover::plan`, then `run` with an `Operator` on the sandbox's operation
//!   account), back and forth under a steady writer, and as a peer in the same run a bare manual
//!   switchover typed as plain SQL over the same writer. At the end every acknowledged write must
//!   be on the final primary; the bench exits 1 when one is missing.
//! - `failover`: the recovery time of the automatic failover the agents' elected coordinator
//!   runs (`failover.automatic`, [`CONFIRMATIONS`] confirmations, `auto_rejoin`), from a
//!   `kill -9` to what the application sees: [`CRASH_TRIALS`] crashes of the primary's mariadbd
//!   with its agent alive, then [`HOST_TRIALS`] host deaths (its agent killed with it). Each
//!   trial times kill → the new record (a watch on the `primary` znode) and kill → the writer's
//!   first acknowledged write on the new primary; then it restarts what it killed, lifts the
//!   cool-down as `myzoo ack` does and waits for the coordinator's rejoin. The bench exits 1
//!   when an acknowledged write is missing on the final primary or a trial does not fail over
//!   within [`FAILOVER_BOUND`].
//! - `proxy`: the write window of an application behind a real HAProxy (Debian's package, its
//!   config from `myzoo haproxy-config` with the default check interval, following the agents'
//!   `/primary`), with as peer in the same run the application that follows the primary record
//!   itself; both write all along, through [`PROXY_SWITCHOVERS`] switchovers and
//!   [`PROXY_FAILOVERS`] automatic failovers (mysqld crash, agent alive). Targets: switchover
//!   ≤ 1 s, failover ≤ the RTO (kill → new primary recorded) + 1 s. Exits 1 when an
//!   acknowledged write of either writer is missing.
//!
//! `MYZOO_BENCH_SEMI_SYNC=0` starts the servers without semi-synchronous replication (the default
//! is with it, as the issue asks), to tell what semi-sync costs.
//!
//! The writer is an application behind a discovery that follows the primary record: it inserts
//! increasing ids through the `app` account into `app.writes` on the node the record names, and
//! after an error reads the record again and reconnects, pausing [`WRITER_RETRY_MS`] between
//! failed attempts; it inserts at most every [`WRITER_INTERVAL_MS`]. Every attempt is kept with the time its answer came back.

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder};
use myzoo::agent::coordinator::{read_state, update_state, CoordinatorState};
use myzoo::cluster::config::{parse_primary, PrimaryRecord};
use myzoo::cluster::ClusterPaths;
use myzoo::failover::journal::{self, OpState};
use myzoo::failover::switchover;
use myzoo::failover::{Access, Operator};
use myzoo::ops::actor::Actor;
use myzoo::sandbox::{self, agents, SandboxOptions};
use support::percentile;
use zookeeper_client::Client;

/// The agents' probe interval.
const AGENT_INTERVAL_MS: u64 = 250;
/// The bench's own ZooKeeper session (the operator's and the writer's discovery).
const SESSION_TIMEOUT_MS: u64 = 10_000;
/// Product switchovers, back and forth as the ranking chooses.
const PRODUCT_TRIALS: usize = 12;
/// Manual switchovers (the peer), interleaved with the product's: one after every
/// [`PRODUCT_PER_MANUAL`] product trials.
const MANUAL_TRIALS: usize = 6;
const PRODUCT_PER_MANUAL: usize = 2;
/// The writer's pace: one insert every 2 ms at most (≤ 500/s). Unpaced, it inserts ~7,000
/// rows/s on this 2-core machine, more than a replica's single SQL thread applies: the
/// replicas fall seconds behind, plans refuse (lag) and the catch-up times out (a rollback).
/// A steady application load, not a saturating one, is what a switchover is planned under.
const WRITER_INTERVAL_MS: u64 = 2;
/// Pause between a failed write and the next attempt (the writer's own rediscovery pace).
const WRITER_RETRY_MS: u64 = 10;
/// After a trial: the writer must have this many acknowledged writes on the new primary, and
/// every replica must replicate from it, before the next trial starts.
const ACKS_AFTER_TRIAL: usize = 20;
/// Quiet time between trials, so the agents' heartbeat and status settle on the new primary.
const SETTLE_MS: u64 = 1_500;
/// The target for the write-block window.
const TARGET_WRITE_BLOCK_MS: f64 = 500.0;
/// The peer's `MASTER_GTID_WAIT` limit.
const MANUAL_CATCH_UP_TIMEOUT_S: u64 = 10;
/// Liveness bound for waits (not a figure).
const WAIT: Duration = Duration::from_secs(60);
/// Writes the writer made during warm-up before the first trial.
const WARM_UP_MS: u64 = 1_000;
/// `failover.confirmations` in the failover section: consecutive looks of the coordinator, one
/// per probe interval, that find the primary down before it plans the failover.
const CONFIRMATIONS: u32 = 2;
/// `failover.cooldown_s`; the bench acknowledges (as `myzoo ack`) after every trial.
const COOLDOWN_S: u64 = 300;
/// Trials of each fault.
const CRASH_TRIALS: usize = 10;
const HOST_TRIALS: usize = 10;
/// The agents' ZooKeeper session timeout in the failover section: the product's default.
const AGENT_SESSION_TIMEOUT_MS: u64 = myzoo::config::DEFAULT_SESSION_TIMEOUT_MS;
/// The target for a crashed mysqld (p50 of both figures).
const TARGET_CRASH_RTO_MS: f64 = 1_000.0;
/// A trial that has not failed over (or not written on the new primary) by then fails the bench.
const FAILOVER_BOUND: Duration = Duration::from_secs(40);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let which = args.first().cloned().unwrap_or_else(|| "all".into());
    let semi_sync = std::env::var("MYZOO_BENCH_SEMI_SYNC").map_or(true, |v| v != "0");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let mut ok = true;
    if which == "all" || which == "switchover" {
        ok &= rt.block_on(bench_switchover(semi_sync));
    }
    if which == "all" || which == "failover" {
        ok &= rt.block_on(bench_failover(semi_sync));
    }
    if which == "all" || which == "proxy" {
        ok &= rt.block_on(bench_proxy(semi_sync));
    }
    if !ok {
        std::process::exit(1);
    }
}

/// One attempt of the writer: when its answer came back, whether it was acknowledged, its id,
/// and the port of the server it went to (0: no server found).
#[derive(Clone, Copy)]
struct Attempt {
    at: Instant,
    ok: bool,
    id: i64,
    port: u16,
}

struct Writer {
    stop: Arc<AtomicBool>,
    attempts: Arc<Mutex<Vec<Attempt>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Writer {
    fn start(
        zk: Client,
        paths: ClusterPaths,
        ports: Vec<(String, u16)>,
        creds: sandbox::secrets::Credentials,
    ) -> Writer {
        Self::on(zk, paths, ports, None, 1, creds)
    }

    /// `fixed`: always write through this port (a proxy's write frontend) instead of following
    /// the record; ids start at `first_id`, so two writers never collide.
    fn on(
        zk: Client,
        paths: ClusterPaths,
        ports: Vec<(String, u16)>,
        fixed: Option<u16>,
        first_id: i64,
        creds: sandbox::secrets::Credentials,
    ) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let attempts = Arc::new(Mutex::new(Vec::new()));
        let (s, log) = (stop.clone(), attempts.clone());
        let task = tokio::spawn(async move {
            let mut next = first_id;
            let mut conn: Option<(Conn, u16)> = None;
            let mut pace = tokio::time::interval(Duration::from_millis(WRITER_INTERVAL_MS));
            pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            while !s.load(Ordering::Relaxed) {
                pace.tick().await;
                if conn.is_none() {
                    let port = match fixed {
                        Some(port) => Some(port),
                        None => {
                            let node = match zk.get_data(&paths.primary()).await {
                                Ok((d, _)) => parse_primary(&d).map(|r| r.node).unwrap_or_default(),
                                Err(_) => String::new(),
                            };
                            ports.iter().find(|(n, _)| *n == node).map(|(_, p)| *p)
                        }
                    };
                    if let Some(port) = port {
                        conn = Conn::new(app_opts(port, &creds)).await.ok().map(|c| (c, port));
                    }
                }
                let (ok, port) = match conn.as_mut() {
                    Some((c, port)) => {
                        (c.exec_drop("INSERT INTO app.writes (id) VALUES (?)", (next,)).await.is_ok(), *port)
                    }
                    None => (false, 0),
                };
                log.lock().expect("writer log").push(Attempt { at: Instant::now(), ok, id: next, port });
                // A failed id is never retried: its commit may have happened with the answer
                // lost, and only acknowledged ids are checked at the end.
                next += 1;
                if !ok {
                    conn = None;
                    tokio::time::sleep(Duration::from_millis(WRITER_RETRY_MS)).await;
                }
            }
        });
        Writer { stop, attempts, task }
    }

    fn attempts(&self) -> Vec<Attempt> {
        self.attempts.lock().expect("writer log").clone()
    }

    fn acks_since(&self, since: Instant) -> usize {
        self.attempts.lock().expect("writer log").iter().rev().take_while(|a| a.at >= since).filter(|a| a.ok).count()
    }

    async fn stop(self) -> Vec<Attempt> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.expect("writer task");
        let attempts = self.attempts.lock().expect("writer log").clone();
        attempts
    }
}

fn app_opts(port: u16, creds: &sandbox::secrets::Credentials) -> OptsBuilder {
    OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(port)
        .user(Some(creds.app.user.clone()))
        .pass(Some(creds.app.password.clone()))
        .prefer_socket(false)
}

/// What the writer saw around one trial that began at `from`: the time from the last
/// acknowledged write before the first failed attempt to the first acknowledged write after it,
/// and how many attempts failed after that (a second outage; expected 0). `None` when no
/// attempt failed.
fn writer_outage(attempts: &[Attempt], from: Instant) -> Option<(f64, usize)> {
    let first_fail = attempts.iter().position(|a| a.at >= from && !a.ok)?;
    let before = attempts[..first_fail].iter().rev().find(|a| a.ok)?;
    let after_idx = first_fail + attempts[first_fail..].iter().position(|a| a.ok)?;
    let later_failures = attempts[after_idx..].iter().filter(|a| !a.ok).count();
    Some((ms(attempts[after_idx].at.duration_since(before.at)), later_failures))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

struct Bench {
    sb: common::Sandbox,
    zk: Client,
    paths: ClusterPaths,
    creds: sandbox::secrets::Credentials,
    repl_user: String,
}

impl Bench {
    /// A sandbox with agents every [`AGENT_INTERVAL_MS`] (session timeout `agent_session_ms`,
    /// `None`: the agents' default), the bench's own session, and `app.writes` created through
    /// the `app` account; prints what was started under `section`.
    async fn start(section: &str, semi_sync: bool, agent_session_ms: Option<u64>) -> Bench {
        let opts = SandboxOptions {
            seed: true,
            agent_binary: Some(env!("CARGO_BIN_EXE_myzoo").into()),
            agent_interval_ms: AGENT_INTERVAL_MS,
            agent_session_timeout_ms: agent_session_ms,
            semi_sync,
            ..common::Sandbox::options(true)
        };
        let sb = common::Sandbox::start_with(opts).await;
        let zk = Client::connector()
            .with_session_timeout(Duration::from_millis(SESSION_TIMEOUT_MS))
            .with_fail_eagerly()
            .connect(&sb.zk())
            .await
            .expect("connect to ZooKeeper");
        let creds = sandbox::credentials(sb.dir.path()).expect("sandbox credentials");
        let paths = ClusterPaths::new("/myzoo", sandbox::CLUSTER);
        let (data, _) = zk.get_data(&paths.config()).await.expect("cluster config");
        let config = myzoo::cluster::config::parse_config(&data).expect("valid config");
        let repl_user = config.replication.user.clone();
        let b = Bench { sb, zk, paths, creds, repl_user };
        let first = b.primary().await;
        let mut app = Conn::new(app_opts(b.port(&first.node), &b.creds)).await.expect("app connection");
        app.query_drop("CREATE TABLE app.writes (id BIGINT PRIMARY KEY, at TIMESTAMP(6) DEFAULT NOW(6))")
            .await
            .expect("create app.writes through the app account");
        app.disconnect().await.expect("disconnect");
        let semi: Option<(String, String)> = b
            .root(&first.node)
            .await
            .query_first("SHOW GLOBAL VARIABLES LIKE 'rpl_semi_sync_master_enabled'")
            .await
            .expect("semi-sync setting");
        println!(
            "{section}: sandbox with {} (primary {}), semi-sync master {:?}, agents every {AGENT_INTERVAL_MS} ms",
            b.nodes().join(", "),
            first.node,
            semi.map(|(_, v)| v).unwrap_or_default()
        );
        b
    }

    /// The application: a writer that follows the primary record.
    fn start_writer(&self) -> Writer {
        let ports: Vec<(String, u16)> = self.sb.status.mysql.iter().map(|m| (m.name.clone(), m.port)).collect();
        Writer::start(self.zk.clone(), self.paths.clone(), ports, self.creds.clone())
    }

    /// Every acknowledged id of `attempts` that the final primary lacks, with that primary.
    async fn lost_writes(&self, attempts: &[Attempt]) -> (PrimaryRecord, usize, Vec<i64>) {
        let last = self.primary().await;
        let on_final: Vec<i64> =
            self.root(&last.node).await.query("SELECT id FROM app.writes ORDER BY id").await.expect("ids");
        let lost = attempts.iter().filter(|a| a.ok).map(|a| a.id).filter(|id| on_final.binary_search(id).is_err());
        let lost = lost.collect();
        (last, on_final.len(), lost)
    }

    fn port(&self, node: &str) -> u16 {
        self.sb.status.mysql.iter().find(|m| m.name == node).expect("node").port
    }

    fn nodes(&self) -> Vec<String> {
        self.sb.status.mysql.iter().map(|m| m.name.clone()).collect()
    }

    async fn root(&self, node: &str) -> Conn {
        sandbox::mariadb::connect_root(self.port(node)).await.expect("root connection")
    }

    async fn primary(&self) -> PrimaryRecord {
        let (data, _) = self.zk.get_data(&self.paths.primary()).await.expect("primary record");
        parse_primary(&data).expect("valid record")
    }

    /// What `myzoo switchover --mysql-user agent …` builds (`commands::operation::connect_operator`).
    fn operator(&self) -> Operator {
        Operator {
            client: self.zk.clone(),
            paths: self.paths.clone(),
            access: Access {
                user: self.creds.agent.user.clone(),
                password: Some(self.creds.agent.password.clone()),
                repl_password: Some(self.creds.repl.password.clone()),
                tls: Default::default(),
            },
            actor: Actor { user: "bench".into(), host: "bench".into(), ssh_client: None },
            origin: "cli".into(),
            read_only: false,
            guard: None,
        }
    }

    /// Waits until every node but `primary` replicates from it with both threads running.
    async fn wait_replicating(&self, primary: &str) {
        let deadline = Instant::now() + WAIT;
        let want = self.port(primary).to_string();
        for node in self.nodes().into_iter().filter(|n| n != primary) {
            loop {
                let row: Option<mysql_async::Row> =
                    self.root(&node).await.query_first("SHOW SLAVE STATUS").await.expect("slave status");
                let state = row.map(|r| {
                    let g = |k: &str| r.get::<Option<String>, _>(k).flatten().unwrap_or_default();
                    (g("Master_Port"), g("Slave_IO_Running"), g("Slave_SQL_Running"))
                });
                if state.as_ref().is_some_and(|(p, io, sql)| *p == want && io == "Yes" && sql == "Yes") {
                    break;
                }
                assert!(Instant::now() < deadline, "{node} does not replicate from {primary}: {state:?}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    /// Between trials: the writer writes on the new primary, the replicas follow it, quiet time.
    async fn settle(&self, writer: &Writer, primary: &str, since: Instant) {
        let deadline = Instant::now() + WAIT;
        while writer.acks_since(since) < ACKS_AFTER_TRIAL {
            assert!(Instant::now() < deadline, "the writer does not write after the switchover to {primary}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.wait_replicating(primary).await;
        tokio::time::sleep(Duration::from_millis(SETTLE_MS)).await;
    }
}

/// One product trial's figures, in ms.
struct ProductTrial {
    from: String,
    to: String,
    /// `Done` is required; any other end is counted, reported, and fails the bench.
    state: OpState,
    outcome: String,
    block: f64,
    outage: Option<f64>,
    op: f64,
    run_wall: f64,
    plan: f64,
    plans_refused: usize,
    later_failures: usize,
    /// Each step's journaled duration, and the first refusal when a plan refused.
    breakdown: String,
}

/// One manual trial's figures, in ms.
struct ManualTrial {
    from: String,
    to: String,
    block: f64,
    outage: Option<f64>,
    total: f64,
    later_failures: usize,
    /// Each statement's time.
    breakdown: String,
}

async fn bench_switchover(semi_sync: bool) -> bool {
    let b = Bench::start("switchover", semi_sync, None).await;
    let first = b.primary().await;
    b.wait_replicating(&first.node).await;
    let writer = b.start_writer();
    tokio::time::sleep(Duration::from_millis(WARM_UP_MS)).await;

    let op = b.operator();
    let mut product = Vec::new();
    let mut manual = Vec::new();
    while product.len() < PRODUCT_TRIALS || manual.len() < MANUAL_TRIALS {
        let manual_turn = manual.len() < MANUAL_TRIALS
            && (product.len() >= PRODUCT_TRIALS || product.len() >= (manual.len() + 1) * PRODUCT_PER_MANUAL);
        if manual_turn {
            let t = manual_trial(&b, &writer).await;
            println!(
                "  manual  {:>2}: {} -> {}  write block {:>6.1} ms  writer outage {:>6}  total {:>6.1} ms",
                manual.len() + 1,
                t.from,
                t.to,
                t.block,
                fmt_opt(t.outage),
                t.total
            );
            println!("              {}", t.breakdown);
            manual.push(t);
        } else {
            let t = product_trial(&b, &op, &writer).await;
            println!(
                "  product {:>2}: {} -> {}  write block {:>4.0} ms  writer outage {:>6}  operation {:>4.0} ms  \
                 run() {:>6.1} ms  plan {:>5.1} ms{}",
                product.len() + 1,
                t.from,
                t.to,
                t.block,
                fmt_opt(t.outage),
                t.op,
                t.run_wall,
                t.plan,
                if t.plans_refused > 0 {
                    format!("  ({} plans refused first)", t.plans_refused)
                } else {
                    String::new()
                }
            );
            println!("              {}", t.breakdown);
            if t.state != OpState::Done {
                println!("              NOT DONE: {}: {}", t.state.label(), t.outcome);
            }
            product.push(t);
        }
    }

    let attempts = writer.stop().await;
    let (last, on_final, lost) = b.lost_writes(&attempts).await;
    let acked = attempts.iter().filter(|a| a.ok).count();
    let failed = attempts.iter().filter(|a| !a.ok).count();

    println!();
    println!(
        "switchover: {} product trials, {} manual trials; final primary {} (epoch {})",
        product.len(),
        manual.len(),
        last.node,
        last.epoch
    );
    println!(
        "writer: {} attempts, {acked} acknowledged, {failed} failed; {on_final} rows on {}",
        attempts.len(),
        last.node
    );
    let later: usize = product.iter().map(|t| t.later_failures).chain(manual.iter().map(|t| t.later_failures)).sum();
    if later > 0 {
        println!("writer: {later} failed attempts after the writer had written again within a trial (a second outage)");
    }
    let refused: usize = product.iter().map(|t| t.plans_refused).sum();
    if refused > 0 {
        println!("plans refused before a trial could run (replicas not settled yet): {refused}");
    }

    let not_done: Vec<&ProductTrial> = product.iter().filter(|t| t.state != OpState::Done).collect();
    let product: Vec<&ProductTrial> = product.iter().filter(|t| t.state == OpState::Done).collect();
    let p_block = summary(
        "product: write-block window (journal write_block_ms: fence -> open)",
        product.iter().map(|t| t.block).collect(),
    );
    let p_outage = summary(
        "product: writer-observed outage (last ack before the first failure -> first ack after)",
        product.iter().filter_map(|t| t.outage).collect(),
    );
    let p_op = summary("product: operation (journal started -> finished)", product.iter().map(|t| t.op).collect());
    summary(
        "product: run() wall (lock, journal, audit, unlock included)",
        product.iter().map(|t| t.run_wall).collect(),
    );
    summary("product: plan() wall (fresh probes of every node, ranking)", product.iter().map(|t| t.plan).collect());
    let m_block = summary(
        "manual: write-block window (read_only=1 -> read_only=0 returned)",
        manual.iter().map(|t| t.block).collect(),
    );
    let m_outage = summary("manual: writer-observed outage", manual.iter().filter_map(|t| t.outage).collect());
    let m_total = summary(
        "manual: whole sequence (read_only=1 -> last replica repointed)",
        manual.iter().map(|t| t.total).collect(),
    );
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
        _ => "n/a".to_string(),
    };
    println!("product / manual (medians): write-block window {}", ratio(p_block, m_block));
    println!("product / manual (medians): operation {}", ratio(p_op, m_total));
    println!("product / manual (medians): writer-observed outage {}", ratio(p_outage, m_outage));
    let max_block = product.iter().map(|t| t.block).fold(f64::NAN, f64::max);
    println!(
        "target: write-block window <= {TARGET_WRITE_BLOCK_MS:.0} ms: p50 {}, max {max_block:.0} ms -> {}",
        p_block.map(|v| format!("{v:.0} ms")).unwrap_or_default(),
        if max_block <= TARGET_WRITE_BLOCK_MS { "met" } else { "missed" }
    );
    println!("switchovers not done (rolled back or failed; left out of the figures above): {}", not_done.len());
    println!("acknowledged writes lost: {}", lost.len());
    if !lost.is_empty() {
        println!("lost ids (first 20): {:?}", &lost[..lost.len().min(20)]);
    }
    lost.is_empty() && not_done.is_empty()
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.1} ms")).unwrap_or_else(|| "none".into())
}

/// Prints p50, min and max of `v`; returns the median.
fn summary(name: &str, mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        println!("{name}: no sample");
        return None;
    }
    let (p50, min, max) = (percentile(&mut v, 0.5), percentile(&mut v, 0.0), percentile(&mut v, 1.0));
    println!("{name}: p50 {p50:.1} ms, min {min:.1} ms, max {max:.1} ms ({} trials)", v.len());
    Some(p50)
}

/// `myzoo switchover --yes` as the command runs it: plan, then run; the ranking picks the node.
async fn product_trial(b: &Bench, op: &Operator, writer: &Writer) -> ProductTrial {
    let from = b.primary().await.node;
    let started = Instant::now();
    let mut plans_refused = 0;
    let mut first_refusal = String::new();
    let (prepared, plan_ms) = loop {
        let t = Instant::now();
        let p = switchover::plan(op, None).await.expect("plan");
        let plan_ms = ms(t.elapsed());
        if p.plan.can_run() {
            break (p, plan_ms);
        }
        plans_refused += 1;
        if first_refusal.is_empty() {
            first_refusal = p.plan.refusals.join("; ");
        }
        assert!(started.elapsed() < WAIT, "the plan keeps refusing: {}", p.plan.render());
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let to = prepared.plan.candidate.clone().expect("candidate");
    let t = Instant::now();
    let rec = switchover::run(op, prepared, None, &|_| {}).await.expect("switchover ran");
    let run_wall = ms(t.elapsed());
    let done = Instant::now();
    let mut breakdown: String = rec
        .steps
        .iter()
        .filter_map(|s| s.duration_ms().map(|d| format!("{} {d}", s.name)))
        .collect::<Vec<_>>()
        .join(", ");
    if !first_refusal.is_empty() {
        breakdown.push_str(&format!("; first refusal: {first_refusal}"));
    }
    // A rolled-back trial leaves the old primary in place.
    b.settle(writer, &b.primary().await.node, done).await;
    let outage = writer_outage(&writer.attempts(), started);
    ProductTrial {
        from,
        to,
        state: rec.state,
        outcome: rec.outcome.clone().unwrap_or_default(),
        block: rec.write_block_ms.map_or(f64::NAN, |v| v as f64),
        outage: outage.map(|o| o.0),
        op: rec.duration_ms().expect("finished record") as f64,
        run_wall,
        plan: plan_ms,
        plans_refused,
        later_failures: outage.map_or(0, |o| o.1),
        breakdown,
    }
}

/// The minimal sequence a DBA types at three `mariadb` prompts already open (connections are
/// made before the clock starts), with no lock, journal, probes or checks. One thing is not
/// SQL: the primary record is written (unconditionally, epoch + 1) before the new primary opens,
/// because in this cluster it is how applications find the primary and the agents keep every
/// other server read-only: without it the new primary's agent fences it again and the writer
/// never finds it.
async fn manual_trial(b: &Bench, writer: &Writer) -> ManualTrial {
    let record = b.primary().await;
    let old = record.node.clone();
    let new = b.nodes().into_iter().find(|n| *n != old).expect("a replica");
    let others: Vec<String> = b.nodes().into_iter().filter(|n| *n != new).collect();
    let mut conns = Vec::new();
    for n in b.nodes() {
        conns.push((n.clone(), b.root(&n).await));
    }
    let conn = |conns: &[(String, Conn)], n: &str| -> usize {
        conns.iter().position(|(name, _)| name == n).expect("connection")
    };
    let (io, inew) = (conn(&conns, &old), conn(&conns, &new));
    let change = format!(
        "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, MASTER_USER='{}', MASTER_PASSWORD='{}', \
         MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1",
        b.port(&new),
        b.repl_user,
        b.creds.repl.password
    );
    let data = serde_json::to_vec(&PrimaryRecord { node: new.clone(), epoch: record.epoch + 1 }).expect("json");

    let started = Instant::now();
    let mut marks = Vec::new();
    let mut lap = started;
    let mut mark = |what: &str| {
        let now = Instant::now();
        marks.push(format!("{what} {:.0}", ms(now.duration_since(lap))));
        lap = now;
    };
    conns[io].1.query_drop("SET GLOBAL read_only = 1").await.expect("fence");
    mark("fence");
    let pos: String =
        conns[io].1.query_first("SELECT @@global.gtid_binlog_pos").await.expect("position").unwrap_or_default();
    mark("position");
    let waited: Option<i64> = conns[inew]
        .1
        .query_first(format!("SELECT MASTER_GTID_WAIT('{pos}', {MANUAL_CATCH_UP_TIMEOUT_S})"))
        .await
        .expect("catch up");
    assert_eq!(waited, Some(0), "{new} did not apply {pos}");
    mark("gtid-wait");
    conns[inew].1.query_drop("STOP SLAVE").await.expect("stop slave");
    mark("stop-slave");
    conns[inew].1.query_drop("RESET SLAVE ALL").await.expect("reset slave all");
    mark("reset-slave");
    b.zk.set_data(&b.paths.primary(), &data, None).await.expect("primary record");
    mark("record");
    conns[inew].1.query_drop("SET GLOBAL read_only = 0").await.expect("open");
    mark("open");
    let opened = Instant::now();
    for n in &others {
        let i = conn(&conns, n);
        let c = &mut conns[i].1;
        c.query_drop("STOP SLAVE").await.expect("stop slave");
        mark(&format!("stop-slave {n}"));
        if *n == old {
            c.query_drop("SET GLOBAL gtid_slave_pos = @@global.gtid_current_pos").await.expect("align");
        }
        c.query_drop(change.as_str()).await.expect("change master");
        c.query_drop("START SLAVE").await.expect("start slave");
        mark(&format!("change+start {n}"));
    }
    let finished = Instant::now();
    for (_, c) in conns {
        let _ = c.disconnect().await;
    }
    b.settle(writer, &new, finished).await;
    let outage = writer_outage(&writer.attempts(), started);
    ManualTrial {
        from: old,
        to: new,
        block: ms(opened.duration_since(started)),
        outage: outage.map(|o| o.0),
        total: ms(finished.duration_since(started)),
        later_failures: outage.map_or(0, |o| o.1),
        breakdown: marks.join(", "),
    }
}

/// The fault a failover trial injects.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// `kill -9` of the primary's mariadbd; its agent lives on and reports it unreachable.
    Crash,
    /// `kill -9` of the primary's agent and mariadbd together: nothing reports; the agent's
    /// znode stays until its session expires.
    Host,
}

impl Fault {
    fn label(self) -> &'static str {
        match self {
            Fault::Crash => "crash",
            Fault::Host => "host",
        }
    }
}

/// One automatic failover's figures, in ms from the kill.
struct FailoverTrial {
    from: String,
    to: String,
    epoch: u64,
    /// The watch on the `primary` znode fired with the new record.
    recorded: f64,
    /// The writer's first acknowledged write on the new primary came back.
    first_ack: f64,
    /// The coordinator's journal record started (detection done, plan made).
    detected: f64,
    /// The journal's steps and their durations.
    breakdown: String,
    /// Restart of the killed server (and agent) → every other node replicates from the new
    /// primary: the coordinator's auto-rejoin.
    rejoin: f64,
}

fn kill(pid: i32) {
    // SAFETY: kill(2) on a process the sandbox started as a child of this bench.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0, "kill {pid}");
}

impl Writer {
    /// When the earliest acknowledged write on `port` at or after `since` came back.
    fn first_ack_on(&self, port: u16, since: Instant) -> Option<Instant> {
        let log = self.attempts.lock().expect("writer log");
        log.iter().rev().take_while(|a| a.at >= since).filter(|a| a.ok && a.port == port).last().map(|a| a.at)
    }
}

impl Bench {
    /// Automatic failover on: [`CONFIRMATIONS`] confirmations, a [`COOLDOWN_S`] cool-down the
    /// bench acknowledges after each trial, auto-rejoin.
    async fn automatic_failover_on(&self) {
        self.edit_config(|v| {
            v["failover"]["automatic"] = true.into();
            v["failover"]["confirmations"] = CONFIRMATIONS.into();
            v["failover"]["cooldown_s"] = COOLDOWN_S.into();
            v["failover"]["auto_rejoin"] = true.into();
        })
        .await;
    }

    async fn edit_config(&self, change: impl FnOnce(&mut serde_json::Value)) {
        let (data, stat) = self.zk.get_data(&self.paths.config()).await.expect("config");
        let mut v: serde_json::Value = serde_json::from_slice(&data).expect("config json");
        change(&mut v);
        let data = serde_json::to_vec(&v).expect("config json");
        self.zk.set_data(&self.paths.config(), &data, Some(stat.version)).await.expect("write config");
    }

    /// Waits until the coordinator's published state satisfies `ok`; `None` after `within`.
    async fn wait_coordinator(
        &self,
        within: Duration,
        ok: impl Fn(&CoordinatorState) -> bool,
    ) -> Option<CoordinatorState> {
        let deadline = Instant::now() + within;
        loop {
            let (s, _) = read_state(&self.zk, &self.paths).await.expect("coordinator state");
            if ok(&s) {
                return Some(s);
            }
            if Instant::now() >= deadline {
                println!("              coordinator: mode {}, {}", s.mode, s.reason);
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The agent of `node` again, as `sandbox::up` starts it; waits for its znode.
    async fn restart_agent(&mut self, node: &str) {
        let dir = self.sb.dir.path().to_path_buf();
        let repl_password_file = dir.join(sandbox::REPL_PASSWORD_FILE);
        let binary = std::path::PathBuf::from(env!("CARGO_BIN_EXE_myzoo"));
        let zk = self.sb.zk();
        let spec = agents::AgentSpawn {
            binary: &binary,
            zk: &zk,
            tls: None,
            root: myzoo::config::DEFAULT_ROOT,
            cluster: sandbox::CLUSTER,
            interval_ms: AGENT_INTERVAL_MS,
            session_timeout_ms: Some(AGENT_SESSION_TIMEOUT_MS),
            heartbeat_ms: None,
            repl_password_file: Some(&repl_password_file),
            backup: self.sb.status.backup_store.as_ref(),
            zk_auth_file: self.sb.status.zk_auth_file.as_deref(),
        };
        let server = self.sb.status.mysql.iter().find(|m| m.name == node).expect("node").clone();
        let http_port = self.sb.status.agents.iter().find(|a| a.name == node).and_then(|a| a.http_port);
        let http_port = http_port.expect("the sandbox gave the agent an HTTP port");
        let started = agents::start_one(&dir, &spec, &server, &self.creds.agent, http_port).expect("start the agent");
        let access = self.sb.status.zk_access(Duration::from_secs(10));
        agents::wait_registered(&dir, &access, &self.paths, &[node.to_string()]).await.expect("agent registered");
        let slot = self.sb.status.agents.iter_mut().find(|a| a.name == node).expect("agent");
        *slot = started;
    }
}

/// `cargo bench --bench failover -- failover`: the RTO of the coordinator's automatic failover.
async fn bench_failover(semi_sync: bool) -> bool {
    let mut b = Bench::start("failover", semi_sync, Some(AGENT_SESSION_TIMEOUT_MS)).await;
    b.automatic_failover_on().await;
    let floor_ms = f64::from(CONFIRMATIONS) * AGENT_INTERVAL_MS as f64;
    println!(
        "failover: automatic, confirmations {CONFIRMATIONS}, auto_rejoin on, cool-down {COOLDOWN_S} s lifted by an ack \
         after each trial; agents' session timeout {AGENT_SESSION_TIMEOUT_MS} ms; detection floor \
         confirmations x probe interval = {CONFIRMATIONS} x {AGENT_INTERVAL_MS} ms = {floor_ms:.0} ms"
    );
    let first = b.primary().await;
    b.wait_replicating(&first.node).await;
    let writer = b.start_writer();
    tokio::time::sleep(Duration::from_millis(WARM_UP_MS)).await;

    let mut trials: Vec<(Fault, FailoverTrial)> = Vec::new();
    let mut failure = None;
    let plan = std::iter::repeat_n(Fault::Crash, CRASH_TRIALS).chain(std::iter::repeat_n(Fault::Host, HOST_TRIALS));
    for (i, fault) in plan.enumerate() {
        match failover_trial(&mut b, &writer, fault).await {
            Ok(t) => {
                println!(
                    "  {:<5} {:>2}: {} -> {} (epoch {:>2})  recorded {:>7.1} ms  first write {:>7.1} ms  \
                     journal started {:>7.1} ms  rejoined {:>6.0} ms after the restart",
                    fault.label(),
                    i + 1,
                    t.from,
                    t.to,
                    t.epoch,
                    t.recorded,
                    t.first_ack,
                    t.detected,
                    t.rejoin
                );
                println!("              {}", t.breakdown);
                trials.push((fault, t));
            }
            Err(e) => {
                println!("  {:<5} {:>2}: FAILED: {e}", fault.label(), i + 1);
                failure = Some(e);
                break;
            }
        }
    }

    let attempts = writer.stop().await;
    let (last, on_final, lost) = b.lost_writes(&attempts).await;
    let acked = attempts.iter().filter(|a| a.ok).count();
    println!();
    println!("failover: {} trials; final primary {} (epoch {})", trials.len(), last.node, last.epoch);
    println!(
        "writer: {} attempts, {acked} acknowledged, {} failed; {on_final} rows on {}",
        attempts.len(),
        attempts.iter().filter(|a| !a.ok).count(),
        last.node
    );
    let figures = |fault: Fault, f: fn(&FailoverTrial) -> f64| -> Vec<f64> {
        trials.iter().filter(|(k, _)| *k == fault).map(|(_, t)| f(t)).collect()
    };
    let host_target_ms = AGENT_SESSION_TIMEOUT_MS as f64 + 1_000.0;
    let mut met = true;
    for (fault, target, name) in [
        (Fault::Crash, TARGET_CRASH_RTO_MS, "mysqld crash, agent alive"),
        (Fault::Host, host_target_ms, "host death (agent and mysqld)"),
    ] {
        let rec = summary(&format!("{name}: kill -> new primary recorded"), figures(fault, |t| t.recorded));
        let ack = summary(&format!("{name}: kill -> first acknowledged write"), figures(fault, |t| t.first_ack));
        summary(&format!("{name}: kill -> journal started (detected)"), figures(fault, |t| t.detected));
        summary(&format!("{name}: restart -> rejoined"), figures(fault, |t| t.rejoin));
        met &= rec.is_some_and(|v| v <= target) && ack.is_some_and(|v| v <= target);
        let verdict = |v: Option<f64>| match v {
            Some(v) if v <= target => format!("{v:.0} ms, met"),
            Some(v) => format!("{v:.0} ms, missed"),
            None => "no sample".into(),
        };
        let (rv, av) = (verdict(rec), verdict(ack));
        println!("target: {name}: p50 <= {target:.0} ms: recorded {rv}; first write {av}");
        if let (Some(rec), Some(ack)) = (rec, ack) {
            println!(
                "{name} / detection floor {floor_ms:.0} ms (medians): recorded {:.2}x, first write {:.2}x",
                rec / floor_ms,
                ack / floor_ms
            );
        }
    }
    println!("acknowledged writes lost: {}", lost.len());
    if !lost.is_empty() {
        println!("lost ids (first 20): {:?}", &lost[..lost.len().min(20)]);
    }
    if !met {
        println!("(a missed target is reported, not an error)");
    }
    if let Some(e) = &failure {
        println!("failover section failed: {e}");
    }
    lost.is_empty() && failure.is_none()
}

/// One trial: the fault on the current primary, the failover timed from the kill, then the
/// killed server (and agent) restarted, the cool-down acknowledged and the rejoin awaited.
async fn failover_trial(b: &mut Bench, writer: &Writer, fault: Fault) -> Result<FailoverTrial, String> {
    let before = b.primary().await;
    let from = before.node.clone();
    let watching = format!("watching {from}: up");
    b.wait_coordinator(WAIT, |s| s.mode == "on" && s.reason == watching)
        .await
        .ok_or_else(|| format!("the coordinator does not watch {from}"))?;
    let (data, _, mut watcher) = b.zk.get_and_watch_data(&b.paths.primary()).await.expect("primary record");
    let epoch = parse_primary(&data).expect("valid record").epoch;
    let (mysql_pid, agent_pid) = (b.sb.mysql_pid(&from), b.sb.agent_pid(&from));

    let killed = Instant::now();
    let killed_wall_ms = myzoo::audit::now_ms();
    if fault == Fault::Host {
        kill(agent_pid);
    }
    kill(mysql_pid);

    let deadline = tokio::time::Instant::from_std(killed + FAILOVER_BOUND);
    let (record, recorded) = loop {
        if tokio::time::timeout_at(deadline, watcher.changed()).await.is_err() {
            return Err(format!("no new primary recorded within {FAILOVER_BOUND:?} of the kill of {from}"));
        }
        let at = Instant::now();
        let (data, _, next) = b.zk.get_and_watch_data(&b.paths.primary()).await.expect("primary record");
        let record = parse_primary(&data).expect("valid record");
        if record.epoch > epoch {
            break (record, at);
        }
        watcher = next;
    };
    let new_port = b.port(&record.node);
    let first_ack = loop {
        if let Some(at) = writer.first_ack_on(new_port, killed) {
            break at;
        }
        if Instant::now() >= killed + FAILOVER_BOUND {
            return Err(format!("no write acknowledged by {} within {FAILOVER_BOUND:?} of the kill", record.node));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };

    common::wait_exited(mysql_pid, WAIT).await;
    if fault == Fault::Host {
        common::wait_exited(agent_pid, WAIT).await;
    }
    // The coordinator blocks itself after a failover and, blocked, rejoins nobody: lift the
    // cool-down first, as `myzoo ack` does, then bring the server back.
    b.wait_coordinator(WAIT, |s| s.last_failover_ms.is_some_and(|f| f >= killed_wall_ms))
        .await
        .ok_or("the coordinator did not record its failover")?;
    update_state(&b.zk, &b.paths, |s| {
        s.acked_ms = Some(myzoo::audit::now_ms());
        s.acked_by = Some("bench".into());
    })
    .await
    .expect("acknowledge");
    let (_, _, journal) =
        journal::list(&b.zk, &b.paths, 1).await.expect("journal").into_iter().next().expect("a record");
    let breakdown = format!(
        "{} by {}: {}",
        journal.state.label(),
        journal.owner.user,
        journal
            .steps
            .iter()
            .filter_map(|s| s.duration_ms().map(|d| format!("{} {d}", s.name)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let detected = (journal.started_ms - killed_wall_ms) as f64;

    let restarted = Instant::now();
    let server = sandbox::restart_mysql(b.sb.dir.path(), &from).await.map_err(|e| format!("restart {from}: {e:#}"))?;
    *b.sb.status.mysql.iter_mut().find(|m| m.name == from).expect("node") = server;
    if fault == Fault::Host {
        b.restart_agent(&from).await;
    }
    b.wait_replicating(&record.node).await;
    let rejoin = ms(restarted.elapsed());
    b.settle(writer, &record.node, Instant::now()).await;
    Ok(FailoverTrial {
        from,
        to: record.node.clone(),
        epoch: record.epoch,
        recorded: ms(recorded.duration_since(killed)),
        first_ack: ms(first_ack.duration_since(killed)),
        detected,
        breakdown,
        rejoin,
    })
}

/// Switchovers in the `proxy` section.
const PROXY_SWITCHOVERS: usize = 6;
/// Automatic failovers (mysqld crash, agent alive) in the `proxy` section.
const PROXY_FAILOVERS: usize = 4;
/// First id of the writer through HAProxy (the record-following writer counts from 1).
const PROXY_WRITER_FIRST_ID: i64 = 1_000_000_000;
/// The targets for the write window through HAProxy.
const TARGET_PROXY_SWITCHOVER_MS: f64 = 1_000.0;
const TARGET_PROXY_FAILOVER_OVER_RTO_MS: f64 = 1_000.0;

/// HAProxy as an operator sets it up: the config from `myzoo haproxy-config` (the product's
/// binary, its default check interval), then Debian's `haproxy` started on it; waits until its
/// checks agree with the record.
async fn start_haproxy(b: &Bench) -> (common::haproxy::Haproxy, u16) {
    use common::haproxy::{free_port, Haproxy};
    let home = tempfile::tempdir().expect("temp home");
    let out = home.path().join("haproxy.cfg");
    let (write, read, stats) = (free_port(), free_port(), free_port());
    let at = |p: u16| format!("127.0.0.1:{p}");
    let run = common::isolated_myzoo(home.path())
        .args(["--zk", &b.sb.zk(), "haproxy-config", "--cluster", sandbox::CLUSTER])
        .args(["--write-bind", &at(write), "--read-bind", &at(read), "--stats", &at(stats), "--out"])
        .arg(&out)
        .output()
        .expect("run myzoo haproxy-config");
    assert!(run.status.success(), "haproxy-config: {}", String::from_utf8_lossy(&run.stderr));
    let config = std::fs::read_to_string(&out).expect("haproxy.cfg");
    let interval = config.lines().find(|l| l.contains(" inter ")).unwrap_or_default().trim().to_string();
    let hp = Haproxy::start(&config, &at(stats), &[&at(write), &at(read)]).await;
    let primary = b.primary().await.node;
    for n in b.nodes() {
        hp.wait_status("sandbox_write", &n, if n == primary { "UP" } else { "DOWN" }).await;
    }
    println!(
        "proxy: HAProxy {} on 127.0.0.1:{write} (writes) from myzoo haproxy-config: {interval}",
        haproxy_version()
    );
    (hp, write)
}

fn haproxy_version() -> String {
    let out = std::process::Command::new(common::haproxy::binary()).arg("-v").output();
    let text = out.map(|o| String::from_utf8_lossy(&o.stdout).to_string()).unwrap_or_default();
    text.lines().next().and_then(|l| l.split_whitespace().nth(2)).unwrap_or("?").to_string()
}

/// `cargo bench --bench failover -- proxy`: the write window of an application behind HAProxy
/// (following the agents' `/primary`), against the application that follows the primary
/// record itself (the peer), both writing all along, through switchovers and automatic
/// failovers (mysqld crash, agent alive).
async fn bench_proxy(semi_sync: bool) -> bool {
    let mut b = Bench::start("proxy", semi_sync, None).await;
    b.automatic_failover_on().await;
    let first = b.primary().await;
    b.wait_replicating(&first.node).await;
    let (hp, write_port) = start_haproxy(&b).await;
    let peer = b.start_writer();
    let ports: Vec<(String, u16)> = b.sb.status.mysql.iter().map(|m| (m.name.clone(), m.port)).collect();
    let proxied =
        Writer::on(b.zk.clone(), b.paths.clone(), ports, Some(write_port), PROXY_WRITER_FIRST_ID, b.creds.clone());
    tokio::time::sleep(Duration::from_millis(WARM_UP_MS)).await;

    let op = b.operator();
    let (mut sw_proxy, mut sw_peer) = (Vec::new(), Vec::new());
    let mut ok = true;
    for i in 0..PROXY_SWITCHOVERS {
        let started = Instant::now();
        let t = product_trial(&b, &op, &peer).await;
        let proxy_outage = recovered(&proxied, started).await;
        ok &= t.state == OpState::Done;
        println!(
            "  switchover {:>2}: {} -> {}  write block {:>4.0} ms  outage through HAProxy {:>9}  following the record {:>9}",
            i + 1,
            t.from,
            t.to,
            t.block,
            fmt_opt(proxy_outage),
            fmt_opt(t.outage)
        );
        sw_proxy.extend(proxy_outage);
        sw_peer.extend(t.outage);
    }
    let (mut fo_proxy, mut fo_peer, mut fo_rto) = (Vec::new(), Vec::new(), Vec::new());
    let mut over_rto = Vec::new();
    for i in 0..PROXY_FAILOVERS {
        let started = Instant::now();
        match failover_trial(&mut b, &peer, Fault::Crash).await {
            Ok(t) => {
                let proxy_outage = recovered(&proxied, started).await;
                println!(
                    "  failover   {:>2}: {} -> {}  recorded (RTO) {:>7.1} ms  outage through HAProxy {:>9}  \
                     following the record: first write {:>7.1} ms after the kill",
                    i + 1,
                    t.from,
                    t.to,
                    t.recorded,
                    fmt_opt(proxy_outage),
                    t.first_ack
                );
                if let Some(o) = proxy_outage {
                    over_rto.push(o - t.recorded);
                }
                fo_proxy.extend(proxy_outage);
                fo_peer.push(t.first_ack);
                fo_rto.push(t.recorded);
            }
            Err(e) => {
                println!("  failover   {:>2}: FAILED: {e}", i + 1);
                ok = false;
                break;
            }
        }
    }
    let peer_attempts = peer.stop().await;
    let proxy_attempts = proxied.stop().await;
    let (last, _, lost_peer) = b.lost_writes(&peer_attempts).await;
    let (_, _, lost_proxy) = b.lost_writes(&proxy_attempts).await;
    drop(hp);
    println!();
    println!(
        "proxy: final primary {} (epoch {}); through HAProxy {} acknowledged, following the record {} acknowledged",
        last.node,
        last.epoch,
        proxy_attempts.iter().filter(|a| a.ok).count(),
        peer_attempts.iter().filter(|a| a.ok).count()
    );
    let sp = summary("switchover: writer outage through HAProxy", sw_proxy);
    let sr = summary("switchover: writer outage following the record (peer)", sw_peer);
    let fp = summary("failover: writer outage through HAProxy", fo_proxy);
    let fr = summary("failover: kill -> first write following the record (peer)", fo_peer);
    let rto = summary("failover: kill -> new primary recorded (RTO)", fo_rto);
    let extra = summary("failover: outage through HAProxy minus RTO", over_rto);
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
        _ => "n/a".into(),
    };
    println!("HAProxy / following the record (medians): switchover {}, failover {}", ratio(sp, sr), ratio(fp, fr));
    let verdict = |v: Option<f64>, target: f64| match v {
        Some(v) if v <= target => format!("{v:.0} ms, met"),
        Some(v) => format!("{v:.0} ms, missed"),
        None => "no sample".into(),
    };
    println!(
        "target: switchover through HAProxy p50 <= {TARGET_PROXY_SWITCHOVER_MS:.0} ms: {}",
        verdict(sp, TARGET_PROXY_SWITCHOVER_MS)
    );
    println!(
        "target: failover through HAProxy p50 <= RTO + {TARGET_PROXY_FAILOVER_OVER_RTO_MS:.0} ms (RTO p50 {}): over RTO {}",
        fmt_opt(rto),
        verdict(extra, TARGET_PROXY_FAILOVER_OVER_RTO_MS)
    );
    println!(
        "acknowledged writes lost: through HAProxy {}, following the record {}",
        lost_proxy.len(),
        lost_peer.len()
    );
    ok && lost_peer.is_empty() && lost_proxy.is_empty()
}

/// The outage `writer` saw since `since`, once it writes again ([`ACKS_AFTER_TRIAL`] acks after
/// its last failure); `None` when no write failed at all.
async fn recovered(writer: &Writer, since: Instant) -> Option<f64> {
    let deadline = Instant::now() + WAIT;
    loop {
        let attempts = writer.attempts();
        let recent: Vec<&Attempt> = attempts.iter().filter(|a| a.at >= since).collect();
        let failed = recent.iter().rposition(|a| !a.ok);
        let acks_after = recent.len() - failed.map_or(0, |i| i + 1);
        if acks_after >= ACKS_AFTER_TRIAL {
            return failed.and_then(|_| writer_outage(&attempts, since)).map(|o| o.0);
        }
        assert!(Instant::now() < deadline, "the writer through HAProxy does not write again");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
