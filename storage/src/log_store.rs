//! openraft's `RaftLogStorage` on RocksDB, with group commit.
//!
//! One writer thread owns every write to the Raft log (a simulation runs it
//! as a task on its runtime instead: [`RocksLogStore::new_on_runtime`]).
//! `append` hands it the entries and returns at once; the thread takes
//! everything queued so far, writes it as one synced `WriteBatch` (one
//! fsync) and then completes all their flush callbacks: N proposals
//! arriving together cost one fsync, and Raft's core never waits for the
//! disk. Until an entry is on disk it is
//! served from `pending`, so the leader can replicate it while its own fsync
//! is still in flight. Truncate, purge and vote go through the same thread,
//! in order, and are waited for.

// openraft's trait methods return its own `StorageError`, which is large;
// our helpers return the same type so `?` works without conversions.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::marker::PhantomData;
use std::ops::{Bound, RangeBounds};
use std::sync::{mpsc, Arc, Mutex};

use openraft::storage::{LogFlushed, LogState, RaftLogReader, RaftLogStorage};
use openraft::{AnyError, Entry, LogId, OptionalSend, RaftLogId, RaftTypeConfig, StorageError, StorageIOError, Vote};
use rocksdb::{Direction, IteratorMode, WriteBatch, WriteOptions};

use crate::db::{Cf, RocksDb};

const VOTE_KEY: &[u8] = b"vote";
const COMMITTED_KEY: &[u8] = b"committed";
const LAST_PURGED_KEY: &[u8] = b"last_purged";

fn index_key(index: u64) -> [u8; 8] {
    index.to_be_bytes()
}

fn io_err(e: impl std::error::Error + 'static) -> AnyError {
    AnyError::new(&e)
}

type Done = Box<dyn FnOnce(Result<(), std::io::Error>) + Send>;

/// Work for the writer thread, done in queue order.
enum Op {
    /// Entries to append, encoded, with their log ids.
    Append { entries: Vec<(LogId<u64>, Vec<u8>)>, done: Done },
    /// Any other write (truncate, purge, vote, committed index), in order
    /// with the appends queued before it; synced unless `sync` is false.
    Batch { batch: WriteBatch, sync: bool, done: Done },
}

/// Entries appended but not yet on disk, by index.
type Pending = Arc<Mutex<BTreeMap<u64, (LogId<u64>, Vec<u8>)>>>;

/// Where the writer runs and how ops reach it.
enum Queue {
    /// A dedicated thread, fed by a std channel (production).
    Thread(mpsc::Sender<Op>),
    /// A task on the tokio runtime that created the store (deterministic simulation).
    Task(tokio::sync::mpsc::UnboundedSender<Op>),
}

/// The writer and its queue. Dropping the last handle closes the queue; the
/// thread is joined (it writes what was queued first), so it never outlives
/// the stores and never touches RocksDB while the process tears it down. The
/// task is aborted instead, dropping ops not yet written, as a crash would.
struct Writer {
    queue: Option<Queue>,
    thread: Option<std::thread::JoinHandle<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Writer {
    fn send(&self, op: Op) -> Result<(), StorageIOError<u64>> {
        let stopped = || StorageIOError::write_logs(AnyError::error("Raft log writer stopped"));
        let sent = match self.queue.as_ref().ok_or_else(stopped)? {
            Queue::Thread(queue) => queue.send(op).is_ok(),
            Queue::Task(queue) => queue.send(op).is_ok(),
        };
        sent.then_some(()).ok_or_else(stopped)
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.queue.take();
        if let Some(task) = self.task.take() {
            task.abort();
        }
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("the Raft log writer thread panicked");
            }
        }
    }
}

/// Writes one group of queued ops: consecutive appends share one synced
/// batch (one fsync); any other op ends the run, so the order of writes is
/// the queue order.
fn write_group(db: &RocksDb, pending: &Pending, group: Vec<Op>) {
    let cf = Cf::RaftLog.handle(db);
    let mut sync = WriteOptions::default();
    sync.set_sync(true);
    let unsynced = WriteOptions::default();
    let mut run: Vec<(LogId<u64>, Done)> = Vec::new();
    let mut batch = WriteBatch::default();
    let flush = |batch: &mut WriteBatch, run: &mut Vec<(LogId<u64>, Done)>| {
        if run.is_empty() {
            return;
        }
        let written = std::mem::take(batch);
        crate::failpoints::before_synced_write();
        let result = db.write_opt(written, &sync).map_err(|e| std::io::Error::other(e.to_string()));
        if let Err(e) = &result {
            tracing::error!(error = %e, "writing the Raft log failed");
        }
        {
            let mut pending = pending.lock().unwrap_or_else(|p| p.into_inner());
            for (log_id, _) in run.iter() {
                // A truncation may have replaced the entry at this index
                // since: only drop our own.
                if pending.get(&log_id.index).map(|(id, _)| id) == Some(log_id) {
                    pending.remove(&log_id.index);
                }
            }
        }
        for (_, done) in run.drain(..) {
            done(result.as_ref().map(|_| ()).map_err(|e| std::io::Error::other(e.to_string())));
        }
    };
    for op in group {
        match op {
            Op::Append { entries, done } => {
                let last = entries.last().map(|(id, _)| *id);
                for (log_id, bytes) in &entries {
                    batch.put_cf(cf, index_key(log_id.index), bytes);
                }
                match last {
                    Some(last) => run.push((last, done)),
                    None => done(Ok(())),
                }
                // Each entry of the op is dropped from `pending` by its own
                // id in `flush`.
                for (log_id, _) in entries.iter().rev().skip(1) {
                    run.push((*log_id, Box::new(|_| {})));
                }
            }
            Op::Batch { batch: other, sync: synced, done } => {
                flush(&mut batch, &mut run);
                let opts = if synced {
                    crate::failpoints::before_synced_write();
                    &sync
                } else {
                    &unsynced
                };
                let result = db.write_opt(other, opts).map_err(|e| std::io::Error::other(e.to_string()));
                done(result);
            }
        }
    }
    flush(&mut batch, &mut run);
}

fn start_writer_thread(db: RocksDb, pending: Pending) -> Writer {
    let (queue, ops) = mpsc::channel::<Op>();
    let thread = std::thread::Builder::new()
        .name("raft-log-writer".into())
        .spawn(move || {
            while let Ok(first) = ops.recv() {
                let mut group = vec![first];
                group.extend(ops.try_iter());
                write_group(&db, &pending, group);
            }
        })
        .expect("spawning the Raft log writer thread");
    Writer { queue: Some(Queue::Thread(queue)), thread: Some(thread), task: None }
}

/// The writer as a task on the current tokio runtime. It blocks that
/// runtime while RocksDB writes, which a simulation wants: every write then
/// happens at a point of the schedule that replays from the seed, and the
/// paused clock cannot jump while an fsync is in flight on another thread.
fn start_writer_task(db: RocksDb, pending: Pending) -> Writer {
    let (queue, mut ops) = tokio::sync::mpsc::unbounded_channel::<Op>();
    let task = tokio::spawn(async move {
        while let Some(first) = ops.recv().await {
            let mut group = vec![first];
            while let Ok(op) = ops.try_recv() {
                group.push(op);
            }
            write_group(&db, &pending, group);
        }
    });
    Writer { queue: Some(Queue::Task(queue)), thread: None, task: Some(task) }
}

/// The Raft log and vote, in the `raft_log` and `raft_meta` column families.
pub struct RocksLogStore<C: RaftTypeConfig> {
    db: RocksDb,
    writer: Arc<Writer>,
    pending: Pending,
    _config: PhantomData<C>,
}

impl<C: RaftTypeConfig> Clone for RocksLogStore<C> {
    fn clone(&self) -> Self {
        RocksLogStore {
            db: self.db.clone(),
            writer: self.writer.clone(),
            pending: self.pending.clone(),
            _config: PhantomData,
        }
    }
}

impl<C> RocksLogStore<C>
where
    C: RaftTypeConfig<NodeId = u64, Entry = Entry<C>>,
{
    /// The log store of `db`, with its writer on a dedicated thread.
    pub fn new(db: RocksDb) -> Self {
        let pending = Pending::default();
        let writer = Arc::new(start_writer_thread(db.clone(), pending.clone()));
        RocksLogStore { db, writer, pending, _config: PhantomData }
    }

    /// The log store of `db`, with its writer as a task on the current tokio
    /// runtime instead of a thread: for deterministic simulation, where one
    /// thread runs everything in an order fixed by the seed. Dropping the
    /// last handle aborts the writer, losing queued ops that were not
    /// written yet, as a crash would (none of them was reported durable).
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn new_on_runtime(db: RocksDb) -> Self {
        let pending = Pending::default();
        let writer = Arc::new(start_writer_task(db.clone(), pending.clone()));
        RocksLogStore { db, writer, pending, _config: PhantomData }
    }

    fn get_meta<T: serde::de::DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, StorageError<u64>> {
        let raw = self.db.get_cf(Cf::RaftMeta.handle(&self.db), key).map_err(|e| StorageIOError::read(io_err(e)))?;
        raw.map(|bytes| bincode::deserialize(&bytes).map_err(|e| StorageIOError::read(io_err(*e)).into())).transpose()
    }

    /// Writes a batch through the writer thread (after every queued append)
    /// and waits until it is on disk.
    async fn write_synced(&self, batch: WriteBatch) -> Result<(), StorageError<u64>> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let done: Done = Box::new(move |result| {
            let _ = tx.send(result);
        });
        self.writer.send(Op::Batch { batch, sync: true, done })?;
        match rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StorageIOError::write(io_err(e)).into()),
            Err(_) => Err(StorageIOError::write(AnyError::error("Raft log writer stopped")).into()),
        }
    }

    fn meta_batch<T: serde::Serialize>(&self, key: &[u8], value: &T) -> Result<WriteBatch, StorageError<u64>> {
        let bytes = bincode::serialize(value).map_err(|e| StorageIOError::write(io_err(*e)))?;
        let mut batch = WriteBatch::default();
        batch.put_cf(Cf::RaftMeta.handle(&self.db), key, bytes);
        Ok(batch)
    }

    fn decode(index: u64, bytes: &[u8]) -> Result<Entry<C>, StorageError<u64>> {
        let entry: Entry<C> =
            bincode::deserialize(bytes).map_err(|e| StorageIOError::read_log_at_index(index, io_err(*e)))?;
        assert_eq!(entry.get_log_id().index, index, "log entry stored under another index");
        Ok(entry)
    }

    fn last_entry_log_id(&self) -> Result<Option<LogId<u64>>, StorageError<u64>> {
        if let Some((_, (log_id, _))) = self.pending.lock().unwrap_or_else(|p| p.into_inner()).iter().next_back() {
            return Ok(Some(*log_id));
        }
        let mut iter = self.db.iterator_cf(Cf::RaftLog.handle(&self.db), IteratorMode::End);
        match iter.next() {
            None => Ok(None),
            Some(item) => {
                let (key, value) = item.map_err(|e| StorageIOError::read_logs(io_err(e)))?;
                let index = u64::from_be_bytes(
                    key.as_ref().try_into().map_err(|_| StorageIOError::read_logs(AnyError::error("bad log key")))?,
                );
                Ok(Some(*Self::decode(index, &value)?.get_log_id()))
            }
        }
    }
}

impl<C> RaftLogReader<C> for RocksLogStore<C>
where
    C: RaftTypeConfig<NodeId = u64, Entry = Entry<C>>,
{
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<C::Entry>, StorageError<u64>> {
        let start = match range.start_bound() {
            Bound::Included(i) => *i,
            Bound::Excluded(i) => i.saturating_add(1),
            Bound::Unbounded => 0,
        };
        // Pending first, then disk: an entry the writer moves from one to
        // the other in between is then found on disk.
        let pending: BTreeMap<u64, Vec<u8>> = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .range((range.start_bound().cloned(), range.end_bound().cloned()))
            .map(|(index, (_, bytes))| (*index, bytes.clone()))
            .collect();
        let mut found: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
        let iter = self
            .db
            .iterator_cf(Cf::RaftLog.handle(&self.db), IteratorMode::From(&index_key(start), Direction::Forward));
        for item in iter {
            let (key, value) = item.map_err(|e| StorageIOError::read_logs(io_err(e)))?;
            let index = u64::from_be_bytes(
                key.as_ref().try_into().map_err(|_| StorageIOError::read_logs(AnyError::error("bad log key")))?,
            );
            if !range.contains(&index) {
                break;
            }
            found.insert(index, value.to_vec());
        }
        // Pending entries are newer than anything on disk at their index.
        found.extend(pending);
        let mut entries = Vec::with_capacity(found.len());
        for (index, bytes) in found {
            entries.push(Self::decode(index, &bytes)?);
        }
        Ok(entries)
    }
}

impl<C> RaftLogStorage<C> for RocksLogStore<C>
where
    C: RaftTypeConfig<NodeId = u64, Entry = Entry<C>>,
{
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<C>, StorageError<u64>> {
        let last_purged_log_id: Option<LogId<u64>> = self.get_meta(LAST_PURGED_KEY)?;
        let last_log_id = self.last_entry_log_id()?.or(last_purged_log_id);
        Ok(LogState { last_purged_log_id, last_log_id })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<u64>) -> Result<(), StorageError<u64>> {
        // A vote must be on disk before it is acted on: a node that forgets
        // its vote after a crash could vote twice in one term.
        let batch = self.meta_batch(VOTE_KEY, vote)?;
        self.write_synced(batch).await
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<u64>>, StorageError<u64>> {
        self.get_meta(VOTE_KEY)
    }

    async fn save_committed(&mut self, committed: Option<LogId<u64>>) -> Result<(), StorageError<u64>> {
        // Not waited for and not synced: losing it only means re-learning the
        // commit index from the leader. It goes through the writer so that in
        // the WAL it follows the entries it covers; a crash can then never
        // recover a commit index beyond the recovered log.
        let batch = self.meta_batch(COMMITTED_KEY, &committed)?;
        self.writer.send(Op::Batch { batch, sync: false, done: Box::new(|_| {}) })?;
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId<u64>>, StorageError<u64>> {
        Ok(self.get_meta::<Option<LogId<u64>>>(COMMITTED_KEY)?.flatten())
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<C>) -> Result<(), StorageError<u64>>
    where
        I: IntoIterator<Item = C::Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut encoded = Vec::new();
        for entry in entries {
            let bytes = bincode::serialize(&entry).map_err(|e| StorageIOError::write_logs(io_err(*e)))?;
            encoded.push((*entry.get_log_id(), bytes));
        }
        {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            for (log_id, bytes) in &encoded {
                pending.insert(log_id.index, (*log_id, bytes.clone()));
            }
        }
        let done: Done = Box::new(move |result| callback.log_io_completed(result));
        self.writer.send(Op::Append { entries: encoded, done })?;
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId<u64>) -> Result<(), StorageError<u64>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).split_off(&log_id.index);
        let mut batch = WriteBatch::default();
        batch.delete_range_cf(Cf::RaftLog.handle(&self.db), index_key(log_id.index), index_key(u64::MAX));
        self.write_synced(batch).await
    }

    async fn purge(&mut self, log_id: LogId<u64>) -> Result<(), StorageError<u64>> {
        let previous: Option<LogId<u64>> = self.get_meta(LAST_PURGED_KEY)?;
        assert!(previous.map(|p| p.index) <= Some(log_id.index), "purge must not move backwards");
        {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            let kept = pending.split_off(&(log_id.index + 1));
            *pending = kept;
        }
        // The purge point and the deletion go in one batch: the log state
        // never shows entries below the purge point.
        let mut batch = self.meta_batch(LAST_PURGED_KEY, &log_id)?;
        batch.delete_range_cf(Cf::RaftLog.handle(&self.db), index_key(0), index_key(log_id.index + 1));
        self.write_synced(batch).await
    }
}
