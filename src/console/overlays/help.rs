//! The `?` help: every binding of the focused screen's scope and the global ones, from the
//! same table as the hint bar.

use crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::Frame;

use super::Layer;
use crate::console::app::App;
use crate::console::keymap::{Action, Key, Scope};
use crate::console::shared::Cx;

pub fn on_key(key: KeyEvent, cx: &mut Cx<'_>) -> Layer {
    match cx.shared.keymap.lookup(Key::from_event(&key), Scope::Popup) {
        Some(Action::Back | Action::Help | Action::Quit) => Layer::Close,
        _ => Layer::Stay,
    }
}

pub fn draw(frame: &mut Frame<'_>, app: &App, scope: Scope, area: Rect) {
    crate::console::view::overlay::help(frame, &app.shared().theme, &app.shared().keymap, scope, area);
}
