//! openraft's storage conformance suite against the RocksDB log store and
//! state machine: every behaviour openraft relies on (log state, vote,
//! truncation, purge, apply, snapshots) checked on a fresh store per case.

use std::sync::Arc;

use openraft::testing::{StoreBuilder, Suite};
use openraft::{BasicNode, StorageError};
use storage::log_store::RocksLogStore;
use storage::snapshot::SnapshotFile;
use storage::state_machine::{Executor, RocksStateMachine};
use storage::{ApplyTxn, CommandBatch, Request, Response};
use tempfile::TempDir;

openraft::declare_raft_types!(
    pub TestConfig:
        D = Request,
        R = Response,
        NodeId = u64,
        Node = BasicNode,
        Entry = openraft::Entry<TestConfig>,
        SnapshotData = SnapshotFile,
        AsyncRuntime = openraft::TokioRuntime,
);

/// The suite only applies blank and membership entries, so an executor that
/// answers nothing is enough.
struct NoCommands;

impl Executor for NoCommands {
    fn execute(&self, _txn: &mut ApplyTxn<'_>, _batch: &CommandBatch) -> Response {
        Response::default()
    }
}

struct RocksBuilder;

impl StoreBuilder<TestConfig, RocksLogStore<TestConfig>, RocksStateMachine<TestConfig>, TempDir> for RocksBuilder {
    async fn build(
        &self,
    ) -> Result<(TempDir, RocksLogStore<TestConfig>, RocksStateMachine<TestConfig>), StorageError<u64>> {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = storage::open_db(dir.path()).expect("open rocksdb");
        let log = RocksLogStore::new(db.clone());
        let sm = RocksStateMachine::new(db, Arc::new(NoCommands), dir.path().join("snapshots")).expect("state machine");
        Ok((dir, log, sm))
    }
}

#[test]
fn the_rocksdb_store_passes_openraft_conformance_suite() {
    if let Err(e) = Suite::test_all(RocksBuilder) {
        panic!("conformance suite failed: {e}");
    }
}
