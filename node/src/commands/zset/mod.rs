//! The sorted set commands (Z*), with Redis 7.2's replies and errors.
//!
//! # Layout
//! - [`store`]: how a sorted set is stored (a member index and a score
//!   index under one generation) and the operations the commands are made
//!   of: [`store::ZSet`] with `put`, `remove`, `score`, range walks by score,
//!   rank and lex. The GEO commands build on the same API.
//! - [`score`]: scores as Redis parses (`strtod`) and prints them, and the
//!   score and lex range arguments.
//! - [`read`]: ZCARD, ZSCORE, ZMSCORE, ZRANK/ZREVRANK, ZCOUNT, ZLEXCOUNT, the
//!   ZRANGE family (and ZRANGESTORE), ZRANDMEMBER, ZSCAN.
//! - [`write`]: ZADD, ZINCRBY, ZREM, ZREMRANGEBY*, ZPOPMIN/ZPOPMAX, ZMPOP.
//! - [`setops`]: ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD.
//!
//! Replies follow Redis's shapes per protocol: WITHSCORES lists are flat in
//! RESP2 and `[member, score]` pairs in RESP3; scores print as the
//! reference server prints them (see [`score::format_score`]).
//!
//! Not here: the blocking forms (BZPOPMIN, BZPOPMAX, BZMPOP).

pub(crate) mod read;
pub(crate) mod score;
pub(crate) mod setops;
pub(crate) mod store;
pub(crate) mod write;

use resp::Frame;
use storage::StoredValue;

use self::store::{encoding, Scored, LISTPACK_ENTRIES_MAX};
use super::{CommandSpec, DataHandler, Flags, Group};

/// The name `OBJECT ENCODING` gives a sorted set value.
pub fn encoding_name(value: &StoredValue) -> &'static str {
    let too_long = value.collection().is_ok_and(|meta| meta.len > LISTPACK_ENTRIES_MAX);
    if value.header.encoding == encoding::SKIPLIST || too_long {
        "skiplist"
    } else {
        "listpack"
    }
}

/// Members, with their scores if asked, shaped like Redis's range replies:
/// flat `member score ...` in RESP2, `[member, score]` pairs in RESP3.
pub(crate) fn scored_reply(resp3: bool, items: Vec<Scored>, withscores: bool) -> Frame {
    if !withscores {
        return Frame::Array(items.into_iter().map(|s| Frame::Bulk(s.member)).collect());
    }
    if resp3 {
        return Frame::Array(
            items.into_iter().map(|s| Frame::Array(vec![Frame::Bulk(s.member), score::score_frame(s.score)])).collect(),
        );
    }
    let mut flat = Vec::with_capacity(items.len() * 2);
    for s in items {
        flat.push(Frame::Bulk(s.member));
        flat.push(score::score_frame(s.score));
    }
    Frame::Array(flat)
}

const fn spec(
    name: &'static str,
    arity: i32,
    flags: Flags,
    keys: (i32, i32, i32),
    since: &'static str,
    summary: &'static str,
    handler: DataHandler,
) -> CommandSpec {
    CommandSpec::data(Group::SortedSet, name, arity, flags, keys, since, summary, handler)
}

const READ: Flags = Flags::READONLY;
const READ_FAST: Flags = Flags::READONLY.union(Flags::FAST);
const WRITE: Flags = Flags::WRITE;
const WRITE_FAST: Flags = Flags::WRITE.union(Flags::FAST);
const WRITE_DENYOOM: Flags = Flags::WRITE.union(Flags::DENYOOM);
const WRITE_DENYOOM_FAST: Flags = Flags::WRITE.union(Flags::DENYOOM).union(Flags::FAST);
const ONE_KEY: (i32, i32, i32) = (1, 1, 1);
/// Commands whose keys follow a `numkeys` argument: Redis reports no fixed
/// key positions (they are "movablekeys").
const MOVABLE: (i32, i32, i32) = (0, 0, 0);

/// Summaries are Redis 7.2's.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "zadd",
        -4,
        WRITE_DENYOOM_FAST,
        ONE_KEY,
        "1.2.0",
        "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.",
        write::zadd,
    ),
    spec("zcard", 2, READ_FAST, ONE_KEY, "1.2.0", "Returns the number of members in a sorted set.", read::zcard),
    spec(
        "zcount",
        4,
        READ_FAST,
        ONE_KEY,
        "2.0.0",
        "Returns the count of members in a sorted set that have scores within a range.",
        read::zcount,
    ),
    spec("zdiff", -3, READ, MOVABLE, "6.2.0", "Returns the difference between multiple sorted sets.", setops::zdiff),
    spec(
        "zdiffstore",
        -4,
        WRITE_DENYOOM,
        ONE_KEY,
        "6.2.0",
        "Stores the difference of multiple sorted sets in a key.",
        setops::zdiffstore,
    ),
    spec("zincrby", 4, WRITE_DENYOOM_FAST, ONE_KEY, "1.2.0", "Increments the score of a member in a sorted set.", write::zincrby),
    spec("zinter", -3, READ, MOVABLE, "6.2.0", "Returns the intersect of multiple sorted sets.", setops::zinter),
    spec(
        "zintercard",
        -3,
        READ,
        MOVABLE,
        "7.0.0",
        "Returns the number of members of the intersect of multiple sorted sets.",
        setops::zintercard,
    ),
    spec(
        "zinterstore",
        -4,
        WRITE_DENYOOM,
        ONE_KEY,
        "2.0.0",
        "Stores the intersect of multiple sorted sets in a key.",
        setops::zinterstore,
    ),
    spec(
        "zlexcount",
        4,
        READ_FAST,
        ONE_KEY,
        "2.8.9",
        "Returns the number of members in a sorted set within a lexicographical range.",
        read::zlexcount,
    ),
    spec(
        "zmpop",
        -4,
        WRITE,
        MOVABLE,
        "7.0.0",
        "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.",
        write::zmpop,
    ),
    spec("zmscore", -3, READ_FAST, ONE_KEY, "6.2.0", "Returns the score of one or more members in a sorted set.", read::zmscore),
    spec(
        "zpopmax",
        -2,
        WRITE_FAST,
        ONE_KEY,
        "5.0.0",
        "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.",
        write::zpopmax,
    ),
    spec(
        "zpopmin",
        -2,
        WRITE_FAST,
        ONE_KEY,
        "5.0.0",
        "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.",
        write::zpopmin,
    ),
    spec(
        "zrandmember",
        -2,
        READ,
        ONE_KEY,
        "6.2.0",
        "Returns one or more random members from a sorted set.",
        read::zrandmember,
    ),
    spec("zrange", -4, READ, ONE_KEY, "1.2.0", "Returns members in a sorted set within a range of indexes.", read::zrange),
    spec(
        "zrangebylex",
        -4,
        READ,
        ONE_KEY,
        "2.8.9",
        "Returns members in a sorted set within a lexicographical range.",
        read::zrangebylex,
    ),
    spec(
        "zrangebyscore",
        -4,
        READ,
        ONE_KEY,
        "1.0.5",
        "Returns members in a sorted set within a range of scores.",
        read::zrangebyscore,
    ),
    spec(
        "zrangestore",
        -5,
        WRITE_DENYOOM,
        (1, 2, 1),
        "6.2.0",
        "Stores a range of members from sorted set in a key.",
        read::zrangestore,
    ),
    spec(
        "zrank",
        -3,
        READ_FAST,
        ONE_KEY,
        "2.0.0",
        "Returns the index of a member in a sorted set ordered by ascending scores.",
        read::zrank,
    ),
    spec(
        "zrem",
        -3,
        WRITE_FAST,
        ONE_KEY,
        "1.2.0",
        "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.",
        write::zrem,
    ),
    spec(
        "zremrangebylex",
        4,
        WRITE,
        ONE_KEY,
        "2.8.9",
        "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.",
        write::zremrangebylex,
    ),
    spec(
        "zremrangebyrank",
        4,
        WRITE,
        ONE_KEY,
        "2.0.0",
        "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.",
        write::zremrangebyrank,
    ),
    spec(
        "zremrangebyscore",
        4,
        WRITE,
        ONE_KEY,
        "1.2.0",
        "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.",
        write::zremrangebyscore,
    ),
    spec(
        "zrevrange",
        -4,
        READ,
        ONE_KEY,
        "1.2.0",
        "Returns members in a sorted set within a range of indexes in reverse order.",
        read::zrevrange,
    ),
    spec(
        "zrevrangebylex",
        -4,
        READ,
        ONE_KEY,
        "2.8.9",
        "Returns members in a sorted set within a lexicographical range in reverse order.",
        read::zrevrangebylex,
    ),
    spec(
        "zrevrangebyscore",
        -4,
        READ,
        ONE_KEY,
        "2.2.0",
        "Returns members in a sorted set within a range of scores in reverse order.",
        read::zrevrangebyscore,
    ),
    spec(
        "zrevrank",
        -3,
        READ_FAST,
        ONE_KEY,
        "2.0.0",
        "Returns the index of a member in a sorted set ordered by descending scores.",
        read::zrevrank,
    ),
    spec("zscan", -3, READ, ONE_KEY, "2.8.0", "Iterates over members and scores of a sorted set.", read::zscan),
    spec("zscore", 3, READ_FAST, ONE_KEY, "1.2.0", "Returns the score of a member in a sorted set.", read::zscore),
    spec("zunion", -3, READ, MOVABLE, "6.2.0", "Returns the union of multiple sorted sets.", setops::zunion),
    spec(
        "zunionstore",
        -4,
        WRITE_DENYOOM,
        ONE_KEY,
        "2.0.0",
        "Stores the union of multiple sorted sets in a key.",
        setops::zunionstore,
    ),
];

#[cfg(test)]
mod tests;
