//! What one simulated run records: a trace of events on the simulated clock, its fingerprint,
//! the invariant checker and the violations found.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use super::invariants::Invariants;

/// The observer every part of one run reports to. The run is single-threaded, so the lock is
/// never contended; it is a `Mutex` only because openraft wants its storage `Send`.
#[derive(Clone)]
pub struct Shared(Arc<Mutex<Observer>>);

impl Shared {
    pub fn new(observer: Observer) -> Shared {
        Shared(Arc::new(Mutex::new(observer)))
    }

    /// The observer. Never hold it across an `.await`.
    pub fn lock(&self) -> MutexGuard<'_, Observer> {
        // A panic while holding it is a bug in the harness; the record is still worth reading.
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records an event.
    pub fn event(&self, text: impl fmt::Display) {
        self.lock().event(text);
    }

    /// Records a violation if `result` is one.
    pub fn check(&self, result: Result<(), String>) {
        self.lock().check(result);
    }
}

pub struct Observer {
    start: tokio::time::Instant,
    /// The last time stamp handed out, in nanoseconds since `start`.
    last_stamp_ns: u64,
    /// FNV-1a over every trace line: equal for two runs of one seed.
    fingerprint: u64,
    lines: Vec<String>,
    /// Print each line to stderr as it is recorded (`REDRAFT_SIM_TRACE=1`).
    print: bool,
    pub invariants: Invariants,
    pub violations: Vec<String>,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

/// FNV-1a of `bytes`, continuing from `hash`: a stable hash (std's hasher may change between
/// Rust versions, and a digest is compared within one run only, but a fingerprint is printed).
pub fn fnv(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |h, &b| (h ^ u64::from(b)).wrapping_mul(FNV_PRIME))
}

/// FNV-1a of `bytes` from the standard offset.
pub fn digest(bytes: &[u8]) -> u64 {
    fnv(FNV_OFFSET, bytes)
}

impl Observer {
    /// An observer whose clock starts now (on the simulated clock).
    pub fn new(invariants: Invariants, print: bool) -> Observer {
        Observer {
            start: tokio::time::Instant::now(),
            last_stamp_ns: 0,
            fingerprint: FNV_OFFSET,
            lines: Vec::new(),
            print,
            invariants,
            violations: Vec::new(),
        }
    }

    /// A time stamp in nanoseconds since the start: the simulated time, made strictly increasing
    /// by adding a nanosecond per event within one simulated instant. Within the single thread
    /// of a run, what happened first really happened before, so the stamps order operations as
    /// real time would (the simulated clock alone would make every operation completed within
    /// one instant look concurrent with the next).
    pub fn stamp(&mut self) -> u64 {
        let now = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.last_stamp_ns = now.max(self.last_stamp_ns + 1);
        self.last_stamp_ns
    }

    /// Records an event at the current stamp.
    pub fn event(&mut self, text: impl fmt::Display) {
        let at = self.stamp();
        let line = format!("{:>10.3}ms {text}", at as f64 / 1e6);
        self.fingerprint = fnv(self.fingerprint, line.as_bytes());
        self.fingerprint = fnv(self.fingerprint, b"\n");
        if self.print {
            eprintln!("{line}");
        }
        self.lines.push(line);
    }

    /// Records a violation (as an event too) if `result` is one.
    pub fn check(&mut self, result: Result<(), String>) {
        if let Err(violation) = result {
            self.event(format_args!("VIOLATION {violation}"));
            self.violations.push(violation);
        }
    }

    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// Simulated time since the start.
    pub fn elapsed(&self) -> std::time::Duration {
        self.start.elapsed()
    }
}
