//! Integer parsing and formatting shared by the parsers and the encoder.

use bytes::{BufMut, BytesMut};

/// Redis's `string2ll`: the only integer syntax Redis accepts in protocol headers. Stricter than
/// `str::parse`: no `+`, no leading zeros, no `-0`, at most 20 bytes. Matching it matters because
/// the same header must be accepted or rejected exactly as Redis would.
pub(crate) fn string2ll(s: &[u8]) -> Option<i64> {
    // LONG_STR_SIZE is 21 in Redis: anything that long cannot be a valid long long anyway.
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    let (&first, rest) = digits.split_first()?;
    if !(b'1'..=b'9').contains(&first) {
        return None;
    }
    let mut v = u64::from(first - b'0');
    for &c in rest {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if negative {
        // i64::MIN's magnitude does not fit in i64, so negate through the unsigned value.
        (v <= i64::MIN.unsigned_abs()).then(|| 0i64.wrapping_sub_unsigned(v))
    } else {
        i64::try_from(v).ok()
    }
}

/// Appends the decimal form of `v` without going through `fmt` (this runs for every header).
pub(crate) fn put_i64(dst: &mut BytesMut, v: i64) {
    if v < 0 {
        dst.put_u8(b'-');
    }
    put_u64(dst, v.unsigned_abs());
}

/// Appends the decimal form of `v`.
pub(crate) fn put_u64(dst: &mut BytesMut, mut v: u64) {
    // u64::MAX has 20 digits.
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    dst.extend_from_slice(&buf[i..]);
}

/// Appends `v` (a length or count) in decimal.
pub(crate) fn put_usize(dst: &mut BytesMut, v: usize) {
    put_u64(dst, v as u64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string2ll_accepts_what_redis_accepts() {
        assert_eq!(string2ll(b"0"), Some(0));
        assert_eq!(string2ll(b"7"), Some(7));
        assert_eq!(string2ll(b"-1"), Some(-1));
        assert_eq!(string2ll(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(string2ll(b"-9223372036854775808"), Some(i64::MIN));
    }

    #[test]
    fn string2ll_rejects_what_redis_rejects() {
        for bad in [
            &b""[..],
            b"-",
            b"+1",
            b"01",
            b"-0",
            b"00",
            b" 1",
            b"1 ",
            b"1a",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"123456789012345678901",
        ] {
            assert_eq!(string2ll(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn integers_format_like_display() {
        for v in [0, 1, -1, 10, -10, i64::MAX, i64::MIN, 1234567890] {
            let mut b = BytesMut::new();
            put_i64(&mut b, v);
            assert_eq!(&b[..], v.to_string().as_bytes());
        }
        let mut b = BytesMut::new();
        put_u64(&mut b, u64::MAX);
        assert_eq!(&b[..], u64::MAX.to_string().as_bytes());
    }
}
