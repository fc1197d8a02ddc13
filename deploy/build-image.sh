#!/usr/bin/env bash
# Builds the `redraft:latest` image without pulling any base image: the
# release binary and the shared libraries it links (from ldd) are copied into
# a root filesystem that a `FROM scratch` Dockerfile packs.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -p redraft
ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/rootfs/usr/local/bin" "$ctx/rootfs/data" "$ctx/rootfs/tmp"
cp "$target/release/redraft" "$ctx/rootfs/usr/local/bin/redraft"
for lib in $(ldd "$target/release/redraft" | grep -o '/[^ ]*'); do
  mkdir -p "$ctx/rootfs$(dirname "$lib")"
  cp -L "$lib" "$ctx/rootfs$lib"
done
# Name resolution for --peers host names (Kubernetes DNS, compose service names).
for lib in /lib/x86_64-linux-gnu/libnss_dns.so.2 /lib/x86_64-linux-gnu/libnss_files.so.2 /lib/x86_64-linux-gnu/libresolv.so.2; do
  [ -e "$lib" ] && { mkdir -p "$ctx/rootfs$(dirname "$lib")"; cp -L "$lib" "$ctx/rootfs$lib"; }
done
mkdir -p "$ctx/rootfs/etc"
printf 'hosts: files dns\n' > "$ctx/rootfs/etc/nsswitch.conf"
cp deploy/Dockerfile "$ctx/Dockerfile"
docker build -t redraft:latest "$ctx"
