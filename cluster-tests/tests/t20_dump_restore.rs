//! DUMP/RESTORE between a real `redis-server` and a 3-node Redraft cluster, both ways.
//!
//! Redis 7.0 (the reference here) writes RDB version 10 and refuses 7.2's 11, which Redraft
//! writes. For the way back, a Redraft payload is relabelled version 10 (new footer, same
//! value) when its object type exists in 7.0; set listpacks (type 20) and 7.2 streams (21)
//! cannot be, and are covered by the node's own tests (`dump::tests_redis`, which transcode).

use cluster_tests::{RedisServer, RespClient, TestCluster};

const CRC64: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);

/// A key's setup (`K` is the key) and the reads compared; `^` reads compare in any order.
struct Case {
    key: &'static str,
    setup: Vec<Vec<String>>,
    reads: Vec<Vec<&'static str>>,
}

fn words(line: &str) -> Vec<String> {
    line.split(' ').map(String::from).collect()
}

fn with_many(prefix: &str, items: impl Iterator<Item = String>) -> Vec<String> {
    let mut out = words(prefix);
    out.extend(items);
    out
}

fn cases() -> Vec<Case> {
    let long = "x".repeat(100);
    let list_reads = vec![vec!["LRANGE", "K", "0", "-1"]];
    let hash_reads = vec![vec!["^HGETALL", "K"]];
    let set_reads = vec![vec!["^SMEMBERS", "K"]];
    let zset_reads = vec![vec!["ZRANGE", "K", "0", "-1", "WITHSCORES"]];
    vec![
        Case { key: "s-small", setup: vec![words("SET K hello")], reads: vec![vec!["GET", "K"]] },
        Case { key: "s-int", setup: vec![words("SET K -123456")], reads: vec![vec!["GET", "K"]] },
        Case {
            key: "s-long",
            setup: vec![vec!["SET".into(), "K".into(), "ab".repeat(60)]],
            reads: vec![vec!["GET", "K"]],
        },
        Case { key: "l-small", setup: vec![words("RPUSH K a 1 -5 300 3.5")], reads: list_reads.clone() },
        Case { key: "l-big", setup: vec![with_many("RPUSH K", (0..3000).map(|i| i.to_string()))], reads: list_reads },
        Case { key: "h-small", setup: vec![words("HSET K f v n 5")], reads: hash_reads.clone() },
        Case {
            key: "h-big",
            setup: vec![with_many("HSET K", (0..600).flat_map(|i| [format!("f{i}"), i.to_string()]))],
            reads: hash_reads,
        },
        Case { key: "set-ints", setup: vec![words("SADD K 3 -1 70000")], reads: set_reads.clone() },
        Case { key: "set-small", setup: vec![words("SADD K a b c")], reads: set_reads.clone() },
        Case { key: "set-big", setup: vec![with_many("SADD K", (0..200).map(|i| format!("m{i}")))], reads: set_reads },
        Case { key: "z-small", setup: vec![words("ZADD K 1 a 2.5 b -inf c +inf d")], reads: zset_reads.clone() },
        Case {
            key: "z-big",
            setup: vec![
                with_many("ZADD K", (0..200).flat_map(|i| [format!("{}", i as f64 / 7.0), format!("m{i}")])),
                vec!["ZADD".into(), "K".into(), "-3".into(), long],
            ],
            reads: zset_reads,
        },
        Case {
            key: "stream",
            setup: vec![
                words("XADD K 1-1 f v"),
                words("XADD K 1-2 f w"),
                words("XADD K 2-0 g 1 h 2"),
                words("XGROUP CREATE K g1 0"),
                words("XREADGROUP GROUP g1 alice COUNT 2 STREAMS K >"),
                words("XDEL K 1-2"),
            ],
            reads: vec![vec!["XRANGE", "K", "-", "+"], vec!["XINFO", "GROUPS", "K"], vec!["XPENDING", "K", "g1"]],
        },
    ]
}

fn with_key(args: &[String], key: &str) -> Vec<String> {
    args.iter().map(|a| if a == "K" { key.to_string() } else { a.clone() }).collect()
}

fn read_args(read: &[&str], key: &str) -> Vec<String> {
    read.iter().map(|a| if *a == "K" { key.to_string() } else { a.trim_start_matches('^').to_string() }).collect()
}

/// A read's reply bytes, canonical when the read is unordered.
fn raw_read(client: &mut RespClient, read: &[&str], key: &str) -> Vec<u8> {
    let reply = client.cmd_raw(&read_args(read, key)).expect("a reply");
    if read[0].starts_with('^') {
        resp::canonical_unordered(&reply).unwrap_or(reply)
    } else {
        reply
    }
}

fn bulk(frame: resp::Frame, what: &str) -> Vec<u8> {
    match frame {
        resp::Frame::Bulk(payload) => payload.to_vec(),
        other => panic!("{what}: {other:?}"),
    }
}

/// The same payload labelled RDB version 10, with a new CRC.
fn as_version_10(payload: &[u8]) -> Vec<u8> {
    let mut out = payload[..payload.len() - 10].to_vec();
    out.extend_from_slice(&10u16.to_le_bytes());
    let crc = CRC64.checksum(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Goal: values made in Redis restore into the cluster with the same contents, and values
/// made in the cluster restore into Redis with the same contents.
/// Method: for every case, DUMP from Redis and RESTORE into the leader, then compare reads byte
/// for byte; then build the value on the cluster, DUMP it, relabel it version 10 where 7.0
/// knows the object type, RESTORE it into Redis and compare the reads again.
#[test]
fn dumps_restore_between_redis_and_the_cluster_both_ways() {
    let redis = RedisServer::start();
    let cluster = TestCluster::start(3);
    let leader = cluster.wait_converged();
    let mut ours = cluster.client(leader);
    let mut theirs = redis.client();
    for case in cases() {
        eprintln!("--- {}", case.key);
        for cmd in &case.setup {
            theirs.cmd(&with_key(cmd, case.key)).expect("redis setup");
        }
        let payload = bulk(theirs.cmd(&["DUMP", case.key]).expect("redis DUMP"), "redis DUMP");
        let reply = ours.cmd(&[b"RESTORE".as_slice(), case.key.as_bytes(), b"0", &payload]).expect("RESTORE");
        assert_eq!(reply, resp::Frame::ok(), "RESTORE {} into the cluster", case.key);
        for read in &case.reads {
            assert_eq!(
                String::from_utf8_lossy(&raw_read(&mut ours, read, case.key)),
                String::from_utf8_lossy(&raw_read(&mut theirs, read, case.key)),
                "{read:?} of {} restored into the cluster",
                case.key
            );
        }
        let built = format!("built-{}", case.key);
        for cmd in &case.setup {
            ours.cmd(&with_key(cmd, &built)).expect("cluster setup");
        }
        let payload = bulk(ours.cmd(&["DUMP", &built]).expect("DUMP"), "cluster DUMP");
        assert_eq!(&payload[payload.len() - 10..payload.len() - 8], &[11, 0], "Redraft writes RDB 11");
        if matches!(payload[0], 20 | 21) {
            continue;
        }
        let reply =
            theirs.cmd(&[b"RESTORE".as_slice(), built.as_bytes(), b"0", &as_version_10(&payload)]).expect("RESTORE");
        assert_eq!(reply, resp::Frame::ok(), "RESTORE {built} into redis");
        for read in &case.reads {
            assert_eq!(
                String::from_utf8_lossy(&raw_read(&mut theirs, read, &built)),
                String::from_utf8_lossy(&raw_read(&mut ours, read, &built)),
                "{read:?} of {built} restored into redis"
            );
        }
    }
}

/// Goal: RESTORE's errors through the cluster are Redis's, byte for byte, and a RESTORE is a
/// replicated write that followers serve.
/// Method: send the same failing RESTOREs to both; then read a restored key on a follower.
#[test]
fn restore_errors_match_redis_and_restored_keys_replicate() {
    let redis = RedisServer::start();
    let cluster = TestCluster::start(3);
    let leader = cluster.wait_converged();
    let mut ours = cluster.client(leader);
    let mut theirs = redis.client();
    for client in [&mut ours, &mut theirs] {
        client.cmd(&["SET", "k", "v"]).expect("SET");
    }
    let good = bulk(theirs.cmd(&["DUMP", "k"]).expect("DUMP"), "DUMP");
    let mut bad_crc = good.clone();
    *bad_crc.last_mut().expect("a payload") ^= 1;
    let empty_list = as_version_10(&[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let calls: Vec<Vec<&[u8]>> = vec![
        vec![b"RESTORE", b"k", b"0", &good],
        vec![b"RESTORE", b"n", b"-1", &good],
        vec![b"RESTORE", b"n", b"0", &bad_crc],
        vec![b"RESTORE", b"n", b"0", &empty_list],
        vec![b"RESTORE", b"n", b"0", &good, b"IDLETIME", b"-1"],
        vec![b"RESTORE", b"n", b"0", &good, b"FREQ", b"1", b"IDLETIME", b"1"],
        vec![b"DUMP", b"nokey"],
        vec![b"RESTORE", b"n", b"4102444800000", &good, b"ABSTTL"],
        vec![b"PEXPIRETIME", b"n"],
    ];
    for args in &calls {
        let expected = theirs.cmd_raw(args).expect("redis");
        let got = ours.cmd_raw(args).expect("redraft");
        assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&expected), "{:?}", args[0]);
    }
    let follower = *cluster.ids().iter().find(|id| **id != leader).expect("a follower");
    let mut reader = cluster.readonly_client(follower);
    cluster_tests::eventually(std::time::Duration::from_secs(30), "the restored key reaches a follower", || {
        (reader.cmd(&["GET", "n"]).ok()? == resp::Frame::bulk("v")).then_some(())
    });
}
