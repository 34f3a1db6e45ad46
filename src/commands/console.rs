//! `myzoo` and `myzoo console`: start the interactive console with the connection options.

use std::process::ExitCode;

use crate::cli::ConsoleArgs;

/// `outer` are the options before the subcommand, `inner` those after `console`, if given.
pub fn run(rt: &tokio::runtime::Runtime, outer: ConsoleArgs, inner: Option<ConsoleArgs>) -> anyhow::Result<ExitCode> {
    let args = match inner {
        Some(inner) => merge(outer, inner),
        None => outer,
    };
    crate::console::run(rt, super::overrides(&args))
}

/// `myzoo --zk X console` and `myzoo console --zk X` mean the same; after `console` wins.
fn merge(outer: ConsoleArgs, inner: ConsoleArgs) -> ConsoleArgs {
    ConsoleArgs {
        zk: inner.zk.or(outer.zk),
        profile: inner.profile.or(outer.profile),
        session_timeout_ms: inner.session_timeout_ms.or(outer.session_timeout_ms),
        zk_auth_file: inner.zk_auth_file.or(outer.zk_auth_file),
        root: inner.root.or(outer.root),
        read_only: inner.read_only || outer.read_only,
        theme: inner.theme.or(outer.theme),
        log_file: inner.log_file.or(outer.log_file),
        zk_tls_ca: inner.zk_tls_ca.or(outer.zk_tls_ca),
        zk_tls_cert: inner.zk_tls_cert.or(outer.zk_tls_cert),
        zk_tls_key: inner.zk_tls_key.or(outer.zk_tls_key),
        zk_tls_no_verify_hostname: inner.zk_tls_no_verify_hostname || outer.zk_tls_no_verify_hostname,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_after_console_win_and_read_only_sticks() {
        let outer =
            ConsoleArgs { zk: Some("a:1".into()), root: Some("/r".into()), read_only: true, ..Default::default() };
        let inner = ConsoleArgs { zk: Some("b:2".into()), ..Default::default() };
        let m = merge(outer, inner);
        assert_eq!(m.zk.as_deref(), Some("b:2"));
        assert_eq!(m.root.as_deref(), Some("/r"));
        assert!(m.read_only);
    }
}
