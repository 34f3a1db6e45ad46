//! The mutation service against a real ZooKeeper: version-checked writes and conflicts, create
//! modes and refusals, delete plans, read-only and production guards, and the audit records
//! every attempt leaves (done, failed and refused).

mod common;

use myzoo::audit::{self, digest, AuditRecord};
use myzoo::ops::{max_data_bytes, Actor, Mutation, NodeMode, OpError, Ops, Origin, ZK_MAX_PACKET_BYTES, ZK_TTL_MAX_MS};
use myzoo::secrets::MASK;
use zookeeper_client::{Acls, Client, CreateMode};

const ROOT: &str = "/myzoo";

fn actor() -> Actor {
    Actor { user: "tester".into(), host: "testhost".into(), ssh_client: Some("10.1.2.3".into()) }
}

async fn connect(sb: &common::Sandbox) -> Client {
    Client::connect(&sb.zk()).await.expect("connect")
}

async fn ops(sb: &common::Sandbox, origin: Origin) -> Ops {
    Ops::new(connect(sb).await, ROOT, origin).with_actor(actor())
}

async fn put(c: &Client, path: &str, data: &[u8]) {
    let opts = CreateMode::Persistent.with_acls(Acls::anyone_all());
    if let Some((parent, _)) = path.rsplit_once('/') {
        if !parent.is_empty() {
            c.mkdir(parent, &opts).await.unwrap();
        }
    }
    c.create(path, data, &opts).await.unwrap();
}

async fn newest(c: &Client, path: &str) -> AuditRecord {
    audit::list(c, ROOT, 1, Some(path)).await.unwrap().remove(0).1
}

fn assert_identity(r: &AuditRecord, origin: &str) {
    assert_eq!(r.schema, 1);
    assert_eq!(r.user, "tester");
    assert_eq!(r.host, "testhost");
    assert_eq!(r.ssh_client.as_deref(), Some("10.1.2.3"));
    assert_eq!(r.origin, origin);
    assert!((audit::now_ms() - r.time_ms).abs() < 60_000, "time_ms {}", r.time_ms);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_is_version_checked_and_every_attempt_is_audited() {
    let sb = common::Sandbox::zk_only().await;
    let other = connect(&sb).await;
    let ops = ops(&sb, Origin::Console).await;
    put(&other, "/t/a", b"v0").await;

    // The right version: written, version bumped, audited with digests.
    let set =
        |v: Option<i32>, data: &[u8]| Mutation::Set { path: "/t/a".into(), data: data.to_vec(), expected_version: v };
    let o = ops.apply(set(Some(0), b"v1"), None).await.unwrap();
    assert_eq!((o.version_before, o.version_after), (Some(0), Some(1)));
    assert!(o.audit_path.as_deref().is_some_and(|p| p.starts_with("/myzoo/audit/entry-")), "{o:?}");
    assert_eq!(o.audit_error, None);
    let r = newest(&other, "/t/a").await;
    assert_identity(&r, "console");
    assert_eq!((r.action.as_str(), r.path.as_str(), r.result.as_str()), ("set", "/t/a", "ok"));
    assert_eq!((r.version_before, r.version_after), (Some(0), Some(1)));
    assert_eq!(r.digest_before, Some(digest(b"v0")));
    assert_eq!(r.digest_after, Some(digest(b"v1")));

    // Someone else writes between our read and our write: BadVersion with their data.
    other.set_data("/t/a", b"theirs", None).await.unwrap();
    match ops.apply(set(Some(1), b"mine"), None).await {
        Err(OpError::BadVersion { expected: 1, current: Some(n), .. }) => {
            assert_eq!(n.data, b"theirs");
            assert_eq!(n.stat.version, 2);
        }
        other => panic!("expected BadVersion, got {other:?}"),
    }
    assert_eq!(other.get_data("/t/a").await.unwrap().0, b"theirs");
    let r = newest(&other, "/t/a").await;
    assert_identity(&r, "console");
    assert!(r.result.starts_with("failed: ") && r.result.contains("BadVersion"), "{}", r.result);
    assert_eq!((r.version_before, r.version_after), (Some(2), None));
    assert_eq!((r.digest_before, r.digest_after), (Some(digest(b"theirs")), None));

    // A deliberate overwrite (no expected version) wins.
    let o = ops.apply(set(None, b"mine"), None).await.unwrap();
    assert_eq!((o.version_before, o.version_after), (Some(2), Some(3)));
    assert_eq!(other.get_data("/t/a").await.unwrap().0, b"mine");

    // A set of a missing znode fails, and is audited as failed.
    let missing = Mutation::Set { path: "/t/missing".into(), data: b"x".to_vec(), expected_version: Some(0) };
    assert!(matches!(ops.apply(missing, None).await, Err(OpError::NoNode { .. })));
    assert!(newest(&other, "/t/missing").await.result.starts_with("failed: "));

    // The list is newest first and filtered by path (a prefix of segments, not of characters).
    put(&other, "/t/ab", b"").await;
    ops.apply(Mutation::Set { path: "/t/ab".into(), data: b"z".to_vec(), expected_version: Some(0) }, None)
        .await
        .unwrap();
    let about_a = audit::list(&other, ROOT, 10, Some("/t/a")).await.unwrap();
    let results: Vec<&str> = about_a.iter().map(|(_, r)| r.result.split(':').next().unwrap()).collect();
    assert_eq!(results, ["ok", "failed", "ok"]);
    assert!(about_a.windows(2).all(|w| w[0].0 > w[1].0), "newest first");
    let all = audit::list(&other, ROOT, 10, None).await.unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(all[0].1.path, "/t/ab");
    assert_eq!(audit::list(&other, ROOT, 2, Some("/t")).await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_modes_names_size_and_ephemeral() {
    let sb = common::Sandbox::zk_only().await;
    let other = connect(&sb).await;
    let ops = ops(&sb, Origin::Console).await;
    put(&other, "/c", b"").await;
    let create = |path: &str, mode: NodeMode| Mutation::Create { path: path.into(), data: b"d".to_vec(), mode };

    let o = ops.apply(create("/c/p", NodeMode::Persistent), None).await.unwrap();
    assert_eq!((o.path.as_str(), o.version_after), ("/c/p", Some(0)));
    let o = ops.apply(create("/c/seq-", NodeMode::PersistentSequential), None).await.unwrap();
    assert!(o.path.starts_with("/c/seq-") && o.path.len() == "/c/seq-".len() + 10, "{}", o.path);
    assert_eq!(other.get_data(&o.path).await.unwrap().0, b"d");
    assert_eq!(newest(&other, &o.path).await.path, o.path, "the audit names the created path");
    ops.apply(create("/c/box", NodeMode::Container), None).await.unwrap();
    assert!(other.check_stat("/c/box").await.unwrap().is_some());
    // TTL znodes: the sandbox's zoo.cfg sets extendedTypesEnabled=true.
    ops.apply(create("/c/ttl", NodeMode::PersistentWithTtl { ttl_ms: 60_000 }), None).await.unwrap();
    assert!(other.check_stat("/c/ttl").await.unwrap().is_some());
    let r = newest(&other, "/c/ttl").await;
    assert_eq!(
        (r.action.as_str(), r.result.as_str(), r.detail.as_deref()),
        ("create", "ok", Some("mode ttl 60000 ms"))
    );
    assert_eq!((r.digest_before.as_deref(), r.digest_after), (None, Some(digest(b"d"))));
    for ttl_ms in [0, ZK_TTL_MAX_MS + 1] {
        let bad = create("/c/ttl2", NodeMode::PersistentWithTtl { ttl_ms });
        assert!(matches!(ops.apply(bad, None).await, Err(OpError::Refused(_))));
    }
    assert!(matches!(ops.apply(create("/c/p", NodeMode::Persistent), None).await, Err(OpError::NodeExists { .. })));
    assert!(matches!(ops.apply(create("/nope/x", NodeMode::Persistent), None).await, Err(OpError::Zk { .. })));

    // Invalid names are refused, and nothing is created.
    for bad in ["c/x", "/c/./x", "/c/../x", "/c//x", "/c/x/", "/zookeeper/x", "/"] {
        match ops.apply(create(bad, NodeMode::Persistent), None).await {
            Err(OpError::InvalidPath(_)) => {}
            other => panic!("{bad}: expected InvalidPath, got {other:?}"),
        }
    }
    assert_eq!(other.list_children("/c").await.unwrap().len(), 4, "p, seq-N, box, ttl");
    assert!(newest(&other, "/c/./x").await.result.starts_with("refused: invalid path"));

    // Over the 1 MB limit: refused before any write; at the limit: written.
    let path = "/c/big";
    let too_big = vec![b'x'; max_data_bytes(path) + 1];
    match ops.apply(Mutation::Create { path: path.into(), data: too_big, mode: NodeMode::Persistent }, None).await {
        Err(OpError::TooLarge { bytes, max_bytes, .. }) => assert_eq!(bytes, max_bytes + 1),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert!(other.check_stat(path).await.unwrap().is_none(), "nothing was created");
    let megabyte = vec![b'x'; ZK_MAX_PACKET_BYTES + 1];
    let set_big = Mutation::Set { path: "/c/p".into(), data: megabyte, expected_version: None };
    let e = ops.apply(set_big, None).await.unwrap_err();
    assert!(e.to_string().contains("1048576 bytes"), "{e}");
    assert_eq!(other.get_data("/c/p").await.unwrap().0, b"d");
    let fits = vec![b'x'; max_data_bytes(path)];
    ops.apply(Mutation::Create { path: path.into(), data: fits.clone(), mode: NodeMode::Persistent }, None)
        .await
        .unwrap();
    assert_eq!(other.get_data(path).await.unwrap().0.len(), fits.len());

    // Ephemeral: refused from the console (and from the CLI), with the reason.
    let e = ops.apply(create("/c/eph", NodeMode::Ephemeral), None).await.unwrap_err();
    assert!(e.to_string().contains("would vanish when this console's session ends"), "{e}");
    let cli = Ops::new(connect(&sb).await, ROOT, Origin::Cli).with_actor(actor());
    let e = cli.apply(create("/c/eph", NodeMode::Ephemeral), None).await.unwrap_err();
    assert!(e.to_string().contains("as soon as this command exits"), "{e}");
    assert!(other.check_stat("/c/eph").await.unwrap().is_none());
    let r = newest(&other, "/c/eph").await;
    assert_identity(&r, "cli");
    assert!(r.result.starts_with("refused: "));

    // A mask left in the data is never written.
    let masked = format!(r#"{{"password":"{MASK}"}}"#).into_bytes();
    let m = Mutation::Set { path: "/c/p".into(), data: masked, expected_version: Some(0) };
    assert!(matches!(ops.apply(m, None).await, Err(OpError::Refused(_))));
    assert_eq!(other.get_data("/c/p").await.unwrap().0, b"d");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_plans_recursion_and_version_checks() {
    let sb = common::Sandbox::zk_only().await;
    let other = connect(&sb).await;
    let ops = ops(&sb, Origin::Console).await;
    for p in ["/d/a/b/c", "/d/a/y", "/d/x"] {
        put(&other, p, b"leaf").await;
    }
    let plan = ops.delete_plan("/d").await.unwrap();
    assert_eq!((plan.descendants, plan.version), (5, 0));
    assert_eq!(plan.paths[0], "/d/a/b/c", "deepest first: {:?}", plan.paths);
    assert_eq!(plan.paths.last().map(String::as_str), Some("/d/x"));
    assert!(matches!(ops.delete_plan("/d/none").await, Err(OpError::NoNode { .. })));

    let delete =
        |v: Option<i32>, recursive: bool| Mutation::Delete { path: "/d".into(), expected_version: v, recursive };
    match ops.apply(delete(Some(0), false), None).await {
        Err(OpError::NotEmpty { descendants: 5, .. }) => {}
        other => panic!("expected NotEmpty, got {other:?}"),
    }
    assert!(matches!(ops.apply(delete(Some(7), true), None).await, Err(OpError::BadVersion { .. })));
    assert_eq!(other.list_children("/d").await.unwrap().len(), 2, "nothing went");

    let o = ops.apply(delete(Some(0), true), None).await.unwrap();
    assert_eq!((o.version_before, o.version_after), (Some(0), None));
    assert!(other.check_stat("/d").await.unwrap().is_none());
    let r = newest(&other, "/d").await;
    assert_eq!((r.action.as_str(), r.result.as_str()), ("delete", "ok"));
    assert_eq!(r.detail.as_deref(), Some("recursive: 5 descendant(s)"));
    assert_eq!(r.digest_before, Some(digest(b"")));

    // A subtree larger than one multi-write batch.
    put(&other, "/wide/seed", b"").await;
    let opts = CreateMode::Persistent.with_acls(Acls::anyone_all());
    for chunk in (0..1_200).collect::<Vec<_>>().chunks(400) {
        let mut w = other.new_multi_writer();
        for i in chunk {
            w.add_create(&format!("/wide/n{i}"), b"", &opts).unwrap();
        }
        w.commit().await.unwrap();
    }
    assert_eq!(ops.delete_plan("/wide").await.unwrap().descendants, 1_201);
    ops.apply(Mutation::Delete { path: "/wide".into(), expected_version: None, recursive: true }, None).await.unwrap();
    assert!(other.check_stat("/wide").await.unwrap().is_none());

    // A leaf: version-checked, no recursion needed.
    put(&other, "/leaf", b"x").await;
    ops.apply(Mutation::Delete { path: "/leaf".into(), expected_version: Some(0), recursive: false }, None)
        .await
        .unwrap();
    assert!(other.check_stat("/leaf").await.unwrap().is_none());
}

/// One of every mutation; the match below has no wildcard, so a new variant fails to compile
/// here until the read-only walk covers it.
fn every_mutation() -> Vec<Mutation> {
    let all = vec![
        Mutation::Set { path: "/ro/a".into(), data: b"new".to_vec(), expected_version: Some(0) },
        Mutation::Set { path: "/ro/a".into(), data: b"new".to_vec(), expected_version: None },
        Mutation::Create { path: "/ro/p".into(), data: vec![], mode: NodeMode::Persistent },
        Mutation::Create { path: "/ro/s-".into(), data: vec![], mode: NodeMode::PersistentSequential },
        Mutation::Create { path: "/ro/e".into(), data: vec![], mode: NodeMode::Ephemeral },
        Mutation::Create { path: "/ro/c".into(), data: vec![], mode: NodeMode::Container },
        Mutation::Create { path: "/ro/t".into(), data: vec![], mode: NodeMode::PersistentWithTtl { ttl_ms: 1_000 } },
        Mutation::Delete { path: "/ro/a".into(), expected_version: Some(0), recursive: false },
        Mutation::Delete { path: "/ro".into(), expected_version: None, recursive: true },
        Mutation::RevealSecret { path: "/ro/a".into() },
        Mutation::SetAcl {
            path: "/ro/a".into(),
            acl: myzoo::zk::acl::parse(&["world:anyone:r"]).unwrap(),
            expected_aversion: Some(0),
        },
    ];
    for m in &all {
        match m {
            Mutation::Set { .. }
            | Mutation::Create { .. }
            | Mutation::Delete { .. }
            | Mutation::RevealSecret { .. }
            | Mutation::SetAcl { .. } => {}
        }
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_refuses_every_mutation() {
    let sb = common::Sandbox::zk_only().await;
    let other = connect(&sb).await;
    put(&other, "/ro/a", br#"{"password":"hunter2"}"#).await;
    let before = other.get_data("/ro/a").await.unwrap();
    let ops = ops(&sb, Origin::Console).await.with_read_only(true);
    assert!(ops.read_only());
    let all = every_mutation();
    for m in all.clone() {
        let action = m.action();
        match ops.apply(m.clone(), Some("anything")).await {
            Err(e @ OpError::ReadOnly { .. }) => assert!(e.to_string().contains("read-only"), "{e}"),
            other => panic!("{m:?}: expected ReadOnly, got {other:?}"),
        }
        let r = newest(&other, m.path()).await;
        assert_eq!(r.action, action);
        assert!(r.result.starts_with("refused: read-only"), "{}", r.result);
    }
    // The target is exactly as it was: same data, same version, no new znodes.
    let after = other.get_data("/ro/a").await.unwrap();
    assert_eq!((after.0, after.1.version, after.1.mzxid), (before.0, before.1.version, before.1.mzxid));
    assert_eq!(after.1.aversion, before.1.aversion, "the ACL is untouched");
    assert_eq!(other.list_children("/ro").await.unwrap(), vec!["a".to_string()]);
    assert_eq!(audit::list(&other, ROOT, 100, Some("/ro")).await.unwrap().len(), all.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_needs_the_typed_name() {
    let sb = common::Sandbox::zk_only().await;
    let other = connect(&sb).await;
    let ops = ops(&sb, Origin::Console).await;
    let prod = br#"{"schema":1,"name":"prod","tier":"production","nodes":[]}"#;
    put(&other, "/myzoo/clusters/prod/config", prod).await;
    put(&other, "/myzoo/clusters/prod/history/h1", b"x").await;
    put(&other, "/myzoo/clusters/prod/primary", br#"{"node":"db1","epoch":1}"#).await;
    put(&other, "/myzoo/clusters/dev/config", br#"{"schema":1,"name":"dev","tier":"development"}"#).await;
    put(&other, "/myzoo/clusters/dev/history/h1", b"x").await;
    assert_eq!(
        myzoo::ops::production_cluster_for(&other, ROOT, "/myzoo/clusters/prod/history/h1").await.unwrap(),
        Some("prod".to_string())
    );
    assert_eq!(myzoo::ops::production_cluster_for(&other, ROOT, "/myzoo/clusters/dev").await.unwrap(), None);

    let del = |p: &str| Mutation::Delete { path: p.into(), expected_version: Some(0), recursive: true };
    assert_eq!(ops.confirmation_needed(&del("/myzoo/clusters/prod/history/h1")).await.unwrap(), Some("prod".into()));
    for confirm in [None, Some("dev"), Some("Prod")] {
        match ops.apply(del("/myzoo/clusters/prod/history/h1"), confirm).await {
            Err(OpError::NeedsConfirmation { cluster }) => assert_eq!(cluster, "prod"),
            other => panic!("{confirm:?}: expected NeedsConfirmation, got {other:?}"),
        }
    }
    assert!(other.check_stat("/myzoo/clusters/prod/history/h1").await.unwrap().is_some());
    assert!(newest(&other, "/myzoo/clusters/prod/history/h1")
        .await
        .result
        .starts_with("refused: prod is a production"));
    ops.apply(del("/myzoo/clusters/prod/history/h1"), Some("prod")).await.unwrap();
    assert!(other.check_stat("/myzoo/clusters/prod/history/h1").await.unwrap().is_none());

    // Development clusters need nothing typed.
    assert_eq!(ops.confirmation_needed(&del("/myzoo/clusters/dev/history/h1")).await.unwrap(), None);
    ops.apply(del("/myzoo/clusters/dev/history/h1"), None).await.unwrap();
    // Deleting an ancestor that holds a production cluster needs its name too.
    assert_eq!(ops.confirmation_needed(&del("/myzoo/clusters")).await.unwrap(), Some("prod".into()));
    assert_eq!(ops.confirmation_needed(&del("/myzoo")).await.unwrap(), Some("prod".into()));

    // Sets: a version-checked config edit that stays production is fine; a blind overwrite,
    // a primary change, or leaving production need the name.
    let set = |p: &str, data: &[u8], v: Option<i32>| Mutation::Set {
        path: p.into(),
        data: data.to_vec(),
        expected_version: v,
    };
    let config = "/myzoo/clusters/prod/config";
    let edited = br#"{"schema":1,"name":"prod","tier":"production","nodes":[],"replication":{"user":"r"}}"#;
    ops.apply(set(config, edited, Some(0)), None).await.unwrap();
    let to_dev = br#"{"schema":1,"name":"prod","tier":"development","nodes":[]}"#;
    assert!(matches!(ops.apply(set(config, to_dev, Some(1)), None).await, Err(OpError::NeedsConfirmation { .. })));
    assert!(matches!(ops.apply(set(config, edited, None), None).await, Err(OpError::NeedsConfirmation { .. })));
    let primary = "/myzoo/clusters/prod/primary";
    let p2 = br#"{"node":"db2","epoch":2}"#;
    assert!(matches!(ops.apply(set(primary, p2, Some(0)), None).await, Err(OpError::NeedsConfirmation { .. })));
    ops.apply(set(primary, p2, Some(0)), Some("prod")).await.unwrap();
    ops.apply(set(config, to_dev, Some(1)), Some("prod")).await.unwrap();
    // Now development: deletes go without the name.
    assert_eq!(ops.confirmation_needed(&del("/myzoo/clusters/prod")).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reveal_is_audited_and_a_lost_audit_is_reported() {
    let sb = common::Sandbox::zk_only().await;
    let other = connect(&sb).await;
    let ops = ops(&sb, Origin::Console).await;
    put(&other, "/s/cfg", br#"{"password":"hunter2"}"#).await;
    let o = ops.apply(Mutation::RevealSecret { path: "/s/cfg".into() }, None).await.unwrap();
    assert_eq!((o.version_before, o.version_after), (Some(0), None));
    let r = newest(&other, "/s/cfg").await;
    assert_eq!((r.action.as_str(), r.result.as_str()), ("reveal-secret", "ok"));
    assert_eq!(r.digest_before, Some(digest(br#"{"password":"hunter2"}"#)));

    // Under a root whose audit folder cannot hold records, the write still happens and the
    // outcome says the audit was lost.
    let eph = CreateMode::Ephemeral.with_acls(Acls::anyone_all());
    other.mkdir("/broken", &CreateMode::Persistent.with_acls(Acls::anyone_all())).await.unwrap();
    other.create("/broken/audit", b"", &eph).await.unwrap();
    let broken = Ops::new(connect(&sb).await, "/broken", Origin::Console).with_actor(actor());
    let o = broken
        .apply(
            Mutation::Set { path: "/s/cfg".into(), data: br#"{"password":"new"}"#.to_vec(), expected_version: Some(0) },
            None,
        )
        .await
        .unwrap();
    assert_eq!(o.version_after, Some(1));
    assert_eq!(o.audit_path, None);
    assert!(o.audit_error.as_deref().is_some_and(|e| e.contains("audit record was not written")), "{o:?}");
}
