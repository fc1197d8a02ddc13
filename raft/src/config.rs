//! openraft's configuration with Redraft's production values.

use openraft::{Config, SnapshotPolicy};

/// The leader's heartbeat interval. openraft also uses it as the deadline of
/// each AppendEntries RPC, so it must cover a full batch on a busy network.
pub const HEARTBEAT_INTERVAL_MS: u64 = 100;

/// The randomized election timeout range. A follower that hears nothing for
/// this long stands for election: with the leader killed, a new one is
/// elected in at most `ELECTION_TIMEOUT_MAX_MS` plus one round of votes,
/// well within the 3 s we promise clients. The lower bound is three
/// heartbeats, so one or two lost heartbeats do not unseat a healthy leader.
pub const ELECTION_TIMEOUT_MIN_MS: u64 = 300;
pub const ELECTION_TIMEOUT_MAX_MS: u64 = 600;

/// Entries per AppendEntries RPC. With commands of a few hundred bytes a full
/// batch is well under `codec::MESSAGE_BYTES_MAX`; a larger one is split
/// by openraft when the client reports `PayloadTooLarge`.
pub const MAX_PAYLOAD_ENTRIES: u64 = 1024;

/// Build a snapshot every this many applied entries: bounds the log on disk
/// and how much a restarted node replays.
pub const SNAPSHOT_LOGS_SINCE_LAST: u64 = 100_000;

/// Entries already in a snapshot that are kept anyway, so a follower lagging
/// by less than this catches up from the log instead of a full snapshot.
pub const MAX_IN_SNAPSHOT_LOG_TO_KEEP: u64 = 1000;

/// Purge the log in batches: each purge is a RocksDB range delete, cheap in
/// itself but not worth issuing per entry.
pub const PURGE_BATCH_SIZE: u64 = 256;

/// The deadline openraft passes for sending a whole snapshot. The client
/// extends it with the file size (see `client::SNAPSHOT_BYTES_PER_SEC_MIN`).
pub const INSTALL_SNAPSHOT_TIMEOUT_MS: u64 = 10_000;

/// A follower lagging by more than this is sent a snapshot instead of
/// entries. Above `SNAPSHOT_LOGS_SINCE_LAST`, as openraft requires for a
/// snapshot to be able to fix the lag.
pub const REPLICATION_LAG_THRESHOLD: u64 = SNAPSHOT_LOGS_SINCE_LAST + MAX_IN_SNAPSHOT_LOG_TO_KEEP;

/// Redraft's openraft configuration for a cluster called `cluster_name`,
/// validated. Callers may adjust fields (tests shorten the snapshot policy)
/// and should call `validate()` again if they do.
///
/// # Panics
/// If openraft rejects these constants: a programming error, which the unit
/// test below catches first.
pub fn raft_config(cluster_name: &str) -> Config {
    Config {
        cluster_name: cluster_name.to_string(),
        heartbeat_interval: HEARTBEAT_INTERVAL_MS,
        election_timeout_min: ELECTION_TIMEOUT_MIN_MS,
        election_timeout_max: ELECTION_TIMEOUT_MAX_MS,
        install_snapshot_timeout: INSTALL_SNAPSHOT_TIMEOUT_MS,
        max_payload_entries: MAX_PAYLOAD_ENTRIES,
        replication_lag_threshold: REPLICATION_LAG_THRESHOLD,
        snapshot_policy: SnapshotPolicy::LogsSinceLast(SNAPSHOT_LOGS_SINCE_LAST),
        max_in_snapshot_log_to_keep: MAX_IN_SNAPSHOT_LOG_TO_KEEP,
        purge_batch_size: PURGE_BATCH_SIZE,
        ..Config::default()
    }
    .validate()
    .expect("Redraft's Raft constants are a valid openraft configuration")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_config_is_valid_and_elects_within_three_seconds() {
        let config = raft_config("redraft");
        assert!(config.heartbeat_interval < config.election_timeout_min);
        assert!(config.election_timeout_max < 3_000 / 2, "two election rounds must fit in 3 s");
        assert!(config.replication_lag_threshold > SNAPSHOT_LOGS_SINCE_LAST);
    }
}
