//! The lin-kv operations as Redis commands, and Redis replies as lin-kv replies.
//!
//! Keys and values are JSON; each is stored as its canonical text
//! ([`super::protocol::canonical`]), so `1` and `"1"` are different keys and a value reads back
//! as the JSON it was written as.
//!
//! - `write key value` is `SET key value`.
//! - `read key` is `GET key` after a ReadIndex barrier; a missing key is error 20.
//! - `cas key from to` is `SET key to IFEQ from GET`, which replies the old value whether or not
//!   it swapped: the old value tells "swapped" from "precondition failed" (22) from "no such
//!   key" (20) without a second read.
//! - with `create_if_not_exists`, the batch `SET key to NX GET` then `SET key to IFEQ from GET`
//!   runs as one Raft entry, so nothing can come between the two: the first creates a missing
//!   key, the second swaps an existing one.

use bytes::Bytes;
use resp::Frame;
use serde_json::Value;

use super::protocol::{canonical, code, Payload};

/// A client request as the commands to propose (writes) or run (reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvOp {
    /// A read: one command run on a read view after the barrier.
    Read(Vec<Bytes>),
    /// A write: commands proposed as one Raft entry, and how to read the reply.
    Write { commands: Vec<Vec<Bytes>>, kind: WriteKind },
}

/// How to turn a write's reply into a lin-kv reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteKind {
    Write,
    /// The canonical `from`: compared with the old value `SET ... GET` replies.
    Cas {
        from: String,
    },
    CasOrCreate {
        from: String,
    },
}

fn args(parts: &[&[u8]]) -> Vec<Bytes> {
    parts.iter().map(|p| Bytes::copy_from_slice(p)).collect()
}

/// The Redis commands for a lin-kv request, or `None` for any other payload.
pub fn to_op(request: &Payload) -> Option<KvOp> {
    match request {
        Payload::Read { key } => Some(KvOp::Read(args(&[b"GET", canonical(key).as_bytes()]))),
        Payload::Write { key, value } => Some(KvOp::Write {
            commands: vec![args(&[b"SET", canonical(key).as_bytes(), canonical(value).as_bytes()])],
            kind: WriteKind::Write,
        }),
        Payload::Cas { key, from, to, create_if_not_exists } => {
            let (key, from, to) = (canonical(key), canonical(from), canonical(to));
            let swap = args(&[b"SET", key.as_bytes(), to.as_bytes(), b"IFEQ", from.as_bytes(), b"GET"]);
            if *create_if_not_exists {
                let create = args(&[b"SET", key.as_bytes(), to.as_bytes(), b"NX", b"GET"]);
                Some(KvOp::Write { commands: vec![create, swap], kind: WriteKind::CasOrCreate { from } })
            } else {
                Some(KvOp::Write { commands: vec![swap], kind: WriteKind::Cas { from } })
            }
        }
        _ => None,
    }
}

fn unexpected(frame: &Frame) -> Payload {
    // A reply the mapping does not expect (an error from the command table, a wrong type):
    // the command ran, so whatever it did is decided, but it is not one of lin-kv's outcomes.
    Payload::error(code::CRASH, format!("unexpected reply from the state machine: {frame:?}"))
}

fn old_value_matches(old: &Frame, from: &str) -> Option<bool> {
    match old {
        Frame::Bulk(old) => Some(old.as_ref() == from.as_bytes()),
        _ => None,
    }
}

/// The lin-kv reply to a read, from `GET`'s reply.
pub fn read_reply(frame: &Frame) -> Payload {
    match frame {
        Frame::Null => Payload::error(code::KEY_DOES_NOT_EXIST, "key does not exist"),
        Frame::Bulk(bytes) => match serde_json::from_slice::<Value>(bytes) {
            Ok(value) => Payload::ReadOk { value },
            Err(_) => unexpected(frame),
        },
        other => unexpected(other),
    }
}

/// The lin-kv reply to a write, from the reply of its committed and applied entry.
pub fn write_reply(kind: &WriteKind, frame: &Frame) -> Payload {
    match kind {
        WriteKind::Write if *frame == Frame::ok() => Payload::WriteOk,
        WriteKind::Write => unexpected(frame),
        WriteKind::Cas { from } => cas_reply(frame, from),
        WriteKind::CasOrCreate { from } => match frame {
            Frame::Array(replies) if replies.len() == 2 => match &replies[0] {
                // NX set it: the key was missing and now holds `to`.
                Frame::Null => Payload::CasOk,
                _ => cas_reply(&replies[1], from),
            },
            other => unexpected(other),
        },
    }
}

fn cas_reply(frame: &Frame, from: &str) -> Payload {
    match frame {
        Frame::Null => Payload::error(code::KEY_DOES_NOT_EXIST, "key does not exist"),
        old => match old_value_matches(old, from) {
            Some(true) => Payload::CasOk,
            Some(false) => Payload::error(code::PRECONDITION_FAILED, "the value is not `from`"),
            None => unexpected(old),
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn bulk(s: &str) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    fn texts(commands: &[Vec<Bytes>]) -> Vec<String> {
        commands
            .iter()
            .map(|c| c.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect::<Vec<_>>().join(" "))
            .collect()
    }

    #[test]
    fn requests_become_redis_commands_on_canonical_text() {
        let Some(KvOp::Read(get)) = to_op(&Payload::Read { key: json!("k") }) else { panic!("not a read") };
        assert_eq!(texts(&[get]), [r#"GET "k""#]);
        let Some(KvOp::Write { commands, kind }) =
            to_op(&Payload::Write { key: json!(1), value: json!({"b":1,"a":2}) })
        else {
            panic!("not a write")
        };
        assert_eq!(texts(&commands), [r#"SET 1 {"a":2,"b":1}"#]);
        assert_eq!(kind, WriteKind::Write);
        let cas = Payload::Cas { key: json!(1), from: json!(2), to: json!(3), create_if_not_exists: false };
        let Some(KvOp::Write { commands, .. }) = to_op(&cas) else { panic!("not a write") };
        assert_eq!(texts(&commands), ["SET 1 3 IFEQ 2 GET"]);
        let create = Payload::Cas { key: json!(1), from: json!(2), to: json!(3), create_if_not_exists: true };
        let Some(KvOp::Write { commands, .. }) = to_op(&create) else { panic!("not a write") };
        assert_eq!(texts(&commands), ["SET 1 3 NX GET", "SET 1 3 IFEQ 2 GET"]);
        assert_eq!(to_op(&Payload::InitOk), None);
    }

    #[test]
    fn replies_map_to_lin_kv_outcomes() {
        assert_eq!(read_reply(&bulk("[1,2]")), Payload::ReadOk { value: json!([1, 2]) });
        assert!(matches!(read_reply(&Frame::Null), Payload::Error { code: code::KEY_DOES_NOT_EXIST, .. }));
        assert!(matches!(read_reply(&bulk("not json")), Payload::Error { code: code::CRASH, .. }));

        assert_eq!(write_reply(&WriteKind::Write, &Frame::ok()), Payload::WriteOk);
        let cas = WriteKind::Cas { from: "2".into() };
        assert_eq!(write_reply(&cas, &bulk("2")), Payload::CasOk);
        assert!(matches!(write_reply(&cas, &bulk("5")), Payload::Error { code: code::PRECONDITION_FAILED, .. }));
        assert!(matches!(write_reply(&cas, &Frame::Null), Payload::Error { code: code::KEY_DOES_NOT_EXIST, .. }));

        let create = WriteKind::CasOrCreate { from: "2".into() };
        let reply = |first: Frame, second: Frame| write_reply(&create, &Frame::Array(vec![first, second]));
        assert_eq!(reply(Frame::Null, bulk("3")), Payload::CasOk, "created");
        assert_eq!(reply(bulk("2"), bulk("2")), Payload::CasOk, "swapped");
        assert!(matches!(reply(bulk("4"), bulk("4")), Payload::Error { code: code::PRECONDITION_FAILED, .. }));
        assert!(matches!(write_reply(&create, &Frame::ok()), Payload::Error { code: code::CRASH, .. }));
    }
}
