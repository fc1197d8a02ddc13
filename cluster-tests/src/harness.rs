//! [`TestCluster`]: N `redraft server` processes on free loopback ports, each with its own data
//! dir and log file in one temp dir, plus the faults tests inject into them.

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use resp::Frame;
use tempfile::TempDir;

use crate::client::{describe_command, Reply, RespClient};
use crate::process::{free_port, redraft_bin, serial, tail, ChildProcess, SerialGuard};
use crate::proxy::FaultProxy;
use crate::wait::poll_until;

/// A node id, as in `--node-id`; nodes are numbered `1..=n`.
pub type NodeId = u64;

/// How long a cluster may take to elect a leader that every running node agrees on. Generous:
/// election timeouts are short, but a loaded two-core machine can stall processes for seconds.
pub const LEADER_DEADLINE: Duration = Duration::from_secs(30);
/// How long nodes may take to apply an index.
pub const APPLY_DEADLINE: Duration = Duration::from_secs(30);
/// How long a `must_` helper keeps retrying through redirects and elections.
pub const OP_DEADLINE: Duration = Duration::from_secs(30);
/// Deadline of one `INFO raft` probe: a paused or partitioned node must not stall polling.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// MOVED redirects followed for one command before giving up.
const REDIRECTS_MAX: usize = 5;
/// Log lines of each node printed when a test fails.
const FAILURE_LOG_LINES: usize = 50;
/// Set to keep the cluster's temp dir (data and logs) after a failed test.
pub const KEEP_DIR_ENV: &str = "REDRAFT_TEST_KEEP";

/// One node's fixed identity and its current process.
struct Node {
    id: NodeId,
    client_port: u16,
    log: PathBuf,
    /// The `redraft` arguments; `restart` reuses them, so the node comes back on the same
    /// ports and data dir.
    args: Vec<String>,
    /// `None` after `kill`.
    process: Mutex<Option<ChildProcess>>,
}

/// A cluster of real `redraft server` processes. Dropping it kills every process; when the
/// dropping thread is panicking (a failed test) it first prints the tail of every node's log.
///
/// Methods take `&self`, so writer threads (`std::thread::scope`) can use the cluster while the
/// test thread injects faults. Spawning (start, `restart`) must happen on the thread that owns
/// the cluster: children die with the thread that spawned them (see [`ChildProcess::spawn`]).
pub struct TestCluster {
    bin: PathBuf,
    nodes: Vec<Node>,
    proxy: Option<FaultProxy>,
    dir: Option<TempDir>,
    /// One cluster at a time per test binary; see [`serial`].
    _serial: SerialGuard,
}

impl TestCluster {
    /// Starts `n` nodes that talk Raft to each other directly, and waits until they agree on a
    /// leader.
    ///
    /// # Panics
    /// When the `redraft` binary is missing, a node exits, or no leader emerges within
    /// [`LEADER_DEADLINE`].
    pub fn start(n: usize) -> TestCluster {
        TestCluster::launch(n, false, &[])
    }

    /// Like [`TestCluster::start`], with extra `redraft server` flags on every node
    /// (for example `--follower-mode proxy`).
    ///
    /// # Panics
    /// As [`TestCluster::start`].
    pub fn start_with_flags(n: usize, flags: &[&str]) -> TestCluster {
        TestCluster::launch(n, false, flags)
    }

    /// Like [`TestCluster::start`], but every Raft link goes through a [`FaultProxy`], so links
    /// can be cut with [`TestCluster::proxy`].
    ///
    /// # Panics
    /// As [`TestCluster::start`].
    pub fn start_proxied(n: usize) -> TestCluster {
        TestCluster::launch(n, true, &[])
    }

    /// Like [`TestCluster::start_proxied`], with extra `redraft server` flags on every node.
    ///
    /// # Panics
    /// As [`TestCluster::start`].
    pub fn start_proxied_with_flags(n: usize, flags: &[&str]) -> TestCluster {
        TestCluster::launch(n, true, flags)
    }

    fn launch(n: usize, proxied: bool, flags: &[&str]) -> TestCluster {
        assert!(n >= 1, "a cluster needs at least one node");
        assert!(!proxied || n >= 2, "a proxied cluster needs links, so at least two nodes");
        let guard = serial();
        let bin = redraft_bin();
        let dir = tempfile::Builder::new().prefix("redraft-cluster-").tempdir().expect("a temp dir for the cluster");
        let ids: Vec<NodeId> = (1..=n as NodeId).collect();
        let client_ports: Vec<u16> = ids.iter().map(|_| free_port()).collect();
        let raft_ports: Vec<u16> = ids.iter().map(|_| free_port()).collect();
        let proxy = proxied.then(|| {
            let links: Vec<(NodeId, u16)> = ids.iter().copied().zip(raft_ports.iter().copied()).collect();
            FaultProxy::start(&links).expect("starting the fault proxy")
        });
        let nodes = ids
            .iter()
            .map(|&id| {
                let index = id as usize - 1;
                let peers = peers_arg(id, &raft_ports, proxy.as_ref());
                let data_dir = dir.path().join(format!("n{id}"));
                let args = [
                    "server",
                    "--node-id",
                    &id.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    &client_ports[index].to_string(),
                    "--raft-port",
                    &raft_ports[index].to_string(),
                    "--dir",
                    &data_dir.to_string_lossy(),
                    "--peers",
                    &peers,
                ];
                let args = args.iter().chain(flags.iter()).map(|s| s.to_string()).collect();
                let log = dir.path().join(format!("n{id}.log"));
                Node { id, client_port: client_ports[index], log, args, process: Mutex::new(None) }
            })
            .collect();
        let cluster = TestCluster { bin, nodes, proxy, dir: Some(dir), _serial: guard };
        eprintln!("--- starting {n} redraft nodes in {}", cluster.dir_path().display());
        for id in cluster.ids() {
            cluster.spawn(id);
        }
        let leader = cluster.wait_for_leader(None);
        eprintln!("--- cluster up: node {leader} leads");
        cluster
    }

    fn spawn(&self, id: NodeId) {
        let node = self.node(id);
        let process = ChildProcess::spawn(&self.bin, &node.args, &[], &node.log)
            .unwrap_or_else(|e| panic!("spawning node {id} ({}): {e}", self.bin.display()));
        if let Some(proxy) = &self.proxy {
            proxy.set_pid(id, process.pid());
        }
        *self.process(id) = Some(process);
    }

    fn node(&self, id: NodeId) -> &Node {
        let index = usize::try_from(id).ok().and_then(|i| i.checked_sub(1));
        index.and_then(|i| self.nodes.get(i)).unwrap_or_else(|| panic!("no node {id} in this cluster"))
    }

    fn process(&self, id: NodeId) -> MutexGuard<'_, Option<ChildProcess>> {
        self.node(id).process.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn dir_path(&self) -> PathBuf {
        self.dir.as_ref().map(|d| d.path().to_path_buf()).unwrap_or_default()
    }

    /// Every node id, `1..=n`.
    pub fn ids(&self) -> Vec<NodeId> {
        self.nodes.iter().map(|n| n.id).collect()
    }

    /// Ids of nodes that run and are not paused.
    pub fn up_ids(&self) -> Vec<NodeId> {
        self.ids().into_iter().filter(|&id| self.is_up(id)).collect()
    }

    /// Whether node `id` runs and is not paused.
    pub fn is_up(&self, id: NodeId) -> bool {
        self.process(id).as_ref().is_some_and(|p| !p.is_paused())
    }

    /// Node `id`'s client address, `127.0.0.1:<port>`.
    pub fn addr(&self, id: NodeId) -> String {
        format!("127.0.0.1:{}", self.node(id).client_port)
    }

    /// The node whose client address is `addr` (as in a MOVED reply), if any.
    pub fn id_of_addr(&self, addr: &str) -> Option<NodeId> {
        self.ids().into_iter().find(|&id| self.addr(id) == addr)
    }

    /// A new connection to node `id`.
    ///
    /// # Panics
    /// When connecting fails.
    #[track_caller]
    pub fn client(&self, id: NodeId) -> RespClient {
        RespClient::must_connect(&self.addr(id))
    }

    /// A new connection to node `id` that has sent READONLY, so it may read on a follower.
    ///
    /// # Panics
    /// When connecting fails or READONLY is not answered with +OK.
    #[track_caller]
    pub fn readonly_client(&self, id: NodeId) -> RespClient {
        let mut client = self.client(id);
        let reply = client.must_cmd(&["READONLY"]);
        assert_eq!(reply, Frame::ok(), "READONLY on node {id}");
        client
    }

    /// Sends one command to node `id` on a new connection.
    ///
    /// # Errors
    /// Connection errors and timeouts.
    pub fn try_cmd<A: AsRef<[u8]>>(&self, id: NodeId, args: &[A]) -> io::Result<Frame> {
        RespClient::connect(&self.addr(id))?.cmd(args)
    }

    /// Sends one command to node `id` on a new connection and returns the reply, error replies
    /// included.
    ///
    /// # Panics
    /// On a connection error or timeout.
    #[track_caller]
    pub fn cmd<A: AsRef<[u8]>>(&self, id: NodeId, args: &[A]) -> Frame {
        self.try_cmd(id, args).unwrap_or_else(|e| panic!("{} on node {id}: {e}", describe_command(args)))
    }

    /// Sends one command to node `id`, following MOVED redirects (at most [`REDIRECTS_MAX`]).
    ///
    /// # Errors
    /// Connection errors and timeouts.
    pub fn cmd_following<A: AsRef<[u8]>>(&self, id: NodeId, args: &[A]) -> io::Result<Frame> {
        let mut addr = self.addr(id);
        let mut reply = RespClient::connect(&addr)?.cmd(args)?;
        for _ in 0..REDIRECTS_MAX {
            let Reply::Moved(next) = Reply::classify(Ok(reply.clone())) else {
                break;
            };
            addr = next;
            reply = RespClient::connect(&addr)?.cmd(args)?;
        }
        Ok(reply)
    }

    /// `INFO raft` of node `id` as a map (`raft_role` → `leader`, ...), or `None` when the node
    /// does not answer within a few seconds.
    pub fn try_info_raft(&self, id: NodeId) -> Option<HashMap<String, String>> {
        let mut client = RespClient::connect(&self.addr(id)).ok()?;
        client.set_timeout(PROBE_TIMEOUT).ok()?;
        let text = match client.cmd(&["INFO", "raft"]).ok()? {
            Frame::Bulk(text) | Frame::Verbatim { text, .. } => text,
            _ => return None,
        };
        Some(parse_info(&String::from_utf8_lossy(&text)))
    }

    /// `INFO raft` of node `id` as a map.
    ///
    /// # Panics
    /// When the node does not answer.
    #[track_caller]
    pub fn info_raft(&self, id: NodeId) -> HashMap<String, String> {
        self.try_info_raft(id).unwrap_or_else(|| panic!("node {id} does not answer INFO raft"))
    }

    /// A numeric `INFO raft` field of node `id`.
    ///
    /// # Panics
    /// When the node does not answer or the field is missing or not a number.
    #[track_caller]
    pub fn info_u64(&self, id: NodeId, field: &str) -> u64 {
        let info = self.info_raft(id);
        info_number(&info, field).unwrap_or_else(|| panic!("node {id}: INFO raft field {field} in {info:?}"))
    }

    /// Waits until the cluster has a leader, and returns it.
    ///
    /// # Panics
    /// As [`TestCluster::wait_for_leader`].
    pub fn leader(&self) -> NodeId {
        self.wait_for_leader(None)
    }

    /// Waits until exactly one running node other than `except` says it is the leader and every
    /// running node other than `except` names it as leader in the same term; returns it.
    ///
    /// `except` is a node whose view does not count: a paused or partitioned old leader still
    /// believes it leads until it hears otherwise.
    ///
    /// # Panics
    /// When a node that should run has exited, or no such agreement is reached within
    /// [`LEADER_DEADLINE`]; the message shows what each node said last.
    pub fn wait_for_leader(&self, except: Option<NodeId>) -> NodeId {
        let mut last_views = String::new();
        let found = poll_until(LEADER_DEADLINE, || {
            self.check_no_node_exited();
            let mut views = Vec::new();
            for id in self.up_ids().into_iter().filter(|&id| Some(id) != except) {
                let info = self.try_info_raft(id);
                let field = |name: &str| info.as_ref().and_then(|i| i.get(name).cloned()).unwrap_or_default();
                views.push((id, field("raft_role"), field("raft_leader_id"), field("raft_term")));
            }
            last_views = format!("{views:?}");
            let leaders: Vec<NodeId> =
                views.iter().filter(|(_, role, _, _)| role == "leader").map(|(id, _, _, _)| *id).collect();
            let [leader] = leaders[..] else {
                return None;
            };
            let term = &views.iter().find(|(id, _, _, _)| *id == leader)?.3;
            let agreed = views.iter().all(|(_, _, named, t)| *named == leader.to_string() && t == term);
            agreed.then_some(leader)
        });
        found.unwrap_or_else(|elapsed| {
            panic!(
                "no agreed leader (except {except:?}) after {elapsed:?}; last (id, role, leader_id, term): {last_views}"
            )
        })
    }

    /// Panics if a node that should be running has exited on its own (a crash).
    fn check_no_node_exited(&self) {
        for id in self.ids() {
            if let Some(status) = self.process(id).as_mut().and_then(|p| p.exit_status()) {
                // Nodes exit cleanly only on SIGTERM/SIGINT, which this harness never sends.
                let hint = if status.contains("status: 0") {
                    "; a clean exit means a signal from outside the test"
                } else {
                    ""
                };
                panic!("node {id} exited unexpectedly ({status}{hint})");
            }
        }
    }

    /// Waits until every running, unpaused node has applied at least `index`.
    ///
    /// # Panics
    /// When that does not happen within [`APPLY_DEADLINE`].
    pub fn wait_applied_everywhere(&self, index: u64) {
        self.wait_applied_on(&self.up_ids(), index);
    }

    /// Waits until each node in `ids` has applied at least `index`.
    ///
    /// # Panics
    /// When that does not happen within [`APPLY_DEADLINE`].
    pub fn wait_applied_on(&self, ids: &[NodeId], index: u64) {
        let mut last = Vec::new();
        let done = poll_until(APPLY_DEADLINE, || {
            self.check_no_node_exited();
            last = ids
                .iter()
                .map(|&id| (id, self.try_info_raft(id).and_then(|i| info_number(&i, "raft_applied_index"))))
                .collect();
            last.iter().all(|(_, applied)| applied.is_some_and(|a| a >= index)).then_some(())
        });
        if let Err(elapsed) = done {
            panic!("nodes {ids:?} did not apply index {index} within {elapsed:?}; applied: {last:?}");
        }
    }

    /// Waits for an agreed leader and for every running node to apply the leader's commit
    /// index; returns the leader. After this, READONLY reads on any node see every write
    /// acknowledged before the call.
    ///
    /// # Panics
    /// As [`TestCluster::wait_for_leader`] and [`TestCluster::wait_applied_everywhere`].
    pub fn wait_converged(&self) -> NodeId {
        let leader = self.wait_for_leader(None);
        let commit = self.info_u64(leader, "raft_commit_index");
        self.wait_applied_everywhere(commit);
        leader
    }

    /// SIGKILL node `id` (no chance to flush or say goodbye) and reap it.
    pub fn kill(&self, id: NodeId) {
        if let Some(mut process) = self.process(id).take() {
            process.kill();
        }
    }

    /// SIGSTOP node `id`: its sockets stay open but it runs nothing until [`TestCluster::resume`].
    pub fn pause(&self, id: NodeId) {
        self.process(id).as_mut().unwrap_or_else(|| panic!("pausing node {id}, which is not running")).pause();
    }

    /// SIGCONT node `id` after [`TestCluster::pause`].
    pub fn resume(&self, id: NodeId) {
        self.process(id).as_mut().unwrap_or_else(|| panic!("resuming node {id}, which is not running")).resume();
    }

    /// Starts node `id` again with the same arguments (ports, data dir, peers), killing it first
    /// if it still runs. Does not wait for it to rejoin.
    pub fn restart(&self, id: NodeId) {
        self.kill(id);
        self.spawn(id);
    }

    /// The fault proxy on the Raft links.
    ///
    /// # Panics
    /// When the cluster was not started with [`TestCluster::start_proxied`].
    pub fn proxy(&self) -> &FaultProxy {
        self.proxy.as_ref().expect("the cluster was started without a proxy; use TestCluster::start_proxied")
    }

    /// The last `lines` lines of node `id`'s log.
    pub fn log_tail(&self, id: NodeId, lines: usize) -> String {
        tail(&self.node(id).log, lines)
    }

    /// SET `key` `value` through node `id`, following redirects and retrying through elections
    /// (SET of the same value is idempotent, so a retry after an unknown outcome is safe), until
    /// it is acknowledged with +OK.
    ///
    /// # Panics
    /// When no +OK comes within [`OP_DEADLINE`], or on a reply no retry can fix.
    #[track_caller]
    pub fn must_set(&self, id: NodeId, key: &str, value: &str) {
        self.must_retry(id, &["SET", key, value], |frame| (frame == Frame::ok()).then_some(()));
    }

    /// GET `key` through node `id`, following redirects and retrying through elections.
    /// `None` when the key does not exist.
    ///
    /// # Panics
    /// When no value comes within [`OP_DEADLINE`], or on an unexpected reply.
    #[track_caller]
    pub fn must_get(&self, id: NodeId, key: &str) -> Option<Bytes> {
        self.must_retry(id, &["GET", key], |frame| match frame {
            Frame::Bulk(value) => Some(Some(value)),
            Frame::Null => Some(None),
            _ => None,
        })
    }

    /// Sends `args` to node `id` until `accept` takes a non-error reply: follows MOVED, retries
    /// CLUSTERDOWN/TRYAGAIN/UNCERTAIN/timeouts, and moves to another node on connection errors.
    #[track_caller]
    fn must_retry<T>(&self, id: NodeId, args: &[&str], mut accept: impl FnMut(Frame) -> Option<T>) -> T {
        let mut addr = self.addr(id);
        let mut failures = 0usize;
        let mut last = String::from("(nothing yet)");
        let result = poll_until(OP_DEADLINE, || {
            let reply = Reply::classify(RespClient::connect(&addr).and_then(|mut c| c.cmd(args)));
            last = format!("{reply:?} from {addr}");
            match reply {
                Reply::Value(frame) => {
                    let shown = format!("{frame:?}");
                    let accepted = accept(frame);
                    assert!(accepted.is_some(), "{} through node {id}: unexpected reply {shown}", args.join(" "));
                    accepted
                }
                Reply::Moved(next) => {
                    addr = next;
                    None
                }
                Reply::Retry(_) | Reply::Uncertain(_) | Reply::Timeout => None,
                Reply::Io(_) => {
                    // The node may be down: try the others in turn.
                    failures += 1;
                    let up = self.up_ids();
                    if !up.is_empty() {
                        addr = self.addr(up[failures % up.len()]);
                    }
                    None
                }
                Reply::Error(text) => panic!("{} through node {id}: error -{text}", args.join(" ")),
            }
        });
        result.unwrap_or_else(|elapsed| {
            panic!("{} through node {id}: no success in {elapsed:?}; last: {last}", args.join(" "))
        })
    }
}

/// Node `id`'s `--peers`: every node's Raft address (`raft_ports[id - 1]`), or with a proxy,
/// the proxy listener of the link from `id` to it.
fn peers_arg(id: NodeId, raft_ports: &[u16], proxy: Option<&FaultProxy>) -> String {
    let n = raft_ports.len() as NodeId;
    let entry = |peer: NodeId| {
        let port = match proxy {
            None => raft_ports[peer as usize - 1],
            // A node's own entry must also lead through the proxy: the first node's entries
            // become everyone's addresses (see proxy.rs).
            Some(proxy) if peer == id => proxy.port(id % n + 1, id),
            Some(proxy) => proxy.port(id, peer),
        };
        format!("{peer}=127.0.0.1:{port}")
    };
    (1..=n).map(entry).collect::<Vec<_>>().join(",")
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        for node in &self.nodes {
            if let Some(mut process) = node.process.lock().unwrap_or_else(|e| e.into_inner()).take() {
                process.kill();
            }
        }
        self.proxy.take();
        if !std::thread::panicking() {
            return;
        }
        for node in &self.nodes {
            eprintln!(
                "===== node {} log, last {FAILURE_LOG_LINES} lines ({}) =====\n{}",
                node.id,
                node.log.display(),
                tail(&node.log, FAILURE_LOG_LINES)
            );
        }
        if std::env::var_os(KEEP_DIR_ENV).is_some() {
            if let Some(dir) = self.dir.take() {
                eprintln!("===== cluster data and logs kept in {}", dir.keep().display());
            }
        } else {
            eprintln!("===== set {KEEP_DIR_ENV}=1 to keep the cluster's data and logs");
        }
    }
}

/// `INFO` text (`# Section` headers, `key:value` lines) as a map.
pub fn parse_info(text: &str) -> HashMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A numeric field of a parsed `INFO`.
pub fn info_number(info: &HashMap<String, String>, field: &str) -> Option<u64> {
    info.get(field)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_text_parses_into_fields() {
        let info =
            parse_info("# Raft\r\nraft_node_id:2\r\nraft_role:follower\r\nraft_leader_id:\r\nraft_voters:1,2,3\r\n");
        assert_eq!(info.get("raft_role").map(String::as_str), Some("follower"));
        assert_eq!(info.get("raft_leader_id").map(String::as_str), Some(""));
        assert_eq!(info.get("raft_voters").map(String::as_str), Some("1,2,3"));
        assert_eq!(info_number(&info, "raft_node_id"), Some(2));
    }
}
