#!/usr/bin/env python3
"""Reference implementation of recondb revision ids (docs/revision-encoding.md).

Independent of the C++ code: it exists so that other implementations can
reproduce revision ids, and so that the test vectors in the docs and in
engine/revision_test.cc are checked by a second implementation.

    python3 docs/revision_reference.py           # prints the test vectors
    python3 docs/revision_reference.py --check   # exits 1 unless they match the doc
"""
import hashlib
import re
import struct
import sys
from pathlib import Path

TAG = {"null": 1, "string": 2, "int": 3, "float": 4, "bool": 5, "timestamp": 6, "bytes": 7}


def lp(b: bytes) -> bytes:
    """Length-prefixed: 4-byte big-endian length, then the bytes."""
    return struct.pack(">I", len(b)) + b


def value_bytes(kind, v) -> bytes:
    if kind == "null":
        return b""
    if kind == "string":
        return v.encode("utf-8")
    if kind == "int":
        return struct.pack(">q", v)
    if kind == "float":
        return struct.pack(">d", 0.0 if v == 0 else v)  # -0.0 is stored as 0.0
    if kind == "bool":
        return b"\x01" if v else b"\x00"
    if kind == "timestamp":  # microseconds since the Unix epoch
        return struct.pack(">q", v)
    if kind == "bytes":
        return v
    raise ValueError(kind)


def encode(table, record_id, parent, deleted, attributes) -> bytes:
    out = lp(b"recondb-revision-v1") + lp(table.encode()) + lp(record_id.encode())
    out += lp(parent.encode()) + (b"\x01" if deleted else b"\x00")
    out += struct.pack(">I", len(attributes))
    for name in sorted(attributes, key=lambda n: n.encode()):
        kind, v = attributes[name]
        out += lp(name.encode()) + bytes([TAG[kind]]) + lp(value_bytes(kind, v))
    return out


def revision(generation, table, record_id, parent, deleted, attributes) -> str:
    digest = hashlib.sha256(encode(table, record_id, parent, deleted, attributes)).hexdigest()
    return f"{generation}-{digest[:32]}"


# 2026-01-01T00:00:00Z in microseconds.
DEADLINE = 1767225600 * 1000000

VECTORS = [
    ("first write", 1, "todos", "t1", "", False, {
        "title": ("string", "Buy water filters"),
        "description": ("null", None),
        "completed": ("bool", False),
        "deadline_at": ("timestamp", DEADLINE),
    }),
    ("update", 2, "todos", "t1", "@1", False, {
        "title": ("string", "Buy water filters"),
        "description": ("string", "für 12 Personen"),
        "completed": ("bool", True),
        "deadline_at": ("timestamp", DEADLINE + 1),
    }),
    ("tombstone", 3, "todos", "t1", "@2", True, {}),
    ("numbers and bytes", 1, "readings", "r-1", "", False, {
        "count": ("int", -1234),
        "big": ("int", 9223372036854775807),
        "ratio": ("float", 0.1),
        "raw": ("bytes", b"\x00\xff"),
        "empty": ("string", ""),
    }),
]


def compute():
    out = []
    for name, gen, table, rid, parent, deleted, attrs in VECTORS:
        if parent.startswith("@"):  # the revision of an earlier vector
            parent = out[int(parent[1:]) - 1][2]
        out.append((name, encode(table, rid, parent, deleted, attrs).hex(),
                    revision(gen, table, rid, parent, deleted, attrs)))
    return out


def main():
    vectors = compute()
    if "--check" in sys.argv:
        doc = (Path(__file__).parent / "revision-encoding.md").read_text()
        missing = [rev for _, _, rev in vectors if rev not in doc]
        if missing:
            print("revision ids missing from docs/revision-encoding.md:", missing)
            return 1
        print(f"{len(vectors)} vectors match docs/revision-encoding.md")
        return 0
    for name, hex_bytes, rev in vectors:
        print(f"{name}: {rev}\n  encoding: {hex_bytes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
