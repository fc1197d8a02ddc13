//! How a stream is stored, and the operations commands compose.
//!
//! # Layout
//! The value is a collection whose `len` is the stream length and whose
//! `extra` is [`StreamMeta`]. Elements, by tag:
//! ```text
//! e | id (16, BE)                                  -> entry: field/value pairs
//! n | first id of the node (16, BE)                -> NodeMeta (see `nodes`)
//! g | group                                        -> GroupMeta
//! c | len(group) u32 | group | consumer            -> ConsumerMeta
//! p | len(group) u32 | group | id                  -> Nack (group PEL)
//! q | len(group) u32 | group | len(consumer) u32 | consumer | id -> () (consumer PEL)
//! ```
//! Every scan a command needs is a range scan: entries by ID, a group's
//! PEL by ID, a consumer's PEL by ID, groups and consumers by name (bytewise,
//! the order Redis's rax iterates them in).
//!
//! A stream stays when its last entry goes (Redis keeps empty streams), so
//! [`Stream::save`] always writes the value.

use std::ops::{Bound, ControlFlow};

use bytes::Bytes;
use storage::{StorageError, ValueKind};

use super::super::collection::{self, Collection};
use super::super::Ctx;
use super::id::StreamId;
use super::nodes::{self, RaxKeys};
use crate::error::CommandError;

mod groups;

pub use groups::{Consumer, Group, Nack};

const TAG_ENTRY: u8 = b'e';
const TAG_NODE: u8 = b'n';
const TAG_GROUP: u8 = b'g';
const TAG_CONSUMER: u8 = b'c';
const TAG_PEL: u8 = b'p';
const TAG_CONSUMER_PEL: u8 = b'q';

/// `SCG_INVALID_ENTRIES_READ`.
pub const ENTRIES_READ_INVALID: i64 = -1;

fn corrupt(what: &str) -> CommandError {
    StorageError::corrupt("stream", what.to_string()).into()
}

/// Element names.
mod names {
    use super::*;

    pub fn tagged_id(tag: u8, id: StreamId) -> Vec<u8> {
        let mut name = Vec::with_capacity(17);
        name.push(tag);
        name.extend_from_slice(&id.to_bytes());
        name
    }

    pub fn entry(id: StreamId) -> Vec<u8> {
        tagged_id(TAG_ENTRY, id)
    }

    pub fn node(id: StreamId) -> Vec<u8> {
        tagged_id(TAG_NODE, id)
    }

    pub fn group(name: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + name.len());
        out.push(TAG_GROUP);
        out.extend_from_slice(name);
        out
    }

    fn with_group(tag: u8, group: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(5 + group.len() + 32);
        out.push(tag);
        out.extend_from_slice(&(group.len() as u32).to_be_bytes());
        out.extend_from_slice(group);
        out
    }

    pub fn consumers(group: &[u8]) -> Vec<u8> {
        with_group(TAG_CONSUMER, group)
    }

    pub fn consumer(group: &[u8], consumer: &[u8]) -> Vec<u8> {
        let mut out = consumers(group);
        out.extend_from_slice(consumer);
        out
    }

    pub fn pel(group: &[u8]) -> Vec<u8> {
        with_group(TAG_PEL, group)
    }

    pub fn pel_entry(group: &[u8], id: StreamId) -> Vec<u8> {
        let mut out = pel(group);
        out.extend_from_slice(&id.to_bytes());
        out
    }

    pub fn consumer_pel(group: &[u8], consumer: &[u8]) -> Vec<u8> {
        let mut out = with_group(TAG_CONSUMER_PEL, group);
        out.extend_from_slice(&(consumer.len() as u32).to_be_bytes());
        out.extend_from_slice(consumer);
        out
    }

    pub fn consumer_pel_entry(group: &[u8], consumer: &[u8], id: StreamId) -> Vec<u8> {
        let mut out = consumer_pel(group, consumer);
        out.extend_from_slice(&id.to_bytes());
        out
    }
}

/// Appends length-prefixed and fixed-size fields.
#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn u64(mut self, v: u64) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn i64(self, v: i64) -> Self {
        self.u64(v as u64)
    }
    fn id(mut self, id: StreamId) -> Self {
        self.0.extend_from_slice(&id.to_bytes());
        self
    }
    fn bytes(mut self, b: &[u8]) -> Self {
        self.0.extend_from_slice(&(b.len() as u32).to_be_bytes());
        self.0.extend_from_slice(b);
        self
    }
    fn rest(mut self, b: &[u8]) -> Self {
        self.0.extend_from_slice(b);
        self
    }
}

struct Reader<'a> {
    raw: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(raw: &'a [u8]) -> Self {
        Reader { raw, at: 0 }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], CommandError> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.raw.len()).ok_or_else(|| corrupt("truncated"))?;
        let out = &self.raw[self.at..end];
        self.at = end;
        Ok(out)
    }
    fn u64(&mut self) -> Result<u64, CommandError> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_be_bytes(b))
    }
    fn i64(&mut self) -> Result<i64, CommandError> {
        Ok(self.u64()? as i64)
    }
    fn u32(&mut self) -> Result<u32, CommandError> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4)?);
        Ok(u32::from_be_bytes(b))
    }
    fn id(&mut self) -> Result<StreamId, CommandError> {
        StreamId::from_bytes(self.take(16)?).ok_or_else(|| corrupt("id"))
    }
    fn bytes(&mut self) -> Result<&'a [u8], CommandError> {
        let len = self.u32()? as usize;
        self.take(len)
    }
    fn rest(&mut self) -> &'a [u8] {
        let out = &self.raw[self.at..];
        self.at = self.raw.len();
        out
    }
    fn done(&self) -> bool {
        self.at == self.raw.len()
    }
}

/// The stream-wide state Redis keeps in `struct stream`, plus the rax
/// counters `XINFO STREAM` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamMeta {
    pub length: u64,
    pub last_id: StreamId,
    /// `recorded-first-entry-id`: the first live entry, 0-0 when empty.
    pub first_id: StreamId,
    pub max_deleted: StreamId,
    pub entries_added: u64,
    pub groups: u64,
    /// Nodes (listpacks): `radix-tree-keys`.
    pub rax_keys: u64,
    /// Internal rax nodes: `radix-tree-nodes` (1 for an empty tree).
    pub rax_nodes: u64,
}

const META_VERSION: u8 = 1;

impl StreamMeta {
    fn new() -> Self {
        StreamMeta {
            length: 0,
            last_id: StreamId::MIN,
            first_id: StreamId::MIN,
            max_deleted: StreamId::MIN,
            entries_added: 0,
            groups: 0,
            rax_keys: 0,
            rax_nodes: 1,
        }
    }

    fn encode(&self) -> Bytes {
        let w = Writer(vec![META_VERSION])
            .id(self.last_id)
            .id(self.first_id)
            .id(self.max_deleted)
            .u64(self.entries_added)
            .u64(self.groups)
            .u64(self.rax_keys)
            .u64(self.rax_nodes);
        Bytes::from(w.0)
    }

    fn decode(extra: &[u8], length: u64) -> Result<Self, CommandError> {
        if extra.first() != Some(&META_VERSION) {
            return Err(corrupt("unknown stream metadata version"));
        }
        let mut r = Reader::new(&extra[1..]);
        Ok(StreamMeta {
            length,
            last_id: r.id()?,
            first_id: r.id()?,
            max_deleted: r.id()?,
            entries_added: r.u64()?,
            groups: r.u64()?,
            rax_keys: r.u64()?,
            rax_nodes: r.u64()?,
        })
    }
}

/// One Redis listpack node (see `nodes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeMeta {
    pub live: u64,
    pub deleted: u64,
    pub bytes: u64,
    /// The last entry ever put in the node, deleted or not.
    pub last: StreamId,
    /// The master entry's field names.
    pub fields: Vec<Bytes>,
}

impl NodeMeta {
    fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default().u64(self.live).u64(self.deleted).u64(self.bytes).id(self.last);
        for f in &self.fields {
            w = w.bytes(f);
        }
        w.0
    }

    fn decode(raw: &[u8]) -> Result<Self, CommandError> {
        let mut r = Reader::new(raw);
        let (live, deleted, bytes, last) = (r.u64()?, r.u64()?, r.u64()?, r.id()?);
        let mut fields = Vec::new();
        while !r.done() {
            fields.push(Bytes::copy_from_slice(r.bytes()?));
        }
        Ok(NodeMeta { live, deleted, bytes, last, fields })
    }

    /// Marks one live entry deleted.
    fn mark_deleted(&mut self) {
        let delta =
            nodes::counter_delta(self.live, self.live - 1) + nodes::counter_delta(self.deleted, self.deleted + 1);
        self.bytes = (self.bytes as i64 + delta) as u64;
        self.live -= 1;
        self.deleted += 1;
    }
}

/// An entry's field/value pairs, flattened.
pub fn encode_pairs(pairs: &[Bytes]) -> Vec<u8> {
    let mut w = Writer::default();
    for p in pairs {
        w = w.bytes(p);
    }
    w.0
}

pub fn decode_pairs(raw: &[u8]) -> Result<Vec<Bytes>, CommandError> {
    let mut r = Reader::new(raw);
    let mut out = Vec::new();
    while !r.done() {
        out.push(Bytes::copy_from_slice(r.bytes()?));
    }
    Ok(out)
}

/// How to trim (XTRIM, XADD's MAXLEN/MINID).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrimStrategy {
    MaxLen(u64),
    MinId(StreamId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trim {
    pub strategy: TrimStrategy,
    /// `~`: only whole nodes go.
    pub approx: bool,
    /// Most entries to remove; 0 for no limit.
    pub limit: u64,
}

/// An entry as read: ID and flattened field/value pairs.
pub type Entry = (StreamId, Vec<Bytes>);

/// The range of element names under a tag prefix.
fn prefix_range(prefix: &[u8]) -> (Vec<u8>, Option<Vec<u8>>) {
    (prefix.to_vec(), storage::keys::prefix_end(prefix))
}

fn upper(end: &Option<Vec<u8>>) -> Bound<&[u8]> {
    end.as_deref().map_or(Bound::Unbounded, Bound::Excluded)
}

/// A visitor of elements (name, value).
type Visit<'a> = dyn FnMut(&[u8], &[u8]) -> ControlFlow<()> + 'a;

/// A loaded stream.
pub struct Stream {
    pub key: Bytes,
    coll: Collection,
    pub meta: StreamMeta,
}

impl Stream {
    /// The stream at `key`, `None` if absent; WRONGTYPE for another type.
    pub fn load(ctx: &Ctx<'_>, key: &Bytes) -> Result<Option<Stream>, CommandError> {
        let Some(coll) = collection::load(ctx, key, ValueKind::Stream)? else { return Ok(None) };
        let meta = StreamMeta::decode(&coll.meta.extra, coll.meta.len)?;
        Ok(Some(Stream { key: key.clone(), coll, meta }))
    }

    /// A new empty stream (stored by [`Stream::save`]).
    pub fn create(ctx: &mut Ctx<'_>, key: &Bytes) -> Result<Stream, CommandError> {
        let coll = collection::new_collection(ctx, ValueKind::Stream)?;
        Ok(Stream { key: key.clone(), coll, meta: StreamMeta::new() })
    }

    /// Writes the metadata (the value itself, which also marks the key
    /// modified for WATCH).
    pub fn save(&mut self, ctx: &mut Ctx<'_>) -> Result<(), CommandError> {
        self.coll.meta.len = self.meta.length;
        self.coll.meta.extra = self.meta.encode();
        let mut value = self.coll.value.clone();
        value.payload = self.coll.meta.encode();
        ctx.ks.put(ctx.db, &self.key, value)?;
        Ok(())
    }

    fn generation(&self) -> u64 {
        self.coll.generation()
    }

    fn get(&self, ctx: &Ctx<'_>, name: &[u8]) -> Result<Option<Vec<u8>>, CommandError> {
        Ok(ctx.ks.sub_get(ctx.db, &self.key, self.generation(), name)?)
    }

    fn put(&self, ctx: &mut Ctx<'_>, name: &[u8], value: &[u8]) -> Result<(), CommandError> {
        Ok(ctx.ks.sub_put(ctx.db, &self.key, self.generation(), name, value)?)
    }

    fn delete(&self, ctx: &mut Ctx<'_>, name: &[u8]) -> Result<(), CommandError> {
        Ok(ctx.ks.sub_delete(ctx.db, &self.key, self.generation(), name)?)
    }

    /// Visits elements in `[low, high]`-style bounds in order.
    fn scan(
        &self,
        ctx: &Ctx<'_>,
        low: Bound<&[u8]>,
        high: Bound<&[u8]>,
        reverse: bool,
        visit: &mut Visit<'_>,
    ) -> Result<(), CommandError> {
        Ok(ctx.ks.sub_scan(ctx.db, &self.key, self.generation(), (low, high), reverse, visit)?)
    }

    // ----- entries -----

    pub fn entry(&self, ctx: &Ctx<'_>, id: StreamId) -> Result<Option<Vec<Bytes>>, CommandError> {
        self.get(ctx, &names::entry(id))?.map(|raw| decode_pairs(&raw)).transpose()
    }

    pub fn entry_exists(&self, ctx: &Ctx<'_>, id: StreamId) -> Result<bool, CommandError> {
        Ok(self.get(ctx, &names::entry(id))?.is_some())
    }

    /// Entries with IDs in `[start, end]`, at most `count` (0: all).
    pub fn range(
        &self,
        ctx: &Ctx<'_>,
        start: StreamId,
        end: StreamId,
        reverse: bool,
        count: usize,
    ) -> Result<Vec<Entry>, CommandError> {
        let mut out = Vec::new();
        if start > end {
            return Ok(out);
        }
        let mut failed = None;
        let (low, high) = (names::entry(start), names::entry(end));
        self.scan(ctx, Bound::Included(&low), Bound::Included(&high), reverse, &mut |name, raw| {
            let id = StreamId::from_bytes(&name[1..]).unwrap_or_default();
            match decode_pairs(raw) {
                Ok(pairs) => out.push((id, pairs)),
                Err(e) => {
                    failed = Some(e);
                    return ControlFlow::Break(());
                }
            }
            if count != 0 && out.len() >= count {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })?;
        failed.map_or(Ok(out), Err)
    }

    /// IDs of live entries in `[start, end]`, at most `count` (0: all).
    fn entry_ids(
        &self,
        ctx: &Ctx<'_>,
        start: StreamId,
        end: StreamId,
        count: usize,
    ) -> Result<Vec<StreamId>, CommandError> {
        let mut out = Vec::new();
        let (low, high) = (names::entry(start), names::entry(end));
        self.scan(ctx, Bound::Included(&low), Bound::Included(&high), false, &mut |name, _| {
            out.push(StreamId::from_bytes(&name[1..]).unwrap_or_default());
            if count != 0 && out.len() >= count {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })?;
        Ok(out)
    }

    /// The first or last live entry's ID.
    pub fn edge_id(&self, ctx: &Ctx<'_>, last: bool) -> Result<Option<StreamId>, CommandError> {
        let mut found = None;
        let (low, high) = prefix_range(&[TAG_ENTRY]);
        self.scan(ctx, Bound::Included(&low), upper(&high), last, &mut |name, _| {
            found = StreamId::from_bytes(&name[1..]);
            ControlFlow::Break(())
        })?;
        Ok(found)
    }

    // ----- nodes -----

    fn node_at(
        &self,
        ctx: &Ctx<'_>,
        low: Bound<&[u8]>,
        high: Bound<&[u8]>,
        last: bool,
    ) -> Result<Option<(StreamId, NodeMeta)>, CommandError> {
        let mut found = None;
        self.scan(ctx, low, high, last, &mut |name, raw| {
            found = Some((name.to_vec(), raw.to_vec()));
            ControlFlow::Break(())
        })?;
        match found {
            None => Ok(None),
            Some((name, raw)) => {
                let id = StreamId::from_bytes(&name[1..]).ok_or_else(|| corrupt("node name"))?;
                Ok(Some((id, NodeMeta::decode(&raw)?)))
            }
        }
    }

    fn head_node(&self, ctx: &Ctx<'_>) -> Result<Option<(StreamId, NodeMeta)>, CommandError> {
        let (low, high) = prefix_range(&[TAG_NODE]);
        self.node_at(ctx, Bound::Included(&low), upper(&high), false)
    }

    fn tail_node(&self, ctx: &Ctx<'_>) -> Result<Option<(StreamId, NodeMeta)>, CommandError> {
        let (low, high) = prefix_range(&[TAG_NODE]);
        self.node_at(ctx, Bound::Included(&low), upper(&high), true)
    }

    /// The node holding entry `id`: the last one starting at or before it.
    fn node_of(&self, ctx: &Ctx<'_>, id: StreamId) -> Result<Option<(StreamId, NodeMeta)>, CommandError> {
        let low = [TAG_NODE];
        let high = names::node(id);
        self.node_at(ctx, Bound::Included(&low), Bound::Included(&high), true)
    }

    /// Every node with its master ID, in ID order (DUMP writes them).
    pub fn nodes(&self, ctx: &Ctx<'_>) -> Result<Vec<(StreamId, NodeMeta)>, CommandError> {
        let mut raw = Vec::new();
        let (low, high) = prefix_range(&[TAG_NODE]);
        self.scan(ctx, Bound::Included(&low), upper(&high), false, &mut |name, value| {
            raw.push((name[1..].to_vec(), value.to_vec()));
            ControlFlow::Continue(())
        })?;
        raw.iter()
            .map(|(id, value)| {
                Ok((StreamId::from_bytes(id).ok_or_else(|| corrupt("node name"))?, NodeMeta::decode(value)?))
            })
            .collect()
    }

    fn put_node(&self, ctx: &mut Ctx<'_>, master: StreamId, node: &NodeMeta) -> Result<(), CommandError> {
        self.put(ctx, &names::node(master), &node.encode())
    }

    fn rax_delta(&self, ctx: &Ctx<'_>, master: StreamId) -> Result<i64, CommandError> {
        let mut index = NodeIndex { stream: self, ctx, failed: None };
        let delta = nodes::rax_insert_delta(&mut index, &master.to_bytes());
        index.failed.map_or(Ok(delta), Err)
    }

    fn insert_node(&mut self, ctx: &mut Ctx<'_>, master: StreamId, node: &NodeMeta) -> Result<(), CommandError> {
        let delta = self.rax_delta(ctx, master)?;
        self.put_node(ctx, master, node)?;
        self.meta.rax_keys += 1;
        self.meta.rax_nodes = (self.meta.rax_nodes as i64 + delta) as u64;
        Ok(())
    }

    fn remove_node(&mut self, ctx: &mut Ctx<'_>, master: StreamId) -> Result<(), CommandError> {
        self.delete(ctx, &names::node(master))?;
        let delta = self.rax_delta(ctx, master)?;
        self.meta.rax_keys -= 1;
        self.meta.rax_nodes = (self.meta.rax_nodes as i64 - delta) as u64;
        Ok(())
    }

    /// Appends an entry whose ID the caller has checked is above the last
    /// one (`streamAppendItem` after its checks).
    pub fn append(&mut self, ctx: &mut Ctx<'_>, id: StreamId, pairs: &[Bytes]) -> Result<(), CommandError> {
        let refs: Vec<&[u8]> = pairs.iter().map(|p| p.as_ref()).collect();
        let total: u64 = pairs.iter().map(|p| p.len() as u64).sum();
        let tail = self.tail_node(ctx)?.filter(|(_, node)| {
            node.bytes + total < nodes::NODE_MAX_BYTES && node.live + node.deleted < nodes::NODE_MAX_ENTRIES
        });
        match tail {
            Some((master, mut node)) => {
                node.bytes = (node.bytes as i64 + nodes::counter_delta(node.live, node.live + 1)) as u64;
                node.live += 1;
                let same_fields = node.fields.len() * 2 == pairs.len()
                    && node.fields.iter().zip(pairs.iter().step_by(2)).all(|(a, b)| a == b);
                node.bytes += nodes::entry_bytes(id, master, &refs, same_fields);
                node.last = id;
                self.put_node(ctx, master, &node)?;
            }
            None => {
                let fields: Vec<&[u8]> = refs.iter().step_by(2).copied().collect();
                let node = NodeMeta {
                    live: 1,
                    deleted: 0,
                    bytes: nodes::master_bytes(&fields) + nodes::entry_bytes(id, id, &refs, true),
                    last: id,
                    fields: pairs.iter().step_by(2).cloned().collect(),
                };
                self.insert_node(ctx, id, &node)?;
            }
        }
        self.put(ctx, &names::entry(id), &encode_pairs(pairs))?;
        self.meta.length += 1;
        self.meta.entries_added += 1;
        self.meta.last_id = id;
        if self.meta.length == 1 {
            self.meta.first_id = id;
        }
        Ok(())
    }

    /// Deletes a live entry (`streamDeleteItem`); false if there is none.
    /// The caller updates `first_id` and `max_deleted`.
    pub fn delete_entry(&mut self, ctx: &mut Ctx<'_>, id: StreamId) -> Result<bool, CommandError> {
        if !self.entry_exists(ctx, id)? {
            return Ok(false);
        }
        self.delete(ctx, &names::entry(id))?;
        let (master, mut node) = self.node_of(ctx, id)?.ok_or_else(|| corrupt("entry without a node"))?;
        if node.live == 1 {
            self.remove_node(ctx, master)?;
        } else {
            node.mark_deleted();
            self.put_node(ctx, master, &node)?;
        }
        self.meta.length -= 1;
        Ok(true)
    }

    /// Resets `first_id` to the first live entry after deletions.
    pub fn refresh_first_id(&mut self, ctx: &Ctx<'_>) -> Result<(), CommandError> {
        self.meta.first_id =
            if self.meta.length == 0 { StreamId::MIN } else { self.edge_id(ctx, false)?.unwrap_or_default() };
        Ok(())
    }

    /// `streamTrim`: returns the number of entries removed.
    pub fn trim(&mut self, ctx: &mut Ctx<'_>, trim: &Trim) -> Result<u64, CommandError> {
        let mut deleted = 0u64;
        loop {
            if let TrimStrategy::MaxLen(max) = trim.strategy {
                if self.meta.length <= max {
                    break;
                }
            }
            let Some((master, mut node)) = self.head_node(ctx)? else { break };
            let entries = node.live;
            if trim.limit != 0 && deleted + entries > trim.limit {
                break;
            }
            let remove_node = match trim.strategy {
                TrimStrategy::MaxLen(max) => self.meta.length - entries >= max,
                TrimStrategy::MinId(min) => node.last < min,
            };
            let ids = self.entry_ids(ctx, master, node.last, 0)?;
            if remove_node {
                for id in ids {
                    self.delete(ctx, &names::entry(id))?;
                }
                self.remove_node(ctx, master)?;
                self.meta.length -= entries;
                deleted += entries;
                continue;
            }
            if trim.approx {
                break;
            }
            for id in ids {
                let stop = match trim.strategy {
                    TrimStrategy::MaxLen(max) => self.meta.length <= max,
                    TrimStrategy::MinId(min) => id >= min,
                };
                if stop {
                    break;
                }
                self.delete(ctx, &names::entry(id))?;
                node.mark_deleted();
                self.meta.length -= 1;
                deleted += 1;
            }
            self.put_node(ctx, master, &node)?;
            break;
        }
        if self.meta.length == 0 {
            self.meta.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.refresh_first_id(ctx)?;
        }
        Ok(deleted)
    }

    // ----- lag -----

    /// `streamRangeHasTombstones` for `[start, +inf]`.
    pub fn has_tombstones_from(&self, start: StreamId) -> bool {
        let m = &self.meta;
        if m.length == 0 || m.max_deleted.is_zero() || m.first_id > m.max_deleted {
            return false;
        }
        start <= m.max_deleted
    }

    /// `streamEstimateDistanceFromFirstEverEntry`: the entries-read counter
    /// of `id`, or [`ENTRIES_READ_INVALID`].
    pub fn estimate_distance(&self, id: StreamId) -> i64 {
        let m = &self.meta;
        if m.entries_added == 0 {
            return 0;
        }
        if m.length == 0 && id <= m.last_id {
            return m.entries_added as i64;
        }
        if id == m.last_id {
            return m.entries_added as i64;
        }
        if id > m.last_id {
            return ENTRIES_READ_INVALID;
        }
        if m.max_deleted.is_zero() || m.max_deleted < m.first_id {
            if id < m.first_id {
                return (m.entries_added - m.length) as i64;
            }
            if id == m.first_id {
                return (m.entries_added - m.length + 1) as i64;
            }
        }
        ENTRIES_READ_INVALID
    }

    /// `streamReplyWithCGLag`: `None` when it cannot be known.
    pub fn lag(&self, group: &Group) -> Option<i64> {
        let added = self.meta.entries_added as i64;
        if added == 0 {
            return Some(0);
        }
        if group.entries_read != ENTRIES_READ_INVALID && !self.has_tombstones_from(group.last_id) {
            return Some(added - group.entries_read);
        }
        let read = self.estimate_distance(group.last_id);
        (read != ENTRIES_READ_INVALID).then_some(added - read)
    }

    /// The group bookkeeping of delivering entry `id` (XREADGROUP `>`).
    pub fn advance_group(&self, group: &mut Group, id: StreamId) {
        if id <= group.last_id {
            return;
        }
        if group.entries_read != ENTRIES_READ_INVALID && !self.has_tombstones_from(id) {
            group.entries_read += 1;
        } else if self.meta.entries_added != 0 {
            group.entries_read = self.estimate_distance(id);
        }
        group.last_id = id;
    }
}

/// Redis's `commandTimeSnapshot()`: the entry's leader time in a write, the
/// view's clock in a read.
pub fn now(ctx: &Ctx<'_>) -> i64 {
    i64::try_from(ctx.ks.now_ms()).unwrap_or(i64::MAX)
}

/// The node index seen as the key set of Redis's rax.
struct NodeIndex<'a, 'c> {
    stream: &'a Stream,
    ctx: &'a Ctx<'c>,
    failed: Option<CommandError>,
}

impl NodeIndex<'_, '_> {
    fn find(&mut self, low: Bound<&[u8]>, high: Bound<&[u8]>, last: bool) -> Option<[u8; 16]> {
        let mut found = None;
        let result = self.stream.scan(self.ctx, low, high, last, &mut |name, _| {
            let mut key = [0u8; 16];
            if name.len() == 17 {
                key.copy_from_slice(&name[1..]);
                found = Some(key);
            }
            ControlFlow::Break(())
        });
        if let Err(e) = result {
            self.failed.get_or_insert(e);
        }
        found
    }
}

impl RaxKeys for NodeIndex<'_, '_> {
    fn before(&mut self, key: &[u8; 16]) -> Option<[u8; 16]> {
        let mut name = vec![TAG_NODE];
        name.extend_from_slice(key);
        self.find(Bound::Included(&[TAG_NODE]), Bound::Excluded(&name), true)
    }

    fn after(&mut self, key: &[u8; 16]) -> Option<[u8; 16]> {
        let mut name = vec![TAG_NODE];
        name.extend_from_slice(key);
        self.find(Bound::Excluded(&name), Bound::Excluded(&[TAG_NODE + 1]), false)
    }

    fn prefix_bounds(&mut self, prefix: &[u8]) -> Option<([u8; 16], [u8; 16])> {
        let mut low = vec![TAG_NODE];
        low.extend_from_slice(prefix);
        low.resize(17, 0);
        let mut high = low.clone();
        high[1 + prefix.len()..].fill(0xff);
        let first = self.find(Bound::Included(&low), Bound::Included(&high), false)?;
        let last = self.find(Bound::Included(&low), Bound::Included(&high), true)?;
        Some((first, last))
    }
}
