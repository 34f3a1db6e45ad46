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

/// A ZooKeeper connect that fails for a reason retrying will not cure (TLS files, handshake).
pub fn zk_connect_failed(reason: &str) -> String {
    format!("cannot connect to ZooKeeper: {reason}")
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

pub fn no_such_cluster(name: &str, have: &[String]) -> String {
    format!("no cluster named {name:?} (have: {})", have.join(", "))
}

// --- Automatic failover (cluster screen, header, `:ack`) ---

/// How the console says a cool-down is lifted.
pub const ACK_HINT: &str = "myzoo ack / :ack";

/// The cluster screen's line: `automatic failover blocked until 12:04:00 UTC (myzoo ack / :ack)`.
pub fn auto_failover_line(a: &crate::cluster::coordinator::AutoFailover) -> String {
    format!("automatic failover {}", a.describe(ACK_HINT))
}

/// The coordinator's reason under it.
pub fn auto_failover_reason(reason: &str) -> String {
    format!("  coordinator: {reason}")
}

/// The header's compact form.
pub fn auto_failover_badge(a: &crate::cluster::coordinator::AutoFailover) -> String {
    format!(" auto-failover: {} ", a.label())
}

/// The overview's FAILOVER cell (8 columns).
pub fn auto_failover_cell(a: &crate::cluster::coordinator::AutoFailover) -> &'static str {
    match a.mode {
        crate::cluster::coordinator::AutoMode::NoCoordinator => "no coord",
        _ => a.label(),
    }
}

/// `:ack` done: who acknowledged, and whether automatic failover may act again.
pub fn acknowledged(cluster: &str, done: &crate::agent::coordinator::Acknowledged) -> String {
    let now = if done.still_blocked { "still blocked" } else { "may act again" };
    let text = format!("{cluster}: last automatic failover acknowledged by {}; automatic failover {now}", done.by);
    match &done.audit_error {
        Some(e) => format!("{text}; but the audit record failed: {e}"),
        None => text,
    }
}

pub fn ack_failed(cluster: &str, error: &str) -> String {
    format!("{cluster}: cannot acknowledge: {error}")
}

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
        Action::EditAcl => "edit ACL",
        Action::NewChild => "new child",
        Action::DeleteNode => "delete",
        Action::CopyPath => "copy path",
        Action::ShowAudit => "audit log",
        Action::ShowFailover => "operations",
        Action::PlanSwitchover => "plan switchover",
        Action::PlanFailover => "plan failover",
        Action::PlanRejoin => "plan rejoin of the selected node",
        Action::RunPlan => "run the plan",
        Action::ShowBackups => "backups",
        Action::NewSnapshot => "new snapshot",
        Action::DiffSnapshot => "diff with live",
        Action::RestoreSnapshot => "restore",
        Action::ShowEnsemble => "ZooKeeper ensemble",
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
        (Action::Toggle, Scope::Failover) => "steps of record",
        (Action::Back, Scope::Failover) => "cluster",
        (Action::Back, Scope::Backups) => "back / cancel job",
        (Action::RunPlan, Scope::Backups) => "restore the plan",
        (Action::Reload, Scope::Backups) => "reload list",
        (Action::Reload, Scope::Ensemble) => "ask the members now",
        (Action::Back, Scope::Ensemble) => "cluster",
        _ => action_label(action),
    }
}

/// `:find` without a pattern.
pub const FIND_USAGE: &str = "usage: :find PATTERN (names and data under the selected znode) or :find /path PATTERN";

// --- The failover screen and cluster operations ---

pub const FAILOVER_TITLE: &str = "Operations";
pub const OPERATION_HEADING: &str = "Operation";
pub const PLAN_HEADING: &str = "Plan";
pub const HISTORY_HEADING: &str = "History";
pub const NO_OPERATION: &str = "no operation recorded for this cluster yet";
pub const NO_HISTORY: &str = "no past operations";
pub const PLANNING: &str = "planning: probing every node…";
pub const NO_PLAN: &str = "S plans a switchover (nothing changes until you confirm)";
pub const PLAN_IN_PROGRESS: &str = "a plan is being made already";
pub const NO_PLAN_TO_RUN: &str = "no plan on screen: S plans a switchover first";
pub const READ_ONLY_PLAN_ONLY: &str = "read-only mode: the plan is shown, nothing will run";
pub const READ_ONLY_REFUSED_RUN: &str = "read-only mode: the plan is shown, running it is refused";
pub const ALREADY_RUNNING: &str = "this console is running an operation already";
pub const QUIT_WHILE_RUNNING: &str =
    "an operation started here is running: q again quits and stops it between steps (its journal says how far it got)";
pub const QUIT_WHILE_BACKUP_JOB: &str =
    "a backup job started here is running: q again quits and abandons it (esc cancels it cleanly)";
pub const PLAN_GONE: &str = "that plan was used or replaced: S plans again";
pub const RUN_TITLE: &str = " Run ";
pub const RUN_YES_NO: &str = "y runs it · any other key keeps the plan on screen";
pub const CANDIDATES_HEADING: &str = "candidates (best first)";
pub const POSITIONS_HEADING: &str = "positions";
pub const STEPS_HEADING: &str = "steps";
pub const HISTORY_COLUMNS: [&str; 9] =
    ["KIND", "STATE", "STARTED (UTC)", "DURATION", "OLD → NEW", "EPOCH", "BLOCK", "BY", "OUTCOME"];

pub fn failover_status_line(cluster: &str, pos: usize, total: usize) -> String {
    format!("operations of {cluster} · {pos}/{total}")
}

pub fn plan_refused(kind: crate::failover::plan::OpKind, refusals: &[String]) -> String {
    if refusals.is_empty() {
        format!("the {} plan refuses: no candidate", kind.label())
    } else {
        format!("the {} plan refuses: {}", kind.label(), refusals.join("; "))
    }
}

pub fn plan_failed(kind: crate::failover::plan::OpKind, error: &str) -> String {
    format!("cannot plan the {}: {error}", kind.label())
}

/// What credentials the console needs, when they are missing.
pub fn credentials_missing(error: &str) -> String {
    format!(
        "{error} (the console reads mysql_user, mysql_password_file and repl_password_file from its profile, \
         or $MYZOO_MYSQL_USER / $MYZOO_MYSQL_PASSWORD / $MYZOO_REPL_PASSWORD)"
    )
}

/// A rejoin plan asked for without a node (the node table's selection names it).
pub const REJOIN_NEEDS_NODE: &str = "select the node to rejoin in the node table first";

pub fn operation_ended(r: &crate::failover::journal::Record) -> String {
    let new = r.new_primary.as_deref().unwrap_or("?");
    let mut text = format!("{} {}: {} → {new}", r.kind.label(), r.state.label(), r.old_primary);
    if let Some(e) = r.epoch_after {
        text.push_str(&format!(", epoch {e}"));
    }
    if let Some(ms) = r.write_block_ms {
        text.push_str(&format!(", writes blocked {ms} ms"));
    }
    if let Some(o) = r.outcome.as_deref().filter(|o| !o.is_empty()) {
        text.push_str(&format!(" — {o}"));
    }
    text
}

pub fn operation_refused(kind: crate::failover::plan::OpKind, why: &str) -> String {
    format!("{} refused, nothing changed: {why}", kind.label())
}

pub fn operation_failed(kind: crate::failover::plan::OpKind, why: &str) -> String {
    format!("{} did not run: {why}", kind.label())
}

pub fn lock_busy(l: &crate::failover::lock::LockInfo) -> String {
    format!("the cluster lock is held: {}", lock_holder(l))
}

pub fn lock_holder(l: &crate::failover::lock::LockInfo) -> String {
    format!(
        "{} by {}@{} ({}, pid {}) since {} UTC",
        l.operation,
        l.user,
        l.host,
        l.origin,
        l.pid,
        crate::zk::format::utc_time(l.since_ms)
    )
}

/// The header badge while the cluster's lock is held.
pub fn operation_running_badge(operation: Option<&str>) -> String {
    format!(" {} running ", operation.unwrap_or("operation"))
}

pub fn plan_too_old(age_s: i64) -> String {
    format!("the plan is {age_s} s old and the cluster may have moved: S plans again")
}

pub fn type_cluster_exactly(cluster: &str) -> String {
    format!("type {cluster:?} exactly; nothing was run")
}

pub fn run_question(p: &crate::failover::plan::Plan) -> String {
    format!(
        "Run the {} of {}: {} → {} (epoch {} → {})?",
        p.kind.label(),
        p.cluster,
        p.old_primary,
        p.candidate.as_deref().unwrap_or("?"),
        p.epoch,
        p.epoch.saturating_add(1)
    )
}

pub fn expected_block(ms: u64) -> String {
    format!("expected write-block window: ~{ms} ms")
}

pub fn plan_warning(w: &str) -> String {
    format!("warning: {w}")
}

pub fn plan_refusal(r: &str) -> String {
    format!("refused: {r}")
}

pub fn production_cluster(cluster: &str) -> String {
    format!("{cluster} is a production cluster.")
}

pub fn type_cluster_to_run(cluster: &str) -> String {
    format!("type {cluster:?} and enter to run, esc to keep the plan:  ")
}

pub fn plan_title(p: &crate::failover::plan::Plan, age_s: i64) -> String {
    format!(
        "{} {} → {} · epoch {} → {} · made {age_s} s ago",
        p.kind.label(),
        p.old_primary,
        p.candidate.as_deref().unwrap_or("(none)"),
        p.epoch,
        p.epoch.saturating_add(1)
    )
}

pub const PLAN_CAN_RUN: &str = "X runs it (asks first)";
pub const PLAN_READ_ONLY: &str = "read-only mode: shown only";

pub fn operation_title(r: &crate::failover::journal::Record) -> String {
    format!(
        "{} {} → {} · {} · epoch {} → {} · by {}@{} ({})",
        r.kind.label(),
        r.old_primary,
        r.new_primary.as_deref().unwrap_or("?"),
        r.state.label(),
        r.epoch_before,
        r.epoch_after.map_or_else(|| (r.epoch_before + 1).to_string(), |e| e.to_string()),
        r.owner.user,
        r.owner.host,
        r.owner.origin
    )
}

pub fn lock_line(holder: Option<&crate::failover::lock::LockInfo>, held: bool) -> String {
    match (holder, held) {
        (Some(l), _) => format!("lock: held, {}", lock_holder(l)),
        (None, true) => "lock: held (holder unreadable)".to_string(),
        (None, false) => "lock: free".to_string(),
    }
}

/// Milliseconds as an operator reads them: `850 ms`, `4.2 s`, `3 min 5 s`.
pub fn duration(ms: i64) -> String {
    match ms {
        ms if ms < 1_000 => format!("{ms} ms"),
        ms if ms < 60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        ms => format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

// --- The backups screen ---

pub const BACKUPS_TITLE: &str = "Backups";
pub const SNAPSHOTS_HEADING: &str = "ZooKeeper snapshots";
pub const DUMPS_HEADING: &str = "MySQL dumps";
pub const SNAPSHOT_COLUMNS: [&str; 10] =
    ["ID", "STATE", "ROOT", "ZNODES", "SIZE", "STARTED (UTC)", "DURATION", "ORIGIN", "OPERATOR", "NOTE"];
pub const DUMP_COLUMNS: [&str; 6] = ["NODE", "STATE", "GTID POSITION", "SIZE", "STARTED (UTC)", "DURATION"];
pub const SNAPSHOT_NOTE_PROMPT: &str = "snapshot note (enter takes it, esc cancels): ";
pub const NO_BACKUP_STORE: &str =
    "no backup store configured: add [profiles.<name>.backup_store] (hosts, database, user, password_file) to the profile";
pub const NO_SNAPSHOTS: &str = "no snapshots yet: b takes one";
pub const NO_DUMPS: &str = "no dumps of this cluster yet";
pub const DUMPS_NO_CLUSTER: &str = "choose a cluster (:cluster NAME) to see its dumps";
pub const DUMPS_NOT_READ: &str = "dumps not read yet";
pub const STORE_LOADING: &str = "opening the backup store…";
pub const NO_SNAPSHOT_SELECTED: &str = "no snapshot selected";
/// A restore confirmed without its plan on screen (the run must carry out the plan shown).
pub const RESTORE_PLAN_FIRST: &str = "show the restore plan first (r), then confirm it";
pub const NO_RESTORE_PLAN: &str = "no restore plan on screen: r makes one";
pub const RESTORE_NOTHING_TO_DO: &str = "the plan writes nothing: nothing to restore";
pub const READ_ONLY_REFUSED_RESTORE: &str = "read-only mode: restoring is refused, nothing was written";
pub const READ_ONLY_RESTORE_PLAN_ONLY: &str = "read-only mode: the restore plan is shown, restoring it is refused";
pub const RESTORE_TITLE: &str = " Restore ";
pub const CANCEL_JOB_TITLE: &str = " Cancel ";
pub const RESTORE_YES_NO: &str = "y restores · any other key keeps the plan on screen";
pub const CANCEL_YES_NO: &str = "y cancels it · any other key lets it run";
pub const DIFF_HEADING: &str = "Diff";
pub const RESTORE_PLAN_HEADING: &str = "Restore plan";
pub const RESTORE_RESULT_HEADING: &str = "Restore";
pub const PANEL_KEYS: &str = "↑/↓ scroll · esc closes";
pub const PLAN_KEYS: &str = "X restores (asks first) · ↑/↓ scroll · esc closes";

/// The status line: the store and the position in the list.
pub fn backups_status_line(store: &crate::console::screens::backups::StoreState, pos: usize, total: usize) -> String {
    use crate::console::screens::backups::StoreState as S;
    let store = match store {
        S::Ready { server, database, .. } => format!("store {database} on {server}"),
        S::Unknown | S::Loading => "store: opening".to_string(),
        S::NotConfigured(_) => "no backup store".to_string(),
        S::Unreachable(_) => "store unreachable".to_string(),
    };
    format!("backups · {store} · snapshot {pos}/{total}")
}

/// The title's store part: `store myzoo_backup on 127.0.0.1:3306 (writable)`.
pub fn store_line(store: &crate::console::screens::backups::StoreState) -> String {
    use crate::console::screens::backups::StoreState as S;
    match store {
        S::Ready { server, database, writable } => {
            let w = if *writable { "writable" } else { "read-only: a replica" };
            format!("store {database} on {server} ({w})")
        }
        S::Unknown | S::Loading => STORE_LOADING.to_string(),
        S::NotConfigured(_) => "no backup store".to_string(),
        S::Unreachable(_) => "backup store unreachable".to_string(),
    }
}

pub fn store_unreachable(why: &str) -> String {
    format!("the backup store cannot be read: {why} (R tries again)")
}

pub fn backup_job_busy(label: &str) -> String {
    format!("a {label} is running already: one backup job at a time (esc cancels it)")
}

pub fn snapshot_not_complete(id: u64, state: &str) -> String {
    format!("snapshot {id} is {state}: only a complete snapshot can be diffed or restored")
}

pub fn snapshot_taken(m: &crate::backup::SnapshotMeta) -> String {
    let took = m.finished_ms.map(|f| format!(" in {}", duration(f - m.started_ms))).unwrap_or_default();
    format!(
        "snapshot {} of {} taken: {} znodes, {}{took}",
        m.id,
        m.root,
        thousands(m.znodes),
        crate::zk::format::human_bytes(usize::try_from(m.bytes).unwrap_or(usize::MAX))
    )
}

pub fn diff_done(d: &crate::console::screens::backups::DiffView) -> String {
    format!(
        "snapshot {} against {}: {} added, {} removed, {} changed, {} unchanged",
        d.snapshot,
        d.against,
        d.added.len(),
        d.removed.len(),
        d.changed.len(),
        thousands(d.unchanged)
    )
}

/// The counts that matter, `3 create · 2 overwrite · 40 unchanged`.
pub fn restore_counts(r: &crate::console::screens::backups::RestoreView) -> String {
    let parts: Vec<String> =
        r.actions.iter().filter(|a| a.count > 0).map(|a| format!("{} {}", thousands(a.count), a.label)).collect();
    if parts.is_empty() {
        "nothing to do".to_string()
    } else {
        parts.join(" · ")
    }
}

pub fn restore_planned(r: &crate::console::screens::backups::RestoreView) -> String {
    format!("restore plan of snapshot {} into {}: {}", r.snapshot, r.target, restore_counts(r))
}

pub fn restore_done(r: &crate::console::screens::backups::RestoreView) -> String {
    let how = if r.cancelled { "cancelled" } else { "done" };
    format!("restore of snapshot {} into {} {how}: {}", r.snapshot, r.target, restore_counts(r))
}

pub fn restore_question(c: &crate::console::dialogs::RestoreConfirm) -> String {
    format!("Restore snapshot {} into {} ({})?", c.snapshot, c.target, c.policy)
}

pub fn type_to_restore(names: &str) -> String {
    format!("production: type {names:?} and enter to restore, esc to keep the plan:  ")
}

pub fn type_to_restore_exactly(names: &str) -> String {
    format!("type {names:?} exactly; nothing was restored")
}

pub fn cancel_job_question(label: &str) -> String {
    format!("Cancel the running {label}?")
}

pub fn job_cancelled(label: &str) -> String {
    format!("{label} cancelled")
}

pub fn job_refused(label: &str, why: &str) -> String {
    format!("{label} refused, nothing changed: {why}")
}

pub fn job_failed(label: &str, why: &str) -> String {
    format!("{label} failed: {why}")
}

// --- ZooKeeper authentication, ACLs, locked znodes, plain-text secrets ---

/// In a tree row: the znode cannot be read with this session's credentials.
pub const LOCKED_MARKER: &str = "⊘ locked";
/// In a tree row: the znode's data holds password-like keys in plain text.
pub const PLAIN_SECRET_MARKER: &str = "◆ plain-text secret";
/// The ACL could not be read yet (the pane asks for it when a znode is selected).
pub const ACL_NOT_READ: &str = "the ACL is not read yet; try again in a moment";
pub const ACL_EDIT_TITLE: &str = " Edit ACL ";
pub const ACL_EDIT_HELP: &str = "scheme:id:perms, commas between entries, perms from cdrwa \
     (world:anyone:r, digest:USER:HASH:cdrwa, ip:10.0.0.0/8:r, auth::cdrwa)";
pub const ACL_EDIT_KEYS: &str = "enter saves (checked against the ACL version shown) · esc keeps the ACL";

/// The server refused the session's authentication outright (a digest credential never is: a
/// wrong password shows as [`auth_badge`]'s "wrong password"; SASL and custom providers can be).
pub const AUTH_FAILED: &str =
    "ZooKeeper refused this console's authentication (AuthFailed): check the credential; reconnecting";

/// The header's badge: which credential this console authenticates with.
pub fn auth_badge(label: &str, problem: bool) -> String {
    if problem {
        format!(" auth: {label} — wrong password ")
    } else {
        format!(" auth: {label} ")
    }
}

/// Who this console is, as the znode pane explains a NoAuth.
pub fn session_identity(label: Option<&str>) -> String {
    match label {
        Some(l) => format!("this console authenticates as {l}"),
        None => {
            "this console sends no credentials: give one with --zk-auth-file, $MYZOO_ZK_AUTH or the profile's zk_auth_file".into()
        }
    }
}

/// The znode pane's reason for a locked znode (`error` is the read's NoAuth).
pub fn locked_reason(error: &str) -> String {
    let code = error.split(':').next().unwrap_or("NoAuth");
    format!("{LOCKED_MARKER} ({code}): reading it needs READ permission, which its ACL does not give this console")
}

/// The pane's line for plain-text secrets.
pub fn plain_text_secrets(keys: &[String]) -> String {
    format!("password-like keys in plain text: {} — keep credentials in files and refer to them", keys.join(", "))
}

pub fn acl_unreadable(error: &str) -> String {
    format!("cannot edit the ACL: it could not be read ({error})")
}

pub fn acl_edit_question(path: &str, acl_version: i32) -> String {
    format!("ACL of {path} (ACL version {acl_version})")
}

pub fn acl_type_cluster(cluster: &str) -> String {
    format!("{cluster} is a production cluster: type {cluster:?} and enter to change its ACL:  ")
}

pub fn acl_type_cluster_exactly(cluster: &str) -> String {
    format!("type {cluster:?} exactly; the ACL was not changed")
}

pub fn acl_set(path: &str, acl_version: Option<i32>) -> String {
    let v = acl_version.map_or(String::new(), |v| format!(" (ACL version {v})"));
    format!("ACL of {path} set{v}; recorded in the audit log")
}

/// `:secrets` reuses the search screen; its line says what it looks for.
pub const SECRETS_SEARCH: &str = "password-like keys in plain text";
pub const SECRETS_USAGE: &str = "usage: :secrets [/path] (znodes holding password-like keys in plain text)";

/// `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// --- The ensemble screen ---

pub const ENSEMBLE_TITLE: &str = "ZooKeeper ensemble";
pub const ENSEMBLE_ASKING: &str = "asking the members…";
pub const ENSEMBLE_NO_MEMBER: &str = "no member selected";

/// The header's badge when the session is on a member: ` connected 127.0.0.1:2181 `.
pub fn badge_with_member(badge: crate::zk::SessionBadge, member: Option<&str>) -> String {
    match member {
        Some(m) if matches!(badge, crate::zk::SessionBadge::Connected | crate::zk::SessionBadge::ConnectedReadOnly) => {
            format!("{}{m} ", badge_text(badge))
        }
        _ => badge_text(badge).to_string(),
    }
}

/// After the header's session badge: the key that opens the ensemble screen.
pub fn ensemble_key_hint(key: &str) -> String {
    format!(" {key}:ensemble ")
}

/// Where the console's session is, on the ensemble screen.
pub fn ensemble_session_line(member: Option<&str>) -> String {
    match member {
        Some(m) => format!("this console's session is on {m} (marked *)"),
        None => "this console has no session now".to_string(),
    }
}

pub fn ensemble_read_failed(why: &str) -> String {
    format!("cannot ask the ensemble: {why}")
}

/// The status line: members, when they were asked, how often.
pub fn ensemble_status_line(members: usize, asked_at: Option<&str>, refresh_s: u64) -> String {
    match asked_at {
        Some(t) => format!("{members} members · asked at {t} · every {refresh_s} s while shown"),
        None => format!("asking the members · every {refresh_s} s while shown"),
    }
}

/// The selected member's details, label and value pairs in reading order.
pub fn ensemble_member_details(r: &crate::zk::ensemble::MemberReport) -> Vec<(&'static str, String)> {
    use crate::zk::ensemble::table;
    let mut out = Vec::new();
    let named = match (r.member.server_id, r.member.sources()) {
        (Some(id), src) => format!("server.{id}, named by {src}"),
        (None, src) => format!("named by {src}"),
    };
    out.push(("member", format!("{} ({named})", r.address)));
    let how = r.via.map_or(String::new(), |v| format!(" via {}", v.label()));
    let version =
        r.stats.as_ref().and_then(|s| s.version.as_deref()).map_or(String::new(), |v| format!(", ZooKeeper {v}"));
    out.push(("state", format!("{}{how}{version}", table::mode_cell(r))));
    let Some(s) = &r.stats else {
        if let Some(why) = &r.reason {
            out.push(("why", why.clone()));
        }
        return out;
    };
    if let Some(z) = s.zxid {
        let behind = match (r.older_epoch, r.behind_leader) {
            (true, _) => ", on an older epoch than the leader".to_string(),
            (false, Some(n)) => format!(", {n} behind the leader"),
            (false, None) => String::new(),
        };
        out.push(("zxid", format!("{} (epoch {}, counter {}){behind}", z.hex(), z.epoch(), z.counter())));
    }
    let cells = table::member_cells(r, false);
    out.push(("latency", format!("{} ms min/avg/max · outstanding {} · connections {}", cells[5], cells[6], cells[7])));
    out.push((
        "data",
        format!("znodes {} · watches {} · ephemerals {} · about {}", cells[8], cells[9], cells[10], cells[11]),
    ));
    out.push(("files", format!("descriptors {} open/max", cells[12])));
    if s.synced_followers.is_some() || s.followers.is_some() {
        out.push(("followers", format!("{} synced/learners", cells[13])));
    }
    if let Some(why) = &r.reason {
        out.push(("note", why.clone()));
    }
    out
}
