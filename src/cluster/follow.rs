//! Follows one cluster live for long-running readers (`myzoo endpoint --watch`): one persistent
//! recursive watch on the cluster's folder, the whole cluster read again after each burst of
//! notifications and after every reconnect, each fresh [`ClusterSnapshot`] handed over through a
//! `watch` channel. No polling: while nothing changes, nothing is read.

use std::collections::BTreeSet;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use zookeeper_client::{AddWatchMode, Client, EventType, SessionState};

use super::health::ClusterSnapshot;
use super::snapshot::read_cluster;
use super::ClusterPaths;
use crate::zk::session::{RECONNECT_BACKOFF_MAX_MS, RECONNECT_BACKOFF_MIN_MS};
use crate::zk::ZkAccess;

/// After the first notification, wait this long for the rest of its burst (the agents publish at
/// the same wall-clock moments) and read the cluster once for all of them.
pub const COALESCE_MS: u64 = 50;
/// Pause before reading again after a failed read or a failed watch registration.
const RETRY_MS: u64 = 1_000;

/// Where and what to follow; `connect` and `session_timeout` open a new session after expiry.
#[derive(Debug, Clone)]
pub struct FollowOptions {
    pub zk: ZkAccess,
    pub root: String,
    pub cluster: String,
}

/// Follows the cluster until `cancel` fires, starting on `client` (already connected, so the
/// caller decides how long the first connection may take) and opening new sessions after one
/// expires. Read errors are logged and retried; the last snapshot stays in `tx` meanwhile.
pub async fn follow(
    opts: FollowOptions,
    client: Client,
    tx: watch::Sender<ClusterSnapshot>,
    cancel: CancellationToken,
) {
    let mut departed = Departed::default();
    let mut client = Some(client);
    let mut backoff = Duration::from_millis(RECONNECT_BACKOFF_MIN_MS);
    while !cancel.is_cancelled() {
        let current = match client.take() {
            Some(c) => c,
            None => {
                let connected = tokio::select! {
                    _ = cancel.cancelled() => return,
                    r = opts.zk.connect() => r,
                };
                match connected {
                    Ok(c) => {
                        tracing::info!(connect = %opts.zk.connect, "new ZooKeeper session; re-reading {}", opts.cluster);
                        backoff = Duration::from_millis(RECONNECT_BACKOFF_MIN_MS);
                        c
                    }
                    Err(e) => {
                        tracing::warn!(connect = %opts.zk.connect, "ZooKeeper connect failed: {e}");
                        if !pause(&cancel, backoff).await {
                            return;
                        }
                        backoff = (backoff * 2).min(Duration::from_millis(RECONNECT_BACKOFF_MAX_MS));
                        continue;
                    }
                }
            }
        };
        follow_session(&opts, &current, &tx, &cancel, &mut departed).await;
    }
}

/// One session: returns when it ends (expired, closed) or `cancel` fires.
async fn follow_session(
    opts: &FollowOptions,
    client: &Client,
    tx: &watch::Sender<ClusterSnapshot>,
    cancel: &CancellationToken,
    departed: &mut Departed,
) {
    let base = ClusterPaths::new(&opts.root, &opts.cluster).base();
    // Registered before the first read, so nothing changed between the two is missed.
    let mut watcher = loop {
        match client.watch(&base, AddWatchMode::PersistentRecursive).await {
            Ok(w) => break w,
            Err(e) => {
                // Connection trouble: the same session may come back. Anything else (expiry, a
                // refused watch): a new session.
                let same_session = crate::zk::worth_asking_again(&e);
                tracing::warn!("watching {base}: {e}; trying again");
                if !pause(cancel, Duration::from_millis(RETRY_MS)).await || !same_session {
                    return;
                }
            }
        }
    };
    // Read at once: the caller may have read before the watch existed.
    let mut read_at = Some(tokio::time::Instant::now());
    let mut disconnected = false;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            ev = watcher.changed() => match ev.event_type {
                EventType::Session => match ev.session_state {
                    state if state.is_terminated() => {
                        tracing::warn!(?state, "ZooKeeper session ended");
                        return;
                    }
                    SessionState::Disconnected => disconnected = true,
                    SessionState::SyncConnected | SessionState::ConnectedReadOnly if disconnected => {
                        // The watch is re-registered, but what changed while away is not replayed.
                        disconnected = false;
                        tracing::info!("ZooKeeper reconnected within the same session; re-reading {}", opts.cluster);
                        read_at = Some(read_at.unwrap_or_else(tokio::time::Instant::now));
                    }
                    _ => {}
                },
                _ => {
                    read_at = Some(read_at.unwrap_or_else(|| {
                        tokio::time::Instant::now() + Duration::from_millis(COALESCE_MS)
                    }));
                }
            },
            _ = tokio::time::sleep_until(read_at.unwrap_or_else(tokio::time::Instant::now)), if read_at.is_some() => {
                read_at = None;
                match read_cluster(client, &opts.root, &opts.cluster).await {
                    Ok(mut snap) => {
                        snap.departed = departed.update(&snap);
                        tx.send_replace(snap);
                    }
                    Err(e) => {
                        tracing::warn!("reading cluster {}: {e}; trying again", opts.cluster);
                        read_at = Some(tokio::time::Instant::now() + Duration::from_millis(RETRY_MS));
                    }
                }
            }
        }
    }
}

/// Nodes whose agents registered while we followed and are gone now: their ephemeral znode
/// vanishing is news ("agent gone"), unlike a node that never registered ("missing").
#[derive(Debug, Default)]
struct Departed {
    seen: BTreeSet<String>,
}

impl Departed {
    fn update(&mut self, snap: &ClusterSnapshot) -> BTreeSet<String> {
        self.seen.extend(snap.nodes.keys().cloned());
        self.seen.iter().filter(|n| !snap.nodes.contains_key(*n)).cloned().collect()
    }
}

/// Sleeps unless cancelled first; false when cancelled.
async fn pause(cancel: &CancellationToken, how_long: Duration) -> bool {
    tokio::select! {
        _ = cancel.cancelled() => false,
        _ = tokio::time::sleep(how_long) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_that_registered_and_left_is_departed_until_it_returns() {
        let mut d = Departed::default();
        let mut snap = ClusterSnapshot::default();
        snap.nodes.insert("db1".into(), Vec::new());
        assert!(d.update(&snap).is_empty());
        snap.nodes.clear();
        assert_eq!(d.update(&snap), BTreeSet::from(["db1".to_string()]));
        snap.nodes.insert("db1".into(), Vec::new());
        assert!(d.update(&snap).is_empty());
    }
}
