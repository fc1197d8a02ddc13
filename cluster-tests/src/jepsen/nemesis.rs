//! The nemesis: which faults exist, a seeded schedule of fault windows, and applying them to a
//! [`TestCluster`] from the thread that owns it.
//!
//! A schedule is a pure function of the fault kinds, the seed and the time limit, so the same
//! seed replays the same faults at the same offsets. Targets that do not depend on the cluster's
//! state (which node to kill, which side of a split) come from each window's `pick`; targets
//! that do (the leader) are resolved when the window opens and recorded in the run's output.
//!
//! Membership changes are not a fault kind: Redraft has no online membership change yet, so
//! `--nemesis membership` is refused with that reason.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::client::error_text;
use crate::harness::{info_number, NodeId, TestCluster};
use crate::register::XorShift;

/// Mixed into the run's seed, so the schedule's stream differs from the clients' streams.
const SCHEDULE_SALT: u64 = 0x006e_656d_6573_6973;
/// How long a fault lasts, in milliseconds (`min..max`).
const FAULT_MS: (u64, u64) = (2_500, 5_000);
/// Quiet time after a fault is healed, before the next one (`min..max`): enough for an election
/// and for the history to show the recovery.
const QUIET_MS: (u64, u64) = (1_500, 3_500);
/// Slowest fsync delay a slow-disk fault sets, in milliseconds; the fastest is a tenth of it.
const SLOW_DISK_MS_MAX: u64 = 500;
/// How often a waiting nemesis looks at the stop flag.
const STOP_POLL: Duration = Duration::from_millis(50);

/// One kind of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// kill -9 one node, restart it when the window ends.
    KillOne,
    /// kill -9 a minority of the nodes at once.
    KillMinority,
    /// kill -9 every node at once.
    KillAll,
    /// SIGSTOP one node, SIGCONT it when the window ends.
    PauseOne,
    /// SIGSTOP the leader.
    PauseLeader,
    /// Split the Raft links into a minority and a majority side.
    PartitionHalves,
    /// Cut every Raft link of the leader.
    PartitionLeader,
    /// Two sides that cannot talk, and one node that talks to both (5 nodes).
    PartitionBridge,
    /// Block the leader's outgoing Raft connections only: it still hears the others.
    PartitionOneWay,
    /// CLUSTER FAILOVER on a replica: a new election while everything is healthy.
    LeaderChange,
    /// DEBUG FSYNC-DELAY on a minority of the nodes, the leader first.
    SlowDiskMinority,
    /// DEBUG FSYNC-DELAY on every node.
    SlowDiskAll,
}

impl FaultKind {
    /// Every kind, in the order `--nemesis all` lists them.
    pub const ALL: [FaultKind; 12] = [
        FaultKind::KillOne,
        FaultKind::KillMinority,
        FaultKind::KillAll,
        FaultKind::PauseOne,
        FaultKind::PauseLeader,
        FaultKind::PartitionHalves,
        FaultKind::PartitionLeader,
        FaultKind::PartitionBridge,
        FaultKind::PartitionOneWay,
        FaultKind::LeaderChange,
        FaultKind::SlowDiskMinority,
        FaultKind::SlowDiskAll,
    ];

    /// The name used by `--nemesis` and in every output.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::KillOne => "kill-one",
            FaultKind::KillMinority => "kill-minority",
            FaultKind::KillAll => "kill-all",
            FaultKind::PauseOne => "pause-one",
            FaultKind::PauseLeader => "pause-leader",
            FaultKind::PartitionHalves => "partition-halves",
            FaultKind::PartitionLeader => "partition-leader",
            FaultKind::PartitionBridge => "partition-bridge",
            FaultKind::PartitionOneWay => "partition-one-way",
            FaultKind::LeaderChange => "leader-change",
            FaultKind::SlowDiskMinority => "slow-disk-minority",
            FaultKind::SlowDiskAll => "slow-disk-all",
        }
    }

    /// The kind called `name`.
    pub fn from_name(name: &str) -> Option<FaultKind> {
        FaultKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The fewest nodes the fault makes sense with: a bridge needs two sides of two.
    pub fn nodes_min(self) -> usize {
        match self {
            FaultKind::PartitionBridge => 5,
            _ => 3,
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Groups `--nemesis` accepts besides single kinds.
const GROUPS: &[(&str, &[FaultKind])] = &[
    ("kills", &[FaultKind::KillOne, FaultKind::KillMinority, FaultKind::KillAll]),
    ("pauses", &[FaultKind::PauseOne, FaultKind::PauseLeader]),
    (
        "partitions",
        &[
            FaultKind::PartitionHalves,
            FaultKind::PartitionLeader,
            FaultKind::PartitionBridge,
            FaultKind::PartitionOneWay,
        ],
    ),
    ("slow-disk", &[FaultKind::SlowDiskMinority, FaultKind::SlowDiskAll]),
];

/// Faults the issue asks for that Redraft cannot undergo yet, with the reason.
const UNSUPPORTED: &[(&str, &str)] = &[(
    "membership",
    "membership changes are not supported: Redraft has no online membership change (the voters are fixed at \
     bootstrap by --peers)",
)];

/// Parses `--nemesis`: `none`, `all`, a group (`kills`, `pauses`, `partitions`, `slow-disk`) or
/// a comma-separated list of kinds and groups. `all` and groups leave out kinds that need more
/// than `nodes` nodes; naming such a kind alone is an error.
///
/// # Errors
/// An unknown or unsupported name, or a kind that needs more nodes, with a message for the user.
pub fn parse_nemesis(spec: &str, nodes: usize) -> Result<Vec<FaultKind>, String> {
    let mut kinds = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let name = part.to_ascii_lowercase();
        if name == "none" {
            continue;
        }
        if name == "all" {
            kinds.extend(FaultKind::ALL.into_iter().filter(|k| k.nodes_min() <= nodes));
        } else if let Some((_, group)) = GROUPS.iter().find(|(g, _)| *g == name) {
            kinds.extend(group.iter().copied().filter(|k| k.nodes_min() <= nodes));
        } else if let Some(kind) = FaultKind::from_name(&name) {
            if kind.nodes_min() > nodes {
                return Err(format!("{kind} needs at least {} nodes, not {nodes}", kind.nodes_min()));
            }
            kinds.push(kind);
        } else if let Some((_, why)) = UNSUPPORTED.iter().find(|(u, _)| *u == name) {
            return Err(format!("{name}: {why}"));
        } else {
            let known: Vec<&str> = FaultKind::ALL.iter().map(|k| k.name()).collect();
            let groups: Vec<&str> = GROUPS.iter().map(|(g, _)| *g).collect();
            return Err(format!(
                "unknown fault '{part}': use none, all, {} or {}",
                groups.join(", "),
                known.join(", ")
            ));
        }
    }
    kinds.sort();
    kinds.dedup();
    Ok(kinds)
}

/// One fault window of a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Window {
    /// When the fault starts, from the start of the run.
    #[serde(serialize_with = "as_secs")]
    pub start: Duration,
    /// How long it lasts before it is healed.
    #[serde(serialize_with = "as_secs")]
    pub length: Duration,
    pub fault: FaultKind,
    /// A random number that chooses the fault's targets (see [`targets`]).
    pub pick: u64,
}

fn as_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}

/// The fault windows of a run, in time order, never overlapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Schedule {
    pub seed: u64,
    pub windows: Vec<Window>,
}

impl Schedule {
    /// The schedule for `kinds` over a run of `time_limit`: faults from a short warm-up until a
    /// cool-down before the end (so the run ends with a healthy stretch), each fault chosen at
    /// random among `kinds`, separated by quiet periods. Empty when `kinds` is.
    pub fn generate(kinds: &[FaultKind], seed: u64, time_limit: Duration) -> Schedule {
        let mut windows = Vec::new();
        let mut rng = XorShift::new(seed ^ SCHEDULE_SALT);
        let warmup = (time_limit / 10).clamp(Duration::from_secs(1), Duration::from_secs(5));
        let cooldown = (time_limit / 5).max(Duration::from_secs(4));
        let end = time_limit.saturating_sub(cooldown);
        let mut at = warmup;
        let between = |rng: &mut XorShift, (lo, hi): (u64, u64)| Duration::from_millis(lo + rng.below(hi - lo));
        while !kinds.is_empty() {
            let fault = kinds[rng.below(kinds.len() as u64) as usize];
            let length = between(&mut rng, FAULT_MS);
            let pick = rng.next_u64();
            if at + length > end {
                break;
            }
            windows.push(Window { start: at, length, fault, pick });
            at += length + between(&mut rng, QUIET_MS);
        }
        Schedule { seed, windows }
    }

    /// One line per window, for the summary printed before the run.
    pub fn describe(&self, nodes: usize) -> Vec<String> {
        self.windows
            .iter()
            .map(|w| {
                format!(
                    "{:>7.2}s +{:.2}s {:<19} {}",
                    w.start.as_secs_f64(),
                    w.length.as_secs_f64(),
                    w.fault.name(),
                    describe_targets(w.fault, w.pick, nodes)
                )
            })
            .collect()
    }
}

/// What a fault does to whom, as far as it is known before the run.
fn describe_targets(fault: FaultKind, pick: u64, nodes: usize) -> String {
    let ids = |list: &[NodeId]| list.iter().map(|id| format!("n{id}")).collect::<Vec<_>>().join(",");
    match fault {
        FaultKind::PauseLeader | FaultKind::PartitionLeader | FaultKind::PartitionOneWay => "the leader".into(),
        FaultKind::LeaderChange => "a replica chosen at run time".into(),
        FaultKind::SlowDiskMinority | FaultKind::SlowDiskAll => {
            format!("{} ms fsync delay", slow_disk_ms(pick))
        }
        _ => match targets(fault, pick, nodes, None) {
            Targets::Nodes(list) => ids(&list),
            Targets::Split(a, b) => format!("{} | {}", ids(&a), ids(&b)),
            Targets::Bridge(a, bridge, b) => format!("{} | n{bridge} | {}", ids(&a), ids(&b)),
            Targets::None => String::new(),
        },
    }
}

/// The nodes a fault acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Targets {
    Nodes(Vec<NodeId>),
    /// Two sides cut from each other.
    Split(Vec<NodeId>, Vec<NodeId>),
    /// Two sides cut from each other, and the node between them.
    Bridge(Vec<NodeId>, NodeId, Vec<NodeId>),
    /// Nobody: the fault needs a leader and there is none.
    None,
}

/// The nodes `1..=nodes` in an order shuffled by `pick`.
fn shuffled(pick: u64, nodes: usize) -> Vec<NodeId> {
    let mut ids: Vec<NodeId> = (1..=nodes as NodeId).collect();
    let mut rng = XorShift::new(pick);
    for i in (1..ids.len()).rev() {
        ids.swap(i, rng.below(i as u64 + 1) as usize);
    }
    ids
}

/// A strict minority of `nodes`: one of 3, two of 5.
fn minority(nodes: usize) -> usize {
    (nodes - 1) / 2
}

/// The targets of `fault` chosen by `pick` on a cluster of `nodes`, given its `leader` now.
pub fn targets(fault: FaultKind, pick: u64, nodes: usize, leader: Option<NodeId>) -> Targets {
    let order = shuffled(pick, nodes);
    let leader_first = || {
        let mut list: Vec<NodeId> = leader.into_iter().collect();
        list.extend(order.iter().copied().filter(|&id| Some(id) != leader));
        list
    };
    match fault {
        FaultKind::KillOne | FaultKind::PauseOne => Targets::Nodes(vec![order[0]]),
        FaultKind::KillMinority => Targets::Nodes(order[..minority(nodes)].to_vec()),
        FaultKind::KillAll | FaultKind::SlowDiskAll => Targets::Nodes((1..=nodes as NodeId).collect()),
        FaultKind::SlowDiskMinority => Targets::Nodes(leader_first()[..minority(nodes)].to_vec()),
        FaultKind::PartitionHalves => {
            let (small, large) = order.split_at(minority(nodes));
            Targets::Split(small.to_vec(), large.to_vec())
        }
        FaultKind::PartitionBridge => {
            let side = (nodes - 1) / 2;
            Targets::Bridge(order[..side].to_vec(), order[side], order[side + 1..].to_vec())
        }
        FaultKind::PauseLeader | FaultKind::PartitionLeader | FaultKind::PartitionOneWay => match leader {
            Some(leader) => Targets::Nodes(vec![leader]),
            None => Targets::None,
        },
        FaultKind::LeaderChange => {
            let replicas: Vec<NodeId> = order.into_iter().filter(|&id| Some(id) != leader).collect();
            Targets::Nodes(replicas[..1].to_vec())
        }
    }
}

/// The fsync delay of a slow-disk window, from its pick.
pub fn slow_disk_ms(pick: u64) -> u64 {
    SLOW_DISK_MS_MAX / 10 + pick % (SLOW_DISK_MS_MAX - SLOW_DISK_MS_MAX / 10 + 1)
}

/// A fault as it was applied, for the history, the plot and the verdict.
#[derive(Debug, Clone, Serialize)]
pub struct AppliedFault {
    pub fault: FaultKind,
    /// The nodes it acted on (for a split, both sides, smaller side first).
    pub targets: Vec<NodeId>,
    /// When it was applied and healed, in nanoseconds on the run's clock.
    pub start_ns: u64,
    pub end_ns: u64,
    /// What happened, in words (the leader at the time, a reply, why nothing was done).
    pub note: String,
}

/// What must be undone when a window ends.
enum Undo {
    Restart(Vec<NodeId>),
    Resume(Vec<NodeId>),
    HealLinks,
    FsyncDelayOff(Vec<NodeId>),
    Nothing,
}

/// Applies a schedule to a cluster. Must run on the thread that owns the cluster, since healing
/// a kill restarts processes.
pub struct Nemesis<'a> {
    pub cluster: &'a TestCluster,
    /// The run's clock: window offsets and recorded times are measured from it.
    pub clock: Instant,
    /// Print each fault as it is applied and healed.
    pub verbose: bool,
}

impl Nemesis<'_> {
    /// Applies every window of `schedule` at its time, healing each at its end, until the
    /// schedule is done or `stop` is set; returns what was applied. Every fault it applied is
    /// healed when it returns.
    pub fn run(&self, schedule: &Schedule, stop: &AtomicBool) -> Vec<AppliedFault> {
        let mut applied = Vec::new();
        for window in &schedule.windows {
            if !self.sleep_until(window.start, stop) {
                break;
            }
            let start_ns = self.now_ns();
            let (targets, note, undo) = self.apply(window);
            if self.verbose {
                eprintln!("nemesis: {:>7.2}s {} {targets:?} {note}", start_ns as f64 / 1e9, window.fault);
            }
            // A stop request still waits for nothing: heal at once.
            self.sleep_until(window.start + window.length, stop);
            self.undo(undo);
            let end_ns = self.now_ns();
            if self.verbose {
                eprintln!("nemesis: {:>7.2}s healed {}", end_ns as f64 / 1e9, window.fault);
            }
            applied.push(AppliedFault { fault: window.fault, targets, start_ns, end_ns, note });
        }
        applied
    }

    fn now_ns(&self) -> u64 {
        self.clock.elapsed().as_nanos() as u64
    }

    /// Sleeps until `offset` on the run's clock; false if `stop` was set first.
    fn sleep_until(&self, offset: Duration, stop: &AtomicBool) -> bool {
        loop {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            let Some(left) = offset.checked_sub(self.clock.elapsed()) else {
                return true;
            };
            if left.is_zero() {
                return true;
            }
            std::thread::sleep(left.min(STOP_POLL));
        }
    }

    fn apply(&self, window: &Window) -> (Vec<NodeId>, String, Undo) {
        let cluster = self.cluster;
        let nodes = cluster.ids().len();
        let leader = probe_leader(cluster);
        let leader_note = match leader {
            Some(id) => format!("leader n{id}"),
            None => "no leader".to_string(),
        };
        let targets = targets(window.fault, window.pick, nodes, leader);
        let nodes_of = |t: &Targets| match t {
            Targets::Nodes(list) => list.clone(),
            Targets::Split(a, b) => a.iter().chain(b).copied().collect(),
            Targets::Bridge(a, bridge, b) => a.iter().chain([bridge]).chain(b).copied().collect(),
            Targets::None => Vec::new(),
        };
        let affected = nodes_of(&targets);
        if targets == Targets::None {
            return (affected, format!("skipped: {leader_note}"), Undo::Nothing);
        }
        let undo = match (window.fault, &targets) {
            (FaultKind::KillOne | FaultKind::KillMinority | FaultKind::KillAll, Targets::Nodes(list)) => {
                list.iter().for_each(|&id| cluster.kill(id));
                Undo::Restart(list.clone())
            }
            (FaultKind::PauseOne | FaultKind::PauseLeader, Targets::Nodes(list)) => {
                list.iter().for_each(|&id| cluster.pause(id));
                Undo::Resume(list.clone())
            }
            (FaultKind::PartitionHalves, Targets::Split(a, b))
            | (FaultKind::PartitionBridge, Targets::Bridge(a, _, b)) => {
                cluster.proxy().partition(a, b);
                Undo::HealLinks
            }
            (FaultKind::PartitionLeader, Targets::Nodes(list)) => {
                list.iter().for_each(|&id| cluster.proxy().isolate(id));
                Undo::HealLinks
            }
            (FaultKind::PartitionOneWay, Targets::Nodes(list)) => {
                for &src in list {
                    for dst in cluster.ids().into_iter().filter(|&d| d != src) {
                        cluster.proxy().block(src, dst);
                    }
                }
                Undo::HealLinks
            }
            (FaultKind::LeaderChange, Targets::Nodes(list)) => {
                let replies: Vec<String> =
                    list.iter().map(|&id| format!("n{id}: {}", self.command(id, &["CLUSTER", "FAILOVER"]))).collect();
                return (affected, format!("{leader_note}; CLUSTER FAILOVER {}", replies.join(", ")), Undo::Nothing);
            }
            (FaultKind::SlowDiskMinority | FaultKind::SlowDiskAll, Targets::Nodes(list)) => {
                let delay_ms = slow_disk_ms(window.pick).to_string();
                let replies: Vec<String> = list
                    .iter()
                    .map(|&id| format!("n{id}: {}", self.command(id, &["DEBUG", "FSYNC-DELAY", &delay_ms])))
                    .collect();
                let note = format!("{leader_note}; DEBUG FSYNC-DELAY {delay_ms} {}", replies.join(", "));
                return (affected, note, Undo::FsyncDelayOff(list.clone()));
            }
            (fault, targets) => unreachable!("{fault} has no action for {targets:?}"),
        };
        (affected, leader_note, undo)
    }

    fn undo(&self, undo: Undo) {
        let cluster = self.cluster;
        match undo {
            Undo::Restart(list) => list.iter().for_each(|&id| cluster.restart(id)),
            Undo::Resume(list) => list.iter().for_each(|&id| cluster.resume(id)),
            Undo::HealLinks => cluster.proxy().heal(),
            Undo::FsyncDelayOff(list) => {
                for id in list {
                    let reply = self.command(id, &["DEBUG", "FSYNC-DELAY", "0"]);
                    if reply != "OK" && self.verbose {
                        eprintln!("nemesis: turning the fsync delay off on n{id}: {reply}");
                    }
                }
            }
            Undo::Nothing => {}
        }
    }

    /// Sends one command to node `id` and describes the reply in a word or an error text.
    fn command(&self, id: NodeId, args: &[&str]) -> String {
        match self.cluster.try_cmd(id, args) {
            Ok(frame) => error_text(&frame).unwrap_or_else(|| "OK".to_string()),
            Err(e) => format!("no reply ({e})"),
        }
    }
}

/// The node that says it leads in the highest term, among the nodes that run and answer; `None`
/// when no node says so. Unlike [`TestCluster::leader`] it never waits or panics: a nemesis must
/// act on whatever state the cluster is in.
pub fn probe_leader(cluster: &TestCluster) -> Option<NodeId> {
    cluster
        .up_ids()
        .into_iter()
        .filter_map(|id| {
            let info = cluster.try_info_raft(id)?;
            let leads = info.get("raft_role").is_some_and(|r| r == "leader");
            leads.then(|| (info_number(&info, "raft_term").unwrap_or(0), id))
        })
        .max()
        .map(|(_, id)| id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nemesis_specs_parse_into_sorted_kinds() {
        assert_eq!(parse_nemesis("none", 3), Ok(vec![]));
        assert_eq!(
            parse_nemesis("kills", 3),
            Ok(vec![FaultKind::KillOne, FaultKind::KillMinority, FaultKind::KillAll])
        );
        assert_eq!(
            parse_nemesis("slow-disk-all, leader-change,kill-one,kill-one", 3),
            Ok(vec![FaultKind::KillOne, FaultKind::LeaderChange, FaultKind::SlowDiskAll])
        );
        let all3 = parse_nemesis("all", 3).unwrap();
        assert!(!all3.contains(&FaultKind::PartitionBridge), "a bridge needs 5 nodes");
        assert_eq!(all3.len(), FaultKind::ALL.len() - 1);
        assert_eq!(parse_nemesis("all", 5).unwrap().len(), FaultKind::ALL.len());
        assert!(parse_nemesis("partitions", 5).unwrap().contains(&FaultKind::PartitionBridge));
    }

    #[test]
    fn bad_nemesis_specs_are_refused_with_a_reason() {
        assert!(parse_nemesis("partition-bridge", 3).unwrap_err().contains("at least 5 nodes"));
        assert!(parse_nemesis("membership", 3).unwrap_err().contains("no online membership change"));
        assert!(parse_nemesis("kills,meteor", 3).unwrap_err().contains("unknown fault 'meteor'"));
    }

    #[test]
    fn every_kind_has_a_name_that_parses_back() {
        for kind in FaultKind::ALL {
            assert_eq!(FaultKind::from_name(kind.name()), Some(kind));
        }
    }

    /// Goal: a seed replays the same schedule; another seed gives another one.
    #[test]
    fn schedules_are_a_function_of_the_seed() {
        let kinds = parse_nemesis("all", 5).unwrap();
        let limit = Duration::from_secs(120);
        let a = Schedule::generate(&kinds, 7, limit);
        assert_eq!(a, Schedule::generate(&kinds, 7, limit));
        assert_ne!(a.windows, Schedule::generate(&kinds, 8, limit).windows);
        assert_eq!(a.describe(5), Schedule::generate(&kinds, 7, limit).describe(5));
    }

    /// Goal: windows never overlap, leave a quiet gap, and end before the cool-down.
    #[test]
    fn windows_are_ordered_apart_and_leave_a_healthy_end() {
        let kinds = parse_nemesis("all", 3).unwrap();
        for seed in 0..50 {
            let limit = Duration::from_secs(20 + seed % 200);
            let schedule = Schedule::generate(&kinds, seed, limit);
            assert!(!schedule.windows.is_empty(), "seed {seed}: no fault in {limit:?}");
            for pair in schedule.windows.windows(2) {
                assert!(pair[0].start + pair[0].length + Duration::from_millis(QUIET_MS.0) <= pair[1].start);
            }
            let last = schedule.windows.last().unwrap();
            assert!(last.start + last.length + Duration::from_secs(4) <= limit, "seed {seed}");
        }
        assert!(Schedule::generate(&[], 1, Duration::from_secs(60)).windows.is_empty());
    }

    #[test]
    fn targets_are_minorities_splits_and_the_leader() {
        for pick in 0..20 {
            let Targets::Nodes(killed) = targets(FaultKind::KillMinority, pick, 5, None) else { panic!() };
            assert_eq!(killed.len(), 2);
            let Targets::Split(small, large) = targets(FaultKind::PartitionHalves, pick, 5, None) else { panic!() };
            assert_eq!((small.len(), large.len()), (2, 3));
            let Targets::Bridge(a, bridge, b) = targets(FaultKind::PartitionBridge, pick, 5, None) else { panic!() };
            assert_eq!((a.len(), b.len()), (2, 2));
            assert!(!a.contains(&bridge) && !b.contains(&bridge));
            let Targets::Nodes(slow) = targets(FaultKind::SlowDiskMinority, pick, 5, Some(4)) else { panic!() };
            assert_eq!(slow[0], 4, "a slow minority starts with the leader");
            let Targets::Nodes(replica) = targets(FaultKind::LeaderChange, pick, 3, Some(2)) else { panic!() };
            assert_ne!(replica, vec![2]);
            assert!((50..=500).contains(&slow_disk_ms(pick)));
        }
        assert_eq!(targets(FaultKind::PauseLeader, 1, 3, None), Targets::None);
        assert_eq!(targets(FaultKind::PartitionLeader, 1, 3, Some(3)), Targets::Nodes(vec![3]));
    }
}
