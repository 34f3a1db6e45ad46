//! Sequence counters: a restored sequential znode is created under its exact name as a plain
//! persistent one, which bumps its parent's counter by one only. If the counter is then not
//! past the highest number restored, the parent's next sequential create (an audit entry, a
//! journal record) would collide with a restored name and fail. The counter is the count of
//! creates ever made below the parent (see [`plan::next_sequence`]), so it is advanced with
//! create+delete pairs of a scratch child, many per multi-op, then checked with a probe: a real
//! sequential create, deleted at once.

use std::collections::VecDeque;

use anyhow::{Context, Result};
use zookeeper_client::{Acls, Client, CreateMode};

use super::plan::{self, MULTI_BUDGET_BYTES, OP_OVERHEAD_BYTES};
use super::SequenceFix;
use crate::zk::{child_path, describe_error};

/// Create+delete pairs per multi-op at most.
pub const PAIRS_PER_MULTI: usize = 2_000;
/// Multi-ops in flight while advancing.
const ADVANCE_IN_FLIGHT: usize = 4;
/// Rounds of advance-and-probe before giving up (the first is normally enough).
const ROUNDS: usize = 3;
/// Name prefix of the probe.
pub const PROBE_PREFIX: &str = "myzoo-restore-probe-";

/// Makes sure the next sequential child of `parent` is numbered above `highest`. `None` when
/// it already was (nothing written).
pub async fn advance_past(client: &Client, parent: &str, highest: u64) -> Result<Option<SequenceFix>> {
    let Some(stat) = client.check_stat(parent).await.map_err(|e| anyhow::anyhow!("{}", describe_error(&e)))? else {
        return Ok(None);
    };
    let target = highest as i64 + 1;
    let mut next = plan::next_sequence(stat.cversion, stat.num_children);
    if next.is_some_and(|n| n >= target) {
        return Ok(None);
    }
    let mut advanced = 0u64;
    for _ in 0..ROUNDS {
        if let Some(n) = next.filter(|n| *n < target) {
            let by = (target - n) as u64;
            advance(client, parent, by).await?;
            advanced += by;
        }
        let probed = probe(client, parent).await?;
        // The probe took `probed`; the next create gets `probed + 1`.
        if probed + 1 >= target {
            return Ok(Some(SequenceFix {
                parent: parent.to_string(),
                highest_restored: highest,
                next: probed + 1,
                advanced_by: advanced,
            }));
        }
        next = Some(probed + 1);
    }
    anyhow::bail!("the counter did not move past {highest} after {ROUNDS} rounds")
}

/// `by` create+delete pairs of a scratch child.
async fn advance(client: &Client, parent: &str, by: u64) -> Result<()> {
    let scratch = child_path(parent, &format!("myzoo-restore-scratch-{}", std::process::id()));
    let per_pair = 2 * (scratch.len() + OP_OVERHEAD_BYTES) + 32;
    let per_multi = (MULTI_BUDGET_BYTES / per_pair).clamp(1, PAIRS_PER_MULTI) as u64;
    let folder = CreateMode::Persistent.with_acls(Acls::anyone_all());
    let mut left = by;
    let mut in_flight = VecDeque::new();
    while left > 0 || !in_flight.is_empty() {
        while left > 0 && in_flight.len() < ADVANCE_IN_FLIGHT {
            let n = left.min(per_multi);
            let mut multi = client.new_multi_writer();
            for _ in 0..n {
                multi.add_create(&scratch, b"", &folder).map_err(|e| anyhow::anyhow!("{}", describe_error(&e)))?;
                multi.add_delete(&scratch, None).map_err(|e| anyhow::anyhow!("{}", describe_error(&e)))?;
            }
            in_flight.push_back(multi.commit());
            left -= n;
        }
        if let Some(answer) = in_flight.pop_front() {
            answer.await.map_err(|e| anyhow::anyhow!("advancing the counter with {scratch}: {e}"))?;
        }
    }
    Ok(())
}

/// Creates and deletes one sequential child; returns the number it got.
async fn probe(client: &Client, parent: &str) -> Result<i64> {
    let prefix = child_path(parent, PROBE_PREFIX);
    let options = CreateMode::PersistentSequential.with_acls(Acls::anyone_all());
    let (_, seq) = client
        .create(&prefix, b"", &options)
        .await
        .map_err(|e| anyhow::anyhow!("{}", describe_error(&e)))
        .context("probe create")?;
    let made = format!("{prefix}{seq}");
    client
        .delete(&made, None)
        .await
        .map_err(|e| anyhow::anyhow!("removing the probe {made}: {}", describe_error(&e)))?;
    Ok(seq.into_i64())
}
