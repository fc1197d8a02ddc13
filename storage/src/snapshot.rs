//! Snapshots of the replicated keyspace.
//!
//! A snapshot is a file holding every record of the state column families
//! (`data`, `subkeys`, `expires`, `sm_meta`) read from one RocksDB snapshot,
//! so it is consistent with the applied log id stored beside the data.
//! openraft treats it as opaque (`generic-snapshot-data`): the transport
//! streams the file and the receiver installs it.
//!
//! # Format
//! ```text
//! "RDSNAP01" | meta length (u32 BE) | bincode(SnapshotMeta)
//!   | records: cf tag (u8, 1..=4) | key length (u32 BE) | key | value length (u32 BE) | value
//!   | end tag 0 (u8) | CRC-32C of everything before (u32 BE)
//! ```

use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use openraft::{RaftTypeConfig, SnapshotMeta, StoredMembership};
use rocksdb::{IteratorMode, ReadOptions, WriteBatch, WriteOptions, DB};

use crate::db::Cf;
use crate::keyspace::meta_keys;
use crate::StorageError;

const MAGIC: &[u8; 8] = b"RDSNAP01";
const SNAPSHOTS_KEPT: usize = 2;
/// Upper bound on one record's key or value; a larger length is corruption.
const RECORD_BYTES_MAX: u32 = 1 << 30;
const CRC32C: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);

static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// A snapshot's metadata and the file holding it.
pub type SnapshotOnDisk<N> = (SnapshotMeta<u64, N>, SnapshotFile);

/// A snapshot file: the data openraft hands around as `SnapshotData`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotFile {
    pub path: PathBuf,
}

fn cf_tag(cf: Cf) -> u8 {
    match cf {
        Cf::Data => 1,
        Cf::Subkeys => 2,
        Cf::Expires => 3,
        Cf::SmMeta => 4,
        Cf::RaftLog | Cf::RaftMeta => unreachable!("the Raft log is not part of a snapshot"),
    }
}

fn cf_from_tag(tag: u8) -> Option<Cf> {
    Some(match tag {
        1 => Cf::Data,
        2 => Cf::Subkeys,
        3 => Cf::Expires,
        4 => Cf::SmMeta,
        _ => return None,
    })
}

fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{nanos}-{}", SEQUENCE.fetch_add(1, Ordering::Relaxed))
}

/// A fresh path under `dir` for a snapshot being received.
pub fn incoming_path(dir: &Path) -> PathBuf {
    dir.join(format!("incoming-{}.part", unique_suffix()))
}

/// Removes files left by a crash in the middle of building or receiving.
///
/// # Errors
/// I/O errors listing or removing files.
pub fn recover_dir(dir: &Path) -> Result<(), StorageError> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if matches!(path.extension().and_then(|e| e.to_str()), Some("tmp") | Some("part")) {
            fs::remove_file(&path)?;
        }
    }
    Ok(())
}

/// Writes and checksums as it goes.
struct Writer {
    out: BufWriter<File>,
    digest: crc::Digest<'static, u32>,
}

impl Writer {
    fn write(&mut self, bytes: &[u8]) -> Result<(), StorageError> {
        self.digest.update(bytes);
        self.out.write_all(bytes)?;
        Ok(())
    }
}

/// Reads and checksums as it goes.
struct Reader {
    input: BufReader<File>,
    digest: crc::Digest<'static, u32>,
}

impl Reader {
    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), StorageError> {
        self.input.read_exact(buf)?;
        self.digest.update(buf);
        Ok(())
    }

    fn read_u32(&mut self) -> Result<u32, StorageError> {
        let mut b = [0u8; 4];
        self.read_exact(&mut b)?;
        Ok(u32::from_be_bytes(b))
    }

    fn read_vec(&mut self) -> Result<Vec<u8>, StorageError> {
        let len = self.read_u32()?;
        if len > RECORD_BYTES_MAX {
            return Err(StorageError::corrupt("snapshot", format!("record of {len} bytes")));
        }
        let mut buf = vec![0u8; len as usize];
        self.read_exact(&mut buf)?;
        Ok(buf)
    }
}

fn open_reader<C: RaftTypeConfig<NodeId = u64>>(
    path: &Path,
) -> Result<(Reader, SnapshotMeta<u64, C::Node>), StorageError> {
    let mut reader = Reader { input: BufReader::new(File::open(path)?), digest: CRC32C.digest() };
    let mut magic = [0u8; 8];
    reader.read_exact(&mut magic)?;
    if &magic != MAGIC {
        return Err(StorageError::corrupt("snapshot", "bad magic"));
    }
    let meta_bytes = reader.read_vec()?;
    let meta: SnapshotMeta<u64, C::Node> = bincode::deserialize(&meta_bytes)?;
    Ok((reader, meta))
}

/// Builds a snapshot of the current state into `dir`.
///
/// # Errors
/// RocksDB, I/O or encoding errors.
pub fn build<C: RaftTypeConfig<NodeId = u64>>(
    db: &DB,
    dir: &Path,
) -> Result<(SnapshotMeta<u64, C::Node>, SnapshotFile), StorageError> {
    let snap = db.snapshot();
    let meta_cf = Cf::SmMeta.handle(db);
    let last_log_id: Option<openraft::LogId<u64>> = match snap.get_cf(meta_cf, meta_keys::APPLIED)? {
        Some(raw) => bincode::deserialize(&raw)?,
        None => None,
    };
    let last_membership: StoredMembership<u64, C::Node> = match snap.get_cf(meta_cf, meta_keys::MEMBERSHIP)? {
        Some(raw) => bincode::deserialize(&raw)?,
        None => StoredMembership::default(),
    };
    let (index, term) = last_log_id.map(|l| (l.index, l.leader_id.term)).unwrap_or((0, 0));
    let suffix = unique_suffix();
    let meta = SnapshotMeta { last_log_id, last_membership, snapshot_id: format!("{term}-{index}-{suffix}") };
    let name = format!("snap-{index:020}-{term:020}-{suffix}");
    let tmp = dir.join(format!("{name}.tmp"));
    let mut writer = Writer { out: BufWriter::new(File::create(&tmp)?), digest: CRC32C.digest() };
    writer.write(MAGIC)?;
    let meta_bytes = bincode::serialize(&meta)?;
    writer.write(&(meta_bytes.len() as u32).to_be_bytes())?;
    writer.write(&meta_bytes)?;
    for cf in Cf::STATE {
        let mut opts = ReadOptions::default();
        opts.set_snapshot(&snap);
        for item in db.iterator_cf_opt(cf.handle(db), opts, IteratorMode::Start) {
            let (key, value) = item?;
            writer.write(&[cf_tag(cf)])?;
            writer.write(&(key.len() as u32).to_be_bytes())?;
            writer.write(&key)?;
            writer.write(&(value.len() as u32).to_be_bytes())?;
            writer.write(&value)?;
        }
    }
    writer.write(&[0])?;
    let crc = writer.digest.finalize();
    writer.out.write_all(&crc.to_be_bytes())?;
    let file = writer.out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    let path = dir.join(format!("{name}.snap"));
    fs::rename(&tmp, &path)?;
    File::open(dir)?.sync_all()?;
    prune(dir)?;
    Ok((meta, SnapshotFile { path }))
}

fn snapshot_files(dir: &Path) -> Result<Vec<PathBuf>, StorageError> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("snap"))
        .collect();
    // Names start with the zero-padded index and term, so they sort by age.
    files.sort();
    Ok(files)
}

fn prune(dir: &Path) -> Result<(), StorageError> {
    let files = snapshot_files(dir)?;
    if files.len() > SNAPSHOTS_KEPT {
        for old in &files[..files.len() - SNAPSHOTS_KEPT] {
            // A sender streaming this file keeps its open handle; removing
            // the name does not disturb it.
            fs::remove_file(old)?;
        }
    }
    Ok(())
}

/// The newest snapshot in `dir`, if any.
///
/// # Errors
/// I/O or decoding errors reading its header.
pub fn latest<C: RaftTypeConfig<NodeId = u64>>(dir: &Path) -> Result<Option<SnapshotOnDisk<C::Node>>, StorageError> {
    let Some(path) = snapshot_files(dir)?.pop() else { return Ok(None) };
    let (_, meta) = open_reader::<C>(&path)?;
    Ok(Some((meta, SnapshotFile { path })))
}

/// Replaces the state with the snapshot in `file`, atomically, and keeps a
/// copy of the file as this node's current snapshot.
///
/// # Errors
/// Corrupt file (bad magic, checksum, or metadata different from `meta`),
/// RocksDB or I/O errors. On error the state is unchanged.
pub fn install<C: RaftTypeConfig<NodeId = u64>>(
    db: &DB,
    dir: &Path,
    meta: &SnapshotMeta<u64, C::Node>,
    file: &SnapshotFile,
) -> Result<(), StorageError> {
    let (mut reader, file_meta) = open_reader::<C>(&file.path)?;
    if file_meta.last_log_id != meta.last_log_id || file_meta.snapshot_id != meta.snapshot_id {
        return Err(StorageError::corrupt("snapshot", "file metadata differs from the announced metadata"));
    }
    let mut batch = WriteBatch::default();
    // One batch replaces everything, so a crash leaves either the old state
    // or the new one. It holds the whole snapshot in memory; streaming
    // RocksDB checkpoints will lift that limit.
    let end = [0xffu8; 64];
    for cf in Cf::STATE {
        batch.delete_range_cf(cf.handle(db), &[][..], &end[..]);
        for item in db.iterator_cf(cf.handle(db), IteratorMode::From(&end, rocksdb::Direction::Forward)) {
            let (key, _) = item?;
            batch.delete_cf(cf.handle(db), key);
        }
    }
    loop {
        let mut tag = [0u8; 1];
        reader.read_exact(&mut tag)?;
        if tag[0] == 0 {
            break;
        }
        let cf = cf_from_tag(tag[0])
            .ok_or_else(|| StorageError::corrupt("snapshot", format!("unknown column family tag {}", tag[0])))?;
        let key = reader.read_vec()?;
        let value = reader.read_vec()?;
        batch.put_cf(cf.handle(db), key, value);
    }
    let computed = reader.digest.finalize();
    let mut stored = [0u8; 4];
    reader.input.read_exact(&mut stored)?;
    if u32::from_be_bytes(stored) != computed {
        return Err(StorageError::corrupt("snapshot", "checksum mismatch"));
    }
    // Keep the snapshot as ours before changing state, so that once the state
    // says it is at `last_log_id` a snapshot of that point exists to send on.
    let (index, term) = meta.last_log_id.map(|l| (l.index, l.leader_id.term)).unwrap_or((0, 0));
    let name = format!("snap-{index:020}-{term:020}-{}", unique_suffix());
    let tmp = dir.join(format!("{name}.tmp"));
    fs::copy(&file.path, &tmp)?;
    File::open(&tmp)?.sync_all()?;
    fs::rename(&tmp, dir.join(format!("{name}.snap")))?;
    File::open(dir)?.sync_all()?;
    let mut opts = WriteOptions::default();
    opts.set_sync(true);
    db.write_opt(batch, &opts)?;
    prune(dir)?;
    Ok(())
}
