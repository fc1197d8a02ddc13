//! One Redraft node: its RocksDB, its Raft instance and what the connections
//! share.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use raft::{typ, NodeAddr, NodeId};
use resp::Frame;
use storage::{CommandBatch, Request, RocksDb};

use crate::config::ServerArgs;
use crate::error::CommandError;
use crate::read_index::ReadIndexBatcher;

/// Counters reported by INFO stats.
#[derive(Default)]
pub struct Stats {
    pub connections_received: AtomicU64,
    pub commands_processed: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub keyspace_hits: AtomicU64,
    pub keyspace_misses: AtomicU64,
    pub proposals: AtomicU64,
    pub read_barriers: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
}

/// What CLIENT LIST/INFO shows about a connection.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub name: Option<String>,
    pub db: u16,
    pub resp: u8,
    pub connected_at: Instant,
    pub last_command_at: Instant,
    pub last_command: String,
    pub multi: i64,
    pub readonly: bool,
    pub lib_name: Option<String>,
    pub lib_ver: Option<String>,
}

/// State shared by every connection of this node.
pub struct Node {
    pub id: NodeId,
    pub args: ServerArgs,
    pub db: RocksDb,
    pub raft: typ::Raft,
    pub read_index: ReadIndexBatcher,
    pub stats: Stats,
    pub started_at: Instant,
    pub client_addr: String,
    pub run_id: String,
    pub clients: Mutex<BTreeMap<u64, ClientInfo>>,
    pub connected_clients: AtomicUsize,
    /// The client limit: `--maxclients`, changed by CONFIG SET maxclients.
    pub maxclients: AtomicUsize,
    /// CLIENT KILL requests and per-connection CLIENT modes.
    pub client_control: crate::session::client::ClientControl,
    next_client_id: AtomicU64,
    /// Largest time stamped on a proposal, so stamps never go backwards on
    /// this node even if the wall clock does.
    last_stamp_ms: AtomicU64,
}

/// Unix time in milliseconds from the wall clock.
pub fn wall_clock_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl Node {
    pub fn new(args: ServerArgs, db: RocksDb, raft: typ::Raft, client_addr: String) -> Arc<Self> {
        let run_id: String = {
            use rand::Rng;
            let mut rng = rand::thread_rng();
            (0..40).map(|_| std::char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0')).collect()
        };
        Arc::new(Node {
            id: args.node_id,
            maxclients: AtomicUsize::new(args.maxclients),
            client_control: Default::default(),
            read_index: ReadIndexBatcher::new(raft.clone()),
            args,
            db,
            raft,
            stats: Stats::default(),
            started_at: Instant::now(),
            client_addr,
            run_id,
            clients: Mutex::new(BTreeMap::new()),
            connected_clients: AtomicUsize::new(0),
            next_client_id: AtomicU64::new(1),
            last_stamp_ms: AtomicU64::new(0),
        })
    }

    pub fn next_client_id(&self) -> u64 {
        self.next_client_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The time to stamp on a proposal: the wall clock, but never less than
    /// a stamp this node already used.
    pub fn stamp_ms(&self) -> u64 {
        let now = wall_clock_ms();
        let previous = self.last_stamp_ms.fetch_max(now, Ordering::AcqRel);
        now.max(previous)
    }

    /// A snapshot of the state to serve reads from, judging expiry by this
    /// node's clock (or the latest applied leader time, if later).
    pub fn view(&self) -> Result<storage::ReadView<'_>, CommandError> {
        Ok(storage::ReadView::new(&self.db, wall_clock_ms())?)
    }

    pub fn metrics(&self) -> typ::RaftMetrics {
        self.raft.metrics().borrow().clone()
    }

    /// The current leader and its addresses, if one is known.
    pub fn leader(&self) -> Option<(NodeId, NodeAddr)> {
        let metrics = self.raft.metrics();
        let m = metrics.borrow();
        let leader = m.current_leader?;
        let node = m.membership_config.membership().get_node(&leader)?.clone();
        Some((leader, node))
    }

    pub fn is_leader(&self) -> bool {
        self.raft.metrics().borrow().current_leader == Some(self.id)
    }

    /// The voters and their addresses, in id order.
    pub fn voters(&self) -> Vec<(NodeId, NodeAddr)> {
        let metrics = self.raft.metrics();
        let m = metrics.borrow();
        let membership = m.membership_config.membership();
        let voter_ids: Vec<NodeId> = membership.voter_ids().collect();
        voter_ids.into_iter().filter_map(|id| membership.get_node(&id).map(|n| (id, n.clone()))).collect()
    }

    /// The error telling a client where the leader is, for a command that was
    /// never proposed here.
    pub fn redirect(&self, slot: u16) -> CommandError {
        match self.leader() {
            Some((id, node)) if id != self.id => CommandError::Moved { slot, addr: node.client_addr },
            Some(_) => CommandError::TryAgain("Leadership is changing, retry".into()),
            None => CommandError::ClusterDown("The cluster is down: no Raft leader is known".into()),
        }
    }

    fn forward_error(&self, forward: &typ::ForwardToLeader, slot: u16) -> CommandError {
        match (&forward.leader_id, &forward.leader_node) {
            (Some(id), Some(node)) if *id != self.id => CommandError::Moved { slot, addr: node.client_addr.clone() },
            (Some(_), _) => CommandError::TryAgain("Leadership is changing, retry".into()),
            _ => CommandError::ClusterDown("The cluster is down: no Raft leader is known".into()),
        }
    }

    /// Proposes a batch and waits until it is committed and applied here.
    ///
    /// # Errors
    /// MOVED/TRYAGAIN/CLUSTERDOWN when the entry was certainly not applied
    /// (never proposed, or truncated before commit); UNCERTAIN when it was
    /// proposed and its outcome could not be learnt in time.
    pub async fn propose(&self, batch: CommandBatch, slot: u16) -> Result<storage::Response, CommandError> {
        self.stats.proposals.fetch_add(1, Ordering::Relaxed);
        let deadline = Duration::from_millis(self.args.write_timeout_ms);
        let write = self.raft.client_write(Request::Commands(batch));
        match tokio::time::timeout(deadline, write).await {
            Ok(Ok(reply)) => Ok(reply.data),
            Ok(Err(openraft::error::RaftError::APIError(typ::ClientWriteError::ForwardToLeader(forward)))) => {
                // openraft answers ForwardToLeader only before proposing, or
                // when the proposed entry was truncated by a new leader: in
                // both cases the write did not and will not happen.
                Err(self.forward_error(&forward, slot))
            }
            Ok(Err(openraft::error::RaftError::APIError(other))) => {
                Err(CommandError::Uncertain(format!("the write may or may not have been applied: {other}")))
            }
            Ok(Err(openraft::error::RaftError::Fatal(fatal))) => {
                Err(CommandError::Uncertain(format!("the write may or may not have been applied: {fatal}")))
            }
            Err(_) => Err(CommandError::Uncertain(
                "the write may or may not have been applied: no outcome within the write timeout".into(),
            )),
        }
    }

    /// Waits until a read may be served linearizably from this node's state.
    ///
    /// # Errors
    /// MOVED/TRYAGAIN/CLUSTERDOWN when leadership cannot be confirmed.
    pub async fn read_barrier(&self, slot: u16) -> Result<(), CommandError> {
        self.stats.read_barriers.fetch_add(1, Ordering::Relaxed);
        let deadline = Duration::from_millis(self.args.write_timeout_ms);
        match tokio::time::timeout(deadline, self.read_index.barrier()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(openraft::error::RaftError::APIError(typ::CheckIsLeaderError::ForwardToLeader(forward)))) => {
                Err(self.forward_error(&forward, slot))
            }
            Ok(Err(openraft::error::RaftError::APIError(typ::CheckIsLeaderError::QuorumNotEnough(_)))) => {
                Err(CommandError::TryAgain("Leadership could not be confirmed by a quorum, retry".into()))
            }
            Ok(Err(openraft::error::RaftError::Fatal(fatal))) => {
                Err(CommandError::ClusterDown(format!("Raft has stopped on this node: {fatal}")))
            }
            Err(_) => Err(CommandError::TryAgain("Leadership could not be confirmed in time, retry".into())),
        }
    }

    /// Replies with a frame, counting it.
    pub fn count_command(&self) {
        self.stats.commands_processed.fetch_add(1, Ordering::Relaxed);
    }
}

/// A reply to a client: a frame, or bytes relayed verbatim from the leader.
pub enum Reply {
    Frame(Frame),
    Raw(bytes::Bytes),
}
