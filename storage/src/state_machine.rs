//! openraft's `RaftStateMachine` on RocksDB.
//!
//! The keyspace lives in RocksDB, not in memory: apply turns a group of
//! committed entries into one `WriteBatch` holding the data they produced,
//! the applied log id and the membership, so a crash at any instant recovers
//! to the state after some prefix of the log, never to a mix.
//!
//! The batch is written without its own fsync: every entry it applies is
//! already durable in the Raft log on a majority, and the WAL is replayed as
//! a prefix, so a lost apply is simply re-applied from the log on restart.

use std::marker::PhantomData;
use std::path::PathBuf;
use std::sync::Arc;

use openraft::storage::{RaftSnapshotBuilder, RaftStateMachine, Snapshot};
use openraft::{
    AnyError, Entry, EntryPayload, LogId, OptionalSend, RaftTypeConfig, SnapshotMeta, StorageError, StorageIOError,
    StoredMembership,
};
use rocksdb::WriteOptions;

use crate::db::{Cf, RocksDb};
use crate::keyspace::meta_keys;
use crate::snapshot::{self, SnapshotFile};
use crate::{ApplyTxn, CommandBatch, Keyspace, Request, Response};

/// Executes client commands inside apply. Implemented by the node, which owns
/// the command table; it must be deterministic (see [`crate::Request`]).
pub trait Executor: Send + Sync + 'static {
    fn execute(&self, txn: &mut ApplyTxn<'_>, batch: &CommandBatch) -> Response;
}

/// The constraints Redraft's storage puts on openraft's type configuration
/// (a trait alias: every such configuration implements it).
pub trait StoreConfig:
    RaftTypeConfig<NodeId = u64, D = Request, R = Response, Entry = Entry<Self>, SnapshotData = SnapshotFile>
{
}

impl<C> StoreConfig for C where
    C: RaftTypeConfig<NodeId = u64, D = Request, R = Response, Entry = Entry<C>, SnapshotData = SnapshotFile>
{
}

fn sm_err(e: impl std::error::Error + 'static) -> StorageError<u64> {
    StorageIOError::write_state_machine(AnyError::new(&e)).into()
}

fn read_err(e: impl std::error::Error + 'static) -> StorageError<u64> {
    StorageIOError::read_state_machine(AnyError::new(&e)).into()
}

/// The replicated keyspace.
pub struct RocksStateMachine<C: StoreConfig> {
    db: RocksDb,
    executor: Arc<dyn Executor>,
    snapshot_dir: PathBuf,
    applied: Option<LogId<u64>>,
    membership: StoredMembership<u64, C::Node>,
    /// The largest leader time applied so far. Entries are applied at
    /// `max(entry time, clock)`, so a new leader whose clock is behind the
    /// old one's cannot make expired keys live again.
    clock_ms: u64,
    _config: PhantomData<C>,
}

impl<C: StoreConfig> RocksStateMachine<C> {
    /// Opens the state machine stored in `db`, keeping snapshots in `snapshot_dir`.
    ///
    /// # Errors
    /// RocksDB or decoding errors reading the applied state.
    pub fn new(db: RocksDb, executor: Arc<dyn Executor>, snapshot_dir: PathBuf) -> Result<Self, crate::StorageError> {
        std::fs::create_dir_all(&snapshot_dir)?;
        let mut sm = RocksStateMachine {
            db,
            executor,
            snapshot_dir,
            applied: None,
            membership: StoredMembership::default(),
            clock_ms: 0,
            _config: PhantomData,
        };
        sm.load_applied_state()?;
        snapshot::recover_dir(&sm.snapshot_dir)?;
        Ok(sm)
    }

    fn load_applied_state(&mut self) -> Result<(), crate::StorageError> {
        let meta = Cf::SmMeta.handle(&self.db);
        if let Some(raw) = self.db.get_cf(meta, meta_keys::APPLIED)? {
            self.applied = bincode::deserialize(&raw)?;
        }
        if let Some(raw) = self.db.get_cf(meta, meta_keys::MEMBERSHIP)? {
            self.membership = bincode::deserialize(&raw)?;
        }
        if let Some(raw) = self.db.get_cf(meta, meta_keys::CLOCK_MS)? {
            let bytes: [u8; 8] =
                raw.as_slice().try_into().map_err(|_| crate::StorageError::corrupt("clock", "not 8 bytes"))?;
            self.clock_ms = u64::from_be_bytes(bytes);
        }
        Ok(())
    }

    /// The log id of the last applied entry.
    pub fn applied(&self) -> Option<LogId<u64>> {
        self.applied
    }

    fn apply_request(&self, txn: &mut ApplyTxn<'_>, request: &Request) -> Result<Response, crate::StorageError> {
        match request {
            Request::Commands(batch) => Ok(self.executor.execute(txn, batch)),
            Request::PurgeExpired { keys, .. } => {
                for (db, key) in keys {
                    // Re-check at apply time: the key may have been rewritten
                    // or persisted since the leader saw it expire.
                    if let Some(value) = txn.get_raw(*db, key)? {
                        if value.header.is_expired(txn.now_ms()) {
                            txn.delete(*db, key)?;
                        }
                    }
                }
                Ok(Response::default())
            }
            Request::ReclaimExpiredFields { keys, fields_max, .. } => {
                let mut budget = *fields_max;
                for (db, key) in keys {
                    if budget == 0 {
                        break;
                    }
                    let limit = usize::try_from(budget).unwrap_or(usize::MAX);
                    budget -= crate::field_expiry::reclaim(txn, *db, key, limit)?.min(budget);
                }
                Ok(Response::default())
            }
        }
    }
}

impl<C: StoreConfig> RaftStateMachine<C> for RocksStateMachine<C> {
    type SnapshotBuilder = SnapshotBuilder<C>;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogId<u64>>, StoredMembership<u64, C::Node>), StorageError<u64>> {
        Ok((self.applied, self.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Response>, StorageError<u64>>
    where
        I: IntoIterator<Item = Entry<C>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let db = self.db.clone();
        let mut txn = ApplyTxn::new(&db);
        let mut replies = Vec::new();
        let mut applied = self.applied;
        let mut membership = self.membership.clone();
        let mut clock_ms = self.clock_ms;
        for entry in entries {
            let log_id = entry.log_id;
            assert!(Some(log_id) > applied, "entries are applied in log order, once");
            let reply = match &entry.payload {
                EntryPayload::Blank => Response::default(),
                EntryPayload::Normal(request) => {
                    clock_ms = clock_ms.max(request.now_ms());
                    txn.begin_entry(log_id.index, clock_ms);
                    self.apply_request(&mut txn, request).map_err(|e| {
                        StorageError::from(StorageIOError::apply(log_id, AnyError::error(e.to_string())))
                    })?
                }
                EntryPayload::Membership(m) => {
                    membership = StoredMembership::new(Some(log_id), m.clone());
                    Response::default()
                }
            };
            applied = Some(log_id);
            replies.push(reply);
        }
        txn.put_meta(meta_keys::APPLIED, &bincode::serialize(&applied).map_err(|e| sm_err(*e))?);
        txn.put_meta(meta_keys::MEMBERSHIP, &bincode::serialize(&membership).map_err(|e| sm_err(*e))?);
        txn.put_meta(meta_keys::CLOCK_MS, &clock_ms.to_be_bytes());
        let batch = txn.into_batch();
        let mut opts = WriteOptions::default();
        opts.set_sync(false);
        db.write_opt(batch, &opts).map_err(sm_err)?;
        self.applied = applied;
        self.membership = membership;
        self.clock_ms = clock_ms;
        Ok(replies)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        SnapshotBuilder { db: self.db.clone(), snapshot_dir: self.snapshot_dir.clone(), _config: PhantomData }
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<SnapshotFile>, StorageError<u64>> {
        Ok(Box::new(SnapshotFile { path: snapshot::incoming_path(&self.snapshot_dir) }))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<u64, C::Node>,
        snapshot: Box<SnapshotFile>,
    ) -> Result<(), StorageError<u64>> {
        let db = self.db.clone();
        let dir = self.snapshot_dir.clone();
        let meta_owned = meta.clone();
        let installed = tokio::task::spawn_blocking(move || snapshot::install::<C>(&db, &dir, &meta_owned, &snapshot))
            .await
            .map_err(|e| StorageError::from(StorageIOError::write_snapshot(None, AnyError::error(e.to_string()))))?;
        installed.map_err(|e| {
            StorageError::from(StorageIOError::write_snapshot(Some(meta.signature()), AnyError::error(e.to_string())))
        })?;
        self.load_applied_state().map_err(read_err)?;
        assert_eq!(self.applied, meta.last_log_id, "installed snapshot must set the applied log id");
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<C>>, StorageError<u64>> {
        let latest = snapshot::latest::<C>(&self.snapshot_dir).map_err(read_err)?;
        Ok(latest.map(|(meta, file)| Snapshot { meta, snapshot: Box::new(file) }))
    }
}

/// Builds snapshots from a RocksDB snapshot, off the state machine's task.
pub struct SnapshotBuilder<C: StoreConfig> {
    db: RocksDb,
    snapshot_dir: PathBuf,
    _config: PhantomData<C>,
}

impl<C: StoreConfig> RaftSnapshotBuilder<C> for SnapshotBuilder<C> {
    async fn build_snapshot(&mut self) -> Result<Snapshot<C>, StorageError<u64>> {
        let db = self.db.clone();
        let dir = self.snapshot_dir.clone();
        let built = tokio::task::spawn_blocking(move || snapshot::build::<C>(&db, &dir))
            .await
            .map_err(|e| StorageError::from(StorageIOError::write_snapshot(None, AnyError::error(e.to_string()))))?;
        let (meta, file) = built
            .map_err(|e| StorageError::from(StorageIOError::write_snapshot(None, AnyError::error(e.to_string()))))?;
        Ok(Snapshot { meta, snapshot: Box::new(file) })
    }
}
