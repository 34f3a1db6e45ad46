//! The one-line input at the bottom: the `:` command line, the `/` filter that applies as it
//! is typed, and the note asked for a new snapshot. Enter, esc and backspace come from the
//! keymap's `Input` scope; other characters are text.

use crossterm::event::KeyEvent;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::Layer;
use crate::console::editor::typed_char;
use crate::console::keymap::{Action, Key, KeyMap, Scope};
use crate::console::screens::backups::BackupRequest;
use crate::console::screens::Nav;
use crate::console::strings;
use crate::console::theme::Theme;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Command,
    Filter,
    /// The note of a new snapshot (the backups screen's `b`): enter takes the snapshot.
    SnapshotNote,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub kind: InputKind,
    pub text: String,
}

impl Input {
    pub fn command() -> Input {
        Input { kind: InputKind::Command, text: String::new() }
    }

    pub fn snapshot_note() -> Input {
        Input { kind: InputKind::SnapshotNote, text: String::new() }
    }

    pub fn filter(text: String) -> Input {
        Input { kind: InputKind::Filter, text }
    }

    pub fn on_key(&mut self, key: KeyEvent, keymap: &KeyMap) -> Layer {
        let filter = self.kind == InputKind::Filter;
        let changed = match (keymap.lookup(Key::from_event(&key), Scope::Input), typed_char(&key)) {
            (_, Some(c)) => {
                self.text.push(c);
                true
            }
            (Some(Action::Cancel), _) if filter => return Layer::FilterClosed(None),
            (Some(Action::Cancel), _) => return Layer::Close,
            (Some(Action::Submit), _) if filter => return Layer::Close,
            (Some(Action::Submit), _) if self.kind == InputKind::SnapshotNote => {
                let note = std::mem::take(&mut self.text);
                return Layer::Then(Nav::Backup(BackupRequest::Snapshot { note }));
            }
            (Some(Action::Submit), _) => return Layer::Command(std::mem::take(&mut self.text)),
            (Some(Action::DeleteChar), _) => self.text.pop().is_some(),
            _ => false,
        };
        if changed && filter {
            Layer::Filter(Some(self.text.clone()))
        } else {
            Layer::Stay
        }
    }

    pub fn draw(&self, frame: &mut Frame<'_>, t: &Theme, area: Rect) {
        let prompt = match self.kind {
            InputKind::Command => strings::command_prompt(),
            InputKind::Filter => strings::filter_prompt(),
            InputKind::SnapshotNote => strings::SNAPSHOT_NOTE_PROMPT,
        };
        let x = area.x + (prompt.chars().count() + self.text.chars().count()) as u16;
        frame.set_cursor_position(Position::new(x.min(area.right().saturating_sub(1)), area.y));
        let line = Line::from(vec![Span::styled(prompt, t.hint_key), Span::styled(self.text.as_str(), t.input)]);
        frame.render_widget(Paragraph::new(line), area);
    }
}
