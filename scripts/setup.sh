#!/usr/bin/env bash
# Installs what a fresh machine lacks to build and test Redraft: libclang
# (RocksDB's bindgen step), protoc (tonic), and Debian's redis-server and
# redis-tools (the reference for differential tests, redis-cli, redis-benchmark).
set -euo pipefail

need=()
command -v clang >/dev/null 2>&1 || need+=(clang)
dpkg -s libclang-dev >/dev/null 2>&1 || need+=(libclang-dev)
command -v protoc >/dev/null 2>&1 || need+=(protobuf-compiler)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)

if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Debian starts a redis-server service on 6379 when the package is installed;
# the local cluster wants that port, and tests start their own servers.
if command -v systemctl >/dev/null 2>&1; then
  systemctl stop redis-server >/dev/null 2>&1 || true
fi
pkill -x redis-server >/dev/null 2>&1 || true
