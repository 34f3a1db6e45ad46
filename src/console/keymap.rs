//! Every key goes through this table to a named [`Action`]; the same table draws the hint bar
//! and the `?` help, and the config file's `[keys]` section can rebind any action.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::{Deserialize, Serialize};

/// What a key can ask for. The names (kebab-case) are what `[keys]` in the config file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Quit,
    ForceQuit,
    Help,
    CommandLine,
    Filter,
    NextPane,
    PrevPane,
    ShowOverview,
    ShowClusters,
    FocusTree,
    FocusDetail,
    NextCluster,
    PrevCluster,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Expand,
    Collapse,
    Toggle,
    Back,
    Reload,
    Edit,
    Reveal,
    EditAcl,
    NewChild,
    DeleteNode,
    CopyPath,
    ShowAudit,
    // Cluster operations (the failover screen).
    ShowFailover,
    PlanSwitchover,
    PlanFailover,
    PlanRejoin,
    RunPlan,
    // The backups screen.
    ShowBackups,
    NewSnapshot,
    DiffSnapshot,
    RestoreSnapshot,
    // The ensemble screen.
    ShowEnsemble,
    // The editor.
    Save,
    Find,
    FindNext,
    Undo,
    Redo,
    // A conflict on save.
    ReloadTheirs,
    KeepEditing,
    Overwrite,
    // Closing the editor with changes.
    KeepDraft,
    Discard,
    // Confirmations, forms and input lines.
    Confirm,
    Cancel,
    Submit,
    NextField,
    PrevChoice,
    NextChoice,
    DeleteChar,
}

/// Which screen pane or overlay a binding belongs to. `Global` bindings also work in the
/// screens' scopes; an overlay's scope has only its own bindings (and `ctrl-c`), so a key
/// like `q` typed into the editor is text, not "quit".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Global,
    Cluster,
    Tree,
    Detail,
    /// The cluster overview.
    Overview,
    /// The audit log screen.
    Audit,
    /// The search screen's results.
    Find,
    /// The failover screen: the operation in progress, the plan, the history.
    Failover,
    /// The backups screen: snapshots, dumps, the job running, a diff or restore plan.
    Backups,
    /// The ensemble screen: the ZooKeeper members.
    Ensemble,
    /// Help and the node popup (scrolling and closing only).
    Popup,
    /// The editor while editing text (other keys edit the text).
    Editor,
    /// The editor after a save found someone else's newer version.
    Conflict,
    /// Yes/no questions: the diff before a save, the overwrite.
    Confirm,
    /// Yes/no before a destructive step (a leaf's delete): only an explicit yes.
    Danger,
    /// Closing the editor with unsaved changes.
    CloseEdit,
    /// Forms: create, typed confirmations (other keys type into the field).
    Dialog,
    /// One-line input: the command line, the filter, the editor's search.
    Input,
}

impl Scope {
    /// Whether `Global` bindings apply here too.
    pub fn with_globals(self) -> bool {
        matches!(
            self,
            Scope::Global
                | Scope::Overview
                | Scope::Cluster
                | Scope::Audit
                | Scope::Tree
                | Scope::Detail
                | Scope::Find
                | Scope::Failover
                | Scope::Backups
                | Scope::Ensemble
        )
    }
}

/// A key with its modifiers, printable for the hint bar (`ctrl-c`, `tab`, `?`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub const fn plain(code: KeyCode) -> Key {
        Key { code, mods: KeyModifiers::NONE }
    }
    pub const fn ch(c: char) -> Key {
        Key::plain(KeyCode::Char(c))
    }
    pub const fn ctrl(c: char) -> Key {
        Key { code: KeyCode::Char(c), mods: KeyModifiers::CONTROL }
    }

    /// Normalises a terminal key event: shift is implied by an upper-case or symbol char.
    pub fn from_event(ev: &KeyEvent) -> Key {
        let mut mods = ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        if matches!(ev.code, KeyCode::Char(_) | KeyCode::BackTab) {
            mods.remove(KeyModifiers::SHIFT);
        }
        Key { code: ev.code, mods }
    }

    /// Parses `ctrl-c`, `alt-x`, `tab`, `shift-tab`, `enter`, `esc`, `pgup`, `f5`, `?`, `j`, and
    /// whatever [`Key`]'s `Display` prints (the help shows the arrows as `↑`, so `↑` reads as the
    /// up arrow: a key the help names can be copied into `[keys]`).
    pub fn parse(text: &str) -> Option<Key> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = text;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                mods |= KeyModifiers::CONTROL;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                mods |= KeyModifiers::ALT;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "tab" => KeyCode::Tab,
            "shift-tab" | "backtab" => KeyCode::BackTab,
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "up" | "↑" => KeyCode::Up,
            "down" | "↓" => KeyCode::Down,
            "left" | "←" => KeyCode::Left,
            "right" | "→" => KeyCode::Right,
            "pgup" => KeyCode::PageUp,
            "pgdn" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "backspace" => KeyCode::Backspace,
            "space" => KeyCode::Char(' '),
            f if f.len() > 1 && f.starts_with('f') => KeyCode::F(f[1..].parse().ok()?),
            c if c.chars().count() == 1 => KeyCode::Char(c.chars().next()?),
            _ => return None,
        };
        Some(Key { code, mods })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::F(n) => write!(f, "f{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// One row of the table: keys, action, scope, and whether the hint bar shows it.
#[derive(Debug, Clone)]
pub struct Binding {
    pub keys: Vec<Key>,
    pub action: Action,
    pub scope: Scope,
    pub hint: bool,
}

#[derive(Debug, Clone)]
pub struct KeyMap {
    pub bindings: Vec<Binding>,
}

fn b(keys: &[Key], action: Action, scope: Scope, hint: bool) -> Binding {
    Binding { keys: keys.to_vec(), action, scope, hint }
}

impl Default for KeyMap {
    fn default() -> Self {
        use Action::*;
        use KeyCode as K;
        use Scope::*;
        let p = Key::plain;
        KeyMap {
            bindings: vec![
                b(&[Key::ctrl('c')], ForceQuit, Global, false),
                b(&[Key::ch('q')], Quit, Global, true),
                b(&[Key::ch('?')], Help, Global, true),
                b(&[Key::ch(':')], CommandLine, Global, true),
                b(&[Key::ch('/')], Filter, Tree, true),
                b(&[p(K::Tab)], NextPane, Global, true),
                b(&[p(K::BackTab)], PrevPane, Global, false),
                b(&[Key::ch('0')], ShowOverview, Global, false),
                b(&[Key::ch('1')], ShowClusters, Global, false),
                b(&[p(K::Enter)], Toggle, Overview, true),
                b(&[Key::ch('/')], Filter, Overview, true),
                b(&[Key::ch('r')], Reload, Overview, false),
                b(&[Key::ch('r')], Reload, Audit, true),
                b(&[Key::ch('2')], FocusTree, Global, false),
                b(&[Key::ch('3')], FocusDetail, Global, false),
                b(&[p(K::Enter)], Toggle, Cluster, true),
                b(&[Key::ch(']')], NextCluster, Cluster, true),
                b(&[Key::ch('[')], PrevCluster, Cluster, false),
                b(&[Key::ch('t')], FocusTree, Cluster, true),
                b(&[Key::ch('S')], PlanSwitchover, Cluster, true),
                b(&[Key::ch('F')], PlanFailover, Cluster, false),
                b(&[Key::ch('R')], PlanRejoin, Cluster, false),
                b(&[Key::ch('H')], ShowFailover, Cluster, false),
                b(&[Key::ch('B')], ShowBackups, Cluster, false),
                b(&[p(K::Up), Key::ch('k')], Up, Global, false),
                b(&[p(K::Down), Key::ch('j')], Down, Global, false),
                b(&[p(K::PageUp), Key::ctrl('b')], PageUp, Global, false),
                b(&[p(K::PageDown), Key::ctrl('f')], PageDown, Global, false),
                b(&[p(K::Home), Key::ch('g')], Top, Global, false),
                b(&[p(K::End), Key::ch('G')], Bottom, Global, false),
                b(&[p(K::Right), Key::ch('l')], Expand, Tree, true),
                b(&[p(K::Left), Key::ch('h')], Collapse, Tree, true),
                b(&[p(K::Enter)], Toggle, Tree, true),
                b(&[p(K::Esc)], Back, Global, true),
                b(&[Key::ch('r')], Reload, Tree, true),
                b(&[Key::ch('e')], Edit, Tree, true),
                b(&[Key::ch('e')], Edit, Detail, true),
                b(&[Key::ch('R')], Reveal, Detail, true),
                b(&[Key::ch('a')], EditAcl, Tree, false),
                b(&[Key::ch('a')], EditAcl, Detail, true),
                b(&[Key::ch('n')], NewChild, Tree, true),
                b(&[Key::ch('d')], DeleteNode, Tree, true),
                b(&[Key::ch('y')], CopyPath, Tree, false),
                b(&[Key::ch('y')], CopyPath, Detail, false),
                b(&[Key::ch('A')], ShowAudit, Global, false),
                b(&[Key::ch('Z')], ShowEnsemble, Global, false),
                b(&[p(K::Enter)], Toggle, Scope::Find, true),
                b(&[p(K::Esc)], Back, Scope::Find, true),
                b(&[Key::ch('r')], Reload, Scope::Find, true),
                b(&[Key::ch('S')], PlanSwitchover, Failover, true),
                b(&[Key::ch('F')], PlanFailover, Failover, false),
                b(&[Key::ch('X')], RunPlan, Failover, true),
                b(&[p(K::Enter)], Toggle, Failover, true),
                b(&[Key::ch('r')], Reload, Failover, false),
                b(&[Key::ch('b')], NewSnapshot, Backups, true),
                b(&[Key::ch('d')], DiffSnapshot, Backups, true),
                b(&[Key::ch('r')], RestoreSnapshot, Backups, true),
                b(&[Key::ch('X')], RunPlan, Backups, false),
                b(&[Key::ch('R')], Reload, Backups, false),
                b(&[p(K::Esc)], Back, Backups, true),
                b(&[Key::ch('r')], Reload, Scope::Ensemble, true),
                b(&[p(K::Esc)], Back, Scope::Ensemble, true),
                b(&[p(K::Esc), Key::ch('q')], Back, Popup, true),
                b(&[Key::ch('?')], Help, Popup, false),
                b(&[p(K::Up), Key::ch('k')], Up, Popup, false),
                b(&[p(K::Down), Key::ch('j')], Down, Popup, false),
                b(&[p(K::PageUp), Key::ctrl('b')], PageUp, Popup, false),
                b(&[p(K::PageDown), Key::ctrl('f')], PageDown, Popup, false),
                b(&[Key::ctrl('s')], Save, Editor, true),
                b(&[Key::ctrl('g')], Action::Find, Editor, true),
                b(&[p(K::F(3))], FindNext, Editor, true),
                b(&[Key::ctrl('u')], Undo, Editor, true),
                b(&[Key::ctrl('r')], Redo, Editor, true),
                b(&[p(K::Esc)], Back, Editor, true),
                b(&[Key::ch('r')], ReloadTheirs, Conflict, true),
                b(&[Key::ch('k'), p(K::Esc)], KeepEditing, Conflict, true),
                b(&[Key::ch('o')], Overwrite, Conflict, true),
                b(&[Key::ch('y'), p(K::Enter)], Action::Confirm, Scope::Confirm, true),
                b(&[Key::ch('n'), p(K::Esc)], Cancel, Scope::Confirm, true),
                b(&[Key::ch('y')], Action::Confirm, Danger, true),
                b(&[Key::ch('n'), p(K::Esc)], Cancel, Danger, true),
                b(&[Key::ch('k'), Key::ch('y')], KeepDraft, CloseEdit, true),
                b(&[Key::ch('d')], Discard, CloseEdit, true),
                b(&[p(K::Esc)], Cancel, CloseEdit, true),
                b(&[p(K::Tab)], NextField, Dialog, true),
                b(&[p(K::Left)], PrevChoice, Dialog, false),
                b(&[p(K::Right)], NextChoice, Dialog, true),
                b(&[p(K::Enter)], Submit, Dialog, true),
                b(&[p(K::Backspace)], DeleteChar, Dialog, false),
                b(&[p(K::Esc)], Cancel, Dialog, true),
                b(&[p(K::Enter)], Submit, Input, true),
                b(&[p(K::Backspace)], DeleteChar, Input, false),
                b(&[p(K::Esc)], Cancel, Input, true),
            ],
        }
    }
}

impl KeyMap {
    /// The action for a key in a scope; the scope's bindings win over global ones, which
    /// apply only where [`Scope::with_globals`] says so.
    pub fn lookup(&self, key: Key, pane: Scope) -> Option<Action> {
        let find = |scope: Scope| {
            self.bindings.iter().find(|bd| bd.scope == scope && bd.keys.contains(&key)).map(|bd| bd.action)
        };
        find(pane).or_else(|| if pane.with_globals() { find(Scope::Global) } else { None })
    }

    /// Bindings that work in `pane`, pane-specific first: the help popup lists these. A global
    /// binding whose keys the pane binds to something else is left out (it does not work there).
    pub fn for_pane(&self, pane: Scope) -> impl Iterator<Item = &Binding> {
        let pane_first = self.bindings.iter().filter(move |bd| bd.scope == pane);
        let globals = pane.with_globals() && pane != Scope::Global;
        let shadowed = move |g: &Binding| {
            self.bindings.iter().any(|bd| bd.scope == pane && bd.keys.iter().any(|k| g.keys.contains(k)))
        };
        pane_first.chain(self.bindings.iter().filter(move |bd| globals && bd.scope == Scope::Global && !shadowed(bd)))
    }

    /// The first key bound to `action` anywhere (the header names the ensemble screen's key).
    pub fn key_for(&self, action: Action) -> Option<Key> {
        self.bindings.iter().find(|bd| bd.action == action).and_then(|bd| bd.keys.first().copied())
    }

    /// `(keys, action)` pairs for the hint bar; help first, so it survives a narrow terminal.
    pub fn hints(&self, pane: Scope) -> Vec<(String, Action)> {
        let mut hints: Vec<(String, Action)> = self
            .for_pane(pane)
            .filter(|bd| bd.hint)
            .map(|bd| (bd.keys.iter().map(Key::to_string).collect::<Vec<_>>().join("/"), bd.action))
            .collect();
        hints.sort_by_key(|(_, a)| *a != Action::Help);
        hints
    }

    /// The hint bar's `(keys, label)` pairs for a scope, labelled for that scope.
    pub fn hint_labels(&self, pane: Scope) -> Vec<(String, &'static str)> {
        self.hints(pane).into_iter().map(|(k, a)| (k, super::strings::action_label_in(a, pane))).collect()
    }

    /// Applies `[keys]` overrides: `action-name = ["key", …]` replaces that action's keys.
    pub fn with_overrides(mut self, overrides: &BTreeMap<String, Vec<String>>) -> anyhow::Result<KeyMap> {
        for (name, keys) in overrides {
            let action: Action = serde_json::from_value(serde_json::Value::String(name.clone()))
                .map_err(|_| anyhow::anyhow!("[keys]: unknown action {name:?}"))?;
            let parsed = keys
                .iter()
                .map(|k| Key::parse(k).ok_or_else(|| anyhow::anyhow!("[keys] {name}: cannot read key {k:?}")))
                .collect::<anyhow::Result<Vec<Key>>>()?;
            for bd in self.bindings.iter_mut().filter(|bd| bd.action == action) {
                bd.keys = parsed.clone();
            }
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pane_bindings_win_and_globals_apply() {
        let km = KeyMap::default();
        assert_eq!(km.lookup(Key::ch('q'), Scope::Tree), Some(Action::Quit));
        assert_eq!(km.lookup(Key::ch('/'), Scope::Tree), Some(Action::Filter));
        assert_eq!(km.lookup(Key::ch('/'), Scope::Detail), None);
        assert_eq!(km.lookup(Key::ctrl('c'), Scope::Detail), Some(Action::ForceQuit));
        assert_eq!(km.lookup(Key::ch('j'), Scope::Detail), Some(Action::Down));
    }

    #[test]
    fn shifted_chars_match_without_shift() {
        let ev = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(KeyMap::default().lookup(Key::from_event(&ev), Scope::Tree), Some(Action::Bottom));
        let ev = KeyEvent::new(KeyCode::Char('?'), KeyModifiers::SHIFT);
        assert_eq!(KeyMap::default().lookup(Key::from_event(&ev), Scope::Tree), Some(Action::Help));
    }

    #[test]
    fn keys_parse_and_print() {
        for text in
            ["ctrl-c", "tab", "shift-tab", "enter", "esc", "f5", "?", "j", "alt-x", "pgup", "space", "up", "backspace"]
        {
            let k = Key::parse(text).unwrap();
            let shown = k.to_string();
            assert_eq!(Key::parse(&shown), Some(k), "{text}");
        }
        assert!(Key::parse("ctrl-").is_none());
        assert!(Key::parse("nonsense").is_none());
    }

    #[test]
    fn overrides_replace_keys_and_reject_unknown_names() {
        let mut o = BTreeMap::new();
        o.insert("quit".to_string(), vec!["x".to_string()]);
        let km = KeyMap::default().with_overrides(&o).unwrap();
        assert_eq!(km.lookup(Key::ch('x'), Scope::Tree), Some(Action::Quit));
        assert_eq!(km.lookup(Key::ch('q'), Scope::Tree), None);
        o.insert("fly".to_string(), vec!["y".to_string()]);
        assert!(KeyMap::default().with_overrides(&o).is_err());
    }

    #[test]
    fn a_key_the_scope_rebinds_is_not_also_shown_as_global() {
        let hints = KeyMap::default().hints(Scope::Find);
        assert_eq!(hints.iter().filter(|(k, _)| k == "esc").count(), 1, "{hints:?}");
        // The operation keys exist where they are used, and nowhere clash.
        let km = KeyMap::default();
        assert_eq!(km.lookup(Key::ch('S'), Scope::Cluster), Some(Action::PlanSwitchover));
        assert_eq!(km.lookup(Key::ch('H'), Scope::Cluster), Some(Action::ShowFailover));
        assert_eq!(km.lookup(Key::ch('S'), Scope::Failover), Some(Action::PlanSwitchover));
        assert_eq!(km.lookup(Key::ch('X'), Scope::Failover), Some(Action::RunPlan));
        assert_eq!(km.lookup(Key::ch('X'), Scope::Cluster), None, "running needs the plan on screen");
        assert_eq!(km.lookup(p_esc(), Scope::Failover), Some(Action::Back));
        assert_eq!(km.lookup(Key::ch('B'), Scope::Cluster), Some(Action::ShowBackups));
        assert_eq!(km.lookup(Key::ch('b'), Scope::Backups), Some(Action::NewSnapshot));
        assert_eq!(km.lookup(Key::ch('d'), Scope::Backups), Some(Action::DiffSnapshot));
        assert_eq!(km.lookup(Key::ch('r'), Scope::Backups), Some(Action::RestoreSnapshot));
        assert_eq!(km.lookup(Key::ch('j'), Scope::Backups), Some(Action::Down));
        // The ensemble screen opens from anywhere a screen has the keys.
        for scope in [Scope::Tree, Scope::Detail, Scope::Cluster, Scope::Overview, Scope::Backups] {
            assert_eq!(km.lookup(Key::ch('Z'), scope), Some(Action::ShowEnsemble), "{scope:?}");
        }
        assert_eq!(km.lookup(Key::ch('r'), Scope::Ensemble), Some(Action::Reload));
        assert_eq!(km.lookup(Key::ch('Z'), Scope::Editor), None, "typed into the editor");
        // In the editor, letters are text: no global key leaks in.
        assert!(KeyMap::default().hints(Scope::Editor).iter().all(|(k, _)| k != "q"));
    }

    fn p_esc() -> Key {
        Key::plain(KeyCode::Esc)
    }

    #[test]
    fn hint_bar_comes_from_the_table() {
        let hints = KeyMap::default().hints(Scope::Tree);
        assert_eq!(hints[0], ("?".to_string(), Action::Help));
        assert_eq!(hints[1], ("/".to_string(), Action::Filter));
        assert!(hints.iter().any(|(k, a)| k == "q" && *a == Action::Quit));
    }
}
