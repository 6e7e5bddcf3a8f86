"""Fake submissions for grading tests and the grading benchmark, built from the generated exercises."""

import re

from helpers import ROOT
from logitlab.authoring import course

MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION(\n|$)", re.M)


def solution_answers(stem):
    """The worked answer of every task of a solution notebook: grade_id -> source without markers."""
    nb = course.read_notebook(ROOT / "solutions" / f"{stem}.ipynb")
    return {c["metadata"]["nbgrader"]["grade_id"]: MARKERS.sub("", course.cell_source(c))
            for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution")}


def submission(stem, answers=None, edits=None, delete=()):
    """An exercise as a student would hand it in: `answers` fill answer cells (grade_id -> code),
    `edits` overwrite other cells (a tampered check), `delete` removes cells by grade_id."""
    nb = course.read_notebook(ROOT / "exercises" / f"{stem}.ipynb")
    changes = {**(answers or {}), **(edits or {})}
    cells = []
    for cell in nb["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in delete:
            continue
        if grade_id in changes:
            cell["source"] = changes[grade_id]
        cells.append(cell)
    nb["cells"] = cells
    return course.dumps(nb)


def correct(stem):
    return submission(stem, solution_answers(stem))


def write(folder, student, stem, text):
    path = folder / student / f"{stem}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def with_answer(stem, grade_id, code):
    """A correct submission except for one task."""
    answers = solution_answers(stem)
    answers[grade_id] = code
    return submission(stem, answers)


NAIVE_SOFTMAX = '''def softmax(logits):
    e = np.exp(np.asarray(logits))
    return e / e.sum(axis=-1, keepdims=True)'''

AXIS0_SOFTMAX = '''def softmax(logits):
    z = np.asarray(logits)
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)'''

UNNORMALIZED_SOFTMAX = '''def softmax(logits):
    return np.exp(np.asarray(logits))'''

SELF_CONTAINED_TEMPERATURE = '''def softmax_with_temperature(logits, temperature):
    z = np.asarray(logits, dtype=float) / temperature
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)'''

EXITING_SOFTMAX = '''import os
os._exit(1)'''

MEGABYTES = '''print("logits " * 1_000_000)'''

ONES_SOFTMAX = '''def softmax(logits):
    return np.ones_like(np.asarray(logits, dtype=float))'''

# Issue 9's first attack: a wrong answer, then every check replaced by one that prints a tick.
PATCHED_CHECKS = ONES_SOFTMAX + '''


class _Ticks:
    def __getattr__(self, name):
        return lambda *args, **kwargs: print(f"✓ {name}: all right")


import builtins, sys
ll.checks = _Ticks()
sys.modules["logitlab.checks"] = ll.checks
np.allclose = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
_print = builtins.print
builtins.print = lambda *args, **kwargs: _print("✓ softmax: one row and a [2, 3] batch")'''

# A wrong answer whose output and whose calls imitate the grader: tick lines and the probe's own message type.
IMITATED_CHANNEL = ONES_SOFTMAX.replace("def softmax(logits):", '''from IPython.display import display

FAKE = {"application/vnd.logitlab.probe+json": {"results": [{"array": {"dtype": "float64", "shape": [1, 4],
        "data": "AAAAAAAA0D8AAAAAAADQPwAAAAAAANA/AAAAAAAA0D8="}}]}}
print("✓ softmax: one row and a [2, 3] batch: each row's probabilities are right and sum to 1 (exact)")
display(FAKE, raw=True)


def softmax(logits):
    display(FAKE, raw=True)''')


def escaping(submissions, out, token, secret):
    """A correct softmax, then a cell's worth of attempts to leave the sandbox; it prints what it saw."""
    return f'''def softmax(logits):
    z = np.asarray(logits)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


import glob, os
for target in ["/tmp/escape-{token}.txt", "{submissions}/escape-{token}.txt", "{out}/escape-{token}.txt",
               os.path.expanduser("~/escape-{token}.txt"), "{ROOT}/escape-{token}.txt"]:
    try:
        with open(target, "w") as f:
            f.write("escaped")
    except OSError as err:
        print("write refused:", type(err).__name__)
seen = glob.glob("/tmp/**/*.ipynb", recursive=True) + glob.glob("{submissions}/**/*.ipynb", recursive=True)
# The course's own lessons and exercises are public and shown read-only (also when the course lives under /tmp).
print("notebooks seen:", sorted(p for p in seen if not p.startswith("{ROOT}/")))
print("solutions seen:", glob.glob("{ROOT}/solutions/*.ipynb"))
print("gradebooks seen:", glob.glob("/tmp/logitlab-grade-*/**/gradebook.db", recursive=True))
print("grader's home secret seen:", os.path.exists("{secret}"))'''


def networking(port):
    """A correct logit, then attempts to reach the grader's machine and the internet."""
    return f'''import socket
for host, port in [("127.0.0.1", {port}), ("1.1.1.1", 53)]:
    try:
        socket.create_connection((host, port), timeout=3).close()
        print("reached", host)
    except OSError as err:
        print("no network to", host, type(err).__name__)


def logit(p):
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore"):
        return np.log(p) - np.log1p(-p)'''


def lingering(token):
    """A correct logit that leaves a background process and a double-forked daemon behind."""
    return f'''import os, subprocess, sys
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "{token}"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)", "{token}"])
    os._exit(0)


def logit(p):
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore"):
        return np.log(p) - np.log1p(-p)'''


GRADEBOOK_REWRITE = '''import glob, sqlite3
found = glob.glob("/tmp/logitlab-grade-*/course-*/gradebook.db") + glob.glob("/tmp/**/gradebook.db", recursive=True)
for path in found:
    db = sqlite3.connect(path)
    db.execute("UPDATE grade SET auto_score = 1")
    db.commit()
print("gradebooks rewritten:", len(found))


def logit(p):
    raise NotImplementedError()'''

MEMORY_HOG = '''big = np.ones(400_000_000)  # 3.2 GB


def logit(p):
    p = np.asarray(p, dtype=float)
    return np.log(p) - np.log1p(-p)'''

SLOW_LOGIT = '''import time
time.sleep(6)  # legitimately slow, under the 10 s per cell of its test


def logit(p):
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore"):
        return np.log(p) - np.log1p(-p)'''

WRONG_LOGSUMEXP = '''def logsumexp(logits):
    z = np.asarray(logits)
    m = z.max(axis=-1, keepdims=True)
    return np.log(np.exp(z - m).sum(axis=-1))'''


# ---------------------------------------------------------------- attacks on the execution side (issues 16 and 26)

LOGIT = '''def logit(p):
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore"):
        return np.log(p) - np.log1p(-p)'''

WRONG_LOGIT = '''def logit(p):
    return np.log(np.asarray(p, dtype=float))'''


def as_root(token, classmate, settings_name):
    """A wrong logit, then every move root could make in a sandbox that kept its capabilities; prints each outcome."""
    return WRONG_LOGIT + f'''


import ctypes, glob, os, subprocess
status = open("/proc/self/status").read()
print("identity:", os.getuid(), os.getgid(),
      [line.split()[1] for line in status.splitlines() if line.startswith(("CapEff", "NoNewPrivs"))])
libc = ctypes.CDLL(None, use_errno=True)
for name, call in [("umount /tmp", lambda: libc.umount2(b"/tmp", 2)),
                   ("umount /proc", lambda: libc.umount2(b"/proc", 2)),
                   ("remount / rw", lambda: libc.mount(None, b"/", None, 32 | 4096 | 16384, None)),
                   ("mount a new /", lambda: libc.mount(b"none", b"/mnt", b"tmpfs", 0, None)),
                   ("chroot", lambda: libc.chroot(b"/tmp")), ("setuid 0", lambda: libc.setuid(0))]:
    print(f"{{name}}:", "refused" if call() != 0 else "DONE")
for target in ["/tmp/escape-{token}", "/work/escape-{token}", "{ROOT}/escape-{token}", "{classmate}",
               "/root/escape-{token}"]:
    try:
        with open(target, "a") as f:
            f.write("escaped")
        print("wrote", target)
    except OSError as err:
        print("write refused:", type(err).__name__)
found = [p for top in ("/tmp", "/work", "/home") for name in ("{settings_name}", "gradebook.db")
         for p in glob.glob(top + "/**/" + name, recursive=True)]
print("seed or gradebook found:", found)
print("root folder:", sorted(os.listdir("/")))
print("course folder:", sorted(os.listdir("{ROOT}")))
print("course's parent folder:", sorted(os.listdir("{ROOT.parent}")))
print("hidden present:", [p for p in ("{ROOT}/.git", "{ROOT}/solutions", "{ROOT}/tests") if os.path.exists(p)])'''


COLLECTOR_HUNT = '''import ctypes, os, signal
from IPython.display import display

seen = {}
for pid in [int(p) for p in os.listdir("/proc") if p.isdigit()]:
    try:
        seen[pid] = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\\0", b" ").decode()[:60]
    except OSError:
        pass
print("collectors seen:", [c for c in seen.values() if "logitlab.grading" in c])
print("processes seen:", len(seen))
print("✓ logit: logit(0.5) = 0, and p = 0.1, 0.8, 0.9 give the right log-odds (exact)", flush=True)
FAKE = {"application/vnd.logitlab.probe+json": {"nonce": "0" * 32, "results": [{"float": "0.0"}]}}
display(FAKE, raw=True)
for pid, cmdline in seen.items():
    if pid == os.getpid():
        continue
    if "logitlab.grading" in cmdline:
        os.kill(pid, signal.SIGKILL)
    for fd in os.listdir(f"/proc/{pid}/fd") if os.access(f"/proc/{pid}/fd", os.R_OK) else []:
        try:  # without blocking: a pipe nobody reads would hang the cell
            pipe = os.open(f"/proc/{pid}/fd/{fd}", os.O_WRONLY | os.O_NONBLOCK)
            os.write(pipe, b'{"version": 2, "score": 4}')
            os.close(pipe)
        except OSError:
            pass
    ctypes.CDLL(None).ptrace(16, pid, None, None)  # PTRACE_ATTACH: bubblewrap's init is the only other process


def logit(p):
    display(FAKE, raw=True)
    return np.log(np.asarray(p, dtype=float))'''

TMPFS_HOG = LOGIT + '''


written = {}
for folder in ("/tmp", "/dev/shm", "/tmp/work", "/tmp/home"):
    written[folder] = 0
    try:
        with open(f"{folder}/fill", "wb") as f:
            for _ in range(3000):
                f.write(b"x" * 2 ** 20)
                written[folder] += 1
    except OSError as err:
        print(folder, "full:", type(err).__name__)
    os.remove(f"{folder}/fill") if os.path.exists(f"{folder}/fill") else None
print("MB written:", written)'''.replace("written = {}", "import os\nwritten = {}")

THREADS = LOGIT + '''


import threading, time
started = 0
try:
    for _ in range(3000):
        threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
        started += 1
except RuntimeError as err:
    print("threads refused:", err)
print("threads started:", started)'''

DEAF_CELL = '''import signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:
    pass


''' + LOGIT

DEAF_PROBE = '''import time


def logit(p):
    while True:
        try:
            time.sleep(100)
        except:  # noqa: E722 - swallows the grader's interrupt
            pass'''

EXIT_IN_PROBE = '''import os


def logit(p):
    p = np.asarray(p, dtype=float)
    if np.any(p == 0.0):
        os._exit(1)  # dies on the hidden case p = [0, 1] only
    return np.log(p) - np.log1p(-p)'''

HUNDRED_MEGABYTES = LOGIT + '''


for _ in range(100):
    print("logits " * 150_000)'''

REACHED_BY_DEFAULT = '''def softmax_with_temperature(logits, temperature, sm=softmax):
    return sm(np.asarray(logits, dtype=float) / temperature)'''

REACHED_BY_CLOSURE = '''def make(inner):
    def softmax_with_temperature(logits, temperature):
        return inner(np.asarray(logits, dtype=float) / temperature)
    return softmax_with_temperature


softmax_with_temperature = make(softmax)'''

REACHED_BY_ALIAS = '''probabilities = softmax


def softmax_with_temperature(logits, temperature):
    return probabilities(np.asarray(logits, dtype=float) / temperature)'''

DOUBLE_SOFTMAX = '''def softmax(logits):
    z = np.asarray(logits, dtype=float)
    for _ in range(2):
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        z = e / e.sum(axis=-1, keepdims=True)
    return z'''

# The class of the class report and of the Dask run (tests/test_grading_report.py, tests/test_grading_dask.py): five
# notebooks of 03-softmax (no TensorFlow: quick), three named mistakes, one student with nothing handed in, and a
# folder name that is HTML.
HTML_NAME = "<img src=x onerror=window.pwned=1>"
REPORT_CLASS_GRADES = [["alice", "03-softmax", "4", "4"], ["bob", "03-softmax", "3", "4"],
                       ["carol", "03-softmax", "2", "4"], ["dora", "03-softmax", "2", "4"],
                       ["emma", "03-softmax", "0", "4"], [HTML_NAME, "03-softmax", "2", "4"]]
REPORT_CLASS_PROBLEMS = [["emma", "03-softmax", "nothing handed in: the folder is empty"]]


def report_class(folder):
    """Write the report's class into `folder` (SUBMISSIONS/<student>/03-softmax.ipynb)."""
    write(folder, "alice", "03-softmax", correct("03-softmax"))
    write(folder, "bob", "03-softmax", submission(
        "03-softmax", {"softmax-answer": NAIVE_SOFTMAX, "temperature-answer": SELF_CONTAINED_TEMPERATURE}))
    write(folder, "carol", "03-softmax", with_answer("03-softmax", "softmax-answer", AXIS0_SOFTMAX))
    write(folder, HTML_NAME, "03-softmax", with_answer("03-softmax", "softmax-answer", AXIS0_SOFTMAX))
    write(folder, "dora", "03-softmax", with_answer("03-softmax", "softmax-answer", DOUBLE_SOFTMAX))
    (folder / "emma").mkdir(parents=True)
