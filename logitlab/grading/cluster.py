"""Grading on a Dask cluster: `python -m logitlab grade SUBMISSIONS --out OUT --scheduler tcp://HOST:8786`.

The coordinating process (`classroom.grade_class`) finds and reads the submissions as untrusted files, as
always, and sends one task per student notebook to the cluster's scheduler: the notebook's bytes travel with
the task, so workers need no shared file system. A worker grades it exactly as a local run does (the same
`classroom.Course`, nbgrader's autograde, the collector and the kernel in bubblewrap with its cgroup) and
returns data only: the row of grades.csv with its verdicts and the feedback page. Only the coordinating process
writes OUT/.

Each worker must have the same course installed (this repository at the same commit, `make install`) and
bubblewrap: before grading, every worker is asked for its course fingerprint (the `logitlab` sources, the
solutions and the grading packages' versions) and whether it can sandbox; a mismatch stops the run with a
sentence naming the worker. Faults: a task whose worker dies is run again on another worker by the scheduler
(up to `distributed.scheduler.allowed-failures` times); one that keeps killing workers gets a row with score 0
and a reason, so no student is ever dropped or counted twice.
"""

import atexit
import functools
import hashlib
import json
import shutil
import socket
import sys
import tempfile
import threading
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace

from logitlab.authoring import course
from logitlab.grading import classroom
from logitlab.grading.warm import WarmAutograde

SCHEMES = ("tcp", "tls")
PACKAGES = ("nbgrader", "nbconvert", "nbclient", "nbformat", "ipykernel", "jupyter_client", "numpy", "nh3",
            "tensorflow-cpu", "keras", "dask", "distributed")


class ClusterProblem(RuntimeError):
    """The cluster cannot grade this class: unreachable, a bad address, or a worker unlike the coordinator."""


def parse_address(address):
    """(scheme, host, port) of a scheduler address such as tcp://10.0.0.5:8786; ValueError says what is expected."""
    expected = "expected tcp://HOST:PORT (or tls://HOST:PORT), e.g. tcp://127.0.0.1:8786"
    scheme, sep, rest = str(address).partition("://")
    if not sep or scheme not in SCHEMES:
        raise ValueError(f"--scheduler {address!r} is not a Dask scheduler address: {expected}")
    host, sep, port = rest.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--scheduler {address!r} has no valid host and port: {expected}")
    return scheme, host, int(port)


def connect(address, timeout=30):
    """A dask.distributed Client of the scheduler at `address`; ClusterProblem (a sentence) if it cannot be had."""
    _, host, port = parse_address(address)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as err:
        raise ClusterProblem(f"cannot reach the Dask scheduler at {address} ({err.strerror or err}): start one "
                             "with `dask scheduler` and check the host, the port and any firewall") from None
    from distributed import Client

    try:
        return Client(address, timeout=timeout)
    except (OSError, TimeoutError) as err:
        raise ClusterProblem(f"the Dask scheduler at {address} did not answer ({err})") from None


def fingerprint(root=course.ROOT):
    """What must be the same on every machine that grades: the logitlab sources, the solutions, the versions of
    the packages grading runs on (a sha256, and the versions for the error message)."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    files = sorted(package.rglob("*.py")) + sorted((Path(root) / "solutions").glob("*.ipynb"))
    for path in files:
        name = path.relative_to(package.parent if path.is_relative_to(package) else Path(root))
        digest.update(str(name).encode() + b"\0" + path.read_bytes() + b"\0")
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    versions["python"] = "%d.%d" % sys.version_info[:2]
    digest.update(json.dumps(versions, sort_keys=True).encode())
    return {"sha256": digest.hexdigest(), "versions": versions}


@functools.cache
def sandbox_problem_here():
    """Why this worker cannot sandbox, or None (bubblewrap is tried once per worker process)."""
    return classroom.sandbox_problem()


def worker_status(sandbox=True):
    """What the coordinator asks each worker before grading: its fingerprint, and why it cannot sandbox (or None)."""
    return {"fingerprint": fingerprint(), "sandbox": sandbox_problem_here() if sandbox else None,
            "host": socket.gethostname()}


def check_workers(client, sandbox=True, wait=60):
    """Wait up to `wait` s for a worker, then make sure every worker grades as this machine would."""
    try:
        client.wait_for_workers(1, timeout=wait)
    except TimeoutError:
        raise ClusterProblem(f"the Dask scheduler has no worker after {wait} s: start some with "
                             "`dask worker SCHEDULER --nthreads 1` (README, \"Grading a large course\")") from None
    mine = fingerprint()
    problems = []
    for worker, status in client.run(worker_status, sandbox).items():
        theirs = status["fingerprint"]
        if status["sandbox"]:
            problems.append(f"worker {worker} ({status['host']}) cannot sandbox: {status['sandbox']}")
        elif theirs["sha256"] != mine["sha256"]:
            differ = {k: (v, theirs["versions"].get(k)) for k, v in mine["versions"].items()
                      if theirs["versions"].get(k) != v}
            what = (", ".join(f"{k} {a} here, {b} there" for k, (a, b) in differ.items()) if differ
                    else "the logitlab sources or solutions differ")
            problems.append(f"worker {worker} ({status['host']}) has another course installed: {what}")
    if problems:
        raise ClusterProblem("; ".join(problems) + ". Every worker needs this repository at the same commit, "
                             "installed with `make install`, and bubblewrap (README, \"Grading a large course\")")
    return len(client.scheduler_info()["workers"])


_HERE = threading.local()  # a worker thread's course, its warm grader, and which run they belong to


def _worker_course(settings, stems):
    """The course of this worker thread for this run (built once per run, like each local worker's)."""
    key = json.dumps([settings, stems], sort_keys=True)
    if getattr(_HERE, "key", None) != key:
        if getattr(_HERE, "warm", None) is not None:
            _HERE.warm.close()
            shutil.rmtree(_HERE.folder, ignore_errors=True)
        _HERE.folder = tempfile.mkdtemp(prefix="logitlab-worker-")
        atexit.register(shutil.rmtree, _HERE.folder, ignore_errors=True)  # a worker that stops cleanly
        solutions = [course.ROOT / "solutions" / f"{stem}.ipynb" for stem in stems]
        _HERE.course = classroom.Course(Path(_HERE.folder) / "course", solutions, settings)
        _HERE.warm = WarmAutograde(_HERE.course.root)
        _HERE.key = key
    return _HERE.course, _HERE.warm


def grade_notebook(job):
    """The task a worker runs: one student's notebook, graded in this worker's sandbox; returns (Grade, page).

    `job` holds the student's nbgrader id and shown name, the exercise, the notebook's bytes, the note about
    the file, the run's settings and exercises, and the coordinator's course fingerprint.
    """
    if fingerprint()["sha256"] != job["fingerprint"]:
        raise ClusterProblem(f"worker {socket.gethostname()} has another course installed than the coordinator")
    if job["settings"]["sandbox"] and sandbox_problem_here():
        raise ClusterProblem(f"worker {socket.gethostname()} cannot sandbox: {sandbox_problem_here()}")
    grader, warm = _worker_course(job["settings"], job["stems"])
    student = SimpleNamespace(sid=job["sid"], shown=job["shown"])
    [(grade, page)] = grader.grade_student(student, [(job["stem"], job["data"], job["note"])], warm)
    return grade, page


def grade_on_cluster(client, students, settings, stems, tops, done):
    """Grade every ready notebook of `students` ([(Student, [(stem, bytes, note)])]) on the cluster; call
    `done(student, grade, page)` for each as it finishes. ClusterProblem stops the run."""
    from distributed import KilledWorker, as_completed

    mine = fingerprint()["sha256"]
    futures = {}
    for student, ready in students:
        for stem, data, note in ready:
            job = {"sid": student.sid, "shown": student.shown, "stem": stem, "data": data, "note": note,
                   "settings": settings, "stems": stems, "fingerprint": mine}
            future = client.submit(grade_notebook, job, key=f"logitlab-{student.sid}-{stem}-{settings['seed']:x}",
                                   pure=False, retries=1)
            futures[future] = (student, stem)
    for future in as_completed(futures):
        student, stem = futures[future]
        try:
            grade, page = future.result()
        except ClusterProblem:
            client.cancel(list(futures))
            raise
        except KilledWorker:
            reason = ("not graded: its Dask workers died each time it was tried (KilledWorker); "
                      "grade it alone to see why")
            grade = classroom.Grade(student.shown, stem, 0.0, tops[stem], reason)
            page = None
        except Exception as err:  # noqa: BLE001 - a worker's failure becomes this notebook's reason, not a crash
            reason = f"grading it on the Dask cluster failed ({type(err).__name__}: {str(err)[:200]})"
            grade, page = classroom.Grade(student.shown, stem, 0.0, tops[stem], reason), None
        if page is None:
            from logitlab.grading import feedback

            page = feedback.plain_page(grade.student, stem, 0, tops[stem], grade.reason)
        done(student, grade, page)


class Cluster:
    """The Dask cluster a class is graded on (`classroom.grade_class(..., scheduler=Cluster(...))`).

    `scheduler` is an address (`tcp://HOST:8786`: connected when the grading starts, closed at its end) or a
    connected distributed.Client (Dask Gateway's `cluster.get_client()`, dask-jobqueue's `Client(cluster)`),
    which is left open for its owner.
    """

    def __init__(self, scheduler):
        self.scheduler, self.client = scheduler, None if isinstance(scheduler, str) else scheduler

    @property
    def address(self):
        return self.client.scheduler.address if self.client is not None else self.scheduler

    def check(self, sandbox=True):
        """Connect if need be and check the workers (`check_workers`); the number of workers."""
        if self.client is None:
            self.client = connect(self.scheduler)
        try:
            return check_workers(self.client, sandbox)
        except ClusterProblem:
            self.close()
            raise

    def grade(self, students, settings, stems, tops, done):
        """`grade_on_cluster` on this cluster."""
        grade_on_cluster(self.client, students, settings, stems, tops, done)

    def close(self):
        """Close the connection this object opened (a Client given to it stays open)."""
        if isinstance(self.scheduler, str) and self.client is not None:
            self.client.close()
            self.client = None
