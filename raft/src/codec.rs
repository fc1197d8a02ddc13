//! Conversions between openraft's messages and the protobuf frames.
//!
//! # Format
//! ```text
//! payload = WIRE_VERSION (u8) | bincode(value)    -- varint integers, no trailing bytes
//! ```
//! Every `bytes` field in `raft.proto` holds one payload. The version byte
//! comes first so that a later build can change the encoding (or openraft's
//! types can change shape) and an old peer answers `INVALID_ARGUMENT`
//! instead of misreading the bytes.
//!
//! Decoding never trusts the peer: the size is checked before bincode runs,
//! bincode is bounded by the same limit (so a forged length prefix cannot
//! make it allocate gigabytes), and every failure is a [`TransportError`].

use bincode::Options;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::TransportError;
use crate::proto::{raft_reply, snapshot_chunk, RaftReply, RaftRequest, SnapshotChunk};
use crate::typ;

/// The payload format version this build writes and accepts.
pub const WIRE_VERSION: u8 = 1;

/// The largest payload sent or accepted, and the gRPC message limit.
///
/// Large enough for a full AppendEntries batch (`max_payload_entries`
/// entries of ordinary commands); a batch over it is split by openraft (see
/// the client's `PayloadTooLarge`). A single entry over it can never be
/// replicated, so proposals must stay well below it.
pub const MESSAGE_BYTES_MAX: usize = 64 << 20;

/// The size of the data chunks a snapshot file is streamed in.
pub const SNAPSHOT_CHUNK_BYTES: usize = 1 << 20;

/// The protobuf and gRPC framing around a payload: generous, because it only
/// has to keep `MESSAGE_BYTES_MAX` payloads from being refused by tonic.
pub const GRPC_MESSAGE_BYTES_MAX: usize = MESSAGE_BYTES_MAX + (1 << 10);

fn bincode_options() -> impl Options + Copy {
    // The limit bounds both the bytes read and what bincode will allocate
    // for a length prefix it has not yet seen the data for.
    bincode::DefaultOptions::new().with_limit(MESSAGE_BYTES_MAX as u64)
}

/// Encodes `value` as a versioned payload.
///
/// # Errors
/// [`TransportError::TooLarge`] when the payload would exceed
/// [`MESSAGE_BYTES_MAX`]; a bincode error if serde fails.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Bytes, TransportError> {
    let options = bincode_options();
    let size = match options.serialized_size(value) {
        Ok(size) => size as usize,
        Err(e) if matches!(*e, bincode::ErrorKind::SizeLimit) => {
            return Err(TransportError::TooLarge { bytes: usize::MAX, limit: MESSAGE_BYTES_MAX })
        }
        Err(e) => return Err(e.into()),
    };
    if size > MESSAGE_BYTES_MAX {
        return Err(TransportError::TooLarge { bytes: size, limit: MESSAGE_BYTES_MAX });
    }
    let mut out = Vec::with_capacity(1 + size);
    out.push(WIRE_VERSION);
    options.serialize_into(&mut out, value)?;
    Ok(Bytes::from(out))
}

/// Decodes a versioned payload.
///
/// # Errors
/// [`TransportError::EmptyPayload`], [`TransportError::TooLarge`],
/// [`TransportError::WireVersion`], or a bincode error for bytes that are
/// not a `T` (including trailing bytes after one).
pub fn decode<T: DeserializeOwned>(payload: &[u8]) -> Result<T, TransportError> {
    let Some((&version, body)) = payload.split_first() else {
        return Err(TransportError::EmptyPayload);
    };
    if version != WIRE_VERSION {
        return Err(TransportError::WireVersion { found: version, expected: WIRE_VERSION });
    }
    if body.len() > MESSAGE_BYTES_MAX {
        return Err(TransportError::TooLarge { bytes: body.len(), limit: MESSAGE_BYTES_MAX });
    }
    Ok(bincode_options().deserialize(body)?)
}

/// The first message of a snapshot stream: what the receiver needs to
/// install the file once it has it all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotHeader {
    /// The sending leader's vote: the receiver refuses the snapshot if it has
    /// seen a greater one.
    pub vote: typ::Vote,
    pub meta: typ::SnapshotMeta,
    /// The file's length: the receiver installs only a complete file.
    pub file_bytes: u64,
}

/// Request conversions: the same frame carries every request type, the RPC
/// method says which one it is.
macro_rules! request_codec {
    ($($ty:ty),*) => {$(
        impl TryFrom<&$ty> for RaftRequest {
            type Error = TransportError;

            fn try_from(rpc: &$ty) -> Result<Self, Self::Error> {
                Ok(RaftRequest { data: encode(rpc)? })
            }
        }

        impl TryFrom<RaftRequest> for $ty {
            type Error = TransportError;

            fn try_from(frame: RaftRequest) -> Result<Self, Self::Error> {
                decode(&frame.data)
            }
        }
    )*};
}

request_codec!(typ::AppendEntriesRequest, typ::VoteRequest);

/// Reply conversions: the remote Raft's `Result`, with the error kept as a
/// value so the caller can rebuild `RPCError::RemoteError`.
macro_rules! reply_codec {
    ($($ok:ty, $err:ty);*) => {$(
        impl TryFrom<&Result<$ok, $err>> for RaftReply {
            type Error = TransportError;

            fn try_from(result: &Result<$ok, $err>) -> Result<Self, Self::Error> {
                let result = match result {
                    Ok(ok) => raft_reply::Result::Ok(encode(ok)?),
                    Err(err) => raft_reply::Result::Error(encode(err)?),
                };
                Ok(RaftReply { result: Some(result) })
            }
        }

        impl TryFrom<RaftReply> for Result<$ok, $err> {
            type Error = TransportError;

            fn try_from(frame: RaftReply) -> Result<Self, Self::Error> {
                match frame.result {
                    Some(raft_reply::Result::Ok(ok)) => Ok(Ok(decode(&ok)?)),
                    Some(raft_reply::Result::Error(err)) => Ok(Err(decode(&err)?)),
                    None => Err(TransportError::EmptyReply),
                }
            }
        }
    )*};
}

reply_codec!(
    typ::AppendEntriesResponse, typ::RaftError;
    typ::VoteResponse, typ::RaftError;
    typ::SnapshotResponse, openraft::error::Fatal<crate::NodeId>
);

impl TryFrom<&SnapshotHeader> for SnapshotChunk {
    type Error = TransportError;

    fn try_from(header: &SnapshotHeader) -> Result<Self, Self::Error> {
        Ok(SnapshotChunk { chunk: Some(snapshot_chunk::Chunk::Header(encode(header)?)) })
    }
}

impl TryFrom<&[u8]> for SnapshotHeader {
    type Error = TransportError;

    fn try_from(payload: &[u8]) -> Result<Self, Self::Error> {
        decode(payload)
    }
}

impl SnapshotChunk {
    /// A chunk of snapshot file data. Data is raw file bytes, not a payload:
    /// the file has its own format and checksum (see `storage::snapshot`).
    pub fn data(bytes: Bytes) -> Self {
        SnapshotChunk { chunk: Some(snapshot_chunk::Chunk::Data(bytes)) }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use openraft::{CommittedLeaderId, EntryPayload, LogId, Membership, StoredMembership, Vote};

    use super::*;
    use crate::NodeAddr;

    fn log_id(term: u64, index: u64) -> LogId<u64> {
        LogId::new(CommittedLeaderId::new(term, 1), index)
    }

    fn sample_append() -> typ::AppendEntriesRequest {
        let batch = storage::CommandBatch {
            db: 0,
            now_ms: 1_700_000_000_000,
            seed: 7,
            resp3: false,
            commands: vec![vec![Bytes::from_static(b"SET"), Bytes::from_static(b"k"), Bytes::from(vec![0u8, 255, 10])]],
            transaction: None,
        };
        let nodes = BTreeMap::from([(1, NodeAddr { raft_addr: "a:1".into(), client_addr: "a:2".into() })]);
        let membership = Membership::new(vec![BTreeSet::from([1])], nodes);
        typ::AppendEntriesRequest {
            vote: Vote::new_committed(3, 1),
            prev_log_id: Some(log_id(2, 9)),
            leader_commit: Some(log_id(3, 10)),
            entries: vec![
                typ::Entry { log_id: log_id(3, 10), payload: EntryPayload::Blank },
                typ::Entry { log_id: log_id(3, 11), payload: EntryPayload::Normal(storage::Request::Commands(batch)) },
                typ::Entry { log_id: log_id(3, 12), payload: EntryPayload::Membership(membership) },
            ],
        }
    }

    #[test]
    fn append_entries_round_trips_through_the_frame() {
        let rpc = sample_append();
        let frame = RaftRequest::try_from(&rpc).expect("encode");
        assert_eq!(frame.data[0], WIRE_VERSION);
        let back = typ::AppendEntriesRequest::try_from(frame).expect("decode");
        assert_eq!(format!("{back:?}"), format!("{rpc:?}"));
    }

    #[test]
    fn remote_errors_round_trip_through_the_reply() {
        let fatal: Result<typ::SnapshotResponse, openraft::error::Fatal<u64>> = Err(openraft::error::Fatal::Stopped);
        let back = Result::<typ::SnapshotResponse, openraft::error::Fatal<u64>>::try_from(
            RaftReply::try_from(&fatal).expect("encode"),
        )
        .expect("decode");
        assert_eq!(back, fatal);

        let vote: Result<typ::VoteResponse, typ::RaftError> =
            Ok(typ::VoteResponse { vote: Vote::new(4, 2), vote_granted: true, last_log_id: Some(log_id(3, 12)) });
        let back = Result::<typ::VoteResponse, typ::RaftError>::try_from(RaftReply::try_from(&vote).expect("encode"))
            .expect("decode");
        assert_eq!(back, vote);
    }

    #[test]
    fn snapshot_header_round_trips() {
        let header = SnapshotHeader {
            vote: Vote::new_committed(5, 1),
            meta: typ::SnapshotMeta {
                last_log_id: Some(log_id(5, 100)),
                last_membership: StoredMembership::default(),
                snapshot_id: "5-100-x".into(),
            },
            file_bytes: 12_345,
        };
        let chunk = SnapshotChunk::try_from(&header).expect("encode");
        let Some(snapshot_chunk::Chunk::Header(bytes)) = chunk.chunk else { panic!("not a header chunk") };
        assert_eq!(SnapshotHeader::try_from(&bytes[..]).expect("decode"), header);
    }

    #[test]
    fn malformed_payloads_are_errors_not_panics() {
        let good = RaftRequest::try_from(&sample_append()).expect("encode").data;

        let empty = RaftRequest { data: Bytes::new() };
        assert!(matches!(typ::AppendEntriesRequest::try_from(empty), Err(TransportError::EmptyPayload)));

        let mut wrong_version = good.to_vec();
        wrong_version[0] = WIRE_VERSION + 1;
        let frame = RaftRequest { data: wrong_version.into() };
        assert!(matches!(typ::AppendEntriesRequest::try_from(frame), Err(TransportError::WireVersion { .. })));

        // Every truncation of a valid payload must fail cleanly.
        for len in 1..good.len() {
            let frame = RaftRequest { data: good.slice(..len) };
            assert!(typ::AppendEntriesRequest::try_from(frame).is_err(), "truncated at {len} decoded");
        }

        let mut trailing = good.to_vec();
        trailing.push(0);
        assert!(typ::AppendEntriesRequest::try_from(RaftRequest { data: trailing.into() }).is_err());

        // A forged huge length prefix must not allocate it: bincode's limit refuses it.
        let mut forged = vec![WIRE_VERSION];
        forged.extend_from_slice(&[0xff; 16]);
        assert!(typ::AppendEntriesRequest::try_from(RaftRequest { data: forged.into() }).is_err());

        let no_result = RaftReply { result: None };
        assert!(matches!(
            Result::<typ::VoteResponse, typ::RaftError>::try_from(no_result),
            Err(TransportError::EmptyReply)
        ));
    }

    #[test]
    fn payloads_over_the_limit_are_refused_when_encoding() {
        let huge = vec![0u8; MESSAGE_BYTES_MAX + 1];
        assert!(matches!(encode(&huge), Err(TransportError::TooLarge { .. })));
    }
}
