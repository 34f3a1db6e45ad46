//! The editor screen: the text with line numbers, validation problems under it, and the save
//! flow's popups (diff to confirm, conflict with both diffs, overwrite, close).

use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use crate::console::editor::{Editor, EditorKind, Remote, Stage};
use crate::console::theme::Theme;
use crate::diff::{DiffLine, Tag};

/// Problem lines shown under the text before "…and N more".
const MAX_PROBLEM_LINES: usize = 4;

pub fn draw(frame: &mut Frame<'_>, t: &Theme, e: &Editor, area: Rect) {
    let kind = match e.kind {
        EditorKind::Json => "json",
        EditorKind::Text => "text",
        EditorKind::HexReadOnly => "binary, read-only hex",
    };
    let modified = if e.changed { " [modified]" } else { "" };
    let mut title = vec![
        Span::styled(format!(" Edit {} ", e.path), t.title),
        Span::styled(format!("version {} · {kind}{modified} ", e.base_version), t.muted),
    ];
    if e.schema.is_some() {
        title.push(Span::styled("· cluster config schema ", t.muted));
    }
    match e.remote {
        Remote::Unchanged => {}
        Remote::ChangedTo(v) => {
            title.push(Span::styled(format!(" changed by someone else, now version {v} "), t.badge_warn))
        }
        Remote::Deleted => title.push(Span::styled(" deleted by someone else ", t.badge_error)),
    }
    let block = Block::default().borders(Borders::ALL).border_style(t.border_focused).title(Line::from(title));
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let footer = footer_lines(t, e);
    let text_height = inner.height.saturating_sub(footer.len() as u16);
    frame.render_widget(&e.textarea, Rect { height: text_height, ..inner });
    let footer_area = Rect { y: inner.y + text_height, height: inner.height - text_height, ..inner };
    frame.render_widget(Paragraph::new(footer), footer_area);

    match &e.stage {
        Stage::ConfirmSave { diff, stats } => {
            let head =
                format!("Save {}? {} added, {} removed · y/enter save · esc back", e.path, stats.added, stats.removed);
            popup(frame, t, area, " Review the change ", &head, &[("stored → yours", diff)]);
        }
        Stage::Conflict { theirs, yours_vs_theirs, theirs_vs_original, .. } => {
            let head = format!(
                "Someone changed {} (now version {}) since you opened it at version {}. r merge yours onto theirs · k keep editing · o overwrite",
                e.path, theirs.stat.version, e.base_version
            );
            let parts: [(&str, &Vec<DiffLine>); 2] =
                [("theirs → yours", yours_vs_theirs), ("what they changed (original → theirs)", theirs_vs_original)];
            popup(frame, t, area, " Conflict ", &head, &parts);
        }
        Stage::ConfirmOverwrite { theirs } => {
            let head = format!(
                "Overwrite their version {} with yours? Their change will be lost. y overwrite · any other key back",
                theirs.stat.version
            );
            popup(frame, t, area, " Overwrite ", &head, &[]);
        }
        Stage::TypeName { cluster, typed, .. } => {
            let head = format!(
                "{cluster} is a production cluster. Type its name to write, enter to confirm, esc to go back:  {typed}▏"
            );
            popup(frame, t, area, " Production ", &head, &[]);
        }
        Stage::ConfirmClose => {
            popup(frame, t, area, " Close ", "Unsaved changes. k keep them as a draft · d discard · esc back", &[]);
        }
        _ => {}
    }
}

fn footer_lines<'a>(t: &Theme, e: &'a Editor) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    if let Stage::Search(q) = &e.stage {
        lines.push(Line::from(vec![Span::styled("find: ", t.hint_key), Span::styled(q.as_str(), t.input)]));
    }
    if let Some(m) = &e.message {
        lines.push(Line::styled(m.as_str(), t.notice_info));
    }
    if e.stage == Stage::Saving {
        lines.push(Line::styled("saving…", t.muted));
    }
    for p in e.problems.iter().take(MAX_PROBLEM_LINES) {
        let style = if p.error { t.error } else { t.state_warn };
        lines.push(Line::styled(format!("line {} col {}: {}", p.line, p.column, p.message), style));
    }
    if e.problems.len() > MAX_PROBLEM_LINES {
        lines.push(Line::styled(format!("… and {} more", e.problems.len() - MAX_PROBLEM_LINES), t.muted));
    }
    // The line stays while a validation is pending ("checking JSON…"): if it came and went
    // with every key, the text area's height would change twice per key, and the text area
    // rebuilds its whole screen map when its height changes (over 50,000 lines in a 1 MB
    // document: the keystroke p99 went from 32 ms to 7 ms end to end with the line kept).
    if e.kind == EditorKind::Json && e.problems.is_empty() {
        if e.validated == e.generation {
            lines.push(Line::styled("valid JSON", t.state_ok));
        } else {
            lines.push(Line::styled("checking JSON…", t.muted));
        }
    }
    lines
}

fn diff_line<'a>(t: &Theme, d: &'a DiffLine) -> Line<'a> {
    match d.tag {
        Tag::Added => Line::styled(format!("+ {}", d.text), t.diff_added),
        Tag::Removed => Line::styled(format!("- {}", d.text), t.diff_removed),
        Tag::Same => Line::styled(format!("  {}", d.text), t.text),
        Tag::Fold => Line::styled("  …", t.muted),
    }
}

fn popup(frame: &mut Frame<'_>, t: &Theme, area: Rect, title: &str, head: &str, parts: &[(&str, &Vec<DiffLine>)]) {
    let width = area.width.saturating_sub(4).max(20);
    let wanted: usize = 2 + parts.iter().map(|(_, d)| d.len() + 1).sum::<usize>() + 2;
    let height = (wanted as u16).clamp(5, area.height.saturating_sub(2));
    let rect = area.centered(Constraint::Length(width), Constraint::Length(height));
    frame.render_widget(Clear, rect);
    let block =
        Block::default().borders(Borders::ALL).border_style(t.border_focused).title(Span::styled(title, t.title));
    let mut lines = vec![Line::styled(head, t.input), Line::raw("")];
    for (label, diff) in parts {
        lines.push(Line::styled(*label, t.label));
        if diff.is_empty() {
            lines.push(Line::styled("  (no difference)", t.muted));
        }
        lines.extend(diff.iter().map(|d| diff_line(t, d)));
    }
    frame.render_widget(Paragraph::new(lines).block(block).wrap(Default::default()), rect);
}
