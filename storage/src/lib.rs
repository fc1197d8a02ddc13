//! Redraft's storage: one RocksDB per node holding the Raft log, the Raft
//! metadata and the replicated keyspace.
//!
//! This crate must not depend on tonic or on any network code: it is the
//! state of one node, and the network lives in `redraft-raft`.
//!
//! # Layout
//! - [`db`]: opening RocksDB and its column families.
//! - [`keys`]: how user keys, expiry index entries and metadata are encoded.
//! - [`value`]: the header every stored value carries (type, expiry, version).
//! - [`keyspace`]: the [`Keyspace`] trait command code runs against, with a
//!   read-only view ([`ReadView`]) and the write transaction of one apply
//!   ([`ApplyTxn`]).
//! - [`collection`] and [`subkeys`]: collection metadata and element access.
//! - [`field_expiry`]: hash field TTLs (companion elements, reclaiming).
//! - [`request`]: the Raft log payload ([`Request`]) and its reply ([`Response`]).
//! - [`log_store`]: openraft's `RaftLogStorage` on RocksDB, with group commit.
//! - [`failpoints`]: faults injected at runtime (a slow disk) for fault tests.
//! - [`state_machine`]: openraft's `RaftStateMachine` on RocksDB.
//! - [`snapshot`]: building and installing snapshots of the keyspace.

pub mod collection;
pub mod db;
pub mod error;
pub mod failpoints;
pub mod field_expiry;
pub mod keys;
pub mod keyspace;
pub mod log_store;
pub mod request;
pub mod snapshot;
pub mod state_machine;
pub mod subkeys;
pub mod value;

pub use collection::CollectionMeta;
pub use db::{open_db, Cf, RocksDb};
pub use error::StorageError;
pub use keyspace::{ApplyTxn, Keyspace, ReadView};
pub use request::{CommandBatch, Request, Response, TxnGuard, WatchedKey};
pub use value::{StoredValue, ValueHeader, ValueKind};

/// A logical database number, as chosen by `SELECT`.
pub type DbIndex = u16;

/// Redis's default number of logical databases.
pub const DATABASES_DEFAULT: u16 = 16;
