//! The `myzoo sandbox` commands as an operator runs them: up, status --json, replication
//! working end to end, the seeded tree (protected by the sandbox's ZooKeeper credential) and
//! profile, down leaving nothing behind.

mod common;

use mysql_async::prelude::Queryable;
use myzoo::sandbox::{self, SandboxStatus};

fn myzoo(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    common::isolated_myzoo(&dir.join("home"))
        .args(args)
        .arg("--state-dir")
        .arg(dir.join("sb"))
        .env("MYZOO_CONFIG", dir.join("config.toml"))
        .output()
        .expect("run myzoo")
}

fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default().contains(") Z ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_status_replication_and_down() {
    let dir = tempfile::tempdir().unwrap();
    let out = myzoo(dir.path(), &["sandbox", "up"]);
    assert!(out.status.success(), "up failed: {}", String::from_utf8_lossy(&out.stderr));

    let out = myzoo(dir.path(), &["sandbox", "status", "--json"]);
    assert!(out.status.success());
    let status: SandboxStatus = serde_json::from_slice(&out.stdout).expect("status --json is the documented shape");
    let roles: Vec<&str> = status.mysql.iter().map(|m| m.role.as_str()).collect();
    assert_eq!(roles, ["primary", "replica", "replica"]);
    assert!(status.mysql.iter().all(|m| m.pid.is_some_and(alive)));

    // The profile points a plain `myzoo` at the sandbox.
    let cfg = std::fs::read_to_string(dir.path().join("config.toml")).unwrap();
    assert!(cfg.contains(&status.zk), "{cfg}");
    // The seeded tree is there.
    let zk = zookeeper_client::Client::connect(&status.zk).await.unwrap();
    let (config, _) = zk.get_data("/myzoo/clusters/sandbox/config").await.unwrap();
    let config: serde_json::Value = serde_json::from_slice(&config).unwrap();
    assert_eq!(config["name"], "sandbox");

    // /myzoo is protected by default: anyone reads it, only the sandbox's credential (a 0600
    // file the profile names and the agents were given: they registered) writes it.
    let auth = status.zk_auth_file.clone().expect("the credential file");
    assert!(status.zk_acl);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&auth).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(cfg.contains(&format!("zk_auth_file = {:?}", auth.display().to_string())), "{cfg}");
    let denied = zk.set_data("/myzoo/clusters/sandbox/config", b"{}", None).await.unwrap_err();
    assert_eq!(denied, zookeeper_client::Error::NoAuth);
    let out = common::isolated_myzoo(&dir.path().join("home"))
        .args(["zk", "create", "/myzoo/probe", "--data", "through the profile"])
        .env("MYZOO_CONFIG", dir.path().join("config.toml"))
        .output()
        .expect("run myzoo");
    assert!(out.status.success(), "a write through the profile: {}", String::from_utf8_lossy(&out.stderr));

    // A write on the primary reaches both replicas.
    let creds = sandbox::credentials(&dir.path().join("sb")).unwrap();
    let mut primary = sandbox::mariadb::connect_as(status.mysql[0].port, &creds.admin).await.unwrap();
    primary.query_drop("CREATE TABLE IF NOT EXISTS myzoo_sandbox.t (id INT PRIMARY KEY)").await.unwrap();
    primary.query_drop("INSERT INTO myzoo_sandbox.t VALUES (42)").await.unwrap();
    for replica in &status.mysql[1..] {
        let mut conn = sandbox::mariadb::connect_as(replica.port, &creds.monitor).await.unwrap();
        // A liveness bound (replication takes milliseconds; a loaded machine may take longer).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut found = None;
        while std::time::Instant::now() < deadline {
            found = conn.query_first::<i32, _>("SELECT id FROM myzoo_sandbox.t WHERE id = 42").await.ok().flatten();
            if found.is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(found, Some(42), "row did not replicate to {} within 30 s", replica.name);
        let ro: Option<u8> = conn.query_first("SELECT @@read_only").await.unwrap();
        assert_eq!(ro, Some(1), "{} is not read-only", replica.name);
    }

    let out = myzoo(dir.path(), &["sandbox", "down"]);
    assert!(out.status.success(), "down failed: {}", String::from_utf8_lossy(&out.stderr));
    let mut pids: Vec<u32> = status.mysql.iter().filter_map(|m| m.pid).collect();
    pids.extend(status.zk_servers.iter().filter_map(|z| z.pid));
    assert_eq!(pids.len(), 4);
    assert!(pids.iter().all(|&p| !alive(p)), "down left servers running");
}
