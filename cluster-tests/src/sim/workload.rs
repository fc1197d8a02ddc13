//! Simulated clients: GET, SET and compare-and-set (`SET k v IFEQ old`, or `SET k v NX` for an
//! absent key) on a few registers, sent through the node's real request path (`dispatch`: the
//! leader check, MOVED, ReadIndex barrier, proposal and its error classification), each
//! operation recorded for the linearizability checker.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use raft::NodeId;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use redraft::dispatch::{dispatch, Conn};
use redraft::node::Reply;
use resp::Frame;

use super::cluster::{client_addr, node_of_addr, Directory};
use super::observer::Shared;
use crate::linearizability::{Input, Operation, Outcome, Output};

/// A client gives up on an operation after this long (the node answers UNCERTAIN after its
/// write timeout, 2 s, so this only fires when the reply itself is lost): its outcome is then
/// unknown.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a client waits before retrying after a refused connection.
const REFUSED_BACKOFF: Duration = Duration::from_millis(10);

/// One client's behaviour.
#[derive(Debug, Clone)]
pub struct ClientPlan {
    pub client: usize,
    pub seed: u64,
    pub keys: Vec<String>,
    /// Pause between two operations, in milliseconds.
    pub think_ms: std::ops::Range<u64>,
    /// Broken on purpose: reads go to any node with READONLY set, which serves them from its
    /// local state without a ReadIndex barrier (stale reads, as Redis replicas allow).
    pub stale_reads: bool,
}

/// What the clients share: the nodes, the observer and the history being recorded.
#[derive(Clone)]
pub struct ClientEnv {
    pub ids: Vec<NodeId>,
    pub directory: Directory,
    pub observer: Shared,
    pub history: Arc<Mutex<Vec<Operation>>>,
    pub stop: Arc<AtomicBool>,
}

/// Runs one client until `env.stop` is set.
pub async fn run_client(plan: ClientPlan, env: ClientEnv) {
    let mut rng = ChaCha8Rng::seed_from_u64(plan.seed);
    let mut leader_hint: Option<NodeId> = None;
    // The last value this client saw per key: what its compare-and-sets expect.
    let mut last_seen: Vec<Option<String>> = vec![None; plan.keys.len()];
    let mut seq = 0u64;
    while !env.stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(rng.gen_range(plan.think_ms.clone()))).await;
        if env.stop.load(Ordering::Relaxed) {
            break;
        }
        let k = rng.gen_range(0..plan.keys.len());
        let key = plan.keys[k].clone();
        seq += 1;
        let value = format!("c{}-{seq}", plan.client);
        let input = match rng.gen_range(0..10) {
            0..=4 => Input::Read,
            5..=7 => Input::Write(value),
            _ => Input::Cas { expected: last_seen[k].clone(), new: value },
        };
        let stale = plan.stale_reads && input == Input::Read;
        let target = match leader_hint {
            Some(hint) if !stale && rng.gen_bool(0.85) => hint,
            _ => env.ids[rng.gen_range(0..env.ids.len())],
        };
        let Some(node) = env.directory.get(target) else {
            // A refused connection: nothing was sent.
            leader_hint = None;
            tokio::time::sleep(REFUSED_BACKOFF).await;
            continue;
        };
        let args = command(&key, &input);
        let invoke_ns = {
            let mut observer = env.observer.lock();
            observer.event(format_args!("client {} -> node {target}: {}", plan.client, show(&args)));
            observer.stamp()
        };
        let mut conn = Conn::new(node, format!("sim-client-{}", plan.client), client_addr(target));
        conn.readonly = stale;
        let reply = tokio::time::timeout(CLIENT_TIMEOUT, dispatch(&mut conn, args)).await;
        conn.unregister();
        drop(conn);
        let (outcome, redirect) = match reply {
            Ok(Reply::Frame(frame)) => outcome_of(&input, &frame),
            Ok(Reply::Raw(_)) => (Outcome::Unknown, None),
            Err(_) => (Outcome::Unknown, None),
        };
        if let Some(leader) = redirect {
            leader_hint = Some(leader);
        } else if matches!(outcome, Outcome::Ok(_)) {
            leader_hint = Some(target);
        }
        match &outcome {
            Outcome::Ok(Output::Read(seen)) => last_seen[k] = seen.clone(),
            Outcome::Ok(Output::Write) | Outcome::Ok(Output::Cas(true)) => {
                if let Input::Write(v) | Input::Cas { new: v, .. } = &input {
                    last_seen[k] = Some(v.clone());
                }
            }
            _ => {}
        }
        let complete_ns = {
            let mut observer = env.observer.lock();
            observer.event(format_args!("client {} <- node {target}: {outcome:?}", plan.client));
            observer.stamp()
        };
        let op = Operation { client: plan.client, key, input, invoke_ns, complete_ns, outcome };
        env.history.lock().unwrap_or_else(|p| p.into_inner()).push(op);
    }
}

/// The command for an operation.
fn command(key: &str, input: &Input) -> Vec<Bytes> {
    let words: Vec<&str> = match input {
        Input::Read => vec!["GET", key],
        Input::Write(v) => vec!["SET", key, v],
        Input::Cas { expected: Some(old), new } => vec!["SET", key, new, "IFEQ", old],
        Input::Cas { expected: None, new } => vec!["SET", key, new, "NX"],
    };
    words.into_iter().map(|w| Bytes::from(w.to_string())).collect()
}

fn show(args: &[Bytes]) -> String {
    args.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect::<Vec<_>>().join(" ")
}

/// What a client learns from `frame`, and the leader a MOVED names.
///
/// MOVED, TRYAGAIN and CLUSTERDOWN mean the command was not proposed (or was discarded before
/// commit): it did not happen. UNCERTAIN, and any reply we did not expect, leave it unknown.
pub fn outcome_of(input: &Input, frame: &Frame) -> (Outcome, Option<NodeId>) {
    if let Frame::Error(error) = frame {
        let text = String::from_utf8_lossy(error);
        let mut words = text.split_whitespace();
        return match words.next() {
            Some("MOVED") => (Outcome::Fail, words.nth(1).and_then(node_of_addr)),
            Some("TRYAGAIN" | "CLUSTERDOWN") => (Outcome::Fail, None),
            _ => (Outcome::Unknown, None),
        };
    }
    let output = match (input, frame) {
        (Input::Read, Frame::Bulk(v)) => Output::Read(Some(String::from_utf8_lossy(v).into_owned())),
        (Input::Read, Frame::Null) => Output::Read(None),
        (Input::Write(_), Frame::Simple(s)) if s.as_ref() == b"OK" => Output::Write,
        (Input::Cas { .. }, Frame::Simple(s)) if s.as_ref() == b"OK" => Output::Cas(true),
        (Input::Cas { .. }, Frame::Null) => Output::Cas(false),
        _ => return (Outcome::Unknown, None),
    };
    (Outcome::Ok(output), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_map_to_what_the_client_can_know() {
        let moved = Frame::Error(Bytes::from_static(b"MOVED 1234 sim-node-3:6379"));
        assert_eq!(outcome_of(&Input::Read, &moved), (Outcome::Fail, Some(3)));
        let uncertain = Frame::Error(Bytes::from_static(b"UNCERTAIN the write may or may not have been applied"));
        assert_eq!(outcome_of(&Input::Write("v".into()), &uncertain).0, Outcome::Unknown);
        let cas = Input::Cas { expected: Some("a".into()), new: "b".into() };
        assert_eq!(outcome_of(&cas, &Frame::Null).0, Outcome::Ok(Output::Cas(false)));
        assert_eq!(outcome_of(&cas, &Frame::ok()).0, Outcome::Ok(Output::Cas(true)));
        assert_eq!(outcome_of(&Input::Read, &Frame::Integer(1)).0, Outcome::Unknown);
        assert_eq!(command("k", &cas), ["SET", "k", "b", "IFEQ", "a"].map(|w| Bytes::from(w.to_string())).to_vec());
    }
}
