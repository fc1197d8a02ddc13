use bytes::Bytes;
use resp::{Frame, RespVersion};

use super::command::{acl_categories, everything, getkeys, info_entry, lookup_full, visible_flags, Named};
use super::config::{matching, validate_set, PARAMS};
use super::*;
use crate::commands;

fn args(list: &[&str]) -> Vec<Bytes> {
    list.iter().map(|a| Bytes::copy_from_slice(a.as_bytes())).collect()
}

fn named(name: &str) -> Named {
    lookup_full(name.as_bytes()).unwrap_or_else(|| panic!("{name} is in the table"))
}

fn err_text(e: CommandError) -> String {
    e.to_string()
}

#[test]
fn unknown_subcommand_names_the_container_upper_cased_and_cuts_long_names() {
    let e = unknown_subcommand(b"client", b"nosuch");
    assert_eq!(e.to_string(), "ERR unknown subcommand 'nosuch'. Try CLIENT HELP.");
    let long = vec![b'x'; 300];
    let text = unknown_subcommand(b"Config", &long).to_string();
    assert!(text.contains(&format!("'{}'", "x".repeat(128))));
    assert!(text.ends_with("Try CONFIG HELP."));
}

#[test]
fn help_reply_has_redis_header_and_footer_as_status_lines() {
    let Frame::Array(lines) = help_reply(b"cluster", &["INFO", "    Return information about the cluster."]) else {
        panic!("help is an array")
    };
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0], Frame::simple("CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"));
    assert_eq!(lines[3], Frame::simple("HELP"));
    assert_eq!(lines[4], Frame::simple("    Prints this help."));
}

#[test]
fn text_reply_is_verbatim_in_resp3_and_bulk_in_resp2() {
    let frame = text_reply("a:1\r\n".into());
    assert_eq!(&frame.to_bytes(RespVersion::Resp2)[..], b"$5\r\na:1\r\n\r\n");
    assert_eq!(&frame.to_bytes(RespVersion::Resp3)[..], b"=9\r\ntxt:a:1\r\n\r\n");
}

#[test]
fn command_info_of_get_matches_redis_byte_for_byte() {
    // Captured from Redis 7 with HELLO 3.
    let expected: &[u8] = b"*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n";
    let get = named("get");
    assert_eq!(&info_entry(get.spec, None).to_bytes(RespVersion::Resp3)[..], expected);
}

#[test]
fn command_info_has_ten_fields_and_nests_subcommands() {
    let client = named("client");
    let Frame::Array(fields) = info_entry(client.spec, None) else { panic!("array") };
    assert_eq!(fields.len(), 10);
    assert_eq!(fields[0], Frame::bulk("client"));
    // A pure container: no flags, only @slow.
    assert_eq!(fields[2], Frame::Set(vec![]));
    assert_eq!(fields[6], Frame::Set(vec![Frame::simple("@slow")]));
    let Frame::Array(subs) = &fields[9] else { panic!("subcommands are an array") };
    assert_eq!(subs.len(), client.spec.subcommands.len());
    let Frame::Array(first) = &subs[0] else { panic!("array") };
    assert!(matches!(&first[0], Frame::Bulk(name) if name.starts_with(b"client|")));
    assert_eq!(first[9], Frame::Set(vec![]));
}

#[test]
fn acl_categories_follow_redis_derivation() {
    assert_eq!(acl_categories(named("client|list")), ["admin", "slow", "dangerous", "connection"]);
    assert_eq!(acl_categories(named("client|setname")), ["slow", "connection"]);
    assert_eq!(acl_categories(named("config|get")), ["admin", "slow", "dangerous"]);
    assert_eq!(acl_categories(named("readonly")), ["fast", "connection"]);
    assert_eq!(acl_categories(named("cluster|info")), ["slow"]);
    assert_eq!(acl_categories(named("info")), ["slow", "dangerous"]);
    assert_eq!(acl_categories(named("multi")), ["fast", "transaction"]);
    assert!(acl_categories(named("command|docs")).contains(&"connection"));
    assert_eq!(acl_categories(named("dbsize")), ["keyspace", "read", "fast"]);
    assert_eq!(acl_categories(named("time")), ["fast"]);
    // OBJECT needs a subcommand: like CLIENT, a pure container.
    assert_eq!(acl_categories(named("object")), ["slow"]);
    assert!(visible_flags(named("object").spec).is_empty());
    // COMMAND runs alone too: it keeps its own flags and categories.
    assert!(!visible_flags(named("command").spec).is_empty());
}

#[test]
fn hidden_flags_are_not_shown() {
    for spec in commands::all_commands() {
        assert!(!visible_flags(spec).contains(&"may_replicate"), "{}", spec.name);
    }
}

#[test]
fn full_names_resolve_containers_and_subcommands() {
    assert_eq!(named("CONFIG|GET").full_name(), "config|get");
    assert!(lookup_full(b"config|nosuch").is_none());
    assert!(lookup_full(b"config|get|x").is_none());
    assert!(lookup_full(b"nosuch").is_none());
    let all = everything();
    let count_subs: usize = commands::all_commands().map(|s| s.subcommands.len()).sum();
    assert_eq!(all.len(), commands::all_commands().count() + count_subs);
}

#[test]
fn getkeys_uses_key_positions_and_redis_errors() {
    assert_eq!(getkeys(&args(&["get", "k"])).unwrap(), Frame::Array(vec![Frame::bulk("k")]));
    assert_eq!(err_text(getkeys(&args(&["nosuch", "k"])).unwrap_err()), "ERR Invalid command specified");
    assert_eq!(err_text(getkeys(&args(&["ping"])).unwrap_err()), "ERR The command has no key arguments");
    assert_eq!(err_text(getkeys(&args(&["client", "list"])).unwrap_err()), "ERR The command has no key arguments");
    assert_eq!(err_text(getkeys(&args(&["client", "nosuch"])).unwrap_err()), "ERR Invalid command specified");
    assert_eq!(
        err_text(getkeys(&args(&["get", "a", "b"])).unwrap_err()),
        "ERR Invalid number of arguments specified for command"
    );
    let Frame::Array(keys) = getkeys(&args(&["watch", "a", "b", "c"])).unwrap() else { panic!("array") };
    assert_eq!(keys.len(), 3);
}

#[test]
fn config_get_globs_case_insensitively_once_each_in_table_order() {
    let names: Vec<&str> = matching(&args(&["MAXMEMORY*", "maxmemory", "port"])).iter().map(|p| p.name).collect();
    assert_eq!(names, ["maxmemory", "maxmemory-policy", "port"]);
    assert_eq!(matching(&args(&["*"])).len(), PARAMS.len());
    assert!(matching(&args(&["nosuch"])).is_empty());
}

#[test]
fn config_set_checks_like_redis() {
    let e = |list: &[&str]| validate_set(&args(list)).map(|_| ()).unwrap_err().to_string();
    assert_eq!(e(&["maxclients", "10", "port"]), "ERR syntax error");
    assert_eq!(e(&["foo", "bar"]), "ERR Unknown option or number of arguments for CONFIG SET - 'foo'");
    // Unknown names win over every other problem.
    assert_eq!(e(&["port", "1", "foo", "bar"]), "ERR Unknown option or number of arguments for CONFIG SET - 'foo'");
    assert_eq!(
        e(&["port", "1"]),
        "ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config"
    );
    assert_eq!(
        e(&["maxclients", "1", "MAXCLIENTS", "2"]),
        "ERR CONFIG SET failed (possibly related to argument 'MAXCLIENTS') - duplicate parameter"
    );
    assert_eq!(
        e(&["maxclients", "abc"]),
        "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer"
    );
    assert_eq!(
        e(&["maxclients", "0"]),
        "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive"
    );
    let ok = validate_set(&args(&["MaxClients", "42"])).unwrap();
    assert_eq!(ok.len(), 1);
    assert_eq!((ok[0].0.name, ok[0].1), ("maxclients", 42));
}

#[test]
fn every_subcommand_in_the_tables_has_a_handler_branch() {
    // The match arms in client.rs, cluster.rs, command.rs and config.rs
    // name these; a new table line without a branch would answer
    // "unknown subcommand" although COMMAND lists it.
    let handled: &[(&str, &[&str])] = &[
        (
            "client",
            &["id", "getname", "setname", "setinfo", "info", "list", "kill", "no-evict", "no-touch", "reply", "help"],
        ),
        (
            "cluster",
            &[
                "info",
                "myid",
                "myshardid",
                "nodes",
                "slots",
                "shards",
                "replicas",
                "keyslot",
                "countkeysinslot",
                "getkeysinslot",
                "failover",
                "help",
            ],
        ),
        ("command", &["count", "info", "docs", "list", "getkeys", "help"]),
        ("config", &["get", "set", "resetstat", "help"]),
    ];
    for (container, subs) in handled {
        let spec = named(container).spec;
        for sub in spec.subcommands {
            assert!(subs.contains(&sub.name), "{container}|{} has no handler", sub.name);
        }
    }
}
