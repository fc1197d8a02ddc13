//! The RESP2/RESP3 wire protocol for Redraft: bytes in, frames out; frames in, bytes out.
//!
//! This crate does no I/O and knows nothing about connections or commands. The server feeds it
//! whatever it has read so far and gets back either a complete request or "need more bytes";
//! it hands it reply [`Frame`]s and gets back the bytes to write, in the protocol version the
//! client negotiated with `HELLO`.
//!
//! Request parsing mirrors Redis 7.2 (`processMultibulkBuffer` / `processInlineBuffer` in
//! `networking.c`) byte for byte where clients could tell the difference: the same limits, the
//! same moments of "wait for more" versus "error", and the same error texts, so that a client
//! talking to Redraft sees what it would see talking to Redis.
//!
//! # Layout
//! - `frame.rs`: [`Frame`], [`RespVersion`] and encoding, including how each RESP3 type is
//!   downgraded for RESP2 clients.
//! - `parse.rs`: [`parse_frame`], the generic RESP2/RESP3 reply parser (clients, tests, proxying).
//! - `request.rs`: [`parse_request`], [`parse_request_bytes`], [`RequestDecoder`]: the server-side
//!   request parser (multibulk and inline) and Redis's inline argument splitting.
//! - `error.rs`: [`ProtocolError`], whose `Display` is Redis's exact error text.
//! - `double.rs`: [`format_double`], Redis's textual form of a double.
//! - `num.rs`: Redis's strict integer parsing and allocation-free integer formatting.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod compare;
mod double;
mod error;
mod frame;
mod num;
mod parse;
mod request;

pub use compare::canonical_unordered;
pub use double::format_double;
pub use error::ProtocolError;
pub use frame::{Frame, RespVersion};
pub use parse::parse_frame;
pub use request::{parse_request, parse_request_bytes, split_inline_args, RequestDecoder};

/// Largest bulk string accepted, Redis's default `proto-max-bulk-len` (512 MiB).
pub const BULK_BYTES_MAX: usize = 512 * 1024 * 1024;
/// Largest inline request, and largest count/length header line, Redis's `PROTO_INLINE_MAX_SIZE`.
pub const INLINE_BYTES_MAX: usize = 64 * 1024;
/// Default cap on the element count of one array. Redis only rejects counts above `i32::MAX`;
/// we cap lower by default because every element costs memory before the command even runs.
pub const ARRAY_LEN_MAX: usize = 1024 * 1024;
/// Default cap on aggregate nesting in [`parse_frame`]: bounds recursion depth on hostile input.
pub const NESTING_MAX: usize = 128;

/// Limits applied while parsing. `Default` gives Redis's defaults (plus our array cap).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest bulk string length; longer is "invalid bulk length" (Redis `proto-max-bulk-len`).
    pub bulk_bytes_max: usize,
    /// Largest element count of one array (map: pairs). Counts above `i32::MAX` are always
    /// rejected, as in Redis, whatever this says.
    pub array_len_max: usize,
    /// Deepest aggregate nesting [`parse_frame`] accepts. Requests are never nested.
    pub nesting_max: usize,
    /// Largest inline request without a newline, and largest count/length header line.
    pub inline_bytes_max: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            bulk_bytes_max: BULK_BYTES_MAX,
            array_len_max: ARRAY_LEN_MAX,
            nesting_max: NESTING_MAX,
            inline_bytes_max: INLINE_BYTES_MAX,
        }
    }
}
