//! Random picks from a hashed collection (a set's members, a hash's
//! fields): SRANDMEMBER, SPOP and HRANDFIELD.
//!
//! Elements are stored under `bucket | member` (see
//! [`collection::hashed_name`]), so a random element is one seek: draw a
//! random bucket from `ctx.rng` and take the first element at or after it,
//! wrapping round to the first element. That is O(log n) on a collection of
//! any size and, since the RNG is seeded per log entry in apply, the same
//! pick on every replica.
//!
//! The pick is not exactly uniform: an element is chosen with a probability
//! proportional to the gap between its bucket and the previous one. CRC-64
//! spreads members evenly enough for sampling, but members can be crafted to
//! share or crowd buckets, so nothing here loops until it finds "enough"
//! distinct elements: [`distinct`] bounds its random draws and then walks
//! forward from a random bucket, which always terminates.
//!
//! [`collection::hashed_name`]: super::super::collection::hashed_name

use std::collections::HashSet;
use std::ops::{Bound, ControlFlow};

use bytes::Bytes;
use rand::Rng;
use storage::subkeys::{SubRange, ALL};

use super::super::args::parse_i64;
use super::super::Ctx;
use crate::error::CommandError;

/// One stored element: its name (`bucket | member`) and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    pub name: Vec<u8>,
    pub value: Vec<u8>,
}

impl Element {
    /// The member (or field) the element stands for.
    pub fn member(&self) -> Bytes {
        Bytes::copy_from_slice(super::super::collection::member_of(&self.name))
    }
}

/// A negative count asks for this many elements at most: Redis streams a
/// reply of any length, Redraft builds it in memory first, so a count like
/// -10^12 must be refused rather than exhaust the node.
pub(crate) const REPEATED_PICKS_MAX: u64 = 1 << 20;

/// A count argument of SRANDMEMBER and HRANDFIELD: a 64-bit integer other
/// than `i64::MIN` (Redis's `-LONG_MAX..=LONG_MAX`), with its error texts.
pub(crate) fn count_arg(arg: &[u8]) -> Result<i64, CommandError> {
    match parse_i64(arg) {
        None => Err(CommandError::NotInteger),
        Some(i64::MIN) => {
            Err(CommandError::err(format!("value is out of range, value must between {} and {}", -i64::MAX, i64::MAX)))
        }
        Some(n) => Ok(n),
    }
}

/// Refuses a repeated-picks reply Redraft would have to hold in memory
/// whole (see [`REPEATED_PICKS_MAX`]).
pub(crate) fn check_repeated_picks(count: u64) -> Result<(), CommandError> {
    if count > REPEATED_PICKS_MAX {
        return Err(CommandError::err(format!(
            "count is out of range: at most {REPEATED_PICKS_MAX} random elements with repetitions per call"
        )));
    }
    Ok(())
}

/// The first element of `range`.
fn first_in(ctx: &Ctx<'_>, key: &[u8], generation: u64, range: SubRange<'_>) -> Result<Option<Element>, CommandError> {
    let mut found = None;
    ctx.ks.sub_scan(ctx.db, key, generation, range, false, &mut |name, value| {
        found = Some(Element { name: name.to_vec(), value: value.to_vec() });
        ControlFlow::Break(())
    })?;
    Ok(found)
}

/// One element picked at random; `None` only for an empty collection.
pub(crate) fn random_element(ctx: &mut Ctx<'_>, key: &[u8], generation: u64) -> Result<Option<Element>, CommandError> {
    let start = ctx.rng.gen::<u64>().to_be_bytes();
    match first_in(ctx, key, generation, (Bound::Included(&start[..]), Bound::Unbounded))? {
        Some(found) => Ok(Some(found)),
        None => first_in(ctx, key, generation, ALL),
    }
}

/// `count` random picks that may repeat (a negative count).
pub(crate) fn repeated(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    generation: u64,
    count: u64,
) -> Result<Vec<Element>, CommandError> {
    let mut picks = Vec::with_capacity(super::capacity_hint(count));
    for _ in 0..count {
        match random_element(ctx, key, generation)? {
            Some(found) => picks.push(found),
            None => break,
        }
    }
    Ok(picks)
}

/// Every element, in name order.
pub(crate) fn all(ctx: &Ctx<'_>, key: &[u8], generation: u64) -> Result<Vec<Element>, CommandError> {
    let mut out = Vec::new();
    ctx.ks.sub_scan(ctx.db, key, generation, ALL, false, &mut |name, value| {
        out.push(Element { name: name.to_vec(), value: value.to_vec() });
        ControlFlow::Continue(())
    })?;
    Ok(out)
}

/// `count` distinct random elements of a collection of `len` elements,
/// `0 < count < len`.
///
/// As Redis does, when the collection is not much larger than the count
/// (under three times), every element is read and a random subset of
/// `count` kept (a partial Fisher-Yates shuffle, so exactly uniform); else
/// elements are drawn one by one, duplicates discarded. The draws are
/// bounded (see the module doc); if they fall short, the rest is taken
/// walking forward from a random bucket.
pub(crate) fn distinct(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    generation: u64,
    len: u64,
    count: u64,
) -> Result<Vec<Element>, CommandError> {
    if count.saturating_mul(3) > len {
        let mut every = all(ctx, key, generation)?;
        let count = (count as usize).min(every.len());
        for i in 0..count {
            let j = ctx.rng.gen_range(i..every.len());
            every.swap(i, j);
        }
        every.truncate(count);
        return Ok(every);
    }
    let mut chosen: HashSet<Vec<u8>> = HashSet::with_capacity(super::capacity_hint(count));
    let mut picks = Vec::with_capacity(super::capacity_hint(count));
    let count = count as usize;
    let mut draws_left = count.saturating_mul(4).saturating_add(64);
    while picks.len() < count && draws_left > 0 {
        draws_left -= 1;
        let Some(found) = random_element(ctx, key, generation)? else { return Ok(picks) };
        if chosen.insert(found.name.clone()) {
            picks.push(found);
        }
    }
    if picks.len() < count {
        let start = ctx.rng.gen::<u64>().to_be_bytes();
        let from_start: SubRange<'_> = (Bound::Included(&start[..]), Bound::Unbounded);
        for range in [from_start, ALL] {
            ctx.ks.sub_scan(ctx.db, key, generation, range, false, &mut |name, value| {
                if picks.len() >= count {
                    return ControlFlow::Break(());
                }
                if !chosen.contains(name) {
                    chosen.insert(name.to_vec());
                    picks.push(Element { name: name.to_vec(), value: value.to_vec() });
                }
                ControlFlow::Continue(())
            })?;
        }
    }
    Ok(picks)
}
