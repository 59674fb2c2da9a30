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


def micros(seconds, nanos):
    """A protobuf Timestamp (seconds, nanos 0..999999999 counted forward from
    `seconds`) as written: nanos // 1000 drops the sub-microsecond digits,
    which moves an instant before 1970 to the earlier microsecond (floor),
    never toward zero."""
    return seconds * 1000000 + nanos // 1000


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
    # Written as -0.0: hashed (and stored) as 0.0.
    ("float -0.0", 1, "gauges", "g-1", "", False, {
        "ratio": ("float", -0.0),
    }),
    ("pre-1970 timestamp", 1, "todos", "apollo", "", False, {
        "title": ("string", "Moon landing"),
        "description": ("null", None),
        "completed": ("bool", True),
        # Written as 1969-07-20T20:17:40.1234567Z.
        "deadline_at": ("timestamp", micros(-14182940, 123456700)),
    }),
    ("recreation after delete", 4, "todos", "t1", "@3", False, {
        "title": ("string", "Buy water filters again"),
        "description": ("null", None),
        "completed": ("bool", False),
        "deadline_at": ("null", None),
    }),
    # Table notes has columns title and pinned; this revision was written
    # before pinned was added, so it holds title only.
    ("fewer columns than its table", 1, "notes", "n1", "", False, {
        "title": ("string", "written before pinned was added"),
    }),
    ("non-ASCII record id (NFC)", 1, "todos", "caf\u00e9-\u2615", "", False, {
        "title": ("string", "cr\u00e8me br\u00fbl\u00e9e"),
        "description": ("null", None),
        "completed": ("bool", False),
        "deadline_at": ("null", None),
    }),
    # The same id with e + U+0301: not normalized, so another record.
    ("non-ASCII record id (NFD)", 1, "todos", "cafe\u0301-\u2615", "", False, {
        "title": ("string", "cr\u00e8me br\u00fbl\u00e9e"),
        "description": ("null", None),
        "completed": ("bool", False),
        "deadline_at": ("null", None),
    }),
    ("nulls of every kind", 1, "readings", "r-3", "", False, {
        "count": ("null", None),
        "big": ("null", None),
        "ratio": ("null", None),
        "raw": ("null", None),
        "empty": ("null", None),
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


def wrapped(hex_bytes, width=80):
    """The hex as the doc prints it: lines of `width` digits."""
    return "\n".join(hex_bytes[i:i + width] for i in range(0, len(hex_bytes), width))


def main():
    vectors = compute()
    if "--check" in sys.argv:
        doc = (Path(__file__).parent / "revision-encoding.md").read_text()
        # Each vector's id and its whole encoding, as wrapped() prints it
        # (indented in the doc's code blocks).
        flat = "\n".join(line.strip() for line in doc.splitlines())
        missing = [name for name, hex_bytes, rev in vectors
                   if f"**`{rev}`**" not in doc or wrapped(hex_bytes) not in flat]
        if missing:
            print("vectors missing from docs/revision-encoding.md (id or encoding):", missing)
            return 1
        print(f"{len(vectors)} vectors (ids and encodings) match docs/revision-encoding.md")
        return 0
    for name, hex_bytes, rev in vectors:
        print(f"{name}: {rev}\n{wrapped(hex_bytes)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
