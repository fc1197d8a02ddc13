//! Unit tests of the bitmap commands: expected replies are Redis 7.2's.
//! The case file `cluster-tests/cases/bitmaps.redis` compares most of them
//! with a real server; these cover what it cannot (7.2-only behaviour,
//! TTLs, encodings, big offsets) and the helpers directly.

use bytes::Bytes;
use resp::Frame;

use super::{bit_range, count_bits, find_bit};
use crate::commands::testing::{array, bulk, err, int, ok, TestKeyspace};

fn ks() -> TestKeyspace {
    TestKeyspace::new()
}

/// A key of another type (only its header matters here).
fn put_list(ks: &mut TestKeyspace, key: &str) {
    let mut list = storage::StoredValue::string(Bytes::from_static(b"meta"), 0);
    list.header.kind = storage::ValueKind::List;
    ks.put_raw(key, list);
}

fn set_bytes(ks: &mut TestKeyspace, key: &str, bytes: &[u8]) {
    let args = [Bytes::from("SET"), Bytes::copy_from_slice(key.as_bytes()), Bytes::copy_from_slice(bytes)];
    assert_eq!(ks.exec_bytes(&args), ok());
}

fn raw(bytes: &[u8]) -> Frame {
    Frame::Bulk(Bytes::copy_from_slice(bytes))
}

const OFFSET_ERR: &str = "ERR bit offset is not an integer or out of range";

#[test]
fn setbit_and_getbit_address_bits_most_significant_first() {
    let mut ks = ks();
    assert_eq!(ks.exec(&["SETBIT", "k", "1", "1"]), int(0));
    assert_eq!(ks.exec(&["SETBIT", "k", "7", "1"]), int(0));
    assert_eq!(ks.exec(&["GET", "k"]), bulk("A"));
    assert_eq!(ks.exec(&["SETBIT", "k", "7", "0"]), int(1));
    assert_eq!(ks.exec(&["GET", "k"]), bulk("@"));
    assert_eq!(ks.exec(&["GETBIT", "k", "1"]), int(1));
    assert_eq!(ks.exec(&["GETBIT", "k", "0"]), int(0));
    assert_eq!(ks.exec(&["GETBIT", "k", "1000"]), int(0));
    assert_eq!(ks.exec(&["GETBIT", "nokey", "0"]), int(0));
    assert_eq!(ks.exec(&["SETBIT", "k", "23", "1"]), int(0));
    assert_eq!(ks.exec(&["STRLEN", "k"]), int(3), "padded with zero bytes");
    assert_eq!(ks.exec(&["GET", "k"]), bulk("@\0\x01"));
}

#[test]
fn setbit_validates_offset_then_value_then_type() {
    let mut ks = ks();
    put_list(&mut ks, "l");
    assert_eq!(ks.exec(&["SETBIT", "l", "-1", "1"]), err(OFFSET_ERR));
    assert_eq!(ks.exec(&["SETBIT", "l", "4294967296", "1"]), err(OFFSET_ERR));
    assert_eq!(ks.exec(&["SETBIT", "l", "#1", "1"]), err(OFFSET_ERR));
    assert_eq!(ks.exec(&["SETBIT", "l", "0", "2"]), err("ERR bit is not an integer or out of range"));
    assert_eq!(ks.exec(&["SETBIT", "l", "0", "-1"]), err("ERR bit is not an integer or out of range"));
    assert_eq!(ks.exec(&["SETBIT", "l", "0", "x"]), err("ERR bit is not an integer or out of range"));
    assert_eq!(
        ks.exec(&["SETBIT", "l", "0", "1"]),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    assert_eq!(ks.exec(&["GETBIT", "l", "x"]), err(OFFSET_ERR));
    assert_eq!(
        ks.exec(&["GETBIT", "l", "0"]),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
}

#[test]
fn the_largest_offset_is_just_below_512_mib() {
    let mut ks = ks();
    assert_eq!(ks.exec(&["GETBIT", "k", "4294967295"]), int(0));
    assert_eq!(ks.exec(&["GETBIT", "k", "4294967296"]), err(OFFSET_ERR));
    assert_eq!(ks.exec(&["BITFIELD", "k", "GET", "u8", "4294967295"]), array(vec![int(0)]));
    assert_eq!(ks.exec(&["BITFIELD", "k", "GET", "u8", "4294967296"]), err(OFFSET_ERR));
    assert_eq!(ks.exec(&["BITFIELD", "k", "GET", "u8", "#536870911"]), array(vec![int(0)]));
    assert_eq!(ks.exec(&["BITFIELD", "k", "GET", "u8", "#536870912"]), err(OFFSET_ERR));
}

#[test]
fn bit_writes_keep_the_ttl_and_leave_a_raw_string() {
    let mut ks = ks();
    assert_eq!(ks.exec(&["SET", "k", "1", "EX", "100"]), ok());
    assert_eq!(ks.exec(&["OBJECT", "ENCODING", "k"]), bulk("int"));
    assert_eq!(ks.exec(&["SETBIT", "k", "7", "1"]), int(1), "'1' is 0x31");
    assert_eq!(ks.exec(&["TTL", "k"]), int(100));
    assert_eq!(ks.exec(&["OBJECT", "ENCODING", "k"]), bulk("raw"));
    assert_eq!(ks.exec(&["BITFIELD", "k", "SET", "u8", "8", "65"]), array(vec![int(0)]));
    assert_eq!(ks.exec(&["TTL", "k"]), int(100));
    assert_eq!(ks.exec(&["GET", "k"]), bulk("1A"));
    assert_eq!(ks.exec(&["SETBIT", "new", "0", "0"]), int(0));
    assert_eq!(ks.exec(&["OBJECT", "ENCODING", "new"]), bulk("raw"));
    assert_eq!(ks.exec(&["GET", "new"]), bulk("\0"));
}

#[test]
fn bitop_replaces_the_destination_and_its_ttl() {
    let mut ks = ks();
    set_bytes(&mut ks, "a", b"\xff\x0f");
    set_bytes(&mut ks, "b", b"\x0f");
    assert_eq!(ks.exec(&["SET", "dest", "old", "EX", "100"]), ok());
    assert_eq!(ks.exec(&["BITOP", "AND", "dest", "a", "b"]), int(2));
    assert_eq!(ks.exec(&["GET", "dest"]), bulk("\x0f\0"));
    assert_eq!(ks.exec(&["TTL", "dest"]), int(-1));
    assert_eq!(ks.exec(&["OBJECT", "ENCODING", "dest"]), bulk("raw"));
    assert_eq!(ks.exec(&["BITOP", "OR", "dest", "a", "b", "nokey"]), int(2));
    assert_eq!(ks.exec(&["GET", "dest"]), raw(b"\xff\x0f"));
    assert_eq!(ks.exec(&["BITOP", "XOR", "dest", "a", "b"]), int(2));
    assert_eq!(ks.exec(&["GET", "dest"]), raw(b"\xf0\x0f"));
    assert_eq!(ks.exec(&["BITOP", "NOT", "dest", "a"]), int(2));
    assert_eq!(ks.exec(&["GET", "dest"]), raw(b"\0\xf0"));
    put_list(&mut ks, "list");
    assert_eq!(ks.exec(&["BITOP", "NOT", "list", "a"]), int(2), "the destination may hold any type");
    assert_eq!(ks.exec(&["TYPE", "list"]), Frame::Simple("string".into()));
    assert_eq!(ks.exec(&["BITOP", "AND", "dest", "nokey", "nokey2"]), int(0));
    assert_eq!(ks.exec(&["EXISTS", "dest"]), int(0), "an empty result deletes the destination");
}

#[test]
fn bitop_errors() {
    let mut ks = ks();
    put_list(&mut ks, "list");
    assert_eq!(ks.exec(&["BITOP", "NAND", "d", "a"]), err("ERR syntax error"));
    assert_eq!(
        ks.exec(&["BITOP", "NOT", "d", "a", "b"]),
        err("ERR BITOP NOT must be called with a single source key.")
    );
    assert_eq!(
        ks.exec(&["BITOP", "OR", "d", "a", "list"]),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    assert_eq!(ks.exec(&["BITOP", "OR", "d"]), err("ERR wrong number of arguments for 'bitop' command"));
}

#[test]
fn bitcount_and_bitpos_check_their_arguments_before_the_key_in_7_2() {
    // Redis 7.0 answered 0 / -1 for a missing key whatever the arguments.
    let mut ks = ks();
    assert_eq!(ks.exec(&["BITCOUNT", "nokey", "0"]), err("ERR syntax error"));
    assert_eq!(ks.exec(&["BITCOUNT", "nokey", "a", "1"]), err("ERR value is not an integer or out of range"));
    assert_eq!(ks.exec(&["BITCOUNT", "nokey", "0", "1", "bits"]), err("ERR syntax error"));
    assert_eq!(ks.exec(&["BITCOUNT", "nokey", "0", "1", "bit", "x"]), err("ERR syntax error"));
    assert_eq!(ks.exec(&["BITPOS", "nokey", "1", "a"]), err("ERR value is not an integer or out of range"));
    assert_eq!(ks.exec(&["BITPOS", "nokey", "0", "0", "b"]), err("ERR value is not an integer or out of range"));
    assert_eq!(ks.exec(&["BITPOS", "nokey", "0", "0", "1", "bits"]), err("ERR syntax error"));
    assert_eq!(ks.exec(&["BITPOS", "nokey", "0", "0", "1", "bit", "x"]), err("ERR syntax error"));
    assert_eq!(ks.exec(&["BITPOS", "nokey", "2"]), err("ERR The bit argument must be 1 or 0."));
    assert_eq!(ks.exec(&["BITCOUNT", "nokey", "0", "1", "bit"]), int(0));
    assert_eq!(ks.exec(&["BITPOS", "nokey", "0", "5", "9", "bit"]), int(0));
    assert_eq!(ks.exec(&["BITPOS", "nokey", "1", "5", "9", "bit"]), int(-1));
}

#[test]
fn bitcount_ranges_in_bytes_and_bits() {
    let mut ks = ks();
    set_bytes(&mut ks, "k", b"\xff\xf0\x00\x0f");
    assert_eq!(ks.exec(&["BITCOUNT", "k"]), int(16));
    assert_eq!(ks.exec(&["BITCOUNT", "k", "1", "2"]), int(4));
    assert_eq!(ks.exec(&["BITCOUNT", "k", "-1", "-1"]), int(4));
    assert_eq!(ks.exec(&["BITCOUNT", "k", "-2", "-3"]), int(0), "negative and out of order");
    assert_eq!(ks.exec(&["BITCOUNT", "k", "-100", "100"]), int(16));
    assert_eq!(ks.exec(&["BITCOUNT", "k", "4", "10"]), int(0));
    assert_eq!(ks.exec(&["BITCOUNT", "k", "3", "11", "BIT"]), int(9));
    assert_eq!(ks.exec(&["BITCOUNT", "k", "5", "5", "bit"]), int(1));
    assert_eq!(ks.exec(&["BITCOUNT", "k", "-4", "-1", "bit"]), int(4));
    assert_eq!(ks.exec(&["BITCOUNT", "k", "0", "-1", "byte"]), int(16));
    set_bytes(&mut ks, "empty", b"");
    assert_eq!(ks.exec(&["BITCOUNT", "empty"]), int(0));
    assert_eq!(ks.exec(&["BITCOUNT", "empty", "0", "-1"]), int(0));
}

#[test]
fn bitpos_finds_set_and_clear_bits() {
    let mut ks = ks();
    set_bytes(&mut ks, "k", b"\xff\xf0\x00");
    assert_eq!(ks.exec(&["BITPOS", "k", "0"]), int(12));
    assert_eq!(ks.exec(&["BITPOS", "k", "1"]), int(0));
    assert_eq!(ks.exec(&["BITPOS", "k", "1", "2"]), int(-1));
    assert_eq!(ks.exec(&["BITPOS", "k", "1", "1"]), int(8));
    assert_eq!(ks.exec(&["BITPOS", "k", "0", "3", "11", "bit"]), int(-1));
    assert_eq!(ks.exec(&["BITPOS", "k", "0", "3", "12", "bit"]), int(12));
    assert_eq!(ks.exec(&["BITPOS", "k", "1", "9", "-1", "bit"]), int(9));
    set_bytes(&mut ks, "ones", b"\xff\xff");
    assert_eq!(ks.exec(&["BITPOS", "ones", "0"]), int(16), "no end: the string is followed by zeros");
    assert_eq!(ks.exec(&["BITPOS", "ones", "0", "1"]), int(16));
    assert_eq!(ks.exec(&["BITPOS", "ones", "0", "0", "-1"]), int(-1), "an explicit end bounds the search");
    assert_eq!(ks.exec(&["BITPOS", "ones", "0", "0", "15", "bit"]), int(-1));
    assert_eq!(ks.exec(&["BITPOS", "ones", "1", "5", "2"]), int(-1));
    set_bytes(&mut ks, "empty", b"");
    assert_eq!(ks.exec(&["BITPOS", "empty", "0"]), int(-1), "an existing empty string has no bit at all");
    assert_eq!(ks.exec(&["BITPOS", "nokey", "0"]), int(0));
    assert_eq!(ks.exec(&["BITPOS", "nokey", "1"]), int(-1));
}

#[test]
fn find_bit_agrees_with_a_bit_by_bit_scan() {
    let bytes: Vec<u8> = (0u32..64)
        .map(|i| match i % 7 {
            0 => 0x00,
            1 => 0xff,
            2 => 0x10,
            3 => 0xef,
            _ => (i * 37) as u8,
        })
        .collect();
    let total = bytes.len() as u64 * 8;
    for first in (0..total).step_by(5) {
        for last in (first..total).step_by(11) {
            for bit in 0..=1u8 {
                let naive = (first..=last).find(|&p| super::bit_at(&bytes, p) == bit);
                assert_eq!(find_bit(&bytes, first, last, bit), naive, "{first}..={last} bit {bit}");
                let ones = (first..=last).filter(|&p| super::bit_at(&bytes, p) == 1).count() as u64;
                assert_eq!(count_bits(&bytes, first, last), ones, "{first}..={last}");
            }
        }
    }
}

#[test]
fn bit_ranges_clamp_like_redis() {
    assert_eq!(bit_range(4, 0, -1, false), Some((0, 31)));
    assert_eq!(bit_range(4, -2, -1, false), Some((16, 31)));
    assert_eq!(bit_range(4, 5, 10, false), None);
    assert_eq!(bit_range(4, i64::MIN, i64::MAX, false), Some((0, 31)));
    assert_eq!(bit_range(4, i64::MIN, i64::MAX, true), Some((0, 31)));
    assert_eq!(bit_range(0, 0, -1, true), None);
    assert_eq!(bit_range(2, 3, -3, true), Some((3, 13)));
}

#[test]
fn bitfield_reads_and_writes_fields_of_any_width() {
    let mut ks = ks();
    assert_eq!(ks.exec(&["BITFIELD", "k", "SET", "u5", "7", "23"]), array(vec![int(0)]));
    assert_eq!(ks.exec(&["GET", "k"]), bulk("\x01\x70"));
    assert_eq!(
        ks.exec(&["BITFIELD", "k", "GET", "u5", "7", "GET", "i5", "7", "GET", "u16", "0", "GET", "i64", "0"]),
        array(vec![int(23), int(-9), int(0x0170), int(0x0170_0000_0000_0000)])
    );
    assert_eq!(
        ks.exec(&["BITFIELD", "k", "INCRBY", "i8", "#2", "-1", "GET", "u8", "16"]),
        array(vec![int(-1), int(255)])
    );
    assert_eq!(ks.exec(&["STRLEN", "k"]), int(3));
    assert_eq!(ks.exec(&["BITFIELD", "k"]), array(vec![]));
    assert_eq!(ks.exec(&["BITFIELD_RO", "k", "GET", "u8", "#1"]), array(vec![int(0x70)]));
    assert_eq!(ks.exec(&["BITFIELD_RO", "nokey", "GET", "i8", "0"]), array(vec![int(0)]));
    assert_eq!(ks.exec(&["EXISTS", "nokey"]), int(0));
    assert_eq!(ks.exec(&["BITFIELD", "nokey", "GET", "i8", "0"]), array(vec![int(0)]));
    assert_eq!(ks.exec(&["EXISTS", "nokey"]), int(0), "GET alone creates nothing");
}

#[test]
fn bitfield_overflow_modes() {
    let mut ks = ks();
    let incr = |ks: &mut TestKeyspace, mode: &str, ty: &str, by: &str| {
        ks.exec(&["BITFIELD", "k", "OVERFLOW", mode, "INCRBY", ty, "0", by])
    };
    assert_eq!(incr(&mut ks, "WRAP", "u8", "250"), array(vec![int(250)]));
    assert_eq!(incr(&mut ks, "WRAP", "u8", "10"), array(vec![int(4)]));
    assert_eq!(incr(&mut ks, "SAT", "u8", "-10"), array(vec![int(0)]));
    assert_eq!(incr(&mut ks, "FAIL", "u8", "-1"), array(vec![Frame::Null]));
    assert_eq!(incr(&mut ks, "SAT", "u8", "1000"), array(vec![int(255)]));
    assert_eq!(incr(&mut ks, "SAT", "i8", "1"), array(vec![int(0)]), "255 is -1 as i8");
    assert_eq!(incr(&mut ks, "WRAP", "i8", "127"), array(vec![int(127)]));
    assert_eq!(incr(&mut ks, "WRAP", "i8", "1"), array(vec![int(-128)]));
    assert_eq!(incr(&mut ks, "SAT", "i8", "-1"), array(vec![int(-128)]));
    assert_eq!(incr(&mut ks, "FAIL", "i8", "-1"), array(vec![Frame::Null]));
    assert_eq!(
        ks.exec(&["BITFIELD", "k", "SET", "i64", "0", "9223372036854775807", "INCRBY", "i64", "0", "1"]),
        array(vec![int(-128 << 56), int(i64::MIN)])
    );
    assert_eq!(
        ks.exec(&[
            "BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-1", "OVERFLOW", "FAIL", "INCRBY", "i64", "0",
            "-1"
        ]),
        array(vec![int(i64::MIN), Frame::Null])
    );
    assert_eq!(ks.exec(&["BITFIELD", "k", "SET", "u63", "0", "-1"]), array(vec![int(1 << 62)]));
    assert_eq!(ks.exec(&["BITFIELD", "k", "GET", "u63", "0"]), array(vec![int(i64::MAX)]));
    // Redis's quirk: i64::MIN counts as an overflow upwards for narrow fields.
    assert_eq!(
        ks.exec(&["BITFIELD", "k", "OVERFLOW", "SAT", "SET", "i8", "0", "-9223372036854775808", "GET", "i8", "0"]),
        array(vec![int(-1), int(127)])
    );
    assert_eq!(
        ks.exec(&["BITFIELD", "k", "SET", "i8", "0", "-9223372036854775808", "GET", "i8", "0"]),
        array(vec![int(127), int(0)])
    );
}

#[test]
fn bitfield_fail_still_creates_the_key_like_redis() {
    let mut ks = ks();
    assert_eq!(ks.exec(&["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u2", "100", "10"]), array(vec![Frame::Null]));
    assert_eq!(ks.exec(&["GET", "k"]), Frame::Bulk(Bytes::from(vec![0u8; 13])));
}

#[test]
fn bitfield_errors_come_from_parsing_before_the_key() {
    let mut ks = ks();
    let type_err = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
    put_list(&mut ks, "list");
    assert_eq!(ks.exec(&["BITFIELD", "list", "GET", "u64", "0"]), err(type_err));
    assert_eq!(ks.exec(&["BITFIELD", "list", "GET", "i65", "0"]), err(type_err));
    assert_eq!(ks.exec(&["BITFIELD", "list", "GET", "i0", "0"]), err(type_err));
    assert_eq!(ks.exec(&["BITFIELD", "list", "GET", "", "0"]), err(type_err));
    assert_eq!(ks.exec(&["BITFIELD", "list", "GET", "u8", "-1"]), err(OFFSET_ERR));
    assert_eq!(ks.exec(&["BITFIELD", "list", "GET", "u8", "#"]), err(OFFSET_ERR));
    assert_eq!(ks.exec(&["BITFIELD", "list", "GET", "u8", "#9223372036854775807"]), err(OFFSET_ERR));
    assert_eq!(
        ks.exec(&["BITFIELD", "list", "SET", "u8", "0", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(ks.exec(&["BITFIELD", "list", "OVERFLOW", "BAD"]), err("ERR Invalid OVERFLOW type specified"));
    assert_eq!(ks.exec(&["BITFIELD", "list", "GET", "u8"]), err("ERR syntax error"));
    assert_eq!(ks.exec(&["BITFIELD", "list", "OVERFLOW"]), err("ERR syntax error"));
    assert_eq!(ks.exec(&["BITFIELD", "list", "GET", "u8", "0", "NOPE"]), err("ERR syntax error"));
    assert_eq!(
        ks.exec(&["BITFIELD", "list", "GET", "u8", "0"]),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    assert_eq!(
        ks.exec(&["BITFIELD", "list"]),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    assert_eq!(
        ks.exec(&["BITFIELD_RO", "list", "SET", "u8", "0", "1"]),
        err("ERR BITFIELD_RO only supports the GET subcommand"),
        "checked before the type"
    );
    assert_eq!(ks.exec(&["BITFIELD_RO", "list", "SET", "u8", "0", "1", "GET", "u99", "0"]), err(type_err));
}

#[test]
fn every_command_refuses_other_types() {
    let mut ks = ks();
    put_list(&mut ks, "l");
    set_bytes(&mut ks, "s", b"x");
    let wrongtype = err("WRONGTYPE Operation against a key holding the wrong kind of value");
    for cmd in [
        &["SETBIT", "l", "0", "1"][..],
        &["GETBIT", "l", "0"],
        &["BITCOUNT", "l"],
        &["BITCOUNT", "l", "0", "1", "BIT"],
        &["BITPOS", "l", "1"],
        &["BITPOS", "l", "0", "0", "1", "BIT"],
        &["BITOP", "AND", "d", "s", "l"],
        &["BITOP", "NOT", "d", "l"],
        &["BITFIELD", "l", "SET", "u8", "0", "1"],
        &["BITFIELD", "l", "GET", "u8", "0"],
        &["BITFIELD_RO", "l", "GET", "u8", "0"],
        &["BITFIELD_RO", "l"],
    ] {
        assert_eq!(ks.exec(cmd), wrongtype, "{cmd:?}");
    }
    assert_eq!(ks.exec(&["EXISTS", "d"]), int(0));
    assert_eq!(ks.exec(&["BITPOS", "l", "2"]), err("ERR The bit argument must be 1 or 0."), "checked first");
    assert_eq!(ks.exec(&["BITOP", "OR", "l", "s"]), int(1), "the destination is overwritten whatever it holds");
    assert_eq!(ks.exec(&["GET", "l"]), bulk("x"));
}

#[test]
fn writes_are_deterministic_across_replicas() {
    let (mut one, mut two) = (ks(), ks());
    let script: &[&[&str]] = &[
        &["SETBIT", "a", "100", "1"],
        &["BITFIELD", "a", "INCRBY", "i5", "3", "7", "OVERFLOW", "FAIL", "INCRBY", "u2", "50", "9"],
        &["BITOP", "XOR", "b", "a", "a"],
        &["BITOP", "NOT", "c", "a"],
        &["BITFIELD", "c", "GET", "u8", "0"],
    ];
    for cmd in script {
        assert_eq!(one.exec(cmd), two.exec(cmd), "{cmd:?}");
        assert_eq!(one.last_batch, two.last_batch, "{cmd:?} wrote different bytes");
        one.advance_ms(7);
        two.advance_ms(7);
    }
}
