//! The status line (input, notices), the hint bar, the help popup and the too-small notice.

use ratatui::layout::{Alignment, Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use crate::console::app::App;
use crate::console::keymap::{Key, KeyMap, Scope};
use crate::console::shared::NoticeLevel;
use crate::console::strings;
use crate::console::theme::Theme;

/// The status line: an open input line, else the newest notice, else the screen's own line.
pub fn status_line(frame: &mut Frame<'_>, app: &App, area: Rect) {
    if app.overlay().is_some_and(|o| o.status_line(frame, app, area)) {
        return;
    }
    let t = &app.shared().theme;
    let line = match app.notices().latest() {
        Some(n) => {
            let style = if n.level == NoticeLevel::Error { t.notice_error } else { t.notice_info };
            Line::styled(n.text.as_str(), style)
        }
        None => Line::styled(app.screens().get(app.screen()).status_line(), t.muted),
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// The keys that work now (the overlay's, else the focused screen's), from the keymap.
pub fn hint_bar(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let sh = app.shared();
    let t = &sh.theme;
    let hints = sh.keymap.hint_labels(app.scope());
    let mut spans = Vec::new();
    for (k, label) in hints {
        spans.push(Span::styled(k, t.hint_key));
        spans.push(Span::styled(format!(" {label}  "), t.hint_text));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn help(frame: &mut Frame<'_>, t: &Theme, keymap: &KeyMap, scope: Scope, area: Rect) {
    let bindings: Vec<_> = keymap.for_pane(scope).collect();
    let width = 78.min(area.width.saturating_sub(2));
    let max_height = area.height.saturating_sub(2);
    // Two columns when one does not fit (80×24 has room for about 18 rows).
    let columns = if bindings.len() as u16 + 4 > max_height { 2 } else { 1 };
    let per_column = bindings.len().div_ceil(columns);
    let height = (per_column as u16 + 4).min(max_height);
    let popup = area.centered(Constraint::Length(width), Constraint::Length(height));
    frame.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focused)
        .title(Span::styled(format!(" {} ", strings::HELP_TITLE), t.title));
    let col_width = usize::from(width.saturating_sub(2)) / columns;
    let key_width = if columns == 2 { 14 } else { 18 };
    let cell = |i: usize| -> Vec<Span<'_>> {
        let Some(bd) = bindings.get(i) else { return Vec::new() };
        let keys: Vec<String> = bd.keys.iter().map(Key::to_string).collect();
        let label = strings::action_label(bd.action);
        vec![
            Span::styled(format!("{:<key_width$}", keys.join(" ")), t.hint_key),
            Span::styled(format!("{:<w$}", label, w = col_width.saturating_sub(key_width)), t.text),
        ]
    };
    let mut lines: Vec<Line<'_>> = (0..per_column)
        .map(|row| {
            let mut spans = cell(row);
            if columns == 2 {
                spans.extend(cell(row + per_column));
            }
            Line::from(spans)
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(strings::HELP_FOOTER, t.muted));
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}

pub fn too_small(frame: &mut Frame<'_>, t: &Theme, area: Rect) {
    let lines = vec![
        Line::styled(strings::TOO_SMALL, t.notice_error),
        Line::styled(format!("{}×{}", area.width, area.height), t.text),
        Line::styled(strings::TOO_SMALL_HINT, t.muted),
    ];
    let y = area.y + area.height.saturating_sub(3) / 2;
    let rect = Rect::new(area.x, y, area.width, area.height.min(3));
    frame.render_widget(Paragraph::new(lines).alignment(Alignment::Center).wrap(Default::default()), rect);
}
