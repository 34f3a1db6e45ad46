//! The interactive console: event loop, state (`App::update`), keymap, themes and views.
//!
//! Flow: terminal/tick/signal/ZooKeeper tasks → one channel of [`event::Event`] →
//! [`app::App::update`] → effects run as tasks → results back on the channel; the
//! [`view`] draws the state when it changed.

pub mod app;
pub mod backup_jobs;
pub mod clusters;
pub mod dialogs;
pub mod draft;
pub mod editor;
pub mod event;
pub mod headless;
pub mod keymap;
pub mod overlays;
pub mod runtime;
pub mod screens;
pub mod shared;
pub mod strings;
pub mod terminal;
pub mod theme;
pub mod tree;
pub mod view;

use std::process::ExitCode;
use std::time::SystemTime;

use crate::config;

/// Resolves the connection, sets up logging to a file, and runs the console.
pub fn run(rt: &tokio::runtime::Runtime, args: config::Overrides) -> anyhow::Result<ExitCode> {
    let r = config::resolve(&args)?;
    let log_file = args.log_file.clone().unwrap_or_else(|| config::state_dir().join("myzoo.log"));
    crate::logging::to_file(&log_file)?;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = theme::Theme::initial(r.theme.as_deref(), no_color)?;
    let keymap = keymap::KeyMap::default().with_overrides(&r.keys)?;
    let drafts_dir = draft::ensemble_dir(&config::state_dir().join("drafts"), &r.connect);
    if let Err(e) = draft::label_ensemble_dir(&drafts_dir, &r.connect) {
        tracing::warn!(error = %e, dir = %drafts_dir.display(), "cannot label the drafts folder");
    }
    let session_cfg = r.zk();
    let opts = app::AppOptions {
        label: r.label,
        root: r.root,
        read_only: r.read_only,
        theme,
        keymap,
        size: (0, 0),
        now: SystemTime::now(),
        drafts_dir,
        mysql: r.mysql,
        backup_store: r.backup_store,
        ensemble: r.ensemble,
    };
    let auth = session_cfg.auth_label().unwrap_or_else(|| "none".to_string());
    tracing::info!(connect = %session_cfg.connect, %auth, "console starting");
    rt.block_on(runtime::run(opts, session_cfg))?;
    Ok(ExitCode::SUCCESS)
}
