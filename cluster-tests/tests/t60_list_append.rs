//! Goal: MULTI/EXEC transactions of RPUSH and LRANGE on Redraft are strictly serializable while
//! the leader is killed with kill -9 and restarted, and while it is cut off from both peers.
//!
//! Method: four clients run transactions of up to four appends and reads over four keys through
//! random nodes of a 3-node cluster whose Raft links go through the fault proxy, recording each
//! transaction's invocation, completion and outcome (ok; failed for MOVED, CLUSTERDOWN,
//! TRYAGAIN, EXECABORT; unknown for UNCERTAIN, timeouts and lost connections). A nemesis on the
//! test thread kills and restarts the leader, then isolates the new leader and heals the
//! partition, waiting for each state with the harness and for committed transactions between
//! faults (never a fixed sleep). Once the cluster is healed the workload stops, reads every key
//! in one last transaction, and the Elle-style checker in `cluster_tests::list_append` looks for
//! dependency cycles (G0, G1c, G-single, G2, with and without real-time edges), aborted and
//! intermediate reads, lost updates, duplicates and garbage. Set `REDRAFT_SEED` to replay the
//! clients' choices.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use cluster_tests::harness::OP_DEADLINE;
use cluster_tests::list_append::{self, History, ListAppendConfig, MicroOp, Outcome, Txn};
use cluster_tests::register::{Progress, SEED_ENV};
use cluster_tests::{eventually, TestCluster};

/// Committed transactions with appends to wait for in each phase, so every fault lands in the
/// middle of traffic.
const WRITES_PER_PHASE: usize = 60;
/// Committed transactions the whole run must have for the check to mean anything.
const COMMITTED_MIN: usize = 50;

/// Waits until `count` more transactions with appends than now have committed.
#[track_caller]
fn wait_for_more_writes(progress: &Progress, count: usize, what: &str) {
    let target = progress.ok_writes.load(Ordering::Relaxed) + count;
    eventually(OP_DEADLINE, what, || (progress.ok_writes.load(Ordering::Relaxed) >= target).then_some(()));
}

/// Kills the leader, waits for a successor and traffic under it, restarts the old leader;
/// then isolates the current leader, waits for a new one among the majority and traffic, and
/// heals. Returns with every node running, linked and agreeing on a leader.
fn nemesis(cluster: &TestCluster, progress: &Progress) {
    let old = cluster.leader();
    eprintln!("--- kill -9 leader {old}");
    cluster.kill(old);
    let new = cluster.wait_for_leader(Some(old));
    eprintln!("--- node {new} leads");
    wait_for_more_writes(progress, WRITES_PER_PHASE, "transactions committed by the new leader");
    eprintln!("--- restart node {old}");
    cluster.restart(old);
    let leader = cluster.wait_for_leader(None);

    eprintln!("--- isolate leader {leader} from both peers");
    cluster.proxy().isolate(leader);
    let majority_leader = cluster.wait_for_leader(Some(leader));
    eprintln!("--- node {majority_leader} leads the majority");
    wait_for_more_writes(progress, WRITES_PER_PHASE, "transactions committed by the majority leader");
    eprintln!("--- heal the partition");
    cluster.proxy().heal();
    cluster.wait_for_leader(None);
}

#[test]
fn list_append_transactions_stay_strictly_serializable_through_kills_and_partitions() {
    let cluster = TestCluster::start_proxied(3);
    let config = ListAppendConfig::new("la:");
    eprintln!("--- seed {} (replay with {SEED_ENV}={})", config.seed, config.seed);
    let addrs: Vec<String> = cluster.ids().into_iter().map(|id| cluster.addr(id)).collect();
    let stop = AtomicBool::new(false);
    let progress = Progress::default();
    let started = Instant::now();
    let history: History = std::thread::scope(|s| {
        let workload = s.spawn(|| list_append::run(&config, &addrs, &stop, &progress));
        // Stop the clients even when the nemesis panics, so the scope can end and report it.
        struct StopOnDrop<'a>(&'a AtomicBool);
        impl Drop for StopOnDrop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        let _stop = StopOnDrop(&stop);
        wait_for_more_writes(&progress, WRITES_PER_PHASE, "first transactions committed");
        nemesis(&cluster, &progress);
        wait_for_more_writes(&progress, WRITES_PER_PHASE, "transactions committed after the faults");
        stop.store(true, Ordering::Relaxed);
        workload.join().unwrap_or_else(|_| panic!("the list-append workload panicked"))
    });
    let (ok, failed, unknown) = history.counts();
    eprintln!(
        "--- {} transactions in {:?}: {ok} ok ({} with appends), {failed} failed, {unknown} unknown",
        history.txns.len(),
        started.elapsed(),
        history.ok_writes()
    );
    if !history.unexpected.is_empty() {
        eprintln!("--- unexpected replies (counted as unknown): {:?}", history.unexpected);
    }
    assert!(history.final_reads_done, "the final reads never succeeded on the healed cluster");
    assert!(ok >= COMMITTED_MIN, "only {ok} transactions committed; too few to check anything");

    let checking = Instant::now();
    let report = list_append::check(&history.txns);
    eprintln!("--- checked in {:?}:\n{report}", checking.elapsed());
    if !report.is_valid() {
        let path = std::env::temp_dir().join(format!("redraft-list-append-{}.json", config.seed));
        let written = std::fs::write(&path, history.to_json());
        eprintln!("--- history written to {} ({written:?})", path.display());
    }
    assert!(report.is_valid(), "list-append anomalies (seed {}):\n{report}", config.seed);
    assert!(report.edges.ww > 0 && report.edges.rw > 0, "a history with no dependencies checks nothing");
    assert_a_lost_append_would_be_caught(&history.txns);
}

/// The check must be able to fail on this very history: drop from the final read the last value
/// of a key whose last append was acknowledged, as if the cluster had lost it.
fn assert_a_lost_append_would_be_caught(txns: &[Txn]) {
    let mut tampered = txns.to_vec();
    let final_read = tampered.iter().rposition(|t| t.outcome == Outcome::Ok).expect("a committed final read");
    let acknowledged =
        |key: &str, value: u64| txns.iter().any(|t| t.outcome == Outcome::Ok && t.appends_to(key).any(|v| v == value));
    let lost = tampered[final_read].ops.iter_mut().find_map(|op| match op {
        MicroOp::Read { key, value: Some(list) } if list.last().is_some_and(|&v| acknowledged(key, v)) => list.pop(),
        _ => None,
    });
    let Some(lost) = lost else {
        eprintln!("--- no key ends with an acknowledged append; skipping the tampered check");
        return;
    };
    let report = list_append::check(&tampered);
    eprintln!("--- with append {lost} dropped from the final read the checker says:\n{report}");
    assert!(!report.is_valid(), "the checker missed a lost acknowledged append");
}
