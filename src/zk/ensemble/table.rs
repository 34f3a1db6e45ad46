//! The member table as plain strings: the console's ensemble screen and `myzoo zk ensemble`
//! print the same cells, so a script and an operator read the same thing.

use super::probe::Reach;
use super::{EnsembleReport, MemberReport};
use crate::zk::format::human_bytes;

pub const HEADERS: [&str; 16] = [
    "MEMBER", "ID", "MODE", "ZXID", "BEHIND", "LATENCY", "OUTST", "CONNS", "ZNODES", "WATCHES", "EPHEM", "DATA", "FDS",
    "SYNCED", "VIA", "NOTE",
];
/// Column indexes, for front ends that show some of them.
pub const COL_MEMBER: usize = 0;
pub const COL_MODE: usize = 2;
pub const COL_BEHIND: usize = 4;
pub const COL_NOTE: usize = 15;
/// What marks the member the session is on.
pub const SESSION_MARK: &str = "*";

/// `2/17.1/31`: ZooKeeper's own min/avg/max latency in ms.
fn latency(r: &MemberReport) -> String {
    let Some(s) = &r.stats else { return "-".to_string() };
    match (s.latency_min_ms, s.latency_avg_ms, s.latency_max_ms) {
        (Some(min), Some(avg), Some(max)) => format!("{min}/{avg:.1}/{max}"),
        _ => "-".to_string(),
    }
}

fn num(v: Option<u64>) -> String {
    v.map_or("-".to_string(), |n| n.to_string())
}

/// What the mode column says: the mode when it answered, else why not.
pub fn mode_cell(r: &MemberReport) -> String {
    match (r.reach, r.mode()) {
        (Reach::Serving, Some(m)) => m.label().to_string(),
        (reach, _) => reach.label().to_string(),
    }
}

/// How far behind the leader: `0`, `1200`, `old epoch`; `-` for the leader and the unknown.
pub fn behind_cell(r: &MemberReport) -> String {
    if r.older_epoch {
        return "old epoch".to_string();
    }
    r.behind_leader.map_or("-".to_string(), |n| n.to_string())
}

/// One member's cells, in `HEADERS` order; `session` marks the member the session is on.
pub fn member_cells(r: &MemberReport, session: bool) -> [String; 16] {
    let s = r.stats.as_ref();
    let member = if session { format!("{} {SESSION_MARK}", r.address) } else { r.address.clone() };
    let id = r.member.server_id.map_or("-".to_string(), |n| n.to_string());
    let zxid = s.and_then(|s| s.zxid).map_or("-".to_string(), |z| z.hex());
    let data = s.and_then(|s| s.approximate_data_bytes).map_or("-".to_string(), |b| human_bytes(b as usize));
    let fds = match (s.and_then(|s| s.open_fds), s.and_then(|s| s.max_fds)) {
        (Some(open), Some(max)) => format!("{open}/{max}"),
        (Some(open), None) => open.to_string(),
        _ => "-".to_string(),
    };
    let synced = match (s.and_then(|s| s.synced_followers), s.and_then(|s| s.followers)) {
        (Some(synced), Some(all)) => format!("{synced}/{all}"),
        (Some(synced), None) => synced.to_string(),
        _ => "-".to_string(),
    };
    [
        member,
        id,
        mode_cell(r),
        zxid,
        behind_cell(r),
        latency(r),
        num(s.and_then(|s| s.outstanding_requests)),
        num(s.and_then(|s| s.connections)),
        num(s.and_then(|s| s.znodes)),
        num(s.and_then(|s| s.watches)),
        num(s.and_then(|s| s.ephemerals)),
        data,
        fds,
        synced,
        r.via.map_or("-", |v| v.label()).to_string(),
        r.reason.clone().unwrap_or_default(),
    ]
}

/// The first line: `ENSEMBLE DEGRADED: one failure from losing quorum: 2 of 3 …`.
pub fn verdict_line(report: &EnsembleReport) -> String {
    format!("ENSEMBLE {}: {}", report.judgement.verdict.label(), report.judgement.quorum_line())
}

/// The report as text: the verdict line, problems, the table, the session's member, notes.
pub fn render_text(report: &EnsembleReport) -> String {
    let mut out = verdict_line(report);
    out.push('\n');
    for p in &report.judgement.problems {
        out.push_str(&format!("  ! {p}\n"));
    }
    let rows: Vec<[String; 16]> = report.members.iter().map(|m| member_cells(m, m.session)).collect();
    let mut widths: Vec<usize> = HEADERS.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
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
    if let Some(m) = &report.session_member {
        out.push_str(&format!("{SESSION_MARK} this command's session is on {m}\n"));
    }
    for n in &report.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out
}
