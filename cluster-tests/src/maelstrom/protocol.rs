//! Maelstrom's wire format: one JSON object per line, `{src, dest, body}`, whose body carries a
//! `type`, an optional `msg_id` and, in replies, `in_reply_to`.
//!
//! # Format
//! ```text
//! {"src":"c1","dest":"n1","body":{"type":"read","msg_id":3,"key":0}}
//! {"src":"n1","dest":"c1","body":{"type":"read_ok","in_reply_to":3,"msg_id":7,"value":4}}
//! {"src":"n1","dest":"c1","body":{"type":"error","in_reply_to":3,"code":20,"text":"..."}}
//! ```
//! Besides Maelstrom's own types (`init`, and the lin-kv workload's `read`, `write`, `cas`),
//! the adapter's nodes exchange `raft` (an openraft RPC, base64 of the versioned bincode of
//! `raft::codec`) answered by `raft_ok`, and `forward` (a client request relayed to the leader)
//! answered by `forward_ok`.
//!
//! Parsing never panics: a line that is not a message is [`ParseError::NotAMessage`]; a message
//! whose body is not understood is [`ParseError::BadBody`], which still names the sender and
//! `msg_id` so the node can answer with an error instead of leaving the client waiting.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Maelstrom's error codes (its protocol documentation, "Errors").
pub mod code {
    /// The operation could not be completed in time: it may or may not have happened.
    pub const TIMEOUT: u32 = 0;
    pub const NODE_NOT_FOUND: u32 = 1;
    pub const NOT_SUPPORTED: u32 = 10;
    /// The operation definitely did not happen and can be retried.
    pub const TEMPORARILY_UNAVAILABLE: u32 = 11;
    pub const MALFORMED_REQUEST: u32 = 12;
    /// Indefinite: the node failed while handling the request.
    pub const CRASH: u32 = 13;
    pub const ABORT: u32 = 14;
    pub const KEY_DOES_NOT_EXIST: u32 = 20;
    pub const KEY_ALREADY_EXISTS: u32 = 21;
    pub const PRECONDITION_FAILED: u32 = 22;
    pub const TXN_CONFLICT: u32 = 30;

    /// Whether an error with `code` guarantees the operation did not take effect. Maelstrom
    /// defines 0 and 13 as indefinite; codes it does not define are treated as indefinite too,
    /// the safe reading.
    pub fn is_definite(code: u32) -> bool {
        matches!(
            code,
            NODE_NOT_FOUND
                | NOT_SUPPORTED
                | TEMPORARILY_UNAVAILABLE
                | MALFORMED_REQUEST
                | ABORT
                | KEY_DOES_NOT_EXIST
                | KEY_ALREADY_EXISTS
                | PRECONDITION_FAILED
                | TXN_CONFLICT
        )
    }
}

/// One message on the Maelstrom network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub src: String,
    pub dest: String,
    pub body: Body,
}

/// A message body: the RPC bookkeeping fields and the typed payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Body {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<u64>,
    #[serde(flatten)]
    pub payload: Payload,
}

/// Which openraft RPC a `raft` message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RaftRpc {
    AppendEntries,
    Vote,
    /// A whole snapshot: `data` is the `raft::codec::SnapshotHeader`, `file` the file's bytes.
    Snapshot,
}

/// Every body type the adapter and the driver understand, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Payload {
    Init {
        node_id: String,
        node_ids: Vec<String>,
    },
    InitOk,
    Read {
        key: Value,
    },
    ReadOk {
        value: Value,
    },
    Write {
        key: Value,
        value: Value,
    },
    WriteOk,
    Cas {
        key: Value,
        from: Value,
        to: Value,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        create_if_not_exists: bool,
    },
    CasOk,
    Error {
        code: u32,
        #[serde(default)]
        text: String,
    },
    /// An openraft RPC between two nodes.
    Raft {
        rpc: RaftRpc,
        /// base64 of the versioned bincode request.
        data: String,
        /// For snapshots: base64 of the snapshot file.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file: Option<String>,
    },
    /// The remote Raft's `Result`, base64 of its versioned bincode.
    RaftOk {
        data: String,
    },
    /// A client request relayed by a follower to the leader it knows.
    Forward {
        request: Box<Payload>,
    },
    /// The leader's answer to a [`Payload::Forward`]: the reply for the client.
    ForwardOk {
        reply: Box<Payload>,
    },
}

impl Payload {
    /// An error reply.
    pub fn error(code: u32, text: impl Into<String>) -> Payload {
        Payload::Error { code, text: text.into() }
    }

    /// Whether this is a lin-kv client request.
    pub fn is_client_request(&self) -> bool {
        matches!(self, Payload::Read { .. } | Payload::Write { .. } | Payload::Cas { .. })
    }
}

/// Why a line could not be read as a message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    /// Not JSON, or not an object with string `src`/`dest` and an object `body`.
    #[error("not a Maelstrom message: {0}")]
    NotAMessage(String),
    /// An envelope whose body is not understood: the sender can still be answered.
    #[error("{src} sent a body that is not understood ({reason})")]
    BadBody {
        src: String,
        dest: String,
        msg_id: Option<u64>,
        /// The body's `type`, if it had one.
        body_type: Option<String>,
        reason: String,
    },
}

impl ParseError {
    /// The error reply owed for this input: `None` when there is nobody (or no request) to
    /// answer. An unknown `type` is "not supported", a known one with bad fields is malformed.
    pub fn reply(&self) -> Option<Message> {
        let ParseError::BadBody { src, dest, msg_id: Some(msg_id), body_type, reason } = self else {
            return None;
        };
        let known = body_type.as_deref().is_some_and(is_known_type);
        let (code, text) = match body_type {
            Some(t) if !known => (code::NOT_SUPPORTED, format!("message type {t:?} is not supported")),
            _ => (code::MALFORMED_REQUEST, format!("malformed request: {reason}")),
        };
        Some(Message {
            src: dest.clone(),
            dest: src.clone(),
            body: Body { msg_id: None, in_reply_to: Some(*msg_id), payload: Payload::error(code, text) },
        })
    }
}

fn is_known_type(body_type: &str) -> bool {
    const KNOWN: &[&str] = &[
        "init",
        "init_ok",
        "read",
        "read_ok",
        "write",
        "write_ok",
        "cas",
        "cas_ok",
        "error",
        "raft",
        "raft_ok",
        "forward",
        "forward_ok",
    ];
    KNOWN.contains(&body_type)
}

/// Parses one line.
///
/// # Errors
/// [`ParseError`] for anything that is not a message this module knows.
pub fn parse(line: &str) -> Result<Message, ParseError> {
    let value: Value = serde_json::from_str(line).map_err(|e| ParseError::NotAMessage(e.to_string()))?;
    let field = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_string);
    let (Some(src), Some(dest)) = (field("src"), field("dest")) else {
        return Err(ParseError::NotAMessage("no string src and dest".into()));
    };
    let Some(body) = value.get("body").filter(|b| b.is_object()) else {
        return Err(ParseError::NotAMessage("no body object".into()));
    };
    match Body::deserialize(body) {
        Ok(body) => Ok(Message { src, dest, body }),
        Err(e) => Err(ParseError::BadBody {
            src,
            dest,
            msg_id: body.get("msg_id").and_then(Value::as_u64),
            body_type: body.get("type").and_then(Value::as_str).map(str::to_string),
            reason: e.to_string(),
        }),
    }
}

/// Serializes a message as one line, without the newline.
pub fn to_line(message: &Message) -> String {
    // A `Message` holds only strings, integers and JSON values: serializing cannot fail.
    serde_json::to_string(message).unwrap_or_else(|e| {
        tracing::error!(error = %e, "a message could not be serialized");
        String::new()
    })
}

/// The canonical text of a JSON value, used as the Redis key or value it is stored under:
/// object members sorted by name, no whitespace, so equal values always give equal bytes.
pub fn canonical(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                Value::Object(entries.into_iter().map(|(k, v)| (k.clone(), sorted(v))).collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn round_trip(line: &str) -> Message {
        let message = parse(line).unwrap_or_else(|e| panic!("{line} did not parse: {e}"));
        let again = parse(&to_line(&message)).expect("a serialized message parses");
        assert_eq!(again, message, "{line} does not round-trip");
        message
    }

    #[test]
    fn every_lin_kv_message_parses_and_round_trips() {
        let init = round_trip(
            r#"{"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1","n2"]}}"#,
        );
        assert_eq!(init.body.msg_id, Some(1));
        assert_eq!(init.body.payload, Payload::Init { node_id: "n1".into(), node_ids: vec!["n1".into(), "n2".into()] });
        round_trip(r#"{"src":"n1","dest":"c0","body":{"type":"init_ok","in_reply_to":1}}"#);
        let read = round_trip(r#"{"src":"c1","dest":"n1","body":{"type":"read","msg_id":2,"key":0}}"#);
        assert_eq!(read.body.payload, Payload::Read { key: json!(0) });
        round_trip(r#"{"src":"n1","dest":"c1","body":{"type":"read_ok","in_reply_to":2,"value":[1,{"a":null}]}}"#);
        round_trip(r#"{"src":"c1","dest":"n1","body":{"type":"write","msg_id":3,"key":"k","value":4}}"#);
        round_trip(r#"{"src":"n1","dest":"c1","body":{"type":"write_ok","in_reply_to":3}}"#);
        let cas = round_trip(r#"{"src":"c1","dest":"n1","body":{"type":"cas","msg_id":4,"key":1,"from":2,"to":3}}"#);
        assert_eq!(
            cas.body.payload,
            Payload::Cas { key: json!(1), from: json!(2), to: json!(3), create_if_not_exists: false }
        );
        let create = round_trip(
            r#"{"src":"c1","dest":"n1","body":{"type":"cas","msg_id":5,"key":1,"from":2,"to":3,"create_if_not_exists":true}}"#,
        );
        assert!(matches!(create.body.payload, Payload::Cas { create_if_not_exists: true, .. }));
        round_trip(r#"{"src":"n1","dest":"c1","body":{"type":"cas_ok","in_reply_to":5}}"#);
        let error =
            round_trip(r#"{"src":"n1","dest":"c1","body":{"type":"error","in_reply_to":5,"code":22,"text":"no"}}"#);
        assert_eq!(error.body.payload, Payload::error(code::PRECONDITION_FAILED, "no"));
        // Maelstrom's `text` is optional.
        let bare = round_trip(r#"{"src":"n1","dest":"c1","body":{"type":"error","in_reply_to":5,"code":11}}"#);
        assert_eq!(bare.body.payload, Payload::error(code::TEMPORARILY_UNAVAILABLE, ""));
    }

    #[test]
    fn node_to_node_messages_round_trip() {
        round_trip(
            r#"{"src":"n1","dest":"n2","body":{"type":"raft","msg_id":9,"rpc":"append_entries","data":"AQI="}}"#,
        );
        round_trip(
            r#"{"src":"n1","dest":"n2","body":{"type":"raft","msg_id":9,"rpc":"snapshot","data":"AQ==","file":"AA=="}}"#,
        );
        round_trip(r#"{"src":"n2","dest":"n1","body":{"type":"raft_ok","in_reply_to":9,"data":"AQ=="}}"#);
        let forward = round_trip(
            r#"{"src":"n2","dest":"n1","body":{"type":"forward","msg_id":10,"request":{"type":"read","key":7}}}"#,
        );
        assert_eq!(forward.body.payload, Payload::Forward { request: Box::new(Payload::Read { key: json!(7) }) });
        round_trip(
            r#"{"src":"n1","dest":"n2","body":{"type":"forward_ok","in_reply_to":10,"reply":{"type":"error","code":20,"text":""}}}"#,
        );
    }

    #[test]
    fn garbage_is_an_error_never_a_panic() {
        for line in ["", "{", "null", "[1]", r#"{"src":1,"dest":"n1","body":{}}"#, r#"{"src":"a","dest":"b","body":3}"#]
        {
            assert!(matches!(parse(line), Err(ParseError::NotAMessage(_))), "{line:?}");
            assert_eq!(parse(line).unwrap_err().reply(), None, "nobody to answer for {line:?}");
        }
    }

    #[test]
    fn bad_bodies_are_answered_with_an_error_to_the_sender() {
        let unknown = parse(r#"{"src":"c1","dest":"n1","body":{"type":"txn","msg_id":7,"txn":[]}}"#).unwrap_err();
        let reply = unknown.reply().expect("a request with a msg_id is answered");
        assert_eq!((reply.src.as_str(), reply.dest.as_str()), ("n1", "c1"));
        assert_eq!(reply.body.in_reply_to, Some(7));
        assert!(matches!(reply.body.payload, Payload::Error { code: code::NOT_SUPPORTED, .. }));

        let missing_key =
            parse(r#"{"src":"c1","dest":"n1","body":{"type":"write","msg_id":8,"value":1}}"#).unwrap_err();
        let reply = missing_key.reply().expect("answered");
        assert!(matches!(reply.body.payload, Payload::Error { code: code::MALFORMED_REQUEST, .. }));

        let bad_code =
            parse(r#"{"src":"n1","dest":"c1","body":{"type":"error","in_reply_to":8,"code":-1}}"#).unwrap_err();
        assert_eq!(bad_code.reply(), None, "a reply without msg_id is never answered");
        let no_type = parse(r#"{"src":"c1","dest":"n1","body":{"msg_id":9}}"#).unwrap_err();
        assert!(matches!(no_type.reply().unwrap().body.payload, Payload::Error { code: code::MALFORMED_REQUEST, .. }));
    }

    #[test]
    fn canonical_text_ignores_member_order_and_whitespace() {
        let a: Value = serde_json::from_str(r#"{"b": [1, {"y":1,"x":2}], "a": "s"}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a":"s","b":[1,{"x":2,"y":1}]}"#).unwrap();
        assert_eq!(canonical(&a), canonical(&b));
        assert_eq!(canonical(&a), r#"{"a":"s","b":[1,{"x":2,"y":1}]}"#);
        assert_eq!(canonical(&json!(3)), "3");
        assert_ne!(canonical(&json!(3)), canonical(&json!("3")));
    }

    #[test]
    fn definite_codes_follow_maelstrom() {
        assert!(!code::is_definite(code::TIMEOUT));
        assert!(!code::is_definite(code::CRASH));
        assert!(!code::is_definite(1234), "unknown codes are indefinite");
        for c in [code::TEMPORARILY_UNAVAILABLE, code::KEY_DOES_NOT_EXIST, code::PRECONDITION_FAILED] {
            assert!(code::is_definite(c));
        }
    }
}
