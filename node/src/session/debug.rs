//! DEBUG: Redraft's fault hooks for fault tests against real processes.
//!
//! As in Redis 7, DEBUG is refused unless the server runs with `--enable-debug-command yes`
//! (or `local`, for clients on loopback). The one subcommand besides HELP is Redraft's own:
//!
//! ```text
//! DEBUG FSYNC-DELAY <milliseconds>
//! ```
//! makes every synced write of this node's Raft log wait that long first, as a slow disk would
//! (0 turns it off; at most `storage::failpoints::FSYNC_DELAY_MS_MAX`). It lasts until changed or
//! until the process restarts.

use std::net::SocketAddr;

use bytes::Bytes;
use resp::Frame;
use storage::failpoints;

use super::introspection::{help_reply, is, lossy};
use crate::commands::args::int_arg;
use crate::config::ProtectedCommands;
use crate::dispatch::Conn;
use crate::error::CommandError;

const HELP: &[&str] = &[
    "FSYNC-DELAY <milliseconds>",
    "    Delay every synced write of the Raft log by <milliseconds>, as a slow disk would; 0 turns",
    "    the delay off. Redraft only.",
];

/// Redis 7's refusal of a protected command, word for word.
const NOT_ALLOWED: &str = "DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you \
                           can run it from a local connection, otherwise you need to set this option in the \
                           configuration file, and then restart the server.";

pub fn run(conn: &mut Conn, args: &[Bytes]) -> Result<Frame, CommandError> {
    if !allowed(conn.node.args.enable_debug_command, &peer_addr(conn)) {
        return Err(CommandError::err(NOT_ALLOWED));
    }
    let sub = &args[1];
    match args.len() {
        2 if is(sub, "help") => Ok(help_reply(&args[0], HELP)),
        3 if is(sub, "fsync-delay") => {
            let delay_ms = int_arg(&args[2])?;
            let max = failpoints::FSYNC_DELAY_MS_MAX;
            let delay_ms = u64::try_from(delay_ms)
                .ok()
                .filter(|ms| *ms <= max)
                .ok_or_else(|| CommandError::err(format!("fsync delay must be between 0 and {max} milliseconds")))?;
            failpoints::set_fsync_delay_ms(delay_ms);
            tracing::warn!(delay_ms, "DEBUG FSYNC-DELAY: synced Raft log writes are delayed");
            Ok(Frame::ok())
        }
        _ => Err(subcommand_syntax_error(sub, "DEBUG")),
    }
}

/// Redis's `addReplySubcommandSyntaxError`, for commands that parse their own subcommands.
pub fn subcommand_syntax_error(sub: &[u8], container: &str) -> CommandError {
    let shown = &sub[..sub.len().min(128)];
    CommandError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try {container} HELP.",
        lossy(shown)
    ))
}

fn peer_addr(conn: &Conn) -> String {
    let clients = conn.node.clients.lock().unwrap_or_else(|e| e.into_inner());
    clients.get(&conn.id).map(|info| info.addr.clone()).unwrap_or_default()
}

/// Whether a client at `peer` (`ip:port`) may run a command protected by `setting`: "local"
/// means loopback, as Redis's `islocalClient` (Redraft has no Unix socket).
pub fn allowed(setting: ProtectedCommands, peer: &str) -> bool {
    match setting {
        ProtectedCommands::Yes => true,
        ProtectedCommands::No => false,
        ProtectedCommands::Local => peer.parse::<SocketAddr>().is_ok_and(|addr| addr.ip().is_loopback()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_means_loopback_clients_only() {
        assert!(allowed(ProtectedCommands::Local, "127.0.0.1:5000"));
        assert!(allowed(ProtectedCommands::Local, "[::1]:5000"));
        assert!(!allowed(ProtectedCommands::Local, "10.0.0.7:5000"));
        assert!(!allowed(ProtectedCommands::Local, "garbage"));
        assert!(allowed(ProtectedCommands::Yes, "10.0.0.7:5000"));
        assert!(!allowed(ProtectedCommands::No, "127.0.0.1:5000"));
    }

    #[test]
    fn unknown_subcommands_get_redis_text() {
        let error = subcommand_syntax_error(b"nosuch", "DEBUG");
        assert_eq!(
            error.to_string(),
            "ERR unknown subcommand or wrong number of arguments for 'nosuch'. Try DEBUG HELP."
        );
    }
}
