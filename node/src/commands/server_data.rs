//! The server commands that touch the keyspace: DBSIZE, FLUSHDB, FLUSHALL,
//! and TIME, whose clock is the keyspace view's.
//!
//! They live apart from the connection-level server commands (INFO,
//! CONFIG, ...) because they are ordinary data commands: FLUSHDB and
//! FLUSHALL go through Raft like any write, and TIME reads the same clock
//! that judges expiry, so `TIME` and `TTL` never disagree on one node.

use bytes::Bytes;
use resp::Frame;

use super::expire::opt_is;
use super::{CommandSpec, Ctx, Flags, Group};
use crate::error::CommandError;

/// `DBSIZE`: keys in the selected database, counting expired keys that have
/// not been purged yet (as Redis does).
fn dbsize(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Result<Frame, CommandError> {
    let size = ctx.ks.db_size(ctx.db)?;
    Ok(Frame::Integer(i64::try_from(size).unwrap_or(i64::MAX)))
}

/// FLUSHDB and FLUSHALL take `ASYNC` or `SYNC`. Both mean the same here: a
/// flush is one range delete in the apply batch, finished when applied.
fn check_flush_mode(args: &[Bytes]) -> Result<(), CommandError> {
    match args {
        [_] => Ok(()),
        [_, mode] if opt_is(mode, "sync") || opt_is(mode, "async") => Ok(()),
        _ => Err(CommandError::Syntax),
    }
}

/// `FLUSHDB [ASYNC | SYNC]`
fn flushdb(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    check_flush_mode(args)?;
    ctx.ks.flush_db(ctx.db)?;
    Ok(Frame::ok())
}

/// `FLUSHALL [ASYNC | SYNC]`: every database, 0 to `db_count - 1`.
fn flushall(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<Frame, CommandError> {
    check_flush_mode(args)?;
    for db in 0..ctx.db_count {
        ctx.ks.flush_db(db)?;
    }
    Ok(Frame::ok())
}

/// `TIME`: seconds and microseconds, as two bulk strings. The clock has
/// millisecond resolution, so the microseconds are a multiple of 1000.
fn time(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Result<Frame, CommandError> {
    let now_ms = ctx.ks.now_ms();
    Ok(Frame::Array(vec![
        Frame::Bulk(Bytes::from((now_ms / 1000).to_string())),
        Frame::Bulk(Bytes::from((now_ms % 1000 * 1000).to_string())),
    ]))
}

const fn spec(
    name: &'static str,
    arity: i32,
    flags: Flags,
    since: &'static str,
    summary: &'static str,
    handler: super::DataHandler,
) -> CommandSpec {
    CommandSpec::data(Group::Server, name, arity, flags, (0, 0, 0), since, summary, handler)
}

pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "dbsize",
        1,
        Flags::READONLY.union(Flags::FAST),
        "1.0.0",
        "Returns the number of keys in the database.",
        dbsize,
    ),
    spec("flushdb", -1, Flags::WRITE, "1.0.0", "Remove all keys from the current database.", flushdb),
    spec("flushall", -1, Flags::WRITE, "1.0.0", "Removes all keys from all databases.", flushall),
    // Redis: loading stale fast. READONLY makes it a data command run on a
    // read view, whose clock is the node's.
    spec(
        "time",
        1,
        Flags::READONLY.union(Flags::LOADING).union(Flags::STALE).union(Flags::FAST),
        "2.6.0",
        "Returns the server time.",
        time,
    ),
];

#[cfg(test)]
mod tests {
    use crate::commands::testing::{array, bulk, err, int, ok, TestKeyspace, START_MS};

    #[test]
    fn dbsize_counts_the_selected_database() {
        let mut ks = TestKeyspace::new();
        assert_eq!(ks.exec(&["DBSIZE"]), int(0));
        ks.exec(&["MSET", "a", "1", "b", "2"]);
        assert_eq!(ks.exec(&["DBSIZE"]), int(2));
        ks.exec(&["SELECT", "1"]);
        assert_eq!(ks.exec(&["DBSIZE"]), int(0));
        assert_eq!(ks.exec(&["DBSIZE", "x"]), err("ERR wrong number of arguments for 'dbsize' command"));
    }

    #[test]
    fn flushdb_empties_one_database_and_flushall_every_one() {
        let mut ks = TestKeyspace::new();
        ks.exec(&["SET", "a", "1"]);
        ks.exec(&["SELECT", "5"]);
        ks.exec(&["SET", "b", "1"]);
        assert_eq!(ks.exec(&["FLUSHDB", "ASYNC"]), ok());
        assert_eq!(ks.exec(&["DBSIZE"]), int(0));
        ks.exec(&["SET", "b", "1"]);
        ks.exec(&["SELECT", "0"]);
        assert_eq!(ks.exec(&["DBSIZE"]), int(1), "FLUSHDB left db 0 alone");
        assert_eq!(ks.exec(&["FLUSHDB", "now"]), err("ERR syntax error"));
        assert_eq!(ks.exec(&["FLUSHALL", "SYNC", "x"]), err("ERR syntax error"));
        assert_eq!(ks.exec(&["FLUSHALL"]), ok());
        assert_eq!(ks.exec(&["DBSIZE"]), int(0));
        ks.exec(&["SELECT", "5"]);
        assert_eq!(ks.exec(&["DBSIZE"]), int(0));
        assert_eq!(ks.exec(&["GET", "b"]), resp::Frame::Null);
    }

    #[test]
    fn time_reports_the_view_clock_in_seconds_and_microseconds() {
        let mut ks = TestKeyspace::new();
        ks.now_ms = START_MS + 1_234;
        let seconds = (START_MS / 1000 + 1).to_string();
        assert_eq!(ks.exec(&["TIME"]), array(vec![bulk(&seconds), bulk("234000")]));
    }
}
