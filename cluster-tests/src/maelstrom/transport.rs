//! Sending messages and waiting for their replies on the Maelstrom network, and openraft's
//! network over it.
//!
//! [`Transport`] numbers every message this node sends and keeps a waiter per request, matched
//! by the reply's `in_reply_to`; a request with no reply before its deadline fails as
//! [`CallError::Timeout`] and its waiter is removed, so a reply arriving later is dropped.
//!
//! [`MaelstromNetworkFactory`] carries openraft's RPCs as `raft` messages: the request is the
//! versioned bincode of `raft::codec`, base64 in the JSON body, and the reply `raft_ok` carries
//! the remote Raft's `Result` the same way. Classification follows what openraft does next:
//! a deadline that passes is `Timeout` (retried at once: a dropped message is the common case on
//! Maelstrom's network), a peer that answers with an error (it has no Raft yet) or something
//! unreadable is `Unreachable` (openraft backs off).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use openraft::error::{
    Fatal, PayloadTooLarge, RPCError, RaftError, RemoteError, ReplicationClosed, StreamingError, Timeout, Unreachable,
};
use openraft::network::RPCOption;
use openraft::{OptionalSend, RPCTypes, RaftNetwork, RaftNetworkFactory};
use raft::codec::{self, SnapshotHeader};
use raft::{typ, NodeAddr, NodeId, TypeConfig};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use super::protocol::{Body, Message, Payload, RaftRpc};

/// The slowest rate a snapshot may travel at before its deadline passes (see `raft::client`).
const SNAPSHOT_BYTES_PER_SEC_MIN: u64 = 4 << 20;

/// Why a request got no reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("no reply from {dest} within {timeout:?}")]
    Timeout { dest: String, timeout: Duration },
    #[error("the node's output is closed")]
    Closed,
}

/// This node's end of the Maelstrom network.
pub struct Transport {
    outbox: mpsc::UnboundedSender<Message>,
    /// This node's Maelstrom id, known from `init`.
    me: OnceLock<String>,
    next_msg_id: AtomicU64,
    pending: Mutex<HashMap<u64, oneshot::Sender<Payload>>>,
}

impl Transport {
    /// A transport writing to `outbox` (the stdout writer in the binary).
    pub fn new(outbox: mpsc::UnboundedSender<Message>) -> Transport {
        Transport { outbox, me: OnceLock::new(), next_msg_id: AtomicU64::new(1), pending: Mutex::default() }
    }

    /// Records this node's id; the first `init` wins (Maelstrom sends one).
    pub fn set_me(&self, me: &str) {
        let _ = self.me.set(me.to_string());
    }

    /// This node's id, or `fallback` (the `dest` of the message being answered) before `init`.
    pub fn me_or<'a>(&'a self, fallback: &'a str) -> &'a str {
        self.me.get().map(String::as_str).unwrap_or(fallback)
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<u64, oneshot::Sender<Payload>>> {
        // The map is never held across an await or a call that can panic.
        self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sends `payload` to `dest` with a fresh `msg_id`, which is returned.
    pub fn send(&self, src: &str, dest: &str, in_reply_to: Option<u64>, payload: Payload) -> Result<u64, CallError> {
        let msg_id = self.next_msg_id.fetch_add(1, Ordering::Relaxed);
        let body = Body { msg_id: Some(msg_id), in_reply_to, payload };
        let message = Message { src: src.to_string(), dest: dest.to_string(), body };
        self.outbox.send(message).map_err(|_| CallError::Closed)?;
        Ok(msg_id)
    }

    /// Answers `request` with `payload` (nothing when the request had no `msg_id`: its sender
    /// expects no reply).
    pub fn reply(&self, request: &Message, payload: Payload) {
        let Some(msg_id) = request.body.msg_id else { return };
        let src = self.me_or(&request.dest).to_string();
        if self.send(&src, &request.src, Some(msg_id), payload).is_err() {
            tracing::debug!("output closed; reply dropped");
        }
    }

    /// Sends a request and waits for its reply until `timeout`.
    ///
    /// # Errors
    /// [`CallError::Timeout`] when no reply came in time (the request may have been acted on),
    /// [`CallError::Closed`] when the output is gone.
    pub async fn call(&self, dest: &str, payload: Payload, timeout: Duration) -> Result<Payload, CallError> {
        let Some(me) = self.me.get() else { return Err(CallError::Closed) };
        let (tx, rx) = oneshot::channel();
        // Registered before sending: the reply can arrive before `send` returns.
        let msg_id = self.next_msg_id.fetch_add(1, Ordering::Relaxed);
        self.pending().insert(msg_id, tx);
        let body = Body { msg_id: Some(msg_id), in_reply_to: None, payload };
        if self.outbox.send(Message { src: me.clone(), dest: dest.to_string(), body }).is_err() {
            self.pending().remove(&msg_id);
            return Err(CallError::Closed);
        }
        let outcome = tokio::time::timeout(timeout, rx).await;
        self.pending().remove(&msg_id);
        match outcome {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(_)) => Err(CallError::Closed),
            Err(_) => Err(CallError::Timeout { dest: dest.to_string(), timeout }),
        }
    }

    /// Hands a reply to the request waiting for it. Returns whether one was waiting (a reply
    /// after its deadline, or a duplicate, finds nobody).
    pub fn complete(&self, in_reply_to: u64, payload: Payload) -> bool {
        match self.pending().remove(&in_reply_to) {
            Some(waiter) => waiter.send(payload).is_ok(),
            None => false,
        }
    }

    /// Requests waiting for a reply.
    pub fn waiting(&self) -> usize {
        self.pending().len()
    }
}

/// Encodes a value as base64 of the versioned bincode payload.
///
/// # Errors
/// The codec's (a payload over the message limit).
pub fn encode_b64<T: Serialize + ?Sized>(value: &T) -> Result<String, raft::TransportError> {
    Ok(BASE64.encode(codec::encode(value)?))
}

/// Decodes base64 of a versioned bincode payload.
///
/// # Errors
/// Bad base64, or the codec's errors.
pub fn decode_b64<T: DeserializeOwned>(text: &str) -> Result<T, DecodeError> {
    let bytes = BASE64.decode(text).map_err(|e| DecodeError::Base64(e.to_string()))?;
    Ok(codec::decode(&bytes)?)
}

/// Why a `raft` payload could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("bad base64: {0}")]
    Base64(String),
    #[error(transparent)]
    Codec(#[from] raft::TransportError),
}

/// openraft's network factory over the Maelstrom network.
#[derive(Clone)]
pub struct MaelstromNetworkFactory {
    id: NodeId,
    transport: std::sync::Arc<Transport>,
}

impl MaelstromNetworkFactory {
    pub fn new(id: NodeId, transport: std::sync::Arc<Transport>) -> Self {
        MaelstromNetworkFactory { id, transport }
    }
}

impl RaftNetworkFactory<TypeConfig> for MaelstromNetworkFactory {
    type Network = MaelstromNetwork;

    async fn new_client(&mut self, target: NodeId, node: &NodeAddr) -> MaelstromNetwork {
        MaelstromNetwork { id: self.id, target, target_node: node.clone(), transport: self.transport.clone() }
    }
}

/// One node's client towards one peer. The peer's Maelstrom id is its `NodeAddr::raft_addr`.
pub struct MaelstromNetwork {
    id: NodeId,
    target: NodeId,
    target_node: NodeAddr,
    transport: std::sync::Arc<Transport>,
}

type RpcResult<T> = Result<T, RPCError<NodeId, NodeAddr, RaftError<NodeId>>>;
type SnapshotResult = Result<typ::SnapshotResponse, StreamingError<TypeConfig, Fatal<NodeId>>>;

/// A failed exchange, before it is shaped into openraft's error types.
enum Failure {
    Timeout(Duration),
    Unreachable(Unreachable),
}

impl MaelstromNetwork {
    fn unreachable(e: &(impl std::error::Error + 'static)) -> Failure {
        Failure::Unreachable(Unreachable::new(e))
    }

    fn rpc_error(&self, failure: Failure, action: RPCTypes) -> RPCError<NodeId, NodeAddr, RaftError<NodeId>> {
        match failure {
            Failure::Timeout(timeout) => {
                RPCError::Timeout(Timeout { action, id: self.id, target: self.target, timeout })
            }
            Failure::Unreachable(e) => RPCError::Unreachable(e),
        }
    }

    fn streaming_error(&self, failure: Failure) -> StreamingError<TypeConfig, Fatal<NodeId>> {
        match failure {
            Failure::Timeout(timeout) => StreamingError::Timeout(Timeout {
                action: RPCTypes::InstallSnapshot,
                id: self.id,
                target: self.target,
                timeout,
            }),
            Failure::Unreachable(e) => StreamingError::Unreachable(e),
        }
    }

    fn remote<E: std::error::Error>(&self, source: E) -> RemoteError<NodeId, NodeAddr, E> {
        RemoteError::new_with_node(self.target, self.target_node.clone(), source)
    }

    /// Sends one `raft` message and decodes the remote `Result<T, E>` from its `raft_ok`.
    async fn exchange<T, E>(
        &self,
        rpc: RaftRpc,
        data: String,
        file: Option<String>,
        timeout: Duration,
    ) -> Result<Result<T, E>, Failure>
    where
        Result<T, E>: DeserializeOwned,
    {
        let request = Payload::Raft { rpc, data, file };
        let reply = match self.transport.call(&self.target_node.raft_addr, request, timeout).await {
            Ok(reply) => reply,
            Err(CallError::Timeout { timeout, .. }) => return Err(Failure::Timeout(timeout)),
            Err(e @ CallError::Closed) => return Err(Self::unreachable(&e)),
        };
        match reply {
            Payload::RaftOk { data } => decode_b64(&data).map_err(|e| Self::unreachable(&e)),
            other => Err(Self::unreachable(&UnexpectedReply(format!("{other:?}")))),
        }
    }

    async fn send_snapshot(&self, vote: typ::Vote, snapshot: typ::Snapshot, option: &RPCOption) -> SnapshotResult {
        // The file is sent whole in one message: Maelstrom has no streams, and keyspaces under
        // Maelstrom's workloads are small. One over the message limit cannot be sent at all.
        let file =
            tokio::fs::read(&snapshot.snapshot.path).await.map_err(|e| self.streaming_error(Self::unreachable(&e)))?;
        let file_bytes = file.len() as u64;
        let header = SnapshotHeader { vote, meta: snapshot.meta, file_bytes };
        let data = encode_b64(&header).map_err(|e| self.streaming_error(Self::unreachable(&e)))?;
        if file.len() > codec::MESSAGE_BYTES_MAX {
            let e = raft::TransportError::TooLarge { bytes: file.len(), limit: codec::MESSAGE_BYTES_MAX };
            return Err(self.streaming_error(Self::unreachable(&e)));
        }
        let timeout = option.hard_ttl() + Duration::from_secs(file_bytes / SNAPSHOT_BYTES_PER_SEC_MIN);
        let result: Result<typ::SnapshotResponse, Fatal<NodeId>> = self
            .exchange(RaftRpc::Snapshot, data, Some(BASE64.encode(&file)), timeout)
            .await
            .map_err(|f| self.streaming_error(f))?;
        result.map_err(|fatal| StreamingError::RemoteError(self.remote(fatal)))
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unexpected reply to a raft message: {0}")]
struct UnexpectedReply(String);

impl RaftNetwork<TypeConfig> for MaelstromNetwork {
    async fn append_entries(
        &mut self,
        rpc: typ::AppendEntriesRequest,
        option: RPCOption,
    ) -> RpcResult<typ::AppendEntriesResponse> {
        let action = RPCTypes::AppendEntries;
        let data = match encode_b64(&rpc) {
            Ok(data) => data,
            // Over the message limit: openraft retries at once with fewer entries.
            Err(raft::TransportError::TooLarge { .. }) if rpc.entries.len() > 1 => {
                let hint = (rpc.entries.len() / 2) as u64;
                return Err(RPCError::PayloadTooLarge(PayloadTooLarge::new_entries_hint(hint)));
            }
            Err(e) => return Err(self.rpc_error(Self::unreachable(&e), action)),
        };
        let result: Result<typ::AppendEntriesResponse, typ::RaftError> = self
            .exchange(RaftRpc::AppendEntries, data, None, option.hard_ttl())
            .await
            .map_err(|f| self.rpc_error(f, action))?;
        result.map_err(|e| RPCError::RemoteError(self.remote(e)))
    }

    async fn vote(&mut self, rpc: typ::VoteRequest, option: RPCOption) -> RpcResult<typ::VoteResponse> {
        let action = RPCTypes::Vote;
        let data = encode_b64(&rpc).map_err(|e| self.rpc_error(Self::unreachable(&e), action))?;
        let result: Result<typ::VoteResponse, typ::RaftError> =
            self.exchange(RaftRpc::Vote, data, None, option.hard_ttl()).await.map_err(|f| self.rpc_error(f, action))?;
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;

    fn transport() -> (Arc<Transport>, mpsc::UnboundedReceiver<Message>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let transport = Arc::new(Transport::new(tx));
        transport.set_me("n1");
        (transport, rx)
    }

    #[tokio::test]
    async fn replies_reach_the_request_with_their_msg_id_and_late_ones_are_dropped() {
        let (transport, mut out) = transport();
        let caller = {
            let transport = transport.clone();
            tokio::spawn(
                async move { transport.call("n2", Payload::Read { key: json!(1) }, Duration::from_secs(30)).await },
            )
        };
        let sent = out.recv().await.expect("the request is sent");
        assert_eq!((sent.src.as_str(), sent.dest.as_str()), ("n1", "n2"));
        let msg_id = sent.body.msg_id.expect("requests carry a msg_id");
        assert!(!transport.complete(msg_id + 100, Payload::WriteOk), "no request has that id");
        assert!(transport.complete(msg_id, Payload::ReadOk { value: json!(5) }));
        assert_eq!(caller.await.unwrap(), Ok(Payload::ReadOk { value: json!(5) }));
        assert!(!transport.complete(msg_id, Payload::WriteOk), "a duplicate reply finds nobody");
        assert_eq!(transport.waiting(), 0);
    }

    #[tokio::test]
    async fn a_request_without_reply_times_out_and_forgets_its_waiter() {
        let (transport, mut out) = transport();
        let outcome = transport.call("n3", Payload::Read { key: json!(1) }, Duration::from_millis(20)).await;
        assert_eq!(outcome, Err(CallError::Timeout { dest: "n3".into(), timeout: Duration::from_millis(20) }));
        let msg_id = out.recv().await.unwrap().body.msg_id.unwrap();
        assert_eq!(transport.waiting(), 0);
        assert!(!transport.complete(msg_id, Payload::WriteOk), "the late reply is dropped");
    }

    #[tokio::test]
    async fn replies_go_back_to_the_sender_in_reply_to_its_msg_id() {
        let (transport, mut out) = transport();
        let request = Message {
            src: "c4".into(),
            dest: "n1".into(),
            body: Body { msg_id: Some(42), in_reply_to: None, payload: Payload::Read { key: json!(0) } },
        };
        transport.reply(&request, Payload::error(20, "missing"));
        let reply = out.recv().await.unwrap();
        assert_eq!((reply.src.as_str(), reply.dest.as_str(), reply.body.in_reply_to), ("n1", "c4", Some(42)));
        let fire_and_forget = Message { body: Body { msg_id: None, ..request.body.clone() }, ..request };
        transport.reply(&fire_and_forget, Payload::WriteOk);
        assert!(out.try_recv().is_err(), "a message without msg_id is not answered");
    }

    #[test]
    fn raft_payloads_survive_base64_and_garbage_does_not_panic() {
        let vote = typ::VoteRequest { vote: openraft::Vote::new(3, 1), last_log_id: None };
        let text = encode_b64(&vote).unwrap();
        let back: typ::VoteRequest = decode_b64(&text).unwrap();
        assert_eq!(back, vote);
        assert!(matches!(decode_b64::<typ::VoteRequest>("%%%"), Err(DecodeError::Base64(_))));
        assert!(matches!(decode_b64::<typ::VoteRequest>("AA=="), Err(DecodeError::Codec(_))));
    }
}
