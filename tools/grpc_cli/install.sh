#!/usr/bin/env bash
# Builds gRPC's command-line tool `grpc_cli` and installs it as /usr/local/bin/grpc_cli.
#
# Why: Debian 12 ships libgrpc++ but not grpc_cli, and we may only use Debian's package
# registry. So we take the CLI sources from Debian's own `grpc` SOURCE package (the exact
# version of the installed libgrpc++-dev), and compile only the CLI's few files against the
# system's libgrpc++/libprotobuf/libprotoc/abseil. Nothing is vendored in the repo; the
# source is downloaded into a temp dir at run time and deleted afterwards.
#
# Usage (as root on Debian 12):  tools/grpc_cli/install.sh [--force]
#   --force            rebuild even if a working grpc_cli is already installed
#   GRPC_CLI_DEST=...  install somewhere else (default /usr/local/bin/grpc_cli)
# Takes a few minutes (apt installs + ~1 min of compiling on 2 cores).
set -euo pipefail

DEST="${GRPC_CLI_DEST:-/usr/local/bin/grpc_cli}"
FORCE="${1:-}"

log() { echo "grpc_cli/install.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

# `grpc_cli help` prints the command list (and exits 1); it only gets there if every shared
# library loads. Output is captured, not piped, because of pipefail.
works() {
  local out
  out="$("$1" help 2>&1 || true)"
  [[ "$out" == *"grpc_cli call"* ]]
}

# --- Idempotence: nothing to do if a working binary is already there. -------------------------
if [[ "$FORCE" != "--force" && -x "$DEST" ]] && works "$DEST"; then
  log "$DEST is already installed and works; nothing to do (use --force to rebuild)."
  exit 0
fi

[[ "$(id -u)" -eq 0 ]] || die "run as root (it uses apt-get)."
command -v apt-get >/dev/null || die "this script is for Debian (apt-get not found)."

export DEBIAN_FRONTEND=noninteractive

# --- Build dependencies, all Debian packages. -------------------------------------------------
# libgrpc++-dev/libprotobuf-dev/libabsl-dev: the libraries the CLI links against
#   (gRPC 1.51 parses its flags with absl flags, not gflags).
# libprotoc-dev: the CLI parses .proto text with google/protobuf/compiler/importer.h.
# protobuf-compiler(-grpc): protoc + grpc_cpp_plugin to generate the reflection client stubs.
# dpkg-dev + xz-utils: `apt-get source` unpacks and patches the source package with dpkg-source.
# Only the missing ones are installed: naming an installed package to apt-get would upgrade it.
DEPS=(g++ pkg-config dpkg-dev xz-utils
  libgrpc++-dev libprotobuf-dev libprotoc-dev libabsl-dev
  protobuf-compiler protobuf-compiler-grpc)
MISSING=()
for pkg in "${DEPS[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  [[ "$status" == "install ok installed" ]] || MISSING+=("$pkg")
done
if ((${#MISSING[@]})); then
  log "installing build dependencies: ${MISSING[*]}"
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${MISSING[@]}"
fi

# Fetch the source of the gRPC we link against, so headers and libraries agree exactly.
SRC_PKG="$(dpkg-query -W -f='${source:Package}' libgrpc++-dev)"
SRC_VER="$(dpkg-query -W -f='${source:Version}' libgrpc++-dev)"
log "libgrpc++-dev comes from source package $SRC_PKG $SRC_VER"

WORK="$(mktemp -d /tmp/grpc_cli-build.XXXXXX)"
ADDED_SRC_LIST=""
cleanup() {
  rm -rf "$WORK"
  # Take our deb-src entry out again: it would make every later `apt-get update` download the
  # Sources indexes. The stale indexes are dropped by the next `apt-get update`.
  if [[ -n "$ADDED_SRC_LIST" ]]; then rm -f "$ADDED_SRC_LIST"; fi
}
trap cleanup EXIT

source_known() { apt-cache showsrc "$SRC_PKG" 2>/dev/null | grep -qx "Version: $SRC_VER"; }

# --- deb-src entries: reuse the machine's own mirrors (never a hard-coded host). ---------------
# Each enabled binary ("deb") entry gets a twin "deb-src" entry with the same URIs, suites,
# components and signing key. deb822 files (*.sources) and one-line files (*.list) both occur.
add_deb_src() {
  local sources=() lists=()
  shopt -s nullglob
  sources=(/etc/apt/sources.list.d/*.sources)
  lists=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list)
  shopt -u nullglob

  local out_sources="/etc/apt/sources.list.d/zz-grpc-cli-deb-src.sources"
  local out_list="/etc/apt/sources.list.d/zz-grpc-cli-deb-src.list"
  if ((${#sources[@]})); then
    # Paragraph mode: one deb822 stanza per record; copy it with "Types: deb-src".
    awk 'BEGIN { RS = ""; ORS = "\n\n" }
      {
        n = split($0, line, "\n"); types = ""; enabled = 1
        for (i = 1; i <= n; i++) {
          if (line[i] ~ /^Types:/) types = line[i]
          if (line[i] ~ /^Enabled:[ \t]*(no|false)/) enabled = 0
        }
        if (!enabled || types !~ /[: \t]deb([ \t]|$)/) next
        out = ""
        for (i = 1; i <= n; i++)
          out = out (line[i] ~ /^Types:/ ? "Types: deb-src" : line[i]) (i < n ? "\n" : "")
        print out
      }' "${sources[@]}" >"$out_sources"
    if [[ -s "$out_sources" ]]; then ADDED_SRC_LIST="$out_sources"; else rm -f "$out_sources"; fi
  fi
  if [[ -z "$ADDED_SRC_LIST" ]] && ((${#lists[@]})); then
    # One-line format: "deb [options] URI suite components" -> "deb-src ...".
    sed -n 's/^[[:space:]]*deb[[:space:]]\+/deb-src /p' "${lists[@]}" 2>/dev/null >"$out_list" || true
    if [[ -s "$out_list" ]]; then ADDED_SRC_LIST="$out_list"; else rm -f "$out_list"; fi
  fi
  [[ -n "$ADDED_SRC_LIST" ]] || die "found no 'deb' entry in /etc/apt/sources.list{,.d/} to derive deb-src from."
  log "added $ADDED_SRC_LIST"
}

if ! source_known; then
  add_deb_src
  apt-get update -q
  source_known || die "source package $SRC_PKG=$SRC_VER is not available from the configured mirrors."
fi

# --- Download and unpack (with Debian's patches applied) into the temp dir. -------------------
cd "$WORK"
# Let apt's unprivileged _apt user write here, so the download runs sandboxed (no warning).
if id _apt >/dev/null 2>&1; then chown _apt "$WORK"; fi
log "downloading the $SRC_PKG $SRC_VER source package into $WORK"
apt-get source -q "$SRC_PKG=$SRC_VER" >source.log 2>&1 || { cat source.log >&2; die "apt-get source failed"; }
SRC="$(find "$WORK" -mindepth 1 -maxdepth 1 -type d -name "${SRC_PKG}-*" | head -n 1)"
[[ -n "$SRC" && -f "$SRC/test/cpp/util/grpc_cli.cc" ]] || die "unexpected source layout in $WORK"

# --- Generate the reflection client stubs the CLI uses to ask servers for their schema. -------
# (Generated here rather than taken from libgrpc++_reflection, which is for servers.)
REFLECTION_PROTO="src/proto/grpc/reflection/v1alpha/reflection.proto"
GEN="$WORK/gen"
mkdir -p "$GEN"
protoc -I"$SRC" --cpp_out="$GEN" --grpc_out="$GEN" \
  --plugin=protoc-gen-grpc="$(command -v grpc_cpp_plugin)" "$SRC/$REFLECTION_PROTO"

# --- Compile only the CLI's files. ------------------------------------------------------------
# test_config_cc.cc provides InitTest() (flag parsing) that grpc_cli.cc's main() calls;
# cli_credentials.cc includes one internal core header (load_file.h) from the source tree,
# whose function grpc_load_file() is exported by the system's libgrpc.
CLI_SOURCES=(
  test/cpp/util/grpc_cli.cc
  test/cpp/util/grpc_tool.cc
  test/cpp/util/cli_call.cc
  test/cpp/util/cli_credentials.cc
  test/cpp/util/proto_file_parser.cc
  test/cpp/util/proto_reflection_descriptor_database.cc
  test/cpp/util/service_describer.cc
  test/cpp/util/test_config_cc.cc
  "$GEN/${REFLECTION_PROTO%.proto}.pb.cc"
  "$GEN/${REFLECTION_PROTO%.proto}.grpc.pb.cc"
)
# The source tree's include/ is deliberately NOT on the path: public headers come from the
# installed -dev packages so they match the libraries. -DNDEBUG: a release build (the
# "Debug build" line of `grpc_cli --version` comes from Debian's abseil, not from this build).
CXXFLAGS_CLI=(-std=c++17 -O2 -DNDEBUG -I"$SRC" -I"$GEN")
read -r -a PKG_CFLAGS <<<"$(pkg-config --cflags grpc++ protobuf)"
read -r -a PKG_LIBS <<<"$(pkg-config --libs grpc++ protobuf absl_flags absl_flags_parse)"

log "compiling ${#CLI_SOURCES[@]} files (about a minute)"
mkdir -p "$WORK/obj"
cd "$SRC"
pids=()
objs=()
for src in "${CLI_SOURCES[@]}"; do
  obj="$WORK/obj/$(basename "${src%.cc}").o"
  objs+=("$obj")
  g++ "${CXXFLAGS_CLI[@]}" "${PKG_CFLAGS[@]}" -c "$src" -o "$obj" &
  pids+=($!)
  # At most one compile per core at a time.
  if ((${#pids[@]} >= $(nproc))); then wait "${pids[0]}" || die "compile failed"; pids=("${pids[@]:1}"); fi
done
for pid in "${pids[@]}"; do wait "$pid" || die "compile failed"; done
g++ -o "$WORK/grpc_cli" "${objs[@]}" "${PKG_LIBS[@]}" -lprotoc

# --- Check it before installing: command list, and an offline parse that exercises the .proto
# importer and the JSON printer (no server needed).
works "$WORK/grpc_cli" || die "the built grpc_cli does not run"
parsed="$("$WORK/grpc_cli" parse --noremotedb --proto_path="$SRC" --protofiles="$REFLECTION_PROTO" \
  --json_output 127.0.0.1:1 grpc.reflection.v1alpha.ServerReflectionRequest 'list_services: "*"')" \
  || die "the built grpc_cli failed its offline parse check"
[[ "$parsed" == *'"listServices": "*"'* ]] || die "unexpected offline parse output: $parsed"

install -D -m 0755 "$WORK/grpc_cli" "$DEST"
log "installed $DEST (from $SRC_PKG $SRC_VER)"
