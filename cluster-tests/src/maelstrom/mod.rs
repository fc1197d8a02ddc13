//! Redraft under Maelstrom: an adapter that runs a real Redraft node (openraft, the RocksDB log
//! store and state machine, the node crate's command executor) speaking Maelstrom's JSON
//! protocol on stdin/stdout, and a driver that plays Maelstrom's part here (Maelstrom itself
//! cannot be downloaded on these machines): it starts adapter processes, routes their messages
//! with seeded drops, delays and partitions, runs lin-kv clients and checks the history.
//!
//! # Layout
//! - [`protocol`]: the message format, error codes, parsing that never panics.
//! - [`kv`]: lin-kv `read`/`write`/`cas` as Redis commands, and replies back.
//! - [`transport`]: requests and replies by `msg_id`, openraft's network over Maelstrom.
//! - [`adapter`]: one node: init, Raft, serving or forwarding client requests.
//! - [`driver`]: the in-repo Maelstrom: processes, network with faults, clients, checker.

pub mod adapter;
pub mod driver;
pub mod kv;
pub mod protocol;
pub mod transport;
