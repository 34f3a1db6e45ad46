//! The tree pane: only the visible slice of rows is turned into text, so 10,000 children
//! cost the same to draw as 10.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use crate::console::screens::tree::{TreeFocus, TreeScreen};
use crate::console::shared::Shared;
use crate::console::strings;
use crate::console::theme::Theme;
use crate::console::tree::TreeModel;
use crate::zk::base_name;

pub fn draw(frame: &mut Frame<'_>, sh: &Shared, s: &TreeScreen, area: Rect) {
    let t = &sh.theme;
    let tree = s.tree();
    let focused = s.focus() == TreeFocus::Tree;
    let mut title = vec![Span::styled(format!(" {} ", strings::TREE_TITLE), t.title)];
    title.push(Span::styled(format!("{} znodes ", tree.len()), t.muted));
    if let Some(f) = tree.filter() {
        title.push(Span::styled(format!("filter: {f} "), t.input));
    }
    if sh.stale_since.is_some() {
        title.push(Span::styled(" stale ", t.badge_warn));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(if focused { t.border_focused } else { t.border })
        .title(Line::from(title));
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let rows = tree.rows();
    let height = usize::from(inner.height);
    let selected = tree.selected_index();
    let mut lines = Vec::with_capacity(height);
    for (i, row) in rows.iter().enumerate().skip(s.offset()).take(height) {
        let mut line = row_line(t, tree, &row.path, row.depth);
        if !s.plain_text_secrets(&row.path).is_empty() {
            line.spans.push(Span::styled(format!("  {}", strings::PLAIN_SECRET_MARKER), t.badge_warn));
        }
        if i == selected {
            line = line.style(if focused { t.selected } else { t.selected_unfocused });
        }
        lines.push(line);
    }
    if tree.filter().is_some() && rows.len() <= 1 {
        lines.push(Line::styled(strings::NO_MATCHES, t.muted));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn row_line<'a>(t: &Theme, tree: &'a TreeModel, path: &'a str, depth: u16) -> Line<'a> {
    let node = tree.node(path);
    let expanded = node.is_some_and(|n| n.expanded);
    let marker = match node {
        Some(n) if n.loading => "… ",
        _ if !tree.has_children(path) => "  ",
        _ if expanded => "▾ ",
        _ => "▸ ",
    };
    let mut spans = vec![Span::raw("  ".repeat(usize::from(depth))), Span::styled(marker, t.muted)];
    let ephemeral = node.and_then(|n| n.stat).is_some_and(|s| s.ephemeral_owner != 0);
    spans.push(Span::styled(base_name(path), if ephemeral { t.ephemeral } else { t.text }));
    if let Some(stat) = node.and_then(|n| n.stat) {
        if stat.num_children > 0 {
            spans.push(Span::styled(format!(" ({})", stat.num_children), t.muted));
        }
    }
    if let Some(err) = node.and_then(|n| n.error.as_deref()) {
        // Not permitted is not broken: a locked znode says so, and the pane says why.
        if err.starts_with("NoAuth") {
            spans.push(Span::styled(format!("  {} (NoAuth)", strings::LOCKED_MARKER), t.badge_warn));
        } else {
            spans.push(Span::styled(format!("  ⚠ {err}"), t.error));
        }
    } else if node.is_some_and(|n| n.loading && n.stat.is_none()) {
        spans.push(Span::styled(format!("  {}", strings::LOADING), t.muted));
    }
    Line::from(spans)
}
