//! A value as an RDB payload carries it, and its encoding to and decoding
//! from the RDB object types.
//!
//! Decoding accepts every object type Redis 7.2 loads (0-21: the current
//! ones and those older versions wrote) and refuses what Redis refuses
//! (empty collections, duplicate members, NaN scores), plus anything whose
//! structure does not check out, since every element is decoded here
//! (Redis by default checks packed blobs only shallowly).
//!
//! Encoding picks the object type Redis 7.2 would write for the value's
//! encoding in memory (see `OBJECT ENCODING`): listpacks for small hashes,
//! sets and sorted sets, an intset for small integer sets, a quicklist of
//! listpacks for lists; or, with [`RDB_VERSION_7_0`], what Redis 7.0 would
//! write (no set listpacks, older stream consumers).

use std::collections::HashSet;

use bytes::Bytes;

use super::super::set::Encoding as SetEncoding;
use super::super::zset::score::format_listpack_score;
use super::super::zset::store::Scored;
use super::packed::{self, ListpackWriter, Packed};
use super::rdb::{types, RdbError, RdbReader, RdbResult, RdbWriter, RDB_VERSION_7_0};
use super::stream::{self, StreamValue};

/// A decoded value.
#[derive(Debug, Clone, PartialEq)]
pub enum RdbValue {
    String(Bytes),
    List(Vec<Bytes>),
    /// `compact`: a listpack in Redis's memory, written as one.
    Hash {
        pairs: Vec<(Bytes, Bytes)>,
        compact: bool,
    },
    Set {
        members: Vec<Bytes>,
        encoding: SetEncoding,
    },
    /// Items in ascending (score, member) order.
    ZSet {
        items: Vec<Scored>,
        compact: bool,
    },
    Stream(Box<StreamValue>),
    /// A RedisJSON document, as compact JSON text.
    Json(Bytes),
}

/// `list-max-listpack-size -2`: a quicklist node holds up to 8 KB.
const QUICKLIST_NODE_BYTES_MAX: usize = 8192;
/// Redis's `SIZE_ESTIMATE_OVERHEAD` when deciding whether an element fits.
const QUICKLIST_ENTRY_OVERHEAD: usize = 8;
const QUICKLIST_NODE_PLAIN: u64 = 1;
const QUICKLIST_NODE_PACKED: u64 = 2;

/// RedisJSON's module type name and the encoding version RedisJSON 2.x writes.
const JSON_MODULE_NAME: &[u8; 9] = b"ReJSON-RL";
const JSON_ENCODING_VERSION: u64 = 3;
/// Module value opcodes (`RDB_MODULE_OPCODE_*`).
const MODULE_OPCODE_EOF: u64 = 0;
const MODULE_OPCODE_STRING: u64 = 5;
const MODULE_NAME_CHARSET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A module type ID (`moduleTypeEncodeId`): nine 6-bit name characters,
/// then a 10-bit encoding version.
fn module_id(name: &[u8; 9], encoding_version: u64) -> u64 {
    let mut id = 0u64;
    for c in name {
        let index = MODULE_NAME_CHARSET.iter().position(|x| x == c).unwrap_or(0) as u64;
        id = id << 6 | index;
    }
    id << 10 | (encoding_version & 0x3ff)
}

fn module_name_of(id: u64) -> [u8; 9] {
    let mut name = [0u8; 9];
    for (i, c) in name.iter_mut().enumerate() {
        *c = MODULE_NAME_CHARSET[((id >> (10 + 6 * (8 - i))) & 0x3f) as usize];
    }
    name
}

/// The object type and the value, as DUMP puts them before the footer.
pub fn encode(value: &RdbValue, version: u16) -> Vec<u8> {
    let mut w = RdbWriter::default();
    match value {
        RdbValue::String(s) => {
            w.byte(types::STRING);
            w.string(s);
        }
        RdbValue::List(items) => {
            w.byte(types::LIST_QUICKLIST_2);
            encode_quicklist(&mut w, items);
        }
        RdbValue::Hash { pairs, compact: true } => {
            w.byte(types::HASH_LISTPACK);
            let mut lp = ListpackWriter::default();
            for (field, value) in pairs {
                lp.push(field);
                lp.push(value);
            }
            w.string(&lp.finish());
        }
        RdbValue::Hash { pairs, compact: false } => {
            w.byte(types::HASH);
            w.len(pairs.len() as u64);
            for (field, value) in pairs {
                w.string(field);
                w.string(value);
            }
        }
        RdbValue::Set { members, encoding } => encode_set(&mut w, members, *encoding, version),
        RdbValue::ZSet { items, compact: true } => {
            w.byte(types::ZSET_LISTPACK);
            let mut lp = ListpackWriter::default();
            for item in items {
                lp.push(&item.member);
                lp.push(format_listpack_score(item.score).as_bytes());
            }
            w.string(&lp.finish());
        }
        RdbValue::ZSet { items, compact: false } => {
            // Redis writes a skiplist from its tail, so loading inserts at the head.
            w.byte(types::ZSET_2);
            w.len(items.len() as u64);
            for item in items.iter().rev() {
                w.string(&item.member);
                w.binary_double(item.score);
            }
        }
        RdbValue::Stream(s) => {
            w.byte(if version > RDB_VERSION_7_0 { types::STREAM_LISTPACKS_3 } else { types::STREAM_LISTPACKS_2 });
            stream::encode(&mut w, s, version > RDB_VERSION_7_0);
        }
        RdbValue::Json(text) => {
            w.byte(types::MODULE_2);
            w.len(module_id(JSON_MODULE_NAME, JSON_ENCODING_VERSION));
            w.len(MODULE_OPCODE_STRING);
            w.string(text);
            w.len(MODULE_OPCODE_EOF);
        }
    }
    w.out
}

/// Quicklist nodes filled the way `_quicklistNodeAllowInsert` fills them
/// when elements are pushed one by one.
fn encode_quicklist(w: &mut RdbWriter, items: &[Bytes]) {
    let mut nodes: Vec<ListpackWriter> = vec![ListpackWriter::default()];
    for item in items {
        let current = nodes.last_mut().expect("one node at least");
        if current.count() > 0 && current.bytes() + item.len() + QUICKLIST_ENTRY_OVERHEAD > QUICKLIST_NODE_BYTES_MAX {
            nodes.push(ListpackWriter::default());
        }
        nodes.last_mut().expect("one node at least").push(item);
    }
    w.len(nodes.len() as u64);
    for node in nodes {
        w.len(QUICKLIST_NODE_PACKED);
        w.string(&node.finish());
    }
}

fn encode_set(w: &mut RdbWriter, members: &[Bytes], encoding: SetEncoding, version: u16) {
    if encoding == SetEncoding::Intset {
        let ints: Option<Vec<i64>> = members.iter().map(|m| Packed::Str(m).as_int()).collect();
        if let Some(mut ints) = ints {
            ints.sort_unstable();
            w.byte(types::SET_INTSET);
            w.string(&packed::write_intset(&ints));
            return;
        }
    }
    if encoding == SetEncoding::Listpack && version > RDB_VERSION_7_0 {
        w.byte(types::SET_LISTPACK);
        let mut lp = ListpackWriter::default();
        for m in members {
            lp.push(m);
        }
        w.string(&lp.finish());
        return;
    }
    w.byte(types::SET);
    w.len(members.len() as u64);
    for m in members {
        w.string(m);
    }
}

/// Decodes the object type and value of a payload's body (`rdbLoadObject`).
pub fn decode(body: &[u8]) -> RdbResult<RdbValue> {
    let mut r = RdbReader::new(body);
    let object_type = r.byte("the object type")?;
    let value = match object_type {
        types::STRING => RdbValue::String(r.string()?),
        types::LIST => {
            let n = r.count(1)?;
            list((0..n).map(|_| r.string()).collect::<RdbResult<_>>()?)?
        }
        types::SET => {
            let n = r.count(1)?;
            set((0..n).map(|_| r.string()).collect::<RdbResult<_>>()?, SetEncoding::Hashtable)?
        }
        types::ZSET | types::ZSET_2 => {
            let n = r.count(2)?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                let member = r.string()?;
                let score = if object_type == types::ZSET { r.string_double()? } else { r.binary_double()? };
                items.push(Scored { member, score });
            }
            zset(items, false)?
        }
        types::HASH => {
            let n = r.count(2)?;
            let pairs = (0..n).map(|_| Ok((r.string()?, r.string()?))).collect::<RdbResult<_>>()?;
            hash(pairs, false)?
        }
        types::MODULE_2 => decode_module(&mut r)?,
        types::HASH_ZIPMAP => hash(packed::read_zipmap(&r.string()?)?, true)?,
        types::LIST_ZIPLIST => list(packed::read_ziplist(&r.string()?)?.iter().map(Packed::to_bytes).collect())?,
        types::SET_INTSET => {
            let members = packed::read_intset(&r.string()?)?;
            set(members.iter().map(|v| Bytes::from(v.to_string())).collect(), SetEncoding::Intset)?
        }
        types::ZSET_ZIPLIST => zset(scored_pairs(&packed::read_ziplist(&r.string()?)?)?, true)?,
        types::HASH_ZIPLIST => hash(pairs_of(&packed::read_ziplist(&r.string()?)?)?, true)?,
        types::LIST_QUICKLIST | types::LIST_QUICKLIST_2 => {
            let nodes = r.count(1)?;
            let mut items = Vec::new();
            for _ in 0..nodes {
                let container =
                    if object_type == types::LIST_QUICKLIST_2 { r.length()? } else { QUICKLIST_NODE_PACKED };
                let blob = r.string()?;
                match container {
                    QUICKLIST_NODE_PLAIN => items.push(blob),
                    // Redis skips empty nodes; an empty list is refused below.
                    QUICKLIST_NODE_PACKED if object_type == types::LIST_QUICKLIST => {
                        items.extend(packed::read_ziplist(&blob)?.iter().map(Packed::to_bytes))
                    }
                    QUICKLIST_NODE_PACKED => items.extend(packed::read_listpack(&blob)?.iter().map(Packed::to_bytes)),
                    _ => return Err(RdbError::Invalid("quicklist container")),
                }
            }
            list(items)?
        }
        types::STREAM_LISTPACKS | types::STREAM_LISTPACKS_2 | types::STREAM_LISTPACKS_3 => {
            RdbValue::Stream(Box::new(stream::decode(&mut r, object_type)?))
        }
        types::HASH_LISTPACK => hash(pairs_of(&packed::read_listpack(&r.string()?)?)?, true)?,
        types::ZSET_LISTPACK => zset(scored_pairs(&packed::read_listpack(&r.string()?)?)?, true)?,
        types::SET_LISTPACK => {
            set(packed::read_listpack(&r.string()?)?.iter().map(Packed::to_bytes).collect(), SetEncoding::Listpack)?
        }
        other => return Err(RdbError::UnknownType(other)),
    };
    Ok(value)
}

fn list(items: Vec<Bytes>) -> RdbResult<RdbValue> {
    if items.is_empty() {
        return Err(RdbError::Empty("list"));
    }
    Ok(RdbValue::List(items))
}

fn set(members: Vec<Bytes>, encoding: SetEncoding) -> RdbResult<RdbValue> {
    if members.is_empty() {
        return Err(RdbError::Empty("set"));
    }
    let mut seen = HashSet::with_capacity(members.len());
    if !members.iter().all(|m| seen.insert(m)) {
        return Err(RdbError::Duplicate("set member"));
    }
    Ok(RdbValue::Set { members, encoding })
}

fn hash(pairs: Vec<(Bytes, Bytes)>, compact: bool) -> RdbResult<RdbValue> {
    if pairs.is_empty() {
        return Err(RdbError::Empty("hash"));
    }
    let mut seen = HashSet::with_capacity(pairs.len());
    if !pairs.iter().all(|(f, _)| seen.insert(f)) {
        return Err(RdbError::Duplicate("hash field"));
    }
    Ok(RdbValue::Hash { pairs, compact })
}

fn zset(mut items: Vec<Scored>, compact: bool) -> RdbResult<RdbValue> {
    if items.is_empty() {
        return Err(RdbError::Empty("sorted set"));
    }
    if items.iter().any(|i| i.score.is_nan()) {
        return Err(RdbError::Invalid("score: NaN"));
    }
    let mut seen = HashSet::with_capacity(items.len());
    if !items.iter().all(|i| seen.insert(&i.member)) {
        return Err(RdbError::Duplicate("sorted set member"));
    }
    items.sort_by(|a, b| super::super::zset::score::cmp_scores(a.score, b.score).then(a.member.cmp(&b.member)));
    Ok(RdbValue::ZSet { items, compact })
}

fn pairs_of(elements: &[Packed<'_>]) -> RdbResult<Vec<(Bytes, Bytes)>> {
    if !elements.len().is_multiple_of(2) {
        return Err(RdbError::Invalid("odd number of hash elements"));
    }
    Ok(elements.chunks_exact(2).map(|p| (p[0].to_bytes(), p[1].to_bytes())).collect())
}

fn scored_pairs(elements: &[Packed<'_>]) -> RdbResult<Vec<Scored>> {
    pairs_of(elements)?
        .into_iter()
        .map(|(member, score)| {
            let score = super::rdb::parse_double(&score).ok_or(RdbError::Invalid("score"))?;
            Ok(Scored { member, score })
        })
        .collect()
}

/// A module value: only RedisJSON's documents (encoding versions 2 and 3,
/// the JSON text as one string) are known here, as in a Redis without
/// other modules loaded.
fn decode_module(r: &mut RdbReader<'_>) -> RdbResult<RdbValue> {
    let id = r.length()?;
    if &module_name_of(id) != JSON_MODULE_NAME || !(2..=JSON_ENCODING_VERSION).contains(&(id & 0x3ff)) {
        return Err(RdbError::Invalid("module type"));
    }
    if r.length()? != MODULE_OPCODE_STRING {
        return Err(RdbError::Invalid("module value"));
    }
    let text = r.string()?;
    if r.length()? != MODULE_OPCODE_EOF {
        return Err(RdbError::Invalid("module value end"));
    }
    let doc: serde_json::Value = serde_json::from_slice(&text).map_err(|_| RdbError::Invalid("JSON document"))?;
    let compact = serde_json::to_vec(&doc).map_err(|_| RdbError::Invalid("JSON document"))?;
    Ok(RdbValue::Json(Bytes::from(compact)))
}

#[cfg(test)]
pub(super) fn json_module_id() -> u64 {
    module_id(JSON_MODULE_NAME, JSON_ENCODING_VERSION)
}
