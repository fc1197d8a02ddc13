//! The lin-kv clients' choices and how a reply becomes an outcome the checker understands.
//!
//! Each client writes values no other write uses (`client * 1_000_000 + sequence`), so a read
//! names the write it saw. A `cas` expects the value the client last saw on that key (or a
//! value nobody wrote, when it saw none), so some swaps succeed and some fail.
//!
//! Outcomes, as Maelstrom reads them: `read_ok` and error 20 (the key is absent) are reads;
//! `cas_ok` is a swap, errors 20 and 22 a swap that did not happen; any other definite error
//! (11 above all) means the operation did not happen; error 0, 13, an unknown code or no reply
//! leave it unknown.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::super::protocol::{canonical, code, Payload};
use crate::linearizability::{Input, Outcome, Output};
use crate::register::XorShift;

/// One client's generator of requests.
#[derive(Debug)]
pub struct ClientGen {
    client: usize,
    keys: u64,
    rng: XorShift,
    sequence: u64,
    /// The last value this client saw or wrote per key (canonical text).
    last_seen: HashMap<u64, Value>,
}

impl ClientGen {
    pub fn new(client: usize, keys: usize, seed: u64) -> ClientGen {
        ClientGen {
            client,
            keys: keys.max(1) as u64,
            rng: XorShift::new(seed.wrapping_add(client as u64)),
            sequence: 0,
            last_seen: HashMap::new(),
        }
    }

    /// A number in `0..n`, from this client's generator (for picking nodes and pauses).
    pub fn below(&mut self, n: u64) -> u64 {
        self.rng.below(n.max(1))
    }

    fn fresh_value(&mut self) -> Value {
        self.sequence += 1;
        json!((self.client as u64 + 1) * 1_000_000 + self.sequence)
    }

    /// The next request: 40% reads, 30% writes, 30% compare-and-sets.
    pub fn next_request(&mut self) -> Payload {
        let key = self.rng.below(self.keys);
        match self.rng.below(10) {
            0..=3 => Payload::Read { key: json!(key) },
            4..=6 => Payload::Write { key: json!(key), value: self.fresh_value() },
            _ => {
                // A value no write uses when the client has seen none: the swap must fail.
                let from = self.last_seen.get(&key).cloned().unwrap_or(json!(0));
                Payload::Cas { key: json!(key), from, to: self.fresh_value(), create_if_not_exists: false }
            }
        }
    }

    /// Remembers what a completed request showed about its key.
    pub fn observe(&mut self, request: &Payload, reply: Option<&Payload>) {
        let key = match request {
            Payload::Read { key } | Payload::Write { key, .. } | Payload::Cas { key, .. } => key.as_u64(),
            _ => None,
        };
        let Some(key) = key else { return };
        let seen = match (request, reply) {
            (_, Some(Payload::ReadOk { value })) => value.clone(),
            (Payload::Write { value, .. }, Some(Payload::WriteOk)) => value.clone(),
            (Payload::Cas { to, .. }, Some(Payload::CasOk)) => to.clone(),
            _ => return,
        };
        self.last_seen.insert(key, seen);
    }
}

/// The checker's key and input for a request, or `None` for a non-lin-kv payload.
pub fn input_of(request: &Payload) -> Option<(String, Input)> {
    match request {
        Payload::Read { key } => Some((canonical(key), Input::Read)),
        Payload::Write { key, value } => Some((canonical(key), Input::Write(canonical(value)))),
        Payload::Cas { key, from, to, .. } => {
            Some((canonical(key), Input::Cas { expected: Some(canonical(from)), new: canonical(to) }))
        }
        _ => None,
    }
}

/// The outcome of `input` given its reply (`None`: no reply in time).
pub fn outcome_of(input: &Input, reply: Option<&Payload>) -> Outcome {
    let Some(reply) = reply else { return Outcome::Unknown };
    match (input, reply) {
        (Input::Read, Payload::ReadOk { value }) => Outcome::Ok(Output::Read(Some(canonical(value)))),
        (Input::Read, Payload::Error { code: code::KEY_DOES_NOT_EXIST, .. }) => Outcome::Ok(Output::Read(None)),
        (Input::Write(_), Payload::WriteOk) => Outcome::Ok(Output::Write),
        (Input::Cas { .. }, Payload::CasOk) => Outcome::Ok(Output::Cas(true)),
        (Input::Cas { .. }, Payload::Error { code: code::KEY_DOES_NOT_EXIST | code::PRECONDITION_FAILED, .. }) => {
            Outcome::Ok(Output::Cas(false))
        }
        (_, Payload::Error { code, .. }) if code::is_definite(*code) => Outcome::Fail,
        // Indefinite errors, and replies of the wrong type (which a correct node never sends).
        _ => Outcome::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_become_outcomes_as_maelstrom_reads_them() {
        let read = Input::Read;
        let write = Input::Write("5".into());
        let cas = Input::Cas { expected: Some("1".into()), new: "2".into() };
        let err = |c: u32| Payload::error(c, "");
        assert_eq!(
            outcome_of(&read, Some(&Payload::ReadOk { value: json!(5) })),
            Outcome::Ok(Output::Read(Some("5".into())))
        );
        assert_eq!(outcome_of(&read, Some(&err(20))), Outcome::Ok(Output::Read(None)));
        assert_eq!(outcome_of(&read, Some(&err(11))), Outcome::Fail);
        assert_eq!(outcome_of(&write, Some(&Payload::WriteOk)), Outcome::Ok(Output::Write));
        assert_eq!(outcome_of(&write, Some(&err(11))), Outcome::Fail);
        assert_eq!(outcome_of(&write, Some(&err(0))), Outcome::Unknown);
        assert_eq!(outcome_of(&write, Some(&err(13))), Outcome::Unknown);
        assert_eq!(outcome_of(&write, None), Outcome::Unknown);
        assert_eq!(outcome_of(&cas, Some(&Payload::CasOk)), Outcome::Ok(Output::Cas(true)));
        assert_eq!(outcome_of(&cas, Some(&err(22))), Outcome::Ok(Output::Cas(false)));
        assert_eq!(outcome_of(&cas, Some(&err(20))), Outcome::Ok(Output::Cas(false)));
        assert_eq!(outcome_of(&cas, Some(&Payload::WriteOk)), Outcome::Unknown, "a wrong reply proves nothing");
    }

    #[test]
    fn clients_write_unique_values_and_cas_from_what_they_saw() {
        let mut a = ClientGen::new(0, 2, 9);
        let mut b = ClientGen::new(1, 2, 9);
        let mut written = std::collections::HashSet::new();
        for _ in 0..200 {
            for gen in [&mut a, &mut b] {
                let request = gen.next_request();
                match &request {
                    Payload::Write { value, .. } | Payload::Cas { to: value, .. } => {
                        assert!(written.insert(value.to_string()), "{value} written twice");
                    }
                    _ => {}
                }
                gen.observe(&request, Some(&Payload::WriteOk));
            }
        }
        let mut gen = ClientGen::new(3, 1, 1);
        gen.observe(&Payload::Read { key: json!(0) }, Some(&Payload::ReadOk { value: json!(77) }));
        let cas = std::iter::repeat_with(|| gen.next_request()).find(|r| matches!(r, Payload::Cas { .. })).unwrap();
        assert!(matches!(cas, Payload::Cas { from, .. } if from == json!(77)));
        assert_eq!(
            input_of(&Payload::Cas { key: json!(1), from: json!(2), to: json!(3), create_if_not_exists: false }),
            Some(("1".into(), Input::Cas { expected: Some("2".into()), new: "3".into() }))
        );
    }
}
