//! BITFIELD and BITFIELD_RO: signed and unsigned integers of 1 to 64 bits
//! (unsigned up to 63, so every value fits a RESP integer) at any bit
//! offset, read and written most significant bit first, in SETBIT's bit
//! order.
//!
//! The whole argument list is parsed before the key is looked at, so a
//! syntax error anywhere wins over WRONGTYPE, as in Redis. Overflow
//! handling reproduces Redis's `check{Signed,Unsigned}BitfieldOverflow`
//! exactly, including its quirks (`SET i8 0 -9223372036854775808` counts as
//! an overflow *upwards*, so `OVERFLOW SAT` stores 127).

use bytes::Bytes;
use resp::Frame;

use super::{bit_offset, get_string, grown, put_raw_string};
use crate::commands::args::{int_arg, parse_i64};
use crate::commands::expire::opt_is;
use crate::commands::Ctx;
use crate::error::CommandError;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Get,
    Set,
    IncrBy,
}

/// One parsed subcommand.
#[derive(Clone, Copy, Debug)]
struct FieldOp {
    kind: Kind,
    signed: bool,
    bits: u32,
    offset: u64,
    /// The SET value or the INCRBY increment.
    value: i64,
    overflow: Overflow,
}

/// What an operation stores when its result does not fit the field.
enum Outcome<T> {
    Fits,
    Store(T),
    Fail,
}

/// `BITFIELD key [GET encoding offset | [OVERFLOW <WRAP | SAT | FAIL>]
///   <SET encoding offset value | INCRBY encoding offset increment> ...]`
pub(super) fn bitfield(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    run(ctx, args, false)
}

/// `BITFIELD_RO key [GET encoding offset ...]`
pub(super) fn bitfield_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    run(ctx, args, true)
}

/// Redis's `getBitfieldTypeFromArgument`: `i1`..`i64` or `u1`..`u63`.
fn field_type(arg: &[u8]) -> Result<(bool, u32), CommandError> {
    let err = || {
        CommandError::err(
            "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
        )
    };
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(err()),
    };
    // Redis reads the width as a C string: it ends at a NUL byte.
    let width = &arg[1..];
    let width = width.iter().position(|&b| b == 0).map_or(width, |nul| &width[..nul]);
    let bits = parse_i64(width).ok_or_else(err)?;
    if bits < 1 || bits > if signed { 64 } else { 63 } {
        return Err(err());
    }
    Ok((signed, bits as u32))
}

fn parse_ops(args: &[Bytes]) -> Result<Vec<FieldOp>, CommandError> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut at = 2;
    while at < args.len() {
        let remaining = args.len() - at - 1;
        let sub = &args[at];
        let kind = if opt_is(sub, "get") && remaining >= 2 {
            Kind::Get
        } else if opt_is(sub, "set") && remaining >= 3 {
            Kind::Set
        } else if opt_is(sub, "incrby") && remaining >= 3 {
            Kind::IncrBy
        } else if opt_is(sub, "overflow") && remaining >= 1 {
            let mode = &args[at + 1];
            overflow = if opt_is(mode, "wrap") {
                Overflow::Wrap
            } else if opt_is(mode, "sat") {
                Overflow::Sat
            } else if opt_is(mode, "fail") {
                Overflow::Fail
            } else {
                return Err(CommandError::err("Invalid OVERFLOW type specified"));
            };
            at += 2;
            continue;
        } else {
            return Err(CommandError::Syntax);
        };
        let (signed, bits) = field_type(&args[at + 1])?;
        let offset = bit_offset(&args[at + 2], Some(bits))?;
        let value = if kind == Kind::Get { 0 } else { int_arg(&args[at + 3])? };
        ops.push(FieldOp { kind, signed, bits, offset, value, overflow });
        at += if kind == Kind::Get { 3 } else { 4 };
    }
    Ok(ops)
}

/// The `bits`-bit unsigned integer at bit `offset` (bits past the end of
/// `bytes` read as 0).
fn get_unsigned(bytes: &[u8], offset: u64, bits: u32) -> u64 {
    (0..u64::from(bits)).fold(0u64, |value, j| (value << 1) | u64::from(super::bit_at(bytes, offset + j)))
}

/// The `bits`-bit two's complement integer at bit `offset`.
fn get_signed(bytes: &[u8], offset: u64, bits: u32) -> i64 {
    let mut value = get_unsigned(bytes, offset, bits);
    if bits < 64 && value & (1 << (bits - 1)) != 0 {
        value |= u64::MAX << bits;
    }
    value as i64
}

/// Writes the low `bits` bits of `value` at bit `offset`, which `bytes`
/// covers.
fn set_bits(bytes: &mut [u8], offset: u64, bits: u32, value: u64) {
    for j in 0..u64::from(bits) {
        let bit = ((value >> (u64::from(bits) - 1 - j)) & 1) as u8;
        let at = offset + j;
        let byte = &mut bytes[(at >> 3) as usize];
        let shift = 7 - (at & 7);
        *byte = (*byte & !(1 << shift)) | (bit << shift);
    }
}

/// Redis's `checkSignedBitfieldOverflow` for `value + incr` in `bits` bits.
fn signed_outcome(value: i64, incr: i64, bits: u32, mode: Overflow) -> Outcome<i64> {
    let max: i64 = if bits == 64 { i64::MAX } else { (1i64 << (bits - 1)) - 1 };
    let min = -max - 1;
    // Both may wrap, as in Redis; they are only decisive where they do not.
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let up = value > max || (bits != 64 && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr);
    let down = value < min || (bits != 64 && incr < min_incr) || (value < 0 && incr < 0 && incr < min_incr);
    if !up && !down {
        return Outcome::Fits;
    }
    match mode {
        Overflow::Fail => Outcome::Fail,
        Overflow::Sat => Outcome::Store(if up { max } else { min }),
        Overflow::Wrap => {
            let mut sum = (value as u64).wrapping_add(incr as u64);
            if bits < 64 {
                let mask = u64::MAX << bits;
                if sum & (1 << (bits - 1)) != 0 {
                    sum |= mask;
                } else {
                    sum &= !mask;
                }
            }
            Outcome::Store(sum as i64)
        }
    }
}

/// Redis's `checkUnsignedBitfieldOverflow` for `value + incr` in `bits`
/// bits (at most 63).
fn unsigned_outcome(value: u64, incr: i64, bits: u32, mode: Overflow) -> Outcome<u64> {
    let max: u64 = (1u64 << bits) - 1;
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = value.wrapping_neg() as i64;
    let up = value > max || (incr > 0 && incr > max_incr);
    let down = !up && incr < 0 && incr < min_incr;
    if !up && !down {
        return Outcome::Fits;
    }
    match mode {
        Overflow::Fail => Outcome::Fail,
        Overflow::Sat => Outcome::Store(if up { max } else { 0 }),
        Overflow::Wrap => Outcome::Store(value.wrapping_add(incr as u64) & max),
    }
}

/// Runs a SET or INCRBY on `bytes`: the reply (the new value for INCRBY,
/// the old one for SET, nil when OVERFLOW FAIL refuses it).
fn write_op(bytes: &mut [u8], op: &FieldOp) -> Frame {
    let (stored, reply) = if op.signed {
        let old = get_signed(bytes, op.offset, op.bits);
        let (value, incr) = if op.kind == Kind::IncrBy { (old, op.value) } else { (op.value, 0) };
        let new = match signed_outcome(value, incr, op.bits, op.overflow) {
            Outcome::Fits => value.wrapping_add(incr),
            Outcome::Store(limit) => limit,
            Outcome::Fail => return Frame::Null,
        };
        (new as u64, if op.kind == Kind::IncrBy { new } else { old })
    } else {
        let old = get_unsigned(bytes, op.offset, op.bits);
        let (value, incr) = if op.kind == Kind::IncrBy { (old, op.value) } else { (op.value as u64, 0) };
        let new = match unsigned_outcome(value, incr, op.bits, op.overflow) {
            Outcome::Fits => value.wrapping_add(incr as u64),
            Outcome::Store(limit) => limit,
            Outcome::Fail => return Frame::Null,
        };
        // Unsigned fields have at most 63 bits: both fit an i64.
        (new, if op.kind == Kind::IncrBy { new as i64 } else { old as i64 })
    };
    set_bits(bytes, op.offset, op.bits, stored);
    Frame::Integer(reply)
}

fn get_op(bytes: &[u8], op: &FieldOp) -> Frame {
    Frame::Integer(if op.signed {
        get_signed(bytes, op.offset, op.bits)
    } else {
        get_unsigned(bytes, op.offset, op.bits) as i64
    })
}

fn run(ctx: &mut Ctx<'_>, args: &[Bytes], read_only_command: bool) -> Result<Frame, CommandError> {
    let ops = parse_ops(args)?;
    let key = &args[1];
    let highest_write = ops.iter().filter(|op| op.kind != Kind::Get).map(|op| op.offset + u64::from(op.bits) - 1).max();
    let Some(highest) = highest_write else {
        let bytes = get_string(ctx, key)?.map(|v| v.payload).unwrap_or_default();
        return Ok(Frame::Array(ops.iter().map(|op| get_op(&bytes, op)).collect()));
    };
    if read_only_command {
        return Err(CommandError::err("BITFIELD_RO only supports the GET subcommand"));
    }
    let old = get_string(ctx, key)?;
    // Redis creates or pads the string before running the operations, so
    // this happens even if OVERFLOW FAIL refuses every write. The offsets
    // are within STRING_BYTES_MAX bytes (see bit_offset).
    let (mut bytes, expire_at_ms) = grown(old.as_ref(), (highest >> 3) as usize + 1);
    let mut replies = Vec::with_capacity(ops.len());
    for op in &ops {
        replies.push(if op.kind == Kind::Get { get_op(&bytes, op) } else { write_op(&mut bytes, op) });
    }
    put_raw_string(ctx, key, bytes, expire_at_ms)?;
    Ok(Frame::Array(replies))
}
