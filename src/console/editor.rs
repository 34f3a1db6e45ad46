//! The znode editor's state: the text area, live validation results, and the save flow
//! (diff → confirm → version-checked write → conflict handling). Pure state and key handling;
//! `App` turns its requests into effects.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::keymap::{Action, Key, KeyMap, Scope};
use ratatui::style::Style;
use ratatui_textarea::TextArea;

use crate::diff::{diff_lines, DiffLine, DiffStats};
use crate::zk::NodeInfo;

/// Documents up to this size are validated on every keystroke in `update`; bigger ones in a
/// background task, so typing in a 1 MB document never waits for a parse.
pub const SYNC_VALIDATE_MAX_BYTES: usize = 64 * 1024;

/// The lines a three-way merge marks overlapping changes with (diff3 style: yours, the
/// original, theirs).
pub const CONFLICT_START: &str = "<<<<<<<";
pub const CONFLICT_BASE: &str = "|||||||";
pub const CONFLICT_SPLIT: &str = "=======";
pub const CONFLICT_END: &str = ">>>>>>>";

/// One validation finding, 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub error: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditorKind {
    /// Checked as JSON while typing.
    Json,
    /// Plain UTF-8 text.
    Text,
    /// Binary data shown as a hex dump; never saved.
    HexReadOnly,
}

/// Where in the save flow the editor is.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    Editing,
    /// Typing a search pattern.
    Search(String),
    /// Showing the diff of stored → edited, waiting for y/enter.
    ConfirmSave {
        diff: Vec<DiffLine>,
        stats: DiffStats,
    },
    Saving,
    /// Someone else changed the znode since the edit started.
    Conflict {
        theirs: NodeInfo,
        theirs_text: String,
        yours_vs_theirs: Vec<DiffLine>,
        theirs_vs_original: Vec<DiffLine>,
    },
    /// Second confirmation before writing over their version.
    ConfirmOverwrite {
        theirs: NodeInfo,
    },
    /// Esc with changes: keep the draft, discard it, or go back.
    ConfirmClose,
    /// A production cluster: the operator types its name to confirm the write.
    TypeName {
        cluster: String,
        typed: String,
        expected_version: i32,
    },
}

/// What the editor asks the app to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Validate {
        text: String,
        generation: u64,
    },
    Save {
        data: Vec<u8>,
        expected_version: i32,
        confirm: Option<String>,
    },
    /// Keep the draft file (it is written on the next tick anyway) and close.
    CloseKeepDraft,
    /// Close and delete the draft.
    CloseDiscard,
    Notice(String),
}

pub struct Editor {
    pub path: String,
    /// The version the edit started from; the write is checked against it.
    pub base_version: i32,
    /// The stored text the edit started from.
    pub original: String,
    pub textarea: TextArea<'static>,
    pub kind: EditorKind,
    /// Whether the cluster-config schema applies (a `<root>/clusters/<c>/config` znode).
    pub schema: Option<String>,
    pub problems: Vec<Problem>,
    /// Bumped on every change; validation results for older generations are dropped.
    pub generation: u64,
    pub validated: u64,
    /// A background validation is under way (at most one at a time).
    pub validating: bool,
    pub stage: Stage,
    /// A one-line message inside the editor (saved draft restored, search not found …).
    pub message: Option<String>,
    /// Unsaved changes not yet written to the draft file.
    pub draft_dirty: bool,
    /// The text was edited since it was opened (cheap; `modified()` compares the texts).
    pub changed: bool,
    pub read_only: bool,
    /// When secrets are masked in the text: the stored text with them, to put them back on save.
    pub unmasked_original: Option<String>,
    /// What the watch reported about the znode since the edit started from `base_version`.
    pub remote: Remote,
}

/// The znode under the editor, as the watch last reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remote {
    /// Nothing newer than the version the edit is based on.
    Unchanged,
    /// Someone else wrote it: now at this version.
    ChangedTo(i32),
    Deleted,
}

impl Editor {
    pub fn open(node: &NodeInfo, text: String, kind: EditorKind, schema: Option<String>, read_only: bool) -> Editor {
        let lines: Vec<String> =
            if text.is_empty() { vec![String::new()] } else { text.lines().map(str::to_string).collect() };
        let mut textarea = TextArea::new(lines);
        textarea.set_max_histories(1_000);
        Editor {
            path: node.path.clone(),
            base_version: node.stat.version,
            original: text,
            textarea,
            kind,
            schema,
            problems: Vec::new(),
            generation: 1,
            validated: 0,
            validating: false,
            stage: Stage::Editing,
            message: None,
            draft_dirty: false,
            changed: false,
            read_only: read_only || kind == EditorKind::HexReadOnly,
            unmasked_original: None,
            remote: Remote::Unchanged,
        }
    }

    /// Replaces the text (a restored draft) keeping the original it is compared with.
    pub fn set_text(&mut self, text: &str) {
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        let styles = (self.textarea.style(), self.textarea.line_number_style(), self.textarea.search_style());
        self.textarea = TextArea::new(if lines.is_empty() { vec![String::new()] } else { lines });
        self.textarea.set_max_histories(1_000);
        self.set_styles(styles.0, styles.1.unwrap_or_default(), styles.2);
        self.generation += 1;
        self.changed = true;
    }

    /// Styles from the theme, set once (the text area is drawn by reference, never cloned:
    /// a 1 MB document would cost milliseconds per frame).
    pub fn set_styles(&mut self, text: Style, line_numbers: Style, search: Style) {
        self.textarea.set_style(text);
        self.textarea.set_line_number_style(line_numbers);
        self.textarea.set_cursor_line_style(Style::default());
        self.textarea.set_search_style(search);
    }

    pub fn text(&self) -> String {
        let mut s = self.textarea.lines().join("\n");
        if self.original.ends_with('\n') {
            s.push('\n');
        }
        s
    }

    pub fn modified(&self) -> bool {
        self.text() != self.original
    }

    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.error)
    }

    /// Validation to run now (small documents) or in the background (large ones).
    pub fn validation_request(&self) -> Option<Request> {
        if self.kind != EditorKind::Json || self.validated == self.generation || self.validating {
            return None;
        }
        Some(Request::Validate { text: self.text(), generation: self.generation })
    }

    pub fn apply_validation(&mut self, generation: u64, problems: Vec<Problem>) {
        self.validating = false;
        if generation == self.generation {
            self.problems = problems;
            self.validated = generation;
        }
    }

    /// The keymap scope of the current stage (the hint bar and the help follow it).
    pub fn scope(&self) -> Scope {
        match self.stage {
            Stage::Editing | Stage::Saving => Scope::Editor,
            Stage::Search(_) | Stage::TypeName { .. } => Scope::Input,
            Stage::ConfirmSave { .. } | Stage::ConfirmOverwrite { .. } => Scope::Confirm,
            Stage::Conflict { .. } => Scope::Conflict,
            Stage::ConfirmClose => Scope::CloseEdit,
        }
    }

    /// A key: named actions through the keymap in the stage's scope; in text stages, the
    /// other keys edit the text (the text area's own editing keys) or the typed line.
    pub fn on_key(&mut self, key: KeyEvent, keymap: &KeyMap) -> Vec<Request> {
        let action = keymap.lookup(Key::from_event(&key), self.scope());
        match std::mem::replace(&mut self.stage, Stage::Editing) {
            Stage::Editing => self.on_editing_key(key, action),
            Stage::Search(mut q) => {
                match (action, typed_char(&key)) {
                    (_, Some(c)) => {
                        q.push(c);
                        self.stage = Stage::Search(q);
                    }
                    (Some(Action::Cancel), _) => {}
                    (Some(Action::Submit), _) => self.search(&q),
                    (Some(Action::DeleteChar), _) => {
                        q.pop();
                        self.stage = Stage::Search(q);
                    }
                    _ => self.stage = Stage::Search(q),
                }
                Vec::new()
            }
            Stage::ConfirmSave { diff, stats } => match action {
                Some(Action::Confirm) => self.save_request(self.base_version),
                Some(Action::Cancel) => Vec::new(),
                _ => {
                    self.stage = Stage::ConfirmSave { diff, stats };
                    Vec::new()
                }
            },
            Stage::Saving => {
                self.stage = Stage::Saving;
                Vec::new()
            }
            Stage::Conflict { theirs, theirs_text, yours_vs_theirs, theirs_vs_original } => match action {
                Some(Action::ReloadTheirs) => {
                    self.merge_theirs(theirs.stat.version, theirs_text);
                    Vec::new()
                }
                Some(Action::Overwrite) => {
                    self.stage = Stage::ConfirmOverwrite { theirs };
                    Vec::new()
                }
                Some(Action::KeepEditing) => {
                    self.message = Some("kept editing; the save will conflict again until you reload (r)".into());
                    Vec::new()
                }
                _ => {
                    self.stage = Stage::Conflict { theirs, theirs_text, yours_vs_theirs, theirs_vs_original };
                    Vec::new()
                }
            },
            Stage::ConfirmOverwrite { theirs } => match action {
                // Still version-checked: against the version the operator has just seen.
                Some(Action::Confirm) => self.save_request(theirs.stat.version),
                _ => Vec::new(),
            },
            Stage::TypeName { cluster, mut typed, expected_version } => {
                match (action, typed_char(&key)) {
                    (_, Some(c)) => {
                        typed.push(c);
                        self.stage = Stage::TypeName { cluster, typed, expected_version };
                    }
                    (Some(Action::Cancel), _) => {}
                    (Some(Action::Submit), _) if typed == cluster => {
                        self.stage = Stage::Saving;
                        return vec![Request::Save {
                            data: self.text().into_bytes(),
                            expected_version,
                            confirm: Some(typed),
                        }];
                    }
                    (Some(Action::Submit), _) => {
                        self.message = Some(format!("that is not {cluster:?}; nothing was written"));
                    }
                    (Some(Action::DeleteChar), _) => {
                        typed.pop();
                        self.stage = Stage::TypeName { cluster, typed, expected_version };
                    }
                    _ => self.stage = Stage::TypeName { cluster, typed, expected_version },
                }
                Vec::new()
            }
            Stage::ConfirmClose => match action {
                Some(Action::KeepDraft) => vec![Request::CloseKeepDraft],
                Some(Action::Discard) => vec![Request::CloseDiscard],
                _ => Vec::new(),
            },
        }
    }

    fn on_editing_key(&mut self, key: KeyEvent, action: Option<Action>) -> Vec<Request> {
        match action {
            Some(Action::Back) => {
                if self.modified() {
                    self.stage = Stage::ConfirmClose;
                    Vec::new()
                } else {
                    vec![Request::CloseDiscard]
                }
            }
            Some(Action::Save) => self.begin_save(),
            Some(Action::Find) => {
                self.stage = Stage::Search(String::new());
                Vec::new()
            }
            Some(Action::FindNext) => {
                if !self.textarea.search_forward(false) {
                    self.message = Some("no further match".into());
                }
                Vec::new()
            }
            Some(Action::Undo | Action::Redo) if !self.read_only => {
                let changed = if action == Some(Action::Undo) { self.textarea.undo() } else { self.textarea.redo() };
                if changed {
                    self.edited();
                }
                Vec::new()
            }
            _ if self.read_only => {
                // Moving around is fine; nothing that changes the text.
                let before = self.textarea.lines().len();
                if matches!(
                    key.code,
                    KeyCode::Up | KeyCode::Down | KeyCode::Left | KeyCode::Right | KeyCode::PageUp | KeyCode::PageDown
                ) {
                    self.textarea.input(key);
                }
                debug_assert_eq!(before, self.textarea.lines().len());
                Vec::new()
            }
            _ => {
                if self.textarea.input(key) {
                    self.edited();
                }
                Vec::new()
            }
        }
    }

    /// Three-way merge onto their version (base: the text the edit started from): both sides'
    /// separate changes are kept; changes to the same lines are marked in the text and block
    /// the save until resolved. From here on the diff and the version check start from theirs.
    fn merge_theirs(&mut self, their_version: i32, theirs_text: String) {
        // Every line must end with a newline, or diffy glues a conflict marker to the last line
        // of a side ("mine v1|||||||"); the editor's text never has a trailing one.
        let line_ended = |t: &str| if t.ends_with('\n') { t.to_string() } else { format!("{t}\n") };
        let merged = diffy::merge(&line_ended(&self.original), &line_ended(&self.text()), &line_ended(&theirs_text));
        self.base_version = their_version;
        self.original = theirs_text;
        self.remote = Remote::Unchanged;
        let (text, conflicts) = match merged {
            Ok(text) => (text, 0),
            Err(text) => {
                let n = text.lines().filter(|l| l.starts_with(CONFLICT_START)).count();
                (text, n)
            }
        };
        self.set_text(&text);
        self.edited();
        self.message = Some(if conflicts == 0 {
            format!("merged your edit onto version {their_version}: review the diff, then ctrl-s")
        } else {
            format!(
                "{conflicts} overlapping change(s) marked {CONFLICT_START} … {CONFLICT_END}: keep what should stay, \
                 delete the markers, then ctrl-s"
            )
        });
    }

    /// The watch saw the znode written (`Some(version)`) or deleted (`None`) under the edit.
    pub fn remote_change(&mut self, version: Option<i32>) {
        self.remote = match version {
            Some(v) if v > self.base_version => Remote::ChangedTo(v),
            Some(_) => Remote::Unchanged,
            None => Remote::Deleted,
        };
    }

    /// Whether the text still holds merge conflict markers.
    pub fn has_conflict_markers(&self) -> bool {
        self.textarea.lines().iter().any(|l| {
            l.starts_with(CONFLICT_START)
                || l.starts_with(CONFLICT_END)
                || l.starts_with(CONFLICT_BASE)
                || l == CONFLICT_SPLIT
        })
    }

    fn edited(&mut self) {
        self.generation += 1;
        self.draft_dirty = true;
        self.changed = true;
        self.message = None;
    }

    fn search(&mut self, q: &str) {
        // Searches are literal text, not regular expressions.
        let pattern = regex::escape(q);
        match self.textarea.set_search_pattern(&pattern) {
            Ok(()) if self.textarea.search_forward(true) => self.message = Some(format!("/{q}  (F3: next)")),
            Ok(()) => self.message = Some(format!("{q:?} not found")),
            Err(e) => self.message = Some(format!("bad pattern: {e}")),
        }
    }

    fn begin_save(&mut self) -> Vec<Request> {
        if self.read_only {
            return vec![Request::Notice(if self.kind == EditorKind::HexReadOnly {
                "binary data is shown read-only".into()
            } else {
                "read-only mode: saving is disabled".into()
            })];
        }
        if self.has_conflict_markers() {
            self.message = Some(format!("resolve the marked conflicts first ({CONFLICT_START} … {CONFLICT_END})"));
            return Vec::new();
        }
        if self.has_errors() {
            self.message = Some("fix the errors first (listed below the text)".into());
            return Vec::new();
        }
        if !self.modified() {
            self.message = Some("nothing changed".into());
            return Vec::new();
        }
        let (diff, stats) = diff_lines(&self.original, &self.text());
        self.stage = Stage::ConfirmSave { diff, stats };
        Vec::new()
    }

    fn save_request(&mut self, expected_version: i32) -> Vec<Request> {
        self.stage = Stage::Saving;
        vec![Request::Save { data: self.text().into_bytes(), expected_version, confirm: None }]
    }

    /// The write needs the production cluster's name typed; the version stays the same.
    pub fn needs_name(&mut self, cluster: String, expected_version: i32) {
        self.stage = Stage::TypeName { cluster, typed: String::new(), expected_version };
    }

    /// Someone else wrote first: show theirs against yours and against the original.
    pub fn conflict(&mut self, theirs: NodeInfo) {
        let theirs_text = String::from_utf8_lossy(&theirs.data).into_owned();
        let (yours_vs_theirs, _) = diff_lines(&theirs_text, &self.text());
        let (theirs_vs_original, _) = diff_lines(&self.original, &theirs_text);
        self.stage = Stage::Conflict { theirs, theirs_text, yours_vs_theirs, theirs_vs_original };
    }

    /// The write failed for another reason: back to editing, nothing lost.
    pub fn save_failed(&mut self, message: String) {
        self.stage = Stage::Editing;
        self.message = Some(message);
    }
}

/// JSON syntax check with the position of the first error (1-based line and column).
pub fn json_problems(text: &str) -> Vec<Problem> {
    match serde_json::from_str::<serde::de::IgnoredAny>(text) {
        Ok(_) => Vec::new(),
        Err(e) => {
            let (line, column) = crate::cluster::schema::syntax_position(text, &e);
            vec![Problem { line, column, message: e.to_string(), error: true }]
        }
    }
}

/// A printable character typed without ctrl or alt: text for a typed line, never an action.
pub fn typed_char(key: &KeyEvent) -> Option<char> {
    match key.code {
        KeyCode::Char(c) if !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => Some(c),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zk::NodeStat;

    fn node(data: &str, version: i32) -> NodeInfo {
        NodeInfo {
            path: "/a".into(),
            stat: NodeStat { version, ..NodeStat::default() },
            data: data.as_bytes().to_vec(),
        }
    }

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    fn typed(e: &mut Editor, s: &str) {
        for c in s.chars() {
            e.on_key(key(KeyCode::Char(c)), &KeyMap::default());
        }
    }

    #[test]
    fn json_errors_name_line_and_column() {
        let p = json_problems("{\n  \"a\": 1,\n  \"b\" 2\n}");
        assert_eq!((p[0].line, p[0].column), (3, 7));
        assert!(json_problems("{\"a\": [1, 2]}").is_empty());
    }

    #[test]
    fn save_shows_a_diff_then_writes_with_the_base_version() {
        let n = node("{\"a\": 1}", 4);
        let mut e = Editor::open(&n, "{\"a\": 1}".into(), EditorKind::Json, None, false);
        e.textarea.move_cursor(ratatui_textarea::CursorMove::End);
        e.on_key(key(KeyCode::Backspace), &KeyMap::default());
        typed(&mut e, " }");
        assert!(e.modified());
        assert!(e.on_key(ctrl('s'), &KeyMap::default()).is_empty());
        let Stage::ConfirmSave { stats, .. } = &e.stage else { panic!("{:?}", e.stage) };
        assert_eq!((stats.added, stats.removed), (1, 1));
        assert_eq!(
            e.on_key(key(KeyCode::Enter), &KeyMap::default()),
            vec![Request::Save { data: b"{\"a\": 1 }".to_vec(), expected_version: 4, confirm: None }]
        );
        assert_eq!(e.stage, Stage::Saving);
    }

    #[test]
    fn errors_block_the_save() {
        let mut e = Editor::open(&node("{}", 1), "{}".into(), EditorKind::Json, None, false);
        typed(&mut e, "x");
        let text = e.text();
        e.apply_validation(e.generation, json_problems(&text));
        assert!(e.has_errors());
        e.on_key(ctrl('s'), &KeyMap::default());
        assert_eq!(e.stage, Stage::Editing);
        assert!(e.message.as_deref().unwrap().contains("fix the errors"));
    }

    #[test]
    fn conflict_ways_out() {
        let n = node("v1", 1);
        let mut e = Editor::open(&n, "v1".into(), EditorKind::Text, None, false);
        typed(&mut e, "mine ");
        e.on_key(ctrl('s'), &KeyMap::default());
        e.on_key(key(KeyCode::Char('y')), &KeyMap::default());
        e.conflict(node("theirs", 2));
        // keep editing: nothing lost, base unchanged
        e.on_key(key(KeyCode::Char('k')), &KeyMap::default());
        assert_eq!(e.stage, Stage::Editing);
        assert_eq!(e.base_version, 1);
        assert_eq!(e.text(), "mine v1");
        // reload and re-apply: base is theirs, the edit stays
        e.on_key(ctrl('s'), &KeyMap::default());
        e.on_key(key(KeyCode::Char('y')), &KeyMap::default());
        e.conflict(node("theirs", 2));
        e.on_key(key(KeyCode::Char('r')), &KeyMap::default());
        // Both changed the one line: marked, each marker on its own line, the save refused.
        assert_eq!((e.base_version, e.original.as_str()), (2, "theirs"));
        let lines: Vec<String> = e.textarea.lines().to_vec();
        assert!(lines.iter().any(|l| l.starts_with(CONFLICT_START)), "{lines:?}");
        assert!(lines.contains(&"mine v1".to_string()) && lines.contains(&"theirs".to_string()), "{lines:?}");
        assert!(lines.contains(&CONFLICT_SPLIT.to_string()), "{lines:?}");
        assert!(e.has_conflict_markers());
        e.on_key(ctrl('s'), &KeyMap::default());
        assert_eq!(e.stage, Stage::Editing, "a save with markers must not start");
        assert!(e.message.as_deref().is_some_and(|m| m.contains("resolve")), "{:?}", e.message);
        e.set_text("mine v1");
        // overwrite needs a second yes and is checked against their version
        e.on_key(ctrl('s'), &KeyMap::default());
        e.on_key(key(KeyCode::Char('y')), &KeyMap::default());
        e.conflict(node("theirs again", 3));
        e.on_key(key(KeyCode::Char('o')), &KeyMap::default());
        assert!(matches!(e.stage, Stage::ConfirmOverwrite { .. }));
        assert_eq!(
            e.on_key(key(KeyCode::Char('y')), &KeyMap::default()),
            vec![Request::Save { data: b"mine v1".to_vec(), expected_version: 3, confirm: None }]
        );
    }

    #[test]
    fn separate_changes_merge_cleanly() {
        let base = "{\n  \"a\": 1,\n  \"b\": 2,\n  \"c\": 3,\n  \"d\": 4\n}";
        let mut e = Editor::open(&node(base, 1), base.into(), EditorKind::Json, None, false);
        e.set_text(&base.replace("\"a\": 1", "\"a\": 10"));
        e.on_key(ctrl('s'), &KeyMap::default());
        e.on_key(key(KeyCode::Char('y')), &KeyMap::default());
        e.conflict(node(&base.replace("\"d\": 4", "\"d\": 40"), 2));
        e.on_key(key(KeyCode::Char('r')), &KeyMap::default());
        assert_eq!(e.text(), base.replace("\"a\": 1", "\"a\": 10").replace("\"d\": 4", "\"d\": 40"));
        assert!(!e.has_conflict_markers());
        assert_eq!(e.base_version, 2);
    }

    #[test]
    fn closing_with_changes_asks_and_read_only_never_changes_text() {
        let mut e = Editor::open(&node("x", 1), "x".into(), EditorKind::Text, None, false);
        assert_eq!(e.on_key(key(KeyCode::Esc), &KeyMap::default()), vec![Request::CloseDiscard]);
        typed(&mut e, "y");
        assert!(e.on_key(key(KeyCode::Esc), &KeyMap::default()).is_empty());
        assert_eq!(e.stage, Stage::ConfirmClose);
        assert_eq!(e.on_key(key(KeyCode::Char('k')), &KeyMap::default()), vec![Request::CloseKeepDraft]);

        let mut ro = Editor::open(&node("x", 1), "x".into(), EditorKind::HexReadOnly, None, false);
        typed(&mut ro, "zzz");
        assert_eq!(ro.text(), "x");
        assert!(matches!(ro.on_key(ctrl('s'), &KeyMap::default())[0], Request::Notice(_)));
    }

    #[test]
    fn search_is_literal() {
        let text = "axb\nxyz\na.b*";
        let mut e = Editor::open(&node(text, 1), text.into(), EditorKind::Text, None, false);
        e.on_key(ctrl('g'), &KeyMap::default());
        typed(&mut e, "y");
        e.on_key(key(KeyCode::Enter), &KeyMap::default());
        assert_eq!(e.textarea.cursor(), ratatui_textarea::DataCursor(1, 1));
        // "a.b*" as a pattern would match "axb" on the first line; as text only the last line.
        e.on_key(ctrl('g'), &KeyMap::default());
        typed(&mut e, "a.b*");
        e.on_key(key(KeyCode::Enter), &KeyMap::default());
        assert_eq!(e.textarea.cursor(), ratatui_textarea::DataCursor(2, 0));
    }

    #[test]
    fn rebound_keys_reach_the_editor_and_typed_letters_stay_text() {
        let mut o = std::collections::BTreeMap::new();
        o.insert("save".to_string(), vec!["ctrl-w".to_string()]);
        o.insert("undo".to_string(), vec!["ctrl-z".to_string()]);
        let km = KeyMap::default().with_overrides(&o).unwrap();
        let mut e = Editor::open(&node("{}", 1), "{}".into(), EditorKind::Json, None, false);
        // q and ? are quit and help on the screens; in the editor they are text.
        for c in ['q', '?'] {
            e.on_key(key(KeyCode::Char(c)), &km);
        }
        assert_eq!(e.text(), "q?{}");
        e.on_key(ctrl('z'), &km);
        assert_eq!(e.text(), "q{}", "undo rebound to ctrl-z");
        e.on_key(ctrl('s'), &km);
        assert_eq!(e.scope(), Scope::Editor, "ctrl-s no longer saves once save is rebound");
        e.on_key(ctrl('w'), &km);
        assert!(matches!(e.stage, Stage::ConfirmSave { .. }), "ctrl-w did not begin the save");
        assert_eq!(e.scope(), Scope::Confirm);
    }
}
