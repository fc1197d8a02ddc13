//! Goal: `redraft-maelstrom` (a real Redraft node speaking Maelstrom's protocol) passes the
//! lin-kv workload: linearizable reads, writes and compare-and-sets, without faults and under
//! partitions and message drops; and the driver's checker catches a node that serves stale
//! reads.
//!
//! Method: the in-repo driver plays Maelstrom: it starts the adapter processes, routes every
//! message between them with seeded faults, runs concurrent clients on a few keys and checks
//! the history with the WGL checker. Seeds are fixed, so the choices (operations, nodes,
//! partitions, drops) replay; timings do not, as the nodes are real processes. Each run is
//! about ten seconds of operations; runs take turns (`process::serial`).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cluster_tests::linearizability::Verdict;
use cluster_tests::maelstrom::driver::faults::Nemesis;
use cluster_tests::maelstrom::driver::{self, DriverConfig, Report};
use cluster_tests::process::serial;
use serde_json::{json, Value};

fn adapter() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_redraft-maelstrom"))
}

fn run(name: &str, config: &DriverConfig) -> Report {
    let _turn = serial();
    eprintln!("--- {name}: seed {}", config.seed);
    let report = driver::run(config).unwrap_or_else(|e| panic!("{name}: the driver failed: {e:#}"));
    eprintln!("{}", report.summary());
    report
}

#[track_caller]
fn assert_linearizable_with_progress(name: &str, report: &Report, ok_min: usize) {
    if let Verdict::NotLinearizable { .. } | Verdict::Unknown { .. } = report.verdict {
        panic!("{name}: {}", report.summary());
    }
    assert!(
        report.counts.ok() >= ok_min,
        "{name}: only {} operations succeeded\n{}",
        report.counts.ok(),
        report.summary()
    );
    for (kind, row) in [("read", report.counts.reads), ("write", report.counts.writes), ("cas", report.counts.cas)] {
        assert!(row[0] > 0, "{name}: no {kind} succeeded\n{}", report.summary());
    }
    assert_eq!(report.malformed, 0, "{name}: the adapters wrote lines that are not messages");
}

/// Three nodes, a healthy network with latency: everything linearizable, nearly all ok.
#[test]
fn three_nodes_without_faults_are_linearizable() {
    let mut config = DriverConfig::new(adapter(), 70_001);
    config.time_limit = Duration::from_secs(8);
    config.rate = 40.0;
    let report = run("three nodes, no faults", &config);
    assert_linearizable_with_progress("three nodes, no faults", &report, 150);
}

/// Three nodes while random minorities and the leader are cut off and healed.
#[test]
fn three_nodes_under_partitions_are_linearizable() {
    let mut config = DriverConfig::new(adapter(), 70_002);
    config.time_limit = Duration::from_secs(12);
    config.nemesis = Nemesis::Partition;
    config.rate = 40.0;
    let report = run("three nodes, partitions", &config);
    assert!(!report.faults.is_empty() && report.blocked > 0, "no partition happened\n{}", report.summary());
    assert_linearizable_with_progress("three nodes, partitions", &report, 40);
}

/// Five nodes under partitions, with 5% of the messages between nodes lost as well.
#[test]
fn five_nodes_under_partitions_and_drops_are_linearizable() {
    let mut config = DriverConfig::new(adapter(), 70_003);
    config.node_count = 5;
    config.time_limit = Duration::from_secs(12);
    config.nemesis = Nemesis::Partition;
    config.drop_rate = 0.05;
    config.rate = 40.0;
    let report = run("five nodes, partitions and drops", &config);
    assert!(report.blocked > 0 && report.dropped > 0, "faults did not fire\n{}", report.summary());
    assert_linearizable_with_progress("five nodes, partitions and drops", &report, 40);
}

/// The checker is not a rubber stamp: nodes that serve reads from local state without
/// ReadIndex (`--unsafe-stale-reads`), with one node cut off while the others keep writing,
/// return values that were already overwritten, and the run is flagged.
#[test]
fn stale_reads_from_an_isolated_node_are_flagged() {
    let mut config = DriverConfig::new(adapter(), 70_004);
    config.adapter_args.push("--unsafe-stale-reads".into());
    // The failure is expected: its logs go to a directory removed afterwards, not kept.
    let logs = tempfile::tempdir().expect("a log directory");
    config.log_dir = Some(logs.path().to_path_buf());
    config.time_limit = Duration::from_secs(8);
    config.nemesis = Nemesis::IsolateLast;
    config.rate = 40.0;
    let report = run("stale reads", &config);
    assert!(
        matches!(report.verdict, Verdict::NotLinearizable { .. }),
        "stale reads were not caught\n{}",
        report.summary()
    );
}

/// A follower cut off while the leader snapshots every 20 entries and purges its log cannot
/// catch up from the log: it is sent a snapshot, carried whole in one Maelstrom message, and
/// the history stays linearizable.
#[test]
fn a_node_cut_off_catches_up_by_snapshot_over_maelstrom_messages() {
    let mut config = DriverConfig::new(adapter(), 70_005);
    config.adapter_args.extend(["--snapshot-every-logs".to_string(), "20".to_string()]);
    config.time_limit = Duration::from_secs(10);
    config.nemesis = Nemesis::IsolateLast;
    config.rate = 40.0;
    let report = run("snapshot catch-up", &config);
    assert!(report.snapshots > 0, "no snapshot was sent\n{}", report.summary());
    assert_linearizable_with_progress("snapshot catch-up", &report, 40);
}

/// One adapter process driven by hand: lines in, replies out.
struct Adapter {
    child: std::process::Child,
    /// `None` once closed, which tells the adapter to stop.
    stdin: Option<std::process::ChildStdin>,
    replies: mpsc::Receiver<Value>,
    next_msg_id: u64,
}

impl Adapter {
    fn start(args: &[&str]) -> Adapter {
        let mut command = Command::new(adapter());
        command.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null());
        cluster_tests::process::die_with_parent(&mut command);
        let mut child = command.spawn().expect("starting redraft-maelstrom");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, replies) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let value: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("stdout line {line:?}: {e}"));
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        Adapter { child, stdin: Some(stdin), replies, next_msg_id: 0 }
    }

    /// SIGKILL: no shutdown, whatever was not on disk is lost.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// `init` as the only node, then writes until the node leads and acknowledges one.
    fn init_and_write(&mut self, key: u64, value: Value) {
        let init = self.call(json!({"type": "init", "node_id": "n1", "node_ids": ["n1"]}));
        assert_eq!(init["type"], "init_ok", "{init}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let reply = self.call(json!({"type": "write", "key": key, "value": value}));
            if reply["type"] == "write_ok" {
                return;
            }
            assert_eq!(error_code(&reply), Some(11), "before leading, writes are refused definitely: {reply}");
            assert!(Instant::now() < deadline, "the node never became leader");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn send_bytes(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("the adapter's input is open");
        stdin.write_all(bytes).expect("writing to the adapter");
        stdin.flush().expect("flushing");
    }

    fn send_line(&mut self, line: &str) {
        self.send_bytes(format!("{line}\n").as_bytes());
    }

    /// Sends a request body from client `c1` and returns the reply body.
    fn call(&mut self, mut body: Value) -> Value {
        self.next_msg_id += 1;
        body["msg_id"] = json!(self.next_msg_id);
        let message = json!({"src": "c1", "dest": "n1", "body": body});
        self.send_line(&message.to_string());
        let reply = self.replies.recv_timeout(Duration::from_secs(20)).expect("a reply within 20 s");
        assert_eq!((reply["src"].as_str(), reply["dest"].as_str()), (Some("n1"), Some("c1")), "{reply}");
        assert_eq!(reply["body"]["in_reply_to"], json!(self.next_msg_id), "{reply}");
        reply["body"].clone()
    }
}

impl Drop for Adapter {
    fn drop(&mut self) {
        // End of input: the adapter stops Raft and removes its data directory.
        self.stdin = None;
        let deadline = Instant::now() + Duration::from_secs(10);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn error_code(body: &Value) -> Option<u64> {
    (body["type"] == "error").then(|| body["code"].as_u64()).flatten()
}

/// One node alone, driven message by message: garbage and unknown types are answered (or
/// skipped) without killing the node, requests before `init` are refused as temporarily
/// unavailable, and each lin-kv operation gives Maelstrom's reply or error code once the node
/// leads, the compare-and-sets included (they run `SET ... IFEQ ... GET` and `SET ... NX GET`
/// in the real state machine).
#[test]
fn a_single_adapter_answers_every_lin_kv_case_and_survives_garbage() {
    let _turn = serial();
    let mut node = Adapter::start(&[]);
    node.send_line("this is not json");
    node.send_line("{\"src\":\"c1\"}");
    node.send_bytes(b"\xff\xfe not utf-8\n");
    assert_eq!(error_code(&node.call(json!({"type": "txn", "txn": []}))), Some(10), "unknown type: not supported");
    assert_eq!(error_code(&node.call(json!({"type": "write", "value": 1}))), Some(12), "no key: malformed");
    assert_eq!(error_code(&node.call(json!({"type": "read", "key": 1}))), Some(11), "before init");

    node.init_and_write(1, json!({"b": 1, "a": [2]}));
    let read = node.call(json!({"type": "read", "key": 1}));
    assert_eq!((read["type"].clone(), read["value"].clone()), (json!("read_ok"), json!({"a": [2], "b": 1})));
    assert_eq!(error_code(&node.call(json!({"type": "read", "key": "1"}))), Some(20), "\"1\" is not 1");
    assert_eq!(error_code(&node.call(json!({"type": "cas", "key": 1, "from": 5, "to": 6}))), Some(22));
    assert_eq!(error_code(&node.call(json!({"type": "cas", "key": 2, "from": 5, "to": 6}))), Some(20));
    let swap = json!({"type": "cas", "key": 1, "from": {"a": [2], "b": 1}, "to": 7});
    assert_eq!(node.call(swap)["type"], "cas_ok", "from matches whatever its member order");
    let create = json!({"type": "cas", "key": 2, "from": 5, "to": 8, "create_if_not_exists": true});
    assert_eq!(node.call(create.clone())["type"], "cas_ok", "created");
    assert_eq!(error_code(&node.call(create)), Some(22), "exists now, and is not 5");
    assert_eq!(node.call(json!({"type": "read", "key": 1}))["value"], json!(7));
    assert_eq!(node.call(json!({"type": "read", "key": 2}))["value"], json!(8));
}

/// With `--data-dir` (what Maelstrom's `kill` nemesis needs), a node killed with SIGKILL and
/// started again recovers its Raft state and data: `init` does not initialize the membership a
/// second time, the node leads again, and an acknowledged write is still there.
#[test]
fn an_adapter_killed_and_restarted_on_its_data_dir_keeps_acknowledged_writes() {
    let _turn = serial();
    let data = tempfile::tempdir().expect("a data directory");
    let dir = data.path().to_str().expect("a UTF-8 path").to_string();
    let mut node = Adapter::start(&["--data-dir", &dir]);
    node.init_and_write(3, json!("before the crash"));
    node.kill();
    assert!(data.path().join("n1").is_dir(), "the node's data lives in DIR/<node_id>");

    let mut node = Adapter::start(&["--data-dir", &dir]);
    node.init_and_write(4, json!("after the restart"));
    assert_eq!(node.call(json!({"type": "read", "key": 3}))["value"], json!("before the crash"));
    assert_eq!(node.call(json!({"type": "read", "key": 4}))["value"], json!("after the restart"));
}
