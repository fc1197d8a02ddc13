//! Redis's geohash arithmetic (`geohash.c`, `geohash_helper.c`), reproduced
//! operation for operation so that scores, decoded coordinates, search boxes
//! and distances come out bit-identical to Redis's.
//!
//! A point is stored as a 52-bit score: 26 bits of latitude (over
//! -85.05112878..85.05112878, the Web Mercator limits) interleaved with 26
//! bits of longitude, latitude in the even bits. A search covers its shape
//! with a box of a coarser step and its 8 neighbours; each box is one score
//! range of the sorted set.

/// Coordinates Redis accepts (EPSG:900913 limits).
pub(crate) const LONG_MIN: f64 = -180.0;
pub(crate) const LONG_MAX: f64 = 180.0;
pub(crate) const LAT_MIN: f64 = -85.05112878;
pub(crate) const LAT_MAX: f64 = 85.05112878;
/// The precision of stored points: 26 bits per coordinate.
pub(crate) const STEP_MAX: u8 = 26;

const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;
/// `M_PI / 180.0`, rounded as C rounds it.
const D_R: f64 = std::f64::consts::PI / 180.0;

fn deg_rad(ang: f64) -> f64 {
    ang * D_R
}

fn rad_deg(ang: f64) -> f64 {
    ang / D_R
}

/// A geohash of `step` bits per coordinate (`GeoHashBits`). Bits and step
/// both zero mark a neighbour excluded from a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HashBits {
    pub bits: u64,
    pub step: u8,
}

impl HashBits {
    const ZERO: HashBits = HashBits { bits: 0, step: 0 };

    pub(crate) fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Range {
    pub min: f64,
    pub max: f64,
}

const WGS84_LONG: Range = Range { min: LONG_MIN, max: LONG_MAX };
const WGS84_LAT: Range = Range { min: LAT_MIN, max: LAT_MAX };
/// The ranges of standard geohash strings (GEOHASH's re-encoding).
const STANDARD_LONG: Range = Range { min: -180.0, max: 180.0 };
const STANDARD_LAT: Range = Range { min: -90.0, max: 90.0 };

#[derive(Debug, Clone, Copy)]
struct Area {
    longitude: Range,
    latitude: Range,
}

fn interleave64(xlo: u32, ylo: u32) -> u64 {
    const B: [u64; 5] =
        [0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF];
    const S: [u32; 5] = [1, 2, 4, 8, 16];
    let (mut x, mut y) = (u64::from(xlo), u64::from(ylo));
    for i in (0..5).rev() {
        x = (x | (x << S[i])) & B[i];
        y = (y | (y << S[i])) & B[i];
    }
    x | (y << 1)
}

fn deinterleave64(interleaved: u64) -> u64 {
    const B: [u64; 6] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
        0x00000000FFFFFFFF,
    ];
    const S: [u32; 6] = [0, 1, 2, 4, 8, 16];
    let (mut x, mut y) = (interleaved, interleaved >> 1);
    for i in 0..6 {
        x = (x | (x >> S[i])) & B[i];
        y = (y | (y >> S[i])) & B[i];
    }
    x | (y << 32)
}

/// `geohashEncode`: `None` where Redis returns 0 (coordinates outside the
/// ranges).
fn encode(long_range: Range, lat_range: Range, longitude: f64, latitude: f64, step: u8) -> Option<HashBits> {
    if step == 0 || step > 32 {
        return None;
    }
    if !(LONG_MIN..=LONG_MAX).contains(&longitude) || !(LAT_MIN..=LAT_MAX).contains(&latitude) {
        return None;
    }
    if latitude < lat_range.min || latitude > lat_range.max || longitude < long_range.min || longitude > long_range.max
    {
        return None;
    }
    let mut lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min);
    let mut long_offset = (longitude - long_range.min) / (long_range.max - long_range.min);
    let scale = (1u64 << step) as f64;
    lat_offset *= scale;
    long_offset *= scale;
    // C converts to uint32_t by truncation; the offsets are within 0..=2^32.
    Some(HashBits { bits: interleave64(lat_offset as u32, long_offset as u32), step })
}

/// `geohashEncodeWGS84` at Redis's ranges.
pub(crate) fn encode_wgs84(longitude: f64, latitude: f64, step: u8) -> Option<HashBits> {
    encode(WGS84_LONG, WGS84_LAT, longitude, latitude, step)
}

/// `geohashDecode`: the cell of `hash`.
fn decode(long_range: Range, lat_range: Range, hash: HashBits) -> Option<Area> {
    if hash.is_zero() {
        return None;
    }
    let step = hash.step;
    let separated = deinterleave64(hash.bits);
    let lat_scale = lat_range.max - lat_range.min;
    let long_scale = long_range.max - long_range.min;
    let ilato = separated as u32;
    let ilono = (separated >> 32) as u32;
    let cells = (1u64 << step) as f64;
    // `ilato + 1` is uint32_t arithmetic in C: it wraps.
    Some(Area {
        latitude: Range {
            min: lat_range.min + (f64::from(ilato) / cells) * lat_scale,
            max: lat_range.min + (f64::from(ilato.wrapping_add(1)) / cells) * lat_scale,
        },
        longitude: Range {
            min: long_range.min + (f64::from(ilono) / cells) * long_scale,
            max: long_range.min + (f64::from(ilono.wrapping_add(1)) / cells) * long_scale,
        },
    })
}

/// `(uint64_t)score` as x86-64 code compiled by gcc computes it: scores
/// written by GEOADD are exact integers below 2^53, but any ZADD score
/// can reach here.
pub(crate) fn score_to_bits(score: f64) -> u64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    // cvttsd2si: out of range (or NaN) gives the "integer indefinite".
    fn truncate(x: f64) -> u64 {
        if x.is_nan() || !(-TWO_63..TWO_63).contains(&x) {
            1 << 63
        } else {
            x as i64 as u64
        }
    }
    if score >= TWO_63 {
        truncate(score - TWO_63) ^ (1 << 63)
    } else {
        truncate(score)
    }
}

/// `(long long)score` as cvttsd2si computes it (WITHHASH's integer).
pub(crate) fn score_to_i64(score: f64) -> i64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if score.is_nan() || !(-TWO_63..TWO_63).contains(&score) {
        i64::MIN
    } else {
        score as i64
    }
}

/// `decodeGeohash`: the longitude and latitude of a score (the centre of
/// its cell, clamped to the valid ranges).
pub(crate) fn decode_score(score: f64) -> [f64; 2] {
    let hash = HashBits { bits: score_to_bits(score), step: STEP_MAX };
    // A step of 26 is never the zero hash, so decoding always succeeds.
    let area = decode(WGS84_LONG, WGS84_LAT, hash).unwrap_or(Area { longitude: WGS84_LONG, latitude: WGS84_LAT });
    let lon = ((area.longitude.min + area.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((area.latitude.min + area.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    [lon, lat]
}

/// `geohashAlign52Bits`: a hash of any step as a 52-bit score prefix.
fn align52(hash: HashBits) -> u64 {
    hash.bits << (52 - u32::from(hash.step) * 2)
}

/// The score of a point, as GEOADD stores it.
pub(crate) fn score_of(longitude: f64, latitude: f64) -> Option<u64> {
    encode_wgs84(longitude, latitude, STEP_MAX).map(align52)
}

/// GEOHASH's string: the point re-encoded over the standard ranges
/// (latitude -90..90), 10 base-32 characters of its 52 bits and a final
/// '0' (Redis has no 53rd..55th bits).
pub(crate) fn geohash_string(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let [lon, lat] = decode_score(score);
    let bits = encode(STANDARD_LONG, STANDARD_LAT, lon, lat, STEP_MAX).map_or(0, |h| h.bits);
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().take(10).enumerate() {
        let idx = (bits >> (52 - (i + 1) * 5)) & 0x1f;
        *c = ALPHABET[idx as usize];
    }
    out
}

/// The (min inclusive, max exclusive) score range of a box.
pub(crate) fn scores_of_box(hash: HashBits) -> (f64, f64) {
    let min = align52(hash);
    let max = align52(HashBits { bits: hash.bits.wrapping_add(1), step: hash.step });
    (min as f64, max as f64)
}

fn move_x(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - u32::from(hash.step) * 2;
    let mut x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let y = hash.bits & 0x5555555555555555;
    let zz = 0x5555555555555555u64 >> shift;
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaaaaaaaaaaaaaau64 >> shift;
    hash.bits = x | y;
}

fn move_y(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - u32::from(hash.step) * 2;
    let x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let mut y = hash.bits & 0x5555555555555555;
    let zz = 0xaaaaaaaaaaaaaaaau64 >> shift;
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555555555555555u64 >> shift;
    hash.bits = x | y;
}

fn moved(hash: HashBits, dx: i8, dy: i8) -> HashBits {
    let mut out = hash;
    move_x(&mut out, dx);
    move_y(&mut out, dy);
    out
}

/// The shape of a search, Redis's `GeoShape`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    /// Centre: longitude, latitude.
    pub xy: [f64; 2],
    /// Meters per unit of the radius / width / height.
    pub conversion: f64,
    pub kind: ShapeKind,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum ShapeKind {
    Circle { radius: f64 },
    Box { width: f64, height: f64 },
}

/// `geohashBoundingBox`: [min lon, min lat, max lon, max lat].
fn bounding_box(shape: &Shape) -> [f64; 4] {
    let [longitude, latitude] = shape.xy;
    let (height, width) = match shape.kind {
        ShapeKind::Circle { radius } => (shape.conversion * radius, shape.conversion * radius),
        ShapeKind::Box { width, height } => (shape.conversion * (height / 2.0), shape.conversion * (width / 2.0)),
    };
    let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
    let long_delta_top = rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(latitude + lat_delta).cos());
    let long_delta_bottom = rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(latitude - lat_delta).cos());
    let southern = latitude < 0.0;
    let (min_lon, max_lon) = if southern {
        (longitude - long_delta_bottom, longitude + long_delta_bottom)
    } else {
        (longitude - long_delta_top, longitude + long_delta_top)
    };
    [min_lon, latitude - lat_delta, max_lon, latitude + lat_delta]
}

/// `geohashEstimateStepsByRadius`.
fn estimate_steps_by_radius(mut range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    while range_meters < MERCATOR_MAX {
        range_meters *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// The boxes a search scans, in Redis's order: the centre box, then north,
/// south, east, west, north-east, north-west, south-east, south-west.
/// Excluded neighbours are [`HashBits::is_zero`].
pub(crate) fn areas_by_shape(shape: &Shape) -> [HashBits; 9] {
    let [min_lon, min_lat, max_lon, max_lat] = bounding_box(shape);
    let [longitude, latitude] = shape.xy;
    let radius_meters = match shape.kind {
        ShapeKind::Circle { radius } => radius,
        ShapeKind::Box { width, height } => ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt(),
    } * shape.conversion;
    let mut steps = estimate_steps_by_radius(radius_meters, latitude);
    let centre = |steps: u8| {
        encode(WGS84_LONG, WGS84_LAT, longitude, latitude, steps).unwrap_or(HashBits { bits: 0, step: steps })
    };
    let mut hash = centre(steps);
    let cell = |h: HashBits| decode(WGS84_LONG, WGS84_LAT, h);
    // The estimated step may leave the shape poking out of the 3x3 boxes
    // when the centre is near its box's edge: one step coarser then.
    let decrease = {
        let north = cell(moved(hash, 0, 1));
        let south = cell(moved(hash, 0, -1));
        let east = cell(moved(hash, 1, 0));
        let west = cell(moved(hash, -1, 0));
        north.is_some_and(|a| a.latitude.max < max_lat)
            || south.is_some_and(|a| a.latitude.min > min_lat)
            || east.is_some_and(|a| a.longitude.max < max_lon)
            || west.is_some_and(|a| a.longitude.min > min_lon)
    };
    if steps > 1 && decrease {
        steps -= 1;
        hash = centre(steps);
    }
    let mut north = moved(hash, 0, 1);
    let mut south = moved(hash, 0, -1);
    let mut east = moved(hash, 1, 0);
    let mut west = moved(hash, -1, 0);
    let mut north_east = moved(hash, 1, 1);
    let mut north_west = moved(hash, -1, 1);
    let mut south_east = moved(hash, 1, -1);
    let mut south_west = moved(hash, -1, -1);
    if steps >= 2 {
        if let Some(area) = cell(hash) {
            if area.latitude.min < min_lat {
                south = HashBits::ZERO;
                south_west = HashBits::ZERO;
                south_east = HashBits::ZERO;
            }
            if area.latitude.max > max_lat {
                north = HashBits::ZERO;
                north_east = HashBits::ZERO;
                north_west = HashBits::ZERO;
            }
            if area.longitude.min < min_lon {
                west = HashBits::ZERO;
                south_west = HashBits::ZERO;
                north_west = HashBits::ZERO;
            }
            if area.longitude.max > max_lon {
                east = HashBits::ZERO;
                south_east = HashBits::ZERO;
                north_east = HashBits::ZERO;
            }
        }
    }
    [hash, north, south, east, west, north_east, north_west, south_east, south_west]
}

/// `geohashGetLatDistance`: the distance along a meridian.
fn lat_distance(lat1d: f64, lat2d: f64) -> f64 {
    EARTH_RADIUS_IN_METERS * (deg_rad(lat2d) - deg_rad(lat1d)).abs()
}

/// `geohashGetDistance`: haversine great-circle distance in meters (with
/// Redis 7.2's shortcut along a meridian).
pub(crate) fn distance(lon1d: f64, lat1d: f64, lon2d: f64, lat2d: f64) -> f64 {
    let lon1r = deg_rad(lon1d);
    let lon2r = deg_rad(lon2d);
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1d, lat2d);
    }
    let lat1r = deg_rad(lat1d);
    let lat2r = deg_rad(lat2d);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * a.sqrt().asin()
}

/// Whether the point `(x2, y2)` is within the shape; its distance from the
/// centre if so (`geoWithinShape` after decoding).
pub(crate) fn within_shape(shape: &Shape, x2: f64, y2: f64) -> Option<f64> {
    let [x1, y1] = shape.xy;
    match shape.kind {
        ShapeKind::Circle { radius } => {
            let d = distance(x1, y1, x2, y2);
            // `d > radius` rejects; a NaN distance gets in, as in Redis.
            (d.partial_cmp(&(radius * shape.conversion)) != Some(std::cmp::Ordering::Greater)).then_some(d)
        }
        ShapeKind::Box { width, height } => {
            let (width_m, height_m) = (width * shape.conversion, height * shape.conversion);
            if lat_distance(y2, y1) > height_m / 2.0 {
                return None;
            }
            if distance(x2, y2, x1, y2) > width_m / 2.0 {
                return None;
            }
            Some(distance(x1, y1, x2, y2))
        }
    }
}

/// Redis 7.2's `fixedpoint_d2string(.., 4)`: the distance in a reply,
/// scaled by 10^4 and rounded half-to-even (`llrint`).
pub(crate) fn format_distance(d: f64) -> String {
    if d == 0.0 {
        return "0.0000".to_owned();
    }
    let scaled = d * 10_000.0;
    // llrint of NaN or out-of-range values gives LLONG_MIN.
    let svalue = if scaled.is_nan() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&scaled) {
        i64::MIN
    } else {
        scaled.round_ties_even() as i64
    };
    let magnitude = svalue.unsigned_abs();
    let sign = if svalue < 0 { "-" } else { "" };
    format!("{sign}{}.{:04}", magnitude / 10_000, magnitude % 10_000)
}

/// A coordinate as Redis prints it (`addReplyHumanLongDouble`): the
/// double's exact value to 17 decimals, trailing zeros removed.
pub(crate) fn format_coordinate(value: f64) -> String {
    use crate::commands::long_double::LongDouble;
    if !value.is_finite() {
        return LongDouble::Infinite { negative: value < 0.0 }.to_human_string();
    }
    let bits = value.to_bits();
    let negative = bits >> 63 == 1;
    let biased = ((bits >> 52) & 0x7ff) as i64;
    let fraction = bits & ((1 << 52) - 1);
    let (significand, exponent) = if biased == 0 { (fraction, -1074) } else { (fraction | (1 << 52), biased - 1075) };
    LongDouble::Finite { negative, significand, exponent }.to_human_string()
}
