//! The one persistent recursive watch on `/` that keeps the console's copy of the tree live.
//!
//! Each notification is turned into data: the changed znode is read (pipelined, in order) and
//! sent as [`ZkEvent::Node`]; a deletion is sent as [`ZkEvent::Deleted`]. Creations and
//! deletions also re-read the parent, whose stat (children count, cversion) changed.
//!
//! Reads are only made for znodes somebody shows: the console publishes an [`Interest`] (the
//! znodes whose children it has loaded, and path prefixes such as the cluster on screen), so a
//! busy ensemble's changes elsewhere cost one notification each and no read.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use futures::stream::{FuturesOrdered, StreamExt};
use tokio_util::sync::CancellationToken;
use zookeeper_client::{AddWatchMode, Client, Error as ZkError, EventType};

use super::session::Sink;
use super::{describe_error, parent_path, NodeInfo, NodeStat, ZkEvent};

/// Path the watch covers: everything this client can see (the chroot's root under a chroot).
pub const WATCH_ROOT: &str = "/";

/// Which znodes' changes are worth a read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interest {
    /// Znodes whose children are loaded: their children's changes and their own are wanted.
    pub parents: HashSet<String>,
    /// Everything at or below these paths is wanted.
    pub prefixes: Vec<String>,
}

impl Interest {
    pub fn wants(&self, path: &str) -> bool {
        self.parents.contains(path)
            || self.parents.contains(parent_path(path))
            || self
                .prefixes
                .iter()
                .any(|p| path == p || path.strip_prefix(p.as_str()).is_some_and(|r| r.starts_with('/')))
    }
}

/// Shared between the console (writer) and the watch task (reader); `None` wants everything.
pub type InterestFilter = Arc<RwLock<Option<Arc<Interest>>>>;

fn wanted(filter: &InterestFilter, path: &str) -> bool {
    match filter.read() {
        Ok(guard) => guard.as_ref().is_none_or(|i| i.wants(path)),
        Err(_) => true,
    }
}

pub async fn run(client: Client, sink: Sink, cancel: CancellationToken, filter: InterestFilter) {
    let mut watcher = match client.watch(WATCH_ROOT, AddWatchMode::PersistentRecursive).await {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "cannot add the recursive watch");
            sink(ZkEvent::Failed { path: WATCH_ROOT.to_string(), error: format!("watch: {e}") });
            return;
        }
    };
    let mut pending = FuturesOrdered::new();
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            ev = watcher.changed() => {
                match ev.event_type {
                    EventType::Session => {
                        if ev.session_state.is_terminated() { return; }
                    }
                    EventType::NodeDeleted => {
                        sink(ZkEvent::Deleted { path: ev.path.clone() });
                        let parent = parent_path(&ev.path);
                        if wanted(&filter, parent) {
                            pending.push_back(read(&client, parent.to_string()));
                        }
                    }
                    EventType::NodeCreated => {
                        if wanted(&filter, &ev.path) {
                            pending.push_back(read(&client, ev.path.clone()));
                        }
                        let parent = parent_path(&ev.path);
                        if wanted(&filter, parent) {
                            pending.push_back(read(&client, parent.to_string()));
                        }
                    }
                    EventType::NodeDataChanged | EventType::NodeChildrenChanged => {
                        if wanted(&filter, &ev.path) {
                            pending.push_back(read(&client, ev.path.clone()));
                        }
                    }
                }
            }
            Some(result) = pending.next(), if !pending.is_empty() => sink(result),
        }
    }
}

/// Issues the read now (the client sends requests in call order) and resolves to an event.
fn read(client: &Client, path: String) -> impl std::future::Future<Output = ZkEvent> + Send + 'static {
    let request = client.get_data(&path);
    async move {
        match request.await {
            Ok((data, stat)) => ZkEvent::Node(NodeInfo { path, stat: NodeStat::from(&stat), data }),
            Err(ZkError::NoNode) => ZkEvent::Deleted { path },
            Err(e) => ZkEvent::Failed { path, error: describe_error(&e) },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interest_covers_loaded_children_and_prefixes() {
        let i = Interest {
            parents: ["/".to_string(), "/a".to_string()].into_iter().collect(),
            prefixes: vec!["/myzoo/clusters/main".into()],
        };
        assert!(i.wants("/a"));
        assert!(i.wants("/a/x"));
        assert!(!i.wants("/a/x/y"));
        assert!(i.wants("/b"));
        assert!(i.wants("/myzoo/clusters/main/nodes/db1"));
        assert!(i.wants("/myzoo/clusters/main"));
        assert!(!i.wants("/myzoo/clusters/mainframe/nodes/db1"));
        let everything: InterestFilter = Arc::default();
        assert!(wanted(&everything, "/any/path"));
    }
}
