//! `--follower-mode proxy`: a follower forwards commands that must run on
//! the leader over a connection of its own and relays the reply bytes.

use bytes::{Bytes, BytesMut};
use resp::{Frame, Limits, RespVersion};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::dispatch::Conn;
use crate::error::CommandError;
use crate::node::Reply;

/// A connection to the leader on behalf of one client connection, kept in
/// the client's protocol version and selected database.
pub struct Upstream {
    stream: TcpStream,
    buffer: BytesMut,
    leader_addr: String,
    db: u16,
    resp: RespVersion,
}

fn encode_command(args: &[Bytes]) -> BytesMut {
    let mut out = BytesMut::new();
    Frame::Array(args.iter().cloned().map(Frame::Bulk).collect()).encode(&mut out, RespVersion::Resp2);
    out
}

impl Upstream {
    async fn connect(addr: &str) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Upstream { stream, buffer: BytesMut::new(), leader_addr: addr.to_string(), db: 0, resp: RespVersion::Resp2 })
    }

    /// Sends one command and returns the raw bytes of its reply.
    async fn round_trip(&mut self, args: &[Bytes]) -> std::io::Result<Bytes> {
        self.stream.write_all(&encode_command(args)).await?;
        loop {
            match resp::parse_frame(&self.buffer, &Limits::default()) {
                Ok(Some((_, used))) => return Ok(self.buffer.split_to(used).freeze()),
                Ok(None) => {}
                Err(e) => return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string())),
            }
            if self.stream.read_buf(&mut self.buffer).await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    async fn sync_session(&mut self, db: u16, version: RespVersion) -> std::io::Result<()> {
        if self.resp != version {
            let proto = if version == RespVersion::Resp3 { "3" } else { "2" };
            self.round_trip(&[Bytes::from_static(b"HELLO"), Bytes::from(proto)]).await?;
            self.resp = version;
        }
        if self.db != db {
            self.round_trip(&[Bytes::from_static(b"SELECT"), Bytes::from(db.to_string())]).await?;
            self.db = db;
        }
        Ok(())
    }
}

/// Forwards a command to the leader and relays its reply.
pub async fn proxy(conn: &mut Conn, args: Vec<Bytes>) -> Reply {
    let Some((_, leader)) = conn.node.leader() else {
        return Reply::Frame(
            CommandError::ClusterDown("The cluster is down: no Raft leader is known".into()).to_frame(),
        );
    };
    if leader.client_addr == conn.node.client_addr {
        return Reply::Frame(CommandError::TryAgain("Leadership is changing, retry".into()).to_frame());
    }
    let stale = conn.upstream.as_ref().map(|u| u.leader_addr != leader.client_addr).unwrap_or(true);
    if stale {
        match Upstream::connect(&leader.client_addr).await {
            Ok(upstream) => conn.upstream = Some(upstream),
            Err(e) => {
                return Reply::Frame(CommandError::TryAgain(format!("cannot reach the leader: {e}")).to_frame());
            }
        }
    }
    let (db, version) = (conn.db, conn.resp);
    let Some(upstream) = conn.upstream.as_mut() else {
        return Reply::Frame(CommandError::TryAgain("cannot reach the leader".into()).to_frame());
    };
    if let Err(e) = upstream.sync_session(db, version).await {
        conn.upstream = None;
        return Reply::Frame(CommandError::TryAgain(format!("cannot reach the leader: {e}")).to_frame());
    }
    match upstream.round_trip(&args).await {
        Ok(raw) => Reply::Raw(raw),
        Err(e) => {
            conn.upstream = None;
            // The command was sent: the leader may have run it.
            Reply::Frame(
                CommandError::Uncertain(format!("the leader connection failed after sending the command: {e}"))
                    .to_frame(),
            )
        }
    }
}
