//! A ZooKeeper session that replaces itself: connects, reports state changes, and after
//! expiry opens a new session and announces it so that everything visible is reloaded.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use zookeeper_client::{Client, SessionState, StateWatcher};

use super::watch::{Interest, InterestFilter};
use super::{SessionBadge, ZkEvent};

/// First pause before retrying a failed connect; doubles up to the maximum.
pub const RECONNECT_BACKOFF_MIN_MS: u64 = 250;
pub const RECONNECT_BACKOFF_MAX_MS: u64 = 5_000;

/// Where every ZooKeeper result goes (the console turns it into an event on its one channel).
pub type Sink = Arc<dyn Fn(ZkEvent) + Send + Sync>;

/// What the session connects with (kept as its own name for the console's callers).
pub type SessionConfig = super::ZkAccess;

/// Gives tasks the current client, if there is a usable one, and the watch's read filter.
#[derive(Clone)]
pub struct ZkHandle {
    rx: watch::Receiver<Option<Client>>,
    interest: InterestFilter,
}

impl ZkHandle {
    pub fn client(&self) -> Option<Client> {
        self.rx.borrow().clone()
    }

    /// Tells the watch which znodes' changes to read (see [`super::watch::Interest`]).
    pub fn set_interest(&self, interest: Arc<Interest>) {
        if let Ok(mut guard) = self.interest.write() {
            *guard = Some(interest);
        }
    }
}

/// Starts the session task. It stops when `cancel` fires.
pub fn spawn(cfg: SessionConfig, sink: Sink, cancel: CancellationToken) -> (ZkHandle, JoinHandle<()>) {
    let (tx, rx) = watch::channel(None);
    let interest = InterestFilter::default();
    let task = tokio::spawn(run(cfg, sink, cancel, tx, interest.clone()));
    (ZkHandle { rx, interest }, task)
}

fn badge(sink: &Sink, badge: SessionBadge) {
    sink(ZkEvent::Session { badge, at: SystemTime::now() });
}

/// Says which member the session is on now (see [`super::ensemble::session_member`]).
pub(super) fn connected_to(sink: &Sink, client: &Client) {
    sink(ZkEvent::ConnectedTo { member: super::ensemble::session_member(client) });
}

async fn run(
    cfg: SessionConfig,
    sink: Sink,
    cancel: CancellationToken,
    tx: watch::Sender<Option<Client>>,
    interest: InterestFilter,
) {
    let mut generation = 0u64;
    let mut backoff = Duration::from_millis(RECONNECT_BACKOFF_MIN_MS);
    while !cancel.is_cancelled() {
        let connected = tokio::select! {
            _ = cancel.cancelled() => return,
            r = cfg.connect() => r,
        };
        let client = match connected {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, connect = %cfg.connect, "ZooKeeper connect failed");
                let b = if matches!(e.zk(), Some(zookeeper_client::Error::AuthFailed)) {
                    SessionBadge::AuthFailed
                } else {
                    SessionBadge::Disconnected
                };
                badge(&sink, b);
                if e.is_tls() {
                    sink(ZkEvent::ConnectFailed { reason: e.to_string() });
                }
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_millis(RECONNECT_BACKOFF_MAX_MS));
                continue;
            }
        };
        backoff = Duration::from_millis(RECONNECT_BACKOFF_MIN_MS);
        generation += 1;
        tracing::info!(session = ?client.session_id(), generation, "ZooKeeper session established");
        let _ = tx.send(Some(client.clone()));
        // Made before the watch is added, so a state reached meanwhile (a disconnect, the
        // session's end) is still reported: a watcher made later would take it as seen.
        let states = client.state_watcher();
        // Ready only once the watch is in place (see `watch::add`).
        let added = tokio::select! {
            _ = cancel.cancelled() => return,
            w = super::watch::add(&client, &sink) => w,
        };
        let watch_cancel = cancel.child_token();
        let watcher = added.map(|w| {
            tokio::spawn(super::watch::run(
                w,
                client.clone(),
                sink.clone(),
                watch_cancel.clone(),
                interest.clone(),
                generation,
            ))
        });
        if client.state().is_terminated() {
            tracing::info!(generation, "the session ended while its watch was being added");
        } else {
            badge(&sink, SessionBadge::Connected);
            connected_to(&sink, &client);
            sink(ZkEvent::Ready { generation });
        }
        follow_state(states, &client, &sink, &cancel).await;
        watch_cancel.cancel();
        if let Some(watcher) = watcher {
            let _ = watcher.await;
        }
        let _ = tx.send(None);
    }
}

/// Reports state changes until the session ends (expired, closed, auth failed) or we stop.
/// A reconnect within the session is announced by the watch (`watch::run`), which sees every
/// state change in order; this channel keeps only the latest and may skip a short disconnect.
async fn follow_state(mut states: StateWatcher, client: &Client, sink: &Sink, cancel: &CancellationToken) {
    // A session already over when `states` was made: the watcher took its end as seen and
    // would wait for a change that never comes.
    let mut ended = Some(states.peek_state()).filter(|s| s.is_terminated());
    loop {
        let state = match ended.take() {
            Some(state) => state,
            None => tokio::select! {
                _ = cancel.cancelled() => return,
                s = states.changed() => s,
            },
        };
        tracing::info!(?state, "ZooKeeper session state");
        match state {
            SessionState::Disconnected => {
                badge(sink, SessionBadge::Disconnected);
                sink(ZkEvent::ConnectedTo { member: None });
            }
            SessionState::SyncConnected => {
                badge(sink, SessionBadge::Connected);
                connected_to(sink, client);
            }
            SessionState::ConnectedReadOnly => {
                badge(sink, SessionBadge::ConnectedReadOnly);
                connected_to(sink, client);
            }
            SessionState::Expired => {
                badge(sink, SessionBadge::Expired);
                return;
            }
            SessionState::AuthFailed => {
                badge(sink, SessionBadge::AuthFailed);
                return;
            }
            SessionState::Closed => return,
        }
    }
}
