//! Deterministic simulation of Redraft's Raft group and state machine.
//!
//! One seed fixes a whole run: several nodes in one process, each built from the real parts
//! (RocksDB in a temporary directory, the Raft log store, the state machine running the node's
//! command executor, openraft, and the node's request path from `dispatch` down), connected by
//! the in-memory router from the `raft` crate. Clients send GET, SET and compare-and-set to
//! them; a nemesis crashes and restarts nodes (the Raft instance is dropped and reopened on the
//! same RocksDB directory, so the durability of vote, log and applied state is exercised),
//! partitions the network, isolates nodes, blocks links one way, and changes the drop rate and
//! the delivery jitter. Then everything heals and the run checks:
//!
//! - the Raft and state machine invariants of [`invariants`], checked at every persisted vote,
//!   appended entry and applied batch: votes never go backwards (restarts included), every
//!   leader was granted by a majority, one log id carries one payload (log matching), every
//!   node applies the same entry at each index (committed prefixes agree), and nodes that
//!   applied up to the same index hold the same data;
//! - that the cluster converges once healed (one leader, every node applied the whole log,
//!   identical registers);
//! - that the clients' history is linearizable, with [`crate::linearizability`].
//!
//! # Determinism
//!
//! A run is a tokio current-thread runtime with its clock paused: time advances only when every
//! task waits, straight to the next timer, so a run takes simulated seconds but real
//! milliseconds, and what runs when depends only on the order of events. Every choice (the
//! nemesis, the clients, message drops and delays, election timeouts) comes from ChaCha RNGs
//! seeded by the run's seed; openraft's own election timeout draw is defeated by a fixed timeout
//! per node incarnation; the Raft log writer runs as a task on the runtime
//! ([`storage::log_store::RocksLogStore::new_on_runtime`]) rather than on a thread whose timing
//! the seed cannot fix; snapshots are off because building and installing one uses blocking
//! threads. The run's events form a trace whose hash is its fingerprint: the same seed gives the
//! same fingerprint (a test checks it), so a failing seed replays exactly, with
//! `REDRAFT_SIM_SEED=<seed> REDRAFT_SIM_TRACE=1` printing the trace. (Entries still carry the
//! node's wall-clock stamp and a random seed for commands that need them; registers use
//! neither, and the trace leaves payloads out.)
//!
//! # Election safety in openraft 0.9
//!
//! Without its `single-term-leader` feature, openraft identifies a leader by (term, node id)
//! and orders votes by that pair, so two nodes may both become leader in one term (the higher
//! node id's election then takes the votes the lower one needed). This is by design: "at most
//! one leader per term" holds as "at most one leader per leader id", which the majority check
//! of every election covers; what users care about, that committed entries never diverge and
//! that clients see a linearizable history, is checked directly.
//!
//! # Layout
//! - this file: [`SimOptions`], [`run_seed`], [`run_seeds`], the nemesis and the report.
//! - [`cluster`]: [`cluster::SimCluster`], nodes built from the real parts, crash and restart.
//! - [`spy`]: storage wrappers that report to the checker, and broken parts for its tests.
//! - [`invariants`]: the checker.
//! - [`observer`]: the trace, its fingerprint, the simulated-time stamps.
//! - [`workload`]: the clients.

pub mod cluster;
pub mod invariants;
pub mod observer;
pub mod spy;
pub mod workload;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use raft::NodeId;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::linearizability::{self, Operation, Outcome, Verdict};
use cluster::{Conditions, SimCluster};
use invariants::Invariants;
use observer::{Observer, Shared};
use workload::{run_client, ClientEnv, ClientPlan};

/// Number of seeds to run (`REDRAFT_SIM_SEEDS`).
pub const SEEDS_ENV: &str = "REDRAFT_SIM_SEEDS";
/// First seed of the range (`REDRAFT_SIM_FIRST_SEED`).
pub const FIRST_SEED_ENV: &str = "REDRAFT_SIM_FIRST_SEED";
/// Run this one seed only (`REDRAFT_SIM_SEED`), to replay a failure.
pub const SEED_ENV: &str = "REDRAFT_SIM_SEED";
/// Print the trace of each run as it happens (`REDRAFT_SIM_TRACE=1`).
pub const TRACE_ENV: &str = "REDRAFT_SIM_TRACE";
/// Worker threads running seeds side by side (`REDRAFT_SIM_THREADS`).
pub const THREADS_ENV: &str = "REDRAFT_SIM_THREADS";
/// Print every seed's summary line, not only the failures' (`REDRAFT_SIM_VERBOSE=1`).
pub const VERBOSE_ENV: &str = "REDRAFT_SIM_VERBOSE";
/// Where the runs' RocksDB directories go (`REDRAFT_SIM_DIR`; default `/dev/shm` if present).
pub const DIR_ENV: &str = "REDRAFT_SIM_DIR";

/// How long the healed cluster may take to converge, in simulated time.
const CONVERGE_TIMEOUT: Duration = Duration::from_secs(30);

/// Parts broken on purpose, for the tests that prove the checks fire.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// This node's state machine acknowledges every fifth batch without executing it.
    pub executor_drops_writes_on: Option<NodeId>,
    /// Reads go to any node with READONLY, served without a ReadIndex barrier.
    pub stale_follower_reads: bool,
    /// A restarted node's log store loads no vote.
    pub forget_vote_on_restart: bool,
}

/// One run.
#[derive(Debug, Clone, Default)]
pub struct SimOptions {
    pub seed: u64,
    /// Print the trace to stderr as it happens.
    pub trace: bool,
    pub faults: Faults,
}

/// Why a run could not be completed (as opposed to a violation found by a completed run).
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("storage: {0}")]
    Storage(#[from] storage::StorageError),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("harness: {0}")]
    Harness(String),
    #[error("panicked: {0}")]
    Panicked(String),
}

/// Faults the nemesis injected.
#[derive(Debug, Clone, Copy, Default)]
pub struct FaultCounts {
    pub crashes: u64,
    pub restarts: u64,
    pub partitions: u64,
    pub isolations: u64,
    pub one_way_blocks: u64,
    pub condition_changes: u64,
}

/// What one run did and found.
#[derive(Debug, Clone)]
pub struct SimReport {
    pub seed: u64,
    pub nodes: usize,
    pub fingerprint: u64,
    pub history: Vec<Operation>,
    pub faults: FaultCounts,
    pub elections: u64,
    pub dropped_messages: u64,
    /// Simulated time the run covered.
    pub simulated: Duration,
    /// The linearizability verdict (`Unknown`: the search ran out of budget, no verdict).
    pub verdict: Verdict,
    pub violations: Vec<String>,
    pub trace: Vec<String>,
}

impl SimReport {
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    /// Operations with a known outcome, a failed one and an unknown one.
    pub fn outcomes(&self) -> (usize, usize, usize) {
        let count = |f: fn(&Outcome) -> bool| self.history.iter().filter(|op| f(&op.outcome)).count();
        (count(|o| matches!(o, Outcome::Ok(_))), count(|o| *o == Outcome::Fail), count(|o| *o == Outcome::Unknown))
    }

    /// One line about the run.
    pub fn summary(&self) -> String {
        let (ok, failed, unknown) = self.outcomes();
        let f = self.faults;
        format!(
            "seed {}: {} nodes, {:.1}s simulated, {} ops ({ok} ok, {failed} failed, {unknown} unknown), \
             {} elections, {} crashes, {} restarts, {} partitions, {} isolations, {} one-way blocks, \
             {} drops, fingerprint {:016x}: {}",
            self.seed,
            self.nodes,
            self.simulated.as_secs_f64(),
            self.history.len(),
            self.elections,
            f.crashes,
            f.restarts,
            f.partitions,
            f.isolations,
            f.one_way_blocks,
            self.dropped_messages,
            self.fingerprint,
            if self.passed() { "ok".to_string() } else { format!("FAILED: {}", self.violations.join("; ")) }
        )
    }
}

/// The command that replays `seed` with its trace printed.
pub fn replay_command(seed: u64) -> String {
    format!(
        "{SEED_ENV}={seed} {TRACE_ENV}=1 cargo test --release -p cluster-tests --test t30_simulation \
         random_seeds -- --nocapture"
    )
}

/// Where runs put their RocksDB directories: `REDRAFT_SIM_DIR`, else `/dev/shm` (a tmpfs, where
/// an fsync costs nothing), else the system's temporary directory.
pub fn base_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(DIR_ENV) {
        return PathBuf::from(dir);
    }
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        return shm.to_path_buf();
    }
    std::env::temp_dir()
}

/// Runs one seed on a fresh paused-clock runtime, in a fresh directory.
///
/// # Errors
/// When the run could not be completed (storage, a stuck node); violations are in the report.
pub fn run_seed(options: &SimOptions) -> Result<SimReport, SimError> {
    let dir = tempfile::Builder::new().prefix("redraft-sim-").tempdir_in(base_dir())?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build()?;
    let result = runtime.block_on(simulate(options, dir.path()));
    // Dropping the runtime drops every task still holding a node, closing its RocksDB before
    // the directory goes.
    drop(runtime);
    drop(dir);
    result
}

/// Runs `count` seeds from `first` on `threads` threads. Returns each seed's outcome, in seed
/// order; a panic in a run is caught and reported as that seed's error.
pub fn run_seeds(first: u64, count: u64, threads: usize, faults: &Faults) -> Vec<(u64, Result<SimReport, SimError>)> {
    let next = AtomicU64::new(0);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let seed = first + i;
                let options = SimOptions { seed, trace: false, faults: faults.clone() };
                let outcome = std::panic::catch_unwind(|| run_seed(&options)).unwrap_or_else(|panic| {
                    let message = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    Err(SimError::Panicked(message))
                });
                results.lock().unwrap_or_else(|p| p.into_inner()).push((seed, outcome));
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    results.sort_by_key(|(seed, _)| *seed);
    results
}

async fn simulate(options: &SimOptions, dir: &Path) -> Result<SimReport, SimError> {
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let node_count: u64 = if rng.gen_bool(0.25) { 5 } else { 3 };
    let ids: Vec<NodeId> = (1..=node_count).collect();
    let keys: Vec<String> = (0..rng.gen_range(1..=3)).map(|i| format!("r{i}")).collect();
    let observer = Shared::new(Observer::new(Invariants::new(&ids), options.trace));
    observer.event(format_args!("seed {}: nodes {ids:?}, keys {keys:?}, {:?}", options.seed, options.faults));
    let mut cluster =
        SimCluster::start(&ids, dir, keys.clone(), options.faults.clone(), observer.clone(), rng.gen()).await?;

    let env = ClientEnv {
        ids: ids.clone(),
        directory: cluster.directory.clone(),
        observer: observer.clone(),
        history: Arc::new(Mutex::new(Vec::new())),
        stop: Arc::new(AtomicBool::new(false)),
    };
    let clients: Vec<_> = (0..rng.gen_range(2..=5))
        .map(|client| {
            let plan = ClientPlan {
                client,
                seed: rng.gen(),
                keys: keys.clone(),
                think_ms: 0..rng.gen_range(10..60),
                stale_reads: options.faults.stale_follower_reads,
            };
            tokio::spawn(run_client(plan, env.clone()))
        })
        .collect();

    let run_for = Duration::from_millis(rng.gen_range(3_000..8_000));
    let faults = nemesis(&mut cluster, &mut rng, run_for, &observer).await?;

    observer.event("--- heal: network restored, crashed nodes restarted");
    cluster.set_conditions(Conditions::default());
    for id in ids.clone() {
        if cluster.directory.get(id).is_none() {
            cluster.start_node(id).await?;
        }
    }
    // Clients keep going for a while on the healed cluster: reads there must see every write
    // acknowledged before.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    env.stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.map_err(|e| SimError::Panicked(format!("a client task: {e}")))?;
    }

    match cluster.converge(CONVERGE_TIMEOUT).await {
        Ok(index) => {
            let states: Vec<String> = cluster
                .register_states()?
                .iter()
                .map(|(id, applied, registers)| format!("node {id} applied {applied} registers {registers:016x}"))
                .collect();
            observer.event(format_args!("converged at index {index}: {}", states.join(", ")));
            let agree = |s: &String| s.split_once(" applied").map(|(_, rest)| rest.to_string());
            if states.iter().any(|s| agree(s) != agree(&states[0])) {
                observer.check(Err(format!("converged nodes disagree: {}", states.join(", "))));
            }
        }
        Err(stuck) => observer.check(Err(stuck)),
    }
    let dropped_messages = cluster.dropped();
    cluster.shutdown().await;

    let history = std::mem::take(&mut *env.history.lock().unwrap_or_else(|p| p.into_inner()));
    let verdict = linearizability::check(&history);
    let mut observer = observer.lock();
    match &verdict {
        Verdict::NotLinearizable { key, explanation } => {
            observer.check(Err(format!("the history of {key} is not linearizable: {explanation}")));
        }
        Verdict::Unknown { key, steps } => {
            observer.event(format_args!("linearizability of {key}: no verdict after {steps} steps"));
        }
        Verdict::Linearizable => observer.event("history linearizable"),
    }
    Ok(SimReport {
        seed: options.seed,
        nodes: ids.len(),
        fingerprint: observer.fingerprint(),
        history,
        faults,
        elections: observer.invariants.elections(),
        dropped_messages,
        simulated: observer.elapsed(),
        verdict,
        violations: observer.violations.clone(),
        trace: observer.lines().to_vec(),
    })
}

/// Injects random faults for `run_for` of simulated time.
async fn nemesis(
    cluster: &mut SimCluster,
    rng: &mut ChaCha8Rng,
    run_for: Duration,
    observer: &Shared,
) -> Result<FaultCounts, SimError> {
    let start = tokio::time::Instant::now();
    let mut counts = FaultCounts::default();
    let ids = cluster.ids.clone();
    while start.elapsed() < run_for {
        tokio::time::sleep(Duration::from_millis(rng.gen_range(50..800))).await;
        let up = cluster.directory.up();
        let down: Vec<NodeId> = ids.iter().copied().filter(|id| !up.contains(id)).collect();
        // Crashing below a majority is rarer, so that most of the run has a leader to lose.
        let majority = ids.len() / 2 + 1;
        match rng.gen_range(0..10) {
            0 | 1 if !up.is_empty() && (up.len() > majority || rng.gen_bool(0.25)) => {
                // Half the time the leader, the most interesting node to lose.
                let leader = up.iter().find_map(|&id| cluster.directory.get(id).filter(|n| n.is_leader()).map(|_| id));
                let victim = match leader {
                    Some(leader) if rng.gen_bool(0.5) => leader,
                    _ => up[rng.gen_range(0..up.len())],
                };
                cluster.crash(victim).await?;
                counts.crashes += 1;
            }
            2 | 3 | 9 if !down.is_empty() => {
                cluster.start_node(down[rng.gen_range(0..down.len())]).await?;
                counts.restarts += 1;
            }
            4 => {
                let mut shuffled = ids.clone();
                shuffled.shuffle(rng);
                let (left, right) = shuffled.split_at(rng.gen_range(1..ids.len()));
                observer.event(format_args!("partition {left:?} | {right:?}"));
                cluster.router().partition(left, right);
                counts.partitions += 1;
            }
            5 => {
                let id = ids[rng.gen_range(0..ids.len())];
                observer.event(format_args!("isolate node {id}"));
                cluster.router().isolate(id);
                counts.isolations += 1;
            }
            6 => {
                let from = ids[rng.gen_range(0..ids.len())];
                let to = ids[rng.gen_range(0..ids.len())];
                if from != to {
                    observer.event(format_args!("block {from} -> {to}"));
                    cluster.router().block(from, to);
                    counts.one_way_blocks += 1;
                }
            }
            7 => {
                observer.event("heal partitions");
                cluster.heal();
            }
            8 => {
                let drop_rate = [0.0, 0.02, 0.1, 0.3][rng.gen_range(0..4)];
                let jitter = Duration::from_millis([0, 2, 10, 50][rng.gen_range(0..4)]);
                observer.event(format_args!("network: drop rate {drop_rate}, jitter {jitter:?} (partitions healed)"));
                cluster.set_conditions(Conditions { drop_rate, jitter });
                counts.condition_changes += 1;
            }
            _ => {}
        }
    }
    Ok(counts)
}

/// `name` from the environment as a number, or `default`.
///
/// # Panics
/// When it is set but not a number: a typo must not silently run the default.
pub fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => text.trim().parse().unwrap_or_else(|e| panic!("{name}={text:?} is not a number: {e}")),
        Err(_) => default,
    }
}

/// Measures a batch of runs: wall time and seeds per minute, for the summary.
pub struct Stopwatch(Instant);

impl Stopwatch {
    pub fn start() -> Stopwatch {
        Stopwatch(Instant::now())
    }

    /// Elapsed wall time and the rate for `seeds` seeds.
    pub fn rate(&self, seeds: u64) -> (Duration, f64) {
        let elapsed = self.0.elapsed();
        (elapsed, seeds as f64 * 60.0 / elapsed.as_secs_f64().max(1e-9))
    }
}
