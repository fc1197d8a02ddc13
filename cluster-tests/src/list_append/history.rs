//! The recorded history of a list-append run: transactions of appends and reads, each with the
//! client that ran it, its invocation and completion time and the outcome the client can know.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One operation inside a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "f")]
pub enum MicroOp {
    /// `RPUSH key value`. Values are unique per key, so a read names the append it saw.
    Append { key: String, value: u64 },
    /// `LRANGE key 0 -1`: `None` until the transaction's reply says what was read (and forever
    /// when the transaction failed or its outcome is unknown).
    Read { key: String, value: Option<Vec<u64>> },
}

impl MicroOp {
    /// The key the operation touches.
    pub fn key(&self) -> &str {
        match self {
            MicroOp::Append { key, .. } | MicroOp::Read { key, .. } => key,
        }
    }
}

impl fmt::Display for MicroOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MicroOp::Append { key, value } => write!(f, "append {key} {value}"),
            MicroOp::Read { key, value: Some(list) } => write!(f, "read {key} {}", short_list(list)),
            MicroOp::Read { key, value: None } => write!(f, "read {key} ?"),
        }
    }
}

/// Values shown at each end of a long list in messages (JSON keeps every value).
const SHOWN_AT_ENDS: usize = 4;

/// `list` for a message: whole when short, else its ends and its length, since the lists of a
/// long run hold hundreds of values and only the tail usually matters.
pub fn short_list(list: &[u64]) -> String {
    if list.len() <= 3 * SHOWN_AT_ENDS {
        return format!("{list:?}");
    }
    let head: Vec<String> = list[..SHOWN_AT_ENDS].iter().map(u64::to_string).collect();
    let tail: Vec<String> = list[list.len() - SHOWN_AT_ENDS..].iter().map(u64::to_string).collect();
    format!("[{}, … {} values …, {}]", head.join(", "), list.len(), tail.join(", "))
}

/// What the client knows about a transaction's effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// EXEC answered with the replies of every command: it committed.
    Ok,
    /// It certainly did not run: EXECABORT, MOVED, CLUSTERDOWN, TRYAGAIN, a null EXEC reply, or
    /// a failure before anything was sent.
    Fail,
    /// It may or may not have run: a timeout, a lost connection or UNCERTAIN after EXEC went out.
    Unknown,
}

/// One transaction as the client saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Txn {
    /// The client thread that ran it (the final reads use the id after the last client).
    pub client: usize,
    /// When the client started sending it, in nanoseconds since the run started (one monotonic
    /// clock for every client).
    pub invoke_ns: u64,
    /// When the client got its answer or gave up, on the same clock.
    pub complete_ns: u64,
    pub ops: Vec<MicroOp>,
    pub outcome: Outcome,
}

impl Txn {
    /// The values this transaction appends to `key`, in order.
    pub fn appends_to<'a>(&'a self, key: &'a str) -> impl Iterator<Item = u64> + 'a {
        self.ops.iter().filter_map(move |op| match op {
            MicroOp::Append { key: k, value } if k == key => Some(*value),
            _ => None,
        })
    }
}

impl fmt::Display for Txn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ops: Vec<String> = self.ops.iter().map(ToString::to_string).collect();
        write!(
            f,
            "client {} {:?} {:.3}s..{:.3}s [{}]",
            self.client,
            self.outcome,
            self.invoke_ns as f64 / 1e9,
            self.complete_ns as f64 / 1e9,
            ops.join(", ")
        )
    }
}

/// Everything a run recorded.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct History {
    /// Every transaction, sorted by invocation time; the final reads come last.
    pub txns: Vec<Txn>,
    /// The seed the run used.
    pub seed: u64,
    /// Whether the final read of every key succeeded. Without it an acknowledged append that
    /// no later read saw cannot be told apart from one that was lost.
    pub final_reads_done: bool,
    /// Replies the workload did not expect (recorded as `Unknown`), for the log.
    pub unexpected: Vec<String>,
}

impl History {
    /// Transactions whose outcome is `Ok`, `Fail` and `Unknown`.
    pub fn counts(&self) -> (usize, usize, usize) {
        let count = |outcome: Outcome| self.txns.iter().filter(|t| t.outcome == outcome).count();
        (count(Outcome::Ok), count(Outcome::Fail), count(Outcome::Unknown))
    }

    /// Committed transactions with at least one append.
    pub fn ok_writes(&self) -> usize {
        self.txns
            .iter()
            .filter(|t| t.outcome == Outcome::Ok && t.ops.iter().any(|op| matches!(op, MicroOp::Append { .. })))
            .count()
    }

    /// The history as JSON, to keep next to a failed run's verdict.
    ///
    /// # Panics
    /// Never in practice: every field serializes.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a history always serializes")
    }
}
