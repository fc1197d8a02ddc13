//! `redraft dev`: a local cluster of N `redraft server` child processes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::config::DevArgs;

/// How long the cluster may take to elect its first leader.
const LEADER_DEADLINE: Duration = Duration::from_secs(60);
const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// Sends `INFO raft` over a plain socket and returns the `field:value` lines.
fn info_raft(addr: &str) -> Option<Vec<(String, String)>> {
    let mut stream = TcpStream::connect_timeout(&addr.parse().ok()?, Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream.write_all(b"*2\r\n$4\r\nINFO\r\n$4\r\nraft\r\n").ok()?;
    let mut reader = BufReader::new(stream);
    let mut header = String::new();
    reader.read_line(&mut header).ok()?;
    let len: usize = header.trim_end().strip_prefix('$')?.parse().ok()?;
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).ok()?;
    let text = String::from_utf8(body).ok()?;
    Some(text.lines().filter_map(|l| l.split_once(':')).map(|(k, v)| (k.to_string(), v.trim().to_string())).collect())
}

fn field<'a>(info: &'a [(String, String)], name: &str) -> Option<&'a str> {
    info.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

struct Cluster {
    children: Vec<Child>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in &mut self.children {
            // SAFETY: sending a signal to our own child process.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        }
        for child in &mut self.children {
            let _ = child.wait();
        }
    }
}

/// Starts the nodes, waits for a leader, prints the table, and waits for
/// SIGINT/SIGTERM to stop them all.
pub fn run(args: DevArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.nodes >= 1, "--nodes must be at least 1");
    let exe = std::env::current_exe().context("locating the redraft binary")?;
    std::fs::create_dir_all(&args.dir)?;
    let raft_base = args.port.checked_add(10_000).context("--port too large for raft ports (port+10000)")?;
    let peers: Vec<String> = (0..args.nodes).map(|i| format!("{}={}:{}", i + 1, args.bind, raft_base + i)).collect();
    let peers = peers.join(",");
    let mut cluster = Cluster { children: Vec::new() };
    for i in 0..args.nodes {
        let node_dir = args.dir.join(format!("n{}", i + 1));
        std::fs::create_dir_all(&node_dir)?;
        let log = std::fs::File::create(node_dir.join("redraft.log"))?;
        let child = Command::new(&exe)
            .arg("server")
            .args(["--node-id", &(i + 1).to_string()])
            .args(["--bind", &args.bind])
            .args(["--port", &(args.port + i).to_string()])
            .args(["--raft-port", &(raft_base + i).to_string()])
            .arg("--dir")
            .arg(&node_dir)
            .args(["--peers", &peers])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting node {}", i + 1))?;
        cluster.children.push(child);
    }
    let stop = signal_flag()?;
    let started = Instant::now();
    let leader = loop {
        if stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        for (i, child) in cluster.children.iter_mut().enumerate() {
            if let Some(status) = child.try_wait()? {
                anyhow::bail!("node {} exited with {status}; see {}", i + 1, log_path(&args.dir, i).display());
            }
        }
        let found = (0..args.nodes).find_map(|i| {
            let info = info_raft(&format!("{}:{}", args.bind, args.port + i))?;
            field(&info, "raft_leader_id").and_then(|v| v.parse::<u64>().ok())
        });
        if let Some(leader) = found {
            break leader;
        }
        anyhow::ensure!(started.elapsed() < LEADER_DEADLINE, "no leader was elected within {LEADER_DEADLINE:?}");
        std::thread::sleep(POLL_INTERVAL);
    };
    println!("Redraft dev cluster: {} nodes, leader is node {leader}", args.nodes);
    println!("{:<6} {:<22} {:<22} {:<9} data", "node", "client", "raft", "role");
    for i in 0..args.nodes {
        let role = if (i + 1) as u64 == leader { "leader" } else { "follower" };
        println!(
            "{:<6} {:<22} {:<22} {:<9} {}",
            i + 1,
            format!("{}:{}", args.bind, args.port + i),
            format!("{}:{}", args.bind, raft_base + i),
            role,
            args.dir.join(format!("n{}", i + 1)).display()
        );
    }
    println!("Connect with: redis-cli -c -p {}   (Ctrl-C stops the cluster)", args.port);
    while !stop.load(Ordering::SeqCst) {
        for (i, child) in cluster.children.iter_mut().enumerate() {
            if let Some(status) = child.try_wait()? {
                eprintln!("node {} exited with {status}; see {}", i + 1, log_path(&args.dir, i).display());
            }
        }
        std::thread::sleep(POLL_INTERVAL);
    }
    println!("stopping {} nodes", args.nodes);
    drop(cluster);
    Ok(())
}

fn log_path(dir: &Path, i: usize) -> std::path::PathBuf {
    dir.join(format!("n{}", i + 1)).join("redraft.log")
}

/// A flag set by SIGINT or SIGTERM.
fn signal_flag() -> anyhow::Result<&'static AtomicBool> {
    static STOP: AtomicBool = AtomicBool::new(false);
    extern "C" fn on_signal(_: libc::c_int) {
        STOP.store(true, Ordering::SeqCst);
    }
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, on_signal as *const () as usize);
        libc::signal(libc::SIGTERM, on_signal as *const () as usize);
    }
    Ok(&STOP)
}
