//! Argument parsing with Redis's error texts.

use bytes::Bytes;

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

/// A cursor over a command's arguments (after the name).
pub struct ArgCursor<'a> {
    args: &'a [Bytes],
    at: usize,
}

impl<'a> ArgCursor<'a> {
    /// Starts after `skip` leading arguments (1 to skip the command name).
    pub fn new(args: &'a [Bytes], skip: usize) -> Self {
        ArgCursor { args, at: skip.min(args.len()) }
    }

    pub fn remaining(&self) -> usize {
        self.args.len() - self.at
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The next argument, or a syntax error.
    pub fn next_bytes(&mut self) -> Result<&'a Bytes, CommandError> {
        let arg = self.args.get(self.at).ok_or(CommandError::Syntax)?;
        self.at += 1;
        Ok(arg)
    }

    pub fn next_i64(&mut self) -> Result<i64, CommandError> {
        int_arg(self.next_bytes()?)
    }

    /// Looks at the next argument without consuming it.
    pub fn peek(&self) -> Option<&'a Bytes> {
        self.args.get(self.at)
    }

    /// Consumes the next argument if it is `flag` (case-insensitive).
    pub fn eat_flag(&mut self, flag: &str) -> bool {
        match self.peek() {
            Some(arg) if arg.eq_ignore_ascii_case(flag.as_bytes()) => {
                self.at += 1;
                true
            }
            _ => false,
        }
    }
}
