//! The reading sorted set commands, and ZRANGESTORE (which shares ZRANGE's
//! parsing and walks).
//!
//! Argument checks come in Redis's order: options, then the range, then the
//! key (so a malformed range on a missing key is still an error, while a
//! missing key answers before its type could matter).

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use bytes::Bytes;
use rand::Rng;
use resp::Frame;

use super::score::{format_listpack_score, score_bulk, score_frame, LexRange, ScoreRange};
use super::scored_reply;
use super::store::{decode_member_value, encoding, Scored, ZSet, LISTPACK_ENTRIES_MAX};
use crate::commands::args::int_arg;
use crate::commands::collection;
use crate::commands::expire::opt_is;
use crate::commands::glob;
use crate::commands::keys::parse_cursor;
use crate::commands::set::sample;
use crate::commands::Ctx;
use crate::error::CommandError;

pub(crate) const NOT_A_FLOAT_RANGE: &str = "min or max is not a float";
pub(crate) const NOT_A_LEX_RANGE: &str = "min or max not valid string range item";

/// `ZCARD key`
pub(crate) fn zcard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    Ok(Frame::Integer(ZSet::load(ctx, &args[1])?.map_or(0, |z| z.len()) as i64))
}

/// `ZSCORE key member`
pub(crate) fn zscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let Some(zset) = ZSet::load(ctx, &args[1])? else { return Ok(Frame::Null) };
    Ok(zset.score(ctx, &args[2])?.map_or(Frame::Null, score_frame))
}

/// `ZMSCORE key member [member ...]`
pub(crate) fn zmscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let zset = ZSet::load(ctx, &args[1])?;
    let mut out = Vec::with_capacity(args.len() - 2);
    for member in &args[2..] {
        let score = match &zset {
            Some(zset) => zset.score(ctx, member)?,
            None => None,
        };
        out.push(score.map_or(Frame::Null, score_frame));
    }
    Ok(Frame::Array(out))
}

/// `ZRANK key member [WITHSCORE]` (WITHSCORE is new in 7.2).
pub(crate) fn zrank(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    rank_generic(ctx, args, false)
}

/// `ZREVRANK key member [WITHSCORE]`
pub(crate) fn zrevrank(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    rank_generic(ctx, args, true)
}

fn rank_generic(ctx: &mut Ctx<'_>, args: &[Bytes], reverse: bool) -> Result<Frame, CommandError> {
    if args.len() > 4 {
        let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
        return Err(CommandError::WrongArity(name));
    }
    let withscore = match args.get(3) {
        Some(opt) if opt_is(opt, "withscore") => true,
        Some(_) => return Err(CommandError::Syntax),
        None => false,
    };
    let missing = if withscore { Frame::NullArray } else { Frame::Null };
    let Some(zset) = ZSet::load(ctx, &args[1])? else { return Ok(missing) };
    Ok(match zset.rank(ctx, &args[2], reverse)? {
        None => missing,
        Some((rank, score)) if withscore => Frame::Array(vec![Frame::Integer(rank as i64), score_frame(score)]),
        Some((rank, _)) => Frame::Integer(rank as i64),
    })
}

/// `ZCOUNT key min max`
pub(crate) fn zcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let range = ScoreRange::parse(&args[2], &args[3]).ok_or_else(|| CommandError::err(NOT_A_FLOAT_RANGE))?;
    let Some(zset) = ZSet::load(ctx, &args[1])? else { return Ok(Frame::Integer(0)) };
    let mut count = 0i64;
    zset.visit_scores(ctx, &range, false, &mut |_, _| {
        count += 1;
        ControlFlow::Continue(())
    })?;
    Ok(Frame::Integer(count))
}

/// `ZLEXCOUNT key min max`
pub(crate) fn zlexcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let range = LexRange::parse(&args[2], &args[3]).ok_or_else(|| CommandError::err(NOT_A_LEX_RANGE))?;
    let Some(zset) = ZSet::load(ctx, &args[1])? else { return Ok(Frame::Integer(0)) };
    let mut count = 0i64;
    zset.visit_lex(ctx, &range, false, 0, &mut |_, _| {
        count += 1;
        ControlFlow::Continue(())
    })?;
    Ok(Frame::Integer(count))
}

/// What a range is over (`zrange_type`); `Auto` until an option says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeKind {
    Auto,
    Rank,
    Score,
    Lex,
}

/// `zrange_direction`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Auto,
    Forward,
    Reverse,
}

/// `ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]`
pub(crate) fn zrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    range_generic(ctx, args, 1, false, RangeKind::Auto, Direction::Auto)
}

/// `ZRANGESTORE dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]`
pub(crate) fn zrangestore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    range_generic(ctx, args, 2, true, RangeKind::Auto, Direction::Auto)
}

/// `ZREVRANGE key start stop [WITHSCORES]`
pub(crate) fn zrevrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    range_generic(ctx, args, 1, false, RangeKind::Rank, Direction::Reverse)
}

/// `ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]`
pub(crate) fn zrangebyscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    range_generic(ctx, args, 1, false, RangeKind::Score, Direction::Forward)
}

/// `ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]`
pub(crate) fn zrevrangebyscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    range_generic(ctx, args, 1, false, RangeKind::Score, Direction::Reverse)
}

/// `ZRANGEBYLEX key min max [LIMIT offset count]`
pub(crate) fn zrangebylex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    range_generic(ctx, args, 1, false, RangeKind::Lex, Direction::Forward)
}

/// `ZREVRANGEBYLEX key max min [LIMIT offset count]`
pub(crate) fn zrevrangebylex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    range_generic(ctx, args, 1, false, RangeKind::Lex, Direction::Reverse)
}

/// A parsed range of one of the three kinds.
enum Range {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

/// Redis's `zrangeGenericCommand`: `src` is the index of the source key;
/// `store` makes it ZRANGESTORE (destination at index 1).
fn range_generic(
    ctx: &mut Ctx<'_>,
    args: &[Bytes],
    src: usize,
    store: bool,
    mut kind: RangeKind,
    mut direction: Direction,
) -> Result<Frame, CommandError> {
    let mut withscores = false;
    let mut offset: i64 = 0;
    let mut limit: i64 = -1;
    let mut at = src + 3;
    while at < args.len() {
        let opt = &args[at];
        let left = args.len() - at - 1;
        if !store && opt_is(opt, "withscores") {
            withscores = true;
        } else if opt_is(opt, "limit") && left >= 2 {
            offset = int_arg(&args[at + 1])?;
            limit = int_arg(&args[at + 2])?;
            at += 2;
        } else if direction == Direction::Auto && opt_is(opt, "rev") {
            direction = Direction::Reverse;
        } else if kind == RangeKind::Auto && opt_is(opt, "bylex") {
            kind = RangeKind::Lex;
        } else if kind == RangeKind::Auto && opt_is(opt, "byscore") {
            kind = RangeKind::Score;
        } else {
            return Err(CommandError::Syntax);
        }
        at += 1;
    }
    let reverse = direction == Direction::Reverse;
    if kind == RangeKind::Auto {
        kind = RangeKind::Rank;
    }
    // Redis tests the value, so `LIMIT 0 -1` passes with a rank range.
    if limit != -1 && kind == RangeKind::Rank {
        return Err(CommandError::err(
            "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && kind == RangeKind::Lex {
        return Err(CommandError::err("syntax error, WITHSCORES not supported in combination with BYLEX"));
    }
    // Reversed score and lex ranges are written max first.
    let (min, max) = if reverse && kind != RangeKind::Rank {
        (&args[src + 2], &args[src + 1])
    } else {
        (&args[src + 1], &args[src + 2])
    };
    let range = match kind {
        RangeKind::Score => {
            Range::Score(ScoreRange::parse(min, max).ok_or_else(|| CommandError::err(NOT_A_FLOAT_RANGE))?)
        }
        RangeKind::Lex => Range::Lex(LexRange::parse(min, max).ok_or_else(|| CommandError::err(NOT_A_LEX_RANGE))?),
        _ => Range::Rank(int_arg(min)?, int_arg(max)?),
    };
    let items = match ZSet::load(ctx, &args[src])? {
        None => Vec::new(),
        Some(zset) => collect_range(ctx, &zset, &range, reverse, offset, limit)?,
    };
    if store {
        let count = items.len() as i64;
        let initial = if items.len() as u64 > LISTPACK_ENTRIES_MAX { encoding::SKIPLIST } else { encoding::LISTPACK };
        store_new(ctx, &args[1], items, initial)?;
        return Ok(Frame::Integer(count));
    }
    Ok(scored_reply(ctx.resp3, items, withscores))
}

/// The members of a range, in reply order. `offset` and `limit` apply to
/// score and lex ranges as in Redis: a negative offset skips everything, a
/// negative limit takes everything.
fn collect_range(
    ctx: &Ctx<'_>,
    zset: &ZSet,
    range: &Range,
    reverse: bool,
    offset: i64,
    limit: i64,
) -> Result<Vec<Scored>, CommandError> {
    let len = zset.len() as i64;
    match range {
        Range::Rank(start, end) => {
            let mut start = if *start < 0 { len + start } else { *start };
            let mut end = if *end < 0 { len + end } else { *end };
            start = start.max(0);
            if start > end || start >= len {
                return Ok(Vec::new());
            }
            end = end.min(len - 1);
            zset.by_rank(ctx, start as u64, end as u64, reverse)
        }
        Range::Score(_) | Range::Lex(_) if offset < 0 || (offset > 0 && offset >= len) || limit == 0 => Ok(Vec::new()),
        Range::Score(r) => {
            let mut out = Vec::new();
            {
                let mut take = limited(&mut out, limit);
                let mut skipped = 0;
                zset.visit_scores(ctx, r, reverse, &mut |m, s| {
                    if skipped < offset {
                        skipped += 1;
                        return ControlFlow::Continue(());
                    }
                    take(m, s)
                })?;
            }
            Ok(out)
        }
        Range::Lex(r) => {
            let mut out = Vec::new();
            zset.visit_lex(ctx, r, reverse, offset as u64, &mut limited(&mut out, limit))?;
            Ok(out)
        }
    }
}

/// A visitor collecting members until `limit` (negative: no limit).
fn limited(out: &mut Vec<Scored>, limit: i64) -> impl FnMut(&[u8], f64) -> ControlFlow<()> + '_ {
    let limit = u64::try_from(limit).unwrap_or(u64::MAX);
    move |m, s| {
        out.push(Scored { member: Bytes::copy_from_slice(m), score: s });
        if out.len() as u64 >= limit {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

/// Replaces `key` with a new sorted set of `items` (distinct members),
/// starting in `initial` encoding and converting as Redis's `zsetAdd` would;
/// deletes the key when there are none (Redis's STORE commands).
pub(crate) fn store_new(ctx: &mut Ctx<'_>, key: &[u8], items: Vec<Scored>, initial: u8) -> Result<(), CommandError> {
    if items.is_empty() {
        ctx.ks.delete(ctx.db, key)?;
        return Ok(());
    }
    let mut zset = ZSet::replacing(ctx, key, initial)?;
    for item in items {
        zset.put_new(ctx, &item.member, item.score)?;
    }
    zset.save(ctx)
}

/// `ZRANDMEMBER key [count [WITHSCORES]]`
pub(crate) fn zrandmember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    if args.len() >= 3 {
        let count = sample::count_arg(&args[2])?;
        let withscores = match args.len() {
            3 => false,
            4 if opt_is(&args[3], "withscores") => true,
            _ => return Err(CommandError::Syntax),
        };
        // The reply holds twice as many entries: Redis refuses counts whose
        // double would overflow.
        if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
            return Err(CommandError::err("value is out of range"));
        }
        return randmember_with_count(ctx, &args[1], count, withscores);
    }
    let Some(zset) = ZSet::load(ctx, &args[1])? else { return Ok(Frame::Null) };
    let mut picker = Picker::new(ctx, &zset)?;
    Ok(picker.pick(ctx, &zset)?.map_or(Frame::Null, |s| Frame::Bulk(s.member)))
}

/// Uniform draws from a small set held in memory; seeks to random buckets
/// of the member index for a large one.
enum Picker {
    Loaded(Vec<Scored>),
    Seek,
}

impl Picker {
    fn new(ctx: &Ctx<'_>, zset: &ZSet) -> Result<Picker, CommandError> {
        Ok(if zset.len() <= LISTPACK_ENTRIES_MAX { Picker::Loaded(zset.all(ctx)?) } else { Picker::Seek })
    }

    fn pick(&mut self, ctx: &mut Ctx<'_>, zset: &ZSet) -> Result<Option<Scored>, CommandError> {
        match self {
            Picker::Loaded(all) if all.is_empty() => Ok(None),
            Picker::Loaded(all) => Ok(Some(all[ctx.rng.gen_range(0..all.len())].clone())),
            Picker::Seek => zset.random(ctx),
        }
    }
}

/// Redis's `zrandmemberWithCountCommand`: a negative count draws with
/// repetition; a count at least the size returns the whole set (from the
/// highest score down, as Redis's set-operation iterator walks); otherwise
/// distinct random members.
fn randmember_with_count(ctx: &mut Ctx<'_>, key: &[u8], count: i64, withscores: bool) -> Result<Frame, CommandError> {
    let Some(zset) = ZSet::load(ctx, key)? else { return Ok(Frame::Array(Vec::new())) };
    let size = zset.len();
    if count == 0 {
        return Ok(Frame::Array(Vec::new()));
    }
    let wanted = count.unsigned_abs();
    let mut picked = Vec::new();
    if count < 0 || wanted == 1 {
        // Redraft builds the reply in memory: the bound SRANDMEMBER and
        // HRANDFIELD have too.
        sample::check_repeated_picks(wanted)?;
        let mut picker = Picker::new(ctx, &zset)?;
        for _ in 0..wanted {
            match picker.pick(ctx, &zset)? {
                Some(s) => picked.push(s),
                None => break,
            }
        }
    } else if wanted >= size {
        zset.visit_all(ctx, true, &mut |m, s| {
            picked.push(Scored { member: Bytes::copy_from_slice(m), score: s });
            ControlFlow::Continue(())
        })?;
    } else if wanted * 3 > size || size <= LISTPACK_ENTRIES_MAX {
        // A large share: a partial shuffle of the whole set.
        let mut all = zset.all(ctx)?;
        for i in 0..wanted as usize {
            let j = ctx.rng.gen_range(i..all.len());
            all.swap(i, j);
        }
        all.truncate(wanted as usize);
        picked = all;
    } else {
        picked = distinct_picks(ctx, &zset, wanted)?;
    }
    Ok(scored_reply(ctx.resp3, picked, withscores))
}

/// `wanted` distinct members of a large set (`wanted * 3 <= len`), drawn one
/// by one. Members can be crafted to crowd a few buckets, where seeks rarely
/// land, so the draws are bounded; any shortfall is made up walking the
/// member index from a random bucket.
fn distinct_picks(ctx: &mut Ctx<'_>, zset: &ZSet, wanted: u64) -> Result<Vec<Scored>, CommandError> {
    let mut seen = BTreeSet::new();
    let mut picked = Vec::with_capacity(wanted as usize);
    let mut draws_left = wanted.saturating_mul(4).saturating_add(64);
    while (picked.len() as u64) < wanted && draws_left > 0 {
        draws_left -= 1;
        let Some(s) = zset.random(ctx)? else { break };
        if seen.insert(s.member.clone()) {
            picked.push(s);
        }
    }
    if (picked.len() as u64) < wanted {
        let bucket: u64 = ctx.rng.gen();
        zset.visit_from_bucket(ctx, bucket, &mut |m, s| {
            if (picked.len() as u64) >= wanted {
                return ControlFlow::Break(());
            }
            if !seen.contains(m) {
                seen.insert(Bytes::copy_from_slice(m));
                picked.push(Scored { member: Bytes::copy_from_slice(m), score: s });
            }
            ControlFlow::Continue(())
        })?;
    }
    Ok(picked)
}

/// `ZSCAN key cursor [MATCH pattern] [COUNT count]`
pub(crate) fn zscan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    parse_cursor(&args[2]).ok_or(CommandError::InvalidCursor)?;
    let Some(zset) = ZSet::load(ctx, &args[1])? else {
        return Ok(Frame::Array(vec![Frame::Bulk(Bytes::from_static(b"0")), Frame::Array(Vec::new())]));
    };
    let scan = collection::parse_scan_args(args)?;
    if zset.is_listpack() {
        // Redis returns a listpack whole, in its (score) order.
        let mut found = Vec::new();
        zset.visit_all(ctx, false, &mut |m, s| {
            if scan.pattern.as_ref().is_none_or(|p| glob::matches(p, m, false)) {
                found.push(Frame::Bulk(Bytes::copy_from_slice(m)));
                found.push(Frame::Bulk(Bytes::from(format_listpack_score(s))));
            }
            ControlFlow::Continue(())
        })?;
        return Ok(Frame::Array(vec![Frame::Bulk(Bytes::from_static(b"0")), Frame::Array(found)]));
    }
    let (generation, tag) = zset.scan_target();
    collection::scan_elements(ctx, &args[1], generation, &tag, &scan, false, &mut |member, stored, out| {
        out.push(Frame::Bulk(Bytes::copy_from_slice(member)));
        out.push(score_bulk(decode_member_value(stored)));
    })
}
