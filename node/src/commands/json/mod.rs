//! A RedisJSON-compatible subset: JSON.SET, GET, DEL/FORGET, TYPE,
//! NUMINCRBY, STRLEN, ARRAPPEND, ARRLEN, OBJKEYS and MGET.
//!
//! A document is one value whose payload is its compact JSON text: RedisJSON
//! documents are bounded by the RESP request size, and every command reads
//! or rewrites the document as a whole, as RedisJSON's own do.
//!
//! Reply shapes follow RedisJSON 2.x: a legacy path (`.a`, `a[0]`, `.`)
//! answers with one value and errors when nothing matches; a JSONPath
//! (`$...`) answers with an array over every match, `null` where a match
//! has the wrong type.

mod path;

use bytes::Bytes;
use resp::Frame;
use serde_json::{Number, Value};
use storage::{StoredValue, ValueHeader, ValueKind};

use self::path::{resolve, resolve_mut, Elem, Path};
use super::expire::opt_is;
use super::{CommandSpec, Ctx, Flags, Group};
use crate::error::CommandError;

const NO_KEY: &str = "could not perform this operation on a key that doesn't exist";

/// OBJECT ENCODING: RedisJSON is a module type, which Redis reports as "raw".
pub fn encoding_name(_value: &StoredValue) -> &'static str {
    "raw"
}

/// A loaded document and the expiry to keep when it is written back.
struct Doc {
    root: Value,
    expire_at_ms: u64,
}

fn load(ctx: &Ctx<'_>, key: &[u8]) -> Result<Option<Doc>, CommandError> {
    let Some(value) = ctx.ks.get(ctx.db, key)? else { return Ok(None) };
    if value.header.kind != ValueKind::Json {
        return Err(CommandError::WrongType);
    }
    let root = serde_json::from_slice(&value.payload)
        .map_err(|e| CommandError::Storage(format!("corrupt JSON document: {e}")))?;
    Ok(Some(Doc { root, expire_at_ms: value.header.expire_at_ms }))
}

fn store(ctx: &mut Ctx<'_>, key: &[u8], root: &Value, expire_at_ms: u64) -> Result<(), CommandError> {
    let payload = serde_json::to_vec(root).map_err(|e| CommandError::err(e.to_string()))?;
    let value = StoredValue { header: ValueHeader::new(ValueKind::Json, expire_at_ms), payload: payload.into() };
    ctx.ks.put(ctx.db, key, value)?;
    Ok(())
}

fn parse_json(raw: &[u8]) -> Result<Value, CommandError> {
    serde_json::from_slice(raw).map_err(|e| CommandError::err(e.to_string()))
}

fn compact(value: &Value) -> String {
    // Serializing a Value cannot fail: its keys are strings.
    serde_json::to_string(value).unwrap_or_default()
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn path_missing(path: &Path) -> CommandError {
    CommandError::err(format!("Path '{}' does not exist", path.original))
}

fn expected(what: &str, found: &Value) -> CommandError {
    CommandError::Prefixed(format!(
        "WRONGTYPE wrong type of path value - expected {what} but found {}",
        type_name(found)
    ))
}

fn optional_path(args: &[Bytes], at: usize) -> Result<Path, CommandError> {
    match args.get(at) {
        Some(raw) => Path::parse(raw),
        None => Ok(Path::legacy_root()),
    }
}

/// `JSON.SET key path value [NX|XX]`
fn set(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let key = &args[1];
    let path = Path::parse(&args[2])?;
    let value = parse_json(&args[3])?;
    let (mut nx, mut xx) = (false, false);
    for opt in &args[4..] {
        if opt_is(opt, "nx") {
            nx = true;
        } else if opt_is(opt, "xx") {
            xx = true;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    if nx && xx {
        return Err(CommandError::Syntax);
    }
    let Some(mut doc) = load(ctx, key)? else {
        if !path.is_root() {
            return Err(CommandError::err("new objects must be created at the root"));
        }
        if xx {
            return Ok(Frame::Null);
        }
        store(ctx, key, &value, 0)?;
        return Ok(Frame::ok());
    };
    let matches = path.select(&doc.root);
    if !matches.is_empty() {
        if nx {
            return Ok(Frame::Null);
        }
        if path.is_root() {
            doc.root = value;
        } else {
            for loc in &matches {
                if let Some(target) = resolve_mut(&mut doc.root, loc) {
                    *target = value.clone();
                }
            }
        }
    } else {
        // Only a missing last member can be created, in each matching parent object.
        let Some((parent, member)) = path.parent_and_key() else { return Ok(Frame::Null) };
        if xx {
            return Ok(Frame::Null);
        }
        let mut created = false;
        for loc in parent.select(&doc.root) {
            if let Some(Value::Object(map)) = resolve_mut(&mut doc.root, &loc) {
                map.insert(member.to_string(), value.clone());
                created = true;
            }
        }
        if !created {
            return Ok(Frame::Null);
        }
    }
    store(ctx, key, &doc.root, doc.expire_at_ms)?;
    Ok(Frame::ok())
}

/// INDENT / NEWLINE / SPACE of JSON.GET.
#[derive(Default)]
struct Format {
    indent: String,
    newline: String,
    space: String,
}

impl Format {
    fn is_compact(&self) -> bool {
        self.indent.is_empty() && self.newline.is_empty() && self.space.is_empty()
    }

    fn write(&self, value: &Value, level: usize, out: &mut String) {
        if self.is_compact() {
            out.push_str(&compact(value));
            return;
        }
        let pad = |out: &mut String, level: usize| {
            out.push_str(&self.newline);
            for _ in 0..level {
                out.push_str(&self.indent);
            }
        };
        match value {
            Value::Array(items) if !items.is_empty() => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    pad(out, level + 1);
                    self.write(item, level + 1, out);
                }
                pad(out, level);
                out.push(']');
            }
            Value::Object(map) if !map.is_empty() => {
                out.push('{');
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    pad(out, level + 1);
                    out.push_str(&compact(&Value::String(k.clone())));
                    out.push(':');
                    out.push_str(&self.space);
                    self.write(v, level + 1, out);
                }
                pad(out, level);
                out.push('}');
            }
            _ => out.push_str(&compact(value)),
        }
    }

    fn render(&self, value: &Value) -> String {
        let mut out = String::new();
        self.write(value, 0, &mut out);
        out
    }
}

/// The value a path contributes to JSON.GET/JSON.MGET: the first match for a
/// legacy path (`None` if there is none), the array of matches otherwise.
fn get_value(root: &Value, path: &Path) -> Option<Value> {
    let matches = path.select(root);
    if path.legacy {
        matches.first().and_then(|loc| resolve(root, loc)).cloned()
    } else {
        Some(Value::Array(matches.iter().filter_map(|loc| resolve(root, loc)).cloned().collect()))
    }
}

/// `JSON.GET key [INDENT s] [NEWLINE s] [SPACE s] [path ...]`
fn get(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let mut format = Format::default();
    let mut paths = Vec::new();
    let mut at = 2;
    while at < args.len() {
        let arg = &args[at];
        let slot = if opt_is(arg, "indent") {
            Some(&mut format.indent)
        } else if opt_is(arg, "newline") {
            Some(&mut format.newline)
        } else if opt_is(arg, "space") {
            Some(&mut format.space)
        } else {
            None
        };
        match slot {
            Some(slot) => {
                let Some(text) = args.get(at + 1) else { return Err(CommandError::Syntax) };
                *slot = String::from_utf8_lossy(text).into_owned();
                at += 2;
            }
            None if opt_is(arg, "noescape") => at += 1,
            None => {
                paths.push(Path::parse(arg)?);
                at += 1;
            }
        }
    }
    let Some(doc) = load(ctx, &args[1])? else { return Ok(Frame::Null) };
    if paths.is_empty() {
        paths.push(Path::legacy_root());
    }
    let reply = if paths.len() == 1 {
        get_value(&doc.root, &paths[0]).ok_or_else(|| path_missing(&paths[0]))?
    } else {
        // Several paths: an object keyed by path; with any JSONPath among
        // them every entry is that path's array of matches.
        let legacy = paths.iter().all(|p| p.legacy);
        let mut map = serde_json::Map::new();
        for path in &paths {
            let value = if legacy {
                get_value(&doc.root, path).ok_or_else(|| path_missing(path))?
            } else {
                let as_jsonpath = Path { legacy: false, ..path.clone() };
                get_value(&doc.root, &as_jsonpath).unwrap_or(Value::Array(Vec::new()))
            };
            map.insert(path.original.clone(), value);
        }
        Value::Object(map)
    };
    Ok(Frame::bulk(format.render(&reply)))
}

/// `JSON.MGET key [key ...] path`: one bulk per key, nil for a missing key,
/// a key of another type or (legacy path) a missing path.
fn mget(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let path = Path::parse(&args[args.len() - 1])?;
    let mut out = Vec::with_capacity(args.len() - 2);
    for key in &args[1..args.len() - 1] {
        let doc = match load(ctx, key) {
            Ok(doc) => doc,
            Err(CommandError::WrongType) => None,
            Err(e) => return Err(e),
        };
        let value = doc.and_then(|doc| get_value(&doc.root, &path));
        out.push(value.map_or(Frame::Null, |v| Frame::bulk(compact(&v))));
    }
    Ok(Frame::Array(out))
}

/// `JSON.DEL key [path]` (and JSON.FORGET): the number of values deleted.
fn del(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let key = &args[1];
    let path = match args.get(2) {
        Some(raw) => Path::parse(raw)?,
        None => Path { original: "$".into(), legacy: false, steps: Vec::new() },
    };
    if args.len() > 3 {
        return Err(CommandError::WrongArity(String::from_utf8_lossy(&args[0]).to_ascii_lowercase()));
    }
    let Some(mut doc) = load(ctx, key)? else { return Ok(Frame::Integer(0)) };
    if path.is_root() {
        ctx.ks.delete(ctx.db, key)?;
        return Ok(Frame::Integer(1));
    }
    let mut matches = path.select(&doc.root);
    // Deepest and highest indexes first, so earlier removals leave the
    // remaining locations valid.
    matches.sort();
    matches.dedup();
    matches.reverse();
    let mut deleted = 0;
    for loc in &matches {
        let Some((last, parent)) = loc.split_last() else { continue };
        let removed = match (resolve_mut(&mut doc.root, parent), last) {
            (Some(Value::Object(map)), Elem::Key(k)) => map.shift_remove(k).is_some(),
            (Some(Value::Array(items)), Elem::Index(i)) if *i < items.len() => {
                items.remove(*i);
                true
            }
            _ => false,
        };
        deleted += i64::from(removed);
    }
    if deleted > 0 {
        store(ctx, key, &doc.root, doc.expire_at_ms)?;
    }
    Ok(Frame::Integer(deleted))
}

/// `JSON.TYPE key [path]`
fn type_(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let path = optional_path(args, 2)?;
    if args.len() > 3 {
        return Err(CommandError::WrongArity("json.type".into()));
    }
    let Some(doc) = load(ctx, &args[1])? else { return Ok(Frame::Null) };
    let types =
        path.select(&doc.root).iter().filter_map(|loc| resolve(&doc.root, loc)).map(type_name).collect::<Vec<_>>();
    if path.legacy {
        // A legacy path answers with a status reply, JSONPath with bulk strings.
        return Ok(types.first().map_or(Frame::Null, |t| Frame::simple(*t)));
    }
    Ok(Frame::Array(types.into_iter().map(Frame::bulk).collect()))
}

/// Runs `per_match` on every match of a read command's path and shapes the
/// reply: a JSONPath gets an array (nil where `per_match` declines); a legacy
/// path gets the first match's answer, or `wrong` for a mismatched type.
fn read_each(
    ctx: &Ctx<'_>,
    args: &[Bytes],
    name: &str,
    wanted: &str,
    per_match: impl Fn(&Value) -> Option<Frame>,
) -> Result<Frame, CommandError> {
    let path = optional_path(args, 2)?;
    if args.len() > 3 {
        return Err(CommandError::WrongArity(name.into()));
    }
    let Some(doc) = load(ctx, &args[1])? else { return Ok(Frame::Null) };
    let values: Vec<&Value> = path.select(&doc.root).iter().filter_map(|loc| resolve(&doc.root, loc)).collect();
    if !path.legacy {
        return Ok(Frame::Array(values.into_iter().map(|v| per_match(v).unwrap_or(Frame::Null)).collect()));
    }
    let Some(first) = values.first() else { return Err(path_missing(&path)) };
    per_match(first).ok_or_else(|| expected(wanted, first))
}

fn len_frame(n: usize) -> Frame {
    Frame::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

/// `JSON.STRLEN key [path]`: lengths in bytes, as RedisJSON counts them.
fn strlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    read_each(ctx, args, "json.strlen", "string", |v| v.as_str().map(|s| len_frame(s.len())))
}

/// `JSON.ARRLEN key [path]`
fn arrlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    read_each(ctx, args, "json.arrlen", "array", |v| v.as_array().map(|a| len_frame(a.len())))
}

/// `JSON.OBJKEYS key [path]`: member names in insertion order.
fn objkeys(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    read_each(ctx, args, "json.objkeys", "object", |v| {
        v.as_object().map(|m| Frame::Array(m.keys().map(|k| Frame::bulk(k.clone())).collect()))
    })
}

/// Applies `update` to every match of a write command's path (missing key:
/// an error), stores the document if anything changed and returns the
/// per-match results (`None` for a mismatched type) with the matched values'
/// types.
fn write_each(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    path: &Path,
    mut update: impl FnMut(&mut Value) -> Result<Option<Value>, CommandError>,
) -> Result<Vec<(Option<Value>, &'static str)>, CommandError> {
    let Some(mut doc) = load(ctx, key)? else { return Err(CommandError::err(NO_KEY)) };
    let mut results = Vec::new();
    for loc in path.select(&doc.root) {
        let Some(target) = resolve_mut(&mut doc.root, &loc) else { continue };
        let found = type_name(target);
        results.push((update(target)?, found));
    }
    if results.iter().any(|(r, _)| r.is_some()) {
        store(ctx, key, &doc.root, doc.expire_at_ms)?;
    }
    Ok(results)
}

/// Shapes a write command's results: a JSONPath's as `as_array` wants them,
/// a legacy path's as the last match's value (RedisJSON reports the last).
fn legacy_result(
    path: &Path,
    results: Vec<(Option<Value>, &'static str)>,
    wanted: &str,
) -> Result<Value, CommandError> {
    let Some((last, found)) = results.into_iter().last() else { return Err(path_missing(path)) };
    last.ok_or_else(|| {
        CommandError::Prefixed(format!("WRONGTYPE wrong type of path value - expected {wanted} but found {found}"))
    })
}

/// `JSON.NUMINCRBY key path number`
fn numincrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let path = Path::parse(&args[2])?;
    // Parsed as a JSON number, so a quoted or malformed increment gets the JSON parser's error.
    let increment: Number = serde_json::from_slice(&args[3]).map_err(|e| CommandError::err(e.to_string()))?;
    let results = write_each(ctx, &args[1], &path, |target| {
        let Value::Number(current) = target else { return Ok(None) };
        let sum = add(current, &increment)?;
        *target = Value::Number(sum.clone());
        Ok(Some(Value::Number(sum)))
    })?;
    let reply = if path.legacy {
        legacy_result(&path, results, "a number")?
    } else {
        Value::Array(results.into_iter().map(|(r, _)| r.unwrap_or(Value::Null)).collect())
    };
    Ok(Frame::bulk(compact(&reply)))
}

/// Integer plus integer stays an integer (falling back to a float on
/// overflow, as RedisJSON does); anything else is a float.
fn add(current: &Number, increment: &Number) -> Result<Number, CommandError> {
    if let (Some(a), Some(b)) = (current.as_i64(), increment.as_i64()) {
        if let Some(sum) = a.checked_add(b) {
            return Ok(Number::from(sum));
        }
    }
    let sum = current.as_f64().unwrap_or(0.0) + increment.as_f64().unwrap_or(0.0);
    Number::from_f64(sum).ok_or_else(|| CommandError::err("result is not a number"))
}

/// `JSON.ARRAPPEND key path value [value ...]`: the new lengths.
fn arrappend(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let path = Path::parse(&args[2])?;
    let values = args[3..].iter().map(|raw| parse_json(raw)).collect::<Result<Vec<_>, _>>()?;
    let results = write_each(ctx, &args[1], &path, |target| {
        let Value::Array(items) = target else { return Ok(None) };
        items.extend(values.iter().cloned());
        Ok(Some(Value::from(items.len())))
    })?;
    if path.legacy {
        let len = legacy_result(&path, results, "array")?;
        return Ok(Frame::Integer(len.as_i64().unwrap_or(0)));
    }
    Ok(Frame::Array(
        results.into_iter().map(|(r, _)| r.and_then(|v| v.as_i64()).map_or(Frame::Null, Frame::Integer)).collect(),
    ))
}

const fn spec(
    name: &'static str,
    arity: i32,
    flags: Flags,
    keys: (i32, i32, i32),
    summary: &'static str,
    handler: super::DataHandler,
) -> CommandSpec {
    CommandSpec::data(Group::Json, name, arity, flags, keys, "1.0.0", summary, handler)
}

const WRITE: Flags = Flags::WRITE.union(Flags::DENYOOM);
const READ: Flags = Flags::READONLY;

pub static COMMANDS: &[CommandSpec] = &[
    spec("json.set", -4, WRITE, (1, 1, 1), "Sets or updates the JSON value at a path", set),
    spec("json.get", -2, READ, (1, 1, 1), "Gets the value at one or more paths in JSON serialized form", get),
    spec("json.mget", -3, READ, (1, -2, 1), "Returns the values at a path from one or more keys", mget),
    spec("json.del", -2, Flags::WRITE, (1, 1, 1), "Deletes a value", del),
    spec("json.forget", -2, Flags::WRITE, (1, 1, 1), "Deletes a value", del),
    spec("json.type", -2, READ, (1, 1, 1), "Returns the type of the JSON value at path", type_),
    spec("json.numincrby", 4, WRITE, (1, 1, 1), "Increments the numeric value at path by a value", numincrby),
    spec("json.strlen", -2, READ, (1, 1, 1), "Returns the length of the JSON String at path in key", strlen),
    spec("json.arrappend", -4, WRITE, (1, 1, 1), "Append one or more json values into the array at path", arrappend),
    spec("json.arrlen", -2, READ, (1, 1, 1), "Returns the length of the array at path", arrlen),
    spec("json.objkeys", -2, READ, (1, 1, 1), "Returns the JSON keys of the object at path", objkeys),
];

#[cfg(test)]
mod tests;
