//! Redis 7.4's hash field expiry commands: HEXPIRE, HPEXPIRE, HEXPIREAT,
//! HPEXPIREAT, HTTL, HPTTL, HEXPIRETIME, HPEXPIRETIME and HPERSIST.
//!
//! Replies, error texts and the order of checks are Redis 7.4's
//! (`t_hash.c`): the key's type first, then the time, the condition, the
//! `FIELDS` keyword and the field count. Each field gets its own code:
//! HEXPIRE answers -2 (no such field), 0 (condition not met), 1 (set) or 2
//! (deleted: the time is not in the future); HTTL answers -2 (no such
//! field), -1 (no expiry) or the time; HPERSIST -2, -1 or 1 (removed).
//!
//! Times are judged by `ctx.ks.now_ms()`: the entry's leader time in apply,
//! so HEXPIRE's relative times and its "already expired" decision are the
//! same on every replica, and the reading node's clock in HTTL.

use bytes::Bytes;
use rand::Rng;
use resp::Frame;
use storage::field_expiry;

use super::super::args::parse_i64;
use super::super::collection::{self, Collection};
use super::super::expire::opt_is;
use super::super::set::sample::Element;
use super::super::Ctx;
use super::store::{self, ttls};
use crate::error::CommandError;

/// The latest expiry Redis accepts (`HFE_MAX_ABS_TIME_MSEC`: its 48-bit
/// expiry field less two bits kept for future use).
const EXPIRE_AT_MS_MAX: i64 = ((1 << 48) - 1) >> 2;

/// The field does not exist (or has expired).
const NO_FIELD: i64 = -2;
/// HTTL/HPERSIST: the field exists without an expiry.
const NO_TTL: i64 = -1;
/// HEXPIRE: the NX/XX/GT/LT condition was not met.
const NOT_MET: i64 = 0;
/// HEXPIRE: the expiry was set; HPERSIST: it was removed.
const DONE: i64 = 1;
/// HEXPIRE: the time is not in the future, so the field was deleted.
const DELETED: i64 = 2;

const FIELDS_MISSING: &str = "Mandatory argument FIELDS is missing or not at the right position";
const NUMFIELDS_MISMATCH: &str = "The `numfields` parameter must match the number of arguments";
/// HEXPIRE's error for a bad field count; HTTL and HPERSIST say [`COUNT_NOT_POSITIVE`].
const COUNT_NOT_GREATER_THAN_ZERO: &str = "Parameter `numFields` should be greater than 0";
const COUNT_NOT_POSITIVE: &str = "Number of fields must be a positive integer";

/// HEXPIRE's NX/XX/GT/LT.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Condition {
    Always,
    /// Only fields without an expiry.
    Nx,
    /// Only fields with an expiry.
    Xx,
    /// Only a later expiry (a field without one has none to exceed).
    Gt,
    /// Only an earlier expiry (no expiry counts as infinite).
    Lt,
}

impl Condition {
    fn parse(arg: &[u8]) -> Option<Self> {
        [("nx", Condition::Nx), ("xx", Condition::Xx), ("gt", Condition::Gt), ("lt", Condition::Lt)]
            .into_iter()
            .find(|(name, _)| opt_is(arg, name))
            .map(|(_, cond)| cond)
    }

    fn allows(self, previous_ms: Option<u64>, next_ms: u64) -> bool {
        match (self, previous_ms) {
            (Condition::Always, _) => true,
            (Condition::Nx, previous) => previous.is_none(),
            (Condition::Xx, previous) => previous.is_some(),
            (Condition::Gt, None) => false,
            (Condition::Gt, Some(previous)) => next_ms > previous,
            (Condition::Lt, None) => true,
            (Condition::Lt, Some(previous)) => next_ms < previous,
        }
    }
}

/// The fields of `FIELDS numfields field...` starting at `args[fields_at]`.
fn fields_arg<'a>(args: &'a [Bytes], fields_at: usize, count_error: &str) -> Result<&'a [Bytes], CommandError> {
    if !args.get(fields_at).is_some_and(|arg| opt_is(arg, "fields")) {
        return Err(CommandError::err(FIELDS_MISSING));
    }
    let count = args.get(fields_at + 1).and_then(|arg| parse_i64(arg)).filter(|n| *n >= 1);
    let count = count.ok_or_else(|| CommandError::err(count_error))?;
    let fields = &args[(fields_at + 2).min(args.len())..];
    if u64::try_from(count).ok() != Some(fields.len() as u64) {
        return Err(CommandError::err(NUMFIELDS_MISMATCH));
    }
    Ok(fields)
}

fn codes(codes: impl IntoIterator<Item = i64>) -> Frame {
    Frame::Array(codes.into_iter().map(Frame::Integer).collect())
}

/// The expiry of a live field's element `name`, `None` without one.
fn expiry_of(ctx: &Ctx<'_>, key: &[u8], hash: &Collection, name: &[u8]) -> Result<Option<u64>, CommandError> {
    if ttls(hash).fields == 0 {
        return Ok(None);
    }
    Ok(field_expiry::field_expire_at(&*ctx.ks, ctx.db, key, hash.generation(), name)?)
}

/// The absolute expiry (Unix ms) an HEXPIRE-family time argument names.
fn expire_at_arg(ctx: &Ctx<'_>, arg: &[u8], name: &str, relative: bool, seconds: bool) -> Result<u64, CommandError> {
    let mut at = parse_i64(arg).ok_or(CommandError::NotInteger)?;
    if at < 0 {
        return Err(CommandError::err("invalid expire time, must be >= 0"));
    }
    if seconds {
        if at > EXPIRE_AT_MS_MAX / 1000 {
            return Err(CommandError::InvalidExpireTime(name.into()));
        }
        at *= 1000;
    }
    let base = if relative { i64::try_from(ctx.ks.now_ms()).unwrap_or(i64::MAX) } else { 0 };
    if at > EXPIRE_AT_MS_MAX.saturating_sub(base) {
        return Err(CommandError::InvalidExpireTime(name.into()));
    }
    Ok((at + base) as u64)
}

/// HEXPIRE, HPEXPIRE, HEXPIREAT and HPEXPIREAT:
/// `key time [NX|XX|GT|LT] FIELDS numfields field...`.
fn hexpire_generic(
    ctx: &mut Ctx<'_>,
    args: &[Bytes],
    name: &str,
    relative: bool,
    seconds: bool,
) -> Result<Frame, CommandError> {
    let key = &args[1];
    let hash = store::load_for_write(ctx, key)?;
    let expire_at_ms = expire_at_arg(ctx, &args[2], name, relative, seconds)?;
    let condition = Condition::parse(&args[3]);
    let fields_at = if condition.is_some() { 4 } else { 3 };
    let fields = fields_arg(args, fields_at, COUNT_NOT_GREATER_THAN_ZERO)?;
    let Some(mut hash) = hash else { return Ok(codes(fields.iter().map(|_| NO_FIELD))) };
    let condition = condition.unwrap_or(Condition::Always);
    let encoding_before = hash.value.header.encoding;
    store::mark_listpack_ex(&mut hash);
    let mut changed = hash.value.header.encoding != encoding_before;
    let now_ms = ctx.ks.now_ms();
    let mut replies = Vec::with_capacity(fields.len());
    for field in fields {
        let element = collection::hashed_name(field);
        if ctx.ks.sub_get(ctx.db, key, hash.generation(), &element)?.is_none() {
            replies.push(NO_FIELD);
            continue;
        }
        if !condition.allows(expiry_of(ctx, key, &hash, &element)?, expire_at_ms) {
            replies.push(NOT_MET);
            continue;
        }
        changed = true;
        if expire_at_ms <= now_ms {
            store::delete_field(ctx, key, &mut hash, field)?;
            replies.push(DELETED);
            continue;
        }
        let mut summary = ttls(&hash);
        let at = (ctx.db, &key[..], hash.generation());
        field_expiry::set_field_expire(&mut *ctx.ks, at, &mut summary, &element, expire_at_ms)?;
        // The bounds are recomputed by `save`.
        hash.meta.extra = summary.encode();
        replies.push(DONE);
    }
    if changed {
        store::save(ctx, key, &mut hash)?;
    }
    Ok(codes(replies))
}

/// `HEXPIRE key seconds [NX|XX|GT|LT] FIELDS numfields field...`
pub(super) fn hexpire(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    hexpire_generic(ctx, args, "hexpire", true, true)
}

/// `HPEXPIRE key milliseconds [NX|XX|GT|LT] FIELDS numfields field...`
pub(super) fn hpexpire(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    hexpire_generic(ctx, args, "hpexpire", true, false)
}

/// `HEXPIREAT key unix-time-seconds [NX|XX|GT|LT] FIELDS numfields field...`
pub(super) fn hexpireat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    hexpire_generic(ctx, args, "hexpireat", false, true)
}

/// `HPEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT] FIELDS numfields field...`
pub(super) fn hpexpireat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    hexpire_generic(ctx, args, "hpexpireat", false, false)
}

/// HTTL, HPTTL, HEXPIRETIME and HPEXPIRETIME: `key FIELDS numfields
/// field...`. Times count from `now_ms` when `relative`, from the epoch
/// otherwise; seconds round up, as Redis's `(expire + 999 - base) / 1000`.
fn httl_generic(ctx: &mut Ctx<'_>, args: &[Bytes], relative: bool, seconds: bool) -> Result<Frame, CommandError> {
    let key = &args[1];
    let hash = store::load(ctx, key)?;
    let fields = fields_arg(args, 2, COUNT_NOT_POSITIVE)?;
    let Some(hash) = hash else { return Ok(codes(fields.iter().map(|_| NO_FIELD))) };
    let now_ms = ctx.ks.now_ms();
    let base_ms = if relative { now_ms } else { 0 };
    let mut replies = Vec::with_capacity(fields.len());
    for field in fields {
        let element = collection::hashed_name(field);
        if ctx.ks.sub_get(ctx.db, key, hash.generation(), &element)?.is_none() {
            replies.push(NO_FIELD);
            continue;
        }
        let reply = match expiry_of(ctx, key, &hash, &element)? {
            None => NO_TTL,
            Some(at) if at <= now_ms => NO_FIELD,
            Some(at) if seconds => ((at + 999 - base_ms) / 1000) as i64,
            Some(at) => (at - base_ms) as i64,
        };
        replies.push(reply);
    }
    Ok(codes(replies))
}

/// `HTTL key FIELDS numfields field...`: seconds to live.
pub(super) fn httl(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    httl_generic(ctx, args, true, true)
}

/// `HPTTL key FIELDS numfields field...`: milliseconds to live.
pub(super) fn hpttl(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    httl_generic(ctx, args, true, false)
}

/// `HEXPIRETIME key FIELDS numfields field...`: Unix time in seconds.
pub(super) fn hexpiretime(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    httl_generic(ctx, args, false, true)
}

/// `HPEXPIRETIME key FIELDS numfields field...`: Unix time in milliseconds.
pub(super) fn hpexpiretime(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    httl_generic(ctx, args, false, false)
}

/// `HPERSIST key FIELDS numfields field...`: 1 for each field whose expiry
/// was removed, -1 for a field without one, -2 for a missing field.
pub(super) fn hpersist(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let key = &args[1];
    let hash = store::load_for_write(ctx, key)?;
    let fields = fields_arg(args, 2, COUNT_NOT_POSITIVE)?;
    let Some(mut hash) = hash else { return Ok(codes(fields.iter().map(|_| NO_FIELD))) };
    let mut replies = Vec::with_capacity(fields.len());
    let mut changed = false;
    for field in fields {
        let element = collection::hashed_name(field);
        if ctx.ks.sub_get(ctx.db, key, hash.generation(), &element)?.is_none() {
            replies.push(NO_FIELD);
        } else if store::clear_ttl(ctx, key, &mut hash, &element)? {
            changed = true;
            replies.push(DONE);
        } else {
            replies.push(NO_TTL);
        }
    }
    if changed {
        store::save(ctx, key, &mut hash)?;
    }
    Ok(codes(replies))
}

/// Whether some field of `hash` may have expired without being reclaimed
/// (then random picks must skip it).
pub(super) fn has_expired_fields(ctx: &Ctx<'_>, hash: &Collection) -> bool {
    ttls(hash).may_have_expired(ctx.ks.now_ms())
}

/// Random live fields: `wanted` picks that may repeat, or `wanted`
/// distinct ones (all of them if there are fewer). Reads the whole hash:
/// only for hashes holding expired fields, whose buckets cannot be seeked
/// blindly.
pub(super) fn sample_live(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    hash: &Collection,
    wanted: u64,
    repeat: bool,
) -> Result<Vec<Element>, CommandError> {
    let live: Vec<Element> = store::all_pairs(ctx, key, hash)?
        .into_iter()
        .map(|(field, value)| Element { name: collection::hashed_name(&field), value: value.to_vec() })
        .collect();
    if live.is_empty() {
        return Ok(live);
    }
    let wanted = usize::try_from(wanted).unwrap_or(usize::MAX);
    if repeat {
        return Ok((0..wanted).map(|_| live[ctx.rng.gen_range(0..live.len())].clone()).collect());
    }
    if wanted >= live.len() {
        return Ok(live);
    }
    let picked = rand::seq::index::sample(&mut *ctx.rng, live.len(), wanted);
    Ok(picked.into_iter().map(|i| live[i].clone()).collect())
}
