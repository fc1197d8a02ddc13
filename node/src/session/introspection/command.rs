//! COMMAND: the command table as Redis 7.2 reports it.
//!
//! Redis keeps ACL categories, key specs and docs in per-command JSON
//! files; Redraft's table has flags, key positions, group, since and
//! summary, so the rest is derived the way Redis derives its implicit
//! parts (`setImplicitACLCategories`), plus a few per-command extras where
//! Redis's JSON adds categories the flags don't imply.

use bytes::Bytes;
use resp::Frame;

use super::{help_reply, is, lossy, subcommand};
use crate::commands::{self, glob, CommandSpec, Flags, Group};
use crate::dispatch::Conn;
use crate::error::CommandError;

/// ACL categories in the order Redis lists them (`ACLCommandCategories`).
const CATEGORIES: [&str; 21] = [
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// Categories Redis's command JSON adds beyond what flags and group imply,
/// by full name.
const EXTRA_CATEGORIES: &[(&str, &[&str])] = &[
    ("readonly", &["connection"]),
    ("readwrite", &["connection"]),
    ("info", &["dangerous"]),
    ("restore", &["dangerous"]),
    ("keys", &["dangerous"]),
    ("dbsize", &["keyspace"]),
    ("flushdb", &["keyspace", "dangerous"]),
    ("flushall", &["keyspace", "dangerous"]),
    ("lastsave", &["admin", "dangerous"]),
    ("role", &["admin", "dangerous"]),
];

/// Commands whose Redis categories are not derived at all: TIME is flagged
/// read-only here (it reads the keyspace clock) but Redis files it under
/// @fast alone.
const EXACT_CATEGORIES: &[(&str, &[&str])] = &[("time", &["fast"])];

/// Flags Redis hides from COMMAND INFO (`addReplyFlagsForCommand`).
const HIDDEN_FLAGS: &[&str] = &["may_replicate"];

const HELP: &[&str] = &[
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
];

pub fn run(conn: &mut Conn, args: &[Bytes]) -> Result<Frame, CommandError> {
    if args.len() == 1 {
        return Ok(Frame::Array(commands::all_commands().map(|spec| info_entry(spec, None)).collect()));
    }
    let sub = subcommand(conn, args)?;
    match sub.name {
        "count" => Ok(Frame::Integer(commands::all_commands().count() as i64)),
        "info" => Ok(info(&args[2..])),
        "docs" => Ok(docs(&args[2..])),
        "list" => list(&args[2..]),
        "getkeys" => getkeys(&args[2..]),
        "help" => Ok(help_reply(&args[0], HELP)),
        _ => Err(super::unknown_subcommand(&args[0], &args[1])),
    }
}

/// A command and, for a subcommand, its container.
#[derive(Clone, Copy)]
pub struct Named {
    pub spec: &'static CommandSpec,
    pub parent: Option<&'static CommandSpec>,
}

impl Named {
    pub fn full_name(&self) -> String {
        match self.parent {
            Some(parent) => format!("{}|{}", parent.name, self.spec.name),
            None => self.spec.name.to_string(),
        }
    }
}

/// Looks up `name` or `container|sub` (Redis's `lookupCommandBySds`).
pub fn lookup_full(name: &[u8]) -> Option<Named> {
    let mut parts = name.split(|&b| b == b'|');
    let first = parts.next()?;
    let spec = commands::lookup(first)?;
    match (parts.next(), parts.next()) {
        (None, _) => Some(Named { spec, parent: None }),
        (Some(sub), None) => spec.subcommand(sub).map(|s| Named { spec: s, parent: Some(spec) }),
        (Some(_), Some(_)) => None,
    }
}

/// Every command and subcommand, containers first, as COMMAND LIST shows.
pub fn everything() -> Vec<Named> {
    let mut out = Vec::new();
    for spec in commands::all_commands() {
        out.push(Named { spec, parent: None });
        out.extend(spec.subcommands.iter().map(|s| Named { spec: s, parent: Some(spec) }));
    }
    out
}

/// A container that needs a subcommand (CLIENT, CLUSTER, CONFIG, OBJECT;
/// not COMMAND, which runs alone): Redis gives it no flags and no category
/// but `@slow`.
fn is_pure_container(spec: &CommandSpec) -> bool {
    !spec.subcommands.is_empty() && spec.arity == -2
}

fn category_index(name: &str) -> Option<usize> {
    CATEGORIES.iter().position(|c| *c == name)
}

/// The ACL categories of a command, without the `@`, in Redis's order.
pub fn acl_categories(named: Named) -> Vec<&'static str> {
    let spec = named.spec;
    let full = named.full_name();
    if let Some((_, exact)) = EXACT_CATEGORIES.iter().find(|(name, _)| *name == full) {
        return exact.to_vec();
    }
    if is_pure_container(spec) {
        return vec!["slow"];
    }
    let mut set = [false; CATEGORIES.len()];
    let mut add = |name: &str| {
        if let Some(i) = category_index(name) {
            set[i] = true;
        }
    };
    match spec.group {
        Group::Generic => add("keyspace"),
        Group::String => add("string"),
        Group::Connection => add("connection"),
        Group::Transactions => add("transaction"),
        Group::List => add("list"),
        Group::Hash => add("hash"),
        Group::Set => add("set"),
        Group::SortedSet => add("sortedset"),
        Group::Stream => add("stream"),
        Group::Bitmap => add("bitmap"),
        Group::Hyperloglog => add("hyperloglog"),
        Group::Geo => add("geo"),
        Group::Server | Group::Cluster | Group::Json => {}
    }
    // COMMAND and its subcommands are in the server group but Redis files
    // them under @connection: clients call them while connecting.
    if spec.name == "command" || named.parent.is_some_and(|p| p.name == "command") {
        add("connection");
    }
    for (name, extra) in EXTRA_CATEGORIES {
        if *name == full {
            extra.iter().for_each(|c| add(c));
        }
    }
    let flags = spec.flags;
    if flags.contains(Flags::WRITE) {
        add("write");
    }
    if flags.contains(Flags::READONLY) {
        add("read");
    }
    if flags.contains(Flags::ADMIN) {
        add("admin");
        add("dangerous");
    }
    if flags.contains(Flags::PUBSUB) {
        add("pubsub");
    }
    if flags.contains(Flags::FAST) {
        add("fast");
    } else {
        add("slow");
    }
    if flags.contains(Flags::BLOCKING) {
        add("blocking");
    }
    CATEGORIES.iter().zip(set).filter(|(_, on)| *on).map(|(c, _)| *c).collect()
}

/// The flags COMMAND INFO shows: none for a pure container, whose
/// subcommands carry them.
pub fn visible_flags(spec: &CommandSpec) -> Vec<&'static str> {
    if is_pure_container(spec) {
        return Vec::new();
    }
    let mut names: Vec<&'static str> = spec.flags.names().into_iter().filter(|f| !HIDDEN_FLAGS.contains(f)).collect();
    if spec.has_movable_keys() {
        names.push("movablekeys");
    }
    names
}

fn status_set(items: impl IntoIterator<Item = String>) -> Frame {
    Frame::Set(items.into_iter().map(Frame::simple).collect())
}

fn pair(key: &'static str, value: Frame) -> (Frame, Frame) {
    (Frame::Bulk(Bytes::from_static(key.as_bytes())), value)
}

/// The key spec derived from the first/last/step positions: one range,
/// read-only access or read-write update.
fn key_specs(spec: &CommandSpec) -> Vec<Frame> {
    if spec.first_key <= 0 {
        return Vec::new();
    }
    let flags: &[&str] = if spec.flags.contains(Flags::WRITE) {
        &["RW", "update"]
    } else if spec.flags.contains(Flags::READONLY) {
        &["RO", "access"]
    } else {
        &["RO"]
    };
    // Redis's range `lastkey` is relative to the first key when positive,
    // and counts from the end when negative.
    let lastkey = if spec.last_key >= 0 { spec.last_key - spec.first_key } else { spec.last_key };
    vec![Frame::Map(vec![
        pair("flags", status_set(flags.iter().map(|f| f.to_string()))),
        pair(
            "begin_search",
            Frame::Map(vec![
                pair("type", Frame::bulk("index")),
                pair("spec", Frame::Map(vec![pair("index", Frame::Integer(spec.first_key as i64))])),
            ]),
        ),
        pair(
            "find_keys",
            Frame::Map(vec![
                pair("type", Frame::bulk("range")),
                pair(
                    "spec",
                    Frame::Map(vec![
                        pair("lastkey", Frame::Integer(lastkey as i64)),
                        pair("keystep", Frame::Integer(spec.key_step as i64)),
                        pair("limit", Frame::Integer(0)),
                    ]),
                ),
            ]),
        ),
    ])]
}

/// One COMMAND INFO entry: `[name, arity, flags, first, last, step,
/// categories, tips, key specs, subcommands]`.
pub fn info_entry(spec: &'static CommandSpec, parent: Option<&'static CommandSpec>) -> Frame {
    let named = Named { spec, parent };
    let subcommands = if spec.subcommands.is_empty() {
        Frame::Set(Vec::new())
    } else {
        Frame::Array(spec.subcommands.iter().map(|s| info_entry(s, Some(spec))).collect())
    };
    Frame::Array(vec![
        Frame::bulk(named.full_name()),
        Frame::Integer(spec.arity as i64),
        status_set(visible_flags(spec).into_iter().map(String::from)),
        Frame::Integer(spec.first_key as i64),
        Frame::Integer(spec.last_key as i64),
        Frame::Integer(spec.key_step as i64),
        status_set(acl_categories(named).into_iter().map(|c| format!("@{c}"))),
        Frame::Set(Vec::new()),
        Frame::Set(key_specs(spec)),
        subcommands,
    ])
}

/// One COMMAND DOCS value: summary, since, group and, for a container,
/// its subcommands' docs by full name.
pub fn docs_entry(spec: &'static CommandSpec) -> Frame {
    let mut fields = vec![
        pair("summary", Frame::bulk(spec.summary)),
        pair("since", Frame::bulk(spec.since)),
        pair("group", Frame::bulk(spec.group.name())),
    ];
    if !spec.subcommands.is_empty() {
        let subs = spec
            .subcommands
            .iter()
            .map(|s| (Frame::bulk(Named { spec: s, parent: Some(spec) }.full_name()), docs_entry(s)))
            .collect();
        fields.push(pair("subcommands", Frame::Map(subs)));
    }
    Frame::Map(fields)
}

fn info(names: &[Bytes]) -> Frame {
    if names.is_empty() {
        return Frame::Array(commands::all_commands().map(|spec| info_entry(spec, None)).collect());
    }
    Frame::Array(
        names
            .iter()
            .map(|name| match lookup_full(name) {
                Some(named) => info_entry(named.spec, named.parent),
                None => Frame::Null,
            })
            .collect(),
    )
}

fn docs(names: &[Bytes]) -> Frame {
    let entry = |named: Named| (Frame::bulk(named.full_name()), docs_entry(named.spec));
    if names.is_empty() {
        return Frame::Map(commands::all_commands().map(|spec| entry(Named { spec, parent: None })).collect());
    }
    // Unknown names are left out, as Redis does.
    Frame::Map(names.iter().filter_map(|name| lookup_full(name)).map(entry).collect())
}

/// `COMMAND LIST [FILTERBY MODULE m | ACLCAT c | PATTERN p]`.
fn list(args: &[Bytes]) -> Result<Frame, CommandError> {
    let all = everything();
    let keep: Vec<Named> = match args {
        [] => all,
        [filterby, kind, value] if is(filterby, "filterby") => {
            if is(kind, "module") {
                // No modules are loaded.
                Vec::new()
            } else if is(kind, "aclcat") {
                let wanted = lossy(value).to_ascii_lowercase();
                all.into_iter().filter(|n| acl_categories(*n).iter().any(|c| *c == wanted)).collect()
            } else if is(kind, "pattern") {
                all.into_iter().filter(|n| glob::matches(value, n.full_name().as_bytes(), true)).collect()
            } else {
                return Err(CommandError::Syntax);
            }
        }
        _ => return Err(CommandError::Syntax),
    };
    Ok(Frame::Array(keep.into_iter().map(|n| Frame::bulk(n.full_name())).collect()))
}

/// `COMMAND GETKEYS <command> <args...>`: the key arguments of a call, by
/// the same key positions routing uses.
pub fn getkeys(call: &[Bytes]) -> Result<Frame, CommandError> {
    let invalid = || CommandError::err("Invalid command specified");
    let top = call.first().and_then(|name| commands::lookup(name)).ok_or_else(invalid)?;
    // Like Redis's `lookupCommand`: a container's subcommand when one is given.
    let spec = match (top.subcommands.is_empty(), call.get(1)) {
        (false, Some(sub)) => top.subcommand(sub).ok_or_else(invalid)?,
        _ => top,
    };
    if spec.first_key <= 0 && !spec.has_movable_keys() {
        return Err(CommandError::err("The command has no key arguments"));
    }
    if !spec.arity_ok(call.len()) {
        return Err(CommandError::err("Invalid number of arguments specified for command"));
    }
    Ok(Frame::Array(spec.keys_of(call).into_iter().map(|i| Frame::Bulk(call[i].clone())).collect()))
}
