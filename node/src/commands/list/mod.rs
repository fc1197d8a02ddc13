//! The list commands: pushes and pops at both ends, LMOVE and LMPOP, index
//! and range access, LINSERT, LREM, LTRIM and LPOS (the blocking forms come
//! later).
//!
//! Replies and errors follow Redis 7.2 byte for byte, including the order
//! of its checks: LRANGE, LTRIM, LREM and the pops parse their numbers
//! before looking at the key, LINDEX and LSET after.
//!
//! Storage is in [`store`]: every element is a subkey named by its index,
//! so the ends are O(1) however long the list.
//!
//! # OBJECT ENCODING
//! Redis 7.2 keeps a list in one listpack while it fits in a quicklist node
//! (`list-max-listpack-size -2`: 8 KB, with no element count limit) and
//! converts it to a quicklist when an addition would make it bigger,
//! counting the listpack's current bytes plus the raw lengths of the
//! strings being added. It converts back when a removal leaves a quicklist
//! of a single node of at most 4 KB. Redraft keeps the listpack size of the
//! elements (entry sizes computed as listpack encodes them) and applies the
//! same thresholds at the same points (pushes, LINSERT and LSET before the
//! change; pops, LREM, LTRIM and LSET after it); it does not model quicklist
//! nodes, so it takes any list of at most 4 KB to be a single node. Two
//! more differences: LINSERT without a pivot and LSET out of range convert
//! in Redis without modifying the key, and Redraft then leaves the key
//! untouched (so a WATCH is not disturbed, as in Redis).

pub(crate) mod store;

use std::ops::ControlFlow;

use bytes::Bytes;
use resp::Frame;
use storage::StoredValue;

use super::args::{int_arg, parse_i64};
use super::expire::opt_is;
use super::{CommandSpec, Ctx, Flags, Group};
use crate::error::CommandError;
use store::{encoding, listpack_entry_bytes, List};

/// The size of one quicklist node (`list-max-listpack-size -2`).
const NODE_BYTES_MAX: u64 = 8192;

/// The name `OBJECT ENCODING` gives a list value.
pub fn encoding_name(value: &StoredValue) -> &'static str {
    if value.header.encoding == encoding::QUICKLIST {
        "quicklist"
    } else {
        "listpack"
    }
}

/// Redis's `getPositiveLongFromObjectOrReply` with a message: anything but
/// a non-negative integer fails with `msg`.
fn non_negative(arg: &[u8], msg: &str) -> Result<u64, CommandError> {
    parse_i64(arg).and_then(|n| u64::try_from(n).ok()).ok_or_else(|| CommandError::err(msg))
}

/// Redis's `getRangeLongFromObjectOrReply(1, LONG_MAX, msg)`.
fn positive(arg: &[u8], msg: &str) -> Result<u64, CommandError> {
    non_negative(arg, msg).and_then(|n| if n == 0 { Err(CommandError::err(msg)) } else { Ok(n) })
}

/// `LEFT` or `RIGHT` (true for left), else a syntax error.
fn side(arg: &[u8]) -> Result<bool, CommandError> {
    if opt_is(arg, "left") {
        Ok(true)
    } else if opt_is(arg, "right") {
        Ok(false)
    } else {
        Err(CommandError::Syntax)
    }
}

/// The positions `[start, end]` of Redis's range arguments (negative counts
/// from the end) clamped to a list of `len`, `None` if empty.
fn clamp_range(start: i64, end: i64, len: u64) -> Option<(u64, u64)> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let start = if start < 0 { start.saturating_add(len).max(0) } else { start };
    let end = if end < 0 { end.saturating_add(len) } else { end };
    if start > end || start >= len {
        return None;
    }
    Some((start as u64, end.min(len - 1) as u64))
}

/// A position counted from the left (or, negative, from the right), if it
/// is within a list of `len`.
fn position(index: i64, len: u64) -> Option<u64> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let pos = if index < 0 { index.checked_add(len)? } else { index };
    (0..len).contains(&pos).then_some(pos as u64)
}

fn bulks(items: Vec<Bytes>) -> Frame {
    Frame::Array(items.into_iter().map(Frame::Bulk).collect())
}

fn list_len(list: &List) -> Frame {
    Frame::Integer(i64::try_from(list.len()).unwrap_or(i64::MAX))
}

/// LPUSH, RPUSH and (`only_existing`) LPUSHX, RPUSHX:
/// `key element [element ...]`.
fn push_generic(ctx: &mut Ctx<'_>, args: &[Bytes], left: bool, only_existing: bool) -> Result<Frame, CommandError> {
    let key = &args[1];
    let mut list = match List::load(ctx, key)? {
        Some(list) => list,
        None if only_existing => return Ok(Frame::Integer(0)),
        None => List::create(ctx)?,
    };
    list.convert_for_growth(args[2..].iter().map(|a| a.len() as u64).sum());
    list.push(ctx, key, &args[2..], left)?;
    let reply = list_len(&list);
    list.save(ctx, key)?;
    Ok(reply)
}

fn lpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    push_generic(ctx, args, true, false)
}

fn rpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    push_generic(ctx, args, false, false)
}

fn lpushx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    push_generic(ctx, args, true, true)
}

fn rpushx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    push_generic(ctx, args, false, true)
}

/// LPOP and RPOP: `key [count]`. Without a count the reply is one element
/// (nil for a missing key); with one it is an array (a null array for a
/// missing key, empty for a count of 0).
fn pop_generic(ctx: &mut Ctx<'_>, args: &[Bytes], left: bool) -> Result<Frame, CommandError> {
    if args.len() > 3 {
        return Err(CommandError::WrongArity(if left { "lpop" } else { "rpop" }.into()));
    }
    let count = args.get(2).map(|arg| non_negative(arg, "value is out of range, must be positive")).transpose()?;
    let key = &args[1];
    let Some(mut list) = List::load(ctx, key)? else {
        return Ok(if count.is_some() { Frame::NullArray } else { Frame::Null });
    };
    if count == Some(0) {
        return Ok(Frame::Array(Vec::new()));
    }
    let mut popped = list.pop(ctx, key, count.unwrap_or(1), left)?;
    list.convert_for_shrink();
    list.save(ctx, key)?;
    Ok(match count {
        Some(_) => bulks(popped),
        None => Frame::Bulk(popped.pop().unwrap_or_default()),
    })
}

fn lpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    pop_generic(ctx, args, true)
}

fn rpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    pop_generic(ctx, args, false)
}

/// `LLEN key`
fn llen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    Ok(List::load(ctx, &args[1])?.map_or(Frame::Integer(0), |list| list_len(&list)))
}

/// `LRANGE key start stop`
fn lrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let (start, end) = (int_arg(&args[2])?, int_arg(&args[3])?);
    let key = &args[1];
    let Some(list) = List::load(ctx, key)? else { return Ok(Frame::Array(Vec::new())) };
    match clamp_range(start, end, list.len()) {
        None => Ok(Frame::Array(Vec::new())),
        Some((from, to)) => Ok(bulks(list.range(ctx, key, from, to, false)?)),
    }
}

/// `LINDEX key index`
fn lindex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let key = &args[1];
    let Some(list) = List::load(ctx, key)? else { return Ok(Frame::Null) };
    let index = int_arg(&args[2])?;
    match position(index, list.len()) {
        None => Ok(Frame::Null),
        Some(pos) => Ok(list.get(ctx, key, pos)?.map_or(Frame::Null, Frame::Bulk)),
    }
}

/// `LSET key index element`
fn lset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let key = &args[1];
    let Some(mut list) = List::load(ctx, key)? else { return Err(CommandError::NoSuchKey) };
    let index = int_arg(&args[2])?;
    let Some(pos) = position(index, list.len()) else { return Err(CommandError::err("index out of range")) };
    list.convert_for_growth(args[3].len() as u64);
    list.set(ctx, key, pos, &args[3])?;
    list.convert_for_shrink();
    list.save(ctx, key)?;
    Ok(Frame::ok())
}

/// `LINSERT key BEFORE|AFTER pivot element`: the new length, -1 without
/// the pivot, 0 without the key.
fn linsert(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let after = if opt_is(&args[2], "after") {
        true
    } else if opt_is(&args[2], "before") {
        false
    } else {
        return Err(CommandError::Syntax);
    };
    let key = &args[1];
    let Some(mut list) = List::load(ctx, key)? else { return Ok(Frame::Integer(0)) };
    let pivot = &args[3];
    let mut found = None;
    list.walk(ctx, key, 0, list.len() - 1, false, &mut |pos, element| {
        if element == pivot.as_ref() {
            found = Some(pos);
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    })?;
    let Some(pos) = found else { return Ok(Frame::Integer(-1)) };
    list.convert_for_growth(args[4].len() as u64);
    list.insert(ctx, key, pos + u64::from(after), &args[4])?;
    let reply = list_len(&list);
    list.save(ctx, key)?;
    Ok(reply)
}

/// `LREM key count element`: removes the first `count` matches from the
/// left, or from the right for a negative count, or all for 0.
fn lrem(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let count = int_arg(&args[2])?;
    let key = &args[1];
    let Some(mut list) = List::load(ctx, key)? else { return Ok(Frame::Integer(0)) };
    let element = &args[3];
    let limit = count.unsigned_abs();
    let mut positions = Vec::new();
    list.walk(ctx, key, 0, list.len() - 1, count < 0, &mut |pos, candidate| {
        if candidate == element.as_ref() {
            positions.push(pos);
            if positions.len() as u64 == limit {
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    })?;
    if positions.is_empty() {
        return Ok(Frame::Integer(0));
    }
    if count < 0 {
        positions.reverse();
    }
    list.remove(ctx, key, &positions, listpack_entry_bytes(element))?;
    list.convert_for_shrink();
    list.save(ctx, key)?;
    Ok(Frame::Integer(positions.len() as i64))
}

/// `LTRIM key start stop`: keeps `[start, stop]`; an empty range deletes
/// the key.
fn ltrim(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let (start, end) = (int_arg(&args[2])?, int_arg(&args[3])?);
    let key = &args[1];
    let Some(mut list) = List::load(ctx, key)? else { return Ok(Frame::ok()) };
    let len = list.len();
    let (left, right) = match clamp_range(start, end, len) {
        None => (len, 0),
        Some((from, to)) => (from, len - 1 - to),
    };
    list.trim(ctx, key, left, right)?;
    list.convert_for_shrink();
    list.save(ctx, key)?;
    Ok(Frame::ok())
}

/// `LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]`
fn lpos(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let mut rank: i64 = 1;
    let mut count: Option<u64> = None;
    let mut maxlen: u64 = 0;
    let mut at = 3;
    while at < args.len() {
        let value = args.get(at + 1);
        match value {
            Some(value) if opt_is(&args[at], "rank") => {
                rank = int_arg(value)?;
                if rank == i64::MIN {
                    return Err(CommandError::err(
                        "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
                    ));
                }
                if rank == 0 {
                    return Err(CommandError::err(
                        "RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use \
                         negative to start from the end of the list",
                    ));
                }
            }
            Some(value) if opt_is(&args[at], "count") => count = Some(non_negative(value, "COUNT can't be negative")?),
            Some(value) if opt_is(&args[at], "maxlen") => maxlen = non_negative(value, "MAXLEN can't be negative")?,
            _ => return Err(CommandError::Syntax),
        }
        at += 2;
    }
    let key = &args[1];
    let Some(list) = List::load(ctx, key)? else {
        return Ok(if count.is_some() { Frame::Array(Vec::new()) } else { Frame::Null });
    };
    let element = &args[2];
    let reverse = rank < 0;
    let skip = rank.unsigned_abs() - 1;
    let wanted = match count {
        None => 1,
        Some(0) => u64::MAX,
        Some(n) => n,
    };
    let len = list.len();
    let mut matches = 0u64;
    let mut scanned = 0u64;
    let mut found = Vec::new();
    list.walk(ctx, key, 0, len - 1, reverse, &mut |pos, candidate| {
        if maxlen != 0 && scanned == maxlen {
            return ControlFlow::Break(());
        }
        scanned += 1;
        if candidate == element.as_ref() {
            matches += 1;
            if matches > skip {
                found.push(Frame::Integer(pos as i64));
                if found.len() as u64 == wanted {
                    return ControlFlow::Break(());
                }
            }
        }
        ControlFlow::Continue(())
    })?;
    Ok(match count {
        Some(_) => Frame::Array(found),
        None => found.pop().unwrap_or(Frame::Null),
    })
}

/// LMOVE and RPOPLPUSH: pops one element from `source` and pushes it onto
/// `destination` (which may be the same list: a rotation). The reply is
/// the element, nil if `source` is missing.
fn move_generic(ctx: &mut Ctx<'_>, args: &[Bytes], from_left: bool, to_left: bool) -> Result<Frame, CommandError> {
    let (src, dst) = (&args[1], &args[2]);
    let Some(mut source) = List::load(ctx, src)? else { return Ok(Frame::Null) };
    let mut destination = if src == dst {
        None
    } else {
        Some(match List::load(ctx, dst)? {
            Some(list) => list,
            None => List::create(ctx)?,
        })
    };
    // Redis pops an integer out of a quicklist as an integer object, which
    // its growth check does not count.
    let uncounted = source.encoding() == encoding::QUICKLIST;
    let element = source.pop(ctx, src, 1, from_left)?.pop().unwrap_or_default();
    let added = if uncounted && parse_i64(&element).is_some() { 0 } else { element.len() as u64 };
    let pushed = std::slice::from_ref(&element);
    match destination.as_mut() {
        Some(list) => {
            list.convert_for_growth(added);
            list.push(ctx, dst, pushed, to_left)?;
        }
        None => {
            source.convert_for_growth(added);
            source.push(ctx, src, pushed, to_left)?;
        }
    }
    if let Some(list) = destination {
        list.save(ctx, dst)?;
    }
    source.convert_for_shrink();
    source.save(ctx, src)?;
    Ok(Frame::Bulk(element))
}

/// `LMOVE source destination LEFT|RIGHT LEFT|RIGHT`
fn lmove(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let from_left = side(&args[3])?;
    let to_left = side(&args[4])?;
    move_generic(ctx, args, from_left, to_left)
}

/// `RPOPLPUSH source destination`
fn rpoplpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    move_generic(ctx, args, false, true)
}

/// `LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]`: pops from the
/// first non-empty list; `[key, [elements]]`, or a null array.
fn lmpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let numkeys = positive(&args[1], "numkeys should be greater than 0")?;
    let where_at = usize::try_from(numkeys).ok().and_then(|n| n.checked_add(2)).filter(|&at| at < args.len());
    let Some(where_at) = where_at else { return Err(CommandError::Syntax) };
    let left = side(&args[where_at])?;
    let mut count = None;
    let mut at = where_at + 1;
    while at < args.len() {
        match args.get(at + 1) {
            Some(value) if count.is_none() && opt_is(&args[at], "count") => {
                count = Some(positive(value, "count should be greater than 0")?);
            }
            _ => return Err(CommandError::Syntax),
        }
        at += 2;
    }
    let count = count.unwrap_or(1);
    for key in &args[2..where_at] {
        let Some(mut list) = List::load(ctx, key)? else { continue };
        let popped = list.pop(ctx, key, count, left)?;
        list.convert_for_shrink();
        list.save(ctx, key)?;
        return Ok(Frame::Array(vec![Frame::Bulk(key.clone()), bulks(popped)]));
    }
    Ok(Frame::NullArray)
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
    CommandSpec::data(Group::List, name, arity, flags, keys, since, summary, handler)
}

const READ: Flags = Flags::READONLY;
const READ_FAST: Flags = Flags::READONLY.union(Flags::FAST);
const WRITE: Flags = Flags::WRITE;
const WRITE_FAST: Flags = Flags::WRITE.union(Flags::FAST);
const WRITE_DENYOOM: Flags = Flags::WRITE.union(Flags::DENYOOM);
const WRITE_DENYOOM_FAST: Flags = Flags::WRITE.union(Flags::DENYOOM).union(Flags::FAST);
const ONE_KEY: (i32, i32, i32) = (1, 1, 1);
const TWO_KEYS: (i32, i32, i32) = (1, 2, 1);
/// LMPOP's keys follow a count (Redis reports 0 0 0 and "movablekeys").
const COUNTED_KEYS: (i32, i32, i32) = (0, 0, 0);

/// Summaries are Redis 7.2's.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "lpush",
        -3,
        WRITE_DENYOOM_FAST,
        ONE_KEY,
        "1.0.0",
        "Prepends one or more elements to a list. Creates the key if it doesn't exist.",
        lpush,
    ),
    spec(
        "rpush",
        -3,
        WRITE_DENYOOM_FAST,
        ONE_KEY,
        "1.0.0",
        "Appends one or more elements to a list. Creates the key if it doesn't exist.",
        rpush,
    ),
    spec(
        "lpushx",
        -3,
        WRITE_DENYOOM_FAST,
        ONE_KEY,
        "2.2.0",
        "Prepends one or more elements to a list only when the list exists.",
        lpushx,
    ),
    spec(
        "rpushx",
        -3,
        WRITE_DENYOOM_FAST,
        ONE_KEY,
        "2.2.0",
        "Appends an element to a list only when the list exists.",
        rpushx,
    ),
    spec(
        "lpop",
        -2,
        WRITE_FAST,
        ONE_KEY,
        "1.0.0",
        "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.",
        lpop,
    ),
    spec(
        "rpop",
        -2,
        WRITE_FAST,
        ONE_KEY,
        "1.0.0",
        "Returns and removes the last elements of a list. Deletes the list if the last element was popped.",
        rpop,
    ),
    spec("llen", 2, READ_FAST, ONE_KEY, "1.0.0", "Returns the length of a list.", llen),
    spec("lrange", 4, READ, ONE_KEY, "1.0.0", "Returns a range of elements from a list.", lrange),
    spec("lindex", 3, READ, ONE_KEY, "1.0.0", "Returns an element from a list by its index.", lindex),
    spec("lset", 4, WRITE_DENYOOM, ONE_KEY, "1.0.0", "Sets the value of an element in a list by its index.", lset),
    spec(
        "linsert",
        5,
        WRITE_DENYOOM,
        ONE_KEY,
        "2.2.0",
        "Inserts an element before or after another element in a list.",
        linsert,
    ),
    spec(
        "lrem",
        4,
        WRITE,
        ONE_KEY,
        "1.0.0",
        "Removes elements from a list. Deletes the list if the last element was removed.",
        lrem,
    ),
    spec(
        "ltrim",
        4,
        WRITE,
        ONE_KEY,
        "1.0.0",
        "Removes elements from both ends a list. Deletes the list if all elements were trimmed.",
        ltrim,
    ),
    spec("lpos", -3, READ, ONE_KEY, "6.0.6", "Returns the index of matching elements in a list.", lpos),
    spec(
        "lmove",
        5,
        WRITE_DENYOOM,
        TWO_KEYS,
        "6.2.0",
        "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last \
         element was moved.",
        lmove,
    ),
    spec(
        "rpoplpush",
        3,
        WRITE_DENYOOM,
        TWO_KEYS,
        "1.2.0",
        "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the \
         last element was popped.",
        rpoplpush,
    ),
    spec(
        "lmpop",
        -4,
        WRITE,
        COUNTED_KEYS,
        "7.0.0",
        "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.",
        lmpop,
    ),
];

#[cfg(test)]
mod tests;
