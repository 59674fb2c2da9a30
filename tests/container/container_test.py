#!/usr/bin/python3
"""The container test: docker/Dockerfile and docker/compose.yaml, for real.

Run by run_container_test.sh (ctest -L container), after the shared container
setup has put podman, docker-compose (DOCKER_HOST = podman's socket) and the
Debian base images in place. Steps, each reported PASS or FAIL with its time:

  1. build the image (podman build --format docker, so the HEALTHCHECK is kept)
     and inspect it: non-root user, volume, RECONDB_* environment, HEALTHCHECK;
  2. one container on a free loopback port: `recondb health` inside it, `podman
     healthcheck run`, recondbd as PID 1 running as uid 7470, the database on the
     volume, server reflection listed from the host through the published port,
     a record surviving a graceful stop (exit 0) and a restart;
  3. the compose mesh (node1..3, free loopback ports), secured as it ships:
     certificates made by scripts/make-certs.sh, mTLS between the nodes and for
     clients, --auth=on with the nodes' principals (docker/mesh-principals.json)
     and the first admin's token from each node's bootstrap file. Every node
     healthy and reachable from the host over mTLS; a plaintext client and a TLS
     client without a certificate refused; a call with a node's certificate but
     no token PERMISSION_DENIED for `recondb status`; a record written on node1 read on node2 and
     node3 (bounded polling, 60 s), and seen by `recondb changes --follow` on
     node1 and node2 (the README's demonstration). Needs replication: if `recondbd
     --help` lists no --peer flag this step FAILS saying "replication not
     available" (after checking the write and node1's own followed feed);
  4. cleanup, also on failure or SIGTERM: containers, the mesh (down -v: its
     volumes and network) and the image tag. Build-cache layers are kept, so that
     the next run does not recompile. What a run killed by SIGKILL left behind
     (names carry the run's pid) is removed by the next run, before step 1.

Exit status 0 only if every step passed.
"""
import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

# Debian's python3-grpcio, and the reflection stubs that tests/container/CMakeLists.txt
# generates into the build tree (ctest puts them on PYTHONPATH).
try:
    import grpc
    import reflection_pb2
    import reflection_pb2_grpc
except ImportError as e:
    sys.exit("container test: %s (needs python3-grpcio and PYTHONPATH=build/tests/container/python; "
             "run it with ctest -L container)" % e)

HEALTH_DEADLINE_S = 90
REPLICATION_DEADLINE_S = 60
EXPECTED_SERVICES = {
    "recondb.v1.Database",
    "grpc.health.v1.Health",
    "grpc.reflection.v1alpha.ServerReflection",
}
RECONDB_UID = "7470"
TODOS_COLUMNS = ["--column", "title:string,max=80",
                 "--column", "description:string,nullable,max=120",
                 "--column", "completed:bool,default=false",
                 "--column", "deadline_at:timestamp,nullable"]


def log(msg):
    print(msg, flush=True)


def run(cmd, check=True, timeout=120, env=None, quiet=False, output_file=None):
    """Runs cmd; returns CompletedProcess (text). Raises on a non-zero exit if check."""
    if not quiet:
        log("+ " + " ".join(cmd))
    if output_file is not None:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=output_file,
                              stderr=subprocess.STDOUT, timeout=timeout, env=env, text=True)
    else:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout, env=env, text=True)
    if check and proc.returncode != 0:
        raise StepFailure("%s exited with %d\nstdout: %s\nstderr: %s" % (
            " ".join(cmd), proc.returncode, (proc.stdout or "").strip(),
            (proc.stderr or "").strip()))
    return proc


def poll(what, deadline_s, attempt, interval_s=1.0):
    """Calls attempt() until it returns a true value or deadline_s passes.

    Returns that value; raises StepFailure naming `what` and the last failure."""
    deadline = time.monotonic() + deadline_s
    last = None
    while True:
        try:
            value = attempt()
            if value:
                return value
        except (StepFailure, subprocess.TimeoutExpired, OSError) as e:
            last = e
        if time.monotonic() > deadline:
            raise StepFailure("%s: not within %d s (last error: %s)" % (what, deadline_s, last))
        time.sleep(interval_s)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def list_services(address, timeout_s=10, credentials=None):
    """Service names from server reflection at address (host:port), from this
    host; over TLS with `credentials` (grpc.ssl_channel_credentials)."""
    try:
        with (grpc.secure_channel(address, credentials) if credentials
              else grpc.insecure_channel(address)) as channel:
            grpc.channel_ready_future(channel).result(timeout=timeout_s)
            stub = reflection_pb2_grpc.ServerReflectionStub(channel)
            request = reflection_pb2.ServerReflectionRequest(list_services="")
            names = set()
            for response in stub.ServerReflectionInfo(iter([request]), timeout=timeout_s):
                names.update(s.name for s in response.list_services_response.service)
            return names
    except grpc.FutureTimeoutError:
        raise StepFailure("%s: no gRPC connection within %d s" % (address, timeout_s))
    except grpc.RpcError as e:
        raise StepFailure("%s: ServerReflectionInfo: %s: %s" % (address, e.code(), e.details()))


class StepFailure(Exception):
    pass


class ChangeFollower:
    """`recondb changes --follow` inside a container; its lines collected by a thread."""

    def __init__(self, container, token):
        self.container = container
        cmd = ["podman", "exec", "-e", "RECONDB_TOKEN=" + token, container, "recondb", "changes",
               "--follow"]
        log("+ " + " ".join(cmd) + " &")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)     # end of the stream
            self.cond.notify_all()

    def wait_for(self, record_id, revision, timeout_s):
        """Waits until a line (SEQ KIND TABLE ID REVISION DELETED CONFLICTED) names record_id
        at revision."""
        def seen():
            return any(l is not None and record_id in l.split("\t") and revision in l.split("\t")
                       for l in self.lines)
        with self.cond:
            if not self.cond.wait_for(lambda: seen() or None in self.lines, timeout=timeout_s):
                raise StepFailure("%s: `recondb changes --follow` did not show %s at %s within "
                                  "%.0f s; it printed: %r" % (self.container, record_id, revision,
                                                             timeout_s, self.lines[-10:]))
            if not seen():
                raise StepFailure("%s: `recondb changes --follow` ended (exit %s) before showing "
                                  "%s: %r" % (self.container, self.proc.poll(), record_id,
                                              self.lines[-10:]))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.thread.join(timeout=10)


class ContainerTest:
    def __init__(self, repo):
        self.repo = repo
        self.run_id = "%d-%d" % (os.getpid(), int(time.time()))
        self.image = "localhost/recondb-ctest:%s" % self.run_id
        self.single = "recondb-ctest-%s-single" % self.run_id
        self.project = "recondb-ctest-%s" % self.run_id
        self.tmp = tempfile.TemporaryDirectory(prefix="recondb-ctest-")
        self.results = []       # (step, passed, seconds, detail)
        self.image_built = False
        self.mesh_started = False
        self.single_started = False
        self.compose_env = None
        self.followers = []     # ChangeFollower, stopped at cleanup
        self.tokens = {}        # container id -> its first admin's token (the mesh)
        self.certs = os.path.join(self.tmp.name, "certs")
        self.host_credentials = None  # the host's mTLS client credentials (the mesh)

    # --- steps ------------------------------------------------------------

    def step(self, name, fn):
        log("\n=== %s" % name)
        start = time.monotonic()
        try:
            detail = fn() or ""
            passed = True
        except (StepFailure, subprocess.TimeoutExpired) as e:
            detail = str(e)
            passed = False
        except Exception:   # a bug or an unexpected answer: still report and clean up
            detail = traceback.format_exc()
            passed = False
        seconds = time.monotonic() - start
        self.results.append((name, passed, seconds, detail))
        log("=== %s: %s in %.0f s%s" % (name, "PASS" if passed else "FAIL", seconds,
                                        ("\n" + detail) if detail else ""))
        return passed

    def build_image(self):
        path = os.path.join(self.tmp.name, "build.log")
        with open(path, "w") as out:
            proc = run(["podman", "build", "--format", "docker", "-f",
                        os.path.join(self.repo, "docker/Dockerfile"), "-t", self.image, self.repo],
                       check=False, timeout=3300, output_file=out)
        self.image_built = proc.returncode == 0 or self.image_exists()
        if proc.returncode != 0:
            with open(path) as f:
                tail = f.read().splitlines()[-60:]
            raise StepFailure("podman build exited with %d; last lines:\n%s"
                              % (proc.returncode, "\n".join(tail)))
        return "image %s" % self.image

    def image_exists(self):
        return run(["podman", "image", "exists", self.image], check=False, quiet=True).returncode == 0

    def inspect_image(self):
        info = json.loads(run(["podman", "image", "inspect", self.image]).stdout)[0]
        config = info.get("Config") or {}
        problems = []
        health = (info.get("Healthcheck") or info.get("HealthCheck") or config.get("Healthcheck")
                  or {})
        test = " ".join(health.get("Test") or [])
        if "recondb health" not in test:
            problems.append("no HEALTHCHECK running `recondb health` (got %r)" % health)
        if config.get("User") != "recondb":
            problems.append("runs as %r, not recondb" % config.get("User"))
        if "/var/lib/recondb" not in (config.get("Volumes") or {}):
            problems.append("no volume /var/lib/recondb (volumes: %r)" % config.get("Volumes"))
        env = config.get("Env") or []
        for want in ("RECONDB_LISTEN=0.0.0.0:7470", "RECONDB_DATA_DIR=/var/lib/recondb"):
            if want not in env:
                problems.append("environment lacks %s" % want)
        if problems:
            raise StepFailure("; ".join(problems))
        return "healthcheck: %s; user recondb; volume /var/lib/recondb; size %.0f MB" % (
            test, info.get("Size", 0) / 1e6)

    def cli(self, container, *args, check=True, timeout=30):
        """`recondb ARGS` in the container, as its first admin when the mesh is
        secured (the node's bootstrap token)."""
        env = ["-e", "RECONDB_TOKEN=" + self.tokens[container]] if container in self.tokens else []
        return run(["podman", "exec"] + env + [container, "recondb"] + list(args), check=check,
                   timeout=timeout)

    def wait_healthy(self, container):
        def healthy():
            p = self.cli(container, "health", check=False)
            return p.returncode == 0 and p.stdout.strip() == "SERVING"
        poll("%s: `recondb health` SERVING" % container, HEALTH_DEADLINE_S, healthy)

    def published_address(self, container):
        out = run(["podman", "port", container, "7470/tcp"]).stdout.strip().splitlines()
        if not out or not out[0].startswith("127.0.0.1:"):
            raise StepFailure("%s: 7470 is not published on 127.0.0.1 (podman port: %r)"
                              % (container, out))
        return out[0]

    def check_reflection(self, address, credentials=None):
        names = poll("reflection at %s" % address, 30,
                     lambda: list_services(address, credentials=credentials))
        missing = EXPECTED_SERVICES - names
        if missing:
            raise StepFailure("reflection at %s lacks %s (lists %s)"
                              % (address, sorted(missing), sorted(names)))
        return sorted(names)

    def single_container(self):
        # Closed by default: on 0.0.0.0 without TLS or authentication the
        # daemon refuses to start unless told RECONDB_INSECURE=true.
        refused = run(["podman", "run", "--rm", self.image], check=False)
        if refused.returncode == 0 or "--insecure" not in refused.stdout + refused.stderr:
            raise StepFailure("the image started on 0.0.0.0 without RECONDB_INSECURE: %r"
                                 % (refused.stdout + refused.stderr)[-500:])
        self.single_started = True
        run(["podman", "run", "-d", "--name", self.single, "-e", "RECONDB_INSECURE=true",
             "-p", "127.0.0.1::7470", self.image])
        self.wait_healthy(self.single)
        run(["podman", "healthcheck", "run", self.single])
        status = run(["podman", "exec", self.single, "cat", "/proc/1/status"]).stdout
        comm = run(["podman", "exec", self.single, "cat", "/proc/1/comm"]).stdout.strip()
        uid = re.search(r"^Uid:\s+(\d+)", status, re.M).group(1)
        if comm != "recondbd" or uid != RECONDB_UID:
            raise StepFailure("PID 1 is %r with uid %s, expected recondbd with uid %s"
                              % (comm, uid, RECONDB_UID))
        mounts = json.loads(run(["podman", "inspect", self.single]).stdout)[0].get("Mounts") or []
        if not any(m.get("Destination") == "/var/lib/recondb" and m.get("Type") == "volume"
                   for m in mounts):
            raise StepFailure("/var/lib/recondb is not a volume: %r" % mounts)
        files = run(["podman", "exec", self.single, "ls", "/var/lib/recondb"]).stdout.split()
        if "recondb.sqlite3" not in files:
            raise StepFailure("no recondb.sqlite3 on the volume (it holds %r)" % files)
        address = self.published_address(self.single)
        services = self.check_reflection(address)

        # A write survives a graceful stop (SIGTERM to PID 1, exit 0) and a restart.
        self.cli(self.single, "tables", "create", "todos", *TODOS_COLUMNS)
        put = json.loads(self.cli(self.single, "records", "put", "todos", "t1",
                                  "--set", "title=Buy water filters", "--json").stdout)
        run(["podman", "stop", "-t", "30", self.single], timeout=60)
        code = run(["podman", "inspect", "--format", "{{.State.ExitCode}}", self.single]).stdout
        if code.strip() != "0":
            raise StepFailure("recondbd exited with %s on SIGTERM, expected 0; logs:\n%s"
                              % (code.strip(), self.logs(self.single)))
        run(["podman", "start", self.single])
        self.wait_healthy(self.single)
        got = json.loads(self.cli(self.single, "records", "get", "todos", "t1", "--json").stdout)
        if got.get("revision") != put.get("revision"):
            raise StepFailure("after a restart t1 is %r, expected revision %s" % (got, put["revision"]))
        return "reflection from the host at %s lists %s; t1 %s survived stop (exit 0) and start" % (
            address, ", ".join(services), put["revision"])

    def logs(self, container):
        p = run(["podman", "logs", "--tail", "40", container], check=False, quiet=True)
        return (p.stdout or "") + (p.stderr or "")

    # --- the mesh -----------------------------------------------------------

    def compose(self, *args, check=True, timeout=300):
        return run(["docker-compose", "-p", self.project, "-f",
                    os.path.join(self.repo, "docker/compose.yaml")] + list(args),
                   check=check, timeout=timeout, env=self.compose_env)

    def node(self, service):
        cid = self.compose("ps", "-q", service).stdout.strip()
        if not cid:
            raise StepFailure("compose has no container for %s" % service)
        return cid

    def make_certs(self):
        """The mesh's CA, node1..3's certificates and one for this host's
        client; the nodes' keys readable by the image's user."""
        run([os.path.join(self.repo, "scripts", "make-certs.sh"), self.certs, "node1", "node2",
             "node3", "host"])
        for n in (1, 2, 3):
            os.chown(os.path.join(self.certs, "node%d.key" % n), int(RECONDB_UID), int(RECONDB_UID))

        def read(name):
            with open(os.path.join(self.certs, name), "rb") as f:
                return f.read()
        self.host_credentials = grpc.ssl_channel_credentials(
            root_certificates=read("ca.pem"), private_key=read("host.key"),
            certificate_chain=read("host.pem"))

    def mesh_up(self):
        self.make_certs()
        env = dict(os.environ)
        env["RECONDB_IMAGE"] = self.image
        env["RECONDB_CERTS_DIR"] = self.certs
        ports = {}
        for n in (1, 2, 3):
            ports[n] = free_port()
            env["RECONDB_NODE%d_PORT" % n] = str(ports[n])
        self.compose_env = env
        self.mesh_started = True
        self.compose("up", "-d", "--no-build")
        reached = []
        for n in (1, 2, 3):
            cid = self.node("node%d" % n)
            self.wait_healthy(cid)
            run(["podman", "healthcheck", "run", cid])
            address = self.published_address(cid)
            if address != "127.0.0.1:%d" % ports[n]:
                raise StepFailure("node%d is published on %s, expected 127.0.0.1:%d"
                                  % (n, address, ports[n]))
            self.check_reflection(address, self.host_credentials)
            self.tokens[cid] = run(["podman", "exec", cid, "cat", "/var/lib/recondb/admin.token"],
                                   quiet=True).stdout.strip()
            reached.append("node%d at %s" % (n, address))
        return "healthy and reachable from the host over mTLS: " + ", ".join(reached)

    def mesh_refuses_strangers(self):
        """Closed to a caller without credentials, whichever way it comes."""
        node1 = self.node("node1")
        address = self.published_address(node1)
        for what, credentials in (
                ("plaintext", None),
                ("TLS without a client certificate",
                 grpc.ssl_channel_credentials(root_certificates=open(
                     os.path.join(self.certs, "ca.pem"), "rb").read()))):
            try:
                names = list_services(address, timeout_s=5, credentials=credentials)
            except StepFailure:
                continue
            raise StepFailure("node1 answered a %s client: %s" % (what, sorted(names)))
        # With the node's own certificate (principal node1: pull and push only) and no token.
        p = run(["podman", "exec", node1, "recondb", "status"], check=False)
        if p.returncode == 0 or "PERMISSION_DENIED" not in p.stdout + p.stderr:
            raise StepFailure("`recondb status` as principal node1 without a token: exit %d, %r"
                              % (p.returncode, (p.stdout + p.stderr)[-300:]))
        return ("plaintext and certificate-less TLS clients refused; node1's certificate alone "
                "may not ask for the node's status (PERMISSION_DENIED: it is no admin)")

    def replication_available(self):
        p = run(["podman", "run", "--rm", "--entrypoint", "/usr/local/bin/recondbd", self.image,
                 "--help"], check=False)
        return re.search(r"--peers?\b", p.stdout + p.stderr) is not None

    def mesh_replication(self):
        node1, node2, node3 = (self.node(s) for s in ("node1", "node2", "node3"))
        # The peers' names resolve on the compose network (what RECONDB_PEERS needs).
        for cid, peers in ((node1, ("node2", "node3")), (node2, ("node1", "node3")),
                           (node3, ("node1", "node2"))):
            for peer in peers:
                run(["podman", "exec", cid, "getent", "hosts", peer])
        # The README's demonstration: `recondb changes --follow` while writing on node1.
        followers = {"node1": ChangeFollower(node1, self.tokens[node1]),
                     "node2": ChangeFollower(node2, self.tokens[node2])}
        self.followers.extend(followers.values())
        self.cli(node1, "tables", "create", "todos", *TODOS_COLUMNS)
        record_id = "ctest-%s" % self.run_id
        put = json.loads(self.cli(node1, "records", "put", "todos", record_id,
                                  "--set", "title=Written on node1", "--json").stdout)
        revision = put["revision"]
        followers["node1"].wait_for(record_id, revision, HEALTH_DEADLINE_S)
        if not self.replication_available():
            raise StepFailure("replication not available: `recondbd --help` in the image lists "
                              "no --peer flag, so RECONDB_PEERS is ignored and the record "
                              "written on node1 cannot reach node2 and node3 (node1's own "
                              "change feed did show it)")
        deadline = time.monotonic() + REPLICATION_DEADLINE_S
        followers["node2"].wait_for(record_id, revision, deadline - time.monotonic())
        for service, cid in (("node2", node2), ("node3", node3)):
            def replicated(cid=cid):
                p = self.cli(cid, "records", "get", "todos", record_id, "--json", check=False)
                return p.returncode == 0 and json.loads(p.stdout).get("revision") == revision
            poll("%s: record %s at %s" % (service, record_id, revision),
                 max(1, deadline - time.monotonic()), replicated)
        return ("%s %s written on node1: in node2's followed change feed, read on node2 and "
                "node3" % (record_id, revision))

    # --- cleanup ------------------------------------------------------------

    def sweep_stale_runs(self):
        """Removes what earlier runs left when they were killed (ctest's timeout sends
        SIGKILL, so no cleanup ran): every container, volume, network and image whose
        name carries a run id (pid-time) whose process is gone. Never touches a run
        that is still going."""
        listings = {
            "container": ["podman", "ps", "-a", "--format", "{{.Names}}"],
            "volume": ["podman", "volume", "ls", "--format", "{{.Name}}"],
            "network": ["podman", "network", "ls", "--format", "{{.Name}}"],
            "image": ["podman", "images", "--format", "{{.Repository}}:{{.Tag}}"],
        }
        removals = {
            "container": ["podman", "rm", "-f", "-v", "-t", "5"],
            "volume": ["podman", "volume", "rm", "-f"],
            "network": ["podman", "network", "rm", "-f"],
            "image": ["podman", "rmi"],
        }
        stale = re.compile(r"recondb-ctest[-:](\d+)-\d+")
        for kind in ("container", "volume", "network", "image"):
            names = run(listings[kind], check=False, quiet=True).stdout.split()
            for name in names:
                m = stale.search(name)
                if not m or self.run_id in name or pid_alive(int(m.group(1))):
                    continue
                log("removing the %s %s, left by an earlier run" % (kind, name))
                run(removals[kind] + [name], check=False)

    def cleanup(self):
        log("\n=== cleanup")
        for follower in self.followers:
            follower.stop()
        if self.single_started:
            if any(not r[1] for r in self.results):
                log(self.logs(self.single))
            run(["podman", "rm", "-f", "-v", "-t", "10", self.single], check=False, timeout=120)
        if self.mesh_started:
            if any(not r[1] for r in self.results):
                p = self.compose("logs", "--no-color", "--tail", "30", check=False)
                log(p.stdout + p.stderr)
            self.compose("down", "-v", "--remove-orphans", "--timeout", "30", check=False)
        if self.image_built:
            run(["podman", "rmi", self.image], check=False)
        self.tmp.cleanup()

    def run_all(self):
        total = time.monotonic()
        try:
            self.sweep_stale_runs()
            if self.step("build the image", self.build_image):
                self.step("inspect the image", self.inspect_image)
                self.step("one container", self.single_container)
                if self.step("mesh up (docker/compose.yaml)", self.mesh_up):
                    self.step("mesh: strangers refused", self.mesh_refuses_strangers)
                    self.step("mesh: write on node1, read on node2 and node3 (mTLS)",
                              self.mesh_replication)
        finally:
            self.cleanup()
        log("\n=== summary (%.0f s in all)" % (time.monotonic() - total))
        for name, passed, seconds, _ in self.results:
            log("%s  %5.0f s  %s" % ("PASS" if passed else "FAIL", seconds, name))
        return all(r[1] for r in self.results) and bool(self.results)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", required=True, help="the repository (build context)")
    args = parser.parse_args()
    for tool in ("podman", "docker-compose"):
        if subprocess.run(["sh", "-c", "command -v " + tool], capture_output=True).returncode:
            log("container test: %s not found (source container-setup.sh first)" % tool)
            return 1
    if not os.environ.get("DOCKER_HOST"):
        log("container test: DOCKER_HOST is not set (source container-setup.sh first)")
        return 1
    # ctest's timeout sends SIGTERM: still clean up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    return 0 if ContainerTest(os.path.abspath(args.repo)).run_all() else 1


if __name__ == "__main__":
    sys.exit(main())
