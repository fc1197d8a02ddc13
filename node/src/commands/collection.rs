//! What every collection family shares.
//!
//! - [`load`] / [`load_or_create`] / [`save`]: a collection's value and
//!   metadata with the type checked (WRONGTYPE), a new generation for a new
//!   key, and deleting the key when its last element goes, as Redis does.
//!   Every write must end in [`save`] (or a delete): saving the metadata is
//!   what stamps the key as modified for WATCH.
//! - [`hashed_name`]: hashes, sets and sorted-set members are stored under
//!   `bucket (u64 BE) | member`, where the bucket is a CRC-64 of the member.
//!   The bucket is the SCAN cursor (an element present for a whole scan is
//!   returned, however the collection changes between calls, because
//!   buckets do not move) and the entry point for random sampling (seek to a
//!   random bucket: SRANDMEMBER and SPOP stay O(log n) on a million members).
//! - [`scan_elements`]: the HSCAN / SSCAN / ZSCAN loop over hashed names.

use std::ops::{Bound, ControlFlow};

use bytes::Bytes;
use resp::Frame;
use storage::{CollectionMeta, StoredValue, ValueHeader, ValueKind};

use super::expire::opt_is;
use super::glob;
use super::keys::parse_cursor;
use super::Ctx;
use crate::error::CommandError;

/// A collection as read from the keyspace.
#[derive(Debug, Clone)]
pub struct Collection {
    /// The stored value; its payload is rewritten from `meta` by [`save`].
    pub value: StoredValue,
    pub meta: CollectionMeta,
    /// Whether the key did not exist before this command.
    pub created: bool,
}

impl Collection {
    pub fn generation(&self) -> u64 {
        self.meta.generation
    }
}

/// The live collection of `kind` at `key`, `None` if the key is absent.
///
/// # Errors
/// [`CommandError::WrongType`] if the key holds another type.
pub fn load(ctx: &Ctx<'_>, key: &[u8], kind: ValueKind) -> Result<Option<Collection>, CommandError> {
    match ctx.ks.get(ctx.db, key)? {
        None => Ok(None),
        Some(value) if value.header.kind != kind => Err(CommandError::WrongType),
        Some(value) => {
            let meta = value.collection()?;
            Ok(Some(Collection { value, meta, created: false }))
        }
    }
}

/// [`load`], or a new empty collection with a fresh generation (not stored
/// until [`save`]).
pub fn load_or_create(ctx: &mut Ctx<'_>, key: &[u8], kind: ValueKind) -> Result<Collection, CommandError> {
    if let Some(found) = load(ctx, key, kind)? {
        return Ok(found);
    }
    new_collection(ctx, kind)
}

/// A new empty collection with a fresh generation, not yet stored.
pub fn new_collection(ctx: &mut Ctx<'_>, kind: ValueKind) -> Result<Collection, CommandError> {
    let meta = CollectionMeta::new(ctx.ks.new_generation()?);
    let value = StoredValue { header: ValueHeader::new(kind, 0), payload: meta.encode() };
    Ok(Collection { value, meta, created: true })
}

/// Stores the collection's metadata under `key`, or deletes the key when the
/// collection is empty (its elements go with its generation).
pub fn save(ctx: &mut Ctx<'_>, key: &[u8], collection: &Collection) -> Result<(), CommandError> {
    if collection.meta.len == 0 {
        if !collection.created {
            ctx.ks.delete(ctx.db, key)?;
        }
        return Ok(());
    }
    let mut value = collection.value.clone();
    value.payload = collection.meta.encode();
    ctx.ks.put(ctx.db, key, value)?;
    Ok(())
}

const CRC64: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);

/// The bucket of a member: where it sorts among its collection's elements.
pub fn bucket_of(member: &[u8]) -> u64 {
    CRC64.checksum(member)
}

/// The element name of `member` in a hashed collection.
pub fn hashed_name(member: &[u8]) -> Vec<u8> {
    let mut name = Vec::with_capacity(8 + member.len());
    name.extend_from_slice(&bucket_of(member).to_be_bytes());
    name.extend_from_slice(member);
    name
}

/// The member an element name (from [`hashed_name`]) stands for.
pub fn member_of(name: &[u8]) -> &[u8] {
    name.get(8..).unwrap_or_default()
}

/// The bucket an element name starts with.
pub fn bucket_of_name(name: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = name.len().min(8);
    b[..n].copy_from_slice(&name[..n]);
    u64::from_be_bytes(b)
}

/// The options of HSCAN, SSCAN and ZSCAN.
pub struct ScanArgs {
    pub cursor: u64,
    pub pattern: Option<Bytes>,
    pub count: usize,
}

/// Parses `key cursor [MATCH pattern] [COUNT count]` from `args[2..]`
/// with Redis's errors and its order of checks.
pub fn parse_scan_args(args: &[Bytes]) -> Result<ScanArgs, CommandError> {
    let cursor = parse_cursor(&args[2]).ok_or(CommandError::InvalidCursor)?;
    let mut parsed = ScanArgs { cursor, pattern: None, count: 10 };
    let mut at = 3;
    while at < args.len() {
        let has_value = at + 1 < args.len();
        if opt_is(&args[at], "count") && has_value {
            let count = super::args::int_arg(&args[at + 1])?;
            if count < 1 {
                return Err(CommandError::Syntax);
            }
            parsed.count = usize::try_from(count).unwrap_or(usize::MAX);
        } else if opt_is(&args[at], "match") && has_value {
            parsed.pattern = Some(args[at + 1].clone()).filter(|p| p.as_ref() != b"*");
        } else {
            return Err(CommandError::Syntax);
        }
        at += 2;
    }
    Ok(parsed)
}

/// Turns one matching element (member, stored value) of a scan into the
/// reply frames it contributes.
pub type ScanReply<'r> = dyn FnMut(&[u8], &[u8], &mut Vec<Frame>) + 'r;

/// One scan step over a hashed collection whose element names (after
/// `tag`, a fixed prefix such as a sorted set's member index tag) come from
/// [`hashed_name`]. `reply` turns a matching (member, stored value) into
/// the frames to return (the member alone, or member and value).
///
/// A collection Redis would hold as a listpack or intset (`small`) is
/// returned whole with cursor 0, as Redis does; otherwise about `count`
/// elements from the cursor's bucket on, stopping only between buckets.
pub fn scan_elements(
    ctx: &Ctx<'_>,
    key: &[u8],
    generation: u64,
    tag: &[u8],
    scan: &ScanArgs,
    small: bool,
    reply: &mut ScanReply<'_>,
) -> Result<Frame, CommandError> {
    let mut start = tag.to_vec();
    if !small {
        start.extend_from_slice(&scan.cursor.to_be_bytes());
    }
    let end = storage::keys::prefix_end(tag);
    let range = (Bound::Included(start.as_slice()), end.as_deref().map_or(Bound::Unbounded, Bound::Excluded));
    let mut found = Vec::new();
    let mut seen = 0usize;
    let mut next_cursor = 0u64;
    let mut last_bucket = None;
    ctx.ks.sub_scan(ctx.db, key, generation, range, false, &mut |name, stored| {
        let name = &name[tag.len()..];
        let bucket = bucket_of_name(name);
        if !small && seen >= scan.count && last_bucket != Some(bucket) {
            next_cursor = bucket;
            return ControlFlow::Break(());
        }
        seen += 1;
        last_bucket = Some(bucket);
        let member = member_of(name);
        if scan.pattern.as_ref().is_none_or(|p| glob::matches(p, member, false)) {
            reply(member, stored, &mut found);
        }
        ControlFlow::Continue(())
    })?;
    // Bucket 0 would read as "done": a scan that stops right before it is
    // impossible, since bucket 0 sorts first.
    Ok(Frame::Array(vec![Frame::Bulk(Bytes::from(next_cursor.to_string())), Frame::Array(found)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_lead_with_the_bucket_and_keep_the_member() {
        let name = hashed_name(b"member");
        assert_eq!(member_of(&name), b"member");
        assert_eq!(bucket_of_name(&name), bucket_of(b"member"));
        assert_ne!(bucket_of(b"a"), bucket_of(b"b"));
    }
}
