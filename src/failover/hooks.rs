//! Operator hooks: optional shell commands from the cluster config run before and after a
//! switchover or failover (proxies, DNS), with the operation's facts in the environment and a
//! time limit. A failing hook before a switchover aborts it; after, it is reported.

use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result};

/// Most output of a hook kept for the journal.
const HOOK_OUTPUT_MAX_BYTES: usize = 2_000;

/// What a hook learns about the operation, as `MYZOO_*` variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookEnv {
    pub operation: String,
    pub phase: String,
    pub cluster: String,
    pub old_primary: String,
    pub new_primary: String,
    pub epoch: u64,
}

impl HookEnv {
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("MYZOO_OPERATION", self.operation.clone()),
            ("MYZOO_PHASE", self.phase.clone()),
            ("MYZOO_CLUSTER", self.cluster.clone()),
            ("MYZOO_OLD_PRIMARY", self.old_primary.clone()),
            ("MYZOO_NEW_PRIMARY", self.new_primary.clone()),
            ("MYZOO_EPOCH", self.epoch.to_string()),
        ]
    }
}

/// Runs `command` with `sh -c`; Ok with its (trimmed, cut) output when it exits 0 in time.
pub async fn run(command: &str, env: &HookEnv, timeout: Duration) -> Result<String> {
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c").arg(command).envs(env.vars()).stdin(Stdio::null()).kill_on_drop(true);
    let output = tokio::time::timeout(timeout, cmd.output())
        .await
        .with_context(|| format!("hook `{command}` took over {} s and was killed", timeout.as_secs()))?
        .with_context(|| format!("starting hook `{command}`"))?;
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    let text = cut(text.trim());
    anyhow::ensure!(output.status.success(), "hook `{command}` failed ({}): {text}", output.status);
    Ok(text)
}

fn cut(s: &str) -> String {
    if s.len() <= HOOK_OUTPUT_MAX_BYTES {
        return s.to_string();
    }
    let mut end = HOOK_OUTPUT_MAX_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> HookEnv {
        HookEnv {
            operation: "switchover".into(),
            phase: "pre".into(),
            cluster: "main".into(),
            old_primary: "db1".into(),
            new_primary: "db2".into(),
            epoch: 7,
        }
    }

    #[tokio::test]
    async fn hooks_see_the_operation_and_fail_loudly() {
        let out = run(
            "echo $MYZOO_CLUSTER $MYZOO_OLD_PRIMARY $MYZOO_NEW_PRIMARY $MYZOO_EPOCH",
            &env(),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
        assert_eq!(out, "main db1 db2 7");
        let err = run("echo nope >&2; exit 3", &env(), Duration::from_secs(5)).await.unwrap_err();
        assert!(format!("{err:#}").contains("nope"), "{err:#}");
        let err = run("sleep 5", &env(), Duration::from_millis(200)).await.unwrap_err();
        assert!(format!("{err:#}").contains("killed"), "{err:#}");
    }
}
