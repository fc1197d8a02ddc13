//! The list-append workload and its Elle-style strict-serializability checker.
//!
//! Clients run `MULTI` / `RPUSH k v` / `LRANGE k 0 -1` / … / `EXEC` transactions over a few
//! keys, with values unique per key; every transaction is recorded with its invocation and
//! completion time and outcome ([`History`]). After the run one transaction reads every key, so
//! an acknowledged append that was lost shows. [`check`] infers each key's order of appends from
//! the reads and the dependencies between transactions from the orders, and reports cycles
//! (G0, G1c, G-single, G2 and their `-realtime` variants, which need the real-time order and so
//! catch stale reads) and the anomalies visible without a cycle (aborted and intermediate
//! reads, lost updates, duplicates, garbage, incompatible orders, reads contradicting their own
//! transaction).
//!
//! # Layout
//! - `history.rs`: [`Txn`], [`MicroOp`], [`Outcome`], [`History`] (serde).
//! - `workload.rs`: the client threads and the final reads ([`run`]).
//! - `checker.rs`: version orders, non-cycle anomalies, the dependency graph ([`check`]).
//! - `graph.rs`: edges, Tarjan's SCCs and the cycle search by class.
//! - `report.rs`: [`Report`] and [`Anomaly`].
//! - `tests.rs`: hand-built histories for every anomaly, and random serial histories.

mod checker;
mod graph;
mod history;
mod report;
#[cfg(test)]
mod tests;
mod workload;

use std::time::Duration;

pub use checker::check;
pub use graph::EdgeCounts;
pub use history::{History, MicroOp, Outcome, Txn};
pub use report::{Anomaly, AnomalyKind, CycleStep, Report};
pub use workload::{key_name, run};

use crate::register::seed_from_env;

/// What the workload does.
#[derive(Debug, Clone)]
pub struct ListAppendConfig {
    /// Client threads.
    pub clients: usize,
    /// Keys shared by all clients; few keys means many dependencies between transactions.
    pub keys: usize,
    /// Prefix of every key, so the workload's keys do not collide with a test's own.
    pub key_prefix: String,
    /// Operations per transaction are chosen in `1..=max_txn_len`.
    pub max_txn_len: usize,
    /// Deadline of one transaction (its pipelined commands and EXEC's reply): after it, the
    /// outcome is unknown.
    pub op_timeout: Duration,
    /// Upper bound on the run, even if nobody stops it.
    pub duration_max: Duration,
    /// Upper bound on transactions per client, which bounds the lists and the checker's work.
    pub txns_per_client_max: usize,
    /// Random pause between two transactions of one client, in milliseconds (`min..max`).
    pub think_ms: (u64, u64),
    /// How long the final reads keep retrying once the clients stopped.
    pub final_read_deadline: Duration,
    /// Seed of all randomness.
    pub seed: u64,
}

impl ListAppendConfig {
    /// Four clients on four keys, up to four operations per transaction, with the seed from
    /// [`crate::register::SEED_ENV`] or the clock.
    ///
    /// # Panics
    /// When the seed variable is set but not a number.
    pub fn new(key_prefix: &str) -> ListAppendConfig {
        ListAppendConfig {
            clients: 4,
            keys: 4,
            key_prefix: key_prefix.to_string(),
            max_txn_len: 4,
            op_timeout: Duration::from_secs(2),
            duration_max: Duration::from_secs(120),
            txns_per_client_max: 2_000,
            think_ms: (5, 25),
            final_read_deadline: Duration::from_secs(60),
            seed: seed_from_env(),
        }
    }
}
