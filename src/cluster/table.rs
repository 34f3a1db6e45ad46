//! The per-node table as plain strings: the console's cluster pane and `myzoo status` print
//! the same cells, so a script and an operator read the same thing.

use super::health::{ClusterView, NodeView};
use super::status::ServerRole;

pub const HEADERS: [&str; 11] =
    ["NODE", "ROLE", "STATE", "RO", "LAG HB", "LAG SBM", "GTID", "SEMI", "VERSION", "AGE", "LAST ERROR"];

/// One node's cells, in `HEADERS` order; `name` is indented by its topology depth.
pub fn node_cells(view: &ClusterView, n: &NodeView) -> [String; 11] {
    let depth = view.topology.iter().find(|t| t.node == n.name).map_or(0, |t| t.depth);
    let name = format!("{}{}", "  ".repeat(usize::from(depth)), n.name);
    let Some(s) = &n.status else {
        let role = if n.recorded_primary { "primary" } else { "-" };
        let err = n.unreadable.clone().unwrap_or_default();
        let dash = || "-".to_string();
        return [
            name,
            role.into(),
            n.state.label().into(),
            dash(),
            dash(),
            dash(),
            dash(),
            dash(),
            dash(),
            dash(),
            err,
        ];
    };
    let role = match (n.recorded_primary, s.role) {
        (true, _) => "primary",
        (false, ServerRole::Replica) => "replica",
        (false, ServerRole::Primary) => "primary?",
        (false, ServerRole::Unknown) => "-",
    };
    let ro = match s.read_only {
        Some(true) => "yes",
        Some(false) => "no",
        None => "-",
    };
    let hb = s.heartbeat_lag_ms.map_or("-".to_string(), millis);
    let sbm = match &s.replication {
        Some(r) => r.seconds_behind.map_or("null".to_string(), |v| format!("{v}s")),
        None => "-".to_string(),
    };
    let gtid = gtid_cell(view, n);
    let semi = match &s.semi_sync {
        Some(ss) if ss.source_active => "on",
        Some(ss) if ss.source_enabled || ss.replica_enabled => "wait",
        Some(_) => "off",
        None => "-",
    };
    let version = s.version.as_deref().map_or("-".to_string(), short_version);
    let age = n.age_ms.map_or("-".to_string(), |a| millis(a.max(0)));
    let err = last_error(n);
    [name, role.into(), n.state.label().into(), ro.into(), hb, sbm, gtid, semi.into(), version, age, err]
}

/// The GTID column: the recorded primary's position; for a replica, how many transactions it
/// is behind the primary (`-N`) or `= primary`. Raw positions read side by side mislead: the
/// heartbeat commits a transaction every interval, so a replica whose status was taken a
/// moment after the primary's shows a higher number and the primary looks behind.
/// Falls back to the node's own position when there is nothing to compare with (no primary
/// status, MySQL GTID sets, or a domain the primary does not have — an errant transaction).
pub fn gtid_cell(view: &ClusterView, n: &NodeView) -> String {
    let Some(own) = n.status.as_ref().and_then(|s| s.gtid.position()) else { return "-".to_string() };
    if n.recorded_primary {
        return own.to_string();
    }
    let primary = view.nodes.iter().find(|p| p.recorded_primary).and_then(|p| p.status.as_ref()?.gtid.current.clone());
    let (Some(primary), Some(replica)) = (primary, n.status.as_ref().and_then(|s| s.gtid.current.clone())) else {
        return own.to_string();
    };
    match transactions_behind(&primary, &replica) {
        Some(0) => GTID_SAME_AS_PRIMARY.to_string(),
        Some(behind) => format!("-{behind}"),
        None => own.to_string(),
    }
}

/// Shown for a replica that has everything the primary had when their statuses were taken.
pub const GTID_SAME_AS_PRIMARY: &str = "= primary";

/// MariaDB positions (`domain-server-seq`, comma-separated): the transactions the replica
/// lacks, summed over the primary's domains; `None` when the replica has a domain the primary
/// has not (not comparable: an errant transaction) or a position does not parse.
pub fn transactions_behind(primary: &str, replica: &str) -> Option<u64> {
    fn parse(pos: &str) -> Option<std::collections::BTreeMap<u64, u64>> {
        let mut out = std::collections::BTreeMap::new();
        for part in pos.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let mut it = part.split('-');
            let (Some(domain), Some(_server), Some(seq), None) = (it.next(), it.next(), it.next(), it.next()) else {
                return None;
            };
            out.insert(domain.parse().ok()?, seq.parse().ok()?);
        }
        Some(out)
    }
    let (p, r) = (parse(primary)?, parse(replica)?);
    if r.keys().any(|d| !p.contains_key(d)) {
        return None;
    }
    Some(p.iter().map(|(d, seq)| seq.saturating_sub(r.get(d).copied().unwrap_or(0))).sum())
}

/// The error an operator most needs: server unreachable, then SQL, then IO, then flags.
pub fn last_error(n: &NodeView) -> String {
    let Some(s) = &n.status else { return n.unreadable.clone().unwrap_or_default() };
    if let Some(e) = s.error.as_deref().filter(|_| !s.reachable) {
        return e.to_string();
    }
    if let Some(r) = &s.replication {
        if !r.last_sql_error.is_empty() {
            return r.last_sql_error.clone();
        }
        if !r.last_io_error.is_empty() {
            return r.last_io_error.clone();
        }
    }
    n.flags.first().cloned().unwrap_or_default()
}

/// `10.11.19-MariaDB-0+deb12u1-log` → `10.11.19`.
pub fn short_version(v: &str) -> String {
    v.split('-').next().unwrap_or(v).to_string()
}

/// `850ms`, `4.2s`, `3m10s`.
pub fn millis(ms: i64) -> String {
    if ms < 1_000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else {
        format!("{}m{:02}s", ms / 60_000, (ms % 60_000) / 1000)
    }
}

/// The whole table as aligned text (for `myzoo status`).
pub fn render_text(view: &ClusterView) -> String {
    let rows: Vec<[String; 11]> =
        view.topology.iter().filter_map(|t| view.node(&t.node)).map(|n| node_cells(view, n)).collect();
    let mut widths: Vec<usize> = HEADERS.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: &[String], out: &mut String| {
        let last = cells.len() - 1;
        for (i, c) in cells.iter().enumerate() {
            if i == last {
                out.push_str(c);
            } else {
                out.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        let trimmed = out.trim_end_matches(' ').len();
        out.truncate(trimmed);
        out.push('\n');
    };
    line(&HEADERS.map(String::from), &mut out);
    for r in &rows {
        line(r, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicas_are_shown_against_the_primary() {
        assert_eq!(transactions_behind("0-1-141", "0-1-142"), Some(0), "a fresher replica is not ahead");
        assert_eq!(transactions_behind("0-1-141", "0-1-141"), Some(0));
        assert_eq!(transactions_behind("0-1-141", "0-1-130"), Some(11));
        assert_eq!(transactions_behind("0-1-141,1-3-20", "0-1-141"), Some(20), "a missing domain counts whole");
        assert_eq!(transactions_behind("0-1-141", "0-1-141,2-9-1"), None, "an errant domain is not comparable");
        assert_eq!(transactions_behind("3e11fa47-71ca:1-100", "0-1-1"), None);
    }

    #[test]
    fn durations_and_versions() {
        assert_eq!(millis(850), "850ms");
        assert_eq!(millis(4_200), "4.2s");
        assert_eq!(millis(190_000), "3m10s");
        assert_eq!(short_version("10.11.19-MariaDB-0+deb12u1-log"), "10.11.19");
    }
}
