//! MULTI/EXEC and WATCH across the cluster.
//!
//! Goal: an EXEC is one Raft entry applied atomically, and WATCH is checked
//! when that entry is applied, so a write to a watched key through any node
//! (here: a second connection, through a follower with redirects followed)
//! aborts the transaction. Method: a three-node cluster, raw RESP clients,
//! exact replies.

use bytes::Bytes;
use cluster_tests::harness::TestCluster;
use resp::Frame;

fn bulk(text: &str) -> Frame {
    Frame::Bulk(Bytes::copy_from_slice(text.as_bytes()))
}

/// A transaction's commands run together and reply as one array.
#[test]
fn exec_applies_the_queued_commands_atomically_and_replies_with_their_replies() {
    let cluster = TestCluster::start(3);
    let leader = cluster.leader();
    let mut client = cluster.client(leader);
    assert_eq!(client.must_cmd(&["MULTI"]), Frame::Simple("OK".into()));
    assert_eq!(client.must_cmd(&["INCR", "counter"]), Frame::Simple("QUEUED".into()));
    assert_eq!(client.must_cmd(&["INCR", "counter"]), Frame::Simple("QUEUED".into()));
    assert_eq!(client.must_cmd(&["GET", "counter"]), Frame::Simple("QUEUED".into()));
    assert_eq!(client.must_cmd(&["PING"]), Frame::Simple("QUEUED".into()));
    assert_eq!(
        client.must_cmd(&["EXEC"]),
        Frame::Array(vec![Frame::Integer(1), Frame::Integer(2), bulk("2"), Frame::Simple("PONG".into())])
    );
}

/// A write to a watched key from another connection, sent to a follower and
/// redirected to the leader, makes EXEC reply with a null array and apply
/// nothing; an untouched watch lets the next EXEC through.
#[test]
fn a_write_to_a_watched_key_through_another_node_aborts_exec() {
    let cluster = TestCluster::start(3);
    let leader = cluster.leader();
    let follower = cluster.ids().into_iter().find(|id| *id != leader).expect("a follower");
    cluster.must_set(leader, "watched", "before");

    let mut client = cluster.client(leader);
    assert_eq!(client.must_cmd(&["WATCH", "watched"]), Frame::Simple("OK".into()));
    eprintln!("--- another client writes the watched key through node {follower}");
    let other = cluster.cmd_following(follower, &["SET", "watched", "meanwhile"]).expect("redirected write");
    assert_eq!(other, Frame::Simple("OK".into()));
    assert_eq!(client.must_cmd(&["MULTI"]), Frame::Simple("OK".into()));
    assert_eq!(client.must_cmd(&["SET", "watched", "from-exec"]), Frame::Simple("QUEUED".into()));
    assert_eq!(client.must_cmd(&["EXEC"]), Frame::NullArray);
    assert_eq!(cluster.must_get(leader, "watched"), Some(Bytes::from_static(b"meanwhile")));

    eprintln!("--- with nobody else writing, the same transaction goes through");
    assert_eq!(client.must_cmd(&["WATCH", "watched"]), Frame::Simple("OK".into()));
    assert_eq!(client.must_cmd(&["MULTI"]), Frame::Simple("OK".into()));
    assert_eq!(client.must_cmd(&["SET", "watched", "from-exec"]), Frame::Simple("QUEUED".into()));
    assert_eq!(client.must_cmd(&["EXEC"]), Frame::Array(vec![Frame::Simple("OK".into())]));
    assert_eq!(cluster.must_get(leader, "watched"), Some(Bytes::from_static(b"from-exec")));
}

/// An unknown command or a wrong arity while queueing discards the whole
/// transaction at EXEC, as in Redis, and nothing of it is applied.
#[test]
fn a_queueing_error_discards_the_transaction() {
    let cluster = TestCluster::start(3);
    let leader = cluster.leader();
    let mut client = cluster.client(leader);
    assert_eq!(client.must_cmd(&["MULTI"]), Frame::Simple("OK".into()));
    assert_eq!(client.must_cmd(&["SET", "never", "applied"]), Frame::Simple("QUEUED".into()));
    let wrong = client.must_cmd(&["GET"]);
    assert_eq!(wrong, Frame::Error("ERR wrong number of arguments for 'get' command".into()));
    assert_eq!(
        client.must_cmd(&["EXEC"]),
        Frame::Error("EXECABORT Transaction discarded because of previous errors.".into())
    );
    assert_eq!(cluster.must_get(leader, "never"), None);
    assert_eq!(client.must_cmd(&["EXEC"]), Frame::Error("ERR EXEC without MULTI".into()));
    assert_eq!(client.must_cmd(&["DISCARD"]), Frame::Error("ERR DISCARD without MULTI".into()));
}
