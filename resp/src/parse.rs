//! [`parse_frame`]: the generic RESP2/RESP3 parser, for replies (clients, tests, and the proxy
//! mode that relays a leader's reply). Unlike the request parser it is strict about `\r\n`
//! terminators, since it reads what a server wrote rather than what arbitrary clients send.

use bytes::Bytes;

use crate::double::parse_double;
use crate::num::string2ll;
use crate::{Frame, Limits, ProtocolError};

/// Parses one complete frame from the front of `buf`.
///
/// `Ok(None)`: `buf` holds a valid prefix of a frame; call again with more bytes.
/// `Ok(Some((frame, consumed)))`: the frame and how many bytes of `buf` it took.
/// RESP2 null bulk `$-1` and null array `*-1` parse as [`Frame::Null`] / [`Frame::NullArray`];
/// RESP3 `_` as [`Frame::Null`]; RESP3 blob errors `!` as [`Frame::Error`].
///
/// Each call starts from scratch, so a frame arriving in many pieces has its headers re-scanned
/// each time; bulk payloads are skipped over, not copied, until the frame is complete.
pub fn parse_frame(buf: &[u8], limits: &Limits) -> Result<Option<(Frame, usize)>, ProtocolError> {
    let mut parser = Parser { buf, pos: 0, limits };
    // Before building anything, check the whole frame is there: building a large aggregate only
    // to throw it away on every partial read would make slow large replies quadratic in copies.
    match parser.frame(0, false) {
        Ok(_) => {}
        Err(Stop::Incomplete) => return Ok(None),
        Err(Stop::Invalid(e)) => return Err(e),
    }
    parser.pos = 0;
    match parser.frame(0, true) {
        Ok(frame) => Ok(Some((frame, parser.pos))),
        Err(Stop::Incomplete) => Ok(None),
        Err(Stop::Invalid(e)) => Err(e),
    }
}

/// Why parsing stopped before producing a frame.
enum Stop {
    /// `buf` ends inside the frame.
    Incomplete,
    /// `buf` holds something that can never become a valid frame.
    Invalid(ProtocolError),
}

impl From<ProtocolError> for Stop {
    fn from(e: ProtocolError) -> Self {
        Stop::Invalid(e)
    }
}

type Step<T> = Result<T, Stop>;

struct Parser<'a> {
    buf: &'a [u8],
    pos: usize,
    limits: &'a Limits,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    fn byte(&mut self) -> Step<u8> {
        let b = *self.rest().first().ok_or(Stop::Incomplete)?;
        self.pos += 1;
        Ok(b)
    }

    /// The next line without its `\r\n`. Lines longer than `max` fail with `too_long`, checked
    /// on the bytes buffered so far so that a peer can't make us buffer an endless line.
    fn line(&mut self, max: usize, too_long: ProtocolError) -> Step<&'a [u8]> {
        let rest = self.rest();
        // Search one byte past the limit only: a longer line is an error either way.
        let window = &rest[..rest.len().min(max.saturating_add(1))];
        let Some(cr) = window.iter().position(|&b| b == b'\r') else {
            return Err(if rest.len() > max { too_long.into() } else { Stop::Incomplete });
        };
        if cr > max {
            return Err(too_long.into());
        }
        match rest.get(cr + 1) {
            None => Err(Stop::Incomplete),
            Some(b'\n') => {
                self.pos += cr + 2;
                Ok(&rest[..cr])
            }
            Some(_) => Err(ProtocolError::ExpectedCrlf.into()),
        }
    }

    /// A simple-string-like payload line (`+ - : , # ( _`).
    fn text_line(&mut self) -> Step<&'a [u8]> {
        self.line(self.limits.bulk_bytes_max, ProtocolError::TooBigLine)
    }

    /// A count/length header's value (possibly negative); a streamed `?` is an error.
    fn header(&mut self, too_long: ProtocolError, invalid: ProtocolError) -> Step<i64> {
        let line = self.line(self.limits.inline_bytes_max, too_long)?;
        if line == b"?" {
            return Err(ProtocolError::StreamedUnsupported.into());
        }
        Ok(string2ll(line).ok_or(invalid)?)
    }

    /// A bulk length header; `Ok(None)` for the RESP2 null `-1`.
    fn bulk_len(&mut self) -> Step<Option<usize>> {
        let n = self.header(ProtocolError::TooBigBulkCount, ProtocolError::InvalidBulkLength)?;
        if n == -1 {
            return Ok(None);
        }
        match usize::try_from(n) {
            Ok(n) if n <= self.limits.bulk_bytes_max => Ok(Some(n)),
            _ => Err(ProtocolError::InvalidBulkLength.into()),
        }
    }

    /// An aggregate count header; `Ok(None)` for the RESP2 null `-1`.
    fn count(&mut self) -> Step<Option<usize>> {
        let n = self.header(ProtocolError::TooBigMultibulkCount, ProtocolError::InvalidMultibulkLength)?;
        if n == -1 {
            return Ok(None);
        }
        match usize::try_from(n) {
            Ok(n) if n <= self.limits.array_len_max && n <= i32::MAX as usize => Ok(Some(n)),
            _ => Err(ProtocolError::InvalidMultibulkLength.into()),
        }
    }

    /// A bulk payload of `len` bytes plus its `\r\n`.
    fn payload(&mut self, len: usize) -> Step<&'a [u8]> {
        let rest = self.rest();
        let total = len.checked_add(2).ok_or(ProtocolError::InvalidBulkLength)?;
        if rest.len() < total {
            return Err(Stop::Incomplete);
        }
        if &rest[len..total] != b"\r\n" {
            return Err(ProtocolError::ExpectedCrlf.into());
        }
        self.pos += total;
        Ok(&rest[..len])
    }

    /// Parses one frame. With `build == false` only validates and measures it, allocating
    /// nothing (the returned frame is a placeholder).
    fn frame(&mut self, depth: usize, build: bool) -> Step<Frame> {
        let copy = |b: &[u8]| if build { Bytes::copy_from_slice(b) } else { Bytes::new() };
        let tag = self.byte()?;
        Ok(match tag {
            b'+' => Frame::Simple(copy(self.text_line()?)),
            b'-' => Frame::Error(copy(self.text_line()?)),
            b':' => {
                let line = self.text_line()?;
                let n = std::str::from_utf8(line).ok().and_then(|s| s.parse::<i64>().ok());
                Frame::Integer(n.ok_or(ProtocolError::InvalidInteger)?)
            }
            b'_' => {
                if !self.text_line()?.is_empty() {
                    return Err(ProtocolError::InvalidNull.into());
                }
                Frame::Null
            }
            b',' => Frame::Double(parse_double(self.text_line()?).ok_or(ProtocolError::InvalidDouble)?),
            b'#' => match self.text_line()? {
                b"t" => Frame::Boolean(true),
                b"f" => Frame::Boolean(false),
                _ => return Err(ProtocolError::InvalidBoolean.into()),
            },
            b'(' => {
                let line = self.text_line()?;
                let digits = line.strip_prefix(b"-").or_else(|| line.strip_prefix(b"+")).unwrap_or(line);
                if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                    return Err(ProtocolError::InvalidBigNumber.into());
                }
                Frame::BigNumber(copy(line))
            }
            b'$' => match self.bulk_len()? {
                None => Frame::Null,
                Some(len) => Frame::Bulk(copy(self.payload(len)?)),
            },
            b'!' => match self.bulk_len()? {
                None => return Err(ProtocolError::InvalidBulkLength.into()),
                Some(len) => Frame::Error(copy(self.payload(len)?)),
            },
            b'=' => {
                let len = self.bulk_len()?.ok_or(ProtocolError::InvalidBulkLength)?;
                let body = self.payload(len)?;
                match body {
                    [a, b, c, b':', text @ ..] => Frame::Verbatim { format: [*a, *b, *c], text: copy(text) },
                    _ => return Err(ProtocolError::InvalidVerbatim.into()),
                }
            }
            b'*' => match self.count()? {
                None => Frame::NullArray,
                Some(n) => Frame::Array(self.items(n, depth, build)?),
            },
            b'~' => {
                let n = self.non_null_count()?;
                Frame::Set(self.items(n, depth, build)?)
            }
            b'>' => {
                let n = self.non_null_count()?;
                Frame::Push(self.items(n, depth, build)?)
            }
            b'%' => {
                let n = self.non_null_count()?;
                Frame::Map(self.pairs(n, depth, build)?)
            }
            b'|' => {
                let n = self.non_null_count()?;
                let attrs = self.pairs(n, depth, build)?;
                // The annotated value counts as one level deeper, so a chain of attributes
                // cannot recurse without bound.
                let value = self.nested(depth)?.frame(depth + 1, build)?;
                Frame::Attribute { attrs, value: Box::new(value) }
            }
            other => return Err(ProtocolError::InvalidFrameType(other).into()),
        })
    }

    /// Counts for RESP3-only aggregates, which have no `-1` null form.
    fn non_null_count(&mut self) -> Step<usize> {
        Ok(self.count()?.ok_or(ProtocolError::InvalidMultibulkLength)?)
    }

    /// Checks there is room for one more level of nesting below `depth`.
    fn nested(&mut self, depth: usize) -> Step<&mut Self> {
        if depth >= self.limits.nesting_max {
            return Err(ProtocolError::NestingTooDeep.into());
        }
        Ok(self)
    }

    fn items(&mut self, n: usize, depth: usize, build: bool) -> Step<Vec<Frame>> {
        self.nested(depth)?;
        // The count is untrusted: allocate for what actually arrives, not for what is announced.
        let mut items = Vec::with_capacity(if build { n.min(1024) } else { 0 });
        for _ in 0..n {
            let item = self.frame(depth + 1, build)?;
            if build {
                items.push(item);
            }
        }
        Ok(items)
    }

    fn pairs(&mut self, n: usize, depth: usize, build: bool) -> Step<Vec<(Frame, Frame)>> {
        self.nested(depth)?;
        let mut pairs = Vec::with_capacity(if build { n.min(1024) } else { 0 });
        for _ in 0..n {
            let k = self.frame(depth + 1, build)?;
            let v = self.frame(depth + 1, build)?;
            if build {
                pairs.push((k, v));
            }
        }
        Ok(pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &[u8]) -> Result<Option<(Frame, usize)>, ProtocolError> {
        parse_frame(input, &Limits::default())
    }

    #[test]
    fn nesting_at_the_limit_is_accepted_and_one_deeper_is_not() {
        let limits = Limits { nesting_max: 3, ..Limits::default() };
        assert!(parse_frame(b"*1\r\n*1\r\n*1\r\n:1\r\n", &limits).is_ok_and(|r| r.is_some()));
        assert_eq!(parse_frame(b"*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", &limits), Err(ProtocolError::NestingTooDeep));
    }

    #[test]
    fn a_chain_of_attributes_is_bounded_by_the_nesting_limit() {
        let input = b"|0\r\n".repeat(200);
        assert_eq!(parse(&input), Err(ProtocolError::NestingTooDeep));
    }

    #[test]
    fn a_huge_announced_count_allocates_nothing_up_front() {
        assert_eq!(parse(b"*1048576\r\n:1\r\n"), Ok(None));
    }
}
