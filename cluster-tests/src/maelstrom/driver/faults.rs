//! The driver's network faults, decided per message from a seeded generator, and the nemesis
//! schedule.
//!
//! As in Maelstrom, faults touch only messages between server nodes: partitions and random
//! drops never lose a client's request or reply (a client would only see a timeout, which
//! tells the checker nothing). Every message, client ones included, gets a random latency.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::register::XorShift;

/// What happens to one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Deliver {
        delay: Duration,
    },
    /// Lost to a partition.
    Blocked,
    /// Lost at random.
    Dropped,
}

/// The network's current faults and the generator deciding drops and delays.
#[derive(Debug, Clone)]
pub struct Faults {
    /// Server pairs `(from, to)` whose messages are lost.
    blocked: BTreeSet<(String, String)>,
    /// Probability that a server-to-server message is lost.
    drop_rate: f64,
    latency_ms_max: u64,
    rng: XorShift,
}

impl Faults {
    /// No partition; `drop_rate` and up to `latency_ms_max` of latency, drawn from `seed`.
    pub fn new(drop_rate: f64, latency_ms_max: u64, seed: u64) -> Faults {
        Faults {
            blocked: BTreeSet::new(),
            drop_rate: drop_rate.clamp(0.0, 1.0),
            latency_ms_max,
            rng: XorShift::new(seed),
        }
    }

    /// Decides the fate of a message from `src` to `dest`; `is_server` tells nodes from clients.
    pub fn route(&mut self, src: &str, dest: &str, is_server: impl Fn(&str) -> bool) -> Route {
        if is_server(src) && is_server(dest) {
            if self.blocked.contains(&(src.to_string(), dest.to_string())) {
                return Route::Blocked;
            }
            // 2^53 steps: exact for any probability a flag can express.
            let draw = (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            if draw < self.drop_rate {
                return Route::Dropped;
            }
        }
        let delay_ms = if self.latency_ms_max == 0 { 0 } else { self.rng.below(self.latency_ms_max + 1) };
        Route::Deliver { delay: Duration::from_millis(delay_ms) }
    }

    /// Cuts every link between a node of `a` and a node of `b`, both ways (added to any
    /// partition already in place).
    pub fn partition(&mut self, a: &[String], b: &[String]) {
        for x in a {
            for y in b {
                self.blocked.insert((x.clone(), y.clone()));
                self.blocked.insert((y.clone(), x.clone()));
            }
        }
    }

    /// Removes every partition (drops and latency stay).
    pub fn heal(&mut self) {
        self.blocked.clear();
    }

    /// Whether any link is cut.
    pub fn partitioned(&self) -> bool {
        !self.blocked.is_empty()
    }
}

/// Which faults the nemesis injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Nemesis {
    /// None: only the configured drops and latency.
    None,
    /// Alternating healthy and partitioned periods: random majority/minority splits and the
    /// leader isolated from everyone, healed before the end.
    Partition,
    /// The last node cut off from the others from the first second to 60% of the run: a
    /// follower that stops hearing writes (which stale reads make visible), then catches up.
    IsolateLast,
}

/// One partition of the schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cut {
    /// These nodes against all the others.
    Minority(Vec<String>),
    /// The node the driver last saw replicating (sending AppendEntries), against the others.
    Leader,
}

/// A partition from `start` to `end` after the workload starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub start: Duration,
    pub end: Duration,
    pub cut: Cut,
}

/// The seeded schedule of partitions for a run of `time_limit` over `nodes`.
pub fn schedule(nemesis: Nemesis, nodes: &[String], time_limit: Duration, seed: u64) -> Vec<Window> {
    let mut rng = XorShift::new(seed ^ 0x6e65_6d65_7369_7321);
    let ms = |v: u64| Duration::from_millis(v);
    match nemesis {
        Nemesis::None => Vec::new(),
        Nemesis::IsolateLast => match nodes.last() {
            Some(last) if nodes.len() > 1 && time_limit > ms(3000) => {
                // The last 40% are healthy: the isolated node has time to rejoin (after an
                // election, as its term ran ahead while it was alone) and catch up.
                let end = (time_limit * 3 / 5).max(ms(2000));
                vec![Window { start: ms(1000), end, cut: Cut::Minority(vec![last.clone()]) }]
            }
            _ => Vec::new(),
        },
        Nemesis::Partition => {
            let mut windows = Vec::new();
            // The last second is healthy, so the run ends with a working cluster.
            let last_end = time_limit.saturating_sub(ms(1000));
            let mut at = ms(1000 + rng.below(1000));
            loop {
                let end = at + ms(1500 + rng.below(2000));
                if end > last_end || nodes.len() < 2 {
                    break;
                }
                let cut = if rng.below(3) == 0 {
                    Cut::Leader
                } else {
                    // A random minority: at least one node, fewer than half.
                    let size = 1 + rng.below(((nodes.len() - 1) / 2).max(1) as u64) as usize;
                    let mut pool: Vec<String> = nodes.to_vec();
                    let mut minority = Vec::with_capacity(size);
                    for _ in 0..size {
                        let i = rng.below(pool.len() as u64) as usize;
                        minority.push(pool.remove(i));
                    }
                    minority.sort();
                    Cut::Minority(minority)
                };
                windows.push(Window { start: at, end, cut });
                at = end + ms(1000 + rng.below(1500));
            }
            windows
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("n{i}")).collect()
    }

    fn is_server(name: &str) -> bool {
        name.starts_with('n')
    }

    #[test]
    fn partitions_cut_server_links_both_ways_but_never_clients() {
        let mut faults = Faults::new(0.0, 0, 1);
        faults.partition(&["n1".into()], &["n2".into(), "n3".into()]);
        assert_eq!(faults.route("n1", "n2", is_server), Route::Blocked);
        assert_eq!(faults.route("n3", "n1", is_server), Route::Blocked);
        assert!(matches!(faults.route("n2", "n3", is_server), Route::Deliver { .. }));
        assert!(matches!(faults.route("c1", "n1", is_server), Route::Deliver { .. }));
        assert!(matches!(faults.route("n1", "c1", is_server), Route::Deliver { .. }));
        faults.heal();
        assert!(!faults.partitioned());
        assert!(matches!(faults.route("n1", "n2", is_server), Route::Deliver { .. }));
    }

    #[test]
    fn drops_hit_only_server_links_at_about_the_rate_and_replay_from_the_seed() {
        let run = |seed: u64| -> Vec<Route> {
            let mut faults = Faults::new(0.3, 20, seed);
            (0..1000).map(|_| faults.route("n1", "n2", is_server)).collect()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let dropped = run(7).iter().filter(|r| **r == Route::Dropped).count();
        assert!((200..400).contains(&dropped), "{dropped} of 1000 dropped at p=0.3");
        assert!(run(7).iter().all(|r| match r {
            Route::Deliver { delay } => *delay <= Duration::from_millis(20),
            _ => true,
        }));
        let mut faults = Faults::new(1.0, 0, 1);
        assert!((0..100).all(|_| matches!(faults.route("c1", "n1", is_server), Route::Deliver { .. })));
    }

    #[test]
    fn partition_schedules_replay_leave_the_end_healthy_and_keep_a_majority() {
        let nodes = names(5);
        let limit = Duration::from_secs(20);
        let windows = schedule(Nemesis::Partition, &nodes, limit, 42);
        assert_eq!(windows, schedule(Nemesis::Partition, &nodes, limit, 42));
        assert!(windows.len() >= 2, "{windows:?}");
        for pair in windows.windows(2) {
            assert!(pair[0].end < pair[1].start, "windows overlap: {pair:?}");
        }
        for w in &windows {
            assert!(w.start < w.end && w.end <= limit - Duration::from_secs(1));
            if let Cut::Minority(minority) = &w.cut {
                assert!(!minority.is_empty() && minority.len() <= 2, "{minority:?} is not a minority of 5");
            }
        }
        assert!(schedule(Nemesis::None, &nodes, limit, 42).is_empty());
        let isolated = schedule(Nemesis::IsolateLast, &nodes, limit, 42);
        assert_eq!(isolated[0].cut, Cut::Minority(vec!["n5".into()]));
    }
}
