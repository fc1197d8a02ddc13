//! The command table and the command families.
//!
//! Every command is one [`CommandSpec`] line in its family's `COMMANDS`
//! table: name, arity, flags, key positions and handler. The table drives
//! dispatch, routing (which key decides the hash slot of a MOVED), `COMMAND`
//! introspection and, later, ACL categories.
//!
//! # Layout
//! - this file: [`CommandSpec`], [`Flags`], [`Handler`], [`Ctx`], [`lookup`].
//! - [`args`]: [`args::ArgCursor`] and the number parsers with Redis's error texts.
//! - one module per family: `string`, `keys`, `dump`, `expire`, `server_data`,
//!   `list`, `hash`, `set`, `zset`, `stream`, `bitmap`, `hyperloglog`,
//!   `geo`; connection, cluster and transaction commands live in
//!   `session_table` and are run by `crate::session`.
//! - [`collection`]: what the collection families share.

pub mod args;
pub mod bitmap;
pub mod collection;
pub mod dump;
pub mod expire;
pub mod geo;
pub mod glob;
pub mod hash;
pub mod hyperloglog;
pub mod json;
pub mod keys;
pub mod list;
pub mod long_double;
pub mod movable_keys;
mod property_tests;
pub mod server_data;
pub mod session_table;
pub mod set;
pub mod stream;
pub mod string;
pub mod testing;
pub mod zset;

use std::collections::HashMap;
use std::sync::OnceLock;

use bytes::Bytes;
use rand_chacha::ChaCha8Rng;
use resp::Frame;
use storage::{DbIndex, Keyspace};

use crate::error::CommandError;

bitflags::bitflags! {
    /// Command flags, as `COMMAND INFO` reports them.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Flags: u32 {
        const WRITE = 1 << 0;
        const READONLY = 1 << 1;
        const DENYOOM = 1 << 2;
        const ADMIN = 1 << 3;
        const PUBSUB = 1 << 4;
        const NOSCRIPT = 1 << 5;
        const BLOCKING = 1 << 6;
        const LOADING = 1 << 7;
        const STALE = 1 << 8;
        const SKIP_MONITOR = 1 << 9;
        const SKIP_SLOWLOG = 1 << 10;
        const FAST = 1 << 11;
        const NO_AUTH = 1 << 12;
        const MAY_REPLICATE = 1 << 13;
        const NO_MULTI = 1 << 14;
        const ALLOW_BUSY = 1 << 15;
        /// Not a Redis flag: the command reads or writes nothing replicated
        /// and is answered by the node it arrives at (PING, CLIENT, ...).
        const LOCAL = 1 << 31;
    }
}

impl Flags {
    /// The flag names `COMMAND INFO` lists, in Redis's order.
    pub fn names(self) -> Vec<&'static str> {
        let table: [(Flags, &str); 16] = [
            (Flags::WRITE, "write"),
            (Flags::READONLY, "readonly"),
            (Flags::DENYOOM, "denyoom"),
            (Flags::ADMIN, "admin"),
            (Flags::PUBSUB, "pubsub"),
            (Flags::NOSCRIPT, "noscript"),
            (Flags::BLOCKING, "blocking"),
            (Flags::LOADING, "loading"),
            (Flags::STALE, "stale"),
            (Flags::SKIP_MONITOR, "skip_monitor"),
            (Flags::SKIP_SLOWLOG, "skip_slowlog"),
            (Flags::FAST, "fast"),
            (Flags::NO_AUTH, "no_auth"),
            (Flags::MAY_REPLICATE, "may_replicate"),
            (Flags::NO_MULTI, "no_multi"),
            (Flags::ALLOW_BUSY, "allow_busy"),
        ];
        table.iter().filter(|(f, _)| self.contains(*f)).map(|(_, n)| *n).collect()
    }
}

/// The command group, as `COMMAND DOCS` reports it; also the ACL category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Generic,
    String,
    Server,
    Connection,
    Cluster,
    Transactions,
    List,
    Hash,
    Set,
    SortedSet,
    Stream,
    Bitmap,
    Hyperloglog,
    Geo,
    /// RedisJSON's commands (a module in Redis: no ACL category of its own).
    Json,
}

impl Group {
    pub fn name(self) -> &'static str {
        match self {
            Group::Generic => "generic",
            Group::String => "string",
            Group::Server => "server",
            Group::Connection => "connection",
            Group::Cluster => "cluster",
            Group::Transactions => "transactions",
            Group::List => "list",
            Group::Hash => "hash",
            Group::Set => "set",
            Group::SortedSet => "sorted-set",
            Group::Stream => "stream",
            Group::Bitmap => "bitmap",
            Group::Hyperloglog => "hyperloglog",
            Group::Geo => "geo",
            Group::Json => "json",
        }
    }
}

/// A data command: runs against the keyspace. Read-only commands run on a
/// snapshot after the leader confirms its leadership; write commands run
/// inside the state machine's apply, on every replica, so they must be
/// deterministic: time comes from `ctx.ks.now_ms()`, randomness from
/// `ctx.rng`, and nothing else outside `ctx` and `args` may be consulted.
pub type DataHandler = fn(&mut Ctx<'_>, &[Bytes]) -> Result<Frame, CommandError>;

/// How a command is executed.
#[derive(Clone, Copy)]
pub enum Handler {
    /// Runs against the keyspace (see [`DataHandler`]).
    Data(DataHandler),
    /// Answered by the connection layer (`crate::session`), which knows the
    /// client, the Raft node and the server; the name selects the code there.
    Session,
}

/// One line of the command table.
pub struct CommandSpec {
    /// Lower-case name (for subcommands: the subcommand alone, e.g. "setname").
    pub name: &'static str,
    /// Redis's convention: `n` means exactly n arguments including the name,
    /// `-n` means at least n.
    pub arity: i32,
    pub flags: Flags,
    /// 1-based index of the first key argument, 0 if none.
    pub first_key: i32,
    /// Index of the last key argument; -1 means the last argument.
    pub last_key: i32,
    /// Distance between key arguments.
    pub key_step: i32,
    pub group: Group,
    /// The Redis version that introduced the command.
    pub since: &'static str,
    pub summary: &'static str,
    pub handler: Handler,
    /// Subcommands (CLIENT, CLUSTER, OBJECT, COMMAND, ...); empty otherwise.
    pub subcommands: &'static [CommandSpec],
}

impl CommandSpec {
    /// Whether `argc` arguments (name included) satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        let arity = self.arity as i64;
        if arity >= 0 {
            argc == arity
        } else {
            argc >= -arity
        }
    }

    /// The key arguments of a call (indexes into `args`), from the key spec.
    pub fn key_indexes(&self, argc: usize) -> Vec<usize> {
        if self.first_key <= 0 || argc == 0 {
            return Vec::new();
        }
        let last = if self.last_key < 0 { argc as i64 + self.last_key as i64 } else { self.last_key as i64 };
        let step = self.key_step.max(1) as usize;
        let mut out = Vec::new();
        let mut at = self.first_key as usize;
        while (at as i64) <= last && at < argc {
            out.push(at);
            at += step;
        }
        out
    }

    /// The key arguments of a call (indexes into `args`): the key spec's,
    /// or for movable-key commands what [`movable_keys`] finds.
    pub fn keys_of(&self, args: &[Bytes]) -> Vec<usize> {
        movable_keys::key_indexes(self.name, args).unwrap_or_else(|| self.key_indexes(args.len()))
    }

    /// Whether the keys move with the arguments (`movablekeys` in COMMAND INFO).
    pub fn has_movable_keys(&self) -> bool {
        movable_keys::is_movable(self.name)
    }

    /// A data command of `group` without subcommands; `keys` is (first,
    /// last, step) as in COMMAND INFO. Every family's table is built from it.
    #[allow(clippy::too_many_arguments)]
    pub const fn data(
        group: Group,
        name: &'static str,
        arity: i32,
        flags: Flags,
        keys: (i32, i32, i32),
        since: &'static str,
        summary: &'static str,
        handler: DataHandler,
    ) -> CommandSpec {
        CommandSpec {
            name,
            arity,
            flags,
            first_key: keys.0,
            last_key: keys.1,
            key_step: keys.2,
            group,
            since,
            summary,
            handler: Handler::Data(handler),
            subcommands: &[],
        }
    }

    pub fn is_write(&self) -> bool {
        self.flags.contains(Flags::WRITE)
    }

    /// Finds a subcommand by (case-insensitive) name.
    pub fn subcommand(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        self.subcommands.iter().find(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
    }
}

/// What a data command may use.
pub struct Ctx<'a> {
    /// The keyspace: a snapshot for reads, the apply transaction for writes.
    pub ks: &'a mut dyn Keyspace,
    /// The selected database.
    pub db: DbIndex,
    /// Number of databases (`SELECT`/`MOVE` bounds).
    pub db_count: u16,
    /// Whether replies may use RESP3 shapes. Most shapes are chosen by the
    /// encoder; commands whose RESP3 reply has another structure (ZRANGE
    /// WITHSCORES pairs, coming with the sorted sets) read this.
    #[allow(dead_code)]
    pub resp3: bool,
    /// Seeded from the log entry in apply, so every replica draws the same
    /// numbers; from the OS in reads.
    pub rng: &'a mut ChaCha8Rng,
}

/// Every command table, in the order `COMMAND` lists them.
fn tables() -> Vec<&'static [CommandSpec]> {
    vec![
        session_table::COMMANDS,
        string::COMMANDS,
        keys::COMMANDS,
        dump::COMMANDS,
        expire::COMMANDS,
        server_data::COMMANDS,
        list::COMMANDS,
        hash::COMMANDS,
        set::COMMANDS,
        zset::COMMANDS,
        stream::COMMANDS,
        bitmap::COMMANDS,
        hyperloglog::COMMANDS,
        geo::COMMANDS,
        json::COMMANDS,
    ]
}

fn registry() -> &'static HashMap<&'static str, &'static CommandSpec> {
    static REGISTRY: OnceLock<HashMap<&'static str, &'static CommandSpec>> = OnceLock::new();
    REGISTRY.get_or_init(|| tables().into_iter().flatten().map(|spec| (spec.name, spec)).collect())
}

/// Finds a command by name, case-insensitively.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    if name.len() > 64 {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    let lower = std::str::from_utf8(&lower).ok()?;
    registry().get(lower).copied()
}

/// Every command, for `COMMAND` and `COMMAND COUNT`.
pub fn all_commands() -> impl Iterator<Item = &'static CommandSpec> {
    tables().into_iter().flatten()
}

#[cfg(test)]
mod table_tests {
    use super::*;

    #[test]
    fn no_command_is_registered_twice() {
        let mut seen = std::collections::HashSet::new();
        for spec in all_commands() {
            assert!(seen.insert(spec.name), "duplicate command {}", spec.name);
        }
    }

    #[test]
    fn every_key_spec_fits_within_its_arity() {
        for spec in all_commands() {
            if spec.first_key > 0 {
                let min_args = spec.arity.unsigned_abs() as i32;
                assert!(spec.first_key < min_args, "{}: first key beyond arity", spec.name);
                assert!(spec.key_step >= 1, "{}: key step must be positive", spec.name);
            }
        }
    }

    #[test]
    fn every_command_is_either_write_or_readonly_or_local() {
        for spec in all_commands() {
            let kinds =
                [Flags::WRITE, Flags::READONLY, Flags::LOCAL].iter().filter(|f| spec.flags.contains(**f)).count();
            assert!(kinds <= 1, "{}: at most one of write/readonly/local", spec.name);
            if matches!(spec.handler, Handler::Data(_)) {
                assert_eq!(kinds, 1, "{}: data commands are write or readonly", spec.name);
            }
        }
    }
}
