//! Unit tests of the set commands, through [`TestKeyspace`]: expected
//! replies are those of Redis 7.2.

use std::collections::BTreeSet;

use bytes::Bytes;
use resp::Frame;

use crate::commands::testing::{array, bulk, err, int, TestKeyspace};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

fn encoding(ks: &mut TestKeyspace, key: &str) -> Frame {
    ks.exec(&["OBJECT", "ENCODING", key])
}

fn sadd(ks: &mut TestKeyspace, key: &str, members: &[String]) -> Frame {
    let mut args = vec!["SADD", key];
    args.extend(members.iter().map(String::as_str));
    ks.exec(&args)
}

fn numbered(prefix: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{prefix}{i}")).collect()
}

/// A reply's bytes on the wire.
fn wire(ks: &mut TestKeyspace, args: &[&str]) -> Vec<u8> {
    let reply = ks.exec(args);
    ks.encode(&reply)
}

fn texts(frame: &Frame) -> Vec<String> {
    match frame {
        Frame::Array(items) | Frame::Set(items) => items
            .iter()
            .map(|f| match f {
                Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
                other => panic!("not a bulk: {other:?}"),
            })
            .collect(),
        other => panic!("not an array: {other:?}"),
    }
}

fn sorted(frame: &Frame) -> Vec<String> {
    let mut all = texts(frame);
    all.sort();
    all
}

fn strs(items: &[&str]) -> Vec<String> {
    let mut all: Vec<String> = items.iter().map(|s| s.to_string()).collect();
    all.sort();
    all
}

#[test]
fn sadd_srem_and_membership() {
    let mut ks = TestKeyspace::new();
    assert_eq!(ks.exec(&["SADD", "s", "a", "b", "a"]), int(2));
    assert_eq!(ks.exec(&["SADD", "s", "b", "c"]), int(1));
    assert_eq!(ks.exec(&["SCARD", "s"]), int(3));
    assert_eq!(ks.exec(&["SCARD", "nokey"]), int(0));
    assert_eq!(ks.exec(&["SISMEMBER", "s", "a"]), int(1));
    assert_eq!(ks.exec(&["SISMEMBER", "s", "z"]), int(0));
    assert_eq!(ks.exec(&["SISMEMBER", "nokey", "a"]), int(0));
    assert_eq!(ks.exec(&["SMISMEMBER", "s", "a", "z", "c"]), array(vec![int(1), int(0), int(1)]));
    assert_eq!(ks.exec(&["SMISMEMBER", "nokey", "a", "z"]), array(vec![int(0), int(0)]));
    assert_eq!(sorted(&ks.exec(&["SMEMBERS", "s"])), strs(&["a", "b", "c"]));
    assert_eq!(ks.exec(&["SMEMBERS", "nokey"]), Frame::Set(vec![]));
    assert_eq!(ks.exec(&["SREM", "s", "a", "z", "a"]), int(1));
    assert_eq!(ks.exec(&["SREM", "nokey", "a"]), int(0));
    assert_eq!(ks.exec(&["SREM", "s", "b", "c", "d"]), int(2));
    assert_eq!(ks.exec(&["EXISTS", "s"]), int(0));
    assert_eq!(ks.exec(&["TYPE", "s"]), Frame::Simple(Bytes::from_static(b"none")));
    ks.exec(&["SADD", "s", "x"]);
    assert_eq!(texts(&ks.exec(&["SMEMBERS", "s"])), vec!["x".to_string()], "old members are gone");
    ks.resp3 = true;
    assert_eq!(wire(&mut ks, &["SMEMBERS", "s"]), b"~1\r\n$1\r\nx\r\n".to_vec());
}

#[test]
fn other_types_answer_wrongtype() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["SET", "str", "x"]);
    ks.exec(&["SADD", "s", "a"]);
    for cmd in [
        vec!["SADD", "str", "a"],
        vec!["SREM", "str", "a"],
        vec!["SCARD", "str"],
        vec!["SISMEMBER", "str", "a"],
        vec!["SMISMEMBER", "str", "a"],
        vec!["SMEMBERS", "str"],
        vec!["SRANDMEMBER", "str"],
        vec!["SRANDMEMBER", "str", "2"],
        vec!["SPOP", "str"],
        vec!["SPOP", "str", "2"],
        vec!["SMOVE", "str", "s", "a"],
        vec!["SMOVE", "s", "str", "a"],
        vec!["SINTER", "s", "str"],
        vec!["SINTER", "nokey", "str"],
        vec!["SINTERCARD", "2", "nokey", "str"],
        vec!["SINTERSTORE", "d", "s", "str"],
        vec!["SUNION", "s", "str"],
        vec!["SUNIONSTORE", "d", "s", "str"],
        vec!["SDIFF", "s", "str"],
        vec!["SDIFF", "nokey", "str"],
        vec!["SDIFFSTORE", "d", "s", "str"],
        vec!["SSCAN", "str", "0"],
    ] {
        assert_eq!(ks.exec(&cmd), err(WRONGTYPE), "{cmd:?}");
    }
    assert_eq!(ks.exec(&["SMOVE", "nokey", "str", "a"]), int(0), "a missing source wins");
    assert_eq!(ks.exec(&["EXISTS", "d"]), int(0));
}

#[test]
fn encodings_follow_redis_7_2() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["SADD", "i", "1", "2", "-3"]);
    assert_eq!(encoding(&mut ks, "i"), bulk("intset"));
    ks.exec(&["SADD", "i", "a"]);
    assert_eq!(encoding(&mut ks, "i"), bulk("listpack"), "an intset with a string becomes a listpack");
    ks.exec(&["SREM", "i", "a"]);
    assert_eq!(encoding(&mut ks, "i"), bulk("listpack"), "and stays one");

    ks.exec(&["SADD", "l", "a", "1"]);
    assert_eq!(encoding(&mut ks, "l"), bulk("listpack"));
    sadd(&mut ks, "l", &numbered("m", 0..126));
    assert_eq!(ks.exec(&["SCARD", "l"]), int(128));
    assert_eq!(encoding(&mut ks, "l"), bulk("listpack"));
    ks.exec(&["SADD", "l", "one-more"]);
    assert_eq!(encoding(&mut ks, "l"), bulk("hashtable"));
    ks.exec(&["SREM", "l", "one-more", "m1", "m2"]);
    assert_eq!(encoding(&mut ks, "l"), bulk("hashtable"), "no conversion back");

    ks.exec(&["SADD", "long", "a", &"x".repeat(65)]);
    assert_eq!(encoding(&mut ks, "long"), bulk("hashtable"));
    ks.exec(&["SADD", "i2", "1", &"x".repeat(65)]);
    assert_eq!(encoding(&mut ks, "i2"), bulk("hashtable"), "an intset with a long string");
    ks.exec(&["SADD", "i3", "1", &"x".repeat(64)]);
    assert_eq!(encoding(&mut ks, "i3"), bulk("listpack"));

    let ints: Vec<String> = (0..512).map(|i| i.to_string()).collect();
    sadd(&mut ks, "big", &ints);
    assert_eq!(encoding(&mut ks, "big"), bulk("intset"));
    ks.exec(&["SADD", "big", "512"]);
    assert_eq!(encoding(&mut ks, "big"), bulk("hashtable"));

    let ints: Vec<String> = (0..200).map(|i| i.to_string()).collect();
    sadd(&mut ks, "mid", &ints);
    assert_eq!(encoding(&mut ks, "mid"), bulk("intset"));
    ks.exec(&["SADD", "mid", "a"]);
    assert_eq!(encoding(&mut ks, "mid"), bulk("hashtable"), "too many for a listpack");
    ks.exec(&["SREM", "mid", "a"]);
    assert_eq!(encoding(&mut ks, "mid"), bulk("hashtable"));

    ks.exec(&["SADD", "neg", "-0"]);
    assert_eq!(encoding(&mut ks, "neg"), bulk("listpack"), "-0 is not an integer to Redis");
}

#[test]
fn sadd_converts_by_its_argument_count() {
    // Redis 7.2 sizes the set for SADD's arguments, duplicates included.
    let mut ks = TestKeyspace::new();
    let same: Vec<String> = vec!["a".into(); 129];
    sadd(&mut ks, "s", &same);
    assert_eq!(ks.exec(&["SCARD", "s"]), int(1));
    assert_eq!(encoding(&mut ks, "s"), bulk("hashtable"));

    let ones: Vec<String> = vec!["1".into(); 513];
    sadd(&mut ks, "i", &ones);
    assert_eq!(encoding(&mut ks, "i"), bulk("hashtable"));
    let ones: Vec<String> = vec!["1".into(); 512];
    sadd(&mut ks, "j", &ones);
    assert_eq!(encoding(&mut ks, "j"), bulk("intset"));

    ks.exec(&["SADD", "l", "a"]);
    let mut many = numbered("n", 0..128);
    many.push("a".into());
    sadd(&mut ks, "l", &many);
    assert_eq!(encoding(&mut ks, "l"), bulk("hashtable"), "an existing listpack too");

    let strings_first: Vec<String> = std::iter::once("a".to_string()).chain((0..129).map(|i| i.to_string())).collect();
    sadd(&mut ks, "sf", &strings_first);
    assert_eq!(encoding(&mut ks, "sf"), bulk("hashtable"));
}

#[test]
fn srandmember_validation_and_shapes() {
    let mut ks = TestKeyspace::new();
    assert_eq!(ks.exec(&["SRANDMEMBER", "nokey"]), Frame::Null);
    assert_eq!(ks.exec(&["SRANDMEMBER", "nokey", "5"]), array(vec![]));
    assert_eq!(ks.exec(&["SRANDMEMBER", "nokey", "-5"]), array(vec![]));
    assert_eq!(ks.exec(&["SRANDMEMBER", "nokey", "1", "2"]), err("ERR syntax error"));
    assert_eq!(ks.exec(&["SRANDMEMBER", "nokey", "a"]), err("ERR value is not an integer or out of range"));
    assert_eq!(
        ks.exec(&["SRANDMEMBER", "nokey", "-9223372036854775808"]),
        err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    );
    ks.exec(&["SADD", "s", "a"]);
    assert_eq!(ks.exec(&["SRANDMEMBER", "s"]), bulk("a"));
    assert_eq!(ks.exec(&["SRANDMEMBER", "s", "0"]), array(vec![]));
    assert_eq!(ks.exec(&["SRANDMEMBER", "s", "1"]), array(vec![bulk("a")]));
    assert_eq!(ks.exec(&["SRANDMEMBER", "s", "-2"]), array(vec![bulk("a"), bulk("a")]));
    assert_eq!(ks.exec(&["SRANDMEMBER", "s", "9223372036854775807"]), array(vec![bulk("a")]));
    assert!(matches!(ks.exec(&["SRANDMEMBER", "s", "-9223372036854775807"]), Frame::Error(_)));
    ks.resp3 = true;
    assert_eq!(wire(&mut ks, &["SRANDMEMBER", "s", "1"]), b"*1\r\n$1\r\na\r\n".to_vec(), "an array in RESP3");
}

#[test]
fn srandmember_counts_are_distinct_when_positive() {
    let mut ks = TestKeyspace::new();
    let all = numbered("m", 0..1000);
    sadd(&mut ks, "s", &all);
    let all: BTreeSet<String> = all.into_iter().collect();
    for count in [1usize, 3, 50, 333, 334, 600, 999, 1000, 1001] {
        let picks = texts(&ks.exec(&["SRANDMEMBER", "s", &count.to_string()]));
        assert_eq!(picks.len(), count.min(1000), "count {count}");
        let distinct: BTreeSet<String> = picks.into_iter().collect();
        assert_eq!(distinct.len(), count.min(1000));
        assert!(distinct.is_subset(&all));
    }
    let picks = texts(&ks.exec(&["SRANDMEMBER", "s", "-5000"]));
    assert_eq!(picks.len(), 5000);
    let distinct: BTreeSet<&String> = picks.iter().collect();
    assert!(distinct.len() > 600 && distinct.len() < 1000, "{}", distinct.len());
}

#[test]
fn spop_removes_what_it_returns() {
    let mut ks = TestKeyspace::new();
    assert_eq!(ks.exec(&["SPOP", "nokey"]), Frame::Null);
    assert_eq!(ks.exec(&["SPOP", "nokey", "3"]), Frame::Set(vec![]));
    assert_eq!(ks.exec(&["SPOP", "nokey", "-1"]), err("ERR value is out of range, must be positive"));
    assert_eq!(ks.exec(&["SPOP", "nokey", "a"]), err("ERR value is out of range, must be positive"));
    assert_eq!(ks.exec(&["SPOP", "nokey", "1", "2"]), err("ERR syntax error"));
    let all = numbered("m", 0..300);
    sadd(&mut ks, "s", &all);
    assert_eq!(ks.exec(&["SPOP", "s", "0"]), Frame::Set(vec![]));
    let mut popped = BTreeSet::new();
    let Frame::Bulk(one) = ks.exec(&["SPOP", "s"]) else { panic!("a bulk") };
    popped.insert(String::from_utf8_lossy(&one).into_owned());
    // Few popped compared to what stays, then many: both of Redis's ways.
    for count in ["20", "250"] {
        let reply = ks.exec(&["SPOP", "s", count]);
        assert!(matches!(reply, Frame::Set(_)));
        for member in texts(&reply) {
            assert!(popped.insert(member), "popped twice");
        }
    }
    assert_eq!(ks.exec(&["SCARD", "s"]), int(29));
    let rest: BTreeSet<String> = texts(&ks.exec(&["SMEMBERS", "s"])).into_iter().collect();
    assert!(rest.is_disjoint(&popped));
    assert_eq!(rest.len() + popped.len(), 300);
    let last = texts(&ks.exec(&["SPOP", "s", "100"]));
    assert_eq!(last.len(), 29);
    assert_eq!(ks.exec(&["EXISTS", "s"]), int(0));
    ks.exec(&["SADD", "one", "x"]);
    assert_eq!(ks.exec(&["SPOP", "one"]), bulk("x"));
    assert_eq!(ks.exec(&["EXISTS", "one"]), int(0));
}

#[test]
fn spop_is_the_same_on_every_replica() {
    let run = || {
        let mut ks = TestKeyspace::new();
        sadd(&mut ks, "s", &numbered("m", 0..500));
        let mut replies = vec![ks.exec(&["SPOP", "s"]), ks.exec(&["SPOP", "s", "10"]), ks.exec(&["SPOP", "s", "450"])];
        replies.push(ks.exec(&["SMEMBERS", "s"]));
        replies
    };
    assert_eq!(run(), run());
}

#[test]
fn spop_keeping_few_members_rebuilds_the_set_like_redis() {
    let mut ks = TestKeyspace::new();
    sadd(&mut ks, "s", &numbered("m", 0..200));
    assert_eq!(encoding(&mut ks, "s"), bulk("hashtable"));
    ks.exec(&["SPOP", "s", "190"]);
    assert_eq!(ks.exec(&["SCARD", "s"]), int(10));
    assert_eq!(encoding(&mut ks, "s"), bulk("listpack"), "the kept members form a new set");

    let ints: Vec<String> = (0..200).map(|i| i.to_string()).collect();
    sadd(&mut ks, "i", &ints);
    ks.exec(&["SPOP", "i", "190"]);
    assert_eq!(encoding(&mut ks, "i"), bulk("intset"));

    sadd(&mut ks, "few", &numbered("m", 0..200));
    ks.exec(&["SPOP", "few", "20"]);
    assert_eq!(encoding(&mut ks, "few"), bulk("hashtable"), "popping a few changes nothing");
}

#[test]
fn smove_moves_one_member() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["SADD", "a", "x", "y"]);
    assert_eq!(ks.exec(&["SMOVE", "a", "b", "x"]), int(1));
    assert_eq!(ks.exec(&["SMEMBERS", "b"]), Frame::Set(vec![bulk("x")]));
    assert_eq!(ks.exec(&["SMOVE", "a", "b", "x"]), int(0));
    assert_eq!(ks.exec(&["SMOVE", "nokey", "b", "x"]), int(0));
    assert_eq!(ks.exec(&["SMOVE", "a", "a", "y"]), int(1), "same key: whether it is a member");
    assert_eq!(ks.exec(&["SMOVE", "a", "a", "z"]), int(0));
    ks.exec(&["SADD", "b", "y"]);
    assert_eq!(ks.exec(&["SMOVE", "a", "b", "y"]), int(1), "already in the destination");
    assert_eq!(ks.exec(&["EXISTS", "a"]), int(0), "the emptied source is deleted");
    assert_eq!(ks.exec(&["SCARD", "b"]), int(2));
    ks.exec(&["SADD", "n", "5"]);
    assert_eq!(ks.exec(&["SMOVE", "n", "ni", "5"]), int(1));
    assert_eq!(encoding(&mut ks, "ni"), bulk("intset"));
    ks.exec(&["SADD", "n", &"x".repeat(65)]);
    ks.exec(&["SMOVE", "n", "nl", &"x".repeat(65)]);
    assert_eq!(encoding(&mut ks, "nl"), bulk("hashtable"));
}

#[test]
fn intersections() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["SADD", "a", "1", "2", "3", "x"]);
    ks.exec(&["SADD", "b", "2", "3", "4", "x"]);
    ks.exec(&["SADD", "c", "3", "x", "9"]);
    assert_eq!(sorted(&ks.exec(&["SINTER", "a", "b", "c"])), strs(&["3", "x"]));
    assert_eq!(sorted(&ks.exec(&["SINTER", "a", "a"])), strs(&["1", "2", "3", "x"]));
    assert_eq!(ks.exec(&["SINTER", "a", "nokey"]), Frame::Set(vec![]));
    assert_eq!(ks.exec(&["SINTERCARD", "3", "a", "b", "c"]), int(2));
    assert_eq!(ks.exec(&["SINTERCARD", "2", "a", "b", "LIMIT", "2"]), int(2));
    assert_eq!(ks.exec(&["SINTERCARD", "2", "a", "b", "LIMIT", "0"]), int(3));
    assert_eq!(ks.exec(&["SINTERCARD", "2", "a", "b", "limit", "1", "LIMIT", "5"]), int(3));
    assert_eq!(ks.exec(&["SINTERCARD", "1", "nokey"]), int(0));
    assert_eq!(ks.exec(&["SINTERCARD", "0", "a"]), err("ERR numkeys should be greater than 0"));
    assert_eq!(ks.exec(&["SINTERCARD", "x", "a"]), err("ERR numkeys should be greater than 0"));
    assert_eq!(ks.exec(&["SINTERCARD", "3", "a", "b"]), err("ERR Number of keys can't be greater than number of args"));
    assert_eq!(ks.exec(&["SINTERCARD", "1", "a", "LIMIT", "-1"]), err("ERR LIMIT can't be negative"));
    assert_eq!(ks.exec(&["SINTERCARD", "1", "a", "LIMIT"]), err("ERR syntax error"));
    assert_eq!(ks.exec(&["SINTERCARD", "1", "a", "b"]), err("ERR syntax error"));

    assert_eq!(ks.exec(&["SINTERSTORE", "d", "a", "b"]), int(3));
    assert_eq!(sorted(&ks.exec(&["SMEMBERS", "d"])), strs(&["2", "3", "x"]));
    assert_eq!(encoding(&mut ks, "d"), bulk("listpack"));
    assert_eq!(ks.exec(&["SINTERSTORE", "a", "a", "c"]), int(2), "the destination may be a source");
    assert_eq!(sorted(&ks.exec(&["SMEMBERS", "a"])), strs(&["3", "x"]));
    ks.exec(&["SET", "str", "v"]);
    assert_eq!(ks.exec(&["SINTERSTORE", "str", "b", "nokey"]), int(0));
    assert_eq!(ks.exec(&["EXISTS", "str"]), int(0), "an empty result deletes the destination");
}

#[test]
fn unions_and_differences() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["SADD", "a", "1", "2", "3"]);
    ks.exec(&["SADD", "b", "3", "4"]);
    ks.exec(&["SADD", "c", "4", "5", "1"]);
    assert_eq!(sorted(&ks.exec(&["SUNION", "a", "b", "nokey", "c"])), strs(&["1", "2", "3", "4", "5"]));
    assert_eq!(ks.exec(&["SUNION", "nokey"]), Frame::Set(vec![]));
    assert_eq!(sorted(&ks.exec(&["SDIFF", "a", "b"])), strs(&["1", "2"]));
    assert_eq!(sorted(&ks.exec(&["SDIFF", "a", "b", "c"])), strs(&["2"]));
    assert_eq!(sorted(&ks.exec(&["SDIFF", "a", "nokey"])), strs(&["1", "2", "3"]));
    assert_eq!(ks.exec(&["SDIFF", "nokey", "a"]), Frame::Set(vec![]));
    assert_eq!(ks.exec(&["SDIFF", "a", "a"]), Frame::Set(vec![]));
    assert_eq!(ks.exec(&["SUNIONSTORE", "u", "a", "b", "c"]), int(5));
    assert_eq!(encoding(&mut ks, "u"), bulk("intset"));
    assert_eq!(ks.exec(&["SDIFFSTORE", "d", "u", "a"]), int(2));
    assert_eq!(sorted(&ks.exec(&["SMEMBERS", "d"])), strs(&["4", "5"]));
    assert_eq!(ks.exec(&["SDIFFSTORE", "d", "a", "a"]), int(0));
    assert_eq!(ks.exec(&["EXISTS", "d"]), int(0));
    assert_eq!(ks.exec(&["SUNIONSTORE", "a", "a", "b"]), int(4));
    assert_eq!(sorted(&ks.exec(&["SMEMBERS", "a"])), strs(&["1", "2", "3", "4"]));
    ks.exec(&["SADD", "w", "word"]);
    ks.exec(&["SUNIONSTORE", "mixed", "a", "w"]);
    assert_eq!(encoding(&mut ks, "mixed"), bulk("listpack"));
}

#[test]
fn stored_results_take_the_encoding_redis_would_build() {
    let mut ks = TestKeyspace::new();
    // Integers held in a hashtable become an intset again when stored.
    let ints: Vec<String> = (0..100).map(|i| i.to_string()).collect();
    sadd(&mut ks, "h", &ints);
    ks.exec(&["SADD", "h", &"x".repeat(70)]);
    assert_eq!(encoding(&mut ks, "h"), bulk("hashtable"));
    ks.exec(&["SINTERSTORE", "i", "h", "h"]);
    assert_eq!(encoding(&mut ks, "i"), bulk("hashtable"), "the long member is kept");
    ks.exec(&["SDIFFSTORE", "i", "h", "nokey"]);
    assert_eq!(encoding(&mut ks, "i"), bulk("hashtable"));
    ks.exec(&["SREM", "h", &"x".repeat(70)]);
    ks.exec(&["SINTERSTORE", "i", "h", "h"]);
    assert_eq!(encoding(&mut ks, "i"), bulk("intset"));
    ks.exec(&["SUNIONSTORE", "u", "h"]);
    assert_eq!(encoding(&mut ks, "u"), bulk("intset"));
    ks.exec(&["SDIFFSTORE", "d", "h", "nokey"]);
    assert_eq!(encoding(&mut ks, "d"), bulk("intset"));
}

#[test]
fn sdiffstore_keeps_the_first_sets_encoding_when_redis_removes_from_a_copy() {
    let mut ks = TestKeyspace::new();
    sadd(&mut ks, "big", &numbered("m", 0..300));
    sadd(&mut ks, "most", &numbered("m", 0..290));
    sadd(&mut ks, "low", &numbered("m", 0..150));
    sadd(&mut ks, "high", &numbered("m", 150..290));
    ks.exec(&["SADD", "other", "zz"]);
    // Three sets: work 3 * 300 / 2 = 450 <= 300 + 290 + 1, so Redis tests
    // each member of the first set and builds the result from scratch.
    assert_eq!(ks.exec(&["SDIFFSTORE", "d", "big", "most", "other"]), int(10));
    assert_eq!(encoding(&mut ks, "d"), bulk("listpack"));
    // Four sets: work 4 * 300 / 2 = 600 > 300 + 150 + 140 + 1, so Redis
    // copies the first set and removes the others from the copy.
    assert_eq!(ks.exec(&["SDIFFSTORE", "d", "big", "low", "high", "other"]), int(10));
    assert_eq!(encoding(&mut ks, "d"), bulk("hashtable"));
    assert_eq!(sorted(&ks.exec(&["SMEMBERS", "d"])), numbered("m", 290..300));
}

#[test]
fn sscan_returns_small_sets_whole_and_iterates_large_ones() {
    let mut ks = TestKeyspace::new();
    assert_eq!(ks.exec(&["SSCAN", "nokey", "0"]), array(vec![bulk("0"), array(vec![])]));
    assert_eq!(ks.exec(&["SSCAN", "nokey", "0", "COUNT", "x"]), array(vec![bulk("0"), array(vec![])]));
    assert_eq!(ks.exec(&["SSCAN", "nokey", "-1"]), err("ERR invalid cursor"));
    sadd(&mut ks, "small", &numbered("m", 0..100));
    let Frame::Array(reply) = ks.exec(&["SSCAN", "small", "0", "COUNT", "5"]) else { panic!("an array") };
    assert_eq!(reply[0], bulk("0"));
    assert_eq!(texts(&reply[1]).len(), 100);
    assert_eq!(ks.exec(&["SSCAN", "small", "0", "COUNT", "x"]), err("ERR value is not an integer or out of range"));
    let Frame::Array(reply) = ks.exec(&["SSCAN", "small", "0", "MATCH", "m1?"]) else { panic!("an array") };
    assert_eq!(texts(&reply[1]).len(), 10);

    sadd(&mut ks, "big", &numbered("m", 0..1000));
    let mut seen = BTreeSet::new();
    let mut cursor = "0".to_string();
    loop {
        let Frame::Array(reply) = ks.exec(&["SSCAN", "big", &cursor]) else { panic!("an array") };
        let Frame::Bulk(next) = &reply[0] else { panic!("a cursor") };
        seen.extend(texts(&reply[1]));
        cursor = String::from_utf8_lossy(next).into_owned();
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 1000);
}

#[test]
fn members_are_binary_safe_and_compared_as_bytes() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["SADD", "i", "1"]);
    assert_eq!(ks.exec(&["SISMEMBER", "i", "01"]), int(0), "01 is not 1");
    assert_eq!(ks.exec(&["SISMEMBER", "i", "1"]), int(1));
    let odd = Bytes::from_static(b"\x00\xff\r\n");
    assert_eq!(ks.exec_bytes(&[Bytes::from("SADD"), Bytes::from("b"), odd.clone(), Bytes::new()]), int(2));
    assert_eq!(ks.exec_bytes(&[Bytes::from("SISMEMBER"), Bytes::from("b"), odd]), int(1));
    assert_eq!(ks.exec(&["SISMEMBER", "b", ""]), int(1));
}

/// A 16-byte member whose CRC-64 bucket is `target`: the CRC has no initial
/// value or final xor, so it is linear in the message bits and a preimage is
/// one Gaussian elimination away.
fn member_in_bucket(target: u64) -> Bytes {
    let bucket = |bits: u128| crate::commands::collection::bucket_of(&bits.to_le_bytes());
    let mut basis: [Option<(u64, u128)>; 64] = [None; 64];
    for i in 0..128 {
        let (mut crc, mut bits) = (bucket(1u128 << i), 1u128 << i);
        for pivot in (0..64).rev() {
            if crc >> pivot & 1 == 0 {
                continue;
            }
            match basis[pivot] {
                Some((row_crc, row_bits)) => {
                    crc ^= row_crc;
                    bits ^= row_bits;
                }
                None => {
                    basis[pivot] = Some((crc, bits));
                    break;
                }
            }
        }
    }
    let (mut crc, mut bits) = (target, 0u128);
    for pivot in (0..64).rev() {
        if crc >> pivot & 1 == 1 {
            let (row_crc, row_bits) = basis[pivot].expect("the CRC reaches every bucket");
            crc ^= row_crc;
            bits ^= row_bits;
        }
    }
    assert_eq!(bucket(bits), target);
    Bytes::copy_from_slice(&bits.to_le_bytes())
}

#[test]
fn crowded_buckets_do_not_stop_distinct_sampling() {
    // Nine members in buckets 1..=9 and one elsewhere: a seek to a random
    // bucket only ever finds two of them, so distinct picks must fall back
    // to walking forward instead of drawing forever.
    let mut ks = TestKeyspace::new();
    let mut sadd = vec![Bytes::from("SADD"), Bytes::from("s")];
    sadd.extend((1..=9).map(member_in_bucket));
    sadd.push(Bytes::from("elsewhere"));
    assert_eq!(ks.exec_bytes(&sadd), int(10));
    let mut hset = vec![Bytes::from("HSET"), Bytes::from("h")];
    for member in &sadd[2..] {
        hset.push(member.clone());
        hset.push(Bytes::from("v"));
    }
    assert_eq!(ks.exec_bytes(&hset), int(10));
    for cmd in ["SRANDMEMBER", "HRANDFIELD"] {
        let key = if cmd == "SRANDMEMBER" { "s" } else { "h" };
        for count in 1..=3 {
            let Frame::Array(picks) = ks.exec(&[cmd, key, &count.to_string()]) else { panic!("an array") };
            assert_eq!(picks.len(), count, "{cmd} {count}");
            assert_eq!(picks.iter().map(|p| format!("{p:?}")).collect::<BTreeSet<_>>().len(), count);
        }
    }
    let Frame::Set(popped) = ks.exec(&["SPOP", "s", "9"]) else { panic!("a set") };
    assert_eq!(popped.len(), 9);
    assert_eq!(ks.exec(&["SCARD", "s"]), int(1));
}

#[test]
fn small_updates_of_large_collections_write_little() {
    let mut ks = TestKeyspace::new();
    sadd(&mut ks, "s", &numbered("member-", 0..5000));
    let mut hset = vec!["HSET".to_string(), "h".to_string()];
    for i in 0..5000 {
        hset.extend([format!("field-{i}"), format!("value-{i}")]);
    }
    ks.exec(&hset.iter().map(String::as_str).collect::<Vec<_>>());
    for cmd in [
        vec!["SADD", "s", "new"],
        vec!["SREM", "s", "member-7"],
        vec!["SPOP", "s"],
        vec!["SPOP", "s", "3"],
        vec!["SMOVE", "s", "t", "member-9"],
        vec!["HSET", "h", "field-1", "changed"],
        vec!["HDEL", "h", "field-2"],
        vec!["HINCRBY", "h", "n", "1"],
    ] {
        ks.exec(&cmd);
        assert!(ks.last_batch.len() < 1024, "{cmd:?} wrote {} bytes", ks.last_batch.len());
    }
    assert_eq!(ks.exec(&["SCARD", "s"]), int(4995));
    assert_eq!(ks.exec(&["HLEN", "h"]), int(5000));
}

#[test]
fn random_set_commands_match_redis() {
    use crate::commands::property_tests::{check_against_redis, set_op};
    check_against_redis(set_op, 0..8, 800);
}
