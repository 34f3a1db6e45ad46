//! Fencing by the agent: what keeps two primaries from ever being writable at once, on the
//! server's side of the network.
//!
//! - **Epoch rule.** A server whose node is not the recorded primary is kept read-only. Before
//!   acting on it the agent reads the record again through its own session (`sync` + read), so
//!   a view that lags a switchover which has just named this node never fences the new
//!   primary; when ZooKeeper cannot answer, the rule does not act (the lease covers that case).
//! - **Lease.** The recorded primary's agent, cut off from ZooKeeper for longer than the lease,
//!   makes its server read-only and ends its client sessions: by then a coordinator elsewhere
//!   may be about to promote another node once this agent's session expires. The lease counts
//!   from the moment the client noticed the cut: at most 2/5 of the session timeout after the
//!   server last heard from it (zookeeper-client's connection timeout), plus one tick of the
//!   client's timer (1/20) when the network goes silent rather than closing the connection. So
//!   the default, 2/5 of the session timeout, fences by 17/20 of it — before the server can
//!   expire the session, with 3/20 to spare (half the session left only 1/20, ~200 ms with a
//!   4 s session, in the fault tests) — provided it acts the moment the lease runs out: the probe loop wakes
//!   for [`Fencer::lease_deadline`] instead of waiting for its next tick (up to a whole interval
//!   later, which with the defaults, 1 s of a 10 s session, would fence after the expiry). The
//!   coordinator waits for the expiry plus a margin before promoting. The price: while
//!   ZooKeeper is unreachable from the primary's agent, the primary takes no writes.
//! - **Lease regained.** A server this agent fenced for the lease is opened again only when a
//!   fresh read shows its node still recorded at the same epoch: no promotion can have happened,
//!   since every promotion writes the record (epoch + 1) first.
//!
//! Agents never open a server otherwise: promotion is an operation's job.

use std::time::Duration;

use tokio::time::Instant;
use zookeeper_client::Client;

use crate::cluster::config::{parse_primary, PrimaryRecord};

/// Longest the confirming read of the record may take.
pub const CONFIRM_TIMEOUT_MS: u64 = 1_000;

/// The agent's link to ZooKeeper, as its publisher sees it.
#[derive(Clone)]
pub struct Link {
    /// The current session's client, to confirm the record with a fresh read.
    pub client: Option<Client>,
    pub connected: bool,
    /// When `connected` last changed.
    pub since: Instant,
}

impl Link {
    pub fn down(now: Instant) -> Link {
        Link { client: None, connected: false, since: now }
    }
}

/// What the server looks like, as far as fencing cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerState {
    pub reachable: bool,
    pub writable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Nothing,
    /// Writable, but the record (as last seen) names another node.
    NotPrimary {
        recorded: PrimaryRecord,
    },
    /// Recorded primary, writable, and cut off from ZooKeeper for `cut_off_ms`.
    LeaseLost {
        epoch: u64,
        cut_off_ms: u64,
    },
    /// Fenced by us for the lease at `epoch`, read-only, and connected again: open it if the
    /// record still names us at that epoch.
    Reopen {
        epoch: u64,
    },
}

/// Pure decision from one probe's result. `fenced_for_lease` is the epoch at which this agent
/// fenced its server for the lease, if it did.
pub fn decide(
    node: &str,
    server: ServerState,
    recorded: Option<&PrimaryRecord>,
    link_connected: bool,
    cut_off: Duration,
    lease: Option<Duration>,
    fenced_for_lease: Option<u64>,
) -> Verdict {
    if !server.reachable {
        return Verdict::Nothing;
    }
    let Some(recorded) = recorded else {
        // No record at all: not a managed cluster (yet); nothing to enforce.
        return Verdict::Nothing;
    };
    let ours = recorded.node == node;
    if server.writable && !ours {
        return Verdict::NotPrimary { recorded: recorded.clone() };
    }
    if server.writable && ours && !link_connected {
        if let Some(lease) = lease {
            if cut_off >= lease {
                let cut_off_ms = u64::try_from(cut_off.as_millis()).unwrap_or(u64::MAX);
                return Verdict::LeaseLost { epoch: recorded.epoch, cut_off_ms };
            }
        }
    }
    if !server.writable && ours && link_connected && fenced_for_lease == Some(recorded.epoch) {
        return Verdict::Reopen { epoch: recorded.epoch };
    }
    Verdict::Nothing
}

/// The default lease: 2/5 of the session timeout (see the module doc).
pub fn default_lease(session_timeout: Duration) -> Duration {
    session_timeout * 2 / 5
}

/// The record as the ensemble's leader has it now (`sync`, then read), or `None` when
/// ZooKeeper cannot say within [`CONFIRM_TIMEOUT_MS`]. `Some(None)`: no record.
pub async fn confirm_record(client: &Client, path: &str) -> Option<Option<PrimaryRecord>> {
    let read = async {
        client.sync(path).await.ok()?;
        match client.get_data(path).await {
            Ok((data, _)) => Some(parse_primary(&data).ok()),
            Err(zookeeper_client::Error::NoNode) => Some(None),
            Err(_) => None,
        }
    };
    tokio::time::timeout(Duration::from_millis(CONFIRM_TIMEOUT_MS), read).await.ok().flatten()
}

/// The fencing state of one agent, applied after every probe.
pub struct Fencer {
    node: String,
    primary_path: String,
    lease: Option<Duration>,
    /// The epoch at which we fenced our server for the lease.
    fenced_for_lease: Option<u64>,
    /// The last fencing action, published in the node's status.
    pub note: Option<String>,
}

impl Fencer {
    pub fn new(node: &str, primary_path: String, lease: Option<Duration>) -> Fencer {
        Fencer { node: node.to_string(), primary_path, lease, fenced_for_lease: None, note: None }
    }

    /// The epoch at which this agent fenced its server for the lease, while it holds it so.
    pub fn fenced_for_lease(&self) -> Option<u64> {
        self.fenced_for_lease
    }

    /// When the lease runs out on `link`, if it still has to act then: cut off, lease on, and
    /// not fenced for it yet. The probe loop probes at that moment, so the lease acts on time.
    pub fn lease_deadline(&self, link: &Link) -> Option<Instant> {
        let lease = self.lease?;
        (!link.connected && self.fenced_for_lease.is_none()).then(|| link.since + lease)
    }

    /// Looks at one probe's result and fences (or reopens) the server when it must.
    pub async fn after_probe(
        &mut self,
        prober: &mut crate::mysql::probe::Prober,
        observation: &crate::mysql::probe::Observation,
        recorded: Option<&PrimaryRecord>,
        link: &Link,
    ) {
        let server = ServerState { reachable: observation.reachable, writable: observation.read_only == Some(false) };
        let cut_off = if link.connected { Duration::ZERO } else { link.since.elapsed() };
        let verdict = decide(&self.node, server, recorded, link.connected, cut_off, self.lease, self.fenced_for_lease);
        match verdict {
            Verdict::Nothing => {}
            Verdict::NotPrimary { recorded } => {
                let fresh = match (&link.client, link.connected) {
                    (Some(client), true) => confirm_record(client, &self.primary_path).await,
                    _ => None,
                };
                let why = match fresh {
                    // Our view lagged: the record names us now (a switchover just promoted us).
                    Some(Some(r)) if r.node == self.node => return,
                    Some(None) => return,
                    Some(Some(r)) => format!("not the recorded primary ({} is, epoch {})", r.node, r.epoch),
                    // Unconfirmed while cut off: the last record seen names another node, and a
                    // cut-off agent is fenced by the lease anyway.
                    None => format!(
                        "not the recorded primary as last seen ({} is, epoch {}); ZooKeeper cannot confirm",
                        recorded.node, recorded.epoch
                    ),
                };
                self.fence(prober, &why).await;
            }
            Verdict::LeaseLost { epoch, cut_off_ms } => {
                let why = format!(
                    "cut off from ZooKeeper for {cut_off_ms} ms (lease {} ms) while primary at epoch {epoch}",
                    self.lease.map_or(0, |l| l.as_millis())
                );
                if self.fence(prober, &why).await {
                    self.fenced_for_lease = Some(epoch);
                }
            }
            Verdict::Reopen { epoch } => {
                let Some(client) = &link.client else { return };
                match confirm_record(client, &self.primary_path).await {
                    Some(Some(r)) if r.node == self.node && r.epoch == epoch => {
                        match prober.set_read_only(false, false).await {
                            Ok(_) => {
                                tracing::warn!(epoch, "ZooKeeper reachable again and still the recorded primary at the same epoch: server writable again");
                                self.fenced_for_lease = None;
                                self.note = Some(format!(
                                    "writable again at {}: lease regained at epoch {epoch}",
                                    crate::zk::format::utc_time(crate::audit::now_ms())
                                ));
                            }
                            Err(e) => tracing::warn!("reopening the server after the lease: {e}"),
                        }
                    }
                    Some(_) => {
                        // Someone else was promoted meanwhile: stay read-only for good.
                        tracing::warn!("the record moved while we were cut off; staying read-only");
                        self.fenced_for_lease = None;
                    }
                    None => {}
                }
            }
        }
    }

    async fn fence(&mut self, prober: &mut crate::mysql::probe::Prober, why: &str) -> bool {
        match prober.set_read_only(true, true).await {
            Ok(ended) => {
                tracing::warn!(ended_sessions = ended, "made the server read-only: {why}");
                self.note = Some(format!(
                    "made read-only at {}: {why}; {ended} sessions ended",
                    crate::zk::format::utc_time(crate::audit::now_ms())
                ));
                true
            }
            Err(e) => {
                tracing::error!("could not make the server read-only ({why}): {e}");
                self.note = Some(format!("FAILED to make read-only: {why}: {e}"));
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(node: &str, epoch: u64) -> PrimaryRecord {
        PrimaryRecord { node: node.into(), epoch }
    }

    const UP_WRITABLE: ServerState = ServerState { reachable: true, writable: true };
    const UP_READ_ONLY: ServerState = ServerState { reachable: true, writable: false };
    const DOWN: ServerState = ServerState { reachable: false, writable: false };
    const LEASE: Option<Duration> = Some(Duration::from_millis(2_000));

    #[test]
    fn decisions() {
        let ms = Duration::from_millis;
        type Case =
            (&'static str, ServerState, Option<PrimaryRecord>, bool, u64, Option<Duration>, Option<u64>, Verdict);
        let cases: Vec<Case> = vec![
            // A writable replica, or an old primary back after a failover: fence.
            (
                "db2",
                UP_WRITABLE,
                Some(rec("db1", 3)),
                true,
                0,
                LEASE,
                None,
                Verdict::NotPrimary { recorded: rec("db1", 3) },
            ),
            // Even when cut off: the record it last saw names another node.
            (
                "db2",
                UP_WRITABLE,
                Some(rec("db1", 3)),
                false,
                9_000,
                LEASE,
                None,
                Verdict::NotPrimary { recorded: rec("db1", 3) },
            ),
            ("db2", UP_READ_ONLY, Some(rec("db1", 3)), true, 0, LEASE, None, Verdict::Nothing),
            ("db2", DOWN, Some(rec("db1", 3)), true, 0, LEASE, None, Verdict::Nothing),
            // No record: unmanaged.
            ("db2", UP_WRITABLE, None, true, 0, LEASE, None, Verdict::Nothing),
            // The primary, connected: fine.
            ("db1", UP_WRITABLE, Some(rec("db1", 3)), true, 0, LEASE, None, Verdict::Nothing),
            // Cut off, within the lease: keep serving.
            ("db1", UP_WRITABLE, Some(rec("db1", 3)), false, 1_999, LEASE, None, Verdict::Nothing),
            // Cut off past the lease: fence.
            (
                "db1",
                UP_WRITABLE,
                Some(rec("db1", 3)),
                false,
                2_000,
                LEASE,
                None,
                Verdict::LeaseLost { epoch: 3, cut_off_ms: 2_000 },
            ),
            // Lease off: never.
            ("db1", UP_WRITABLE, Some(rec("db1", 3)), false, 60_000, None, None, Verdict::Nothing),
            // Back, still recorded at the epoch we fenced at: reopen.
            ("db1", UP_READ_ONLY, Some(rec("db1", 3)), true, 0, LEASE, Some(3), Verdict::Reopen { epoch: 3 }),
            // Back, but a promotion happened meanwhile (epoch moved): stay read-only.
            ("db1", UP_READ_ONLY, Some(rec("db1", 4)), true, 0, LEASE, Some(3), Verdict::Nothing),
            ("db1", UP_READ_ONLY, Some(rec("db2", 4)), true, 0, LEASE, Some(3), Verdict::Nothing),
            // Read-only primary we did not fence (an operation is running): leave it.
            ("db1", UP_READ_ONLY, Some(rec("db1", 3)), true, 0, LEASE, None, Verdict::Nothing),
            // Still cut off: do not reopen.
            ("db1", UP_READ_ONLY, Some(rec("db1", 3)), false, 5_000, LEASE, Some(3), Verdict::Nothing),
        ];
        for (i, (node, server, recorded, connected, cut_ms, lease, fenced, want)) in cases.into_iter().enumerate() {
            let got = decide(node, server, recorded.as_ref(), connected, ms(cut_ms), lease, fenced);
            assert_eq!(got, want, "case {i}");
        }
    }

    #[test]
    fn the_lease_deadline_counts_from_the_cut_until_fenced() {
        let now = Instant::now();
        let mut f = Fencer::new("db1", "/p".into(), LEASE);
        let cut = Link { client: None, connected: false, since: now };
        assert_eq!(f.lease_deadline(&cut), Some(now + Duration::from_millis(2_000)));
        assert_eq!(f.lease_deadline(&Link { connected: true, ..cut.clone() }), None, "connected");
        f.fenced_for_lease = Some(3);
        assert_eq!(f.lease_deadline(&cut), None, "fenced already");
        assert_eq!(Fencer::new("db1", "/p".into(), None).lease_deadline(&cut), None, "lease off");
    }

    #[test]
    fn default_lease_leaves_room_before_the_expiry() {
        assert_eq!(default_lease(Duration::from_secs(10)), Duration::from_secs(4));
    }
}
