//! The failover screen: the operation in progress (or the one chosen in the history) with its
//! steps and the lock holder, the plan when one was asked for (most important first: refusals,
//! warnings, the write-block window, then candidates with their reasons, positions, steps),
//! and the history table at the bottom.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use crate::console::screens::failover::{FailoverView, PlanState};
use crate::console::shared::Shared;
use crate::console::strings;
use crate::console::theme::Theme;
use crate::failover::journal::{OpState, Record, StepState};
use crate::failover::plan::Plan;
use crate::zk::format::utc_timestamp;

/// Below this many columns the history drops the BY column and shortens the time.
const WIDE_MIN_COLS: u16 = 110;
/// Rows the history keeps (its heading and column titles included) when a plan is shown.
const HISTORY_MIN_ROWS: u16 = 4;
/// Width of a step's name column.
const STEP_NAME_COLS: usize = 13;
/// Width of a step's state column.
const STEP_STATE_COLS: usize = 11;
/// Width of a step's duration column.
const STEP_DURATION_COLS: usize = 9;

pub fn draw(frame: &mut Frame<'_>, sh: &Shared, view: &FailoverView, area: Rect) {
    let t = &sh.theme;
    let title = match &view.cluster {
        Some(c) => format!(" {} {c} ", strings::FAILOVER_TITLE),
        None => format!(" {} ", strings::FAILOVER_TITLE),
    };
    let block =
        Block::default().borders(Borders::ALL).border_style(t.border_focused).title(Span::styled(title, t.title));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if view.cluster.is_none() {
        frame.render_widget(Paragraph::new(Line::styled(strings::NO_CLUSTER_SELECTED, t.muted)), inner);
        return;
    }
    let now_ms = sh.now_ms();
    let plan_shown = view.plan != PlanState::None;
    let mut top = operation_lines(t, view, now_ms, plan_shown);
    top.push(Line::raw(""));
    top.extend(plan_lines(t, view, now_ms, sh.read_only));

    let history_rows = u16::try_from(view.history.len()).unwrap_or(u16::MAX).saturating_add(2);
    let top_rows = u16::try_from(top.len()).unwrap_or(u16::MAX);
    let history_h = if plan_shown {
        history_rows.min(HISTORY_MIN_ROWS.max(inner.height / 4).max(inner.height.saturating_sub(top_rows)))
    } else {
        history_rows.max(HISTORY_MIN_ROWS).min(inner.height.saturating_sub(top_rows.min(inner.height / 2)))
    }
    .min(inner.height);
    let top_area = Rect { height: inner.height - history_h, ..inner };
    let history_area = Rect { y: inner.y + top_area.height, height: history_h, ..inner };
    frame.render_widget(Paragraph::new(top).wrap(Wrap { trim: false }), top_area);
    draw_history(frame, t, view, history_area);
}

fn heading<'a>(t: &Theme, text: &'a str, rest: String, rest_style: Style) -> Line<'a> {
    Line::from(vec![Span::styled(format!("{text}  "), t.title), Span::styled(rest, rest_style)])
}

fn step_style(t: &Theme, s: StepState) -> Style {
    match s {
        StepState::Done => t.state_ok,
        StepState::Running | StepState::RolledBack => t.state_warn,
        StepState::Failed => t.state_error,
        StepState::Pending | StepState::Skipped => t.muted,
    }
}

fn op_style(t: &Theme, s: OpState) -> Style {
    match s {
        OpState::Done => t.state_ok,
        OpState::Running | OpState::RolledBack => t.state_warn,
        OpState::Failed => t.state_error,
    }
}

fn step_mark(s: StepState) -> &'static str {
    match s {
        StepState::Done => "✓",
        StepState::Running => "▶",
        StepState::Failed => "✗",
        StepState::Pending => "·",
        StepState::Skipped => "-",
        StepState::RolledBack => "↺",
    }
}

/// The operation section: its title, the lock, and (unless a plan needs the room and the
/// operation is over) every step.
fn operation_lines<'a>(t: &Theme, view: &'a FailoverView, now_ms: i64, compact: bool) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    let lock_style = if view.lock_held() { t.state_warn } else { t.muted };
    let lock = Line::styled(strings::lock_line(view.lock_holder(), view.lock_held()), lock_style);
    let Some((path, r)) = view.current() else {
        lines.push(heading(t, strings::OPERATION_HEADING, strings::NO_OPERATION.into(), t.muted));
        lines.push(lock);
        return lines;
    };
    let name = path.map(|p| crate::zk::base_name(p).to_string()).unwrap_or_default();
    lines.push(Line::from(vec![
        Span::styled(format!("{} {name}  ", strings::OPERATION_HEADING), t.title),
        Span::styled(strings::operation_title(r), op_style(t, r.state)),
    ]));
    lines.push(lock);
    let dur = |s: &crate::failover::journal::Step| match (s.started_ms, s.finished_ms) {
        (Some(a), Some(b)) => strings::duration(b - a),
        (Some(a), None) => format!("{}…", strings::duration((now_ms - a).max(0))),
        _ => String::new(),
    };
    if compact && view.detail.is_none() {
        // The plan needs the room: a finished operation is its title, a running one its
        // steps on one (wrapped) line.
        if r.state == OpState::Running {
            let mut spans = Vec::new();
            for s in &r.steps {
                let d = dur(s);
                let text = if d.is_empty() { s.name.clone() } else { format!("{} {d}", s.name) };
                spans.push(Span::styled(format!("{} {text}  ", step_mark(s.state)), step_style(t, s.state)));
            }
            lines.push(Line::from(spans));
        }
        return lines;
    }
    for s in &r.steps {
        let dur = dur(s);
        let style = step_style(t, s.state);
        lines.push(Line::from(vec![
            Span::styled(format!("  {} ", step_mark(s.state)), style),
            Span::styled(format!("{:<STEP_NAME_COLS$}", s.name), t.label),
            Span::styled(format!("{:<STEP_STATE_COLS$}", s.state.label()), style),
            Span::styled(format!("{dur:>STEP_DURATION_COLS$}  "), t.text),
            Span::styled(s.detail.clone().unwrap_or_default(), t.muted),
        ]));
    }
    if let Some(o) = &r.outcome {
        lines.push(Line::styled(format!("  {o}"), op_style(t, r.state)));
    }
    lines
}

fn plan_lines<'a>(t: &Theme, view: &'a FailoverView, now_ms: i64, read_only: bool) -> Vec<Line<'a>> {
    match &view.plan {
        PlanState::None => vec![heading(t, strings::PLAN_HEADING, strings::NO_PLAN.into(), t.muted)],
        PlanState::Requested { .. } => vec![heading(t, strings::PLAN_HEADING, strings::PLANNING.into(), t.state_warn)],
        PlanState::Failed { kind, error, .. } => {
            vec![heading(t, strings::PLAN_HEADING, strings::plan_failed(*kind, error), t.error)]
        }
        PlanState::Ready { planned, at_ms, .. } => {
            ready_plan_lines(t, &planned.plan, ((now_ms - at_ms) / 1000).max(0), read_only)
        }
    }
}

fn ready_plan_lines<'a>(t: &Theme, p: &'a Plan, age_s: i64, read_only: bool) -> Vec<Line<'a>> {
    let mut lines = vec![heading(t, strings::PLAN_HEADING, strings::plan_title(p, age_s), t.text)];
    for r in &p.refusals {
        lines.push(Line::styled(strings::plan_refusal(r), t.error));
    }
    for w in &p.warnings {
        lines.push(Line::styled(strings::plan_warning(w), t.state_warn));
    }
    let next = match (p.can_run(), read_only) {
        (true, false) => strings::PLAN_CAN_RUN,
        (true, true) => strings::PLAN_READ_ONLY,
        (false, _) => "",
    };
    lines.push(Line::from(vec![
        Span::styled(strings::expected_block(p.expected_block_ms), t.label),
        Span::styled(if next.is_empty() { String::new() } else { format!(" · {next}") }, t.state_ok),
    ]));
    lines.push(Line::styled(strings::CANDIDATES_HEADING, t.label));
    let mut rank = 0;
    for c in &p.candidates {
        let (mark, style) = if c.eligible {
            rank += 1;
            (format!("{rank}."), t.state_ok)
        } else {
            ("--".to_string(), t.state_error)
        };
        let behind = c.behind.map(|b| format!(" · behind {b}")).unwrap_or_default();
        lines.push(Line::from(vec![
            Span::styled(format!("  {mark:<3} {:<10}", c.node), style),
            Span::styled(
                format!(
                    " received {} · applied {}{behind}",
                    c.received.as_deref().unwrap_or("-"),
                    c.applied.as_deref().unwrap_or("-")
                ),
                t.muted,
            ),
        ]));
        for r in &c.reasons {
            lines.push(Line::styled(format!("        {r}"), if c.eligible { t.text } else { t.error }));
        }
        for e in &c.errant {
            lines.push(Line::styled(format!("        errant: {e}"), t.error));
        }
    }
    let positions: Vec<String> = p
        .positions
        .iter()
        .map(|n| {
            let ro = match n.read_only {
                Some(true) => " read-only",
                Some(false) => " writable",
                None => "",
            };
            format!("{} {} {}{ro}", n.node, n.role, n.position.as_deref().unwrap_or("-"))
        })
        .collect();
    lines.push(Line::from(vec![
        Span::styled(format!("{}: ", strings::POSITIONS_HEADING), t.label),
        Span::styled(positions.join(" · "), t.text),
    ]));
    let steps: Vec<&str> = p.steps.iter().map(|s| s.name.as_str()).collect();
    lines.push(Line::from(vec![
        Span::styled(format!("{}: ", strings::STEPS_HEADING), t.label),
        Span::styled(steps.join(" → "), t.text),
    ]));
    lines
}

/// One history row's cells (without the BY column when narrow).
fn history_cells(r: &Record, wide: bool) -> Vec<String> {
    let started = utc_timestamp(r.started_ms);
    let started = if wide { started } else { started.get(5..).unwrap_or(&started).to_string() };
    let mut cells = vec![
        r.kind.label().to_string(),
        r.state.label().to_string(),
        started,
        r.duration_ms().map(strings::duration).unwrap_or_default(),
        format!("{} → {}", r.old_primary, r.new_primary.as_deref().unwrap_or("?")),
        match r.epoch_after {
            Some(e) => format!("{} → {e}", r.epoch_before),
            None => r.epoch_before.to_string(),
        },
        r.write_block_ms.map(|ms| format!("{ms} ms")).unwrap_or_default(),
    ];
    if wide {
        cells.push(format!("{}@{}", r.owner.user, r.owner.origin));
    }
    cells.push(r.outcome.clone().unwrap_or_default());
    cells
}

fn draw_history(frame: &mut Frame<'_>, t: &Theme, view: &FailoverView, area: Rect) {
    if area.height == 0 {
        return;
    }
    let head = Rect { height: 1, ..area };
    let count = format!("{} records, newest first · enter shows one's steps", view.history.len());
    frame.render_widget(Paragraph::new(heading(t, strings::HISTORY_HEADING, count, t.muted)), head);
    let body = Rect { y: area.y + 1, height: area.height.saturating_sub(1), ..area };
    if view.history.is_empty() {
        let text = if view.history_loaded { strings::NO_HISTORY } else { strings::LOADING };
        frame.render_widget(Paragraph::new(Line::styled(text, t.muted)), body);
        return;
    }
    let wide = area.width >= WIDE_MIN_COLS;
    let titles: Vec<&str> =
        strings::HISTORY_COLUMNS.iter().enumerate().filter(|(i, _)| wide || *i != 7).map(|(_, s)| *s).collect();
    let rows_fit = usize::from(body.height.saturating_sub(1));
    let offset = view.cursor.saturating_sub(rows_fit.saturating_sub(1));
    let shown: Vec<(usize, Vec<String>, Style)> = view
        .entries()
        .enumerate()
        .skip(offset)
        .take(rows_fit)
        .map(|(i, (path, r))| match r {
            Ok(r) => (i, history_cells(r, wide), op_style(t, r.state)),
            Err(e) => {
                let mut cells = vec![crate::zk::base_name(path).to_string(), "unreadable".into()];
                cells.resize(titles.len() - 1, String::new());
                cells.push(e.clone());
                (i, cells, t.state_error)
            }
        })
        .collect();
    let widths = super::fit_widths(&titles, shown.iter().map(|(_, cells, _)| cells.as_slice()), 8);
    let header = Row::new(titles.iter().map(|s| Cell::from(*s))).style(t.title);
    let rows = shown.into_iter().map(|(i, cells, state_style)| {
        let row = Row::new(cells.into_iter().enumerate().map(|(c, text)| {
            if c == 1 {
                Cell::from(Span::styled(text, state_style))
            } else {
                Cell::from(text)
            }
        }));
        if i == view.cursor {
            row.style(t.selected)
        } else {
            row
        }
    });
    frame.render_widget(Table::new(rows, widths).header(header).column_spacing(1), body);
}
