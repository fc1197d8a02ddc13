//! The bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD
//! and BITFIELD_RO.
//!
//! A bitmap is a plain string (see [`super::string`]): bit 0 is the most
//! significant bit of the first byte, and bits past the end read as 0.
//! Writes pad the string with zero bytes up to the highest bit they touch,
//! keep its TTL (BITOP replaces its destination, TTL included) and leave a
//! "raw" string behind, as Redis's `dbUnshareStringValue` does.
//!
//! Replies, error texts and the order in which arguments are checked are
//! Redis 7.2's: BITCOUNT and BITPOS validate their whole argument list before
//! looking at the key (7.0 answered 0 for a missing key whatever followed).
//!
//! Cost: a string is one stored value, so a write rewrites it whole where
//! Redis updates it in place (O(length) instead of O(1) for SETBIT and
//! BITFIELD on a long bitmap); counting and searching scan only the range
//! asked for.

mod bitfield;

use bytes::Bytes;
use resp::Frame;
use storage::StoredValue;

use super::args::{int_arg, parse_i64};
use super::expire::opt_is;
use super::string::{encoding, get_string, STRING_BYTES_MAX};
use super::{CommandSpec, Ctx, Flags, Group};
use crate::error::CommandError;

const BIT_OFFSET_ERR: &str = "bit offset is not an integer or out of range";

/// Redis's `getBitOffsetFromArgument`: a bit offset that stays within a
/// string of `STRING_BYTES_MAX` bytes. With `hash_bits` (BITFIELD), `#n`
/// means the n-th field of that width.
fn bit_offset(arg: &[u8], hash_bits: Option<u32>) -> Result<u64, CommandError> {
    let err = || CommandError::err(BIT_OFFSET_ERR);
    let (digits, width) = match (arg.first(), hash_bits) {
        (Some(b'#'), Some(bits)) => (&arg[1..], Some(bits)),
        _ => (arg, None),
    };
    let mut offset = parse_i64(digits).ok_or_else(err)?;
    if let Some(bits) = width {
        // Redis multiplies without an overflow check; a wrapped product is
        // then judged like any other offset.
        offset = offset.wrapping_mul(i64::from(bits));
    }
    if offset < 0 || (offset as u64 >> 3) >= STRING_BYTES_MAX {
        return Err(err());
    }
    Ok(offset as u64)
}

/// The bit at `offset` (0 past the end).
fn bit_at(bytes: &[u8], offset: u64) -> u8 {
    let byte = usize::try_from(offset >> 3).ok().and_then(|i| bytes.get(i)).copied().unwrap_or(0);
    (byte >> (7 - (offset & 7))) & 1
}

/// The bytes of the string at a key about to be written, padded with zero
/// bytes to at least `min_len`, and its expiry.
fn grown(old: Option<&StoredValue>, min_len: usize) -> (Vec<u8>, u64) {
    let (mut bytes, expire_at_ms) = match old {
        Some(v) => (v.payload.to_vec(), v.header.expire_at_ms),
        None => (Vec::new(), 0),
    };
    if bytes.len() < min_len {
        bytes.resize(min_len, 0);
    }
    (bytes, expire_at_ms)
}

/// Stores a string modified in place: "raw", with the expiry it had.
fn put_raw_string(ctx: &mut Ctx<'_>, key: &[u8], bytes: Vec<u8>, expire_at_ms: u64) -> Result<(), CommandError> {
    let mut value = StoredValue::string(bytes, expire_at_ms);
    value.header.encoding = encoding::RAW;
    ctx.ks.put(ctx.db, key, value)?;
    Ok(())
}

/// `SETBIT key offset value`: the bit's previous value. Redis counts the
/// key as modified even when the bit already had the value.
fn setbit(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let offset = bit_offset(&args[2], None)?;
    let bit_err = || CommandError::err("bit is not an integer or out of range");
    let on = parse_i64(&args[3]).ok_or_else(bit_err)?;
    if on & !1 != 0 {
        return Err(bit_err());
    }
    let key = &args[1];
    let old = get_string(ctx, key)?;
    // Below STRING_BYTES_MAX bytes (checked by bit_offset), so it fits.
    let byte = (offset >> 3) as usize;
    let (mut bytes, expire_at_ms) = grown(old.as_ref(), byte + 1);
    let shift = 7 - (offset & 7) as u32;
    let was = (bytes[byte] >> shift) & 1;
    bytes[byte] = (bytes[byte] & !(1 << shift)) | ((on as u8) << shift);
    put_raw_string(ctx, key, bytes, expire_at_ms)?;
    Ok(Frame::Integer(i64::from(was)))
}

/// `GETBIT key offset`
fn getbit(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let offset = bit_offset(&args[2], None)?;
    let bit = get_string(ctx, &args[1])?.map_or(0, |v| bit_at(&v.payload, offset));
    Ok(Frame::Integer(i64::from(bit)))
}

/// The BIT|BYTE unit of BITCOUNT and BITPOS ranges: whether it is BIT.
fn range_unit_is_bit(arg: &[u8]) -> Result<bool, CommandError> {
    if opt_is(arg, "bit") {
        Ok(true)
    } else if opt_is(arg, "byte") {
        Ok(false)
    } else {
        Err(CommandError::Syntax)
    }
}

/// A BITCOUNT/BITPOS range of a string of `len` bytes as an inclusive range
/// of bit offsets, converted as Redis does: negative indexes count from the
/// end, then both ends are clamped to the string. `None` when empty.
fn bit_range(len: usize, start: i64, end: i64, in_bits: bool) -> Option<(u64, u64)> {
    // At most STRING_BYTES_MAX * 8, far from overflowing.
    let total = if in_bits { len as i64 * 8 } else { len as i64 };
    let (mut start, mut end) = (start, end);
    if start < 0 {
        start += total;
    }
    if end < 0 {
        end += total;
    }
    let start = start.max(0);
    let end = end.max(0).min(total - 1);
    if start > end {
        return None;
    }
    let (start, end) = (start as u64, end as u64);
    Some(if in_bits { (start, end) } else { (start * 8, end * 8 + 7) })
}

/// Set bits in a byte slice, a word at a time.
fn popcount(bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(8);
    let mut count: u64 =
        words.by_ref().map(|w| u64::from(u64::from_ne_bytes(w.try_into().unwrap_or([0; 8])).count_ones())).sum();
    count += words.remainder().iter().map(|b| u64::from(b.count_ones())).sum::<u64>();
    count
}

/// Set bits among the bits `first..=last`, which lie within `bytes`.
fn count_bits(bytes: &[u8], first: u64, last: u64) -> u64 {
    let (first_byte, last_byte) = ((first >> 3) as usize, (last >> 3) as usize);
    let whole = popcount(&bytes[first_byte..=last_byte]);
    // The bits of the edge bytes that lie outside the range.
    let before = !(0xffu8 >> (first & 7));
    let after = ((1u16 << (7 - (last & 7))) - 1) as u8;
    whole - u64::from((bytes[first_byte] & before).count_ones()) - u64::from((bytes[last_byte] & after).count_ones())
}

/// `BITCOUNT key [start end [BYTE | BIT]]`
fn bitcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let range = match args.len() {
        2 => None,
        4 | 5 => {
            let start = int_arg(&args[2])?;
            let end = int_arg(&args[3])?;
            let in_bits = if args.len() == 5 { range_unit_is_bit(&args[4])? } else { false };
            Some((start, end, in_bits))
        }
        _ => return Err(CommandError::Syntax),
    };
    let value = get_string(ctx, &args[1])?;
    let zero = Ok(Frame::Integer(0));
    let Some(value) = value else { return zero };
    let bytes = &value.payload;
    let bits = match range {
        None if bytes.is_empty() => None,
        None => Some((0, bytes.len() as u64 * 8 - 1)),
        // Two negative indexes out of order are empty before any clamping.
        Some((start, end, _)) if start < 0 && end < 0 && start > end => None,
        Some((start, end, in_bits)) => bit_range(bytes.len(), start, end, in_bits),
    };
    let Some((first, last)) = bits else { return zero };
    Ok(Frame::Integer(count_bits(bytes, first, last) as i64))
}

/// The first bit equal to `bit` among the bits `first..=last`, which lie
/// within `bytes`. Whole bytes that cannot hold it are skipped.
fn find_bit(bytes: &[u8], first: u64, last: u64, bit: u8) -> Option<u64> {
    let skip = if bit == 1 { 0x00 } else { 0xff };
    let mut pos = first;
    while pos <= last {
        if pos & 7 == 0 && last - pos >= 7 {
            let from = (pos >> 3) as usize;
            let to = ((last + 1) >> 3) as usize;
            match bytes[from..to].iter().position(|&b| b != skip) {
                // The byte holds the bit: the loop below finds it.
                Some(at) => pos = ((from + at) as u64) << 3,
                None => {
                    pos = (to as u64) << 3;
                    continue;
                }
            }
        }
        if bit_at(bytes, pos) == bit {
            return Some(pos);
        }
        pos += 1;
    }
    None
}

/// `BITPOS key bit [start [end [BYTE | BIT]]]`: the first bit set (or
/// clear) in the range, or -1. Without an end, a string is taken as
/// followed by clear bits, so looking for 0 in all ones gives the bit just
/// past the string; with an end, -1.
fn bitpos(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let bit = int_arg(&args[2])?;
    if bit != 0 && bit != 1 {
        return Err(CommandError::err("The bit argument must be 1 or 0."));
    }
    let bit = bit as u8;
    let range = match args.len() {
        3 => None,
        4..=6 => {
            let start = int_arg(&args[3])?;
            let in_bits = if args.len() == 6 { range_unit_is_bit(&args[5])? } else { false };
            let end = if args.len() >= 5 { Some(int_arg(&args[4])?) } else { None };
            Some((start, end, in_bits))
        }
        _ => return Err(CommandError::Syntax),
    };
    let Some(value) = get_string(ctx, &args[1])? else {
        // A missing key is an endless run of clear bits.
        return Ok(Frame::Integer(if bit == 1 { -1 } else { 0 }));
    };
    let bytes = &value.payload;
    let len = bytes.len();
    let end_given = matches!(range, Some((_, Some(_), _)));
    let bits = match range {
        None if len == 0 => None,
        None => Some((0, len as u64 * 8 - 1)),
        Some((start, end, in_bits)) => bit_range(len, start, end.unwrap_or(len as i64 - 1), in_bits),
    };
    let Some((first, last)) = bits else { return Ok(Frame::Integer(-1)) };
    let pos = match find_bit(bytes, first, last, bit) {
        Some(pos) => pos as i64,
        None if bit == 1 || end_given => -1,
        None => last as i64 + 1,
    };
    Ok(Frame::Integer(pos))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// `BITOP <AND | OR | XOR | NOT> destkey key [key ...]`: the length of the
/// result, as long as the longest source (shorter ones are zero-padded). An
/// empty result deletes the destination.
fn bitop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let op = [("and", BitOp::And), ("or", BitOp::Or), ("xor", BitOp::Xor), ("not", BitOp::Not)]
        .into_iter()
        .find(|(name, _)| opt_is(&args[1], name))
        .map(|(_, op)| op)
        .ok_or(CommandError::Syntax)?;
    if op == BitOp::Not && args.len() != 4 {
        return Err(CommandError::err("BITOP NOT must be called with a single source key."));
    }
    let mut sources = Vec::with_capacity(args.len() - 3);
    for key in &args[3..] {
        sources.push(get_string(ctx, key)?.map(|v| v.payload).unwrap_or_default());
    }
    let dest = &args[2];
    let max_len = sources.iter().map(Bytes::len).max().unwrap_or(0);
    if max_len == 0 {
        ctx.ks.delete(ctx.db, dest)?;
        return Ok(Frame::Integer(0));
    }
    let byte = |source: &Bytes, at: usize| source.get(at).copied().unwrap_or(0);
    let result: Vec<u8> = (0..max_len)
        .map(|at| {
            let first = byte(&sources[0], at);
            sources[1..].iter().fold(if op == BitOp::Not { !first } else { first }, |acc, s| match op {
                BitOp::And => acc & byte(s, at),
                BitOp::Or => acc | byte(s, at),
                BitOp::Xor => acc ^ byte(s, at),
                BitOp::Not => acc,
            })
        })
        .collect();
    // A new value: the destination loses any TTL it had.
    put_raw_string(ctx, dest, result, 0)?;
    Ok(Frame::Integer(max_len as i64))
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
    CommandSpec::data(Group::Bitmap, name, arity, flags, keys, since, summary, handler)
}

const WRITE_DENYOOM: Flags = Flags::WRITE.union(Flags::DENYOOM);
const READ_FAST: Flags = Flags::READONLY.union(Flags::FAST);
const ONE_KEY: (i32, i32, i32) = (1, 1, 1);

/// Flags and key specs are Redis's: BITFIELD is a write even when it only
/// has GETs (BITFIELD_RO is the read-only form); summaries are 7.2's.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "setbit",
        4,
        WRITE_DENYOOM,
        ONE_KEY,
        "2.2.0",
        "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist.",
        setbit,
    ),
    spec("getbit", 3, READ_FAST, ONE_KEY, "2.2.0", "Returns a bit value by offset.", getbit),
    spec(
        "bitcount",
        -2,
        Flags::READONLY,
        ONE_KEY,
        "2.6.0",
        "Counts the number of set bits (population counting) in a string.",
        bitcount,
    ),
    spec(
        "bitpos",
        -3,
        Flags::READONLY,
        ONE_KEY,
        "2.8.7",
        "Finds the first set (1) or clear (0) bit in a string.",
        bitpos,
    ),
    spec(
        "bitop",
        -4,
        WRITE_DENYOOM,
        (2, -1, 1),
        "2.6.0",
        "Performs bitwise operations on multiple strings, and stores the result.",
        bitop,
    ),
    spec(
        "bitfield",
        -2,
        WRITE_DENYOOM,
        ONE_KEY,
        "3.2.0",
        "Performs arbitrary bitfield integer operations on strings.",
        bitfield::bitfield,
    ),
    spec(
        "bitfield_ro",
        -2,
        READ_FAST,
        ONE_KEY,
        "6.0.0",
        "Performs arbitrary read-only bitfield integer operations on strings.",
        bitfield::bitfield_ro,
    ),
];

#[cfg(test)]
mod tests;
