//! Where `tracing` goes: a file in console mode (never the screen), stderr for the other
//! commands. `MYZOO_LOG` sets the filter (`info`, `myzoo=debug` …). Colours only for a person
//! at a terminal, and never with `NO_COLOR` set.

use std::ffi::OsString;
use std::io::IsTerminal;
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
    let ansi = colours_wanted(std::io::stderr().is_terminal(), std::env::var_os("NO_COLOR"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter(default_filter))
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Escape codes belong on a terminal: in a pipe, a file or a service manager's journal they
/// are noise. `NO_COLOR` (<https://no-color.org>) turns them off when set to anything non-empty.
fn colours_wanted(is_terminal: bool, no_color: Option<OsString>) -> bool {
    is_terminal && no_color.is_none_or(|v| v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_only_on_a_terminal_without_no_color() {
        assert!(colours_wanted(true, None));
        assert!(colours_wanted(true, Some("".into())));
        assert!(!colours_wanted(true, Some("1".into())));
        assert!(!colours_wanted(false, None));
        assert!(!colours_wanted(false, Some("".into())));
    }
}
