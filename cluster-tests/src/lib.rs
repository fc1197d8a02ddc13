//! Multi-process tests for Redraft: real `redraft server` processes on loopback ports, driven
//! over RESP, killed, paused, restarted and partitioned.
//!
//! The process-level tests link none of the server's crates except `resp`: the nodes are observed
//! only through the wire (replies and `INFO raft`), as a client or an operator would see them.
//! Two harnesses are the exception and run real nodes inside one process: the Maelstrom adapter
//! (`maelstrom/`) and the deterministic simulation (`sim/`).
//!
//! # Layout
//! - `harness.rs`: [`TestCluster`], N nodes with temp dirs and free ports; leader discovery,
//!   faults (kill, pause, restart, partition) and `must_` helpers.
//! - `process.rs`: spawning and signalling child processes, log files, free ports, the
//!   process-wide lock that runs one cluster at a time.
//! - `client.rs`: [`RespClient`], a small blocking RESP client that keeps raw reply bytes.
//! - `proxy.rs`: [`FaultProxy`], a TCP proxy on every Raft link that can be blocked.
//! - `wait.rs`: [`eventually`], polling a condition with a deadline.
//! - `redis_server.rs`: [`RedisServer`], a throwaway real `redis-server` for differential tests.
//! - `differential.rs`: the `cases/*.redis` runner comparing Redraft with Redis byte for byte.
//! - `workload.rs`: [`WriteLoad`], writer threads that record which writes were acknowledged.
//! - `linearizability.rs`: a WGL linearizability checker for register histories, per key.
//! - `register.rs`: a GET/SET register workload that records a history for that checker.
//! - `set_counter.rs`: the checker of the INCR/SADD workload (acknowledged writes all present).
//! - `list_append/`: MULTI/EXEC transactions of RPUSH and LRANGE, and an Elle-style checker of
//!   strict serializability for their history.
//! - `maelstrom/`: the Maelstrom adapter (`redraft-maelstrom`) and the in-repo driver that
//!   routes its messages with faults and checks the lin-kv history (`redraft-maelstrom-driver`).
//! - `sim/`: deterministic simulation: the nodes' real Raft and state machine in this process on
//!   a simulated network and clock, seeded.
//! - `jepsen/`: the `redraft-jepsen` runner: workloads, a seeded nemesis, plot and verdict.
//!
//! # Conventions
//! Nodes are named by their Raft id, `1..=n`, everywhere (`kill(2)` kills node 2). Helpers whose
//! name starts with `must_` panic with a message naming what failed. No test waits with a fixed
//! sleep: every wait is a condition with a deadline ([`eventually`]).

pub mod client;
pub mod differential;
pub mod harness;
pub mod jepsen;
pub mod linearizability;
pub mod list_append;
pub mod maelstrom;
pub mod process;
pub mod proxy;
pub mod redis_server;
pub mod register;
pub mod set_counter;
pub mod sim;
pub mod wait;
pub mod workload;

pub use client::{Reply, RespClient};
pub use harness::TestCluster;
pub use proxy::FaultProxy;
pub use redis_server::RedisServer;
pub use resp::Frame;
pub use wait::eventually;
pub use workload::{WriteLoad, WriteOutcomes};
