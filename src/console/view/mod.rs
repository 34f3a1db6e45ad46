//! Drawing: a pure function of [`App`] onto a ratatui frame. No I/O, no state changes.

mod audit_pane;
mod cluster_pane;
mod detail;
mod dialog_view;
mod editor_view;
mod header;
mod overlay;
mod tree_pane;

use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::Frame;

use super::app::App;

/// Smallest terminal the console draws its panes in.
pub const MIN_WIDTH_COLS: u16 = 80;
pub const MIN_HEIGHT_ROWS: u16 = 24;
/// Share of the width the tree pane takes.
const TREE_WIDTH_PERCENT: u16 = 42;

/// Where everything goes for a terminal size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    pub tree: Rect,
    pub detail: Rect,
    pub status: Rect,
    pub hints: Rect,
    /// Tree rows that fit inside the tree pane's border.
    pub tree_rows: u16,
}

pub fn layout((w, h): (u16, u16)) -> Areas {
    let area = Rect::new(0, 0, w, h);
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Length(1), Constraint::Min(3), Constraint::Length(1), Constraint::Length(1)])
        .split(area);
    let cols = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Percentage(TREE_WIDTH_PERCENT), Constraint::Min(10)])
        .split(rows[1]);
    Areas {
        header: rows[0],
        tree: cols[0],
        detail: cols[1],
        status: rows[2],
        hints: rows[3],
        tree_rows: cols[0].height.saturating_sub(2),
    }
}

pub fn too_small((w, h): (u16, u16)) -> bool {
    w < MIN_WIDTH_COLS || h < MIN_HEIGHT_ROWS
}

/// Draws the whole console.
pub fn draw(frame: &mut Frame<'_>, app: &App) {
    let size = frame.area();
    if too_small((size.width, size.height)) {
        overlay::too_small(frame, app, size);
        return;
    }
    let areas = layout((size.width, size.height));
    header::draw(frame, app, areas.header);
    if let super::app::Mode::Editor(e) = &app.mode {
        editor_view::draw(frame, app, e, areas.tree.union(areas.detail));
    } else if app.focus == super::app::Pane::Audit {
        audit_pane::draw(frame, app, areas.tree.union(areas.detail));
    } else if app.focus == super::app::Pane::Cluster {
        cluster_pane::draw(frame, app, areas.tree.union(areas.detail));
    } else {
        tree_pane::draw(frame, app, areas.tree);
        detail::draw(frame, app, areas.detail);
    }
    overlay::status_line(frame, app, areas.status);
    overlay::hint_bar(frame, app, areas.hints);
    match &app.mode {
        super::app::Mode::Help => overlay::help(frame, app, size),
        super::app::Mode::NodeDetail { node, scroll } => cluster_pane::node_popup(frame, app, node, *scroll, size),
        super::app::Mode::Create(form) => dialog_view::create(frame, app, form, size),
        super::app::Mode::Delete(confirm) => dialog_view::delete(frame, app, confirm, size),
        _ => {}
    }
}
