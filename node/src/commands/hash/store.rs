//! How the hash commands read and write a hash: fields as hashed elements,
//! Redis's listpack/hashtable encoding rules, and field expiry.
//!
//! # Field expiry
//! A field's expiry lives beside it in the hash's companion generation and
//! the hash's metadata summarises them (see `storage::field_expiry`). A field
//! whose expiry has passed is invisible to every command, whether or not it
//! has been reclaimed yet:
//! - reads filter expired fields by the reading node's clock, as key expiry
//!   does. A hash none of whose fields may have expired (the summary's
//!   earliest expiry is in the future, or it has none) costs nothing extra;
//!   otherwise a read pays for the expired fields not yet reclaimed (one
//!   range scan of them), which the leader's background reclaim keeps few;
//! - writes run in apply, where [`load_for_write`] first reclaims the
//!   hash's expired fields at the entry's time (deterministic on every
//!   replica), so write code sees exact counts.

use std::collections::HashSet;
use std::ops::ControlFlow;

use bytes::Bytes;
use storage::field_expiry::{self, FieldTtlSummary};
use storage::subkeys::ALL;
use storage::{StoredValue, ValueKind};

use super::super::collection::{self, Collection};
use super::super::Ctx;
use crate::error::CommandError;

/// Values of [`storage::ValueHeader::encoding`] for hashes.
pub mod encoding {
    /// Redis's "listpack" while the hash stays within the limits.
    pub const LISTPACK: u8 = 0;
    /// Converted to "hashtable": stays so whatever happens next.
    pub const HASHTABLE: u8 = 1;
    /// Redis 7.4's "listpackex": a listpack that has had field expiries.
    /// Like Redis, it does not go back to "listpack" when they are gone.
    pub const LISTPACK_EX: u8 = 2;
}

/// `hash-max-listpack-entries`.
const LISTPACK_ENTRIES_MAX: u64 = 512;
/// `hash-max-listpack-value`.
const LISTPACK_VALUE_MAX: usize = 64;

/// The name `OBJECT ENCODING` gives a hash value.
pub fn encoding_name(value: &StoredValue) -> &'static str {
    let too_long = value.collection().is_ok_and(|meta| meta.len > LISTPACK_ENTRIES_MAX);
    if value.header.encoding == encoding::HASHTABLE || too_long {
        "hashtable"
    } else if value.header.encoding == encoding::LISTPACK_EX || value.field_ttls().fields > 0 {
        "listpackex"
    } else {
        "listpack"
    }
}

/// Whether Redis would hold the hash as a listpack (with or without
/// expiries).
pub(super) fn is_listpack(hash: &Collection) -> bool {
    hash.value.header.encoding != encoding::HASHTABLE && hash.meta.len <= LISTPACK_ENTRIES_MAX
}

fn convert_to_hashtable(hash: &mut Collection) {
    hash.value.header.encoding = encoding::HASHTABLE;
}

/// Marks a listpack hash as having had field expiries ("listpackex").
pub(super) fn mark_listpack_ex(hash: &mut Collection) {
    if is_listpack(hash) {
        hash.value.header.encoding = encoding::LISTPACK_EX;
    }
}

/// Redis's `hashTypeTryConversion` before HSET/HMSET/HSETNX write
/// `pairs`: more pairs than a listpack holds, or any argument too long,
/// convert the hash first. (The pair count counts repeated fields, so
/// `HSET h f 1 f 2 ...` with 513 pairs converts a one-field hash, as in
/// Redis 7.2.)
pub(super) fn try_conversion(hash: &mut Collection, pairs: &[Bytes]) {
    if !is_listpack(hash) {
        return;
    }
    if pairs.len() as u64 / 2 > LISTPACK_ENTRIES_MAX || pairs.iter().any(|a| a.len() > LISTPACK_VALUE_MAX) {
        convert_to_hashtable(hash);
    }
}

/// The field expiry summary of a loaded hash.
pub(super) fn ttls(hash: &Collection) -> FieldTtlSummary {
    FieldTtlSummary::decode(&hash.meta.extra)
}

/// The live hash at `key`, for a read.
pub(super) fn load(ctx: &Ctx<'_>, key: &[u8]) -> Result<Option<Collection>, CommandError> {
    collection::load(ctx, key, ValueKind::Hash)
}

/// The live hash at `key` for a write: its expired fields are reclaimed
/// first (at the entry's time), so the write sees exact contents. Costs
/// one reclaim of the fields expired since the last one.
pub(super) fn load_for_write(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<Collection>, CommandError> {
    let now_ms = ctx.ks.now_ms();
    if let Some(value) = ctx.ks.get_raw(ctx.db, key)? {
        if value.header.kind == ValueKind::Hash && value.field_ttls().may_have_expired(now_ms) {
            field_expiry::reclaim(&mut *ctx.ks, ctx.db, key, usize::MAX)?;
        }
    }
    collection::load(ctx, key, ValueKind::Hash)
}

/// [`load_for_write`], or a new empty hash.
pub(super) fn load_or_create_for_write(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Collection, CommandError> {
    match load_for_write(ctx, key)? {
        Some(hash) => Ok(hash),
        None => collection::new_collection(ctx, ValueKind::Hash),
    }
}

/// Stores the hash (or deletes it when empty), with its expiry summary's
/// bounds recomputed when it has field expiries.
pub(super) fn save(ctx: &mut Ctx<'_>, key: &[u8], hash: &mut Collection) -> Result<(), CommandError> {
    let mut summary = ttls(hash);
    if summary.fields > 0 {
        field_expiry::refresh_bounds(&*ctx.ks, (ctx.db, key, hash.generation()), &mut summary)?;
        hash.meta.extra = summary.encode();
    }
    collection::save(ctx, key, hash)
}

/// Whether the element `name` has expired (only asked when the summary
/// says some field may have).
fn name_expired(ctx: &Ctx<'_>, key: &[u8], hash: &Collection, name: &[u8]) -> Result<bool, CommandError> {
    let now_ms = ctx.ks.now_ms();
    if !ttls(hash).may_have_expired(now_ms) {
        return Ok(false);
    }
    let at = field_expiry::field_expire_at(&*ctx.ks, ctx.db, key, hash.generation(), name)?;
    Ok(at.is_some_and(|at| at <= now_ms))
}

/// The value of `field`, `None` if the hash has no such live field.
pub(super) fn get_field(
    ctx: &Ctx<'_>,
    key: &[u8],
    hash: &Collection,
    field: &[u8],
) -> Result<Option<Vec<u8>>, CommandError> {
    let name = collection::hashed_name(field);
    let Some(value) = ctx.ks.sub_get(ctx.db, key, hash.generation(), &name)? else { return Ok(None) };
    if name_expired(ctx, key, hash, &name)? {
        return Ok(None);
    }
    Ok(Some(value))
}

/// The element names of the fields that have expired but are still stored.
pub(super) fn expired_names(ctx: &Ctx<'_>, key: &[u8], hash: &Collection) -> Result<HashSet<Vec<u8>>, CommandError> {
    let now_ms = ctx.ks.now_ms();
    if !ttls(hash).may_have_expired(now_ms) {
        return Ok(HashSet::new());
    }
    let found = field_expiry::expired_names(&*ctx.ks, (ctx.db, key, hash.generation()), now_ms, usize::MAX)?;
    Ok(found.into_iter().map(|(_, name)| name).collect())
}

/// The number of live fields.
pub(super) fn live_len(ctx: &Ctx<'_>, key: &[u8], hash: &Collection) -> Result<u64, CommandError> {
    Ok(hash.meta.len.saturating_sub(expired_names(ctx, key, hash)?.len() as u64))
}

/// Sets `field` to `value`; returns whether the field is new. Converts the
/// hash as Redis's `hashTypeSet` does: a field or value too long for a
/// listpack (HINCRBY's field is checked only here), or one field too many.
/// Overwriting a field drops its expiry unless `keep_ttl` (HINCRBY and
/// HINCRBYFLOAT keep it, as in Redis 7.4).
pub(super) fn set_field(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    hash: &mut Collection,
    field: &[u8],
    value: &[u8],
    keep_ttl: bool,
) -> Result<bool, CommandError> {
    let name = collection::hashed_name(field);
    let created = ctx.ks.sub_get(ctx.db, key, hash.generation(), &name)?.is_none();
    if is_listpack(hash) && (field.len() > LISTPACK_VALUE_MAX || value.len() > LISTPACK_VALUE_MAX) {
        convert_to_hashtable(hash);
    }
    ctx.ks.sub_put(ctx.db, key, hash.generation(), &name, value)?;
    if created {
        hash.meta.len += 1;
        if hash.meta.len > LISTPACK_ENTRIES_MAX {
            convert_to_hashtable(hash);
        }
    } else if !keep_ttl {
        clear_ttl(ctx, key, hash, &name)?;
    }
    Ok(created)
}

/// Deletes `field`; returns whether it existed.
pub(super) fn delete_field(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    hash: &mut Collection,
    field: &[u8],
) -> Result<bool, CommandError> {
    let name = collection::hashed_name(field);
    if ctx.ks.sub_get(ctx.db, key, hash.generation(), &name)?.is_none() {
        return Ok(false);
    }
    ctx.ks.sub_delete(ctx.db, key, hash.generation(), &name)?;
    hash.meta.len -= 1;
    clear_ttl(ctx, key, hash, &name)?;
    Ok(true)
}

/// Drops the expiry of the element `name`; returns whether it had one.
pub(super) fn clear_ttl(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    hash: &mut Collection,
    name: &[u8],
) -> Result<bool, CommandError> {
    let mut summary = ttls(hash);
    if summary.fields == 0 {
        return Ok(false);
    }
    let cleared = field_expiry::clear_field_expire(&mut *ctx.ks, (ctx.db, key, hash.generation()), &mut summary, name)?;
    hash.meta.extra = summary.encode();
    Ok(cleared)
}

/// Every live (field, value) pair, in storage order.
pub(super) fn all_pairs(ctx: &Ctx<'_>, key: &[u8], hash: &Collection) -> Result<Vec<(Bytes, Bytes)>, CommandError> {
    let expired = expired_names(ctx, key, hash)?;
    let mut pairs = Vec::with_capacity(super::super::set::capacity_hint(hash.meta.len));
    ctx.ks.sub_scan(ctx.db, key, hash.generation(), ALL, false, &mut |name, value| {
        if !expired.contains(name) {
            pairs.push((Bytes::copy_from_slice(collection::member_of(name)), Bytes::copy_from_slice(value)));
        }
        ControlFlow::Continue(())
    })?;
    Ok(pairs)
}
