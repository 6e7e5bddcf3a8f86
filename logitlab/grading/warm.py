"""A warm autograde process: nbgrader imported once per grading worker, not once per student.

Importing nbgrader and nbconvert costs a new process about 4.8 s of CPU. `WarmAutograde` keeps one
`python -m logitlab.grading.autograde COURSE FD` process per worker (a local grading thread or a Dask
worker thread) and hands it one student after another. It is trusted: the submission's code runs only in the
sandboxed kernel each notebook gets (`autograde.py`).

The process answers "done" on a pipe of its own, which nothing in a submission can write to, and ends each job's
log on its standard output with a line carrying a random marker of that job, so one student's log is never read
as part of the next student's. A job past its budget has the whole process tree killed; the next job starts a
new process.
"""

import json
import os
import secrets
import select
import subprocess
import sys
import threading

import logitlab
from logitlab.grading import autograde

LOG_LINES = 400  # of a job's output kept, for the reason of a notebook nbgrader could not grade
END_WAIT = 10  # seconds to wait for the end-of-log line after "done" (it was written before "done")


class WarmAutograde:
    """One warm autograde process for a course folder (`classroom.Course`): `grade` one student after another."""

    def __init__(self, root):
        self.root, self.proc = str(root), None

    def start(self):
        read_end, write_end = os.pipe()
        env = dict(os.environ, PYTHONUNBUFFERED="1", **logitlab.TENSORFLOW_ENV)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "logitlab.grading.autograde", self.root, str(write_end)],
            cwd=self.root, env=env, pass_fds=(write_end,), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True)
        os.close(write_end)
        self.replies = os.fdopen(read_end, "r")
        self.lines, self.marker, self.ended = [], None, threading.Event()
        threading.Thread(target=self.drain, args=(self.proc, self.lines, self.ended), daemon=True).start()

    def drain(self, proc, lines, ended):
        """Collect a process's output for the job at hand; the job's marker line ends it."""
        for line in proc.stdout:
            if line.rstrip("\n") == self.marker:
                ended.set()
                continue
            lines.append(line)
            del lines[:-LOG_LINES]

    def grade(self, student, notebooks, timeout):
        """Autograde the notebooks (stems) of `student` (its id in nbgrader) within `timeout` seconds; return (exit
        code, or None past the timeout; the job's output)."""
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        self.lines.clear()
        self.ended.clear()
        self.marker = f"logitlab-autograde-end-{secrets.token_hex(16)}"
        try:
            job = {"student": student, "notebooks": list(notebooks), "end": self.marker}
            self.proc.stdin.write(json.dumps(job) + "\n")
            self.proc.stdin.flush()
            ready, _, _ = select.select([self.replies], [], [], timeout)
            reply = self.replies.readline() if ready else None
        except (OSError, ValueError):
            reply = ""
        if reply == "done\n" and self.ended.wait(END_WAIT):
            return 0, "".join(self.lines)
        if reply == "done\n":  # its log did not end: the next job gets a new process, never this log's rest
            output = "".join(self.lines)
            self.close()
            return 0, output
        if reply is None:  # past the budget: the last line of defence
            autograde.kill_tree(autograde.tree_rss(self.proc)[1])
        code = self.proc.poll()
        output = "".join(self.lines)
        self.close()
        return (None if reply is None else code if code else 1), output

    def close(self):
        """Stop the process (its stdin closes: it ends after the job it may be doing)."""
        if self.proc is not None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                autograde.kill_tree(autograde.tree_rss(self.proc)[1])
            self.replies.close()
        self.proc = None
