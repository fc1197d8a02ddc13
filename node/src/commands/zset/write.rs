//! The writing sorted set commands: ZADD, ZINCRBY, ZREM, ZREMRANGEBY*,
//! ZPOPMIN, ZPOPMAX, ZMPOP.
//!
//! Every change ends with [`ZSet::save`], which deletes the key when its
//! last member went, as Redis does.

use std::ops::ControlFlow;

use bytes::Bytes;
use resp::Frame;

use super::read::{NOT_A_FLOAT_RANGE, NOT_A_LEX_RANGE};
use super::score::{parse_score, score_frame, LexRange, ScoreRange};
use super::scored_reply;
use super::store::{Scored, ZSet, LISTPACK_ENTRIES_MAX, LISTPACK_VALUE_MAX};
use crate::commands::args::{int_arg, parse_i64};
use crate::commands::expire::opt_is;
use crate::commands::Ctx;
use crate::error::CommandError;

/// `ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]`
pub(crate) fn zadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    add_generic(ctx, args, false)
}

/// `ZINCRBY key increment member`: ZADD's code with INCR, as in Redis (so
/// an option word where the increment goes makes a syntax error).
pub(crate) fn zincrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    add_generic(ctx, args, true)
}

/// Redis's `zaddGenericCommand`.
fn add_generic(ctx: &mut Ctx<'_>, args: &[Bytes], mut incr: bool) -> Result<Frame, CommandError> {
    let (mut nx, mut xx, mut ch, mut gt, mut lt) = (false, false, false, false, false);
    let mut at = 2;
    while let Some(opt) = args.get(at) {
        if opt_is(opt, "nx") {
            nx = true;
        } else if opt_is(opt, "xx") {
            xx = true;
        } else if opt_is(opt, "ch") {
            ch = true;
        } else if opt_is(opt, "incr") {
            incr = true;
        } else if opt_is(opt, "gt") {
            gt = true;
        } else if opt_is(opt, "lt") {
            lt = true;
        } else {
            break;
        }
        at += 1;
    }
    let pairs = &args[at..];
    if pairs.is_empty() || !pairs.len().is_multiple_of(2) {
        return Err(CommandError::Syntax);
    }
    let elements = pairs.len() / 2;
    if nx && xx {
        return Err(CommandError::err("XX and NX options at the same time are not compatible"));
    }
    if (nx && (gt || lt)) || (gt && lt) {
        return Err(CommandError::err("GT, LT, and/or NX options at the same time are not compatible"));
    }
    if incr && elements > 1 {
        return Err(CommandError::err("INCR option supports a single increment-element pair"));
    }
    // Every score is checked before anything changes: all or nothing.
    let scores =
        pairs.chunks(2).map(|p| parse_score(&p[0]).ok_or(CommandError::NotFloat)).collect::<Result<Vec<_>, _>>()?;
    let key = &args[1];
    let mut converted = false;
    let mut zset = match ZSet::load(ctx, key)? {
        Some(mut zset) => {
            // Redis 7.2 converts ahead of a ZADD with more pairs than a
            // listpack holds, even if some are duplicates or refused.
            if zset.is_listpack() && elements as u64 > LISTPACK_ENTRIES_MAX {
                zset.convert_to_skiplist();
                converted = true;
            }
            zset
        }
        None if xx => return Ok(if incr { Frame::Null } else { Frame::Integer(0) }),
        None => {
            let mut zset = ZSet::load_or_create(ctx, key)?;
            if elements as u64 > LISTPACK_ENTRIES_MAX || pairs[1].len() > LISTPACK_VALUE_MAX {
                zset.convert_to_skiplist();
            }
            zset
        }
    };
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0i64);
    let mut reply_score = 0.0;
    for (pair, &score) in pairs.chunks(2).zip(&scores) {
        let member = &pair[1];
        match zset.score(ctx, member)? {
            Some(current) => {
                if nx {
                    continue;
                }
                let mut new = score;
                if incr {
                    new += current;
                    if new.is_nan() {
                        return Err(CommandError::err("resulting score is not a number (NaN)"));
                    }
                }
                if (lt && new >= current) || (gt && new <= current) {
                    continue;
                }
                processed += 1;
                reply_score = new;
                if new != current {
                    zset.put(ctx, member, new)?;
                    updated += 1;
                }
            }
            None if xx => {}
            None => {
                zset.put(ctx, member, score)?;
                processed += 1;
                added += 1;
                reply_score = score;
            }
        }
    }
    if added + updated > 0 || converted {
        zset.save(ctx)?;
    }
    Ok(if incr {
        if processed > 0 {
            score_frame(reply_score)
        } else {
            Frame::Null
        }
    } else {
        Frame::Integer(if ch { added + updated } else { added })
    })
}

/// `ZREM key member [member ...]`
pub(crate) fn zrem(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let Some(mut zset) = ZSet::load(ctx, &args[1])? else { return Ok(Frame::Integer(0)) };
    let mut deleted = 0i64;
    for member in &args[2..] {
        if zset.remove(ctx, member)?.is_some() {
            deleted += 1;
        }
        if zset.len() == 0 {
            break;
        }
    }
    if deleted > 0 {
        zset.save(ctx)?;
    }
    Ok(Frame::Integer(deleted))
}

/// Removes `victims` (found by a walk) and saves.
fn remove_all(ctx: &mut Ctx<'_>, zset: &mut ZSet, victims: &[Scored]) -> Result<(), CommandError> {
    for v in victims {
        zset.remove_scored(ctx, &v.member, v.score)?;
    }
    if !victims.is_empty() {
        zset.save(ctx)?;
    }
    Ok(())
}

fn collector(out: &mut Vec<Scored>) -> impl FnMut(&[u8], f64) -> ControlFlow<()> + '_ {
    |m, s| {
        out.push(Scored { member: Bytes::copy_from_slice(m), score: s });
        ControlFlow::Continue(())
    }
}

/// `ZREMRANGEBYRANK key start stop`
pub(crate) fn zremrangebyrank(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let (start, end) = (int_arg(&args[2])?, int_arg(&args[3])?);
    let Some(mut zset) = ZSet::load(ctx, &args[1])? else { return Ok(Frame::Integer(0)) };
    let len = zset.len() as i64;
    let start = if start < 0 { len + start } else { start }.max(0);
    let end = if end < 0 { len + end } else { end };
    if start > end || start >= len {
        return Ok(Frame::Integer(0));
    }
    let victims = zset.by_rank(ctx, start as u64, end.min(len - 1) as u64, false)?;
    remove_all(ctx, &mut zset, &victims)?;
    Ok(Frame::Integer(victims.len() as i64))
}

/// `ZREMRANGEBYSCORE key min max`
pub(crate) fn zremrangebyscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let range = ScoreRange::parse(&args[2], &args[3]).ok_or_else(|| CommandError::err(NOT_A_FLOAT_RANGE))?;
    let Some(mut zset) = ZSet::load(ctx, &args[1])? else { return Ok(Frame::Integer(0)) };
    let mut victims = Vec::new();
    zset.visit_scores(ctx, &range, false, &mut collector(&mut victims))?;
    remove_all(ctx, &mut zset, &victims)?;
    Ok(Frame::Integer(victims.len() as i64))
}

/// `ZREMRANGEBYLEX key min max`
pub(crate) fn zremrangebylex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let range = LexRange::parse(&args[2], &args[3]).ok_or_else(|| CommandError::err(NOT_A_LEX_RANGE))?;
    let Some(mut zset) = ZSet::load(ctx, &args[1])? else { return Ok(Frame::Integer(0)) };
    let mut victims = Vec::new();
    zset.visit_lex(ctx, &range, false, 0, &mut collector(&mut victims))?;
    remove_all(ctx, &mut zset, &victims)?;
    Ok(Frame::Integer(victims.len() as i64))
}

/// `ZPOPMIN key [count]`
pub(crate) fn zpopmin(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    pop_command(ctx, args, false)
}

/// `ZPOPMAX key [count]`
pub(crate) fn zpopmax(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    pop_command(ctx, args, true)
}

/// Redis's `getRangeLongFromObjectOrReply` with a message: a non-integer
/// and an out-of-range value get the same error.
fn ranged_i64(arg: &[u8], min: i64, message: &str) -> Result<i64, CommandError> {
    parse_i64(arg).filter(|n| *n >= min).ok_or_else(|| CommandError::err(message))
}

fn pop_command(ctx: &mut Ctx<'_>, args: &[Bytes], max: bool) -> Result<Frame, CommandError> {
    if args.len() > 3 {
        return Err(CommandError::Syntax);
    }
    let count = match args.get(2) {
        Some(arg) => Some(ranged_i64(arg, 0, "value is out of range, must be positive")?),
        None => None,
    };
    // A count makes RESP3 replies [member, score] pairs; without one the
    // single pair stays flat.
    let shape = if ctx.resp3 && count.is_some() { PopShape::Nested } else { PopShape::Flat };
    pop_generic(ctx, &args[1..2], max, count, shape)
}

/// How popped members are replied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PopShape {
    /// `member score ...` (ZPOPMIN/ZPOPMAX in RESP2, or without a count).
    Flat,
    /// `[[member, score], ...]` (ZPOPMIN/ZPOPMAX with a count in RESP3).
    Nested,
    /// `[key, [[member, score], ...]]`, or a null when nothing was popped
    /// (ZMPOP).
    WithKey,
}

/// Redis's `genericZpopCommand`: pops from the first of `keys` that exists
/// (a key of another type is an error even after absent ones). `count`
/// `None` pops one.
fn pop_generic(
    ctx: &mut Ctx<'_>,
    keys: &[Bytes],
    max: bool,
    count: Option<i64>,
    shape: PopShape,
) -> Result<Frame, CommandError> {
    let mut found = None;
    for key in keys {
        if let Some(zset) = ZSet::load(ctx, key)? {
            found = Some(zset);
            break;
        }
    }
    let Some(mut zset) = found else {
        return Ok(if shape == PopShape::WithKey { Frame::NullArray } else { Frame::Array(Vec::new()) });
    };
    let count = count.unwrap_or(1);
    if count == 0 {
        return Ok(Frame::Array(Vec::new()));
    }
    let take = (count as u64).min(zset.len());
    let mut popped = Vec::with_capacity(take.min(1 << 16) as usize);
    zset.visit_all(ctx, max, &mut |m, s| {
        popped.push(Scored { member: Bytes::copy_from_slice(m), score: s });
        if popped.len() as u64 >= take {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })?;
    remove_all(ctx, &mut zset, &popped)?;
    Ok(match shape {
        PopShape::Flat => scored_reply(false, popped, true),
        PopShape::Nested => scored_reply(true, popped, true),
        PopShape::WithKey => Frame::Array(vec![Frame::Bulk(zset.key().clone()), scored_reply(true, popped, true)]),
    })
}

/// `ZMPOP numkeys key [key ...] MIN | MAX [COUNT count]`
pub(crate) fn zmpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let numkeys = ranged_i64(&args[1], 1, "numkeys should be greater than 0")?;
    let where_at = match usize::try_from(numkeys).ok().and_then(|n| n.checked_add(2)) {
        Some(at) if at < args.len() => at,
        _ => return Err(CommandError::Syntax),
    };
    let max = if opt_is(&args[where_at], "min") {
        false
    } else if opt_is(&args[where_at], "max") {
        true
    } else {
        return Err(CommandError::Syntax);
    };
    let mut count = None;
    let mut at = where_at + 1;
    while at < args.len() {
        if count.is_none() && opt_is(&args[at], "count") && at + 1 < args.len() {
            count = Some(ranged_i64(&args[at + 1], 1, "count should be greater than 0")?);
            at += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    pop_generic(ctx, &args[2..where_at], max, count, PopShape::WithKey)
}
