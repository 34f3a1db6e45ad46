//! The one-line input at the bottom: the `:` command line, and the `/` filter that applies
//! as it is typed.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::Layer;
use crate::console::strings;
use crate::console::theme::Theme;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Command,
    Filter,
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

    pub fn filter(text: String) -> Input {
        Input { kind: InputKind::Filter, text }
    }

    pub fn on_key(&mut self, key: KeyEvent) -> Layer {
        let filter = self.kind == InputKind::Filter;
        match key.code {
            KeyCode::Esc if filter => Layer::FilterClosed(None),
            KeyCode::Esc => Layer::Close,
            KeyCode::Enter if filter => Layer::Close,
            KeyCode::Enter => Layer::Command(std::mem::take(&mut self.text)),
            KeyCode::Backspace => {
                self.text.pop();
                if filter {
                    Layer::Filter(Some(self.text.clone()))
                } else {
                    Layer::Stay
                }
            }
            KeyCode::Char(c) if !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => {
                self.text.push(c);
                if filter {
                    Layer::Filter(Some(self.text.clone()))
                } else {
                    Layer::Stay
                }
            }
            _ => Layer::Stay,
        }
    }

    pub fn draw(&self, frame: &mut Frame<'_>, t: &Theme, area: Rect) {
        let prompt = if self.kind == InputKind::Command { strings::command_prompt() } else { strings::filter_prompt() };
        let x = area.x + (prompt.chars().count() + self.text.chars().count()) as u16;
        frame.set_cursor_position(Position::new(x.min(area.right().saturating_sub(1)), area.y));
        let line = Line::from(vec![Span::styled(prompt, t.hint_key), Span::styled(self.text.as_str(), t.input)]);
        frame.render_widget(Paragraph::new(line), area);
    }
}
