//! End to end through a pseudo-terminal: the real binary against a real ZooKeeper (one server
//! for the whole file; each test works in a chroot of its own). Before each key a test waits
//! for the state that key needs — a header badge, a tree row that only exists once its znode
//! is read, the selection in the znode pane's title — never for text on screen anyway. Every
//! way out (q, SIGTERM, SIGINT, SIGHUP, a panic) is checked to restore the terminal: alternate
//! screen left, cursor shown, and raw mode off as the pty's own termios says.

mod common;

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use myzoo::console::runtime::{TEST_PANIC_KEY_ENV, TEST_PANIC_MESSAGE};
use myzoo::console::strings;
use myzoo::zk::SessionBadge;
use portable_pty::{native_pty_system, CommandBuilder, MasterPty, PtySize};
use zookeeper_client::{Acls, Client, CreateMode};

const ROWS: u16 = 30;
const COLS: u16 = 100;
/// Longest any awaited screen may take (start-up, ZooKeeper reads) on a loaded machine.
const WAIT: Duration = Duration::from_secs(20);
/// Longest the console may take to exit once told to.
const EXIT_WAIT: Duration = Duration::from_secs(15);
/// Pause between two looks at the screen.
const POLL: Duration = Duration::from_millis(25);

/// The real binary in a pseudo-terminal, its output mirrored into a vt100 screen and a raw
/// byte log, with a home of its own.
struct Console {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    parser: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    /// Set when the reader saw the end of the output (the console and its terminal are gone).
    eof: Arc<AtomicBool>,
    writer: Box<dyn Write + Send>,
    /// Must outlive the test: dropping it hangs up the console's terminal.
    master: Box<dyn MasterPty + Send>,
    home: tempfile::TempDir,
}

impl Console {
    fn start(connect: &str) -> Console {
        Self::start_with(connect, &[])
    }

    fn start_with(connect: &str, env: &[(&str, &str)]) -> Console {
        let home = tempfile::Builder::new().prefix("myzoo-pty-").tempdir().expect("home folder");
        let pair = native_pty_system()
            .openpty(PtySize { rows: ROWS, cols: COLS, pixel_width: 0, pixel_height: 0 })
            .expect("open a pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_myzoo"));
        cmd.args(["--zk", connect, "--log-file"]);
        cmd.arg(home.path().join("console.log"));
        // The same isolation as `common::isolated_myzoo`: config, state, drafts and $HOME in
        // the test's own folder, nothing inherited that changes connection, logs or colours.
        for (key, value) in common::isolated_myzoo(home.path()).get_envs() {
            match value {
                Some(v) => cmd.env(key, v),
                None => cmd.env_remove(key),
            }
        }
        cmd.cwd(home.path());
        cmd.env("TERM", "xterm-256color");
        for (key, value) in env {
            cmd.env(key, value);
        }
        let child = pair.slave.spawn_command(cmd).expect("spawn the console");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let writer = pair.master.take_writer().expect("pty writer");
        let parser = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let eof = Arc::new(AtomicBool::new(false));
        let (p, r, e) = (parser.clone(), raw.clone(), eof.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            // Ends with EIO once the console has exited and its side of the pty is closed.
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                p.lock().unwrap().process(&buf[..n]);
                r.lock().unwrap().extend_from_slice(&buf[..n]);
            }
            e.store(true, Ordering::SeqCst);
        });
        Console { child, parser, raw, eof, writer, master: pair.master, home }
    }

    fn pid(&self) -> i32 {
        self.child.process_id().expect("console pid") as i32
    }

    fn send(&mut self, keys: &[u8]) {
        self.writer.write_all(keys).expect("write to the pty");
        self.writer.flush().expect("flush the pty");
    }

    /// The screen, one string per row.
    fn rows(&self) -> Vec<String> {
        let parser = self.parser.lock().unwrap();
        let (_, cols) = parser.screen().size();
        parser.screen().rows(0, cols).collect()
    }

    fn shown(&self) -> String {
        self.rows().iter().enumerate().map(|(i, r)| format!("{i:2}|{r}\n")).collect()
    }

    /// Waits until `ready` holds on the screen; else fails naming what never came, with the
    /// screen as it was.
    fn wait(&self, what: &str, ready: impl Fn(&[String]) -> bool) {
        let deadline = Instant::now() + WAIT;
        loop {
            if ready(&self.rows()) {
                return;
            }
            assert!(Instant::now() < deadline, "{what} never came within {WAIT:?}; the screen:\n{}", self.shown());
            std::thread::sleep(POLL);
        }
    }

    /// Waits for text that appears only with the state awaited (never for text that is on
    /// screen anyway).
    fn wait_text(&self, needle: &str) {
        self.wait(&format!("{needle:?} on screen"), |rows| rows.iter().any(|r| r.contains(needle)));
    }

    fn text_contains(&self, needle: &str) -> bool {
        self.rows().iter().any(|r| r.contains(needle))
    }

    fn wait_gone(&self, needle: &str) {
        self.wait(&format!("{needle:?} gone from the screen"), |rows| !rows.iter().any(|r| r.contains(needle)));
    }

    /// Waits for the header's session badge to say connected, and checks the terminal is in
    /// raw mode then (which is what makes the "restored" check after exit mean something).
    fn wait_connected(&self) {
        self.wait("the header's \"connected\" badge", connected);
        assert!(!self.cooked(), "raw mode is not on while the console runs");
    }

    /// Waits until the tree pane holds exactly `want` (trimmed rows, with their markers and
    /// child counts) as a contiguous run.
    fn wait_tree(&self, want: &[&str]) {
        self.wait(&format!("tree rows {want:?}"), |rows| {
            let pane = pane(rows);
            pane.windows(want.len()).any(|w| w.iter().zip(want).all(|(a, b)| a == b))
        });
    }

    /// Waits until the tree pane's rows (those not empty) are exactly `want`.
    fn wait_tree_exactly(&self, want: &[&str]) {
        self.wait(&format!("exactly the tree rows {want:?}"), |rows| {
            pane(rows).iter().filter(|r| !r.is_empty()).map(String::as_str).eq(want.iter().copied())
        });
    }

    /// Waits until the znode pane's title names `path`: the tree's selection. (The status line
    /// names it too, but a notice takes its place for a few seconds.)
    fn wait_selected(&self, path: &str) {
        let want = format!("┌ {} {path} ─", strings::DETAIL_TITLE);
        self.wait(&format!("selection on {path}"), |rows| rows[1].contains(&want));
    }

    fn resize(&self, rows: u16, cols: u16) {
        self.parser.lock().unwrap().screen_mut().set_size(rows, cols);
        self.master.resize(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 }).expect("resize the pty");
    }

    /// Whether the pty is back in canonical mode with echo, as a shell needs it. The master's
    /// termios is the terminal's (Linux answers for the slave side).
    fn cooked(&self) -> bool {
        let fd = self.master.as_raw_fd().expect("pty master fd");
        // SAFETY: an all-zero termios is a valid value for tcgetattr to fill.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: tcgetattr on an open fd, writing into `t`.
        let rc = unsafe { libc::tcgetattr(fd, &mut t) };
        assert_eq!(rc, 0, "tcgetattr on the pty: {}", std::io::Error::last_os_error());
        t.c_lflag & libc::ICANON != 0 && t.c_lflag & libc::ECHO != 0
    }

    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + EXIT_WAIT;
        loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                return s;
            }
            assert!(Instant::now() < deadline, "the console did not exit within {EXIT_WAIT:?}:\n{}", self.shown());
            std::thread::sleep(POLL);
        }
    }

    /// Everything the console wrote to its terminal, once the reader has seen the end of it.
    fn output(&self) -> String {
        let deadline = Instant::now() + EXIT_WAIT;
        while !self.eof.load(Ordering::SeqCst) {
            assert!(Instant::now() < deadline, "the console's terminal output never ended");
            std::thread::sleep(POLL);
        }
        String::from_utf8_lossy(&self.raw.lock().unwrap()).into_owned()
    }

    /// The terminal is back to normal: after the last time the console entered the alternate
    /// screen it left it and showed the cursor again, and raw mode is off.
    fn assert_restored(&self) {
        let text = self.output();
        let entered = text.rfind("\x1b[?1049h").expect("entered the alternate screen");
        let left = text.rfind("\x1b[?1049l").expect("left the alternate screen");
        assert!(left > entered, "alternate screen not left at the end");
        assert!(text.rfind("\x1b[?25h").is_some_and(|s| s > entered), "cursor not shown again");
        assert!(!self.parser.lock().unwrap().screen().alternate_screen(), "still on the alternate screen");
        assert!(self.cooked(), "raw mode still on after the console exited");
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.home.path().join("console.log")).unwrap_or_default()
    }
}

/// The header starts with the session badge: " myzoo  connected " exactly (not " disconnected ",
/// not " connected (server read-only) ").
fn connected(rows: &[String]) -> bool {
    let badge = |b| format!(" {} {}", strings::APP_NAME, strings::badge_text(b));
    let header = &rows[0];
    header.starts_with(&badge(SessionBadge::Connected)) && !header.starts_with(&badge(SessionBadge::ConnectedReadOnly))
}

/// The first pane's rows: the text between the left border and the next one, trimmed.
fn pane(rows: &[String]) -> Vec<String> {
    rows.iter()
        .filter_map(|r| r.strip_prefix('│'))
        .map(|r| r.split('│').next().unwrap_or_default().trim().to_string())
        .collect()
}

/// The status line (the second row from the bottom).
fn status_line(rows: &[String]) -> &str {
    rows[rows.len() - 2].trim_end()
}

fn persistent() -> zookeeper_client::CreateOptions<'static> {
    CreateMode::Persistent.with_acls(Acls::anyone_all())
}

/// Sends `sig` once the console is up; it must exit 0 with the terminal restored.
async fn signal_exits_cleanly(sig: libc::c_int, name: &str) {
    let sb = common::Sandbox::shared_zk_only().await;
    let connect = sb.chroot(&format!("signal-{name}")).await;
    let mut console = Console::start(&connect);
    console.wait_connected();
    // SAFETY: kill(2) on the console this test started.
    assert_eq!(unsafe { libc::kill(console.pid(), sig) }, 0, "kill {name}");
    let status = console.wait_exit();
    assert!(status.success(), "{name}: exit status {status:?}");
    console.assert_restored();
    let log = console.log();
    assert!(log.contains("console starting"), "{name}: the console's log:\n{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_exits_cleanly_and_restores_the_terminal() {
    signal_exits_cleanly(libc::SIGTERM, "SIGTERM").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_and_sighup_exit_cleanly_and_restore_the_terminal() {
    signal_exits_cleanly(libc::SIGINT, "SIGINT").await;
    signal_exits_cleanly(libc::SIGHUP, "SIGHUP").await;
}

/// A panic in the event loop (made on purpose through the debug-build-only hook in
/// `console::runtime`) leaves the terminal usable, exits non-zero, and says why on stderr
/// (the terminal here) and in the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_restores_the_terminal_and_exits_non_zero() {
    if !cfg!(debug_assertions) {
        panic!("the panic hook exists only in debug builds of the binary: run this test without --release");
    }
    let sb = common::Sandbox::shared_zk_only().await;
    let connect = sb.chroot("panic").await;
    let mut console = Console::start_with(&connect, &[(TEST_PANIC_KEY_ENV, "P")]);
    console.wait_connected();
    console.send(b"P");
    let status = console.wait_exit();
    assert!(!status.success(), "a panic must not exit 0: {status:?}");
    console.assert_restored();
    let output = console.output();
    let left = output.rfind("\x1b[?1049l").expect("left the alternate screen");
    assert!(
        output[left..].contains(TEST_PANIC_MESSAGE),
        "the panic message is not on the restored terminal:\n{:?}",
        &output[left..]
    );
    let log = console.log();
    assert!(log.contains("console panicked") && log.contains(TEST_PANIC_MESSAGE), "the console's log:\n{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browse_open_json_and_quit_restores_the_terminal() {
    let sb = common::Sandbox::shared_zk_only().await;
    let connect = sb.chroot("browse").await;
    let zk = Client::connect(&connect).await.unwrap();
    for path in ["/myzoo", "/myzoo/clusters", "/myzoo/clusters/sandbox"] {
        zk.create(path, b"", &persistent()).await.unwrap();
    }
    zk.create("/myzoo/clusters/sandbox/config", br#"{"name":"sandbox","tier":"development"}"#, &persistent())
        .await
        .unwrap();

    let mut console = Console::start(&connect);
    // A cluster exists, so the cluster screen comes first; it has no primary record.
    console.wait_connected();
    console.wait(r#"the cluster pane titled "Cluster sandbox""#, |rows| rows[1].starts_with("┌ Cluster sandbox "));
    console.wait_text("no primary recorded");
    // The znode tree is one key away; start-up selected the profile root, /myzoo, and opened it.
    console.send(b"2");
    console.wait_selected("/myzoo");
    console.wait_tree(&["▾ myzoo (1)", "▸ clusters (1)"]);
    console.send(b"j"); // /myzoo/clusters
    console.wait_selected("/myzoo/clusters");
    console.send(b"l"); // expand it
    console.wait_tree(&["▾ clusters (1)", "▸ sandbox (1)"]);
    console.send(b"j"); // sandbox
    console.wait_selected("/myzoo/clusters/sandbox");
    console.send(b"l"); // expand
    console.wait_tree(&["▾ sandbox (1)", "config"]);
    console.send(b"j"); // config
    console.wait_selected("/myzoo/clusters/sandbox/config");
    console.wait_text("\"tier\": \"development\"");
    console.wait_text("Data json");
    console.send(b"?");
    console.wait_text("esc/?/q closes");
    console.send(b"\x1b");
    // Esc and q sent together would read as alt-q: wait for the help to close first.
    console.wait_gone("esc/?/q closes");
    console.send(b"q");

    let status = console.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    console.assert_restored();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_a_cluster_config_and_read_it_back() {
    let sb = common::Sandbox::shared_zk_only().await;
    let connect = sb.chroot("edit").await;
    let zk = Client::connect(&connect).await.unwrap();
    for path in ["/myzoo", "/myzoo/clusters", "/myzoo/clusters/sandbox"] {
        zk.create(path, b"", &persistent()).await.unwrap();
    }
    let config = "{\n  \"schema\": 1,\n  \"tier\": \"development\",\n  \"name\": \"sandbox\",\n  \"nodes\": [{\"name\": \"db1\", \"host\": \"127.0.0.1\", \"port\": 3306}]\n}\n";
    zk.create("/myzoo/clusters/sandbox/config", config.as_bytes(), &persistent()).await.unwrap();

    let mut console = Console::start(&connect);
    console.wait_connected();
    console.wait(r#"the cluster pane titled "Cluster sandbox""#, |rows| rows[1].starts_with("┌ Cluster sandbox "));
    console.send(b":goto /myzoo/clusters/sandbox/config\r");
    console.wait_selected("/myzoo/clusters/sandbox/config");
    console.wait_text("Data json");
    console.send(b"e");
    console.wait_text("Edit /myzoo/clusters/sandbox/config");
    console.wait_text("valid JSON");
    // Line 3 is the tier: go there, replace "development" with "staging".
    console.send(b"\x1b[B");
    console.send(b"\x1b[B");
    console.send(b"\x1b[F"); // End
    for _ in 0.."development\",".len() {
        console.send(b"\x7f");
    }
    console.send(b"staging\",");
    console.wait_text("\"tier\": \"staging\",");
    // The unsaved edit is kept as a draft (written on the next tick) in this ensemble's (and
    // chroot's) folder under the test's own state folder.
    let drafts = myzoo::console::draft::ensemble_dir(&console.home.path().join("state/myzoo/drafts"), &connect);
    let deadline = Instant::now() + WAIT;
    while myzoo::console::draft::load(&drafts, "/myzoo/clusters/sandbox/config").ok().flatten().is_none() {
        assert!(Instant::now() < deadline, "no draft in {}", drafts.display());
        std::thread::sleep(POLL);
    }
    let label = std::fs::read_to_string(drafts.join(myzoo::console::draft::ENSEMBLE_LABEL_FILE)).unwrap();
    assert_eq!(label.trim(), connect);
    console.send(b"\x13"); // ctrl-s
    console.wait_text("Review the change");
    console.send(b"y");
    console.wait_text("saved /myzoo/clusters/sandbox/config (version 1)");

    // Another client reads the new value; the audit log says who did it.
    let (data, stat) = zk.get_data("/myzoo/clusters/sandbox/config").await.unwrap();
    assert_eq!(stat.version, 1);
    let text = String::from_utf8(data).unwrap();
    assert!(text.contains("\"tier\": \"staging\"") && text.contains("\"name\": \"sandbox\""), "{text}");
    let audit = myzoo::audit::list(&zk, "/myzoo", 10, Some("/myzoo/clusters/sandbox/config")).await.unwrap();
    let (_, record) = audit.first().expect("an audit record for the save");
    assert_eq!((record.action.as_str(), record.result.as_str(), record.origin.as_str()), ("set", "ok", "console"));
    assert_eq!((record.version_before, record.version_after), (Some(0), Some(1)));

    console.send(b"q");
    let status = console.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    console.assert_restored();
}

/// `/` filters the tree live as it is typed (only matches and their ancestors stay), enter
/// keeps the filter, esc clears it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_keeps_matching_rows_and_esc_clears_it() {
    let sb = common::Sandbox::shared_zk_only().await;
    let connect = sb.chroot("filter").await;
    let zk = Client::connect(&connect).await.unwrap();
    for path in ["/apps/db/config", "/apps/db/users", "/apps/web/config", "/infra/dns"] {
        zk.mkdir(path, &persistent()).await.unwrap();
    }
    let everything = ["▾ / (2)", "▾ apps (2)", "▾ db (2)", "config", "users", "▸ web (1)", "▸ infra (1)"];

    let mut console = Console::start(&connect);
    console.wait_connected();
    console.send(b":goto /apps/db\r");
    console.wait_selected("/apps/db");
    console.wait_tree_exactly(&everything);
    console.send(b"/users");
    console.wait_text("filter: users");
    console.wait_tree_exactly(&["▾ / (2)", "▾ apps (2)", "▾ db (2)", "users"]);
    console.send(b"\r");
    console.wait("the filter's input line closed", |rows| !status_line(rows).starts_with("/users"));
    console.wait_tree_exactly(&["▾ / (2)", "▾ apps (2)", "▾ db (2)", "users"]);
    console.send(b"\x1b");
    console.wait_gone("filter: users");
    console.wait_tree_exactly(&everything);
    // A filter that matches nothing says so; esc typed into it clears it as well.
    console.send(b"/nomatch");
    console.wait_text(strings::NO_MATCHES);
    console.send(b"\x1b");
    console.wait_gone("filter: nomatch");
    console.wait_tree_exactly(&everything);

    console.send(b"q");
    let status = console.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    console.assert_restored();
}

/// A resize through the pty: the console redraws at the new size; below 80×24 it shows the
/// too-small notice, and it recovers when the terminal grows again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resize_redraws_and_below_80x24_shows_the_too_small_notice() {
    let sb = common::Sandbox::shared_zk_only().await;
    let connect = sb.chroot("resize").await;
    let zk = Client::connect(&connect).await.unwrap();
    zk.create("/only-here", b"", &persistent()).await.unwrap();
    // The panes' bottom border spans the whole width, one row above the status line.
    let drawn_at = |rows: &[String], (h, w): (u16, u16)| {
        rows.len() == usize::from(h)
            && rows[usize::from(h) - 3].starts_with('└')
            && rows[usize::from(h) - 3].chars().count() == usize::from(w)
            && rows[usize::from(h) - 3].ends_with('┘')
            && connected(rows)
            && pane(rows).iter().any(|r| r == "only-here")
    };
    let too_small = |rows: &[String], (h, w): (u16, u16)| {
        let size = format!("{w}×{h}");
        rows.iter().any(|r| r.trim() == strings::TOO_SMALL)
            && rows.iter().any(|r| r.trim() == size)
            && !rows.iter().any(|r| r.starts_with('└'))
    };

    let mut console = Console::start(&connect);
    console.wait_connected();
    console.wait("the first frame at 100×30", |rows| drawn_at(rows, (ROWS, COLS)));
    console.resize(40, 120);
    console.wait("a frame at 120×40", |rows| drawn_at(rows, (40, 120)));
    console.resize(20, 70);
    console.wait("the too-small notice at 70×20", |rows| too_small(rows, (20, 70)));
    console.resize(23, 100);
    console.wait("the too-small notice at 100×23", |rows| too_small(rows, (23, 100)));
    console.resize(24, 80);
    console.wait("a frame at 80×24 (the smallest size drawn)", |rows| drawn_at(rows, (24, 80)));
    assert!(!console.text_contains(strings::TOO_SMALL), "the notice stayed:\n{}", console.shown());

    console.send(b"q");
    let status = console.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    console.assert_restored();
}

/// A chroot in the connect string: the console shows the chroot's tree as `/` (nothing from
/// outside it), and `myzoo zk get`/`create` work inside it (the audit record too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chroot_connect_string_is_the_whole_tree_for_console_and_zk_commands() {
    let sb = common::Sandbox::shared_zk_only().await;
    let outer = sb.chroot("tenants").await;
    let plain = Client::connect(&outer).await.unwrap();
    plain.mkdir("/a/inside/deeper", &persistent()).await.unwrap();
    plain.set_data("/a/inside", b"inside-data", None).await.unwrap();
    plain.mkdir("/b/outside", &persistent()).await.unwrap();
    let connect = format!("{outer}/a");

    let mut console = Console::start(&connect);
    console.wait_connected();
    console.wait_tree_exactly(&["▾ / (1)", "▸ inside (1)"]);
    console.send(b":goto /inside\r");
    console.wait_selected("/inside");
    console.wait_text("inside-data");
    console.wait_tree_exactly(&["▾ / (1)", "▾ inside (1)", "deeper"]);
    console.send(b"q");
    let status = console.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    console.assert_restored();

    let zk = |args: &[&str]| {
        let out = common::isolated_myzoo(console.home.path()).args(["--zk", &connect, "zk"]).args(args).output();
        out.expect("run myzoo zk")
    };
    let out = zk(&["get", "/inside"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("inside-data"), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    // The path as seen from outside the chroot does not exist inside it.
    let out = zk(&["get", "/a/inside"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let out = zk(&["create", "/made-in-chroot", "--data", "x"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(plain.get_data("/a/made-in-chroot").await.unwrap().0, b"x", "created inside the chroot");
    assert!(plain.check_stat("/made-in-chroot").await.unwrap().is_none(), "created outside the chroot");
    let inner = Client::connect(&connect).await.unwrap();
    let audit = myzoo::audit::list(&inner, "/myzoo", 10, Some("/made-in-chroot")).await.unwrap();
    assert!(
        audit.iter().any(|(_, r)| r.action == "create" && r.result == "ok" && r.origin == "cli"),
        "no audit record of the create under the chroot: {audit:?}"
    );
}

/// A burst of resizes through the pty, seeded (`MYZOO_SOAK_SEED` replays one): between 20×5
/// and 300×100, the edges and one-step moves among random sizes, a few milliseconds apart, then
/// a bounce away and back within one frame. The console stays alive, ends with every cell of
/// its frame repainted at the final size (the terminal cut what the bounce took away), and
/// restores the terminal on quit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_resizes_leaves_a_whole_frame_and_a_restored_terminal() {
    let seed = std::env::var("MYZOO_SOAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| Instant::now().elapsed().as_nanos() as u64 ^ u64::from(std::process::id()));
    eprintln!("pty resize burst: seed {seed} (MYZOO_SOAK_SEED={seed} replays it)");
    let mut rng = fastrand::Rng::with_seed(seed);
    let sb = common::Sandbox::shared_zk_only().await;
    let connect = sb.chroot("resize-burst").await;
    let zk = Client::connect(&connect).await.unwrap();
    zk.create("/only-here", b"", &persistent()).await.unwrap();
    let whole = |rows: &[String], (h, w): (u16, u16)| {
        let h = usize::from(h);
        rows.len() == h
            && connected(rows)
            && rows[1].starts_with('┌')
            && rows[1].chars().count() == usize::from(w)
            && rows[h - 3].starts_with('└')
            && rows[h - 3].chars().count() == usize::from(w)
            && rows[h - 3].ends_with('┘')
            && pane(rows).iter().any(|r| r == "only-here")
            && !rows[h - 1].trim().is_empty()
    };

    let mut console = Console::start(&connect);
    console.wait_connected();
    console.wait("the first frame at 100×30", |rows| whole(rows, (ROWS, COLS)));
    let mut sizes = vec![(5, 20), (100, 300), (24, 79), (23, 80), (24, 80)];
    let mut last = (24u16, 80u16);
    while sizes.len() < 40 {
        last = if rng.bool() {
            (rng.u16(5..=100), rng.u16(20..=300))
        } else {
            (
                last.0.saturating_add_signed(rng.i16(-1..=1)).clamp(5, 100),
                last.1.saturating_add_signed(rng.i16(-1..=1)).clamp(20, 300),
            )
        };
        sizes.push(last);
    }
    for (rows, cols) in sizes {
        console.resize(rows, cols);
        std::thread::sleep(Duration::from_millis(rng.u64(0..10)));
        assert!(console.child.try_wait().expect("try_wait").is_none(), "the console exited at {cols}×{rows}");
    }
    console.resize(ROWS, COLS);
    console.wait("a whole frame at 100×30 after the burst", |rows| whole(rows, (ROWS, COLS)));
    // Away and back before the console draws: the size it knows does not change, but the
    // terminal lost everything outside 60×20.
    console.resize(20, 60);
    console.resize(ROWS, COLS);
    console.wait("a whole frame at 100×30 after the bounce", |rows| whole(rows, (ROWS, COLS)));
    assert!(console.child.try_wait().expect("try_wait").is_none(), "the console exited");

    console.send(b"q");
    let status = console.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    console.assert_restored();
}
