//! Unit tests of hash field expiry (Redis 7.4's HEXPIRE family) through
//! [`TestKeyspace`]. Debian's redis-server is 7.0 and has no such commands,
//! so the expected replies are written from Redis 7.4's `t_hash.c` and
//! documentation, not compared with a running server.

use bytes::Bytes;
use resp::Frame;
use storage::Cf;

use crate::commands::testing::{array, bulk, err, int, ok, TestKeyspace, START_MS};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

fn ints(values: &[i64]) -> Frame {
    array(values.iter().map(|v| int(*v)).collect())
}

fn sorted_texts(frame: &Frame) -> Vec<String> {
    let Frame::Array(items) = frame else { panic!("not an array: {frame:?}") };
    let mut out: Vec<String> = items
        .iter()
        .map(|f| match f {
            Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("not a bulk: {other:?}"),
        })
        .collect();
    out.sort();
    out
}

/// Number of entries stored in a column family (range deletions honoured).
fn stored_entries(ks: &TestKeyspace, cf: Cf) -> usize {
    ks.rocks().iterator_cf(cf.handle(ks.rocks()), rocksdb::IteratorMode::Start).count()
}

/// Runs the reclaim a leader's `ReclaimExpiredFields` entry runs for `key`.
fn reclaim(ks: &mut TestKeyspace, key: &str, limit: usize) -> u64 {
    ks.apply_entry(|txn| storage::field_expiry::reclaim(txn, 0, key.as_bytes(), limit).expect("reclaim"))
}

#[test]
fn hexpire_sets_per_field_ttls_that_httl_and_friends_report() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["HSET", "h", "a", "1", "b", "2"]);
    assert_eq!(ks.exec(&["HEXPIRE", "h", "100", "FIELDS", "2", "a", "zz"]), ints(&[1, -2]));
    assert_eq!(ks.exec(&["HTTL", "h", "FIELDS", "3", "a", "b", "zz"]), ints(&[100, -1, -2]));
    assert_eq!(ks.exec(&["HPTTL", "h", "FIELDS", "1", "a"]), ints(&[100_000]));
    let at_ms = (START_MS + 100_000) as i64;
    assert_eq!(ks.exec(&["HEXPIRETIME", "h", "FIELDS", "2", "a", "b"]), ints(&[at_ms / 1000, -1]));
    assert_eq!(ks.exec(&["HPEXPIRETIME", "h", "fields", "1", "a"]), ints(&[at_ms]));
    ks.advance_ms(1);
    assert_eq!(ks.exec(&["HTTL", "h", "FIELDS", "1", "a"]), ints(&[100]), "seconds round up");
    assert_eq!(ks.exec(&["HPTTL", "h", "FIELDS", "1", "a"]), ints(&[99_999]));
    assert_eq!(ks.exec(&["HPEXPIRE", "h", "1500", "FIELDS", "1", "b"]), ints(&[1]));
    assert_eq!(ks.exec(&["HTTL", "h", "FIELDS", "1", "b"]), ints(&[2]));
    let at_s = (START_MS / 1000 + 500).to_string();
    assert_eq!(ks.exec(&["HEXPIREAT", "h", &at_s, "FIELDS", "1", "a"]), ints(&[1]));
    assert_eq!(ks.exec(&["HPEXPIRETIME", "h", "FIELDS", "1", "a"]), ints(&[(START_MS + 500_000) as i64]));
    let at_ms = (START_MS + 7_000).to_string();
    assert_eq!(ks.exec(&["HPEXPIREAT", "h", &at_ms, "FIELDS", "1", "a"]), ints(&[1]));
    assert_eq!(ks.exec(&["HPTTL", "h", "FIELDS", "1", "a"]), ints(&[6_999]));
}

#[test]
fn missing_keys_answer_minus_two_for_every_field() {
    let mut ks = TestKeyspace::new();
    for cmd in [
        vec!["HEXPIRE", "nokey", "10", "FIELDS", "2", "a", "b"],
        vec!["HPEXPIREAT", "nokey", "10", "NX", "FIELDS", "2", "a", "b"],
        vec!["HTTL", "nokey", "FIELDS", "2", "a", "b"],
        vec!["HPEXPIRETIME", "nokey", "FIELDS", "2", "a", "b"],
        vec!["HPERSIST", "nokey", "FIELDS", "2", "a", "b"],
    ] {
        assert_eq!(ks.exec(&cmd), ints(&[-2, -2]), "{cmd:?}");
    }
    assert_eq!(ks.exec(&["EXISTS", "nokey"]), int(0));
}

#[test]
fn conditions_follow_redis_for_fields_with_and_without_ttl() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["HSET", "h", "f", "v", "g", "v"]);
    // No expiry yet: NX and LT (no expiry counts as infinite) set; XX and GT do not.
    assert_eq!(ks.exec(&["HEXPIRE", "h", "100", "XX", "FIELDS", "1", "f"]), ints(&[0]));
    assert_eq!(ks.exec(&["HEXPIRE", "h", "100", "GT", "FIELDS", "1", "f"]), ints(&[0]));
    assert_eq!(ks.exec(&["HTTL", "h", "FIELDS", "1", "f"]), ints(&[-1]));
    assert_eq!(ks.exec(&["HEXPIRE", "h", "100", "nx", "FIELDS", "1", "f"]), ints(&[1]));
    assert_eq!(ks.exec(&["HEXPIRE", "h", "100", "LT", "FIELDS", "1", "g"]), ints(&[1]));
    // With an expiry of 100 s.
    assert_eq!(ks.exec(&["HEXPIRE", "h", "50", "NX", "FIELDS", "1", "f"]), ints(&[0]));
    assert_eq!(ks.exec(&["HEXPIRE", "h", "200", "XX", "FIELDS", "1", "f"]), ints(&[1]));
    assert_eq!(ks.exec(&["HEXPIRE", "h", "200", "GT", "FIELDS", "1", "f"]), ints(&[0]), "equal is not greater");
    assert_eq!(ks.exec(&["HEXPIRE", "h", "150", "GT", "FIELDS", "1", "f"]), ints(&[0]));
    assert_eq!(ks.exec(&["HEXPIRE", "h", "300", "GT", "FIELDS", "1", "f"]), ints(&[1]));
    assert_eq!(ks.exec(&["HEXPIRE", "h", "300", "LT", "FIELDS", "1", "f"]), ints(&[0]), "equal is not less");
    assert_eq!(ks.exec(&["HEXPIRE", "h", "400", "LT", "FIELDS", "1", "f"]), ints(&[0]));
    assert_eq!(ks.exec(&["HEXPIRE", "h", "50", "LT", "FIELDS", "2", "f", "nope"]), ints(&[1, -2]));
    assert_eq!(ks.exec(&["HTTL", "h", "FIELDS", "2", "f", "g"]), ints(&[50, 100]));
}

#[test]
fn a_time_not_in_the_future_deletes_the_field_and_the_last_one_the_key() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(ks.exec(&["HEXPIRE", "h", "0", "FIELDS", "2", "a", "a"]), ints(&[2, -2]));
    // A condition that fails keeps the field even with a past time.
    assert_eq!(ks.exec(&["HEXPIRE", "h", "0", "GT", "FIELDS", "1", "b"]), ints(&[0]));
    assert_eq!(ks.exec(&["HGET", "h", "b"]), bulk("2"));
    let now = START_MS.to_string();
    assert_eq!(ks.exec(&["HPEXPIREAT", "h", &now, "FIELDS", "1", "b"]), ints(&[2]), "now is not the future");
    assert_eq!(ks.exec(&["HLEN", "h"]), int(1));
    assert_eq!(ks.exec(&["HEXPIREAT", "h", "1", "FIELDS", "1", "c"]), ints(&[2]));
    assert_eq!(ks.exec(&["EXISTS", "h"]), int(0));
    assert_eq!(ks.exec(&["DBSIZE"]), int(0));
}

#[test]
fn bad_arguments_get_redis_7_4_errors_after_the_type_check() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["HSET", "h", "a", "1"]);
    ks.exec(&["SET", "s", "x"]);
    let cases: &[(&[&str], &str)] = &[
        (&["HEXPIRE", "h", "abc", "FIELDS", "1", "a"], "ERR value is not an integer or out of range"),
        (&["HEXPIRE", "h", "-1", "FIELDS", "1", "a"], "ERR invalid expire time, must be >= 0"),
        (&["HEXPIRE", "nokey", "-1", "FIELDS", "1", "a"], "ERR invalid expire time, must be >= 0"),
        (&["HEXPIRE", "h", "70368744178", "FIELDS", "1", "a"], "ERR invalid expire time in 'hexpire' command"),
        (&["HEXPIREAT", "h", "70368744178", "FIELDS", "1", "a"], "ERR invalid expire time in 'hexpireat' command"),
        (&["HPEXPIREAT", "h", "70368744177664", "FIELDS", "1", "a"], "ERR invalid expire time in 'hpexpireat' command"),
        (&["HPEXPIRE", "h", "70368744177663", "FIELDS", "1", "a"], "ERR invalid expire time in 'hpexpire' command"),
        (&["HEXPIRE", "h", "9223372036854775807", "FIELDS", "1", "a"], "ERR invalid expire time in 'hexpire' command"),
        (&["HEXPIRE", "h", "10", "FIELDS", "0", "a"], "ERR Parameter `numFields` should be greater than 0"),
        (&["HEXPIRE", "h", "10", "FIELDS", "x", "a"], "ERR Parameter `numFields` should be greater than 0"),
        (
            &["HEXPIRE", "h", "10", "FIELDS", "2", "a"],
            "ERR The `numfields` parameter must match the number of arguments",
        ),
        (
            &["HEXPIRE", "h", "10", "NX", "FIELDS", "1"],
            "ERR The `numfields` parameter must match the number of arguments",
        ),
        (
            &["HEXPIRE", "h", "10", "BOGUS", "1", "a"],
            "ERR Mandatory argument FIELDS is missing or not at the right position",
        ),
        (
            &["HEXPIRE", "h", "10", "XX", "a", "1"],
            "ERR Mandatory argument FIELDS is missing or not at the right position",
        ),
        (&["HEXPIRE", "h", "10", "FIELDS", "1"], "ERR wrong number of arguments for 'hexpire' command"),
        (&["HTTL", "h", "FIELDS", "0", "a"], "ERR Number of fields must be a positive integer"),
        (&["HTTL", "h", "FIELDS", "-1", "a"], "ERR Number of fields must be a positive integer"),
        (&["HPTTL", "h", "FIELDS", "3", "a"], "ERR The `numfields` parameter must match the number of arguments"),
        (
            &["HEXPIRETIME", "h", "FIELD", "1", "a"],
            "ERR Mandatory argument FIELDS is missing or not at the right position",
        ),
        (&["HTTL", "h", "FIELDS", "1"], "ERR wrong number of arguments for 'httl' command"),
        (&["HPERSIST", "h", "FIELDS", "x", "a"], "ERR Number of fields must be a positive integer"),
        (
            &["HPERSIST", "h", "FIELDS", "1", "a", "b"],
            "ERR The `numfields` parameter must match the number of arguments",
        ),
        (&["HEXPIRE", "s", "abc", "FIELDS", "0", "a"], WRONGTYPE),
        (&["HPEXPIREAT", "s", "10", "FIELDS", "1", "a"], WRONGTYPE),
        (&["HTTL", "s", "FIELDS", "0", "a"], WRONGTYPE),
        (&["HPEXPIRETIME", "s", "FIELDS", "1", "a"], WRONGTYPE),
        (&["HPERSIST", "s", "NOFIELDS", "1", "a"], WRONGTYPE),
    ];
    for (cmd, expected) in cases {
        assert_eq!(ks.exec(cmd), err(expected), "{cmd:?}");
    }
    // The latest time accepted is (2^48 - 1) >> 2 ms.
    assert_eq!(ks.exec(&["HPEXPIREAT", "h", "70368744177663", "FIELDS", "1", "a"]), ints(&[1]));
    assert_eq!(ks.exec(&["HEXPIREAT", "h", "70368744177", "FIELDS", "1", "a"]), ints(&[1]));
    assert_eq!(ks.exec(&["GET", "s"]), bulk("x"));
}

#[test]
fn expired_fields_are_invisible_to_every_hash_read() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["HSET", "h", "a", "1", "b", "22", "c", "333"]);
    assert_eq!(ks.exec(&["HPEXPIRE", "h", "100", "FIELDS", "1", "a"]), ints(&[1]));
    assert_eq!(ks.exec(&["HLEN", "h"]), int(3));
    ks.advance_ms(100);
    assert_eq!(ks.exec(&["HGET", "h", "a"]), Frame::Null);
    assert_eq!(ks.exec(&["HMGET", "h", "a", "b"]), array(vec![Frame::Null, bulk("22")]));
    assert_eq!(ks.exec(&["HLEN", "h"]), int(2));
    assert_eq!(ks.exec(&["HEXISTS", "h", "a"]), int(0));
    assert_eq!(ks.exec(&["HSTRLEN", "h", "a"]), int(0));
    assert_eq!(sorted_texts(&ks.exec(&["HKEYS", "h"])), ["b", "c"]);
    assert_eq!(sorted_texts(&ks.exec(&["HVALS", "h"])), ["22", "333"]);
    let Frame::Map(pairs) = ks.exec(&["HGETALL", "h"]) else { panic!("a map") };
    assert_eq!(pairs.len(), 2);
    let Frame::Array(scan) = ks.exec(&["HSCAN", "h", "0"]) else { panic!("an array") };
    assert_eq!(sorted_texts(&scan[1]), ["22", "333", "b", "c"]);
    assert_eq!(sorted_texts(&ks.exec(&["HRANDFIELD", "h", "5"])), ["b", "c"]);
    let picks = sorted_texts(&ks.exec(&["HRANDFIELD", "h", "-20"]));
    assert_eq!(picks.len(), 20);
    assert!(picks.iter().all(|f| f != "a"), "{picks:?}");
    for _ in 0..10 {
        assert_ne!(ks.exec(&["HRANDFIELD", "h"]), bulk("a"));
    }
    assert_eq!(ks.exec(&["HTTL", "h", "FIELDS", "2", "a", "b"]), ints(&[-2, -1]));
    assert_eq!(ks.exec(&["TYPE", "h"]), Frame::Simple(Bytes::from_static(b"hash")));
}

#[test]
fn writes_treat_expired_fields_as_missing() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["HSET", "h", "a", "5", "b", "x", "c", "y", "d", "z"]);
    ks.exec(&["HPEXPIRE", "h", "10", "FIELDS", "4", "a", "b", "c", "d"]);
    ks.exec(&["HSET", "h", "keep", "1"]);
    ks.advance_ms(10);
    assert_eq!(ks.exec(&["HSETNX", "h", "a", "new"]), int(1));
    assert_eq!(ks.exec(&["HINCRBY", "h", "b", "3"]), int(3), "counts from 0");
    assert_eq!(ks.exec(&["HSET", "h", "c", "again"]), int(1), "a new field");
    assert_eq!(ks.exec(&["HDEL", "h", "d"]), int(0));
    assert_eq!(ks.exec(&["HPERSIST", "h", "FIELDS", "2", "d", "a"]), ints(&[-2, -1]));
    assert_eq!(ks.exec(&["HEXPIRE", "h", "10", "FIELDS", "1", "d"]), ints(&[-2]));
    assert_eq!(ks.exec(&["HLEN", "h"]), int(4));
    assert_eq!(ks.exec(&["HTTL", "h", "FIELDS", "3", "a", "b", "c"]), ints(&[-1, -1, -1]));
}

#[test]
fn a_hash_whose_every_field_expired_is_gone() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["HSET", "h", "a", "1", "b", "2"]);
    ks.exec(&["HPEXPIRE", "h", "10", "FIELDS", "1", "a"]);
    ks.exec(&["HPEXPIRE", "h", "20", "FIELDS", "1", "b"]);
    ks.advance_ms(10);
    assert_eq!(ks.exec(&["EXISTS", "h"]), int(1), "b is still there");
    ks.advance_ms(10);
    assert_eq!(ks.exec(&["EXISTS", "h"]), int(0));
    assert_eq!(ks.exec(&["TYPE", "h"]), Frame::Simple(Bytes::from_static(b"none")));
    assert_eq!(ks.exec(&["KEYS", "*"]), array(vec![]));
    assert_eq!(ks.exec(&["HLEN", "h"]), int(0));
    assert_eq!(ks.exec(&["HGETALL", "h"]), Frame::Map(vec![]));
    assert_eq!(ks.exec(&["HTTL", "h", "FIELDS", "1", "b"]), ints(&[-2]));
    // Another type may take the key; a new hash does not see the old fields.
    assert_eq!(ks.exec(&["HSET", "h", "c", "3"]), int(1));
    assert_eq!(ks.exec(&["HGETALL", "h"]), Frame::Map(vec![(bulk("c"), bulk("3"))]));
    assert_eq!(ks.exec(&["HTTL", "h", "FIELDS", "1", "c"]), ints(&[-1]));
    ks.exec(&["HPEXPIRE", "h", "10", "FIELDS", "1", "c"]);
    ks.advance_ms(10);
    assert_eq!(ks.exec(&["SET", "h", "s"]), ok());
    assert_eq!(ks.exec(&["GET", "h"]), bulk("s"));
}

#[test]
fn hset_clears_a_field_ttl_and_hincrby_keeps_it() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["HSET", "h", "a", "1", "b", "2", "n", "1", "x", "1.5", "s", "v"]);
    ks.exec(&["HEXPIRE", "h", "100", "FIELDS", "5", "a", "b", "n", "x", "s"]);
    assert_eq!(ks.exec(&["HSET", "h", "a", "9"]), int(0));
    assert_eq!(ks.exec(&["HMSET", "h", "b", "9"]), ok());
    assert_eq!(ks.exec(&["HINCRBY", "h", "n", "1"]), int(2));
    assert_eq!(ks.exec(&["HINCRBYFLOAT", "h", "x", "1"]), bulk("2.5"));
    assert_eq!(ks.exec(&["HSETNX", "h", "s", "w"]), int(0));
    assert_eq!(ks.exec(&["HTTL", "h", "FIELDS", "5", "a", "b", "n", "x", "s"]), ints(&[-1, -1, 100, 100, 100]));
    ks.advance_ms(100_000);
    assert_eq!(sorted_texts(&ks.exec(&["HKEYS", "h"])), ["a", "b"]);
}

#[test]
fn hpersist_removes_field_ttls() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["HSET", "h", "a", "1", "b", "2"]);
    ks.exec(&["HEXPIRE", "h", "100", "FIELDS", "1", "a"]);
    assert_eq!(ks.exec(&["HPERSIST", "h", "FIELDS", "3", "a", "b", "c"]), ints(&[1, -1, -2]));
    assert_eq!(ks.exec(&["HPERSIST", "h", "FIELDS", "1", "a"]), ints(&[-1]));
    assert_eq!(ks.exec(&["HTTL", "h", "FIELDS", "1", "a"]), ints(&[-1]));
    ks.advance_ms(200_000);
    assert_eq!(ks.exec(&["HLEN", "h"]), int(2));
    assert_eq!(stored_entries(&ks, Cf::Expires), 0, "no field expiry left to index");
}

#[test]
fn field_ttls_are_independent_of_the_key_ttl() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["HSET", "h", "a", "1", "b", "2"]);
    ks.exec(&["HEXPIRE", "h", "100", "FIELDS", "1", "a"]);
    assert_eq!(ks.exec(&["TTL", "h"]), int(-1), "a field TTL is not the key's");
    ks.exec(&["EXPIRE", "h", "50"]);
    assert_eq!(ks.exec(&["PERSIST", "h"]), int(1));
    assert_eq!(ks.exec(&["HTTL", "h", "FIELDS", "1", "a"]), ints(&[100]));
    ks.exec(&["EXPIRE", "h", "50"]);
    ks.advance_ms(50_000);
    assert_eq!(ks.exec(&["EXISTS", "h"]), int(0));
    assert_eq!(ks.exec(&["HSET", "h", "a", "1"]), int(1));
    assert_eq!(ks.exec(&["HTTL", "h", "FIELDS", "1", "a"]), ints(&[-1]), "the old field TTL went with the key");
    ks.exec(&["HEXPIRE", "h", "100", "FIELDS", "1", "a"]);
    assert_eq!(ks.exec(&["DEL", "h"]), int(1));
    assert_eq!(ks.exec(&["HSET", "h", "a", "1"]), int(1));
    assert_eq!(ks.exec(&["HTTL", "h", "FIELDS", "1", "a"]), ints(&[-1]));
}

#[test]
fn rename_copy_and_move_keep_field_ttls() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["HSET", "h", "a", "1", "b", "2"]);
    ks.exec(&["HEXPIRE", "h", "100", "FIELDS", "1", "a"]);
    assert_eq!(ks.exec(&["RENAME", "h", "r"]), ok());
    assert_eq!(ks.exec(&["HTTL", "r", "FIELDS", "2", "a", "b"]), ints(&[100, -1]));
    assert_eq!(ks.exec(&["COPY", "r", "c"]), int(1));
    assert_eq!(ks.exec(&["HTTL", "c", "FIELDS", "2", "a", "b"]), ints(&[100, -1]));
    assert_eq!(ks.exec(&["MOVE", "c", "1"]), int(1));
    assert_eq!(ks.exec(&["SELECT", "1"]), ok());
    assert_eq!(ks.exec(&["HTTL", "c", "FIELDS", "2", "a", "b"]), ints(&[100, -1]));
    assert_eq!(ks.exec(&["SELECT", "0"]), ok());
    ks.advance_ms(100_000);
    assert_eq!(ks.exec(&["HKEYS", "r"]), array(vec![bulk("b")]));
    // Each copy has its own index entry, so each is reclaimed.
    assert_eq!(reclaim(&mut ks, "r", usize::MAX), 1);
    assert_eq!(ks.apply_entry(|txn| storage::field_expiry::reclaim(txn, 1, b"c", 10).expect("reclaim")), 1);
    assert_eq!(stored_entries(&ks, Cf::Expires), 0);
}

#[test]
fn object_encoding_says_listpackex_once_fields_had_ttls() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["HSET", "h", "a", "1"]);
    assert_eq!(ks.exec(&["OBJECT", "ENCODING", "h"]), bulk("listpack"));
    assert_eq!(ks.exec(&["HEXPIRE", "h", "100", "FIELDS", "1", "zz"]), ints(&[-2]));
    assert_eq!(ks.exec(&["OBJECT", "ENCODING", "h"]), bulk("listpackex"));
    ks.exec(&["HSET", "g", "a", "1"]);
    ks.exec(&["HEXPIRE", "g", "100", "FIELDS", "1", "a"]);
    ks.exec(&["HPERSIST", "g", "FIELDS", "1", "a"]);
    assert_eq!(ks.exec(&["OBJECT", "ENCODING", "g"]), bulk("listpackex"), "no way back, as in Redis");
    let long = "x".repeat(65);
    ks.exec(&["HSET", "t", "a", &long]);
    ks.exec(&["HEXPIRE", "t", "100", "FIELDS", "1", "a"]);
    assert_eq!(ks.exec(&["OBJECT", "ENCODING", "t"]), bulk("hashtable"));
}

#[test]
fn reclaim_deletes_expired_fields_and_the_emptied_key() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    ks.exec(&["HPEXPIRE", "h", "10", "FIELDS", "2", "a", "b"]);
    ks.exec(&["HPEXPIRE", "h", "20", "FIELDS", "1", "c"]);
    // 3 fields, and 2 companion entries per field with an expiry.
    assert_eq!(stored_entries(&ks, Cf::Subkeys), 9);
    assert_eq!(reclaim(&mut ks, "h", usize::MAX), 0, "nothing due yet");
    ks.advance_ms(10);
    assert_eq!(reclaim(&mut ks, "h", 1), 1, "the limit bounds one entry's work");
    assert_eq!(stored_entries(&ks, Cf::Subkeys), 6);
    assert_eq!(ks.exec(&["HLEN", "h"]), int(1));
    assert_eq!(reclaim(&mut ks, "h", usize::MAX), 1);
    assert_eq!(stored_entries(&ks, Cf::Subkeys), 3);
    assert_eq!(ks.exec(&["HGETALL", "h"]), Frame::Map(vec![(bulk("c"), bulk("3"))]));
    // The index now names c's expiry; persisting c before it is due makes
    // the reclaim a no-op.
    ks.exec(&["HPERSIST", "h", "FIELDS", "1", "c"]);
    ks.advance_ms(10);
    assert_eq!(reclaim(&mut ks, "h", usize::MAX), 0);
    ks.exec(&["HPEXPIRE", "h", "5", "FIELDS", "1", "c"]);
    ks.advance_ms(5);
    assert_eq!(reclaim(&mut ks, "h", usize::MAX), 1);
    assert_eq!(stored_entries(&ks, Cf::Data), 0, "the key went with its last field");
    assert_eq!(stored_entries(&ks, Cf::Subkeys), 0);
    assert_eq!(stored_entries(&ks, Cf::Expires), 0);
    assert_eq!(ks.exec(&["DBSIZE"]), int(0));
}

#[test]
fn reclaim_leaves_other_values_alone() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["SET", "s", "x"]);
    ks.exec(&["HSET", "h", "a", "1"]);
    assert_eq!(reclaim(&mut ks, "s", usize::MAX), 0);
    assert_eq!(reclaim(&mut ks, "h", usize::MAX), 0);
    assert_eq!(reclaim(&mut ks, "nokey", usize::MAX), 0);
    assert_eq!(ks.exec(&["GET", "s"]), bulk("x"));
    assert_eq!(ks.exec(&["HGET", "h", "a"]), bulk("1"));
}

#[test]
fn the_field_expiry_index_follows_the_earliest_expiry() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["HSET", "h", "a", "1", "b", "2"]);
    ks.exec(&["HPEXPIRE", "h", "30", "FIELDS", "1", "a"]);
    ks.exec(&["HPEXPIRE", "h", "20", "FIELDS", "1", "b"]);
    let entries = |ks: &TestKeyspace| -> Vec<(u16, u64, Vec<u8>)> {
        let cf = Cf::Expires.handle(ks.rocks());
        ks.rocks()
            .iterator_cf(cf, rocksdb::IteratorMode::Start)
            .map(|item| {
                let (raw, _) = item.expect("read");
                let (db, at, key) = storage::keys::decode_field_expires_key(&raw).expect("a field expiry entry");
                (db, at, key.to_vec())
            })
            .collect()
    };
    assert_eq!(entries(&ks), vec![(0, START_MS + 20, b"h".to_vec())]);
    ks.exec(&["HDEL", "h", "b"]);
    assert_eq!(entries(&ks), vec![(0, START_MS + 30, b"h".to_vec())]);
    ks.exec(&["FLUSHALL"]);
    assert_eq!(entries(&ks), vec![]);
}

#[test]
fn the_command_table_lists_the_field_expiry_commands_as_redis_7_4() {
    for (name, arity, write) in [
        ("hexpire", -6, true),
        ("hpexpire", -6, true),
        ("hexpireat", -6, true),
        ("hpexpireat", -6, true),
        ("httl", -5, false),
        ("hpttl", -5, false),
        ("hexpiretime", -5, false),
        ("hpexpiretime", -5, false),
        ("hpersist", -5, true),
    ] {
        let spec = crate::commands::lookup(name.as_bytes()).expect(name);
        assert_eq!(spec.arity, arity, "{name}");
        assert_eq!(spec.is_write(), write, "{name}");
        assert_eq!(spec.flags.names().last(), Some(&"fast"), "{name}");
        assert_eq!((spec.first_key, spec.last_key, spec.key_step), (1, 1, 1), "{name}");
        assert_eq!(spec.since, "7.4.0", "{name}");
        assert_eq!(spec.group.name(), "hash", "{name}");
    }
}
