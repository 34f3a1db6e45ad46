//! The automatic-failover coordinator's published state — the data of `<cluster>/coordinator`,
//! written by the elected agent (`agent::coordinator`) and by `myzoo ack` / `:ack` — and the
//! pure answer to "what does automatic failover do right now" ([`judge`]), which combines that
//! state with the cluster config. The console and `myzoo status` both show [`AutoFailover`], so
//! they never disagree.

use serde::{Deserialize, Serialize};

use super::config::FailoverConfig;
use crate::zk::format::utc_time;

/// The coordinator's state, kept in the data of `<cluster>/coordinator`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoordinatorState {
    /// The node whose agent leads.
    #[serde(default)]
    pub leader: String,
    /// `off`, `on`, `paused`, `blocked`.
    #[serde(default)]
    pub mode: String,
    /// Why it would not act right now (or what it is doing), in operator words.
    #[serde(default)]
    pub reason: String,
    /// When the last automatic failover finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failover_ms: Option<i64>,
    /// Until when automatic failover is blocked after it (unless acknowledged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_until_ms: Option<i64>,
    /// When an operator last acknowledged (lifts the block).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acked_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acked_by: Option<String>,
    /// What the last scheduled snapshot did (`backup.zk_interval_s`), in operator words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<String>,
}

impl CoordinatorState {
    /// Still blocked by the cool-down at `now`?
    pub fn blocked(&self, now: i64) -> bool {
        let Some(until) = self.blocked_until_ms else { return false };
        let acked_after = self.acked_ms.zip(self.last_failover_ms).is_some_and(|(a, f)| a >= f);
        now < until && !acked_after
    }
}

/// An empty or unreadable state reads as the default (no leader, nothing blocked).
pub fn parse_state(data: &[u8]) -> CoordinatorState {
    serde_json::from_slice(data).unwrap_or_default()
}

/// The coordinator's reason while all is well; [`judge`] does not repeat it.
pub fn watching_reason(primary: &str) -> String {
    format!("watching {primary}: up")
}

fn routine(reason: &str) -> bool {
    reason.is_empty() || reason.strip_prefix("watching ").is_some_and(|r| r.ends_with(": up"))
}

/// What automatic failover does right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AutoMode {
    /// Off in the cluster config.
    Off,
    /// On, but `failover.paused` (maintenance).
    Paused,
    /// On in the config, but no coordinator watches: none published, or its agent is gone.
    NoCoordinator,
    /// In the cool-down after an automatic failover, until an operator acknowledges.
    Blocked,
    /// On, and a coordinator watches the primary.
    On,
}

/// Automatic failover as the operator should see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AutoFailover {
    pub mode: AutoMode,
    /// The node whose agent leads the election (while one does).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coordinator: Option<String>,
    /// The end of the cool-down, while blocked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_until_ms: Option<i64>,
    /// Worth an operator's look: what the coordinator says when it is not simply watching an
    /// up primary (a suspected primary, a refused failover …), or why there is no coordinator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Combines the config (the truth for off and paused: the coordinator only looks once per
/// interval) with the coordinator's state at `now_ms`. `registered` says whether a node's agent
/// has its znode: the coordinator runs on its agent's session, so a leader whose agent is gone
/// is gone too (a state written before it died still names it).
pub fn judge(
    config: &FailoverConfig,
    state: &CoordinatorState,
    registered: impl Fn(&str) -> bool,
    now_ms: i64,
) -> AutoFailover {
    let mut v = AutoFailover { mode: AutoMode::On, coordinator: None, blocked_until_ms: None, reason: None };
    if !config.automatic {
        v.mode = AutoMode::Off;
        return v;
    }
    if config.paused {
        v.mode = AutoMode::Paused;
        return v;
    }
    // No coordinator outranks the cool-down: when it ends, nothing would act anyway.
    if state.leader.is_empty() || !registered(&state.leader) {
        v.mode = AutoMode::NoCoordinator;
        if !state.leader.is_empty() {
            v.reason = Some(format!("last published by {}, whose agent is gone", state.leader));
        }
        return v;
    }
    v.coordinator = Some(state.leader.clone());
    if state.blocked(now_ms) {
        v.mode = AutoMode::Blocked;
        v.blocked_until_ms = state.blocked_until_ms;
        return v;
    }
    // A reason written in another mode (a cool-down just acknowledged …) is out of date until
    // the coordinator's next look.
    if state.mode == "on" && !routine(&state.reason) {
        v.reason = Some(state.reason.clone());
    }
    v
}

impl AutoFailover {
    /// One word or two, for a header badge or a table cell.
    pub fn label(&self) -> &'static str {
        match self.mode {
            AutoMode::Off => "off",
            AutoMode::Paused => "paused",
            AutoMode::NoCoordinator => "no coordinator",
            AutoMode::Blocked => "blocked",
            AutoMode::On => "on",
        }
    }

    /// What follows "automatic failover": `ack_hint` says how the caller's front end lifts a
    /// cool-down (`myzoo ack lifts it`, `myzoo ack / :ack`).
    pub fn describe(&self, ack_hint: &str) -> String {
        match self.mode {
            AutoMode::Off => "off".into(),
            AutoMode::Paused => "paused".into(),
            AutoMode::NoCoordinator => "on — no coordinator".into(),
            AutoMode::Blocked => match self.blocked_until_ms {
                Some(until) => format!("blocked until {} UTC ({ack_hint})", utc_time(until)),
                None => format!("blocked ({ack_hint})"),
            },
            AutoMode::On => match &self.coordinator {
                Some(c) => format!("on (coordinator {c})"),
                None => "on".into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 12:00:00 UTC.
    const NOW: i64 = 1_795_694_400_000;

    fn config(automatic: bool, paused: bool) -> FailoverConfig {
        let mut c: FailoverConfig = serde_json::from_str("{}").unwrap();
        c.automatic = automatic;
        c.paused = paused;
        c
    }

    fn state(leader: &str, mode: &str, reason: &str) -> CoordinatorState {
        CoordinatorState { leader: leader.into(), mode: mode.into(), reason: reason.into(), ..Default::default() }
    }

    fn text(c: &FailoverConfig, s: &CoordinatorState) -> (String, Option<String>) {
        let v = judge(c, s, |n| n != "gone", NOW);
        (v.describe("myzoo ack / :ack"), v.reason)
    }

    #[test]
    fn each_mode_reads_as_the_operator_needs_it() {
        let up = state("db2", "on", &watching_reason("db1"));
        assert_eq!(text(&config(true, false), &up), ("on (coordinator db2)".into(), None));
        assert_eq!(text(&config(false, false), &up), ("off".into(), None), "the config is the truth for off");
        assert_eq!(text(&config(true, true), &up), ("paused".into(), None));
        assert_eq!(text(&config(false, true), &up).0, "off", "paused only matters while automatic is on");

        let mut blocked = state("db2", "blocked", "cool-down after the last automatic failover");
        blocked.last_failover_ms = Some(NOW - 60_000);
        blocked.blocked_until_ms = Some(NOW + 240_000);
        assert_eq!(
            text(&config(true, false), &blocked),
            ("blocked until 12:04:00 UTC (myzoo ack / :ack)".into(), None)
        );
        // Acknowledged after the failover: no longer blocked, and the stale reason is not shown.
        blocked.acked_ms = Some(NOW - 1_000);
        assert_eq!(text(&config(true, false), &blocked), ("on (coordinator db2)".into(), None));
        // The cool-down over.
        blocked.acked_ms = None;
        blocked.blocked_until_ms = Some(NOW);
        assert_eq!(text(&config(true, false), &blocked).0, "on (coordinator db2)");
    }

    #[test]
    fn no_coordinator_when_none_published_or_its_agent_is_gone() {
        let c = config(true, false);
        assert_eq!(text(&c, &CoordinatorState::default()), ("on — no coordinator".into(), None));
        let (line, reason) = text(&c, &state("gone", "on", "watching db1: up"));
        assert_eq!(line, "on — no coordinator");
        assert_eq!(reason.as_deref(), Some("last published by gone, whose agent is gone"));
        // Off in the config: nobody needs to coordinate.
        assert_eq!(text(&config(false, false), &CoordinatorState::default()).0, "off");
    }

    #[test]
    fn the_reason_is_shown_only_when_it_says_something() {
        let c = config(true, false);
        for reason in [
            "db1 unreachable: Connection refused: 1 of 3 confirmations",
            "db1's agent is gone, but the failover is refused: no candidate",
        ] {
            let (line, shown) = text(&c, &state("db2", "on", reason));
            assert_eq!(line, "on (coordinator db2)");
            assert_eq!(shown.as_deref(), Some(reason));
        }
        assert_eq!(text(&c, &state("db2", "on", "watching db3: up")).1, None);
        assert_eq!(text(&c, &state("db2", "on", "")).1, None);
    }

    #[test]
    fn json_names_the_mode() {
        let v = judge(&config(true, false), &CoordinatorState::default(), |_| true, NOW);
        assert_eq!(serde_json::to_value(&v).unwrap(), serde_json::json!({"mode": "no-coordinator"}));
        assert_eq!(parse_state(b"not json"), CoordinatorState::default());
    }
}
