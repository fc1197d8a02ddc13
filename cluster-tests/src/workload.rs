//! [`WriteLoad`]: writer threads that write as fast as they can through whichever node they are
//! pointed at, and record the outcome of every write, so a test can check after faults that
//! acknowledged writes survived and refused ones did not happen. By default each write SETs a
//! fresh key; [`WriteLoad::start_with`] takes any write (the set/counter workload's INCR and
//! SADD).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use resp::Frame;

use crate::client::{Reply, RespClient};

/// Deadline of one write. A write that takes longer is an unknown outcome.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause after a refused or failed attempt, so writers do not spin while there is no leader.
const BACKOFF: Duration = Duration::from_millis(20);

/// One write of a [`WriteLoad`] and what it got back.
#[derive(Debug, Clone)]
pub struct Write {
    /// The key (for the default SETs, written by no other write).
    pub key: String,
    /// The value (or member) the write adds.
    pub value: String,
    /// The reply or failure, for messages.
    pub reply: String,
}

/// What a writer sends: the command, the key and value it records, and which replies count as
/// an acknowledgement.
pub struct WriteOp {
    pub key: String,
    pub value: String,
    pub args: Vec<String>,
    pub acknowledges: fn(&Frame) -> bool,
}

/// Makes writer `t`'s `seq`-th write.
pub type MakeWrite = Arc<dyn Fn(usize, u64) -> WriteOp + Send + Sync>;

/// What happened to the writes of a [`WriteLoad`]. Each key is written once, with one value.
#[derive(Debug, Default)]
pub struct WriteOutcomes {
    /// Acknowledged with +OK: must be readable afterwards.
    pub acked: Vec<Write>,
    /// Refused without running (MOVED, CLUSTERDOWN, TRYAGAIN): must not exist afterwards. A
    /// write that was proposed and then lost its leader must be answered UNCERTAIN instead.
    pub refused: Vec<Write>,
    /// Outcome unknown (UNCERTAIN, timeout, connection lost after sending): may exist, and if
    /// it does, with its value.
    pub unknown: Vec<Write>,
    /// Replies no write should get, e.g. `-ERR ...`: the test should fail on any.
    pub unexpected: Vec<String>,
}

impl WriteOutcomes {
    /// Adds `other`'s outcomes to these.
    pub fn merge(&mut self, other: WriteOutcomes) {
        self.acked.extend(other.acked);
        self.refused.extend(other.refused);
        self.unknown.extend(other.unknown);
        self.unexpected.extend(other.unexpected);
    }
}

/// Running writer threads; see the module doc.
pub struct WriteLoad {
    stop: Arc<AtomicBool>,
    acked: Arc<AtomicUsize>,
    threads: Vec<JoinHandle<WriteOutcomes>>,
}

impl WriteLoad {
    /// Starts `writers` threads. Writer `t` writes keys `<prefix>:<t>:<seq>` with values
    /// `v<t>-<seq>`, starting at `addrs[t % len]`, following MOVED, and moving to the next
    /// address on connection errors.
    pub fn start(prefix: &str, addrs: Vec<String>, writers: usize) -> WriteLoad {
        let prefix = prefix.to_string();
        let make: MakeWrite = Arc::new(move |t, seq| {
            let (key, value) = (format!("{prefix}:{t}:{seq}"), format!("v{t}-{seq}"));
            WriteOp {
                args: vec!["SET".into(), key.clone(), value.clone()],
                key,
                value,
                acknowledges: |f| *f == Frame::ok(),
            }
        });
        Self::start_with(make, addrs, writers)
    }

    /// Starts `writers` threads sending the writes `make` builds; otherwise as [`WriteLoad::start`].
    pub fn start_with(make: MakeWrite, addrs: Vec<String>, writers: usize) -> WriteLoad {
        assert!(!addrs.is_empty(), "a write load needs at least one address");
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(AtomicUsize::new(0));
        let threads = (0..writers)
            .map(|t| {
                let writer = Writer { id: t, make: make.clone(), addrs: addrs.clone(), next_addr: t };
                let (stop, acked) = (stop.clone(), acked.clone());
                std::thread::Builder::new()
                    .name(format!("writer-{t}"))
                    .spawn(move || writer.run(&stop, &acked))
                    .expect("spawning a writer thread")
            })
            .collect();
        WriteLoad { stop, acked, threads }
    }

    /// Writes acknowledged so far, over all writers.
    pub fn acked(&self) -> usize {
        self.acked.load(Ordering::Relaxed)
    }

    /// Stops the writers (each finishes its write in flight) and returns all outcomes.
    ///
    /// # Panics
    /// When a writer thread panicked.
    pub fn stop(mut self) -> WriteOutcomes {
        self.stop.store(true, Ordering::Relaxed);
        let mut all = WriteOutcomes::default();
        for thread in std::mem::take(&mut self.threads) {
            all.merge(thread.join().expect("a writer thread panicked"));
        }
        all
    }
}

impl Drop for WriteLoad {
    fn drop(&mut self) {
        // Also on a panic in the test: the threads must not outlive it.
        self.stop.store(true, Ordering::Relaxed);
    }
}

struct Writer {
    id: usize,
    make: MakeWrite,
    addrs: Vec<String>,
    next_addr: usize,
}

impl Writer {
    fn run(mut self, stop: &AtomicBool, acked_count: &AtomicUsize) -> WriteOutcomes {
        let mut outcomes = WriteOutcomes::default();
        let mut addr = self.rotate();
        let mut conn: Option<RespClient> = None;
        let mut seq = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let client = match conn.as_mut() {
                Some(client) => client,
                None => match RespClient::connect(&addr).and_then(|mut c| c.set_timeout(WRITE_TIMEOUT).map(|()| c)) {
                    Ok(client) => conn.insert(client),
                    Err(_) => {
                        // Nothing was sent: no outcome to record.
                        addr = self.rotate();
                        std::thread::sleep(BACKOFF);
                        continue;
                    }
                },
            };
            let op = (self.make)(self.id, seq);
            seq += 1;
            let reply = Reply::classify(client.cmd(&op.args));
            let write = Write { key: op.key, value: op.value, reply: format!("{reply:?} from {addr}") };
            match reply {
                Reply::Value(frame) if (op.acknowledges)(&frame) => {
                    outcomes.acked.push(write);
                    acked_count.fetch_add(1, Ordering::Relaxed);
                }
                Reply::Value(_) | Reply::Error(_) => {
                    outcomes.unexpected.push(format!("{}: {}", op.args.join(" "), write.reply))
                }
                Reply::Moved(leader) => {
                    outcomes.refused.push(write);
                    addr = leader;
                    conn = None;
                }
                Reply::Retry(_) => {
                    outcomes.refused.push(write);
                    std::thread::sleep(BACKOFF);
                }
                Reply::Uncertain(_) => outcomes.unknown.push(write),
                Reply::Timeout | Reply::Io(_) => {
                    // The request may have reached the node before the failure; the connection
                    // is out of step either way.
                    outcomes.unknown.push(write);
                    conn = None;
                    addr = self.rotate();
                    std::thread::sleep(BACKOFF);
                }
            }
        }
        outcomes
    }

    fn rotate(&mut self) -> String {
        let addr = self.addrs[self.next_addr % self.addrs.len()].clone();
        self.next_addr += 1;
        addr
    }
}

/// Reads `keys` with GET on `client`, pipelined in batches, and returns the values in order
/// (`None` for a missing key).
///
/// # Panics
/// On an I/O error or a reply that is neither a bulk string nor null; the message names the key.
pub fn must_read_all(client: &mut RespClient, keys: &[&str]) -> Vec<Option<Bytes>> {
    const BATCH: usize = 200;
    let mut values = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(BATCH) {
        let commands: Vec<Vec<&str>> = chunk.iter().map(|k| vec!["GET", k]).collect();
        let replies = client.pipeline(&commands).unwrap_or_else(|e| panic!("pipelined GETs on {}: {e}", client.addr()));
        for (key, reply) in chunk.iter().zip(replies) {
            values.push(match reply {
                Frame::Bulk(value) => Some(value),
                Frame::Null => None,
                other => panic!("GET {key} on {}: unexpected reply {other:?}", client.addr()),
            });
        }
    }
    values
}
