//! `myzoo sandbox up | down | status`: the local playground from the command line.

use std::path::PathBuf;
use std::process::ExitCode;

use super::out;
use crate::cli::{SandboxAction, StateDirArg};
use crate::sandbox::{self, SandboxOptions, SandboxStatus};

pub fn run(rt: &tokio::runtime::Runtime, action: SandboxAction) -> anyhow::Result<ExitCode> {
    crate::logging::to_stderr();
    rt.block_on(execute(action))
}

/// `--state-dir`, else `$MYZOO_SANDBOX_DIR` (clap reads it), else the default state folder.
fn state_dir(arg: StateDirArg) -> PathBuf {
    arg.state_dir.unwrap_or_else(sandbox::default_state_dir)
}

async fn execute(action: SandboxAction) -> anyhow::Result<ExitCode> {
    match action {
        SandboxAction::Up { dir, zk_ensemble, no_mysql, semi_sync, no_zk_acl, tls } => {
            let opts = SandboxOptions {
                state_dir: state_dir(dir),
                zk_ensemble: usize::from(zk_ensemble),
                with_mysql: !no_mysql,
                seed: true,
                write_profile: true,
                agent_binary: std::env::current_exe().ok(),
                agent_interval_ms: sandbox::DEFAULT_AGENT_INTERVAL_MS,
                agent_session_timeout_ms: None,
                agent_heartbeat_ms: None,
                semi_sync,
                // Protected by default, as production trees are; everything the sandbox starts
                // and its profile carry the credential (README "ZooKeeper authentication").
                zk_acl: !no_zk_acl,
                zk_4lw_whitelists: Vec::new(),
                tls,
            };
            let status = sandbox::up(&opts).await?;
            out(&format!("{}Open the console with: myzoo\n", text(&status)));
            Ok(ExitCode::SUCCESS)
        }
        SandboxAction::Down { dir } => {
            sandbox::down(&state_dir(dir)).await?;
            out("sandbox stopped\n");
            Ok(ExitCode::SUCCESS)
        }
        SandboxAction::Status { dir, json } => {
            let status = sandbox::status(&state_dir(dir))?;
            if json {
                out(&format!("{}\n", serde_json::to_string_pretty(&status)?));
            } else {
                out(&text(&status));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn text(status: &SandboxStatus) -> String {
    let mut out = format!("state folder  {}\nzookeeper     {}\n", status.state_dir.display(), status.zk);
    if let Some(file) = &status.zk_auth_file {
        let tree = if status.zk_acl { "/myzoo writable with it only" } else { "/myzoo open to anyone" };
        out.push_str(&format!(
            "zk auth       digest {}, credential in {} ({tree})\n",
            sandbox::ZK_USER,
            file.display()
        ));
    }
    for m in &status.mysql {
        let pid = m.pid.map_or_else(|| "stopped".to_string(), |p| format!("pid {p}"));
        out.push_str(&format!("mariadb       {:<10} {:<8} {}:{}  {}\n", m.name, m.role, m.host, m.port, pid));
    }
    for a in &status.agents {
        let pid = a.pid.map_or_else(|| "stopped".to_string(), |p| format!("pid {p}"));
        let http = a.http_port.map(|p| format!("  http://127.0.0.1:{p}/health")).unwrap_or_default();
        out.push_str(&format!("agent         {:<10} {pid}{http}\n", a.name));
    }
    if let Some(ms) = status.semi_sync_timeout_ms {
        out.push_str(&format!("semi-sync     on (AFTER_SYNC, timeout {ms} ms)\n"));
    }
    if let Some(files) = &status.tls {
        let ca = files.ca_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
        out.push_str(&format!("tls           ZooKeeper and MariaDB (the cluster requires it), CA {ca}\n"));
    }
    if let (Some(user), Some(file)) = (&status.mysql_user, &status.mysql_password_file) {
        out.push_str(&format!("operations    as {user}, password in {}\n", file.display()));
    }
    out
}
