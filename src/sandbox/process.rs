//! Background server processes: spawning them detached, pid files, liveness, stopping them safely.
//!
//! Every server the sandbox starts lives in its own folder `<state>/<name>/` holding a `myzoo.pid`
//! file written the moment it is spawned, so `down` (or the clean-up after a failed `up`) finds
//! every process even when `up` never finished. A pid is only ever signalled after checking that
//! its command line still names the state folder, so a recycled pid is never killed.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// Name of the pid file in each server's folder.
pub const PID_FILE: &str = "myzoo.pid";
/// How long a server gets to exit after SIGTERM before it is sent SIGKILL.
pub const STOP_TIMEOUT_MS: u64 = 10_000;
/// How long to wait for the kernel to take a process away after SIGKILL.
const KILL_TIMEOUT_MS: u64 = 2_000;
/// Poll interval while waiting for processes to exit.
const STOP_POLL_MS: u64 = 50;
/// Lines of a log file quoted in error messages.
pub const LOG_TAIL_LINES: usize = 25;
/// Bytes read from the end of a log file to find those lines.
const LOG_TAIL_BYTES: u64 = 16 * 1024;

/// Starts `program` in its own process group (so Ctrl-C in the terminal does not reach it), with
/// stdin closed and stdout/stderr appended to `log`, and records its pid in `pid_file`.
pub fn spawn_detached(program: &Path, args: &[OsString], log: &Path, pid_file: &Path) -> Result<Child> {
    let out = open_log(log)?;
    let err = out.try_clone().with_context(|| format!("duplicating {}", log.display()))?;
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .with_context(|| format!("starting {}", program.display()))?;
    let pid = child.id();
    std::fs::write(pid_file, format!("{pid}\n")).with_context(|| format!("writing {}", pid_file.display()))?;
    tracing::debug!(pid, program = %program.display(), "spawned");
    Ok(child)
}

fn open_log(log: &Path) -> Result<File> {
    OpenOptions::new().create(true).append(true).open(log).with_context(|| format!("opening {}", log.display()))
}

/// The pid recorded in `pid_file`, or `None` when there is no such file.
pub fn read_pid_file(pid_file: &Path) -> Result<Option<u32>> {
    match std::fs::read_to_string(pid_file) {
        Ok(text) => {
            text.trim().parse::<u32>().map(Some).with_context(|| format!("malformed pid file {}", pid_file.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", pid_file.display())),
    }
}

/// True while `pid` is a running (not zombie) process. Reaps it first when it is our own child
/// that has exited, so a test process that ran `up` and `down` leaves no zombies behind.
pub fn is_alive(pid: u32) -> bool {
    reap(pid);
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state letter follows the command name, which is in parentheses and may hold spaces.
        Ok(stat) => match stat.rfind(')') {
            Some(i) => !matches!(stat[i + 1..].trim_start().chars().next(), Some('Z' | 'X')),
            None => true,
        },
        Err(_) => false,
    }
}

/// Collects the exit status of `pid` if it is an exited child of ours; a no-op otherwise.
fn reap(pid: u32) {
    let Ok(raw) = libc::pid_t::try_from(pid) else {
        return;
    };
    let mut status: libc::c_int = 0;
    // SAFETY: waitpid with WNOHANG only inspects the child table; `status` is a valid pointer.
    unsafe {
        libc::waitpid(raw, &mut status, libc::WNOHANG);
    }
}

/// True when `pid` is alive and its command line mentions a path inside `state_dir`, i.e. it is
/// a server this sandbox started and not an unrelated process that inherited a recycled pid.
pub fn is_ours(pid: u32, state_dir: &Path) -> bool {
    if !is_alive(pid) {
        return false;
    }
    let Ok(raw) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let cmdline = String::from_utf8_lossy(&raw).replace('\0', " ");
    cmdline_names_dir(&cmdline, state_dir)
}

/// Whether `cmdline` contains a path below `dir` (the trailing `/` keeps `/tmp/sbx1` from
/// matching `/tmp/sbx10/...`).
pub fn cmdline_names_dir(cmdline: &str, dir: &Path) -> bool {
    let mut marker = dir.to_string_lossy().into_owned();
    if !marker.ends_with('/') {
        marker.push('/');
    }
    cmdline.contains(&marker)
}

/// Pid files of every server folder directly inside `state_dir`.
pub fn pid_files(state_dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(state_dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> =
        entries.filter_map(|e| e.ok()).map(|e| e.path().join(PID_FILE)).filter(|p| p.is_file()).collect();
    files.sort();
    files
}

/// Pids from the pid files in `state_dir` that still run one of our servers.
pub fn running_pids(state_dir: &Path) -> Vec<u32> {
    pid_files(state_dir)
        .iter()
        .filter_map(|f| match read_pid_file(f) {
            Ok(pid) => pid,
            Err(e) => {
                tracing::warn!("{e:#}");
                None
            }
        })
        .filter(|&pid| is_ours(pid, state_dir))
        .collect()
}

/// Sends `sig` to `pid`; a process that is already gone is not an error.
fn signal(pid: u32, sig: libc::c_int) {
    let Ok(raw) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: kill(2) with a positive pid signals exactly that process.
    let rc = unsafe { libc::kill(raw, sig) };
    if rc != 0 {
        tracing::debug!(pid, sig, "kill failed: {}", std::io::Error::last_os_error());
    }
}

/// Waits until none of `pids` is alive or `timeout` passes; returns the ones still alive.
fn wait_gone(pids: &[u32], timeout: Duration) -> Vec<u32> {
    let deadline = Instant::now() + timeout;
    loop {
        let alive: Vec<u32> = pids.iter().copied().filter(|&p| is_alive(p)).collect();
        if alive.is_empty() || Instant::now() >= deadline {
            return alive;
        }
        std::thread::sleep(Duration::from_millis(STOP_POLL_MS));
    }
}

/// SIGTERM to every pid (they shut down in parallel), SIGKILL to those still running after
/// [`STOP_TIMEOUT_MS`]. Blocks; callers in async code use [`stop`]. The pids must already have
/// been checked with [`is_ours`].
pub fn stop_blocking(pids: &[u32]) -> Result<()> {
    for &pid in pids {
        signal(pid, libc::SIGTERM);
    }
    let stubborn = wait_gone(pids, Duration::from_millis(STOP_TIMEOUT_MS));
    if stubborn.is_empty() {
        return Ok(());
    }
    tracing::warn!(?stubborn, "servers ignored SIGTERM; sending SIGKILL");
    for &pid in &stubborn {
        signal(pid, libc::SIGKILL);
    }
    let survivors = wait_gone(&stubborn, Duration::from_millis(KILL_TIMEOUT_MS));
    anyhow::ensure!(survivors.is_empty(), "processes {survivors:?} survived SIGKILL");
    Ok(())
}

/// Async wrapper around [`stop_blocking`].
pub async fn stop(pids: Vec<u32>) -> Result<()> {
    if pids.is_empty() {
        return Ok(());
    }
    tokio::task::spawn_blocking(move || stop_blocking(&pids)).await.context("stopping servers")?
}

/// Stops every server recorded in `state_dir` that is still running.
pub async fn stop_all(state_dir: &Path) -> Result<()> {
    stop(running_pids(state_dir)).await
}

/// The last [`LOG_TAIL_LINES`] lines of `path`, for error messages ("" when unreadable).
pub fn log_tail(path: &Path) -> String {
    let Ok(mut file) = File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if file.seek(SeekFrom::Start(len.saturating_sub(LOG_TAIL_BYTES))).is_err() {
        return String::new();
    }
    let mut raw = Vec::new();
    if file.read_to_end(&mut raw).is_err() {
        return String::new();
    }
    last_lines(&String::from_utf8_lossy(&raw), LOG_TAIL_LINES)
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Formats a log tail to append to an error message.
pub fn with_log(path: &Path) -> String {
    let tail = log_tail(path);
    if tail.is_empty() {
        format!("(log {} is empty)", path.display())
    } else {
        format!("last lines of {}:\n{tail}", path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmdline_match_needs_a_path_below_the_dir() {
        let dir = Path::new("/tmp/sbx1");
        assert!(cmdline_names_dir("java -cp x Main /tmp/sbx1/zk1/zoo.cfg", dir));
        assert!(!cmdline_names_dir("java -cp x Main /tmp/sbx10/zk1/zoo.cfg", dir));
        assert!(!cmdline_names_dir("mariadbd --datadir=/var/lib/mysql", dir));
    }

    #[test]
    fn last_lines_keeps_the_end() {
        assert_eq!(last_lines("a\nb\nc\n", 2), "b\nc");
        assert_eq!(last_lines("a", 5), "a");
        assert_eq!(last_lines("", 5), "");
    }

    #[test]
    fn own_process_is_alive_and_a_bogus_pid_is_not() {
        assert!(is_alive(std::process::id()));
        assert!(!is_alive(u32::MAX - 1));
    }
}
