//! Redraft's Raft layer: the openraft type configuration, the transport
//! between nodes (tonic gRPC in production, an in-memory router with fault
//! filters in tests) and membership.
//!
//! Dependencies point one way: `resp` <- `storage` <- `raft` <- `node`.
//! This crate may use openraft's network types and tonic; `storage` may not.
//!
//! # Layout
//! - this file: [`TypeConfig`], the [`typ`] aliases and [`NodeAddr`].
//! - [`config`]: [`raft_config`], openraft's configuration with production values.
//! - [`proto`]: the gRPC service generated from `proto/raft.proto`.
//! - [`codec`]: openraft messages <-> protobuf frames (versioned bincode), with size limits.
//! - [`server`]: [`RaftGrpcService`] and [`serve`], the receiving side.
//! - [`client`]: [`TonicNetworkFactory`], openraft's network over tonic, one channel per peer.
//! - [`router`]: [`RouterNetworkFactory`], an in-memory network with fault filters for tests.
//! - [`error`]: [`TransportError`], the transport's error type.

pub mod client;
pub mod codec;
pub mod config;
pub mod discovery;
pub mod error;
pub mod proto;
pub mod router;
pub mod server;

pub use client::TonicNetworkFactory;
pub use config::raft_config;
pub use error::TransportError;
pub use router::{Router, RouterNetworkFactory};
pub use server::{serve, serve_with_discovery, RaftGrpcService};

use std::fmt;

use serde::{Deserialize, Serialize};

pub use storage::snapshot::SnapshotFile;
pub use storage::{Request, Response};

/// A node's id in the Raft group.
pub type NodeId = u64;

/// Where a node can be reached: its Raft (gRPC) address for peers and its
/// RESP address for clients (used in MOVED redirects and CLUSTER replies).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeAddr {
    /// `host:port` of the Raft gRPC service.
    pub raft_addr: String,
    /// `host:port` clients connect to.
    pub client_addr: String,
}

impl fmt::Display for NodeAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{raft: {}, client: {}}}", self.raft_addr, self.client_addr)
    }
}

openraft::declare_raft_types!(
    /// Redraft's openraft type configuration.
    pub TypeConfig:
        D = Request,
        R = Response,
        NodeId = NodeId,
        Node = NodeAddr,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = SnapshotFile,
        AsyncRuntime = openraft::TokioRuntime,
);

/// Short aliases for openraft's generic types instantiated with [`TypeConfig`].
pub mod typ {
    use super::{NodeAddr, NodeId, TypeConfig};

    pub type Raft = openraft::Raft<TypeConfig>;
    pub type LogId = openraft::LogId<NodeId>;
    pub type Vote = openraft::Vote<NodeId>;
    pub type Entry = openraft::Entry<TypeConfig>;
    pub type Snapshot = openraft::Snapshot<TypeConfig>;
    pub type SnapshotMeta = openraft::SnapshotMeta<NodeId, NodeAddr>;
    pub type StoredMembership = openraft::StoredMembership<NodeId, NodeAddr>;
    pub type RaftMetrics = openraft::RaftMetrics<NodeId, NodeAddr>;
    pub type RaftError<E = openraft::error::Infallible> = openraft::error::RaftError<NodeId, E>;
    pub type RpcError<E = openraft::error::Infallible> =
        openraft::error::RPCError<NodeId, NodeAddr, openraft::error::RaftError<NodeId, E>>;
    pub type ClientWriteError = openraft::error::ClientWriteError<NodeId, NodeAddr>;
    pub type ClientWriteResponse = openraft::raft::ClientWriteResponse<TypeConfig>;
    pub type CheckIsLeaderError = openraft::error::CheckIsLeaderError<NodeId, NodeAddr>;
    pub type ForwardToLeader = openraft::error::ForwardToLeader<NodeId, NodeAddr>;
    pub type AppendEntriesRequest = openraft::raft::AppendEntriesRequest<TypeConfig>;
    pub type AppendEntriesResponse = openraft::raft::AppendEntriesResponse<NodeId>;
    pub type VoteRequest = openraft::raft::VoteRequest<NodeId>;
    pub type VoteResponse = openraft::raft::VoteResponse<NodeId>;
    pub type SnapshotResponse = openraft::raft::SnapshotResponse<NodeId>;
}
