//! Certificates for `myzoo sandbox up --tls`, generated with rcgen into `<state>/tls/` (every
//! file mode 0600): a CA, a server certificate for `127.0.0.1` and `localhost` (ZooKeeper and
//! MariaDB share it: both listen on loopback only), and a client certificate (ZooKeeper's
//! secure port asks for one). The CA's private key is never written: nothing signs after `up`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};

use super::agents::write_private;
use super::prepare_server_dir;
use crate::tls::TlsFiles;

/// The folder, below the state folder.
pub const TLS_DIR: &str = "tls";
/// The names the server certificate lists: what clients connect to in the sandbox.
pub const SERVER_NAMES: [&str; 2] = ["127.0.0.1", "localhost"];

/// Where the sandbox's certificates are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxCerts {
    pub dir: PathBuf,
}

impl SandboxCerts {
    /// The certificates of the sandbox in `state_dir` (whether generated or not).
    pub fn at(state_dir: &Path) -> SandboxCerts {
        SandboxCerts { dir: state_dir.join(TLS_DIR) }
    }

    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }
    pub fn server_cert(&self) -> PathBuf {
        self.dir.join("server.pem")
    }
    pub fn server_key(&self) -> PathBuf {
        self.dir.join("server.key")
    }
    /// The server's key and certificate in one file: ZooKeeper's PEM key store.
    pub fn server_key_store(&self) -> PathBuf {
        self.dir.join("server-keystore.pem")
    }
    pub fn client_cert(&self) -> PathBuf {
        self.dir.join("client.pem")
    }
    pub fn client_key(&self) -> PathBuf {
        self.dir.join("client.key")
    }

    /// What a client of the sandbox names: the CA and the client certificate, names checked.
    pub fn client_files(&self) -> TlsFiles {
        TlsFiles {
            ca_file: Some(self.ca()),
            cert_file: Some(self.client_cert()),
            key_file: Some(self.client_key()),
            verify_hostname: true,
        }
    }
}

/// A CA able to sign the sandbox's certificates (also used by tests that need a certificate
/// for another name, or from another CA).
pub struct Ca {
    pub pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    pub fn new(name: &str) -> Result<Ca> {
        let key = KeyPair::generate().context("generating the CA key")?;
        let mut params = CertificateParams::default();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).context("signing the CA certificate")?;
        Ok(Ca { pem: cert.pem(), issuer: Issuer::new(params, key) })
    }

    /// A server certificate for `names` (IP addresses or DNS names): `(certificate, key)`, PEM.
    pub fn server(&self, names: &[&str]) -> Result<(String, String)> {
        let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .context("server certificate names")?;
        params.distinguished_name.push(DnType::CommonName, names.first().copied().unwrap_or("server"));
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.sign(params)
    }

    /// A client certificate named `name`: `(certificate, key)`, PEM.
    pub fn client(&self, name: &str) -> Result<(String, String)> {
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.sign(params)
    }

    fn sign(&self, params: CertificateParams) -> Result<(String, String)> {
        let key = KeyPair::generate().context("generating a key")?;
        let cert = params.signed_by(&key, &self.issuer).context("signing a certificate")?;
        Ok((cert.pem(), key.serialize_pem()))
    }
}

/// Generates the sandbox's CA, server and client certificates into `<state>/tls/`.
pub fn generate(state_dir: &Path) -> Result<SandboxCerts> {
    let certs = SandboxCerts { dir: prepare_server_dir(state_dir, TLS_DIR)? };
    let ca = Ca::new("myzoo sandbox CA")?;
    let (server_cert, server_key) = ca.server(&SERVER_NAMES)?;
    let (client_cert, client_key) = ca.client("myzoo")?;
    write_private(&certs.ca(), ca.pem.trim_end())?;
    write_private(&certs.server_cert(), server_cert.trim_end())?;
    write_private(&certs.server_key(), server_key.trim_end())?;
    write_private(&certs.server_key_store(), &format!("{}\n{}", server_key.trim_end(), server_cert.trim_end()))?;
    write_private(&certs.client_cert(), client_cert.trim_end())?;
    write_private(&certs.client_key(), client_key.trim_end())?;
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_files_are_private_and_load() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let certs = generate(dir.path()).unwrap();
        for file in [
            certs.ca(),
            certs.server_cert(),
            certs.server_key(),
            certs.server_key_store(),
            certs.client_cert(),
            certs.client_key(),
        ] {
            let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", file.display());
        }
        let loaded = certs.client_files().load().unwrap();
        assert!(loaded.identity.is_some());
        loaded.client_config().unwrap();
        let store = std::fs::read_to_string(certs.server_key_store()).unwrap();
        assert!(store.contains("PRIVATE KEY") && store.contains("CERTIFICATE"));
    }
}
