//! Runs proposed commands inside the state machine's apply.
//!
//! This code runs on every replica for every committed entry, so it may use
//! only what the entry carries: the commands, the leader's time (through the
//! keyspace), the seed, and the keyspace itself.

use bytes::Bytes;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use resp::Frame;
use storage::state_machine::Executor;
use storage::{ApplyTxn, CommandBatch, DbIndex, Keyspace, Response, TxnGuard};

use crate::commands::{self, Ctx, Handler};
use crate::error::{unknown_command, CommandError};

/// The node's executor: looks commands up in the command table.
pub struct NodeExecutor {
    pub db_count: u16,
}

/// Whether a transaction's WATCHed keys are unchanged since they were read.
pub fn watches_hold(ks: &dyn Keyspace, guard: &TxnGuard) -> Result<bool, CommandError> {
    for watched in &guard.watches {
        if ks.flush_index(watched.db)? > guard.watch_index {
            return Ok(false);
        }
        let current = ks.get(watched.db, &watched.key)?;
        let unchanged = match (&current, watched.existed) {
            (None, false) => true,
            (Some(value), true) => value.header.modified_index == watched.modified_index,
            _ => false,
        };
        if !unchanged {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Runs one command of a batch. SELECT, PING and ECHO are the only
/// connection commands that can be inside a proposed batch (queued in MULTI);
/// they run here so their replies take their place in the EXEC array.
pub fn run_command(
    ks: &mut dyn Keyspace,
    db: &mut DbIndex,
    db_count: u16,
    resp3: bool,
    rng: &mut ChaCha8Rng,
    args: &[Bytes],
) -> Frame {
    let Some(name) = args.first() else { return CommandError::err("empty command").to_frame() };
    let Some(spec) = commands::lookup(name) else { return unknown_command(args).to_frame() };
    if !spec.arity_ok(args.len()) {
        return CommandError::WrongArity(spec.name.to_string()).to_frame();
    }
    let result = match spec.handler {
        Handler::Data(handler) => {
            let mut ctx = Ctx { ks, db: *db, db_count, resp3, rng };
            handler(&mut ctx, args)
        }
        Handler::Session => match spec.name {
            "select" => crate::session::parse_select(args, db_count).map(|index| {
                *db = index;
                Frame::ok()
            }),
            "ping" if args.len() > 2 => Err(CommandError::WrongArity("ping".into())),
            "ping" => Ok(crate::session::ping_reply(args, false)),
            "echo" => Ok(Frame::Bulk(args[1].clone())),
            other => Err(CommandError::err(format!("'{other}' cannot be part of a replicated batch"))),
        },
    };
    result.unwrap_or_else(|e| e.to_frame())
}

impl Executor for NodeExecutor {
    fn execute(&self, txn: &mut ApplyTxn<'_>, batch: &CommandBatch) -> Response {
        let mut rng = ChaCha8Rng::seed_from_u64(batch.seed);
        let mut db = batch.db;
        if let Some(guard) = &batch.transaction {
            match watches_hold(txn, guard) {
                Ok(true) => {}
                Ok(false) => return Response { frame: Some(Frame::NullArray), db_after: None },
                Err(e) => return Response { frame: Some(e.to_frame()), db_after: None },
            }
        }
        let mut replies = Vec::with_capacity(batch.commands.len());
        for args in &batch.commands {
            // A bug that panics in command code would otherwise crash the
            // node at this entry on every restart, on every replica. The
            // panic is deterministic, so turning it into an error reply keeps
            // replicas identical and the cluster available.
            let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run_command(&mut *txn, &mut db, self.db_count, batch.resp3, &mut rng, args)
            }));
            replies.push(ran.unwrap_or_else(|_| {
                tracing::error!(command = ?args.first(), "a command panicked while being applied");
                CommandError::err("internal error while applying the command").to_frame()
            }));
        }
        let frame =
            if batch.transaction.is_none() && replies.len() == 1 { replies.pop() } else { Some(Frame::Array(replies)) };
        Response { frame, db_after: Some(db) }
    }
}
