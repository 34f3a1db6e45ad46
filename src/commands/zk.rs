//! `myzoo zk get | set | create | delete | find | secrets` (and `getacl | setacl | digest`, in
//! `zk_acl`): the console's znode operations for scripts, through the same [`Ops::apply`] (same
//! guards, same audit) with `Origin::Cli`. The mutations and their guards live in `ops`; this
//! file reads the arguments, prints, and chooses the exit code.
//!
//! Exit codes: 0 done, 1 error, 3 BadVersion (someone else changed the znode), 4 refused by
//! read-only mode. (2 is clap's usage error.) `myzoo zk ensemble` is `commands::zk_ensemble`.

use std::io::Read;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::json;

use super::{out, out_bytes};
use crate::cli::{ConsoleArgs, DataArgs, ModeArg, VersionArgs, ZkAction};
use crate::ops::{Mutation, NodeMode, OpError, Ops, Origin, Outcome};
use crate::secrets;
use crate::zk::find::{FindQuery, Found};
use crate::zk::load::fetch_node;
use crate::zk::NodeInfo;

/// Exit code when the znode's version was not the expected one.
pub const EXIT_BAD_VERSION: u8 = 3;
/// Exit code when read-only mode refused the action.
pub const EXIT_READ_ONLY: u8 = 4;
/// `zk find`: nothing matched (as grep).
pub const EXIT_FIND_NO_MATCH: u8 = 1;
/// `zk find`: a bad regular expression (clap's usage errors exit 2 too).
pub const EXIT_FIND_USAGE: u8 = 2;
/// `zk find`: the walk stopped on an error (a lost connection).
pub const EXIT_FIND_ERROR: u8 = 3;
/// `zk secrets`: no znode holds a password-like key in plain text.
pub const EXIT_SECRETS_NONE: u8 = 0;
/// `zk secrets`: some do.
pub const EXIT_SECRETS_FOUND: u8 = 1;

/// The data from `--data`, `--file PATH` or `--file -` (standard input); none if neither.
fn read_data(args: &DataArgs) -> anyhow::Result<Option<Vec<u8>>> {
    match (&args.data, &args.file) {
        (Some(d), _) => Ok(Some(d.clone().into_bytes())),
        (None, Some(f)) if f.as_os_str() == "-" => {
            let mut buf = Vec::new();
            std::io::stdin().read_to_end(&mut buf).context("reading standard input")?;
            Ok(Some(buf))
        }
        (None, Some(f)) => Ok(Some(std::fs::read(f).with_context(|| format!("reading {}", f.display()))?)),
        (None, None) => Ok(None),
    }
}

/// Runs one `myzoo zk …` command.
pub fn run(rt: &tokio::runtime::Runtime, args: &ConsoleArgs, action: ZkAction) -> anyhow::Result<ExitCode> {
    // The ensemble's health has its own front end and exit codes, and works without a session.
    if let ZkAction::Ensemble { json } = action {
        return super::zk_ensemble::run(rt, args, json);
    }
    crate::logging::to_stderr();
    // A digest is computed here; it needs no ZooKeeper and no profile.
    if let ZkAction::Digest { user, password_file } = &action {
        return super::zk_acl::digest(user, password_file.as_deref());
    }
    let r = crate::config::resolve(&super::overrides(args))?;
    // For find and secrets, 1 is an answer ("nothing matched", "some found"): their errors need a
    // code of their own.
    let is_find = matches!(action, ZkAction::Find { .. } | ZkAction::Secrets { .. });
    let root = r.root.clone();
    rt.block_on(async {
        // Gives up at once when every server refuses, instead of cycling until the timeout.
        let connected = super::connect_zk(&r.zk(), &r.root).await;
        let client = match connected {
            Ok(c) => c,
            Err(e) if is_find => {
                eprintln!("myzoo: {e:#}");
                return Ok(ExitCode::from(EXIT_FIND_ERROR));
            }
            Err(e) => return Err(e),
        };
        let ops = Ops::new(client, &r.root, Origin::Cli).with_read_only(r.read_only);
        execute(&ops, action, &root).await
    })
}

async fn execute(ops: &Ops, action: ZkAction, root: &str) -> anyhow::Result<ExitCode> {
    match action {
        ZkAction::Get { path, json, reveal } => get(ops, &path, json, reveal).await,
        ZkAction::Set { path, data, version, confirm, json } => {
            let data = read_data(&data)?.context("give the data with --data TEXT or --file PATH (- for stdin)")?;
            let m = Mutation::Set { path: path.clone(), data, expected_version: expected(&version) };
            Ok(report(json, "set", &path, ops.apply(m, confirm.as_deref()).await))
        }
        ZkAction::Create { path, data, mode, ttl_ms, json } => {
            let mode = match mode {
                ModeArg::Persistent => NodeMode::Persistent,
                ModeArg::PersistentSequential => NodeMode::PersistentSequential,
                ModeArg::Container => NodeMode::Container,
                ModeArg::Ephemeral => NodeMode::Ephemeral,
                ModeArg::Ttl => NodeMode::PersistentWithTtl { ttl_ms: ttl_ms.unwrap_or(0) },
            };
            let m = Mutation::Create { path: path.clone(), data: read_data(&data)?.unwrap_or_default(), mode };
            Ok(report(json, "create", &path, ops.apply(m, None).await))
        }
        ZkAction::Find { path, name, data, json } => find(ops, &path, name.as_deref(), data.as_deref(), json).await,
        ZkAction::Delete { path, version, recursive, confirm, json } => {
            let m = Mutation::Delete { path: path.clone(), expected_version: expected(&version), recursive };
            Ok(report(json, "delete", &path, ops.apply(m, confirm.as_deref()).await))
        }
        ZkAction::Getacl { path, json } => super::zk_acl::getacl(ops, &path, json).await,
        ZkAction::Setacl { path, acl, version, confirm, json } => {
            super::zk_acl::setacl(ops, &path, &acl, version, confirm.as_deref(), json).await
        }
        ZkAction::Secrets { path, json } => secrets(ops, path.as_deref().unwrap_or(root), json).await,
        // Handled before connecting.
        ZkAction::Digest { .. } => Ok(ExitCode::FAILURE),
        // Dispatched in `run`, before any session is opened.
        ZkAction::Ensemble { .. } => anyhow::bail!("`zk ensemble` is not a znode operation"),
    }
}

/// `myzoo zk secrets`: the find walk with the secrets query; each znode holding password-like
/// keys in plain text is listed with the keys (never the values). Exit 0 none, 1 some, 3 error.
async fn secrets(ops: &Ops, root: &str, json: bool) -> anyhow::Result<ExitCode> {
    let query = FindQuery { secrets: true, ..FindQuery::default() };
    let print = |f: Found| match (f, json) {
        (Found::Match { path, snippet, .. }, true) => out(&format!(
            "{}\n",
            json!({"kind": "secret", "path": path, "keys": snippet.split(", ").collect::<Vec<_>>()})
        )),
        (Found::Match { path, snippet, .. }, false) => out(&format!("{path}\t{snippet}\n")),
        (Found::Unreadable { path, reason }, true) => {
            out(&format!("{}\n", json!({"kind": "unreadable", "path": path, "reason": reason})))
        }
        (Found::Unreadable { path, reason }, false) => eprintln!("myzoo: {path}: not read: {reason}"),
    };
    let cancel = tokio_util::sync::CancellationToken::new();
    let counts = match crate::zk::find::find(ops.client(), root, &query, &cancel, print, |_| {}).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("myzoo: secrets under {root} stopped: {e}");
            return Ok(ExitCode::from(EXIT_FIND_ERROR));
        }
    };
    if json {
        let summary =
            json!({"kind": "summary", "read": counts.read, "found": counts.matched, "unreadable": counts.unreadable});
        out(&format!("{summary}\n"));
    } else if counts.matched > 0 {
        eprintln!(
            "myzoo: {} of {} znodes under {root} hold password-like keys in plain text: keep credentials in \
             files and refer to them (password_file …)",
            counts.matched, counts.read
        );
    } else {
        eprintln!("myzoo: no password-like keys in plain text in {} znodes under {root}", counts.read);
    }
    Ok(ExitCode::from(if counts.matched > 0 { EXIT_SECRETS_FOUND } else { EXIT_SECRETS_NONE }))
}

/// `myzoo zk find`: streams matches as they are read (memory stays flat however big the tree),
/// then a summary. Exit 0 when something matched, 1 when nothing did, 3 on an error.
async fn find(ops: &Ops, root: &str, name: Option<&str>, data: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let regex = |what: &str, re: Option<&str>| -> anyhow::Result<Option<regex::Regex>> {
        re.map(|r| regex::Regex::new(r).with_context(|| format!("--{what} is not a valid regular expression")))
            .transpose()
    };
    let query = match (regex("name", name), regex("data", data)) {
        (Ok(name), Ok(data)) => FindQuery { name, data, ..FindQuery::default() },
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("myzoo: {e:#}");
            return Ok(ExitCode::from(EXIT_FIND_USAGE));
        }
    };
    let started = std::time::Instant::now();
    let print = |f: Found| match (f, json) {
        (Found::Match { path, stat, snippet }, true) => {
            out(&format!("{}\n", json!({"kind": "match", "path": path, "version": stat.version, "snippet": snippet})))
        }
        (Found::Match { path, snippet, .. }, false) if snippet.is_empty() => out(&format!("{path}\n")),
        (Found::Match { path, snippet, .. }, false) => out(&format!("{path}\t{snippet}\n")),
        (Found::Unreadable { path, reason }, true) => {
            out(&format!("{}\n", json!({"kind": "unreadable", "path": path, "reason": reason})))
        }
        (Found::Unreadable { path, reason }, false) => eprintln!("myzoo: {path}: not read: {reason}"),
    };
    let cancel = tokio_util::sync::CancellationToken::new();
    let counts = match crate::zk::find::find(ops.client(), root, &query, &cancel, print, |_| {}).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("myzoo: find under {root} stopped: {e}");
            return Ok(ExitCode::from(EXIT_FIND_ERROR));
        }
    };
    let ms = started.elapsed().as_millis();
    if json {
        let summary = json!({"kind": "summary", "read": counts.read, "matched": counts.matched,
            "unreadable": counts.unreadable, "elapsed_ms": ms});
        out(&format!("{summary}\n"));
    } else {
        eprintln!(
            "myzoo: {} znodes read, {} matched, {} unreadable, in {ms} ms",
            counts.read, counts.matched, counts.unreadable
        );
    }
    Ok(if counts.matched > 0 { ExitCode::SUCCESS } else { ExitCode::from(EXIT_FIND_NO_MATCH) })
}

fn expected(v: &VersionArgs) -> Option<i32> {
    if v.force {
        None
    } else {
        v.expect_version
    }
}

async fn get(ops: &Ops, path: &str, json: bool, reveal: bool) -> anyhow::Result<ExitCode> {
    let node = match fetch_node(ops.client(), path).await {
        Ok(n) => n,
        Err(e) if matches!(e.source, Some(zookeeper_client::Error::NoAuth)) => {
            let who = crate::zk::auth::whoami_text(ops.client()).await;
            let message = format!("{path}: NoAuth: reading needs READ permission, which its ACL does not give; {who}");
            return Ok(fail(json, "get", path, &message, "no-auth", 1));
        }
        Err(e) => return Ok(fail(json, "get", path, &e.to_string(), "zookeeper", 1)),
    };
    let masked = std::str::from_utf8(&node.data).ok().and_then(secrets::mask_json);
    let shown = match (masked, reveal) {
        (Some(m), false) => Some(m.into_bytes()),
        (Some(_), true) => {
            if let Err(e) = ops.apply(Mutation::RevealSecret { path: path.to_string() }, None).await {
                return Ok(report(json, "get", path, Err(e)));
            }
            None
        }
        (None, _) => None,
    };
    let is_masked = shown.is_some();
    let data = shown.unwrap_or_else(|| node.data.clone());
    if json {
        out(&format!("{}\n", get_json(&node, &data, is_masked)));
    } else {
        out_bytes(&data);
    }
    Ok(ExitCode::SUCCESS)
}

/// `data_text` when the data is UTF-8, else `data_hex`.
fn get_json(node: &NodeInfo, data: &[u8], masked: bool) -> serde_json::Value {
    let mut v = json!({ "path": node.path, "stat": node.stat, "masked": masked });
    match std::str::from_utf8(data) {
        Ok(text) => v["data_text"] = json!(text),
        Err(_) => v["data_hex"] = json!(data.iter().map(|b| format!("{b:02x}")).collect::<String>()),
    }
    v
}

/// Prints the outcome (text or JSON) and chooses the exit code.
fn report(json: bool, action: &str, path: &str, result: Result<Outcome, OpError>) -> ExitCode {
    match result {
        Ok(o) => {
            if json {
                let v = json!({
                    "ok": true, "action": action, "path": o.path,
                    "version_before": o.version_before, "version_after": o.version_after,
                    "audit_path": o.audit_path, "audit_error": o.audit_error,
                });
                out(&format!("{v}\n"));
            } else {
                out(&format!("{}\n", o.path));
            }
            if let Some(e) = &o.audit_error {
                eprintln!("myzoo: warning: {e}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            let code = match e {
                OpError::BadVersion { .. } | OpError::AclBadVersion { .. } => EXIT_BAD_VERSION,
                OpError::ReadOnly { .. } => EXIT_READ_ONLY,
                _ => 1,
            };
            if json {
                let current = match &e {
                    OpError::BadVersion { current, .. } => current.as_ref().map(|n| n.stat.version),
                    OpError::AclBadVersion { current, .. } => current.as_ref().map(|(aversion, _)| *aversion),
                    _ => None,
                };
                let v = json!({
                    "ok": false, "action": action, "path": path, "kind": e.kind(), "error": e.to_string(),
                    "current_version": current,
                });
                out(&format!("{v}\n"));
            }
            eprintln!("myzoo: {e}");
            ExitCode::from(code)
        }
    }
}

fn fail(json: bool, action: &str, path: &str, message: &str, kind: &str, code: u8) -> ExitCode {
    if json {
        out(&format!("{}\n", json!({ "ok": false, "action": action, "path": path, "kind": kind, "error": message })));
    }
    eprintln!("myzoo: {message}");
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// The help text lives with the clap types; it must name the codes this file returns.
    #[test]
    fn help_names_the_exit_codes() {
        let mut cli = crate::cli::Cli::command();
        let help = cli.find_subcommand_mut("zk").expect("zk").render_long_help().to_string();
        assert!(help.contains(&format!("{EXIT_BAD_VERSION} BadVersion")), "{help}");
        assert!(help.contains(&format!("{EXIT_READ_ONLY} refused: read-only")), "{help}");
    }
}
