//! The primitives of Redis's RDB serialization: object type numbers, length
//! and string encodings, doubles and times, LZF decompression, and the DUMP
//! payload footer (RDB version and CRC-64).
//!
//! # Format
//! ```text
//! length:  00xxxxxx                      6-bit length
//!          01xxxxxx yyyyyyyy             14-bit length (big-endian)
//!          10000000 + u32 BE | 10000001 + u64 BE
//!          11xxxxxx                      a string stored specially (below)
//! string:  length + bytes
//!        | 11000000 i8 | 11000001 i16 LE | 11000010 i32 LE   (decimal integers)
//!        | 11000011 + compressed length + length + LZF data
//! payload: object type (u8) | value | RDB version (u16 LE) | CRC-64 (u64 LE)
//! ```
//! The CRC is Redis's CRC-64 (Jones polynomial, reflected) of every byte
//! before it.

use bytes::Bytes;
use thiserror::Error;

use super::super::args::parse_i64;

/// RDB object types (`RDB_TYPE_*`).
pub mod types {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const MODULE_2: u8 = 7;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
    /// Redis 7.2 (RDB 11) only.
    pub const SET_LISTPACK: u8 = 20;
    /// Redis 7.2 (RDB 11) only: consumers carry their active time.
    pub const STREAM_LISTPACKS_3: u8 = 21;
}

/// The RDB version of Redis 7.2, which DUMP writes.
pub const RDB_VERSION_7_2: u16 = 11;
/// The RDB version of Redis 7.0, which rejects 7.2's payloads: the writer
/// can target it (for tests against the reference redis-server).
pub const RDB_VERSION_7_0: u16 = 10;
/// The newest version RESTORE accepts, as Redis 7.2 does.
pub const RDB_VERSION_MAX: u16 = RDB_VERSION_7_2;

/// Bytes after the value: version and CRC.
pub const FOOTER_BYTES: usize = 10;

const ENC_INT8: u8 = 0;
const ENC_INT16: u8 = 1;
const ENC_INT32: u8 = 2;
const ENC_LZF: u8 = 3;

const CRC64: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);

/// Why a payload could not be decoded. RESTORE answers every one of them
/// with Redis's "Bad data format"; the detail is for logs and tests.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum RdbError {
    #[error("payload ends inside {0}")]
    Truncated(&'static str),
    #[error("invalid {0}")]
    Invalid(&'static str),
    #[error("unsupported object type {0}")]
    UnknownType(u8),
    #[error("empty {0}: Redis refuses empty keys")]
    Empty(&'static str),
    #[error("duplicate {0}")]
    Duplicate(&'static str),
}

pub type RdbResult<T> = Result<T, RdbError>;

/// The CRC-64 Redis appends to DUMP payloads.
pub fn crc64(bytes: &[u8]) -> u64 {
    CRC64.checksum(bytes)
}

/// Redis's `verifyDumpPayload`: the body (type and value) if the footer's
/// version is one this server reads and its CRC matches.
pub fn verify_footer(payload: &[u8]) -> Option<&[u8]> {
    if payload.len() < FOOTER_BYTES {
        return None;
    }
    let body_end = payload.len() - FOOTER_BYTES;
    let version = u16::from_le_bytes([payload[body_end], payload[body_end + 1]]);
    if version > RDB_VERSION_MAX {
        return None;
    }
    let mut stored = [0u8; 8];
    stored.copy_from_slice(&payload[body_end + 2..]);
    (crc64(&payload[..payload.len() - 8]) == u64::from_le_bytes(stored)).then_some(&payload[..body_end])
}

/// Appends the footer for `version` to a body.
pub fn seal(mut body: Vec<u8>, version: u16) -> Vec<u8> {
    body.extend_from_slice(&version.to_le_bytes());
    let crc = crc64(&body);
    body.extend_from_slice(&crc.to_le_bytes());
    body
}

/// A cursor over an RDB value.
pub struct RdbReader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> RdbReader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        RdbReader { buf, at: 0 }
    }

    /// Bytes not read yet: an upper bound for any count read next, so a
    /// forged count cannot make us reserve memory.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.at
    }

    pub fn take(&mut self, n: usize, what: &'static str) -> RdbResult<&'a [u8]> {
        if self.remaining() < n {
            return Err(RdbError::Truncated(what));
        }
        let out = &self.buf[self.at..self.at + n];
        self.at += n;
        Ok(out)
    }

    pub fn byte(&mut self, what: &'static str) -> RdbResult<u8> {
        Ok(self.take(1, what)?[0])
    }

    /// A length, or the special encoding of a string (`true`).
    fn len_or_encoding(&mut self) -> RdbResult<(u64, bool)> {
        let first = self.byte("a length")?;
        Ok(match first >> 6 {
            0 => (u64::from(first & 0x3f), false),
            1 => (u64::from(first & 0x3f) << 8 | u64::from(self.byte("a length")?), false),
            2 if first == 0x80 => {
                let raw = self.take(4, "a length")?;
                (u64::from(u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]])), false)
            }
            2 if first == 0x81 => {
                let mut raw = [0u8; 8];
                raw.copy_from_slice(self.take(8, "a length")?);
                (u64::from_be_bytes(raw), false)
            }
            2 => return Err(RdbError::Invalid("length prefix")),
            _ => (u64::from(first & 0x3f), true),
        })
    }

    /// A plain length (`rdbLoadLen`).
    pub fn length(&mut self) -> RdbResult<u64> {
        match self.len_or_encoding()? {
            (len, false) => Ok(len),
            (_, true) => Err(RdbError::Invalid("length")),
        }
    }

    /// A count of items each taking at least `min_item_bytes`: more than
    /// the rest of the payload could hold is an error.
    pub fn count(&mut self, min_item_bytes: usize) -> RdbResult<usize> {
        let n = self.length()?;
        if n > (self.remaining() / min_item_bytes.max(1)) as u64 {
            return Err(RdbError::Truncated("a collection"));
        }
        Ok(n as usize)
    }

    /// A string (`rdbGenericLoadStringObject`): plain, integer or LZF.
    pub fn string(&mut self) -> RdbResult<Bytes> {
        let (len, encoded) = self.len_or_encoding()?;
        if !encoded {
            let len = usize::try_from(len).map_err(|_| RdbError::Truncated("a string"))?;
            return Ok(Bytes::copy_from_slice(self.take(len, "a string")?));
        }
        let int = match len as u8 {
            ENC_INT8 => i64::from(self.byte("an integer")? as i8),
            ENC_INT16 => {
                let raw = self.take(2, "an integer")?;
                i64::from(i16::from_le_bytes([raw[0], raw[1]]))
            }
            ENC_INT32 => {
                let raw = self.take(4, "an integer")?;
                i64::from(i32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]))
            }
            ENC_LZF => {
                let compressed_len = self.length()?;
                let len = self.length()?;
                let compressed_len = usize::try_from(compressed_len).map_err(|_| RdbError::Truncated("LZF data"))?;
                let data = self.take(compressed_len, "LZF data")?;
                return lzf_decompress(data, len).map(Bytes::from);
            }
            _ => return Err(RdbError::Invalid("string encoding")),
        };
        Ok(Bytes::from(int.to_string()))
    }

    /// A double as RDB_TYPE_ZSET stores it: a length byte (253 NaN, 254
    /// +inf, 255 -inf) then that many ASCII characters.
    pub fn string_double(&mut self) -> RdbResult<f64> {
        match self.byte("a score")? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            len => {
                let text = self.take(usize::from(len), "a score")?;
                parse_double(text).ok_or(RdbError::Invalid("score"))
            }
        }
    }

    /// A double in binary (little-endian IEEE 754).
    pub fn binary_double(&mut self) -> RdbResult<f64> {
        let mut raw = [0u8; 8];
        raw.copy_from_slice(self.take(8, "a score")?);
        Ok(f64::from_le_bytes(raw))
    }

    /// A time in milliseconds (`rdbLoadMillisecondTime`: i64 LE).
    pub fn millis(&mut self) -> RdbResult<i64> {
        let mut raw = [0u8; 8];
        raw.copy_from_slice(self.take(8, "a time")?);
        Ok(i64::from_le_bytes(raw))
    }
}

/// A number as `strtod` would read a whole score string.
pub fn parse_double(text: &[u8]) -> Option<f64> {
    let parsed = super::super::zset::score::strtod(text);
    (parsed.consumed == text.len() && !text.is_empty()).then_some(parsed.value)
}

/// LZF decompression (liblzf's format, as `lzf_decompress`), to exactly
/// `len` bytes: a literal run is `000LLLLL` + L+1 bytes, a back reference
/// `LLLooooo [LLLLLLLL] oooooooo` copies L+2 bytes from `offset + 1` back
/// (L = 7 takes an extra length byte). Small enough not to need a crate.
pub fn lzf_decompress(input: &[u8], len: u64) -> RdbResult<Vec<u8>> {
    let bad = RdbError::Invalid("LZF data");
    // LZF expands at most ~264x (a 3-byte reference yields 264 bytes).
    if len == 0 || len > (input.len() as u64).saturating_mul(264) {
        return Err(bad);
    }
    let len = len as usize;
    let mut out = Vec::with_capacity(len);
    let mut at = 0;
    while at < input.len() {
        let ctrl = usize::from(input[at]);
        at += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            if at + run > input.len() || out.len() + run > len {
                return Err(bad);
            }
            out.extend_from_slice(&input[at..at + run]);
            at += run;
            continue;
        }
        let mut run = ctrl >> 5;
        if run == 7 {
            run += usize::from(*input.get(at).ok_or(bad.clone())?);
            at += 1;
        }
        let low = usize::from(*input.get(at).ok_or(bad.clone())?);
        at += 1;
        let back = ((ctrl & 0x1f) << 8) + low + 1;
        run += 2;
        if back > out.len() || out.len() + run > len {
            return Err(bad);
        }
        let from = out.len() - back;
        // Byte by byte: the source may overlap what is being written.
        for i in 0..run {
            let b = out[from + i];
            out.push(b);
        }
    }
    if out.len() != len {
        return Err(bad);
    }
    Ok(out)
}

/// Builds an RDB value.
#[derive(Default)]
pub struct RdbWriter {
    pub out: Vec<u8>,
}

impl RdbWriter {
    pub fn byte(&mut self, b: u8) {
        self.out.push(b);
    }

    /// `rdbSaveLen`.
    pub fn len(&mut self, len: u64) {
        if len < 1 << 6 {
            self.out.push(len as u8);
        } else if len < 1 << 14 {
            self.out.push(0x40 | (len >> 8) as u8);
            self.out.push(len as u8);
        } else if len <= u64::from(u32::MAX) {
            self.out.push(0x80);
            self.out.extend_from_slice(&(len as u32).to_be_bytes());
        } else {
            self.out.push(0x81);
            self.out.extend_from_slice(&len.to_be_bytes());
        }
    }

    /// `rdbSaveRawString` without compression: short decimal integers in
    /// their integer encoding (`rdbTryIntegerEncoding`), the rest as they are.
    pub fn string(&mut self, s: &[u8]) {
        if s.len() <= 11 {
            if let Some(v) = parse_i64(s) {
                if let Ok(v) = i8::try_from(v) {
                    self.out.extend_from_slice(&[0xc0 | ENC_INT8, v as u8]);
                    return;
                }
                if let Ok(v) = i16::try_from(v) {
                    self.out.push(0xc0 | ENC_INT16);
                    self.out.extend_from_slice(&v.to_le_bytes());
                    return;
                }
                if let Ok(v) = i32::try_from(v) {
                    self.out.push(0xc0 | ENC_INT32);
                    self.out.extend_from_slice(&v.to_le_bytes());
                    return;
                }
            }
        }
        self.len(s.len() as u64);
        self.out.extend_from_slice(s);
    }

    pub fn binary_double(&mut self, d: f64) {
        self.out.extend_from_slice(&d.to_le_bytes());
    }

    pub fn millis(&mut self, t: i64) {
        self.out.extend_from_slice(&t.to_le_bytes());
    }

    /// A 16-byte stream ID as Redis writes PEL keys: raw, big-endian.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }
}
