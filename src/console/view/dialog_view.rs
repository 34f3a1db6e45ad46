//! The create, delete, run-operation, restore and cancel-job dialogs, drawn over the current
//! screen.

use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use crate::console::dialogs::{
    AclField, AclForm, CancelJobConfirm, CreateField, CreateForm, DeleteConfirm, RestoreConfirm, RunConfirm,
    CREATE_MODES, TEMPLATES,
};
use crate::console::strings;
use crate::console::theme::Theme;

fn frame_popup(frame: &mut Frame<'_>, t: &Theme, area: Rect, title: &str, lines: Vec<Line<'_>>) {
    let width = 72.min(area.width.saturating_sub(4));
    let height = (lines.len() as u16 + 2).min(area.height.saturating_sub(2));
    let rect = area.centered(Constraint::Length(width), Constraint::Length(height));
    frame.render_widget(Clear, rect);
    let block =
        Block::default().borders(Borders::ALL).border_style(t.border_focused).title(Span::styled(title, t.title));
    frame.render_widget(Paragraph::new(lines).block(block).wrap(Default::default()), rect);
}

pub fn create(frame: &mut Frame<'_>, t: &Theme, f: &CreateForm, area: Rect) {
    let field = |label: &str, value: String, which: CreateField| {
        let style = if f.field == which { t.selected } else { t.text };
        Line::from(vec![Span::styled(format!("{label:<10}"), t.label), Span::styled(value, style)])
    };
    let mut lines = vec![
        Line::styled(format!("New child of {}", f.parent), t.input),
        Line::raw(""),
        field("name", format!("{}▏", f.name), CreateField::Name),
        field("mode", format!("‹ {} ›", CREATE_MODES[f.mode]), CreateField::Mode),
    ];
    if CREATE_MODES[f.mode] == "ttl" {
        lines.push(field("ttl ms", f.ttl_ms.clone(), CreateField::Ttl));
    }
    lines.push(field("data", format!("‹ {} ›", TEMPLATES[f.template].0), CreateField::Template));
    lines.push(Line::raw(""));
    lines.push(Line::styled(format!("will create {}", f.path()), t.muted));
    if let Some(e) = &f.error {
        lines.push(Line::styled(e.as_str(), t.error));
    }
    frame_popup(frame, t, area, " Create ", lines);
}

pub fn acl(frame: &mut Frame<'_>, t: &Theme, f: &AclForm, area: Rect) {
    let cursor = |field: AclField| if f.field == field { "▏" } else { "" };
    let mut lines = vec![
        Line::styled(strings::acl_edit_question(&f.path, f.acl_version), t.input),
        Line::styled(strings::ACL_EDIT_HELP, t.muted),
        Line::raw(""),
        Line::from(vec![
            Span::styled("acl  ", t.label),
            Span::styled(
                format!("{}{}", f.text, cursor(AclField::Acl)),
                if f.field == AclField::Acl { t.selected } else { t.text },
            ),
        ]),
    ];
    if let Some(c) = &f.cluster {
        lines.push(Line::raw(""));
        lines.push(Line::from(vec![
            Span::styled(strings::acl_type_cluster(c), t.header_production),
            Span::styled(format!("{}{}", f.typed, cursor(AclField::ClusterName)), t.input),
        ]));
    }
    lines.push(Line::raw(""));
    match &f.error {
        Some(e) => lines.push(Line::styled(e.as_str(), t.error)),
        None => lines.push(Line::styled(strings::ACL_EDIT_KEYS, t.label)),
    }
    frame_popup(frame, t, area, strings::ACL_EDIT_TITLE, lines);
}

pub fn delete(frame: &mut Frame<'_>, t: &Theme, d: &DeleteConfirm, area: Rect) {
    let mut lines = vec![Line::styled(format!("Delete {} (version {})?", d.plan.path, d.plan.version), t.input)];
    if d.plan.descendants > 0 {
        lines.push(Line::styled(
            format!("and everything under it: {} descendant znode(s)", d.plan.descendants),
            t.error,
        ));
        for p in d.plan.paths.iter().take(5) {
            lines.push(Line::styled(format!("  {p}"), t.muted));
        }
        if d.plan.paths.len() > 5 {
            lines.push(Line::styled(format!("  … and {} more", d.plan.paths.len() - 5), t.muted));
        }
    }
    if let Some(c) = &d.cluster {
        lines.push(Line::styled(format!("{c} is a production cluster."), t.header_production));
    }
    lines.push(Line::raw(""));
    match d.must_type() {
        Some(name) => lines.push(Line::from(vec![
            Span::styled(format!("type {name:?} and enter to delete, esc to keep it:  "), t.label),
            Span::styled(format!("{}▏", d.typed), t.input),
        ])),
        None => lines.push(Line::styled("y delete · any other key keeps it", t.label)),
    }
    if let Some(e) = &d.error {
        lines.push(Line::styled(e.as_str(), t.error));
    }
    frame_popup(frame, t, area, " Delete ", lines);
}

pub fn run(frame: &mut Frame<'_>, t: &Theme, c: &RunConfirm, area: Rect) {
    let p = &c.plan;
    let mut lines = vec![
        Line::styled(strings::run_question(p), t.input),
        Line::styled(strings::expected_block(p.expected_block_ms), t.label),
    ];
    for w in &p.warnings {
        lines.push(Line::styled(strings::plan_warning(w), t.state_warn));
    }
    if c.production {
        lines.push(Line::styled(strings::production_cluster(&c.cluster), t.header_production));
    }
    lines.push(Line::raw(""));
    if c.production {
        lines.push(Line::from(vec![
            Span::styled(strings::type_cluster_to_run(&c.cluster), t.label),
            Span::styled(format!("{}▏", c.typed), t.input),
        ]));
    } else {
        lines.push(Line::styled(strings::RUN_YES_NO, t.label));
    }
    if let Some(e) = &c.error {
        lines.push(Line::styled(e.as_str(), t.error));
    }
    frame_popup(frame, t, area, strings::RUN_TITLE, lines);
}

pub fn restore(frame: &mut Frame<'_>, t: &Theme, c: &RestoreConfirm, area: Rect) {
    let mut lines = vec![Line::styled(strings::restore_question(c), t.input)];
    for (label, count) in &c.counts {
        let style = match label.as_str() {
            "create" => t.diff_added,
            "overwrite" | "conflict" | "failed" => t.state_warn,
            _ => t.muted,
        };
        lines.push(Line::styled(format!("  {:>9}  {label}", strings::thousands(*count)), style));
    }
    if let Some(names) = &c.must_type {
        lines.push(Line::styled(strings::production_cluster(names), t.header_production));
    }
    lines.push(Line::raw(""));
    match &c.must_type {
        Some(names) => lines.push(Line::from(vec![
            Span::styled(strings::type_to_restore(names), t.label),
            Span::styled(format!("{}▏", c.typed), t.input),
        ])),
        None => lines.push(Line::styled(strings::RESTORE_YES_NO, t.label)),
    }
    if let Some(e) = &c.error {
        lines.push(Line::styled(e.as_str(), t.error));
    }
    frame_popup(frame, t, area, strings::RESTORE_TITLE, lines);
}

pub fn cancel_job(frame: &mut Frame<'_>, t: &Theme, c: &CancelJobConfirm, area: Rect) {
    let lines = vec![
        Line::styled(strings::cancel_job_question(c.label), t.input),
        Line::raw(""),
        Line::styled(strings::CANCEL_YES_NO, t.label),
    ];
    frame_popup(frame, t, area, strings::CANCEL_JOB_TITLE, lines);
}
