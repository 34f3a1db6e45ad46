//! Every piece of text the console shows, in one place.

use super::keymap::{Action, Scope};

pub const APP_NAME: &str = "myzoo";
pub const TREE_TITLE: &str = "Tree";
pub const DETAIL_TITLE: &str = "Znode";
pub const HELP_TITLE: &str = "Keys";
pub const HELP_FOOTER: &str = "esc/?/q closes · :cluster NAME  :goto PATH  :theme NAME  :reload  :q";
pub const TOO_SMALL: &str = "terminal too small";
pub const TOO_SMALL_HINT: &str = "myzoo needs at least 80×24; resize or press q to quit";
pub const LOADING: &str = "loading…";
pub const NOTHING_SELECTED: &str = "nothing selected";
pub const NO_MATCHES: &str = "no znode matches the filter";
pub const BADGE_READ_ONLY: &str = " READ-ONLY ";
pub const STAT_HEADING: &str = "Stat";
pub const ACL_HEADING: &str = "ACL";
pub const DATA_HEADING: &str = "Data";
pub const NOT_CONNECTED: &str = "not connected to ZooKeeper";

pub fn badge_text(badge: crate::zk::SessionBadge) -> &'static str {
    use crate::zk::SessionBadge as B;
    match badge {
        B::Connecting => " connecting ",
        B::Connected => " connected ",
        B::ConnectedReadOnly => " connected (server read-only) ",
        B::Disconnected => " disconnected ",
        B::Expired => " expired ",
        B::AuthFailed => " auth failed ",
    }
}

pub fn stale_since(hms: &str) -> String {
    format!(" stale since {hms} UTC ")
}

/// Agents are registered but the watch has said nothing for longer than their heartbeat.
pub fn watch_silent_since(hms: &str) -> String {
    format!(" no watch events since {hms} UTC: view may be stale ")
}

pub fn truncated_notice(shown_lines: usize, total: &str) -> String {
    format!("… cut for display after {shown_lines} lines; the znode holds {total}")
}

pub fn unknown_command(cmd: &str) -> String {
    format!("unknown command {cmd:?}; try :cluster NAME, :goto PATH, :theme NAME, :reload, :q")
}

pub const CLUSTER_TITLE: &str = "Cluster";
pub const AUDIT_TITLE: &str = "Audit";
pub const READ_ONLY_REFUSED: &str = "read-only mode: nothing is changed";
pub const NODE_TITLE: &str = "Node";
pub const NO_CLUSTERS: &str = "no clusters under the root yet: press 2 for the znode tree";
pub const NO_CLUSTER_SELECTED: &str = "no cluster selected: :cluster NAME";
pub const CLUSTER_USAGE: &str = "usage: :cluster NAME";

pub fn theme_switched(name: &str) -> String {
    format!("theme: {name}")
}

pub fn no_such_znode(path: &str) -> String {
    format!("{path}: no such znode")
}

pub fn goto_usage() -> &'static str {
    "usage: :goto /absolute/path"
}

pub fn filter_prompt() -> &'static str {
    "/"
}

pub fn command_prompt() -> &'static str {
    ":"
}

/// Short labels for the hint bar and help popup.
pub fn action_label(action: Action) -> &'static str {
    match action {
        Action::Quit => "quit",
        Action::ForceQuit => "quit now",
        Action::Help => "help",
        Action::CommandLine => "command",
        Action::Filter => "filter",
        Action::NextPane => "next pane",
        Action::PrevPane => "previous pane",
        Action::ShowOverview => "all clusters",
        Action::ShowClusters => "cluster",
        Action::FocusTree => "znode tree",
        Action::FocusDetail => "znode pane",
        Action::NextCluster => "next cluster",
        Action::PrevCluster => "previous cluster",
        Action::Up => "up",
        Action::Down => "down",
        Action::PageUp => "page up",
        Action::PageDown => "page down",
        Action::Top => "top",
        Action::Bottom => "bottom",
        Action::Expand => "expand",
        Action::Collapse => "collapse",
        Action::Toggle => "open/close",
        Action::Back => "back",
        Action::Reload => "reload",
        Action::Edit => "edit",
        Action::Reveal => "reveal secrets",
        Action::NewChild => "new child",
        Action::DeleteNode => "delete",
        Action::CopyPath => "copy path",
        Action::ShowAudit => "audit log",
        Action::Save => "save",
        Action::Find => "find",
        Action::FindNext => "next match",
        Action::Undo => "undo",
        Action::Redo => "redo",
        Action::ReloadTheirs => "merge yours onto theirs",
        Action::KeepEditing => "keep editing",
        Action::Overwrite => "overwrite",
        Action::KeepDraft => "keep the draft",
        Action::Discard => "discard",
        Action::Confirm => "yes",
        Action::Cancel => "cancel",
        Action::Submit => "apply",
        Action::NextField => "next field",
        Action::PrevChoice => "previous choice",
        Action::NextChoice => "choose",
        Action::DeleteChar => "delete a character",
    }
}

/// The label of an action where it is used (esc closes the editor, backs out of a popup).
pub fn action_label_in(action: Action, scope: Scope) -> &'static str {
    match (action, scope) {
        (Action::Back, Scope::Editor) => "close",
        (Action::Submit, Scope::Dialog) => "create / confirm",
        (Action::Toggle, Scope::Find) => "go to znode",
        (Action::Toggle, Scope::Overview) => "open cluster",
        (Action::Back, Scope::Cluster) => "all clusters",
        (Action::Back, Scope::Find) => "stop / back",
        (Action::Reload, Scope::Find) => "search again",
        _ => action_label(action),
    }
}

/// `:find` without a pattern.
pub const FIND_USAGE: &str = "usage: :find PATTERN (names and data under the selected znode) or :find /path PATTERN";
