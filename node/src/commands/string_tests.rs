//! Unit tests of the string commands, through [`TestKeyspace`]: expected
//! replies are those of Redis 7.2.

use resp::Frame;

use crate::commands::testing::{array, bulk, err, int, ok, TestKeyspace};

fn ks() -> TestKeyspace {
    TestKeyspace::new()
}

#[test]
fn get_returns_nil_for_a_missing_key_and_the_value_after_set() {
    let mut ks = ks();
    assert_eq!(ks.exec(&["GET", "k"]), Frame::Null);
    assert_eq!(ks.exec(&["SET", "k", "v"]), ok());
    assert_eq!(ks.exec(&["get", "k"]), bulk("v"));
}

#[test]
fn arity_errors_name_the_command_in_lower_case() {
    let mut ks = ks();
    assert_eq!(ks.exec(&["GET"]), err("ERR wrong number of arguments for 'get' command"));
    assert_eq!(ks.exec(&["SET", "k"]), err("ERR wrong number of arguments for 'set' command"));
    assert_eq!(ks.exec(&["MSET", "a", "1", "b"]), err("ERR wrong number of arguments for 'mset' command"));
    assert_eq!(ks.exec(&["MSETNX", "a", "1", "b"]), err("ERR wrong number of arguments for 'msetnx' command"));
}

#[test]
fn set_nx_and_xx_are_conditional_and_exclusive() {
    let mut ks = ks();
    assert_eq!(ks.exec(&["SET", "k", "v", "XX"]), Frame::Null);
    assert_eq!(ks.exec(&["SET", "k", "v", "NX"]), ok());
    assert_eq!(ks.exec(&["SET", "k", "w", "NX"]), Frame::Null);
    assert_eq!(ks.exec(&["SET", "k", "w", "XX"]), ok());
    assert_eq!(ks.exec(&["GET", "k"]), bulk("w"));
    assert_eq!(ks.exec(&["SET", "k", "v", "NX", "XX"]), err("ERR syntax error"));
    assert_eq!(ks.exec(&["SET", "k", "v", "NX", "NX"]), Frame::Null, "an option may repeat");
}

#[test]
fn set_ifeq_is_a_compare_and_set_on_strings() {
    let mut ks = ks();
    assert_eq!(ks.exec(&["SET", "k", "v", "IFEQ", "v"]), Frame::Null, "a missing key is not set");
    assert_eq!(ks.exec(&["EXISTS", "k"]), int(0));
    ks.exec(&["SET", "k", "1"]);
    assert_eq!(ks.exec(&["SET", "k", "2", "IFEQ", "0"]), Frame::Null);
    assert_eq!(ks.exec(&["SET", "k", "2", "IFEQ", "1"]), ok());
    assert_eq!(ks.exec(&["SET", "k", "3", "IFEQ", "2", "GET"]), bulk("2"));
    assert_eq!(ks.exec(&["SET", "k", "4", "IFEQ", "2", "GET"]), bulk("3"), "GET replies the old value either way");
    assert_eq!(ks.exec(&["GET", "k"]), bulk("3"));
    assert_eq!(ks.exec(&["SET", "k", "5", "IFEQ", "3", "EX", "100"]), ok());
    assert_eq!(ks.exec(&["TTL", "k"]), int(100));
    assert_eq!(ks.exec(&["SET", "k", "v", "IFEQ", "5", "NX"]), err("ERR syntax error"));
    assert_eq!(ks.exec(&["SET", "k", "v", "XX", "IFEQ", "5"]), err("ERR syntax error"));
    assert_eq!(ks.exec(&["SET", "k", "v", "IFEQ"]), err("ERR syntax error"));
    ks.exec(&["RPUSH", "l", "a"]);
    assert_eq!(
        ks.exec(&["SET", "l", "v", "IFEQ", "a"]),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
}

#[test]
fn set_get_returns_the_old_value_and_still_honours_nx() {
    let mut ks = ks();
    assert_eq!(ks.exec(&["SET", "k", "1", "GET"]), Frame::Null);
    assert_eq!(ks.exec(&["SET", "k", "2", "GET"]), bulk("1"));
    assert_eq!(ks.exec(&["SET", "k", "3", "NX", "GET"]), bulk("2"));
    assert_eq!(ks.exec(&["GET", "k"]), bulk("2"));
    assert_eq!(ks.exec(&["SET", "x", "3", "XX", "GET"]), Frame::Null);
    assert_eq!(ks.exec(&["EXISTS", "x"]), int(0));
}

#[test]
fn set_expiry_options_are_validated_like_redis() {
    let mut ks = ks();
    assert_eq!(ks.exec(&["SET", "k", "v", "EX", "0"]), err("ERR invalid expire time in 'set' command"));
    assert_eq!(ks.exec(&["SET", "k", "v", "PX", "-5"]), err("ERR invalid expire time in 'set' command"));
    assert_eq!(ks.exec(&["SET", "k", "v", "EX", "abc"]), err("ERR value is not an integer or out of range"));
    assert_eq!(
        ks.exec(&["SET", "k", "v", "EX", "9223372036854776"]),
        err("ERR invalid expire time in 'set' command"),
        "seconds that overflow when turned into milliseconds"
    );
    assert_eq!(
        ks.exec(&["SET", "k", "v", "PX", "9223372036854775807"]),
        err("ERR invalid expire time in 'set' command"),
        "adding the current time overflows"
    );
    assert_eq!(ks.exec(&["SET", "k", "v", "EX"]), err("ERR syntax error"));
    assert_eq!(ks.exec(&["SET", "k", "v", "EX", "10", "PX", "10"]), err("ERR syntax error"));
    assert_eq!(ks.exec(&["SET", "k", "v", "EX", "10", "KEEPTTL"]), err("ERR syntax error"));
    assert_eq!(ks.exec(&["SET", "k", "v", "PERSIST"]), err("ERR syntax error"));
    assert_eq!(ks.exec(&["SET", "k", "v", "EX", "10", "EX", "20"]), ok(), "the same option may repeat");
    assert_eq!(ks.exec(&["TTL", "k"]), int(20));
    assert_eq!(ks.exec(&["EXISTS", "k"]), int(1));
}

#[test]
fn set_ttls_expire_with_the_clock_and_keepttl_keeps_them() {
    let mut ks = ks();
    assert_eq!(ks.exec(&["SET", "k", "v", "PX", "1500"]), ok());
    assert_eq!(ks.exec(&["PTTL", "k"]), int(1500));
    assert_eq!(ks.exec(&["TTL", "k"]), int(2), "seconds round to nearest");
    assert_eq!(ks.exec(&["SET", "k", "w", "KEEPTTL"]), ok());
    assert_eq!(ks.exec(&["PTTL", "k"]), int(1500));
    assert_eq!(ks.exec(&["SET", "k", "x"]), ok());
    assert_eq!(ks.exec(&["TTL", "k"]), int(-1), "a plain SET drops the TTL");
    ks.exec(&["SET", "k", "v", "EX", "10"]);
    ks.advance_ms(9_999);
    assert_eq!(ks.exec(&["GET", "k"]), bulk("v"));
    ks.advance_ms(1);
    assert_eq!(ks.exec(&["GET", "k"]), Frame::Null);
    assert_eq!(ks.exec(&["TTL", "k"]), int(-2));
}

#[test]
fn set_exat_and_pxat_are_absolute() {
    let mut ks = ks();
    let at_ms = ks.now_ms + 5_000;
    assert_eq!(ks.exec(&["SET", "k", "v", "PXAT", &at_ms.to_string()]), ok());
    assert_eq!(ks.exec(&["PEXPIRETIME", "k"]), int(at_ms as i64));
    let at_s = ks.now_ms / 1000 + 100;
    assert_eq!(ks.exec(&["SET", "k", "v", "EXAT", &at_s.to_string()]), ok());
    assert_eq!(ks.exec(&["EXPIRETIME", "k"]), int(at_s as i64));
    assert_eq!(ks.exec(&["SET", "k", "v", "EXAT", "1"]), ok(), "a past time is accepted");
    assert_eq!(ks.exec(&["GET", "k"]), Frame::Null, "and the key is gone at once");
}

#[test]
fn setnx_setex_psetex_and_getset() {
    let mut ks = ks();
    assert_eq!(ks.exec(&["SETNX", "k", "1"]), int(1));
    assert_eq!(ks.exec(&["SETNX", "k", "2"]), int(0));
    assert_eq!(ks.exec(&["SETEX", "k", "10", "v"]), ok());
    assert_eq!(ks.exec(&["TTL", "k"]), int(10));
    assert_eq!(ks.exec(&["SETEX", "k", "0", "v"]), err("ERR invalid expire time in 'setex' command"));
    assert_eq!(ks.exec(&["PSETEX", "k", "-1", "v"]), err("ERR invalid expire time in 'psetex' command"));
    assert_eq!(ks.exec(&["PSETEX", "k", "100", "v"]), ok());
    assert_eq!(ks.exec(&["PTTL", "k"]), int(100));
    assert_eq!(ks.exec(&["GETSET", "k", "new"]), bulk("v"));
    assert_eq!(ks.exec(&["TTL", "k"]), int(-1), "GETSET drops the TTL");
    assert_eq!(ks.exec(&["GETSET", "fresh", "x"]), Frame::Null);
}

#[test]
fn getdel_returns_and_removes() {
    let mut ks = ks();
    assert_eq!(ks.exec(&["GETDEL", "k"]), Frame::Null);
    ks.exec(&["SET", "k", "v"]);
    assert_eq!(ks.exec(&["GETDEL", "k"]), bulk("v"));
    assert_eq!(ks.exec(&["EXISTS", "k"]), int(0));
}

#[test]
fn getex_sets_or_removes_the_ttl_and_past_absolute_times_delete() {
    let mut ks = ks();
    assert_eq!(ks.exec(&["GETEX", "k", "EX", "abc"]), Frame::Null, "a missing key is checked first");
    ks.exec(&["SET", "k", "v"]);
    assert_eq!(ks.exec(&["GETEX", "k"]), bulk("v"));
    assert_eq!(ks.exec(&["GETEX", "k", "EX", "abc"]), err("ERR value is not an integer or out of range"));
    assert_eq!(ks.exec(&["GETEX", "k", "EX", "0"]), err("ERR invalid expire time in 'getex' command"));
    assert_eq!(ks.exec(&["GETEX", "k", "NX"]), err("ERR syntax error"));
    assert_eq!(ks.exec(&["GETEX", "k", "PERSIST", "EX", "1"]), err("ERR syntax error"));
    assert_eq!(ks.exec(&["GETEX", "k", "EX", "100"]), bulk("v"));
    assert_eq!(ks.exec(&["TTL", "k"]), int(100));
    assert_eq!(ks.exec(&["GETEX", "k", "PERSIST"]), bulk("v"));
    assert_eq!(ks.exec(&["TTL", "k"]), int(-1));
    assert_eq!(ks.exec(&["GETEX", "k", "PXAT", "1"]), bulk("v"));
    assert_eq!(ks.exec(&["EXISTS", "k"]), int(0));
    assert_eq!(ks.exec(&["DBSIZE"]), int(0), "deleted, not merely expired");
}

#[test]
fn mget_mset_and_msetnx() {
    let mut ks = ks();
    assert_eq!(ks.exec(&["MSET", "a", "1", "b", "2", "a", "3"]), ok());
    assert_eq!(ks.exec(&["MGET", "a", "b", "c"]), array(vec![bulk("3"), bulk("2"), Frame::Null]));
    assert_eq!(ks.exec(&["MSETNX", "c", "1", "a", "9"]), int(0));
    assert_eq!(ks.exec(&["EXISTS", "c"]), int(0), "all or nothing");
    assert_eq!(ks.exec(&["MSETNX", "c", "1", "d", "2"]), int(1));
    assert_eq!(ks.exec(&["MGET", "c", "d"]), array(vec![bulk("1"), bulk("2")]));
}

#[test]
fn append_strlen_and_the_size_limit() {
    let mut ks = ks();
    assert_eq!(ks.exec(&["APPEND", "k", "hello"]), int(5));
    assert_eq!(ks.exec(&["APPEND", "k", " world"]), int(11));
    assert_eq!(ks.exec(&["GET", "k"]), bulk("hello world"));
    assert_eq!(ks.exec(&["STRLEN", "k"]), int(11));
    assert_eq!(ks.exec(&["STRLEN", "nokey"]), int(0));
    ks.exec(&["SET", "t", "1", "EX", "100"]);
    ks.exec(&["APPEND", "t", "2"]);
    assert_eq!(ks.exec(&["TTL", "t"]), int(100), "APPEND keeps the TTL");
    assert_eq!(super::check_length(536_870_911, 1), Ok(()));
    assert_eq!(super::check_length(536_870_912, 1), Err(crate::error::CommandError::StringTooLong));
}

#[test]
fn setrange_pads_with_zero_bytes_and_checks_the_offset() {
    let mut ks = ks();
    assert_eq!(ks.exec(&["SETRANGE", "k", "0", ""]), int(0));
    assert_eq!(ks.exec(&["EXISTS", "k"]), int(0), "writing nothing creates nothing");
    assert_eq!(ks.exec(&["SETRANGE", "k", "3", "ab"]), int(5));
    assert_eq!(ks.exec(&["GET", "k"]), Frame::Bulk(bytes::Bytes::from_static(b"\0\0\0ab")));
    assert_eq!(ks.exec(&["SETRANGE", "k", "1", "XYZW"]), int(5));
    assert_eq!(ks.exec(&["GET", "k"]), Frame::Bulk(bytes::Bytes::from_static(b"\0XYZW")));
    assert_eq!(ks.exec(&["SETRANGE", "k", "10", ""]), int(5));
    assert_eq!(ks.exec(&["SETRANGE", "k", "-1", "x"]), err("ERR offset is out of range"));
    assert_eq!(ks.exec(&["SETRANGE", "k", "x", "x"]), err("ERR value is not an integer or out of range"));
    assert_eq!(
        ks.exec(&["SETRANGE", "k", "536870912", "x"]),
        err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    );
    assert_eq!(
        ks.exec(&["SETRANGE", "new", "536870912", "x"]),
        err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    );
}

#[test]
fn getrange_handles_negative_and_out_of_range_indexes() {
    let mut ks = ks();
    ks.exec(&["SET", "k", "Hello World"]);
    let cases = [
        ("0", "4", "Hello"),
        ("-5", "-1", "World"),
        ("0", "-1", "Hello World"),
        ("5", "3", ""),
        ("-1", "-5", ""),
        ("0", "100", "Hello World"),
        ("-100", "2", "Hel"),
        ("20", "30", ""),
        ("-9223372036854775808", "9223372036854775807", "Hello World"),
    ];
    for (start, end, expected) in cases {
        assert_eq!(ks.exec(&["GETRANGE", "k", start, end]), bulk(expected), "GETRANGE k {start} {end}");
    }
    assert_eq!(ks.exec(&["SUBSTR", "k", "0", "1"]), bulk("He"));
    assert_eq!(ks.exec(&["GETRANGE", "nokey", "0", "1"]), bulk(""));
    assert_eq!(ks.exec(&["GETRANGE", "k", "a", "1"]), err("ERR value is not an integer or out of range"));
    ks.exec(&["SET", "e", ""]);
    assert_eq!(ks.exec(&["GETRANGE", "e", "0", "-1"]), bulk(""));
}

#[test]
fn counters_parse_strictly_and_detect_overflow() {
    let mut ks = ks();
    assert_eq!(ks.exec(&["INCR", "n"]), int(1));
    assert_eq!(ks.exec(&["INCRBY", "n", "10"]), int(11));
    assert_eq!(ks.exec(&["DECR", "n"]), int(10));
    assert_eq!(ks.exec(&["DECRBY", "n", "-5"]), int(15));
    ks.exec(&["SET", "s", "abc"]);
    assert_eq!(ks.exec(&["INCR", "s"]), err("ERR value is not an integer or out of range"));
    for bad in [" 1", "1 ", "+1", "01", "-0", "1.0", "99999999999999999999"] {
        ks.exec(&["SET", "s", bad]);
        assert_eq!(ks.exec(&["INCR", "s"]), err("ERR value is not an integer or out of range"), "{bad:?}");
    }
    assert_eq!(ks.exec(&["INCRBY", "n", "x"]), err("ERR value is not an integer or out of range"));
    ks.exec(&["SET", "m", "9223372036854775807"]);
    assert_eq!(ks.exec(&["INCR", "m"]), err("ERR increment or decrement would overflow"));
    ks.exec(&["SET", "m", "-9223372036854775808"]);
    assert_eq!(ks.exec(&["DECR", "m"]), err("ERR increment or decrement would overflow"));
    assert_eq!(ks.exec(&["DECRBY", "n", "-9223372036854775808"]), err("ERR decrement would overflow"));
    ks.exec(&["SET", "t", "5", "EX", "100"]);
    assert_eq!(ks.exec(&["INCR", "t"]), int(6));
    assert_eq!(ks.exec(&["TTL", "t"]), int(100), "counters keep the TTL");
}

#[test]
fn incrbyfloat_formats_like_redis_long_double() {
    let mut ks = ks();
    assert_eq!(ks.exec(&["INCRBYFLOAT", "f", "10.5"]), bulk("10.5"));
    assert_eq!(ks.exec(&["INCRBYFLOAT", "f", "0.1"]), bulk("10.6"));
    ks.exec(&["SET", "g", "0.1"]);
    assert_eq!(ks.exec(&["INCRBYFLOAT", "g", "0.2"]), bulk("0.3"));
    assert_eq!(ks.exec(&["INCRBYFLOAT", "h", "3.0e3"]), bulk("3000"));
    assert_eq!(ks.exec(&["GET", "h"]), bulk("3000"));
    assert_eq!(ks.exec(&["INCRBYFLOAT", "h", "abc"]), err("ERR value is not a valid float"));
    assert_eq!(ks.exec(&["INCRBYFLOAT", "h", "inf"]), err("ERR increment would produce NaN or Infinity"));
    ks.exec(&["SET", "s", "abc"]);
    assert_eq!(ks.exec(&["INCRBYFLOAT", "s", "1"]), err("ERR value is not a valid float"));
    ks.exec(&["SET", "t", "1", "PX", "5000"]);
    assert_eq!(ks.exec(&["INCRBYFLOAT", "t", "-1.1"]), bulk("-0.1"));
    assert_eq!(ks.exec(&["PTTL", "t"]), int(5000));
}

#[test]
fn object_encoding_follows_redis_string_rules() {
    let mut ks = ks();
    let enc = |ks: &mut TestKeyspace, k: &str| ks.exec(&["OBJECT", "ENCODING", k]);
    ks.exec(&["SET", "i", "12345"]);
    assert_eq!(enc(&mut ks, "i"), bulk("int"));
    ks.exec(&["SET", "e", "hello"]);
    assert_eq!(enc(&mut ks, "e"), bulk("embstr"));
    ks.exec(&["SET", "r", &"x".repeat(45)]);
    assert_eq!(enc(&mut ks, "r"), bulk("raw"));
    ks.exec(&["SET", "e44", &"x".repeat(44)]);
    assert_eq!(enc(&mut ks, "e44"), bulk("embstr"));
    ks.exec(&["APPEND", "i", ""]);
    assert_eq!(enc(&mut ks, "i"), bulk("raw"), "APPEND always leaves a raw string");
    ks.exec(&["APPEND", "new", "1"]);
    assert_eq!(enc(&mut ks, "new"), bulk("int"), "APPEND creating a key encodes it");
    ks.exec(&["SETRANGE", "sr", "0", "1"]);
    assert_eq!(enc(&mut ks, "sr"), bulk("raw"));
    ks.exec(&["INCRBYFLOAT", "f", "3000"]);
    assert_eq!(enc(&mut ks, "f"), bulk("embstr"), "INCRBYFLOAT never makes an int");
    ks.exec(&["INCR", "f"]);
    assert_eq!(enc(&mut ks, "f"), bulk("int"));
    ks.exec(&["SET", "small", "100"]);
    assert_eq!(ks.exec(&["OBJECT", "REFCOUNT", "small"]), int(2147483647), "shared integer");
    assert_eq!(ks.exec(&["OBJECT", "REFCOUNT", "e"]), int(1));
    ks.exec(&["COPY", "small", "copied"]);
    assert_eq!(ks.exec(&["OBJECT", "REFCOUNT", "copied"]), int(1));
    assert_eq!(enc(&mut ks, "copied"), bulk("int"));
    ks.exec(&["RENAME", "small", "renamed"]);
    assert_eq!(ks.exec(&["OBJECT", "REFCOUNT", "renamed"]), int(2147483647));
}

#[test]
fn lcs_returns_the_string_the_length_or_the_match_ranges() {
    let mut ks = ks();
    ks.exec(&["MSET", "key1", "ohmytext", "key2", "mynewtext"]);
    assert_eq!(ks.exec(&["LCS", "key1", "key2"]), bulk("mytext"));
    assert_eq!(ks.exec(&["LCS", "key1", "key2", "LEN"]), int(6));
    let range = |a: i64, b: i64| array(vec![int(a), int(b)]);
    let expected = Frame::Map(vec![
        (bulk("matches"), array(vec![array(vec![range(4, 7), range(5, 8)]), array(vec![range(2, 3), range(0, 1)])])),
        (bulk("len"), int(6)),
    ]);
    assert_eq!(ks.exec(&["LCS", "key1", "key2", "IDX"]), expected);
    let with_len = Frame::Map(vec![
        (bulk("matches"), array(vec![array(vec![range(4, 7), range(5, 8), int(4)])])),
        (bulk("len"), int(6)),
    ]);
    assert_eq!(ks.exec(&["LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"]), with_len);
    assert_eq!(
        ks.exec(&["LCS", "key1", "key2", "LEN", "IDX"]),
        err("ERR If you want both the length and indexes, please just use IDX.")
    );
    assert_eq!(ks.exec(&["LCS", "key1", "key2", "MINMATCHLEN"]), err("ERR syntax error"));
    assert_eq!(ks.exec(&["LCS", "nokey", "key2"]), bulk(""));
}

#[test]
fn write_handlers_are_deterministic_across_replicas() {
    // The same entries (same index, leader time and seed) applied to two
    // fresh databases must produce the same write batches byte for byte.
    let script: &[&[&str]] = &[
        &["SET", "a", "1", "EX", "100"],
        &["INCRBYFLOAT", "a", "0.1"],
        &["APPEND", "b", "xyz"],
        &["GETEX", "b", "PX", "500"],
        &["MSET", "c", "1", "d", "2"],
        &["RENAME", "c", "e"],
        &["EXPIRE", "d", "10"],
        &["COPY", "d", "f", "DB", "3"],
        &["FLUSHDB"],
    ];
    let (mut one, mut two) = (ks(), ks());
    for cmd in script {
        let (r1, r2) = (one.exec(cmd), two.exec(cmd));
        assert_eq!(r1, r2, "{cmd:?}");
        assert_eq!(one.last_batch, two.last_batch, "{cmd:?} wrote different bytes");
        one.advance_ms(7);
        two.advance_ms(7);
    }
}

#[test]
fn commands_on_other_types_answer_wrongtype_or_nil_like_redis() {
    let mut ks = ks();
    let mut list = storage::StoredValue::string(bytes::Bytes::from_static(b"meta"), 0);
    list.header.kind = storage::ValueKind::List;
    ks.put_raw("l", list);
    let wrongtype = err("WRONGTYPE Operation against a key holding the wrong kind of value");
    for cmd in [
        &["GET", "l"][..],
        &["GETSET", "l", "v"],
        &["GETDEL", "l"],
        &["GETEX", "l", "PERSIST"],
        &["SET", "l", "v", "GET"],
        &["APPEND", "l", "x"],
        &["STRLEN", "l"],
        &["SETRANGE", "l", "0", "x"],
        &["GETRANGE", "l", "0", "1"],
        &["INCR", "l"],
        &["DECRBY", "l", "2"],
        &["INCRBYFLOAT", "l", "1.5"],
    ] {
        assert_eq!(ks.exec(cmd), wrongtype, "{cmd:?}");
    }
    assert_eq!(ks.exec(&["TYPE", "l"]), Frame::Simple(bytes::Bytes::from_static(b"list")));
    assert_eq!(ks.exec(&["MGET", "l", "nokey"]), array(vec![Frame::Null, Frame::Null]));
    assert_eq!(ks.exec(&["LCS", "l", "nokey"]), err("ERR The specified keys must contain string values"));
    assert_eq!(ks.exec(&["SETNX", "l", "v"]), int(0));
    assert_eq!(ks.exec(&["SET", "l", "v"]), ok(), "SET overwrites any type");
    assert_eq!(ks.exec(&["GET", "l"]), bulk("v"));
}
