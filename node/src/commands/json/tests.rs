//! Unit tests of the JSON commands, written from RedisJSON 2.x's documented
//! behaviour (the reference redis-server has no RedisJSON module).

use resp::Frame;

use crate::commands::testing::{array, bulk, err, int, ok, TestKeyspace};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

fn ks_with(doc: &str) -> TestKeyspace {
    let mut ks = TestKeyspace::new();
    assert_eq!(ks.exec(&["JSON.SET", "doc", "$", doc]), ok());
    ks
}

fn get(ks: &mut TestKeyspace, path: &str) -> Frame {
    ks.exec(&["JSON.GET", "doc", path])
}

#[test]
fn set_then_get_round_trips_in_compact_form_keeping_key_order() {
    let mut ks = ks_with(r#"{ "b": 1, "a": [1, 2.5, "x", null, true], "c": {} }"#);
    assert_eq!(ks.exec(&["JSON.GET", "doc"]), bulk(r#"{"b":1,"a":[1,2.5,"x",null,true],"c":{}}"#));
    assert_eq!(get(&mut ks, "."), bulk(r#"{"b":1,"a":[1,2.5,"x",null,true],"c":{}}"#));
    assert_eq!(get(&mut ks, "$"), bulk(r#"[{"b":1,"a":[1,2.5,"x",null,true],"c":{}}]"#));
    assert_eq!(ks.exec(&["TYPE", "doc"]), Frame::Simple("ReJSON-RL".into()));
    assert_eq!(ks.exec(&["OBJECT", "ENCODING", "doc"]), bulk("raw"));
    assert_eq!(ks.exec(&["JSON.GET", "missing"]), Frame::Null);
    assert_eq!(ks.exec(&["JSON.GET", "missing", "$"]), Frame::Null);
}

#[test]
fn scalars_and_big_integers_are_kept_as_written() {
    let mut ks = TestKeyspace::new();
    assert_eq!(ks.exec(&["JSON.SET", "n", ".", "9223372036854775807"]), ok());
    assert_eq!(ks.exec(&["JSON.GET", "n"]), bulk("9223372036854775807"));
    assert_eq!(ks.exec(&["JSON.SET", "s", "$", r#""hé\"llo""#]), ok());
    assert_eq!(ks.exec(&["JSON.GET", "s"]), bulk(r#""hé\"llo""#));
    assert_eq!(ks.exec(&["JSON.SET", "f", "$", "1.50"]), ok());
    assert_eq!(ks.exec(&["JSON.GET", "f"]), bulk("1.5"));
}

#[test]
fn legacy_and_jsonpath_gets_differ_in_shape() {
    let mut ks = ks_with(r#"{"a":{"b":[10,20,30]},"k":"v"}"#);
    assert_eq!(get(&mut ks, ".a.b"), bulk("[10,20,30]"));
    assert_eq!(get(&mut ks, "a.b"), bulk("[10,20,30]"), "a legacy path may omit the leading dot");
    assert_eq!(get(&mut ks, "$.a.b"), bulk("[[10,20,30]]"));
    assert_eq!(get(&mut ks, ".a.b[0]"), bulk("10"));
    assert_eq!(get(&mut ks, "$.a.b[0]"), bulk("[10]"));
    assert_eq!(get(&mut ks, "$.a.b[-1]"), bulk("[30]"));
    assert_eq!(get(&mut ks, ".a.b[-1]"), bulk("30"));
    assert_eq!(get(&mut ks, "$.a.b[*]"), bulk("[10,20,30]"));
    assert_eq!(get(&mut ks, "$['a']['b'][1]"), bulk("[20]"));
    assert_eq!(get(&mut ks, r#"$["k"]"#), bulk(r#"["v"]"#));
    assert_eq!(get(&mut ks, "$.*"), bulk(r#"[{"b":[10,20,30]},"v"]"#));
    assert_eq!(get(&mut ks, "$.nope"), bulk("[]"));
    assert_eq!(get(&mut ks, "$.a.b[3]"), bulk("[]"));
    assert_eq!(get(&mut ks, ".nope"), err("ERR Path '.nope' does not exist"));
    assert_eq!(get(&mut ks, ".a.b[7]"), err("ERR Path '.a.b[7]' does not exist"));
    assert_eq!(get(&mut ks, "$.a.["), err("ERR Invalid JSONPath: $.a.["));
}

#[test]
fn recursive_descent_finds_every_depth_in_document_order() {
    let mut ks = ks_with(r#"{"a":1,"b":{"a":2,"c":{"a":3}},"d":[{"a":4},{"x":{"a":5}}]}"#);
    assert_eq!(get(&mut ks, "$..a"), bulk("[1,2,3,4,5]"));
    assert_eq!(get(&mut ks, "..a"), bulk("1"), "a legacy path answers with the first match");
    assert_eq!(get(&mut ks, "$.b..a"), bulk("[2,3]"));
    assert_eq!(get(&mut ks, "$..nope"), bulk("[]"));
}

#[test]
fn several_paths_answer_with_an_object_keyed_by_path() {
    let mut ks = ks_with(r#"{"a":1,"b":{"c":"x"}}"#);
    assert_eq!(ks.exec(&["JSON.GET", "doc", ".a", ".b.c"]), bulk(r#"{".a":1,".b.c":"x"}"#));
    assert_eq!(ks.exec(&["JSON.GET", "doc", "$.a", "$.nope"]), bulk(r#"{"$.a":[1],"$.nope":[]}"#));
    assert_eq!(ks.exec(&["JSON.GET", "doc", "$.a", ".b.c"]), bulk(r#"{"$.a":[1],".b.c":["x"]}"#));
    assert_eq!(ks.exec(&["JSON.GET", "doc", ".a", ".nope"]), err("ERR Path '.nope' does not exist"));
}

#[test]
fn get_formats_with_indent_newline_and_space() {
    let mut ks = ks_with(r#"{"a":[1,{"b":2}],"e":[],"o":{}}"#);
    assert_eq!(
        ks.exec(&["JSON.GET", "doc", "INDENT", "\t", "NEWLINE", "\n", "SPACE", " ", "."]),
        bulk("{\n\t\"a\": [\n\t\t1,\n\t\t{\n\t\t\t\"b\": 2\n\t\t}\n\t],\n\t\"e\": [],\n\t\"o\": {}\n}")
    );
    assert_eq!(
        ks.exec(&["JSON.GET", "doc", "indent", "  ", "newline", "\n", "$.a[1]"]),
        bulk("[\n  {\n    \"b\":2\n  }\n]")
    );
    assert_eq!(ks.exec(&["JSON.GET", "doc", "SPACE", " ", ".a"]), bulk(r#"[1,{"b": 2}]"#));
    assert_eq!(ks.exec(&["JSON.GET", "doc", "INDENT"]), err("ERR syntax error"));
}

#[test]
fn set_nx_and_xx_are_conditional_on_the_path() {
    let mut ks = TestKeyspace::new();
    assert_eq!(ks.exec(&["JSON.SET", "doc", "$", "1", "XX"]), Frame::Null);
    assert_eq!(ks.exec(&["EXISTS", "doc"]), int(0));
    assert_eq!(ks.exec(&["JSON.SET", "doc", "$", r#"{"a":1}"#, "NX"]), ok());
    assert_eq!(ks.exec(&["JSON.SET", "doc", "$", r#"{"a":2}"#, "NX"]), Frame::Null);
    assert_eq!(ks.exec(&["JSON.SET", "doc", "$.a", "5", "nx"]), Frame::Null);
    assert_eq!(ks.exec(&["JSON.SET", "doc", "$.b", "6", "XX"]), Frame::Null);
    assert_eq!(ks.exec(&["JSON.SET", "doc", "$.b", "6", "NX"]), ok());
    assert_eq!(ks.exec(&["JSON.SET", "doc", "$.a", "7", "xx"]), ok());
    assert_eq!(ks.exec(&["JSON.GET", "doc"]), bulk(r#"{"a":7,"b":6}"#));
    assert_eq!(ks.exec(&["JSON.SET", "doc", "$", "1", "NX", "XX"]), err("ERR syntax error"));
    assert_eq!(ks.exec(&["JSON.SET", "doc", "$", "1", "BOGUS"]), err("ERR syntax error"));
}

#[test]
fn set_creates_members_only_under_existing_objects() {
    let mut ks = TestKeyspace::new();
    assert_eq!(ks.exec(&["JSON.SET", "doc", "$.a", "1"]), err("ERR new objects must be created at the root"));
    assert_eq!(ks.exec(&["JSON.SET", "doc", ".a", "1"]), err("ERR new objects must be created at the root"));
    assert_eq!(ks.exec(&["JSON.SET", "doc", ".", r#"{"a":{"b":1},"arr":[1,2]}"#]), ok());
    assert_eq!(ks.exec(&["JSON.SET", "doc", "$.a.c", r#"{"d":[]}"#]), ok());
    assert_eq!(ks.exec(&["JSON.SET", "doc", ".a.c.d", "[true]"]), ok());
    assert_eq!(ks.exec(&["JSON.SET", "doc", "$.x.y", "1"]), Frame::Null, "a missing parent is not created");
    assert_eq!(ks.exec(&["JSON.SET", "doc", "$.arr[5]", "1"]), Frame::Null, "arrays do not grow by SET");
    assert_eq!(ks.exec(&["JSON.SET", "doc", "$.arr[-1]", "9"]), ok());
    assert_eq!(ks.exec(&["JSON.GET", "doc"]), bulk(r#"{"a":{"b":1,"c":{"d":[true]}},"arr":[1,9]}"#));
    assert_eq!(ks.exec(&["JSON.SET", "doc", "$", "[]"]), ok(), "the root may change type");
    assert_eq!(ks.exec(&["JSON.GET", "doc"]), bulk("[]"));
}

#[test]
fn set_updates_every_match_of_a_jsonpath() {
    let mut ks = ks_with(r#"{"a":1,"b":{"a":2},"c":[{"a":3}]}"#);
    assert_eq!(ks.exec(&["JSON.SET", "doc", "$..a", r#""z""#]), ok());
    assert_eq!(ks.exec(&["JSON.GET", "doc"]), bulk(r#"{"a":"z","b":{"a":"z"},"c":[{"a":"z"}]}"#));
}

#[test]
fn set_rejects_bad_json_and_keeps_the_expiry() {
    let mut ks = ks_with(r#"{"a":1}"#);
    assert_eq!(ks.exec(&["JSON.SET", "doc", "$", "{bad"]), err("ERR key must be a string at line 1 column 2"));
    assert_eq!(ks.exec(&["JSON.SET", "doc", "$", ""]), err("ERR EOF while parsing a value at line 1 column 0"));
    assert_eq!(ks.exec(&["EXPIRE", "doc", "100"]), int(1));
    assert_eq!(ks.exec(&["JSON.SET", "doc", "$.a", "2"]), ok());
    assert_eq!(ks.exec(&["TTL", "doc"]), int(100));
    assert_eq!(ks.exec(&["JSON.SET", "doc", "$", "3"]), ok());
    assert_eq!(ks.exec(&["TTL", "doc"]), int(100), "RedisJSON updates the document in place");
}

#[test]
fn other_types_give_wrongtype_and_json_keys_copy_and_rename() {
    let mut ks = ks_with(r#"{"a":[1]}"#);
    ks.exec(&["SET", "s", "x"]);
    for cmd in [
        vec!["JSON.SET", "s", "$", "1"],
        vec!["JSON.GET", "s"],
        vec!["JSON.DEL", "s"],
        vec!["JSON.TYPE", "s"],
        vec!["JSON.NUMINCRBY", "s", "$", "1"],
        vec!["JSON.STRLEN", "s"],
        vec!["JSON.ARRAPPEND", "s", "$", "1"],
        vec!["JSON.ARRLEN", "s"],
        vec!["JSON.OBJKEYS", "s"],
    ] {
        assert_eq!(ks.exec(&cmd), err(WRONGTYPE), "{cmd:?}");
    }
    assert_eq!(ks.exec(&["GET", "doc"]), err(WRONGTYPE));
    assert_eq!(ks.exec(&["COPY", "doc", "copy"]), int(1));
    assert_eq!(ks.exec(&["RENAME", "doc", "renamed"]), ok());
    assert_eq!(ks.exec(&["JSON.GET", "copy", "$.a"]), bulk("[[1]]"));
    assert_eq!(ks.exec(&["JSON.GET", "renamed", "$.a"]), bulk("[[1]]"));
    assert_eq!(ks.exec(&["DEL", "copy", "renamed"]), int(2));
    assert_eq!(ks.exec(&["DBSIZE"]), int(1));
    ks.exec(&["JSON.SET", "j", "$", "[]"]);
    assert_eq!(ks.exec(&["SCAN", "0", "TYPE", "rejson-rl"]), array(vec![bulk("0"), array(vec![bulk("j")])]));
}

#[test]
fn del_and_forget_remove_matches_and_count_them() {
    let mut ks = ks_with(r#"{"a":1,"nested":{"a":2,"b":3},"arr":[1,2,3,4]}"#);
    assert_eq!(ks.exec(&["JSON.DEL", "doc", "$..a"]), int(2));
    assert_eq!(ks.exec(&["JSON.GET", "doc"]), bulk(r#"{"nested":{"b":3},"arr":[1,2,3,4]}"#));
    assert_eq!(ks.exec(&["JSON.DEL", "doc", "$.arr[*]"]), int(4), "indexes stay valid while deleting");
    assert_eq!(ks.exec(&["JSON.SET", "doc", "$.arr", "[1,2,3,4]"]), ok());
    assert_eq!(ks.exec(&["JSON.FORGET", "doc", ".arr[-1]"]), int(1));
    assert_eq!(ks.exec(&["JSON.DEL", "doc", "$.arr[0]"]), int(1));
    assert_eq!(ks.exec(&["JSON.DEL", "doc", "$.nope"]), int(0));
    assert_eq!(ks.exec(&["JSON.DEL", "doc", ".nope"]), int(0));
    assert_eq!(ks.exec(&["JSON.GET", "doc"]), bulk(r#"{"nested":{"b":3},"arr":[2,3]}"#));
    assert_eq!(
        ks.exec(&["JSON.DEL", "doc", "$.nested", "extra"]),
        err("ERR wrong number of arguments for 'json.del' command")
    );
    assert_eq!(ks.exec(&["JSON.DEL", "doc", "$"]), int(1));
    assert_eq!(ks.exec(&["EXISTS", "doc"]), int(0));
    assert_eq!(ks.exec(&["JSON.DEL", "doc"]), int(0));
    ks.exec(&["JSON.SET", "doc", "$", "{}"]);
    assert_eq!(ks.exec(&["JSON.FORGET", "doc"]), int(1), "the default path is the root");
    assert_eq!(ks.exec(&["EXISTS", "doc"]), int(0));
}

#[test]
fn type_reports_json_types() {
    let mut ks = ks_with(r#"{"o":{},"a":[],"s":"x","i":1,"n":1.5,"b":false,"z":null}"#);
    assert_eq!(ks.exec(&["JSON.TYPE", "doc"]), Frame::Simple("object".into()));
    assert_eq!(ks.exec(&["JSON.TYPE", "doc", ".n"]), Frame::Simple("number".into()));
    assert_eq!(ks.exec(&["JSON.TYPE", "doc", ".nope"]), Frame::Null);
    assert_eq!(
        ks.exec(&["JSON.TYPE", "doc", "$.*"]),
        array(["object", "array", "string", "integer", "number", "boolean", "null"].into_iter().map(bulk).collect())
    );
    assert_eq!(ks.exec(&["JSON.TYPE", "doc", "$.nope"]), array(vec![]));
    assert_eq!(ks.exec(&["JSON.TYPE", "missing"]), Frame::Null);
    assert_eq!(ks.exec(&["JSON.TYPE", "doc", "$", "x"]), err("ERR wrong number of arguments for 'json.type' command"));
}

#[test]
fn numincrby_keeps_integers_and_switches_to_floats() {
    let mut ks = ks_with(r#"{"i":1,"f":1.5,"s":"x","n":{"i":10}}"#);
    assert_eq!(ks.exec(&["JSON.NUMINCRBY", "doc", "$.i", "2"]), bulk("[3]"));
    assert_eq!(ks.exec(&["JSON.NUMINCRBY", "doc", ".i", "-5"]), bulk("-2"));
    assert_eq!(ks.exec(&["JSON.NUMINCRBY", "doc", "$.f", "1.5"]), bulk("[3.0]"));
    assert_eq!(ks.exec(&["JSON.NUMINCRBY", "doc", "$.i", "0.5"]), bulk("[-1.5]"));
    assert_eq!(ks.exec(&["JSON.NUMINCRBY", "doc", "$..i", "1"]), bulk("[-0.5,11]"));
    assert_eq!(ks.exec(&["JSON.NUMINCRBY", "doc", "$.*", "1"]), bulk("[0.5,4.0,null,null]"));
    assert_eq!(ks.exec(&["JSON.NUMINCRBY", "doc", "$.nope", "1"]), bulk("[]"));
    assert_eq!(ks.exec(&["JSON.GET", "doc"]), bulk(r#"{"i":0.5,"f":4.0,"s":"x","n":{"i":11}}"#));
    assert_eq!(
        ks.exec(&["JSON.NUMINCRBY", "doc", ".s", "1"]),
        err("WRONGTYPE wrong type of path value - expected a number but found string")
    );
    assert_eq!(ks.exec(&["JSON.NUMINCRBY", "doc", ".nope", "1"]), err("ERR Path '.nope' does not exist"));
    assert_eq!(
        ks.exec(&["JSON.NUMINCRBY", "missing", "$", "1"]),
        err("ERR could not perform this operation on a key that doesn't exist")
    );
    assert_eq!(ks.exec(&["JSON.NUMINCRBY", "doc", "$.i", "abc"]), err("ERR expected value at line 1 column 1"));
    assert_eq!(
        ks.exec(&["JSON.NUMINCRBY", "doc", "$.i", r#""1""#]),
        err(r#"ERR invalid type: string "1", expected a JSON number at line 1 column 3"#)
    );
    assert_eq!(ks.exec(&["JSON.GET", "doc", ".i"]), bulk("0.5"), "a failed increment changes nothing");
    assert_eq!(
        ks.exec(&["JSON.NUMINCRBY", "doc", "$.i"]),
        err("ERR wrong number of arguments for 'json.numincrby' command")
    );
}

#[test]
fn numincrby_overflowing_an_integer_gives_a_float() {
    let mut ks = ks_with(r#"{"i":9223372036854775807}"#);
    assert_eq!(ks.exec(&["JSON.NUMINCRBY", "doc", ".i", "1"]), bulk("9.223372036854776e+18"));
    assert_eq!(ks.exec(&["JSON.NUMINCRBY", "doc", ".i", "1e308"]), bulk("1e+308"));
    assert_eq!(ks.exec(&["JSON.NUMINCRBY", "doc", ".i", "1e308"]), err("ERR result is not a number"));
}

#[test]
fn strlen_arrlen_and_objkeys_answer_per_match() {
    let mut ks = ks_with(r#"{"s":"héllo","a":[1,2,3],"o":{"x":1,"y":2},"n":{"s":"ab","a":[],"o":{}}}"#);
    assert_eq!(ks.exec(&["JSON.STRLEN", "doc", ".s"]), int(6), "lengths are in bytes");
    assert_eq!(ks.exec(&["JSON.STRLEN", "doc", "$..s"]), array(vec![int(6), int(2)]));
    assert_eq!(ks.exec(&["JSON.STRLEN", "doc", "$.*"]), array(vec![int(6), Frame::Null, Frame::Null, Frame::Null]));
    assert_eq!(
        ks.exec(&["JSON.STRLEN", "doc", ".a"]),
        err("WRONGTYPE wrong type of path value - expected string but found array")
    );
    assert_eq!(
        ks.exec(&["JSON.STRLEN", "doc"]),
        err("WRONGTYPE wrong type of path value - expected string but found object")
    );
    assert_eq!(ks.exec(&["JSON.STRLEN", "doc", ".nope"]), err("ERR Path '.nope' does not exist"));
    assert_eq!(ks.exec(&["JSON.STRLEN", "missing", "$"]), Frame::Null);

    assert_eq!(ks.exec(&["JSON.ARRLEN", "doc", ".a"]), int(3));
    assert_eq!(ks.exec(&["JSON.ARRLEN", "doc", "$..a"]), array(vec![int(3), int(0)]));
    assert_eq!(ks.exec(&["JSON.ARRLEN", "doc", "$.s"]), array(vec![Frame::Null]));
    assert_eq!(
        ks.exec(&["JSON.ARRLEN", "doc", ".o"]),
        err("WRONGTYPE wrong type of path value - expected array but found object")
    );
    assert_eq!(ks.exec(&["JSON.ARRLEN", "missing"]), Frame::Null);

    assert_eq!(ks.exec(&["JSON.OBJKEYS", "doc"]), array(vec![bulk("s"), bulk("a"), bulk("o"), bulk("n")]));
    assert_eq!(ks.exec(&["JSON.OBJKEYS", "doc", ".o"]), array(vec![bulk("x"), bulk("y")]));
    assert_eq!(
        ks.exec(&["JSON.OBJKEYS", "doc", "$..o"]),
        array(vec![array(vec![bulk("x"), bulk("y")]), array(vec![])])
    );
    assert_eq!(ks.exec(&["JSON.OBJKEYS", "doc", "$.a"]), array(vec![Frame::Null]));
    assert_eq!(
        ks.exec(&["JSON.OBJKEYS", "doc", ".a"]),
        err("WRONGTYPE wrong type of path value - expected object but found array")
    );
    assert_eq!(ks.exec(&["JSON.OBJKEYS", "missing", "$"]), Frame::Null);
    assert_eq!(
        ks.exec(&["JSON.OBJKEYS", "doc", "$", "x"]),
        err("ERR wrong number of arguments for 'json.objkeys' command")
    );
}

#[test]
fn arrappend_appends_and_reports_new_lengths() {
    let mut ks = ks_with(r#"{"a":[1],"n":{"a":[]},"s":"x"}"#);
    assert_eq!(ks.exec(&["JSON.ARRAPPEND", "doc", ".a", "2", r#""three""#, "{}"]), int(4));
    assert_eq!(ks.exec(&["JSON.ARRAPPEND", "doc", "$..a", "null"]), array(vec![int(5), int(1)]));
    assert_eq!(ks.exec(&["JSON.ARRAPPEND", "doc", "$.s", "1"]), array(vec![Frame::Null]));
    assert_eq!(ks.exec(&["JSON.ARRAPPEND", "doc", "$.nope", "1"]), array(vec![]));
    assert_eq!(ks.exec(&["JSON.GET", "doc"]), bulk(r#"{"a":[1,2,"three",{},null],"n":{"a":[null]},"s":"x"}"#));
    assert_eq!(
        ks.exec(&["JSON.ARRAPPEND", "doc", ".s", "1"]),
        err("WRONGTYPE wrong type of path value - expected array but found string")
    );
    assert_eq!(ks.exec(&["JSON.ARRAPPEND", "doc", ".nope", "1"]), err("ERR Path '.nope' does not exist"));
    assert_eq!(
        ks.exec(&["JSON.ARRAPPEND", "missing", "$", "1"]),
        err("ERR could not perform this operation on a key that doesn't exist")
    );
    assert_eq!(ks.exec(&["JSON.ARRAPPEND", "doc", "$.a", "[bad"]), err("ERR expected value at line 1 column 2"));
    assert_eq!(ks.exec(&["JSON.ARRLEN", "doc", ".a"]), int(5), "a bad value appends nothing");
    assert_eq!(
        ks.exec(&["JSON.ARRAPPEND", "doc", "$.a"]),
        err("ERR wrong number of arguments for 'json.arrappend' command")
    );
}

#[test]
fn mget_answers_per_key_with_nil_for_missing_keys_and_paths() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["JSON.SET", "a", "$", r#"{"x":1,"n":{"x":2}}"#]);
    ks.exec(&["JSON.SET", "b", "$", r#"{"x":"two"}"#]);
    ks.exec(&["JSON.SET", "c", "$", r#"{"y":3}"#]);
    ks.exec(&["SET", "s", "string"]);
    assert_eq!(
        ks.exec(&["JSON.MGET", "a", "b", "c", "missing", "s", "$..x"]),
        array(vec![bulk("[1,2]"), bulk(r#"["two"]"#), bulk("[]"), Frame::Null, Frame::Null])
    );
    assert_eq!(
        ks.exec(&["JSON.MGET", "a", "b", "c", "missing", ".x"]),
        array(vec![bulk("1"), bulk(r#""two""#), Frame::Null, Frame::Null])
    );
    assert_eq!(ks.exec(&["JSON.MGET", "a", "."]), array(vec![bulk(r#"{"x":1,"n":{"x":2}}"#)]));
    assert_eq!(ks.exec(&["JSON.MGET", "a"]), err("ERR wrong number of arguments for 'json.mget' command"));
}

#[test]
fn mget_key_positions_exclude_the_path() {
    let spec = crate::commands::lookup(b"JSON.MGET").expect("registered");
    let args: Vec<bytes::Bytes> = ["JSON.MGET", "a", "b", "$"].iter().map(|s| bytes::Bytes::from(*s)).collect();
    assert_eq!(spec.keys_of(&args), vec![1, 2]);
    let set = crate::commands::lookup(b"json.set").expect("registered");
    assert!(set.is_write());
}

#[test]
fn replies_are_bulk_strings_in_resp2_and_resp3() {
    let mut ks = ks_with(r#"{"a":1}"#);
    for resp3 in [false, true] {
        ks.resp3 = resp3;
        let reply = ks.exec(&["JSON.GET", "doc", "$.a"]);
        assert_eq!(ks.encode(&reply), b"$3\r\n[1]\r\n");
        let reply = ks.exec(&["JSON.NUMINCRBY", "doc", ".a", "0"]);
        assert_eq!(ks.encode(&reply), b"$1\r\n1\r\n");
        let missing = ks.exec(&["JSON.GET", "missing"]);
        assert_eq!(ks.encode(&missing), if resp3 { &b"_\r\n"[..] } else { &b"$-1\r\n"[..] });
        let lens = ks.exec(&["JSON.ARRLEN", "doc", "$.a"]);
        assert_eq!(ks.encode(&lens), if resp3 { &b"*1\r\n_\r\n"[..] } else { &b"*1\r\n$-1\r\n"[..] });
    }
}

#[test]
fn arity_errors_name_the_command_in_lower_case() {
    let mut ks = TestKeyspace::new();
    assert_eq!(ks.exec(&["JSON.SET", "k", "$"]), err("ERR wrong number of arguments for 'json.set' command"));
    assert_eq!(ks.exec(&["JSON.GET"]), err("ERR wrong number of arguments for 'json.get' command"));
    assert_eq!(ks.exec(&["JSON.DEL"]), err("ERR wrong number of arguments for 'json.del' command"));
}
