use resp::{Frame, RespVersion};

use super::*;

fn member(id: u64, role: Role, myself: bool) -> Member {
    Member {
        id,
        host: "127.0.0.1".into(),
        port: 6378 + id as u16,
        cport: 16378 + id as u16,
        role,
        myself,
        offset: 10 * id,
        linked: true,
    }
}

/// Three nodes, node 2 leads, seen from `me`.
fn three(me: u64) -> View {
    let members = (1..=3).map(|id| member(id, if id == 2 { Role::Primary } else { Role::Replica }, id == me)).collect();
    View::new(members, Some(2), 7)
}

#[test]
fn node_names_are_forty_hex_digits_and_the_shard_id_is_not_one() {
    assert_eq!(node_name(1), "0000000000000000000000000000000000000001");
    assert_eq!(node_name(u64::MAX).len(), 40);
    assert_eq!(SHARD_ID.len(), 40);
    assert!(SHARD_ID.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(!SHARD_ID.starts_with(&"0".repeat(24)));
}

#[test]
fn the_primary_is_listed_first() {
    let view = three(1);
    assert_eq!(view.members.iter().map(|m| m.id).collect::<Vec<_>>(), [2, 1, 3]);
    assert_eq!(view.primary().map(|m| m.id), Some(2));
    assert_eq!(view.replicas().count(), 2);
}

#[test]
fn nodes_lines_have_redis_fields() {
    let view = three(2);
    assert_eq!(
        nodes_text(&view),
        "0000000000000000000000000000000000000002 127.0.0.1:6380@16380 myself,master - 0 0 7 connected 0-16383\n\
         0000000000000000000000000000000000000001 127.0.0.1:6379@16379 slave 0000000000000000000000000000000000000002 0 0 7 connected\n\
         0000000000000000000000000000000000000003 127.0.0.1:6381@16381 slave 0000000000000000000000000000000000000002 0 0 7 connected\n"
    );
    let mut lost = member(3, Role::Replica, false);
    lost.linked = false;
    assert!(nodes_line(&view, &lost).ends_with(" disconnected"));
}

#[test]
fn without_a_leader_there_are_masters_without_slots() {
    let view = View::new(vec![member(1, Role::Orphan, true), member(2, Role::Orphan, false)], None, 3);
    assert_eq!(
        nodes_line(&view, &view.members[0]),
        "0000000000000000000000000000000000000001 127.0.0.1:6379@16379 myself,master - 0 0 3 connected"
    );
    assert_eq!(slots_reply(&view), Frame::Array(vec![]));
    let info = info_text(&view);
    assert!(info.starts_with("cluster_state:fail\r\ncluster_slots_assigned:0\r\n"));
    assert!(info.contains("cluster_size:0\r\n"));
}

#[test]
fn info_reports_one_shard_and_the_term_as_epochs() {
    let info = info_text(&three(1));
    assert!(info.starts_with("cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\n"));
    assert!(info
        .contains("\r\ncluster_known_nodes:3\r\ncluster_size:1\r\ncluster_current_epoch:7\r\ncluster_my_epoch:7\r\n"));
    assert!(info.ends_with("total_cluster_links_buffer_limit_exceeded:0\r\n"));
}

#[test]
fn slots_reply_matches_redis_7_shape() {
    let view = View::new(vec![member(1, Role::Primary, true)], Some(1), 1);
    // Captured from a one-node Redis 7 cluster (empty ip, port 7792), with
    // our address and id in their places.
    let expected: &[u8] = b"*1\r\n*3\r\n:0\r\n:16383\r\n*4\r\n$9\r\n127.0.0.1\r\n:6379\r\n$40\r\n0000000000000000000000000000000000000001\r\n%0\r\n";
    assert_eq!(&slots_reply(&view).to_bytes(RespVersion::Resp3)[..], expected);
    let Frame::Array(ranges) = slots_reply(&three(1)) else { panic!("array") };
    let Frame::Array(range) = &ranges[0] else { panic!("array") };
    assert_eq!(range.len(), 5, "start, end, primary, two replicas");
}

#[test]
fn shards_reply_lists_slots_and_nodes() {
    let Frame::Array(shards) = shards_reply(&three(1)) else { panic!("array") };
    let Frame::Map(shard) = &shards[0] else { panic!("map") };
    assert_eq!(shard[0], (Frame::bulk("slots"), Frame::Array(vec![Frame::Integer(0), Frame::Integer(16383)])));
    let Frame::Array(nodes) = &shard[1].1 else { panic!("array") };
    let Frame::Map(primary) = &nodes[0] else { panic!("map") };
    let keys: Vec<&Frame> = primary.iter().map(|(k, _)| k).collect();
    let names = ["id", "port", "ip", "endpoint", "role", "replication-offset", "health"];
    assert_eq!(keys, names.iter().map(|n| Frame::bulk(*n)).collect::<Vec<_>>().iter().collect::<Vec<_>>());
    assert_eq!(primary[4].1, Frame::bulk("master"));
    let Frame::Map(replica) = &nodes[1] else { panic!("map") };
    assert_eq!(replica[4].1, Frame::bulk("replica"));
}

#[test]
fn replicas_needs_a_known_master() {
    let view = three(1);
    let Frame::Array(lines) = replicas_reply(&view, node_name(2).as_bytes()).unwrap() else { panic!("array") };
    assert_eq!(lines.len(), 2);
    assert!(matches!(&lines[0], Frame::Bulk(l) if !l.ends_with(b"\n")));
    assert_eq!(replicas_reply(&view, b"abc").unwrap_err().to_string(), "ERR Unknown node abc");
    assert_eq!(
        replicas_reply(&view, node_name(1).as_bytes()).unwrap_err().to_string(),
        "ERR The specified node is not a master"
    );
}

#[test]
fn slots_are_checked_like_redis() {
    assert_eq!(parse_slot(b"16383", "Invalid slot").unwrap(), 16383);
    assert_eq!(parse_slot(b"16384", "Invalid slot").unwrap_err().to_string(), "ERR Invalid slot");
    assert_eq!(parse_slot(b"-1", "Invalid slot").unwrap_err().to_string(), "ERR Invalid slot");
    assert_eq!(parse_slot(b"abc", "Invalid slot").unwrap_err(), CommandError::NotInteger);
}
