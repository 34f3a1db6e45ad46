//! The znode pane: stat, ACL and data of the selected znode (data formatted once per change,
//! in `App::update`; only the visible lines are drawn).

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use crate::console::screens::tree::{AclState, TreeFocus, TreeScreen};
use crate::console::shared::Shared;
use crate::console::strings;
use crate::console::theme::Theme;
use crate::zk::format::{human_bytes, utc_timestamp};
use crate::zk::NodeStat;

pub fn draw(frame: &mut Frame<'_>, sh: &Shared, s: &TreeScreen, area: Rect) {
    let t = &sh.theme;
    let focused = s.focus() == TreeFocus::Detail;
    let path = s.selected_path().unwrap_or(strings::NOTHING_SELECTED);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(if focused { t.border_focused } else { t.border })
        .title(Line::from(vec![
            Span::styled(format!(" {} ", strings::DETAIL_TITLE), t.title),
            Span::styled(format!("{path} "), t.text),
        ]));
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let node = s.tree().node(path);
    let mut lines: Vec<Line<'_>> = Vec::new();
    let width = usize::from(inner.width);
    let mut say = |text: &str, style| {
        lines.extend(wrapped(text, width).into_iter().map(|l| Line::styled(l, style)));
    };
    match node.and_then(|n| n.error.as_deref()) {
        Some(err) if err.starts_with("NoAuth") => {
            say(&strings::locked_reason(err), t.badge_warn);
            say(&strings::session_identity(sh.zk_auth.as_deref()), t.muted);
            if let Some(problem) = &sh.auth_problem {
                say(problem, t.error);
            }
        }
        Some(err) => say(&format!("⚠ {err}"), t.error),
        None => {}
    }
    let Some(stat) = node.and_then(|n| n.stat) else {
        if node.is_some_and(|n| n.loading) {
            lines.push(Line::styled(strings::LOADING, t.muted));
        }
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    };
    stat_lines(t, &stat, &mut lines);
    acl_lines(t, s, path, &mut lines);
    let keys = s.plain_text_secrets(path);
    if !keys.is_empty() {
        let text = strings::plain_text_secrets(keys);
        lines.extend(wrapped(&text, width).into_iter().map(|l| Line::styled(l, t.badge_warn)));
    }
    data_lines(t, s, path, &stat, usize::from(inner.height), &mut lines);
    frame.render_widget(Paragraph::new(lines), inner);
}

/// `text` in lines of at most `width` characters, cut at spaces where it can: the pane's
/// explanations are read whole, whatever the terminal's width (the data is not wrapped).
fn wrapped(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let fits = line.chars().count() + usize::from(!line.is_empty()) + word.chars().count() <= width;
        if !line.is_empty() && !fits {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
        while line.chars().count() > width {
            let head: String = line.chars().take(width).collect();
            line = line.chars().skip(width).collect();
            out.push(head);
        }
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

fn kv<'a>(t: &Theme, pairs: &[(&'a str, String)]) -> Line<'a> {
    let mut spans = Vec::new();
    for (k, v) in pairs {
        spans.push(Span::styled(format!("{k} "), t.label));
        spans.push(Span::styled(format!("{v:<6}  "), t.text));
    }
    Line::from(spans)
}

fn stat_lines(t: &Theme, s: &NodeStat, lines: &mut Vec<Line<'_>>) {
    lines.push(Line::styled(strings::STAT_HEADING, t.title));
    lines.push(kv(
        t,
        &[
            ("version", s.version.to_string()),
            ("cversion", s.cversion.to_string()),
            ("aversion", s.aversion.to_string()),
        ],
    ));
    lines.push(kv(t, &[("ctime", utc_timestamp(s.ctime_ms))]));
    lines.push(kv(t, &[("mtime", utc_timestamp(s.mtime_ms))]));
    lines.push(kv(
        t,
        &[
            ("czxid", format!("{:#x}", s.czxid)),
            ("mzxid", format!("{:#x}", s.mzxid)),
            ("pzxid", format!("{:#x}", s.pzxid)),
        ],
    ));
    let owner =
        if s.ephemeral_owner == 0 { "none (persistent)".to_string() } else { format!("{:#x}", s.ephemeral_owner) };
    lines.push(kv(t, &[("ephemeral owner", owner)]));
    lines.push(kv(
        t,
        &[("data length", human_bytes(s.data_length.max(0) as usize)), ("children", s.num_children.to_string())],
    ));
}

fn acl_lines(t: &Theme, s: &TreeScreen, path: &str, lines: &mut Vec<Line<'_>>) {
    let mut spans = vec![Span::styled(format!("{} ", strings::ACL_HEADING), t.title)];
    match s.acl(path) {
        Some(AclState::Read { acl: Ok(acl), .. }) => {
            let text: Vec<String> = acl.iter().map(|a| format!("{}:{}:{}", a.scheme, a.id, a.perms)).collect();
            spans.push(Span::styled(text.join("  "), t.text));
        }
        Some(AclState::Read { acl: Err(e), .. }) => spans.push(Span::styled(e.clone(), t.muted)),
        Some(AclState::Asked) | None => spans.push(Span::styled(strings::LOADING, t.muted)),
    }
    lines.push(Line::from(spans));
}

fn data_lines<'a>(t: &Theme, s: &'a TreeScreen, path: &str, stat: &NodeStat, height: usize, lines: &mut Vec<Line<'a>>) {
    let Some(cache) = s.detail().filter(|d| d.path == path) else {
        return;
    };
    let view = &cache.view;
    lines.push(Line::from(vec![
        Span::styled(format!("{} ", strings::DATA_HEADING), t.title),
        Span::styled(format!("{} · {}", view.kind.label(), human_bytes(stat.data_length.max(0) as usize)), t.muted),
    ]));
    let room = height.saturating_sub(lines.len());
    let skip = usize::from(s.detail_scroll()).min(view.lines.len().saturating_sub(1));
    for l in view.lines.iter().skip(skip).take(room) {
        lines.push(Line::styled(l.as_str(), t.text));
    }
    if view.truncated && skip + room >= view.lines.len() {
        lines.push(Line::styled(
            strings::truncated_notice(view.lines.len(), &human_bytes(view.total_bytes)),
            t.badge_warn,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::wrapped;

    #[test]
    fn explanations_wrap_at_spaces() {
        assert_eq!(
            wrapped("locked (NoAuth): reading it needs READ", 16),
            ["locked (NoAuth):", "reading it needs", "READ"]
        );
        assert_eq!(wrapped("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrapped("", 10), Vec::<String>::new());
    }
}
