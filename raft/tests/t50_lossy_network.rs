//! Faults on the router: random loss and delay.

mod harness;

use std::time::Duration;

use harness::{test_config, Cluster, Net};
use tracing::info;

/// Replays the same drop decisions on every run (in the order tokio
/// schedules the RPCs).
const DROP_SEED: u64 = 20_241_124;

/// Goal: when requests and replies are lost at random and every delivery
/// is delayed, the group still elects a leader and every write ends up
/// applied on every node: openraft's retries, driven by the transport's
/// `Network` errors, make up for the losses.
///
/// Method: before initializing, make the router drop 10% of requests and
/// of replies (seeded) and delay each delivery by 2 ms; write 20 keys, each
/// through whichever node leads at the time (retrying a write whose leader
/// lost its place: SET is idempotent); heal, then check every node applied
/// the last write and holds every key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_commit_on_all_nodes_over_a_lossy_delayed_network() -> anyhow::Result<()> {
    let ids = [1, 2, 3];
    let cluster = Cluster::start(Net::Router, &ids, test_config()).await?;

    info!("--- lose 10% of messages, delay all by 2 ms");
    cluster.router()?.set_drop_rate(0.1, DROP_SEED);
    cluster.router()?.set_delay(Some(Duration::from_millis(2)));
    cluster.initialize(&ids).await?;

    info!("--- write through whichever node leads");
    let mut last = 0;
    for i in 0..20 {
        let (key, value) = (format!("key-{i}"), format!("value-{i}"));
        let mut attempts = 0;
        last = loop {
            attempts += 1;
            let leader = cluster.wait_for_leader(&ids, 0).await?;
            match cluster.must_set(leader, &key, &value).await {
                Ok(index) => break index,
                Err(e) if attempts < 5 => info!(error = %e, "write failed, retrying on the current leader"),
                Err(e) => return Err(e),
            }
        };
    }

    info!("--- heal: every node has every write");
    let dropped = cluster.router()?.dropped();
    info!(dropped, "messages lost");
    assert!(dropped > 0, "the test must have lost messages to mean anything");
    cluster.router()?.heal();
    cluster.wait_applied(&ids, last).await?;
    for i in 0..20 {
        cluster.must_get_equal(&ids, &format!("key-{i}"), &format!("value-{i}"))?;
    }

    cluster.shutdown().await
}
