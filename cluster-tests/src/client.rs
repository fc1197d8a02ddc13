//! [`RespClient`]: a blocking RESP client over `std::net::TcpStream` that keeps the exact bytes of
//! every reply, for tests that compare bytes, send malformed input or use a connection from a
//! plain thread.
//!
//! Replies are framed with `resp::parse_frame`, which reads RESP2 and RESP3 alike, so the client
//! does not need to know which protocol the connection speaks.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use resp::{Frame, Limits, RespVersion};

/// How long connecting may take. Loopback answers at once unless the listener's backlog is full,
/// so this only bounds a pathological case.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default deadline for one read or write; long enough for a write that waits on a Raft commit
/// on a loaded two-core machine, short enough that a hung node fails a test in reasonable time.
pub const IO_TIMEOUT: Duration = Duration::from_secs(15);
/// Bytes asked for in one `read`.
const READ_CHUNK_BYTES: usize = 64 * 1024;

/// A connection to one RESP server.
pub struct RespClient {
    stream: TcpStream,
    addr: String,
    /// Bytes read but not yet returned as a reply.
    buf: Vec<u8>,
}

impl RespClient {
    /// Connects to `addr` (`host:port`) with [`IO_TIMEOUT`] for reads and writes.
    ///
    /// # Errors
    /// When the address does not resolve or the connection is refused or times out.
    pub fn connect(addr: &str) -> io::Result<RespClient> {
        let sockaddr: SocketAddr = addr
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("{addr} resolves to nothing")))?;
        let stream = TcpStream::connect_timeout(&sockaddr, CONNECT_TIMEOUT)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        Ok(RespClient { stream, addr: addr.to_string(), buf: Vec::new() })
    }

    /// Connects to `addr`, panicking with the address on failure.
    ///
    /// # Panics
    /// When [`RespClient::connect`] fails.
    #[track_caller]
    pub fn must_connect(addr: &str) -> RespClient {
        RespClient::connect(addr).unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"))
    }

    /// The address this client connected to.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Sets the deadline of each later read and write.
    ///
    /// # Errors
    /// When the socket refuses the option (a zero duration is refused).
    pub fn set_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        self.stream.set_read_timeout(Some(timeout))?;
        self.stream.set_write_timeout(Some(timeout))
    }

    /// Writes `bytes` as they are: malformed input, inline commands, partial requests.
    ///
    /// # Errors
    /// Socket errors.
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }

    /// Writes one command as a multibulk request.
    ///
    /// # Errors
    /// Socket errors.
    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<()> {
        let mut dst = BytesMut::new();
        encode_command(&mut dst, args);
        self.send_raw(&dst)
    }

    /// Reads the next reply and returns its exact bytes.
    ///
    /// # Errors
    /// Socket errors and timeouts; `UnexpectedEof` when the server closed the connection before
    /// a whole reply arrived; `InvalidData` when the bytes are not RESP.
    pub fn read_raw(&mut self) -> io::Result<Vec<u8>> {
        let (_, len) = self.next_frame()?;
        Ok(self.buf.drain(..len).collect())
    }

    /// Reads the next reply.
    ///
    /// # Errors
    /// As [`RespClient::read_raw`].
    pub fn read_frame(&mut self) -> io::Result<Frame> {
        let (frame, len) = self.next_frame()?;
        self.buf.drain(..len);
        Ok(frame)
    }

    /// Sends one command and reads its reply.
    ///
    /// # Errors
    /// As [`RespClient::send`] and [`RespClient::read_frame`].
    pub fn cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<Frame> {
        self.send(args)?;
        self.read_frame()
    }

    /// Sends one command and returns the reply's exact bytes.
    ///
    /// # Errors
    /// As [`RespClient::send`] and [`RespClient::read_raw`].
    pub fn cmd_raw<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<Vec<u8>> {
        self.send(args)?;
        self.read_raw()
    }

    /// Sends one command and reads its reply, panicking on an I/O error.
    ///
    /// # Panics
    /// On any error from [`RespClient::cmd`]; error replies are returned, not panicked on.
    #[track_caller]
    pub fn must_cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Frame {
        match self.cmd(args) {
            Ok(frame) => frame,
            Err(e) => panic!("{} on {}: {e}", describe_command(args), self.addr),
        }
    }

    /// Writes `bytes` as they are, panicking with the address on a socket error.
    ///
    /// # Panics
    /// On any error from [`RespClient::send_raw`].
    #[track_caller]
    pub fn must_send_raw(&mut self, bytes: &[u8]) {
        if let Err(e) = self.send_raw(bytes) {
            panic!("writing {} to {}: {e}", escape(bytes), self.addr);
        }
    }

    /// Sends one command and returns the reply's exact bytes, panicking on an I/O error.
    ///
    /// # Panics
    /// On any error from [`RespClient::cmd_raw`].
    #[track_caller]
    pub fn must_cmd_raw<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Vec<u8> {
        match self.cmd_raw(args) {
            Ok(bytes) => bytes,
            Err(e) => panic!("{} on {}: {e}", describe_command(args), self.addr),
        }
    }

    /// Sends all `commands` in one write, then reads one reply per command.
    ///
    /// # Errors
    /// As [`RespClient::cmd`].
    pub fn pipeline<A: AsRef<[u8]>>(&mut self, commands: &[Vec<A>]) -> io::Result<Vec<Frame>> {
        let mut dst = BytesMut::new();
        for command in commands {
            encode_command(&mut dst, command);
        }
        self.send_raw(&dst)?;
        commands.iter().map(|_| self.read_frame()).collect()
    }

    /// Reads until the server closes the connection and returns everything read (including
    /// bytes already buffered).
    ///
    /// # Errors
    /// Socket errors, including a timeout when the server keeps the connection open.
    pub fn read_until_closed(&mut self) -> io::Result<Vec<u8>> {
        let mut all = std::mem::take(&mut self.buf);
        match self.stream.read_to_end(&mut all) {
            Ok(_) => Ok(all),
            // A reset after the server's last reply still means "closed"; what it sent is in `all`.
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => Ok(all),
            Err(e) => Err(e),
        }
    }

    /// Parses the front of the buffer, reading more until one whole frame is there.
    fn next_frame(&mut self) -> io::Result<(Frame, usize)> {
        loop {
            match resp::parse_frame(&self.buf, &Limits::default()) {
                Ok(Some(parsed)) => return Ok(parsed),
                Ok(None) => {}
                Err(e) => {
                    let msg = format!("unparseable reply from {}: {e}: {}", self.addr, escape(&self.buf));
                    return Err(io::Error::new(io::ErrorKind::InvalidData, msg));
                }
            }
            let start = self.buf.len();
            self.buf.resize(start + READ_CHUNK_BYTES, 0);
            let read = self.stream.read(&mut self.buf[start..]);
            let n = match read {
                Ok(n) => n,
                Err(e) => {
                    self.buf.truncate(start);
                    return Err(e);
                }
            };
            self.buf.truncate(start + n);
            if n == 0 {
                let msg = format!("{} closed the connection; unparsed: {}", self.addr, escape(&self.buf));
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, msg));
            }
        }
    }
}

/// Appends `args` as a RESP multibulk request (`*N` of bulk strings), the form every client
/// library sends.
pub fn encode_command<A: AsRef<[u8]>>(dst: &mut BytesMut, args: &[A]) {
    let frame = Frame::Array(args.iter().map(|a| Frame::Bulk(Bytes::copy_from_slice(a.as_ref()))).collect());
    frame.encode(dst, RespVersion::Resp2);
}

/// A reply sorted by what a test should do about it.
#[derive(Debug)]
pub enum Reply {
    /// Any reply that is not an error.
    Value(Frame),
    /// `-MOVED <slot> <host:port>`: the command did not run; the leader is at the address.
    Moved(String),
    /// `-CLUSTERDOWN` or `-TRYAGAIN`: the command did not run; try again later.
    Retry(String),
    /// `-UNCERTAIN`: a write that may or may not have happened.
    Uncertain(String),
    /// Any other error reply, with its full text.
    Error(String),
    /// No reply before the deadline: for a write, an unknown outcome.
    Timeout,
    /// The connection failed, was refused or closed.
    Io(io::Error),
}

impl Reply {
    /// Sorts the result of a command.
    pub fn classify(result: io::Result<Frame>) -> Reply {
        match result {
            Ok(Frame::Error(e)) => {
                let text = String::from_utf8_lossy(&e).into_owned();
                match text.split(' ').next().unwrap_or_default() {
                    "MOVED" => Reply::Moved(text.split(' ').nth(2).unwrap_or_default().to_string()),
                    "CLUSTERDOWN" | "TRYAGAIN" => Reply::Retry(text),
                    "UNCERTAIN" => Reply::Uncertain(text),
                    _ => Reply::Error(text),
                }
            }
            Ok(frame) => Reply::Value(frame),
            Err(e) if is_timeout(&e) => Reply::Timeout,
            Err(e) => Reply::Io(e),
        }
    }
}

/// Whether an I/O error is a read or write deadline passing (Linux reports `WouldBlock`).
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}

/// The error text of an error reply (`MOVED 12 127.0.0.1:7000`), or `None` for other replies.
pub fn error_text(frame: &Frame) -> Option<String> {
    match frame {
        Frame::Error(e) => Some(String::from_utf8_lossy(e).into_owned()),
        _ => None,
    }
}

/// `bytes` as printable ASCII: `\r`, `\n`, `\t`, `\\`, `"` and `\xHH` escapes.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

/// A command for messages: its arguments, escaped and separated by spaces.
pub fn describe_command<A: AsRef<[u8]>>(args: &[A]) -> String {
    args.iter().map(|a| escape(a.as_ref())).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_encoded_as_multibulk() {
        let mut dst = BytesMut::new();
        encode_command(&mut dst, &["SET", "k", ""]);
        assert_eq!(&dst[..], b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
    }

    #[test]
    fn replies_are_classified_by_error_code() {
        let moved = Reply::classify(Ok(Frame::error("MOVED 866 127.0.0.1:7001")));
        assert!(matches!(moved, Reply::Moved(addr) if addr == "127.0.0.1:7001"));
        assert!(matches!(Reply::classify(Ok(Frame::error("TRYAGAIN leader changing"))), Reply::Retry(_)));
        assert!(matches!(Reply::classify(Ok(Frame::error("CLUSTERDOWN no leader"))), Reply::Retry(_)));
        assert!(matches!(Reply::classify(Ok(Frame::error("UNCERTAIN lost"))), Reply::Uncertain(_)));
        assert!(matches!(Reply::classify(Ok(Frame::error("ERR x"))), Reply::Error(_)));
        assert!(matches!(Reply::classify(Ok(Frame::ok())), Reply::Value(_)));
        let timeout = io::Error::from(io::ErrorKind::WouldBlock);
        assert!(matches!(Reply::classify(Err(timeout)), Reply::Timeout));
    }

    #[test]
    fn escape_makes_control_bytes_visible() {
        assert_eq!(escape(b"+OK\r\n"), "+OK\\r\\n");
        assert_eq!(escape(&[0, 0xff, b'"']), "\\x00\\xff\\\"");
    }
}
