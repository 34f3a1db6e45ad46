//! The ensemble screen: the verdict and quorum line, where this console's session is, the
//! problems, one row per member (cells from `zk::ensemble::table`, so `myzoo zk ensemble`
//! prints the same; the session's member marked), and the selected member's every number.
//! Pure: state in, cells out.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use crate::console::screens::ensemble::EnsembleView;
use crate::console::shared::Shared;
use crate::console::strings;
use crate::console::theme::Theme;
use crate::zk::ensemble::table::{self, HEADERS};
use crate::zk::ensemble::{EnsembleReport, EnsembleVerdict, MemberReport, Mode, Reach};

/// From this many columns every column of the table is shown; below, the narrow set (the
/// rest is in the selected member's details).
const WIDE_MIN_COLS: u16 = 150;
/// The narrow set: member, mode, behind, latency, outstanding, connections, znodes, note.
const NARROW_COLUMNS: [usize; 8] = [0, 2, 4, 5, 6, 7, 8, 15];
/// Problems listed before "… and N more".
const MAX_PROBLEM_LINES: usize = 3;
/// The note column's least width.
const NOTE_MIN_COLS: u16 = 10;

pub fn verdict_span(t: &Theme, v: EnsembleVerdict) -> Span<'static> {
    let style = match v {
        EnsembleVerdict::Healthy => t.badge_ok,
        EnsembleVerdict::Degraded | EnsembleVerdict::Unknown => t.badge_warn,
        EnsembleVerdict::Unhealthy => t.badge_error,
    };
    Span::styled(format!(" {} ", v.label()), style)
}

pub fn mode_style(t: &Theme, r: &MemberReport) -> Style {
    match (r.reach, r.mode()) {
        (Reach::Serving, Some(Mode::Leader | Mode::Follower | Mode::Standalone)) => t.state_ok,
        (Reach::Serving, _) => t.text,
        (Reach::Unreadable, _) => t.state_warn,
        (Reach::Down | Reach::NotServing, _) => t.state_error,
    }
}

pub fn draw(frame: &mut Frame<'_>, sh: &Shared, view: &EnsembleView, area: Rect) {
    let t = &sh.theme;
    let mut title = vec![Span::styled(format!(" {} ", strings::ENSEMBLE_TITLE), t.title)];
    if view.asking {
        title.push(Span::styled(format!("{} ", strings::ENSEMBLE_ASKING), t.muted));
    }
    let block = Block::default().borders(Borders::ALL).border_style(t.border_focused).title(Line::from(title));
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let mut head: Vec<Line<'_>> = Vec::new();
    if let Some(e) = &view.error {
        head.push(Line::styled(strings::ensemble_read_failed(e), t.notice_error));
    }
    let Some(report) = &view.report else {
        if view.error.is_none() {
            head.push(Line::styled(strings::ENSEMBLE_ASKING, t.muted));
        }
        frame.render_widget(Paragraph::new(head).wrap(Wrap { trim: false }), inner);
        return;
    };
    head.push(Line::from(vec![
        verdict_span(t, report.judgement.verdict),
        Span::styled(format!(" {}", report.judgement.quorum_line()), t.text),
    ]));
    head.push(Line::styled(strings::ensemble_session_line(sh.session_member.as_deref()), t.label));
    for p in report.judgement.problems.iter().take(MAX_PROBLEM_LINES) {
        head.push(Line::styled(format!("! {p}"), t.error));
    }
    if report.judgement.problems.len() > MAX_PROBLEM_LINES {
        let more = report.judgement.problems.len() - MAX_PROBLEM_LINES;
        head.push(Line::styled(format!("… and {more} more"), t.muted));
    }
    // Long reasons wrap: count the rows they take at this width, plus a blank one.
    let width = usize::from(inner.width.max(1));
    let wrapped: usize = head.iter().map(|l| l.width().max(1).div_ceil(width)).sum();
    let head_rows = u16::try_from(wrapped + 1).unwrap_or(u16::MAX).min(inner.height);
    frame.render_widget(Paragraph::new(head).wrap(Wrap { trim: false }), Rect { height: head_rows, ..inner });
    let rest = Rect { y: inner.y + head_rows, height: inner.height - head_rows, ..inner };

    // The table takes its rows; the selected member's details the rest.
    let table_rows = (report.members.len() as u16 + 2).min(rest.height);
    draw_table(frame, sh, view, report, Rect { height: table_rows, ..rest });
    let details = Rect { y: rest.y + table_rows, height: rest.height - table_rows, ..rest };
    draw_details(frame, t, view, report, details);
}

fn draw_table(frame: &mut Frame<'_>, sh: &Shared, view: &EnsembleView, report: &EnsembleReport, area: Rect) {
    let t = &sh.theme;
    let wide = area.width >= WIDE_MIN_COLS;
    let shown: Vec<usize> = if wide { (0..HEADERS.len()).collect() } else { NARROW_COLUMNS.to_vec() };
    let rows: Vec<[String; 16]> = report
        .members
        .iter()
        .map(|m| table::member_cells(m, sh.session_member.as_deref() == Some(m.address.as_str())))
        .collect();
    let titles: Vec<&str> = shown.iter().map(|&c| HEADERS[c]).collect();
    let picked: Vec<Vec<String>> = rows.iter().map(|r| shown.iter().map(|&c| r[c].clone()).collect()).collect();
    let widths = super::fit_widths(&titles, picked.iter().map(Vec::as_slice), NOTE_MIN_COLS);
    let header = Row::new(titles.iter().map(|h| Cell::from(*h))).style(t.title);
    let body = report.members.iter().zip(picked).enumerate().map(|(i, (m, cells))| {
        let style = if i == view.cursor { t.selected } else { Style::default() };
        Row::new(cells.into_iter().zip(&shown).map(|(text, &c)| {
            let s = match c {
                table::COL_MODE => mode_style(t, m),
                table::COL_BEHIND if m.older_epoch => t.state_error,
                table::COL_NOTE => t.error,
                _ => t.text,
            };
            Cell::from(Span::styled(text, s))
        }))
        .style(style)
    });
    frame.render_widget(Table::new(body, widths).header(header).column_spacing(1), area);
}

fn draw_details(frame: &mut Frame<'_>, t: &Theme, view: &EnsembleView, report: &EnsembleReport, area: Rect) {
    if area.height == 0 {
        return;
    }
    let mut lines: Vec<Line<'_>> = match view.selected() {
        Some(m) => strings::ensemble_member_details(m)
            .into_iter()
            .map(|(label, value)| {
                Line::from(vec![Span::styled(format!("{label:<10}"), t.label), Span::styled(value, t.text)])
            })
            .collect(),
        None => vec![Line::styled(strings::ENSEMBLE_NO_MEMBER, t.muted)],
    };
    for n in &report.notes {
        lines.push(Line::styled(format!("note: {n}"), t.muted));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}
