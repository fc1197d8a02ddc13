//! A linearizability checker for histories of register operations (read, write, compare-and-set)
//! recorded by clients of a live cluster.
//!
//! The search is Wing & Gong's, with Lowe's memoization: depth-first, it picks an operation that
//! may take effect next (one invoked before every pending operation's completion), applies it to
//! the register model, and remembers each (set of linearized operations, register value) pair it
//! has visited, so an equivalent state reached by another order is not searched twice.
//! Registers on different keys are independent, so the history is split by key and each key is
//! checked alone (P-compositionality): the search is exponential in concurrency per key, not in
//! the whole history.
//!
//! Outcomes follow what a client can know: `Ok` carries the observed result; `Fail` means the
//! operation definitely did not happen (MOVED, CLUSTERDOWN, TRYAGAIN) and is dropped; `Unknown`
//! (UNCERTAIN, a timeout, a lost connection) may have happened at any time after its invocation,
//! or never: its completion is treated as +infinity and it need not be linearized at all.
//!
//! The search has a step budget; running out of it yields [`Verdict::Unknown`], never
//! "not linearizable", because a verdict must come from a finished search.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

/// Search steps allowed per key by default; a few hundred operations per key with little
/// concurrency need thousands, so this only stops pathological histories.
pub const DEFAULT_STEP_BUDGET: u64 = 5_000_000;

/// What a client asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// `GET key`.
    Read,
    /// `SET key value`.
    Write(String),
    /// Sets the register to `new` if it holds `expected` (`None`: the key is absent).
    Cas { expected: Option<String>, new: String },
}

/// What a client observed when the operation completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// The value read; `None` when the key was absent.
    Read(Option<String>),
    /// The write was acknowledged.
    Write,
    /// Whether the compare-and-set swapped.
    Cas(bool),
}

/// How an operation ended, as far as the client knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Completed with this result.
    Ok(Output),
    /// Definitely did not take effect.
    Fail,
    /// May or may not have taken effect, at any time after invocation.
    Unknown,
}

/// One recorded operation. Times are nanoseconds on one monotonic clock shared by all clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The client (thread) that issued it; only for messages.
    pub client: usize,
    pub key: String,
    pub input: Input,
    /// When the client sent the request.
    pub invoke_ns: u64,
    /// When the client saw the outcome; ignored for [`Outcome::Unknown`].
    pub complete_ns: u64,
    pub outcome: Outcome,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let input = match &self.input {
            Input::Read => format!("read({})", self.key),
            Input::Write(v) => format!("write({}, {v:?})", self.key),
            Input::Cas { expected, new } => format!("cas({}, {expected:?} -> {new:?})", self.key),
        };
        let outcome = match &self.outcome {
            Outcome::Ok(Output::Read(v)) => format!("-> {v:?}"),
            Outcome::Ok(Output::Write) => "-> ok".to_string(),
            Outcome::Ok(Output::Cas(swapped)) => format!("-> {swapped}"),
            Outcome::Fail => "-> failed".to_string(),
            Outcome::Unknown => "-> unknown".to_string(),
        };
        let complete = match self.outcome {
            Outcome::Unknown => "inf".to_string(),
            _ => format!("{:.3}ms", self.complete_ns as f64 / 1e6),
        };
        write!(f, "client {} {input} {outcome} [{:.3}ms, {complete}]", self.client, self.invoke_ns as f64 / 1e6)
    }
}

/// The checker's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Linearizable,
    /// No order of the key's operations respects real time and register semantics.
    NotLinearizable {
        key: String,
        explanation: String,
    },
    /// The step budget ran out on `key` before the search finished: no verdict.
    Unknown {
        key: String,
        steps: u64,
    },
}

/// Checks `history` with [`DEFAULT_STEP_BUDGET`] steps per key.
pub fn check(history: &[Operation]) -> Verdict {
    check_with_budget(history, DEFAULT_STEP_BUDGET)
}

/// Checks `history`, allowing `steps_per_key` search steps for each key. Keys are checked in
/// name order and the first key that is not linearizable (or runs out of budget) is reported.
pub fn check_with_budget(history: &[Operation], steps_per_key: u64) -> Verdict {
    let mut by_key: BTreeMap<&str, Vec<&Operation>> = BTreeMap::new();
    for op in history {
        by_key.entry(op.key.as_str()).or_default().push(op);
    }
    let mut unknown = None;
    for (key, ops) in by_key {
        match KeySearch::new(&ops).run(steps_per_key) {
            KeyVerdict::Linearizable => {}
            KeyVerdict::NotLinearizable(explanation) => {
                return Verdict::NotLinearizable { key: key.to_string(), explanation };
            }
            // Keep checking the other keys: a definite violation elsewhere is worth more.
            KeyVerdict::Unknown(steps) => unknown = unknown.or(Some(Verdict::Unknown { key: key.to_string(), steps })),
        }
    }
    unknown.unwrap_or(Verdict::Linearizable)
}

/// The register's value as an interned id; `None` is the absent key.
type State = Option<u32>;

/// An operation prepared for the search: values interned, unknown completion at +infinity.
struct Prepared<'a> {
    op: &'a Operation,
    invoke_ns: u64,
    complete_ns: u64,
    kind: Kind,
}

enum Kind {
    Read(State),
    Write(u32),
    Cas {
        expected: State,
        new: u32,
        swapped: Option<bool>,
    },
    /// An unknown-outcome read: it constrains nothing, so it is dropped before the search.
    Nothing,
}

enum KeyVerdict {
    Linearizable,
    NotLinearizable(String),
    Unknown(u64),
}

struct KeySearch<'a> {
    /// Sorted by invocation time.
    ops: Vec<Prepared<'a>>,
    /// Operations that must be linearized (known outcome); unknown ones may be left out.
    required: usize,
}

/// A fixed-size set of operation indices, hashable for the memo.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Bits {
        Bits(vec![0; n.div_ceil(64)])
    }
    fn get(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    fn clear(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }
}

/// One level of the depth-first search: the state reached, the operations that may go next, and
/// the operation whose linearization led here (undone when the level is abandoned).
struct Level {
    state: State,
    candidates: Vec<usize>,
    cursor: usize,
    via: Option<usize>,
}

impl<'a> KeySearch<'a> {
    fn new(ops: &[&'a Operation]) -> KeySearch<'a> {
        let mut values: HashMap<&'a str, u32> = HashMap::new();
        let mut intern = |v: &'a str| {
            let next = values.len() as u32;
            *values.entry(v).or_insert(next)
        };
        let mut prepared = Vec::new();
        for &op in ops {
            let known = match &op.outcome {
                Outcome::Fail => continue,
                Outcome::Unknown => None,
                Outcome::Ok(output) => Some(output),
            };
            let kind = match (&op.input, known) {
                (Input::Read, None) => Kind::Nothing,
                (Input::Read, Some(Output::Read(v))) => Kind::Read(v.as_deref().map(&mut intern)),
                (Input::Write(v), None | Some(Output::Write)) => Kind::Write(intern(v)),
                (Input::Cas { expected, new }, None) => {
                    Kind::Cas { expected: expected.as_deref().map(&mut intern), new: intern(new), swapped: None }
                }
                (Input::Cas { expected, new }, Some(Output::Cas(swapped))) => Kind::Cas {
                    expected: expected.as_deref().map(&mut intern),
                    new: intern(new),
                    swapped: Some(*swapped),
                },
                // An output that does not match the input is a recording bug; no order can
                // explain it, so leave it impossible to linearize and let the search report it.
                (_, Some(_)) => Kind::Read(Some(u32::MAX)),
            };
            if matches!(kind, Kind::Nothing) {
                continue;
            }
            let complete_ns = if known.is_some() { op.complete_ns } else { u64::MAX };
            prepared.push(Prepared { op, invoke_ns: op.invoke_ns, complete_ns, kind });
        }
        // An unknown write whose value nobody observed can be left out: in any linearization
        // that includes it, no read falls between it and the next write (such a read would have
        // observed it), so removing it leaves a linearization too. Without this, every such
        // write doubles the states to search (placed or not), and a paused leader leaves dozens
        // of them. A failed CAS could depend on the overwritten value, so keys with CAS keep them.
        if !prepared.iter().any(|p| matches!(p.kind, Kind::Cas { .. })) {
            let observed: HashSet<u32> = prepared
                .iter()
                .filter_map(|p| match p.kind {
                    Kind::Read(seen) => seen,
                    _ => None,
                })
                .collect();
            prepared.retain(|p| {
                let unobserved_unknown_write =
                    p.complete_ns == u64::MAX && matches!(p.kind, Kind::Write(v) if !observed.contains(&v));
                !unobserved_unknown_write
            });
        }
        prepared.sort_by_key(|p| (p.invoke_ns, p.complete_ns));
        let required = prepared.iter().filter(|p| p.complete_ns != u64::MAX).count();
        KeySearch { ops: prepared, required }
    }

    /// The register after `op` takes effect in `state`, or `None` if its observed result
    /// contradicts `state`.
    fn step(&self, state: State, op: usize) -> Option<State> {
        match self.ops[op].kind {
            Kind::Read(seen) => (seen == state).then_some(state),
            Kind::Write(v) => Some(Some(v)),
            Kind::Cas { expected, new, swapped } => {
                let matches = expected == state;
                match swapped {
                    Some(s) if s != matches => None,
                    _ if matches => Some(Some(new)),
                    _ => Some(state),
                }
            }
            Kind::Nothing => Some(state),
        }
    }

    /// Operations that may take effect next: not yet linearized, and invoked no later than the
    /// earliest completion among the operations not yet linearized (anything invoked after that
    /// completion must follow it in real time).
    fn candidates(&self, done: &Bits) -> Vec<usize> {
        let pending = || (0..self.ops.len()).filter(|&i| !done.get(i));
        let horizon = pending().map(|i| self.ops[i].complete_ns).min().unwrap_or(u64::MAX);
        // Sorted by invocation, so the scan stops at the first operation past the horizon.
        let mut out: Vec<usize> = pending().take_while(|&i| self.ops[i].invoke_ns <= horizon).collect();
        // Known operations first: they must be placed anyway, unknown ones only may be.
        out.sort_by_key(|&i| self.ops[i].complete_ns == u64::MAX);
        out
    }

    fn run(&self, budget: u64) -> KeyVerdict {
        if self.required == 0 {
            return KeyVerdict::Linearizable;
        }
        let mut done = Bits::new(self.ops.len());
        let mut placed_required = 0usize;
        let mut seen: HashSet<(Bits, State)> = HashSet::new();
        let mut stack = vec![Level { state: None, candidates: self.candidates(&done), cursor: 0, via: None }];
        // The deepest point reached, for the explanation of a violation.
        let mut deepest: (usize, State, Vec<usize>) = (0, None, stack[0].candidates.clone());
        let mut steps = 0u64;
        while let Some(level) = stack.last_mut() {
            steps += 1;
            if steps > budget {
                return KeyVerdict::Unknown(steps);
            }
            if level.cursor == level.candidates.len() {
                // Every choice at this level failed: undo the step that led here.
                if let Some(op) = level.via {
                    done.clear(op);
                    if self.ops[op].complete_ns != u64::MAX {
                        placed_required -= 1;
                    }
                }
                stack.pop();
                continue;
            }
            let op = level.candidates[level.cursor];
            level.cursor += 1;
            let Some(next) = self.step(level.state, op) else {
                continue;
            };
            done.set(op);
            let required = self.ops[op].complete_ns != u64::MAX;
            if required {
                placed_required += 1;
            }
            if placed_required == self.required {
                return KeyVerdict::Linearizable;
            }
            if seen.insert((done.clone(), next)) {
                let candidates = self.candidates(&done);
                if placed_required > deepest.0 {
                    deepest = (placed_required, next, candidates.clone());
                }
                stack.push(Level { state: next, candidates, cursor: 0, via: Some(op) });
            } else {
                done.clear(op);
                if required {
                    placed_required -= 1;
                }
            }
        }
        KeyVerdict::NotLinearizable(self.explain(deepest))
    }

    fn explain(&self, (placed, state, candidates): (usize, State, Vec<usize>)) -> String {
        const SHOWN_MAX: usize = 8;
        let value = match state {
            None => "absent".to_string(),
            Some(id) => self
                .ops
                .iter()
                .find_map(|p| match (&p.op.input, &p.kind) {
                    (Input::Write(v), Kind::Write(w)) if *w == id => Some(format!("{v:?}")),
                    (Input::Cas { new, .. }, Kind::Cas { new: w, .. }) if *w == id => Some(format!("{new:?}")),
                    _ => None,
                })
                .unwrap_or_else(|| format!("#{id}")),
        };
        let mut shown: Vec<String> =
            candidates.iter().take(SHOWN_MAX).map(|&i| format!("  {}", self.ops[i].op)).collect();
        if candidates.len() > SHOWN_MAX {
            shown.push(format!("  ... and {} more", candidates.len() - SHOWN_MAX));
        }
        format!(
            "at best {placed} of {} completed operations could be ordered; with the register {value}, none \
             of the operations that could go next fits:\n{}",
            self.required,
            shown.join("\n")
        )
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn op(client: usize, key: &str, input: Input, invoke: u64, complete: u64, outcome: Outcome) -> Operation {
        Operation { client, key: key.to_string(), input, invoke_ns: invoke, complete_ns: complete, outcome }
    }

    fn write(client: usize, v: &str, invoke: u64, complete: u64) -> Operation {
        op(client, "k", Input::Write(v.to_string()), invoke, complete, Outcome::Ok(Output::Write))
    }

    fn read(client: usize, v: Option<&str>, invoke: u64, complete: u64) -> Operation {
        op(client, "k", Input::Read, invoke, complete, Outcome::Ok(Output::Read(v.map(str::to_string))))
    }

    fn cas(client: usize, expected: Option<&str>, new: &str, swapped: bool, invoke: u64, complete: u64) -> Operation {
        let input = Input::Cas { expected: expected.map(str::to_string), new: new.to_string() };
        op(client, "k", input, invoke, complete, Outcome::Ok(Output::Cas(swapped)))
    }

    fn unknown_write(client: usize, v: &str, invoke: u64) -> Operation {
        op(client, "k", Input::Write(v.to_string()), invoke, 0, Outcome::Unknown)
    }

    #[track_caller]
    fn assert_violation(history: &[Operation]) -> String {
        match check(history) {
            Verdict::NotLinearizable { key, explanation } => {
                assert_eq!(key, "k");
                explanation
            }
            other => panic!("expected a violation, got {other:?}"),
        }
    }

    #[test]
    fn a_sequential_history_is_linearizable() {
        let history = [
            read(0, None, 0, 1),
            write(0, "a", 2, 3),
            read(1, Some("a"), 4, 5),
            write(1, "b", 6, 7),
            read(0, Some("b"), 8, 9),
        ];
        assert_eq!(check(&history), Verdict::Linearizable);
    }

    #[test]
    fn concurrent_writes_and_reads_may_take_effect_in_either_order() {
        // Two overlapping writes; overlapping reads may see either, as long as all readers that
        // do not overlap each other agree with one order.
        let a_then_b =
            [write(0, "a", 0, 10), write(1, "b", 1, 11), read(2, Some("a"), 2, 3), read(2, Some("b"), 12, 13)];
        assert_eq!(check(&a_then_b), Verdict::Linearizable);
        let b_then_a =
            [write(0, "a", 0, 10), write(1, "b", 1, 11), read(2, Some("b"), 2, 3), read(2, Some("a"), 12, 13)];
        assert_eq!(check(&b_then_a), Verdict::Linearizable);
    }

    #[test]
    fn a_stale_read_is_flagged() {
        // "b" completed before the read started, so reading "a" goes back in time.
        let history = [write(0, "a", 0, 1), write(0, "b", 2, 3), read(1, Some("a"), 4, 5)];
        let explanation = assert_violation(&history);
        assert!(explanation.contains("read(k)"), "{explanation}");
    }

    #[test]
    fn a_lost_acknowledged_write_is_flagged() {
        let history =
            [write(0, "a", 0, 1), write(1, "b", 2, 3), read(2, Some("a"), 10, 11), read(2, Some("a"), 12, 13)];
        assert_violation(&history);
    }

    #[test]
    fn a_read_of_a_value_never_written_is_flagged() {
        let history = [write(0, "a", 0, 1), read(1, Some("zzz"), 2, 3)];
        assert_violation(&history);
    }

    #[test]
    fn reads_of_different_keys_do_not_interfere() {
        let mut other = write(0, "b", 2, 3);
        other.key = "other".to_string();
        let history = [write(0, "a", 0, 1), other, read(1, Some("a"), 4, 5)];
        assert_eq!(check(&history), Verdict::Linearizable);
    }

    #[test]
    fn an_unknown_write_that_is_observed_later_is_accepted() {
        // The write timed out but took effect: a read long after its invocation sees it.
        let history = [write(0, "a", 0, 1), unknown_write(1, "b", 2), read(2, Some("b"), 100, 101)];
        assert_eq!(check(&history), Verdict::Linearizable);
    }

    #[test]
    fn an_unknown_write_that_is_never_observed_is_accepted() {
        let history = [write(0, "a", 0, 1), unknown_write(1, "b", 2), read(2, Some("a"), 100, 101)];
        assert_eq!(check(&history), Verdict::Linearizable);
    }

    #[test]
    fn many_unknown_writes_that_are_never_observed_do_not_slow_the_search() {
        // As after a paused leader: dozens of timed-out writes, then ordinary traffic.
        let mut history: Vec<Operation> = (0..60).map(|i| unknown_write(i, &format!("lost{i}"), i as u64)).collect();
        for i in 0..100u64 {
            let t = 1000 + 10 * i;
            history.push(write(100, &format!("w{i}"), t, t + 2));
            history.push(read(101, Some(&format!("w{i}")), t + 3, t + 4));
        }
        assert_eq!(check_with_budget(&history, 10_000), Verdict::Linearizable);
    }

    #[test]
    fn an_unknown_write_that_is_observed_among_many_unknown_writes_is_accepted() {
        let mut history: Vec<Operation> = (0..40).map(|i| unknown_write(i, &format!("u{i}"), i as u64)).collect();
        history.push(write(100, "a", 100, 101));
        history.push(read(101, Some("u7"), 200, 201));
        history.push(read(101, Some("u7"), 300, 301));
        assert_eq!(check_with_budget(&history, 10_000), Verdict::Linearizable);
        history.push(read(101, Some("a"), 400, 401));
        assert_violation(&history);
    }

    #[test]
    fn an_unknown_write_cannot_take_effect_before_it_was_invoked() {
        let history = [write(0, "a", 0, 1), read(2, Some("b"), 2, 3), unknown_write(1, "b", 10)];
        assert_violation(&history);
    }

    #[test]
    fn a_failed_write_is_ignored_and_reading_its_value_is_flagged() {
        let failed = op(1, "k", Input::Write("b".to_string()), 2, 3, Outcome::Fail);
        assert_eq!(check(&[write(0, "a", 0, 1), failed.clone(), read(2, Some("a"), 4, 5)]), Verdict::Linearizable);
        assert_violation(&[write(0, "a", 0, 1), failed, read(2, Some("b"), 4, 5)]);
    }

    #[test]
    fn cas_swaps_only_when_the_register_holds_the_expected_value() {
        let good = [
            write(0, "a", 0, 1),
            cas(0, Some("a"), "b", true, 2, 3),
            cas(1, Some("a"), "c", false, 4, 5),
            read(1, Some("b"), 6, 7),
            cas(1, None, "d", false, 8, 9),
        ];
        assert_eq!(check(&good), Verdict::Linearizable);
        // A successful cas from a value the register did not hold.
        assert_violation(&[write(0, "a", 0, 1), cas(0, Some("x"), "b", true, 2, 3)]);
        // A failed cas that should have matched, and a read of a value no cas installed.
        assert_violation(&[write(0, "a", 0, 1), cas(0, Some("a"), "b", false, 2, 3), read(0, Some("b"), 4, 5)]);
        // A cas on an absent key expecting absence.
        assert_eq!(check(&[cas(0, None, "a", true, 0, 1), read(0, Some("a"), 2, 3)]), Verdict::Linearizable);
    }

    #[test]
    fn an_exhausted_budget_gives_no_verdict() {
        // Many concurrent writes and a final read of an impossible value force a long search.
        let mut history: Vec<Operation> = (0..12).map(|i| write(i, &format!("v{i}"), 0, 100)).collect();
        history.push(read(99, Some("never"), 200, 201));
        assert!(
            matches!(check_with_budget(&history, 50), Verdict::Unknown { .. }),
            "{:?}",
            check_with_budget(&history, 50)
        );
        assert!(matches!(check(&history), Verdict::NotLinearizable { .. }));
    }

    /// A pseudo-random but valid history: `clients` clients over `keys` keys; each operation
    /// takes effect at a random point of its interval on a simulated register.
    fn simulated_history(ops: usize, keys: usize, clients: usize, seed: u64) -> Vec<Operation> {
        let mut rng = seed | 1;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        // Clients run one operation at a time; each operation's effect point is invoke+1,
        // its completion some time later, so operations of different clients overlap.
        let mut free_at = vec![0u64; clients];
        let mut registers: Vec<Option<String>> = vec![None; keys];
        let mut events: Vec<(u64, usize)> = Vec::new();
        let mut history = Vec::new();
        for i in 0..ops {
            let client = (next() % clients as u64) as usize;
            let invoke = free_at[client] + next() % 5;
            let complete = invoke + 2 + next() % 20;
            free_at[client] = complete + 1;
            events.push((invoke + 1, i));
            let key = (next() % keys as u64) as usize;
            let input = if next() % 2 == 0 { Input::Read } else { Input::Write(format!("{client}-{i}")) };
            history.push(op(client, &format!("k{key}"), input, invoke, complete, Outcome::Unknown));
        }
        // Apply effects in effect-time order to fill in the outputs.
        events.sort();
        for (_, i) in events {
            let key: usize = history[i].key[1..].parse().expect("simulated key");
            history[i].outcome = match &history[i].input {
                Input::Write(v) => {
                    registers[key] = Some(v.clone());
                    Outcome::Ok(Output::Write)
                }
                _ => Outcome::Ok(Output::Read(registers[key].clone())),
            };
        }
        history
    }

    #[test]
    fn a_history_of_2000_operations_over_5_keys_checks_in_well_under_a_second() {
        let history = simulated_history(2000, 5, 8, 0x5eed);
        let started = Instant::now();
        assert_eq!(check(&history), Verdict::Linearizable);
        let elapsed = started.elapsed();
        assert!(elapsed.as_millis() < 500, "checking took {elapsed:?}");
    }
}
