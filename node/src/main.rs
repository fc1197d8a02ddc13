//! The `redraft` binary: parses the command line and runs a server or a local cluster.

use clap::Parser;

use redraft::config::{Cli, Command};
use redraft::{dev, server};

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
