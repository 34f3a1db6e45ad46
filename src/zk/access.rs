//! How every part of myzoo reaches ZooKeeper: the connect string, the session timeout and the
//! client-side security settings, turned into the client's connector in one place, so the
//! console, the scriptable commands, the agents and the sandbox all connect the same way.
//!
//! TLS: with [`ZkAccess::tls`] set, every server in the connect string is reached over TLS
//! (the client's `secure_connect`), except one written `tcp://host:port`; without it, a server
//! written `tcp+tls://host:port` is an error that says what is missing. The client library
//! reports a refused handshake only as "no server reachable", so when a TLS connect fails (or
//! is still trying after [`DIAGNOSE_AFTER_MS`]) each TLS server gets one handshake of our own
//! with the same files ([`crate::tls::handshake`]), and its reason becomes the error.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use zookeeper_client::{Client, Connector, TlsOptions};

use super::auth::{ZkCredential, DIGEST_SCHEME};
use crate::tls::{Handshake, LoadedTls, TlsFileError, TlsFiles};

/// A TLS connect still trying after this long gets its servers' handshakes checked on the
/// side, so a refused one is reported without waiting for the whole session timeout.
pub const DIAGNOSE_AFTER_MS: u64 = 1_000;
/// Longest one diagnostic handshake may take.
const DIAGNOSE_TIMEOUT_MS: u64 = 3_000;
/// ZooKeeper's port when the connect string names none.
const DEFAULT_PORT: u16 = 2181;

/// Everything needed to open a session.
#[derive(Debug, Clone, PartialEq)]
pub struct ZkAccess {
    /// `host:port[,host:port…][/chroot]`; a server may be written `tcp://…` (plain) or
    /// `tcp+tls://…` (TLS) whatever [`Self::tls`] says for the others.
    pub connect: String,
    pub session_timeout: Duration,
    /// The digest credential every session authenticates with (`Debug` hides the password).
    pub auth: Option<ZkCredential>,
    /// TLS to the servers (a CA is required; a client certificate when the servers want one).
    pub tls: Option<TlsFiles>,
}

/// Why a session could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// A TLS file is missing, unreadable or not what it should be.
    #[error("ZooKeeper TLS: {0}")]
    TlsFile(TlsFileError),
    /// The TLS settings cannot work as given (no CA, `tcp+tls://` without TLS settings …).
    #[error("ZooKeeper TLS: {0}")]
    TlsSetup(String),
    /// A server refused the TLS handshake (or we refused its certificate).
    #[error("TLS handshake with ZooKeeper at {server} failed: {reason}")]
    Handshake { server: String, reason: String },
    #[error(transparent)]
    Zk(#[from] zookeeper_client::Error),
}

// Not `#[from]`: that would make the file error a source too, and `{:#}` would print it twice.
impl From<TlsFileError> for ConnectError {
    fn from(e: TlsFileError) -> Self {
        ConnectError::TlsFile(e)
    }
}

impl ConnectError {
    /// Whether trying again cannot help until someone changes a file or a setting (the console
    /// shows these as a notice rather than only as a disconnected badge).
    pub fn is_tls(&self) -> bool {
        !matches!(self, ConnectError::Zk(_))
    }

    /// The client library's error, when it is one.
    pub fn zk(&self) -> Option<&zookeeper_client::Error> {
        match self {
            ConnectError::Zk(e) => Some(e),
            _ => None,
        }
    }
}

/// One server of a connect string, as far as TLS is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Server {
    host: String,
    port: u16,
    tls: bool,
}

impl ZkAccess {
    pub fn new(connect: impl Into<String>, session_timeout: Duration) -> ZkAccess {
        ZkAccess { connect: connect.into(), session_timeout, auth: None, tls: None }
    }

    /// Authenticates every session with `auth` (none: anonymous).
    pub fn with_auth(mut self, auth: Option<ZkCredential>) -> ZkAccess {
        self.auth = auth;
        self
    }

    /// What the console's header and the logs may show: `digest myzoo`, never the password.
    pub fn auth_label(&self) -> Option<String> {
        self.auth.as_ref().map(ZkCredential::label)
    }

    /// This access with TLS to the servers.
    pub fn with_tls(self, tls: Option<TlsFiles>) -> ZkAccess {
        ZkAccess { tls, ..self }
    }

    /// A connector with this access's settings; callers add their own (`with_fail_eagerly` …).
    /// Fails when a TLS file cannot be used. The credential goes in the connector, which sends
    /// it on every connection it makes: after a reconnect to another member within the session
    /// too, and a new session built from this access (after expiry) starts with it.
    pub fn connector(&self) -> Result<Connector, ConnectError> {
        let mut connector = Client::connector().with_session_timeout(self.session_timeout);
        if let Some(cred) = &self.auth {
            connector = connector.with_auth(DIGEST_SCHEME, &cred.auth_bytes());
        }
        match self.load_tls()? {
            Some(loaded) => Ok(connector.with_tls(tls_options(&loaded)?)),
            None => Ok(connector),
        }
    }

    /// The TLS files, read and checked; `None` without TLS. Also refuses a connect string that
    /// asks for TLS when no TLS settings are given.
    fn load_tls(&self) -> Result<Option<LoadedTls>, ConnectError> {
        let Some(files) = &self.tls else {
            if servers(&self.connect).iter().any(|s| s.tls) {
                return Err(ConnectError::TlsSetup(format!(
                    "{} names a tcp+tls:// server but no CA is set (zk_tls.ca_file in the profile, or --zk-tls-ca)",
                    self.connect
                )));
            }
            return Ok(None);
        };
        if files.ca_file.is_none() {
            return Err(ConnectError::TlsSetup(
                "no CA file to check the servers' certificates with (zk_tls.ca_file in the profile, or --zk-tls-ca)"
                    .to_string(),
            ));
        }
        let loaded = files.load()?;
        if !loaded.verify_hostname {
            warn_no_hostname_verification();
        }
        Ok(Some(loaded))
    }

    /// Opens a session through `connector` (from [`Self::connector`]).
    pub async fn connect_with(&self, connector: Connector) -> Result<Client, ConnectError> {
        let Some(files) = &self.tls else {
            return Ok(connector.connect(&self.connect).await?);
        };
        let connecting = connector.secure_connect(&self.connect);
        tokio::pin!(connecting);
        tokio::select! {
            result = &mut connecting => return self.explained(result, files).await,
            _ = tokio::time::sleep(Duration::from_millis(DIAGNOSE_AFTER_MS)) => {}
        }
        // Still trying: if no TLS server accepts our handshake, waiting longer cannot help.
        let verdict = async {
            match self.diagnose(files).await {
                Diagnosis::Hopeless(e) => e,
                // Some server took the handshake: let the client go on trying.
                _ => std::future::pending().await,
            }
        };
        tokio::select! {
            result = &mut connecting => self.explained(result, files).await,
            refused = verdict => Err(refused),
        }
    }

    /// A finished connect; a failure of a TLS connect is explained by a handshake of our own.
    async fn explained(
        &self,
        result: Result<Client, zookeeper_client::Error>,
        files: &TlsFiles,
    ) -> Result<Client, ConnectError> {
        match result {
            Ok(client) => Ok(client),
            Err(
                e @ (zookeeper_client::Error::NoHosts
                | zookeeper_client::Error::Timeout
                | zookeeper_client::Error::ConnectionLoss),
            ) => match self.diagnose(files).await {
                Diagnosis::Hopeless(refused) | Diagnosis::Partly(refused) => Err(refused),
                Diagnosis::NotTls => Err(e.into()),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// One handshake with each TLS server of the connect string, side by side.
    async fn diagnose(&self, files: &TlsFiles) -> Diagnosis {
        let config = match files
            .load()
            .map_err(ConnectError::from)
            .and_then(|l| l.client_config().map_err(ConnectError::TlsSetup))
        {
            Ok(c) => c,
            Err(e) => return Diagnosis::Hopeless(e),
        };
        let tls_servers: Vec<Server> = servers_with(&self.connect, true).into_iter().filter(|s| s.tls).collect();
        let timeout = Duration::from_millis(DIAGNOSE_TIMEOUT_MS);
        let results = futures::future::join_all(
            tls_servers.iter().map(|s| crate::tls::handshake(config.clone(), &s.host, s.port, timeout)),
        )
        .await;
        let mut first_refusal = None;
        let mut any_accepted = false;
        let mut any_unreachable = false;
        for (server, result) in tls_servers.iter().zip(results) {
            match result {
                Handshake::Accepted => any_accepted = true,
                Handshake::Unreachable(_) => any_unreachable = true,
                Handshake::Refused(reason) => {
                    tracing::debug!(server = %format!("{}:{}", server.host, server.port), %reason, "ZooKeeper TLS handshake refused");
                    first_refusal.get_or_insert(ConnectError::Handshake {
                        server: format!("{}:{}", server.host, server.port),
                        reason,
                    });
                }
            }
        }
        match first_refusal {
            None => Diagnosis::NotTls,
            Some(e) if !any_accepted && !any_unreachable => Diagnosis::Hopeless(e),
            Some(e) => Diagnosis::Partly(e),
        }
    }

    /// Opens a session, retrying servers until the session timeout.
    pub async fn connect(&self) -> Result<Client, ConnectError> {
        self.connect_with(self.connector()?).await
    }

    /// Opens a session, giving up once every server has refused instead of cycling through
    /// them until the session timeout (for scripts that must answer quickly).
    pub async fn connect_eagerly(&self) -> Result<Client, ConnectError> {
        self.connect_with(self.connector()?.with_fail_eagerly()).await
    }
}

/// What the diagnostic handshakes found.
enum Diagnosis {
    /// Every TLS server answered and refused: no point in trying further.
    Hopeless(ConnectError),
    /// Some refused, others were unreachable or accepted.
    Partly(ConnectError),
    /// No server refused a handshake: the failure is something else.
    NotTls,
}

/// The client library's TLS options from checked files.
fn tls_options(loaded: &LoadedTls) -> Result<TlsOptions, ConnectError> {
    let setup = |e: zookeeper_client::Error| ConnectError::TlsSetup(e.to_string());
    let ca = loaded.ca_pem.as_deref().unwrap_or_default();
    let mut options = TlsOptions::new().with_pem_ca(ca).map_err(setup)?;
    if let Some((cert, key)) = &loaded.identity {
        options = options.with_pem_identity(cert, key).map_err(setup)?;
    }
    if !loaded.verify_hostname {
        // SAFETY: not memory safety: the library marks this `unsafe` because it opens the door
        // to a man in the middle with any certificate from the CA. The operator asked for it
        // explicitly (verify_hostname = false, --zk-tls-no-verify-hostname) and it is logged.
        options = unsafe { options.with_no_hostname_verification() };
    }
    Ok(options)
}

/// Logs once per process that the servers' names are not checked.
fn warn_no_hostname_verification() {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            "ZooKeeper TLS hostname verification is OFF (verify_hostname = false): any server with a \
             certificate from the CA is trusted, whatever name it has"
        );
    }
}

/// The servers of a connect string: `host[:port]`, each optionally `tcp://` or `tcp+tls://`,
/// the chroot after the last one. TLS is on for unprefixed servers when `default_tls`.
fn servers_with(connect: &str, default_tls: bool) -> Vec<Server> {
    let hosts = connect.split(',').collect::<Vec<_>>();
    let last = hosts.len().saturating_sub(1);
    hosts
        .iter()
        .enumerate()
        .filter_map(|(i, part)| {
            let (rest, tls) = if let Some(r) = part.strip_prefix("tcp+tls://") {
                (r, true)
            } else if let Some(r) = part.strip_prefix("tcp://") {
                (r, false)
            } else {
                (*part, default_tls)
            };
            let hostport = if i == last { rest.split('/').next().unwrap_or(rest) } else { rest };
            let (host, port) = split_host_port(hostport)?;
            Some(Server { host, port, tls })
        })
        .collect()
}

fn servers(connect: &str) -> Vec<Server> {
    servers_with(connect, false)
}

fn split_host_port(hostport: &str) -> Option<(String, u16)> {
    if hostport.is_empty() {
        return None;
    }
    if let Some(rest) = hostport.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = after.strip_prefix(':').map_or(Some(DEFAULT_PORT), |p| p.parse().ok())?;
        return Some((host.to_string(), port));
    }
    match hostport.rsplit_once(':') {
        Some((host, port)) => Some((host.to_string(), port.parse().ok()?)),
        None => Some((hostport.to_string(), DEFAULT_PORT)),
    }
}

impl ZkAccess {
    /// The servers this access reaches over TLS (for messages and the sandbox's checks).
    pub fn tls_servers(&self) -> Vec<String> {
        servers_with(&self.connect, self.tls.is_some())
            .into_iter()
            .filter(|s| s.tls)
            .map(|s| format!("{}:{}", s.host, s.port))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_strings_split_into_servers() {
        let s = servers_with("a:1,tcp://b:2,tcp+tls://c:3/chroot/x", true);
        let got: Vec<(&str, u16, bool)> = s.iter().map(|s| (s.host.as_str(), s.port, s.tls)).collect();
        assert_eq!(got, vec![("a", 1, true), ("b", 2, false), ("c", 3, true)]);
        let s = servers_with("[::1]:5,host/chroot", false);
        let got: Vec<(&str, u16, bool)> = s.iter().map(|s| (s.host.as_str(), s.port, s.tls)).collect();
        assert_eq!(got, vec![("::1", 5, false), ("host", 2181, false)]);
    }

    #[tokio::test]
    async fn tls_settings_that_cannot_work_are_refused_before_connecting() {
        let plain = ZkAccess::new("tcp+tls://127.0.0.1:1", Duration::from_secs(1));
        let err = plain.connect().await.unwrap_err();
        assert!(err.is_tls() && err.to_string().contains("--zk-tls-ca"), "{err}");

        let no_ca = ZkAccess::new("127.0.0.1:1", Duration::from_secs(1)).with_tls(Some(TlsFiles::default()));
        let err = no_ca.connect().await.unwrap_err();
        assert!(err.to_string().contains("no CA file"), "{err}");

        let missing = ZkAccess::new("127.0.0.1:1", Duration::from_secs(1))
            .with_tls(Some(TlsFiles::with_ca("/nonexistent/ca.pem")));
        let err = missing.connect().await.unwrap_err();
        assert!(matches!(err, ConnectError::TlsFile(_)), "{err:?}");
        assert!(err.to_string().contains("/nonexistent/ca.pem") && err.to_string().contains("cannot read"), "{err}");
        assert_eq!(missing.tls_servers(), vec!["127.0.0.1:1".to_string()]);
    }

    #[test]
    fn the_credential_never_shows() {
        let cred = ZkCredential::parse("myzoo:hunter2").unwrap();
        let access = ZkAccess::new("127.0.0.1:2181", Duration::from_secs(10)).with_auth(Some(cred));
        let shown = format!("{access:?} {:?}", access.connector().unwrap());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(access.auth_label().as_deref(), Some("digest myzoo"));
        assert_eq!(ZkAccess::new("x:1", Duration::from_secs(1)).auth_label(), None);
    }
}
