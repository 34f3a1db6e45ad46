//! `myzoo zk getacl | setacl | digest`: a znode's ACL read and changed from scripts (the change
//! through [`Ops::apply`], version-checked on the ACL version and audited like the console's),
//! and the digest id an ACL names, computed from a password read from standard input or a file,
//! never from the command line.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::json;

use super::out;
use super::zk::{EXIT_BAD_VERSION, EXIT_READ_ONLY};
use crate::ops::{Mutation, OpError, Ops};
use crate::zk::load::fetch_acl;
use crate::zk::{acl, auth};

/// `myzoo zk getacl PATH`: the entries on stdout, one per line; the ACL version on stderr.
pub async fn getacl(ops: &Ops, path: &str, json: bool) -> anyhow::Result<ExitCode> {
    let (aversion, entries) = match fetch_acl(ops.client(), path).await {
        Ok(read) => read,
        Err(e) => {
            let message = match e.source {
                Some(zookeeper_client::Error::NoAuth) => format!(
                    "NoAuth: reading an ACL needs READ or ADMIN permission, which its ACL does not give; {}",
                    auth::whoami_text(ops.client()).await
                ),
                _ => e.message,
            };
            if json {
                out(&format!("{}\n", json!({"ok": false, "path": path, "error": message})));
            }
            eprintln!("myzoo: {path}: {message}");
            return Ok(ExitCode::FAILURE);
        }
    };
    if json {
        let texts: Vec<String> = entries.iter().map(|e| e.text()).collect();
        out(&format!("{}\n", json!({"ok": true, "path": path, "aversion": aversion, "acl": texts})));
    } else {
        for e in &entries {
            out(&format!("{}\n", e.text()));
        }
        eprintln!("myzoo: {path}: ACL version {aversion} (setacl --version {aversion} changes it only if still so)");
    }
    Ok(ExitCode::SUCCESS)
}

/// `myzoo zk setacl PATH ACL… [--version N]`: parsed strictly, then through the mutation service.
pub async fn setacl(
    ops: &Ops,
    path: &str,
    texts: &[String],
    version: Option<i32>,
    confirm: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let entries = match acl::parse(texts) {
        Ok(e) => e,
        Err(e) => {
            if json {
                out(&format!(
                    "{}\n",
                    json!({"ok": false, "action": "setacl", "path": path, "kind": "invalid-acl", "error": e.to_string()})
                ));
            }
            eprintln!("myzoo: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let m = Mutation::SetAcl { path: path.to_string(), acl: entries.clone(), expected_aversion: version };
    match ops.apply(m, confirm).await {
        Ok(o) => {
            if json {
                let v = json!({
                    "ok": true, "action": "setacl", "path": o.path, "acl": acl::text(&entries),
                    "aversion_before": o.version_before, "aversion_after": o.version_after,
                    "audit_path": o.audit_path, "audit_error": o.audit_error,
                });
                out(&format!("{v}\n"));
            } else {
                out(&format!("{}\n", o.path));
            }
            if let Some(e) = &o.audit_error {
                eprintln!("myzoo: warning: {e}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let code = match e {
                OpError::AclBadVersion { .. } => EXIT_BAD_VERSION,
                OpError::ReadOnly { .. } => EXIT_READ_ONLY,
                _ => 1,
            };
            if json {
                let current = match &e {
                    OpError::AclBadVersion { current, .. } => {
                        current.as_ref().map(|(v, a)| json!({"aversion": v, "acl": acl::text(a)}))
                    }
                    _ => None,
                };
                let v = json!({"ok": false, "action": "setacl", "path": path, "kind": e.kind(), "error": e.to_string(), "current": current});
                out(&format!("{v}\n"));
            }
            eprintln!("myzoo: {e}");
            Ok(ExitCode::from(code))
        }
    }
}

/// `myzoo zk digest USER`: the password from `file`'s first line, else from standard input (asked
/// for without echo when it is a terminal); prints `USER:HASH`.
pub fn digest(user: &str, file: Option<&Path>) -> anyhow::Result<ExitCode> {
    let password = match file {
        Some(path) => {
            let text = crate::config::read_password_file(path)?;
            text.lines().next().unwrap_or_default().to_string()
        }
        None => read_password_from_stdin(user)?,
    };
    let cred = auth::ZkCredential::new(user, &password).map_err(|e| anyhow::anyhow!("{e}"))?;
    out(&format!("{}\n", cred.digest_id()));
    Ok(ExitCode::SUCCESS)
}

/// One line from standard input; on a terminal, asked for with the echo off.
fn read_password_from_stdin(user: &str) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    let tty = stdin.is_terminal();
    let echo = if tty {
        eprint!("password for {user}: ");
        let _ = std::io::stderr().flush();
        EchoOff::new()
    } else {
        None
    };
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line).context("reading the password from standard input");
    drop(echo);
    if tty {
        eprintln!();
    }
    read?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// Turns the terminal's echo off until dropped.
struct EchoOff(libc::termios);

impl EchoOff {
    fn new() -> Option<EchoOff> {
        // SAFETY: termios is plain data; tcgetattr fills it for fd 0, which is a terminal here.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(libc::STDIN_FILENO, &mut t) } != 0 {
            return None;
        }
        let saved = t;
        t.c_lflag &= !libc::ECHO;
        // SAFETY: `t` is a valid termios read from the same descriptor.
        if unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &t) } != 0 {
            return None;
        }
        Some(EchoOff(saved))
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        // SAFETY: restores the settings read in `new` on the same descriptor.
        unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &self.0) };
    }
}
