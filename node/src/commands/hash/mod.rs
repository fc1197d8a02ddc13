//! The hash commands: HSET and friends, counters, HRANDFIELD and HSCAN,
//! and Redis 7.4's field expiry commands (HEXPIRE and friends, in [`ttl`]).
//!
//! Replies, error texts and the order of checks are Redis 7.2's (7.4's for
//! field expiry).
//!
//! # Layout
//! - this file: the commands of Redis 7.2 and the command table.
//! - [`store`]: reading and writing fields, the encoding rules, and how
//!   expired fields are hidden from reads and reclaimed before writes.
//! - [`ttl`]: HEXPIRE, HPEXPIRE, HEXPIREAT, HPEXPIREAT, HTTL, HPTTL,
//!   HEXPIRETIME, HPEXPIRETIME and HPERSIST.
//!
//! # Storage
//! A hash is a collection (see [`super::collection`]): its metadata counts
//! the fields, and each field is one element named
//! [`collection::hashed_name`]`(field)` whose value is the field's value.
//! Every command touches only the fields it names, except those Redis also
//! makes O(n) (HGETALL, HKEYS, HVALS). Field expiries live beside the
//! fields (see [`store`] and `storage::field_expiry`).
//!
//! # Encoding
//! `OBJECT ENCODING` says "listpack" for hashes Redis would keep as one:
//! at most 512 fields (`hash-max-listpack-entries`' default, unlike sets'
//! and sorted sets' 128), every field and value at most 64 bytes. Redis
//! converts to "hashtable" when a write crosses either limit and never
//! converts back, even when the hash shrinks again, so the conversion is
//! remembered in the header's encoding byte ([`encoding::HASHTABLE`]); so
//! is 7.4's "listpackex" for a listpack that has had field expiries.
//! Whether a hash is small also decides HSCAN's shape: Redis returns a
//! listpack whole, with cursor 0.

mod store;
mod ttl;

use bytes::Bytes;
use resp::Frame;

use super::args::{int_arg, parse_i64};
use super::collection;
use super::keys::parse_cursor;
use super::long_double::LongDouble;
use super::set::sample::{self, Element};
use super::{CommandSpec, Ctx, Flags, Group};
use crate::error::CommandError;
use store::{
    all_pairs, get_field, is_listpack, live_len, load, load_for_write, load_or_create_for_write, save, set_field,
    try_conversion,
};

pub use store::{encoding, encoding_name};

fn bulk(bytes: impl Into<Bytes>) -> Frame {
    Frame::Bulk(bytes.into())
}

fn bulk_or_null(value: Option<Vec<u8>>) -> Frame {
    value.map_or(Frame::Null, bulk)
}

/// HSET and HMSET: `key field value [field value ...]`.
fn hset_generic(ctx: &mut Ctx<'_>, args: &[Bytes], name: &str) -> Result<i64, CommandError> {
    if args.len() % 2 == 1 {
        return Err(CommandError::WrongArity(name.into()));
    }
    let key = &args[1];
    let mut hash = load_or_create_for_write(ctx, key)?;
    try_conversion(&mut hash, &args[2..]);
    let mut created = 0;
    for pair in args[2..].chunks_exact(2) {
        if set_field(ctx, key, &mut hash, &pair[0], &pair[1], false)? {
            created += 1;
        }
    }
    save(ctx, key, &mut hash)?;
    Ok(created)
}

/// `HSET key field value [field value ...]`: the number of new fields.
fn hset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    Ok(Frame::Integer(hset_generic(ctx, args, "hset")?))
}

/// `HMSET key field value [field value ...]`: OK.
fn hmset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    hset_generic(ctx, args, "hmset")?;
    Ok(Frame::ok())
}

/// `HSETNX key field value`: 1 if set, 0 if the field existed (and then
/// nothing is written).
fn hsetnx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let key = &args[1];
    let mut hash = load_or_create_for_write(ctx, key)?;
    if !hash.created && get_field(ctx, key, &hash, &args[2])?.is_some() {
        return Ok(Frame::Integer(0));
    }
    try_conversion(&mut hash, &args[2..4]);
    set_field(ctx, key, &mut hash, &args[2], &args[3], false)?;
    save(ctx, key, &mut hash)?;
    Ok(Frame::Integer(1))
}

/// `HGET key field`
fn hget(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let Some(hash) = load(ctx, &args[1])? else { return Ok(Frame::Null) };
    Ok(bulk_or_null(get_field(ctx, &args[1], &hash, &args[2])?))
}

/// `HMGET key field [field ...]`: nil for each missing field, all nils for
/// a missing key.
fn hmget(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let hash = load(ctx, &args[1])?;
    let mut replies = Vec::with_capacity(args.len() - 2);
    for field in &args[2..] {
        let value = match &hash {
            Some(hash) => get_field(ctx, &args[1], hash, field)?,
            None => None,
        };
        replies.push(bulk_or_null(value));
    }
    Ok(Frame::Array(replies))
}

/// `HDEL key field [field ...]`: how many fields were removed; the key goes
/// with its last field.
fn hdel(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let key = &args[1];
    let Some(mut hash) = load_for_write(ctx, key)? else { return Ok(Frame::Integer(0)) };
    let mut deleted = 0;
    for field in &args[2..] {
        if store::delete_field(ctx, key, &mut hash, field)? {
            deleted += 1;
            if hash.meta.len == 0 {
                break;
            }
        }
    }
    if deleted > 0 {
        save(ctx, key, &mut hash)?;
    }
    Ok(Frame::Integer(deleted))
}

/// `HLEN key`
fn hlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let Some(hash) = load(ctx, &args[1])? else { return Ok(Frame::Integer(0)) };
    Ok(Frame::Integer(live_len(ctx, &args[1], &hash)? as i64))
}

/// `HSTRLEN key field`: 0 for a missing field or key.
fn hstrlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let Some(hash) = load(ctx, &args[1])? else { return Ok(Frame::Integer(0)) };
    Ok(Frame::Integer(get_field(ctx, &args[1], &hash, &args[2])?.map_or(0, |v| v.len() as i64)))
}

/// `HEXISTS key field`
fn hexists(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let Some(hash) = load(ctx, &args[1])? else { return Ok(Frame::Integer(0)) };
    Ok(Frame::Integer(get_field(ctx, &args[1], &hash, &args[2])?.is_some() as i64))
}

/// `HKEYS key`
fn hkeys(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let Some(hash) = load(ctx, &args[1])? else { return Ok(Frame::Array(Vec::new())) };
    Ok(Frame::Array(all_pairs(ctx, &args[1], &hash)?.into_iter().map(|(f, _)| Frame::Bulk(f)).collect()))
}

/// `HVALS key`
fn hvals(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let Some(hash) = load(ctx, &args[1])? else { return Ok(Frame::Array(Vec::new())) };
    Ok(Frame::Array(all_pairs(ctx, &args[1], &hash)?.into_iter().map(|(_, v)| Frame::Bulk(v)).collect()))
}

/// `HGETALL key`: a map in RESP3, a flat field/value array in RESP2.
fn hgetall(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let Some(hash) = load(ctx, &args[1])? else { return Ok(Frame::Map(Vec::new())) };
    let pairs = all_pairs(ctx, &args[1], &hash)?;
    Ok(Frame::Map(pairs.into_iter().map(|(f, v)| (Frame::Bulk(f), Frame::Bulk(v))).collect()))
}

/// `HINCRBY key field increment`: the field must hold a 64-bit integer;
/// a missing field counts as 0.
fn hincrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let increment = int_arg(&args[3])?;
    let (key, field) = (&args[1], &args[2]);
    let mut hash = load_or_create_for_write(ctx, key)?;
    let current = match get_field(ctx, key, &hash, field)? {
        Some(v) => parse_i64(&v).ok_or_else(|| CommandError::err("hash value is not an integer"))?,
        None => 0,
    };
    let next = current.checked_add(increment).ok_or(CommandError::Overflow)?;
    set_field(ctx, key, &mut hash, field, next.to_string().as_bytes(), true)?;
    save(ctx, key, &mut hash)?;
    Ok(Frame::Integer(next))
}

/// `HINCRBYFLOAT key field increment`: long double arithmetic and
/// formatting, as INCRBYFLOAT (see [`super::long_double`]).
fn hincrbyfloat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let increment = LongDouble::parse(&args[3]).ok_or(CommandError::NotFloat)?;
    if !increment.is_finite() {
        return Err(CommandError::err("value is NaN or Infinity"));
    }
    let (key, field) = (&args[1], &args[2]);
    let mut hash = load_or_create_for_write(ctx, key)?;
    let current = match get_field(ctx, key, &hash, field)? {
        Some(v) => LongDouble::parse(&v).ok_or_else(|| CommandError::err("hash value is not a float"))?,
        None => LongDouble::parse(b"0").ok_or(CommandError::NotFloat)?,
    };
    let sum = current.add(&increment).filter(LongDouble::is_finite).ok_or(CommandError::NanOrInfinity)?;
    let text = Bytes::from(sum.to_human_string());
    set_field(ctx, key, &mut hash, field, &text, true)?;
    save(ctx, key, &mut hash)?;
    Ok(Frame::Bulk(text))
}

/// One HRANDFIELD element: the field alone, a `[field, value]` pair in
/// RESP3, or field then value flat in RESP2.
fn push_random_field(out: &mut Vec<Frame>, element: Element, with_values: bool, resp3: bool) {
    let field = Frame::Bulk(element.member());
    if !with_values {
        out.push(field);
    } else if resp3 {
        out.push(Frame::Array(vec![field, bulk(element.value)]));
    } else {
        out.push(field);
        out.push(bulk(element.value));
    }
}

/// # Format
/// ```text
/// HRANDFIELD key [count [WITHVALUES]]
/// ```
/// Without a count: one random field (nil for a missing key). With a
/// positive count: that many distinct fields, or the whole hash; with a
/// negative one: that many picks, which may repeat. Picks are seeks to
/// random buckets (see [`super::set::sample`]); a hash holding expired
/// fields not yet reclaimed is sampled from its live fields instead
/// ([`ttl::sample_live`], O(n)).
fn hrandfield(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let key = &args[1];
    if args.len() == 2 {
        let Some(hash) = load(ctx, key)? else { return Ok(Frame::Null) };
        let picked = if ttl::has_expired_fields(ctx, &hash) {
            ttl::sample_live(ctx, key, &hash, 1, false)?.pop()
        } else {
            sample::random_element(ctx, key, hash.generation())?
        };
        return Ok(picked.map_or(Frame::Null, |e| Frame::Bulk(e.member())));
    }
    let count = sample::count_arg(&args[2])?;
    let with_values = match args.len() {
        3 => false,
        4 if super::expire::opt_is(&args[3], "withvalues") => true,
        _ => return Err(CommandError::Syntax),
    };
    if with_values && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(CommandError::err("value is out of range"));
    }
    let Some(hash) = load(ctx, key)? else { return Ok(Frame::Array(Vec::new())) };
    let (len, generation) = (hash.meta.len, hash.generation());
    let wanted = count.unsigned_abs();
    let picks = if wanted == 0 {
        Vec::new()
    } else if ttl::has_expired_fields(ctx, &hash) {
        if count < 0 {
            sample::check_repeated_picks(wanted)?;
        }
        ttl::sample_live(ctx, key, &hash, wanted, count < 0)?
    } else if count < 0 || wanted == 1 {
        sample::check_repeated_picks(wanted)?;
        sample::repeated(ctx, key, generation, wanted)?
    } else if wanted >= len {
        sample::all(ctx, key, generation)?
    } else {
        sample::distinct(ctx, key, generation, len, wanted)?
    };
    let mut out = Vec::with_capacity(picks.len() * if with_values && !ctx.resp3 { 2 } else { 1 });
    for element in picks {
        push_random_field(&mut out, element, with_values, ctx.resp3);
    }
    Ok(Frame::Array(out))
}

/// `HSCAN key cursor [MATCH pattern] [COUNT count]`. As in Redis, the
/// options are only checked when the key exists.
fn hscan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    parse_cursor(&args[2]).ok_or(CommandError::InvalidCursor)?;
    let Some(hash) = load(ctx, &args[1])? else { return Ok(empty_scan()) };
    let scan = collection::parse_scan_args(args)?;
    let expired = store::expired_names(ctx, &args[1], &hash)?;
    collection::scan_elements(ctx, &args[1], hash.generation(), &[], &scan, is_listpack(&hash), &mut |f, v, out| {
        if !expired.is_empty() && expired.contains(&collection::hashed_name(f)) {
            return;
        }
        out.push(Frame::Bulk(Bytes::copy_from_slice(f)));
        out.push(Frame::Bulk(Bytes::copy_from_slice(v)));
    })
}

/// The reply of a scan over a missing key.
pub(crate) fn empty_scan() -> Frame {
    Frame::Array(vec![Frame::Bulk(Bytes::from_static(b"0")), Frame::Array(Vec::new())])
}

const fn spec(
    name: &'static str,
    arity: i32,
    flags: Flags,
    since: &'static str,
    summary: &'static str,
    handler: super::DataHandler,
) -> CommandSpec {
    CommandSpec::data(Group::Hash, name, arity, flags, (1, 1, 1), since, summary, handler)
}

const READ: Flags = Flags::READONLY;
const READ_FAST: Flags = Flags::READONLY.union(Flags::FAST);
const WRITE_FAST: Flags = Flags::WRITE.union(Flags::FAST);
const WRITE_DENYOOM_FAST: Flags = Flags::WRITE.union(Flags::DENYOOM).union(Flags::FAST);

/// Summaries are Redis 7.2's (7.4's for the field expiry commands).
pub static COMMANDS: &[CommandSpec] = &[
    spec("hset", -4, WRITE_DENYOOM_FAST, "2.0.0", "Creates or modifies the value of a field in a hash.", hset),
    spec(
        "hsetnx",
        4,
        WRITE_DENYOOM_FAST,
        "2.0.0",
        "Sets the value of a field in a hash only when the field doesn't exist.",
        hsetnx,
    ),
    spec("hget", 3, READ_FAST, "2.0.0", "Returns the value of a field in a hash.", hget),
    spec("hmget", -3, READ_FAST, "2.0.0", "Returns the values of all fields in a hash.", hmget),
    spec("hmset", -4, WRITE_DENYOOM_FAST, "2.0.0", "Sets the values of multiple fields.", hmset),
    spec(
        "hdel",
        -3,
        WRITE_FAST,
        "2.0.0",
        "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.",
        hdel,
    ),
    spec("hlen", 2, READ_FAST, "2.0.0", "Returns the number of fields in a hash.", hlen),
    spec("hstrlen", 3, READ_FAST, "3.2.0", "Returns the length of the value of a field.", hstrlen),
    spec("hexists", 3, READ_FAST, "2.0.0", "Determines whether a field exists in a hash.", hexists),
    spec("hkeys", 2, READ, "2.0.0", "Returns all fields in a hash.", hkeys),
    spec("hvals", 2, READ, "2.0.0", "Returns all values in a hash.", hvals),
    spec("hgetall", 2, READ, "2.0.0", "Returns all fields and values in a hash.", hgetall),
    spec(
        "hincrby",
        4,
        WRITE_DENYOOM_FAST,
        "2.0.0",
        "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.",
        hincrby,
    ),
    spec(
        "hincrbyfloat",
        4,
        WRITE_DENYOOM_FAST,
        "2.6.0",
        "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.",
        hincrbyfloat,
    ),
    spec("hrandfield", -2, READ, "6.2.0", "Returns one or more random fields from a hash.", hrandfield),
    spec("hscan", -3, READ, "2.8.0", "Iterates over fields and values of a hash.", hscan),
    spec(
        "hexpire",
        -6,
        WRITE_FAST,
        "7.4.0",
        "Set expiry for hash field using relative time to expire (seconds)",
        ttl::hexpire,
    ),
    spec(
        "hpexpire",
        -6,
        WRITE_FAST,
        "7.4.0",
        "Set expiry for hash field using relative time to expire (milliseconds)",
        ttl::hpexpire,
    ),
    spec(
        "hexpireat",
        -6,
        WRITE_FAST,
        "7.4.0",
        "Set expiry for hash field using an absolute Unix timestamp (seconds)",
        ttl::hexpireat,
    ),
    spec(
        "hpexpireat",
        -6,
        WRITE_FAST,
        "7.4.0",
        "Set expiry for hash field using an absolute Unix timestamp (milliseconds)",
        ttl::hpexpireat,
    ),
    spec("httl", -5, READ_FAST, "7.4.0", "Returns the TTL in seconds of a hash field.", ttl::httl),
    spec("hpttl", -5, READ_FAST, "7.4.0", "Returns the TTL in milliseconds of a hash field.", ttl::hpttl),
    spec(
        "hexpiretime",
        -5,
        READ_FAST,
        "7.4.0",
        "Returns the expiration time of a hash field as a Unix timestamp, in seconds.",
        ttl::hexpiretime,
    ),
    spec(
        "hpexpiretime",
        -5,
        READ_FAST,
        "7.4.0",
        "Returns the expiration time of a hash field as a Unix timestamp, in msec.",
        ttl::hpexpiretime,
    ),
    spec("hpersist", -5, WRITE_FAST, "7.4.0", "Removes the expiration time for each specified field", ttl::hpersist),
];

#[cfg(test)]
mod tests;
#[cfg(test)]
mod ttl_tests;
