//! XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XSETID and XREAD.

use bytes::Bytes;
use resp::Frame;

use super::super::args::{int_arg, parse_i64};
use super::super::expire::opt_is;
use super::super::Ctx;
use super::entry_frame;
use super::id::{self, AddId, StreamId};
use super::nodes::{LISTPACK_MAX_SIZE, NODE_MAX_ENTRIES};
use super::store::{Stream, Trim, TrimStrategy};
use crate::error::CommandError;

/// What XADD and XTRIM share: the trimming options, plus XADD's ID.
pub(super) struct AddTrimArgs {
    pub id: AddId,
    /// Where the ID argument is (the fields follow it).
    pub id_pos: usize,
    pub nomkstream: bool,
    pub trim: Option<Trim>,
}

/// `streamParseAddOrTrimArgsOrReply`.
pub(super) fn parse_add_or_trim(args: &[Bytes], xadd: bool) -> Result<AddTrimArgs, CommandError> {
    let incompatible =
        || CommandError::err("syntax error, MAXLEN and MINID options at the same time are not compatible");
    let mut parsed = AddTrimArgs { id: AddId::Auto, id_pos: args.len(), nomkstream: false, trim: None };
    let mut strategy = None;
    let mut approx = false;
    let mut limit: i64 = 0;
    let mut limit_given = false;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = &args[i];
        if xadd && opt.as_ref() == b"*" {
            parsed.id_pos = i;
            break;
        } else if (opt_is(opt, "maxlen") || opt_is(opt, "minid")) && more > 0 {
            if strategy.is_some() {
                return Err(incompatible());
            }
            approx = false;
            let next = args[i + 1].as_ref();
            if more >= 2 && next == b"~" {
                approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            strategy = Some(if opt_is(opt, "maxlen") {
                let max = int_arg(&args[i + 1])?;
                if max < 0 {
                    return Err(CommandError::err("The MAXLEN argument must be >= 0."));
                }
                TrimStrategy::MaxLen(max as u64)
            } else {
                TrimStrategy::MinId(id::parse_strict_id(&args[i + 1], 0)?)
            });
            i += 1;
        } else if opt_is(opt, "limit") && more > 0 {
            limit = int_arg(&args[i + 1])?;
            if limit < 0 {
                return Err(CommandError::err("The LIMIT argument must be >= 0."));
            }
            limit_given = true;
            i += 1;
        } else if xadd && opt_is(opt, "nomkstream") {
            parsed.nomkstream = true;
        } else if xadd {
            parsed.id = id::parse_add_id(opt)?;
            parsed.id_pos = i;
            break;
        } else {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }
    if limit != 0 && strategy.is_none() {
        return Err(CommandError::err("syntax error, LIMIT cannot be used without specifying a trimming strategy"));
    }
    if !xadd && strategy.is_none() {
        return Err(CommandError::err("syntax error, XTRIM must be called with a trimming strategy"));
    }
    if limit_given {
        if !approx {
            return Err(CommandError::err("syntax error, LIMIT cannot be used without the special ~ option"));
        }
    } else {
        // Approximate trimming does at most 100 nodes' worth of work by
        // default; exact trimming is never limited.
        limit = if approx { 100 * NODE_MAX_ENTRIES as i64 } else { 0 };
    }
    parsed.trim = strategy.map(|strategy| Trim { strategy, approx, limit: limit as u64 });
    Ok(parsed)
}

fn id_too_small() -> CommandError {
    CommandError::err("The ID specified in XADD is equal or smaller than the target stream top item")
}

/// # Format
/// ```text
/// XADD key [NOMKSTREAM] [<MAXLEN | MINID> [= | ~] threshold [LIMIT count]]
///   <* | id> field value [field value ...]
/// ```
pub(super) fn xadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let parsed = parse_add_or_trim(args, true)?;
    let field_pos = parsed.id_pos + 1;
    let fields = args.len() as i64 - field_pos as i64;
    if fields < 2 || fields % 2 == 1 {
        return Err(CommandError::WrongArity("xadd".into()));
    }
    if parsed.id == AddId::Exact(StreamId::MIN) {
        return Err(CommandError::err("The ID specified in XADD must be greater than 0-0"));
    }
    let key = &args[1];
    let mut stream = match Stream::load(ctx, key)? {
        Some(stream) => stream,
        None if parsed.nomkstream => return Ok(Frame::Null),
        None => Stream::create(ctx, key)?,
    };
    let last = stream.meta.last_id;
    if last == StreamId::MAX {
        return Err(CommandError::err("The stream has exhausted the last possible ID, unable to add more items"));
    }
    let new_id = match parsed.id {
        AddId::Exact(id) => id,
        AddId::Ms(ms) if ms == last.ms => {
            if last.seq == u64::MAX {
                return Err(id_too_small());
            }
            StreamId::new(ms, last.seq + 1)
        }
        AddId::Ms(ms) => StreamId::new(ms, 0),
        AddId::Auto => {
            let now = ctx.ks.now_ms();
            if now > last.ms {
                StreamId::new(now, 0)
            } else {
                last.incr_wrapping()
            }
        }
    };
    if new_id <= last {
        return Err(id_too_small());
    }
    let pairs = &args[field_pos..];
    if pairs.iter().map(|p| p.len() as u64).sum::<u64>() > LISTPACK_MAX_SIZE {
        return Err(CommandError::err("Elements are too large to be stored"));
    }
    stream.append(ctx, new_id, pairs)?;
    if let Some(trim) = parsed.trim {
        stream.trim(ctx, &trim)?;
    }
    stream.save(ctx)?;
    Ok(new_id.frame())
}

/// `XLEN key`
pub(super) fn xlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let length = Stream::load(ctx, &args[1])?.map_or(0, |s| s.meta.length);
    Ok(Frame::Integer(length as i64))
}

/// `XRANGE key start end [COUNT count]`
pub(super) fn xrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    range_generic(ctx, args, false)
}

/// `XREVRANGE key end start [COUNT count]`
pub(super) fn xrevrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    range_generic(ctx, args, true)
}

fn range_generic(ctx: &mut Ctx<'_>, args: &[Bytes], rev: bool) -> Result<Frame, CommandError> {
    let (start_arg, end_arg) = if rev { (&args[3], &args[2]) } else { (&args[2], &args[3]) };
    let start = id::range_start(start_arg)?;
    let end = id::range_end(end_arg)?;
    let mut count: i64 = -1;
    let mut j = 4;
    while j < args.len() {
        if opt_is(&args[j], "count") && j + 1 < args.len() {
            count = int_arg(&args[j + 1])?.max(0);
            j += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let Some(stream) = Stream::load(ctx, &args[1])? else { return Ok(Frame::Array(Vec::new())) };
    if count == 0 {
        return Ok(Frame::NullArray);
    }
    let limit = usize::try_from(count.max(0)).unwrap_or(usize::MAX);
    let entries = stream.range(ctx, start, end, rev, limit)?;
    Ok(Frame::Array(entries.into_iter().map(|(id, pairs)| entry_frame(id, pairs)).collect()))
}

/// `XDEL key id [id ...]`
pub(super) fn xdel(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let Some(mut stream) = Stream::load(ctx, &args[1])? else { return Ok(Frame::Integer(0)) };
    let ids = args[2..].iter().map(|a| id::parse_strict_id(a, 0)).collect::<Result<Vec<_>, _>>()?;
    let mut deleted = 0;
    let mut first_deleted = false;
    for id in ids {
        if stream.delete_entry(ctx, id)? {
            first_deleted |= id == stream.meta.first_id;
            stream.meta.max_deleted = stream.meta.max_deleted.max(id);
            deleted += 1;
        }
    }
    if deleted > 0 {
        if stream.meta.length == 0 {
            stream.meta.first_id = StreamId::MIN;
        } else if first_deleted {
            stream.refresh_first_id(ctx)?;
        }
        stream.save(ctx)?;
    }
    Ok(Frame::Integer(deleted))
}

/// `XTRIM key <MAXLEN | MINID> [= | ~] threshold [LIMIT count]`
pub(super) fn xtrim(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let parsed = parse_add_or_trim(args, false)?;
    let Some(mut stream) = Stream::load(ctx, &args[1])? else { return Ok(Frame::Integer(0)) };
    let trim = parsed.trim.expect("XTRIM parsing demands a strategy");
    let deleted = stream.trim(ctx, &trim)?;
    if deleted > 0 {
        stream.save(ctx)?;
    }
    Ok(Frame::Integer(deleted as i64))
}

/// `XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]`
pub(super) fn xsetid(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let new_last = id::parse_strict_id(&args[2], 0)?;
    let mut entries_added: Option<u64> = None;
    let mut max_deleted = StreamId::MIN;
    let mut i = 3;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if opt_is(&args[i], "entriesadded") && more > 0 {
            let n = int_arg(&args[i + 1])?;
            if n < 0 {
                return Err(CommandError::err("entries_added must be positive"));
            }
            entries_added = Some(n as u64);
        } else if opt_is(&args[i], "maxdeletedid") && more > 0 {
            max_deleted = id::parse_strict_id(&args[i + 1], 0)?;
            if new_last < max_deleted {
                return Err(CommandError::err(
                    "The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                ));
            }
        } else {
            return Err(CommandError::Syntax);
        }
        i += 2;
    }
    let mut stream = Stream::load(ctx, &args[1])?.ok_or(CommandError::NoSuchKey)?;
    if new_last < stream.meta.max_deleted {
        return Err(CommandError::err("The ID specified in XSETID is smaller than current max_deleted_entry_id"));
    }
    if stream.meta.length > 0 {
        let top = stream.edge_id(ctx, true)?.unwrap_or_default();
        if new_last < top {
            return Err(CommandError::err("The ID specified in XSETID is smaller than the target stream top item"));
        }
        if entries_added.is_some_and(|n| stream.meta.length > n) {
            return Err(CommandError::err(
                "The entries_added specified in XSETID is smaller than the target stream length",
            ));
        }
    }
    stream.meta.last_id = new_last;
    if let Some(n) = entries_added {
        stream.meta.entries_added = n;
    }
    if !max_deleted.is_zero() {
        stream.meta.max_deleted = max_deleted;
    }
    stream.save(ctx)?;
    Ok(Frame::ok())
}

/// The options of XREAD and XREADGROUP.
pub(super) struct ReadArgs {
    /// BLOCK was given (the timeout itself is not used: Redraft never blocks).
    pub block: bool,
    /// 0: no limit.
    pub count: usize,
    /// Index of the first key.
    pub streams_at: usize,
    pub streams: usize,
    pub group: Option<(Bytes, Bytes)>,
    pub noack: bool,
}

/// The option parsing of `xreadCommand`, with its errors in its order.
pub(super) fn parse_read(ctx: &Ctx<'_>, args: &[Bytes], xreadgroup: bool) -> Result<ReadArgs, CommandError> {
    let mut parsed = ReadArgs { block: false, count: 0, streams_at: 0, streams: 0, group: None, noack: false };
    let only_group = |option: &str| {
        CommandError::err(format!("The {option} option is only supported by XREADGROUP. You called XREAD instead."))
    };
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - i - 1;
        let opt = &args[i];
        if opt_is(opt, "block") && more > 0 {
            i += 1;
            parse_timeout_ms(ctx, &args[i])?;
            parsed.block = true;
        } else if opt_is(opt, "count") && more > 0 {
            i += 1;
            parsed.count = usize::try_from(int_arg(&args[i])?.max(0)).unwrap_or(usize::MAX);
        } else if opt_is(opt, "streams") && more > 0 {
            parsed.streams_at = i + 1;
            let listed = args.len() - parsed.streams_at;
            if !listed.is_multiple_of(2) {
                let (name, symbol) = if xreadgroup { ("xreadgroup", '>') } else { ("xread", '$') };
                return Err(CommandError::err(format!(
                    "Unbalanced '{name}' list of streams: for each stream key an ID or '{symbol}' must be specified."
                )));
            }
            parsed.streams = listed / 2;
            break;
        } else if opt_is(opt, "group") && more >= 2 {
            if !xreadgroup {
                return Err(only_group("GROUP"));
            }
            parsed.group = Some((args[i + 1].clone(), args[i + 2].clone()));
            i += 2;
        } else if opt_is(opt, "noack") {
            if !xreadgroup {
                return Err(only_group("NOACK"));
            }
            parsed.noack = true;
        } else {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }
    if parsed.streams_at == 0 {
        return Err(CommandError::Syntax);
    }
    if xreadgroup && parsed.group.is_none() {
        return Err(CommandError::err("Missing GROUP option for XREADGROUP"));
    }
    Ok(parsed)
}

/// `getTimeoutFromObjectOrReply` in milliseconds.
fn parse_timeout_ms(ctx: &Ctx<'_>, arg: &[u8]) -> Result<i64, CommandError> {
    let ms = parse_i64(arg).ok_or_else(|| CommandError::err("timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(CommandError::err("timeout is negative"));
    }
    let now = i64::try_from(ctx.ks.now_ms()).unwrap_or(i64::MAX);
    if ms > 0 && ms > i64::MAX - now {
        return Err(CommandError::err("timeout is out of range"));
    }
    Ok(ms)
}

/// The error standing in for blocking until data arrives.
pub(super) fn block_unsupported(command: &str) -> CommandError {
    CommandError::err(format!("{command} BLOCK is not supported by this server yet"))
}

/// XREAD and XREADGROUP reply with a map from key to entries in RESP3 and
/// with `[key, entries]` pairs in RESP2.
pub(super) fn streams_reply(ctx: &Ctx<'_>, served: Vec<(Bytes, Frame)>) -> Frame {
    if ctx.resp3 {
        Frame::Map(served.into_iter().map(|(key, entries)| (Frame::Bulk(key), entries)).collect())
    } else {
        Frame::Array(served.into_iter().map(|(key, entries)| Frame::Array(vec![Frame::Bulk(key), entries])).collect())
    }
}

/// # Format
/// ```text
/// XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]
/// ```
pub(super) fn xread(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let parsed = parse_read(ctx, args, false)?;
    let mut targets = Vec::with_capacity(parsed.streams);
    for j in 0..parsed.streams {
        let key = &args[parsed.streams_at + j];
        let id_arg = &args[parsed.streams_at + parsed.streams + j];
        let stream = Stream::load(ctx, key)?;
        let after =
            match id_arg.as_ref() {
                b"$" => stream.as_ref().map_or(StreamId::MIN, |s| s.meta.last_id),
                b">" => return Err(CommandError::err(
                    "The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
                )),
                _ => id::parse_strict_id(id_arg, 0)?,
            };
        targets.push((key.clone(), stream, after));
    }
    let mut served = Vec::new();
    for (key, stream, after) in targets {
        let Some(stream) = stream else { continue };
        if stream.meta.length == 0 || stream.edge_id(ctx, true)?.is_none_or(|top| top <= after) {
            continue;
        }
        let entries = stream.range(ctx, after.incr_wrapping(), StreamId::MAX, false, parsed.count)?;
        let frames = entries.into_iter().map(|(id, pairs)| entry_frame(id, pairs)).collect();
        served.push((key, Frame::Array(frames)));
    }
    if served.is_empty() {
        if parsed.block {
            return Err(block_unsupported("XREAD"));
        }
        return Ok(Frame::NullArray);
    }
    Ok(streams_reply(ctx, served))
}
