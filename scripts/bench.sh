#!/usr/bin/env bash
# Benchmarks Redraft side by side with real Redis on this machine, in one run:
# redis-benchmark against (1) redis-server in memory, (2) redis-server with
# appendonly yes + appendfsync always (every write on disk before the reply,
# as Redraft does on a majority), (3) the leader of a local 3-node Redraft
# cluster. Prints one table of requests/s and p50 latency, then a table of
# collection operations on a small and a large collection (per-operation
# cost must not grow with the collection's size).
#   ./scripts/bench.sh [-n requests] [-c clients] [-s large-collection-size]
set -euo pipefail
cd "$(dirname "$0")/.."
requests=100000
clients=50
large=1000000
while getopts "n:c:s:" opt; do
  case $opt in
    n) requests=$OPTARG ;;
    c) clients=$OPTARG ;;
    s) large=$OPTARG ;;
    *) echo "usage: $0 [-n requests] [-c clients] [-s large-collection-size]" >&2; exit 2 ;;
  esac
done
./scripts/setup.sh
# The whole workspace, as the tests build it: another package selection
# resolves other features and would rebuild RocksDB from scratch.
cargo build --release --workspace --all-targets
target="${CARGO_TARGET_DIR:-target}"
work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ping() { for _ in $(seq 1 200); do redis-cli -p "$1" PING >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "no answer on $1" >&2; return 1; }

mem_port=$(free_port)
redis-server --port "$mem_port" --save "" --appendonly no --dir "$work" --dbfilename mem.rdb >/dev/null &
pids+=($!)
aof_port=$(free_port)
mkdir -p "$work/aof"
redis-server --port "$aof_port" --save "" --appendonly yes --appendfsync always --dir "$work/aof" >/dev/null &
pids+=($!)
# Redraft's dev cluster uses port..port+2 and port+10000..: pick a base with room.
base=$(python3 -c 'import random; print(random.randrange(20000, 40000, 10))')
"$target/release/redraft" dev --nodes 3 --port "$base" --dir "$work/redraft" >"$work/redraft.log" 2>&1 &
pids+=($!)
wait_ping "$mem_port"; wait_ping "$aof_port"
for _ in $(seq 1 300); do grep -q "leader is node" "$work/redraft.log" && break; sleep 0.1; done
leader_id=$(grep -o "leader is node [0-9]*" "$work/redraft.log" | grep -o "[0-9]*$")
leader_port=$((base + leader_id - 1))

run() { # name port pipeline -> "set_rps set_p50 get_rps get_p50"
  redis-benchmark -p "$2" -t set,get -n "$requests" -c "$clients" -P "$3" -r 100000 --csv 2>/dev/null |
    awk -F'","' '/"SET"/{s=$2" "$5} /"GET"/{g=$2" "$5} END{print s" "g}' | tr -d '"'
}
printf '%-28s %-4s %12s %10s %12s %10s\n' "server" "P" "SET req/s" "SET p50" "GET req/s" "GET p50"
for p in 1 16; do
  for target_desc in "redis (in memory):$mem_port" "redis (appendfsync always):$aof_port" "redraft (3 nodes, leader):$leader_port"; do
    name=${target_desc%:*}; port=${target_desc##*:}
    read -r set_rps set_p50 get_rps get_p50 <<<"$(run "$name" "$port" "$p")"
    printf '%-28s %-4s %12s %10s %12s %10s\n' "$name" "$p" "$set_rps" "${set_p50}ms" "$get_rps" "${get_p50}ms"
  done
done

# Collections: fill one small and one large collection per type, then time
# single-element operations on each. Redraft keeps elements as separate
# RocksDB keys, so these should cost the same at both sizes.
small=1000
fill() { # port key-prefix size command... : pushes `size` elements with __rand_int__ members
  local port=$1 size=$3; shift 3
  redis-benchmark -p "$port" -n "$size" -c 20 -P 64 -r 100000000 "$@" >/dev/null 2>&1
}
op_rps() { # port command... -> requests/s
  local port=$1; shift
  redis-benchmark -p "$port" -n 20000 -c "$clients" -r 100000000 --csv "$@" 2>/dev/null |
    awk -F'","' 'NR==2{print $2}' | tr -d '"'
}
echo
printf '%-28s %-34s %14s %14s\n' "server" "operation" "on $small" "on $large"
for target_desc in "redis (appendfsync always):$aof_port" "redraft (3 nodes, leader):$leader_port"; do
  name=${target_desc%:*}; port=${target_desc##*:}
  redis-cli -p "$port" DEL list:small list:large set:small set:large hash:small hash:large >/dev/null
  for size_name in small large; do
    size=$small; [ "$size_name" = large ] && size=$large
    fill "$port" list "$size" RPUSH "list:$size_name" __rand_int__
    fill "$port" set "$size" SADD "set:$size_name" __rand_int__
    fill "$port" hash "$size" HSET "hash:$size_name" __rand_int__ v
  done
  for op in "LPUSH list:%s x" "LPOP list:%s" "LINDEX list:%s 0" "LINDEX list:%s -1" "LSET list:%s 1 y" \
            "LRANGE list:%s 0 9" "SADD set:%s __rand_int__" "SISMEMBER set:%s __rand_int__" "SRANDMEMBER set:%s" \
            "SPOP set:%s" "HSET hash:%s __rand_int__ w" "HGET hash:%s __rand_int__"; do
    # shellcheck disable=SC2059
    small_rps=$(op_rps "$port" $(printf "$op" small))
    # shellcheck disable=SC2059
    large_rps=$(op_rps "$port" $(printf "$op" large))
    # shellcheck disable=SC2059
    printf '%-28s %-34s %14s %14s\n' "$name" "$(printf "$op" "")" "$small_rps" "$large_rps"
  done
done
