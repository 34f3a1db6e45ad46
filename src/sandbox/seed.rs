//! The sandbox's starting ZooKeeper tree: the `sandbox` cluster under `/myzoo` and a `/demo`
//! tree with one of every kind of znode the console must display well.
//!
//! With protection asked for, `/myzoo` and everything under it get `digest:myzoo:HASH:cdrwa,
//! world:anyone:r` (what myzoo creates later inherits it), and `/demo/locked` is a znode only
//! another digest user may read, so the console's locked marker has something to show.

use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::json;
use zookeeper_client::{Acl, Acls, AuthId, Client, CreateMode, Error as ZkError, Permission};

use crate::tls::TlsMode;

use super::mariadb::ROLE_PRIMARY;
use super::MysqlServer;
use crate::cluster::config;
use crate::zk::auth::DIGEST_SCHEME;
use crate::zk::{ZkAccess, ZkCredential};

/// Name of the seeded cluster.
pub const CLUSTER: &str = "sandbox";
/// Session timeout of the seeding client.
pub(crate) const SEED_SESSION_TIMEOUT_MS: u64 = 10_000;
/// The digest user `/demo/locked` is readable by (its password is thrown away).
const LOCKED_DEMO_USER: &str = "operator";
/// Longest the whole seeding may take (a few hundred requests on loopback).
const SEED_TIMEOUT_MS: u64 = 30_000;
/// Children of `/demo/many`.
const DEMO_CHILDREN: usize = 50;
/// Automatic failover stays off in the sandbox until an operator turns it on; once on, it waits
/// this long after one failover before it may do another.
const FAILOVER_COOLDOWN_S: u64 = 300;
/// The sandbox's replicas rejoin on their own after a failover, so the playground heals without
/// an operator; production configs default to `false` (see `cluster::config`).
const SANDBOX_AUTO_REJOIN: bool = true;

/// Seeds the tree through `zk` (the sandbox's connect string, credential and TLS); `mysql` is
/// empty without MariaDB; `mysql_tls` is the cluster config's TLS policy; `protect`: the
/// credential `/myzoo` is protected for (see the module doc).
pub async fn seed(
    zk: &ZkAccess,
    root: &str,
    mysql: &[MysqlServer],
    mysql_tls: TlsMode,
    protect: Option<&ZkCredential>,
) -> Result<()> {
    tokio::time::timeout(Duration::from_millis(SEED_TIMEOUT_MS), seed_all(zk, root, mysql, mysql_tls, protect))
        .await
        .with_context(|| format!("seeding ZooKeeper took over {SEED_TIMEOUT_MS} ms"))?
}

async fn seed_all(
    zk: &ZkAccess,
    root: &str,
    mysql: &[MysqlServer],
    mysql_tls: TlsMode,
    protect: Option<&ZkCredential>,
) -> Result<()> {
    let client = zk.connect().await.with_context(|| format!("connecting to ZooKeeper at {}", zk.connect))?;
    let tree_acl = match protect {
        Some(cred) => protected_acl(cred),
        None => Acls::anyone_all().to_vec(),
    };
    seed_cluster(&client, root, mysql, mysql_tls, &tree_acl).await?;
    seed_demo(&client, protect.is_some()).await?;
    tracing::debug!("seeded ZooKeeper at {}", zk.connect);
    Ok(())
}

/// Everything for the credential's digest id, reading for anyone.
pub fn protected_acl(cred: &ZkCredential) -> Vec<Acl> {
    vec![
        Acl::new(Permission::ALL, AuthId::new(DIGEST_SCHEME, &cred.digest_id())),
        Acl::new(Permission::READ, AuthId::anyone()),
    ]
}

/// `mkdir -p`, each znode made with `acl`.
async fn mkdir(client: &Client, path: &str, acl: &[Acl]) -> Result<()> {
    let options = CreateMode::Persistent.with_acls(Acls::new(acl));
    client.mkdir(path, &options).await.with_context(|| format!("creating {path}"))
}

/// Creates `path` (and its parents) holding `data` with `acl`, or replaces the data of an
/// existing one.
async fn put(client: &Client, path: &str, data: &[u8], acl: &[Acl]) -> Result<()> {
    if let Some((parent, _)) = path.rsplit_once('/') {
        if !parent.is_empty() {
            mkdir(client, parent, acl).await?;
        }
    }
    match client.create(path, data, &CreateMode::Persistent.with_acls(Acls::new(acl))).await {
        Ok(_) => Ok(()),
        Err(ZkError::NodeExists) => {
            client.set_data(path, data, None).await.map(|_| ()).with_context(|| format!("writing {path}"))
        }
        Err(e) => Err(e).with_context(|| format!("creating {path}")),
    }
}

/// The cluster's `config` znode: its nodes, no passwords; `mysql.tls` only when not `off`.
pub fn cluster_config(mysql: &[MysqlServer], mysql_tls: TlsMode) -> serde_json::Value {
    let nodes: Vec<serde_json::Value> =
        mysql.iter().map(|m| json!({"name": m.name, "host": m.host, "port": m.port})).collect();
    let mut config = json!({
        "schema": 1,
        "name": CLUSTER,
        "tier": "development",
        "nodes": nodes,
        // Every failover setting is written out, defaults included, so an operator opening the
        // config sees what there is to tune.
        "failover": {
            "automatic": false,
            "cooldown_s": FAILOVER_COOLDOWN_S,
            "max_lag_s": config::DEFAULT_MAX_LAG_S,
            "confirmations": config::DEFAULT_CONFIRMATIONS,
            "auto_rejoin": SANDBOX_AUTO_REJOIN,
            "catch_up_timeout_ms": config::DEFAULT_CATCH_UP_TIMEOUT_MS,
            "long_transaction_s": config::DEFAULT_LONG_TRANSACTION_S,
        },
        "replication": {"user": config::DEFAULT_REPLICATION_USER},
    });
    if !mysql_tls.is_off() {
        config["mysql"] = json!({"tls": mysql_tls.as_str()});
    }
    config
}

fn pretty(value: &serde_json::Value) -> Result<Vec<u8>> {
    let mut text = serde_json::to_vec_pretty(value)?;
    text.push(b'\n');
    Ok(text)
}

async fn seed_cluster(
    client: &Client,
    root: &str,
    mysql: &[MysqlServer],
    mysql_tls: TlsMode,
    acl: &[Acl],
) -> Result<()> {
    let cluster = format!("{root}/clusters/{CLUSTER}");
    put(client, &format!("{cluster}/config"), &pretty(&cluster_config(mysql, mysql_tls))?, acl).await?;
    if let Some(primary) = mysql.iter().find(|m| m.role == ROLE_PRIMARY) {
        let record = json!({"node": primary.name, "epoch": 1});
        put(client, &format!("{cluster}/primary"), &pretty(&record)?, acl).await?;
    }
    for folder in ["nodes", "coordinator", "lock", "history"] {
        mkdir(client, &format!("{cluster}/{folder}"), acl).await?;
    }
    mkdir(client, &format!("{root}/audit"), acl).await
}

/// Bytes that are not UTF-8, so the console's hex view gets exercised.
const DEMO_BINARY: [u8; 12] = [0x00, 0x01, 0xff, 0xfe, 0x80, 0x81, 0xc3, 0x28, 0x7f, 0x10, 0xde, 0xad];

async fn seed_demo(client: &Client, locked: bool) -> Result<()> {
    let open = Acls::anyone_all().to_vec();
    let open = open.as_slice();
    put(client, "/demo/text", b"Hello from the myzoo sandbox.\nThis znode holds plain UTF-8 text.\n", open).await?;
    put(client, "/demo/binary", &DEMO_BINARY, open).await?;
    let doc = json!({
        "service": "checkout",
        "replicas": 3,
        "enabled": true,
        "limits": {"cpu": "500m", "memory": "256Mi"},
        "tags": ["demo", "json"],
    });
    put(client, "/demo/json", &pretty(&doc)?, open).await?;
    put(client, "/demo/deep/level1/level2/level3/level4", b"four levels down\n", open).await?;
    put(client, "/demo/empty", b"", open).await?;
    mkdir(client, "/demo/many", open).await?;
    // Sent together: the client pipelines requests on its one connection.
    let children = (0..DEMO_CHILDREN).map(|i| async move {
        put(client, &format!("/demo/many/child-{i:03}"), format!("{i}\n").as_bytes(), open).await
    });
    futures::future::try_join_all(children).await?;
    if locked {
        // Another user's, whose password nobody keeps: the sandbox's own credential cannot read it.
        let other = ZkCredential::new(LOCKED_DEMO_USER, &super::secrets::random_password()?)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let acl = [Acl::new(Permission::ALL, AuthId::new(DIGEST_SCHEME, &other.digest_id()))];
        let text = format!("Only digest user {LOCKED_DEMO_USER} may read this znode.\n");
        put(client, "/demo/locked", text.as_bytes(), &acl).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_lists_nodes_without_secrets() {
        let mysql = vec![MysqlServer {
            name: "db1".into(),
            host: "127.0.0.1".into(),
            port: 3307,
            role: ROLE_PRIMARY.into(),
            pid: Some(1),
        }];
        let cfg = cluster_config(&mysql, TlsMode::Off);
        assert_eq!(cfg["schema"], 1);
        assert_eq!(cfg["name"], "sandbox");
        assert_eq!(cfg["nodes"][0]["port"], 3307);
        assert_eq!(cfg["failover"]["automatic"], false);
        assert_eq!(cfg["failover"]["max_lag_s"], 10);
        assert_eq!(cfg["failover"]["confirmations"], 3);
        assert_eq!(cfg["failover"]["auto_rejoin"], true);
        assert_eq!(cfg["failover"]["catch_up_timeout_ms"], 5000);
        assert_eq!(cfg["failover"]["long_transaction_s"], 60);
        assert_eq!(cfg["replication"]["user"], "repl");
        assert!(!cfg.to_string().contains("password"));
        let text = serde_json::to_string_pretty(&cfg).unwrap();
        assert_eq!(crate::cluster::schema::validate_config(&text, Some(CLUSTER)), vec![]);
        assert!(cfg.get("mysql").is_none());
        let tls = cluster_config(&mysql, TlsMode::Required);
        assert_eq!(tls["mysql"]["tls"], "required");
        let text = serde_json::to_string_pretty(&tls).unwrap();
        assert_eq!(crate::cluster::schema::validate_config(&text, Some(CLUSTER)), vec![]);
    }
}
