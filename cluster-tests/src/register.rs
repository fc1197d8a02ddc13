//! A register workload: client threads doing random GET and SET on a few keys through random
//! nodes, recording every operation with its invocation and completion time and the outcome the
//! client can know, for [`crate::linearizability`] to check.
//!
//! Each SET writes a value no other write uses (`<thread>-<seq>`), so a read names the write it
//! saw. A MOVED reply is followed once, to the leader it names; a second MOVED, CLUSTERDOWN and
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
    /// SETs acknowledged with +OK.
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

    /// Acknowledged writes.
    pub fn ok_writes(&self) -> usize {
        self.operations
            .iter()
            .filter(|op| matches!(op.input, Input::Write(_)) && matches!(op.outcome, Outcome::Ok(_)))
            .count()
    }
}

/// Runs the workload against the nodes at `addrs` until `stop` is set, the configured time
/// passes or every thread did its operations; returns the merged history.
///
/// # Panics
/// When `addrs` is empty or a client thread panics.
pub fn run(config: &RegisterConfig, addrs: &[String], stop: &AtomicBool, progress: &Progress) -> RegisterHistory {
    assert!(!addrs.is_empty(), "the register workload needs at least one node address");
    let clock = Instant::now();
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
        let deadline = self.clock + self.config.duration_max;
        for seq in 0..self.config.ops_per_thread_max {
            if stop.load(Ordering::Relaxed) || Instant::now() >= deadline {
                break;
            }
            let key = format!("{}{}", self.config.key_prefix, self.rng.below(self.config.keys as u64));
            let input =
                if self.rng.below(2) == 0 { Input::Read } else { Input::Write(format!("{}-{seq}", self.thread)) };
            let addr = self.addrs[self.rng.below(self.addrs.len() as u64) as usize].clone();
            let invoke_ns = self.now_ns();
            let (outcome, note) = self.perform(&addr, &key, &input);
            let complete_ns = self.now_ns();
            match (&input, &outcome) {
                (Input::Write(_), Outcome::Ok(_)) => progress.ok_writes.fetch_add(1, Ordering::Relaxed),
                (Input::Read, Outcome::Ok(_)) => progress.ok_reads.fetch_add(1, Ordering::Relaxed),
                _ => 0,
            };
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

    /// Runs one operation, following one MOVED; returns its outcome and, for an unexpected
    /// reply, a note for the log.
    fn perform(&mut self, addr: &str, key: &str, input: &Input) -> (Outcome, Option<String>) {
        let args: Vec<&str> = match input {
            Input::Read => vec!["GET", key],
            Input::Write(value) => vec!["SET", key, value],
            Input::Cas { .. } => unreachable!("the workload issues no CAS: Redis has no such command"),
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
