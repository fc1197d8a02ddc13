//! Wrappers around a node's real storage that report to the [`Observer`](super::observer) what
//! the node persists and applies, and the deliberately broken variants the tests use to prove
//! the checks fire.
//!
//! The wrappers change nothing: every call goes to the real [`RocksLogStore`] and
//! [`RocksStateMachine`], and the report is made once the call succeeded.

// openraft's trait methods return its own `StorageError`, which is large.
#![allow(clippy::result_large_err)]

use std::fmt::Debug;
use std::ops::RangeBounds;
use std::sync::atomic::{AtomicU64, Ordering};

use openraft::storage::{LogFlushed, LogState, RaftLogReader, RaftLogStorage, RaftStateMachine, Snapshot};
use openraft::{EntryPayload, OptionalSend, StorageError};
use raft::{typ, NodeId, TypeConfig};
use redraft::executor::NodeExecutor;
use storage::log_store::RocksLogStore;
use storage::snapshot::SnapshotFile;
use storage::state_machine::{Executor, RocksStateMachine, SnapshotBuilder};
use storage::{ApplyTxn, CommandBatch, Keyspace, ReadView, Response, RocksDb};

use super::invariants::log_key;
use super::observer::{digest, fnv, Shared};

type StoreResult<T> = Result<T, StorageError<NodeId>>;

/// The real log store, reporting votes, appends and truncations.
pub struct SpyLogStore {
    node: NodeId,
    inner: RocksLogStore<TypeConfig>,
    observer: Shared,
    /// Broken on purpose: `read_vote` answers "no vote" (a store that lost it in a crash).
    forget_vote: bool,
}

impl SpyLogStore {
    pub fn new(node: NodeId, inner: RocksLogStore<TypeConfig>, observer: Shared, forget_vote: bool) -> Self {
        SpyLogStore { node, inner, observer, forget_vote }
    }
}

impl RaftLogReader<TypeConfig> for SpyLogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> StoreResult<Vec<typ::Entry>> {
        self.inner.try_get_log_entries(range).await
    }
}

/// The hash of an entry's payload (its log id is the key it is compared under).
fn payload_digest(entry: &typ::Entry) -> u64 {
    match bincode::serialize(&entry.payload) {
        Ok(bytes) => digest(&bytes),
        // Cannot happen for our types; a constant keeps the check meaningful for the others.
        Err(_) => 0,
    }
}

impl RaftLogStorage<TypeConfig> for SpyLogStore {
    type LogReader = RocksLogStore<TypeConfig>;

    async fn get_log_state(&mut self) -> StoreResult<LogState<TypeConfig>> {
        self.inner.get_log_state().await
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.inner.get_log_reader().await
    }

    async fn save_vote(&mut self, vote: &typ::Vote) -> StoreResult<()> {
        self.inner.save_vote(vote).await?;
        let mut observer = self.observer.lock();
        observer.event(format_args!("node {} vote {vote}", self.node));
        let checked = observer.invariants.vote_saved(self.node, vote);
        observer.check(checked);
        Ok(())
    }

    async fn read_vote(&mut self) -> StoreResult<Option<typ::Vote>> {
        let vote = if self.forget_vote { None } else { self.inner.read_vote().await? };
        let mut observer = self.observer.lock();
        let checked = observer.invariants.vote_loaded(self.node, vote.as_ref());
        observer.check(checked);
        Ok(vote)
    }

    async fn save_committed(&mut self, committed: Option<typ::LogId>) -> StoreResult<()> {
        self.inner.save_committed(committed).await
    }

    async fn read_committed(&mut self) -> StoreResult<Option<typ::LogId>> {
        self.inner.read_committed().await
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> StoreResult<()>
    where
        I: IntoIterator<Item = typ::Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries: Vec<typ::Entry> = entries.into_iter().collect();
        {
            let mut observer = self.observer.lock();
            for entry in &entries {
                let checked = observer.invariants.appended(self.node, log_key(&entry.log_id), payload_digest(entry));
                observer.check(checked);
            }
        }
        self.inner.append(entries, callback).await
    }

    async fn truncate(&mut self, log_id: typ::LogId) -> StoreResult<()> {
        self.inner.truncate(log_id).await?;
        self.observer.event(format_args!("node {} truncated its log from {log_id}", self.node));
        Ok(())
    }

    async fn purge(&mut self, log_id: typ::LogId) -> StoreResult<()> {
        self.inner.purge(log_id).await
    }
}

/// The registers' values as one hash: what "the same data" means between nodes.
pub fn registers_digest(view: &ReadView<'_>, keys: &[String]) -> Result<u64, storage::StorageError> {
    let mut hash = digest(b"registers");
    for key in keys {
        hash = fnv(hash, key.as_bytes());
        match view.get(0, key.as_bytes())? {
            Some(value) => {
                hash = fnv(hash, b"=");
                hash = fnv(hash, &value.payload);
            }
            None => hash = fnv(hash, b" absent"),
        }
        hash = fnv(hash, b";");
    }
    Ok(hash)
}

/// The real state machine, reporting every applied entry and the register data after each
/// apply.
pub struct SpyStateMachine {
    node: NodeId,
    inner: RocksStateMachine<TypeConfig>,
    db: RocksDb,
    keys: Vec<String>,
    observer: Shared,
}

impl SpyStateMachine {
    /// Wraps `inner` (opened on `db`), reporting where it reopened.
    pub fn new(
        node: NodeId,
        inner: RocksStateMachine<TypeConfig>,
        db: RocksDb,
        keys: Vec<String>,
        observer: Shared,
    ) -> Self {
        let applied = inner.applied().map(|id| id.index);
        let mut locked = observer.lock();
        locked.event(format_args!("node {node} opened its state machine at applied index {applied:?}"));
        let checked = locked.invariants.state_machine_opened(node, applied);
        locked.check(checked);
        drop(locked);
        SpyStateMachine { node, inner, db, keys, observer }
    }

    fn report_state(&self) {
        let state =
            ReadView::new(&self.db, 0).and_then(|view| Ok((view.index(), registers_digest(&view, &self.keys)?)));
        let mut observer = self.observer.lock();
        match state {
            Ok((index, digest)) => {
                let checked = observer.invariants.state(self.node, index, digest);
                observer.check(checked);
            }
            Err(e) => observer.check(Err(format!("node {} cannot read its registers: {e}", self.node))),
        }
    }
}

impl RaftStateMachine<TypeConfig> for SpyStateMachine {
    type SnapshotBuilder = SnapshotBuilder<TypeConfig>;

    async fn applied_state(&mut self) -> StoreResult<(Option<typ::LogId>, typ::StoredMembership)> {
        self.inner.applied_state().await
    }

    async fn apply<I>(&mut self, entries: I) -> StoreResult<Vec<Response>>
    where
        I: IntoIterator<Item = typ::Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries: Vec<typ::Entry> = entries.into_iter().collect();
        let log_ids: Vec<typ::LogId> = entries.iter().map(|e| e.log_id).collect();
        let commands = entries.iter().filter(|e| matches!(e.payload, EntryPayload::Normal(_))).count();
        let replies = self.inner.apply(entries).await?;
        {
            let mut observer = self.observer.lock();
            if let (Some(first), Some(last)) = (log_ids.first(), log_ids.last()) {
                observer.event(format_args!(
                    "node {} applied {}..={} ({commands} of them commands), last {last}",
                    self.node, first.index, last.index
                ));
            }
            for log_id in &log_ids {
                let checked = observer.invariants.applied(self.node, log_key(log_id));
                observer.check(checked);
            }
        }
        self.report_state();
        Ok(replies)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.inner.get_snapshot_builder().await
    }

    async fn begin_receiving_snapshot(&mut self) -> StoreResult<Box<SnapshotFile>> {
        self.inner.begin_receiving_snapshot().await
    }

    async fn install_snapshot(&mut self, meta: &typ::SnapshotMeta, snapshot: Box<SnapshotFile>) -> StoreResult<()> {
        self.inner.install_snapshot(meta, snapshot).await?;
        self.observer.event(format_args!("node {} installed snapshot {:?}", self.node, meta.last_log_id));
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> StoreResult<Option<Snapshot<TypeConfig>>> {
        self.inner.get_current_snapshot().await
    }
}

/// Broken on purpose: the node's executor, except that every `every`-th batch is acknowledged
/// without being executed, as a state machine that loses writes on one node would.
pub struct ForgetfulExecutor {
    pub inner: NodeExecutor,
    pub every: u64,
    pub seen: AtomicU64,
}

impl Executor for ForgetfulExecutor {
    fn execute(&self, txn: &mut ApplyTxn<'_>, batch: &CommandBatch) -> Response {
        let n = self.seen.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(self.every) {
            return Response { frame: Some(resp::Frame::ok()), db_after: Some(batch.db) };
        }
        self.inner.execute(txn, batch)
    }
}
