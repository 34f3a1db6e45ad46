//! `myzoo endpoint` as applications run it, the real binary against a real sandbox with agents:
//! the primary and the replicas once (text and `--json`), `--watch` following a new primary
//! record and printing it only once the node's own agent confirms it is writable, exit 0 on
//! SIGTERM and when stdout is closed, 1 for no usable endpoint, 3 for no ZooKeeper.

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use serde_json::Value;
use zookeeper_client::Client;

const INTERVAL_MS: u64 = 250;
const SESSION_TIMEOUT_MS: u64 = 2_000;
/// Longest any awaited state or line may take.
const WAIT: Duration = Duration::from_secs(30);
/// Pause between two one-shot runs while waiting for a state.
const POLL: Duration = Duration::from_millis(200);
const PRIMARY: &str = "/myzoo/clusters/sandbox/primary";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn describe(&self) -> String {
        format!("exit {}\nstdout:\n{}\nstderr:\n{}", self.code, self.stdout, self.stderr)
    }
}

fn endpoint(home: &Path, zk: &str, args: &[&str]) -> Run {
    let out = common::isolated_myzoo(home)
        .args(["--zk", zk, "endpoint", "--cluster", "sandbox"])
        .args(args)
        .output()
        .expect("run myzoo endpoint");
    Run {
        code: out.status.code().expect("exit code, not a signal"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs the one-shot command until its stdout is `want`; panics after [`WAIT`].
fn wait_for_stdout(home: &Path, zk: &str, args: &[&str], want: &str) -> Run {
    let deadline = Instant::now() + WAIT;
    loop {
        let run = endpoint(home, zk, args);
        if run.code == 0 && run.stdout == want {
            return run;
        }
        assert!(Instant::now() < deadline, "{want:?} never came within {WAIT:?}; last run: {}", run.describe());
        std::thread::sleep(POLL);
    }
}

/// A running `endpoint --watch` whose stdout lines arrive on a channel.
struct Watch {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Watch {
    fn start(home: &Path, zk: &str, args: &[&str]) -> Watch {
        let mut child = common::isolated_myzoo(home)
            .args(["--zk", zk, "endpoint", "--cluster", "sandbox", "--watch"])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start myzoo endpoint --watch");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Watch { child, lines, seen: Vec::new() }
    }

    /// Waits for a line equal to `want`; panics with every line seen after [`WAIT`].
    fn wait_line(&mut self, want: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    eprintln!("watch: {line}");
                    self.seen.push(line.clone());
                    if line == want {
                        return;
                    }
                }
                Err(e) => panic!("{want:?} never printed within {WAIT:?} ({e}); lines: {:#?}", self.seen),
            }
        }
    }

    fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "--watch did not exit within {WAIT:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_follow_the_record_and_the_agents() {
    let sb = common::Sandbox::with_agents(INTERVAL_MS, SESSION_TIMEOUT_MS).await;
    let home = tempfile::tempdir().unwrap();
    let (home, zk) = (home.path(), sb.zk());
    let addr = |node: &str| {
        let m = sb.status.mysql.iter().find(|m| m.name == node).expect("server");
        format!("{}:{}", m.host, m.port)
    };

    // One-shot: the primary is db1 with epoch 1; the replicas are db2 and db3, in name order.
    let run = wait_for_stdout(home, &zk, &[], &format!("{}\n", addr("db1")));
    assert!(run.stderr.is_empty(), "{}", run.describe());
    wait_for_stdout(home, &zk, &["--role", "replica"], &format!("{}\n{}\n", addr("db2"), addr("db3")));
    let run = endpoint(home, &zk, &["--json"]);
    assert_eq!(run.code, 0, "{}", run.describe());
    let v: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.describe()));
    assert_eq!(
        (v["cluster"].as_str(), v["role"].as_str(), v["epoch"].as_u64()),
        (Some("sandbox"), Some("primary"), Some(1))
    );
    assert_eq!(v["reason"], Value::Null);
    let port = sb.status.mysql[0].port;
    assert_eq!(v["endpoints"], serde_json::json!([{"node": "db1", "host": "127.0.0.1", "port": port}]));

    // --watch: the primary first; then a new record on db2. Until db2's agent reports it
    // writable and not replicating, the answer is "none", never db1 and never a guess.
    let mut watch = Watch::start(home, &zk, &[]);
    let json_watch = Watch::start(home, &zk, &["--json", "--role", "replica"]);
    watch.wait_line(&format!("{} epoch=1", addr("db1")));
    let client = Client::connect(&zk).await.expect("connect to ZooKeeper");
    let (_, stat) = client.get_data(PRIMARY).await.expect("read the primary record");
    client.set_data(PRIMARY, br#"{"node":"db2","epoch":2}"#, Some(stat.version)).await.expect("record db2");
    let creds = myzoo::sandbox::credentials(&sb.status.state_dir).expect("credentials");
    let db2_port = sb.status.mysql.iter().find(|m| m.name == "db2").expect("db2").port;
    let mut db2 = myzoo::sandbox::mariadb::connect_as(db2_port, &creds.admin).await.expect("admin on db2");
    for stmt in ["STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only = OFF"] {
        db2.query_drop(stmt).await.unwrap_or_else(|e| panic!("{stmt}: {e}"));
    }
    watch.wait_line(&format!("{} epoch=2", addr("db2")));
    let before = &watch.seen[1..watch.seen.len() - 1];
    assert!(
        before.iter().all(|l| l.starts_with("none: primary db2 ")),
        "between the record and db2's promotion only \"none\" may be printed: {:#?}",
        watch.seen
    );
    // Each line is a change: no line repeats the one before it.
    assert!(watch.seen.windows(2).all(|w| w[0] != w[1]), "{:#?}", watch.seen);

    // The replica watch saw the same switch in JSON: db2 and db3 under db1, then none of db2's
    // (db1 and db3 still replicate from db1), every line valid JSON.
    let deadline = Instant::now() + WAIT;
    loop {
        let line = json_watch.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("a line");
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        eprintln!("json watch: {line}");
        if v["epoch"] == 2 {
            assert_eq!(v["endpoints"], serde_json::json!([]), "{line}");
            assert_eq!(v["reason"], "no healthy replica of db2", "{line}");
            break;
        }
        assert_eq!(v["role"], "replica");
    }

    // SIGTERM: exit 0.
    // SAFETY: kill(2) on the child this test started.
    assert_eq!(unsafe { libc::kill(watch.child.id() as i32, libc::SIGTERM) }, 0);
    let status = watch.wait_exit();
    assert_eq!(status.code(), Some(0), "{status:?}");

    // Stdout closed while idle: exit 0 without waiting for a change.
    let mut idle = common::isolated_myzoo(home)
        .args(["--zk", &zk, "endpoint", "--cluster", "sandbox", "--watch"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start myzoo endpoint --watch");
    let stdout = idle.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send((line, reader));
    });
    let (line, reader) = rx.recv_timeout(WAIT).expect("a first line");
    assert_eq!(line.trim_end(), format!("{} epoch=2", addr("db2")));
    drop(reader); // the read end of the pipe closes
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = idle.try_wait().expect("try_wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "--watch outlived its reader by {WAIT:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0), "{status:?}");

    // No usable endpoint: 1 with the reason on stderr; no such cluster likewise.
    client.set_data(PRIMARY, br#"{"node":"db9","epoch":3}"#, None).await.expect("record db9");
    let run = endpoint(home, &zk, &[]);
    assert_eq!(run.code, 1, "{}", run.describe());
    assert!(run.stdout.is_empty() && run.stderr.contains("primary db9 is not a known node"), "{}", run.describe());
    let out = common::isolated_myzoo(home)
        .args(["--zk", &zk, "endpoint", "--cluster", "nope", "--json"])
        .output()
        .expect("run myzoo endpoint");
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON even without an endpoint");
    assert_eq!(v["reason"], "no cluster named \"nope\"");
}

#[test]
fn nothing_listening_is_exit_3() {
    // A port that was free a moment ago: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let home = tempfile::tempdir().unwrap();
    for args in [&[][..], &["--watch"][..]] {
        let run = endpoint(home.path(), &format!("127.0.0.1:{port}"), args);
        assert_eq!(run.code, 3, "{args:?}: {}", run.describe());
        assert!(run.stdout.is_empty(), "{}", run.describe());
        assert!(run.stderr.contains("myzoo: endpoint unknown: "), "{}", run.describe());
    }
}
