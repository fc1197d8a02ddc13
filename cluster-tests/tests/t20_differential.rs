//! Differential tests: every `cases/*.redis` file is sent to a real `redis-server` and to the
//! leader of a 3-node Redraft cluster, and the raw reply bytes must be identical. See
//! `cluster_tests::differential` for the file format.
//!
//! Set `REDRAFT_CASES=keys,strings` to run only the files with those stems.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use cluster_tests::differential::{case_files, run_file, Mismatch};
use cluster_tests::{RedisServer, TestCluster};

/// Environment variable selecting case files by stem (comma separated).
const CASES_ENV: &str = "REDRAFT_CASES";

fn selected_case_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    let files = case_files(&dir);
    assert!(!files.is_empty(), "no case files in {}", dir.display());
    let Ok(filter) = std::env::var(CASES_ENV) else {
        return files;
    };
    let wanted: Vec<&str> = filter.split(',').map(str::trim).collect();
    files.into_iter().filter(|f| f.file_stem().is_some_and(|s| wanted.iter().any(|w| s == *w))).collect()
}

#[track_caller]
fn assert_no_mismatches(what: &str, mismatches: &[Mismatch]) {
    if mismatches.is_empty() {
        return;
    }
    let listing: Vec<String> = mismatches.iter().map(|m| m.to_string()).collect();
    panic!("{} mismatches {what}:\n{}", mismatches.len(), listing.join("\n"));
}

/// Goal: the case files are valid and deterministic, so a mismatch against Redraft means a
/// Redraft difference, not a flaky case or a runner bug.
/// Method: run every file against two independent Redis servers; expect no mismatch at all.
#[test]
fn case_files_give_identical_replies_on_two_redis_servers() {
    let _one_fixture_at_a_time = cluster_tests::process::serial();
    for file in selected_case_files() {
        eprintln!("--- {} on two redis servers", file.display());
        let (a, b) = (RedisServer::start(), RedisServer::start());
        let mismatches = run_file(&file, &a.addr(), &b.addr());
        assert_no_mismatches("between two redis servers", &mismatches);
    }
}

/// A RESP server that answers +PONG to every request: a known-different peer for the runner.
fn start_pong_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding the pong server");
    let addr = listener.local_addr().expect("the pong server's address").to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while let Ok(n) = stream.read(&mut chunk) {
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    while let Ok(Some((_, used))) = resp::parse_request(&buf, &resp::Limits::default()) {
                        buf.drain(..used);
                        if stream.write_all(b"+PONG\r\n").is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

/// Goal: the runner reports differing replies with file and line, compares only the type on
/// `~` lines, and does not compare the FLUSHALL it starts with.
/// Method: run a small case file against Redis and a fake server that answers +PONG to
/// everything; exactly the lines whose replies differ must be reported.
#[test]
fn the_runner_reports_each_differing_reply_with_its_line() {
    let _one_fixture_at_a_time = cluster_tests::process::serial();
    let redis = RedisServer::start();
    let fake = start_pong_server();
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("runner.redis");
    std::fs::write(&file, "# same\nPING\nECHO x\n~ PING\n~ ECHO y\n\n~ SET k v\n").expect("writing the case file");
    let mismatches = run_file(&file, &redis.addr(), &fake);
    let lines: Vec<usize> = mismatches.iter().map(|m| m.line).collect();
    assert_eq!(lines, vec![3, 5], "{mismatches:#?}");
    assert_eq!(mismatches[0].redis, "$1\\r\\nx\\r\\n");
    assert_eq!(mismatches[0].redraft, "+PONG\\r\\n");
    assert!(mismatches[1].type_only);
}

/// Goal: Redraft answers every case exactly as Redis does.
/// Method: for each case file, a fresh redis-server and a fresh 3-node cluster; send each
/// command to Redis and to the Redraft leader on fresh connections and compare the raw
/// replies; report every mismatch of every file, then fail if there was any.
#[test]
fn every_case_file_gets_the_same_replies_from_redraft_as_from_redis() {
    let mut all = Vec::new();
    for file in selected_case_files() {
        eprintln!("--- {} on redis and redraft", file.display());
        let redis = RedisServer::start();
        let cluster = TestCluster::start(3);
        let leader = cluster.leader();
        let mismatches = run_file(&file, &redis.addr(), &cluster.addr(leader));
        eprintln!("    {} mismatches", mismatches.len());
        for m in &mismatches {
            eprintln!("{m}");
        }
        all.extend(mismatches);
    }
    assert_no_mismatches("between redis and redraft", &all);
}
