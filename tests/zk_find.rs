//! `myzoo zk find` against a real ZooKeeper: matches by name and data stream out as JSON lines,
//! unreadable znodes are listed and counted (never dropped), secrets are masked before
//! matching, and the exit codes follow grep (0 found, 1 none, 2 bad pattern, 3 error).

mod common;

use std::process::Output;

use serde_json::Value;
use zookeeper_client::{Acl, Acls, AuthId, Client, CreateMode, Permission};

fn find(sb: &common::Sandbox, zk: &str, args: &[&str]) -> Output {
    common::isolated_myzoo(&sb.dir.path().join("home"))
        .args(["--zk", zk, "zk", "find"])
        .args(args)
        .output()
        .expect("run myzoo zk find")
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}

fn paths(lines: &[Value], kind: &str) -> Vec<String> {
    let mut p: Vec<String> = lines
        .iter()
        .filter(|v| v["kind"] == kind)
        .map(|v| v["path"].as_str().unwrap_or_default().to_string())
        .collect();
    p.sort();
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_streams_matches_and_lists_what_it_cannot_read() {
    let sb = common::Sandbox::zk_only().await;
    let zk = Client::connect(&sb.zk()).await.unwrap();
    let open = CreateMode::Persistent.with_acls(Acls::anyone_all());
    let write_only = [Acl::new(Permission::WRITE | Permission::DELETE, AuthId::new("world", "anyone"))];
    zk.create("/f", b"", &open).await.unwrap();
    zk.create("/f/a", b"host=db7.internal port=3306", &open).await.unwrap();
    zk.create("/f/b", br#"{"primary": "db7.internal", "password": "hunter2"}"#, &open).await.unwrap();
    zk.create("/f/b/db7-notes", b"nothing here", &open).await.unwrap();
    zk.create("/f/locked", b"db7", &CreateMode::Persistent.with_acls(Acls::new(&write_only))).await.unwrap();
    for i in 0..600 {
        zk.create(&format!("/f/many-{i:04}"), b"{}", &open).await.unwrap();
    }

    // By data: both holders of db7, the locked znode listed as unreadable, counts in the summary.
    let out = find(&sb, &sb.zk(), &["/f", "--data", r"db7\.internal", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let l = lines(&out);
    assert_eq!(paths(&l, "match"), ["/f/a", "/f/b"]);
    assert_eq!(paths(&l, "unreadable"), ["/f/locked"]);
    let locked = l.iter().find(|v| v["kind"] == "unreadable").unwrap();
    assert!(locked["reason"].as_str().unwrap().contains("NoAuth"), "{locked}");
    let summary = l.last().unwrap();
    assert_eq!(summary["kind"], "summary");
    // /f, a, b, db7-notes, 600 children (the locked one is not read).
    assert_eq!((summary["read"].as_u64(), summary["matched"].as_u64()), (Some(604), Some(2)), "{summary}");
    assert_eq!(summary["unreadable"].as_u64(), Some(1));
    let b = l.iter().find(|v| v["path"] == "/f/b").unwrap();
    assert!(!b["snippet"].as_str().unwrap().contains("hunter2"), "a secret in a snippet: {b}");

    // By name, as text: one path per line.
    let out = find(&sb, &sb.zk(), &["/f", "--name", "^db7-"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "/f/b/db7-notes");
    assert!(String::from_utf8_lossy(&out.stderr).contains("/f/locked: not read"), "unreadable znodes are reported");

    // A secret's value is never confirmed; nothing matched exits 1 like grep.
    let out = find(&sb, &sb.zk(), &["/f", "--data", "hunter2", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(paths(&lines(&out), "match"), Vec::<String>::new());

    // A bad pattern is a usage error; nothing listening is an error, not "no match".
    assert_eq!(find(&sb, &sb.zk(), &["/f", "--name", "("]).status.code(), Some(2));
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = find(&sb, &format!("127.0.0.1:{port}"), &["/f"]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
}
