//! CONFIG GET/SET/RESETSTAT over a static table of the parameters Redraft
//! has. Values come from the command line (`ServerArgs`) or are the fixed
//! behaviour of Redraft (no RDB snapshots, no eviction, ...); only what can
//! really change at runtime is settable.

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use resp::Frame;

use super::{help_reply, lossy, subcommand};
use crate::commands::glob;
use crate::dispatch::Conn;
use crate::error::CommandError;
use crate::node::Node;

const HELP: &[&str] = &[
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
];

/// How a parameter changes at runtime.
#[derive(Clone, Copy)]
pub enum Setter {
    Immutable,
    /// An integer in `min..=max`, applied by `apply`.
    Integer {
        min: u64,
        max: u64,
        apply: fn(&Node, u64),
    },
}

/// One CONFIG parameter.
pub struct Param {
    pub name: &'static str,
    pub value: fn(&Node) -> String,
    pub setter: Setter,
}

const fn fixed(name: &'static str, value: fn(&Node) -> String) -> Param {
    Param { name, value, setter: Setter::Immutable }
}

fn set_maxclients(node: &Node, value: u64) {
    node.maxclients.store(usize::try_from(value).unwrap_or(usize::MAX), Ordering::Relaxed);
}

/// The parameters, in the order CONFIG GET lists them.
pub static PARAMS: &[Param] = &[
    // Writes are acknowledged once the Raft entry is fsynced on a quorum:
    // every write is durable, which is what "always" promises.
    fixed("appendfsync", |_| "always".into()),
    fixed("appendonly", |_| "no".into()),
    fixed("bind", |n| n.args.bind.clone()),
    fixed("cluster-enabled", |_| "yes".into()),
    // The cluster bus is the Raft port.
    fixed("cluster-port", |n| n.args.raft_port.to_string()),
    fixed("daemonize", |_| "no".into()),
    fixed("enable-debug-command", |n| n.args.enable_debug_command.name().into()),
    fixed("databases", |n| n.args.databases.to_string()),
    fixed("dir", |n| std::path::absolute(&n.args.dir).unwrap_or_else(|_| n.args.dir.clone()).display().to_string()),
    fixed("hz", |_| "10".into()),
    fixed("io-threads", |_| "1".into()),
    Param {
        name: "maxclients",
        value: |n| n.maxclients.load(Ordering::Relaxed).to_string(),
        setter: Setter::Integer { min: 1, max: u32::MAX as u64, apply: set_maxclients },
    },
    fixed("maxmemory", |_| "0".into()),
    fixed("maxmemory-policy", |_| "noeviction".into()),
    fixed("port", |n| n.args.port.to_string()),
    fixed("protected-mode", |_| "no".into()),
    fixed("proto-max-bulk-len", |_| "536870912".into()),
    fixed("replica-read-only", |_| "yes".into()),
    fixed("requirepass", |_| String::new()),
    fixed("save", |_| String::new()),
    // Sockets are not given SO_KEEPALIVE; Raft heartbeats watch the peers.
    fixed("tcp-keepalive", |_| "0".into()),
    fixed("timeout", |_| "0".into()),
    fixed("redraft-follower-mode", |n| {
        match n.args.follower_mode {
            crate::config::FollowerMode::Redirect => "redirect",
            crate::config::FollowerMode::Proxy => "proxy",
        }
        .into()
    }),
    fixed("redraft-node-id", |n| n.id.to_string()),
    fixed("redraft-write-timeout-ms", |n| n.args.write_timeout_ms.to_string()),
];

pub fn run(conn: &mut Conn, args: &[Bytes]) -> Result<Frame, CommandError> {
    let sub = subcommand(conn, args)?;
    match sub.name {
        "get" => Ok(get(&conn.node, &args[2..])),
        "set" => set(&conn.node, &args[2..]).map(|()| Frame::ok()),
        "resetstat" => {
            reset_stats(&conn.node);
            Ok(Frame::ok())
        }
        "help" => Ok(help_reply(&args[0], HELP)),
        _ => Err(super::unknown_subcommand(&args[0], &args[1])),
    }
}

/// The parameters matching any of `patterns` (case-insensitive globs), each
/// once, in table order.
pub fn matching(patterns: &[Bytes]) -> Vec<&'static Param> {
    PARAMS.iter().filter(|p| patterns.iter().any(|pat| glob::matches(pat, p.name.as_bytes(), true))).collect()
}

/// `CONFIG GET pattern...`: a map of name to value (a flat array in RESP2).
fn get(node: &Node, patterns: &[Bytes]) -> Frame {
    Frame::Map(matching(patterns).into_iter().map(|p| (Frame::bulk(p.name), Frame::bulk((p.value)(node)))).collect())
}

fn find(name: &[u8]) -> Option<&'static Param> {
    PARAMS.iter().find(|p| p.name.as_bytes().eq_ignore_ascii_case(name))
}

fn set_failed(name: &[u8], why: &str) -> CommandError {
    CommandError::err(format!("CONFIG SET failed (possibly related to argument '{}') - {why}", lossy(name)))
}

/// Checks every `name value` pair of CONFIG SET, the way Redis does before
/// changing anything: unknown names first, then immutable or duplicate
/// ones, then the values. Returns what to apply.
pub fn validate_set(pairs: &[Bytes]) -> Result<Vec<(&'static Param, u64)>, CommandError> {
    if !pairs.len().is_multiple_of(2) {
        return Err(CommandError::Syntax);
    }
    let mut found = Vec::new();
    let mut unknown = None;
    let mut refused = None;
    let mut seen = HashSet::new();
    for pair in pairs.chunks(2) {
        let Some(param) = find(&pair[0]) else {
            unknown.get_or_insert_with(|| pair[0].clone());
            continue;
        };
        if refused.is_none() {
            if matches!(param.setter, Setter::Immutable) {
                refused = Some(set_failed(&pair[0], "can't set immutable config"));
            } else if !seen.insert(param.name) {
                refused = Some(set_failed(&pair[0], "duplicate parameter"));
            }
        }
        found.push((param, &pair[0], &pair[1]));
    }
    if let Some(name) = unknown {
        return Err(CommandError::err(format!(
            "Unknown option or number of arguments for CONFIG SET - '{}'",
            lossy(&name)
        )));
    }
    if let Some(e) = refused {
        return Err(e);
    }
    found
        .into_iter()
        .map(|(param, name, value)| match param.setter {
            Setter::Integer { min, max, .. } => {
                let number = std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.parse::<i128>().ok())
                    .ok_or_else(|| set_failed(name, "argument couldn't be parsed into an integer"))?;
                if number < min as i128 || number > max as i128 {
                    return Err(set_failed(name, &format!("argument must be between {min} and {max} inclusive")));
                }
                Ok((param, number as u64))
            }
            Setter::Immutable => Err(set_failed(name, "can't set immutable config")),
        })
        .collect()
}

/// `CONFIG SET name value [name value ...]`: all or nothing.
fn set(node: &Node, pairs: &[Bytes]) -> Result<(), CommandError> {
    for (param, value) in validate_set(pairs)? {
        if let Setter::Integer { apply, .. } = param.setter {
            apply(node, value);
        }
    }
    Ok(())
}

/// CONFIG RESETSTAT: the counters INFO stats shows start again from zero.
/// Prometheus sees that as a counter reset, as after a restart. The Raft
/// proposal and barrier counts are not Redis statistics and are kept.
pub fn reset_stats(node: &Node) {
    let s = &node.stats;
    for counter in [
        &s.connections_received,
        &s.commands_processed,
        &s.rejected_connections,
        &s.keyspace_hits,
        &s.keyspace_misses,
        &s.net_input_bytes,
        &s.net_output_bytes,
    ] {
        counter.store(0, Ordering::Relaxed);
    }
}
