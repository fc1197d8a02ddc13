//! The checker against hand-built histories, one per anomaly, and against random histories of
//! a real serial execution, valid as they are and invalid after one injected fault.

use std::collections::BTreeMap;

use super::{check, AnomalyKind, MicroOp, Outcome, Report, Txn};
use crate::register::XorShift;

fn txn(outcome: Outcome, invoke_ns: u64, complete_ns: u64, ops: Vec<MicroOp>) -> Txn {
    Txn { client: 0, invoke_ns, complete_ns, ops, outcome }
}

/// A committed transaction running from 0 to 100: all such transactions overlap, so there are
/// no real-time edges among them.
fn concurrent(ops: Vec<MicroOp>) -> Txn {
    txn(Outcome::Ok, 0, 100, ops)
}

fn append(key: &str, value: u64) -> MicroOp {
    MicroOp::Append { key: key.into(), value }
}

fn read(key: &str, list: &[u64]) -> MicroOp {
    MicroOp::Read { key: key.into(), value: Some(list.to_vec()) }
}

#[track_caller]
fn assert_kinds(txns: &[Txn], expected: &[AnomalyKind]) -> Report {
    let report = check(txns);
    assert_eq!(report.kinds(), expected, "report:\n{report}");
    assert_eq!(report.is_valid(), expected.is_empty());
    report
}

#[test]
fn a_write_cycle_is_g0() {
    let txns = [
        concurrent(vec![append("x", 1), append("y", 2)]),
        concurrent(vec![append("x", 2), append("y", 1)]),
        concurrent(vec![read("x", &[1, 2]), read("y", &[1, 2])]),
    ];
    let report = assert_kinds(&txns, &[AnomalyKind::G0]);
    let cycle = &report.anomalies[0].cycle;
    assert_eq!(cycle.len(), 2);
    assert!(cycle.iter().all(|step| step.kind == "ww"), "{report}");
}

#[test]
fn reading_a_failed_append_is_g1a() {
    let txns = [txn(Outcome::Fail, 0, 10, vec![append("x", 1)]), txn(Outcome::Ok, 20, 30, vec![read("x", &[1])])];
    let report = assert_kinds(&txns, &[AnomalyKind::G1a]);
    assert_eq!(report.anomalies[0].txn_indices, [0, 1]);
}

#[test]
fn reading_an_intermediate_append_is_g1b() {
    let txns = [
        concurrent(vec![append("x", 1), append("x", 2)]),
        concurrent(vec![read("x", &[1])]),
        concurrent(vec![read("x", &[1, 2])]),
    ];
    assert_kinds(&txns, &[AnomalyKind::G1b]);
}

#[test]
fn two_transactions_reading_each_other_is_g1c() {
    let txns = [concurrent(vec![append("x", 1), read("y", &[1])]), concurrent(vec![append("y", 1), read("x", &[1])])];
    assert_kinds(&txns, &[AnomalyKind::G1c]);
}

#[test]
fn read_skew_is_g_single() {
    let txns = [
        concurrent(vec![append("x", 1), append("y", 1)]),
        concurrent(vec![read("x", &[]), read("y", &[1])]),
        concurrent(vec![read("x", &[1])]),
    ];
    let report = assert_kinds(&txns, &[AnomalyKind::GSingle]);
    assert_eq!(report.anomalies[0].cycle.iter().filter(|s| s.kind == "rw").count(), 1);
}

#[test]
fn write_skew_is_g2() {
    let txns = [
        concurrent(vec![read("x", &[]), append("y", 1)]),
        concurrent(vec![read("y", &[]), append("x", 1)]),
        concurrent(vec![read("x", &[1]), read("y", &[1])]),
    ];
    let report = assert_kinds(&txns, &[AnomalyKind::G2]);
    assert_eq!(report.anomalies[0].cycle.iter().filter(|s| s.kind == "rw").count(), 2);
}

#[test]
fn a_stale_read_is_caught_only_by_the_real_time_order() {
    let history = |reader_invoke_ns| {
        [
            txn(Outcome::Ok, 0, 10, vec![append("x", 1)]),
            txn(Outcome::Ok, reader_invoke_ns, 30, vec![read("x", &[])]),
            txn(Outcome::Ok, 40, 50, vec![read("x", &[1])]),
        ]
    };
    let report = assert_kinds(&history(20), &[AnomalyKind::GSingleRealtime]);
    assert!(report.anomalies[0].cycle.iter().any(|s| s.kind == "realtime"), "{report}");
    // The same read, invoked before the append completed, may be ordered before it.
    assert_kinds(&history(5), &[]);
    // At the same instant as the completion is not strictly after it either.
    assert_kinds(&history(10), &[]);
}

#[test]
fn an_acknowledged_append_no_later_read_saw_is_a_lost_update() {
    let txns = [
        txn(Outcome::Ok, 0, 10, vec![append("x", 1)]),
        txn(Outcome::Ok, 0, 10, vec![append("x", 2)]),
        txn(Outcome::Ok, 20, 30, vec![read("x", &[2])]),
    ];
    let report = assert_kinds(&txns, &[AnomalyKind::LostUpdate]);
    assert_eq!(report.anomalies[0].txn_indices, [0, 2]);
    // Unseen by a read that began before the acknowledgement: maybe just not applied yet.
    let concurrent_read = [txns[0].clone(), txns[1].clone(), txn(Outcome::Ok, 5, 30, vec![read("x", &[2])])];
    assert_kinds(&concurrent_read, &[]);
}

#[test]
fn a_value_read_twice_is_a_duplicate() {
    let txns = [concurrent(vec![append("x", 1)]), concurrent(vec![read("x", &[1, 1])])];
    assert_kinds(&txns, &[AnomalyKind::DuplicateElements]);
}

#[test]
fn reads_that_disagree_on_the_order_are_incompatible() {
    let txns = [
        concurrent(vec![append("x", 1)]),
        concurrent(vec![append("x", 2)]),
        concurrent(vec![read("x", &[1, 2])]),
        concurrent(vec![read("x", &[2, 1])]),
    ];
    assert_kinds(&txns, &[AnomalyKind::IncompatibleOrder]);
}

#[test]
fn a_value_nobody_appended_is_garbage() {
    let txns = [concurrent(vec![append("x", 1)]), concurrent(vec![read("x", &[1, 7])])];
    assert_kinds(&txns, &[AnomalyKind::GarbageRead]);
}

#[test]
fn a_read_contradicting_its_own_transaction_is_internal() {
    assert_kinds(&[concurrent(vec![append("x", 1), read("x", &[])])], &[AnomalyKind::Internal]);
    // Another transaction's append showing up between two reads is also a cycle (read skew).
    let txns = [concurrent(vec![append("x", 1)]), concurrent(vec![read("x", &[]), append("x", 2), read("x", &[1, 2])])];
    assert_kinds(&txns, &[AnomalyKind::GSingle, AnomalyKind::Internal]);
    // Reading one's own appends after others' is consistent.
    let txns =
        [concurrent(vec![append("x", 1)]), concurrent(vec![append("x", 2), read("x", &[1, 2]), read("x", &[1, 2])])];
    assert_kinds(&txns, &[]);
}

#[test]
fn concurrent_transactions_with_unknown_outcomes_are_valid() {
    let txns = [
        txn(Outcome::Ok, 0, 10, vec![append("x", 1)]),
        // Unknown and seen: committed, somewhere after its invocation.
        txn(Outcome::Unknown, 5, 15, vec![append("x", 2), MicroOp::Read { key: "y".into(), value: None }]),
        // Unknown and never seen: it did not happen.
        txn(Outcome::Unknown, 5, 15, vec![append("x", 3)]),
        txn(Outcome::Fail, 5, 15, vec![append("y", 9)]),
        txn(Outcome::Ok, 20, 30, vec![read("x", &[1, 2]), append("y", 4), read("y", &[4])]),
        txn(Outcome::Ok, 25, 35, vec![read("y", &[4]), append("x", 5)]),
        txn(Outcome::Ok, 40, 50, vec![read("x", &[1, 2, 5]), read("y", &[4])]),
    ];
    let report = assert_kinds(&txns, &[]);
    assert_eq!((report.ok, report.failed, report.unknown, report.unknown_committed), (4, 1, 2, 1));
    assert!(report.edges.realtime > 0 && report.edges.rw > 0 && report.edges.wr > 0 && report.edges.ww > 0);
    let text = report.to_string();
    assert!(text.contains("valid"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).expect("the report is JSON");
    assert_eq!(json["anomalies"].as_array().map(Vec::len), Some(0));
}

#[test]
fn an_invalid_report_names_the_anomaly_and_its_transactions_in_text_and_json() {
    let txns = [
        concurrent(vec![read("x", &[]), append("y", 1)]),
        concurrent(vec![read("y", &[]), append("x", 1)]),
        concurrent(vec![read("x", &[1]), read("y", &[1])]),
    ];
    let report = check(&txns);
    let text = report.to_string();
    assert!(text.contains("INVALID") && text.contains("G2") && text.contains("T0") && text.contains("T1"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).expect("the report is JSON");
    assert_eq!(json["anomalies"][0]["kind"], "G2");
    assert_eq!(json["anomalies"][0]["txns"].as_array().map(Vec::len), Some(2));
}

/// A history of a real serial execution: each transaction takes effect at its commit point, in
/// order; its invocation is before that point and its completion after, so real-time order
/// agrees with the serial order while many transactions overlap. Some fail (no effect, nothing
/// read) and some have unknown outcomes (effect or not, nothing read). A final transaction reads
/// every key. The result is shuffled: the checker must not depend on the order.
fn serial_history(seed: u64, txn_count: usize) -> Vec<Txn> {
    let mut rng = XorShift::new(seed);
    let keys = ["a", "b", "c"];
    let mut state: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    let mut next_value: BTreeMap<&str, u64> = BTreeMap::new();
    let mut txns = Vec::new();
    let mut commit_ns = 0;
    for client in 0..txn_count {
        commit_ns += 1 + rng.below(10);
        let outcome = match rng.below(10) {
            0 => Outcome::Fail,
            1 => Outcome::Unknown,
            _ => Outcome::Ok,
        };
        let applies = match outcome {
            Outcome::Ok => true,
            Outcome::Fail => false,
            Outcome::Unknown => rng.below(2) == 0,
        };
        let mut view = state.clone();
        let mut ops = Vec::new();
        for _ in 0..1 + rng.below(4) {
            let key = keys[rng.below(keys.len() as u64) as usize];
            if rng.below(2) == 0 {
                let value = next_value.entry(key).or_insert(1);
                ops.push(append(key, *value));
                view.entry(key).or_default().push(*value);
                *value += 1;
            } else {
                let seen = (outcome == Outcome::Ok).then(|| view.get(key).cloned().unwrap_or_default());
                ops.push(MicroOp::Read { key: key.into(), value: seen });
            }
        }
        if applies {
            state = view;
        }
        let invoke_ns = commit_ns.saturating_sub(rng.below(40));
        let complete_ns = commit_ns + rng.below(40);
        txns.push(Txn { client, invoke_ns, complete_ns, ops, outcome });
    }
    let final_ops = keys.iter().map(|k| read(k, state.get(k).map(Vec::as_slice).unwrap_or_default())).collect();
    txns.push(Txn {
        client: txn_count,
        invoke_ns: commit_ns + 100,
        complete_ns: commit_ns + 110,
        ops: final_ops,
        outcome: Outcome::Ok,
    });
    for i in (1..txns.len()).rev() {
        txns.swap(i, rng.below(i as u64 + 1) as usize);
    }
    txns
}

const SEEDS: u64 = 100;
const TXNS: usize = 150;

#[test]
fn random_serial_histories_are_valid() {
    for seed in 0..SEEDS {
        let txns = serial_history(seed, TXNS);
        let report = check(&txns);
        assert!(report.is_valid(), "seed {seed}:\n{report}");
        assert!(report.edges.ww > 0 && report.edges.realtime > 0, "seed {seed}: a history with no dependencies");
    }
}

#[test]
fn long_lists_are_shortened_in_messages() {
    assert_eq!(super::history::short_list(&[1, 2, 3]), "[1, 2, 3]");
    let long: Vec<u64> = (1..=100).collect();
    assert_eq!(super::history::short_list(&long), "[1, 2, 3, 4, … 100 values …, 97, 98, 99, 100]");
}

#[test]
fn a_long_random_serial_history_is_valid() {
    let txns = serial_history(7, 4_000);
    let report = check(&txns);
    assert!(report.is_valid(), "{report}");
}

/// The index of the final read (the transaction reading every key).
fn final_read(txns: &[Txn]) -> usize {
    txns.iter().position(|t| t.client == TXNS).expect("a final read")
}

fn read_list_mut<'a>(txn: &'a mut Txn, key: &str) -> Option<&'a mut Vec<u64>> {
    txn.ops.iter_mut().find_map(|op| match op {
        MicroOp::Read { key: k, value: Some(list) } if k == key => Some(list),
        _ => None,
    })
}

/// The writer transaction of `value` on `key`.
fn writer(txns: &[Txn], key: &str, value: u64) -> Option<usize> {
    txns.iter().position(|t| t.appends_to(key).any(|v| v == value))
}

#[test]
fn a_random_history_with_a_stale_read_is_invalid() {
    let mut injected = 0;
    for seed in 0..SEEDS {
        let mut txns = serial_history(seed, TXNS);
        // A read that saw a value whose writer was acknowledged before the read began: cut the
        // read just before that value.
        let target = txns.iter().enumerate().find_map(|(r, reader)| {
            reader.ops.iter().enumerate().find_map(|(o, op)| {
                let MicroOp::Read { key, value: Some(list) } = op else { return None };
                list.iter()
                    .position(|&v| {
                        writer(&txns, key, v).is_some_and(|w| {
                            w != r && txns[w].outcome == Outcome::Ok && txns[w].complete_ns < reader.invoke_ns
                        })
                    })
                    .map(|cut| (r, o, cut))
            })
        });
        let Some((r, o, cut)) = target else { continue };
        if let MicroOp::Read { value: Some(list), .. } = &mut txns[r].ops[o] {
            list.truncate(cut);
        }
        injected += 1;
        let report = check(&txns);
        assert!(!report.is_valid(), "seed {seed}: stale read in T{r} not flagged:\n{report}");
    }
    assert!(injected > SEEDS / 2, "too few histories had a read to make stale");
}

#[test]
fn a_random_history_with_a_lost_append_is_invalid() {
    let mut injected = 0;
    for seed in 0..SEEDS {
        let mut txns = serial_history(seed, TXNS);
        let last = final_read(&txns);
        // Drop the last value the final read saw of a key whose last append was acknowledged.
        let target = ["a", "b", "c"].into_iter().find(|key| {
            let list = txns[last].ops.iter().find_map(|op| match op {
                MicroOp::Read { key: k, value: Some(list) } if k == key => list.last().copied(),
                _ => None,
            });
            list.and_then(|v| writer(&txns, key, v)).is_some_and(|w| txns[w].outcome == Outcome::Ok)
        });
        let Some(key) = target else { continue };
        if let Some(list) = read_list_mut(&mut txns[last], key) {
            list.pop();
        }
        injected += 1;
        let report = check(&txns);
        assert!(!report.is_valid(), "seed {seed}: lost append on {key} not flagged:\n{report}");
    }
    assert!(injected > SEEDS / 2, "too few histories had an append to lose");
}

#[test]
fn a_random_history_reading_a_failed_append_is_invalid() {
    let mut injected = 0;
    for seed in 0..SEEDS {
        let mut txns = serial_history(seed, TXNS);
        let last = final_read(&txns);
        let failed = txns.iter().filter(|t| t.outcome == Outcome::Fail).find_map(|t| {
            t.ops.iter().find_map(|op| match op {
                MicroOp::Append { key, value } => Some((key.clone(), *value)),
                MicroOp::Read { .. } => None,
            })
        });
        let Some((key, value)) = failed else { continue };
        if let Some(list) = read_list_mut(&mut txns[last], &key) {
            list.push(value);
        }
        injected += 1;
        let report = check(&txns);
        assert!(report.kinds().contains(&AnomalyKind::G1a), "seed {seed}: aborted read not flagged:\n{report}");
    }
    assert!(injected > SEEDS / 2, "too few histories had a failed append");
}

#[test]
fn a_random_history_with_a_duplicated_value_is_invalid() {
    for seed in 0..SEEDS {
        let mut txns = serial_history(seed, TXNS);
        let last = final_read(&txns);
        let Some(key) =
            ["a", "b", "c"].into_iter().find(|k| read_list_mut(&mut txns[last], k).is_some_and(|l| !l.is_empty()))
        else {
            continue;
        };
        if let Some(list) = read_list_mut(&mut txns[last], key) {
            list.push(list[0]);
        }
        let report = check(&txns);
        assert!(!report.is_valid(), "seed {seed}: duplicate not flagged:\n{report}");
    }
}
