//! The create, delete, run-operation and restore dialogs: pure form state and key handling.
//! Dangerous actions are two steps — this confirmation, then a separate confirmed effect — and
//! the service checks everything again where it writes.

use crossterm::event::KeyEvent;

use super::editor::typed_char;
use super::keymap::{Action, Key, KeyMap, Scope};

use crate::failover::plan::{OpKind, Plan};
use crate::ops::{DeletePlan, NodeMode};
use crate::zk::{base_name, child_path};

/// Modes offered when creating, in the order Tab cycles them.
pub const CREATE_MODES: [&str; 5] = ["persistent", "persistent-sequential", "container", "ttl", "ephemeral"];
/// Initial data templates.
pub const TEMPLATES: [(&str, &str); 3] = [("empty", ""), ("json object", "{}\n"), ("json array", "[]\n")];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateField {
    Name,
    Mode,
    Ttl,
    Template,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateForm {
    pub parent: String,
    pub name: String,
    pub mode: usize,
    pub ttl_ms: String,
    pub template: usize,
    pub field: CreateField,
    pub error: Option<String>,
}

/// What a dialog asks for when it is done.
#[derive(Debug, Clone, PartialEq)]
pub enum DialogResult {
    Stay,
    Cancel,
    Create {
        path: String,
        data: Vec<u8>,
        mode: NodeMode,
    },
    Delete {
        path: String,
        version: i32,
        recursive: bool,
        confirm: Option<String>,
    },
    /// Run the plan made as job `id`; `confirm` is the production cluster's name as typed.
    Run {
        id: u64,
        kind: OpKind,
        cluster: String,
        confirm: Option<String>,
    },
    /// Restore `snapshot`; `confirm` is the production cluster name(s) as typed.
    Restore {
        snapshot: u64,
        confirm: Option<String>,
    },
    /// Cancel backup job `id`.
    CancelJob {
        id: u64,
    },
    /// Replace `path`'s ACL, checked against `acl_version`; `confirm` is the production
    /// cluster's name as typed.
    SetAcl {
        path: String,
        acl: Vec<crate::zk::AclEntry>,
        acl_version: i32,
        confirm: Option<String>,
    },
}

/// Which field of the ACL form takes the typing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AclField {
    Acl,
    ClusterName,
}

/// Editing a znode's ACL: the current one as text (zkCli's `scheme:id:perms`, commas between
/// entries), parsed strictly on every key so a mistake shows before anything is sent; on a
/// production cluster's znode, the cluster's name typed too. Saving is checked against the ACL
/// version the form was opened with: a colleague's change in between is a conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclForm {
    pub path: String,
    pub acl_version: i32,
    pub text: String,
    /// The production cluster whose name must be typed (known once the service asked for it).
    pub cluster: Option<String>,
    pub typed: String,
    pub field: AclField,
    pub error: Option<String>,
}

impl AclForm {
    pub fn new(path: &str, acl_version: i32, text: String) -> AclForm {
        let mut form = AclForm {
            path: path.to_string(),
            acl_version,
            text,
            cluster: None,
            typed: String::new(),
            field: AclField::Acl,
            error: None,
        };
        form.check();
        form
    }

    /// Asks for the production cluster's name too (and puts the typing there).
    pub fn with_cluster(mut self, cluster: String) -> AclForm {
        self.cluster = Some(cluster);
        self.field = AclField::ClusterName;
        self
    }

    /// The parse of the text as it stands: the error shows under the field.
    fn check(&mut self) -> Option<Vec<crate::zk::AclEntry>> {
        match crate::zk::acl::parse(&[self.text.as_str()]) {
            Ok(acl) => {
                self.error = None;
                Some(acl)
            }
            Err(e) => {
                self.error = Some(e.to_string());
                None
            }
        }
    }

    pub fn on_key(&mut self, key: KeyEvent, keymap: &KeyMap) -> DialogResult {
        let action = keymap.lookup(Key::from_event(&key), Scope::Dialog);
        let field = match self.field {
            AclField::Acl => &mut self.text,
            AclField::ClusterName => &mut self.typed,
        };
        match (action, typed_char(&key)) {
            (_, Some(c)) => field.push(c),
            (Some(Action::Cancel), _) => return DialogResult::Cancel,
            (Some(Action::DeleteChar), _) => {
                field.pop();
            }
            (Some(Action::NextField), _) if self.cluster.is_some() => {
                self.field = match self.field {
                    AclField::Acl => AclField::ClusterName,
                    AclField::ClusterName => AclField::Acl,
                };
            }
            (Some(Action::Submit), _) => return self.submit(),
            _ => return DialogResult::Stay,
        }
        self.check();
        DialogResult::Stay
    }

    fn submit(&mut self) -> DialogResult {
        let Some(acl) = self.check() else { return DialogResult::Stay };
        if let Some(cluster) = &self.cluster {
            if self.typed.trim() != cluster {
                self.error = Some(super::strings::acl_type_cluster_exactly(cluster));
                self.field = AclField::ClusterName;
                return DialogResult::Stay;
            }
        }
        DialogResult::SetAcl {
            path: self.path.clone(),
            acl,
            acl_version: self.acl_version,
            confirm: self.cluster.clone(),
        }
    }
}

impl CreateForm {
    pub fn new(parent: &str) -> CreateForm {
        CreateForm {
            parent: parent.to_string(),
            name: String::new(),
            mode: 0,
            ttl_ms: "60000".into(),
            template: 0,
            field: CreateField::Name,
            error: None,
        }
    }

    pub fn path(&self) -> String {
        child_path(&self.parent, &self.name)
    }

    /// A key: named actions from the keymap's `Dialog` scope; characters type into the field.
    pub fn on_key(&mut self, key: KeyEvent, keymap: &KeyMap) -> DialogResult {
        let action = keymap.lookup(Key::from_event(&key), Scope::Dialog);
        match (action, typed_char(&key)) {
            (_, Some(c)) => match self.field {
                CreateField::Name => self.name.push(c),
                CreateField::Ttl if c.is_ascii_digit() => self.ttl_ms.push(c),
                _ => {}
            },
            (Some(Action::Cancel), _) => return DialogResult::Cancel,
            (Some(Action::NextField), _) => self.field = self.next_field(),
            (Some(Action::Submit), _) => return self.submit(),
            (Some(a @ (Action::PrevChoice | Action::NextChoice)), _) => {
                let forward = a == Action::NextChoice;
                match self.field {
                    CreateField::Mode => self.mode = cycle(self.mode, CREATE_MODES.len(), forward),
                    CreateField::Template => self.template = cycle(self.template, TEMPLATES.len(), forward),
                    _ => {}
                }
            }
            (Some(Action::DeleteChar), _) => {
                match self.field {
                    CreateField::Name => self.name.pop(),
                    CreateField::Ttl => self.ttl_ms.pop(),
                    _ => None,
                };
            }
            _ => {}
        }
        self.error = None;
        DialogResult::Stay
    }

    fn next_field(&self) -> CreateField {
        match self.field {
            CreateField::Name => CreateField::Mode,
            CreateField::Mode if CREATE_MODES[self.mode] == "ttl" => CreateField::Ttl,
            CreateField::Mode | CreateField::Ttl => CreateField::Template,
            CreateField::Template => CreateField::Name,
        }
    }

    /// Checks the name and mode here so the operator hears about it at once; the mutation
    /// service checks them again where it writes.
    fn submit(&mut self) -> DialogResult {
        let path = self.path();
        if self.name.is_empty() || self.name.contains('/') {
            self.error = Some("a name is one path segment: no '/' and not empty".into());
            return DialogResult::Stay;
        }
        if let Err(reason) = crate::ops::validate_target(&path) {
            self.error = Some(reason);
            return DialogResult::Stay;
        }
        let mode = match CREATE_MODES[self.mode] {
            "persistent" => NodeMode::Persistent,
            "persistent-sequential" => NodeMode::PersistentSequential,
            "container" => NodeMode::Container,
            "ttl" => match self.ttl_ms.parse::<u64>() {
                Ok(ttl_ms) if ttl_ms > 0 => NodeMode::PersistentWithTtl { ttl_ms },
                _ => {
                    self.error = Some("TTL must be a positive number of milliseconds".into());
                    return DialogResult::Stay;
                }
            },
            _ => {
                self.error = Some(crate::ops::Origin::Console.ephemeral_reason().to_string());
                return DialogResult::Stay;
            }
        };
        DialogResult::Create { path, data: TEMPLATES[self.template].1.as_bytes().to_vec(), mode }
    }
}

fn cycle(i: usize, n: usize, forward: bool) -> usize {
    if forward {
        (i + 1) % n
    } else {
        (i + n - 1) % n
    }
}

/// The delete confirmation: what goes, and what must be typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteConfirm {
    pub plan: DeletePlan,
    /// A production cluster's name to type (the mutation service requires it).
    pub cluster: Option<String>,
    pub typed: String,
    pub error: Option<String>,
}

impl DeleteConfirm {
    pub fn new(plan: DeletePlan, cluster: Option<String>) -> DeleteConfirm {
        DeleteConfirm { plan, cluster, typed: String::new(), error: None }
    }

    /// What must be typed, if anything: the production cluster's name, else the znode's name
    /// when a whole subtree goes.
    pub fn must_type(&self) -> Option<String> {
        self.cluster.clone().or_else(|| (self.plan.descendants > 0).then(|| base_name(&self.plan.path).to_string()))
    }

    /// The keymap scope: a yes/no question for a leaf (where only an explicit yes deletes), a
    /// typed confirmation otherwise.
    pub fn scope(&self) -> Scope {
        if self.must_type().is_some() {
            Scope::Dialog
        } else {
            Scope::Danger
        }
    }

    pub fn on_key(&mut self, key: KeyEvent, keymap: &KeyMap) -> DialogResult {
        let action = keymap.lookup(Key::from_event(&key), self.scope());
        let Some(expected) = self.must_type() else {
            // Anything but a yes cancels: a delete is never the default.
            return match action {
                Some(Action::Confirm) => self.confirmed(None),
                _ => DialogResult::Cancel,
            };
        };
        match (action, typed_char(&key)) {
            (_, Some(c)) => {
                self.typed.push(c);
                DialogResult::Stay
            }
            (Some(Action::Cancel), _) => DialogResult::Cancel,
            (Some(Action::Submit), _) if self.typed == expected => {
                let confirm = self.cluster.clone();
                self.confirmed(confirm)
            }
            (Some(Action::Submit), _) => {
                self.error = Some(format!("type {expected:?} exactly; nothing was deleted"));
                DialogResult::Stay
            }
            (Some(Action::DeleteChar), _) => {
                self.typed.pop();
                DialogResult::Stay
            }
            _ => DialogResult::Stay,
        }
    }

    fn confirmed(&self, confirm: Option<String>) -> DialogResult {
        DialogResult::Delete {
            path: self.plan.path.clone(),
            version: self.plan.version,
            recursive: self.plan.descendants > 0,
            confirm,
        }
    }
}

/// The confirmation before a cluster operation runs: what it will do, and on a production
/// cluster the cluster's name to type (the service checks it again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunConfirm {
    pub id: u64,
    pub cluster: String,
    pub plan: Plan,
    pub production: bool,
    pub typed: String,
    pub error: Option<String>,
}

impl RunConfirm {
    pub fn new(id: u64, cluster: String, plan: Plan, production: bool) -> RunConfirm {
        RunConfirm { id, cluster, plan, production, typed: String::new(), error: None }
    }

    /// A typed confirmation on production, else an explicit yes.
    pub fn scope(&self) -> Scope {
        if self.production {
            Scope::Dialog
        } else {
            Scope::Danger
        }
    }

    pub fn on_key(&mut self, key: KeyEvent, keymap: &KeyMap) -> DialogResult {
        let action = keymap.lookup(Key::from_event(&key), self.scope());
        if !self.production {
            // Anything but a yes keeps the plan on screen: running is never the default.
            return match action {
                Some(Action::Confirm) => self.confirmed(None),
                _ => DialogResult::Cancel,
            };
        }
        match (action, typed_char(&key)) {
            (_, Some(c)) => {
                self.typed.push(c);
                DialogResult::Stay
            }
            (Some(Action::Cancel), _) => DialogResult::Cancel,
            (Some(Action::Submit), _) if self.typed == self.cluster => self.confirmed(Some(self.cluster.clone())),
            (Some(Action::Submit), _) => {
                self.error = Some(super::strings::type_cluster_exactly(&self.cluster));
                DialogResult::Stay
            }
            (Some(Action::DeleteChar), _) => {
                self.typed.pop();
                DialogResult::Stay
            }
            _ => DialogResult::Stay,
        }
    }

    fn confirmed(&self, confirm: Option<String>) -> DialogResult {
        DialogResult::Run { id: self.id, kind: self.plan.kind, cluster: self.cluster.clone(), confirm }
    }
}

/// The confirmation before a snapshot is restored: its plan in short, and the production
/// cluster name(s) to type when the restore touches one (the service checks them again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreConfirm {
    pub snapshot: u64,
    pub target: String,
    pub policy: String,
    /// `(action, count)` for the actions that write or refuse something.
    pub counts: Vec<(String, u64)>,
    pub must_type: Option<String>,
    pub typed: String,
    pub error: Option<String>,
}

impl RestoreConfirm {
    pub fn new(plan: &super::screens::backups::RestoreView) -> RestoreConfirm {
        RestoreConfirm {
            snapshot: plan.snapshot,
            target: plan.target.clone(),
            policy: plan.policy.clone(),
            counts: plan.actions.iter().filter(|a| a.count > 0).map(|a| (a.label.clone(), a.count)).collect(),
            must_type: plan.confirmation_needed.clone(),
            typed: String::new(),
            error: None,
        }
    }

    /// A typed confirmation on production, else an explicit yes.
    pub fn scope(&self) -> Scope {
        if self.must_type.is_some() {
            Scope::Dialog
        } else {
            Scope::Danger
        }
    }

    pub fn on_key(&mut self, key: KeyEvent, keymap: &KeyMap) -> DialogResult {
        let action = keymap.lookup(Key::from_event(&key), self.scope());
        let Some(expected) = self.must_type.clone() else {
            // Anything but a yes keeps the plan on screen: restoring is never the default.
            return match action {
                Some(Action::Confirm) => DialogResult::Restore { snapshot: self.snapshot, confirm: None },
                _ => DialogResult::Cancel,
            };
        };
        match (action, typed_char(&key)) {
            (_, Some(c)) => {
                self.typed.push(c);
                DialogResult::Stay
            }
            (Some(Action::Cancel), _) => DialogResult::Cancel,
            (Some(Action::Submit), _) if self.typed.trim() == expected => {
                DialogResult::Restore { snapshot: self.snapshot, confirm: Some(expected) }
            }
            (Some(Action::Submit), _) => {
                self.error = Some(super::strings::type_to_restore_exactly(&expected));
                DialogResult::Stay
            }
            (Some(Action::DeleteChar), _) => {
                self.typed.pop();
                DialogResult::Stay
            }
            _ => DialogResult::Stay,
        }
    }
}

/// "Cancel the running …?": only an explicit yes cancels the job's token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelJobConfirm {
    pub id: u64,
    pub label: &'static str,
}

impl CancelJobConfirm {
    pub fn new(id: u64, label: &'static str) -> CancelJobConfirm {
        CancelJobConfirm { id, label }
    }

    pub fn on_key(&mut self, key: KeyEvent, keymap: &KeyMap) -> DialogResult {
        match keymap.lookup(Key::from_event(&key), Scope::Danger) {
            Some(Action::Confirm) => DialogResult::CancelJob { id: self.id },
            _ => DialogResult::Cancel,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crossterm::event::{KeyCode, KeyModifiers};

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn typed(f: &mut impl FnMut(KeyEvent) -> DialogResult, s: &str) {
        for c in s.chars() {
            f(key(KeyCode::Char(c)));
        }
    }

    #[test]
    fn create_validates_names_and_refuses_ephemeral() {
        let km = KeyMap::default();
        let mut f = CreateForm::new("/a");
        assert_eq!(f.on_key(key(KeyCode::Enter), &km), DialogResult::Stay);
        assert!(f.error.is_some());
        typed(&mut |k| f.on_key(k, &km), "..");
        assert_eq!(f.on_key(key(KeyCode::Enter), &km), DialogResult::Stay);
        assert!(f.error.is_some(), "'..' refused");
        f.name = "child".into();
        f.field = CreateField::Mode;
        for _ in 0..4 {
            f.on_key(key(KeyCode::Right), &km);
        }
        assert_eq!(CREATE_MODES[f.mode], "ephemeral");
        assert_eq!(f.on_key(key(KeyCode::Enter), &km), DialogResult::Stay);
        assert!(f.error.as_deref().unwrap().contains("vanish"));
        f.on_key(key(KeyCode::Left), &km); // ttl
        f.field = CreateField::Template;
        f.on_key(key(KeyCode::Right), &km);
        assert_eq!(
            f.on_key(key(KeyCode::Enter), &km),
            DialogResult::Create {
                path: "/a/child".into(),
                data: b"{}\n".to_vec(),
                mode: NodeMode::PersistentWithTtl { ttl_ms: 60_000 }
            }
        );
        let mut z = CreateForm::new("/");
        z.name = "zookeeper".into();
        z.on_key(key(KeyCode::Enter), &km);
        assert!(z.error.is_some(), "nothing under /zookeeper");
    }

    fn plan(descendants: usize) -> DeletePlan {
        DeletePlan { path: "/a/victim".into(), version: 7, descendants, paths: Vec::new() }
    }

    #[test]
    fn deleting_a_leaf_needs_y_a_subtree_its_name_production_the_cluster() {
        let km = KeyMap::default();
        let mut d = DeleteConfirm::new(plan(0), None);
        assert_eq!(d.on_key(key(KeyCode::Enter), &km), DialogResult::Cancel, "enter must not delete");
        assert_eq!(
            d.on_key(key(KeyCode::Char('y')), &km),
            DialogResult::Delete { path: "/a/victim".into(), version: 7, recursive: false, confirm: None }
        );
        let mut d = DeleteConfirm::new(plan(3), None);
        assert_eq!(d.on_key(key(KeyCode::Char('y')), &km), DialogResult::Stay);
        d.typed.clear();
        typed(&mut |k| d.on_key(k, &km), "victim");
        assert!(matches!(
            d.on_key(key(KeyCode::Enter), &km),
            DialogResult::Delete { recursive: true, confirm: None, .. }
        ));
        let mut d = DeleteConfirm::new(plan(0), Some("prod-eu".into()));
        typed(&mut |k| d.on_key(k, &km), "victim");
        assert_eq!(d.on_key(key(KeyCode::Enter), &km), DialogResult::Stay);
        assert!(d.error.is_some());
        d.typed.clear();
        typed(&mut |k| d.on_key(k, &km), "prod-eu");
        assert!(
            matches!(d.on_key(key(KeyCode::Enter), &km), DialogResult::Delete { confirm: Some(c), .. } if c == "prod-eu")
        );
    }

    fn switchover_plan() -> Plan {
        Plan {
            kind: OpKind::Switchover,
            cluster: "prod-eu".into(),
            old_primary: "db1".into(),
            epoch: 3,
            candidate: Some("db2".into()),
            candidates: Vec::new(),
            positions: Vec::new(),
            steps: Vec::new(),
            expected_block_ms: 150,
            refusals: Vec::new(),
            warnings: Vec::new(),
        }
    }

    #[test]
    fn running_needs_y_and_on_production_the_cluster_name() {
        let km = KeyMap::default();
        let plan = crate::console::screens::backups::RestoreView {
            snapshot: 3,
            dry_run: true,
            cancelled: false,
            policy: "skip-existing".into(),
            source: "/myzoo".into(),
            target: "/myzoo".into(),
            actions: vec![],
            problems: vec![],
            confirmation_needed: Some("prod-eu".into()),
            duration_ms: 1,
            planned_zxid: None,
        };
        let mut r = RestoreConfirm::new(&plan);
        assert_eq!(r.on_key(key(KeyCode::Char('y')), &km), DialogResult::Stay, "y is typed on production");
        r.typed.clear();
        typed(&mut |k| r.on_key(k, &km), "prod-eu");
        assert_eq!(
            r.on_key(key(KeyCode::Enter), &km),
            DialogResult::Restore { snapshot: 3, confirm: Some("prod-eu".into()) }
        );
        let mut r =
            RestoreConfirm::new(&crate::console::screens::backups::RestoreView { confirmation_needed: None, ..plan });
        assert_eq!(r.on_key(key(KeyCode::Enter), &km), DialogResult::Cancel, "enter must not restore");
        assert_eq!(r.on_key(key(KeyCode::Char('y')), &km), DialogResult::Restore { snapshot: 3, confirm: None });
        let mut c = CancelJobConfirm::new(9, "snapshot");
        assert_eq!(c.on_key(key(KeyCode::Esc), &km), DialogResult::Cancel);
        assert_eq!(c.on_key(key(KeyCode::Char('y')), &km), DialogResult::CancelJob { id: 9 });

        let mut c = RunConfirm::new(4, "dev".into(), switchover_plan(), false);
        assert_eq!(c.on_key(key(KeyCode::Enter), &km), DialogResult::Cancel, "enter must not run");
        assert_eq!(
            c.on_key(key(KeyCode::Char('y')), &km),
            DialogResult::Run { id: 4, kind: OpKind::Switchover, cluster: "dev".into(), confirm: None }
        );
        let mut c = RunConfirm::new(5, "prod-eu".into(), switchover_plan(), true);
        assert_eq!(c.scope(), Scope::Dialog);
        assert_eq!(c.on_key(key(KeyCode::Char('y')), &km), DialogResult::Stay);
        assert_eq!(c.on_key(key(KeyCode::Enter), &km), DialogResult::Stay);
        assert!(c.error.is_some());
        c.typed.clear();
        typed(&mut |k| c.on_key(k, &km), "prod-eu");
        assert!(matches!(
            c.on_key(key(KeyCode::Enter), &km),
            DialogResult::Run { id: 5, confirm: Some(n), .. } if n == "prod-eu"
        ));
    }
}
