//! The set commands.
//!
//! Replies, error texts and the order of checks are Redis 7.2's.
//!
//! # Storage
//! A set is a collection (see [`super::collection`]) whose metadata counts
//! the members; each member is one element named
//! [`collection::hashed_name`]`(member)` with an empty value. Membership
//! tests, adds and removes touch one element each; random picks are seeks
//! (see [`sample`]); only the commands Redis also makes O(n) read whole sets.
//!
//! # Encoding
//! Redis 7.2 keeps a set as an "intset" while every member is an integer and
//! there are at most 512, as a "listpack" while there are at most 128 and
//! every member has at most 64 bytes, and as a "hashtable" otherwise. It
//! converts on writes, one way (intset to listpack or hashtable, listpack to
//! hashtable), so the current one is remembered in the header's encoding
//! byte and advanced by [`Encoding::after_add`] exactly as Redis's
//! `setTypeAddAux` would, including the size hints of SADD and the
//! re-encodings of SPOP and the STORE commands. The encoding also decides
//! SSCAN's shape: Redis returns an intset or a listpack whole, with cursor 0.
//!
//! # Layout
//! - this file: single-set commands, SMOVE, SSCAN, the encoding rules.
//! - [`ops`]: SINTER, SUNION, SDIFF and their STORE and CARD variants.
//! - [`sample`]: random picks (SRANDMEMBER, SPOP; shared with HRANDFIELD).

mod ops;
pub(crate) mod sample;

use std::collections::HashSet;
use std::ops::ControlFlow;

use bytes::Bytes;
use resp::Frame;
use storage::subkeys::ALL;
use storage::{StoredValue, ValueKind};

use super::args::parse_i64;
use super::collection::{self, Collection};
use super::keys::parse_cursor;
use super::{CommandSpec, Ctx, Flags, Group};
use crate::error::CommandError;

/// `set-max-intset-entries`.
const INTSET_ENTRIES_MAX: u64 = 512;
/// `set-max-listpack-entries`.
const LISTPACK_ENTRIES_MAX: u64 = 128;
/// `set-max-listpack-value`.
const LISTPACK_VALUE_MAX: usize = 64;

/// A set's representation in Redis 7.2, as stored in
/// [`storage::ValueHeader::encoding`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Intset = 1,
    Listpack = 2,
    Hashtable = 3,
}

fn is_integer(member: &[u8]) -> bool {
    parse_i64(member).is_some()
}

impl Encoding {
    /// The encoding of a stored set. 0 (nothing recorded) is read as a
    /// hashtable, the one encoding no later write can contradict.
    pub fn of(value: &StoredValue) -> Encoding {
        match value.header.encoding {
            1 => Encoding::Intset,
            2 => Encoding::Listpack,
            _ => Encoding::Hashtable,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Encoding::Intset => "intset",
            Encoding::Listpack => "listpack",
            Encoding::Hashtable => "hashtable",
        }
    }

    /// Redis's `setTypeCreate(first, size_hint)`: the encoding of a new set
    /// about to receive `hint` members, the first being `first`.
    fn created(first: &[u8], hint: u64) -> Encoding {
        if is_integer(first) && hint <= INTSET_ENTRIES_MAX {
            Encoding::Intset
        } else if hint <= LISTPACK_ENTRIES_MAX {
            Encoding::Listpack
        } else {
            Encoding::Hashtable
        }
    }

    /// Redis's `setTypeMaybeConvert`: an existing set about to receive
    /// `hint` members converts if they could not all fit.
    fn before_adding(self, hint: u64) -> Encoding {
        match self {
            Encoding::Listpack if hint > LISTPACK_ENTRIES_MAX => Encoding::Hashtable,
            Encoding::Intset if hint > INTSET_ENTRIES_MAX => Encoding::Hashtable,
            other => other,
        }
    }

    /// Redis's `setTypeAddAux`: the encoding after adding the new member
    /// `member` to a set of `len` members.
    fn after_add(self, len: u64, member: &[u8]) -> Encoding {
        match self {
            Encoding::Intset if is_integer(member) => {
                if len + 1 > INTSET_ENTRIES_MAX {
                    Encoding::Hashtable
                } else {
                    Encoding::Intset
                }
            }
            Encoding::Intset | Encoding::Listpack
                if len < LISTPACK_ENTRIES_MAX && member.len() <= LISTPACK_VALUE_MAX =>
            {
                Encoding::Listpack
            }
            _ => Encoding::Hashtable,
        }
    }

    /// The encoding of a set built by adding members one by one to an empty
    /// intset (the STORE commands), whatever their order: it depends only on
    /// the final members, summarized by [`MemberStats`].
    fn built(stats: &MemberStats) -> Encoding {
        if stats.all_integers && stats.count <= INTSET_ENTRIES_MAX {
            Encoding::Intset
        } else if stats.count <= LISTPACK_ENTRIES_MAX && stats.longest <= LISTPACK_VALUE_MAX {
            Encoding::Listpack
        } else {
            Encoding::Hashtable
        }
    }

    fn store(self, set: &mut Collection) {
        set.value.header.encoding = self as u8;
    }
}

/// What decides the encoding of a set built from scratch.
#[derive(Debug, Clone, Copy)]
struct MemberStats {
    count: u64,
    all_integers: bool,
    longest: usize,
}

impl Default for MemberStats {
    fn default() -> Self {
        MemberStats { count: 0, all_integers: true, longest: 0 }
    }
}

impl MemberStats {
    fn add(&mut self, member: &[u8]) {
        self.count += 1;
        self.all_integers &= is_integer(member);
        self.longest = self.longest.max(member.len());
    }
}

/// The name `OBJECT ENCODING` gives a set value.
pub fn encoding_name(value: &StoredValue) -> &'static str {
    Encoding::of(value).name()
}

/// The live set at `key`.
fn load(ctx: &Ctx<'_>, key: &[u8]) -> Result<Option<Collection>, CommandError> {
    collection::load(ctx, key, ValueKind::Set)
}

fn contains(ctx: &Ctx<'_>, key: &[u8], set: &Collection, member: &[u8]) -> Result<bool, CommandError> {
    Ok(ctx.ks.sub_get(ctx.db, key, set.generation(), &collection::hashed_name(member))?.is_some())
}

/// Adds `member`; returns whether it is new.
fn add_member(ctx: &mut Ctx<'_>, key: &[u8], set: &mut Collection, member: &[u8]) -> Result<bool, CommandError> {
    let name = collection::hashed_name(member);
    if ctx.ks.sub_get(ctx.db, key, set.generation(), &name)?.is_some() {
        return Ok(false);
    }
    Encoding::of(&set.value).after_add(set.meta.len, member).store(set);
    ctx.ks.sub_put(ctx.db, key, set.generation(), &name, &[])?;
    set.meta.len += 1;
    Ok(true)
}

/// Removes `member`; returns whether it was there.
fn remove_member(ctx: &mut Ctx<'_>, key: &[u8], set: &mut Collection, member: &[u8]) -> Result<bool, CommandError> {
    let name = collection::hashed_name(member);
    if ctx.ks.sub_get(ctx.db, key, set.generation(), &name)?.is_none() {
        return Ok(false);
    }
    ctx.ks.sub_delete(ctx.db, key, set.generation(), &name)?;
    set.meta.len -= 1;
    Ok(true)
}

/// Every member, in storage order.
fn members(ctx: &Ctx<'_>, key: &[u8], set: &Collection) -> Result<Vec<Bytes>, CommandError> {
    let mut out = Vec::with_capacity(capacity_hint(set.meta.len));
    ctx.ks.sub_scan(ctx.db, key, set.generation(), ALL, false, &mut |name, _| {
        out.push(Bytes::copy_from_slice(collection::member_of(name)));
        ControlFlow::Continue(())
    })?;
    Ok(out)
}

/// A capacity to reserve for `n` results: all of them when few, a bounded
/// start when many, so a huge count does not reserve memory up front.
pub(crate) fn capacity_hint(n: u64) -> usize {
    n.min(1 << 16) as usize
}

fn bulks(members: impl IntoIterator<Item = Bytes>) -> Vec<Frame> {
    members.into_iter().map(Frame::Bulk).collect()
}

/// `SADD key member [member ...]`: how many members are new.
fn sadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let key = &args[1];
    let hint = (args.len() - 2) as u64;
    let mut set = collection::load_or_create(ctx, key, ValueKind::Set)?;
    let encoding = if set.created { Encoding::created(&args[2], hint) } else { Encoding::of(&set.value) };
    encoding.before_adding(hint).store(&mut set);
    let mut added = 0;
    for member in &args[2..] {
        if add_member(ctx, key, &mut set, member)? {
            added += 1;
        }
    }
    // When nothing is new Redis does not touch the key (WATCH does not see
    // it), so neither does Redraft, even though Redis may have converted a
    // listpack for a large SADD of existing members: that conversion is
    // lost here, a difference only `OBJECT ENCODING` can see.
    if added > 0 {
        collection::save(ctx, key, &set)?;
    }
    Ok(Frame::Integer(added))
}

/// `SREM key member [member ...]`: how many members were removed; the key
/// goes with its last member.
fn srem(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let key = &args[1];
    let Some(mut set) = load(ctx, key)? else { return Ok(Frame::Integer(0)) };
    let mut removed = 0;
    for member in &args[2..] {
        if remove_member(ctx, key, &mut set, member)? {
            removed += 1;
            if set.meta.len == 0 {
                break;
            }
        }
    }
    if removed > 0 {
        collection::save(ctx, key, &set)?;
    }
    Ok(Frame::Integer(removed))
}

/// `SCARD key`
fn scard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    Ok(Frame::Integer(load(ctx, &args[1])?.map_or(0, |s| s.meta.len as i64)))
}

/// `SISMEMBER key member`
fn sismember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let Some(set) = load(ctx, &args[1])? else { return Ok(Frame::Integer(0)) };
    Ok(Frame::Integer(contains(ctx, &args[1], &set, &args[2])? as i64))
}

/// `SMISMEMBER key member [member ...]`: 1 or 0 for each; a missing key
/// is an empty set.
fn smismember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let set = load(ctx, &args[1])?;
    let mut out = Vec::with_capacity(args.len() - 2);
    for member in &args[2..] {
        let found = match &set {
            Some(set) => contains(ctx, &args[1], set, member)?,
            None => false,
        };
        out.push(Frame::Integer(found as i64));
    }
    Ok(Frame::Array(out))
}

/// `SMEMBERS key`: a set reply in RESP3.
fn smembers(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let Some(set) = load(ctx, &args[1])? else { return Ok(Frame::Set(Vec::new())) };
    Ok(Frame::Set(bulks(members(ctx, &args[1], &set)?)))
}

/// # Format
/// ```text
/// SRANDMEMBER key [count]
/// ```
/// Without a count: one random member (nil for a missing key). With a
/// positive count: that many distinct members, or the whole set; with a
/// negative one: that many picks, which may repeat. Always an array.
fn srandmember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let key = &args[1];
    match args.len() {
        2 => {
            let Some(set) = load(ctx, key)? else { return Ok(Frame::Null) };
            let picked = sample::random_element(ctx, key, set.generation())?;
            return Ok(picked.map_or(Frame::Null, |e| Frame::Bulk(e.member())));
        }
        3 => {}
        _ => return Err(CommandError::Syntax),
    }
    let count = sample::count_arg(&args[2])?;
    let Some(set) = load(ctx, key)? else { return Ok(Frame::Array(Vec::new())) };
    let (len, generation) = (set.meta.len, set.generation());
    let wanted = count.unsigned_abs();
    let picks = if wanted == 0 {
        Vec::new()
    } else if count < 0 || wanted == 1 {
        sample::check_repeated_picks(wanted)?;
        sample::repeated(ctx, key, generation, wanted)?
    } else if wanted >= len {
        sample::all(ctx, key, generation)?
    } else {
        sample::distinct(ctx, key, generation, len, wanted)?
    };
    Ok(Frame::Array(picks.into_iter().map(|e| Frame::Bulk(e.member())).collect()))
}

/// How many times larger than what stays the popped part must be for SPOP
/// to pick the members to keep instead (Redis's SPOP_MOVE_STRATEGY_MUL).
const SPOP_MOVE_STRATEGY_MUL: u64 = 5;

/// # Format
/// ```text
/// SPOP key [count]
/// ```
/// Without a count: one random member, removed (nil for a missing key).
/// With a count: that many distinct members as a set reply, the whole set
/// (and the key deleted) if it has no more. The picks come from `ctx.rng`,
/// seeded per log entry, so every replica pops the same members.
fn spop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let key = &args[1];
    match args.len() {
        2 => return spop_one(ctx, key),
        3 => {}
        _ => return Err(CommandError::Syntax),
    }
    let count = parse_i64(&args[2])
        .filter(|n| *n >= 0)
        .ok_or_else(|| CommandError::err("value is out of range, must be positive"))?
        .unsigned_abs();
    let Some(mut set) = load(ctx, key)? else { return Ok(Frame::Set(Vec::new())) };
    if count == 0 {
        return Ok(Frame::Set(Vec::new()));
    }
    let (len, generation) = (set.meta.len, set.generation());
    if count >= len {
        let all = members(ctx, key, &set)?;
        ctx.ks.delete(ctx.db, key)?;
        return Ok(Frame::Set(bulks(all)));
    }
    let remaining = len - count;
    let mut popped = Vec::with_capacity(capacity_hint(count));
    if remaining * SPOP_MOVE_STRATEGY_MUL > count {
        for _ in 0..count {
            let Some(element) = sample::random_element(ctx, key, generation)? else { break };
            ctx.ks.sub_delete(ctx.db, key, generation, &element.name)?;
            popped.push(Frame::Bulk(element.member()));
        }
    } else {
        // Redis picks the members to keep, moves them to a new set that
        // replaces the old one, and returns the rest. The new set is built
        // like any other, so a hashtable may become a listpack again.
        let keep = sample::distinct(ctx, key, generation, len, remaining)?;
        let kept: HashSet<&[u8]> = keep.iter().map(|e| e.name.as_slice()).collect();
        let mut doomed = Vec::with_capacity(capacity_hint(count));
        ctx.ks.sub_scan(ctx.db, key, generation, ALL, false, &mut |name, _| {
            if !kept.contains(name) {
                doomed.push(name.to_vec());
            }
            ControlFlow::Continue(())
        })?;
        for name in doomed {
            ctx.ks.sub_delete(ctx.db, key, generation, &name)?;
            popped.push(Frame::Bulk(Bytes::copy_from_slice(collection::member_of(&name))));
        }
        if Encoding::of(&set.value) == Encoding::Hashtable {
            let mut stats = MemberStats::default();
            keep.iter().for_each(|e| stats.add(collection::member_of(&e.name)));
            // The new set made from a hashtable's members starts as a
            // listpack, never an intset, even if they are all integers.
            stats.all_integers = false;
            Encoding::built(&stats).store(&mut set);
        }
    }
    set.meta.len -= popped.len() as u64;
    collection::save(ctx, key, &set)?;
    Ok(Frame::Set(popped))
}

/// SPOP without a count.
fn spop_one(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Frame, CommandError> {
    let Some(mut set) = load(ctx, key)? else { return Ok(Frame::Null) };
    let Some(element) = sample::random_element(ctx, key, set.generation())? else { return Ok(Frame::Null) };
    ctx.ks.sub_delete(ctx.db, key, set.generation(), &element.name)?;
    set.meta.len -= 1;
    collection::save(ctx, key, &set)?;
    Ok(Frame::Bulk(element.member()))
}

/// `SMOVE source destination member`: 1 if moved (or, when source and
/// destination are the same key, if it is a member), 0 otherwise.
fn smove(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let (src_key, dst_key, member) = (&args[1], &args[2], &args[3]);
    // A missing source answers 0 before the destination's type is checked.
    let Some(mut src) = load(ctx, src_key)? else { return Ok(Frame::Integer(0)) };
    let dst = load(ctx, dst_key)?;
    if src_key == dst_key {
        return Ok(Frame::Integer(contains(ctx, src_key, &src, member)? as i64));
    }
    if !remove_member(ctx, src_key, &mut src, member)? {
        return Ok(Frame::Integer(0));
    }
    collection::save(ctx, src_key, &src)?;
    let mut dst = match dst {
        Some(dst) => dst,
        None => {
            let mut created = collection::new_collection(ctx, ValueKind::Set)?;
            Encoding::created(member, 1).store(&mut created);
            created
        }
    };
    if add_member(ctx, dst_key, &mut dst, member)? {
        collection::save(ctx, dst_key, &dst)?;
    }
    Ok(Frame::Integer(1))
}

/// `SSCAN key cursor [MATCH pattern] [COUNT count]`. As in Redis, the
/// options are only checked when the key exists.
fn sscan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    parse_cursor(&args[2]).ok_or(CommandError::InvalidCursor)?;
    let Some(set) = load(ctx, &args[1])? else { return Ok(super::hash::empty_scan()) };
    let scan = collection::parse_scan_args(args)?;
    let small = Encoding::of(&set.value) != Encoding::Hashtable;
    collection::scan_elements(ctx, &args[1], set.generation(), &[], &scan, small, &mut |member, _, out| {
        out.push(Frame::Bulk(Bytes::copy_from_slice(member)));
    })
}

const fn spec(
    name: &'static str,
    arity: i32,
    flags: Flags,
    keys: (i32, i32, i32),
    since: &'static str,
    summary: &'static str,
    handler: super::DataHandler,
) -> CommandSpec {
    CommandSpec::data(Group::Set, name, arity, flags, keys, since, summary, handler)
}

const READ: Flags = Flags::READONLY;
const READ_FAST: Flags = Flags::READONLY.union(Flags::FAST);
const WRITE_DENYOOM: Flags = Flags::WRITE.union(Flags::DENYOOM);
const WRITE_FAST: Flags = Flags::WRITE.union(Flags::FAST);
const WRITE_DENYOOM_FAST: Flags = Flags::WRITE.union(Flags::DENYOOM).union(Flags::FAST);
const ONE_KEY: (i32, i32, i32) = (1, 1, 1);
const ALL_KEYS: (i32, i32, i32) = (1, -1, 1);

/// Summaries are Redis 7.2's.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "sadd",
        -3,
        WRITE_DENYOOM_FAST,
        ONE_KEY,
        "1.0.0",
        "Adds one or more members to a set. Creates the key if it doesn't exist.",
        sadd,
    ),
    spec(
        "srem",
        -3,
        WRITE_FAST,
        ONE_KEY,
        "1.0.0",
        "Removes one or more members from a set. Deletes the set if the last member was removed.",
        srem,
    ),
    spec("scard", 2, READ_FAST, ONE_KEY, "1.0.0", "Returns the number of members in a set.", scard),
    spec("sismember", 3, READ_FAST, ONE_KEY, "1.0.0", "Determines whether a member belongs to a set.", sismember),
    spec(
        "smismember",
        -3,
        READ_FAST,
        ONE_KEY,
        "6.2.0",
        "Determines whether multiple members belong to a set.",
        smismember,
    ),
    spec("smembers", 2, READ, ONE_KEY, "1.0.0", "Returns all members of a set.", smembers),
    spec("srandmember", -2, READ, ONE_KEY, "1.0.0", "Get one or multiple random members from a set", srandmember),
    spec(
        "spop",
        -2,
        WRITE_FAST,
        ONE_KEY,
        "1.0.0",
        "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.",
        spop,
    ),
    spec("smove", 4, WRITE_FAST, (1, 2, 1), "1.0.0", "Moves a member from one set to another.", smove),
    spec("sinter", -2, READ, ALL_KEYS, "1.0.0", "Returns the intersect of multiple sets.", ops::sinter),
    spec(
        "sintercard",
        -3,
        READ,
        // The keys follow a count (Redis reports "movablekeys" and 0 0 0).
        (0, 0, 0),
        "7.0.0",
        "Returns the number of members of the intersect of multiple sets.",
        ops::sintercard,
    ),
    spec(
        "sinterstore",
        -3,
        WRITE_DENYOOM,
        ALL_KEYS,
        "1.0.0",
        "Stores the intersect of multiple sets in a key.",
        ops::sinterstore,
    ),
    spec("sunion", -2, READ, ALL_KEYS, "1.0.0", "Returns the union of multiple sets.", ops::sunion),
    spec(
        "sunionstore",
        -3,
        WRITE_DENYOOM,
        ALL_KEYS,
        "1.0.0",
        "Stores the union of multiple sets in a key.",
        ops::sunionstore,
    ),
    spec("sdiff", -2, READ, ALL_KEYS, "1.0.0", "Returns the difference of multiple sets.", ops::sdiff),
    spec(
        "sdiffstore",
        -3,
        WRITE_DENYOOM,
        ALL_KEYS,
        "1.0.0",
        "Stores the difference of multiple sets in a key.",
        ops::sdiffstore,
    ),
    spec("sscan", -3, READ, ONE_KEY, "2.0.0", "Iterates over members of a set.", sscan),
];

#[cfg(test)]
mod tests;
