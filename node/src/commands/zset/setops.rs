//! ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD: Redis's
//! `zunionInterDiffGenericCommand`.
//!
//! Inputs may be sorted sets or plain sets (whose members score 1). Sets are
//! read through the layout every hashed collection shares (one element per
//! member, named [`collection::hashed_name`]), not through the set
//! module.
//!
//! Floating-point results depend on the order scores are combined in, so it
//! is Redis's: inputs sorted by size (a stable sort, like glibc's `qsort`
//! on these small arrays), each member's scores folded in that order. The
//! result is sorted by (score, member), as Redis's destination skiplist is.

use std::collections::HashMap;
use std::ops::{Bound, ControlFlow};

use bytes::Bytes;
use resp::Frame;
use storage::ValueKind;

use super::read::store_new;
use super::score::{cmp_scores, parse_score};
use super::scored_reply;
use super::store::{encoding, Scored, ZSet, LISTPACK_ENTRIES_MAX, LISTPACK_VALUE_MAX};
use crate::commands::args::{int_arg, parse_i64};
use crate::commands::collection::{self, Collection};
use crate::commands::expire::opt_is;
use crate::commands::Ctx;
use crate::error::CommandError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    /// `zunionInterAggregate`: a sum of `inf` and `-inf` is 0; a NaN
    /// candidate never wins a min or max.
    fn fold(self, target: &mut f64, value: f64) {
        match self {
            Aggregate::Sum => {
                *target += value;
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Aggregate::Min => {
                if value < *target {
                    *target = value;
                }
            }
            Aggregate::Max => {
                if value > *target {
                    *target = value;
                }
            }
        }
    }
}

/// One input key.
enum Input {
    Missing,
    Sorted(ZSet),
    Plain { key: Bytes, set: Collection },
}

impl Input {
    fn load(ctx: &Ctx<'_>, key: &Bytes) -> Result<Input, CommandError> {
        match ctx.ks.get(ctx.db, key)? {
            None => Ok(Input::Missing),
            Some(value) if value.header.kind == ValueKind::ZSet => {
                Ok(ZSet::load(ctx, key)?.map_or(Input::Missing, Input::Sorted))
            }
            Some(value) if value.header.kind == ValueKind::Set => Ok(collection::load(ctx, key, ValueKind::Set)?
                .map_or(Input::Missing, |set| Input::Plain { key: key.clone(), set })),
            Some(_) => Err(CommandError::WrongType),
        }
    }

    fn len(&self) -> u64 {
        match self {
            Input::Missing => 0,
            Input::Sorted(z) => z.len(),
            Input::Plain { set, .. } => set.meta.len,
        }
    }

    /// Visits every member with its score (1 for a plain set's).
    fn visit(&self, ctx: &Ctx<'_>, visit: &mut dyn FnMut(&[u8], f64) -> ControlFlow<()>) -> Result<(), CommandError> {
        match self {
            Input::Missing => Ok(()),
            Input::Sorted(z) => z.visit_all(ctx, false, visit),
            Input::Plain { key, set } => {
                ctx.ks.sub_scan(
                    ctx.db,
                    key,
                    set.generation(),
                    (Bound::Unbounded, Bound::Unbounded),
                    false,
                    &mut |name, _| visit(collection::member_of(name), 1.0),
                )?;
                Ok(())
            }
        }
    }

    fn find(&self, ctx: &Ctx<'_>, member: &[u8]) -> Result<Option<f64>, CommandError> {
        match self {
            Input::Missing => Ok(None),
            Input::Sorted(z) => z.score(ctx, member),
            Input::Plain { key, set } => {
                Ok(ctx.ks.sub_get(ctx.db, key, set.generation(), &collection::hashed_name(member))?.map(|_| 1.0))
            }
        }
    }
}

/// `ZUNION numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`
pub(crate) fn zunion(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    generic(ctx, args, None, SetOp::Union, false)
}

/// `ZINTER numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`
pub(crate) fn zinter(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    generic(ctx, args, None, SetOp::Inter, false)
}

/// `ZDIFF numkeys key [key ...] [WITHSCORES]`
pub(crate) fn zdiff(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    generic(ctx, args, None, SetOp::Diff, false)
}

/// `ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS ...] [AGGREGATE ...]`
pub(crate) fn zunionstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    generic(ctx, args, Some(&args[1]), SetOp::Union, false)
}

/// `ZINTERSTORE destination numkeys key [key ...] [WEIGHTS ...] [AGGREGATE ...]`
pub(crate) fn zinterstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    generic(ctx, args, Some(&args[1]), SetOp::Inter, false)
}

/// `ZDIFFSTORE destination numkeys key [key ...]`
pub(crate) fn zdiffstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    generic(ctx, args, Some(&args[1]), SetOp::Diff, false)
}

/// `ZINTERCARD numkeys key [key ...] [LIMIT limit]`
pub(crate) fn zintercard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    generic(ctx, args, None, SetOp::Inter, true)
}

fn generic(
    ctx: &mut Ctx<'_>,
    args: &[Bytes],
    dst: Option<&Bytes>,
    op: SetOp,
    card_only: bool,
) -> Result<Frame, CommandError> {
    let numkeys_at = if dst.is_some() { 2 } else { 1 };
    let numkeys = int_arg(&args[numkeys_at])?;
    if numkeys < 1 {
        let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
        return Err(CommandError::err(format!("at least 1 input key is needed for '{name}' command")));
    }
    let first_key = numkeys_at + 1;
    if numkeys as u64 > (args.len() - first_key) as u64 {
        return Err(CommandError::Syntax);
    }
    let numkeys = numkeys as usize;
    let mut inputs = Vec::with_capacity(numkeys);
    for key in &args[first_key..first_key + numkeys] {
        inputs.push(Input::load(ctx, key)?);
    }
    let mut weights = vec![1.0f64; numkeys];
    let mut aggregate = Aggregate::Sum;
    let mut withscores = false;
    let mut limit: u64 = 0;
    let mut at = first_key + numkeys;
    while at < args.len() {
        let remaining = args.len() - at;
        let opt = &args[at];
        if op != SetOp::Diff && !card_only && remaining > numkeys && opt_is(opt, "weights") {
            for (i, weight) in weights.iter_mut().enumerate() {
                *weight =
                    parse_score(&args[at + 1 + i]).ok_or_else(|| CommandError::err("weight value is not a float"))?;
            }
            at += 1 + numkeys;
        } else if op != SetOp::Diff && !card_only && remaining >= 2 && opt_is(opt, "aggregate") {
            let name = &args[at + 1];
            aggregate = if opt_is(name, "sum") {
                Aggregate::Sum
            } else if opt_is(name, "min") {
                Aggregate::Min
            } else if opt_is(name, "max") {
                Aggregate::Max
            } else {
                return Err(CommandError::Syntax);
            };
            at += 2;
        } else if dst.is_none() && !card_only && opt_is(opt, "withscores") {
            withscores = true;
            at += 1;
        } else if card_only && remaining >= 2 && opt_is(opt, "limit") {
            limit = parse_i64(&args[at + 1])
                .and_then(|n| u64::try_from(n).ok())
                .ok_or_else(|| CommandError::err("LIMIT can't be negative"))?;
            at += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let mut sources: Vec<(Input, f64)> = inputs.into_iter().zip(weights).collect();
    if op != SetOp::Diff {
        sources.sort_by_key(|(input, _)| input.len());
    }
    let mut result = Vec::new();
    let mut cardinality = 0u64;
    match op {
        SetOp::Union => union(ctx, &sources, aggregate, &mut result)?,
        SetOp::Inter => inter(ctx, &sources, aggregate, card_only, limit, &mut result, &mut cardinality)?,
        SetOp::Diff => diff(ctx, &sources, &mut result)?,
    }
    if card_only {
        return Ok(Frame::Integer(cardinality as i64));
    }
    result.sort_by(|a, b| cmp_scores(a.score, b.score).then_with(|| a.member.cmp(&b.member)));
    match dst {
        Some(dst) => {
            let count = result.len() as i64;
            let longest = result.iter().map(|s| s.member.len()).max().unwrap_or(0);
            // Redis builds a skiplist and turns it into a listpack if it fits.
            let fits = result.len() as u64 <= LISTPACK_ENTRIES_MAX && longest <= LISTPACK_VALUE_MAX;
            store_new(ctx, dst, result, if fits { encoding::LISTPACK } else { encoding::SKIPLIST })?;
            Ok(Frame::Integer(count))
        }
        None => Ok(scored_reply(ctx.resp3, result, withscores)),
    }
}

/// A weighted score; NaN (0 times infinity) counts as 0.
fn weighted(score: f64, weight: f64) -> f64 {
    let product = score * weight;
    if product.is_nan() {
        0.0
    } else {
        product
    }
}

fn union(
    ctx: &Ctx<'_>,
    sources: &[(Input, f64)],
    aggregate: Aggregate,
    out: &mut Vec<Scored>,
) -> Result<(), CommandError> {
    let mut acc: HashMap<Bytes, f64> = HashMap::new();
    for (input, weight) in sources {
        input.visit(ctx, &mut |member, score| {
            let value = weighted(score, *weight);
            match acc.get_mut(member) {
                Some(total) => aggregate.fold(total, value),
                None => {
                    acc.insert(Bytes::copy_from_slice(member), value);
                }
            }
            ControlFlow::Continue(())
        })?;
    }
    out.extend(acc.into_iter().map(|(member, score)| Scored { member, score }));
    Ok(())
}

fn inter(
    ctx: &Ctx<'_>,
    sources: &[(Input, f64)],
    aggregate: Aggregate,
    card_only: bool,
    limit: u64,
    out: &mut Vec<Scored>,
    cardinality: &mut u64,
) -> Result<(), CommandError> {
    let Some(((smallest, weight), others)) = sources.split_first() else { return Ok(()) };
    if smallest.len() == 0 {
        return Ok(());
    }
    let mut failure = None;
    smallest.visit(ctx, &mut |member, score| {
        let mut total = weighted(score, *weight);
        for (input, w) in others {
            match input.find(ctx, member) {
                // Unlike the first input's, these products are folded even
                // when NaN, as Redis does.
                Ok(Some(found)) => aggregate.fold(&mut total, found * w),
                Ok(None) => return ControlFlow::Continue(()),
                Err(e) => {
                    failure = Some(e);
                    return ControlFlow::Break(());
                }
            }
        }
        if card_only {
            *cardinality += 1;
            if limit > 0 && *cardinality >= limit {
                return ControlFlow::Break(());
            }
        } else {
            out.push(Scored { member: Bytes::copy_from_slice(member), score: total });
        }
        ControlFlow::Continue(())
    })?;
    failure.map_or(Ok(()), Err)
}

fn diff(ctx: &Ctx<'_>, sources: &[(Input, f64)], out: &mut Vec<Scored>) -> Result<(), CommandError> {
    let Some(((first, _), others)) = sources.split_first() else { return Ok(()) };
    let mut failure = None;
    first.visit(ctx, &mut |member, score| {
        for (input, _) in others {
            match input.find(ctx, member) {
                Ok(Some(_)) => return ControlFlow::Continue(()),
                Ok(None) => {}
                Err(e) => {
                    failure = Some(e);
                    return ControlFlow::Break(());
                }
            }
        }
        out.push(Scored { member: Bytes::copy_from_slice(member), score });
        ControlFlow::Continue(())
    })?;
    failure.map_or(Ok(()), Err)
}
