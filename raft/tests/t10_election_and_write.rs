//! Basics, on both networks: a three-node group elects a leader and
//! replicates a write to every node.

mod harness;

use harness::{test_config, Cluster, Net};
use tracing::info;

/// Goal: over the given network, three fresh nodes elect exactly one leader
/// and a write committed through it is applied on all three.
///
/// Method: start three nodes, initialize the group on node 1, wait until all
/// three name the same leader, write `SET greeting hello` through it, wait
/// until each node has applied that entry and read the key from each node's
/// RocksDB.
async fn three_nodes_elect_a_leader_and_apply_a_write_on_all(net: Net) -> anyhow::Result<()> {
    let ids = [1, 2, 3];
    let cluster = Cluster::start(net, &ids, test_config()).await?;

    info!("--- initialize the group on node 1 ({net:?})");
    cluster.initialize(&ids).await?;

    info!("--- wait for all nodes to agree on a leader");
    let leader = cluster.wait_for_leader(&ids, 0).await?;
    info!(leader, "leader elected");

    info!("--- write through the leader");
    let index = cluster.must_set(leader, "greeting", "hello").await?;

    info!("--- every node applies the write");
    cluster.wait_applied(&ids, index).await?;
    cluster.must_get_equal(&ids, "greeting", "hello")?;

    cluster.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_elect_a_leader_and_apply_a_write_on_all_over_the_router() -> anyhow::Result<()> {
    three_nodes_elect_a_leader_and_apply_a_write_on_all(Net::Router).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_elect_a_leader_and_apply_a_write_on_all_over_tonic() -> anyhow::Result<()> {
    three_nodes_elect_a_leader_and_apply_a_write_on_all(Net::Tonic).await
}
