//! Commands and keys that change what the console shows, headless against a real ZooKeeper
//! (one server for the file, a chroot per test): `:cluster NAME` (an unknown name refused with
//! a notice), `[`/`]` cycling through the clusters, and `:theme NAME` switching the drawn
//! styles live (an unknown theme refused).

mod common;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use myzoo::console::app::App;
use myzoo::console::event::Event;
use myzoo::console::headless::Headless;
use myzoo::console::screens::ScreenId;
use myzoo::console::shared::NoticeLevel;
use myzoo::console::theme::Theme;
use ratatui::style::Color;
use zookeeper_client::{Acls, Client, CreateMode};

const WAIT: Duration = Duration::from_secs(20);

fn keys(h: &Headless, keys: &str) {
    for c in keys.chars() {
        let code = if c == '\n' { KeyCode::Enter } else { KeyCode::Char(c) };
        h.send(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }
}

fn has_notice(a: &App, level: NoticeLevel, text: &str) -> bool {
    a.notices().iter().any(|n| n.level == level && n.text == text)
}

fn notices(a: &App) -> Vec<String> {
    a.notices().iter().map(|n| format!("{:?}: {}", n.level, n.text)).collect()
}

/// The cluster the cluster screen shows, once its config is read: (name, tier).
fn shown(a: &App) -> Option<(String, String)> {
    let c = a.clusters();
    let tier = c.view.as_ref()?.config.as_ref()?.tier.clone();
    Some((c.selected.clone()?, tier))
}

/// Waits until the cluster screen is shown with `name`'s config read, and checks the drawn
/// screen says so (pane title and header).
async fn wait_cluster(h: &mut Headless, name: &str, tier: &str) {
    let want = Some((name.to_string(), tier.to_string()));
    let ok = h.pump_until(WAIT, |a| a.screen() == ScreenId::Cluster && shown(a) == want).await;
    assert!(
        ok,
        "cluster {name} never shown: {:?} on {:?}; notices {:?}",
        shown(&h.app),
        h.app.screen(),
        notices(&h.app)
    );
    h.draw();
    let screen = h.screen();
    let rows: Vec<&str> = screen.lines().collect();
    assert!(rows[1].starts_with(&format!("┌ Cluster {name} ")), "pane title:\n{screen}");
    assert!(rows[0].contains(&format!(" cluster {name} {tier} ")), "header:\n{screen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clusters_are_chosen_by_name_and_cycled_with_brackets() {
    let sb = common::Sandbox::shared_zk_only().await;
    let connect = sb.chroot("clusters").await;
    let zk = Client::connect(&connect).await.unwrap();
    let persistent = CreateMode::Persistent.with_acls(Acls::anyone_all());
    // Three clusters, so that `[` and `]` can be told apart.
    let clusters = [("alpha", "development"), ("beta", "staging"), ("gamma", "test")];
    for (name, tier) in clusters {
        zk.mkdir(&format!("/myzoo/clusters/{name}"), &persistent).await.unwrap();
        let config = serde_json::json!({"schema": 1, "name": name, "tier": tier, "nodes": []});
        zk.create(&format!("/myzoo/clusters/{name}/config"), config.to_string().as_bytes(), &persistent).await.unwrap();
    }
    let session = myzoo::zk::ZkAccess::new(connect, Duration::from_secs(10));
    let mut h = Headless::start(common::app_opts((120, 40), "/myzoo"), session).unwrap();

    // Several clusters: the console opens on the overview; `enter` on its first row (all are
    // judged alike, none has a primary record, so the order is by name) opens alpha.
    let overview = |a: &App| a.screen() == ScreenId::Overview && a.screens().overview.rows().len() == 3;
    assert!(h.pump_until(WAIT, overview).await, "the overview never listed the three clusters");
    keys(&h, "\n");
    wait_cluster(&mut h, "alpha", "development").await;
    assert_eq!(h.app.clusters().names, ["alpha", "beta", "gamma"]);

    // :cluster NAME, also from another screen.
    keys(&h, "2");
    assert!(h.pump_until(WAIT, |a| a.screen() == ScreenId::Tree).await, "2 did not show the tree");
    keys(&h, ":cluster beta\n");
    wait_cluster(&mut h, "beta", "staging").await;

    // An unknown name is refused with a notice; the shown cluster stays.
    keys(&h, ":cluster nope\n");
    let refusal = r#"no cluster named "nope" (have: alpha, beta, gamma)"#;
    assert!(h.pump_until(WAIT, |a| has_notice(a, NoticeLevel::Error, refusal)).await, "{:?}", notices(&h.app));
    assert_eq!(shown(&h.app), Some(("beta".into(), "staging".into())));
    h.draw();
    assert!(h.screen().contains(refusal) && h.screen().contains("┌ Cluster beta "), "{}", h.screen());

    // ] goes forward in name order and wraps; [ goes back and wraps.
    for (key, name, tier) in
        [("]", "gamma", "test"), ("]", "alpha", "development"), ("[", "gamma", "test"), ("[", "beta", "staging")]
    {
        keys(&h, key);
        wait_cluster(&mut h, name, tier).await;
    }
    h.shutdown().await;
}

/// The style of the header's first cell as drawn: (fg, bg).
fn header_colours(h: &Headless) -> (Color, Color) {
    let cell = &h.terminal.backend().buffer()[(0, 0)];
    (cell.fg, cell.bg)
}

fn theme_header(name: &str) -> (Color, Color) {
    let t = Theme::builtin(name).unwrap();
    (t.header.fg.unwrap_or(Color::Reset), t.header.bg.unwrap_or(Color::Reset))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn theme_switches_live_and_an_unknown_theme_is_refused() {
    let sb = common::Sandbox::shared_zk_only().await;
    let connect = sb.chroot("theme").await;
    let session = myzoo::zk::ZkAccess::new(connect, Duration::from_secs(10));
    let mut h = Headless::start(common::app_opts((120, 40), "/"), session).unwrap();
    assert!(h.pump_until(WAIT, |a| a.tree().node("/").is_some_and(|n| n.children.is_some())).await, "root never read");
    h.draw();
    assert_ne!(theme_header("dark"), theme_header("light"), "the check below needs themes that differ");
    assert_eq!(header_colours(&h), theme_header("dark"));

    keys(&h, ":theme light\n");
    let switched = |a: &App| a.shared().theme.name == "light" && has_notice(a, NoticeLevel::Info, "theme: light");
    assert!(h.pump_until(WAIT, switched).await, "{:?}", notices(&h.app));
    h.draw();
    assert_eq!(header_colours(&h), theme_header("light"), "the screen was not drawn in the new theme");

    keys(&h, ":theme nope\n");
    let refused = |a: &App| {
        a.notices().iter().any(|n| n.level == NoticeLevel::Error && n.text.contains("no theme named \"nope\""))
    };
    assert!(h.pump_until(WAIT, refused).await, "{:?}", notices(&h.app));
    assert_eq!(h.app.shared().theme.name, "light");
    h.draw();
    assert_eq!(header_colours(&h), theme_header("light"));
    h.shutdown().await;
}
