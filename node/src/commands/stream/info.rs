//! XINFO STREAM, GROUPS, CONSUMERS and HELP, with Redis 7.2's fields
//! (`entries-read`, `lag`, consumers' `active-time` and `inactive`).

use bytes::Bytes;
use resp::Frame;

use super::super::args::int_arg;
use super::super::expire::opt_is;
use super::super::Ctx;
use super::id::StreamId;
use super::store::{now, Group, Stream, ENTRIES_READ_INVALID};
use super::{bulk, entry_frame, help_reply, subcommand, subcommand_syntax_error, XINFO_SUBCOMMANDS};
use crate::error::CommandError;

const XINFO_HELP: &[&str] = &[
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
];

/// # Format
/// ```text
/// XINFO STREAM key [FULL [COUNT count]]
/// XINFO GROUPS key
/// XINFO CONSUMERS key group
/// XINFO HELP
/// ```
pub(super) fn xinfo(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let sub = subcommand(XINFO_SUBCOMMANDS, "XINFO", args)?;
    if sub.name == "help" {
        return Ok(help_reply("XINFO", XINFO_HELP));
    }
    let key = &args[2];
    let stream = Stream::load(ctx, key)?.ok_or(CommandError::NoSuchKey)?;
    match sub.name {
        "consumers" => consumers(ctx, &stream, key, &args[3]),
        "groups" => {
            let groups = stream.groups(ctx)?;
            Ok(Frame::Array(groups.iter().map(|g| group_summary(&stream, g)).collect()))
        }
        _ => stream_info(ctx, &stream, args),
    }
}

fn entries_read(group: &Group) -> Frame {
    if group.entries_read == ENTRIES_READ_INVALID {
        Frame::Null
    } else {
        Frame::Integer(group.entries_read)
    }
}

fn lag(stream: &Stream, group: &Group) -> Frame {
    stream.lag(group).map_or(Frame::Null, Frame::Integer)
}

fn group_summary(stream: &Stream, group: &Group) -> Frame {
    Frame::Map(vec![
        (bulk("name"), Frame::Bulk(group.name.clone())),
        (bulk("consumers"), Frame::Integer(group.consumers as i64)),
        (bulk("pending"), Frame::Integer(group.pel_count as i64)),
        (bulk("last-delivered-id"), group.last_id.frame()),
        (bulk("entries-read"), entries_read(group)),
        (bulk("lag"), lag(stream, group)),
    ])
}

fn consumers(ctx: &Ctx<'_>, stream: &Stream, key: &[u8], group_name: &[u8]) -> Result<Frame, CommandError> {
    let Some(group) = stream.group(ctx, group_name)? else {
        return Err(CommandError::Prefixed(format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            String::from_utf8_lossy(group_name),
            String::from_utf8_lossy(key)
        )));
    };
    let now = now(ctx);
    let frames = stream
        .consumers(ctx, &group.name)?
        .into_iter()
        .map(|c| {
            let inactive = if c.active_time == -1 { -1 } else { now.wrapping_sub(c.active_time) };
            Frame::Map(vec![
                (bulk("name"), Frame::Bulk(c.name)),
                (bulk("pending"), Frame::Integer(c.pel_count as i64)),
                (bulk("idle"), Frame::Integer(now.wrapping_sub(c.seen_time).max(0))),
                (bulk("inactive"), Frame::Integer(inactive)),
            ])
        })
        .collect();
    Ok(Frame::Array(frames))
}

fn stream_info(ctx: &Ctx<'_>, stream: &Stream, args: &[Bytes]) -> Result<Frame, CommandError> {
    let options = &args[3..];
    let mut count: i64 = 10;
    let full = !options.is_empty();
    if full {
        if (options.len() != 1 && options.len() != 3) || !opt_is(&options[0], "full") {
            return Err(subcommand_syntax_error(args));
        }
        if options.len() == 3 {
            if !opt_is(&options[1], "count") {
                return Err(subcommand_syntax_error(args));
            }
            count = int_arg(&options[2])?;
            if count < 0 {
                count = 10;
            }
        }
    }
    let m = &stream.meta;
    let mut map = vec![
        (bulk("length"), Frame::Integer(m.length as i64)),
        (bulk("radix-tree-keys"), Frame::Integer(m.rax_keys as i64)),
        (bulk("radix-tree-nodes"), Frame::Integer(m.rax_nodes as i64)),
        (bulk("last-generated-id"), m.last_id.frame()),
        (bulk("max-deleted-entry-id"), m.max_deleted.frame()),
        (bulk("entries-added"), Frame::Integer(m.entries_added as i64)),
        (bulk("recorded-first-entry-id"), m.first_id.frame()),
    ];
    if !full {
        map.push((bulk("groups"), Frame::Integer(m.groups as i64)));
        for (name, last) in [("first-entry", false), ("last-entry", true)] {
            let edge = stream.range(ctx, StreamId::MIN, StreamId::MAX, last, 1)?.pop();
            map.push((bulk(name), edge.map_or(Frame::Null, |(id, pairs)| entry_frame(id, pairs))));
        }
        return Ok(Frame::Map(map));
    }
    let limit = usize::try_from(count).unwrap_or(usize::MAX);
    let entries = stream.range(ctx, StreamId::MIN, StreamId::MAX, false, limit)?;
    map.push((bulk("entries"), Frame::Array(entries.into_iter().map(|(id, pairs)| entry_frame(id, pairs)).collect())));
    let mut groups = Vec::new();
    for group in stream.groups(ctx)? {
        let pel = stream.pel(ctx, &group.name, StreamId::MIN, StreamId::MAX, limit)?;
        let pending = pel
            .into_iter()
            .map(|(id, nack)| {
                Frame::Array(vec![
                    id.frame(),
                    Frame::Bulk(nack.consumer),
                    Frame::Integer(nack.delivery_time),
                    Frame::Integer(nack.delivery_count as i64),
                ])
            })
            .collect();
        let mut consumers = Vec::new();
        for consumer in stream.consumers(ctx, &group.name)? {
            let ids = stream.consumer_pel(ctx, &group.name, &consumer.name, StreamId::MIN, StreamId::MAX, limit)?;
            let mut own = Vec::with_capacity(ids.len());
            for id in ids {
                let nack = stream.nack(ctx, &group.name, id)?.unwrap_or_else(|| super::store::Nack {
                    delivery_time: 0,
                    delivery_count: 0,
                    consumer: consumer.name.clone(),
                });
                own.push(Frame::Array(vec![
                    id.frame(),
                    Frame::Integer(nack.delivery_time),
                    Frame::Integer(nack.delivery_count as i64),
                ]));
            }
            consumers.push(Frame::Map(vec![
                (bulk("name"), Frame::Bulk(consumer.name.clone())),
                (bulk("seen-time"), Frame::Integer(consumer.seen_time)),
                (bulk("active-time"), Frame::Integer(consumer.active_time)),
                (bulk("pel-count"), Frame::Integer(consumer.pel_count as i64)),
                (bulk("pending"), Frame::Array(own)),
            ]));
        }
        groups.push(Frame::Map(vec![
            (bulk("name"), Frame::Bulk(group.name.clone())),
            (bulk("last-delivered-id"), group.last_id.frame()),
            (bulk("entries-read"), entries_read(&group)),
            (bulk("lag"), lag(stream, &group)),
            (bulk("pel-count"), Frame::Integer(group.pel_count as i64)),
            (bulk("pending"), Frame::Array(pending)),
            (bulk("consumers"), Frame::Array(consumers)),
        ]));
    }
    map.push((bulk("groups"), Frame::Array(groups)));
    Ok(Frame::Map(map))
}
