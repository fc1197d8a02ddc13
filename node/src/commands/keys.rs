//! The generic key commands: DEL, UNLINK, EXISTS, TYPE, RENAME, RENAMENX,
//! COPY, MOVE, KEYS, SCAN, RANDOMKEY, TOUCH and OBJECT. Expiry commands are
//! in [`super::expire`].
//!
//! They work on whole values whatever their type, so type-specific answers
//! (TYPE, OBJECT ENCODING) go through the header's kind, and moving a value
//! moves its whole [`StoredValue`].
//!
//! # SCAN cursors
//! The cursor is the next hash slot to visit (0..16383) in decimal, and a
//! call returns whole slots, like Redis returns whole hash-table buckets.
//! Keys are stored by slot on every node, so a cursor stays valid when a
//! client's next call lands on another node. "0" means the scan wrapped.

use std::ops::ControlFlow;

use bytes::Bytes;
use rand::Rng;
use resp::Frame;
use storage::keys::SLOT_COUNT;
use storage::{DbIndex, StoredValue, ValueKind};

use super::args::parse_i64;
use super::expire::opt_is;
use super::glob;
use super::string;
use super::{CommandSpec, Ctx, Flags, Group, Handler};
use crate::error::CommandError;

/// DEL and UNLINK: the number of keys that existed (expired ones don't count).
fn del(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let mut deleted = 0;
    for key in &args[1..] {
        if ctx.ks.delete(ctx.db, key)? {
            deleted += 1;
        }
    }
    Ok(Frame::Integer(deleted))
}

/// EXISTS and TOUCH: how many of the keys exist, a key named twice counting twice.
///
/// TOUCH would also refresh the keys' access time, which Redraft does not
/// track (reads run on snapshots and write nothing), so it is EXISTS.
fn exists(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let mut count = 0;
    for key in &args[1..] {
        if ctx.ks.get(ctx.db, key)?.is_some() {
            count += 1;
        }
    }
    Ok(Frame::Integer(count))
}

/// `TYPE key`: the type name, or "none".
fn type_(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let name = ctx.ks.get(ctx.db, &args[1])?.map_or("none", |v| v.header.kind.type_name());
    Ok(Frame::Simple(Bytes::from_static(name.as_bytes())))
}

/// Writes `value`, read from `src` (`db`, key) , as `key` of `db`,
/// replacing whatever was there.
///
/// A collection's elements are stored under its key, so a renamed, moved or
/// copied collection gets a new generation under the new key and its
/// elements are copied there (as Kvrocks does; Redis moves a pointer). The
/// destination's old elements go with its old generation.
fn replace_value(
    ctx: &mut Ctx<'_>,
    src: (DbIndex, &[u8]),
    db: DbIndex,
    key: &[u8],
    mut value: StoredValue,
) -> Result<(), CommandError> {
    ctx.ks.delete(db, key)?;
    if let Some(old_generation) = value.generation() {
        let mut meta = value.collection()?;
        meta.generation = ctx.ks.new_generation()?;
        storage::subkeys::copy_elements(&mut *ctx.ks, (src.0, src.1, old_generation), (db, key, meta.generation))?;
        value.payload = meta.encode();
    }
    ctx.ks.put(db, key, value)?;
    Ok(())
}

/// RENAME and RENAMENX. The value keeps its TTL. Renaming a key to itself
/// succeeds without doing anything (RENAMENX answers 0).
fn rename_generic(ctx: &mut Ctx<'_>, args: &[Bytes], nx: bool) -> Result<Frame, CommandError> {
    let (from, to) = (&args[1], &args[2]);
    let Some(value) = ctx.ks.get(ctx.db, from)? else { return Err(CommandError::NoSuchKey) };
    let done = if nx { Frame::Integer(1) } else { Frame::ok() };
    if from == to {
        return Ok(if nx { Frame::Integer(0) } else { Frame::ok() });
    }
    if nx && ctx.ks.get(ctx.db, to)?.is_some() {
        return Ok(Frame::Integer(0));
    }
    replace_value(ctx, (ctx.db, from), ctx.db, to, value)?;
    ctx.ks.delete(ctx.db, from)?;
    Ok(done)
}

/// `RENAME key newkey`
fn rename(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    rename_generic(ctx, args, false)
}

/// `RENAMENX key newkey`
fn renamenx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    rename_generic(ctx, args, true)
}

/// A database index argument, like Redis's `getIntFromObjectOrReply` then
/// `selectDb`.
fn db_arg(ctx: &Ctx<'_>, arg: &[u8]) -> Result<DbIndex, CommandError> {
    let index = parse_i64(arg).ok_or(CommandError::NotInteger)?;
    let index = i32::try_from(index).map_err(|_| {
        CommandError::err(format!("value is out of range, value must between {} and {}", i32::MIN, i32::MAX))
    })?;
    match DbIndex::try_from(index) {
        Ok(db) if db < ctx.db_count => Ok(db),
        _ => Err(CommandError::DbIndexOutOfRange),
    }
}

/// # Format
/// ```text
/// COPY source destination [DB destination-db] [REPLACE]
/// ```
/// 1 if copied, 0 if the source is missing or the destination exists
/// without REPLACE. The copy keeps the TTL.
fn copy(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let (from, to) = (&args[1], &args[2]);
    let mut replace = false;
    let mut dst_db = ctx.db;
    let mut at = 3;
    while at < args.len() {
        if opt_is(&args[at], "replace") {
            replace = true;
        } else if opt_is(&args[at], "db") && at + 1 < args.len() {
            dst_db = db_arg(ctx, &args[at + 1])?;
            at += 1;
        } else {
            return Err(CommandError::Syntax);
        }
        at += 1;
    }
    if dst_db == ctx.db && from == to {
        return Err(CommandError::SameObject);
    }
    let Some(mut value) = ctx.ks.get(ctx.db, from)? else { return Ok(Frame::Integer(0)) };
    if !replace && ctx.ks.get(dst_db, to)?.is_some() {
        return Ok(Frame::Integer(0));
    }
    if value.header.kind == ValueKind::String {
        value.header.encoding = string::copied_encoding(&value);
    }
    replace_value(ctx, (ctx.db, from), dst_db, to, value)?;
    Ok(Frame::Integer(1))
}

/// `MOVE key db`: 1 if moved, 0 if missing here or present there.
fn move_(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let key = &args[1];
    let dst_db = db_arg(ctx, &args[2])?;
    if dst_db == ctx.db {
        return Err(CommandError::SameObject);
    }
    let Some(value) = ctx.ks.get(ctx.db, key)? else { return Ok(Frame::Integer(0)) };
    if ctx.ks.get(dst_db, key)?.is_some() {
        return Ok(Frame::Integer(0));
    }
    replace_value(ctx, (ctx.db, key), dst_db, key, value)?;
    ctx.ks.delete(ctx.db, key)?;
    Ok(Frame::Integer(1))
}

/// `KEYS pattern`: every live key matching the glob, in slot order.
fn keys(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let pattern = &args[1];
    let all = pattern.as_ref() == b"*";
    let mut found = Vec::new();
    ctx.ks.scan_from_slot(ctx.db, 0, &mut |key, _| {
        if all || glob::matches(pattern, key, false) {
            found.push(Frame::Bulk(Bytes::copy_from_slice(key)));
        }
        ControlFlow::Continue(())
    })?;
    Ok(Frame::Array(found))
}

/// A SCAN cursor like Redis 7.2's `string2ull`: a plain non-negative integer,
/// or what `strtoull` takes whole (leading blanks, a sign, leading zeros),
/// within 64 bits. Redis 7.0 (which 7.2 corrects) read "-1" as 2^64 - 1.
pub(crate) fn parse_cursor(arg: &[u8]) -> Option<u64> {
    if let Some(n) = parse_i64(arg) {
        return u64::try_from(n).ok();
    }
    let text = std::str::from_utf8(arg).ok()?;
    let text = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: u64 = digits.parse().ok()?;
    Some(if negative { value.wrapping_neg() } else { value })
}

/// # Format
/// ```text
/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
/// ```
/// See the module doc for the cursor. COUNT is how many keys to look at
/// (before MATCH and TYPE filter them), rounded up to whole slots.
fn scan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let cursor = parse_cursor(&args[1]).ok_or(CommandError::InvalidCursor)?;
    let mut count: i64 = 10;
    let mut pattern: Option<&Bytes> = None;
    let mut type_name: Option<&Bytes> = None;
    let mut at = 2;
    while at < args.len() {
        let has_value = at + 1 < args.len();
        if opt_is(&args[at], "count") && has_value {
            count = super::args::int_arg(&args[at + 1])?;
            if count < 1 {
                return Err(CommandError::Syntax);
            }
        } else if opt_is(&args[at], "match") && has_value {
            pattern = Some(&args[at + 1]).filter(|p| p.as_ref() != b"*");
        } else if opt_is(&args[at], "type") && has_value {
            type_name = Some(&args[at + 1]);
        } else {
            return Err(CommandError::Syntax);
        }
        at += 2;
    }
    let mut found = Vec::new();
    let next_slot = match u16::try_from(cursor) {
        Ok(start) if start < SLOT_COUNT => {
            let mut sampled: i64 = 0;
            ctx.ks.scan_from_slot(ctx.db, start, &mut |key, value| {
                sampled += 1;
                let type_ok =
                    type_name.is_none_or(|t| t.eq_ignore_ascii_case(value.header.kind.type_name().as_bytes()));
                let pattern_ok = pattern.is_none_or(|p| glob::matches(p, key, false));
                if type_ok && pattern_ok {
                    found.push(Frame::Bulk(Bytes::copy_from_slice(key)));
                }
                if sampled >= count {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })?
        }
        // Not a cursor this server hands out: nothing left to visit.
        _ => SLOT_COUNT,
    };
    let next_cursor = if next_slot >= SLOT_COUNT { 0 } else { next_slot };
    Ok(Frame::Array(vec![Frame::Bulk(Bytes::from(next_cursor.to_string())), Frame::Array(found)]))
}

/// `RANDOMKEY`: a live key, or nil. Picks a random slot, then a random key
/// of the first non-empty slot from there (wrapping around), so keys in
/// sparse slots are likelier than others: Redis's pick is not uniform
/// either.
fn randomkey(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Result<Frame, CommandError> {
    if ctx.ks.db_size(ctx.db)? == 0 {
        return Ok(Frame::Null);
    }
    let start = ctx.rng.gen_range(0..SLOT_COUNT);
    for from in [start, 0] {
        let mut slot_keys: Vec<Bytes> = Vec::new();
        ctx.ks.scan_from_slot(ctx.db, from, &mut |key, _| {
            slot_keys.push(Bytes::copy_from_slice(key));
            ControlFlow::Break(())
        })?;
        if !slot_keys.is_empty() {
            let pick = ctx.rng.gen_range(0..slot_keys.len());
            return Ok(Frame::Bulk(slot_keys.swap_remove(pick)));
        }
    }
    Ok(Frame::Null)
}

const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

/// # Format
/// ```text
/// OBJECT ENCODING|FREQ|IDLETIME|REFCOUNT key
/// OBJECT HELP
/// ```
/// One table entry dispatching on the subcommand, whose arity it checks
/// (errors name `object|<sub>` as Redis does). A missing key answers nil.
/// IDLETIME is the time since the key was last written: Redraft does not
/// track reads. FREQ needs an LFU eviction policy, which Redraft lacks.
fn object(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let Some(sub) = OBJECT_SUBCOMMANDS.iter().find(|s| s.name.as_bytes().eq_ignore_ascii_case(&args[1])) else {
        let mut shown = String::from_utf8_lossy(&args[1]).into_owned();
        if let Some((cut, _)) = shown.char_indices().nth(128) {
            shown.truncate(cut);
        }
        return Err(CommandError::UnknownSubcommand { command: "OBJECT".into(), sub: shown });
    };
    if !sub.arity_ok(args.len()) {
        return Err(CommandError::WrongArity(format!("object|{}", sub.name)));
    }
    if sub.name == "help" {
        return Ok(Frame::Array(OBJECT_HELP.iter().map(|l| Frame::Simple(Bytes::from_static(l.as_bytes()))).collect()));
    }
    let Some(value) = ctx.ks.get(ctx.db, &args[2])? else { return Ok(Frame::Null) };
    match sub.name {
        "encoding" => {
            let name = match value.header.kind {
                ValueKind::String => string::encoding_name(&value),
                ValueKind::List => super::list::encoding_name(&value),
                ValueKind::Hash => super::hash::encoding_name(&value),
                ValueKind::Set => super::set::encoding_name(&value),
                ValueKind::ZSet => super::zset::encoding_name(&value),
                ValueKind::Stream => super::stream::encoding_name(&value),
                ValueKind::Json => super::json::encoding_name(&value),
            };
            Ok(Frame::Bulk(Bytes::from_static(name.as_bytes())))
        }
        "refcount" => Ok(Frame::Integer(match value.header.kind {
            ValueKind::String => string::refcount(&value),
            _ => 1,
        })),
        "idletime" => {
            let idle_ms = ctx.ks.now_ms().saturating_sub(value.header.modified_at_ms);
            Ok(Frame::Integer(i64::try_from(idle_ms / 1000).unwrap_or(i64::MAX)))
        }
        _ => Err(CommandError::err(
            "An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when \
             switching between policies at runtime LRU and LFU data will take some time to adjust.",
        )),
    }
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
    CommandSpec::data(Group::Generic, name, arity, flags, keys, since, summary, handler)
}

const READ: Flags = Flags::READONLY;
const READ_FAST: Flags = Flags::READONLY.union(Flags::FAST);
const WRITE_FAST: Flags = Flags::WRITE.union(Flags::FAST);
const NO_KEYS: (i32, i32, i32) = (0, 0, 0);
const ONE_KEY: (i32, i32, i32) = (1, 1, 1);
const ALL_KEYS: (i32, i32, i32) = (1, -1, 1);
const TWO_KEYS: (i32, i32, i32) = (1, 2, 1);
const SUB_KEY: (i32, i32, i32) = (2, 2, 1);

/// OBJECT's subcommands, for arity checks and `COMMAND` output. Each points
/// at [`object`], which dispatches.
static OBJECT_SUBCOMMANDS: &[CommandSpec] = &[
    spec("encoding", 3, READ, SUB_KEY, "2.2.3", "Returns the internal encoding of a Redis object.", object),
    spec(
        "freq",
        3,
        READ,
        SUB_KEY,
        "4.0.0",
        "Returns the logarithmic access frequency counter of a Redis object.",
        object,
    ),
    spec("idletime", 3, READ, SUB_KEY, "2.2.3", "Returns the time since the last access to a Redis object.", object),
    spec("refcount", 3, READ, SUB_KEY, "2.2.3", "Returns the reference count of a value of a key.", object),
    spec(
        "help",
        2,
        Flags::LOADING.union(Flags::STALE),
        NO_KEYS,
        "6.2.0",
        "Returns helpful text about the different subcommands.",
        object,
    ),
];

pub static COMMANDS: &[CommandSpec] = &[
    spec("del", -2, Flags::WRITE, ALL_KEYS, "1.0.0", "Deletes one or more keys.", del),
    spec("unlink", -2, WRITE_FAST, ALL_KEYS, "4.0.0", "Asynchronously deletes one or more keys.", del),
    spec("exists", -2, READ_FAST, ALL_KEYS, "1.0.0", "Determines whether one or more keys exist.", exists),
    spec("type", 2, READ_FAST, ONE_KEY, "1.0.0", "Determines the type of value stored at a key.", type_),
    spec("rename", 3, Flags::WRITE, TWO_KEYS, "1.0.0", "Renames a key and overwrites the destination.", rename),
    spec(
        "renamenx",
        3,
        WRITE_FAST,
        TWO_KEYS,
        "1.0.0",
        "Renames a key only when the target key name doesn't exist.",
        renamenx,
    ),
    spec(
        "copy",
        -3,
        Flags::WRITE.union(Flags::DENYOOM),
        TWO_KEYS,
        "6.2.0",
        "Copies the value of a key to a new key.",
        copy,
    ),
    spec("move", 3, WRITE_FAST, ONE_KEY, "1.0.0", "Moves a key to another database.", move_),
    spec("keys", 2, READ, NO_KEYS, "1.0.0", "Returns all key names that match a pattern.", keys),
    spec("scan", -2, READ, NO_KEYS, "2.8.0", "Iterates over the key names in the database.", scan),
    spec("randomkey", 1, READ, NO_KEYS, "1.0.0", "Returns a random key name from the database.", randomkey),
    spec(
        "touch",
        -2,
        READ_FAST,
        ALL_KEYS,
        "3.2.1",
        "Returns the number of existing keys out of those specified after updating the time they were last accessed.",
        exists,
    ),
    CommandSpec {
        name: "object",
        arity: -2,
        // Redis gives the container no flags; data commands here must say
        // whether they write, and every subcommand reads.
        flags: Flags::READONLY,
        first_key: 0,
        last_key: 0,
        key_step: 0,
        group: Group::Generic,
        since: "2.2.3",
        summary: "A container for object introspection commands.",
        handler: Handler::Data(object),
        subcommands: OBJECT_SUBCOMMANDS,
    },
];

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use resp::Frame;

    use super::parse_cursor;
    use crate::commands::testing::{array, bulk, err, int, ok, TestKeyspace};

    fn simple(text: &'static str) -> Frame {
        Frame::Simple(Bytes::from_static(text.as_bytes()))
    }

    #[test]
    fn del_unlink_exists_and_touch_count_live_keys() {
        let mut ks = TestKeyspace::new();
        ks.exec(&["MSET", "a", "1", "b", "2", "c", "3"]);
        assert_eq!(ks.exec(&["EXISTS", "a", "a", "x"]), int(2), "a key named twice counts twice");
        assert_eq!(ks.exec(&["TOUCH", "a", "b", "x"]), int(2));
        assert_eq!(ks.exec(&["DEL", "a", "a", "x"]), int(1));
        assert_eq!(ks.exec(&["UNLINK", "b", "c"]), int(2));
        assert_eq!(ks.exec(&["DBSIZE"]), int(0));
        ks.exec(&["SET", "e", "1", "PX", "10"]);
        ks.advance_ms(10);
        assert_eq!(ks.exec(&["DEL", "e"]), int(0), "an expired key does not count");
    }

    #[test]
    fn type_names_the_kind_or_none() {
        let mut ks = TestKeyspace::new();
        ks.exec(&["SET", "s", "v"]);
        assert_eq!(ks.exec(&["TYPE", "s"]), simple("string"));
        assert_eq!(ks.exec(&["TYPE", "nokey"]), simple("none"));
    }

    #[test]
    fn rename_moves_the_value_with_its_ttl() {
        let mut ks = TestKeyspace::new();
        assert_eq!(ks.exec(&["RENAME", "a", "b"]), err("ERR no such key"));
        assert_eq!(ks.exec(&["RENAMENX", "a", "b"]), err("ERR no such key"));
        ks.exec(&["SET", "a", "1", "EX", "100"]);
        assert_eq!(ks.exec(&["RENAME", "a", "a"]), ok());
        assert_eq!(ks.exec(&["RENAMENX", "a", "a"]), int(0));
        assert_eq!(ks.exec(&["RENAME", "a", "b"]), ok());
        assert_eq!(ks.exec(&["EXISTS", "a"]), int(0));
        assert_eq!(ks.exec(&["GET", "b"]), bulk("1"));
        assert_eq!(ks.exec(&["TTL", "b"]), int(100));
        ks.exec(&["SET", "c", "2"]);
        assert_eq!(ks.exec(&["RENAMENX", "b", "c"]), int(0));
        assert_eq!(ks.exec(&["RENAME", "b", "c"]), ok(), "RENAME overwrites");
        assert_eq!(ks.exec(&["GET", "c"]), bulk("1"));
        assert_eq!(ks.exec(&["TTL", "c"]), int(100));
        assert_eq!(ks.exec(&["RENAMENX", "c", "d"]), int(1));
        assert_eq!(ks.exec(&["DBSIZE"]), int(1));
    }

    #[test]
    fn copy_respects_replace_and_target_databases() {
        let mut ks = TestKeyspace::new();
        assert_eq!(ks.exec(&["COPY", "a", "b"]), int(0));
        ks.exec(&["SET", "a", "1", "EX", "100"]);
        ks.exec(&["SET", "b", "2"]);
        assert_eq!(ks.exec(&["COPY", "a", "a"]), err("ERR source and destination objects are the same"));
        assert_eq!(ks.exec(&["COPY", "a", "a", "DB", "0"]), err("ERR source and destination objects are the same"));
        assert_eq!(ks.exec(&["COPY", "a", "b"]), int(0));
        assert_eq!(ks.exec(&["COPY", "a", "b", "REPLACE"]), int(1));
        assert_eq!(ks.exec(&["GET", "b"]), bulk("1"));
        assert_eq!(ks.exec(&["TTL", "b"]), int(100));
        assert_eq!(ks.exec(&["COPY", "a", "a", "DB", "2"]), int(1));
        assert_eq!(ks.exec(&["COPY", "a", "b", "DB", "16"]), err("ERR DB index is out of range"));
        assert_eq!(ks.exec(&["COPY", "a", "b", "DB", "-1"]), err("ERR DB index is out of range"));
        assert_eq!(ks.exec(&["COPY", "a", "b", "DB", "x"]), err("ERR value is not an integer or out of range"));
        assert_eq!(
            ks.exec(&["COPY", "a", "b", "DB", "9999999999"]),
            err("ERR value is out of range, value must between -2147483648 and 2147483647")
        );
        assert_eq!(ks.exec(&["COPY", "a", "b", "DB"]), err("ERR syntax error"));
        assert_eq!(ks.exec(&["COPY", "a", "b", "FOO"]), err("ERR syntax error"));
        ks.exec(&["SELECT", "2"]);
        assert_eq!(ks.exec(&["GET", "a"]), bulk("1"));
    }

    #[test]
    fn move_transfers_a_key_between_databases() {
        let mut ks = TestKeyspace::new();
        ks.exec(&["SET", "k", "v", "EX", "100"]);
        assert_eq!(ks.exec(&["MOVE", "k", "0"]), err("ERR source and destination objects are the same"));
        assert_eq!(ks.exec(&["MOVE", "k", "16"]), err("ERR DB index is out of range"));
        assert_eq!(ks.exec(&["MOVE", "k", "one"]), err("ERR value is not an integer or out of range"));
        assert_eq!(ks.exec(&["MOVE", "nokey", "1"]), int(0));
        assert_eq!(ks.exec(&["MOVE", "k", "1"]), int(1));
        assert_eq!(ks.exec(&["EXISTS", "k"]), int(0));
        ks.exec(&["SET", "k", "again"]);
        assert_eq!(ks.exec(&["MOVE", "k", "1"]), int(0), "present in the target");
        ks.exec(&["SELECT", "1"]);
        assert_eq!(ks.exec(&["GET", "k"]), bulk("v"));
        assert_eq!(ks.exec(&["TTL", "k"]), int(100));
    }

    #[test]
    fn keys_filters_by_glob_and_hides_expired_keys() {
        let mut ks = TestKeyspace::new();
        ks.exec(&["MSET", "hello", "1", "hallo", "2", "world", "3"]);
        ks.exec(&["SET", "hxllo", "4", "PX", "5"]);
        ks.advance_ms(5);
        let mut found = match ks.exec(&["KEYS", "h?llo"]) {
            Frame::Array(items) => items,
            other => panic!("KEYS replied {other:?}"),
        };
        found.sort_by_key(|f| format!("{f:?}"));
        assert_eq!(found, vec![bulk("hallo"), bulk("hello")]);
        assert_eq!(ks.exec(&["KEYS", "w*"]), array(vec![bulk("world")]));
        assert_eq!(ks.exec(&["KEYS", "nothing*"]), array(vec![]));
    }

    #[test]
    fn scan_cursors_parse_like_redis_7_2() {
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551616"), None);
        assert_eq!(parse_cursor(b"-1"), None, "7.2 refuses negative cursors");
        assert_eq!(parse_cursor(b"abc"), None);
        assert_eq!(parse_cursor(b"007"), Some(7));
        assert_eq!(parse_cursor(b""), None);
    }

    #[test]
    fn scan_walks_every_key_exactly_once_by_slot() {
        let mut ks = TestKeyspace::new();
        for i in 0..200 {
            ks.exec(&["SET", &format!("key:{i}"), "v"]);
        }
        let mut seen = std::collections::BTreeSet::new();
        let mut cursor = "0".to_string();
        let mut calls = 0;
        loop {
            let reply = ks.exec(&["SCAN", &cursor, "COUNT", "7"]);
            let Frame::Array(parts) = reply else { panic!("SCAN replied {reply:?}") };
            let (Frame::Bulk(next), Frame::Array(keys)) = (&parts[0], &parts[1]) else { panic!("bad shape") };
            for key in keys {
                assert!(seen.insert(format!("{key:?}")), "{key:?} returned twice");
            }
            calls += 1;
            cursor = String::from_utf8_lossy(next).into_owned();
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 200);
        assert!(calls > 10, "COUNT bounds each call");
    }

    #[test]
    fn scan_options_filter_and_validate() {
        let mut ks = TestKeyspace::new();
        ks.exec(&["MSET", "one", "1", "two", "2"]);
        let one = array(vec![bulk("0"), array(vec![bulk("one")])]);
        assert_eq!(ks.exec(&["SCAN", "0", "MATCH", "o*", "COUNT", "1000"]), one);
        assert_eq!(ks.exec(&["SCAN", "0", "TYPE", "list"]), array(vec![bulk("0"), array(vec![])]));
        assert_eq!(ks.exec(&["SCAN", "0", "TYPE", "nosuchtype"]), array(vec![bulk("0"), array(vec![])]));
        assert_eq!(ks.exec(&["SCAN", "16384"]), array(vec![bulk("0"), array(vec![])]));
        assert_eq!(ks.exec(&["SCAN", "0", "COUNT", "0"]), err("ERR syntax error"));
        assert_eq!(ks.exec(&["SCAN", "0", "COUNT", "x"]), err("ERR value is not an integer or out of range"));
        assert_eq!(ks.exec(&["SCAN", "0", "MATCH"]), err("ERR syntax error"));
        assert_eq!(ks.exec(&["SCAN", "x"]), err("ERR invalid cursor"));
    }

    #[test]
    fn randomkey_returns_nil_or_a_live_key() {
        let mut ks = TestKeyspace::new();
        assert_eq!(ks.exec(&["RANDOMKEY"]), Frame::Null);
        ks.exec(&["SET", "only", "v"]);
        assert_eq!(ks.exec(&["RANDOMKEY"]), bulk("only"));
        ks.exec(&["SET", "gone", "v", "PX", "1"]);
        ks.advance_ms(1);
        for _ in 0..20 {
            assert_eq!(ks.exec(&["RANDOMKEY"]), bulk("only"));
        }
        ks.exec(&["DEL", "only"]);
        assert_eq!(ks.exec(&["RANDOMKEY"]), Frame::Null, "only expired keys left");
    }

    #[test]
    fn object_dispatches_subcommands_with_their_own_arity() {
        let mut ks = TestKeyspace::new();
        assert_eq!(ks.exec(&["OBJECT", "ENCODING", "nokey"]), Frame::Null);
        assert_eq!(ks.exec(&["OBJECT", "FREQ", "nokey"]), Frame::Null);
        ks.exec(&["SET", "k", "v"]);
        assert_eq!(ks.exec(&["OBJECT", "encoding", "k"]), bulk("embstr"));
        assert!(matches!(ks.exec(&["OBJECT", "FREQ", "k"]), Frame::Error(e) if e.starts_with(b"ERR An LFU maxmemory")));
        ks.advance_ms(5_999);
        assert_eq!(ks.exec(&["OBJECT", "IDLETIME", "k"]), int(5));
        assert_eq!(
            ks.exec(&["OBJECT", "ENCODING"]),
            err("ERR wrong number of arguments for 'object|encoding' command")
        );
        assert_eq!(ks.exec(&["OBJECT", "HELP", "x"]), err("ERR wrong number of arguments for 'object|help' command"));
        assert_eq!(ks.exec(&["OBJECT", "foo"]), err("ERR unknown subcommand 'foo'. Try OBJECT HELP."));
        assert_eq!(ks.exec(&["OBJECT"]), err("ERR wrong number of arguments for 'object' command"));
        let Frame::Array(help) = ks.exec(&["OBJECT", "HELP"]) else { panic!("help is an array") };
        assert_eq!(help.len(), 15);
        assert_eq!(help[0], simple("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"));
    }
}
