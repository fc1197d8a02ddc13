//! `redraft-jepsen`: a Jepsen-style test of a Redraft cluster in one command. See
//! `cluster_tests::jepsen` and the README section "Jepsen-style runs: redraft-jepsen".

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use cluster_tests::jepsen::nemesis::parse_nemesis;
use cluster_tests::jepsen::workloads::Workload;
use cluster_tests::jepsen::{self, RunConfig, EXIT_ERROR};
use cluster_tests::register::seed_from_env;

/// Runs a workload against a fresh local Redraft cluster while a nemesis injects faults, then
/// checks the history. Exit code 0: valid; 1: anomaly found; 2: no verdict (setup failure, the
/// cluster did not recover, too few successful operations, or the checker gave up).
#[derive(Debug, Parser)]
#[command(name = "redraft-jepsen", version)]
struct Cli {
    /// The workload: register (GET/SET/CAS, linearizability), set-counter (INCR/SADD, no lost
    /// or phantom writes) or list-append (MULTI/EXEC of RPUSH/LRANGE, strict serializability).
    #[arg(long, default_value = "register", value_parser = ["register", "set-counter", "list-append"])]
    workload: String,
    /// Faults: none, all, a group (kills, pauses, partitions, slow-disk) or a comma list of
    /// kill-one, kill-minority, kill-all, pause-one, pause-leader, partition-halves,
    /// partition-leader, partition-bridge (5 nodes), partition-one-way, leader-change,
    /// slow-disk-minority, slow-disk-all. Membership changes are not supported yet.
    #[arg(long, default_value = "all")]
    nemesis: String,
    /// Length of the run in seconds (faults stop a fifth of it before the end).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(10..=86_400))]
    time_limit: u64,
    /// Seed of every random choice (clients and schedule); default: $REDRAFT_SEED or the clock.
    #[arg(long)]
    seed: Option<u64>,
    /// Nodes in the cluster.
    #[arg(long, default_value = "3", value_parser = ["3", "5"])]
    nodes: String,
    /// Output directory; default target/jepsen/<workload>-<seed>.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print only the summary (the schedule and each fault are not printed).
    #[arg(long)]
    quiet: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let nodes: usize = cli.nodes.parse().expect("clap allows only 3 and 5");
    let Some(workload) = Workload::from_name(&cli.workload) else {
        eprintln!("redraft-jepsen: unknown workload {}", cli.workload);
        return ExitCode::from(EXIT_ERROR);
    };
    let faults = match parse_nemesis(&cli.nemesis, nodes) {
        Ok(faults) => faults,
        Err(e) => {
            eprintln!("redraft-jepsen: --nemesis {}: {e}", cli.nemesis);
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let seed = cli.seed.unwrap_or_else(seed_from_env);
    let out_dir =
        cli.out.unwrap_or_else(|| PathBuf::from("target").join("jepsen").join(format!("{}-{seed}", workload.name())));
    let config = RunConfig {
        workload,
        nemesis_spec: cli.nemesis,
        faults,
        time_limit: Duration::from_secs(cli.time_limit),
        seed,
        nodes,
        out_dir,
        quiet: cli.quiet,
    };
    match jepsen::run(&config) {
        Ok(report) => ExitCode::from(report.exit_code),
        Err(e) => {
            eprintln!("redraft-jepsen: writing the outputs to {}: {e}", config.out_dir.display());
            ExitCode::from(EXIT_ERROR)
        }
    }
}
