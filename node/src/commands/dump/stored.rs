//! Between [`RdbValue`] and the keyspace: reading a key's whole value for
//! DUMP, and writing a decoded value as a new key for RESTORE through each
//! family's own storage (so collections become subkeys, with the encoding
//! hints Redis would give the loaded value).

use std::collections::HashMap;
use std::ops::ControlFlow;

use bytes::Bytes;
use storage::subkeys::ALL;
use storage::{StoredValue, ValueHeader, ValueKind};

use super::super::collection::{self, member_of};
use super::super::hash;
use super::super::list::store::List;
use super::super::set::Encoding as SetEncoding;
use super::super::stream::id::StreamId;
use super::super::stream::store::{Consumer, Nack, Stream};
use super::super::zset::{self, read::store_new, store::ZSet};
use super::super::Ctx;
use super::stream::{ConsumerValue, GroupValue, PendingEntry, StreamNode, StreamValue};
use super::value::RdbValue;
use crate::error::CommandError;

/// `hash-max-listpack-entries`, `hash-max-listpack-value`.
const HASH_LISTPACK_ENTRIES_MAX: usize = 512;
const HASH_LISTPACK_VALUE_MAX: usize = 64;
/// `set-max-intset-entries`, `set-max-listpack-entries`, `set-max-listpack-value`.
const SET_INTSET_ENTRIES_MAX: usize = 512;
const SET_LISTPACK_ENTRIES_MAX: usize = 128;
const SET_LISTPACK_VALUE_MAX: usize = 64;

/// Every element of a hashed collection (hash or set): (member, value).
fn hashed_elements(ctx: &Ctx<'_>, key: &[u8], value: &StoredValue) -> Result<Vec<(Bytes, Bytes)>, CommandError> {
    let meta = value.collection()?;
    let mut out = Vec::with_capacity(super::super::set::capacity_hint(meta.len));
    ctx.ks.sub_scan(ctx.db, key, meta.generation, ALL, false, &mut |name, element| {
        out.push((Bytes::copy_from_slice(member_of(name)), Bytes::copy_from_slice(element)));
        ControlFlow::Continue(())
    })?;
    Ok(out)
}

/// The whole value of `key` (whose stored header is `value`).
pub fn read(ctx: &Ctx<'_>, key: &Bytes, value: &StoredValue) -> Result<RdbValue, CommandError> {
    Ok(match value.header.kind {
        ValueKind::String => RdbValue::String(value.payload.clone()),
        ValueKind::Json => RdbValue::Json(value.payload.clone()),
        ValueKind::List => {
            let list = List::load(ctx, key)?.ok_or(CommandError::NoSuchKey)?;
            RdbValue::List(list.range(ctx, key, 0, list.len().saturating_sub(1), false)?)
        }
        ValueKind::Hash => RdbValue::Hash {
            pairs: hashed_elements(ctx, key, value)?,
            compact: hash::encoding_name(value) == "listpack",
        },
        ValueKind::Set => RdbValue::Set {
            members: hashed_elements(ctx, key, value)?.into_iter().map(|(m, _)| m).collect(),
            encoding: SetEncoding::of(value),
        },
        ValueKind::ZSet => {
            let zset = ZSet::load(ctx, key)?.ok_or(CommandError::NoSuchKey)?;
            RdbValue::ZSet { items: zset.all(ctx)?, compact: zset::encoding_name(value) == "listpack" }
        }
        ValueKind::Stream => RdbValue::Stream(Box::new(read_stream(ctx, key)?)),
    })
}

fn read_stream(ctx: &Ctx<'_>, key: &Bytes) -> Result<StreamValue, CommandError> {
    let stream = Stream::load(ctx, key)?.ok_or(CommandError::NoSuchKey)?;
    let mut nodes = Vec::new();
    for (master, node) in stream.nodes(ctx)? {
        let entries = stream.range(ctx, master, node.last, false, 0)?;
        if !entries.is_empty() {
            nodes.push(StreamNode { master, master_fields: node.fields, entries });
        }
    }
    let mut groups = Vec::new();
    for group in stream.groups(ctx)? {
        let pending = stream
            .pel(ctx, &group.name, StreamId::MIN, StreamId::MAX, 0)?
            .into_iter()
            .map(|(id, nack)| PendingEntry {
                id,
                delivery_time: nack.delivery_time,
                delivery_count: nack.delivery_count,
            })
            .collect();
        let mut consumers = Vec::new();
        for c in stream.consumers(ctx, &group.name)? {
            let owned = stream.consumer_pel(ctx, &group.name, &c.name, StreamId::MIN, StreamId::MAX, 0)?;
            consumers.push(ConsumerValue {
                name: c.name,
                seen_time: c.seen_time,
                active_time: c.active_time,
                pending: owned,
            });
        }
        groups.push(GroupValue {
            name: group.name,
            last_id: group.last_id,
            entries_read: Some(group.entries_read),
            pending,
            consumers,
        });
    }
    let m = &stream.meta;
    Ok(StreamValue {
        nodes,
        length: m.length,
        last_id: m.last_id,
        first_id: m.first_id,
        max_deleted: m.max_deleted,
        entries_added: m.entries_added,
        groups,
    })
}

/// Stores `value` as `key`, which must not hold a live value, without an
/// expiry. Encodings are those Redis gives a value it loads: the compact
/// one whenever the contents fit its limits.
pub fn write(ctx: &mut Ctx<'_>, key: &Bytes, value: RdbValue) -> Result<(), CommandError> {
    match value {
        RdbValue::String(s) => ctx.ks.put(ctx.db, key, StoredValue::string(s, 0))?,
        RdbValue::Json(text) => {
            let value = StoredValue { header: ValueHeader::new(ValueKind::Json, 0), payload: text };
            ctx.ks.put(ctx.db, key, value)?
        }
        RdbValue::List(items) => {
            let mut list = List::create(ctx)?;
            list.convert_for_growth(items.iter().map(|i| i.len() as u64).sum());
            list.push(ctx, key, &items, false)?;
            list.save(ctx, key)?;
        }
        RdbValue::Hash { pairs, .. } => {
            let mut hash = collection::new_collection(ctx, ValueKind::Hash)?;
            let small = pairs.len() <= HASH_LISTPACK_ENTRIES_MAX
                && pairs.iter().all(|(f, v)| f.len() <= HASH_LISTPACK_VALUE_MAX && v.len() <= HASH_LISTPACK_VALUE_MAX);
            hash.value.header.encoding = if small { hash::encoding::LISTPACK } else { hash::encoding::HASHTABLE };
            for (field, value) in &pairs {
                ctx.ks.sub_put(ctx.db, key, hash.generation(), &collection::hashed_name(field), value)?;
            }
            hash.meta.len = pairs.len() as u64;
            collection::save(ctx, key, &hash)?;
        }
        RdbValue::Set { members, .. } => {
            let mut set = collection::new_collection(ctx, ValueKind::Set)?;
            let integers = members.iter().all(|m| super::super::args::parse_i64(m).is_some());
            let encoding = if integers && members.len() <= SET_INTSET_ENTRIES_MAX {
                SetEncoding::Intset
            } else if members.len() <= SET_LISTPACK_ENTRIES_MAX
                && members.iter().all(|m| m.len() <= SET_LISTPACK_VALUE_MAX)
            {
                SetEncoding::Listpack
            } else {
                SetEncoding::Hashtable
            };
            set.value.header.encoding = encoding as u8;
            for member in &members {
                ctx.ks.sub_put(ctx.db, key, set.generation(), &collection::hashed_name(member), &[])?;
            }
            set.meta.len = members.len() as u64;
            collection::save(ctx, key, &set)?;
        }
        RdbValue::ZSet { items, .. } => store_new(ctx, key, items, zset::store::encoding::LISTPACK)?,
        RdbValue::Stream(s) => write_stream(ctx, key, *s)?,
    }
    Ok(())
}

/// Builds a stream from a decoded one (whose groups [`super::stream`] has
/// checked: every pending entry has exactly one owner).
fn write_stream(ctx: &mut Ctx<'_>, key: &Bytes, s: StreamValue) -> Result<(), CommandError> {
    let mut stream = Stream::create(ctx, key)?;
    for node in &s.nodes {
        for (id, pairs) in &node.entries {
            stream.append(ctx, *id, pairs)?;
        }
    }
    stream.meta.last_id = s.last_id;
    stream.meta.first_id = s.first_id;
    stream.meta.max_deleted = s.max_deleted;
    stream.meta.entries_added = s.entries_added;
    for g in s.groups {
        let entries_read = g.entries_read.unwrap_or_else(|| stream.estimate_distance(g.last_id));
        let mut group = stream
            .create_group(ctx, &g.name, g.last_id, entries_read)?
            .ok_or_else(|| CommandError::err("duplicate consumer group"))?;
        let pending: HashMap<StreamId, &PendingEntry> = g.pending.iter().map(|p| (p.id, p)).collect();
        for c in g.consumers {
            let mut consumer =
                Consumer { name: c.name.clone(), seen_time: c.seen_time, active_time: c.active_time, pel_count: 0 };
            for id in c.pending {
                let entry = pending.get(&id).ok_or_else(|| CommandError::err("unknown pending entry"))?;
                let nack = Nack {
                    delivery_time: entry.delivery_time,
                    delivery_count: entry.delivery_count,
                    consumer: c.name.clone(),
                };
                stream.add_nack(ctx, &mut group, &mut consumer, id, &nack)?;
            }
            stream.put_consumer(ctx, &group.name, &consumer)?;
            group.consumers += 1;
        }
        stream.put_group(ctx, &group)?;
    }
    stream.save(ctx)
}
