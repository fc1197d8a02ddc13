//! The GEO commands, with Redis 7.2's replies and errors.
//!
//! As in Redis, a geospatial index is a sorted set whose scores are 52-bit
//! geohashes: GEOADD is ZADD with computed scores, and every Z* command
//! works on the same key. The commands are built on the sorted set API of
//! [`crate::commands::zset::store`].
//!
//! # Layout
//! - [`geohash`]: Redis's geohash encoding, decoding, search boxes,
//!   distances, and how distances and coordinates are printed.
//! - [`search`]: GEOSEARCH, GEOSEARCHSTORE and the GEORADIUS family.
//! - this file: the table, GEOADD, GEODIST, GEOHASH, GEOPOS and the argument
//!   helpers they share with the searches.

pub(crate) mod geohash;
pub(crate) mod search;
#[cfg(test)]
mod tests;

use bytes::Bytes;
use resp::Frame;

use super::expire::opt_is;
use super::zset::score::parse_score;
use super::zset::store::ZSet;
use super::{CommandSpec, Ctx, DataHandler, Flags, Group};
use crate::error::CommandError;

const fn spec(
    name: &'static str,
    arity: i32,
    flags: Flags,
    keys: (i32, i32, i32),
    since: &'static str,
    summary: &'static str,
    handler: DataHandler,
) -> CommandSpec {
    CommandSpec::data(Group::Geo, name, arity, flags, keys, since, summary, handler)
}

const READ: Flags = Flags::READONLY;
const WRITE_DENYOOM: Flags = Flags::WRITE.union(Flags::DENYOOM);
const ONE_KEY: (i32, i32, i32) = (1, 1, 1);

/// Flags and key positions are what Redis's `COMMAND INFO` reports (the
/// STORE keys of GEORADIUS and GEORADIUSBYMEMBER are found by
/// `movable_keys`); summaries are Redis 7.2's.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "geoadd",
        -5,
        WRITE_DENYOOM,
        ONE_KEY,
        "3.2.0",
        "Adds one or more members to a geospatial index. The key is created if it doesn't exist.",
        geoadd,
    ),
    spec(
        "geodist",
        -4,
        READ,
        ONE_KEY,
        "3.2.0",
        "Returns the distance between two members of a geospatial index.",
        geodist,
    ),
    spec(
        "geohash",
        -2,
        READ,
        ONE_KEY,
        "3.2.0",
        "Returns members from a geospatial index as geohash strings.",
        geohash_cmd,
    ),
    spec(
        "geopos",
        -2,
        READ,
        ONE_KEY,
        "3.2.0",
        "Returns the longitude and latitude of members from a geospatial index.",
        geopos,
    ),
    spec(
        "georadius",
        -6,
        WRITE_DENYOOM,
        ONE_KEY,
        "3.2.0",
        "Queries a geospatial index for members within a distance from a coordinate, optionally stores the result.",
        search::georadius,
    ),
    spec(
        "georadius_ro",
        -6,
        READ,
        ONE_KEY,
        "3.2.10",
        "Returns members from a geospatial index that are within a distance from a coordinate.",
        search::georadius_ro,
    ),
    spec(
        "georadiusbymember",
        -5,
        WRITE_DENYOOM,
        ONE_KEY,
        "3.2.0",
        "Queries a geospatial index for members within a distance from a member, optionally stores the result.",
        search::georadiusbymember,
    ),
    spec(
        "georadiusbymember_ro",
        -5,
        READ,
        ONE_KEY,
        "3.2.10",
        "Returns members from a geospatial index that are within a distance from a member.",
        search::georadiusbymember_ro,
    ),
    spec(
        "geosearch",
        -7,
        READ,
        ONE_KEY,
        "6.2.0",
        "Queries a geospatial index for members inside an area of a box or a circle.",
        search::geosearch,
    ),
    spec(
        "geosearchstore",
        -8,
        WRITE_DENYOOM,
        (1, 2, 1),
        "6.2.0",
        "Queries a geospatial index for members inside an area of a box or a circle, optionally stores the result.",
        search::geosearchstore,
    ),
];

/// `extractLongLatOrReply`: a longitude and a latitude within Redis's
/// ranges.
pub(crate) fn extract_long_lat(lon: &[u8], lat: &[u8]) -> Result<[f64; 2], CommandError> {
    let x = parse_score(lon).ok_or(CommandError::NotFloat)?;
    let y = parse_score(lat).ok_or(CommandError::NotFloat)?;
    if !(geohash::LONG_MIN..=geohash::LONG_MAX).contains(&x) || !(geohash::LAT_MIN..=geohash::LAT_MAX).contains(&y) {
        return Err(CommandError::err(format!("invalid longitude,latitude pair {x:.6},{y:.6}")));
    }
    Ok([x, y])
}

/// `extractUnitOrReply`: meters per unit.
pub(crate) fn extract_unit(unit: &[u8]) -> Result<f64, CommandError> {
    if opt_is(unit, "m") {
        Ok(1.0)
    } else if opt_is(unit, "km") {
        Ok(1000.0)
    } else if opt_is(unit, "ft") {
        Ok(0.3048)
    } else if opt_is(unit, "mi") {
        Ok(1609.34)
    } else {
        Err(CommandError::err("unsupported unit provided. please use M, KM, FT, MI"))
    }
}

/// `extractDistanceOrReply`: (meters per unit, radius).
pub(crate) fn extract_distance(radius: &[u8], unit: &[u8]) -> Result<(f64, f64), CommandError> {
    let distance = parse_score(radius).ok_or_else(|| CommandError::err("need numeric radius"))?;
    if distance < 0.0 {
        return Err(CommandError::err("radius cannot be negative"));
    }
    Ok((extract_unit(unit)?, distance))
}

/// The decoded position of `member`, `None` if it is not in the set.
pub(crate) fn member_position(ctx: &Ctx<'_>, zset: &ZSet, member: &[u8]) -> Result<Option<[f64; 2]>, CommandError> {
    Ok(zset.score(ctx, member)?.map(geohash::decode_score))
}

/// `GEOADD key [NX | XX] [CH] longitude latitude member [...]`: ZADD with
/// scores computed from the coordinates, as Redis runs it.
fn geoadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let (mut nx, mut xx) = (false, false);
    let mut longidx = 2;
    while let Some(opt) = args.get(longidx) {
        if opt_is(opt, "nx") {
            nx = true;
        } else if opt_is(opt, "xx") {
            xx = true;
        } else if !opt_is(opt, "ch") {
            break;
        }
        longidx += 1;
    }
    let triples = &args[longidx..];
    if !triples.len().is_multiple_of(3) || (xx && nx) {
        return Err(CommandError::Syntax);
    }
    let mut zadd_args = Vec::with_capacity(longidx + triples.len() / 3 * 2);
    zadd_args.push(Bytes::from_static(b"zadd"));
    zadd_args.extend(args[1..longidx].iter().cloned());
    // Every pair is checked before anything is written.
    for triple in triples.chunks(3) {
        let [lon, lat] = extract_long_lat(&triple[0], &triple[1])?;
        let score = geohash::score_of(lon, lat).unwrap_or(0);
        zadd_args.push(Bytes::from(score.to_string()));
        zadd_args.push(triple[2].clone());
    }
    super::zset::write::zadd(ctx, &zadd_args)
}

/// `GEODIST key member1 member2 [M | KM | FT | MI]`
fn geodist(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let to_meter = match args.len() {
        5 => extract_unit(&args[4])?,
        n if n > 5 => return Err(CommandError::Syntax),
        _ => 1.0,
    };
    let Some(zset) = ZSet::load(ctx, &args[1])? else { return Ok(Frame::Null) };
    let (Some(a), Some(b)) = (member_position(ctx, &zset, &args[2])?, member_position(ctx, &zset, &args[3])?) else {
        return Ok(Frame::Null);
    };
    let meters = geohash::distance(a[0], a[1], b[0], b[1]);
    Ok(Frame::Bulk(Bytes::from(geohash::format_distance(meters / to_meter))))
}

/// `GEOHASH key [member ...]`
fn geohash_cmd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let zset = ZSet::load(ctx, &args[1])?;
    let mut out = Vec::with_capacity(args.len() - 2);
    for member in &args[2..] {
        let score = match &zset {
            Some(zset) => zset.score(ctx, member)?,
            None => None,
        };
        out.push(score.map_or(Frame::Null, |s| Frame::Bulk(Bytes::copy_from_slice(&geohash::geohash_string(s)))));
    }
    Ok(Frame::Array(out))
}

/// `GEOPOS key [member ...]`
fn geopos(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    let zset = ZSet::load(ctx, &args[1])?;
    let mut out = Vec::with_capacity(args.len() - 2);
    for member in &args[2..] {
        let position = match &zset {
            Some(zset) => member_position(ctx, zset, member)?,
            None => None,
        };
        out.push(position.map_or(Frame::NullArray, search::coordinates_frame));
    }
    Ok(Frame::Array(out))
}
