//! Where `tracing` goes: a file in console mode (never the screen), stderr for the other
//! commands. `MYZOO_LOG` sets the filter (`info`, `myzoo=debug` …).

use std::path::Path;

use anyhow::Context;
use tracing_subscriber::EnvFilter;

const LOG_ENV: &str = "MYZOO_LOG";

fn filter(default: &str) -> EnvFilter {
    EnvFilter::try_from_env(LOG_ENV).unwrap_or_else(|_| EnvFilter::new(default))
}

/// Console mode and daemons: append to a file.
pub fn to_file(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening log file {}", path.display()))?;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter("info"))
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
    Ok(())
}

/// Scriptable commands: warnings and errors to stderr.
pub fn to_stderr() {
    to_stderr_at("warn");
}

/// Stderr at another default level (daemons under a service manager log `info`).
pub fn to_stderr_at(default_filter: &str) {
    let _ = tracing_subscriber::fmt().with_env_filter(filter(default_filter)).with_writer(std::io::stderr).try_init();
}
