//! Scores as Redis reads and prints them, and the score and lex ranges of
//! the range commands.
//!
//! Reading: Redis converts every score with libc's `strtod`, then applies
//! one of two acceptance rules. A score argument (ZADD, ZINCRBY, WEIGHTS:
//! `getDoubleFromObject`) must be the whole string, may not start with a
//! space, may not overflow or underflow to zero, and may not be NaN. A range
//! bound (`zslParseRange`) is looser: leading spaces are skipped, overflow is
//! fine (`1e400` is `inf`), the empty string is 0, and only trailing bytes
//! and NaN are refused. [`strtod`] reproduces glibc's parser (decimal, hex
//! floats, `inf`/`infinity`, `nan(...)`), so both rules can be applied to
//! its result.
//!
//! Printing: the reference server (Redis 7.0) prints scores with `"%.17g"`,
//! in RESP2 bulk strings and RESP3 doubles alike; [`format_score`] does the
//! same (Redis 7.2 prints the shortest round-trip form instead; the one
//! function to change if the reference moves).

use std::cmp::Ordering;

use bytes::Bytes;
use resp::Frame;

/// What `strtod` made of a string.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Strtod {
    pub value: f64,
    /// Bytes consumed (0 when nothing could be converted: `strtod` then
    /// points `endptr` at the start of the string).
    pub consumed: usize,
    /// `errno == ERANGE`: the value overflowed to infinity or underflowed.
    pub range_error: bool,
}

/// C's `isspace` in the "C" locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// glibc's `strtod` on `s` in the "C" locale.
pub fn strtod(s: &[u8]) -> Strtod {
    let none = Strtod { value: 0.0, consumed: 0, range_error: false };
    let mut at = 0;
    while at < s.len() && is_c_space(s[at]) {
        at += 1;
    }
    let negative = s.get(at) == Some(&b'-');
    if matches!(s.get(at), Some(b'-' | b'+')) {
        at += 1;
    }
    let signed = |v: f64| if negative { -v } else { v };
    let rest = &s[at..];
    let starts_with_ci = |word: &[u8]| rest.len() >= word.len() && rest[..word.len()].eq_ignore_ascii_case(word);
    if starts_with_ci(b"inf") {
        let len = if starts_with_ci(b"infinity") { 8 } else { 3 };
        return Strtod { value: signed(f64::INFINITY), consumed: at + len, range_error: false };
    }
    if starts_with_ci(b"nan") {
        let mut len = 3;
        // "nan(n-char-sequence)" is one token; an unclosed "(" is not part of it.
        if rest.get(3) == Some(&b'(') {
            let body = rest[4..].iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_').count();
            if rest.get(4 + body) == Some(&b')') {
                len = 4 + body + 1;
            }
        }
        return Strtod { value: signed(f64::NAN), consumed: at + len, range_error: false };
    }
    let hex_start = rest.len() > 2
        && rest[0] == b'0'
        && (rest[1] | 0x20) == b'x'
        && (rest[2].is_ascii_hexdigit() || (rest[2] == b'.' && rest.get(3).is_some_and(u8::is_ascii_hexdigit)));
    let parsed = if hex_start { parse_hex(&rest[2..]).map(|(v, n, r)| (v, n + 2, r)) } else { parse_decimal(rest) };
    match parsed {
        Some((value, len, range_error)) => Strtod { value: signed(value), consumed: at + len, range_error },
        None => none,
    }
}

/// The longest decimal number at the start of `s` (no sign): its value, its
/// length and whether it over- or underflowed.
fn parse_decimal(s: &[u8]) -> Option<(f64, usize, bool)> {
    let digits_at = |from: usize| s[from..].iter().take_while(|b| b.is_ascii_digit()).count();
    let int_digits = digits_at(0);
    let mut end = int_digits;
    let mut frac_digits = 0;
    if s.get(end) == Some(&b'.') {
        frac_digits = digits_at(end + 1);
        if int_digits + frac_digits > 0 {
            end += 1 + frac_digits;
        }
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    let mantissa_end = end;
    if matches!(s.get(end), Some(b'e' | b'E')) {
        let mut exp_at = end + 1;
        if matches!(s.get(exp_at), Some(b'+' | b'-')) {
            exp_at += 1;
        }
        let exp_digits = digits_at(exp_at.min(s.len()));
        if exp_digits > 0 {
            end = exp_at + exp_digits;
        }
    }
    let text = std::str::from_utf8(&s[..end]).ok()?;
    // Rust's parser rounds correctly like glibc's, saturating huge
    // exponents to infinity or zero.
    let value: f64 = text.parse().ok()?;
    let nonzero_mantissa = s[..mantissa_end].iter().any(|b| (b'1'..=b'9').contains(b));
    let range_error = value.is_infinite() || (value == 0.0 && nonzero_mantissa) || is_subnormal(value);
    Some((value, end, range_error))
}

fn is_subnormal(v: f64) -> bool {
    v != 0.0 && v.abs() < f64::MIN_POSITIVE
}

/// A hexadecimal float after its `0x`: `h*[.h*][p[+-]d+]`, rounded to
/// nearest-even like glibc.
fn parse_hex(s: &[u8]) -> Option<(f64, usize, bool)> {
    // The significant bits, kept to 64 with a sticky bit for the rest.
    let mut mantissa: u64 = 0;
    let mut sticky = false;
    // Binary exponent to apply to `mantissa`.
    let mut exp2: i64 = 0;
    let mut at = 0;
    let mut any_digit = false;
    let mut seen_point = false;
    while at < s.len() {
        let b = s[at];
        if b == b'.' && !seen_point {
            seen_point = true;
            at += 1;
            continue;
        }
        let Some(d) = (b as char).to_digit(16) else { break };
        any_digit = true;
        if mantissa >> 60 == 0 {
            mantissa = mantissa << 4 | d as u64;
            if seen_point {
                exp2 -= 4;
            }
        } else {
            sticky |= d != 0;
            if !seen_point {
                exp2 += 4;
            }
        }
        at += 1;
    }
    if !any_digit {
        return None;
    }
    if matches!(s.get(at), Some(b'p' | b'P')) {
        let mut exp_at = at + 1;
        let negative = s.get(exp_at) == Some(&b'-');
        if matches!(s.get(exp_at), Some(b'+' | b'-')) {
            exp_at += 1;
        }
        let digits = s[exp_at.min(s.len())..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0 {
            let mut e: i64 = 0;
            for &d in &s[exp_at..exp_at + digits] {
                e = (e * 10 + (d - b'0') as i64).min(1 << 40);
            }
            exp2 += if negative { -e } else { e };
            at = exp_at + digits;
        }
    }
    if mantissa == 0 {
        return Some((0.0, at, false));
    }
    let (value, inexact_tiny) = compose(mantissa, sticky, exp2);
    let range_error = value.is_infinite() || value == 0.0 || (inexact_tiny && is_subnormal(value));
    Some((value, at, range_error))
}

/// `mantissa * 2^exp2` (plus a sticky fraction below it) rounded to the
/// nearest f64, ties to even. Also says whether a subnormal result was
/// inexact.
fn compose(mantissa: u64, sticky: bool, exp2: i64) -> (f64, bool) {
    let lead = 63 - mantissa.leading_zeros() as i64;
    // Exponent of the leading bit.
    let top = lead + exp2;
    if top > 1023 {
        return (f64::INFINITY, false);
    }
    // Keep 53 bits for normals; fewer for subnormals (lowest bit 2^-1074).
    let lowest_kept = (top - 52).max(-1074);
    let drop = lowest_kept - exp2;
    let (mut kept, round_bit, rest_sticky) = if drop <= 0 {
        ((mantissa as u128) << (-drop) as u32, false, sticky)
    } else if drop > 64 {
        (0u128, false, true)
    } else {
        let m = mantissa as u128;
        let kept = m >> drop;
        let round = (m >> (drop - 1)) & 1 == 1;
        let below = m & ((1u128 << (drop - 1)) - 1) != 0;
        (kept, round, below || sticky)
    };
    let inexact = round_bit || rest_sticky;
    if round_bit && (rest_sticky || kept & 1 == 1) {
        kept += 1;
    }
    // kept * 2^lowest_kept, exact in f64 (kept has at most 54 bits, and a
    // carry to 2^53 is still exact).
    let value = kept as f64 * pow2(lowest_kept);
    (value, inexact)
}

fn pow2(e: i64) -> f64 {
    // Two steps keep every factor representable down to 2^-1074.
    if e < -1000 {
        f64::from_bits(((1023 - 1000) as u64) << 52) * f64::from_bits(((1023 + e + 1000) as u64) << 52)
    } else if e > 1023 {
        f64::INFINITY
    } else {
        f64::from_bits(((1023 + e) as u64) << 52)
    }
}

/// A score argument (`getDoubleFromObject`): `None` unless the whole string
/// is a non-NaN number that neither overflows nor underflows to zero.
pub fn parse_score(arg: &[u8]) -> Option<f64> {
    if arg.is_empty() || is_c_space(arg[0]) {
        return None;
    }
    let r = strtod(arg);
    let out_of_range = r.range_error && (r.value.is_infinite() || r.value == 0.0);
    (r.consumed == arg.len() && !out_of_range && !r.value.is_nan()).then_some(r.value)
}

/// A range bound without its `(`: what `strtod` reads must end the string
/// (or meet a NUL byte, where C stops reading) and not be NaN.
fn parse_bound(text: &[u8]) -> Option<f64> {
    let r = strtod(text);
    let stop = text.get(r.consumed).copied();
    (matches!(stop, None | Some(0)) && !r.value.is_nan()).then_some(r.value)
}

/// Formats a score the way the reference server prints it: `%.17g`, with
/// `inf`, `-inf` and `-0` spelled out.
pub fn format_score(d: f64) -> String {
    if d.is_nan() {
        return "nan".to_owned();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    // 17 significant digits, correctly rounded like glibc's printf.
    let sci = format!("{:.16e}", d.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    let mut out = String::with_capacity(24);
    if d < 0.0 {
        out.push('-');
    }
    if !(-4..17).contains(&exp) {
        let significant = trim_zeros(&digits);
        out.push(char::from(significant[0]));
        if significant.len() > 1 {
            out.push('.');
            out.extend(significant[1..].iter().map(|&b| char::from(b)));
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    } else if exp >= 0 {
        let split = exp as usize + 1;
        out.extend(digits[..split].iter().map(|&b| char::from(b)));
        let frac = trim_zeros(&digits[split..]);
        if !frac.is_empty() {
            out.push('.');
            out.extend(frac.iter().map(|&b| char::from(b)));
        }
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
        out.extend(trim_zeros(&digits).iter().map(|&b| char::from(b)));
    }
    out
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let keep = digits.iter().rposition(|&b| b != b'0').map_or(0, |p| p + 1);
    &digits[..keep]
}

/// A score in a reply: a RESP3 double, or a bulk string in RESP2.
pub fn score_frame(score: f64) -> Frame {
    Frame::DoubleText(Bytes::from(format_score(score)))
}

/// A score as a bulk string in both protocols (ZSCAN's member/score list).
pub fn score_bulk(score: f64) -> Frame {
    Frame::Bulk(Bytes::from(format_score(score)))
}

/// A score as a listpack holds it, which is how ZSCAN returns the scores of
/// a small set: integral values within +-2^62 as integers (Redis's
/// `double2ll`, so `-0` reads `0`), others as [`format_score`].
pub fn format_listpack_score(d: f64) -> String {
    const HALF_RANGE: f64 = 4_611_686_018_427_387_904.0;
    if d.fract() == 0.0 && (-HALF_RANGE..=HALF_RANGE).contains(&d) {
        // In range and integral, so the conversion is exact.
        (d as i64).to_string()
    } else {
        format_score(d)
    }
}

/// Orders scores as Redis does: numerically, with `-0` equal to `0`.
pub fn cmp_scores(a: f64, b: f64) -> Ordering {
    a.partial_cmp(&b).unwrap_or(Ordering::Equal)
}

/// A score interval, `zrangespec`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub min_exclusive: bool,
    pub max_exclusive: bool,
}

impl ScoreRange {
    /// Parses `min max` like `zslParseRange`; `None` is Redis's "min or
    /// max is not a float".
    pub fn parse(min: &[u8], max: &[u8]) -> Option<ScoreRange> {
        let bound = |arg: &[u8]| match arg.first() {
            Some(b'(') => parse_bound(&arg[1..]).map(|v| (v, true)),
            _ => parse_bound(arg).map(|v| (v, false)),
        };
        let (min, min_exclusive) = bound(min)?;
        let (max, max_exclusive) = bound(max)?;
        Some(ScoreRange { min, max, min_exclusive, max_exclusive })
    }

    /// Whether no score can be in the range (`zslIsInRange`'s first test).
    pub fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.min_exclusive || self.max_exclusive))
    }
}

/// One end of a lex range (`zlexrangespec`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexBound {
    /// `-`: below every member.
    Min,
    /// `+`: above every member.
    Max,
    /// `[member`
    Inclusive(Bytes),
    /// `(member`
    Exclusive(Bytes),
}

impl LexBound {
    /// `zslParseLexRangeItem`; C stops reading `+`/`-` at a NUL byte.
    fn parse(arg: &Bytes) -> Option<LexBound> {
        let alone = arg.len() == 1 || arg.get(1) == Some(&0);
        match arg.first()? {
            b'+' if alone => Some(LexBound::Max),
            b'-' if alone => Some(LexBound::Min),
            b'(' => Some(LexBound::Exclusive(arg.slice(1..))),
            b'[' => Some(LexBound::Inclusive(arg.slice(1..))),
            _ => None,
        }
    }

    fn exclusive(&self) -> bool {
        !matches!(self, LexBound::Inclusive(_))
    }

    /// `sdscmplex` of a member against this bound.
    fn cmp_member(&self, member: &[u8]) -> Ordering {
        match self {
            LexBound::Min => Ordering::Less,
            LexBound::Max => Ordering::Greater,
            LexBound::Inclusive(b) | LexBound::Exclusive(b) => b.as_ref().cmp(member),
        }
    }
}

/// A lex interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
}

impl LexRange {
    /// Parses `min max`; `None` is Redis's "min or max not valid string
    /// range item".
    pub fn parse(min: &Bytes, max: &Bytes) -> Option<LexRange> {
        Some(LexRange { min: LexBound::parse(min)?, max: LexBound::parse(max)? })
    }

    /// Whether the range is empty whatever the members (`zslIsInLexRange`).
    pub fn is_empty(&self) -> bool {
        use LexBound::*;
        let cmp = match (&self.min, &self.max) {
            (Min, Min) | (Max, Max) => Ordering::Equal,
            (Min, _) | (_, Max) => Ordering::Less,
            (Max, _) | (_, Min) => Ordering::Greater,
            (a, b) => {
                let bytes = |x: &LexBound| match x {
                    Inclusive(v) | Exclusive(v) => v.clone(),
                    _ => Bytes::new(),
                };
                bytes(a).cmp(&bytes(b))
            }
        };
        cmp == Ordering::Greater || (cmp == Ordering::Equal && (self.min.exclusive() || self.max.exclusive()))
    }

    /// `zslLexValueGteMin`
    pub fn gte_min(&self, member: &[u8]) -> bool {
        let bound_vs_member = self.min.cmp_member(member);
        if self.min.exclusive() {
            bound_vs_member == Ordering::Less
        } else {
            bound_vs_member != Ordering::Greater
        }
    }

    /// `zslLexValueLteMax`
    pub fn lte_max(&self, member: &[u8]) -> bool {
        let bound_vs_member = self.max.cmp_member(member);
        if self.max.exclusive() {
            bound_vs_member == Ordering::Greater
        } else {
            bound_vs_member != Ordering::Less
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_print_like_printf_17g() {
        for (d, text) in [
            (0.1, "0.10000000000000001"),
            (1.1, "1.1000000000000001"),
            (1.5, "1.5"),
            (3.0, "3"),
            (-2.5, "-2.5"),
            (1e15, "1000000000000000"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
            (1.5e17, "1.5e+17"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (0.0001, "0.0001"),
            (0.00001, "1.0000000000000001e-05"),
            (1e-5, "1.0000000000000001e-05"),
            (2.5e-5, "2.5000000000000001e-05"),
            (1e100, "1e+100"),
            (1e-320, "9.9998886718268301e-321"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (-0.0, "-0"),
            (0.0, "0"),
            (1.3, "1.3"),
            (0.3, "0.29999999999999999"),
        ] {
            assert_eq!(format_score(d), text, "{d:e}");
        }
    }

    #[test]
    fn listpack_scores_print_integers_up_to_2_pow_62() {
        assert_eq!(format_listpack_score(1e17), "100000000000000000");
        assert_eq!(format_listpack_score(123456789012345678.0), "123456789012345680");
        assert_eq!(format_listpack_score(4611686018427387904.0), "4611686018427387904");
        assert_eq!(format_listpack_score(-4611686018427387904.0), "-4611686018427387904");
        assert_eq!(format_listpack_score(9223372036854775808.0), "9.2233720368547758e+18");
        assert_eq!(format_listpack_score(-0.0), "0");
        assert_eq!(format_listpack_score(0.5), "0.5");
        assert_eq!(format_listpack_score(f64::INFINITY), "inf");
    }

    #[test]
    fn score_arguments_follow_get_double_from_object() {
        assert_eq!(parse_score(b"1.5"), Some(1.5));
        assert_eq!(parse_score(b"+1.5"), Some(1.5));
        assert_eq!(parse_score(b".5"), Some(0.5));
        assert_eq!(parse_score(b"1."), Some(1.0));
        assert_eq!(parse_score(b"1e3"), Some(1000.0));
        assert_eq!(parse_score(b"0x10"), Some(16.0));
        assert_eq!(parse_score(b"0x1.8p1"), Some(3.0));
        assert_eq!(parse_score(b"-0x.8"), Some(-0.5));
        assert_eq!(parse_score(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_score(b"-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"1e-320"), Some(1e-320));
        assert!(parse_score(b"-0").is_some_and(|v| v == 0.0 && v.is_sign_negative()));
        for bad in
            [&b""[..], b" 1", b"1 ", b"abc", b"nan", b"NaN(12)", b"1e400", b"-1e400", b"1e-400", b"0x", b"1e", b"."]
        {
            assert_eq!(parse_score(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn strtod_stops_where_glibc_does() {
        assert_eq!(strtod(b"0x").consumed, 1);
        assert_eq!(strtod(b"0xg").consumed, 1);
        assert_eq!(strtod(b"1e+").consumed, 1);
        assert_eq!(strtod(b"infin").consumed, 3);
        assert_eq!(strtod(b"nan(abc").consumed, 3);
        assert_eq!(strtod(b"nan(abc)x").consumed, 8);
        assert_eq!(strtod(b"  12abc").consumed, 4);
        assert_eq!(strtod(b"abc").consumed, 0);
        assert_eq!(strtod(b"0x1p-1075").value, 0.0);
        assert!(strtod(b"0x1p-1075").range_error);
        assert_eq!(strtod(b"0x1.fffffffffffff8p0").value, 2.0);
        assert_eq!(strtod(b"0x1.fffffffffffff7p0").value, 1.9999999999999998);
        assert_eq!(strtod(b"0x1p-1074").value, 5e-324);
        assert_eq!(strtod(b"0x1p1024").value, f64::INFINITY);
    }

    #[test]
    fn range_bounds_follow_zsl_parse_range() {
        let r = ScoreRange::parse(b"(1", b"5").unwrap();
        assert!(r.min_exclusive && !r.max_exclusive && r.min == 1.0 && r.max == 5.0);
        assert_eq!(ScoreRange::parse(b"", b"(").map(|r| (r.min, r.max, r.max_exclusive)), Some((0.0, 0.0, true)));
        assert!(ScoreRange::parse(b" 1", b"1e400").is_some_and(|r| r.max.is_infinite()));
        assert!(ScoreRange::parse(b"1 ", b"2").is_none());
        assert!(ScoreRange::parse(b"nan", b"2").is_none());
        assert!(ScoreRange::parse(b"(nan", b"2").is_none());
        assert!(ScoreRange::parse(b"1\0junk", b"2").is_some());
        assert!(ScoreRange::parse(b"2", b"1").unwrap().is_empty());
        assert!(ScoreRange::parse(b"(1", b"1").unwrap().is_empty());
        assert!(!ScoreRange::parse(b"1", b"1").unwrap().is_empty());
    }

    #[test]
    fn lex_ranges_follow_zsl_parse_lex_range() {
        let b = |s: &str| Bytes::copy_from_slice(s.as_bytes());
        assert!(LexRange::parse(&b("a"), &b("+")).is_none());
        assert!(LexRange::parse(&b(""), &b("+")).is_none());
        assert!(LexRange::parse(&b("+x"), &b("+")).is_none());
        let all = LexRange::parse(&b("-"), &b("+")).unwrap();
        assert!(!all.is_empty() && all.gte_min(b"") && all.lte_max(b"\xff"));
        assert!(LexRange::parse(&b("+"), &b("-")).unwrap().is_empty());
        assert!(LexRange::parse(&b("+"), &b("+")).unwrap().is_empty());
        assert!(LexRange::parse(&b("[b"), &b("[a")).unwrap().is_empty());
        assert!(LexRange::parse(&b("(a"), &b("[a")).unwrap().is_empty());
        assert!(!LexRange::parse(&b("[a"), &b("[a")).unwrap().is_empty());
        let r = LexRange::parse(&b("(b"), &b("[d")).unwrap();
        assert!(!r.gte_min(b"b") && r.gte_min(b"b\0") && r.lte_max(b"d") && !r.lte_max(b"d\0"));
        let empty_member = LexRange::parse(&b("["), &b("+")).unwrap();
        assert!(empty_member.gte_min(b""));
    }
}
