//! Installing like a daemon: `myzoo --version` names the commit this checkout is at; the shell
//! completions and man pages `myzoo generate` writes are accepted by bash/fish and render with
//! `man -l`; the systemd template unit passes `systemd-analyze verify`; and the Debian package
//! `scripts/package-deb.sh` builds installs on this machine, runs, and is purged again.
//! Tools that may be missing (fish, systemd-analyze, root for dpkg) make their check skip with a
//! printed reason, never silently.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn myzoo(home: &Path, args: &[&str]) -> Output {
    let out = common::isolated_myzoo(home).args(args).output().expect("run myzoo");
    assert!(out.status.success(), "myzoo {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("utf-8")
}

fn tool_exists(name: &str) -> bool {
    Command::new("sh").arg("-c").arg(format!("command -v {name}")).output().is_ok_and(|o| o.status.success())
}

#[test]
fn version_names_the_version_and_the_commit_of_this_checkout() {
    let home = tempfile::tempdir().expect("temp dir");
    let line = stdout(&myzoo(home.path(), &["--version"]));
    let git = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(manifest_dir())
        .output()
        .expect("git runs");
    assert!(git.status.success(), "the test's checkout is a git work tree");
    let head = String::from_utf8(git.stdout).expect("utf-8").trim().to_string();
    let expected = format!("myzoo {} (commit {head}", env!("CARGO_PKG_VERSION"));
    assert!(line.starts_with(&expected), "{line:?} does not start with {expected:?}");
    // The agent's /health and /metrics name the same version as the command line.
    assert_eq!(myzoo::cli::VERSION, myzoo::VERSION);
    assert!(myzoo::VERSION.contains(myzoo::COMMIT));
    // The commit, then `-dirty` when the work tree had changes at build time, nothing else.
    let rest = line.trim_end().strip_prefix(&expected).expect("prefix checked");
    assert!(rest == ")" || rest == "-dirty)", "{line:?}");
}

#[test]
fn completion_scripts_are_accepted_by_their_shells() {
    let home = tempfile::tempdir().expect("temp dir");
    let dir = tempfile::tempdir().expect("temp dir");
    for (shell, must_have) in [("bash", "complete -F"), ("zsh", "#compdef myzoo"), ("fish", "complete -c myzoo")] {
        let script = stdout(&myzoo(home.path(), &["generate", "completions", shell]));
        assert!(script.contains(must_have), "{shell} script lacks {must_have:?}");
        for sub in ["agent", "switchover", "zk-backup"] {
            assert!(script.contains(sub), "{shell} script does not complete `{sub}`");
        }
        let path = dir.path().join(format!("myzoo.{shell}"));
        std::fs::write(&path, &script).expect("write script");
        if shell == "zsh" {
            continue; // zsh's own `-n` needs zsh; the #compdef header above is the check.
        }
        if !tool_exists(shell) {
            println!("SKIPPED: `{shell} -n` on the {shell} completion script: {shell} is not installed");
            continue;
        }
        let check = Command::new(shell).arg("-n").arg(&path).output().expect("run the shell");
        assert!(check.status.success(), "{shell} -n: {}", String::from_utf8_lossy(&check.stderr));
    }
}

#[test]
fn man_pages_render_and_name_the_subcommands() {
    let home = tempfile::tempdir().expect("temp dir");
    let dir = tempfile::tempdir().expect("temp dir");
    myzoo(home.path(), &["generate", "man", dir.path().to_str().expect("utf-8 path")]);
    for page in ["myzoo.1", "myzoo-agent.1", "myzoo-zk-backup.1", "myzoo-sandbox-up.1"] {
        assert!(dir.path().join(page).is_file(), "{page} was not written");
    }
    assert!(!dir.path().join("myzoo-generate.1").exists(), "the hidden `generate` has a page");
    let render = |page: &str| {
        let out = Command::new("man")
            .arg("-l")
            .arg(dir.path().join(page))
            .env("MANWIDTH", "100")
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .output()
            .expect("man runs");
        assert!(out.status.success(), "man -l {page}: {}", String::from_utf8_lossy(&out.stderr));
        stdout(&out)
    };
    let top = render("myzoo.1");
    for sub in ["agent", "status", "endpoint", "switchover", "failover", "zk-backup", "mysql-backup"] {
        assert!(top.contains(sub), "myzoo(1) does not list `{sub}`:\n{top}");
    }
    let agent = render("myzoo-agent.1");
    for flag in ["--cluster", "--node", "--mysql-password-file", "--repl-password-file"] {
        assert!(agent.contains(flag), "myzoo-agent(1) does not describe {flag}:\n{agent}");
    }
}

/// The template unit as shipped, with ExecStart pointed at the binary under test (verify
/// checks that the command exists), as instance `db1`. Note for readers: `StartLimit*=` in
/// `[Service]` is one of the mistakes verify reports.
#[test]
fn systemd_unit_passes_systemd_analyze_verify() {
    let unit = std::fs::read_to_string(manifest_dir().join("packaging/systemd/myzoo-agent@.service")).expect("unit");
    for must in
        ["Restart=on-failure", "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "ProtectHome=yes"]
    {
        assert!(unit.contains(must), "the unit lacks {must}");
    }
    assert!(!unit.to_lowercase().contains("password="), "a password in the unit");
    if !tool_exists("systemd-analyze") {
        println!("SKIPPED: systemd-analyze verify: systemd-analyze is not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("myzoo-agent@db1.service");
    std::fs::write(&path, unit.replace("/usr/bin/myzoo", env!("CARGO_BIN_EXE_myzoo"))).expect("write unit");
    // verify runs `man myzoo-agent` for Documentation=: the generated pages, as the package has them.
    let home = tempfile::tempdir().expect("temp dir");
    let man = dir.path().join("man");
    myzoo(home.path(), &["generate", "man", man.join("man1").to_str().expect("utf-8 path")]);
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .env("MANPATH", &man)
        .output()
        .expect("systemd-analyze runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "systemd-analyze verify: {stderr}");
    // verify exits 0 on some warnings; none about this unit is acceptable.
    let ours: Vec<&str> = stderr.lines().filter(|l| l.contains("myzoo-agent@")).collect();
    assert!(ours.is_empty(), "systemd-analyze verify warns:\n{}", ours.join("\n"));
}

/// `scripts/package-deb.sh` over the binary under test (a debug build: the layout is what is
/// checked, and CI does not build a release binary for it), `dpkg -i`, the installed
/// `/usr/bin/myzoo --version`, then `dpkg --purge` so the machine is left as found.
#[test]
fn debian_package_installs_runs_and_removes() {
    if !tool_exists("dpkg-deb") {
        println!("SKIPPED: the Debian package: dpkg-deb is not installed (not a Debian system)");
        return;
    }
    let installed = Command::new("dpkg-query").args(["-W", "-f=${Status}", "myzoo"]).output().expect("dpkg-query");
    if String::from_utf8_lossy(&installed.stdout).contains("install ok installed") {
        println!("SKIPPED: installing the Debian package: a myzoo package is already installed here");
        return;
    }
    let out_dir = tempfile::tempdir().expect("temp dir");
    let build = Command::new("bash")
        .arg(manifest_dir().join("scripts/package-deb.sh"))
        .args(["--binary", env!("CARGO_BIN_EXE_myzoo"), "--out"])
        .arg(out_dir.path())
        .output()
        .expect("run package-deb.sh");
    assert!(build.status.success(), "package-deb.sh: {}", String::from_utf8_lossy(&build.stderr));
    let deb = stdout(&build).trim().to_string();
    let listing = Command::new("dpkg-deb").args(["-c", &deb]).output().expect("dpkg-deb -c");
    let listing = stdout(&listing);
    for file in [
        "./usr/bin/myzoo",
        "./lib/systemd/system/myzoo-agent@.service",
        "./usr/share/bash-completion/completions/myzoo",
        "./usr/share/zsh/vendor-completions/_myzoo",
        "./usr/share/fish/vendor_completions.d/myzoo.fish",
        "./usr/share/man/man1/myzoo.1.gz",
        "./usr/share/man/man1/myzoo-agent.1.gz",
        "./usr/share/doc/myzoo/agent.env.example",
    ] {
        assert!(listing.lines().any(|l| l.ends_with(file)), "the package lacks {file}:\n{listing}");
    }
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } != 0 {
        println!("SKIPPED: dpkg -i of the built package: not root (the package itself was built and listed)");
        return;
    }
    let install = Command::new("dpkg").args(["-i", &deb]).output().expect("dpkg -i");
    let run = Command::new("/usr/bin/myzoo").arg("--version").output();
    // --purge, not -r: -r leaves the package's record behind ("config-files").
    let remove = Command::new("dpkg").args(["--purge", "myzoo"]).output().expect("dpkg --purge");
    assert!(install.status.success(), "dpkg -i: {}", String::from_utf8_lossy(&install.stderr));
    assert!(remove.status.success(), "dpkg --purge: {}", String::from_utf8_lossy(&remove.stderr));
    let run = run.expect("the installed /usr/bin/myzoo runs");
    let line = stdout(&run);
    assert!(line.starts_with(&format!("myzoo {} (commit ", env!("CARGO_PKG_VERSION"))), "{line:?}");
    assert!(!Path::new("/usr/bin/myzoo").exists(), "dpkg --purge left /usr/bin/myzoo");
    assert!(!Path::new("/lib/systemd/system/myzoo-agent@.service").exists(), "dpkg --purge left the unit");
    let status = Command::new("dpkg-query").args(["-W", "-f=${Status}", "myzoo"]).output().expect("dpkg-query");
    assert!(!status.status.success(), "dpkg still knows myzoo: {}", String::from_utf8_lossy(&status.stdout));
}
