//! The transport's error type.

use std::io;

/// Everything that can go wrong encoding, decoding, serving or sending a
/// Raft RPC, apart from errors raised by the remote Raft itself (those travel
/// back inside the reply and become `RPCError::RemoteError`).
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// A payload was empty where at least the version byte was expected.
    #[error("empty payload: expected a version byte")]
    EmptyPayload,

    /// The peer speaks a wire format this build does not know.
    #[error("unsupported wire version {found}, this node speaks {expected}")]
    WireVersion { found: u8, expected: u8 },

    /// A payload is larger than [`crate::codec::MESSAGE_BYTES_MAX`].
    #[error("payload of {bytes} bytes exceeds the limit of {limit} bytes")]
    TooLarge { bytes: usize, limit: usize },

    /// bincode could not encode or decode a payload.
    #[error("bincode: {0}")]
    Bincode(#[from] bincode::Error),

    /// A reply carried neither a result nor an error.
    #[error("reply carries neither a result nor an error")]
    EmptyReply,

    /// A snapshot stream broke the protocol: no header first, a second
    /// header, an empty chunk, or a length different from the announced one.
    #[error("snapshot stream: {0}")]
    SnapshotStream(String),

    /// A peer address that cannot be turned into an endpoint URI.
    #[error("invalid peer address {addr:?}: {source}")]
    InvalidAddress {
        addr: String,
        #[source]
        source: tonic::transport::Error,
    },

    /// Asking a peer who it is failed (unreachable, timed out, or refused).
    #[error("peer discovery: {0}")]
    Discovery(String),
    /// The gRPC server failed (bind, accept, HTTP/2).
    #[error("gRPC transport: {0}")]
    Transport(#[from] tonic::transport::Error),

    /// Reading or writing a snapshot file.
    #[error("snapshot file I/O: {0}")]
    Io(#[from] io::Error),
}

impl TransportError {
    /// Whether the error is the peer's fault (a malformed message), as
    /// opposed to a local failure.
    pub fn is_malformed(&self) -> bool {
        matches!(
            self,
            TransportError::EmptyPayload
                | TransportError::WireVersion { .. }
                | TransportError::TooLarge { .. }
                | TransportError::Bincode(_)
                | TransportError::EmptyReply
                | TransportError::SnapshotStream(_)
        )
    }
}

impl From<TransportError> for tonic::Status {
    /// Malformed input is `INVALID_ARGUMENT` (the sender must not retry the
    /// same bytes); anything else is a local failure, `INTERNAL`.
    fn from(e: TransportError) -> Self {
        if e.is_malformed() {
            tonic::Status::invalid_argument(e.to_string())
        } else {
            tonic::Status::internal(e.to_string())
        }
    }
}
