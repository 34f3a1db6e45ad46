//! Drawing: a pure function of [`App`] onto a ratatui frame. No I/O, no state changes.

pub mod audit_pane;
pub mod backups_pane;
pub mod cluster_pane;
pub mod detail;
pub mod dialog_view;
pub mod editor_view;
pub mod ensemble_pane;
pub mod failover_pane;
pub mod find_pane;
pub mod header;
pub mod overlay;
pub mod overview_pane;
pub mod tree_pane;

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
    /// Where the shown screen draws: the tree and znode panes together.
    pub body: Rect,
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
        body: rows[1],
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

/// The tree screen's two panes within the body.
pub fn split_tree(body: Rect) -> (Rect, Rect) {
    let cols = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Percentage(TREE_WIDTH_PERCENT), Constraint::Min(10)])
        .split(body);
    (cols[0], cols[1])
}

/// Draws the whole console: header, the shown screen (or the editor over it), status line,
/// hints, and a floating overlay last.
pub fn draw(frame: &mut Frame<'_>, app: &App) {
    let size = frame.area();
    let sh = app.shared();
    if too_small((size.width, size.height)) {
        overlay::too_small(frame, &sh.theme, size);
        return;
    }
    let areas = layout((size.width, size.height));
    header::draw(frame, app, areas.header);
    match app.overlay() {
        Some(o) if o.covers_screen() => o.draw(frame, app, size, areas.body),
        _ => app.screens().get(app.screen()).draw(frame, areas.body, sh),
    }
    overlay::status_line(frame, app, areas.status);
    overlay::hint_bar(frame, app, areas.hints);
    if let Some(o) = app.overlay().filter(|o| !o.covers_screen()) {
        o.draw(frame, app, size, areas.body);
    }
}

/// Column widths for a table whose last column takes what is left (at least `last_min`) and
/// whose other columns fit their title and widest cell.
pub(crate) fn fit_widths<'a>(
    titles: &[&str],
    rows: impl Iterator<Item = &'a [String]> + Clone,
    last_min: u16,
) -> Vec<ratatui::layout::Constraint> {
    use ratatui::layout::Constraint;
    let last = titles.len().saturating_sub(1);
    titles
        .iter()
        .enumerate()
        .map(|(c, title)| {
            if c == last {
                return Constraint::Min(last_min);
            }
            let w = rows.clone().map(|cells| cells.get(c).map_or(0, |s| s.chars().count())).max().unwrap_or(0);
            Constraint::Length(u16::try_from(w.max(title.chars().count())).unwrap_or(u16::MAX))
        })
        .collect()
}
