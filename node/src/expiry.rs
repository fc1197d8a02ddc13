//! The leader's background purge of expired keys.
//!
//! Reads already hide expired keys; this task reclaims their space. Only the
//! leader scans, and it proposes the deletions as a log entry, so every
//! replica deletes the same keys at the same log position. Apply deletes a
//! key only if it is still expired then (it may have been rewritten).
//!
//! Expired hash fields are reclaimed the same way: the `expires` column
//! family also indexes hashes by their earliest field expiry (see
//! `storage::field_expiry`), and the leader proposes
//! `Request::ReclaimExpiredFields` for those due, which deletes the fields
//! still expired at the entry's time (and the hash with its last field).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rocksdb::{Direction, IteratorMode};
use storage::keys;
use storage::{Cf, Request};
use tokio::sync::watch;

use crate::node::Node;

const SCAN_INTERVAL: Duration = Duration::from_millis(100);
/// Keys per purge entry: bounds the entry size and the apply time.
const PURGE_BATCH_KEYS_MAX: usize = 500;
/// Hash fields one reclaim entry deletes at most: bounds its apply time
/// however many fields expire at once (the rest go in the next entries).
const RECLAIM_BATCH_FIELDS_MAX: u64 = 2_000;
/// Reclaim entries proposed per tick at most.
const RECLAIM_ROUNDS_MAX: usize = 16;

/// Which expiry index to read.
#[derive(Clone, Copy)]
enum Index {
    /// Keys by expiry.
    Keys,
    /// Hashes by earliest field expiry.
    HashFields,
}

/// Due entries of one expiry index in every database, oldest expiry first,
/// up to the limit.
fn collect_due(node: &Node, now_ms: u64, index: Index) -> Vec<(u16, Bytes)> {
    let db = &node.db;
    let cf = Cf::Expires.handle(db);
    let mut found = Vec::new();
    for db_index in 0..node.args.databases {
        let start = match index {
            Index::Keys => keys::db_prefix(db_index).to_vec(),
            Index::HashFields => keys::field_expires_prefix(db_index).to_vec(),
        };
        for item in db.iterator_cf(cf, IteratorMode::From(&start, Direction::Forward)) {
            let Ok((raw, _)) = item else { break };
            let decoded = match index {
                Index::Keys => keys::decode_expires_key(&raw),
                Index::HashFields => keys::decode_field_expires_key(&raw),
            };
            let Some((key_db, expire_at_ms, key)) = decoded else { break };
            if key_db != db_index || expire_at_ms > now_ms {
                break;
            }
            found.push((db_index, Bytes::copy_from_slice(key)));
            if found.len() >= PURGE_BATCH_KEYS_MAX {
                return found;
            }
        }
    }
    found
}

/// Proposes entries for what is due in `index` until nothing is, leadership
/// is lost, a proposal fails or `rounds_max` entries went (an entry that
/// cannot make progress, such as a hash whose key expired after the purge
/// looked, must not spin: the next tick retries).
async fn propose_due(node: &Node, index: Index, rounds_max: usize) {
    for _ in 0..rounds_max {
        if !node.is_leader() {
            return;
        }
        let now_ms = node.stamp_ms();
        let keys = collect_due(node, now_ms, index);
        if keys.is_empty() {
            return;
        }
        let full = keys.len() >= PURGE_BATCH_KEYS_MAX;
        let request = match index {
            Index::Keys => Request::PurgeExpired { now_ms, keys },
            Index::HashFields => Request::ReclaimExpiredFields { now_ms, keys, fields_max: RECLAIM_BATCH_FIELDS_MAX },
        };
        if let Err(e) = node.raft.client_write(request).await {
            tracing::debug!(error = %e, "proposing expired-key deletions failed");
            return;
        }
        // A reclaim entry may stop at its field budget with due hashes left.
        if !full && matches!(index, Index::Keys) {
            return;
        }
    }
}

/// Runs until `stop` turns true.
pub async fn run(node: Arc<Node>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(SCAN_INTERVAL) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        propose_due(&node, Index::Keys, usize::MAX).await;
        propose_due(&node, Index::HashFields, RECLAIM_ROUNDS_MAX).await;
    }
}
