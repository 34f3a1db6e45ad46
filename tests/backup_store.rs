//! The backup store against real MariaDB servers: the writable server is chosen without
//! ZooKeeper, rows round-trip byte for byte, a subtree filter takes names literally, replicas
//! receive the snapshot, and a changed row is caught by the checksum.

mod common;

use common::Sandbox;
use futures::TryStreamExt;
use mysql_async::prelude::Queryable;
use myzoo::backup::record::ContentDigest;
use myzoo::backup::store::{self, NewSnapshot, Totals};
use myzoo::backup::{SnapshotState, Store, StoreAccess, Want, ZnodeMode, ZnodeRecord};
use myzoo::zk::{AclEntry, NodeStat};

fn record(path: &str, data: &[u8], mode: ZnodeMode) -> ZnodeRecord {
    ZnodeRecord {
        path: path.into(),
        data: data.to_vec(),
        stat: NodeStat { czxid: 5, mzxid: 9, version: 2, data_length: data.len() as i32, ..NodeStat::default() },
        acl: vec![AclEntry { scheme: "digest".into(), id: "ops:abc=".into(), perms: "rw".into() }],
        mode,
    }
}

fn access(sb: &Sandbox) -> StoreAccess {
    StoreAccess::from_config(sb.status.backup_store.as_ref().expect("the sandbox names its backup store")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_rows_round_trip_replicate_and_are_checked() {
    let sb = Sandbox::start_with(Sandbox::options(true)).await;
    let access = access(&sb);
    // Before any backup, a reader is told there is nothing yet.
    let err = Store::open(&access, Want::Read).await.err().expect("no tables yet");
    assert!(format!("{err:#}").contains("no backup was ever taken"), "{err:#}");
    // A typed answer, so the console and `list` show an empty store, not an unreachable one.
    assert!(err.downcast_ref::<myzoo::backup::store::NoBackupsYet>().is_some(), "{err:#}");

    let mut store = Store::open(&access, Want::Write).await.unwrap();
    let primary = &sb.status.mysql[0];
    assert_eq!(store.host(), format!("{}:{}", primary.host, primary.port), "writes go to the writable server");

    let records = vec![
        record("/r", b"", ZnodeMode::Persistent),
        record("/r/a_b", &[0, 159, 255, 10], ZnodeMode::Container),
        record("/r/a_b/x", "ünï".as_bytes(), ZnodeMode::Ttl { ttl_ms: 60_000 }),
        record("/r/axb", b"{}", ZnodeMode::Sequential),
        record("/r/a_b%", b"big", ZnodeMode::Persistent),
    ];
    let id = store
        .begin_snapshot(&NewSnapshot {
            ensemble: "127.0.0.1:1".into(),
            root: "/r".into(),
            include_ephemeral: false,
            started_ms: 1,
            operator: "me".into(),
            host: "here".into(),
            origin: "cli".into(),
            note: "before the change".into(),
        })
        .await
        .unwrap();
    // Two transactions, as a writer streaming batches does.
    store.insert_znodes(id, 0, &records[..2]).await.unwrap();
    store.insert_znodes(id, 2, &records[2..]).await.unwrap();
    let mut digest = ContentDigest::new();
    records.iter().for_each(|r| digest.push(r));
    let totals = Totals { znodes: 5, bytes: 12, min_zxid: Some(5), max_zxid: Some(9), checksum: digest.finish() };
    store.finish_snapshot(id, 2, &totals).await.unwrap();

    let meta = store.verify(id).await.unwrap();
    assert_eq!((meta.state, meta.znodes, meta.note.as_str()), (SnapshotState::Complete, 5, "before the change"));
    let all: Vec<ZnodeRecord> = store::znodes(&mut store, id, None).try_collect().await.unwrap();
    assert_eq!(all, records, "every field back as written, in order");
    // `_` and `%` in the subtree are names, not patterns.
    let sub: Vec<String> =
        store::znodes(&mut store, id, Some("/r/a_b")).map_ok(|r| r.path).try_collect().await.unwrap();
    assert_eq!(sub, vec!["/r/a_b".to_string(), "/r/a_b/x".to_string()]);

    // The replicas have it: a reader that finds only replicas still reads it.
    let replica = &sb.status.mysql[1];
    let replica_only = StoreAccess { hosts: vec![format!("{}:{}", replica.host, replica.port)], ..access.clone() };
    let mut from_replica = None;
    for _ in 0..100 {
        if let Ok(mut s) = Store::open(&replica_only, Want::Read).await {
            if let Ok(m) = s.verify(id).await {
                from_replica = Some(m);
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(from_replica.expect("the snapshot replicated").znodes, 5);
    let err = Store::open(&replica_only, Want::Write).await.err().expect("a replica takes no store writes");
    assert!(format!("{err:#}").contains("read-only"), "{err:#}");

    // One changed byte, made behind myzoo's back, is caught.
    let creds = myzoo::sandbox::credentials(&sb.status.state_dir).unwrap();
    let opts = mysql_async::OptsBuilder::default()
        .ip_or_hostname(primary.host.clone())
        .tcp_port(primary.port)
        .user(Some(creds.admin.user.clone()))
        .pass(Some(creds.admin.password.clone()))
        .prefer_socket(false);
    let mut admin = mysql_async::Conn::new(opts).await.unwrap();
    admin
        .exec_drop("UPDATE myzoo_backup.zk_znode SET data = 'bag' WHERE snapshot_id = ? AND seq = 4", (id,))
        .await
        .unwrap();
    let err = store.verify(id).await.unwrap_err();
    assert!(format!("{err:#}").contains("corrupt"), "{err:#}");

    assert_eq!(store.delete_snapshot(id).await.unwrap(), 5);
    assert!(store.snapshot(id).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_walk_reads_modes_acls_in_parent_order_and_leaves_out_ephemerals() {
    use myzoo::backup::walk::{self, WalkOptions};
    use zookeeper_client::{Acls, CreateMode};
    let sb = Sandbox::zk_only().await;
    let zk = zookeeper_client::Client::connect(&sb.zk()).await.unwrap();
    let open = CreateMode::Persistent.with_acls(Acls::anyone_all());
    zk.create("/w", b"root", &open).await.unwrap();
    zk.create("/w/c", b"", &CreateMode::Container.with_acls(Acls::anyone_all())).await.unwrap();
    zk.create("/w/c/x", &[0, 255], &open).await.unwrap();
    zk.create("/w/h", b"", &open).await.unwrap();
    zk.create("/w/h/op-", b"1", &CreateMode::PersistentSequential.with_acls(Acls::anyone_all())).await.unwrap();
    let ttl = CreateMode::Persistent.with_acls(Acls::anyone_all()).with_ttl(std::time::Duration::from_secs(60));
    zk.create("/w/t", b"ttl", &ttl).await.unwrap();
    zk.create("/w/e", b"gone", &CreateMode::Ephemeral.with_acls(Acls::anyone_all())).await.unwrap();
    zk.auth("digest", b"ops:pw").await.unwrap();
    zk.create("/w/secret", b"s", &CreateMode::Persistent.with_acls(Acls::creator_all())).await.unwrap();

    let collect = |include_ephemeral| {
        let zk = zk.clone();
        async move {
            let mut rx = walk::tree(zk, WalkOptions { root: "/w".into(), include_ephemeral });
            let mut all = Vec::new();
            while let Some(batch) = rx.recv().await {
                all.extend(batch.unwrap());
            }
            all
        }
    };
    let records = collect(false).await;
    let paths: Vec<&str> = records.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/w", "/w/c", "/w/h", "/w/secret", "/w/t", "/w/c/x", "/w/h/op-0000000000"]);
    let by = |p: &str| records.iter().find(|r| r.path == p).unwrap();
    // ZooKeeper shows containers and TTL znodes to clients as persistent (see `ZnodeMode`).
    assert_eq!(by("/w/c").mode, ZnodeMode::Persistent);
    assert_eq!(by("/w/t").mode, ZnodeMode::Persistent);
    assert_eq!(by("/w/h/op-0000000000").mode, ZnodeMode::Sequential);
    assert_eq!(by("/w/c/x").data, vec![0, 255]);
    let acl = &by("/w/secret").acl;
    assert_eq!((acl.len(), acl[0].scheme.as_str(), acl[0].perms.as_str()), (1, "digest", "cdrwa"));
    assert!(acl[0].id.starts_with("ops:"), "{acl:?}");
    assert_eq!(by("/w").acl[0].id, "anyone");

    let with = collect(true).await;
    assert!(with.iter().any(|r| r.path == "/w/e" && r.mode == ZnodeMode::Ephemeral));
    // The whole tree never includes ZooKeeper's own znodes.
    let mut rx = walk::tree(zk.clone(), WalkOptions { root: "/".into(), include_ephemeral: false });
    let mut n = 0;
    while let Some(batch) = rx.recv().await {
        let batch = batch.unwrap();
        assert!(batch.iter().all(|r| !r.path.starts_with("/zookeeper")));
        n += batch.len();
    }
    assert_eq!(n, 8, "/ and the seven persistent znodes");
}
