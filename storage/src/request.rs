//! What goes into the Raft log, and what applying it answers.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::DbIndex;

/// The application payload of one Raft log entry.
///
/// Everything apply needs to be deterministic is inside the entry: the
/// leader's clock (`now_ms`) and a random seed. Apply never reads the local
/// clock or a random source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// One client command, or the commands of one MULTI/EXEC block.
    Commands(CommandBatch),
    /// Proposed by the leader in the background: delete each key that is still
    /// expired at `now_ms` when the entry is applied (it may have been
    /// rewritten since the leader saw it expire).
    PurgeExpired { now_ms: u64, keys: Vec<(DbIndex, Bytes)> },
    /// Proposed by the leader in the background: delete the fields of each
    /// hash that have expired at `now_ms` when the entry is applied, at most
    /// `fields_max` in all, and the hash with its last field (see
    /// [`crate::field_expiry::reclaim`]).
    ReclaimExpiredFields { now_ms: u64, keys: Vec<(DbIndex, Bytes)>, fields_max: u64 },
}

impl Request {
    /// The leader time stamped in the entry.
    pub fn now_ms(&self) -> u64 {
        match self {
            Request::Commands(batch) => batch.now_ms,
            Request::PurgeExpired { now_ms, .. } | Request::ReclaimExpiredFields { now_ms, .. } => *now_ms,
        }
    }
}

/// Commands to execute atomically, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandBatch {
    /// The database selected when the batch starts.
    pub db: DbIndex,
    /// The leader's wall clock when it proposed the entry (Unix ms).
    pub now_ms: u64,
    /// Seed for commands that choose at random (SPOP, SRANDMEMBER, ...).
    pub seed: u64,
    /// Whether the client speaks RESP3: some replies differ in shape.
    pub resp3: bool,
    /// Each command's arguments, name first.
    pub commands: Vec<Vec<Bytes>>,
    /// Present for MULTI/EXEC: the batch replies with an array of the
    /// commands' replies, or aborts (null array) if a watched key changed.
    pub transaction: Option<TxnGuard>,
}

/// The WATCH state of a transaction, checked when the EXEC entry is applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnGuard {
    pub watches: Vec<WatchedKey>,
    /// The applied index of the state the WATCHes read.
    pub watch_index: u64,
}

/// One watched key, as it was when WATCH read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchedKey {
    pub db: DbIndex,
    pub key: Bytes,
    /// Whether the key existed (and had not expired) when watched.
    pub existed: bool,
    /// Its `modified_index` then (0 when it did not exist).
    pub modified_index: u64,
}

/// The reply produced by applying a [`Request`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Response {
    /// The frame to send to the client (for EXEC: the array of replies).
    pub frame: Option<resp::Frame>,
    /// The database the connection has selected after the batch (SELECT
    /// inside MULTI changes it, as in Redis).
    pub db_after: Option<DbIndex>,
}
