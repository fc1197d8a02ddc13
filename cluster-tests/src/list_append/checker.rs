//! An Elle-style strict-serializability checker for list-append histories (Kingsbury & Alvaro,
//! "Elle: Inferring Isolation Anomalies from Experimental Observations", VLDB 2020).
//!
//! Because every append is unique and a read returns the whole list, a read names every append
//! before it in order. So the longest read of a key gives that key's version order, and every
//! other read must be a prefix of it. From the orders come the dependency edges between
//! transactions: ww (the next append in a key's order), wr (the append a read saw last), rw (a
//! read that missed the next append), plus real-time edges (one transaction completed before
//! the other was invoked) for strictness. A cycle among them is an anomaly, named by the edges
//! it needs ([`crate::list_append::graph::CYCLE_CLASSES`]).
//!
//! Transactions with an unknown outcome count as committed when a read saw any of their
//! appends; otherwise they are left out. They never have outgoing real-time edges: they may
//! have taken effect any time after their invocation.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::graph::{kind_name, DepGraph, Step, Why, RT, RW, WR, WW};
use super::history::{short_list, MicroOp, Outcome, Txn};
use super::report::{Anomaly, AnomalyKind, CycleStep, Report};

/// The transaction that appended a value, and whether it was that transaction's last append
/// to the key.
#[derive(Debug, Clone, Copy)]
struct Writer {
    txn: usize,
    last_in_txn: bool,
}

/// One observed read: transaction, key, and the list with the reader's own trailing appends
/// removed (what it saw of other transactions).
struct Read<'a> {
    txn: usize,
    key: &'a str,
    list: &'a [u64],
    external_len: usize,
}

/// Checks `txns` for strict serializability and the non-cycle anomalies; the order of `txns`
/// does not matter, and reports name transactions by their index in it.
pub fn check(txns: &[Txn]) -> Report {
    let mut anomalies = Vec::new();
    let writers = index_writers(txns);
    let reads = observed_reads(txns);
    let orders = version_orders(&reads);

    for read in &reads {
        check_read_values(txns, &writers, read, &mut anomalies);
    }
    check_prefixes(txns, &reads, &orders, &mut anomalies);
    check_internal(txns, &mut anomalies);

    let seen: HashSet<(&str, u64)> = reads.iter().flat_map(|r| r.list.iter().map(move |&v| (r.key, v))).collect();
    let committed: Vec<bool> = txns
        .iter()
        .map(|t| match t.outcome {
            Outcome::Ok => true,
            Outcome::Fail => false,
            Outcome::Unknown => t.ops.iter().any(|op| match op {
                MicroOp::Append { key, value } => seen.contains(&(key.as_str(), *value)),
                MicroOp::Read { .. } => false,
            }),
        })
        .collect();
    check_lost_updates(txns, &reads, &orders, &mut anomalies);

    let graph = build_graph(txns, &writers, &reads, &orders, &committed);
    for (class, steps) in graph.find_cycles() {
        anomalies.push(cycle_anomaly(txns, &graph, class.name, &steps));
    }

    let count = |outcome: Outcome| txns.iter().filter(|t| t.outcome == outcome).count();
    let unknown_committed = txns.iter().zip(&committed).filter(|(t, &c)| c && t.outcome == Outcome::Unknown).count();
    Report {
        txns: txns.len(),
        ok: count(Outcome::Ok),
        failed: count(Outcome::Fail),
        unknown: count(Outcome::Unknown),
        unknown_committed,
        keys: orders.len(),
        edges: graph.counts,
        anomalies,
    }
}

fn index_writers(txns: &[Txn]) -> HashMap<(&str, u64), Writer> {
    let mut writers = HashMap::new();
    for (index, txn) in txns.iter().enumerate() {
        for (position, op) in txn.ops.iter().enumerate() {
            if let MicroOp::Append { key, value } = op {
                let later_append =
                    txn.ops[position + 1..].iter().any(|op| matches!(op, MicroOp::Append { key: k, .. } if k == key));
                writers.entry((key.as_str(), *value)).or_insert(Writer { txn: index, last_in_txn: !later_append });
            }
        }
    }
    writers
}

fn observed_reads(txns: &[Txn]) -> Vec<Read<'_>> {
    let mut reads = Vec::new();
    for (index, txn) in txns.iter().enumerate().filter(|(_, t)| t.outcome == Outcome::Ok) {
        for (position, op) in txn.ops.iter().enumerate() {
            let MicroOp::Read { key, value: Some(list) } = op else { continue };
            // Only appends made before this read count as the reader's own.
            let own: HashSet<u64> = txn.ops[..position]
                .iter()
                .filter_map(|op| match op {
                    MicroOp::Append { key: k, value } if k == key => Some(*value),
                    _ => None,
                })
                .collect();
            let external_len = list.len() - list.iter().rev().take_while(|v| own.contains(v)).count();
            reads.push(Read { txn: index, key, list, external_len });
        }
    }
    reads
}

/// Each key's longest read (the first one, among equally long reads).
fn version_orders<'a>(reads: &[Read<'a>]) -> BTreeMap<&'a str, &'a [u64]> {
    let mut orders: BTreeMap<&str, &[u64]> = BTreeMap::new();
    for read in reads {
        let order = orders.entry(read.key).or_insert(read.list);
        if read.list.len() > order.len() {
            *order = read.list;
        }
    }
    orders
}

fn check_read_values(txns: &[Txn], writers: &HashMap<(&str, u64), Writer>, read: &Read<'_>, out: &mut Vec<Anomaly>) {
    let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
    for &value in read.list {
        *counts.entry(value).or_default() += 1;
    }
    for (&value, &count) in counts.iter().filter(|(_, &c)| c > 1) {
        let explanation = format!("read of key {} returned {value} {count} times", read.key);
        out.push(Anomaly::new(AnomalyKind::DuplicateElements, explanation, txns, vec![read.txn]));
    }
    for &value in read.list {
        match writers.get(&(read.key, value)) {
            None => {
                let explanation = format!("read of key {} returned {value}, which no transaction appended", read.key);
                out.push(Anomaly::new(AnomalyKind::GarbageRead, explanation, txns, vec![read.txn]));
            }
            Some(writer) if txns[writer.txn].outcome == Outcome::Fail => {
                let explanation =
                    format!("read of key {} saw {value}, appended by a transaction that failed", read.key);
                out.push(Anomaly::new(AnomalyKind::G1a, explanation, txns, vec![writer.txn, read.txn]));
            }
            Some(_) => {}
        }
    }
    let Some(&last) = read.list[..read.external_len].last() else { return };
    if let Some(writer) = writers.get(&(read.key, last)) {
        if writer.txn != read.txn && !writer.last_in_txn {
            let explanation = format!(
                "read of key {} ended at {last}, an intermediate append of a transaction that appended again \
                 to the key later",
                read.key
            );
            out.push(Anomaly::new(AnomalyKind::G1b, explanation, txns, vec![writer.txn, read.txn]));
        }
    }
}

fn check_prefixes(txns: &[Txn], reads: &[Read<'_>], orders: &BTreeMap<&str, &[u64]>, out: &mut Vec<Anomaly>) {
    // One anomaly per key and diverging list: thousands of reads may repeat the same divergence.
    let mut reported: HashSet<(&str, &[u64])> = HashSet::new();
    for read in reads {
        let order = orders[read.key];
        if order.starts_with(read.list) || !reported.insert((read.key, read.list)) {
            continue;
        }
        let longest = reads.iter().find(|r| r.key == read.key && r.list == order).map(|r| r.txn);
        let explanation = format!(
            "reads of key {} disagree on the order of appends: {} is not a prefix of {}",
            read.key,
            short_list(read.list),
            short_list(order)
        );
        let involved = longest.into_iter().chain([read.txn]).collect();
        out.push(Anomaly::new(AnomalyKind::IncompatibleOrder, explanation, txns, involved));
    }
}

/// Inside one transaction a read must show what the transaction's earlier read of the key
/// showed plus its own appends since, or, without an earlier read, end with its own appends.
fn check_internal(txns: &[Txn], out: &mut Vec<Anomaly>) {
    for (index, txn) in txns.iter().enumerate().filter(|(_, t)| t.outcome == Outcome::Ok) {
        // Per key: the exact list when the key was read before, else the appends so far.
        let mut known: HashMap<&str, Vec<u64>> = HashMap::new();
        let mut pending: HashMap<&str, Vec<u64>> = HashMap::new();
        for op in &txn.ops {
            match op {
                MicroOp::Append { key, value } => match known.get_mut(key.as_str()) {
                    Some(list) => list.push(*value),
                    None => pending.entry(key).or_default().push(*value),
                },
                MicroOp::Read { key, value: Some(list) } => {
                    let consistent = match known.get(key.as_str()) {
                        Some(expected) => expected == list,
                        None => list.ends_with(pending.get(key.as_str()).map(Vec::as_slice).unwrap_or_default()),
                    };
                    if !consistent {
                        let explanation = format!(
                            "read of key {key} returned {}, which does not follow from the transaction's own \
                             earlier operations on the key",
                            short_list(list)
                        );
                        out.push(Anomaly::new(AnomalyKind::Internal, explanation, txns, vec![index]));
                    }
                    known.insert(key, list.clone());
                }
                MicroOp::Read { value: None, .. } => {}
            }
        }
    }
}

/// An acknowledged append missing from a key's version order, although a read of the key began
/// after the append was acknowledged.
fn check_lost_updates(txns: &[Txn], reads: &[Read<'_>], orders: &BTreeMap<&str, &[u64]>, out: &mut Vec<Anomaly>) {
    let ordered: HashSet<(&str, u64)> =
        orders.iter().flat_map(|(key, order)| order.iter().map(move |&v| (*key, v))).collect();
    for (index, txn) in txns.iter().enumerate().filter(|(_, t)| t.outcome == Outcome::Ok) {
        for op in &txn.ops {
            let MicroOp::Append { key, value } = op else { continue };
            if ordered.contains(&(key.as_str(), *value)) {
                continue;
            }
            let later = reads
                .iter()
                .filter(|r| r.key == key && txns[r.txn].invoke_ns > txn.complete_ns)
                .max_by_key(|r| txns[r.txn].invoke_ns);
            if let Some(read) = later {
                let explanation = format!(
                    "append of {value} to key {key} was acknowledged, but no read ever saw it, not even one \
                     invoked after the acknowledgement (it read {})",
                    short_list(read.list)
                );
                out.push(Anomaly::new(AnomalyKind::LostUpdate, explanation, txns, vec![index, read.txn]));
            }
        }
    }
}

fn build_graph(
    txns: &[Txn],
    writers: &HashMap<(&str, u64), Writer>,
    reads: &[Read<'_>],
    orders: &BTreeMap<&str, &[u64]>,
    committed: &[bool],
) -> DepGraph {
    let mut graph = DepGraph::new(txns.len());
    let writer_of = |key: &str, value: u64| writers.get(&(key, value)).map(|w| w.txn).filter(|&t| committed[t]);
    let why = |key: &str, prior: Option<u64>, value: Option<u64>| Why { key: Some(key.to_string()), prior, value };
    for (&key, order) in orders {
        for pair in order.windows(2) {
            if let (Some(a), Some(b)) = (writer_of(key, pair[0]), writer_of(key, pair[1])) {
                graph.add(a, b, WW, why(key, Some(pair[0]), Some(pair[1])));
            }
        }
    }
    for read in reads {
        let order = orders[read.key];
        if !order.starts_with(read.list) {
            continue;
        }
        let external = &read.list[..read.external_len];
        if let Some(&last) = external.last() {
            if let Some(writer) = writer_of(read.key, last) {
                graph.add(writer, read.txn, WR, why(read.key, None, Some(last)));
            }
        }
        if let Some(&next) = order.get(external.len()) {
            // A read that stopped inside another transaction's appends is G1b, reported above;
            // an rw edge back to that same transaction would only repeat it as a cycle.
            let intermediate = external.last().and_then(|&last| writer_of(read.key, last));
            if let Some(writer) = writer_of(read.key, next).filter(|&w| Some(w) != intermediate) {
                graph.add(read.txn, writer, RW, why(read.key, external.last().copied(), Some(next)));
            }
        }
    }
    add_realtime_edges(txns, committed, &mut graph);
    graph
}

/// Real-time edges A → B when A completed (acknowledged) before B was invoked, transitively
/// reduced: after A completes, the transactions that precede A need no edges of their own to
/// later transactions, since paths through A already order them.
fn add_realtime_edges(txns: &[Txn], committed: &[bool], graph: &mut DepGraph) {
    // (time, is_invoke, txn): at equal times invocations come first, so no edge is made for a
    // completion and an invocation at the same instant (they are not strictly ordered).
    let mut events: Vec<(u64, bool, usize)> = Vec::new();
    for (index, txn) in txns.iter().enumerate().filter(|(i, _)| committed[*i]) {
        events.push((txn.invoke_ns, true, index));
        if txn.outcome == Outcome::Ok {
            events.push((txn.complete_ns, false, index));
        }
    }
    events.sort_unstable_by_key(|&(time, is_invoke, _)| (time, !is_invoke));
    let mut frontier: Vec<usize> = Vec::new();
    let mut preceded_by: HashMap<usize, Vec<usize>> = HashMap::new();
    let no_why = Why { key: None, prior: None, value: None };
    for (_, is_invoke, txn) in events {
        if is_invoke {
            for &before in &frontier {
                graph.add(before, txn, RT, no_why.clone());
            }
            preceded_by.insert(txn, frontier.clone());
        } else {
            let before = preceded_by.remove(&txn).unwrap_or_default();
            frontier.retain(|t| !before.contains(t));
            frontier.push(txn);
        }
    }
}

fn cycle_anomaly(txns: &[Txn], graph: &DepGraph, name: &str, steps: &[Step]) -> Anomaly {
    let kind = AnomalyKind::from_cycle_class(name);
    let cycle: Vec<CycleStep> = steps
        .iter()
        .map(|step| {
            let why = graph.why(step.from, step.to, step.kind);
            let because = match (step.kind, why) {
                (RT, _) | (_, None) => format!("T{} completed before T{} was invoked", step.from, step.to),
                (WW, Some(w)) => format!(
                    "T{} appended {:?} to {}, T{} appended {:?} right after it",
                    step.from,
                    w.prior.unwrap_or_default(),
                    w.key.as_deref().unwrap_or_default(),
                    step.to,
                    w.value.unwrap_or_default()
                ),
                (WR, Some(w)) => format!(
                    "T{} read {} ending at {}, appended by T{}",
                    step.to,
                    w.key.as_deref().unwrap_or_default(),
                    w.value.unwrap_or_default(),
                    step.from
                ),
                (_, Some(w)) => format!(
                    "T{} read {} {}, without {} that T{} appended next",
                    step.from,
                    w.key.as_deref().unwrap_or_default(),
                    w.prior.map_or("empty".to_string(), |p| format!("up to {p}")),
                    w.value.unwrap_or_default(),
                    step.to
                ),
            };
            CycleStep { from: step.from, to: step.to, kind: kind_name(step.kind).to_string(), because }
        })
        .collect();
    let path: Vec<String> = steps.iter().map(|s| format!("T{} -{}->", s.from, kind_name(s.kind))).collect();
    let first = steps.first().map(|s| s.from).unwrap_or_default();
    let explanation = format!("cycle {} T{first}", path.join(" "));
    let mut anomaly = Anomaly::new(kind, explanation, txns, steps.iter().map(|s| s.from).collect());
    anomaly.cycle = cycle;
    anomaly
}
