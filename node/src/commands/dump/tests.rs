//! DUMP/RESTORE: the codecs against byte vectors taken from the reference
//! redis-server (7.0.15, `DUMP` in hex), round trips of every type through
//! the command harness, and RESTORE's errors in Redis's order.

use bytes::Bytes;
use resp::Frame;

use super::packed::{self, ListpackWriter, Packed};
use super::rdb::{self, RdbReader, RdbWriter};
use super::value::{self, RdbValue};
use super::{decode_payload, payload, transcode, PayloadError, RDB_VERSION_7_0, RDB_VERSION_7_2};
use crate::commands::set::Encoding as SetEncoding;
use crate::commands::testing::{bulk, err, int, ok, TestKeyspace};

fn hex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

fn b(text: &str) -> Bytes {
    Bytes::copy_from_slice(text.as_bytes())
}

/// `DUMP` replies of redis-server 7.0.15 (RDB version 10).
const REDIS_STRING: &str = "000568656c6c6f0a006372df766534200a";
const REDIS_INT16: &str = "00c139300a009d94ea2793fc08b9";
const REDIS_INT8: &str = "00c0f90a005e26d130d7a242ab";
const REDIS_LZF: &str = "00c30928016161e01b000161610a00cf092faaae25831d";
const REDIS_LIST: &str = "120102151500000005008161028162020101dffb02c12c02ff0a006be158a1e865c788";
const REDIS_HASH: &str = "10151500000004008266310382763103826632030201ff0a005c5ea813feec1ff5";
const REDIS_INTSET: &str = "0b180400000004000000010000000200000003000000701101000a00ef2e6521e385a22a";
const REDIS_SET: &str = "02030163016201610a005ea67e5623750bab";
const REDIS_ZSET: &str = "111d1d0000000600816302842d696e6605816102010181620283322e3504ff0a003992339be11f323d";
/// XADD st 1-1 f v, 1-2 f w, 2-0 g 1 h 2; XGROUP CREATE st grp 0;
/// XREADGROUP GROUP grp alice COUNT 2 STREAMS st >; XDEL st 1-2.
const REDIS_STREAM: &str = "130110000000000000000100000000000000013d3d000000180002010101010181660200010201000100018176020401030100010101817702040100010101dfff020201816702010181680202010801ff02020001010102030103677270010202020000000000000001000000000000000151a8b10da2010000010000000000000001000000000000000251a8b10da2010000010105616c69636551a8b10da20100000200000000000000010000000000000001000000000000000100000000000000020a00c713cb88e803cbe8";

#[test]
fn crc64_is_redis_jones_crc() {
    assert_eq!(rdb::crc64(b"123456789"), 0xe9c6_d914_c4b8_d9ca);
}

#[test]
fn redis_payloads_decode_to_their_values() {
    let decoded = |h: &str| decode_payload(&hex(h)).unwrap();
    assert_eq!(decoded(REDIS_STRING), RdbValue::String(b("hello")));
    assert_eq!(decoded(REDIS_INT16), RdbValue::String(b("12345")));
    assert_eq!(decoded(REDIS_INT8), RdbValue::String(b("-7")));
    assert_eq!(decoded(REDIS_LZF), RdbValue::String(Bytes::from("a".repeat(40))));
    assert_eq!(decoded(REDIS_LIST), RdbValue::List(["a", "b", "1", "-5", "300"].map(b).to_vec()));
    assert_eq!(
        decoded(REDIS_HASH),
        RdbValue::Hash { pairs: vec![(b("f1"), b("v1")), (b("f2"), b("2"))], compact: true }
    );
    assert_eq!(
        decoded(REDIS_INTSET),
        RdbValue::Set { members: ["1", "2", "3", "70000"].map(b).to_vec(), encoding: SetEncoding::Intset }
    );
    assert_eq!(
        decoded(REDIS_SET),
        RdbValue::Set { members: ["c", "b", "a"].map(b).to_vec(), encoding: SetEncoding::Hashtable }
    );
    let RdbValue::ZSet { items, compact: true } = decoded(REDIS_ZSET) else { panic!("a listpack zset") };
    let items: Vec<(Bytes, f64)> = items.into_iter().map(|i| (i.member, i.score)).collect();
    assert_eq!(items, vec![(b("c"), f64::NEG_INFINITY), (b("a"), 1.0), (b("b"), 2.5)]);
}

/// Decoding a reference payload and encoding it again for the same version
/// gives Redis's bytes back, for every form the writer shares with Redis.
#[test]
fn the_writer_reproduces_redis_payloads_byte_for_byte() {
    for h in [REDIS_STRING, REDIS_INT16, REDIS_INT8, REDIS_LIST, REDIS_HASH, REDIS_INTSET, REDIS_SET, REDIS_ZSET] {
        let original = hex(h);
        assert_eq!(transcode(&original, RDB_VERSION_7_0).unwrap(), original, "{h}");
    }
}

#[test]
fn a_redis_stream_decodes_without_its_tombstone_and_keeps_its_groups() {
    let RdbValue::Stream(s) = decode_payload(&hex(REDIS_STREAM)).unwrap() else { panic!("a stream") };
    use super::super::stream::id::StreamId;
    assert_eq!(s.length, 2);
    assert_eq!(
        (s.last_id, s.first_id, s.max_deleted, s.entries_added),
        (StreamId::new(2, 0), StreamId::new(1, 1), StreamId::new(1, 2), 3)
    );
    let entries: Vec<_> = s.nodes.iter().flat_map(|n| n.entries.clone()).collect();
    assert_eq!(
        entries,
        vec![(StreamId::new(1, 1), vec![b("f"), b("v")]), (StreamId::new(2, 0), vec![b("g"), b("1"), b("h"), b("2")])]
    );
    let group = &s.groups[0];
    assert_eq!((group.name.clone(), group.last_id, group.entries_read), (b("grp"), StreamId::new(1, 2), Some(2)));
    assert_eq!(group.pending.len(), 2);
    assert_eq!(group.consumers[0].name, b("alice"));
    assert_eq!(group.consumers[0].pending, vec![StreamId::new(1, 1), StreamId::new(1, 2)]);
    assert_eq!(group.consumers[0].active_time, group.consumers[0].seen_time);
    // The re-encoded stream (without the tombstone) decodes to the same value.
    let again = transcode(&hex(REDIS_STREAM), RDB_VERSION_7_2).unwrap();
    assert_eq!(decode_payload(&again).unwrap(), RdbValue::Stream(s));
}

#[test]
fn lzf_decompression_checks_lengths_and_back_references() {
    let data = hex("016161e01b00016161");
    assert_eq!(rdb::lzf_decompress(&data, 40).unwrap(), vec![b'a'; 40]);
    assert!(rdb::lzf_decompress(&data, 39).is_err());
    assert!(rdb::lzf_decompress(&data, 41).is_err());
    // A back reference before the start of the output.
    assert!(rdb::lzf_decompress(&hex("e01b05"), 36).is_err());
    assert!(rdb::lzf_decompress(&hex("05aa"), 6).is_err());
}

#[test]
fn lengths_and_strings_round_trip_in_every_encoding() {
    let lengths = [0u64, 63, 64, 16383, 16384, u64::from(u32::MAX), u64::from(u32::MAX) + 1, u64::MAX];
    let strings = [
        "",
        "0",
        "-1",
        "127",
        "-128",
        "128",
        "32767",
        "-32769",
        "2147483647",
        "2147483648",
        "-0",
        "007",
        "+5",
        "12345678901",
    ];
    let mut w = RdbWriter::default();
    for len in lengths {
        w.len(len);
    }
    for s in strings {
        w.string(s.as_bytes());
    }
    let mut r = RdbReader::new(&w.out);
    for len in lengths {
        assert_eq!(r.length().unwrap(), len);
    }
    for s in strings {
        assert_eq!(r.string().unwrap(), b(s));
    }
    assert_eq!(r.remaining(), 0);
    // Integer encodings only for canonical decimal integers of 32 bits.
    let mut w = RdbWriter::default();
    w.string(b"-128");
    w.string(b"007");
    assert_eq!(w.out, vec![0xc0, 0x80, 3, b'0', b'0', b'7']);
}

#[test]
fn listpacks_round_trip_across_every_entry_encoding() {
    let ints = [
        0i64,
        127,
        128,
        -1,
        -4096,
        4095,
        4096,
        -4097,
        32767,
        -32768,
        32768,
        8_388_607,
        -8_388_608,
        8_388_608,
        i32::MAX as i64,
        i32::MIN as i64,
        i64::MAX,
        i64::MIN,
    ];
    let strings: Vec<Vec<u8>> = [0usize, 1, 63, 64, 4095, 4096, 70_000].iter().map(|n| vec![b'x'; *n]).collect();
    let mut lp = ListpackWriter::default();
    for v in ints {
        lp.push(v.to_string().as_bytes());
    }
    for s in &strings {
        lp.push(s);
    }
    let blob = lp.finish();
    let read = packed::read_listpack(&blob).unwrap();
    let expected: Vec<Packed<'_>> =
        ints.iter().map(|v| Packed::Int(*v)).chain(strings.iter().map(|s| Packed::Str(s))).collect();
    assert_eq!(read, expected);
    // Any single corrupted byte in the header or a backlen is caught.
    let mut broken = blob.clone();
    broken[0] ^= 1;
    assert!(packed::read_listpack(&broken).is_err());
    let mut broken = blob.clone();
    broken[7] ^= 0x40; // the backlen of the first entry (0: one byte, 0x00)
    assert!(packed::read_listpack(&broken).is_err());
    let mut broken = blob;
    let end = broken.len() - 1;
    broken[end] = 0;
    assert!(packed::read_listpack(&broken).is_err());
}

/// A ziplist as Redis before 7.0 wrote one: "a", 5 (immediate), 300 (i16).
#[test]
fn ziplists_decode_and_their_prevlen_chain_is_checked() {
    let entries: [&[u8]; 3] = [&[0x00, 0x01, b'a'], &[0x03, 0xf6], &[0x02, 0xc0, 0x2c, 0x01]];
    let mut blob = vec![0; 10];
    for e in entries {
        blob.extend_from_slice(e);
    }
    blob.push(0xff);
    let total = blob.len() as u32;
    blob[..4].copy_from_slice(&total.to_le_bytes());
    blob[4..8].copy_from_slice(&15u32.to_le_bytes());
    blob[8..10].copy_from_slice(&3u16.to_le_bytes());
    assert_eq!(packed::read_ziplist(&blob).unwrap(), vec![Packed::Str(b"a"), Packed::Int(5), Packed::Int(300)]);
    let mut broken = blob.clone();
    broken[13] = 0x02; // wrong prevlen of the second entry
    assert!(packed::read_ziplist(&broken).is_err());
    // As a RESTORE payload of type 10 (LIST_ZIPLIST).
    let mut w = RdbWriter::default();
    w.byte(10);
    w.string(&blob);
    let value = decode_payload(&rdb::seal(w.out, 6)).unwrap();
    assert_eq!(value, RdbValue::List(["a", "5", "300"].map(b).to_vec()));
}

#[test]
fn intsets_and_zipmaps_decode_and_reject_disorder() {
    let blob = packed::write_intset(&[-70000, 1, 2]);
    assert_eq!(&blob[..4], &4u32.to_le_bytes());
    assert_eq!(packed::read_intset(&blob).unwrap(), vec![-70000, 1, 2]);
    assert!(packed::read_intset(&packed::write_intset(&[2, 1])).is_err());
    assert!(packed::read_intset(&packed::write_intset(&[1, 1])).is_err());
    assert!(packed::read_intset(&blob[..blob.len() - 1]).is_err());
    // count 2 | "f" "vv" (1 free byte) | "g" "" | end
    let zipmap = [2, 1, b'f', 2, 1, b'v', b'v', 0, 1, b'g', 0, 0, 0xff];
    assert_eq!(packed::read_zipmap(&zipmap).unwrap(), vec![(b("f"), b("vv")), (b("g"), b(""))]);
    assert!(packed::read_zipmap(&zipmap[..zipmap.len() - 1]).is_err());
}

fn sealed(object_type: u8, build: impl FnOnce(&mut RdbWriter)) -> Vec<u8> {
    let mut w = RdbWriter::default();
    w.byte(object_type);
    build(&mut w);
    rdb::seal(w.out, RDB_VERSION_7_2)
}

#[test]
fn payloads_redis_refuses_are_refused() {
    let bad = |p: &[u8]| matches!(decode_payload(p), Err(PayloadError::BadFormat(_)));
    let mut wrong_crc = hex(REDIS_STRING);
    let last = wrong_crc.len() - 1;
    wrong_crc[last] ^= 1;
    assert_eq!(decode_payload(&wrong_crc), Err(PayloadError::VersionOrChecksum));
    assert_eq!(decode_payload(b"short"), Err(PayloadError::VersionOrChecksum));
    let v12 = rdb::seal(value::encode(&RdbValue::String(b("x")), 12), 12);
    assert_eq!(decode_payload(&v12), Err(PayloadError::VersionOrChecksum));
    // Empty collections, duplicates, NaN scores, unknown types, truncation.
    assert!(bad(&sealed(1, |w| w.len(0))));
    assert!(bad(&sealed(2, |w| {
        w.len(2);
        w.string(b"a");
        w.string(b"a");
    })));
    assert!(bad(&sealed(4, |w| {
        w.len(2);
        for s in ["f", "1", "f", "2"] {
            w.string(s.as_bytes());
        }
    })));
    assert!(bad(&sealed(5, |w| {
        w.len(1);
        w.string(b"m");
        w.binary_double(f64::NAN);
    })));
    assert!(bad(&sealed(8, |w| w.len(0))));
    assert!(bad(&sealed(6, |w| w.len(0))));
    assert!(bad(&sealed(22, |w| w.len(0))));
    assert!(bad(&sealed(0, |w| w.len(5))));
    assert!(bad(&sealed(1, |w| w.len(1 << 40))));
    // A consumer owning an entry missing from its group's PEL.
    let mut stream = hex(REDIS_STREAM);
    let body_end = stream.len() - 10;
    let tail = stream.len() - 10 - 16;
    stream[tail + 15] = 9; // the consumer's second ID becomes 1-9
    stream.truncate(body_end);
    assert!(bad(&rdb::seal(stream, RDB_VERSION_7_0)));
}

#[test]
fn json_documents_use_redisjson_module_type() {
    let doc = RdbValue::Json(b(r#"{"a":[1,2.5,"x"]}"#));
    let bytes = payload(&doc, RDB_VERSION_7_2);
    assert_eq!(bytes[0], 7);
    assert_eq!(decode_payload(&bytes).unwrap(), doc);
    // The module ID names "ReJSON-RL" with encoding version 3.
    let mut r = RdbReader::new(&bytes[1..]);
    assert_eq!(r.length().unwrap(), super::value::json_module_id());
    assert_eq!(super::value::json_module_id() & 0x3ff, 3);
}

fn dump_hex(ks: &mut TestKeyspace, key: &str) -> Bytes {
    match ks.exec(&["DUMP", key]) {
        Frame::Bulk(payload) => payload,
        other => panic!("DUMP {key}: {other:?}"),
    }
}

fn restore(ks: &mut TestKeyspace, key: &str, payload: &Bytes, extra: &[&str]) -> Frame {
    let mut args = vec![b("RESTORE"), b(key), b("0"), payload.clone()];
    args.extend(extra.iter().map(|s| b(s)));
    ks.exec_bytes(&args)
}

/// Every type, small and large encodings, DUMPed and RESTOREd under a new
/// key, reads back the same through its own commands.
#[test]
fn every_type_round_trips_through_dump_and_restore() {
    let mut ks = TestKeyspace::new();
    let long = "y".repeat(100);
    let many: Vec<String> = (0..600).map(|i| format!("m{i}")).collect();
    let mut setup: Vec<Vec<String>> = vec![
        vec!["SET".into(), "str".into(), "hello".into()],
        vec!["SET".into(), "int".into(), "-123456789012".into()],
        vec!["RPUSH".into(), "list".into(), "a".into(), "1".into(), long.clone()],
        vec!["HSET".into(), "hash".into(), "f".into(), "v".into(), "n".into(), "5".into()],
        vec!["HSET".into(), "bighash".into(), "f".into(), long.clone()],
        vec!["SADD".into(), "ints".into(), "3".into(), "-1".into(), "100000".into()],
        vec!["SADD".into(), "strs".into(), "a".into(), "b".into()],
        vec!["ZADD".into(), "zs".into(), "1".into(), "a".into(), "-inf".into(), "b".into(), "2.5".into(), "c".into()],
        vec!["JSON.SET".into(), "doc".into(), "$".into(), r#"{"a":[1,{"b":null}]}"#.into()],
        vec!["XADD".into(), "st".into(), "1-1".into(), "f".into(), "v".into()],
        vec!["XADD".into(), "st".into(), "2-1".into(), "f".into(), "w".into(), "g".into(), "x".into()],
        vec!["XGROUP".into(), "CREATE".into(), "st".into(), "grp".into(), "0".into()],
        vec![
            "XREADGROUP".into(),
            "GROUP".into(),
            "grp".into(),
            "bob".into(),
            "COUNT".into(),
            "1".into(),
            "STREAMS".into(),
            "st".into(),
            ">".into(),
        ],
        vec!["XGROUP".into(), "CREATECONSUMER".into(), "st".into(), "grp".into(), "idle".into()],
    ];
    let mut bigset = vec!["SADD".to_string(), "bigset".into()];
    bigset.extend(many.iter().cloned());
    setup.push(bigset);
    let mut bigz = vec!["ZADD".to_string(), "bigz".into()];
    for (i, m) in many.iter().enumerate() {
        bigz.push(format!("{}", i as f64 / 3.0));
        bigz.push(m.clone());
    }
    setup.push(bigz);
    let mut biglist = vec!["RPUSH".to_string(), "biglist".into()];
    biglist.extend((0..3000).map(|i| i.to_string()));
    setup.push(biglist);
    for cmd in &setup {
        let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        assert!(!matches!(ks.exec(&args), Frame::Error(_)), "{cmd:?}");
    }
    let reads: &[&[&str]] = &[
        &["GET", "K"],
        &["LRANGE", "K", "0", "-1"],
        &["HGETALL", "K"],
        &["SMEMBERS", "K"],
        &["ZRANGE", "K", "0", "-1", "WITHSCORES"],
        &["JSON.GET", "K"],
        &["XRANGE", "K", "-", "+"],
        &["XINFO", "STREAM", "K", "FULL"],
        &["OBJECT", "ENCODING", "K"],
        &["TYPE", "K"],
    ];
    let keys =
        ["str", "int", "list", "hash", "bighash", "ints", "strs", "zs", "doc", "st", "bigset", "bigz", "biglist"];
    for key in keys {
        let payload = dump_hex(&mut ks, key);
        let copy = format!("{key}-copy");
        assert_eq!(restore(&mut ks, &copy, &payload, &[]), ok(), "{key}");
        // The copy dumps to the same bytes: nothing was lost on the way.
        assert_eq!(dump_hex(&mut ks, &copy), payload, "{key}");
        for read in reads {
            fn on<'a>(read: &[&'a str], k: &'a str) -> Vec<&'a str> {
                read.iter().map(|a| if *a == "K" { k } else { *a }).collect()
            }
            let (original, copied) = (ks.exec(&on(read, key)), ks.exec(&on(read, &copy)));
            if let Frame::Error(_) = original {
                continue;
            }
            let normalize = |f: Frame| if read[0] == "SMEMBERS" || read[0] == "HGETALL" { sorted(f) } else { f };
            assert_eq!(normalize(copied), normalize(original), "{read:?} on {key}");
        }
    }
    assert_eq!(ks.exec(&["DUMP", "nokey"]), Frame::Null);
}

fn sorted(frame: Frame) -> Frame {
    match frame {
        Frame::Array(mut items) | Frame::Set(mut items) => {
            items.sort_by_key(|f| format!("{f:?}"));
            Frame::Array(items)
        }
        Frame::Map(pairs) => {
            let mut items: Vec<_> = pairs.into_iter().flat_map(|(k, v)| [k, v]).collect();
            items.sort_by_key(|f| format!("{f:?}"));
            Frame::Array(items)
        }
        other => other,
    }
}

#[test]
fn restore_checks_options_then_key_then_ttl_then_payload() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["SET", "k", "v"]);
    let good = dump_hex(&mut ks, "k");
    let run = |ks: &mut TestKeyspace, args: &[&str], payload: &Bytes| {
        let mut full: Vec<Bytes> = args.iter().map(|a| b(a)).collect();
        full.insert(3, payload.clone());
        ks.exec_bytes(&full)
    };
    let garbage = b("garbage!garbage!");
    assert_eq!(run(&mut ks, &["RESTORE", "k", "0", "BOGUS"], &garbage), err("ERR syntax error"));
    assert_eq!(run(&mut ks, &["RESTORE", "k", "0", "IDLETIME"], &garbage), err("ERR syntax error"));
    assert_eq!(
        run(&mut ks, &["RESTORE", "k", "0", "IDLETIME", "x"], &garbage),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        run(&mut ks, &["RESTORE", "k", "0", "IDLETIME", "-1"], &garbage),
        err("ERR Invalid IDLETIME value, must be >= 0")
    );
    assert_eq!(
        run(&mut ks, &["RESTORE", "k", "0", "FREQ", "256"], &garbage),
        err("ERR Invalid FREQ value, must be >= 0 and <= 255")
    );
    assert_eq!(run(&mut ks, &["RESTORE", "k", "0", "FREQ", "1", "IDLETIME", "1"], &garbage), err("ERR syntax error"));
    assert_eq!(run(&mut ks, &["RESTORE", "k", "-1"], &garbage), err("BUSYKEY Target key name already exists."));
    assert_eq!(run(&mut ks, &["RESTORE", "new", "x"], &garbage), err("ERR value is not an integer or out of range"));
    assert_eq!(run(&mut ks, &["RESTORE", "new", "-1"], &garbage), err("ERR Invalid TTL value, must be >= 0"));
    assert_eq!(run(&mut ks, &["RESTORE", "new", "0"], &garbage), err("ERR DUMP payload version or checksum are wrong"));
    let empty_list = Bytes::from(sealed(1, |w| w.len(0)));
    assert_eq!(run(&mut ks, &["RESTORE", "new", "0"], &empty_list), err("ERR Bad data format"));
    assert_eq!(ks.exec(&["EXISTS", "new"]), int(0));
    assert_eq!(run(&mut ks, &["RESTORE", "k", "0", "REPLACE", "FREQ", "5"], &good), ok());
    assert_eq!(ks.exec(&["RESTORE"]), err("ERR wrong number of arguments for 'restore' command"));
}

#[test]
fn restore_sets_ttls_from_the_entry_clock_and_idle_times() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["SET", "src", "v"]);
    let payload = dump_hex(&mut ks, "src");
    assert_eq!(restore(&mut ks, "a", &payload, &["IDLETIME", "100"]), ok());
    assert_eq!(ks.exec(&["OBJECT", "IDLETIME", "a"]), int(100));
    let mut args = vec![b("RESTORE"), b("t"), b("5000"), payload.clone()];
    assert_eq!(ks.exec_bytes(&args), ok());
    assert_eq!(ks.exec(&["PTTL", "t"]), int(5000));
    let at = (crate::commands::testing::START_MS + 7000).to_string();
    args = vec![b("RESTORE"), b("abs"), b(&at), payload.clone(), b("ABSTTL")];
    assert_eq!(ks.exec_bytes(&args), ok());
    assert_eq!(ks.exec(&["PTTL", "abs"]), int(7000));
    // A TTL already past: OK, no key, and REPLACE deleted the old one.
    args = vec![b("RESTORE"), b("a"), b("1"), payload.clone(), b("ABSTTL"), b("REPLACE")];
    assert_eq!(ks.exec_bytes(&args), ok());
    assert_eq!(ks.exec(&["EXISTS", "a"]), int(0));
    ks.advance_ms(5000);
    assert_eq!(ks.exec(&["GET", "t"]), Frame::Null);
    assert_eq!(restore(&mut ks, "t", &payload, &[]), ok());
    assert_eq!(ks.exec(&["GET", "t"]), bulk("v"));
}

#[test]
fn version_10_payloads_avoid_7_2_only_types() {
    let set = RdbValue::Set { members: vec![b("a")], encoding: SetEncoding::Listpack };
    assert_eq!(payload(&set, RDB_VERSION_7_2)[0], 20);
    assert_eq!(payload(&set, RDB_VERSION_7_0)[0], 2);
    let v10 = transcode(&hex(REDIS_STREAM), RDB_VERSION_7_0).unwrap();
    assert_eq!(v10[0], 19);
    assert_eq!(transcode(&hex(REDIS_STREAM), RDB_VERSION_7_2).unwrap()[0], 21);
    assert_eq!(&v10[v10.len() - 10..v10.len() - 8], &[10, 0]);
}
