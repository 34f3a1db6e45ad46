//! `myzoo zk get | set | create | delete` as scripts run them, against a real ZooKeeper: the
//! version check and its exit code, `--json` shapes, read-only refusal (flag and profile),
//! secrets masked unless revealed, and the audit records the commands leave.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

use myzoo::audit;
use serde_json::Value;

fn myzoo(config: &Path, zk: &str, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let home = config.parent().expect("the config's folder").join("home");
    let mut child = common::isolated_myzoo(&home)
        .arg("--zk")
        .arg(zk)
        .args(args)
        .env("MYZOO_CONFIG", config)
        .env("USER", "cli-tester")
        .env_remove("MYZOO_ZK")
        .env_remove("MYZOO_PROFILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run myzoo");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("myzoo output")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exit code")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_set_get_create_delete_with_the_same_guards() {
    let sb = common::Sandbox::zk_only().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    let zk = sb.zk();
    let run = |args: &[&str]| myzoo(&cfg, &zk, args, None);

    // create: the parent first, then data from stdin.
    let out = run(&["zk", "create", "/app"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "/app\n");
    let out = myzoo(&cfg, &zk, &["zk", "create", "/app/cfg", "--file", "-", "--json"], Some(b"hello"));
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(json(&out)["version_after"], 0);
    let out = run(&["zk", "create", "/app/seq-", "--mode", "persistent-sequential", "--json"]);
    assert!(json(&out)["path"].as_str().unwrap().starts_with("/app/seq-00000"));
    let out = run(&["zk", "create", "/app/eph", "--mode", "ephemeral"]);
    assert_eq!(code(&out), 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("would vanish"));

    // get: raw, and --json with the stat.
    let out = run(&["zk", "get", "/app/cfg"]);
    assert_eq!(out.stdout, b"hello");
    let v = json(&run(&["zk", "get", "/app/cfg", "--json"]));
    assert_eq!(
        (v["path"].as_str(), v["data_text"].as_str(), v["stat"]["version"].as_i64()),
        (Some("/app/cfg"), Some("hello"), Some(0))
    );

    // set needs --expect-version or --force.
    assert_eq!(code(&run(&["zk", "set", "/app/cfg", "--data", "x"])), 2);
    let out = run(&["zk", "set", "/app/cfg", "--data", "v1", "--expect-version", "0", "--json"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    assert_eq!(
        (v["ok"].as_bool(), v["version_before"].as_i64(), v["version_after"].as_i64()),
        (Some(true), Some(0), Some(1))
    );
    assert!(v["audit_path"].as_str().unwrap().starts_with("/myzoo/audit/entry-"));
    // The same expected version again: someone (we) changed it meanwhile → exit 3.
    let out = run(&["zk", "set", "/app/cfg", "--data", "v2", "--expect-version", "0", "--json"]);
    assert_eq!(code(&out), 3);
    let v = json(&out);
    assert_eq!((v["kind"].as_str(), v["current_version"].as_i64()), (Some("bad-version"), Some(1)));
    assert_eq!(run(&["zk", "get", "/app/cfg"]).stdout, b"v1");
    assert_eq!(code(&run(&["zk", "set", "/app/cfg", "--data", "v2", "--force"])), 0);

    // Read-only, from the flag and from the profile: exit 4, nothing changed.
    let out = run(&["--read-only", "zk", "set", "/app/cfg", "--data", "ro", "--force", "--json"]);
    assert_eq!(code(&out), 4);
    assert_eq!(json(&out)["kind"], "read-only");
    assert!(String::from_utf8_lossy(&out.stderr).contains("read-only"));
    std::fs::write(&cfg, format!("[profiles.ro]\nzk = \"{zk}\"\nread_only = true\n")).unwrap();
    let out = common::isolated_myzoo(&cfg.parent().expect("the config's folder").join("home"))
        .args(["--profile", "ro", "zk", "delete", "/app/cfg", "--force"])
        .env("MYZOO_CONFIG", &cfg)
        .env("USER", "cli-tester")
        .env_remove("MYZOO_ZK")
        .output()
        .unwrap();
    assert_eq!(code(&out), 4, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(run(&["zk", "get", "/app/cfg"]).stdout, b"v2");

    // Secrets: masked unless --reveal, which is audited.
    std::fs::write(dir.path().join("secret.json"), br#"{"user":"u","password":"hunter2"}"#).unwrap();
    let file = dir.path().join("secret.json");
    assert_eq!(code(&run(&["zk", "create", "/app/secret", "--file", file.to_str().unwrap()])), 0);
    let masked = run(&["zk", "get", "/app/secret"]);
    assert!(!String::from_utf8_lossy(&masked.stdout).contains("hunter2"));
    assert!(String::from_utf8_lossy(&masked.stdout).contains(myzoo::secrets::MASK));
    assert_eq!(json(&run(&["zk", "get", "/app/secret", "--json"]))["masked"], true);
    let out = run(&["zk", "get", "/app/secret", "--reveal"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("hunter2"));
    assert_eq!(code(&run(&["--read-only", "zk", "get", "/app/secret", "--reveal"])), 4);

    // delete: version-checked, recursive on demand.
    assert_eq!(code(&run(&["zk", "delete", "/app/cfg", "--expect-version", "0"])), 3);
    assert_eq!(code(&run(&["zk", "delete", "/app", "--force"])), 1, "not empty");
    let out = run(&["zk", "delete", "/app", "--force", "--recursive", "--json"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["zk", "get", "/app", "--json"]);
    assert_eq!(code(&out), 1);
    assert_eq!(json(&out)["ok"], false);

    // The audit log saw every attempt, with the CLI as origin and the user from $USER.
    let client = zookeeper_client::Client::connect(&zk).await.unwrap();
    let records = audit::list(&client, "/myzoo", 100, Some("/app")).await.unwrap();
    assert!(records.iter().all(|(_, r)| r.origin == "cli" && r.user == "cli-tester"), "{records:?}");
    let results: Vec<(&str, &str)> =
        records.iter().map(|(_, r)| (r.action.as_str(), r.result.split(':').next().unwrap())).collect();
    assert_eq!(results.first(), Some(&("delete", "ok")));
    assert!(results.contains(&("reveal-secret", "ok")));
    assert!(results.contains(&("reveal-secret", "refused")));
    assert!(results.contains(&("set", "failed")));
    assert_eq!(results.iter().filter(|(_, r)| *r == "refused").count(), 4, "{results:?}");
}
