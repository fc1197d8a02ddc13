//! The list-append workload: client threads sending `MULTI`, `RPUSH k v` / `LRANGE k 0 -1`, …,
//! `EXEC` to random nodes, then one final transaction reading every key.
//!
//! A transaction goes out as one pipelined write (to the next node when a node refuses the
//! connection). Its fate is decided by the EXEC reply: an array is a commit; MOVED (followed once, to the leader it names, resending the whole
//! transaction), CLUSTERDOWN, TRYAGAIN, EXECABORT and a null reply mean it did not run; a
//! timeout, a lost connection, UNCERTAIN or any other reply leave it unknown, and the
//! connection is dropped because it may be out of step with its replies.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use resp::Frame;

use super::history::{History, MicroOp, Outcome, Txn};
use super::ListAppendConfig;
use crate::client::{Reply, RespClient};
use crate::register::{Progress, XorShift};

/// Pause after a transaction that could not run (refused connection, CLUSTERDOWN): during an
/// election retrying at once would only spin.
const BACKOFF: Duration = Duration::from_millis(20);
/// Pause between two attempts of the final read.
const FINAL_READ_BACKOFF: Duration = Duration::from_millis(200);

/// Runs the workload against the nodes at `addrs` until `stop` is set, the configured time
/// passes or every client did its transactions; then reads every key in one transaction,
/// retrying for [`ListAppendConfig::final_read_deadline`] (heal the cluster before setting
/// `stop`). Returns every transaction, final reads included. `progress` counts committed
/// transactions: `ok_writes` those with an append, `ok_reads` those with reads only.
///
/// # Panics
/// When `addrs` is empty or a client thread panics.
pub fn run(config: &ListAppendConfig, addrs: &[String], stop: &AtomicBool, progress: &Progress) -> History {
    assert!(!addrs.is_empty(), "the list-append workload needs at least one node address");
    assert!(config.keys > 0 && config.max_txn_len > 0, "the list-append workload needs keys and operations");
    let clock = Instant::now();
    let next_values: Vec<AtomicU64> = (0..config.keys).map(|_| AtomicU64::new(1)).collect();
    let per_client: Vec<(Vec<Txn>, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..config.clients)
            .map(|id| {
                let client = Client::new(id, config, addrs, clock);
                let next_values = &next_values;
                s.spawn(move || client.run(next_values, stop, progress))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| panic!("a list-append client panicked"))).collect()
    });
    let mut history = History { seed: config.seed, ..History::default() };
    for (txns, unexpected) in per_client {
        history.txns.extend(txns);
        history.unexpected.extend(unexpected);
    }
    history.txns.sort_by_key(|t| t.invoke_ns);
    let mut reader = Client::new(config.clients, config, addrs, clock);
    let (final_txns, done) = reader.final_reads();
    history.txns.extend(final_txns);
    history.unexpected.extend(reader.unexpected);
    history.final_reads_done = done;
    history
}

/// The name of key number `index`.
pub fn key_name(config: &ListAppendConfig, index: usize) -> String {
    format!("{}{index}", config.key_prefix)
}

struct Client<'a> {
    id: usize,
    config: &'a ListAppendConfig,
    addrs: &'a [String],
    /// The one clock all clients time transactions with.
    clock: Instant,
    rng: XorShift,
    /// Open connections by address; dropped after any failure.
    conns: HashMap<String, RespClient>,
    unexpected: Vec<String>,
}

/// The result of sending one transaction to one address.
enum Attempt {
    /// Nothing was sent (the connection could not be opened): it did not run.
    NotSent,
    /// The reply to EXEC.
    Exec(Reply),
    /// The connection failed or timed out after the transaction went out.
    Lost,
}

impl<'a> Client<'a> {
    fn new(id: usize, config: &'a ListAppendConfig, addrs: &'a [String], clock: Instant) -> Client<'a> {
        Client {
            id,
            config,
            addrs,
            clock,
            rng: XorShift::new(config.seed.wrapping_add(id as u64)),
            conns: HashMap::new(),
            unexpected: Vec::new(),
        }
    }

    fn run(mut self, next_values: &[AtomicU64], stop: &AtomicBool, progress: &Progress) -> (Vec<Txn>, Vec<String>) {
        let mut txns = Vec::new();
        let deadline = self.clock + self.config.duration_max;
        for _ in 0..self.config.txns_per_client_max {
            if stop.load(Ordering::Relaxed) || Instant::now() >= deadline {
                break;
            }
            let ops = self.random_ops(next_values);
            let addr = self.addrs[self.rng.below(self.addrs.len() as u64) as usize].clone();
            let txn = self.transact(&addr, ops);
            let writes = txn.ops.iter().any(|op| matches!(op, MicroOp::Append { .. }));
            match (txn.outcome, writes) {
                (Outcome::Ok, true) => progress.ok_writes.fetch_add(1, Ordering::Relaxed),
                (Outcome::Ok, false) => progress.ok_reads.fetch_add(1, Ordering::Relaxed),
                _ => 0,
            };
            let backoff = txn.outcome == Outcome::Fail;
            txns.push(txn);
            let (lo, hi) = self.config.think_ms;
            let think = Duration::from_millis(lo + self.rng.below(hi.saturating_sub(lo).max(1)));
            std::thread::sleep(if backoff { think.max(BACKOFF) } else { think });
        }
        (txns, self.unexpected)
    }

    /// Up to `max_txn_len` reads and appends on random keys; each append takes the key's next
    /// value, so values are unique per key and increase in the order clients chose them.
    fn random_ops(&mut self, next_values: &[AtomicU64]) -> Vec<MicroOp> {
        let len = 1 + self.rng.below(self.config.max_txn_len as u64) as usize;
        (0..len)
            .map(|_| {
                let index = self.rng.below(self.config.keys as u64) as usize;
                let key = key_name(self.config, index);
                if self.rng.below(2) == 0 {
                    MicroOp::Read { key, value: None }
                } else {
                    MicroOp::Append { key, value: next_values[index].fetch_add(1, Ordering::Relaxed) }
                }
            })
            .collect()
    }

    /// Reads every key in one transaction until one commits or the final-read deadline passes.
    fn final_reads(&mut self) -> (Vec<Txn>, bool) {
        let deadline = Instant::now() + self.config.final_read_deadline;
        let mut txns = Vec::new();
        for attempt in 0.. {
            let ops: Vec<MicroOp> =
                (0..self.config.keys).map(|i| MicroOp::Read { key: key_name(self.config, i), value: None }).collect();
            let addr = self.addrs[attempt % self.addrs.len()].clone();
            let txn = self.transact(&addr, ops);
            let done = txn.outcome == Outcome::Ok;
            txns.push(txn);
            if done {
                return (txns, true);
            }
            if Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(FINAL_READ_BACKOFF);
        }
        self.unexpected.push(format!("the final reads did not succeed within {:?}", self.config.final_read_deadline));
        (txns, false)
    }

    fn now_ns(&self) -> u64 {
        self.clock.elapsed().as_nanos() as u64
    }

    /// Runs one transaction through `addr`, following one MOVED, and records it.
    fn transact(&mut self, addr: &str, mut ops: Vec<MicroOp>) -> Txn {
        let invoke_ns = self.now_ns();
        let mut commands: Vec<Vec<String>> = vec![vec!["MULTI".into()]];
        commands.extend(ops.iter().map(|op| match op {
            MicroOp::Append { key, value } => vec!["RPUSH".into(), key.clone(), value.to_string()],
            MicroOp::Read { key, .. } => vec!["LRANGE".into(), key.clone(), "0".into(), "-1".into()],
        }));
        commands.push(vec!["EXEC".into()]);
        let mut sent = self.send(addr, &commands);
        // Nothing was sent to a node that refuses connections (killed): the next one may take it.
        let first = self.addrs.iter().position(|a| a == addr).unwrap_or(0);
        for offset in 1..self.addrs.len() {
            if !matches!(sent, Attempt::NotSent) {
                break;
            }
            let next = self.addrs[(first + offset) % self.addrs.len()].clone();
            sent = self.send(&next, &commands);
        }
        if let Attempt::Exec(Reply::Moved(leader)) = &sent {
            let leader = leader.clone();
            sent = self.send(&leader, &commands);
        }
        let outcome = match sent {
            Attempt::NotSent => Outcome::Fail,
            Attempt::Lost => Outcome::Unknown,
            Attempt::Exec(Reply::Value(Frame::Array(replies))) => self.record_reads(addr, &mut ops, replies),
            Attempt::Exec(Reply::Value(Frame::NullArray | Frame::Null)) => Outcome::Fail,
            // A second MOVED (leadership moved again) is not followed: the transaction did not run.
            Attempt::Exec(Reply::Moved(_) | Reply::Retry(_)) => Outcome::Fail,
            Attempt::Exec(Reply::Error(text)) if text.starts_with("EXECABORT") => Outcome::Fail,
            Attempt::Exec(Reply::Uncertain(_) | Reply::Timeout | Reply::Io(_)) => Outcome::Unknown,
            Attempt::Exec(other) => {
                self.unexpected.push(format!("EXEC on {addr}: {other:?}"));
                Outcome::Unknown
            }
        };
        Txn { client: self.id, invoke_ns, complete_ns: self.now_ns(), ops, outcome }
    }

    /// Fills the reads of a committed transaction from EXEC's replies.
    fn record_reads(&mut self, addr: &str, ops: &mut [MicroOp], replies: Vec<Frame>) -> Outcome {
        if replies.len() != ops.len() {
            self.unexpected.push(format!("EXEC on {addr}: {} replies for {} commands", replies.len(), ops.len()));
            return Outcome::Unknown;
        }
        for (op, reply) in ops.iter_mut().zip(replies) {
            let (key, value) = match op {
                MicroOp::Read { key, value } => (key, value),
                // RPUSH answers the new length; anything else means the append did not happen
                // although the transaction committed, which the checker will see as lost.
                MicroOp::Append { key, value } => {
                    if !matches!(reply, Frame::Integer(_)) {
                        self.unexpected.push(format!("RPUSH {key} {value} on {addr}: {reply:?}"));
                    }
                    continue;
                }
            };
            match parse_list(&reply) {
                Some(list) => *value = Some(list),
                // Committed, but what it read cannot be told: keep the read unknown.
                None => self.unexpected.push(format!("LRANGE {key} on {addr}: {reply:?}")),
            }
        }
        Outcome::Ok
    }

    /// Sends the transaction's commands to `addr` in one write on a cached connection, opening
    /// one if needed. Every reply before EXEC's is QUEUED or an error that makes EXEC abort, so
    /// only EXEC's reply decides.
    fn send(&mut self, addr: &str, commands: &[Vec<String>]) -> Attempt {
        if !self.conns.contains_key(addr) {
            let timeout = self.config.op_timeout;
            match RespClient::connect(addr).and_then(|mut c| c.set_timeout(timeout).map(|()| c)) {
                Ok(client) => self.conns.insert(addr.to_string(), client),
                Err(_) => return Attempt::NotSent,
            };
        }
        let Some(client) = self.conns.get_mut(addr) else {
            return Attempt::NotSent;
        };
        let Ok(mut replies) = client.pipeline(commands) else {
            self.conns.remove(addr);
            return Attempt::Lost;
        };
        // `pipeline` returns one reply per command, so there is always EXEC's.
        let exec = Reply::classify(Ok(replies.pop().unwrap_or(Frame::Null)));
        if matches!(exec, Reply::Uncertain(_) | Reply::Error(_)) {
            self.conns.remove(addr);
        }
        Attempt::Exec(exec)
    }
}

/// An LRANGE reply as a list of the workload's integer values.
fn parse_list(reply: &Frame) -> Option<Vec<u64>> {
    let Frame::Array(items) = reply else { return None };
    items
        .iter()
        .map(|item| match item {
            Frame::Bulk(bytes) => std::str::from_utf8(bytes).ok()?.parse().ok(),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    #[test]
    fn lrange_replies_parse_into_values() {
        let reply = Frame::Array(vec![Frame::Bulk(Bytes::from_static(b"1")), Frame::Bulk(Bytes::from_static(b"12"))]);
        assert_eq!(parse_list(&reply), Some(vec![1, 12]));
        assert_eq!(parse_list(&Frame::Array(Vec::new())), Some(Vec::new()));
        assert_eq!(parse_list(&Frame::Array(vec![Frame::Bulk(Bytes::from_static(b"x"))])), None);
        assert_eq!(parse_list(&Frame::Null), None);
    }

    #[test]
    fn a_history_survives_a_json_round_trip() {
        let txn = Txn {
            client: 1,
            invoke_ns: 5,
            complete_ns: 9,
            ops: vec![
                MicroOp::Append { key: "k".into(), value: 3 },
                MicroOp::Read { key: "k".into(), value: Some(vec![1, 3]) },
                MicroOp::Read { key: "j".into(), value: None },
            ],
            outcome: Outcome::Unknown,
        };
        let history = History { txns: vec![txn], seed: 7, final_reads_done: true, unexpected: vec!["x".into()] };
        let back: History = serde_json::from_str(&history.to_json()).expect("a history parses back");
        assert_eq!(back.txns, history.txns);
        assert_eq!((back.seed, back.final_reads_done, back.unexpected), (7, true, vec!["x".to_string()]));
    }
}
