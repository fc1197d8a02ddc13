//! The sending side: openraft's network factory over tonic.
//!
//! One lazily connected [`Channel`] per peer, shared by every client
//! openraft creates for that peer (it creates one per replication stream and
//! per election), so a node holds one HTTP/2 connection per peer however
//! often openraft asks. Every RPC carries a deadline, and every failure is
//! classified the way openraft acts on it:
//!
//! - `Unreachable`: openraft backs off before retrying (peer down, refusing,
//!   or answering something we cannot read);
//! - `Timeout`: the deadline passed;
//! - `Network`: a transient failure openraft may retry at once;
//! - `RemoteError`: the peer's Raft answered with an error.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use futures::StreamExt;
use openraft::error::{
    Fatal, NetworkError, PayloadTooLarge, RPCError, RaftError, RemoteError, ReplicationClosed, StreamingError, Timeout,
    Unreachable,
};
use openraft::network::RPCOption;
use openraft::{OptionalSend, RPCTypes, RaftNetwork, RaftNetworkFactory};
use tokio::io::AsyncReadExt;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};

use crate::codec::{SnapshotHeader, GRPC_MESSAGE_BYTES_MAX, SNAPSHOT_CHUNK_BYTES};
use crate::error::TransportError;
use crate::proto::raft_service_client::RaftServiceClient;
use crate::proto::{RaftReply, RaftRequest, SnapshotChunk};
use crate::{typ, NodeAddr, NodeId, TypeConfig};

/// How long establishing a TCP connection to a peer may take. Separate from
/// the RPC deadline because a lazy channel connects in the background: a
/// slow DNS answer or SYN must not stall later RPCs for long either.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// HTTP/2 pings on the peer connection, also while idle, so a dead peer is
/// noticed (and the connection re-established) before the next election
/// needs it rather than after a TCP timeout of minutes.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(5);

/// The slowest transfer rate a snapshot may progress at: its deadline is
/// openraft's `install_snapshot_timeout` plus its size at this rate, so a
/// large snapshot on a slow link is not cut off by a fixed deadline, and a
/// stalled one is still abandoned.
pub const SNAPSHOT_BYTES_PER_SEC_MIN: u64 = 4 << 20;

type RpcResult<T> = Result<T, RPCError<NodeId, NodeAddr, RaftError<NodeId>>>;
type SnapshotResult = Result<typ::SnapshotResponse, StreamingError<TypeConfig, Fatal<NodeId>>>;

/// A peer's channel and the address it was built for.
struct PeerChannel {
    raft_addr: String,
    channel: Result<Channel, Arc<TransportError>>,
}

/// openraft's network factory over tonic gRPC.
///
/// Cloning shares the channel cache.
#[derive(Clone)]
pub struct TonicNetworkFactory {
    /// This node: openraft's `Timeout` error names the sender.
    id: NodeId,
    channels: Arc<Mutex<HashMap<NodeId, PeerChannel>>>,
}

impl TonicNetworkFactory {
    pub fn new(id: NodeId) -> Self {
        TonicNetworkFactory { id, channels: Arc::default() }
    }

    /// The cached channel to `target`, built on first use and rebuilt when
    /// the peer's address changes (a membership change moved it).
    fn channel(&self, target: NodeId, node: &NodeAddr) -> Result<Channel, Arc<TransportError>> {
        // The map is only touched without awaiting, so a poisoned lock can
        // only mean a panic in `HashMap` itself; the data is still usable.
        let mut channels = self.channels.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(peer) = channels.get(&target) {
            if peer.raft_addr == node.raft_addr {
                return peer.channel.clone();
            }
        }
        let channel = connect_lazy(&node.raft_addr).map_err(Arc::new);
        if let Err(e) = &channel {
            tracing::warn!(target, addr = %node.raft_addr, error = %e, "bad peer address");
        }
        channels.insert(target, PeerChannel { raft_addr: node.raft_addr.clone(), channel: channel.clone() });
        channel
    }
}

/// A channel that connects on first use and reconnects after failures.
///
/// `raft_addr` is `host:port` and may be a DNS name (a Kubernetes service),
/// so it is handed to tonic as a URI, not parsed as a socket address; it is
/// resolved again on every reconnect, following a pod that moved.
fn connect_lazy(raft_addr: &str) -> Result<Channel, TransportError> {
    let endpoint = Endpoint::from_shared(format!("http://{raft_addr}"))
        .map_err(|source| TransportError::InvalidAddress { addr: raft_addr.to_string(), source })?
        .tcp_nodelay(true)
        .connect_timeout(CONNECT_TIMEOUT)
        .http2_keep_alive_interval(KEEPALIVE_INTERVAL)
        .keep_alive_timeout(KEEPALIVE_TIMEOUT)
        .keep_alive_while_idle(true);
    Ok(endpoint.connect_lazy())
}

impl RaftNetworkFactory<TypeConfig> for TonicNetworkFactory {
    type Network = TonicNetwork;

    async fn new_client(&mut self, target: NodeId, node: &NodeAddr) -> TonicNetwork {
        let client = self.channel(target, node).map(|channel| {
            RaftServiceClient::new(channel)
                .max_decoding_message_size(GRPC_MESSAGE_BYTES_MAX)
                .max_encoding_message_size(GRPC_MESSAGE_BYTES_MAX)
        });
        TonicNetwork { id: self.id, target, target_node: node.clone(), client }
    }
}

/// How a failed call should be reported to openraft.
enum Failure {
    Unreachable(Unreachable),
    Timeout(Duration),
    Network(NetworkError),
}

impl Failure {
    fn unreachable(e: &(impl std::error::Error + 'static)) -> Self {
        Failure::Unreachable(Unreachable::new(e))
    }

    fn from_status(status: &Status, deadline: Duration) -> Self {
        match status.code() {
            // Connection refused or reset, DNS failure, server shutting down.
            Code::Unavailable => Failure::unreachable(status),
            Code::DeadlineExceeded | Code::Cancelled => Failure::Timeout(deadline),
            // The peer refuses what we send (another wire version, a message
            // over its limit) or does not serve Raft at all: sending the same
            // bytes again at once would be refused again, so back off.
            Code::InvalidArgument
            | Code::Unimplemented
            | Code::FailedPrecondition
            | Code::ResourceExhausted
            | Code::OutOfRange => Failure::unreachable(status),
            _ => Failure::Network(NetworkError::new(status)),
        }
    }
}

/// The unary RPCs.
#[derive(Clone, Copy)]
enum Unary {
    AppendEntries,
    Vote,
}

/// openraft's client for one peer.
pub struct TonicNetwork {
    id: NodeId,
    target: NodeId,
    target_node: NodeAddr,
    /// An error if the peer's address is not a valid URI: every RPC then
    /// fails as unreachable until the membership gives a better one.
    client: Result<RaftServiceClient<Channel>, Arc<TransportError>>,
}

impl TonicNetwork {
    fn client(&self) -> Result<RaftServiceClient<Channel>, Failure> {
        // Cloning a tonic client clones a handle to the shared channel.
        self.client.clone().map_err(|e| Failure::unreachable(&*e))
    }

    fn timeout(&self, action: RPCTypes, deadline: Duration) -> Timeout<NodeId> {
        Timeout { action, id: self.id, target: self.target, timeout: deadline }
    }

    fn rpc_error(&self, failure: Failure, action: RPCTypes) -> RPCError<NodeId, NodeAddr, RaftError<NodeId>> {
        match failure {
            Failure::Unreachable(e) => RPCError::Unreachable(e),
            Failure::Timeout(deadline) => RPCError::Timeout(self.timeout(action, deadline)),
            Failure::Network(e) => RPCError::Network(e),
        }
    }

    fn streaming_error(&self, failure: Failure) -> StreamingError<TypeConfig, Fatal<NodeId>> {
        match failure {
            Failure::Unreachable(e) => StreamingError::Unreachable(e),
            Failure::Timeout(deadline) => StreamingError::Timeout(self.timeout(RPCTypes::InstallSnapshot, deadline)),
            Failure::Network(e) => StreamingError::Network(e),
        }
    }

    /// Sends a unary RPC with `deadline` and decodes the remote Raft's result.
    async fn call<T>(&self, rpc: Unary, frame: RaftRequest, deadline: Duration) -> Result<T, Failure>
    where
        T: TryFrom<RaftReply, Error = TransportError>,
    {
        let mut client = self.client()?;
        let mut request = tonic::Request::new(frame);
        // Sent as `grpc-timeout`, so the server drops work nobody awaits.
        request.set_timeout(deadline);
        let call = async move {
            match rpc {
                Unary::AppendEntries => client.append_entries(request).await,
                Unary::Vote => client.vote(request).await,
            }
        };
        let reply = match tokio::time::timeout(deadline, call).await {
            Err(_elapsed) => return Err(Failure::Timeout(deadline)),
            Ok(Err(status)) => return Err(Failure::from_status(&status, deadline)),
            Ok(Ok(reply)) => reply.into_inner(),
        };
        // A reply we cannot decode comes from a peer speaking another
        // format: retrying at once would not help.
        T::try_from(reply).map_err(|e| Failure::unreachable(&e))
    }

    fn remote<E: std::error::Error>(&self, source: E) -> RemoteError<NodeId, NodeAddr, E> {
        RemoteError::new_with_node(self.target, self.target_node.clone(), source)
    }

    /// Streams the snapshot file: the header, then the file in
    /// [`SNAPSHOT_CHUNK_BYTES`] chunks read as the stream is polled, so a
    /// large snapshot is never held in memory.
    async fn send_snapshot(&self, vote: typ::Vote, snapshot: typ::Snapshot, option: &RPCOption) -> SnapshotResult {
        // The state machine prunes old snapshots; if it removed this one
        // after openraft picked it, backing off lets openraft pick the
        // current one on the next attempt.
        let file = tokio::fs::File::open(&snapshot.snapshot.path)
            .await
            .map_err(|e| self.streaming_error(Failure::unreachable(&e)))?;
        let file_bytes = file.metadata().await.map_err(|e| self.streaming_error(Failure::unreachable(&e)))?.len();
        let header = SnapshotHeader { vote, meta: snapshot.meta, file_bytes };
        let first = SnapshotChunk::try_from(&header).map_err(|e| self.streaming_error(Failure::unreachable(&e)))?;

        let read_error: Arc<Mutex<Option<io::Error>>> = Arc::default();
        let chunks =
            futures::stream::once(std::future::ready(first)).chain(file_chunks(file, file_bytes, read_error.clone()));
        let deadline = option.hard_ttl() + Duration::from_secs(file_bytes / SNAPSHOT_BYTES_PER_SEC_MIN);
        let mut request = tonic::Request::new(chunks);
        request.set_timeout(deadline);
        let mut client = self.client().map_err(|f| self.streaming_error(f))?;

        let outcome = tokio::time::timeout(deadline, client.install_snapshot(request)).await;
        // A local read error ends the stream early; the peer then refuses
        // the short file. Report the cause, not the refusal.
        if let Some(e) = read_error.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take() {
            return Err(self.streaming_error(Failure::unreachable(&e)));
        }
        let reply = match outcome {
            Err(_elapsed) => return Err(self.streaming_error(Failure::Timeout(deadline))),
            Ok(Err(status)) => return Err(self.streaming_error(Failure::from_status(&status, deadline))),
            Ok(Ok(reply)) => reply.into_inner(),
        };
        let result = Result::<typ::SnapshotResponse, Fatal<NodeId>>::try_from(reply)
            .map_err(|e| self.streaming_error(Failure::unreachable(&e)))?;
        result.map_err(|fatal| StreamingError::RemoteError(self.remote(fatal)))
    }
}

/// The file's bytes as data chunks. A read error is stored in `read_error`
/// and ends the stream (tonic's request stream has no error item).
fn file_chunks(
    file: tokio::fs::File,
    file_bytes: u64,
    read_error: Arc<Mutex<Option<io::Error>>>,
) -> impl futures::Stream<Item = SnapshotChunk> + Send + 'static {
    futures::stream::unfold((file, file_bytes), move |(mut file, remaining_bytes)| {
        let read_error = read_error.clone();
        async move {
            if remaining_bytes == 0 {
                return None;
            }
            let len = remaining_bytes.min(SNAPSHOT_CHUNK_BYTES as u64) as usize;
            let mut buf = BytesMut::zeroed(len);
            match file.read_exact(&mut buf).await {
                Ok(_) => Some((SnapshotChunk::data(buf.freeze()), (file, remaining_bytes - len as u64))),
                Err(e) => {
                    *read_error.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(e);
                    None
                }
            }
        }
    })
}

impl RaftNetwork<TypeConfig> for TonicNetwork {
    async fn append_entries(
        &mut self,
        rpc: typ::AppendEntriesRequest,
        option: RPCOption,
    ) -> RpcResult<typ::AppendEntriesResponse> {
        let action = RPCTypes::AppendEntries;
        let frame = match RaftRequest::try_from(&rpc) {
            Ok(frame) => frame,
            // Over the message limit: openraft retries at once with fewer
            // entries. A single entry that big cannot be sent at all, which
            // openraft treats as unreachable whichever error we return.
            Err(TransportError::TooLarge { .. }) if rpc.entries.len() > 1 => {
                let hint = (rpc.entries.len() / 2) as u64;
                return Err(RPCError::PayloadTooLarge(PayloadTooLarge::new_entries_hint(hint)));
            }
            Err(e) => return Err(self.rpc_error(Failure::unreachable(&e), action)),
        };
        let result: Result<typ::AppendEntriesResponse, typ::RaftError> =
            self.call(Unary::AppendEntries, frame, option.hard_ttl()).await.map_err(|f| self.rpc_error(f, action))?;
        result.map_err(|e| RPCError::RemoteError(self.remote(e)))
    }

    async fn vote(&mut self, rpc: typ::VoteRequest, option: RPCOption) -> RpcResult<typ::VoteResponse> {
        let action = RPCTypes::Vote;
        let frame = RaftRequest::try_from(&rpc).map_err(|e| self.rpc_error(Failure::unreachable(&e), action))?;
        let result: Result<typ::VoteResponse, typ::RaftError> =
            self.call(Unary::Vote, frame, option.hard_ttl()).await.map_err(|f| self.rpc_error(f, action))?;
        result.map_err(|e| RPCError::RemoteError(self.remote(e)))
    }

    async fn full_snapshot(
        &mut self,
        vote: typ::Vote,
        snapshot: typ::Snapshot,
        cancel: impl Future<Output = ReplicationClosed> + OptionalSend + 'static,
        option: RPCOption,
    ) -> SnapshotResult {
        tracing::info!(target = self.target, snapshot_id = %snapshot.meta.snapshot_id, "sending snapshot");
        tokio::select! {
            closed = cancel => Err(StreamingError::Closed(closed)),
            result = self.send_snapshot(vote, snapshot, &option) => result,
        }
    }
}
