//! GEOSEARCH, GEOSEARCHSTORE and the GEORADIUS family: Redis's
//! `georadiusGeneric`, with its argument parsing order (which decides
//! which error a bad call gets), its box-by-box scan of the sorted set and
//! its sorts.
//!
//! Results without ASC/DESC come in scan order: box by box (centre, N, S,
//! E, W, NE, NW, SE, SW), each box in score order. Sorting by distance uses
//! glibc's merge sort (stable) when every result is returned, and Redis's
//! partial quicksort `pqsort` when COUNT cuts the list, so ties come out as
//! Redis orders them.

use std::ops::ControlFlow;

use bytes::Bytes;
use resp::Frame;

use super::geohash::{self, Shape, ShapeKind};
use super::{extract_distance, extract_long_lat, extract_unit, member_position};
use crate::commands::args::int_arg;
use crate::commands::expire::opt_is;
use crate::commands::zset::score::ScoreRange;
use crate::commands::zset::store::{encoding, ZSet};
use crate::commands::Ctx;
use crate::error::CommandError;

/// Which command of the family is running (Redis's flag combinations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Variant {
    Radius,
    RadiusRo,
    ByMember,
    ByMemberRo,
    Search,
    SearchStore,
}

impl Variant {
    fn by_coords(self) -> bool {
        matches!(self, Variant::Radius | Variant::RadiusRo)
    }

    fn by_member(self) -> bool {
        matches!(self, Variant::ByMember | Variant::ByMemberRo)
    }

    fn no_store(self) -> bool {
        matches!(self, Variant::RadiusRo | Variant::ByMemberRo)
    }

    fn is_search(self) -> bool {
        matches!(self, Variant::Search | Variant::SearchStore)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// A point found by the scan (`geoPoint`).
#[derive(Debug, Clone)]
struct Point {
    member: Bytes,
    longitude: f64,
    latitude: f64,
    dist: f64,
    score: f64,
}

pub(crate) fn georadius(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    generic(ctx, args, 1, Variant::Radius)
}

pub(crate) fn georadius_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    generic(ctx, args, 1, Variant::RadiusRo)
}

pub(crate) fn georadiusbymember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    generic(ctx, args, 1, Variant::ByMember)
}

pub(crate) fn georadiusbymember_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    generic(ctx, args, 1, Variant::ByMemberRo)
}

pub(crate) fn geosearch(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    generic(ctx, args, 1, Variant::Search)
}

pub(crate) fn geosearchstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    generic(ctx, args, 2, Variant::SearchStore)
}

fn decode_member_error() -> CommandError {
    CommandError::err("could not decode requested zset member")
}

/// Redis's `georadiusGeneric`.
fn generic(ctx: &mut Ctx<'_>, args: &[Bytes], src: usize, variant: Variant) -> Result<Frame, CommandError> {
    let zset = ZSet::load(ctx, &args[src])?;
    let mut shape = Shape { xy: [0.0, 0.0], conversion: 0.0, kind: ShapeKind::Circle { radius: 0.0 } };
    let mut store_key: Option<&Bytes> = None;
    let mut store_dist = false;
    let base_args = if variant.by_coords() {
        shape.xy = extract_long_lat(&args[2], &args[3])?;
        let (conversion, radius) = extract_distance(&args[4], &args[5])?;
        shape.conversion = conversion;
        shape.kind = ShapeKind::Circle { radius };
        6
    } else if variant.by_member() {
        // Without the key the member and radius are never looked at: only
        // the options are parsed, to choose between the two empty replies.
        if let Some(zset) = &zset {
            shape.xy = member_position(ctx, zset, &args[2])?.ok_or_else(decode_member_error)?;
            let (conversion, radius) = extract_distance(&args[3], &args[4])?;
            shape.conversion = conversion;
            shape.kind = ShapeKind::Circle { radius };
        }
        5
    } else if variant == Variant::SearchStore {
        store_key = Some(&args[1]);
        3
    } else {
        2
    };

    let (mut withdist, mut withhash, mut withcoords) = (false, false, false);
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let mut sort = Sort::None;
    let mut any = false;
    let mut count: i64 = 0;
    let rest = &args[base_args.min(args.len())..];
    let remaining = rest.len();
    let mut i = 0;
    while i < remaining {
        let arg = &rest[i];
        if opt_is(arg, "withdist") {
            withdist = true;
        } else if opt_is(arg, "withhash") {
            withhash = true;
        } else if opt_is(arg, "withcoord") {
            withcoords = true;
        } else if opt_is(arg, "any") {
            any = true;
        } else if opt_is(arg, "asc") {
            sort = Sort::Asc;
        } else if opt_is(arg, "desc") {
            sort = Sort::Desc;
        } else if opt_is(arg, "count") && i + 1 < remaining {
            count = int_arg(&rest[i + 1])?;
            if count <= 0 {
                return Err(CommandError::err("COUNT must be > 0"));
            }
            i += 1;
        } else if opt_is(arg, "store") && i + 1 < remaining && !variant.no_store() && !variant.is_search() {
            store_key = Some(&rest[i + 1]);
            store_dist = false;
            i += 1;
        } else if opt_is(arg, "storedist") && i + 1 < remaining && !variant.no_store() && !variant.is_search() {
            store_key = Some(&rest[i + 1]);
            store_dist = true;
            i += 1;
        } else if opt_is(arg, "storedist") && variant == Variant::SearchStore {
            store_dist = true;
        } else if opt_is(arg, "frommember") && i + 1 < remaining && variant.is_search() && !fromloc {
            // Without the key the member is not looked up; the missing key
            // is answered once the options are parsed.
            if let Some(zset) = &zset {
                shape.xy = member_position(ctx, zset, &rest[i + 1])?.ok_or_else(decode_member_error)?;
            }
            frommember = true;
            i += 1;
        } else if opt_is(arg, "fromlonlat") && i + 2 < remaining && variant.is_search() && !frommember {
            shape.xy = extract_long_lat(&rest[i + 1], &rest[i + 2])?;
            fromloc = true;
            i += 2;
        } else if opt_is(arg, "byradius") && i + 2 < remaining && variant.is_search() && !bybox {
            let (conversion, radius) = extract_distance(&rest[i + 1], &rest[i + 2])?;
            shape.conversion = conversion;
            shape.kind = ShapeKind::Circle { radius };
            byradius = true;
            i += 2;
        } else if opt_is(arg, "bybox") && i + 3 < remaining && variant.is_search() && !byradius {
            let (conversion, width, height) = extract_box(&rest[i + 1], &rest[i + 2], &rest[i + 3])?;
            shape.conversion = conversion;
            shape.kind = ShapeKind::Box { width, height };
            bybox = true;
            i += 3;
        } else {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }

    if store_key.is_some() && (withdist || withhash || withcoords) {
        let what = if variant == Variant::SearchStore { "GEOSEARCHSTORE" } else { "STORE option in GEORADIUS" };
        return Err(CommandError::err(format!(
            "{what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        )));
    }
    let name = String::from_utf8_lossy(&args[0]);
    if variant.is_search() && !(frommember || fromloc) {
        return Err(CommandError::err(format!("exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}")));
    }
    if variant.is_search() && !(byradius || bybox) {
        return Err(CommandError::err(format!("exactly one of BYRADIUS and BYBOX can be specified for {name}")));
    }
    if any && count == 0 {
        return Err(CommandError::err("the ANY argument requires COUNT argument"));
    }

    let Some(zset) = zset else {
        return Ok(match store_key {
            Some(key) => {
                ctx.ks.delete(ctx.db, key)?;
                Frame::Integer(0)
            }
            None => Frame::Array(Vec::new()),
        });
    };

    // COUNT means the nearest ones, unless ANY asks for any of them.
    if count != 0 && sort == Sort::None && !any {
        sort = Sort::Asc;
    }
    let limit = if any { count as u64 } else { 0 };
    let mut points = scan(ctx, &zset, &shape, limit)?;
    if points.is_empty() && store_key.is_none() {
        return Ok(Frame::Array(Vec::new()));
    }
    let returned = if count == 0 { points.len() } else { points.len().min(count as usize) };
    let cmp: fn(&Point, &Point) -> i32 = match sort {
        Sort::Desc => |a, b| -compare_asc(a, b),
        _ => compare_asc,
    };
    if sort != Sort::None {
        if returned == points.len() {
            merge_sort(&mut points, cmp);
        } else {
            pqsort(&mut points, cmp, 0, returned - 1);
        }
    }
    points.truncate(returned);

    match store_key {
        None => Ok(Frame::Array(
            points
                .into_iter()
                .map(|p| {
                    let dist = p.dist / shape.conversion;
                    if !(withdist || withhash || withcoords) {
                        return Frame::Bulk(p.member);
                    }
                    let mut item = vec![Frame::Bulk(p.member)];
                    if withdist {
                        item.push(Frame::Bulk(Bytes::from(geohash::format_distance(dist))));
                    }
                    if withhash {
                        item.push(Frame::Integer(geohash::score_to_i64(p.score)));
                    }
                    if withcoords {
                        item.push(coordinates_frame([p.longitude, p.latitude]));
                    }
                    Frame::Array(item)
                })
                .collect(),
        )),
        Some(key) => {
            let stored = points.len();
            store(ctx, key, points, |p| if store_dist { p.dist / shape.conversion } else { p.score })?;
            Ok(Frame::Integer(stored as i64))
        }
    }
}

/// `[longitude, latitude]` as GEOPOS and WITHCOORD reply them.
pub(crate) fn coordinates_frame(xy: [f64; 2]) -> Frame {
    Frame::Array(xy.iter().map(|&c| Frame::DoubleText(Bytes::from(geohash::format_coordinate(c)))).collect())
}

/// `extractBoxOrReply`: width, height and unit.
fn extract_box(width: &[u8], height: &[u8], unit: &[u8]) -> Result<(f64, f64, f64), CommandError> {
    use crate::commands::zset::score::parse_score;
    let w = parse_score(width).ok_or_else(|| CommandError::err("need numeric width"))?;
    let h = parse_score(height).ok_or_else(|| CommandError::err("need numeric height"))?;
    if h < 0.0 || w < 0.0 {
        return Err(CommandError::err("height or width cannot be negative"));
    }
    Ok((extract_unit(unit)?, w, h))
}

/// `membersOfAllNeighbors`: the points of the 9 boxes that fall within the
/// shape, stopping once `limit` (if not 0) are found.
fn scan(ctx: &Ctx<'_>, zset: &ZSet, shape: &Shape, limit: u64) -> Result<Vec<Point>, CommandError> {
    let boxes = geohash::areas_by_shape(shape);
    let mut points: Vec<Point> = Vec::new();
    let mut last_processed = 0usize;
    let full = |points: &Vec<Point>| !points.is_empty() && limit != 0 && points.len() as u64 >= limit;
    for (i, hash) in boxes.iter().enumerate() {
        if hash.is_zero() {
            continue;
        }
        // With huge radii adjacent boxes can be the same box. Redis skips a
        // box equal to the last one scanned, except after the centre box
        // (its `last_processed` of 0 reads as "none").
        if last_processed != 0 && *hash == boxes[last_processed] {
            continue;
        }
        if full(&points) {
            break;
        }
        let (min, max) = geohash::scores_of_box(*hash);
        let range = ScoreRange { min, max, min_exclusive: false, max_exclusive: true };
        zset.visit_scores(ctx, &range, false, &mut |member, score| {
            let [longitude, latitude] = geohash::decode_score(score);
            if let Some(dist) = geohash::within_shape(shape, longitude, latitude) {
                points.push(Point { member: Bytes::copy_from_slice(member), longitude, latitude, dist, score });
            }
            if full(&points) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })?;
        last_processed = i;
    }
    Ok(points)
}

/// Writes the results as a new sorted set at `key` (or deletes `key` when
/// there are none), as the STORE options do.
fn store(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    points: Vec<Point>,
    score_of: impl Fn(&Point) -> f64,
) -> Result<(), CommandError> {
    if points.is_empty() {
        ctx.ks.delete(ctx.db, key)?;
        return Ok(());
    }
    let mut out = ZSet::replacing(ctx, key, encoding::LISTPACK)?;
    for p in &points {
        // `put` (not `put_new`): overlapping boxes of a huge search can list
        // a member twice, where Redis would fail an assertion.
        out.put(ctx, &p.member, score_of(p))?;
    }
    out.save(ctx)
}

/// Redis's `sort_gp_asc`.
fn compare_asc(a: &Point, b: &Point) -> i32 {
    if a.dist > b.dist {
        1
    } else if a.dist == b.dist {
        0
    } else {
        -1
    }
}

/// glibc's `qsort` (a top-down merge sort, stable): what Redis uses when
/// all the results are returned.
fn merge_sort(v: &mut Vec<Point>, cmp: fn(&Point, &Point) -> i32) {
    fn sort(v: Vec<Point>, cmp: fn(&Point, &Point) -> i32) -> Vec<Point> {
        if v.len() <= 1 {
            return v;
        }
        let mut left = v;
        let right = left.split_off(left.len() / 2);
        let (left, right) = (sort(left, cmp), sort(right, cmp));
        let mut out = Vec::with_capacity(left.len() + right.len());
        let (mut l, mut r) = (left.into_iter().peekable(), right.into_iter().peekable());
        while let (Some(a), Some(b)) = (l.peek(), r.peek()) {
            let next = if cmp(a, b) <= 0 { l.next() } else { r.next() };
            out.extend(next);
        }
        out.extend(l);
        out.extend(r);
        out
    }
    let taken = std::mem::take(v);
    *v = sort(taken, cmp);
}

/// Redis's `pqsort`: Bentley & McIlroy's quicksort that only recurses into
/// parts overlapping the wanted range `lrange..=rrange`. Not stable; ported
/// step by step so equal distances end up where Redis puts them.
fn pqsort(v: &mut [Point], cmp: fn(&Point, &Point) -> i32, lrange: usize, rrange: usize) {
    let n = v.len();
    pq(v, 0, n, cmp, lrange, rrange);
}

fn insertion_sort(v: &mut [Point], a: usize, n: usize, cmp: fn(&Point, &Point) -> i32) {
    for pm in a + 1..a + n {
        let mut pl = pm;
        while pl > a && cmp(&v[pl - 1], &v[pl]) > 0 {
            v.swap(pl, pl - 1);
            pl -= 1;
        }
    }
}

fn med3(v: &[Point], a: usize, b: usize, c: usize, cmp: fn(&Point, &Point) -> i32) -> usize {
    if cmp(&v[a], &v[b]) < 0 {
        if cmp(&v[b], &v[c]) < 0 {
            b
        } else if cmp(&v[a], &v[c]) < 0 {
            c
        } else {
            a
        }
    } else if cmp(&v[b], &v[c]) > 0 {
        b
    } else if cmp(&v[a], &v[c]) < 0 {
        a
    } else {
        c
    }
}

fn vecswap(v: &mut [Point], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

/// Whether the part `start..start + len` misses the wanted range.
fn outside(start: usize, len: usize, lrange: usize, rrange: usize) -> bool {
    (lrange < start && rrange < start) || (lrange >= start + len && rrange >= start + len)
}

fn pq(v: &mut [Point], mut a: usize, mut n: usize, cmp: fn(&Point, &Point) -> i32, lrange: usize, rrange: usize) {
    loop {
        if n < 7 {
            insertion_sort(v, a, n, cmp);
            return;
        }
        let mut swapped = false;
        let mut pm = a + n / 2;
        if n > 7 {
            let mut pl = a;
            let mut pn = a + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(v, pm - d, pm, pm + d, cmp);
                pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(v, pl, pm, pn, cmp);
        }
        v.swap(a, pm);
        let (mut pa, mut pb) = (a + 1, a + 1);
        let (mut pc, mut pd) = (a + n - 1, a + n - 1);
        loop {
            while pb <= pc {
                let c = cmp(&v[pb], &v[a]);
                if c > 0 {
                    break;
                }
                if c == 0 {
                    swapped = true;
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let c = cmp(&v[pc], &v[a]);
                if c < 0 {
                    break;
                }
                if c == 0 {
                    swapped = true;
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            swapped = true;
            pb += 1;
            pc -= 1;
        }
        if !swapped {
            insertion_sort(v, a, n, cmp);
            return;
        }
        let pn = a + n;
        let r = (pa - a).min(pb - pa);
        vecswap(v, a, pb - r, r);
        let r = (pd - pc).min(pn - pd - 1);
        vecswap(v, pb, pn - r, r);
        let r = pb - pa;
        if r > 1 && !outside(a, r, lrange, rrange) {
            pq(v, a, r, cmp, lrange, rrange);
        }
        let r = pd - pc;
        if r > 1 {
            a = pn - r;
            n = r;
            if !outside(a, n, lrange, rrange) {
                continue;
            }
        }
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(dists: &[f64]) -> Vec<Point> {
        dists
            .iter()
            .enumerate()
            .map(|(i, &d)| Point {
                member: Bytes::from(i.to_string()),
                longitude: 0.0,
                latitude: 0.0,
                dist: d,
                score: 0.0,
            })
            .collect()
    }

    #[test]
    fn merge_sort_is_stable() {
        let mut v = points(&[3.0, 1.0, 2.0, 1.0, 3.0, 0.5]);
        merge_sort(&mut v, compare_asc);
        let order: Vec<&[u8]> = v.iter().map(|p| &p.member[..]).collect();
        assert_eq!(order, vec![&b"5"[..], b"1", b"3", b"2", b"0", b"4"]);
    }

    #[test]
    fn pqsort_sorts_the_wanted_prefix() {
        let dists: Vec<f64> = (0..200).map(|i| f64::from((i * 7919) % 211)).collect();
        let mut sorted = dists.clone();
        sorted.sort_by(f64::total_cmp);
        for count in [1usize, 5, 6, 7, 8, 41, 100, 199] {
            let mut v = points(&dists);
            pqsort(&mut v, compare_asc, 0, count - 1);
            let got: Vec<f64> = v[..count].iter().map(|p| p.dist).collect();
            assert_eq!(got, sorted[..count], "count {count}");
        }
        let mut v = points(&dists);
        pqsort(&mut v, |a, b| -compare_asc(a, b), 0, 9);
        let got: Vec<f64> = v[..10].iter().map(|p| p.dist).collect();
        let want: Vec<f64> = sorted.iter().rev().take(10).copied().collect();
        assert_eq!(got, want);
    }
}
