"""What several test modules share and is not a fixture: the repository's root, skipping only outside CI, a free
port, a local Dask cluster. Test modules import these from here, never from each other (conftest.py re-exports
them for older imports)."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition, what):
    """Skip locally when a tool is missing (saying how to get it); fail under CI=true."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is missing, and under CI=true nothing may be skipped")
    pytest.skip(f"{what} is missing")


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def dask_cluster(folder, workers=2):
    """A Dask scheduler and `workers` workers (`--nthreads 1`), each its own process on 127.0.0.1 (random ports),
    as an instructor starts them. Yields (scheduler address, [worker Popen]); stops every process they started."""
    folder.mkdir(parents=True, exist_ok=True)
    dask = str(Path(sys.executable).parent / "dask")
    scheduler_file = folder / "scheduler.json"
    logs, procs = [], []

    def start(name, *args):
        log = open(folder / f"{name}.log", "w")
        logs.append(log)
        procs.append(subprocess.Popen([dask, *args], stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                      cwd=folder))
        return procs[-1]

    try:
        start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
              "--scheduler-file", str(scheduler_file))
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() or not scheduler_file.read_text().strip():
            if time.monotonic() > deadline or procs[0].poll() is not None:
                raise RuntimeError(f"dask scheduler did not start:\n{(folder / 'scheduler.log').read_text()[-2000:]}")
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        workers_started = [start(f"worker-{i}", "worker", address, "--nthreads", "1", "--host", "127.0.0.1",
                                 "--no-dashboard", "--name", f"worker-{i}", "--local-directory", str(folder))
                           for i in range(workers)]
        yield address, workers_started
    finally:
        for proc in procs:
            kill_process_tree(proc.pid)
            proc.wait()
        for log in logs:
            log.close()


def kill_process_tree(pid):
    """SIGKILL a process and every process it started (as a machine that is switched off)."""
    import psutil

    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for proc in tree:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
