//! Command-line flags.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "redraft", version, about = "A Redis-compatible database replicated with Raft")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one node.
    Server(ServerArgs),
    /// Run a local cluster of N nodes (child processes) until Ctrl-C.
    Dev(DevArgs),
}

/// What a follower does with a command that must run on the leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum FollowerMode {
    /// Answer `-MOVED <slot> <leader>` so the client goes to the leader.
    #[default]
    Redirect,
    /// Forward the command to the leader and relay its reply.
    Proxy,
}

/// Who may run a protected command such as DEBUG, as Redis's `enable-debug-command`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ProtectedCommands {
    /// Nobody: the command is refused.
    #[default]
    No,
    /// Every client.
    Yes,
    /// Clients connected over loopback only.
    Local,
}

impl ProtectedCommands {
    /// The value as CONFIG GET shows it.
    pub fn name(self) -> &'static str {
        match self {
            ProtectedCommands::No => "no",
            ProtectedCommands::Yes => "yes",
            ProtectedCommands::Local => "local",
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// This node's id in the Raft group (must appear in --peers).
    #[arg(long, env = "REDRAFT_NODE_ID", required_unless_present = "node_id_from_hostname", default_value_t = 0)]
    pub node_id: u64,
    /// Take the node id from the host name's trailing ordinal plus one
    /// (`redraft-0` is node 1), as a Kubernetes StatefulSet names its pods.
    #[arg(long)]
    pub node_id_from_hostname: bool,
    /// Address to listen on for clients and for Raft.
    #[arg(long, default_value = "127.0.0.1", env = "REDRAFT_BIND")]
    pub bind: String,
    /// Host name or address that clients are told to use (MOVED, CLUSTER
    /// SLOTS); defaults to --bind, or the host name when binding 0.0.0.0.
    #[arg(long, env = "REDRAFT_ADVERTISE_HOST")]
    pub advertise_host: Option<String>,
    /// RESP port for clients.
    #[arg(long, default_value_t = 6379, env = "REDRAFT_PORT")]
    pub port: u16,
    /// gRPC port for Raft traffic between nodes.
    #[arg(long, default_value_t = 16379, env = "REDRAFT_RAFT_PORT")]
    pub raft_port: u16,
    /// Data directory (RocksDB and snapshots).
    #[arg(long, default_value = "redraft-data", env = "REDRAFT_DIR")]
    pub dir: PathBuf,
    /// Every voter of a new cluster as `id=host:raft_port`, comma separated.
    #[arg(long, env = "REDRAFT_PEERS", value_parser = parse_peers)]
    pub peers: Option<Peers>,
    /// Redirect (MOVED) or proxy commands that must run on the leader.
    #[arg(long, value_enum, default_value_t = FollowerMode::Redirect, env = "REDRAFT_FOLLOWER_MODE")]
    pub follower_mode: FollowerMode,
    /// Number of logical databases (SELECT 0..N-1).
    #[arg(long, default_value_t = 16)]
    pub databases: u16,
    /// Maximum number of connected clients.
    #[arg(long, default_value_t = 10_000)]
    pub maxclients: usize,
    /// How long a proposed write may wait for its outcome before the client
    /// is told it is UNCERTAIN.
    #[arg(long, default_value_t = 10_000)]
    pub write_timeout_ms: u64,
    /// Port for Prometheus /metrics (0 disables it).
    #[arg(long, default_value_t = 0)]
    pub metrics_port: u16,
    /// Who may run DEBUG (fault injection such as DEBUG FSYNC-DELAY): no one, every client, or
    /// loopback clients only; as Redis's `enable-debug-command`.
    #[arg(long, value_enum, default_value_t = ProtectedCommands::No, env = "REDRAFT_ENABLE_DEBUG_COMMAND")]
    pub enable_debug_command: ProtectedCommands,
}

/// `--peers`: node id to Raft address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peers(pub BTreeMap<u64, String>);

fn parse_peers(text: &str) -> Result<Peers, String> {
    let mut peers = BTreeMap::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (id, addr) = part.split_once('=').ok_or_else(|| format!("expected id=host:port, got '{part}'"))?;
        let id: u64 = id.trim().parse().map_err(|_| format!("bad node id in '{part}'"))?;
        let addr = addr.trim();
        if !addr.contains(':') {
            return Err(format!("expected host:port in '{part}'"));
        }
        if peers.insert(id, addr.to_string()).is_some() {
            return Err(format!("node id {id} given twice"));
        }
    }
    if peers.is_empty() {
        return Err("no peers given".into());
    }
    Ok(Peers(peers))
}

impl ServerArgs {
    /// Fills `node_id` from the host name when asked to.
    ///
    /// # Errors
    /// When no node id was given or the host name has no trailing ordinal.
    pub fn resolve_node_id(&mut self) -> Result<(), String> {
        if self.node_id_from_hostname {
            let name = hostname().map_err(|e| format!("reading the host name: {e}"))?;
            self.node_id =
                ordinal_node_id(&name).ok_or_else(|| format!("host name '{name}' has no -<ordinal> suffix"))?;
        }
        if self.node_id == 0 {
            return Err("--node-id must be a positive integer".into());
        }
        Ok(())
    }

    /// The host clients are told to connect to.
    pub fn advertised_host(&self) -> String {
        if let Some(host) = &self.advertise_host {
            return host.clone();
        }
        if self.bind == "0.0.0.0" || self.bind == "::" {
            if let Ok(name) = hostname() {
                return name;
            }
        }
        self.bind.clone()
    }
}

/// `redraft-2` -> node 3.
fn ordinal_node_id(host: &str) -> Option<u64> {
    let short = host.split('.').next()?;
    let (_, ordinal) = short.rsplit_once('-')?;
    ordinal.parse::<u64>().ok()?.checked_add(1)
}

fn hostname() -> std::io::Result<String> {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most `buf.len()` bytes into `buf`.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr() as *mut libc::c_char, buf.len()) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    Ok(String::from_utf8_lossy(&buf[..end]).into_owned())
}

#[derive(Debug, Clone, Args)]
pub struct DevArgs {
    /// Number of nodes.
    #[arg(long, default_value_t = 3)]
    pub nodes: u16,
    /// Client port of the first node; node i listens on port+i-1 and Raft on port+10000+i-1.
    #[arg(long, default_value_t = 6379)]
    pub port: u16,
    /// Directory holding one data directory per node.
    #[arg(long, default_value = "./redraft-data")]
    pub dir: PathBuf,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_parse_ids_and_host_names() {
        let peers = parse_peers("1=127.0.0.1:16379, 2=redraft-1.redraft:16379").unwrap();
        assert_eq!(peers.0.get(&2).map(String::as_str), Some("redraft-1.redraft:16379"));
    }

    #[test]
    fn stateful_set_host_names_give_node_ids_from_one() {
        assert_eq!(ordinal_node_id("redraft-0"), Some(1));
        assert_eq!(ordinal_node_id("redraft-2.redraft.default.svc"), Some(3));
        assert_eq!(ordinal_node_id("redraft"), None);
    }

    #[test]
    fn debug_is_refused_unless_enabled() {
        let parse = |extra: &[&str]| {
            let mut argv = vec!["redraft", "server", "--node-id", "1"];
            argv.extend_from_slice(extra);
            match Cli::try_parse_from(argv).map(|cli| cli.command) {
                Ok(Command::Server(args)) => Ok(args.enable_debug_command),
                Ok(other) => panic!("parsed as {other:?}"),
                Err(e) => Err(e.kind()),
            }
        };
        assert_eq!(parse(&[]), Ok(ProtectedCommands::No));
        assert_eq!(parse(&["--enable-debug-command", "local"]), Ok(ProtectedCommands::Local));
        assert_eq!(parse(&["--enable-debug-command", "yes"]), Ok(ProtectedCommands::Yes));
        assert!(parse(&["--enable-debug-command", "maybe"]).is_err());
    }

    #[test]
    fn malformed_peers_are_rejected() {
        assert!(parse_peers("1:127.0.0.1").is_err());
        assert!(parse_peers("x=127.0.0.1:1").is_err());
        assert!(parse_peers("1=a:1,1=b:2").is_err());
        assert!(parse_peers("").is_err());
    }
}
