//! Commands the connection layer answers itself: they concern the client,
//! the transaction it is building, or this node, not the keyspace.
//!
//! # Layout
//! - this file: PING ECHO SELECT QUIT RESET HELLO AUTH READONLY READWRITE
//!   MULTI EXEC DISCARD WATCH UNWATCH ROLE LASTSAVE, and the routing of the rest.
//! - [`client`]: CLIENT subcommands.
//! - [`introspection`]: COMMAND and CONFIG.
//! - [`debug`]: DEBUG, the fault hooks of fault tests.
//! - [`proxy`]: forwarding to the leader in `--follower-mode proxy`.

pub mod client;
pub mod debug;
pub mod introspection;
pub mod proxy;

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use resp::{Frame, RespVersion};
use storage::{Keyspace, TxnGuard, WatchedKey};

use crate::commands::{self, CommandSpec, Handler};
use crate::dispatch::{self, Conn, MultiState};
use crate::error::CommandError;
use crate::node::Reply;

pub use proxy::{proxy, Upstream};

/// The version string clients see: Redraft presents itself as Redis 7.2.
pub const REDIS_VERSION: &str = "7.2.4";

fn reply(result: Result<Frame, CommandError>) -> Reply {
    Reply::Frame(result.unwrap_or_else(|e| e.to_frame()))
}

/// Runs a connection command.
pub fn run<'a>(
    conn: &'a mut Conn,
    spec: &'static CommandSpec,
    args: Vec<Bytes>,
) -> Pin<Box<dyn Future<Output = Reply> + Send + 'a>> {
    Box::pin(async move {
        match spec.name {
            "ping" if args.len() > 2 => reply(Err(CommandError::WrongArity("ping".into()))),
            "ping" => Reply::Frame(ping_reply(&args, false)),
            "echo" => Reply::Frame(Frame::Bulk(args[1].clone())),
            "select" => reply(parse_select(&args, conn.node.args.databases).map(|db| {
                conn.db = db;
                Frame::ok()
            })),
            "quit" => {
                conn.closing = true;
                Reply::Frame(Frame::ok())
            }
            "reset" => {
                reset(conn);
                Reply::Frame(Frame::simple("RESET"))
            }
            "hello" => reply(hello(conn, &args)),
            "auth" => reply(auth(&args)),
            "readonly" => {
                conn.readonly = true;
                conn.update_info(|i| i.readonly = true);
                Reply::Frame(Frame::ok())
            }
            "readwrite" => {
                conn.readonly = false;
                conn.update_info(|i| i.readonly = false);
                Reply::Frame(Frame::ok())
            }
            "multi" => reply(multi(conn)),
            "discard" => reply(discard(conn)),
            "exec" => exec(conn).await,
            "watch" => reply(watch(conn, &args).await),
            "unwatch" => {
                conn.watches.clear();
                Reply::Frame(Frame::ok())
            }
            "client" => reply(client::run(conn, &args)),
            "info" => reply(crate::info::render(conn, &args)),
            "cluster" => reply(crate::cluster::run(conn, &args).await),
            "command" => reply(introspection::command(conn, &args)),
            "config" => reply(introspection::config(conn, &args)),
            "debug" => reply(debug::run(conn, &args)),
            "role" => Reply::Frame(role(conn)),
            "lastsave" => Reply::Frame(Frame::Integer(
                (crate::node::wall_clock_ms() / 1000) as i64 - conn.node.started_at.elapsed().as_secs() as i64,
            )),
            other => reply(Err(CommandError::err(format!("'{other}' has no connection handler")))),
        }
    })
}

/// PING's reply: PONG, or the argument.
pub fn ping_reply(args: &[Bytes], _subscribed: bool) -> Frame {
    match args.get(1) {
        Some(message) => Frame::Bulk(message.clone()),
        None => Frame::simple("PONG"),
    }
}

/// SELECT's argument, checked against the number of databases.
///
/// # Errors
/// Redis's errors for a non-integer or out-of-range index.
pub fn parse_select(args: &[Bytes], db_count: u16) -> Result<u16, CommandError> {
    let index = commands::args::int_arg(&args[1])?;
    if index < 0 || index >= db_count as i64 {
        return Err(CommandError::DbIndexOutOfRange);
    }
    Ok(index as u16)
}

fn reset(conn: &mut Conn) {
    conn.multi = None;
    conn.watches.clear();
    conn.db = 0;
    conn.resp = RespVersion::Resp2;
    conn.readonly = false;
    conn.update_info(|i| {
        i.name = None;
        i.resp = 2;
        i.readonly = false;
        i.db = 0;
    });
}

fn hello(conn: &mut Conn, args: &[Bytes]) -> Result<Frame, CommandError> {
    let mut version = conn.resp;
    let mut at = 1;
    if let Some(proto) = args.get(1) {
        let number = commands::args::parse_i64(proto)
            .ok_or_else(|| CommandError::err("Protocol version is not an integer or out of range"))?;
        version = match number {
            2 => RespVersion::Resp2,
            3 => RespVersion::Resp3,
            _ => return Err(CommandError::Prefixed("NOPROTO unsupported protocol version".into())),
        };
        at = 2;
    }
    let mut name = None;
    while at < args.len() {
        let option = &args[at];
        let remaining = args.len() - at - 1;
        if option.eq_ignore_ascii_case(b"AUTH") && remaining >= 2 {
            auth(&[Bytes::from_static(b"auth"), args[at + 1].clone(), args[at + 2].clone()])?;
            at += 3;
        } else if option.eq_ignore_ascii_case(b"SETNAME") && remaining >= 1 {
            client::validate_name(&args[at + 1])?;
            name = Some(args[at + 1].clone());
            at += 2;
        } else {
            return Err(CommandError::err(format!(
                "Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(option)
            )));
        }
    }
    conn.resp = version;
    let proto = if version == RespVersion::Resp3 { 3 } else { 2 };
    conn.update_info(|i| {
        i.resp = proto;
        if let Some(n) = &name {
            i.name = Some(String::from_utf8_lossy(n).into_owned());
        }
    });
    let role = if conn.node.is_leader() { "master" } else { "replica" };
    Ok(Frame::Map(vec![
        (Frame::bulk("server"), Frame::bulk("redis")),
        (Frame::bulk("version"), Frame::bulk(REDIS_VERSION)),
        (Frame::bulk("proto"), Frame::Integer(proto as i64)),
        (Frame::bulk("id"), Frame::Integer(conn.id as i64)),
        (Frame::bulk("mode"), Frame::bulk("cluster")),
        (Frame::bulk("role"), Frame::bulk(role)),
        (Frame::bulk("modules"), Frame::Array(vec![])),
    ]))
}

/// AUTH with no password configured, as Redis answers it: the default user
/// has no password, so `AUTH default <anything>` succeeds.
fn auth(args: &[Bytes]) -> Result<Frame, CommandError> {
    match args.len() {
        2 => Err(CommandError::err(
            "AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
        )),
        3 if args[1].as_ref() == b"default" => Ok(Frame::ok()),
        3 => Err(CommandError::Prefixed("WRONGPASS invalid username-password pair or user is disabled.".into())),
        _ => Err(CommandError::Syntax),
    }
}

fn multi(conn: &mut Conn) -> Result<Frame, CommandError> {
    if conn.multi.is_some() {
        return Err(CommandError::err("MULTI calls can not be nested"));
    }
    conn.multi = Some(MultiState::default());
    Ok(Frame::ok())
}

fn discard(conn: &mut Conn) -> Result<Frame, CommandError> {
    if conn.multi.take().is_none() {
        return Err(CommandError::err("DISCARD without MULTI"));
    }
    conn.watches.clear();
    Ok(Frame::ok())
}

/// WATCH reads each key's version linearizably (after a leadership check),
/// so a write acknowledged before WATCH returned is never missed.
async fn watch(conn: &mut Conn, args: &[Bytes]) -> Result<Frame, CommandError> {
    if conn.multi.is_some() {
        return Err(CommandError::err("WATCH inside MULTI is not allowed"));
    }
    let slot = storage::keys::key_slot(&args[1]);
    if !conn.node.is_leader() {
        return Err(conn.node.redirect(slot));
    }
    conn.node.read_barrier(slot).await?;
    let view = conn.node.view()?;
    if conn.watches.is_empty() {
        conn.watch_index = view.index();
    } else {
        conn.watch_index = conn.watch_index.min(view.index());
    }
    for key in &args[1..] {
        let current = view.get(conn.db, key)?;
        conn.watches.push(WatchedKey {
            db: conn.db,
            key: key.clone(),
            existed: current.is_some(),
            modified_index: current.map(|v| v.header.modified_index).unwrap_or(0),
        });
    }
    Ok(Frame::ok())
}

/// Whether a queued command must go through the log (a write, or SELECT
/// which changes how later writes are applied).
fn replicated(spec: &CommandSpec) -> bool {
    spec.is_write() || spec.name == "select"
}

/// Whether a queued command runs inside the batch (data commands, and the
/// connection commands the executor knows) or at EXEC time on this node.
fn runs_in_batch(spec: &CommandSpec) -> bool {
    matches!(spec.handler, Handler::Data(_)) || matches!(spec.name, "select" | "ping" | "echo")
}

async fn exec(conn: &mut Conn) -> Reply {
    let Some(state) = conn.multi.take() else {
        return reply(Err(CommandError::err("EXEC without MULTI")));
    };
    let watches = std::mem::take(&mut conn.watches);
    if state.failed {
        return reply(Err(CommandError::Prefixed(
            "EXECABORT Transaction discarded because of previous errors.".into(),
        )));
    }
    let guard = TxnGuard { watches, watch_index: conn.watch_index };
    let specs: Vec<&'static CommandSpec> = state.queued.iter().filter_map(|args| commands::lookup(&args[0])).collect();
    if specs.len() != state.queued.len() {
        return reply(Err(CommandError::err("a queued command disappeared from the command table")));
    }
    // Connection commands other than SELECT/PING/ECHO cannot run inside
    // apply; they run here, at EXEC time, and their replies are spliced in.
    let any_write = specs.iter().any(|s| replicated(s));
    let mut local_replies = Vec::new();
    let mut batch_commands = Vec::new();
    for (spec, args) in specs.iter().zip(state.queued) {
        if runs_in_batch(spec) {
            batch_commands.push(args);
        } else {
            local_replies.push(run(conn, spec, args).await);
        }
    }
    let slot = specs
        .iter()
        .zip(batch_commands.iter())
        .find_map(|(spec, args)| spec.keys_of(args).first().map(|&i| storage::keys::key_slot(&args[i])))
        .unwrap_or(0);
    let batch_frame = if any_write {
        if !conn.node.is_leader() {
            return reply(Err(conn.node.redirect(slot)));
        }
        let bytes: usize = batch_commands.iter().flatten().map(|a| a.len()).sum();
        if bytes > dispatch::PROPOSAL_BYTES_MAX {
            return reply(Err(CommandError::err(format!(
                "transaction of {bytes} bytes exceeds the {} bytes a replicated write may carry",
                dispatch::PROPOSAL_BYTES_MAX
            ))));
        }
        let mut batch = conn.batch(batch_commands);
        batch.transaction = Some(guard);
        match conn.node.propose(batch, slot).await {
            Ok(response) => {
                if let Some(db) = response.db_after {
                    conn.db = db;
                }
                response.frame.unwrap_or(Frame::NullArray)
            }
            Err(e) => return reply(Err(e)),
        }
    } else {
        match read_only_exec(conn, &guard, &batch_commands, slot).await {
            Ok(frame) => frame,
            Err(e) => return reply(Err(e)),
        }
    };
    splice(conn, &specs, batch_frame, local_replies)
}

/// A transaction of reads only: one leadership check, one snapshot.
async fn read_only_exec(
    conn: &mut Conn,
    guard: &TxnGuard,
    commands_args: &[Vec<Bytes>],
    slot: u16,
) -> Result<Frame, CommandError> {
    dispatch::before_read(conn, slot).await?;
    let mut view = conn.node.view()?;
    if !crate::executor::watches_hold(&view, guard)? {
        return Ok(Frame::NullArray);
    }
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::from_entropy();
    let mut db = conn.db;
    let replies = commands_args
        .iter()
        .map(|args| {
            crate::executor::run_command(&mut view, &mut db, conn.node.args.databases, conn.resp3(), &mut rng, args)
        })
        .collect();
    Ok(Frame::Array(replies))
}

/// Puts replies of commands run at EXEC time back in their queue positions.
fn splice(conn: &Conn, specs: &[&'static CommandSpec], batch_frame: Frame, local: Vec<Reply>) -> Reply {
    if local.is_empty() {
        return Reply::Frame(batch_frame);
    }
    let Frame::Array(batch_replies) = batch_frame else { return Reply::Frame(batch_frame) };
    let mut batch_replies = batch_replies.into_iter();
    let mut local = local.into_iter();
    let mut out = Vec::with_capacity(specs.len());
    for spec in specs {
        let next = if runs_in_batch(spec) { batch_replies.next().map(Reply::Frame) } else { local.next() };
        match next {
            Some(Reply::Frame(frame)) => out.push(frame),
            Some(Reply::Raw(raw)) => {
                // Proxied replies are already encoded; re-parse to nest them.
                match resp::parse_frame(&raw, &resp::Limits::default()) {
                    Ok(Some((frame, _))) => out.push(frame),
                    _ => out.push(CommandError::err("unparsable proxied reply").to_frame()),
                }
            }
            None => out.push(Frame::Null),
        }
    }
    let _ = conn;
    Reply::Frame(Frame::Array(out))
}

fn role(conn: &Conn) -> Frame {
    let node = &conn.node;
    let metrics = node.metrics();
    let applied = metrics.last_applied.map(|l| l.index).unwrap_or(0) as i64;
    if node.is_leader() {
        let replicas = node
            .voters()
            .into_iter()
            .filter(|(id, _)| *id != node.id)
            .map(|(id, addr)| {
                let (host, port) = split_host_port(&addr.client_addr);
                let matched = metrics
                    .replication
                    .as_ref()
                    .and_then(|r| r.get(&id).cloned().flatten())
                    .map(|l| l.index)
                    .unwrap_or(0);
                Frame::Array(vec![Frame::bulk(host), Frame::bulk(port), Frame::bulk(matched.to_string())])
            })
            .collect();
        Frame::Array(vec![Frame::bulk("master"), Frame::Integer(applied), Frame::Array(replicas)])
    } else {
        let (host, port, state) = match node.leader() {
            Some((_, addr)) => {
                let (h, p) = split_host_port(&addr.client_addr);
                (h, p.parse::<i64>().unwrap_or(0), "connected")
            }
            None => (String::from("?"), 0, "connect"),
        };
        Frame::Array(vec![
            Frame::bulk("slave"),
            Frame::bulk(host),
            Frame::Integer(port),
            Frame::bulk(state),
            Frame::Integer(applied),
        ])
    }
}

/// Splits `host:port` (the port is after the last colon).
pub fn split_host_port(addr: &str) -> (String, String) {
    match addr.rsplit_once(':') {
        Some((host, port)) => (host.to_string(), port.to_string()),
        None => (addr.to_string(), String::from("0")),
    }
}
