//! The one persistent recursive watch on `/` that keeps the console's copy of the tree live.
//!
//! Each notification is turned into data: the changed znode is read (pipelined, in order) and
//! sent as [`ZkEvent::Node`]; a deletion is sent as [`ZkEvent::Deleted`]. Creations and
//! deletions also re-read the parent, whose stat (children count, cversion) changed.

use futures::stream::{FuturesOrdered, StreamExt};
use tokio_util::sync::CancellationToken;
use zookeeper_client::{AddWatchMode, Client, Error as ZkError, EventType};

use super::session::Sink;
use super::{describe_error, parent_path, NodeInfo, NodeStat, ZkEvent};

/// Path the watch covers: everything this client can see (the chroot's root under a chroot).
pub const WATCH_ROOT: &str = "/";

pub async fn run(client: Client, sink: Sink, cancel: CancellationToken) {
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
                        pending.push_back(read(&client, parent_path(&ev.path).to_string()));
                    }
                    EventType::NodeCreated => {
                        pending.push_back(read(&client, ev.path.clone()));
                        pending.push_back(read(&client, parent_path(&ev.path).to_string()));
                    }
                    EventType::NodeDataChanged | EventType::NodeChildrenChanged => {
                        pending.push_back(read(&client, ev.path.clone()));
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
