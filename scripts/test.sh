#!/usr/bin/env bash
# Installs the dependencies, builds everything and runs every test (ctest).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build
# The container test (label container) needs podman: .ci/run runs it separately.
ctest --test-dir build --output-on-failure -j2 --timeout 600 -LE container
