//! One client connection: read requests, run them in order, write replies.
//!
//! Requests that arrive together (a pipeline) are grouped: consecutive
//! writes become one Raft entry and consecutive reads share one leadership
//! confirmation, so a pipeline of N commands costs one fsync round or one
//! heartbeat round instead of N. Replies still come back in request order.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use resp::{Frame, Limits, RespVersion};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::dispatch::{self, Conn};
use crate::node::{Node, Reply};

/// Requests parsed from one read before they are run: bounds the work and
/// the reply buffer a single client can pile up.
pub const PIPELINE_DEPTH_MAX: usize = 1024;
/// A run of pipelined writes stops growing at this many bytes, so one Raft
/// entry stays far below the transport's message limit.
const GROUP_BYTES_MAX: usize = 1024 * 1024;
const READ_CHUNK_BYTES: usize = 64 * 1024;

/// Serves one client until it disconnects, sends QUIT or breaks the protocol.
pub async fn serve(node: Arc<Node>, mut stream: TcpStream, peer: String, local: String) {
    let _ = stream.set_nodelay(true);
    let mut conn = Conn::new(node.clone(), peer, local);
    let limits = Limits::default();
    let mut input = BytesMut::with_capacity(READ_CHUNK_BYTES);
    let mut output = BytesMut::with_capacity(READ_CHUNK_BYTES);
    'connection: loop {
        let mut requests = Vec::new();
        let mut protocol_error = None;
        loop {
            if requests.len() >= PIPELINE_DEPTH_MAX {
                break;
            }
            match resp::parse_request_bytes(&mut input, &limits) {
                Ok(Some(args)) if args.is_empty() => continue,
                Ok(Some(args)) => requests.push(args),
                Ok(None) => break,
                Err(e) => {
                    protocol_error = Some(e);
                    break;
                }
            }
        }
        if requests.is_empty() && protocol_error.is_none() {
            if input.capacity() - input.len() < READ_CHUNK_BYTES / 4 {
                input.reserve(READ_CHUNK_BYTES);
            }
            let read = tokio::select! {
                read = stream.read_buf(&mut input) => read,
                () = node.client_control.killed(conn.id) => break 'connection,
            };
            match read {
                Ok(0) | Err(_) => break 'connection,
                Ok(n) => {
                    node.stats.net_input_bytes.fetch_add(n as u64, Ordering::Relaxed);
                    continue;
                }
            }
        }
        let replies = run_pipeline(&mut conn, requests).await;
        let version = conn.resp;
        for reply in replies {
            encode_reply(&reply, &mut output, version);
        }
        if let Some(e) = protocol_error {
            // Like Redis: report the protocol error, then close, because
            // the stream can no longer be split into requests reliably.
            Frame::Error(format!("ERR {e}").into()).encode(&mut output, conn.resp);
            conn.closing = true;
        }
        if !output.is_empty() {
            node.stats.net_output_bytes.fetch_add(output.len() as u64, Ordering::Relaxed);
            if stream.write_all(&output).await.is_err() {
                break;
            }
            output.clear();
        }
        if conn.closing || node.client_control.kill_requested(conn.id) {
            break;
        }
    }
    conn.unregister();
    node.client_control.forget(conn.id);
}

fn encode_reply(reply: &Reply, output: &mut BytesMut, version: RespVersion) {
    match reply {
        Reply::Frame(frame) => frame.encode(output, version),
        Reply::Raw(bytes) => output.extend_from_slice(bytes),
    }
}

/// What kind of group a request can join.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Write,
    Read,
    Other,
}

fn kind_of(conn: &Conn, args: &[Bytes]) -> Kind {
    if conn.in_multi() || conn.proxying() {
        return Kind::Other;
    }
    match dispatch::groupable(args) {
        Some(true) => Kind::Write,
        Some(false) => Kind::Read,
        None => Kind::Other,
    }
}

/// Queues a reply unless the client switched replies off (CLIENT REPLY),
/// which it may do in the middle of a pipeline.
fn keep(conn: &Conn, replies: &mut Vec<Reply>, reply: Reply) {
    if conn.node.client_control.reply_wanted(conn.id) {
        replies.push(reply);
    }
}

fn args_bytes(args: &[Bytes]) -> usize {
    args.iter().map(|a| a.len()).sum()
}

/// Runs the requests of one read in order, grouping where it can.
async fn run_pipeline(conn: &mut Conn, requests: Vec<Vec<Bytes>>) -> Vec<Reply> {
    let mut replies = Vec::with_capacity(requests.len());
    let mut requests = requests.into_iter().peekable();
    while let Some(first) = requests.next() {
        conn.node.count_command();
        conn.note_command(&first, Instant::now());
        let kind = kind_of(conn, &first);
        if kind == Kind::Other {
            let reply = dispatch::dispatch(conn, first).await;
            keep(conn, &mut replies, reply);
            if conn.closing {
                break;
            }
            continue;
        }
        let mut group_bytes = args_bytes(&first);
        let mut group = vec![first];
        while let Some(next) = requests.peek() {
            if kind_of(conn, next) != kind || group_bytes >= GROUP_BYTES_MAX {
                break;
            }
            group_bytes += args_bytes(next);
            conn.node.count_command();
            group.extend(requests.next());
        }
        if group.len() == 1 {
            let only = group.pop().expect("group has one request");
            let reply = dispatch::dispatch(conn, only).await;
            keep(conn, &mut replies, reply);
        } else {
            let group_replies = if kind == Kind::Write {
                dispatch::write_group(conn, group).await
            } else {
                dispatch::read_group(conn, group).await
            };
            for reply in group_replies {
                keep(conn, &mut replies, reply);
            }
        }
    }
    replies
}
