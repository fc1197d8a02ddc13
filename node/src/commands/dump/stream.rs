//! Streams in RDB: the listpack nodes of entries, the stream's IDs and
//! counters, and the consumer groups with their pending entries.
//!
//! # Format
//! ```text
//! nodes (len) | per node: master ID (string, 16 bytes BE) | listpack (string)
//! length | last ID (len ms, len seq)
//! [v2+: first ID | max deleted ID | entries added]          (each len)
//! groups (len) | per group: name | last ID | [v2+: entries read (len, -1 as u64)]
//!   PEL (len) | per entry: ID (16 raw bytes) | delivery time (ms, i64 LE) | delivery count (len)
//!   consumers (len) | per consumer: name | seen time (ms) | [v3: active time (ms)]
//!     PEL (len) | IDs (16 raw bytes each)
//! ```
//! A node's listpack starts with its master entry, `count | deleted |
//! field count | fields... | 0`, then each entry is `flags | ms diff | seq
//! diff | [field count] | fields and values (or values alone when flagged
//! SAMEFIELDS, the master's fields) | lp-count`, the diffs relative to the
//! master ID. Entries flagged DELETED are tombstones Redis keeps until the
//! node goes; decoding drops them and encoding never writes any (Redraft
//! does not keep deleted entries), so a node is written with its live
//! entries and a deleted count of 0.

use std::collections::HashSet;

use bytes::Bytes;

use super::super::stream::id::StreamId;
use super::packed::{self, ListpackWriter, Packed};
use super::rdb::{types, RdbError, RdbReader, RdbResult, RdbWriter};

const FLAG_DELETED: i64 = 1;
const FLAG_SAMEFIELDS: i64 = 2;

/// One listpack node: its master ID and fields, and its live entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamNode {
    pub master: StreamId,
    pub master_fields: Vec<Bytes>,
    /// (ID, flattened field/value pairs), ascending.
    pub entries: Vec<(StreamId, Vec<Bytes>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEntry {
    pub id: StreamId,
    pub delivery_time: i64,
    pub delivery_count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerValue {
    pub name: Bytes,
    pub seen_time: i64,
    pub active_time: i64,
    /// IDs of the group's pending entries this consumer owns.
    pub pending: Vec<StreamId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupValue {
    pub name: Bytes,
    pub last_id: StreamId,
    /// `None` when the payload predates the counter (RDB_TYPE_STREAM_LISTPACKS):
    /// estimated once the stream is built, as Redis does.
    pub entries_read: Option<i64>,
    pub pending: Vec<PendingEntry>,
    pub consumers: Vec<ConsumerValue>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamValue {
    pub nodes: Vec<StreamNode>,
    pub length: u64,
    pub last_id: StreamId,
    pub first_id: StreamId,
    pub max_deleted: StreamId,
    pub entries_added: u64,
    pub groups: Vec<GroupValue>,
}

fn write_id(w: &mut RdbWriter, id: StreamId) {
    w.len(id.ms);
    w.len(id.seq);
}

fn read_id(r: &mut RdbReader<'_>) -> RdbResult<StreamId> {
    Ok(StreamId::new(r.length()?, r.length()?))
}

fn read_raw_id(r: &mut RdbReader<'_>) -> RdbResult<StreamId> {
    StreamId::from_bytes(r.take(16, "a stream ID")?).ok_or(RdbError::Truncated("a stream ID"))
}

/// The listpack of one node.
fn node_listpack(node: &StreamNode) -> Vec<u8> {
    let mut lp = ListpackWriter::default();
    lp.push_int(node.entries.len() as i64);
    lp.push_int(0);
    lp.push_int(node.master_fields.len() as i64);
    for f in &node.master_fields {
        lp.push(f);
    }
    lp.push_int(0);
    for (id, pairs) in &node.entries {
        let fields = pairs.len() / 2;
        let same = fields == node.master_fields.len()
            && node.master_fields.iter().zip(pairs.iter().step_by(2)).all(|(a, b)| a == b);
        lp.push_int(if same { FLAG_SAMEFIELDS } else { 0 });
        lp.push_int(id.ms.wrapping_sub(node.master.ms) as i64);
        lp.push_int(id.seq.wrapping_sub(node.master.seq) as i64);
        if same {
            for value in pairs.iter().skip(1).step_by(2) {
                lp.push(value);
            }
            lp.push_int(fields as i64 + 3);
        } else {
            lp.push_int(fields as i64);
            for p in pairs {
                lp.push(p);
            }
            lp.push_int(2 * fields as i64 + 4);
        }
    }
    lp.finish()
}

/// Writes a stream; `with_active_time` for RDB_TYPE_STREAM_LISTPACKS_3.
pub fn encode(w: &mut RdbWriter, s: &StreamValue, with_active_time: bool) {
    w.len(s.nodes.len() as u64);
    for node in &s.nodes {
        w.string(&node.master.to_bytes());
        w.string(&node_listpack(node));
    }
    w.len(s.length);
    write_id(w, s.last_id);
    write_id(w, s.first_id);
    write_id(w, s.max_deleted);
    w.len(s.entries_added);
    w.len(s.groups.len() as u64);
    for g in &s.groups {
        w.string(&g.name);
        write_id(w, g.last_id);
        w.len(g.entries_read.unwrap_or(-1) as u64);
        w.len(g.pending.len() as u64);
        for p in &g.pending {
            w.raw(&p.id.to_bytes());
            w.millis(p.delivery_time);
            w.len(p.delivery_count);
        }
        w.len(g.consumers.len() as u64);
        for c in &g.consumers {
            w.string(&c.name);
            w.millis(c.seen_time);
            if with_active_time {
                w.millis(c.active_time);
            }
            w.len(c.pending.len() as u64);
            for id in &c.pending {
                w.raw(&id.to_bytes());
            }
        }
    }
}

/// Reads consecutive listpack elements as integers.
struct Elements<'e, 'a> {
    items: &'e [Packed<'a>],
    at: usize,
}

impl<'a> Elements<'_, 'a> {
    fn next(&mut self) -> RdbResult<&Packed<'a>> {
        let item = self.items.get(self.at).ok_or(RdbError::Invalid("stream listpack"))?;
        self.at += 1;
        Ok(item)
    }

    fn int(&mut self) -> RdbResult<i64> {
        self.next()?.as_int().ok_or(RdbError::Invalid("stream listpack"))
    }

    fn count(&mut self) -> RdbResult<usize> {
        usize::try_from(self.int()?).map_err(|_| RdbError::Invalid("stream listpack"))
    }

    fn done(&self) -> bool {
        self.at == self.items.len()
    }
}

fn decode_node(master: StreamId, blob: &[u8]) -> RdbResult<StreamNode> {
    let bad = RdbError::Invalid("stream listpack");
    let items = packed::read_listpack(blob)?;
    let mut e = Elements { items: &items, at: 0 };
    let live = e.count()?;
    let deleted = e.count()?;
    if live == 0 {
        // Redis deletes a node when its last live entry goes.
        return Err(RdbError::Empty("stream node"));
    }
    let field_count = e.count()?;
    let master_fields = (0..field_count).map(|_| Ok(e.next()?.to_bytes())).collect::<RdbResult<Vec<_>>>()?;
    if e.int()? != 0 {
        return Err(bad);
    }
    let mut entries = Vec::with_capacity(live);
    let mut seen = 0usize;
    while !e.done() {
        let flags = e.int()?;
        let id = StreamId::new(master.ms.wrapping_add(e.int()? as u64), master.seq.wrapping_add(e.int()? as u64));
        let (fields, pairs) = if flags & FLAG_SAMEFIELDS != 0 {
            let mut pairs = Vec::with_capacity(2 * master_fields.len());
            for f in &master_fields {
                pairs.push(f.clone());
                pairs.push(e.next()?.to_bytes());
            }
            (master_fields.len(), pairs)
        } else {
            let fields = e.count()?;
            let pairs = (0..2 * fields).map(|_| Ok(e.next()?.to_bytes())).collect::<RdbResult<Vec<_>>>()?;
            (fields, pairs)
        };
        let expected_count = if flags & FLAG_SAMEFIELDS != 0 { fields + 3 } else { 2 * fields + 4 };
        if e.count()? != expected_count || fields == 0 {
            return Err(bad);
        }
        if entries.last().is_some_and(|(last, _): &(StreamId, _)| *last >= id) || id < master {
            return Err(bad);
        }
        seen += 1;
        if flags & FLAG_DELETED == 0 {
            entries.push((id, pairs));
        }
    }
    if seen != live + deleted || entries.len() != live {
        return Err(bad);
    }
    Ok(StreamNode { master, master_fields, entries })
}

/// Every pending entry of a group is owned by exactly one of its
/// consumers, which Redis's deep check verifies too and Redraft's storage
/// (an owner per pending entry) relies on.
fn check_group(group: &GroupValue) -> RdbResult<()> {
    let mut unowned: HashSet<StreamId> = HashSet::with_capacity(group.pending.len());
    if !group.pending.iter().all(|p| unowned.insert(p.id)) {
        return Err(RdbError::Duplicate("pending entry"));
    }
    let mut names = HashSet::with_capacity(group.consumers.len());
    for consumer in &group.consumers {
        if !names.insert(&consumer.name) {
            return Err(RdbError::Duplicate("consumer"));
        }
        if !consumer.pending.iter().all(|id| unowned.remove(id)) {
            return Err(RdbError::Invalid("consumer pending entry without a group pending entry"));
        }
    }
    if !unowned.is_empty() {
        return Err(RdbError::Invalid("pending entry without a consumer"));
    }
    Ok(())
}

/// Reads a stream of RDB type `object_type` (15, 19 or 21).
pub fn decode(r: &mut RdbReader<'_>, object_type: u8) -> RdbResult<StreamValue> {
    let v2 = object_type >= types::STREAM_LISTPACKS_2;
    let v3 = object_type >= types::STREAM_LISTPACKS_3;
    let node_count = r.count(2)?;
    let mut nodes: Vec<StreamNode> = Vec::with_capacity(node_count);
    for _ in 0..node_count {
        let key = r.string()?;
        if key.len() != 16 {
            return Err(RdbError::Invalid("stream node key"));
        }
        let master = StreamId::from_bytes(&key).ok_or(RdbError::Invalid("stream node key"))?;
        let node = decode_node(master, &r.string()?)?;
        let previous_last = nodes.last().and_then(|n| n.entries.last()).map(|(id, _)| *id);
        if previous_last.is_some_and(|last| last >= node.entries[0].0) {
            return Err(RdbError::Invalid("stream node order"));
        }
        nodes.push(node);
    }
    let length = r.length()?;
    let last_id = read_id(r)?;
    let live: u64 = nodes.iter().map(|n| n.entries.len() as u64).sum();
    let newest = nodes.last().and_then(|n| n.entries.last()).map(|(id, _)| *id);
    if live != length || newest.is_some_and(|id| id > last_id) {
        return Err(RdbError::Invalid("stream length or last ID"));
    }
    let first_live = nodes.first().map(|n| n.entries[0].0).unwrap_or_default();
    let (first_id, max_deleted, entries_added) =
        if v2 { (read_id(r)?, read_id(r)?, r.length()?) } else { (first_live, StreamId::MIN, length) };
    let group_count = r.count(1)?;
    let mut groups = Vec::with_capacity(group_count);
    for _ in 0..group_count {
        let name = r.string()?;
        let last_id = read_id(r)?;
        let entries_read = if v2 { Some(r.length()? as i64) } else { None };
        let pel_count = r.count(17)?;
        let mut pending = Vec::with_capacity(pel_count);
        for _ in 0..pel_count {
            pending.push(PendingEntry { id: read_raw_id(r)?, delivery_time: r.millis()?, delivery_count: r.length()? });
        }
        let consumer_count = r.count(10)?;
        let mut consumers = Vec::with_capacity(consumer_count);
        for _ in 0..consumer_count {
            let name = r.string()?;
            let seen_time = r.millis()?;
            let active_time = if v3 { r.millis()? } else { seen_time };
            let owned = r.count(16)?;
            let ids = (0..owned).map(|_| read_raw_id(r)).collect::<RdbResult<Vec<_>>>()?;
            consumers.push(ConsumerValue { name, seen_time, active_time, pending: ids });
        }
        let group = GroupValue { name, last_id, entries_read, pending, consumers };
        check_group(&group)?;
        if groups.iter().any(|g: &GroupValue| g.name == group.name) {
            return Err(RdbError::Duplicate("consumer group"));
        }
        groups.push(group);
    }
    Ok(StreamValue { nodes, length, last_id, first_id, max_deleted, entries_added, groups })
}
