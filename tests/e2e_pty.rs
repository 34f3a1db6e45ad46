//! End to end through a pseudo-terminal: the real binary against a real ZooKeeper. Waits for
//! text on screen before each key, opens a JSON znode, quits, and checks the terminal was
//! restored (alternate screen left, cursor shown, raw mode off).

mod common;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, CommandBuilder, PtySize};
use zookeeper_client::{Acls, Client, CreateMode};

const ROWS: u16 = 30;
const COLS: u16 = 100;

struct Screen {
    parser: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
}

impl Screen {
    fn text(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    fn wait_for(&self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.text().contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("timed out waiting for {needle:?}; screen:\n{}", self.text());
    }

    fn wait_until_gone(&self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if !self.text().contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{needle:?} still on screen:\n{}", self.text());
    }
}

type Child = Box<dyn portable_pty::Child + Send + Sync>;

/// Runs the real binary against the sandbox in a pseudo-terminal, mirroring its output into
/// a vt100 screen and a raw byte log.
/// The master side must outlive the test: dropping it hangs up the console's terminal.
type Master = Box<dyn portable_pty::MasterPty + Send>;

fn spawn_console(sb: &common::Sandbox) -> (Child, Screen, Box<dyn Write + Send>, Master) {
    let pty = native_pty_system();
    let pair = pty.openpty(PtySize { rows: ROWS, cols: COLS, pixel_width: 0, pixel_height: 0 }).unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_myzoo"));
    cmd.args(["--zk", &sb.zk(), "--log-file"]);
    cmd.arg(sb.dir.path().join("console.log"));
    cmd.env("MYZOO_CONFIG", sb.dir.path().join("config.toml"));
    // Drafts and logs go to the test's own folder, never the real user's home (portable-pty
    // starts the child in $HOME, so it must exist).
    std::fs::create_dir_all(sb.dir.path().join("home")).unwrap();
    cmd.cwd(sb.dir.path());
    cmd.env("HOME", sb.dir.path().join("home"));
    cmd.env("XDG_STATE_HOME", sb.dir.path().join("state"));
    cmd.env("XDG_CONFIG_HOME", sb.dir.path().join("config"));
    cmd.env("TERM", "xterm-256color");
    let child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let writer = pair.master.take_writer().unwrap();
    let screen = Screen {
        parser: Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0))),
        raw: Arc::new(Mutex::new(Vec::new())),
    };
    let (parser, raw) = (screen.parser.clone(), screen.raw.clone());
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            parser.lock().unwrap().process(&buf[..n]);
            raw.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });

    (child, screen, writer, pair.master)
}

fn wait_exit(child: &mut Child) -> portable_pty::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(Instant::now() < deadline, "console did not exit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The terminal is back to normal: the alternate screen was left and the cursor shown again
/// after the last time the console entered it.
fn assert_restored(screen: &Screen) {
    std::thread::sleep(Duration::from_millis(200));
    let raw = screen.raw.lock().unwrap().clone();
    let text = String::from_utf8_lossy(&raw);
    let entered = text.rfind("\x1b[?1049h").expect("entered the alternate screen");
    let left = text.rfind("\x1b[?1049l").expect("left the alternate screen");
    assert!(left > entered, "alternate screen not left at the end");
    assert!(text.rfind("\x1b[?25h").is_some_and(|s| s > entered), "cursor not shown again");
    assert!(!screen.parser.lock().unwrap().screen().alternate_screen(), "still on the alternate screen");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_exits_cleanly_and_restores_the_terminal() {
    let sb = common::Sandbox::zk_only().await;
    let (mut child, screen, _writer, _master) = spawn_console(&sb);
    screen.wait_for("connected", Duration::from_secs(15));
    let pid = child.process_id().expect("pid") as i32;
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let status = wait_exit(&mut child);
    assert!(status.success(), "exit status {status:?}");
    assert_restored(&screen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browse_open_json_and_quit_restores_the_terminal() {
    let sb = common::Sandbox::zk_only().await;
    let zk = Client::connect(&sb.zk()).await.unwrap();
    let p = CreateMode::Persistent.with_acls(Acls::anyone_all());
    for path in ["/myzoo", "/myzoo/clusters", "/myzoo/clusters/sandbox"] {
        zk.create(path, b"", &p).await.unwrap();
    }
    zk.create("/myzoo/clusters/sandbox/config", br#"{"name":"sandbox","tier":"development"}"#, &p).await.unwrap();

    let (mut child, screen, mut writer, _master) = spawn_console(&sb);

    // A cluster exists, so the cluster screen comes first; it has no primary record.
    screen.wait_for("connected", Duration::from_secs(15));
    screen.wait_for("Cluster sandbox", Duration::from_secs(10));
    screen.wait_for("no primary recorded", Duration::from_secs(10));
    let mut send = |keys: &[u8]| {
        writer.write_all(keys).unwrap();
        writer.flush().unwrap();
    };
    // The znode tree is one key away; start-up selected the profile root, /myzoo, and opened it.
    send(b"2");
    screen.wait_for("clusters", Duration::from_secs(10));
    send(b"j"); // /myzoo/clusters
    send(b"l"); // expand it
    screen.wait_for("sandbox", Duration::from_secs(10));
    send(b"jl"); // sandbox, expand
    screen.wait_for("config", Duration::from_secs(10));
    send(b"j"); // config
    screen.wait_for("\"tier\": \"development\"", Duration::from_secs(10));
    screen.wait_for("Data json", Duration::from_secs(5));
    send(b"?");
    screen.wait_for("esc/?/q closes", Duration::from_secs(5));
    send(b"\x1b");
    // Esc and q sent together would read as alt-q: wait for the help to close first.
    screen.wait_until_gone("esc/?/q closes", Duration::from_secs(5));
    send(b"q");

    let status = wait_exit(&mut child);
    assert!(status.success(), "exit status {status:?}");
    assert_restored(&screen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_a_cluster_config_and_read_it_back() {
    let sb = common::Sandbox::zk_only().await;
    let zk = Client::connect(&sb.zk()).await.unwrap();
    let p = CreateMode::Persistent.with_acls(Acls::anyone_all());
    for path in ["/myzoo", "/myzoo/clusters", "/myzoo/clusters/sandbox"] {
        zk.create(path, b"", &p).await.unwrap();
    }
    let config = "{\n  \"schema\": 1,\n  \"tier\": \"development\",\n  \"name\": \"sandbox\",\n  \"nodes\": [{\"name\": \"db1\", \"host\": \"127.0.0.1\", \"port\": 3306}]\n}\n";
    zk.create("/myzoo/clusters/sandbox/config", config.as_bytes(), &p).await.unwrap();

    let (mut child, screen, mut writer, _master) = spawn_console(&sb);
    screen.wait_for("Cluster sandbox", Duration::from_secs(15));
    let mut send = |keys: &[u8]| {
        writer.write_all(keys).unwrap();
        writer.flush().unwrap();
    };
    send(b":goto /myzoo/clusters/sandbox/config\r");
    screen.wait_for("Znode /myzoo/clusters/sandbox/config", Duration::from_secs(10));
    send(b"e");
    screen.wait_for("Edit /myzoo/clusters/sandbox/config", Duration::from_secs(10));
    screen.wait_for("valid JSON", Duration::from_secs(5));
    // Line 3 is the tier: go there, replace "development" with "staging".
    send(b"\x1b[B");
    send(b"\x1b[B");
    send(b"\x1b[F"); // End
    for _ in 0.."development\",".len() {
        send(b"\x7f");
    }
    send(b"staging\",");
    screen.wait_for("\"tier\": \"staging\",", Duration::from_secs(5));
    // The unsaved edit is kept as a draft (written on the next tick) in this ensemble's
    // folder under the test's own state folder.
    let drafts = myzoo::console::draft::ensemble_dir(&sb.dir.path().join("state/myzoo/drafts"), &sb.zk());
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while myzoo::console::draft::load(&drafts, "/myzoo/clusters/sandbox/config").ok().flatten().is_none() {
        assert!(std::time::Instant::now() < deadline, "no draft in {}", drafts.display());
        std::thread::sleep(Duration::from_millis(50));
    }
    let label = std::fs::read_to_string(drafts.join(myzoo::console::draft::ENSEMBLE_LABEL_FILE)).unwrap();
    assert_eq!(label.trim(), sb.zk());
    send(b"\x13"); // ctrl-s
    screen.wait_for("Review the change", Duration::from_secs(5));
    send(b"y");
    screen.wait_for("saved /myzoo/clusters/sandbox/config (version 1)", Duration::from_secs(10));

    // Another client reads the new value; the audit log says who did it.
    let (data, stat) = zk.get_data("/myzoo/clusters/sandbox/config").await.unwrap();
    assert_eq!(stat.version, 1);
    let text = String::from_utf8(data).unwrap();
    assert!(text.contains("\"tier\": \"staging\"") && text.contains("\"name\": \"sandbox\""), "{text}");
    let audit = myzoo::audit::list(&zk, "/myzoo", 10, Some("/myzoo/clusters/sandbox/config")).await.unwrap();
    let (_, record) = audit.first().expect("an audit record for the save");
    assert_eq!((record.action.as_str(), record.result.as_str(), record.origin.as_str()), ("set", "ok", "console"));
    assert_eq!((record.version_before, record.version_after), (Some(0), Some(1)));

    send(b"q");
    let status = wait_exit(&mut child);
    assert!(status.success(), "exit status {status:?}");
    assert_restored(&screen);
}
