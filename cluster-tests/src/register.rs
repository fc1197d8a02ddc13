//! A register workload: client threads doing random GET, SET and compare-and-set on a few keys
//! through random nodes, recording every operation with its invocation and completion time and
//! the outcome the client can know, for [`crate::linearizability`] to check.
//!
//! Each SET writes a value no other write uses (`<thread>-<seq>`), so a read names the write it
//! saw. A compare-and-set starts from the value the client last saw on the key: `SET k new IFEQ
//! old` when it saw `old`, `SET k new NX` when it saw the key absent (+OK: swapped, nil: not).
//! The old value may be stale by then, which is the point: a CAS that swaps on a stale value is
//! exactly the lost update a linearizable store must refuse.
//!
//! A MOVED reply is followed once, to the leader it names; a second MOVED, CLUSTERDOWN and
//! TRYAGAIN mean the command did not run (outcome `Fail`). UNCERTAIN, a timeout, a lost
//! connection or an unexpected reply leave the outcome `Unknown`, and the connection is dropped
//! because it may be out of step with its replies.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use resp::Frame;

use crate::client::{Reply, RespClient};
use crate::linearizability::{Input, Operation, Outcome, Output};

/// Environment variable that fixes the workload's seed, to replay a failed run.
pub const SEED_ENV: &str = "REDRAFT_SEED";

/// Deadline of one command: short, so an operation against a paused node turns `Unknown` in
/// about two seconds instead of hanging the thread.
pub const OP_TIMEOUT: Duration = Duration::from_secs(2);

/// Pause after an operation that could not run (refused connection, CLUSTERDOWN): during an
/// election retrying at once would only spin.
const BACKOFF: Duration = Duration::from_millis(20);

/// What the workload does.
#[derive(Debug, Clone)]
pub struct RegisterConfig {
    /// Client threads.
    pub threads: usize,
    /// Keys shared by all threads; few keys means many concurrent operations per key.
    pub keys: usize,
    /// Prefix of every key, so the workload's keys do not collide with a test's own.
    pub key_prefix: String,
    /// Upper bound on the run, even if nobody stops it.
    pub duration_max: Duration,
    /// Upper bound on operations per thread, which keeps histories small enough to check fast.
    pub ops_per_thread_max: usize,
    /// Random pause between two operations of one thread, in milliseconds (`min..max`). Pacing
    /// stretches a bounded history over the whole run, so faults land in the middle of it.
    pub think_ms: (u64, u64),
    /// Share of operations that are compare-and-sets, in percent; the rest are half reads, half
    /// writes.
    pub cas_percent: u64,
    /// Move every thread to fresh keys this often (`None`: never). Long runs bound each key's
    /// history this way, as Jepsen's independent keys do: the checker's search is exponential in
    /// the concurrency of one key's history, and CAS keeps it from pruning unknown writes.
    pub key_lifetime: Option<Duration>,
    /// Seed of all randomness.
    pub seed: u64,
}

impl RegisterConfig {
    /// Four threads on three keys, with the seed from [`SEED_ENV`] or the clock.
    ///
    /// # Panics
    /// When [`SEED_ENV`] is set but not a number.
    pub fn new(key_prefix: &str) -> RegisterConfig {
        RegisterConfig {
            threads: 4,
            keys: 3,
            key_prefix: key_prefix.to_string(),
            duration_max: Duration::from_secs(60),
            ops_per_thread_max: 400,
            think_ms: (10, 40),
            cas_percent: 20,
            key_lifetime: None,
            seed: seed_from_env(),
        }
    }
}

/// The seed from [`SEED_ENV`], or a fresh one from the clock (printed by the caller so a failing
/// run can be replayed).
///
/// # Panics
/// When [`SEED_ENV`] is set but not a `u64`.
pub fn seed_from_env() -> u64 {
    match std::env::var(SEED_ENV) {
        Ok(text) => text.trim().parse().unwrap_or_else(|e| panic!("{SEED_ENV}={text:?} is not a u64: {e}")),
        Err(_) => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1);
            nanos ^ u64::from(std::process::id())
        }
    }
}

/// A small seeded xorshift64* generator: the crate has no `rand`, and a workload only needs
/// reproducible choices, not statistical quality.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator for `seed`; every seed (zero included) gives a usable stream.
    pub fn new(seed: u64) -> XorShift {
        // splitmix64 scrambles nearby seeds (seed, seed+1 per thread) into unrelated states.
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        XorShift((z ^ (z >> 31)) | 1)
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n`; `n` must not be zero.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// Counters a test can watch while the workload runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// SETs acknowledged with +OK, compare-and-sets that swapped included.
    pub ok_writes: AtomicUsize,
    /// GETs answered with a value.
    pub ok_reads: AtomicUsize,
}

/// What the workload recorded.
#[derive(Debug, Default)]
pub struct RegisterHistory {
    pub operations: Vec<Operation>,
    /// Replies the workload did not expect (recorded as `Unknown`), for the test log.
    pub unexpected: Vec<String>,
}

impl RegisterHistory {
    /// Operations whose outcome is `Ok`, `Fail` and `Unknown`.
    pub fn counts(&self) -> (usize, usize, usize) {
        let count = |f: fn(&Outcome) -> bool| self.operations.iter().filter(|op| f(&op.outcome)).count();
        (
            count(|o| matches!(o, Outcome::Ok(_))),
            count(|o| matches!(o, Outcome::Fail)),
            count(|o| matches!(o, Outcome::Unknown)),
        )
    }

    /// Acknowledged writes, compare-and-sets that swapped included.
    pub fn ok_writes(&self) -> usize {
        self.operations.iter().filter(|op| is_ok_write(&op.input, &op.outcome)).count()
    }

    /// Compare-and-sets that completed, and how many of them swapped.
    pub fn ok_cas(&self) -> (usize, usize) {
        let completed = |op: &&Operation| matches!(op.outcome, Outcome::Ok(Output::Cas(_)));
        let swapped = |op: &&Operation| op.outcome == Outcome::Ok(Output::Cas(true));
        (self.operations.iter().filter(completed).count(), self.operations.iter().filter(swapped).count())
    }
}

/// Whether an operation is an acknowledged change of the register.
fn is_ok_write(input: &Input, outcome: &Outcome) -> bool {
    matches!(
        (input, outcome),
        (Input::Write(_), Outcome::Ok(Output::Write)) | (Input::Cas { .. }, Outcome::Ok(Output::Cas(true)))
    )
}

/// Runs the workload against the nodes at `addrs` until `stop` is set, the configured time
/// passes or every thread did its operations; returns the merged history.
///
/// # Panics
/// When `addrs` is empty or a client thread panics.
pub fn run(config: &RegisterConfig, addrs: &[String], stop: &AtomicBool, progress: &Progress) -> RegisterHistory {
    run_on_clock(config, addrs, stop, progress, Instant::now())
}

/// Like [`run`], with operation times measured from `clock` instead of the call: a runner that
/// also records faults or other workloads on `clock` can lay them all on one time line.
///
/// # Panics
/// As [`run`].
pub fn run_on_clock(
    config: &RegisterConfig,
    addrs: &[String],
    stop: &AtomicBool,
    progress: &Progress,
    clock: Instant,
) -> RegisterHistory {
    assert!(!addrs.is_empty(), "the register workload needs at least one node address");
    let histories: Vec<RegisterHistory> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..config.threads)
            .map(|thread| {
                let client = Client {
                    thread,
                    config,
                    addrs,
                    clock,
                    rng: XorShift::new(config.seed.wrapping_add(thread as u64)),
                    conns: HashMap::new(),
                    last_seen: HashMap::new(),
                };
                s.spawn(move || client.run(stop, progress))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| panic!("a register client panicked"))).collect()
    });
    let mut merged = RegisterHistory::default();
    for history in histories {
        merged.operations.extend(history.operations);
        merged.unexpected.extend(history.unexpected);
    }
    merged.operations.sort_by_key(|op| op.invoke_ns);
    merged
}

struct Client<'a> {
    thread: usize,
    config: &'a RegisterConfig,
    addrs: &'a [String],
    /// The one clock all threads time operations with.
    clock: Instant,
    rng: XorShift,
    /// Open connections by address; dropped after any failure.
    conns: HashMap<String, RespClient>,
    /// The value this client last read or wrote on each key (`None`: absent), which its
    /// compare-and-sets expect.
    last_seen: HashMap<String, Option<String>>,
}

/// The result of sending one command to one address.
enum Sent {
    /// Nothing was sent (the connection could not be opened): the command did not run.
    NotSent,
    Reply(Reply),
}

impl Client<'_> {
    fn run(mut self, stop: &AtomicBool, progress: &Progress) -> RegisterHistory {
        let mut history = RegisterHistory::default();
        let deadline = Instant::now() + self.config.duration_max;
        for seq in 0..self.config.ops_per_thread_max {
            if stop.load(Ordering::Relaxed) || Instant::now() >= deadline {
                break;
            }
            let key = self.pick_key();
            let input = self.pick_input(&key, format!("{}-{seq}", self.thread));
            let addr = self.addrs[self.rng.below(self.addrs.len() as u64) as usize].clone();
            let invoke_ns = self.now_ns();
            let (outcome, note) = self.perform(&addr, &key, &input);
            let complete_ns = self.now_ns();
            self.remember(&key, &input, &outcome);
            if is_ok_write(&input, &outcome) {
                progress.ok_writes.fetch_add(1, Ordering::Relaxed);
            } else if matches!(outcome, Outcome::Ok(Output::Read(_))) {
                progress.ok_reads.fetch_add(1, Ordering::Relaxed);
            }
            if let Some(note) = note {
                history.unexpected.push(note);
            }
            let backoff = matches!(outcome, Outcome::Fail);
            history.operations.push(Operation { client: self.thread, key, input, invoke_ns, complete_ns, outcome });
            let (lo, hi) = self.config.think_ms;
            let think = Duration::from_millis(lo + self.rng.below(hi.saturating_sub(lo).max(1)));
            std::thread::sleep(if backoff { think.max(BACKOFF) } else { think });
        }
        history
    }

    fn now_ns(&self) -> u64 {
        self.clock.elapsed().as_nanos() as u64
    }

    /// One of the live keys: `keys` of them, renumbered every `key_lifetime` on the shared clock
    /// so all threads move to the same fresh keys at about the same time.
    fn pick_key(&mut self) -> String {
        let keys = self.config.keys as u64;
        let generation = match self.config.key_lifetime {
            Some(lifetime) if !lifetime.is_zero() => (self.clock.elapsed().as_nanos() / lifetime.as_nanos()) as u64,
            _ => 0,
        };
        format!("{}{}", self.config.key_prefix, generation * keys + self.rng.below(keys))
    }

    /// A read, a write of `fresh`, or a compare-and-set from the last value seen on `key` to
    /// `fresh` (a read instead while nothing was seen on it yet).
    fn pick_input(&mut self, key: &str, fresh: String) -> Input {
        if self.rng.below(100) < self.config.cas_percent {
            return match self.last_seen.get(key) {
                Some(expected) => Input::Cas { expected: expected.clone(), new: fresh },
                None => Input::Read,
            };
        }
        if self.rng.below(2) == 0 {
            Input::Read
        } else {
            Input::Write(fresh)
        }
    }

    /// Updates what this client knows of `key` after an operation.
    fn remember(&mut self, key: &str, input: &Input, outcome: &Outcome) {
        let seen = match (input, outcome) {
            (_, Outcome::Ok(Output::Read(value))) => value.clone(),
            (Input::Write(value), Outcome::Ok(Output::Write)) => Some(value.clone()),
            (Input::Cas { new, .. }, Outcome::Ok(Output::Cas(true))) => Some(new.clone()),
            // A failed CAS says only that the value differs; an unknown outcome says nothing.
            _ => return,
        };
        self.last_seen.insert(key.to_string(), seen);
    }

    /// Runs one operation, following one MOVED; returns its outcome and, for an unexpected
    /// reply, a note for the log.
    fn perform(&mut self, addr: &str, key: &str, input: &Input) -> (Outcome, Option<String>) {
        let args: Vec<&str> = match input {
            Input::Read => vec!["GET", key],
            Input::Write(value) => vec!["SET", key, value],
            Input::Cas { expected: Some(old), new } => vec!["SET", key, new, "IFEQ", old],
            Input::Cas { expected: None, new } => vec!["SET", key, new, "NX"],
        };
        let mut sent = self.send(addr, &args);
        if let Sent::Reply(Reply::Moved(leader)) = &sent {
            let leader = leader.clone();
            sent = self.send(&leader, &args);
        }
        let reply = match sent {
            Sent::NotSent => return (Outcome::Fail, None),
            Sent::Reply(reply) => reply,
        };
        match (input, reply) {
            (Input::Read, Reply::Value(Frame::Bulk(v))) => {
                (Outcome::Ok(Output::Read(Some(String::from_utf8_lossy(&v).into_owned()))), None)
            }
            (Input::Read, Reply::Value(Frame::Null)) => (Outcome::Ok(Output::Read(None)), None),
            (Input::Write(_), Reply::Value(frame)) if frame == Frame::ok() => (Outcome::Ok(Output::Write), None),
            (Input::Cas { .. }, Reply::Value(frame)) if frame == Frame::ok() => (Outcome::Ok(Output::Cas(true)), None),
            (Input::Cas { .. }, Reply::Value(Frame::Null)) => (Outcome::Ok(Output::Cas(false)), None),
            // A second MOVED (leadership moved again) is not followed: the command did not run.
            (_, Reply::Moved(_) | Reply::Retry(_)) => (Outcome::Fail, None),
            (_, Reply::Uncertain(_) | Reply::Timeout | Reply::Io(_)) => (Outcome::Unknown, None),
            (_, other) => {
                let note = format!("{} on {addr}: {other:?}", args.join(" "));
                (Outcome::Unknown, Some(note))
            }
        }
    }

    /// Sends `args` to `addr` on a cached connection, opening one if needed; drops the
    /// connection after a timeout or I/O error, since a late reply would be read as the answer
    /// to the next command.
    fn send(&mut self, addr: &str, args: &[&str]) -> Sent {
        if !self.conns.contains_key(addr) {
            let opened = RespClient::connect(addr).and_then(|mut c| c.set_timeout(OP_TIMEOUT).map(|()| c));
            match opened {
                Ok(client) => self.conns.insert(addr.to_string(), client),
                Err(_) => return Sent::NotSent,
            };
        }
        let Some(client) = self.conns.get_mut(addr) else {
            return Sent::NotSent;
        };
        let reply = Reply::classify(client.cmd(args));
        if matches!(reply, Reply::Timeout | Reply::Io(_) | Reply::Uncertain(_) | Reply::Error(_)) {
            self.conns.remove(addr);
        }
        Sent::Reply(reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_choices() {
        let mut a = XorShift::new(42);
        let mut b = XorShift::new(42);
        let mut c = XorShift::new(43);
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        assert_eq!(xs, (0..8).map(|_| b.next_u64()).collect::<Vec<_>>());
        assert_ne!(xs, (0..8).map(|_| c.next_u64()).collect::<Vec<_>>());
    }

    /// Goal: a compare-and-set expects what the client last saw: IFEQ the value, NX for an absent
    /// key, and no CAS at all (a read) before the client saw anything.
    #[test]
    fn compare_and_sets_start_from_the_last_value_seen() {
        let config = RegisterConfig { cas_percent: 100, ..RegisterConfig::new("k") };
        let addrs = vec!["127.0.0.1:1".to_string()];
        let mut client = Client {
            thread: 0,
            config: &config,
            addrs: &addrs,
            clock: Instant::now(),
            rng: XorShift::new(1),
            conns: HashMap::new(),
            last_seen: HashMap::new(),
        };
        assert_eq!(client.pick_input("k0", "0-1".into()), Input::Read);
        client.remember("k0", &Input::Read, &Outcome::Ok(Output::Read(None)));
        assert_eq!(client.pick_input("k0", "0-2".into()), Input::Cas { expected: None, new: "0-2".into() });
        let cas = Input::Cas { expected: None, new: "0-2".into() };
        client.remember("k0", &cas, &Outcome::Ok(Output::Cas(true)));
        let next = Input::Cas { expected: Some("0-2".into()), new: "0-3".into() };
        assert_eq!(client.pick_input("k0", "0-3".into()), next);
        client.remember("k0", &next, &Outcome::Ok(Output::Cas(false)));
        client.remember("k0", &Input::Write("0-4".into()), &Outcome::Unknown);
        assert_eq!(
            client.pick_input("k0", "0-5".into()),
            Input::Cas { expected: Some("0-2".into()), new: "0-5".into() }
        );
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut rng = XorShift::new(0);
        let mut seen = [false; 3];
        for _ in 0..100 {
            let n = rng.below(3) as usize;
            seen[n] = true;
        }
        assert_eq!(seen, [true; 3]);
    }
}
