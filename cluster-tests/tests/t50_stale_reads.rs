//! An old leader must never answer a read with a value older than a write the new leader has
//! acknowledged: linearizable reads need a confirmed leadership, not a leader's belief.
//! Two ways to make a leader stale: freeze it (SIGSTOP, like a long GC pause) and cut it off
//! from both peers (a minority partition through the fault proxy).

use std::time::Duration;

use cluster_tests::harness::{NodeId, OP_DEADLINE};
use cluster_tests::{eventually, Frame, Reply, RespClient, TestCluster};

const KEY: &str = "stale:k";
const OLD_VALUE: &str = "old";
const NEW_VALUE: &str = "new";
/// Deadline of one probe read on the stale node; no reply in time is an acceptable answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Panics unless `reply` to `GET KEY` on the stale node is allowed: the new value, a redirect,
/// CLUSTERDOWN/TRYAGAIN or no reply in time (or any other error, which is not a stale value).
#[track_caller]
fn assert_not_stale(node: NodeId, reply: Reply) {
    eprintln!("    GET on node {node}: {reply:?}");
    match reply {
        Reply::Value(Frame::Bulk(value)) if value == NEW_VALUE.as_bytes() => {}
        Reply::Value(other) => {
            panic!("node {node} served a stale read: {other:?} after {NEW_VALUE:?} was acknowledged")
        }
        Reply::Moved(_) | Reply::Retry(_) | Reply::Timeout => {}
        Reply::Uncertain(text) | Reply::Error(text) => eprintln!("    (an error, not a stale value: -{text})"),
        Reply::Io(e) => panic!("GET on node {node} failed with an I/O error instead of a reply: {e}"),
    }
}

/// Writes the old value and waits until every node has it, so the stale node surely holds it.
fn write_old_value_everywhere(cluster: &TestCluster) -> NodeId {
    let leader = cluster.leader();
    cluster.must_set(leader, KEY, OLD_VALUE);
    cluster.wait_converged()
}

/// Goal: a leader frozen while the others elect a new one does not serve its old value when it
/// wakes up.
/// Method: write the old value everywhere; SIGSTOP the leader; wait for a new leader among the
/// other two; write the new value through it; then queue a GET on a connection to the frozen
/// node (the kernel accepts it), SIGCONT the node so the GET is the first thing it sees, and
/// check the reply; a second GET on a fresh connection right after is checked too. Finally the
/// old leader rejoins and reads the new value through redirects.
#[test]
fn a_paused_old_leader_never_serves_a_stale_read_after_it_resumes() {
    let cluster = TestCluster::start(3);
    let old = write_old_value_everywhere(&cluster);

    eprintln!("--- SIGSTOP leader {old}");
    cluster.pause(old);
    let new = cluster.wait_for_leader(Some(old));
    eprintln!("--- node {new} leads; writing the new value through it");
    cluster.must_set(new, KEY, NEW_VALUE);

    eprintln!("--- queue a GET on frozen node {old}, then SIGCONT it");
    let mut queued = RespClient::connect(&cluster.addr(old)).expect("the kernel accepts connections to a stopped node");
    queued.set_timeout(PROBE_TIMEOUT).expect("setting the probe timeout");
    queued.send(&["GET", KEY]).expect("queueing a GET");
    cluster.resume(old);
    assert_not_stale(old, Reply::classify(queued.read_frame()));
    let fresh = RespClient::connect(&cluster.addr(old)).and_then(|mut c| {
        c.set_timeout(PROBE_TIMEOUT)?;
        c.cmd(&["GET", KEY])
    });
    assert_not_stale(old, Reply::classify(fresh));

    eprintln!("--- node {old} rejoins and reads the new value");
    cluster.wait_for_leader(None);
    eventually(OP_DEADLINE, "GET through the old leader returns the new value", || {
        let reply = cluster.cmd_following(old, &["GET", KEY]).ok()?;
        (reply == Frame::bulk(NEW_VALUE)).then_some(())
    });
}

/// Goal: a leader cut off from both peers never answers a read with a value older than a write
/// acknowledged by the new majority leader.
/// Method: a cluster whose Raft links go through the fault proxy; write the old value
/// everywhere; cut every link to and from the leader; wait for the other two to elect a new
/// leader; write the new value through it; then GET on the isolated node three times on fresh
/// connections: each reply must not be a value other than the new one. Heal, and the old leader
/// follows the new one and reads the new value.
#[test]
fn a_leader_partitioned_from_both_peers_never_serves_a_stale_read() {
    let cluster = TestCluster::start_proxied(3);
    let old = write_old_value_everywhere(&cluster);

    eprintln!("--- isolate leader {old} from both peers");
    cluster.proxy().isolate(old);
    let new = cluster.wait_for_leader(Some(old));
    eprintln!("--- node {new} leads the majority; writing the new value through it");
    cluster.must_set(new, KEY, NEW_VALUE);

    eprintln!("--- reads on isolated node {old}");
    for _ in 0..3 {
        let reply = RespClient::connect(&cluster.addr(old)).and_then(|mut c| {
            c.set_timeout(PROBE_TIMEOUT)?;
            c.cmd(&["GET", KEY])
        });
        assert_not_stale(old, Reply::classify(reply));
    }

    eprintln!("--- heal; node {old} follows node {new}");
    cluster.proxy().heal();
    let leader = cluster.wait_for_leader(None);
    eprintln!("--- node {leader} leads after healing");
    let commit = cluster.info_u64(leader, "raft_commit_index");
    cluster.wait_applied_everywhere(commit);
    let mut client = cluster.readonly_client(old);
    assert_eq!(client.must_cmd(&["GET", KEY]), Frame::bulk(NEW_VALUE), "READONLY GET on the healed old leader");
}
