//! Candidate ranking for a switchover or a failover: which replica may become the primary, in
//! what order, and why — a pure function of observed facts, so every rule is table-tested and
//! the reasons an operator reads are the ones the executor acted on.
//!
//! Terms. *Applied*: MariaDB `gtid_current_pos`, MySQL `gtid_executed`. *Received*: what the
//! IO thread fetched (MariaDB `Gtid_IO_Pos`, MySQL `Retrieved_Gtid_Set`), taken together with
//! applied — a relay log can still drain, so received is what a node can end up with. *Best
//! known position*: the old primary's position ∪ every reachable replica's received (errant
//! transactions left out). *Errant*: transactions a replica wrote itself, which no primary
//! ever had.
//!
//! Every node is excluded when it is unreachable, has no readable position, runs the other
//! flavour, is marked `no_promote`, has errant transactions (see below), or is not the node
//! asked for with `--to`. Then, by purpose:
//!
//! - **Switchover** (the old primary is live, fenced and authoritative): a candidate must be
//!   replicating with both threads running (a broken one would never catch up) and lag at most
//!   `max_lag_ms` (heartbeat lag, else `Seconds_Behind_Master`; unknown lag is noted, not held
//!   against it). It need not have every transaction yet: the switchover waits for it to reach
//!   the primary's position. Where a replica replicates from is noted for the operator (the
//!   facts carry no address of the old primary to compare with).
//! - **Failover** (the old primary is gone; its position is the last one it published and may
//!   be stale): heartbeat lag is *not* used. With no primary writing heartbeats, every
//!   replica's heartbeat lag grows with the time since it died, so a limit would exclude all of
//!   them once the outage is longer than the limit, and `Seconds_Behind_Master` is NULL or
//!   meaningless with the IO thread down. What matters instead is counted in transactions: a
//!   node must hold every transaction any other reachable replica has received ("lacks N
//!   transactions that X has" otherwise), because promoting it would throw those away. So the
//!   top node contains every other candidate's received position, or no node is eligible and
//!   the failover must refuse (or be forced: see [`would_lose`]). What it has received but not
//!   applied is noted: promotion waits for the relay log to drain. A node whose SQL thread
//!   stopped on an error cannot drain it and is excluded. Transactions only the old primary's
//!   last published position has are lost whoever is chosen (unless it comes back); they are
//!   noted on the top node and counted in `behind`, not held against anyone.
//!
//! Order: eligible first; then most transactions received (fewest missing against the best
//! known position), then most applied, then least lag, then name — deterministic, so every
//! front end shows the same order.
//!
//! Errant transactions. MariaDB lists name only the last GTID per domain (see `gtid`), so the
//! check is per domain. In a switchover (the primary's live position given) any domain where a
//! replica's applied position is ahead of the primary's, absent from it, or at the same
//! sequence number with another server_id is errant. In a failover the reference is the old
//! primary's last position ∪ every other node's received and applied; a domain where the node
//! is ahead of (or absent from, or diverges at the end of) the reference is errant only if the
//! GTID carries the node's own `server_id` — being ahead with the old primary's server_id just
//! means it received more. Without a known `server_id` such a node is excluded as
//! undecidable. MySQL sets are exact: in a switchover errant = executed − primary's executed;
//! in a failover errant = executed − (primary's last known ∪ every other node's received and
//! executed), restricted to source uuids absent from the primary's last known set (transactions
//! of a uuid the primary had may just be ones this node alone received). Limitation: a node
//! that was primary once and later wrote locally under its old uuid is not caught in a
//! failover.

use crate::cluster::status::{Flavor, NodeStatus, Replication};
use crate::failover::gtid::{GtidSet, MariadbPos, Position};

/// What ranking needs to know about one node, from an agent's status or a fresh probe.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub node: String,
    pub reachable: bool,
    pub server_id: Option<u32>,
    pub flavor: Option<Flavor>,
    pub read_only: Option<bool>,
    /// Applied: MariaDB gtid_current_pos, MySQL gtid_executed.
    pub applied: Option<String>,
    /// Received: MariaDB Gtid_IO_Pos, MySQL Retrieved_Gtid_Set ∪ executed (None when not a replica).
    pub received: Option<String>,
    pub replication: Option<Replication>,
    /// Heartbeat lag, else Seconds_Behind_Master × 1000.
    pub lag_ms: Option<i64>,
    pub no_promote: bool,
}

impl Facts {
    /// The facts in an agent's published status. A replica whose IO thread has not reported a
    /// received position counts as having received what it applied.
    pub fn from_status(s: &NodeStatus, no_promote: bool) -> Facts {
        let applied = s.gtid.position().map(str::to_string);
        let received = s.replication.as_ref().map(|r| match (s.flavor, applied.as_deref()) {
            _ if r.gtid_io_pos.trim().is_empty() => applied.clone().unwrap_or_default(),
            (Some(Flavor::Mysql), Some(executed)) => {
                match (Position::parse(Flavor::Mysql, &r.gtid_io_pos), Position::parse(Flavor::Mysql, executed)) {
                    (Ok(a), Ok(b)) => a.union(&b).to_string(),
                    _ => r.gtid_io_pos.clone(),
                }
            }
            _ => r.gtid_io_pos.clone(),
        });
        let seconds_behind_ms = s
            .replication
            .as_ref()
            .and_then(|r| r.seconds_behind)
            .map(|sec| i64::try_from(sec).unwrap_or(i64::MAX / 1000).saturating_mul(1000));
        Facts {
            node: s.node.clone(),
            reachable: s.reachable,
            server_id: s.server_id,
            flavor: s.flavor,
            read_only: s.read_only,
            applied,
            received,
            replication: s.replication.clone(),
            lag_ms: s.heartbeat_lag_ms.or(seconds_behind_ms),
            no_promote,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Switchover,
    Failover,
}

pub struct RankInput<'a> {
    pub purpose: Purpose,
    pub old_primary: &'a str,
    /// The old primary's position: read live in a switchover (after it is read-only), its last
    /// published one in a failover (may be stale, hence `received` matters).
    pub primary_position: Option<&'a str>,
    pub flavor: Flavor,
    /// Every node except the old primary.
    pub nodes: &'a [Facts],
    pub max_lag_ms: i64,
    /// `--to NODE`: only this node may be chosen (others still ranked and shown).
    pub wanted: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    pub node: String,
    pub eligible: bool,
    /// Why it is excluded, or why it ranks where it does, in operator words.
    pub reasons: Vec<String>,
    pub received: Option<String>,
    pub applied: Option<String>,
    /// Transactions it lacks against the best known position (primary's ∪ every replica's received).
    pub behind: Option<u64>,
    /// Errant transactions (described), never empty for an excluded-for-errant node.
    pub errant: Vec<String>,
}

/// One node as the rules see it.
struct Node<'a> {
    facts: &'a Facts,
    /// Why its positions could not be read.
    unreadable: Option<String>,
    applied: Option<Position>,
    /// Received ∪ applied, as observed.
    effective: Option<Position>,
    /// `effective` without its errant transactions: what it contributes to the best position.
    clean: Option<Position>,
    errant: Vec<String>,
    /// Why errant transactions cannot be ruled out.
    undecidable: Option<String>,
}

/// Everything [`rank`] and [`would_lose`] derive from the input, computed once.
struct Analysis<'a> {
    nodes: Vec<Node<'a>>,
    primary: Option<Position>,
    /// The best known position: the primary's ∪ every reachable node's clean position.
    best: Option<Position>,
}

fn union_opt(a: Option<Position>, b: Option<&Position>) -> Option<Position> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.union(b)),
        (a, b) => a.or_else(|| b.cloned()),
    }
}

fn parse_opt(flavor: Flavor, text: Option<&str>, what: &str) -> Result<Option<Position>, String> {
    text.map(|t| Position::parse(flavor, t).map_err(|e| format!("unreadable {what} position: {e}"))).transpose()
}

fn analyse<'a>(input: &RankInput<'a>) -> Analysis<'a> {
    let primary = input.primary_position.and_then(|t| Position::parse(input.flavor, t).ok());
    let mut nodes: Vec<Node<'a>> = input
        .nodes
        .iter()
        .map(|facts| {
            let mut node = Node {
                facts,
                unreadable: None,
                applied: None,
                effective: None,
                clean: None,
                errant: Vec::new(),
                undecidable: None,
            };
            if !facts.reachable || facts.flavor.is_some_and(|f| f != input.flavor) {
                return node;
            }
            let parsed = parse_opt(input.flavor, facts.applied.as_deref(), "applied")
                .and_then(|a| Ok((a, parse_opt(input.flavor, facts.received.as_deref(), "received")?)));
            match parsed {
                Ok((applied, received)) => {
                    node.effective = union_opt(received, applied.as_ref());
                    node.applied = applied;
                }
                Err(e) => node.unreadable = Some(e),
            }
            node
        })
        .collect();

    for i in 0..nodes.len() {
        let Some(applied) = nodes[i].applied.clone() else {
            nodes[i].clean = nodes[i].effective.clone();
            continue;
        };
        let others = nodes.iter().enumerate().filter(|(j, _)| *j != i).filter_map(|(_, n)| n.effective.as_ref());
        let reference = others.fold(primary.clone(), |acc, p| union_opt(acc, Some(p)));
        let authoritative = (input.purpose == Purpose::Switchover).then_some(primary.as_ref()).flatten();
        let node = &nodes[i];
        let found = match (&applied, node.effective.as_ref()) {
            (Position::Mariadb(a), Some(Position::Mariadb(eff))) => {
                let received = match parse_opt(input.flavor, node.facts.received.as_deref(), "received") {
                    Ok(Some(Position::Mariadb(r))) => r,
                    _ => MariadbPos::default(),
                };
                mariadb_errant(a, eff, &received, node.facts.server_id, reference.as_ref(), authoritative)
            }
            (Position::Mysql(a), Some(Position::Mysql(eff))) => {
                mysql_errant(a, eff, reference.as_ref(), primary.as_ref(), authoritative.is_some())
            }
            _ => Errant { texts: Vec::new(), clean: node.effective.clone(), undecidable: None },
        };
        let node = &mut nodes[i];
        node.errant = found.texts;
        node.clean = found.clean;
        node.undecidable = found.undecidable;
    }

    let best = nodes.iter().filter_map(|n| n.clean.as_ref()).fold(primary.clone(), |acc, p| union_opt(acc, Some(p)));
    Analysis { nodes, primary, best }
}

/// What the errant check found on one node.
struct Errant {
    texts: Vec<String>,
    clean: Option<Position>,
    undecidable: Option<String>,
}

fn as_mariadb(p: Option<&Position>) -> Option<&MariadbPos> {
    match p {
        Some(Position::Mariadb(m)) => Some(m),
        _ => None,
    }
}

fn as_mysql(p: Option<&Position>) -> Option<&GtidSet> {
    match p {
        Some(Position::Mysql(s)) => Some(s),
        _ => None,
    }
}

/// See the module doc. `authoritative` is the live primary's position in a switchover.
fn mariadb_errant(
    applied: &MariadbPos,
    effective: &MariadbPos,
    received: &MariadbPos,
    own_server_id: Option<u32>,
    reference: Option<&Position>,
    authoritative: Option<&Position>,
) -> Errant {
    let empty = MariadbPos::default();
    let (against, live) = match as_mariadb(authoritative) {
        Some(p) => (p, true),
        None => (as_mariadb(reference).unwrap_or(&empty), false),
    };
    let mut texts = Vec::new();
    let mut errant_domains = Vec::new();
    let mut undecidable = Vec::new();
    for (&domain, &(server_id, seq)) in &applied.0 {
        let theirs = against.0.get(&domain).copied();
        let beyond = match theirs {
            None => true,
            Some((their_id, their_seq)) => seq > their_seq || (seq == their_seq && server_id != their_id),
        };
        if !beyond {
            continue;
        }
        let own = match own_server_id {
            _ if live => true,
            Some(id) => id == server_id,
            None => {
                undecidable.push(domain);
                false
            }
        };
        if !own {
            continue;
        }
        errant_domains.push(domain);
        let mine = MariadbPos([(domain, (server_id, seq))].into());
        let whose = if live { "the primary" } else { "the primary and the other replicas" };
        texts.push(match theirs {
            None => format!("{} (a domain {whose} never had)", mariadb_missing_text(MariadbPos::default(), mine)),
            Some((their_id, their_seq)) if their_seq >= seq => {
                format!("domain {domain}: {domain}-{server_id}-{seq} (differs from {domain}-{their_id}-{their_seq})")
            }
            Some(t) => {
                format!(
                    "{} (past {domain}-{}-{})",
                    mariadb_missing_text(MariadbPos([(domain, t)].into()), mine),
                    t.0,
                    t.1
                )
            }
        });
    }
    // What it contributes to the best position: its replicated part only. For an errant
    // domain that is what its IO thread received there, if anything.
    let mut clean = effective.0.clone();
    for domain in &errant_domains {
        match received.0.get(domain) {
            Some(r) => clean.insert(*domain, *r),
            None => clean.remove(domain),
        };
    }
    let undecidable = (!undecidable.is_empty()).then(|| {
        let list: Vec<String> = undecidable.iter().map(u32::to_string).collect();
        format!(
            "server_id unknown, and ahead of every other server in domain {}: its own writes cannot be told \
             from replicated ones",
            list.join(", ")
        )
    });
    Errant { texts, clean: Some(Position::Mariadb(MariadbPos(clean))), undecidable }
}

/// See the module doc.
fn mysql_errant(
    executed: &GtidSet,
    effective: &GtidSet,
    reference: Option<&Position>,
    primary: Option<&Position>,
    live: bool,
) -> Errant {
    let empty = GtidSet::default();
    let errant = if live {
        executed.difference(as_mysql(primary).unwrap_or(&empty))
    } else {
        let reference = as_mysql(reference).unwrap_or(&empty);
        let known = as_mysql(primary).unwrap_or(reference);
        let known_uuids = known.uuids();
        executed.difference(reference).restrict(|uuid| !known_uuids.contains(&uuid))
    };
    let texts = errant
        .intervals()
        .keys()
        .map(|k| GtidSet::from_intervals([(k.clone(), errant.intervals()[k].clone())].into()).to_string())
        .collect();
    Errant { texts, clean: Some(Position::Mysql(effective.difference(&errant))), undecidable: None }
}

/// What `have` lacks of `want`, in `Position::missing_text`'s words.
fn mariadb_missing_text(have: MariadbPos, want: MariadbPos) -> String {
    Position::Mariadb(have).missing_text(&Position::Mariadb(want))
}

/// One node's verdict before sorting, with its sort keys.
struct Verdict {
    ranked: Ranked,
    received_missing: u64,
    applied_missing: u64,
    lag_ms: i64,
}

/// Eligible nodes first, best first; then the excluded ones. The old primary is not listed.
pub fn rank(input: &RankInput) -> Vec<Ranked> {
    let analysis = analyse(input);
    let Analysis { nodes, primary, best } = &analysis;
    let count = |p: Option<&Position>| match (best, p) {
        (Some(b), Some(p)) => Some(p.missing(b)),
        _ => None,
    };
    let mut verdicts: Vec<Verdict> = nodes
        .iter()
        .filter(|n| n.facts.node != input.old_primary)
        .map(|n| {
            let mut ranked = judge(input, n, nodes);
            ranked.behind = count(n.clean.as_ref());
            if input.purpose == Purpose::Failover && ranked.eligible {
                note_failover(n, primary.as_ref(), &mut ranked.reasons);
            }
            Verdict {
                received_missing: ranked.behind.unwrap_or(u64::MAX),
                applied_missing: count(n.applied.as_ref()).unwrap_or(u64::MAX),
                lag_ms: n.facts.lag_ms.unwrap_or(i64::MAX),
                ranked,
            }
        })
        .collect();
    verdicts.sort_by(|a, b| {
        (!a.ranked.eligible, a.received_missing, a.applied_missing, a.lag_ms, &a.ranked.node).cmp(&(
            !b.ranked.eligible,
            b.received_missing,
            b.applied_missing,
            b.lag_ms,
            &b.ranked.node,
        ))
    });
    explain_order(&mut verdicts);
    verdicts.into_iter().map(|v| v.ranked).collect()
}

/// The exclusions and notes that do not depend on the order.
fn judge(input: &RankInput, n: &Node, all: &[Node]) -> Ranked {
    let f = n.facts;
    let mut excluded: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    if !f.reachable {
        excluded.push("unreachable".into());
    }
    match f.flavor {
        Some(flavor) if flavor != input.flavor => {
            excluded.push(format!("runs {}, the cluster {}", flavor_name(flavor), flavor_name(input.flavor)));
        }
        _ => {}
    }
    if let Some(e) = &n.unreadable {
        excluded.push(e.clone());
    } else if f.reachable && n.effective.is_none() && !matches!(f.flavor, Some(fl) if fl != input.flavor) {
        excluded.push("no GTID position known".into());
    }
    if f.no_promote {
        excluded.push("marked no-promote".into());
    }
    if !n.errant.is_empty() {
        excluded.push(format!("errant transactions (written on this replica): {}", n.errant.join("; ")));
    }
    if let Some(u) = &n.undecidable {
        excluded.push(u.clone());
    }
    match input.purpose {
        Purpose::Switchover => judge_switchover(input, f, &mut excluded, &mut notes),
        Purpose::Failover => {
            if let Some(r) = f.replication.as_ref().filter(|r| !r.last_sql_error.is_empty()) {
                excluded
                    .push(format!("SQL thread stopped on an error, cannot apply its relay log: {}", r.last_sql_error));
            }
            if let Some(reason) = lacks(n, all) {
                excluded.push(reason);
            }
        }
    }
    if let Some(wanted) = input.wanted.filter(|w| *w != f.node) {
        excluded.push(format!("not the requested node (--to {wanted})"));
    }
    if f.read_only == Some(false) {
        notes.push("writable (read_only is OFF)".into());
    }
    let eligible = excluded.is_empty();
    excluded.extend(notes);
    Ranked {
        node: f.node.clone(),
        eligible,
        reasons: excluded,
        received: f.received.clone(),
        applied: f.applied.clone(),
        behind: None,
        errant: n.errant.clone(),
    }
}

fn judge_switchover(input: &RankInput, f: &Facts, excluded: &mut Vec<String>, notes: &mut Vec<String>) {
    let Some(r) = &f.replication else {
        if f.reachable {
            excluded.push("not replicating".into());
        }
        return;
    };
    if !r.io_ok() || !r.sql_ok() {
        let error = [&r.last_io_error, &r.last_sql_error].into_iter().find(|e| !e.is_empty());
        let mut text = format!("replication broken: IO thread {}, SQL thread {}", r.io_running, r.sql_running);
        if let Some(e) = error {
            text.push_str(&format!(": {e}"));
        }
        excluded.push(text);
    }
    match f.lag_ms {
        Some(lag) if lag > input.max_lag_ms => {
            excluded.push(format!("lag {lag} ms over the limit of {} ms", input.max_lag_ms));
        }
        Some(_) => {}
        None => notes.push("lag unknown".into()),
    }
    notes.push(format!("replicates from {}:{}", r.source_host, r.source_port));
}

/// Failover: the node must hold what every other reachable replica has received.
fn lacks(n: &Node, all: &[Node]) -> Option<String> {
    let mine = n.clean.as_ref()?;
    let worst = all
        .iter()
        .filter(|o| o.facts.node != n.facts.node)
        .filter_map(|o| o.clean.as_ref().map(|p| (mine.missing(p), &o.facts.node)))
        .filter(|(missing, _)| *missing > 0)
        .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(a.1)))?;
    let (count, other) = worst;
    Some(format!("lacks {count} transaction{} that {other} has", plural(count)))
}

/// Failover notes on an eligible node: the relay log still to apply, and what nobody has.
fn note_failover(n: &Node, primary: Option<&Position>, reasons: &mut Vec<String>) {
    if let (Some(applied), Some(clean)) = (&n.applied, &n.clean) {
        let backlog = applied.missing(clean);
        if backlog > 0 {
            reasons.push(format!(
                "{backlog} received transaction{} not applied yet: promotion waits for them",
                plural(backlog)
            ));
        }
    }
    if let (Some(p), Some(clean)) = (primary, &n.clean) {
        let text = clean.missing_text(p);
        if !text.is_empty() {
            reasons.push(format!(
                "lacks transactions of the old primary's last published position that no reachable replica has \
                 (lost unless it comes back): {text}"
            ));
        }
    }
}

/// Says why each eligible node ranks below the one before it.
fn explain_order(verdicts: &mut [Verdict]) {
    for i in 0..verdicts.len() {
        if !verdicts[i].ranked.eligible {
            break;
        }
        let text = if i == 0 {
            "best candidate".to_string()
        } else {
            let (prev, this) = (&verdicts[i - 1], &verdicts[i]);
            let name = &prev.ranked.node;
            if this.received_missing != prev.received_missing {
                let d = this.received_missing.saturating_sub(prev.received_missing);
                format!("ranks below {name}: received {d} transaction{} fewer", plural(d))
            } else if this.applied_missing != prev.applied_missing {
                let d = this.applied_missing.saturating_sub(prev.applied_missing);
                format!("ranks below {name}: applied {d} transaction{} fewer", plural(d))
            } else if this.lag_ms != prev.lag_ms {
                format!("ranks below {name}: more lag ({} vs {})", lag_text(this.lag_ms), lag_text(prev.lag_ms))
            } else {
                format!("ranks below {name}: same position and lag, ordered by name")
            }
        };
        verdicts[i].ranked.reasons.insert(0, text);
    }
}

fn lag_text(ms: i64) -> String {
    if ms == i64::MAX {
        "unknown".into()
    } else {
        format!("{ms} ms")
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn flavor_name(f: Flavor) -> &'static str {
    match f {
        Flavor::Mariadb => "MariaDB",
        Flavor::Mysql => "MySQL",
    }
}

/// What `--force` would lose by promoting `node`: the best known position minus the node's received position, as text (empty when nothing).
///
/// The node's position is taken without its errant transactions, and a node with no readable
/// position would lose everything known. For the top node of an eligible failover this is what
/// only the old primary's last published position had: lost whoever is chosen. Empty for a
/// node that is not in the input.
pub fn would_lose(input: &RankInput, node: &str) -> String {
    let analysis = analyse(input);
    let Some(n) = analysis.nodes.iter().find(|n| n.facts.node == node) else {
        return String::new();
    };
    let Some(best) = &analysis.best else {
        return String::new();
    };
    let empty = match input.flavor {
        Flavor::Mariadb => Position::Mariadb(MariadbPos::default()),
        Flavor::Mysql => Position::Mysql(GtidSet::default()),
    };
    n.clean.as_ref().unwrap_or(&empty).missing_text(best)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::status::tests::sample;
    use crate::cluster::status::ServerRole;

    const U1: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    const U2: &str = "4f22ab58-82db-22f2-af44-d91bb0530673";
    const U3: &str = "5a33bc69-93ec-33a3-b055-ea2cc1641784";

    fn running() -> Replication {
        Replication {
            source_host: "10.0.0.1".into(),
            source_port: 3306,
            io_running: "Yes".into(),
            sql_running: "Yes".into(),
            seconds_behind: Some(0),
            ..Replication::default()
        }
    }

    /// A healthy reachable replica `dbN` with server_id N.
    fn node(name: &str, flavor: Flavor, applied: &str, received: &str, lag_ms: i64) -> Facts {
        let server_id = name.trim_start_matches("db").parse().ok();
        Facts {
            node: name.into(),
            reachable: true,
            server_id,
            flavor: Some(flavor),
            read_only: Some(true),
            applied: Some(applied.into()),
            received: Some(received.into()),
            replication: Some(running()),
            lag_ms: Some(lag_ms),
            no_promote: false,
        }
    }

    fn maria(name: &str, applied: &str, received: &str, lag_ms: i64) -> Facts {
        node(name, Flavor::Mariadb, applied, received, lag_ms)
    }

    fn input<'a>(purpose: Purpose, flavor: Flavor, primary: Option<&'a str>, nodes: &'a [Facts]) -> RankInput<'a> {
        RankInput {
            purpose,
            old_primary: "db1",
            primary_position: primary,
            flavor,
            nodes,
            max_lag_ms: 10_000,
            wanted: None,
        }
    }

    fn order(ranked: &[Ranked]) -> Vec<(&str, bool)> {
        ranked.iter().map(|r| (r.node.as_str(), r.eligible)).collect()
    }

    fn reasons<'a>(ranked: &'a [Ranked], node: &str) -> &'a [String] {
        &ranked.iter().find(|r| r.node == node).unwrap().reasons
    }

    fn has_reason(ranked: &[Ranked], node: &str, needle: &str) -> bool {
        reasons(ranked, node).iter().any(|r| r.contains(needle))
    }

    #[test]
    fn healthy_switchover_prefers_less_lag() {
        let nodes = [maria("db3", "0-1-100", "0-1-100", 40), maria("db2", "0-1-100", "0-1-100", 5)];
        let r = rank(&input(Purpose::Switchover, Flavor::Mariadb, Some("0-1-100"), &nodes));
        assert_eq!(order(&r), [("db2", true), ("db3", true)]);
        assert_eq!(r[0].reasons[0], "best candidate");
        assert!(r[1].reasons[0].contains("more lag (40 ms vs 5 ms)"), "{:?}", r[1].reasons);
        assert!(has_reason(&r, "db2", "replicates from 10.0.0.1:3306"));
        assert_eq!(r[0].behind, Some(0));
    }

    #[test]
    fn switchover_behind_but_replicating_is_eligible_and_ranks_by_received() {
        // db3 applied less but received everything; it catches up during the wait step.
        let nodes = [maria("db2", "0-1-95", "0-1-97", 1), maria("db3", "0-1-90", "0-1-100", 1)];
        let r = rank(&input(Purpose::Switchover, Flavor::Mariadb, Some("0-1-100"), &nodes));
        assert_eq!(order(&r), [("db3", true), ("db2", true)]);
        assert_eq!(r[1].behind, Some(3));
        assert!(r[1].reasons[0].contains("received 3 transactions fewer"));
    }

    #[test]
    fn to_another_node() {
        let nodes = [maria("db2", "0-1-100", "0-1-100", 5), maria("db3", "0-1-100", "0-1-100", 40)];
        let mut i = input(Purpose::Switchover, Flavor::Mariadb, Some("0-1-100"), &nodes);
        i.wanted = Some("db3");
        let r = rank(&i);
        assert_eq!(order(&r), [("db3", true), ("db2", false)]);
        assert!(has_reason(&r, "db2", "not the requested node (--to db3)"));
    }

    #[test]
    fn errant_replica_is_never_chosen() {
        // db3 wrote 1-3-1 … 1-3-2 in a domain of its own; db2 wrote 0-2-101 past the primary.
        let nodes = [
            maria("db2", "0-1-100", "0-1-100", 5),
            maria("db3", "0-1-100,1-3-2", "0-1-100", 1),
            maria("db4", "0-4-101", "0-1-100", 1),
        ];
        for purpose in [Purpose::Switchover, Purpose::Failover] {
            let r = rank(&input(purpose, Flavor::Mariadb, Some("0-1-100"), &nodes));
            assert_eq!(order(&r), [("db2", true), ("db3", false), ("db4", false)], "{purpose:?}");
            assert_eq!(r[1].errant.len(), 1);
            assert!(r[1].errant[0].contains("domain 1: 1-3-1 … 1-3-2 (2 transactions)"), "{:?}", r[1].errant);
            assert!(r[1].reasons.iter().any(|x| x.starts_with("errant transactions")));
            assert!(r[2].errant[0].contains("0-4-101 (1 transaction) (past 0-1-100)"), "{:?}", r[2].errant);
            // The errant transactions are not part of what the others are measured against.
            assert_eq!(r[0].behind, Some(0), "{purpose:?}");
        }
    }

    #[test]
    fn switchover_errant_is_anything_past_the_live_primary() {
        // With the primary live and authoritative, server_id does not matter.
        let nodes = [maria("db2", "0-9-101", "0-1-100", 5), maria("db3", "0-1-100", "0-1-100", 5)];
        let r = rank(&input(Purpose::Switchover, Flavor::Mariadb, Some("0-1-100"), &nodes));
        assert_eq!(order(&r), [("db3", true), ("db2", false)]);
        assert!(!r[1].errant.is_empty());
        // In a failover the same GTID is another server's: it received more, not errant.
        let r = rank(&input(Purpose::Failover, Flavor::Mariadb, Some("0-1-100"), &nodes));
        assert!(r.iter().all(|x| x.errant.is_empty()));
        assert_eq!(order(&r), [("db2", true), ("db3", false)]);
    }

    #[test]
    fn failover_without_server_id_cannot_rule_out_errant() {
        let mut db2 = maria("db2", "0-2-101", "0-1-100", 5);
        db2.server_id = None;
        let nodes = [db2, maria("db3", "0-1-100", "0-1-100", 5)];
        let r = rank(&input(Purpose::Failover, Flavor::Mariadb, Some("0-1-100"), &nodes));
        assert!(has_reason(&r, "db2", "server_id unknown"));
        assert!(!r.iter().find(|x| x.node == "db2").unwrap().eligible);
    }

    #[test]
    fn broken_replica_in_switchover() {
        let mut db3 = maria("db3", "0-1-99", "0-1-100", 1);
        db3.replication = Some(Replication {
            sql_running: "No".into(),
            last_sql_error: "Duplicate entry '1' for key 'PRIMARY'".into(),
            ..running()
        });
        let mut db4 = maria("db4", "0-1-100", "0-1-100", 1);
        db4.replication = None;
        let nodes = [maria("db2", "0-1-100", "0-1-100", 50_000), db3, db4];
        let r = rank(&input(Purpose::Switchover, Flavor::Mariadb, Some("0-1-100"), &nodes));
        assert!(r.iter().all(|x| !x.eligible), "{r:?}");
        assert!(has_reason(&r, "db2", "lag 50000 ms over the limit of 10000 ms"));
        assert!(has_reason(&r, "db3", "replication broken: IO thread Yes, SQL thread No: Duplicate entry"));
        assert!(has_reason(&r, "db4", "not replicating"));
    }

    #[test]
    fn failover_prefers_the_one_that_received_most() {
        // The old primary last published 0-1-100. db2 received up to 110 but applied only 100;
        // db3 applied everything it received (105). Both have a huge heartbeat lag: ignored.
        let nodes = [maria("db3", "0-1-105", "0-1-105", 90_000), maria("db2", "0-1-100", "0-1-110", 95_000)];
        let i = input(Purpose::Failover, Flavor::Mariadb, Some("0-1-100"), &nodes);
        let r = rank(&i);
        assert_eq!(order(&r), [("db2", true), ("db3", false)]);
        assert!(has_reason(&r, "db2", "10 received transactions not applied yet"));
        assert!(has_reason(&r, "db3", "lacks 5 transactions that db2 has"));
        assert_eq!((r[0].behind, r[1].behind), (Some(0), Some(5)));
        assert_eq!(would_lose(&i, "db2"), "");
        assert_eq!(would_lose(&i, "db3"), "domain 0: 0-1-106 … 0-1-110 (5 transactions)");
    }

    #[test]
    fn failover_refuses_when_the_only_complete_replica_is_no_promote() {
        let mut db2 = maria("db2", "0-1-110", "0-1-110", 0);
        db2.no_promote = true;
        let nodes = [db2, maria("db3", "0-1-105", "0-1-105", 0)];
        let i = input(Purpose::Failover, Flavor::Mariadb, Some("0-1-100"), &nodes);
        let r = rank(&i);
        assert_eq!(order(&r), [("db2", false), ("db3", false)]);
        assert!(has_reason(&r, "db2", "marked no-promote"));
        assert!(has_reason(&r, "db3", "lacks 5 transactions that db2 has"));
        assert_eq!(would_lose(&i, "db3"), "domain 0: 0-1-106 … 0-1-110 (5 transactions)");
    }

    #[test]
    fn failover_refuses_divergent_replicas() {
        // Each received something of another domain the other lacks: no node holds everything.
        let nodes =
            [maria("db2", "0-1-110,1-1-5", "0-1-110,1-1-5", 0), maria("db3", "0-1-105,1-1-9", "0-1-105,1-1-9", 0)];
        let r = rank(&input(Purpose::Failover, Flavor::Mariadb, Some("0-1-100,1-1-1"), &nodes));
        assert!(r.iter().all(|x| !x.eligible), "{r:?}");
        assert!(has_reason(&r, "db2", "lacks 4 transactions that db3 has"));
        assert!(has_reason(&r, "db3", "lacks 5 transactions that db2 has"));
    }

    #[test]
    fn failover_notes_what_only_the_old_primary_had() {
        let nodes = [maria("db2", "0-1-98", "0-1-98", 0), maria("db3", "0-1-97", "0-1-97", 0)];
        let i = input(Purpose::Failover, Flavor::Mariadb, Some("0-1-100"), &nodes);
        let r = rank(&i);
        assert_eq!(order(&r), [("db2", true), ("db3", false)]);
        assert!(has_reason(&r, "db2", "lost unless it comes back): domain 0: 0-1-99 … 0-1-100 (2 transactions)"));
        assert_eq!(r[0].behind, Some(2));
        assert_eq!(would_lose(&i, "db2"), "domain 0: 0-1-99 … 0-1-100 (2 transactions)");
    }

    #[test]
    fn failover_sql_error_cannot_drain() {
        let mut db2 = maria("db2", "0-1-100", "0-1-110", 0);
        db2.replication = Some(Replication { sql_running: "No".into(), last_sql_error: "boom".into(), ..running() });
        let nodes = [db2, maria("db3", "0-1-110", "0-1-110", 0)];
        let r = rank(&input(Purpose::Failover, Flavor::Mariadb, Some("0-1-100"), &nodes));
        assert_eq!(order(&r), [("db3", true), ("db2", false)]);
        assert!(has_reason(&r, "db2", "SQL thread stopped on an error"));
    }

    #[test]
    fn no_safe_replica() {
        let mut down = maria("db2", "0-1-100", "0-1-100", 0);
        down.reachable = false;
        let mut blank = maria("db3", "", "", 0);
        blank.applied = None;
        blank.received = None;
        let bad = maria("db4", "0-1-x", "0-1-100", 0);
        let mut mysql = maria("db5", "0-1-100", "0-1-100", 0);
        mysql.flavor = Some(Flavor::Mysql);
        let nodes = [down, blank, bad, mysql];
        for purpose in [Purpose::Switchover, Purpose::Failover] {
            let r = rank(&input(purpose, Flavor::Mariadb, Some("0-1-100"), &nodes));
            assert!(r.iter().all(|x| !x.eligible), "{r:?}");
            assert!(has_reason(&r, "db2", "unreachable"));
            assert!(has_reason(&r, "db3", "no GTID position known"));
            assert!(has_reason(&r, "db4", "unreadable applied position: GTID \"0-1-x\""));
            assert!(has_reason(&r, "db5", "runs MySQL, the cluster MariaDB"));
        }
    }

    #[test]
    fn old_primary_is_not_listed() {
        let nodes = [maria("db1", "0-1-100", "0-1-100", 0), maria("db2", "0-1-100", "0-1-100", 0)];
        let r = rank(&input(Purpose::Switchover, Flavor::Mariadb, Some("0-1-100"), &nodes));
        assert_eq!(order(&r), [("db2", true)]);
    }

    #[test]
    fn deterministic_tie_break() {
        let a = [maria("db3", "0-1-100", "0-1-100", 7), maria("db2", "0-1-100", "0-1-100", 7)];
        let b = [a[1].clone(), a[0].clone()];
        for purpose in [Purpose::Switchover, Purpose::Failover] {
            let ra = rank(&input(purpose, Flavor::Mariadb, Some("0-1-100"), &a));
            let rb = rank(&input(purpose, Flavor::Mariadb, Some("0-1-100"), &b));
            assert_eq!(ra, rb);
            assert_eq!(order(&ra), [("db2", true), ("db3", true)]);
            assert!(ra[1].reasons[0].contains("ordered by name"));
        }
    }

    fn my(name: &str, executed: &str, received: &str, lag_ms: i64) -> Facts {
        node(name, Flavor::Mysql, executed, received, lag_ms)
    }

    #[test]
    fn mysql_switchover_and_errant() {
        let p = format!("{U1}:1-100");
        let nodes = [
            my("db2", &format!("{U1}:1-100"), &format!("{U1}:1-100"), 30),
            my("db3", &format!("{U1}:1-100"), &format!("{U1}:1-100"), 3),
            my("db4", &format!("{U1}:1-100,{U3}:1-2"), &format!("{U1}:1-100"), 0),
        ];
        let r = rank(&input(Purpose::Switchover, Flavor::Mysql, Some(&p), &nodes));
        assert_eq!(order(&r), [("db3", true), ("db2", true), ("db4", false)]);
        assert_eq!(r[2].errant, [format!("{U3}:1-2")]);
        let r = rank(&input(Purpose::Failover, Flavor::Mysql, Some(&p), &nodes));
        assert_eq!(r.iter().find(|x| x.node == "db4").unwrap().errant, [format!("{U3}:1-2")]);
        assert!(r.iter().filter(|x| x.node != "db4").all(|x| x.eligible && x.behind == Some(0)));
    }

    #[test]
    fn mysql_failover_prefers_received() {
        // The primary's last published set is stale (1-100); db2 received up to 110 (under the
        // primary's uuid: not errant), db3 applied 105.
        let p = format!("{U1}:1-100,{U2}:1-5");
        let nodes = [
            my("db3", &format!("{U1}:1-105,{U2}:1-5"), &format!("{U1}:1-105,{U2}:1-5"), 0),
            my("db2", &format!("{U1}:1-100,{U2}:1-5"), &format!("{U1}:1-110,{U2}:1-5"), 0),
        ];
        let i = input(Purpose::Failover, Flavor::Mysql, Some(&p), &nodes);
        let r = rank(&i);
        assert_eq!(order(&r), [("db2", true), ("db3", false)]);
        assert!(has_reason(&r, "db3", "lacks 5 transactions that db2 has"));
        assert_eq!(would_lose(&i, "db3"), format!("{U1}:106-110"));
        assert_eq!(would_lose(&i, "db2"), "");
        assert_eq!(would_lose(&i, "nobody"), "");
        // Under a uuid the old primary never had, the same extra transactions are errant.
        let nodes = [
            my("db3", &format!("{U1}:1-100,{U2}:1-5"), &format!("{U1}:1-100,{U2}:1-5"), 0),
            my("db2", &format!("{U1}:1-100,{U2}:1-5,{U3}:1-3"), &format!("{U1}:1-100,{U2}:1-5"), 0),
        ];
        let r = rank(&input(Purpose::Failover, Flavor::Mysql, Some(&p), &nodes));
        assert_eq!(order(&r), [("db3", true), ("db2", false)]);
        assert_eq!(r[1].errant, [format!("{U3}:1-3")]);
    }

    #[test]
    fn mysql_failover_refuses_when_only_no_promote_is_complete() {
        let p = format!("{U1}:1-100");
        let mut db2 = my("db2", &format!("{U1}:1-110"), &format!("{U1}:1-110"), 0);
        db2.no_promote = true;
        let nodes = [db2, my("db3", &format!("{U1}:1-100"), &format!("{U1}:1-104"), 0)];
        let r = rank(&input(Purpose::Failover, Flavor::Mysql, Some(&p), &nodes));
        assert!(r.iter().all(|x| !x.eligible));
        assert!(has_reason(&r, "db3", "lacks 6 transactions that db2 has"));
    }

    #[test]
    fn facts_from_status() {
        let mut s = sample("db2", ServerRole::Replica);
        s.replication.as_mut().unwrap().gtid_io_pos = "0-1-105".into();
        s.heartbeat_lag_ms = None;
        s.replication.as_mut().unwrap().seconds_behind = Some(3);
        let f = Facts::from_status(&s, true);
        assert_eq!(f.applied.as_deref(), Some("0-1-100"));
        assert_eq!(f.received.as_deref(), Some("0-1-105"));
        assert_eq!((f.lag_ms, f.server_id, f.no_promote), (Some(3000), Some(7), true));

        // MySQL: received is the retrieved set ∪ executed.
        s.flavor = Some(Flavor::Mysql);
        s.gtid = crate::cluster::status::Gtid { executed: Some(format!("{U1}:1-100")), ..Default::default() };
        s.replication.as_mut().unwrap().gtid_io_pos = format!("{U1}:90-104");
        assert_eq!(Facts::from_status(&s, false).received, Some(format!("{U1}:1-104")));
        // An empty received position counts as what was applied; a primary has none.
        s.replication.as_mut().unwrap().gtid_io_pos = String::new();
        assert_eq!(Facts::from_status(&s, false).received, Some(format!("{U1}:1-100")));
        assert_eq!(Facts::from_status(&sample("db1", ServerRole::Primary), false).received, None);
    }
}
