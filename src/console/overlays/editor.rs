//! The editor as an overlay: opening it on a fresh read (secrets masked, a kept draft
//! restored), its keys, validation (small texts here, large ones off the loop), saving through
//! the mutation service, conflicts, and keeping drafts. The text-editing state machine itself
//! is `console::editor`.

use crossterm::event::KeyEvent;

use super::Layer;
use crate::console::draft::Draft;
use crate::console::editor::{self, Editor, EditorKind, Request};
use crate::console::event::{Effect, SaveResult};
use crate::console::shared::{Cx, Shared};
use crate::secrets;
use crate::zk::format::{render_data_limited, utc_time, DataKind};
use crate::zk::NodeInfo;

/// Opens the editor on a fresh read; binary data opens read-only as a hex dump, and a kept
/// draft is restored over the stored text.
pub fn open(node: NodeInfo, draft: Option<Draft>, draft_error: Option<String>, sh: &Shared) -> Editor {
    let view = render_data_limited(&node.data, usize::MAX);
    let schema = config_cluster(&sh.root, &node.path);
    let (kind, text) = match view.kind {
        DataKind::Binary => (EditorKind::HexReadOnly, view.lines.join("\n")),
        DataKind::Json => (EditorKind::Json, String::from_utf8_lossy(&node.data).into_owned()),
        DataKind::Text | DataKind::Empty => {
            let text = String::from_utf8_lossy(&node.data).into_owned();
            let looks_json = text.trim_start().starts_with(['{', '[']) || schema.is_some();
            (if looks_json { EditorKind::Json } else { EditorKind::Text }, text)
        }
    };
    let masked =
        (kind == EditorKind::Json && !sh.revealed.contains(&node.path)).then(|| secrets::mask_json(&text)).flatten();
    let (text, unmasked) = match masked {
        Some(m) => (m, Some(text)),
        None => (text, None),
    };
    let system = crate::ops::path::is_system(&node.path);
    let mut e = Editor::open(&node, text, kind, schema, sh.read_only || system);
    e.set_styles(sh.theme.text, sh.theme.label, sh.theme.selected);
    e.unmasked_original = unmasked;
    if let Some(d) = draft.filter(|_| kind != EditorKind::HexReadOnly) {
        e.base_version = d.base_version;
        e.original = d.original.clone();
        e.set_text(&d.text);
        let when = utc_time(d.saved_at_ms);
        e.message = Some(if d.base_version == node.stat.version {
            format!("restored your unsaved draft from {when} UTC (esc then d discards it)")
        } else {
            format!(
                "restored your draft from {when} UTC; it started from version {}, the znode is at {}: saving will show the conflict",
                d.base_version, node.stat.version
            )
        });
    }
    if let Some(err) = draft_error {
        e.message = Some(format!("could not read the kept draft: {err}"));
    }
    if system {
        e.message = Some(crate::ops::path::SYSTEM_READ_ONLY_REASON.to_string());
    } else if sh.read_only && kind != EditorKind::HexReadOnly {
        e.message.get_or_insert_with(|| "read-only mode: viewing only".to_string());
    }
    if let Some(Request::Validate { text, generation }) = e.validation_request() {
        let problems = validate_text(&text, e.schema.as_deref());
        e.apply_validation(generation, problems);
    }
    e
}

/// `<root>/clusters/<c>/config` → `Some(c)`: that znode is checked against the schema.
fn config_cluster(root: &str, path: &str) -> Option<String> {
    match crate::cluster::split_cluster_path(root, path) {
        Some((c, "config")) => Some(c.to_string()),
        _ => None,
    }
}

pub fn on_key(e: &mut Editor, key: KeyEvent, cx: &mut Cx<'_>) -> Layer {
    let requests = e.on_key(key, &cx.shared.keymap);
    on_requests(e, requests, cx)
}

fn on_requests(e: &mut Editor, requests: Vec<Request>, cx: &mut Cx<'_>) -> Layer {
    let path = e.path.clone();
    for r in requests {
        match r {
            Request::Validate { .. } => {}
            Request::Save { data, expected_version, confirm } => {
                // Masked secrets go back in before anything is written.
                let data = match &e.unmasked_original {
                    Some(orig) => match secrets::restore_masked(&String::from_utf8_lossy(&data), orig) {
                        Ok(text) => text.into_bytes(),
                        Err(msg) => {
                            e.save_failed(msg);
                            return Layer::Stay;
                        }
                    },
                    None => data,
                };
                cx.effect(Effect::Save { path: path.clone(), data, expected_version, confirm })
            }
            Request::CloseKeepDraft => {
                e.draft_dirty = true;
                keep_draft(e, cx);
                cx.info(format!("draft of {path} kept; e on it restores it"));
                return Layer::Close;
            }
            Request::CloseDiscard => {
                cx.effect(Effect::DropDraft { dir: cx.shared.drafts_dir.clone(), path: path.clone() });
                return Layer::Close;
            }
            Request::Notice(text) => {
                cx.error(text);
                return Layer::Stay;
            }
        }
    }
    request_validation(e, cx);
    Layer::Stay
}

/// Validation: small texts right here, big ones off the loop (one at a time; when one
/// finishes and the text moved on, the next starts).
pub fn request_validation(e: &mut Editor, cx: &mut Cx<'_>) {
    if let Some(Request::Validate { text, generation }) = e.validation_request() {
        if text.len() <= editor::SYNC_VALIDATE_MAX_BYTES {
            let problems = validate_text(&text, e.schema.as_deref());
            e.apply_validation(generation, problems);
        } else if !e.validating {
            e.validating = true;
            cx.effect(Effect::Validate { text, generation, schema: e.schema.clone() });
        }
    }
}

/// A background validation finished.
pub fn on_validated(e: &mut Editor, generation: u64, problems: Vec<editor::Problem>, cx: &mut Cx<'_>) {
    e.apply_validation(generation, problems);
    request_validation(e, cx);
}

/// How a save ended: closes on success, otherwise keeps the edit with the reason.
pub fn on_saved(e: &mut Editor, path: &str, result: SaveResult, cx: &mut Cx<'_>) -> Layer {
    if e.path != path {
        return Layer::Stay;
    }
    match result {
        SaveResult::Saved { version, audit_warning } => {
            cx.effect(Effect::DropDraft { dir: cx.shared.drafts_dir.clone(), path: path.to_string() });
            cx.info(format!("saved {path} (version {version})"));
            if let Some(w) = audit_warning {
                cx.error(format!("saved, but the audit record failed: {w}"));
            }
            return Layer::Close;
        }
        SaveResult::Conflict(mut theirs) => {
            if e.unmasked_original.is_some() {
                // Their text is shown masked too; the unmasked copy is what a re-base keeps.
                let text = String::from_utf8_lossy(&theirs.data).into_owned();
                e.unmasked_original = Some(text.clone());
                theirs.data = secrets::mask_json(&text).unwrap_or(text).into_bytes();
            }
            e.conflict(theirs);
            e.draft_dirty = true;
        }
        SaveResult::NeedsName(cluster) => {
            let version = e.base_version;
            e.needs_name(cluster, version);
        }
        SaveResult::Refused(msg) | SaveResult::Failed(msg) => {
            e.save_failed(msg.clone());
            e.draft_dirty = true;
            cx.error(msg);
        }
    }
    Layer::Stay
}

/// Writes the unsaved text to its draft file (on ticks, on quit, on a signal).
pub fn keep_draft(e: &mut Editor, cx: &mut Cx<'_>) {
    if !e.draft_dirty || e.read_only {
        return;
    }
    e.draft_dirty = false;
    let draft = Draft {
        path: e.path.clone(),
        base_version: e.base_version,
        original: e.original.clone(),
        text: e.text(),
        saved_at_ms: cx.shared.now_ms(),
    };
    cx.effect(Effect::SaveDraft { dir: cx.shared.drafts_dir.clone(), draft });
}

/// JSON syntax first; a cluster config is then checked field by field against its schema.
pub fn validate_text(text: &str, schema: Option<&str>) -> Vec<editor::Problem> {
    let Some(cluster) = schema else { return editor::json_problems(text) };
    crate::cluster::schema::validate_config(text, Some(cluster))
        .into_iter()
        .map(|p| editor::Problem {
            line: p.line,
            column: p.column,
            error: p.severity == crate::cluster::schema::Severity::Error,
            message: p.message,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::keymap::KeyMap;
    use crate::console::theme::Theme;
    use crate::zk::NodeStat;

    fn shared() -> Shared {
        Shared {
            label: "t".into(),
            root: "/myzoo".into(),
            read_only: false,
            drafts_dir: std::env::temp_dir(),
            theme: Theme::builtin("dark").unwrap(),
            keymap: KeyMap::default(),
            size: (120, 40),
            now: std::time::SystemTime::now(),
            session: crate::zk::SessionBadge::Connected,
            session_member: None,
            stale_since: None,
            generation: 1,
            revealed: Default::default(),
            zk_auth: None,
            auth_problem: None,
        }
    }

    #[test]
    fn zookeepers_own_znodes_open_read_only_with_the_reason() {
        let node = |path: &str| NodeInfo { path: path.into(), stat: NodeStat::default(), data: b"server.1=a".to_vec() };
        let e = open(node("/zookeeper/config"), None, None, &shared());
        assert!(e.read_only);
        assert!(e.message.as_deref().is_some_and(|m| m.contains("ZooKeeper's own")), "{:?}", e.message);
        let e = open(node("/zookeeperish"), None, None, &shared());
        assert!(!e.read_only, "only /zookeeper itself and below");
    }
}
