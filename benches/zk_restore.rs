//! Restore benchmark on a real sandbox (ZooKeeper and three MariaDB servers holding the backup
//! store). Run: `cargo bench --bench zk_restore`.
//!
//! - A 100,000-znode tree (100 folders × 1,000 znodes of ~100 bytes, made with multi-ops) is
//!   snapshotted into the store (walk → store rows → checksum, as `zk-backup create` does),
//!   then `backup::restore::restore_snapshot` — the product path end to end: checksum
//!   verification, store reads, ZooKeeper writes — restores it into a fresh path
//!   `MYZOO_BENCH_RUNS` times (default 3); the median is reported against the 8 s target.
//! - Peer, in the same run: zk-shell's import of the same tree from its own JSON export
//!   (`cp json://… /dest true true true`: recursive, overwrite, asynchronous), skipped with a
//!   note when `zk-shell` is not installed.
//! - Peak RSS of the real binary, `myzoo zk-backup restore SNAP --to … --yes --json` (plan +
//!   run, as an operator runs it), at 10k and 100k znodes, from `wait4`.

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use std::time::{Duration, Instant};

use common::{isolated_myzoo, Sandbox};
use myzoo::backup::record::ContentDigest;
use myzoo::backup::restore::{self, Action, Policy, RestoreOptions};
use myzoo::backup::store::{NewSnapshot, Totals};
use myzoo::backup::walk::{self, WalkOptions};
use myzoo::backup::{Progress, Store, StoreAccess, Want};
use myzoo::ops::Actor;
use support::percentile;
use tokio_util::sync::CancellationToken;
use zookeeper_client::{Acls, Client, CreateMode};

/// Folders and znodes per folder of the big tree.
const FOLDERS: usize = 100;
const PER_FOLDER: usize = 1_000;
/// Data bytes per znode.
const DATA_BYTES: usize = 100;
/// The target for a 100k restore.
const TARGET: Duration = Duration::from_secs(8);

async fn build(zk: &Client, root: &str, folders: usize) {
    let open = CreateMode::Persistent.with_acls(Acls::anyone_all());
    zk.create(root, b"", &open).await.unwrap();
    let data = vec![b'x'; DATA_BYTES];
    let mut pending = Vec::new();
    for f in 0..folders {
        let folder = format!("{root}/f{f:03}");
        zk.create(&folder, b"", &open).await.unwrap();
        for chunk in (0..PER_FOLDER).collect::<Vec<_>>().chunks(500) {
            let mut m = zk.new_multi_writer();
            for i in chunk {
                m.add_create(&format!("{folder}/n{i:04}"), &data, &open).unwrap();
            }
            pending.push(m.commit());
            if pending.len() >= 8 {
                for p in pending.drain(..) {
                    p.await.unwrap();
                }
            }
        }
    }
    for p in pending {
        p.await.unwrap();
    }
}

async fn snapshot(zk: &Client, store: &mut Store, root: &str) -> u64 {
    let id = store
        .begin_snapshot(&NewSnapshot {
            ensemble: "bench".into(),
            root: root.into(),
            include_ephemeral: false,
            started_ms: 1,
            operator: "bench".into(),
            host: "here".into(),
            origin: "cli".into(),
            note: String::new(),
        })
        .await
        .unwrap();
    let mut rx = walk::tree(zk.clone(), WalkOptions { root: root.into(), include_ephemeral: false });
    let (mut digest, mut seq, mut bytes) = (ContentDigest::new(), 0u32, 0u64);
    while let Some(batch) = rx.recv().await {
        let batch = batch.unwrap();
        batch.iter().for_each(|r| {
            digest.push(r);
            bytes += r.data.len() as u64;
        });
        store.insert_znodes(id, seq, &batch).await.unwrap();
        seq += batch.len() as u32;
    }
    let totals = Totals { znodes: seq as u64, bytes, min_zxid: None, max_zxid: None, checksum: digest.finish() };
    store.finish_snapshot(id, 2, &totals).await.unwrap();
    id
}

/// Removes a subtree (deepest first, multi-ops of 1,000 deletes): the sandbox's ZooKeeper has
/// a 256 MB heap, so each run's copy goes before the next one is made.
async fn delete_tree(zk: &Client, root: &str) {
    let mut rx = walk::tree(zk.clone(), WalkOptions { root: root.into(), include_ephemeral: true });
    let mut paths = Vec::new();
    while let Some(batch) = rx.recv().await {
        paths.extend(batch.unwrap().into_iter().map(|r| r.path));
    }
    paths.reverse();
    let mut pending = Vec::new();
    for chunk in paths.chunks(1_000) {
        let mut m = zk.new_multi_writer();
        chunk.iter().for_each(|p| m.add_delete(p, None).unwrap());
        pending.push(m.commit());
        if pending.len() >= 4 {
            for p in pending.drain(..) {
                p.await.unwrap();
            }
        }
    }
    for p in pending {
        p.await.unwrap();
    }
}

fn options(to: &str) -> RestoreOptions {
    RestoreOptions {
        policy: Policy::SkipExisting,
        under: None,
        to: Some(to.into()),
        dry_run: false,
        sample_paths: 0,
        root: "/bench-audit".into(),
        confirm: None,
        actor: Actor { user: "bench".into(), host: "here".into(), ssh_client: None },
        origin: "cli".into(),
        read_only: false,
        unchanged_since: None,
    }
}

/// Peak RSS (KiB) and wall time of `myzoo ARGS` run to completion.
fn peak_rss(home: &std::path::Path, args: &[&str]) -> (i64, Duration, i32) {
    let started = Instant::now();
    // Reaped by wait4 below (which gives its rusage), not by `Child::wait`.
    #[allow(clippy::zombie_processes)]
    let child = isolated_myzoo(home)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter; wait4 on our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert!(rc > 0, "wait4: {}", std::io::Error::last_os_error());
    (usage.ru_maxrss, started.elapsed(), libc::WEXITSTATUS(status))
}

fn zk_shell_present() -> bool {
    let which = std::process::Command::new("sh").args(["-c", "command -v zk-shell"]).output();
    which.is_ok_and(|o| o.status.success())
}

/// `zk-shell HOSTS --run-once CMD`, timed; `None` (with the reason printed) when it fails.
fn zk_shell(zk: &str, cmd: &str) -> Option<Duration> {
    let started = Instant::now();
    let out = std::process::Command::new("zk-shell").args([zk, "--run-once", cmd]).output().ok()?;
    let took = started.elapsed();
    if !out.status.success() {
        println!("  zk-shell {cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    Some(took)
}

fn main() {
    let runs: usize = std::env::var("MYZOO_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async move {
        let sb = Sandbox::start_with(Sandbox::options(true)).await;
        let zk = Client::connector().with_session_timeout(Duration::from_secs(30)).connect(&sb.zk()).await.unwrap();
        let access = StoreAccess::from_config(sb.status.backup_store.as_ref().unwrap()).unwrap();
        let mut store = Store::open(&access, Want::Write).await.unwrap();
        let total = 1 + FOLDERS * (1 + PER_FOLDER);

        let t = Instant::now();
        build(&zk, "/bench", FOLDERS).await;
        println!("tree: {total} znodes of {DATA_BYTES} bytes made in {:.2} s", t.elapsed().as_secs_f64());
        let t = Instant::now();
        let id = snapshot(&zk, &mut store, "/bench").await;
        println!("snapshot {id}: {:.2} s", t.elapsed().as_secs_f64());
        let t = Instant::now();
        store.verify(id).await.unwrap();
        println!("checksum verification alone: {:.2} s", t.elapsed().as_secs_f64());
        // zk-shell's own export of the same tree (not timed), for its import later.
        let shell_dir = tempfile::tempdir().unwrap();
        let shell_file = shell_dir.path().join("export.json").display().to_string().replace('/', "!");
        let shell = zk_shell_present();
        let exported = shell && {
            let zk = sb.zk();
            let cmd = format!("cp /bench json://{shell_file}/ true true");
            tokio::task::spawn_blocking(move || zk_shell(&zk, &cmd)).await.unwrap().is_some()
        };
        // The snapshot is all a restore needs: the source goes, so each run restores into a
        // ZooKeeper holding only that run's copy (the sandbox's server has a 256 MB heap).
        delete_tree(&zk, "/bench").await;

        let mut samples = Vec::new();
        for run in 0..runs {
            let to = format!("/restored-{run}");
            let t = Instant::now();
            let noop = |_: &Progress| {};
            let report =
                restore::restore_snapshot(&zk, &mut store, id, &options(&to), &noop, &CancellationToken::new())
                    .await
                    .unwrap();
            let took = t.elapsed();
            assert_eq!(report.actions.count(Action::Create), total as u64, "{:?}", report.problems);
            println!(
                "  restore_snapshot run {}: {:.2} s ({:.0} znodes/s)",
                run + 1,
                took.as_secs_f64(),
                total as f64 / took.as_secs_f64()
            );
            samples.push(took.as_secs_f64());
            delete_tree(&zk, &to).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        let median = percentile(&mut samples, 0.5);
        println!(
            "restore_snapshot 100k: median {median:.2} s of {runs} (target ≤ {} s): {}",
            TARGET.as_secs(),
            if median <= TARGET.as_secs_f64() { "met" } else { "MISSED" }
        );

        if !shell {
            println!("zk-shell import (peer): skipped, zk-shell is not installed (pip install zk-shell)");
        } else if exported {
            let zk_text = sb.zk();
            let cmd = format!("cp json://{shell_file}/ /zkshell-copy true true true");
            if let Some(took) = tokio::task::spawn_blocking(move || zk_shell(&zk_text, &cmd)).await.unwrap() {
                let n = zk.count_descendants_number("/zkshell-copy").await.unwrap_or(0);
                println!("zk-shell import (peer): {:.2} s for {} znodes", took.as_secs_f64(), n + 1);
                delete_tree(&zk, "/zkshell-copy").await;
            }
        }

        // Peak RSS of the real binary, plan + run, at 10k and 100k.
        build(&zk, "/bench10k", 10).await;
        let id10k = snapshot(&zk, &mut store, "/bench10k").await;
        delete_tree(&zk, "/bench10k").await;
        let home = tempfile::tempdir().unwrap();
        let b = sb.status.backup_store.as_ref().unwrap();
        let hosts: Vec<String> = b.hosts.iter().map(|h| format!("{h:?}")).collect();
        std::fs::write(
            home.path().join("config.toml"),
            format!(
                "default_profile = \"b\"\n[profiles.b]\nzk = {:?}\nroot = \"/bench-audit\"\n[profiles.b.backup_store]\n\
                 hosts = [{}]\ndatabase = {:?}\nuser = {:?}\npassword_file = {:?}\n",
                sb.zk(),
                hosts.join(", "),
                b.database,
                b.user,
                b.password_file.as_ref().unwrap().display().to_string()
            ),
        )
        .unwrap();
        for (label, snap, to) in [("10k", id10k, "/rss-10k"), ("100k", id, "/rss-100k")] {
            let (rss, took, code) =
                peak_rss(home.path(), &["zk-backup", "restore", &snap.to_string(), "--to", to, "--yes", "--json"]);
            println!(
                "myzoo zk-backup restore {label} (plan + run): peak RSS {:.1} MiB, {:.2} s, exit {code}",
                rss as f64 / 1024.0,
                took.as_secs_f64()
            );
            delete_tree(&zk, to).await;
        }
    });
}
