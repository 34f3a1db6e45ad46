//! MySQL/MariaDB access: flavour detection and each flavour's statements, probing, heartbeat.
//! Nothing here knows about ZooKeeper or the console; the agent (and later failover) use it.

pub mod flavor;
pub mod heartbeat;
pub mod probe;
pub mod replica;

use std::fmt;
use std::time::Duration;

use anyhow::{Context, Result};
use mysql_async::{Conn, OptsBuilder};

/// Where and as whom to connect. The password never appears in `Debug` output or logs.
#[derive(Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Target {
    /// `host:port`, for messages.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// Opens one TCP connection; `timeout` bounds the whole handshake.
pub async fn connect(target: &Target, timeout: Duration) -> Result<Conn> {
    let opts = OptsBuilder::default()
        .ip_or_hostname(target.host.clone())
        .tcp_port(target.port)
        .user(Some(target.user.clone()))
        .pass(target.password.clone())
        .prefer_socket(false)
        // The probe's own statements are few and fixed; keep them prepared.
        .stmt_cache_size(16);
    tokio::time::timeout(timeout, Conn::new(opts))
        .await
        .with_context(|| format!("no answer from {} within {} ms", target.address(), timeout.as_millis()))?
        .with_context(|| format!("connecting to {} as {}", target.address(), target.user))
}
