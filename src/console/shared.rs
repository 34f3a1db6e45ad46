//! What every screen and overlay may read — how the console was started, the clock, the
//! ZooKeeper session, theme and keys, the secrets revealed in this session — and [`Cx`], the
//! context through which they ask for I/O and post notices. Only `App` changes [`Shared`].

use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::event::Effect;
use super::keymap::KeyMap;
use super::theme::Theme;
use crate::zk::SessionBadge;

/// How long a notice stays in the status line.
pub const NOTICE_TTL_MS: u64 = 5_000;
/// Notices kept at once (older ones drop off).
const NOTICES_KEPT: usize = 3;

/// State shared by every screen and overlay.
#[derive(Debug, Clone)]
pub struct Shared {
    /// The profile or connect string, for the header.
    pub label: String,
    pub root: String,
    pub read_only: bool,
    /// Where unsaved edits are kept (`<state>/drafts`).
    pub drafts_dir: PathBuf,
    pub theme: Theme,
    pub keymap: KeyMap,
    pub size: (u16, u16),
    pub now: SystemTime,
    pub session: SessionBadge,
    /// The member the session is on (`host:port`), while connected.
    pub session_member: Option<String>,
    /// Since when the data on screen may be old (disconnected, expired, not yet reloaded).
    pub stale_since: Option<SystemTime>,
    /// The session generation (a new one after expiry); 0 before the first session.
    pub generation: u64,
    /// Znodes whose secrets the operator revealed (an audited action) in this session.
    pub revealed: HashSet<String>,
    /// The credential this console authenticates with, as it may be shown (`digest myzoo`).
    pub zk_auth: Option<String>,
    /// What is wrong with that credential (a wrong password), once checked.
    pub auth_problem: Option<String>,
}

impl Shared {
    pub fn now_ms(&self) -> i64 {
        self.now.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
    }

    pub fn connected(&self) -> bool {
        matches!(self.session, SessionBadge::Connected | SessionBadge::ConnectedReadOnly)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeLevel {
    Info,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub level: NoticeLevel,
    pub expires_at: SystemTime,
}

/// The status line's notices, newest last.
#[derive(Debug, Clone, Default)]
pub struct Notices {
    items: VecDeque<Notice>,
}

impl Notices {
    pub fn push(&mut self, now: SystemTime, level: NoticeLevel, text: String) {
        match level {
            NoticeLevel::Error => tracing::warn!(notice = %text),
            NoticeLevel::Info => tracing::info!(notice = %text),
        }
        self.items.push_back(Notice { text, level, expires_at: now + Duration::from_millis(NOTICE_TTL_MS) });
        while self.items.len() > NOTICES_KEPT {
            self.items.pop_front();
        }
    }

    /// Drops expired notices; returns whether any went.
    pub fn expire(&mut self, now: SystemTime) -> bool {
        let before = self.items.len();
        self.items.retain(|n| n.expires_at > now);
        self.items.len() != before
    }

    pub fn latest(&self) -> Option<&Notice> {
        self.items.back()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Notice> {
        self.items.iter()
    }
}

/// Handed to a screen or overlay while it handles something: read the shared state, ask for
/// I/O, post a notice.
pub struct Cx<'a> {
    pub shared: &'a Shared,
    effects: &'a mut Vec<Effect>,
    notices: &'a mut Notices,
}

impl<'a> Cx<'a> {
    pub fn new(shared: &'a Shared, effects: &'a mut Vec<Effect>, notices: &'a mut Notices) -> Cx<'a> {
        Cx { shared, effects, notices }
    }

    pub fn effect(&mut self, effect: Effect) {
        self.effects.push(effect);
    }

    pub fn effects(&mut self, effects: impl IntoIterator<Item = Effect>) {
        self.effects.extend(effects);
    }

    pub fn notify(&mut self, level: NoticeLevel, text: impl Into<String>) {
        self.notices.push(self.shared.now, level, text.into());
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.notify(NoticeLevel::Error, text);
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.notify(NoticeLevel::Info, text);
    }
}
