//! An in-memory network for in-process tests, with fault filters.
//!
//! A [`Router`] maps node ids to their [`typ::Raft`] handles and delivers an
//! RPC by calling the target's `append_entries`, `vote` or
//! `install_full_snapshot` directly: no sockets, no serialization, and the
//! same openraft behaviour as over gRPC. Faults are injected TiKV-style,
//! by filters checked on every RPC:
//!
//! - [`Router::partition`], [`Router::isolate`], [`Router::block`]: the
//!   RPC fails with `Unreachable`, as a refused connection would;
//! - [`Router::set_drop_rate`]: the request or the reply is lost with a
//!   probability drawn from a seeded ChaCha RNG, so a failing run replays
//!   from its seed (the order RPCs reach the RNG follows tokio's schedule);
//! - [`Router::set_delay`]: every delivery waits first;
//! - [`Router::set_delay_jitter`]: and waits a further random time, drawn
//!   from the same seeded RNG, so deliveries overtake one another;
//! - [`Router::add_filter`]: any other rule, as a [`Filter`].
//!
//! [`Router::heal`] removes them all.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use openraft::error::{
    Fatal, NetworkError, RPCError, RaftError, RemoteError, ReplicationClosed, StreamingError, Unreachable,
};
use openraft::network::RPCOption;
use openraft::{OptionalSend, RPCTypes, RaftNetwork, RaftNetworkFactory};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{typ, NodeAddr, NodeId, SnapshotFile, TypeConfig};

/// One RPC as the filters see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope {
    pub from: NodeId,
    pub to: NodeId,
    pub rpc: RPCTypes,
}

/// A custom fault rule. Returning `true` makes the RPC fail as unreachable.
pub trait Filter: Send + 'static {
    fn blocks(&mut self, envelope: &Envelope) -> bool;
}

/// Why an RPC was not delivered.
#[derive(Debug, thiserror::Error)]
enum Undelivered {
    #[error("node {0} is not in the router")]
    UnknownNode(NodeId),
    #[error("{from} -> {to} is blocked by a filter")]
    Blocked { from: NodeId, to: NodeId },
    #[error("{from} -> {to}: the request was dropped")]
    RequestDropped { from: NodeId, to: NodeId },
    #[error("{from} -> {to}: the reply was dropped")]
    ReplyDropped { from: NodeId, to: NodeId },
    #[error("copying the snapshot for node {to}: {source}")]
    SnapshotCopy {
        to: NodeId,
        #[source]
        source: std::io::Error,
    },
}

struct RoutedNode {
    raft: typ::Raft,
    /// Where snapshots sent to this node are copied before it installs them,
    /// as a real receiver would write the streamed file.
    snapshot_dir: PathBuf,
}

#[derive(Default)]
struct Filters {
    /// One-way blocks: RPCs initiated by `.0` towards `.1`.
    blocked: BTreeSet<(NodeId, NodeId)>,
    /// Nodes cut off from everyone, including nodes added later.
    isolated: BTreeSet<NodeId>,
    /// Probability that a request, and separately its reply, is lost.
    drop_rate: f64,
    rng: Option<ChaCha8Rng>,
    delay: Option<Duration>,
    /// Upper bound of a uniformly drawn extra delay per delivery.
    jitter: Option<Duration>,
    custom: Vec<Box<dyn Filter>>,
    /// Requests and replies lost so far: lets a test check its faults fired.
    dropped: u64,
}

impl Filters {
    fn blocks(&mut self, envelope: &Envelope) -> bool {
        self.isolated.contains(&envelope.from)
            || self.isolated.contains(&envelope.to)
            || self.blocked.contains(&(envelope.from, envelope.to))
            || self.custom.iter_mut().any(|f| f.blocks(envelope))
    }

    fn draw_drop(&mut self) -> bool {
        let drop = match &mut self.rng {
            Some(rng) if self.drop_rate > 0.0 => rng.gen_bool(self.drop_rate),
            _ => false,
        };
        self.dropped += u64::from(drop);
        drop
    }

    /// The fixed delay plus a jitter drawn from the RNG (none without one).
    fn draw_delay(&mut self) -> Option<Duration> {
        let jitter = match (&mut self.rng, self.jitter) {
            (Some(rng), Some(jitter)) if !jitter.is_zero() => Some(rng.gen_range(Duration::ZERO..=jitter)),
            _ => None,
        };
        match (self.delay, jitter) {
            (Some(delay), Some(jitter)) => Some(delay + jitter),
            (delay, jitter) => delay.or(jitter),
        }
    }
}

#[derive(Default)]
struct RouterState {
    nodes: BTreeMap<NodeId, RoutedNode>,
    filters: Filters,
}

/// The shared in-memory network. Cloning shares it.
#[derive(Clone, Default)]
pub struct Router {
    state: Arc<Mutex<RouterState>>,
}

impl Router {
    pub fn new() -> Self {
        Router::default()
    }

    fn state(&self) -> MutexGuard<'_, RouterState> {
        // No code holding the lock can panic except on a bug in a custom
        // filter; the state stays meaningful, so carry on.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The network factory for node `id`'s Raft.
    pub fn factory(&self, id: NodeId) -> RouterNetworkFactory {
        RouterNetworkFactory { id, router: self.clone() }
    }

    /// Makes node `id` reachable. `snapshot_dir` is where snapshots sent to
    /// it are copied (created if missing).
    ///
    /// # Errors
    /// Creating `snapshot_dir`.
    pub fn add_node(&self, id: NodeId, raft: typ::Raft, snapshot_dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(snapshot_dir)?;
        self.state().nodes.insert(id, RoutedNode { raft, snapshot_dir: snapshot_dir.to_path_buf() });
        Ok(())
    }

    /// Makes node `id` unreachable, as if it crashed. Returns its Raft.
    pub fn remove_node(&self, id: NodeId) -> Option<typ::Raft> {
        self.state().nodes.remove(&id).map(|n| n.raft)
    }

    /// Blocks every RPC between a node of `left` and a node of `right`, both ways.
    pub fn partition(&self, left: &[NodeId], right: &[NodeId]) {
        let mut state = self.state();
        for &l in left {
            for &r in right {
                state.filters.blocked.insert((l, r));
                state.filters.blocked.insert((r, l));
            }
        }
    }

    /// Cuts node `id` off from every other node, both ways.
    pub fn isolate(&self, id: NodeId) {
        self.state().filters.isolated.insert(id);
    }

    /// Blocks RPCs initiated by `from` towards `to` (the whole exchange:
    /// request and reply). RPCs from `to` to `from` still pass.
    pub fn block(&self, from: NodeId, to: NodeId) {
        self.state().filters.blocked.insert((from, to));
    }

    /// Loses each request, and each reply, with probability `p`, deciding
    /// with a ChaCha RNG seeded by `seed`. Lost messages fail with
    /// `RPCError::Network`; a lost reply means the target did act on it.
    ///
    /// # Panics
    /// If `p` is not within `0.0..=1.0`: a test bug.
    pub fn set_drop_rate(&self, p: f64, seed: u64) {
        assert!((0.0..=1.0).contains(&p), "drop rate {p} is not a probability");
        tracing::info!(p, seed, "router drop rate");
        let mut state = self.state();
        state.filters.drop_rate = p;
        state.filters.rng = Some(ChaCha8Rng::seed_from_u64(seed));
    }

    /// Delays every delivery by `delay` (`None`: deliver at once).
    pub fn set_delay(&self, delay: Option<Duration>) {
        self.state().filters.delay = delay;
    }

    /// Delays every delivery by a further random time up to `jitter`, drawn
    /// from the RNG [`Router::set_drop_rate`] seeds (a drop rate of 0 seeds
    /// it without losing anything); without that RNG there is no jitter.
    pub fn set_delay_jitter(&self, jitter: Option<Duration>) {
        self.state().filters.jitter = jitter;
    }

    /// Adds a custom filter, kept until [`Router::heal`].
    pub fn add_filter(&self, filter: Box<dyn Filter>) {
        self.state().filters.custom.push(filter);
    }

    /// How many requests and replies the drop rate has lost since the last
    /// [`Router::heal`].
    pub fn dropped(&self) -> u64 {
        self.state().filters.dropped
    }

    /// Removes every filter: partitions, isolation, blocks, drops, delay,
    /// jitter and custom filters.
    pub fn heal(&self) {
        self.state().filters = Filters::default();
    }

    /// Applies the filters to `envelope`: the target's Raft and snapshot
    /// dir if the request is delivered, the delay to wait first, and whether
    /// the reply will be lost.
    fn route(&self, envelope: &Envelope) -> Result<Route, Undelivered> {
        let mut state = self.state();
        let (from, to) = (envelope.from, envelope.to);
        if state.filters.blocks(envelope) {
            return Err(Undelivered::Blocked { from, to });
        }
        let node = state.nodes.get(&to).ok_or(Undelivered::UnknownNode(to))?;
        let (raft, snapshot_dir) = (node.raft.clone(), node.snapshot_dir.clone());
        if state.filters.draw_drop() {
            return Err(Undelivered::RequestDropped { from, to });
        }
        let drop_reply = state.filters.draw_drop();
        let delay = state.filters.draw_delay();
        Ok(Route { raft, snapshot_dir, delay, drop_reply })
    }
}

struct Route {
    raft: typ::Raft,
    snapshot_dir: PathBuf,
    delay: Option<Duration>,
    drop_reply: bool,
}

impl Undelivered {
    fn into_rpc_error(self) -> RPCError<NodeId, NodeAddr, RaftError<NodeId>> {
        match self {
            Undelivered::RequestDropped { .. } | Undelivered::ReplyDropped { .. } => {
                RPCError::Network(NetworkError::new(&self))
            }
            _ => RPCError::Unreachable(Unreachable::new(&self)),
        }
    }

    fn into_streaming_error(self) -> StreamingError<TypeConfig, Fatal<NodeId>> {
        match self {
            Undelivered::RequestDropped { .. } | Undelivered::ReplyDropped { .. } => {
                StreamingError::Network(NetworkError::new(&self))
            }
            _ => StreamingError::Unreachable(Unreachable::new(&self)),
        }
    }
}

/// openraft's network factory over a [`Router`].
#[derive(Clone)]
pub struct RouterNetworkFactory {
    id: NodeId,
    router: Router,
}

impl RaftNetworkFactory<TypeConfig> for RouterNetworkFactory {
    type Network = RouterNetwork;

    async fn new_client(&mut self, target: NodeId, node: &NodeAddr) -> RouterNetwork {
        RouterNetwork { id: self.id, target, target_node: node.clone(), router: self.router.clone() }
    }
}

/// One node's client towards one peer over the router.
pub struct RouterNetwork {
    id: NodeId,
    target: NodeId,
    target_node: NodeAddr,
    router: Router,
}

impl RouterNetwork {
    fn envelope(&self, rpc: RPCTypes) -> Envelope {
        Envelope { from: self.id, to: self.target, rpc }
    }

    /// Routes an RPC: filters, delay, delivery through `deliver`, reply loss.
    async fn deliver<T, E, F, Fut>(&self, rpc: RPCTypes, deliver: F) -> Result<Result<T, E>, Undelivered>
    where
        F: FnOnce(Route) -> Fut,
        Fut: Future<Output = Result<Result<T, E>, Undelivered>>,
    {
        let route = self.router.route(&self.envelope(rpc))?;
        if let Some(delay) = route.delay {
            tokio::time::sleep(delay).await;
        }
        let drop_reply = route.drop_reply;
        let result = deliver(route).await?;
        if drop_reply {
            return Err(Undelivered::ReplyDropped { from: self.id, to: self.target });
        }
        Ok(result)
    }

    fn remote<E: std::error::Error>(&self, source: E) -> RemoteError<NodeId, NodeAddr, E> {
        RemoteError::new_with_node(self.target, self.target_node.clone(), source)
    }
}

/// Names the copies of snapshots delivered through the router.
static SNAPSHOT_COPY_SEQUENCE: AtomicU64 = AtomicU64::new(0);

impl RaftNetwork<TypeConfig> for RouterNetwork {
    async fn append_entries(
        &mut self,
        rpc: typ::AppendEntriesRequest,
        _option: RPCOption,
    ) -> Result<typ::AppendEntriesResponse, RPCError<NodeId, NodeAddr, RaftError<NodeId>>> {
        let result = self
            .deliver(RPCTypes::AppendEntries, |route| async move { Ok(route.raft.append_entries(rpc).await) })
            .await
            .map_err(Undelivered::into_rpc_error)?;
        result.map_err(|e| RPCError::RemoteError(self.remote(e)))
    }

    async fn vote(
        &mut self,
        rpc: typ::VoteRequest,
        _option: RPCOption,
    ) -> Result<typ::VoteResponse, RPCError<NodeId, NodeAddr, RaftError<NodeId>>> {
        let result = self
            .deliver(RPCTypes::Vote, |route| async move { Ok(route.raft.vote(rpc).await) })
            .await
            .map_err(Undelivered::into_rpc_error)?;
        result.map_err(|e| RPCError::RemoteError(self.remote(e)))
    }

    async fn full_snapshot(
        &mut self,
        vote: typ::Vote,
        snapshot: typ::Snapshot,
        cancel: impl Future<Output = ReplicationClosed> + OptionalSend + 'static,
        _option: RPCOption,
    ) -> Result<typ::SnapshotResponse, StreamingError<TypeConfig, Fatal<NodeId>>> {
        let target = self.target;
        let install = self.deliver(RPCTypes::InstallSnapshot, |route| async move {
            // The receiver gets its own file, as over the wire: the sender's
            // may be pruned while the receiver still installs it.
            let sequence = SNAPSHOT_COPY_SEQUENCE.fetch_add(1, Ordering::Relaxed);
            let copy = route.snapshot_dir.join(format!("routed-{sequence}.part"));
            let copied = tokio::fs::copy(&snapshot.snapshot.path, &copy).await;
            if let Err(source) = copied {
                // Best effort: a partial copy is just a stray `.part` file.
                let _ = tokio::fs::remove_file(&copy).await;
                return Err(Undelivered::SnapshotCopy { to: target, source });
            }
            let received =
                typ::Snapshot { meta: snapshot.meta, snapshot: Box::new(SnapshotFile { path: copy.clone() }) };
            let result = route.raft.install_full_snapshot(vote, received).await;
            // Installed (the state machine keeps its own copy) or refused.
            if let Err(e) = tokio::fs::remove_file(&copy).await {
                tracing::debug!(path = %copy.display(), error = %e, "routed snapshot copy not removed");
            }
            Ok(result)
        });
        let result = tokio::select! {
            closed = cancel => return Err(StreamingError::Closed(closed)),
            result = install => result.map_err(Undelivered::into_streaming_error)?,
        };
        result.map_err(|fatal| StreamingError::RemoteError(self.remote(fatal)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(from: NodeId, to: NodeId) -> Envelope {
        Envelope { from, to, rpc: RPCTypes::AppendEntries }
    }

    /// The router has no nodes here, so an RPC that passes the filters
    /// fails as `UnknownNode` and a filtered one as `Blocked`.
    fn blocked(router: &Router, from: NodeId, to: NodeId) -> bool {
        matches!(router.route(&envelope(from, to)), Err(Undelivered::Blocked { .. }))
    }

    #[test]
    fn block_is_one_way_partition_and_isolate_are_both_ways_and_heal_clears_all() {
        let router = Router::new();
        router.block(1, 2);
        assert!(blocked(&router, 1, 2));
        assert!(!blocked(&router, 2, 1));

        router.partition(&[3], &[4, 5]);
        assert!(blocked(&router, 3, 4) && blocked(&router, 5, 3));
        assert!(!blocked(&router, 4, 5));

        router.isolate(6);
        assert!(blocked(&router, 6, 1) && blocked(&router, 7, 6), "isolation covers nodes never named");

        router.heal();
        for (from, to) in [(1, 2), (3, 4), (5, 3), (6, 1), (7, 6)] {
            assert!(!blocked(&router, from, to), "{from} -> {to} still blocked after heal");
        }
    }

    #[test]
    fn drops_replay_from_the_seed() {
        let draws = |seed: u64| -> Vec<bool> {
            let mut filters =
                Filters { drop_rate: 0.3, rng: Some(ChaCha8Rng::seed_from_u64(seed)), ..Filters::default() };
            (0..64).map(|_| filters.draw_drop()).collect()
        };
        assert_eq!(draws(42), draws(42));
        assert_ne!(draws(42), draws(43));
        assert!(draws(42).contains(&true) && draws(42).contains(&false));
    }

    #[test]
    fn jitter_is_drawn_within_its_bound_and_replays_from_the_seed() {
        let draws = |seed: u64| -> Vec<Option<Duration>> {
            let mut filters = Filters {
                rng: Some(ChaCha8Rng::seed_from_u64(seed)),
                delay: Some(Duration::from_millis(1)),
                jitter: Some(Duration::from_millis(10)),
                ..Filters::default()
            };
            (0..64).map(|_| filters.draw_delay()).collect()
        };
        let delays = draws(7);
        assert_eq!(delays, draws(7));
        assert!(delays
            .iter()
            .all(|d| d.is_some_and(|d| d >= Duration::from_millis(1) && d <= Duration::from_millis(11))));
        assert!(delays.iter().collect::<BTreeSet<_>>().len() > 1, "the jitter varies");
        let mut unseeded = Filters { jitter: Some(Duration::from_millis(10)), ..Filters::default() };
        assert_eq!(unseeded.draw_delay(), None, "no RNG, no jitter");
    }

    #[test]
    fn custom_filters_see_each_envelope() {
        struct VotesOnly;
        impl Filter for VotesOnly {
            fn blocks(&mut self, envelope: &Envelope) -> bool {
                envelope.rpc != RPCTypes::Vote
            }
        }
        let router = Router::new();
        router.add_filter(Box::new(VotesOnly));
        assert!(blocked(&router, 1, 2));
        let vote = Envelope { from: 1, to: 2, rpc: RPCTypes::Vote };
        assert!(matches!(router.route(&vote), Err(Undelivered::UnknownNode(2))));
    }
}
