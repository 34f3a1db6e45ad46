//! A real HAProxy (Debian's package) for tests: a config checked with `haproxy -c`, run in the
//! foreground on loopback and killed on drop, and the server states its stats page reports, so a
//! test waits for "server X is UP in backend Y" before it relies on it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest HAProxy may take to start listening, or a server to reach an awaited state.
pub const WAIT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(20);

/// The `haproxy` binary: `$HAPROXY`, else `/usr/sbin/haproxy` (Debian's, outside a normal
/// user's PATH), else the PATH's. A machine without it fails the test saying how to install
/// it (`scripts/install-deps.sh`), never skips it.
pub fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("HAPROXY") {
        return p.into();
    }
    let debian = Path::new("/usr/sbin/haproxy");
    if debian.exists() {
        return debian.into();
    }
    let found = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join("haproxy")).find(|p| p.exists()));
    found.unwrap_or_else(|| panic!("haproxy not found: install Debian's haproxy package (scripts/install-deps.sh)"))
}

/// `haproxy -c -f FILE`: Ok with its output when the config is valid, Err with it otherwise.
pub fn check_file(path: &Path) -> Result<String, String> {
    let out = Command::new(binary()).arg("-c").arg("-f").arg(path).output().expect("run haproxy -c");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() {
        Ok(text)
    } else {
        Err(text)
    }
}

/// A free loopback port (bound, then released, for HAProxy to bind next).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port").local_addr().expect("local addr").port()
}

/// One row of the stats CSV: a server (or FRONTEND/BACKEND) of a proxy and its status
/// (`UP`, `DOWN`, `no check`, `MAINT` …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerState {
    pub proxy: String,
    pub server: String,
    pub status: String,
}

/// A running HAProxy, killed on drop; its output is kept in `log` for failure messages.
pub struct Haproxy {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub log: PathBuf,
    /// `host:port` of its stats page.
    pub stats: String,
    child: Child,
}

impl Haproxy {
    /// Writes `config` into a temporary folder, checks it with `haproxy -c` (the test fails
    /// with HAProxy's own words if it is refused), starts `haproxy -db -f` and waits until every
    /// one of `binds` (the frontends and the stats page, `host:port`) accepts connections.
    /// `stats` is the stats page's `host:port`, which `config` must serve.
    pub async fn start(config: &str, stats: &str, binds: &[&str]) -> Haproxy {
        let dir = tempfile::Builder::new().prefix("myzoo-haproxy-").tempdir().expect("temp dir");
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, config).expect("write haproxy.cfg");
        if let Err(e) = check_file(&path) {
            panic!("haproxy -c refused the config:\n{e}\nconfig:\n{config}");
        }
        let log = dir.path().join("haproxy.log");
        let out = std::fs::File::create(&log).expect("create haproxy.log");
        let err = out.try_clone().expect("clone log file");
        // -db: foreground, no daemon; killed on drop.
        let child = Command::new(binary())
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start haproxy");
        let mut hp = Haproxy { dir, config: path, log, stats: stats.to_string(), child };
        let deadline = Instant::now() + WAIT;
        for bind in binds.iter().copied().chain([stats]) {
            loop {
                if let Some(status) = hp.child.try_wait().expect("try_wait haproxy") {
                    panic!("haproxy exited ({status}) before listening on {bind}:\n{}", hp.output());
                }
                if TcpStream::connect(bind).await.is_ok() {
                    break;
                }
                assert!(Instant::now() < deadline, "haproxy not listening on {bind} within {WAIT:?}:\n{}", hp.output());
                tokio::time::sleep(POLL).await;
            }
        }
        hp
    }

    /// What HAProxy printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Every proxy's servers and their states, from the stats page's CSV (`/;csv`).
    pub async fn states(&self) -> Vec<ServerState> {
        let body = http_get(&self.stats, "/;csv").await.unwrap_or_else(|e| panic!("reading stats: {e}"));
        parse_csv(&body)
    }

    /// The state of `server` in `proxy`, if the stats page lists it.
    pub async fn status(&self, proxy: &str, server: &str) -> Option<String> {
        self.states().await.into_iter().find(|s| s.proxy == proxy && s.server == server).map(|s| s.status)
    }

    /// Waits until `server` in `proxy` has `status` (`UP`, `DOWN`); fails after [`WAIT`] with
    /// every state seen last and HAProxy's output.
    pub async fn wait_status(&self, proxy: &str, server: &str, status: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let states = self.states().await;
            if states.iter().any(|s| s.proxy == proxy && s.server == server && s.status == status) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{proxy}/{server} not {status} within {WAIT:?}; states: {states:#?}\nhaproxy:\n{}",
                self.output()
            );
            tokio::time::sleep(POLL).await;
        }
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1.0 GET; the body of a 200 answer.
pub async fn http_get(addr: &str, path: &str) -> Result<String, String> {
    let mut s = TcpStream::connect(addr).await.map_err(|e| format!("connect {addr}: {e}"))?;
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes()).await.map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut answer))
        .await
        .map_err(|_| format!("GET {path} from {addr}: no answer within {WAIT:?}"))?
        .map_err(|e| e.to_string())?;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").ok_or_else(|| format!("not HTTP: {answer:?}"))?;
    if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
        return Err(format!("GET {path} from {addr}: {head}"));
    }
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        return dechunk(body);
    }
    Ok(body.to_string())
}

/// The data of a chunked body (HAProxy's stats page answers chunked).
fn dechunk(mut body: &str) -> Result<String, String> {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").ok_or_else(|| format!("bad chunk: {body:?}"))?;
        let size = usize::from_str_radix(size.split(';').next().unwrap_or_default().trim(), 16)
            .map_err(|e| format!("bad chunk size {size:?}: {e}"))?;
        if size == 0 {
            return Ok(out);
        }
        let chunk = rest.get(..size).ok_or_else(|| format!("short chunk: {rest:?}"))?;
        out.push_str(chunk);
        body = rest.get(size..).and_then(|r| r.strip_prefix("\r\n")).ok_or_else(|| "chunk without CRLF".to_string())?;
    }
}

/// The `pxname`, `svname` and `status` columns of HAProxy's stats CSV (its header line starts
/// with `# `).
pub fn parse_csv(body: &str) -> Vec<ServerState> {
    let mut lines = body.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().trim_start_matches("# ").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no {name} in {header:?}"));
    let (px, sv, st) = (col("pxname"), col("svname"), col("status"));
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let get = |i: usize| f.get(i).copied().unwrap_or_default().to_string();
            ServerState { proxy: get(px), server: get(sv), status: get(st) }
        })
        .collect()
}
