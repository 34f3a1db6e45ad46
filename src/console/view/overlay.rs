//! The status line (input, notices), the hint bar, the help popup and the too-small notice.

use ratatui::layout::{Alignment, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use crate::console::app::{App, InputKind, Mode, NoticeLevel};
use crate::console::keymap::Key;
use crate::console::strings;

pub fn status_line(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let t = &app.theme;
    let line = match &app.mode {
        Mode::Input { kind, text } => {
            let prompt = if *kind == InputKind::Command { strings::command_prompt() } else { strings::filter_prompt() };
            let x = area.x + (prompt.chars().count() + text.chars().count()) as u16;
            frame.set_cursor_position(Position::new(x.min(area.right().saturating_sub(1)), area.y));
            Line::from(vec![Span::styled(prompt, t.hint_key), Span::styled(text.as_str(), t.input)])
        }
        _ => match app.notices.back() {
            Some(n) => {
                let style = if n.level == NoticeLevel::Error { t.notice_error } else { t.notice_info };
                Line::styled(n.text.as_str(), style)
            }
            None if app.focus == crate::console::app::Pane::Cluster => {
                let store = &app.clusters;
                let total = store.view.as_ref().map_or(0, |v| v.topology.len());
                let name = store.selected.as_deref().unwrap_or("-");
                let node = store.cursor_node().unwrap_or("-");
                let pos = if total == 0 { 0 } else { store.cursor + 1 };
                Line::styled(format!("cluster {name} · node {node} {pos}/{total}"), t.muted)
            }
            None => {
                let rows = app.tree.rows().len();
                let pos = if rows == 0 { 0 } else { app.tree.selected_index() + 1 };
                Line::styled(format!("{} · {pos}/{rows}", app.tree.selected_path().unwrap_or("")), t.muted)
            }
        },
    };
    frame.render_widget(Paragraph::new(line), area);
}

pub fn hint_bar(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let t = &app.theme;
    let mut spans = Vec::new();
    let hints = match app.mode {
        Mode::Editor(_) => vec![
            ("ctrl-s".to_string(), "save"),
            ("ctrl-g".to_string(), "find"),
            ("f3".to_string(), "next"),
            ("ctrl-u/ctrl-r".to_string(), "undo/redo"),
            ("esc".to_string(), "close"),
        ],
        Mode::Create(_) => vec![
            ("tab".to_string(), "next field"),
            ("←/→".to_string(), "choose"),
            ("enter".to_string(), "create"),
            ("esc".to_string(), "cancel"),
        ],
        Mode::Delete(_) => vec![("enter/y".to_string(), "delete"), ("esc".to_string(), "cancel")],
        Mode::Help | Mode::NodeDetail { .. } => {
            vec![("esc".to_string(), strings::action_label(crate::console::keymap::Action::Back))]
        }
        Mode::Input { .. } => vec![("enter".to_string(), "apply"), ("esc".to_string(), "cancel")],
        Mode::Normal => {
            app.keymap.hints(app.focus.scope()).into_iter().map(|(k, a)| (k, strings::action_label(a))).collect()
        }
    };
    for (k, label) in hints {
        spans.push(Span::styled(k, t.hint_key));
        spans.push(Span::styled(format!(" {label}  "), t.hint_text));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn help(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let t = &app.theme;
    let bindings: Vec<_> = app.keymap.for_pane(app.focus.scope()).collect();
    let width = 78.min(area.width.saturating_sub(2));
    let max_height = area.height.saturating_sub(2);
    // Two columns when one does not fit (80×24 has room for about 18 rows).
    let columns = if bindings.len() as u16 + 4 > max_height { 2 } else { 1 };
    let per_column = bindings.len().div_ceil(columns);
    let height = (per_column as u16 + 4).min(max_height);
    let popup = Rect::new(area.x + (area.width - width) / 2, area.y + (area.height - height) / 2, width, height);
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

pub fn too_small(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let t = &app.theme;
    let lines = vec![
        Line::styled(strings::TOO_SMALL, t.notice_error),
        Line::styled(format!("{}×{}", area.width, area.height), t.text),
        Line::styled(strings::TOO_SMALL_HINT, t.muted),
    ];
    let y = area.y + area.height.saturating_sub(3) / 2;
    let rect = Rect::new(area.x, y, area.width, area.height.min(3));
    frame.render_widget(Paragraph::new(lines).alignment(Alignment::Center).wrap(Default::default()), rect);
}
