//! `redraft`: a Redis-compatible database replicated with Raft.
//!
//! A library as well as the `redraft` binary, so that test harnesses (the
//! Maelstrom adapter, the deterministic simulation) can run the real server
//! code in their own processes.
//!
//! # Layout
//! - [`config`]: command-line flags.
//! - [`node`]: one node: RocksDB, the Raft instance, the client registry.
//! - [`server`] and [`connection`]: the RESP listener and per-client loop.
//! - [`dispatch`]: the fixed path of every command (lookup, arity, routing, execute).
//! - [`session`]: commands answered by the connection (PING, HELLO, CLIENT, MULTI, ...).
//! - [`commands`]: the command table and the data command families.
//! - [`executor`]: runs proposed commands inside the state machine's apply.
//! - [`read_index`]: batches linearizable-read barriers.
//! - [`expiry`]: the leader's background purge of expired keys.
//! - [`dev`]: `redraft dev`, a local N-node cluster.

pub mod cluster;
pub mod commands;
pub mod config;
pub mod connection;
pub mod dev;
pub mod dispatch;
pub mod error;
pub mod executor;
pub mod expiry;
pub mod info;
pub mod metrics;
pub mod node;
pub mod read_index;
pub mod server;
pub mod session;
