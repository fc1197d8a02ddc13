//! CLUSTER: one shard holding every slot, whose primary is the Raft leader
//! and whose replicas are the other members of the Raft group.
//!
//! # Names
//! Redis node ids are 40 hex characters. A Redraft node's is its Raft node
//! id in hex, zero-padded to 40 (`node_name`), so every node derives the same
//! name for a peer without exchanging anything. The shard id is the
//! constant [`SHARD_ID`]: there is one shard, and its first 24 hex digits
//! are non-zero so it can never equal a node name.
//!
//! # Addresses
//! The client endpoint of a node is its `NodeAddr::client_addr`; its
//! cluster-bus port (`@cport` in CLUSTER NODES) is the port of its Raft
//! address, the one port nodes talk to each other on.

use bytes::Bytes;
use resp::Frame;
use storage::keys::{key_slot, SLOT_COUNT};
use storage::Keyspace;

use crate::commands::args::int_arg;
use crate::dispatch::Conn;
use crate::error::CommandError;
use crate::node::Node;
use crate::session::introspection::{help_reply, lossy, subcommand, text_reply, unknown_subcommand};
use crate::session::split_host_port;

/// The shard id every node reports (CLUSTER MYSHARDID, CLUSTER SHARDS).
pub const SHARD_ID: &str = "5265647261667420736861726400000000000001";

const HELP: &[&str] = &[
    "COUNTKEYSINSLOT <slot>",
    "    Return the number of keys in <slot>.",
    "FAILOVER [FORCE|TAKEOVER]",
    "    Promote current replica node to being a master.",
    "GETKEYSINSLOT <slot> <count>",
    "    Return key names stored by current node in a slot.",
    "INFO",
    "    Return information about the cluster.",
    "KEYSLOT <key>",
    "    Return the hash slot for <key>.",
    "MYID",
    "    Return the node id.",
    "MYSHARDID",
    "    Return the node's shard id.",
    "NODES",
    "    Return cluster configuration seen by node. Output format:",
    "    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
    "REPLICAS <node-id>",
    "    Return <node-id> replicas.",
    "SLOTS",
    "    Return information about slots range mappings. Each range is made of:",
    "    start, end, master and replicas IP addresses, ports and ids",
    "SHARDS",
    "    Return information about slot range mappings and the nodes associated with them.",
];

/// The Redis node name of Raft node `id`.
pub fn node_name(id: u64) -> String {
    format!("{id:040x}")
}

/// A member's part in the shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The Raft leader: the master holding every slot.
    Primary,
    /// Another member while a leader is known.
    Replica,
    /// Any member while no leader is known: a master without slots.
    Orphan,
}

/// One member of the Raft group as the CLUSTER replies describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: u64,
    pub host: String,
    pub port: u16,
    pub cport: u16,
    pub role: Role,
    pub myself: bool,
    /// Replication offset: the applied index for this node, the matched
    /// index the leader knows for others, our own applied index (a lower
    /// bound) for the leader seen from a follower.
    pub offset: u64,
    /// Whether the link to it is known to be up.
    pub linked: bool,
}

/// The cluster as this node sees it: the primary first, then the others by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub members: Vec<Member>,
    pub leader: Option<u64>,
    /// The Raft term: Redis's current and config epochs.
    pub epoch: u64,
}

fn port_of(addr: &str) -> u16 {
    split_host_port(addr).1.parse().unwrap_or(0)
}

impl View {
    pub fn of(node: &Node) -> View {
        let metrics = node.metrics();
        let membership = metrics.membership_config.membership();
        let applied = metrics.last_applied.map(|l| l.index).unwrap_or(0);
        let leader = metrics.current_leader.filter(|id| membership.get_node(id).is_some());
        let mut members: Vec<Member> = membership
            .nodes()
            .map(|(&id, addr)| {
                let (host, port) = split_host_port(&addr.client_addr);
                let role = match leader {
                    Some(l) if l == id => Role::Primary,
                    Some(_) => Role::Replica,
                    None => Role::Orphan,
                };
                let matched = metrics.replication.as_ref().map(|r| r.get(&id).copied().flatten().map(|l| l.index));
                let (offset, linked) = if id == node.id {
                    (applied, true)
                } else {
                    match matched {
                        // We lead: the matched index is what the peer has.
                        Some(m) => (m.unwrap_or(0), m.is_some()),
                        None if role == Role::Primary => (applied, true),
                        None => (0, leader.is_some()),
                    }
                };
                Member {
                    id,
                    host,
                    port: port.parse().unwrap_or(0),
                    cport: port_of(&addr.raft_addr),
                    role,
                    myself: id == node.id,
                    offset,
                    linked,
                }
            })
            .collect();
        if !members.iter().any(|m| m.myself) {
            // Not (yet) a member: still describe ourselves, without slots.
            let (host, port) = split_host_port(&node.client_addr);
            members.push(Member {
                id: node.id,
                host,
                port: port.parse().unwrap_or(0),
                cport: node.args.raft_port,
                role: if leader.is_some() { Role::Replica } else { Role::Orphan },
                myself: true,
                offset: applied,
                linked: true,
            });
        }
        View::new(members, leader, metrics.current_term)
    }

    pub fn new(mut members: Vec<Member>, leader: Option<u64>, epoch: u64) -> View {
        members.sort_by_key(|m| (m.role != Role::Primary, m.id));
        View { members, leader, epoch }
    }

    pub fn primary(&self) -> Option<&Member> {
        self.members.iter().find(|m| m.role == Role::Primary)
    }

    pub fn replicas(&self) -> impl Iterator<Item = &Member> {
        self.members.iter().filter(|m| m.role == Role::Replica)
    }
}

/// One CLUSTER NODES line (without the newline):
/// `<id> <ip:port@cport> <flags> <master> <ping-sent> <pong-recv> <config-epoch> <link-state> <slots>`.
pub fn nodes_line(view: &View, m: &Member) -> String {
    let role = match m.role {
        Role::Replica => "slave",
        Role::Primary | Role::Orphan => "master",
    };
    let flags = if m.myself { format!("myself,{role}") } else { role.to_string() };
    let master = match (m.role, view.leader) {
        (Role::Replica, Some(leader)) => node_name(leader),
        _ => "-".to_string(),
    };
    let link = if m.linked { "connected" } else { "disconnected" };
    let slots = if m.role == Role::Primary { format!(" 0-{}", SLOT_COUNT - 1) } else { String::new() };
    format!("{} {}:{}@{} {flags} {master} 0 0 {} {link}{slots}", node_name(m.id), m.host, m.port, m.cport, view.epoch)
}

pub fn nodes_text(view: &View) -> String {
    view.members.iter().map(|m| nodes_line(view, m) + "\n").collect()
}

/// CLUSTER INFO's text.
pub fn info_text(view: &View) -> String {
    let (state, slots, size) = if view.primary().is_some() { ("ok", SLOT_COUNT, 1) } else { ("fail", 0, 0) };
    let my_epoch = view.epoch;
    let lines = [
        format!("cluster_state:{state}"),
        format!("cluster_slots_assigned:{slots}"),
        format!("cluster_slots_ok:{slots}"),
        "cluster_slots_pfail:0".to_string(),
        "cluster_slots_fail:0".to_string(),
        format!("cluster_known_nodes:{}", view.members.len()),
        format!("cluster_size:{size}"),
        format!("cluster_current_epoch:{}", view.epoch),
        format!("cluster_my_epoch:{my_epoch}"),
        "cluster_stats_messages_sent:0".to_string(),
        "cluster_stats_messages_received:0".to_string(),
        "total_cluster_links_buffer_limit_exceeded:0".to_string(),
    ];
    lines.iter().map(|l| format!("{l}\r\n")).collect()
}

fn slots_node(m: &Member) -> Frame {
    Frame::Array(vec![
        Frame::bulk(m.host.clone()),
        Frame::Integer(m.port as i64),
        Frame::bulk(node_name(m.id)),
        // Hostname and other endpoint metadata (none: the endpoint is the host).
        Frame::Map(Vec::new()),
    ])
}

/// CLUSTER SLOTS: `[[0, 16383, primary, replicas...]]`, or nothing while no
/// leader is known.
pub fn slots_reply(view: &View) -> Frame {
    let Some(primary) = view.primary() else { return Frame::Array(Vec::new()) };
    let mut range = vec![Frame::Integer(0), Frame::Integer(SLOT_COUNT as i64 - 1), slots_node(primary)];
    range.extend(view.replicas().map(slots_node));
    Frame::Array(vec![Frame::Array(range)])
}

fn field(name: &'static str, value: Frame) -> (Frame, Frame) {
    (Frame::Bulk(Bytes::from_static(name.as_bytes())), value)
}

/// CLUSTER SHARDS: the one shard, its slots and its nodes.
pub fn shards_reply(view: &View) -> Frame {
    let slots = if view.primary().is_some() {
        vec![Frame::Integer(0), Frame::Integer(SLOT_COUNT as i64 - 1)]
    } else {
        Vec::new()
    };
    let nodes = view
        .members
        .iter()
        .map(|m| {
            Frame::Map(vec![
                field("id", Frame::bulk(node_name(m.id))),
                field("port", Frame::Integer(m.port as i64)),
                field("ip", Frame::bulk(m.host.clone())),
                field("endpoint", Frame::bulk(m.host.clone())),
                field("role", Frame::bulk(if m.role == Role::Replica { "replica" } else { "master" })),
                field("replication-offset", Frame::Integer(m.offset as i64)),
                field("health", Frame::bulk(if m.linked { "online" } else { "failed" })),
            ])
        })
        .collect();
    Frame::Array(vec![Frame::Map(vec![field("slots", Frame::Array(slots)), field("nodes", Frame::Array(nodes))])])
}

/// CLUSTER REPLICAS <id>: the NODES lines of the primary's replicas.
pub fn replicas_reply(view: &View, name: &[u8]) -> Result<Frame, CommandError> {
    let member = view
        .members
        .iter()
        .find(|m| node_name(m.id).as_bytes().eq_ignore_ascii_case(name))
        .ok_or_else(|| CommandError::err(format!("Unknown node {}", lossy(name))))?;
    if member.role != Role::Primary {
        return Err(CommandError::err("The specified node is not a master"));
    }
    Ok(Frame::Array(view.replicas().map(|r| Frame::bulk(nodes_line(view, r))).collect()))
}

/// A slot argument of COUNTKEYSINSLOT/GETKEYSINSLOT.
pub fn parse_slot(arg: &[u8], error: &str) -> Result<u16, CommandError> {
    let slot = int_arg(arg)?;
    u16::try_from(slot).ok().filter(|s| *s < SLOT_COUNT).ok_or_else(|| CommandError::err(error))
}

pub async fn run(conn: &mut Conn, args: &[Bytes]) -> Result<Frame, CommandError> {
    let sub = subcommand(conn, args)?;
    match sub.name {
        "info" => Ok(text_reply(info_text(&View::of(&conn.node)))),
        "myid" => Ok(Frame::bulk(node_name(conn.node.id))),
        "myshardid" => Ok(Frame::bulk(SHARD_ID)),
        "nodes" => Ok(text_reply(nodes_text(&View::of(&conn.node)))),
        "slots" => Ok(slots_reply(&View::of(&conn.node))),
        "shards" => Ok(shards_reply(&View::of(&conn.node))),
        "replicas" => replicas_reply(&View::of(&conn.node), &args[2]),
        "keyslot" => Ok(Frame::Integer(key_slot(&args[2]) as i64)),
        "countkeysinslot" => {
            let slot = parse_slot(&args[2], "Invalid slot")?;
            // Key-reading subcommands are reads like any other.
            crate::dispatch::before_read(conn, slot).await?;
            let count = conn.node.view()?.keys_in_slot(conn.db, slot, usize::MAX)?.len();
            Ok(Frame::Integer(count as i64))
        }
        "getkeysinslot" => {
            let slot = int_arg(&args[2])?;
            let count = int_arg(&args[3])?;
            let invalid = || CommandError::err("Invalid slot or number of keys");
            let slot = u16::try_from(slot).ok().filter(|s| *s < SLOT_COUNT).ok_or_else(invalid)?;
            let count = usize::try_from(count).map_err(|_| invalid())?;
            // Key-reading subcommands are reads like any other.
            crate::dispatch::before_read(conn, slot).await?;
            let keys = conn.node.view()?.keys_in_slot(conn.db, slot, count)?;
            Ok(Frame::Array(keys.into_iter().map(Frame::Bulk).collect()))
        }
        "failover" => failover(conn, args).await,
        "help" => Ok(help_reply(&args[0], HELP)),
        _ => Err(unknown_subcommand(&args[0], &args[1])),
    }
}

/// `CLUSTER FAILOVER [FORCE|TAKEOVER]` on a replica: it stands for election at once, with a
/// higher term, instead of waiting for the leader to fail.
///
/// Redis's errors for the leader and for a replica without a known leader (unless FORCE or
/// TAKEOVER) are kept. Unlike Redis, the replica does not wait for the master to hand over its
/// offset: Raft makes that unnecessary (a candidate whose log is behind is refused, and
/// the voters' leader lease refuses any candidate while the current leader is healthy, so the
/// new term only unseats the leader once its lease runs out; another node may win the election).
/// The reply is sent when the election has started, not when it is won.
async fn failover(conn: &mut Conn, args: &[Bytes]) -> Result<Frame, CommandError> {
    let force = match args.get(2) {
        _ if args.len() > 3 => return Err(crate::session::debug::subcommand_syntax_error(&args[1], "CLUSTER")),
        None => false,
        Some(option) if option.eq_ignore_ascii_case(b"force") || option.eq_ignore_ascii_case(b"takeover") => true,
        Some(_) => return Err(CommandError::Syntax),
    };
    let view = View::of(&conn.node);
    if view.leader == Some(conn.node.id) {
        return Err(CommandError::err("You should send CLUSTER FAILOVER to a replica"));
    }
    if view.leader.is_none() && !force {
        return Err(CommandError::err("Master is down or failed, please use CLUSTER FAILOVER FORCE"));
    }
    tracing::info!(force, "CLUSTER FAILOVER: standing for election");
    conn.node.raft.trigger().elect().await.map_err(|e| CommandError::err(format!("failover failed: {e}")))?;
    Ok(Frame::ok())
}

#[cfg(test)]
#[path = "cluster_tests.rs"]
mod tests;
