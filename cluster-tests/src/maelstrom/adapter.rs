//! The adapter node: one Redraft node (RocksDB log store and state machine, the node crate's
//! executor, openraft) whose Raft messages and clients are on the Maelstrom network.
//!
//! # Lifecycle
//! `init` names this node and every node; node ids map to Raft ids by their position in
//! `node_ids` (which every node receives identically), starting at 1. The node opens its
//! RocksDB under `--data-dir/<node_id>` (a temporary directory without the flag) and starts
//! Raft; the node with Raft id 1 initializes the membership with every node unless it already
//! has Raft state (a restart after Maelstrom's `kill` nemesis rejoins with its data).
//!
//! # Client requests
//! The leader serves them: writes and CAS are proposed as one Raft entry each and answered once
//! committed and applied; reads wait for a ReadIndex barrier (leadership confirmed by a quorum
//! after the read arrived, everything committed before it applied) and read the state machine.
//! A follower forwards the request to the leader it knows and relays the answer; the leader
//! never forwards again, so a stale leader hint cannot make a loop. Errors are definite (11)
//! when the request certainly had no effect (no leader, not the leader, a read) and indefinite
//! (0) when a proposal's outcome is unknown.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use openraft::error::RaftError;
use raft::codec::SnapshotHeader;
use raft::{typ, NodeAddr, NodeId, SnapshotFile, TypeConfig};
use rand::SeedableRng;
use resp::Frame;
use storage::log_store::RocksLogStore;
use storage::state_machine::RocksStateMachine;
use storage::{CommandBatch, Request, RocksDb};
use tokio::sync::OnceCell;

use super::kv::{self, KvOp, WriteKind};
use super::protocol::{code, Message, Payload, RaftRpc};
use super::transport::{decode_b64, encode_b64, CallError, MaelstromNetworkFactory, Transport};
use redraft::read_index::ReadIndexBatcher;

/// The adapter's settings (the binary's flags).
#[derive(Debug, Clone)]
pub struct AdapterConfig {
    /// Where each node keeps its data, in `<dir>/<node_id>`; `None`: a temporary directory.
    pub data_dir: Option<PathBuf>,
    /// Serve reads from local state on any node, without ReadIndex: a deliberately broken mode
    /// that the driver's checker must catch.
    pub unsafe_stale_reads: bool,
    pub heartbeat_ms: u64,
    pub election_timeout_min_ms: u64,
    pub election_timeout_max_ms: u64,
    /// How long a proposal or read barrier may take before the client is answered.
    pub request_timeout_ms: u64,
    /// Build a snapshot every this many entries and purge the log up to it, so a follower
    /// that falls behind is sent a snapshot (`None`: production policy, about never in a test).
    pub snapshot_every_logs: Option<u64>,
}

impl Default for AdapterConfig {
    fn default() -> Self {
        // Longer than production: Maelstrom's network is a JSON pipe through another process,
        // on a machine shared by every node of the test.
        AdapterConfig {
            data_dir: None,
            unsafe_stale_reads: false,
            heartbeat_ms: 150,
            election_timeout_min_ms: 600,
            election_timeout_max_ms: 1200,
            request_timeout_ms: 1500,
            snapshot_every_logs: None,
        }
    }
}

/// A node after `init`.
struct Running {
    id: NodeId,
    names: BTreeMap<NodeId, String>,
    raft: typ::Raft,
    db: RocksDb,
    read_index: ReadIndexBatcher,
    incoming_dir: PathBuf,
    /// Keeps the temporary data directory alive as long as the node.
    _temp_dir: Option<tempfile::TempDir>,
}

/// One adapter node.
pub struct Adapter {
    config: AdapterConfig,
    transport: Arc<Transport>,
    running: OnceCell<Arc<Running>>,
    /// Largest time stamped on a proposal, so stamps never go backwards.
    last_stamp_ms: AtomicU64,
    /// Seeds of proposals: any distinct number will do, apply only needs it recorded.
    next_seed: AtomicU64,
    incoming_seq: AtomicU64,
}

impl Adapter {
    pub fn new(config: AdapterConfig, transport: Arc<Transport>) -> Arc<Adapter> {
        Arc::new(Adapter {
            config,
            transport,
            running: OnceCell::new(),
            last_stamp_ms: AtomicU64::new(0),
            next_seed: AtomicU64::new(1),
            incoming_seq: AtomicU64::new(0),
        })
    }

    /// Handles one incoming message; long work runs on spawned tasks so the input loop never
    /// waits on Raft.
    pub fn handle(self: &Arc<Self>, message: Message) {
        if let Some(in_reply_to) = message.body.in_reply_to {
            if !matches!(message.body.payload, Payload::Init { .. }) && !message.body.payload.is_client_request() {
                if !self.transport.complete(in_reply_to, message.body.payload) {
                    tracing::debug!(src = %message.src, in_reply_to, "reply to no waiting request");
                }
                return;
            }
        }
        let this = self.clone();
        tokio::spawn(async move {
            let reply = match &message.body.payload {
                Payload::Init { node_id, node_ids } => match this.init(node_id, node_ids).await {
                    Ok(_) => Some(Payload::InitOk),
                    Err(e) => {
                        tracing::error!(error = %e, "init failed");
                        Some(Payload::error(code::CRASH, format!("init failed: {e}")))
                    }
                },
                Payload::Raft { rpc, data, file } => Some(this.serve_raft(*rpc, data, file.as_deref()).await),
                Payload::Forward { request } => {
                    Some(Payload::ForwardOk { reply: Box::new(this.serve_here(request).await) })
                }
                request if request.is_client_request() => Some(this.serve_client(request).await),
                other => {
                    tracing::debug!(src = %message.src, ?other, "ignored message");
                    None
                }
            };
            if let Some(reply) = reply {
                this.transport.reply(&message, reply);
            }
        });
    }

    /// Stops Raft, so its tasks release the storage before the data directory is removed.
    pub async fn shutdown(&self) {
        if let Some(running) = self.running.get() {
            if let Err(e) = running.raft.shutdown().await {
                tracing::warn!(error = %e, "raft shutdown");
            }
        }
    }

    async fn init(&self, node_id: &str, node_ids: &[String]) -> anyhow::Result<Arc<Running>> {
        let running = self.running.get_or_try_init(|| self.start(node_id, node_ids)).await?;
        Ok(running.clone())
    }

    async fn start(&self, node_id: &str, node_ids: &[String]) -> anyhow::Result<Arc<Running>> {
        let position = node_ids
            .iter()
            .position(|n| n == node_id)
            .ok_or_else(|| anyhow::anyhow!("node_id {node_id:?} is not in node_ids {node_ids:?}"))?;
        let id = position as NodeId + 1;
        let names: BTreeMap<NodeId, String> =
            node_ids.iter().enumerate().map(|(i, name)| (i as NodeId + 1, name.clone())).collect();
        self.transport.set_me(node_id);

        let (dir, temp_dir) = match &self.config.data_dir {
            Some(root) => (root.join(node_id), None),
            None => {
                let temp = tempfile::Builder::new().prefix("redraft-maelstrom-").tempdir()?;
                (temp.path().join(node_id), Some(temp))
            }
        };
        tracing::info!(node_id, raft_id = id, dir = %dir.display(), "starting");
        let db = storage::open_db(&dir)?;
        let log_store = RocksLogStore::<TypeConfig>::new(db.clone());
        let executor = Arc::new(redraft::executor::NodeExecutor { db_count: storage::DATABASES_DEFAULT });
        let state_machine = RocksStateMachine::<TypeConfig>::new(db.clone(), executor, dir.join("snapshots"))?;
        let incoming_dir = dir.join("snapshots-incoming");
        std::fs::create_dir_all(&incoming_dir)?;
        let mut config = raft::raft_config("redraft-maelstrom");
        config.heartbeat_interval = self.config.heartbeat_ms;
        config.election_timeout_min = self.config.election_timeout_min_ms;
        config.election_timeout_max = self.config.election_timeout_max_ms;
        if let Some(logs) = self.config.snapshot_every_logs {
            config.snapshot_policy = openraft::SnapshotPolicy::LogsSinceLast(logs);
            config.max_in_snapshot_log_to_keep = 0;
            config.purge_batch_size = 1;
            config.replication_lag_threshold = logs.saturating_mul(2);
        }
        let config = Arc::new(config.validate()?);
        let network = MaelstromNetworkFactory::new(id, self.transport.clone());
        let raft = typ::Raft::new(id, config, network, log_store, state_machine).await?;

        if id == 1 && !raft.is_initialized().await? {
            let members: BTreeMap<NodeId, NodeAddr> = names
                .iter()
                .map(|(&id, name)| (id, NodeAddr { raft_addr: name.clone(), client_addr: name.clone() }))
                .collect();
            if let Err(e) = raft.initialize(members).await {
                tracing::info!(error = %e, "membership not initialized (already is)");
            }
        }
        let read_index = ReadIndexBatcher::new(raft.clone());
        Ok(Arc::new(Running { id, names, raft, db, read_index, incoming_dir, _temp_dir: temp_dir }))
    }

    async fn serve_raft(&self, rpc: RaftRpc, data: &str, file: Option<&str>) -> Payload {
        let Some(running) = self.running.get() else {
            return Payload::error(code::TEMPORARILY_UNAVAILABLE, "not initialized");
        };
        let encoded = match rpc {
            RaftRpc::AppendEntries => match decode_b64::<typ::AppendEntriesRequest>(data) {
                Ok(request) => encode_b64(&running.raft.append_entries(request).await),
                Err(e) => return Payload::error(code::MALFORMED_REQUEST, e.to_string()),
            },
            RaftRpc::Vote => match decode_b64::<typ::VoteRequest>(data) {
                Ok(request) => encode_b64(&running.raft.vote(request).await),
                Err(e) => return Payload::error(code::MALFORMED_REQUEST, e.to_string()),
            },
            RaftRpc::Snapshot => match self.install_snapshot(running, data, file).await {
                Ok(result) => encode_b64(&result),
                Err(e) => return Payload::error(code::MALFORMED_REQUEST, e),
            },
        };
        match encoded {
            Ok(data) => Payload::RaftOk { data },
            Err(e) => Payload::error(code::CRASH, format!("encoding the raft reply: {e}")),
        }
    }

    async fn install_snapshot(
        &self,
        running: &Running,
        data: &str,
        file: Option<&str>,
    ) -> Result<Result<typ::SnapshotResponse, openraft::error::Fatal<NodeId>>, String> {
        use base64::Engine;
        let header: SnapshotHeader = decode_b64(data).map_err(|e| e.to_string())?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(file.ok_or("a snapshot without its file")?)
            .map_err(|e| e.to_string())?;
        if bytes.len() as u64 != header.file_bytes {
            return Err(format!("snapshot file of {} bytes, announced {}", bytes.len(), header.file_bytes));
        }
        let sequence = self.incoming_seq.fetch_add(1, Ordering::Relaxed);
        let path = running.incoming_dir.join(format!("maelstrom-{sequence}.part"));
        tokio::fs::write(&path, &bytes).await.map_err(|e| e.to_string())?;
        let snapshot = typ::Snapshot { meta: header.meta, snapshot: Box::new(SnapshotFile { path: path.clone() }) };
        let result = running.raft.install_full_snapshot(header.vote, snapshot).await;
        // Installed (the state machine keeps its own copy) or refused: the staged file can go.
        if let Err(e) = tokio::fs::remove_file(&path).await {
            tracing::debug!(path = %path.display(), error = %e, "staged snapshot not removed");
        }
        Ok(result)
    }

    /// A client request arriving at this node: served here on the leader (or anywhere, for
    /// unsafe stale reads), forwarded to the leader otherwise.
    async fn serve_client(&self, request: &Payload) -> Payload {
        let Some(running) = self.running.get() else {
            return Payload::error(code::TEMPORARILY_UNAVAILABLE, "not initialized");
        };
        if self.config.unsafe_stale_reads && matches!(request, Payload::Read { .. }) {
            return self.serve_here(request).await;
        }
        let leader = running.raft.metrics().borrow().current_leader;
        let Some(leader) = leader else {
            return Payload::error(code::TEMPORARILY_UNAVAILABLE, "no leader is known");
        };
        if leader == running.id {
            return self.serve_here(request).await;
        }
        let Some(leader_name) = running.names.get(&leader) else {
            return Payload::error(code::TEMPORARILY_UNAVAILABLE, format!("the leader {leader} has no name"));
        };
        // Longer than the leader's own deadline, so its answer (even a timeout) comes back first.
        let timeout = Duration::from_millis(self.config.request_timeout_ms * 2);
        let forward = Payload::Forward { request: Box::new(request.clone()) };
        match self.transport.call(leader_name, forward, timeout).await {
            Ok(Payload::ForwardOk { reply }) => *reply,
            Ok(Payload::Error { code, text }) if code::is_definite(code) => Payload::Error { code, text },
            Ok(other) => self.lost(request, &format!("unexpected reply from the leader: {other:?}")),
            Err(CallError::Timeout { dest, .. }) => self.lost(request, &format!("no answer from the leader {dest}")),
            Err(CallError::Closed) => self.lost(request, "the node's output is closed"),
        }
    }

    /// The answer when a request's fate is unknown: definite for reads (they change nothing),
    /// indefinite for writes.
    fn lost(&self, request: &Payload, why: &str) -> Payload {
        match request {
            Payload::Read { .. } => Payload::error(code::TEMPORARILY_UNAVAILABLE, why),
            _ => Payload::error(code::TIMEOUT, why),
        }
    }

    /// Serves a client request on this node, never forwarding.
    async fn serve_here(&self, request: &Payload) -> Payload {
        let Some(running) = self.running.get() else {
            return Payload::error(code::TEMPORARILY_UNAVAILABLE, "not initialized");
        };
        match kv::to_op(request) {
            Some(KvOp::Read(args)) => self.read(running, &args).await,
            Some(KvOp::Write { commands, kind }) => self.write(running, commands, &kind).await,
            None => Payload::error(code::NOT_SUPPORTED, "not a lin-kv request"),
        }
    }

    async fn read(&self, running: &Running, args: &[Bytes]) -> Payload {
        if !self.config.unsafe_stale_reads {
            let deadline = Duration::from_millis(self.config.request_timeout_ms);
            match tokio::time::timeout(deadline, running.read_index.barrier()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    return Payload::error(code::TEMPORARILY_UNAVAILABLE, format!("leadership not confirmed: {e}"))
                }
                Err(_) => return Payload::error(code::TEMPORARILY_UNAVAILABLE, "leadership not confirmed in time"),
            }
        }
        let mut view = match storage::ReadView::new(&running.db, redraft::node::wall_clock_ms()) {
            Ok(view) => view,
            Err(e) => return Payload::error(code::CRASH, format!("reading the state machine: {e}")),
        };
        let mut db = 0;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let frame =
            redraft::executor::run_command(&mut view, &mut db, storage::DATABASES_DEFAULT, false, &mut rng, args);
        kv::read_reply(&frame)
    }

    async fn write(&self, running: &Running, commands: Vec<Vec<Bytes>>, kind: &WriteKind) -> Payload {
        let now_ms = redraft::node::wall_clock_ms();
        let stamp_ms = now_ms.max(self.last_stamp_ms.fetch_max(now_ms, Ordering::AcqRel));
        let batch = CommandBatch {
            db: 0,
            now_ms: stamp_ms,
            seed: self.next_seed.fetch_add(1, Ordering::Relaxed),
            resp3: false,
            commands,
            transaction: None,
        };
        let deadline = Duration::from_millis(self.config.request_timeout_ms);
        match tokio::time::timeout(deadline, running.raft.client_write(Request::Commands(batch))).await {
            Ok(Ok(reply)) => kv::write_reply(kind, &reply.data.frame.unwrap_or(Frame::Null)),
            // Refused before proposing, or the entry was truncated by a new leader: not applied.
            Ok(Err(RaftError::APIError(typ::ClientWriteError::ForwardToLeader(_)))) => {
                Payload::error(code::TEMPORARILY_UNAVAILABLE, "not the leader")
            }
            Ok(Err(e)) => Payload::error(code::TIMEOUT, format!("the write may or may not have happened: {e}")),
            Err(_) => Payload::error(code::TIMEOUT, "the write may or may not have happened: no outcome in time"),
        }
    }
}
