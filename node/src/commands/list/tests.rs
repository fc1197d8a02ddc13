use std::collections::VecDeque;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::store::{listpack_entry_bytes, LISTPACK_EMPTY_BYTES};
use crate::commands::testing::{array, bulk, err, int, ok, TestKeyspace};
use resp::Frame;

fn bulks(items: &[&str]) -> Frame {
    array(items.iter().map(|s| bulk(s)).collect())
}

fn all(ks: &mut TestKeyspace, key: &str) -> Frame {
    ks.exec(&["LRANGE", key, "0", "-1"])
}

fn encoding(ks: &mut TestKeyspace, key: &str) -> Frame {
    ks.exec(&["OBJECT", "ENCODING", key])
}

#[test]
fn pushes_and_pops_at_both_ends() {
    let mut ks = TestKeyspace::new();
    assert_eq!(ks.exec(&["RPUSH", "l", "a", "b", "c"]), int(3));
    assert_eq!(ks.exec(&["LPUSH", "l", "x", "y"]), int(5));
    assert_eq!(all(&mut ks, "l"), bulks(&["y", "x", "a", "b", "c"]));
    assert_eq!(ks.exec(&["LPOP", "l"]), bulk("y"));
    assert_eq!(ks.exec(&["RPOP", "l", "2"]), bulks(&["c", "b"]));
    assert_eq!(ks.exec(&["LPOP", "l", "5"]), bulks(&["x", "a"]));
    assert_eq!(ks.exec(&["EXISTS", "l"]), int(0));
    assert_eq!(ks.exec(&["LPOP", "l"]), Frame::Null);
    assert_eq!(ks.exec(&["LPOP", "l", "1"]), Frame::NullArray);
    assert_eq!(ks.exec(&["LPUSHX", "l", "a"]), int(0));
    assert_eq!(ks.exec(&["EXISTS", "l"]), int(0));
}

#[test]
fn pop_errors_and_shapes() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["RPUSH", "l", "a"]);
    assert_eq!(ks.exec(&["LPOP", "l", "0"]), array(vec![]));
    assert_eq!(ks.exec(&["LPOP", "l", "-1"]), err("ERR value is out of range, must be positive"));
    assert_eq!(ks.exec(&["RPOP", "l", "x"]), err("ERR value is out of range, must be positive"));
    assert_eq!(ks.exec(&["RPOP", "l", "1", "2"]), err("ERR wrong number of arguments for 'rpop' command"));
    let wire = |ks: &mut TestKeyspace, args: &[&str]| {
        let reply = ks.exec(args);
        ks.encode(&reply)
    };
    ks.resp3 = true;
    assert_eq!(wire(&mut ks, &["LPOP", "missing", "2"]), b"_\r\n");
    ks.resp3 = false;
    assert_eq!(wire(&mut ks, &["LPOP", "missing", "2"]), b"*-1\r\n");
    assert_eq!(wire(&mut ks, &["LPOP", "missing"]), b"$-1\r\n");
}

#[test]
fn wrong_type_is_reported_by_every_command() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["SET", "s", "v"]);
    ks.exec(&["RPUSH", "l", "a"]);
    let wrongtype = err("WRONGTYPE Operation against a key holding the wrong kind of value");
    for cmd in [
        vec!["LPUSH", "s", "a"],
        vec!["RPUSHX", "s", "a"],
        vec!["LPOP", "s"],
        vec!["RPOP", "s", "0"],
        vec!["LLEN", "s"],
        vec!["LRANGE", "s", "0", "1"],
        vec!["LINDEX", "s", "0"],
        vec!["LSET", "s", "0", "x"],
        vec!["LINSERT", "s", "BEFORE", "a", "b"],
        vec!["LREM", "s", "0", "a"],
        vec!["LTRIM", "s", "0", "1"],
        vec!["LPOS", "s", "a"],
        vec!["LMOVE", "s", "l", "LEFT", "LEFT"],
        vec!["LMOVE", "l", "s", "LEFT", "LEFT"],
        vec!["RPOPLPUSH", "s", "l"],
        vec!["LMPOP", "2", "missing", "s", "LEFT"],
    ] {
        assert_eq!(ks.exec(&cmd), wrongtype, "{cmd:?}");
    }
    assert_eq!(all(&mut ks, "l"), bulks(&["a"]));
}

#[test]
fn lmove_rotates_a_list_onto_itself() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["RPUSH", "l", "a", "b", "c"]);
    assert_eq!(ks.exec(&["RPOPLPUSH", "l", "l"]), bulk("c"));
    assert_eq!(all(&mut ks, "l"), bulks(&["c", "a", "b"]));
    assert_eq!(ks.exec(&["LMOVE", "l", "l", "LEFT", "RIGHT"]), bulk("c"));
    assert_eq!(all(&mut ks, "l"), bulks(&["a", "b", "c"]));
    assert_eq!(ks.exec(&["LMOVE", "l", "l", "left", "left"]), bulk("a"));
    assert_eq!(all(&mut ks, "l"), bulks(&["a", "b", "c"]));
    ks.exec(&["RPUSH", "one", "x"]);
    for (from, to) in [("LEFT", "RIGHT"), ("RIGHT", "LEFT"), ("RIGHT", "RIGHT"), ("LEFT", "LEFT")] {
        assert_eq!(ks.exec(&["LMOVE", "one", "one", from, to]), bulk("x"));
        assert_eq!(all(&mut ks, "one"), bulks(&["x"]));
        assert_eq!(ks.exec(&["LLEN", "one"]), int(1));
    }
    assert_eq!(ks.exec(&["RPUSH", "one", "y"]), int(2));
    assert_eq!(ks.exec(&["LPUSH", "one", "w"]), int(3));
    assert_eq!(all(&mut ks, "one"), bulks(&["w", "x", "y"]));
}

#[test]
fn lmove_between_lists_deletes_an_emptied_source() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["RPUSH", "src", "a", "b"]);
    assert_eq!(ks.exec(&["LMOVE", "src", "dst", "RIGHT", "LEFT"]), bulk("b"));
    assert_eq!(ks.exec(&["LMOVE", "src", "dst", "LEFT", "RIGHT"]), bulk("a"));
    assert_eq!(ks.exec(&["EXISTS", "src"]), int(0));
    assert_eq!(all(&mut ks, "dst"), bulks(&["b", "a"]));
    assert_eq!(ks.exec(&["LMOVE", "src", "dst", "LEFT", "RIGHT"]), Frame::Null);
    assert_eq!(ks.exec(&["LMOVE", "src", "dst", "UP", "RIGHT"]), err("ERR syntax error"));
}

#[test]
fn lmpop_pops_from_the_first_non_empty_list() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["RPUSH", "b", "1", "2", "3"]);
    assert_eq!(
        ks.exec(&["LMPOP", "3", "a", "b", "c", "RIGHT", "COUNT", "2"]),
        array(vec![bulk("b"), bulks(&["3", "2"])])
    );
    assert_eq!(ks.exec(&["LMPOP", "2", "a", "b", "LEFT", "COUNT", "9"]), array(vec![bulk("b"), bulks(&["1"])]));
    assert_eq!(ks.exec(&["LMPOP", "1", "b", "LEFT"]), Frame::NullArray);
    assert_eq!(ks.exec(&["LMPOP", "0", "b", "LEFT"]), err("ERR numkeys should be greater than 0"));
    assert_eq!(ks.exec(&["LMPOP", "x", "b", "LEFT"]), err("ERR numkeys should be greater than 0"));
    assert_eq!(ks.exec(&["LMPOP", "3", "b", "LEFT"]), err("ERR syntax error"));
    assert_eq!(ks.exec(&["LMPOP", "9223372036854775807", "b", "LEFT"]), err("ERR syntax error"));
    assert_eq!(ks.exec(&["LMPOP", "1", "b", "LEFT", "COUNT", "0"]), err("ERR count should be greater than 0"));
    assert_eq!(ks.exec(&["LMPOP", "1", "b", "LEFT", "COUNT", "1", "COUNT", "1"]), err("ERR syntax error"));
}

#[test]
fn lpos_options() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"]);
    assert_eq!(ks.exec(&["LPOS", "l", "c"]), int(2));
    assert_eq!(ks.exec(&["LPOS", "l", "c", "RANK", "2"]), int(6));
    assert_eq!(ks.exec(&["LPOS", "l", "c", "RANK", "-1"]), int(7));
    assert_eq!(ks.exec(&["LPOS", "l", "c", "COUNT", "0"]), array(vec![int(2), int(6), int(7)]));
    assert_eq!(ks.exec(&["LPOS", "l", "c", "COUNT", "2", "RANK", "-1"]), array(vec![int(7), int(6)]));
    assert_eq!(ks.exec(&["LPOS", "l", "c", "COUNT", "0", "MAXLEN", "7"]), array(vec![int(2), int(6)]));
    assert_eq!(ks.exec(&["LPOS", "l", "c", "RANK", "4"]), Frame::Null);
    assert_eq!(ks.exec(&["LPOS", "l", "c", "MAXLEN", "2"]), Frame::Null);
    assert_eq!(
        ks.exec(&["LPOS", "l", "c", "RANK", "-9223372036854775808"]),
        err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    );
}

/// A list touched at its ends writes the same small batch whatever its
/// length: nothing is rewritten.
#[test]
fn end_operations_on_a_long_list_write_a_constant_small_batch() {
    let mut ks = TestKeyspace::new();
    let chunk: Vec<String> = (0..1000).map(|i| format!("element-{i}")).collect();
    let mut small = TestKeyspace::new();
    small.exec(&["RPUSH", "l", "seed"]);
    for _ in 0..20 {
        let mut args = vec!["RPUSH", "l"];
        args.extend(chunk.iter().map(String::as_str));
        ks.exec(&args);
    }
    assert_eq!(ks.exec(&["LLEN", "l"]), int(20_000));
    for cmd in [
        vec!["LPUSH", "l", "new"],
        vec!["RPUSH", "l", "new"],
        vec!["LPOP", "l"],
        vec!["RPOP", "l"],
        vec!["LSET", "l", "0", "other"],
        vec!["LSET", "l", "-1", "other"],
        vec!["RPOPLPUSH", "l", "l"],
        vec!["LMOVE", "l", "l", "LEFT", "RIGHT"],
        vec!["LINSERT", "l", "AFTER", "other", "x"],
    ] {
        small.exec(&cmd);
        let reference = small.last_batch.len();
        ks.exec(&cmd);
        let batch = ks.last_batch.len();
        assert!(batch < 400, "{cmd:?} wrote {batch} bytes");
        assert!(batch <= reference + 64, "{cmd:?} wrote {batch} bytes against {reference} on a short list");
    }
    assert_eq!(ks.exec(&["LRANGE", "l", "0", "2"]), bulks(&["other", "x", "element-1"]));
    assert_eq!(ks.exec(&["LINDEX", "l", "10000"]), bulk("element-999"));
    assert_eq!(ks.exec(&["LINDEX", "l", "-2"]), bulk("element-998"));
    assert_eq!(ks.exec(&["LINDEX", "l", "-1"]), bulk("other"));
    assert_eq!(ks.exec(&["LLEN", "l"]), int(20_001));
}

/// Random operations against a `VecDeque` model: middle insertions and
/// removals move one side or the other and must keep the order.
#[test]
fn random_operations_match_a_model() {
    let mut ks = TestKeyspace::new();
    let mut model: VecDeque<String> = VecDeque::new();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for step in 0..1500 {
        let value = format!("v{}", rng.gen_range(0..6));
        let len = model.len() as i64;
        match rng.gen_range(0..10) {
            0 => {
                ks.exec(&["LPUSH", "l", &value]);
                model.push_front(value);
            }
            1 => {
                ks.exec(&["RPUSH", "l", &value, "tail"]);
                model.push_back(value);
                model.push_back("tail".into());
            }
            2 => {
                let count = rng.gen_range(0..4);
                ks.exec(&["LPOP", "l", &count.to_string()]);
                for _ in 0..count {
                    model.pop_front();
                }
            }
            3 => {
                ks.exec(&["RPOP", "l"]);
                model.pop_back();
            }
            4 | 5 => {
                let pivot = format!("v{}", rng.gen_range(0..6));
                let after = rng.gen_bool(0.5);
                let reply = ks.exec(&["LINSERT", "l", if after { "AFTER" } else { "BEFORE" }, &pivot, &value]);
                match model.iter().position(|v| *v == pivot) {
                    Some(pos) => {
                        model.insert(pos + usize::from(after), value);
                        assert_eq!(reply, int(model.len() as i64));
                    }
                    None if model.is_empty() => assert_eq!(reply, int(0)),
                    None => assert_eq!(reply, int(-1)),
                }
            }
            6 => {
                let count: i64 = rng.gen_range(-3..4);
                let reply = ks.exec(&["LREM", "l", &count.to_string(), &value]);
                let mut removed = 0;
                let limit = if count == 0 { usize::MAX } else { count.unsigned_abs() as usize };
                if count >= 0 {
                    let mut i = 0;
                    while i < model.len() && removed < limit {
                        if model[i] == value {
                            model.remove(i);
                            removed += 1;
                        } else {
                            i += 1;
                        }
                    }
                } else {
                    let mut i = model.len();
                    while i > 0 && removed < limit {
                        i -= 1;
                        if model[i] == value {
                            model.remove(i);
                            removed += 1;
                        }
                    }
                }
                assert_eq!(reply, int(removed as i64));
            }
            7 => {
                let start = rng.gen_range(-len - 2..len + 2);
                let stop = rng.gen_range(-len - 2..len + 2);
                ks.exec(&["LTRIM", "l", &start.to_string(), &stop.to_string()]);
                let norm = |i: i64| if i < 0 { len + i } else { i };
                let (s, e) = (norm(start).max(0), norm(stop));
                if s > e || s >= len {
                    model.clear();
                } else {
                    let e = e.min(len - 1);
                    model = model.iter().skip(s as usize).take((e - s + 1) as usize).cloned().collect();
                }
            }
            8 => {
                if len > 0 {
                    let index = rng.gen_range(-len..len);
                    assert_eq!(ks.exec(&["LSET", "l", &index.to_string(), &value]), ok());
                    let at = (if index < 0 { len + index } else { index }) as usize;
                    model[at] = value;
                }
            }
            _ => {
                let from_left = rng.gen_bool(0.5);
                let to_left = rng.gen_bool(0.5);
                let side = |left| if left { "LEFT" } else { "RIGHT" };
                ks.exec(&["LMOVE", "l", "l", side(from_left), side(to_left)]);
                let moved = if from_left { model.pop_front() } else { model.pop_back() };
                if let Some(moved) = moved {
                    if to_left {
                        model.push_front(moved);
                    } else {
                        model.push_back(moved);
                    }
                }
            }
        }
        let expected = array(model.iter().map(|v| bulk(v)).collect());
        assert_eq!(all(&mut ks, "l"), expected, "after step {step}");
        assert_eq!(ks.exec(&["LLEN", "l"]), int(model.len() as i64));
        assert_eq!(ks.exec(&["EXISTS", "l"]), int(i64::from(!model.is_empty())));
    }
}

#[test]
fn listpack_entry_sizes_follow_the_listpack_encoding() {
    assert_eq!(listpack_entry_bytes(b"0"), 2);
    assert_eq!(listpack_entry_bytes(b"127"), 2);
    assert_eq!(listpack_entry_bytes(b"128"), 3);
    assert_eq!(listpack_entry_bytes(b"-4096"), 3);
    assert_eq!(listpack_entry_bytes(b"4096"), 4);
    assert_eq!(listpack_entry_bytes(b"-32768"), 4);
    assert_eq!(listpack_entry_bytes(b"32768"), 5);
    assert_eq!(listpack_entry_bytes(b"8388608"), 6);
    assert_eq!(listpack_entry_bytes(b"-2147483648"), 6);
    assert_eq!(listpack_entry_bytes(b"2147483648"), 10);
    // Not in string2ll form: stored as strings.
    assert_eq!(listpack_entry_bytes(b"007"), 5);
    assert_eq!(listpack_entry_bytes(b""), 2);
    assert_eq!(listpack_entry_bytes(&[b'x'; 63]), 65);
    assert_eq!(listpack_entry_bytes(&[b'x'; 64]), 67);
    assert_eq!(listpack_entry_bytes(&[b'x'; 125]), 128);
    assert_eq!(listpack_entry_bytes(&[b'x'; 126]), 130);
    assert_eq!(listpack_entry_bytes(&[b'x'; 4095]), 4099);
    assert_eq!(listpack_entry_bytes(&[b'x'; 4096]), 4103);
    assert_eq!(LISTPACK_EMPTY_BYTES, 7);
}

/// Redis 7.2's rule: a listpack while the current listpack plus the raw
/// bytes being added fit in 8 KB; back from a quicklist at 4 KB.
#[test]
fn encoding_follows_the_listpack_size() {
    let mut ks = TestKeyspace::new();
    let k1000 = "x".repeat(1000);
    ks.exec(&["RPUSH", "l", "a"]);
    assert_eq!(encoding(&mut ks, "l"), bulk("listpack"));
    ks.exec(&["DEL", "l"]);
    // Each 1000-byte entry takes 1004 bytes: 8 make 7 + 8032 = 8039.
    for _ in 0..8 {
        ks.exec(&["RPUSH", "l", &k1000]);
    }
    assert_eq!(encoding(&mut ks, "l"), bulk("listpack"));
    // 8039 + 150 fits, although the listpack then holds 8193 bytes.
    ks.exec(&["RPUSH", "l", &"y".repeat(150)]);
    assert_eq!(encoding(&mut ks, "l"), bulk("listpack"));
    ks.exec(&["RPUSH", "l", "z"]);
    assert_eq!(encoding(&mut ks, "l"), bulk("quicklist"));
    // Shrinking: back to a listpack only at 4096 bytes or less.
    for _ in 0..4 {
        ks.exec(&["LPOP", "l"]);
    }
    // 7 + 4 * 1004 + 154 + 3 = 4180.
    assert_eq!(encoding(&mut ks, "l"), bulk("quicklist"));
    ks.exec(&["RPOP", "l"]);
    assert_eq!(encoding(&mut ks, "l"), bulk("quicklist"));
    ks.exec(&["RPOP", "l"]);
    assert_eq!(encoding(&mut ks, "l"), bulk("listpack"));
    // Growth is never undone by a push; a new list with a big element starts as a quicklist.
    ks.exec(&["RPUSH", "big", &"b".repeat(9000)]);
    assert_eq!(encoding(&mut ks, "big"), bulk("quicklist"));
    ks.exec(&["RPUSH", "big", "small"]);
    assert_eq!(encoding(&mut ks, "big"), bulk("quicklist"));
    ks.exec(&["LPOP", "big"]);
    assert_eq!(encoding(&mut ks, "big"), bulk("listpack"));
}

#[test]
fn encoding_changes_with_lset_linsert_ltrim_lrem_and_lmove() {
    let mut ks = TestKeyspace::new();
    let k1000 = "x".repeat(1000);
    for _ in 0..8 {
        ks.exec(&["RPUSH", "l", &k1000]);
    }
    // 8039 bytes: LSET counts the new value without the old one.
    assert_eq!(ks.exec(&["LSET", "l", "0", &"y".repeat(200)]), ok());
    assert_eq!(encoding(&mut ks, "l"), bulk("quicklist"));
    assert_eq!(ks.exec(&["LTRIM", "l", "0", "3"]), ok());
    assert_eq!(encoding(&mut ks, "l"), bulk("listpack"));
    // LINSERT converts before inserting.
    assert_eq!(ks.exec(&["LINSERT", "l", "AFTER", &k1000, &"z".repeat(5000)]), int(5));
    assert_eq!(encoding(&mut ks, "l"), bulk("quicklist"));
    assert_eq!(ks.exec(&["LREM", "l", "0", &k1000]), int(3));
    assert_eq!(encoding(&mut ks, "l"), bulk("quicklist"));
    ks.exec(&["LSET", "l", "1", "short"]);
    assert_eq!(encoding(&mut ks, "l"), bulk("listpack"));
    // LMOVE: the destination grows, the source shrinks.
    for _ in 0..9 {
        ks.exec(&["RPUSH", "src", &k1000]);
    }
    assert_eq!(encoding(&mut ks, "src"), bulk("quicklist"));
    ks.exec(&["RPUSH", "dst", &"d".repeat(7500)]);
    assert_eq!(encoding(&mut ks, "dst"), bulk("listpack"));
    ks.exec(&["LMOVE", "src", "dst", "LEFT", "LEFT"]);
    assert_eq!(encoding(&mut ks, "dst"), bulk("quicklist"));
    for _ in 0..4 {
        ks.exec(&["LMOVE", "src", "other", "LEFT", "LEFT"]);
    }
    assert_eq!(encoding(&mut ks, "src"), bulk("listpack"));
    // COPY and RENAME keep the encoding.
    ks.exec(&["COPY", "dst", "dst2"]);
    assert_eq!(encoding(&mut ks, "dst2"), bulk("quicklist"));
    ks.exec(&["RENAME", "src", "src2"]);
    assert_eq!(encoding(&mut ks, "src2"), bulk("listpack"));
}

/// A quicklist's integers come out as integer objects, which the growth
/// check of LMOVE's destination does not count.
#[test]
fn lmove_of_an_integer_out_of_a_quicklist_is_not_counted() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["RPUSH", "src", &"s".repeat(9000), "12345"]);
    assert_eq!(encoding(&mut ks, "src"), bulk("quicklist"));
    // 7 + (8176 + 5 + 2) = 8190: 2 bytes left.
    ks.exec(&["RPUSH", "dst", &"d".repeat(8176)]);
    assert_eq!(encoding(&mut ks, "dst"), bulk("listpack"));
    assert_eq!(ks.exec(&["RPOPLPUSH", "src", "dst"]), bulk("12345"));
    assert_eq!(encoding(&mut ks, "dst"), bulk("listpack"));
    ks.exec(&["RPUSH", "src2", "12345"]);
    ks.exec(&["RPUSH", "dst2", &"d".repeat(8176)]);
    ks.exec(&["RPOPLPUSH", "src2", "dst2"]);
    assert_eq!(encoding(&mut ks, "dst2"), bulk("quicklist"));
}

#[test]
fn commands_without_a_change_do_not_touch_the_key() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["RPUSH", "l", "a", "b"]);
    let before = ks.exec(&["OBJECT", "IDLETIME", "l"]);
    ks.advance_ms(5_000);
    assert_eq!(ks.exec(&["LINSERT", "l", "BEFORE", "zz", "x"]), int(-1));
    assert_eq!(ks.exec(&["LREM", "l", "0", "zz"]), int(0));
    assert_eq!(ks.exec(&["LSET", "l", "5", "x"]), err("ERR index out of range"));
    assert_eq!(ks.exec(&["LPOP", "l", "0"]), array(vec![]));
    assert_eq!(before, int(0));
    assert_eq!(ks.exec(&["OBJECT", "IDLETIME", "l"]), int(5));
}

#[test]
fn expired_lists_are_replaced_by_new_ones() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["RPUSH", "l", "a", "b", "c"]);
    ks.exec(&["PEXPIRE", "l", "100"]);
    ks.advance_ms(200);
    assert_eq!(ks.exec(&["LLEN", "l"]), int(0));
    assert_eq!(ks.exec(&["RPUSH", "l", "x"]), int(1));
    assert_eq!(all(&mut ks, "l"), bulks(&["x"]));
    assert_eq!(ks.exec(&["TTL", "l"]), int(-1));
}
