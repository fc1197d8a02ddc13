//! Starting a node: storage, Raft, the Raft gRPC port, the RESP port, the
//! cluster bootstrap and the background tasks; stopping it on a signal.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use raft::{typ, NodeAddr, NodeId, TypeConfig};
use storage::log_store::RocksLogStore;
use storage::state_machine::RocksStateMachine;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::ServerArgs;
use crate::executor::NodeExecutor;
use crate::node::Node;

/// Between two attempts to reach every peer before initializing the cluster.
const BOOTSTRAP_RETRY_INTERVAL: Duration = Duration::from_millis(300);

/// Runs one node until SIGINT/SIGTERM.
pub async fn run(args: ServerArgs) -> anyhow::Result<()> {
    let id = args.node_id;
    let host = args.advertised_host();
    let client_addr = format!("{host}:{}", args.port);
    let mut peers = args.peers.clone().map(|p| p.0).unwrap_or_default();
    let raft_addr = peers.get(&id).cloned().unwrap_or_else(|| format!("{host}:{}", args.raft_port));
    peers.entry(id).or_insert_with(|| raft_addr.clone());
    let self_addr = NodeAddr { raft_addr, client_addr: client_addr.clone() };

    let db =
        storage::open_db(&args.dir).with_context(|| format!("opening the data directory {}", args.dir.display()))?;
    let log_store = RocksLogStore::<TypeConfig>::new(db.clone());
    let executor = Arc::new(NodeExecutor { db_count: args.databases });
    let state_machine = RocksStateMachine::<TypeConfig>::new(db.clone(), executor, args.dir.join("snapshots"))?;
    let config = Arc::new(raft::raft_config("redraft"));
    let network = raft::TonicNetworkFactory::new(id);
    let raft = typ::Raft::new(id, config, network, log_store, state_machine).await?;

    let raft_listener = TcpListener::bind((args.bind.as_str(), args.raft_port))
        .await
        .with_context(|| format!("binding the Raft port {}:{}", args.bind, args.raft_port))?;
    let client_listener = TcpListener::bind((args.bind.as_str(), args.port))
        .await
        .with_context(|| format!("binding the client port {}:{}", args.bind, args.port))?;
    tracing::info!(node_id = id, client = %client_addr, raft = %self_addr.raft_addr, "redraft node starting");

    let (stop_tx, stop_rx) = watch::channel(false);
    let node = Node::new(args.clone(), db, raft.clone(), client_addr);

    let raft_task = {
        let raft = raft.clone();
        let dir = args.dir.join("snapshots-incoming");
        let info = (id, self_addr.clone());
        let stop = wait_stop(stop_rx.clone());
        tokio::spawn(async move {
            let discovery = raft::discovery::DiscoveryService::new(raft.clone(), info.clone().0, info.1);
            if let Err(e) = raft::serve_with_discovery(raft, raft_listener, dir, Some(discovery), stop).await {
                tracing::error!(error = %e, "the Raft service stopped");
            }
        })
    };
    tokio::spawn(bootstrap(raft.clone(), id, peers, self_addr));
    tokio::spawn(crate::expiry::run(node.clone(), stop_rx.clone()));
    if args.metrics_port != 0 {
        tokio::spawn(crate::metrics::serve(node.clone(), args.bind.clone(), args.metrics_port, stop_rx.clone()));
    }
    tokio::spawn(async move {
        wait_for_signal().await;
        let _ = stop_tx.send(true);
    });

    accept_loop(node.clone(), client_listener, stop_rx).await;
    tracing::info!("shutting down");
    let _ = raft.shutdown().await;
    let _ = raft_task.await;
    Ok(())
}

async fn wait_stop(mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        tracing::error!("cannot install signal handlers");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

async fn accept_loop(node: Arc<Node>, listener: TcpListener, stop: watch::Receiver<bool>) {
    let stopped = wait_stop(stop);
    tokio::pin!(stopped);
    loop {
        let accepted = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Out of file descriptors and the like: keep serving the
                // clients we have rather than exiting.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        node.stats.connections_received.fetch_add(1, Ordering::Relaxed);
        let current = node.connected_clients.fetch_add(1, Ordering::AcqRel);
        let node = node.clone();
        tokio::spawn(async move {
            if current >= node.maxclients.load(Ordering::Relaxed) {
                node.stats.rejected_connections.fetch_add(1, Ordering::Relaxed);
                use tokio::io::AsyncWriteExt;
                let mut stream = stream;
                let _ = stream.write_all(b"-ERR max number of clients reached\r\n").await;
            } else {
                let local = stream.local_addr().map(|a| a.to_string()).unwrap_or_default();
                crate::connection::serve(node.clone(), stream, peer.to_string(), local).await;
            }
            node.connected_clients.fetch_sub(1, Ordering::AcqRel);
        });
    }
}

/// Forms a new cluster: the node with the lowest id waits until every peer
/// answers (telling its client address) and initializes the membership with
/// all of them. A node that already has Raft state, or whose peers already
/// form a cluster, does nothing: restarts rejoin with their own data.
async fn bootstrap(raft: typ::Raft, id: NodeId, peers: BTreeMap<NodeId, String>, self_addr: NodeAddr) {
    match raft.is_initialized().await {
        Ok(true) | Err(_) => return,
        Ok(false) => {}
    }
    if peers.keys().next() != Some(&id) {
        tracing::info!("waiting to be added to the cluster by node {:?}", peers.keys().next());
        return;
    }
    let mut attempt = 0u64;
    loop {
        attempt += 1;
        let mut members = BTreeMap::new();
        let mut missing = Vec::new();
        for (peer_id, peer_raft_addr) in &peers {
            if *peer_id == id {
                members.insert(id, self_addr.clone());
                continue;
            }
            match raft::discovery::fetch_node_info(peer_raft_addr, Duration::from_secs(2)).await {
                Ok(info) if info.node_id == *peer_id && info.initialized => {
                    tracing::info!(peer = peer_id, "peer already belongs to a cluster; not initializing");
                    return;
                }
                Ok(info) if info.node_id == *peer_id => {
                    members.insert(
                        *peer_id,
                        NodeAddr { raft_addr: peer_raft_addr.clone(), client_addr: info.client_addr },
                    );
                }
                Ok(info) => {
                    tracing::error!(expected = peer_id, found = info.node_id, addr = %peer_raft_addr, "peer has another node id");
                    missing.push(*peer_id);
                }
                Err(_) => missing.push(*peer_id),
            }
        }
        if missing.is_empty() {
            match raft.initialize(members).await {
                Ok(()) => tracing::info!("initialized the cluster"),
                Err(e) => tracing::info!(error = %e, "cluster already initialized"),
            }
            return;
        }
        if attempt % 10 == 1 {
            tracing::info!(?missing, "waiting for every peer before initializing the cluster");
        }
        tokio::time::sleep(BOOTSTRAP_RETRY_INTERVAL).await;
        if let Ok(true) = raft.is_initialized().await {
            return;
        }
    }
}
