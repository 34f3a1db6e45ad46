//! The faults operators meet, on a real three-member ensemble with three MariaDB servers and
//! their agents (`tests/common/faults.rs` drives them): a MySQL server that hangs, the console's
//! session expired by freezing its member past the session timeout, and quorum lost for 30 s and
//! regained. Kills of the console's member and of the leader, within the session, are in
//! `tests/reconnect.rs`. The figures are printed here and benchmarked by `benches/faults.rs`.

mod common;

use std::time::Duration;

use common::faults::{self, Rig};

/// How long quorum stays lost (the 30 s: longer than every session timeout involved).
const QUORUM_LOST_FOR: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_and_the_agents_survive_the_faults_operators_meet() {
    let mut rig = Rig::start().await;

    let hang = faults::mysql_hang(&mut rig, "db2").await;
    eprintln!(
        "MySQL hang: shown unreachable after {:?} ({}), reachable again {:?} after the thaw",
        hang.shown, hang.reason, hang.recovered
    );

    let expiry = faults::session_expired(&mut rig).await;
    eprintln!(
        "session expiry: myzoo status answered unknown in {:?}; live on a new session {:?} after the thaw",
        expiry.status_took, expiry.console_live
    );

    let quorum = faults::quorum_lost(&mut rig, QUORUM_LOST_FOR).await;
    eprintln!(
        "quorum lost for {QUORUM_LOST_FOR:?}: noticed after {:?}; myzoo status answered unknown in {:?}; console live \
         {:?} and every agent publishing {:?} after the restart",
        quorum.noticed, quorum.status_took, quorum.console_live, quorum.agents_publishing
    );
    rig.console.shutdown().await;
}
