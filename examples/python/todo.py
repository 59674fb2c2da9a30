#!/usr/bin/python3
"""The todo example of recondb's DESIGN.md, as a small Python gRPC client.

Talks to a running recondbd: creates the `todos` table (already there is fine),
creates todos, reads one, marks it done with a partial update (update_mask),
lists the completed ones and those due within N days (soonest first), shows a
record's history, deletes a todo and prints the change feed.

Needs Debian's python3-grpcio and python3-protobuf, and the generated stubs of
proto/recondb/v1 (the build makes them in build/python; see README.md for a
one-line protoc command). Run from the repository root:

    /usr/bin/python3 examples/python/todo.py --stubs build/python --addr 127.0.0.1:7470

Every call has a deadline. On a failed call it prints the gRPC status to stderr
and exits with code 1.
"""

import argparse
import datetime
import os
import sys

DEFAULT_ADDR = "127.0.0.1:7470"
HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args():
    p = argparse.ArgumentParser(description="recondb todo example (Python)")
    p.add_argument("--addr", default=os.environ.get("RECONDB_ADDR", DEFAULT_ADDR),
                   help="daemon address, host:port (env RECONDB_ADDR, default %s)" % DEFAULT_ADDR)
    p.add_argument("--stubs", default=os.environ.get("RECONDB_PY_STUBS",
                                                     os.path.join(HERE, "..", "..", "build", "python")),
                   help="directory with the generated recondb/v1/*_pb2*.py (default build/python)")
    p.add_argument("--table", default="todos", help="table name (default todos)")
    p.add_argument("--days", type=int, default=7, help="list the todos due within DAYS days (default 7)")
    p.add_argument("--timeout", type=float, default=10.0, help="deadline of each call in seconds (default 10)")
    p.add_argument("--tls_ca", default=os.environ.get("RECONDB_TLS_CA"),
                   help="PEM file of the CA that signed the daemon's certificate: connect with TLS "
                        "(env RECONDB_TLS_CA; default plaintext)")
    p.add_argument("--tls_cert", default=os.environ.get("RECONDB_TLS_CERT"),
                   help="PEM client certificate, for a daemon that requires one (mTLS; env RECONDB_TLS_CERT)")
    p.add_argument("--tls_key", default=os.environ.get("RECONDB_TLS_KEY"),
                   help="PEM key of --tls_cert (env RECONDB_TLS_KEY)")
    p.add_argument("--tls_server_name", default=os.environ.get("RECONDB_TLS_SERVER_NAME"),
                   help="name to verify the daemon's certificate against, when it is not the host of --addr")
    p.add_argument("--token", default=os.environ.get("RECONDB_TOKEN"),
                   help="bearer token of the principal to call as (env RECONDB_TOKEN)")
    args = p.parse_args()
    if (args.tls_cert is None) != (args.tls_key is None):
        p.error("--tls_cert and --tls_key go together")
    if args.tls_cert is not None and args.tls_ca is None:
        p.error("--tls_cert needs --tls_ca")
    return args


ARGS = parse_args()
sys.path.insert(0, ARGS.stubs)
try:
    import grpc
    from google.protobuf import field_mask_pb2
    from recondb.v1 import database_pb2 as db
    from recondb.v1 import database_pb2_grpc as db_grpc
    from recondb.v1 import types_pb2 as types
except ImportError as e:
    sys.exit("error: %s\nInstall python3-grpcio and python3-protobuf, and generate the stubs "
             "(see examples/python/README.md), then pass --stubs DIR." % e)

UTC = datetime.timezone.utc


# --- Values --------------------------------------------------------------

def string(s):
    return types.Value(string=s)


def boolean(b):
    return types.Value(bool=b)


def timestamp(dt):
    v = types.Value()
    v.timestamp.FromDatetime(dt)
    return v


def show(value):
    """A Value as text: its kind decides how."""
    kind = value.WhichOneof("kind")
    if kind is None or kind == "null":
        return "-"
    if kind == "timestamp":
        return value.timestamp.ToDatetime().strftime("%Y-%m-%d %H:%M UTC")
    if kind == "bool":
        return "yes" if value.bool else "no"
    return str(getattr(value, kind))


def line(todo):
    a = todo.attributes
    return "%-36s  %-20s  done=%-3s  due %s" % (
        todo.id, show(a["title"]), show(a["completed"]), show(a["deadline_at"]))


# --- The example ---------------------------------------------------------

class Todos:
    """The calls of the example; each one with a deadline."""

    def __init__(self, channel, table, timeout):
        self.stub = db_grpc.DatabaseStub(channel)
        self.table = table
        self.timeout = timeout

    def create_table(self):
        column = types.Column
        table = types.Table(name=self.table, columns=[
            column(name="title", type=types.COLUMN_TYPE_STRING, max_length=80),
            column(name="description", type=types.COLUMN_TYPE_STRING, nullable=True, max_length=120),
            column(name="completed", type=types.COLUMN_TYPE_BOOL, default_value=boolean(False)),
            column(name="deadline_at", type=types.COLUMN_TYPE_TIMESTAMP, nullable=True, indexed=True),
        ])
        try:
            self.stub.CreateTable(db.CreateTableRequest(table=table), timeout=self.timeout)
            return "created"
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.ALREADY_EXISTS:
                raise
            return "already exists"

    def create(self, title, deadline, description=None):
        attributes = {"title": string(title), "deadline_at": timestamp(deadline)}
        if description is not None:
            attributes["description"] = string(description)
        record = types.Record(table=self.table, attributes=attributes)
        return self.stub.PutRecord(db.PutRecordRequest(record=record), timeout=self.timeout)

    def get(self, id):
        return self.stub.GetRecord(db.GetRecordRequest(table=self.table, id=id), timeout=self.timeout)

    def complete(self, todo):
        """Partial update: only `completed` changes, the other columns keep their value."""
        record = types.Record(table=self.table, id=todo.id, revision=todo.revision,
                              attributes={"completed": boolean(True)})
        return self.stub.PutRecord(
            db.PutRecordRequest(record=record, update_mask=field_mask_pb2.FieldMask(paths=["completed"])),
            timeout=self.timeout)

    def list(self, filter, order_by=""):
        """Every matching todo, following the pages."""
        request = db.ListRecordsRequest(table=self.table, filter=filter, order_by=order_by)
        while True:
            response = self.stub.ListRecords(request, timeout=self.timeout)
            yield from response.records
            if not response.next_page_token:
                return
            request.page_token = response.next_page_token

    def completed(self):
        return self.list([db.Condition(column="completed", op=db.OPERATOR_EQ, value=boolean(True))])

    def due_within(self, now, days):
        return self.list([
            db.Condition(column="deadline_at", op=db.OPERATOR_GE, value=timestamp(now)),
            db.Condition(column="deadline_at", op=db.OPERATOR_LE,
                         value=timestamp(now + datetime.timedelta(days=days))),
        ], order_by="deadline_at")

    def history(self, id):
        return self.stub.GetRecordHistory(db.GetRecordHistoryRequest(table=self.table, id=id),
                                          timeout=self.timeout).entries

    def delete(self, id):
        return self.stub.DeleteRecord(db.DeleteRecordRequest(table=self.table, id=id), timeout=self.timeout)

    def changes(self, since=0):
        # A server stream; the deadline covers the whole stream.
        return self.stub.GetChanges(db.GetChangesRequest(since=since, tables=[self.table]),
                                    timeout=self.timeout)


def run(todos, days):
    print("table %s: %s" % (todos.table, todos.create_table()))

    now = datetime.datetime.now(UTC).replace(microsecond=0)
    filters = todos.create("Buy water filters", now + datetime.timedelta(days=2))
    call = todos.create("Call head office", now + datetime.timedelta(days=1), "about the filters")
    radio = todos.create("Charge the radio", now + datetime.timedelta(days=20))
    for todo in (filters, call, radio):
        print("created   %s  revision %s" % (todo.id, todo.revision))

    read = todos.get(filters.id)
    print("read      %s  title=%r completed=%s" % (read.id, show(read.attributes["title"]),
                                                    show(read.attributes["completed"])))

    done = todos.complete(read)
    print("updated   %s  revision %s  completed=%s, title kept: %r" % (
        done.id, done.revision, show(done.attributes["completed"]), show(done.attributes["title"])))

    completed = list(todos.completed())
    print("completed todos: %d" % len(completed))
    for todo in completed:
        print("  " + line(todo))

    due = list(todos.due_within(now, days))
    print("due within %d days, soonest first: %d" % (days, len(due)))
    for todo in due:
        print("  " + line(todo))

    print("history of %s:" % done.id)
    for entry in todos.history(done.id):
        print("  %s  parent %s%s" % (entry.record.revision, entry.parent_revision or "-",
                                     "  (leaf)" if entry.leaf else ""))

    tombstone = todos.delete(radio.id)
    print("deleted   %s  tombstone %s" % (tombstone.id, tombstone.revision))

    print("change feed of %s:" % todos.table)
    for change in todos.changes():
        what = types.ChangeKind.Name(change.kind).replace("CHANGE_KIND_", "").lower()
        print(("  seq %-4d %-6s %s %s%s" % (change.seq, what, change.id or change.table, change.revision,
                                            "  (deleted)" if change.deleted else "")).rstrip())


# --- Connecting ----------------------------------------------------------

class _BearerToken(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Adds `authorization: Bearer TOKEN` to every call. (grpc's
    access_token_call_credentials would do it too, but only on TLS channels;
    this also serves a daemon on loopback with --auth=on and no TLS.)"""

    def __init__(self, token):
        self._metadata = (("authorization", "Bearer " + token),)

    def _with_token(self, details):
        metadata = tuple(details.metadata or ()) + self._metadata
        return _CallDetails(details.method, details.timeout, metadata, details.credentials,
                            getattr(details, "wait_for_ready", None), getattr(details, "compression", None))

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._with_token(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._with_token(details), request)


class _CallDetails(grpc.ClientCallDetails):
    def __init__(self, method, timeout, metadata, credentials, wait_for_ready, compression):
        self.method, self.timeout, self.metadata = method, timeout, metadata
        self.credentials, self.wait_for_ready, self.compression = credentials, wait_for_ready, compression


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def open_channel():
    """A plaintext channel, or TLS (and mTLS) with --tls_ca; with --token every
    call carries the bearer token."""
    if ARGS.tls_ca is None:
        channel = grpc.insecure_channel(ARGS.addr)
    else:
        creds = grpc.ssl_channel_credentials(
            root_certificates=read_file(ARGS.tls_ca),
            private_key=read_file(ARGS.tls_key) if ARGS.tls_key else None,
            certificate_chain=read_file(ARGS.tls_cert) if ARGS.tls_cert else None)
        options = []
        if ARGS.tls_server_name:
            options.append(("grpc.ssl_target_name_override", ARGS.tls_server_name))
        channel = grpc.secure_channel(ARGS.addr, creds, options=options)
    if ARGS.token:
        channel = grpc.intercept_channel(channel, _BearerToken(ARGS.token))
    return channel


def main():
    with open_channel() as channel:
        todos = Todos(channel, ARGS.table, ARGS.timeout)
        try:
            print("recondb at %s" % ARGS.addr)
            run(todos, ARGS.days)
        except grpc.RpcError as e:
            print("error: %s: %s" % (e.code().name, e.details()), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
