//! Doubles as Redis 7.2 writes them (`d2string` in `util.c`), and parsing of RESP3 `,` frames.
//!
//! Redis's rules, which clients and test suites see in ZSCORE, INCRBYFLOAT-free replies, etc.:
//! - `nan`, `inf`, `-inf` spelled exactly so, whatever the sign bit of a NaN;
//! - zero is `0` or `-0`;
//! - integral values within ±2^62 print as plain integers (Redis's `double2ll` fast path);
//! - everything else goes through `fpconv_dtoa`: the shortest digits that round-trip (Grisu2),
//!   laid out as a plain integer, a plain decimal or `d.ddde±X` by the rules in
//!   [`layout_shortest`].
//!
//! We get the shortest digits from Rust's float formatting (which is exactly shortest, where
//! Grisu2 very rarely emits one digit more) and only re-implement the layout rules.

/// Formats `d` the way Redis 7.2 does in replies (RESP3 `,` payload, RESP2 bulk string).
pub fn format_double(d: f64) -> String {
    if d.is_nan() {
        return "nan".to_owned();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    // Redis's double2ll: (double)(LLONG_MAX/2) rounds to exactly 2^62.
    const HALF_RANGE: f64 = 4_611_686_018_427_387_904.0;
    if (-HALF_RANGE..=HALF_RANGE).contains(&d) && d.fract() == 0.0 {
        // In range and integral, so the cast is exact.
        return (d as i64).to_string();
    }
    // `{:e}` gives the shortest round-trip digits as `d.ddddde<exp>`.
    let sci = format!("{:e}", d.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut out = String::with_capacity(32);
    if d < 0.0 {
        out.push('-');
    }
    // fpconv works with digits D and K such that value = D * 10^K.
    let k = exp - (digits.len() as i32 - 1);
    layout_shortest(&digits, k, d < 0.0, &mut out);
    out
}

/// fpconv_dtoa's `emit_digits`: value = `digits` * 10^`k`, `digits` without leading zeros.
fn layout_shortest(digits: &[u8], k: i32, negative: bool, out: &mut String) {
    let ndigits = digits.len() as i32;
    let push_digits = |out: &mut String, d: &[u8]| out.extend(d.iter().map(|&b| char::from(b)));
    // The decimal exponent of the leading digit, in absolute value.
    let exp = (k + ndigits - 1).abs();

    // Plain integer: digits then k zeros, unless that would mean more than 7 padding zeros.
    if k >= 0 && exp < ndigits + 7 {
        push_digits(out, digits);
        out.extend(std::iter::repeat_n('0', k as usize));
        return;
    }

    // Plain decimal for moderately small fractions.
    if k < 0 && (k > -7 || exp < 4) {
        let offset = ndigits + k;
        if offset <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-offset) as usize));
            push_digits(out, digits);
        } else {
            let (int, frac) = digits.split_at(offset as usize);
            push_digits(out, int);
            out.push('.');
            push_digits(out, frac);
        }
        return;
    }

    // Scientific: d[.ddd]e±X, exponent without zero padding (but "1e+100", "1e+105" keep the
    // middle digit, as fpconv writes hundreds, tens, units).
    let keep = digits.len().min(if negative { 17 } else { 18 });
    let digits = &digits[..keep];
    if let Some((first, rest)) = digits.split_first() {
        out.push(char::from(*first));
        if !rest.is_empty() {
            out.push('.');
            push_digits(out, rest);
        }
    }
    out.push('e');
    out.push(if k + keep as i32 - 1 < 0 { '-' } else { '+' });
    out.push_str(&exp.to_string());
}

/// Parses the payload of a RESP3 `,` frame: decimal, exponent, `inf`, `-inf`, `nan`.
pub(crate) fn parse_double(s: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(s).ok()?;
    // Rust's parser already accepts inf/infinity/nan in any case and rejects whitespace.
    s.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_values_use_redis_spelling() {
        assert_eq!(format_double(f64::NAN), "nan");
        assert_eq!(format_double(-f64::NAN), "nan");
        assert_eq!(format_double(f64::INFINITY), "inf");
        assert_eq!(format_double(f64::NEG_INFINITY), "-inf");
        assert_eq!(format_double(0.0), "0");
        assert_eq!(format_double(-0.0), "-0");
    }

    #[test]
    fn integral_values_print_without_a_fraction() {
        assert_eq!(format_double(3.0), "3");
        assert_eq!(format_double(-42.0), "-42");
        assert_eq!(format_double(1e15), "1000000000000000");
        assert_eq!(format_double(4_611_686_018_427_387_904.0), "4611686018427387904");
        assert_eq!(format_double(-4_611_686_018_427_387_904.0), "-4611686018427387904");
    }

    #[test]
    fn large_integral_values_follow_fpconv_layout() {
        // Beyond 2^62 Redis leaves the integer fast path: shortest digits then zero padding.
        assert_eq!(format_double(9_223_372_036_854_775_808.0), "9223372036854776000");
        assert_eq!(format_double(1e19), "1e+19");
        assert_eq!(format_double(1e21), "1e+21");
        assert_eq!(format_double(1.5e300), "1.5e+300");
        assert_eq!(format_double(-1e100), "-1e+100");
        assert_eq!(format_double(1.2345678901234568e20), "123456789012345680000");
        assert_eq!(format_double(f64::MAX), "1.7976931348623157e+308");
    }

    #[test]
    fn fractions_follow_fpconv_layout() {
        assert_eq!(format_double(1.5), "1.5");
        assert_eq!(format_double(-0.5), "-0.5");
        assert_eq!(format_double(0.1), "0.1");
        assert_eq!(format_double(12.375), "12.375");
        assert_eq!(format_double(0.0001), "0.0001");
        assert_eq!(format_double(0.000001), "0.000001");
        assert_eq!(format_double(1e-7), "1e-7");
        assert_eq!(format_double(1.5e-7), "1.5e-7");
        assert_eq!(format_double(1.2345e-5), "1.2345e-5");
        assert_eq!(format_double(0.00012345), "1.2345e-4");
        assert_eq!(format_double(0.0012345), "0.0012345");
        assert_eq!(format_double(1234567.1234567891), "1.2345671234567892e+6");
        assert_eq!(format_double(123456789.123), "123456789.123");
        assert_eq!(format_double(5e-324), "5e-324");
        assert_eq!(format_double(2.5e-100), "2.5e-100");
    }

    #[test]
    fn formatted_doubles_parse_back_to_the_same_value() {
        for d in [0.1, 1.0 / 3.0, 1e-7, 123.456, 6.02214076e23, f64::MIN_POSITIVE, f64::MAX, -2.5e-100] {
            let s = format_double(d);
            assert_eq!(parse_double(s.as_bytes()), Some(d), "{s}");
        }
    }

    #[test]
    fn parse_double_accepts_redis_spellings() {
        assert_eq!(parse_double(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_double(b"-inf"), Some(f64::NEG_INFINITY));
        assert!(parse_double(b"nan").is_some_and(f64::is_nan));
        assert_eq!(parse_double(b"1.5e3"), Some(1500.0));
        assert_eq!(parse_double(b"-1E-2"), Some(-0.01));
        assert_eq!(parse_double(b""), None);
        assert_eq!(parse_double(b" 1"), None);
        assert_eq!(parse_double(b"1x"), None);
    }
}
