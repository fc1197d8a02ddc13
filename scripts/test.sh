#!/usr/bin/env bash
# Runs every test of the workspace: unit, storage conformance, Raft transport,
# multi-process cluster, protocol and differential tests against real Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# One profile and one feature set for every step, so RocksDB is built once.
cargo build --release --workspace --all-targets
cargo test --release --workspace --no-fail-fast -- --test-threads=2
