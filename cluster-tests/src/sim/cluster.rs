//! The simulated cluster: nodes assembled from the real parts (RocksDB, the Raft log store, the
//! state machine running the node's executor, openraft, the node's request path) and connected
//! by the in-memory [`Router`], with crashes, restarts and network faults.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use openraft::{Config, ServerState, SnapshotPolicy};
use raft::{typ, NodeAddr, NodeId, Router};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use redraft::config::{Cli, Command};
use redraft::executor::NodeExecutor;
use redraft::node::Node;
use storage::log_store::RocksLogStore;
use storage::state_machine::{Executor, RocksStateMachine};
use storage::{Keyspace, ReadView};

use super::observer::Shared;
use super::spy::{registers_digest, ForgetfulExecutor, SpyLogStore, SpyStateMachine};
use super::{Faults, SimError};

/// How long a crashed node's storage may take to be released by the tasks that held it.
const RELEASE_TIMEOUT: Duration = Duration::from_secs(60);

/// The election timeout of each node incarnation is drawn from this range (milliseconds) and
/// then fixed: openraft would otherwise draw it from an unseeded thread-local RNG.
const ELECTION_TIMEOUT_MS: std::ops::Range<u64> = 300..600;

/// Every delivery waits at least this long, so that a write's round trip takes simulated time
/// and operations that follow one another are apart on the clock too.
const BASE_DELAY: Duration = Duration::from_millis(1);

/// The nodes that are up, as clients find them.
#[derive(Clone, Default)]
pub struct Directory(Arc<Mutex<BTreeMap<NodeId, Arc<Node>>>>);

impl Directory {
    fn nodes(&self) -> std::sync::MutexGuard<'_, BTreeMap<NodeId, Arc<Node>>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Node `id`, if it is up.
    pub fn get(&self, id: NodeId) -> Option<Arc<Node>> {
        self.nodes().get(&id).cloned()
    }

    /// The ids of the nodes that are up.
    pub fn up(&self) -> Vec<NodeId> {
        self.nodes().keys().copied().collect()
    }
}

/// Network conditions that outlive a heal of partitions.
#[derive(Debug, Clone, Copy, Default)]
pub struct Conditions {
    pub drop_rate: f64,
    pub jitter: Duration,
}

/// The address clients are redirected to for node `id`.
pub fn client_addr(id: NodeId) -> String {
    format!("sim-node-{id}:6379")
}

/// The node id in an address made by [`client_addr`].
pub fn node_of_addr(addr: &str) -> Option<NodeId> {
    addr.strip_prefix("sim-node-")?.split(':').next()?.parse().ok()
}

pub struct SimCluster {
    pub ids: Vec<NodeId>,
    pub directory: Directory,
    dir: PathBuf,
    router: Router,
    members: BTreeMap<NodeId, NodeAddr>,
    observer: Shared,
    faults: Faults,
    keys: Vec<String>,
    /// Election timeouts and RNG seeds for the router.
    rng: ChaCha8Rng,
    /// How many times each node has been started.
    starts: BTreeMap<NodeId, u32>,
    conditions: Conditions,
    /// Messages the router lost before its counter was last reset (by a heal).
    dropped_before: u64,
}

impl SimCluster {
    /// Starts `ids` with their storage under `dir` and initializes the group.
    pub async fn start(
        ids: &[NodeId],
        dir: &Path,
        keys: Vec<String>,
        faults: Faults,
        observer: Shared,
        seed: u64,
    ) -> Result<SimCluster, SimError> {
        let members = ids
            .iter()
            .map(|&id| (id, NodeAddr { raft_addr: format!("router-{id}"), client_addr: client_addr(id) }))
            .collect();
        let mut cluster = SimCluster {
            ids: ids.to_vec(),
            directory: Directory::default(),
            dir: dir.to_path_buf(),
            router: Router::new(),
            members,
            observer,
            faults,
            keys,
            rng: ChaCha8Rng::seed_from_u64(seed),
            starts: BTreeMap::new(),
            conditions: Conditions::default(),
            dropped_before: 0,
        };
        cluster.set_conditions(Conditions::default());
        for &id in ids {
            cluster.start_node(id).await?;
        }
        let first = cluster.directory.get(ids[0]).ok_or(SimError::Harness("first node not up".into()))?;
        first.raft.initialize(cluster.members.clone()).await.map_err(|e| SimError::Harness(e.to_string()))?;
        Ok(cluster)
    }

    fn node_dir(&self, id: NodeId) -> PathBuf {
        self.dir.join(format!("node-{id}"))
    }

    /// Opens node `id`'s storage (creating it on the first start) and starts its Raft.
    pub async fn start_node(&mut self, id: NodeId) -> Result<(), SimError> {
        let starts = self.starts.entry(id).or_default();
        *starts += 1;
        let restarted = *starts > 1;
        let node_dir = self.node_dir(id);
        let snapshot_dir = node_dir.join("snapshots");
        let db = storage::open_db(&node_dir.join("db"))?;
        let log_store = SpyLogStore::new(
            id,
            RocksLogStore::new_on_runtime(db.clone()),
            self.observer.clone(),
            restarted && self.faults.forget_vote_on_restart,
        );
        let node_executor = NodeExecutor { db_count: storage::DATABASES_DEFAULT };
        let executor: Arc<dyn Executor> = match self.faults.executor_drops_writes_on {
            Some(broken) if broken == id => {
                Arc::new(ForgetfulExecutor { inner: node_executor, every: 5, seen: Default::default() })
            }
            _ => Arc::new(node_executor),
        };
        let state_machine = RocksStateMachine::new(db.clone(), executor, snapshot_dir.clone())?;
        let state_machine =
            SpyStateMachine::new(id, state_machine, db.clone(), self.keys.clone(), self.observer.clone());
        let election_timeout_ms = self.rng.gen_range(ELECTION_TIMEOUT_MS);
        let config = Arc::new(sim_config(election_timeout_ms)?);
        let raft = typ::Raft::new(id, config, self.router.factory(id), log_store, state_machine)
            .await
            .map_err(|e| SimError::Harness(format!("starting node {id}: {e}")))?;
        self.router.add_node(id, raft.clone(), &snapshot_dir)?;
        let node = Node::new(server_args(id, &node_dir)?, db, raft, client_addr(id));
        self.directory.nodes().insert(id, node);
        let verb = if restarted { "restarted" } else { "started" };
        self.observer.event(format_args!("node {id} {verb}, election timeout {election_timeout_ms}ms"));
        Ok(())
    }

    /// Stops node `id` at once and waits until nothing holds its storage any more, so that it
    /// can be reopened: the in-memory equivalent of kill -9 (what RocksDB had not written is
    /// lost; what it wrote without syncing survives, as it would in the page cache).
    pub async fn crash(&mut self, id: NodeId) -> Result<(), SimError> {
        let removed = self.directory.nodes().remove(&id);
        let Some(node) = removed else { return Ok(()) };
        self.observer.event(format_args!("node {id} crashes"));
        self.router.remove_node(id);
        let raft = node.raft.clone();
        let db = Arc::downgrade(&node.db);
        drop(node);
        // Already stopped (a fatal error) is as good as stopped.
        let _ = raft.shutdown().await;
        drop(raft);
        let deadline = tokio::time::Instant::now() + RELEASE_TIMEOUT;
        while db.strong_count() > 0 {
            if tokio::time::Instant::now() > deadline {
                return Err(SimError::Harness(format!(
                    "node {id}'s storage still held {RELEASE_TIMEOUT:?} after it stopped"
                )));
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        Ok(())
    }

    /// The router with every partition removed and `conditions` in force.
    pub fn set_conditions(&mut self, conditions: Conditions) {
        self.conditions = conditions;
        self.dropped_before += self.router.dropped();
        self.router.heal();
        self.router.set_drop_rate(conditions.drop_rate, self.rng.gen());
        self.router.set_delay(Some(BASE_DELAY));
        self.router.set_delay_jitter(Some(conditions.jitter));
    }

    /// Removes partitions, keeping the drop rate and jitter.
    pub fn heal(&mut self) {
        self.set_conditions(self.conditions);
    }

    pub fn conditions(&self) -> Conditions {
        self.conditions
    }

    pub fn router(&self) -> &Router {
        &self.router
    }

    /// Requests and replies the router lost so far.
    pub fn dropped(&self) -> u64 {
        self.dropped_before + self.router.dropped()
    }

    /// Waits until every node is up, one leader is known to all, and every node has applied
    /// the leader's whole log. Returns that index.
    pub async fn converge(&self, timeout: Duration) -> Result<u64, String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(index) = self.converged() {
                return Ok(index);
            }
            if tokio::time::Instant::now() > deadline {
                let states: Vec<String> = self
                    .ids
                    .iter()
                    .map(|&id| match self.directory.get(id) {
                        Some(node) => {
                            let m = node.metrics();
                            format!(
                                "node {id}: {:?} term {} leader {:?} last log {:?} applied {:?}",
                                m.state, m.current_term, m.current_leader, m.last_log_index, m.last_applied
                            )
                        }
                        None => format!("node {id}: down"),
                    })
                    .collect();
                return Err(format!("no convergence within {timeout:?} after healing: {}", states.join("; ")));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn converged(&self) -> Option<u64> {
        let metrics: Vec<typ::RaftMetrics> =
            self.ids.iter().map(|&id| self.directory.get(id).map(|n| n.metrics())).collect::<Option<_>>()?;
        let leader = metrics.iter().find(|m| m.state == ServerState::Leader)?;
        let last = leader.last_log_index?;
        metrics
            .iter()
            .all(|m| m.current_leader == Some(leader.id) && m.last_applied.map(|l| l.index) == Some(last))
            .then_some(last)
    }

    /// Each node's applied index and register digest, read from its storage.
    pub fn register_states(&self) -> Result<Vec<(NodeId, u64, u64)>, SimError> {
        let mut states = Vec::new();
        for &id in &self.ids {
            let node = self.directory.get(id).ok_or_else(|| SimError::Harness(format!("node {id} is down")))?;
            let view = ReadView::new(&node.db, 0)?;
            states.push((id, view.index(), registers_digest(&view, &self.keys)?));
        }
        Ok(states)
    }

    /// Stops every node that is up.
    pub async fn shutdown(&mut self) {
        for id in self.directory.up() {
            let removed = self.directory.nodes().remove(&id);
            if let Some(node) = removed {
                self.router.remove_node(id);
                let _ = node.raft.shutdown().await;
            }
        }
    }
}

/// openraft's production configuration, with a fixed election timeout and no snapshots
/// (building and sending one uses blocking threads, whose timing the seed cannot fix).
fn sim_config(election_timeout_ms: u64) -> Result<Config, SimError> {
    let mut config = raft::raft_config("redraft-sim");
    config.election_timeout_min = election_timeout_ms;
    config.election_timeout_max = election_timeout_ms + 1;
    config.snapshot_policy = SnapshotPolicy::Never;
    config.validate().map_err(|e| SimError::Harness(format!("Raft configuration: {e}")))
}

/// How long a proposed write waits for its outcome before its client is told UNCERTAIN.
const WRITE_TIMEOUT_MS: &str = "2000";

/// The node's flags, parsed as `redraft server` would parse them.
fn server_args(id: NodeId, dir: &Path) -> Result<redraft::config::ServerArgs, SimError> {
    let id = id.to_string();
    let dir = dir.to_string_lossy().into_owned();
    let argv = ["redraft", "server", "--node-id", &id, "--dir", &dir, "--write-timeout-ms", WRITE_TIMEOUT_MS];
    match Cli::try_parse_from(argv).map_err(|e| SimError::Harness(e.to_string()))?.command {
        Command::Server(args) => Ok(args),
        other => Err(SimError::Harness(format!("parsed {other:?} instead of server flags"))),
    }
}
