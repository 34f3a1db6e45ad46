//! `myzoo mysql-backup` against a real cluster (three MariaDB servers, ZooKeeper, agents):
//! the source choice, a dump that restores to the same tables and GTID, verify (and a
//! corrupted file failing it), cancellation, the history record, and the CLI with `--json`.
//! One cluster for every step (it takes a while to start), in order.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use myzoo::backup::dump::{self, DumpOptions, DumpProgress, DumpRecord, DumpState, VerifyOptions};
use myzoo::backup::{Store, StoreAccess, Want};
use myzoo::sandbox;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use common::cluster::{Fixture, WAIT};

/// Rows of the table that makes a dump last long enough to cancel.
const BIG_ROWS: u64 = 200_000;

fn require_tools() {
    for tool in ["mariadb-dump", "mariadb"] {
        let found = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
            .unwrap_or(false);
        assert!(found, "{tool} is not on PATH: install the Debian package mariadb-client to run these tests");
    }
}

fn access(fx: &Fixture) -> StoreAccess {
    let cfg = fx.sb.status.backup_store.as_ref().expect("the sandbox has a backup store");
    StoreAccess::from_config(cfg).expect("store access")
}

fn options(fx: &Fixture, out: &Path, node: Option<&str>) -> DumpOptions {
    DumpOptions {
        cluster: sandbox::CLUSTER.into(),
        node: node.map(str::to_string),
        out_dir: out.to_path_buf(),
        keep: None,
        tool: None,
        access: access(fx),
        operator: "tester".into(),
        host: "test".into(),
        origin: "cli".into(),
    }
}

async fn admin(fx: &Fixture, node: &str) -> Conn {
    sandbox::mariadb::connect_as(fx.port(node), &fx.creds.admin).await.expect("admin connection")
}

async fn create(fx: &Fixture, out: &Path, node: Option<&str>) -> Result<DumpRecord, dump::DumpError> {
    let mut store = Store::open(&access(fx), Want::Write).await.expect("store");
    let quiet = |_: &DumpProgress| {};
    dump::create(&fx.zk, "/myzoo", &options(fx, out, node), Some(&mut store), &quiet, &CancellationToken::new()).await
}

/// Waits until both replicas applied everything the primary has now.
async fn wait_replicas(fx: &Fixture) {
    let pos: String = fx.root("db1").await.query_first("SELECT @@gtid_binlog_pos").await.unwrap().unwrap();
    for node in ["db2", "db3"] {
        let done: Option<i64> =
            fx.root(node).await.exec_first("SELECT MASTER_GTID_WAIT(?, 30)", (pos.clone(),)).await.unwrap();
        assert_eq!(done, Some(0), "{node} did not reach {pos}");
    }
}

/// Waits until `node`'s agent publishes its SQL thread as `running` ("Yes"/"No").
async fn wait_sql_thread(fx: &Fixture, node: &str, running: &str) {
    let path = format!("{}/{node}", fx.paths.nodes_dir());
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok((data, _)) = fx.zk.get_data(&path).await {
            let v: Value = serde_json::from_slice(&data).unwrap_or(Value::Null);
            if v["replication"]["sql_running"] == running {
                return;
            }
        }
        assert!(Instant::now() < deadline, "{node}'s agent never reported its SQL thread {running}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn app_tables(conn: &mut Conn) -> Vec<String> {
    conn.query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'app' AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1")
        .await
        .unwrap()
}

async fn seed_app(fx: &Fixture) {
    let mut c = admin(fx, "db1").await;
    for sql in [
        "CREATE DATABASE IF NOT EXISTS app",
        "USE app",
        "CREATE TABLE app.kinds (id INT PRIMARY KEY, b BLOB, u VARCHAR(100) CHARACTER SET utf8mb4, n INT NULL, \
         d DECIMAL(12,4), t DATETIME(3), f DOUBLE) ENGINE=InnoDB",
        "CREATE TABLE app.nopk (k VARCHAR(20), v TEXT) ENGINE=InnoDB",
        "CREATE TABLE app.audit (id INT AUTO_INCREMENT PRIMARY KEY, kind_id INT, at DATETIME) ENGINE=InnoDB",
        "CREATE TRIGGER app.kinds_ai AFTER INSERT ON app.kinds FOR EACH ROW INSERT INTO app.audit (kind_id, at) VALUES (NEW.id, '2026-01-01')",
        "CREATE VIEW app.kinds_view AS SELECT id, u FROM app.kinds WHERE n IS NULL",
        "CREATE PROCEDURE app.count_kinds(OUT c INT) SELECT COUNT(*) INTO c FROM app.kinds",
        "CREATE EVENT app.nightly ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM app.audit WHERE at < '2000-01-01'",
    ] {
        c.query_drop(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    c.exec_drop(
        "INSERT INTO app.kinds VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            1,
            vec![0u8, 255, 39, 92, 10, 13, 26, 40, 41, 59],
            "it's \"quoted\" \\ and ( ) ; é ü 日本 🦀",
            None::<i32>,
            "1.5000",
            "2026-11-28 10:00:00.123",
            0.1,
        ),
    )
    .await
    .unwrap();
    c.exec_drop(
        "INSERT INTO app.kinds VALUES (?, ?, ?, ?, ?, ?, ?)",
        (2, Vec::<u8>::new(), "", Some(7), "-3.2500", "1999-12-31 23:59:59.999", -1e300),
    )
    .await
    .unwrap();
    c.query_drop("INSERT INTO app.kinds (id, b, u, n) SELECT seq + 10, UNHEX(MD5(seq)), CONCAT('row ', seq, ' ''x'''), IF(seq % 3 = 0, NULL, seq) FROM seq_1_to_500")
        .await
        .unwrap();
    c.query_drop("INSERT INTO app.nopk VALUES ('a', 'one'), ('a', 'one'), (NULL, 'two\\nlines'), ('b', NULL)")
        .await
        .unwrap();
    wait_replicas(fx).await;
}

fn file_exists(p: &Path) -> bool {
    std::fs::metadata(p).is_ok()
}

fn partials(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.to_string_lossy().ends_with(".partial")).collect()
        })
        .unwrap_or_default()
}

async fn history_record(fx: &Fixture, path: &str) -> Value {
    let (data, _) = fx.zk.get_data(path).await.expect("history record");
    serde_json::from_slice(&data).expect("json")
}

fn write_config(home: &Path, fx: &Fixture) -> PathBuf {
    let store = fx.sb.status.backup_store.as_ref().unwrap();
    let hosts: Vec<String> = store.hosts.iter().map(|h| format!("{h:?}")).collect();
    let cfg = format!(
        "default_profile = \"sandbox\"\n\n[profiles.sandbox]\nzk = {:?}\n\n[profiles.sandbox.backup_store]\nhosts = [{}]\n\
         database = {:?}\nuser = {:?}\npassword_file = {:?}\n",
        fx.sb.zk(),
        hosts.join(", "),
        store.database,
        store.user,
        store.password_file.as_ref().unwrap().display().to_string(),
    );
    let path = home.join("config.toml");
    std::fs::write(&path, cfg).unwrap();
    path
}

fn myzoo(home: &Path, args: &[&str]) -> Output {
    common::isolated_myzoo(home).env_remove("MYZOO_BACKUP_PASSWORD").args(args).output().expect("run myzoo")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dumps_restore_verify_cancel_and_cli() {
    require_tools();
    let fx = Fixture::start().await;
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path();
    seed_app(&fx).await;
    for node in ["db2", "db3"] {
        fx.wait_replicating(node, "db1").await;
        wait_sql_thread(&fx, node, "Yes").await;
    }

    // 1. The default source is a replica, never the primary.
    let first = create(&fx, out, None).await.expect("dump");
    assert_eq!(first.state, DumpState::Complete, "{:?}", first.error);
    assert!(first.node == "db2" || first.node == "db3", "dumped {}", first.node);
    assert_eq!(first.role, "replica");
    assert!(file_exists(&first.file) && partials(out).is_empty());
    let side = std::fs::read_to_string(format!("{}.sha256", first.file.display())).unwrap();
    assert_eq!(
        side,
        format!("{}  {}\n", first.checksum.as_deref().unwrap(), first.file.file_name().unwrap().to_string_lossy())
    );
    assert_eq!(first.tables["app.kinds"].rows, 502);
    assert_eq!(first.tables["app.nopk"].rows, 4);
    assert_eq!(first.tables["app.audit"].rows, 502);
    assert!(first.databases.contains(&"app".to_string()) && !first.databases.contains(&"myzoo_backup".to_string()));
    assert!(first.gtid_position.is_some() && first.raw_bytes > first.bytes && first.bytes > 0);
    let hist = history_record(&fx, first.history.as_deref().expect("history path")).await;
    assert_eq!((hist["operation"].as_str(), hist["state"].as_str()), (Some("mysql-backup"), Some("complete")));
    assert_eq!(hist["dump_id"].as_u64(), first.id);
    // Readers of operation records are not disturbed by it.
    let ops = myzoo::failover::journal::list(&fx.zk, &fx.paths, 10).await.expect("journal list");
    assert!(ops.is_empty(), "{ops:?}");

    // 2. --node names the primary.
    let primary = create(&fx, out, Some("db1")).await.expect("dump of the primary");
    assert_eq!((primary.node.as_str(), primary.role.as_str(), primary.state), ("db1", "primary", DumpState::Complete));

    // 3. A replica whose SQL thread is stopped is not chosen; with it frozen, a dump of it (by
    // name) records its exact GTID position and restores to the same tables.
    fx.root("db2").await.query_drop("STOP SLAVE SQL_THREAD").await.unwrap();
    wait_sql_thread(&fx, "db2", "No").await;
    let chosen = create(&fx, out, None).await.expect("dump");
    assert_eq!(chosen.node, "db3");
    let frozen_pos: String = fx.root("db2").await.query_first("SELECT @@gtid_current_pos").await.unwrap().unwrap();
    let frozen = create(&fx, out, Some("db2")).await.expect("dump of db2");
    assert_eq!(frozen.state, DumpState::Complete);
    assert_eq!(frozen.gtid_position.as_deref(), Some(frozen_pos.as_str()));
    let quiet = |_: &DumpProgress| {};
    let report = dump::verify::verify_record(&frozen, &VerifyOptions::default(), &quiet, &CancellationToken::new())
        .await
        .expect("verify");
    assert!(report.ok, "{:?}", report.problems);
    let mut src = fx.root("db2").await;
    for table in app_tables(&mut src).await {
        let name = format!("app.{table}");
        let count: Option<u64> = src.query_first(format!("SELECT COUNT(*) FROM app.`{table}`")).await.unwrap();
        let sum: Option<(String, Option<u64>)> =
            src.query_first(format!("CHECKSUM TABLE app.`{table}`")).await.unwrap();
        let check = report.tables.iter().find(|t| t.table == name).unwrap_or_else(|| panic!("{name} not verified"));
        assert_eq!(check.count, count, "{name} rows");
        assert_eq!(check.checksum_table, sum.and_then(|s| s.1), "{name} CHECKSUM TABLE");
    }
    drop(src);
    fx.root("db2").await.query_drop("START SLAVE SQL_THREAD").await.unwrap();
    wait_sql_thread(&fx, "db2", "Yes").await;

    // 4. A corrupted file fails verify by its checksum (before any restore).
    let mut bytes = std::fs::read(&first.file).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&first.file, &bytes).unwrap();
    let mut store = Store::open(&access(&fx), Want::Read).await.unwrap();
    let bad = dump::verify(
        &mut store,
        sandbox::CLUSTER,
        first.id,
        &VerifyOptions::default(),
        &quiet,
        &CancellationToken::new(),
    )
    .await
    .expect("verify ran");
    assert!(!bad.ok && !bad.checksum_ok && !bad.restored);
    assert!(bad.problems[0].contains("checksum mismatch"), "{:?}", bad.problems);

    // 5. A dump cancelled midway leaves no partial file and records `cancelled`.
    let mut c = admin(&fx, "db1").await;
    c.query_drop("USE app").await.unwrap();
    c.query_drop("CREATE TABLE app.big (id INT AUTO_INCREMENT PRIMARY KEY, pad VARCHAR(400)) ENGINE=InnoDB")
        .await
        .unwrap();
    c.query_drop("INSERT INTO app.big (pad) SELECT REPEAT(MD5(seq), 10) FROM seq_1_to_1000").await.unwrap();
    let mut rows = 1_000;
    while rows < BIG_ROWS {
        c.query_drop("INSERT INTO app.big (pad) SELECT REPEAT(MD5(id + RAND()), 10) FROM app.big").await.unwrap();
        rows *= 2;
    }
    wait_replicas(&fx).await;
    let cancel = CancellationToken::new();
    let seen = std::sync::Mutex::new(0u64);
    let on_progress = |p: &DumpProgress| {
        *seen.lock().unwrap() = p.progress.bytes;
        if p.progress.bytes > 1 << 20 {
            cancel.cancel();
        }
    };
    let mut store = Store::open(&access(&fx), Want::Write).await.unwrap();
    let started = Instant::now();
    let cancelled = dump::create(&fx.zk, "/myzoo", &options(&fx, out, None), Some(&mut store), &on_progress, &cancel)
        .await
        .expect("dump started");
    assert!(cancel.is_cancelled(), "the dump ended ({:?}) before it could be cancelled", started.elapsed());
    assert_eq!(cancelled.state, DumpState::Cancelled);
    assert!(partials(out).is_empty() && !file_exists(&cancelled.file));
    let listed = dump::list(&mut store, sandbox::CLUSTER).await.unwrap();
    let row = listed.iter().find(|d| d.id == cancelled.id).expect("row");
    assert_eq!(row.state, DumpState::Cancelled);
    let hist = history_record(&fx, cancelled.history.as_deref().unwrap()).await;
    assert_eq!(hist["state"], "cancelled");
    c.query_drop("DROP TABLE app.big").await.unwrap();
    wait_replicas(&fx).await;

    // 6. The CLI: create (with --keep), list, verify, refusal.
    let home = tempfile::tempdir().unwrap();
    write_config(home.path(), &fx);
    let cli_out = home.path().join("dumps");
    let o = myzoo(
        home.path(),
        &[
            "mysql-backup",
            "create",
            "--cluster",
            "sandbox",
            "--out",
            cli_out.to_str().unwrap(),
            "--keep",
            "2",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let made = json(&o);
    assert_eq!(made["state"], "complete");
    assert!(made["node"] == "db2" || made["node"] == "db3");
    assert!(!made["removed"].as_array().unwrap().is_empty(), "--keep 2 removed nothing: {made}");
    let o = myzoo(home.path(), &["mysql-backup", "list", "--cluster", "sandbox", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let list = json(&o);
    let complete: Vec<&Value> = list.as_array().unwrap().iter().filter(|d| d["state"] == "complete").collect();
    assert_eq!(complete.len(), 2, "{list}");
    assert_eq!(complete[0]["id"], made["id"]);
    assert!(list.as_array().unwrap().iter().any(|d| d["state"] == "cancelled"));
    let o = myzoo(home.path(), &["mysql-backup", "verify", "--cluster", "sandbox", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&o);
    assert_eq!((v["ok"].as_bool(), v["id"].clone()), (Some(true), made["id"].clone()));
    let o = myzoo(home.path(), &["mysql-backup", "create", "--cluster", "sandbox", "--node", "db9", "--json"]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(json(&o)["result"], "refused");
    let o =
        myzoo(home.path(), &["mysql-backup", "verify", "--cluster", "sandbox", "--id", &first.id.unwrap().to_string()]);
    // The first dump was removed by --keep: nothing to verify.
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
}
