//! The one persistent recursive watch on `/` that keeps the console's copy of the tree live.
//!
//! Each notification is turned into data: the changed znode is read (pipelined, in order) and
//! sent as [`ZkEvent::Node`]; a deletion is sent as [`ZkEvent::Deleted`]. Creations and
//! deletions also re-read the parent, whose stat (children count, cversion) changed.
//! Deletions wait in the same ordered queue as the reads: a read issued before a deletion but
//! answered after it must reach the console first, or it would bring the deleted znode back.
//!
//! Reads are only made for znodes somebody shows: the console publishes an [`Interest`] (the
//! znodes whose children it has loaded, and path prefixes such as the cluster on screen), so a
//! busy ensemble's changes elsewhere cost one notification each and no read.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use futures::future::{BoxFuture, FutureExt};
use futures::stream::{FuturesOrdered, StreamExt};
use tokio_util::sync::CancellationToken;
use zookeeper_client::{AddWatchMode, Client, Error as ZkError, EventType, PersistentWatcher, SessionState};

use super::session::Sink;
use super::{describe_error, is_transient, parent_path, worth_asking_again, NodeInfo, NodeStat, ZkEvent};

/// Path the watch covers: everything this client can see (the chroot's root under a chroot).
pub const WATCH_ROOT: &str = "/";
/// At most one [`ZkEvent::WatchHeard`] per this many ms, however busy the ensemble.
pub const HEARD_EVERY_MS: u64 = 1_000;
/// Touched subtrees are reported at most about twice per this many ms each.
pub const TOUCH_EVERY_MS: u64 = 1_000;
/// Pause between two attempts to add the watch while the new session has no server.
const ADD_AGAIN_PAUSE_MS: u64 = 200;

/// Which znodes' changes are worth a read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interest {
    /// Znodes whose children are loaded: their children's changes and their own are wanted.
    pub parents: HashSet<String>,
    /// Everything at or below these paths is wanted.
    pub prefixes: Vec<String>,
    /// Changes below these paths that are not wanted are reported as
    /// [`ZkEvent::Touched`] (no read): the cluster overview refreshes those clusters itself,
    /// at most once a second each.
    pub touch_prefixes: Vec<String>,
}

fn under(path: &str, prefix: &str) -> bool {
    path == prefix || path.strip_prefix(prefix).is_some_and(|r| r.starts_with('/'))
}

impl Interest {
    pub fn wants(&self, path: &str) -> bool {
        self.parents.contains(path)
            || self.parents.contains(parent_path(path))
            || self.prefixes.iter().any(|p| under(path, p))
    }

    /// Whether an unwanted change to `path` should be reported as touched.
    pub fn touches(&self, path: &str) -> bool {
        self.touch_prefixes.iter().any(|p| under(path, p))
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

/// The touched subtree's key: the touch prefix plus the next segment (a cluster's folder).
fn touch_key(filter: &InterestFilter, path: &str) -> Option<String> {
    let guard = filter.read().ok()?;
    let interest = guard.as_ref()?;
    let prefix = interest.touch_prefixes.iter().find(|p| under(path, p))?;
    let rest = path.strip_prefix(prefix.as_str())?.trim_start_matches('/');
    let first = rest.split('/').next().filter(|s| !s.is_empty())?;
    Some(format!("{prefix}/{first}"))
}

/// Coalesces [`ZkEvent::Touched`]: the first change of a subtree is reported at once, further
/// ones within [`TOUCH_EVERY_MS`] once when that time is up, so a subtree changing a hundred
/// times a second costs two events a second, and its last change is never lost.
#[derive(Default)]
struct Touches {
    /// Subtrees reported in the current window, and whether they changed again since.
    window: std::collections::HashMap<String, bool>,
    window_ends: Option<tokio::time::Instant>,
}

impl Touches {
    fn touch(&mut self, key: String, sink: &Sink) {
        if self.window_ends.is_none() {
            self.window_ends = Some(tokio::time::Instant::now() + Duration::from_millis(TOUCH_EVERY_MS));
        }
        match self.window.get_mut(&key) {
            Some(again) => *again = true,
            None => {
                sink(ZkEvent::Touched { path: key.clone() });
                self.window.insert(key, false);
            }
        }
    }

    fn flush_at(&self) -> Option<tokio::time::Instant> {
        self.window_ends
    }

    /// The window is over: report what changed again in it, and start afresh.
    fn flush(&mut self, sink: &Sink) {
        for (key, again) in self.window.drain() {
            if again {
                sink(ZkEvent::Touched { path: key });
            }
        }
        self.window_ends = None;
    }
}

/// Adds the recursive watch for a new session. It must be in place before the session is
/// announced ready: the reload that follows reads what exists, and only a watch registered
/// before those reads reports what changes after them (a change made between the reads and a
/// later registration was never shown). A connection lost meanwhile is waited out while the
/// session lives on; any other failure is reported and the session goes on unwatched.
pub async fn add(client: &Client, sink: &Sink) -> Option<PersistentWatcher> {
    loop {
        match client.watch(WATCH_ROOT, AddWatchMode::PersistentRecursive).await {
            Ok(watcher) => return Some(watcher),
            Err(e) if worth_asking_again(&e) && !client.state().is_terminated() => {
                tracing::debug!(error = %e, "adding the recursive watch again");
                tokio::time::sleep(Duration::from_millis(ADD_AGAIN_PAUSE_MS)).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot add the recursive watch");
                sink(ZkEvent::Failed {
                    path: WATCH_ROOT.to_string(),
                    error: format!("watch: {e}"),
                    transient: is_transient(&e),
                });
                return None;
            }
        }
    }
}

/// Runs the watch for one session (`generation`) until `cancel` fires or the session ends.
///
/// The watch also sees the session's state changes, in order and none lost (the client queues
/// them on the watch itself). A reconnect within the same session — to another member after the
/// one we were on died, or to the same one after a pause — is announced as [`ZkEvent::Ready`]:
/// ZooKeeper re-registers the watch but does not replay what changed while we were away.
pub async fn run(
    mut watcher: PersistentWatcher,
    client: Client,
    sink: Sink,
    cancel: CancellationToken,
    filter: InterestFilter,
    generation: u64,
) {
    let mut pending: FuturesOrdered<BoxFuture<'static, ZkEvent>> = FuturesOrdered::new();
    let mut heard = Heard::default();
    let mut touches = Touches::default();
    let mut disconnected = false;
    loop {
        let flush_at = touches.flush_at();
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep_until(flush_at.unwrap_or_else(tokio::time::Instant::now)), if flush_at.is_some() => {
                touches.flush(&sink);
            }
            ev = watcher.changed() => {
                if ev.event_type != EventType::Session {
                    heard.notification(&sink);
                    if !wanted(&filter, &ev.path) {
                        if let Some(key) = touch_key(&filter, &ev.path) {
                            touches.touch(key, &sink);
                        }
                    }
                }
                match ev.event_type {
                    EventType::Session => match ev.session_state {
                        state if state.is_terminated() => return,
                        SessionState::Disconnected => disconnected = true,
                        SessionState::SyncConnected | SessionState::ConnectedReadOnly if disconnected => {
                            disconnected = false;
                            tracing::info!(
                                session = %client.session_id(), generation,
                                "ZooKeeper reconnected within the same session; re-reading what is shown"
                            );
                            super::session::connected_to(&sink, &client);
                            sink(ZkEvent::Ready { generation });
                        }
                        _ => {}
                    },
                    EventType::NodeDeleted => {
                        pending.push_back(futures::future::ready(ZkEvent::Deleted { path: ev.path.clone() }).boxed());
                        let parent = parent_path(&ev.path);
                        if wanted(&filter, parent) {
                            pending.push_back(read(&client, parent.to_string()).boxed());
                        }
                    }
                    EventType::NodeCreated => {
                        if wanted(&filter, &ev.path) {
                            pending.push_back(read(&client, ev.path.clone()).boxed());
                        }
                        let parent = parent_path(&ev.path);
                        if wanted(&filter, parent) {
                            pending.push_back(read(&client, parent.to_string()).boxed());
                        }
                    }
                    EventType::NodeDataChanged | EventType::NodeChildrenChanged => {
                        if wanted(&filter, &ev.path) {
                            pending.push_back(read(&client, ev.path.clone()).boxed());
                        }
                    }
                }
            }
            Some(result) = pending.next(), if !pending.is_empty() => sink(result),
        }
    }
}

/// Rate-limits [`ZkEvent::WatchHeard`]: the first notification after a quiet second is
/// reported at once, later ones at most every [`HEARD_EVERY_MS`].
#[derive(Default)]
struct Heard {
    last_sent: Option<Instant>,
}

impl Heard {
    fn notification(&mut self, sink: &Sink) {
        let now = Instant::now();
        if self.last_sent.is_some_and(|at| now.duration_since(at) < Duration::from_millis(HEARD_EVERY_MS)) {
            return;
        }
        self.last_sent = Some(now);
        sink(ZkEvent::WatchHeard { at: SystemTime::now() });
    }
}

/// Issues the read now (the client sends requests in call order) and resolves to an event.
fn read(client: &Client, path: String) -> impl std::future::Future<Output = ZkEvent> + Send + 'static {
    let request = client.get_data(&path);
    async move {
        match request.await {
            Ok((data, stat)) => ZkEvent::Node(NodeInfo { path, stat: NodeStat::from(&stat), data }),
            Err(ZkError::NoNode) => ZkEvent::Deleted { path },
            Err(e) => ZkEvent::Failed { path, error: describe_error(&e), transient: is_transient(&e) },
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
            touch_prefixes: vec!["/myzoo/clusters".into()],
        };
        assert!(i.touches("/myzoo/clusters/other/nodes/db1"));
        assert!(!i.touches("/myzoo/clustersx"));
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
