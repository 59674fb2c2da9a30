#!/usr/bin/env bash
# The container test's entry point (ctest -L container; tests/container/README.md).
# Sources the shared container setup (podman, docker-compose on podman's socket,
# local Debian base images), then runs container_test.py. Needs root, like the setup.
#
# The setup script lives outside the repository, in the work area's shared/tools.
# It is looked for, in order: $RECONDB_CONTAINER_SETUP; ../shared/tools/ next to
# the repository (a clone in the work area, as CI makes it); ../../shared/tools/
# (a git worktree under the work area's wt/); /work/shared/tools/.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

candidates=()
[[ -n "${RECONDB_CONTAINER_SETUP:-}" ]] && candidates+=("$RECONDB_CONTAINER_SETUP")
candidates+=(
  "$repo/../shared/tools/container-setup.sh"
  "$repo/../../shared/tools/container-setup.sh"
  /work/shared/tools/container-setup.sh
)
setup=""
for c in "${candidates[@]}"; do
  if [[ -f "$c" ]]; then setup=$c; break; fi
done
if [[ -z "$setup" ]]; then
  echo "container test: container-setup.sh not found; looked at:" >&2
  printf '  %s\n' "${candidates[@]}" >&2
  echo "set RECONDB_CONTAINER_SETUP=/path/to/container-setup.sh" >&2
  exit 1
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "container test: needs root (rootful podman, as $setup sets up)" >&2
  exit 1
fi

# The setup script checks podman's API service with curl but does not install
# it; without curl it would start a second service each time.
if ! command -v curl >/dev/null 2>&1; then
  apt-get install -y --no-install-recommends curl >/dev/null || {
    apt-get update >/dev/null && apt-get install -y --no-install-recommends curl >/dev/null
  }
fi

# Whether podman's API service is already up (someone else's: leave it running).
sock=${CONTAINER_HOME:-/var/tmp/recondb-containers}/podman.sock
service_was_up=0
if [[ -S "$sock" ]] && curl -s --unix-socket "$sock" http://d/_ping >/dev/null 2>&1; then
  service_was_up=1
fi

echo "container test: sourcing $setup"
setup_start=$SECONDS
# shellcheck source=/dev/null
source "$setup"
# The setup script ends with `set +euo pipefail`.
set -euo pipefail
echo "container test: setup took $((SECONDS - setup_start)) s"

teardown() {
  if [[ $service_was_up -eq 0 ]]; then container_teardown; fi
}
trap teardown EXIT
# No exec: the trap stops the API service this run started.
/usr/bin/python3 "$here/container_test.py" --repo "$repo"
