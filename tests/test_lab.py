"""`make lab` serves JupyterLab on loopback, opened at lesson 00 of the learner's own copy, with the course's settings
and without nbgrader; `make instructor` serves the repository with nbgrader."""

import contextlib
import json
import os
import re
import signal
import subprocess
import time
import urllib.request

from helpers import ROOT, free_port, page_config

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


@contextlib.contextmanager
def make_serving(target, tmp_path, **variables):
    """Run `make TARGET PORT=... VAR=...` until JupyterLab prints its address; yield (port, url path, token, log)."""
    port = free_port()
    log = tmp_path / f"{target}.log"
    # BROWSER=true: the server asks to open a browser tab, and `true` quietly accepts.
    # A settings folder of its own: a developer's own JupyterLab settings must not hide the course defaults.
    env = dict(os.environ, BROWSER="true", JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"))
    args = [f"{key}={value}" for key, value in variables.items()]
    with open(log, "w") as out:
        proc = subprocess.Popen(["make", "-s", target, f"PORT={port}", *args], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        pattern = re.compile(rf"http://127\.0\.0\.1:{port}(/\S*)\?token=(\w+)")
        match = None
        deadline = time.monotonic() + 90
        while match is None and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
            match = pattern.search(log.read_text())
        assert match, f"JupyterLab did not print its URL on 127.0.0.1:{port}:\n{log.read_text()[-3000:]}"
        time.sleep(1)  # the lines printed right after the address
        yield port, *match.groups(), log
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def test_make_lab_serves_lesson_zero(tmp_path):
    work = tmp_path / "my-work"
    with make_serving("lab", tmp_path, WORK=work) as (port, path, token, log):
        assert path == LESSON_ZERO, f"lab opens at {path}, expected lesson 00"
        # Visiting the bare address also lands on lesson 00.
        opener = urllib.request.build_opener(NoRedirect)
        try:
            opener.open(f"http://127.0.0.1:{port}/?token={token}", timeout=10)
            raise AssertionError("expected a redirect from /")
        except urllib.error.HTTPError as redirect:
            assert redirect.code == 302 and LESSON_ZERO in redirect.headers["Location"]
        # JupyterLab serves the learner's own copy, made on this first run, and nothing else of the repository.
        assert (work / "notebooks" / "00-start-here.ipynb").exists() and (work / "exercises").is_dir()
        api = f"http://127.0.0.1:{port}/api/contents?token={token}&content=1"
        with urllib.request.urlopen(api, timeout=10) as response:
            served = {item["name"] for item in json.loads(response.read())["content"]}
        assert served == {"notebooks", "exercises", "solutions", "README.md", "zh-CN", "README.zh-CN.md"}, served
        # Nothing pops up mid-lecture: the news prompt and the update check are off by default.
        defaults = setting_defaults(port, token, "@jupyterlab/apputils-extension:notification")
        assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False, defaults
        # A slider's messages go to the kernel's main thread, not a subshell (jupyter-config/README.md says why).
        defaults = setting_defaults(port, token, "@jupyterlab/apputils-extension:kernels-settings")
        assert defaults["commsOverSubshells"] == "disabled", defaults
        # Closing a lesson's tab shuts its kernel down (each holds TensorFlow, about 0.6 GB).
        defaults = setting_defaults(port, token, "@jupyterlab/notebook-extension:tracker")
        assert defaults["kernelShutdown"] is True, defaults
        # No nbgrader for a learner: its lab extension is disabled and its server extensions are not loaded.
        config = page_config(f"http://127.0.0.1:{port}", token)
        assert "@jupyter/nbgrader" in config["disabledExtensions"], config["disabledExtensions"]
        output = log.read_text()
        assert "nbgrader" not in output, output
        # The learner's terminal shows no warnings or errors from the server.
        assert not re.search(r"^\[[WE] ", output, re.M), output


def test_make_lab_lang_zh_cn_opens_the_chinese_edition_in_a_chinese_jupyterlab(tmp_path):
    work = tmp_path / "my-work"
    with make_serving("lab", tmp_path, WORK=work, LANG="zh-CN") as (port, path, token, log):
        assert path == "/lab/tree/zh-CN/notebooks/00-start-here.ipynb", path
        assert (work / "zh-CN" / "exercises" / "03-softmax.ipynb").exists() and (work / "README.zh-CN.md").exists()
        # JupyterLab's interface in Chinese for this run: the translation setting's default, and the language pack.
        defaults = setting_defaults(port, token, "@jupyterlab/translation-extension:plugin")
        assert defaults["locale"] == "zh_CN", defaults
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab/api/translations?token={token}", timeout=10) as r:
            packs = json.loads(r.read())["data"]
        assert "zh_CN" in packs, packs
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab/api/translations/zh_CN?token={token}",
                                    timeout=10) as r:
            catalog = json.dumps(json.loads(r.read())["data"], ensure_ascii=False)
        assert '"文件"' in catalog, "the zh-CN language pack does not translate JupyterLab's File menu"
        output = log.read_text()
        assert not re.search(r"^\[[WE] ", output, re.M), output
    # Without LANG on make's command line (the shell's own LANG does not count) the English edition opens.
    with make_serving("lab", tmp_path, WORK=work) as (port, path, token, log):
        assert path == LESSON_ZERO, path
        defaults = setting_defaults(port, token, "@jupyterlab/translation-extension:plugin")
        assert defaults["locale"] != "zh_CN", defaults


def test_make_instructor_serves_nbgrader(tmp_path):
    with make_serving("instructor", tmp_path) as (port, path, token, log):
        assert path == LESSON_ZERO, path
        config = page_config(f"http://127.0.0.1:{port}", token)
        assert "@jupyter/nbgrader" in {ext["name"] for ext in config["federated_extensions"]}
        assert "@jupyter/nbgrader" not in config["disabledExtensions"], config["disabledExtensions"]
        assert "nbgrader.server_extensions.formgrader | extension was successfully loaded" in log.read_text()
        # The repository itself: solutions and the course's exercises, where an instructor works.
        api = f"http://127.0.0.1:{port}/api/contents/solutions?token={token}&content=1"
        with urllib.request.urlopen(api, timeout=10) as response:
            assert response.status == 200
        defaults = setting_defaults(port, token, "@jupyterlab/notebook-extension:tracker")
        assert defaults["kernelShutdown"] is True, defaults
