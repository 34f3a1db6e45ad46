//! Shared integration-test helpers: a real sandbox in a temporary folder, stopped on drop.
#![allow(dead_code)]

pub mod cluster;
pub mod faults;
pub mod haproxy;
pub mod http;

use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use myzoo::console::app::AppOptions;
use myzoo::console::keymap::KeyMap;
use myzoo::console::theme::Theme;
use myzoo::sandbox::{self, SandboxOptions, SandboxStatus};
use myzoo::zk::session::SessionConfig;

pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub status: SandboxStatus,
}

impl Sandbox {
    /// ZooKeeper only: what the tree and session tests need. Fails loudly if it cannot start.
    pub async fn zk_only() -> Sandbox {
        Self::start(false).await
    }

    /// ZooKeeper, three MariaDB servers, the seeded cluster znodes, and one real agent per
    /// server probing every `interval_ms`.
    pub async fn with_agents(interval_ms: u64, session_timeout_ms: u64) -> Sandbox {
        let opts = SandboxOptions {
            with_mysql: true,
            seed: true,
            agent_binary: Some(env!("CARGO_BIN_EXE_myzoo").into()),
            agent_interval_ms: interval_ms,
            agent_session_timeout_ms: Some(session_timeout_ms),
            ..Self::options(true)
        };
        Self::start_with(opts).await
    }

    /// ZooKeeper only, `members` of them, with TLS client ports (`sandbox up --tls`): `zk()`
    /// is the TLS connect string and [`Sandbox::session`] connects over TLS.
    pub async fn zk_only_tls(members: usize) -> Sandbox {
        Self::start_with(SandboxOptions { zk_ensemble: members, tls: true, ..Self::options(false) }).await
    }

    pub fn options(with_mysql: bool) -> SandboxOptions {
        SandboxOptions {
            state_dir: std::path::PathBuf::new(),
            zk_ensemble: 1,
            with_mysql,
            seed: false,
            write_profile: false,
            agent_binary: None,
            agent_interval_ms: sandbox::DEFAULT_AGENT_INTERVAL_MS,
            agent_session_timeout_ms: None,
            agent_heartbeat_ms: None,
            semi_sync: false,
            zk_acl: false,
            zk_4lw_whitelists: Vec::new(),
            tls: false,
        }
    }

    async fn start(with_mysql: bool) -> Sandbox {
        Self::start_with(Self::options(with_mysql)).await
    }

    pub async fn start_with(opts: SandboxOptions) -> Sandbox {
        let dir = tempfile::Builder::new().prefix("myzoo-test-").tempdir().expect("temp dir");
        let opts = SandboxOptions { state_dir: dir.path().to_path_buf(), ..opts };
        let status = sandbox::up(&opts).await.unwrap_or_else(|e| panic!("sandbox up failed: {e:#}"));
        Sandbox { dir, status }
    }

    pub fn zk(&self) -> String {
        self.status.zk.clone()
    }

    pub fn agent_pid(&self, node: &str) -> i32 {
        self.status.agents.iter().find(|a| a.name == node).and_then(|a| a.pid).expect("agent pid") as i32
    }

    pub fn mysql_pid(&self, node: &str) -> i32 {
        self.status.mysql.iter().find(|m| m.name == node).and_then(|m| m.pid).expect("server pid") as i32
    }

    pub fn zk_pid(&self) -> i32 {
        self.status.zk_servers[0].pid.expect("zookeeper pid") as i32
    }

    /// The first member's plain client port (four-letter words too).
    pub fn zk_port(&self) -> u16 {
        self.status.zk_servers[0].port
    }

    /// How a client reaches this sandbox's ZooKeeper (over TLS when it runs with TLS).
    pub fn session(&self, timeout: Duration) -> SessionConfig {
        self.status.zk_access(timeout)
    }

    /// One sandbox for every test of this test binary that asks for it: the first caller
    /// starts it with `start`, and the last one to drop its handle stops it (so it never
    /// outlives the binary's tests). `kind` names what `start` builds; asking for another kind
    /// while one is running fails. Tests that share a sandbox keep to znodes of their own (a
    /// chroot, see [`Sandbox::chroot`], or a root of their own) and say which servers they
    /// stop, if any.
    pub async fn shared<F, Fut>(kind: &'static str, start: F) -> Arc<Sandbox>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Sandbox>,
    {
        static SHARED: tokio::sync::Mutex<(&str, Weak<Sandbox>)> = tokio::sync::Mutex::const_new(("", Weak::new()));
        let mut slot = SHARED.lock().await;
        if let Some(sb) = slot.1.upgrade() {
            assert_eq!(slot.0, kind, "one shared sandbox per test binary");
            return sb;
        }
        let sb = Arc::new(start().await);
        *slot = (kind, Arc::downgrade(&sb));
        sb
    }

    /// The shared ZooKeeper-only sandbox of this test binary (see [`Sandbox::shared`]).
    pub async fn shared_zk_only() -> Arc<Sandbox> {
        Self::shared("zk only", Self::zk_only).await
    }

    /// Creates `/name` (a test's own corner of a shared ZooKeeper) and returns the connect
    /// string with it as chroot: a client on it sees `/name` as `/`.
    pub async fn chroot(&self, name: &str) -> String {
        assert!(!name.is_empty() && !name.contains('/'), "one path segment: {name:?}");
        let zk = zookeeper_client::Client::connect(&self.zk()).await.expect("connect to ZooKeeper");
        let persistent = zookeeper_client::CreateMode::Persistent.with_acls(zookeeper_client::Acls::anyone_all());
        zk.create(&format!("/{name}"), b"", &persistent).await.unwrap_or_else(|e| panic!("creating /{name}: {e}"));
        format!("{}/{name}", self.zk())
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let dir = self.dir.path().to_path_buf();
        // Drop may run inside a runtime: stop the servers from a thread of our own.
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                if let Err(e) = rt.block_on(sandbox::down(&dir)) {
                    eprintln!("sandbox down failed: {e:#}");
                }
            }
        })
        .join();
    }
}

/// Waits for `pid`, a child of this test process (the sandbox starts its agents as children),
/// to exit; returns its wait status (`libc::WIFEXITED` …). Fails after `within`.
pub async fn wait_exited(pid: i32, within: Duration) -> libc::c_int {
    let deadline = std::time::Instant::now() + within;
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: waitpid(2) on our own child, without blocking.
        let rc = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        assert!(rc >= 0, "waitpid({pid}): {}", std::io::Error::last_os_error());
        if rc > 0 {
            return status;
        }
        assert!(std::time::Instant::now() < deadline, "process {pid} did not exit within {within:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A wait status that says: exited normally with status 0.
pub fn exited_ok(status: libc::c_int) -> bool {
    libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
}

pub fn app_opts(size: (u16, u16), root: &str) -> AppOptions {
    AppOptions {
        label: "test".into(),
        root: root.into(),
        read_only: false,
        theme: Theme::builtin("dark").expect("theme"),
        keymap: KeyMap::default(),
        size,
        now: SystemTime::now(),
        drafts_dir: std::env::temp_dir().join(format!("myzoo-drafts-{}", std::process::id())),
        mysql: Default::default(),
        backup_store: None,
        ensemble: Default::default(),
    }
}

/// The real binary with a home of its own under `home`: config, state and `$HOME` point there,
/// so a test never reads or writes the user's files, and no connection, profile, log level or
/// colour setting leaks in from the environment the tests run in.
pub fn isolated_myzoo(home: &std::path::Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_myzoo"));
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("MYZOO_CONFIG", home.join("config.toml"))
        .env_remove("MYZOO_ZK")
        .env_remove("MYZOO_ZK_AUTH")
        .env_remove("MYZOO_PROFILE")
        .env_remove("MYZOO_LOG")
        .env_remove("NO_COLOR");
    cmd
}

/// Waits until every thread of `pid` is stopped (`SIGSTOP` takes effect on each thread at its
/// next trip through the kernel, not when kill(2) returns), so a test that froze a process
/// looks at a frozen process.
pub async fn wait_stopped(pid: i32, within: Duration) {
    let deadline = std::time::Instant::now() + within;
    loop {
        let states: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/task"))
            .map(|dir| {
                dir.filter_map(Result::ok)
                    .filter_map(|t| std::fs::read_to_string(t.path().join("stat")).ok())
                    // The state follows the command name's closing parenthesis.
                    .filter_map(|stat| stat.rsplit_once(") ").map(|(_, rest)| rest.chars().take(1).collect()))
                    .collect()
            })
            .unwrap_or_default();
        if !states.is_empty() && states.iter().all(|s| s == "T" || s == "t") {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "process {pid} not stopped: thread states {states:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
