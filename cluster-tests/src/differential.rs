//! The differential runner: sends the commands of a `cases/*.redis` file to a real Redis and to
//! Redraft and compares the raw reply bytes.
//!
//! # Format
//! ```text
//! # a comment; blank lines are ignored too
//! SET k "hello world"      one command per line, quoted as in redis-cli (sdssplitargs)
//! ~ HELLO 3                compare only the reply type (its first byte), not its content
//! ^ SMEMBERS s             compare the top-level elements (map pairs) in any order
//! @resp3                   send HELLO 3 to both sides (reply not compared); @resp2 goes back
//! ```
//! Every file starts with FLUSHALL on both sides (reply not compared). Commands are sent as
//! multibulk requests, as client libraries do; inline parsing is tested in `t10_protocol.rs`.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::client::{describe_command, escape, RespClient};

/// One meaningful line of a case file.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// A command whose replies are compared.
    Command {
        /// 1-based line number in the file.
        line: usize,
        /// The arguments, after redis-cli style unquoting.
        args: Vec<Bytes>,
        /// `~ ` prefix: compare only the reply type byte.
        type_only: bool,
        /// `^ ` prefix: the top-level elements may come in any order.
        unordered: bool,
    },
    /// `@resp2` / `@resp3`: switch both connections' protocol with HELLO.
    Protocol {
        /// 1-based line number in the file.
        line: usize,
        /// 2 or 3.
        version: u8,
    },
}

/// Parses a case file.
///
/// # Errors
/// `line N: ...` for an unknown `@` directive or unbalanced quotes.
pub fn parse_cases(text: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim_end_matches('\r').trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Some(directive) = trimmed.strip_prefix('@') {
            let version = match directive.trim() {
                "resp2" => 2,
                "resp3" => 3,
                other => return Err(format!("line {line}: unknown directive @{other}")),
            };
            steps.push(Step::Protocol { line, version });
            continue;
        }
        let (type_only, unordered, command) = match (trimmed.strip_prefix("~ "), trimmed.strip_prefix("^ ")) {
            (Some(rest), _) => (true, false, rest),
            (None, Some(rest)) => (false, true, rest),
            (None, None) => (false, false, trimmed),
        };
        let args = resp::split_inline_args(command.as_bytes()).map_err(|e| format!("line {line}: {e}"))?;
        if !args.is_empty() {
            steps.push(Step::Command { line, args, type_only, unordered });
        }
    }
    Ok(steps)
}

/// A reply from Redraft that differs from Redis's (or a failure to get one).
#[derive(Debug, Clone)]
pub struct Mismatch {
    /// The case file's name.
    pub file: String,
    /// 1-based line number.
    pub line: usize,
    /// The command, escaped.
    pub command: String,
    /// What Redis answered (or an I/O error text).
    pub redis: String,
    /// What Redraft answered (or an I/O error text).
    pub redraft: String,
    /// Whether only the reply type was compared.
    pub type_only: bool,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = if self.type_only { " (type only)" } else { "" };
        writeln!(f, "{}:{}: {}{mode}", self.file, self.line, self.command)?;
        writeln!(f, "    redis:   {}", self.redis)?;
        write!(f, "    redraft: {}", self.redraft)
    }
}

/// `cases/*.redis` under `dir`, sorted by name.
///
/// # Panics
/// When `dir` cannot be read.
pub fn case_files(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> =
        entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "redis")).collect();
    files.sort();
    files
}

/// Runs one case file against Redis at `redis_addr` and Redraft at `redraft_addr` on two fresh
/// connections, and returns every mismatch. An I/O error on either side ends the file (the
/// connections would be out of step) and is reported as a mismatch.
pub fn run_file(path: &Path, redis_addr: &str, redraft_addr: &str) -> Vec<Mismatch> {
    let file = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let failure = |line: usize, command: &str, redis: String, redraft: String| Mismatch {
        file: file.clone(),
        line,
        command: command.to_string(),
        redis,
        redraft,
        type_only: false,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => return vec![failure(0, "(reading the file)", e.to_string(), String::new())],
    };
    let steps = match parse_cases(&text) {
        Ok(steps) => steps,
        Err(e) => return vec![failure(0, "(parsing the file)", e, String::new())],
    };
    let (mut redis, mut redraft) = match (RespClient::connect(redis_addr), RespClient::connect(redraft_addr)) {
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => return vec![failure(0, "(connecting)", io_text(a.err()), io_text(b.err()))],
    };
    run_steps(&file, &steps, &mut redis, &mut redraft)
}

/// Runs `steps` (after a FLUSHALL) on two connections; see [`run_file`].
pub fn run_steps(file: &str, steps: &[Step], redis: &mut RespClient, redraft: &mut RespClient) -> Vec<Mismatch> {
    let mut mismatches = Vec::new();
    let mut report = |line: usize, args: &[Bytes], redis: String, redraft: String, type_only: bool| {
        mismatches.push(Mismatch {
            file: file.to_string(),
            line,
            command: describe_command(args),
            redis,
            redraft,
            type_only,
        });
    };
    let setup: Vec<Bytes> = vec![Bytes::from_static(b"FLUSHALL")];
    if let Err((a, b)) = exchange(&setup, redis, redraft) {
        report(0, &setup, a, b, false);
        return mismatches;
    }
    for step in steps {
        match step {
            Step::Protocol { line, version } => {
                let hello = vec![Bytes::from_static(b"HELLO"), Bytes::from(version.to_string())];
                if let Err((a, b)) = exchange(&hello, redis, redraft) {
                    report(*line, &hello, a, b, false);
                    return mismatches;
                }
            }
            Step::Command { line, args, type_only, unordered } => match exchange(args, redis, redraft) {
                Ok((a, b)) => {
                    let same = if *type_only {
                        a.first() == b.first()
                    } else if *unordered {
                        a == b
                            || resp::canonical_unordered(&a).is_some_and(|c| Some(c) == resp::canonical_unordered(&b))
                    } else {
                        a == b
                    };
                    if !same {
                        report(*line, args, escape(&a), escape(&b), *type_only);
                    }
                }
                Err((a, b)) => {
                    report(*line, args, a, b, *type_only);
                    return mismatches;
                }
            },
        }
    }
    mismatches
}

/// Sends `args` to both sides and returns both raw replies; on an I/O error on either side,
/// both sides' outcomes as text.
fn exchange(
    args: &[Bytes],
    redis: &mut RespClient,
    redraft: &mut RespClient,
) -> Result<(Vec<u8>, Vec<u8>), (String, String)> {
    let a = redis.cmd_raw(args);
    let b = redraft.cmd_raw(args);
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (a, b) => Err((outcome_text(a), outcome_text(b))),
    }
}

fn outcome_text(result: io::Result<Vec<u8>>) -> String {
    match result {
        Ok(bytes) => escape(&bytes),
        Err(e) => format!("(I/O error: {e})"),
    }
}

fn io_text(error: Option<io::Error>) -> String {
    error.map(|e| format!("(I/O error: {e})")).unwrap_or_else(|| "(connected)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_lines_parse_into_steps() {
        let text = "# comment\n\nSET k \"a b\"\r\n~ HELLO 3\n@resp3\n  @resp2\nGET 'k'\n";
        let steps = parse_cases(text).unwrap();
        let bulk = |s: &'static str| Bytes::from_static(s.as_bytes());
        assert_eq!(
            steps,
            vec![
                Step::Command {
                    line: 3,
                    args: vec![bulk("SET"), bulk("k"), bulk("a b")],
                    type_only: false,
                    unordered: false
                },
                Step::Command { line: 4, args: vec![bulk("HELLO"), bulk("3")], type_only: true, unordered: false },
                Step::Protocol { line: 5, version: 3 },
                Step::Protocol { line: 6, version: 2 },
                Step::Command { line: 7, args: vec![bulk("GET"), bulk("k")], type_only: false, unordered: false },
            ]
        );
    }

    #[test]
    fn bad_case_lines_are_reported_with_their_line() {
        assert_eq!(parse_cases("PING\n@resp4\n").unwrap_err(), "line 2: unknown directive @resp4");
        assert!(parse_cases("ECHO \"unterminated\n").unwrap_err().starts_with("line 1:"));
    }

    #[test]
    fn mismatches_print_file_line_and_both_replies() {
        let m = Mismatch {
            file: "a.redis".into(),
            line: 3,
            command: "GET k".into(),
            redis: "$-1\\r\\n".into(),
            redraft: "_\\r\\n".into(),
            type_only: false,
        };
        assert_eq!(m.to_string(), "a.redis:3: GET k\n    redis:   $-1\\r\\n\n    redraft: _\\r\\n");
    }
}
