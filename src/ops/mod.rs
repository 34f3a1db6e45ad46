//! The one code path for every change an operator makes to ZooKeeper, from the console and from
//! `myzoo zk …` alike: the guards (read-only, path rules, the 1 MB limit, masked secrets,
//! ephemeral znodes, production confirmation) are enforced here, where the write happens, and
//! every attempt (done, failed or refused) is appended to the audit log.
//!
//! Production: these count as destructive and need the cluster's name typed
//! ([`Ops::confirmation_needed`] says which name):
//! - any delete at or below a production cluster, or of an ancestor holding one;
//! - a set without an expected version (a blind overwrite) below a production cluster;
//! - a set of a production cluster's `primary` record (it decides where writes go);
//! - a set of a production cluster's `config` that takes it out of production;
//! - any ACL change at or below a production cluster (an ACL can lock everyone out).

pub mod actor;
mod delete;
pub mod guard;
pub mod path;

use zookeeper_client::{Acls, Client, CreateMode, CreateOptions, Error as ZkError};

use crate::audit::{self, AuditRecord, AUDIT_SCHEMA};
use crate::zk::load::{acl_entry, fetch_node, LoadError};
use crate::zk::{acl, describe_error, AclEntry, NodeInfo};

pub use actor::Actor;
pub use delete::DeletePlan;
pub use guard::production_cluster_for;
pub use path::{validate_path, validate_target};

/// ZooKeeper's default `jute.maxbuffer`: the largest request packet a server accepts.
pub const ZK_MAX_PACKET_BYTES: usize = 0xfffff;
/// Room kept in a request for everything but the data: header, version, ACL, flags, TTL.
pub const ZK_REQUEST_OVERHEAD_BYTES: usize = 256;
/// Largest TTL ZooKeeper can encode (40 bits of milliseconds).
pub const ZK_TTL_MAX_MS: u64 = 0x00FF_FFFF_FFFF;
/// Times a blind overwrite or a delete re-reads and retries when the znode keeps changing
/// between the read (which the audit digest comes from) and the write.
const WRITE_ATTEMPTS: usize = 5;

/// The largest data a write to `path` can carry: the packet limit less the path and overhead.
pub fn max_data_bytes(path: &str) -> usize {
    ZK_MAX_PACKET_BYTES.saturating_sub(ZK_REQUEST_OVERHEAD_BYTES + path.len())
}

/// Which front end asked; ephemeral znodes are refused from both, for different reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Console,
    Cli,
}

impl Origin {
    pub fn label(self) -> &'static str {
        match self {
            Origin::Console => "console",
            Origin::Cli => "cli",
        }
    }

    /// Why an ephemeral znode is refused from this front end.
    pub fn ephemeral_reason(self) -> &'static str {
        match self {
            Origin::Console => "an ephemeral znode would vanish when this console's session ends",
            Origin::Cli => "an ephemeral znode would vanish as soon as this command exits and its session ends",
        }
    }
}

/// Kinds of znode an operator can create. TTL znodes need the server's `extendedTypesEnabled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeMode {
    Persistent,
    /// The name is a prefix; ZooKeeper appends a ten-digit sequence number.
    PersistentSequential,
    /// Always refused (see [`Origin::ephemeral_reason`]); listed so the dialog can say why.
    Ephemeral,
    /// Removed by the server once its last child is gone.
    Container,
    /// Removed by the server when unchanged for `ttl_ms` and childless.
    PersistentWithTtl {
        ttl_ms: u64,
    },
}

impl NodeMode {
    pub fn label(self) -> String {
        match self {
            NodeMode::Persistent => "persistent".to_string(),
            NodeMode::PersistentSequential => "persistent-sequential".to_string(),
            NodeMode::Ephemeral => "ephemeral".to_string(),
            NodeMode::Container => "container".to_string(),
            NodeMode::PersistentWithTtl { ttl_ms } => format!("ttl {ttl_ms} ms"),
        }
    }

    /// The create options with `acl` (the parent's, see [`crate::zk::acl::inherited`]).
    fn options(self, acl: &[zookeeper_client::Acl]) -> CreateOptions<'_> {
        let acls = Acls::new(acl);
        match self {
            NodeMode::Persistent => CreateMode::Persistent.with_acls(acls),
            NodeMode::PersistentSequential => CreateMode::PersistentSequential.with_acls(acls),
            NodeMode::Ephemeral => CreateMode::Ephemeral.with_acls(acls),
            NodeMode::Container => CreateMode::Container.with_acls(acls),
            NodeMode::PersistentWithTtl { ttl_ms } => {
                CreateMode::Persistent.with_acls(acls).with_ttl(std::time::Duration::from_millis(ttl_ms))
            }
        }
    }
}

/// One change an operator asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mutation {
    /// Replace a znode's data. `expected_version: None` is a deliberate overwrite (the console
    /// offers it only after a second confirmation; the CLI needs `--force`).
    Set {
        path: String,
        data: Vec<u8>,
        expected_version: Option<i32>,
    },
    Create {
        path: String,
        data: Vec<u8>,
        mode: NodeMode,
    },
    /// `recursive` deletes the descendants first; without it a znode with children is refused.
    Delete {
        path: String,
        expected_version: Option<i32>,
        recursive: bool,
    },
    /// Show a znode's secrets unmasked: changes nothing but is audited (and refused read-only).
    RevealSecret {
        path: String,
    },
    /// Replace a znode's ACL, checked against the ACL version (`aversion`) the operator read.
    /// `expected_aversion: None` writes against the ACL version read just before (a change made
    /// in between is still a conflict, never overwritten).
    SetAcl {
        path: String,
        acl: Vec<AclEntry>,
        expected_aversion: Option<i32>,
    },
}

impl Mutation {
    /// The audit record's `action`.
    pub fn action(&self) -> &'static str {
        match self {
            Mutation::Set { .. } => "set",
            Mutation::Create { .. } => "create",
            Mutation::Delete { .. } => "delete",
            Mutation::RevealSecret { .. } => "reveal-secret",
            Mutation::SetAcl { .. } => "setacl",
        }
    }

    pub fn path(&self) -> &str {
        match self {
            Mutation::Set { path, .. }
            | Mutation::Create { path, .. }
            | Mutation::Delete { path, .. }
            | Mutation::RevealSecret { path }
            | Mutation::SetAcl { path, .. } => path,
        }
    }
}

/// What a successful mutation did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// The znode's path; for a sequential create, the path ZooKeeper made.
    pub path: String,
    pub version_before: Option<i32>,
    pub version_after: Option<i32>,
    /// The audit record's path, when it was written.
    pub audit_path: Option<String>,
    /// Why the audit record was not written: the change itself happened; show this as a warning.
    pub audit_error: Option<String>,
}

/// Why a mutation did not happen, phrased for the operator.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error("read-only mode: {action} refused, nothing was changed (started with --read-only or a read-only profile)")]
    ReadOnly { action: &'static str },
    #[error("{path}: the data is {bytes} bytes but ZooKeeper takes at most {max_bytes} bytes here (its 1 MB request limit); nothing was written")]
    TooLarge { path: String, bytes: usize, max_bytes: usize },
    #[error("invalid path: {0}")]
    InvalidPath(String),
    #[error("{path}: BadVersion, changed by someone else since version {expected}{}", now_text(.current))]
    BadVersion { path: String, expected: i32, current: Option<Box<NodeInfo>> },
    /// The ACL changed since the operator read it (ACL version `expected`); nothing was written.
    #[error("{path}: BadVersion, its ACL was changed by someone else since ACL version {expected}{}; nothing was overwritten", acl_now_text(.current))]
    AclBadVersion { path: String, expected: i32, current: Option<(i32, Vec<AclEntry>)> },
    #[error("{path} has {descendants} descendant(s): delete it recursively to remove them too")]
    NotEmpty { path: String, descendants: usize },
    #[error("{cluster} is a production cluster: type {cluster} to confirm")]
    NeedsConfirmation { cluster: String },
    #[error("{0}")]
    Refused(String),
    #[error("{path}: no such znode")]
    NoNode { path: String },
    #[error("{path} already exists")]
    NodeExists { path: String },
    #[error("{path}: {message}")]
    Zk { path: String, message: String },
}

fn acl_now_text(current: &Option<(i32, Vec<AclEntry>)>) -> String {
    match current {
        Some((aversion, entries)) => format!(" (now ACL version {aversion}: {})", acl::text(entries)),
        None => " (it is gone now)".to_string(),
    }
}

fn now_text(current: &Option<Box<NodeInfo>>) -> String {
    match current {
        Some(n) => format!(" (now version {})", n.stat.version),
        None => " (it is gone now)".to_string(),
    }
}

impl OpError {
    /// Short machine-readable kind, for `--json` output.
    pub fn kind(&self) -> &'static str {
        match self {
            OpError::ReadOnly { .. } => "read-only",
            OpError::TooLarge { .. } => "too-large",
            OpError::InvalidPath(_) => "invalid-path",
            OpError::BadVersion { .. } | OpError::AclBadVersion { .. } => "bad-version",
            OpError::NotEmpty { .. } => "not-empty",
            OpError::NeedsConfirmation { .. } => "needs-confirmation",
            OpError::Refused(_) => "refused",
            OpError::NoNode { .. } => "no-node",
            OpError::NodeExists { .. } => "node-exists",
            OpError::Zk { .. } => "zookeeper",
        }
    }

    /// A guard said no before anything was tried (audited as `refused: …`, not `failed: …`).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            OpError::ReadOnly { .. }
                | OpError::TooLarge { .. }
                | OpError::InvalidPath(_)
                | OpError::NeedsConfirmation { .. }
                | OpError::Refused(_)
        )
    }

    fn zk(path: &str, e: ZkError) -> OpError {
        match e {
            ZkError::NoNode => OpError::NoNode { path: path.to_string() },
            ZkError::NodeExists => OpError::NodeExists { path: path.to_string() },
            e => OpError::Zk { path: path.to_string(), message: describe_error(&e) },
        }
    }

    fn load(e: LoadError) -> OpError {
        match e.source {
            Some(source) => OpError::zk(&e.path, source),
            None => OpError::Zk { path: e.path, message: e.message },
        }
    }
}

/// The permission a mutation needs, for a NoAuth's explanation.
fn needed_permission(m: &Mutation) -> &'static str {
    match m {
        Mutation::Set { .. } => "changing its data needs WRITE permission on it",
        Mutation::Create { .. } => "creating a znode needs CREATE permission on its parent",
        Mutation::Delete { .. } => {
            "deleting needs DELETE permission on the parent (and READ below for a recursive delete)"
        }
        Mutation::RevealSecret { .. } => "reading needs READ permission",
        Mutation::SetAcl { .. } => "changing an ACL needs ADMIN permission on the znode (and reading it READ or ADMIN)",
    }
}

/// Facts gathered while a mutation runs; the audit record and the outcome are made from them.
#[derive(Debug, Default)]
struct Facts {
    path: String,
    version_before: Option<i32>,
    version_after: Option<i32>,
    digest_before: Option<String>,
    digest_after: Option<String>,
    detail: Option<String>,
}

impl Facts {
    fn before(&mut self, node: &NodeInfo) {
        self.version_before = Some(node.stat.version);
        self.digest_before = Some(audit::digest(&node.data));
    }
}

/// The mutation service: one per session (console) or command (CLI).
#[derive(Clone)]
pub struct Ops {
    client: Client,
    root: String,
    read_only: bool,
    actor: Actor,
    origin: Origin,
}

impl Ops {
    /// A writable service acting as the current OS user ([`Actor::from_env`]).
    pub fn new(client: Client, root: &str, origin: Origin) -> Ops {
        Ops { client, root: root.trim_end_matches('/').to_string(), read_only: false, actor: Actor::from_env(), origin }
    }

    pub fn with_read_only(mut self, read_only: bool) -> Ops {
        self.read_only = read_only;
        self
    }

    pub fn with_actor(mut self, actor: Actor) -> Ops {
        self.actor = actor;
        self
    }

    pub fn read_only(&self) -> bool {
        self.read_only
    }

    pub fn root(&self) -> &str {
        &self.root
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Carries out `m` if every guard allows it, then appends the audit record (also for a
    /// failed or refused attempt). `confirm` is the cluster name the operator typed, needed
    /// for destructive actions on a production cluster (see the module doc).
    pub async fn apply(&self, m: Mutation, confirm: Option<&str>) -> Result<Outcome, OpError> {
        let mut facts = Facts { path: m.path().to_string(), ..Facts::default() };
        let result = match self.run(&m, confirm, &mut facts).await {
            // A bare NoAuth says nothing an operator can act on: which permission was missing,
            // and who this session is (as the server sees it).
            Err(OpError::Zk { path, message }) if message.starts_with("NoAuth") => Err(OpError::Zk {
                path,
                message: format!(
                    "NoAuth: {}; {}",
                    needed_permission(&m),
                    crate::zk::auth::whoami_text(&self.client).await
                ),
            }),
            other => other,
        };
        let record = self.record(&m, &facts, &result);
        let audited = audit::append(&self.client, &self.root, &record).await;
        match result {
            Ok(()) => {
                let (audit_path, audit_error) = match audited {
                    Ok(p) => (Some(p), None),
                    Err(e) => (None, Some(e.to_string())),
                };
                Ok(Outcome {
                    path: facts.path,
                    version_before: facts.version_before,
                    version_after: facts.version_after,
                    audit_path,
                    audit_error,
                })
            }
            Err(e) => {
                if let Err(ae) = audited {
                    tracing::warn!(error = %ae, action = m.action(), path = m.path(), "audit of a failed attempt");
                }
                Err(e)
            }
        }
    }

    async fn run(&self, m: &Mutation, confirm: Option<&str>, facts: &mut Facts) -> Result<(), OpError> {
        if self.read_only {
            return Err(OpError::ReadOnly { action: m.action() });
        }
        self.check_shape(m)?;
        if let Some(expected) = self.confirmation_needed(m).await? {
            if confirm.map(str::trim) != Some(expected.as_str()) {
                return Err(OpError::NeedsConfirmation { cluster: expected });
            }
        }
        match m {
            Mutation::Set { path, data, expected_version } => self.set(path, data, *expected_version, facts).await,
            Mutation::Create { path, data, mode } => self.create(path, data, *mode, facts).await,
            Mutation::Delete { path, expected_version, recursive } => {
                self.delete(path, *expected_version, *recursive, facts).await
            }
            Mutation::RevealSecret { path } => {
                let node = fetch_node(&self.client, path).await.map_err(OpError::load)?;
                facts.before(&node);
                Ok(())
            }
            Mutation::SetAcl { path, acl, expected_aversion } => {
                self.set_acl(path, acl, *expected_aversion, facts).await
            }
        }
    }

    /// The checks that need no I/O: path rules, size, masks left in the data, ephemeral, TTL.
    fn check_shape(&self, m: &Mutation) -> Result<(), OpError> {
        match m {
            Mutation::Set { path, .. } | Mutation::RevealSecret { path } | Mutation::SetAcl { path, .. } => {
                validate_path(path)
            }
            Mutation::Create { path, .. } | Mutation::Delete { path, .. } => validate_target(path),
        }
        .map_err(OpError::InvalidPath)?;
        if let Mutation::SetAcl { path, acl, .. } = m {
            if acl.is_empty() {
                return Err(OpError::Refused(format!("{path}: {}", acl::AclError::Empty)));
            }
            // Entries made in code rather than parsed get the same checks as typed ones.
            let checked = acl::parse(&[acl::text(acl)]).map_err(|e| OpError::Refused(format!("{path}: {e}")))?;
            if checked.len() != acl.len() {
                return Err(OpError::Refused(format!("{path}: the ACL names an id twice")));
            }
        }
        let (Mutation::Set { path, data, .. } | Mutation::Create { path, data, .. }) = m else {
            return Ok(());
        };
        let max_bytes = max_data_bytes(path);
        if data.len() > max_bytes {
            return Err(OpError::TooLarge { path: path.clone(), bytes: data.len(), max_bytes });
        }
        if crate::secrets::contains_mask(data) {
            return Err(OpError::Refused(format!(
                "{path}: the data still holds masked secrets ({}); restore them before saving",
                crate::secrets::MASK
            )));
        }
        match m {
            Mutation::Create { mode: NodeMode::Ephemeral, .. } => {
                Err(OpError::Refused(format!("{path}: {}", self.origin.ephemeral_reason())))
            }
            Mutation::Create { mode: NodeMode::PersistentWithTtl { ttl_ms }, .. }
                if *ttl_ms == 0 || *ttl_ms > ZK_TTL_MAX_MS =>
            {
                Err(OpError::Refused(format!("{path}: a TTL must be 1..={ZK_TTL_MAX_MS} ms, not {ttl_ms}")))
            }
            _ => Ok(()),
        }
    }

    /// The cluster name the operator must type before `m` runs, if it is destructive on a
    /// production cluster; the console asks for it before calling [`Ops::apply`].
    pub async fn confirmation_needed(&self, m: &Mutation) -> Result<Option<String>, OpError> {
        let names = match m {
            Mutation::Delete { path, .. } => {
                guard::production_clusters_affected(&self.client, &self.root, path).await?
            }
            Mutation::Set { path, data, expected_version } => {
                guard::production_set_guard(&self.client, &self.root, path, data, *expected_version).await?
            }
            Mutation::SetAcl { path, .. } => {
                guard::production_cluster_for(&self.client, &self.root, path).await?.into_iter().collect()
            }
            Mutation::Create { .. } | Mutation::RevealSecret { .. } => Vec::new(),
        };
        Ok((!names.is_empty()).then(|| names.join(",")))
    }

    /// Sets data, version-checked. With `expected: None` the write still carries the version
    /// just read, and retries when that read is overtaken, so the audit's "before" is exact.
    async fn set(&self, path: &str, data: &[u8], expected: Option<i32>, facts: &mut Facts) -> Result<(), OpError> {
        if let Some(v) = expected {
            facts.detail = Some(format!("expected version {v}"));
        } else {
            facts.detail = Some("overwrite without version check".to_string());
        }
        for _ in 0..WRITE_ATTEMPTS {
            let current = fetch_node(&self.client, path).await.map_err(OpError::load)?;
            facts.before(&current);
            if let Some(v) = expected.filter(|v| *v != current.stat.version) {
                return Err(OpError::BadVersion {
                    path: path.to_string(),
                    expected: v,
                    current: Some(Box::new(current)),
                });
            }
            match self.client.set_data(path, data, Some(current.stat.version)).await {
                Ok(stat) => {
                    facts.version_after = Some(stat.version);
                    facts.digest_after = Some(audit::digest(data));
                    return Ok(());
                }
                Err(ZkError::BadVersion) => {
                    if let Some(v) = expected {
                        return Err(self.bad_version(path, v, facts).await);
                    }
                }
                Err(e) => return Err(OpError::zk(path, e)),
            }
        }
        Err(OpError::Zk { path: path.to_string(), message: "it kept changing while being written; try again".into() })
    }

    /// Sets the ACL, checked against the ACL version. The audit record keeps the old and the new
    /// ACL (digest hashes as fingerprints, [`acl::audit_text`]) and the ACL versions.
    async fn set_acl(
        &self,
        path: &str,
        new: &[AclEntry],
        expected: Option<i32>,
        facts: &mut Facts,
    ) -> Result<(), OpError> {
        let check = match expected {
            Some(v) => format!("expected ACL version {v}"),
            None => "against the ACL version just read".to_string(),
        };
        let acls: Vec<zookeeper_client::Acl> = new.iter().map(AclEntry::to_acl).collect();
        let new_text = acl::text(new);
        for _ in 0..WRITE_ATTEMPTS {
            let (aversion, before) = self.read_acl(path).await?;
            facts.version_before = Some(aversion);
            facts.digest_before = Some(audit::digest(acl::text(&before).as_bytes()));
            facts.detail = Some(format!("{check}: {} → {}", acl::audit_text(&before), acl::audit_text(new)));
            if let Some(v) = expected.filter(|v| *v != aversion) {
                return Err(OpError::AclBadVersion {
                    path: path.to_string(),
                    expected: v,
                    current: Some((aversion, before)),
                });
            }
            match self.client.set_acl(path, &acls, Some(aversion)).await {
                Ok(stat) => {
                    facts.version_after = Some(stat.aversion);
                    facts.digest_after = Some(audit::digest(new_text.as_bytes()));
                    return Ok(());
                }
                Err(ZkError::BadVersion) => {
                    if let Some(v) = expected {
                        let current = self.read_acl(path).await.ok();
                        return Err(OpError::AclBadVersion { path: path.to_string(), expected: v, current });
                    }
                }
                Err(ZkError::InvalidAcl) => {
                    return Err(OpError::Zk {
                        path: path.to_string(),
                        message: "InvalidACL: ZooKeeper refused this ACL (auth:: needs a session with credentials)"
                            .to_string(),
                    })
                }
                Err(e) => return Err(OpError::zk(path, e)),
            }
        }
        Err(OpError::Zk {
            path: path.to_string(),
            message: "its ACL kept changing while being written; try again".into(),
        })
    }

    /// The znode's ACL version and ACL.
    async fn read_acl(&self, path: &str) -> Result<(i32, Vec<AclEntry>), OpError> {
        match self.client.get_acl(path).await {
            Ok((acl, stat)) => Ok((stat.aversion, acl.iter().map(acl_entry).collect())),
            Err(e) => Err(OpError::zk(path, e)),
        }
    }

    /// BadVersion with "theirs": the znode as it is now, so the console can show the conflict.
    async fn bad_version(&self, path: &str, expected: i32, facts: &mut Facts) -> OpError {
        let current = fetch_node(&self.client, path).await.ok();
        if let Some(n) = &current {
            facts.before(n);
        }
        OpError::BadVersion { path: path.to_string(), expected, current: current.map(Box::new) }
    }

    async fn create(&self, path: &str, data: &[u8], mode: NodeMode, facts: &mut Facts) -> Result<(), OpError> {
        facts.detail = Some(format!("mode {}", mode.label()));
        let acl = acl::inherited(&self.client, path).await.map_err(|e| OpError::zk(path, e))?;
        match self.client.create(path, data, &mode.options(&acl)).await {
            Ok((stat, seq)) => {
                if mode == NodeMode::PersistentSequential {
                    facts.path = format!("{path}{seq}");
                }
                facts.version_after = Some(stat.version);
                facts.digest_after = Some(audit::digest(data));
                Ok(())
            }
            Err(ZkError::NoNode) => Err(OpError::Zk {
                path: path.to_string(),
                message: format!("the parent {} does not exist", crate::zk::parent_path(path)),
            }),
            Err(ZkError::Unimplemented) if matches!(mode, NodeMode::PersistentWithTtl { .. }) => Err(OpError::Zk {
                path: path.to_string(),
                message: "this ZooKeeper does not allow TTL znodes (the server needs extendedTypesEnabled=true)".into(),
            }),
            Err(e) => Err(OpError::zk(path, e)),
        }
    }

    fn record(&self, m: &Mutation, facts: &Facts, result: &Result<(), OpError>) -> AuditRecord {
        let result = match result {
            Ok(()) => "ok".to_string(),
            Err(e) if e.is_refusal() => format!("refused: {e}"),
            Err(e) => format!("failed: {e}"),
        };
        AuditRecord {
            schema: AUDIT_SCHEMA,
            time_ms: audit::now_ms(),
            user: self.actor.user.clone(),
            host: self.actor.host.clone(),
            ssh_client: self.actor.ssh_client.clone(),
            action: m.action().to_string(),
            path: facts.path.clone(),
            version_before: facts.version_before,
            version_after: facts.version_after,
            digest_before: facts.digest_before.clone(),
            digest_after: facts.digest_after.clone(),
            result,
            origin: self.origin.label().to_string(),
            detail: facts.detail.clone(),
        }
    }
}
