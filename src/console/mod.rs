//! The interactive console: event loop, state (`App::update`), keymap, themes and views.
//!
//! Flow: terminal/tick/signal/ZooKeeper tasks → one channel of [`event::Event`] →
//! [`app::App::update`] → effects run as tasks → results back on the channel; the
//! [`view`] draws the state when it changed.

pub mod app;
pub mod event;
pub mod headless;
pub mod keymap;
pub mod runtime;
pub mod strings;
pub mod terminal;
pub mod theme;
pub mod tree;
pub mod view;

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context;

use crate::cli::ConsoleArgs;
use crate::config::{self, ConfigFile};
use crate::zk::session::SessionConfig;

/// Resolves the connection, sets up logging to a file, and runs the console.
pub fn run(rt: &tokio::runtime::Runtime, args: ConsoleArgs) -> anyhow::Result<ExitCode> {
    let config_path = config::config_path();
    let cfg = ConfigFile::load(&config_path)?;
    let profile = cfg.profile(args.profile.as_deref())?;
    let (label, connect, root, timeout_ms, read_only, theme_name) = match (&args.zk, &profile) {
        (Some(zk), _) => (zk.clone(), zk.clone(), None, None, false, None),
        (None, Some((name, p))) => (
            format!("{name} ({})", p.zk),
            p.zk.clone(),
            Some(p.root.clone()),
            Some(p.session_timeout_ms),
            p.read_only,
            p.theme.clone(),
        ),
        (None, None) => anyhow::bail!(
            "no ZooKeeper to connect to: pass --zk HOST:PORT, add a profile to {}, or run `myzoo sandbox up`",
            config_path.display()
        ),
    };
    let log_file = args.log_file.clone().unwrap_or_else(|| config::state_dir().join("myzoo.log"));
    init_file_logging(&log_file)?;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = theme::Theme::initial(args.theme.as_deref().or(theme_name.as_deref()), no_color)?;
    let keymap = keymap::KeyMap::default().with_overrides(&cfg.keys)?;
    let opts = app::AppOptions {
        label,
        root: args.root.clone().or(root).unwrap_or_else(|| config::DEFAULT_ROOT.to_string()),
        read_only: args.read_only || read_only,
        theme,
        keymap,
        size: (0, 0),
        now: SystemTime::now(),
    };
    let session_cfg = SessionConfig {
        connect,
        session_timeout: Duration::from_millis(
            args.session_timeout_ms.or(timeout_ms).unwrap_or(config::DEFAULT_SESSION_TIMEOUT_MS),
        ),
    };
    tracing::info!(connect = %session_cfg.connect, "console starting");
    rt.block_on(runtime::run(opts, session_cfg))?;
    Ok(ExitCode::SUCCESS)
}

/// Console mode logs to a file, never to the screen.
fn init_file_logging(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening log file {}", path.display()))?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("MYZOO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
    Ok(())
}
