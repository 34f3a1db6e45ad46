//! ZooKeeper access: sessions that replace themselves, tree loading, watches, znode data formatting.
//! Nothing here knows about the terminal; the console, the agent and the CLI all sit on top.

pub mod access;
pub mod acl;
pub mod auth;
pub mod ensemble;
pub mod find;
pub mod format;
pub mod load;
pub mod session;
pub mod watch;

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

pub use access::ZkAccess;
pub use auth::ZkCredential;
pub use zookeeper_client::Client;

/// A znode's stat, detached from the client library so that views and tests can build one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStat {
    pub czxid: i64,
    pub mzxid: i64,
    pub pzxid: i64,
    pub ctime_ms: i64,
    pub mtime_ms: i64,
    pub version: i32,
    pub cversion: i32,
    pub aversion: i32,
    pub ephemeral_owner: i64,
    pub data_length: i32,
    pub num_children: i32,
}

impl From<&zookeeper_client::Stat> for NodeStat {
    fn from(s: &zookeeper_client::Stat) -> Self {
        NodeStat {
            czxid: s.czxid,
            mzxid: s.mzxid,
            pzxid: s.pzxid,
            ctime_ms: s.ctime,
            mtime_ms: s.mtime,
            version: s.version,
            cversion: s.cversion,
            aversion: s.aversion,
            ephemeral_owner: s.ephemeral_owner,
            data_length: s.data_length,
            num_children: s.num_children,
        }
    }
}

/// One znode as read at one moment: the unit every watch result and load carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    pub path: String,
    pub stat: NodeStat,
    pub data: Vec<u8>,
}

/// One ACL entry, formatted the way zkCli prints it (`world:anyone:cdrwa`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclEntry {
    pub scheme: String,
    pub id: String,
    pub perms: String,
}

/// What the header's session badge shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionBadge {
    Connecting,
    Connected,
    ConnectedReadOnly,
    Disconnected,
    Expired,
    AuthFailed,
}

/// Results from ZooKeeper tasks; they carry the data, never "go look".
#[derive(Debug, Clone)]
pub enum ZkEvent {
    /// The session changed state at the given time.
    Session { badge: SessionBadge, at: SystemTime },
    /// The member the session is connected to now (`host:port` as in the connect string), on
    /// every connect and reconnect; `None` while it is between members.
    ConnectedTo { member: Option<String> },
    /// A usable session exists (the first one, a reconnect, or a replacement after expiry):
    /// everything visible must be reloaded because events may have been lost.
    Ready { generation: u64 },
    /// A znode under one of the interest's `touch_prefixes` changed and was not read: someone
    /// wants to know that it changed (to read it later, coalesced), not what it holds now.
    Touched { path: String },
    /// The watch delivered notifications (any path, read or not) up to `at`; sent at most once
    /// per [`watch::HEARD_EVERY_MS`], so a silent watch can be told from a quiet ensemble.
    WatchHeard { at: SystemTime },
    /// The children of `parent` with each child's stat and data, plus the parent itself;
    /// children that could not be read (NoAuth …) come in `failed` with the reason. The
    /// parent's `pzxid` is the listing's moment (see [`load::Children`]).
    Children { parent: NodeInfo, children: Vec<NodeInfo>, failed: Vec<(String, String)> },
    /// A znode was created or changed (from a watch or a single fetch).
    Node(NodeInfo),
    /// A znode was deleted.
    Deleted { path: String },
    /// Reading `path` failed (NoNode, NoAuth, connection loss …); shown in place.
    /// `transient`: the read failed for want of a connection and is made again once the
    /// session is back (not an answer about the znode).
    Failed { path: String, error: String, transient: bool },
    /// The ACL of `path` with its ACL version (`aversion`), or why it could not be read.
    Acl { path: String, acl: Result<(i32, Vec<AclEntry>), String> },
    /// Opening a session failed for a reason retrying will not cure (a TLS file, a refused
    /// handshake): shown as a notice; the session keeps retrying in case it is fixed.
    ConnectFailed { reason: String },
}

/// Joins a parent path and a child name.
pub fn child_path(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// The parent of a path (`/` for top-level znodes and for `/` itself).
pub fn parent_path(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// The last segment of a path (`/` for the root).
pub fn base_name(path: &str) -> &str {
    if path == "/" {
        return "/";
    }
    path.rsplit('/').next().unwrap_or(path)
}

/// Whether an error says nothing about the znode, only that the connection or session was
/// not there: the read is worth making again after a reconnect.
pub fn is_transient(e: &zookeeper_client::Error) -> bool {
    use zookeeper_client::Error as E;
    matches!(e, E::ConnectionLoss | E::SessionExpired | E::SessionMoved | E::Timeout | E::ClientClosed)
}

/// The request failed for want of a server (the connection broke, or the member was slow) or
/// reached a member that no longer holds the session: the same request may be made again once
/// the session is back on a server. Callers also check that the session has not ended.
pub fn worth_asking_again(e: &zookeeper_client::Error) -> bool {
    use zookeeper_client::Error as E;
    matches!(e, E::ConnectionLoss | E::Timeout | E::SessionMoved)
}

/// A short, operator-facing name for a client error.
pub fn describe_error(e: &zookeeper_client::Error) -> String {
    use zookeeper_client::Error as E;
    match e {
        E::NoNode => "NoNode: the znode does not exist".to_string(),
        E::NoAuth => "NoAuth: not permitted by the znode's ACL".to_string(),
        E::BadVersion => "BadVersion: changed by someone else".to_string(),
        E::ConnectionLoss => "ConnectionLoss: no server reachable".to_string(),
        E::SessionExpired => "SessionExpired".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_and_split() {
        assert_eq!(child_path("/", "a"), "/a");
        assert_eq!(child_path("/a", "b"), "/a/b");
        assert_eq!(parent_path("/a/b"), "/a");
        assert_eq!(parent_path("/a"), "/");
        assert_eq!(parent_path("/"), "/");
        assert_eq!(base_name("/a/b"), "b");
        assert_eq!(base_name("/"), "/");
    }
}
