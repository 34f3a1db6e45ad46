//! Restores and diffs against real servers (one shared sandbox: ZooKeeper and three MariaDB
//! servers holding the backup store; each test keeps to paths of its own): a 10,000-znode round
//! trip to another path, each policy with exact counts, requests over the 1 MB limit, an
//! interrupted restore run again, a corrupted snapshot refused, a concurrent edit reported as a
//! conflict, the cluster guards (primary kept, production confirmation, read-only, audit),
//! disaster recovery into an empty ensemble through the CLI, and the diff.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::{isolated_myzoo, Sandbox};
use mysql_async::prelude::Queryable;
use myzoo::backup::diff::{self, Against, DataChange};
use myzoo::backup::record::ContentDigest;
use myzoo::backup::restore::{self, Action, Policy, Refused, RestoreOptions, RestoreReport};
use myzoo::backup::store::{NewSnapshot, Totals};
use myzoo::backup::walk::{self, WalkOptions};
use myzoo::backup::{Progress, Store, StoreAccess, Want, ZnodeMode};
use myzoo::ops::Actor;
use tokio_util::sync::CancellationToken;
use zookeeper_client::{Acl, Acls, Client, CreateMode};

async fn sandbox() -> Arc<Sandbox> {
    Sandbox::shared("zk+mariadb", || Sandbox::start_with(Sandbox::options(true))).await
}

fn access(sb: &Sandbox) -> StoreAccess {
    StoreAccess::from_config(sb.status.backup_store.as_ref().expect("the sandbox names its backup store")).unwrap()
}

async fn store(sb: &Sandbox) -> Store {
    Store::open(&access(sb), Want::Write).await.unwrap()
}

/// A session authenticated as `ops:pw`, so digest-protected znodes are readable and writable.
async fn zk(sb: &Sandbox) -> Client {
    let c = Client::connect(&sb.zk()).await.unwrap();
    c.auth("digest", b"ops:pw").await.unwrap();
    c
}

fn open() -> zookeeper_client::CreateOptions<'static> {
    CreateMode::Persistent.with_acls(Acls::anyone_all())
}

/// Creates many persistent znodes fast (multi-ops of 500, parents first).
async fn create_many(zk: &Client, nodes: &[(String, Vec<u8>)]) {
    for chunk in nodes.chunks(500) {
        let mut m = zk.new_multi_writer();
        for (p, d) in chunk {
            m.add_create(p, d, &open()).unwrap();
        }
        m.commit().await.unwrap();
    }
}

/// A snapshot as `backup::snapshot::create` takes it (walk → store rows → checksum), with
/// modes a client cannot see given as hints (as the audit log or an export supplies them).
async fn take_snapshot(
    zk: &Client,
    store: &mut Store,
    root: &str,
    include_ephemeral: bool,
    hints: &[(&str, ZnodeMode)],
) -> u64 {
    let id = store
        .begin_snapshot(&NewSnapshot {
            ensemble: "test".into(),
            root: root.into(),
            include_ephemeral,
            started_ms: 1,
            operator: "test".into(),
            host: "here".into(),
            origin: "cli".into(),
            note: String::new(),
        })
        .await
        .unwrap();
    let mut rx = walk::tree(zk.clone(), WalkOptions { root: root.into(), include_ephemeral });
    let (mut digest, mut seq, mut bytes) = (ContentDigest::new(), 0u32, 0u64);
    while let Some(batch) = rx.recv().await {
        let mut batch = batch.unwrap();
        for r in &mut batch {
            if let Some((_, m)) = hints.iter().find(|(p, _)| *p == r.path) {
                r.mode = *m;
            }
            digest.push(r);
            bytes += r.data.len() as u64;
        }
        store.insert_znodes(id, seq, &batch).await.unwrap();
        seq += batch.len() as u32;
    }
    let totals = Totals { znodes: seq as u64, bytes, min_zxid: None, max_zxid: None, checksum: digest.finish() };
    store.finish_snapshot(id, 2, &totals).await.unwrap();
    id
}

/// The live subtree: relative path → (data, sorted ACL, mode).
async fn tree(zk: &Client, root: &str) -> BTreeMap<String, (Vec<u8>, Vec<String>, ZnodeMode)> {
    let mut rx = walk::tree(zk.clone(), WalkOptions { root: root.into(), include_ephemeral: false });
    let mut out = BTreeMap::new();
    while let Some(batch) = rx.recv().await {
        for r in batch.unwrap() {
            let rel = restore::plan::relative(&r.path, root).unwrap().to_string();
            let mut acl: Vec<String> = r.acl.iter().map(|a| format!("{}:{}:{}", a.scheme, a.id, a.perms)).collect();
            acl.sort();
            out.insert(rel, (r.data, acl, r.mode));
        }
    }
    out
}

fn opts(policy: Policy, to: Option<&str>, root: &str) -> RestoreOptions {
    RestoreOptions {
        policy,
        under: None,
        to: to.map(str::to_string),
        dry_run: false,
        sample_paths: 5,
        root: root.into(),
        confirm: None,
        actor: Actor { user: "tester".into(), host: "here".into(), ssh_client: None },
        origin: "cli".into(),
        read_only: false,
        unchanged_since: None,
    }
}

fn quiet(_: &Progress) {}

async fn run(zk: &Client, store: &mut Store, id: u64, o: &RestoreOptions) -> RestoreReport {
    restore::restore_snapshot(zk, store, id, o, &quiet, &CancellationToken::new()).await.unwrap()
}

fn counts(r: &RestoreReport) -> Vec<(&'static str, u64)> {
    Action::ALL.iter().filter(|a| r.actions.count(**a) > 0).map(|a| (a.label(), r.actions.count(*a))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_10k_tree_round_trips_to_another_path_byte_for_byte() {
    let sb = sandbox().await;
    let zk = zk(&sb).await;
    let mut store = store(&sb).await;
    let mut nodes = vec![("/rt".to_string(), b"root".to_vec())];
    for f in 0..100 {
        let folder = format!("/rt/f{f:03}");
        nodes.push((folder.clone(), Vec::new()));
        for i in 0..99 {
            let (name, data) = match i % 4 {
                0 => (format!("n{i:03}"), Vec::new()),
                1 => (format!("bin-{i}"), (0..=255u8).map(|b| b.wrapping_mul(i as u8 + f as u8)).collect()),
                2 => (format!("ünï-名前-{i}"), format!("ünïcødé {f}/{i}\n").into_bytes()),
                _ => (format!("j{i}"), format!("{{\"f\":{f},\"i\":{i}}}").into_bytes()),
            };
            nodes.push((format!("{folder}/{name}"), data));
        }
    }
    create_many(&zk, &nodes).await;
    // Sequential children: 30 made, the first 25 deleted, so the counter (30) is far past what
    // a restore of the 5 left would give their new parent.
    zk.create("/rt/seq", b"", &open()).await.unwrap();
    let seq = CreateMode::PersistentSequential.with_acls(Acls::anyone_all());
    let mut made = Vec::new();
    for _ in 0..30 {
        let (_, s) = zk.create("/rt/seq/item-", b"s", &seq).await.unwrap();
        made.push(format!("/rt/seq/item-{s}"));
    }
    for p in &made[..25] {
        zk.delete(p, None).await.unwrap();
    }
    // A digest ACL on a znode with children, a container and a TTL znode.
    zk.create("/rt/acl", b"secret", &CreateMode::Persistent.with_acls(Acls::creator_all())).await.unwrap();
    zk.create("/rt/acl/a", b"1", &CreateMode::Persistent.with_acls(Acls::creator_all())).await.unwrap();
    zk.create("/rt/acl/b", b"2", &open()).await.unwrap();
    zk.create("/rt/box", b"", &CreateMode::Container.with_acls(Acls::anyone_all())).await.unwrap();
    zk.create("/rt/box/x", b"in", &open()).await.unwrap();
    let ttl = CreateMode::Persistent.with_acls(Acls::anyone_all()).with_ttl(std::time::Duration::from_secs(600));
    zk.create("/rt/ttl", b"t", &ttl).await.unwrap();
    let hints = [("/rt/box", ZnodeMode::Container), ("/rt/ttl", ZnodeMode::Ttl { ttl_ms: 600_000 })];
    let id = take_snapshot(&zk, &mut store, "/rt", false, &hints).await;

    let report = run(&zk, &mut store, id, &opts(Policy::SkipExisting, Some("/copies/rt"), "/audit-rt")).await;
    let total = 1 + 100 * 100 + 6 + 3 + 2 + 1;
    assert_eq!(counts(&report), vec![("create", total)], "{:?}", report.problems);
    assert_eq!(report.parents_created, vec!["/copies".to_string()]);
    assert!(report.clean());
    let original = tree(&zk, "/rt").await;
    let copy = tree(&zk, "/copies/rt").await;
    assert_eq!(original.len() as u64, total);
    assert_eq!(original, copy, "data, ACLs and observable modes byte for byte");
    assert!(copy["acl"].1[0].starts_with("digest:ops:"), "{:?}", copy["acl"]);
    // The sequence counter moved past the highest name restored: a new sequential create under
    // the copy does not collide.
    let fix = report.sequence_counters.iter().find(|f| f.parent == "/copies/rt/seq").expect("counter fixed");
    assert_eq!((fix.highest_restored, fix.advanced_by), (29, 25));
    let (_, s) = zk.create("/copies/rt/seq/item-", b"new", &seq).await.unwrap();
    assert!(s.into_i64() >= 30, "next sequence {s}");
    // The audit record of the restore.
    let audit = myzoo::audit::list(&zk, "/audit-rt", 10, None).await.unwrap();
    assert_eq!(audit.len(), 1);
    let (_, rec) = &audit[0];
    assert_eq!((rec.action.as_str(), rec.path.as_str(), rec.result.as_str()), ("restore", "/copies/rt", "ok"));
    assert!(rec.detail.as_deref().unwrap().contains(&format!("snapshot {id}, policy skip-existing")), "{rec:?}");

    // Run again: everything is found existing and unchanged.
    let again = run(&zk, &mut store, id, &opts(Policy::Overwrite, Some("/copies/rt"), "/audit-rt")).await;
    assert_eq!(counts(&again), vec![("unchanged", total)], "{:?}", again.problems);
}

/// `/pol-N`: r="R" { a="A", b="B" { c="C" }, d="D" { e="E" }, eph (ephemeral) }.
async fn prepared(zk: &Client, store: &mut Store, base: &str) -> u64 {
    create_many(
        zk,
        &[
            (base.to_string(), b"R".to_vec()),
            (format!("{base}/a"), b"A".to_vec()),
            (format!("{base}/b"), b"B".to_vec()),
            (format!("{base}/b/c"), b"C".to_vec()),
            (format!("{base}/d"), b"D".to_vec()),
            (format!("{base}/d/e"), b"E".to_vec()),
        ],
    )
    .await;
    zk.create(&format!("{base}/eph"), b"x", &CreateMode::Ephemeral.with_acls(Acls::anyone_all())).await.unwrap();
    let id = take_snapshot(zk, store, base, true, &[]).await;
    // Changed, deleted and extra znodes.
    zk.set_data(&format!("{base}/a"), b"A2", None).await.unwrap();
    zk.delete(&format!("{base}/b/c"), None).await.unwrap();
    zk.delete(&format!("{base}/b"), None).await.unwrap();
    zk.delete(&format!("{base}/d/e"), None).await.unwrap();
    let acl = [
        Acl::new(zookeeper_client::Permission::ALL, zookeeper_client::AuthId::anyone()),
        Acl::new(zookeeper_client::Permission::READ, zookeeper_client::AuthId::new("ip", "127.0.0.1")),
    ];
    zk.set_acl(&format!("{base}/d"), &acl, None).await.unwrap();
    zk.create(&format!("{base}/x"), b"extra", &open()).await.unwrap();
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_policy_on_a_changed_tree() {
    let sb = sandbox().await;
    let zk = zk(&sb).await;
    let mut store = store(&sb).await;
    let data = |t: &BTreeMap<String, (Vec<u8>, Vec<String>, ZnodeMode)>, p: &str| t.get(p).map(|n| n.0.clone());

    let id = prepared(&zk, &mut store, "/pol-over").await;
    let o = opts(Policy::Overwrite, None, "/audit-pol");
    let plan = run(&zk, &mut store, id, &RestoreOptions { dry_run: true, ..o.clone() }).await;
    assert_eq!(counts(&plan), vec![("create", 3), ("overwrite", 2), ("unchanged", 1), ("skipped-ephemeral", 1)]);
    assert_eq!(plan.actions.get(Action::Create).sample, vec!["/pol-over/b", "/pol-over/b/c", "/pol-over/d/e"]);
    assert_eq!(tree(&zk, "/pol-over").await.len(), 4, "the dry run wrote nothing");
    let done = run(&zk, &mut store, id, &o).await;
    assert_eq!(counts(&done), counts(&plan));
    let t = tree(&zk, "/pol-over").await;
    assert_eq!(data(&t, "a"), Some(b"A".to_vec()));
    assert_eq!(data(&t, "b/c"), Some(b"C".to_vec()));
    assert_eq!(t["d"].1, vec!["world:anyone:cdrwa".to_string()], "the ACL is back");
    assert_eq!(data(&t, "x"), Some(b"extra".to_vec()), "extra znodes are never deleted");
    assert!(!t.contains_key("eph"));

    let id = prepared(&zk, &mut store, "/pol-skip").await;
    let done = run(&zk, &mut store, id, &opts(Policy::SkipExisting, None, "/audit-pol")).await;
    assert_eq!(counts(&done), vec![("create", 3), ("skipped-existing", 3), ("skipped-ephemeral", 1)]);
    let t = tree(&zk, "/pol-skip").await;
    assert_eq!(data(&t, "a"), Some(b"A2".to_vec()));
    assert_eq!(data(&t, "d/e"), Some(b"E".to_vec()));
    assert_eq!(t["d"].1.len(), 2, "the changed ACL stays");

    let id = prepared(&zk, &mut store, "/pol-missing").await;
    let done = run(&zk, &mut store, id, &opts(Policy::MissingOnly, None, "/audit-pol")).await;
    assert_eq!(
        counts(&done),
        vec![("create", 2), ("skipped-existing", 3), ("skipped-below-existing", 1), ("skipped-ephemeral", 1)]
    );
    let t = tree(&zk, "/pol-missing").await;
    assert_eq!(data(&t, "b/c"), Some(b"C".to_vec()), "the missing subtree is back");
    assert!(!t.contains_key("d/e"), "below an existing znode nothing is recreated");
    assert_eq!(data(&t, "a"), Some(b"A2".to_vec()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn large_znodes_are_split_across_requests() {
    let sb = sandbox().await;
    let zk = zk(&sb).await;
    let mut store = store(&sb).await;
    zk.create("/big", b"", &open()).await.unwrap();
    for i in 0..5u8 {
        let data: Vec<u8> = (0..400_000u32).map(|b| (b as u8).wrapping_add(i)).collect();
        zk.create(&format!("/big/z{i}"), &data, &open()).await.unwrap();
    }
    let id = take_snapshot(&zk, &mut store, "/big", false, &[]).await;
    let report = run(&zk, &mut store, id, &opts(Policy::SkipExisting, Some("/big-copy"), "/audit-big")).await;
    assert_eq!(counts(&report), vec![("create", 6)], "{:?}", report.problems);
    assert_eq!(tree(&zk, "/big").await, tree(&zk, "/big-copy").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_interrupted_restore_finishes_when_run_again() {
    let sb = sandbox().await;
    let zk = zk(&sb).await;
    let mut store = store(&sb).await;
    let mut nodes = vec![("/cut".to_string(), Vec::new())];
    for f in 0..6 {
        nodes.push((format!("/cut/f{f}"), Vec::new()));
        for i in 0..999 {
            nodes.push((format!("/cut/f{f}/n{i}"), format!("{f}-{i}").into_bytes()));
        }
    }
    create_many(&zk, &nodes).await;
    let id = take_snapshot(&zk, &mut store, "/cut", false, &[]).await;
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let progress = move |p: &Progress| {
        if p.phase == "restoring" && p.done >= 2_000 {
            stop.cancel();
        }
    };
    let o = opts(Policy::SkipExisting, Some("/cut-copy"), "/audit-cut");
    let first = restore::restore_snapshot(&zk, &mut store, id, &o, &progress, &cancel).await.unwrap();
    assert!(first.cancelled && !first.clean());
    let created = first.actions.count(Action::Create);
    assert!(created >= 2_000 && created < nodes.len() as u64, "{created}");
    assert_eq!(tree(&zk, "/cut-copy").await.len() as u64, created, "the report says exactly what was written");
    let audit = myzoo::audit::list(&zk, "/audit-cut", 1, None).await.unwrap();
    assert!(audit[0].1.result.starts_with("failed: cancelled"), "{:?}", audit[0].1);
    let second = run(&zk, &mut store, id, &o).await;
    assert!(second.clean());
    assert_eq!(second.actions.count(Action::Create), nodes.len() as u64 - created);
    assert_eq!(second.actions.count(Action::SkippedExisting), created);
    assert_eq!(tree(&zk, "/cut").await, tree(&zk, "/cut-copy").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_corrupted_snapshot_is_refused_and_a_concurrent_edit_is_a_conflict() {
    let sb = sandbox().await;
    let zk = zk(&sb).await;
    let mut store = store(&sb).await;
    create_many(&zk, &[("/cc".into(), b"".to_vec()), ("/cc/a".into(), b"A".to_vec()), ("/cc/b".into(), b"B".to_vec())])
        .await;
    let id = take_snapshot(&zk, &mut store, "/cc", false, &[]).await;
    zk.set_data("/cc/a", b"A2", None).await.unwrap();
    zk.set_data("/cc/b", b"B2", None).await.unwrap();

    // An edit between the plan and the run is not clobbered.
    let o = opts(Policy::Overwrite, None, "/audit-cc");
    let plan = run(&zk, &mut store, id, &RestoreOptions { dry_run: true, ..o.clone() }).await;
    assert_eq!(counts(&plan), vec![("overwrite", 2), ("unchanged", 1)]);
    zk.set_data("/cc/a", b"theirs", None).await.unwrap();
    let done = run(&zk, &mut store, id, &RestoreOptions { unchanged_since: plan.planned_zxid, ..o.clone() }).await;
    assert_eq!(counts(&done), vec![("overwrite", 1), ("unchanged", 1), ("conflict", 1)]);
    assert_eq!(done.actions.get(Action::Conflict).sample, vec!["/cc/a"]);
    assert!(done.problems[0].starts_with("/cc/a: changed since the plan"), "{:?}", done.problems);
    assert_eq!(zk.get_data("/cc/a").await.unwrap().0, b"theirs");
    assert_eq!(zk.get_data("/cc/b").await.unwrap().0, b"B");

    // One changed byte in the store: refused before anything is written.
    let creds = myzoo::sandbox::credentials(&sb.status.state_dir).unwrap();
    let primary = &sb.status.mysql[0];
    let mysql = mysql_async::OptsBuilder::default()
        .ip_or_hostname(primary.host.clone())
        .tcp_port(primary.port)
        .user(Some(creds.admin.user.clone()))
        .pass(Some(creds.admin.password.clone()))
        .prefer_socket(false);
    let mut admin = mysql_async::Conn::new(mysql).await.unwrap();
    let db = access(&sb).database;
    admin
        .exec_drop(format!("UPDATE {db}.zk_znode SET data = 'X' WHERE snapshot_id = ? AND seq = 1"), (id,))
        .await
        .unwrap();
    let err = restore::restore_snapshot(
        &zk,
        &mut store,
        id,
        &opts(Policy::SkipExisting, Some("/cc-copy"), "/audit-cc"),
        &quiet,
        &CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(err.downcast_ref::<Refused>().is_some() && format!("{err}").contains("corrupt"), "{err:#}");
    assert_eq!(zk.check_stat("/cc-copy").await.unwrap(), None);
    let audit = myzoo::audit::list(&zk, "/audit-cc", 1, None).await.unwrap();
    assert!(audit[0].1.result.starts_with("refused: snapshot"), "{:?}", audit[0].1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cluster_records_production_and_read_only() {
    let sb = sandbox().await;
    let zk = zk(&sb).await;
    let mut store = store(&sb).await;
    let config = br#"{"schema":1,"name":"main","tier":"production","nodes":[{"name":"db1"}]}"#;
    create_many(
        &zk,
        &[
            ("/prod".into(), Vec::new()),
            ("/prod/clusters".into(), Vec::new()),
            ("/prod/clusters/main".into(), Vec::new()),
            ("/prod/clusters/main/config".into(), config.to_vec()),
            ("/prod/clusters/main/primary".into(), br#"{"node":"db1","epoch":3}"#.to_vec()),
            ("/prod/clusters/main/history".into(), Vec::new()),
        ],
    )
    .await;
    let id = take_snapshot(&zk, &mut store, "/prod/clusters", false, &[]).await;
    zk.set_data("/prod/clusters/main/primary", br#"{"node":"db2","epoch":4}"#, None).await.unwrap();
    zk.delete("/prod/clusters/main/history", None).await.unwrap();

    let o = opts(Policy::Overwrite, None, "/prod");
    let err = restore::restore_snapshot(&zk, &mut store, id, &o, &quiet, &CancellationToken::new()).await.unwrap_err();
    assert!(err.downcast_ref::<Refused>().is_some() && format!("{err}").contains("--confirm main"), "{err:#}");
    let ro = RestoreOptions { read_only: true, confirm: Some("main".into()), ..o.clone() };
    let err = restore::restore_snapshot(&zk, &mut store, id, &ro, &quiet, &CancellationToken::new()).await.unwrap_err();
    assert!(format!("{err}").contains("read-only"), "{err:#}");
    let plan = run(&zk, &mut store, id, &RestoreOptions { dry_run: true, ..o.clone() }).await;
    assert_eq!(plan.confirmation_needed.as_deref(), Some("main"));

    // While the restore holds the cluster's lock, a switchover is refused; the restore waits
    // for no one: a held lock refuses the restore.
    let held = myzoo::failover::lock::acquire(
        &zk,
        &myzoo::cluster::ClusterPaths::new("/prod", "main"),
        &myzoo::failover::lock::LockInfo {
            operation: "switchover".into(),
            user: "x".into(),
            host: "y".into(),
            pid: 1,
            origin: "cli".into(),
            since_ms: 0,
        },
    )
    .await
    .unwrap();
    let confirmed = RestoreOptions { confirm: Some("main".into()), ..o.clone() };
    let err = restore::restore_snapshot(&zk, &mut store, id, &confirmed, &quiet, &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(format!("{err}").contains("lock"), "{err:#}");
    held.release(&zk).await;

    let done = run(&zk, &mut store, id, &confirmed).await;
    assert_eq!(done.locked, vec!["main".to_string()]);
    assert_eq!(done.actions.get(Action::Kept).sample, vec!["/prod/clusters/main/primary"]);
    assert_eq!(done.actions.get(Action::Create).sample, vec!["/prod/clusters/main/history"]);
    assert_eq!(zk.get_data("/prod/clusters/main/primary").await.unwrap().0, br#"{"node":"db2","epoch":4}"#);
    assert!(zk.list_children("/prod/clusters/main/lock").await.unwrap().is_empty(), "lock released");
    // A missing primary record is recreated.
    zk.delete("/prod/clusters/main/primary", None).await.unwrap();
    let again = run(&zk, &mut store, id, &confirmed).await;
    assert_eq!(again.actions.get(Action::Create).sample, vec!["/prod/clusters/main/primary"]);
    let audit = myzoo::audit::list(&zk, "/prod", 20, Some("/prod/clusters")).await.unwrap();
    let results: Vec<&str> =
        audit.iter().filter(|(_, r)| r.action == "restore").map(|(_, r)| r.result.as_str()).collect();
    assert_eq!(results.len(), 5, "{results:?}");
    assert_eq!(results[..2], ["ok", "ok"]);
    assert!(
        results[2].starts_with("refused: cluster main") && results[3].starts_with("refused: read-only"),
        "{results:?}"
    );
    assert!(results[4].starts_with("refused: main: production"), "{results:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn diff_against_the_live_tree_and_another_snapshot() {
    let sb = sandbox().await;
    let zk = zk(&sb).await;
    let mut store = store(&sb).await;
    create_many(
        &zk,
        &[
            ("/df".into(), Vec::new()),
            ("/df/same".into(), b"=".to_vec()),
            ("/df/text".into(), b"one\ntwo\nthree\n".to_vec()),
            ("/df/bin".into(), vec![0, 1, 2]),
            ("/df/gone".into(), b"bye".to_vec()),
            ("/df/acl".into(), Vec::new()),
        ],
    )
    .await;
    let first = take_snapshot(&zk, &mut store, "/df", false, &[]).await;
    let d = diff::diff(&mut store, first, Against::Live(&zk), None).await.unwrap();
    assert!(!d.has_differences() && d.unchanged == 6, "{d:?}");
    zk.set_data("/df/text", b"one\nTWO\nthree\n", None).await.unwrap();
    zk.set_data("/df/bin", &[0, 1, 3], None).await.unwrap();
    zk.delete("/df/gone", None).await.unwrap();
    zk.create("/df/new", b"hi", &open()).await.unwrap();
    zk.set_acl("/df/acl", &[Acl::new(zookeeper_client::Permission::READ, zookeeper_client::AuthId::anyone())], None)
        .await
        .unwrap();

    let live = diff::diff(&mut store, first, Against::Live(&zk), None).await.unwrap();
    // As `zk-backup diff` and the console read it: the ACLs over sessions of their own.
    let access = sb.session(std::time::Duration::from_secs(10));
    let over = diff::diff(&mut store, first, Against::LiveOver(&zk, &access), None);
    assert_eq!(over.await.unwrap(), live);
    let paths = |v: &[diff::Entry]| v.iter().map(|e| e.path.clone()).collect::<Vec<_>>();
    assert_eq!(paths(&live.added), ["/df/new"]);
    assert_eq!(paths(&live.removed), ["/df/gone"]);
    let changed: Vec<&str> = live.changed.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(changed, ["/df/acl", "/df/bin", "/df/text"]);
    assert_eq!(live.unchanged, 2);
    assert_eq!(live.changed[0].acl, Some((vec!["world:anyone:cdrwa".into()], vec!["world:anyone:r".into()])));
    assert!(matches!(&live.changed[1].data, Some(DataChange::Binary { from_bytes: 3, to_bytes: 3, .. })));
    let Some(DataChange::Text { diff: text }) = &live.changed[2].data else { panic!("{:?}", live.changed[2]) };
    assert!(text.contains("-two\n") && text.contains("+TWO\n"), "{text}");

    let second = take_snapshot(&zk, &mut store, "/df", false, &[]).await;
    let snaps = diff::diff(&mut store, first, Against::Snapshot(second), None).await.unwrap();
    assert_eq!((snaps.added.clone(), snaps.removed.clone()), (live.added.clone(), live.removed.clone()));
    let changed_paths = |d: &diff::DiffReport| d.changed.iter().map(|c| c.path.clone()).collect::<Vec<_>>();
    assert_eq!(changed_paths(&snaps), changed_paths(&live));
    assert_eq!(snaps.changed[0].acl, live.changed[0].acl);
    assert_eq!(snaps.to.label, format!("snapshot {second}"));
    // Relative to each side's root: a copy restored elsewhere compares equal.
    run(&zk, &mut store, second, &opts(Policy::SkipExisting, Some("/df-copy"), "/audit-df")).await;
    let copy_snap = take_snapshot(&zk, &mut store, "/df-copy", false, &[]).await;
    let same = diff::diff(&mut store, second, Against::Snapshot(copy_snap), None).await.unwrap();
    assert!(!same.has_differences(), "{same:?}");
}

fn write_config(home: &std::path::Path, sb: &Sandbox, zk: &str, root: &str) {
    let b = sb.status.backup_store.as_ref().unwrap();
    let hosts: Vec<String> = b.hosts.iter().map(|h| format!("{h:?}")).collect();
    let text = format!(
        "default_profile = \"t\"\n[profiles.t]\nzk = {zk:?}\nroot = {root:?}\n[profiles.t.backup_store]\nhosts = [{}]\n\
         database = {:?}\nuser = {:?}\npassword_file = {:?}\n",
        hosts.join(", "),
        b.database,
        b.user,
        b.password_file.as_ref().unwrap().display().to_string()
    );
    std::fs::write(home.join("config.toml"), text).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn disaster_recovery_into_an_empty_ensemble_through_the_cli() {
    let sb = sandbox().await;
    let zk = zk(&sb).await;
    let mut store = store(&sb).await;
    let mut nodes = vec![("/dr".to_string(), b"top".to_vec()), ("/dr/clusters".into(), Vec::new())];
    for c in 0..3 {
        nodes.push((format!("/dr/clusters/c{c}"), Vec::new()));
        nodes.push((
            format!("/dr/clusters/c{c}/config"),
            format!("{{\"schema\":1,\"name\":\"c{c}\",\"tier\":\"staging\",\"nodes\":[]}}").into_bytes(),
        ));
        nodes.push((format!("/dr/clusters/c{c}/primary"), format!("{{\"node\":\"db1\",\"epoch\":{c}}}").into_bytes()));
        nodes.push((format!("/dr/clusters/c{c}/history"), Vec::new()));
    }
    create_many(&zk, &nodes).await;
    let hist = CreateMode::PersistentSequential.with_acls(Acls::anyone_all());
    for _ in 0..3 {
        zk.create("/dr/clusters/c0/history/op-", b"{}", &hist).await.unwrap();
    }
    let id = take_snapshot(&zk, &mut store, "/dr", false, &[]).await;
    let before = tree(&zk, "/dr").await;

    // The new ensemble is empty; the profile's own ZooKeeper is gone (nothing listens there).
    let fresh = Sandbox::zk_only().await;
    let home = tempfile::tempdir().unwrap();
    write_config(home.path(), &sb, "127.0.0.1:1", "/dr");
    let plan = isolated_myzoo(home.path())
        .args(["zk-backup", "restore", &id.to_string(), "--to-zk", &fresh.zk(), "--dry-run", "--json"])
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(0), "{}", String::from_utf8_lossy(&plan.stderr));
    let json: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(json["actions"]["create"]["count"], before.len() as u64);
    assert_eq!(json["dry_run"], true);
    // Not on a terminal and without --yes: refused.
    let no = isolated_myzoo(home.path())
        .args(["zk-backup", "restore", &id.to_string(), "--to-zk", &fresh.zk()])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(no.status.code(), Some(2), "{}", String::from_utf8_lossy(&no.stderr));
    let yes = isolated_myzoo(home.path())
        .args(["zk-backup", "restore", &id.to_string(), "--to-zk", &fresh.zk(), "--yes"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&yes.stdout);
    assert_eq!(yes.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&yes.stderr));
    assert!(
        stdout.contains("Restore plan") && stdout.contains("never deleted") && stdout.contains("done:"),
        "{stdout}"
    );
    let new = Client::connect(&fresh.zk()).await.unwrap();
    let mut after = tree(&new, "/dr").await;
    // The restore's own audit record is the one thing the new ensemble has beyond the snapshot.
    let audit: Vec<String> = after.keys().filter(|k| k.starts_with("audit")).cloned().collect();
    assert_eq!(audit.len(), 2, "{audit:?}");
    audit.iter().for_each(|k| {
        after.remove(k);
    });
    assert_eq!(before, after);
    // The journal's counter is past the restored records: the next operation's record is new.
    let (_, s) = new.create("/dr/clusters/c0/history/op-", b"{}", &hist).await.unwrap();
    assert_eq!(s.into_i64(), 3);

    // Unreachable: the profile's ZooKeeper without --to-zk.
    let down =
        isolated_myzoo(home.path()).args(["zk-backup", "restore", &id.to_string(), "--dry-run"]).output().unwrap();
    assert_eq!(down.status.code(), Some(3));
    // diff exit codes: 0 equal, 1 different.
    write_config(home.path(), &sb, &fresh.zk(), "/dr");
    let same = isolated_myzoo(home.path())
        .args(["zk-backup", "diff", &id.to_string(), "--path", "/dr/clusters/c1"])
        .output()
        .unwrap();
    assert_eq!(same.status.code(), Some(0), "{}", String::from_utf8_lossy(&same.stdout));
    new.set_data("/dr/clusters/c1/config", b"{}", None).await.unwrap();
    let differs = isolated_myzoo(home.path()).args(["zk-backup", "diff", &id.to_string(), "--json"]).output().unwrap();
    assert_eq!(differs.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&differs.stdout).unwrap();
    assert_eq!(json["changed"][0]["path"], "/dr/clusters/c1/config");
}
