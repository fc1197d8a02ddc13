//! Property tests per data type: seeded random command sequences run on a
//! real `redis-server` and on the command harness, and every reply must be
//! identical byte for byte (replies whose order Redis leaves undefined are
//! compared as multisets). A failure prints the seed, the step and the
//! commands before it, so it replays exactly.
//!
//! The commands stick to a few keys, members and values so that sequences
//! keep hitting existing elements, wrong types and emptied keys.
#![cfg(test)]

use std::io::BufReader;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::testing::wire::{read_reply, send};
use super::testing::TestKeyspace;

/// A throwaway redis-server with no persistence.
pub(crate) struct RealRedis {
    child: Child,
    stream: TcpStream,
    reader: BufReader<TcpStream>,
    _dir: tempfile::TempDir,
}

impl RealRedis {
    pub(crate) fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        for _attempt in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
            let mut child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .current_dir(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server must be installed (scripts/setup.sh installs it)");
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) {
                    let reader = BufReader::new(stream.try_clone().expect("clone stream"));
                    return RealRedis { child, stream, reader, _dir: dir };
                }
                if child.try_wait().ok().flatten().is_some() {
                    break; // the port was taken: try another
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("could not start redis-server");
    }

    pub(crate) fn exec(&mut self, args: &[Bytes]) -> Vec<u8> {
        send(&mut self.stream, args);
        let mut out = Vec::new();
        read_reply(&mut self.reader, &mut out);
        out
    }
}

impl Drop for RealRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// xorshift64*: tiny, seeded, the same everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn int(&mut self, low: i64, high: i64) -> i64 {
        low + self.below((high - low + 1) as u64) as i64
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// One generated command.
pub struct Op {
    pub args: Vec<String>,
    /// The reply is an unordered collection.
    pub unordered: bool,
}

fn op(args: Vec<String>) -> Op {
    Op { args, unordered: false }
}

fn unordered(args: Vec<String>) -> Op {
    Op { args, unordered: true }
}

/// Builds an argument list from anything printable.
macro_rules! args {
    ($($a:expr),* $(,)?) => { vec![$($a.to_string()),*] };
}

const KEYS: &[&str] = &["k1", "k2", "k3"];
const VALUES: &[&str] = &["a", "b", "c", "d", "e", "1", "2", "-3", "10", ""];

fn value(rng: &mut Rng) -> String {
    if rng.chance(3) {
        // Long enough to push Redis's compact encodings over their limits.
        "x".repeat(70)
    } else {
        rng.pick(VALUES).to_string()
    }
}

/// Commands every type's sequence mixes in: wrong types, deletes, TYPE.
fn generic(rng: &mut Rng) -> Op {
    let key = rng.pick(KEYS);
    match rng.below(5) {
        0 => op(args!["SET", key, "str"]),
        1 => op(args!["DEL", key]),
        2 => op(args!["TYPE", key]),
        3 => op(args!["EXISTS", key, rng.pick(KEYS)]),
        _ => op(args!["RENAME", key, rng.pick(KEYS)]),
    }
}

pub fn list_op(rng: &mut Rng) -> Op {
    if rng.chance(5) {
        return generic(rng);
    }
    let k = rng.pick(KEYS);
    let side = |rng: &mut Rng| rng.pick(&["LEFT", "RIGHT"]);
    match rng.below(18) {
        0 | 1 => op(args!["LPUSH", k, value(rng), value(rng)]),
        2 | 3 => op(args!["RPUSH", k, value(rng)]),
        4 => op(args![rng.pick(&["LPUSHX", "RPUSHX"]), k, value(rng)]),
        5 => {
            let cmd = rng.pick(&["LPOP", "RPOP"]);
            if rng.chance(50) {
                op(args![cmd, k])
            } else {
                op(args![cmd, k, rng.int(0, 3)])
            }
        }
        6 => op(args!["LLEN", k]),
        7 | 8 => op(args!["LRANGE", k, rng.int(-4, 4), rng.int(-4, 4)]),
        9 => op(args!["LINDEX", k, rng.int(-4, 4)]),
        10 => op(args!["LSET", k, rng.int(-3, 3), value(rng)]),
        11 => op(args!["LINSERT", k, rng.pick(&["BEFORE", "AFTER"]), value(rng), value(rng)]),
        12 => op(args!["LREM", k, rng.int(-2, 2), value(rng)]),
        13 => op(args!["LTRIM", k, rng.int(-4, 4), rng.int(-4, 4)]),
        14 => op(args!["LPOS", k, value(rng), "RANK", rng.pick(&["1", "-1", "2"]), "COUNT", rng.int(0, 3)]),
        15 => op(args!["LMOVE", k, rng.pick(KEYS), side(rng), side(rng)]),
        16 => op(args!["RPOPLPUSH", k, rng.pick(KEYS)]),
        _ => op(args!["LMPOP", 2, k, rng.pick(KEYS), side(rng), "COUNT", rng.int(1, 3)]),
    }
}

pub fn hash_op(rng: &mut Rng) -> Op {
    if rng.chance(5) {
        return generic(rng);
    }
    let k = rng.pick(KEYS);
    let field = |rng: &mut Rng| rng.pick(&["f1", "f2", "f3", "f4", "1"]).to_string();
    match rng.below(15) {
        0..=2 => op(args!["HSET", k, field(rng), value(rng), field(rng), value(rng)]),
        3 => op(args!["HSETNX", k, field(rng), value(rng)]),
        4 => op(args!["HGET", k, field(rng)]),
        5 => op(args!["HMGET", k, field(rng), field(rng)]),
        6 => op(args!["HDEL", k, field(rng), field(rng)]),
        7 => op(args!["HLEN", k]),
        8 => op(args!["HSTRLEN", k, field(rng)]),
        9 => op(args!["HEXISTS", k, field(rng)]),
        10 => unordered(args![rng.pick(&["HKEYS", "HVALS", "HGETALL"]), k]),
        11 => op(args!["HINCRBY", k, field(rng), rng.int(-5, 5)]),
        12 => op(args!["HINCRBYFLOAT", k, field(rng), rng.pick(&["1.5", "-2", "0.25", "abc"])]),
        13 => unordered(args!["HRANDFIELD", k, 100]),
        _ => op(args!["HMSET", k, field(rng), value(rng)]),
    }
}

pub fn set_op(rng: &mut Rng) -> Op {
    if rng.chance(5) {
        return generic(rng);
    }
    let k = rng.pick(KEYS);
    let other = rng.pick(KEYS);
    let member = |rng: &mut Rng| {
        if rng.chance(3) {
            "m".repeat(70)
        } else {
            rng.pick(&["a", "b", "c", "1", "2", "3", "-7"]).to_string()
        }
    };
    match rng.below(16) {
        0..=2 => op(args!["SADD", k, member(rng), member(rng)]),
        3 => op(args!["SREM", k, member(rng), member(rng)]),
        4 => op(args!["SCARD", k]),
        5 => op(args!["SISMEMBER", k, member(rng)]),
        6 => op(args!["SMISMEMBER", k, member(rng), member(rng)]),
        7 => unordered(args!["SMEMBERS", k]),
        8 => op(args!["SMOVE", k, other, member(rng)]),
        9 => unordered(args![rng.pick(&["SINTER", "SUNION", "SDIFF"]), k, other]),
        10 => op(args![rng.pick(&["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), rng.pick(KEYS), k, other]),
        11 => op(args!["SINTERCARD", 2, k, other, "LIMIT", rng.int(0, 3)]),
        12 => unordered(args!["SRANDMEMBER", k, 100]),
        13 => unordered(args!["SPOP", k, 100]),
        _ => unordered(args!["SUNION", k]),
    }
}

pub fn zset_op(rng: &mut Rng) -> Op {
    if rng.chance(5) {
        return generic(rng);
    }
    let k = rng.pick(KEYS);
    let other = rng.pick(KEYS);
    let member = |rng: &mut Rng| rng.pick(&["a", "b", "c", "d", "e"]).to_string();
    let score = |rng: &mut Rng| rng.pick(&["1", "2", "2.5", "-1", "0", "10", "+inf", "-inf", "3"]).to_string();
    let bound = |rng: &mut Rng| rng.pick(&["-inf", "+inf", "0", "(1", "2", "(2.5", "10"]).to_string();
    let lex = |rng: &mut Rng| rng.pick(&["-", "+", "[a", "(b", "[c", "(e"]).to_string();
    match rng.below(22) {
        0..=2 => op(args!["ZADD", k, score(rng), member(rng), score(rng), member(rng)]),
        3 => op(args!["ZADD", k, rng.pick(&["NX", "XX", "GT", "LT"]), "CH", score(rng), member(rng)]),
        4 => op(args!["ZINCRBY", k, rng.pick(&["1", "-2", "0.5"]), member(rng)]),
        5 => op(args!["ZSCORE", k, member(rng)]),
        6 => op(args!["ZMSCORE", k, member(rng), member(rng)]),
        7 => op(args!["ZCARD", k]),
        8 => op(args!["ZRANGE", k, rng.int(-3, 3), rng.int(-3, 3), "WITHSCORES"]),
        9 => op(args!["ZRANGE", k, bound(rng), bound(rng), "BYSCORE", "LIMIT", 0, rng.int(1, 3)]),
        10 => op(args!["ZREVRANGEBYSCORE", k, bound(rng), bound(rng), "WITHSCORES"]),
        11 => op(args!["ZRANGEBYLEX", k, lex(rng), lex(rng)]),
        12 => op(args![rng.pick(&["ZRANK", "ZREVRANK"]), k, member(rng)]),
        13 => op(args!["ZCOUNT", k, bound(rng), bound(rng)]),
        14 => op(args!["ZLEXCOUNT", k, lex(rng), lex(rng)]),
        15 => op(args!["ZREM", k, member(rng), member(rng)]),
        16 => op(args!["ZREMRANGEBYRANK", k, rng.int(-2, 2), rng.int(-2, 2)]),
        17 => op(args!["ZREMRANGEBYSCORE", k, bound(rng), bound(rng)]),
        18 => op(args![rng.pick(&["ZPOPMIN", "ZPOPMAX"]), k, rng.int(1, 3)]),
        19 => op(args![
            rng.pick(&["ZUNIONSTORE", "ZINTERSTORE"]),
            rng.pick(KEYS),
            2,
            k,
            other,
            "WEIGHTS",
            2,
            1,
            "AGGREGATE",
            rng.pick(&["SUM", "MIN", "MAX"])
        ]),
        20 => op(args!["ZUNION", 2, k, other, "WITHSCORES"]),
        _ => op(args!["ZDIFFSTORE", rng.pick(KEYS), 2, k, other]),
    }
}

pub fn bits_op(rng: &mut Rng) -> Op {
    const BITMAPS: &[&str] = &["b1", "b2", "b3"];
    const HLLS: &[&str] = &["h1", "h2", "h3"];
    let b = rng.pick(BITMAPS);
    let h = rng.pick(HLLS);
    let element = |rng: &mut Rng| format!("e{}", rng.below(300));
    let unit = |rng: &mut Rng| rng.pick(&["BYTE", "BIT"]);
    match rng.below(16) {
        0..=2 => op(args!["SETBIT", b, rng.int(0, 200), rng.int(0, 1)]),
        3 => op(args!["GETBIT", b, rng.int(0, 210)]),
        4 => op(args!["BITCOUNT", b, rng.int(-30, 30), rng.int(-30, 30), unit(rng)]),
        5 => op(args!["BITPOS", b, rng.int(0, 1), rng.int(-5, 5), rng.int(-5, 30), unit(rng)]),
        6 => op(args!["BITOP", rng.pick(&["AND", "OR", "XOR"]), rng.pick(BITMAPS), b, rng.pick(BITMAPS)]),
        7 => op(args!["BITOP", "NOT", rng.pick(BITMAPS), b]),
        8 => op(args![
            "BITFIELD",
            b,
            "OVERFLOW",
            rng.pick(&["WRAP", "SAT", "FAIL"]),
            "INCRBY",
            rng.pick(&["i5", "u4", "i8", "u16"]),
            rng.int(0, 40),
            rng.int(-100, 100),
            "GET",
            rng.pick(&["i8", "u3"]),
            rng.int(0, 40)
        ]),
        9 => op(args!["GET", b]),
        10..=12 => {
            let mut a = args!["PFADD", h];
            for _ in 0..rng.int(0, 40) {
                a.push(element(rng));
            }
            op(a)
        }
        13 => op(args!["PFCOUNT", h, rng.pick(HLLS)]),
        14 => op(args!["PFMERGE", rng.pick(HLLS), h, rng.pick(HLLS)]),
        _ => op(args!["DEL", rng.pick(&["b1", "b2", "b3", "h1", "h2", "h3"])]),
    }
}

pub fn string_op(rng: &mut Rng) -> Op {
    if rng.chance(5) {
        return generic(rng);
    }
    let k = rng.pick(KEYS);
    let number = |rng: &mut Rng| rng.pick(&["0", "7", "-12", "9223372036854775806", "x", "1.5", ""]).to_string();
    let float = |rng: &mut Rng| rng.pick(&["0.1", "-2.5", "1e3", "3", "inf", "abc", "5.0e-2"]).to_string();
    let any = |rng: &mut Rng| if rng.chance(40) { number(rng) } else { value(rng) };
    match rng.below(22) {
        0..=2 => op(args!["SET", k, any(rng)]),
        3 => op(args!["SET", k, any(rng), rng.pick(&["NX", "XX"]), "GET"]),
        4 => op(args!["SET", k, any(rng), "KEEPTTL"]),
        5 => op(args!["GET", k]),
        6 => op(args!["GETSET", k, any(rng)]),
        7 => op(args!["APPEND", k, value(rng)]),
        8 => op(args!["STRLEN", k]),
        9 => op(args!["GETRANGE", k, rng.int(-6, 6), rng.int(-6, 6)]),
        10 => op(args!["SETRANGE", k, rng.int(-1, 12), value(rng)]),
        11 => op(args![rng.pick(&["INCR", "DECR"]), k]),
        12 => op(args![rng.pick(&["INCRBY", "DECRBY"]), k, number(rng)]),
        13 => op(args!["INCRBYFLOAT", k, float(rng)]),
        14 => op(args!["MSET", k, any(rng), rng.pick(KEYS), any(rng)]),
        15 => op(args!["MGET", k, rng.pick(KEYS), "missing"]),
        16 => op(args!["MSETNX", k, any(rng), rng.pick(KEYS), any(rng)]),
        17 => op(args!["SETNX", k, any(rng)]),
        18 => op(args!["GETDEL", k]),
        19 => op(args!["LCS", k, rng.pick(KEYS)]),
        20 => op(args!["SUBSTR", k, rng.int(-3, 3), rng.int(-3, 8)]),
        _ => op(args!["GETEX", k, "PERSIST"]),
    }
}

/// Stream ids are always explicit (`*` reads the clock), small, and often
/// out of order, so XADD's id checks get exercised as much as the reads.
pub fn stream_op(rng: &mut Rng) -> Op {
    if rng.chance(4) {
        return generic(rng);
    }
    let k = rng.pick(KEYS);
    let group = |rng: &mut Rng| rng.pick(&["g1", "g2"]);
    let consumer = |rng: &mut Rng| rng.pick(&["c1", "c2", "c3"]);
    let id = |rng: &mut Rng| match rng.below(6) {
        0 => format!("{}", rng.int(0, 40)),
        1 => format!("{}-*", rng.int(0, 40)),
        2 => rng.pick(&["-", "+", "0-0", "bad"]).to_string(),
        _ => format!("{}-{}", rng.int(0, 40), rng.int(0, 3)),
    };
    let bound = |rng: &mut Rng| match rng.below(4) {
        0 => rng.pick(&["-", "+"]).to_string(),
        1 => format!("({}-{}", rng.int(0, 40), rng.int(0, 3)),
        _ => format!("{}", rng.int(0, 40)),
    };
    match rng.below(21) {
        0..=3 => op(args!["XADD", k, id(rng), "f", value(rng)]),
        4 => op(args!["XADD", k, "NOMKSTREAM", "MAXLEN", "=", rng.int(0, 5), id(rng), "f", value(rng), "g", "1"]),
        5 => op(args!["XADD", k, "MINID", "=", rng.int(0, 30), id(rng), "f", value(rng)]),
        6 => op(args!["XLEN", k]),
        7 => op(args!["XRANGE", k, bound(rng), bound(rng), "COUNT", rng.int(0, 4)]),
        8 => op(args!["XREVRANGE", k, bound(rng), bound(rng)]),
        9 => op(args!["XDEL", k, id(rng), id(rng)]),
        10 => op(args!["XTRIM", k, rng.pick(&["MAXLEN", "MINID"]), "=", rng.int(0, 20)]),
        11 => op(args!["XREAD", "COUNT", rng.int(1, 3), "STREAMS", k, rng.pick(KEYS), id(rng), id(rng)]),
        12 => op(args!["XGROUP", "CREATE", k, group(rng), rng.pick(&["0", "$", "5-0"]), "MKSTREAM"]),
        13 => op(args!["XGROUP", "SETID", k, group(rng), rng.pick(&["0", "$", "10-1"])]),
        14 => op(args![
            "XREADGROUP",
            "GROUP",
            group(rng),
            consumer(rng),
            "COUNT",
            rng.int(1, 3),
            "STREAMS",
            k,
            rng.pick(&[">", ">", "0"])
        ]),
        15 => op(args!["XACK", k, group(rng), id(rng), id(rng)]),
        16 => op(args!["XPENDING", k, group(rng)]),
        17 => op(args!["XCLAIM", k, group(rng), consumer(rng), 0, id(rng), "JUSTID"]),
        18 => op(args!["XAUTOCLAIM", k, group(rng), consumer(rng), 0, "0-0", "COUNT", rng.int(1, 3), "JUSTID"]),
        19 => op(args!["XGROUP", "DELCONSUMER", k, group(rng), consumer(rng)]),
        // Since 7.2, XREADGROUP, XCLAIM and XAUTOCLAIM register their consumer even when they
        // serve nothing (so its seen-time moves); 7.0, the reference here, does not. Only a
        // consumer no read names lets CREATECONSUMER's reply agree.
        _ => op(args!["XGROUP", "CREATECONSUMER", k, group(rng), "registered"]),
    }
}

/// Each member has its own few positions, so no two members ever share a
/// point: Redis leaves the order of equally distant members undefined.
pub fn geo_op(rng: &mut Rng) -> Op {
    if rng.chance(4) {
        return generic(rng);
    }
    const MEMBERS: &[&str] = &["rome", "paris", "oslo", "lima", "cairo"];
    const SPOTS: &[(&str, &str)] = &[
        ("12.4964", "41.9028"),
        ("12.5", "41.91"),
        ("2.3522", "48.8566"),
        ("2.36", "48.86"),
        ("10.7522", "59.9139"),
        ("10.8", "59.9"),
        ("-77.0428", "-12.0464"),
        ("-77.03", "-12.05"),
        ("31.2357", "30.0444"),
        ("31.24", "30.05"),
    ];
    let k = rng.pick(KEYS);
    let member = |rng: &mut Rng| {
        let i = rng.below(MEMBERS.len() as u64) as usize;
        (MEMBERS[i], SPOTS[2 * i + rng.below(2) as usize])
    };
    let name = |rng: &mut Rng| rng.pick(&["rome", "paris", "oslo", "lima", "cairo", "nowhere"]);
    let unit = |rng: &mut Rng| rng.pick(&["m", "km", "mi", "ft"]);
    let order = |rng: &mut Rng| rng.pick(&["ASC", "DESC"]);
    match rng.below(13) {
        0..=2 => {
            let (m1, (lon1, lat1)) = member(rng);
            let (m2, (lon2, lat2)) = member(rng);
            op(args!["GEOADD", k, lon1, lat1, m1, lon2, lat2, m2])
        }
        3 => {
            let (m, (lon, lat)) = member(rng);
            op(args!["GEOADD", k, rng.pick(&["NX", "XX", "CH"]), lon, lat, m])
        }
        4 => op(args!["GEODIST", k, name(rng), name(rng), unit(rng)]),
        5 => op(args!["GEOHASH", k, name(rng), name(rng)]),
        6 => op(args!["GEOPOS", k, name(rng), name(rng)]),
        7 => op(args![
            "GEOSEARCH",
            k,
            "FROMMEMBER",
            name(rng),
            "BYRADIUS",
            rng.pick(&["10", "2000", "12000"]),
            unit(rng),
            order(rng),
            "WITHDIST",
            "WITHCOORD",
            "WITHHASH"
        ]),
        8 => op(args![
            "GEOSEARCH",
            k,
            "FROMLONLAT",
            "10",
            "45",
            "BYBOX",
            rng.pick(&["500", "3000", "20000"]),
            rng.pick(&["400", "4000"]),
            "km",
            order(rng),
            "COUNT",
            rng.int(1, 4)
        ]),
        9 => op(args![
            "GEOSEARCHSTORE",
            rng.pick(KEYS),
            k,
            "FROMLONLAT",
            "5",
            "45",
            "BYRADIUS",
            rng.pick(&["1000", "5000"]),
            "km",
            order(rng),
            "STOREDIST"
        ]),
        10 => op(args!["GEORADIUS", k, "12", "42", rng.pick(&["100", "3000"]), "km", order(rng), "WITHDIST"]),
        11 => op(args!["GEORADIUSBYMEMBER", k, name(rng), "2500", "km", order(rng), "COUNT", 2]),
        _ => op(args!["ZRANGE", k, 0, -1, "WITHSCORES"]),
    }
}

/// Runs `steps` commands from `generate` for each seed on a fresh real
/// Redis and a fresh harness, in RESP2 for even seeds and RESP3 for odd.
pub fn check_against_redis(generate: fn(&mut Rng) -> Op, seeds: std::ops::Range<u64>, steps: usize) {
    let mut redis = RealRedis::start();
    // REDRAFT_PROP_TRACE=1 prints every command with both replies, to see how a failing seed
    // got where it diverged.
    let trace = std::env::var_os("REDRAFT_PROP_TRACE").is_some();
    for seed in seeds {
        let mut rng = Rng::new(seed);
        let mut harness = TestKeyspace::new();
        let resp3 = seed % 2 == 1;
        redis.exec(&[Bytes::from("FLUSHALL")]);
        redis.exec(&[Bytes::from("HELLO"), Bytes::from(if resp3 { "3" } else { "2" })]);
        harness.resp3 = resp3;
        let mut history: Vec<String> = Vec::new();
        for step in 0..steps {
            let op = generate(&mut rng);
            let args: Vec<Bytes> = op.args.iter().map(|a| Bytes::copy_from_slice(a.as_bytes())).collect();
            history.push(op.args.join(" "));
            let expected = redis.exec(&args);
            let reply = harness.exec_bytes(&args);
            let actual = harness.encode(&reply);
            if trace {
                eprintln!(
                    "seed {seed} step {step}: {}\n  redis:   {:?}\n  redraft: {:?}",
                    op.args.join(" "),
                    String::from_utf8_lossy(&expected),
                    String::from_utf8_lossy(&actual)
                );
            }
            let same = expected == actual
                || (op.unordered
                    && resp::canonical_unordered(&expected)
                        .is_some_and(|c| Some(c) == resp::canonical_unordered(&actual)));
            if !same {
                let recent = history.iter().rev().take(25).rev().cloned().collect::<Vec<_>>().join("\n  ");
                panic!(
                    "seed {seed} ({}) step {step}: {}\n  redis:   {:?}\n  redraft: {:?}\nlast commands:\n  {recent}",
                    if resp3 { "RESP3" } else { "RESP2" },
                    op.args.join(" "),
                    String::from_utf8_lossy(&expected),
                    String::from_utf8_lossy(&actual),
                );
            }
        }
    }
}

/// PFCOUNT of a single key never writes its cached cardinality back (it
/// is a read here), so the generator never GETs a HyperLogLog key.
#[test]
fn random_bitmap_and_hyperloglog_commands_match_redis() {
    check_against_redis(bits_op, 0..8, 800);
}

#[test]
fn random_list_commands_match_redis() {
    check_against_redis(list_op, 0..8, 800);
}

#[test]
fn random_string_commands_match_redis() {
    check_against_redis(string_op, 0..8, 800);
}

#[test]
fn random_stream_commands_match_redis() {
    check_against_redis(stream_op, 0..8, 800);
}

#[test]
fn random_geo_commands_match_redis() {
    check_against_redis(geo_op, 0..8, 600);
}
