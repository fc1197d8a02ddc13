//! DUMP and RESTORE, in Redis's own serialization: a DUMP taken from Redis
//! restores here and the reverse.
//!
//! A payload is an RDB object type, the value as an RDB file holds it, the
//! RDB version (11, Redis 7.2's) and a CRC-64 of it all. RESTORE accepts
//! every version up to 11 and every object type Redis 7.2 loads, including
//! the ziplist, zipmap and quicklist forms of older versions and
//! LZF-compressed strings, and RedisJSON documents (module type
//! `ReJSON-RL`). RESTORE is a write like any other: it runs in apply, its
//! TTL counted from the entry's time, and a collection is written element
//! by element as subkeys.
//!
//! Differences from Redis: DUMP never compresses strings with LZF (Redis
//! does above 20 bytes; both forms load anywhere); a stream is written
//! without the tombstones of deleted entries Redis keeps in its nodes;
//! members of hashes and sets come in storage order, not insertion order.
//! Redis 7.0 refuses version 11 payloads: [`transcode`] rewrites one as
//! version 10 (no set listpacks, consumers without active time) for tests
//! against the reference redis-server.
//!
//! # Layout
//! - this file: the commands.
//! - [`rdb`]: lengths, strings, doubles, LZF, the footer.
//! - [`packed`]: listpacks, intsets, ziplists, zipmaps.
//! - [`value`]: [`RdbValue`] and the object types; [`stream`] for streams.
//! - [`stored`]: reading a key into an [`RdbValue`] and writing one back.

pub mod packed;
pub mod rdb;
pub mod stored;
pub mod stream;
pub mod value;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_redis;

use bytes::Bytes;
use resp::Frame;

use super::args::int_arg;
use super::expire::opt_is;
use super::{CommandSpec, Ctx, Flags, Group};
use crate::error::CommandError;
pub use rdb::{RdbError, RDB_VERSION_7_0, RDB_VERSION_7_2};
pub use value::RdbValue;

const BUSY_KEY: &str = "BUSYKEY Target key name already exists.";
const BAD_VERSION_OR_CHECKSUM: &str = "DUMP payload version or checksum are wrong";
const BAD_DATA_FORMAT: &str = "Bad data format";

/// Why a payload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("{BAD_VERSION_OR_CHECKSUM}")]
    VersionOrChecksum,
    #[error("{BAD_DATA_FORMAT}: {0}")]
    BadFormat(RdbError),
}

/// The DUMP payload of `value` for RDB `version`.
pub fn payload(value: &RdbValue, version: u16) -> Vec<u8> {
    rdb::seal(value::encode(value, version), version)
}

/// Checks a payload's footer and decodes its value.
///
/// # Errors
/// [`PayloadError`] as RESTORE reports it.
pub fn decode_payload(payload: &[u8]) -> Result<RdbValue, PayloadError> {
    let body = rdb::verify_footer(payload).ok_or(PayloadError::VersionOrChecksum)?;
    value::decode(body).map_err(PayloadError::BadFormat)
}

/// The same value as a payload of another RDB version (Redis 7.0 refuses
/// 7.2's version 11).
///
/// # Errors
/// [`PayloadError`] if `payload` does not decode.
pub fn transcode(payload_bytes: &[u8], version: u16) -> Result<Vec<u8>, PayloadError> {
    Ok(payload(&decode_payload(payload_bytes)?, version))
}

/// # Format
/// ```text
/// DUMP key
/// ```
/// The serialized value, or nil if the key does not exist.
fn dump(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let key = &args[1];
    let Some(value) = ctx.ks.get(ctx.db, key)? else { return Ok(Frame::Null) };
    let decoded = stored::read(ctx, key, &value)?;
    Ok(Frame::Bulk(Bytes::from(payload(&decoded, RDB_VERSION_7_2))))
}

/// RESTORE's options, checked in Redis's order.
struct RestoreOptions {
    replace: bool,
    absttl: bool,
    idle_seconds: Option<i64>,
}

fn parse_options(args: &[Bytes]) -> Result<RestoreOptions, CommandError> {
    let mut options = RestoreOptions { replace: false, absttl: false, idle_seconds: None };
    let mut freq = None;
    let mut at = 4;
    while at < args.len() {
        let has_value = at + 1 < args.len();
        let arg = &args[at];
        if opt_is(arg, "replace") {
            options.replace = true;
        } else if opt_is(arg, "absttl") {
            options.absttl = true;
        } else if opt_is(arg, "idletime") && has_value && freq.is_none() {
            let idle = int_arg(&args[at + 1])?;
            if idle < 0 {
                return Err(CommandError::err("Invalid IDLETIME value, must be >= 0"));
            }
            options.idle_seconds = Some(idle);
            at += 1;
        } else if opt_is(arg, "freq") && has_value && options.idle_seconds.is_none() {
            // Only an LFU eviction policy would use it; Redraft has none.
            let value = int_arg(&args[at + 1])?;
            if !(0..=255).contains(&value) {
                return Err(CommandError::err("Invalid FREQ value, must be >= 0 and <= 255"));
            }
            freq = Some(value);
            at += 1;
        } else {
            return Err(CommandError::Syntax);
        }
        at += 1;
    }
    Ok(options)
}

/// # Format
/// ```text
/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
/// ```
/// Creates `key` from a DUMP payload; `ttl` in milliseconds (0: none),
/// absolute with ABSTTL. A TTL already past leaves no key (and REPLACE
/// still deletes the old one) but answers OK, as Redis does.
fn restore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let options = parse_options(args)?;
    let key = &args[1];
    if !options.replace && ctx.ks.get(ctx.db, key)?.is_some() {
        return Err(CommandError::Prefixed(BUSY_KEY.into()));
    }
    let ttl = int_arg(&args[2])?;
    if ttl < 0 {
        return Err(CommandError::err("Invalid TTL value, must be >= 0"));
    }
    let value = decode_payload(&args[3]).map_err(|e| {
        tracing::debug!(error = %e, "RESTORE refused a payload");
        match e {
            PayloadError::VersionOrChecksum => CommandError::err(BAD_VERSION_OR_CHECKSUM),
            PayloadError::BadFormat(_) => CommandError::err(BAD_DATA_FORMAT),
        }
    })?;
    if options.replace {
        ctx.ks.delete(ctx.db, key)?;
    }
    let now_ms = ctx.ks.now_ms();
    let ttl = ttl as u64;
    let expire_at_ms = match ttl {
        0 => 0,
        _ if options.absttl => ttl,
        _ => now_ms.saturating_add(ttl),
    };
    if expire_at_ms != 0 && expire_at_ms <= now_ms {
        return Ok(Frame::ok());
    }
    stored::write(ctx, key, value)?;
    let mut written = ctx.ks.get_raw(ctx.db, key)?.ok_or(CommandError::NoSuchKey)?;
    written.header.expire_at_ms = expire_at_ms;
    let idle_ms = options.idle_seconds.map_or(0, |s| (s as u64).saturating_mul(1000));
    ctx.ks.put_modified_at(ctx.db, key, written, now_ms.saturating_sub(idle_ms))?;
    Ok(Frame::ok())
}

const fn spec(
    name: &'static str,
    arity: i32,
    flags: Flags,
    summary: &'static str,
    handler: super::DataHandler,
) -> CommandSpec {
    CommandSpec::data(Group::Generic, name, arity, flags, (1, 1, 1), "2.6.0", summary, handler)
}

pub static COMMANDS: &[CommandSpec] = &[
    spec("dump", 2, Flags::READONLY, "Returns a serialized representation of the value stored at a key.", dump),
    spec(
        "restore",
        -4,
        Flags::WRITE.union(Flags::DENYOOM),
        "Creates a key from the serialized representation of a value.",
        restore,
    ),
];
