//! Stream IDs: parsing with Redis's exact rules, formatting, successor and
//! predecessor.
//!
//! Redis parses each half with `string2ull`, which falls back to C's
//! `strtoull` when the strict integer parser refuses: so `007-1`, `+5` and
//! ` 5` are valid milliseconds, and `1--0` is `1-0`. The quirks are kept
//! because clients see them as accepted or rejected commands.

use bytes::Bytes;
use resp::Frame;

use super::super::args::parse_i64;
use crate::error::CommandError;

/// A stream entry ID: milliseconds and sequence, ordered as a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

/// How `XADD` was told to pick the ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddId {
    /// `*`: from the clock and the last ID.
    Auto,
    /// `ms-*`: the milliseconds given, the sequence generated.
    Ms(u64),
    /// A complete ID.
    Exact(StreamId),
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId { ms: u64::MAX, seq: u64::MAX };

    pub const fn new(ms: u64, seq: u64) -> Self {
        StreamId { ms, seq }
    }

    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }

    /// The next ID, `None` past the largest (Redis wraps to 0-0 and fails).
    pub fn incr(self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                return None;
            }
            return Some(StreamId::new(self.ms + 1, 0));
        }
        Some(StreamId::new(self.ms, self.seq + 1))
    }

    /// [`StreamId::incr`] wrapping to 0-0 as `streamIncrID` leaves it.
    pub fn incr_wrapping(self) -> StreamId {
        self.incr().unwrap_or(StreamId::MIN)
    }

    /// The previous ID, `None` before 0-0.
    pub fn decr(self) -> Option<StreamId> {
        if self.seq == 0 {
            if self.ms == 0 {
                return None;
            }
            return Some(StreamId::new(self.ms - 1, u64::MAX));
        }
        Some(StreamId::new(self.ms, self.seq - 1))
    }

    /// 128-bit big-endian: byte order is ID order.
    pub fn to_bytes(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.ms.to_be_bytes());
        out[8..].copy_from_slice(&self.seq.to_be_bytes());
        out
    }

    pub fn from_bytes(raw: &[u8]) -> Option<StreamId> {
        if raw.len() < 16 {
            return None;
        }
        let word = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&raw[at..at + 8]);
            u64::from_be_bytes(b)
        };
        Some(StreamId::new(word(0), word(8)))
    }

    pub fn frame(self) -> Frame {
        Frame::Bulk(Bytes::from(self.to_string()))
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// The error every malformed ID gets.
pub fn invalid_id() -> CommandError {
    CommandError::err("Invalid stream ID specified as stream command argument")
}

/// C's `isspace` in the C locale.
fn c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Redis's `string2ull`: `string2ll` (refusing negatives), else `strtoull`
/// in base 10 which must consume the whole, non-empty string.
fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(v) = parse_i64(s) {
        return u64::try_from(v).ok();
    }
    if s.is_empty() {
        return None;
    }
    let mut at = 0;
    while at < s.len() && c_space(s[at]) {
        at += 1;
    }
    let negative = match s.get(at) {
        Some(b'-') => {
            at += 1;
            true
        }
        Some(b'+') => {
            at += 1;
            false
        }
        _ => false,
    };
    let digits_start = at;
    let mut value: u64 = 0;
    while at < s.len() && s[at].is_ascii_digit() {
        value = value.checked_mul(10)?.checked_add(u64::from(s[at] - b'0'))?;
        at += 1;
    }
    if at == digits_start || at != s.len() {
        return None;
    }
    // strtoull negates in unsigned arithmetic.
    Some(if negative { value.wrapping_neg() } else { value })
}

/// `streamGenericParseIDOrReply`. `star_seq` accepts `ms-*` (XADD), which
/// is returned as `(id with seq 0, false)`; the bool is "sequence given".
fn parse_generic(arg: &[u8], missing_seq: u64, strict: bool, star_seq: bool) -> Option<(StreamId, bool)> {
    if arg.len() > 127 {
        return None;
    }
    // Redis copies the argument into a C string: a NUL ends it.
    let arg = arg.iter().position(|&b| b == 0).map_or(arg, |nul| &arg[..nul]);
    if strict && (arg == b"-" || arg == b"+") {
        return None;
    }
    match arg {
        b"-" => return Some((StreamId::MIN, true)),
        b"+" => return Some((StreamId::MAX, true)),
        _ => {}
    }
    let (ms_part, seq_part) = match arg.iter().position(|&b| b == b'-') {
        Some(dash) => (&arg[..dash], Some(&arg[dash + 1..])),
        None => (arg, None),
    };
    let ms = string2ull(ms_part)?;
    match seq_part {
        None => Some((StreamId::new(ms, missing_seq), true)),
        Some(b"*") if star_seq => Some((StreamId::new(ms, 0), false)),
        Some(seq) => Some((StreamId::new(ms, string2ull(seq)?), true)),
    }
}

/// An ID where `-` and `+` mean the smallest and largest.
pub fn parse_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, CommandError> {
    parse_generic(arg, missing_seq, false, false).map(|(id, _)| id).ok_or_else(invalid_id)
}

/// An ID where `-` and `+` are errors.
pub fn parse_strict_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, CommandError> {
    parse_generic(arg, missing_seq, true, false).map(|(id, _)| id).ok_or_else(invalid_id)
}

/// [`parse_strict_id`] that reports failure without an error (XCLAIM reads
/// IDs until the first argument that is not one).
pub fn try_strict_id(arg: &[u8]) -> Option<StreamId> {
    parse_generic(arg, 0, true, false).map(|(id, _)| id)
}

/// XADD's ID argument (not `*`, which the caller checks first).
pub fn parse_add_id(arg: &[u8]) -> Result<AddId, CommandError> {
    match parse_generic(arg, 0, true, true).ok_or_else(invalid_id)? {
        (id, true) => Ok(AddId::Exact(id)),
        (id, false) => Ok(AddId::Ms(id.ms)),
    }
}

/// A range bound: `(` makes it exclusive (then `-`/`+` are refused), which
/// is returned as the flag.
pub fn parse_interval_id(arg: &[u8], missing_seq: u64) -> Result<(StreamId, bool), CommandError> {
    if arg.len() > 1 && arg[0] == b'(' {
        return Ok((parse_strict_id(&arg[1..], missing_seq)?, true));
    }
    Ok((parse_id(arg, missing_seq)?, false))
}

/// The inclusive start of a range from its argument (XRANGE, XPENDING,
/// XAUTOCLAIM).
pub fn range_start(arg: &[u8]) -> Result<StreamId, CommandError> {
    let (id, exclusive) = parse_interval_id(arg, 0)?;
    if exclusive {
        return id.incr().ok_or_else(|| CommandError::err("invalid start ID for the interval"));
    }
    Ok(id)
}

/// The inclusive end of a range from its argument.
pub fn range_end(arg: &[u8]) -> Result<StreamId, CommandError> {
    let (id, exclusive) = parse_interval_id(arg, u64::MAX)?;
    if exclusive {
        return id.decr().ok_or_else(|| CommandError::err("invalid end ID for the interval"));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId::new(ms, seq)
    }

    #[test]
    fn ids_parse_like_string2ull() {
        assert_eq!(parse_id(b"5", 0).unwrap(), id(5, 0));
        assert_eq!(parse_id(b"5", u64::MAX).unwrap(), id(5, u64::MAX));
        assert_eq!(parse_id(b"5-3", 0).unwrap(), id(5, 3));
        assert_eq!(parse_id(b"007-1", 0).unwrap(), id(7, 1));
        assert_eq!(parse_id(b"+7", 0).unwrap(), id(7, 0));
        assert_eq!(parse_id(b" 7", 0).unwrap(), id(7, 0));
        assert_eq!(parse_id(b"1--0", 0).unwrap(), id(1, 0));
        assert_eq!(parse_id(b"1--01", 0).unwrap(), id(1, u64::MAX));
        assert_eq!(parse_id(b"18446744073709551615-18446744073709551615", 0).unwrap(), StreamId::MAX);
        assert!(parse_id(b"18446744073709551616", 0).is_err());
        assert!(parse_id(b"1--1", 0).is_err());
        assert!(parse_id(b"-1", 0).is_err());
        assert!(parse_id(b"", 0).is_err());
        assert!(parse_id(b"7 ", 0).is_err());
        assert!(parse_id(b"1-2-3", 0).is_err());
        assert!(parse_id(b"abc", 0).is_err());
        assert!(parse_id(&[b'1'; 128], 0).is_err());
        assert_eq!(parse_id(b"-", 0).unwrap(), StreamId::MIN);
        assert_eq!(parse_id(b"+", 0).unwrap(), StreamId::MAX);
        assert!(parse_strict_id(b"-", 0).is_err());
        assert!(parse_strict_id(b"+", 0).is_err());
        assert_eq!(parse_id(b"5\0junk", 0).unwrap(), id(5, 0));
    }

    #[test]
    fn add_ids_accept_a_generated_sequence() {
        assert_eq!(parse_add_id(b"5-*").unwrap(), AddId::Ms(5));
        assert_eq!(parse_add_id(b"5-3").unwrap(), AddId::Exact(id(5, 3)));
        assert_eq!(parse_add_id(b"5").unwrap(), AddId::Exact(id(5, 0)));
        assert!(parse_add_id(b"*-5").is_err());
        assert!(parse_id(b"5-*", 0).is_err());
    }

    #[test]
    fn intervals_move_exclusive_bounds() {
        assert_eq!(range_start(b"(5-3").unwrap(), id(5, 4));
        assert_eq!(range_start(b"(5-18446744073709551615").unwrap(), id(6, 0));
        assert_eq!(range_end(b"(5").unwrap(), id(5, u64::MAX - 1));
        assert_eq!(range_end(b"(5-0").unwrap(), id(4, u64::MAX));
        assert!(range_end(b"(0-0").is_err());
        assert!(range_start(b"(18446744073709551615-18446744073709551615").is_err());
        assert!(range_start(b"(-").is_err());
        assert!(range_start(b"(").is_err());
        assert_eq!(range_end(b"+").unwrap(), StreamId::MAX);
    }

    #[test]
    fn ids_order_and_encode_big_endian() {
        assert!(id(1, 5) < id(2, 0));
        assert!(id(1, 5) < id(1, 6));
        assert!(id(1, 5).to_bytes() < id(2, 0).to_bytes());
        assert_eq!(StreamId::from_bytes(&id(3, 4).to_bytes()), Some(id(3, 4)));
        assert_eq!(id(3, 4).to_string(), "3-4");
        assert_eq!(StreamId::MAX.incr(), None);
        assert_eq!(StreamId::MIN.decr(), None);
    }
}
