//! The cluster screen: the cluster's summary, automatic failover (with what the coordinator
//! says when it is worth a look) and problems, then one row per node in topology
//! order (replicas indented under their source), cells from `cluster::table` so that
//! `myzoo status` prints the same; and the node popup with the full status.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table};
use ratatui::Frame;

use crate::cluster::coordinator::AutoMode;
use crate::cluster::health::{ClusterView, NodeState, Verdict};
use crate::cluster::table::{node_cells, HEADERS};
use crate::console::clusters::ClusterStore;
use crate::console::strings;
use crate::console::theme::Theme;

/// Column widths for the node table (the last column, LAST ERROR, takes the rest).
const WIDTHS: [u16; 10] = [7, 7, 11, 3, 6, 7, 10, 4, 8, 6];
/// Columns dropped below `WIDE_COLS` columns (SEMI, VERSION: in the node popup anyway).
const NARROW_DROPPED: [usize; 2] = [7, 8];
const WIDE_COLS: u16 = 110;
/// Problems listed above the table before "…and N more".
const MAX_PROBLEM_LINES: usize = 3;

pub fn state_style(t: &Theme, s: NodeState) -> Style {
    match s {
        NodeState::Ok => t.state_ok,
        NodeState::Lagging | NodeState::Stale | NodeState::Missing => t.state_warn,
        NodeState::ReplicationBroken | NodeState::ServerDown | NodeState::AgentGone | NodeState::Unreadable => {
            t.state_error
        }
    }
}

pub fn verdict_span(t: &Theme, v: Verdict) -> Span<'static> {
    match v {
        Verdict::Healthy => Span::styled(" HEALTHY ", t.badge_ok),
        Verdict::Degraded => Span::styled(" DEGRADED ", t.badge_warn),
        Verdict::Unhealthy => Span::styled(" UNHEALTHY ", t.badge_error),
    }
}

/// Automatic failover's style: a cool-down or a pause is worth noticing, no coordinator while
/// automatic failover is expected is a fault.
pub fn auto_failover_style(t: &Theme, m: AutoMode) -> Style {
    match m {
        AutoMode::On => t.state_ok,
        AutoMode::Off => t.label,
        AutoMode::Paused | AutoMode::Blocked => t.state_warn,
        AutoMode::NoCoordinator => t.state_error,
    }
}

pub fn draw(frame: &mut Frame<'_>, t: &Theme, store: &ClusterStore, area: Rect) {
    let title = match &store.selected {
        Some(c) => format!(" {} {c} ", strings::CLUSTER_TITLE),
        None => format!(" {} ", strings::CLUSTER_TITLE),
    };
    let mut title_spans = vec![Span::styled(title, t.title)];
    if store.names.len() > 1 {
        title_spans.push(Span::styled(format!("({} clusters: [ ] to switch) ", store.names.len()), t.muted));
    }
    let block = Block::default().borders(Borders::ALL).border_style(t.border_focused).title(Line::from(title_spans));
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let Some(view) = &store.view else {
        let text = if store.names_loaded && store.names.is_empty() {
            strings::NO_CLUSTERS
        } else if store.selected.is_none() && store.names_loaded {
            strings::NO_CLUSTER_SELECTED
        } else {
            strings::LOADING
        };
        frame.render_widget(Paragraph::new(Line::styled(text, t.muted)), inner);
        return;
    };
    let mut lines = vec![summary(t, view)];
    if let Some(a) = &view.automatic_failover {
        let style = auto_failover_style(t, a.mode);
        lines.push(Line::from(vec![Span::raw(" "), Span::styled(strings::auto_failover_line(a), style)]));
        if let Some(r) = &a.reason {
            lines.push(Line::from(vec![Span::raw(" "), Span::styled(strings::auto_failover_reason(r), t.state_warn)]));
        }
    }
    for p in view.problems.iter().take(MAX_PROBLEM_LINES) {
        lines.push(Line::styled(format!("! {p}"), t.error));
    }
    if view.problems.len() > MAX_PROBLEM_LINES {
        lines.push(Line::styled(format!("… and {} more", view.problems.len() - MAX_PROBLEM_LINES), t.muted));
    }
    let head = lines.len() as u16 + 1;
    frame.render_widget(Paragraph::new(lines), Rect { height: head.min(inner.height), ..inner });
    let table_area = Rect { y: inner.y + head, height: inner.height.saturating_sub(head), ..inner };
    draw_table(frame, t, store, view, table_area);
}

fn summary<'a>(t: &Theme, v: &'a ClusterView) -> Line<'a> {
    let mut spans = vec![verdict_span(t, v.verdict), Span::raw(" ")];
    if let Some(c) = &v.config {
        let tier_style = if c.is_production() { t.header_production } else { t.label };
        spans.push(Span::styled(format!("tier {} ", if c.tier.is_empty() { "?" } else { &c.tier }), tier_style));
    }
    match (&v.primary, &v.primary_error) {
        (Some(p), _) => spans.push(Span::styled(format!(" primary {} (epoch {})", p.node, p.epoch), t.text)),
        (None, Some(e)) => spans.push(Span::styled(format!(" {e}"), t.error)),
        (None, None) => spans.push(Span::styled(" no primary recorded", t.error)),
    }
    Line::from(spans)
}

fn draw_table(frame: &mut Frame<'_>, t: &Theme, store: &ClusterStore, view: &ClusterView, area: Rect) {
    let shown = |c: &usize| area.width >= WIDE_COLS || !NARROW_DROPPED.contains(c);
    let header =
        Row::new(HEADERS.iter().enumerate().filter(|(c, _)| shown(c)).map(|(_, h)| Cell::from(*h))).style(t.title);
    let rows = view.topology.iter().enumerate().filter_map(|(i, line)| {
        let n = view.node(&line.node)?;
        let cells = node_cells(view, n);
        let style = if i == store.cursor { t.selected } else { Style::default() };
        Some(
            Row::new(cells.into_iter().enumerate().filter(|(c, _)| shown(c)).map(|(c, text)| {
                let s = match c {
                    2 => state_style(t, n.state),
                    10 => t.error,
                    _ => t.text,
                };
                Cell::from(Span::styled(text, s))
            }))
            .style(style),
        )
    });
    let mut widths: Vec<Constraint> =
        WIDTHS.iter().enumerate().filter(|(c, _)| shown(c)).map(|(_, w)| Constraint::Length(*w)).collect();
    widths.push(Constraint::Min(10));
    frame.render_widget(Table::new(rows, widths).header(header).column_spacing(1), area);
}

/// The popup with one node's full status: derived flags first, then the published JSON.
pub fn node_popup(frame: &mut Frame<'_>, t: &Theme, store: &ClusterStore, node: &str, scroll: u16, area: Rect) {
    let width = area.width.saturating_sub(8).max(20);
    let height = area.height.saturating_sub(4).max(5);
    let popup = area.centered(Constraint::Length(width), Constraint::Length(height));
    frame.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focused)
        .title(Span::styled(format!(" {} {node} ", strings::NODE_TITLE), t.title));
    let mut lines: Vec<Line<'_>> = Vec::new();
    match store.view.as_ref().and_then(|v| v.node(node)) {
        None => lines.push(Line::styled(strings::LOADING, t.muted)),
        Some(n) => {
            lines.push(Line::from(vec![
                Span::styled("state ", t.label),
                Span::styled(n.state.label(), state_style(t, n.state)),
                Span::styled(if n.recorded_primary { "  (recorded primary)" } else { "" }, t.label),
            ]));
            for f in &n.flags {
                lines.push(Line::styled(format!("! {f}"), t.error));
            }
            match &n.status {
                Some(s) => {
                    let json = serde_json::to_string_pretty(s).unwrap_or_default();
                    lines.extend(json.lines().map(|l| Line::styled(l.to_string(), t.text)));
                }
                None => lines.push(Line::styled("no status published", t.muted)),
            }
        }
    }
    frame.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), popup);
}
