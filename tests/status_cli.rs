//! `myzoo status` as a monitoring system runs it (Nagios, Icinga, Sensu), the real binary
//! against a real sandbox: 0 healthy, 1 degraded (a replica's server killed), 2 unhealthy (the
//! primary record on a down or unknown node), the worst of several clusters, and 3 unknown (no
//! such cluster, no clusters, nothing listening, a frozen ZooKeeper) within a bounded time.

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use myzoo::commands::status::ANSWER_TIMEOUT_MS;
use serde_json::Value;
use zookeeper_client::{Acls, Client, CreateMode};

const INTERVAL_MS: u64 = 250;
const SESSION_TIMEOUT_MS: u64 = 2_000;
/// Longest any awaited state may take to show in `myzoo status`.
const WAIT: Duration = Duration::from_secs(30);
/// Pause between two runs while polling.
const POLL: Duration = Duration::from_millis(200);
/// Process start and runtime shutdown on top of the answer timeout, on a busy machine.
const SLACK: Duration = Duration::from_secs(3);

struct Run {
    /// Whether it ran with `--json`.
    json: bool,
    code: i32,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", self.stdout, self.stderr))
    }

    fn describe(&self) -> String {
        format!("exit {} after {:?}\nstdout:\n{}\nstderr:\n{}", self.code, self.took, self.stdout, self.stderr)
    }
}

fn status(home: &Path, zk: &str, args: &[&str]) -> Run {
    let started = Instant::now();
    let out = common::isolated_myzoo(home).args(["--zk", zk, "status"]).args(args).output().expect("run myzoo status");
    Run {
        json: args.contains(&"--json"),
        code: out.status.code().expect("exit code, not a signal"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: started.elapsed(),
    }
}

/// Runs `status --json` until `pred` holds on its output; panics naming `what` after [`WAIT`].
fn wait_for(home: &Path, zk: &str, what: &str, pred: impl Fn(&Value) -> bool) -> Run {
    let deadline = Instant::now() + WAIT;
    loop {
        let run = status(home, zk, &["--json"]);
        if serde_json::from_str(&run.stdout).is_ok_and(|v| pred(&v)) {
            return run;
        }
        assert!(Instant::now() < deadline, "{what} never came within {WAIT:?}; last run: {}", run.describe());
        std::thread::sleep(POLL);
    }
}

fn node_state(views: &Value, cluster: &str, node: &str) -> Option<String> {
    let view = views.as_array()?.iter().find(|v| v["name"] == cluster)?;
    let n = view["nodes"].as_array()?.iter().find(|n| n["name"] == node)?;
    n["state"].as_str().map(str::to_string)
}

fn problems(run: &Run) -> String {
    run.json().as_array().into_iter().flatten().map(|v| v["problems"].to_string()).collect()
}

fn assert_unknown(run: &Run, reason: &str) {
    assert_eq!(run.code, 3, "{}", run.describe());
    if run.json {
        assert!(run.stdout.is_empty(), "unknown prints no JSON: {}", run.describe());
    } else {
        // Monitoring systems read the first line of stdout.
        let first = run.stdout.lines().next().unwrap_or_default();
        assert!(first.starts_with("UNKNOWN: ") && first.contains(reason), "stdout: {}", run.describe());
        assert_eq!(run.stdout.lines().count(), 1, "{}", run.describe());
    }
    // Log lines (warnings from the ZooKeeper client) may come first; the reason is one line.
    let reasons: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("myzoo: status unknown: ")).collect();
    assert_eq!(reasons.len(), 1, "one line of reason: {}", run.describe());
    assert!(reasons[0].contains(reason), "{reason:?} not in the reason: {}", run.describe());
}

/// Sends SIGCONT on drop, so a frozen ZooKeeper is thawed even when an assertion fails (and
/// before the sandbox, declared earlier, is stopped).
struct Thaw(i32);

impl Drop for Thaw {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the pid of the test sandbox's ZooKeeper.
        unsafe { libc::kill(self.0, libc::SIGCONT) };
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_follow_the_monitoring_convention() {
    let sb = common::Sandbox::with_agents(INTERVAL_MS, SESSION_TIMEOUT_MS).await;
    let home = tempfile::tempdir().unwrap();
    let (home, zk) = (home.path(), sb.zk());
    let client = Client::connect(&zk).await.expect("connect to ZooKeeper");

    // Healthy: every node ok → 0, as text and as JSON.
    let all_ok = |v: &Value| ["db1", "db2", "db3"].iter().all(|n| node_state(v, "sandbox", n).as_deref() == Some("ok"));
    let run = wait_for(home, &zk, "every node ok", all_ok);
    assert_eq!(run.code, 0, "{}", run.describe());
    assert_eq!(run.json()[0]["verdict"], "healthy");
    let run = status(home, &zk, &[]);
    assert_eq!(run.code, 0, "{}", run.describe());
    assert!(run.stdout.contains("HEALTHY") && run.stderr.is_empty(), "{}", run.describe());

    // Degraded: a replica's server killed; once its agent reports it down → 1.
    // SAFETY: kill(2) on a server this test's sandbox started.
    unsafe { libc::kill(sb.mysql_pid("db2"), libc::SIGKILL) };
    let killed = Instant::now();
    let run = wait_for(home, &zk, "db2 reported server-down", |v| {
        node_state(v, "sandbox", "db2").as_deref() == Some("server-down")
    });
    eprintln!("db2 shown down {:?} after SIGKILL", killed.elapsed());
    assert_eq!(run.code, 1, "{}", run.describe());
    assert_eq!(run.json()[0]["verdict"], "degraded");
    let run = status(home, &zk, &[]);
    assert_eq!(run.code, 1, "{}", run.describe());
    assert!(run.stdout.contains("DEGRADED"), "{}", run.describe());

    // Several clusters: the worst wins. A second cluster with a primary record on a node nobody
    // knows is unhealthy; the sandbox on its own is still degraded.
    let persistent = CreateMode::Persistent.with_acls(Acls::anyone_all());
    client.create("/myzoo/clusters/spare", b"", &persistent).await.expect("create spare");
    client.create("/myzoo/clusters/spare/primary", br#"{"node":"x1","epoch":1}"#, &persistent).await.expect("record");
    let run = status(home, &zk, &["--json"]);
    assert_eq!(run.code, 2, "{}", run.describe());
    let verdicts: Vec<Value> = run.json().as_array().unwrap().iter().map(|v| v["verdict"].clone()).collect();
    assert_eq!(verdicts, ["degraded", "unhealthy"], "{}", run.describe());
    let run = status(home, &zk, &["--cluster", "sandbox"]);
    assert_eq!(run.code, 1, "{}", run.describe());
    client.delete("/myzoo/clusters/spare/primary", None).await.expect("delete spare record");
    client.delete("/myzoo/clusters/spare", None).await.expect("delete spare");

    // Unhealthy: the primary record on the node whose server is down → 2; on a node that does
    // not exist → 2.
    let primary = "/myzoo/clusters/sandbox/primary";
    client.set_data(primary, br#"{"node":"db2","epoch":2}"#, None).await.expect("record db2 as primary");
    let run = status(home, &zk, &["--json"]);
    assert_eq!(run.code, 2, "{}", run.describe());
    assert!(problems(&run).contains("primary db2 is server down"), "{}", run.describe());
    let run = status(home, &zk, &[]);
    assert_eq!(run.code, 2, "{}", run.describe());
    assert!(run.stdout.contains("UNHEALTHY"), "{}", run.describe());
    client.set_data(primary, br#"{"node":"db9","epoch":3}"#, None).await.expect("record db9 as primary");
    let run = status(home, &zk, &["--json"]);
    assert_eq!(run.code, 2, "{}", run.describe());
    assert!(problems(&run).contains("primary db9 is not a known node"), "{}", run.describe());

    // Unknown: no such cluster, no clusters at all → 3 with the reason on stderr.
    assert_unknown(&status(home, &zk, &["--cluster", "nope"]), "no cluster named \"nope\"");
    assert_unknown(&status(home, &zk, &["--cluster", "nope", "--json"]), "no cluster named \"nope\"");
    assert_unknown(&status(home, &zk, &["--root", "/elsewhere"]), "no clusters under /elsewhere/clusters");

    // Unknown: ZooKeeper frozen (accepts connections, never answers) → 3 within the bound.
    let _thaw = Thaw(sb.zk_pid());
    // SAFETY: kill(2) on the pid of this test's ZooKeeper; `_thaw` sends SIGCONT.
    assert_eq!(unsafe { libc::kill(sb.zk_pid(), libc::SIGSTOP) }, 0, "SIGSTOP ZooKeeper");
    let bound = Duration::from_millis(ANSWER_TIMEOUT_MS) + SLACK;
    for args in [&[][..], &["--json"][..]] {
        let run = status(home, &zk, args);
        eprintln!("frozen ZooKeeper, status {args:?}: exit {} after {:?}", run.code, run.took);
        assert_unknown(&run, "ZooKeeper at");
        assert!(run.took < bound, "took {:?}, more than {bound:?}", run.took);
    }
    // With a long session timeout the client would wait longer for the handshake than the
    // check allows: the check's own limit answers.
    let run = status(home, &zk, &["--session-timeout", "60000"]);
    eprintln!("frozen ZooKeeper, 60 s session timeout: exit {} after {:?}", run.code, run.took);
    assert_unknown(&run, &format!("did not answer within {ANSWER_TIMEOUT_MS} ms"));
    assert!(run.took < bound, "took {:?}, more than {bound:?}", run.took);
}

#[test]
fn nothing_listening_is_unknown_at_once() {
    // A port that was free a moment ago: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let home = tempfile::tempdir().unwrap();
    let run = status(home.path(), &format!("127.0.0.1:{port}"), &[]);
    eprintln!("nothing listening: exit {} after {:?}", run.code, run.took);
    assert_unknown(&run, &format!("ZooKeeper at 127.0.0.1:{port}"));
    let bound = Duration::from_millis(ANSWER_TIMEOUT_MS) + SLACK;
    assert!(run.took < bound, "took {:?}, more than {bound:?}", run.took);
}

/// A bad command line for `myzoo status` is "unknown" (3) to a monitoring system, not clap's 2
/// (which reads as critical); other commands keep 2.
#[test]
fn a_bad_status_command_line_is_unknown() {
    let home = tempfile::tempdir().unwrap();
    let out = common::isolated_myzoo(home.path()).args(["status", "--bogus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("UNKNOWN: "));
    let out = common::isolated_myzoo(home.path()).args(["zk", "get", "--bogus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = common::isolated_myzoo(home.path()).args(["status", "--help"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "help is not an error");
}
