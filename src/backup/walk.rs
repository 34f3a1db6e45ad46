//! Reading a subtree as snapshot records, streaming: a depth-first walk of multi-reads (the
//! data of many znodes per round trip, several in flight) plus each znode's ACL (pipelined,
//! sent together with the multi-read: ZooKeeper has no multi-read for ACLs), delivered in
//! batches through a bounded channel; a slow consumer slows the walk instead of filling memory.
//!
//! One `getACL` per znode is what a walk costs: the data of 100,000 znodes comes back in about
//! a hundred multi-reads, their ACLs in 100,000 requests. A server answers one session's
//! requests one after another, so those requests can be spread over more sessions ([`tree_with`]): each
//! batch's ACL reads are cut in contiguous parts, one per session. An ACL read on another
//! session may come from another server (a follower behind the walk's own) or pass a change:
//! unless its stat shows the same znode (`czxid`) at the same ACL version (`aversion`) as the
//! data read, and no digest hash hidden from it, it is read again on the walk's own session.
//! Whichever session answered, a record never pairs a stat with an ACL of another version: when
//! the walk's own answer differs too (the znode changed between the two reads), the batch is
//! read again.
//!
//! Memory stays flat as the tree grows: paths waiting to be read sit on a LIFO work list, so
//! the znodes found last (the deepest, usually leaves) are read first, and a znode's children
//! are listed (multi-reads of `get_children`, only for znodes whose stat says they have
//! children) only while the work list has room for them: the paths held stay under about
//! [`PENDING_PATHS`] whatever the tree's size. One znode's children are listed at once, so a
//! single znode with more children than that holds all their names: that is inherent.
//!
//! A read that lost its connection (a member killed or restarted under the walk) is asked
//! again once the session is back on a server, within [`RIDE_OUT_MS`]: a rolling restart of the
//! ensemble costs a snapshot a pause, not the snapshot.
//!
//! Every parent comes before its children (what a restore needs): a znode's children are
//! listed only after its record was delivered. `/zookeeper` (the server's own quota and config
//! znodes) is never walked. A znode that cannot be read ends the walk with an error naming it:
//! a snapshot that silently missed part of the tree would be worse than none. A znode deleted
//! while the walk runs is left out.

use std::time::{Duration, Instant};

use futures::stream::{FuturesOrdered, StreamExt};
use tokio::sync::mpsc;
use zookeeper_client::{Client, Error as ZkError, MultiReadResult, Stat};

use super::record::{ZnodeMode, ZnodeRecord};
use crate::zk::auth::{DIGEST_SCHEME, REDACTED_HASH};
use crate::zk::load::{acl_entry, MULTI_READ_BATCH, MULTI_READ_IN_FLIGHT};
use crate::zk::{child_path, describe_error, is_transient, AclEntry, NodeStat};

/// Znodes per multi-read of data (with as many ACL reads alongside).
pub const WALK_BATCH: usize = MULTI_READ_BATCH;
/// Batches the walk may run ahead of its consumer.
pub const WALK_QUEUE_BATCHES: usize = 8;
/// About how many paths the walk holds (read or to read) before it lists more children.
pub const PENDING_PATHS: usize = 20_000;
/// Data multi-reads in flight at once, each with its [`WALK_BATCH`] ACL reads: about 2,000
/// requests, around ZooKeeper's default `globalOutstandingLimit` (1,000); more does not read
/// faster, it only gets the connection throttled.
const READS_IN_FLIGHT: usize = MULTI_READ_IN_FLIGHT / 2;
/// `get_children` multi-reads in flight at once.
const LISTS_IN_FLIGHT: usize = 2;
/// Longest a walk waits for its session to be back on a server after a lost connection.
pub const RIDE_OUT_MS: u64 = 30_000;
/// Pause between two attempts of a read that lost its connection.
const RETRY_PAUSE_MS: u64 = 100;
/// ZooKeeper's own subtree, never part of a snapshot.
pub const SYSTEM_ROOT: &str = "/zookeeper";

/// Why the walk stopped.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{path}: {message}")]
pub struct WalkError {
    pub path: String,
    pub message: String,
    /// Asking again may succeed: the connection to the server was lost (once the session is
    /// back on a server), or a znode changed between its data and its ACL read.
    pub again: bool,
}

impl WalkError {
    fn new(path: impl Into<String>, message: impl Into<String>) -> WalkError {
        WalkError { path: path.into(), message: message.into(), again: false }
    }
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
    tree_with(client, Vec::new(), opts)
}

/// [`tree`], with the ACL reads spread over `acl_sessions` (sessions of the same ensemble and
/// credential as `client`; none: `client` reads them). They are closed when the walk ends.
pub fn tree_with(
    client: Client,
    acl_sessions: Vec<Client>,
    opts: WalkOptions,
) -> mpsc::Receiver<Result<Vec<ZnodeRecord>, WalkError>> {
    let (tx, rx) = mpsc::channel(WALK_QUEUE_BATCHES);
    tokio::spawn(async move {
        let readers = Readers { main: client, acl: acl_sessions };
        if let Err(e) = walk(&readers, &opts, &tx).await {
            let _ = tx.send(Err(e)).await;
        }
    });
    rx
}

/// The sessions a walk reads with.
struct Readers {
    /// Data, children, and the ACL reads when `acl` is empty or another session's answer
    /// does not match.
    main: Client,
    acl: Vec<Client>,
}

/// A finished request of the walk.
enum Done {
    /// Records read, in order.
    Read(Vec<ZnodeRecord>),
    /// Children listed (sorted), parent by parent, and the children the stats announced.
    Listed(Vec<(String, Vec<String>)>, usize),
}

/// A request of the walk on its way.
type Pending<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, WalkError>> + Send + 'a>>;
type Job<'a> = Pending<'a, Done>;

/// The work lists. Both are stacks: the last pushed is taken first.
#[derive(Default)]
struct Work {
    /// Paths to read, the next one last.
    pending: Vec<String>,
    /// Znodes read whose children are still to list, with how many their stat announced.
    parents: Vec<(String, usize)>,
    /// Children announced by the parents whose listing is in flight.
    listing: usize,
    reads: usize,
    lists: usize,
}

impl Work {
    fn held(&self) -> usize {
        self.pending.len() + self.parents.len() + self.listing
    }

    /// The next read: up to [`WALK_BATCH`] paths off the top, in walk order.
    fn next_read(&mut self) -> Option<Vec<String>> {
        if self.pending.is_empty() || self.reads >= READS_IN_FLIGHT {
            return None;
        }
        let mut batch = self.pending.split_off(self.pending.len().saturating_sub(WALK_BATCH));
        batch.reverse();
        self.reads += 1;
        Some(batch)
    }

    /// The next listing: parents off the top while their children fit under
    /// [`PENDING_PATHS`]; at least one when nothing else is held or on its way (progress).
    fn next_list(&mut self) -> Option<(Vec<String>, usize)> {
        if self.parents.is_empty() || self.lists >= LISTS_IN_FLIGHT {
            return None;
        }
        let idle = self.pending.is_empty() && self.listing == 0 && self.reads == 0;
        let mut held = self.held();
        let mut batch = Vec::new();
        let mut announced = 0;
        while let Some((_, n)) = self.parents.last() {
            let after = held - 1 + n;
            if batch.len() >= MULTI_READ_BATCH || (after > PENDING_PATHS && !(idle && batch.is_empty())) {
                break;
            }
            let (path, n) = self.parents.pop().expect("a parent");
            held = after;
            announced += n;
            batch.push(path);
        }
        if batch.is_empty() {
            return None;
        }
        self.listing += announced;
        self.lists += 1;
        Some((batch, announced))
    }

    /// A read came back (its records delivered): the znodes with children, in walk order.
    fn read(&mut self, parents: Vec<(String, usize)>) {
        self.reads -= 1;
        self.parents.extend(parents.into_iter().rev());
    }

    /// A listing came back: the children go on top, in walk order.
    fn listed(&mut self, listed: Vec<(String, Vec<String>)>, announced: usize) {
        self.lists -= 1;
        self.listing -= announced;
        for (parent, children) in listed.into_iter().rev() {
            for c in children.iter().rev() {
                let p = child_path(&parent, c);
                if p != SYSTEM_ROOT {
                    self.pending.push(p);
                }
            }
        }
    }
}

async fn walk(
    readers: &Readers,
    opts: &WalkOptions,
    tx: &mpsc::Sender<Result<Vec<ZnodeRecord>, WalkError>>,
) -> Result<(), WalkError> {
    if opts.root == SYSTEM_ROOT || opts.root.starts_with("/zookeeper/") {
        return Err(WalkError::new(&opts.root, "ZooKeeper's own znodes are not snapshotted"));
    }
    let mut work = Work { pending: vec![opts.root.clone()], ..Work::default() };
    // Completed in the order started, so the walk's order does not depend on timing.
    let mut jobs: FuturesOrdered<Job<'_>> = FuturesOrdered::new();
    loop {
        while let Some((parents, announced)) = work.next_list() {
            let client = &readers.main;
            jobs.push_back(Box::pin(async move {
                let listed = riding_out(client, || list_children(client, parents.clone())).await?;
                Ok(Done::Listed(listed, announced))
            }));
        }
        while let Some(batch) = work.next_read() {
            jobs.push_back(Box::pin(async move {
                Ok(Done::Read(riding_out(&readers.main, || read_batch(readers, batch.clone())).await?))
            }));
        }
        let Some(done) = jobs.next().await else { break };
        match done? {
            Done::Read(read) => {
                let mut records = Vec::with_capacity(read.len());
                let mut parents = Vec::new();
                for record in read {
                    if record.stat.num_children > 0 {
                        parents.push((record.path.clone(), record.stat.num_children as usize));
                    }
                    if record.mode != ZnodeMode::Ephemeral || opts.include_ephemeral {
                        records.push(record);
                    }
                }
                // Their children are listed only after the records are delivered.
                if !records.is_empty() && tx.send(Ok(records)).await.is_err() {
                    return Ok(()); // the consumer is gone
                }
                work.read(parents);
            }
            Done::Listed(listed, announced) => work.listed(listed, announced),
        }
    }
    Ok(())
}

/// Runs `attempt` again when asking again may succeed ([`WalkError::again`]): after a lost
/// connection, once the session is back on a server (a member restarted or killed under a
/// snapshot: the client moves its session to another member), or after a znode changed between
/// its data and ACL reads. The walk only reads, so asking again is safe, and the jobs complete
/// in the order started, so the walk's order is kept. An expired or closed session, or
/// [`RIDE_OUT_MS`] without an answer, ends the walk with the error as before.
async fn riding_out<'a, T>(client: &Client, attempt: impl Fn() -> Pending<'a, T>) -> Result<T, WalkError> {
    let deadline = Instant::now() + Duration::from_millis(RIDE_OUT_MS);
    loop {
        match attempt().await {
            Err(e) if e.again && Instant::now() < deadline && !client.state().is_terminated() => {
                tracing::debug!(path = %e.path, error = %e.message, "reading again");
                tokio::time::sleep(Duration::from_millis(RETRY_PAUSE_MS)).await;
            }
            other => return other,
        }
    }
}

/// Data and ACL of a batch, in its order; the ACL reads go out with the multi-read. A znode
/// deleted meanwhile is left out; a request the server refuses as a whole (a reply too big) is
/// split in halves down to single znodes.
fn read_batch<'a>(readers: &'a Readers, batch: Vec<String>) -> Pending<'a, Vec<ZnodeRecord>> {
    Box::pin(async move {
        let client = &readers.main;
        let mut reader = client.new_multi_reader();
        for p in &batch {
            reader.add_get_data(p).map_err(|e| error(p, &e))?;
        }
        // Both are sent before either is awaited.
        let data = reader.commit();
        let acls = futures::future::join_all(acl_reads(readers, &batch));
        let (results, acls) = futures::join!(data, acls);
        let results = match results {
            Ok(r) => r,
            Err(e) if is_transient(&e) || batch.len() == 1 => return Err(error(&batch[0], &e)),
            Err(_) => {
                let (a, b) = batch.split_at(batch.len() / 2);
                let mut out = read_batch(readers, a.to_vec()).await?;
                out.extend(read_batch(readers, b.to_vec()).await?);
                return Ok(out);
            }
        };
        // Another session's answer that is not for this moment of the znode (or none at all,
        // the session lost) is asked again on ours, all of them together.
        let mut acls = acls;
        let again: Vec<usize> = (0..batch.len())
            .filter(|&i| {
                let (acl, elsewhere) = &acls[i];
                *elsewhere
                    && match (acl, results.get(i)) {
                        (Ok((acl, acl_stat)), Some(MultiReadResult::Data { stat, .. })) => {
                            !same_acl_version(acl_stat, stat) || redacted(acl)
                        }
                        (Ok(_), _) => false,
                        (Err(_), _) => true,
                    }
            })
            .collect();
        let answers = futures::future::join_all(again.iter().map(|&i| client.get_acl(&batch[i]))).await;
        for (i, answer) in again.into_iter().zip(answers) {
            acls[i] = (answer, false);
        }
        let mut out = Vec::with_capacity(batch.len());
        // Consecutive znodes mostly share an ACL: converted once per run.
        let mut last_acl: Option<(Vec<zookeeper_client::Acl>, Vec<AclEntry>)> = None;
        for ((path, result), (acl, _)) in batch.into_iter().zip(results).zip(acls) {
            let (data, stat) = match result {
                MultiReadResult::Data { data, stat } => (data, stat),
                MultiReadResult::Error { err: ZkError::NoNode } => continue,
                MultiReadResult::Error { err } => return Err(error(&path, &err)),
                _ => return Err(WalkError::new(path, "unexpected reply to a multi-read")),
            };
            let acl = match acl {
                // Recorded beside a stat of another ACL version (a `setACL`, or the znode
                // deleted and made again, between the two reads): the batch is read again.
                Ok((_, acl_stat)) if !same_acl_version(&acl_stat, &stat) => {
                    return Err(WalkError {
                        again: true,
                        ..WalkError::new(path, "changed between its data and ACL reads")
                    })
                }
                Ok((acl, _)) => match &last_acl {
                    Some((raw, entries)) if *raw == acl => entries.clone(),
                    _ => {
                        let entries: Vec<AclEntry> = acl.iter().map(acl_entry).collect();
                        last_acl = Some((acl, entries.clone()));
                        entries
                    }
                },
                Err(ZkError::NoNode) => continue,
                Err(e) => return Err(error(&path, &e)),
            };
            let stat = NodeStat::from(&stat);
            let mode = ZnodeMode::of(&path, &stat);
            out.push(ZnodeRecord { path, data, stat, acl, mode });
        }
        Ok(out)
    })
}

/// The ACL reads of `batch`, in its order, each with whether it went to a session other than
/// the walk's own: on the walk's own session, or cut in contiguous parts over the ACL sessions
/// (each session's requests are sent in order, as one stream).
fn acl_reads<'a>(
    readers: &'a Readers,
    batch: &'a [String],
) -> impl Iterator<Item = impl std::future::Future<Output = (Result<(Vec<zookeeper_client::Acl>, Stat), ZkError>, bool)> + 'a>
{
    let part = batch.len().div_ceil(readers.acl.len().max(1)).max(1);
    batch.iter().enumerate().map(move |(i, p)| {
        let session = readers.acl.get(i / part).or(readers.acl.last());
        let elsewhere = session.is_some();
        let session = session.unwrap_or(&readers.main);
        async move { (session.get_acl(p).await, elsewhere) }
    })
}

/// Whether ZooKeeper hid a digest hash (`user:x`) from the session: an ACL session that lacks a
/// credential the walk's own has (it was added to that session later) must not pass the hidden
/// form off as the ACL.
fn redacted(acl: &[zookeeper_client::Acl]) -> bool {
    acl.iter().any(|a| a.scheme() == DIGEST_SCHEME && a.id().rsplit_once(':').is_some_and(|(_, h)| h == REDACTED_HASH))
}

/// Whether an ACL read describes the same znode at the same ACL version as the data read.
fn same_acl_version(acl_stat: &Stat, data_stat: &Stat) -> bool {
    acl_stat.czxid == data_stat.czxid && acl_stat.aversion == data_stat.aversion
}

/// The children of `parents` (sorted), parent by parent; a parent deleted meanwhile is left
/// out. Split in halves like [`read_batch`] when the server refuses the whole request.
fn list_children(client: &Client, parents: Vec<String>) -> Pending<'_, Vec<(String, Vec<String>)>> {
    Box::pin(async move {
        let mut reader = client.new_multi_reader();
        for p in &parents {
            reader.add_get_children(p).map_err(|e| error(p, &e))?;
        }
        let results = match reader.commit().await {
            Ok(r) => r,
            Err(e) if is_transient(&e) || parents.len() == 1 => return Err(error(&parents[0], &e)),
            Err(_) => {
                let (a, b) = parents.split_at(parents.len() / 2);
                let mut out = list_children(client, a.to_vec()).await?;
                out.extend(list_children(client, b.to_vec()).await?);
                return Ok(out);
            }
        };
        let mut out = Vec::with_capacity(parents.len());
        for (path, result) in parents.into_iter().zip(results) {
            match result {
                MultiReadResult::Children { mut children } => {
                    children.sort_unstable();
                    out.push((path, children));
                }
                MultiReadResult::Error { err: ZkError::NoNode } => {}
                MultiReadResult::Error { err } => return Err(error(&path, &err)),
                _ => return Err(WalkError::new(path, "unexpected reply to a multi-read")),
            }
        }
        Ok(out)
    })
}

fn error(path: &str, e: &ZkError) -> WalkError {
    let again = crate::zk::worth_asking_again(e);
    WalkError { path: path.to_string(), message: describe_error(e), again }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet, VecDeque};

    use super::*;

    /// Runs the walk's scheduling over a tree given as children by path, jobs completing in the
    /// order started (as `walk` does): the paths in walk order and the most paths ever held
    /// (queued, announced or in a read in flight).
    fn simulate(tree: &HashMap<String, Vec<String>>, root: &str) -> (Vec<String>, usize) {
        enum Job {
            Read(Vec<String>),
            List(Vec<String>, usize),
        }
        let mut work = Work { pending: vec![root.to_string()], ..Work::default() };
        let mut jobs = VecDeque::new();
        let mut order = Vec::new();
        let mut most = 0;
        loop {
            while let Some((parents, announced)) = work.next_list() {
                jobs.push_back(Job::List(parents, announced));
            }
            while let Some(batch) = work.next_read() {
                jobs.push_back(Job::Read(batch));
            }
            let reading: usize = jobs.iter().map(|j| if let Job::Read(b) = j { b.len() } else { 0 }).sum();
            most = most.max(work.held() + reading);
            let Some(job) = jobs.pop_front() else { break };
            match job {
                Job::Read(batch) => {
                    let parents = batch
                        .iter()
                        .filter_map(|p| tree.get(p).filter(|c| !c.is_empty()).map(|c| (p.clone(), c.len())))
                        .collect();
                    order.extend(batch);
                    work.read(parents);
                }
                Job::List(parents, announced) => {
                    let listed = parents.into_iter().map(|p| (p.clone(), tree[&p].clone())).collect();
                    work.listed(listed, announced);
                }
            }
        }
        (order, most)
    }

    fn add(tree: &mut HashMap<String, Vec<String>>, parent: &str, child: &str) -> String {
        tree.entry(parent.to_string()).or_default().push(child.to_string());
        child_path(parent, child)
    }

    fn check_parents_first(order: &[String], root: &str) {
        let mut seen = HashSet::new();
        for p in order {
            if p != root {
                let parent = p.rsplit_once('/').map(|(a, _)| if a.is_empty() { "/" } else { a }).unwrap();
                assert!(seen.contains(parent), "{p} before its parent");
            }
            assert!(seen.insert(p.as_str()), "{p} twice");
        }
    }

    #[test]
    fn the_walk_holds_a_bounded_number_of_paths_and_puts_parents_first() {
        // 200 folders × 1,000 znodes, a deep chain with a few leaves on each level, and /zookeeper.
        let mut tree = HashMap::new();
        let mut all = vec!["/".to_string()];
        for f in 0..200 {
            let folder = add(&mut tree, "/", &format!("f{f:03}"));
            all.push(folder.clone());
            for n in 0..1_000 {
                all.push(add(&mut tree, &folder, &format!("n{n:04}")));
            }
        }
        let mut deep = "/".to_string();
        for d in 0..300 {
            for l in 0..3 {
                all.push(add(&mut tree, &deep, &format!("leaf{l}")));
            }
            deep = add(&mut tree, &deep, &format!("d{d}"));
            all.push(deep.clone());
        }
        add(&mut tree, "/", "zookeeper");
        for list in tree.values_mut() {
            list.sort();
        }
        let (order, most) = simulate(&tree, "/");
        check_parents_first(&order, "/");
        let mut got = order.clone();
        got.sort();
        all.sort();
        assert_eq!(got, all, "every znode once, /zookeeper never");
        // Bounded: the work list's limit plus one folder's children and the reads in flight.
        assert!(most <= PENDING_PATHS + 1_000 + WALK_BATCH * READS_IN_FLIGHT, "{most} paths held");
        assert!(most < order.len() / 5, "{} znodes, {most} held: not flat", order.len());
    }

    #[test]
    fn an_acl_from_another_session_is_kept_only_for_the_same_znode_and_acl_version_unhidden() {
        use zookeeper_client::{Acl, AuthId, Permission};
        let stat = |czxid: i64, aversion: i32| Stat {
            czxid,
            mzxid: czxid,
            pzxid: czxid,
            ctime: 0,
            mtime: 0,
            version: 0,
            cversion: 0,
            aversion,
            ephemeral_owner: 0,
            data_length: 0,
            num_children: 0,
        };
        assert!(same_acl_version(&stat(7, 2), &stat(7, 2)));
        assert!(!same_acl_version(&stat(7, 1), &stat(7, 2)), "read before a setACL the data read saw");
        assert!(!same_acl_version(&stat(8, 0), &stat(7, 0)), "another znode of the same path");
        let digest = |id: &str| Acl::new(Permission::ALL, AuthId::new("digest", id));
        let anyone = Acl::new(Permission::READ, AuthId::anyone());
        assert!(redacted(&[anyone.clone(), digest("ops:x")]));
        assert!(!redacted(&[anyone.clone(), digest("ops:bK2vrtycP3OyZ7p+aGPDYWwk0ZA=")]));
        assert!(!redacted(&[anyone, Acl::new(Permission::ALL, AuthId::new("ip", "10.0.0.1"))]));
    }

    #[test]
    fn one_wide_znode_holds_its_children_and_no_more() {
        let mut tree = HashMap::new();
        let mut n = 1;
        for i in 0..(PENDING_PATHS + 5_000) {
            add(&mut tree, "/wide", &format!("c{i:06}"));
            n += 1;
        }
        let (order, most) = simulate(&tree, "/wide");
        assert_eq!(order.len(), n);
        check_parents_first(&order, "/wide");
        assert!(most <= PENDING_PATHS + 5_000 + 1, "{most}");
    }
}
