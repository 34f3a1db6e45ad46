//! Switchover, failover and rejoin: one implementation used by the console, the scriptable
//! commands (`myzoo switchover|failover|rejoin`) and the automatic coordinator in the agent.
//!
//! - `gtid`    — GTID positions (MariaDB per-domain lists, MySQL GTID sets): parse, compare,
//!   what one has that another lacks. Pure.
//! - `rank`    — candidate ranking with the reason for each rank: a pure function of observed
//!   facts, table-tested.
//! - `journal` — the operation record under `<cluster>/history/` (plan, steps, timings, state),
//!   written by the lock holder as it goes.
//! - `lock`    — one operation per cluster at a time, enforced in ZooKeeper.
//! - `switchover` — the planned switchover: plan, preflight, steps, rollback.

pub mod gtid;
pub mod rank;
