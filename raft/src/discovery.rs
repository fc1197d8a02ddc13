//! Peer discovery for cluster formation.
//!
//! `--peers` names each voter's Raft address, but the membership must also
//! record where each voter's clients connect (for MOVED and CLUSTER SLOTS).
//! The node that initializes a new cluster asks every peer with `NodeInfo`;
//! that a peer answers is also the check that it is reachable, and a peer
//! that says it already belongs to a cluster stops a second initialization.

use std::time::Duration;

use tonic::{Request, Response, Status};

use crate::error::TransportError;
use crate::proto::node_discovery_client::NodeDiscoveryClient;
use crate::proto::node_discovery_server::{NodeDiscovery, NodeDiscoveryServer};
use crate::proto::{NodeInfoReply, NodeInfoRequest};
use crate::{typ, NodeAddr, NodeId};

/// What a peer says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    pub node_id: NodeId,
    pub client_addr: String,
    pub initialized: bool,
}

/// Answers `NodeInfo` for this node.
#[derive(Clone)]
pub struct DiscoveryService {
    raft: typ::Raft,
    id: NodeId,
    addr: NodeAddr,
}

impl DiscoveryService {
    pub fn new(raft: typ::Raft, id: NodeId, addr: NodeAddr) -> Self {
        DiscoveryService { raft, id, addr }
    }

    pub fn into_server(self) -> NodeDiscoveryServer<Self> {
        NodeDiscoveryServer::new(self)
    }
}

#[tonic::async_trait]
impl NodeDiscovery for DiscoveryService {
    async fn node_info(&self, _request: Request<NodeInfoRequest>) -> Result<Response<NodeInfoReply>, Status> {
        let initialized = self.raft.is_initialized().await.map_err(|e| Status::unavailable(e.to_string()))?;
        Ok(Response::new(NodeInfoReply { node_id: self.id, client_addr: self.addr.client_addr.clone(), initialized }))
    }
}

/// Asks the node at `raft_addr` (host:port, host names allowed) who it is.
///
/// # Errors
/// The peer is unreachable, did not answer within `timeout`, or failed.
pub async fn fetch_node_info(raft_addr: &str, timeout: Duration) -> Result<PeerInfo, TransportError> {
    let failed = |what: String| TransportError::Discovery(format!("{raft_addr}: {what}"));
    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{raft_addr}"))
        .map_err(|e| failed(e.to_string()))?
        .connect_timeout(timeout)
        .timeout(timeout);
    let channel = tokio::time::timeout(timeout, endpoint.connect())
        .await
        .map_err(|_| failed("connect timed out".into()))?
        .map_err(|e| failed(e.to_string()))?;
    let reply = NodeDiscoveryClient::new(channel)
        .node_info(NodeInfoRequest {})
        .await
        .map_err(|e| failed(e.to_string()))?
        .into_inner();
    Ok(PeerInfo { node_id: reply.node_id, client_addr: reply.client_addr, initialized: reply.initialized })
}
