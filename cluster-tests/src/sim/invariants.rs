//! The safety invariants of the Raft layer and the state machine, checked as events happen.
//!
//! Every node's storage reports what it persists and applies (see [`super::spy`]); each report
//! is checked at once against what every other node reported before, so a violation is caught
//! at the event that caused it:
//!
//! - **votes**: a node's persisted vote never goes backwards, and a restarted node loads the
//!   vote it last persisted (forgetting it would let it vote twice in one term);
//! - **election safety**: when a node persists a committed vote for itself (it has won an
//!   election), a majority of the voters have persisted a vote at least as high, i.e. granted it
//!   (no node leads without winning an election);
//! - **log matching**: two entries with the same log id (leader id and index) anywhere, at any
//!   time, carry the same payload: a leader proposes each index once;
//! - **committed prefix**: every node applies the same log id at each index, in index order
//!   without gaps or repeats (only committed entries are applied, so committed logs agree);
//! - **state machine agreement**: two nodes that have applied up to the same index hold the same
//!   register data.
//!
//! openraft 0.9 without its `single-term-leader` feature identifies a leader by (term, node id)
//! and orders votes by that pair, so two nodes can both lead in one term (the one with the
//! higher node id having been granted a vote by a majority that then refuses the other). That
//! is by design, not a bug: Raft's "one leader per term" holds here as "one leader per leader
//! id", and what protects data is that committed entries never diverge, checked above.

use std::collections::BTreeMap;

use raft::{typ, NodeId};

/// A log id as a plain, totally ordered tuple: (term, leader node, index).
pub type LogKey = (u64, NodeId, u64);

/// The tuple of a log id.
pub fn log_key(log_id: &typ::LogId) -> LogKey {
    (log_id.leader_id.term, log_id.leader_id.node_id, log_id.index)
}

/// A vote as the tuple openraft orders it by: (term, node, committed).
pub fn vote_key(vote: &typ::Vote) -> (u64, NodeId, bool) {
    (vote.leader_id.term, vote.leader_id.node_id, vote.committed)
}

/// The checker's memory of everything reported so far.
#[derive(Debug, Default)]
pub struct Invariants {
    voters: Vec<NodeId>,
    /// The last vote each node persisted (persisted votes survive crashes).
    persisted_vote: BTreeMap<NodeId, typ::Vote>,
    /// Payload digest of every log id ever appended anywhere.
    entry_digest: BTreeMap<LogKey, (u64, NodeId)>,
    /// The log id applied at each index, and by which node first.
    applied_at: BTreeMap<u64, (LogKey, NodeId)>,
    /// Each node's last applied index (`None`: nothing yet).
    last_applied: BTreeMap<NodeId, Option<u64>>,
    /// The register digest after applying up to each index, and which node saw it first.
    state_at: BTreeMap<u64, (u64, NodeId)>,
    /// Elections won: (term, node).
    leaders: u64,
}

impl Invariants {
    /// A checker for a group whose voters are `voters`.
    pub fn new(voters: &[NodeId]) -> Invariants {
        Invariants { voters: voters.to_vec(), ..Invariants::default() }
    }

    /// Elections won so far (committed votes persisted by their own node).
    pub fn elections(&self) -> u64 {
        self.leaders
    }

    /// `node` persisted `vote`.
    pub fn vote_saved(&mut self, node: NodeId, vote: &typ::Vote) -> Result<(), String> {
        if let Some(previous) = self.persisted_vote.get(&node) {
            if vote_key(vote) < vote_key(previous) {
                return Err(format!("node {node} persisted vote {vote}, below its previous vote {previous}"));
            }
        }
        self.persisted_vote.insert(node, *vote);
        if vote.committed && vote.leader_id.node_id == node {
            self.leaders += 1;
            let granted: Vec<NodeId> = self
                .voters
                .iter()
                .copied()
                .filter(|v| {
                    self.persisted_vote
                        .get(v)
                        .is_some_and(|p| (p.leader_id.term, p.leader_id.node_id) >= (vote.leader_id.term, node))
                })
                .collect();
            if granted.len() * 2 <= self.voters.len() {
                return Err(format!(
                    "node {node} leads as {} but only {granted:?} of voters {:?} persisted a vote that high",
                    vote.leader_id, self.voters
                ));
            }
        }
        Ok(())
    }

    /// `node` restarted and loaded `vote` from its storage.
    pub fn vote_loaded(&mut self, node: NodeId, vote: Option<&typ::Vote>) -> Result<(), String> {
        let persisted = self.persisted_vote.get(&node);
        let loaded = vote.map(vote_key);
        if loaded < persisted.map(vote_key) {
            let shown = vote.map(|v| v.to_string()).unwrap_or_else(|| "none".into());
            let persisted = persisted.map(|v| v.to_string()).unwrap_or_default();
            return Err(format!("node {node} restarted with vote {shown}, but had persisted {persisted}"));
        }
        Ok(())
    }

    /// `node` appended an entry with `log_id` whose payload hashes to `digest`.
    pub fn appended(&mut self, node: NodeId, log_id: LogKey, digest: u64) -> Result<(), String> {
        match self.entry_digest.get(&log_id) {
            Some(&(first, by)) if first != digest => {
                Err(format!("log matching: node {node} appended {log_id:?} with another payload than node {by} had"))
            }
            Some(_) => Ok(()),
            None => {
                self.entry_digest.insert(log_id, (digest, node));
                Ok(())
            }
        }
    }

    /// `node` (re)opened its state machine, which had applied up to `applied`.
    pub fn state_machine_opened(&mut self, node: NodeId, applied: Option<u64>) -> Result<(), String> {
        let before = self.last_applied.get(&node).copied().flatten();
        self.last_applied.insert(node, applied);
        if applied < before {
            return Err(format!("node {node} reopened at applied index {applied:?}, having applied {before:?}"));
        }
        Ok(())
    }

    /// `node` applied the entry `log_id`.
    pub fn applied(&mut self, node: NodeId, log_id: LogKey) -> Result<(), String> {
        let index = log_id.2;
        let previous = self.last_applied.get(&node).copied().flatten();
        let expected = previous.map_or(0, |p| p + 1);
        self.last_applied.insert(node, Some(index));
        if index != expected {
            return Err(format!("node {node} applied index {index} after {previous:?}: a gap or a repeat"));
        }
        match self.applied_at.get(&index) {
            Some(&(first, by)) if first != log_id => {
                Err(format!("committed entries diverge at index {index}: node {node} applied {log_id:?}, node {by} applied {first:?}"))
            }
            Some(_) => Ok(()),
            None => {
                self.applied_at.insert(index, (log_id, node));
                Ok(())
            }
        }
    }

    /// `node`, having applied up to `index`, holds register data hashing to `digest`.
    pub fn state(&mut self, node: NodeId, index: u64, digest: u64) -> Result<(), String> {
        match self.state_at.get(&index) {
            Some(&(first, by)) if first != digest => Err(format!(
                "state machines diverge: after applying up to index {index}, node {node}'s registers differ from node {by}'s"
            )),
            Some(_) => Ok(()),
            None => {
                self.state_at.insert(index, (digest, node));
                Ok(())
            }
        }
    }

    /// The highest index every one of `nodes` has applied, if they all applied the same.
    pub fn common_applied(&self, nodes: &[NodeId]) -> Option<u64> {
        let mut applied = nodes.iter().map(|n| self.last_applied.get(n).copied().flatten());
        let first = applied.next()??;
        applied.all(|a| a == Some(first)).then_some(first)
    }
}

#[cfg(test)]
mod tests {
    use openraft::{CommittedLeaderId, LogId, Vote};

    use super::*;

    fn vote(term: u64, node: NodeId, committed: bool) -> typ::Vote {
        let mut v = Vote::new(term, node);
        if committed {
            v.commit();
        }
        v
    }

    #[test]
    fn a_vote_that_goes_backwards_is_flagged() {
        let mut inv = Invariants::new(&[1, 2, 3]);
        inv.vote_saved(1, &vote(3, 2, false)).unwrap();
        inv.vote_saved(1, &vote(3, 3, false)).expect("a higher node id in the same term is a higher vote");
        let err = inv.vote_saved(1, &vote(2, 3, false)).unwrap_err();
        assert!(err.contains("below its previous vote"), "{err}");
    }

    #[test]
    fn a_vote_forgotten_across_a_restart_is_flagged() {
        let mut inv = Invariants::new(&[1, 2, 3]);
        inv.vote_saved(2, &vote(4, 1, false)).unwrap();
        inv.vote_loaded(2, Some(&vote(4, 1, false))).unwrap();
        assert!(inv.vote_loaded(2, None).unwrap_err().contains("restarted with vote none"));
        assert!(inv.vote_loaded(2, Some(&vote(3, 3, true))).is_err());
    }

    #[test]
    fn a_leader_without_a_majority_of_grants_is_flagged() {
        let mut inv = Invariants::new(&[1, 2, 3]);
        inv.vote_saved(1, &vote(5, 1, false)).unwrap();
        inv.vote_saved(2, &vote(5, 1, false)).unwrap();
        inv.vote_saved(1, &vote(5, 1, true)).expect("nodes 1 and 2 granted term 5 to node 1");
        assert_eq!(inv.elections(), 1);
        // Node 3 claims term 6 with only its own vote.
        inv.vote_saved(3, &vote(6, 3, false)).unwrap();
        let err = inv.vote_saved(3, &vote(6, 3, true)).unwrap_err();
        assert!(err.contains("only [3]"), "{err}");
    }

    #[test]
    fn two_payloads_for_one_log_id_are_flagged() {
        let mut inv = Invariants::new(&[1, 2]);
        inv.appended(1, (2, 1, 7), 0xaa).unwrap();
        inv.appended(2, (2, 1, 7), 0xaa).unwrap();
        inv.appended(2, (3, 2, 7), 0xbb).expect("another leader may propose the same index");
        assert!(inv.appended(2, (2, 1, 7), 0xcc).unwrap_err().contains("log matching"));
    }

    #[test]
    fn divergent_or_out_of_order_applies_are_flagged() {
        let mut inv = Invariants::new(&[1, 2]);
        for node in [1, 2] {
            inv.state_machine_opened(node, None).unwrap();
            inv.applied(node, (0, 0, 0)).unwrap();
        }
        inv.applied(1, (1, 1, 1)).unwrap();
        assert!(inv.applied(2, (1, 2, 1)).unwrap_err().contains("diverge at index 1"));
        let mut inv = Invariants::new(&[1]);
        inv.state_machine_opened(1, Some(4)).unwrap();
        assert!(inv.applied(1, (1, 1, 6)).unwrap_err().contains("gap"));
        let mut inv = Invariants::new(&[1]);
        inv.state_machine_opened(1, Some(4)).unwrap();
        assert!(inv.state_machine_opened(1, Some(3)).is_err(), "applied state lost across a restart");
    }

    #[test]
    fn different_data_at_one_applied_index_is_flagged() {
        let mut inv = Invariants::new(&[1, 2]);
        inv.state(1, 9, 42).unwrap();
        inv.state(2, 9, 42).unwrap();
        inv.state(2, 10, 43).unwrap();
        assert!(inv.state(1, 10, 44).unwrap_err().contains("state machines diverge"));
    }

    #[test]
    fn log_keys_order_by_term_then_node_then_index() {
        let id = LogId::new(CommittedLeaderId::new(3, 2), 9);
        assert_eq!(log_key(&id), (3, 2, 9));
    }
}
