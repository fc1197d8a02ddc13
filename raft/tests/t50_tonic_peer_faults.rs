//! The tonic transport facing bad peers: malformed messages, closed ports,
//! bad addresses, DNS names.

mod harness;

use std::time::Duration;

use bytes::Bytes;
use harness::{test_config, Cluster, Net};
use openraft::error::RPCError;
use openraft::network::RPCOption;
use openraft::{RaftNetwork, RaftNetworkFactory, Vote};
use raft::codec::{self, SnapshotHeader, WIRE_VERSION};
use raft::proto::raft_service_client::RaftServiceClient;
use raft::proto::{RaftRequest, SnapshotChunk};
use raft::{typ, NodeAddr, TonicNetworkFactory};
use tonic::Code;
use tracing::info;

const RPC_TTL: Duration = Duration::from_secs(5);

fn vote_request(term: u64) -> typ::VoteRequest {
    typ::VoteRequest { vote: Vote::new(term, 99), last_log_id: None }
}

async fn expect_invalid_argument<T: std::fmt::Debug>(
    what: &str,
    call: impl std::future::Future<Output = Result<T, tonic::Status>>,
) -> anyhow::Result<()> {
    match call.await {
        Err(status) if status.code() == Code::InvalidArgument => {
            info!(what, message = status.message(), "refused as expected");
            Ok(())
        }
        other => anyhow::bail!("{what}: expected INVALID_ARGUMENT, got {other:?}"),
    }
}

/// Goal: no message a peer can send makes the server panic or install
/// garbage; each malformed one is answered `INVALID_ARGUMENT`, partial
/// snapshot files are removed, and the node keeps serving.
///
/// Method: run a one-node group over tonic; with a raw gRPC client send an
/// empty payload, a wrong version byte, garbage after a good version byte,
/// and snapshot streams that start with data, are empty, repeat the header
/// or end short of the announced length; check each status, that no
/// `.part` file is left behind, and that the node still commits a write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_peer_messages_are_refused_and_the_node_keeps_working() -> anyhow::Result<()> {
    let cluster = Cluster::start(Net::Tonic, &[1], test_config()).await?;
    cluster.initialize(&[1]).await?;
    cluster.wait_for_leader(&[1], 0).await?;
    let node = cluster.node(1);
    let mut client = RaftServiceClient::connect(format!("http://{}", node.addr.raft_addr)).await?;

    info!("--- malformed unary payloads");
    let empty = RaftRequest { data: Bytes::new() };
    expect_invalid_argument("empty AppendEntries", client.append_entries(empty)).await?;
    let wrong_version = RaftRequest { data: Bytes::from_static(&[WIRE_VERSION + 1, 0, 0]) };
    expect_invalid_argument("wrong version byte", client.vote(wrong_version)).await?;
    let garbage = RaftRequest { data: Bytes::from_static(&[WIRE_VERSION, 0xff, 0xff, 0xff, 0xff, 0x07]) };
    expect_invalid_argument("garbage vote", client.vote(garbage.clone())).await?;
    expect_invalid_argument("garbage append", client.append_entries(garbage)).await?;

    info!("--- malformed snapshot streams");
    let header =
        SnapshotHeader { vote: Vote::new_committed(1_000, 99), meta: typ::SnapshotMeta::default(), file_bytes: 10 };
    let header_chunk = SnapshotChunk::try_from(&header)?;
    let data_first = vec![SnapshotChunk::data(Bytes::from_static(b"12345"))];
    expect_invalid_argument("data before the header", client.install_snapshot(futures::stream::iter(data_first)))
        .await?;
    let nothing: Vec<SnapshotChunk> = Vec::new();
    expect_invalid_argument("empty stream", client.install_snapshot(futures::stream::iter(nothing))).await?;
    let two_headers = vec![header_chunk.clone(), header_chunk.clone()];
    expect_invalid_argument("second header", client.install_snapshot(futures::stream::iter(two_headers))).await?;
    let short = vec![header_chunk.clone(), SnapshotChunk::data(Bytes::from_static(b"12345"))];
    expect_invalid_argument("short stream", client.install_snapshot(futures::stream::iter(short))).await?;
    let long = vec![header_chunk, SnapshotChunk::data(Bytes::from(vec![0u8; 11]))];
    expect_invalid_argument("long stream", client.install_snapshot(futures::stream::iter(long))).await?;
    let bad_header = vec![SnapshotChunk::try_from(&header).map(|mut c| {
        c.chunk = Some(raft::proto::snapshot_chunk::Chunk::Header(Bytes::from_static(&[WIRE_VERSION, 1])));
        c
    })?];
    expect_invalid_argument("undecodable header", client.install_snapshot(futures::stream::iter(bad_header))).await?;

    let leftovers: Vec<_> = std::fs::read_dir(&node.snapshot_dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "part"))
        .collect();
    assert!(leftovers.is_empty(), "partial snapshot files left behind: {leftovers:?}");

    info!("--- the node still commits");
    let index = cluster.must_set(1, "still", "alive").await?;
    cluster.wait_applied(&[1], index).await?;
    cluster.must_get_equal(&[1], "still", "alive")?;

    cluster.shutdown().await
}

/// Goal: the client reports failures the way openraft acts on them: a
/// closed port and an address that is not a URI are `Unreachable` (back
/// off), and a peer named by a DNS name is reached.
///
/// Method: bind and drop a listener to get a closed port and send a vote
/// to it; send one to an address with spaces; then run a node and send a
/// vote to it as `localhost:<port>`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_maps_failures_for_openraft_and_resolves_dns_names() -> anyhow::Result<()> {
    harness::init_tracing();
    let mut factory = TonicNetworkFactory::new(99);

    info!("--- a closed port is unreachable");
    let closed_addr = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        listener.local_addr()?
    };
    let closed = NodeAddr { raft_addr: closed_addr.to_string(), client_addr: String::new() };
    let mut client = factory.new_client(7, &closed).await;
    let result = client.vote(vote_request(1), RPCOption::new(RPC_TTL)).await;
    assert!(matches!(result, Err(RPCError::Unreachable(_))), "closed port: {result:?}");

    info!("--- an address that is not a URI is unreachable");
    let bad = NodeAddr { raft_addr: "not an address".into(), client_addr: String::new() };
    let mut client = factory.new_client(8, &bad).await;
    let result = client.vote(vote_request(1), RPCOption::new(RPC_TTL)).await;
    assert!(matches!(result, Err(RPCError::Unreachable(_))), "bad address: {result:?}");

    info!("--- a DNS name reaches the node");
    let cluster = Cluster::start(Net::Tonic, &[1], test_config()).await?;
    let port = cluster.node(1).addr.raft_addr.rsplit(':').next().unwrap_or_default().to_string();
    let by_name = NodeAddr { raft_addr: format!("localhost:{port}"), client_addr: String::new() };
    let mut client = factory.new_client(1, &by_name).await;
    let reply = client.vote(vote_request(1), RPCOption::new(RPC_TTL)).await?;
    assert_eq!(reply.vote, Vote::new(1, 99), "an uninitialized node grants the first vote it sees");

    // The wire format in use is the documented one.
    assert_eq!(codec::encode(&vote_request(1))?[0], WIRE_VERSION);
    cluster.shutdown().await
}
