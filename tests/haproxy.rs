//! HAProxy (Debian's package, really started) with the configs myzoo generates.
//!
//! The routing test checks the config and the harness, not myzoo's health logic: the health
//! checks are answered by stand-ins that say 200 or 503 as the test sets them, and the "MySQL
//! servers" greet each connection with their name, so the test sees where HAProxy sent it. The
//! agents' own answers through HAProxy are the end-to-end writer test's. The command test runs
//! `myzoo haproxy-config` against a real ZooKeeper holding a cluster config and published
//! statuses, and starts HAProxy on what it wrote.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::haproxy::{free_port, Haproxy, WAIT};
use myzoo::cluster::haproxy::{render, Backend, RenderOptions};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use zookeeper_client::{Acls, Client, CreateMode};

/// Checks every 100 ms: the tests wait for states, faster checks reach them sooner.
const CHECK_INTERVAL_MS: u64 = 100;

/// Stands in for an agent's HTTP endpoints: answers each path with the status set for it
/// (503 when none is set), closing the connection after the answer as HTTP/1.0 does.
struct Check {
    port: u16,
    statuses: Arc<Mutex<BTreeMap<String, u16>>>,
    task: JoinHandle<()>,
}

impl Check {
    async fn start() -> Check {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind check");
        let port = listener.local_addr().expect("addr").port();
        let statuses: Arc<Mutex<BTreeMap<String, u16>>> = Arc::default();
        let answers = statuses.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let answers = answers.clone();
                tokio::spawn(async move {
                    let mut reader = BufReader::new(stream);
                    let mut line = String::new();
                    if reader.read_line(&mut line).await.is_err() {
                        return;
                    }
                    let path = line.split_whitespace().nth(1).unwrap_or_default().to_string();
                    let code = answers.lock().unwrap().get(&path).copied().unwrap_or(503);
                    let answer = format!("HTTP/1.0 {code} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    let _ = reader.get_mut().write_all(answer.as_bytes()).await;
                });
            }
        });
        Check { port, statuses, task }
    }

    fn set(&self, path: &str, code: u16) {
        self.statuses.lock().unwrap().insert(path.to_string(), code);
    }
}

impl Drop for Check {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Stands in for a MySQL server: greets each connection with its name and a newline, then holds
/// it open until the client leaves.
struct Server {
    port: u16,
    task: JoinHandle<()>,
}

impl Server {
    async fn start(name: &str) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind server");
        let port = listener.local_addr().expect("addr").port();
        let greeting = format!("{name}\n");
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let greeting = greeting.clone();
                tokio::spawn(async move {
                    if stream.write_all(greeting.as_bytes()).await.is_ok() {
                        let mut sink = [0u8; 64];
                        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
                    }
                });
            }
        });
        Server { port, task }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A client connection through HAProxy and the name of the server that greeted it.
async fn connect(bind: &str) -> (String, BufReader<TcpStream>) {
    let stream = TcpStream::connect(bind).await.unwrap_or_else(|e| panic!("connect {bind}: {e}"));
    let mut reader = BufReader::new(stream);
    let mut name = String::new();
    tokio::time::timeout(WAIT, reader.read_line(&mut name))
        .await
        .unwrap_or_else(|_| panic!("no greeting through {bind} within {WAIT:?}"))
        .expect("read greeting");
    (name.trim_end().to_string(), reader)
}

fn loopback(port: u16) -> String {
    format!("127.0.0.1:{port}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_routes_writes_to_the_server_whose_check_answers_200() {
    let names = ["a", "b", "c"];
    let mut servers = Vec::new();
    let mut checks = Vec::new();
    for n in names {
        servers.push(Server::start(n).await);
        checks.push(Check::start().await);
    }
    let backends: Vec<Backend> = names
        .iter()
        .zip(servers.iter().zip(&checks))
        .map(|(n, (s, c))| Backend {
            name: n.to_string(),
            host: "127.0.0.1".into(),
            port: s.port,
            check_host: "127.0.0.1".into(),
            check_port: c.port,
        })
        .collect();
    let (write, read, stats) = (loopback(free_port()), loopback(free_port()), loopback(free_port()));
    let opts = RenderOptions {
        write_bind: write.clone(),
        read_bind: read.clone(),
        check_interval_ms: CHECK_INTERVAL_MS,
        stats_bind: Some(stats.clone()),
        version: "test".into(),
        generated_at: "now".into(),
        command: "tests/haproxy.rs".into(),
    };
    myzoo::cluster::haproxy::check_options(&opts).unwrap();
    checks[0].set("/primary", 200);
    let hp = Haproxy::start(&render("t", &backends, &opts), &stats, &[&write, &read]).await;

    // Only a answers 200 on /primary: every write goes to a.
    hp.wait_status("t_write", "a", "UP").await;
    hp.wait_status("t_write", "b", "DOWN").await;
    hp.wait_status("t_write", "c", "DOWN").await;
    let (name, mut held) = connect(&write).await;
    assert_eq!(name, "a");
    assert_eq!(connect(&write).await.0, "a");

    // The primary moves to b: a's sessions are cut, new ones go to b.
    let moved = Instant::now();
    checks[0].set("/primary", 503);
    checks[1].set("/primary", 200);
    hp.wait_status("t_write", "b", "UP").await;
    hp.wait_status("t_write", "a", "DOWN").await;
    let routed_after = moved.elapsed();
    let mut rest = Vec::new();
    let n = tokio::time::timeout(WAIT, held.read_to_end(&mut rest))
        .await
        .expect("the session on the demoted server was not cut")
        .expect("read after the cut");
    assert_eq!(n, 0, "unexpected data on the cut session: {rest:?}");
    assert_eq!(connect(&write).await.0, "b");
    eprintln!("writes routed to the new primary {} ms after its check answered 200", routed_after.as_millis());
    assert!(
        routed_after < Duration::from_millis(10 * CHECK_INTERVAL_MS),
        "took {routed_after:?} with checks every {CHECK_INTERVAL_MS} ms"
    );

    // Reads go to the servers answering 200 on /replica (a and c), spread over both.
    checks[0].set("/replica", 200);
    checks[2].set("/replica", 200);
    hp.wait_status("t_read", "a", "UP").await;
    hp.wait_status("t_read", "c", "UP").await;
    hp.wait_status("t_read", "b", "DOWN").await;
    let mut held = Vec::new();
    let mut seen = BTreeSet::new();
    for _ in 0..4 {
        let (name, conn) = connect(&read).await;
        seen.insert(name);
        held.push(conn);
    }
    assert_eq!(seen, BTreeSet::from(["a".to_string(), "c".to_string()]));
}

/// Creates `path` and its missing parents, then sets its data.
async fn put(zk: &Client, path: &str, data: &[u8]) {
    let mode = CreateMode::Persistent.with_acls(Acls::anyone_all());
    let mut at = String::new();
    for part in path.trim_start_matches('/').split('/') {
        at = format!("{at}/{part}");
        match zk.create(&at, b"", &mode).await {
            Ok(_) | Err(zookeeper_client::Error::NodeExists) => {}
            Err(e) => panic!("creating {at}: {e}"),
        }
    }
    zk.set_data(path, data, None).await.unwrap_or_else(|e| panic!("writing {path}: {e}"));
}

/// A node status as an agent publishes it, with its HTTP address when it serves one.
fn status(node: &str, mysql_port: u16, http: Option<String>) -> Vec<u8> {
    let doc = json!({
        "schema": myzoo::cluster::status::STATUS_SCHEMA,
        "cluster": "shop",
        "node": node,
        "observed_at_ms": 0,
        "agent": {"host": "test", "pid": 1, "version": "test", "interval_ms": 1000, "heartbeat_ms": 5000, "http": http},
        "server": {"host": "127.0.0.1", "port": mysql_port},
        "reachable": true,
        "role": "replica",
    });
    serde_json::to_vec(&doc).unwrap()
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn haproxy_config(home: &std::path::Path, zk: &str, args: &[&str]) -> Run {
    let out = common::isolated_myzoo(home)
        .args(["--zk", zk, "haproxy-config", "--cluster", "shop"])
        .args(args)
        .output()
        .expect("run myzoo haproxy-config");
    Run {
        code: out.status.code().expect("exit code, not a signal"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_config_joins_the_cluster_config_with_the_agents_and_haproxy_runs_it() {
    let sb = common::Sandbox::zk_only().await;
    let zk = Client::connect(&sb.zk()).await.expect("connect to ZooKeeper");
    let names = ["db1", "db2", "db3", "db4"];
    let mut servers = BTreeMap::new();
    let mut checks = BTreeMap::new();
    for n in names {
        servers.insert(n, Server::start(n).await);
        checks.insert(n, Check::start().await);
    }
    // db1..db3 are in the config; db4 only publishes a status. db2's agent publishes no HTTP
    // address (down at generation time); db3 has no status at all.
    let nodes: Vec<_> = ["db1", "db2", "db3"]
        .iter()
        .map(|n| json!({"name": n, "host": "127.0.0.1", "port": servers[n].port}))
        .collect();
    let base = "/myzoo/clusters/shop";
    put(&zk, &format!("{base}/config"), json!({"schema": 1, "name": "shop", "nodes": nodes}).to_string().as_bytes())
        .await;
    put(&zk, &format!("{base}/nodes/db1"), &status("db1", servers["db1"].port, Some(loopback(checks["db1"].port))))
        .await;
    put(&zk, &format!("{base}/nodes/db2"), &status("db2", servers["db2"].port, None)).await;
    put(&zk, &format!("{base}/nodes/db4"), &status("db4", servers["db4"].port, Some(loopback(checks["db4"].port))))
        .await;

    let home = tempfile::tempdir().unwrap();
    let run = haproxy_config(home.path(), &sb.zk(), &[]);
    assert_eq!(run.code, 1, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr.contains("no health-check address for db2, db3") && run.stderr.contains("--agent-port"),
        "{}",
        run.stderr
    );

    // --agent-port fills in for db2 and db3 (their "agents" share one port here: db2's check).
    let (write, read, stats) = (loopback(free_port()), loopback(free_port()), loopback(free_port()));
    let out = home.path().join("haproxy.cfg");
    let agent_port = checks["db2"].port.to_string();
    let interval = CHECK_INTERVAL_MS.to_string();
    let out_arg = out.display().to_string();
    let args = [
        "--write-bind",
        &write,
        "--read-bind",
        &read,
        "--stats",
        &stats,
        "--check-interval",
        &interval,
        "--agent-port",
        &agent_port,
        "--out",
        &out_arg,
    ];
    let run = haproxy_config(home.path(), &sb.zk(), &args);
    assert_eq!(run.code, 0, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with(&format!("wrote {}: cluster shop, servers db1, db2, db3, db4", out.display())));
    assert!(run.stderr.contains("node db2: its agent publishes no HTTP address"), "{}", run.stderr);
    let config = std::fs::read_to_string(&out).unwrap();
    common::haproxy::check_file(&out).unwrap_or_else(|e| panic!("haproxy -c refused it:\n{e}\n{config}"));
    for (n, check) in [("db1", "db1"), ("db2", "db2"), ("db3", "db2"), ("db4", "db4")] {
        let line =
            format!("    server {n} 127.0.0.1:{} check addr 127.0.0.1 port {}\n", servers[n].port, checks[check].port);
        assert_eq!(config.matches(&line).count(), 2, "{line:?} once per backend in:\n{config}");
    }
    assert!(config.contains("# HAProxy configuration for the MySQL cluster \"shop\""), "{config}");

    // HAProxy runs it: db4's check says primary, so writes go to db4; db1 is the replica.
    checks["db4"].set("/primary", 200);
    checks["db1"].set("/replica", 200);
    let hp = Haproxy::start(&config, &stats, &[&write, &read]).await;
    for (n, state) in [("db4", "UP"), ("db1", "DOWN"), ("db2", "DOWN"), ("db3", "DOWN")] {
        hp.wait_status("shop_write", n, state).await;
    }
    hp.wait_status("shop_read", "db1", "UP").await;
    hp.wait_status("shop_read", "db4", "DOWN").await;
    assert_eq!(connect(&write).await.0, "db4");
    assert_eq!(connect(&read).await.0, "db1");
}

/// The seeded sandbox as the agents publish it: the config written for it names each node at
/// its MariaDB address and HAProxy accepts it. Agents that publish no HTTP address (started
/// without `--http`) are checked on `--agent-port`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_config_for_the_sandbox_names_every_node_and_passes_haproxy_check() {
    let sb = common::Sandbox::with_agents(250, 4_000).await;
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("haproxy.cfg");
    let run = common::isolated_myzoo(home.path())
        .args(["--zk", &sb.zk(), "haproxy-config", "--cluster", myzoo::sandbox::CLUSTER, "--out"])
        .arg(&out)
        .output()
        .expect("run myzoo haproxy-config");
    let (stdout, stderr) = (String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert!(run.status.success(), "{}\nstdout:\n{stdout}\nstderr:\n{stderr}", run.status);
    assert!(stdout.contains("servers db1, db2, db3 "), "{stdout}");
    let config = std::fs::read_to_string(&out).unwrap();
    common::haproxy::check_file(&out).unwrap_or_else(|e| panic!("haproxy -c refused it:\n{e}\n{config}"));
    for m in &sb.status.mysql {
        // The check goes to the port the node's agent published (its `--http`).
        let agent = sb.status.agents.iter().find(|a| a.name == m.name).expect("agent");
        let http_port = agent.http_port.expect("the sandbox's agents serve HTTP");
        let line = format!("    server {} {}:{} check addr 127.0.0.1 port {http_port}\n", m.name, m.host, m.port);
        assert_eq!(config.matches(&line).count(), 2, "{line:?} once per backend in:\n{config}");
    }
    assert!(config.contains("frontend sandbox_write\n") && config.contains("frontend sandbox_read\n"), "{config}");
}
