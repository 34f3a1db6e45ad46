//! ZooKeeper for the sandbox: the classpath, generated `zoo.cfg` and log config, starting one or
//! three `QuorumPeerMain` JVMs, and waiting until the `srvr` four-letter word reports a mode
//! (and the AdminServer answers, when it runs).
//!
//! With TLS (`sandbox up --tls`) each member also listens on a secure client port (Netty, PEM
//! key and trust stores from `sandbox::tls`, client certificates required). The plain client
//! port stays, on loopback: the four-letter words the sandbox and its tests use (`srvr` for
//! readiness, `cons`, and the ensemble screen's `mntr`) speak plain TCP, and the agents,
//! profile and seeding all use the secure port.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::process::{self, PID_FILE};
use super::tls::SandboxCerts;
use super::tools::{Tools, JAVA_LIB_DIR};
use super::{ports, prepare_server_dir, ZkServer, LOOPBACK};

/// Longest wait for every member to serve requests (a three-member election included).
pub const ZK_READY_TIMEOUT_MS: u64 = 30_000;
/// Pause between readiness probes.
const ZK_POLL_MS: u64 = 100;
/// Longest wait for one `srvr` answer.
const SRVR_TIMEOUT_MS: u64 = 1_000;
/// ZooKeeper's basic time unit; small so sessions and elections are quick on loopback.
const TICK_TIME_MS: u32 = 500;
/// Ticks a follower gets to connect to the leader, and to stay in sync with it.
const INIT_LIMIT_TICKS: u32 = 10;
const SYNC_LIMIT_TICKS: u32 = 5;
/// Attempts with fresh ports when another process took one of ours first.
const START_ATTEMPTS: usize = 3;
/// The main class Debian's `zkServer.sh` runs.
const MAIN_CLASS: &str = "org.apache.zookeeper.server.quorum.QuorumPeerMain";
/// The slf4j binding and log4j jars (Debian's `libslf4j-java`, `liblog4j1.2-java`): without them
/// ZooKeeper logs nothing at all, which makes start-up failures impossible to explain.
const LOGGING_JARS: [&str; 2] = ["slf4j-log4j12.jar", "log4j-1.2.jar"];
/// The servlet API (Debian's `libservlet-api-java`): ZooKeeper's AdminServer (Jetty) needs it,
/// and Debian's `zookeeper` package does not depend on it. Without it the AdminServer is off.
const SERVLET_JAR: &str = "servlet-api.jar";
/// Every member's `4lw.commands.whitelist` unless a test asks for another.
pub const DEFAULT_4LW_WHITELIST: &str = "*";
/// Netty jars the secure port needs beyond those ZooKeeper's manifest lists (Debian's
/// `libnetty-java`, a dependency of `libzookeeper-java`): the TLS handler is a codec, and the
/// epoll transport needs its common part.
const NETTY_TLS_JARS: [&str; 3] = ["netty-codec.jar", "netty-resolver.jar", "netty-transport-native-unix-common.jar"];
/// ZooKeeper's Netty connection factory: TLS is only available with it.
const NETTY_FACTORY: &str = "org.apache.zookeeper.server.NettyServerCnxnFactory";
/// Everything goes to the console appender, i.e. the `zookeeper.log` our stdout is redirected to.
const LOG4J_PROPERTIES: &str = "\
log4j.rootLogger=INFO, CONSOLE
log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} - %-5p [%t:%C{1}@%L] - %m%n
";
/// Small heap and the C1 compiler only: a sandbox ZooKeeper holds little and must start fast.
/// `-XX:-UsePerfData` keeps the JVM from writing to `/tmp/hsperfdata_*`.
const JVM_FLAGS: [&str; 7] = [
    "-Xmx256m",
    "-Xms16m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Xshare:auto",
    "-XX:-UsePerfData",
    "-Djava.net.preferIPv4Stack=true",
];

/// One member's ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZkMember {
    /// `myid`, from 1.
    pub id: u32,
    pub client_port: u16,
    pub peer_port: u16,
    pub election_port: u16,
    /// The AdminServer's loopback port (`None`: AdminServer off).
    pub admin_port: Option<u16>,
    /// The TLS client port (`None`: plain only).
    pub secure_port: Option<u16>,
}

/// Folder name of member `id`.
pub fn dir_name(id: u32) -> String {
    format!("zk{id}")
}

/// The `zoo.cfg` of member `me`; `server.N` lines only when there is more than one member, with
/// each member's client address so `/zookeeper/config` names where clients reach it.
/// `extendedTypesEnabled` lets operators create TTL znodes (off by default in ZooKeeper).
/// `whitelist` is the member's `4lw.commands.whitelist` (`srvr` is always allowed).
pub fn zoo_cfg(
    data_dir: &Path,
    me: &ZkMember,
    members: &[ZkMember],
    whitelist: &str,
    tls: Option<&SandboxCerts>,
) -> String {
    let mut cfg = format!(
        "# Written by `myzoo sandbox up`: loopback only, small timeouts.\n\
         tickTime={TICK_TIME_MS}\n\
         initLimit={INIT_LIMIT_TICKS}\n\
         syncLimit={SYNC_LIMIT_TICKS}\n\
         dataDir={}\n\
         clientPort={}\n\
         clientPortAddress={LOOPBACK}\n\
         4lw.commands.whitelist={whitelist}\n\
         maxClientCnxns=0\n\
         reconfigEnabled=false\n\
         extendedTypesEnabled=true\n",
        data_dir.display(),
        me.client_port,
    );
    match me.admin_port {
        Some(port) => {
            cfg.push_str(&format!("admin.enableServer=true\nadmin.serverAddress={LOOPBACK}\nadmin.serverPort={port}\n"))
        }
        None => cfg.push_str("admin.enableServer=false\n"),
    }
    if let (Some(port), Some(certs)) = (me.secure_port, tls) {
        // Keys in zoo.cfg that ZooKeeper does not know become `zookeeper.*` system properties,
        // which is where the Netty factory and X509Util read these.
        cfg.push_str(&format!(
            "secureClientPort={port}\n\
             secureClientPortAddress={LOOPBACK}\n\
             serverCnxnFactory={NETTY_FACTORY}\n\
             ssl.keyStore.location={}\n\
             ssl.keyStore.type=PEM\n\
             ssl.trustStore.location={}\n\
             ssl.trustStore.type=PEM\n\
             ssl.clientAuth=need\n\
             authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider\n",
            certs.server_key_store().display(),
            certs.ca().display(),
        ));
    }
    if members.len() > 1 {
        for m in members {
            cfg.push_str(&format!(
                "server.{}={LOOPBACK}:{}:{}:participant;{LOOPBACK}:{}\n",
                m.id, m.peer_port, m.election_port, m.client_port
            ));
        }
    }
    cfg
}

/// Whether the AdminServer can run: its servlet jar is installed.
pub fn admin_server_available() -> bool {
    Path::new(JAVA_LIB_DIR).join(SERVLET_JAR).is_file()
}

/// ZooKeeper's jar (its manifest lists its dependencies, as Debian's `zkEnv.sh` relies on) plus
/// the logging and servlet jars when they are installed.
pub fn classpath(zookeeper_jar: &Path) -> String {
    let mut parts = vec![zookeeper_jar.to_path_buf()];
    let optional = LOGGING_JARS.iter().chain(std::iter::once(&SERVLET_JAR)).chain(&NETTY_TLS_JARS);
    parts.extend(optional.map(|j| Path::new(JAVA_LIB_DIR).join(j)).filter(|p| p.is_file()));
    parts.iter().map(|p| p.to_string_lossy().into_owned()).collect::<Vec<_>>().join(":")
}

/// The connect string listing every member's plain client port.
pub fn connect_string(servers: &[ZkServer]) -> String {
    servers.iter().map(|s| format!("{}:{}", s.host, s.port)).collect::<Vec<_>>().join(",")
}

/// The connect string listing every member's TLS client port; `None` without TLS.
pub fn tls_connect_string(servers: &[ZkServer]) -> Option<String> {
    let ports: Option<Vec<String>> = servers.iter().map(|s| s.secure_port.map(|p| format!("{}:{p}", s.host))).collect();
    ports.map(|p| p.join(","))
}

/// Members with fresh ports: client, peer and election port each, the AdminServer's when it
/// can run, and a TLS client port with TLS.
fn members(n: usize, admin: bool, tls: bool) -> Result<Vec<ZkMember>> {
    let per = 3 + usize::from(admin) + usize::from(tls);
    let p = ports::pick(n * per)?;
    Ok((0..n)
        .map(|i| ZkMember {
            id: u32::try_from(i + 1).unwrap_or(u32::MAX),
            client_port: p[i * per],
            peer_port: p[i * per + 1],
            election_port: p[i * per + 2],
            admin_port: admin.then(|| p[i * per + 3]),
            secure_port: tls.then(|| p[i * per + 3 + usize::from(admin)]),
        })
        .collect())
}

/// Starts `n` members and waits until all serve requests, retrying with fresh ports when one was
/// taken by another process in the meantime. `whitelists` gives members (by id) another
/// `4lw.commands.whitelist` than [`DEFAULT_4LW_WHITELIST`].
pub async fn start(
    state_dir: &Path,
    tools: &Tools,
    n: usize,
    whitelists: &[(u32, String)],
    tls: Option<&SandboxCerts>,
) -> Result<Vec<ZkServer>> {
    if tls.is_some() {
        check_netty(Path::new(JAVA_LIB_DIR))?;
    }
    let mut attempt = 1;
    loop {
        let members = members(n, admin_server_available(), tls.is_some())?;
        match start_once(state_dir, tools, &members, whitelists, tls).await {
            Ok(servers) => return Ok(servers),
            Err(e) if attempt < START_ATTEMPTS && port_was_taken(state_dir, &members) => {
                tracing::warn!("ZooKeeper port taken meanwhile, retrying with others: {e:#}");
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// The Netty jars the secure port needs, or an error that says which package brings them
/// (without them the JVM starts and dies with a class-loading error deep in its log).
fn check_netty(lib_dir: &Path) -> Result<()> {
    let missing: Vec<&str> =
        ["netty-handler.jar"].iter().chain(&NETTY_TLS_JARS).copied().filter(|j| !lib_dir.join(j).is_file()).collect();
    anyhow::ensure!(
        missing.is_empty(),
        "sandbox up --tls needs Netty for ZooKeeper's TLS port, and {} lacks {}: install Debian's libnetty-java \
         (a dependency of the zookeeper package; scripts/install-deps.sh installs it)",
        lib_dir.display(),
        missing.join(", ")
    );
    Ok(())
}

fn port_was_taken(state_dir: &Path, members: &[ZkMember]) -> bool {
    members.iter().any(|m| {
        std::fs::read_to_string(log_path(state_dir, m.id))
            .map(|log| log.contains("Address already in use"))
            .unwrap_or(false)
    })
}

fn log_path(state_dir: &Path, id: u32) -> PathBuf {
    state_dir.join(dir_name(id)).join("zookeeper.log")
}

/// One attempt: write the configs, spawn every member, wait. Stops its members when it fails.
async fn start_once(
    state_dir: &Path,
    tools: &Tools,
    members: &[ZkMember],
    whitelists: &[(u32, String)],
    tls: Option<&SandboxCerts>,
) -> Result<Vec<ZkServer>> {
    let mut children = Vec::with_capacity(members.len());
    for m in members {
        let whitelist = whitelists.iter().find(|(id, _)| *id == m.id).map_or(DEFAULT_4LW_WHITELIST, |(_, w)| w);
        match spawn_member(state_dir, tools, m, members, whitelist, tls) {
            Ok(child) => children.push((m, child)),
            Err(e) => {
                stop_children(children).await;
                return Err(e);
            }
        }
    }
    let pids: Vec<u32> = children.iter().map(|(_, c)| c.id()).collect();
    if let Err(e) = wait_ready(state_dir, &mut children).await {
        stop_children(children).await;
        return Err(e);
    }
    Ok(members
        .iter()
        .zip(pids)
        .map(|(m, pid)| ZkServer {
            id: m.id,
            host: LOOPBACK.to_string(),
            port: m.client_port,
            secure_port: m.secure_port,
            pid: Some(pid),
            admin_port: m.admin_port,
        })
        .collect())
}

async fn stop_children(children: Vec<(&ZkMember, Child)>) {
    let pids = children.iter().map(|(_, c)| c.id()).collect();
    if let Err(e) = process::stop(pids).await {
        tracing::warn!("stopping ZooKeeper after a failed start: {e:#}");
    }
}

/// Writes member `m`'s folder (`zoo.cfg`, `data/myid`, log config) and starts its JVM.
fn spawn_member(
    state_dir: &Path,
    tools: &Tools,
    m: &ZkMember,
    all: &[ZkMember],
    whitelist: &str,
    tls: Option<&SandboxCerts>,
) -> Result<Child> {
    let dir = prepare_server_dir(state_dir, &dir_name(m.id))?;
    let data = dir.join("data");
    std::fs::create_dir_all(&data).with_context(|| format!("creating {}", data.display()))?;
    write(&data.join("myid"), &format!("{}\n", m.id))?;
    let cfg = dir.join("zoo.cfg");
    write(&cfg, &zoo_cfg(&data, m, all, whitelist, tls))?;
    let log4j = dir.join("log4j.properties");
    write(&log4j, LOG4J_PROPERTIES)?;
    let args = jvm_args(&dir, &log4j, &cfg, &classpath(&tools.zookeeper_jar));
    process::spawn_detached(&tools.java, &args, &log_path(state_dir, m.id), &dir.join(PID_FILE))
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn jvm_args(dir: &Path, log4j: &Path, cfg: &Path, classpath: &str) -> Vec<OsString> {
    let mut args: Vec<OsString> = JVM_FLAGS.iter().map(OsString::from).collect();
    let props = [
        format!("-Dzookeeper.log.dir={}", dir.display()),
        "-Dzookeeper.root.logger=INFO,CONSOLE".to_string(),
        format!("-Dlog4j.configuration=file:{}", log4j.display()),
        "-Dzookeeper.jmx.log4j.disable=true".to_string(),
        format!("-Djava.io.tmpdir={}", dir.display()),
        format!("-XX:ErrorFile={}/hs_err_%p.log", dir.display()),
        "-cp".to_string(),
        classpath.to_string(),
        MAIN_CLASS.to_string(),
    ];
    args.extend(props.into_iter().map(OsString::from));
    args.push(cfg.as_os_str().to_owned());
    args
}

/// Polls every member until `srvr` reports a mode (and its AdminServer answers, when it has
/// one: a port taken meanwhile shows in the log and the start is retried); fails when one exits
/// or time runs out.
async fn wait_ready(state_dir: &Path, children: &mut [(&ZkMember, Child)]) -> Result<()> {
    let deadline = Instant::now() + Duration::from_millis(ZK_READY_TIMEOUT_MS);
    let mut ready = vec![false; children.len()];
    loop {
        for (i, (m, child)) in children.iter_mut().enumerate() {
            if ready[i] {
                continue;
            }
            if let Ok(Some(status)) = child.try_wait() {
                anyhow::bail!(
                    "ZooKeeper member {} exited during start-up ({status}); {}",
                    m.id,
                    process::with_log(&log_path(state_dir, m.id))
                );
            }
            ready[i] = srvr(m.client_port).await.map(|out| has_mode(&out)).unwrap_or(false)
                && match m.admin_port {
                    Some(port) => admin_answers(port).await,
                    None => true,
                };
        }
        if ready.iter().all(|r| *r) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            let waiting = ready.iter().position(|r| !r).unwrap_or(0);
            let id = children[waiting].0.id;
            anyhow::bail!(
                "ZooKeeper member {id} was not serving after {ZK_READY_TIMEOUT_MS} ms; {}",
                process::with_log(&log_path(state_dir, id))
            );
        }
        tokio::time::sleep(Duration::from_millis(ZK_POLL_MS)).await;
    }
}

/// Whether the AdminServer on a loopback port answers a command.
async fn admin_answers(port: u16) -> bool {
    let timeout = Duration::from_millis(SRVR_TIMEOUT_MS);
    crate::zk::ensemble::probe::http_get(LOOPBACK, port, "/commands/ruok", timeout).await.is_ok()
}

/// Whether a `srvr` answer says the server is serving (`Mode: standalone|leader|follower`).
pub fn has_mode(srvr_output: &str) -> bool {
    srvr_output.lines().any(|l| l.starts_with("Mode:"))
}

/// Sends the `srvr` four-letter word to a loopback client port and returns the answer.
pub async fn srvr(port: u16) -> Result<String> {
    four_letter(port, "srvr").await
}

/// Sends a four-letter word (`srvr`, `cons`, `mntr`, `wchc` …) to a loopback client port and
/// returns the answer.
pub async fn four_letter(port: u16, word: &str) -> Result<String> {
    let ask = async {
        let mut stream = TcpStream::connect((LOOPBACK, port)).await?;
        stream.write_all(word.as_bytes()).await?;
        let mut out = String::new();
        stream.read_to_string(&mut out).await?;
        Ok::<_, std::io::Error>(out)
    };
    tokio::time::timeout(Duration::from_millis(SRVR_TIMEOUT_MS), ask)
        .await
        .with_context(|| format!("{word} timed out"))?
        .with_context(|| format!("{word} to {LOOPBACK}:{port}"))
}

/// The session ids in a `cons` answer (`…,sid=0x100007f3c2a0001,…` per connection).
pub fn cons_session_ids(cons_output: &str) -> Vec<i64> {
    cons_output
        .split("sid=0x")
        .skip(1)
        .filter_map(|rest| {
            let hex: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
            u64::from_str_radix(&hex, 16).ok().map(|v| v as i64)
        })
        .collect()
}

/// The `Mode:` line of a `srvr` answer (`leader`, `follower`, `standalone`).
pub fn mode(srvr_output: &str) -> Option<&str> {
    srvr_output.lines().find_map(|l| l.strip_prefix("Mode:")).map(str::trim)
}

/// Starts member `id` again from its existing folder (configuration and data kept), after a
/// crash or a `kill -9`, and waits until it serves requests (it rejoins the quorum).
pub async fn restart(state_dir: &Path, tools: &Tools, server: &ZkServer) -> Result<ZkServer> {
    let dir = state_dir.join(dir_name(server.id));
    let cfg = dir.join("zoo.cfg");
    anyhow::ensure!(cfg.is_file(), "{} has no zoo.cfg; is it a sandbox member?", dir.display());
    let args = jvm_args(&dir, &dir.join("log4j.properties"), &cfg, &classpath(&tools.zookeeper_jar));
    let child = process::spawn_detached(&tools.java, &args, &log_path(state_dir, server.id), &dir.join(PID_FILE))?;
    let member = ZkMember {
        id: server.id,
        client_port: server.port,
        peer_port: 0,
        election_port: 0,
        admin_port: server.admin_port,
        secure_port: server.secure_port,
    };
    let pid = child.id();
    if let Err(e) = wait_ready(state_dir, &mut [(&member, child)]).await {
        if let Err(stop) = process::stop(vec![pid]).await {
            tracing::warn!("stopping ZooKeeper member {} after a failed restart: {stop:#}", server.id);
        }
        return Err(e);
    }
    Ok(ZkServer { pid: Some(pid), ..server.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: u32) -> ZkMember {
        ZkMember {
            id,
            client_port: 2000 + id as u16,
            peer_port: 3000 + id as u16,
            election_port: 4000 + id as u16,
            admin_port: None,
            secure_port: None,
        }
    }

    #[test]
    fn four_letter_answers_parse() {
        let cons = " /127.0.0.1:40934[1](queued=0,recved=12,sent=12,sid=0x100012f4e7a0002,lop=PING,est=1,to=10000)\n                     /127.0.0.1:40950[0](queued=0,recved=1,sent=0)\n                     /127.0.0.1:40936[1](queued=0,recved=3,sent=3,sid=0x300012f4e7a0000,lop=GETD)\n";
        assert_eq!(cons_session_ids(cons), vec![0x100012f4e7a0002, 0x300012f4e7a0000]);
        assert_eq!(
            mode("Zookeeper version: 3.8.4\nLatency min/avg/max: 0/0.5/3\nMode: follower\nNode count: 5\n"),
            Some("follower")
        );
        assert_eq!(mode("This ZooKeeper instance is not currently serving requests\n"), None);
    }

    #[test]
    fn standalone_cfg_has_no_server_lines() {
        let m = member(1);
        let cfg = zoo_cfg(Path::new("/s/zk1/data"), &m, &[m], DEFAULT_4LW_WHITELIST, None);
        assert!(cfg.contains("dataDir=/s/zk1/data\n"));
        assert!(cfg.contains("clientPort=2001\n"));
        assert!(cfg.contains("clientPortAddress=127.0.0.1\n"));
        assert!(cfg.contains("admin.enableServer=false\n"));
        assert!(cfg.contains("4lw.commands.whitelist=*\n"));
        assert!(cfg.contains("tickTime=500\n"));
        assert!(!cfg.contains("server.") && !cfg.contains("secureClientPort") && !cfg.contains("Netty"));
    }

    #[test]
    fn tls_cfg_adds_a_secure_port_with_pem_stores() {
        let m = ZkMember { secure_port: Some(2999), ..member(1) };
        let certs = SandboxCerts { dir: "/s/tls".into() };
        let cfg = zoo_cfg(Path::new("/s/zk1/data"), &m, &[m], DEFAULT_4LW_WHITELIST, Some(&certs));
        for line in [
            "clientPort=2001\n",
            "secureClientPort=2999\n",
            "secureClientPortAddress=127.0.0.1\n",
            "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\n",
            "ssl.keyStore.location=/s/tls/server-keystore.pem\n",
            "ssl.keyStore.type=PEM\n",
            "ssl.trustStore.location=/s/tls/ca.pem\n",
            "ssl.clientAuth=need\n",
        ] {
            assert!(cfg.contains(line), "{line} in {cfg}");
        }
        let servers = vec![ZkServer {
            id: 1,
            host: "127.0.0.1".into(),
            port: 2001,
            secure_port: Some(2999),
            pid: None,
            admin_port: None,
        }];
        assert_eq!(tls_connect_string(&servers).as_deref(), Some("127.0.0.1:2999"));
    }

    #[test]
    fn ensemble_cfg_lists_every_member() {
        let all = [member(1), member(2), member(3)];
        let cfg = zoo_cfg(Path::new("/s/zk2/data"), &all[1], &all, "ruok", None);
        assert!(cfg.contains("clientPort=2002\n"));
        assert!(cfg.contains("server.1=127.0.0.1:3001:4001:participant;127.0.0.1:2001\n"));
        assert!(cfg.contains("server.2=127.0.0.1:3002:4002:participant;127.0.0.1:2002\n"));
        assert!(cfg.contains("server.3=127.0.0.1:3003:4003:participant;127.0.0.1:2003\n"));
        assert!(cfg.contains("4lw.commands.whitelist=ruok\n"));
        // The servers' lines are what `/zookeeper/config` shows: the ensemble screen reads them.
        let listed = crate::zk::ensemble::members::parse_dynamic_config(&cfg);
        assert_eq!(listed.len(), 3);
        assert_eq!(listed[2].client, Some(("127.0.0.1".to_string(), 2003)));
    }

    #[test]
    fn admin_server_on_its_loopback_port() {
        let m = ZkMember { admin_port: Some(5001), ..member(1) };
        let cfg = zoo_cfg(Path::new("/s/zk1/data"), &m, &[m], DEFAULT_4LW_WHITELIST, None);
        assert!(cfg.contains("admin.enableServer=true\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=5001\n"));
        assert!(!cfg.contains("admin.enableServer=false"));
    }

    #[test]
    fn connect_string_joins_members() {
        let servers: Vec<ZkServer> = (1..=3)
            .map(|id| ZkServer {
                id,
                host: "127.0.0.1".into(),
                port: 2000 + id as u16,
                secure_port: None,
                pid: None,
                admin_port: None,
            })
            .collect();
        assert_eq!(connect_string(&servers), "127.0.0.1:2001,127.0.0.1:2002,127.0.0.1:2003");
    }

    #[test]
    fn mode_line_means_serving() {
        assert!(has_mode("Zookeeper version: 3.8.0\nLatency min/avg/max: 0/0.0/0\nMode: standalone\n"));
        assert!(!has_mode("This ZooKeeper instance is not currently serving requests\n"));
    }

    #[test]
    fn missing_netty_jars_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = check_netty(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("netty-handler.jar") && err.contains("netty-codec.jar") && err.contains("libnetty-java"),
            "{err}"
        );
        for jar in ["netty-handler.jar"].iter().chain(&NETTY_TLS_JARS) {
            std::fs::write(dir.path().join(jar), b"").unwrap();
        }
        check_netty(dir.path()).unwrap();
    }

    #[test]
    fn classpath_starts_with_zookeeper_jar() {
        let cp = classpath(Path::new("/usr/share/java/zookeeper.jar"));
        assert!(cp.starts_with("/usr/share/java/zookeeper.jar"));
    }
}
