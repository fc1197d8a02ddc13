//! Hash field expiry (Redis 7.4's HEXPIRE family) as storage sees it.
//!
//! A hash's fields are elements of its generation (see [`crate::collection`]),
//! each named by the node's hashed field name. A field's expiry lives beside
//! it, in the hash's *companion generation* (the generation with
//! [`COMPANION_BIT`] set), twice:
//!
//! ```text
//! 0x00 | name                     -> expire_at_ms (u64 BE)   by field: HTTL, HPERSIST
//! 0x01 | expire_at_ms (BE) | name -> ""                      by time: what has expired
//! ```
//!
//! Field values are untouched, so every reader of a hash's elements (HSCAN,
//! HRANDFIELD, DUMP) reads them as before; only the commands that must hide
//! expired fields consult the companion.
//!
//! The hash's collection metadata carries a [`FieldTtlSummary`] in its
//! type-specific bytes: how many fields have an expiry and the earliest and
//! latest of them. It costs nothing to a hash without field TTLs (no bytes,
//! no lookups), tells a read in O(1) whether any field may have expired, and
//! tells the keyspace when *every* field has expired, so the key itself reads
//! as absent (TYPE, EXISTS, SCAN) before the fields are reclaimed.
//!
//! The keyspace keeps a secondary index of hashes by their earliest field
//! expiry in the `expires` column family under [`crate::keys::field_expires_key`]
//! (maintained by `put`/`delete` from the summary, like key expiries), which
//! the leader scans to propose [`crate::Request::ReclaimExpiredFields`]:
//! [`reclaim`] then deletes the expired fields at the entry's time on every
//! replica alike.

use std::ops::{Bound, ControlFlow};

use bytes::Bytes;

use crate::value::{StoredValue, ValueKind};
use crate::{CollectionMeta, DbIndex, Keyspace, StorageError};

/// Set in a generation to name its companion (field expiries). Generations
/// are `log index << 20 | n`, so real ones never have it.
pub const COMPANION_BIT: u64 = 1 << 63;

const BY_FIELD: u8 = 0;
const BY_TIME: u8 = 1;

/// The companion generation of a hash generation.
pub fn companion(generation: u64) -> u64 {
    generation | COMPANION_BIT
}

fn by_field_name(name: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + name.len());
    out.push(BY_FIELD);
    out.extend_from_slice(name);
    out
}

fn by_time_name(expire_at_ms: u64, name: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(9 + name.len());
    out.push(BY_TIME);
    out.extend_from_slice(&expire_at_ms.to_be_bytes());
    out.extend_from_slice(name);
    out
}

fn word(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?))
}

/// What a hash's metadata says about its field expiries.
///
/// # Format
/// ```text
/// fields (u64 BE) | min_ms (u64 BE) | max_ms (u64 BE)    (absent: no field TTLs)
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FieldTtlSummary {
    /// Number of fields with an expiry (expired but not reclaimed included).
    pub fields: u64,
    /// The earliest field expiry (0 when `fields` is 0).
    pub min_ms: u64,
    /// The latest field expiry (0 when `fields` is 0).
    pub max_ms: u64,
}

impl FieldTtlSummary {
    const BYTES: usize = 24;

    /// Decodes a hash's type-specific metadata bytes (empty: no field TTLs).
    pub fn decode(extra: &[u8]) -> Self {
        match (word(extra), extra.get(8..).and_then(word), extra.get(16..).and_then(word)) {
            (Some(fields), Some(min_ms), Some(max_ms)) => FieldTtlSummary { fields, min_ms, max_ms },
            _ => FieldTtlSummary::default(),
        }
    }

    /// The bytes to store (none without field TTLs, so plain hashes keep
    /// their old payload).
    pub fn encode(&self) -> Bytes {
        if self.fields == 0 {
            return Bytes::new();
        }
        let mut out = Vec::with_capacity(Self::BYTES);
        out.extend_from_slice(&self.fields.to_be_bytes());
        out.extend_from_slice(&self.min_ms.to_be_bytes());
        out.extend_from_slice(&self.max_ms.to_be_bytes());
        Bytes::from(out)
    }

    /// Whether some field may have expired at `now_ms`: only then do reads
    /// pay for checking field expiries.
    pub fn may_have_expired(&self, now_ms: u64) -> bool {
        self.fields > 0 && self.min_ms <= now_ms
    }

    /// Whether every one of `len` fields has expired at `now_ms`.
    pub fn all_expired(&self, len: u64, now_ms: u64) -> bool {
        len > 0 && self.fields >= len && self.max_ms <= now_ms
    }

    /// The earliest field expiry, if any field has one.
    pub fn earliest(&self) -> Option<u64> {
        (self.fields > 0).then_some(self.min_ms)
    }
}

impl StoredValue {
    /// The field TTL summary of a hash (default for any other value).
    pub fn field_ttls(&self) -> FieldTtlSummary {
        if self.header.kind != ValueKind::Hash {
            return FieldTtlSummary::default();
        }
        FieldTtlSummary::decode(self.payload.get(crate::collection::META_BYTES..).unwrap_or_default())
    }

    /// Whether the key is logically present at `now_ms`: not expired, and
    /// not a hash whose every field has expired.
    pub fn is_live(&self, now_ms: u64) -> bool {
        if self.header.is_expired(now_ms) {
            return false;
        }
        if self.header.kind != ValueKind::Hash {
            return true;
        }
        let summary = self.field_ttls();
        if summary.fields == 0 {
            return true;
        }
        let len = CollectionMeta::decode(&self.payload).map_or(0, |meta| meta.len);
        !summary.all_expired(len, now_ms)
    }
}

/// The stored expiry of the element `name` of a hash generation.
///
/// # Errors
/// Storage errors.
pub fn field_expire_at(
    ks: &dyn Keyspace,
    db: DbIndex,
    key: &[u8],
    generation: u64,
    name: &[u8],
) -> Result<Option<u64>, StorageError> {
    Ok(ks.sub_get(db, key, companion(generation), &by_field_name(name))?.as_deref().and_then(word))
}

/// Gives `name` the expiry `expire_at_ms`, replacing any it had. The
/// caller stores the updated `summary` (then [`refresh_bounds`]).
///
/// # Errors
/// Storage errors.
pub fn set_field_expire(
    ks: &mut dyn Keyspace,
    (db, key, generation): (DbIndex, &[u8], u64),
    summary: &mut FieldTtlSummary,
    name: &[u8],
    expire_at_ms: u64,
) -> Result<(), StorageError> {
    let shadow = companion(generation);
    match field_expire_at(ks, db, key, generation, name)? {
        Some(old) => ks.sub_delete(db, key, shadow, &by_time_name(old, name))?,
        None => summary.fields += 1,
    }
    ks.sub_put(db, key, shadow, &by_field_name(name), &expire_at_ms.to_be_bytes())?;
    ks.sub_put(db, key, shadow, &by_time_name(expire_at_ms, name), &[])?;
    Ok(())
}

/// Removes the expiry of `name`; returns whether it had one.
///
/// # Errors
/// Storage errors.
pub fn clear_field_expire(
    ks: &mut dyn Keyspace,
    (db, key, generation): (DbIndex, &[u8], u64),
    summary: &mut FieldTtlSummary,
    name: &[u8],
) -> Result<bool, StorageError> {
    let Some(old) = field_expire_at(ks, db, key, generation, name)? else { return Ok(false) };
    let shadow = companion(generation);
    ks.sub_delete(db, key, shadow, &by_field_name(name))?;
    ks.sub_delete(db, key, shadow, &by_time_name(old, name))?;
    summary.fields = summary.fields.saturating_sub(1);
    Ok(true)
}

/// Recomputes the earliest and latest expiry from the by-time index (two
/// seeks).
///
/// # Errors
/// Storage errors.
pub fn refresh_bounds(
    ks: &dyn Keyspace,
    (db, key, generation): (DbIndex, &[u8], u64),
    summary: &mut FieldTtlSummary,
) -> Result<(), StorageError> {
    let range = (Bound::Included(&[BY_TIME][..]), Bound::Excluded(&[BY_TIME + 1][..]));
    let edge = |reverse: bool| -> Result<u64, StorageError> {
        let mut found = 0;
        ks.sub_scan(db, key, companion(generation), range, reverse, &mut |name, _| {
            found = word(&name[1..]).unwrap_or(0);
            ControlFlow::Break(())
        })?;
        Ok(found)
    };
    if summary.fields == 0 {
        *summary = FieldTtlSummary::default();
        return Ok(());
    }
    summary.min_ms = edge(false)?;
    summary.max_ms = edge(true)?;
    Ok(())
}

/// The element names whose expiry is at or before `now_ms`, earliest first,
/// with their expiries, at most `limit` of them.
///
/// # Errors
/// Storage errors.
pub fn expired_names(
    ks: &dyn Keyspace,
    (db, key, generation): (DbIndex, &[u8], u64),
    now_ms: u64,
    limit: usize,
) -> Result<Vec<(u64, Vec<u8>)>, StorageError> {
    let mut found = Vec::new();
    let high = by_time_name(now_ms.saturating_add(1), &[]);
    let range = (Bound::Included(&[BY_TIME][..]), Bound::Excluded(high.as_slice()));
    ks.sub_scan(db, key, companion(generation), range, false, &mut |name, _| {
        if found.len() >= limit {
            return ControlFlow::Break(());
        }
        found.push((word(&name[1..]).unwrap_or(0), name.get(9..).unwrap_or_default().to_vec()));
        ControlFlow::Continue(())
    })?;
    Ok(found)
}

/// Deletes up to `limit` fields of the hash at `key` whose expiry is at or
/// before the keyspace's time, with their expiries, and stores the hash's
/// metadata (or deletes the key with its last field). Returns how many
/// fields went. Anything else at `key` (another type, an expired key, a
/// hash with nothing expired) is left alone.
///
/// # Errors
/// Storage errors.
pub fn reclaim(ks: &mut dyn Keyspace, db: DbIndex, key: &[u8], limit: usize) -> Result<u64, StorageError> {
    let now_ms = ks.now_ms();
    let Some(mut value) = ks.get_raw(db, key)? else { return Ok(0) };
    if value.header.kind != ValueKind::Hash || value.header.is_expired(now_ms) {
        return Ok(0);
    }
    let mut summary = value.field_ttls();
    if !summary.may_have_expired(now_ms) {
        return Ok(0);
    }
    let mut meta = value.collection()?;
    let at = (db, key, meta.generation);
    let expired = expired_names(&*ks, at, now_ms, limit)?;
    let shadow = companion(meta.generation);
    for (expire_at_ms, name) in &expired {
        ks.sub_delete(db, key, meta.generation, name)?;
        ks.sub_delete(db, key, shadow, &by_field_name(name))?;
        ks.sub_delete(db, key, shadow, &by_time_name(*expire_at_ms, name))?;
        meta.len = meta.len.saturating_sub(1);
        summary.fields = summary.fields.saturating_sub(1);
    }
    if meta.len == 0 {
        ks.delete(db, key)?;
        return Ok(expired.len() as u64);
    }
    refresh_bounds(&*ks, at, &mut summary)?;
    meta.extra = summary.encode();
    value.payload = meta.encode();
    ks.put(db, key, value)?;
    Ok(expired.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_round_trip_and_are_empty_without_ttls() {
        assert!(FieldTtlSummary::default().encode().is_empty());
        assert_eq!(FieldTtlSummary::decode(&[]), FieldTtlSummary::default());
        let s = FieldTtlSummary { fields: 3, min_ms: 10, max_ms: 99 };
        assert_eq!(FieldTtlSummary::decode(&s.encode()), s);
        assert!(s.may_have_expired(10));
        assert!(!s.may_have_expired(9));
        assert!(s.all_expired(3, 99));
        assert!(!s.all_expired(4, 1000), "a field without TTL keeps the hash");
        assert!(!s.all_expired(3, 98));
    }

    #[test]
    fn time_names_sort_by_time_then_name() {
        assert!(by_time_name(5, b"zz") < by_time_name(6, b"aa"));
        assert!(by_field_name(b"\xff") < by_time_name(0, b""));
        assert_eq!(companion(7) & !COMPANION_BIT, 7);
    }
}
