"""`make lab` serves JupyterLab on loopback, opened at lesson 00."""

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request

from conftest import ROOT

LESSON_ZERO = "/lab/tree/notebooks/00-start-here.ipynb"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_make_lab_serves_lesson_zero(tmp_path):
    port = free_port()
    log = tmp_path / "lab.log"
    # BROWSER=true: the server asks to open a browser tab, and `true` quietly accepts.
    env = dict(os.environ, BROWSER="true")
    with open(log, "w") as out:
        proc = subprocess.Popen(["make", "-s", "lab", f"PORT={port}"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        pattern = re.compile(rf"http://127\.0\.0\.1:{port}(/\S*)\?token=(\w+)")
        match = None
        deadline = time.monotonic() + 90
        while match is None and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
            match = pattern.search(log.read_text())
        assert match, f"JupyterLab did not print its URL on 127.0.0.1:{port}:\n{log.read_text()[-3000:]}"
        path, token = match.groups()
        assert path == LESSON_ZERO, f"lab opens at {path}, expected lesson 00"
        # Visiting the bare address also lands on lesson 00.
        opener = urllib.request.build_opener(NoRedirect)
        try:
            opener.open(f"http://127.0.0.1:{port}/?token={token}", timeout=10)
            raise AssertionError("expected a redirect from /")
        except urllib.error.HTTPError as redirect:
            assert redirect.code == 302 and LESSON_ZERO in redirect.headers["Location"]
        api = f"http://127.0.0.1:{port}/api/contents/notebooks/00-start-here.ipynb?token={token}&content=0"
        with urllib.request.urlopen(api, timeout=10) as response:
            assert response.status == 200 and b"00-start-here.ipynb" in response.read()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
