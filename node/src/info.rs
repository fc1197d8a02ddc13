//! INFO: Redis 7.2's sections, in Redis's order and format, plus `raft`.
//!
//! Fields Redraft has no counterpart for (fork, AOF rewrite, defrag, ...)
//! are reported with the value an idle Redis shows, so parsers that expect
//! them keep working. The `raft` section is only shown when asked for by
//! name or with `all`/`everything`.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use resp::Frame;
use storage::Keyspace;

use crate::cluster::{Role, View};
use crate::dispatch::Conn;
use crate::error::CommandError;
use crate::node::{wall_clock_ms, Node};
use crate::session::introspection::text_reply;
use crate::session::REDIS_VERSION;

/// Every section, in the order INFO prints them, with its title.
const SECTIONS: [(&str, &str); 14] = [
    ("server", "Server"),
    ("clients", "Clients"),
    ("memory", "Memory"),
    ("persistence", "Persistence"),
    ("stats", "Stats"),
    ("replication", "Replication"),
    ("cpu", "CPU"),
    ("modules", "Modules"),
    ("commandstats", "Commandstats"),
    ("errorstats", "Errorstats"),
    ("latencystats", "Latencystats"),
    ("cluster", "Cluster"),
    ("keyspace", "Keyspace"),
    ("raft", "Raft"),
];

/// The sections of a bare INFO (and of `INFO default`).
const DEFAULT: [&str; 11] = [
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];

/// The sections INFO's arguments ask for, in printing order.
pub fn selected(args: &[Bytes]) -> Vec<&'static str> {
    let wanted = |name: &str| -> bool {
        if args.is_empty() {
            return DEFAULT.contains(&name);
        }
        args.iter().any(|arg| {
            let arg = arg.to_ascii_lowercase();
            arg == name.as_bytes()
                || arg == b"all"
                || arg == b"everything"
                || (arg == b"default" && DEFAULT.contains(&name))
        })
    };
    SECTIONS.iter().map(|(name, _)| *name).filter(|name| wanted(name)).collect()
}

/// One section's text: a `# Title` line, then `key:value` lines.
#[derive(Default)]
pub struct Section {
    text: String,
}

impl Section {
    pub fn new(title: &str) -> Self {
        Section { text: format!("# {title}\r\n") }
    }

    pub fn line(&mut self, key: impl Display, value: impl Display) -> &mut Self {
        self.text.push_str(&format!("{key}:{value}\r\n"));
        self
    }

    /// Lines whose values Redraft has no counterpart for.
    pub fn fixed(&mut self, lines: &[(&str, &str)]) -> &mut Self {
        for (key, value) in lines {
            self.line(key, value);
        }
        self
    }

    pub fn into_text(self) -> String {
        self.text
    }
}

/// Joins sections the way Redis does: a blank line between two.
pub fn join(sections: Vec<String>) -> String {
    sections.join("\r\n")
}

pub fn render(conn: &Conn, args: &[Bytes]) -> Result<Frame, CommandError> {
    let node = &conn.node;
    let mut texts = Vec::new();
    for name in selected(&args[1..]) {
        texts.push(section(node, name)?);
    }
    Ok(text_reply(join(texts)))
}

fn title(name: &str) -> &'static str {
    SECTIONS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t).unwrap_or("")
}

fn section(node: &Node, name: &str) -> Result<String, CommandError> {
    let mut s = Section::new(title(name));
    match name {
        "server" => server(node, &mut s),
        "clients" => clients(node, &mut s),
        "memory" => memory(&mut s),
        "persistence" => persistence(node, &mut s),
        "stats" => stats(node, &mut s),
        "replication" => replication(&ReplicationFacts::of(node), &mut s),
        "cpu" => cpu(&mut s),
        "cluster" => {
            s.line("cluster_enabled", 1);
        }
        "keyspace" => keyspace(&keyspace_counts(node)?, &mut s),
        "raft" => raft(&RaftFacts::of(node), &mut s),
        // modules, commandstats, errorstats, latencystats: nothing tracked.
        _ => {}
    }
    Ok(s.into_text())
}

/// `sysname release machine`, as Redis's `os:` field.
fn os() -> String {
    // SAFETY: `uname` fills the zeroed struct; its fields are NUL-terminated.
    let mut name: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut name) } != 0 {
        return std::env::consts::OS.to_string();
    }
    let field = |raw: &[libc::c_char]| {
        let bytes: Vec<u8> = raw.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    format!("{} {} {}", field(&name.sysname), field(&name.release), field(&name.machine))
}

/// A stable 16-hex-digit id of this build (Redis's `redis_build_id`).
fn build_id() -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in env!("CARGO_PKG_VERSION").bytes() {
        hash = (hash ^ b as u64).wrapping_mul(0x100_0000_01b3);
    }
    format!("{hash:016x}")
}

fn server(node: &Node, s: &mut Section) {
    let now_us = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros()).unwrap_or(0);
    let uptime = node.started_at.elapsed().as_secs();
    let executable = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default();
    s.line("redis_version", REDIS_VERSION)
        .line("redis_git_sha1", "00000000")
        .line("redis_git_dirty", 0)
        .line("redis_build_id", build_id())
        .line("redis_mode", "cluster")
        .line("os", os())
        .line("arch_bits", usize::BITS)
        .line("monotonic_clock", "POSIX clock_gettime")
        .line("multiplexing_api", "epoll")
        .line("atomicvar_api", "c11-builtin")
        .line("gcc_version", "0.0.0")
        .line("process_id", std::process::id())
        .line("process_supervised", "no")
        .line("run_id", &node.run_id)
        .line("tcp_port", node.args.port)
        .line("server_time_usec", now_us)
        .line("uptime_in_seconds", uptime)
        .line("uptime_in_days", uptime / 86_400)
        .line("hz", 10)
        .line("configured_hz", 10)
        // Redis's LRU clock: seconds, wrapping at 24 bits.
        .line("lru_clock", (wall_clock_ms() / 1000) & ((1 << 24) - 1))
        .line("executable", executable)
        .line("config_file", "")
        .line("io_threads_active", 0)
        .line("listener0", format!("name=tcp,bind={},port={}", node.args.bind, node.args.port))
        .line("redraft_version", env!("CARGO_PKG_VERSION"));
}

fn clients(node: &Node, s: &mut Section) {
    let connected = node.clients.lock().unwrap_or_else(|p| p.into_inner()).len();
    s.line("connected_clients", connected)
        .line("cluster_connections", 0)
        .line("maxclients", node.maxclients.load(Ordering::Relaxed))
        .fixed(&[
            ("client_recent_max_input_buffer", "0"),
            ("client_recent_max_output_buffer", "0"),
            ("blocked_clients", "0"),
            ("tracking_clients", "0"),
            ("pubsub_clients", "0"),
            ("watching_clients", "0"),
            ("clients_in_timeout_table", "0"),
            ("total_watched_keys", "0"),
            ("total_blocking_keys", "0"),
            ("total_blocking_keys_on_nokey", "0"),
        ]);
}

/// Redis's `bytesToHuman`.
pub fn bytes_to_human(n: u64) -> String {
    const UNITS: [(u64, &str); 5] = [(1 << 50, "P"), (1 << 40, "T"), (1 << 30, "G"), (1 << 20, "M"), (1 << 10, "K")];
    for (size, unit) in UNITS {
        if n >= size {
            return format!("{:.2}{unit}", n as f64 / size as f64);
        }
    }
    format!("{n}B")
}

/// Resident set size in bytes from `/proc/self/statm` (pages).
pub fn parse_statm_rss(statm: &str, page_size: u64) -> Option<u64> {
    statm.split_whitespace().nth(1)?.parse::<u64>().ok().map(|pages| pages * page_size)
}

/// `MemTotal` in bytes from `/proc/meminfo` (kB).
pub fn parse_meminfo_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kb| kb * 1024)
}

/// The largest RSS INFO has seen, for `used_memory_peak`.
static PEAK_RSS: AtomicU64 = AtomicU64::new(0);

fn memory(s: &mut Section) {
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(1) as u64;
    let rss = std::fs::read_to_string("/proc/self/statm").ok().and_then(|t| parse_statm_rss(&t, page)).unwrap_or(0);
    let total = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| parse_meminfo_total(&t)).unwrap_or(0);
    let peak = PEAK_RSS.fetch_max(rss, Ordering::Relaxed).max(rss);
    // No allocator statistics: what the process uses is its RSS (RocksDB's
    // block cache and memtables included).
    s.line("used_memory", rss)
        .line("used_memory_human", bytes_to_human(rss))
        .line("used_memory_rss", rss)
        .line("used_memory_rss_human", bytes_to_human(rss))
        .line("used_memory_peak", peak)
        .line("used_memory_peak_human", bytes_to_human(peak))
        .line(
            "used_memory_peak_perc",
            format!("{:.2}%", if peak == 0 { 0.0 } else { rss as f64 * 100.0 / peak as f64 }),
        )
        .line("total_system_memory", total)
        .line("total_system_memory_human", bytes_to_human(total))
        .fixed(&[
            ("maxmemory", "0"),
            ("maxmemory_human", "0B"),
            ("maxmemory_policy", "noeviction"),
            ("mem_fragmentation_ratio", "1.00"),
            ("mem_allocator", "libc"),
            ("lazyfree_pending_objects", "0"),
            ("lazyfreed_objects", "0"),
        ]);
}

fn persistence(node: &Node, s: &mut Section) {
    let started = (wall_clock_ms() / 1000).saturating_sub(node.started_at.elapsed().as_secs());
    s.fixed(&[
        ("loading", "0"),
        ("async_loading", "0"),
        ("current_cow_peak", "0"),
        ("current_cow_size", "0"),
        ("current_cow_size_age", "0"),
        ("current_fork_perc", "0.00"),
        ("current_save_keys_processed", "0"),
        ("current_save_keys_total", "0"),
        ("rdb_changes_since_last_save", "0"),
        ("rdb_bgsave_in_progress", "0"),
    ])
    .line("rdb_last_save_time", started)
    .fixed(&[
        ("rdb_last_bgsave_status", "ok"),
        ("rdb_last_bgsave_time_sec", "-1"),
        ("rdb_current_bgsave_time_sec", "-1"),
        ("rdb_saves", "0"),
        ("rdb_last_cow_size", "0"),
        ("rdb_last_load_keys_expired", "0"),
        ("rdb_last_load_keys_loaded", "0"),
        ("aof_enabled", "0"),
        ("aof_rewrite_in_progress", "0"),
        ("aof_rewrite_scheduled", "0"),
        ("aof_last_rewrite_time_sec", "-1"),
        ("aof_current_rewrite_time_sec", "-1"),
        ("aof_last_bgrewrite_status", "ok"),
        ("aof_rewrites", "0"),
        ("aof_rewrites_consecutive_failures", "0"),
        ("aof_last_write_status", "ok"),
        ("aof_last_cow_size", "0"),
        ("module_fork_in_progress", "0"),
        ("module_fork_last_cow_size", "0"),
    ]);
}

fn stats(node: &Node, s: &mut Section) {
    let st = &node.stats;
    let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
    s.line("total_connections_received", get(&st.connections_received))
        .line("total_commands_processed", get(&st.commands_processed))
        .line("instantaneous_ops_per_sec", 0)
        .line("total_net_input_bytes", get(&st.net_input_bytes))
        .line("total_net_output_bytes", get(&st.net_output_bytes))
        .fixed(&[
            ("total_net_repl_input_bytes", "0"),
            ("total_net_repl_output_bytes", "0"),
            ("instantaneous_input_kbps", "0.00"),
            ("instantaneous_output_kbps", "0.00"),
            ("instantaneous_input_repl_kbps", "0.00"),
            ("instantaneous_output_repl_kbps", "0.00"),
        ])
        .line("rejected_connections", get(&st.rejected_connections))
        .fixed(&[
            ("sync_full", "0"),
            ("sync_partial_ok", "0"),
            ("sync_partial_err", "0"),
            ("expired_keys", "0"),
            ("expired_stale_perc", "0.00"),
            ("expired_time_cap_reached_count", "0"),
            ("expire_cycle_cpu_milliseconds", "0"),
            ("evicted_keys", "0"),
            ("evicted_clients", "0"),
            ("total_eviction_exceeded_time", "0"),
            ("current_eviction_exceeded_time", "0"),
        ])
        .line("keyspace_hits", get(&st.keyspace_hits))
        .line("keyspace_misses", get(&st.keyspace_misses))
        .fixed(&[
            ("pubsub_channels", "0"),
            ("pubsub_patterns", "0"),
            ("pubsubshard_channels", "0"),
            ("latest_fork_usec", "0"),
            ("total_forks", "0"),
            ("migrate_cached_sockets", "0"),
            ("slave_expires_tracked_keys", "0"),
            ("active_defrag_hits", "0"),
            ("active_defrag_misses", "0"),
            ("active_defrag_key_hits", "0"),
            ("active_defrag_key_misses", "0"),
            ("total_active_defrag_time", "0"),
            ("current_active_defrag_time", "0"),
            ("tracking_total_keys", "0"),
            ("tracking_total_items", "0"),
            ("tracking_total_prefixes", "0"),
            ("unexpected_error_replies", "0"),
            ("total_error_replies", "0"),
            ("dump_payload_sanitizations", "0"),
            ("total_reads_processed", "0"),
            ("total_writes_processed", "0"),
            ("io_threaded_reads_processed", "0"),
            ("io_threaded_writes_processed", "0"),
            ("reply_buffer_shrinks", "0"),
            ("reply_buffer_expands", "0"),
            ("eventloop_cycles", "0"),
            ("eventloop_duration_sum", "0"),
            ("eventloop_duration_cmd_sum", "0"),
            ("instantaneous_eventloop_cycles_per_sec", "0"),
            ("instantaneous_eventloop_duration_usec", "0"),
            ("acl_access_denied_auth", "0"),
            ("acl_access_denied_cmd", "0"),
            ("acl_access_denied_key", "0"),
            ("acl_access_denied_channel", "0"),
        ]);
}

/// What the replication section needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicationFacts {
    pub view: View,
    pub applied: u64,
    pub last_log: u64,
    pub purged: u64,
    /// Used as the replication id while no leader is known.
    pub run_id: String,
}

impl ReplicationFacts {
    fn of(node: &Node) -> Self {
        let m = node.metrics();
        ReplicationFacts {
            view: View::of(node),
            applied: m.last_applied.map(|l| l.index).unwrap_or(0),
            last_log: m.last_log_index.unwrap_or(0),
            purged: m.purged.map(|l| l.index).unwrap_or(0),
            run_id: node.run_id.clone(),
        }
    }
}

/// The replication id: the same on every node for one leadership (term and
/// leader), and new after a failover, as Redis's changes on promotion.
pub fn replication_id(facts: &ReplicationFacts) -> String {
    match facts.view.leader {
        Some(leader) => format!("{:024x}{:016x}", facts.view.epoch, leader),
        None => facts.run_id.clone(),
    }
}

/// The leader is the master; the other members are its replicas. The Raft
/// log plays the replication backlog.
pub fn replication(facts: &ReplicationFacts, s: &mut Section) {
    let view = &facts.view;
    let me = view.members.iter().find(|m| m.myself);
    if me.is_some_and(|m| m.role == Role::Primary) {
        let replicas: Vec<_> = view.replicas().collect();
        s.line("role", "master").line("connected_slaves", replicas.len());
        for (i, r) in replicas.iter().enumerate() {
            let state = if r.linked { "online" } else { "wait_bgsave" };
            s.line(
                format!("slave{i}"),
                format!("ip={},port={},state={state},offset={},lag=0", r.host, r.port, r.offset),
            );
        }
    } else {
        let (host, port, up) = match view.primary() {
            Some(p) => (p.host.clone(), p.port, true),
            None => ("?".to_string(), 0, false),
        };
        s.line("role", "slave")
            .line("master_host", host)
            .line("master_port", port)
            .line("master_link_status", if up { "up" } else { "down" })
            .line("master_last_io_seconds_ago", if up { 0 } else { -1 })
            .line("master_sync_in_progress", 0)
            .line("slave_read_repl_offset", facts.applied)
            .line("slave_repl_offset", facts.applied);
        if !up {
            s.line("master_link_down_since_seconds", -1);
        }
        s.line("slave_priority", 100)
            .line("slave_read_only", 1)
            .line("replica_announced", 1)
            .line("connected_slaves", 0);
    }
    let first = facts.purged + 1;
    s.line("master_failover_state", "no-failover")
        .line("master_replid", replication_id(facts))
        .line("master_replid2", "0".repeat(40))
        .line("master_repl_offset", facts.applied)
        .line("second_repl_offset", -1)
        .line("repl_backlog_active", 1)
        .line("repl_backlog_size", facts.last_log.saturating_sub(facts.purged))
        .line("repl_backlog_first_byte_offset", first)
        .line("repl_backlog_histlen", facts.last_log.saturating_sub(facts.purged));
}

fn cpu(s: &mut Section) {
    let usage = |who| {
        // SAFETY: getrusage fills the zeroed struct.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(who, &mut ru) };
        let secs = |tv: libc::timeval| format!("{}.{:06}", tv.tv_sec, tv.tv_usec);
        (secs(ru.ru_stime), secs(ru.ru_utime))
    };
    let (sys, user) = usage(libc::RUSAGE_SELF);
    let (sys_children, user_children) = usage(libc::RUSAGE_CHILDREN);
    s.line("used_cpu_sys", sys)
        .line("used_cpu_user", user)
        .line("used_cpu_sys_children", sys_children)
        .line("used_cpu_user_children", user_children);
}

/// Keys and keys with a TTL per non-empty database.
pub type KeyspaceCounts = BTreeMap<u16, (u64, u64)>;

/// Counts keys and expiring keys per database, both maintained by apply.
fn keyspace_counts(node: &Node) -> Result<KeyspaceCounts, CommandError> {
    let view = node.view()?;
    let mut counts = KeyspaceCounts::new();
    for db in 0..node.args.databases {
        let keys = view.db_size(db)?;
        if keys > 0 {
            counts.insert(db, (keys, view.expires_count(db)?));
        }
    }
    Ok(counts)
}

pub fn keyspace(counts: &KeyspaceCounts, s: &mut Section) {
    for (db, (keys, expires)) in counts {
        s.line(format!("db{db}"), format!("keys={keys},expires={expires},avg_ttl=0"));
    }
}

/// What the raft section shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RaftFacts {
    pub node_id: u64,
    pub role: &'static str,
    pub leader: Option<u64>,
    pub term: u64,
    pub last_log: u64,
    pub applied: u64,
    pub snapshot: u64,
    pub purged: u64,
    pub voters: Vec<u64>,
    pub learners: Vec<u64>,
    pub millis_since_quorum_ack: Option<u64>,
    pub proposals: u64,
    pub read_barriers: u64,
}

impl RaftFacts {
    fn of(node: &Node) -> Self {
        use openraft::ServerState;
        let m = node.metrics();
        let membership = m.membership_config.membership();
        RaftFacts {
            node_id: node.id,
            role: match m.state {
                ServerState::Leader => "leader",
                ServerState::Follower => "follower",
                ServerState::Candidate => "candidate",
                ServerState::Learner => "learner",
                ServerState::Shutdown => "shutdown",
            },
            leader: m.current_leader,
            term: m.current_term,
            last_log: m.last_log_index.unwrap_or(0),
            applied: m.last_applied.map(|l| l.index).unwrap_or(0),
            snapshot: m.snapshot.map(|l| l.index).unwrap_or(0),
            purged: m.purged.map(|l| l.index).unwrap_or(0),
            voters: membership.voter_ids().collect(),
            learners: membership.learner_ids().collect(),
            millis_since_quorum_ack: m.millis_since_quorum_ack,
            proposals: node.stats.proposals.load(Ordering::Relaxed),
            read_barriers: node.stats.read_barriers.load(Ordering::Relaxed),
        }
    }
}

fn ids(list: &[u64]) -> String {
    list.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
}

fn opt(value: Option<u64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

pub fn raft(f: &RaftFacts, s: &mut Section) {
    s.line("raft_node_id", f.node_id)
        .line("raft_role", f.role)
        .line("raft_leader_id", opt(f.leader))
        .line("raft_term", f.term)
        .line("raft_last_log_index", f.last_log)
        // openraft 0.9 does not publish the commit index; what is applied
        // here was committed, so it is a lower bound.
        .line("raft_commit_index", f.applied)
        .line("raft_applied_index", f.applied)
        .line("raft_snapshot_index", f.snapshot)
        .line("raft_purged_index", f.purged)
        .line("raft_voters", ids(&f.voters))
        .line("raft_learners", ids(&f.learners))
        .line("raft_millis_since_quorum_ack", opt(f.millis_since_quorum_ack))
        .line("raft_proposals", f.proposals)
        .line("raft_read_barriers", f.read_barriers);
}

#[cfg(test)]
#[path = "info_tests.rs"]
mod tests;
