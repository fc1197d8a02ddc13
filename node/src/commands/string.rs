//! The string commands: GET, SET and its variants, counters, ranges, LCS.
//!
//! Replies and error texts follow Redis 7.2 byte for byte, including the
//! order in which arguments are validated (a syntax error wins over a bad
//! number, which wins over WRONGTYPE where Redis checks in that order),
//! because clients and test suites depend on it.
//!
//! Writes keep or drop the TTL exactly as Redis does: SET, GETSET and MSET
//! replace it, while APPEND, SETRANGE and the counters keep it.
//!
//! collections: SET, GETSET and MSET overwrite a key of any type with a
//! single `put`; the elements of a replaced collection are left to whatever
//! reclaims the subkeys of an overwritten generation.
//!
//! `OBJECT ENCODING` is answered from the value and a hint in its header
//! (see [`encoding`]): Redis stores small integers as "int", short strings as
//! "embstr" and others as "raw", but APPEND and SETRANGE always leave a
//! "raw" string behind and INCRBYFLOAT never produces an "int".

use bytes::{Bytes, BytesMut};
use resp::Frame;
use storage::{StoredValue, ValueKind};

use super::args::{int_arg, parse_i64};
use super::expire::{expire_arg_ms, now_ms, opt_is, ExpireArg, TimeUnit};
use super::long_double::LongDouble;
use super::{CommandSpec, Ctx, Flags, Group};
use crate::error::CommandError;

/// Redis's default `proto-max-bulk-len`: no string may grow beyond it.
pub const STRING_BYTES_MAX: u64 = 512 * 1024 * 1024;

/// Values of [`storage::ValueHeader::encoding`] for strings.
pub mod encoding {
    /// As Redis's `tryObjectEncoding` leaves a value it was given (SET,
    /// MSET, INCR, ...): "int" if it is a 64-bit integer, else "embstr" up
    /// to 44 bytes, else "raw".
    pub const AUTO: u8 = 0;
    /// Modified in place (APPEND, SETRANGE): always "raw".
    pub const RAW: u8 = 1;
    /// Created from a formatted number without re-encoding (INCRBYFLOAT):
    /// "embstr" up to 44 bytes, else "raw", never "int".
    pub const NOT_INT: u8 = 2;
    /// A private copy of a shared small integer (COPY): "int", refcount 1.
    pub const INT_UNSHARED: u8 = 3;
}

/// Strings up to this length are allocated with their object ("embstr").
const EMBSTR_BYTES_MAX: usize = 44;
/// Redis shares one object for each integer below this (refcount INT_MAX).
const SHARED_INTEGERS: i64 = 10_000;

/// The name `OBJECT ENCODING` gives a string value.
pub fn encoding_name(value: &StoredValue) -> &'static str {
    let len = value.payload.len();
    let by_length = if len <= EMBSTR_BYTES_MAX { "embstr" } else { "raw" };
    match value.header.encoding {
        encoding::RAW => "raw",
        encoding::NOT_INT => by_length,
        encoding::INT_UNSHARED => "int",
        _ if parse_i64(&value.payload).is_some() => "int",
        _ => by_length,
    }
}

/// The reference count `OBJECT REFCOUNT` reports for a string value.
pub fn refcount(value: &StoredValue) -> i64 {
    let shared = value.header.encoding == encoding::AUTO
        && parse_i64(&value.payload).is_some_and(|n| (0..SHARED_INTEGERS).contains(&n));
    if shared {
        i32::MAX as i64
    } else {
        1
    }
}

/// The encoding hint a COPY of `value` gets: a copy of a shared integer is
/// a private "int" object; everything else keeps its encoding.
pub fn copied_encoding(value: &StoredValue) -> u8 {
    if refcount(value) > 1 {
        encoding::INT_UNSHARED
    } else {
        value.header.encoding
    }
}

/// The live string at `key`: `None` if absent.
///
/// # Errors
/// [`CommandError::WrongType`] if the key holds another type.
pub(crate) fn get_string(ctx: &Ctx<'_>, key: &[u8]) -> Result<Option<StoredValue>, CommandError> {
    match ctx.ks.get(ctx.db, key)? {
        Some(v) if v.header.kind != ValueKind::String => Err(CommandError::WrongType),
        other => Ok(other),
    }
}

fn bulk_or_null(value: Option<&StoredValue>) -> Frame {
    value.map_or(Frame::Null, |v| Frame::Bulk(v.payload.clone()))
}

/// A string value with an encoding hint.
fn string_value(payload: impl Into<Bytes>, expire_at_ms: u64, hint: u8) -> StoredValue {
    let mut value = StoredValue::string(payload, expire_at_ms);
    value.header.encoding = hint;
    value
}

/// Redis's `checkStringLength`.
fn check_length(existing: u64, added: u64) -> Result<(), CommandError> {
    match existing.checked_add(added) {
        Some(total) if total <= STRING_BYTES_MAX => Ok(()),
        _ => Err(CommandError::StringTooLong),
    }
}

/// `GET key`
fn get(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    Ok(bulk_or_null(get_string(ctx, &args[1])?.as_ref()))
}

/// The options SET and GETEX accept, parsed with Redis's compatibility
/// rules (`parseExtendedStringArgumentsOrReply`): each may repeat, but no
/// two kinds of expiry, and KEEPTTL/PERSIST exclude any expiry.
#[derive(Default)]
struct StringOptions<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    expire: Option<ExpireArg<'a>>,
    /// Valkey 8.1's `IFEQ value`: set only if the current string equals it.
    ifeq: Option<&'a Bytes>,
}

impl<'a> StringOptions<'a> {
    fn parse(options: &'a [Bytes], for_set: bool) -> Result<Self, CommandError> {
        let mut o = StringOptions::default();
        let mut at = 0;
        while at < options.len() {
            let opt = &options[at];
            let next = options.get(at + 1);
            let expiry = |unit, absolute| -> Option<ExpireArg<'a>> {
                let compatible =
                    !o.keepttl && !o.persist && o.expire.is_none_or(|e| e.unit == unit && e.absolute == absolute);
                next.filter(|_| compatible).map(|raw| ExpireArg { raw, unit, absolute })
            };
            if for_set && opt_is(opt, "nx") && !o.xx && o.ifeq.is_none() {
                o.nx = true;
            } else if for_set && opt_is(opt, "xx") && !o.nx && o.ifeq.is_none() {
                o.xx = true;
            } else if for_set && opt_is(opt, "ifeq") && !o.nx && !o.xx && next.is_some() {
                o.ifeq = next;
                at += 1;
            } else if for_set && opt_is(opt, "get") {
                o.get = true;
            } else if for_set && opt_is(opt, "keepttl") && !o.persist && o.expire.is_none() {
                o.keepttl = true;
            } else if !for_set && opt_is(opt, "persist") && !o.keepttl && o.expire.is_none() {
                o.persist = true;
            } else if let Some(arg) = [
                ("ex", TimeUnit::Seconds, false),
                ("px", TimeUnit::Millis, false),
                ("exat", TimeUnit::Seconds, true),
                ("pxat", TimeUnit::Millis, true),
            ]
            .iter()
            .find(|(name, ..)| opt_is(opt, name))
            .and_then(|&(_, unit, absolute)| expiry(unit, absolute))
            {
                o.expire = Some(arg);
                at += 1;
            } else {
                return Err(CommandError::Syntax);
            }
            at += 1;
        }
        Ok(o)
    }
}

/// # Format
/// ```text
/// SET key value [NX | XX | IFEQ comparison-value] [GET] [EX seconds |
///   PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]
/// ```
/// IFEQ (from Valkey 8.1) is a compare-and-set: the write happens only if
/// the key holds a string equal to the comparison value; a missing key is
/// not set and a key of another type is WRONGTYPE.
fn set(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let options = StringOptions::parse(&args[3..], true)?;
    let expire_at = options.expire.map(|e| expire_arg_ms(ctx, e, "set")).transpose()?;
    let key = &args[1];
    let old = if options.get || options.ifeq.is_some() { get_string(ctx, key)? } else { ctx.ks.get(ctx.db, key)? };
    let found = old.is_some();
    let old_reply = || bulk_or_null(old.as_ref());
    let ifeq_failed = options.ifeq.is_some_and(|expected| old.as_ref().is_none_or(|v| v.payload != *expected));
    if (options.nx && found) || (options.xx && !found) || ifeq_failed {
        return Ok(if options.get { old_reply() } else { Frame::Null });
    }
    let expire_at_ms = match (expire_at, &old) {
        (Some(at), _) => at,
        (None, Some(old)) if options.keepttl => old.header.expire_at_ms,
        _ => 0,
    };
    ctx.ks.put(ctx.db, key, string_value(args[2].clone(), expire_at_ms, encoding::AUTO))?;
    Ok(if options.get { old_reply() } else { Frame::ok() })
}

/// `SETNX key value`: 1 if set, 0 if the key existed.
fn setnx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    if ctx.ks.get(ctx.db, &args[1])?.is_some() {
        return Ok(Frame::Integer(0));
    }
    ctx.ks.put(ctx.db, &args[1], string_value(args[2].clone(), 0, encoding::AUTO))?;
    Ok(Frame::Integer(1))
}

/// SETEX and PSETEX: SET with a mandatory relative expiry.
fn set_with_ttl(ctx: &mut Ctx<'_>, args: &[Bytes], unit: TimeUnit, command: &str) -> Result<Frame, CommandError> {
    let expire_at_ms = expire_arg_ms(ctx, ExpireArg { raw: &args[2], unit, absolute: false }, command)?;
    ctx.ks.put(ctx.db, &args[1], string_value(args[3].clone(), expire_at_ms, encoding::AUTO))?;
    Ok(Frame::ok())
}

/// `SETEX key seconds value`
fn setex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    set_with_ttl(ctx, args, TimeUnit::Seconds, "setex")
}

/// `PSETEX key milliseconds value`
fn psetex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    set_with_ttl(ctx, args, TimeUnit::Millis, "psetex")
}

/// `GETSET key value`: the old value; the new one has no TTL.
fn getset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let old = get_string(ctx, &args[1])?;
    ctx.ks.put(ctx.db, &args[1], string_value(args[2].clone(), 0, encoding::AUTO))?;
    Ok(bulk_or_null(old.as_ref()))
}

/// `GETDEL key`
fn getdel(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let old = get_string(ctx, &args[1])?;
    if old.is_some() {
        ctx.ks.delete(ctx.db, &args[1])?;
    }
    Ok(bulk_or_null(old.as_ref()))
}

/// # Format
/// ```text
/// GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds |
///   PXAT unix-time-milliseconds | PERSIST]
/// ```
/// An EXAT/PXAT in the past deletes the key (after replying its value).
fn getex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let options = StringOptions::parse(&args[2..], false)?;
    let key = &args[1];
    let Some(mut value) = get_string(ctx, key)? else { return Ok(Frame::Null) };
    let expire_at = options.expire.map(|e| expire_arg_ms(ctx, e, "getex")).transpose()?;
    let reply = Frame::Bulk(value.payload.clone());
    match (expire_at, options.expire) {
        (Some(at), Some(arg)) if arg.absolute && at as i64 <= now_ms(ctx) => {
            ctx.ks.delete(ctx.db, key)?;
        }
        (Some(at), _) => {
            value.header.expire_at_ms = at;
            ctx.ks.put(ctx.db, key, value)?;
        }
        _ if options.persist && value.header.expire_at_ms != 0 => {
            value.header.expire_at_ms = 0;
            ctx.ks.put(ctx.db, key, value)?;
        }
        _ => {}
    }
    Ok(reply)
}

/// `MGET key [key ...]`: nil for missing keys and for keys of other types.
fn mget(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let mut replies = Vec::with_capacity(args.len() - 1);
    for key in &args[1..] {
        let value = ctx.ks.get(ctx.db, key)?.filter(|v| v.header.kind == ValueKind::String);
        replies.push(bulk_or_null(value.as_ref()));
    }
    Ok(Frame::Array(replies))
}

/// MSET and MSETNX: every pair is set (dropping TTLs), in order.
fn mset_generic(ctx: &mut Ctx<'_>, args: &[Bytes], nx: bool) -> Result<Frame, CommandError> {
    // Key-value pairs after the name: an odd count overall.
    if args.len() % 2 != 1 {
        return Err(CommandError::WrongArity(if nx { "msetnx" } else { "mset" }.into()));
    }
    if nx {
        for pair in args[1..].chunks_exact(2) {
            if ctx.ks.get(ctx.db, &pair[0])?.is_some() {
                return Ok(Frame::Integer(0));
            }
        }
    }
    for pair in args[1..].chunks_exact(2) {
        ctx.ks.put(ctx.db, &pair[0], string_value(pair[1].clone(), 0, encoding::AUTO))?;
    }
    Ok(if nx { Frame::Integer(1) } else { Frame::ok() })
}

/// `MSET key value [key value ...]`
fn mset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    mset_generic(ctx, args, false)
}

/// `MSETNX key value [key value ...]`: all or nothing.
fn msetnx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    mset_generic(ctx, args, true)
}

/// `APPEND key value`: the new length.
fn append(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let (key, tail) = (&args[1], &args[2]);
    let Some(old) = get_string(ctx, key)? else {
        ctx.ks.put(ctx.db, key, string_value(tail.clone(), 0, encoding::AUTO))?;
        return Ok(Frame::Integer(tail.len() as i64));
    };
    check_length(old.payload.len() as u64, tail.len() as u64)?;
    let mut joined = BytesMut::with_capacity(old.payload.len() + tail.len());
    joined.extend_from_slice(&old.payload);
    joined.extend_from_slice(tail);
    let len = joined.len();
    ctx.ks.put(ctx.db, key, string_value(joined.freeze(), old.header.expire_at_ms, encoding::RAW))?;
    Ok(Frame::Integer(len as i64))
}

/// `STRLEN key`: 0 for a missing key.
fn strlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let len = get_string(ctx, &args[1])?.map_or(0, |v| v.payload.len());
    Ok(Frame::Integer(len as i64))
}

/// `SETRANGE key offset value`: the new length. Writing nothing changes
/// nothing (a missing key stays missing); gaps are filled with zero bytes.
fn setrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let (key, patch) = (&args[1], &args[3]);
    let offset = int_arg(&args[2])?;
    let offset = u64::try_from(offset).map_err(|_| CommandError::err("offset is out of range"))?;
    let old = get_string(ctx, key)?;
    if patch.is_empty() {
        return Ok(Frame::Integer(old.map_or(0, |v| v.payload.len() as i64)));
    }
    check_length(offset, patch.len() as u64)?;
    // Within STRING_BYTES_MAX, so it fits in usize.
    let offset = offset as usize;
    let (mut buf, expire_at_ms) = match &old {
        Some(v) => (BytesMut::from(&v.payload[..]), v.header.expire_at_ms),
        None => (BytesMut::new(), 0),
    };
    let end = offset + patch.len();
    if buf.len() < end {
        buf.resize(end, 0);
    }
    buf[offset..end].copy_from_slice(patch);
    let len = buf.len();
    ctx.ks.put(ctx.db, key, string_value(buf.freeze(), expire_at_ms, encoding::RAW))?;
    Ok(Frame::Integer(len as i64))
}

/// `GETRANGE key start end` (and its alias SUBSTR): inclusive, negative
/// indexes count from the end, out-of-range ends are clamped.
fn getrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let start = int_arg(&args[2])?;
    let end = int_arg(&args[3])?;
    let Some(value) = get_string(ctx, &args[1])? else { return Ok(Frame::Bulk(Bytes::new())) };
    let empty = Ok(Frame::Bulk(Bytes::new()));
    // Redis 7.2 (7.0 differs): two negative indexes out of order give an
    // empty string before clamping, so `GETRANGE k -100 -200` is "" rather
    // than the first byte.
    if start < 0 && end < 0 && start > end {
        return empty;
    }
    let len = value.payload.len() as i128;
    let (mut start, mut end) = (start as i128, end as i128);
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    let start = start.max(0);
    let end = end.max(0).min(len - 1);
    if len == 0 || start > end {
        return empty;
    }
    Ok(Frame::Bulk(value.payload.slice(start as usize..=end as usize)))
}

/// INCR, DECR, INCRBY and DECRBY: the value must be a 64-bit integer; the
/// key keeps its TTL.
fn incr_by(ctx: &mut Ctx<'_>, key: &Bytes, increment: i64) -> Result<Frame, CommandError> {
    let old = get_string(ctx, key)?;
    let current = match &old {
        Some(v) => parse_i64(&v.payload).ok_or(CommandError::NotInteger)?,
        None => 0,
    };
    let next = current.checked_add(increment).ok_or(CommandError::Overflow)?;
    let expire_at_ms = old.map_or(0, |v| v.header.expire_at_ms);
    ctx.ks.put(ctx.db, key, string_value(next.to_string(), expire_at_ms, encoding::AUTO))?;
    Ok(Frame::Integer(next))
}

/// `INCR key`
fn incr(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    incr_by(ctx, &args[1], 1)
}

/// `DECR key`
fn decr(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    incr_by(ctx, &args[1], -1)
}

/// `INCRBY key increment`
fn incrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let increment = int_arg(&args[2])?;
    incr_by(ctx, &args[1], increment)
}

/// `DECRBY key decrement`
fn decrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let decrement = int_arg(&args[2])?;
    let increment = decrement.checked_neg().ok_or_else(|| CommandError::err("decrement would overflow"))?;
    incr_by(ctx, &args[1], increment)
}

/// `INCRBYFLOAT key increment`: computed in x87 `long double` like Redis on
/// x86-64 (see [`super::long_double`]), replied and stored as Redis formats
/// it; the key keeps its TTL.
fn incrbyfloat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let key = &args[1];
    let old = get_string(ctx, key)?;
    let current = match &old {
        Some(v) => LongDouble::parse(&v.payload).ok_or(CommandError::NotFloat)?,
        None => LongDouble::parse(b"0").ok_or(CommandError::NotFloat)?,
    };
    let increment = LongDouble::parse(&args[2]).ok_or(CommandError::NotFloat)?;
    let sum = current.add(&increment).filter(LongDouble::is_finite).ok_or(CommandError::NanOrInfinity)?;
    let text = Bytes::from(sum.to_human_string());
    let expire_at_ms = old.map_or(0, |v| v.header.expire_at_ms);
    ctx.ks.put(ctx.db, key, string_value(text.clone(), expire_at_ms, encoding::NOT_INT))?;
    Ok(Frame::Bulk(text))
}

/// # Format
/// ```text
/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]
/// ```
/// The longest common subsequence by the classic dynamic programme, walked
/// back exactly as Redis walks it so IDX lists the same ranges in the same
/// order (last match first).
fn lcs(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let read = |key: &Bytes| -> Result<Bytes, CommandError> {
        match ctx.ks.get(ctx.db, key)? {
            Some(v) if v.header.kind != ValueKind::String => {
                Err(CommandError::err("The specified keys must contain string values"))
            }
            Some(v) => Ok(v.payload),
            None => Ok(Bytes::new()),
        }
    };
    let (a, b) = (read(&args[1])?, read(&args[2])?);
    let (mut want_len, mut want_idx, mut with_match_len, mut min_match_len) = (false, false, false, 0i64);
    let mut at = 3;
    while at < args.len() {
        let opt = &args[at];
        if opt_is(opt, "idx") {
            want_idx = true;
        } else if opt_is(opt, "len") {
            want_len = true;
        } else if opt_is(opt, "withmatchlen") {
            with_match_len = true;
        } else if opt_is(opt, "minmatchlen") && at + 1 < args.len() {
            min_match_len = int_arg(&args[at + 1])?.max(0);
            at += 1;
        } else {
            return Err(CommandError::Syntax);
        }
        at += 1;
    }
    if want_len && want_idx {
        return Err(CommandError::err("If you want both the length and indexes, please just use IDX."));
    }
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        return Err(CommandError::err("String too long for LCS"));
    }
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    if cells.saturating_mul(4) > STRING_BYTES_MAX {
        return Err(CommandError::err("Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"));
    }
    // table[i * (blen + 1) + j] is the LCS length of a[..i] and b[..j].
    let width = blen + 1;
    let mut table = vec![0u32; cells as usize];
    for i in 1..=alen {
        for j in 1..=blen {
            table[i * width + j] = if a[i - 1] == b[j - 1] {
                table[(i - 1) * width + j - 1] + 1
            } else {
                table[(i - 1) * width + j].max(table[i * width + j - 1])
            };
        }
    }
    let total = table[alen * width + blen];
    if want_len {
        return Ok(Frame::Integer(total as i64));
    }
    let mut result = vec![0u8; total as usize];
    let mut matches = Vec::new();
    let mut idx = total as usize;
    let (mut i, mut j) = (alen, blen);
    // The current range, as Redis tracks it; `alen` as a start means none.
    let (mut a_start, mut a_end, mut b_start, mut b_end) = (alen, 0usize, 0usize, 0usize);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[idx - 1] = a[i - 1];
            if a_start == alen {
                (a_start, a_end, b_start, b_end) = (i - 1, i - 1, j - 1, j - 1);
            } else if a_start == i && b_start == j {
                a_start -= 1;
                b_start -= 1;
            } else {
                emit = true;
            }
            if a_start == 0 || b_start == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if table[(i - 1) * width + j] > table[i * width + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if a_start != alen {
                emit = true;
            }
        }
        let match_len = a_end.wrapping_sub(a_start).wrapping_add(1);
        if emit {
            if want_idx && (min_match_len == 0 || match_len as i64 >= min_match_len) {
                let mut entry = vec![
                    Frame::Array(vec![Frame::Integer(a_start as i64), Frame::Integer(a_end as i64)]),
                    Frame::Array(vec![Frame::Integer(b_start as i64), Frame::Integer(b_end as i64)]),
                ];
                if with_match_len {
                    entry.push(Frame::Integer(match_len as i64));
                }
                matches.push(Frame::Array(entry));
            }
            a_start = alen;
        }
    }
    if want_idx {
        return Ok(Frame::Map(vec![
            (Frame::Bulk(Bytes::from_static(b"matches")), Frame::Array(matches)),
            (Frame::Bulk(Bytes::from_static(b"len")), Frame::Integer(total as i64)),
        ]));
    }
    Ok(Frame::Bulk(Bytes::from(result)))
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
    CommandSpec::data(Group::String, name, arity, flags, keys, since, summary, handler)
}

const READ: Flags = Flags::READONLY;
const READ_FAST: Flags = Flags::READONLY.union(Flags::FAST);
const WRITE_FAST: Flags = Flags::WRITE.union(Flags::FAST);
const WRITE_DENYOOM: Flags = Flags::WRITE.union(Flags::DENYOOM);
const WRITE_DENYOOM_FAST: Flags = Flags::WRITE.union(Flags::DENYOOM).union(Flags::FAST);
const ONE_KEY: (i32, i32, i32) = (1, 1, 1);

/// Summaries are Redis 7.2's (7.0 words them differently).
pub static COMMANDS: &[CommandSpec] = &[
    spec("get", 2, READ_FAST, ONE_KEY, "1.0.0", "Returns the string value of a key.", get),
    spec(
        "set",
        -3,
        WRITE_DENYOOM,
        ONE_KEY,
        "1.0.0",
        "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
        set,
    ),
    spec(
        "setnx",
        3,
        WRITE_DENYOOM_FAST,
        ONE_KEY,
        "1.0.0",
        "Set the string value of a key only when the key doesn't exist.",
        setnx,
    ),
    spec(
        "setex",
        4,
        WRITE_DENYOOM,
        ONE_KEY,
        "2.0.0",
        "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.",
        setex,
    ),
    spec(
        "psetex",
        4,
        WRITE_DENYOOM,
        ONE_KEY,
        "2.6.0",
        "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.",
        psetex,
    ),
    spec(
        "getset",
        3,
        WRITE_DENYOOM_FAST,
        ONE_KEY,
        "1.0.0",
        "Returns the previous string value of a key after setting it to a new value.",
        getset,
    ),
    spec(
        "getdel",
        2,
        WRITE_FAST,
        ONE_KEY,
        "6.2.0",
        "Returns the string value of a key after deleting the key.",
        getdel,
    ),
    spec(
        "getex",
        -2,
        WRITE_FAST,
        ONE_KEY,
        "6.2.0",
        "Returns the string value of a key after setting its expiration time.",
        getex,
    ),
    spec("mget", -2, READ_FAST, (1, -1, 1), "1.0.0", "Atomically returns the string values of one or more keys.", mget),
    spec(
        "mset",
        -3,
        WRITE_DENYOOM,
        (1, -1, 2),
        "1.0.1",
        "Atomically creates or modifies the string values of one or more keys.",
        mset,
    ),
    spec(
        "msetnx",
        -3,
        WRITE_DENYOOM,
        (1, -1, 2),
        "1.0.1",
        "Atomically modifies the string values of one or more keys only when all keys don't exist.",
        msetnx,
    ),
    spec(
        "append",
        3,
        WRITE_DENYOOM_FAST,
        ONE_KEY,
        "2.0.0",
        "Appends a string to the value of a key. Creates the key if it doesn't exist.",
        append,
    ),
    spec("strlen", 2, READ_FAST, ONE_KEY, "2.2.0", "Returns the length of a string value.", strlen),
    spec(
        "setrange",
        4,
        WRITE_DENYOOM,
        ONE_KEY,
        "2.2.0",
        "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.",
        setrange,
    ),
    spec("getrange", 4, READ, ONE_KEY, "2.4.0", "Returns a substring of the string stored at a key.", getrange),
    spec("substr", 4, READ, ONE_KEY, "1.0.0", "Returns a substring from a string value.", getrange),
    spec(
        "incr",
        2,
        WRITE_DENYOOM_FAST,
        ONE_KEY,
        "1.0.0",
        "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
        incr,
    ),
    spec(
        "decr",
        2,
        WRITE_DENYOOM_FAST,
        ONE_KEY,
        "1.0.0",
        "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
        decr,
    ),
    spec(
        "incrby",
        3,
        WRITE_DENYOOM_FAST,
        ONE_KEY,
        "1.0.0",
        "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
        incrby,
    ),
    spec(
        "decrby",
        3,
        WRITE_DENYOOM_FAST,
        ONE_KEY,
        "1.0.0",
        "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.",
        decrby,
    ),
    spec(
        "incrbyfloat",
        3,
        WRITE_DENYOOM_FAST,
        ONE_KEY,
        "2.6.0",
        "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
        incrbyfloat,
    ),
    spec("lcs", -3, READ, (1, 2, 1), "7.0.0", "Finds the longest common substring.", lcs),
];

#[cfg(test)]
#[path = "string_tests.rs"]
mod tests;
