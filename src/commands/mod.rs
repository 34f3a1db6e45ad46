//! The scriptable front ends, one file per command: each turns its parsed arguments
//! ([`crate::cli`]) into the plain options a service takes, calls the service, and prints the
//! result with its exit code. Services never import this module or `cli`.
//!
//! A new command is a variant in [`crate::cli::Command`], a file here and one arm in [`run`].

pub mod ack;
pub mod agent;
pub mod console;
pub mod endpoint;
pub mod failover;
pub mod generate;
pub mod haproxy_config;
pub mod mysql_backup;
pub mod operation;
pub mod rejoin;
pub mod sandbox;
pub mod status;
pub mod switchover;
pub mod zk;
pub mod zk_acl;
pub mod zk_backup;
pub mod zk_ensemble;

use std::process::ExitCode;

use crate::cli::{Cli, Command, ConsoleArgs};
use crate::config;

/// Runs the parsed command; errors are printed to stderr with their causes.
pub fn run(cli: Cli) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("myzoo: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        None => console::run(&runtime, cli.console, None),
        Some(Command::Console(args)) => console::run(&runtime, cli.console, Some(args)),
        Some(Command::Generate { what }) => generate::run(what),
        Some(Command::Agent(args)) => agent::run(&runtime, &cli.console, args),
        Some(Command::Status { cluster, json }) => status::run(&runtime, &cli.console, cluster, json),
        Some(Command::Endpoint { cluster, role, watch, json }) => {
            endpoint::run(&runtime, &cli.console, &cluster, role, watch, json)
        }
        Some(Command::HaproxyConfig(args)) => haproxy_config::run(&runtime, &cli.console, &args),
        Some(Command::Sandbox { action }) => sandbox::run(&runtime, action),
        Some(Command::Switchover { flags, to }) => {
            switchover::run(&runtime, operation::OperationArgs::new(&cli.console, flags), to)
        }
        Some(Command::Failover { flags, to, force }) => {
            failover::run(&runtime, operation::OperationArgs::new(&cli.console, flags), to, force)
        }
        Some(Command::Rejoin { flags, node }) => {
            rejoin::run(&runtime, operation::OperationArgs::new(&cli.console, flags), node)
        }
        Some(Command::Ack { cluster }) => ack::run(&runtime, &cli.console, cluster),
        Some(Command::Zk { action }) => zk::run(&runtime, &cli.console, action),
        Some(Command::ZkBackup { action }) => zk_backup::run(&runtime, &cli.console, action),
        Some(Command::MysqlBackup { action }) => mysql_backup::run(&runtime, &cli.console, action),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("myzoo: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// A command line clap refused. Help and version go out as clap prints them; a usage error
/// exits 2, except for `myzoo status` and `myzoo zk ensemble`, whose callers are monitoring
/// systems that read 2 as "critical": there it is 3, unknown.
pub fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let _ = e.print();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let has = |word: &str| args.iter().any(|a| a == word);
    let status = has("status") || (has("zk") && has("ensemble"));
    if status {
        println!("UNKNOWN: bad command line");
        return ExitCode::from(status::EXIT_UNKNOWN);
    }
    ExitCode::from(2)
}

/// The connection options as the services take them.
pub fn overrides(args: &ConsoleArgs) -> config::Overrides {
    config::Overrides {
        zk: args.zk.clone(),
        profile: args.profile.clone(),
        session_timeout_ms: args.session_timeout_ms,
        zk_auth_file: args.zk_auth_file.clone(),
        root: args.root.clone(),
        read_only: args.read_only,
        theme: args.theme.clone(),
        log_file: args.log_file.clone(),
        // Set by the commands that operate on MySQL (switchover, failover, rejoin); the global
        // flags reach only ZooKeeper.
        mysql: config::MysqlAccess::default(),
        zk_tls: crate::tls::TlsOverrides {
            ca_file: args.zk_tls_ca.clone(),
            cert_file: args.zk_tls_cert.clone(),
            key_file: args.zk_tls_key.clone(),
            no_verify_hostname: args.zk_tls_no_verify_hostname,
        },
        mysql_tls: crate::tls::TlsOverrides::default(),
    }
}

/// A `--mysql-tls`/`--backup-tls` value as the services take it.
pub fn tls_mode(arg: crate::cli::TlsModeArg) -> crate::tls::TlsMode {
    match arg {
        crate::cli::TlsModeArg::Off => crate::tls::TlsMode::Off,
        crate::cli::TlsModeArg::Preferred => crate::tls::TlsMode::Preferred,
        crate::cli::TlsModeArg::Required => crate::tls::TlsMode::Required,
    }
}

/// How long a command waits for ZooKeeper before giving up.
pub const ZK_CONNECT_TIMEOUT_MS: u64 = 10_000;

/// A ZooKeeper session for a command, or an error after [`ZK_CONNECT_TIMEOUT_MS`]; with a
/// credential, also an error when the ACL of `root` names its user with another password (see
/// [`check_zk_auth`]).
pub async fn connect_zk(zk: &crate::zk::ZkAccess, root: &str) -> anyhow::Result<zookeeper_client::Client> {
    use anyhow::Context;
    let connect = &zk.connect;
    let client = tokio::time::timeout(std::time::Duration::from_millis(ZK_CONNECT_TIMEOUT_MS), zk.connect_eagerly())
        .await
        .with_context(|| format!("ZooKeeper at {connect} did not answer within {ZK_CONNECT_TIMEOUT_MS} ms"))?
        .with_context(|| format!("connecting to ZooKeeper at {connect}"))?;
    check_zk_auth(&client, zk, root).await?;
    Ok(client)
}

/// ZooKeeper takes any digest credential and a wrong password only shows as NoAuth later: a
/// command checks its credential against the ACL of the root it works under and stops at once,
/// saying so, instead of failing halfway with a bare NoAuth.
pub async fn check_zk_auth(
    client: &zookeeper_client::Client,
    zk: &crate::zk::ZkAccess,
    root: &str,
) -> anyhow::Result<()> {
    crate::zk::auth::check(client, zk.auth.as_ref(), root).await.map_err(anyhow::Error::msg)
}

/// Writes to stdout; a closed pipe (`myzoo … | head`) is not an error worth a panic.
pub fn out(text: &str) {
    out_bytes(text.as_bytes());
}

/// [`out`] for data that may not be text.
pub fn out_bytes(data: &[u8]) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(data).and_then(|()| stdout.flush());
}
