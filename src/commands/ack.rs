//! `myzoo ack --cluster C`: acknowledges the last automatic failover, which lifts the
//! coordinator's cool-down at once (audited; `agent::coordinator::acknowledge`, which the
//! console's `:ack` calls too). Exit 0 done, 1 error, 4 read-only mode.

use std::process::ExitCode;

use super::out;
use crate::agent::coordinator;
use crate::cli::ConsoleArgs;
use crate::cluster::ClusterPaths;
use crate::ops::actor::Actor;
use crate::ops::Origin;

pub fn run(rt: &tokio::runtime::Runtime, args: &ConsoleArgs, cluster: String) -> anyhow::Result<ExitCode> {
    crate::logging::to_stderr();
    let r = crate::config::resolve(&super::overrides(args))?;
    if r.read_only {
        eprintln!("myzoo: read-only mode: nothing is changed");
        return Ok(ExitCode::from(super::zk::EXIT_READ_ONLY));
    }
    rt.block_on(async {
        let client = super::connect_zk(&r.zk(), &r.root).await?;
        let paths = ClusterPaths::new(&r.root, &cluster);
        let done = coordinator::acknowledge(&client, &paths, &Actor::from_env(), Origin::Cli.label()).await?;
        if let Some(e) = &done.audit_error {
            eprintln!("myzoo: the audit record failed: {e}");
        }
        out(&format!(
            "acknowledged by {}; automatic failover {}\n",
            done.by,
            if done.still_blocked { "still blocked" } else { "may act again" }
        ));
        Ok(ExitCode::SUCCESS)
    })
}
