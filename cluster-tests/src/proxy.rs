//! [`FaultProxy`]: a TCP proxy in front of every node's Raft port that can cut links between
//! nodes, to test partitions with real processes.
//!
//! There is one listener per directed link `src → dst`, and node `src`'s `--peers` names that
//! listener as `dst`'s address. Blocking a link drops the proxied connections that `src` opened
//! to `dst` (both directions of those TCP connections, i.e. `src`'s requests and `dst`'s
//! responses) and refuses new ones (they are accepted and closed at once). A symmetric partition
//! blocks both `src → dst` and `dst → src`.
//!
//! # Who is the sender
//! Raft nodes do not necessarily dial the address in their own `--peers`: Redraft stores each
//! node's Raft address in the cluster membership, which the bootstrapping node fills in from
//! *its* `--peers`, and every node then dials those. So a connection arriving on the `1 → 3`
//! listener may come from node 2. The proxy therefore identifies the real sender of every
//! connection: it finds the client socket in `/proc/net/tcp` (local address = the connection's
//! peer address) and the node process that holds that socket in `/proc/<pid>/fd`. Only when that
//! fails (the sender is not a registered node) does it fall back to the listener's nominal
//! source. The destination is always the listener's.

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// A node id, as in `--node-id`.
pub type NodeId = u64;

/// A fault-injecting proxy for the Raft links of a cluster. Dropping it closes every listener
/// and proxied connection.
pub struct FaultProxy {
    runtime: Option<tokio::runtime::Runtime>,
    shared: Arc<Shared>,
    /// Listener port of each directed link.
    ports: HashMap<(NodeId, NodeId), u16>,
}

struct Shared {
    state: Mutex<State>,
    /// Each destination's real Raft address.
    targets: HashMap<NodeId, SocketAddr>,
}

#[derive(Default)]
struct State {
    blocked: HashSet<(NodeId, NodeId)>,
    /// Live proxied connections by id.
    connections: HashMap<u64, Connection>,
    next_connection_id: u64,
    /// Node process ids, to identify who opened a connection.
    pids: HashMap<u32, NodeId>,
    /// Connections refused or dropped because their link was blocked.
    dropped: u64,
}

struct Connection {
    src: NodeId,
    dst: NodeId,
    /// Notified to make the connection's task drop both sockets.
    cancel: Arc<Notify>,
}

impl FaultProxy {
    /// Binds one listener per ordered pair of distinct nodes in `raft_ports` (node id → the
    /// node's real Raft port on 127.0.0.1) and starts forwarding. All links start unblocked.
    ///
    /// # Errors
    /// When the runtime cannot be built or a listener cannot be bound.
    pub fn start(raft_ports: &[(NodeId, u16)]) -> io::Result<FaultProxy> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fault-proxy")
            .enable_all()
            .build()?;
        let targets =
            raft_ports.iter().map(|&(id, port)| (id, SocketAddr::from((Ipv4Addr::LOCALHOST, port)))).collect();
        let shared = Arc::new(Shared { state: Mutex::new(State::default()), targets });
        let mut ports = HashMap::new();
        for &(src, _) in raft_ports {
            for &(dst, _) in raft_ports {
                if src == dst {
                    continue;
                }
                let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
                listener.set_nonblocking(true)?;
                ports.insert((src, dst), listener.local_addr()?.port());
                let shared = shared.clone();
                let _entered = runtime.enter();
                let listener = TcpListener::from_std(listener)?;
                runtime.spawn(accept_loop(listener, shared, src, dst));
            }
        }
        Ok(FaultProxy { runtime: Some(runtime), shared, ports })
    }

    /// The listener port for the directed link `src → dst`.
    ///
    /// # Panics
    /// When there is no such link.
    pub fn port(&self, src: NodeId, dst: NodeId) -> u16 {
        *self.ports.get(&(src, dst)).unwrap_or_else(|| panic!("the proxy has no link {src} -> {dst}"))
    }

    /// Records that node `node` now runs as process `pid` (after each start or restart).
    pub fn set_pid(&self, node: NodeId, pid: u32) {
        let mut state = self.shared.lock();
        state.pids.retain(|_, n| *n != node);
        state.pids.insert(pid, node);
    }

    /// Cuts the link `src → dst`: drops its connections and refuses new ones.
    pub fn block(&self, src: NodeId, dst: NodeId) {
        let mut state = self.shared.lock();
        state.blocked.insert((src, dst));
        let mut dropped = 0;
        for connection in state.connections.values() {
            if connection.src == src && connection.dst == dst {
                connection.cancel.notify_one();
                dropped += 1;
            }
        }
        state.dropped += dropped;
        eprintln!("proxy: blocked {src} -> {dst} ({dropped} connections dropped)");
    }

    /// Restores the link `src → dst`.
    pub fn unblock(&self, src: NodeId, dst: NodeId) {
        self.shared.lock().blocked.remove(&(src, dst));
        eprintln!("proxy: unblocked {src} -> {dst}");
    }

    /// Cuts every link to and from `node`: a symmetric partition of `node` from all others.
    pub fn isolate(&self, node: NodeId) {
        for &(src, dst) in self.ports.keys() {
            if src == node || dst == node {
                self.block(src, dst);
            }
        }
    }

    /// Cuts every link between a node of `side_a` and a node of `side_b`, both ways.
    pub fn partition(&self, side_a: &[NodeId], side_b: &[NodeId]) {
        for &a in side_a {
            for &b in side_b {
                self.block(a, b);
                self.block(b, a);
            }
        }
    }

    /// Restores every link.
    pub fn heal(&self) {
        self.shared.lock().blocked.clear();
        eprintln!("proxy: all links restored");
    }

    /// Connections refused or dropped so far because their link was blocked.
    pub fn dropped_connections(&self) -> u64 {
        self.shared.lock().dropped
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, nominal_src: NodeId, dst: NodeId) {
    loop {
        let Ok((inbound, peer)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(forward(inbound, peer, shared.clone(), nominal_src, dst));
    }
}

/// Proxies one connection to `dst` until either side closes it or its link is blocked.
async fn forward(mut inbound: TcpStream, peer: SocketAddr, shared: Arc<Shared>, nominal_src: NodeId, dst: NodeId) {
    let Ok(local) = inbound.local_addr() else {
        return;
    };
    let pids = shared.lock().pids.clone();
    let src = tokio::task::spawn_blocking(move || identify_sender(peer, local, &pids))
        .await
        .ok()
        .flatten()
        .unwrap_or(nominal_src);
    let Some(&target) = shared.targets.get(&dst) else {
        return;
    };
    if shared.lock().blocked.contains(&(src, dst)) {
        shared.lock().dropped += 1;
        return;
    }
    // A refused connection to a dead node is passed on as a closed connection.
    let Ok(mut outbound) = TcpStream::connect(target).await else {
        return;
    };
    let _ = inbound.set_nodelay(true);
    let _ = outbound.set_nodelay(true);
    let cancel = Arc::new(Notify::new());
    let id = {
        // Checked again under the same lock that registers the connection, so a `block` that
        // ran while we were connecting cannot miss it.
        let mut state = shared.lock();
        if state.blocked.contains(&(src, dst)) {
            state.dropped += 1;
            return;
        }
        let id = state.next_connection_id;
        state.next_connection_id += 1;
        state.connections.insert(id, Connection { src, dst, cancel: cancel.clone() });
        id
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
        _ = cancel.notified() => {}
    }
    shared.lock().connections.remove(&id);
}

/// Which registered node process owns the client end of a connection whose client address is
/// `peer` and server address is `local`.
fn identify_sender(peer: SocketAddr, local: SocketAddr, pids: &HashMap<u32, NodeId>) -> Option<NodeId> {
    let (SocketAddr::V4(peer), SocketAddr::V4(local)) = (peer, local) else {
        return None;
    };
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let inode = socket_inode(&table, peer, local)?;
    let wanted = format!("socket:[{inode}]");
    pids.iter().find_map(|(pid, node)| {
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
        let owns = fds.flatten().any(|fd| std::fs::read_link(fd.path()).is_ok_and(|link| link.as_os_str() == &*wanted));
        owns.then_some(*node)
    })
}

/// The inode of the socket in a `/proc/net/tcp` table whose local address is `local_addr` and
/// remote address is `remote_addr`.
fn socket_inode(table: &str, local_addr: SocketAddrV4, remote_addr: SocketAddrV4) -> Option<u64> {
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let local = parse_proc_addr(fields.get(1)?)?;
        let remote = parse_proc_addr(fields.get(2)?)?;
        if local == local_addr && remote == remote_addr {
            fields.get(9)?.parse().ok()
        } else {
            None
        }
    })
}

/// `0100007F:1F90` → 127.0.0.1:8080. The address is the in-memory (network order) `u32` printed
/// as a native integer, hence `to_ne_bytes`.
fn parse_proc_addr(text: &str) -> Option<SocketAddrV4> {
    let (ip, port) = text.split_once(':')?;
    let ip = u32::from_str_radix(ip, 16).ok()?;
    let port = u16::from_str_radix(port, 16).ok()?;
    Some(SocketAddrV4::new(Ipv4Addr::from(ip.to_ne_bytes()), port))
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;

    #[test]
    fn proc_addresses_parse() {
        let addr = parse_proc_addr("0100007F:1F90").unwrap();
        assert_eq!(addr, SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080));
    }

    #[test]
    fn the_sender_of_a_loopback_connection_is_this_process() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, peer) = listener.accept().unwrap();
        let pids = HashMap::from([(std::process::id(), 7)]);
        assert_eq!(identify_sender(peer, server.local_addr().unwrap(), &pids), Some(7));
        drop(client);
    }

    /// Goal: a blocked link drops live connections and refuses new ones; unblocking restores it.
    /// Method: proxy a link to an echo server, send through it, block, observe the connection
    /// closed and a new one closed at once, unblock, and echo again.
    #[test]
    fn blocking_a_link_drops_and_refuses_its_connections() {
        let echo = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let echo_port = echo.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in echo.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut stream = stream;
                    let mut buf = [0u8; 64];
                    while let Ok(n) = stream.read(&mut buf) {
                        if n == 0 || stream.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        let proxy = FaultProxy::start(&[(1, 1), (2, echo_port)]).unwrap();
        let addr = format!("127.0.0.1:{}", proxy.port(1, 2));
        // This test process is the sender; register it as node 1.
        proxy.set_pid(1, std::process::id());
        let echo_once = |stream: &mut std::net::TcpStream| -> io::Result<usize> {
            stream.write_all(b"ping")?;
            let mut buf = [0u8; 4];
            stream.read(&mut buf)
        };
        let mut live = std::net::TcpStream::connect(&addr).unwrap();
        live.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        assert_eq!(echo_once(&mut live).unwrap(), 4);

        proxy.block(1, 2);
        let mut buf = [0u8; 4];
        assert_eq!(live.read(&mut buf).unwrap_or(0), 0, "the live connection is closed");
        let mut fresh = std::net::TcpStream::connect(&addr).unwrap();
        fresh.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        assert_eq!(echo_once(&mut fresh).unwrap_or(0), 0, "a new connection is closed at once");
        assert!(proxy.dropped_connections() >= 2);

        proxy.unblock(1, 2);
        let mut again = std::net::TcpStream::connect(&addr).unwrap();
        again.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        assert_eq!(echo_once(&mut again).unwrap(), 4);
    }
}
