//! Scheduled snapshots against real servers: with `backup.zk_interval_s` set, the elected
//! coordinator snapshots its cluster's folder into the backup store on schedule, prunes its
//! own to `backup.keep`, never an operator's, and says what it did in its state record.

mod common;

use std::time::{Duration, Instant};

use common::cluster::{wait_state, Fixture, WAIT};
use myzoo::agent::schedule::SCHEDULED_ORIGIN;
use myzoo::backup::snapshot::{self, SnapshotOptions};
use myzoo::backup::{SnapshotState, Store, StoreAccess, Want};
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_coordinator_snapshots_its_cluster_on_schedule_and_prunes_only_its_own() {
    let fx = Fixture::start().await;
    let access = StoreAccess::from_config(fx.sb.status.backup_store.as_ref().expect("a store")).unwrap();
    let root = fx.paths.base();
    let mut store = Store::open(&access, Want::Write).await.unwrap();
    let opts = SnapshotOptions {
        ensemble: fx.sb.zk(),
        root: root.clone(),
        include_ephemeral: false,
        note: "before the change".into(),
        operator: "tester".into(),
        host: "test".into(),
        origin: "cli".into(),
        audit_root: Some("/myzoo".into()),
        acl_sessions: Some(fx.sb.session(std::time::Duration::from_secs(10))),
    };
    let manual = snapshot::create(&fx.zk, &mut store, &opts, &|_| {}, &CancellationToken::new()).await.unwrap();

    fx.edit_config(|v| v["backup"] = serde_json::json!({"zk_interval_s": 1, "keep": 2})).await;
    // Until the third scheduled snapshot was taken and the first pruned.
    let deadline = Instant::now() + WAIT * 2;
    let ours = loop {
        let all = store.snapshots().await.unwrap();
        let ours: Vec<_> = all.iter().filter(|s| s.origin == SCHEDULED_ORIGIN).cloned().collect();
        let complete = ours.iter().filter(|s| s.state == SnapshotState::Complete).count();
        if ours.iter().any(|s| s.id >= manual.id + 3) && complete == 2 {
            assert!(all.iter().any(|s| s.id == manual.id), "an operator's snapshot is never pruned by the schedule");
            break ours;
        }
        assert!(Instant::now() < deadline, "no third scheduled snapshot: {all:#?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for s in ours.iter().filter(|s| s.state == SnapshotState::Complete) {
        assert_eq!(s.root, root);
        assert!(s.operator.starts_with("coordinator@"), "{s:?}");
        assert_eq!(s.ensemble, fx.sb.zk(), "the agents' connect string is recorded");
        let verified = store.verify(s.id).await.unwrap();
        assert!(verified.znodes >= 3, "the cluster's config, primary and folders: {verified:?}");
    }
    wait_state(&fx, "reports its scheduled snapshots", |s| {
        s.backup.as_deref().is_some_and(|b| b.starts_with("scheduled snapshot ") && b.contains(&root))
    })
    .await;

    // Off again: no more snapshots.
    fx.edit_config(|v| v["backup"]["zk_interval_s"] = 0.into()).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let settled = store.snapshots().await.unwrap().first().map(|s| s.id);
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(store.snapshots().await.unwrap().first().map(|s| s.id), settled, "scheduling stopped");
}
