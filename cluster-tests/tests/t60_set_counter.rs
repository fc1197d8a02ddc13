//! The set/counter workload (issue 3): writers send `INCR` on one counter and `SADD` of unique
//! members to one set through any node while the leader is killed, then the whole cluster is
//! killed and restarted. Afterwards every node must hold every acknowledged increment and
//! member, nothing refused, and nothing no client sent (see `cluster_tests::set_counter`).

use std::collections::HashSet;
use std::sync::Arc;

use cluster_tests::harness::OP_DEADLINE;
use cluster_tests::set_counter::{check, COUNTER_KEY, SET_KEY};
use cluster_tests::workload::{MakeWrite, WriteOp};
use cluster_tests::{eventually, TestCluster, WriteLoad};
use resp::Frame;

const WRITERS: usize = 4;

fn increments_and_members() -> MakeWrite {
    Arc::new(|t, seq| {
        if seq % 2 == 0 {
            WriteOp {
                key: COUNTER_KEY.into(),
                value: String::new(),
                args: vec!["INCR".into(), COUNTER_KEY.into()],
                acknowledges: |f| matches!(f, Frame::Integer(_)),
            }
        } else {
            let member = format!("m{t}-{seq}");
            WriteOp {
                key: SET_KEY.into(),
                value: member.clone(),
                args: vec!["SADD".into(), SET_KEY.into(), member],
                // A fresh member is always new: anything but 1 is wrong.
                acknowledges: |f| *f == Frame::Integer(1),
            }
        }
    })
}

fn wait_for_acks(load: &WriteLoad, count: usize) {
    eventually(OP_DEADLINE, "writes acknowledged", || (load.acked() >= count).then_some(()));
}

/// Goal: no acknowledged INCR or SADD is lost, and none refused happens, across a leader crash
/// and a crash of every node. Method: 4 writers alternate INCR and SADD; kill -9 the leader
/// after 150 acks; 150 more acks under the new leader; kill -9 all nodes while writers run;
/// restart all; check the counter's bounds and the set's members on every node.
#[test]
fn acknowledged_increments_and_members_survive_leader_and_whole_cluster_crashes() {
    let cluster = TestCluster::start(3);
    let addrs: Vec<String> = cluster.ids().into_iter().map(|id| cluster.addr(id)).collect();
    let load = WriteLoad::start_with(increments_and_members(), addrs, WRITERS);
    wait_for_acks(&load, 150);
    let old = cluster.leader();
    eprintln!("--- kill -9 leader {old} with {} writes acknowledged", load.acked());
    cluster.kill(old);
    cluster.wait_for_leader(Some(old));
    cluster.restart(old);
    let acked = load.acked();
    wait_for_acks(&load, acked + 150);
    eprintln!("--- kill -9 every node with {} writes acknowledged", load.acked());
    for id in cluster.ids() {
        cluster.kill(id);
    }
    let outcomes = load.stop();
    assert!(outcomes.unexpected.is_empty(), "unexpected replies: {:?}", outcomes.unexpected);
    for id in cluster.ids() {
        cluster.restart(id);
    }
    cluster.wait_converged();
    eprintln!(
        "--- checking {} acknowledged, {} refused, {} unknown writes on every node",
        outcomes.acked.len(),
        outcomes.refused.len(),
        outcomes.unknown.len()
    );
    for id in cluster.ids() {
        let mut client = cluster.readonly_client(id);
        let counter = match client.cmd(&["GET", COUNTER_KEY]).expect("GET counter") {
            Frame::Bulk(b) => String::from_utf8_lossy(&b).parse::<i64>().expect("a number"),
            Frame::Null => 0,
            other => panic!("GET counter on node {id}: {other:?}"),
        };
        let members: HashSet<String> = match client.cmd(&["SMEMBERS", SET_KEY]).expect("SMEMBERS") {
            Frame::Array(items) | Frame::Set(items) => items
                .into_iter()
                .map(|f| match f {
                    Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
                    other => panic!("member {other:?}"),
                })
                .collect(),
            other => panic!("SMEMBERS on node {id}: {other:?}"),
        };
        let anomalies = check(&outcomes, counter, &members);
        assert!(anomalies.is_empty(), "node {id}: {} anomalies:\n{}", anomalies.len(), anomalies.join("\n"));
    }
}
