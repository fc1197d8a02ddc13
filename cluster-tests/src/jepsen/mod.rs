//! `redraft-jepsen`: Jepsen-style runs against real `redraft server` processes. A run starts a
//! cluster with a fault proxy on every Raft link, runs a workload's clients while a nemesis
//! applies a seeded schedule of faults, heals everything, waits for the cluster to converge,
//! checks what the clients saw, and writes the history, a latency plot and a verdict.
//!
//! # Layout
//! - this file: [`RunConfig`], [`run`], the history record and the output files.
//! - [`nemesis`]: fault kinds, `--nemesis` parsing, seeded [`nemesis::Schedule`]s, applying them.
//! - [`workloads`]: the [`workloads::Workload`]s, each a drive half and a check half.
//! - [`plot`]: the `latency.svg` chart.
//!
//! # Exit codes
//! [`EXIT_VALID`] when the checker accepts the history, [`EXIT_ANOMALY`] when it finds an
//! anomaly, [`EXIT_ERROR`] when the run could not say either: the cluster did not start or
//! recover, too few operations succeeded ([`OK_OPS_MIN`]) or the checker ran out of budget.

pub mod nemesis;
pub mod plot;
pub mod workloads;

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Value};

use crate::harness::TestCluster;
use nemesis::{AppliedFault, FaultKind, Nemesis, Schedule};
use workloads::{Checked, DriveContext, Validity, Workload};

/// The history is valid.
pub const EXIT_VALID: u8 = 0;
/// The checker found at least one anomaly.
pub const EXIT_ANOMALY: u8 = 1;
/// No verdict: setup failed, the cluster did not recover, too few operations, or the checker
/// gave up.
pub const EXIT_ERROR: u8 = 2;
/// Fewer acknowledged operations than this and a "valid" verdict means nothing.
pub const OK_OPS_MIN: usize = 20;
/// Lines of each node's log kept in the output directory.
const LOG_LINES_KEPT: usize = 400;
/// The flags every node of a run gets: the nemesis needs DEBUG FSYNC-DELAY.
const NODE_FLAGS: &[&str] = &["--enable-debug-command", "yes"];

/// How one operation ended, as far as its client knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Completed with a result.
    Ok,
    /// Definitely did not take effect (MOVED, CLUSTERDOWN, TRYAGAIN, no connection).
    Fail,
    /// May or may not have taken effect (UNCERTAIN, timeout, lost connection).
    Unknown,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Fail => "fail",
            Outcome::Unknown => "unknown",
        }
    }
}

/// One operation of the history, as written to `history.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpRecord {
    /// The client thread (the final reader is one more than the last client).
    pub process: usize,
    /// What it did: `read`, `write`, `cas`, `final-read`, `incr`, `sadd`.
    pub f: &'static str,
    pub key: String,
    /// Its argument (`[expected, new]` for a CAS).
    pub value: Value,
    pub outcome: Outcome,
    /// What it observed, when it completed.
    pub result: Value,
    /// When it was sent and when its outcome was known (for `unknown`: when the client gave
    /// up), in nanoseconds since the run started.
    pub invoke_ns: u64,
    pub complete_ns: u64,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub workload: Workload,
    /// The `--nemesis` text, for the output.
    pub nemesis_spec: String,
    pub faults: Vec<FaultKind>,
    pub time_limit: Duration,
    pub seed: u64,
    pub nodes: usize,
    pub out_dir: PathBuf,
    /// Print only the summary.
    pub quiet: bool,
}

impl RunConfig {
    /// The command line that replays this run.
    pub fn replay_command(&self) -> String {
        format!(
            "redraft-jepsen --workload {} --nemesis {} --time-limit {} --seed {} --nodes {}",
            self.workload.name(),
            self.nemesis_spec,
            self.time_limit.as_secs(),
            self.seed,
            self.nodes
        )
    }
}

/// The outcome of a run: its exit code and the verdict written to `verdict.json`.
#[derive(Debug)]
pub struct RunReport {
    pub exit_code: u8,
    pub verdict: Value,
}

/// Counts of operations by outcome, overall and per function.
fn counts(ops: &[OpRecord]) -> Value {
    let mut by_f: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    let mut total: BTreeMap<&str, usize> = BTreeMap::new();
    for op in ops {
        *by_f.entry(op.f).or_default().entry(op.outcome.name()).or_default() += 1;
        *total.entry(op.outcome.name()).or_default() += 1;
    }
    json!({
        "total": ops.len(),
        "ok": total.get("ok").copied().unwrap_or(0),
        "fail": total.get("fail").copied().unwrap_or(0),
        "unknown": total.get("unknown").copied().unwrap_or(0),
        "by_f": by_f,
    })
}

/// The text of a caught panic.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic without a message".to_string())
}

/// Runs `f`, turning a panic into an error naming `phase`.
fn guarded<T>(phase: &str, f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| format!("{phase}: {}", panic_text(payload.as_ref())))
}

/// Runs one test as `config` says, writes its files into `config.out_dir` and returns the exit
/// code and verdict. Never panics on a cluster failure: that becomes [`EXIT_ERROR`] with the
/// reason in the verdict.
///
/// # Errors
/// When the output directory or its files cannot be written.
pub fn run(config: &RunConfig) -> io::Result<RunReport> {
    fs::create_dir_all(&config.out_dir)?;
    let schedule = Schedule::generate(&config.faults, config.seed, config.time_limit);
    eprintln!(
        "redraft-jepsen: {} workload, nemesis {} ({} fault windows), {} nodes, {} s, seed {}",
        config.workload.name(),
        config.nemesis_spec,
        schedule.windows.len(),
        config.nodes,
        config.time_limit.as_secs(),
        config.seed
    );
    eprintln!("replay: {}", config.replay_command());
    if !config.quiet {
        for line in schedule.describe(config.nodes) {
            eprintln!("  {line}");
        }
    }
    let cluster =
        match guarded("starting the cluster", || TestCluster::start_proxied_with_flags(config.nodes, NODE_FLAGS)) {
            Ok(cluster) => cluster,
            Err(error) => return finish(config, &schedule, Vec::new(), None, Some(error), Duration::ZERO),
        };
    let addrs: Vec<String> = cluster.ids().into_iter().map(|id| cluster.addr(id)).collect();
    let clock = Instant::now();
    let stop = AtomicBool::new(false);
    let ctx = DriveContext { addrs: &addrs, clock, stop: &stop, seed: config.seed, time_limit: config.time_limit };
    let nemesis = Nemesis { cluster: &cluster, clock, verbose: !config.quiet };
    let (driven, applied, mut error) = std::thread::scope(|s| {
        let clients = s.spawn(|| config.workload.drive(&ctx));
        let applied = guarded("applying faults", || nemesis.run(&schedule, &stop));
        if applied.is_ok() {
            // The clients run to the time limit; the schedule ends with a healthy stretch.
            std::thread::sleep(config.time_limit.saturating_sub(clock.elapsed()));
        }
        stop.store(true, Ordering::Relaxed);
        let driven = clients.join().map_err(|p| format!("the workload's clients: {}", panic_text(p.as_ref())));
        match (driven, applied) {
            (Ok(driven), Ok(applied)) => (Some(driven), applied, None),
            (Ok(driven), Err(e)) => (Some(driven), Vec::new(), Some(e)),
            (Err(e), applied) => (None, applied.unwrap_or_default(), Some(e)),
        }
    });
    let duration = clock.elapsed();
    if error.is_none() {
        // Every window healed itself; clear the links once more in case a window was cut short.
        cluster.proxy().heal();
        if let Err(e) = guarded("waiting for the healed cluster to converge", || cluster.wait_converged()) {
            error = Some(e);
        }
    }
    let checked = match (driven, &error) {
        (Some(driven), None) => {
            match guarded("final reads and checking", || config.workload.check(&cluster, driven, clock)) {
                Ok(checked) => Some(checked),
                Err(e) => {
                    error = Some(e);
                    None
                }
            }
        }
        _ => None,
    };
    save_logs(&cluster, &config.out_dir)?;
    drop(cluster);
    finish(config, &schedule, applied, checked, error, duration)
}

/// Keeps the tail of every node's log next to the other outputs.
fn save_logs(cluster: &TestCluster, dir: &Path) -> io::Result<()> {
    let logs = dir.join("logs");
    fs::create_dir_all(&logs)?;
    for id in cluster.ids() {
        fs::write(logs.join(format!("n{id}.log")), cluster.log_tail(id, LOG_LINES_KEPT))?;
    }
    Ok(())
}

/// Writes the outputs and decides the exit code.
fn finish(
    config: &RunConfig,
    schedule: &Schedule,
    applied: Vec<AppliedFault>,
    checked: Option<Checked>,
    error: Option<String>,
    duration: Duration,
) -> io::Result<RunReport> {
    let ops: &[OpRecord] = checked.as_ref().map(|c| c.ops.as_slice()).unwrap_or_default();
    let ok_ops = ops.iter().filter(|op| op.outcome == Outcome::Ok).count();
    let anomalies = checked.as_ref().map(|c| c.anomalies.clone()).unwrap_or_default();
    let (exit_code, valid, reason) = match (&error, &checked) {
        (_, Some(c)) if c.validity == Validity::Invalid => (EXIT_ANOMALY, json!(false), None),
        (Some(e), _) => (EXIT_ERROR, json!("unknown"), Some(e.clone())),
        (None, None) => (EXIT_ERROR, json!("unknown"), Some("no history was recorded".to_string())),
        (None, Some(c)) if c.validity == Validity::Unknown => {
            (EXIT_ERROR, json!("unknown"), Some("the checker could not decide".to_string()))
        }
        (None, Some(_)) if ok_ops < OK_OPS_MIN => (
            EXIT_ERROR,
            json!("unknown"),
            Some(format!("only {ok_ops} operations succeeded (at least {OK_OPS_MIN} are needed)")),
        ),
        (None, Some(_)) => (EXIT_VALID, json!(true), None),
    };
    let verdict = json!({
        "valid": valid,
        "workload": config.workload.name(),
        "nemesis": config.nemesis_spec,
        "fault_kinds": config.faults,
        "seed": config.seed,
        "nodes": config.nodes,
        "time_limit_s": config.time_limit.as_secs(),
        "duration_s": (duration.as_secs_f64() * 100.0).round() / 100.0,
        "counts": counts(ops),
        "anomalies": anomalies,
        "error": reason,
        "details": checked.as_ref().map(|c| c.details.clone()).unwrap_or(Value::Null),
        "schedule": schedule.windows,
        "faults_applied": applied,
        "replay": config.replay_command(),
    });
    write_history(&config.out_dir.join("history.jsonl"), ops, &applied)?;
    let title = format!(
        "redraft-jepsen {} / nemesis {} / {} nodes / seed {}",
        config.workload.name(),
        config.nemesis_spec,
        config.nodes,
        config.seed
    );
    let svg = plot::render(&title, &plot_points(ops), &plot_bands(&applied), config.time_limit.as_secs_f64());
    fs::write(config.out_dir.join("latency.svg"), svg)?;
    fs::write(config.out_dir.join("verdict.json"), serde_json::to_string_pretty(&verdict)? + "\n")?;
    print_summary(config, &verdict, exit_code, &anomalies);
    Ok(RunReport { exit_code, verdict })
}

fn plot_points(ops: &[OpRecord]) -> Vec<plot::Point> {
    ops.iter()
        .map(|op| plot::Point {
            invoke_s: op.invoke_ns as f64 / 1e9,
            latency_ms: op.complete_ns.saturating_sub(op.invoke_ns) as f64 / 1e6,
            outcome: op.outcome,
        })
        .collect()
}

fn plot_bands(applied: &[AppliedFault]) -> Vec<plot::Band> {
    applied
        .iter()
        .map(|f| {
            let nodes: Vec<String> = f.targets.iter().map(|id| format!("n{id}")).collect();
            plot::Band {
                start_s: f.start_ns as f64 / 1e9,
                end_s: f.end_ns as f64 / 1e9,
                label: format!("{} {}", f.fault, nodes.join(",")),
            }
        })
        .collect()
}

/// `history.jsonl`: one JSON object per line, operations and nemesis events merged in time
/// order (operations by invocation).
fn write_history(path: &Path, ops: &[OpRecord], applied: &[AppliedFault]) -> io::Result<()> {
    let mut lines: Vec<(u64, Value)> = Vec::with_capacity(ops.len() + 2 * applied.len());
    for op in ops {
        lines.push((op.invoke_ns, serde_json::to_value(op)?));
    }
    for fault in applied {
        let event = |f: &str, at: u64| json!({"process": "nemesis", "f": f, "fault": fault.fault, "targets": fault.targets, "time_ns": at, "note": fault.note});
        lines.push((fault.start_ns, event("start", fault.start_ns)));
        lines.push((fault.end_ns, event("stop", fault.end_ns)));
    }
    lines.sort_by_key(|(at, _)| *at);
    let mut out = BufWriter::new(fs::File::create(path)?);
    for (_, line) in lines {
        serde_json::to_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

fn print_summary(config: &RunConfig, verdict: &Value, exit_code: u8, anomalies: &[String]) {
    let counts = &verdict["counts"];
    let applied = verdict["faults_applied"].as_array().map(Vec::len).unwrap_or(0);
    eprintln!("==== redraft-jepsen summary ====");
    eprintln!(
        "operations: {} (ok {}, fail {}, unknown {}); faults applied: {applied}",
        counts["total"], counts["ok"], counts["fail"], counts["unknown"]
    );
    let word = match exit_code {
        EXIT_VALID => "VALID".to_string(),
        EXIT_ANOMALY => format!("ANOMALY ({} found)", anomalies.len()),
        _ => format!("NO VERDICT: {}", verdict["error"].as_str().unwrap_or("?")),
    };
    eprintln!("verdict: {word}");
    for anomaly in anomalies.iter().take(10) {
        eprintln!("  - {anomaly}");
    }
    if anomalies.len() > 10 {
        eprintln!("  ... and {} more in verdict.json", anomalies.len() - 10);
    }
    eprintln!("outputs: {}/{{history.jsonl,latency.svg,verdict.json,logs/}}", config.out_dir.display());
    eprintln!("exit code: {exit_code}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(f: &'static str, outcome: Outcome, invoke_ns: u64) -> OpRecord {
        OpRecord {
            process: 0,
            f,
            key: "k".into(),
            value: Value::Null,
            outcome,
            result: Value::Null,
            invoke_ns,
            complete_ns: invoke_ns + 10,
        }
    }

    #[test]
    fn counts_are_by_outcome_and_function() {
        let ops =
            [record("read", Outcome::Ok, 1), record("read", Outcome::Unknown, 2), record("write", Outcome::Ok, 3)];
        let c = counts(&ops);
        assert_eq!((c["total"].clone(), c["ok"].clone(), c["unknown"].clone()), (json!(3), json!(2), json!(1)));
        assert_eq!(c["by_f"]["read"]["unknown"], json!(1));
    }

    #[test]
    fn the_history_merges_operations_and_faults_in_time_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let ops = [record("read", Outcome::Ok, 10), record("write", Outcome::Fail, 30)];
        let fault =
            AppliedFault { fault: FaultKind::KillOne, targets: vec![2], start_ns: 20, end_ns: 40, note: String::new() };
        write_history(&path, &ops, &[fault]).unwrap();
        let lines: Vec<Value> =
            fs::read_to_string(&path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let fs: Vec<&str> = lines.iter().map(|l| l["f"].as_str().unwrap()).collect();
        assert_eq!(fs, ["read", "start", "write", "stop"]);
        assert_eq!(lines[1]["fault"], json!("kill-one"));
        assert_eq!(lines[2]["outcome"], json!("fail"));
    }

    /// Goal: the exit code follows the verdict, and "valid" needs enough operations.
    #[test]
    fn exit_codes_follow_the_verdict() {
        let dir = tempfile::tempdir().unwrap();
        let config = RunConfig {
            workload: Workload::Register,
            nemesis_spec: "none".into(),
            faults: Vec::new(),
            time_limit: Duration::from_secs(10),
            seed: 1,
            nodes: 3,
            out_dir: dir.path().to_path_buf(),
            quiet: true,
        };
        let schedule = Schedule::generate(&[], 1, config.time_limit);
        let checked = |validity, n: u64| Checked {
            validity,
            anomalies: if validity == Validity::Invalid { vec!["lost write".into()] } else { Vec::new() },
            ops: (0..n).map(|i| record("read", Outcome::Ok, i)).collect(),
            details: Value::Null,
        };
        let exit = |c: Option<Checked>, e: Option<String>| {
            finish(&config, &schedule, Vec::new(), c, e, Duration::from_secs(1)).unwrap().exit_code
        };
        assert_eq!(exit(Some(checked(Validity::Valid, 50)), None), EXIT_VALID);
        assert_eq!(exit(Some(checked(Validity::Valid, 5)), None), EXIT_ERROR);
        assert_eq!(exit(Some(checked(Validity::Invalid, 5)), None), EXIT_ANOMALY);
        assert_eq!(exit(Some(checked(Validity::Unknown, 50)), None), EXIT_ERROR);
        assert_eq!(exit(None, Some("no leader".into())), EXIT_ERROR);
        let verdict: Value =
            serde_json::from_str(&fs::read_to_string(dir.path().join("verdict.json")).unwrap()).unwrap();
        assert_eq!(verdict["error"], json!("no leader"));
        assert!(dir.path().join("latency.svg").is_file());
    }
}
