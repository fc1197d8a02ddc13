//! The header every stored value carries.
//!
//! # Format
//! ```text
//! kind (u8) | encoding (u8) | expire_at_ms (u64 BE, 0 = no expiry)
//!   | modified_index (u64 BE) | modified_at_ms (u64 BE) | payload
//! ```
//! `modified_index` is the Raft log index of the entry that last wrote the key;
//! WATCH compares it at apply time, so a write through any node aborts an EXEC.
//! For strings the payload is the value itself; collection types put their
//! metadata (size, generation) there and their elements in `subkeys`.
//!
//! `encoding` is a per-type hint for `OBJECT ENCODING`: Redis mostly derives
//! a value's representation from its content, but some commands leave a
//! different one behind (APPEND turns any string "raw"; a hash converted to
//! a hashtable never goes back to a listpack), and only the value can
//! remember that. 0 always means "derive it from the content".

use bytes::Bytes;

use crate::StorageError;

/// The Redis type of a stored value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ValueKind {
    String = 0,
    List = 1,
    Hash = 2,
    Set = 3,
    ZSet = 4,
    Stream = 5,
    /// A RedisJSON document.
    Json = 6,
}

impl ValueKind {
    /// Whether values of this kind are collections: metadata in the payload
    /// and elements in `subkeys` (see [`crate::collection`]). Strings and
    /// JSON documents are their payload alone. An exhaustive match, so a new
    /// kind must choose.
    pub fn is_collection(self) -> bool {
        match self {
            ValueKind::List | ValueKind::Hash | ValueKind::Set | ValueKind::ZSet | ValueKind::Stream => true,
            ValueKind::String | ValueKind::Json => false,
        }
    }

    /// The name `TYPE` replies with.
    pub fn type_name(self) -> &'static str {
        match self {
            ValueKind::String => "string",
            ValueKind::List => "list",
            ValueKind::Hash => "hash",
            ValueKind::Set => "set",
            ValueKind::ZSet => "zset",
            ValueKind::Stream => "stream",
            ValueKind::Json => "ReJSON-RL",
        }
    }

    fn from_u8(tag: u8) -> Option<Self> {
        Some(match tag {
            0 => ValueKind::String,
            1 => ValueKind::List,
            2 => ValueKind::Hash,
            3 => ValueKind::Set,
            4 => ValueKind::ZSet,
            5 => ValueKind::Stream,
            6 => ValueKind::Json,
            _ => return None,
        })
    }
}

/// Fixed-size part of every stored value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueHeader {
    pub kind: ValueKind,
    /// Type-specific `OBJECT ENCODING` hint (see the module doc); 0 by default.
    pub encoding: u8,
    /// Absolute expiry in Unix milliseconds; 0 means the key does not expire.
    pub expire_at_ms: u64,
    /// Log index of the entry that last modified the key.
    pub modified_index: u64,
    /// Leader time (Unix ms) of the entry that last modified the key.
    pub modified_at_ms: u64,
}

pub const HEADER_BYTES: usize = 26;

impl ValueHeader {
    /// A header for a new value; the keyspace fills in `modified_*` when it
    /// is written.
    pub fn new(kind: ValueKind, expire_at_ms: u64) -> Self {
        ValueHeader { kind, encoding: 0, expire_at_ms, modified_index: 0, modified_at_ms: 0 }
    }

    /// Whether the key is logically gone at `now_ms`.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expire_at_ms != 0 && self.expire_at_ms <= now_ms
    }
}

/// A decoded value: header plus payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredValue {
    pub header: ValueHeader,
    pub payload: Bytes,
}

impl StoredValue {
    /// A string value; the keyspace fills in `modified_*` when it is written.
    pub fn string(payload: impl Into<Bytes>, expire_at_ms: u64) -> Self {
        StoredValue { header: ValueHeader::new(ValueKind::String, expire_at_ms), payload: payload.into() }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_BYTES + self.payload.len());
        out.push(self.header.kind as u8);
        out.push(self.header.encoding);
        out.extend_from_slice(&self.header.expire_at_ms.to_be_bytes());
        out.extend_from_slice(&self.header.modified_index.to_be_bytes());
        out.extend_from_slice(&self.header.modified_at_ms.to_be_bytes());
        out.extend_from_slice(&self.payload);
        out
    }

    /// # Errors
    /// [`StorageError::Corrupt`] if the bytes are not a value this version wrote.
    pub fn decode(raw: &[u8]) -> Result<Self, StorageError> {
        if raw.len() < HEADER_BYTES {
            return Err(StorageError::corrupt("value", format!("{} bytes is shorter than the header", raw.len())));
        }
        let kind = ValueKind::from_u8(raw[0])
            .ok_or_else(|| StorageError::corrupt("value", format!("unknown type tag {}", raw[0])))?;
        let word = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&raw[at..at + 8]);
            u64::from_be_bytes(b)
        };
        Ok(StoredValue {
            header: ValueHeader {
                kind,
                encoding: raw[1],
                expire_at_ms: word(2),
                modified_index: word(10),
                modified_at_ms: word(18),
            },
            payload: Bytes::copy_from_slice(&raw[HEADER_BYTES..]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        let mut v = StoredValue::string(&b"hello"[..], 42);
        v.header.modified_index = 7;
        v.header.modified_at_ms = 9;
        v.header.encoding = 3;
        assert_eq!(StoredValue::decode(&v.encode()).unwrap(), v);
    }

    #[test]
    fn truncated_values_are_reported_not_panicked_on() {
        assert!(StoredValue::decode(&[0, 1, 2]).is_err());
        assert!(StoredValue::decode(&[99; HEADER_BYTES]).is_err());
    }
}
