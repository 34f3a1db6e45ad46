//! The cluster overview: one row per cluster, worst first, with the cells an on-call operator
//! scans for (verdict, tier, primary and epoch, replicas, worst lag, automatic failover, the
//! first problem).

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};
use ratatui::Frame;

use super::cluster_pane::verdict_span;
use crate::cluster::table::millis;
use crate::console::screens::overview::OverviewScreen;
use crate::console::strings;
use crate::console::theme::Theme;

/// CLUSTER, VERDICT, TIER, PRIMARY, REPLICAS, WORST LAG, FAILOVER (the problem takes the rest).
const WIDTHS: [u16; 7] = [16, 11, 11, 16, 8, 9, 8];

pub fn draw(frame: &mut Frame<'_>, t: &Theme, s: &OverviewScreen, area: Rect) {
    let mut title = vec![Span::styled(" Clusters ", t.title), Span::styled("worst first ", t.muted)];
    if let Some(f) = s.filter_text() {
        title.push(Span::styled(format!("filter: {f} "), t.input));
    }
    let block = Block::default().borders(Borders::ALL).border_style(t.border_focused).title(Line::from(title));
    if s.rows().is_empty() {
        let text = if !s.names_loaded() {
            strings::LOADING
        } else if s.cluster_count() == 0 {
            strings::NO_CLUSTERS
        } else {
            strings::NO_MATCHES
        };
        frame.render_widget(Paragraph::new(Line::styled(text, t.muted)).block(block), area);
        return;
    }
    let header = Row::new(
        ["CLUSTER", "VERDICT", "TIER", "PRIMARY", "REPLICAS", "WORST LAG", "FAILOVER", "PROBLEM"].map(Cell::from),
    )
    .style(t.title);
    let height = usize::from(area.height.saturating_sub(3));
    let offset = s.cursor.saturating_sub(height.saturating_sub(1));
    let rows = s.rows().iter().enumerate().skip(offset).take(height).map(|(i, r)| {
        let v = &r.view;
        let config = v.config.as_ref();
        let tier = config.map_or("-", |c| c.tier.as_str());
        let tier_style = if config.is_some_and(|c| c.is_production()) { t.header_production } else { t.text };
        let primary = v.primary.as_ref().map_or("-".to_string(), |p| format!("{} (e{})", p.node, p.epoch));
        let failover = v.automatic_failover.as_ref().map_or("-", strings::auto_failover_cell);
        let row = Row::new(vec![
            Cell::from(r.name.clone()),
            Cell::from(verdict_span(t, v.verdict)),
            Cell::from(Span::styled(tier.to_string(), tier_style)),
            Cell::from(primary),
            Cell::from(r.replicas.to_string()),
            Cell::from(r.worst_lag_ms.map_or("-".to_string(), millis)),
            Cell::from(Span::styled(
                failover,
                v.automatic_failover.as_ref().map_or(t.text, |a| super::cluster_pane::auto_failover_style(t, a.mode)),
            )),
            Cell::from(Span::styled(v.problems.first().cloned().unwrap_or_default(), t.error)),
        ]);
        if offset + i == s.cursor {
            row.style(t.selected)
        } else {
            row.style(Style::default())
        }
    });
    let mut widths: Vec<Constraint> = WIDTHS.iter().map(|w| Constraint::Length(*w)).collect();
    widths.push(Constraint::Min(10));
    frame.render_widget(Table::new(rows, widths).header(header).block(block).column_spacing(1), area);
}
