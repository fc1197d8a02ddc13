//! Argument parsing with Redis's error texts.

use crate::error::CommandError;

/// Parses a whole argument as a signed 64-bit integer the way Redis's
/// `string2ll` does: no spaces, no '+', no leading zeros, fits in i64.
pub fn parse_i64(arg: &[u8]) -> Option<i64> {
    if arg.is_empty() || arg.len() > 20 {
        return None;
    }
    if arg == b"0" {
        return Some(0);
    }
    let (negative, digits) = match arg[0] {
        b'-' => (true, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() || digits[0] == b'0' || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut value: i64 = 0;
    for &d in digits {
        let digit = (d - b'0') as i64;
        value = value.checked_mul(10)?;
        value = if negative { value.checked_sub(digit)? } else { value.checked_add(digit)? };
    }
    Some(value)
}

/// [`parse_i64`] with Redis's error.
pub fn int_arg(arg: &[u8]) -> Result<i64, CommandError> {
    parse_i64(arg).ok_or(CommandError::NotInteger)
}
