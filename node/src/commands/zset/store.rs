//! How a sorted set is stored, and the operations every Z* command (and the
//! GEO commands, which keep their points in sorted sets) is built from.
//!
//! # Layout
//! The key's value is a collection (`storage::CollectionMeta`: generation
//! and member count). Its elements live in two namespaces of the
//! generation, told apart by the first byte of the element name:
//! ```text
//! member index:  'm' | crc64 bucket (u64 BE) | member  ->  score (f64 bits, BE)
//! score index:   's' | score key (u64 BE) | member     ->  empty (see below)
//! ```
//! The member index answers ZSCORE and membership in O(log n) and, through
//! the hashed bucket, gives ZSCAN stable cursors and ZRANDMEMBER a place to
//! seek to. The score index is the skiplist: names sort by (score, member)
//! exactly as Redis orders a sorted set, so ZRANGE by rank, score or lex is
//! a range scan. The score key is the score's bits made order-preserving
//! (all bits flipped for negatives, the sign bit set for the rest), with
//! `-0` keyed like `0` since Redis ranks them equal. A `-0` score (which a
//! skiplist keeps, and prints) is therefore stored as the entry's value;
//! other entries have an empty value.
//!
//! Adding, updating or removing one member touches at most three elements
//! and the metadata, whatever the size of the set.
//!
//! Costs that differ from Redis's: ranks (ZRANK, ZRANGE by index,
//! ZREMRANGEBYRANK) and counts (ZCOUNT, ZLEXCOUNT) are found by walking the
//! score index, O(rank) or O(count) instead of O(log n): there is no
//! order-statistics index. A walk to a range of ranks starts from whichever
//! end of the set is nearer.
//!
//! # For other families
//! The GEO commands keep points in sorted sets (the score is the geohash);
//! what they need is here: [`ZSet::load`] / [`ZSet::load_or_create`] (with
//! the WRONGTYPE check), [`ZSet::score`], [`ZSet::put`] (add or update one
//! member), [`ZSet::remove`], [`ZSet::visit_scores`] (members whose scores
//! fall in a [`ScoreRange`], built from its public fields, e.g. a half-open
//! geohash interval), and [`ZSet::save`], which every change must end with.
//! `read::store_new` writes a whole new set (the STORE options), and
//! `score::score_frame` / `scored_reply` shape replies.
//!
//! # Encoding
//! `OBJECT ENCODING` says "listpack" until the set first holds more than
//! 128 members or a member longer than 64 bytes, then "skiplist" forever
//! (the header's encoding byte remembers it). A listpack stores integral
//! scores as integers, so `-0` added to a listpack set becomes `0`; the
//! same happens here.

use std::ops::{Bound, ControlFlow};

use bytes::Bytes;
use rand::Rng;
use storage::ValueKind;

use super::score::{LexRange, ScoreRange};
use crate::commands::collection::{self, hashed_name, Collection};
use crate::commands::Ctx;
use crate::error::CommandError;

/// First byte of member index names.
pub(crate) const MEMBER_TAG: u8 = b'm';
/// First byte of score index names.
pub(crate) const SCORE_TAG: u8 = b's';

/// Values of the header's encoding byte.
pub(crate) mod encoding {
    /// Small enough for Redis to keep as a listpack (the default, 0).
    pub const LISTPACK: u8 = 0;
    /// Converted to a skiplist; never converted back.
    pub const SKIPLIST: u8 = 1;
}

/// `zset-max-listpack-entries`
pub(crate) const LISTPACK_ENTRIES_MAX: u64 = 128;
/// `zset-max-listpack-value`
pub(crate) const LISTPACK_VALUE_MAX: usize = 64;

/// A member and its score.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub member: Bytes,
    pub score: f64,
}

/// The order-preserving key of a score (`-0` and `0` share one).
pub(crate) fn score_key(score: f64) -> u64 {
    let score = if score == 0.0 { 0.0 } else { score };
    let bits = score.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

fn score_of_key(key: u64) -> f64 {
    f64::from_bits(if key >> 63 == 1 { key & !(1 << 63) } else { !key })
}

fn member_name(member: &[u8]) -> Vec<u8> {
    let hashed = hashed_name(member);
    let mut name = Vec::with_capacity(1 + hashed.len());
    name.push(MEMBER_TAG);
    name.extend_from_slice(&hashed);
    name
}

/// `'s' | score key`: the start of a score's names.
fn score_prefix(key: u64) -> Vec<u8> {
    let mut name = Vec::with_capacity(9);
    name.push(SCORE_TAG);
    name.extend_from_slice(&key.to_be_bytes());
    name
}

fn score_name(score: f64, member: &[u8]) -> Vec<u8> {
    let mut name = score_prefix(score_key(score));
    name.extend_from_slice(member);
    name
}

/// The entry value of a score in the score index.
fn score_entry_value(score: f64) -> Vec<u8> {
    if score == 0.0 && score.is_sign_negative() {
        score.to_bits().to_be_bytes().to_vec()
    } else {
        Vec::new()
    }
}

fn decode_f64(raw: &[u8]) -> f64 {
    let mut b = [0u8; 8];
    let n = raw.len().min(8);
    b[..n].copy_from_slice(&raw[..n]);
    f64::from_bits(u64::from_be_bytes(b))
}

/// Splits a score index name (without the tag) and its value.
fn decode_score_entry<'n>(name: &'n [u8], value: &[u8]) -> (&'n [u8], f64) {
    let (key, member) = name.split_at(name.len().min(8));
    let score = if value.len() == 8 { decode_f64(value) } else { score_of_key(decode_f64(key).to_bits()) };
    (member, score)
}

/// The decoded score stored in a member index entry.
pub(crate) fn decode_member_value(value: &[u8]) -> f64 {
    decode_f64(value)
}

/// The visitor of the range walks: member and score, in walk order.
pub(crate) type Visit<'v> = dyn FnMut(&[u8], f64) -> ControlFlow<()> + 'v;

/// A sorted set at a key, loaded for reading or changing.
///
/// Changes (`put`, `remove`) write elements at once and update the count in
/// memory; [`ZSet::save`] must follow, which stores the count (and stamps
/// the key modified) or deletes the key when the set became empty.
#[derive(Debug, Clone)]
pub(crate) struct ZSet {
    key: Bytes,
    coll: Collection,
}

impl ZSet {
    /// The sorted set at `key`, `None` if the key is absent.
    ///
    /// # Errors
    /// WRONGTYPE if the key holds another type.
    pub(crate) fn load(ctx: &Ctx<'_>, key: &[u8]) -> Result<Option<ZSet>, CommandError> {
        Ok(collection::load(ctx, key, ValueKind::ZSet)?.map(|coll| ZSet { key: Bytes::copy_from_slice(key), coll }))
    }

    /// The sorted set at `key`, or a new empty one (stored by `save` once it
    /// has members).
    pub(crate) fn load_or_create(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<ZSet, CommandError> {
        let coll = collection::load_or_create(ctx, key, ValueKind::ZSet)?;
        Ok(ZSet { key: Bytes::copy_from_slice(key), coll })
    }

    /// A new empty set that replaces whatever `key` holds (value, type and
    /// TTL) when saved: the destination of the STORE commands.
    pub(crate) fn replacing(ctx: &mut Ctx<'_>, key: &[u8], encoding: u8) -> Result<ZSet, CommandError> {
        let mut coll = collection::new_collection(ctx, ValueKind::ZSet)?;
        coll.value.header.encoding = encoding;
        Ok(ZSet { key: Bytes::copy_from_slice(key), coll })
    }

    pub(crate) fn key(&self) -> &Bytes {
        &self.key
    }

    pub(crate) fn len(&self) -> u64 {
        self.coll.meta.len
    }

    /// Whether Redis would hold this set as a listpack.
    pub(crate) fn is_listpack(&self) -> bool {
        self.coll.value.header.encoding == encoding::LISTPACK
    }

    /// Converts to a skiplist (Redis's `zsetConvert`), for good.
    pub(crate) fn convert_to_skiplist(&mut self) {
        self.coll.value.header.encoding = encoding::SKIPLIST;
    }

    fn generation(&self) -> u64 {
        self.coll.generation()
    }

    /// The score of `member`.
    pub(crate) fn score(&self, ctx: &Ctx<'_>, member: &[u8]) -> Result<Option<f64>, CommandError> {
        Ok(ctx.ks.sub_get(ctx.db, &self.key, self.generation(), &member_name(member))?.map(|v| decode_f64(&v)))
    }

    /// Sets the score of `member`, adding it if absent (Redis's `zsetAdd`
    /// without its options). Returns the previous score. Nothing is written
    /// when the score does not change (`-0` equals `0`, as in Redis).
    /// Converts a listpack that would outgrow its limits first, as Redis
    /// does.
    pub(crate) fn put(&mut self, ctx: &mut Ctx<'_>, member: &[u8], score: f64) -> Result<Option<f64>, CommandError> {
        let previous = self.score(ctx, member)?;
        match previous {
            Some(old) if old == score => return Ok(previous),
            Some(old) => ctx.ks.sub_delete(ctx.db, &self.key, self.generation(), &score_name(old, member))?,
            None => {
                if self.is_listpack() && (self.len() + 1 > LISTPACK_ENTRIES_MAX || member.len() > LISTPACK_VALUE_MAX) {
                    self.convert_to_skiplist();
                }
                self.coll.meta.len += 1;
            }
        }
        self.write_entry(ctx, member, score)?;
        Ok(previous)
    }

    /// Adds a member known to be absent, without reading first: building
    /// a new set from distinct members (the STORE commands).
    pub(crate) fn put_new(&mut self, ctx: &mut Ctx<'_>, member: &[u8], score: f64) -> Result<(), CommandError> {
        if self.is_listpack() && (self.len() + 1 > LISTPACK_ENTRIES_MAX || member.len() > LISTPACK_VALUE_MAX) {
            self.convert_to_skiplist();
        }
        self.coll.meta.len += 1;
        self.write_entry(ctx, member, score)
    }

    /// Writes both index entries of `member`.
    fn write_entry(&mut self, ctx: &mut Ctx<'_>, member: &[u8], score: f64) -> Result<(), CommandError> {
        // A listpack keeps integral scores as integers: -0 comes back as 0.
        let stored = if self.is_listpack() && score == 0.0 { 0.0 } else { score };
        let generation = self.generation();
        ctx.ks.sub_put(ctx.db, &self.key, generation, &member_name(member), &stored.to_bits().to_be_bytes())?;
        ctx.ks.sub_put(ctx.db, &self.key, generation, &score_name(stored, member), &score_entry_value(stored))?;
        Ok(())
    }

    /// Removes `member`; returns its score if it was there.
    pub(crate) fn remove(&mut self, ctx: &mut Ctx<'_>, member: &[u8]) -> Result<Option<f64>, CommandError> {
        let Some(score) = self.score(ctx, member)? else { return Ok(None) };
        self.remove_scored(ctx, member, score)?;
        Ok(Some(score))
    }

    /// Removes a member whose score is known (found by a range walk).
    pub(crate) fn remove_scored(&mut self, ctx: &mut Ctx<'_>, member: &[u8], score: f64) -> Result<(), CommandError> {
        let generation = self.generation();
        ctx.ks.sub_delete(ctx.db, &self.key, generation, &member_name(member))?;
        ctx.ks.sub_delete(ctx.db, &self.key, generation, &score_name(score, member))?;
        self.coll.meta.len = self.coll.meta.len.saturating_sub(1);
        Ok(())
    }

    /// Stores the metadata, or deletes the key if the set is now empty.
    /// Every change must end with it.
    pub(crate) fn save(&self, ctx: &mut Ctx<'_>) -> Result<(), CommandError> {
        collection::save(ctx, &self.key, &self.coll)
    }

    /// Visits the score index names in `(low, high)`, in order or reversed.
    fn scan(
        &self,
        ctx: &Ctx<'_>,
        low: Bound<&[u8]>,
        high: Bound<&[u8]>,
        reverse: bool,
        visit: &mut Visit<'_>,
    ) -> Result<(), CommandError> {
        let tag_end = [SCORE_TAG + 1];
        let low = match low {
            Bound::Unbounded => Bound::Included(&[SCORE_TAG][..]),
            other => other,
        };
        let high = match high {
            Bound::Unbounded => Bound::Excluded(&tag_end[..]),
            other => other,
        };
        // An inverted range would be a caller's bug, but must never reach
        // the storage layer's range types.
        let (lo, hi) = (bound_bytes(low), bound_bytes(high));
        if lo > hi || (lo == hi && !(matches!(low, Bound::Included(_)) && matches!(high, Bound::Included(_)))) {
            return Ok(());
        }
        ctx.ks.sub_scan(ctx.db, &self.key, self.generation(), (low, high), reverse, &mut |name, value| {
            let (member, score) = decode_score_entry(&name[1..], value);
            visit(member, score)
        })?;
        Ok(())
    }

    /// Visits every member, by ascending (or descending) score then member.
    pub(crate) fn visit_all(&self, ctx: &Ctx<'_>, reverse: bool, visit: &mut Visit<'_>) -> Result<(), CommandError> {
        self.scan(ctx, Bound::Unbounded, Bound::Unbounded, reverse, visit)
    }

    /// Every member with its score, in ascending order.
    pub(crate) fn all(&self, ctx: &Ctx<'_>) -> Result<Vec<Scored>, CommandError> {
        let mut out = Vec::with_capacity(self.len().min(1 << 16) as usize);
        self.visit_all(ctx, false, &mut |m, s| {
            out.push(Scored { member: Bytes::copy_from_slice(m), score: s });
            ControlFlow::Continue(())
        })?;
        Ok(out)
    }

    /// Visits the members whose scores are in `range`, ascending (or
    /// descending when `reverse`): a range scan of the score index.
    pub(crate) fn visit_scores(
        &self,
        ctx: &Ctx<'_>,
        range: &ScoreRange,
        reverse: bool,
        visit: &mut Visit<'_>,
    ) -> Result<(), CommandError> {
        if range.is_empty() {
            return Ok(());
        }
        let low_key =
            if range.min_exclusive { score_key(range.min).checked_add(1) } else { Some(score_key(range.min)) };
        let Some(low_key) = low_key else { return Ok(()) };
        let high_key =
            if range.max_exclusive { Some(score_key(range.max)) } else { score_key(range.max).checked_add(1) };
        let low = score_prefix(low_key);
        let high = high_key.map(score_prefix);
        let high_bound = high.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
        self.scan(ctx, Bound::Included(&low), high_bound, reverse, visit)
    }

    /// The members at ranks `start..=end` (0-based, in the direction given,
    /// `end < len`), walking in from the nearer end of the set.
    pub(crate) fn by_rank(
        &self,
        ctx: &Ctx<'_>,
        start: u64,
        end: u64,
        reverse: bool,
    ) -> Result<Vec<Scored>, CommandError> {
        let len = self.len();
        let count = end - start + 1;
        // Walking from the other end costs len - start entries instead of end + 1.
        let flip = len - start < end + 1;
        let (skip, walk_reverse) = if flip { (len - 1 - end, !reverse) } else { (start, reverse) };
        let mut out = Vec::with_capacity(count.min(1 << 16) as usize);
        let mut seen = 0u64;
        self.visit_all(ctx, walk_reverse, &mut |m, s| {
            seen += 1;
            if seen > skip {
                out.push(Scored { member: Bytes::copy_from_slice(m), score: s });
                if out.len() as u64 >= count {
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        })?;
        if flip {
            out.reverse();
        }
        Ok(out)
    }

    /// The 0-based rank of `member` (from the highest score when `reverse`)
    /// and its score. O(rank): the entries before it are counted.
    pub(crate) fn rank(&self, ctx: &Ctx<'_>, member: &[u8], reverse: bool) -> Result<Option<(u64, f64)>, CommandError> {
        let Some(score) = self.score(ctx, member)? else { return Ok(None) };
        let own = score_name(score, member);
        let mut before = 0u64;
        let mut count = |_: &[u8], _: f64| {
            before += 1;
            ControlFlow::Continue(())
        };
        if reverse {
            self.scan(ctx, Bound::Excluded(&own), Bound::Unbounded, false, &mut count)?;
        } else {
            self.scan(ctx, Bound::Unbounded, Bound::Excluded(&own), false, &mut count)?;
        }
        Ok(Some((before, score)))
    }

    /// The first (or last, when `reverse`) entry of the score index from
    /// `from` on (or down).
    fn first_from(&self, ctx: &Ctx<'_>, from: Bound<&[u8]>, reverse: bool) -> Result<Option<Scored>, CommandError> {
        let mut found = None;
        let mut take = |m: &[u8], s: f64| {
            found = Some(Scored { member: Bytes::copy_from_slice(m), score: s });
            ControlFlow::Break(())
        };
        if reverse {
            self.scan(ctx, Bound::Unbounded, from, true, &mut take)?;
        } else {
            self.scan(ctx, from, Bound::Unbounded, false, &mut take)?;
        }
        Ok(found)
    }

    /// Where a lex range starts (the first member >= min walking forward, or
    /// the last <= max walking backward), as Redis finds it in a listpack:
    /// in (score, member) order, so on a set whose scores differ (where
    /// Redis leaves lex ranges unspecified) the answer is the listpack's.
    /// When all scores are equal, as lex ranges assume, this is one seek;
    /// otherwise one seek per distinct score passed.
    fn lex_start(&self, ctx: &Ctx<'_>, range: &LexRange, reverse: bool) -> Result<Option<Scored>, CommandError> {
        use super::score::LexBound;
        let Some(mut at) = self.first_from(ctx, Bound::Unbounded, reverse)? else { return Ok(None) };
        loop {
            let inside = if reverse { range.lte_max(&at.member) } else { range.gte_min(&at.member) };
            if inside {
                return Ok(Some(at));
            }
            // Seek within this score's members to the bound.
            let group = score_key(at.score);
            let (bound, inclusive) = match if reverse { &range.max } else { &range.min } {
                LexBound::Inclusive(b) => (b.clone(), true),
                LexBound::Exclusive(b) => (b.clone(), false),
                // `-` as min or `+` as max always holds; the other way round
                // the range is empty, which callers have ruled out.
                LexBound::Min | LexBound::Max => return Ok(None),
            };
            let mut target = score_prefix(group);
            target.extend_from_slice(&bound);
            let from = if inclusive { Bound::Included(target.as_slice()) } else { Bound::Excluded(target.as_slice()) };
            let Some(next) = self.first_from(ctx, from, reverse)? else { return Ok(None) };
            if score_key(next.score) == group {
                return Ok(Some(next));
            }
            // The walk reached the first member of the next score.
            at = next;
        }
    }

    /// Visits a lex range as Redis walks a listpack: from [`Self::lex_start`],
    /// skipping `offset` members unchecked, then while members stay within
    /// the far bound. Nothing when the range is empty or entirely beyond
    /// the set's first or last member.
    pub(crate) fn visit_lex(
        &self,
        ctx: &Ctx<'_>,
        range: &LexRange,
        reverse: bool,
        offset: u64,
        visit: &mut Visit<'_>,
    ) -> Result<(), CommandError> {
        if range.is_empty() {
            return Ok(());
        }
        let (Some(first), Some(last)) =
            (self.first_from(ctx, Bound::Unbounded, false)?, self.first_from(ctx, Bound::Unbounded, true)?)
        else {
            return Ok(());
        };
        if !range.gte_min(&last.member) || !range.lte_max(&first.member) {
            return Ok(());
        }
        let Some(start) = self.lex_start(ctx, range, reverse)? else { return Ok(()) };
        let start_ok = if reverse { range.gte_min(&start.member) } else { range.lte_max(&start.member) };
        if !start_ok {
            return Ok(());
        }
        let start_name = score_name(start.score, &start.member);
        let mut skipped = 0u64;
        let mut walk = |m: &[u8], s: f64| {
            if skipped < offset {
                skipped += 1;
                return ControlFlow::Continue(());
            }
            let within = if reverse { range.gte_min(m) } else { range.lte_max(m) };
            if !within {
                return ControlFlow::Break(());
            }
            visit(m, s)
        };
        if reverse {
            self.scan(ctx, Bound::Unbounded, Bound::Included(&start_name), true, &mut walk)
        } else {
            self.scan(ctx, Bound::Included(&start_name), Bound::Unbounded, false, &mut walk)
        }
    }

    /// A random member: the first at or after a random bucket of the member
    /// index (wrapping around). O(log n); members after wide bucket gaps
    /// come up more often, which Redis's own sampling of a hash table also
    /// allows.
    pub(crate) fn random(&self, ctx: &mut Ctx<'_>) -> Result<Option<Scored>, CommandError> {
        let bucket: u64 = ctx.rng.gen();
        let mut seek = vec![MEMBER_TAG];
        seek.extend_from_slice(&bucket.to_be_bytes());
        let tag_end = [MEMBER_TAG + 1];
        for low in [seek.as_slice(), &[MEMBER_TAG][..]] {
            let mut found = None;
            ctx.ks.sub_scan(
                ctx.db,
                &self.key,
                self.generation(),
                (Bound::Included(low), Bound::Excluded(&tag_end)),
                false,
                &mut |name, value| {
                    let member = collection::member_of(&name[1..]);
                    found = Some(Scored { member: Bytes::copy_from_slice(member), score: decode_f64(value) });
                    ControlFlow::Break(())
                },
            )?;
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }

    /// Visits members in member index order from `bucket` on, wrapping
    /// round to the start once: every member once, from a random place.
    pub(crate) fn visit_from_bucket(
        &self,
        ctx: &Ctx<'_>,
        bucket: u64,
        visit: &mut Visit<'_>,
    ) -> Result<(), CommandError> {
        let mut start = vec![MEMBER_TAG];
        start.extend_from_slice(&bucket.to_be_bytes());
        let tag_start = [MEMBER_TAG];
        let tag_end = [MEMBER_TAG + 1];
        let mut stopped = false;
        for (low, high) in [(start.as_slice(), &tag_end[..]), (&tag_start[..], start.as_slice())] {
            if stopped || low >= high {
                continue;
            }
            ctx.ks.sub_scan(
                ctx.db,
                &self.key,
                self.generation(),
                (Bound::Included(low), Bound::Excluded(high)),
                false,
                &mut |name, value| {
                    let flow = visit(collection::member_of(&name[1..]), decode_f64(value));
                    stopped = flow.is_break();
                    flow
                },
            )?;
        }
        Ok(())
    }

    /// The header's generation and the member index tag, for ZSCAN.
    pub(crate) fn scan_target(&self) -> (u64, [u8; 1]) {
        (self.generation(), [MEMBER_TAG])
    }
}

fn bound_bytes(bound: Bound<&[u8]>) -> &[u8] {
    match bound {
        Bound::Included(b) | Bound::Excluded(b) => b,
        Bound::Unbounded => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_keys_sort_like_scores_with_both_zeros_equal() {
        let scores = [f64::NEG_INFINITY, -1e300, -2.5, -1.0, -5e-324, 0.0, 5e-324, 1.0, 2.5, 1e300, f64::INFINITY];
        for pair in scores.windows(2) {
            assert!(score_key(pair[0]) < score_key(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        assert_eq!(score_key(-0.0), score_key(0.0));
        for s in scores {
            assert_eq!(score_of_key(score_key(s)), s);
        }
    }

    #[test]
    fn negative_zero_survives_the_score_index() {
        let name = score_name(-0.0, b"m");
        let (member, score) = decode_score_entry(&name[1..], &score_entry_value(-0.0));
        assert_eq!(member, b"m");
        assert!(score == 0.0 && score.is_sign_negative());
        let (_, plain) = decode_score_entry(&name[1..], &score_entry_value(0.0));
        assert!(plain == 0.0 && plain.is_sign_positive());
    }
}
