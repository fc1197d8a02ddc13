//! [`Frame`] and its encoding. One frame type serves both protocol versions: commands build the
//! RESP3 shape (maps, sets, doubles, ...) and [`Frame::encode`] downgrades it for RESP2 clients
//! exactly as Redis's `addReply*` functions do, so no command has to care about the version.

use bytes::{BufMut, Bytes, BytesMut};

use crate::double::format_double;
use crate::num::{put_i64, put_usize};

/// One RESP value. See each variant for its RESP3 form and what RESP2 clients receive instead.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Frame {
    /// `+OK`: a status line. Must not contain CR or LF (they are replaced when encoding).
    Simple(Bytes),
    /// `-ERR ...`: the bytes after `-`, e.g. `b"ERR unknown command"`.
    Error(Bytes),
    /// `:1`.
    Integer(i64),
    /// `$3\r\nfoo`: binary-safe string.
    Bulk(Bytes),
    /// `*N`.
    Array(Vec<Frame>),
    /// RESP3 `_`; RESP2 null bulk string `$-1`.
    Null,
    /// RESP3 `_`; RESP2 null array `*-1`.
    NullArray,
    /// RESP3 `%`; RESP2 a flat array `k1 v1 k2 v2 ...`.
    Map(Vec<(Frame, Frame)>),
    /// RESP3 `~`; RESP2 an array.
    Set(Vec<Frame>),
    /// RESP3 `,`; RESP2 a bulk string of the same text (see [`format_double`]).
    Double(f64),
    /// RESP3 `#t`/`#f`; RESP2 the integer 1/0.
    Boolean(bool),
    /// RESP3 `(`; RESP2 a bulk string.
    BigNumber(Bytes),
    /// RESP3 `=len\r\nfmt:text`; RESP2 a bulk string of `text` alone.
    Verbatim {
        /// Three-byte format tag, `txt` or `mkd`.
        format: [u8; 3],
        /// The text after `fmt:`.
        text: Bytes,
    },
    /// RESP3 `>`; RESP2 an array (how pub/sub messages look to RESP2 clients).
    Push(Vec<Frame>),
    /// RESP3 `|` attributes followed by the value they annotate; RESP2 just the value.
    Attribute {
        /// The attribute map.
        attrs: Vec<(Frame, Frame)>,
        /// The annotated reply.
        value: Box<Frame>,
    },
    /// A double already formatted: RESP3 `,text`; RESP2 a bulk string of `text`. For doubles that
    /// must print otherwise than [`format_double`] does: sorted-set scores print as the reference
    /// server prints them (Redis 7.0's `%.17g`, where 7.2 prints the shortest form). Last, so the
    /// serialized tags of the other variants do not move.
    DoubleText(Bytes),
}

/// The protocol version a connection speaks; RESP2 until the client sends `HELLO 3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RespVersion {
    /// RESP2, every connection's initial version.
    #[default]
    Resp2,
    /// RESP3, after `HELLO 3`.
    Resp3,
}

impl Frame {
    /// `+OK`.
    pub fn ok() -> Frame {
        Frame::Simple(Bytes::from_static(b"OK"))
    }

    /// A status reply, e.g. `Frame::simple("PONG")`.
    pub fn simple(s: impl Into<Bytes>) -> Frame {
        Frame::Simple(s.into())
    }

    /// An error reply; `msg` includes the code, e.g. `"ERR syntax error"` or `"WRONGTYPE ..."`.
    pub fn error(msg: impl Into<Bytes>) -> Frame {
        Frame::Error(msg.into())
    }

    /// A bulk string reply.
    pub fn bulk(b: impl Into<Bytes>) -> Frame {
        Frame::Bulk(b.into())
    }

    /// Appends this frame's encoding for a `version` client to `dst`.
    pub fn encode(&self, dst: &mut BytesMut, version: RespVersion) {
        let resp3 = version == RespVersion::Resp3;
        match self {
            Frame::Simple(s) => put_line(dst, b'+', s),
            Frame::Error(e) => put_line(dst, b'-', e),
            Frame::Integer(n) => {
                dst.put_u8(b':');
                put_i64(dst, *n);
                dst.put_slice(b"\r\n");
            }
            Frame::Bulk(b) => put_bulk(dst, b'$', &[&b[..]]),
            Frame::Array(items) => put_items(dst, b'*', items, version),
            Frame::Null => dst.put_slice(if resp3 { b"_\r\n" } else { b"$-1\r\n" }),
            Frame::NullArray => dst.put_slice(if resp3 { b"_\r\n" } else { b"*-1\r\n" }),
            Frame::Map(pairs) => {
                // RESP2 has no maps: Redis sends the pairs flattened, hence twice the count.
                if resp3 {
                    put_header(dst, b'%', pairs.len());
                } else {
                    put_header(dst, b'*', pairs.len().saturating_mul(2));
                }
                put_pairs(dst, pairs, version);
            }
            Frame::Set(items) => put_items(dst, if resp3 { b'~' } else { b'*' }, items, version),
            Frame::Double(d) => {
                let text = format_double(*d);
                if resp3 {
                    put_line(dst, b',', text.as_bytes());
                } else {
                    put_bulk(dst, b'$', &[text.as_bytes()]);
                }
            }
            Frame::DoubleText(text) => {
                if resp3 {
                    put_line(dst, b',', text);
                } else {
                    put_bulk(dst, b'$', &[&text[..]]);
                }
            }
            Frame::Boolean(b) => dst.put_slice(match (resp3, b) {
                (true, true) => b"#t\r\n",
                (true, false) => b"#f\r\n",
                (false, true) => b":1\r\n",
                (false, false) => b":0\r\n",
            }),
            Frame::BigNumber(n) => {
                if resp3 {
                    put_line(dst, b'(', n);
                } else {
                    put_bulk(dst, b'$', &[&n[..]]);
                }
            }
            Frame::Verbatim { format, text } => {
                if resp3 {
                    put_bulk(dst, b'=', &[&format[..], b":", &text[..]]);
                } else {
                    put_bulk(dst, b'$', &[&text[..]]);
                }
            }
            Frame::Push(items) => put_items(dst, if resp3 { b'>' } else { b'*' }, items, version),
            Frame::Attribute { attrs, value } => {
                // RESP2 clients cannot receive attributes at all: they get the bare value.
                if resp3 {
                    put_header(dst, b'|', attrs.len());
                    put_pairs(dst, attrs, version);
                }
                value.encode(dst, version);
            }
        }
    }

    /// This frame's encoding for a `version` client.
    pub fn to_bytes(&self, version: RespVersion) -> Bytes {
        let mut dst = BytesMut::new();
        self.encode(&mut dst, version);
        dst.freeze()
    }
}

/// `<tag><n>\r\n`.
fn put_header(dst: &mut BytesMut, tag: u8, n: usize) {
    dst.put_u8(tag);
    put_usize(dst, n);
    dst.put_slice(b"\r\n");
}

/// `<tag><text>\r\n` with CR and LF in `text` replaced by spaces: a stray newline would end the
/// line early and desynchronise the client (Redis does the same for error replies).
fn put_line(dst: &mut BytesMut, tag: u8, text: &[u8]) {
    dst.reserve(text.len() + 3);
    dst.put_u8(tag);
    if text.iter().any(|&b| b == b'\r' || b == b'\n') {
        dst.extend(text.iter().map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }));
    } else {
        dst.put_slice(text);
    }
    dst.put_slice(b"\r\n");
}

/// `<tag><len>\r\n<parts...>\r\n`, where the payload is the concatenation of `parts` (lets the
/// verbatim `fmt:` prefix be written without building a temporary buffer).
fn put_bulk(dst: &mut BytesMut, tag: u8, parts: &[&[u8]]) {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    dst.reserve(len + 16);
    put_header(dst, tag, len);
    for part in parts {
        dst.put_slice(part);
    }
    dst.put_slice(b"\r\n");
}

fn put_items(dst: &mut BytesMut, tag: u8, items: &[Frame], version: RespVersion) {
    put_header(dst, tag, items.len());
    for item in items {
        item.encode(dst, version);
    }
}

fn put_pairs(dst: &mut BytesMut, pairs: &[(Frame, Frame)], version: RespVersion) {
    for (k, v) in pairs {
        k.encode(dst, version);
        v.encode(dst, version);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_build_the_expected_variants() {
        assert_eq!(Frame::ok(), Frame::Simple(Bytes::from_static(b"OK")));
        assert_eq!(Frame::simple("PONG"), Frame::Simple(Bytes::from_static(b"PONG")));
        assert_eq!(Frame::error("ERR x"), Frame::Error(Bytes::from_static(b"ERR x")));
        assert_eq!(Frame::bulk(vec![1u8, 2]), Frame::Bulk(Bytes::from_static(&[1, 2])));
    }
}
