//! The server-side request parser: one client request, either a multibulk array of bulk strings
//! (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) or an inline command line (`GET k\r\n`).
//!
//! This follows Redis 7.2's `processMultibulkBuffer` and `processInlineBuffer` closely, including
//! their leniencies, because clients (and Redis's own test suite) depend on the exact moments a
//! request is complete, incomplete or an error:
//! - header lines end at the first `\r`, and the byte after it is skipped without checking it
//!   is `\n`; likewise the two bytes after a bulk payload;
//! - a header without `\r` is an error only once more than `inline_bytes_max` bytes are buffered;
//! - the request type is decided by the first byte alone: `*` is multibulk, anything else inline.
//!
//! Deviation: Redis searches with `strchr`, which stops at a NUL byte, so a NUL inside a header or
//! an inline line makes Redis wait for more data (until the size limit). We search the whole
//! buffer, so such input gets its error straight away. Inline arguments still end at a NUL, as
//! `sdssplitargs` sees a C string.

use std::ops::Range;

use bytes::{Bytes, BytesMut};

use crate::num::string2ll;
use crate::{Limits, ProtocolError};

/// Parses one request from the front of `buf`, copying the arguments out.
///
/// `Ok(None)`: more bytes are needed. `Ok(Some((args, consumed)))`: a complete request taking
/// the first `consumed` bytes. An empty request (blank inline line, `*0`, `*-1`) gives empty
/// `args`; skip it, as Redis does. After an error the connection is unusable.
pub fn parse_request(buf: &[u8], limits: &Limits) -> Result<Option<(Vec<Bytes>, usize)>, ProtocolError> {
    let Some((args, consumed)) = scan(buf, limits, &mut Progress::default())? else {
        return Ok(None);
    };
    let args = args
        .into_iter()
        .map(|arg| match arg {
            Arg::Span(r) => Bytes::copy_from_slice(buf.get(r).unwrap_or_default()),
            Arg::Owned(v) => Bytes::from(v),
        })
        .collect();
    Ok(Some((args, consumed)))
}

/// Parses one request from the front of `buf` and splits its bytes off `buf`.
///
/// Zero-copy: multibulk arguments are slices of the split-off bytes. They keep that allocation
/// alive, so copy an argument that is to be kept for long (e.g. cached in memory).
/// Returns `Ok(None)` (leaving `buf` untouched) when more bytes are needed; see [`parse_request`]
/// for the rest. Use a [`RequestDecoder`] to avoid re-scanning the headers of a request with many
/// arguments that arrives in many reads.
pub fn parse_request_bytes(buf: &mut BytesMut, limits: &Limits) -> Result<Option<Vec<Bytes>>, ProtocolError> {
    decode(buf, limits, &mut Progress::default())
}

/// A request parser that remembers how far it got into a partially received multibulk request,
/// so each header is read once however many reads the request arrives in.
///
/// Between calls that return `Ok(None)` the caller may only append to the buffer (the usual
/// read loop); anything else needs [`RequestDecoder::reset`].
#[derive(Debug, Clone, Default)]
pub struct RequestDecoder {
    limits: Limits,
    progress: Progress,
}

impl RequestDecoder {
    /// A decoder enforcing `limits`.
    pub fn new(limits: Limits) -> Self {
        RequestDecoder { limits, progress: Progress::default() }
    }

    /// The limits this decoder enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Forgets any partially parsed request.
    pub fn reset(&mut self) {
        self.progress = Progress::default();
    }

    /// Same contract as [`parse_request_bytes`].
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        if self.progress.pos > buf.len() {
            // The buffer shrank under us (contract broken): start over rather than misread it.
            self.reset();
        }
        let result = decode(buf, &self.limits, &mut self.progress);
        if !matches!(result, Ok(None)) {
            self.reset();
        }
        result
    }
}

/// Splits an inline command line like Redis's `sdssplitargs`: blanks separate arguments;
/// `"double quotes"` allow `\n \r \t \b \a \xHH` and `\<any>` escapes; `'single quotes'` allow
/// only `\'`; a closing quote must be followed by a blank or the end of the line. A NUL byte
/// ends the line. An unbalanced quote is [`ProtocolError::UnbalancedQuotes`].
pub fn split_inline_args(line: &[u8]) -> Result<Vec<Bytes>, ProtocolError> {
    let args = split_args(line).ok_or(ProtocolError::UnbalancedQuotes)?;
    Ok(args.into_iter().map(Bytes::from).collect())
}

/// One parsed argument: a range of the input buffer (multibulk), or bytes rebuilt from an inline
/// line (quoting and escapes mean they are not a contiguous slice of the input).
enum Arg {
    Span(Range<usize>),
    Owned(Vec<u8>),
}

/// How far into a multibulk request parsing has got. All offsets are from the buffer's start.
#[derive(Debug, Clone, Default)]
struct Progress {
    /// Whether the `*<count>` header has been read (and `remaining` is meaningful).
    started: bool,
    /// Arguments still to read.
    remaining: usize,
    /// Offset of the first unread byte.
    pos: usize,
    /// Length of the argument whose `$` header was read but whose payload is not all buffered.
    pending_bulk: Option<usize>,
    /// Arguments read so far.
    args: Vec<Range<usize>>,
}

fn decode(buf: &mut BytesMut, limits: &Limits, progress: &mut Progress) -> Result<Option<Vec<Bytes>>, ProtocolError> {
    let Some((args, consumed)) = scan(buf, limits, progress)? else {
        return Ok(None);
    };
    let frozen = buf.split_to(consumed.min(buf.len())).freeze();
    let args = args
        .into_iter()
        .map(|arg| match arg {
            Arg::Span(r) if r.end <= frozen.len() => frozen.slice(r),
            Arg::Span(_) => Bytes::new(), // unreachable: spans lie within `consumed`
            Arg::Owned(v) => Bytes::from(v),
        })
        .collect();
    Ok(Some(args))
}

/// Parses one request, resuming from `progress`. On `Ok(None)` `progress` records how far it got.
fn scan(buf: &[u8], limits: &Limits, progress: &mut Progress) -> Result<Option<(Vec<Arg>, usize)>, ProtocolError> {
    if !progress.started {
        match buf.first() {
            None => return Ok(None),
            Some(b'*') => {}
            Some(_) => return scan_inline(buf, limits),
        }
        let Some((line, next)) = header_line(buf, 0, limits, ProtocolError::TooBigMultibulkCount)? else {
            return Ok(None);
        };
        let count = string2ll(line.get(1..).unwrap_or_default()).ok_or(ProtocolError::InvalidMultibulkLength)?;
        if count > i64::from(i32::MAX) || usize::try_from(count).is_ok_and(|n| n > limits.array_len_max) {
            return Err(ProtocolError::InvalidMultibulkLength);
        }
        let Ok(count @ 1..) = usize::try_from(count) else {
            // `*0` and any negative count: an empty request, which the caller skips.
            return Ok(Some((Vec::new(), next)));
        };
        *progress = Progress {
            started: true,
            remaining: count,
            pos: next,
            pending_bulk: None,
            // Redis also caps the initial argv allocation: the count is untrusted.
            args: Vec::with_capacity(count.min(1024)),
        };
    }

    while progress.remaining > 0 {
        let len = match progress.pending_bulk {
            Some(len) => len,
            None => {
                let Some((line, next)) = header_line(buf, progress.pos, limits, ProtocolError::TooBigBulkCount)? else {
                    return Ok(None);
                };
                match line.first() {
                    Some(b'$') => {}
                    // The line always has at least the byte at `pos` (possibly the `\r`).
                    first => return Err(ProtocolError::ExpectedBulk(first.copied().unwrap_or(b'\r'))),
                }
                let len = string2ll(&line[1..])
                    .and_then(|n| usize::try_from(n).ok())
                    .filter(|&n| n <= limits.bulk_bytes_max)
                    .ok_or(ProtocolError::InvalidBulkLength)?;
                progress.pos = next;
                progress.pending_bulk = Some(len);
                len
            }
        };
        // Payload plus its terminator (not checked, as in Redis). An overflowing end can never
        // be satisfied: wait, and the caller's own buffer limits will end it.
        let Some(end) = progress.pos.checked_add(len) else { return Ok(None) };
        match end.checked_add(2) {
            Some(after) if after <= buf.len() => {
                progress.args.push(progress.pos..end);
                progress.pos = after;
                progress.pending_bulk = None;
                progress.remaining -= 1;
            }
            _ => return Ok(None),
        }
    }

    let done = std::mem::take(progress);
    Ok(Some((done.args.into_iter().map(Arg::Span).collect(), done.pos)))
}

/// The header line starting at `start`, up to (not including) the first `\r`, and the offset
/// after the two-byte terminator. `Ok(None)` when the terminator is not all buffered yet.
fn header_line<'a>(
    buf: &'a [u8],
    start: usize,
    limits: &Limits,
    too_big: ProtocolError,
) -> Result<Option<(&'a [u8], usize)>, ProtocolError> {
    let rest = buf.get(start..).unwrap_or_default();
    let Some(cr) = rest.iter().position(|&b| b == b'\r') else {
        return if rest.len() > limits.inline_bytes_max { Err(too_big) } else { Ok(None) };
    };
    // Redis wants one byte after the `\r` (the `\n`, though it never looks at it).
    if cr + 2 > rest.len() {
        return Ok(None);
    }
    Ok(Some((&rest[..cr], start + cr + 2)))
}

fn scan_inline(buf: &[u8], limits: &Limits) -> Result<Option<(Vec<Arg>, usize)>, ProtocolError> {
    let Some(newline) = buf.iter().position(|&b| b == b'\n') else {
        return if buf.len() > limits.inline_bytes_max { Err(ProtocolError::TooBigInlineRequest) } else { Ok(None) };
    };
    let line = &buf[..newline];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let args = split_args(line).ok_or(ProtocolError::UnbalancedQuotes)?;
    Ok(Some((args.into_iter().map(Arg::Owned).collect(), newline + 1)))
}

/// C's `isspace` in the "C" locale; unlike `u8::is_ascii_whitespace` it includes `\v`.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

fn hex_value(b: Option<&u8>) -> Option<u8> {
    match b? {
        b @ b'0'..=b'9' => Some(b - b'0'),
        b @ b'a'..=b'f' => Some(b - b'a' + 10),
        b @ b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `sdssplitargs`; `None` for unbalanced quotes. Comments note where its quirks come from.
fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    // sdssplitargs walks a C string: it ends at the first NUL.
    let line = line.iter().position(|&b| b == 0).map_or(line, |nul| &line[..nul]);
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        // Leading blanks are skipped with isspace (so \v and \f too)...
        while line.get(i).is_some_and(|&b| is_c_space(b)) {
            i += 1;
        }
        if i >= line.len() {
            return Some(args);
        }
        let mut current = Vec::new();
        let (mut in_double, mut in_single) = (false, false);
        loop {
            let c = line.get(i).copied();
            let next = line.get(i + 1).copied();
            if in_double {
                // `\xHH` needs two hex digits; otherwise `\x` is a plain escaped `x`.
                let hex = hex_value(line.get(i + 2)).zip(hex_value(line.get(i + 3)));
                match (c, next, hex) {
                    (None, _, _) => return None,
                    (Some(b'\\'), Some(b'x'), Some((hi, lo))) => {
                        current.push(hi * 16 + lo);
                        i += 4;
                    }
                    (Some(b'\\'), Some(e), _) => {
                        current.push(match e {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => b'\x08',
                            b'a' => b'\x07',
                            other => other,
                        });
                        i += 2;
                    }
                    (Some(b'"'), next, _) => {
                        if next.is_some_and(|n| !is_c_space(n)) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    (Some(b), _, _) => {
                        current.push(b);
                        i += 1;
                    }
                }
            } else if in_single {
                match (c, next) {
                    (None, _) => return None,
                    (Some(b'\\'), Some(b'\'')) => {
                        current.push(b'\'');
                        i += 2;
                    }
                    (Some(b'\''), next) => {
                        if next.is_some_and(|n| !is_c_space(n)) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    (Some(b), _) => {
                        current.push(b);
                        i += 1;
                    }
                }
            } else {
                match c {
                    None => break,
                    // ...but only these end an unquoted argument (\v and \f are kept in it).
                    Some(b' ' | b'\n' | b'\r' | b'\t') => {
                        i += 1;
                        break;
                    }
                    // A quote may open in the middle of an argument: a"b c" is `ab c`.
                    Some(b'"') => {
                        in_double = true;
                        i += 1;
                    }
                    Some(b'\'') => {
                        in_single = true;
                        i += 1;
                    }
                    Some(b) => {
                        current.push(b);
                        i += 1;
                    }
                }
            }
        }
        args.push(current);
    }
}
