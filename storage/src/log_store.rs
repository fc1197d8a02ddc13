//! openraft's `RaftLogStorage` on RocksDB, with group commit.
//!
//! `append` writes entries to RocksDB without waiting for the disk, so they
//! are readable at once (the leader replicates them while its own fsync is in
//! flight), then hands the flush callback to one syncer thread. The syncer
//! takes every callback queued so far, fsyncs the WAL once and completes them
//! all: N proposals arriving together cost one fsync. Because the WAL is
//! sequential and recovery restores a prefix of it, an fsync also makes every
//! earlier write durable, including truncations and state machine batches.

use std::fmt::Debug;
use std::marker::PhantomData;
use std::ops::{Bound, RangeBounds};
use std::sync::mpsc;
use std::sync::Arc;

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

/// Completes flush callbacks after one fsync per group.
struct WalSyncer {
    queue: mpsc::Sender<Box<dyn FnOnce(Result<(), std::io::Error>) + Send>>,
}

impl WalSyncer {
    fn start(db: RocksDb) -> Self {
        let (queue, pending) = mpsc::channel::<Box<dyn FnOnce(Result<(), std::io::Error>) + Send>>();
        std::thread::Builder::new()
            .name("raft-log-sync".into())
            .spawn(move || {
                while let Ok(first) = pending.recv() {
                    let mut group = vec![first];
                    group.extend(pending.try_iter());
                    let result = db.flush_wal(true).map_err(|e| std::io::Error::other(e.to_string()));
                    if let Err(e) = &result {
                        tracing::error!(error = %e, "fsync of the Raft log failed");
                    }
                    for done in group {
                        done(result.as_ref().map(|_| ()).map_err(|e| std::io::Error::other(e.to_string())));
                    }
                }
            })
            .expect("spawning the log sync thread");
        WalSyncer { queue }
    }
}

/// The Raft log and vote, in the `raft_log` and `raft_meta` column families.
pub struct RocksLogStore<C: RaftTypeConfig> {
    db: RocksDb,
    syncer: Arc<WalSyncer>,
    _config: PhantomData<C>,
}

impl<C: RaftTypeConfig> Clone for RocksLogStore<C> {
    fn clone(&self) -> Self {
        RocksLogStore { db: self.db.clone(), syncer: self.syncer.clone(), _config: PhantomData }
    }
}

impl<C> RocksLogStore<C>
where
    C: RaftTypeConfig<NodeId = u64, Entry = Entry<C>>,
{
    pub fn new(db: RocksDb) -> Self {
        let syncer = Arc::new(WalSyncer::start(db.clone()));
        RocksLogStore { db, syncer, _config: PhantomData }
    }

    fn get_meta<T: serde::de::DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, StorageError<u64>> {
        let raw = self.db.get_cf(Cf::RaftMeta.handle(&self.db), key).map_err(|e| StorageIOError::read(io_err(e)))?;
        raw.map(|bytes| bincode::deserialize(&bytes).map_err(|e| StorageIOError::read(io_err(*e)).into()))
            .transpose()
    }

    fn put_meta<T: serde::Serialize>(&self, key: &[u8], value: &T, sync: bool) -> Result<(), StorageError<u64>> {
        let bytes = bincode::serialize(value).map_err(|e| StorageIOError::write(io_err(*e)))?;
        let mut opts = WriteOptions::default();
        opts.set_sync(sync);
        self.db
            .put_cf_opt(Cf::RaftMeta.handle(&self.db), key, bytes, &opts)
            .map_err(|e| StorageIOError::write(io_err(e)).into())
    }

    fn last_entry_log_id(&self) -> Result<Option<LogId<u64>>, StorageError<u64>> {
        let mut iter = self.db.iterator_cf(Cf::RaftLog.handle(&self.db), IteratorMode::End);
        match iter.next() {
            None => Ok(None),
            Some(item) => {
                let (_, value) = item.map_err(|e| StorageIOError::read_logs(io_err(e)))?;
                let entry: Entry<C> =
                    bincode::deserialize(&value).map_err(|e| StorageIOError::read_logs(io_err(*e)))?;
                Ok(Some(*entry.get_log_id()))
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
        let mut entries = Vec::new();
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
            let entry: Entry<C> =
                bincode::deserialize(&value).map_err(|e| StorageIOError::read_log_at_index(index, io_err(*e)))?;
            assert_eq!(entry.get_log_id().index, index, "log entry stored under another index");
            entries.push(entry);
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
        self.put_meta(VOTE_KEY, vote, true)
            .map_err(|e| StorageIOError::write_vote(AnyError::error(e.to_string())).into())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<u64>>, StorageError<u64>> {
        self.get_meta(VOTE_KEY)
    }

    async fn save_committed(&mut self, committed: Option<LogId<u64>>) -> Result<(), StorageError<u64>> {
        // Not synced: losing it only means re-learning the commit index from
        // the leader, it is never needed for safety.
        self.put_meta(COMMITTED_KEY, &committed, false)
    }

    async fn read_committed(&mut self) -> Result<Option<LogId<u64>>, StorageError<u64>> {
        Ok(self.get_meta::<Option<LogId<u64>>>(COMMITTED_KEY)?.flatten())
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<C>) -> Result<(), StorageError<u64>>
    where
        I: IntoIterator<Item = C::Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let cf = Cf::RaftLog.handle(&self.db);
        let mut batch = WriteBatch::default();
        for entry in entries {
            let index = entry.get_log_id().index;
            let bytes = bincode::serialize(&entry).map_err(|e| StorageIOError::write_logs(io_err(*e)))?;
            batch.put_cf(cf, index_key(index), bytes);
        }
        let mut opts = WriteOptions::default();
        opts.set_sync(false);
        self.db.write_opt(batch, &opts).map_err(|e| StorageIOError::write_logs(io_err(e)))?;
        let queued = self.syncer.queue.send(Box::new(move |result| callback.log_io_completed(result)));
        if queued.is_err() {
            return Err(StorageIOError::write_logs(AnyError::error("log sync thread stopped")).into());
        }
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId<u64>) -> Result<(), StorageError<u64>> {
        let cf = Cf::RaftLog.handle(&self.db);
        self.db
            .delete_range_cf(cf, index_key(log_id.index), index_key(u64::MAX))
            .map_err(|e| StorageIOError::write_logs(io_err(e)))?;
        Ok(())
    }

    async fn purge(&mut self, log_id: LogId<u64>) -> Result<(), StorageError<u64>> {
        let previous: Option<LogId<u64>> = self.get_meta(LAST_PURGED_KEY)?;
        assert!(previous.map(|p| p.index) <= Some(log_id.index), "purge must not move backwards");
        // Record the purge point first: if we crash between the two writes,
        // the log state still reports everything up to it as gone.
        self.put_meta(LAST_PURGED_KEY, &log_id, false)?;
        let cf = Cf::RaftLog.handle(&self.db);
        self.db
            .delete_range_cf(cf, index_key(0), index_key(log_id.index + 1))
            .map_err(|e| StorageIOError::write_logs(io_err(e)))?;
        Ok(())
    }
}
