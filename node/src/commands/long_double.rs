//! INCRBYFLOAT's arithmetic: the x87 80-bit `long double` of Redis on x86-64,
//! in software.
//!
//! Redis parses both operands with `strtold`, adds them in `long double` and
//! prints the sum with `"%.17Lf"` minus trailing zeros. The 64-bit
//! significand makes results differ from `f64` in ways clients see: `0.1 +
//! 0.2` is `0.3`, not `0.30000000000000004`, and `1e300` prints as its exact
//! 80-bit value, 301 digits long. To answer byte for byte (and the same on
//! every replica, whatever its CPU) this module parses, adds and prints
//! exactly, with correct round-to-nearest-even, on a small big-integer type.
//!
//! Values are `significand * 2^exponent` with a 64-bit significand, between
//! the x87 limits: exponents below [`EXP_MIN`] make subnormals, above
//! [`EXP_MAX`] infinity.

use std::cmp::Ordering;

/// Smallest exponent (of the 64-bit significand): 2^-16382 is the smallest
/// normal value, so the significand's lowest bit is worth 2^-16445.
const EXP_MIN: i64 = -16445;
/// Largest exponent: the biggest finite value is (2^64 - 1) * 2^16320.
const EXP_MAX: i64 = 16320;
/// Redis refuses numbers of this many bytes or more (MAX_LONG_DOUBLE_CHARS).
pub const INPUT_BYTES_MAX: usize = 5 * 1024 - 1;

/// An x87 extended-precision value.
#[derive(Debug, Clone, PartialEq)]
pub enum LongDouble {
    Finite { negative: bool, significand: u64, exponent: i64 },
    Infinite { negative: bool },
}

impl LongDouble {
    pub fn is_finite(&self) -> bool {
        matches!(self, LongDouble::Finite { .. })
    }

    fn zero(negative: bool) -> Self {
        LongDouble::Finite { negative, significand: 0, exponent: 0 }
    }

    /// Parses `text` like Redis's `string2ld`: the whole of it must be a
    /// number `strtold` accepts (decimal or hex, `inf`/`infinity`), with no
    /// leading space, that neither overflows nor underflows to zero, and is
    /// not NaN.
    pub fn parse(text: &[u8]) -> Option<LongDouble> {
        if text.is_empty() || text.len() > INPUT_BYTES_MAX {
            return None;
        }
        let (negative, body) = match text[0] {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
            return Some(LongDouble::Infinite { negative });
        }
        let parsed = if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
            parse_hex(&body[2..])?
        } else {
            parse_decimal(body)?
        };
        match parsed {
            Parsed::Zero => Some(LongDouble::zero(negative)),
            Parsed::Value { digits, exponent2, sticky } => match round(negative, digits, exponent2, sticky) {
                // Overflow and underflow to zero are ERANGE, which Redis rejects.
                Rounded::Value(value @ LongDouble::Finite { significand: 1.., .. }) => Some(value),
                _ => None,
            },
        }
    }

    /// `self + other`, rounded to nearest-even like the x87 FPU. Infinities
    /// of opposite signs give `None` (NaN).
    pub fn add(&self, other: &LongDouble) -> Option<LongDouble> {
        use LongDouble::{Finite, Infinite};
        match (self, other) {
            (Infinite { negative: a }, Infinite { negative: b }) => (a == b).then(|| self.clone()),
            (Infinite { .. }, _) => Some(self.clone()),
            (_, Infinite { .. }) => Some(other.clone()),
            (
                Finite { negative: an, significand: am, exponent: ae },
                Finite { negative: bn, significand: bm, exponent: be },
            ) => {
                if *am == 0 && *bm == 0 {
                    return Some(LongDouble::zero(*an && *bn));
                }
                if *am == 0 {
                    return Some(other.clone());
                }
                if *bm == 0 {
                    return Some(self.clone());
                }
                let base = (*ae).min(*be);
                let a = BigUint::from_u64(*am).shl((ae - base) as usize);
                let b = BigUint::from_u64(*bm).shl((be - base) as usize);
                let (negative, sum) = if an == bn {
                    (*an, a.add(&b))
                } else {
                    match a.cmp(&b) {
                        Ordering::Equal => return Some(LongDouble::zero(false)),
                        Ordering::Greater => (*an, a.sub(&b)),
                        Ordering::Less => (*bn, b.sub(&a)),
                    }
                };
                match round(negative, sum, base, false) {
                    Rounded::Value(value) => Some(value),
                    Rounded::Overflow => Some(LongDouble::Infinite { negative }),
                    Rounded::Underflow => Some(LongDouble::zero(negative)),
                }
            }
        }
    }

    /// Formats like Redis's `ld2string(.., LD_STR_HUMAN)`: `"%.17Lf"`, then
    /// trailing zeros and a trailing point removed, and "-0" written "0".
    pub fn to_human_string(&self) -> String {
        let (negative, significand, exponent) = match self {
            LongDouble::Infinite { negative: true } => return "-inf".into(),
            LongDouble::Infinite { negative: false } => return "inf".into(),
            LongDouble::Finite { negative, significand, exponent } => (*negative, *significand, *exponent),
        };
        // The value times 10^17, rounded half-to-even like glibc's printf.
        let mut scaled = BigUint::from_u64(significand);
        for _ in 0..17 {
            scaled = scaled.mul_small(10);
        }
        let fixed = if exponent >= 0 {
            scaled.shl(exponent as usize)
        } else {
            let shift = exponent.unsigned_abs() as usize;
            let quotient = scaled.shr(shift);
            let round_up = match scaled.low_bits_vs_half(shift) {
                Ordering::Greater => true,
                Ordering::Equal => quotient.is_odd(),
                Ordering::Less => false,
            };
            if round_up {
                quotient.add(&BigUint::from_u64(1))
            } else {
                quotient
            }
        };
        let mut digits = fixed.to_decimal();
        if digits.len() < 18 {
            digits = "0".repeat(18 - digits.len()) + &digits;
        }
        let (int_part, frac_part) = digits.split_at(digits.len() - 17);
        let frac_part = frac_part.trim_end_matches('0');
        let mut out = String::with_capacity(digits.len() + 2);
        if negative {
            out.push('-');
        }
        out.push_str(int_part);
        if !frac_part.is_empty() {
            out.push('.');
            out.push_str(frac_part);
        }
        if out == "-0" {
            out.remove(0);
        }
        out
    }
}

enum Parsed {
    Zero,
    /// `digits * 2^exponent2`, plus whether nonzero bits were cut below it.
    Value {
        digits: BigUint,
        exponent2: i64,
        sticky: bool,
    },
}

/// A decimal `strtold` number: digits, an optional point, an optional
/// exponent. Anything left over makes the whole text invalid.
fn parse_decimal(body: &[u8]) -> Option<Parsed> {
    let mut at = 0;
    let mut digits = BigUint::zero();
    let mut digit_count = 0usize;
    let mut exponent10: i64 = 0;
    let mut seen_point = false;
    let mut any_digit = false;
    while at < body.len() {
        match body[at] {
            d @ b'0'..=b'9' => {
                any_digit = true;
                if seen_point {
                    exponent10 -= 1;
                }
                if digit_count > 0 || d != b'0' {
                    digits = digits.mul_small(10).add(&BigUint::from_u64((d - b'0') as u64));
                    digit_count += 1;
                }
            }
            b'.' if !seen_point => seen_point = true,
            _ => break,
        }
        at += 1;
    }
    if !any_digit {
        return None;
    }
    if at < body.len() {
        if body[at] | 0x20 != b'e' {
            return None;
        }
        let exp_text = &body[at + 1..];
        let (exp_negative, exp_digits) = match exp_text.first() {
            Some(b'-') => (true, &exp_text[1..]),
            Some(b'+') => (false, &exp_text[1..]),
            _ => (false, exp_text),
        };
        if exp_digits.is_empty() || !exp_digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        // Saturate: anything this large over- or underflows regardless.
        let mut exp: i64 = 0;
        for &d in exp_digits {
            exp = (exp * 10 + (d - b'0') as i64).min(1_000_000_000);
        }
        exponent10 += if exp_negative { -exp } else { exp };
    }
    if digit_count == 0 {
        return Some(Parsed::Zero);
    }
    // Magnitude is between 10^(e + n - 1) and 10^(e + n): cut off the hopeless cases.
    let magnitude10 = exponent10 + digit_count as i64;
    if magnitude10 > 4940 {
        return Some(Parsed::Value { digits: BigUint::from_u64(1), exponent2: EXP_MAX + 64, sticky: false });
    }
    if magnitude10 < -4960 {
        return Some(Parsed::Value { digits: BigUint::from_u64(1), exponent2: EXP_MIN - 64, sticky: false });
    }
    if exponent10 >= 0 {
        let mut value = digits;
        for _ in 0..exponent10 {
            value = value.mul_small(10);
        }
        return Some(Parsed::Value { digits: value, exponent2: 0, sticky: false });
    }
    let mut divisor = BigUint::from_u64(1);
    for _ in 0..exponent10.unsigned_abs() {
        divisor = divisor.mul_small(10);
    }
    // Scale so the quotient has at least 66 significant bits: enough for a
    // 64-bit significand, its rounding bit, and a sticky bit.
    let shift = (divisor.bit_len() + 66).saturating_sub(digits.bit_len());
    let (quotient, remainder_nonzero) = digits.shl(shift).div_rem_nonzero(&divisor);
    Some(Parsed::Value { digits: quotient, exponent2: -(shift as i64), sticky: remainder_nonzero })
}

/// A hex `strtold` number after its `0x`: hex digits, an optional point, an
/// optional binary exponent `p[+-]digits`.
fn parse_hex(body: &[u8]) -> Option<Parsed> {
    let mut at = 0;
    let mut digits = BigUint::zero();
    let mut exponent2: i64 = 0;
    let mut seen_point = false;
    let mut any_digit = false;
    while at < body.len() {
        let c = body[at];
        if let Some(d) = (c as char).to_digit(16) {
            any_digit = true;
            digits = digits.mul_small(16).add(&BigUint::from_u64(d as u64));
            if seen_point {
                exponent2 -= 4;
            }
        } else if c == b'.' && !seen_point {
            seen_point = true;
        } else {
            break;
        }
        at += 1;
    }
    if !any_digit {
        return None;
    }
    if at < body.len() {
        if body[at] | 0x20 != b'p' {
            return None;
        }
        let exp_text = &body[at + 1..];
        let (exp_negative, exp_digits) = match exp_text.first() {
            Some(b'-') => (true, &exp_text[1..]),
            Some(b'+') => (false, &exp_text[1..]),
            _ => (false, exp_text),
        };
        if exp_digits.is_empty() || !exp_digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let mut exp: i64 = 0;
        for &d in exp_digits {
            exp = (exp * 10 + (d - b'0') as i64).min(1_000_000_000);
        }
        exponent2 += if exp_negative { -exp } else { exp };
    }
    if digits.is_zero() {
        return Some(Parsed::Zero);
    }
    Some(Parsed::Value { digits, exponent2, sticky: false })
}

enum Rounded {
    Value(LongDouble),
    Overflow,
    Underflow,
}

/// Rounds `digits * 2^exponent2` (plus a nonzero tail below it when
/// `sticky`) to a 64-bit significand, to nearest, ties to even.
fn round(negative: bool, digits: BigUint, exponent2: i64, sticky: bool) -> Rounded {
    let bits = digits.bit_len() as i64;
    if bits == 0 {
        return Rounded::Underflow;
    }
    let mut shift = bits - 64;
    if exponent2 + shift < EXP_MIN {
        shift = EXP_MIN - exponent2;
    }
    let mut exponent = exponent2 + shift;
    let significand = if shift <= 0 {
        digits.shl(shift.unsigned_abs() as usize).low_u64()
    } else {
        let shift = shift as usize;
        let kept = digits.shr(shift);
        let round_up = match digits.low_bits_vs_half(shift) {
            Ordering::Greater => true,
            Ordering::Equal => sticky || kept.is_odd(),
            Ordering::Less => false,
        };
        let kept = if round_up { kept.add(&BigUint::from_u64(1)) } else { kept };
        if kept.bit_len() > 64 {
            exponent += 1;
            kept.shr(1).low_u64()
        } else {
            kept.low_u64()
        }
    };
    if exponent > EXP_MAX {
        return Rounded::Overflow;
    }
    if significand == 0 {
        return Rounded::Underflow;
    }
    Rounded::Value(LongDouble::Finite { negative, significand, exponent })
}

/// Just enough of an unsigned big integer (little-endian 32-bit limbs).
#[derive(Debug, Clone, PartialEq, Eq)]
struct BigUint {
    limbs: Vec<u32>,
}

impl BigUint {
    fn zero() -> Self {
        BigUint { limbs: Vec::new() }
    }

    fn from_u64(v: u64) -> Self {
        BigUint { limbs: vec![v as u32, (v >> 32) as u32] }.normalized()
    }

    fn normalized(mut self) -> Self {
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
        self
    }

    fn is_zero(&self) -> bool {
        self.limbs.is_empty()
    }

    fn is_odd(&self) -> bool {
        self.limbs.first().is_some_and(|l| l & 1 == 1)
    }

    fn bit_len(&self) -> usize {
        match self.limbs.last() {
            None => 0,
            Some(top) => self.limbs.len() * 32 - top.leading_zeros() as usize,
        }
    }

    fn bit(&self, at: usize) -> bool {
        self.limbs.get(at / 32).is_some_and(|l| (l >> (at % 32)) & 1 == 1)
    }

    fn low_u64(&self) -> u64 {
        let lo = self.limbs.first().copied().unwrap_or(0) as u64;
        let hi = self.limbs.get(1).copied().unwrap_or(0) as u64;
        lo | (hi << 32)
    }

    fn mul_small(&self, factor: u32) -> Self {
        let mut carry = 0u64;
        let mut limbs = Vec::with_capacity(self.limbs.len() + 1);
        for &l in &self.limbs {
            let v = l as u64 * factor as u64 + carry;
            limbs.push(v as u32);
            carry = v >> 32;
        }
        limbs.push(carry as u32);
        BigUint { limbs }.normalized()
    }

    fn add(&self, other: &BigUint) -> Self {
        let n = self.limbs.len().max(other.limbs.len());
        let mut limbs = Vec::with_capacity(n + 1);
        let mut carry = 0u64;
        for i in 0..n {
            let v = *self.limbs.get(i).unwrap_or(&0) as u64 + *other.limbs.get(i).unwrap_or(&0) as u64 + carry;
            limbs.push(v as u32);
            carry = v >> 32;
        }
        limbs.push(carry as u32);
        BigUint { limbs }.normalized()
    }

    /// `self - other`; `other` must not be larger.
    fn sub(&self, other: &BigUint) -> Self {
        let mut limbs = Vec::with_capacity(self.limbs.len());
        let mut borrow = 0i64;
        for i in 0..self.limbs.len() {
            let mut v = self.limbs[i] as i64 - *other.limbs.get(i).unwrap_or(&0) as i64 - borrow;
            borrow = if v < 0 {
                v += 1 << 32;
                1
            } else {
                0
            };
            limbs.push(v as u32);
        }
        debug_assert_eq!(borrow, 0, "sub underflow");
        BigUint { limbs }.normalized()
    }

    fn shl(&self, bits: usize) -> Self {
        if self.is_zero() {
            return self.clone();
        }
        let (words, rest) = (bits / 32, bits % 32);
        let mut limbs = vec![0u32; words];
        let mut carry = 0u32;
        for &l in &self.limbs {
            if rest == 0 {
                limbs.push(l);
            } else {
                limbs.push((l << rest) | carry);
                carry = l >> (32 - rest);
            }
        }
        limbs.push(carry);
        BigUint { limbs }.normalized()
    }

    fn shr(&self, bits: usize) -> Self {
        let (words, rest) = (bits / 32, bits % 32);
        if words >= self.limbs.len() {
            return BigUint::zero();
        }
        let src = &self.limbs[words..];
        let mut limbs = Vec::with_capacity(src.len());
        for i in 0..src.len() {
            let lo = src[i] >> rest;
            let hi = if rest == 0 { 0 } else { src.get(i + 1).map_or(0, |h| h << (32 - rest)) };
            limbs.push(lo | hi);
        }
        BigUint { limbs }.normalized()
    }

    /// Compares the low `bits` bits with 2^(bits-1): the rounding decision
    /// when those bits are cut off.
    fn low_bits_vs_half(&self, bits: usize) -> Ordering {
        if bits == 0 {
            return Ordering::Less;
        }
        if !self.bit(bits - 1) {
            return Ordering::Less;
        }
        let below_nonzero = (0..bits - 1).any(|at| self.bit(at));
        if below_nonzero {
            Ordering::Greater
        } else {
            Ordering::Equal
        }
    }

    /// `self / divisor` by binary long division, and whether a remainder is
    /// left. Quotients are short (about 66 bits) except for numbers written
    /// with many digits before a point, which are rare and bounded by
    /// [`INPUT_BYTES_MAX`].
    fn div_rem_nonzero(&self, divisor: &BigUint) -> (BigUint, bool) {
        let mut remainder = self.clone();
        let mut quotient = BigUint::zero();
        let top = self.bit_len().saturating_sub(divisor.bit_len()) + 1;
        for at in (0..=top).rev() {
            let shifted = divisor.shl(at);
            if remainder.cmp(&shifted) != Ordering::Less {
                remainder = remainder.sub(&shifted);
                quotient = quotient.add(&BigUint::from_u64(1).shl(at));
            }
        }
        (quotient, !remainder.is_zero())
    }

    fn to_decimal(&self) -> String {
        if self.is_zero() {
            return "0".into();
        }
        // Peel off nine digits at a time.
        let mut chunks = Vec::new();
        let mut limbs = self.limbs.clone();
        while !limbs.is_empty() {
            let mut rem = 0u64;
            for l in limbs.iter_mut().rev() {
                let v = (rem << 32) | *l as u64;
                *l = (v / 1_000_000_000) as u32;
                rem = v % 1_000_000_000;
            }
            chunks.push(rem as u32);
            while limbs.last() == Some(&0) {
                limbs.pop();
            }
        }
        let mut out = chunks.pop().map(|c| c.to_string()).unwrap_or_default();
        for chunk in chunks.iter().rev() {
            out.push_str(&format!("{chunk:09}"));
        }
        out
    }
}

impl PartialOrd for BigUint {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for BigUint {
    fn cmp(&self, other: &Self) -> Ordering {
        self.limbs.len().cmp(&other.limbs.len()).then_with(|| self.limbs.iter().rev().cmp(other.limbs.iter().rev()))
    }
}

#[cfg(test)]
mod tests {
    use super::LongDouble;

    /// INCRBYFLOAT's computation: parse both, add, print.
    fn incr(current: &str, by: &str) -> Option<String> {
        let sum = LongDouble::parse(current.as_bytes())?.add(&LongDouble::parse(by.as_bytes())?)?;
        sum.is_finite().then(|| sum.to_human_string())
    }

    #[test]
    fn sums_match_redis_on_x86_64() {
        // Expected values are real Redis replies.
        assert_eq!(incr("0", "10.5").as_deref(), Some("10.5"));
        assert_eq!(incr("0.1", "0.2").as_deref(), Some("0.3"));
        assert_eq!(incr("0", "3.0e3").as_deref(), Some("3000"));
        assert_eq!(incr("1", "-1.1").as_deref(), Some("-0.1"));
        assert_eq!(incr("0", "0x1p-18").as_deref(), Some("0.00000381469726562"));
        assert_eq!(incr("0", "-1e-20").as_deref(), Some("0"));
        assert_eq!(incr("0", "1e-4940").as_deref(), Some("0"));
        assert_eq!(incr("0", "0x10").as_deref(), Some("16"));
        assert_eq!(incr("1.5", "1.5").as_deref(), Some("3"));
        assert_eq!(incr("0", "1.0000000000000000001").as_deref(), Some("1"));
        assert_eq!(incr("0", "123456789012345678901234567890").as_deref(), Some("123456789012345678899921813504"));
        assert_eq!(
            incr("0", "1e300").as_deref(),
            Some(concat!(
                "1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849",
                "1520837504971903503725086142748359035925561846729839130962605207486462873271356418436532",
                "9408425510760601678972665293237003055138294762099454029477278188962060617926761162709741",
                "0650567187386105690089424915104006144"
            ))
        );
    }

    #[test]
    fn huge_values_print_every_digit_and_overflow_to_infinity() {
        let big = incr("0", "1e4932").expect("finite");
        assert_eq!(big.len(), 4933);
        assert!(big.starts_with("100000000000000000000601894938796389132383777425453311477378504135"));
        assert!(big.ends_with("8418113791886622720"));
        assert_eq!(incr(&big, "1e4932"), None);
    }

    #[test]
    fn strtold_rejections_match_string2ld() {
        for bad in
            ["", " 1", "1 ", "abc", "nan", "NaN", "1e", "1e+", ".", "-", "0x", "1e5000", "1e-5000", "1.2.3", "1\x00"]
        {
            assert!(LongDouble::parse(bad.as_bytes()).is_none(), "{bad:?} must be rejected");
        }
        for good in ["inf", "-Infinity", "+1", ".5", "5.", "-.5e-3", "0X1.8P3", "007"] {
            assert!(LongDouble::parse(good.as_bytes()).is_some(), "{good:?} must be accepted");
        }
        assert_eq!(incr("0", "inf"), None, "an infinite result is refused");
        assert_eq!(incr("0x1.8p3", "0").as_deref(), Some("12"));
    }

    #[test]
    fn zero_signs_follow_ieee_rules() {
        assert_eq!(incr("-0", "0").as_deref(), Some("0"));
        assert_eq!(incr("-0", "-0").as_deref(), Some("0"), "-0 prints as 0");
        assert_eq!(incr("5", "-5").as_deref(), Some("0"));
    }
}
