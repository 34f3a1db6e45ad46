//! MySQL/MariaDB access: flavour detection and each flavour's statements, probing, heartbeat.
//! Nothing here knows about ZooKeeper or the console; the agent (and later failover) use it.

pub mod flavor;
pub mod heartbeat;
pub mod probe;
pub mod replica;

use std::fmt;
use std::time::Duration;

use anyhow::{Context, Result};
use mysql_async::{ClientIdentity, Conn, OptsBuilder, SslOpts};

use crate::tls::{TlsFiles, TlsMode};

/// Where and as whom to connect. The password never appears in `Debug` output or logs.
#[derive(Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
    /// Whether and how the connection uses TLS.
    pub tls: MysqlTls,
}

/// How a MySQL connection uses TLS: a mode (the cluster's `mysql.tls`, the backup store's
/// `tls`, at least the agent's `--mysql-tls`) with this host's files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MysqlTls {
    pub mode: TlsMode,
    /// The CA (and client certificate); `None`: no CA file (see [`TlsMode`] for what that means).
    pub files: Option<TlsFiles>,
}

impl MysqlTls {
    pub fn new(mode: TlsMode, files: Option<TlsFiles>) -> MysqlTls {
        MysqlTls { mode, files }
    }

    /// A host's own setting when it names no mode: `preferred` when it has a CA file (whoever
    /// gave it one wants TLS, also before a cluster config has been read), else `off`.
    pub fn for_host(files: Option<TlsFiles>) -> MysqlTls {
        let mode = if files.as_ref().is_some_and(|f| f.ca_file.is_some()) { TlsMode::Preferred } else { TlsMode::Off };
        MysqlTls { mode, files }
    }

    /// The same files with the stricter of this mode and `mode` (a cluster's policy over a
    /// host's minimum, or the other way round).
    pub fn at_least(&self, mode: TlsMode) -> MysqlTls {
        MysqlTls { mode: self.mode.max(mode), files: self.files.clone() }
    }

    /// The client library's TLS options: the CA as the only trust anchor when there is one
    /// (the public roots otherwise, and for `preferred` without a CA, no check at all: the
    /// connection is encrypted, not authenticated); the client certificate when there is one.
    fn ssl_opts(&self) -> Result<SslOpts> {
        let loaded = match &self.files {
            Some(files) => Some(files.load()?),
            None => None,
        };
        if let Some(l) = &loaded {
            anyhow::ensure!(
                l.verify_hostname,
                "mysql_tls.verify_hostname = false is not supported for MySQL connections (the MySQL \
                 client library cannot check a certificate without its name): connect by a name the \
                 server's certificate lists"
            );
        }
        let mut opts = SslOpts::default();
        match loaded.as_ref().and_then(|l| l.ca_pem.clone()) {
            Some(ca) => {
                opts = opts.with_root_certs(vec![ca.into_bytes().into()]).with_disable_built_in_roots(true);
            }
            None if self.mode == TlsMode::Preferred => opts = opts.with_danger_accept_invalid_certs(true),
            None => {}
        }
        if let Some((cert, key)) = loaded.and_then(|l| l.identity) {
            opts =
                opts.with_client_identity(Some(ClientIdentity::new(cert.into_bytes().into(), key.into_bytes().into())));
        }
        Ok(opts)
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("tls", &self.tls.mode)
            .finish()
    }
}

impl Target {
    /// `host:port`, for messages.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// Opens one TCP connection; `timeout` bounds the whole handshake. With TLS `required`, a
/// server that does not offer TLS is refused with that reason; with `preferred` it is
/// connected to in plain.
pub async fn connect(target: &Target, timeout: Duration) -> Result<Conn> {
    let opts = OptsBuilder::default()
        .ip_or_hostname(target.host.clone())
        .tcp_port(target.port)
        .user(Some(target.user.clone()))
        .pass(target.password.clone())
        .prefer_socket(false)
        // The probe's own statements are few and fixed; keep them prepared.
        .stmt_cache_size(16);
    let attempt = async {
        if target.tls.mode == TlsMode::Off {
            return Conn::new(opts).await.map_err(anyhow::Error::from);
        }
        let ssl = target.tls.ssl_opts().context("MySQL TLS")?;
        match Conn::new(opts.clone().ssl_opts(Some(ssl))).await {
            Ok(conn) => Ok(conn),
            Err(e) if offers_no_tls(&e) && target.tls.mode == TlsMode::Preferred => {
                tracing::debug!(server = %target.address(), "no TLS offered; connecting in plain (mysql.tls = preferred)");
                Conn::new(opts).await.map_err(anyhow::Error::from)
            }
            Err(e) if offers_no_tls(&e) => {
                Err(anyhow::anyhow!("the server does not offer TLS, and TLS is required (mysql.tls = \"required\")"))
            }
            Err(e) => Err(match tls_failure(&e, &target.host) {
                Some(reason) => anyhow::anyhow!("TLS handshake failed: {reason}"),
                None => e.into(),
            }),
        }
    };
    tokio::time::timeout(timeout, attempt)
        .await
        .with_context(|| format!("no answer from {} within {} ms", target.address(), timeout.as_millis()))?
        .with_context(|| format!("connecting to {} as {}", target.address(), target.user))
}

/// The server's greeting lacks the TLS capability.
fn offers_no_tls(e: &mysql_async::Error) -> bool {
    matches!(e, mysql_async::Error::Driver(mysql_async::DriverError::NoClientSslFlagFromServer))
}

/// A handshake refused by either side, in words an operator can act on.
fn tls_failure(e: &mysql_async::Error, host: &str) -> Option<String> {
    use mysql_async::IoError;
    match e {
        mysql_async::Error::Io(IoError::Io(io)) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .map(|t| crate::tls::explain_tls(t, host)),
        mysql_async::Error::Io(IoError::Tls(tls)) => Some(match tls {
            mysql_async::TlsError::Tls(t) => crate::tls::explain_tls(t, host),
            other => other.to_string(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stricter_mode_wins_and_a_ca_means_preferred() {
        let files = TlsFiles::with_ca("/t/ca.pem");
        let host = MysqlTls::for_host(Some(files.clone()));
        assert_eq!(host.mode, TlsMode::Preferred);
        assert_eq!(MysqlTls::for_host(None).mode, TlsMode::Off);
        assert_eq!(MysqlTls::for_host(Some(TlsFiles::default())).mode, TlsMode::Off);
        assert_eq!(host.at_least(TlsMode::Required).mode, TlsMode::Required);
        assert_eq!(host.at_least(TlsMode::Off).mode, TlsMode::Preferred);
        assert_eq!(host.at_least(TlsMode::Required).files, Some(files));
    }

    #[test]
    fn hostname_verification_off_is_refused_because_the_driver_cannot_honour_it() {
        // mysql_async 0.37 skips the name check only when the error's text contains
        // "NotValidForName"; rustls 0.23's verifier reports the context variant, whose text
        // does not. Should that change, this test says the option can be offered.
        let expected = rustls::pki_types::ServerName::try_from("db.example").unwrap().to_owned();
        let err = rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForNameContext {
            expected,
            presented: vec!["other.example".into()],
        });
        assert!(!err.to_string().contains("NotValidForName"), "{err}");
        let off = TlsFiles { verify_hostname: false, ..TlsFiles::default() };
        let err = MysqlTls::new(TlsMode::Required, Some(off)).ssl_opts().unwrap_err();
        assert!(err.to_string().contains("verify_hostname = false is not supported"), "{err}");
    }
}
