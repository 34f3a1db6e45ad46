//! TLS against real servers: `myzoo sandbox up --tls` (ZooKeeper with a TLS client port,
//! MariaDB offering TLS with myzoo's accounts `REQUIRE SSL`, the cluster config requiring it)
//! used by the CLI, the console and the agents; a wrong CA, a missing file and a missing client
//! certificate refused with their reason; hostname verification on by default (a member given a
//! certificate for another name is refused, and accepted only when verification is turned
//! off) on a three-member ensemble; and `mysql.tls = required` against servers without TLS:
//! the agents report their nodes down with that reason, and recover when it is lifted.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use myzoo::cluster::status::NodeStatus;
use myzoo::console::app::App;
use myzoo::console::headless::Headless;
use myzoo::mysql::{MysqlTls, Target};
use myzoo::sandbox::tls::{Ca, SandboxCerts};
use myzoo::sandbox::SandboxStatus;
use myzoo::tls::{TlsFiles, TlsMode};
use myzoo::zk::access::ConnectError;
use myzoo::zk::ZkAccess;

/// A liveness bound for what takes well under a second on an idle machine.
const WAIT: Duration = Duration::from_secs(30);
const SESSION_TIMEOUT: Duration = Duration::from_secs(10);
const NODES: [&str; 3] = ["db1", "db2", "db3"];

/// A sandbox started by the real `myzoo sandbox up --tls`, in a home of its own; stopped with
/// `myzoo sandbox down` on drop.
struct CliSandbox {
    dir: tempfile::TempDir,
    status: SandboxStatus,
}

impl CliSandbox {
    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("sb")
    }

    /// `myzoo ARGS` as the operator who ran `sandbox up` (its profile is the default one).
    fn myzoo(&self, args: &[&str]) -> Output {
        common::isolated_myzoo(&self.home())
            .env("MYZOO_CONFIG", self.dir.path().join("config.toml"))
            .env("MYZOO_SANDBOX_DIR", self.state())
            .args(args)
            .output()
            .expect("run myzoo")
    }
}

impl Drop for CliSandbox {
    fn drop(&mut self) {
        let out = self.myzoo(&["sandbox", "down"]);
        if !out.status.success() {
            eprintln!("sandbox down failed: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// A CA (and nothing it signed) other than the sandbox's, as a PEM file in `dir`.
fn other_ca(dir: &Path) -> PathBuf {
    let path = dir.join("other-ca.pem");
    std::fs::write(&path, Ca::new("somebody else's CA").expect("CA").pem).expect("write the other CA");
    path
}

fn path_str(p: &Option<PathBuf>) -> String {
    p.as_ref().expect("a file").display().to_string()
}

async fn node_status(zk: &zookeeper_client::Client, node: &str) -> Option<NodeStatus> {
    let path = format!("/myzoo/clusters/sandbox/nodes/{node}");
    let (data, _) = zk.get_data(&path).await.ok()?;
    serde_json::from_slice(&data).ok()
}

/// Waits until every agent's published status satisfies `ok`; returns them.
async fn wait_statuses(zk: &zookeeper_client::Client, what: &str, ok: impl Fn(&NodeStatus) -> bool) -> Vec<NodeStatus> {
    let deadline = Instant::now() + WAIT;
    loop {
        let mut all = Vec::new();
        for node in NODES {
            if let Some(s) = node_status(zk, node).await.filter(|s| ok(s)) {
                all.push(s);
            }
        }
        if all.len() == NODES.len() {
            return all;
        }
        let seen: Vec<_> = futures::future::join_all(NODES.map(|n| node_status(zk, n))).await;
        assert!(Instant::now() < deadline, "agents never {what}: {seen:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn mysql_target(port: u16, user: &str, password: &str, tls: MysqlTls) -> Target {
    Target { host: "127.0.0.1".into(), port, user: user.into(), password: Some(password.into()), tls }
}

async fn tls_cipher(target: &Target) -> anyhow::Result<String> {
    let mut conn = myzoo::mysql::connect(target, Duration::from_secs(5)).await?;
    let row: Option<(String, String)> = conn.query_first("SHOW STATUS LIKE 'Ssl_cipher'").await?;
    conn.disconnect().await?;
    Ok(row.map(|(_, cipher)| cipher).unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_up_tls_serves_the_cli_console_and_agents_over_tls() {
    let dir = tempfile::Builder::new().prefix("myzoo-tls-").tempdir().expect("temp dir");
    let up = common::isolated_myzoo(&dir.path().join("home"))
        .env("MYZOO_CONFIG", dir.path().join("config.toml"))
        .env("MYZOO_SANDBOX_DIR", dir.path().join("sb"))
        .args(["sandbox", "up", "--tls"])
        .output()
        .expect("run myzoo sandbox up --tls");
    let status_file = dir.path().join("sb").join("sandbox.json");
    let status: Option<SandboxStatus> = std::fs::read(&status_file).ok().and_then(|b| serde_json::from_slice(&b).ok());
    let sb = CliSandbox { dir, status: status.unwrap_or_else(|| panic!("sandbox up --tls failed: {}", text(&up))) };
    assert!(up.status.success(), "sandbox up --tls failed: {}", text(&up));
    assert!(text(&up).contains("tls "), "up says TLS is on: {}", text(&up));

    // Certificates: generated in the state folder, private.
    let files = sb.status.tls.clone().expect("status names the client's TLS files");
    let certs = SandboxCerts::at(&sb.state());
    for file in [certs.ca(), certs.server_cert(), certs.server_key(), certs.client_cert(), certs.client_key()] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("certificate file").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
    }
    // The connect string names the TLS ports; the plain ones are kept for the four-letter words.
    let secure: Vec<String> =
        sb.status.zk_servers.iter().map(|z| format!("127.0.0.1:{}", z.secure_port.expect("a TLS port"))).collect();
    assert_eq!(sb.status.zk, secure.join(","));
    assert!(myzoo::sandbox::zookeeper::srvr(sb.status.zk_servers[0].port).await.expect("srvr").contains("Mode:"));
    // The profile carries TLS for ZooKeeper, MySQL and the backup store.
    let cfg = std::fs::read_to_string(sb.dir.path().join("config.toml")).expect("profile written");
    for want in ["[profiles.sandbox.zk_tls]", "[profiles.sandbox.mysql_tls]", "tls = \"required\"", "client.key"] {
        assert!(cfg.contains(want), "{want} in {cfg}");
    }

    // A plain client cannot use the TLS port.
    let plain = ZkAccess::new(sb.status.zk.clone(), Duration::from_secs(3));
    assert!(plain.connect_eagerly().await.is_err(), "a plain session on the TLS port");

    // The CLI over TLS, from the profile: the seeded config says MySQL TLS is required.
    let out = sb.myzoo(&["zk", "get", "/myzoo/clusters/sandbox/config"]);
    assert!(out.status.success(), "zk get over TLS: {}", text(&out));
    let config: serde_json::Value = serde_json::from_slice(&out.stdout).expect("config JSON");
    assert_eq!(config["mysql"]["tls"], "required");

    // The agents: registered over TLS, and their own MySQL connections encrypted.
    let zk = sb.status.zk_access(SESSION_TIMEOUT).connect().await.expect("a TLS session");
    let statuses = wait_statuses(&zk, "reachable over TLS", |s| s.reachable && s.tls.is_some()).await;
    assert!(statuses.iter().all(|s| !s.tls.as_deref().unwrap_or_default().is_empty()), "{statuses:#?}");
    for node in NODES {
        let log = std::fs::read_to_string(myzoo::sandbox::agents::agent_log(&sb.state(), node)).expect("agent log");
        assert!(log.contains("tcp+tls://"), "the agent of {node} did not connect over TLS:\n{log}");
    }
    let deadline = Instant::now() + WAIT;
    loop {
        let out = sb.myzoo(&["status"]);
        if out.status.success() {
            assert!(text(&out).contains("HEALTHY"), "{}", text(&out));
            break;
        }
        assert!(Instant::now() < deadline, "status never healthy: {}", text(&out));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // MariaDB: myzoo's own connection is encrypted, and the server refuses the account in
    // plain (REQUIRE SSL), so every success below went over TLS.
    let creds = myzoo::sandbox::credentials(&sb.state()).expect("credentials");
    let port = sb.status.mysql[0].port;
    let required = MysqlTls::new(TlsMode::Required, Some(files.clone()));
    let agent = |tls| mysql_target(port, &creds.agent.user, &creds.agent.password, tls);
    let cipher = tls_cipher(&agent(required.clone())).await.expect("a TLS connection");
    assert!(!cipher.is_empty(), "Ssl_cipher is empty");
    let refused = tls_cipher(&agent(MysqlTls::default())).await.expect_err("plain refused by REQUIRE SSL");
    assert!(format!("{refused:#}").contains("Access denied"), "{refused:#}");
    // A server certificate from another CA is refused with that reason.
    let wrong = MysqlTls::new(TlsMode::Required, Some(TlsFiles::with_ca(other_ca(sb.dir.path()))));
    let err = format!("{:#}", tls_cipher(&agent(wrong)).await.expect_err("another CA"));
    assert!(err.contains("TLS handshake failed") && err.contains("not signed by the configured CA"), "{err}");

    // Operations, the backup store and dumps over TLS (agent and backup accounts need it).
    let out = sb.myzoo(&["switchover", "--cluster", "sandbox", "--yes"]);
    assert!(out.status.success(), "switchover over TLS: {}", text(&out));
    let out = sb.myzoo(&["zk-backup", "create"]);
    assert!(out.status.success(), "zk-backup create over TLS: {}", text(&out));
    let out = sb.myzoo(&["mysql-backup", "create", "--cluster", "sandbox"]);
    assert!(out.status.success(), "mysql-backup create (mariadb-dump over TLS): {}", text(&out));

    // The console over TLS: the cluster's live status arrives.
    let mut h =
        Headless::start(common::app_opts((160, 40), "/myzoo"), sb.status.zk_access(SESSION_TIMEOUT)).expect("console");
    let healthy =
        |a: &App| a.clusters().view.as_ref().is_some_and(|v| v.verdict == myzoo::cluster::health::Verdict::Healthy);
    assert!(h.pump_until(WAIT, healthy).await, "console never showed the cluster healthy over TLS");
    h.draw();
    assert!(h.screen().contains("HEALTHY"), "{}", h.screen());
    h.shutdown().await;

    // A wrong CA: the console shows the handshake's reason as a notice …
    let wrong_ca = other_ca(sb.dir.path());
    let wrong = ZkAccess::new(sb.status.zk.clone(), SESSION_TIMEOUT)
        .with_tls(Some(TlsFiles { ca_file: Some(wrong_ca.clone()), ..files.clone() }));
    let mut h = Headless::start(common::app_opts((200, 30), "/myzoo"), wrong).expect("console");
    let refused = |a: &App| a.notices().iter().any(|n| n.text.contains("not signed by the configured CA"));
    assert!(h.pump_until(WAIT, refused).await, "no notice for the wrong CA");
    h.draw();
    let screen = h.screen();
    assert!(screen.contains("cannot connect to ZooKeeper: TLS handshake with ZooKeeper at 127.0.0.1:"), "{screen}");
    h.shutdown().await;

    // … and commands exit with it, quickly.
    let zk_flag = sb.status.zk.clone();
    let started = Instant::now();
    let out = sb.myzoo(&["--zk-tls-ca", &wrong_ca.display().to_string(), "zk", "get", "/myzoo"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("not signed by the configured CA (wrong CA file?)"), "{}", text(&out));
    assert!(started.elapsed() < Duration::from_secs(8), "took {:?}", started.elapsed());
    let out = sb.myzoo(&["--zk-tls-ca", "/nonexistent/ca.pem", "status"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("CA file /nonexistent/ca.pem: cannot read it"), "{}", text(&out));
    // The servers want a client certificate: without one (a profile-less --zk), that is the reason.
    let ca = path_str(&files.ca_file);
    let out = sb.myzoo(&["--zk", &zk_flag, "--zk-tls-ca", &ca, "zk", "get", "/myzoo"]);
    assert!(text(&out).contains("wants a client certificate"), "{}", text(&out));
    // With it, given as flags, the same command works.
    let (cert, key) = (path_str(&files.cert_file), path_str(&files.key_file));
    let out = sb.myzoo(&[
        "--zk",
        &zk_flag,
        "--zk-tls-ca",
        &ca,
        "--zk-tls-cert",
        &cert,
        "--zk-tls-key",
        &key,
        "zk",
        "get",
        "/myzoo",
    ]);
    assert!(out.status.success(), "{}", text(&out));
}

/// Rewrites member `id`'s `zoo.cfg` to use `keystore` and `truststore`, and restarts it.
async fn rekey_member(sb: &common::Sandbox, id: u32, keystore: &Path, truststore: &Path) {
    let cfg = sb.dir.path().join(format!("zk{id}")).join("zoo.cfg");
    let text: String = std::fs::read_to_string(&cfg)
        .expect("zoo.cfg")
        .lines()
        .map(|l| match l.split_once('=') {
            Some(("ssl.keyStore.location", _)) => format!("ssl.keyStore.location={}", keystore.display()),
            Some(("ssl.trustStore.location", _)) => format!("ssl.trustStore.location={}", truststore.display()),
            _ => l.to_string(),
        })
        .map(|l| l + "\n")
        .collect();
    std::fs::write(&cfg, text).expect("rewrite zoo.cfg");
    myzoo::sandbox::restart_zk(sb.dir.path(), id).await.expect("restart the member");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ensemble_of_three_over_tls_checks_host_names_by_default() {
    let sb = common::Sandbox::zk_only_tls(3).await;
    let files = sb.status.tls.clone().expect("TLS files");
    // The whole ensemble, then each member alone, over TLS.
    let zk = sb.session(SESSION_TIMEOUT).connect().await.expect("a TLS session on the ensemble");
    let persistent = zookeeper_client::CreateMode::Persistent.with_acls(zookeeper_client::Acls::anyone_all());
    zk.create("/tls-check", b"over tls", &persistent).await.expect("create over TLS");
    for server in &sb.status.zk_servers {
        let one = format!("127.0.0.1:{}", server.secure_port.expect("a TLS port"));
        let client = ZkAccess::new(one.clone(), SESSION_TIMEOUT)
            .with_tls(Some(files.clone()))
            .connect_eagerly()
            .await
            .unwrap_or_else(|e| panic!("member {one}: {e}"));
        client.sync("/").await.expect("sync");
        let (data, _) = client.get_data("/tls-check").await.expect("read over TLS");
        assert_eq!(data, b"over tls");
    }

    // Member 1 gets a certificate for another name, from a CA of its own.
    let dir = sb.dir.path().join("other-name");
    std::fs::create_dir_all(&dir).unwrap();
    let ca = Ca::new("another CA").unwrap();
    let (cert, key) = ca.server(&["db.other.example"]).unwrap();
    let (client_cert, client_key) = ca.client("tester").unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let keystore = write("keystore.pem", &format!("{key}{cert}"));
    let ca_file = write("ca.pem", &ca.pem);
    let theirs = TlsFiles {
        ca_file: Some(ca_file.clone()),
        cert_file: Some(write("client.pem", &client_cert)),
        key_file: Some(write("client.key", &client_key)),
        verify_hostname: true,
    };
    rekey_member(&sb, 1, &keystore, &ca_file).await;
    let member1 = format!("127.0.0.1:{}", sb.status.zk_servers[0].secure_port.unwrap());

    // Hostname verification is on by default: 127.0.0.1 is not a name that certificate lists.
    let checked = ZkAccess::new(member1.clone(), SESSION_TIMEOUT).with_tls(Some(theirs.clone()));
    let started = Instant::now();
    let err = checked.connect().await.expect_err("a certificate for another name");
    assert!(matches!(err, ConnectError::Handshake { .. }), "{err:?}");
    assert!(err.to_string().contains("not valid for \"127.0.0.1\""), "{err}");
    // Reported without waiting for the whole session timeout.
    assert!(started.elapsed() < SESSION_TIMEOUT, "took {:?}", started.elapsed());

    // Turned off explicitly, the chain alone is checked: accepted.
    let unchecked =
        ZkAccess::new(member1.clone(), SESSION_TIMEOUT).with_tls(Some(TlsFiles { verify_hostname: false, ..theirs }));
    let client = unchecked.connect_eagerly().await.expect("hostname verification off");
    client.sync("/").await.expect("sync");
    assert_eq!(client.get_data("/tls-check").await.expect("read").0, b"over tls");
    // Through the CLI flag too.
    let home = tempfile::tempdir().unwrap();
    let out = common::isolated_myzoo(home.path())
        .args(["--zk", &member1, "--zk-tls-ca", &ca_file.display().to_string()])
        .args(["--zk-tls-cert", &dir.join("client.pem").display().to_string()])
        .args(["--zk-tls-key", &dir.join("client.key").display().to_string()])
        .args(["--zk-tls-no-verify-hostname", "zk", "get", "/tls-check"])
        .output()
        .expect("run myzoo");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(out.stdout, b"over tls");
    assert!(text(&out).contains("hostname verification is OFF"), "the choice is logged: {}", text(&out));

    // The other members still serve the sandbox's certificate to the sandbox's clients.
    let rest: Vec<String> =
        sb.status.zk_servers[1..].iter().map(|z| format!("127.0.0.1:{}", z.secure_port.unwrap())).collect();
    let client = ZkAccess::new(rest.join(","), SESSION_TIMEOUT)
        .with_tls(Some(files))
        .connect_eagerly()
        .await
        .expect("members 2 and 3");
    client.sync("/").await.expect("sync");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_mysql_tls_against_servers_without_tls_reports_them_down_with_the_reason() {
    let sb = common::Sandbox::with_agents(250, 4_000).await;
    let zk = zookeeper_client::Client::connect(&sb.zk()).await.expect("connect");
    wait_statuses(&zk, "reachable in plain", |s| s.reachable && s.tls.is_none()).await;

    // Directly: required is refused with the reason; preferred falls back to plain.
    let creds = myzoo::sandbox::credentials(sb.dir.path()).expect("credentials");
    let port = sb.status.mysql[0].port;
    let target = |mode| mysql_target(port, &creds.agent.user, &creds.agent.password, MysqlTls::new(mode, None));
    let err = format!("{:#}", tls_cipher(&target(TlsMode::Required)).await.expect_err("no TLS on this server"));
    assert!(err.contains("the server does not offer TLS, and TLS is required"), "{err}");
    assert_eq!(tls_cipher(&target(TlsMode::Preferred)).await.expect("plain fallback"), "");

    // The cluster config starts requiring TLS: every agent reports its node down, with why.
    let path = "/myzoo/clusters/sandbox/config";
    let (data, _) = zk.get_data(path).await.expect("config");
    let mut config: serde_json::Value = serde_json::from_slice(&data).unwrap();
    config["mysql"] = serde_json::json!({"tls": "required"});
    let home = tempfile::tempdir().unwrap();
    let set = |config: &serde_json::Value| {
        common::isolated_myzoo(home.path())
            .args(["--zk", &sb.zk(), "zk", "set", path, "--force", "--data", &config.to_string()])
            .output()
            .expect("run myzoo zk set")
    };
    let out = set(&config);
    assert!(out.status.success(), "{}", text(&out));
    let down = wait_statuses(&zk, "down for want of TLS", |s| {
        !s.reachable && s.error.as_deref().is_some_and(|e| e.contains("does not offer TLS, and TLS is required"))
    })
    .await;
    assert!(down.iter().all(|s| s.tls.is_none()));
    for node in NODES {
        // SAFETY: kill(2) with signal 0 only asks whether the agent is still there.
        assert_eq!(unsafe { libc::kill(sb.agent_pid(node), 0) }, 0, "the agent of {node} is gone");
    }
    let out = common::isolated_myzoo(home.path()).args(["--zk", &sb.zk(), "status"]).output().expect("status");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("does not offer TLS"), "{}", text(&out));

    // Lifted again: the agents reconnect in plain.
    config["mysql"] = serde_json::json!({"tls": "off"});
    let out = set(&config);
    assert!(out.status.success(), "{}", text(&out));
    wait_statuses(&zk, "reachable again", |s| s.reachable && s.tls.is_none()).await;
}
