//! Logical dump throughput on a real sandbox (ZooKeeper, a MariaDB primary and two GTID
//! replicas, one agent per server): the product's `backup::dump::create` — choosing the
//! replica, dumping, compressing with zstd on its own thread, hashing, scanning every row,
//! recording in the backup store and the history — against a plain
//! `mariadb-dump … | zstd -3` of the same replica with the same options, alternating, in the
//! same run. Prints MB/s (raw SQL bytes per second of wall time) for both, medians of the
//! runs, and the product's overhead (target: at most 5 %).
//! Run: `cargo bench --bench mysql_backup`.
//!
//! `MYZOO_BENCH_DUMP_MB` sets the data size (default 1024: 1 GB of ~1 KB rows in `app.bulk`,
//! made by doubling with `INSERT … SELECT`; 100 for a quick run); `MYZOO_BENCH_RUNS` the runs
//! of each (default 3).

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use myzoo::backup::dump::{self, tool, DumpOptions, DumpProgress, DumpState};
use myzoo::backup::{Store, StoreAccess, Want};
use myzoo::cluster::status::Flavor;
use myzoo::sandbox;
use support::percentile;
use tokio_util::sync::CancellationToken;
use zookeeper_client::Client;

const AGENT_INTERVAL_MS: u64 = 250;
const SESSION_TIMEOUT_MS: u64 = 10_000;
/// Bytes of one row's payload (hex text: compresses about as well as real data does).
const ROW_PAD_BYTES: usize = 960;
/// Rows made with random payloads before the doubling starts: copies of them sit megabytes
/// apart, beyond zstd level 3's window, so they compress no better than the originals.
const SEED_ROWS: u64 = 16_384;
const TARGET_OVERHEAD: f64 = 0.05;
/// Longest wait for the replicas to apply the generated data.
const CATCH_UP_S: u64 = 1_800;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn mb_per_s(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / 1e6 / secs
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let target_mb = env_u64("MYZOO_BENCH_DUMP_MB", 1024);
    let runs = env_u64("MYZOO_BENCH_RUNS", 3).max(1) as usize;
    let sb = common::Sandbox::with_agents(AGENT_INTERVAL_MS, SESSION_TIMEOUT_MS).await;
    let creds = sandbox::credentials(sb.dir.path()).expect("credentials");
    let port = |n: &str| sb.status.mysql.iter().find(|m| m.name == n).expect("node").port;

    // The data: ~1 KB rows, doubled until the table holds the target size.
    let made = Instant::now();
    let mut c = sandbox::mariadb::connect_as(port("db1"), &creds.admin).await.expect("admin");
    c.query_drop("CREATE DATABASE IF NOT EXISTS app").await.unwrap();
    c.query_drop("USE app").await.unwrap();
    c.query_drop(
        "CREATE TABLE app.bulk (id BIGINT AUTO_INCREMENT PRIMARY KEY, n INT, pad VARCHAR(1000)) ENGINE=InnoDB",
    )
    .await
    .unwrap();
    // Distinct hex in every 32 bytes: compresses about 2:1, like real data, not 30:1.
    let pad = vec!["MD5(RAND())"; ROW_PAD_BYTES / 32].join(", ");
    c.query_drop(format!("INSERT INTO app.bulk (n, pad) SELECT seq, CONCAT({pad}) FROM seq_1_to_{SEED_ROWS}"))
        .await
        .unwrap();
    let mut rows = SEED_ROWS;
    let target_rows = target_mb * 1_000_000 / (ROW_PAD_BYTES as u64 + 40);
    while rows < target_rows {
        let add = rows.min(target_rows - rows);
        c.query_drop(format!("INSERT INTO app.bulk (n, pad) SELECT n + {rows}, pad FROM app.bulk LIMIT {add}"))
            .await
            .unwrap();
        rows += add;
    }
    let pos: String = c.query_first("SELECT @@gtid_binlog_pos").await.unwrap().unwrap();
    for n in ["db2", "db3"] {
        let mut r = sandbox::mariadb::connect_root(port(n)).await.unwrap();
        let done: Option<i64> = r.exec_first("SELECT MASTER_GTID_WAIT(?, ?)", (pos.clone(), CATCH_UP_S)).await.unwrap();
        assert_eq!(done, Some(0), "{n} did not apply the data");
    }
    println!(
        "data: {rows} rows (~{target_mb} MB) in app.bulk, made and replicated in {:.1} s",
        made.elapsed().as_secs_f64()
    );
    // Let the agents publish fresh statuses after the load.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let store_cfg = sb.status.backup_store.clone().expect("backup store");
    let access = StoreAccess::from_config(&store_cfg).expect("store access");
    let zk = Client::connect(&sb.zk()).await.expect("zk");
    let out = tempfile::tempdir().expect("temp dir");
    let opts = DumpOptions {
        cluster: sandbox::CLUSTER.into(),
        node: None,
        out_dir: out.path().to_path_buf(),
        keep: None,
        tool: None,
        access: access.clone(),
        operator: "bench".into(),
        host: "bench".into(),
        origin: "bench".into(),
    };
    let program = tool::dump_tool(None, Flavor::Mariadb).expect("mariadb-dump");
    let mut product = Vec::new();
    let mut plain = Vec::new();
    let mut raw_bytes = 0;
    let mut node = String::new();
    let quiet = |_: &DumpProgress| {};
    for run in 0..runs {
        // The product, with the store recording it.
        let mut store = Store::open(&access, Want::Write).await.expect("store");
        let t = Instant::now();
        let d = dump::create(&zk, "/myzoo", &opts, Some(&mut store), &quiet, &CancellationToken::new())
            .await
            .expect("dump");
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(d.state, DumpState::Complete, "{:?}", d.error);
        raw_bytes = d.raw_bytes;
        node = d.node.clone();
        println!(
            "run {}: product  {:>7.1} MB/s  ({:.2} s, {} → {} bytes, {} tables, from {})",
            run + 1,
            mb_per_s(d.raw_bytes, secs),
            secs,
            d.raw_bytes,
            d.bytes,
            d.tables.len(),
            d.node
        );
        product.push(secs);
        let _ = std::fs::remove_file(&d.file);
        let _ = std::fs::remove_file(format!("{}.sha256", d.file.display()));

        // The peer: the same program and options on the same replica, piped into zstd.
        let args = tool::dump_args(Flavor::Mariadb, "127.0.0.1", port(&node), &access.user, &d.databases, &[]);
        let file = out.path().join("plain.sql.zst");
        let script = format!("\"$0\" \"$@\" | zstd -3 -q -f -o {}", file.display());
        let t = Instant::now();
        let status = Command::new("sh")
            .arg("-c")
            .arg(&script)
            .arg(&program)
            .args(&args)
            .env(tool::PASSWORD_ENV, access.password.clone().unwrap_or_default())
            .stdin(Stdio::null())
            .status()
            .expect("run mariadb-dump | zstd");
        let secs = t.elapsed().as_secs_f64();
        assert!(status.success(), "mariadb-dump | zstd failed: {status}");
        let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        println!(
            "run {}: plain    {:>7.1} MB/s  ({:.2} s, {size} bytes compressed)",
            run + 1,
            mb_per_s(raw_bytes, secs),
            secs
        );
        plain.push(secs);
        let _ = std::fs::remove_file(&file);
    }
    let p = percentile(&mut product, 0.5);
    let q = percentile(&mut plain, 0.5);
    let overhead = p / q - 1.0;
    println!();
    println!("dump of {node}, {raw_bytes} raw bytes, median of {runs} runs each:");
    println!("  product (backup::dump::create, store + history)  {:>7.1} MB/s  {:.2} s", mb_per_s(raw_bytes, p), p);
    println!("  plain   (mariadb-dump | zstd -3)                 {:>7.1} MB/s  {:.2} s", mb_per_s(raw_bytes, q), q);
    println!(
        "  overhead {:+.1} % (target ≤ {:.0} %): {}",
        overhead * 100.0,
        TARGET_OVERHEAD * 100.0,
        if overhead <= TARGET_OVERHEAD { "met" } else { "MISSED" }
    );
}
