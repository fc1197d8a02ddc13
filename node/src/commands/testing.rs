//! Test harness for command handlers: a [`TestKeyspace`] runs commands the
//! way the server will, without a network or Raft.
//!
//! Writes run like the state machine applies a log entry: each command is
//! one entry with the next index, the harness clock as the leader's time and
//! an RNG seeded from the index, inside an [`ApplyTxn`] whose batch is then
//! written. Reads run on a [`ReadView`] snapshot with the same clock. Lookup
//! and arity checks are the dispatcher's, so error replies match too.
//!
//! The clock is settable, which is how expiry is tested without sleeping.
//!
//! The module also holds the differential check of the case files in
//! `cluster-tests/cases` against a real Redis (an ignored test: see
//! [`case_files_match_a_real_redis_server`]).
#![cfg(test)]

use bytes::{Bytes, BytesMut};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use resp::{Frame, RespVersion};
use storage::{ApplyTxn, DbIndex, ReadView, RocksDb};

use super::{lookup, Ctx, Handler};
use crate::error::{unknown_command, CommandError};

/// A fresh keyspace in a temporary RocksDB.
pub struct TestKeyspace {
    db: RocksDb,
    _dir: tempfile::TempDir,
    /// The clock (Unix ms) writes are stamped with and reads judge expiry by.
    pub now_ms: u64,
    next_index: u64,
    /// The selected database.
    pub selected: DbIndex,
    pub db_count: u16,
    /// Whether the "client" speaks RESP3.
    pub resp3: bool,
    read_rng: ChaCha8Rng,
    /// The serialized `WriteBatch` of the last write command.
    pub last_batch: Vec<u8>,
}

/// 2023-11-14T22:13:20Z: a fixed, realistic starting time.
pub const START_MS: u64 = 1_700_000_000_000;

impl TestKeyspace {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = storage::open_db(dir.path()).expect("open RocksDB");
        TestKeyspace {
            db,
            _dir: dir,
            now_ms: START_MS,
            next_index: 1,
            selected: 0,
            db_count: storage::DATABASES_DEFAULT,
            resp3: false,
            read_rng: ChaCha8Rng::seed_from_u64(7),
            last_batch: Vec::new(),
        }
    }

    /// Moves the clock forward.
    pub fn advance_ms(&mut self, ms: u64) {
        self.now_ms += ms;
    }

    /// Runs one command given as text arguments.
    pub fn exec(&mut self, args: &[&str]) -> Frame {
        let args: Vec<Bytes> = args.iter().map(|a| Bytes::copy_from_slice(a.as_bytes())).collect();
        self.exec_bytes(&args)
    }

    /// Runs one command: lookup, arity, then the handler on an apply
    /// transaction (writes) or a snapshot (reads).
    pub fn exec_bytes(&mut self, args: &[Bytes]) -> Frame {
        match self.run(args) {
            Ok(frame) => frame,
            Err(e) => e.to_frame(),
        }
    }

    fn run(&mut self, args: &[Bytes]) -> Result<Frame, CommandError> {
        let name = args.first().ok_or_else(|| unknown_command(args))?;
        if name.eq_ignore_ascii_case(b"select") && args.len() == 2 {
            // SELECT belongs to the connection layer; the harness needs it
            // for MOVE and COPY ... DB.
            let db = super::args::parse_i64(&args[1]).ok_or(CommandError::NotInteger)?;
            self.selected =
                DbIndex::try_from(db).ok().filter(|db| *db < self.db_count).ok_or(CommandError::DbIndexOutOfRange)?;
            return Ok(Frame::ok());
        }
        let spec = lookup(name).ok_or_else(|| unknown_command(args))?;
        if !spec.arity_ok(args.len()) {
            return Err(CommandError::WrongArity(spec.name.to_string()));
        }
        let Handler::Data(handler) = spec.handler else {
            return Err(CommandError::err(format!("'{}' is a session command", spec.name)));
        };
        if spec.is_write() {
            let index = self.next_index;
            self.next_index += 1;
            let mut rng = ChaCha8Rng::seed_from_u64(index);
            let mut txn = ApplyTxn::new(&self.db);
            txn.begin_entry(index, self.now_ms);
            let reply = handler(
                &mut Ctx { ks: &mut txn, db: self.selected, db_count: self.db_count, resp3: self.resp3, rng: &mut rng },
                args,
            );
            let batch = txn.into_batch();
            self.last_batch = batch.data().to_vec();
            self.db.write(batch).expect("write batch");
            reply
        } else {
            let mut view = ReadView::new(&self.db, self.now_ms)?;
            handler(
                &mut Ctx {
                    ks: &mut view,
                    db: self.selected,
                    db_count: self.db_count,
                    resp3: self.resp3,
                    rng: &mut self.read_rng,
                },
                args,
            )
        }
    }

    /// Stores `value` under `key` in the selected database as one applied
    /// entry: how tests create values of types no command makes yet.
    pub fn put_raw(&mut self, key: &str, value: storage::StoredValue) {
        use storage::Keyspace;
        let index = self.next_index;
        self.next_index += 1;
        let mut txn = ApplyTxn::new(&self.db);
        txn.begin_entry(index, self.now_ms);
        txn.put(self.selected, key.as_bytes(), value).expect("put");
        self.db.write(txn.into_batch()).expect("write batch");
    }

    /// Runs `apply` on an apply transaction as one entry at the harness
    /// clock, like the state machine applies a background request.
    pub fn apply_entry<T>(&mut self, apply: impl FnOnce(&mut ApplyTxn<'_>) -> T) -> T {
        let index = self.next_index;
        self.next_index += 1;
        let mut txn = ApplyTxn::new(&self.db);
        txn.begin_entry(index, self.now_ms);
        let out = apply(&mut txn);
        self.db.write(txn.into_batch()).expect("write batch");
        out
    }

    /// The harness's RocksDB, to inspect what is physically stored.
    pub fn rocks(&self) -> &RocksDb {
        &self.db
    }

    /// The reply's wire bytes in the harness's protocol version.
    pub fn encode(&self, frame: &Frame) -> Vec<u8> {
        let mut out = BytesMut::new();
        frame.encode(&mut out, if self.resp3 { RespVersion::Resp3 } else { RespVersion::Resp2 });
        out.to_vec()
    }
}

impl Default for TestKeyspace {
    fn default() -> Self {
        Self::new()
    }
}

/// Reply shorthands for assertions.
pub fn bulk(text: &str) -> Frame {
    Frame::Bulk(Bytes::copy_from_slice(text.as_bytes()))
}

pub fn int(n: i64) -> Frame {
    Frame::Integer(n)
}

pub fn err(text: &str) -> Frame {
    Frame::Error(Bytes::copy_from_slice(text.as_bytes()))
}

pub fn ok() -> Frame {
    Frame::ok()
}

pub fn array(items: Vec<Frame>) -> Frame {
    Frame::Array(items)
}

/// Splits a case-file line like redis-cli (`sdssplitargs`): blanks separate
/// arguments; "double quotes" allow `\n \r \t \b \a \\ \" \xHH` escapes and
/// 'single quotes' allow `\'`. `None` for unbalanced quotes.
pub fn split_args(line: &str) -> Option<Vec<Bytes>> {
    let bytes = line.as_bytes();
    let mut args = Vec::new();
    let mut at = 0;
    loop {
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        if at >= bytes.len() {
            return Some(args);
        }
        let mut current = Vec::new();
        let (mut in_double, mut in_single) = (false, false);
        loop {
            let c = bytes.get(at).copied();
            if in_double {
                match c? {
                    b'\\'
                        if bytes.get(at + 1) == Some(&b'x')
                            && bytes.get(at + 2).is_some_and(u8::is_ascii_hexdigit)
                            && bytes.get(at + 3).is_some_and(u8::is_ascii_hexdigit) =>
                    {
                        let hex = std::str::from_utf8(&bytes[at + 2..at + 4]).ok()?;
                        current.push(u8::from_str_radix(hex, 16).ok()?);
                        at += 3;
                    }
                    b'\\' if at + 1 < bytes.len() => {
                        at += 1;
                        current.push(match bytes[at] {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 8,
                            b'a' => 7,
                            other => other,
                        });
                    }
                    b'"' => {
                        if bytes.get(at + 1).is_some_and(|b| !b.is_ascii_whitespace()) {
                            return None;
                        }
                        at += 1;
                        break;
                    }
                    other => current.push(other),
                }
            } else if in_single {
                match c? {
                    b'\\' if bytes.get(at + 1) == Some(&b'\'') => {
                        at += 1;
                        current.push(b'\'');
                    }
                    b'\'' => {
                        if bytes.get(at + 1).is_some_and(|b| !b.is_ascii_whitespace()) {
                            return None;
                        }
                        at += 1;
                        break;
                    }
                    other => current.push(other),
                }
            } else {
                match c {
                    None => break,
                    Some(b) if b.is_ascii_whitespace() => break,
                    Some(b'"') => in_double = true,
                    Some(b'\'') => in_single = true,
                    Some(other) => current.push(other),
                }
            }
            at += 1;
        }
        args.push(Bytes::from(current));
    }
}

/// One step of a case file.
#[derive(Debug, Clone, PartialEq)]
pub enum CaseLine {
    /// Switch protocol (HELLO 2/3; its reply is not compared).
    Protocol { resp3: bool },
    /// A command; `type_only` when only the reply's type may be compared,
    /// `unordered` when its top-level elements may come in any order.
    Command { args: Vec<Bytes>, type_only: bool, unordered: bool, line: usize },
}

/// Parses a case file: one command per line, `#` comments, blank lines,
/// `@resp2`/`@resp3`, `~ ` before time-dependent commands and `^ ` before
/// commands whose reply is an unordered collection.
pub fn parse_case_file(text: &str) -> Result<Vec<CaseLine>, String> {
    let mut steps = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line {
            "@resp2" => steps.push(CaseLine::Protocol { resp3: false }),
            "@resp3" => steps.push(CaseLine::Protocol { resp3: true }),
            _ => {
                let (type_only, unordered, rest) = match (line.strip_prefix("~ "), line.strip_prefix("^ ")) {
                    (Some(rest), _) => (true, false, rest),
                    (None, Some(rest)) => (false, true, rest),
                    (None, None) => (false, false, line),
                };
                let args = split_args(rest).ok_or_else(|| format!("line {}: unbalanced quotes", n + 1))?;
                if args.is_empty() {
                    return Err(format!("line {}: no command", n + 1));
                }
                steps.push(CaseLine::Command { args, type_only, unordered, line: n + 1 });
            }
        }
    }
    Ok(steps)
}

/// A raw RESP connection to a real Redis, for differential tests.
pub mod wire {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpStream;

    use bytes::Bytes;

    /// Reads one whole RESP2/RESP3 reply, returning its raw bytes.
    pub fn read_reply(reader: &mut BufReader<TcpStream>, out: &mut Vec<u8>) {
        let mut line = Vec::new();
        reader.read_until(b'\n', &mut line).expect("read reply");
        out.extend_from_slice(&line);
        let header = String::from_utf8_lossy(&line[1..line.len() - 2]).into_owned();
        let count = || header.parse::<i64>().expect("length");
        match line[0] {
            b'$' | b'=' | b'!' if count() >= 0 => {
                let mut body = vec![0u8; count() as usize + 2];
                reader.read_exact(&mut body).expect("read bulk");
                out.extend_from_slice(&body);
            }
            b'*' | b'~' | b'>' => {
                for _ in 0..count().max(0) {
                    read_reply(reader, out);
                }
            }
            b'%' | b'|' => {
                for _ in 0..count() * 2 {
                    read_reply(reader, out);
                }
                if line[0] == b'|' {
                    read_reply(reader, out);
                }
            }
            _ => {}
        }
    }

    pub fn send(stream: &mut TcpStream, args: &[Bytes]) {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            out.extend_from_slice(arg);
            out.extend_from_slice(b"\r\n");
        }
        stream.write_all(&out).expect("send");
    }
}

mod tests {
    use std::io::BufReader;
    use std::net::TcpStream;

    use super::wire::{read_reply, send};
    use super::*;

    #[test]
    fn split_args_follows_redis_cli_quoting() {
        let args = split_args(r#"SET "a b" 'c d' "\x41\n" plain"#).expect("balanced");
        let expected: Vec<Bytes> = ["SET", "a b", "c d", "A\n", "plain"].iter().map(|s| Bytes::from(*s)).collect();
        assert_eq!(args, expected);
        assert_eq!(split_args(r#"GET "open"#), None);
        assert_eq!(split_args(r#"GET "a"b"#), None);
        assert_eq!(split_args("  "), Some(vec![]));
    }

    #[test]
    fn the_case_files_parse() {
        for file in case_files() {
            let text = std::fs::read_to_string(&file).expect("read case file");
            parse_case_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        }
    }

    /// The case files, or the ones `REDRAFT_CASES` lists (comma-separated
    /// paths, or file stems in cluster-tests/cases as t20_differential takes).
    fn case_files() -> Vec<std::path::PathBuf> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../cluster-tests/cases");
        if let Ok(list) = std::env::var("REDRAFT_CASES") {
            return list
                .split(',')
                .map(str::trim)
                .map(|entry| {
                    if entry.contains('/') || entry.ends_with(".redis") {
                        std::path::PathBuf::from(entry)
                    } else {
                        dir.join(format!("{entry}.redis"))
                    }
                })
                .collect();
        }
        // protocol.redis is about the wire (inline commands, HELLO), which
        // this harness does not have.
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("the cases directory")
            .map(|e| e.expect("a directory entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "redis") && !p.ends_with("protocol.redis"))
            .collect();
        files.sort();
        files
    }

    /// Runs each case file against a real Redis and against the harness and
    /// compares every reply byte for byte, like the cluster runner will.
    /// Needs a server: `REDRAFT_DIFF_REDIS=127.0.0.1:7777 cargo test -- --ignored`
    /// (and `REDRAFT_CASES=a.redis,b.redis` to run other files).
    #[test]
    #[ignore = "needs a real redis-server (REDRAFT_DIFF_REDIS=host:port)"]
    fn case_files_match_a_real_redis_server() {
        let addr = std::env::var("REDRAFT_DIFF_REDIS").expect("REDRAFT_DIFF_REDIS=host:port");
        let mut failures = Vec::new();
        for file in case_files() {
            let text = std::fs::read_to_string(&file).expect("read case file");
            let steps = parse_case_file(&text).expect("parse case file");
            let mut stream = TcpStream::connect(&addr).expect("connect to redis");
            let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
            let mut harness = TestKeyspace::new();
            let mut scratch = Vec::new();
            send(&mut stream, &[Bytes::from("FLUSHALL")]);
            read_reply(&mut reader, &mut scratch);
            for step in steps {
                match step {
                    CaseLine::Protocol { resp3 } => {
                        send(&mut stream, &[Bytes::from("HELLO"), Bytes::from(if resp3 { "3" } else { "2" })]);
                        read_reply(&mut reader, &mut scratch);
                        harness.resp3 = resp3;
                    }
                    CaseLine::Command { args, type_only, unordered, line } => {
                        send(&mut stream, &args);
                        let mut expected = Vec::new();
                        read_reply(&mut reader, &mut expected);
                        harness.now_ms = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .expect("clock")
                            .as_millis() as u64;
                        let reply = harness.exec_bytes(&args);
                        let actual = harness.encode(&reply);
                        let same = if type_only {
                            expected[0] == actual[0]
                        } else if unordered {
                            expected == actual
                                || resp::canonical_unordered(&expected)
                                    .is_some_and(|c| Some(c) == resp::canonical_unordered(&actual))
                        } else {
                            expected == actual
                        };
                        if !same {
                            failures.push(format!(
                                "{}:{line}: {:?}\n  redis:   {:?}\n  redraft: {:?}",
                                file.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
                                args,
                                String::from_utf8_lossy(&expected),
                                String::from_utf8_lossy(&actual)
                            ));
                        }
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{} differences:\n{}", failures.len(), failures.join("\n"));
    }
}
