//! Reading a subtree as snapshot records, streaming: a breadth-first walk of multi-reads (data
//! and children of many znodes per round trip, several in flight) plus each znode's ACL
//! (pipelined: ZooKeeper has no multi-read for ACLs), delivered in batches through a bounded
//! channel. The walk holds one level's paths and a few batches, never the tree, so memory stays
//! flat as the tree grows; a slow consumer slows the walk instead of filling memory.
//!
//! Every parent comes before its children (what a restore needs). `/zookeeper` (the server's
//! own quota and config znodes) is never walked. A znode that cannot be read ends the walk with
//! an error naming it: a snapshot that silently missed part of the tree would be worse than none.

use futures::stream::{self, StreamExt};
use tokio::sync::mpsc;
use zookeeper_client::{Client, Error as ZkError, MultiReadResult};

use super::record::{ZnodeMode, ZnodeRecord};
use crate::zk::load::{acl_entry, MULTI_READ_BATCH, MULTI_READ_IN_FLIGHT};
use crate::zk::{child_path, describe_error, is_transient, NodeStat};

/// Znodes per multi-read (each costs two reads: data and children).
pub const WALK_BATCH: usize = MULTI_READ_BATCH / 2;
/// Batches the walk may run ahead of its consumer.
pub const WALK_QUEUE_BATCHES: usize = 8;
/// ZooKeeper's own subtree, never part of a snapshot.
pub const SYSTEM_ROOT: &str = "/zookeeper";

/// Why the walk stopped.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{path}: {message}")]
pub struct WalkError {
    pub path: String,
    pub message: String,
}

/// What to walk.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    pub root: String,
    /// Keep ephemeral znodes (they are left out otherwise).
    pub include_ephemeral: bool,
}

/// Starts walking; batches of records arrive on the receiver in walk order, then the channel
/// closes. An error is the last item. Dropping the receiver stops the walk.
pub fn tree(client: Client, opts: WalkOptions) -> mpsc::Receiver<Result<Vec<ZnodeRecord>, WalkError>> {
    let (tx, rx) = mpsc::channel(WALK_QUEUE_BATCHES);
    tokio::spawn(async move {
        if let Err(e) = walk(&client, &opts, &tx).await {
            let _ = tx.send(Err(e)).await;
        }
    });
    rx
}

async fn walk(
    client: &Client,
    opts: &WalkOptions,
    tx: &mpsc::Sender<Result<Vec<ZnodeRecord>, WalkError>>,
) -> Result<(), WalkError> {
    if opts.root == SYSTEM_ROOT || opts.root.starts_with("/zookeeper/") {
        return Err(WalkError {
            path: opts.root.clone(),
            message: "ZooKeeper's own znodes are not snapshotted".into(),
        });
    }
    let mut frontier = vec![opts.root.clone()];
    while !frontier.is_empty() {
        // Moved, not copied, into batches: a wide level's paths are held once.
        let mut level = std::mem::take(&mut frontier).into_iter();
        let batches = std::iter::from_fn(move || {
            let batch: Vec<String> = level.by_ref().take(WALK_BATCH).collect();
            (!batch.is_empty()).then_some(batch)
        });
        let mut level = stream::iter(batches).map(|batch| read_batch(client, batch)).buffered(MULTI_READ_IN_FLIGHT);
        while let Some(batch) = level.next().await {
            let mut records = Vec::new();
            for (record, children) in batch? {
                for c in children {
                    let p = child_path(&record.path, &c);
                    if p != SYSTEM_ROOT {
                        frontier.push(p);
                    }
                }
                if record.mode != ZnodeMode::Ephemeral || opts.include_ephemeral {
                    records.push(record);
                }
            }
            if !records.is_empty() && tx.send(Ok(records)).await.is_err() {
                return Ok(()); // the consumer is gone
            }
        }
    }
    Ok(())
}

type Read = (ZnodeRecord, Vec<String>);

/// Data, children and ACL of a batch. A znode deleted meanwhile is left out; a request the
/// server refuses as a whole (a reply too big) is split in halves down to single znodes.
fn read_batch(
    client: &Client,
    batch: Vec<String>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<Read>, WalkError>> + Send + '_>> {
    Box::pin(async move {
        let mut reader = client.new_multi_reader();
        for p in &batch {
            reader.add_get_data(p).map_err(|e| error(p, &e))?;
            reader.add_get_children(p).map_err(|e| error(p, &e))?;
        }
        let results = match reader.commit().await {
            Ok(r) => r,
            Err(e) if is_transient(&e) || batch.len() == 1 => return Err(error(&batch[0], &e)),
            Err(_) => {
                let (a, b) = batch.split_at(batch.len() / 2);
                let mut out = read_batch(client, a.to_vec()).await?;
                out.extend(read_batch(client, b.to_vec()).await?);
                return Ok(out);
            }
        };
        let mut read = Vec::with_capacity(batch.len());
        let mut it = results.into_iter();
        for path in batch {
            let (Some(d), Some(c)) = (it.next(), it.next()) else { break };
            match (d, c) {
                (MultiReadResult::Data { data, stat }, MultiReadResult::Children { mut children }) => {
                    children.sort_unstable();
                    read.push((path, NodeStat::from(&stat), data, children));
                }
                (MultiReadResult::Error { err: ZkError::NoNode }, _)
                | (_, MultiReadResult::Error { err: ZkError::NoNode }) => {}
                (MultiReadResult::Error { err }, _) | (_, MultiReadResult::Error { err }) => {
                    return Err(error(&path, &err))
                }
                _ => return Err(WalkError { path, message: "unexpected reply to a multi-read".into() }),
            }
        }
        // ACLs: one request each, all sent at once on the session's connection.
        let acls = futures::future::join_all(read.iter().map(|(path, ..)| client.get_acl(path))).await;
        let mut out = Vec::with_capacity(read.len());
        for ((path, stat, data, children), acl) in read.into_iter().zip(acls) {
            let acl = match acl {
                Ok((acl, _)) => acl.iter().map(acl_entry).collect(),
                Err(ZkError::NoNode) => continue,
                Err(e) => return Err(error(&path, &e)),
            };
            let mode = ZnodeMode::of(&path, &stat);
            out.push((ZnodeRecord { path, data, stat, acl, mode }, children));
        }
        Ok(out)
    })
}

fn error(path: &str, e: &ZkError) -> WalkError {
    WalkError { path: path.to_string(), message: describe_error(e) }
}
