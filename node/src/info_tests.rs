use bytes::Bytes;

use super::*;
use crate::cluster::Member;

fn args(list: &[&str]) -> Vec<Bytes> {
    list.iter().map(|a| Bytes::copy_from_slice(a.as_bytes())).collect()
}

#[test]
fn bare_info_shows_the_default_sections() {
    assert_eq!(selected(&[]), DEFAULT.to_vec());
    assert_eq!(selected(&args(&["default"])), DEFAULT.to_vec());
    assert!(!selected(&[]).contains(&"raft"));
}

#[test]
fn all_and_everything_include_raft_and_the_stats_sections() {
    let all = selected(&args(&["all"]));
    assert_eq!(all.len(), SECTIONS.len());
    assert_eq!(all.last(), Some(&"raft"));
    assert_eq!(selected(&args(&["EVERYTHING"])), all);
}

#[test]
fn named_sections_come_in_redis_order_and_unknown_ones_are_ignored() {
    assert_eq!(selected(&args(&["keyspace", "Server", "nosuch", "raft"])), ["server", "keyspace", "raft"]);
    assert!(selected(&args(&["nosuch"])).is_empty());
    assert_eq!(selected(&args(&["cpu", "cpu"])), ["cpu"]);
}

#[test]
fn sections_are_crlf_lines_separated_by_a_blank_line() {
    let mut a = Section::new("Server");
    a.line("redis_version", "7.2.4").line("tcp_port", 6379);
    let mut b = Section::new("Cluster");
    b.line("cluster_enabled", 1);
    assert_eq!(
        join(vec![a.into_text(), b.into_text()]),
        "# Server\r\nredis_version:7.2.4\r\ntcp_port:6379\r\n\r\n# Cluster\r\ncluster_enabled:1\r\n"
    );
    assert_eq!(join(vec![Section::new("Keyspace").into_text()]), "# Keyspace\r\n");
    assert_eq!(join(vec![]), "");
}

#[test]
fn bytes_are_humanized_like_redis() {
    assert_eq!(bytes_to_human(0), "0B");
    assert_eq!(bytes_to_human(1023), "1023B");
    assert_eq!(bytes_to_human(1024), "1.00K");
    assert_eq!(bytes_to_human(1_137_952), "1.09M");
    assert_eq!(bytes_to_human(25_276_063_744), "23.54G");
}

#[test]
fn proc_files_are_parsed() {
    assert_eq!(parse_statm_rss("1000 250 10 1 0 100 0\n", 4096), Some(1_024_000));
    assert_eq!(parse_statm_rss("", 4096), None);
    assert_eq!(parse_meminfo_total("MemTotal:       24683656 kB\nMemFree: 1 kB\n"), Some(24_683_656 * 1024));
    assert_eq!(parse_meminfo_total("MemFree: 1 kB\n"), None);
}

#[test]
fn keyspace_lists_non_empty_databases() {
    let mut counts = KeyspaceCounts::new();
    counts.insert(0, (2, 1));
    counts.insert(3, (5, 0));
    let mut s = Section::new("Keyspace");
    keyspace(&counts, &mut s);
    assert_eq!(s.into_text(), "# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\ndb3:keys=5,expires=0,avg_ttl=0\r\n");
}

fn member(id: u64, role: Role, myself: bool, linked: bool) -> Member {
    Member { id, host: "10.0.0.1".into(), port: 7000 + id as u16, cport: 17000, role, myself, offset: 40 + id, linked }
}

fn facts(me: u64, leader: Option<u64>) -> ReplicationFacts {
    let role = |id| match leader {
        Some(l) if l == id => Role::Primary,
        Some(_) => Role::Replica,
        None => Role::Orphan,
    };
    let members = (1..=3).map(|id| member(id, role(id), id == me, id != 3)).collect();
    ReplicationFacts {
        view: View::new(members, leader, 5),
        applied: 42,
        last_log: 50,
        purged: 10,
        run_id: "r".repeat(40),
    }
}

#[test]
fn the_leader_reports_master_and_its_replicas() {
    let mut s = Section::new("Replication");
    replication(&facts(1, Some(1)), &mut s);
    let text = s.into_text();
    assert!(text.starts_with(
        "# Replication\r\nrole:master\r\nconnected_slaves:2\r\n\
         slave0:ip=10.0.0.1,port=7002,state=online,offset=42,lag=0\r\n\
         slave1:ip=10.0.0.1,port=7003,state=wait_bgsave,offset=43,lag=0\r\n"
    ));
    assert!(text.contains("\r\nmaster_replid:0000000000000000000000050000000000000001\r\n"));
    assert!(text.contains("\r\nmaster_repl_offset:42\r\n"));
    assert!(text.contains("\r\nrepl_backlog_first_byte_offset:11\r\nrepl_backlog_histlen:40\r\n"));
}

#[test]
fn a_follower_reports_slave_of_the_leader() {
    let mut s = Section::new("Replication");
    replication(&facts(2, Some(1)), &mut s);
    let text = s.into_text();
    assert!(text.starts_with(
        "# Replication\r\nrole:slave\r\nmaster_host:10.0.0.1\r\nmaster_port:7001\r\nmaster_link_status:up\r\n"
    ));
    assert!(text.contains("\r\nslave_repl_offset:42\r\n"));
    assert!(text.contains("\r\nslave_read_only:1\r\n"));
    assert!(!text.contains("master_link_down_since_seconds"));
    let mut s = Section::new("Replication");
    replication(&facts(2, None), &mut s);
    let text = s.into_text();
    assert!(text.contains("\r\nmaster_link_status:down\r\n"));
    assert!(text.contains("\r\nmaster_link_down_since_seconds:-1\r\n"));
}

#[test]
fn the_replication_id_is_shared_by_one_leadership() {
    let leader_view = facts(1, Some(1));
    let follower_view = facts(2, Some(1));
    assert_eq!(replication_id(&leader_view), replication_id(&follower_view));
    assert_eq!(replication_id(&leader_view).len(), 40);
    assert_ne!(replication_id(&leader_view), replication_id(&facts(1, Some(2))));
    assert_eq!(replication_id(&facts(1, None)), "r".repeat(40));
}

#[test]
fn the_raft_section_lists_the_raft_state() {
    let f = RaftFacts {
        node_id: 2,
        role: "follower",
        leader: Some(1),
        term: 4,
        last_log: 100,
        applied: 99,
        snapshot: 50,
        purged: 40,
        voters: vec![1, 2, 3],
        learners: vec![],
        millis_since_quorum_ack: None,
        proposals: 0,
        read_barriers: 0,
    };
    let mut s = Section::new("Raft");
    raft(&f, &mut s);
    assert_eq!(
        s.into_text(),
        "# Raft\r\nraft_node_id:2\r\nraft_role:follower\r\nraft_leader_id:1\r\nraft_term:4\r\n\
         raft_last_log_index:100\r\nraft_commit_index:99\r\nraft_applied_index:99\r\nraft_snapshot_index:50\r\n\
         raft_purged_index:40\r\nraft_voters:1,2,3\r\nraft_learners:\r\nraft_millis_since_quorum_ack:\r\n\
         raft_proposals:0\r\nraft_read_barriers:0\r\n"
    );
}
