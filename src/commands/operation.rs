//! What `switchover`, `failover` and `rejoin` share: their common flags as plain options, and
//! connecting an [`Operator`] (ZooKeeper session, MySQL account, who is acting).

use std::time::Duration;

use anyhow::Context;
use zookeeper_client::Client;

use crate::cli::{ConsoleArgs, OperationFlags};
use crate::cluster::ClusterPaths;
use crate::config;
use crate::failover::{Access, Operator};
use crate::ops::actor::Actor;

/// How long a command waits for ZooKeeper before giving up.
const CONNECT_TIMEOUT_MS: u64 = 10_000;

/// The parsed flags of an operation command.
#[derive(Debug, Clone)]
pub struct OperationArgs {
    pub console: ConsoleArgs,
    pub cluster: String,
    pub dry_run: bool,
    pub yes: bool,
    pub confirm: Option<String>,
    pub json: bool,
    pub mysql: config::MysqlAccess,
}

impl OperationArgs {
    pub fn new(console: &ConsoleArgs, flags: OperationFlags) -> OperationArgs {
        OperationArgs {
            console: console.clone(),
            cluster: flags.cluster,
            dry_run: flags.dry_run,
            yes: flags.yes,
            confirm: flags.confirm,
            json: flags.json,
            mysql: config::MysqlAccess {
                user: flags.mysql_user,
                password_file: flags.mysql_password_file,
                repl_password_file: flags.repl_password_file,
            },
        }
    }
}

pub async fn connect_operator(args: &OperationArgs) -> anyhow::Result<Operator> {
    let mut overrides = super::overrides(&args.console);
    overrides.mysql = args.mysql.clone();
    let r = config::resolve(&overrides)?;
    let creds = config::operation_credentials(&r.mysql, "repl")?;
    let connector =
        Client::connector().with_session_timeout(Duration::from_millis(r.session_timeout_ms)).with_fail_eagerly();
    let client = tokio::time::timeout(Duration::from_millis(CONNECT_TIMEOUT_MS), connector.connect(&r.connect))
        .await
        .with_context(|| format!("ZooKeeper at {} did not answer within {CONNECT_TIMEOUT_MS} ms", r.connect))?
        .with_context(|| format!("connecting to ZooKeeper at {}", r.connect))?;
    Ok(Operator {
        client,
        paths: ClusterPaths::new(&r.root, &args.cluster),
        access: Access { user: creds.user, password: creds.password, repl_password: creds.repl_password },
        actor: Actor::from_env(),
        origin: "cli".into(),
        read_only: r.read_only,
    })
}
