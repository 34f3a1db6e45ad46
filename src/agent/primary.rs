//! Follows `<cluster>/primary` with a data watch (no polling) and hands the record to the probe
//! loop through a `watch` channel, so the probe loop only ever reads a local value and never
//! waits for ZooKeeper. `<cluster>/config`'s MySQL TLS policy and `failover.max_lag_s` (for
//! `/replica`) are followed the same way.

use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use zookeeper_client::{Client, Error as ZkError, EventType, SessionState};

use crate::cluster::config::{parse_config, parse_primary, PrimaryRecord};
use crate::tls::TlsMode;

/// Pause before reading a znode again after an error (connection loss).
const PRIMARY_RETRY_MS: u64 = 1_000;

/// Runs for one ZooKeeper session, until `cancel` fires or the session ends. The last known
/// record is kept across sessions: the probe loop only writes the heartbeat when the server
/// itself is a writable primary, so a stale "we are primary" cannot write to a replica.
/// `read_in` gets the session id after every read, so `/primary` can tell a record read in this
/// session from one kept from an earlier session (which may predate a failover).
pub async fn follow(
    client: Client,
    path: String,
    tx: watch::Sender<Option<PrimaryRecord>>,
    read_in: watch::Sender<i64>,
    cancel: CancellationToken,
) {
    let at = path.clone();
    let session = client.session_id().0;
    follow_znode(client, path, cancel, move |data| {
        set(&tx, &at, data.and_then(|d| record(&at, d)));
        read_in.send_replace(session);
    })
    .await;
}

/// Follows one znode's data with a data watch for one session: `seen` gets its data (`None`
/// while it does not exist) after every change and every reconnect.
///
/// After a reconnect within the session (the member we were on died or paused) the znode is
/// read again: ZooKeeper re-registers the data watch, but reading is what makes sure nothing
/// that changed while we were away is missed, whatever kind of watch the client re-sent.
pub async fn follow_znode(
    client: Client,
    path: String,
    cancel: CancellationToken,
    mut seen: impl FnMut(Option<&[u8]>),
) {
    let mut states = client.state_watcher();
    loop {
        let watcher = match client.get_and_watch_data(&path).await {
            Ok((data, _stat, watcher)) => {
                seen(Some(&data));
                watcher
            }
            Err(ZkError::NoNode) => match client.check_and_watch_stat(&path).await {
                Ok((Some(_), _)) => continue,
                Ok((None, watcher)) => {
                    seen(None);
                    watcher
                }
                Err(e) => {
                    if !pause(&cancel, &path, &e).await {
                        return;
                    }
                    continue;
                }
            },
            Err(e) => {
                if !pause(&cancel, &path, &e).await {
                    return;
                }
                continue;
            }
        };
        let changed = watcher.changed();
        tokio::pin!(changed);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                event = &mut changed => {
                    if event.event_type == EventType::Session && event.session_state.is_terminated() {
                        return;
                    }
                    break;
                }
                state = states.changed() => match state {
                    s if s.is_terminated() => return,
                    // The state channel keeps only the latest value, so a short disconnect may
                    // show only as "connected again": any change to connected is a reconnect.
                    SessionState::SyncConnected | SessionState::ConnectedReadOnly => {
                        tracing::info!(%path, "ZooKeeper reconnected within the same session; reading it again");
                        break;
                    }
                    _ => {}
                },
            }
        }
    }
}

/// Follows `<cluster>/config` for the MySQL TLS policy (`mysql.tls`), handed to the probe loop
/// like the primary record, and `failover.max_lag_s`. A config that cannot be read or parsed
/// keeps the last values seen (a typo must not lower the policy); a missing config means no
/// policy (`off`) and the default lag.
pub async fn follow_config(
    client: Client,
    path: String,
    tx: watch::Sender<Option<TlsMode>>,
    max_lag_tx: watch::Sender<Option<u64>>,
    cancel: CancellationToken,
) {
    let at = path.clone();
    follow_znode(client, path, cancel, move |data| {
        let (policy, max_lag_s) = match data.map(parse_config) {
            None => (Some(TlsMode::Off), None),
            Some(Ok(config)) => (Some(config.mysql.tls), Some(config.failover.max_lag_s)),
            Some(Err(e)) => {
                tracing::warn!("{at}: {e}; keeping the MySQL TLS policy last seen");
                return;
            }
        };
        max_lag_tx.send_if_modified(|current| std::mem::replace(current, max_lag_s) != max_lag_s);
        tx.send_if_modified(|current| {
            if *current == policy {
                return false;
            }
            tracing::info!(mysql_tls = ?policy.map(TlsMode::as_str), "{at}: MySQL TLS policy");
            *current = policy;
            true
        });
    })
    .await;
}

fn record(path: &str, data: &[u8]) -> Option<PrimaryRecord> {
    match parse_primary(data) {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::warn!("{path}: {e}; acting as if no node were primary");
            None
        }
    }
}

fn set(tx: &watch::Sender<Option<PrimaryRecord>>, path: &str, new: Option<PrimaryRecord>) {
    tx.send_if_modified(|current| {
        if *current == new {
            return false;
        }
        tracing::info!(primary = ?new.as_ref().map(|r| (&r.node, r.epoch)), "{path} changed");
        *current = new;
        true
    });
}

/// Waits before a retry; false when the agent is stopping or the session is gone for good.
async fn pause(cancel: &CancellationToken, path: &str, err: &ZkError) -> bool {
    if matches!(err, ZkError::SessionExpired | ZkError::ClientClosed | ZkError::AuthFailed) {
        return false;
    }
    tracing::debug!("reading {path}: {err}");
    tokio::select! {
        _ = cancel.cancelled() => false,
        _ = tokio::time::sleep(Duration::from_millis(PRIMARY_RETRY_MS)) => true,
    }
}
