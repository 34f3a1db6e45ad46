//! `myzoo endpoint`: where applications should connect — the recorded primary when its agent
//! confirms it, or its healthy replicas (`cluster::endpoint` decides). Once, or with `--watch`
//! a line each time the answer changes, from ZooKeeper watches (`cluster::follow`).
//!
//! Exit codes: 0 at least one usable endpoint, 1 none (the reason on stderr), 3 ZooKeeper not
//! reachable or silent within [`ANSWER_TIMEOUT_MS`] (stdout stays empty, so a script never acts
//! on half an answer). `--watch` exits 0 on SIGTERM/SIGINT and when stdout is closed (the reader
//! went away), 3 when the first connection fails; later connection losses are waited out, and
//! the last answer stands meanwhile.

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use tokio::signal::unix::{signal, SignalKind};
use tokio_util::sync::CancellationToken;
use zookeeper_client::Client;

use super::status::ANSWER_TIMEOUT_MS;
use crate::cli::{ConsoleArgs, RoleArg};
use crate::cluster::endpoint::{compute, EndpointAnswer, EndpointRole};
use crate::cluster::follow::{follow, FollowOptions};
use crate::cluster::health::ClusterSnapshot;
use crate::cluster::snapshot::read_cluster;
use crate::config::Resolved;

pub const EXIT_FOUND: u8 = 0;
pub const EXIT_NONE: u8 = 1;
pub const EXIT_UNREACHABLE: u8 = 3;

pub fn run(
    rt: &tokio::runtime::Runtime,
    args: &ConsoleArgs,
    cluster: &str,
    role: RoleArg,
    watch: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    crate::logging::to_stderr();
    let role = match role {
        RoleArg::Primary => EndpointRole::Primary,
        RoleArg::Replica => EndpointRole::Replica,
    };
    let code = rt.block_on(async {
        if watch {
            watch_mode(args, cluster, role, json).await
        } else {
            match first_read(args, cluster).await {
                Ok((_, _, snap)) => one_shot(&compute(&snap, role, now_ms()), json),
                Err(e) => unreachable(&e),
            }
        }
    });
    Ok(ExitCode::from(code))
}

/// Connects and reads the cluster within [`ANSWER_TIMEOUT_MS`], as `myzoo status` does.
async fn first_read(args: &ConsoleArgs, cluster: &str) -> anyhow::Result<(Resolved, Client, ClusterSnapshot)> {
    let r = crate::config::resolve(&super::overrides(args))?;
    let read = async {
        // Fail eagerly: once every server has refused, stop rather than cycle through them again
        // until the session timeout.
        let client =
            r.zk().connect_eagerly().await.with_context(|| format!("cannot connect to ZooKeeper at {}", r.connect))?;
        super::check_zk_auth(&client, &r.zk(), &r.root).await?;
        let snap = read_cluster(&client, &r.root, cluster).await?;
        anyhow::Ok((client, snap))
    };
    let (client, snap) = tokio::time::timeout(Duration::from_millis(ANSWER_TIMEOUT_MS), read)
        .await
        .with_context(|| format!("ZooKeeper at {} did not answer within {ANSWER_TIMEOUT_MS} ms", r.connect))??;
    Ok((r, client, snap))
}

fn unreachable(e: &anyhow::Error) -> u8 {
    let reason = format!("{e:#}").split_whitespace().collect::<Vec<_>>().join(" ");
    eprintln!("myzoo: endpoint unknown: {reason}");
    EXIT_UNREACHABLE
}

fn one_shot(answer: &EndpointAnswer, json: bool) -> u8 {
    if json {
        super::out(&format!("{}\n", json_line(answer)));
    } else {
        let lines: String = answer.endpoints.iter().map(|e| format!("{}\n", e.address())).collect();
        super::out(&lines);
    }
    match &answer.reason {
        None => EXIT_FOUND,
        Some(reason) => {
            eprintln!("myzoo: no usable {} endpoint in cluster {}: {reason}", answer.role.label(), answer.cluster);
            EXIT_NONE
        }
    }
}

/// Follows the cluster and prints the answer whenever a client would see it differ.
async fn watch_mode(args: &ConsoleArgs, cluster: &str, role: EndpointRole, json: bool) -> u8 {
    // Installed before anything slow, so a stop request during the first read still exits 0.
    let (mut term, mut int) = match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(t), Ok(i)) => (t, i),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("myzoo: cannot install signal handlers: {e}");
            return EXIT_UNREACHABLE;
        }
    };
    let (r, client, snap) = match first_read(args, cluster).await {
        Ok(found) => found,
        Err(e) => return unreachable(&e),
    };
    let opts = FollowOptions { zk: r.zk(), root: r.root.clone(), cluster: cluster.to_string() };
    let (tx, mut rx) = tokio::sync::watch::channel(snap);
    let cancel = CancellationToken::new();
    let follower = tokio::spawn(follow(opts, client, tx, cancel.clone()));
    let mut closed = stdout_closed();
    let mut closed_watchable = true;
    let mut shown: Option<EndpointAnswer> = None;
    loop {
        let answer = compute(&rx.borrow_and_update(), role, now_ms());
        if shown.as_ref().is_none_or(|s| !s.same_for_clients(&answer)) {
            if !write_line(&watch_line(&answer, json)) {
                break; // stdout closed
            }
            shown = Some(answer.clone());
        }
        // A status the answer relies on goes stale at this moment: judge again then (+1 ms, as
        // stale means strictly older than the limit).
        let recheck =
            answer.recheck_at_ms.map(|at| Duration::from_millis(at.saturating_sub(now_ms()).max(0) as u64 + 1));
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            r = &mut closed, if closed_watchable => match r {
                Ok(()) => break,
                // The poller gave up (poll failed): a failed write still tells.
                Err(_) => closed_watchable = false,
            },
            changed = rx.changed() => if changed.is_err() {
                break; // the follower stopped, which it only does when cancelled
            },
            _ = tokio::time::sleep(recheck.unwrap_or_default()), if recheck.is_some() => {}
        }
    }
    cancel.cancel();
    let _ = follower.await;
    EXIT_FOUND
}

fn json_line(answer: &EndpointAnswer) -> String {
    // Serialising plain strings and numbers cannot fail; an empty object would be a bug to see.
    serde_json::to_string(answer).unwrap_or_else(|_| "{}".to_string())
}

/// `host:port epoch=N` for the primary, `host:port,host:port` for replicas, `none: reason`.
fn watch_line(answer: &EndpointAnswer, json: bool) -> String {
    if json {
        return json_line(answer);
    }
    if let Some(reason) = &answer.reason {
        return format!("none: {reason}");
    }
    let addresses: Vec<String> = answer.endpoints.iter().map(|e| e.address()).collect();
    match answer.role {
        EndpointRole::Primary => {
            format!("{} epoch={}", addresses.join(","), answer.epoch.map_or("?".to_string(), |e| e.to_string()))
        }
        EndpointRole::Replica => addresses.join(","),
    }
}

/// Writes one line and flushes it (a reader acts on each line as it comes); false when stdout
/// is closed.
fn write_line(line: &str) -> bool {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}").and_then(|()| stdout.flush()).is_ok()
}

/// Resolves when stdout's reader goes away (a pipe's read end closed, a terminal hung up), so an
/// idle `--watch` does not outlive its reader until the next change. An error of the poller
/// itself drops the sender instead.
fn stdout_closed() -> tokio::sync::oneshot::Receiver<()> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    // A plain thread, not `spawn_blocking`: it blocks for the whole run, and the runtime would
    // wait for it on shutdown; the process's exit ends it.
    std::thread::spawn(move || {
        let mut fd = libc::pollfd { fd: libc::STDOUT_FILENO, events: 0, revents: 0 };
        loop {
            // SAFETY: poll(2) on one pollfd we own; with no events asked for, it returns only on
            // an error or hang-up of stdout (never for a file or /dev/null).
            let rc = unsafe { libc::poll(&mut fd, 1, -1) };
            if rc < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            if rc > 0 && fd.revents & (libc::POLLERR | libc::POLLHUP) != 0 {
                let _ = tx.send(());
            }
            return;
        }
    });
    rx
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::endpoint::EndpointAddr;

    fn answer(role: EndpointRole, ports: &[u16], reason: Option<&str>) -> EndpointAnswer {
        EndpointAnswer {
            cluster: "main".into(),
            role,
            epoch: Some(3),
            endpoints: ports
                .iter()
                .map(|p| EndpointAddr { node: format!("db{p}"), host: "10.0.0.1".into(), port: *p })
                .collect(),
            reason: reason.map(str::to_string),
            recheck_at_ms: None,
        }
    }

    #[test]
    fn watch_lines_name_the_epoch_for_the_primary_only() {
        assert_eq!(watch_line(&answer(EndpointRole::Primary, &[3306], None), false), "10.0.0.1:3306 epoch=3");
        assert_eq!(
            watch_line(&answer(EndpointRole::Replica, &[3307, 3308], None), false),
            "10.0.0.1:3307,10.0.0.1:3308"
        );
        let none = answer(EndpointRole::Primary, &[], Some("primary db1 is read-only"));
        assert_eq!(watch_line(&none, false), "none: primary db1 is read-only");
        let v: serde_json::Value = serde_json::from_str(&watch_line(&none, true)).unwrap();
        assert_eq!(v["reason"], "primary db1 is read-only");
        assert_eq!(v["epoch"], 3);
        assert_eq!(v["endpoints"], serde_json::json!([]));
    }

    #[test]
    fn help_names_the_exit_codes_and_the_time_limit() {
        use clap::CommandFactory;
        let mut cli = crate::cli::Cli::command();
        let help = cli.find_subcommand_mut("endpoint").expect("endpoint").render_long_help().to_string();
        for text in [
            format!("{EXIT_FOUND} at least one"),
            format!("{EXIT_NONE} none"),
            format!("{EXIT_UNREACHABLE} ZooKeeper unreachable or silent for {} s", ANSWER_TIMEOUT_MS / 1000),
        ] {
            assert!(help.contains(&text), "{text:?} not in:\n{help}");
        }
    }
}
