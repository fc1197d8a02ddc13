//! Redis's packed blobs inside RDB strings: listpacks (read and written),
//! intsets (read and written), and the formats older Redis versions wrote,
//! ziplists and zipmaps (read only).
//!
//! # Format
//! ```text
//! listpack: total bytes (u32 LE) | count (u16 LE, 65535 = unknown) | entry* | 0xFF
//!   entry:  encoding+data | backlen (the entry's size, 1-5 bytes, 7 bits each)
//!     0xxxxxxx uint7 | 10LLLLLL str6 | 110xxxxx x8 int13 | 1110LLLL L8 str12
//!     0xF0 L32 str32 | 0xF1 i16 | 0xF2 i24 | 0xF3 i32 | 0xF4 i64   (all LE)
//! ziplist:  total bytes (u32 LE) | tail offset (u32 LE) | count (u16 LE) | entry* | 0xFF
//!   entry:  prevlen (1 byte < 254, or 0xFE + u32 LE) | encoding | data
//!     00LLLLLL | 01LLLLLL L8 (BE) | 0x80 L32 (BE)  strings
//!     0xC0 i16 | 0xD0 i32 | 0xE0 i64 | 0xF0 i24 | 0xFE i8 | 0xF1..0xFD 0..12
//! intset:   width (u32 LE: 2, 4 or 8) | count (u32 LE) | sorted integers (LE)
//! zipmap:   count (u8) | (len key len free value free-bytes)* | 0xFF
//!   len:    one byte < 254, or 254 + u32 LE
//! ```

use bytes::Bytes;

use super::super::args::parse_i64;
use super::rdb::{RdbError, RdbResult};

/// An element of a packed blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packed<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Packed<'_> {
    /// The element as Redis hands it to commands: integers in decimal.
    pub fn to_bytes(&self) -> Bytes {
        match self {
            Packed::Int(v) => Bytes::from(v.to_string()),
            Packed::Str(s) => Bytes::copy_from_slice(s),
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Packed::Int(v) => Some(*v),
            Packed::Str(s) => parse_i64(s),
        }
    }
}

const LP_HEADER_BYTES: usize = 6;
const LP_EOF: u8 = 0xff;
const LP_COUNT_UNKNOWN: u16 = u16::MAX;

/// The bytes of a listpack backlen for an entry of `size` bytes.
fn backlen_bytes(size: usize) -> usize {
    match size {
        0..=127 => 1,
        128..=16_382 => 2,
        16_383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    }
}

/// Builds a listpack the way Redis's `lpAppend` does: strings that are
/// canonical 64-bit integers (`lpStringToInt64`) take an integer encoding.
#[derive(Debug, Clone)]
pub struct ListpackWriter {
    buf: Vec<u8>,
    count: usize,
}

impl Default for ListpackWriter {
    fn default() -> Self {
        ListpackWriter { buf: vec![0; LP_HEADER_BYTES], count: 0 }
    }
}

impl ListpackWriter {
    /// The size the listpack would have now (`lpBytes`).
    pub fn bytes(&self) -> usize {
        self.buf.len() + 1
    }

    pub fn count(&self) -> usize {
        self.count
    }

    pub fn push(&mut self, element: &[u8]) {
        match parse_i64(element) {
            Some(v) => self.push_int(v),
            None => self.push_str(element),
        }
    }

    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        let b = &mut self.buf;
        if (0..=127).contains(&v) {
            b.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = (v as u64) & 0x1fff;
            b.extend_from_slice(&[0xc0 | (u >> 8) as u8, u as u8]);
        } else if let Ok(v) = i16::try_from(v) {
            b.push(0xf1);
            b.extend_from_slice(&v.to_le_bytes());
        } else if (-8_388_608..=8_388_607).contains(&v) {
            b.push(0xf2);
            b.extend_from_slice(&v.to_le_bytes()[..3]);
        } else if let Ok(v) = i32::try_from(v) {
            b.push(0xf3);
            b.extend_from_slice(&v.to_le_bytes());
        } else {
            b.push(0xf4);
            b.extend_from_slice(&v.to_le_bytes());
        }
        self.finish_entry(start);
    }

    fn push_str(&mut self, s: &[u8]) {
        let start = self.buf.len();
        let len = s.len();
        if len < 64 {
            self.buf.push(0x80 | len as u8);
        } else if len < 4096 {
            self.buf.extend_from_slice(&[0xe0 | (len >> 8) as u8, len as u8]);
        } else {
            self.buf.push(0xf0);
            self.buf.extend_from_slice(&(len as u32).to_le_bytes());
        }
        self.buf.extend_from_slice(s);
        self.finish_entry(start);
    }

    /// Appends the backlen of the entry that starts at `start`
    /// (`lpEncodeBacklen`: most significant 7 bits first, every byte but
    /// the first flagged with 0x80).
    fn finish_entry(&mut self, start: usize) {
        let size = self.buf.len() - start;
        let n = backlen_bytes(size);
        for i in (0..n).rev() {
            let group = ((size >> (7 * i)) & 0x7f) as u8;
            self.buf.push(if i == n - 1 { group } else { group | 0x80 });
        }
        self.count += 1;
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(LP_EOF);
        let total = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        let count = if self.count < usize::from(LP_COUNT_UNKNOWN) { self.count as u16 } else { LP_COUNT_UNKNOWN };
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

fn le_int(raw: &[u8]) -> i64 {
    let mut b = [0u8; 8];
    b[..raw.len()].copy_from_slice(raw);
    // Sign-extend from the top bit of the last byte given.
    let shift = 64 - 8 * raw.len() as u32;
    (i64::from_le_bytes(b) << shift) >> shift
}

fn slice<'a>(blob: &'a [u8], from: usize, len: usize, what: &'static str) -> RdbResult<&'a [u8]> {
    blob.get(from..from.checked_add(len).ok_or(RdbError::Invalid(what))?).ok_or(RdbError::Invalid(what))
}

/// Every element of a listpack, after checking its header, every entry's
/// backlen and the terminator.
pub fn read_listpack(blob: &[u8]) -> RdbResult<Vec<Packed<'_>>> {
    let bad = RdbError::Invalid("listpack");
    if blob.len() < LP_HEADER_BYTES + 1 {
        return Err(bad);
    }
    let total = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
    let count = u16::from_le_bytes([blob[4], blob[5]]);
    if total != blob.len() || blob[total - 1] != LP_EOF {
        return Err(bad);
    }
    let mut out = Vec::with_capacity(usize::from(count).min(blob.len()));
    let mut at = LP_HEADER_BYTES;
    loop {
        let b = *blob.get(at).ok_or(bad.clone())?;
        if b == LP_EOF {
            break;
        }
        let (element, size) = match b {
            _ if b & 0x80 == 0 => (Packed::Int(i64::from(b)), 1),
            _ if b & 0xc0 == 0x80 => {
                let len = usize::from(b & 0x3f);
                (Packed::Str(slice(blob, at + 1, len, "listpack")?), 1 + len)
            }
            _ if b & 0xe0 == 0xc0 => {
                let raw = slice(blob, at, 2, "listpack")?;
                let v = i64::from(raw[0] & 0x1f) << 8 | i64::from(raw[1]);
                (Packed::Int(if v >= 1 << 12 { v - (1 << 13) } else { v }), 2)
            }
            _ if b & 0xf0 == 0xe0 => {
                let raw = slice(blob, at, 2, "listpack")?;
                let len = usize::from(raw[0] & 0x0f) << 8 | usize::from(raw[1]);
                (Packed::Str(slice(blob, at + 2, len, "listpack")?), 2 + len)
            }
            0xf0 => {
                let raw = slice(blob, at + 1, 4, "listpack")?;
                let len = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize;
                (Packed::Str(slice(blob, at + 5, len, "listpack")?), 5 + len)
            }
            0xf1..=0xf4 => {
                let width = match b {
                    0xf1 => 2,
                    0xf2 => 3,
                    0xf3 => 4,
                    _ => 8,
                };
                (Packed::Int(le_int(slice(blob, at + 1, width, "listpack")?)), 1 + width)
            }
            _ => return Err(bad),
        };
        let backlen_at = at + size;
        let n = backlen_bytes(size);
        let backlen = slice(blob, backlen_at, n, "listpack")?;
        let mut decoded = 0usize;
        for (i, byte) in backlen.iter().enumerate() {
            if (i == 0) == (byte & 0x80 != 0) {
                return Err(bad);
            }
            decoded = decoded << 7 | usize::from(byte & 0x7f);
        }
        if decoded != size {
            return Err(bad);
        }
        out.push(element);
        at = backlen_at + n;
    }
    if at != total - 1 || (count != LP_COUNT_UNKNOWN && usize::from(count) != out.len()) {
        return Err(bad);
    }
    Ok(out)
}

/// Every element of a ziplist (Redis before 7.0), after checking its
/// header, the `prevlen` chain and the terminator.
pub fn read_ziplist(blob: &[u8]) -> RdbResult<Vec<Packed<'_>>> {
    let bad = RdbError::Invalid("ziplist");
    if blob.len() < 11 {
        return Err(bad);
    }
    let total = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
    let count = u16::from_le_bytes([blob[8], blob[9]]);
    if total != blob.len() || blob[total - 1] != 0xff {
        return Err(bad);
    }
    let mut out = Vec::with_capacity(usize::from(count).min(blob.len()));
    let mut at = 10;
    let mut previous_size = 0usize;
    while blob[at] != 0xff {
        let start = at;
        let prevlen = if blob[at] < 254 {
            at += 1;
            usize::from(blob[start])
        } else if blob[at] == 254 {
            let raw = slice(blob, at + 1, 4, "ziplist")?;
            at += 5;
            u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize
        } else {
            return Err(bad);
        };
        if prevlen != previous_size {
            return Err(bad);
        }
        let b = *blob.get(at).ok_or(bad.clone())?;
        let (element, size) = match b >> 6 {
            0 => {
                let len = usize::from(b & 0x3f);
                (Packed::Str(slice(blob, at + 1, len, "ziplist")?), 1 + len)
            }
            1 => {
                let raw = slice(blob, at, 2, "ziplist")?;
                let len = usize::from(raw[0] & 0x3f) << 8 | usize::from(raw[1]);
                (Packed::Str(slice(blob, at + 2, len, "ziplist")?), 2 + len)
            }
            2 => {
                let raw = slice(blob, at + 1, 4, "ziplist")?;
                let len = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize;
                (Packed::Str(slice(blob, at + 5, len, "ziplist")?), 5 + len)
            }
            _ => {
                let width = match b {
                    0xc0 => 2,
                    0xd0 => 4,
                    0xe0 => 8,
                    0xf0 => 3,
                    0xfe => 1,
                    0xf1..=0xfd => 0,
                    _ => return Err(bad),
                };
                let v =
                    if width == 0 { i64::from(b & 0x0f) - 1 } else { le_int(slice(blob, at + 1, width, "ziplist")?) };
                (Packed::Int(v), 1 + width)
            }
        };
        at += size;
        if at >= total {
            return Err(bad);
        }
        previous_size = at - start;
        out.push(element);
    }
    if at != total - 1 || (count != u16::MAX && usize::from(count) != out.len()) {
        return Err(bad);
    }
    Ok(out)
}

/// An intset's members, checked sorted and distinct.
pub fn read_intset(blob: &[u8]) -> RdbResult<Vec<i64>> {
    let bad = RdbError::Invalid("intset");
    if blob.len() < 8 {
        return Err(bad);
    }
    let width = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
    let count = u32::from_le_bytes([blob[4], blob[5], blob[6], blob[7]]) as usize;
    if !matches!(width, 2 | 4 | 8) || Some(blob.len()) != count.checked_mul(width).and_then(|n| n.checked_add(8)) {
        return Err(bad);
    }
    let members: Vec<i64> = blob[8..].chunks_exact(width).map(le_int).collect();
    if members.windows(2).any(|w| w[0] >= w[1]) {
        return Err(bad);
    }
    Ok(members)
}

/// An intset of `members` (sorted, distinct) in the narrowest width that
/// holds them all, as Redis's `intsetAdd` leaves it.
pub fn write_intset(members: &[i64]) -> Vec<u8> {
    let width: usize = if members.iter().all(|v| i16::try_from(*v).is_ok()) {
        2
    } else if members.iter().all(|v| i32::try_from(*v).is_ok()) {
        4
    } else {
        8
    };
    let mut out = Vec::with_capacity(8 + width * members.len());
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(members.len() as u32).to_le_bytes());
    for v in members {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    out
}

/// A zipmap's (field, value) pairs (hashes of Redis before 2.6).
pub fn read_zipmap(blob: &[u8]) -> RdbResult<Vec<(Bytes, Bytes)>> {
    let bad = RdbError::Invalid("zipmap");
    let mut at = 1;
    let len = |at: &mut usize| -> RdbResult<usize> {
        let b = *blob.get(*at).ok_or(bad.clone())?;
        match b {
            0..=253 => {
                *at += 1;
                Ok(usize::from(b))
            }
            254 => {
                let raw = slice(blob, *at + 1, 4, "zipmap")?;
                *at += 5;
                Ok(u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize)
            }
            _ => Err(bad.clone()),
        }
    };
    let mut out = Vec::new();
    while *blob.get(at).ok_or(bad.clone())? != 0xff {
        let key_len = len(&mut at)?;
        let key = slice(blob, at, key_len, "zipmap")?;
        at += key_len;
        let value_len = len(&mut at)?;
        let free = usize::from(*blob.get(at).ok_or(bad.clone())?);
        let value = slice(blob, at + 1, value_len, "zipmap")?;
        at += 1 + value_len + free;
        out.push((Bytes::copy_from_slice(key), Bytes::copy_from_slice(value)));
    }
    if at != blob.len() - 1 {
        return Err(bad);
    }
    Ok(out)
}
