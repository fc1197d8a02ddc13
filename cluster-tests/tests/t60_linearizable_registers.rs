//! Goal: GET and SET on Redraft behave as linearizable registers, with no faults, while the
//! leader is killed with kill -9 and restarted, and while the leader is paused with SIGSTOP.
//!
//! Method: four client threads do random GET/SET (unique values) on three keys through random
//! nodes, following one MOVED, and record each operation's invocation and completion time and
//! its outcome (ok, failed for MOVED/CLUSTERDOWN/TRYAGAIN, unknown for UNCERTAIN, timeouts and
//! lost connections). A nemesis on the test thread injects faults, waiting for each state with
//! the harness (never a fixed sleep). The recorded history goes through the WGL checker in
//! `cluster_tests::linearizability`, per key. Set `REDRAFT_SEED` to replay a run's choices.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use cluster_tests::harness::OP_DEADLINE;
use cluster_tests::linearizability::{check, Verdict};
use cluster_tests::register::{self, Progress, RegisterConfig, RegisterHistory};
use cluster_tests::{eventually, TestCluster};

/// Acknowledged writes to wait for between two faults, so every phase has real traffic.
const WRITES_PER_PHASE: usize = 20;

fn all_addrs(cluster: &TestCluster) -> Vec<String> {
    cluster.ids().into_iter().map(|id| cluster.addr(id)).collect()
}

/// Waits until `count` more writes than now are acknowledged.
#[track_caller]
fn wait_for_more_writes(progress: &Progress, count: usize, what: &str) {
    let target = progress.ok_writes.load(Ordering::Relaxed) + count;
    eventually(OP_DEADLINE, what, || (progress.ok_writes.load(Ordering::Relaxed) >= target).then_some(()));
}

/// Runs the register workload on `cluster` while `nemesis` runs on this thread, stops the
/// workload when the nemesis returns, and checks the history.
///
/// # Panics
/// When the history is not linearizable, the checker gives no verdict, or too few writes
/// succeeded for the check to mean anything.
fn run_and_check(cluster: &TestCluster, name: &str, nemesis: impl FnOnce(&Progress)) {
    let config = RegisterConfig::new(&format!("{name}:"));
    eprintln!("--- {name}: seed {} (replay with {}={})", config.seed, register::SEED_ENV, config.seed);
    let addrs = all_addrs(cluster);
    let stop = AtomicBool::new(false);
    let progress = Progress::default();
    let started = Instant::now();
    let history: RegisterHistory = std::thread::scope(|s| {
        let workload = s.spawn(|| register::run(&config, &addrs, &stop, &progress));
        // Stop the clients even when the nemesis panics, so the scope can end and report it.
        struct StopOnDrop<'a>(&'a AtomicBool);
        impl Drop for StopOnDrop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        let _stop = StopOnDrop(&stop);
        wait_for_more_writes(&progress, WRITES_PER_PHASE, "first writes acknowledged");
        nemesis(&progress);
        wait_for_more_writes(&progress, WRITES_PER_PHASE, "writes acknowledged after the faults");
        stop.store(true, Ordering::Relaxed);
        workload.join().unwrap_or_else(|_| panic!("the register workload panicked"))
    });
    let (ok, failed, unknown) = history.counts();
    eprintln!(
        "--- {name}: {} operations in {:?}: {ok} ok ({} writes), {failed} failed, {unknown} unknown",
        history.operations.len(),
        started.elapsed(),
        history.ok_writes()
    );
    if !history.unexpected.is_empty() {
        eprintln!("--- {name}: unexpected replies (counted as unknown): {:?}", history.unexpected);
    }
    assert!(history.ok_writes() >= 2 * WRITES_PER_PHASE, "too few acknowledged writes to check anything");

    let checking = Instant::now();
    let verdict = check(&history.operations);
    eprintln!("--- {name}: checker says {verdict:?} after {:?}", checking.elapsed());
    match verdict {
        Verdict::Linearizable => {}
        Verdict::NotLinearizable { key, explanation } => {
            panic!("{name}: key {key} is not linearizable (seed {}):\n{explanation}", config.seed)
        }
        Verdict::Unknown { key, steps } => panic!(
            "{name}: the checker ran out of budget on key {key} after {steps} steps; the history is \
             too concurrent to decide, so shrink it (fewer threads or operations), seed {}",
            config.seed
        ),
    }
}

/// Goal: without faults, reads through any node never go back in time and never miss an
/// acknowledged write. Method: the workload runs until a few dozen writes are acknowledged.
#[test]
fn registers_stay_linearizable_with_no_faults() {
    let cluster = TestCluster::start(3);
    run_and_check(&cluster, "no-faults", |progress| {
        wait_for_more_writes(progress, 3 * WRITES_PER_PHASE, "writes acknowledged without faults");
    });
}

/// Goal: kill -9 of the leader, a new election and the old leader's return never make a read
/// see a stale or lost value. Method: twice, kill the leader, wait for a new agreed leader and
/// writes under it, restart the old leader, wait until all nodes agree on a leader again.
#[test]
fn registers_stay_linearizable_while_the_leader_is_killed_and_restarted() {
    let cluster = TestCluster::start(3);
    run_and_check(&cluster, "kill-leader", |progress| {
        for round in 1..=2 {
            let old = cluster.leader();
            eprintln!("--- round {round}: kill -9 leader {old}");
            cluster.kill(old);
            let new = cluster.wait_for_leader(Some(old));
            eprintln!("--- round {round}: node {new} leads");
            wait_for_more_writes(progress, WRITES_PER_PHASE, "writes acknowledged by the new leader");
            eprintln!("--- round {round}: restart node {old}");
            cluster.restart(old);
            cluster.wait_for_leader(None);
        }
    });
}

/// Goal: a paused leader (SIGSTOP) that wakes up still believing it leads never serves a stale
/// read or loses a write. Method: twice, pause the leader, wait for the others to elect a new
/// one and acknowledge writes, resume the old leader, wait until all nodes agree on a leader.
#[test]
fn registers_stay_linearizable_while_the_leader_is_paused_and_resumed() {
    let cluster = TestCluster::start(3);
    run_and_check(&cluster, "pause-leader", |progress| {
        for round in 1..=2 {
            let old = cluster.leader();
            eprintln!("--- round {round}: pause leader {old}");
            cluster.pause(old);
            let new = cluster.wait_for_leader(Some(old));
            eprintln!("--- round {round}: node {new} leads");
            wait_for_more_writes(progress, WRITES_PER_PHASE, "writes acknowledged by the new leader");
            eprintln!("--- round {round}: resume node {old}");
            cluster.resume(old);
            cluster.wait_for_leader(None);
        }
    });
}
