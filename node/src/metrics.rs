//! Prometheus metrics on `--metrics-port`, at `/metrics`.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use prometheus::{Encoder, IntCounter, IntGauge, Opts, Registry, TextEncoder};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::node::Node;

fn gauge(registry: &Registry, name: &str, help: &str, value: i64) {
    if let Ok(g) = IntGauge::with_opts(Opts::new(name, help)) {
        g.set(value);
        let _ = registry.register(Box::new(g));
    }
}

fn counter(registry: &Registry, name: &str, help: &str, value: u64) {
    if let Ok(c) = IntCounter::with_opts(Opts::new(name, help)) {
        c.inc_by(value);
        let _ = registry.register(Box::new(c));
    }
}

/// Renders the current metrics in Prometheus text format. The values live in
/// the node (atomics and Raft metrics); a registry is filled per scrape so
/// there is one source of truth.
pub fn render(node: &Node) -> String {
    let registry = Registry::new();
    let m = node.metrics();
    let stats = &node.stats;
    gauge(&registry, "redraft_node_id", "This node's Raft id", node.id as i64);
    gauge(&registry, "redraft_raft_is_leader", "1 if this node is the Raft leader", node.is_leader() as i64);
    gauge(&registry, "redraft_raft_term", "Current Raft term", m.current_term as i64);
    gauge(&registry, "redraft_raft_last_log_index", "Last Raft log index", m.last_log_index.unwrap_or(0) as i64);
    gauge(
        &registry,
        "redraft_raft_applied_index",
        "Last applied Raft log index",
        m.last_applied.map(|l| l.index).unwrap_or(0) as i64,
    );
    gauge(
        &registry,
        "redraft_connected_clients",
        "Connected clients",
        node.connected_clients.load(Ordering::Relaxed) as i64,
    );
    counter(
        &registry,
        "redraft_commands_processed_total",
        "Commands processed",
        stats.commands_processed.load(Ordering::Relaxed),
    );
    counter(
        &registry,
        "redraft_proposals_total",
        "Raft proposals made for client writes",
        stats.proposals.load(Ordering::Relaxed),
    );
    counter(
        &registry,
        "redraft_read_barriers_total",
        "Linearizable read barriers requested",
        stats.read_barriers.load(Ordering::Relaxed),
    );
    counter(
        &registry,
        "redraft_connections_received_total",
        "Client connections accepted",
        stats.connections_received.load(Ordering::Relaxed),
    );
    counter(
        &registry,
        "redraft_net_input_bytes_total",
        "Bytes read from clients",
        stats.net_input_bytes.load(Ordering::Relaxed),
    );
    counter(
        &registry,
        "redraft_net_output_bytes_total",
        "Bytes written to clients",
        stats.net_output_bytes.load(Ordering::Relaxed),
    );
    let mut out = Vec::new();
    let _ = TextEncoder::new().encode(&registry.gather(), &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Serves `/metrics` until `stop` turns true.
pub async fn serve(node: Arc<Node>, bind: String, port: u16, mut stop: watch::Receiver<bool>) {
    let listener = match TcpListener::bind((bind.as_str(), port)).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, port, "cannot bind the metrics port");
            return;
        }
    };
    loop {
        let accepted = tokio::select! {
            _ = stop.changed() => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _)) = accepted else { continue };
        let node = node.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                let node = node.clone();
                async move {
                    let response = if request.uri().path() == "/metrics" {
                        Response::new(Full::new(Bytes::from(render(&node))))
                    } else {
                        let mut r = Response::new(Full::new(Bytes::from_static(b"not found\n")));
                        *r.status_mut() = hyper::StatusCode::NOT_FOUND;
                        r
                    };
                    Ok::<_, std::convert::Infallible>(response)
                }
            });
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}
