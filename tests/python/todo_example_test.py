#!/usr/bin/python3
"""The todo example of DESIGN.md from Python, against a real recondbd.

Uses Debian's python3-grpcio and the stubs that the build generates into
${CMAKE_BINARY_DIR}/python (target recondb_python_stubs); ctest puts that
directory on PYTHONPATH. The test starts its own recondbd on a free loopback
port with a temporary data directory and stops it by its PID.

    PYTHONPATH=build/python python3 tests/python/todo_example_test.py \
        --recondbd=build/daemon/recondbd
"""

import argparse
import datetime
import json
import os
import re
import sys
import time
import unittest

import grpc
from google.protobuf import field_mask_pb2
from google.protobuf import json_format
from google.protobuf import struct_pb2
from google.protobuf import timestamp_pb2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from recondbd_process import RecondbdProcess  # noqa: E402

from recondb.v1 import database_pb2
from recondb.v1 import database_pb2_grpc
from recondb.v1 import types_pb2

RECONDBD = os.environ.get("RECONDBD_BINARY", "recondbd")
TIMEOUT_S = 10
UUID_V7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
REVISION = re.compile(r"^[1-9][0-9]*-[0-9a-f]{32}$")


def S(s):
    return types_pb2.Value(string=s)


def B(b):
    return types_pb2.Value(bool=b)


def T(dt):
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(dt)
    return types_pb2.Value(timestamp=ts)


def NULL():
    return types_pb2.Value(null=struct_pb2.NULL_VALUE)


def todo_table(name="todos"):
    C = types_pb2.Column
    return types_pb2.Table(name=name, columns=[
        C(name="title", type=types_pb2.COLUMN_TYPE_STRING, nullable=False, max_length=80),
        C(name="description", type=types_pb2.COLUMN_TYPE_STRING, nullable=True, max_length=120),
        C(name="completed", type=types_pb2.COLUMN_TYPE_BOOL, default_value=B(False)),
        C(name="deadline_at", type=types_pb2.COLUMN_TYPE_TIMESTAMP, nullable=True),
    ])


class ValueJsonTest(unittest.TestCase):
    """The proto3 JSON form of Value is the one of DESIGN.md (protobuf's printer)."""

    def as_json(self, msg):
        return json.loads(json_format.MessageToJson(msg))

    def test_each_kind(self):
        self.assertEqual(self.as_json(S("Buy water filters")), {"string": "Buy water filters"})
        self.assertEqual(self.as_json(types_pb2.Value(int=1234)), {"int": "1234"})
        self.assertEqual(self.as_json(types_pb2.Value(int=-(2 ** 63))), {"int": "-9223372036854775808"})
        self.assertEqual(self.as_json(types_pb2.Value(float=1.5)), {"float": 1.5})
        self.assertEqual(self.as_json(B(False)), {"bool": False})
        self.assertEqual(self.as_json(NULL()), {"null": None})
        self.assertEqual(self.as_json(types_pb2.Value(bytes=b"\x00\x01")), {"bytes": "AAE="})
        self.assertEqual(
            self.as_json(T(datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))),
            {"timestamp": "2026-01-01T00:00:00Z"})

    def test_record_example_of_design_md(self):
        example = {
            "id": "my-record-id",
            "table": "my_table",
            "revision": "1-96fc52d8fbf5d2adc6d139cb5b2ea099",
            "attributes": {
                "title": {"string": "Buy water filters"},
                "quantity": {"int": "1234"},
                "completed": {"bool": False},
            },
        }
        record = json_format.Parse(json.dumps(example), types_pb2.Record())
        self.assertEqual(record.attributes["quantity"].int, 1234)
        self.assertEqual(record.attributes["quantity"].WhichOneof("kind"), "int")
        self.assertEqual(record.attributes["completed"].WhichOneof("kind"), "bool")
        self.assertEqual(self.as_json(record), example)


class TodoExampleTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.daemon = RecondbdProcess(RECONDBD)
        cls.channel = grpc.insecure_channel(cls.daemon.address)
        cls.db = database_pb2_grpc.DatabaseStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        code = cls.daemon.stop()
        log = cls.daemon.log()
        cls.daemon.cleanup()
        if code != 0:
            raise AssertionError("recondbd exited with %d on SIGTERM:\n%s" % (code, log))

    def put(self, record, mask=None):
        req = database_pb2.PutRecordRequest(record=record)
        if mask is not None:
            req.update_mask.CopyFrom(field_mask_pb2.FieldMask(paths=mask))
        return self.db.PutRecord(req, timeout=TIMEOUT_S)

    def get(self, table, id, revision=""):
        return self.db.GetRecord(database_pb2.GetRecordRequest(table=table, id=id, revision=revision),
                                 timeout=TIMEOUT_S)

    def list_all(self, req):
        out = []
        while True:
            resp = self.db.ListRecords(req, timeout=TIMEOUT_S)
            out.extend(resp.records)
            if not resp.next_page_token:
                return out
            req.page_token = resp.next_page_token

    def assertCode(self, code, fn, *mentions):
        with self.assertRaises(grpc.RpcError) as ctx:
            fn()
        self.assertEqual(ctx.exception.code(), code, ctx.exception.details())
        for m in mentions:
            self.assertIn(m, ctx.exception.details())

    def test_todo_example(self):
        db = self.db
        table = db.CreateTable(database_pb2.CreateTableRequest(table=todo_table()), timeout=TIMEOUT_S)
        self.assertEqual(table.name, "todos")
        self.assertEqual(len(table.columns), 4)
        self.assertTrue(table.created_by)
        self.assertEqual(db.GetTable(database_pb2.GetTableRequest(name="todos"), timeout=TIMEOUT_S), table)
        self.assertIn("todos", [t.name for t in
                                db.ListTables(database_pb2.ListTablesRequest(), timeout=TIMEOUT_S).tables])

        # Create: server-assigned UUIDv7 id, generation 1, defaults filled in.
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        filters = self.put(types_pb2.Record(table="todos", attributes={
            "title": S("Buy water filters"), "deadline_at": T(now + datetime.timedelta(days=2))}))
        self.assertRegex(filters.id, UUID_V7)
        self.assertRegex(filters.revision, REVISION)
        self.assertTrue(filters.revision.startswith("1-"))
        self.assertEqual(filters.attributes["completed"], B(False))
        self.assertEqual(filters.attributes["description"], NULL())

        # Read.
        self.assertEqual(self.get("todos", filters.id), filters)

        # Partial update: fields left out keep their value.
        done = self.put(types_pb2.Record(table="todos", id=filters.id, revision=filters.revision,
                                         attributes={"completed": B(True)}), mask=["completed"])
        self.assertTrue(done.revision.startswith("2-"))
        self.assertEqual(done.attributes["completed"], B(True))
        self.assertEqual(done.attributes["title"], S("Buy water filters"))
        self.assertEqual(done.attributes["deadline_at"], filters.attributes["deadline_at"])
        self.assertEqual(self.get("todos", filters.id), done)

        # Stale revision: ABORTED naming the winner.
        self.assertCode(grpc.StatusCode.ABORTED, lambda: self.put(types_pb2.Record(
            table="todos", id=filters.id, revision=filters.revision, attributes={"title": S("late")})),
            done.revision)

        radio = self.put(types_pb2.Record(table="todos", attributes={
            "title": S("Charge the radio"), "deadline_at": T(now + datetime.timedelta(days=20))}))
        call = self.put(types_pb2.Record(table="todos", id="call-hq", attributes={
            "title": S("Call head office"), "description": S("about the filters"),
            "deadline_at": T(now + datetime.timedelta(days=1))}))
        self.assertEqual(call.id, "call-hq")

        # List the completed ones.
        completed = self.list_all(database_pb2.ListRecordsRequest(table="todos", filter=[
            database_pb2.Condition(column="completed", op=database_pb2.OPERATOR_EQ, value=B(True))]))
        self.assertEqual([r.id for r in completed], [filters.id])

        # Due within the next 7 days, soonest first.
        due = self.list_all(database_pb2.ListRecordsRequest(
            table="todos", order_by="deadline_at", filter=[
                database_pb2.Condition(column="deadline_at", op=database_pb2.OPERATOR_GE, value=T(now)),
                database_pb2.Condition(column="deadline_at", op=database_pb2.OPERATOR_LE,
                                       value=T(now + datetime.timedelta(days=7)))]))
        self.assertEqual([r.id for r in due], ["call-hq", filters.id])

        # Pagination.
        page = db.ListRecords(database_pb2.ListRecordsRequest(table="todos", page_size=2), timeout=TIMEOUT_S)
        self.assertEqual(len(page.records), 2)
        self.assertTrue(page.next_page_token)
        rest = db.ListRecords(database_pb2.ListRecordsRequest(table="todos", page_size=2,
                                                              page_token=page.next_page_token),
                              timeout=TIMEOUT_S)
        self.assertEqual(len(rest.records), 1)
        self.assertFalse(rest.next_page_token)
        self.assertEqual(sorted(r.id for r in list(page.records) + list(rest.records)),
                         sorted([filters.id, radio.id, call.id]))

        # Delete: a tombstone; reading it needs its revision.
        tomb = db.DeleteRecord(database_pb2.DeleteRecordRequest(table="todos", id=radio.id),
                               timeout=TIMEOUT_S)
        self.assertTrue(tomb.deleted)
        self.assertTrue(tomb.revision.startswith("2-"))
        self.assertCode(grpc.StatusCode.NOT_FOUND, lambda: self.get("todos", radio.id), radio.id)
        self.assertTrue(self.get("todos", radio.id, tomb.revision).deleted)

        # History, newest first.
        history = db.GetRecordHistory(database_pb2.GetRecordHistoryRequest(table="todos", id=filters.id),
                                      timeout=TIMEOUT_S)
        self.assertEqual([e.record.revision for e in history.entries], [done.revision, filters.revision])
        self.assertEqual([e.leaf for e in history.entries], [True, False])
        self.assertEqual(history.entries[0].parent_revision, filters.revision)

        # Changes: the table first, then each record once at its latest seq.
        changes = list(db.GetChanges(database_pb2.GetChangesRequest(since=0), timeout=TIMEOUT_S))
        self.assertEqual(changes[0].kind, types_pb2.CHANGE_KIND_TABLE)
        self.assertEqual([(c.id, c.revision, c.deleted) for c in changes[1:]],
                         [(filters.id, done.revision, False), (call.id, call.revision, False),
                          (radio.id, tomb.revision, True)])
        seqs = [c.seq for c in changes]
        self.assertEqual(seqs, sorted(set(seqs)))

        # Follow mode: a write made after the stream opened arrives.
        stream = db.GetChanges(database_pb2.GetChangesRequest(since=changes[-2].seq, follow=True),
                               timeout=TIMEOUT_S)
        try:
            first = next(stream)  # catch-up: the stream is open on the server now
            self.assertEqual(first.id, radio.id)
            later = self.put(types_pb2.Record(table="todos", attributes={"title": S("Written later")}))
            change = next(stream)
            self.assertEqual((change.id, change.revision), (later.id, later.revision))
            self.assertGreater(change.seq, first.seq)
        finally:
            stream.cancel()

        # Bad input: the right code and a message naming the culprit.
        self.assertCode(grpc.StatusCode.INVALID_ARGUMENT, lambda: self.put(types_pb2.Record(
            table="todos", attributes={"title": types_pb2.Value(int=5)})), "title")
        self.assertCode(grpc.StatusCode.NOT_FOUND, lambda: self.get("nope", "x"), "nope")

    def test_health(self):
        # grpc.health.v1.Health/Check with raw bytes (Debian has no
        # grpcio-health-checking): an empty request; SERVING is field 1 = 1.
        check = self.channel.unary_unary("/grpc.health.v1.Health/Check",
                                          request_serializer=lambda b: b,
                                          response_deserializer=lambda b: b)
        self.assertEqual(check(b"", timeout=TIMEOUT_S), b"\x08\x01")


class UnixSocketTest(unittest.TestCase):
    """The same stubs over --listen=unix:PATH, the address of local apps."""

    def test_put_get_and_health_over_a_unix_socket(self):
        daemon = RecondbdProcess(RECONDBD, unix_socket=True)
        try:
            self.assertTrue(daemon.address.startswith("unix:/"), daemon.address)
            with grpc.insecure_channel(daemon.address) as channel:
                db = database_pb2_grpc.DatabaseStub(channel)
                db.CreateTable(database_pb2.CreateTableRequest(table=todo_table()), timeout=TIMEOUT_S)
                put = db.PutRecord(database_pb2.PutRecordRequest(record=types_pb2.Record(
                    table="todos", id="local", attributes={"title": S("Over the socket")})),
                    timeout=TIMEOUT_S)
                got = db.GetRecord(database_pb2.GetRecordRequest(table="todos", id="local"),
                                   timeout=TIMEOUT_S)
                self.assertEqual(got.revision, put.revision)
                self.assertEqual(got.attributes["title"].string, "Over the socket")
                check = channel.unary_unary("/grpc.health.v1.Health/Check",
                                            request_serializer=lambda b: b,
                                            response_deserializer=lambda b: b)
                self.assertEqual(check(b"", timeout=TIMEOUT_S), b"\x08\x01")
            self.assertEqual(daemon.stop(), 0, daemon.log())
            self.assertFalse(os.path.exists(daemon.address[len("unix:"):]))
        finally:
            daemon.cleanup()


def main():
    global RECONDBD
    parser = argparse.ArgumentParser()
    parser.add_argument("--recondbd", default=RECONDBD)
    args, rest = parser.parse_known_args()
    RECONDBD = args.recondbd
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
