//! Console benchmarks against a real ZooKeeper (a sandbox started here unless `MYZOO_BENCH_ZK`
//! names one). Run: `cargo bench --bench console [-- full-load|watch|idle|render]`.
//!
//! 1. full-load — paths + stat + data of 100,000 znodes into the console's tree model, in a
//!    child process (wall time, peak RSS), beside `zkCli.sh ls -R` on the same tree.
//! 2. watch     — `set_data` by another client to the drawn frame showing it (p50, p99).
//! 3. idle      — the real binary in a pseudo-terminal for 10 s with nothing changing: CPU time
//!    and bytes written to the terminal.
//! 4. render    — one frame at 200×60 with a 10,000-row tree, beside a 10-row tree.

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use myzoo::console::app::App;
use myzoo::console::event::Event;
use myzoo::console::headless::Headless;
use myzoo::console::tree::TreeModel;
use myzoo::console::view;
use myzoo::zk::session::SessionConfig;
use myzoo::zk::{load, NodeInfo, NodeStat, SessionBadge, ZkEvent};
use portable_pty::{native_pty_system, CommandBuilder, PtySize};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use support::{cpu_ns, percentile};
use zookeeper_client::{Acls, Client, CreateMode};

const TREE_ROOT: &str = "/bench";
const GROUPS: usize = 90;
const PER_GROUP: usize = 1_000;
const BIG_CHILDREN: usize = 10_000;
/// 1 + 1 + 90 groups × 1,000 + 1 big + 10,000 = 100,003 znodes under and including /bench.
const TOTAL_ZNODES: usize = 2 + GROUPS * (PER_GROUP + 1) + BIG_CHILDREN;
const CREATES_PER_MULTI: usize = 1_000;
const LOAD_RUNS: usize = 5;
const ZKCLI_RUNS: usize = 3;
const WATCH_SAMPLES: usize = 300;
const IDLE_SECONDS: u64 = 10;
const RENDER_FRAMES: usize = 500;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    if args.first().map(String::as_str) == Some("load-once") {
        load_once(&args[1]);
        return;
    }
    let which = args.first().cloned().unwrap_or_else(|| "all".into());
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    if which == "render" {
        bench_render();
        return;
    }
    let (zk, _sandbox) = match std::env::var("MYZOO_BENCH_ZK") {
        Ok(zk) => (zk, None),
        Err(_) => {
            let sb = rt.block_on(common::Sandbox::zk_only());
            (sb.zk(), Some(sb))
        }
    };
    rt.block_on(populate(&zk));
    let all = which == "all";
    if all || which == "full-load" {
        bench_full_load(&zk);
    }
    if all || which == "watch" {
        rt.block_on(bench_watch(&zk));
    }
    if all || which == "idle" {
        bench_idle(&zk);
    }
    if all {
        bench_render();
    }
}

fn json_data(i: usize) -> Vec<u8> {
    format!(
        r#"{{"id":{i},"host":"db{i:05}.example.internal","port":3306,"role":"replica","weight":10,"tags":["a","b"]}}"#
    )
    .into_bytes()
}

/// Creates the 100,000-znode tree once (multi-writes of 1,000 creates each).
async fn populate(zk: &str) {
    let client = Client::connect(zk).await.unwrap();
    if let Ok(n) = client.count_descendants_number(TREE_ROOT).await {
        if n + 1 >= TOTAL_ZNODES {
            return;
        }
    }
    let t = Instant::now();
    let opts = CreateMode::Persistent.with_acls(Acls::anyone_all());
    let mut paths: Vec<(String, Vec<u8>)> = vec![(TREE_ROOT.into(), json_data(0))];
    paths.push((format!("{TREE_ROOT}/groups"), json_data(1)));
    for g in 0..GROUPS {
        paths.push((format!("{TREE_ROOT}/groups/g{g:03}"), json_data(g)));
        for n in 0..PER_GROUP {
            paths.push((format!("{TREE_ROOT}/groups/g{g:03}/n{n:04}"), json_data(n)));
        }
    }
    paths.push((format!("{TREE_ROOT}/big"), json_data(2)));
    for n in 0..BIG_CHILDREN {
        paths.push((format!("{TREE_ROOT}/big/c{n:05}"), json_data(n)));
    }
    for chunk in paths.chunks(CREATES_PER_MULTI) {
        let mut w = client.new_multi_writer();
        for (p, d) in chunk {
            w.add_create(p, d, &opts).unwrap();
        }
        w.commit().await.unwrap();
    }
    eprintln!("created {} znodes in {:.1} s", paths.len(), t.elapsed().as_secs_f64());
}

/// Child-process side of the full-load benchmark: load, build the model, print figures.
fn load_once(zk: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let client = Client::connect(zk).await.unwrap();
        let t = Instant::now();
        let entries = load::load_tree(&client, TREE_ROOT).await.unwrap();
        let n = entries.len();
        let mut model = TreeModel::default();
        model.apply_tree(entries.into_iter().map(|e| (e.node, e.children)).collect());
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        assert!(model.len() > n, "model holds the tree");
        println!("{ms:.1} {n}");
    });
}

/// Runs a command, reading its stdout as it goes; returns (wall, peak RSS in KiB, stdout lines).
fn measure(cmd: &mut Command) -> (Duration, i64, Vec<String>) {
    let t = Instant::now();
    // Reaped by wait4 below, which also reports the peak RSS that wait() would not.
    #[allow(clippy::zombie_processes)]
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || BufReader::new(stdout).lines().map_while(Result::ok).collect::<Vec<_>>());
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    // wait4 reports the peak RSS of the child and of the descendants it waited for (the JVM
    // under zkCli.sh's shell).
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid, "wait4 failed");
    let wall = t.elapsed();
    let lines = reader.join().unwrap();
    (wall, usage.ru_maxrss, lines)
}

fn bench_full_load(zk: &str) {
    let exe = std::env::current_exe().unwrap();
    let (mut walls, mut inner, mut rss) = (Vec::new(), Vec::new(), Vec::new());
    let mut count = 0;
    for _ in 0..LOAD_RUNS {
        let (wall, maxrss, lines) = measure(Command::new(&exe).args(["load-once", zk]));
        let mut it = lines.last().expect("load-once output").split_whitespace();
        inner.push(it.next().unwrap().parse::<f64>().unwrap());
        count = it.next().unwrap().parse::<usize>().unwrap();
        walls.push(wall.as_secs_f64() * 1000.0);
        rss.push(maxrss as f64 / 1024.0);
    }
    let (mut zwalls, mut zrss) = (Vec::new(), Vec::new());
    let mut zcount = 0;
    for _ in 0..ZKCLI_RUNS {
        let (wall, maxrss, lines) =
            measure(Command::new("/usr/share/zookeeper/bin/zkCli.sh").args(["-server", zk, "ls", "-R", TREE_ROOT]));
        zcount = lines.iter().filter(|l| l.starts_with(TREE_ROOT)).count();
        zwalls.push(wall.as_secs_f64() * 1000.0);
        zrss.push(maxrss as f64 / 1024.0);
    }
    let (m_inner, m_wall, m_rss) =
        (percentile(&mut inner, 0.5), percentile(&mut walls, 0.5), percentile(&mut rss, 0.5));
    let (z_wall, z_rss) = (percentile(&mut zwalls, 0.5), percentile(&mut zrss, 0.5));
    println!("== full load: {count} znodes (paths + stat + ~100-byte JSON data) ==");
    println!("myzoo load into tree model   median {m_inner:>8.1} ms   (process wall {m_wall:.1} ms, peak RSS {m_rss:.1} MiB, {LOAD_RUNS} runs)");
    println!("zkCli.sh ls -R (paths only)  median {z_wall:>8.1} ms   (peak RSS {z_rss:.1} MiB, {zcount} paths, {ZKCLI_RUNS} runs)");
    println!("ratio zkCli.sh / myzoo       {:.1}x (process wall to process wall)", z_wall / m_wall);
}

fn opts(size: (u16, u16), root: &str) -> myzoo::console::app::AppOptions {
    common::app_opts(size, root)
}

async fn bench_watch(zk: &str) {
    let client = Client::connect(zk).await.unwrap();
    let create = CreateMode::Persistent.with_acls(Acls::anyone_all());
    let _ = client.create("/latency", &json_data(0), &create).await;
    let session = SessionConfig { connect: zk.into(), session_timeout: Duration::from_secs(10) };
    let mut h = Headless::start(opts((200, 60), "/bench/big"), session).unwrap();
    let loaded = |a: &App| {
        a.tree().node("/bench/big").and_then(|n| n.children.as_ref()).is_some_and(|c| c.len() == BIG_CHILDREN)
    };
    assert!(h.pump_until(Duration::from_secs(30), loaded).await, "10,000 children not loaded");
    for c in ":goto /latency\n".chars() {
        let code = if c == '\n' { KeyCode::Enter } else { KeyCode::Char(c) };
        h.send(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }
    assert!(h.pump_until(Duration::from_secs(10), |a| a.tree().selected_path() == Some("/latency")).await);
    let mut samples = Vec::with_capacity(WATCH_SAMPLES);
    for i in 1..=WATCH_SAMPLES {
        let data = json_data(1_000_000 + i);
        let t = Instant::now();
        client.set_data("/latency", &data, None).await.unwrap();
        let shown = h
            .pump_until(Duration::from_secs(5), |a| {
                !a.dirty() && a.tree().node("/latency").is_some_and(|n| n.data == data)
            })
            .await;
        assert!(shown, "change {i} never drawn");
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let rows = h.app.tree().rows().len();
    h.shutdown().await;
    let (p50, p99, max) =
        (percentile(&mut samples, 0.5), percentile(&mut samples, 0.99), percentile(&mut samples, 1.0));
    println!("== watch to screen: set_data by another client → frame drawn showing it ({WATCH_SAMPLES} changes, {rows} rows in the tree, 200×60) ==");
    println!("p50 {p50:.2} ms   p99 {p99:.2} ms   max {max:.2} ms");
}

fn bench_idle(zk: &str) {
    let dir = tempfile::tempdir().unwrap();
    let pty = native_pty_system();
    let pair = pty.openpty(PtySize { rows: 40, cols: 120, pixel_width: 0, pixel_height: 0 }).unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_myzoo"));
    cmd.args(["--zk", zk, "--root", "/bench/big", "--log-file"]);
    cmd.arg(dir.path().join("log"));
    cmd.env("MYZOO_CONFIG", dir.path().join("config.toml"));
    std::fs::create_dir_all(dir.path().join("home")).unwrap();
    cmd.cwd(dir.path());
    cmd.env("HOME", dir.path().join("home"));
    cmd.env("XDG_STATE_HOME", dir.path().join("state"));
    cmd.env("TERM", "xterm-256color");
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let pid = child.process_id().unwrap();
    let mut reader = pair.master.try_clone_reader().unwrap();
    let bytes = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (b2, s2) = (bytes.clone(), seen.clone());
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            b2.fetch_add(n, Ordering::SeqCst);
            let mut s = s2.lock().unwrap();
            if s.len() < 1 << 20 {
                s.extend_from_slice(&buf[..n]);
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while !String::from_utf8_lossy(&seen.lock().unwrap()).contains("c00001") {
        assert!(Instant::now() < deadline, "console never showed the tree");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(2));
    let (b0, c0) = (bytes.load(Ordering::SeqCst), cpu_ns(&pid.to_string()));
    std::thread::sleep(Duration::from_secs(IDLE_SECONDS));
    let (b1, c1) = (bytes.load(Ordering::SeqCst), cpu_ns(&pid.to_string()));
    let mut writer = pair.master.take_writer().unwrap();
    let _ = std::io::Write::write_all(&mut writer, b"q");
    let _ = child.wait();
    let cpu_ms = (c1 - c0) as f64 / 1e6;
    println!("== idle: real binary in a pty, 10,000-row tree, {IDLE_SECONDS} s with nothing changing ==");
    println!(
        "CPU {cpu_ms:.2} ms = {:.4} % of a core   bytes written to the terminal {}",
        cpu_ms / (IDLE_SECONDS as f64 * 1000.0) * 100.0,
        b1 - b0
    );
}

fn node(path: &str, children: i32) -> NodeInfo {
    let stat = NodeStat { czxid: 1, mzxid: 1, num_children: children, data_length: 100, ..NodeStat::default() };
    NodeInfo { path: path.into(), stat, data: json_data(1) }
}

/// An app whose tree has `/big` expanded with `n` children, selection inside it.
fn app_with_rows(n: usize) -> App {
    let mut app = App::new(myzoo::console::app::AppOptions { now: SystemTime::now(), ..opts((200, 60), "/big") });
    app.update(Event::Zk(ZkEvent::Session { badge: SessionBadge::Connected, at: SystemTime::now() }));
    app.update(Event::Zk(ZkEvent::Ready { generation: 1 }));
    let parent = node("/", 1);
    app.update(Event::Zk(ZkEvent::Children { parent, children: vec![node("/big", n as i32)], failed: vec![] }));
    let kids = (0..n).map(|i| node(&format!("/big/c{i:05}"), 0)).collect();
    app.update(Event::Zk(ZkEvent::Children { parent: node("/big", n as i32), children: kids, failed: vec![] }));
    app
}

fn frame_times(mut app: App) -> Vec<f64> {
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
    let mut samples = Vec::with_capacity(RENDER_FRAMES);
    for i in 0..RENDER_FRAMES {
        // Move the selection so each frame differs (page down, then back up).
        let code = if (i / 20) % 2 == 0 { KeyCode::PageDown } else { KeyCode::PageUp };
        app.update(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        let t = Instant::now();
        terminal.draw(|f| view::draw(f, &app)).unwrap();
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    samples
}

fn bench_render() {
    let mut big = frame_times(app_with_rows(BIG_CHILDREN));
    let mut small = frame_times(app_with_rows(10));
    let (b50, b99) = (percentile(&mut big, 0.5), percentile(&mut big, 0.99));
    let (s50, s99) = (percentile(&mut small, 0.5), percentile(&mut small, 0.99));
    println!("== render: one frame at 200×60 ({RENDER_FRAMES} frames, selection moving) ==");
    println!("10,000-row tree   p50 {b50:.3} ms   p99 {b99:.3} ms");
    println!("10-row tree       p50 {s50:.3} ms   p99 {s99:.3} ms   ratio of p50s {:.2}x", b50 / s50);
}
