//! Key expiry: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, TTL, PTTL, EXPIRETIME,
//! PEXPIRETIME, PERSIST, and the expiry arguments SET and GETEX share.
//!
//! Expiry is an absolute Unix time in milliseconds stored in the value's
//! header. Relative TTLs are turned into absolute times inside the handler,
//! from `ctx.ks.now_ms()`: in apply that is the leader's clock stamped into
//! the log entry, so every replica computes the same deadline. Setting a
//! deadline that has already passed deletes the key at once, as Redis does.

use bytes::Bytes;
use resp::Frame;

use super::args::int_arg;
use super::{CommandSpec, Ctx, Flags, Group};
use crate::error::CommandError;

/// The unit an expiry argument is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeUnit {
    Seconds,
    Millis,
}

/// An EX/PX/EXAT/PXAT argument of SET or GETEX, not yet validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ExpireArg<'a> {
    pub raw: &'a Bytes,
    pub unit: TimeUnit,
    /// EXAT/PXAT: `raw` is a Unix time, not a TTL.
    pub absolute: bool,
}

/// Whether a C-string view of `arg` (Redis compares options with
/// `strcasecmp`, which stops at a NUL byte) equals `name`, ignoring case.
pub(crate) fn opt_is(arg: &[u8], name: &str) -> bool {
    let c_str = arg.iter().position(|&b| b == 0).map_or(arg, |nul| &arg[..nul]);
    c_str.eq_ignore_ascii_case(name.as_bytes())
}

/// An option as `%s` prints it in an error: up to the first NUL byte.
pub(crate) fn c_str_lossy(arg: &[u8]) -> String {
    let c_str = arg.iter().position(|&b| b == 0).map_or(arg, |nul| &arg[..nul]);
    String::from_utf8_lossy(c_str).into_owned()
}

/// The absolute expiry (Unix ms) an EX/PX/EXAT/PXAT argument asks for,
/// validated like Redis's `getExpireMillisecondsOrReply`: it must be a
/// positive integer, and neither the unit conversion nor adding the current
/// time may overflow.
///
/// # Errors
/// [`CommandError::NotInteger`], or [`CommandError::InvalidExpireTime`]
/// naming `command`.
pub(crate) fn expire_arg_ms(ctx: &Ctx<'_>, arg: ExpireArg<'_>, command: &str) -> Result<u64, CommandError> {
    let invalid = || CommandError::InvalidExpireTime(command.to_string());
    let mut ms = int_arg(arg.raw)?;
    if ms <= 0 || (arg.unit == TimeUnit::Seconds && ms > i64::MAX / 1000) {
        return Err(invalid());
    }
    if arg.unit == TimeUnit::Seconds {
        ms *= 1000;
    }
    if !arg.absolute {
        ms = ms.checked_add(now_ms(ctx)).ok_or_else(invalid)?;
    }
    Ok(ms as u64)
}

/// The view's clock as Redis's signed milliseconds.
pub(crate) fn now_ms(ctx: &Ctx<'_>) -> i64 {
    i64::try_from(ctx.ks.now_ms()).unwrap_or(i64::MAX)
}

/// The EXPIRE options NX, XX, GT and LT.
#[derive(Debug, Default, Clone, Copy)]
struct ExpireConditions {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl ExpireConditions {
    fn parse(options: &[Bytes]) -> Result<Self, CommandError> {
        let mut c = ExpireConditions::default();
        for opt in options {
            if opt_is(opt, "nx") {
                c.nx = true;
            } else if opt_is(opt, "xx") {
                c.xx = true;
            } else if opt_is(opt, "gt") {
                c.gt = true;
            } else if opt_is(opt, "lt") {
                c.lt = true;
            } else {
                return Err(CommandError::err(format!("Unsupported option {}", c_str_lossy(opt))));
            }
        }
        if c.nx && (c.xx || c.gt || c.lt) {
            return Err(CommandError::err("NX and XX, GT or LT options at the same time are not compatible"));
        }
        if c.gt && c.lt {
            return Err(CommandError::err("GT and LT options at the same time are not compatible"));
        }
        Ok(c)
    }

    /// Whether a key whose current expiry is `current` (-1: none) may get `when`.
    fn allow(&self, current: i64, when: i64) -> bool {
        if self.nx && current != -1 {
            return false;
        }
        if self.xx && current == -1 {
            return false;
        }
        // No expiry counts as an infinite one: never less than, never exceeded.
        if self.gt && (current == -1 || when <= current) {
            return false;
        }
        if self.lt && current != -1 && when >= current {
            return false;
        }
        true
    }
}

/// EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT: `relative` adds the current time.
fn expire_generic(ctx: &mut Ctx<'_>, args: &[Bytes], unit: TimeUnit, relative: bool) -> Result<Frame, CommandError> {
    let command = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
    let conditions = ExpireConditions::parse(&args[3..])?;
    let mut when = int_arg(&args[2])?;
    let invalid = || CommandError::InvalidExpireTime(command.clone());
    if unit == TimeUnit::Seconds {
        when = when.checked_mul(1000).ok_or_else(invalid)?;
    }
    if relative {
        when = when.checked_add(now_ms(ctx)).ok_or_else(invalid)?;
    }
    let key = &args[1];
    let Some(mut value) = ctx.ks.get(ctx.db, key)? else { return Ok(Frame::Integer(0)) };
    if !conditions.allow(expire_of(value.header.expire_at_ms), when) {
        return Ok(Frame::Integer(0));
    }
    if when <= now_ms(ctx) {
        ctx.ks.delete(ctx.db, key)?;
    } else {
        value.header.expire_at_ms = when as u64;
        ctx.ks.put(ctx.db, key, value)?;
    }
    Ok(Frame::Integer(1))
}

/// A header expiry as Redis's `getExpire` reports it: -1 for none.
fn expire_of(expire_at_ms: u64) -> i64 {
    if expire_at_ms == 0 {
        -1
    } else {
        i64::try_from(expire_at_ms).unwrap_or(i64::MAX)
    }
}

/// # Format
/// ```text
/// EXPIRE key seconds [NX | XX | GT | LT]
/// ```
fn expire(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    expire_generic(ctx, args, TimeUnit::Seconds, true)
}

/// `PEXPIRE key milliseconds [NX | XX | GT | LT]`
fn pexpire(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    expire_generic(ctx, args, TimeUnit::Millis, true)
}

/// `EXPIREAT key unix-time-seconds [NX | XX | GT | LT]`
fn expireat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    expire_generic(ctx, args, TimeUnit::Seconds, false)
}

/// `PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]`
fn pexpireat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    expire_generic(ctx, args, TimeUnit::Millis, false)
}

/// TTL, PTTL, EXPIRETIME and PEXPIRETIME: -2 for a missing key, -1 for no
/// expiry, otherwise the remaining time (never below 0) or the deadline.
/// Seconds are rounded to nearest, as Redis does.
fn ttl_generic(ctx: &mut Ctx<'_>, args: &[Bytes], unit: TimeUnit, absolute: bool) -> Result<Frame, CommandError> {
    let Some(value) = ctx.ks.get(ctx.db, &args[1])? else { return Ok(Frame::Integer(-2)) };
    let expire = expire_of(value.header.expire_at_ms);
    if expire == -1 {
        return Ok(Frame::Integer(-1));
    }
    let ms = if absolute { expire } else { expire.saturating_sub(now_ms(ctx)).max(0) };
    Ok(Frame::Integer(match unit {
        TimeUnit::Millis => ms,
        // Wide, so the largest deadline rounds up as Redis reports it.
        TimeUnit::Seconds => ((ms as i128 + 500) / 1000) as i64,
    }))
}

/// `TTL key`
fn ttl(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    ttl_generic(ctx, args, TimeUnit::Seconds, false)
}

/// `PTTL key`
fn pttl(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    ttl_generic(ctx, args, TimeUnit::Millis, false)
}

/// `EXPIRETIME key`
fn expiretime(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    ttl_generic(ctx, args, TimeUnit::Seconds, true)
}

/// `PEXPIRETIME key`
fn pexpiretime(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    ttl_generic(ctx, args, TimeUnit::Millis, true)
}

/// `PERSIST key`: 1 if an expiry was removed.
fn persist(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let key = &args[1];
    match ctx.ks.get(ctx.db, key)? {
        Some(mut value) if value.header.expire_at_ms != 0 => {
            value.header.expire_at_ms = 0;
            ctx.ks.put(ctx.db, key, value)?;
            Ok(Frame::Integer(1))
        }
        _ => Ok(Frame::Integer(0)),
    }
}

const fn spec(
    name: &'static str,
    arity: i32,
    flags: Flags,
    since: &'static str,
    summary: &'static str,
    handler: super::DataHandler,
) -> CommandSpec {
    CommandSpec::data(Group::Generic, name, arity, flags, (1, 1, 1), since, summary, handler)
}

const WRITE_FAST: Flags = Flags::WRITE.union(Flags::FAST);
const READ_FAST: Flags = Flags::READONLY.union(Flags::FAST);

pub static COMMANDS: &[CommandSpec] = &[
    spec("expire", -3, WRITE_FAST, "1.0.0", "Sets the expiration time of a key in seconds.", expire),
    spec("pexpire", -3, WRITE_FAST, "2.6.0", "Sets the expiration time of a key in milliseconds.", pexpire),
    spec("expireat", -3, WRITE_FAST, "1.2.0", "Sets the expiration time of a key to a Unix timestamp.", expireat),
    spec(
        "pexpireat",
        -3,
        WRITE_FAST,
        "2.6.0",
        "Sets the expiration time of a key to a Unix milliseconds timestamp.",
        pexpireat,
    ),
    spec("ttl", 2, READ_FAST, "1.0.0", "Returns the expiration time in seconds of a key.", ttl),
    spec("pttl", 2, READ_FAST, "2.6.0", "Returns the expiration time in milliseconds of a key.", pttl),
    spec("expiretime", 2, READ_FAST, "7.0.0", "Returns the expiration time of a key as a Unix timestamp.", expiretime),
    spec(
        "pexpiretime",
        2,
        READ_FAST,
        "7.0.0",
        "Returns the expiration time of a key as a Unix milliseconds timestamp.",
        pexpiretime,
    ),
    spec("persist", 2, WRITE_FAST, "2.2.0", "Removes the expiration time of a key.", persist),
];

#[cfg(test)]
mod tests {
    use resp::Frame;

    use crate::commands::testing::{err, int, ok, TestKeyspace};

    #[test]
    fn expire_sets_a_relative_ttl_and_the_key_vanishes_on_time() {
        let mut ks = TestKeyspace::new();
        assert_eq!(ks.exec(&["EXPIRE", "k", "10"]), int(0), "missing key");
        ks.exec(&["SET", "k", "v"]);
        assert_eq!(ks.exec(&["EXPIRE", "k", "10"]), int(1));
        assert_eq!(ks.exec(&["TTL", "k"]), int(10));
        assert_eq!(ks.exec(&["PTTL", "k"]), int(10_000));
        ks.advance_ms(9_400);
        assert_eq!(ks.exec(&["TTL", "k"]), int(1), "600 ms round up to 1 s");
        ks.advance_ms(100);
        assert_eq!(ks.exec(&["TTL", "k"]), int(1), "500 ms round up");
        ks.advance_ms(100);
        assert_eq!(ks.exec(&["TTL", "k"]), int(0));
        ks.advance_ms(400);
        assert_eq!(ks.exec(&["TTL", "k"]), int(-2));
        assert_eq!(ks.exec(&["GET", "k"]), Frame::Null);
    }

    #[test]
    fn absolute_variants_and_expiretime_report_the_deadline() {
        let mut ks = TestKeyspace::new();
        ks.exec(&["SET", "k", "v"]);
        assert_eq!(ks.exec(&["EXPIRETIME", "k"]), int(-1));
        assert_eq!(ks.exec(&["EXPIRETIME", "nokey"]), int(-2));
        let at_s = (ks.now_ms / 1000 + 50) as i64;
        assert_eq!(ks.exec(&["EXPIREAT", "k", &at_s.to_string()]), int(1));
        assert_eq!(ks.exec(&["EXPIRETIME", "k"]), int(at_s));
        assert_eq!(ks.exec(&["PEXPIRETIME", "k"]), int(at_s * 1000));
        let at_ms = ks.now_ms as i64 + 1234;
        assert_eq!(ks.exec(&["PEXPIREAT", "k", &at_ms.to_string()]), int(1));
        assert_eq!(ks.exec(&["PEXPIRETIME", "k"]), int(at_ms));
        assert_eq!(ks.exec(&["PTTL", "k"]), int(1234));
        assert_eq!(ks.exec(&["PEXPIRE", "k", "100"]), int(1));
        assert_eq!(ks.exec(&["PTTL", "k"]), int(100));
    }

    #[test]
    fn a_deadline_in_the_past_deletes_the_key() {
        let mut ks = TestKeyspace::new();
        ks.exec(&["SET", "k", "v"]);
        assert_eq!(ks.exec(&["EXPIRE", "k", "-1"]), int(1));
        assert_eq!(ks.exec(&["EXISTS", "k"]), int(0));
        assert_eq!(ks.exec(&["DBSIZE"]), int(0), "deleted, not left to expire");
        ks.exec(&["SET", "k", "v"]);
        assert_eq!(ks.exec(&["PEXPIREAT", "k", "0"]), int(1));
        assert_eq!(ks.exec(&["DBSIZE"]), int(0));
        ks.exec(&["SET", "k", "v"]);
        assert_eq!(ks.exec(&["PEXPIRE", "k", "0"]), int(1));
        assert_eq!(ks.exec(&["EXISTS", "k"]), int(0));
    }

    #[test]
    fn expire_options_follow_redis_rules() {
        let mut ks = TestKeyspace::new();
        ks.exec(&["SET", "k", "v"]);
        assert_eq!(ks.exec(&["EXPIRE", "k", "100", "XX"]), int(0), "no TTL yet");
        assert_eq!(ks.exec(&["EXPIRE", "k", "100", "GT"]), int(0), "no TTL counts as infinite");
        assert_eq!(ks.exec(&["EXPIRE", "k", "100", "NX"]), int(1));
        assert_eq!(ks.exec(&["EXPIRE", "k", "200", "NX"]), int(0));
        assert_eq!(ks.exec(&["EXPIRE", "k", "50", "GT"]), int(0));
        assert_eq!(ks.exec(&["EXPIRE", "k", "200", "gt"]), int(1));
        assert_eq!(ks.exec(&["EXPIRE", "k", "300", "LT"]), int(0));
        assert_eq!(ks.exec(&["EXPIRE", "k", "150", "LT", "XX"]), int(1));
        assert_eq!(ks.exec(&["TTL", "k"]), int(150));
        ks.exec(&["SET", "p", "v"]);
        assert_eq!(ks.exec(&["EXPIRE", "p", "10", "LT"]), int(1), "any TTL is less than none");
        let incompatible = err("ERR NX and XX, GT or LT options at the same time are not compatible");
        assert_eq!(ks.exec(&["EXPIRE", "k", "1", "NX", "XX"]), incompatible);
        assert_eq!(ks.exec(&["EXPIRE", "k", "1", "NX", "GT"]), incompatible);
        assert_eq!(
            ks.exec(&["EXPIRE", "k", "1", "GT", "LT"]),
            err("ERR GT and LT options at the same time are not compatible")
        );
        assert_eq!(ks.exec(&["EXPIRE", "k", "1", "FOO"]), err("ERR Unsupported option FOO"));
        assert_eq!(
            ks.exec(&["EXPIRE", "k", "abc", "FOO"]),
            err("ERR Unsupported option FOO"),
            "options are checked before the time"
        );
    }

    #[test]
    fn expire_times_that_overflow_are_rejected() {
        let mut ks = TestKeyspace::new();
        ks.exec(&["SET", "k", "v"]);
        assert_eq!(ks.exec(&["EXPIRE", "k", "abc"]), err("ERR value is not an integer or out of range"));
        assert_eq!(ks.exec(&["EXPIRE", "k", "9223372036854776"]), err("ERR invalid expire time in 'expire' command"));
        assert_eq!(
            ks.exec(&["EXPIREAT", "k", "-9223372036854776"]),
            err("ERR invalid expire time in 'expireat' command")
        );
        assert_eq!(
            ks.exec(&["PEXPIRE", "k", "9223372036854775807"]),
            err("ERR invalid expire time in 'pexpire' command")
        );
        assert_eq!(ks.exec(&["PEXPIREAT", "k", "9223372036854775807"]), int(1), "absolute: no addition");
        assert_eq!(ks.exec(&["PEXPIRETIME", "k"]), int(i64::MAX));
        assert_eq!(ks.exec(&["EXPIRETIME", "k"]), int(9_223_372_036_854_776));
    }

    #[test]
    fn persist_removes_a_ttl_only_when_there_is_one() {
        let mut ks = TestKeyspace::new();
        assert_eq!(ks.exec(&["PERSIST", "k"]), int(0));
        ks.exec(&["SET", "k", "v"]);
        assert_eq!(ks.exec(&["PERSIST", "k"]), int(0));
        ks.exec(&["EXPIRE", "k", "10"]);
        assert_eq!(ks.exec(&["PERSIST", "k"]), int(1));
        assert_eq!(ks.exec(&["TTL", "k"]), int(-1));
        ks.advance_ms(20_000);
        assert_eq!(ks.exec(&["GET", "k"]), crate::commands::testing::bulk("v"));
        assert_eq!(ks.exec(&["SET", "k", "v"]), ok());
    }
}
