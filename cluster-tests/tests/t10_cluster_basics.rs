//! Basic behaviour of a healthy 3-node cluster: election, routing of writes and reads, the
//! cluster topology clients see, a real cluster client, and expiry on every node.

use std::time::{Duration, Instant};

use cluster_tests::client::error_text;
use cluster_tests::harness::{info_number, NodeId, APPLY_DEADLINE};
use cluster_tests::{eventually, Frame, Reply, RespClient, TestCluster};

/// The key slot Redis Cluster assigns to a key without a hash tag: CRC16 (XMODEM) mod 16384.
fn key_slot(key: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in key {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    crc % 16384
}

fn followers(cluster: &TestCluster, leader: NodeId) -> Vec<NodeId> {
    cluster.ids().into_iter().filter(|&id| id != leader).collect()
}

/// Goal: a fresh cluster elects exactly one leader, and every node agrees on it and on the
/// membership.
/// Method: start 3 nodes (start waits for one leader named by all in one term), then check
/// each node's INFO raft: its own id, the voters 1,2,3, one leader and two followers.
#[test]
fn a_fresh_cluster_elects_exactly_one_leader_that_every_node_names() {
    let cluster = TestCluster::start(3);
    let leader = cluster.leader();
    eprintln!("--- leader is node {leader}; checking every node's INFO raft");
    let mut leaders = 0;
    for id in cluster.ids() {
        let info = cluster.info_raft(id);
        assert_eq!(info_number(&info, "raft_node_id"), Some(id), "node {id}: {info:?}");
        assert_eq!(info.get("raft_leader_id"), Some(&leader.to_string()), "node {id}: {info:?}");
        assert_eq!(info.get("raft_voters").map(String::as_str), Some("1,2,3"), "node {id}: {info:?}");
        let role = info.get("raft_role").map(String::as_str);
        if id == leader {
            leaders += 1;
            assert_eq!(role, Some("leader"), "node {id}: {info:?}");
        } else {
            assert_eq!(role, Some("follower"), "node {id}: {info:?}");
        }
        let applied = info_number(&info, "raft_applied_index").expect("raft_applied_index");
        let committed = info_number(&info, "raft_commit_index").expect("raft_commit_index");
        let last_log = info_number(&info, "raft_last_log_index").expect("raft_last_log_index");
        assert!(applied <= committed, "node {id}: applied {applied} > committed {committed}");
        assert!(committed <= last_log, "node {id}: committed {committed} > last log {last_log}");
    }
    assert_eq!(leaders, 1);
}

/// Goal: clients that ask any node for the topology are sent to the leader.
/// Method: CLUSTER SLOTS on every node must list one range 0-16383 whose master is the
/// leader's client address.
#[test]
fn cluster_slots_on_every_node_name_the_leader_as_master_of_all_slots() {
    let cluster = TestCluster::start(3);
    let leader = cluster.leader();
    let leader_addr = cluster.addr(leader);
    let leader_port: i64 = leader_addr.rsplit(':').next().and_then(|p| p.parse().ok()).expect("a port in the address");
    for id in cluster.ids() {
        let reply = cluster.cmd(id, &["CLUSTER", "SLOTS"]);
        let Frame::Array(ranges) = &reply else { panic!("CLUSTER SLOTS on node {id}: {reply:?}") };
        assert_eq!(ranges.len(), 1, "one slot range on node {id}: {reply:?}");
        let Frame::Array(range) = &ranges[0] else { panic!("CLUSTER SLOTS on node {id}: {reply:?}") };
        assert_eq!(range.first(), Some(&Frame::Integer(0)), "node {id}: {reply:?}");
        assert_eq!(range.get(1), Some(&Frame::Integer(16383)), "node {id}: {reply:?}");
        let Some(Frame::Array(master)) = range.get(2) else { panic!("no master on node {id}: {reply:?}") };
        assert_eq!(master.first(), Some(&Frame::bulk("127.0.0.1")), "node {id}: {reply:?}");
        assert_eq!(master.get(1), Some(&Frame::Integer(leader_port)), "node {id}: {reply:?}");
    }
}

/// Goal: a write can be sent to any node and is then readable from every node.
/// Method: SET on a follower must answer `MOVED <slot of k> <leader address>`; repeating it
/// there succeeds; GET following redirects from every node returns the value; a plain GET on a
/// follower is redirected too; a READONLY connection on each follower reads the value once the
/// follower has applied the leader's commit index.
#[test]
fn writes_through_any_node_are_readable_from_all() {
    let cluster = TestCluster::start(3);
    let leader = cluster.leader();
    let follower = followers(&cluster, leader)[0];
    let slot = key_slot(b"greeting");

    eprintln!("--- SET on follower {follower} is redirected to leader {leader}");
    let reply = cluster.cmd(follower, &["SET", "greeting", "hello"]);
    let expected = format!("MOVED {slot} {}", cluster.addr(leader));
    assert_eq!(error_text(&reply).as_deref(), Some(expected.as_str()), "SET on follower {follower}");

    eprintln!("--- following the redirect");
    let Reply::Moved(target) = Reply::classify(Ok(reply)) else { unreachable!("checked above") };
    let reply = RespClient::must_connect(&target).must_cmd(&["SET", "greeting", "hello"]);
    assert_eq!(reply, Frame::ok(), "SET on the leader at {target}");

    eprintln!("--- GET with redirects from every node");
    for id in cluster.ids() {
        let reply = cluster.cmd_following(id, &["GET", "greeting"]).expect("GET following redirects");
        assert_eq!(reply, Frame::bulk("hello"), "GET through node {id}");
    }

    eprintln!("--- a plain GET on a follower is redirected");
    let reply = cluster.cmd(follower, &["GET", "greeting"]);
    assert_eq!(error_text(&reply).as_deref(), Some(expected.as_str()), "GET on follower {follower}");

    eprintln!("--- READONLY reads on each follower once it applied the commit index");
    let commit = cluster.info_u64(leader, "raft_commit_index");
    for id in followers(&cluster, leader) {
        let mut client = cluster.readonly_client(id);
        cluster.wait_applied_on(&[id], commit);
        assert_eq!(client.must_cmd(&["GET", "greeting"]), Frame::bulk("hello"), "READONLY GET on node {id}");
    }
}

/// Goal: a real Redis Cluster client (redis-rs) finds the leader from any node and its writes
/// land there.
/// Method: for each node as the only seed, a redis-rs `ClusterClient` SETs and GETs 20 keys
/// (spread over many slots); then a plain connection to the leader, without redirects, reads
/// every key.
#[test]
fn redis_rs_cluster_client_routes_writes_to_the_leader_from_any_seed_node() {
    let cluster = TestCluster::start(3);
    let leader = cluster.leader();
    let mut written = Vec::new();
    for seed in cluster.ids() {
        eprintln!("--- redis-rs cluster client seeded with node {seed}");
        let client = redis::cluster::ClusterClient::new(vec![format!("redis://{}/", cluster.addr(seed))])
            .expect("building the cluster client");
        let mut conn = client.get_connection().unwrap_or_else(|e| panic!("cluster connection via node {seed}: {e}"));
        for i in 0..20 {
            let (key, value) = (format!("rs:{seed}:{i}"), format!("value-{seed}-{i}"));
            let reply: String = redis::cmd("SET")
                .arg(&key)
                .arg(&value)
                .query(&mut conn)
                .unwrap_or_else(|e| panic!("redis-rs SET {key} via seed {seed}: {e}"));
            assert_eq!(reply, "OK");
            let got: Option<String> =
                redis::cmd("GET").arg(&key).query(&mut conn).unwrap_or_else(|e| panic!("redis-rs GET {key}: {e}"));
            assert_eq!(got.as_deref(), Some(value.as_str()), "redis-rs GET {key}");
            written.push((key, value));
        }
    }
    eprintln!("--- every key is on the leader");
    let mut direct = cluster.client(leader);
    for (key, value) in &written {
        assert_eq!(direct.must_cmd(&["GET", key]), Frame::bulk(value.clone()), "GET {key} on the leader");
    }
}

/// Goal: expiry is the same on every node: the TTL counts down everywhere and the key disappears
/// everywhere, and the leader's purge removes it from every node's keyspace.
/// Method: SET k v PX 1500 through the leader; READONLY connections to every node read PTTL
/// (positive and at most 1500 while the TTL can still be running, then lower), then wait for
/// PTTL -2 and GET null on every node, then DBSIZE 0 on every node.
#[test]
fn expiry_counts_down_and_removes_the_key_on_every_node() {
    const TTL_MS: i64 = 1500;
    let cluster = TestCluster::start(3);
    let leader = cluster.leader();
    let set_at = Instant::now();
    let reply = cluster.cmd(leader, &["SET", "ttl:k", "v", "PX", &TTL_MS.to_string()]);
    assert_eq!(reply, Frame::ok(), "SET PX on the leader");
    let commit = cluster.info_u64(leader, "raft_commit_index");
    cluster.wait_applied_everywhere(commit);
    let mut clients: Vec<(NodeId, RespClient)> =
        cluster.ids().into_iter().map(|id| (id, cluster.readonly_client(id))).collect();
    // Every node has applied the SET, so -2 means "expired", which must not happen before the
    // TTL has run (the leader fixed the deadline after `set_at`, on the same clock).
    let pttl = |id: NodeId, client: &mut RespClient| match client.must_cmd(&["PTTL", "ttl:k"]) {
        Frame::Integer(-2) => {
            let elapsed = set_at.elapsed();
            assert!(elapsed >= Duration::from_millis(TTL_MS as u64 - 50), "node {id}: gone after {elapsed:?}");
            -2
        }
        Frame::Integer(ms) => ms,
        other => panic!("PTTL on node {id}: {other:?}"),
    };

    eprintln!("--- PTTL counts down on every node");
    for (id, client) in &mut clients {
        let read_before = set_at.elapsed();
        let first = pttl(*id, client);
        // A reading may legitimately be -2 only if the TTL could have run out by then: a loaded
        // machine may take that long to get here.
        if read_before < Duration::from_millis(TTL_MS as u64 - 200) {
            assert!((1..=TTL_MS).contains(&first), "node {id}: PTTL {first} at {read_before:?} after SET");
        }
        eventually(APPLY_DEADLINE, &format!("PTTL on node {id} falls below {first}"), || {
            let now = pttl(*id, client);
            assert!(now == -2 || (0..=TTL_MS).contains(&now), "node {id}: PTTL {now}");
            (now < first || now == -2).then_some(())
        });
    }

    eprintln!("--- the key is gone on every node");
    for (id, client) in &mut clients {
        eventually(APPLY_DEADLINE, &format!("PTTL -2 on node {id}"), || (pttl(*id, client) == -2).then_some(()));
        assert_eq!(client.must_cmd(&["GET", "ttl:k"]), Frame::Null, "GET of the expired key on node {id}");
    }

    eprintln!("--- the leader purges it: DBSIZE 0 everywhere");
    for (id, client) in &mut clients {
        eventually(APPLY_DEADLINE, &format!("DBSIZE 0 on node {id}"), || {
            (client.must_cmd(&["DBSIZE"]) == Frame::Integer(0)).then_some(())
        });
    }
}

/// Goal: CLUSTER FAILOVER is the leader-change fault hook: on a replica it starts an election
/// that ends the current term, on the leader it is refused with Redis's error.
/// Method: the leader and a bad option are refused; FAILOVER on a replica answers +OK; wait for
/// an agreed leader in a later term; a write then still succeeds.
#[test]
fn cluster_failover_on_a_replica_ends_the_term_and_the_leader_refuses_it() {
    let cluster = TestCluster::start(3);
    let leader = cluster.leader();
    let term = cluster.info_u64(leader, "raft_term");
    let refused = cluster.cmd(leader, &["CLUSTER", "FAILOVER"]);
    assert_eq!(error_text(&refused).as_deref(), Some("ERR You should send CLUSTER FAILOVER to a replica"));
    let replica = followers(&cluster, leader)[0];
    let bad = cluster.cmd(replica, &["CLUSTER", "FAILOVER", "SOON"]);
    assert_eq!(error_text(&bad).as_deref(), Some("ERR syntax error"));
    eprintln!("--- CLUSTER FAILOVER on replica {replica} (leader {leader}, term {term})");
    assert_eq!(cluster.cmd(replica, &["CLUSTER", "FAILOVER"]), Frame::ok());
    let later = eventually(APPLY_DEADLINE, "an agreed leader in a later term", || {
        let now = cluster.wait_for_leader(None);
        cluster.try_info_raft(now).and_then(|i| info_number(&i, "raft_term")).filter(|&t| t > term).map(|t| (now, t))
    });
    eprintln!("--- node {} leads in term {}", later.0, later.1);
    cluster.must_set(replica, "after-failover", "1");
}

/// Goal: DEBUG is refused by default with Redis 7's exact error, like `enable-debug-command no`.
/// Method: a default node refuses DEBUG HELP and DEBUG FSYNC-DELAY, and CONFIG GET shows "no".
#[test]
fn debug_is_refused_unless_the_server_enables_it() {
    let cluster = TestCluster::start(1);
    let expected = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can \
                    run it from a local connection, otherwise you need to set this option in the configuration \
                    file, and then restart the server.";
    for args in [&["DEBUG", "HELP"][..], &["DEBUG", "FSYNC-DELAY", "100"]] {
        assert_eq!(error_text(&cluster.cmd(1, args)).as_deref(), Some(expected), "{args:?}");
    }
    let config = cluster.cmd(1, &["CONFIG", "GET", "enable-debug-command"]);
    assert_eq!(config, Frame::Array(vec![Frame::bulk("enable-debug-command"), Frame::bulk("no")]));
}

/// Goal: DEBUG FSYNC-DELAY is the slow-disk fault hook: with it on every node, a write cannot
/// commit before the delay has passed on a quorum; 0 turns it off; bad input gets errors.
/// Method: `--enable-debug-command yes`; check HELP and the errors; set a 400 ms delay on all
/// nodes and time one SET (a lower bound only, which no load can break); reset to 0.
#[test]
fn debug_fsync_delay_slows_synced_writes_until_turned_off() {
    let cluster = TestCluster::start_with_flags(3, &["--enable-debug-command", "yes"]);
    let leader = cluster.leader();
    let Frame::Array(help) = cluster.cmd(leader, &["DEBUG", "HELP"]) else { panic!("DEBUG HELP is not an array") };
    assert!(help.len() > 2);
    let unknown = cluster.cmd(leader, &["DEBUG", "NOSUCH"]);
    assert_eq!(
        error_text(&unknown).as_deref(),
        Some("ERR unknown subcommand or wrong number of arguments for 'NOSUCH'. Try DEBUG HELP.")
    );
    let not_number = cluster.cmd(leader, &["DEBUG", "FSYNC-DELAY", "soon"]);
    assert_eq!(error_text(&not_number).as_deref(), Some("ERR value is not an integer or out of range"));
    let too_long = cluster.cmd(leader, &["DEBUG", "FSYNC-DELAY", "60001"]);
    assert!(error_text(&too_long).is_some_and(|e| e.contains("between 0 and 60000")), "{too_long:?}");

    const DELAY: Duration = Duration::from_millis(400);
    for id in cluster.ids() {
        assert_eq!(cluster.cmd(id, &["DEBUG", "FSYNC-DELAY", &DELAY.as_millis().to_string()]), Frame::ok());
    }
    let started = Instant::now();
    assert_eq!(cluster.cmd(leader, &["SET", "slow-disk", "1"]), Frame::ok());
    let took = started.elapsed();
    eprintln!("--- SET with a {DELAY:?} fsync delay on every node took {took:?}");
    assert!(took >= DELAY, "a SET committed in {took:?}, before any synced write could finish");
    for id in cluster.ids() {
        assert_eq!(cluster.cmd(id, &["DEBUG", "FSYNC-DELAY", "0"]), Frame::ok());
    }
    cluster.must_set(leader, "fast-disk", "1");
}
