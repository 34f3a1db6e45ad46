//! Pure verdicts on the ensemble, in the manner of `cluster::health`: how many voting members
//! serve against the majority needed (observers do not vote), members down or not serving, a
//! follower lagging behind the leader, outstanding requests piling up. `myzoo zk ensemble` and
//! the console's ensemble screen both call [`judge`], so they never disagree.

use serde::Serialize;

use super::members::ConfigRole;
use super::probe::Reach;
use super::stats::Mode;
use super::MemberReport;

/// A follower this many transactions (zxid counter) behind the leader is lagging. Members are
/// asked in parallel, so a busy ensemble shows a few transactions of skew between answers;
/// a follower that keeps a thousand behind is not keeping up.
pub const LAGGING_ZXID_BEHIND: i64 = 1_000;
/// Outstanding requests above this are piling up: a member that cannot keep up with its
/// clients (ZooKeeper throttles at 1,000 by default, `globalOutstandingLimit`).
pub const OUTSTANDING_PILING_UP: u64 = 100;

/// The quorum as the members tell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Quorum {
    /// More voting members serve than the majority needs: one can fail.
    Healthy,
    /// Exactly the majority serves: the next failure loses the quorum.
    OneFailureFromLoss,
    /// Fewer than the majority serve: no writes, no new sessions.
    Lost,
    /// A single standalone server: no quorum to lose, no redundancy either.
    Standalone,
    /// Members that refuse to say could make the difference.
    Unknown,
}

/// The ensemble's verdict; the exit code of `myzoo zk ensemble` follows it as `myzoo status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnsembleVerdict {
    Healthy,
    Degraded,
    Unhealthy,
    Unknown,
}

impl EnsembleVerdict {
    pub fn label(self) -> &'static str {
        match self {
            EnsembleVerdict::Healthy => "HEALTHY",
            EnsembleVerdict::Degraded => "DEGRADED",
            EnsembleVerdict::Unhealthy => "UNHEALTHY",
            EnsembleVerdict::Unknown => "UNKNOWN",
        }
    }
}

/// What [`judge`] concludes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Judgement {
    pub verdict: EnsembleVerdict,
    pub quorum: Quorum,
    /// Voting members (the members' own `quorum_size` when they say it, else those listed that
    /// are not observers).
    pub voters: usize,
    pub serving_voters: usize,
    /// The majority: `voters / 2 + 1`.
    pub needed: usize,
    /// The member that says it leads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leader: Option<String>,
    /// One line per thing an operator should look at.
    pub problems: Vec<String>,
}

impl Judgement {
    /// The quorum in one line: `quorum healthy: 3 of 3 voting members serving, 2 needed`.
    pub fn quorum_line(&self) -> String {
        let counts =
            format!("{} of {} voting members serving, {} needed", self.serving_voters, self.voters, self.needed);
        match self.quorum {
            Quorum::Healthy => format!("quorum healthy: {counts}"),
            Quorum::OneFailureFromLoss => format!("one failure from losing quorum: {counts}"),
            Quorum::Lost => format!("quorum lost: {counts}"),
            Quorum::Standalone => "standalone: a single server, no quorum to lose (and no redundancy)".to_string(),
            Quorum::Unknown => format!("quorum unknown: {counts}, and members that cannot be read"),
        }
    }
}

fn mode(r: &MemberReport) -> Option<Mode> {
    r.stats.as_ref().and_then(|s| s.mode)
}

fn is_observer(r: &MemberReport) -> bool {
    r.member.role == Some(ConfigRole::Observer) || mode(r) == Some(Mode::Observer)
}

/// Fills in how far behind the leader each member is (`behind_leader`, `older_epoch`).
pub fn annotate_lag(reports: &mut [MemberReport]) {
    let leader = reports
        .iter()
        .find(|r| r.reach == Reach::Serving && mode(r) == Some(Mode::Leader))
        .and_then(|r| r.stats.as_ref()?.zxid);
    for r in reports.iter_mut() {
        r.behind_leader = None;
        r.older_epoch = false;
        let (Some(leader), Some(zxid)) = (leader, r.stats.as_ref().and_then(|s| s.zxid)) else { continue };
        if r.reach != Reach::Serving || mode(r) == Some(Mode::Leader) {
            continue;
        }
        if zxid.epoch() < leader.epoch() {
            r.older_epoch = true;
        } else if zxid.epoch() == leader.epoch() {
            // Answers taken a moment apart can put a follower ahead of the leader's sample.
            r.behind_leader = Some((leader.counter() - zxid.counter()).max(0));
        } else {
            r.behind_leader = Some(0);
        }
    }
}

/// Judges the ensemble from its members' reports (with [`annotate_lag`] applied).
pub fn judge(reports: &[MemberReport]) -> Judgement {
    let mut problems = Vec::new();
    for r in reports {
        let addr = r.member.address();
        let why = r.reason.as_deref().unwrap_or("no reason given");
        match r.reach {
            Reach::Down => problems.push(format!("{addr} down: {why}")),
            Reach::NotServing => problems.push(format!("{addr} not serving requests")),
            Reach::Unreadable => problems.push(format!("{addr} cannot be read: {why}")),
            Reach::Serving => {}
        }
        if let (Reach::Serving, Some(behind)) = (r.reach, r.behind_leader) {
            if behind > LAGGING_ZXID_BEHIND {
                problems.push(format!("{addr} is {behind} transactions behind the leader"));
            }
        }
        if r.older_epoch {
            problems.push(format!("{addr} is on an older epoch than the leader"));
        }
        if let Some(n) = r.stats.as_ref().and_then(|s| s.outstanding_requests).filter(|n| *n > OUTSTANDING_PILING_UP) {
            problems.push(format!("{addr} has {n} outstanding requests"));
        }
    }
    let leaders: Vec<&MemberReport> =
        reports.iter().filter(|r| r.reach == Reach::Serving && mode(r) == Some(Mode::Leader)).collect();
    if leaders.len() > 1 {
        let names: Vec<String> = leaders.iter().map(|r| r.member.address()).collect();
        problems.push(format!("more than one member says it leads: {}", names.join(", ")));
    }
    let leader = leaders.first().map(|r| r.member.address());

    let standalone = reports.iter().any(|r| r.reach == Reach::Serving && mode(r) == Some(Mode::Standalone));
    if standalone {
        let verdict = if problems.is_empty() { EnsembleVerdict::Healthy } else { EnsembleVerdict::Degraded };
        let leader = reports.iter().find(|r| mode(r) == Some(Mode::Standalone)).map(|r| r.member.address());
        return Judgement {
            verdict,
            quorum: Quorum::Standalone,
            voters: 1,
            serving_voters: 1,
            needed: 1,
            leader,
            problems,
        };
    }

    let voting: Vec<&MemberReport> = reports.iter().filter(|r| !is_observer(r)).collect();
    // The members' own count includes voters nobody listed; without it, count the listed ones.
    let said = reports.iter().filter_map(|r| r.stats.as_ref()?.quorum_size).max();
    let voters = said.map_or(voting.len(), |n| (n as usize).max(voting.len()));
    let counted = voting
        .iter()
        .filter(|r| r.reach == Reach::Serving && matches!(mode(r), Some(Mode::Leader | Mode::Follower)))
        .count();
    // Voters we could not ask (nobody listed them, or they refuse to say): the leader's count
    // of followers in sync says how many of them serve. It lags a death by a few ticks, so it
    // never speaks for the members we asked.
    let unreadable = voting.iter().filter(|r| r.reach == Reach::Unreadable).count();
    let unasked = voters.saturating_sub(voting.len()) + unreadable;
    let synced = leaders.first().and_then(|r| r.stats.as_ref()?.synced_followers).map_or(0, |n| n as usize + 1);
    let credited = unasked.min(synced.saturating_sub(counted));
    let serving_voters = counted + credited;
    let unreadable = unreadable.saturating_sub(credited);
    let needed = voters / 2 + 1;
    let quorum = if voters == 0 {
        Quorum::Unknown
    } else if serving_voters > needed {
        Quorum::Healthy
    } else if serving_voters == needed {
        Quorum::OneFailureFromLoss
    } else if serving_voters + unreadable >= needed {
        Quorum::Unknown
    } else {
        Quorum::Lost
    };
    let verdict = match quorum {
        Quorum::Lost => EnsembleVerdict::Unhealthy,
        Quorum::Unknown => EnsembleVerdict::Unknown,
        Quorum::OneFailureFromLoss => EnsembleVerdict::Degraded,
        Quorum::Healthy | Quorum::Standalone if problems.is_empty() => EnsembleVerdict::Healthy,
        Quorum::Healthy | Quorum::Standalone => EnsembleVerdict::Degraded,
    };
    Judgement { verdict, quorum, voters, serving_voters, needed, leader, problems }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zk::ensemble::members::Member;
    use crate::zk::ensemble::probe::Via;
    use crate::zk::ensemble::stats::{parse_mntr, parse_srvr, MemberStats, Zxid};

    const SRVR_LEADER: &str = include_str!("fixtures/srvr-leader.txt");
    const MNTR_LEADER: &str = include_str!("fixtures/mntr-leader.txt");
    const SRVR_FOLLOWER: &str = include_str!("fixtures/srvr-follower.txt");
    const MNTR_FOLLOWER: &str = include_str!("fixtures/mntr-follower.txt");
    const SRVR_STANDALONE: &str = include_str!("fixtures/srvr-standalone.txt");

    fn member(port: u16) -> Member {
        Member {
            host: "127.0.0.1".into(),
            port,
            server_id: None,
            role: None,
            in_connect_string: true,
            in_dynamic_config: false,
        }
    }

    fn report(port: u16, reach: Reach, stats: Option<MemberStats>, reason: Option<&str>) -> MemberReport {
        MemberReport {
            address: member(port).address(),
            member: member(port),
            reach,
            via: stats.as_ref().map(|_| Via::FourLetterWords),
            stats,
            reason: reason.map(str::to_string),
            behind_leader: None,
            older_epoch: false,
            session: false,
        }
    }

    fn leader(port: u16) -> MemberReport {
        let stats = parse_mntr(MNTR_LEADER).unwrap().or(parse_srvr(SRVR_LEADER).unwrap());
        report(port, Reach::Serving, Some(stats), None)
    }

    fn follower(port: u16) -> MemberReport {
        let stats = parse_mntr(MNTR_FOLLOWER).unwrap().or(parse_srvr(SRVR_FOLLOWER).unwrap());
        report(port, Reach::Serving, Some(stats), None)
    }

    fn down(port: u16) -> MemberReport {
        report(port, Reach::Down, None, Some("connection refused; no AdminServer configured"))
    }

    fn judged(mut reports: Vec<MemberReport>) -> (Judgement, Vec<MemberReport>) {
        annotate_lag(&mut reports);
        (judge(&reports), reports)
    }

    #[test]
    fn three_serving_members_are_healthy() {
        let (j, _) = judged(vec![follower(1), follower(2), leader(3)]);
        assert_eq!((j.verdict, j.quorum), (EnsembleVerdict::Healthy, Quorum::Healthy));
        assert_eq!((j.voters, j.serving_voters, j.needed), (3, 3, 2));
        assert_eq!(j.leader.as_deref(), Some("127.0.0.1:3"));
        assert!(j.problems.is_empty(), "{:?}", j.problems);
        assert_eq!(j.quorum_line(), "quorum healthy: 3 of 3 voting members serving, 2 needed");
    }

    #[test]
    fn one_member_down_is_one_failure_from_losing_quorum() {
        // The leader still counts member 1 among its synced followers for a few ticks after
        // it died: the members listed are what count.
        let (j, _) = judged(vec![down(1), follower(2), leader(3)]);
        assert_eq!((j.verdict, j.quorum), (EnsembleVerdict::Degraded, Quorum::OneFailureFromLoss));
        assert_eq!((j.serving_voters, j.needed), (2, 2));
        assert_eq!(j.problems, vec!["127.0.0.1:1 down: connection refused; no AdminServer configured".to_string()]);
        assert_eq!(j.quorum_line(), "one failure from losing quorum: 2 of 3 voting members serving, 2 needed");
    }

    #[test]
    fn two_down_lose_the_quorum() {
        let not_serving = report(3, Reach::NotServing, Some(MemberStats::not_serving()), None);
        let (j, _) = judged(vec![down(1), down(2), not_serving]);
        assert_eq!((j.verdict, j.quorum), (EnsembleVerdict::Unhealthy, Quorum::Lost));
        assert_eq!(j.serving_voters, 0);
        assert_eq!(j.problems.len(), 3);
        assert!(j.problems[2].contains("not serving requests"), "{:?}", j.problems);
        assert_eq!(j.quorum_line(), "quorum lost: 0 of 3 voting members serving, 2 needed");
    }

    #[test]
    fn observers_do_not_vote() {
        let mut observer = follower(4);
        observer.stats.as_mut().unwrap().mode = Some(Mode::Observer);
        observer.stats.as_mut().unwrap().quorum_size = None;
        let mut l = leader(3);
        l.stats.as_mut().unwrap().synced_followers = Some(1);
        let (j, _) = judged(vec![down(1), follower(2), l, observer]);
        // 3 voters (the members say so), 2 serving: the observer does not help.
        assert_eq!((j.voters, j.serving_voters, j.quorum), (3, 2, Quorum::OneFailureFromLoss));
        // A down observer named by the config does not count as a voter either.
        let mut gone = down(4);
        gone.member.role = Some(ConfigRole::Observer);
        let (j, _) = judged(vec![follower(1), follower(2), leader(3), gone]);
        assert_eq!((j.voters, j.quorum, j.verdict), (3, Quorum::Healthy, EnsembleVerdict::Degraded));
    }

    #[test]
    fn the_leaders_count_covers_voters_nobody_listed() {
        // Only two of three listed; the third serves, as the leader's synced count says.
        let (j, _) = judged(vec![follower(1), leader(3)]);
        assert_eq!((j.voters, j.serving_voters, j.quorum), (3, 3, Quorum::Healthy));
    }

    #[test]
    fn unreadable_members_leave_the_quorum_unknown() {
        let refused = |p| report(p, Reach::Unreadable, None, Some("mntr is not in the 4lw whitelist"));
        let (j, _) = judged(vec![refused(1), refused(2), refused(3)]);
        assert_eq!((j.verdict, j.quorum, j.voters), (EnsembleVerdict::Unknown, Quorum::Unknown, 3));
        assert!(j.quorum_line().starts_with("quorum unknown"));
        // With a quorum visible anyway, one unreadable member is a problem, not an unknown.
        let (j, _) = judged(vec![refused(1), follower(2), leader(3)]);
        assert_eq!((j.verdict, j.quorum), (EnsembleVerdict::Degraded, Quorum::Healthy));
    }

    #[test]
    fn a_lagging_follower_and_piling_requests_degrade() {
        let leader_zxid = Zxid((1 << 32) + 50_000);
        let at = |r: MemberReport, zxid: i64| {
            let mut r = r;
            r.stats.as_mut().unwrap().zxid = Some(Zxid(zxid));
            r
        };
        let leader = |p| at(leader(p), leader_zxid.0);
        let follower = |p| at(follower(p), leader_zxid.0);
        let f = at(follower(1), leader_zxid.0 - LAGGING_ZXID_BEHIND - 1);
        let (j, reports) = judged(vec![f, follower(2), leader(3)]);
        assert_eq!(reports[0].behind_leader, Some(LAGGING_ZXID_BEHIND + 1));
        assert_eq!(reports[1].behind_leader, Some(0));
        assert_eq!(reports[2].behind_leader, None, "the leader is not behind itself");
        assert_eq!(j.verdict, EnsembleVerdict::Degraded);
        assert_eq!(
            j.problems,
            vec![format!("127.0.0.1:1 is {} transactions behind the leader", LAGGING_ZXID_BEHIND + 1)]
        );
        // Exactly at the threshold is not lagging yet.
        let f = at(follower(1), leader_zxid.0 - LAGGING_ZXID_BEHIND);
        assert!(judged(vec![f, follower(2), leader(3)]).0.problems.is_empty());
        // An older epoch is behind whatever the counters say.
        let f = at(follower(1), leader_zxid.0 - (1 << 32) + 5);
        let (j, reports) = judged(vec![f, follower(2), leader(3)]);
        assert!(reports[0].older_epoch);
        assert!(j.problems[0].contains("older epoch"), "{:?}", j.problems);
        // Outstanding requests over the threshold.
        let mut l = leader(3);
        l.stats.as_mut().unwrap().outstanding_requests = Some(OUTSTANDING_PILING_UP + 1);
        let (j, _) = judged(vec![follower(1), follower(2), l]);
        assert_eq!(j.problems, vec![format!("127.0.0.1:3 has {} outstanding requests", OUTSTANDING_PILING_UP + 1)]);
    }

    #[test]
    fn standalone_is_healthy_without_redundancy() {
        let solo = report(1, Reach::Serving, Some(parse_srvr(SRVR_STANDALONE).unwrap()), None);
        let (j, _) = judged(vec![solo]);
        assert_eq!((j.verdict, j.quorum), (EnsembleVerdict::Healthy, Quorum::Standalone));
        assert!(j.quorum_line().contains("no redundancy"));
        // The same server down: lost.
        let (j, _) = judged(vec![down(1)]);
        assert_eq!((j.verdict, j.quorum, j.voters, j.needed), (EnsembleVerdict::Unhealthy, Quorum::Lost, 1, 1));
    }

    #[test]
    fn two_leaders_are_a_problem() {
        let (j, _) = judged(vec![leader(1), follower(2), leader(3)]);
        assert!(j.problems.iter().any(|p| p.contains("more than one member says it leads")), "{:?}", j.problems);
        assert_eq!(j.verdict, EnsembleVerdict::Degraded);
    }
}
