//! The fixed path every command takes: lookup, arity, MULTI queueing,
//! routing (leader or redirect), execution, and the error reply.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use resp::{Frame, RespVersion};
use storage::keys::key_slot;
use storage::{CommandBatch, ReadView, WatchedKey};

use crate::commands::{self, CommandSpec, Ctx, Handler};
use crate::config::FollowerMode;
use crate::error::{unknown_command, CommandError};
use crate::node::{ClientInfo, Node, Reply};
use crate::session;

/// Commands queued by MULTI.
#[derive(Default)]
pub struct MultiState {
    pub queued: Vec<Vec<Bytes>>,
    /// A queued command was rejected (unknown, wrong arity): EXEC aborts.
    pub failed: bool,
}

/// The state of one client connection.
pub struct Conn {
    pub node: Arc<Node>,
    pub id: u64,
    pub db: u16,
    pub resp: RespVersion,
    /// READONLY was sent: reads may be served by a follower (stale).
    pub readonly: bool,
    pub closing: bool,
    pub multi: Option<MultiState>,
    pub watches: Vec<WatchedKey>,
    /// The applied index the WATCHes read.
    pub watch_index: u64,
    pub upstream: Option<crate::session::Upstream>,
}

impl Conn {
    pub fn new(node: Arc<Node>, peer: String, local: String) -> Self {
        let id = node.next_client_id();
        let now = Instant::now();
        let info = ClientInfo {
            id,
            addr: peer,
            laddr: local,
            name: None,
            db: 0,
            resp: 2,
            connected_at: now,
            last_command_at: now,
            last_command: "NULL".into(),
            multi: -1,
            readonly: false,
            lib_name: None,
            lib_ver: None,
        };
        node.clients.lock().expect("client registry poisoned").insert(id, info);
        Conn {
            node,
            id,
            db: 0,
            resp: RespVersion::Resp2,
            readonly: false,
            closing: false,
            multi: None,
            watches: Vec::new(),
            watch_index: 0,
            upstream: None,
        }
    }

    pub fn in_multi(&self) -> bool {
        self.multi.is_some()
    }

    pub fn proxying(&self) -> bool {
        self.node.args.follower_mode == FollowerMode::Proxy && !self.node.is_leader()
    }

    pub fn resp3(&self) -> bool {
        self.resp == RespVersion::Resp3
    }

    /// Updates what CLIENT LIST shows for this connection.
    pub fn update_info(&self, change: impl FnOnce(&mut ClientInfo)) {
        if let Some(info) = self.node.clients.lock().expect("client registry poisoned").get_mut(&self.id) {
            change(info);
        }
    }

    pub fn note_command(&self, args: &[Bytes], at: Instant) {
        let name = args.first().map(|n| String::from_utf8_lossy(n).to_ascii_lowercase()).unwrap_or_default();
        let db = self.db;
        let multi = self.multi.as_ref().map(|m| m.queued.len() as i64).unwrap_or(-1);
        self.update_info(|info| {
            info.last_command_at = at;
            info.last_command = name;
            info.db = db;
            info.multi = multi;
        });
    }

    pub fn unregister(&self) {
        self.node.clients.lock().expect("client registry poisoned").remove(&self.id);
    }

    fn seed() -> u64 {
        rand::thread_rng().gen()
    }

    /// A batch of commands stamped with the leader's time and a fresh seed.
    pub fn batch(&self, commands: Vec<Vec<Bytes>>) -> CommandBatch {
        CommandBatch {
            db: self.db,
            now_ms: self.node.stamp_ms(),
            seed: Self::seed(),
            resp3: self.resp3(),
            commands,
            transaction: None,
        }
    }
}

/// The hash slot a command is routed by: its first key's, or 0.
pub fn slot_of(spec: &CommandSpec, args: &[Bytes]) -> u16 {
    spec.keys_of(args).first().and_then(|&i| args.get(i)).map(|k| key_slot(k)).unwrap_or(0)
}

/// For grouping pipelines: `Some(is_write)` for a well-formed data command.
pub fn groupable(args: &[Bytes]) -> Option<bool> {
    let spec = commands::lookup(args.first()?)?;
    match spec.handler {
        Handler::Data(_) if spec.arity_ok(args.len()) => Some(spec.is_write()),
        _ => None,
    }
}

fn reply(result: Result<Frame, CommandError>) -> Reply {
    Reply::Frame(result.unwrap_or_else(|e| e.to_frame()))
}

/// Runs one command through the whole path.
pub async fn dispatch(conn: &mut Conn, args: Vec<Bytes>) -> Reply {
    let Some(spec) = commands::lookup(&args[0]) else {
        if let Some(multi) = conn.multi.as_mut() {
            multi.failed = true;
        }
        return reply(Err(unknown_command(&args)));
    };
    if !spec.arity_ok(args.len()) {
        if let Some(multi) = conn.multi.as_mut() {
            multi.failed = true;
        }
        return reply(Err(CommandError::WrongArity(spec.name.to_string())));
    }
    if conn.multi.is_some() && !matches!(spec.name, "exec" | "discard" | "multi" | "watch" | "reset" | "quit") {
        if spec.flags.contains(commands::Flags::NO_MULTI) {
            return reply(Err(CommandError::err("Command not allowed inside a transaction")));
        }
        if let Some(multi) = conn.multi.as_mut() {
            multi.queued.push(args);
        }
        return Reply::Frame(Frame::simple("QUEUED"));
    }
    match spec.handler {
        Handler::Session => session::run(conn, spec, args).await,
        Handler::Data(handler) => {
            if spec.is_write() {
                write_one(conn, spec, args).await
            } else {
                read_one(conn, spec, handler, args).await
            }
        }
    }
}

/// The largest command a write may carry: one Raft entry must fit well
/// within the transport's 64 MiB message limit.
pub const PROPOSAL_BYTES_MAX: usize = 32 * 1024 * 1024;

async fn write_one(conn: &mut Conn, spec: &CommandSpec, args: Vec<Bytes>) -> Reply {
    let slot = slot_of(spec, &args);
    let bytes: usize = args.iter().map(|a| a.len()).sum();
    if bytes > PROPOSAL_BYTES_MAX {
        return reply(Err(CommandError::err(format!(
            "command of {bytes} bytes exceeds the {PROPOSAL_BYTES_MAX} bytes a replicated write may carry"
        ))));
    }
    if !conn.node.is_leader() {
        return not_leader(conn, slot, args).await;
    }
    let batch = conn.batch(vec![args]);
    match conn.node.propose(batch, slot).await {
        Ok(response) => Reply::Frame(response.frame.unwrap_or(Frame::Null)),
        Err(e) => reply(Err(e)),
    }
}

/// A command that must run on the leader arrived at a follower.
async fn not_leader(conn: &mut Conn, slot: u16, args: Vec<Bytes>) -> Reply {
    if conn.node.args.follower_mode == FollowerMode::Proxy {
        return session::proxy(conn, args).await;
    }
    reply(Err(conn.node.redirect(slot)))
}

/// Runs a read-only data handler on a fresh snapshot.
pub fn run_read(conn: &Conn, view: &mut ReadView<'_>, handler: commands::DataHandler, args: &[Bytes]) -> Frame {
    let mut rng = ChaCha8Rng::from_entropy();
    let mut ctx = Ctx { ks: view, db: conn.db, db_count: conn.node.args.databases, resp3: conn.resp3(), rng: &mut rng };
    handler(&mut ctx, args).unwrap_or_else(|e| e.to_frame())
}

/// Whether this connection may read here, after what check.
enum ReadRoute {
    /// Leader: confirm leadership first.
    Linearizable,
    /// Follower with READONLY: serve possibly stale state.
    Stale,
    /// Redirect or proxy.
    Elsewhere,
}

fn read_route(conn: &Conn) -> ReadRoute {
    if conn.node.is_leader() {
        ReadRoute::Linearizable
    } else if conn.readonly {
        ReadRoute::Stale
    } else {
        ReadRoute::Elsewhere
    }
}

/// What every read does before it reads: confirm leadership on the leader,
/// nothing on a READONLY follower (stale reads were asked for), and a
/// redirect anywhere else.
///
/// # Errors
/// MOVED/TRYAGAIN/CLUSTERDOWN when the read cannot be served here.
pub async fn before_read(conn: &Conn, slot: u16) -> Result<(), CommandError> {
    match read_route(conn) {
        ReadRoute::Linearizable => conn.node.read_barrier(slot).await,
        ReadRoute::Stale => Ok(()),
        ReadRoute::Elsewhere => Err(conn.node.redirect(slot)),
    }
}

/// The hash slot of a whole request, looking its command up.
fn slot_of_request(args: &[Bytes]) -> u16 {
    commands::lookup(&args[0]).map(|spec| slot_of(spec, args)).unwrap_or(0)
}

/// Runs requests one by one through the whole path (when a group cannot be
/// served here as a group, each request gets its own redirect or proxying).
async fn dispatch_each(conn: &mut Conn, group: Vec<Vec<Bytes>>) -> Vec<Reply> {
    let mut replies = Vec::with_capacity(group.len());
    for args in group {
        replies.push(dispatch(conn, args).await);
    }
    replies
}

async fn read_one(conn: &mut Conn, spec: &CommandSpec, handler: commands::DataHandler, args: Vec<Bytes>) -> Reply {
    let slot = slot_of(spec, &args);
    if matches!(read_route(conn), ReadRoute::Elsewhere) {
        return not_leader(conn, slot, args).await;
    }
    if let Err(e) = before_read(conn, slot).await {
        return reply(Err(e));
    }
    let node = conn.node.clone();
    let mut view = match node.view() {
        Ok(view) => view,
        Err(e) => return reply(Err(e)),
    };
    Reply::Frame(run_read(conn, &mut view, handler, &args))
}

/// Consecutive pipelined writes: one Raft entry for all of them.
pub async fn write_group(conn: &mut Conn, group: Vec<Vec<Bytes>>) -> Vec<Reply> {
    if !conn.node.is_leader() {
        return dispatch_each(conn, group).await;
    }
    let count = group.len();
    let slot = slot_of_request(&group[0]);
    let batch = conn.batch(group);
    match conn.node.propose(batch, slot).await {
        Ok(response) => match response.frame {
            Some(Frame::Array(frames)) if frames.len() == count => frames.into_iter().map(Reply::Frame).collect(),
            other => {
                tracing::error!(?other, "a pipelined batch replied with the wrong shape");
                let e = CommandError::err("internal error: batch reply of the wrong shape");
                (0..count).map(|_| reply(Err(e.clone()))).collect()
            }
        },
        Err(e) => (0..count).map(|_| reply(Err(e.clone()))).collect(),
    }
}

/// Consecutive pipelined reads: one leadership confirmation, one snapshot.
pub async fn read_group(conn: &mut Conn, group: Vec<Vec<Bytes>>) -> Vec<Reply> {
    if matches!(read_route(conn), ReadRoute::Elsewhere) {
        return dispatch_each(conn, group).await;
    }
    if let Err(e) = before_read(conn, slot_of_request(&group[0])).await {
        return group.iter().map(|_| reply(Err(e.clone()))).collect();
    }
    let node = conn.node.clone();
    let mut view = match node.view() {
        Ok(view) => view,
        Err(e) => return group.iter().map(|_| reply(Err(e.clone()))).collect(),
    };
    group
        .iter()
        .map(|args| match commands::lookup(&args[0]).map(|s| s.handler) {
            Some(Handler::Data(handler)) => Reply::Frame(run_read(conn, &mut view, handler, args)),
            _ => reply(Err(unknown_command(args))),
        })
        .collect()
}
