//! Faults on the router: an isolated leader is replaced, and cannot commit.

mod harness;

use harness::{set_request, test_config, Cluster, Net, WAIT_TIMEOUT};
use tracing::info;

/// Goal: when the leader is cut off from the others, the majority elects a
/// new leader and keeps committing, while nothing proposed to the old leader
/// commits; once healed, the old leader's proposal is discarded.
///
/// Method: elect a leader and commit a first write; isolate the leader on
/// the router; propose `lost` on the old leader in the background; wait for
/// the two others to elect a leader in a higher term and commit `SET after`
/// through it; check the old leader applied nothing past the partition and
/// `lost` is absent everywhere; heal, then check the old proposal failed
/// (it was never committed) and all three nodes converge on the new
/// leader's log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn isolating_the_leader_elects_a_new_one_and_the_old_leader_cannot_commit() -> anyhow::Result<()> {
    let ids = [1, 2, 3];
    let cluster = Cluster::start(Net::Router, &ids, test_config()).await?;
    cluster.initialize(&ids).await?;
    let old_leader = cluster.wait_for_leader(&ids, 0).await?;
    let old_term = cluster.node(old_leader).metrics().current_term;
    let index = cluster.must_set(old_leader, "before", "1").await?;
    cluster.wait_applied(&ids, index).await?;

    info!(old_leader, "--- isolate the leader");
    cluster.router()?.isolate(old_leader);

    info!("--- propose on the isolated leader");
    let old_raft = cluster.node(old_leader).raft.clone();
    let lost_write = tokio::spawn(async move { old_raft.client_write(set_request("lost", "x")).await });

    info!("--- the majority elects a new leader and commits");
    let majority: Vec<u64> = ids.iter().copied().filter(|id| *id != old_leader).collect();
    let new_leader = cluster.wait_for_leader(&majority, old_term).await?;
    assert_ne!(new_leader, old_leader, "the isolated node cannot win an election");
    let after = cluster.must_set(new_leader, "after", "2").await?;
    cluster.wait_applied(&majority, after).await?;

    info!("--- the old leader has committed nothing new");
    let old_metrics = cluster.node(old_leader).metrics();
    assert!(
        old_metrics.last_applied.map(|l| l.index) < Some(after),
        "the isolated node applied past the partition: {:?}",
        old_metrics.last_applied
    );
    for id in ids {
        assert_eq!(cluster.node(id).get("lost")?, None, "node {id} applied the isolated leader's write");
    }

    info!("--- heal: the old leader steps down and its proposal is discarded");
    cluster.router()?.heal();
    let outcome = tokio::time::timeout(WAIT_TIMEOUT, lost_write).await??;
    assert!(outcome.is_err(), "the isolated leader's write must fail, got {outcome:?}");
    cluster.wait_applied(&ids, after).await?;
    cluster.must_get_equal(&ids, "after", "2")?;
    for id in ids {
        assert_eq!(cluster.node(id).get("lost")?, None, "node {id} applied the discarded write");
    }

    cluster.shutdown().await
}
