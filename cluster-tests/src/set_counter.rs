//! The set/counter workload's checker: after a load of `INCR counter` and `SADD set <unique
//! member>` under faults, every acknowledged increment and member must be in the final state,
//! nothing refused may be, and nothing may appear that no client sent.
//!
//! The counter is checked by bounds: every acknowledged INCR happened and every refused one did
//! not, so `acked <= value <= acked + unknown`. The set is checked member by member.

use std::collections::HashSet;

use crate::workload::{Write, WriteOutcomes};

/// The key the workload increments.
pub const COUNTER_KEY: &str = "{sc}:counter";
/// The key the workload adds members to (same hash slot as the counter).
pub const SET_KEY: &str = "{sc}:set";

/// The anomalies in a final state, given the outcomes of every write (empty when it is valid).
pub fn check(outcomes: &WriteOutcomes, counter: i64, members: &HashSet<String>) -> Vec<String> {
    let mut anomalies = Vec::new();
    let is_counter = |w: &&Write| w.key == COUNTER_KEY;
    let is_set = |w: &&Write| w.key == SET_KEY;
    let acked_incr = outcomes.acked.iter().filter(is_counter).count() as i64;
    let unknown_incr = outcomes.unknown.iter().filter(is_counter).count() as i64;
    if counter < acked_incr {
        anomalies.push(format!("lost increments: counter is {counter} after {acked_incr} acknowledged INCRs"));
    }
    if counter > acked_incr + unknown_incr {
        anomalies.push(format!(
            "phantom increments: counter is {counter}, but only {acked_incr} INCRs were acknowledged and {unknown_incr} \
             have an unknown outcome"
        ));
    }
    for write in outcomes.acked.iter().filter(is_set) {
        if !members.contains(&write.value) {
            anomalies.push(format!("lost member: acknowledged SADD of {} is missing ({})", write.value, write.reply));
        }
    }
    for write in outcomes.refused.iter().filter(is_set) {
        if members.contains(&write.value) {
            anomalies.push(format!("refused SADD of {} happened ({})", write.value, write.reply));
        }
    }
    let sent: HashSet<&str> =
        outcomes.acked.iter().chain(&outcomes.unknown).filter(is_set).map(|w| w.value.as_str()).collect();
    for member in members {
        if !sent.contains(member.as_str()) {
            anomalies.push(format!("phantom member {member}: no acknowledged or unknown SADD added it"));
        }
    }
    anomalies
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(key: &str, value: &str) -> Write {
        Write { key: key.into(), value: value.into(), reply: String::new() }
    }

    fn outcomes() -> WriteOutcomes {
        WriteOutcomes {
            acked: vec![write(COUNTER_KEY, ""), write(COUNTER_KEY, ""), write(SET_KEY, "a"), write(SET_KEY, "b")],
            refused: vec![write(COUNTER_KEY, ""), write(SET_KEY, "r")],
            unknown: vec![write(COUNTER_KEY, ""), write(SET_KEY, "u")],
            unexpected: Vec::new(),
        }
    }

    fn members(list: &[&str]) -> HashSet<String> {
        list.iter().map(|m| m.to_string()).collect()
    }

    #[test]
    fn valid_final_states_pass_whatever_happened_to_unknown_writes() {
        assert!(check(&outcomes(), 2, &members(&["a", "b"])).is_empty());
        assert!(check(&outcomes(), 3, &members(&["a", "b", "u"])).is_empty());
    }

    #[test]
    fn lost_and_phantom_writes_are_flagged() {
        assert!(check(&outcomes(), 1, &members(&["a", "b"]))[0].starts_with("lost increments"));
        assert!(check(&outcomes(), 4, &members(&["a", "b"]))[0].starts_with("phantom increments"));
        assert!(check(&outcomes(), 2, &members(&["a"]))[0].starts_with("lost member"));
        assert!(check(&outcomes(), 2, &members(&["a", "b", "r"]))[0].starts_with("refused SADD"));
        assert!(check(&outcomes(), 2, &members(&["a", "b", "zz"]))[0].starts_with("phantom member"));
    }
}
