//! ZooKeeper snapshots in the backup store, against a real ZooKeeper and MariaDB: a snapshot is
//! the live tree byte for byte (data, ACL, stat, modes, container and TTL modes from the audit
//! log), export → import round-trips it, damaged files and rows are refused, prune keeps the
//! newest, and `myzoo zk-backup` does all of it with its exit codes.
//!
//! The tests share one sandbox and its one store; `prune` removes snapshots store-wide, so each
//! test holds [`STORE_LOCK`] while it runs.

mod common;

use std::collections::BTreeMap;
use std::process::Output;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Sandbox;
use futures::TryStreamExt;
use mysql_async::prelude::Queryable;
use myzoo::backup::export::{self, ImportOptions, Refused};
use myzoo::backup::snapshot::{self, SnapshotOptions, ABANDONED_AFTER_MS};
use myzoo::backup::store::{self, NewSnapshot};
use myzoo::backup::{SnapshotMeta, SnapshotState, Store, StoreAccess, Want, ZnodeMode, ZnodeRecord};
use myzoo::ops::{Actor, Mutation, NodeMode, Ops, Origin};
use myzoo::zk::load::acl_entry;
use myzoo::zk::NodeStat;
use tokio_util::sync::CancellationToken;
use zookeeper_client::{Acls, Client, CreateMode};

static STORE_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn sandbox() -> Arc<Sandbox> {
    Sandbox::shared("zk + mariadb", || Sandbox::start_with(Sandbox::options(true))).await
}

fn access(sb: &Sandbox) -> StoreAccess {
    StoreAccess::from_config(sb.status.backup_store.as_ref().expect("the sandbox names its backup store")).unwrap()
}

/// As the CLI asks: the ACL reads spread over sessions of their own, opened with the sandbox's
/// access (which lacks the `ops` credential some tests add to their own session).
fn opts(sb: &Sandbox, root: &str, include_ephemeral: bool) -> SnapshotOptions {
    SnapshotOptions {
        ensemble: "sandbox".into(),
        root: root.into(),
        include_ephemeral,
        note: "test".into(),
        operator: "tester".into(),
        host: "testhost".into(),
        origin: "cli".into(),
        audit_root: Some(root.into()),
        acl_sessions: Some(sb.session(Duration::from_secs(10))),
    }
}

async fn take(client: &Client, store: &mut Store, o: &SnapshotOptions) -> SnapshotMeta {
    snapshot::create(client, store, o, &|_| {}, &CancellationToken::new()).await.unwrap()
}

async fn rows(store: &mut Store, id: u64) -> Vec<ZnodeRecord> {
    store::znodes(store, id, None).try_collect().await.unwrap()
}

/// Every znode at or below `root` as the client reads it now (mode as the stat shows it).
async fn live(client: &Client, root: &str) -> BTreeMap<String, ZnodeRecord> {
    let mut out = BTreeMap::new();
    let mut todo = vec![root.to_string()];
    while let Some(path) = todo.pop() {
        let (data, stat) = client.get_data(&path).await.unwrap();
        let (acl, _) = client.get_acl(&path).await.unwrap();
        for c in client.list_children(&path).await.unwrap() {
            todo.push(myzoo::zk::child_path(&path, &c));
        }
        let stat = NodeStat::from(&stat);
        let mode = ZnodeMode::of(&path, &stat);
        out.insert(path.clone(), ZnodeRecord { path, data, stat, acl: acl.iter().map(acl_entry).collect(), mode });
    }
    out
}

/// The admin account on the store's writable server (changes rows behind myzoo's back).
async fn admin(sb: &Sandbox) -> mysql_async::Conn {
    let creds = myzoo::sandbox::credentials(&sb.status.state_dir).unwrap();
    let primary = &sb.status.mysql[0];
    let opts = mysql_async::OptsBuilder::default()
        .ip_or_hostname(primary.host.clone())
        .tcp_port(primary.port)
        .user(Some(creds.admin.user.clone()))
        .pass(Some(creds.admin.password.clone()))
        .prefer_socket(false);
    mysql_async::Conn::new(opts).await.unwrap()
}

async fn import(store: &mut Store, file: &[u8]) -> anyhow::Result<SnapshotMeta> {
    let opts = ImportOptions { note: "imported".into(), operator: "tester".into(), host: "testhost".into() };
    let mut reader = file;
    export::import(store, &mut reader, &opts).await
}

async fn export_bytes(store: &mut Store, id: u64) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    export::export(store, id, &mut out).await?;
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_snapshot_is_the_live_tree_and_round_trips_through_an_export_file() {
    let sb = sandbox().await;
    let _lock = STORE_LOCK.lock().await;
    let zk = Client::connect(&sb.zk()).await.unwrap();
    let open = CreateMode::Persistent.with_acls(Acls::anyone_all());
    let root = "/snap";
    zk.create(root, b"root", &open).await.unwrap();
    zk.create("/snap/tree", &[0, 159, 146, 150, 255, b'\n'], &open).await.unwrap();
    zk.create("/snap/tree/empty", b"", &open).await.unwrap();
    zk.create("/snap/tree/ünï €", "données ✓".as_bytes(), &open).await.unwrap();
    zk.create("/snap/tree/tamper", b"hello-tamper", &open).await.unwrap();
    zk.create("/snap/history", b"", &open).await.unwrap();
    let seq = CreateMode::PersistentSequential.with_acls(Acls::anyone_all());
    for i in 0..3 {
        zk.create("/snap/history/op-", format!("{{\"n\":{i}}}").as_bytes(), &seq).await.unwrap();
    }
    zk.auth("digest", b"ops:pw").await.unwrap();
    zk.create("/snap/secret", b"s3cret", &CreateMode::Persistent.with_acls(Acls::creator_all())).await.unwrap();
    // Readable by anyone, administered by `ops`: a session without the credential is shown the
    // hash as `ops:x` (the snapshot's ACL sessions are such sessions).
    let shown = [
        zookeeper_client::Acl::new(zookeeper_client::Permission::READ, zookeeper_client::AuthId::anyone()),
        zookeeper_client::Acl::new(zookeeper_client::Permission::ALL, zookeeper_client::AuthId::new("auth", "")),
    ];
    zk.create("/snap/shown", b"s", &CreateMode::Persistent.with_acls(Acls::new(&shown))).await.unwrap();
    // Container and TTL znodes through myzoo, so the audit log knows their modes.
    let ops = Ops::new(zk.clone(), root, Origin::Cli).with_actor(Actor {
        user: "tester".into(),
        host: "testhost".into(),
        ssh_client: None,
    });
    let create = |path: &str, mode| Mutation::Create { path: path.into(), data: b"m".to_vec(), mode };
    ops.apply(create("/snap/box", NodeMode::Container), None).await.unwrap();
    ops.apply(create("/snap/ttl", NodeMode::PersistentWithTtl { ttl_ms: 3_600_000 }), None).await.unwrap();
    // A child keeps the container from being collected while the test runs.
    zk.create("/snap/box/item", b"x", &open).await.unwrap();
    // A path myzoo made a container a minute ago, since recreated plain behind its back: no hint.
    let faked = myzoo::audit::AuditRecord {
        schema: 1,
        time_ms: myzoo::audit::now_ms() - 60_000,
        user: "tester".into(),
        host: "testhost".into(),
        ssh_client: None,
        action: "create".into(),
        path: "/snap/plain2".into(),
        version_before: None,
        version_after: Some(0),
        digest_before: None,
        digest_after: None,
        result: "ok".into(),
        origin: "cli".into(),
        detail: Some("mode container".into()),
    };
    myzoo::audit::append(&zk, root, &faked).await.unwrap();
    zk.create("/snap/plain2", b"", &open).await.unwrap();
    let eph = zk.create("/snap/tree/eph", b"alive", &CreateMode::Ephemeral.with_acls(Acls::anyone_all())).await;
    eph.unwrap();

    let mut store = Store::open(&access(&sb), Want::Write).await.unwrap();
    let progress = std::sync::Mutex::new(Vec::new());
    let meta = snapshot::create(
        &zk,
        &mut store,
        &opts(&sb, root, false),
        &|p| progress.lock().unwrap().push((p.phase.clone(), p.done)),
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    let got = rows(&mut store, meta.id).await;
    let now = live(&zk, root).await;

    // Byte for byte the live tree, less the ephemeral, with the modes ZooKeeper hides restored.
    assert_eq!(meta.state, SnapshotState::Complete);
    assert_eq!(meta.znodes as usize, got.len());
    assert_eq!(got.len(), now.len() - 1, "every znode but the ephemeral");
    assert!(got.iter().all(|r| r.path != "/snap/tree/eph"));
    for r in &got {
        let l = &now[&r.path];
        assert_eq!((&r.data, &r.stat, &r.acl), (&l.data, &l.stat, &l.acl), "{}", r.path);
        let want = match r.path.as_str() {
            "/snap/box" => ZnodeMode::Container,
            "/snap/ttl" => ZnodeMode::Ttl { ttl_ms: 3_600_000 },
            _ => l.mode,
        };
        assert_eq!(r.mode, want, "{}", r.path);
    }
    let by = |p: &str| got.iter().find(|r| r.path == p).unwrap_or_else(|| panic!("{p} kept"));
    assert_eq!(by("/snap/tree").data, vec![0, 159, 146, 150, 255, b'\n']);
    assert!(by("/snap/tree/empty").data.is_empty());
    assert_eq!(by("/snap/plain2").mode, ZnodeMode::Persistent, "its audited create is a minute older");
    let sequential = got.iter().filter(|r| r.path.starts_with("/snap/history/op-"));
    assert!(sequential.clone().count() == 3 && sequential.clone().all(|r| r.mode == ZnodeMode::Sequential));
    assert!(got.iter().any(|r| r.path.starts_with("/snap/audit/entry-")), "the audit log is part of the tree");
    let secret = &by("/snap/secret").acl;
    assert_eq!((secret.len(), secret[0].scheme.as_str()), (1, "digest"));
    let shown = &by("/snap/shown").acl;
    assert!(shown.iter().any(|e| e.scheme == "digest" && e.id.starts_with("ops:") && e.id != "ops:x"), "{shown:?}");
    // Parents before children.
    for (i, r) in got.iter().enumerate().skip(1) {
        let parent = myzoo::zk::parent_path(&r.path);
        assert!(got[..i].iter().any(|p| p.path == parent), "{} before its parent", r.path);
    }
    // Totals and the zxid range.
    assert_eq!(meta.bytes, got.iter().map(|r| r.data.len() as u64).sum::<u64>());
    let zxids: Vec<i64> = got.iter().flat_map(|r| [r.stat.czxid, r.stat.mzxid, r.stat.pzxid]).collect();
    assert_eq!((meta.min_zxid, meta.max_zxid), (zxids.iter().min().copied(), zxids.iter().max().copied()));
    assert_eq!(store.verify(meta.id).await.unwrap().checksum, meta.checksum);
    let progress = progress.into_inner().unwrap();
    assert!(progress.iter().any(|(p, _)| p == "writing"), "{progress:?}");
    assert_eq!(progress.last().map(|(_, n)| *n), Some(meta.znodes));

    // With --include-ephemeral the ephemeral is kept, as one.
    let with = take(&zk, &mut store, &opts(&sb, root, true)).await;
    let eph = rows(&mut store, with.id).await.into_iter().find(|r| r.path == "/snap/tree/eph").expect("kept");
    assert_eq!((eph.mode, eph.data.as_slice()), (ZnodeMode::Ephemeral, &b"alive"[..]));
    assert!(with.include_ephemeral);

    // A subtree that does not exist is a failed snapshot, recorded with why.
    let err = snapshot::create(&zk, &mut store, &opts(&sb, "/nope", false), &|_| {}, &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("/nope: no such znode"), "{err:#}");
    let failed = store.snapshots().await.unwrap().into_iter().find(|s| s.root == "/nope").unwrap();
    assert_eq!((failed.state, failed.error.as_deref()), (SnapshotState::Failed, Some("/nope: no such znode")));
    // A cancelled one is failed with the reason "cancelled".
    let cancel = CancellationToken::new();
    cancel.cancel();
    let err = snapshot::create(&zk, &mut store, &opts(&sb, root, false), &|_| {}, &cancel).await.unwrap_err();
    assert!(err.is::<snapshot::Cancelled>(), "{err:#}");
    let cancelled = store.snapshots().await.unwrap().remove(0);
    assert_eq!((cancelled.state, cancelled.error.as_deref()), (SnapshotState::Failed, Some("cancelled")));

    // Export → import: the same records and checksum under a new id.
    let file = export_bytes(&mut store, meta.id).await.unwrap();
    let text = String::from_utf8(file.clone()).expect("an export is UTF-8");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("{\"format\":\"myzoo-zk-snapshot\",\"version\":1,\"snapshot\":{"), "{}", lines[0]);
    assert_eq!(lines.len(), got.len() + 2, "a header, a line per znode, the closing line");
    assert_eq!(*lines.last().unwrap(), "]}");
    assert!(text.contains("\"data_base64\":\"AJ+Slv8K\""), "binary data in base64");
    assert!(text.contains("\"data_text\":\"données ✓\""), "UTF-8 data as text");
    let (parsed_meta, parsed) = export::read_file(&mut &file[..]).await.unwrap();
    assert_eq!((parsed_meta.id, parsed), (meta.id, got.clone()));
    let count_before = store.snapshots().await.unwrap().len();
    let copy = import(&mut store, &file).await.unwrap();
    assert_ne!(copy.id, meta.id);
    assert_eq!((copy.origin.as_str(), copy.note.as_str()), ("import", "imported"));
    assert_eq!(
        (copy.checksum.as_deref(), copy.znodes, copy.bytes),
        (meta.checksum.as_deref(), meta.znodes, meta.bytes)
    );
    assert_eq!((copy.min_zxid, copy.max_zxid, copy.root.as_str()), (meta.min_zxid, meta.max_zxid, root));
    assert_eq!(rows(&mut store, copy.id).await, got, "identical records");
    store.verify(copy.id).await.unwrap();
    // The copy exports to the same znode lines.
    let again = export_bytes(&mut store, copy.id).await.unwrap();
    let again = String::from_utf8(again).unwrap();
    assert_eq!(again.lines().skip(1).collect::<Vec<_>>(), lines[1..].to_vec());
    // A file reformatted by another tool (pretty-printed) is still read, as a whole document.
    let value: serde_json::Value = serde_json::from_slice(&file).unwrap();
    let pretty = serde_json::to_vec_pretty(&value).unwrap();
    let reread = import(&mut store, &pretty).await.unwrap();
    assert_eq!(reread.checksum, meta.checksum);
    assert_eq!(store.snapshots().await.unwrap().len(), count_before + 2);

    // One changed byte of data: refused by the checksum, nothing left in the store.
    let tampered = text.replace("hello-tamper", "hellp-tamper");
    assert_ne!(tampered, text);
    let err = import(&mut store, tampered.as_bytes()).await.unwrap_err();
    assert!(err.is::<Refused>() && format!("{err:#}").contains("checksum"), "{err:#}");
    // Truncated after a whole line, and in the middle of one: refused, naming the line.
    let cut: String = lines[..4].iter().map(|l| format!("{l}\n")).collect();
    let err = import(&mut store, cut.as_bytes()).await.unwrap_err();
    assert!(err.is::<Refused>(), "{err:#}");
    assert!(format!("{err:#}").contains("line 5: the file ends before its closing ]}"), "{err:#}");
    let fourth_line_at: usize = lines[..3].iter().map(|l| l.len() + 1).sum();
    let half = &text[..fourth_line_at + 10];
    let err = import(&mut store, half.as_bytes()).await.unwrap_err();
    assert!(format!("{err:#}").starts_with("line 4: not a znode"), "{err:#}");
    let err = import(&mut store, b"{\"format\":\"something else\"}").await.unwrap_err();
    assert!(err.is::<Refused>(), "{err:#}");
    assert_eq!(store.snapshots().await.unwrap().len(), count_before + 2, "refused imports leave nothing");

    // A row changed in MySQL behind myzoo's back: verify and export refuse the snapshot.
    admin(&sb)
        .await
        .exec_drop(
            "UPDATE myzoo_backup.zk_znode SET data = 'bag' WHERE snapshot_id = ? AND path = '/snap/tree/tamper'",
            (copy.id,),
        )
        .await
        .unwrap();
    let err = store.verify(copy.id).await.unwrap_err();
    assert!(format!("{err:#}").contains("corrupt"), "{err:#}");
    let mut partial = Vec::new();
    let err = export::export(&mut store, copy.id, &mut partial).await.unwrap_err();
    assert!(err.is::<Refused>() && format!("{err:#}").contains("corrupt"), "{err:#}");
    assert!(!String::from_utf8_lossy(&partial).trim_end().ends_with("]}"), "no complete file comes out");
    assert!(import(&mut store, &partial).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn prune_keeps_the_newest_complete_snapshots_and_clears_abandoned_ones() {
    let sb = sandbox().await;
    let _lock = STORE_LOCK.lock().await;
    let zk = Client::connect(&sb.zk()).await.unwrap();
    let open = CreateMode::Persistent.with_acls(Acls::anyone_all());
    zk.create("/prune", b"", &open).await.unwrap();
    zk.create("/prune/a", b"1", &open).await.unwrap();
    let mut store = Store::open(&access(&sb), Want::Write).await.unwrap();
    let mut complete = Vec::new();
    for _ in 0..4 {
        complete.push(take(&zk, &mut store, &opts(&sb, "/prune", false)).await.id);
    }
    let row = |started_ms| NewSnapshot {
        ensemble: "sandbox".into(),
        root: "/prune".into(),
        include_ephemeral: false,
        started_ms,
        operator: "dead writer".into(),
        host: "gone".into(),
        origin: "cli".into(),
        note: String::new(),
    };
    let now = myzoo::audit::now_ms();
    let abandoned = store.begin_snapshot(&row(now - ABANDONED_AFTER_MS - 60_000)).await.unwrap();
    let copied = rows(&mut store, complete[0]).await;
    store.insert_znodes(abandoned, 0, &copied).await.unwrap();
    let running = store.begin_snapshot(&row(now)).await.unwrap();
    let failed = store.begin_snapshot(&row(now)).await.unwrap();
    store.fail_snapshot(failed, now, "test").await.unwrap();

    let before = store.snapshots().await.unwrap();
    let dry = snapshot::prune(&mut store, 2, true).await.unwrap();
    assert_eq!(store.snapshots().await.unwrap(), before, "a dry run removes nothing");
    assert_eq!(dry.kept, vec![complete[3], complete[2]]);
    let removed: Vec<u64> = dry.removed.iter().map(|p| p.id).collect();
    for id in [abandoned, failed, complete[1], complete[0]] {
        assert!(removed.contains(&id), "{id} in {removed:?}");
    }
    assert!(!removed.contains(&running), "a young running snapshot may still be written");

    let report = snapshot::prune(&mut store, 2, false).await.unwrap();
    assert_eq!(report.kept, dry.kept);
    let left: Vec<(u64, SnapshotState)> = store.snapshots().await.unwrap().iter().map(|s| (s.id, s.state)).collect();
    assert_eq!(
        left,
        vec![
            (running, SnapshotState::Running),
            (complete[3], SnapshotState::Complete),
            (complete[2], SnapshotState::Complete)
        ]
    );
    let ab = report.removed.iter().find(|p| p.id == abandoned).unwrap();
    assert_eq!(ab.znode_rows, Some(2));
    assert!(ab.reason.starts_with("abandoned"), "{ab:?}");
    assert!(store.znode_page(abandoned, None, None, 10).await.unwrap().is_empty(), "its rows are gone");
    store.delete_snapshot(running).await.unwrap();
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exit code")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_cli_creates_lists_shows_exports_imports_and_prunes() {
    let sb = sandbox().await;
    let _lock = STORE_LOCK.lock().await;
    let zk = Client::connect(&sb.zk()).await.unwrap();
    let open = CreateMode::Persistent.with_acls(Acls::anyone_all());
    zk.create("/cli", b"", &open).await.unwrap();
    zk.create("/cli/config", b"{\"a\":1}", &open).await.unwrap();
    zk.create("/cli/bin", &[0, 1, 2, 255], &open).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let store = sb.status.backup_store.as_ref().unwrap();
    let section = |hosts: &[String]| {
        format!(
            "hosts = {hosts:?}\ndatabase = {:?}\nuser = {:?}\npassword_file = {:?}\n",
            store.database,
            store.user,
            store.password_file.as_ref().expect("the sandbox's password file")
        )
    };
    let config = format!(
        "default_profile = \"t\"\n[profiles.t]\nzk = {zk:?}\nroot = \"/cli\"\n[profiles.t.backup_store]\n{}\
         [profiles.nostore]\nzk = {zk:?}\nroot = \"/cli\"\n[profiles.nostore.backup_store]\n{}\
         [profiles.nozk]\nzk = \"127.0.0.1:1\"\nroot = \"/cli\"\n[profiles.nozk.backup_store]\n{}",
        section(&store.hosts),
        section(&["127.0.0.1:1".to_string()]),
        section(&store.hosts),
        zk = sb.zk(),
    );
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, config).unwrap();
    let run = |args: &[&str]| {
        common::isolated_myzoo(&home)
            .env("MYZOO_CONFIG", &cfg)
            .env_remove("MYZOO_BACKUP_PASSWORD")
            .env("USER", "cli-tester")
            .args(args)
            .output()
            .unwrap()
    };

    // create: the profile's root by default.
    let out = run(&["zk-backup", "create", "--note", "before the change", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let created = json(&out);
    let id = created["id"].as_u64().unwrap();
    assert_eq!(
        (created["root"].as_str(), created["znodes"].as_u64(), created["state"].as_str()),
        (Some("/cli"), Some(3), Some("complete"))
    );
    assert_eq!((created["operator"].as_str(), created["origin"].as_str()), (Some("cli-tester"), Some("cli")));
    assert!(created["duration_ms"].as_u64().is_some());
    let checksum = created["checksum"].as_str().unwrap().to_string();
    let out = run(&["zk-backup", "create", "--path", "/cli/config"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 znodes"), "{}", String::from_utf8_lossy(&out.stdout));
    // Read-only mode allows create: it changes nothing in the cluster.
    let out = run(&["--read-only", "zk-backup", "create", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));

    // list and show.
    let out = run(&["zk-backup", "list", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let list = json(&out);
    let mine = list.as_array().unwrap().iter().find(|s| s["id"].as_u64() == Some(id)).expect("listed");
    assert_eq!(mine["note"], "before the change");
    let out = run(&["zk-backup", "list"]);
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(table.starts_with("ID") && table.contains("before the change") && table.contains("complete"), "{table}");
    let out = run(&["zk-backup", "show", &id.to_string()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        shown.contains("point-in-time") && shown.contains(&checksum) && shown.contains("min zxid     0x"),
        "{shown}"
    );
    let out = run(&["zk-backup", "show", &id.to_string(), "--json"]);
    assert!(json(&out)["max_zxid_hex"].as_str().unwrap().starts_with("0x"));
    assert_eq!(code(&run(&["zk-backup", "show", "999999999"])), 1);

    // export to a file and to stdout, import back.
    let file = dir.path().join("snap.json");
    let out = run(&["zk-backup", "export", &id.to_string(), "--out", file.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = run(&["zk-backup", "export", &id.to_string(), "--out", "-"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(out.stdout, std::fs::read(&file).unwrap(), "the same file either way");
    let out = run(&["--read-only", "zk-backup", "import", "--in", file.to_str().unwrap()]);
    assert_eq!(code(&out), 2, "read-only refuses import: {}", stderr(&out));
    assert!(stderr(&out).contains("read-only"));
    let out = run(&["zk-backup", "import", "--in", file.to_str().unwrap(), "--note", "copy", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let imported = json(&out);
    assert_eq!((imported["checksum"].as_str(), imported["origin"].as_str()), (Some(checksum.as_str()), Some("import")));
    let text = std::fs::read_to_string(&file).unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, text.replace("{\\\"a\\\":1}", "{\\\"a\\\":2}")).unwrap();
    let out = run(&["zk-backup", "import", "--in", bad.to_str().unwrap()]);
    assert_eq!(code(&out), 2, "a changed file is refused: {}", stderr(&out));
    assert!(stderr(&out).contains("checksum"), "{}", stderr(&out));

    // prune: dry run (allowed read-only), then for real.
    let out = run(&["--read-only", "zk-backup", "prune", "--keep", "1", "--dry-run", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let dry = json(&out);
    assert_eq!(dry["kept"].as_array().unwrap().len(), 1);
    assert_eq!(code(&run(&["--read-only", "zk-backup", "prune", "--keep", "1"])), 2);
    let out = run(&["zk-backup", "prune", "--keep", "1", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let newest = imported["id"].as_u64().unwrap();
    assert_eq!(json(&out)["kept"], serde_json::json!([newest]));
    let left = json(&run(&["zk-backup", "list", "--json"]));
    let complete: Vec<u64> = left
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["state"] == "complete")
        .map(|s| s["id"].as_u64().unwrap())
        .collect();
    assert_eq!(complete, vec![newest]);

    // The store or ZooKeeper unreachable: exit 3, quickly.
    let t = Instant::now();
    let out = run(&["--profile", "nostore", "zk-backup", "list"]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(stderr(&out).contains("backup store"), "{}", stderr(&out));
    let out = run(&["--profile", "nostore", "zk-backup", "create"]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let out = run(&["--profile", "nozk", "zk-backup", "create"]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(stderr(&out).contains("ZooKeeper"), "{}", stderr(&out));
    assert!(t.elapsed() < Duration::from_secs(30), "three unreachable answers took {:?}", t.elapsed());
}
