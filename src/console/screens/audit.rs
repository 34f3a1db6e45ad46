//! The audit screen: who changed what and when, newest first, for one path or all (`A`,
//! `:audit [PATH]`); `r` reads it again.

use ratatui::layout::Rect;
use ratatui::Frame;

use super::{Nav, Screen, ScreenId};
use crate::audit::AuditRecord;
use crate::console::event::Effect;
use crate::console::keymap::{Action, Scope};
use crate::console::shared::{Cx, Shared};
use crate::console::view::audit_pane;
use crate::zk::ZkEvent;

/// The records shown and the path filter they were read with.
#[derive(Debug, Clone)]
pub struct AuditView {
    pub filter: Option<String>,
    pub records: Vec<(String, AuditRecord)>,
    pub cursor: usize,
}

#[derive(Default)]
pub struct AuditScreen {
    view: Option<AuditView>,
}

impl AuditScreen {
    pub fn view(&self) -> Option<&AuditView> {
        self.view.as_ref()
    }

    /// Records read for `filter` (newest first).
    pub fn loaded(&mut self, filter: Option<String>, records: Vec<(String, AuditRecord)>) {
        self.view = Some(AuditView { filter, records, cursor: 0 });
    }
}

impl Screen for AuditScreen {
    fn scope(&self) -> Scope {
        Scope::Audit
    }

    fn on_action(&mut self, action: Action, cx: &mut Cx<'_>) -> Nav {
        let Some(view) = self.view.as_mut() else { return Nav::Pass };
        if super::move_list_cursor(&mut view.cursor, action, view.records.len()) {
            return Nav::Done;
        }
        match action {
            Action::Reload => cx.effect(Effect::LoadAudit(view.filter.clone())),
            Action::Back => return Nav::Show(ScreenId::Tree),
            _ => return Nav::Pass,
        }
        Nav::Done
    }

    fn on_zk(&mut self, _ev: &ZkEvent, _cx: &mut Cx<'_>) -> bool {
        false
    }

    fn command(&mut self, cmd: &str, arg: &str, cx: &mut Cx<'_>) -> Option<Nav> {
        if cmd != "audit" {
            return None;
        }
        cx.effect(Effect::LoadAudit((!arg.is_empty()).then(|| arg.to_string())));
        Some(Nav::Done)
    }

    fn status_line(&self) -> String {
        match &self.view {
            Some(v) => format!("audit · {}/{}", if v.records.is_empty() { 0 } else { v.cursor + 1 }, v.records.len()),
            None => String::new(),
        }
    }

    fn draw(&self, frame: &mut Frame<'_>, area: Rect, sh: &Shared) {
        audit_pane::draw(frame, &sh.theme, self.view.as_ref(), area);
    }
}
