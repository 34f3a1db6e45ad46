//! The audit screen: who changed what, newest first, optionally for one path.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};
use ratatui::Frame;

use crate::console::screens::audit::AuditView;
use crate::console::strings;
use crate::console::theme::Theme;
use crate::zk::format::utc_timestamp;

pub fn draw(frame: &mut Frame<'_>, t: &Theme, view: Option<&AuditView>, area: Rect) {
    let Some(view) = view else {
        frame.render_widget(Paragraph::new(Line::styled(strings::LOADING, t.muted)), area);
        return;
    };
    let filter = view.filter.as_deref().map_or("all znodes".to_string(), |f| format!("for {f}"));
    let block = Block::default().borders(Borders::ALL).border_style(t.border_focused).title(Line::from(vec![
        Span::styled(format!(" {} ", strings::AUDIT_TITLE), t.title),
        Span::styled(
            format!("{filter} · {} records, newest first · r reload · esc back ", view.records.len()),
            t.muted,
        ),
    ]));
    let header =
        Row::new(["TIME (UTC)", "WHO", "FROM", "ACTION", "PATH", "VERSION", "RESULT"].map(Cell::from)).style(t.title);
    let inner_height = usize::from(area.height.saturating_sub(3));
    let offset = view.cursor.saturating_sub(inner_height.saturating_sub(1));
    let rows = view.records.iter().enumerate().skip(offset).take(inner_height).map(|(i, (_, r))| {
        let versions = format!(
            "{}→{}",
            r.version_before.map_or("-".into(), |v| v.to_string()),
            r.version_after.map_or("-".into(), |v| v.to_string())
        );
        let result_style = if r.is_ok() { t.state_ok } else { t.state_error };
        let who = format!("{}@{}", r.user, r.host);
        let from = format!("{}{}", r.origin, r.ssh_client.as_deref().map(|s| format!(" {s}")).unwrap_or_default());
        let row = Row::new(vec![
            Cell::from(utc_timestamp(r.time_ms)),
            Cell::from(who),
            Cell::from(from),
            Cell::from(r.action.clone()),
            Cell::from(r.path.clone()),
            Cell::from(versions),
            Cell::from(Span::styled(r.result.clone(), result_style)),
        ]);
        if i == view.cursor {
            row.style(t.selected)
        } else {
            row.style(Style::default())
        }
    });
    let widths = [
        Constraint::Length(19),
        Constraint::Length(16),
        Constraint::Length(10),
        Constraint::Length(13),
        Constraint::Min(16),
        Constraint::Length(7),
        Constraint::Min(10),
    ];
    frame.render_widget(Table::new(rows, widths).header(header).block(block).column_spacing(1), area);
}
