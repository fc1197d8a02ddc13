//! The HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG and
//! PFSELFTEST.
//!
//! A HyperLogLog is a string holding Redis's exact representation (see
//! [`hll`]), so a value read with GET here and written with SET to a real
//! Redis (or the other way round) is the same HyperLogLog there. Writes
//! modify the value in place as Redis does: its TTL stays, and it becomes a
//! "raw" string.
//!
//! The cardinality cache: Redis's PFCOUNT on one key stores the estimate it
//! computed into the value's header (a write, hence its `may_replicate`
//! flag). Here PFCOUNT is a read served from a snapshot, so it computes the
//! estimate when the cache is stale and never stores it. Replies are the
//! same; what differs is the header a later GET shows: after a PFCOUNT,
//! Redis's bytes 8-15 hold the fresh count (and keep it, with the top bit
//! set, after the next PFADD), ours still hold the stale one. Registers and
//! encoding are always identical. For the same reason PFCOUNT does not
//! count as a modification for WATCH, nor turn an "embstr" value "raw".

pub mod hll;

use bytes::Bytes;
use resp::Frame;
use storage::StoredValue;

use super::expire::{c_str_lossy, opt_is};
use super::string::{encoding, get_string};
use super::{CommandSpec, Ctx, Flags, Group};
use crate::error::CommandError;

fn not_an_hll() -> CommandError {
    CommandError::Prefixed("WRONGTYPE Key is not a valid HyperLogLog string value.".into())
}

fn corrupt() -> CommandError {
    CommandError::Prefixed("INVALIDOBJ Corrupted HLL object detected".into())
}

/// The HyperLogLog at `key`, if any.
///
/// # Errors
/// WRONGTYPE if the key holds another type or a string that is not a
/// HyperLogLog.
fn load(ctx: &Ctx<'_>, key: &[u8]) -> Result<Option<StoredValue>, CommandError> {
    match get_string(ctx, key)? {
        Some(value) if !hll::is_hll(&value.payload) => Err(not_an_hll()),
        other => Ok(other),
    }
}

/// Stores a HyperLogLog modified in place: "raw", keeping its expiry.
fn store(ctx: &mut Ctx<'_>, key: &[u8], bytes: Vec<u8>, expire_at_ms: u64) -> Result<(), CommandError> {
    let mut value = StoredValue::string(bytes, expire_at_ms);
    value.header.encoding = encoding::RAW;
    ctx.ks.put(ctx.db, key, value)?;
    Ok(())
}

/// `PFADD key [element ...]`: 1 if a register changed or the key was
/// created, else 0 (and nothing is written).
fn pfadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let key = &args[1];
    let (mut bytes, expire_at_ms, mut updated) = match load(ctx, key)? {
        Some(value) => (value.payload.to_vec(), value.header.expire_at_ms, false),
        None => (hll::new_sparse(), 0, true),
    };
    for element in &args[2..] {
        updated |= hll::add(&mut bytes, element).map_err(|_| corrupt())?;
    }
    if updated {
        hll::invalidate_cache(&mut bytes);
        store(ctx, key, bytes, expire_at_ms)?;
    }
    Ok(Frame::Integer(i64::from(updated)))
}

/// `PFCOUNT key [key ...]`: the estimated cardinality of one HyperLogLog
/// (its cache when valid), or of the union of several. Missing keys count
/// as empty.
fn pfcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    if args.len() > 2 {
        let mut max = vec![0u8; hll::REGISTERS];
        for key in &args[1..] {
            if let Some(value) = load(ctx, key)? {
                hll::merge_into(&mut max, &value.payload).map_err(|_| corrupt())?;
            }
        }
        return Ok(Frame::Integer(hll::count_registers(&max) as i64));
    }
    let Some(value) = load(ctx, &args[1])? else { return Ok(Frame::Integer(0)) };
    let card = match hll::cached_cardinality(&value.payload) {
        Some(card) => card,
        None => hll::count(&value.payload).map_err(|_| corrupt())?,
    };
    // A valid cache has its top bit clear and estimates stay far below.
    Ok(Frame::Integer(card as i64))
}

/// `PFMERGE destkey [sourcekey ...]`: the destination (itself a source if
/// it exists) gets the register-wise maximum. It stays sparse unless a
/// source is dense or the registers do not fit.
fn pfmerge(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let mut max = vec![0u8; hll::REGISTERS];
    let mut dense = false;
    let mut dest = None;
    for (i, key) in args[1..].iter().enumerate() {
        let Some(value) = load(ctx, key)? else { continue };
        dense |= hll::encoding(&value.payload) == hll::DENSE;
        hll::merge_into(&mut max, &value.payload).map_err(|_| corrupt())?;
        if i == 0 {
            dest = Some(value);
        }
    }
    let (mut bytes, expire_at_ms) = match dest {
        Some(value) => (value.payload.to_vec(), value.header.expire_at_ms),
        None => (hll::new_sparse(), 0),
    };
    if dense && hll::encoding(&bytes) == hll::SPARSE {
        bytes = hll::sparse_to_dense(&bytes).map_err(|_| corrupt())?;
    }
    // Register by register, as Redis does: a sparse destination may turn
    // dense part way, and its bytes depend on that order.
    for (index, &count) in max.iter().enumerate() {
        if count != 0 {
            hll::raise(&mut bytes, index, count).map_err(|_| corrupt())?;
        }
    }
    hll::invalidate_cache(&mut bytes);
    store(ctx, &args[1], bytes, expire_at_ms)?;
    Ok(Frame::ok())
}

/// `PFDEBUG <GETREG | DECODE | ENCODING | TODENSE> key`: the registers (the
/// value turns dense, as in Redis), the sparse opcodes, the encoding, or a
/// conversion to dense (1 if it was sparse).
fn pfdebug(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let (sub, key) = (&args[1], &args[2]);
    let value = load(ctx, key)?.ok_or_else(|| CommandError::err("The specified key does not exist"))?;
    let sparse = hll::encoding(&value.payload) == hll::SPARSE;
    let to_dense = |ctx: &mut Ctx<'_>| -> Result<Vec<u8>, CommandError> {
        let dense = hll::sparse_to_dense(&value.payload).map_err(|_| corrupt())?;
        store(ctx, key, dense.clone(), value.header.expire_at_ms)?;
        Ok(dense)
    };
    if opt_is(sub, "getreg") {
        let dense = if sparse { to_dense(ctx)? } else { value.payload.to_vec() };
        let registers = &dense[hll::HEADER_BYTES..];
        let replies = (0..hll::REGISTERS).map(|i| Frame::Integer(i64::from(hll::dense_get(registers, i)))).collect();
        Ok(Frame::Array(replies))
    } else if opt_is(sub, "decode") {
        if !sparse {
            return Err(CommandError::err("HLL encoding is not sparse"));
        }
        Ok(Frame::Bulk(Bytes::from(hll::decode_sparse(&value.payload))))
    } else if opt_is(sub, "encoding") {
        Ok(Frame::simple(if sparse { "sparse" } else { "dense" }))
    } else if opt_is(sub, "todense") {
        if sparse {
            to_dense(ctx)?;
        }
        Ok(Frame::Integer(i64::from(sparse)))
    } else {
        Err(CommandError::err(format!("Unknown PFDEBUG subcommand '{}'", c_str_lossy(sub))))
    }
}

/// `PFSELFTEST`: OK, or the first failure.
fn pfselftest(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Result<Frame, CommandError> {
    use rand::Rng;
    // rand() yields 31 bits.
    hll::self_test(|| ctx.rng.gen::<u32>() >> 1).map_err(CommandError::Other)?;
    Ok(Frame::ok())
}

const fn spec(
    name: &'static str,
    arity: i32,
    flags: Flags,
    keys: (i32, i32, i32),
    summary: &'static str,
    handler: super::DataHandler,
) -> CommandSpec {
    CommandSpec::data(Group::Hyperloglog, name, arity, flags, keys, "2.8.9", summary, handler)
}

/// Flags and key specs are Redis 7.2's; PFSELFTEST has neither read nor
/// write flag there (it touches no key), so it is local here.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "pfadd",
        -2,
        Flags::WRITE.union(Flags::DENYOOM).union(Flags::FAST),
        (1, 1, 1),
        "Adds elements to a HyperLogLog key. Creates the key if it doesn't exist.",
        pfadd,
    ),
    spec(
        "pfcount",
        -2,
        Flags::READONLY.union(Flags::MAY_REPLICATE),
        (1, -1, 1),
        "Returns the approximated cardinality of the set(s) observed by the HyperLogLog key(s).",
        pfcount,
    ),
    spec(
        "pfmerge",
        -2,
        Flags::WRITE.union(Flags::DENYOOM),
        (1, -1, 1),
        "Merges one or more HyperLogLog values into a single key.",
        pfmerge,
    ),
    spec(
        "pfdebug",
        3,
        Flags::WRITE.union(Flags::DENYOOM).union(Flags::ADMIN),
        (2, 2, 1),
        "Internal commands for debugging HyperLogLog values.",
        pfdebug,
    ),
    spec(
        "pfselftest",
        1,
        Flags::ADMIN.union(Flags::LOCAL),
        (0, 0, 0),
        "An internal command for testing HyperLogLog values.",
        pfselftest,
    ),
];

#[cfg(test)]
mod tests;
