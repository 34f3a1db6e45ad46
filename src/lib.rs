//! myzoo: an operator console for MySQL/MariaDB clusters coordinated through Apache ZooKeeper.
//!
//! Layout (services never import the console; the console is one front end over them):
//! - [`cli`]      — command-line definitions (clap) shared by every subcommand.
//! - [`config`]   — connection profiles and the state folder (TOML in the XDG folders).
//! - [`zk`]       — ZooKeeper access: sessions that replace themselves, tree loading, watches,
//!   znode data formatting. No ratatui here.
//! - [`sandbox`]  — the real local playground: ZooKeeper plus three MariaDB servers on loopback.
//! - [`console`]  — the interactive terminal UI: event loop, `App::update`, keymap, themes, views.
//!
//! The binary in `src/main.rs` only parses arguments and dispatches here.

pub mod cli;
pub mod config;
pub mod console;
pub mod sandbox;
pub mod zk;
