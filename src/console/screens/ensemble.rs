//! The ensemble screen (`Z` from anywhere, `:ensemble`): every ZooKeeper member with its mode,
//! zxid and lag, latency, requests, connections and counts, the quorum's verdict, and which
//! member this console's session is on. The executor asks the members (`Effect::LoadEnsemble`
//! → `zk::ensemble::read` → `Event::EnsembleLoaded`); the screen asks again every
//! [`REFRESH_MS`] only while it is shown, never while an answer is still awaited, and does no
//! work at all on ticks while hidden.

use std::time::{Duration, SystemTime};

use ratatui::layout::Rect;
use ratatui::Frame;

use super::{Nav, Screen, ScreenId};
use crate::console::event::Effect;
use crate::console::keymap::{Action, Scope};
use crate::console::shared::{Cx, Shared};
use crate::console::strings;
use crate::console::view::ensemble_pane;
use crate::zk::ensemble::EnsembleReport;
use crate::zk::ZkEvent;

/// How often the members are asked while the screen is shown.
pub const REFRESH_MS: u64 = 2_000;
/// Ticks come every second: an ask is due this long after the last one, so that every second
/// tick asks (ticks jitter by a few milliseconds).
const DUE_AFTER_MS: u64 = REFRESH_MS - 500;

/// What the painter reads.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EnsembleView {
    /// The last answer (kept while a newer one is awaited or an ask fails).
    pub report: Option<Box<EnsembleReport>>,
    /// Why the last ask failed.
    pub error: Option<String>,
    pub cursor: usize,
    /// An answer is awaited.
    pub asking: bool,
}

impl EnsembleView {
    pub fn selected(&self) -> Option<&crate::zk::ensemble::MemberReport> {
        self.report.as_ref()?.members.get(self.cursor)
    }
}

#[derive(Debug, Default)]
pub struct EnsembleScreen {
    view: EnsembleView,
    /// The newest request; older answers are dropped.
    seq: u64,
    /// When the last request went out (the app's clock).
    asked_at: Option<SystemTime>,
    /// Requests made since start: what the tests count to prove a hidden screen stays idle.
    asks: u64,
    /// On screen (between `on_show` and `on_hide`).
    shown: bool,
}

impl EnsembleScreen {
    pub fn new() -> EnsembleScreen {
        EnsembleScreen::default()
    }

    pub fn view(&self) -> &EnsembleView {
        &self.view
    }

    /// How many times the screen has asked the members.
    pub fn asks(&self) -> u64 {
        self.asks
    }

    fn ask(&mut self, cx: &mut Cx<'_>) {
        self.seq += 1;
        self.asks += 1;
        self.asked_at = Some(cx.shared.now);
        self.view.asking = true;
        cx.effect(Effect::LoadEnsemble { seq: self.seq });
    }

    /// The executor's answer; an answer to an older request is dropped. Returns whether the
    /// view changed.
    pub fn loaded(&mut self, seq: u64, result: Result<Box<EnsembleReport>, String>) -> bool {
        if seq != self.seq {
            return false;
        }
        self.view.asking = false;
        match result {
            Ok(report) => {
                // Keep the same member selected when the list changes around it.
                let selected = self.view.selected().map(|m| m.address.clone());
                let len = report.members.len();
                self.view.cursor = selected
                    .and_then(|a| report.members.iter().position(|m| m.address == a))
                    .unwrap_or(self.view.cursor)
                    .min(len.saturating_sub(1));
                self.view.report = Some(report);
                self.view.error = None;
            }
            Err(e) => self.view.error = Some(e),
        }
        true
    }

    fn due(&self, now: SystemTime) -> bool {
        match self.asked_at {
            None => true,
            Some(at) => now.duration_since(at).unwrap_or(Duration::ZERO) >= Duration::from_millis(DUE_AFTER_MS),
        }
    }
}

impl Screen for EnsembleScreen {
    fn scope(&self) -> Scope {
        Scope::Ensemble
    }

    fn on_action(&mut self, action: Action, cx: &mut Cx<'_>) -> Nav {
        let len = self.view.report.as_ref().map_or(0, |r| r.members.len());
        if super::move_list_cursor(&mut self.view.cursor, action, len) {
            return Nav::Done;
        }
        match action {
            Action::Reload if !self.view.asking => self.ask(cx),
            Action::Reload => {}
            Action::Back => return Nav::Show(ScreenId::Cluster),
            _ => return Nav::Pass,
        }
        Nav::Done
    }

    fn on_zk(&mut self, _ev: &ZkEvent, _cx: &mut Cx<'_>) -> bool {
        false
    }

    /// Asks again every [`REFRESH_MS`] while shown and no answer is awaited; hidden, nothing.
    fn on_tick(&mut self, shown: bool, cx: &mut Cx<'_>) -> bool {
        if shown && !self.view.asking && self.due(cx.shared.now) {
            self.ask(cx);
        }
        false
    }

    fn on_show(&mut self, cx: &mut Cx<'_>) {
        self.shown = true;
        if !self.view.asking {
            self.ask(cx);
        }
    }

    fn on_hide(&mut self) {
        self.shown = false;
    }

    fn reload(&mut self, cx: &mut Cx<'_>) {
        // `:reload` reads again what is shown; a hidden ensemble screen shows nothing.
        if self.shown && !self.view.asking {
            self.ask(cx);
        }
    }

    fn command(&mut self, cmd: &str, _arg: &str, _cx: &mut Cx<'_>) -> Option<Nav> {
        (cmd == "ensemble").then_some(Nav::Show(ScreenId::Ensemble))
    }

    fn status_line(&self) -> String {
        let report = self.view.report.as_ref();
        let asked = report.map(|r| crate::zk::format::utc_time(r.observed_at_ms));
        strings::ensemble_status_line(report.map_or(0, |r| r.members.len()), asked.as_deref(), REFRESH_MS / 1000)
    }

    fn draw(&self, frame: &mut Frame<'_>, area: Rect, sh: &Shared) {
        ensemble_pane::draw(frame, sh, &self.view, area);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::keymap::KeyMap;
    use crate::console::shared::Notices;
    use crate::console::theme::Theme;
    use std::time::UNIX_EPOCH;

    fn shared(now: SystemTime) -> Shared {
        Shared {
            label: "t".into(),
            root: "/myzoo".into(),
            read_only: false,
            drafts_dir: std::env::temp_dir(),
            theme: Theme::builtin("dark").unwrap(),
            keymap: KeyMap::default(),
            size: (80, 24),
            now,
            session: crate::zk::SessionBadge::Connected,
            session_member: None,
            stale_since: None,
            generation: 1,
            revealed: Default::default(),
            zk_auth: None,
            auth_problem: None,
        }
    }

    fn t(s: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_800_000_000 + s)
    }

    fn report() -> Box<EnsembleReport> {
        Box::new(EnsembleReport {
            observed_at_ms: 0,
            elapsed_ms: 1,
            members: Vec::new(),
            judgement: crate::zk::ensemble::verdict::judge(&[]),
            session_member: None,
            notes: Vec::new(),
        })
    }

    /// Runs `f` at `now`; returns the effects it asked for.
    fn at<T>(now: u64, f: impl FnOnce(&mut Cx<'_>) -> T) -> (T, Vec<Effect>) {
        let sh = shared(t(now));
        let mut notices = Notices::default();
        let mut effects = Vec::new();
        let out = f(&mut Cx::new(&sh, &mut effects, &mut notices));
        (out, effects)
    }

    #[test]
    fn asks_every_two_seconds_while_shown_and_never_while_hidden() {
        let mut s = EnsembleScreen::new();
        // Hidden from the start: ticks do nothing.
        for sec in 0..10 {
            let (redraw, fx) = at(sec, |cx| s.on_tick(false, cx));
            assert!(!redraw && fx.is_empty(), "tick {sec} while hidden");
        }
        assert_eq!(s.asks(), 0);
        // Shown: at once, then every second tick once the answer is in.
        let ((), fx) = at(10, |cx| s.on_show(cx));
        assert_eq!(fx, vec![Effect::LoadEnsemble { seq: 1 }]);
        let (_, fx) = at(11, |cx| s.on_tick(true, cx));
        assert!(fx.is_empty(), "not due yet");
        let (_, fx) = at(12, |cx| s.on_tick(true, cx));
        assert!(fx.is_empty(), "due, but the first answer is still awaited");
        assert!(s.loaded(1, Ok(report())));
        let (_, fx) = at(12, |cx| s.on_tick(true, cx));
        assert_eq!(fx, vec![Effect::LoadEnsemble { seq: 2 }]);
        assert!(s.loaded(2, Ok(report())));
        let (_, fx) = at(13, |cx| s.on_tick(true, cx));
        assert!(fx.is_empty());
        let (_, fx) = at(14, |cx| s.on_tick(true, cx));
        assert_eq!(fx, vec![Effect::LoadEnsemble { seq: 3 }]);
        assert_eq!(s.asks(), 3);
        // Hidden again: its answer still lands, and then nothing more is asked, not even by
        // `:reload`.
        s.on_hide();
        assert!(s.loaded(3, Ok(report())));
        let ((), fx) = at(15, |cx| s.reload(cx));
        assert!(fx.is_empty(), ":reload while hidden");
        for sec in 15..30 {
            let (redraw, fx) = at(sec, |cx| s.on_tick(false, cx));
            assert!(!redraw && fx.is_empty(), "tick {sec} while hidden");
        }
        assert_eq!(s.asks(), 3);
    }

    #[test]
    fn old_answers_are_dropped_and_errors_keep_the_last_report() {
        let mut s = EnsembleScreen::new();
        at(0, |cx| s.on_show(cx));
        assert!(s.loaded(1, Ok(report())));
        let (nav, fx) = at(1, |cx| s.on_action(Action::Reload, cx));
        assert!(matches!(nav, Nav::Done));
        assert_eq!(fx, vec![Effect::LoadEnsemble { seq: 2 }]);
        // A second r while asking does not stack another ask.
        let (_, fx) = at(1, |cx| s.on_action(Action::Reload, cx));
        assert!(fx.is_empty());
        assert!(!s.loaded(1, Err("late".into())), "an older answer is dropped");
        assert!(s.loaded(2, Err("no connect string".into())));
        assert_eq!(s.view().error.as_deref(), Some("no connect string"));
        assert!(s.view().report.is_some(), "the last report stays on screen");
        let (nav, _) = at(1, |cx| s.on_action(Action::Back, cx));
        assert!(matches!(nav, Nav::Show(ScreenId::Cluster)));
        let (nav, _) = at(1, |cx| s.command("ensemble", "", cx));
        assert!(matches!(nav, Some(Nav::Show(ScreenId::Ensemble))));
    }
}
