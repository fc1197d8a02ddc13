//! How a list is kept: its metadata and its elements.
//!
//! # Layout
//! The metadata's `extra` is `head (u64 BE) | listpack_bytes (u64 BE)`.
//! Element `i` (0-based from the left) is the subkey named by the big-endian
//! `head + i`, so the elements sort in list order and the list occupies the
//! index range `[head, head + len)`. A new list starts in the middle of the
//! u64 range, so either end can grow by 2^63 pushes: LPUSH, RPUSH, LPOP,
//! RPOP, LINDEX and LSET touch one element whatever the length, LRANGE is a
//! range scan, and only LINSERT and LREM move elements (the shorter side, as
//! Redis's own cost is O(n) there).
//!
//! `listpack_bytes` is the size Redis's listpack of the same elements would
//! have (its `lpBytes`), kept up to date on every change because Redis
//! decides its encoding from it (see [`super::encoding_name`]).

use std::ops::{Bound, ControlFlow};

use bytes::Bytes;
use storage::ValueKind;

use super::super::collection::{self, Collection};
use super::super::Ctx;
use crate::error::CommandError;

/// Values of [`storage::ValueHeader::encoding`] for lists.
pub mod encoding {
    pub const LISTPACK: u8 = 0;
    pub const QUICKLIST: u8 = 1;
}

/// The index of the first element of a new list.
const START: u64 = 1 << 63;

/// Bytes of an empty listpack: the 6-byte header and the end marker.
pub const LISTPACK_EMPTY_BYTES: u64 = 7;

/// The subkey of the element at absolute index `index`.
fn name(index: u64) -> [u8; 8] {
    index.to_be_bytes()
}

fn index_of(name: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = name.len().min(8);
    b[..n].copy_from_slice(&name[..n]);
    u64::from_be_bytes(b)
}

/// The bytes one element takes in a listpack (`lpEncodeGetType` and
/// `lpEncodeBacklen`): an integer in `string2ll` form is stored in 1 to 9
/// bytes by magnitude, a string after a 1, 2 or 5 byte length header; then
/// the entry's length again, in 1 to 5 bytes.
pub fn listpack_entry_bytes(element: &[u8]) -> u64 {
    let encoded = match super::super::args::parse_i64(element) {
        Some(v) if (0..=127).contains(&v) => 1,
        Some(v) if (-4096..=4095).contains(&v) => 2,
        Some(v) if i16::try_from(v).is_ok() => 3,
        Some(v) if (-8_388_608..=8_388_607).contains(&v) => 4,
        Some(v) if i32::try_from(v).is_ok() => 5,
        Some(_) => 9,
        None => {
            let len = element.len() as u64;
            len + match len {
                0..=63 => 1,
                64..=4095 => 2,
                _ => 5,
            }
        }
    };
    let backlen = match encoded {
        0..=127 => 1,
        128..=16_382 => 2,
        16_383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    };
    encoded + backlen
}

/// A list as loaded for one command; changes are written as they are made
/// and the metadata by [`List::save`].
pub struct List {
    coll: Collection,
    head: u64,
    listpack_bytes: u64,
    /// Absolute indexes emptied by a pop that took every element without
    /// deleting them one by one (the key is usually deleted right after,
    /// taking them along). If the list is refilled in the same command
    /// (LMOVE of a list onto itself), [`List::save`] deletes those left
    /// outside the new range.
    garbage: Option<(u64, u64)>,
}

impl List {
    fn from_collection(coll: Collection) -> Result<Self, CommandError> {
        if coll.created {
            return Ok(List { coll, head: START, listpack_bytes: LISTPACK_EMPTY_BYTES, garbage: None });
        }
        let extra = &coll.meta.extra;
        if extra.len() < 16 {
            return Err(storage::StorageError::corrupt("list", format!("{} byte list metadata", extra.len())).into());
        }
        let head = index_of(&extra[..8]);
        let listpack_bytes = index_of(&extra[8..16]);
        Ok(List { coll, head, listpack_bytes, garbage: None })
    }

    /// The live list at `key`, `None` if absent.
    ///
    /// # Errors
    /// [`CommandError::WrongType`] if the key holds another type.
    pub fn load(ctx: &Ctx<'_>, key: &[u8]) -> Result<Option<Self>, CommandError> {
        collection::load(ctx, key, ValueKind::List)?.map(Self::from_collection).transpose()
    }

    /// A new empty list (stored by [`List::save`] once it has elements).
    pub fn create(ctx: &mut Ctx<'_>) -> Result<Self, CommandError> {
        Self::from_collection(collection::new_collection(ctx, ValueKind::List)?)
    }

    pub fn len(&self) -> u64 {
        self.coll.meta.len
    }

    fn tail(&self) -> u64 {
        self.head + self.len()
    }

    pub fn encoding(&self) -> u8 {
        self.coll.value.header.encoding
    }

    fn set_len(&mut self, len: u64) {
        self.coll.meta.len = len;
    }

    /// Redis's `listTypeTryConversionAppend`: a listpack becomes a quicklist
    /// when it would outgrow one 8 KB quicklist node (`list-max-listpack-size
    /// -2`) with `added_bytes` more (Redis counts the raw lengths of the
    /// strings about to be added, not their encoded size).
    pub fn convert_for_growth(&mut self, added_bytes: u64) {
        if self.encoding() == encoding::LISTPACK && self.listpack_bytes + added_bytes > super::NODE_BYTES_MAX {
            self.coll.value.header.encoding = encoding::QUICKLIST;
        }
    }

    /// Redis's `listTypeTryConversion(LIST_CONV_SHRINKING)`: a quicklist
    /// goes back to a listpack once it fits in half a node. Redis also
    /// requires the quicklist to have a single node, which this does not
    /// track: a list whose elements would fit in 4 KB is taken to be in one
    /// node (true unless elements were removed from the middle of a list
    /// spanning several nodes).
    pub fn convert_for_shrink(&mut self) {
        if self.encoding() == encoding::QUICKLIST && self.listpack_bytes <= super::NODE_BYTES_MAX / 2 {
            self.coll.value.header.encoding = encoding::LISTPACK;
        }
    }

    /// The absolute index of position `pos` (0-based from the left).
    fn at(&self, pos: u64) -> u64 {
        self.head + pos
    }

    /// The element at position `pos`, `None` beyond the end.
    pub fn get(&self, ctx: &Ctx<'_>, key: &[u8], pos: u64) -> Result<Option<Bytes>, CommandError> {
        if pos >= self.len() {
            return Ok(None);
        }
        let found = ctx.ks.sub_get(ctx.db, key, self.coll.generation(), &name(self.at(pos)))?;
        Ok(Some(Bytes::from(found.ok_or_else(|| missing(pos))?)))
    }

    /// Visits positions `[from, to]` (inclusive, within the list) in order
    /// or in reverse, with each element; `visit` may stop the walk.
    pub fn walk(
        &self,
        ctx: &Ctx<'_>,
        key: &[u8],
        from: u64,
        to: u64,
        reverse: bool,
        visit: &mut dyn FnMut(u64, &[u8]) -> ControlFlow<()>,
    ) -> Result<(), CommandError> {
        if from > to || to >= self.len() {
            return Ok(());
        }
        let (low, high) = (name(self.at(from)), name(self.at(to)));
        let head = self.head;
        ctx.ks.sub_scan(
            ctx.db,
            key,
            self.coll.generation(),
            (Bound::Included(&low[..]), Bound::Included(&high[..])),
            reverse,
            &mut |sub, value| visit(index_of(sub) - head, value),
        )?;
        Ok(())
    }

    /// The elements at positions `[from, to]`, in order or reversed.
    pub fn range(
        &self,
        ctx: &Ctx<'_>,
        key: &[u8],
        from: u64,
        to: u64,
        reverse: bool,
    ) -> Result<Vec<Bytes>, CommandError> {
        let mut out = Vec::new();
        self.walk(ctx, key, from, to, reverse, &mut |_, value| {
            out.push(Bytes::copy_from_slice(value));
            ControlFlow::Continue(())
        })?;
        let expected = if from > to || to >= self.len() { 0 } else { to - from + 1 };
        if out.len() as u64 != expected {
            return Err(missing(from + out.len() as u64));
        }
        Ok(out)
    }

    /// Adds `values` one by one at the left (each becomes the new first
    /// element, as LPUSH does) or at the right.
    pub fn push(&mut self, ctx: &mut Ctx<'_>, key: &[u8], values: &[Bytes], left: bool) -> Result<(), CommandError> {
        let generation = self.coll.generation();
        for value in values {
            let index = if left {
                self.head = self.head.checked_sub(1).ok_or_else(too_long)?;
                self.head
            } else {
                let tail = self.tail();
                if tail == u64::MAX {
                    return Err(too_long());
                }
                tail
            };
            ctx.ks.sub_put(ctx.db, key, generation, &name(index), value)?;
            self.set_len(self.len() + 1);
            self.listpack_bytes += listpack_entry_bytes(value);
        }
        Ok(())
    }

    /// Removes `count` (at most the length) elements from the left or the
    /// right and returns them in the order they were popped.
    pub fn pop(&mut self, ctx: &mut Ctx<'_>, key: &[u8], count: u64, left: bool) -> Result<Vec<Bytes>, CommandError> {
        let len = self.len();
        let count = count.min(len);
        if count == 0 {
            return Ok(Vec::new());
        }
        let popped = if left {
            self.range(ctx, key, 0, count - 1, false)?
        } else {
            self.range(ctx, key, len - count, len - 1, true)?
        };
        let first = if left { self.head } else { self.tail() - count };
        if count == len {
            self.garbage = Some((self.head, self.tail()));
        } else {
            let generation = self.coll.generation();
            for index in first..first + count {
                ctx.ks.sub_delete(ctx.db, key, generation, &name(index))?;
            }
        }
        self.listpack_bytes -= popped.iter().map(|v| listpack_entry_bytes(v)).sum::<u64>();
        if left {
            self.head += count;
        }
        self.set_len(len - count);
        Ok(popped)
    }

    /// Replaces the element at `pos` (within the list).
    pub fn set(&mut self, ctx: &mut Ctx<'_>, key: &[u8], pos: u64, value: &[u8]) -> Result<(), CommandError> {
        let old = self.get(ctx, key, pos)?.ok_or_else(|| missing(pos))?;
        ctx.ks.sub_put(ctx.db, key, self.coll.generation(), &name(self.at(pos)), value)?;
        self.listpack_bytes = self.listpack_bytes - listpack_entry_bytes(&old) + listpack_entry_bytes(value);
        Ok(())
    }

    /// Inserts `value` so that it lands at position `pos` (`0..=len`),
    /// moving the shorter side of the list by one.
    pub fn insert(&mut self, ctx: &mut Ctx<'_>, key: &[u8], pos: u64, value: &[u8]) -> Result<(), CommandError> {
        let len = self.len();
        let generation = self.coll.generation();
        if pos <= len - pos {
            let moved = if pos == 0 { Vec::new() } else { self.range(ctx, key, 0, pos - 1, false)? };
            let new_head = self.head.checked_sub(1).ok_or_else(too_long)?;
            for (i, element) in moved.iter().enumerate() {
                ctx.ks.sub_put(ctx.db, key, generation, &name(new_head + i as u64), element)?;
            }
            self.head = new_head;
        } else {
            if self.tail() == u64::MAX {
                return Err(too_long());
            }
            let moved = self.range(ctx, key, pos, len - 1, false)?;
            for (i, element) in moved.iter().enumerate() {
                ctx.ks.sub_put(ctx.db, key, generation, &name(self.at(pos + 1 + i as u64)), element)?;
            }
        }
        ctx.ks.sub_put(ctx.db, key, generation, &name(self.at(pos)), value)?;
        self.set_len(len + 1);
        self.listpack_bytes += listpack_entry_bytes(value);
        Ok(())
    }

    /// Removes the elements at `positions` (ascending, distinct, within the
    /// list), each `entry_bytes` long in a listpack, closing the gaps from
    /// whichever side moves fewer elements.
    pub fn remove(
        &mut self,
        ctx: &mut Ctx<'_>,
        key: &[u8],
        positions: &[u64],
        entry_bytes: u64,
    ) -> Result<(), CommandError> {
        let (Some(&first), Some(&last)) = (positions.first(), positions.last()) else { return Ok(()) };
        let len = self.len();
        let removed = positions.len() as u64;
        let generation = self.coll.generation();
        if removed == len {
            self.garbage = Some((self.head, self.tail()));
        } else if last < len - first {
            // Keep the right end: the kept elements of [0, last] end at `last`.
            let kept = self.kept(ctx, key, 0, last, positions)?;
            let start = last + 1 - kept.len() as u64;
            for (i, element) in kept.iter().enumerate() {
                ctx.ks.sub_put(ctx.db, key, generation, &name(self.at(start + i as u64)), element)?;
            }
            for pos in 0..removed {
                ctx.ks.sub_delete(ctx.db, key, generation, &name(self.at(pos)))?;
            }
            self.head += removed;
        } else {
            // Keep the left end: the kept elements of [first, len) start at `first`.
            let kept = self.kept(ctx, key, first, len - 1, positions)?;
            for (i, element) in kept.iter().enumerate() {
                ctx.ks.sub_put(ctx.db, key, generation, &name(self.at(first + i as u64)), element)?;
            }
            for pos in len - removed..len {
                ctx.ks.sub_delete(ctx.db, key, generation, &name(self.at(pos)))?;
            }
        }
        self.set_len(len - removed);
        self.listpack_bytes -= entry_bytes * removed;
        Ok(())
    }

    /// The elements of `[from, to]` whose positions are not in `removed`
    /// (ascending).
    fn kept(&self, ctx: &Ctx<'_>, key: &[u8], from: u64, to: u64, removed: &[u64]) -> Result<Vec<Bytes>, CommandError> {
        let mut kept = Vec::new();
        let mut skip = removed.iter().peekable();
        let mut seen = 0u64;
        self.walk(ctx, key, from, to, false, &mut |pos, value| {
            seen += 1;
            while skip.next_if(|&&r| r < pos).is_some() {}
            if skip.next_if(|&&r| r == pos).is_none() {
                kept.push(Bytes::copy_from_slice(value));
            }
            ControlFlow::Continue(())
        })?;
        if seen != to - from + 1 {
            return Err(missing(from + seen));
        }
        Ok(kept)
    }

    /// Removes `left` elements from the left and `right` from the right
    /// (together at most the length), one by one, reading them only for
    /// their listpack size.
    pub fn trim(&mut self, ctx: &mut Ctx<'_>, key: &[u8], left: u64, right: u64) -> Result<(), CommandError> {
        let len = self.len();
        if left + right >= len {
            self.garbage = Some((self.head, self.tail()));
            self.set_len(0);
            return Ok(());
        }
        let generation = self.coll.generation();
        let mut freed = 0u64;
        let mut doomed = Vec::new();
        for (from, count) in [(0, left), (len - right, right)] {
            if count == 0 {
                continue;
            }
            self.walk(ctx, key, from, from + count - 1, false, &mut |pos, value| {
                freed += listpack_entry_bytes(value);
                doomed.push(pos);
                ControlFlow::Continue(())
            })?;
        }
        if doomed.len() as u64 != left + right {
            return Err(missing(0));
        }
        for pos in doomed {
            ctx.ks.sub_delete(ctx.db, key, generation, &name(self.at(pos)))?;
        }
        self.head += left;
        self.set_len(len - left - right);
        self.listpack_bytes -= freed;
        Ok(())
    }

    /// Writes the metadata, or deletes the key if the list is empty.
    pub fn save(mut self, ctx: &mut Ctx<'_>, key: &[u8]) -> Result<(), CommandError> {
        if self.len() > 0 {
            if let Some((from, to)) = self.garbage.take() {
                let generation = self.coll.generation();
                for index in (from..to).filter(|i| !(self.head..self.tail()).contains(i)) {
                    ctx.ks.sub_delete(ctx.db, key, generation, &name(index))?;
                }
            }
        }
        let mut extra = Vec::with_capacity(16);
        extra.extend_from_slice(&self.head.to_be_bytes());
        extra.extend_from_slice(&self.listpack_bytes.to_be_bytes());
        self.coll.meta.extra = Bytes::from(extra);
        collection::save(ctx, key, &self.coll)
    }
}

/// An element the metadata promises is not stored.
fn missing(pos: u64) -> CommandError {
    storage::StorageError::corrupt("list", format!("element {pos} is missing")).into()
}

/// Beyond 2^63 pushes at one end: unreachable in practice.
fn too_long() -> CommandError {
    CommandError::err("list index space exhausted")
}
