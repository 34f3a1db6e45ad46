//! ZooKeeper digest authentication and ACLs against a real ZooKeeper whose `/myzoo` tree is
//! protected the way `myzoo sandbox up` protects it (`digest:myzoo:HASH:cdrwa, world:anyone:r`):
//! the digest helper against the server's own check, the CLI, an agent and the console with the
//! credential, without it and with a wrong password, ACL changes through the mutation service
//! (version-checked on the ACL version, audited, a colleague's change a conflict), locked znodes,
//! and password-like keys held in plain text.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use myzoo::audit::{self, AuditRecord};
use myzoo::console::app::App;
use myzoo::console::event::Event;
use myzoo::console::headless::Headless;
use myzoo::console::overlays::Overlay;
use myzoo::console::screens::tree::AclState;
use myzoo::console::screens::ScreenId;
use myzoo::console::shared::NoticeLevel;
use myzoo::ops::{Actor, Mutation, NodeMode, OpError, Ops, Origin};
use myzoo::sandbox::{SandboxOptions, ZK_USER};
use myzoo::zk::{acl, auth, ZkAccess, ZkCredential};
use serde_json::Value;
use zookeeper_client::{Acls, Client, CreateMode, Error as ZkError};

const WAIT: Duration = Duration::from_secs(15);
const ROOT: &str = "/myzoo";

/// One ZooKeeper for the binary, seeded and protected like `myzoo sandbox up` (each test keeps
/// to znodes of its own under the root).
async fn sandbox() -> Arc<common::Sandbox> {
    common::Sandbox::shared("zk only, seeded, /myzoo protected", || {
        common::Sandbox::start_with(SandboxOptions { seed: true, zk_acl: true, ..common::Sandbox::options(false) })
    })
    .await
}

fn auth_file(sb: &common::Sandbox) -> PathBuf {
    sb.status.zk_auth_file.clone().expect("the sandbox writes its credential file")
}

/// The sandbox's credential, read from its file as myzoo reads it.
fn credential(sb: &common::Sandbox) -> ZkCredential {
    myzoo::config::zk_credential(Some(&auth_file(sb)), None).unwrap().expect("a credential")
}

fn access(sb: &common::Sandbox, auth: Option<ZkCredential>) -> ZkAccess {
    ZkAccess::new(sb.zk(), Duration::from_secs(10)).with_auth(auth)
}

async fn client(sb: &common::Sandbox, auth: Option<ZkCredential>) -> Client {
    access(sb, auth).connect().await.expect("connect to ZooKeeper")
}

/// The protected ACL, as text: everything for myzoo's digest id, reading for anyone.
fn protected(cred: &ZkCredential) -> Vec<String> {
    vec![format!("digest:{}:cdrwa", cred.digest_id()), "world:anyone:r".to_string()]
}

async fn acl_text(c: &Client, path: &str) -> Vec<String> {
    let (entries, _) = c.get_acl(path).await.unwrap_or_else(|e| panic!("getACL {path}: {e}"));
    entries.iter().map(|a| myzoo::zk::load::acl_entry(a).text()).collect()
}

/// `myzoo` with a home of its own, `--zk` the sandbox, and what else the test gives.
fn myzoo(home: &Path, zk: &str, args: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>) -> Output {
    let mut cmd = common::isolated_myzoo(home);
    cmd.arg("--zk").arg(zk).args(args).env("USER", "auth-tester");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run myzoo");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("myzoo output")
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exit code")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn newest_audit(c: &Client, path: &str) -> AuditRecord {
    audit::list(c, ROOT, 1, Some(path)).await.unwrap().remove(0).1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_digest_helper_computes_the_id_zookeeper_checks() {
    let sb = sandbox().await;
    let home = tempfile::tempdir().unwrap();
    let out = myzoo(home.path(), &sb.zk(), &["zk", "digest", "alice"], &[], Some(b"s3:cr3t\n"));
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let id = text(&out.stdout).trim_end().to_string();
    assert_eq!(id, auth::digest_id("alice", "s3:cr3t"));
    assert!(id.starts_with("alice:") && !id.contains("s3:cr3t"), "{id}");
    // From a file: the same id.
    let file = home.path().join("alice.password");
    std::fs::write(&file, "s3:cr3t\n").unwrap();
    let out =
        myzoo(home.path(), &sb.zk(), &["zk", "digest", "alice", "--password-file", file.to_str().unwrap()], &[], None);
    assert_eq!((code(&out), text(&out.stdout).trim_end()), (0, id.as_str()), "{}", text(&out.stderr));

    // The server agrees: an ACL naming the id lets that password in, and no other.
    let anyone = client(&sb, None).await;
    let entry = acl::parse_entry(&format!("digest:{id}:cdrwa")).unwrap().to_acl();
    let only_alice = [entry];
    anyone
        .create("/digest-check", b"for alice", &CreateMode::Persistent.with_acls(Acls::new(&only_alice)))
        .await
        .unwrap();
    let alice = client(&sb, Some(ZkCredential::new("alice", "s3:cr3t").unwrap())).await;
    assert_eq!(alice.get_data("/digest-check").await.unwrap().0, b"for alice");
    let wrong = client(&sb, Some(ZkCredential::new("alice", "s3cr3t").unwrap())).await;
    assert_eq!(wrong.get_data("/digest-check").await.unwrap_err(), ZkError::NoAuth);
    assert_eq!(anyone.get_data("/digest-check").await.unwrap_err(), ZkError::NoAuth);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_works_with_the_credential_and_says_why_without_it() {
    let sb = sandbox().await;
    let cred = credential(&sb);
    let (zk, file) = (sb.zk(), auth_file(&sb));
    let home = tempfile::tempdir().unwrap();
    let with = |args: &[&str]| {
        let mut all = vec!["--zk-auth-file", file.to_str().unwrap()];
        all.extend_from_slice(args);
        myzoo(home.path(), &zk, &all, &[], None)
    };
    let anonymous = |args: &[&str]| myzoo(home.path(), &zk, args, &[], None);

    // With the credential: created, and with the parent's (protected) ACL.
    let out = with(&["zk", "create", "/myzoo/cli", "--data", "v1"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let out = with(&["zk", "getacl", "/myzoo/cli", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["aversion"], 0);
    assert_eq!(v["acl"], serde_json::json!(protected(&cred)), "a new znode takes its parent's ACL");

    // Without it: reading works (anyone may read), writing is NoAuth, said plainly.
    let out = anonymous(&["zk", "get", "/myzoo/cli"]);
    assert_eq!((code(&out), text(&out.stdout).as_str()), (0, "v1"), "{}", text(&out.stderr));
    let out = anonymous(&["zk", "set", "/myzoo/cli", "--data", "v2", "--force"]);
    let err = text(&out.stderr);
    assert_eq!(code(&out), 1, "{err}");
    assert!(err.contains("NoAuth") && err.contains("WRITE") && err.contains("sends no credentials"), "{err}");
    // From the environment, as scripts give it.
    let env_auth =
        format!("{ZK_USER}:{}", std::fs::read_to_string(&file).unwrap().trim_end().split_once(':').unwrap().1);
    let out = myzoo(
        home.path(),
        &zk,
        &["zk", "set", "/myzoo/cli", "--data", "v2", "--force"],
        &[("MYZOO_ZK_AUTH", &env_auth)],
        None,
    );
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));

    // A wrong password: ZooKeeper takes it, myzoo says what it is before doing anything.
    let wrong = [("MYZOO_ZK_AUTH", "myzoo:Tr0ub4dor")];
    let out = myzoo(home.path(), &zk, &["zk", "set", "/myzoo/cli", "--data", "v3", "--force"], &wrong, None);
    let err = text(&out.stderr);
    assert_eq!(code(&out), 1, "{err}");
    assert!(err.contains("wrong password") && err.contains("digest user myzoo") && !err.contains("Tr0ub4dor"), "{err}");
    let out = myzoo(home.path(), &zk, &["status"], &wrong, None);
    assert_eq!(code(&out), 3, "status is unknown with a wrong password: {}", text(&out.stdout));
    assert!(text(&out.stdout).contains("wrong password"), "{}", text(&out.stdout));
    // ZooKeeper shows digest hashes to sessions with ADMIN only: the owner's client reads ACLs.
    let c = client(&sb, Some(cred.clone())).await;
    assert_eq!(c.get_data("/myzoo/cli").await.unwrap().0, b"v2", "nothing written with the wrong password");

    // setacl: checked on the ACL version, audited with both ACLs (digest hashes fingerprinted).
    let mut wider = protected(&cred);
    wider[1] = "world:anyone:rw".into();
    let out = with(&["zk", "setacl", "/myzoo/cli", &wider[0], &wider[1], "--version", "0", "--json"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["aversion_before"].as_i64(), v["aversion_after"].as_i64()), (Some(0), Some(1)));
    assert_eq!(acl_text(&c, "/myzoo/cli").await, wider);
    let r = newest_audit(&c, "/myzoo/cli").await;
    assert_eq!((r.action.as_str(), r.result.as_str(), r.origin.as_str()), ("setacl", "ok", "cli"));
    assert_eq!((r.version_before, r.version_after), (Some(0), Some(1)));
    let detail = r.detail.unwrap_or_default();
    let hash = cred.digest_id().split_once(':').unwrap().1.to_string();
    assert!(detail.contains("world:anyone:r → digest:myzoo:#") && detail.ends_with("world:anyone:rw"), "{detail}");
    assert!(!detail.contains(&hash), "the audit log never holds a digest hash: {detail}");
    // The same version again: someone (we) changed it since; exit 3, nothing overwritten.
    let out = with(&["zk", "setacl", "/myzoo/cli", "world:anyone:cdrwa", "--version", "0"]);
    assert_eq!(code(&out), 3, "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("nothing was overwritten"), "{}", text(&out.stderr));
    assert_eq!(acl_text(&c, "/myzoo/cli").await, wider);
    // A password where the hash belongs is refused before anything is sent.
    let out = with(&["zk", "setacl", "/myzoo/cli", "digest:myzoo:hunter2:cdrwa"]);
    assert_eq!(code(&out), 1);
    assert!(text(&out.stderr).contains("myzoo zk digest"), "{}", text(&out.stderr));
    let out = with(&["zk", "getacl", "/myzoo/cli"]);
    assert_eq!(text(&out.stdout), format!("{}\n{}\n", wider[0], wider[1]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_text_passwords_in_znodes_are_listed_by_key() {
    let sb = sandbox().await;
    let owner = client(&sb, Some(credential(&sb))).await;
    let leaky = br#"{"user": "repl", "db": {"password": "hunter2"}, "password_file": "/etc/myzoo/repl"}"#;
    owner
        .mkdir(
            "/myzoo/leak/ok",
            &CreateMode::Persistent.with_acls(Acls::new(&acl::inherited(&owner, "/myzoo/leak").await.unwrap())),
        )
        .await
        .unwrap();
    let inherited = acl::inherited(&owner, "/myzoo/leak/cfg").await.unwrap();
    owner.create("/myzoo/leak/cfg", leaky, &CreateMode::Persistent.with_acls(Acls::new(&inherited))).await.unwrap();
    owner
        .create(
            "/myzoo/leak/env",
            b"DB_USER=app\nDB_PASSWORD=hunter2\n",
            &CreateMode::Persistent.with_acls(Acls::new(&inherited)),
        )
        .await
        .unwrap();
    owner.set_data("/myzoo/leak/ok", br#"{"password_file": "/etc/x"}"#, None).await.unwrap();

    let home = tempfile::tempdir().unwrap();
    let out = myzoo(home.path(), &sb.zk(), &["zk", "secrets", "/myzoo/leak"], &[], None);
    let stdout = text(&out.stdout);
    assert_eq!(code(&out), 1, "found ones exit 1: {stdout}{}", text(&out.stderr));
    let mut lines: Vec<&str> = stdout.lines().collect();
    lines.sort_unstable();
    assert_eq!(lines, ["/myzoo/leak/cfg\t/db/password", "/myzoo/leak/env\tDB_PASSWORD"]);
    assert!(!stdout.contains("hunter2"));
    let out = myzoo(home.path(), &sb.zk(), &["zk", "secrets", "/myzoo/leak/ok", "--json"], &[], None);
    assert_eq!(code(&out), 0, "{}", text(&out.stdout));
    let summary: Value = serde_json::from_str(text(&out.stdout).lines().last().unwrap()).unwrap();
    assert_eq!((summary["kind"].as_str(), summary["found"].as_u64()), (Some("summary"), Some(0)));

    // The console marks the row and says which keys, never the value; :secrets lists them.
    let mut h = Headless::start(common::app_opts((140, 40), ROOT), access(&sb, Some(credential(&sb)))).unwrap();
    keys(&h, ":goto /myzoo/leak/cfg\n");
    let marked = |a: &App| {
        a.tree().selected_path() == Some("/myzoo/leak/cfg")
            && !a.screens().tree.plain_text_secrets("/myzoo/leak/cfg").is_empty()
    };
    assert!(h.pump_until(WAIT, marked).await, "the leaky znode was never marked");
    h.draw();
    let screen = h.screen();
    assert!(screen.contains("cfg  ◆ plain-text secret"), "{screen}");
    assert!(screen.contains("password-like keys in plain text: /db/password"), "{screen}");
    assert!(!screen.contains("hunter2"), "{screen}");
    keys(&h, ":secrets /myzoo/leak\n");
    let listed = |a: &App| {
        let f = &a.screens().find;
        a.screen() == ScreenId::Find
            && f.state == myzoo::console::screens::find::FindState::Done
            && f.results.len() == 2
    };
    assert!(h.pump_until(WAIT, listed).await, "{:?}", h.app.screens().find.results);
    h.draw();
    assert!(h.screen().contains("/myzoo/leak/env  DB_PASSWORD"), "{}", h.screen());
    h.shutdown().await;
}

fn keys(h: &Headless, typed: &str) {
    for c in typed.chars() {
        let code = if c == '\n' { KeyCode::Enter } else { KeyCode::Char(c) };
        h.send(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }
}

fn key(h: &Headless, code: KeyCode) {
    h.send(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn has_notice(a: &App, level: NoticeLevel, part: &str) -> bool {
    a.notices().iter().any(|n| n.level == level && n.text.contains(part))
}

fn notices(a: &App) -> Vec<String> {
    a.notices().iter().map(|n| format!("{:?}: {}", n.level, n.text)).collect()
}

/// The ACL the tree screen read for `path`, with its ACL version.
fn acl_read(a: &App, path: &str) -> Option<(i32, Vec<String>)> {
    match a.screens().tree.acl(path) {
        Some(AclState::Read { acl_version, acl: Ok(entries), .. }) => {
            Some((*acl_version, entries.iter().map(|e| e.text()).collect()))
        }
        _ => None,
    }
}

/// Opens the ACL form on the selected znode and replaces its text with `acl`.
fn type_acl(h: &Headless, acl: &str, current: &str) {
    keys(h, "a");
    for _ in current.chars() {
        key(h, KeyCode::Backspace);
    }
    keys(h, acl);
}

fn acl_form_open(a: &App) -> bool {
    matches!(a.overlay(), Some(Overlay::Acl(_)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_edits_acls_shows_locked_znodes_and_its_identity() {
    let sb = sandbox().await;
    let cred = credential(&sb);
    let colleague = client(&sb, Some(cred.clone())).await;
    let inherited = acl::inherited(&colleague, "/myzoo/console-acl").await.unwrap();
    colleague
        .create("/myzoo/console-acl", b"x", &CreateMode::Persistent.with_acls(Acls::new(&inherited)))
        .await
        .unwrap();

    let mut h = Headless::start(common::app_opts((140, 40), ROOT), access(&sb, Some(cred.clone()))).unwrap();
    keys(&h, ":goto /demo/locked\n");
    let locked = |a: &App| {
        a.tree().node("/demo/locked").is_some_and(|n| n.error.as_deref().is_some_and(|e| e.starts_with("NoAuth")))
            && a.tree().selected_path() == Some("/demo/locked")
    };
    assert!(h.pump_until(WAIT, locked).await, "the locked demo znode was never shown");
    h.draw();
    let screen = h.screen();
    assert!(screen.contains(" auth: digest myzoo "), "the header names the credential:\n{screen}");
    assert!(screen.contains("locked  ⊘ locked (NoAuth)"), "{screen}");
    assert!(
        screen.contains("needs READ permission") && screen.contains("this console authenticates as digest myzoo"),
        "{screen}"
    );
    assert!(h.app.shared().auth_problem.is_none(), "the right password is not reported wrong");

    // Edit an ACL: the form opens with the ACL as read, a typo is caught as it is typed.
    keys(&h, ":goto /myzoo/console-acl\n");
    let current = protected(&cred).join(",");
    let read =
        |a: &App| acl_read(a, "/myzoo/console-acl").is_some() && a.tree().selected_path() == Some("/myzoo/console-acl");
    assert!(h.pump_until(WAIT, read).await, "the ACL was never read");
    assert_eq!(acl_read(&h.app, "/myzoo/console-acl"), Some((0, protected(&cred))));
    let wider = format!("digest:{}:cdrwa,world:anyone:rw", cred.digest_id());
    type_acl(&h, &format!("{wider},wrld:anyone:r"), &current);
    let flagged = |a: &App| matches!(a.overlay(), Some(Overlay::Acl(f)) if f.error.as_deref().is_some_and(|e| e.contains("unknown scheme")));
    assert!(h.pump_until(WAIT, flagged).await, "the typo was not flagged");
    for _ in ",wrld:anyone:r".chars() {
        key(&h, KeyCode::Backspace);
    }
    key(&h, KeyCode::Enter);
    let set = |a: &App| has_notice(a, NoticeLevel::Info, "ACL of /myzoo/console-acl set (ACL version 1)");
    assert!(h.pump_until(WAIT, set).await, "{:?}", notices(&h.app));
    assert_eq!(acl_text(&colleague, "/myzoo/console-acl").await.join(","), wider);
    let r = newest_audit(&colleague, "/myzoo/console-acl").await;
    assert_eq!((r.action.as_str(), r.result.as_str(), r.origin.as_str()), ("setacl", "ok", "console"));

    // A colleague changes it while the form is open: the save is a conflict, theirs stays.
    let reread = |a: &App| acl_read(a, "/myzoo/console-acl").is_some_and(|(v, _)| v == 1);
    assert!(h.pump_until(WAIT, reread).await, "the ACL was not read again after the change");
    type_acl(&h, &current, &wider);
    assert!(h.pump_until(WAIT, acl_form_open).await, "the form did not open");
    let theirs = acl::parse(&[format!("digest:{}:cdrwa", cred.digest_id())]).unwrap();
    let theirs: Vec<_> = theirs.iter().map(|e| e.to_acl()).collect();
    colleague.set_acl("/myzoo/console-acl", &theirs, Some(1)).await.unwrap();
    key(&h, KeyCode::Enter);
    let conflict =
        |a: &App| has_notice(a, NoticeLevel::Error, "its ACL was changed by someone else since ACL version 1");
    assert!(h.pump_until(WAIT, conflict).await, "{:?}", notices(&h.app));
    assert!(notices(&h.app).iter().any(|n| n.contains("nothing was overwritten")), "{:?}", notices(&h.app));
    assert_eq!(acl_text(&colleague, "/myzoo/console-acl").await, [format!("digest:{}:cdrwa", cred.digest_id())]);
    let r = newest_audit(&colleague, "/myzoo/console-acl").await;
    assert!(r.result.starts_with("failed: ") && r.result.contains("BadVersion"), "{}", r.result);
    h.shutdown().await;

    // Without credentials: no badge, the locked znode says this console sends none, and an ACL
    // change is refused by the server with the reason.
    let mut h = Headless::start(common::app_opts((140, 40), ROOT), access(&sb, None)).unwrap();
    keys(&h, ":goto /demo/locked\n");
    assert!(h.pump_until(WAIT, locked).await, "the locked demo znode was never shown");
    h.draw();
    let screen = h.screen();
    assert!(!screen.contains(" auth: "), "{screen}");
    assert!(screen.contains("this console sends no credentials"), "{screen}");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_with_a_wrong_password_says_so() {
    let sb = sandbox().await;
    let wrong = ZkCredential::new(ZK_USER, "Tr0ub4dor").unwrap();
    let mut h = Headless::start(common::app_opts((120, 40), ROOT), access(&sb, Some(wrong))).unwrap();
    let said = |a: &App| a.shared().auth_problem.is_some() && has_notice(a, NoticeLevel::Error, "wrong password");
    assert!(h.pump_until(WAIT, said).await, "{:?}", notices(&h.app));
    h.draw();
    let screen = h.screen();
    assert!(screen.contains(" auth: digest myzoo — wrong password "), "{screen}");
    assert!(!screen.contains("Tr0ub4dor"), "{screen}");
    h.shutdown().await;
}

/// A port nothing listens on (bound, then let go).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn start_agent(sb: &common::Sandbox, node: &str, auth: &Path, log: &Path) -> std::process::Child {
    let home = log.parent().unwrap().join("home");
    let port = closed_port().to_string();
    common::isolated_myzoo(&home)
        .args(["--zk", &sb.zk(), "--zk-auth-file", auth.to_str().unwrap(), "--log-file", log.to_str().unwrap()])
        .args(["agent", "--cluster", "authed", "--node", node, "--mysql-port", &port, "--no-coordinator"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the agent")
}

/// Waits (at most 30 s) until `path` exists.
async fn wait_exists(c: &Client, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while c.check_stat(path).await.unwrap().is_none() {
        assert!(Instant::now() < deadline, "{path} did not appear within 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits (at most 30 s) until the log file holds `what`.
async fn wait_logged(log: &Path, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains(what) {
            return text;
        }
        assert!(Instant::now() < deadline, "{} never said {what:?}:\n{text}", log.display());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_registers_on_the_protected_tree_with_the_credential_only() {
    let sb = sandbox().await;
    let cred = credential(&sb);
    let dir = tempfile::tempdir().unwrap();
    let anyone = client(&sb, None).await;
    // ZooKeeper shows digest hashes to sessions with ADMIN only: the owner's client reads ACLs.
    let owner = client(&sb, Some(cred.clone())).await;

    let good_log = dir.path().join("good.log");
    let mut good = start_agent(&sb, "n1", &auth_file(&sb), &good_log);
    let znode = "/myzoo/clusters/authed/nodes/n1";
    wait_exists(&anyone, znode).await;
    assert_eq!(acl_text(&owner, znode).await, protected(&cred), "the agent's znode is protected like the tree");
    assert_eq!(acl_text(&owner, "/myzoo/clusters/authed/nodes").await, protected(&cred));
    assert_eq!(anyone.set_data(znode, b"forged", None).await.unwrap_err(), ZkError::NoAuth);

    let wrong_file = dir.path().join("wrong.auth");
    std::fs::write(&wrong_file, "myzoo:Tr0ub4dor\n").unwrap();
    let bad_log = dir.path().join("bad.log");
    let mut bad = start_agent(&sb, "n2", &wrong_file, &bad_log);
    wait_logged(&bad_log, "wrong password").await;
    // Its registration is refused (and retried): the next step needs that attempt made.
    let log = wait_logged(&bad_log, "cannot publish the status").await;
    assert!(anyone.check_stat("/myzoo/clusters/authed/nodes/n2").await.unwrap().is_none());
    assert!(!log.contains("Tr0ub4dor"), "the password is never logged");

    for child in [&mut good, &mut bad] {
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let status = common::wait_exited(child.id() as i32, WAIT).await;
        assert!(common::exited_ok(status), "agent exit status {status}");
    }
    assert!(anyone.check_stat(znode).await.unwrap().is_none(), "the agent removed its znode on SIGTERM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acl_changes_go_through_the_mutation_service() {
    let sb = sandbox().await;
    let cred = credential(&sb);
    let actor = Actor { user: "tester".into(), host: "testhost".into(), ssh_client: None };
    let ops = Ops::new(client(&sb, Some(cred.clone())).await, ROOT, Origin::Cli).with_actor(actor.clone());
    let colleague = client(&sb, Some(cred.clone())).await;
    let path = "/myzoo/ops-acl";
    ops.apply(Mutation::Create { path: path.into(), data: b"x".to_vec(), mode: NodeMode::Persistent }, None)
        .await
        .unwrap();
    assert_eq!(acl_text(&colleague, path).await, protected(&cred), "created with the parent's ACL");

    let mine = acl::parse(&[format!("digest:{}:cdrwa,world:anyone:rw", cred.digest_id())]).unwrap();
    let m = Mutation::SetAcl { path: path.into(), acl: mine.clone(), expected_aversion: Some(0) };
    let done = ops.apply(m, None).await.unwrap();
    assert_eq!((done.version_before, done.version_after), (Some(0), Some(1)));

    // A colleague's change after our read: BadVersion with theirs, nothing overwritten.
    let theirs = acl::parse(&[format!("digest:{}:cdrwa", cred.digest_id())]).unwrap();
    let raw: Vec<_> = theirs.iter().map(|e| e.to_acl()).collect();
    colleague.set_acl(path, &raw, Some(1)).await.unwrap();
    let m = Mutation::SetAcl { path: path.into(), acl: mine.clone(), expected_aversion: Some(1) };
    match ops.apply(m, None).await {
        Err(OpError::AclBadVersion { expected: 1, current: Some((2, now)), .. }) => assert_eq!(now, theirs),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(acl_text(&colleague, path).await, [theirs[0].text()]);
    let records = audit::list(&colleague, ROOT, 2, Some(path)).await.unwrap();
    let (failed, ok) = (&records[0].1, &records[1].1);
    assert!(failed.result.starts_with("failed: ") && failed.result.contains("BadVersion"), "{}", failed.result);
    assert_eq!((failed.version_before, failed.version_after), (Some(2), None));
    assert_eq!((ok.action.as_str(), ok.result.as_str(), ok.user.as_str()), ("setacl", "ok", "tester"));
    assert!(ok.detail.as_deref().is_some_and(|d| d.starts_with("expected ACL version 0: ")), "{:?}", ok.detail);

    // A production cluster's znode needs its name typed.
    let config = serde_json::json!({"schema": 1, "name": "prodacl", "tier": "production", "nodes": []}).to_string();
    ops.apply(
        Mutation::Create { path: "/myzoo/clusters/prodacl".into(), data: vec![], mode: NodeMode::Persistent },
        None,
    )
    .await
    .unwrap();
    let cfg = "/myzoo/clusters/prodacl/config";
    ops.apply(Mutation::Create { path: cfg.into(), data: config.into_bytes(), mode: NodeMode::Persistent }, None)
        .await
        .unwrap();
    let m = Mutation::SetAcl { path: cfg.into(), acl: mine.clone(), expected_aversion: Some(0) };
    match ops.apply(m.clone(), None).await {
        Err(OpError::NeedsConfirmation { cluster }) => assert_eq!(cluster, "prodacl"),
        other => panic!("expected the production guard, got {other:?}"),
    }
    assert_eq!(acl_text(&colleague, cfg).await, protected(&cred), "refused: unchanged");
    ops.apply(m, Some("prodacl")).await.unwrap();

    // Anonymous: the server says NoAuth, myzoo says which permission and who the session is.
    let anonymous = Ops::new(client(&sb, None).await, ROOT, Origin::Cli).with_actor(actor);
    let m = Mutation::SetAcl { path: path.into(), acl: mine, expected_aversion: None };
    let err = anonymous.apply(m, None).await.unwrap_err().to_string();
    assert!(err.contains("NoAuth") && err.contains("ADMIN") && err.contains("sends no credentials"), "{err}");
}

/// The credential rides in the connector, which sends it on every connection: after the member
/// serving the session dies and the session moves to another, writes that need it still work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_credential_is_sent_again_when_the_session_moves_to_another_member() {
    let opts = SandboxOptions { zk_ensemble: 3, seed: true, zk_acl: true, ..common::Sandbox::options(false) };
    let sb = common::Sandbox::start_with(opts).await;
    let c = client(&sb, Some(credential(&sb))).await;
    let acl = acl::inherited(&c, "/myzoo/moved").await.unwrap();
    c.create("/myzoo/moved", b"before", &CreateMode::Persistent.with_acls(Acls::new(&acl))).await.unwrap();
    let session = c.session_id().0;
    let deadline = Instant::now() + WAIT;
    let serving = loop {
        if let Some(m) = myzoo::sandbox::zk_member_of_session(&sb.status, session).await {
            break m;
        }
        assert!(Instant::now() < deadline, "no member lists session {session:#x}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(unsafe { libc::kill(serving.pid.expect("member pid") as i32, libc::SIGKILL) }, 0);

    // Writes fail for want of a connection until the session has moved; then they must pass
    // the ACL again, which they can only with the credential re-sent on the new connection.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match c.set_data("/myzoo/moved", b"after", None).await {
            Ok(_) => break,
            Err(ZkError::NoAuth) => panic!("NoAuth after the move: the credential was not sent again"),
            // The connection's own failures (reset, loss) until the client has moved.
            Err(e) => assert!(Instant::now() < deadline, "the session never moved to another member: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let now = myzoo::sandbox::zk_member_of_session(&sb.status, session).await;
    assert!(now.is_some_and(|m| m.id != serving.id), "the write went through another member");
    assert_eq!(c.get_data("/myzoo/moved").await.unwrap().0, b"after");
}
