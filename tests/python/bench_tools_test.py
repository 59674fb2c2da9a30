#!/usr/bin/python3
"""The benchmark tools do what their flags say (not how fast: that is theirs
to print). recondb_bench writes records with --description_bytes against a
real recondbd and refuses values out of range; recondb_engine_bench runs its
quick variants without an error; tools/run_benchmarks.sh and
tools/run_replication_benchmark.sh run their sets, over TCP and Unix sockets,
(tools/run_tls_benchmark.sh over plaintext and TLS)
and leave no process and no temporary directory behind.

    PYTHONPATH=build/python python3 tests/python/bench_tools_test.py \
        --recondbd=build/daemon/recondbd --bench=build/tools/recondb_bench \
        --engine_bench=build/tools/recondb_engine_bench
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import unittest

import grpc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from recondbd_process import RecondbdProcess  # noqa: E402

from recondb.v1 import database_pb2
from recondb.v1 import database_pb2_grpc

BINARIES = {}
TIMEOUT_S = 60
TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools")


class RecondbBenchTest(unittest.TestCase):
    def setUp(self):
        self.daemon = RecondbdProcess(BINARIES["recondbd"])
        self.addCleanup(self.daemon.cleanup)

    def bench(self, *flags):
        return subprocess.run([BINARIES["bench"], "--addr=" + self.daemon.address] + list(flags),
                              capture_output=True, text=True, timeout=TIMEOUT_S)

    def test_description_bytes_sets_the_written_description(self):
        run = self.bench("--mode=put", "--requests=5", "--warmup_s=0", "--description_bytes=3000",
                         "--json")
        self.assertEqual(run.returncode, 0, run.stderr)
        result = json.loads(run.stdout.strip().splitlines()[-1])
        self.assertEqual(result["errors"], 0)
        with grpc.insecure_channel(self.daemon.address) as channel:
            stub = database_pb2_grpc.DatabaseStub(channel)
            listed = stub.ListRecords(database_pb2.ListRecordsRequest(table="bench_todos"),
                                      timeout=10)
        self.assertGreaterEqual(len(listed.records), 5)
        for record in listed.records:
            self.assertEqual(record.attributes["description"].string, "d" * 3000)

    def test_description_bytes_out_of_range_exits_2(self):
        for value in ("-1", "65537"):
            run = self.bench("--mode=put", "--requests=1", "--description_bytes=" + value)
            self.assertEqual(run.returncode, 2, value)
            self.assertIn("--description_bytes", run.stderr)


class EngineBenchTest(unittest.TestCase):
    def test_quick_variants_run_without_error(self):
        with tempfile.TemporaryDirectory(prefix="recondb-engine-bench-") as tmp:
            run = subprocess.run(
                [BINARIES["engine_bench"], "--benchmark_min_time=0.01",
                 "--benchmark_filter=Memory|durable:0/page_size:1024"],
                capture_output=True, text=True, timeout=TIMEOUT_S, env=dict(os.environ, TMPDIR=tmp))
            # Its scratch directory is gone with it.
            self.assertEqual(os.listdir(tmp), [])
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertNotIn("ERROR OCCURRED", run.stdout + run.stderr)
        self.assertIn("BM_CreateRecordMemory", run.stdout)
        self.assertIn("BM_CreateRecordSqlite/durable:0/page_size:1024", run.stdout)
        self.assertIn("items_per_second", run.stdout)


class BenchmarkScriptsTest(unittest.TestCase):
    def run_script(self, script, *args):
        """Runs tools/<script> BUILD_DIR ARGS with its own TMPDIR; returns the
        JSON lines it printed, after checking that it exited 0 and cleaned up."""
        build = os.path.dirname(os.path.dirname(os.path.abspath(BINARIES["recondbd"])))
        with tempfile.TemporaryDirectory(prefix="recondb-scripts-") as tmp:
            run = subprocess.run(["sh", os.path.join(TOOLS, script), build] + list(args),
                                 capture_output=True, text=True, timeout=2 * TIMEOUT_S,
                                 env=dict(os.environ, TMPDIR=tmp))
            self.assertEqual(run.returncode, 0, run.stderr)
            # Its servers were stopped by PID and its directory removed. (Any
            # it left are killed here, so that a failure leaves nothing.)
            leaked = processes_mentioning(tmp)
            for pid in leaked:
                os.kill(pid, signal.SIGKILL)
            self.assertEqual(leaked, [])
            self.assertEqual(os.listdir(tmp), [])
        return [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]

    def test_standard_set_runs_over_tcp_and_unix_sockets(self):
        runs = self.run_script("run_benchmarks.sh", "1")
        self.assertEqual([(r["mode"], r["concurrency"], r["addr"].startswith("unix:")) for r in runs],
                         [("echo", 16, False), ("get", 16, False), ("echo", 1, False),
                          ("put", 1, False), ("echo", 1, True), ("put", 1, True),
                          ("put", 16, False), ("mixed", 16, False)])
        for r in runs:
            self.assertEqual(r["errors"], 0, r)
            self.assertGreater(r["calls"], 0, r)

    def test_tls_benchmark_alternates_plaintext_and_tls(self):
        runs = self.run_script("run_tls_benchmark.sh", "1", "1")
        self.assertEqual([(r["mode"], r["concurrency"], r["tls"]) for r in runs],
                         [("get", 16, False), ("put", 1, False), ("put", 16, False),
                          ("get", 16, True), ("put", 1, True), ("put", 16, True)])
        for r in runs:
            self.assertEqual(r["errors"], 0, r)
            self.assertGreater(r["calls"], 0, r)

    def test_replication_benchmark_pulls_every_record(self):
        runs = self.run_script("run_replication_benchmark.sh", "2000")
        self.assertEqual(len(runs), 1)
        self.assertEqual(runs[0]["mode"], "replicate")
        self.assertEqual(runs[0]["pulled"], 2000)


def processes_mentioning(text):
    """The PIDs of running processes whose command line contains `text`."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if text.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass  # Gone meanwhile.
    return found


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--recondbd", required=True)
    parser.add_argument("--bench", required=True)
    parser.add_argument("--engine_bench", required=True)
    args, rest = parser.parse_known_args()
    BINARIES.update(recondbd=args.recondbd, bench=args.bench, engine_bench=args.engine_bench)
    unittest.main(argv=[sys.argv[0]] + rest)
