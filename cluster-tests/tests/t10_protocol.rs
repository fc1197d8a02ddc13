//! Raw-byte RESP tests against a one-node cluster: exact bytes in, exact bytes out, for the
//! protocol edge cases client libraries hide. Expected bytes are what Redis 7 sends (checked
//! against redis-server 7.0.15).

use std::time::Duration;

use cluster_tests::{Frame, RespClient, TestCluster};

/// Gap between the single bytes of a split request: long enough that the server sees them in
/// separate reads, so its parser must resume mid-request. Traffic shaping, not a wait for state.
const BYTE_GAP: Duration = Duration::from_millis(2);

/// Sends `request` on a new connection and reads one reply's exact bytes.
#[track_caller]
fn must_exchange(cluster: &TestCluster, request: &[u8]) -> Vec<u8> {
    let mut client = cluster.client(1);
    client.must_send_raw(request);
    client.read_raw().unwrap_or_else(|e| panic!("reply to {}: {e}", cluster_tests::client::escape(request)))
}

/// Reads exactly `expected.len()` bytes' worth of replies and compares them as text, so a
/// mismatch shows readable escapes.
#[track_caller]
fn assert_replies(client: &mut RespClient, expected: &[u8]) {
    let mut got = Vec::new();
    while got.len() < expected.len() {
        let reply = client.read_raw().unwrap_or_else(|e| panic!("after {:?}: {e}", String::from_utf8_lossy(&got)));
        got.extend(reply);
    }
    assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(expected));
}

/// Goal: PING answers with Redis's exact bytes, with and without an argument.
/// Method: multibulk PING and PING with a message; compare the raw replies.
#[test]
fn ping_replies_with_the_exact_bytes_redis_sends() {
    let cluster = TestCluster::start(1);
    assert_eq!(must_exchange(&cluster, b"*1\r\n$4\r\nPING\r\n"), b"+PONG\r\n");
    assert_eq!(must_exchange(&cluster, b"*2\r\n$4\r\nPING\r\n$5\r\nhello\r\n"), b"$5\r\nhello\r\n");
}

/// Goal: inline commands are split like redis-cli input: quotes, bare LF, empty lines skipped.
/// Method: send inline ECHO/SET/GET with double and single quotes in one write and compare
/// every reply; an empty line before PING produces no reply of its own.
#[test]
fn inline_commands_are_split_like_redis_does() {
    let cluster = TestCluster::start(1);
    let mut client = cluster.client(1);
    client.must_send_raw(b"PING\r\nECHO \"a b\"\r\nSET ik 'x y'\r\nGET ik\n\r\nPING\r\n");
    assert_replies(&mut client, b"+PONG\r\n$3\r\na b\r\n+OK\r\n$3\r\nx y\r\n+PONG\r\n");
}

/// Goal: 100 commands written at once get 100 replies in order, and each GET sees the SET
/// pipelined before it (read-your-writes within a connection).
/// Method: one write of 50 SET/GET pairs on the same key with changing values; compare bytes.
#[test]
fn a_hundred_pipelined_commands_get_their_replies_in_order() {
    let cluster = TestCluster::start(1);
    let mut client = cluster.client(1);
    let mut request = Vec::new();
    let mut expected = Vec::new();
    for i in 0..50 {
        let value = format!("value-{i}");
        request.extend(format!("*3\r\n$3\r\nSET\r\n$2\r\npk\r\n${}\r\n{value}\r\n", value.len()).as_bytes());
        request.extend(b"*2\r\n$3\r\nGET\r\n$2\r\npk\r\n");
        expected.extend(b"+OK\r\n");
        expected.extend(format!("${}\r\n{value}\r\n", value.len()).as_bytes());
    }
    client.must_send_raw(&request);
    assert_replies(&mut client, &expected);
}

/// Goal: a request that arrives one byte at a time is reassembled.
/// Method: write `*1\r\n$4\r\nPING\r\n`, then a SET, a byte per write with a short gap; expect
/// exactly one reply each.
#[test]
fn a_request_split_into_single_bytes_is_reassembled() {
    let cluster = TestCluster::start(1);
    let mut client = cluster.client(1);
    for request in [&b"*1\r\n$4\r\nPING\r\n"[..], b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv1\r\n"] {
        for byte in request {
            client.must_send_raw(&[*byte]);
            std::thread::sleep(BYTE_GAP);
        }
    }
    assert_replies(&mut client, b"+PONG\r\n+OK\r\n");
    assert_eq!(client.must_cmd(&["GET", "k"]), Frame::bulk("v1"));
}

/// Goal: a malformed multibulk header gets Redis's protocol error, then the connection closes.
/// Method: send `*abc\r\n` and read until EOF.
#[test]
fn a_malformed_multibulk_length_gets_a_protocol_error_and_the_connection_closes() {
    let cluster = TestCluster::start(1);
    let mut client = cluster.client(1);
    client.must_send_raw(b"*abc\r\n");
    let all = client.read_until_closed().expect("the server closes the connection");
    assert_eq!(String::from_utf8_lossy(&all), "-ERR Protocol error: invalid multibulk length\r\n");
}

/// Goal: an unknown command is an ordinary error; the connection stays usable.
/// Method: send FOOBAR with an argument, then PING on the same connection.
#[test]
fn an_unknown_command_gets_an_error_and_the_connection_stays_open() {
    let cluster = TestCluster::start(1);
    let mut client = cluster.client(1);
    client.must_send_raw(b"*2\r\n$6\r\nFOOBAR\r\n$1\r\na\r\n");
    assert_replies(&mut client, b"-ERR unknown command 'FOOBAR', with args beginning with: 'a' \r\n");
    assert_eq!(client.must_cmd(&["PING"]), Frame::simple("PONG"));
}

/// Goal: a bulk length above 512 MiB, or an array count above 2^31-1, is refused up front
/// (no allocation, no waiting for the payload) and closes the connection.
/// Method: send each header alone and read until EOF.
#[test]
fn huge_declared_lengths_are_rejected_and_close_the_connection() {
    let cluster = TestCluster::start(1);
    let cases: [(&[u8], &str); 3] = [
        (b"*1\r\n$1000000000000\r\n", "-ERR Protocol error: invalid bulk length\r\n"),
        (b"*1\r\n$536870913\r\n", "-ERR Protocol error: invalid bulk length\r\n"),
        (b"*2147483648\r\n", "-ERR Protocol error: invalid multibulk length\r\n"),
    ];
    for (request, expected) in cases {
        let mut client = cluster.client(1);
        client.must_send_raw(request);
        let all = client.read_until_closed().expect("the server closes the connection");
        assert_eq!(String::from_utf8_lossy(&all), expected, "reply to {}", String::from_utf8_lossy(request));
    }
}

/// Goal: HELLO 3 switches the connection to RESP3 and answers with a map; HELLO 2 switches back.
/// Method: HELLO 3 must start with `%` and hold server=redis and proto=3; a missing key is then
/// `_`; after HELLO 2 it is `$-1` again.
#[test]
fn hello_3_returns_a_map_and_switches_the_connection_to_resp3() {
    let cluster = TestCluster::start(1);
    let mut client = cluster.client(1);
    let raw = client.must_cmd_raw(&["HELLO", "3"]);
    assert_eq!(raw.first(), Some(&b'%'), "HELLO 3 reply: {}", String::from_utf8_lossy(&raw));
    let parsed = resp::parse_frame(&raw, &resp::Limits::default());
    let Ok(Some((frame, _))) = parsed else { panic!("HELLO 3 reply does not parse: {parsed:?}") };
    let Frame::Map(pairs) = frame else { panic!("HELLO 3 is not a map: {frame:?}") };
    let field = |name: &str| pairs.iter().find(|(k, _)| *k == Frame::bulk(name.to_string())).map(|(_, v)| v.clone());
    assert_eq!(field("server"), Some(Frame::bulk("redis")));
    assert_eq!(field("proto"), Some(Frame::Integer(3)));
    assert_eq!(client.must_cmd_raw(&["GET", "missing"]), b"_\r\n");

    let raw = client.must_cmd_raw(&["HELLO", "2"]);
    assert_eq!(raw.first(), Some(&b'*'), "HELLO 2 reply: {}", String::from_utf8_lossy(&raw));
    assert_eq!(client.must_cmd_raw(&["GET", "missing"]), b"$-1\r\n");
}
