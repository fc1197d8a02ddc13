//! Unit tests of the HyperLogLog commands. Expected bytes, counts and
//! encodings were taken from a real Redis fed the same elements (the case
//! file `cluster-tests/cases/hyperloglog.redis` compares more of them live).

use bytes::Bytes;
use resp::Frame;

use super::hll;
use crate::commands::testing::{bulk, err, int, ok, TestKeyspace};

fn ks() -> TestKeyspace {
    TestKeyspace::new()
}

/// A key of another type (only its header matters here).
fn put_list(ks: &mut TestKeyspace, key: &str) {
    let mut list = storage::StoredValue::string(Bytes::from_static(b"meta"), 0);
    list.header.kind = storage::ValueKind::List;
    ks.put_raw(key, list);
}

/// PFADD of `prefix0` .. `prefix{n-1}` in one command.
fn pfadd_many(ks: &mut TestKeyspace, key: &str, prefix: &str, n: usize) -> Frame {
    let mut args = vec![Bytes::from("PFADD"), Bytes::copy_from_slice(key.as_bytes())];
    args.extend((0..n).map(|i| Bytes::from(format!("{prefix}{i}"))));
    ks.exec_bytes(&args)
}

fn get_bytes(ks: &mut TestKeyspace, key: &str) -> Vec<u8> {
    match ks.exec(&["GET", key]) {
        Frame::Bulk(bytes) => bytes.to_vec(),
        other => panic!("GET {key}: {other:?}"),
    }
}

/// zlib's CRC-32, to compare whole values with Redis's.
fn crc32(bytes: &[u8]) -> u32 {
    crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(bytes)
}

fn set_bytes(ks: &mut TestKeyspace, key: &str, bytes: &[u8]) {
    let args = [Bytes::from("SET"), Bytes::copy_from_slice(key.as_bytes()), Bytes::copy_from_slice(bytes)];
    assert_eq!(ks.exec_bytes(&args), ok());
}

const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";

#[test]
fn elements_land_in_the_registers_redis_picks() {
    assert_eq!(hll::murmur64a(b"", 0), 0);
    let mut ks = ks();
    assert_eq!(ks.exec(&["PFADD", "h", "a", "b", "c"]), int(1));
    assert_eq!(ks.exec(&["PFDEBUG", "DECODE", "h"]), bulk("Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603"));
}

#[test]
fn pfadd_writes_redis_s_exact_bytes() {
    let mut ks = ks();
    assert_eq!(ks.exec(&["PFADD", "h", "a", "b", "c"]), int(1));
    let expected: &[u8] =
        b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x60\xf3\x80\x50\xb1\x84\x4b\xfb\x80\x42\x5a";
    assert_eq!(get_bytes(&mut ks, "h"), expected);
    assert_eq!(ks.exec(&["PFADD", "h", "a"]), int(0));
    assert_eq!(ks.exec(&["PFCOUNT", "h"]), int(3));
    assert_eq!(ks.exec(&["OBJECT", "ENCODING", "h"]), bulk("raw"));
    assert_eq!(ks.exec(&["PFADD", "empty"]), int(1), "creating the key counts as a change");
    assert_eq!(get_bytes(&mut ks, "empty"), b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff");
    assert_eq!(ks.exec(&["PFADD", "empty"]), int(0));
    assert_eq!(ks.exec(&["PFCOUNT", "empty"]), int(0));
}

#[test]
fn sparse_values_turn_dense_where_redis_s_do() {
    let mut ks = ks();
    assert_eq!(pfadd_many(&mut ks, "s", "e", 1683), int(1));
    let sparse = get_bytes(&mut ks, "s");
    assert_eq!((sparse.len(), crc32(&sparse)), (3000, 1_868_473_183));
    assert_eq!(ks.exec(&["PFDEBUG", "ENCODING", "s"]), Frame::Simple("sparse".into()));
    assert_eq!(pfadd_many(&mut ks, "d", "e", 1684), int(1));
    let dense = get_bytes(&mut ks, "d");
    assert_eq!((dense.len(), crc32(&dense)), (12304, 768_524_190));
    assert_eq!(ks.exec(&["PFDEBUG", "ENCODING", "d"]), Frame::Simple("dense".into()));
    assert_eq!(pfadd_many(&mut ks, "h", "e", 5000), int(1));
    let h = get_bytes(&mut ks, "h");
    assert_eq!((h.len(), crc32(&h)), (12304, 359_308_535));
    assert_eq!(pfadd_many(&mut ks, "small", "x", 200), int(1));
    let small = get_bytes(&mut ks, "small");
    assert_eq!((small.len(), crc32(&small)), (498, 2_107_110_715));

    assert_eq!(ks.exec(&["PFCOUNT", "h"]), int(4968));
    assert_eq!(ks.exec(&["PFCOUNT", "s"]), int(1683));
    assert_eq!(ks.exec(&["PFCOUNT", "small"]), int(198));
    assert_eq!(ks.exec(&["PFCOUNT", "h", "small"]), int(5167));
    assert_eq!(ks.exec(&["PFCOUNT", "h", "small", "nokey"]), int(5167));
}

#[test]
fn pfmerge_matches_redis_including_a_promotion_midway() {
    let mut ks = ks();
    pfadd_many(&mut ks, "s", "e", 1683);
    pfadd_many(&mut ks, "small", "x", 200);
    pfadd_many(&mut ks, "h", "e", 5000);
    assert_eq!(ks.exec(&["PFMERGE", "m", "small", "s"]), ok());
    let m = get_bytes(&mut ks, "m");
    assert_eq!((m.len(), crc32(&m)), (12304, 2_038_448_755));
    assert_eq!(ks.exec(&["PFMERGE", "m2", "small"]), ok());
    assert_eq!(get_bytes(&mut ks, "m2"), get_bytes(&mut ks, "small"));
    assert_eq!(ks.exec(&["PFMERGE", "m3", "h", "small"]), ok());
    let m3 = get_bytes(&mut ks, "m3");
    assert_eq!((m3.len(), crc32(&m3)), (12304, 516_461_578));
    assert_eq!(ks.exec(&["PFCOUNT", "m3"]), int(5167));
    assert_eq!(ks.exec(&["PFMERGE", "alone"]), ok());
    assert_eq!(get_bytes(&mut ks, "alone"), b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff");
}

#[test]
fn a_large_count_matches_redis() {
    let mut ks = ks();
    pfadd_many(&mut ks, "big", "e", 200_000);
    assert_eq!(ks.exec(&["PFCOUNT", "big"]), int(200_859));
}

#[test]
fn writes_keep_the_ttl() {
    let mut ks = ks();
    assert_eq!(ks.exec(&["PFADD", "h", "a"]), int(1));
    assert_eq!(ks.exec(&["EXPIRE", "h", "100"]), int(1));
    assert_eq!(ks.exec(&["PFADD", "h", "b"]), int(1));
    assert_eq!(ks.exec(&["TTL", "h"]), int(100));
    assert_eq!(ks.exec(&["PFMERGE", "h", "other"]), ok());
    assert_eq!(ks.exec(&["TTL", "h"]), int(100));
    assert_eq!(ks.exec(&["PFDEBUG", "TODENSE", "h"]), int(1));
    assert_eq!(ks.exec(&["TTL", "h"]), int(100));
}

#[test]
fn pfcount_uses_a_valid_cache_and_never_writes_it() {
    let mut ks = ks();
    let mut value = b"HYLL\x01\x00\x00\x00".to_vec();
    value.extend_from_slice(&42u64.to_le_bytes());
    value.extend_from_slice(b"\x7f\xff");
    set_bytes(&mut ks, "h", &value);
    assert_eq!(ks.exec(&["PFCOUNT", "h"]), int(42), "a valid cache is trusted");
    assert_eq!(ks.exec(&["PFADD", "h", "a"]), int(1));
    let after = get_bytes(&mut ks, "h");
    assert_eq!(&after[8..16], b"\x2a\0\0\0\0\0\0\x80", "only the top bit marks it stale");
    assert_eq!(ks.exec(&["PFCOUNT", "h"]), int(1));
    assert_eq!(get_bytes(&mut ks, "h"), after, "PFCOUNT is a read here");
}

#[test]
fn strings_that_are_not_hyperloglogs_are_refused() {
    let mut ks = ks();
    assert_eq!(ks.exec(&["SET", "s", "hello"]), ok());
    put_list(&mut ks, "l");
    for cmd in [&["PFADD", "s", "a"][..], &["PFCOUNT", "s"], &["PFCOUNT", "nokey", "s"], &["PFMERGE", "d", "s"]] {
        assert_eq!(ks.exec(cmd), err(NOT_HLL), "{cmd:?}");
    }
    assert_eq!(ks.exec(&["PFADD", "l", "a"]), err("WRONGTYPE Operation against a key holding the wrong kind of value"));
    assert_eq!(ks.exec(&["PFMERGE", "l"]), err("WRONGTYPE Operation against a key holding the wrong kind of value"));
    for cmd in
        [&["PFCOUNT", "l"][..], &["PFCOUNT", "nokey", "l"], &["PFMERGE", "d", "l"], &["PFDEBUG", "ENCODING", "l"]]
    {
        assert_eq!(ks.exec(cmd), err("WRONGTYPE Operation against a key holding the wrong kind of value"), "{cmd:?}");
    }
    // Right magic, wrong shape.
    set_bytes(&mut ks, "enc", b"HYLL\x02\0\0\0\0\0\0\0\0\0\0\0");
    set_bytes(&mut ks, "short", b"HYLL\x01\0\0\0\0\0\0\0\0\0\0");
    set_bytes(&mut ks, "dense", b"HYLL\x00\0\0\0\0\0\0\0\0\0\0\0\0\0");
    for key in ["enc", "short", "dense"] {
        assert_eq!(ks.exec(&["PFCOUNT", key]), err(NOT_HLL), "{key}");
    }
    assert_eq!(ks.exec(&["EXISTS", "d"]), int(0));
}

#[test]
fn corrupt_sparse_values_are_detected() {
    let mut ks = ks();
    // XZERO 16383: one register short.
    set_bytes(&mut ks, "short", b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x7f\xfe");
    assert_eq!(ks.exec(&["PFCOUNT", "short"]), err(CORRUPT));
    assert_eq!(ks.exec(&["PFCOUNT", "short", "short"]), err(CORRUPT));
    assert_eq!(ks.exec(&["PFMERGE", "d", "short"]), err(CORRUPT));
    assert_eq!(ks.exec(&["PFDEBUG", "TODENSE", "short"]), err(CORRUPT));
    // No opcodes at all: nothing covers the register.
    set_bytes(&mut ks, "bare", b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80");
    assert_eq!(ks.exec(&["PFADD", "bare", "a"]), err(CORRUPT));
    assert_eq!(ks.exec(&["PFDEBUG", "DECODE", "bare"]), bulk(""));
    // Unchanged by the failed PFADD.
    assert_eq!(get_bytes(&mut ks, "bare"), b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80");
}

#[test]
fn pfdebug_subcommands() {
    let mut ks = ks();
    assert_eq!(ks.exec(&["PFDEBUG", "GETREG", "nokey"]), err("ERR The specified key does not exist"));
    assert_eq!(ks.exec(&["PFADD", "h", "a", "b", "c"]), int(1));
    assert_eq!(ks.exec(&["PFDEBUG", "NOPE", "h"]), err("ERR Unknown PFDEBUG subcommand 'NOPE'"));
    assert_eq!(ks.exec(&["PFDEBUG", "ENCODING", "h"]), Frame::Simple("sparse".into()));
    let registers = ks.exec(&["PFDEBUG", "GETREG", "h"]);
    let Frame::Array(registers) = registers else { panic!("GETREG: {registers:?}") };
    assert_eq!(registers.len(), hll::REGISTERS);
    let set: Vec<(usize, Frame)> = registers.into_iter().enumerate().filter(|(_, r)| *r != int(0)).collect();
    assert_eq!(set, vec![(8436, int(1)), (12711, int(2)), (15780, int(1))]);
    assert_eq!(ks.exec(&["PFDEBUG", "ENCODING", "h"]), Frame::Simple("dense".into()), "GETREG converts");
    assert_eq!(ks.exec(&["PFDEBUG", "DECODE", "h"]), err("ERR HLL encoding is not sparse"));
    assert_eq!(ks.exec(&["PFDEBUG", "TODENSE", "h"]), int(0));
    assert_eq!(ks.exec(&["PFCOUNT", "h"]), int(3));
    assert_eq!(ks.exec(&["PFDEBUG", "GETREG"]), err("ERR wrong number of arguments for 'pfdebug' command"));
}

#[test]
fn registers_above_32_turn_a_sparse_value_dense() {
    let mut bytes = hll::new_sparse();
    assert_eq!(hll::raise(&mut bytes, 5, 32), Ok(true));
    assert_eq!(hll::encoding(&bytes), hll::SPARSE);
    assert_eq!(hll::raise(&mut bytes, 6, 33), Ok(true));
    assert_eq!(hll::encoding(&bytes), hll::DENSE);
    assert_eq!(bytes.len(), hll::DENSE_BYTES);
    assert_eq!(hll::dense_get(&bytes[hll::HEADER_BYTES..], 5), 32);
    assert_eq!(hll::dense_get(&bytes[hll::HEADER_BYTES..], 6), 33);
    assert_eq!(hll::raise(&mut bytes, 6, 20), Ok(false));
    assert_eq!(hll::raise(&mut bytes, hll::REGISTERS - 1, 63), Ok(true));
    assert_eq!(hll::dense_get(&bytes[hll::HEADER_BYTES..], hll::REGISTERS - 1), 63);
    assert_eq!(hll::dense_get(&bytes[hll::HEADER_BYTES..], hll::REGISTERS - 2), 0);
}

#[test]
fn sparse_updates_split_and_merge_opcodes() {
    let mut bytes = hll::new_sparse();
    let decode = |b: &[u8]| hll::decode_sparse(b);
    hll::raise(&mut bytes, 0, 3).unwrap();
    assert_eq!(decode(&bytes), "v:3,1 Z:16383");
    hll::raise(&mut bytes, 100, 1).unwrap();
    assert_eq!(decode(&bytes), "v:3,1 Z:99 v:1,1 Z:16283");
    hll::raise(&mut bytes, 1, 3).unwrap();
    assert_eq!(decode(&bytes), "v:3,2 Z:98 v:1,1 Z:16283");
    hll::raise(&mut bytes, 2, 2).unwrap();
    hll::raise(&mut bytes, 2, 3).unwrap();
    assert_eq!(decode(&bytes), "v:3,3 Z:97 v:1,1 Z:16283");
    hll::raise(&mut bytes, 4, 3).unwrap();
    hll::raise(&mut bytes, 3, 3).unwrap();
    assert_eq!(decode(&bytes), "v:3,4 v:3,1 Z:95 v:1,1 Z:16283", "a VAL opcode holds at most 4 registers");
    assert_eq!(hll::count(&bytes), Ok(6));
    let dense = hll::sparse_to_dense(&bytes).unwrap();
    assert_eq!(hll::count(&dense), Ok(6));
    let mut max = vec![0u8; hll::REGISTERS];
    hll::merge_into(&mut max, &bytes).unwrap();
    assert_eq!(&max[..6], &[3, 3, 3, 3, 3, 0]);
    assert_eq!(max[100], 1);
}

#[test]
fn pfselftest_passes() {
    let mut ks = ks();
    assert_eq!(ks.exec(&["PFSELFTEST"]), ok());
    assert_eq!(ks.exec(&["PFSELFTEST", "x"]), err("ERR wrong number of arguments for 'pfselftest' command"));
}

#[test]
fn pfcount_arity_and_empty_keys() {
    let mut ks = ks();
    assert_eq!(ks.exec(&["PFCOUNT"]), err("ERR wrong number of arguments for 'pfcount' command"));
    assert_eq!(ks.exec(&["PFADD"]), err("ERR wrong number of arguments for 'pfadd' command"));
    assert_eq!(ks.exec(&["PFMERGE"]), err("ERR wrong number of arguments for 'pfmerge' command"));
    assert_eq!(ks.exec(&["PFCOUNT", "nokey"]), int(0));
    assert_eq!(ks.exec(&["PFCOUNT", "nokey", "nokey2"]), int(0));
}

#[test]
fn writes_are_deterministic_across_replicas() {
    let (mut one, mut two) = (ks(), ks());
    let script: &[&[&str]] = &[
        &["PFADD", "a", "x", "y", "z"],
        &["PFADD", "b", "y", "w"],
        &["PFMERGE", "c", "a", "b"],
        &["PFDEBUG", "TODENSE", "c"],
        &["PFMERGE", "a", "c"],
    ];
    for cmd in script {
        assert_eq!(one.exec(cmd), two.exec(cmd), "{cmd:?}");
        assert_eq!(one.last_batch, two.last_batch, "{cmd:?} wrote different bytes");
        one.advance_ms(7);
        two.advance_ms(7);
    }
}
