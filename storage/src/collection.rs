//! The metadata every collection value keeps in its payload.
//!
//! # Format
//! ```text
//! generation (u64 BE) | len (u64 BE) | type-specific bytes
//! ```
//! A collection's elements live in the `subkeys` column family under
//! [`crate::keys::subkey_prefix`] of its generation. A generation is unique
//! for the life of the keyspace ([`crate::Keyspace::new_generation`]), so
//! when a key is deleted, expired or overwritten its elements become
//! invisible at once: the keyspace drops them with one range deletion of the
//! old generation's prefix instead of deleting element by element, which is
//! what keeps `DEL` of a million-element set from stalling the node.

use bytes::{BufMut, Bytes, BytesMut};

use crate::value::{StoredValue, ValueHeader, ValueKind};
use crate::StorageError;

/// Bytes of the fixed part of a collection payload.
pub const META_BYTES: usize = 16;

/// A decoded collection payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionMeta {
    pub generation: u64,
    /// Number of elements (fields, members, entries).
    pub len: u64,
    /// What the type keeps beside the count (list ends, stream ids, ...).
    pub extra: Bytes,
}

impl CollectionMeta {
    pub fn new(generation: u64) -> Self {
        CollectionMeta { generation, len: 0, extra: Bytes::new() }
    }

    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(META_BYTES + self.extra.len());
        out.put_u64(self.generation);
        out.put_u64(self.len);
        out.extend_from_slice(&self.extra);
        out.freeze()
    }

    /// # Errors
    /// [`StorageError::Corrupt`] if the payload is shorter than the metadata.
    pub fn decode(payload: &Bytes) -> Result<Self, StorageError> {
        if payload.len() < META_BYTES {
            return Err(StorageError::corrupt("collection", format!("{} byte payload", payload.len())));
        }
        let word = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&payload[at..at + 8]);
            u64::from_be_bytes(b)
        };
        Ok(CollectionMeta { generation: word(0), len: word(8), extra: payload.slice(META_BYTES..) })
    }

    /// A value of `kind` holding this metadata.
    pub fn to_value(&self, kind: ValueKind, expire_at_ms: u64, encoding: u8) -> StoredValue {
        let mut header = ValueHeader::new(kind, expire_at_ms);
        header.encoding = encoding;
        StoredValue { header, payload: self.encode() }
    }
}

impl StoredValue {
    /// The generation of a collection value, `None` for other kinds (and for
    /// a payload too short to be a collection's).
    pub fn generation(&self) -> Option<u64> {
        if !self.header.kind.is_collection() || self.payload.len() < META_BYTES {
            return None;
        }
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.payload[..8]);
        Some(u64::from_be_bytes(b))
    }

    /// The decoded metadata of a collection value.
    ///
    /// # Errors
    /// [`StorageError::Corrupt`] for a value that is not a collection or a
    /// malformed payload.
    pub fn collection(&self) -> Result<CollectionMeta, StorageError> {
        if !self.header.kind.is_collection() {
            return Err(StorageError::corrupt(
                "collection",
                format!("a {} has no collection metadata", self.header.kind.type_name()),
            ));
        }
        CollectionMeta::decode(&self.payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trips_with_extra_bytes() {
        let meta = CollectionMeta { generation: 9 << 16 | 2, len: 1_000_000, extra: Bytes::from_static(b"xy") };
        let value = meta.to_value(ValueKind::List, 5, 1);
        assert_eq!(value.generation(), Some(9 << 16 | 2));
        assert_eq!(value.collection().unwrap(), meta);
        assert_eq!(StoredValue::decode(&value.encode()).unwrap().collection().unwrap(), meta);
    }

    #[test]
    fn strings_have_no_generation() {
        assert_eq!(StoredValue::string(&b"0123456789abcdef0123"[..], 0).generation(), None);
        assert!(CollectionMeta::decode(&Bytes::from_static(b"short")).is_err());
    }
}
