//! The leader's background purge of expired keys.
//!
//! Reads already hide expired keys; this task reclaims their space. Only the
//! leader scans, and it proposes the deletions as a log entry, so every
//! replica deletes the same keys at the same log position. Apply deletes a
//! key only if it is still expired then (it may have been rewritten).

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

/// Expired keys of every database, oldest expiry first, up to the limit.
fn collect_expired(node: &Node, now_ms: u64) -> Vec<(u16, Bytes)> {
    let db = &node.db;
    let cf = Cf::Expires.handle(db);
    let mut found = Vec::new();
    for index in 0..node.args.databases {
        let start = keys::db_prefix(index);
        for item in db.iterator_cf(cf, IteratorMode::From(&start, Direction::Forward)) {
            let Ok((raw, _)) = item else { break };
            let Some((key_db, expire_at_ms, key)) = keys::decode_expires_key(&raw) else { break };
            if key_db != index || expire_at_ms > now_ms {
                break;
            }
            found.push((index, Bytes::copy_from_slice(key)));
            if found.len() >= PURGE_BATCH_KEYS_MAX {
                return found;
            }
        }
    }
    found
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
        while node.is_leader() {
            let now_ms = node.stamp_ms();
            let keys = collect_expired(&node, now_ms);
            if keys.is_empty() {
                break;
            }
            let full = keys.len() >= PURGE_BATCH_KEYS_MAX;
            if let Err(e) = node.raft.client_write(Request::PurgeExpired { now_ms, keys }).await {
                tracing::debug!(error = %e, "proposing expired-key deletions failed");
                break;
            }
            if !full {
                break;
            }
        }
    }
}
