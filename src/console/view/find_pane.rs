//! The search screen: one row per match (path and the matched text) or unreadable znode (path
//! and why), only the visible rows drawn.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use crate::console::screens::find::{FindScreen, FindState, FIND_RESULTS_KEPT};
use crate::console::theme::Theme;
use crate::zk::find::Found;

pub fn draw(frame: &mut Frame<'_>, t: &Theme, s: &FindScreen, area: Rect) {
    let state = match &s.state {
        FindState::Idle => "",
        FindState::Running => "searching… ",
        FindState::Done => "",
        FindState::Cancelled => "stopped ",
        FindState::Failed(_) => "failed ",
    };
    let what = if s.secrets {
        format!("{} under {} ", crate::console::strings::SECRETS_SEARCH, s.root)
    } else {
        format!("{:?} under {} ", s.pattern, s.root)
    };
    let title = Line::from(vec![
        Span::styled(" Find ", t.title),
        Span::styled(what, t.text),
        Span::styled(format!("{state}{} matched · {} unreadable ", s.progress.matched, s.progress.unreadable), t.muted),
    ]);
    let block = Block::default().borders(Borders::ALL).border_style(t.border_focused).title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let height = usize::from(inner.height);
    let offset = s.cursor.saturating_sub(height.saturating_sub(1));
    let mut lines: Vec<Line<'_>> = s
        .results
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, f)| {
            let line = match f {
                Found::Match { path, snippet, .. } => Line::from(vec![
                    Span::styled(path.as_str(), t.text),
                    Span::styled(if snippet.is_empty() { String::new() } else { format!("  {snippet}") }, t.muted),
                ]),
                Found::Unreadable { path, reason } => Line::from(vec![
                    Span::styled(format!("⚠ {path}"), t.error),
                    Span::styled(format!("  not read: {reason}"), t.muted),
                ]),
            };
            if i == s.cursor {
                line.style(t.selected)
            } else {
                line
            }
        })
        .collect();
    if s.results.len() >= FIND_RESULTS_KEPT && lines.len() < height {
        lines.push(Line::styled(format!("(first {FIND_RESULTS_KEPT} results kept; counting goes on)"), t.muted));
    }
    if s.results.is_empty() && s.state != FindState::Running {
        lines.push(Line::styled("no matches", t.muted));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
