//! What the case file cannot compare with Redis 7.0: time-dependent
//! replies (driven by the harness clock here), Redis 7.2-only behaviour,
//! and Redraft's BLOCK refusal.

use resp::Frame;

use crate::commands::testing::{array, bulk, err, int, ok, TestKeyspace, START_MS};

fn entry(id: &str, pairs: &[&str]) -> Frame {
    array(vec![bulk(id), array(pairs.iter().map(|p| bulk(p)).collect())])
}

/// The value of `field` in a map reply (a flat array in RESP2).
fn field(reply: &Frame, name: &str) -> Frame {
    let Frame::Map(pairs) = reply else { panic!("not a map: {reply:?}") };
    pairs.iter().find(|(k, _)| *k == bulk(name)).map(|(_, v)| v.clone()).unwrap_or_else(|| panic!("no {name}"))
}

fn items(reply: Frame) -> Vec<Frame> {
    match reply {
        Frame::Array(items) => items,
        other => panic!("not an array: {other:?}"),
    }
}

#[test]
fn xadd_and_xrange_round_trip() {
    let mut ks = TestKeyspace::new();
    assert_eq!(ks.exec(&["XADD", "s", "1-1", "f", "v"]), bulk("1-1"));
    assert_eq!(ks.exec(&["XRANGE", "s", "-", "+"]), array(vec![entry("1-1", &["f", "v"])]));
    assert_eq!(ks.exec(&["XLEN", "s"]), int(1));
    assert_eq!(ks.exec(&["TYPE", "s"]), Frame::simple("stream"));
    assert_eq!(ks.exec(&["OBJECT", "ENCODING", "s"]), bulk("stream"));
}

#[test]
fn generated_ids_come_from_the_entry_clock_and_never_go_back() {
    let mut ks = TestKeyspace::new();
    let now = START_MS;
    assert_eq!(ks.exec(&["XADD", "s", "*", "f", "v"]), bulk(&format!("{now}-0")));
    assert_eq!(ks.exec(&["XADD", "s", "*", "f", "v"]), bulk(&format!("{now}-1")));
    ks.now_ms -= 5_000;
    assert_eq!(ks.exec(&["XADD", "s", "*", "f", "v"]), bulk(&format!("{now}-2")));
    ks.now_ms = now + 7;
    assert_eq!(ks.exec(&["XADD", "s", "*", "f", "v"]), bulk(&format!("{}-0", now + 7)));
    assert_eq!(ks.exec(&["XADD", "s", &format!("{}-*", now + 7), "f", "v"]), bulk(&format!("{}-1", now + 7)));
    assert_eq!(
        ks.exec(&["XADD", "s", "5-*", "f", "v"]),
        err("ERR The ID specified in XADD is equal or smaller than the target stream top item")
    );
    assert_eq!(ks.exec(&["XLEN", "s"]), int(5));
}

#[test]
fn an_emptied_stream_stays_and_keeps_its_last_id() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["XADD", "s", "1-1", "f", "v"]);
    ks.exec(&["XADD", "s", "2-1", "f", "v"]);
    assert_eq!(ks.exec(&["XDEL", "s", "1-1", "2-1"]), int(2));
    assert_eq!(ks.exec(&["EXISTS", "s"]), int(1));
    assert_eq!(ks.exec(&["XLEN", "s"]), int(0));
    let info = ks.exec(&["XINFO", "STREAM", "s"]);
    assert_eq!(field(&info, "last-generated-id"), bulk("2-1"));
    assert_eq!(field(&info, "max-deleted-entry-id"), bulk("2-1"));
    assert_eq!(field(&info, "radix-tree-keys"), int(0));
    assert_eq!(field(&info, "radix-tree-nodes"), int(1));
    assert_eq!(field(&info, "first-entry"), Frame::Null);
    assert_eq!(ks.exec(&["XTRIM", "s", "MAXLEN", "0"]), int(0));
    assert_eq!(ks.exec(&["EXISTS", "s"]), int(1));
}

#[test]
fn pending_entries_age_with_the_clock() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["XADD", "s", "1-0", "a", "1"]);
    ks.exec(&["XADD", "s", "2-0", "b", "2"]);
    ks.exec(&["XGROUP", "CREATE", "s", "g", "0"]);
    ks.exec(&["XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", ">"]);
    ks.advance_ms(1_000);
    ks.exec(&["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"]);
    ks.advance_ms(500);
    assert_eq!(
        ks.exec(&["XPENDING", "s", "g", "-", "+", "10"]),
        array(vec![
            array(vec![bulk("1-0"), bulk("alice"), int(1_500), int(1)]),
            array(vec![bulk("2-0"), bulk("bob"), int(500), int(1)]),
        ])
    );
    assert_eq!(
        ks.exec(&["XPENDING", "s", "g", "IDLE", "1000", "-", "+", "10"]),
        array(vec![array(vec![bulk("1-0"), bulk("alice"), int(1_500), int(1)])])
    );
    assert_eq!(ks.exec(&["XPENDING", "s", "g", "IDLE", "1000", "-", "+", "10", "bob"]), array(vec![]));
    // Reading its history again counts as another delivery.
    ks.exec(&["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"]);
    assert_eq!(
        ks.exec(&["XPENDING", "s", "g", "-", "+", "1"]),
        array(vec![array(vec![bulk("1-0"), bulk("alice"), int(0), int(2)])])
    );
    // XCLAIM's min-idle-time compares with the same clock.
    assert_eq!(ks.exec(&["XCLAIM", "s", "g", "alice", "600", "2-0", "JUSTID"]), array(vec![]));
    ks.advance_ms(100);
    assert_eq!(ks.exec(&["XCLAIM", "s", "g", "alice", "600", "2-0", "JUSTID"]), array(vec![bulk("2-0")]));
    assert_eq!(
        ks.exec(&["XPENDING", "s", "g", "-", "+", "10", "alice"]),
        array(vec![
            array(vec![bulk("1-0"), bulk("alice"), int(100), int(2)]),
            array(vec![bulk("2-0"), bulk("alice"), int(0), int(1)]),
        ])
    );
}

#[test]
fn xclaim_sets_delivery_time_and_count() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["XADD", "s", "1-0", "a", "1"]);
    ks.exec(&["XADD", "s", "2-0", "b", "2"]);
    ks.exec(&["XGROUP", "CREATE", "s", "g", "0"]);
    ks.exec(&["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"]);
    ks.advance_ms(50);
    let now = ks.now_ms as i64;
    assert_eq!(
        ks.exec(&["XCLAIM", "s", "g", "bob", "0", "1-0", "IDLE", "300", "RETRYCOUNT", "9"]),
        array(vec![entry("1-0", &["a", "1"])])
    );
    assert_eq!(ks.exec(&["XCLAIM", "s", "g", "bob", "0", "2-0", "TIME", "1000", "JUSTID"]), array(vec![bulk("2-0")]));
    let full = ks.exec(&["XINFO", "STREAM", "s", "FULL"]);
    let group = items(field(&full, "groups")).remove(0);
    assert_eq!(
        field(&group, "pending"),
        array(vec![
            array(vec![bulk("1-0"), bulk("bob"), int(now - 300), int(9)]),
            array(vec![bulk("2-0"), bulk("bob"), int(1000), int(1)]),
        ])
    );
    // A time in the future, or a negative one, becomes "now".
    ks.exec(&["XCLAIM", "s", "g", "bob", "0", "1-0", "TIME", "99999999999999999", "JUSTID"]);
    ks.exec(&["XCLAIM", "s", "g", "bob", "0", "2-0", "IDLE", "-5", "JUSTID"]);
    let full = ks.exec(&["XINFO", "STREAM", "s", "FULL"]);
    let group = items(field(&full, "groups")).remove(0);
    assert_eq!(
        field(&group, "pending"),
        array(vec![
            array(vec![bulk("1-0"), bulk("bob"), int(now), int(9)]),
            array(vec![bulk("2-0"), bulk("bob"), int(now), int(1)]),
        ])
    );
    // FORCE creates the entry with one delivery, and claiming counts another.
    ks.exec(&["XACK", "s", "g", "1-0"]);
    ks.exec(&["XCLAIM", "s", "g", "carol", "0", "1-0", "FORCE"]);
    assert_eq!(
        ks.exec(&["XPENDING", "s", "g", "-", "+", "1"]),
        array(vec![array(vec![bulk("1-0"), bulk("carol"), int(0), int(2)])])
    );
}

#[test]
fn consumers_report_idle_and_inactive_times() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["XADD", "s", "1-0", "a", "1"]);
    ks.exec(&["XGROUP", "CREATE", "s", "g", "$"]);
    let created = ks.now_ms as i64;
    ks.exec(&["XGROUP", "CREATECONSUMER", "s", "g", "idle"]);
    ks.advance_ms(200);
    ks.exec(&["XADD", "s", "2-0", "b", "2"]);
    ks.exec(&["XREADGROUP", "GROUP", "g", "reader", "STREAMS", "s", ">"]);
    let read = ks.now_ms as i64;
    ks.advance_ms(300);
    // Seen but not served: idle restarts, inactive does not.
    ks.exec(&["XREADGROUP", "GROUP", "g", "reader", "STREAMS", "s", ">"]);
    ks.advance_ms(100);
    assert_eq!(
        ks.exec(&["XINFO", "CONSUMERS", "s", "g"]),
        array(vec![
            Frame::Map(vec![
                (bulk("name"), bulk("idle")),
                (bulk("pending"), int(0)),
                (bulk("idle"), int(600)),
                (bulk("inactive"), int(-1)),
            ]),
            Frame::Map(vec![
                (bulk("name"), bulk("reader")),
                (bulk("pending"), int(1)),
                (bulk("idle"), int(100)),
                (bulk("inactive"), int(400)),
            ]),
        ])
    );
    let full = ks.exec(&["XINFO", "STREAM", "s", "FULL"]);
    let group = items(field(&full, "groups")).remove(0);
    let consumers = items(field(&group, "consumers"));
    assert_eq!(field(&consumers[0], "seen-time"), int(created));
    assert_eq!(field(&consumers[0], "active-time"), int(-1));
    assert_eq!(field(&consumers[1], "seen-time"), int(read + 300));
    assert_eq!(field(&consumers[1], "active-time"), int(read));
    assert_eq!(field(&consumers[1], "pel-count"), int(1));
    assert_eq!(field(&consumers[1], "pending"), array(vec![array(vec![bulk("2-0"), int(read), int(1)])]));
}

#[test]
fn claims_create_the_consumer_even_when_nothing_is_claimed() {
    // Redis 7.2 creates the consumer up front (7.0 only on a claim).
    let mut ks = TestKeyspace::new();
    ks.exec(&["XADD", "s", "1-0", "a", "1"]);
    ks.exec(&["XGROUP", "CREATE", "s", "g", "0"]);
    assert_eq!(ks.exec(&["XCLAIM", "s", "g", "c1", "0", "9-9"]), array(vec![]));
    assert_eq!(
        ks.exec(&["XAUTOCLAIM", "s", "g", "c2", "0", "0"]),
        array(vec![bulk("0-0"), array(vec![]), array(vec![])])
    );
    let groups = items(ks.exec(&["XINFO", "GROUPS", "s"]));
    assert_eq!(field(&groups[0], "consumers"), int(2));
}

#[test]
fn xautoclaim_stops_after_ten_attempts_per_count() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["XGROUP", "CREATE", "s", "g", "0", "MKSTREAM"]);
    for i in 1..=30 {
        ks.exec(&["XADD", "s", &format!("{i}-0"), "f", "v"]);
    }
    ks.exec(&["XREADGROUP", "GROUP", "g", "alice", "COUNT", "25", "STREAMS", "s", ">"]);
    ks.advance_ms(1_000);
    ks.exec(&["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"]);
    // 1..25 are old, 26..30 fresh. COUNT 1 allows 10 attempts.
    assert_eq!(
        ks.exec(&["XAUTOCLAIM", "s", "g", "bob", "500", "20-0", "COUNT", "1", "JUSTID"]),
        array(vec![bulk("21-0"), array(vec![bulk("20-0")]), array(vec![])])
    );
    // Only fresh entries from 26-0: the PEL ends first, so the cursor is 0-0.
    assert_eq!(
        ks.exec(&["XAUTOCLAIM", "s", "g", "bob", "500", "26-0", "COUNT", "1", "JUSTID"]),
        array(vec![bulk("0-0"), array(vec![]), array(vec![])])
    );
    // 20-0 is fresh again after its claim: skipped, then 21-0 is claimed.
    assert_eq!(
        ks.exec(&["XAUTOCLAIM", "s", "g", "bob", "500", "20-0", "COUNT", "1", "JUSTID"]),
        array(vec![bulk("22-0"), array(vec![bulk("21-0")]), array(vec![])])
    );
    // Nothing is old enough: ten attempts (6..15 after the acks), then the
    // cursor is where the next call should resume.
    ks.exec(&["XACK", "s", "g", "1-0", "2-0", "3-0", "4-0", "5-0"]);
    assert_eq!(
        ks.exec(&["XAUTOCLAIM", "s", "g", "bob", "100000", "0", "COUNT", "1", "JUSTID"]),
        array(vec![bulk("16-0"), array(vec![]), array(vec![])])
    );
}

#[test]
fn redis_7_2_error_texts() {
    let mut ks = TestKeyspace::new();
    assert_eq!(
        ks.exec(&["XREAD", "STREAMS", "a", "b", "0"]),
        err("ERR Unbalanced 'xread' list of streams: for each stream key an ID or '$' must be specified.")
    );
    assert_eq!(
        ks.exec(&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "b", ">"]),
        err("ERR Unbalanced 'xreadgroup' list of streams: for each stream key an ID or '>' must be specified.")
    );
    assert_eq!(
        ks.exec(&["XREAD", "BLOCK", "9223372036854775807", "STREAMS", "a", "0"]),
        err("ERR timeout is out of range")
    );
    // XSETID checks the max deleted ID before the top entry.
    ks.exec(&["XADD", "s", "5-0", "f", "v"]);
    ks.exec(&["XADD", "s", "6-0", "f", "v"]);
    ks.exec(&["XDEL", "s", "5-0"]);
    assert_eq!(
        ks.exec(&["XSETID", "s", "1-0"]),
        err("ERR The ID specified in XSETID is smaller than current max_deleted_entry_id")
    );
    assert_eq!(
        ks.exec(&["XSETID", "s", "5-5"]),
        err("ERR The ID specified in XSETID is smaller than the target stream top item")
    );
    assert_eq!(ks.exec(&["XGROUP", "CREATE", "s"]), err("ERR wrong number of arguments for 'xgroup|create' command"));
    assert_eq!(ks.exec(&["XINFO", "NOPE", "s"]), err("ERR unknown subcommand 'NOPE'. Try XINFO HELP."));
}

#[test]
fn block_without_data_is_refused_without_side_effects() {
    let mut ks = TestKeyspace::new();
    ks.exec(&["XADD", "s", "1-0", "f", "v"]);
    assert_eq!(
        ks.exec(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]),
        err("ERR XREAD BLOCK is not supported by this server yet")
    );
    assert_eq!(
        ks.exec(&["XREAD", "BLOCK", "10", "STREAMS", "s", "0"]),
        array(vec![array(vec![bulk("s"), array(vec![entry("1-0", &["f", "v"])])])])
    );
    ks.exec(&["XGROUP", "CREATE", "s", "g", "$"]);
    assert_eq!(
        ks.exec(&["XREADGROUP", "GROUP", "g", "newbie", "BLOCK", "0", "STREAMS", "s", ">"]),
        err("ERR XREADGROUP BLOCK is not supported by this server yet")
    );
    let groups = items(ks.exec(&["XINFO", "GROUPS", "s"]));
    assert_eq!(field(&groups[0], "consumers"), int(0));
    // History reads are always served, so BLOCK never matters for them.
    assert_eq!(
        ks.exec(&["XREADGROUP", "GROUP", "g", "newbie", "BLOCK", "0", "STREAMS", "s", "0"]),
        array(vec![array(vec![bulk("s"), array(vec![])])])
    );
    // Without BLOCK, an empty read still registers the consumer.
    assert_eq!(ks.exec(&["XREADGROUP", "GROUP", "g", "other", "STREAMS", "s", ">"]), Frame::NullArray);
    let groups = items(ks.exec(&["XINFO", "GROUPS", "s"]));
    assert_eq!(field(&groups[0], "consumers"), int(2));
}

#[test]
fn resp3_replies_use_maps() {
    let mut ks = TestKeyspace::new();
    ks.resp3 = true;
    ks.exec(&["XADD", "s", "1-0", "f", "v"]);
    assert_eq!(
        ks.exec(&["XREAD", "STREAMS", "s", "0"]),
        Frame::Map(vec![(bulk("s"), array(vec![entry("1-0", &["f", "v"])]))])
    );
    assert!(matches!(ks.exec(&["XINFO", "STREAM", "s"]), Frame::Map(_)));
    assert_eq!(ks.exec(&["XREAD", "STREAMS", "s", "$"]), Frame::NullArray);
    assert_eq!(ks.exec(&["XGROUP", "CREATE", "s", "g", "0"]), ok());
}

#[test]
fn moved_pending_entries_keep_per_consumer_counts() {
    let mut ks = TestKeyspace::new();
    for i in 1..=6 {
        ks.exec(&["XADD", "s", &format!("{i}-0"), "f", "v"]);
    }
    ks.exec(&["XGROUP", "CREATE", "s", "g", "0"]);
    ks.exec(&["XREADGROUP", "GROUP", "g", "a", "COUNT", "3", "STREAMS", "s", ">"]);
    ks.exec(&["XREADGROUP", "GROUP", "g", "b", "STREAMS", "s", ">"]);
    ks.exec(&["XCLAIM", "s", "g", "b", "0", "1-0", "2-0", "JUSTID"]);
    // Rewinding the group hands entries already pending to the reader.
    ks.exec(&["XGROUP", "SETID", "s", "g", "0"]);
    ks.exec(&["XREADGROUP", "GROUP", "g", "a", "COUNT", "5", "STREAMS", "s", ">"]);
    assert_eq!(
        ks.exec(&["XPENDING", "s", "g"]),
        array(vec![
            int(6),
            bulk("1-0"),
            bulk("6-0"),
            array(vec![array(vec![bulk("a"), bulk("5")]), array(vec![bulk("b"), bulk("1")])]),
        ])
    );
    assert_eq!(ks.exec(&["XGROUP", "DELCONSUMER", "s", "g", "a"]), int(5));
    assert_eq!(
        ks.exec(&["XPENDING", "s", "g"]),
        array(vec![int(1), bulk("6-0"), bulk("6-0"), array(vec![array(vec![bulk("b"), bulk("1")])])])
    );
    assert_eq!(ks.exec(&["XGROUP", "DESTROY", "s", "g"]), int(1));
    assert_eq!(ks.exec(&["XGROUP", "CREATE", "s", "g", "$"]), ok());
    assert_eq!(ks.exec(&["XPENDING", "s", "g"]), array(vec![int(0), Frame::Null, Frame::Null, Frame::NullArray]));
}
