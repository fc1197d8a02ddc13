//! Batched linearizable-read barriers.
//!
//! A read may be answered only after the leader has confirmed, with a quorum,
//! that it is still the leader, and has applied everything committed before
//! the read arrived (ReadIndex). One confirmation costs a round of heartbeats,
//! so reads share them: every read waits for a confirmation that *started
//! after it arrived* (one that started earlier could miss a write
//! acknowledged in between), and all reads that arrive while one round is in
//! flight are served by the next round together.

use std::sync::{Arc, Mutex};

use raft::typ;
use tokio::sync::oneshot;

type Outcome = Result<(), typ::RaftError<typ::CheckIsLeaderError>>;

#[derive(Default)]
struct State {
    waiting: Vec<oneshot::Sender<Outcome>>,
    round_running: bool,
}

/// Coalesces concurrent `ensure_linearizable` calls.
#[derive(Clone)]
pub struct ReadIndexBatcher {
    raft: typ::Raft,
    state: Arc<Mutex<State>>,
}

impl ReadIndexBatcher {
    pub fn new(raft: typ::Raft) -> Self {
        ReadIndexBatcher { raft, state: Arc::new(Mutex::new(State::default())) }
    }

    /// Returns once this node has proven leadership after the call began and
    /// applied every entry committed before that.
    pub async fn barrier(&self) -> Outcome {
        let (tx, rx) = oneshot::channel();
        let start_round = {
            let mut state = self.state.lock().expect("read index lock poisoned");
            state.waiting.push(tx);
            !std::mem::replace(&mut state.round_running, true)
        };
        if start_round {
            let this = self.clone();
            tokio::spawn(async move { this.run_rounds().await });
        }
        match rx.await {
            Ok(outcome) => outcome,
            Err(_) => Err(openraft::error::RaftError::Fatal(openraft::error::Fatal::Stopped)),
        }
    }

    async fn run_rounds(self) {
        loop {
            let batch = {
                let mut state = self.state.lock().expect("read index lock poisoned");
                if state.waiting.is_empty() {
                    state.round_running = false;
                    return;
                }
                std::mem::take(&mut state.waiting)
            };
            let outcome = self.raft.ensure_linearizable().await.map(|_| ());
            for waiter in batch {
                let _ = waiter.send(outcome.clone());
            }
        }
    }
}
