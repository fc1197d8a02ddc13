//! [`RedisServer`]: a real, throwaway `redis-server` to compare Redraft against.

use std::path::PathBuf;
use std::time::Duration;

use resp::Frame;
use tempfile::TempDir;

use crate::client::RespClient;
use crate::process::{free_port, tail, ChildProcess};
use crate::wait::eventually;

/// Environment variable overriding the `redis-server` binary.
pub const REDIS_SERVER_BIN_ENV: &str = "REDIS_SERVER_BIN";
/// Where Debian's `redis-server` package installs it.
const REDIS_SERVER_DEFAULT: &str = "/usr/bin/redis-server";
/// Attempts at starting on a fresh port: another process may take the probed port first.
const START_ATTEMPTS: usize = 3;

/// A `redis-server` on a free loopback port with its own temp dir and no persistence. Dropping
/// it kills the server and removes the dir.
pub struct RedisServer {
    process: ChildProcess,
    port: u16,
    log: PathBuf,
    _dir: TempDir,
}

impl RedisServer {
    /// Starts `redis-server` (`$REDIS_SERVER_BIN` or `/usr/bin/redis-server`) with
    /// `--save "" --appendonly no` and waits until it answers PING.
    ///
    /// # Panics
    /// When the binary is missing or the server does not answer within 20 s.
    pub fn start() -> RedisServer {
        let bin = std::env::var_os(REDIS_SERVER_BIN_ENV).map(PathBuf::from).unwrap_or(REDIS_SERVER_DEFAULT.into());
        assert!(bin.is_file(), "redis-server is missing at {}: apt-get install -y redis-server", bin.display());
        let mut last_log = String::new();
        for _ in 0..START_ATTEMPTS {
            let dir = tempfile::Builder::new().prefix("redis-server-").tempdir().expect("a temp dir for redis-server");
            let port = free_port();
            let log = dir.path().join("redis.log");
            let args: Vec<String> = [
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                &dir.path().to_string_lossy(),
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            let process = ChildProcess::spawn(&bin, &args, &[], &log).expect("spawning redis-server");
            let mut server = RedisServer { process, port, log, _dir: dir };
            if server.wait_ready() {
                return server;
            }
            last_log = tail(&server.log, 50);
        }
        panic!("redis-server did not start after {START_ATTEMPTS} attempts; last log:\n{last_log}");
    }

    /// Whether the server answers PING within 20 s (false when it exited, e.g. port taken).
    fn wait_ready(&mut self) -> bool {
        let addr = self.addr();
        let process = &mut self.process;
        eventually(Duration::from_secs(20), "redis-server answers PING", || {
            if !process.is_running() {
                return Some(false);
            }
            let pong = RespClient::connect(&addr).and_then(|mut c| c.cmd(&["PING"])).ok()?;
            (pong == Frame::simple("PONG")).then_some(true)
        })
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// A new connection to the server.
    ///
    /// # Panics
    /// When connecting fails.
    pub fn client(&self) -> RespClient {
        RespClient::must_connect(&self.addr())
    }

    /// The last `lines` lines of the server's log.
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log, lines)
    }
}
