//! The gRPC service generated from `proto/raft.proto` by `build.rs`.
//!
//! Only framing lives here; the Raft messages themselves are openraft's
//! types, encoded by [`crate::codec`].

tonic::include_proto!("redraft.raft.v1");
