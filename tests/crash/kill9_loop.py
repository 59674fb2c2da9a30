#!/usr/bin/python3
"""The kill -9 loop: concurrent writers against a real recondbd, SIGKILL at a
random moment, restart on the same data directory, and check that nothing
acknowledged was lost (issue 14, point 3).

Each round: start recondbd (SQLite, --durability=full; or normal, which makes
the same promise for a crash of the process) on 127.0.0.1:0, run WRITERS threads
that create, update, delete and recreate records they own (each record has a
single writer, so its history is a chain), follow the change feed, kill -9 the
daemon after a random delay, run `PRAGMA integrity_check` on the file
(read-only, daemon dead), restart and check:

  - every acknowledged write is there with its acknowledged revision, or with
    the one write of ours that was in flight on that record when the daemon died
    (its outcome is unknown: it may or may not have committed);
  - no record and no revision exists that no writer attempted;
  - the change feed is as docs/api.md "Change feed" says: seqs strictly
    increasing, each record once, at the winner; every entry the follower saw
    before the crash is still there or superseded by a later seq.

The rounds share one data directory, so later rounds update records (and a
store) that survived earlier crashes. Seeded: the seed is printed and
--seed=N --rounds=M replays the same schedule (as far as a kill -9 can).

    PYTHONPATH=build/python /usr/bin/python3 tests/crash/kill9_loop.py \
        --recondbd=build/daemon/recondbd --rounds=5 [--seed=N]
Exit status: 0 all rounds passed, 1 a check failed (details printed).
"""

import argparse
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

import grpc

from recondb.v1 import admin_pb2
from recondb.v1 import admin_pb2_grpc
from recondb.v1 import database_pb2
from recondb.v1 import database_pb2_grpc
from recondb.v1 import types_pb2

TABLE = "items"
CALL_TIMEOUT_S = 10
LISTENING = re.compile(r"listening on (127\.0\.0\.1:[0-9]+)")


class CheckFailed(Exception):
    pass


class Daemon:
    """recondbd on 127.0.0.1:0 over a given data directory; stopped by PID."""

    def __init__(self, binary, data_dir, log_path, storage, durability):
        self.log_path = log_path
        log = open(log_path, "ab")
        log_start = log.tell()
        self.proc = subprocess.Popen(
            [binary, "--listen=127.0.0.1:0", "--data_dir=" + data_dir, "--storage=" + storage]
            + (["--durability=" + durability] if storage == "sqlite" else []),
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        log.close()
        self.address = self._wait_listening(log_start, 30.0)

    def _wait_listening(self, log_start, timeout_s):
        deadline = time.monotonic() + timeout_s
        while True:
            with open(self.log_path, "rb") as f:
                f.seek(log_start)
                m = LISTENING.search(f.read().decode("utf-8", "replace"))
            if m:
                return m.group(1)
            if self.proc.poll() is not None:
                raise CheckFailed("recondbd exited with %d before listening (log %s)"
                                  % (self.proc.returncode, self.log_path))
            if time.monotonic() > deadline:
                self.kill()
                raise CheckFailed("recondbd did not listen within %ss" % timeout_s)
            time.sleep(0.02)

    def kill(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


class RecordModel:
    """What one writer knows of one record: the acknowledged chain of
    revisions and, after a failed call, the write whose outcome is unknown."""

    def __init__(self, record_id):
        self.id = record_id
        self.acked = []        # [(revision, payload or None for a tombstone)]
        self.in_flight = None  # (parent revision, payload or None)
        self.attempted = set()  # every payload ever sent (None: a delete)

    def last_revision(self):
        return self.acked[-1][0] if self.acked else ""

    def live(self):
        return bool(self.acked) and self.acked[-1][1] is not None


class Writer(threading.Thread):
    """Writes its own records until a call fails (the daemon died) or it is
    told to stop. Every OK answer is recorded; the failing call is in flight."""

    def __init__(self, index, rng, records, stub, stop_event, round_no):
        super().__init__(daemon=True)
        self.index = index
        self.rng = rng
        self.records = records  # shared across rounds: this writer's records
        self.stub = stub
        self.stop_event = stop_event
        self.round_no = round_no
        self.ops = 0
        self.unexpected = None

    def run(self):
        while not self.stop_event.is_set():
            if not self.records or self.rng.random() < 0.3:
                rec = RecordModel("w%d-%d" % (self.index, len(self.records)))
                self.records.append(rec)
            else:
                rec = self.rng.choice(self.records)
            if not self._write(rec):
                return

    def _write(self, rec):
        self.ops += 1
        payload = "r%d-w%d-op%d" % (self.round_no, self.index, self.ops)
        parent = rec.last_revision()
        delete = rec.live() and self.rng.random() < 0.25
        if delete:
            payload = None
        rec.attempted.add(payload)
        rec.in_flight = (parent, payload)
        try:
            if delete:
                got = self.stub.DeleteRecord(database_pb2.DeleteRecordRequest(
                    table=TABLE, id=rec.id, revision=parent), timeout=CALL_TIMEOUT_S)
            else:
                got = self.stub.PutRecord(database_pb2.PutRecordRequest(record=types_pb2.Record(
                    table=TABLE, id=rec.id, revision=parent,
                    attributes={"payload": types_pb2.Value(string=payload),
                                "writer": types_pb2.Value(int=self.index)})),
                    timeout=CALL_TIMEOUT_S)
        except grpc.RpcError as e:
            if e.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED,
                                grpc.StatusCode.DEADLINE_EXCEEDED):
                self.unexpected = "%s on %s: %s %s" % (
                    "delete" if delete else "put", rec.id, e.code(), e.details())
            return False  # rec.in_flight stays: outcome unknown
        if got.deleted != delete or got.id != rec.id:
            self.unexpected = "answer for %s does not match the write: %s" % (rec.id, got)
        rec.acked.append((got.revision, payload))
        rec.in_flight = None
        return True


class Follower(threading.Thread):
    """Follows GetChanges from `since` and keeps every entry it sees."""

    def __init__(self, stub, since):
        super().__init__(daemon=True)
        self.stub = stub
        self.since = since
        self.seen = []
        self.call = None
        self.error = None

    def run(self):
        try:
            self.call = self.stub.GetChanges(
                database_pb2.GetChangesRequest(since=self.since, follow=True))
            for change in self.call:
                self.seen.append(change)
        except grpc.RpcError as e:
            if e.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
                self.error = "%s %s" % (e.code(), e.details())


def integrity_check(db_path):
    """PRAGMA integrity_check on the file the dead daemon left, read-only."""
    conn = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True, timeout=10)
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()
    if rows != [("ok",)]:
        raise CheckFailed("PRAGMA integrity_check: %r" % rows[:20])


def wait_ready(channel):
    grpc.channel_ready_future(channel).result(timeout=30)


def ensure_table(stub):
    C = types_pb2.Column
    try:
        stub.CreateTable(database_pb2.CreateTableRequest(table=types_pb2.Table(name=TABLE, columns=[
            C(name="payload", type=types_pb2.COLUMN_TYPE_STRING, nullable=True),
            C(name="writer", type=types_pb2.COLUMN_TYPE_INT, nullable=True)])),
            timeout=CALL_TIMEOUT_S)
    except grpc.RpcError as e:
        if e.code() != grpc.StatusCode.ALREADY_EXISTS:
            raise


def list_all(stub):
    """Every live record of TABLE: {id: Record}."""
    out, token = {}, ""
    for _ in range(100000):
        try:
            resp = stub.ListRecords(database_pb2.ListRecordsRequest(
                table=TABLE, page_size=1000, page_token=token), timeout=CALL_TIMEOUT_S)
        except grpc.RpcError as e:
            if e.code() == grpc.StatusCode.NOT_FOUND:
                raise CheckFailed("LOST acknowledged write: table %s is gone" % TABLE)
            raise
        for r in resp.records:
            if r.id in out:
                raise CheckFailed("ListRecords returned %s twice" % r.id)
            out[r.id] = r
        token = resp.next_page_token
        if not token:
            return out
    raise CheckFailed("ListRecords did not end")


def check_record(stub, rec, live_now):
    """The record's history is the acknowledged chain, plus at most the write
    that was in flight, as a child of the last acknowledged revision. Resolves
    the in-flight write into rec.acked when it committed."""
    try:
        hist = stub.GetRecordHistory(database_pb2.GetRecordHistoryRequest(
            table=TABLE, id=rec.id), timeout=CALL_TIMEOUT_S).entries
    except grpc.RpcError as e:
        if e.code() != grpc.StatusCode.NOT_FOUND:
            raise
        hist = []
    by_rev = {e.record.revision: e for e in hist}
    parent = ""
    for revision, payload in rec.acked:
        e = by_rev.pop(revision, None)
        if e is None:
            raise CheckFailed("LOST acknowledged write: %s revision %s (payload %r)"
                              % (rec.id, revision, payload))
        if e.parent_revision != parent:
            raise CheckFailed("%s %s has parent %r, acknowledged chain says %r"
                              % (rec.id, revision, e.parent_revision, parent))
        if e.record.deleted != (payload is None) or (
                payload is not None and e.record.attributes["payload"].string != payload):
            raise CheckFailed("%s %s holds %s, acknowledged write was %r"
                              % (rec.id, revision, e.record, payload))
        parent = revision
    if by_rev:
        if len(by_rev) > 1 or rec.in_flight is None:
            raise CheckFailed("%s has revisions nobody acknowledged or sent in flight: %s"
                              % (rec.id, sorted(by_rev)))
        (revision, e), = by_rev.items()
        in_parent, in_payload = rec.in_flight
        got_payload = None if e.record.deleted else e.record.attributes["payload"].string
        if e.parent_revision != in_parent or got_payload != in_payload:
            raise CheckFailed("%s %s (parent %r, payload %r) is not the in-flight write "
                              "(parent %r, payload %r)" % (rec.id, revision, e.parent_revision,
                                                          got_payload, in_parent, in_payload))
        rec.acked.append((revision, in_payload))
    rec.in_flight = None
    winner = live_now.get(rec.id)
    if rec.live():
        if winner is None or winner.revision != rec.acked[-1][0] or winner.conflicted:
            raise CheckFailed("%s: winner %s, expected live %s"
                              % (rec.id, winner and winner.revision, rec.acked[-1][0]))
    elif winner is not None:
        raise CheckFailed("%s is live (%s) but its last write was a delete or none"
                          % (rec.id, winner.revision))


def check_feed(stub, models, seen_before_crash):
    """docs/api.md "Change feed": strictly increasing seqs, each record once at
    its winner; what the follower saw before the crash is still there or
    superseded by a later seq. Returns the feed's last seq."""
    feed = list(stub.GetChanges(database_pb2.GetChangesRequest(since=0), timeout=60))
    last, at = 0, {}
    for c in feed:
        if c.seq <= last:
            raise CheckFailed("change feed seq %d after %d" % (c.seq, last))
        last = c.seq
        key = (c.kind, c.table, c.id)
        if key in at:
            raise CheckFailed("change feed has %s twice (seq %d and %d)" % (key, at[key].seq, c.seq))
        at[key] = c
    for rec in models:
        c = at.pop((types_pb2.CHANGE_KIND_RECORD, TABLE, rec.id), None)
        if not rec.acked:
            if c is not None:
                raise CheckFailed("feed has %s, which was never written" % rec.id)
            continue
        if c is None or c.revision != rec.acked[-1][0] or c.deleted != (not rec.live()):
            raise CheckFailed("feed entry of %s is %s, winner is %s" % (rec.id, c, rec.acked[-1]))
    at.pop((types_pb2.CHANGE_KIND_TABLE, TABLE, ""), None)
    if at:
        raise CheckFailed("feed has entries no writer made: %s" % list(at.values())[:5])
    previous = 0
    records_now = {(x.table, x.id): x for x in feed if x.kind == types_pb2.CHANGE_KIND_RECORD}
    for c in seen_before_crash:
        if c.seq <= previous:
            raise CheckFailed("follower saw seq %d after %d" % (c.seq, previous))
        previous = c.seq
        now = records_now.get((c.table, c.id))
        if c.kind == types_pb2.CHANGE_KIND_RECORD and (
                now is None or now.seq < c.seq or (now.seq == c.seq and now.revision != c.revision)):
            raise CheckFailed("follower saw seq %d %s %s before the crash; feed now has %s"
                              % (c.seq, c.id, c.revision, now))
    return last


def run_round(args, round_no, rng, data_dir, log_path, models_by_writer, state):
    daemon = Daemon(args.recondbd, data_dir, log_path, args.storage, args.durability)
    try:
        channel = grpc.insecure_channel(daemon.address)
        wait_ready(channel)
        stub = database_pb2_grpc.DatabaseStub(channel)
        ensure_table(stub)
        follower = Follower(stub, state["last_seq"])
        follower.start()
        stop = threading.Event()
        writers = [Writer(i, random.Random(rng.getrandbits(64)), models_by_writer[i], stub,
                          stop, round_no) for i in range(args.writers)]
        kill_after = rng.uniform(args.min_kill_s, args.max_kill_s)
        for w in writers:
            w.start()
        time.sleep(kill_after)  # the random moment of the kill is the point of the test
        daemon.kill()
        stop.set()
        for w in writers:
            w.join(timeout=CALL_TIMEOUT_S + 5)
            if w.is_alive():
                raise CheckFailed("writer %d did not stop" % w.index)
            if w.unexpected:
                raise CheckFailed("writer %d: %s" % (w.index, w.unexpected))
        follower.join(timeout=CALL_TIMEOUT_S)
        if follower.error:
            raise CheckFailed("follower: %s" % follower.error)
        channel.close()
    finally:
        daemon.kill()
    if args.storage == "sqlite":
        integrity_check(os.path.join(data_dir, "recondb.sqlite3"))
    ops = sum(w.ops for w in writers)
    in_flight = sum(1 for ms in models_by_writer for m in ms if m.in_flight)

    daemon = Daemon(args.recondbd, data_dir, log_path, args.storage, args.durability)
    try:
        channel = grpc.insecure_channel(daemon.address)
        wait_ready(channel)
        stub = database_pb2_grpc.DatabaseStub(channel)
        # Made again if it was lost, so that each lost write is reported by
        # the record checks below (also with --storage=memory).
        ensure_table(stub)
        live_now = list_all(stub)
        models = [m for ms in models_by_writer for m in ms]
        known = {m.id for m in models}
        strangers = set(live_now) - known
        if strangers:
            raise CheckFailed("records nobody wrote: %s" % sorted(strangers)[:10])
        committed_in_flight = 0
        full = round_no % args.full_check_every == 0
        for m in models:
            if m.in_flight is not None:
                before = len(m.acked)
                check_record(stub, m, live_now)
                committed_in_flight += len(m.acked) - before
            elif full:
                check_record(stub, m, live_now)
            else:
                check_winner(m, live_now)
        state["last_seq"] = check_feed(stub, models, follower.seen)
        admin = admin_pb2_grpc.AdminStub(channel)
        status = admin.GetStatus(admin_pb2.GetStatusRequest(), timeout=CALL_TIMEOUT_S)
        if status.last_seq < state["last_seq"]:
            raise CheckFailed("GetStatus.last_seq %d below the feed's %d"
                              % (status.last_seq, state["last_seq"]))
        channel.close()
    finally:
        daemon.stop()
    print("round %d: killed after %.3fs, %d writes (%d in flight, %d of them committed), "
          "%d records, feed at seq %d: ok" % (round_no, kill_after, ops, in_flight,
                                               committed_in_flight, len(models), state["last_seq"]),
          flush=True)


def check_winner(rec, live_now):
    winner = live_now.get(rec.id)
    if rec.live():
        if winner is None or winner.revision != rec.acked[-1][0]:
            raise CheckFailed("LOST acknowledged write: %s winner %s, acknowledged %s"
                              % (rec.id, winner and winner.revision, rec.acked[-1][0]))
        if winner.attributes["payload"].string != rec.acked[-1][1]:
            raise CheckFailed("%s holds %r, acknowledged %r" % (
                rec.id, winner.attributes["payload"].string, rec.acked[-1][1]))
    elif winner is not None:
        raise CheckFailed("%s is live (%s) but was deleted" % (rec.id, winner.revision))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--recondbd", required=True)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--writers", type=int, default=4)
    p.add_argument("--min_kill_s", type=float, default=0.05)
    p.add_argument("--max_kill_s", type=float, default=1.0)
    p.add_argument("--full_check_every", type=int, default=1,
                   help="check every record's history every N rounds (others: the winner)")
    p.add_argument("--keep", action="store_true", help="keep the data directory and logs")
    p.add_argument("--storage", choices=("sqlite", "memory"), default="sqlite",
                   help="memory: a store that loses everything, with --expect_loss")
    p.add_argument("--durability", choices=("full", "normal"), default="full",
                   help="normal also promises that a write survives a crash of the process")
    p.add_argument("--expect_loss", action="store_true",
                   help="the checker's own test: pass only if a lost acknowledged write is reported")
    args = p.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2 ** 32)
    print("kill9_loop: seed %d, %d rounds, %d writers (replay: --seed=%d --rounds=%d)"
          % (seed, args.rounds, args.writers, seed, args.rounds), flush=True)
    rng = random.Random(seed)
    work = tempfile.mkdtemp(prefix="recondb-kill9-")
    data_dir = os.path.join(work, "data")
    log_path = os.path.join(work, "recondbd.log")
    models_by_writer = [[] for _ in range(args.writers)]
    state = {"last_seq": 0}
    ok = False
    try:
        for round_no in range(1, args.rounds + 1):
            run_round(args, round_no, rng, data_dir, log_path, models_by_writer, state)
        ok = True
    except CheckFailed as e:
        if args.expect_loss and str(e).startswith("LOST acknowledged write"):
            print("kill9_loop: the loss was detected, as expected: %s" % e)
            ok = True
            return 0
        print("FAILED in round %d (seed %d): %s\ndata directory and log kept in %s"
              % (round_no, seed, e, work), flush=True)
        return 1
    finally:
        if ok and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if args.expect_loss:
        print("FAILED: --expect_loss, but no lost write was detected (seed %d)" % seed)
        return 1
    print("kill9_loop: %d rounds passed (seed %d)" % (args.rounds, seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
