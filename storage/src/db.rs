//! One RocksDB per node, with a column family per concern.

use std::path::Path;
use std::sync::Arc;

use rocksdb::{ColumnFamilyDescriptor, Options, DB};

use crate::StorageError;

/// The shared handle to a node's RocksDB.
pub type RocksDb = Arc<DB>;

/// Column families. The Raft log and its metadata are kept apart from the
/// keyspace so that a snapshot can copy the keyspace without the log, and the
/// log can be purged with a range delete that never touches user data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cf {
    /// Raft log entries, keyed by big-endian index.
    RaftLog,
    /// Vote, committed log id, last purged log id.
    RaftMeta,
    /// One record per user key: header plus, for strings, the value.
    Data,
    /// Elements of collections (lists, hashes, sets, zsets, streams).
    Subkeys,
    /// Expiry index: `db | expire_at_ms | slot | key`, so expired keys are
    /// found by a range scan instead of a full scan.
    Expires,
    /// State machine metadata: applied log id, membership, key counts.
    SmMeta,
}

impl Cf {
    pub const ALL: [Cf; 6] = [Cf::RaftLog, Cf::RaftMeta, Cf::Data, Cf::Subkeys, Cf::Expires, Cf::SmMeta];
    /// The column families that make up the replicated state (what a snapshot holds).
    pub const STATE: [Cf; 4] = [Cf::Data, Cf::Subkeys, Cf::Expires, Cf::SmMeta];

    pub fn name(self) -> &'static str {
        match self {
            Cf::RaftLog => "raft_log",
            Cf::RaftMeta => "raft_meta",
            Cf::Data => "data",
            Cf::Subkeys => "subkeys",
            Cf::Expires => "expires",
            Cf::SmMeta => "sm_meta",
        }
    }

    pub fn handle(self, db: &DB) -> &rocksdb::ColumnFamily {
        // Every column family in `Cf::ALL` is created by `open_db`, so a
        // missing handle is a programming error, not an operating one.
        db.cf_handle(self.name()).expect("column family created by open_db")
    }
}

/// Opens (creating if needed) the node's RocksDB under `dir`.
///
/// # Errors
/// Any RocksDB error opening the database.
pub fn open_db(dir: &Path) -> Result<RocksDb, StorageError> {
    std::fs::create_dir_all(dir)?;
    let mut opts = Options::default();
    opts.create_if_missing(true);
    opts.create_missing_column_families(true);
    // Point-in-time recovery restores a consistent prefix of the WAL: a
    // crash can lose unsynced writes but never reorder them, which is what
    // keeps the applied index and the data it produced together.
    opts.set_wal_recovery_mode(rocksdb::DBRecoveryMode::PointInTime);
    opts.increase_parallelism(2);
    opts.set_max_background_jobs(2);
    let cfs = Cf::ALL.iter().map(|cf| {
        let mut cf_opts = Options::default();
        if matches!(cf, Cf::RaftLog) {
            cf_opts.set_compression_type(rocksdb::DBCompressionType::None);
        } else {
            cf_opts.set_compression_type(rocksdb::DBCompressionType::Lz4);
        }
        ColumnFamilyDescriptor::new(cf.name(), cf_opts)
    });
    let db = DB::open_cf_descriptors(&opts, dir.join("rocksdb"), cfs)?;
    Ok(Arc::new(db))
}
