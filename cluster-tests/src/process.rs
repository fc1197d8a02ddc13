//! Child processes: spawning with logs to a file, signals, free ports, and the lock that runs
//! one cluster at a time in a test binary.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Condvar, Mutex};

/// Environment variable naming the `redraft` binary to test.
pub const REDRAFT_BIN_ENV: &str = "REDRAFT_BIN";

/// The `redraft` binary: `$REDRAFT_BIN`, else `redraft` in the directory above the test
/// executable (`target/release/deps/<test>` → `target/release/redraft`).
///
/// # Panics
/// When the binary does not exist: cargo does not build other packages' binaries for tests.
pub fn redraft_bin() -> PathBuf {
    let path = match std::env::var_os(REDRAFT_BIN_ENV) {
        Some(path) => PathBuf::from(path),
        None => {
            let exe = std::env::current_exe().expect("the test executable's path");
            let deps = exe.parent().expect("the test executable's directory");
            let profile_dir = if deps.ends_with("deps") { deps.parent().unwrap_or(deps) } else { deps };
            profile_dir.join("redraft")
        }
    };
    assert!(
        path.is_file(),
        "the redraft binary is missing at {}: run `cargo build --release -p redraft` first (or set {REDRAFT_BIN_ENV})",
        path.display()
    );
    path
}

/// A running child process whose stdout and stderr go to a log file. Dropping it kills it.
pub struct ChildProcess {
    child: Child,
    /// Whether SIGSTOP was sent without a SIGCONT since.
    paused: bool,
}

impl ChildProcess {
    /// Starts `program args...` with stdin closed and stdout/stderr appended to `log` (appended,
    /// so a restarted node's log continues the old one).
    ///
    /// The child gets `PR_SET_PDEATHSIG = SIGKILL`, so it dies if the test thread that spawned
    /// it dies without running destructors (e.g. the test binary is killed): no orphaned nodes
    /// holding ports. Hence spawn only from the thread that owns the process.
    ///
    /// # Errors
    /// When the log cannot be opened or the program cannot be started.
    pub fn spawn(program: &Path, args: &[String], envs: &[(String, String)], log: &Path) -> io::Result<ChildProcess> {
        let out = OpenOptions::new().create(true).append(true).open(log)?;
        let err = out.try_clone()?;
        let mut command = Command::new(program);
        command.args(args).stdin(Stdio::null()).stdout(out).stderr(err);
        for (key, value) in envs {
            command.env(key, value);
        }
        die_with_parent(&mut command);
        let child = command.spawn()?;
        Ok(ChildProcess { child, paused: false })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process has not exited (a paused process is running).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The exit status text, if the process has exited.
    pub fn exit_status(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            _ => None,
        }
    }

    /// Whether SIGSTOP was sent and no SIGCONT since.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// SIGKILL, then reaps the process so its ports and files are released.
    pub fn kill(&mut self) {
        self.signal(libc::SIGKILL);
        let _ = self.child.wait();
        self.paused = false;
    }

    /// SIGSTOP: the process keeps its sockets but runs no code, like a long GC pause or a VM
    /// that was suspended.
    pub fn pause(&mut self) {
        self.signal(libc::SIGSTOP);
        self.paused = true;
    }

    /// SIGCONT after [`ChildProcess::pause`].
    pub fn resume(&mut self) {
        self.signal(libc::SIGCONT);
        self.paused = false;
    }

    fn signal(&mut self, signal: libc::c_int) {
        if !self.is_running() {
            return;
        }
        let pid = libc::pid_t::try_from(self.child.id()).expect("pid fits pid_t");
        // SAFETY: kill(2) has no memory effects; the pid is our own unreaped child, so it cannot
        // have been recycled for another process.
        unsafe {
            libc::kill(pid, signal);
        }
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Makes the process `command` starts receive SIGKILL when the thread that spawned it dies
/// (`PR_SET_PDEATHSIG`), so a test or driver killed without running destructors leaves no
/// orphaned nodes behind.
pub fn die_with_parent(command: &mut Command) {
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// The last `lines` lines of the file at `path` (reads at most the last 256 KiB).
pub fn tail(path: &Path, lines: usize) -> String {
    const TAIL_BYTES_MAX: u64 = 256 * 1024;
    let Ok(mut file) = File::open(path) else {
        return format!("(no log at {})", path.display());
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(TAIL_BYTES_MAX)));
    let mut bytes = Vec::new();
    let _ = file.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Ports handed out by [`free_port`] in this process, never handed out twice: a node that was
/// killed frees its port, and another test must not pick it while the node may be restarted.
static PORTS_TAKEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// A loopback TCP port that is free now: the kernel picks it (bind to port 0), then the probe
/// socket is closed. Never a fixed port.
///
/// # Panics
/// When no port can be bound.
pub fn free_port() -> u16 {
    let mut taken = PORTS_TAKEN.lock().unwrap_or_else(|e| e.into_inner());
    let taken = taken.get_or_insert_with(HashSet::new);
    loop {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding a probe socket on 127.0.0.1:0");
        let port = listener.local_addr().expect("the probe socket's address").port();
        if taken.insert(port) {
            return port;
        }
    }
}

/// Lets one cluster (or other heavyweight fixture) run at a time within a test binary. libtest
/// runs tests on parallel threads, and several 3-node clusters on a 2-core machine would starve
/// each other into election timeouts.
static SERIAL: (Mutex<bool>, Condvar) = (Mutex::new(false), Condvar::new());

/// Held while a fixture runs; see [`serial`].
#[must_use]
pub struct SerialGuard(());

/// Blocks until no other [`SerialGuard`] exists in this process, then returns one.
pub fn serial() -> SerialGuard {
    let (lock, freed) = &SERIAL;
    let mut busy = lock.lock().unwrap_or_else(|e| e.into_inner());
    while *busy {
        busy = freed.wait(busy).unwrap_or_else(|e| e.into_inner());
    }
    *busy = true;
    SerialGuard(())
}

impl Drop for SerialGuard {
    fn drop(&mut self) {
        let (lock, freed) = &SERIAL;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) = false;
        freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_never_repeated() {
        let a = free_port();
        let b = free_port();
        assert_ne!(a, b);
    }

    #[test]
    fn tail_returns_the_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, "1\n2\n3\n").unwrap();
        assert_eq!(tail(&path, 2), "2\n3");
        assert_eq!(tail(&path, 10), "1\n2\n3");
    }

    #[test]
    fn children_can_be_paused_resumed_and_killed() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("sleep.log");
        let mut child = ChildProcess::spawn(Path::new("/bin/sleep"), &["30".into()], &[], &log).unwrap();
        assert!(child.is_running());
        child.pause();
        assert!(child.is_paused());
        child.resume();
        child.kill();
        assert!(!child.is_running());
        assert!(child.exit_status().is_some());
    }
}
