//! `redraft-maelstrom-driver`: plays Maelstrom's part for the lin-kv workload here, where
//! Maelstrom cannot be downloaded. Starts `redraft-maelstrom` processes, routes their messages
//! with seeded faults, runs clients, checks linearizability.
//!
//! ```text
//! redraft-maelstrom-driver --node-count 5 --time-limit 20 --nemesis partition --drop-rate 0.05 --seed 7
//! ```
//! Exit status: 0 linearizable, 1 not linearizable, 2 no verdict (search budget), 3 the run
//! itself failed.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use cluster_tests::linearizability::Verdict;
use cluster_tests::maelstrom::driver::faults::Nemesis;
use cluster_tests::maelstrom::driver::{self, DriverConfig};

#[derive(Debug, Parser)]
#[command(name = "redraft-maelstrom-driver", about = "Runs Maelstrom's lin-kv test against redraft-maelstrom, here")]
struct Args {
    /// The adapter binary (default: `redraft-maelstrom` next to this program).
    #[arg(long)]
    bin: Option<PathBuf>,
    #[arg(long, default_value_t = 3)]
    node_count: usize,
    /// Seconds of client operations.
    #[arg(long, default_value_t = 10.0)]
    time_limit: f64,
    #[arg(long, value_enum, default_value_t = Nemesis::None)]
    nemesis: Nemesis,
    /// Seed of every choice (default: from the clock, printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Operations per second, all clients together.
    #[arg(long, default_value_t = 50.0)]
    rate: f64,
    #[arg(long, default_value_t = 5)]
    concurrency: usize,
    #[arg(long, default_value_t = 3)]
    keys: usize,
    /// Probability that a message between two nodes is lost.
    #[arg(long, default_value_t = 0.0)]
    drop_rate: f64,
    /// Every message is delayed by a random 0..=this many milliseconds.
    #[arg(long, default_value_t = 5)]
    latency_ms_max: u64,
    /// Where node logs go (default: a temporary directory; kept only when a run fails).
    #[arg(long)]
    log_dir: Option<PathBuf>,
    /// Passed to every adapter: serve reads without ReadIndex (to see the checker catch it).
    #[arg(long)]
    unsafe_stale_reads: bool,
    /// Print every operation of the history.
    #[arg(long)]
    print_history: bool,
}

fn default_adapter() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    exe.parent().map(|dir| dir.join("redraft-maelstrom")).unwrap_or_else(|| PathBuf::from("redraft-maelstrom"))
}

fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,cluster_tests=info")),
        )
        .init();
    let args = Args::parse();
    let seed = args.seed.unwrap_or_else(cluster_tests::register::seed_from_env);
    let mut config = DriverConfig::new(args.bin.unwrap_or_else(default_adapter), seed);
    config.node_count = args.node_count;
    config.time_limit = Duration::from_secs_f64(args.time_limit.max(0.0));
    config.nemesis = args.nemesis;
    config.rate = args.rate;
    config.clients = args.concurrency;
    config.keys = args.keys;
    config.drop_rate = args.drop_rate;
    config.latency_ms_max = args.latency_ms_max;
    config.log_dir = args.log_dir;
    if args.unsafe_stale_reads {
        config.adapter_args.push("--unsafe-stale-reads".into());
    }
    eprintln!("redraft-maelstrom-driver: seed {seed} (replay with --seed {seed})");
    let report = match driver::run(&config) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("the run failed: {e:#}");
            std::process::exit(3);
        }
    };
    if args.print_history {
        for op in &report.history {
            println!("{op}");
        }
    }
    println!("{}", report.summary());
    std::process::exit(match report.verdict {
        Verdict::Linearizable => 0,
        Verdict::NotLinearizable { .. } => 1,
        Verdict::Unknown { .. } => 2,
    });
}
