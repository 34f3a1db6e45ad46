//! Console benchmarks against a real ZooKeeper (a sandbox started here unless `MYZOO_BENCH_ZK`
//! names one). Run: `cargo bench --bench console [-- find|watch|idle|render]`.
//!
//! 1. find      — `myzoo zk find` over the 100,000-znode tree as a whole process (the release
//!    binary; wall time, peak RSS), by data, by name and every znode as `--json`, beside
//!    `zkCli.sh ls -R` and zk-shell's `find` and `grep` on the same tree in the same run.
//! 2. watch     — `set_data` by another client to the drawn frame showing it (p50, p99).
//! 3. idle      — the real binary in a pseudo-terminal for 10 s with nothing changing: CPU time
//!    and bytes written to the terminal.
//! 4. render    — one frame at 200×60 with a 10,000-row tree, beside a 10-row tree.

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use myzoo::console::app::App;
use myzoo::console::event::Event;
use myzoo::console::headless::Headless;
use myzoo::console::view;
use myzoo::zk::session::SessionConfig;
use myzoo::zk::{NodeInfo, NodeStat, SessionBadge, ZkEvent};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use support::{cpu_ns, percentile, PtyConsole};
use zookeeper_client::{Acls, Client, CreateMode};

const TREE_ROOT: &str = "/bench";
const GROUPS: usize = 90;
const PER_GROUP: usize = 1_000;
const BIG_CHILDREN: usize = 10_000;
/// /bench, /bench/groups, 90 groups of 1,000, /bench/big and its 10,000: 100,093 znodes.
const TOTAL_ZNODES: usize = 3 + GROUPS * (PER_GROUP + 1) + BIG_CHILDREN;
const CREATES_PER_MULTI: usize = 1_000;
const WATCH_SAMPLES: usize = 300;
const IDLE_SECONDS: u64 = 10;
const RENDER_FRAMES: usize = 500;

fn main() {
    let raw: Vec<String> = std::env::args().collect();
    if raw.get(1).map(String::as_str) == Some("measure") {
        launch(&raw[2..]);
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
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
    // `full-load` was this case's name while it timed the tree model in a child process.
    if all || which == "find" || which == "full-load" {
        bench_find(&zk);
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

/// One finished process: wall time, peak RSS, what it printed.
struct Run {
    wall_ms: f64,
    peak_rss_mib: f64,
    /// Lines on stdout, and those that start with the tree's root (one per path listed).
    lines: usize,
    paths: usize,
    last_line: String,
    exit: i32,
}

/// First word of the line the launcher prints on stderr with its figures.
const MEASURED: &str = "measured:";

/// Runs a command to its end through a launcher (this benchmark's binary, fresh), counting the
/// command's stdout lines as they come. The launcher starts the command and reaps it with
/// `wait4`, which gives its wall time and peak RSS (covering the descendants it waited for:
/// the JVM under zkCli.sh's shell). Why a launcher: Linux records the peak RSS of the memory a
/// process had before `execve` in the peak it reports, and a child spawned from this process
/// starts out sharing (vfork) or copying (fork) this process's memory — tens of MiB after the
/// tree was created. A fresh launcher's few MiB are the floor instead (`bench_find` prints it).
fn measure(cmd: &mut Command) -> Run {
    let mut launcher = Command::new(std::env::current_exe().unwrap());
    launcher.arg("measure").arg(cmd.get_program()).args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => launcher.env(k, v),
            None => launcher.env_remove(k),
        };
    }
    let mut child = launcher.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let (mut lines, mut paths, mut last) = (0, 0, String::new());
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            lines += 1;
            paths += usize::from(line.starts_with(TREE_ROOT));
            last = line;
        }
        (lines, paths, last)
    });
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(child.wait().unwrap().success(), "launcher failed: {stderr}");
    let (lines, paths, last_line) = reader.join().unwrap();
    let figures: Vec<f64> = stderr
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(MEASURED))
        .unwrap_or_else(|| panic!("no figures from the launcher: {stderr}"))
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    let [wall_ms, maxrss_kib, exit] = figures[..] else { panic!("launcher printed {figures:?}") };
    Run { wall_ms, peak_rss_mib: maxrss_kib / 1024.0, lines, paths, last_line, exit: exit as i32 }
}

/// The launcher's side of [`measure`]: runs `argv` (stdout inherited, stderr dropped), reaps it
/// with `wait4`, and prints `measured: WALL_MS PEAK_RSS_KIB EXIT` on stderr.
fn launch(argv: &[String]) {
    let t = Instant::now();
    // Reaped by wait4 below, which also reports the peak RSS that wait() would not.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(&argv[0]).args(&argv[1..]).stdin(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid, "wait4 failed");
    let wall_ms = t.elapsed().as_secs_f64() * 1000.0;
    let exit = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 };
    eprintln!("{MEASURED} {wall_ms:.3} {} {exit}", usage.ru_maxrss);
}

/// Medians (and the spread) of several runs of one command.
struct Figures {
    label: String,
    runs: Vec<Run>,
}

impl Figures {
    fn measure(label: &str, runs: usize, mut cmd: impl FnMut() -> Command) -> Figures {
        let runs = (0..runs)
            .map(|_| {
                let r = measure(&mut cmd());
                eprintln!(
                    "  {label}: {:.0} ms, {:.1} MiB, {} lines, exit {}",
                    r.wall_ms, r.peak_rss_mib, r.lines, r.exit
                );
                r
            })
            .collect();
        Figures { label: label.to_string(), runs }
    }

    fn wall(&self) -> f64 {
        percentile(&mut self.runs.iter().map(|r| r.wall_ms).collect::<Vec<_>>(), 0.5)
    }

    fn rss(&self) -> f64 {
        percentile(&mut self.runs.iter().map(|r| r.peak_rss_mib).collect::<Vec<_>>(), 0.5)
    }

    fn print(&self, output: &str) {
        let mut walls: Vec<f64> = self.runs.iter().map(|r| r.wall_ms).collect();
        let (min, max) = (percentile(&mut walls, 0.0), percentile(&mut walls, 1.0));
        println!(
            "{:<58} median {:>9.1} ms  (min {min:.0}, max {max:.0}; {} runs)  peak RSS {:>6.1} MiB  {output}",
            self.label,
            self.wall(),
            self.runs.len(),
            self.rss()
        );
    }
}

/// Data of the hosts db00040–db00049: ten children of every group, ten of `big`, ten groups.
const FIND_DATA_RE: &str = r"db0004[0-9]\.";
/// Names n0040–n0049: ten children of every group.
const FIND_NAME_RE: &str = "n004";
const FIND_RUNS: usize = 5;
/// zkCli.sh and zk-shell take 15 s to a minute and more a run (a round trip per znode, or two).
const PEER_RUNS: usize = 3;

/// zk-shell as installed by `pip install zk-shell` (or `$MYZOO_BENCH_ZK_SHELL`), if it runs.
fn zk_shell(env: &[(&'static str, std::path::PathBuf)]) -> Result<String, String> {
    let exe = std::env::var("MYZOO_BENCH_ZK_SHELL").unwrap_or_else(|_| "zk-shell".into());
    match Command::new(&exe).arg("--version").envs(env.iter().cloned()).stdin(Stdio::null()).output() {
        Ok(o) if o.status.success() => Ok(exe),
        Ok(o) => Err(format!("`{exe} --version` failed: {}", String::from_utf8_lossy(&o.stderr).trim())),
        Err(e) => Err(format!("cannot run `{exe}` ({e}); `pip install zk-shell` puts it on the PATH")),
    }
}

/// `myzoo zk find` over the tree as a user runs it, beside the peers that can walk a tree.
fn bench_find(zk: &str) {
    let dir = tempfile::Builder::new().prefix("myzoo-bench-find-").tempdir().unwrap();
    let env = support::isolated_env(dir.path());
    let myzoo = |args: &[&str]| {
        // `isolated_env` above made this home; config, state and $HOME all point into it.
        let mut cmd = common::isolated_myzoo(&dir.path().join("home"));
        cmd.args(["--zk", zk, "zk", "find"]).args(args);
        cmd
    };
    let matches = |f: &Figures| f.runs.last().map_or(0, |r| r.lines);
    let summary_read = |f: &Figures| {
        let last = f.runs.last().map(|r| r.last_line.clone()).unwrap_or_default();
        serde_json::from_str::<serde_json::Value>(&last).ok().and_then(|v| v["read"].as_u64()).unwrap_or(0)
    };
    let floor = measure(&mut Command::new("/bin/true")).peak_rss_mib;
    eprintln!("find: myzoo ({FIND_RUNS} runs each)");
    let by_data = Figures::measure(&format!("myzoo zk find {TREE_ROOT} --data '{FIND_DATA_RE}'"), FIND_RUNS, || {
        myzoo(&[TREE_ROOT, "--data", FIND_DATA_RE])
    });
    let by_name = Figures::measure(&format!("myzoo zk find {TREE_ROOT} --name {FIND_NAME_RE}"), FIND_RUNS, || {
        myzoo(&[TREE_ROOT, "--name", FIND_NAME_RE])
    });
    let json_all = Figures::measure(&format!("myzoo zk find {TREE_ROOT} --json (every znode)"), FIND_RUNS, || {
        myzoo(&[TREE_ROOT, "--json"])
    });
    let json_small =
        Figures::measure(&format!("myzoo zk find {TREE_ROOT}/big --json (every znode)"), FIND_RUNS, || {
            myzoo(&[&format!("{TREE_ROOT}/big"), "--json"])
        });
    for f in [&by_data, &by_name, &json_all, &json_small] {
        assert!(f.runs.iter().all(|r| r.exit == 0), "{} failed", f.label);
    }

    eprintln!("find: zkCli.sh ls -R ({PEER_RUNS} runs)");
    let zkcli = Figures::measure(&format!("zkCli.sh ls -R {TREE_ROOT} (paths only)"), PEER_RUNS, || {
        let mut cmd = Command::new("/usr/share/zookeeper/bin/zkCli.sh");
        cmd.envs(env.iter().cloned()).args(["-server", zk, "ls", "-R", TREE_ROOT]);
        cmd
    });
    let mut peers = vec![(&zkcli, "one getChildren per znode, no data")];
    let shell = zk_shell(&env);
    let (shell_find, shell_grep);
    match &shell {
        Ok(exe) => {
            eprintln!("find: zk-shell find ({PEER_RUNS} runs) and grep ({PEER_RUNS} runs)");
            shell_find = Figures::measure(&format!("zk-shell find {TREE_ROOT} {FIND_NAME_RE}"), PEER_RUNS, || {
                let mut cmd = Command::new(exe);
                cmd.envs(env.iter().cloned()).args([zk, "--run-once", &format!("find {TREE_ROOT} {FIND_NAME_RE}")]);
                cmd
            });
            shell_grep = Figures::measure(&format!("zk-shell grep {TREE_ROOT} '{FIND_DATA_RE}'"), PEER_RUNS, || {
                let mut cmd = Command::new(exe);
                cmd.envs(env.iter().cloned()).args([zk, "--run-once", &format!("grep {TREE_ROOT} {FIND_DATA_RE}")]);
                cmd
            });
            peers.push((&shell_find, "children lists pipelined, names only"));
            peers.push((&shell_grep, "get + getChildren per znode, one at a time"));
        }
        Err(why) => eprintln!("find: zk-shell not measured: {why}"),
    }

    println!("== find: `myzoo zk find` (release binary, whole process) over {TOTAL_ZNODES} znodes, beside the peers on the same tree in the same run ==");
    by_data.print(&format!("{} matches", matches(&by_data)));
    by_name.print(&format!("{} matches", matches(&by_name)));
    json_all.print(&format!("{} lines, {} znodes read", matches(&json_all), summary_read(&json_all)));
    json_small.print(&format!("{} lines, {} znodes read", matches(&json_small), summary_read(&json_small)));
    for (p, what) in &peers {
        p.print(&format!("{} paths ({what})", p.runs.last().map_or(0, |r| r.paths)));
    }
    let fastest = peers.iter().map(|(p, _)| p).min_by(|a, b| a.wall().total_cmp(&b.wall())).expect("zkCli ran");
    println!(
        "ratio: fastest peer ({}) / myzoo --data: {:.1}x   / myzoo --json every znode: {:.1}x",
        fastest.label,
        fastest.wall() / by_data.wall(),
        fastest.wall() / json_all.wall()
    );
    if let (Ok(_), Some((g, _)), Some((f, _))) = (&shell, peers.get(2), peers.get(1)) {
        println!(
            "ratio: zk-shell grep / myzoo --data (both read every znode's data): {:.1}x   zk-shell find / myzoo --name: {:.1}x",
            g.wall() / by_data.wall(),
            f.wall() / by_name.wall()
        );
    }
    println!(
        "memory with --json streaming: {} results {:.1} MiB vs {} results (--data) {:.1} MiB on the same tree; {} znodes {:.1} MiB vs {} znodes ({TREE_ROOT}/big) {:.1} MiB ({:.2}x the memory for {:.1}x the znodes)",
        matches(&json_all).saturating_sub(1),
        json_all.rss(),
        matches(&by_data),
        by_data.rss(),
        summary_read(&json_all),
        json_all.rss(),
        summary_read(&json_small),
        json_small.rss(),
        json_all.rss() / json_small.rss(),
        summary_read(&json_all) as f64 / summary_read(&json_small).max(1) as f64
    );
    println!("(peak RSS floor: /bin/true through the same launcher reads {floor:.1} MiB)");
    if let Err(why) = shell {
        println!("zk-shell not measured: {why}");
    }
}

fn opts(size: (u16, u16), root: &str) -> myzoo::console::app::AppOptions {
    common::app_opts(size, root)
}

async fn bench_watch(zk: &str) {
    let client = Client::connect(zk).await.unwrap();
    let create = CreateMode::Persistent.with_acls(Acls::anyone_all());
    let _ = client.create("/latency", &json_data(0), &create).await;
    let session = SessionConfig::new(zk, Duration::from_secs(10));
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
    let console = PtyConsole::spawn(&["--zk", zk, "--root", "/bench/big"], (120, 40));
    console.wait_for("c00001", Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(2));
    let pid = console.pid.to_string();
    let (b0, c0) = (console.bytes(), cpu_ns(&pid));
    std::thread::sleep(Duration::from_secs(IDLE_SECONDS));
    let (b1, c1) = (console.bytes(), cpu_ns(&pid));
    console.quit(b"q");
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
