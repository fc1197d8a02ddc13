//! The workloads `redraft-jepsen` can run. Each has two halves, kept apart so a new workload
//! only adds a variant and its two functions:
//!
//! - **drive**: client threads that run against the cluster until told to stop, recording every
//!   operation on the run's clock (the nemesis runs meanwhile on the owning thread);
//! - **check**: after the faults are healed and the cluster has converged, final reads and the
//!   workload's checker, giving a verdict, its anomalies and the full history.
//!

use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use resp::Frame;
use serde_json::{json, Value};

use super::{OpRecord, Outcome};
use crate::client::{Reply, RespClient};
use crate::harness::{NodeId, TestCluster};
use crate::linearizability::{self, Input, Operation, Output};
use crate::list_append::{self, ListAppendConfig, MicroOp, Txn};
use crate::register::{self, Progress, RegisterConfig, RegisterHistory, XorShift};
use crate::set_counter::{self, COUNTER_KEY, SET_KEY};
use crate::workload::{Write, WriteOutcomes};

/// Client threads of every workload.
pub const CLIENT_THREADS: usize = 4;
/// Deadline of one client command: an operation on a paused or cut-off node turns unknown after
/// this, instead of holding its thread for the whole fault.
pub const OP_TIMEOUT: Duration = Duration::from_secs(2);
/// Fresh register keys this often, to bound each key's history (see [`RegisterConfig`]).
const REGISTER_KEY_LIFETIME: Duration = Duration::from_secs(8);
/// Pause between two set/counter operations of one thread, in milliseconds (`min..max`).
const SET_COUNTER_THINK_MS: (u64, u64) = (5, 20);

/// A workload of `redraft-jepsen`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// GET, SET and compare-and-set on a few keys, checked for linearizability per key.
    Register,
    /// INCR of one counter and SADD of unique members, checked for lost and phantom writes.
    SetCounter,
    /// MULTI/EXEC transactions of RPUSH and LRANGE on a few keys, checked Elle-style for strict
    /// serializability.
    ListAppend,
}

/// What the clients of a run share.
pub struct DriveContext<'a> {
    /// Every node's client address.
    pub addrs: &'a [String],
    /// The run's clock: every recorded time is measured from it.
    pub clock: Instant,
    pub stop: &'a AtomicBool,
    pub seed: u64,
    /// Upper bound on the run, even if nobody sets `stop`.
    pub time_limit: Duration,
}

/// What the clients recorded, for the workload's checker.
pub enum Driven {
    Register(RegisterHistory),
    SetCounter(SetCounterRun),
    ListAppend(ListAppendRun),
}

/// The checker's conclusion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    Valid,
    /// At least one anomaly.
    Invalid,
    /// The checker could not decide (it ran out of search budget).
    Unknown,
}

/// A workload's verdict and everything it looked at.
pub struct Checked {
    pub validity: Validity,
    pub anomalies: Vec<String>,
    /// Every operation, final reads included, in invocation order.
    pub ops: Vec<OpRecord>,
    /// Workload-specific facts for `verdict.json` (final values, CAS counts, ...).
    pub details: Value,
}

impl Workload {
    /// Every workload, in the order `--help` lists them.
    pub const ALL: [Workload; 3] = [Workload::Register, Workload::SetCounter, Workload::ListAppend];

    /// The name used by `--workload` and in output paths.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Register => "register",
            Workload::SetCounter => "set-counter",
            Workload::ListAppend => "list-append",
        }
    }

    /// The workload called `name`.
    pub fn from_name(name: &str) -> Option<Workload> {
        Workload::ALL.into_iter().find(|w| w.name() == name)
    }

    /// Runs the clients until `ctx.stop` is set or the time limit passes.
    pub fn drive(self, ctx: &DriveContext<'_>) -> Driven {
        match self {
            Workload::Register => Driven::Register(drive_register(ctx)),
            Workload::SetCounter => Driven::SetCounter(drive_set_counter(ctx)),
            Workload::ListAppend => Driven::ListAppend(drive_list_append(ctx)),
        }
    }

    /// Final reads on the healed, converged cluster and the checker.
    pub fn check(self, cluster: &TestCluster, driven: Driven, clock: Instant) -> Checked {
        match driven {
            Driven::Register(history) => check_register(cluster, history, clock),
            Driven::SetCounter(run) => check_set_counter(cluster, run),
            Driven::ListAppend(run) => check_list_append(run),
        }
    }
}

fn drive_register(ctx: &DriveContext<'_>) -> RegisterHistory {
    let config = RegisterConfig {
        threads: CLIENT_THREADS,
        keys: 3,
        key_prefix: "r".into(),
        duration_max: ctx.time_limit,
        ops_per_thread_max: usize::MAX,
        think_ms: (10, 40),
        cas_percent: 20,
        key_lifetime: Some(REGISTER_KEY_LIFETIME),
        seed: ctx.seed,
    };
    register::run_on_clock(&config, ctx.addrs, ctx.stop, &Progress::default(), ctx.clock)
}

/// A register operation as a history record.
fn register_record(op: &Operation, final_read: bool) -> OpRecord {
    let (f, value) = match &op.input {
        Input::Read if final_read => ("final-read", Value::Null),
        Input::Read => ("read", Value::Null),
        Input::Write(v) => ("write", json!(v)),
        Input::Cas { expected, new } => ("cas", json!([expected, new])),
    };
    let (outcome, result) = match &op.outcome {
        linearizability::Outcome::Ok(Output::Read(v)) => (Outcome::Ok, json!(v)),
        linearizability::Outcome::Ok(Output::Write) => (Outcome::Ok, Value::Null),
        linearizability::Outcome::Ok(Output::Cas(swapped)) => (Outcome::Ok, json!(swapped)),
        linearizability::Outcome::Fail => (Outcome::Fail, Value::Null),
        linearizability::Outcome::Unknown => (Outcome::Unknown, Value::Null),
    };
    OpRecord {
        process: op.client,
        f,
        key: op.key.clone(),
        value,
        outcome,
        result,
        invoke_ns: op.invoke_ns,
        complete_ns: op.complete_ns,
    }
}

fn check_register(cluster: &TestCluster, mut history: RegisterHistory, clock: Instant) -> Checked {
    // One final read of every key through the leader, recorded like any other operation: the
    // final state must be explained by the history too.
    let keys: BTreeSet<String> = history.operations.iter().map(|op| op.key.clone()).collect();
    let reader = CLIENT_THREADS;
    let live = history.operations.len();
    let leader = cluster.leader();
    let mut final_values = serde_json::Map::new();
    for key in &keys {
        let invoke_ns = clock.elapsed().as_nanos() as u64;
        // Retried through redirects and elections (a read is idempotent): the read took effect
        // at some instant between these two times, which is all the checker assumes.
        let value = cluster.must_get(leader, key).map(|v| String::from_utf8_lossy(&v).into_owned());
        let complete_ns = clock.elapsed().as_nanos() as u64;
        let outcome = linearizability::Outcome::Ok(Output::Read(value));
        if let linearizability::Outcome::Ok(Output::Read(v)) = &outcome {
            final_values.insert(key.clone(), json!(v));
        }
        history.operations.push(Operation {
            client: reader,
            key: key.clone(),
            input: Input::Read,
            invoke_ns,
            complete_ns,
            outcome,
        });
    }
    let (cas_completed, cas_swapped) = history.ok_cas();
    let mut anomalies: Vec<String> =
        history.unexpected.iter().map(|note| format!("unexpected reply (recorded as unknown): {note}")).collect();
    let started = Instant::now();
    let verdict = linearizability::check(&history.operations);
    let checker_ms = started.elapsed().as_millis() as u64;
    let mut validity = if anomalies.is_empty() { Validity::Valid } else { Validity::Invalid };
    let verdict_text = match verdict {
        linearizability::Verdict::Linearizable => "linearizable".to_string(),
        linearizability::Verdict::NotLinearizable { key, explanation } => {
            anomalies.push(format!("key {key} is not linearizable: {explanation}"));
            validity = Validity::Invalid;
            format!("not linearizable on key {key}")
        }
        linearizability::Verdict::Unknown { key, steps } => {
            if validity == Validity::Valid {
                validity = Validity::Unknown;
            }
            format!("unknown: search budget exhausted on key {key} after {steps} steps")
        }
    };
    let ops = history.operations.iter().enumerate().map(|(i, op)| register_record(op, i >= live)).collect();
    let details = json!({
        "checker": "WGL linearizability per key (cluster_tests::linearizability)",
        "checker_verdict": verdict_text,
        "checker_ms": checker_ms,
        "keys": keys.len(),
        "cas_completed": cas_completed,
        "cas_swapped": cas_swapped,
        "acknowledged_writes": history.ok_writes(),
        "final_values": final_values,
    });
    let mut ops: Vec<OpRecord> = ops;
    ops.sort_by_key(|op| op.invoke_ns);
    Checked { validity, anomalies, ops, details }
}

/// What the set/counter clients recorded.
pub struct SetCounterRun {
    pub ops: Vec<OpRecord>,
    /// The same writes, sorted the way [`set_counter::check`] wants them.
    pub outcomes: WriteOutcomes,
}

fn drive_set_counter(ctx: &DriveContext<'_>) -> SetCounterRun {
    let runs: Vec<SetCounterRun> = std::thread::scope(|s| {
        let handles: Vec<_> =
            (0..CLIENT_THREADS).map(|thread| s.spawn(move || set_counter_client(ctx, thread))).collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| panic!("a set/counter client panicked"))).collect()
    });
    let mut merged = SetCounterRun { ops: Vec::new(), outcomes: WriteOutcomes::default() };
    for run in runs {
        merged.ops.extend(run.ops);
        merged.outcomes.merge(run.outcomes);
    }
    merged.ops.sort_by_key(|op| op.invoke_ns);
    merged
}

/// One set/counter client: alternates `INCR counter` and `SADD set <unique member>` through
/// random nodes, following one MOVED, until stopped.
fn set_counter_client(ctx: &DriveContext<'_>, thread: usize) -> SetCounterRun {
    let mut rng = XorShift::new(ctx.seed.wrapping_add(thread as u64));
    let mut run = SetCounterRun { ops: Vec::new(), outcomes: WriteOutcomes::default() };
    let deadline = Instant::now() + ctx.time_limit;
    let mut seq = 0u64;
    while !ctx.stop.load(Ordering::Relaxed) && Instant::now() < deadline {
        let incr = seq.is_multiple_of(2);
        let member = format!("m{thread}-{seq}");
        seq += 1;
        let args: Vec<&str> = if incr { vec!["INCR", COUNTER_KEY] } else { vec!["SADD", SET_KEY, &member] };
        let addr = &ctx.addrs[rng.below(ctx.addrs.len() as u64) as usize];
        let invoke_ns = ctx.clock.elapsed().as_nanos() as u64;
        let mut reply = send_once(addr, &args);
        if let Some(Reply::Moved(leader)) = &reply {
            let leader = leader.clone();
            reply = send_once(&leader, &args);
        }
        let complete_ns = ctx.clock.elapsed().as_nanos() as u64;
        let described = format!("{reply:?} from {addr}");
        let (outcome, result) = match reply {
            // Nothing was sent: the write did not happen.
            None => (Outcome::Fail, Value::Null),
            Some(Reply::Value(Frame::Integer(n))) if incr => (Outcome::Ok, json!(n)),
            Some(Reply::Value(Frame::Integer(1))) => (Outcome::Ok, json!(1)),
            Some(Reply::Moved(_) | Reply::Retry(_)) => (Outcome::Fail, Value::Null),
            Some(Reply::Uncertain(_) | Reply::Timeout | Reply::Io(_)) => (Outcome::Unknown, Value::Null),
            Some(other) => {
                // A fresh member that is not new, or an error no write should get.
                run.outcomes.unexpected.push(format!("{}: {other:?} from {addr}", args.join(" ")));
                (Outcome::Unknown, Value::Null)
            }
        };
        let (key, value) = if incr { (COUNTER_KEY, String::new()) } else { (SET_KEY, member.clone()) };
        let write = Write { key: key.into(), value: value.clone(), reply: described };
        match outcome {
            Outcome::Ok => run.outcomes.acked.push(write),
            Outcome::Fail => run.outcomes.refused.push(write),
            Outcome::Unknown => run.outcomes.unknown.push(write),
        }
        run.ops.push(OpRecord {
            process: thread,
            f: if incr { "incr" } else { "sadd" },
            key: key.into(),
            value: if incr { Value::Null } else { json!(member) },
            outcome,
            result,
            invoke_ns,
            complete_ns,
        });
        let (lo, hi) = SET_COUNTER_THINK_MS;
        std::thread::sleep(Duration::from_millis(lo + rng.below(hi - lo)));
    }
    run
}

/// Sends one command on a fresh connection; `None` when the connection could not be opened.
/// A fresh connection per operation keeps a late reply from being read as the next one's.
fn send_once(addr: &str, args: &[&str]) -> Option<Reply> {
    let mut client = RespClient::connect(addr).ok()?;
    client.set_timeout(OP_TIMEOUT).ok()?;
    Some(Reply::classify(client.cmd(args)))
}

/// The counter and the set as node `id` holds them, read locally (READONLY) after convergence.
fn final_state(cluster: &TestCluster, id: NodeId) -> Result<(i64, HashSet<String>), String> {
    let mut client = RespClient::connect(&cluster.addr(id)).map_err(|e| e.to_string())?;
    client.cmd(&["READONLY"]).map_err(|e| e.to_string())?;
    let counter = match client.cmd(&["GET", COUNTER_KEY]).map_err(|e| e.to_string())? {
        Frame::Bulk(b) => String::from_utf8_lossy(&b).parse::<i64>().map_err(|e| format!("counter: {e}"))?,
        Frame::Null => 0,
        other => return Err(format!("GET counter: {other:?}")),
    };
    let members = match client.cmd(&["SMEMBERS", SET_KEY]).map_err(|e| e.to_string())? {
        Frame::Array(items) | Frame::Set(items) => items
            .into_iter()
            .map(|f| match f {
                Frame::Bulk(b) => Ok(String::from_utf8_lossy(&b).into_owned()),
                other => Err(format!("member {other:?}")),
            })
            .collect::<Result<_, _>>()?,
        other => return Err(format!("SMEMBERS: {other:?}")),
    };
    Ok((counter, members))
}

fn check_set_counter(cluster: &TestCluster, run: SetCounterRun) -> Checked {
    let mut anomalies: Vec<String> =
        run.outcomes.unexpected.iter().map(|note| format!("unexpected reply: {note}")).collect();
    let mut finals = serde_json::Map::new();
    for id in cluster.ids() {
        match final_state(cluster, id) {
            Ok((counter, members)) => {
                finals.insert(format!("n{id}"), json!({"counter": counter, "members": members.len()}));
                let found = set_counter::check(&run.outcomes, counter, &members);
                anomalies.extend(found.into_iter().map(|a| format!("node {id}: {a}")));
            }
            Err(e) => anomalies.push(format!("node {id}: final read failed: {e}")),
        }
    }
    let count = |key: &str, list: &[Write]| list.iter().filter(|w| w.key == key).count();
    let details = json!({
        "checker": "every acknowledged INCR/SADD present on every node, nothing refused or unsent (cluster_tests::set_counter)",
        "incr": {"acknowledged": count(COUNTER_KEY, &run.outcomes.acked), "refused": count(COUNTER_KEY, &run.outcomes.refused), "unknown": count(COUNTER_KEY, &run.outcomes.unknown)},
        "sadd": {"acknowledged": count(SET_KEY, &run.outcomes.acked), "refused": count(SET_KEY, &run.outcomes.refused), "unknown": count(SET_KEY, &run.outcomes.unknown)},
        "final_state": finals,
    });
    let validity = if anomalies.is_empty() { Validity::Valid } else { Validity::Invalid };
    Checked { validity, anomalies, ops: run.ops, details }
}

/// Transactions per client the list-append workload aims at over a whole run: every read
/// returns a whole list, so the lists (and the checker's work) must stay bounded however long
/// the run is; longer runs space their transactions out instead.
const LIST_APPEND_TXNS_PER_CLIENT: u64 = 2_500;

/// What the list-append clients recorded.
pub struct ListAppendRun {
    pub history: list_append::History,
    /// Where the workload's own clock started on the run's clock, to put its times on the plot.
    pub offset_ns: u64,
}

fn drive_list_append(ctx: &DriveContext<'_>) -> ListAppendRun {
    let mut config = ListAppendConfig::new("la");
    config.clients = CLIENT_THREADS;
    config.seed = ctx.seed;
    config.op_timeout = OP_TIMEOUT;
    config.duration_max = ctx.time_limit;
    config.txns_per_client_max = LIST_APPEND_TXNS_PER_CLIENT as usize;
    let mean_gap_ms = (ctx.time_limit.as_millis() as u64 / LIST_APPEND_TXNS_PER_CLIENT).max(15);
    config.think_ms = (mean_gap_ms / 2, mean_gap_ms * 3 / 2);
    // The workload starts its clock just after this reading: its times lag the run's by at most
    // the few microseconds between the two, which only shifts points on the plot.
    let offset_ns = ctx.clock.elapsed().as_nanos() as u64;
    let history = list_append::run(&config, ctx.addrs, ctx.stop, &Progress::default());
    ListAppendRun { history, offset_ns }
}

/// A transaction as a history record: its micro-operations are the value, what it read the
/// result.
fn list_append_record(txn: &Txn, offset_ns: u64, final_read: bool) -> OpRecord {
    let keys: BTreeSet<&str> = txn.ops.iter().map(MicroOp::key).collect();
    let reads: Vec<Value> = txn
        .ops
        .iter()
        .filter_map(|op| match op {
            MicroOp::Read { key, value: Some(list) } => Some(json!({"key": key, "list": list})),
            _ => None,
        })
        .collect();
    OpRecord {
        process: txn.client,
        f: if final_read { "final-read" } else { "txn" },
        key: keys.into_iter().collect::<Vec<_>>().join(","),
        value: serde_json::to_value(&txn.ops).unwrap_or(Value::Null),
        outcome: match txn.outcome {
            list_append::Outcome::Ok => Outcome::Ok,
            list_append::Outcome::Fail => Outcome::Fail,
            list_append::Outcome::Unknown => Outcome::Unknown,
        },
        result: if reads.is_empty() { Value::Null } else { Value::Array(reads) },
        invoke_ns: txn.invoke_ns + offset_ns,
        complete_ns: txn.complete_ns + offset_ns,
    }
}

fn check_list_append(run: ListAppendRun) -> Checked {
    let history = run.history;
    let started = Instant::now();
    let report = list_append::check(&history.txns);
    let checker_ms = started.elapsed().as_millis() as u64;
    let mut anomalies: Vec<String> =
        history.unexpected.iter().map(|note| format!("unexpected reply (recorded as unknown): {note}")).collect();
    anomalies.extend(report.anomalies.iter().map(|a| format!("{}: {}", a.kind, a.explanation)));
    let validity = if !anomalies.is_empty() {
        Validity::Invalid
    } else if !history.final_reads_done {
        // Without the final reads a lost append would go unseen: no verdict.
        Validity::Unknown
    } else {
        Validity::Valid
    };
    // The final reader is the client after the last one.
    let mut ops: Vec<OpRecord> =
        history.txns.iter().map(|txn| list_append_record(txn, run.offset_ns, txn.client >= CLIENT_THREADS)).collect();
    ops.sort_by_key(|op| op.invoke_ns);
    let details = json!({
        "checker": "Elle-style strict serializability: version orders from reads, ww/wr/rw and real-time edges, cycles classified G0/G1c/G-single/G2 (cluster_tests::list_append)",
        "checker_ms": checker_ms,
        "final_reads_done": history.final_reads_done,
        "report": serde_json::from_str::<Value>(&report.to_json()).unwrap_or(Value::Null),
        "summary": report.to_string(),
    });
    Checked { validity, anomalies, ops, details }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_names_parse_back() {
        for workload in Workload::ALL {
            assert_eq!(Workload::from_name(workload.name()), Some(workload));
        }
        assert_eq!(Workload::from_name("bank"), None);
    }

    #[test]
    fn register_operations_become_history_records() {
        let op = Operation {
            client: 2,
            key: "r1".into(),
            input: Input::Cas { expected: None, new: "2-7".into() },
            invoke_ns: 5,
            complete_ns: 9,
            outcome: linearizability::Outcome::Ok(Output::Cas(false)),
        };
        let record = register_record(&op, false);
        assert_eq!((record.f, record.outcome, record.result.clone()), ("cas", Outcome::Ok, json!(false)));
        assert_eq!(record.value, json!([null, "2-7"]));
        let read = Operation { input: Input::Read, outcome: linearizability::Outcome::Unknown, ..op };
        assert_eq!(register_record(&read, true).f, "final-read");
    }
}
