//! `myzoo haproxy-config`: reads a cluster once (its config and the statuses its agents
//! publish), joins them into HAProxy servers and prints the rendered config, or writes it
//! atomically to `--out` (`cluster::haproxy` decides and renders). Warnings (a node checked on
//! `--agent-port`, an unreadable status) go to stderr; a node without an address or a check
//! address fails the command, naming it.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Context};

use super::status::ANSWER_TIMEOUT_MS;
use crate::cli::{ConsoleArgs, HaproxyConfigArgs};
use crate::cluster::config::parse_config;
use crate::cluster::haproxy::{backends, check_options, render, RenderOptions};
use crate::cluster::health::ClusterSnapshot;
use crate::cluster::snapshot::read_cluster;

pub fn run(rt: &tokio::runtime::Runtime, console: &ConsoleArgs, args: &HaproxyConfigArgs) -> anyhow::Result<ExitCode> {
    crate::logging::to_stderr();
    let opts = RenderOptions {
        write_bind: args.write_bind.clone(),
        read_bind: args.read_bind.clone(),
        check_interval_ms: args.check_interval_ms,
        stats_bind: args.stats_bind.clone(),
        version: crate::cli::VERSION.to_string(),
        generated_at: format!("{} UTC", crate::zk::format::utc_timestamp(now_ms())),
        command: command_line(console, args),
    };
    check_options(&opts).map_err(|e| anyhow!(e))?;
    let snap = rt.block_on(read(console, &args.cluster))?;
    if snap.config.is_none() && snap.nodes.is_empty() {
        anyhow::bail!("no cluster {:?}: it has no config and no node publishes a status", args.cluster);
    }
    let config =
        snap.config.as_deref().map(parse_config).transpose().map_err(|e| anyhow!("cluster {}: {e}", args.cluster))?;
    let (servers, warnings) = backends(config.as_ref(), &snap.nodes, args.agent_port)
        .map_err(|e| anyhow!("cluster {}: {e}", args.cluster))?;
    for w in &warnings {
        eprintln!("myzoo: warning: {w}");
    }
    let text = render(&args.cluster, &servers, &opts);
    match &args.out {
        None => super::out(&text),
        Some(path) => {
            write_atomically(path, text.as_bytes())?;
            let names: Vec<&str> = servers.iter().map(|s| s.name.as_str()).collect();
            super::out(&format!(
                "wrote {}: cluster {}, servers {} (writes on {}, reads on {})\n",
                path.display(),
                args.cluster,
                names.join(", "),
                opts.write_bind,
                opts.read_bind
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Connects and reads the cluster, within [`ANSWER_TIMEOUT_MS`] once connected.
async fn read(console: &ConsoleArgs, cluster: &str) -> anyhow::Result<ClusterSnapshot> {
    let r = crate::config::resolve(&super::overrides(console))?;
    let client = super::connect_zk(&r.zk(), &r.root).await?;
    tokio::time::timeout(Duration::from_millis(ANSWER_TIMEOUT_MS), read_cluster(&client, &r.root, cluster))
        .await
        .with_context(|| format!("ZooKeeper at {} did not answer within {ANSWER_TIMEOUT_MS} ms", r.connect))?
        .map_err(|e| anyhow!("reading cluster {cluster}: {e}"))
}

/// Writes `data` to a temporary file beside `path`, then renames it over `path`: HAProxy (or a
/// reload) never reads half a config. A file replaced keeps its permission bits and, as far as
/// this user may set them, its owner and group (a `root:haproxy 0640` config stays so when root
/// regenerates it).
fn write_atomically(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    let name = path.file_name().ok_or_else(|| anyhow!("{} is not a file name", path.display()))?;
    let tmp = path.with_file_name(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id()));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        match std::fs::metadata(path) {
            Ok(old) => {
                use std::os::unix::fs::MetadataExt;
                // Best effort: only root may give a file away; the mode bits are what matter.
                let _ = std::os::unix::fs::fchown(&f, Some(old.uid()), Some(old.gid()));
                f.set_permissions(old.permissions())?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        f.write_all(data)?;
        f.sync_all()
    })();
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(anyhow!("writing {}: {e}", path.display()));
    }
    Ok(())
}

/// The command that generates the same config again, for its header (connection flags other
/// than `--profile` and `--root` are the operator's to add).
fn command_line(console: &ConsoleArgs, args: &HaproxyConfigArgs) -> String {
    let mut words: Vec<String> = vec!["myzoo".into()];
    if let Some(p) = &console.profile {
        words.extend(["--profile".into(), quote(p)]);
    }
    if let Some(r) = &console.root {
        words.extend(["--root".into(), quote(r)]);
    }
    words.extend(["haproxy-config".into(), "--cluster".into(), quote(&args.cluster)]);
    words.extend(["--write-bind".into(), quote(&args.write_bind), "--read-bind".into(), quote(&args.read_bind)]);
    words.extend(["--check-interval".into(), args.check_interval_ms.to_string()]);
    if let Some(p) = args.agent_port {
        words.extend(["--agent-port".into(), p.to_string()]);
    }
    if let Some(s) = &args.stats_bind {
        words.extend(["--stats".into(), quote(s)]);
    }
    if let Some(o) = &args.out {
        words.extend(["--out".into(), quote(&o.display().to_string())]);
    }
    words.join(" ")
}

/// Single quotes around a word the shell would split or expand.
fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ':' | '=' | '@' | ','));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};
    use crate::cluster::haproxy;

    fn parse(line: &[&str]) -> (ConsoleArgs, HaproxyConfigArgs) {
        let cli = Cli::try_parse_from(line).unwrap();
        match cli.command {
            Some(Command::HaproxyConfig(a)) => (cli.console, a),
            other => panic!("{other:?}"),
        }
    }

    /// clap's defaults are written in `cli` (a leaf); they must be the service's.
    #[test]
    fn defaults_are_the_services() {
        let (_, a) = parse(&["myzoo", "haproxy-config", "--cluster", "main"]);
        assert_eq!(a.write_bind, haproxy::DEFAULT_WRITE_BIND);
        assert_eq!(a.read_bind, haproxy::DEFAULT_READ_BIND);
        assert_eq!(a.check_interval_ms, haproxy::DEFAULT_CHECK_INTERVAL_MS);
        assert!(Cli::try_parse_from(["myzoo", "haproxy-config", "--cluster", "m", "--agent-port", "0"]).is_err());
    }

    #[test]
    fn the_header_command_regenerates_the_same_config() {
        let (c, a) = parse(&[
            "myzoo",
            "--profile",
            "prod",
            "haproxy-config",
            "--cluster",
            "main",
            "--write-bind",
            "*:3307",
            "--agent-port",
            "9104",
            "--out",
            "/etc/haproxy/haproxy.cfg",
        ]);
        assert_eq!(
            command_line(&c, &a),
            "myzoo --profile prod haproxy-config --cluster main --write-bind '*:3307' --read-bind 127.0.0.1:3308 \
             --check-interval 200 --agent-port 9104 --out /etc/haproxy/haproxy.cfg"
        );
        assert_eq!(quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn atomic_writes_replace_the_file_and_leave_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, "old").unwrap();
        write_atomically(&path, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        // The replaced file's permission bits are kept, whatever the umask.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&path, b"newer").unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
        let err = write_atomically(&dir.path().join("missing/haproxy.cfg"), b"x").unwrap_err();
        assert!(format!("{err}").contains("missing/haproxy.cfg"), "{err}");
    }
}
