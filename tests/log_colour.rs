//! Log lines on stderr carry ANSI colour codes only when stderr is a terminal and `NO_COLOR` is
//! not set: the real binary, logging at debug level while it fails to reach ZooKeeper, with
//! stderr in a pipe and in a pseudo-terminal.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, CommandBuilder, PtySize};

const ESCAPE: &str = "\x1b[";
/// Longest the command may run: it fails at once when nothing listens.
const WAIT: Duration = Duration::from_secs(30);

/// A ZooKeeper address where nothing listens: a port that was free a moment ago.
fn nowhere() -> String {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    format!("127.0.0.1:{port}")
}

/// Debug logs come from the ZooKeeper client's connection attempts.
fn assert_logged(text: &str) {
    assert!(text.contains("DEBUG") && text.contains("zookeeper_client"), "no debug log lines:\n{text}");
}

#[test]
fn no_colour_codes_when_stderr_is_a_pipe() {
    let home = tempfile::tempdir().unwrap();
    let out = common::isolated_myzoo(home.path())
        .args(["--zk", &nowhere(), "status"])
        .env("MYZOO_LOG", "debug")
        .output()
        .expect("run myzoo status");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_logged(&stderr);
    assert!(!stderr.contains(ESCAPE), "colour codes in a pipe:\n{stderr:?}");
}

/// Runs `myzoo status` against nothing in a pseudo-terminal; returns all it wrote there.
fn in_terminal(no_color: Option<&str>) -> String {
    let home = tempfile::tempdir().unwrap();
    let pair = native_pty_system().openpty(PtySize { rows: 50, cols: 400, pixel_width: 0, pixel_height: 0 }).unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_myzoo"));
    cmd.args(["--zk", &nowhere(), "status"]);
    // The same isolation as `common::isolated_myzoo`, for a command the pty starts.
    let std_cmd = common::isolated_myzoo(home.path());
    for (key, value) in std_cmd.get_envs() {
        match value {
            Some(v) => cmd.env(key, v),
            None => cmd.env_remove(key),
        }
    }
    cmd.env("MYZOO_LOG", "debug");
    if let Some(v) = no_color {
        cmd.env("NO_COLOR", v);
    }
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let output = std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = reader.read_to_end(&mut all); // ends with EIO once the child has exited
        all
    });
    let deadline = Instant::now() + WAIT;
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "myzoo status did not exit within {WAIT:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(pair.master);
    String::from_utf8_lossy(&output.join().unwrap()).into_owned()
}

#[test]
fn colour_codes_on_a_terminal_unless_no_color() {
    let coloured = in_terminal(None);
    assert_logged(&coloured);
    assert!(coloured.contains(ESCAPE), "a terminal gets colours:\n{coloured:?}");
    let plain = in_terminal(Some("1"));
    assert_logged(&plain);
    assert!(!plain.contains(ESCAPE), "NO_COLOR=1 still coloured:\n{plain:?}");
}
