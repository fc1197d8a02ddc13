#!/usr/bin/env bash
# Builds Redraft and starts a local three-node cluster on ports 6379-6381
# (Raft on 16379-16381); Ctrl-C stops it. Extra arguments go to `redraft dev`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo build --release --workspace --all-targets
target="${CARGO_TARGET_DIR:-target}"
exec "$target/release/redraft" dev --nodes 3 --port 6379 --dir ./redraft-data "$@"
