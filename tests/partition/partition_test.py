#!/usr/bin/python3
"""The partition test: real recondbd nodes in network namespaces, random cuts
and packet loss with nft, random conflicting writes, a final heal, and a check
that every node converges to the same data (issue 14, point 3).

Topology (all made and removed by this test; nothing in the host's namespace):
  rdb-<run>-br   a bridge br0 (10.77.K.254/24); this process moves into it to
                 talk to the nodes
  rdb-<run>-N    node N: eth0 (10.77.K.N+1/24), the other end a port of br0;
                 recondbd on 10.77.K.N+1:7470, every other node a --peer
Each phase draws a random cut (the nodes split in two groups that cannot reach
each other; sometimes none) and random loss on some nodes (nft `numgen random
mod 100 < P drop` on traffic to and from the other nodes; never on the test's
own address, so every write is answered), and writes random edits: creates,
updates and deletes of a small pool of record ids on random nodes, so the same
records are edited concurrently on both sides of a cut. After the last phase the
rules are removed and the test waits (bounded) until every node has the same
records, revisions, winners and conflicts.

Needs root, `ip netns` and nft; otherwise it exits 77 (ctest SKIP_RETURN_CODE).
Namespaces and daemons are removed in every exit path (also on SIGTERM/SIGINT);
namespaces that an earlier run of this test left (its run prefix names a PID
that is gone) are removed at start.

    PYTHONPATH=build/python /usr/bin/python3 tests/partition/partition_test.py \
        --recondbd=build/daemon/recondbd [--nodes=3] [--phases=4] [--rounds=1] [--seed=N]
"""

import argparse
import ctypes
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77
TABLE = "items"
PORT = 7470
CALL_TIMEOUT_S = 10
PREFIX = "rdb-"
RUN_NAME = re.compile(r"^rdb-(\d+)x[0-9a-f]{4}-(br|\d+)$")
CLONE_NEWNET = 0x40000000


class CheckFailed(Exception):
    pass


class Skip(Exception):
    pass


def sh(*argv, stdin=None, check=True):
    r = subprocess.run(list(argv), input=stdin, capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), r.returncode, r.stderr.strip()))
    return r


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def kill_pid(pid):
    """SIGTERM, a bounded wait, then SIGKILL: one process, by its PID."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and pid_alive(pid):
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            pass
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def delete_namespace(name):
    """Stops what still runs in it (by PID), then deletes it."""
    r = sh("ip", "netns", "pids", name, check=False)
    for pid in r.stdout.split():
        if pid.isdigit() and int(pid) != os.getpid():
            kill_pid(int(pid))
    sh("ip", "netns", "delete", name, check=False)


def run_alive(pid):
    """A test run's process still runs (a zombie does not count)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def remove_stale_namespaces():
    """Namespaces of earlier runs of this test whose process is gone."""
    r = sh("ip", "netns", "list", check=False)
    for line in r.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        m = RUN_NAME.match(name)
        if m and not run_alive(int(m.group(1))):
            delete_namespace(name)


def check_prerequisites():
    if os.geteuid() != 0:
        raise Skip("needs root (network namespaces and nft)")
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            raise Skip("%s is not installed (scripts/install-deps.sh: iproute2, nftables)" % tool)


class Network:
    """The namespaces, the bridge and the veth pairs of one run."""

    def __init__(self, run_id, nodes, subnet):
        self.run = PREFIX + run_id
        self.bridge_ns = self.run + "-br"
        self.node_ns = ["%s-%d" % (self.run, i) for i in range(nodes)]
        self.addresses = ["10.77.%d.%d" % (subnet, i + 1) for i in range(nodes)]
        self.client_address = "10.77.%d.254" % subnet
        self.made = []

    def create(self):
        """Skips when the machine cannot make the network (no namespaces, no
        veth, no nf_tables): that is the environment, not recondb."""
        try:
            self._create()
        except RuntimeError as e:
            raise Skip("cannot build the test network: %s" % e)

    def _create(self):
        self._add_ns(self.bridge_ns)
        sh("ip", "netns", "exec", self.bridge_ns, "nft", "add table inet rdb_probe; delete table inet rdb_probe")
        b = ["ip", "-n", self.bridge_ns]
        sh(*b, "link", "add", "br0", "type", "bridge")
        sh(*b, "addr", "add", self.client_address + "/24", "dev", "br0")
        sh(*b, "link", "set", "br0", "up")
        sh(*b, "link", "set", "lo", "up")
        for i, ns in enumerate(self.node_ns):
            self._add_ns(ns)
            # Made inside the bridge namespace with its other end moved straight
            # into the node's: no interface ever exists in the host's namespace.
            sh(*b, "link", "add", "v%d" % i, "type", "veth", "peer", "name", "eth0", "netns", ns)
            sh(*b, "link", "set", "v%d" % i, "master", "br0", "up")
            n = ["ip", "-n", ns]
            sh(*n, "addr", "add", self.addresses[i] + "/24", "dev", "eth0")
            sh(*n, "link", "set", "eth0", "up")
            sh(*n, "link", "set", "lo", "up")

    def _add_ns(self, name):
        sh("ip", "netns", "add", name)
        self.made.append(name)

    def set_rules(self, node, cut_from, loss_percent, inbound_only=False):
        """Drops all traffic between `node` and the nodes in cut_from (only
        what comes in, for a one-way cut), and loss_percent of its traffic
        with the other nodes."""
        others = [a for j, a in enumerate(self.addresses) if j != node]
        cut = [self.addresses[j] for j in cut_from]
        rules = ["flush ruleset", "table inet rdb_partition {"]
        for chain, hook, field in (("in", "input", "saddr"), ("out", "output", "daddr")):
            rules.append("  chain %s { type filter hook %s priority 0; policy accept;" % (chain, hook))
            if cut and (chain == "in" or not inbound_only):
                rules.append("    ip %s { %s } drop" % (field, ", ".join(cut)))
            if loss_percent:
                rules.append("    ip %s { %s } numgen random mod 100 < %d drop"
                             % (field, ", ".join(others), loss_percent))
            rules.append("  }")
        rules.append("}")
        sh("ip", "netns", "exec", self.node_ns[node], "nft", "-f", "-", stdin="\n".join(rules) + "\n")

    def heal(self):
        for ns in self.node_ns:
            sh("ip", "netns", "exec", ns, "nft", "flush", "ruleset")

    def enter_bridge_namespace(self):
        """Moves this process (single-threaded still: before gRPC starts) into
        the bridge namespace, so that its channels reach the nodes."""
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open("/run/netns/" + self.bridge_ns, os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise RuntimeError("setns: %s" % os.strerror(ctypes.get_errno()))
        finally:
            os.close(fd)

    def destroy(self):
        for name in reversed(self.made):
            delete_namespace(name)
        self.made = []


class Node:
    def __init__(self, binary, ns, address, peers, work):
        peer_flags = ["--peer=" + ",".join("%s:%d" % (p, PORT) for p in peers)] if peers else []
        self.address = "%s:%d" % (address, PORT)
        self.data_dir = os.path.join(work, ns, "data")
        os.makedirs(self.data_dir)
        self.log_path = os.path.join(work, ns, "recondbd.log")
        # --insecure: a non-loopback --listen needs TLS and auth otherwise;
        # these addresses exist only inside the namespaces this test makes,
        # which nothing else can reach. Short keepalives so that a link that a
        # cut left half-open is noticed within the bounded wait.
        self.argv = ["ip", "netns", "exec", ns, binary, "--listen=" + self.address, "--insecure",
                     "--data_dir=" + self.data_dir, "--storage=sqlite", *peer_flags,
                     "--keepalive_time=2s", "--keepalive_timeout=2s", "--min_ping_interval=1s"]
        self.starts = 0
        self._start()

    def _start(self):
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        with open(self.log_path, "ab") as log:
            self.log_start = log.tell()
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.starts += 1

    def crash_and_restart(self):
        """kill -9 by PID, then the same daemon again on the same data."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._start()
        self.wait_listening()

    def wait_listening(self, timeout_s=30):
        deadline = time.monotonic() + timeout_s
        while "listening on " + self.address not in self.log()[self.log_start:]:
            if self.proc.poll() is not None:
                raise CheckFailed("recondbd %s exited %d:\n%s" % (self.address, self.proc.returncode,
                                                                  self.log()[-3000:]))
            if time.monotonic() > deadline:
                raise CheckFailed("recondbd %s did not listen:\n%s" % (self.address, self.log()[-3000:]))
            time.sleep(0.05)

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("latin-1")

    def stop(self):
        if self.proc.poll() is None:
            kill_pid(self.proc.pid)
        self.proc.wait()


def run_round(args, rng, round_no, work):
    # Deferred until the process is in the bridge namespace (gRPC's threads
    # inherit the namespace of the thread that starts them).
    import grpc
    from recondb.v1 import database_pb2
    from recondb.v1 import database_pb2_grpc
    from recondb.v1 import types_pb2

    net = args.net
    nodes = [Node(args.recondbd, ns, addr,
                  [] if args.unpeered else [a for a in net.addresses if a != addr],
                  os.path.join(work, "round%d" % round_no))
             for ns, addr in zip(net.node_ns, net.addresses)]
    args.nodes_running = nodes
    for n in nodes:
        n.wait_listening()
    options = [("grpc.enable_http_proxy", 0)]
    channels = [grpc.insecure_channel(n.address, options=options) for n in nodes]
    for c in channels:
        grpc.channel_ready_future(c).result(timeout=30)
    stubs = [database_pb2_grpc.DatabaseStub(c) for c in channels]

    C = types_pb2.Column
    stubs[0].CreateTable(database_pb2.CreateTableRequest(table=types_pb2.Table(name=TABLE, columns=[
        C(name="text", type=types_pb2.COLUMN_TYPE_STRING, nullable=True),
        C(name="n", type=types_pb2.COLUMN_TYPE_INT, nullable=True)])), timeout=CALL_TIMEOUT_S)
    if args.unpeered:
        for s in stubs[1:]:
            s.CreateTable(database_pb2.CreateTableRequest(table=stubs[0].GetTable(
                database_pb2.GetTableRequest(name=TABLE), timeout=CALL_TIMEOUT_S)), timeout=CALL_TIMEOUT_S)
    wait_until(lambda: all(has_table(s, database_pb2, grpc) for s in stubs), 30,
               "the table reaching every node")

    ids = ["k%d" % i for i in range(args.records)]
    # Two streams: the schedule of cuts, loss and crashes replays exactly from
    # the seed, whatever number of writes the timing allowed in a phase.
    write_rng = random.Random(rng.getrandbits(64))
    rng = random.Random(rng.getrandbits(64))
    counts = {"put": 0, "update": 0, "delete": 0, "resolve": 0, "refused": 0, "kill -9": 0}
    for phase in range(args.phases):
        n = len(nodes)
        group = set(j for j in range(n) if rng.random() < 0.5) if rng.random() < 0.8 else set()
        lossy = {j: rng.choice((5, 20, 50)) for j in range(n) if rng.random() < 0.4}
        # One time in five the cut is one-way: the group drops what the others
        # send it, the others drop nothing (half-open links, as after a bad
        # route).
        one_way = rng.random() < 0.2
        for j in range(n):
            cut_from = [k for k in range(n) if (k in group) != (j in group)]
            if one_way and j not in group:
                cut_from = []
            net.set_rules(j, cut_from, lossy.get(j, 0), inbound_only=one_way)
        print("  phase %d: cut %s %s %s, loss %s" % (
            phase, sorted(group), "<-x-" if one_way else "|", sorted(set(range(n)) - group), lossy),
            flush=True)
        if rng.random() < args.crash_probability:
            victim = rng.randrange(n)
            nodes[victim].crash_and_restart()
            # A fresh channel: the old one may still hold the dead connection
            # (a write on it fails with UNAVAILABLE "Broken pipe").
            channels[victim].close()
            channels[victim] = grpc.insecure_channel(nodes[victim].address, options=options)
            grpc.channel_ready_future(channels[victim]).result(timeout=30)
            stubs[victim] = database_pb2_grpc.DatabaseStub(channels[victim])
            counts["kill -9"] += 1
            print("  phase %d: kill -9 and restart of node %d" % (phase, victim), flush=True)
        phase_end = time.monotonic() + rng.uniform(args.min_phase_s, args.max_phase_s)
        op = 0
        while time.monotonic() < phase_end:
            op += 1
            random_write(write_rng, stubs, ids, "r%d-p%d-%d" % (round_no, phase, op), counts,
                         grpc, database_pb2, types_pb2)
            time.sleep(write_rng.uniform(0, 0.05))  # pacing: spread writes over the phase
    net.heal()
    print("  healed after %s; waiting for convergence" % counts, flush=True)
    started = time.monotonic()
    last = [None]

    at_heal = []

    def converged():
        states = [node_state(s, ids, grpc, database_pb2) for s in stubs]
        last[0] = states
        if not at_heal:  # how much the cuts kept apart: evidence that they cut
            at_heal.append(sum(1 for rid in ids if any(st[rid] != states[0][rid] for st in states)))
        return all(st == states[0] for st in states[1:])
    try:
        wait_until(converged, args.converge_s, "convergence")
    except CheckFailed:
        report_divergence(last[0], nodes)
        raise
    for stub, node in zip(stubs, nodes):
        check_feed(stub, last[0][0], node.address, database_pb2, types_pb2)
    live = sum(1 for v in last[0][0].values() if v[0] == "live")
    conflicted = sum(1 for v in last[0][0].values() if v[0] == "live" and (v[2] or v[3]))
    print("round %d: %d nodes converged %.1fs after the heal (%d records differed at the heal; "
          "%d live, %d conflicted): ok" % (round_no, len(nodes), time.monotonic() - started,
                                           at_heal[0], live, conflicted), flush=True)
    for c in channels:
        c.close()
    for node in nodes:
        node.stop()
    args.nodes_running = []


def has_table(stub, database_pb2, grpc):
    try:
        stub.GetTable(database_pb2.GetTableRequest(name=TABLE), timeout=CALL_TIMEOUT_S)
        return True
    except grpc.RpcError as e:
        if e.code() == grpc.StatusCode.NOT_FOUND:
            return False
        raise


def random_write(rng, stubs, ids, text, counts, grpc, database_pb2, types_pb2):
    """A create, update or delete of a random record on a random node, from
    what that node sees: concurrent edits on both sides of a cut conflict."""
    stub = rng.choice(stubs)
    rid = rng.choice(ids)
    try:
        try:
            cur = stub.GetRecord(database_pb2.GetRecordRequest(table=TABLE, id=rid),
                                 timeout=CALL_TIMEOUT_S)
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.NOT_FOUND:
                raise
            cur = None
        attrs = {"text": types_pb2.Value(string=text), "n": types_pb2.Value(int=rng.randrange(1000))}
        if cur is not None and cur.conflicted and rng.random() < 0.3:
            # A review of the conflict on this side of the cut, perhaps while
            # the other side reviews it too or edits a losing branch.
            deleted = rng.random() < 0.2
            stub.ResolveConflict(database_pb2.ResolveConflictRequest(record=types_pb2.Record(
                table=TABLE, id=rid, revision=cur.revision, deleted=deleted,
                attributes={} if deleted else attrs)), timeout=CALL_TIMEOUT_S)
            counts["resolve"] += 1
        elif cur is not None and rng.random() < 0.25:
            stub.DeleteRecord(database_pb2.DeleteRecordRequest(table=TABLE, id=rid, revision=cur.revision),
                              timeout=CALL_TIMEOUT_S)
            counts["delete"] += 1
        else:
            stub.PutRecord(database_pb2.PutRecordRequest(record=types_pb2.Record(
                table=TABLE, id=rid, revision=cur.revision if cur else "", attributes=attrs)),
                timeout=CALL_TIMEOUT_S)
            counts["update" if cur else "put"] += 1
    except grpc.RpcError as e:
        # A replicated revision may land between our read and our write.
        if e.code() in (grpc.StatusCode.ABORTED, grpc.StatusCode.ALREADY_EXISTS,
                        grpc.StatusCode.NOT_FOUND):
            counts["refused"] += 1
            return
        raise CheckFailed("write of %s: %s %s" % (rid, e.code(), e.details()))


def node_state(stub, ids, grpc, database_pb2):
    """{id: (live|deleted|absent, winner, conflicts, deleted conflicts,
    every revision with parent, deletion and attributes)}."""
    state = {}
    for rid in ids:
        try:
            hist = stub.GetRecordHistory(database_pb2.GetRecordHistoryRequest(table=TABLE, id=rid),
                                         timeout=CALL_TIMEOUT_S).entries
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.NOT_FOUND:
                raise
            state[rid] = ("absent",)
            continue
        # Every revision of the tree, with its parent and deletion. Bodies of
        # the leaves only: ancestors travel as stubs by design (their content
        # stays on the nodes that had it; docs/replication-protocol.md).
        revisions = tuple(sorted(
            (e.record.revision, e.parent_revision, e.record.deleted, e.leaf,
             (e.stub, tuple(sorted((k, v.SerializeToString()) for k, v in e.record.attributes.items())))
             if e.leaf else None)
            for e in hist))
        try:
            w = stub.GetRecord(database_pb2.GetRecordRequest(table=TABLE, id=rid, include_conflicts=True),
                               timeout=CALL_TIMEOUT_S)
            state[rid] = ("live", w.revision, tuple(w.conflicts), tuple(w.deleted_conflicts), revisions)
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.NOT_FOUND:
                raise
            state[rid] = ("deleted", "", (), (), revisions)
    return state


def check_feed(stub, state, address, database_pb2, types_pb2):
    """docs/api.md "Change feed": strictly increasing seqs, each record once,
    at its winner, with its deletion and conflicted state."""
    last, seen = 0, set()
    for c in stub.GetChanges(database_pb2.GetChangesRequest(since=0, tables=[TABLE]),
                             timeout=60):
        if c.seq <= last:
            raise CheckFailed("%s: feed seq %d after %d" % (address, c.seq, last))
        last = c.seq
        if c.kind != types_pb2.CHANGE_KIND_RECORD:
            continue
        if c.id in seen:
            raise CheckFailed("%s: feed has %s twice" % (address, c.id))
        seen.add(c.id)
        st = state.get(c.id, ("absent",))
        live = st[0] == "live"
        winner = st[1] if live else max(
            (r for r in st[4] if r[3]), key=lambda r: (int(r[0].split("-")[0]), r[0]))[0] \
            if st[0] == "deleted" else None
        if st[0] == "absent" or c.deleted == live or c.revision != winner or \
                c.conflicted != (live and bool(st[2] or st[3])):
            raise CheckFailed("%s: feed entry %s does not match the record %s" % (address, c, st[:4]))
    missing = set(k for k, v in state.items() if v[0] != "absent") - seen
    if missing:
        raise CheckFailed("%s: no feed entry for %s" % (address, sorted(missing)))


def report_divergence(states, nodes):
    if not states:
        return
    for rid in sorted(states[0]):
        values = [st.get(rid) for st in states]
        if any(v != values[0] for v in values[1:]):
            print("DIVERGED %s:" % rid)
            for node, v in zip(nodes, values):
                print("  %s: %s" % (node.address, v))
    for node in nodes:
        print("log of %s: %s" % (node.address, node.log_path))


def wait_until(condition, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise CheckFailed("no %s within %ss" % (what, timeout_s))
        time.sleep(0.25)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--recondbd", required=True)
    p.add_argument("--nodes", type=int, default=3, choices=range(2, 10))
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--phases", type=int, default=4)
    p.add_argument("--records", type=int, default=12, help="size of the pool of record ids")
    p.add_argument("--min_phase_s", type=float, default=1.0)
    p.add_argument("--max_phase_s", type=float, default=3.0)
    p.add_argument("--converge_s", type=float, default=60.0, help="bounded wait after the heal")
    p.add_argument("--crash_probability", type=float, default=0.25,
                   help="chance that a phase starts with a kill -9 and restart of a random node")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--unpeered", action="store_true",
                   help="the checker's own test: nodes without peers, which cannot converge")
    p.add_argument("--expect_divergence", action="store_true",
                   help="pass only if the nodes are reported as not converging")
    args = p.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2 ** 32)
    rng = random.Random(seed)
    print("partition_test: seed %d, %d nodes, %d rounds of %d phases (replay: --seed=%d --nodes=%d "
          "--phases=%d)" % (seed, args.nodes, args.rounds, args.phases, seed, args.nodes, args.phases),
          flush=True)

    def on_signal(signum, frame):
        raise SystemExit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)

    args.nodes_running = []
    net = None
    work = tempfile.mkdtemp(prefix="recondb-partition-")
    ok = False
    try:
        check_prerequisites()
        remove_stale_namespaces()
        run_id = "%dx%04x" % (os.getpid(), random.SystemRandom().randrange(0x10000))
        net = Network(run_id, args.nodes, rng.randrange(1, 250))
        args.net = net
        net.create()
        net.enter_bridge_namespace()
        for round_no in range(1, args.rounds + 1):
            run_round(args, rng, round_no, work)
        if args.expect_divergence:
            print("FAILED: --expect_divergence, but the nodes converged (seed %d)" % seed)
            return 1
        ok = True
        print("partition_test: %d rounds passed (seed %d)" % (args.rounds, seed))
        return 0
    except Skip as e:
        print("SKIPPED: %s" % e)
        ok = True
        return SKIP
    except CheckFailed as e:
        if args.expect_divergence and str(e).startswith("no convergence"):
            print("partition_test: the divergence was detected, as expected")
            ok = True
            return 0
        print("FAILED (seed %d): %s\nlogs kept in %s" % (seed, e, work), flush=True)
        return 1
    finally:
        for node in args.nodes_running:
            node.stop()
        if net is not None:
            net.destroy()
        if ok:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
