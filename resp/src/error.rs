//! Protocol errors. The first group is what the server reports for a malformed request; their
//! texts are Redis's own, because clients and test suites match on them. The second group only
//! comes from [`crate::parse_frame`], which Redis has no equivalent of, so the texts just follow
//! the same style.

use bytes::Bytes;

use crate::Frame;

/// A malformed request or frame. The connection cannot be resynchronised after one of these:
/// Redis replies `-ERR <Display text>` and closes the connection, and so should the server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// `*` header that is not an integer, or a count above the array limit.
    #[error("Protocol error: invalid multibulk length")]
    InvalidMultibulkLength,
    /// `$` header that is not an integer, negative (requests only), or above the bulk limit.
    #[error("Protocol error: invalid bulk length")]
    InvalidBulkLength,
    /// A multibulk request element that does not start with `$`; holds the byte found instead.
    #[error("Protocol error: expected '$', got '{}'", char::from(*.0))]
    ExpectedBulk(u8),
    /// A `*` header line still unterminated after `inline_bytes_max` bytes.
    #[error("Protocol error: too big mbulk count string")]
    TooBigMultibulkCount,
    /// A `$` header line still unterminated after `inline_bytes_max` bytes.
    #[error("Protocol error: too big bulk count string")]
    TooBigBulkCount,
    /// An inline request still without a newline after `inline_bytes_max` bytes.
    #[error("Protocol error: too big inline request")]
    TooBigInlineRequest,
    /// An inline request with an unterminated quote, or a closing quote followed by a non-space.
    #[error("Protocol error: unbalanced quotes in request")]
    UnbalancedQuotes,

    /// A frame starting with a byte that is no RESP2/RESP3 type; holds that byte.
    #[error("Protocol error: invalid frame type byte '{}'", char::from(*.0))]
    InvalidFrameType(u8),
    /// `:` frame whose payload is not a 64-bit integer.
    #[error("Protocol error: invalid integer")]
    InvalidInteger,
    /// `,` frame whose payload is not a double.
    #[error("Protocol error: invalid double")]
    InvalidDouble,
    /// `#` frame whose payload is not `t` or `f`.
    #[error("Protocol error: invalid boolean")]
    InvalidBoolean,
    /// `(` frame whose payload is not an optionally signed run of digits.
    #[error("Protocol error: invalid big number")]
    InvalidBigNumber,
    /// `_` frame with a payload.
    #[error("Protocol error: invalid null")]
    InvalidNull,
    /// `=` frame shorter than its `xxx:` format prefix, or without the `:`.
    #[error("Protocol error: invalid verbatim string")]
    InvalidVerbatim,
    /// A line or bulk payload not terminated by `\r\n`.
    #[error("Protocol error: expected CRLF")]
    ExpectedCrlf,
    /// A simple-string-like line (`+ - : , # ( _`) longer than `bulk_bytes_max`.
    #[error("Protocol error: too big line")]
    TooBigLine,
    /// Aggregates nested deeper than `nesting_max`.
    #[error("Protocol error: nesting too deep")]
    NestingTooDeep,
    /// A RESP3 streamed string or aggregate (`$?`, `*?`, ...), which we do not support.
    #[error("Protocol error: streamed types are not supported")]
    StreamedUnsupported,
}

impl ProtocolError {
    /// The reply Redis sends before closing the connection: `-ERR <text>`.
    pub fn to_frame(&self) -> Frame {
        Frame::Error(Bytes::from(format!("ERR {self}")))
    }
}
