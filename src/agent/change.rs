//! Whether a new status is worth a ZooKeeper write: only what an operator would care about.
//! Counters that move all the time (uptime, queries per second, connections, GTID sequence
//! numbers, lag jitter) wait for the slow heartbeat; state changes (reachability, role,
//! read-only, threads, errors, a new GTID domain or server, a real lag change) go out at once.
//! Pure functions, so the rules are unit-tested.

use std::collections::BTreeSet;

use crate::cluster::status::NodeStatus;

/// Lag changes smaller than this are jitter (the heartbeat row is written once per interval,
/// so a healthy replica's measured lag moves between 0 and one interval).
pub const LAG_CHANGE_MIN_MS: i64 = 500;
/// … and smaller than this share of the larger value are jitter too.
pub const LAG_CHANGE_PERCENT: i64 = 20;
/// `Seconds_Behind_Master` moving by less than this (0 ↔ 1 on a busy replica) is jitter.
pub const SECONDS_BEHIND_CHANGE_MIN_S: u64 = 2;
/// Connections: a change smaller than this count, or than the share below, is noise.
pub const THREADS_CHANGE_MIN: u64 = 10;
pub const THREADS_CHANGE_PERCENT: u64 = 25;
/// Queries per second: smaller changes than this rate, or than the share below, are noise.
pub const QPS_CHANGE_MIN: f64 = 50.0;
pub const QPS_CHANGE_PERCENT: f64 = 50.0;

/// True when `next` differs from the last published `prev` in a way an operator cares about.
pub fn significant(prev: &NodeStatus, next: &NodeStatus) -> bool {
    stable_part(prev) != stable_part(next)
        || gtid_shape(prev) != gtid_shape(next)
        || lag_changed(prev.heartbeat_lag_ms, next.heartbeat_lag_ms, next.agent.interval_ms)
        || seconds_behind_changed(seconds_behind(prev), seconds_behind(next))
        || threads_changed(prev.threads_connected, next.threads_connected)
        || qps_changed(prev.qps, next.qps)
        || restarted(prev.uptime_s, next.uptime_s)
}

/// The status with every volatile field blanked; what is left must match exactly.
fn stable_part(s: &NodeStatus) -> NodeStatus {
    let mut s = s.clone();
    s.observed_at_ms = 0;
    s.uptime_s = None;
    s.qps = None;
    s.threads_connected = None;
    s.heartbeat_lag_ms = None;
    s.gtid = Default::default();
    if let Some(r) = s.replication.as_mut() {
        r.seconds_behind = None;
    }
    s
}

fn seconds_behind(s: &NodeStatus) -> Option<u64> {
    s.replication.as_ref().and_then(|r| r.seconds_behind)
}

/// Which GTID streams each position holds: `domain-server` for MariaDB (`0-1-100` → `0-1`),
/// the source UUID for MySQL (`uuid:1-100` → `uuid`). A new one appearing is news (an errant
/// transaction, a failover); a sequence number moving is not (the heartbeat moves it anyway).
pub fn gtid_shape(s: &NodeStatus) -> [BTreeSet<String>; 4] {
    let g = &s.gtid;
    [&g.current, &g.slave, &g.binlog, &g.executed].map(|pos| pos.as_deref().map(streams).unwrap_or_default())
}

fn streams(position: &str) -> BTreeSet<String> {
    position
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once(':') {
            Some((uuid, _)) => uuid.to_string(),
            None => p.rsplit_once('-').map_or(p, |(stream, _)| stream).to_string(),
        })
        .collect()
}

fn lag_changed(prev: Option<i64>, next: Option<i64>, interval_ms: u64) -> bool {
    match (prev, next) {
        (Some(a), Some(b)) => {
            // The heartbeat row is written once per interval, so a healthy replica's measured
            // lag swings across a whole interval and a little more (0 ↔ 1,001 ms at 1 s, seen
            // in the agent benchmark): jitter is an interval and a fifth, at least the minimum.
            let interval = i64::try_from(interval_ms).unwrap_or(i64::MAX);
            let jitter = LAG_CHANGE_MIN_MS.max(interval.saturating_add(interval / 5));
            (a - b).abs() > jitter.max(a.max(b) * LAG_CHANGE_PERCENT / 100)
        }
        (a, b) => a.is_some() != b.is_some(),
    }
}

fn seconds_behind_changed(prev: Option<u64>, next: Option<u64>) -> bool {
    match (prev, next) {
        (Some(a), Some(b)) => a.abs_diff(b) >= SECONDS_BEHIND_CHANGE_MIN_S.max(a.max(b) * 20 / 100),
        (a, b) => a.is_some() != b.is_some(),
    }
}

fn threads_changed(prev: Option<u64>, next: Option<u64>) -> bool {
    match (prev, next) {
        (Some(a), Some(b)) => a.abs_diff(b) >= THREADS_CHANGE_MIN.max(a.max(b) * THREADS_CHANGE_PERCENT / 100),
        (a, b) => a.is_some() != b.is_some(),
    }
}

fn qps_changed(prev: Option<f64>, next: Option<f64>) -> bool {
    match (prev, next) {
        (Some(a), Some(b)) => (a - b).abs() >= QPS_CHANGE_MIN.max(a.max(b) * QPS_CHANGE_PERCENT / 100.0),
        (a, b) => a.is_some() != b.is_some(),
    }
}

/// Uptime going down means the server restarted between two probes.
fn restarted(prev: Option<u64>, next: Option<u64>) -> bool {
    matches!((prev, next), (Some(a), Some(b)) if b < a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::status::tests::sample;
    use crate::cluster::status::ServerRole;

    type Change = Box<dyn Fn(&mut NodeStatus)>;

    fn pair() -> (NodeStatus, NodeStatus) {
        let a = sample("db2", ServerRole::Replica);
        (a.clone(), a)
    }

    #[test]
    fn volatile_fields_alone_are_not_news() {
        let (a, mut b) = pair();
        b.observed_at_ms += 1000;
        b.uptime_s = Some(101);
        b.qps = Some(7.0);
        b.threads_connected = Some(5);
        b.heartbeat_lag_ms = Some(400);
        b.gtid.current = Some("0-1-250".into());
        b.replication.as_mut().unwrap().seconds_behind = Some(1);
        assert!(!significant(&a, &b));
    }

    #[test]
    fn state_changes_are_news() {
        let (a, b) = pair();
        let changes: Vec<Change> = vec![
            Box::new(|s| s.reachable = false),
            Box::new(|s| s.error = Some("Connection refused".into())),
            Box::new(|s| s.role = ServerRole::Primary),
            Box::new(|s| s.read_only = Some(false)),
            Box::new(|s| s.replication.as_mut().unwrap().sql_running = "No".into()),
            Box::new(|s| s.replication.as_mut().unwrap().last_sql_error = "Duplicate entry".into()),
            Box::new(|s| s.replication = None),
            Box::new(|s| s.gtid.current = Some("0-1-100,0-2-1".into())),
            Box::new(|s| s.heartbeat_lag_ms = None),
            Box::new(|s| s.uptime_s = Some(3)),
            Box::new(|s| s.version = Some("10.11.20-MariaDB".into())),
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut next = b.clone();
            change(&mut next);
            assert!(significant(&a, &next), "change {i} was not news");
        }
    }

    #[test]
    fn lag_rules() {
        assert!(!lag_changed(Some(10), Some(900), 1000), "within one interval is jitter");
        assert!(!lag_changed(Some(0), Some(1001), 1000), "a whole interval and a millisecond is jitter too");
        assert!(lag_changed(Some(10), Some(1600), 1000));
        assert!(lag_changed(Some(12), Some(700), 250));
        assert!(lag_changed(Some(3000), Some(100), 250));
        assert!(!lag_changed(Some(60_000), Some(61_000), 1000), "small share of a large lag");
        assert!(lag_changed(Some(60_000), Some(80_000), 1000));
        assert!(lag_changed(None, Some(0), 1000));
    }

    #[test]
    fn counter_rules() {
        assert!(!seconds_behind_changed(Some(0), Some(1)));
        assert!(seconds_behind_changed(Some(0), Some(5)));
        assert!(seconds_behind_changed(Some(0), None));
        assert!(!threads_changed(Some(3), Some(9)));
        assert!(threads_changed(Some(3), Some(40)));
        assert!(!qps_changed(Some(4.0), Some(30.0)));
        assert!(qps_changed(Some(4.0), Some(400.0)));
        assert!(!qps_changed(Some(1000.0), Some(1200.0)));
    }

    #[test]
    fn gtid_streams() {
        assert_eq!(streams("0-1-100, 1-2-5"), BTreeSet::from(["0-1".to_string(), "1-2".to_string()]));
        assert_eq!(
            streams("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,\nabc:1-2"),
            BTreeSet::from(["3e11fa47-71ca-11e1-9e33-c80aa9429562".to_string(), "abc".to_string()])
        );
        assert!(streams("").is_empty());
    }
}
