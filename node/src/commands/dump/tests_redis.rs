//! DUMP/RESTORE against the reference redis-server (7.0.15), both ways, for
//! every type in its small and large encodings: a value made in Redis and
//! RESTOREd here reads back with Redis's exact reply bytes, and a value made
//! here, DUMPed, transcoded to RDB 10 (Redis 7.0 refuses 7.2's 11) and
//! RESTOREd in Redis reads back there as it does here.

use bytes::Bytes;

use super::super::property_tests::RealRedis;
use super::super::testing::TestKeyspace;
use super::{transcode, RDB_VERSION_7_0};

/// A key's setup commands (`K` stands for the key) and the reads compared;
/// reads starting with `^` compare their elements in any order.
struct Case {
    key: &'static str,
    setup: Vec<Vec<String>>,
    reads: Vec<Vec<&'static str>>,
}

fn words(line: &str) -> Vec<String> {
    line.split(' ').map(String::from).collect()
}

fn with_many(prefix: &str, items: impl Iterator<Item = String>) -> Vec<String> {
    let mut out = words(prefix);
    out.extend(items);
    out
}

fn cases() -> Vec<Case> {
    let long = "x".repeat(100);
    let kilobyte = "k".repeat(1000);
    let string_reads = vec![vec!["GET", "K"], vec!["STRLEN", "K"]];
    let list_reads = vec![vec!["LRANGE", "K", "0", "-1"], vec!["LLEN", "K"]];
    let hash_reads = vec![vec!["^HGETALL", "K"], vec!["HLEN", "K"]];
    let set_reads = vec![vec!["^SMEMBERS", "K"], vec!["SCARD", "K"]];
    let zset_reads = vec![vec!["ZRANGE", "K", "0", "-1", "WITHSCORES"], vec!["ZCARD", "K"]];
    let stream_reads = vec![
        vec!["XRANGE", "K", "-", "+"],
        vec!["XLEN", "K"],
        vec!["XINFO", "GROUPS", "K"],
        vec!["XPENDING", "K", "g1"],
        vec!["XPENDING", "K", "g2"],
    ];
    let string = |key, value: &str| Case {
        key,
        setup: vec![vec!["SET".into(), "K".into(), value.into()]],
        reads: string_reads.clone(),
    };
    vec![
        string("s-small", "hello"),
        string("s-int", "12345"),
        string("s-negative", "-7"),
        string("s-i64", "9223372036854775807"),
        string("s-float", "3.14"),
        // Redis compresses this one with LZF.
        string("s-long", &"ab".repeat(60)),
        string("s-binary", "\u{0}\u{1}\r\n\u{7f}"),
        Case {
            key: "l-small",
            setup: vec![words("RPUSH K a b 1 -5 300 -70000 9223372036854775807 3.5")],
            reads: list_reads.clone(),
        },
        Case {
            key: "l-ints",
            setup: vec![with_many("RPUSH K", (0..3000).map(|i| i.to_string()))],
            reads: list_reads.clone(),
        },
        Case { key: "l-wide", setup: vec![with_many("RPUSH K", (0..20).map(|_| kilobyte.clone()))], reads: list_reads },
        Case { key: "h-small", setup: vec![words("HSET K f1 v1 f2 2 f3 -3.5")], reads: hash_reads.clone() },
        Case {
            key: "h-long-value",
            setup: vec![vec!["HSET".into(), "K".into(), "f".into(), long.clone()]],
            reads: hash_reads.clone(),
        },
        Case {
            key: "h-many",
            setup: vec![with_many("HSET K", (0..600).flat_map(|i| [format!("f{i}"), i.to_string()]))],
            reads: hash_reads,
        },
        Case {
            key: "set-ints",
            setup: vec![words("SADD K 3 1 2 -70000 9223372036854775807")],
            reads: set_reads.clone(),
        },
        Case {
            key: "set-many-ints",
            setup: vec![with_many("SADD K", (0..600).map(|i| (i * 7).to_string()))],
            reads: set_reads.clone(),
        },
        Case { key: "set-small", setup: vec![words("SADD K a b c 1")], reads: set_reads.clone() },
        Case { key: "set-many", setup: vec![with_many("SADD K", (0..200).map(|i| format!("m{i}")))], reads: set_reads },
        Case {
            key: "z-small",
            setup: vec![words("ZADD K 1 a 2.5 b -inf c +inf d -3 e 0 f 1e-5 g 12345678901234 h")],
            reads: zset_reads.clone(),
        },
        Case {
            key: "z-many",
            setup: vec![with_many("ZADD K", (0..200).flat_map(|i| [format!("{}", i as f64 / 7.0), format!("m{i}")]))],
            reads: zset_reads.clone(),
        },
        Case {
            key: "z-long-member",
            setup: vec![vec!["ZADD".into(), "K".into(), "1".into(), long.clone()]],
            reads: zset_reads,
        },
        Case {
            key: "stream-groups",
            setup: vec![
                words("XADD K 1-1 f v"),
                words("XADD K 1-2 f w"),
                words("XADD K 2-0 g 1 h 2"),
                words("XADD K 3-0 f x"),
                words("XGROUP CREATE K g1 0"),
                words("XGROUP CREATE K g2 $"),
                words("XREADGROUP GROUP g1 alice COUNT 2 STREAMS K >"),
                words("XREADGROUP GROUP g1 bob COUNT 1 STREAMS K >"),
                words("XGROUP CREATECONSUMER K g1 carol"),
                words("XDEL K 1-2"),
                words("XACK K g1 2-0"),
            ],
            reads: stream_reads.clone(),
        },
        Case {
            key: "stream-many",
            setup: {
                let mut setup: Vec<Vec<String>> =
                    (1..=250).map(|i| words(&format!("XADD K {i}-1 f {i} g x{i}"))).collect();
                setup.extend((1..=250).step_by(3).map(|i| words(&format!("XDEL K {i}-1"))));
                setup.push(words("XADD K 300-5 other field"));
                setup.push(words("XGROUP CREATE K g1 100-0"));
                setup.push(words("XREADGROUP GROUP g1 c COUNT 10 STREAMS K >"));
                setup
            },
            reads: stream_reads.clone(),
        },
        Case {
            key: "stream-empty",
            setup: vec![words("XGROUP CREATE K g1 $ MKSTREAM"), words("XADD K 5-5 a b"), words("XDEL K 5-5")],
            reads: stream_reads,
        },
    ]
}

fn args_for(template: &[String], key: &str) -> Vec<Bytes> {
    template
        .iter()
        .map(|a| if a == "K" { Bytes::copy_from_slice(key.as_bytes()) } else { Bytes::from(a.clone()) })
        .collect()
}

/// A read's reply bytes, canonical when the read is unordered.
fn compared(read: &[&str], reply: Vec<u8>) -> Vec<u8> {
    if read[0].starts_with('^') {
        resp::canonical_unordered(&reply).unwrap_or(reply)
    } else {
        reply
    }
}

fn read_args(read: &[&str], key: &str) -> Vec<Bytes> {
    read.iter()
        .map(|a| match *a {
            "K" => Bytes::copy_from_slice(key.as_bytes()),
            other => Bytes::copy_from_slice(other.trim_start_matches('^').as_bytes()),
        })
        .collect()
}

fn bulk_of(reply: &[u8]) -> Bytes {
    assert_eq!(reply[0], b'$', "a bulk reply: {}", String::from_utf8_lossy(reply));
    let header_end = reply.iter().position(|&c| c == b'\r').expect("a bulk header");
    let len: usize = std::str::from_utf8(&reply[1..header_end]).unwrap().parse().unwrap();
    Bytes::copy_from_slice(&reply[header_end + 2..header_end + 2 + len])
}

fn b(text: &str) -> Bytes {
    Bytes::copy_from_slice(text.as_bytes())
}

#[test]
fn values_dumped_by_redis_restore_here_with_identical_replies() {
    let mut redis = RealRedis::start();
    let mut ks = TestKeyspace::new();
    for case in cases() {
        for cmd in &case.setup {
            redis.exec(&args_for(cmd, case.key));
        }
        let payload = bulk_of(&redis.exec(&[b("DUMP"), b(case.key)]));
        let reply = ks.exec_bytes(&[b("RESTORE"), b(case.key), b("0"), payload]);
        assert_eq!(reply, resp::Frame::ok(), "{}", case.key);
        for read in &case.reads {
            let args = read_args(read, case.key);
            let expected = compared(read, redis.exec(&args));
            let frame = ks.exec_bytes(&args);
            let got = compared(read, ks.encode(&frame));
            assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&expected), "{read:?} of {}", case.key);
        }
    }
}

#[test]
fn values_dumped_here_restore_in_redis_with_identical_replies() {
    let mut redis = RealRedis::start();
    let mut ks = TestKeyspace::new();
    for case in cases() {
        for cmd in &case.setup {
            ks.exec_bytes(&args_for(cmd, case.key));
        }
        let resp::Frame::Bulk(payload) = ks.exec(&["DUMP", case.key]) else { panic!("DUMP {}", case.key) };
        let payload = Bytes::from(transcode(&payload, RDB_VERSION_7_0).expect("our own payload decodes"));
        let reply = redis.exec(&[b("RESTORE"), b(case.key), b("0"), payload]);
        assert_eq!(String::from_utf8_lossy(&reply), "+OK\r\n", "{}", case.key);
        for read in &case.reads {
            let args = read_args(read, case.key);
            let frame = ks.exec_bytes(&args);
            let expected = compared(read, ks.encode(&frame));
            let got = compared(read, redis.exec(&args));
            assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&expected), "{read:?} of {}", case.key);
        }
    }
}

/// RESTORE's errors, byte for byte, on the same arguments.
#[test]
fn restore_errors_match_redis() {
    let mut redis = RealRedis::start();
    let mut ks = TestKeyspace::new();
    redis.exec(&[b("SET"), b("k"), b("v")]);
    ks.exec(&["SET", "k", "v"]);
    let good = bulk_of(&redis.exec(&[b("DUMP"), b("k")]));
    let mut bad_crc = good.to_vec();
    *bad_crc.last_mut().unwrap() ^= 1;
    let mut v12 = good.to_vec();
    let at = v12.len() - 10;
    v12[at] = 12;
    // An empty list (type 1, no elements) with a valid footer.
    let empty = Bytes::from(super::rdb::seal(vec![1, 0], RDB_VERSION_7_0));
    let bad_crc = Bytes::from(bad_crc);
    let v12 = Bytes::from(v12);
    let calls: Vec<Vec<Bytes>> = vec![
        vec![b("RESTORE"), b("k"), b("0"), good.clone()],
        vec![b("RESTORE"), b("k"), b("x"), good.clone()],
        vec![b("RESTORE"), b("n"), b("x"), good.clone()],
        vec![b("RESTORE"), b("n"), b("-5"), good.clone()],
        vec![b("RESTORE"), b("n"), b("0"), bad_crc],
        vec![b("RESTORE"), b("n"), b("0"), v12],
        vec![b("RESTORE"), b("n"), b("0"), b("x")],
        vec![b("RESTORE"), b("n"), b("0"), empty],
        vec![b("RESTORE"), b("n"), b("0"), good.clone(), b("BOGUS")],
        vec![b("RESTORE"), b("n"), b("0"), good.clone(), b("IDLETIME")],
        vec![b("RESTORE"), b("n"), b("0"), good.clone(), b("IDLETIME"), b("-1")],
        vec![b("RESTORE"), b("n"), b("0"), good.clone(), b("IDLETIME"), b("1x")],
        vec![b("RESTORE"), b("n"), b("0"), good.clone(), b("FREQ"), b("256")],
        vec![b("RESTORE"), b("n"), b("0"), good.clone(), b("FREQ"), b("1"), b("IDLETIME"), b("1")],
        vec![b("RESTORE"), b("n"), b("0"), good.clone(), b("IDLETIME"), b("1"), b("FREQ"), b("1")],
        vec![b("RESTORE"), b("n")],
        vec![b("DUMP")],
        vec![b("DUMP"), b("nokey")],
        vec![b("RESTORE"), b("n"), b("1"), good.clone(), b("ABSTTL")],
        vec![b("EXISTS"), b("n")],
        vec![b("RESTORE"), b("k"), b("1"), good.clone(), b("ABSTTL"), b("REPLACE")],
        vec![b("EXISTS"), b("k")],
        vec![b("RESTORE"), b("n"), b("4102444800000"), good.clone(), b("ABSTTL"), b("FREQ"), b("0")],
        vec![b("PEXPIRETIME"), b("n")],
        vec![b("RESTORE"), b("n"), b("0"), good, b("REPLACE")],
        vec![b("TTL"), b("n")],
        vec![b("GET"), b("n")],
    ];
    for args in calls {
        let expected = redis.exec(&args);
        let frame = ks.exec_bytes(&args);
        let got = ks.encode(&frame);
        let shown: Vec<String> =
            args.iter().map(|a| String::from_utf8_lossy(&a[..a.len().min(24)]).into_owned()).collect();
        assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&expected), "{shown:?}");
    }
}
