//! The real local playground: ZooKeeper plus a MariaDB primary and two GTID replicas on loopback.
//!
//! The same code starts the servers for `myzoo sandbox up` and for the integration tests.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::{Deserialize, Serialize};

/// Options for `myzoo sandbox up`.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Folder holding every server's data, config, logs and pid files.
    pub state_dir: PathBuf,
    /// 1 (standalone) or 3 (ensemble).
    pub zk_ensemble: usize,
    /// Start the three MariaDB servers too (tests that need only ZooKeeper skip them).
    pub with_mysql: bool,
    /// Seed the demo tree and write the `sandbox` connection profile.
    pub seed: bool,
}

/// What `myzoo sandbox status --json` prints; scripts and tests find every server here.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SandboxStatus {
    pub zk: String,
    pub zk_servers: Vec<ZkServer>,
    pub mysql: Vec<MysqlServer>,
    pub state_dir: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ZkServer {
    pub id: u32,
    pub host: String,
    pub port: u16,
    pub pid: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MysqlServer {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub role: String,
    pub pid: Option<u32>,
}

pub fn default_state_dir() -> PathBuf {
    crate::config::state_dir().join("sandbox")
}

pub async fn up(_opts: &SandboxOptions) -> Result<SandboxStatus> {
    anyhow::bail!("not yet")
}

pub async fn down(_state_dir: &Path) -> Result<()> {
    anyhow::bail!("not yet")
}

pub fn status(_state_dir: &Path) -> Result<SandboxStatus> {
    anyhow::bail!("not yet")
}
