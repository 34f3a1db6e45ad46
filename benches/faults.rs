//! Faults benchmark on a real three-member ensemble with three MariaDB servers and their agents
//! (started here). Run: `cargo bench --bench faults` (`MYZOO_BENCH_RUNS`, default 3).
//!
//! Each run drives the scenarios of `tests/common/faults.rs` — the same code `tests/faults.rs`
//! asserts with — and reports how long the product took to be live again:
//! - a replica's MariaDB server hung (`SIGSTOP`): the console shows it unreachable with the
//!   reason (bounded below by the agent's probe timeout), and reachable again after the thaw;
//! - the console's session expired (its only member frozen past the 4 s session timeout):
//!   thaw → the console is live on a new session, against a bare zookeeper-client that opens a
//!   new session and reads (polling every 5 ms);
//! - quorum lost for 30 s (two members killed): restart → the console is live (connected and
//!   showing a new change) and every agent has published again, against a bare zookeeper-client
//!   session that reads again (polling every 5 ms).

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use std::time::Duration;

use common::faults::{self, Rig};
use support::percentile;

const QUORUM_LOST_FOR: Duration = Duration::from_secs(30);

fn main() {
    let runs: usize = std::env::var("MYZOO_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(run(runs));
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn line(name: &str, v: &mut [f64]) -> f64 {
    let (p50, min, max) = (percentile(v, 0.5), percentile(v, 0.0), percentile(v, 1.0));
    println!("{name}: median {p50:.0} ms (min {min:.0}, max {max:.0}; {} runs)", v.len());
    p50
}

async fn run(runs: usize) {
    let mut rig = Rig::start().await;
    let mut f: [Vec<f64>; 9] = Default::default();
    for run in 0..runs {
        let hang = faults::mysql_hang(&mut rig, "db2").await;
        f[0].push(ms(hang.shown));
        f[1].push(ms(hang.recovered));
        let expiry = faults::session_expired(&mut rig).await;
        f[2].push(ms(expiry.console_live));
        f[3].push(ms(expiry.peer_live));
        f[4].push(ms(expiry.status_took));
        let quorum = faults::quorum_lost(&mut rig, QUORUM_LOST_FOR).await;
        f[5].push(ms(quorum.console_live));
        f[6].push(ms(quorum.peer_live));
        f[7].push(ms(quorum.agents_publishing));
        f[8].push(ms(quorum.status_took));
        eprintln!("run {run}: {hang:?} {expiry:?} {quorum:?}");
    }
    println!("faults on a 3-member ensemble, 3 MariaDB servers with agents (probe every 250 ms, session timeout 4 s)");
    line("MySQL hang: SIGSTOP -> console shows the node unreachable with the reason", &mut f[0]);
    line("MySQL hang: SIGCONT -> console shows it reachable again", &mut f[1]);
    let c = line("session expired: thaw -> console live on a new session", &mut f[2]);
    let p = line("session expired: thaw -> bare client has a new session and reads (peer)", &mut f[3]);
    println!("session expired: console / peer {:.2}x", c / p);
    line("session expired: myzoo status on the frozen member answers 3", &mut f[4]);
    let c = line("quorum lost 30 s: restart -> console live (connected, new change shown)", &mut f[5]);
    let p = line("quorum lost 30 s: restart -> bare client reads again (peer)", &mut f[6]);
    println!("quorum lost: console / peer {:.2}x", c / p);
    line("quorum lost 30 s: restart -> every agent published again", &mut f[7]);
    line("quorum lost: myzoo status answers 3", &mut f[8]);
    rig.console.shutdown().await;
}
