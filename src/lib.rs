//! myzoo: an operator console for MySQL/MariaDB clusters coordinated through Apache ZooKeeper.
//!
//! Layout (services never import the console or the command line; the console and the
//! commands are front ends over them):
//! - [`cli`]      — command-line definitions (clap) for every subcommand; imports nothing else.
//! - [`commands`] — the scriptable front ends, one file per command (`zk`, `status`, `sandbox`,
//!   `agent`, `console`): clap arguments → a service's plain options → output and exit code.
//! - [`config`]   — connection profiles and the state folder (TOML in the XDG folders);
//!   `resolve` combines a profile with plain `Overrides`.
//! - [`logging`]  — tracing to a file (console, agent) or stderr (scripts).
//! - [`zk`]       — ZooKeeper access: sessions that replace themselves, tree loading, watches,
//!   znode data formatting.
//! - [`mysql`]    — MySQL/MariaDB access: flavours and their statements, probes, heartbeat.
//! - [`cluster`]  — the znode layout, the node status document, config/primary records, health
//!   verdicts shared by the console and `myzoo status`.
//! - [`ops`]      — every change an operator makes (set, create, delete, secret reveal): guards
//!   (read-only, paths, size, production) and the audit, shared by the console and `myzoo zk`.
//! - [`audit`]    — the audit log under `<root>/audit`: records, append, list.
//! - [`secrets`]  — masking secret values in JSON, and restoring them before a save.
//! - [`tls`]      — TLS files on this host (CA, client certificate and key) for ZooKeeper and MySQL,
//!   read with errors that name the file, and a handshake that says why a server refused it.
//! - [`failover`] — switchover, failover, rejoin: ranking, plan, journal, lock, steps; shared by
//!   the console, the commands and the agent's coordinator.
//! - [`backup`]   — snapshots of the ZooKeeper tree in a MySQL backup store, restores, MySQL dumps.
//! - [`agent`]    — `myzoo agent`, the daemon that publishes a node's status.
//! - [`sandbox`]  — the real local playground: ZooKeeper plus three MariaDB servers on loopback.
//! - [`console`]  — the interactive terminal UI: event loop, `App::update`, keymap, themes, views.
//!   Only this module uses ratatui; nothing outside it imports it.
//!
//! The binary in `src/main.rs` only parses arguments and calls [`commands::run`].

/// The crate's version and the commit it was built from (`build.rs`): `myzoo --version`, the
/// agent's `/health` and `/metrics`.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("MYZOO_COMMIT"), ")");
/// The commit alone.
pub const COMMIT: &str = env!("MYZOO_COMMIT");

pub mod agent;
pub mod audit;
pub mod backup;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod console;
pub mod diff;
pub mod failover;
pub mod logging;
pub mod mysql;
pub mod ops;
pub mod sandbox;
pub mod secrets;
pub mod tls;
pub mod zk;
