//! A cluster fixture for operation tests (switchover, failover): a seeded sandbox with agents,
//! the operator built from the sandbox's credentials, SQL helpers, and a writer that follows
//! the primary record as an application behind discovery would.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder};
use myzoo::agent::coordinator::{read_state, CoordinatorState};
use myzoo::cluster::config::{parse_primary, PrimaryRecord};
use myzoo::cluster::ClusterPaths;
use myzoo::failover::journal;
use myzoo::failover::{Access, Operator};
use myzoo::ops::actor::Actor;
use myzoo::sandbox::{self, SandboxOptions};
use serde_json::Value;
use zookeeper_client::Client;

pub const INTERVAL_MS: u64 = 250;
pub const SESSION_TIMEOUT_MS: u64 = 4_000;
/// Liveness bound for waits (not a figure; figures are in benches/failover.rs).
pub const WAIT: Duration = Duration::from_secs(30);
/// How long after the new primary opened a writer may still fail: it learns the new primary
/// from the record after an error, with a pause between attempts.
pub const WRITER_DISCOVERY_SLACK_MS: i64 = 1_500;
pub const WRITER_RETRY_MS: u64 = 20;

pub struct Fixture {
    pub sb: super::Sandbox,
    pub zk: Client,
    pub paths: ClusterPaths,
    pub creds: sandbox::secrets::Credentials,
}

impl Fixture {
    pub async fn start() -> Fixture {
        Self::start_with(false).await
    }

    /// `semi_sync`: the sandbox's servers acknowledge commits semi-synchronously (AFTER_SYNC).
    pub async fn start_with(semi_sync: bool) -> Fixture {
        Self::start_on(semi_sync, 1).await
    }

    /// With `zk_ensemble` ZooKeeper members (1 or 3).
    pub async fn start_on(semi_sync: bool, zk_ensemble: usize) -> Fixture {
        let opts = SandboxOptions {
            seed: true,
            semi_sync,
            zk_ensemble,
            agent_binary: Some(env!("CARGO_BIN_EXE_myzoo").into()),
            agent_interval_ms: INTERVAL_MS,
            agent_session_timeout_ms: Some(SESSION_TIMEOUT_MS),
            ..super::Sandbox::options(true)
        };
        let sb = super::Sandbox::start_with(opts).await;
        let zk = Client::connect(&sb.zk()).await.expect("connect");
        let creds = sandbox::credentials(sb.dir.path()).expect("credentials");
        Fixture { sb, zk, paths: ClusterPaths::new("/myzoo", sandbox::CLUSTER), creds }
    }

    pub fn operator(&self) -> Operator {
        Operator {
            client: self.zk.clone(),
            paths: self.paths.clone(),
            access: Access {
                user: self.creds.agent.user.clone(),
                password: Some(self.creds.agent.password.clone()),
                repl_password: Some(self.creds.repl.password.clone()),
                tls: Default::default(),
            },
            actor: Actor { user: "tester".into(), host: "test".into(), ssh_client: None },
            origin: "cli".into(),
            read_only: false,
            guard: None,
        }
    }

    /// A writer into `app.writes` (created on the primary when missing) that follows the record.
    pub async fn writer(&self) -> Writer {
        let primary = self.primary().await.node;
        let mut c = self.root(&primary).await;
        c.query_drop("CREATE TABLE IF NOT EXISTS app.writes (id BIGINT PRIMARY KEY, at TIMESTAMP(6) DEFAULT NOW(6))")
            .await
            .expect("writes table");
        let ports: Vec<(String, u16)> = self.sb.status.mysql.iter().map(|m| (m.name.clone(), m.port)).collect();
        Writer::start(self.zk.clone(), self.paths.clone(), ports, self.creds.clone())
    }

    pub fn port(&self, node: &str) -> u16 {
        self.sb.status.mysql.iter().find(|m| m.name == node).expect("node").port
    }

    pub async fn root(&self, node: &str) -> Conn {
        sandbox::mariadb::connect_root(self.port(node)).await.expect("root connection")
    }

    pub async fn primary(&self) -> PrimaryRecord {
        let (data, _) = self.zk.get_data(&self.paths.primary()).await.expect("primary record");
        parse_primary(&data).expect("valid record")
    }

    pub async fn edit_config(&self, change: impl FnOnce(&mut Value)) {
        let (data, stat) = self.zk.get_data(&self.paths.config()).await.expect("config");
        let mut v: Value = serde_json::from_slice(&data).expect("json");
        change(&mut v);
        self.zk
            .set_data(&self.paths.config(), &serde_json::to_vec(&v).unwrap(), Some(stat.version))
            .await
            .expect("set");
    }

    pub async fn read_only(&self, node: &str) -> bool {
        let v: Option<i64> = self.root(node).await.query_first("SELECT @@global.read_only").await.unwrap();
        v == Some(1)
    }

    /// Waits until `node` replicates from `source` with both threads running.
    pub async fn wait_replicating(&self, node: &str, source: &str) {
        let deadline = Instant::now() + WAIT;
        let want = self.port(source);
        loop {
            let mut c = self.root(node).await;
            let row: Option<mysql_async::Row> = c.query_first("SHOW SLAVE STATUS").await.unwrap();
            let state = row.map(|r| {
                let g = |k: &str| r.get::<Option<String>, _>(k).flatten().unwrap_or_default();
                (
                    g("Master_Port"),
                    g("Slave_IO_Running"),
                    g("Slave_SQL_Running"),
                    g("Last_IO_Error"),
                    g("Last_SQL_Error"),
                )
            });
            if let Some((port, io, sql, _, _)) = &state {
                if port == &want.to_string() && io == "Yes" && sql == "Yes" {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "{node} does not replicate from {source}: {state:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

pub fn app_conn_opts(port: u16, creds: &sandbox::secrets::Credentials) -> OptsBuilder {
    OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(port)
        .user(Some(creds.app.user.clone()))
        .pass(Some(creds.app.password.clone()))
        .prefer_socket(false)
}

/// A writer that inserts increasing ids into `app.writes` on whatever node the primary record
/// names, as an application behind a discovery-following proxy would: it keeps what was
/// acknowledged and when each attempt failed.
pub struct Writer {
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<i64>>>,
    failures_ms: Arc<Mutex<Vec<i64>>>,
    task: tokio::task::JoinHandle<()>,
}

/// Where a [`Writer`] sends its writes.
#[derive(Clone)]
pub enum Route {
    /// To the node the `primary` record names, read again after every error.
    Record { zk: Client, paths: ClusterPaths, ports: Vec<(String, u16)> },
    /// Always to this port (a proxy's write frontend).
    Port(u16),
}

impl Writer {
    pub fn start(
        zk: Client,
        paths: ClusterPaths,
        ports: Vec<(String, u16)>,
        creds: sandbox::secrets::Credentials,
    ) -> Writer {
        Self::on(Route::Record { zk, paths, ports }, creds)
    }

    /// A writer through whatever listens on `port` (HAProxy's write frontend).
    pub fn through(port: u16, creds: sandbox::secrets::Credentials) -> Writer {
        Self::on(Route::Port(port), creds)
    }

    pub fn on(route: Route, creds: sandbox::secrets::Credentials) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(Mutex::new(Vec::new()));
        let failures_ms = Arc::new(Mutex::new(Vec::new()));
        let (s, a, f) = (stop.clone(), acked.clone(), failures_ms.clone());
        let task = tokio::spawn(async move {
            let mut next = 1i64;
            let mut conn: Option<Conn> = None;
            while !s.load(Ordering::Relaxed) {
                if conn.is_none() {
                    let port = match &route {
                        Route::Record { zk, paths, ports } => {
                            let node = match zk.get_data(&paths.primary()).await {
                                Ok((d, _)) => parse_primary(&d).map(|r| r.node).unwrap_or_default(),
                                Err(_) => String::new(),
                            };
                            ports.iter().find(|(n, _)| *n == node).map(|(_, p)| *p)
                        }
                        Route::Port(p) => Some(*p),
                    };
                    if let Some(port) = port {
                        conn = Conn::new(app_conn_opts(port, &creds)).await.ok();
                    }
                }
                let ok = match conn.as_mut() {
                    Some(c) => c.exec_drop("INSERT INTO app.writes (id) VALUES (?)", (next,)).await.is_ok(),
                    None => false,
                };
                // A failed id is never retried: its commit may have happened with the answer
                // lost (a session cut by a proxy), and only acknowledged ids are checked.
                if ok {
                    a.lock().unwrap().push(next);
                } else {
                    f.lock().unwrap().push(myzoo::audit::now_ms());
                    conn = None;
                    tokio::time::sleep(Duration::from_millis(WRITER_RETRY_MS)).await;
                }
                next += 1;
            }
        });
        Writer { stop, acked, failures_ms, task }
    }

    /// Acknowledged writes so far.
    pub fn acked(&self) -> usize {
        self.acked.lock().unwrap().len()
    }

    /// When each failed attempt so far failed (ms since the epoch).
    pub fn failures(&self) -> Vec<i64> {
        self.failures_ms.lock().unwrap().clone()
    }

    pub async fn stop(self) -> (Vec<i64>, Vec<i64>) {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap();
        let acked = self.acked.lock().unwrap().clone();
        let failures = self.failures_ms.lock().unwrap().clone();
        (acked, failures)
    }
}

pub async fn ids_on(conn: &mut Conn) -> Vec<i64> {
    conn.query("SELECT id FROM app.writes ORDER BY id").await.expect("ids")
}

/// Automatic failover on: two confirmations, a long cool-down, auto-rejoin.
pub async fn automatic(fx: &Fixture) {
    fx.edit_config(|v| {
        v["failover"]["automatic"] = true.into();
        v["failover"]["confirmations"] = 2.into();
        v["failover"]["cooldown_s"] = 300.into();
        v["failover"]["auto_rejoin"] = true.into();
    })
    .await;
}

/// Waits until the coordinator's published state satisfies `ok`.
pub async fn wait_state(fx: &Fixture, what: &str, ok: impl Fn(&CoordinatorState) -> bool) -> CoordinatorState {
    let deadline = Instant::now() + WAIT;
    loop {
        let (s, _) = read_state(&fx.zk, &fx.paths).await.expect("coordinator state");
        if ok(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "coordinator never {what}: {s:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the primary record reaches `epoch`; on a timeout says what the coordinator and
/// the last operation say.
pub async fn wait_epoch(fx: &Fixture, epoch: u64) -> PrimaryRecord {
    let deadline = Instant::now() + WAIT;
    loop {
        let p = fx.primary().await;
        if p.epoch >= epoch {
            return p;
        }
        if Instant::now() >= deadline {
            let (state, _) = read_state(&fx.zk, &fx.paths).await.expect("coordinator state");
            let last = journal::list(&fx.zk, &fx.paths, 1).await.expect("journal").into_iter().next();
            panic!("no failover: {p:?}; coordinator: {state:?}; last operation: {:?}", last.map(|(_, _, r)| r));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `kill -9` of a process the test's sandbox started.
pub fn kill(pid: i32) {
    // SAFETY: kill(2) on a process this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0, "kill {pid}");
}
