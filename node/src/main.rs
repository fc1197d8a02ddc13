//! `redraft`: a Redis-compatible database replicated with Raft.
//!
//! # Layout
//! - [`config`]: command-line flags.
//! - [`node`]: one node: RocksDB, the Raft instance, the client registry.
//! - [`server`] and [`connection`]: the RESP listener and per-client loop.
//! - [`dispatch`]: the fixed path of every command (lookup, arity, routing, execute).
//! - [`session`]: commands answered by the connection (PING, HELLO, CLIENT, MULTI, ...).
//! - [`commands`]: the command table and the data command families.
//! - [`executor`]: runs proposed commands inside the state machine's apply.
//! - [`read_index`]: batches linearizable-read barriers.
//! - [`expiry`]: the leader's background purge of expired keys.
//! - [`dev`]: `redraft dev`, a local N-node cluster.

mod cluster;
mod commands;
mod config;
mod connection;
mod dev;
mod dispatch;
mod error;
mod executor;
mod expiry;
mod info;
mod metrics;
mod node;
mod read_index;
mod server;
mod session;

use clap::Parser;

use crate::config::{Cli, Command};

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,openraft=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_tracing();
    match cli.command {
        Command::Server(mut args) => {
            args.resolve_node_id().map_err(anyhow::Error::msg)?;
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            runtime.block_on(server::run(args))
        }
        Command::Dev(args) => dev::run(args),
    }
}
