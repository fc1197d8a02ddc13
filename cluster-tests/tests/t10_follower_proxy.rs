//! `--follower-mode proxy`: a follower forwards what must run on the leader.
//!
//! Goal: a client that only knows a follower gets the leader's replies,
//! for writes and for linearizable reads, in its own protocol version and
//! selected database. Method: a three-node cluster started with
//! `--follower-mode proxy`; every command goes to one follower.

use bytes::Bytes;
use cluster_tests::harness::TestCluster;
use resp::Frame;

#[test]
fn a_follower_in_proxy_mode_relays_writes_and_reads_to_the_leader() {
    let cluster = TestCluster::start_with_flags(3, &["--follower-mode", "proxy"]);
    let leader = cluster.leader();
    let follower = cluster.ids().into_iter().find(|id| *id != leader).expect("a follower");
    let mut client = cluster.client(follower);

    eprintln!("--- writes and reads through follower {follower}");
    assert_eq!(client.must_cmd(&["SET", "proxied", "v1"]), Frame::Simple("OK".into()));
    assert_eq!(client.must_cmd(&["GET", "proxied"]), Frame::Bulk(Bytes::from_static(b"v1")));
    assert_eq!(client.must_cmd(&["INCR", "n"]), Frame::Integer(1));
    assert_eq!(cluster.must_get(leader, "proxied"), Some(Bytes::from_static(b"v1")));

    eprintln!("--- the selected database follows the client");
    assert_eq!(client.must_cmd(&["SELECT", "3"]), Frame::Simple("OK".into()));
    assert_eq!(client.must_cmd(&["GET", "proxied"]), Frame::Null);
    assert_eq!(client.must_cmd(&["SET", "proxied", "in-db-3"]), Frame::Simple("OK".into()));
    assert_eq!(client.must_cmd(&["SELECT", "0"]), Frame::Simple("OK".into()));
    assert_eq!(client.must_cmd(&["GET", "proxied"]), Frame::Bulk(Bytes::from_static(b"v1")));

    eprintln!("--- and so does the protocol version");
    let hello = client.must_cmd(&["HELLO", "3"]);
    assert!(matches!(hello, Frame::Map(_)), "HELLO 3 replies with a map, got {hello:?}");
    assert_eq!(client.must_cmd(&["GET", "missing"]), Frame::Null);
    assert_eq!(client.must_cmd(&["GET", "proxied"]), Frame::Bulk(Bytes::from_static(b"v1")));
}
