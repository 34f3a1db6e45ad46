//! `myzoo ack --cluster C`: acknowledges the last automatic failover, which lifts the
//! coordinator's cool-down at once (audited). Exit 0 done, 1 error, 4 read-only mode.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use zookeeper_client::Client;

use super::out;
use crate::agent::coordinator;
use crate::audit::{self, AuditRecord, AUDIT_SCHEMA};
use crate::cli::ConsoleArgs;
use crate::cluster::ClusterPaths;
use crate::ops::actor::Actor;

/// How long the command waits for ZooKeeper.
const CONNECT_TIMEOUT_MS: u64 = 10_000;

pub fn run(rt: &tokio::runtime::Runtime, args: &ConsoleArgs, cluster: String) -> anyhow::Result<ExitCode> {
    crate::logging::to_stderr();
    let r = crate::config::resolve(&super::overrides(args))?;
    if r.read_only {
        eprintln!("myzoo: read-only mode: nothing is changed");
        return Ok(ExitCode::from(super::zk::EXIT_READ_ONLY));
    }
    rt.block_on(async {
        let connector =
            Client::connector().with_session_timeout(Duration::from_millis(r.session_timeout_ms)).with_fail_eagerly();
        let client = tokio::time::timeout(Duration::from_millis(CONNECT_TIMEOUT_MS), connector.connect(&r.connect))
            .await
            .with_context(|| format!("ZooKeeper at {} did not answer within {CONNECT_TIMEOUT_MS} ms", r.connect))?
            .with_context(|| format!("connecting to ZooKeeper at {}", r.connect))?;
        let paths = ClusterPaths::new(&r.root, &cluster);
        client.check_stat(&paths.config()).await?.with_context(|| format!("no cluster named {cluster:?}"))?;
        let actor = Actor::from_env();
        let now = audit::now_ms();
        let who = format!("{}@{}", actor.user, actor.host);
        let state = coordinator::update_state(&client, &paths, |s| {
            s.acked_ms = Some(now);
            s.acked_by = Some(who.clone());
        })
        .await
        .map_err(|e| anyhow::anyhow!("{}: {}", paths.coordinator_dir(), crate::zk::describe_error(&e)))?;
        let record = AuditRecord {
            schema: AUDIT_SCHEMA,
            time_ms: now,
            user: actor.user.clone(),
            host: actor.host.clone(),
            ssh_client: actor.ssh_client.clone(),
            action: "ack".into(),
            path: paths.coordinator_dir(),
            version_before: None,
            version_after: None,
            digest_before: None,
            digest_after: None,
            result: "ok".into(),
            origin: "cli".into(),
            detail: Some("acknowledged the last automatic failover; the cool-down is lifted".into()),
        };
        if let Err(e) = audit::append(&client, &r.root, &record).await {
            eprintln!("myzoo: {e}");
        }
        let blocked = state.blocked(audit::now_ms());
        out(&format!(
            "acknowledged by {who}; automatic failover {}\n",
            if blocked { "still blocked" } else { "may act again" }
        ));
        Ok(ExitCode::SUCCESS)
    })
}
