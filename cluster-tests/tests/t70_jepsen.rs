//! Goal: the `redraft-jepsen` runner, end to end: each workload under each family of faults
//! gives a valid verdict and writes its history, plot and verdict files.
//!
//! Method: short runs (18 s each, three nodes) of the runner's library entry point, one per
//! workload × nemesis pair, with the seed from `REDRAFT_SEED` (or the clock; printed, so a
//! failing pair replays with `redraft-jepsen ... --seed N`). Each run starts its own proxied
//! cluster, applies the seeded fault windows, heals, converges and checks. A failing run keeps
//! its output directory (history, verdict, node logs) and names it.

use std::time::Duration;

use cluster_tests::jepsen::nemesis::parse_nemesis;
use cluster_tests::jepsen::workloads::Workload;
use cluster_tests::jepsen::{self, RunConfig, EXIT_VALID};
use cluster_tests::register::seed_from_env;

const TIME_LIMIT: Duration = Duration::from_secs(18);

#[track_caller]
fn run_pair(workload: Workload, nemesis: &str) {
    let faults = parse_nemesis(nemesis, 3).expect("a valid nemesis");
    let dir = tempfile::Builder::new().prefix("redraft-jepsen-").tempdir().expect("an output dir");
    let config = RunConfig {
        workload,
        nemesis_spec: nemesis.to_string(),
        faults,
        time_limit: TIME_LIMIT,
        seed: seed_from_env(),
        nodes: 3,
        out_dir: dir.path().to_path_buf(),
        quiet: false,
    };
    eprintln!("--- {}", config.replay_command());
    let report = jepsen::run(&config).expect("the outputs are written");
    let verdict = &report.verdict;
    let files_written = ["history.jsonl", "latency.svg", "verdict.json"]
        .iter()
        .all(|f| dir.path().join(f).metadata().is_ok_and(|m| m.len() > 0));
    let faults_applied = verdict["faults_applied"].as_array().map_or(0, Vec::len);
    if report.exit_code != EXIT_VALID || !files_written || faults_applied == 0 {
        let kept = dir.keep();
        panic!(
            "{} under {nemesis}: exit code {}, files written {files_written}, {faults_applied} faults applied; \
             outputs kept in {}; verdict:\n{verdict:#}",
            workload.name(),
            report.exit_code,
            kept.display()
        );
    }
    eprintln!("--- {} under {nemesis}: valid, counts {}", workload.name(), verdict["counts"]);
}

#[test]
fn register_stays_linearizable_under_kills() {
    run_pair(Workload::Register, "kills");
}

#[test]
fn register_stays_linearizable_under_pauses() {
    run_pair(Workload::Register, "pauses");
}

#[test]
fn register_stays_linearizable_under_partitions() {
    run_pair(Workload::Register, "partitions");
}

#[test]
fn register_stays_linearizable_under_leader_changes_and_slow_disks() {
    run_pair(Workload::Register, "leader-change,slow-disk");
}

#[test]
fn set_counter_loses_nothing_under_kills() {
    run_pair(Workload::SetCounter, "kills");
}

#[test]
fn set_counter_loses_nothing_under_partitions_and_pauses() {
    run_pair(Workload::SetCounter, "partitions,pauses");
}

#[test]
fn set_counter_loses_nothing_under_leader_changes_and_slow_disks() {
    run_pair(Workload::SetCounter, "leader-change,slow-disk");
}

#[test]
fn list_append_stays_strictly_serializable_under_kills_and_partitions() {
    run_pair(Workload::ListAppend, "kills,partitions");
}

#[test]
fn list_append_stays_strictly_serializable_under_pauses_leader_changes_and_slow_disks() {
    run_pair(Workload::ListAppend, "pauses,leader-change,slow-disk");
}
