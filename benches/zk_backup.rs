//! ZooKeeper snapshot benchmarks on a real sandbox (ZooKeeper and the MariaDB backup store).
//! Run: `cargo bench --bench zk_backup [-- snapshot|memory|profile] [--runs N]`.
//!
//! Sections (the first argument; none runs them all):
//! - `snapshot`: a tree of [`FOLDERS`] × [`PER_FOLDER`] znodes of [`DATA_BYTES`] bytes (100,000,
//!   built with multi-op creates), snapshotted by `backup::snapshot::create` exactly as
//!   `myzoo zk-backup create` runs it (walk, store writes, checksum), median of `--runs` (default
//!   [`DEFAULT_RUNS`]), each run from a quiet cluster (the previous run's rows deleted and the
//!   deletion applied on the replicas), with the CPU seconds each server used; target ≤
//!   [`TARGET_MS`] ms. The peer in the same run on the same tree,
//!   once (it takes ~90 s): zk-shell's `cp /bench json://…` with its peak RSS (skipped with a
//!   note when `zk-shell` is not installed).
//! - `memory`: peak RSS of the real binary (`myzoo zk-backup create` as a child, its max RSS
//!   from `wait4`) at 10,000, 50,000 and 100,000 znodes; the target is a flat line once the
//!   bounded queues can be full (50k → 100k; 10k is under what they hold).
//! - `profile` (not part of "all"): where `create`'s time goes, each part alone at 100k: the
//!   walk drained without writing (ACLs on its own session, then over the snapshot's extra
//!   sessions), the ACL reads (at several depths of pipelining, then over 2, 4 and 8 sessions),
//!   the data multi-reads and the store's inserts.

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use myzoo::backup::snapshot::{self, SnapshotOptions};
use myzoo::backup::{Store, StoreAccess, Want};
use support::percentile;
use tokio_util::sync::CancellationToken;
use zookeeper_client::{Acls, Client, CreateMode};

const FOLDERS: usize = 100;
const PER_FOLDER: usize = 1_000;
const DATA_BYTES: usize = 100;
/// Creates per multi-op request while building the tree.
const BUILD_MULTI_OPS: usize = 500;
const BUILD_IN_FLIGHT: usize = 8;
const DEFAULT_RUNS: usize = 5;
const TARGET_MS: f64 = 3_000.0;
/// How often the memory section reads the child's resident set.
const RSS_SAMPLE_MS: u64 = 20;

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let runs = argv
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| argv.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_RUNS);
    let which = argv
        .iter()
        .enumerate()
        .find(|(i, a)| !a.starts_with("--") && (*i == 0 || argv[i - 1] != "--runs"))
        .map_or("all".to_string(), |(_, a)| a.clone());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().expect("runtime");
    rt.block_on(async {
        let sb = common::Sandbox::start_with(common::Sandbox::options(true)).await;
        let zk = Client::connect(&sb.zk()).await.expect("connect");
        let t = Instant::now();
        build(&zk, "/bench", FOLDERS, PER_FOLDER).await;
        build(&zk, "/bench10k", FOLDERS / 10, PER_FOLDER).await;
        println!(
            "tree: /bench {} znodes, /bench10k {} znodes of {DATA_BYTES} B, built in {:.1} s",
            FOLDERS * PER_FOLDER + FOLDERS + 1,
            FOLDERS / 10 * PER_FOLDER + FOLDERS / 10 + 1,
            t.elapsed().as_secs_f64()
        );
        let peer = zk_shell_available();
        if peer.is_none() {
            println!("peer: zk-shell is not installed (pip install zk-shell): its figures are skipped");
        }
        if which == "all" || which == "snapshot" {
            bench_snapshot(&sb, &zk, runs, peer.as_deref()).await;
        }
        if which == "profile" {
            bench_profile(&sb, &zk).await;
        }
        if which == "all" || which == "memory" {
            // A third size past what the snapshot's queues hold (about 34,000 records): from
            // there on, flat means the peak stops growing. (Twice the main tree would not fit
            // the sandbox ZooKeeper's 256 MB heap beside it: its GC would set the pace.)
            let t = Instant::now();
            build(&zk, "/bench50k", FOLDERS / 2, PER_FOLDER).await;
            println!(
                "tree: /bench50k {} znodes, built in {:.1} s",
                FOLDERS / 2 * PER_FOLDER + FOLDERS / 2 + 1,
                t.elapsed().as_secs_f64()
            );
            bench_memory(&sb).await;
        }
    });
}

/// Where `create`'s time goes, each part alone at 100k znodes: the walk (drained, nothing
/// written), the ACL reads (one `get_acl` per znode, 2,000 in flight) and the store's inserts
/// (`Store::insert_znodes` of synthetic records in transactions of `snapshot::TX_ROWS`).
async fn bench_profile(sb: &common::Sandbox, zk: &Client) {
    use futures::StreamExt;
    use myzoo::backup::walk::{self, WalkOptions};
    println!("\n== profile: /bench, each part alone ==");
    let mut paths = Vec::new();
    for run in 0..2 {
        let t = Instant::now();
        // The first run on the walk's own session alone, the second as a snapshot reads.
        let mut acl = Vec::new();
        for _ in 0..if run == 1 { snapshot::ACL_SESSIONS } else { 0 } {
            acl.push(Client::connect(&sb.zk()).await.expect("connect"));
        }
        let mut rx = walk::tree_with(zk.clone(), acl, WalkOptions { root: "/bench".into(), include_ephemeral: false });
        let mut n = 0;
        while let Some(batch) = rx.recv().await {
            let batch = batch.expect("walk");
            n += batch.len();
            if run == 0 {
                paths.extend(batch.into_iter().map(|r| r.path));
            }
        }
        let how = if run == 1 {
            format!("ACLs over {} sessions", snapshot::ACL_SESSIONS)
        } else {
            "ACLs on its own session".into()
        };
        println!("  walk alone (data, children, {how}): {n} znodes in {:.0} ms", t.elapsed().as_secs_f64() * 1000.0);
    }
    for in_flight in [2_000, 250, 1_000, 4_000] {
        let t = Instant::now();
        let n = futures::stream::iter(paths.iter())
            .map(|p| zk.get_acl(p))
            .buffer_unordered(in_flight)
            .fold(0usize, |n, r| async move { n + usize::from(r.is_ok()) })
            .await;
        println!("  get_acl alone, {in_flight} in flight: {n} znodes in {:.0} ms", t.elapsed().as_secs_f64() * 1000.0);
    }
    for sessions in [2usize, 4, 8] {
        let mut clients = Vec::new();
        for _ in 0..sessions {
            clients.push(Client::connect(&sb.zk()).await.expect("connect"));
        }
        let t = Instant::now();
        let n = futures::stream::iter(paths.iter().enumerate())
            .map(|(i, p)| clients[i % sessions].get_acl(p))
            .buffer_unordered(2_000)
            .fold(0usize, |n, r| async move { n + usize::from(r.is_ok()) })
            .await;
        println!(
            "  get_acl alone over {sessions} sessions: {n} znodes in {:.0} ms",
            t.elapsed().as_secs_f64() * 1000.0
        );
    }
    {
        let t = Instant::now();
        let n = futures::stream::iter(paths.chunks(walk::WALK_BATCH))
            .map(|chunk| async move {
                let mut r = zk.new_multi_reader();
                for p in chunk {
                    r.add_get_data(p).expect("multi");
                }
                r.commit().await.map(|v| v.len()).unwrap_or(0)
            })
            .buffer_unordered(4)
            .fold(0usize, |n, r| async move { n + r })
            .await;
        println!("  data multi-reads alone: {n} znodes in {:.0} ms", t.elapsed().as_secs_f64() * 1000.0);
    }
    let mut store = Store::open(&access(sb), Want::Write).await.expect("store");
    let records: Vec<myzoo::backup::ZnodeRecord> = paths
        .iter()
        .enumerate()
        .map(|(i, p)| myzoo::backup::ZnodeRecord {
            path: p.clone(),
            data: vec![b'x'; DATA_BYTES],
            stat: myzoo::zk::NodeStat { czxid: i as i64, data_length: DATA_BYTES as i32, ..Default::default() },
            acl: vec![myzoo::zk::load::acl_entry(&zookeeper_client::Acl::new(
                zookeeper_client::Permission::ALL,
                zookeeper_client::AuthId::anyone(),
            ))],
            mode: myzoo::backup::ZnodeMode::Persistent,
        })
        .collect();
    for _ in 0..2 {
        let id = store
            .begin_snapshot(&myzoo::backup::store::NewSnapshot {
                ensemble: "bench".into(),
                root: "/bench".into(),
                include_ephemeral: false,
                started_ms: 0,
                operator: "bench".into(),
                host: "bench".into(),
                origin: "cli".into(),
                note: "profile".into(),
            })
            .await
            .expect("begin");
        let t = Instant::now();
        let mut seq = 0u32;
        for chunk in records.chunks(snapshot::TX_ROWS) {
            store.insert_znodes(id, seq, chunk).await.expect("insert");
            seq += chunk.len() as u32;
        }
        println!("  insert_znodes alone: {seq} rows in {:.0} ms", t.elapsed().as_secs_f64() * 1000.0);
        store.delete_snapshot(id).await.expect("clean up");
    }
}

/// `root` with `folders` children of `per_folder` znodes each, through multi-op creates.
async fn build(zk: &Client, root: &str, folders: usize, per_folder: usize) {
    use futures::StreamExt;
    let open = CreateMode::Persistent.with_acls(Acls::anyone_all());
    zk.create(root, b"", &open).await.expect("bench root");
    let data = vec![b'x'; DATA_BYTES];
    let mut paths = Vec::new();
    for f in 0..folders {
        zk.create(&format!("{root}/f{f:03}"), b"", &open).await.expect("folder");
        for n in 0..per_folder {
            paths.push(format!("{root}/f{f:03}/node-{n:05}"));
        }
    }
    let chunks: Vec<Vec<String>> = paths.chunks(BUILD_MULTI_OPS).map(<[String]>::to_vec).collect();
    futures::stream::iter(chunks)
        .for_each_concurrent(BUILD_IN_FLIGHT, |chunk| {
            let (zk, data, open) = (zk.clone(), data.clone(), open.clone());
            async move {
                let mut w = zk.new_multi_writer();
                for p in &chunk {
                    w.add_create(p, &data, &open).expect("multi create");
                }
                w.commit().await.expect("multi commit");
            }
        })
        .await;
}

fn access(sb: &common::Sandbox) -> StoreAccess {
    StoreAccess::from_config(sb.status.backup_store.as_ref().expect("store")).expect("store access")
}

async fn bench_snapshot(sb: &common::Sandbox, zk: &Client, runs: usize, peer: Option<&str>) {
    println!("\n== snapshot: /bench, {runs} runs each ==");
    let mut store = Store::open(&access(sb), Want::Write).await.expect("store");
    let opts = SnapshotOptions {
        ensemble: sb.zk(),
        root: "/bench".into(),
        include_ephemeral: false,
        note: "bench".into(),
        operator: "bench".into(),
        host: "bench".into(),
        origin: "cli".into(),
        audit_root: Some("/bench".into()),
        // As `myzoo zk-backup create` does: the ACL reads over sessions of their own.
        acl_sessions: Some(sb.session(Duration::from_secs(30))),
    };
    let mut product = Vec::new();
    let mut zk_shell = Vec::new();
    let servers = Servers::of(sb);
    for run in 0..runs {
        let cpu = servers.cpu_ns();
        let t = Instant::now();
        let meta = snapshot::create(zk, &mut store, &opts, &|_| {}, &CancellationToken::new()).await.expect("snapshot");
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let cpu =
            servers.cpu_ns().iter().zip(cpu).map(|(after, before)| (after - before) as f64 / 1e9).collect::<Vec<_>>();
        product.push(ms);
        println!(
            "  run {}: myzoo {ms:.0} ms ({} znodes, {:.1} MB data, {:.0} znodes/s); CPU s: ZooKeeper {:.2}, \
             MariaDB primary {:.2}, replicas {:.2}, bench {:.2}",
            run + 1,
            meta.znodes,
            meta.bytes as f64 / 1e6,
            meta.znodes as f64 / (ms / 1000.0),
            cpu[0],
            cpu[1],
            cpu[2],
            cpu[3],
        );
        store.delete_snapshot(meta.id).await.expect("clean up");
        // The next run starts from a quiet cluster: the replicas have applied the deletion
        // (otherwise they apply it beside the next run's inserts, on the same two cores).
        servers.replicas_caught_up().await;
        // zk-shell takes ~90 s per export: once is enough for the comparison.
        if let Some(bin) = peer.filter(|_| run == 0) {
            let dir = tempfile::tempdir().expect("tmp");
            let (ms, rss) = zk_shell_export(bin, &sb.zk(), "/bench", dir.path());
            zk_shell.push(ms);
            println!("  run {}: zk-shell cp → json {ms:.0} ms, peak RSS {:.1} MB", run + 1, rss as f64 / 1024.0);
        }
    }
    let med = percentile(&mut product, 0.5);
    println!(
        "myzoo snapshot::create, 100k znodes: median {med:.0} ms (min {:.0}, max {:.0}); target ≤ {TARGET_MS:.0} ms: {}",
        product[0],
        product[product.len() - 1],
        if med <= TARGET_MS { "met" } else { "MISSED" }
    );
    if !zk_shell.is_empty() {
        let peer_med = percentile(&mut zk_shell, 0.5);
        println!("zk-shell cp to json://, same tree, once: {peer_med:.0} ms ({:.1}× myzoo's median)", peer_med / med);
    }
}

async fn bench_memory(sb: &common::Sandbox) {
    println!("\n== memory: peak RSS of the real binary ==");
    let home = tempfile::tempdir().expect("home");
    let store = sb.status.backup_store.as_ref().expect("store");
    let cfg = home.path().join("config.toml");
    let text = format!(
        "default_profile = \"b\"\n[profiles.b]\nzk = {:?}\nroot = \"/bench\"\n[profiles.b.backup_store]\n\
         hosts = {:?}\ndatabase = {:?}\nuser = {:?}\npassword_file = {:?}\n",
        sb.zk(),
        store.hosts,
        store.database,
        store.user,
        store.password_file.as_ref().expect("password file")
    );
    std::fs::write(&cfg, text).expect("config");
    let mut rows = Vec::new();
    for (root, n) in [("/bench10k", 10_000), ("/bench50k", 50_000), ("/bench", 100_000)] {
        let mut cmd = common::isolated_myzoo(&home.path().join("h"));
        cmd.env("MYZOO_CONFIG", &cfg).args(["zk-backup", "create", "--path", root, "--json"]);
        let (ms, rss_kb, ok, samples) = run_sampled(cmd);
        assert!(ok, "myzoo zk-backup create {root} failed");
        println!("  myzoo zk-backup create {n:>7} znodes: {ms:>6.0} ms, peak RSS {:>6.1} MB", rss_kb as f64 / 1024.0);
        // The resident set at each tenth of the run.
        let tenths: Vec<String> = (1..=10)
            .filter_map(|i| samples.iter().rev().find(|(at, _)| *at <= ms * i as f64 / 10.0))
            .map(|(_, kb)| format!("{:.1}", *kb as f64 / 1024.0))
            .collect();
        println!("    RSS MB at each tenth of the run: {}", tenths.join(" "));
        rows.push(rss_kb);
    }
    println!(
        "myzoo peak RSS 10k → 50k → 100k: {:.1} → {:.1} → {:.1} MB (50k → 100k: {:+.1} MB)",
        rows[0] as f64 / 1024.0,
        rows[1] as f64 / 1024.0,
        rows[2] as f64 / 1024.0,
        (rows[2] as f64 - rows[1] as f64) / 1024.0
    );
}

/// Runs `cmd` to its end: wall time in ms, its peak RSS in KiB (`wait4`'s `ru_maxrss`), success.
// The child is reaped by `wait4` (which std's `wait` cannot do: it gives no rusage).
#[allow(clippy::zombie_processes)]
fn run_measured(cmd: Command) -> (f64, i64, bool) {
    let (ms, rss, ok, _) = run_sampled(cmd);
    (ms, rss, ok)
}

/// [`run_measured`], plus the child's resident set (KiB) every [`RSS_SAMPLE_MS`] ms, with the
/// time into the run: where the peak is reached says whether memory grows with the work done or
/// stops at what the bounded queues hold.
// The child is reaped by `wait4` (for its rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn run_sampled(mut cmd: Command) -> (f64, i64, bool, Vec<(f64, u64)>) {
    use std::sync::atomic::{AtomicBool, Ordering};
    cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped());
    let t = Instant::now();
    let child = cmd.spawn().expect("spawn");
    let pid = child.id() as libc::pid_t;
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut samples = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let kb = std::fs::read_to_string(format!("/proc/{pid}/status")).ok().and_then(|s| {
                    s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
                });
                if let Some(kb) = kb {
                    samples.push((t.elapsed().as_secs_f64() * 1000.0, kb));
                }
                std::thread::sleep(Duration::from_millis(RSS_SAMPLE_MS));
            }
            samples
        })
    };
    let mut status: libc::c_int = 0;
    // SAFETY: zeroed rusage is a valid out-parameter; wait4 on our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(rc, pid, "wait4: {}", std::io::Error::last_os_error());
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    if !ok {
        let mut err = String::new();
        if let Some(mut e) = child.stderr {
            use std::io::Read;
            let _ = e.read_to_string(&mut err);
        }
        eprintln!("child failed: {err}");
    }
    stop.store(true, Ordering::Relaxed);
    let samples = sampler.join().expect("sampler");
    (ms, usage.ru_maxrss, ok, samples)
}

/// The sandbox's servers, for their CPU time and the replicas' catching up.
struct Servers {
    zk_pid: String,
    primary: (u16, String),
    replicas: Vec<(u16, String)>,
}

impl Servers {
    fn of(sb: &common::Sandbox) -> Servers {
        let pid = |p: Option<u32>| p.map_or_else(String::new, |p| p.to_string());
        let primary = sb.status.mysql.iter().find(|m| m.role == "primary").expect("a primary");
        Servers {
            zk_pid: pid(sb.status.zk_servers[0].pid),
            primary: (primary.port, pid(primary.pid)),
            replicas: sb.status.mysql.iter().filter(|m| m.role != "primary").map(|m| (m.port, pid(m.pid))).collect(),
        }
    }

    /// CPU ns so far: ZooKeeper, the primary, the replicas together, this process.
    fn cpu_ns(&self) -> [u64; 4] {
        [
            support::cpu_ns(&self.zk_pid),
            support::cpu_ns(&self.primary.1),
            self.replicas.iter().map(|(_, pid)| support::cpu_ns(pid)).sum(),
            support::cpu_ns("self"),
        ]
    }

    /// Until every replica has applied what the primary has written.
    async fn replicas_caught_up(&self) {
        use mysql_async::prelude::Queryable;
        let mut c = myzoo::sandbox::mariadb::connect_root(self.primary.0).await.expect("primary");
        let pos: String = c.query_first("SELECT @@gtid_binlog_pos").await.expect("position").unwrap_or_default();
        for (port, _) in &self.replicas {
            let mut r = myzoo::sandbox::mariadb::connect_root(*port).await.expect("replica");
            let done: Option<i64> =
                r.exec_first("SELECT MASTER_GTID_WAIT(?, 120)", (pos.clone(),)).await.expect("wait");
            assert_eq!(done, Some(0), "a replica did not catch up");
        }
    }
}

fn zk_shell_available() -> Option<String> {
    let found = Command::new("sh").args(["-c", "command -v zk-shell"]).output().ok()?;
    let path = String::from_utf8_lossy(&found.stdout).trim().to_string();
    (!path.is_empty()).then_some(path)
}

/// zk-shell's `cp SRC json://FILE/ recursive overwrite asynchronous` (its fastest mode) of `root` into a file under `dir`: wall
/// ms and peak RSS KiB.
fn zk_shell_export(bin: &str, zk: &str, root: &str, dir: &Path) -> (f64, i64) {
    let file = dir.join("bench.json");
    let target = format!("json://{}/", file.display().to_string().replace('/', "!"));
    let mut cmd = Command::new(bin);
    cmd.args(["--run-once", &format!("cp {root} {target} true true true"), zk]);
    let (ms, rss, ok) = run_measured(cmd);
    let size = std::fs::metadata(&file).map_or(0, |m| m.len());
    if !ok || size == 0 {
        eprintln!("  zk-shell did not write {} (exit ok: {ok}, {size} bytes)", file.display());
    }
    std::thread::sleep(Duration::from_millis(100));
    (ms, rss)
}
