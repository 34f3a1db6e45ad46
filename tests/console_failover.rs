//! The failover screen against a real sandbox (ZooKeeper, a MariaDB primary with two GTID
//! replicas, their agents): `S` on the cluster screen plans a switchover with fresh probes,
//! `X` and `y` run it through the executor with the profile's operation account, and the
//! screen follows it to the end (the primary record then names the candidate at epoch 2);
//! then a switchover run by the service directly — as `myzoo switchover` does — shows up
//! live on the same screen from its journal record.

mod common;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use myzoo::cluster::config::parse_primary;
use myzoo::cluster::health::NodeState;
use myzoo::cluster::ClusterPaths;
use myzoo::console::app::{App, AppOptions};
use myzoo::console::event::Event;
use myzoo::console::headless::Headless;
use myzoo::console::keymap::Scope;
use myzoo::console::screens::failover::PlanState;
use myzoo::console::screens::ScreenId;
use myzoo::failover::journal::{OpState, StepState};
use myzoo::failover::switchover;
use myzoo::failover::{Access, Operator};
use myzoo::ops::actor::Actor;
use myzoo::sandbox;

const INTERVAL_MS: u64 = 250;
const SESSION_TIMEOUT_MS: u64 = 4_000;
/// Liveness bound for waits (not a figure).
const WAIT: Duration = Duration::from_secs(60);

fn key(h: &Headless, c: KeyCode) {
    h.send(Event::Key(KeyEvent::new(c, KeyModifiers::NONE)));
}

fn healthy(a: &App) -> bool {
    a.clusters()
        .view
        .as_ref()
        .is_some_and(|v| ["db1", "db2", "db3"].iter().all(|n| v.node(n).is_some_and(|n| n.state == NodeState::Ok)))
}

fn plan_ready(a: &App) -> bool {
    matches!(&a.screens().failover.view().plan, PlanState::Ready { planned, .. } if planned.plan.can_run())
}

/// The recorded primary and its epoch.
async fn primary(zk: &zookeeper_client::Client, paths: &ClusterPaths) -> (String, u64) {
    let (data, _) = zk.get_data(&paths.primary()).await.expect("primary record");
    let r = parse_primary(&data).expect("valid primary record");
    (r.node, r.epoch)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn switchover_from_the_console_and_one_from_elsewhere_live() {
    let sb = common::Sandbox::with_agents(INTERVAL_MS, SESSION_TIMEOUT_MS).await;
    let paths = ClusterPaths::new("/myzoo", sandbox::CLUSTER);
    let zk = zookeeper_client::Client::connect(&sb.zk()).await.expect("connect to ZooKeeper");
    assert_eq!(primary(&zk, &paths).await, ("db1".to_string(), 1));

    // The console gets the sandbox profile's operation account: a user and password files.
    let mysql = myzoo::config::MysqlAccess {
        user: sb.status.mysql_user.clone(),
        password_file: sb.status.mysql_password_file.clone(),
        repl_password_file: sb.status.repl_password_file.clone(),
        tls: None,
    };
    assert!(mysql.user.is_some() && mysql.password_file.is_some(), "the sandbox names its account: {mysql:?}");
    let opts = AppOptions { mysql, ..common::app_opts((120, 40), "/myzoo") };
    let mut h = Headless::start(opts, sb.session(Duration::from_secs(10))).unwrap();
    assert!(h.pump_until(WAIT, healthy).await, "never healthy: {:?}", h.app.clusters().view);

    // S: the plan, from fresh probes, on screen.
    key(&h, KeyCode::Char('S'));
    assert!(h.pump_until(WAIT, plan_ready).await, "no runnable plan: {:?}", h.app.screens().failover.view().plan);
    assert_eq!(h.app.screen(), ScreenId::Failover);
    let PlanState::Ready { planned, .. } = h.app.screens().failover.view().plan.clone() else { unreachable!() };
    let candidate = planned.plan.candidate.clone().expect("a candidate");
    h.draw();
    let screen = h.screen();
    assert!(screen.contains("expected write-block") && screen.contains(&format!("db1 → {candidate}")), "{screen}");

    // X asks; y runs it (a development cluster: no name to type).
    key(&h, KeyCode::Char('X'));
    assert!(h.pump_until(WAIT, |a| a.overlay().is_some()).await, "no confirmation");
    assert_eq!(h.app.scope(), Scope::Danger);
    key(&h, KeyCode::Char('y'));
    let done = |a: &App| {
        let v = a.screens().failover.view();
        !a.screens().failover.running()
            && v.current()
                .is_some_and(|(_, r)| r.state == OpState::Done && r.new_primary.as_deref() == Some(&candidate))
    };
    assert!(
        h.pump_until(WAIT, done).await,
        "the console's switchover never showed done: {:?} {:?}",
        h.app.notices().latest(),
        h.app.screens().failover.view().current()
    );
    h.draw();
    let screen = h.screen();
    assert!(screen.contains(&format!("db1 → {candidate} · done")) && screen.contains("repoint"), "{screen}");
    assert_eq!(primary(&zk, &paths).await, (candidate.clone(), 2));

    // A switchover run elsewhere (the service directly, as `myzoo switchover` runs it) back to
    // db1: the same screen follows it from its journal record.
    assert!(h.pump_until(WAIT, healthy).await, "not healthy after the switchover");
    let creds = sandbox::credentials(sb.dir.path()).expect("credentials");
    let op = Operator {
        client: zk.clone(),
        paths: paths.clone(),
        access: Access {
            user: creds.agent.user.clone(),
            password: Some(creds.agent.password.clone()),
            repl_password: Some(creds.repl.password.clone()),
            tls: Default::default(),
        },
        actor: Actor { user: "elsewhere".into(), host: "cli-host".into(), ssh_client: None },
        origin: "cli".into(),
        read_only: false,
        guard: None,
    };
    let mut prepared = None;
    for _ in 0..40 {
        let p = switchover::plan(&op, Some("db1")).await.expect("plan back to db1");
        if p.plan.can_run() {
            prepared = Some(p);
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let prepared = prepared.expect("the switch back never became possible");
    let service = tokio::spawn(async move {
        let noop = |_: &myzoo::failover::journal::Record| {};
        switchover::run(&op, prepared, None, &noop).await
    });
    // Whether the record was seen while it ran (steps still running or pending), not only done.
    let mut seen_running = false;
    let elsewhere = |a: &App| {
        a.screens().failover.view().current().filter(|(_, r)| r.owner.user == "elsewhere").map(|(_, r)| r.clone())
    };
    let finished = h
        .pump_until(WAIT, |a| {
            let Some(r) = elsewhere(a) else { return false };
            seen_running |= r.state == OpState::Running
                && r.steps.iter().any(|s| matches!(s.state, StepState::Running | StepState::Pending));
            r.state == OpState::Done
        })
        .await;
    let record = service.await.expect("join").expect("the switch back ran");
    assert_eq!(record.state, OpState::Done, "{:?}", record.outcome);
    assert!(finished, "the console never showed the switch back done: {:?}", h.app.screens().failover.view().current());
    h.draw();
    let screen = h.screen();
    assert!(screen.contains(&format!("{candidate} → db1 · done")) && screen.contains("elsewhere@cli-host"), "{screen}");
    for step in ["fence-old", "catch-up", "record", "open-new", "repoint"] {
        assert!(screen.contains(step), "step {step} not shown: {screen}");
    }
    println!("the switch back was seen running (not only done): {seen_running}");
    assert_eq!(primary(&zk, &paths).await, ("db1".to_string(), 3));
    h.shutdown().await;
}
