//! Deterministic simulation: many seeded runs of a whole Raft group and its state machine in
//! this process, on a simulated network and clock (see `cluster_tests::sim`).
//!
//! - `REDRAFT_SIM_SEEDS=5000 cargo test --release -p cluster-tests --test t30_simulation
//!   random_seeds -- --nocapture` runs 5,000 seeds (default 200, from `REDRAFT_SIM_FIRST_SEED`,
//!   default 0, on `REDRAFT_SIM_THREADS` threads, default 2);
//! - `REDRAFT_SIM_SEED=<seed> REDRAFT_SIM_TRACE=1 ...` replays one seed, printing its trace;
//! - `REDRAFT_SIM_VERBOSE=1` prints every seed's summary line (with its fingerprint).
//!
//! The other tests break one part on purpose and check that the simulation notices.

use cluster_tests::linearizability::{self, Input, Operation, Outcome, Output, Verdict};
use cluster_tests::sim::{
    env_u64, replay_command, run_seed, run_seeds, Faults, SimOptions, SimReport, Stopwatch, FIRST_SEED_ENV, SEEDS_ENV,
    SEED_ENV, THREADS_ENV, TRACE_ENV, VERBOSE_ENV,
};

/// Seeds the default run covers: about 10-20 s on two threads of a loaded 2-core machine.
const DEFAULT_SEEDS: u64 = 200;

/// How many trace lines of a failed run are printed (the replay prints them all).
const TRACE_TAIL: usize = 80;

fn must_run(options: &SimOptions) -> SimReport {
    run_seed(options).unwrap_or_else(|e| panic!("seed {} could not run: {e}", options.seed))
}

fn print_failure(report: &SimReport) {
    eprintln!("{}", report.summary());
    eprintln!("last {TRACE_TAIL} events of seed {}:", report.seed);
    for line in report.trace.iter().rev().take(TRACE_TAIL).rev() {
        eprintln!("  {line}");
    }
    eprintln!("replay: {}", replay_command(report.seed));
}

/// Goal: under random crashes, restarts, partitions, one-way blocks, message loss and delays,
/// no run breaks a Raft or state machine invariant, every run converges once healed, and every
/// client history is linearizable.
///
/// Method: run `REDRAFT_SIM_SEEDS` seeds (or only `REDRAFT_SIM_SEED`), two at a time; print a
/// summary and, for each failing seed, its violations, the end of its trace and the command
/// that replays it.
#[test]
fn random_seeds_keep_every_invariant() {
    if let Ok(seed) = std::env::var(SEED_ENV) {
        let seed = seed.trim().parse().unwrap_or_else(|e| panic!("{SEED_ENV}={seed:?} is not a number: {e}"));
        let trace = std::env::var(TRACE_ENV).is_ok_and(|v| v != "0");
        let report = must_run(&SimOptions { seed, trace, faults: Faults::default() });
        println!("{}", report.summary());
        if !report.passed() {
            print_failure(&report);
            panic!("seed {seed} failed: {:?}", report.violations);
        }
        return;
    }
    let first = env_u64(FIRST_SEED_ENV, 0);
    let count = env_u64(SEEDS_ENV, DEFAULT_SEEDS);
    let threads = env_u64(THREADS_ENV, 2) as usize;
    let clock = Stopwatch::start();
    let results = run_seeds(first, count, threads, &Faults::default());
    let (elapsed, per_minute) = clock.rate(count);

    let mut failed = Vec::new();
    let (mut ops, mut ok, mut unknown, mut crashes, mut partitions, mut elections, mut simulated) =
        (0, 0, 0, 0, 0, 0, 0.0);
    let mut no_verdict = 0;
    let verbose = std::env::var(VERBOSE_ENV).is_ok_and(|v| v != "0");
    for (seed, outcome) in &results {
        match outcome {
            Ok(report) => {
                if verbose {
                    println!("{}", report.summary());
                }
                let (known, _, unknown_ops) = report.outcomes();
                ops += report.history.len();
                ok += known;
                unknown += unknown_ops;
                crashes += report.faults.crashes;
                partitions += report.faults.partitions + report.faults.isolations;
                elections += report.elections;
                simulated += report.simulated.as_secs_f64();
                no_verdict += usize::from(matches!(report.verdict, Verdict::Unknown { .. }));
                if !report.passed() {
                    print_failure(report);
                    failed.push(*seed);
                }
            }
            Err(e) => {
                eprintln!("seed {seed} could not run: {e}\nreplay: {}", replay_command(*seed));
                failed.push(*seed);
            }
        }
    }
    println!(
        "simulation: {count} seeds from {first} in {elapsed:.1?} ({per_minute:.0} seeds/min on {threads} threads), \
         {simulated:.0}s simulated, {ops} operations ({ok} with a known outcome, {unknown} unknown), \
         {elections} elections, {crashes} crashes, {partitions} partitions/isolations, \
         {no_verdict} histories without a linearizability verdict, {} failed",
        failed.len()
    );
    assert!(failed.is_empty(), "failing seeds: {failed:?} (replay one with {})", replay_command(failed[0]));
    assert!(ok > 0 && crashes > 0 && elections > count, "the runs must have done something");
}

/// Goal: a run is a function of its seed: the same seed gives the same trace, so any failing
/// seed replays exactly.
///
/// Method: run a few seeds twice each and compare fingerprints and histories; different seeds
/// must give different fingerprints.
#[test]
fn the_same_seed_replays_the_same_trace() {
    let mut fingerprints = Vec::new();
    for seed in [7, 1_000, 424_242] {
        let options = SimOptions { seed, ..SimOptions::default() };
        let (first, second) = (must_run(&options), must_run(&options));
        assert!(first.passed(), "{}", first.summary());
        if first.fingerprint != second.fingerprint {
            let diverged = first.trace.iter().zip(&second.trace).position(|(a, b)| a != b);
            let at = diverged.unwrap_or(first.trace.len().min(second.trace.len()));
            panic!(
                "seed {seed} ran twice with different traces, first difference at event {at}:\n  {:?}\n  {:?}",
                first.trace.get(at),
                second.trace.get(at)
            );
        }
        assert_eq!(first.history, second.history, "seed {seed}: same trace, different history");
        fingerprints.push(first.fingerprint);
    }
    fingerprints.dedup();
    assert_eq!(fingerprints.len(), 3, "different seeds must give different runs");
}

/// Runs seeds from 0 with `faults` until one reports a violation containing `expected`;
/// returns its report. Fails if none of `seeds_max` does.
fn first_violation(faults: Faults, expected: &str, seeds_max: u64) -> SimReport {
    for seed in 0..seeds_max {
        let report = must_run(&SimOptions { seed, trace: false, faults: faults.clone() });
        if report.violations.iter().any(|v| v.contains(expected)) {
            println!("seed {seed} caught it: {}", report.violations[0]);
            return report;
        }
    }
    panic!("{seeds_max} seeds with {faults:?} never reported '{expected}'");
}

/// Goal: the state machine agreement check catches a replica whose state machine loses
/// writes. Method: node 2 acknowledges every fifth batch without executing it.
#[test]
fn a_state_machine_that_drops_writes_on_one_node_is_caught() {
    let faults = Faults { executor_drops_writes_on: Some(2), ..Faults::default() };
    first_violation(faults, "state machines diverge", 5);
}

/// Goal: the linearizability check catches stale reads. Method: clients read from any node
/// with READONLY, which serves reads from its local state without a ReadIndex barrier.
#[test]
fn stale_follower_reads_are_caught_by_the_linearizability_check() {
    let faults = Faults { stale_follower_reads: true, ..Faults::default() };
    first_violation(faults, "not linearizable", 20);
}

/// Goal: the vote durability check catches a log store that loses its vote in a crash.
#[test]
fn a_vote_forgotten_across_a_restart_is_caught() {
    let faults = Faults { forget_vote_on_restart: true, ..Faults::default() };
    first_violation(faults, "restarted with vote none", 10);
}

/// Goal: the checker, fed a real simulated history, flags one forged stale read in it.
///
/// Method: take a passing run's history, find two acknowledged writes of one key where the
/// first completed before the second began, and append a read, after everything, that returns
/// the first write's value. Values are unique per write, so the only way to read it is before
/// the second write: the read is stale.
#[test]
fn a_forged_stale_read_in_a_simulated_history_is_caught() {
    let (history, earlier) = (0..20)
        .find_map(|seed| {
            let report = must_run(&SimOptions { seed, ..SimOptions::default() });
            assert!(report.passed(), "{}", report.summary());
            let acked: Vec<&Operation> = report
                .history
                .iter()
                .filter(|op| matches!(op.input, Input::Write(_)) && op.outcome == Outcome::Ok(Output::Write))
                .collect();
            let stale = acked
                .iter()
                .find(|a| acked.iter().any(|b| b.key == a.key && a.complete_ns < b.invoke_ns))
                .map(|op| (*op).clone());
            stale.map(|op| (report.history, op))
        })
        .expect("some run has two acknowledged writes of one key, one after the other");
    assert_eq!(linearizability::check(&history), Verdict::Linearizable);
    let Input::Write(value) = &earlier.input else { unreachable!("filtered on writes") };
    let end = history.iter().map(|op| op.complete_ns.max(op.invoke_ns)).max().unwrap_or(0);
    let mut forged = history.clone();
    forged.push(Operation {
        client: 99,
        key: earlier.key.clone(),
        input: Input::Read,
        invoke_ns: end + 1,
        complete_ns: end + 2,
        outcome: Outcome::Ok(Output::Read(Some(value.clone()))),
    });
    assert!(
        matches!(linearizability::check(&forged), Verdict::NotLinearizable { .. }),
        "a read of {value:?} after a later write completed must be flagged"
    );
}
