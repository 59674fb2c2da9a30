"""Runs the real recondbd binary as a child process, for Python tests.

    daemon = RecondbdProcess("/path/to/recondbd")   # 127.0.0.1:0, own data dir
    ... grpc.insecure_channel(daemon.address) ...
    RecondbdProcess(binary, unix_socket=True)        # unix:<its temp dir>/recondb.sock
    RecondbdProcess(binary, extra_args=["--auth=on", ...])  # more flags
    daemon.cleanup()                                 # SIGTERM by PID, temp dir removed

Shared by tests/python and examples/run_example_test.py; the C++ tests use
tests/support/daemon_process.h.
"""
import os
import re
import signal
import subprocess
import tempfile
import time

LISTENING = re.compile(r"listening on (unix:[^ \n]+|(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.\-]+):[0-9]+)")


class RecondbdProcess:
    """A recondbd child process on 127.0.0.1:0 (or on a Unix socket in its
    temporary directory) with its own data directory."""

    def __init__(self, binary, unix_socket=False, extra_args=()):
        self._tmp = tempfile.TemporaryDirectory(prefix="recondb-py-")
        self.data_dir = os.path.join(self._tmp.name, "data")
        os.mkdir(self.data_dir)
        self.log_path = os.path.join(self._tmp.name, "recondbd.log")
        listen = ("unix:" + os.path.join(self._tmp.name, "recondb.sock")) if unix_socket \
            else "127.0.0.1:0"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [binary, "--listen=" + listen, "--data_dir=" + self.data_dir, "--storage=sqlite"]
            + list(extra_args),
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.address = self._wait_listening(20.0)

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def _wait_listening(self, timeout_s):
        deadline = time.monotonic() + timeout_s
        while True:
            m = LISTENING.search(self.log())
            if m:
                return m.group(1)
            if self.proc.poll() is not None:
                raise RuntimeError("recondbd exited with %d before listening:\n%s"
                                   % (self.proc.returncode, self.log()))
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("recondbd did not listen within %ss:\n%s" % (timeout_s, self.log()))
            time.sleep(0.02)

    def stop(self):
        """SIGTERM by PID, bounded wait, SIGKILL fallback; returns the exit code."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def cleanup(self):
        self.stop()
        self._tmp.cleanup()
