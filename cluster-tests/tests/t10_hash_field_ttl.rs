//! Hash field expiry (Redis 7.4's HEXPIRE family) on a 3-node cluster: the expiry a relative
//! HPEXPIRE sets is the same absolute time on every replica, expired fields vanish from every
//! node's view, and the leader's background reclaim deletes them on every node alike.

use cluster_tests::harness::{NodeId, APPLY_DEADLINE};
use cluster_tests::{eventually, Frame, RespClient, TestCluster};

const TTL_MS: u64 = 1500;
const FIELDS: usize = 60;

fn field(i: usize) -> String {
    format!("f{i:03}")
}

/// A reply's bulk strings, sorted (HGETALL's order is the storage's, the same on every node,
/// but the test should not depend on it).
fn sorted_bulks(frame: &Frame) -> Vec<Vec<u8>> {
    let items = match frame {
        Frame::Array(items) => items.clone(),
        Frame::Map(pairs) => pairs.iter().flat_map(|(k, v)| [k.clone(), v.clone()]).collect(),
        other => panic!("not an array or map: {other:?}"),
    };
    let mut out: Vec<Vec<u8>> = items
        .iter()
        .map(|f| match f {
            Frame::Bulk(b) => b.to_vec(),
            other => panic!("not a bulk: {other:?}"),
        })
        .collect();
    out.sort();
    out
}

fn int(frame: &Frame) -> i64 {
    match frame {
        Frame::Integer(n) => *n,
        other => panic!("not an integer: {other:?}"),
    }
}

/// Goal: field TTLs are deterministic across replicas and expired fields are reclaimed on every
/// node.
/// Method: on the leader, fill `h:part` with 60 fields and give the first 40 a 1.5 s TTL and one
/// more a long one, and give both fields of `h:all` the short TTL. After every node applied
/// that, HPEXPIRETIME must agree on every node (the leader's clock in the entry, not each
/// node's). Then wait, reading each node with READONLY: the 40 fields disappear from HLEN and
/// HGETALL, identically on all nodes, and `h:all` disappears from DBSIZE, which counts stored
/// keys: only the leader's reclaim entry deletes a hash whose fields expired, so DBSIZE 1
/// everywhere shows the reclaim was applied on every replica.
#[test]
fn field_ttls_expire_and_are_reclaimed_identically_on_every_node() {
    let cluster = TestCluster::start(3);
    let leader = cluster.leader();

    eprintln!("--- fill two hashes and give their fields TTLs on the leader");
    let mut hset: Vec<String> = vec!["HSET".into(), "h:part".into()];
    for i in 0..FIELDS {
        hset.push(field(i));
        hset.push(format!("v{i}"));
    }
    assert_eq!(cluster.cmd(leader, &hset), Frame::Integer(FIELDS as i64));
    assert_eq!(cluster.cmd(leader, &["HSET", "h:all", "a", "1", "b", "2"]), Frame::Integer(2));
    let expiring = FIELDS * 2 / 3;
    let mut hpexpire: Vec<String> =
        vec!["HPEXPIRE".into(), "h:part".into(), TTL_MS.to_string(), "FIELDS".into(), expiring.to_string()];
    hpexpire.extend((0..expiring).map(field));
    assert_eq!(cluster.cmd(leader, &hpexpire), Frame::Array(vec![Frame::Integer(1); expiring]));
    let reply = cluster.cmd(leader, &["HEXPIRE", "h:part", "3600", "FIELDS", "1", &field(FIELDS - 1)]);
    assert_eq!(reply, Frame::Array(vec![Frame::Integer(1)]));
    let reply = cluster.cmd(leader, &["HPEXPIRE", "h:all", &TTL_MS.to_string(), "FIELDS", "2", "a", "b"]);
    assert_eq!(reply, Frame::Array(vec![Frame::Integer(1), Frame::Integer(1)]));
    let commit = cluster.info_u64(leader, "raft_commit_index");
    cluster.wait_applied_everywhere(commit);

    let mut clients: Vec<(NodeId, RespClient)> =
        cluster.ids().into_iter().map(|id| (id, cluster.readonly_client(id))).collect();

    eprintln!("--- every node stores the same absolute expiries");
    // f059's expiry was relative (HEXPIRE 3600): each replica turned it into the same time.
    let probe = ["HPEXPIRETIME", "h:part", "FIELDS", "2", "f059", "f050"];
    let expected = clients[0].1.must_cmd(&probe);
    let Frame::Array(times) = &expected else { panic!("HPEXPIRETIME: {expected:?}") };
    assert!(int(&times[0]) > 1_600_000_000_000, "{expected:?}");
    assert_eq!(times[1], Frame::Integer(-1), "f050 has no TTL");
    for (id, client) in &mut clients {
        assert_eq!(client.must_cmd(&probe), expected, "HPEXPIRETIME on node {id}");
    }

    eprintln!("--- the expired fields vanish on every node");
    for (id, client) in &mut clients {
        eventually(APPLY_DEADLINE, &format!("HLEN h:part drops on node {id}"), || {
            let len = int(&client.must_cmd(&["HLEN", "h:part"]));
            assert!(len == FIELDS as i64 || len == (FIELDS - expiring) as i64, "node {id}: HLEN {len}");
            (len == (FIELDS - expiring) as i64).then_some(())
        });
        let reply = client.must_cmd(&["HTTL", "h:part", "FIELDS", "2", "f000", "f059"]);
        let Frame::Array(ttls) = &reply else { panic!("HTTL on node {id}: {reply:?}") };
        assert_eq!(ttls[0], Frame::Integer(-2), "node {id}");
        assert!((1..=3600).contains(&int(&ttls[1])), "node {id}: {reply:?}");
    }

    eprintln!("--- the leader reclaims h:all: DBSIZE 1 on every node");
    for (id, client) in &mut clients {
        eventually(APPLY_DEADLINE, &format!("DBSIZE 1 on node {id}"), || {
            (client.must_cmd(&["DBSIZE"]) == Frame::Integer(1)).then_some(())
        });
        assert_eq!(client.must_cmd(&["EXISTS", "h:all"]), Frame::Integer(0), "node {id}");
    }

    eprintln!("--- after every node applied the leader's log, every node has the same hash");
    let commit = cluster.info_u64(leader, "raft_commit_index");
    cluster.wait_applied_everywhere(commit);
    let mut expected: Vec<Vec<u8>> = Vec::new();
    for i in expiring..FIELDS {
        expected.push(field(i).into_bytes());
        expected.push(format!("v{i}").into_bytes());
    }
    expected.sort();
    for (id, client) in &mut clients {
        assert_eq!(sorted_bulks(&client.must_cmd(&["HGETALL", "h:part"])), expected, "HGETALL on node {id}");
        assert_eq!(client.must_cmd(&["HLEN", "h:part"]), Frame::Integer((FIELDS - expiring) as i64), "node {id}");
        assert_eq!(client.must_cmd(&["OBJECT", "ENCODING", "h:part"]), Frame::bulk("listpackex"), "node {id}");
    }
}
