//! Table lines of the commands the connection layer answers
//! (`crate::session`): connection, transactions, cluster, introspection.

use super::{CommandSpec, Flags, Group, Handler};

const fn local(
    name: &'static str,
    arity: i32,
    flags: Flags,
    group: Group,
    since: &'static str,
    summary: &'static str,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags: flags.union(Flags::LOCAL),
        first_key: 0,
        last_key: 0,
        key_step: 0,
        group,
        since,
        summary,
        handler: Handler::Session,
        subcommands: &[],
    }
}

const fn with_subcommands(mut spec: CommandSpec, subcommands: &'static [CommandSpec]) -> CommandSpec {
    spec.subcommands = subcommands;
    spec
}

const FAST_STALE: Flags = Flags::FAST.union(Flags::STALE).union(Flags::LOADING);
const CONN: Flags = Flags::NOSCRIPT.union(Flags::LOADING).union(Flags::STALE);

pub static CLIENT_SUBCOMMANDS: &[CommandSpec] = &[
    local("setname", 3, CONN, Group::Connection, "2.6.9", "Sets the connection name."),
    local("getname", 2, CONN, Group::Connection, "2.6.9", "Returns the name of the connection."),
    local("id", 2, CONN, Group::Connection, "5.0.0", "Returns the unique client ID of the connection."),
    local("info", 2, CONN, Group::Connection, "6.2.0", "Returns information about the connection."),
    local("list", -2, CONN.union(Flags::ADMIN), Group::Connection, "2.4.0", "Lists open connections."),
    local("setinfo", 4, CONN, Group::Connection, "7.2.0", "Sets information specific to the client or connection."),
    local("kill", -3, CONN.union(Flags::ADMIN), Group::Connection, "2.4.0", "Terminates open connections."),
    local("help", 2, CONN, Group::Connection, "5.0.0", "Returns helpful text about the different subcommands."),
    local(
        "no-evict",
        3,
        CONN.union(Flags::ADMIN),
        Group::Connection,
        "7.0.0",
        "Sets the client eviction mode of the connection.",
    ),
    local(
        "no-touch",
        3,
        CONN,
        Group::Connection,
        "7.2.0",
        "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
    ),
    local("reply", 3, CONN, Group::Connection, "3.2.0", "Instructs the server whether to reply to commands."),
];

pub static CLUSTER_SUBCOMMANDS: &[CommandSpec] = &[
    local("info", 2, Flags::STALE, Group::Cluster, "3.0.0", "Returns information about the state of a node."),
    local("myid", 2, Flags::STALE, Group::Cluster, "3.0.0", "Returns the ID of a node."),
    local("myshardid", 2, Flags::STALE, Group::Cluster, "7.2.0", "Returns the shard ID of a node."),
    local("slots", 2, Flags::STALE, Group::Cluster, "3.0.0", "Returns the mapping of cluster slots to nodes."),
    local("shards", 2, Flags::STALE, Group::Cluster, "7.0.0", "Returns the mapping of cluster slots to shards."),
    local("nodes", 2, Flags::STALE, Group::Cluster, "3.0.0", "Returns the cluster configuration for a node."),
    local(
        "replicas",
        3,
        Flags::ADMIN.union(Flags::STALE),
        Group::Cluster,
        "5.0.0",
        "Lists the replica nodes of a master node.",
    ),
    local("keyslot", 3, Flags::STALE, Group::Cluster, "3.0.0", "Returns the hash slot for a key."),
    local(
        "failover",
        -2,
        Flags::ADMIN.union(Flags::STALE),
        Group::Cluster,
        "3.0.0",
        "Forces a replica to perform a manual failover of its master.",
    ),
    local("countkeysinslot", 3, Flags::STALE, Group::Cluster, "3.0.0", "Returns the number of keys in a hash slot."),
    local("getkeysinslot", 4, Flags::STALE, Group::Cluster, "3.0.0", "Returns the key names in a hash slot."),
    local(
        "help",
        2,
        Flags::LOADING.union(Flags::STALE),
        Group::Cluster,
        "5.0.0",
        "Returns helpful text about the different subcommands.",
    ),
];

pub static COMMAND_SUBCOMMANDS: &[CommandSpec] = &[
    local("count", 2, FAST_STALE, Group::Server, "2.8.13", "Returns a count of commands."),
    local("info", -2, FAST_STALE, Group::Server, "2.8.13", "Returns information about one, multiple or all commands."),
    local(
        "docs",
        -2,
        FAST_STALE,
        Group::Server,
        "7.0.0",
        "Returns documentary information about one, multiple or all commands.",
    ),
    local("list", -2, FAST_STALE, Group::Server, "7.0.0", "Returns a list of command names."),
    local("getkeys", -3, FAST_STALE, Group::Server, "2.8.13", "Extracts the key names from an arbitrary command."),
    local("help", 2, FAST_STALE, Group::Server, "5.0.0", "Returns helpful text about the different subcommands."),
];

pub static CONFIG_SUBCOMMANDS: &[CommandSpec] = &[
    local(
        "get",
        -3,
        Flags::ADMIN.union(CONN),
        Group::Server,
        "2.0.0",
        "Returns the effective values of configuration parameters.",
    ),
    local("set", -4, Flags::ADMIN.union(CONN), Group::Server, "2.0.0", "Sets configuration parameters in-flight."),
    local("resetstat", 2, Flags::ADMIN.union(CONN), Group::Server, "2.0.0", "Resets the server's statistics."),
    local("help", 2, FAST_STALE, Group::Server, "5.0.0", "Returns helpful text about the different subcommands."),
];

pub static COMMANDS: &[CommandSpec] = &[
    local(
        "ping",
        -1,
        Flags::FAST.union(Flags::STALE),
        Group::Connection,
        "1.0.0",
        "Returns the server's liveliness response.",
    ),
    local(
        "echo",
        2,
        Flags::FAST.union(Flags::STALE).union(Flags::LOADING),
        Group::Connection,
        "1.0.0",
        "Returns the given string.",
    ),
    local("select", 2, CONN.union(Flags::FAST), Group::Connection, "1.0.0", "Changes the selected database."),
    local(
        "quit",
        -1,
        CONN.union(Flags::FAST).union(Flags::NO_AUTH).union(Flags::ALLOW_BUSY),
        Group::Connection,
        "1.0.0",
        "Closes the connection.",
    ),
    local(
        "reset",
        1,
        CONN.union(Flags::FAST).union(Flags::NO_AUTH).union(Flags::ALLOW_BUSY),
        Group::Connection,
        "6.2.0",
        "Resets the connection.",
    ),
    local(
        "hello",
        -1,
        CONN.union(Flags::FAST).union(Flags::NO_AUTH).union(Flags::ALLOW_BUSY),
        Group::Connection,
        "6.0.0",
        "Handshakes with the Redis server.",
    ),
    local(
        "auth",
        -2,
        CONN.union(Flags::FAST).union(Flags::NO_AUTH).union(Flags::ALLOW_BUSY),
        Group::Connection,
        "1.0.0",
        "Authenticates the connection.",
    ),
    local(
        "readonly",
        1,
        Flags::FAST.union(Flags::LOADING).union(Flags::STALE),
        Group::Cluster,
        "3.0.0",
        "Enables read-only queries for a connection to a Redis Cluster replica node.",
    ),
    local(
        "readwrite",
        1,
        Flags::FAST.union(Flags::LOADING).union(Flags::STALE),
        Group::Cluster,
        "3.0.0",
        "Enables read-write queries for a connection to a Reids Cluster replica node.",
    ),
    with_subcommands(
        local("client", -2, Flags::empty(), Group::Connection, "2.4.0", "A container for client connection commands."),
        CLIENT_SUBCOMMANDS,
    ),
    local(
        "multi",
        1,
        CONN.union(Flags::FAST).union(Flags::ALLOW_BUSY),
        Group::Transactions,
        "1.2.0",
        "Starts a transaction.",
    ),
    local(
        "exec",
        1,
        CONN.union(Flags::SKIP_SLOWLOG),
        Group::Transactions,
        "1.2.0",
        "Executes all commands in a transaction.",
    ),
    local(
        "discard",
        1,
        CONN.union(Flags::FAST).union(Flags::ALLOW_BUSY),
        Group::Transactions,
        "2.0.0",
        "Discards a transaction.",
    ),
    CommandSpec {
        first_key: 1,
        last_key: -1,
        key_step: 1,
        ..local(
            "watch",
            -2,
            CONN.union(Flags::FAST).union(Flags::ALLOW_BUSY),
            Group::Transactions,
            "2.2.0",
            "Monitors changes to keys to determine the execution of a transaction.",
        )
    },
    local(
        "unwatch",
        1,
        CONN.union(Flags::FAST).union(Flags::ALLOW_BUSY),
        Group::Transactions,
        "2.2.0",
        "Forgets about watched keys of a transaction.",
    ),
    local(
        "info",
        -1,
        Flags::LOADING.union(Flags::STALE),
        Group::Server,
        "1.0.0",
        "Returns information and statistics about the server.",
    ),
    with_subcommands(
        local("cluster", -2, Flags::empty(), Group::Cluster, "3.0.0", "A container for Redis Cluster commands."),
        CLUSTER_SUBCOMMANDS,
    ),
    with_subcommands(
        local("command", -1, FAST_STALE, Group::Server, "2.8.13", "Returns detailed information about all commands."),
        COMMAND_SUBCOMMANDS,
    ),
    with_subcommands(
        local("config", -2, Flags::empty(), Group::Server, "2.0.0", "A container for server configuration commands."),
        CONFIG_SUBCOMMANDS,
    ),
    local(
        "debug",
        -2,
        Flags::ADMIN.union(Flags::NOSCRIPT).union(Flags::LOADING).union(Flags::STALE),
        Group::Server,
        "1.0.0",
        "A container for debugging commands.",
    ),
    local(
        "role",
        1,
        Flags::NOSCRIPT.union(Flags::LOADING).union(Flags::STALE).union(Flags::FAST),
        Group::Server,
        "2.8.12",
        "Returns the replication role.",
    ),
    local(
        "lastsave",
        1,
        Flags::LOADING.union(Flags::STALE).union(Flags::FAST),
        Group::Server,
        "1.0.0",
        "Returns the Unix timestamp of the last successful save to disk.",
    ),
];
