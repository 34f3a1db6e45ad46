//! The failover screen for the cluster chosen on the cluster screen: the operation in progress
//! (from its journal record under `<cluster>/history/`, so operations started by another
//! console, the CLI or the coordinator show just the same), who holds the cluster lock, the
//! plan asked for with `S` (run with `X` after a confirmation), and the history of past
//! operations (`enter` shows one record's steps).
//!
//! Everything it shows comes from the watch (`history` and `lock` children) except the plan,
//! which the executor makes off the loop (`Effect::PlanOperation` → `Event::Planned`).

use std::collections::BTreeMap;

use ratatui::layout::Rect;
use ratatui::Frame;

use super::{Nav, Screen, ScreenId};
use crate::cluster::ClusterPaths;
use crate::console::dialogs::RunConfirm;
use crate::console::event::{Effect, OperationError, Planned};
use crate::console::keymap::{Action, Scope};
use crate::console::overlays::Overlay;
use crate::console::shared::{Cx, Shared};
use crate::console::strings;
use crate::console::view::failover_pane;
use crate::failover::journal::{parse_record, OpState, Record, RECORD_PREFIX};
use crate::failover::lock::{LockInfo, LOCK_PREFIX};
use crate::failover::plan::OpKind;
use crate::zk::watch::Interest;
use crate::zk::{base_name, parent_path, NodeInfo, ZkEvent};

/// A plan older than this is not run: the cluster may have moved since its probes.
pub const PLAN_MAX_AGE_MS: i64 = 60_000;

/// The plan part of the screen.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanState {
    None,
    /// Asked for as job `id`; the executor is probing.
    Requested {
        id: u64,
        kind: OpKind,
        cluster: String,
    },
    /// Made at `at_ms` (console clock).
    Ready {
        id: u64,
        cluster: String,
        planned: Planned,
        at_ms: i64,
    },
    /// Could not be made.
    Failed {
        kind: OpKind,
        cluster: String,
        error: String,
    },
}

/// What the painter reads: a pure snapshot of the screen's state.
#[derive(Debug, Clone, PartialEq)]
pub struct FailoverView {
    pub cluster: Option<String>,
    /// Record paths (`op-NNNNNNNNNN`) with the parsed records.
    pub history: BTreeMap<String, Result<Record, String>>,
    /// Whether the history has been read once (an empty map then means "none yet").
    pub history_loaded: bool,
    /// Lock contenders by path (lowest sequence holds it).
    pub lock: BTreeMap<String, Option<LockInfo>>,
    pub plan: PlanState,
    /// The latest record this console's own run reported (ahead of the watch by a little).
    pub local: Option<(u64, Record)>,
    /// Cursor in the history list (newest first).
    pub cursor: usize,
    /// The history record whose steps are shown instead of the current operation.
    pub detail: Option<String>,
}

impl FailoverView {
    /// The history, newest first.
    pub fn entries(&self) -> impl Iterator<Item = (&String, &Result<Record, String>)> {
        self.history.iter().rev()
    }

    /// Who holds the cluster lock now, if anyone.
    pub fn lock_holder(&self) -> Option<&LockInfo> {
        self.lock.iter().min_by_key(|(p, _)| sequence(p)).and_then(|(_, info)| info.as_ref())
    }

    /// Whether the lock is held at all (a holder whose znode cannot be read still holds it).
    pub fn lock_held(&self) -> bool {
        !self.lock.is_empty()
    }

    /// The operation shown at the top, and its journal path if known: the record chosen with
    /// `enter`; else one still running (the journal's, else our own run's report); else the
    /// latest one.
    pub fn current(&self) -> Option<(Option<&str>, &Record)> {
        if let Some(path) = &self.detail {
            if let Some(Ok(r)) = self.history.get(path) {
                return Some((Some(path.as_str()), r));
            }
        }
        let newest = self.history.iter().rev().find_map(|(p, r)| r.as_ref().ok().map(|r| (p.as_str(), r)));
        let running = self
            .history
            .iter()
            .rev()
            .find_map(|(p, r)| r.as_ref().ok().filter(|r| r.state == OpState::Running).map(|r| (p.as_str(), r)));
        if let Some((p, r)) = running {
            // Our own run's report may be a step ahead of the watch for the same operation.
            if let Some((_, local)) = &self.local {
                if local.started_ms == r.started_ms && local.owner == r.owner {
                    return Some((Some(p), local));
                }
            }
            return Some((Some(p), r));
        }
        match (&self.local, newest) {
            (Some((_, local)), Some((_, r))) if local.started_ms > r.started_ms => Some((None, local)),
            (Some((_, local)), None) => Some((None, local)),
            (_, Some((p, r))) => Some((Some(p), r)),
            (None, None) => None,
        }
    }
}

/// The sequence number of a lock contender's or record's znode (others sort last).
fn sequence(path: &str) -> i64 {
    let name = base_name(path);
    name.strip_prefix(LOCK_PREFIX).and_then(|s| s.parse().ok()).unwrap_or(i64::MAX)
}

pub struct FailoverScreen {
    root: String,
    view: FailoverView,
    /// Whether the history was asked for (on first show, for this cluster).
    history_requested: bool,
    next_id: u64,
    /// This console's operation in progress, by job id.
    running: Option<u64>,
}

impl FailoverScreen {
    pub fn new(root: &str) -> FailoverScreen {
        FailoverScreen {
            root: root.trim_end_matches('/').to_string(),
            view: FailoverView {
                cluster: None,
                history: BTreeMap::new(),
                history_loaded: false,
                lock: BTreeMap::new(),
                plan: PlanState::None,
                local: None,
                cursor: 0,
                detail: None,
            },
            history_requested: false,
            next_id: 0,
            running: None,
        }
    }

    pub fn view(&self) -> &FailoverView {
        &self.view
    }

    /// Whether this console runs an operation now.
    pub fn running(&self) -> bool {
        self.running.is_some()
    }

    fn paths(&self) -> Option<ClusterPaths> {
        self.view.cluster.as_deref().map(|c| ClusterPaths::new(&self.root, c))
    }

    /// Follows the cluster chosen on the cluster screen: a new one starts afresh (its lock is
    /// read at once, for the header; its history when the screen is first shown).
    pub fn follow(&mut self, cluster: Option<&str>, cx: &mut Cx<'_>) {
        if self.view.cluster.as_deref() == cluster {
            return;
        }
        self.view.cluster = cluster.map(str::to_string);
        self.view.history.clear();
        self.view.history_loaded = false;
        self.view.lock.clear();
        self.view.cursor = 0;
        self.view.detail = None;
        self.view.local = None;
        self.view.plan = PlanState::None;
        self.history_requested = false;
        if let Some(p) = self.paths() {
            cx.effect(Effect::LoadChildren(p.lock_dir()));
        }
    }

    /// Asks the executor for a plan of `kind` for the cluster shown.
    /// `to`: the node to promote or, for a rejoin, the node to rejoin.
    pub fn request_plan(&mut self, kind: OpKind, to: Option<String>, cx: &mut Cx<'_>) {
        let Some(cluster) = self.view.cluster.clone() else {
            cx.error(strings::NO_CLUSTER_SELECTED);
            return;
        };
        if let PlanState::Requested { .. } = self.view.plan {
            cx.info(strings::PLAN_IN_PROGRESS);
            return;
        }
        self.next_id += 1;
        let id = self.next_id;
        self.view.plan = PlanState::Requested { id, kind, cluster: cluster.clone() };
        self.view.detail = None;
        cx.effect(Effect::PlanOperation { id, kind, cluster, to });
    }

    /// The executor's answer to a plan request; a stale answer (another cluster, an older
    /// request) is dropped.
    pub fn planned(&mut self, id: u64, cluster: &str, kind: OpKind, result: Result<Planned, String>, cx: &mut Cx<'_>) {
        let wanted = matches!(&self.view.plan, PlanState::Requested { id: want, .. } if *want == id);
        if !wanted || self.view.cluster.as_deref() != Some(cluster) {
            return;
        }
        self.view.plan = match result {
            Ok(planned) => {
                if !planned.plan.can_run() {
                    cx.error(strings::plan_refused(kind, &planned.plan.refusals));
                } else if cx.shared.read_only {
                    cx.info(strings::READ_ONLY_PLAN_ONLY);
                }
                PlanState::Ready { id, cluster: cluster.to_string(), planned, at_ms: cx.shared.now_ms() }
            }
            Err(error) => {
                cx.error(strings::plan_failed(kind, &error));
                PlanState::Failed { kind, cluster: cluster.to_string(), error }
            }
        };
    }

    /// A record our own run reported.
    pub fn reported(&mut self, id: u64, record: Record) -> bool {
        if self.running != Some(id) && !matches!(&self.view.plan, PlanState::Ready { id: p, .. } if *p == id) {
            return false;
        }
        self.running = (record.state == OpState::Running).then_some(id).or(self.running);
        if matches!(&self.view.plan, PlanState::Ready { id: p, .. } if *p == id) {
            // The plan is being carried out: the operation section takes over.
            self.view.plan = PlanState::None;
        }
        self.view.detail = None;
        self.view.local = Some((id, record));
        true
    }

    /// Our own run ended: the notice, and the plan it consumed goes.
    pub fn ended(
        &mut self,
        id: u64,
        kind: OpKind,
        result: Result<Box<Record>, OperationError>,
        cx: &mut Cx<'_>,
    ) -> bool {
        if self.running == Some(id) {
            self.running = None;
        }
        if matches!(&self.view.plan, PlanState::Ready { id: p, .. } if *p == id) {
            self.view.plan = PlanState::None;
        }
        match result {
            Ok(record) => {
                let text = strings::operation_ended(&record);
                if record.state == OpState::Done {
                    cx.info(text);
                } else {
                    cx.error(text);
                }
                self.view.local = Some((id, *record));
            }
            Err(OperationError::Refused(why)) => cx.error(strings::operation_refused(kind, &why)),
            Err(OperationError::Failed(why)) => cx.error(strings::operation_failed(kind, &why)),
        }
        true
    }

    /// `X`: checks that the plan on screen may run, then asks for the confirmation.
    fn confirm_run(&mut self, cx: &mut Cx<'_>) -> Nav {
        let PlanState::Ready { id, cluster, planned, at_ms } = &self.view.plan else {
            cx.error(strings::NO_PLAN_TO_RUN);
            return Nav::Done;
        };
        if cx.shared.read_only {
            cx.error(strings::READ_ONLY_REFUSED_RUN);
            return Nav::Done;
        }
        if !planned.plan.can_run() {
            cx.error(strings::plan_refused(planned.plan.kind, &planned.plan.refusals));
            return Nav::Done;
        }
        if self.running.is_some() {
            cx.error(strings::ALREADY_RUNNING);
            return Nav::Done;
        }
        if let Some(holder) = self.view.lock_holder() {
            cx.error(strings::lock_busy(holder));
            return Nav::Done;
        }
        let age_ms = cx.shared.now_ms().saturating_sub(*at_ms);
        if age_ms > PLAN_MAX_AGE_MS {
            cx.error(strings::plan_too_old(age_ms / 1000));
            return Nav::Done;
        }
        let confirm = RunConfirm::new(*id, cluster.clone(), (*planned.plan).clone(), planned.production);
        Nav::Open(Overlay::Run(Box::new(confirm)))
    }

    fn is_history(&self, path: &str) -> Option<()> {
        let p = self.paths()?;
        (parent_path(path) == p.history_dir() && base_name(path).starts_with(RECORD_PREFIX)).then_some(())
    }

    fn is_lock(&self, path: &str) -> Option<()> {
        let p = self.paths()?;
        (parent_path(path) == p.lock_dir()).then_some(())
    }

    fn apply_node(&mut self, info: &NodeInfo) -> bool {
        if self.is_lock(&info.path).is_some() {
            self.view.lock.insert(info.path.clone(), serde_json::from_slice(&info.data).ok());
            return true;
        }
        if self.is_history(&info.path).is_some() && self.history_requested {
            self.view.history.insert(info.path.clone(), parse_record(&info.data));
            return true;
        }
        false
    }

    fn apply_children(&mut self, parent: &str, children: &[NodeInfo]) -> bool {
        let Some(p) = self.paths() else { return false };
        if parent == p.lock_dir() {
            self.view.lock = children.iter().map(|c| (c.path.clone(), serde_json::from_slice(&c.data).ok())).collect();
            return true;
        }
        if parent == p.history_dir() && self.history_requested {
            self.view.history = children
                .iter()
                .filter(|c| base_name(&c.path).starts_with(RECORD_PREFIX))
                .map(|c| (c.path.clone(), parse_record(&c.data)))
                .collect();
            self.view.history_loaded = true;
            self.clamp_cursor();
            return true;
        }
        false
    }

    fn clamp_cursor(&mut self) {
        self.view.cursor = self.view.cursor.min(self.view.history.len().saturating_sub(1));
    }

    fn load_history(&mut self, cx: &mut Cx<'_>) {
        if let Some(p) = self.paths() {
            self.history_requested = true;
            cx.effect(Effect::LoadChildren(p.history_dir()));
        }
    }
}

impl Screen for FailoverScreen {
    fn scope(&self) -> Scope {
        Scope::Failover
    }

    fn on_action(&mut self, action: Action, cx: &mut Cx<'_>) -> Nav {
        let len = self.view.history.len();
        if super::move_list_cursor(&mut self.view.cursor, action, len) {
            return Nav::Done;
        }
        match action {
            Action::PlanSwitchover => self.request_plan(OpKind::Switchover, None, cx),
            Action::PlanFailover => self.request_plan(OpKind::Failover, None, cx),
            Action::RunPlan => return self.confirm_run(cx),
            Action::Toggle => {
                let at = self.view.entries().nth(self.view.cursor).map(|(p, _)| p.clone());
                self.view.detail = if self.view.detail == at { None } else { at };
            }
            Action::Reload => self.reload(cx),
            Action::Back if self.view.detail.is_some() => self.view.detail = None,
            Action::Back => return Nav::Show(ScreenId::Cluster),
            _ => return Nav::Pass,
        }
        Nav::Done
    }

    fn on_zk(&mut self, ev: &ZkEvent, cx: &mut Cx<'_>) -> bool {
        match ev {
            ZkEvent::Ready { .. } => {
                self.reload(cx);
                false
            }
            ZkEvent::Children { parent, children, .. } => self.apply_children(&parent.path, children),
            ZkEvent::Node(info) => self.apply_node(info),
            ZkEvent::Deleted { path } => {
                if self.is_lock(path).is_some() {
                    return self.view.lock.remove(path).is_some();
                }
                if self.is_history(path).is_some() {
                    let gone = self.view.history.remove(path).is_some();
                    self.clamp_cursor();
                    return gone;
                }
                false
            }
            // An absent folder is an answer: nothing locked, no history yet.
            ZkEvent::Failed { path, transient: false, .. } => match self.paths() {
                Some(p) if *path == p.lock_dir() => {
                    self.view.lock.clear();
                    true
                }
                Some(p) if *path == p.history_dir() && self.history_requested => {
                    self.view.history.clear();
                    self.view.history_loaded = true;
                    true
                }
                _ => false,
            },
            _ => false,
        }
    }

    /// The plan's age and a running step's time move while they are on screen.
    fn on_tick(&mut self, shown: bool, _cx: &mut Cx<'_>) -> bool {
        let running = self.view.current().is_some_and(|(_, r)| r.state == OpState::Running);
        shown && (running || matches!(self.view.plan, PlanState::Ready { .. } | PlanState::Requested { .. }))
    }

    fn on_show(&mut self, cx: &mut Cx<'_>) {
        if !self.history_requested {
            self.load_history(cx);
        }
    }

    fn reload(&mut self, cx: &mut Cx<'_>) {
        let Some(p) = self.paths() else { return };
        cx.effect(Effect::LoadChildren(p.lock_dir()));
        if self.history_requested {
            cx.effect(Effect::LoadChildren(p.history_dir()));
        }
    }

    fn command(&mut self, cmd: &str, _arg: &str, _cx: &mut Cx<'_>) -> Option<Nav> {
        (cmd == "failover" || cmd == "ops").then_some(Nav::Show(ScreenId::Failover))
    }

    fn interest(&self, interest: &mut Interest) {
        let Some(p) = self.paths() else { return };
        interest.parents.insert(p.lock_dir());
        if self.history_requested {
            interest.parents.insert(p.history_dir());
        }
    }

    fn interest_version(&self) -> u64 {
        let name = self.view.cluster.as_deref().unwrap_or_default();
        let h = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
        h ^ u64::from(self.history_requested)
    }

    fn status_line(&self) -> String {
        let name = self.view.cluster.as_deref().unwrap_or("-");
        let total = self.view.history.len();
        let pos = if total == 0 { 0 } else { self.view.cursor + 1 };
        strings::failover_status_line(name, pos, total)
    }

    fn draw(&self, frame: &mut Frame<'_>, area: Rect, sh: &Shared) {
        failover_pane::draw(frame, sh, &self.view, area);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lowest_contender_holds_the_lock() {
        let mut v = FailoverScreen::new("/myzoo").view;
        let info = |user: &str| {
            Some(LockInfo {
                operation: "switchover".into(),
                user: user.into(),
                host: "h".into(),
                pid: 1,
                origin: "cli".into(),
                since_ms: 0,
            })
        };
        v.lock.insert("/myzoo/clusters/c/lock/op-0000000010".into(), info("late"));
        v.lock.insert("/myzoo/clusters/c/lock/op-0000000009".into(), info("first"));
        assert_eq!(v.lock_holder().map(|l| l.user.as_str()), Some("first"));
        assert!(v.lock_held());
    }
}
