//! The keyspace that command code reads and writes.
//!
//! Command implementations are written once against [`Keyspace`] and run in
//! two places: reads against a [`ReadView`] (a RocksDB snapshot, after the
//! leader has confirmed its leadership), and writes inside the state
//! machine's apply against an [`ApplyTxn`], which buffers every change of one
//! apply call in a single `WriteBatch` together with the applied log id.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;

use bytes::Bytes;
use rocksdb::{Direction, IteratorMode, ReadOptions, SnapshotWithThreadMode, WriteBatch, DB};

use crate::db::Cf;
use crate::keys::{self, SLOT_COUNT};
use crate::subkeys::{self, ElementVisitor, SubRange};
use crate::value::{StoredValue, ValueKind};
use crate::{DbIndex, StorageError};

/// Keys of the `sm_meta` column family.
pub(crate) mod meta_keys {
    pub const APPLIED: &[u8] = b"applied";
    pub const MEMBERSHIP: &[u8] = b"membership";
    pub const CLOCK_MS: &[u8] = b"clock_ms";
    pub fn key_count(db: u16) -> Vec<u8> {
        let mut k = b"key_count/".to_vec();
        k.extend_from_slice(&db.to_be_bytes());
        k
    }
    pub fn expires_count(db: u16) -> Vec<u8> {
        let mut k = b"expires_count/".to_vec();
        k.extend_from_slice(&db.to_be_bytes());
        k
    }
    pub fn flush_index(db: u16) -> Vec<u8> {
        let mut k = b"flush_index/".to_vec();
        k.extend_from_slice(&db.to_be_bytes());
        k
    }
}

/// Reads and writes on the replicated keyspace.
///
/// Every method hides keys whose expiry is at or before [`Keyspace::now_ms`]:
/// an expired key is absent whether or not its deletion has been applied yet.
pub trait Keyspace {
    /// The time this view judges expiry by: the entry's leader time in apply,
    /// the node's clock in a read.
    fn now_ms(&self) -> u64;

    /// The log index being applied (the version writes stamp on keys), or the
    /// applied index the view reads.
    fn index(&self) -> u64;

    /// The live value of `key`.
    fn get(&self, db: DbIndex, key: &[u8]) -> Result<Option<StoredValue>, StorageError>;

    /// The stored value of `key` even if it has expired.
    fn get_raw(&self, db: DbIndex, key: &[u8]) -> Result<Option<StoredValue>, StorageError>;

    /// Writes `value` under `key`, replacing any previous value. The header's
    /// `modified_index`/`modified_at_ms` are stamped from the entry.
    fn put(&mut self, db: DbIndex, key: &[u8], value: StoredValue) -> Result<(), StorageError>;

    /// [`Keyspace::put`], except that the key counts as last modified at
    /// `modified_at_ms` rather than at the entry's time: RESTORE's IDLETIME
    /// sets the idle time OBJECT IDLETIME then reports.
    fn put_modified_at(
        &mut self,
        db: DbIndex,
        key: &[u8],
        value: StoredValue,
        modified_at_ms: u64,
    ) -> Result<(), StorageError>;

    /// Deletes `key`. Returns whether a live (unexpired) key was deleted.
    fn delete(&mut self, db: DbIndex, key: &[u8]) -> Result<bool, StorageError>;

    /// Deletes every key of `db`.
    fn flush_db(&mut self, db: DbIndex) -> Result<(), StorageError>;

    /// Number of keys in `db`, including expired keys not yet purged (as
    /// Redis's DBSIZE does).
    fn db_size(&self, db: DbIndex) -> Result<u64, StorageError>;

    /// The log index of the last FLUSHDB/FLUSHALL that emptied `db`.
    fn flush_index(&self, db: DbIndex) -> Result<u64, StorageError>;

    /// Number of keys of `db` that have an expiry (INFO keyspace), counted
    /// like [`Keyspace::db_size`].
    fn expires_count(&self, db: DbIndex) -> Result<u64, StorageError>;

    /// Visits live keys of `db` in slot order starting at `start_slot`, whole
    /// slots at a time, until `visit` breaks. Returns the first slot not
    /// visited (`SLOT_COUNT` when all were). `visit` keeps being called for
    /// the rest of the slot after it breaks, so a cursor never splits a slot.
    fn scan_from_slot(
        &self,
        db: DbIndex,
        start_slot: u16,
        visit: &mut dyn FnMut(&[u8], &StoredValue) -> ControlFlow<()>,
    ) -> Result<u16, StorageError>;

    /// Up to `count` live keys of `db` in `slot`.
    fn keys_in_slot(&self, db: DbIndex, slot: u16, count: usize) -> Result<Vec<Bytes>, StorageError>;

    /// A collection generation never handed out before (see
    /// [`crate::collection`]). Deterministic: derived from the log index.
    fn new_generation(&mut self) -> Result<u64, StorageError>;

    /// One element of a collection generation.
    fn sub_get(&self, db: DbIndex, key: &[u8], generation: u64, sub: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;

    /// Writes one element. The caller also `put`s the collection's metadata,
    /// which is what stamps the key as modified for WATCH.
    fn sub_put(
        &mut self,
        db: DbIndex,
        key: &[u8],
        generation: u64,
        sub: &[u8],
        value: &[u8],
    ) -> Result<(), StorageError>;

    /// Deletes one element (absent elements are fine).
    fn sub_delete(&mut self, db: DbIndex, key: &[u8], generation: u64, sub: &[u8]) -> Result<(), StorageError>;

    /// Visits the elements of a generation whose names fall in `range`, in
    /// name order (descending if `reverse`), until `visit` breaks.
    fn sub_scan(
        &self,
        db: DbIndex,
        key: &[u8],
        generation: u64,
        range: SubRange<'_>,
        reverse: bool,
        visit: &mut ElementVisitor<'_>,
    ) -> Result<(), StorageError>;
}

fn visit_slots<'d>(
    iter_from: impl Fn(&[u8]) -> rocksdb::DBIteratorWithThreadMode<'d, DB>,
    db: DbIndex,
    start_slot: u16,
    now_ms: u64,
    visit: &mut dyn FnMut(&[u8], &StoredValue) -> ControlFlow<()>,
) -> Result<u16, StorageError> {
    let mut slot = start_slot;
    while slot < SLOT_COUNT {
        let prefix = keys::slot_prefix(db, slot);
        let mut broke = false;
        let mut next_slot = SLOT_COUNT;
        for item in iter_from(&prefix) {
            let (raw_key, raw_value) = item?;
            let Some((key_db, key_slot, user_key)) = keys::decode_data_key(&raw_key) else { break };
            if key_db != db {
                break;
            }
            if key_slot != slot {
                // Continue with the next slot that has keys, after finishing
                // the slot we are in: the cursor always names a whole slot.
                if broke {
                    return Ok(key_slot);
                }
                next_slot = key_slot;
                break;
            }
            let value = StoredValue::decode(&raw_value)?;
            if !value.is_live(now_ms) {
                continue;
            }
            if visit(user_key, &value).is_break() {
                broke = true;
            }
        }
        if broke {
            // The slot is done; the caller resumes at the one after it.
            return Ok(slot + 1);
        }
        slot = next_slot;
    }
    Ok(SLOT_COUNT)
}

fn read_u64(raw: Option<Vec<u8>>) -> Result<u64, StorageError> {
    match raw {
        None => Ok(0),
        Some(bytes) => {
            let arr: [u8; 8] =
                bytes.as_slice().try_into().map_err(|_| StorageError::corrupt("counter", "not 8 bytes"))?;
            Ok(u64::from_be_bytes(arr))
        }
    }
}

/// A read-only view of the keyspace at one RocksDB snapshot.
pub struct ReadView<'a> {
    db: &'a DB,
    snapshot: SnapshotWithThreadMode<'a, DB>,
    now_ms: u64,
    applied_index: u64,
}

impl<'a> ReadView<'a> {
    /// A view of the current state, judging expiry by `now_ms`, or by the
    /// latest applied leader time if that is later.
    pub fn new(db: &'a DB, now_ms: u64) -> Result<Self, StorageError> {
        let snapshot = db.snapshot();
        let applied_index = match snapshot.get_cf(Cf::SmMeta.handle(db), meta_keys::APPLIED)? {
            Some(raw) => {
                let log_id: Option<openraft::LogId<u64>> = bincode::deserialize(&raw)?;
                log_id.map(|l| l.index).unwrap_or(0)
            }
            None => 0,
        };
        // Never judge expiry by a clock behind the time already applied: a
        // new leader whose clock lags the old one's must not show keys that
        // the old leader already treated as expired.
        let applied_clock_ms = read_u64(snapshot.get_cf(Cf::SmMeta.handle(db), meta_keys::CLOCK_MS)?)?;
        Ok(ReadView { db, snapshot, now_ms: now_ms.max(applied_clock_ms), applied_index })
    }

    fn read_opts(&self) -> ReadOptions {
        let mut opts = ReadOptions::default();
        opts.set_snapshot(&self.snapshot);
        opts
    }
}

impl<'a> Keyspace for ReadView<'a> {
    fn now_ms(&self) -> u64 {
        self.now_ms
    }

    fn index(&self) -> u64 {
        self.applied_index
    }

    fn get(&self, db: DbIndex, key: &[u8]) -> Result<Option<StoredValue>, StorageError> {
        Ok(self.get_raw(db, key)?.filter(|v| v.is_live(self.now_ms)))
    }

    fn get_raw(&self, db: DbIndex, key: &[u8]) -> Result<Option<StoredValue>, StorageError> {
        match self.snapshot.get_cf(Cf::Data.handle(self.db), keys::data_key(db, key))? {
            Some(raw) => Ok(Some(StoredValue::decode(&raw)?)),
            None => Ok(None),
        }
    }

    fn put(&mut self, _db: DbIndex, _key: &[u8], _value: StoredValue) -> Result<(), StorageError> {
        Err(StorageError::ReadOnly)
    }

    fn put_modified_at(&mut self, _: DbIndex, _: &[u8], _: StoredValue, _: u64) -> Result<(), StorageError> {
        Err(StorageError::ReadOnly)
    }

    fn delete(&mut self, _db: DbIndex, _key: &[u8]) -> Result<bool, StorageError> {
        Err(StorageError::ReadOnly)
    }

    fn flush_db(&mut self, _db: DbIndex) -> Result<(), StorageError> {
        Err(StorageError::ReadOnly)
    }

    fn db_size(&self, db: DbIndex) -> Result<u64, StorageError> {
        read_u64(self.snapshot.get_cf(Cf::SmMeta.handle(self.db), meta_keys::key_count(db))?)
    }

    fn flush_index(&self, db: DbIndex) -> Result<u64, StorageError> {
        read_u64(self.snapshot.get_cf(Cf::SmMeta.handle(self.db), meta_keys::flush_index(db))?)
    }

    fn expires_count(&self, db: DbIndex) -> Result<u64, StorageError> {
        read_u64(self.snapshot.get_cf(Cf::SmMeta.handle(self.db), meta_keys::expires_count(db))?)
    }

    fn scan_from_slot(
        &self,
        db: DbIndex,
        start_slot: u16,
        visit: &mut dyn FnMut(&[u8], &StoredValue) -> ControlFlow<()>,
    ) -> Result<u16, StorageError> {
        let cf = Cf::Data.handle(self.db);
        let rdb: &'a DB = self.db;
        visit_slots(
            |from| rdb.iterator_cf_opt(cf, self.read_opts(), IteratorMode::From(from, Direction::Forward)),
            db,
            start_slot,
            self.now_ms,
            visit,
        )
    }

    fn keys_in_slot(&self, db: DbIndex, slot: u16, count: usize) -> Result<Vec<Bytes>, StorageError> {
        let mut out = Vec::new();
        if count == 0 {
            return Ok(out);
        }
        let prefix = keys::slot_prefix(db, slot);
        let iter = self.db.iterator_cf_opt(
            Cf::Data.handle(self.db),
            self.read_opts(),
            IteratorMode::From(&prefix, Direction::Forward),
        );
        for item in iter {
            let (raw_key, raw_value) = item?;
            if !raw_key.starts_with(&prefix) {
                break;
            }
            if !StoredValue::decode(&raw_value)?.is_live(self.now_ms) {
                continue;
            }
            out.push(Bytes::copy_from_slice(&raw_key[4..]));
            if out.len() >= count {
                break;
            }
        }
        Ok(out)
    }

    fn new_generation(&mut self) -> Result<u64, StorageError> {
        Err(StorageError::ReadOnly)
    }

    fn sub_get(&self, db: DbIndex, key: &[u8], generation: u64, sub: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let mut full = keys::subkey_prefix(db, key, generation);
        full.extend_from_slice(sub);
        Ok(self.snapshot.get_cf(Cf::Subkeys.handle(self.db), full)?)
    }

    fn sub_put(&mut self, _: DbIndex, _: &[u8], _: u64, _: &[u8], _: &[u8]) -> Result<(), StorageError> {
        Err(StorageError::ReadOnly)
    }

    fn sub_delete(&mut self, _: DbIndex, _: &[u8], _: u64, _: &[u8]) -> Result<(), StorageError> {
        Err(StorageError::ReadOnly)
    }

    fn sub_scan(
        &self,
        db: DbIndex,
        key: &[u8],
        generation: u64,
        range: SubRange<'_>,
        reverse: bool,
        visit: &mut ElementVisitor<'_>,
    ) -> Result<(), StorageError> {
        let prefix = keys::subkey_prefix(db, key, generation);
        let (low, high) = subkeys::full_range(&prefix, range);
        let mut opts = self.read_opts();
        opts.set_iterate_lower_bound(low);
        if let Some(high) = high {
            opts.set_iterate_upper_bound(high);
        }
        let mode = if reverse { IteratorMode::End } else { IteratorMode::Start };
        for item in self.db.iterator_cf_opt(Cf::Subkeys.handle(self.db), opts, mode) {
            let (raw, value) = item?;
            if visit(&raw[prefix.len()..], &value).is_break() {
                break;
            }
        }
        Ok(())
    }
}

/// The writes of one apply call, buffered so later commands in the same call
/// read earlier ones, and flushed as one `WriteBatch` with the applied log id.
pub struct ApplyTxn<'a> {
    db: &'a DB,
    now_ms: u64,
    index: u64,
    /// Pending `data` column family writes: `None` is a delete.
    data: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Pending `subkeys` writes, likewise.
    subs: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Generations handed out in the current entry.
    generations_this_entry: u64,
    /// Subkey prefixes of generations dropped in this transaction: their
    /// stored elements are deleted by the batch, so reads must not see them.
    dropped: BTreeSet<Vec<u8>>,
    /// Databases emptied in this transaction: keys of these not in `data`
    /// read as absent.
    flushed: BTreeSet<DbIndex>,
    key_counts: BTreeMap<DbIndex, u64>,
    expires_counts: BTreeMap<DbIndex, u64>,
    flush_indexes: BTreeMap<DbIndex, u64>,
    batch: WriteBatch,
}

impl<'a> ApplyTxn<'a> {
    pub fn new(db: &'a DB) -> Self {
        ApplyTxn {
            db,
            now_ms: 0,
            index: 0,
            data: BTreeMap::new(),
            subs: BTreeMap::new(),
            generations_this_entry: 0,
            dropped: BTreeSet::new(),
            flushed: BTreeSet::new(),
            key_counts: BTreeMap::new(),
            expires_counts: BTreeMap::new(),
            flush_indexes: BTreeMap::new(),
            batch: WriteBatch::default(),
        }
    }

    /// Starts applying the entry at `index` stamped with leader time `now_ms`.
    pub fn begin_entry(&mut self, index: u64, now_ms: u64) {
        self.index = index;
        self.now_ms = now_ms;
        self.generations_this_entry = 0;
    }

    /// Adds a raw write to the batch (state machine metadata).
    pub fn put_meta(&mut self, key: &[u8], value: &[u8]) {
        self.batch.put_cf(Cf::SmMeta.handle(self.db), key, value);
    }

    /// The batch with every buffered change, ready to be written.
    pub fn into_batch(mut self) -> WriteBatch {
        let meta = Cf::SmMeta.handle(self.db);
        for (db, count) in &self.key_counts {
            self.batch.put_cf(meta, meta_keys::key_count(*db), count.to_be_bytes());
        }
        for (db, count) in &self.expires_counts {
            self.batch.put_cf(meta, meta_keys::expires_count(*db), count.to_be_bytes());
        }
        for (db, index) in &self.flush_indexes {
            self.batch.put_cf(meta, meta_keys::flush_index(*db), index.to_be_bytes());
        }
        self.batch
    }

    fn key_count(&mut self, db: DbIndex) -> Result<&mut u64, StorageError> {
        if !self.key_counts.contains_key(&db) {
            let stored = read_u64(self.db.get_cf(Cf::SmMeta.handle(self.db), meta_keys::key_count(db))?)?;
            self.key_counts.insert(db, stored);
        }
        Ok(self.key_counts.get_mut(&db).expect("inserted above"))
    }

    /// The first slot at or after `from` holding a key of `db`, pending
    /// writes included.
    fn next_slot_with_keys(&self, db: DbIndex, from: u16) -> Result<Option<u16>, StorageError> {
        if from >= SLOT_COUNT {
            return Ok(None);
        }
        let start = keys::slot_prefix(db, from);
        let db_prefix = keys::db_prefix(db);
        let pending = self
            .data
            .range(start.to_vec()..)
            .take_while(|(k, _)| k.starts_with(&db_prefix))
            .find(|(_, v)| v.is_some())
            .and_then(|(k, _)| keys::decode_data_key(k).map(|(_, slot, _)| slot));
        let mut stored = None;
        if !self.flushed.contains(&db) {
            let mut iter =
                self.db.iterator_cf(Cf::Data.handle(self.db), IteratorMode::From(&start, Direction::Forward));
            if let Some(item) = iter.next() {
                let (raw, _) = item?;
                if let Some((key_db, slot, _)) = keys::decode_data_key(&raw) {
                    if key_db == db {
                        stored = Some(slot);
                    }
                }
            }
        }
        Ok(match (pending, stored) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
    }

    /// Every key of `db` in `slot` with its value, pending writes applied,
    /// in key order.
    fn slot_contents(&self, db: DbIndex, slot: u16) -> Result<Vec<(Vec<u8>, StoredValue)>, StorageError> {
        let prefix = keys::slot_prefix(db, slot);
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        if !self.flushed.contains(&db) {
            let iter = self.db.iterator_cf(Cf::Data.handle(self.db), IteratorMode::From(&prefix, Direction::Forward));
            for item in iter {
                let (raw, value) = item?;
                if !raw.starts_with(&prefix) {
                    break;
                }
                merged.insert(raw.to_vec(), value.to_vec());
            }
        }
        for (raw, pending) in self.data.range(prefix.to_vec()..).take_while(|(k, _)| k.starts_with(&prefix)) {
            match pending {
                Some(value) => merged.insert(raw.clone(), value.clone()),
                None => merged.remove(raw),
            };
        }
        merged.into_iter().map(|(raw, value)| Ok((raw[4..].to_vec(), StoredValue::decode(&value)?))).collect()
    }

    fn expires_count_mut(&mut self, db: DbIndex) -> Result<&mut u64, StorageError> {
        if !self.expires_counts.contains_key(&db) {
            let stored = read_u64(self.db.get_cf(Cf::SmMeta.handle(self.db), meta_keys::expires_count(db))?)?;
            self.expires_counts.insert(db, stored);
        }
        Ok(self.expires_counts.get_mut(&db).expect("inserted above"))
    }

    /// Drops every element of a collection generation that is no longer
    /// referenced: one range tombstone, however many elements it had (two
    /// for a hash, whose field expiries live in a companion generation).
    fn drop_generation(&mut self, db: DbIndex, key: &[u8], generation: u64, kind: ValueKind) {
        if kind == ValueKind::Hash {
            self.drop_generation_range(db, key, crate::field_expiry::companion(generation));
        }
        self.drop_generation_range(db, key, generation);
    }

    fn drop_generation_range(&mut self, db: DbIndex, key: &[u8], generation: u64) {
        let prefix = keys::subkey_prefix(db, key, generation);
        let (low, high) = subkeys::full_range(&prefix, subkeys::ALL);
        let high = high.expect("a subkey prefix ends in a generation, never all 0xff");
        self.batch.delete_range_cf(Cf::Subkeys.handle(self.db), &low, &high);
        let buffered: Vec<Vec<u8>> = self.subs.range(low..high).map(|(k, _)| k.clone()).collect();
        for k in buffered {
            self.subs.remove(&k);
        }
        self.dropped.insert(prefix);
    }

    fn raw_data(&self, db: DbIndex, data_key: &[u8]) -> Result<Option<StoredValue>, StorageError> {
        if let Some(pending) = self.data.get(data_key) {
            return pending.as_deref().map(StoredValue::decode).transpose();
        }
        if self.flushed.contains(&db) {
            return Ok(None);
        }
        self.db.get_cf(Cf::Data.handle(self.db), data_key)?.as_deref().map(StoredValue::decode).transpose()
    }
}

impl Keyspace for ApplyTxn<'_> {
    fn now_ms(&self) -> u64 {
        self.now_ms
    }

    fn index(&self) -> u64 {
        self.index
    }

    fn get(&self, db: DbIndex, key: &[u8]) -> Result<Option<StoredValue>, StorageError> {
        Ok(self.get_raw(db, key)?.filter(|v| v.is_live(self.now_ms)))
    }

    fn get_raw(&self, db: DbIndex, key: &[u8]) -> Result<Option<StoredValue>, StorageError> {
        self.raw_data(db, &keys::data_key(db, key))
    }

    fn put(&mut self, db: DbIndex, key: &[u8], value: StoredValue) -> Result<(), StorageError> {
        self.put_modified_at(db, key, value, self.now_ms)
    }

    fn put_modified_at(
        &mut self,
        db: DbIndex,
        key: &[u8],
        mut value: StoredValue,
        modified_at_ms: u64,
    ) -> Result<(), StorageError> {
        let data_key = keys::data_key(db, key);
        let previous = self.raw_data(db, &data_key)?;
        let expires = Cf::Expires.handle(self.db);
        match &previous {
            Some(old) if old.header.expire_at_ms != 0 => {
                self.batch.delete_cf(expires, keys::expires_key(db, old.header.expire_at_ms, key));
            }
            Some(_) => {}
            None => *self.key_count(db)? += 1,
        }
        if let Some(old) = &previous {
            if let Some(old_generation) = old.generation() {
                if value.generation() != Some(old_generation) {
                    self.drop_generation(db, key, old_generation, old.header.kind);
                }
            }
        }
        let old_field_expiry = previous.as_ref().and_then(|old| old.field_ttls().earliest());
        let new_field_expiry = value.field_ttls().earliest();
        if old_field_expiry != new_field_expiry {
            if let Some(at) = old_field_expiry {
                self.batch.delete_cf(expires, keys::field_expires_key(db, at, key));
            }
            if let Some(at) = new_field_expiry {
                self.batch.put_cf(expires, keys::field_expires_key(db, at, key), []);
            }
        }
        let had_expiry = previous.as_ref().is_some_and(|old| old.header.expire_at_ms != 0);
        let has_expiry = value.header.expire_at_ms != 0;
        if has_expiry {
            self.batch.put_cf(expires, keys::expires_key(db, value.header.expire_at_ms, key), []);
        }
        if had_expiry != has_expiry {
            let count = self.expires_count_mut(db)?;
            *count = if has_expiry { *count + 1 } else { count.saturating_sub(1) };
        }
        value.header.modified_index = self.index;
        value.header.modified_at_ms = modified_at_ms;
        let encoded = value.encode();
        self.batch.put_cf(Cf::Data.handle(self.db), &data_key, &encoded);
        self.data.insert(data_key, Some(encoded));
        Ok(())
    }

    fn delete(&mut self, db: DbIndex, key: &[u8]) -> Result<bool, StorageError> {
        let data_key = keys::data_key(db, key);
        let Some(previous) = self.raw_data(db, &data_key)? else { return Ok(false) };
        if previous.header.expire_at_ms != 0 {
            self.batch.delete_cf(Cf::Expires.handle(self.db), keys::expires_key(db, previous.header.expire_at_ms, key));
            let count = self.expires_count_mut(db)?;
            *count = count.saturating_sub(1);
        }
        if let Some(at) = previous.field_ttls().earliest() {
            self.batch.delete_cf(Cf::Expires.handle(self.db), keys::field_expires_key(db, at, key));
        }
        if let Some(generation) = previous.generation() {
            self.drop_generation(db, key, generation, previous.header.kind);
        }
        let count = self.key_count(db)?;
        *count = count.saturating_sub(1);
        self.batch.delete_cf(Cf::Data.handle(self.db), &data_key);
        self.data.insert(data_key, None);
        Ok(previous.is_live(self.now_ms))
    }

    fn flush_db(&mut self, db: DbIndex) -> Result<(), StorageError> {
        let prefix = keys::db_prefix(db);
        let end = (db as u32 + 1).to_be_bytes();
        // u32 big-endian of db+1 has two leading zero bytes; the two low
        // bytes are the exclusive end of this database's prefix range,
        // except for the last database where the range runs to the end.
        let end_key: Vec<u8> = if db == u16::MAX { vec![0xff; 3] } else { end[2..].to_vec() };
        for cf in [Cf::Data, Cf::Expires, Cf::Subkeys] {
            self.batch.delete_range_cf(cf.handle(self.db), &prefix[..], &end_key[..]);
        }
        let field_prefix = keys::field_expires_prefix(db);
        let field_end = keys::prefix_end(&field_prefix).expect("the prefix holds a database index below 0xffff");
        self.batch.delete_range_cf(Cf::Expires.handle(self.db), &field_prefix[..], &field_end[..]);
        self.data.retain(|k, _| !k.starts_with(&prefix));
        self.subs.retain(|k, _| !k.starts_with(&prefix));
        self.flushed.insert(db);
        self.key_counts.insert(db, 0);
        self.expires_counts.insert(db, 0);
        self.flush_indexes.insert(db, self.index);
        Ok(())
    }

    fn db_size(&self, db: DbIndex) -> Result<u64, StorageError> {
        match self.key_counts.get(&db) {
            Some(count) => Ok(*count),
            None => read_u64(self.db.get_cf(Cf::SmMeta.handle(self.db), meta_keys::key_count(db))?),
        }
    }

    fn flush_index(&self, db: DbIndex) -> Result<u64, StorageError> {
        match self.flush_indexes.get(&db) {
            Some(index) => Ok(*index),
            None => read_u64(self.db.get_cf(Cf::SmMeta.handle(self.db), meta_keys::flush_index(db))?),
        }
    }

    fn expires_count(&self, db: DbIndex) -> Result<u64, StorageError> {
        match self.expires_counts.get(&db) {
            Some(count) => Ok(*count),
            None => read_u64(self.db.get_cf(Cf::SmMeta.handle(self.db), meta_keys::expires_count(db))?),
        }
    }

    fn scan_from_slot(
        &self,
        db: DbIndex,
        start_slot: u16,
        visit: &mut dyn FnMut(&[u8], &StoredValue) -> ControlFlow<()>,
    ) -> Result<u16, StorageError> {
        let mut slot = start_slot;
        while let Some(found) = self.next_slot_with_keys(db, slot)? {
            let mut broke = false;
            for (key, value) in self.slot_contents(db, found)? {
                if !value.is_live(self.now_ms) {
                    continue;
                }
                if visit(&key, &value).is_break() {
                    broke = true;
                }
            }
            if broke {
                return Ok(found + 1);
            }
            slot = found + 1;
        }
        Ok(SLOT_COUNT)
    }

    fn keys_in_slot(&self, db: DbIndex, slot: u16, count: usize) -> Result<Vec<Bytes>, StorageError> {
        Ok(self
            .slot_contents(db, slot)?
            .into_iter()
            .filter(|(_, v)| v.is_live(self.now_ms))
            .take(count)
            .map(|(k, _)| Bytes::from(k))
            .collect())
    }

    fn new_generation(&mut self) -> Result<u64, StorageError> {
        // Unique across entries (the index) and within one (the counter);
        // 2^20 collections created by a single entry is far beyond any
        // command's reach (proposals are capped well below that).
        self.generations_this_entry += 1;
        Ok((self.index << 20) | self.generations_this_entry)
    }

    fn sub_get(&self, db: DbIndex, key: &[u8], generation: u64, sub: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let mut full = keys::subkey_prefix(db, key, generation);
        full.extend_from_slice(sub);
        if let Some(pending) = self.subs.get(&full) {
            return Ok(pending.clone());
        }
        if self.dropped.contains(&full[..full.len() - sub.len()]) {
            return Ok(None);
        }
        Ok(self.db.get_cf(Cf::Subkeys.handle(self.db), full)?)
    }

    fn sub_put(
        &mut self,
        db: DbIndex,
        key: &[u8],
        generation: u64,
        sub: &[u8],
        value: &[u8],
    ) -> Result<(), StorageError> {
        let mut full = keys::subkey_prefix(db, key, generation);
        full.extend_from_slice(sub);
        self.batch.put_cf(Cf::Subkeys.handle(self.db), &full, value);
        self.subs.insert(full, Some(value.to_vec()));
        Ok(())
    }

    fn sub_delete(&mut self, db: DbIndex, key: &[u8], generation: u64, sub: &[u8]) -> Result<(), StorageError> {
        let mut full = keys::subkey_prefix(db, key, generation);
        full.extend_from_slice(sub);
        self.batch.delete_cf(Cf::Subkeys.handle(self.db), &full);
        self.subs.insert(full, None);
        Ok(())
    }

    fn sub_scan(
        &self,
        db: DbIndex,
        key: &[u8],
        generation: u64,
        range: SubRange<'_>,
        reverse: bool,
        visit: &mut ElementVisitor<'_>,
    ) -> Result<(), StorageError> {
        let prefix = keys::subkey_prefix(db, key, generation);
        let (low, high) = subkeys::full_range(&prefix, range);
        let mut opts = ReadOptions::default();
        opts.set_iterate_lower_bound(low.clone());
        if let Some(high) = &high {
            opts.set_iterate_upper_bound(high.clone());
        }
        let mode = if reverse { IteratorMode::End } else { IteratorMode::Start };
        let stored = self.db.iterator_cf_opt(Cf::Subkeys.handle(self.db), opts, mode);
        // A generation dropped in this transaction still has stored elements
        // until the batch is written: read as if it were.
        let stored = stored.take_while(|_| !self.dropped.contains(&prefix));
        let pending = subkeys::pending_range(&self.subs, low, high, reverse);
        subkeys::merge_visit(stored, pending, reverse, prefix.len(), visit)
    }
}
