//! A node's full status over the cluster screen: its state, flags and published JSON.

use crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::Frame;

use super::Layer;
use crate::console::clusters::ClusterStore;
use crate::console::keymap::{Action, Key, Scope};
use crate::console::shared::{Cx, Shared};
use crate::console::view::cluster_pane;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeDetail {
    pub node: String,
    pub scroll: u16,
}

impl NodeDetail {
    pub fn new(node: &str) -> NodeDetail {
        NodeDetail { node: node.to_string(), scroll: 0 }
    }

    pub fn on_key(&mut self, key: KeyEvent, cx: &mut Cx<'_>) -> Layer {
        let s = &mut self.scroll;
        match cx.shared.keymap.lookup(Key::from_event(&key), Scope::Popup) {
            Some(Action::Back | Action::Quit) => return Layer::Close,
            Some(Action::Down) => *s = s.saturating_add(1),
            Some(Action::Up) => *s = s.saturating_sub(1),
            Some(Action::PageDown) => *s = s.saturating_add(10),
            Some(Action::PageUp) => *s = s.saturating_sub(10),
            _ => {}
        }
        Layer::Stay
    }

    pub fn draw(&self, frame: &mut Frame<'_>, sh: &Shared, store: &ClusterStore, area: Rect) {
        cluster_pane::node_popup(frame, &sh.theme, store, &self.node, self.scroll, area);
    }
}
