"""`make lab` serves JupyterLab on loopback, opened at lesson 00."""

import json
import os
import re
import signal
import subprocess
import time
import urllib.request

from conftest import ROOT, free_port

LESSON_ZERO = "/lab/tree/notebooks/00-start-here.ipynb"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def setting_defaults(port, token, plugin):
    """The default of each setting of a JupyterLab plugin, as the server at `port` serves it.

    Course defaults arrive as the schema's defaults; a fresh user has set nothing over them.
    """
    url = f"http://127.0.0.1:{port}/lab/api/settings/{plugin}?token={token}"
    with urllib.request.urlopen(url, timeout=10) as response:
        found = json.loads(response.read())
    return {key: value.get("default") for key, value in found["schema"]["properties"].items()}


def test_make_lab_serves_lesson_zero(tmp_path):
    port = free_port()
    log = tmp_path / "lab.log"
    # BROWSER=true: the server asks to open a browser tab, and `true` quietly accepts.
    # A settings folder of its own: a developer's own JupyterLab settings must not hide the course defaults.
    env = dict(os.environ, BROWSER="true", JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"))
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
        # Nothing pops up mid-lecture: the news prompt and the update check are off by default.
        defaults = setting_defaults(port, token, "@jupyterlab/apputils-extension:notification")
        assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False, defaults
        # A slider's messages go to the kernel's main thread, not a subshell (jupyter-config/README.md says why).
        defaults = setting_defaults(port, token, "@jupyterlab/apputils-extension:kernels-settings")
        assert defaults["commsOverSubshells"] == "disabled", defaults
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
