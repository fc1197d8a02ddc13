//! Snapshots: a node whose missing log was purged catches up from a snapshot.

mod harness;

use harness::{test_config, Cluster, Net, WAIT_TIMEOUT};
use openraft::{Config, SnapshotPolicy};
use tracing::info;

/// Snapshot often and keep no log behind a snapshot, so a short outage
/// already leaves a node behind the purged log.
fn snapshot_often() -> Config {
    Config {
        snapshot_policy: SnapshotPolicy::LogsSinceLast(10),
        max_in_snapshot_log_to_keep: 0,
        purge_batch_size: 1,
        replication_lag_threshold: 20,
        ..test_config()
    }
}

/// Waits until `leader` has purged its log past `index`.
async fn wait_purged_past(cluster: &Cluster, leader: u64, index: u64) -> anyhow::Result<()> {
    cluster
        .node(leader)
        .raft
        .wait(Some(WAIT_TIMEOUT))
        .metrics(|m| m.purged.map(|p| p.index) > Some(index), format!("node {leader} purges past index {index}"))
        .await?;
    Ok(())
}

/// Goal: a follower cut off while the leader snapshots and purges the
/// entries it lacks is brought back with a snapshot, and then has every
/// write.
///
/// Method: commit a write on all three nodes; partition one follower from
/// the others; commit 30 writes (the policy snapshots every 10 entries and
/// keeps no log behind the snapshot); wait until the leader has purged past
/// the follower's last entry; heal; wait for the follower to apply the last
/// write and check it holds a snapshot it could only have been sent, and
/// the data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_partitioned_while_the_log_was_purged_catches_up_from_a_snapshot() -> anyhow::Result<()> {
    let ids = [1, 2, 3];
    let cluster = Cluster::start(Net::Router, &ids, snapshot_often()).await?;
    cluster.initialize(&ids).await?;
    let leader = cluster.wait_for_leader(&ids, 0).await?;
    let index = cluster.must_set(leader, "before", "0").await?;
    cluster.wait_applied(&ids, index).await?;

    let lagging = ids.iter().copied().find(|id| *id != leader).unwrap_or_default();
    let others: Vec<u64> = ids.iter().copied().filter(|id| *id != lagging).collect();
    let lagging_last = cluster.node(lagging).metrics().last_log_index.unwrap_or_default();
    assert_eq!(cluster.node(lagging).metrics().snapshot, None, "the policy must not have snapshotted yet");

    info!(lagging, "--- partition a follower from the others");
    cluster.router()?.partition(&[lagging], &others);

    info!("--- write while it is away, until the leader purges what it lacks");
    let mut last = index;
    for i in 0..30 {
        last = cluster.must_set(leader, &format!("key-{i}"), &format!("value-{i}")).await?;
    }
    cluster.wait_applied(&others, last).await?;
    wait_purged_past(&cluster, leader, lagging_last).await?;

    info!("--- heal: the follower is sent a snapshot");
    cluster.router()?.heal();
    cluster.wait_applied(&[lagging], last).await?;
    let snapshot = cluster.node(lagging).metrics().snapshot;
    assert!(
        snapshot.map(|s| s.index) > Some(lagging_last),
        "the follower should hold the leader's snapshot, has {snapshot:?}"
    );
    cluster.must_get_equal(&ids, "before", "0")?;
    cluster.must_get_equal(&ids, "key-29", "value-29")?;

    cluster.shutdown().await
}

/// Goal: over the given network, a learner added after the log was purged
/// receives a snapshot spanning several transport chunks, and installs it.
///
/// Method: initialize a group of nodes 1 and 2 while node 3 runs
/// uninitialized; commit writes, three of them large (2.4 MB in all, so
/// the snapshot file takes several 1 MiB chunks); wait until the leader has
/// purged its log; add node 3 as a learner; wait for it to apply the last
/// write and check its snapshot and data.
async fn a_learner_added_after_the_log_was_purged_catches_up_from_a_snapshot(net: Net) -> anyhow::Result<()> {
    let cluster = Cluster::start(net, &[1, 2, 3], snapshot_often()).await?;
    cluster.initialize(&[1, 2]).await?;
    let leader = cluster.wait_for_leader(&[1, 2], 0).await?;

    info!("--- write, including large values, until the log is purged");
    let large = "x".repeat(800_000);
    let mut last = 0;
    for i in 0..3 {
        last = cluster.must_set(leader, &format!("large-{i}"), &large).await?;
    }
    for i in 0..20 {
        last = cluster.must_set(leader, &format!("key-{i}"), &format!("value-{i}")).await?;
    }
    wait_purged_past(&cluster, leader, 0).await?;

    info!("--- add node 3 as a learner");
    let learner_addr = cluster.node(3).addr.clone();
    cluster.node(leader).raft.add_learner(3, learner_addr, true).await?;
    cluster.wait_applied(&[3], last).await?;
    let snapshot = cluster.node(3).metrics().snapshot;
    assert!(snapshot.is_some(), "the learner should have installed a snapshot");
    cluster.must_get_equal(&[3], "large-2", &large)?;
    cluster.must_get_equal(&[3], "key-19", "value-19")?;

    cluster.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learner_added_after_the_log_was_purged_catches_up_from_a_snapshot_over_the_router() -> anyhow::Result<()> {
    a_learner_added_after_the_log_was_purged_catches_up_from_a_snapshot(Net::Router).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learner_added_after_the_log_was_purged_catches_up_from_a_snapshot_over_tonic() -> anyhow::Result<()> {
    a_learner_added_after_the_log_was_purged_catches_up_from_a_snapshot(Net::Tonic).await
}
