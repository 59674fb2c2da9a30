#!/usr/bin/env bash
# Installs exactly the Debian 12 packages recondb needs to build, test and run.
# Used by the README's two commands, by .ci/run and by docker/Dockerfile.
#   scripts/install-deps.sh            build + test + runtime packages
#   scripts/install-deps.sh --build    what building needs (no test-only packages:
#                                      no Python gRPC, no Node.js); the image's build stage
#   scripts/install-deps.sh --runtime  only what a running recondbd (and recondb) needs
#   scripts/install-deps.sh --run      --build plus the Python client (python3-grpcio,
#                                      python3-protobuf) of the README's Python example;
#                                      no Node.js: what scripts/run.sh installs
set -euo pipefail

mode=${1:-all}
case "$mode" in
  all|--build|--runtime|--run) ;;
  *) echo "usage: $0 [--build|--runtime|--run]" >&2; exit 1 ;;
esac

runtime_packages=(
  libgrpc++1.51 libgrpc29 libprotobuf32 libsqlite3-0 libspdlog1.10
  libabsl20220623 libssl3 ca-certificates
)
build_packages=(
  build-essential cmake ninja-build ccache pkg-config
  libgrpc++-dev libgrpc-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev grpc-proto
  libabsl-dev libspdlog-dev libfmt-dev libsqlite3-dev sqlite3 libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev python3
  openssl  # scripts/make-certs.sh: certificates for a deployment and for the TLS tests
)
# The Python client: the tests use it, and so does the README's Python example
# (CMake's configure step needs gtest, benchmark and python3, not these).
python_client_packages=(python3-grpcio python3-protobuf)

packages=("${runtime_packages[@]}")
[[ "$mode" == --runtime ]] || packages+=("${build_packages[@]}")
[[ "$mode" != all && "$mode" != --run ]] || packages+=("${python_client_packages[@]}")
[[ "$mode" != all ]] || packages+=(clang libclang-rt-14-dev)  # scripts/fuzz.sh: libFuzzer

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The Node example (examples/node, run by the tests): Debian's nodejs and npm,
# unless a node and an npm are already on PATH (e.g. another Node.js build,
# whose nodejs package would conflict with Debian's npm).
if [[ "$mode" == all ]] && ! { command -v node && command -v npm; } >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
