//! A cluster of real Raft nodes (RocksDB stores in temporary directories)
//! connected either by the in-memory [`Router`] or by the tonic transport
//! on loopback, so one test body runs on both networks.
//!
//! Nothing here sleeps to synchronise: waits are on openraft's metrics
//! (`raft.wait(..).metrics(..)`) or [`eventually`], both with deadlines.

#![allow(dead_code)] // each test binary uses a different part

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Once};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use bytes::Bytes;
use openraft::{Config, ServerState};
use raft::{typ, NodeAddr, NodeId, Router, TonicNetworkFactory};
use storage::log_store::RocksLogStore;
use storage::state_machine::{Executor, RocksStateMachine};
use storage::{ApplyTxn, CommandBatch, Keyspace, ReadView, Request, Response, StoredValue};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long any single wait in a test may take before it fails.
pub const WAIT_TIMEOUT: Duration = Duration::from_secs(10);

/// How often [`eventually`] re-checks its condition.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Which network connects the nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Net {
    /// The in-memory router: supports fault filters.
    Router,
    /// Real gRPC over `127.0.0.1:0` listeners.
    Tonic,
}

/// Logs to the test's output (shown on failure), once per binary.
pub fn init_tracing() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,openraft=warn"));
        tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().init();
    });
}

/// Polls `check` until it returns `Some`, failing after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, why: &str, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return Ok(value);
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("timed out after {timeout:?} waiting for: {why}");
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// A tiny deterministic command set: `SET key value` and nothing else.
pub struct SetExecutor;

impl Executor for SetExecutor {
    fn execute(&self, txn: &mut ApplyTxn<'_>, batch: &CommandBatch) -> Response {
        for command in &batch.commands {
            match command.as_slice() {
                [name, key, value] if name.eq_ignore_ascii_case(b"SET") => {
                    txn.put(batch.db, key, StoredValue::string(value.clone(), 0)).expect("test SET writes");
                }
                other => panic!("the test executor only knows SET, got {other:?}"),
            }
        }
        Response { frame: Some(resp::Frame::Simple("OK".into())), db_after: None }
    }
}

/// A `SET key value` proposal.
pub fn set_request(key: &str, value: &str) -> Request {
    Request::Commands(CommandBatch {
        db: 0,
        now_ms: 0,
        seed: 0,
        resp3: false,
        commands: vec![vec![Bytes::from_static(b"SET"), Bytes::from(key.to_string()), Bytes::from(value.to_string())]],
        transaction: None,
    })
}

/// The configuration tests run with: production values, so elections are
/// tested at the speed they run in production.
pub fn test_config() -> Config {
    raft::raft_config("redraft-test")
}

pub struct TestNode {
    pub id: NodeId,
    pub addr: NodeAddr,
    pub raft: typ::Raft,
    pub db: storage::RocksDb,
    pub snapshot_dir: PathBuf,
    /// Tonic only: stops the gRPC server.
    server_shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<Result<(), raft::TransportError>>>,
}

impl TestNode {
    /// The value of `key` in db 0 as applied on this node.
    pub fn get(&self, key: &str) -> anyhow::Result<Option<Bytes>> {
        let view = ReadView::new(&self.db, 0)?;
        Ok(view.get(0, key.as_bytes())?.map(|v| v.payload))
    }

    pub fn metrics(&self) -> typ::RaftMetrics {
        self.raft.metrics().borrow().clone()
    }
}

pub struct Cluster {
    pub net: Net,
    pub nodes: BTreeMap<NodeId, TestNode>,
    /// Present for [`Net::Router`].
    pub router: Option<Router>,
    dir: tempfile::TempDir,
}

impl Cluster {
    /// Starts nodes `ids`, uninitialized, on `net`.
    pub async fn start(net: Net, ids: &[NodeId], config: Config) -> anyhow::Result<Cluster> {
        init_tracing();
        let config = Arc::new(config.validate()?);
        let dir = tempfile::tempdir()?;
        let router = (net == Net::Router).then(Router::new);
        let mut cluster = Cluster { net, nodes: BTreeMap::new(), router, dir };
        for &id in ids {
            cluster.start_node(id, config.clone()).await.with_context(|| format!("starting node {id}"))?;
        }
        Ok(cluster)
    }

    async fn start_node(&mut self, id: NodeId, config: Arc<Config>) -> anyhow::Result<()> {
        let node_dir = self.dir.path().join(format!("node-{id}"));
        let snapshot_dir = node_dir.join("snapshots");
        let db = storage::open_db(&node_dir.join("db"))?;
        let log_store = RocksLogStore::<raft::TypeConfig>::new(db.clone());
        let state_machine =
            RocksStateMachine::<raft::TypeConfig>::new(db.clone(), Arc::new(SetExecutor), snapshot_dir.clone())?;
        let client_addr = format!("client-{id}");
        let node = match (self.net, &self.router) {
            (Net::Router, Some(router)) => {
                let addr = NodeAddr { raft_addr: format!("router-{id}"), client_addr };
                let raft = typ::Raft::new(id, config, router.factory(id), log_store, state_machine).await?;
                router.add_node(id, raft.clone(), &snapshot_dir)?;
                TestNode { id, addr, raft, db, snapshot_dir, server_shutdown: None, server: None }
            }
            (Net::Tonic, _) => {
                // Bound before Raft starts, so the address is known and any
                // RPC sent to it waits in the accept queue.
                let listener = TcpListener::bind("127.0.0.1:0").await?;
                let addr = NodeAddr { raft_addr: listener.local_addr()?.to_string(), client_addr };
                let network = TonicNetworkFactory::new(id);
                let raft = typ::Raft::new(id, config, network, log_store, state_machine).await?;
                let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
                let server = tokio::spawn(raft::serve(raft.clone(), listener, snapshot_dir.clone(), async {
                    let _ = shutdown_rx.await;
                }));
                TestNode { id, addr, raft, db, snapshot_dir, server_shutdown: Some(shutdown_tx), server: Some(server) }
            }
            (Net::Router, None) => bail!("router cluster without a router"),
        };
        self.nodes.insert(id, node);
        Ok(())
    }

    pub fn node(&self, id: NodeId) -> &TestNode {
        &self.nodes[&id]
    }

    pub fn router(&self) -> anyhow::Result<&Router> {
        self.router.as_ref().ok_or_else(|| anyhow!("{:?} cluster has no router filters", self.net))
    }

    /// Initializes the group on the first of `voters` with `voters` as members.
    pub async fn initialize(&self, voters: &[NodeId]) -> anyhow::Result<()> {
        let members: BTreeMap<NodeId, NodeAddr> = voters.iter().map(|id| (*id, self.node(*id).addr.clone())).collect();
        let first = voters.first().ok_or_else(|| anyhow!("no voters"))?;
        self.node(*first).raft.initialize(members).await?;
        Ok(())
    }

    /// Waits until every node of `among` agrees on one leader, which is in
    /// `among` and has a term above `term_above`. Returns it.
    pub async fn wait_for_leader(&self, among: &[NodeId], term_above: u64) -> anyhow::Result<NodeId> {
        let why = format!("nodes {among:?} agree on a leader among them in a term above {term_above}");
        eventually(WAIT_TIMEOUT, &why, move || async move {
            let metrics: Vec<typ::RaftMetrics> = among.iter().map(|id| self.node(*id).metrics()).collect();
            let leaders: Vec<Option<NodeId>> =
                metrics.iter().map(|m| m.current_leader).collect::<BTreeSet<_>>().into_iter().collect();
            let [Some(leader)] = leaders[..] else { return None };
            let leader_metrics = metrics.iter().find(|m| m.id == leader)?;
            (leader_metrics.state == ServerState::Leader && leader_metrics.current_term > term_above).then_some(leader)
        })
        .await
    }

    /// Proposes `SET key value` on `leader` and returns the entry's index.
    pub async fn must_set(&self, leader: NodeId, key: &str, value: &str) -> anyhow::Result<u64> {
        let written = self.node(leader).raft.client_write(set_request(key, value)).await?;
        Ok(written.log_id.index)
    }

    /// Waits until `ids` have all applied `index`.
    pub async fn wait_applied(&self, ids: &[NodeId], index: u64) -> anyhow::Result<()> {
        for id in ids {
            self.node(*id)
                .raft
                .wait(Some(WAIT_TIMEOUT))
                .applied_index_at_least(Some(index), format!("node {id} applies index {index}"))
                .await?;
        }
        Ok(())
    }

    /// Checks that `key` reads `value` on each of `ids`.
    pub fn must_get_equal(&self, ids: &[NodeId], key: &str, value: &str) -> anyhow::Result<()> {
        for id in ids {
            let got = self.node(*id).get(key)?;
            if got.as_deref() != Some(value.as_bytes()) {
                bail!("node {id}: {key} = {got:?}, expected {value:?}");
            }
        }
        Ok(())
    }

    /// Stops every Raft, then every gRPC server, so no task outlives the test.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        for node in self.nodes.values() {
            node.raft.shutdown().await.map_err(|e| anyhow!("node {} shutdown: {e}", node.id))?;
        }
        for node in self.nodes.values_mut() {
            if let Some(shutdown) = node.server_shutdown.take() {
                let _ = shutdown.send(());
            }
            if let Some(server) = node.server.take() {
                tokio::time::timeout(WAIT_TIMEOUT, server)
                    .await
                    .with_context(|| format!("node {} gRPC server did not stop", node.id))???;
            }
        }
        Ok(())
    }
}
