//! `myzoo zk get | set | create | delete`: the console's znode operations for scripts, through
//! the same [`Ops::apply`] (same guards, same audit) with `Origin::Cli`.
//!
//! Exit codes: 0 done, 1 error, 3 BadVersion (someone else changed the znode), 4 refused by
//! read-only mode. (2 is clap's usage error.)

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use zookeeper_client::Client;

use super::{Mutation, NodeMode, OpError, Ops, Origin, Outcome};
use crate::commands::out;
use crate::config::Overrides;
use crate::secrets;
use crate::zk::load::fetch_node;
use crate::zk::NodeInfo;

/// Exit code when the znode's version was not the expected one.
pub const EXIT_BAD_VERSION: u8 = 3;
/// Exit code when read-only mode refused the action.
pub const EXIT_READ_ONLY: u8 = 4;
/// How long a command waits for ZooKeeper before giving up.
const CONNECT_TIMEOUT_MS: u64 = 10_000;

/// Shown under every `myzoo zk` help page.
const EXIT_HELP: &str = "Exit codes: 0 done, 1 error, 3 BadVersion (changed by someone else), 4 refused: read-only.";

#[derive(Debug, Subcommand)]
#[command(after_help = EXIT_HELP)]
pub enum ZkAction {
    /// Print a znode's data; secrets in JSON are masked unless --reveal (which is audited).
    #[command(after_help = EXIT_HELP)]
    Get {
        /// The znode's absolute path.
        path: String,
        /// `{path, stat, data_text | data_hex, masked}` instead of the raw data.
        #[arg(long)]
        json: bool,
        /// Show secrets unmasked (recorded in the audit log; refused in read-only mode).
        #[arg(long)]
        reveal: bool,
    },
    /// Replace a znode's data, checked against the version you read (or --force to overwrite).
    #[command(after_help = EXIT_HELP)]
    Set {
        /// The znode's absolute path.
        path: String,
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        version: VersionArgs,
        /// The cluster's name, required for destructive changes on a production cluster.
        #[arg(long, value_name = "CLUSTER")]
        confirm: Option<String>,
        /// Print the outcome as one JSON object (also on failure).
        #[arg(long)]
        json: bool,
    },
    /// Create a znode (its parent must exist); prints the created path.
    #[command(after_help = EXIT_HELP)]
    Create {
        /// The znode's absolute path.
        path: String,
        #[command(flatten)]
        data: DataArgs,
        #[arg(long, value_enum, default_value_t = ModeArg::Persistent)]
        mode: ModeArg,
        /// Time to live for `--mode ttl`.
        #[arg(long, value_name = "MS", required_if_eq("mode", "ttl"))]
        ttl_ms: Option<u64>,
        /// Print the outcome as one JSON object (also on failure).
        #[arg(long)]
        json: bool,
    },
    /// Delete a znode, checked against its version (or --force); --recursive for a subtree.
    #[command(after_help = EXIT_HELP)]
    Delete {
        /// The znode's absolute path.
        path: String,
        #[command(flatten)]
        version: VersionArgs,
        /// Delete every descendant too.
        #[arg(long)]
        recursive: bool,
        /// The cluster's name, required for deletes in a production cluster.
        #[arg(long, value_name = "CLUSTER")]
        confirm: Option<String>,
        /// Print the outcome as one JSON object (also on failure).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// The data, as given.
    #[arg(long, conflicts_with = "file")]
    pub data: Option<String>,
    /// Read the data from a file; `-` reads standard input.
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct VersionArgs {
    /// Write only if the znode is still at this version.
    #[arg(long, value_name = "N", required_unless_present = "force", conflicts_with = "force")]
    pub expect_version: Option<i32>,
    /// Write whatever the version is.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    Persistent,
    PersistentSequential,
    Container,
    Ttl,
    /// Refused (the znode would vanish when this command exits); listed to say why.
    Ephemeral,
}

impl DataArgs {
    fn read(&self) -> anyhow::Result<Option<Vec<u8>>> {
        match (&self.data, &self.file) {
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
}

/// Runs one `myzoo zk …` command.
pub fn run(rt: &tokio::runtime::Runtime, zk: Overrides, action: ZkAction) -> anyhow::Result<ExitCode> {
    let r = crate::config::resolve(&zk)?;
    rt.block_on(async {
        let connector = Client::connector().with_session_timeout(Duration::from_millis(r.session_timeout_ms));
        let client = tokio::time::timeout(Duration::from_millis(CONNECT_TIMEOUT_MS), connector.connect(&r.connect))
            .await
            .with_context(|| format!("ZooKeeper at {} did not answer within {CONNECT_TIMEOUT_MS} ms", r.connect))?
            .with_context(|| format!("connecting to ZooKeeper at {}", r.connect))?;
        let ops = Ops::new(client, &r.root, Origin::Cli).with_read_only(r.read_only);
        execute(&ops, action).await
    })
}

async fn execute(ops: &Ops, action: ZkAction) -> anyhow::Result<ExitCode> {
    match action {
        ZkAction::Get { path, json, reveal } => get(ops, &path, json, reveal).await,
        ZkAction::Set { path, data, version, confirm, json } => {
            let data = data.read()?.context("give the data with --data TEXT or --file PATH (- for stdin)")?;
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
            let m = Mutation::Create { path: path.clone(), data: data.read()?.unwrap_or_default(), mode };
            Ok(report(json, "create", &path, ops.apply(m, None).await))
        }
        ZkAction::Delete { path, version, recursive, confirm, json } => {
            let m = Mutation::Delete { path: path.clone(), expected_version: expected(&version), recursive };
            Ok(report(json, "delete", &path, ops.apply(m, confirm.as_deref()).await))
        }
    }
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

fn out_bytes(data: &[u8]) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(data).and_then(|()| stdout.flush());
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
                OpError::BadVersion { .. } => EXIT_BAD_VERSION,
                OpError::ReadOnly { .. } => EXIT_READ_ONLY,
                _ => 1,
            };
            if json {
                let current = match &e {
                    OpError::BadVersion { current, .. } => current.as_ref().map(|n| n.stat.version),
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
