//! Key encoding.
//!
//! A user key lives in the `data` column family under
//! `db (u16 BE) | slot (u16 BE) | user key`. Putting the hash slot after the
//! database keeps `CLUSTER GETKEYSINSLOT`/`COUNTKEYSINSLOT` a prefix scan and
//! lets `SCAN` use the slot as a cursor that means the same on every node.
//!
//! Elements of collections (added with the collection types) live in
//! `subkeys` under `db | slot | key length (u32 BE) | key | generation (u64
//! BE) | element`: the generation changes when a key is re-created, so a
//! deleted collection's elements become invisible at once and can be
//! collected in the background instead of being deleted inline.
//!
//! The expiry index lives in `expires` under
//! `db | expire_at_ms (u64 BE) | slot | user key`. The index of hashes by
//! their earliest field expiry (see [`crate::field_expiry`]) shares the
//! column family under `0xffff | db | expire_at_ms | slot | user key`: no
//! database has index 0xffff, so neither index sees the other's entries.

use crate::DbIndex;

/// Number of Redis Cluster hash slots.
pub const SLOT_COUNT: u16 = 16384;

const CRC16_XMODEM: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_XMODEM);

/// The Redis Cluster hash slot of a key, honouring `{hash tags}`.
pub fn key_slot(key: &[u8]) -> u16 {
    let hashed = match key.iter().position(|&b| b == b'{') {
        Some(open) => match key[open + 1..].iter().position(|&b| b == b'}') {
            Some(len) if len > 0 => &key[open + 1..open + 1 + len],
            _ => key,
        },
        None => key,
    };
    CRC16_XMODEM.checksum(hashed) % SLOT_COUNT
}

/// `db | slot | key` in the `data` column family.
pub fn data_key(db: DbIndex, key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + key.len());
    out.extend_from_slice(&db.to_be_bytes());
    out.extend_from_slice(&key_slot(key).to_be_bytes());
    out.extend_from_slice(key);
    out
}

/// The prefix shared by every key of `db` in the `data` column family.
pub fn db_prefix(db: DbIndex) -> [u8; 2] {
    db.to_be_bytes()
}

/// The prefix shared by every key of `db` in `slot`.
pub fn slot_prefix(db: DbIndex, slot: u16) -> [u8; 4] {
    let mut out = [0u8; 4];
    out[..2].copy_from_slice(&db.to_be_bytes());
    out[2..].copy_from_slice(&slot.to_be_bytes());
    out
}

/// Splits a `data` key into its database, slot and user key.
pub fn decode_data_key(raw: &[u8]) -> Option<(DbIndex, u16, &[u8])> {
    if raw.len() < 4 {
        return None;
    }
    let db = u16::from_be_bytes([raw[0], raw[1]]);
    let slot = u16::from_be_bytes([raw[2], raw[3]]);
    Some((db, slot, &raw[4..]))
}

/// `db | expire_at_ms | slot | key` in the `expires` column family.
pub fn expires_key(db: DbIndex, expire_at_ms: u64, key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + key.len());
    out.extend_from_slice(&db.to_be_bytes());
    out.extend_from_slice(&expire_at_ms.to_be_bytes());
    out.extend_from_slice(&key_slot(key).to_be_bytes());
    out.extend_from_slice(key);
    out
}

/// Splits an `expires` key into its database, expiry time and user key.
pub fn decode_expires_key(raw: &[u8]) -> Option<(DbIndex, u64, &[u8])> {
    if raw.len() < 12 {
        return None;
    }
    let db = u16::from_be_bytes([raw[0], raw[1]]);
    let mut at = [0u8; 8];
    at.copy_from_slice(&raw[2..10]);
    Some((db, u64::from_be_bytes(at), &raw[12..]))
}

/// Leads every entry of the field expiry index in `expires`.
const FIELD_EXPIRES_TAG: [u8; 2] = [0xff, 0xff];

/// The prefix of `db`'s entries in the field expiry index.
pub fn field_expires_prefix(db: DbIndex) -> [u8; 4] {
    let mut out = [0u8; 4];
    out[..2].copy_from_slice(&FIELD_EXPIRES_TAG);
    out[2..].copy_from_slice(&db.to_be_bytes());
    out
}

/// `0xffff | db | expire_at_ms | slot | key` in the `expires` column family:
/// the hash at `key` has a field expiring at `expire_at_ms`, its earliest.
pub fn field_expires_key(db: DbIndex, expire_at_ms: u64, key: &[u8]) -> Vec<u8> {
    let mut out = field_expires_prefix(db).to_vec();
    out.extend_from_slice(&expires_key(db, expire_at_ms, key)[2..]);
    out
}

/// Splits a field expiry index key into its database, time and user key.
pub fn decode_field_expires_key(raw: &[u8]) -> Option<(DbIndex, u64, &[u8])> {
    if !raw.starts_with(&FIELD_EXPIRES_TAG) {
        return None;
    }
    decode_expires_key(&raw[2..])
}

/// The prefix of every element of one generation of a collection.
pub fn subkey_prefix(db: DbIndex, key: &[u8], generation: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + key.len());
    out.extend_from_slice(&db.to_be_bytes());
    out.extend_from_slice(&key_slot(key).to_be_bytes());
    out.extend_from_slice(&(key.len() as u32).to_be_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(&generation.to_be_bytes());
    out
}

/// The smallest byte string greater than every string starting with `prefix`,
/// or `None` when there is none (a prefix of all 0xff bytes).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last != 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_slot_matches_redis_cluster_examples() {
        // Values from the Redis Cluster specification and `CLUSTER KEYSLOT`.
        assert_eq!(key_slot(b"123456789"), 0x31c3 % SLOT_COUNT);
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"foo{}{bar}"), key_slot(b"foo{}{bar}"));
        assert_eq!(key_slot(b"{}"), CRC16_XMODEM.checksum(b"{}") % SLOT_COUNT);
    }

    #[test]
    fn data_keys_group_by_db_then_slot() {
        let k = data_key(3, b"foo");
        assert_eq!(decode_data_key(&k), Some((3, 12182, &b"foo"[..])));
        assert!(k.starts_with(&slot_prefix(3, 12182)));
    }

    #[test]
    fn expires_keys_sort_by_time_within_db() {
        let a = expires_key(0, 5, b"zzz");
        let b = expires_key(0, 6, b"aaa");
        assert!(a < b);
        assert_eq!(decode_expires_key(&b), Some((0, 6, &b"aaa"[..])));
    }

    #[test]
    fn field_expiry_entries_sort_after_every_database() {
        let k = field_expires_key(3, 7, b"h");
        assert_eq!(decode_field_expires_key(&k), Some((3, 7, &b"h"[..])));
        assert!(k.as_slice() > expires_key(u16::MAX - 1, u64::MAX, b"h").as_slice());
        assert!(k.starts_with(&field_expires_prefix(3)));
        assert_eq!(decode_field_expires_key(&expires_key(3, 7, b"h")), None);
    }

    #[test]
    fn prefix_end_is_the_next_prefix() {
        assert_eq!(prefix_end(&[0, 1]), Some(vec![0, 2]));
        assert_eq!(prefix_end(&[0, 0xff]), Some(vec![1]));
        assert_eq!(prefix_end(&[0xff, 0xff]), None);
    }
}
