//! The receiving side: a tonic service that hands peers' RPCs to the local
//! Raft.
//!
//! Every message is decoded by [`crate::codec`]; anything malformed is
//! answered with `INVALID_ARGUMENT` and never reaches Raft. Errors raised by
//! Raft itself are not gRPC errors: they travel back inside the reply so
//! the sender sees `RPCError::RemoteError`, as it would in process.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_stream::StreamExt;
use tonic::{Request, Response, Status, Streaming};

use crate::codec::{SnapshotHeader, GRPC_MESSAGE_BYTES_MAX};
use crate::error::TransportError;
use crate::proto::raft_service_server::{RaftService, RaftServiceServer};
use crate::proto::{snapshot_chunk, RaftReply, RaftRequest, SnapshotChunk};
use crate::{typ, SnapshotFile};

/// HTTP/2 pings on idle peer connections: a peer that vanished without a
/// FIN (power loss, partition) is noticed and its connection freed.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(5);

/// The Raft RPC service of one node.
#[derive(Clone)]
pub struct RaftGrpcService {
    raft: typ::Raft,
    /// Where incoming snapshot files are written before they are installed.
    /// Must be on the same disk as the state machine's snapshots; leftovers
    /// of a crash end in `.part`, which `storage::snapshot::recover_dir`
    /// removes when this is the state machine's own directory.
    snapshot_dir: PathBuf,
}

impl RaftGrpcService {
    pub fn new(raft: typ::Raft, snapshot_dir: PathBuf) -> Self {
        RaftGrpcService { raft, snapshot_dir }
    }

    /// The service wrapped for `tonic::transport::Server::add_service`, with
    /// message limits raised to fit a full AppendEntries batch.
    pub fn into_server(self) -> RaftServiceServer<Self> {
        RaftServiceServer::new(self)
            .max_decoding_message_size(GRPC_MESSAGE_BYTES_MAX)
            .max_encoding_message_size(GRPC_MESSAGE_BYTES_MAX)
    }

    /// Receives the data chunks after the header into a new file under the
    /// snapshot dir, checks the length and fsyncs it.
    async fn receive_file(
        &self,
        stream: &mut Streaming<SnapshotChunk>,
        header: &SnapshotHeader,
    ) -> Result<StagedFile, Status> {
        let staged = StagedFile::new(&self.snapshot_dir);
        let mut file = tokio::fs::File::create(&staged.path).await.map_err(TransportError::Io)?;
        let mut received_bytes: u64 = 0;
        while let Some(chunk) = stream.message().await? {
            let data = match chunk.chunk {
                Some(snapshot_chunk::Chunk::Data(data)) => data,
                Some(snapshot_chunk::Chunk::Header(_)) => {
                    return Err(TransportError::SnapshotStream("a second header".into()).into())
                }
                None => return Err(TransportError::SnapshotStream("a chunk with no content".into()).into()),
            };
            received_bytes += data.len() as u64;
            if received_bytes > header.file_bytes {
                return Err(TransportError::SnapshotStream(format!(
                    "more than the announced {} bytes",
                    header.file_bytes
                ))
                .into());
            }
            file.write_all(&data).await.map_err(TransportError::Io)?;
        }
        if received_bytes != header.file_bytes {
            return Err(TransportError::SnapshotStream(format!(
                "stream ended after {received_bytes} of {} bytes",
                header.file_bytes
            ))
            .into());
        }
        // The state machine copies the file into its own snapshot directory
        // (and fsyncs that copy) before changing state; syncing here keeps
        // the install from reading back data that is still only in the page
        // cache of a file it can't trust the length of after a crash.
        file.sync_all().await.map_err(TransportError::Io)?;
        Ok(staged)
    }
}

#[tonic::async_trait]
impl RaftService for RaftGrpcService {
    async fn append_entries(&self, request: Request<RaftRequest>) -> Result<Response<RaftReply>, Status> {
        let rpc = typ::AppendEntriesRequest::try_from(request.into_inner())?;
        let result = self.raft.append_entries(rpc).await;
        Ok(Response::new(RaftReply::try_from(&result)?))
    }

    async fn vote(&self, request: Request<RaftRequest>) -> Result<Response<RaftReply>, Status> {
        let rpc = typ::VoteRequest::try_from(request.into_inner())?;
        let result = self.raft.vote(rpc).await;
        Ok(Response::new(RaftReply::try_from(&result)?))
    }

    async fn install_snapshot(
        &self,
        request: Request<Streaming<SnapshotChunk>>,
    ) -> Result<Response<RaftReply>, Status> {
        let mut stream = request.into_inner();
        let header = match stream.message().await? {
            Some(SnapshotChunk { chunk: Some(snapshot_chunk::Chunk::Header(payload)) }) => {
                SnapshotHeader::try_from(&payload[..])?
            }
            Some(_) => return Err(TransportError::SnapshotStream("the first chunk is not the header".into()).into()),
            None => return Err(TransportError::SnapshotStream("no header".into()).into()),
        };
        tracing::info!(
            vote = %header.vote,
            snapshot_id = %header.meta.snapshot_id,
            last_log_id = ?header.meta.last_log_id,
            file_bytes = header.file_bytes,
            "receiving snapshot"
        );
        let staged = self.receive_file(&mut stream, &header).await?;
        let snapshot =
            typ::Snapshot { meta: header.meta, snapshot: Box::new(SnapshotFile { path: staged.path.clone() }) };
        let result = self.raft.install_full_snapshot(header.vote, snapshot).await;
        // openraft answers only once the snapshot is installed (or refused),
        // and the state machine keeps its own copy, so the staged file can go
        // now: `staged` is dropped at the end of this scope.
        Ok(Response::new(RaftReply::try_from(&result)?))
    }
}

/// A snapshot file being received, removed when dropped: after install, on
/// any error, and when the RPC is cancelled (a dropped handler future).
struct StagedFile {
    path: PathBuf,
}

impl StagedFile {
    fn new(dir: &Path) -> Self {
        static SEQUENCE: AtomicU64 = AtomicU64::new(0);
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let sequence = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        StagedFile { path: dir.join(format!("received-{nanos}-{sequence}.part")) }
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(path = %self.path.display(), error = %e, "could not remove a received snapshot file");
            }
        }
    }
}

/// Serves Raft RPCs on `listener` until `shutdown` completes.
///
/// The listener is passed in (not an address) so tests can bind
/// `127.0.0.1:0` and learn the port first, and so the caller decides where
/// Raft listens: on its own port, never the one clients reach.
///
/// # Errors
/// Creating `snapshot_dir`, or a fatal error of the gRPC server.
pub async fn serve(
    raft: typ::Raft,
    listener: TcpListener,
    snapshot_dir: PathBuf,
    shutdown: impl Future<Output = ()>,
) -> Result<(), TransportError> {
    serve_with_discovery(raft, listener, snapshot_dir, None, shutdown).await
}

/// [`serve`], also answering peer discovery (`NodeInfo`) for cluster
/// formation when `discovery` is given.
///
/// # Errors
/// As [`serve`].
pub async fn serve_with_discovery(
    raft: typ::Raft,
    listener: TcpListener,
    snapshot_dir: PathBuf,
    discovery: Option<crate::discovery::DiscoveryService>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), TransportError> {
    tokio::fs::create_dir_all(&snapshot_dir).await?;
    // Raft messages are small and latency-bound (heartbeats, votes), so
    // Nagle's delay would only add to commit latency.
    let incoming = TcpListenerStream::new(listener).map(|conn| {
        if let Ok(stream) = &conn {
            if let Err(e) = stream.set_nodelay(true) {
                tracing::debug!(error = %e, "could not set TCP_NODELAY on a Raft connection");
            }
        }
        conn
    });
    tonic::transport::Server::builder()
        .http2_keepalive_interval(Some(KEEPALIVE_INTERVAL))
        .http2_keepalive_timeout(Some(KEEPALIVE_TIMEOUT))
        .add_service(RaftGrpcService::new(raft, snapshot_dir).into_server())
        .add_optional_service(discovery.map(|d| d.into_server()))
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await?;
    Ok(())
}
