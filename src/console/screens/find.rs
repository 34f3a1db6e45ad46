//! The search screen: `:find PATTERN` (or `:find /path PATTERN`) searches the names and data
//! of a whole subtree in the background, with a live progress line (znodes read, rate) that
//! `esc` cancels; the results are a list whose `enter` jumps to the znode. Znodes that could
//! not be read are listed with the reason, never left out. `:secrets [/path]` runs the same walk
//! for znodes holding password-like keys in plain text (under the root by default), listing the
//! keys, never the values.

use ratatui::layout::Rect;
use ratatui::Frame;

use super::{Nav, Screen, ScreenId};
use crate::console::event::Effect;
use crate::console::keymap::{Action, Scope};
use crate::console::shared::{Cx, Shared};
use crate::console::strings;
use crate::console::view::find_pane;
use crate::zk::find::{FindProgress, Found};
use crate::zk::ZkEvent;

/// Results kept for the list; a search that finds more says so and keeps counting.
pub const FIND_RESULTS_KEPT: usize = 10_000;

/// Where a search stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindState {
    Idle,
    Running,
    Done,
    Cancelled,
    Failed(String),
}

#[derive(Debug)]
pub struct FindScreen {
    /// Job id of the current search; results of older ones are dropped.
    job: u64,
    pub root: String,
    pub pattern: String,
    /// The search is `:secrets` (password-like keys in plain text), not a pattern.
    pub secrets: bool,
    pub state: FindState,
    pub progress: FindProgress,
    pub elapsed_ms: u64,
    pub results: Vec<Found>,
    pub cursor: usize,
    /// The tree's selection when the search started: where `:find PATTERN` looks.
    default_root: String,
}

impl FindScreen {
    pub fn new(root: &str) -> FindScreen {
        FindScreen {
            job: 0,
            root: root.to_string(),
            pattern: String::new(),
            secrets: false,
            state: FindState::Idle,
            progress: FindProgress::default(),
            elapsed_ms: 0,
            results: Vec::new(),
            cursor: 0,
            default_root: root.to_string(),
        }
    }

    /// Where `:find PATTERN` without a path searches: the znode selected in the tree.
    pub fn set_default_root(&mut self, root: &str) {
        self.default_root = root.to_string();
    }

    /// Rate of the search so far, znodes per second.
    pub fn rate(&self) -> u64 {
        if self.elapsed_ms == 0 {
            return 0;
        }
        self.progress.read * 1000 / self.elapsed_ms
    }

    fn start(&mut self, root: String, pattern: String, secrets: bool, cx: &mut Cx<'_>) {
        if let Err(e) = regex::Regex::new(&pattern) {
            cx.error(format!("find: not a regular expression: {e}"));
            return;
        }
        if self.state == FindState::Running {
            cx.effect(Effect::CancelFind(self.job));
        }
        self.job += 1;
        self.root = root;
        self.pattern = pattern;
        self.secrets = secrets;
        self.state = FindState::Running;
        self.progress = FindProgress::default();
        self.elapsed_ms = 0;
        self.results.clear();
        self.cursor = 0;
        cx.effect(Effect::Find { id: self.job, root: self.root.clone(), pattern: self.pattern.clone(), secrets });
    }

    /// A batch of results from job `id`.
    pub fn found(&mut self, id: u64, items: Vec<Found>, progress: FindProgress, elapsed_ms: u64) -> bool {
        if id != self.job || self.state != FindState::Running {
            return false;
        }
        let room = FIND_RESULTS_KEPT.saturating_sub(self.results.len());
        self.results.extend(items.into_iter().take(room));
        self.progress = progress;
        self.elapsed_ms = elapsed_ms;
        true
    }

    /// Job `id` ended.
    pub fn finished(&mut self, id: u64, result: Result<FindProgress, String>, elapsed_ms: u64) -> bool {
        if id != self.job {
            return false;
        }
        self.elapsed_ms = elapsed_ms;
        match result {
            Ok(p) => {
                self.progress = p;
                if self.state == FindState::Running {
                    self.state = FindState::Done;
                }
            }
            Err(e) => self.state = FindState::Failed(e),
        }
        true
    }

    fn selected_path(&self) -> Option<&str> {
        self.results.get(self.cursor).map(|f| match f {
            Found::Match { path, .. } | Found::Unreadable { path, .. } => path.as_str(),
        })
    }
}

impl Screen for FindScreen {
    fn scope(&self) -> Scope {
        Scope::Find
    }

    fn on_action(&mut self, action: Action, cx: &mut Cx<'_>) -> Nav {
        if super::move_list_cursor(&mut self.cursor, action, self.results.len()) {
            return Nav::Done;
        }
        match action {
            Action::Toggle | Action::Expand => {
                if let Some(path) = self.selected_path() {
                    return Nav::Goto(path.to_string());
                }
            }
            Action::Back if self.state == FindState::Running => {
                cx.effect(Effect::CancelFind(self.job));
                self.state = FindState::Cancelled;
            }
            Action::Back => return Nav::Show(ScreenId::Tree),
            Action::Reload if !self.pattern.is_empty() || self.secrets => {
                let (root, pattern) = (self.root.clone(), self.pattern.clone());
                self.start(root, pattern, self.secrets, cx);
            }
            _ => return Nav::Pass,
        }
        Nav::Done
    }

    fn on_zk(&mut self, _ev: &ZkEvent, _cx: &mut Cx<'_>) -> bool {
        false
    }

    fn command(&mut self, cmd: &str, arg: &str, cx: &mut Cx<'_>) -> Option<Nav> {
        if cmd == "secrets" {
            let root = if arg.is_empty() { cx.shared.root.clone() } else { arg.to_string() };
            if !root.starts_with('/') || root.contains(char::is_whitespace) {
                cx.error(strings::SECRETS_USAGE);
                return Some(Nav::Done);
            }
            self.start(root, String::new(), true, cx);
            return Some(Nav::Show(ScreenId::Find));
        }
        if !matches!(cmd, "find" | "f") {
            return None;
        }
        let (root, pattern) = match arg.split_once(char::is_whitespace) {
            Some((root, pattern)) if root.starts_with('/') => (root.to_string(), pattern.trim().to_string()),
            _ => (self.default_root.clone(), arg.to_string()),
        };
        if pattern.is_empty() {
            cx.error(strings::FIND_USAGE);
            return Some(Nav::Done);
        }
        self.start(root, pattern, false, cx);
        Some(Nav::Show(ScreenId::Find))
    }

    fn status_line(&self) -> String {
        let counts = format!(
            "{} znodes read ({}/s), {} matched, {} unreadable",
            self.progress.read,
            self.rate(),
            self.progress.matched,
            self.progress.unreadable
        );
        let what = if self.secrets {
            format!("{} under {}", strings::SECRETS_SEARCH, self.root)
        } else {
            format!("find {:?} under {}", self.pattern, self.root)
        };
        match &self.state {
            FindState::Idle => strings::FIND_USAGE.to_string(),
            FindState::Running => format!("{what}: {counts} · esc stops"),
            FindState::Done => format!("{what}: done in {} ms, {counts}", self.elapsed_ms),
            FindState::Cancelled => format!("{what}: stopped, {counts}"),
            FindState::Failed(e) => format!("{what}: failed after {counts}: {e}"),
        }
    }

    fn draw(&self, frame: &mut Frame<'_>, area: Rect, sh: &Shared) {
        find_pane::draw(frame, &sh.theme, self, area);
    }
}
