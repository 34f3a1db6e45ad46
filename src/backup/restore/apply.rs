//! The restore's writes: creates and data rewrites grouped into multi-ops under ZooKeeper's
//! 1 MB request limit (a znode too large to share a request goes alone, as a plain request),
//! several requests in flight on the session (ZooKeeper applies one session's requests in
//! order, so a parent's create always lands before its children's). A multi-op that fails
//! because something changed meanwhile (NodeExists, BadVersion, NoNode) is retried one znode
//! at a time, so each znode's outcome is exact. An ACL rewrite (no multi-op form) is its own
//! request, version-checked. A lost connection ends the restore: what was written is found
//! existing by the next run.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use anyhow::Result;
use zookeeper_client::{
    Acl, Acls, AuthId, Client, CreateMode, CreateOptions, Error as ZkError, MultiWriteError, Permission,
};

use super::plan::{self, Action, ParentState, Policy};
use super::RestoreReport;
use crate::backup::record::{ZnodeMode, ZnodeRecord};
use crate::zk::{describe_error, is_transient, AclEntry, NodeStat};

/// Requests in flight at once.
pub const WRITES_IN_FLIGHT: usize = 8;
/// Operations per multi-op.
pub const MULTI_MAX_OPS: usize = 1_000;

/// One znode's write.
#[derive(Debug, Clone)]
pub enum Write {
    Create {
        path: String,
        data: Vec<u8>,
        acl: Vec<AclEntry>,
        mode: ZnodeMode,
    },
    /// Rewrite of an existing znode: its data (checked against `version`) and/or its ACL
    /// (checked against `aversion`).
    Overwrite {
        path: String,
        data: Option<(Vec<u8>, i32)>,
        acl: Option<(Vec<AclEntry>, i32)>,
    },
}

impl Write {
    pub fn create(path: &str, r: &ZnodeRecord) -> Write {
        Write::Create { path: path.to_string(), data: r.data.clone(), acl: r.acl.clone(), mode: r.mode }
    }

    pub fn overwrite(path: &str, r: &ZnodeRecord, d: plan::Difference, live: &NodeStat) -> Write {
        Write::Overwrite {
            path: path.to_string(),
            data: d.data.then(|| (r.data.clone(), live.version)),
            acl: d.acl.then(|| (r.acl.clone(), live.aversion)),
        }
    }

    pub fn path(&self) -> &str {
        match self {
            Write::Create { path, .. } | Write::Overwrite { path, .. } => path,
        }
    }

    fn bytes(&self) -> usize {
        match self {
            Write::Create { path, data, acl, .. } => plan::op_bytes(path, data.len(), acl),
            Write::Overwrite { path, data, .. } => plan::op_bytes(path, data.as_ref().map_or(0, |d| d.0.len()), &[]),
        }
    }

    /// Whether it can go in a multi-op (ZooKeeper has none for ACLs).
    fn multi(&self) -> bool {
        matches!(self, Write::Create { .. } | Write::Overwrite { acl: None, .. })
    }
}

/// ZooKeeper's form of an ACL entry (`cdrwa` letters to permission bits).
pub fn zk_acl(a: &AclEntry) -> Acl {
    let mut p = Permission::NONE;
    for c in a.perms.chars() {
        p = p | match c {
            'r' => Permission::READ,
            'w' => Permission::WRITE,
            'c' => Permission::CREATE,
            'd' => Permission::DELETE,
            'a' => Permission::ADMIN,
            _ => Permission::NONE,
        };
    }
    Acl::new(p, AuthId::new(&a.scheme, &a.id))
}

fn create_options<'a>(mode: ZnodeMode, acls: &'a [Acl]) -> CreateOptions<'a> {
    let acls = Acls::new(acls);
    match mode {
        ZnodeMode::Container => CreateMode::Container.with_acls(acls),
        ZnodeMode::Ttl { ttl_ms } => CreateMode::Persistent.with_acls(acls).with_ttl(Duration::from_millis(ttl_ms)),
        // Sequential znodes are created under their exact names; the counter is fixed afterwards.
        _ => CreateMode::Persistent.with_acls(acls),
    }
}

type Answer = (Vec<Write>, Result<(), WriteFailure>);
type Pending<'a> = Pin<Box<dyn Future<Output = Answer> + Send + 'a>>;

#[derive(Debug)]
enum WriteFailure {
    /// The request as a whole failed (connection, marshalling): fatal if transient.
    Request(ZkError),
    /// One operation failed (the multi-op did nothing).
    Operation,
    /// A single write's outcome is already known.
    Decided(Action, Option<String>),
}

/// Sends writes, keeps [`WRITES_IN_FLIGHT`] requests going, and turns answers into the report.
pub struct Writer<'a> {
    client: &'a Client,
    policy: Policy,
    batch: Vec<Write>,
    batch_bytes: usize,
    in_flight: VecDeque<Pending<'a>>,
}

impl<'a> Writer<'a> {
    pub fn new(client: &'a Client, policy: Policy) -> Writer<'a> {
        Writer { client, policy, batch: Vec::new(), batch_bytes: 0, in_flight: VecDeque::new() }
    }

    /// Queues a write; full multi-ops are sent at once.
    pub fn push(&mut self, w: Write) -> Result<()> {
        let size = w.bytes();
        if !w.multi() || size > plan::MULTI_BUDGET_BYTES {
            self.flush()?;
            self.send_single(w);
            return Ok(());
        }
        if !self.batch.is_empty()
            && (self.batch_bytes + size > plan::MULTI_BUDGET_BYTES || self.batch.len() >= MULTI_MAX_OPS)
        {
            self.flush()?;
        }
        self.batch_bytes += size;
        self.batch.push(w);
        Ok(())
    }

    /// Sends the queued writes as one multi-op.
    pub fn flush(&mut self) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let ops = std::mem::take(&mut self.batch);
        self.batch_bytes = 0;
        let mut multi = self.client.new_multi_writer();
        for w in &ops {
            match w {
                Write::Create { path, data, acl, mode } => {
                    let acls: Vec<Acl> = acl.iter().map(zk_acl).collect();
                    multi
                        .add_create(path, data, &create_options(*mode, &acls))
                        .map_err(|e| anyhow::anyhow!("{path}: {}", describe_error(&e)))?;
                }
                Write::Overwrite { path, data, .. } => {
                    if let Some((data, version)) = data {
                        multi
                            .add_set_data(path, data, Some(*version))
                            .map_err(|e| anyhow::anyhow!("{path}: {}", describe_error(&e)))?;
                    }
                }
            }
        }
        // The request is sent here, in call order; the future only waits for the answer.
        let answer = multi.commit();
        self.in_flight.push_back(Box::pin(async move {
            let result = match answer.await {
                Ok(_) => Ok(()),
                Err(MultiWriteError::OperationFailed { .. }) => Err(WriteFailure::Operation),
                Err(MultiWriteError::RequestFailed { source }) => Err(WriteFailure::Request(source)),
            };
            (ops, result)
        }));
        Ok(())
    }

    fn send_single(&mut self, w: Write) {
        let client = self.client;
        let policy = self.policy;
        self.in_flight.push_back(Box::pin(async move {
            let (action, why) = match one(client, policy, &w).await {
                Ok(decided) => decided,
                Err(e) => return (vec![w], Err(WriteFailure::Request(e))),
            };
            (vec![w], Err(WriteFailure::Decided(action, why)))
        }));
    }

    /// Takes answers: all of them with `all`, else until at most [`WRITES_IN_FLIGHT`] remain.
    pub async fn settle(
        &mut self,
        report: &mut RestoreReport,
        parents: &mut HashMap<String, ParentState>,
        sample: usize,
        all: bool,
    ) -> Result<()> {
        let keep = if all { 0 } else { WRITES_IN_FLIGHT };
        while self.in_flight.len() > keep {
            let Some(pending) = self.in_flight.pop_front() else { break };
            let (ops, result) = pending.await;
            match result {
                Ok(()) => {
                    for w in &ops {
                        let action = if matches!(w, Write::Create { .. }) { Action::Create } else { Action::Overwrite };
                        report.note(w.path(), action, None, sample);
                    }
                }
                Err(WriteFailure::Decided(action, why)) => {
                    for w in &ops {
                        settle_one(report, parents, w, action, why.clone(), sample);
                    }
                }
                Err(WriteFailure::Request(e)) if is_transient(&e) => {
                    anyhow::bail!(
                        "the ZooKeeper session was lost while writing ({}); what was written stays: run the \
                         restore again to finish it",
                        describe_error(&e)
                    )
                }
                Err(WriteFailure::Request(_) | WriteFailure::Operation) => {
                    // Something changed meanwhile (or the request was refused as a whole): one
                    // znode at a time, in order, for an exact outcome.
                    for w in &ops {
                        let (action, why) = one(self.client, self.policy, w).await.map_err(|e| {
                            anyhow::anyhow!("{}: {} (run the restore again to finish it)", w.path(), describe_error(&e))
                        })?;
                        settle_one(report, parents, w, action, why, sample);
                    }
                }
            }
        }
        Ok(())
    }
}

fn settle_one(
    report: &mut RestoreReport,
    parents: &mut HashMap<String, ParentState>,
    w: &Write,
    action: Action,
    why: Option<String>,
    sample: usize,
) {
    if let (Some(state), Some(slot)) = (ParentState::after(action), parents.get_mut(w.path())) {
        *slot = state;
    }
    report.note(w.path(), action, why, sample);
}

/// One write on its own; `Err` only for a lost connection or session.
async fn one(client: &Client, policy: Policy, w: &Write) -> Result<(Action, Option<String>), ZkError> {
    match w {
        Write::Create { path, data, acl, mode } => {
            let acls: Vec<Acl> = acl.iter().map(zk_acl).collect();
            match client.create(path, data, &create_options(*mode, &acls)).await {
                Ok(_) => Ok((Action::Create, None)),
                Err(ZkError::NodeExists) => Ok(match policy {
                    Policy::Overwrite => {
                        (Action::Conflict, Some("created by someone else meanwhile; left as it is".into()))
                    }
                    _ => (Action::SkippedExisting, None),
                }),
                Err(ZkError::NoNode) => Ok((Action::Failed, Some("its parent is missing".into()))),
                Err(ZkError::NoAuth) => Ok((
                    Action::Failed,
                    Some("not authorized: the parent's ACL does not let this session create children".into()),
                )),
                Err(ZkError::Unimplemented) if matches!(mode, ZnodeMode::Ttl { .. }) => Ok((
                    Action::Failed,
                    Some(
                        "this ZooKeeper does not allow TTL znodes (the server needs extendedTypesEnabled=true)".into(),
                    ),
                )),
                Err(e) if is_transient(&e) => Err(e),
                Err(e) => Ok((Action::Failed, Some(describe_error(&e)))),
            }
        }
        Write::Overwrite { path, data, acl } => {
            if let Some((acl, aversion)) = acl {
                let acls: Vec<Acl> = acl.iter().map(zk_acl).collect();
                match client.set_acl(path, &acls, Some(*aversion)).await {
                    Ok(_) => {}
                    Err(ZkError::BadVersion) => {
                        return Ok((
                            Action::Conflict,
                            Some(format!("its ACL changed since it was read (aversion {aversion})")),
                        ))
                    }
                    Err(ZkError::NoNode) => return Ok((Action::Conflict, Some("deleted since it was read".into()))),
                    Err(e) if is_transient(&e) => return Err(e),
                    Err(e) => return Ok((Action::Failed, Some(format!("setting its ACL: {}", describe_error(&e))))),
                }
            }
            if let Some((data, version)) = data {
                match client.set_data(path, data, Some(*version)).await {
                    Ok(_) => {}
                    Err(ZkError::BadVersion) => {
                        return Ok((Action::Conflict, Some(format!("changed since it was read (version {version})"))))
                    }
                    Err(ZkError::NoNode) => return Ok((Action::Conflict, Some("deleted since it was read".into()))),
                    Err(e) if is_transient(&e) => return Err(e),
                    Err(e) => return Ok((Action::Failed, Some(describe_error(&e)))),
                }
            }
            Ok((Action::Overwrite, None))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acl_letters_become_permission_bits() {
        let a = zk_acl(&AclEntry { scheme: "digest".into(), id: "ops:x=".into(), perms: "cdrwa".into() });
        assert_eq!(a.permission(), Permission::ALL);
        assert_eq!((a.scheme(), a.id()), ("digest", "ops:x="));
        let r = zk_acl(&AclEntry { scheme: "world".into(), id: "anyone".into(), perms: "r".into() });
        assert_eq!(r.permission(), Permission::READ);
    }
}
