//! A ZooKeeper snapshot under the fault operators meet during a rolling restart: the member its
//! session is on killed in the middle of the walk, in a three-member ensemble. The snapshot must
//! finish within the same session, with every znode exactly as the live tree has it.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::Sandbox;
use futures::{StreamExt, TryStreamExt};
use myzoo::backup::snapshot::{self, SnapshotOptions};
use myzoo::backup::{store, SnapshotState, Store, StoreAccess, Want};
use myzoo::sandbox::SandboxOptions;
use tokio_util::sync::CancellationToken;
use zookeeper_client::{Acls, CreateMode};

const FOLDERS: usize = 40;
const PER_FOLDER: usize = 500;
/// Znodes read before the member goes (the walk is well under way, far from its end).
const KILL_AFTER: u64 = 3_000;
const SESSION_TIMEOUT: Duration = Duration::from_secs(10);

/// The walk's debug events, kept in memory: the test checks that a read was asked again (the
/// kill did land on reads in flight), not only that the snapshot finished.
#[derive(Clone, Default)]
struct Events(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Events {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_snapshot_rides_out_the_member_its_session_is_on_killed_mid_walk() {
    let events = Events::default();
    let writer = events.clone();
    tracing_subscriber::fmt()
        .with_env_filter("myzoo::backup::walk=debug")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();
    let sb = Sandbox::start_with(SandboxOptions { zk_ensemble: 3, ..Sandbox::options(true) }).await;
    let access = sb.session(SESSION_TIMEOUT);
    let zk = access.connect().await.expect("a session on the ensemble");
    let open = CreateMode::Persistent.with_acls(Acls::anyone_all());
    let root = "/rolling";
    zk.create(root, b"", &open).await.unwrap();
    let mut want = BTreeSet::from([root.to_string()]);
    for f in 0..FOLDERS {
        let folder = format!("{root}/f{f:02}");
        zk.create(&folder, b"", &open).await.unwrap();
        want.insert(folder.clone());
        let mut w = zk.new_multi_writer();
        for n in 0..PER_FOLDER {
            let path = format!("{folder}/n{n:04}");
            w.add_create(&path, format!("value {f} {n}").as_bytes(), &open).unwrap();
            want.insert(path);
        }
        w.commit().await.unwrap();
    }

    let (host, port) = zk.connected_server().expect("the session is on a member");
    let member = sb.status.zk_servers.iter().find(|m| m.port == port).expect("one of the sandbox's members").clone();
    let pid = member.pid.expect("the member runs") as i32;
    let session = zk.session_id();
    let killed = AtomicBool::new(false);
    let store_access = StoreAccess::from_config(sb.status.backup_store.as_ref().expect("a store")).unwrap();
    let mut store = Store::open(&store_access, Want::Write).await.unwrap();
    let opts = SnapshotOptions {
        ensemble: sb.zk(),
        root: root.into(),
        include_ephemeral: false,
        note: "rolling restart".into(),
        operator: "tester".into(),
        host: "testhost".into(),
        origin: "cli".into(),
        audit_root: None,
        acl_sessions: Some(access.clone()),
    };
    let kill = |p: &myzoo::backup::Progress| {
        if p.done >= KILL_AFTER && !killed.swap(true, Ordering::SeqCst) {
            common::cluster::kill(pid);
        }
    };
    let meta = snapshot::create(&zk, &mut store, &opts, &kill, &CancellationToken::new()).await;
    let meta = meta.unwrap_or_else(|e| panic!("the snapshot failed with {host}:{port} killed under it: {e:#}"));
    assert!(killed.load(Ordering::SeqCst), "the member was killed during the walk");
    let log = String::from_utf8_lossy(&events.0.lock().unwrap()).to_string();
    assert!(log.contains("reading again"), "no read was asked again: the kill missed the reads in flight\n{log}");
    assert_eq!(common::wait_exited(pid, Duration::from_secs(30)).await & 0x7f, libc::SIGKILL, "killed, not exited");
    assert_eq!(zk.session_id(), session, "the walk's session moved to another member, no new session");
    assert_ne!(zk.connected_server().map(|(_, p)| p), Some(port), "on a surviving member");

    // Every znode, exactly as the live tree has it (read now from a surviving member).
    assert_eq!(meta.state, SnapshotState::Complete);
    let got: Vec<_> = store::znodes(&mut store, meta.id, None).try_collect().await.unwrap();
    let paths: BTreeSet<String> = got.iter().map(|r| r.path.clone()).collect();
    assert_eq!(got.len(), paths.len(), "no znode twice");
    assert_eq!(paths, want, "every znode once");
    let live: Vec<_> = futures::stream::iter(&got)
        .map(|r| {
            let zk = zk.clone();
            async move {
                let (data, stat) = zk.get_data(&r.path).await.unwrap();
                let (acl, _) = zk.get_acl(&r.path).await.unwrap();
                (data, myzoo::zk::NodeStat::from(&stat), acl.iter().map(myzoo::zk::load::acl_entry).collect::<Vec<_>>())
            }
        })
        .buffered(500)
        .collect()
        .await;
    for (r, (data, stat, acl)) in got.iter().zip(live) {
        assert_eq!((&r.data, &r.stat, &r.acl), (&data, &stat, &acl), "{}", r.path);
    }
    myzoo::sandbox::restart_zk(sb.dir.path(), member.id).await.expect("restart the member");
}
