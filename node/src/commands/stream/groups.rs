//! Consumer groups: XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM.

use bytes::Bytes;
use resp::Frame;

use super::super::args::{int_arg, parse_i64};
use super::super::expire::opt_is;
use super::super::Ctx;
use super::entries::{block_unsupported, parse_read, streams_reply};
use super::id::{self, StreamId};
use super::store::{now, Consumer, Group, Nack, Stream, ENTRIES_READ_INVALID};
use super::{entry_frame, help_reply, subcommand, subcommand_syntax_error, XGROUP_SUBCOMMANDS};
use crate::error::CommandError;

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `-NOGROUP No such key 'k' or consumer group 'g'` (XPENDING, XCLAIM, XAUTOCLAIM).
fn no_key_or_group(key: &[u8], group: &[u8], suffix: &str) -> CommandError {
    CommandError::Prefixed(format!("NOGROUP No such key '{}' or consumer group '{}'{suffix}", lossy(key), lossy(group)))
}

fn no_group_for_key(group: &[u8], key: &[u8]) -> CommandError {
    CommandError::Prefixed(format!("NOGROUP No such consumer group '{}' for key name '{}'", lossy(group), lossy(key)))
}

/// The stream and group a group command works on, with Redis's NOGROUP.
fn stream_and_group(ctx: &Ctx<'_>, args: &[Bytes]) -> Result<(Stream, Group), CommandError> {
    let stream = Stream::load(ctx, &args[1])?;
    let group = match &stream {
        Some(s) => s.group(ctx, &args[2])?,
        None => None,
    };
    match (stream, group) {
        (Some(stream), Some(group)) => Ok((stream, group)),
        _ => Err(no_key_or_group(&args[1], &args[2], "")),
    }
}

const XGROUP_HELP: &[&str] = &[
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
];

/// # Format
/// ```text
/// XGROUP CREATE key group <id | $> [MKSTREAM] [ENTRIESREAD entries-read]
/// XGROUP SETID key group <id | $> [ENTRIESREAD entries-read]
/// XGROUP DESTROY key group
/// XGROUP CREATECONSUMER key group consumer
/// XGROUP DELCONSUMER key group consumer
/// XGROUP HELP
/// ```
pub(super) fn xgroup(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let sub = subcommand(XGROUP_SUBCOMMANDS, "XGROUP", args)?;
    if sub.name == "help" {
        return Ok(help_reply("XGROUP", XGROUP_HELP));
    }
    let argc = args.len();
    let (create, setid) = (sub.name == "create", sub.name == "setid");
    let mut mkstream = false;
    let mut entries_read = ENTRIES_READ_INVALID;
    let mut i = 5;
    while i < argc {
        if create && opt_is(&args[i], "mkstream") {
            mkstream = true;
            i += 1;
        } else if (create || setid) && opt_is(&args[i], "entriesread") && i + 1 < argc {
            entries_read = int_arg(&args[i + 1])?;
            if entries_read < 0 && entries_read != ENTRIES_READ_INVALID {
                return Err(CommandError::err("value for ENTRIESREAD must be positive or -1"));
            }
            i += 2;
        } else {
            return Err(subcommand_syntax_error(args));
        }
    }
    let (key, name) = (&args[2], &args[3]);
    let stream = Stream::load(ctx, key)?;
    let mut group = None;
    if !mkstream {
        let Some(s) = &stream else {
            return Err(CommandError::err(
                "The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the \
                 MKSTREAM option to create an empty stream automatically.",
            ));
        };
        group = s.group(ctx, name)?;
        if group.is_none() && matches!(sub.name, "setid" | "createconsumer" | "delconsumer") {
            return Err(no_group_for_key(name, key));
        }
    }
    match sub.name {
        "create" if (5..=8).contains(&argc) => {
            let last_id = if args[4].as_ref() == b"$" {
                stream.as_ref().map_or(StreamId::MIN, |s| s.meta.last_id)
            } else {
                id::parse_strict_id(&args[4], 0)?
            };
            let mut stream = match stream {
                Some(s) => s,
                None => Stream::create(ctx, key)?,
            };
            if stream.create_group(ctx, name, last_id, entries_read)?.is_none() {
                return Err(CommandError::Prefixed("BUSYGROUP Consumer Group name already exists".into()));
            }
            stream.save(ctx)?;
            Ok(Frame::ok())
        }
        "setid" if argc == 5 || argc == 7 => {
            let (mut stream, mut group) = (stream.expect("checked above"), group.expect("checked above"));
            group.last_id = if args[4].as_ref() == b"$" { stream.meta.last_id } else { id::parse_id(&args[4], 0)? };
            group.entries_read = entries_read;
            stream.put_group(ctx, &group)?;
            stream.save(ctx)?;
            Ok(Frame::ok())
        }
        "destroy" if argc == 4 => {
            let mut stream = stream.expect("checked above");
            let Some(group) = group else { return Ok(Frame::Integer(0)) };
            stream.destroy_group(ctx, &group)?;
            stream.save(ctx)?;
            Ok(Frame::Integer(1))
        }
        "createconsumer" if argc == 5 => {
            let (mut stream, mut group) = (stream.expect("checked above"), group.expect("checked above"));
            if stream.consumer(ctx, &group.name, &args[4])?.is_some() {
                return Ok(Frame::Integer(0));
            }
            stream.create_consumer(ctx, &mut group, &args[4])?;
            stream.put_group(ctx, &group)?;
            stream.save(ctx)?;
            Ok(Frame::Integer(1))
        }
        "delconsumer" if argc == 5 => {
            let (mut stream, mut group) = (stream.expect("checked above"), group.expect("checked above"));
            let Some(consumer) = stream.consumer(ctx, &group.name, &args[4])? else { return Ok(Frame::Integer(0)) };
            stream.delete_consumer(ctx, &mut group, &consumer)?;
            stream.put_group(ctx, &group)?;
            stream.save(ctx)?;
            Ok(Frame::Integer(consumer.pel_count as i64))
        }
        _ => Err(subcommand_syntax_error(args)),
    }
}

/// What one stream of an XREADGROUP asks for.
enum GroupRead {
    /// `>`: entries never delivered to the group.
    New,
    /// An ID: the consumer's own pending entries after it.
    History(StreamId),
}

/// # Format
/// ```text
/// XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds]
///   [NOACK] STREAMS key [key ...] id [id ...]
/// ```
pub(super) fn xreadgroup(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let parsed = parse_read(ctx, args, true)?;
    let (group_name, consumer_name) = parsed.group.clone().expect("parse_read demands GROUP");
    let mut reads = Vec::with_capacity(parsed.streams);
    let mut serveable = false;
    for j in 0..parsed.streams {
        let key = &args[parsed.streams_at + j];
        let id_arg = &args[parsed.streams_at + parsed.streams + j];
        let stream = Stream::load(ctx, key)?;
        let group = match &stream {
            Some(s) => s.group(ctx, &group_name)?,
            None => None,
        };
        let (Some(stream), Some(group)) = (stream, group) else {
            return Err(no_key_or_group(key, &group_name, " in XREADGROUP with GROUP option"));
        };
        let read = match id_arg.as_ref() {
            b"$" => {
                return Err(CommandError::err(
                    "The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this \
                     consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just \
                     return an empty result set.",
                ))
            }
            b">" => GroupRead::New,
            _ => GroupRead::History(id::parse_strict_id(id_arg, 0)?),
        };
        serveable |= match read {
            GroupRead::History(_) => true,
            GroupRead::New => {
                stream.meta.length > 0 && stream.edge_id(ctx, true)?.is_some_and(|top| top > group.last_id)
            }
        };
        reads.push((key.clone(), read));
    }
    // Redis would block here; refuse before creating the consumer, so the
    // error leaves nothing behind.
    if parsed.block && !serveable {
        return Err(block_unsupported("XREADGROUP"));
    }
    let now = now(ctx);
    let mut served = Vec::new();
    for (key, read) in reads {
        // Reloaded each time: a key may be listed twice.
        let mut stream = Stream::load(ctx, &key)?.ok_or_else(|| CommandError::err("stream vanished"))?;
        let mut group = stream.group(ctx, &group_name)?.ok_or_else(|| CommandError::err("group vanished"))?;
        let mut consumer = stream.consumer_or_create(ctx, &mut group, &consumer_name)?;
        consumer.seen_time = now;
        let reply = match read {
            GroupRead::History(after) => {
                Some(read_history(ctx, &stream, &group, &consumer, after.incr_wrapping(), parsed.count, now)?)
            }
            GroupRead::New => {
                let top = if stream.meta.length > 0 { stream.edge_id(ctx, true)? } else { None };
                match top {
                    Some(top) if top > group.last_id => {
                        let start = group.last_id.incr_wrapping();
                        let entries = stream.range(ctx, start, StreamId::MAX, false, parsed.count)?;
                        let mut frames = Vec::with_capacity(entries.len());
                        for (id, pairs) in entries {
                            stream.advance_group(&mut group, id);
                            frames.push(entry_frame(id, pairs));
                            if !parsed.noack {
                                deliver(ctx, &stream, &mut group, &mut consumer, id, now)?;
                            }
                        }
                        Some(Frame::Array(frames))
                    }
                    _ => None,
                }
            }
        };
        stream.put_consumer(ctx, &group.name, &consumer)?;
        stream.put_group(ctx, &group)?;
        stream.save(ctx)?;
        if let Some(reply) = reply {
            served.push((key, reply));
        }
    }
    if served.is_empty() {
        return Ok(Frame::NullArray);
    }
    Ok(streams_reply(ctx, served))
}

/// Records a first delivery of `id` to `consumer` (taking the entry from
/// another consumer if the group had it pending already).
fn deliver(
    ctx: &mut Ctx<'_>,
    stream: &Stream,
    group: &mut Group,
    consumer: &mut Consumer,
    id: StreamId,
    now: i64,
) -> Result<(), CommandError> {
    match stream.nack(ctx, &group.name, id)? {
        None => {
            let nack = Nack { delivery_time: now, delivery_count: 1, consumer: consumer.name.clone() };
            stream.add_nack(ctx, group, consumer, id, &nack)?;
        }
        Some(mut nack) => {
            nack.delivery_time = now;
            nack.delivery_count = 1;
            stream.reassign_nack(ctx, group, consumer, id, &mut nack)?;
        }
    }
    consumer.active_time = now;
    Ok(())
}

/// `streamReplyWithRangeFromConsumerPEL`: the consumer's pending entries
/// from `start`, each counted as delivered again; an entry deleted from the
/// stream shows as `[id, nil]`.
fn read_history(
    ctx: &mut Ctx<'_>,
    stream: &Stream,
    group: &Group,
    consumer: &Consumer,
    start: StreamId,
    count: usize,
    now: i64,
) -> Result<Frame, CommandError> {
    let ids = stream.consumer_pel(ctx, &group.name, &consumer.name, start, StreamId::MAX, count)?;
    let mut frames = Vec::with_capacity(ids.len());
    for id in ids {
        match stream.entry(ctx, id)? {
            Some(pairs) => {
                frames.push(entry_frame(id, pairs));
                if let Some(mut nack) = stream.nack(ctx, &group.name, id)? {
                    nack.delivery_time = now;
                    nack.delivery_count += 1;
                    stream.update_nack(ctx, &group.name, id, &nack)?;
                }
            }
            None => frames.push(Frame::Array(vec![id.frame(), Frame::NullArray])),
        }
    }
    Ok(Frame::Array(frames))
}

/// `XACK key group id [id ...]`
pub(super) fn xack(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let Some(mut stream) = Stream::load(ctx, &args[1])? else { return Ok(Frame::Integer(0)) };
    let Some(mut group) = stream.group(ctx, &args[2])? else { return Ok(Frame::Integer(0)) };
    let ids = args[3..].iter().map(|a| id::parse_strict_id(a, 0)).collect::<Result<Vec<_>, _>>()?;
    let mut acked = 0;
    for id in ids {
        if let Some(nack) = stream.nack(ctx, &group.name, id)? {
            stream.remove_nack(ctx, &mut group, id, &nack, None)?;
            acked += 1;
        }
    }
    if acked > 0 {
        stream.put_group(ctx, &group)?;
        stream.save(ctx)?;
    }
    Ok(Frame::Integer(acked))
}

/// # Format
/// ```text
/// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
/// ```
pub(super) fn xpending(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let argc = args.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return Err(CommandError::Syntax);
    }
    let mut range = None;
    if argc >= 6 {
        let mut at = 3;
        let mut min_idle = 0;
        if opt_is(&args[3], "idle") {
            min_idle = int_arg(&args[4])?;
            if argc < 8 {
                return Err(CommandError::Syntax);
            }
            at += 2;
        }
        let count = int_arg(&args[at + 2])?.max(0);
        let start = id::range_start(&args[at])?;
        let end = id::range_end(&args[at + 1])?;
        range = Some((min_idle, start, end, count, args.get(at + 3)));
    }
    let (stream, group) = stream_and_group(ctx, args)?;
    let Some((min_idle, start, end, count, consumer)) = range else {
        let Some((first, last)) = stream.pel_edges(ctx, &group.name)? else {
            return Ok(Frame::Array(vec![Frame::Integer(0), Frame::Null, Frame::Null, Frame::NullArray]));
        };
        let owners = stream
            .consumers(ctx, &group.name)?
            .into_iter()
            .filter(|c| c.pel_count > 0)
            .map(|c| Frame::Array(vec![Frame::Bulk(c.name), Frame::Bulk(Bytes::from(c.pel_count.to_string()))]))
            .collect();
        return Ok(Frame::Array(vec![
            Frame::Integer(group.pel_count as i64),
            first.frame(),
            last.frame(),
            Frame::Array(owners),
        ]));
    };
    let mut pending: Vec<(StreamId, Nack)> = Vec::new();
    match consumer {
        Some(name) => {
            if stream.consumer(ctx, &group.name, name)?.is_none() {
                return Ok(Frame::Array(Vec::new()));
            }
            // Redis walks the PEL entry by entry; fetch in batches so an
            // IDLE filter that skips most entries stays bounded in memory.
            let mut from = start;
            'scan: loop {
                let ids = stream.consumer_pel(ctx, &group.name, name, from, end, 256)?;
                let Some(&last) = ids.last() else { break };
                for id in ids {
                    if pending.len() as i64 >= count {
                        break 'scan;
                    }
                    let Some(nack) = stream.nack(ctx, &group.name, id)? else { continue };
                    if min_idle == 0 || idle(ctx, &nack) >= min_idle {
                        pending.push((id, nack));
                    }
                }
                let Some(next) = last.incr() else { break };
                from = next;
            }
        }
        None => {
            let mut from = start;
            'scan: loop {
                let batch = stream.pel(ctx, &group.name, from, end, 256)?;
                let Some(&(last, _)) = batch.last() else { break };
                for (id, nack) in batch {
                    if pending.len() as i64 >= count {
                        break 'scan;
                    }
                    if min_idle == 0 || idle(ctx, &nack) >= min_idle {
                        pending.push((id, nack));
                    }
                }
                let Some(next) = last.incr() else { break };
                from = next;
            }
        }
    }
    Ok(Frame::Array(
        pending
            .into_iter()
            .map(|(id, nack)| {
                Frame::Array(vec![
                    id.frame(),
                    Frame::Bulk(nack.consumer.clone()),
                    Frame::Integer(idle(ctx, &nack).max(0)),
                    Frame::Integer(nack.delivery_count as i64),
                ])
            })
            .collect(),
    ))
}

fn idle(ctx: &Ctx<'_>, nack: &Nack) -> i64 {
    now(ctx).wrapping_sub(nack.delivery_time)
}

/// An option value of XCLAIM, with its own error text.
fn claim_number(arg: &[u8], what: &str) -> Result<i64, CommandError> {
    parse_i64(arg).ok_or_else(|| CommandError::err(format!("Invalid {what} argument for XCLAIM")))
}

/// # Format
/// ```text
/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms]
///   [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID]
///   [LASTID lastid]
/// ```
pub(super) fn xclaim(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let (mut stream, mut group) = stream_and_group(ctx, args)?;
    let min_idle = claim_number(&args[4], "min-idle-time")?.max(0);
    let mut ids = Vec::new();
    let mut j = 5;
    while let Some(id) = args.get(j).and_then(|a| id::try_strict_id(a)) {
        ids.push(id);
        j += 1;
    }
    let now = now(ctx);
    let (mut force, mut justid) = (false, false);
    let mut delivery_time: Option<i64> = None;
    let mut retry_count: Option<i64> = None;
    let mut last_id = StreamId::MIN;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = &args[j];
        if opt_is(opt, "force") {
            force = true;
        } else if opt_is(opt, "justid") {
            justid = true;
        } else if opt_is(opt, "idle") && more > 0 {
            j += 1;
            delivery_time = Some(now.wrapping_sub(claim_number(&args[j], "IDLE option")?));
        } else if opt_is(opt, "time") && more > 0 {
            j += 1;
            delivery_time = Some(claim_number(&args[j], "TIME option")?);
        } else if opt_is(opt, "retrycount") && more > 0 {
            j += 1;
            retry_count = Some(claim_number(&args[j], "RETRYCOUNT option")?);
        } else if opt_is(opt, "lastid") && more > 0 {
            j += 1;
            last_id = id::parse_strict_id(&args[j], 0)?;
        } else {
            return Err(CommandError::err(format!("Unrecognized XCLAIM option '{}'", lossy(opt))));
        }
        j += 1;
    }
    if last_id > group.last_id {
        group.last_id = last_id;
    }
    // Bogus times are clamped rather than refused: clients compute them
    // from their own clocks.
    let delivery_time = delivery_time.filter(|t| (0..=now).contains(t)).unwrap_or(now);
    let mut consumer = stream.consumer_or_create(ctx, &mut group, &args[3])?;
    consumer.seen_time = now;
    let mut claimed = Vec::new();
    for id in ids {
        let nack = stream.nack(ctx, &group.name, id)?;
        if !stream.entry_exists(ctx, id)? {
            if let Some(nack) = nack {
                stream.remove_nack(ctx, &mut group, id, &nack, Some(&mut consumer))?;
            }
            continue;
        }
        let (mut nack, forced) = match nack {
            Some(nack) => (nack, false),
            None if force => (Nack { delivery_time: now, delivery_count: 1, consumer: Bytes::new() }, true),
            None => continue,
        };
        if !forced && min_idle != 0 && now.wrapping_sub(nack.delivery_time) < min_idle {
            continue;
        }
        nack.delivery_time = delivery_time;
        match retry_count.filter(|n| *n >= 0) {
            Some(n) => nack.delivery_count = n as u64,
            None if !justid => nack.delivery_count += 1,
            None => {}
        }
        if forced {
            nack.consumer = consumer.name.clone();
            stream.add_nack(ctx, &mut group, &mut consumer, id, &nack)?;
        } else {
            stream.reassign_nack(ctx, &group, &mut consumer, id, &mut nack)?;
        }
        claimed.push(if justid { id.frame() } else { entry_frame(id, stream.entry(ctx, id)?.unwrap_or_default()) });
        consumer.active_time = now;
    }
    stream.put_consumer(ctx, &group.name, &consumer)?;
    stream.put_group(ctx, &group)?;
    stream.save(ctx)?;
    Ok(Frame::Array(claimed))
}

/// # Format
/// ```text
/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
/// ```
pub(super) fn xautoclaim(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    const ATTEMPTS_FACTOR: i64 = 10;
    let min_idle =
        parse_i64(&args[4]).ok_or_else(|| CommandError::err("Invalid min-idle-time argument for XAUTOCLAIM"))?.max(0);
    let start = id::range_start(&args[5])?;
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if opt_is(&args[j], "count") && more > 0 {
            // LONG_MAX / max(sizeof(streamID), attempts_factor).
            let max_count = i64::MAX / 16;
            count = parse_i64(&args[j + 1])
                .filter(|n| (1..=max_count).contains(n))
                .ok_or_else(|| CommandError::err("COUNT must be > 0"))?;
            j += 1;
        } else if opt_is(&args[j], "justid") {
            justid = true;
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    let (mut stream, mut group) = stream_and_group(ctx, args)?;
    let now = now(ctx);
    let mut consumer = stream.consumer_or_create(ctx, &mut group, &args[3])?;
    consumer.seen_time = now;
    let mut attempts = count.saturating_mul(ATTEMPTS_FACTOR);
    let mut claimed = Vec::new();
    let mut deleted = Vec::new();
    let mut cursor = StreamId::MIN;
    let mut from = start;
    'scan: loop {
        let batch = stream.pel(ctx, &group.name, from, StreamId::MAX, 256)?;
        let Some(&(last, _)) = batch.last() else { break };
        for (id, mut nack) in batch {
            if attempts == 0 || count == 0 {
                cursor = id;
                break 'scan;
            }
            attempts -= 1;
            if !stream.entry_exists(ctx, id)? {
                stream.remove_nack(ctx, &mut group, id, &nack, Some(&mut consumer))?;
                deleted.push(id.frame());
                count -= 1;
                continue;
            }
            if min_idle != 0 && now.wrapping_sub(nack.delivery_time) < min_idle {
                continue;
            }
            nack.delivery_time = now;
            if !justid {
                nack.delivery_count += 1;
            }
            stream.reassign_nack(ctx, &group, &mut consumer, id, &mut nack)?;
            claimed.push(if justid { id.frame() } else { entry_frame(id, stream.entry(ctx, id)?.unwrap_or_default()) });
            count -= 1;
            consumer.active_time = now;
        }
        let Some(next) = last.incr() else { break };
        from = next;
    }
    stream.put_consumer(ctx, &group.name, &consumer)?;
    stream.put_group(ctx, &group)?;
    stream.save(ctx)?;
    Ok(Frame::Array(vec![cursor.frame(), Frame::Array(claimed), Frame::Array(deleted)]))
}
