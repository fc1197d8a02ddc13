//! Operations across sets: SINTER, SINTERCARD, SINTERSTORE, SUNION,
//! SUNIONSTORE, SDIFF and SDIFFSTORE.
//!
//! Every named key is looked up first, in order, so a key of another type
//! answers WRONGTYPE even after a missing one (as in Redis). Intersections
//! and differences walk one set and test membership in the others with one
//! seek per test; unions read every set. The STORE variants compute the
//! whole result before writing, since the destination may be a source; an
//! empty result deletes the destination, whatever its type.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use bytes::Bytes;
use resp::Frame;
use storage::subkeys::ALL;
use storage::ValueKind;

use super::super::args::parse_i64;
use super::super::collection::{self, Collection};
use super::super::expire::opt_is;
use super::super::Ctx;
use super::{load, Encoding, MemberStats};
use crate::error::CommandError;

/// A source set: its key and, if it exists, its collection.
struct Source<'a> {
    key: &'a Bytes,
    set: Option<Collection>,
}

impl Source<'_> {
    fn len(&self) -> u64 {
        self.set.as_ref().map_or(0, |s| s.meta.len)
    }
}

/// Looks up every key, in order.
fn load_sources<'a>(ctx: &Ctx<'_>, keys: &'a [Bytes]) -> Result<Vec<Source<'a>>, CommandError> {
    keys.iter().map(|key| Ok(Source { key, set: load(ctx, key)? })).collect()
}

/// Whether the element `name` is in `source`.
fn has(ctx: &Ctx<'_>, source: &Source<'_>, name: &[u8]) -> Result<bool, CommandError> {
    match &source.set {
        Some(set) => Ok(ctx.ks.sub_get(ctx.db, source.key, set.generation(), name)?.is_some()),
        None => Ok(false),
    }
}

/// Visits the element names of `source` in order until `visit` returns
/// `Ok(false)`.
fn for_each_name(
    ctx: &Ctx<'_>,
    source: &Source<'_>,
    visit: &mut dyn FnMut(&[u8]) -> Result<bool, CommandError>,
) -> Result<(), CommandError> {
    let Some(set) = &source.set else { return Ok(()) };
    let mut failure = None;
    ctx.ks.sub_scan(ctx.db, source.key, set.generation(), ALL, false, &mut |name, _| match visit(name) {
        Ok(true) => ControlFlow::Continue(()),
        Ok(false) => ControlFlow::Break(()),
        Err(e) => {
            failure = Some(e);
            ControlFlow::Break(())
        }
    })?;
    failure.map_or(Ok(()), Err)
}

/// The members common to every set named by `keys`, up to `limit` (0: no
/// limit), as element names in the order of the smallest set.
fn intersect(ctx: &Ctx<'_>, keys: &[Bytes], limit: u64) -> Result<Vec<Vec<u8>>, CommandError> {
    let mut sources = load_sources(ctx, keys)?;
    if sources.iter().any(|s| s.set.is_none()) {
        return Ok(Vec::new());
    }
    sources.sort_by_key(Source::len);
    let (first, others) = sources.split_first().expect("at least one key");
    let others: Vec<&Source<'_>> = others.iter().filter(|s| s.key != first.key).collect();
    let mut found = Vec::new();
    for_each_name(ctx, first, &mut |name| {
        for other in &others {
            if !has(ctx, other, name)? {
                return Ok(true);
            }
        }
        found.push(name.to_vec());
        Ok(limit == 0 || (found.len() as u64) < limit)
    })?;
    Ok(found)
}

/// The members of any set named by `keys`, as element names in name order.
fn union(ctx: &Ctx<'_>, keys: &[Bytes]) -> Result<Vec<Vec<u8>>, CommandError> {
    let sources = load_sources(ctx, keys)?;
    let mut all = BTreeSet::new();
    for source in &sources {
        for_each_name(ctx, source, &mut |name| {
            if !all.contains(name) {
                all.insert(name.to_vec());
            }
            Ok(true)
        })?;
    }
    Ok(all.into_iter().collect())
}

/// The members of the first set in none of the others, as element names in
/// the first set's order, and the encoding Redis would give them as a new
/// set (see [`diff_encoding`]).
fn difference(ctx: &Ctx<'_>, keys: &[Bytes]) -> Result<(Vec<Vec<u8>>, Encoding), CommandError> {
    let sources = load_sources(ctx, keys)?;
    let (first, others) = sources.split_first().expect("at least one key");
    if first.set.is_none() || others.iter().any(|s| s.key == first.key && s.set.is_some()) {
        return Ok((Vec::new(), Encoding::Intset));
    }
    let others: Vec<&Source<'_>> = others.iter().filter(|s| s.set.is_some()).collect();
    let (mut found, mut found_stats, mut first_stats) = (Vec::new(), MemberStats::default(), MemberStats::default());
    for_each_name(ctx, first, &mut |name| {
        let member = collection::member_of(name);
        first_stats.add(member);
        for other in &others {
            if has(ctx, other, name)? {
                return Ok(true);
            }
        }
        found_stats.add(member);
        found.push(name.to_vec());
        Ok(true)
    })?;
    let encoding = diff_encoding(&sources, &first_stats, &found_stats);
    Ok((found, encoding))
}

/// The encoding of an SDIFFSTORE result. Redis picks one of two algorithms
/// from the set sizes: the first tests the first set's members against the
/// others and adds the survivors to a new set (so the encoding fits the
/// result); the second adds all of the first set and then removes the
/// others' members, and removals never convert back, so the encoding is
/// that of the whole first set.
fn diff_encoding(sources: &[Source<'_>], first: &MemberStats, result: &MemberStats) -> Encoding {
    let first_len = sources[0].len();
    let existing = sources.iter().filter(|s| s.set.is_some());
    let algorithm_one_work = existing.clone().count() as u64 * first_len / 2;
    let algorithm_two_work: u64 = existing.map(Source::len).sum();
    if algorithm_one_work <= algorithm_two_work {
        Encoding::built(result)
    } else {
        Encoding::built(first)
    }
}

fn set_reply(names: Vec<Vec<u8>>) -> Frame {
    Frame::Set(names.iter().map(|n| Frame::Bulk(Bytes::copy_from_slice(collection::member_of(n)))).collect())
}

/// Replaces `dst` with a set of the elements `names` (or deletes it when
/// there are none); replies with the new set's size.
fn store(ctx: &mut Ctx<'_>, dst: &[u8], names: &[Vec<u8>], encoding: Encoding) -> Result<Frame, CommandError> {
    ctx.ks.delete(ctx.db, dst)?;
    if names.is_empty() {
        return Ok(Frame::Integer(0));
    }
    let mut set = collection::new_collection(ctx, ValueKind::Set)?;
    encoding.store(&mut set);
    for name in names {
        ctx.ks.sub_put(ctx.db, dst, set.generation(), name, &[])?;
    }
    set.meta.len = names.len() as u64;
    collection::save(ctx, dst, &set)?;
    Ok(Frame::Integer(names.len() as i64))
}

/// The encoding of a new set holding `names`.
fn built_encoding(names: &[Vec<u8>]) -> Encoding {
    let mut stats = MemberStats::default();
    names.iter().for_each(|n| stats.add(collection::member_of(n)));
    Encoding::built(&stats)
}

/// `SINTER key [key ...]`
pub(super) fn sinter(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    Ok(set_reply(intersect(ctx, &args[1..], 0)?))
}

/// `SINTERSTORE destination key [key ...]`
pub(super) fn sinterstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let names = intersect(ctx, &args[2..], 0)?;
    let encoding = built_encoding(&names);
    store(ctx, &args[1], &names, encoding)
}

/// `SINTERCARD numkeys key [key ...] [LIMIT limit]`: the size of the
/// intersection, counting stopped at `limit` (0: no limit).
pub(super) fn sintercard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let numkeys =
        parse_i64(&args[1]).filter(|n| *n > 0).ok_or_else(|| CommandError::err("numkeys should be greater than 0"))?;
    if numkeys > args.len() as i64 - 2 {
        return Err(CommandError::err("Number of keys can't be greater than number of args"));
    }
    let keys_end = 2 + numkeys as usize;
    let mut limit = 0;
    let mut at = keys_end;
    while at < args.len() {
        if opt_is(&args[at], "limit") && at + 1 < args.len() {
            limit = parse_i64(&args[at + 1])
                .filter(|n| *n >= 0)
                .ok_or_else(|| CommandError::err("LIMIT can't be negative"))?
                .unsigned_abs();
            at += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok(Frame::Integer(intersect(ctx, &args[2..keys_end], limit)?.len() as i64))
}

/// `SUNION key [key ...]`
pub(super) fn sunion(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    Ok(set_reply(union(ctx, &args[1..])?))
}

/// `SUNIONSTORE destination key [key ...]`
pub(super) fn sunionstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let names = union(ctx, &args[2..])?;
    let encoding = built_encoding(&names);
    store(ctx, &args[1], &names, encoding)
}

/// `SDIFF key [key ...]`
pub(super) fn sdiff(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    Ok(set_reply(difference(ctx, &args[1..])?.0))
}

/// `SDIFFSTORE destination key [key ...]`
pub(super) fn sdiffstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let (names, encoding) = difference(ctx, &args[2..])?;
    store(ctx, &args[1], &names, encoding)
}
