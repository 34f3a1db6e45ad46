//! TLS settings that name files on this host (a CA, a client certificate and its key, whether
//! the server's name is checked), shared by the ZooKeeper connections (`zk::access`) and the
//! MySQL ones (`mysql`). The files are read and parsed here, so a missing, unreadable or
//! malformed file is an error that names it; and [`handshake`] tries a TLS handshake on its
//! own, so a refused one (a certificate from another CA, a name it does not list, a server that
//! wants a client certificate) can be told apart from a server that is just down.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;

/// How long [`handshake`] waits, after a handshake that went through, for the server to refuse
/// the client's certificate: with TLS 1.3 the client finishes before the server has checked it.
const REFUSAL_WAIT_MS: u64 = 300;

/// TLS files on this host, as the profile (`[profiles.X.zk_tls]`, `[profiles.X.mysql_tls]`)
/// and the flags name them. Hostname verification is on unless turned off explicitly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// PEM: the CA certificate(s) the server's certificate must chain to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// PEM: this client's certificate (chain), for servers that ask for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<PathBuf>,
    /// PEM: that certificate's private key (PKCS#8, PKCS#1 or SEC1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    /// Check that the server's certificate names the host connected to. Off, any server with a
    /// certificate from the CA is trusted, whatever its name.
    #[serde(default = "verify_hostname_default")]
    pub verify_hostname: bool,
}

fn verify_hostname_default() -> bool {
    true
}

impl Default for TlsFiles {
    fn default() -> Self {
        TlsFiles { ca_file: None, cert_file: None, key_file: None, verify_hostname: true }
    }
}

/// Whether MySQL connections use TLS: a cluster's policy (`mysql.tls` in its config), the
/// backup store's (`backup_store.tls` in the profile), or an agent's own minimum
/// (`--mysql-tls`). The stricter of a cluster's policy and the host's minimum applies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain connections (the default: what a config written before TLS existed means).
    #[default]
    Off,
    /// TLS when the server offers it, plain otherwise. The server's certificate is checked
    /// when a CA file is given; without one the connection is encrypted but not authenticated.
    Preferred,
    /// TLS or no connection: a server without TLS is refused, and its certificate must chain
    /// to the CA file (or, without one, to the platform's public roots).
    Required,
}

impl TlsMode {
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Off => "off",
            TlsMode::Preferred => "preferred",
            TlsMode::Required => "required",
        }
    }

    pub fn is_off(&self) -> bool {
        *self == TlsMode::Off
    }
}

impl std::str::FromStr for TlsMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "off" => Ok(TlsMode::Off),
            "preferred" => Ok(TlsMode::Preferred),
            "required" => Ok(TlsMode::Required),
            other => Err(format!("{other:?} is not a TLS mode: off, preferred or required")),
        }
    }
}

/// What the flags set over a profile's [`TlsFiles`]: each file given wins, and hostname
/// verification can only be turned off from here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOverrides {
    pub ca_file: Option<PathBuf>,
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub no_verify_hostname: bool,
}

impl TlsOverrides {
    pub fn is_empty(&self) -> bool {
        *self == TlsOverrides::default()
    }

    /// These overrides over `base` (a profile's section); `None` when neither sets anything.
    pub fn over(&self, base: Option<TlsFiles>) -> Option<TlsFiles> {
        if self.is_empty() {
            return base;
        }
        let base = base.unwrap_or_default();
        Some(TlsFiles {
            ca_file: self.ca_file.clone().or(base.ca_file),
            cert_file: self.cert_file.clone().or(base.cert_file),
            key_file: self.key_file.clone().or(base.key_file),
            verify_hostname: base.verify_hostname && !self.no_verify_hostname,
        })
    }
}

/// A file that could not be used; the message names the file and says why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {}: {reason}", path.display())]
pub struct TlsFileError {
    /// "CA file", "client certificate", "client key", or the settings as a whole.
    pub what: &'static str,
    pub path: PathBuf,
    pub reason: String,
}

/// The files' contents, checked: PEM text as read, so each client library parses what was checked.
pub struct LoadedTls {
    pub ca_pem: Option<String>,
    /// Certificate chain and key, PEM.
    pub identity: Option<(String, String)>,
    pub verify_hostname: bool,
    ca: Vec<CertificateDer<'static>>,
    chain: Vec<CertificateDer<'static>>,
    key: Option<PrivateKeyDer<'static>>,
}

impl std::fmt::Debug for LoadedTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedTls")
            .field("ca_certificates", &self.ca.len())
            .field("client_certificates", &self.chain.len())
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("verify_hostname", &self.verify_hostname)
            .finish()
    }
}

impl TlsFiles {
    /// A CA file alone: the common case (the server's certificate checked, no client certificate).
    pub fn with_ca(ca_file: impl Into<PathBuf>) -> TlsFiles {
        TlsFiles { ca_file: Some(ca_file.into()), ..TlsFiles::default() }
    }

    /// Reads and parses every file named. A certificate without its key (or a key without its
    /// certificate) is an error, as is a file holding no PEM item of the kind expected.
    pub fn load(&self) -> Result<LoadedTls, TlsFileError> {
        let (ca_pem, ca) = match &self.ca_file {
            Some(path) => {
                let (text, certs) = read_certs(path, "CA file")?;
                (Some(text), certs)
            }
            None => (None, Vec::new()),
        };
        let (identity, chain, key) = match (&self.cert_file, &self.key_file) {
            (Some(cert_path), Some(key_path)) => {
                let (cert_text, chain) = read_certs(cert_path, "client certificate")?;
                let key_text = read(key_path, "client key")?;
                let key = PrivateKeyDer::from_pem_slice(key_text.as_bytes()).map_err(|e| TlsFileError {
                    what: "client key",
                    path: key_path.clone(),
                    reason: format!("no private key in it ({e}); expected a PEM \"PRIVATE KEY\" block"),
                })?;
                (Some((cert_text, key_text)), chain, Some(key))
            }
            (Some(path), None) => return Err(alone(path, "client certificate", "key_file")),
            (None, Some(path)) => return Err(alone(path, "client key", "cert_file")),
            (None, None) => (None, Vec::new(), None),
        };
        Ok(LoadedTls { ca_pem, identity, verify_hostname: self.verify_hostname, ca, chain, key })
    }
}

fn alone(path: &Path, what: &'static str, missing: &str) -> TlsFileError {
    TlsFileError { what, path: path.to_path_buf(), reason: format!("given without {missing}: the two go together") }
}

fn read(path: &Path, what: &'static str) -> Result<String, TlsFileError> {
    std::fs::read_to_string(path).map_err(|e| TlsFileError {
        what,
        path: path.to_path_buf(),
        reason: format!("cannot read it: {e}"),
    })
}

fn read_certs(path: &Path, what: &'static str) -> Result<(String, Vec<CertificateDer<'static>>), TlsFileError> {
    let text = read(path, what)?;
    let certs = CertificateDer::pem_slice_iter(text.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsFileError { what, path: path.to_path_buf(), reason: format!("not valid PEM: {e}") })?;
    if certs.is_empty() {
        return Err(TlsFileError {
            what,
            path: path.to_path_buf(),
            reason: "no certificate in it; expected a PEM \"CERTIFICATE\" block".to_string(),
        });
    }
    Ok((text, certs))
}

impl LoadedTls {
    /// A rustls client configuration with these files: the CA as the only trust anchor (the
    /// platform's roots otherwise), the client certificate when there is one, and the
    /// server's name checked unless turned off.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, String> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = RootCertStore::empty();
        for cert in &self.ca {
            roots.add(cert.clone()).map_err(|e| format!("CA certificate not usable: {e}"))?;
        }
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| format!("cannot check certificates with this CA: {e}"))?;
        let verifier: Arc<dyn ServerCertVerifier> =
            if self.verify_hostname { verifier } else { Arc::new(AnyName(verifier)) };
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS versions: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let config = match (&self.key, self.chain.is_empty()) {
            (Some(key), false) => builder
                .with_client_auth_cert(self.chain.clone(), key.clone_key())
                .map_err(|e| format!("the client certificate and key do not go together: {e}"))?,
            _ => builder.with_no_client_auth(),
        };
        Ok(Arc::new(config))
    }
}

/// The checks of [`WebPkiServerVerifier`] except the server's name: what hostname verification
/// turned off means (the chain must still lead to the CA).
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            // The name is checked after the chain, so this error means the chain was good.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// What one handshake attempt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handshake {
    /// The handshake went through and the server did not refuse us right after.
    Accepted,
    /// The server (or our side, checking its certificate) refused it; the reason is for people.
    Refused(String),
    /// No TCP connection (down, wrong port, time-out): not a TLS problem.
    Unreachable(String),
}

/// Tries a TLS handshake with `host:port` as the client libraries would, and says why it failed.
pub async fn handshake(config: Arc<ClientConfig>, host: &str, port: u16, timeout: Duration) -> Handshake {
    let attempt = async {
        let tcp = match tokio::net::TcpStream::connect((host, port)).await {
            Ok(s) => s,
            Err(e) => return Handshake::Unreachable(e.to_string()),
        };
        let name = match ServerName::try_from(host.to_string()) {
            Ok(n) => n,
            Err(e) => return Handshake::Refused(format!("{host:?} is not a host name TLS can check: {e}")),
        };
        let connector = tokio_rustls::TlsConnector::from(config);
        let mut stream = match connector.connect(name, tcp).await {
            Ok(s) => s,
            Err(e) => return Handshake::Refused(explain(&e, host)),
        };
        // A server that refuses our certificate says so right after the handshake; one that
        // accepts it waits for our first request.
        let mut byte = [0u8; 1];
        match tokio::time::timeout(Duration::from_millis(REFUSAL_WAIT_MS), stream.read(&mut byte)).await {
            Err(_) | Ok(Ok(1..)) => Handshake::Accepted,
            Ok(Ok(0)) => Handshake::Refused(
                "the server closed the connection right after the handshake (does it want a client \
                 certificate, or one from another CA?)"
                    .to_string(),
            ),
            Ok(Err(e)) => Handshake::Refused(explain(&e, host)),
        }
    };
    tokio::time::timeout(timeout, attempt)
        .await
        .unwrap_or_else(|_| Handshake::Unreachable(format!("no answer within {} ms", timeout.as_millis())))
}

/// A TLS failure in words an operator can act on.
pub fn explain(err: &std::io::Error, host: &str) -> String {
    let Some(tls) = err.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) else {
        return match err.kind() {
            std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset => {
                "the server closed the connection during the TLS handshake (is this port a TLS port?)".to_string()
            }
            _ => format!("TLS handshake failed: {err}"),
        };
    };
    explain_tls(tls, host)
}

/// [`explain`] for a rustls error.
pub fn explain_tls(err: &rustls::Error, host: &str) -> String {
    use rustls::AlertDescription as Alert;
    match err {
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "the server's certificate is not signed by the configured CA (wrong CA file?)".to_string()
        }
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => format!(
            "the server's certificate is not valid for {host:?} (hostname verification is on: connect by \
             a name the certificate lists, or turn verify_hostname off knowingly)"
        ),
        rustls::Error::InvalidCertificate(CertificateError::Expired | CertificateError::ExpiredContext { .. }) => {
            "the server's certificate has expired".to_string()
        }
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. },
        ) => "the server's certificate is not valid yet (is this machine's clock right?)".to_string(),
        rustls::Error::InvalidCertificate(other) => format!("the server's certificate was refused: {other:?}"),
        rustls::Error::AlertReceived(Alert::CertificateRequired | Alert::HandshakeFailure)
        | rustls::Error::AlertReceived(Alert::BadCertificate | Alert::UnknownCA | Alert::CertificateUnknown) => {
            format!(
                "the server refused the handshake ({err}): it wants a client certificate it trusts (cert_file and key_file)"
            )
        }
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
            "the server did not answer in TLS (is this the plain port?)".to_string()
        }
        other => format!("TLS handshake failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn pair() -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap().self_signed(&key).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    #[test]
    fn files_load_and_bad_ones_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = pair();
        let ca = write(dir.path(), "ca.pem", &cert);
        let crt = write(dir.path(), "client.pem", &cert);
        let k = write(dir.path(), "client.key", &key);
        let files = TlsFiles {
            ca_file: Some(ca.clone()),
            cert_file: Some(crt.clone()),
            key_file: Some(k.clone()),
            verify_hostname: true,
        };
        let loaded = files.load().unwrap();
        assert!(loaded.ca_pem.is_some() && loaded.identity.is_some());
        assert!(!format!("{loaded:?}").contains("PRIVATE"), "{loaded:?}");
        loaded.client_config().unwrap();

        let missing = TlsFiles::with_ca(dir.path().join("nope.pem")).load().unwrap_err();
        assert!(missing.to_string().starts_with("CA file ") && missing.to_string().contains("nope.pem"), "{missing}");
        assert!(missing.to_string().contains("cannot read it"), "{missing}");

        let junk = write(dir.path(), "junk.pem", "hello\n");
        let err = TlsFiles::with_ca(&junk).load().unwrap_err().to_string();
        assert!(err.contains("junk.pem") && err.contains("no certificate"), "{err}");
        let broken = write(dir.path(), "broken.pem", "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n");
        let err = TlsFiles::with_ca(&broken).load().unwrap_err().to_string();
        assert!(err.contains("broken.pem") && err.contains("not valid PEM"), "{err}");

        // A certificate where the key should be; a certificate without its key.
        let err = TlsFiles { key_file: Some(crt.clone()), ..files.clone() }.load().unwrap_err().to_string();
        assert!(err.starts_with("client key") && err.contains("no private key"), "{err}");
        let err = TlsFiles { key_file: None, ..files.clone() }.load().unwrap_err().to_string();
        assert!(err.contains("without key_file"), "{err}");
    }

    #[test]
    fn overrides_win_file_by_file_and_only_turn_verification_off() {
        let profile = TlsFiles {
            ca_file: Some("/p/ca.pem".into()),
            cert_file: Some("/p/c.pem".into()),
            key_file: Some("/p/k.pem".into()),
            verify_hostname: true,
        };
        assert_eq!(TlsOverrides::default().over(Some(profile.clone())), Some(profile.clone()));
        assert_eq!(TlsOverrides::default().over(None), None);
        let flags =
            TlsOverrides { ca_file: Some("/f/ca.pem".into()), no_verify_hostname: true, ..TlsOverrides::default() };
        let merged = flags.over(Some(profile.clone())).unwrap();
        assert_eq!(merged.ca_file.as_deref(), Some(Path::new("/f/ca.pem")));
        assert_eq!(merged.cert_file, profile.cert_file);
        assert!(!merged.verify_hostname);
        let off = TlsFiles { verify_hostname: false, ..profile };
        assert!(
            !TlsOverrides { ca_file: Some("/x".into()), ..TlsOverrides::default() }
                .over(Some(off))
                .unwrap()
                .verify_hostname
        );
        // In TOML, verification is on unless said otherwise.
        let parsed: TlsFiles = toml::from_str("ca_file = \"/x/ca.pem\"\n").unwrap();
        assert!(parsed.verify_hostname);
        assert!(toml::from_str::<TlsFiles>("ca = \"/x\"\n").is_err());
    }
}
