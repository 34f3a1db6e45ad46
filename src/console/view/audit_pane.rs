//! The audit screen: who changed what, newest first, optionally for one path.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};
use ratatui::Frame;

use crate::audit::AuditRecord;
use crate::console::screens::audit::AuditView;
use crate::console::strings;
use crate::console::theme::Theme;
use crate::zk::format::utc_timestamp;

/// Below this many columns the table drops FROM and VERSION and shortens the time.
const WIDE_MIN_COLS: u16 = 110;
const PATH_MIN_COLS: usize = 12;

/// A column of the audit table.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Col {
    Time,
    Who,
    From,
    Action,
    Path,
    Version,
    Result,
}

/// The columns shown at a width, with each one's cap (`None`: the path, which takes what the
/// others leave). Columns are as wide as their widest visible cell (at least the header), up
/// to the cap, so slack goes to the path.
fn plan(wide: bool) -> Vec<(Col, &'static str, Option<usize>)> {
    if wide {
        vec![
            (Col::Time, "TIME (UTC)", Some(19)),
            (Col::Who, "WHO", Some(24)),
            (Col::From, "FROM", Some(24)),
            (Col::Action, "ACTION", Some(13)),
            (Col::Path, "PATH", None),
            (Col::Version, "VERSION", Some(11)),
            (Col::Result, "RESULT", Some(30)),
        ]
    } else {
        vec![
            (Col::Time, "TIME (UTC)", Some(14)),
            (Col::Who, "WHO", Some(12)),
            (Col::Action, "ACTION", Some(8)),
            (Col::Path, "PATH", None),
            (Col::Result, "RESULT", Some(16)),
        ]
    }
}

/// One cell's text.
fn cell_text(col: Col, r: &AuditRecord, wide: bool) -> String {
    match col {
        Col::Time => {
            let ts = utc_timestamp(r.time_ms);
            // Narrow: `MM-DD HH:MM:SS`.
            if wide {
                ts
            } else {
                ts.get(5..).unwrap_or(&ts).to_string()
            }
        }
        Col::Who => format!("{}@{}", r.user, r.host),
        Col::From => format!("{}{}", r.origin, r.ssh_client.as_deref().map(|s| format!(" {s}")).unwrap_or_default()),
        Col::Action => r.action.clone(),
        Col::Path => r.path.clone(),
        Col::Version => format!(
            "{}→{}",
            r.version_before.map_or("-".into(), |v| v.to_string()),
            r.version_after.map_or("-".into(), |v| v.to_string())
        ),
        Col::Result => r.result.clone(),
    }
}

/// `/myzoo/clusters/…/nodes/db1`: the start and the end of a path kept, the middle cut.
pub fn shorten_middle(path: &str, width: usize) -> String {
    let n = path.chars().count();
    if n <= width || width < 3 {
        return path.to_string();
    }
    let tail = (width - 1) / 2;
    let head = width - 1 - tail;
    let start: String = path.chars().take(head).collect();
    let end: String = path.chars().skip(n - tail).collect();
    format!("{start}…{end}")
}

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
    let wide = area.width >= WIDE_MIN_COLS;
    let cols = plan(wide);
    let header = Row::new(cols.iter().map(|(_, title, _)| Cell::from(*title))).style(t.title);
    let inner_height = usize::from(area.height.saturating_sub(3));
    let offset = view.cursor.saturating_sub(inner_height.saturating_sub(1));
    let shown = &view.records[offset.min(view.records.len())..];
    let shown = &shown[..inner_height.min(shown.len())];
    let widths: Vec<usize> = cols
        .iter()
        .map(|(col, title, cap)| match cap {
            Some(cap) => shown
                .iter()
                .map(|(_, r)| cell_text(*col, r, wide).chars().count())
                .max()
                .unwrap_or(0)
                .max(title.len())
                .min(*cap),
            None => 0,
        })
        .collect();
    let inner_w = usize::from(area.width.saturating_sub(2));
    let used: usize = widths.iter().sum::<usize>() + cols.len() - 1;
    let path_w = inner_w.saturating_sub(used).max(PATH_MIN_COLS);
    let rows = shown.iter().enumerate().map(|(i, (_, r))| {
        let cells = cols.iter().map(|(col, _, _)| match col {
            Col::Path => Cell::from(shorten_middle(&r.path, path_w)),
            Col::Result => {
                Cell::from(Span::styled(r.result.clone(), if r.is_ok() { t.state_ok } else { t.state_error }))
            }
            other => Cell::from(cell_text(*other, r, wide)),
        });
        let row = Row::new(cells.collect::<Vec<_>>());
        if offset + i == view.cursor {
            row.style(t.selected)
        } else {
            row.style(Style::default())
        }
    });
    let widths: Vec<Constraint> = cols
        .iter()
        .zip(&widths)
        .map(|((col, _, _), w)| match col {
            Col::Path => Constraint::Length(path_w as u16),
            _ => Constraint::Length(*w as u16),
        })
        .collect();
    frame.render_widget(Table::new(rows, widths).header(header).block(block).column_spacing(1), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_shortened_in_the_middle() {
        assert_eq!(shorten_middle("/a/b", 10), "/a/b");
        let p = "/myzoo/clusters/production-eu/nodes/db-replica-17";
        let s = shorten_middle(p, 21);
        assert_eq!(s.chars().count(), 21);
        assert!(s.starts_with("/myzoo/clu") && s.ends_with("replica-17") && s.contains('…'), "{s}");
    }
}
