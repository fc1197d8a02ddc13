//! Unit tests of the hash commands, through [`TestKeyspace`]: expected
//! replies are those of Redis 7.2.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use resp::Frame;

use crate::commands::testing::{array, bulk, err, int, ok, TestKeyspace};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

fn encoding(ks: &mut TestKeyspace, key: &str) -> Frame {
    ks.exec(&["OBJECT", "ENCODING", key])
}

/// A hash `key` with fields f0..f{n-1} holding v0..v{n-1}.
fn fill(ks: &mut TestKeyspace, key: &str, n: usize) {
    let mut args: Vec<String> = vec!["HSET".into(), key.into()];
    for i in 0..n {
        args.push(format!("f{i}"));
        args.push(format!("v{i}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(ks.exec(&args), int(n as i64));
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

#[test]
fn hset_counts_new_fields_and_hget_reads_them() {
    let mut ks = TestKeyspace::new();
    assert_eq!(ks.exec(&["HGET", "h", "a"]), Frame::Null);
    assert_eq!(ks.exec(&["HSET", "h", "a", "1", "b", "2"]), int(2));
    assert_eq!(ks.exec(&["HSET", "h", "a", "3", "c", "4"]), int(1));
    assert_eq!(ks.exec(&["HGET", "h", "a"]), bulk("3"));
    assert_eq!(ks.exec(&["HGET", "h", "zz"]), Frame::Null);
    assert_eq!(ks.exec(&["HLEN", "h"]), int(3));
    assert_eq!(ks.exec(&["HMGET", "h", "a", "zz", "c"]), array(vec![bulk("3"), Frame::Null, bulk("4")]));
    assert_eq!(ks.exec(&["HMGET", "nokey", "a", "b"]), array(vec![Frame::Null, Frame::Null]));
    assert_eq!(ks.exec(&["HMSET", "h", "d", "5"]), ok());
    assert_eq!(ks.exec(&["HEXISTS", "h", "d"]), int(1));
    assert_eq!(ks.exec(&["HEXISTS", "h", "e"]), int(0));
    assert_eq!(ks.exec(&["HEXISTS", "nokey", "e"]), int(0));
    assert_eq!(ks.exec(&["HSTRLEN", "h", "d"]), int(1));
    assert_eq!(ks.exec(&["HSTRLEN", "h", "e"]), int(0));
    assert_eq!(ks.exec(&["TYPE", "h"]), Frame::Simple(Bytes::from_static(b"hash")));
}

#[test]
fn hset_and_hmset_need_field_value_pairs() {
    let mut ks = TestKeyspace::new();
    assert_eq!(ks.exec(&["HSET", "h", "a", "1", "b"]), err("ERR wrong number of arguments for 'hset' command"));
    assert_eq!(ks.exec(&["HMSET", "h", "a", "1", "b"]), err("ERR wrong number of arguments for 'hmset' command"));
    assert_eq!(ks.exec(&["HSET", "h", "a"]), err("ERR wrong number of arguments for 'hset' command"));
    assert_eq!(ks.exec(&["EXISTS", "h"]), int(0));
}

#[test]
fn hsetnx_sets_only_missing_fields() {
    let mut ks = TestKeyspace::new();
    assert_eq!(ks.exec(&["HSETNX", "h", "a", "1"]), int(1));
    assert_eq!(ks.exec(&["HSETNX", "h", "a", "2"]), int(0));
    assert_eq!(ks.exec(&["HGET", "h", "a"]), bulk("1"));
    assert_eq!(ks.exec(&["HSETNX", "h", "b", "2"]), int(1));
    assert_eq!(ks.exec(&["HLEN", "h"]), int(2));
}

#[test]
fn hdel_removes_fields_and_the_key_with_the_last_one() {
    let mut ks = TestKeyspace::new();
    assert_eq!(ks.exec(&["HDEL", "h", "a"]), int(0));
    ks.exec(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(ks.exec(&["HDEL", "h", "a", "zz", "a"]), int(1));
    assert_eq!(ks.exec(&["HLEN", "h"]), int(2));
    assert_eq!(ks.exec(&["HDEL", "h", "b", "c", "d"]), int(2));
    assert_eq!(ks.exec(&["EXISTS", "h"]), int(0));
    assert_eq!(ks.exec(&["HLEN", "h"]), int(0));
    ks.exec(&["HSET", "h", "x", "1"]);
    assert_eq!(ks.exec(&["HGETALL", "h"]), Frame::Map(vec![(bulk("x"), bulk("1"))]), "old fields are gone");
}

#[test]
fn whole_hash_reads_agree_with_each_other() {
    let mut ks = TestKeyspace::new();
    assert_eq!(ks.exec(&["HGETALL", "nokey"]), Frame::Map(vec![]));
    assert_eq!(ks.exec(&["HKEYS", "nokey"]), array(vec![]));
    assert_eq!(ks.exec(&["HVALS", "nokey"]), array(vec![]));
    fill(&mut ks, "h", 20);
    let Frame::Map(pairs) = ks.exec(&["HGETALL", "h"]) else { panic!("a map") };
    let keys = texts(&ks.exec(&["HKEYS", "h"]));
    let vals = texts(&ks.exec(&["HVALS", "h"]));
    assert_eq!(pairs.len(), 20);
    for (i, (f, v)) in pairs.iter().enumerate() {
        let (Frame::Bulk(f), Frame::Bulk(v)) = (f, v) else { panic!("bulks") };
        assert_eq!(String::from_utf8_lossy(f), keys[i]);
        assert_eq!(String::from_utf8_lossy(v), vals[i]);
        assert_eq!(f[1..], v[1..], "each value goes with its field");
    }
    ks.resp3 = true;
    assert!(wire(&mut ks, &["HGETALL", "h"]).starts_with(b"%20\r\n"));
    ks.resp3 = false;
    assert!(wire(&mut ks, &["HGETALL", "h"]).starts_with(b"*40\r\n"));
}

#[test]
fn other_types_answer_wrongtype() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["SET", "s", "x"]);
    for cmd in [
        vec!["HSET", "s", "a", "1"],
        vec!["HSETNX", "s", "a", "1"],
        vec!["HGET", "s", "a"],
        vec!["HMGET", "s", "a"],
        vec!["HDEL", "s", "a"],
        vec!["HLEN", "s"],
        vec!["HSTRLEN", "s", "a"],
        vec!["HEXISTS", "s", "a"],
        vec!["HKEYS", "s"],
        vec!["HVALS", "s"],
        vec!["HGETALL", "s"],
        vec!["HINCRBY", "s", "a", "1"],
        vec!["HINCRBYFLOAT", "s", "a", "1"],
        vec!["HRANDFIELD", "s"],
        vec!["HRANDFIELD", "s", "2"],
        vec!["HSCAN", "s", "0"],
    ] {
        assert_eq!(ks.exec(&cmd), err(WRONGTYPE), "{cmd:?}");
    }
    assert_eq!(ks.exec(&["GET", "s"]), bulk("x"));
}

#[test]
fn hincrby_adds_to_integers_only() {
    let mut ks = TestKeyspace::new();
    assert_eq!(ks.exec(&["HINCRBY", "h", "n", "5"]), int(5));
    assert_eq!(ks.exec(&["HINCRBY", "h", "n", "-7"]), int(-2));
    assert_eq!(ks.exec(&["HGET", "h", "n"]), bulk("-2"));
    assert_eq!(ks.exec(&["HINCRBY", "h", "n", "x"]), err("ERR value is not an integer or out of range"));
    ks.exec(&["HSET", "h", "s", "abc", "big", "9223372036854775807", "pad", " 1"]);
    assert_eq!(ks.exec(&["HINCRBY", "h", "s", "1"]), err("ERR hash value is not an integer"));
    assert_eq!(ks.exec(&["HINCRBY", "h", "pad", "1"]), err("ERR hash value is not an integer"));
    assert_eq!(ks.exec(&["HINCRBY", "h", "big", "1"]), err("ERR increment or decrement would overflow"));
    assert_eq!(ks.exec(&["HINCRBY", "h", "big", "-1"]), int(9223372036854775806));
    // The increment is checked before the key's type.
    ks.exec(&["SET", "str", "1"]);
    assert_eq!(ks.exec(&["HINCRBY", "str", "f", "x"]), err("ERR value is not an integer or out of range"));
}

#[test]
fn hincrbyfloat_computes_and_formats_like_incrbyfloat() {
    let mut ks = TestKeyspace::new();
    assert_eq!(ks.exec(&["HINCRBYFLOAT", "h", "f", "10.5"]), bulk("10.5"));
    assert_eq!(ks.exec(&["HINCRBYFLOAT", "h", "f", "0.1"]), bulk("10.6"));
    assert_eq!(ks.exec(&["HINCRBYFLOAT", "h", "g", "0.1"]), bulk("0.1"));
    assert_eq!(ks.exec(&["HINCRBYFLOAT", "h", "g", "0.2"]), bulk("0.3"), "long double arithmetic");
    assert_eq!(ks.exec(&["HINCRBYFLOAT", "h", "f", "-10.6"]), bulk("0"));
    assert_eq!(ks.exec(&["HINCRBYFLOAT", "h", "e", "5.0e3"]), bulk("5000"));
    ks.exec(&["HSET", "h", "i", "7", "s", "x"]);
    assert_eq!(ks.exec(&["HINCRBYFLOAT", "h", "i", "1.5"]), bulk("8.5"));
    assert_eq!(ks.exec(&["HINCRBYFLOAT", "h", "s", "1"]), err("ERR hash value is not a float"));
    assert_eq!(ks.exec(&["HINCRBYFLOAT", "h", "f", "x"]), err("ERR value is not a valid float"));
    assert_eq!(ks.exec(&["HINCRBYFLOAT", "h", "f", "inf"]), err("ERR value is NaN or Infinity"));
    assert_eq!(ks.exec(&["HINCRBYFLOAT", "h", "f", "-infinity"]), err("ERR value is NaN or Infinity"));
    assert_eq!(ks.exec(&["HINCRBYFLOAT", "h", "f", "nan"]), err("ERR value is not a valid float"));
    ks.exec(&["HSET", "h", "huge", "1e4932"]);
    assert_eq!(ks.exec(&["HINCRBYFLOAT", "h", "huge", "1e4932"]), err("ERR increment would produce NaN or Infinity"));
    assert_eq!(ks.exec(&["HGET", "h", "huge"]), bulk("1e4932"));
}

#[test]
fn small_hashes_are_listpacks_until_a_limit_is_crossed_and_never_go_back() {
    let mut ks = TestKeyspace::new();
    fill(&mut ks, "h", 512);
    assert_eq!(encoding(&mut ks, "h"), bulk("listpack"));
    assert_eq!(ks.exec(&["HSET", "h", "one-more", "x"]), int(1));
    assert_eq!(encoding(&mut ks, "h"), bulk("hashtable"));
    assert_eq!(ks.exec(&["HDEL", "h", "one-more", "f1", "f2"]), int(3));
    assert_eq!(encoding(&mut ks, "h"), bulk("hashtable"), "no conversion back");

    let long = "x".repeat(65);
    ks.exec(&["HSET", "v", "a", &"x".repeat(64)]);
    assert_eq!(encoding(&mut ks, "v"), bulk("listpack"));
    ks.exec(&["HSET", "v", "b", &long]);
    assert_eq!(encoding(&mut ks, "v"), bulk("hashtable"));
    ks.exec(&["HDEL", "v", "b"]);
    assert_eq!(encoding(&mut ks, "v"), bulk("hashtable"));

    ks.exec(&["HSET", "f", &long, "1"]);
    assert_eq!(encoding(&mut ks, "f"), bulk("hashtable"), "a long field converts too");
    ks.exec(&["HINCRBY", "n", &long, "1"]);
    assert_eq!(encoding(&mut ks, "n"), bulk("hashtable"), "HINCRBY checks its field");
    ks.exec(&["HSETNX", "nx", &long, "1"]);
    assert_eq!(encoding(&mut ks, "nx"), bulk("hashtable"));
    ks.exec(&["HINCRBYFLOAT", "fl", "f", "1e100"]);
    assert_eq!(encoding(&mut ks, "fl"), bulk("hashtable"), "a 101-digit result");
}

#[test]
fn a_wide_hset_converts_even_when_its_fields_repeat() {
    // Redis 7.2 presizes a hashtable when HSET brings more pairs than a
    // listpack holds, duplicates included (7.0 did not).
    let mut ks = TestKeyspace::new();
    let mut args = vec!["HSET", "h"];
    for _ in 0..513 {
        args.extend(["f", "v"]);
    }
    assert_eq!(ks.exec(&args), int(1));
    assert_eq!(ks.exec(&["HLEN", "h"]), int(1));
    assert_eq!(encoding(&mut ks, "h"), bulk("hashtable"));
    args.truncate(2 + 512 * 2);
    args[1] = "g";
    ks.exec(&args);
    assert_eq!(encoding(&mut ks, "g"), bulk("listpack"));
}

#[test]
fn hrandfield_without_count_returns_one_field() {
    let mut ks = TestKeyspace::new();
    assert_eq!(ks.exec(&["HRANDFIELD", "h"]), Frame::Null);
    ks.exec(&["HSET", "h", "a", "1"]);
    assert_eq!(ks.exec(&["HRANDFIELD", "h"]), bulk("a"));
    fill(&mut ks, "big", 300);
    for _ in 0..20 {
        let Frame::Bulk(f) = ks.exec(&["HRANDFIELD", "big"]) else { panic!("a bulk") };
        assert!(f.starts_with(b"f"));
    }
}

#[test]
fn hrandfield_count_validation_follows_redis() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["HSET", "h", "a", "1"]);
    assert_eq!(ks.exec(&["HRANDFIELD", "h", "x"]), err("ERR value is not an integer or out of range"));
    assert_eq!(
        ks.exec(&["HRANDFIELD", "h", "-9223372036854775808"]),
        err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    );
    assert_eq!(ks.exec(&["HRANDFIELD", "h", "1", "withvalue"]), err("ERR syntax error"));
    assert_eq!(ks.exec(&["HRANDFIELD", "h", "1", "withvalues", "x"]), err("ERR syntax error"));
    assert_eq!(ks.exec(&["HRANDFIELD", "h", "4611686018427387904", "withvalues"]), err("ERR value is out of range"));
    assert_eq!(ks.exec(&["HRANDFIELD", "h", "-4611686018427387904", "withvalues"]), err("ERR value is out of range"));
    assert_eq!(ks.exec(&["HRANDFIELD", "h", "4611686018427387903", "WITHVALUES"]), array(vec![bulk("a"), bulk("1")]));
    assert_eq!(ks.exec(&["HRANDFIELD", "nokey", "3"]), array(vec![]));
    assert_eq!(ks.exec(&["HRANDFIELD", "nokey", "-3", "withvalues"]), array(vec![]));
    assert_eq!(ks.exec(&["HRANDFIELD", "h", "0"]), array(vec![]));
    // The count is checked before the key's type.
    ks.exec(&["SET", "s", "x"]);
    assert_eq!(ks.exec(&["HRANDFIELD", "s", "x"]), err("ERR value is not an integer or out of range"));
    assert!(matches!(ks.exec(&["HRANDFIELD", "h", "-2000000"]), Frame::Error(_)), "repeated picks are bounded");
}

#[test]
fn hrandfield_positive_counts_are_distinct_and_negative_ones_may_repeat() {
    let mut ks = TestKeyspace::new();
    fill(&mut ks, "h", 1000);
    for count in [1usize, 2, 10, 300, 333, 334, 500, 999] {
        let fields = texts(&ks.exec(&["HRANDFIELD", "h", &count.to_string()]));
        assert_eq!(fields.len(), count);
        assert_eq!(fields.iter().collect::<BTreeSet<_>>().len(), count, "distinct for {count}");
        assert!(fields.iter().all(|f| f.starts_with('f')));
    }
    assert_eq!(texts(&ks.exec(&["HRANDFIELD", "h", "1000"])).len(), 1000);
    assert_eq!(texts(&ks.exec(&["HRANDFIELD", "h", "5000"])).len(), 1000);
    let picks = texts(&ks.exec(&["HRANDFIELD", "h", "-3000"]));
    assert_eq!(picks.len(), 3000);
    let distinct = picks.iter().collect::<BTreeSet<_>>().len();
    assert!(distinct < 3000 && distinct > 500, "repeats happen, spread is wide: {distinct}");
    ks.exec(&["HSET", "one", "a", "1"]);
    assert_eq!(ks.exec(&["HRANDFIELD", "one", "-3"]), array(vec![bulk("a"), bulk("a"), bulk("a")]));
}

#[test]
fn hrandfield_withvalues_pairs_fields_with_their_values() {
    let mut ks = TestKeyspace::new();
    fill(&mut ks, "h", 50);
    for count in ["5", "-60", "50", "20"] {
        let flat = texts(&ks.exec(&["HRANDFIELD", "h", count, "WITHVALUES"]));
        assert_eq!(flat.len() % 2, 0);
        for pair in flat.chunks(2) {
            assert_eq!(pair[0][1..], pair[1][1..], "{pair:?}");
        }
    }
    ks.resp3 = true;
    let Frame::Array(pairs) = ks.exec(&["HRANDFIELD", "h", "-3", "WITHVALUES"]) else { panic!("an array") };
    assert_eq!(pairs.len(), 3);
    for pair in &pairs {
        let Frame::Array(pair) = pair else { panic!("a nested pair in RESP3: {pair:?}") };
        assert_eq!(pair.len(), 2);
    }
    assert_eq!(texts(&ks.exec(&["HRANDFIELD", "h", "3"])).len(), 3, "fields alone stay flat");
}

#[test]
fn hrandfield_is_deterministic_for_the_same_seed() {
    let run = || {
        let mut ks = TestKeyspace::new();
        fill(&mut ks, "h", 400);
        ["-10", "5", "200", "1"].iter().map(|c| ks.exec(&["HRANDFIELD", "h", c])).collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

#[test]
fn hscan_returns_small_hashes_whole_and_iterates_large_ones() {
    let mut ks = TestKeyspace::new();
    assert_eq!(ks.exec(&["HSCAN", "nokey", "0"]), array(vec![bulk("0"), array(vec![])]));
    assert_eq!(ks.exec(&["HSCAN", "nokey", "0", "COUNT", "0"]), array(vec![bulk("0"), array(vec![])]));
    assert_eq!(ks.exec(&["HSCAN", "nokey", "x"]), err("ERR invalid cursor"));
    fill(&mut ks, "small", 20);
    let Frame::Array(reply) = ks.exec(&["HSCAN", "small", "0", "COUNT", "2"]) else { panic!("an array") };
    assert_eq!(reply[0], bulk("0"));
    assert_eq!(texts(&reply[1]).len(), 40);
    assert_eq!(ks.exec(&["HSCAN", "small", "0", "COUNT", "0"]), err("ERR syntax error"));
    assert_eq!(ks.exec(&["HSCAN", "small", "0", "COUNT", "x"]), err("ERR value is not an integer or out of range"));
    assert_eq!(ks.exec(&["HSCAN", "small", "0", "MATCH"]), err("ERR syntax error"));
    assert_eq!(ks.exec(&["HSCAN", "small", "0", "TYPE", "string"]), err("ERR syntax error"));
    let Frame::Array(matched) = ks.exec(&["HSCAN", "small", "0", "MATCH", "f1?"]) else { panic!("an array") };
    assert_eq!(texts(&matched[1]).len(), 20, "f10..f19 with their values");

    fill(&mut ks, "big", 700);
    let mut seen = BTreeMap::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let Frame::Array(reply) = ks.exec(&["HSCAN", "big", &cursor, "COUNT", "20"]) else { panic!("an array") };
        let Frame::Bulk(next) = &reply[0] else { panic!("a cursor") };
        let flat = texts(&reply[1]);
        for pair in flat.chunks(2) {
            seen.insert(pair[0].clone(), pair[1].clone());
        }
        calls += 1;
        cursor = String::from_utf8_lossy(next).into_owned();
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 700);
    assert!(calls > 10, "a large hash is returned in steps ({calls})");
    assert!(seen.iter().all(|(f, v)| f[1..] == v[1..]));
}

#[test]
fn a_hash_survives_rename_and_copy_with_its_encoding() {
    let mut ks = TestKeyspace::new();
    fill(&mut ks, "h", 600);
    ks.exec(&["HDEL", "h", "f0"]);
    assert_eq!(ks.exec(&["RENAME", "h", "h2"]), ok());
    assert_eq!(ks.exec(&["HLEN", "h2"]), int(599));
    assert_eq!(ks.exec(&["HGET", "h2", "f7"]), bulk("v7"));
    assert_eq!(encoding(&mut ks, "h2"), bulk("hashtable"));
    assert_eq!(ks.exec(&["COPY", "h2", "h3"]), int(1));
    assert_eq!(ks.exec(&["HDEL", "h2", "f7"]), int(1));
    assert_eq!(ks.exec(&["HGET", "h3", "f7"]), bulk("v7"));
}

#[test]
fn an_expired_hash_is_gone_and_a_new_one_starts_empty() {
    let mut ks = TestKeyspace::new();
    fill(&mut ks, "h", 10);
    assert_eq!(ks.exec(&["PEXPIRE", "h", "100"]), int(1));
    ks.advance_ms(200);
    assert_eq!(ks.exec(&["HLEN", "h"]), int(0));
    assert_eq!(ks.exec(&["HSET", "h", "f1", "new"]), int(1));
    assert_eq!(ks.exec(&["HGETALL", "h"]), Frame::Map(vec![(bulk("f1"), bulk("new"))]));
}

#[test]
fn binary_fields_and_values_round_trip() {
    let mut ks = TestKeyspace::new();
    let field = Bytes::from_static(b"\x00\xff\r\n");
    let value = Bytes::from_static(b"");
    let args = [Bytes::from("HSET"), Bytes::from("h"), field.clone(), value.clone()];
    assert_eq!(ks.exec_bytes(&args), int(1));
    assert_eq!(ks.exec_bytes(&[Bytes::from("HGET"), Bytes::from("h"), field.clone()]), Frame::Bulk(value));
    assert_eq!(ks.exec(&["HKEYS", "h"]), array(vec![Frame::Bulk(field)]));
    assert_eq!(ks.exec(&["HSET", "h", "", "empty field"]), int(1));
    assert_eq!(ks.exec(&["HGET", "h", ""]), bulk("empty field"));
}

#[test]
fn random_hash_commands_match_redis() {
    use crate::commands::property_tests::{check_against_redis, hash_op};
    check_against_redis(hash_op, 0..8, 800);
}
