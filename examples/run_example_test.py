#!/usr/bin/python3
"""Runs an example client (examples/python, examples/node) against a real recondbd.

Used by ctest (label "examples"). It starts recondbd on 127.0.0.1:0 with a
temporary SQLite data directory, waits (bounded) for its `listening on
HOST:PORT` line, runs the example twice with --addr (the second run finds the
table already there), checks the exit codes and the key lines of the output,
stops the daemon by its PID (SIGTERM, exit code 0 expected), then runs the
example once more against the stopped daemon and expects a non-zero exit with
UNAVAILABLE on stderr.

    examples/run_example_test.py --recondbd=build/daemon/recondbd \
        [--npm-ci=SRC_DIR:DEST_DIR] -- /usr/bin/python3 examples/python/todo.py --stubs build/python

--secure runs the same against a daemon with TLS, mutual TLS and --auth=on:
certificates made by scripts/make-certs.sh (a CA, the daemon's, the
client's), the first admin's token from the bootstrap file the daemon
writes, handed to the example through RECONDB_TLS_CA, RECONDB_TLS_CERT,
RECONDB_TLS_KEY and RECONDB_TOKEN (both examples read them). It also expects
UNAUTHENTICATED without the token and a refused connection without the
client certificate.

--npm-ci copies SRC_DIR/package.json and package-lock.json into DEST_DIR, runs
`npm ci` there (bounded in time; a failure fails the test) and puts
DEST_DIR/node_modules on NODE_PATH for the example.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "support"))
from recondbd_process import RecondbdProcess  # noqa: E402

NPM_TIMEOUT_S = 300
EXAMPLE_TIMEOUT_S = 60
ID = r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
REV = r"[1-9][0-9]*-[0-9a-f]{32}"


def fail(message):
    print("FAIL: " + message, flush=True)
    sys.exit(1)


def npm_ci(spec, env):
    src, dest = spec.split(":", 1)
    npm = shutil.which("npm")
    if npm is None:
        fail("npm is not on PATH (scripts/install-deps.sh installs Debian's nodejs and npm)")
    os.makedirs(dest, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(os.path.join(src, name), os.path.join(dest, name))
    cmd = [npm, "ci", "--no-audit", "--no-fund", "--prefer-offline"]
    print("+ (cd %s && %s)" % (dest, " ".join(cmd)), flush=True)
    try:
        r = subprocess.run(cmd, cwd=dest, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=NPM_TIMEOUT_S, env=env)
    except subprocess.TimeoutExpired as e:
        fail("npm ci did not finish within %ds (is the npm registry reachable?)\n%s"
             % (NPM_TIMEOUT_S, (e.output or b"").decode("utf-8", "replace")))
    out = r.stdout.decode("utf-8", "replace")
    print(out, flush=True)
    if r.returncode != 0:
        fail("npm ci failed with exit code %d (is the npm registry reachable?)" % r.returncode)
    env["NODE_PATH"] = os.path.join(dest, "node_modules")


def run_example(cmd, addr, env, extra=()):
    full = list(cmd) + ["--addr", addr] + list(extra)
    print("+ " + " ".join(full), flush=True)
    try:
        r = subprocess.run(full, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=EXAMPLE_TIMEOUT_S, env=env)
    except subprocess.TimeoutExpired:
        fail("the example did not finish within %ds" % EXAMPLE_TIMEOUT_S)
    out = r.stdout.decode("utf-8", "replace")
    err = r.stderr.decode("utf-8", "replace")
    print(out + ("stderr:\n" + err if err else ""), flush=True)
    return r.returncode, out, err


def expect_lines(out, patterns):
    for p in patterns:
        if not re.search(p, out, re.MULTILINE):
            fail("no line matches %r" % p)


# The key lines of a run on a fresh node (the table is created by the first run).
# The change feed lists each record once, at its latest change: the head office
# todo (created), the filters (updated after it), the radio (deleted last).
def first_run_patterns(addr):
    return [
        r"^recondb at %s$" % re.escape(addr),
        r"^table todos: created$",
        r"^created   %s  revision 1-[0-9a-f]{32}$" % ID,
        r"^read      %s  title='Buy water filters' completed=no$" % ID,
        r"^updated   %s  revision 2-[0-9a-f]{32}  completed=yes, title kept: 'Buy water filters'$" % ID,
        r"^completed todos: 1\n  %s  Buy water filters +done=yes" % ID,
        # Ordered by deadline: head office (1 day) before the filters (2 days);
        # the radio (20 days) is out.
        r"^due within 7 days, soonest first: 2\n  %s  Call head office +done=no +due \S+ \S+ UTC\n"
        r"  %s  Buy water filters +done=yes" % (ID, ID),
        r"^history of %s:\n  2-[0-9a-f]{32}  parent 1-[0-9a-f]{32}  \(leaf\)\n  1-[0-9a-f]{32}  parent -$" % ID,
        r"^deleted   %s  tombstone 2-[0-9a-f]{32}$" % ID,
        r"^change feed of todos:\n  seq 1 +table +todos\n"
        r"  seq \d+ +record +%s 1-[0-9a-f]{32}\n"
        r"  seq \d+ +record +%s 2-[0-9a-f]{32}\n"
        r"  seq \d+ +record +%s 2-[0-9a-f]{32}  \(deleted\)$" % (ID, ID, ID),
    ]


REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def secure_daemon(recondbd, certs_dir, env):
    """A daemon with TLS, mTLS and --auth=on; sets the example's TLS variables
    and token in `env`. Returns the daemon."""
    run = subprocess.run([os.path.join(REPO, "scripts", "make-certs.sh"), certs_dir, "server", "client"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    if run.returncode != 0:
        fail("make-certs.sh exited with %d:\n%s" % (run.returncode, run.stdout.decode()))
    token_file = os.path.join(certs_dir, "admin.token")
    daemon = RecondbdProcess(recondbd, extra_args=[
        "--tls_cert=" + os.path.join(certs_dir, "server.pem"),
        "--tls_key=" + os.path.join(certs_dir, "server.key"),
        "--tls_client_ca=" + os.path.join(certs_dir, "ca.pem"),
        "--auth=on", "--admin_token_file=" + token_file])
    with open(token_file) as f:
        token = f.read().strip()
    if token in daemon.log():
        fail("the daemon's log shows the bootstrap token")
    env["RECONDB_TLS_CA"] = os.path.join(certs_dir, "ca.pem")
    env["RECONDB_TLS_CERT"] = os.path.join(certs_dir, "client.pem")
    env["RECONDB_TLS_KEY"] = os.path.join(certs_dir, "client.key")
    env["RECONDB_TOKEN"] = token
    return daemon


def check_refusals(cmd, addr, env):
    """Without the token: UNAUTHENTICATED. Without a client certificate: the
    TLS handshake fails (UNAVAILABLE)."""
    no_token = {k: v for k, v in env.items() if k != "RECONDB_TOKEN"}
    code, _, err = run_example(cmd, addr, no_token, ["--timeout", "5"])
    if code == 0 or not re.search(r"^error: UNAUTHENTICATED: ", err, re.MULTILINE):
        fail("without a token: exit %d, stderr %r (want 'error: UNAUTHENTICATED: ...')" % (code, err))
    no_cert = {k: v for k, v in env.items() if k not in ("RECONDB_TLS_CERT", "RECONDB_TLS_KEY")}
    code, _, err = run_example(cmd, addr, no_cert, ["--timeout", "5"])
    if code == 0 or not re.search(r"^error: UNAVAILABLE: ", err, re.MULTILINE):
        fail("without a client certificate: exit %d, stderr %r (want 'error: UNAVAILABLE: ...')"
             % (code, err))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--recondbd", required=True)
    parser.add_argument("--npm-ci", help="SRC_DIR:DEST_DIR")
    parser.add_argument("--secure", action="store_true",
                        help="TLS, mTLS and a bearer token (--auth=on)")
    parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        fail("no example command given")

    env = dict(os.environ)
    env.pop("RECONDB_ADDR", None)
    if args.npm_ci:
        npm_ci(args.npm_ci, env)

    certs = tempfile.TemporaryDirectory(prefix="recondb-example-certs-")
    try:
        daemon = secure_daemon(args.recondbd, certs.name, env) if args.secure \
            else RecondbdProcess(args.recondbd)
    except RuntimeError as e:
        fail(str(e))
    addr = daemon.address
    try:
        code, out, _ = run_example(cmd, addr, env)
        if code != 0:
            fail("the example exited with %d" % code)
        expect_lines(out, first_run_patterns(addr))

        # Again on the same node: the table is there already, which is fine.
        code, out, _ = run_example(cmd, addr, env)
        if code != 0:
            fail("the second run exited with %d" % code)
        expect_lines(out, [r"^table todos: already exists$", r"^completed todos: 2$",
                           r"^due within 7 days, soonest first: 4$"])
        if args.secure:
            check_refusals(cmd, addr, env)
    finally:
        status = daemon.stop()
        log = daemon.log()
        daemon.cleanup()
    if status != 0:
        fail("recondbd exited with %d on SIGTERM:\n%s" % (status, log))

    # The daemon is gone: a clear gRPC status and a non-zero exit code.
    code, out, err = run_example(cmd, addr, env, ["--timeout", "5"])
    if code == 0:
        fail("the example exited with 0 against a stopped daemon")
    if not re.search(r"^error: UNAVAILABLE: ", err, re.MULTILINE):
        fail("no 'error: UNAVAILABLE: ...' line on stderr")

    certs.cleanup()
    print("PASS", flush=True)


if __name__ == "__main__":
    main()
