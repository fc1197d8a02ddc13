//! `redraft-maelstrom`: a Redraft node for Maelstrom's lin-kv workload.
//!
//! Reads one JSON message per line on stdin, writes one per line on stdout, logs to stderr
//! only (Maelstrom reads stdout as messages). See `cluster_tests::maelstrom` and the README:
//!
//! ```text
//! maelstrom test -w lin-kv --bin target/release/redraft-maelstrom --node-count 3 --time-limit 60 --rate 100
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use cluster_tests::maelstrom::adapter::{Adapter, AdapterConfig};
use cluster_tests::maelstrom::protocol::{self, Message};
use cluster_tests::maelstrom::transport::Transport;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::sync::mpsc;

#[derive(Debug, Parser)]
#[command(name = "redraft-maelstrom", about = "A Redraft node speaking Maelstrom's protocol (lin-kv)")]
struct Args {
    /// Keep each node's data in DIR/<node_id>, so a node restarted by Maelstrom's `kill`
    /// nemesis recovers it (Maelstrom passes no arguments: set the environment variable).
    /// Without it, every start uses a fresh temporary directory.
    #[arg(long, value_name = "DIR", env = "REDRAFT_MAELSTROM_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Serve reads from local state on any node, without ReadIndex: deliberately not
    /// linearizable, to show that the checker catches it. Never use it otherwise.
    #[arg(long)]
    unsafe_stale_reads: bool,
    #[arg(long, default_value_t = AdapterConfig::default().heartbeat_ms)]
    heartbeat_ms: u64,
    #[arg(long, default_value_t = AdapterConfig::default().election_timeout_min_ms)]
    election_timeout_min_ms: u64,
    #[arg(long, default_value_t = AdapterConfig::default().election_timeout_max_ms)]
    election_timeout_max_ms: u64,
    /// Deadline of a proposal or read barrier before the client gets an error.
    #[arg(long, default_value_t = AdapterConfig::default().request_timeout_ms)]
    request_timeout_ms: u64,
    /// Snapshot every N log entries and purge the log behind it, so lagging nodes catch up
    /// by snapshot (tests the snapshot path over Maelstrom's network).
    #[arg(long, value_name = "N")]
    snapshot_every_logs: Option<u64>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("warn,cluster_tests=info,redraft_maelstrom=info")
            }),
        )
        .init();
    // Without --data-dir the nodes keep their data in a directory removed on exit (a node that
    // Maelstrom kills leaves it behind in the system's temporary directory).
    let temp_dir = match &args.data_dir {
        Some(_) => None,
        None => Some(tempfile::Builder::new().prefix("redraft-maelstrom-").tempdir()?),
    };
    let config = AdapterConfig {
        data_dir: args.data_dir.or_else(|| temp_dir.as_ref().map(|t| t.path().to_path_buf())),
        unsafe_stale_reads: args.unsafe_stale_reads,
        heartbeat_ms: args.heartbeat_ms,
        election_timeout_min_ms: args.election_timeout_min_ms,
        election_timeout_max_ms: args.election_timeout_max_ms,
        request_timeout_ms: args.request_timeout_ms,
        snapshot_every_logs: args.snapshot_every_logs,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let outcome = runtime.block_on(run(config));
    // Raft has stopped; once the runtime's tasks are gone nothing holds RocksDB open, and the
    // temporary data directory can be removed whole.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    if let Some(temp_dir) = temp_dir {
        if let Err(e) = temp_dir.close() {
            tracing::warn!(error = %e, "the temporary data directory was not removed");
        }
    }
    if let Err(e) = &outcome {
        tracing::error!(error = %e, "stopped");
    }
    std::process::exit(i32::from(outcome.is_err()));
}

async fn run(config: AdapterConfig) -> anyhow::Result<()> {
    let (outbox, mut outgoing) = mpsc::unbounded_channel::<Message>();
    let writer = tokio::spawn(async move {
        let mut stdout = BufWriter::new(tokio::io::stdout());
        while let Some(message) = outgoing.recv().await {
            let mut line = protocol::to_line(&message);
            line.push('\n');
            if stdout.write_all(line.as_bytes()).await.is_err() {
                return;
            }
            // Flush once the queue is drained: one syscall per burst, never a message held back.
            if outgoing.is_empty() && stdout.flush().await.is_err() {
                return;
            }
        }
    });
    let transport = Arc::new(Transport::new(outbox));
    let adapter = Adapter::new(config, transport.clone());

    let mut input = BufReader::new(tokio::io::stdin());
    let mut raw = Vec::new();
    loop {
        raw.clear();
        if input.read_until(b'\n', &mut raw).await? == 0 {
            break;
        }
        // Bytes that are not UTF-8 cannot be JSON: they fail to parse below, like any garbage.
        let line = String::from_utf8_lossy(&raw);
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match protocol::parse(line) {
            Ok(message) => adapter.handle(message),
            Err(e) => {
                tracing::warn!(error = %e, line = %line.chars().take(200).collect::<String>(), "bad input");
                if let Some(reply) = e.reply() {
                    let _ = transport.send(&reply.src, &reply.dest, reply.body.in_reply_to, reply.body.payload);
                }
            }
        }
    }
    // Maelstrom closes stdin when the test ends: stop.
    tracing::info!("stdin closed; exiting");
    adapter.shutdown().await;
    writer.abort();
    Ok(())
}
