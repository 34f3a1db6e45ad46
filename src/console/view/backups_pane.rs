//! The backups screen: the store's server in the title (or why there is none), the running
//! job with its progress bar, the snapshots table, and below it the cluster's MySQL dumps —
//! or, when one is open, a diff or a restore plan (scrollable). Pure: state in, cells out.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use crate::backup::{Progress, SnapshotMeta, SnapshotState};
use crate::console::screens::backups::{BackupsView, DiffView, DumpRow, Panel, RestoreView, RunningJob, StoreState};
use crate::console::shared::Shared;
use crate::console::strings;
use crate::console::theme::Theme;
use crate::zk::format::{human_bytes, utc_timestamp};

/// Below this many columns the snapshot table drops ORIGIN and OPERATOR and shortens the time.
const WIDE_MIN_COLS: u16 = 110;
/// Cells of the progress bar.
const BAR_CELLS: usize = 24;
/// Sample paths shown under each restore action.
const SAMPLE_PATHS_SHOWN: usize = 5;
/// Rows the snapshot table keeps (heading and column titles included) when a panel is open.
const SNAPSHOTS_MIN_ROWS: u16 = 5;
/// Rows the dumps part keeps (heading and column titles included).
const DUMPS_MIN_ROWS: u16 = 4;

pub fn draw(frame: &mut Frame<'_>, sh: &Shared, view: &BackupsView, area: Rect) {
    let t = &sh.theme;
    let title = format!(" {} · {} ", strings::BACKUPS_TITLE, strings::store_line(&view.store));
    let block =
        Block::default().borders(Borders::ALL).border_style(t.border_focused).title(Span::styled(title, t.title));
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let mut top: Vec<Line<'_>> = Vec::new();
    match &view.store {
        StoreState::NotConfigured(_) => top.push(Line::styled(strings::NO_BACKUP_STORE, t.notice_error)),
        StoreState::Unreachable(why) => top.push(Line::styled(strings::store_unreachable(why), t.notice_error)),
        _ => {}
    }
    match &view.job {
        Some(job) => top.extend(job_lines(t, job, sh.now_ms())),
        None => {
            if let Some((text, ok)) = &view.last {
                top.push(Line::styled(text.as_str(), if *ok { t.state_ok } else { t.state_error }));
            }
        }
    }
    // Wrapped lines may take more rows than lines: count them at this width.
    let width = usize::from(inner.width.max(1));
    let top_rows: u16 = top
        .iter()
        .map(|l| u16::try_from(l.width().max(1).div_ceil(width)).unwrap_or(u16::MAX))
        .sum::<u16>()
        .min(inner.height);
    let top_area = Rect { height: top_rows, ..inner };
    frame.render_widget(Paragraph::new(top).wrap(Wrap { trim: false }), top_area);
    let rest = Rect { y: inner.y + top_rows, height: inner.height - top_rows, ..inner };

    let snapshot_rows = u16::try_from(view.snapshots.len()).unwrap_or(u16::MAX).max(1).saturating_add(2);
    let snapshots_h = match view.panel {
        Panel::None => {
            let lower = dump_rows(view).saturating_add(2).max(DUMPS_MIN_ROWS).min(rest.height / 3);
            snapshot_rows.min(rest.height.saturating_sub(lower))
        }
        _ => snapshot_rows.min(SNAPSHOTS_MIN_ROWS.max(rest.height * 2 / 5)),
    }
    .min(rest.height);
    let snapshots_area = Rect { height: snapshots_h, ..rest };
    let lower = Rect { y: rest.y + snapshots_h, height: rest.height - snapshots_h, ..rest };
    draw_snapshots(frame, t, view, snapshots_area);
    match &view.panel {
        Panel::None => draw_dumps(frame, t, view, lower),
        Panel::Diff { view: d, scroll } => draw_scrolled(frame, diff_lines(t, d), *scroll, lower),
        Panel::Restore { view: r, scroll } => {
            draw_scrolled(frame, restore_lines(t, r, sh.read_only), *scroll, lower);
        }
    }
}

fn heading<'a>(t: &Theme, text: &'a str, rest: String, rest_style: Style) -> Line<'a> {
    Line::from(vec![Span::styled(format!("{text}  "), t.title), Span::styled(rest, rest_style)])
}

/// `[██████░░░░░░] 42%`, or `None` while no total is known.
pub fn progress_bar(p: &Progress) -> Option<String> {
    let f = p.fraction()?;
    let filled = ((f * BAR_CELLS as f64).round() as usize).min(BAR_CELLS);
    Some(format!("[{}{}] {:>3.0}%", "█".repeat(filled), "░".repeat(BAR_CELLS - filled), f * 100.0))
}

/// The running job: what and where it is, the bar, counts, rate and time left.
fn job_lines<'a>(t: &Theme, job: &RunningJob, now_ms: i64) -> Vec<Line<'a>> {
    let mut head = vec![Span::styled(format!("{} running", job.job.label()), t.state_warn)];
    let elapsed_ms = job.progress.as_ref().map_or_else(|| (now_ms - job.started_ms).max(0) as u64, |p| p.elapsed_ms);
    let Some(p) = &job.progress else {
        head.push(Span::styled(format!(" · starting · {}", strings::duration(elapsed_ms as i64)), t.muted));
        return vec![Line::from(head)];
    };
    if !p.phase.is_empty() {
        head.push(Span::styled(format!(" · {}", p.phase), t.text));
    }
    if let Some(bar) = progress_bar(p) {
        head.push(Span::styled(format!("  {bar}"), t.state_ok));
    }
    if job.cancelling {
        head.push(Span::styled(" · cancelling…", t.state_error));
    }
    let mut parts = Vec::new();
    match p.total {
        Some(total) => parts.push(format!("{} / {} znodes", strings::thousands(p.done), strings::thousands(total))),
        None => parts.push(format!("{} znodes", strings::thousands(p.done))),
    }
    let bytes = human_bytes(usize::try_from(p.bytes).unwrap_or(usize::MAX));
    match p.bytes_total {
        Some(total) => parts.push(format!("{bytes} / {}", human_bytes(usize::try_from(total).unwrap_or(usize::MAX)))),
        None => parts.push(bytes),
    }
    if elapsed_ms > 0 {
        let per_s = |n: u64| (n as f64 * 1000.0 / elapsed_ms as f64).round() as u64;
        parts.push(format!(
            "{} znodes/s, {}/s",
            strings::thousands(per_s(p.done)),
            human_bytes(usize::try_from(per_s(p.bytes)).unwrap_or(usize::MAX))
        ));
    }
    parts.push(format!("elapsed {}", strings::duration(elapsed_ms as i64)));
    if let Some(eta) = p.eta_ms() {
        parts.push(format!("ETA {}", strings::duration(eta as i64)));
    }
    parts.push("esc cancels".into());
    vec![Line::from(head), Line::styled(format!("  {}", parts.join(" · ")), t.muted)]
}

fn state_style(t: &Theme, s: SnapshotState) -> Style {
    match s {
        SnapshotState::Complete => t.state_ok,
        SnapshotState::Running => t.state_warn,
        SnapshotState::Failed => t.state_error,
    }
}

fn snapshot_cells(s: &SnapshotMeta, wide: bool) -> Vec<String> {
    let started = utc_timestamp(s.started_ms);
    let started = if wide { started } else { started.get(5..).unwrap_or(&started).to_string() };
    let mut cells = vec![
        s.id.to_string(),
        s.state.label().to_string(),
        s.root.clone(),
        strings::thousands(s.znodes),
        human_bytes(usize::try_from(s.bytes).unwrap_or(usize::MAX)),
        started,
        s.finished_ms.map(|f| strings::duration(f - s.started_ms)).unwrap_or_default(),
    ];
    if wide {
        cells.push(s.origin.clone());
        cells.push(s.operator.clone());
    }
    let note = match (&s.error, s.note.is_empty()) {
        (Some(e), true) => e.clone(),
        (Some(e), false) => format!("{} ({e})", s.note),
        (None, _) => s.note.clone(),
    };
    cells.push(note);
    cells
}

/// A table whose last column takes what is left and the others fit their widest cell.
fn fitted_table<'a>(
    t: &Theme,
    titles: &[&'a str],
    rows: Vec<(bool, Vec<String>, Style)>,
    state_col: usize,
) -> Table<'a> {
    let widths = super::fit_widths(titles, rows.iter().map(|(_, cells, _)| cells.as_slice()), 4);
    let header = Row::new(titles.iter().map(|s| Cell::from(*s))).style(t.title);
    let selected = t.selected;
    let rows = rows.into_iter().map(move |(sel, cells, style)| {
        let row = Row::new(cells.into_iter().enumerate().map(|(c, text)| {
            if c == state_col {
                Cell::from(Span::styled(text, style))
            } else {
                Cell::from(text)
            }
        }));
        if sel {
            row.style(selected)
        } else {
            row
        }
    });
    Table::new(rows, widths).header(header).column_spacing(1)
}

fn draw_snapshots(frame: &mut Frame<'_>, t: &Theme, view: &BackupsView, area: Rect) {
    if area.height == 0 {
        return;
    }
    let head = Rect { height: 1, ..area };
    let keys = "b new · d diff with live · r restore";
    let count = format!("{} · {keys}", view.snapshots.len());
    frame.render_widget(Paragraph::new(heading(t, strings::SNAPSHOTS_HEADING, count, t.muted)), head);
    let body = Rect { y: area.y + 1, height: area.height.saturating_sub(1), ..area };
    if view.snapshots.is_empty() {
        let text = match view.store {
            StoreState::Ready { .. } => strings::NO_SNAPSHOTS,
            StoreState::Unknown | StoreState::Loading => strings::LOADING,
            StoreState::NotConfigured(_) | StoreState::Unreachable(_) => "",
        };
        frame.render_widget(Paragraph::new(Line::styled(text, t.muted)), body);
        return;
    }
    let wide = area.width >= WIDE_MIN_COLS;
    let titles: Vec<&str> = strings::SNAPSHOT_COLUMNS
        .iter()
        .enumerate()
        .filter(|(i, _)| wide || !(7..=8).contains(i))
        .map(|(_, s)| *s)
        .collect();
    let fit = usize::from(body.height.saturating_sub(1));
    let offset = view.cursor.saturating_sub(fit.saturating_sub(1));
    let rows = view
        .snapshots
        .iter()
        .enumerate()
        .skip(offset)
        .take(fit)
        .map(|(i, s)| (i == view.cursor, snapshot_cells(s, wide), state_style(t, s.state)))
        .collect();
    frame.render_widget(fitted_table(t, &titles, rows, 1), body);
}

fn dump_rows(view: &BackupsView) -> u16 {
    match &view.dumps {
        Some(Ok(d)) => u16::try_from(d.len()).unwrap_or(u16::MAX).max(1),
        _ => 1,
    }
}

fn dump_cells(d: &DumpRow) -> Vec<String> {
    vec![
        d.node.clone(),
        d.state.clone(),
        d.gtid_position.clone().unwrap_or_else(|| "-".into()),
        human_bytes(usize::try_from(d.bytes).unwrap_or(usize::MAX)),
        utc_timestamp(d.started_ms),
        d.duration_ms.map(strings::duration).unwrap_or_default(),
    ]
}

fn draw_dumps(frame: &mut Frame<'_>, t: &Theme, view: &BackupsView, area: Rect) {
    if area.height == 0 {
        return;
    }
    let head = Rect { height: 1, ..area };
    let of = view.cluster.as_deref().map(|c| format!("of {c}")).unwrap_or_default();
    frame.render_widget(Paragraph::new(heading(t, strings::DUMPS_HEADING, of, t.muted)), head);
    let body = Rect { y: area.y + 1, height: area.height.saturating_sub(1), ..area };
    let dumps = match (&view.dumps, &view.cluster, &view.store) {
        (Some(Ok(d)), _, _) if !d.is_empty() => d,
        (Some(Ok(_)), _, _) => {
            return frame.render_widget(Paragraph::new(Line::styled(strings::NO_DUMPS, t.muted)), body)
        }
        (Some(Err(e)), _, _) => return frame.render_widget(Paragraph::new(Line::styled(e.as_str(), t.error)), body),
        (None, None, _) => {
            return frame.render_widget(Paragraph::new(Line::styled(strings::DUMPS_NO_CLUSTER, t.muted)), body)
        }
        (None, Some(_), StoreState::Ready { .. }) => {
            return frame.render_widget(Paragraph::new(Line::styled(strings::DUMPS_NOT_READ, t.muted)), body)
        }
        (None, Some(_), _) => return,
    };
    let fit = usize::from(body.height.saturating_sub(1));
    let rows = dumps
        .iter()
        .take(fit)
        .map(|d| {
            let style = match d.state.as_str() {
                "complete" | "done" | "verified" => t.state_ok,
                "running" => t.state_warn,
                _ => t.state_error,
            };
            (false, dump_cells(d), style)
        })
        .collect();
    frame.render_widget(fitted_table(t, &strings::DUMP_COLUMNS, rows, 1), body);
}

/// Lines at the top of a diff or restore view that stay while the rest scrolls.
const PANEL_HEAD_LINES: usize = 2;

/// Draws `lines` from `scroll` on; the heading lines always stay.
fn draw_scrolled(frame: &mut Frame<'_>, lines: Vec<Line<'_>>, scroll: usize, area: Rect) {
    if area.height == 0 {
        return;
    }
    let mut lines = lines.into_iter();
    let head: Vec<Line<'_>> = lines.by_ref().take(PANEL_HEAD_LINES).collect();
    let shown: Vec<Line<'_>> = head.into_iter().chain(lines.skip(scroll)).take(usize::from(area.height)).collect();
    frame.render_widget(Paragraph::new(shown), area);
}

/// Rows the diff view has below its heading (what scrolling moves through).
pub fn diff_line_count(d: &DiffView) -> usize {
    d.added.len() + d.removed.len() + d.changed.iter().map(|c| 1 + c.lines.len()).sum::<usize>() + 1
}

fn diff_lines<'a>(t: &Theme, d: &'a DiffView) -> Vec<Line<'a>> {
    let summary = format!("snapshot {} against {}", d.snapshot, d.against);
    let counts = format!(
        "{} added · {} removed · {} changed · {} unchanged · {}",
        d.added.len(),
        d.removed.len(),
        d.changed.len(),
        strings::thousands(d.unchanged),
        strings::PANEL_KEYS
    );
    let mut lines = vec![heading(t, strings::DIFF_HEADING, summary, t.text), Line::styled(counts, t.muted)];
    let size = |n: usize| human_bytes(n);
    for e in &d.added {
        lines.push(Line::styled(format!("+ {} ({})", e.path, size(e.bytes)), t.diff_added));
    }
    for e in &d.removed {
        lines.push(Line::styled(format!("- {} ({})", e.path, size(e.bytes)), t.diff_removed));
    }
    for c in &d.changed {
        lines.push(Line::styled(format!("~ {}", c.path), t.state_warn));
        for l in &c.lines {
            let style = if l.starts_with('+') && !l.starts_with("+++") {
                t.diff_added
            } else if l.starts_with('-') && !l.starts_with("---") {
                t.diff_removed
            } else {
                t.muted
            };
            lines.push(Line::styled(format!("    {l}"), style));
        }
    }
    if d.added.is_empty() && d.removed.is_empty() && d.changed.is_empty() {
        lines.push(Line::styled("no differences", t.state_ok));
    }
    lines
}

/// Rows the restore view has below its heading.
pub fn restore_line_count(r: &RestoreView) -> usize {
    let samples: usize = r.actions.iter().map(|a| a.sample.len().min(SAMPLE_PATHS_SHOWN)).sum();
    r.actions.iter().filter(|a| a.count > 0).count() + samples + r.problems.len() + 2
}

fn restore_lines<'a>(t: &Theme, r: &'a RestoreView, read_only: bool) -> Vec<Line<'a>> {
    let (title, keys) = if r.dry_run {
        let keys = if read_only { strings::PLAN_READ_ONLY } else { strings::PLAN_KEYS };
        (strings::RESTORE_PLAN_HEADING, keys)
    } else {
        (strings::RESTORE_RESULT_HEADING, strings::PANEL_KEYS)
    };
    let state = match (r.dry_run, r.cancelled) {
        (true, _) => "nothing written yet".to_string(),
        (false, true) => format!("cancelled after {}", strings::duration(r.duration_ms as i64)),
        (false, false) => format!("done in {}", strings::duration(r.duration_ms as i64)),
    };
    let summary = format!("snapshot {} ({}) → {} · policy {}", r.snapshot, r.source, r.target, r.policy);
    let mut lines = vec![heading(t, title, summary, t.text), Line::styled(format!("{state} · {keys}"), t.muted)];
    for a in r.actions.iter().filter(|a| a.count > 0) {
        let style = match a.label.as_str() {
            "create" => t.diff_added,
            "overwrite" => t.state_warn,
            "conflict" | "failed" => t.state_error,
            _ => t.text,
        };
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<22}", a.label), style),
            Span::styled(format!("{:>9}", strings::thousands(a.count)), t.text),
        ]));
        for p in a.sample.iter().take(SAMPLE_PATHS_SHOWN) {
            lines.push(Line::styled(format!("      {p}"), t.muted));
        }
    }
    if r.actions.iter().all(|a| a.count == 0) {
        lines.push(Line::styled(format!("  {}", strings::RESTORE_NOTHING_TO_DO), t.muted));
    }
    for p in &r.problems {
        lines.push(Line::styled(format!("  {p}"), t.error));
    }
    if let Some(names) = &r.confirmation_needed {
        lines.push(Line::styled(strings::production_cluster(names), t.header_production));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_fills_with_the_fraction() {
        let p = Progress { done: 1, total: Some(4), ..Progress::default() };
        let bar = progress_bar(&p).unwrap();
        assert!(bar.ends_with(" 25%"), "{bar}");
        assert_eq!(bar.matches('█').count(), BAR_CELLS / 4);
        assert_eq!(progress_bar(&Progress::default()), None, "no total, no bar");
    }
}
