"""The collector: runs one submission's notebook in a sandboxed kernel and reports data, never verdicts.

`python -m logitlab.grading.child JOB FD` runs on the grader's side, outside the sandbox, started by
`logitlab.grading.autograde`. It makes itself non-dumpable, starts an IPython kernel inside
bubblewrap (`logitlab.grading.bwrap`) in the cgroup JOB names (`logitlab.grading.limits`), and talks
to it over ZeroMQ sockets in a folder of its own. The kernel lives in other PID and user namespaces
as another uid without capabilities: it cannot see, signal, trace or write to the collector. The
collector runs the notebook's code cells (never its check cells), then each check's probe
(`logitlab.grading.probe`), and writes one JSON report to the pipe FD (`logitlab.grading.wire`).

A cell or probe that runs past the per-cell timeout is interrupted; one that ignores the interrupt
for GRACE seconds is killed with its kernel. A kernel that dies or is killed is restarted, the
notebook's cells run again (except those that killed it), and grading goes on with the next check:
one lost check, named in the report's problems.
"""

import ctypes
import json
import os
import queue
import secrets
import signal
import sys
import tempfile
import time
from pathlib import Path

from logitlab.grading import bwrap, limits, wire

GRACE = 10  # seconds a kernel gets to answer an interrupt before it is killed (a busy machine answers slowly)
PR_SET_DUMPABLE = 4
PROBE_NAME = f"_logitlab_probe_{secrets.token_hex(8)}"  # a name the submission's code does not know in advance
PREAMBLE = f"{PROBE_NAME} = __import__('logitlab.grading.probe').grading.probe.make_probe()"


def not_dumpable():
    """No core dumps, no ptrace by same-uid processes, /proc/PID files owned by root (prctl PR_SET_DUMPABLE 0)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class Outputs(list):
    """A cell's outputs as they arrive, each cut to MAX_OUTPUT_CHARS with a note, MAX_CELL_CHARS in all."""

    size = 0
    full = False

    def add(self, msg):
        import nbformat

        kind = msg["msg_type"]
        if kind == "clear_output":
            self.clear()
            self.size, self.full = 0, False
            return
        if self.full:
            return
        out = nbformat.v4.output_from_msg(msg)
        if kind == "stream" and self and self[-1].get("output_type") == "stream" and self[-1]["name"] == out["name"]:
            last = self.pop()
            self.size -= len(last["text"])
            out["text"] = last["text"] + out["text"]
        for field, value in [("text", out.get("text"))] + list(out.get("data", {}).items()):
            if isinstance(value, str) and len(value) > wire.MAX_OUTPUT_CHARS:
                cut = value[:wire.MAX_OUTPUT_CHARS] + "\n" + wire.CUT
                if field == "text":
                    out["text"] = cut
                else:
                    out["data"][field] = cut
        size = len(json.dumps(out))
        if self.size + size > wire.MAX_CELL_CHARS:
            self.full = True
            out = nbformat.v4.new_output("stream", name="stdout", text=f"\n{wire.CUT}\n")
        self.size += size
        self.append(out)


class Kernel:
    """One sandboxed kernel at a time: start it, run code with a deadline, kill it."""

    def __init__(self, job, folder):
        self.job, self.folder, self.km, self.kc = job, Path(folder), None, None
        specs = self.folder / "kernels" / "logitlab-sandboxed"
        specs.mkdir(parents=True)
        ipc = self.folder / "ipc"
        ipc.mkdir()
        self.ipc = ipc
        if job["sandbox"]:
            argv = bwrap.kernel_command(job["notebook_file"], ipc, job["tmp_mb"])
            self.home, self.cwd = bwrap.HOME, self.folder
        else:  # --no-sandbox: the kernel runs as the grader, in the notebook's scratch folder
            argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
            self.home, self.cwd = self.folder / "home", Path(job["notebook_file"]).parent
        if job["cgroup"]:
            argv = limits.launcher(job["cgroup"], argv)
        (specs / "kernel.json").write_text(json.dumps({
            "argv": argv, "display_name": "sandboxed", "language": "python", "interrupt_mode": "signal"}))

    def start(self):
        from jupyter_client import KernelManager
        from jupyter_client.kernelspec import KernelSpecManager

        self.stop()
        for stale in self.ipc.iterdir():
            stale.unlink()
        self.km = KernelManager(kernel_name="logitlab-sandboxed", transport="ipc", ip=str(self.ipc / "k"),
                                connection_file=str(self.ipc / "kernel.json"),
                                kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(self.folder / "kernels")]))
        self.km.start_kernel(env=bwrap.private_env(self.home), cwd=str(self.cwd))
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=self.job["startup"])

    def stop(self):
        """Kill the kernel and everything it started."""
        if self.kc is not None:
            self.kc.stop_channels()
        if self.km is not None:
            try:
                self.km.shutdown_kernel(now=True)
            except Exception:  # noqa: BLE001 - a kernel that is already gone
                pass
        self.km = self.kc = None

    def interrupt(self):
        """SIGINT to the kernel process itself, found from outside its namespaces (bubblewrap forwards no signal)."""
        import psutil

        try:
            root = psutil.Process(self.km.provisioner.process.pid)
            for proc in [root, *root.children(recursive=True)]:
                if proc.name().startswith("python") and "ipykernel_launcher" in proc.cmdline():
                    proc.send_signal(signal.SIGINT)
                    return
        except (psutil.Error, AttributeError):
            pass

    def run(self, code, timeout, store_history=True):
        """Run `code`; return (state, Outputs, execution count).

        state is ok, timeout (interrupted), killed (it ignored the interrupt) or died.
        """
        outputs, count = Outputs(), None
        msg_id = self.kc.execute(code, store_history=store_history, allow_stdin=False, stop_on_error=False)
        deadline, state = time.monotonic() + timeout, "ok"
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                if state == "timeout":
                    self.stop()
                    return "killed", outputs, count
                self.interrupt()
                state, deadline = "timeout", time.monotonic() + GRACE
                continue
            try:
                msg = self.kc.get_iopub_msg(timeout=min(left, 1.0))
            except queue.Empty:
                if not self.km.is_alive():
                    self.stop()
                    return "died", outputs, count
                if state == "timeout":  # again: a SIGINT that lands between two requests is ignored by ipykernel
                    self.interrupt()
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            if kind == "status" and msg["content"].get("execution_state") == "idle":
                return state, outputs, count
            if kind == "execute_input":
                count = msg["content"].get("execution_count")
            elif kind in ("stream", "display_data", "execute_result", "error", "clear_output"):
                outputs.add(msg)


def probe_values(outputs, nonce):
    """The values of a probe cell: exactly one message of type MIME carrying `nonce`, else None."""
    found = [out["data"][wire.MIME] for out in outputs
             if out.get("output_type") == "display_data" and wire.MIME in out.get("data", {})]
    if len(found) != 1 or not isinstance(found[0], dict) or found[0].get("nonce") != nonce:
        return None
    results = found[0].get("results")
    return results if isinstance(results, list) else None


def run_job(job, folder):
    """Execute the submission's cells and its probes; return the report (a dict) for the grader."""
    cells, probes, timeout = {int(k): v for k, v in job["cells"].items()}, job["probes"], job["timeout"]
    report = {"version": wire.VERSION, "cells": {}, "timeouts": [], "probes": [None] * len(probes), "problems": []}
    deadline = time.monotonic() + job["budget"]
    kernel, broken = Kernel(job, folder), set()

    def problem(kind, cell=None, probe=None):
        report["problems"].append({"kind": kind, "cell": cell, "probe": probe})

    def prepare():
        """A fresh kernel with the notebook's cells run (those that killed a kernel left out); False past the budget."""
        while time.monotonic() < deadline:
            kernel.start()
            kernel.run(PREAMBLE, timeout, store_history=False)
            for index in sorted(cells):
                if index in broken:
                    continue
                if time.monotonic() > deadline:
                    return False
                state, outputs, count = kernel.run(cells[index], timeout)
                first = str(index) not in report["cells"]
                if first:
                    if state != "ok":
                        outputs.append(wire.stopped_output(timeout) if state != "died" else wire.died_output())
                    report["cells"][str(index)] = {"outputs": list(outputs), "execution_count": count}
                    if state in ("timeout", "killed"):
                        report["timeouts"].append(index)
                    if state in ("killed", "died"):
                        problem("cell_killed" if state == "killed" else "cell_died", cell=index)
                if state in ("killed", "died"):
                    broken.add(index)
                    break
            else:
                return True
        return False

    try:
        ready = prepare()
        for i, spec in enumerate(probes):
            if not ready or time.monotonic() > deadline:
                problem("budget")
                break
            nonce = secrets.token_hex(16)
            code = f"{PROBE_NAME}({json.dumps(json.dumps(spec))}, {nonce!r})"
            state, outputs, _ = kernel.run(code, timeout, store_history=False)
            report["probes"][i] = probe_values(outputs, nonce) if state == "ok" else None
            if state != "ok":
                problem("probe_died" if state == "died" else "probe_timeout", probe=i)
            if state in ("killed", "died") and i + 1 < len(probes):
                ready = prepare()
    finally:
        kernel.stop()
    return report


def main(job_path, fd):
    """Run the job and write its report to file descriptor `fd`, a pipe only the grader reads."""
    not_dumpable()
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="ll-", dir=job["ipc_parent"]) as folder:
        os.chmod(folder, 0o700)
        report = json.dumps(run_job(job, folder), default=dict)
    with os.fdopen(int(fd), "w", encoding="utf-8") as channel:
        channel.write(report)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
