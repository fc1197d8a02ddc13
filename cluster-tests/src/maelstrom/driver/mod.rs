//! The in-repo Maelstrom: runs adapter processes, routes every message between them and the
//! clients through a faulty network, runs lin-kv clients and checks their history.
//!
//! # Method
//! 1. Start `node_count` adapter processes (`n1..nN`), stderr to `<log_dir>/<node>.log`, and
//!    send each `init`; wait for every `init_ok`.
//! 2. Route: each line a node writes is a message; server-to-server messages go through
//!    [`faults::Faults`] (partitions, seeded drops), every message gets a seeded latency. The
//!    driver notes which node sends AppendEntries, to isolate the leader.
//! 3. Run `clients` lin-kv clients for `time_limit` at `rate` operations per second in total,
//!    each with one request in flight, to random nodes; the nemesis applies the seeded
//!    [`faults::schedule`] meanwhile.
//! 4. Check the history per key with [`crate::linearizability`].
//!
//! A run is replayable in its choices (operations, nodes, partitions, drop and latency draws
//! follow the seed), not in its timing: the nodes are real processes.

pub mod client;
pub mod faults;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};

use self::client::{input_of, outcome_of, ClientGen};
use self::faults::{Cut, Faults, Nemesis, Route, Window};
use super::protocol::{self, Body, Message, Payload, RaftRpc};
use crate::linearizability::{self, Input, Operation, Outcome, Verdict};

/// A run's settings.
#[derive(Debug, Clone)]
pub struct DriverConfig {
    /// The `redraft-maelstrom` binary.
    pub adapter_bin: PathBuf,
    /// Extra arguments for every adapter (e.g. `--unsafe-stale-reads`).
    pub adapter_args: Vec<String>,
    pub node_count: usize,
    /// How long clients issue operations.
    pub time_limit: Duration,
    pub nemesis: Nemesis,
    pub seed: u64,
    /// Operations per second, all clients together.
    pub rate: f64,
    pub clients: usize,
    /// Keys the clients share.
    pub keys: usize,
    /// Probability that a server-to-server message is lost.
    pub drop_rate: f64,
    /// Each message is delayed by up to this much.
    pub latency_ms_max: u64,
    /// A request with no reply by then is unknown. Above the adapter's forwarding deadline.
    pub op_timeout: Duration,
    /// How long the nodes may take to answer `init`.
    pub init_timeout: Duration,
    /// Where node logs go; `None`: a temporary directory, removed after the run.
    pub log_dir: Option<PathBuf>,
}

impl DriverConfig {
    /// Three nodes, no faults, ten seconds, five clients on three keys at 50 ops/s.
    pub fn new(adapter_bin: PathBuf, seed: u64) -> DriverConfig {
        DriverConfig {
            adapter_bin,
            adapter_args: Vec::new(),
            node_count: 3,
            time_limit: Duration::from_secs(10),
            nemesis: Nemesis::None,
            seed,
            rate: 50.0,
            clients: 5,
            keys: 3,
            drop_rate: 0.0,
            latency_ms_max: 5,
            op_timeout: Duration::from_secs(5),
            init_timeout: Duration::from_secs(30),
            log_dir: None,
        }
    }
}

/// Operation counts by kind and outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// `[ok, fail, unknown]` for reads, writes and compare-and-sets.
    pub reads: [usize; 3],
    pub writes: [usize; 3],
    pub cas: [usize; 3],
}

impl Counts {
    fn add(&mut self, op: &Operation) {
        let row = match op.input {
            Input::Read => &mut self.reads,
            Input::Write(_) => &mut self.writes,
            Input::Cas { .. } => &mut self.cas,
        };
        let column = match op.outcome {
            Outcome::Ok(_) => 0,
            Outcome::Fail => 1,
            Outcome::Unknown => 2,
        };
        row[column] += 1;
    }

    /// Operations that completed with a result.
    pub fn ok(&self) -> usize {
        self.reads[0] + self.writes[0] + self.cas[0]
    }
}

/// Messages the network handled.
#[derive(Debug, Default)]
pub struct NetStats {
    pub delivered: AtomicU64,
    pub blocked: AtomicU64,
    pub dropped: AtomicU64,
    /// Lines from nodes that are not messages, or to nobody.
    pub malformed: AtomicU64,
    /// Snapshots delivered from one node to another.
    pub snapshots: AtomicU64,
}

/// What a run found.
#[derive(Debug)]
pub struct Report {
    pub seed: u64,
    pub history: Vec<Operation>,
    pub counts: Counts,
    pub verdict: Verdict,
    /// The partitions applied, as text, in order.
    pub faults: Vec<String>,
    pub delivered: u64,
    pub blocked: u64,
    pub dropped: u64,
    pub malformed: u64,
    pub snapshots: u64,
    pub log_dir: PathBuf,
}

impl Report {
    /// A few lines for a human.
    pub fn summary(&self) -> String {
        let row =
            |name: &str, r: &[usize; 3]| format!("  {name:<6} ok {:>5}  fail {:>5}  unknown {:>5}\n", r[0], r[1], r[2]);
        let mut text = format!("seed {}\noperations: {}\n", self.seed, self.history.len());
        text += &row("read", &self.counts.reads);
        text += &row("write", &self.counts.writes);
        text += &row("cas", &self.counts.cas);
        text += &format!(
            "messages: {} delivered, {} lost to partitions, {} dropped, {} malformed, {} snapshots\n",
            self.delivered, self.blocked, self.dropped, self.malformed, self.snapshots
        );
        text +=
            &format!("faults: {}\n", if self.faults.is_empty() { "none".to_string() } else { self.faults.join("; ") });
        text += &format!("node logs: {}\n", self.log_dir.display());
        text += &match &self.verdict {
            Verdict::Linearizable => "verdict: linearizable".to_string(),
            Verdict::NotLinearizable { key, explanation } => {
                format!("verdict: NOT LINEARIZABLE on key {key}\n{explanation}")
            }
            Verdict::Unknown { key, steps } => {
                format!("verdict: unknown (search budget of {steps} steps ran out on key {key})")
            }
        };
        text
    }
}

/// The shared network: node inputs, clients waiting for replies, faults.
struct Net {
    nodes: BTreeMap<String, mpsc::UnboundedSender<String>>,
    faults: Mutex<Faults>,
    /// Replies awaited by clients, by `(client, msg_id)`.
    waiting: Mutex<HashMap<(String, u64), oneshot::Sender<Payload>>>,
    /// The node last seen sending AppendEntries that got through: the leader, most likely.
    replicating: Mutex<Option<String>>,
    stats: NetStats,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Net {
    fn is_server(&self, name: &str) -> bool {
        self.nodes.contains_key(name)
    }

    /// Routes one message through the faults to a node or a waiting client.
    fn send(self: &Arc<Self>, message: Message) {
        let route = lock(&self.faults).route(&message.src, &message.dest, |n| self.is_server(n));
        let delay = match route {
            Route::Deliver { delay } => delay,
            Route::Blocked => {
                self.stats.blocked.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Route::Dropped => {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
        if matches!(message.body.payload, Payload::Raft { rpc: RaftRpc::AppendEntries, .. }) {
            *lock(&self.replicating) = Some(message.src.clone());
        }
        if delay.is_zero() {
            self.deliver(message);
        } else {
            let net = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                net.deliver(message);
            });
        }
    }

    fn deliver(&self, message: Message) {
        if let Some(input) = self.nodes.get(&message.dest) {
            self.stats.delivered.fetch_add(1, Ordering::Relaxed);
            if matches!(message.body.payload, Payload::Raft { rpc: RaftRpc::Snapshot, .. }) {
                self.stats.snapshots.fetch_add(1, Ordering::Relaxed);
            }
            // A node that exited has a closed input: the message is lost, as on a real network.
            let _ = input.send(protocol::to_line(&message));
            return;
        }
        let waiter = message.body.in_reply_to.and_then(|id| lock(&self.waiting).remove(&(message.dest.clone(), id)));
        match waiter {
            Some(waiter) => {
                self.stats.delivered.fetch_add(1, Ordering::Relaxed);
                let _ = waiter.send(message.body.payload);
            }
            // A reply after the client gave up, or a message to nobody.
            None => tracing::debug!(dest = %message.dest, "message to nobody waiting"),
        }
    }

    /// Sends a request from `client` to `node` and waits for the reply until `timeout`.
    async fn request(
        self: &Arc<Self>,
        client: &str,
        node: &str,
        msg_id: u64,
        payload: Payload,
        timeout: Duration,
    ) -> Option<Payload> {
        let (tx, rx) = oneshot::channel();
        lock(&self.waiting).insert((client.to_string(), msg_id), tx);
        let body = Body { msg_id: Some(msg_id), in_reply_to: None, payload };
        self.send(Message { src: client.to_string(), dest: node.to_string(), body });
        let reply = tokio::time::timeout(timeout, rx).await.ok().and_then(Result::ok);
        lock(&self.waiting).remove(&(client.to_string(), msg_id));
        reply
    }

    fn apply(&self, window: &Window) -> String {
        let nodes: Vec<String> = self.nodes.keys().cloned().collect();
        let minority = match &window.cut {
            Cut::Minority(minority) => minority.clone(),
            Cut::Leader => lock(&self.replicating).clone().into_iter().collect(),
        };
        let rest: Vec<String> = nodes.into_iter().filter(|n| !minority.contains(n)).collect();
        lock(&self.faults).partition(&minority, &rest);
        let what = match window.cut {
            Cut::Leader => "leader",
            Cut::Minority(_) => "minority",
        };
        format!("{:.1}s-{:.1}s {what} {minority:?} | {rest:?}", window.start.as_secs_f64(), window.end.as_secs_f64())
    }
}

/// Runs one test on a fresh tokio runtime; see the module documentation.
///
/// # Errors
/// When the adapters cannot be started or do not all answer `init`.
pub fn run(config: &DriverConfig) -> anyhow::Result<Report> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(run_async(config))
}

async fn run_async(config: &DriverConfig) -> anyhow::Result<Report> {
    let temp_logs;
    let log_dir = match &config.log_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => {
            temp_logs = tempfile::Builder::new().prefix("redraft-maelstrom-driver-").tempdir()?;
            temp_logs.path().to_path_buf()
        }
    };
    let names: Vec<String> = (1..=config.node_count).map(|i| format!("n{i}")).collect();
    let mut node_inputs = BTreeMap::new();
    let mut children = Vec::new();
    let mut outputs = Vec::new();
    let mut writers = Vec::new();
    for name in &names {
        // Spawned from this thread (block_on runs here): the parent-death signal follows it.
        let log = std::fs::OpenOptions::new().create(true).append(true).open(log_dir.join(format!("{name}.log")))?;
        let mut command = std::process::Command::new(&config.adapter_bin);
        command.args(&config.adapter_args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(log);
        crate::process::die_with_parent(&mut command);
        let mut child = tokio::process::Command::from(command)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", config.adapter_bin.display()))?;
        let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            anyhow::bail!("{name}: no pipes to the adapter");
        };
        let (input, mut lines) = mpsc::unbounded_channel::<String>();
        // Aborting this task drops the pipe: the adapter sees end of input and exits.
        writers.push(tokio::spawn(async move {
            while let Some(mut line) = lines.recv().await {
                line.push('\n');
                if stdin.write_all(line.as_bytes()).await.is_err() || stdin.flush().await.is_err() {
                    return;
                }
            }
        }));
        node_inputs.insert(name.clone(), input);
        outputs.push((name.clone(), stdout));
        children.push(child);
    }
    let net = Arc::new(Net {
        nodes: node_inputs,
        faults: Mutex::new(Faults::new(config.drop_rate, config.latency_ms_max, config.seed)),
        waiting: Mutex::default(),
        replicating: Mutex::default(),
        stats: NetStats::default(),
    });
    for (name, stdout) in outputs {
        let net = net.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                match protocol::parse(&line) {
                    Ok(message) if message.src == name => net.send(message),
                    Ok(message) => {
                        tracing::warn!(node = %name, src = %message.src, "a node sent a message under another name");
                        net.stats.malformed.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        tracing::warn!(node = %name, error = %e, "a node wrote a line that is not a message");
                        net.stats.malformed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
    }

    init_all(&net, &names, config.init_timeout).await?;
    let started = Instant::now();
    let (history, applied) = run_workload(&net, &names, config, started).await;
    stop_nodes(writers, children).await;

    let verdict = linearizability::check(&history);
    let mut counts = Counts::default();
    history.iter().for_each(|op| counts.add(op));
    let stats = &net.stats;
    let report = Report {
        seed: config.seed,
        history,
        counts,
        verdict,
        faults: applied,
        delivered: stats.delivered.load(Ordering::Relaxed),
        blocked: stats.blocked.load(Ordering::Relaxed),
        dropped: stats.dropped.load(Ordering::Relaxed),
        malformed: stats.malformed.load(Ordering::Relaxed),
        snapshots: stats.snapshots.load(Ordering::Relaxed),
        log_dir: log_dir.clone(),
    };
    if config.log_dir.is_none() && report.verdict != Verdict::Linearizable {
        // Keep the logs of a failed run.
        let kept = std::env::temp_dir().join(format!("redraft-maelstrom-seed-{}", config.seed));
        let _ = std::fs::create_dir_all(&kept);
        for name in &names {
            let _ = std::fs::copy(log_dir.join(format!("{name}.log")), kept.join(format!("{name}.log")));
        }
        return Ok(Report { log_dir: kept, ..report });
    }
    Ok(report)
}

/// Closes every adapter's input, so it exits and removes its data, and kills any that has not
/// exited soon after.
async fn stop_nodes(writers: Vec<tokio::task::JoinHandle<()>>, children: Vec<tokio::process::Child>) {
    for writer in writers {
        writer.abort();
        let _ = writer.await;
    }
    for mut child in children {
        if tokio::time::timeout(Duration::from_secs(5), child.wait()).await.is_err() {
            let _ = child.kill().await;
        }
    }
}

async fn init_all(net: &Arc<Net>, names: &[String], timeout: Duration) -> anyhow::Result<()> {
    let inits = names.iter().enumerate().map(|(i, name)| {
        let (net, name) = (net.clone(), name.clone());
        let payload = Payload::Init { node_id: name.clone(), node_ids: names.to_vec() };
        async move {
            let reply = net.request("c0", &name, i as u64 + 1, payload, timeout).await;
            (name, reply)
        }
    });
    for (name, reply) in futures_join_all(inits).await {
        match reply {
            Some(Payload::InitOk) => {}
            other => anyhow::bail!("{name} did not answer init with init_ok: {other:?}"),
        }
    }
    Ok(())
}

/// Awaits every future, concurrently, in order (the crate has no `futures`).
async fn futures_join_all<F: std::future::Future + Send + 'static>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::with_capacity(handles.len());
    for handle in handles {
        outputs.push(handle.await.expect("an init task panicked"));
    }
    outputs
}

/// Runs the clients and the nemesis until the time limit; returns the history and the
/// partitions applied.
async fn run_workload(
    net: &Arc<Net>,
    names: &[String],
    config: &DriverConfig,
    started: Instant,
) -> (Vec<Operation>, Vec<String>) {
    let deadline = started + config.time_limit;
    let windows = faults::schedule(config.nemesis, names, config.time_limit, config.seed);
    let applied = Arc::new(Mutex::new(Vec::new()));
    let nemesis = {
        let (net, applied) = (net.clone(), applied.clone());
        async move {
            for window in windows {
                tokio::time::sleep_until((started + window.start).into()).await;
                let text = net.apply(&window);
                tracing::info!("--- partition {text}");
                lock(&applied).push(text);
                tokio::time::sleep_until((started + window.end).into()).await;
                lock(&net.faults).heal();
                tracing::info!("--- healed");
            }
        }
    };
    let clients: Vec<_> = (0..config.clients.max(1))
        .map(|client| {
            let net = net.clone();
            let names = names.to_vec();
            let config = config.clone();
            tokio::spawn(async move { run_client(&net, &names, &config, client, started, deadline).await })
        })
        .collect();
    let nemesis = tokio::spawn(nemesis);
    let mut history = Vec::new();
    for client in clients {
        history.extend(client.await.expect("a client task panicked"));
    }
    nemesis.abort();
    lock(&net.faults).heal();
    let applied = std::mem::take(&mut *lock(&applied));
    (history, applied)
}

async fn run_client(
    net: &Arc<Net>,
    names: &[String],
    config: &DriverConfig,
    client: usize,
    started: Instant,
    deadline: Instant,
) -> Vec<Operation> {
    let name = format!("c{}", client + 1);
    let mut gen = ClientGen::new(client, config.keys, config.seed);
    // Each client's share of the rate, with the pause drawn in 0.5x..1.5x of its mean.
    let mean_pause_ms = (config.clients.max(1) as f64 * 1000.0 / config.rate.max(0.1)) as u64;
    let mut history = Vec::new();
    let mut msg_id = 0;
    loop {
        let pause = Duration::from_millis(mean_pause_ms / 2 + gen.below(mean_pause_ms + 1));
        tokio::time::sleep(pause).await;
        if Instant::now() >= deadline {
            return history;
        }
        let request = gen.next_request();
        let Some((key, input)) = input_of(&request) else { continue };
        let node = &names[gen.below(names.len() as u64) as usize];
        msg_id += 1;
        let invoke_ns = started.elapsed().as_nanos() as u64;
        let reply = net.request(&name, node, msg_id, request.clone(), config.op_timeout).await;
        let complete_ns = started.elapsed().as_nanos() as u64;
        gen.observe(&request, reply.as_ref());
        let outcome = outcome_of(&input, reply.as_ref());
        history.push(Operation { client, key, input, invoke_ns, complete_ns, outcome });
    }
}
