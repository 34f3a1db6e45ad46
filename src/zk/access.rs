//! How every part of myzoo reaches ZooKeeper: the connect string, the session timeout and the
//! client-side security settings, turned into the client's connector in one place, so the
//! console, the scriptable commands, the agents and the sandbox all connect the same way.

use std::time::Duration;

use zookeeper_client::{Client, Connector};

use super::auth::{ZkCredential, DIGEST_SCHEME};

/// Everything needed to open a session.
#[derive(Debug, Clone, PartialEq)]
pub struct ZkAccess {
    /// `host:port[,host:port…][/chroot]`
    pub connect: String,
    pub session_timeout: Duration,
    /// The digest credential every session authenticates with (`Debug` hides the password).
    pub auth: Option<ZkCredential>,
}

impl ZkAccess {
    pub fn new(connect: impl Into<String>, session_timeout: Duration) -> ZkAccess {
        ZkAccess { connect: connect.into(), session_timeout, auth: None }
    }

    /// Authenticates every session with `auth` (none: anonymous).
    pub fn with_auth(mut self, auth: Option<ZkCredential>) -> ZkAccess {
        self.auth = auth;
        self
    }

    /// A connector with this access's settings; callers add their own (`with_fail_eagerly` …).
    /// The credential goes in the connector, which sends it on every connection it makes: after
    /// a reconnect to another member within the session too, and a new session built from this
    /// access (after expiry) starts with it.
    pub fn connector(&self) -> Connector {
        let connector = Client::connector().with_session_timeout(self.session_timeout);
        match &self.auth {
            Some(cred) => connector.with_auth(DIGEST_SCHEME, &cred.auth_bytes()),
            None => connector,
        }
    }

    /// What the console's header and the logs may show: `digest myzoo`, never the password.
    pub fn auth_label(&self) -> Option<String> {
        self.auth.as_ref().map(ZkCredential::label)
    }

    /// Opens a session through `connector` (from [`Self::connector`]).
    pub async fn connect_with(&self, connector: Connector) -> Result<Client, zookeeper_client::Error> {
        connector.connect(&self.connect).await
    }

    /// Opens a session, retrying servers until the session timeout.
    pub async fn connect(&self) -> Result<Client, zookeeper_client::Error> {
        self.connect_with(self.connector()).await
    }

    /// Opens a session, giving up once every server has refused instead of cycling through
    /// them until the session timeout (for scripts that must answer quickly).
    pub async fn connect_eagerly(&self) -> Result<Client, zookeeper_client::Error> {
        self.connect_with(self.connector().with_fail_eagerly()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_credential_never_shows() {
        let cred = ZkCredential::parse("myzoo:hunter2").unwrap();
        let access = ZkAccess::new("127.0.0.1:2181", Duration::from_secs(10)).with_auth(Some(cred));
        let shown = format!("{access:?} {:?}", access.connector());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(access.auth_label().as_deref(), Some("digest myzoo"));
        assert_eq!(ZkAccess::new("x:1", Duration::from_secs(1)).auth_label(), None);
    }
}
