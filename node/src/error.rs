//! Command errors, and the one place they become Redis error replies.

use resp::Frame;
use thiserror::Error;

/// Why a command failed. Every variant's text is the exact Redis reply,
/// prefix included, so `to_frame` is the only translation to the wire.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CommandError {
    #[error("ERR unknown command '{name}', with args beginning with: {args}")]
    UnknownCommand { name: String, args: String },
    #[error("ERR unknown subcommand '{sub}'. Try {command} HELP.")]
    UnknownSubcommand { command: String, sub: String },
    #[error("ERR wrong number of arguments for '{0}' command")]
    WrongArity(String),
    #[error("ERR syntax error")]
    Syntax,
    #[error("WRONGTYPE Operation against a key holding the wrong kind of value")]
    WrongType,
    #[error("ERR value is not an integer or out of range")]
    NotInteger,
    #[error("ERR value is not a valid float")]
    NotFloat,
    #[error("ERR increment or decrement would overflow")]
    Overflow,
    #[error("ERR no such key")]
    NoSuchKey,
    #[error("ERR DB index is out of range")]
    DbIndexOutOfRange,
    /// The name is the command's lower-case full name, as Redis prints it.
    #[error("ERR invalid expire time in '{0}' command")]
    InvalidExpireTime(String),
    #[error("ERR source and destination objects are the same")]
    SameObject,
    /// A string would outgrow `proto-max-bulk-len` (512 MiB).
    #[error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")]
    StringTooLong,
    #[error("ERR invalid cursor")]
    InvalidCursor,
    #[error("ERR increment would produce NaN or Infinity")]
    NanOrInfinity,
    /// Any other `ERR ...` message; the text excludes the `ERR ` prefix.
    #[error("ERR {0}")]
    Other(String),
    /// A reply with its own prefix (EXECABORT, NOAUTH, BUSYKEY, ...): the
    /// text is sent as it is.
    #[error("{0}")]
    Prefixed(String),
    /// The command must go to the leader: never proposed here.
    #[error("MOVED {slot} {addr}")]
    Moved { slot: u16, addr: String },
    /// Leadership is changing: never proposed here; cluster clients retry.
    #[error("TRYAGAIN {0}")]
    TryAgain(String),
    /// No leader is known: never proposed here.
    #[error("CLUSTERDOWN {0}")]
    ClusterDown(String),
    /// The write was proposed but its outcome could not be learnt (leadership
    /// lost or the deadline passed before it was applied): it may or may not
    /// take effect. Clients must not retry blindly, so the prefix is one no
    /// client library retries on.
    #[error("UNCERTAIN {0}")]
    Uncertain(String),
    /// A failure of this node's storage.
    #[error("ERR storage error: {0}")]
    Storage(String),
}

impl From<storage::StorageError> for CommandError {
    fn from(e: storage::StorageError) -> Self {
        tracing::error!(error = %e, "storage error while executing a command");
        CommandError::Storage(e.to_string())
    }
}

impl CommandError {
    /// Shorthand for an `ERR <text>` error.
    pub fn err(text: impl Into<String>) -> Self {
        CommandError::Other(text.into())
    }

    /// The error reply sent to the client.
    pub fn to_frame(&self) -> Frame {
        Frame::Error(self.to_string().into())
    }
}

/// `ERR unknown command` needs the arguments the way Redis quotes them:
/// each as `'arg'`, separated by spaces, cut at 128 characters in all.
pub fn unknown_command(args: &[bytes::Bytes]) -> CommandError {
    let name = args.first().map(|a| String::from_utf8_lossy(a).into_owned()).unwrap_or_default();
    let mut listed = String::new();
    for arg in args.iter().skip(1) {
        if listed.len() >= 128 {
            break;
        }
        let text = String::from_utf8_lossy(arg);
        let remaining = 128 - listed.len();
        let cut: String = text.chars().take(remaining).collect();
        listed.push('\'');
        listed.push_str(&cut);
        listed.push_str("' ");
    }
    CommandError::UnknownCommand { name, args: listed }
}
