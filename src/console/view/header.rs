//! The header line: profile, root, ZooKeeper session badge (with the member the session is on,
//! and the key of the ensemble screen that tells more), "stale since", a silent watch,
//! read-only badge, the credential in use (`auth: digest USER`, first when its password is
//! wrong), and for the chosen cluster its tier, automatic failover (on / off / paused / blocked /
//! no coordinator) and an operation running on it (its lock is held).

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::cluster::coordinator::AutoMode;
use crate::console::app::App;
use crate::console::strings;
use crate::console::theme::Theme;
use crate::zk::format::utc_time;
use crate::zk::SessionBadge;

fn auto_failover_badge_style(t: &Theme, m: AutoMode) -> Style {
    match m {
        AutoMode::On | AutoMode::Off => t.header,
        AutoMode::Paused | AutoMode::Blocked => t.badge_warn,
        AutoMode::NoCoordinator => t.badge_error,
    }
}

pub fn draw(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let sh = app.shared();
    let t = &sh.theme;
    let badge_style = match sh.session {
        SessionBadge::Connected => t.badge_ok,
        SessionBadge::Connecting | SessionBadge::ConnectedReadOnly | SessionBadge::Disconnected => t.badge_warn,
        SessionBadge::Expired | SessionBadge::AuthFailed => t.badge_error,
    };
    // Badges first: at 80 columns a long profile label is what gets cut, not the state.
    let mut spans = vec![
        Span::styled(format!(" {} ", strings::APP_NAME), t.header),
        Span::styled(strings::badge_with_member(sh.session, sh.session_member.as_deref()), badge_style),
    ];
    // With the member named, the key that tells more about it and the others.
    let key = sh.keymap.key_for(crate::console::keymap::Action::ShowEnsemble);
    if let Some(key) = key.filter(|_| sh.connected() && sh.session_member.is_some()) {
        spans.push(Span::styled(strings::ensemble_key_hint(&key.to_string()), t.header));
    }
    // A wrong password is news and goes first; the credential in use is the last badge (at 80
    // columns the cluster, its tier and read-only mode matter more).
    let auth = sh.zk_auth.as_deref().map(|label| strings::auth_badge(label, sh.auth_problem.is_some()));
    if let Some(badge) = auth.clone().filter(|_| sh.auth_problem.is_some()) {
        spans.push(Span::styled(badge, t.badge_error));
    }
    if let Some(since) = sh.stale_since {
        let ms = since.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        spans.push(Span::styled(strings::stale_since(&utc_time(ms)), t.badge_warn));
    }
    if let Some(heard) = app.watch_silent_since() {
        let ms = heard.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        spans.push(Span::styled(strings::watch_silent_since(&utc_time(ms)), t.badge_error));
    }
    let clusters = app.clusters();
    // The overview shows every cluster: no one cluster in the header there.
    let one_cluster = app.screen() != crate::console::screens::ScreenId::Overview;
    let mut auto_failover = None;
    if let Some(c) = clusters.selected.as_ref().filter(|_| one_cluster) {
        let production = clusters.view.as_ref().and_then(|v| v.config.as_ref()).is_some_and(|c| c.is_production());
        let tier = clusters.view.as_ref().and_then(|v| v.config.as_ref()).map_or("", |c| c.tier.as_str());
        let style = if production { t.header_production } else { t.header };
        spans.push(Span::styled(format!(" cluster {c} {tier} "), style));
        // The failover screen follows the chosen cluster's lock: a held lock is an operation.
        let ops = app.screens().failover.view();
        if ops.lock_held() && ops.cluster.as_deref() == Some(c.as_str()) {
            let operation = ops.lock_holder().map(|l| l.operation.as_str());
            spans.push(Span::styled(strings::operation_running_badge(operation), t.badge_warn));
        }
        auto_failover = clusters.auto_failover();
    }
    if sh.read_only {
        spans.push(Span::styled(strings::BADGE_READ_ONLY, t.badge_readonly));
    }
    // After read-only: at 80 columns an operation in progress and read-only mode matter more.
    if let Some(a) = auto_failover {
        spans.push(Span::styled(strings::auto_failover_badge(a), auto_failover_badge_style(t, a.mode)));
    }
    if let Some(badge) = auth.filter(|_| sh.auth_problem.is_none()) {
        spans.push(Span::styled(badge, t.header));
    }
    spans.push(Span::styled(format!(" {} │ root {} ", sh.label, sh.root), t.header));
    frame.render_widget(Paragraph::new(Line::from(spans)).style(t.header), area);
}
