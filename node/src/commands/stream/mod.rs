//! The stream commands: XADD, XRANGE and the other entry commands, consumer
//! groups (XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM) and XINFO.
//!
//! Replies and errors follow Redis 7.2, including the order in which
//! arguments are checked.
//!
//! # Determinism
//! Every time Redis reads (`commandTimeSnapshot`) comes from
//! `ctx.ks.now_ms()`: the leader time stamped in the log entry for writes,
//! so `*` IDs, delivery times and consumer activity agree on every
//! replica; the view's clock for reads (XPENDING idle times, XINFO).
//!
//! # Blocking
//! `BLOCK` is accepted by XREAD and XREADGROUP and behaves as in Redis
//! whenever data can be served at once. When nothing can be, Redis would
//! park the client; Redraft does not block yet and answers
//! `ERR XREAD BLOCK is not supported by this server yet` (or `XREADGROUP`),
//! without side effects.
//!
//! # Layout
//! - [`id`]: stream IDs and their parsing quirks.
//! - [`nodes`]: the model of Redis's listpack nodes and rax that trimming
//!   with `~` and `XINFO STREAM` depend on.
//! - [`store`]: the storage layout and the operations commands compose.
//! - `entries` (XADD, XRANGE, XREAD, ...), `groups`, `info`: the commands.

mod entries;
mod groups;
pub mod id;
mod info;
pub mod nodes;
pub(crate) mod store;

use bytes::Bytes;
use resp::Frame;
use storage::StoredValue;

use super::{CommandSpec, Flags, Group, Handler};
use id::StreamId;

/// The name `OBJECT ENCODING` gives a stream value.
pub fn encoding_name(_value: &StoredValue) -> &'static str {
    "stream"
}

/// An entry as Redis replies with it: `[id, [field, value, ...]]`.
fn entry_frame(id: StreamId, pairs: Vec<Bytes>) -> Frame {
    Frame::Array(vec![id.frame(), Frame::Array(pairs.into_iter().map(Frame::Bulk).collect())])
}

fn bulk(text: &'static str) -> Frame {
    Frame::Bulk(Bytes::from_static(text.as_bytes()))
}

/// A HELP reply the way Redis's `addReplyHelp` builds it.
fn help_reply(container: &str, lines: &[&str]) -> Frame {
    let mut out = Vec::with_capacity(lines.len() + 3);
    out.push(Frame::simple(format!("{container} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")));
    out.extend(lines.iter().map(|line| Frame::simple(line.to_string())));
    out.push(Frame::simple("HELP"));
    out.push(Frame::simple("    Prints this help."));
    Frame::Array(out)
}

/// `addReplySubcommandSyntaxError`: the subcommand as typed, the command
/// upper-cased.
fn subcommand_syntax_error(args: &[Bytes]) -> crate::error::CommandError {
    let sub = String::from_utf8_lossy(&args[1][..args[1].len().min(128)]).into_owned();
    crate::error::CommandError::err(format!(
        "unknown subcommand or wrong number of arguments for '{sub}'. Try {} HELP.",
        String::from_utf8_lossy(&args[0]).to_ascii_uppercase()
    ))
}

/// Finds a container's subcommand and checks its arity, with Redis's errors
/// (`unknown subcommand 'x'. Try XGROUP HELP.`, `... for 'xgroup|create'`).
fn subcommand(
    table: &'static [CommandSpec],
    container: &str,
    args: &[Bytes],
) -> Result<&'static CommandSpec, crate::error::CommandError> {
    let Some(sub) = table.iter().find(|s| s.name.as_bytes().eq_ignore_ascii_case(&args[1])) else {
        let mut shown = String::from_utf8_lossy(&args[1]).into_owned();
        if let Some((cut, _)) = shown.char_indices().nth(128) {
            shown.truncate(cut);
        }
        return Err(crate::error::CommandError::UnknownSubcommand { command: container.to_string(), sub: shown });
    };
    if !sub.arity_ok(args.len()) {
        return Err(crate::error::CommandError::WrongArity(format!("{}|{}", container.to_ascii_lowercase(), sub.name)));
    }
    Ok(sub)
}

const fn spec(
    name: &'static str,
    arity: i32,
    flags: Flags,
    keys: (i32, i32, i32),
    since: &'static str,
    summary: &'static str,
    handler: super::DataHandler,
) -> CommandSpec {
    CommandSpec::data(Group::Stream, name, arity, flags, keys, since, summary, handler)
}

const READ: Flags = Flags::READONLY;
const READ_FAST: Flags = Flags::READONLY.union(Flags::FAST);
const WRITE: Flags = Flags::WRITE;
const WRITE_FAST: Flags = Flags::WRITE.union(Flags::FAST);
const WRITE_DENYOOM: Flags = Flags::WRITE.union(Flags::DENYOOM);
const WRITE_DENYOOM_FAST: Flags = Flags::WRITE.union(Flags::DENYOOM).union(Flags::FAST);
const HELP_FLAGS: Flags = Flags::LOADING.union(Flags::STALE);
const NO_KEYS: (i32, i32, i32) = (0, 0, 0);
const ONE_KEY: (i32, i32, i32) = (1, 1, 1);
const SUB_KEY: (i32, i32, i32) = (2, 2, 1);

static XGROUP_SUBCOMMANDS: &[CommandSpec] = &[
    spec("create", -5, WRITE_DENYOOM, SUB_KEY, "5.0.0", "Creates a consumer group.", groups::xgroup),
    spec(
        "createconsumer",
        5,
        WRITE_DENYOOM,
        SUB_KEY,
        "6.2.0",
        "Creates a consumer in a consumer group.",
        groups::xgroup,
    ),
    spec("delconsumer", 5, WRITE, SUB_KEY, "5.0.0", "Deletes a consumer from a consumer group.", groups::xgroup),
    spec("destroy", 4, WRITE, SUB_KEY, "5.0.0", "Destroys a consumer group.", groups::xgroup),
    spec(
        "help",
        2,
        HELP_FLAGS,
        NO_KEYS,
        "5.0.0",
        "Returns helpful text about the different subcommands.",
        groups::xgroup,
    ),
    spec("setid", -5, WRITE, SUB_KEY, "5.0.0", "Sets the last-delivered ID of a consumer group.", groups::xgroup),
];

static XINFO_SUBCOMMANDS: &[CommandSpec] = &[
    spec("consumers", 4, READ, SUB_KEY, "5.0.0", "Returns a list of the consumers in a consumer group.", info::xinfo),
    spec("groups", 3, READ, SUB_KEY, "5.0.0", "Returns a list of the consumer groups of a stream.", info::xinfo),
    spec("help", 2, HELP_FLAGS, NO_KEYS, "5.0.0", "Returns helpful text about the different subcommands.", info::xinfo),
    spec("stream", -3, READ, SUB_KEY, "5.0.0", "Returns information about a stream.", info::xinfo),
];

/// Summaries are Redis 7.2's.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "xadd",
        -5,
        WRITE_DENYOOM_FAST,
        ONE_KEY,
        "5.0.0",
        "Appends a new message to a stream. Creates the key if it doesn't exist.",
        entries::xadd,
    ),
    spec("xlen", 2, READ_FAST, ONE_KEY, "5.0.0", "Return the number of messages in a stream.", entries::xlen),
    spec(
        "xrange",
        -4,
        READ,
        ONE_KEY,
        "5.0.0",
        "Returns the messages from a stream within a range of IDs.",
        entries::xrange,
    ),
    spec(
        "xrevrange",
        -4,
        READ,
        ONE_KEY,
        "5.0.0",
        "Returns the messages from a stream within a range of IDs in reverse order.",
        entries::xrevrange,
    ),
    spec(
        "xdel",
        -3,
        WRITE_FAST,
        ONE_KEY,
        "5.0.0",
        "Returns the number of messages after removing them from a stream.",
        entries::xdel,
    ),
    spec("xtrim", -4, WRITE, ONE_KEY, "5.0.0", "Deletes messages from the beginning of a stream.", entries::xtrim),
    // XREAD and XREADGROUP name their keys after STREAMS ("movablekeys"):
    // Redis's legacy key range is empty for both.
    spec(
        "xread",
        -4,
        READ.union(Flags::BLOCKING),
        NO_KEYS,
        "5.0.0",
        "Returns messages from multiple streams with IDs greater than the ones requested. Blocks until a message is \
         available otherwise.",
        entries::xread,
    ),
    spec(
        "xreadgroup",
        -7,
        WRITE.union(Flags::BLOCKING),
        NO_KEYS,
        "5.0.0",
        "Returns new or historical messages from a stream for a consumer in a group. Blocks until a message is \
         available otherwise.",
        groups::xreadgroup,
    ),
    spec(
        "xsetid",
        -3,
        WRITE_DENYOOM_FAST,
        ONE_KEY,
        "5.0.0",
        "An internal command for replicating stream values.",
        entries::xsetid,
    ),
    spec(
        "xack",
        -4,
        WRITE_FAST,
        ONE_KEY,
        "5.0.0",
        "Returns the number of messages that were successfully acknowledged by the consumer group member of a stream.",
        groups::xack,
    ),
    spec(
        "xpending",
        -3,
        READ,
        ONE_KEY,
        "5.0.0",
        "Returns the information and entries from a stream consumer group's pending entries list.",
        groups::xpending,
    ),
    spec(
        "xclaim",
        -6,
        WRITE_FAST,
        ONE_KEY,
        "5.0.0",
        "Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a \
         consumer group member.",
        groups::xclaim,
    ),
    spec(
        "xautoclaim",
        -6,
        WRITE_FAST,
        ONE_KEY,
        "6.2.0",
        "Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as \
         consumer group member.",
        groups::xautoclaim,
    ),
    CommandSpec {
        name: "xgroup",
        arity: -2,
        // Redis gives the container no flags; data commands here must say
        // whether they write, and the subcommands do.
        flags: Flags::WRITE,
        first_key: 0,
        last_key: 0,
        key_step: 0,
        group: Group::Stream,
        since: "5.0.0",
        summary: "A container for consumer groups commands.",
        handler: Handler::Data(groups::xgroup),
        subcommands: XGROUP_SUBCOMMANDS,
    },
    CommandSpec {
        name: "xinfo",
        arity: -2,
        flags: Flags::READONLY,
        first_key: 0,
        last_key: 0,
        key_step: 0,
        group: Group::Stream,
        since: "5.0.0",
        summary: "A container for stream introspection commands.",
        handler: Handler::Data(info::xinfo),
        subcommands: XINFO_SUBCOMMANDS,
    },
];

#[cfg(test)]
mod tests;
