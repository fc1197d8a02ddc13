//! Faults a running node can be told to inject into its own storage, for fault tests against
//! real processes (`DEBUG FSYNC-DELAY` in the node crate).
//!
//! These are process-wide atomics rather than `fail` crate failpoints: a fault test drives
//! separate `redraft server` processes over the wire, at runtime, so the switch must be built
//! into the normal binary and be cheap when off (one relaxed load per synced write).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The largest delay [`set_fsync_delay_ms`] accepts: one minute, long enough to stall a node
/// past any election timeout, short enough that a forgotten delay does not hang it for good.
pub const FSYNC_DELAY_MS_MAX: u64 = 60_000;

/// Milliseconds to wait before each synced write of the Raft log; 0 is off.
static FSYNC_DELAY_MS: AtomicU64 = AtomicU64::new(0);

/// Makes every later synced write of the Raft log (appends, votes, truncations) wait `delay_ms`
/// first, as a slow disk would; 0 turns the delay off. Values above [`FSYNC_DELAY_MS_MAX`] are
/// capped to it.
pub fn set_fsync_delay_ms(delay_ms: u64) {
    FSYNC_DELAY_MS.store(delay_ms.min(FSYNC_DELAY_MS_MAX), Ordering::Relaxed);
}

/// The current delay of synced writes, in milliseconds.
pub fn fsync_delay_ms() -> u64 {
    FSYNC_DELAY_MS.load(Ordering::Relaxed)
}

/// Sleeps for the configured delay; called by the log writer thread right before a synced write.
/// Blocking is what a slow fsync does to that thread, and nothing else runs on it.
pub(crate) fn before_synced_write() {
    let delay_ms = fsync_delay_ms();
    if delay_ms > 0 {
        std::thread::sleep(Duration::from_millis(delay_ms));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[test]
    fn the_delay_is_capped_applied_and_turned_off() {
        set_fsync_delay_ms(u64::MAX);
        assert_eq!(fsync_delay_ms(), FSYNC_DELAY_MS_MAX);
        set_fsync_delay_ms(30);
        let started = Instant::now();
        before_synced_write();
        assert!(started.elapsed() >= Duration::from_millis(30));
        set_fsync_delay_ms(0);
        assert_eq!(fsync_delay_ms(), 0);
    }
}
