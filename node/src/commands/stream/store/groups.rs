//! Consumer groups, consumers and pending entries in storage.
//!
//! A pending entry (NACK) lives twice, as in Redis's two PELs: in the
//! group's PEL (`p`, with its delivery data and owner) and in the owner's
//! (`q`, the ID alone), so both "the group's pending entries by ID" and
//! "one consumer's" are range scans. Consumers and groups count their
//! entries, so XPENDING's summary and XINFO never count by scanning.

use std::ops::{Bound, ControlFlow};

use bytes::Bytes;

use super::super::super::Ctx;
use super::super::id::StreamId;
use super::{corrupt, names, now, prefix_range, upper, Reader, Stream, Writer, TAG_CONSUMER_PEL, TAG_GROUP};
use crate::error::CommandError;

/// A consumer group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: Bytes,
    pub last_id: StreamId,
    pub entries_read: i64,
    pub pel_count: u64,
    pub consumers: u64,
}

impl Group {
    fn encode(&self) -> Vec<u8> {
        Writer::default().id(self.last_id).i64(self.entries_read).u64(self.pel_count).u64(self.consumers).0
    }

    fn decode(name: &[u8], raw: &[u8]) -> Result<Self, CommandError> {
        let mut r = Reader::new(raw);
        Ok(Group {
            name: Bytes::copy_from_slice(name),
            last_id: r.id()?,
            entries_read: r.i64()?,
            pel_count: r.u64()?,
            consumers: r.u64()?,
        })
    }
}

/// A consumer of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    pub name: Bytes,
    /// Last time the consumer tried anything (`idle` counts from it).
    pub seen_time: i64,
    /// Last time it got or claimed an entry; -1 never (`inactive`).
    pub active_time: i64,
    pub pel_count: u64,
}

impl Consumer {
    fn encode(&self) -> Vec<u8> {
        Writer::default().i64(self.seen_time).i64(self.active_time).u64(self.pel_count).0
    }

    fn decode(name: &[u8], raw: &[u8]) -> Result<Self, CommandError> {
        let mut r = Reader::new(raw);
        Ok(Consumer {
            name: Bytes::copy_from_slice(name),
            seen_time: r.i64()?,
            active_time: r.i64()?,
            pel_count: r.u64()?,
        })
    }
}

/// A pending entry of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nack {
    pub delivery_time: i64,
    pub delivery_count: u64,
    pub consumer: Bytes,
}

impl Nack {
    fn encode(&self) -> Vec<u8> {
        Writer::default().i64(self.delivery_time).u64(self.delivery_count).rest(&self.consumer).0
    }

    fn decode(raw: &[u8]) -> Result<Self, CommandError> {
        let mut r = Reader::new(raw);
        Ok(Nack { delivery_time: r.i64()?, delivery_count: r.u64()?, consumer: Bytes::copy_from_slice(r.rest()) })
    }
}

impl Stream {
    // ----- groups -----

    pub fn group(&self, ctx: &Ctx<'_>, name: &[u8]) -> Result<Option<Group>, CommandError> {
        self.get(ctx, &names::group(name))?.map(|raw| Group::decode(name, &raw)).transpose()
    }

    pub fn put_group(&self, ctx: &mut Ctx<'_>, group: &Group) -> Result<(), CommandError> {
        self.put(ctx, &names::group(&group.name), &group.encode())
    }

    /// Every group, by name.
    pub fn groups(&self, ctx: &Ctx<'_>) -> Result<Vec<Group>, CommandError> {
        let mut raw = Vec::new();
        let (low, high) = prefix_range(&[TAG_GROUP]);
        self.scan(ctx, Bound::Included(&low), upper(&high), false, &mut |name, value| {
            raw.push((name[1..].to_vec(), value.to_vec()));
            ControlFlow::Continue(())
        })?;
        raw.iter().map(|(name, value)| Group::decode(name, value)).collect()
    }

    /// `streamCreateCG`: `None` if the name is taken.
    pub fn create_group(
        &mut self,
        ctx: &mut Ctx<'_>,
        name: &Bytes,
        last_id: StreamId,
        entries_read: i64,
    ) -> Result<Option<Group>, CommandError> {
        if self.group(ctx, name)?.is_some() {
            return Ok(None);
        }
        let group = Group { name: name.clone(), last_id, entries_read, pel_count: 0, consumers: 0 };
        self.put_group(ctx, &group)?;
        self.meta.groups += 1;
        Ok(Some(group))
    }

    /// Drops a group with its PEL and consumers.
    pub fn destroy_group(&mut self, ctx: &mut Ctx<'_>, group: &Group) -> Result<(), CommandError> {
        let mut doomed = vec![names::group(&group.name)];
        for prefix in [names::pel(&group.name), names::consumers(&group.name), {
            let mut p = vec![TAG_CONSUMER_PEL];
            p.extend_from_slice(&(group.name.len() as u32).to_be_bytes());
            p.extend_from_slice(&group.name);
            p
        }] {
            let (low, high) = prefix_range(&prefix);
            self.scan(ctx, Bound::Included(&low), upper(&high), false, &mut |name, _| {
                doomed.push(name.to_vec());
                ControlFlow::Continue(())
            })?;
        }
        for name in doomed {
            self.delete(ctx, &name)?;
        }
        self.meta.groups -= 1;
        Ok(())
    }

    // ----- consumers -----

    pub fn consumer(&self, ctx: &Ctx<'_>, group: &[u8], name: &[u8]) -> Result<Option<Consumer>, CommandError> {
        self.get(ctx, &names::consumer(group, name))?.map(|raw| Consumer::decode(name, &raw)).transpose()
    }

    pub fn put_consumer(&self, ctx: &mut Ctx<'_>, group: &[u8], consumer: &Consumer) -> Result<(), CommandError> {
        self.put(ctx, &names::consumer(group, &consumer.name), &consumer.encode())
    }

    /// Every consumer of a group, by name.
    pub fn consumers(&self, ctx: &Ctx<'_>, group: &[u8]) -> Result<Vec<Consumer>, CommandError> {
        let prefix = names::consumers(group);
        let mut raw = Vec::new();
        let (low, high) = prefix_range(&prefix);
        self.scan(ctx, Bound::Included(&low), upper(&high), false, &mut |name, value| {
            raw.push((name[prefix.len()..].to_vec(), value.to_vec()));
            ControlFlow::Continue(())
        })?;
        raw.iter().map(|(name, value)| Consumer::decode(name, value)).collect()
    }

    /// `streamCreateConsumer` (the caller saves the group's count).
    pub fn create_consumer(
        &self,
        ctx: &mut Ctx<'_>,
        group: &mut Group,
        name: &Bytes,
    ) -> Result<Consumer, CommandError> {
        let consumer = Consumer { name: name.clone(), seen_time: now(ctx), active_time: -1, pel_count: 0 };
        self.put_consumer(ctx, &group.name, &consumer)?;
        group.consumers += 1;
        Ok(consumer)
    }

    /// The consumer, created if missing (XREADGROUP, XCLAIM, XAUTOCLAIM).
    pub fn consumer_or_create(
        &self,
        ctx: &mut Ctx<'_>,
        group: &mut Group,
        name: &Bytes,
    ) -> Result<Consumer, CommandError> {
        match self.consumer(ctx, &group.name, name)? {
            Some(found) => Ok(found),
            None => self.create_consumer(ctx, group, name),
        }
    }

    /// `streamDelConsumer`: drops its pending entries from the group too.
    pub fn delete_consumer(
        &self,
        ctx: &mut Ctx<'_>,
        group: &mut Group,
        consumer: &Consumer,
    ) -> Result<(), CommandError> {
        let ids = self.consumer_pel(ctx, &group.name, &consumer.name, StreamId::MIN, StreamId::MAX, 0)?;
        for id in &ids {
            self.delete(ctx, &names::pel_entry(&group.name, *id))?;
            self.delete(ctx, &names::consumer_pel_entry(&group.name, &consumer.name, *id))?;
        }
        group.pel_count -= ids.len() as u64;
        self.delete(ctx, &names::consumer(&group.name, &consumer.name))?;
        group.consumers -= 1;
        Ok(())
    }

    // ----- pending entries -----

    pub fn nack(&self, ctx: &Ctx<'_>, group: &[u8], id: StreamId) -> Result<Option<Nack>, CommandError> {
        self.get(ctx, &names::pel_entry(group, id))?.map(|raw| Nack::decode(&raw)).transpose()
    }

    /// Rewrites an existing pending entry's delivery time and count.
    pub fn update_nack(&self, ctx: &mut Ctx<'_>, group: &[u8], id: StreamId, nack: &Nack) -> Result<(), CommandError> {
        self.put(ctx, &names::pel_entry(group, id), &nack.encode())
    }

    /// Adds a pending entry owned by `owner` (absent from the PEL before).
    pub fn add_nack(
        &self,
        ctx: &mut Ctx<'_>,
        group: &mut Group,
        owner: &mut Consumer,
        id: StreamId,
        nack: &Nack,
    ) -> Result<(), CommandError> {
        self.update_nack(ctx, &group.name, id, nack)?;
        self.put(ctx, &names::consumer_pel_entry(&group.name, &owner.name, id), &[])?;
        group.pel_count += 1;
        owner.pel_count += 1;
        Ok(())
    }

    /// Gives an existing pending entry to `owner`: the previous owner (a
    /// consumer other than `owner`, stored) loses it.
    pub fn reassign_nack(
        &self,
        ctx: &mut Ctx<'_>,
        group: &Group,
        owner: &mut Consumer,
        id: StreamId,
        nack: &mut Nack,
    ) -> Result<(), CommandError> {
        if nack.consumer != owner.name {
            self.delete(ctx, &names::consumer_pel_entry(&group.name, &nack.consumer, id))?;
            if let Some(mut previous) = self.consumer(ctx, &group.name, &nack.consumer)? {
                previous.pel_count = previous.pel_count.saturating_sub(1);
                self.put_consumer(ctx, &group.name, &previous)?;
            }
            self.put(ctx, &names::consumer_pel_entry(&group.name, &owner.name, id), &[])?;
            owner.pel_count += 1;
            nack.consumer = owner.name.clone();
        }
        self.update_nack(ctx, &group.name, id, nack)
    }

    /// Removes a pending entry from the group and its owner (XACK, and
    /// claims of deleted entries). `owner` is the owner if the caller holds
    /// it; otherwise the stored owner is updated.
    pub fn remove_nack(
        &self,
        ctx: &mut Ctx<'_>,
        group: &mut Group,
        id: StreamId,
        nack: &Nack,
        held: Option<&mut Consumer>,
    ) -> Result<(), CommandError> {
        self.delete(ctx, &names::pel_entry(&group.name, id))?;
        self.delete(ctx, &names::consumer_pel_entry(&group.name, &nack.consumer, id))?;
        group.pel_count -= 1;
        match held {
            Some(owner) if owner.name == nack.consumer => owner.pel_count = owner.pel_count.saturating_sub(1),
            _ => {
                if let Some(mut owner) = self.consumer(ctx, &group.name, &nack.consumer)? {
                    owner.pel_count = owner.pel_count.saturating_sub(1);
                    self.put_consumer(ctx, &group.name, &owner)?;
                }
            }
        }
        Ok(())
    }

    /// The group's pending entries in `[start, end]`, at most `count` (0: all).
    pub fn pel(
        &self,
        ctx: &Ctx<'_>,
        group: &[u8],
        start: StreamId,
        end: StreamId,
        count: usize,
    ) -> Result<Vec<(StreamId, Nack)>, CommandError> {
        let mut raw = Vec::new();
        if start > end {
            return Ok(Vec::new());
        }
        let prefix_len = names::pel(group).len();
        let (low, high) = (names::pel_entry(group, start), names::pel_entry(group, end));
        self.scan(ctx, Bound::Included(&low), Bound::Included(&high), false, &mut |name, value| {
            raw.push((name[prefix_len..].to_vec(), value.to_vec()));
            if count != 0 && raw.len() >= count {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })?;
        raw.iter()
            .map(|(id, value)| Ok((StreamId::from_bytes(id).ok_or_else(|| corrupt("pel id"))?, Nack::decode(value)?)))
            .collect()
    }

    /// The first and last pending IDs of a group.
    pub fn pel_edges(&self, ctx: &Ctx<'_>, group: &[u8]) -> Result<Option<(StreamId, StreamId)>, CommandError> {
        let prefix = names::pel(group);
        let (low, high) = prefix_range(&prefix);
        let mut edges = [None, None];
        for (slot, reverse) in edges.iter_mut().zip([false, true]) {
            self.scan(ctx, Bound::Included(&low), upper(&high), reverse, &mut |name, _| {
                *slot = StreamId::from_bytes(&name[prefix.len()..]);
                ControlFlow::Break(())
            })?;
        }
        Ok(edges[0].zip(edges[1]))
    }

    /// A consumer's pending IDs in `[start, end]`, at most `count` (0: all).
    pub fn consumer_pel(
        &self,
        ctx: &Ctx<'_>,
        group: &[u8],
        consumer: &[u8],
        start: StreamId,
        end: StreamId,
        count: usize,
    ) -> Result<Vec<StreamId>, CommandError> {
        let mut out = Vec::new();
        if start > end {
            return Ok(out);
        }
        let prefix_len = names::consumer_pel(group, consumer).len();
        let low = names::consumer_pel_entry(group, consumer, start);
        let high = names::consumer_pel_entry(group, consumer, end);
        self.scan(ctx, Bound::Included(&low), Bound::Included(&high), false, &mut |name, _| {
            out.push(StreamId::from_bytes(&name[prefix_len..]).unwrap_or_default());
            if count != 0 && out.len() >= count {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })?;
        Ok(out)
    }
}
