//! Goal: `redraft-maelstrom` (a real Redraft node speaking Maelstrom's protocol) passes the
//! lin-kv workload: linearizable reads, writes and compare-and-sets, without faults and under
//! partitions and message drops; and the driver's checker catches a node that serves stale
//! reads.
//!
//! Method: the in-repo driver plays Maelstrom: it starts the adapter processes, routes every
//! message between them with seeded faults, runs concurrent clients on a few keys and checks
//! the history with the WGL checker. Seeds are fixed, so the choices (operations, nodes,
//! partitions, drops) replay; timings do not, as the nodes are real processes. Each run is
//! about ten seconds of operations; runs take turns (`process::serial`).

use std::path::PathBuf;
use std::time::Duration;

use cluster_tests::linearizability::Verdict;
use cluster_tests::maelstrom::driver::faults::Nemesis;
use cluster_tests::maelstrom::driver::{self, DriverConfig, Report};
use cluster_tests::process::serial;

fn adapter() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_redraft-maelstrom"))
}

fn run(name: &str, config: &DriverConfig) -> Report {
    let _turn = serial();
    eprintln!("--- {name}: seed {}", config.seed);
    let report = driver::run(config).unwrap_or_else(|e| panic!("{name}: the driver failed: {e:#}"));
    eprintln!("{}", report.summary());
    report
}

#[track_caller]
fn assert_linearizable_with_progress(name: &str, report: &Report, ok_min: usize) {
    if let Verdict::NotLinearizable { .. } | Verdict::Unknown { .. } = report.verdict {
        panic!("{name}: {}", report.summary());
    }
    assert!(
        report.counts.ok() >= ok_min,
        "{name}: only {} operations succeeded\n{}",
        report.counts.ok(),
        report.summary()
    );
    for (kind, row) in [("read", report.counts.reads), ("write", report.counts.writes), ("cas", report.counts.cas)] {
        assert!(row[0] > 0, "{name}: no {kind} succeeded\n{}", report.summary());
    }
    assert_eq!(report.malformed, 0, "{name}: the adapters wrote lines that are not messages");
}

/// Three nodes, a healthy network with latency: everything linearizable, nearly all ok.
#[test]
fn three_nodes_without_faults_are_linearizable() {
    let mut config = DriverConfig::new(adapter(), 70_001);
    config.time_limit = Duration::from_secs(8);
    config.rate = 40.0;
    let report = run("three nodes, no faults", &config);
    assert_linearizable_with_progress("three nodes, no faults", &report, 150);
}

/// Three nodes while random minorities and the leader are cut off and healed.
#[test]
fn three_nodes_under_partitions_are_linearizable() {
    let mut config = DriverConfig::new(adapter(), 70_002);
    config.time_limit = Duration::from_secs(12);
    config.nemesis = Nemesis::Partition;
    config.rate = 40.0;
    let report = run("three nodes, partitions", &config);
    assert!(!report.faults.is_empty() && report.blocked > 0, "no partition happened\n{}", report.summary());
    assert_linearizable_with_progress("three nodes, partitions", &report, 60);
}

/// Five nodes under partitions, with 5% of the messages between nodes lost as well.
#[test]
fn five_nodes_under_partitions_and_drops_are_linearizable() {
    let mut config = DriverConfig::new(adapter(), 70_003);
    config.node_count = 5;
    config.time_limit = Duration::from_secs(12);
    config.nemesis = Nemesis::Partition;
    config.drop_rate = 0.05;
    config.rate = 40.0;
    let report = run("five nodes, partitions and drops", &config);
    assert!(report.blocked > 0 && report.dropped > 0, "faults did not fire\n{}", report.summary());
    assert_linearizable_with_progress("five nodes, partitions and drops", &report, 60);
}

/// The checker is not a rubber stamp: nodes that serve reads from local state without
/// ReadIndex (`--unsafe-stale-reads`), with one node cut off while the others keep writing,
/// return values that were already overwritten, and the run is flagged.
#[test]
fn stale_reads_from_an_isolated_node_are_flagged() {
    let mut config = DriverConfig::new(adapter(), 70_004);
    config.adapter_args.push("--unsafe-stale-reads".into());
    config.time_limit = Duration::from_secs(8);
    config.nemesis = Nemesis::IsolateLast;
    config.rate = 40.0;
    let report = run("stale reads", &config);
    assert!(
        matches!(report.verdict, Verdict::NotLinearizable { .. }),
        "stale reads were not caught\n{}",
        report.summary()
    );
}
