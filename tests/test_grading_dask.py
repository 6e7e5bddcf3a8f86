"""Grading on a Dask cluster (issue 19): a real `dask scheduler` and two `dask worker` processes on 127.0.0.1,
one of them killed while it grades; every student still gets exactly one row, equal to a local run's
(tests/test_grading_report.py grades the same class locally and must get bank.REPORT_CLASS_GRADES too).
"""

import csv
import subprocess
import sys
import time

import psutil
import pytest

import submissions as bank
from helpers import ROOT, require
from helpers import dask_cluster, free_port, kill_process_tree
from logitlab.grading import classroom, cluster


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def grade_command(folder, out, *options):
    return [sys.executable, "-m", "logitlab", "grade", str(folder), "--out", str(out), *options]


def grading_now(worker):
    """Whether a worker is grading a notebook: a collector (logitlab.grading.child) runs below it."""
    try:
        return any("logitlab.grading.child" in " ".join(p.cmdline())
                   for p in psutil.Process(worker.pid).children(recursive=True))
    except psutil.Error:
        return False


def test_a_worker_killed_mid_run_loses_nothing(tmp_path):
    require(classroom.sandbox_problem() is None, "bubblewrap (apt-get install bubblewrap)")
    folder, out = tmp_path / "submissions", tmp_path / "out"
    bank.report_class(folder)
    with dask_cluster(tmp_path / "cluster", workers=2) as (address, workers):
        grading = subprocess.Popen(grade_command(folder, out, "--scheduler", address, "--timeout", "60"),
                                   cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline, killed = time.monotonic() + 600, None
        while killed is None and grading.poll() is None and time.monotonic() < deadline:
            killed = next((w for w in workers if grading_now(w)), None)
            time.sleep(0.2)
        assert killed is not None, "no worker was seen grading"
        kill_process_tree(killed.pid)  # the worker, its nanny and the notebook it was grading: a machine lost
        log, _ = grading.communicate(timeout=900)
        assert killed.wait(timeout=30) is not None and grading.returncode == 0, log[-3000:]
    assert "grading on the Dask cluster at" in log and "2 worker(s)" in log
    assert log.count("/03-softmax: ") == 5 and "[  5/5]" in log  # each notebook reported once
    assert sorted(read_rows(out / "grades.csv")[1:]) == sorted(bank.REPORT_CLASS_GRADES)
    assert read_rows(out / "problems.csv")[1:] == bank.REPORT_CLASS_PROBLEMS
    assert sorted(p.parent.name for p in (out / "feedback").rglob("*.html")) == sorted(r[0] for r in
                                                                                      bank.REPORT_CLASS_GRADES)
    assert (out / "report.html").exists()


@pytest.mark.parametrize("address, words", [
    ("nonsense", "is not a Dask scheduler address: expected tcp://HOST:PORT"),
    ("tcp://127.0.0.1:notaport", "has no valid host and port"),
    ("udp://127.0.0.1:8786", "is not a Dask scheduler address"),
    ("tcp://127.0.0.1:{port}", "cannot reach the Dask scheduler at tcp://127.0.0.1:"),
])
def test_a_bad_or_unreachable_scheduler_is_one_clear_sentence(tmp_path, capsys, address, words):
    from logitlab.__main__ import main

    bank.write(tmp_path / "submissions", "alice", "03-softmax", "{}")
    status = main(["grade", str(tmp_path / "submissions"), "--out", str(tmp_path / "out"), "--scheduler",
                   address.format(port=free_port())])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("error: ") and words in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "out").exists()


def test_a_worker_with_another_course_or_no_sandbox_is_refused_by_name(monkeypatch):
    """Before anything is sent, each worker's course fingerprint and sandbox are compared with this machine's."""
    from distributed import Client, LocalCluster

    mine = cluster.fingerprint()
    assert cluster.fingerprint() == mine and len(mine["sha256"]) == 64 and mine["versions"]["distributed"]
    other = {"sha256": "0" * 64, "versions": dict(mine["versions"], numpy="1.0.0")}
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as local, \
            Client(local) as client:
        assert cluster.check_workers(client) == 1
        monkeypatch.setattr(cluster, "worker_status",
                            lambda sandbox=True: {"fingerprint": other, "sandbox": None, "host": "grader-7"})
        with pytest.raises(cluster.ClusterProblem, match=r"\(grader-7\) has another course installed: numpy "
                                                         r"2\.2\.6 here, 1\.0\.0 there"):
            cluster.check_workers(client)
        monkeypatch.setattr(cluster, "worker_status",
                            lambda sandbox=True: {"fingerprint": mine, "sandbox": "no bwrap", "host": "grader-8"})
        with pytest.raises(cluster.ClusterProblem, match=r"\(grader-8\) cannot sandbox: no bwrap"):
            cluster.check_workers(client)
