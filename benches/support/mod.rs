//! Measuring helpers shared by the benchmarks: percentiles, CPU time of a process, and the real
//! binary in a pseudo-terminal with a vt100 screen behind it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, CommandBuilder, PtySize};

/// The value at fraction `p` (0.0–1.0) of the sorted samples.
pub fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// CPU nanoseconds used so far by every thread of a process (`"self"` or a pid).
pub fn cpu_ns(pid: &str) -> u64 {
    let mut total = 0;
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            if let Ok(s) = std::fs::read_to_string(t.path().join("schedstat")) {
                total += s.split_whitespace().next().and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
            }
        }
    }
    total
}

/// What the reader thread shares with the benchmark.
struct PtyState {
    parser: vt100::Parser,
    bytes: usize,
    /// Text the benchmark waits for; the reader reports the moment the screen first shows it.
    want: Option<String>,
    found: Sender<Instant>,
    /// Every chunk read, with the time it was read.
    recording: Vec<(Instant, Vec<u8>)>,
}

/// The release binary of the project in a pseudo-terminal, with a home of its own (config,
/// state, drafts and logs in a temporary folder, never the user's), its output mirrored into a
/// vt100 screen by a reader thread that notes when each chunk was read.
pub struct PtyConsole {
    pub pid: u32,
    pub size: (u16, u16),
    child: Box<dyn portable_pty::Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    /// Dropping the master hangs up the console's terminal: it lives as long as this does.
    _master: Box<dyn portable_pty::MasterPty + Send>,
    state: Arc<Mutex<PtyState>>,
    found: Receiver<Instant>,
    home: tempfile::TempDir,
}

impl PtyConsole {
    /// Starts `myzoo ARGS` at `cols`×`rows`.
    pub fn spawn(args: &[&str], (cols, rows): (u16, u16)) -> PtyConsole {
        let home = tempfile::Builder::new().prefix("myzoo-bench-home-").tempdir().expect("temp dir");
        let pty = native_pty_system();
        let pair = pty.openpty(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 }).expect("pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_myzoo"));
        cmd.args(args);
        cmd.arg("--log-file");
        cmd.arg(home.path().join("console.log"));
        for (k, v) in isolated_env(home.path()) {
            cmd.env(k, v);
        }
        for k in ["MYZOO_ZK", "MYZOO_PROFILE", "MYZOO_LOG", "NO_COLOR"] {
            cmd.env_remove(k);
        }
        cmd.env("TERM", "xterm-256color");
        // portable-pty starts the child in $HOME unless told otherwise.
        cmd.cwd(home.path());
        let child = pair.slave.spawn_command(cmd).expect("spawn myzoo in a pty");
        drop(pair.slave);
        let pid = child.process_id().expect("pid");
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let writer = pair.master.take_writer().expect("pty writer");
        let (found_tx, found) = mpsc::channel();
        let state = Arc::new(Mutex::new(PtyState {
            parser: vt100::Parser::new(rows, cols, 0),
            bytes: 0,
            want: None,
            found: found_tx,
            recording: Vec::new(),
        }));
        let shared = state.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let at = Instant::now();
                let Ok(mut s) = shared.lock() else { break };
                s.parser.process(&buf[..n]);
                s.bytes += n;
                s.recording.push((at, buf[..n].to_vec()));
                if s.want.as_ref().is_some_and(|w| s.parser.screen().contents().contains(w.as_str())) {
                    s.want = None;
                    let _ = s.found.send(at);
                }
            }
        });
        PtyConsole { pid, size: (cols, rows), child, writer, _master: pair.master, state, found, home }
    }

    /// The folder standing in for the console's home.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    pub fn screen(&self) -> String {
        self.state.lock().map(|s| s.parser.screen().contents()).unwrap_or_default()
    }

    /// Bytes the console has written to the terminal so far.
    pub fn bytes(&self) -> usize {
        self.state.lock().map(|s| s.bytes).unwrap_or(0)
    }

    pub fn send(&mut self, keys: &[u8]) {
        self.writer.write_all(keys).expect("write to the pty");
        self.writer.flush().expect("flush the pty");
    }

    /// Waits until the screen shows `needle`; panics with the screen after `timeout`.
    pub fn wait_for(&self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.screen().contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("timed out waiting for {needle:?}; screen:\n{}", self.screen());
    }

    /// Writes `keys` to the terminal and returns the time from just before the write to the
    /// read of the output chunk after which the screen first shows `needle` (`None` after
    /// `timeout`). `needle` must not be on screen before the keys.
    pub fn key_to_screen(&mut self, keys: &[u8], needle: &str, timeout: Duration) -> Option<Duration> {
        while self.found.try_recv().is_ok() {}
        if let Ok(mut s) = self.state.lock() {
            assert!(!s.parser.screen().contents().contains(needle), "{needle:?} is on screen before the key");
            s.want = Some(needle.to_string());
        }
        let t = Instant::now();
        self.send(keys);
        let shown = self.found.recv_timeout(timeout).ok();
        if let Ok(mut s) = self.state.lock() {
            s.want = None;
        }
        shown.map(|at| at.saturating_duration_since(t))
    }

    /// Every chunk read so far, with the time it was read.
    pub fn recording(&self) -> Vec<(Instant, Vec<u8>)> {
        self.state.lock().map(|s| s.recording.clone()).unwrap_or_default()
    }

    /// Sends `keys` (a quit) and waits up to 10 s for the console to exit; kills it otherwise.
    pub fn quit(mut self, keys: &[u8]) {
        self.send(keys);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("console did not quit within 10 s; killing it");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Environment that keeps a child process out of the user's home: `$HOME`, the XDG config and
/// state folders and myzoo's config file all under `home` (created here).
pub fn isolated_env(home: &Path) -> Vec<(&'static str, PathBuf)> {
    let h = home.join("home");
    std::fs::create_dir_all(&h).expect("create the child's HOME");
    vec![
        ("HOME", h),
        ("XDG_CONFIG_HOME", home.join("config")),
        ("XDG_STATE_HOME", home.join("state")),
        ("MYZOO_CONFIG", home.join("config.toml")),
    ]
}

/// Output read close together, and what it changed on screen.
pub struct Burst {
    pub at: Instant,
    pub bytes: usize,
    pub changed: Vec<RowChange>,
}

/// One screen row's text before and after a burst.
pub struct RowChange {
    pub row: usize,
    pub before: String,
    pub after: String,
}

impl RowChange {
    /// The columns (character positions) where the text differs.
    pub fn columns(&self) -> Vec<usize> {
        let (a, b): (Vec<char>, Vec<char>) = (self.before.chars().collect(), self.after.chars().collect());
        (0..a.len().max(b.len())).filter(|&i| a.get(i) != b.get(i)).collect()
    }
}

/// Replays a whole recording through a vt100 screen of `size` and splits what was read from
/// `since` on into bursts (chunks less than `gap` apart: one frame, as a rule); for every burst,
/// its start, its bytes, and the screen rows whose text it changed. A burst that changed only
/// colours or the cursor lists no row.
pub fn replay_bursts(
    chunks: &[(Instant, Vec<u8>)],
    since: Instant,
    (cols, rows): (u16, u16),
    gap: Duration,
) -> Vec<Burst> {
    let mut parser = vt100::Parser::new(rows, cols, 0);
    let mut i = 0;
    while i < chunks.len() && chunks[i].0 < since {
        parser.process(&chunks[i].1);
        i += 1;
    }
    let mut prev: Vec<String> = parser.screen().rows(0, cols).collect();
    let mut out = Vec::new();
    while i < chunks.len() {
        let begin = chunks[i].0;
        let mut last = begin;
        let mut bytes = 0;
        while i < chunks.len() && chunks[i].0.duration_since(last) <= gap {
            parser.process(&chunks[i].1);
            bytes += chunks[i].1.len();
            last = chunks[i].0;
            i += 1;
        }
        let now: Vec<String> = parser.screen().rows(0, cols).collect();
        let changed = (0..now.len())
            .filter(|&r| prev.get(r) != Some(&now[r]))
            .map(|r| RowChange { row: r, before: prev.get(r).cloned().unwrap_or_default(), after: now[r].clone() })
            .collect();
        out.push(Burst { at: begin, bytes, changed });
        prev = now;
    }
    out
}
