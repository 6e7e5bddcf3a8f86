"""Every lesson in JupyterLab in headless Chromium: run all cells, no errors, and the sliders work.

One JupyterLab server and one browser per test session (so per pytest-xdist worker), serving a
copy of the repository so that JupyterLab's autosave can never write hand-run outputs into the
lessons. Screenshots go to artifacts/screenshots/, slider latency to artifacts/browser-latency.txt.
"""

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import ROOT, chromium_path, require
from logitlab import course

pytestmark = pytest.mark.browser

TOKEN = "logitlab-browser-test"
ARTIFACTS = ROOT / "artifacts"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
# JupyterLab user settings for a quiet, predictable test page.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                         "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}
LATENCY_MOVES = 8


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 serving a copy of the repository; yields its base URL."""
    home = tmp_path_factory.mktemp("lab")
    served = home / "course"
    shutil.copytree(ROOT, served, ignore=shutil.ignore_patterns(".venv", ".git", "artifacts", "__pycache__",
                                                                ".ipynb_checkpoints", "grading-out"))
    for name, values in LAB_SETTINGS.items():
        plugin, file = name.rsplit("/", 1)
        (home / "settings" / plugin).mkdir(parents=True, exist_ok=True)
        (home / "settings" / plugin / file).write_text(json.dumps(values))
    port = free_port()
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               BROWSER="true")
    log = open(home / "lab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={TOKEN}", "--LabApp.expose_app_in_browser=True",
         f"--ServerApp.root_dir={served}", "--allow-root"],
        cwd=served, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"JupyterLab did not start on port {port}:\n{(home / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and the kernels it started
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="session")
def browser():
    """Headless system Chromium driven by Playwright (its own browser download does not work here)."""
    path = chromium_path()
    require(path, "Chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


# Runs in the page: wait until the notebook's kernel is ready, run every cell, report each cell's outputs.
RUN_ALL = """
async () => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  await panel.context.ready;
  await panel.sessionContext.ready;
  await app.commands.execute('notebook:run-all-cells');
  const kernelIdle = () => panel.sessionContext.session && panel.sessionContext.session.kernel
      && panel.sessionContext.session.kernel.status === 'idle';
  const cells = () => panel.content.widgets.filter(c => c.model.type === 'code');
  const start = Date.now();
  while (!(kernelIdle() && cells().every(c => c.model.executionCount !== null)) && Date.now() - start < 120000) {
    await new Promise(r => setTimeout(r, 100));
  }
  return cells().map(c => ({
    tags: c.model.getMetadata('tags') || [],
    executionCount: c.model.executionCount,
    outputs: c.model.outputs.toJSON(),
  }));
}
"""

# Runs in the page before a real key press on an explorer's first slider handle: note the numbers and
# picture shown, the time of the key press, and when the picture has loaded its next image.
ARM = """
(index) => {
  const explorer = window.jupyterapp.shell.currentWidget.node.querySelectorAll('.logitlab-explorer')[index];
  const img = explorer.querySelector('.logitlab-picture');
  const numbers = explorer.querySelector('.logitlab-numbers');
  window.__move = {before: {src: img.src, text: numbers.innerText}, pressed: null, loaded: null};
  document.addEventListener('keydown', () => { window.__move.pressed = performance.now(); },
                            {capture: true, once: true});
  img.addEventListener('load', () => { window.__move.loaded = performance.now(); }, {once: true});
  explorer.querySelector('.noUi-handle').focus();
}
"""
CHANGED = """
(index) => window.__move.loaded !== null
    && window.jupyterapp.shell.currentWidget.node.querySelectorAll('.logitlab-explorer')[index]
         .querySelector('.logitlab-numbers').innerText !== window.__move.before.text
"""
RESULT = """
(index) => {
  const explorer = window.jupyterapp.shell.currentWidget.node.querySelectorAll('.logitlab-explorer')[index];
  const move = window.__move;
  return {before: move.before,
          after: {src: explorer.querySelector('.logitlab-picture').src,
                  text: explorer.querySelector('.logitlab-numbers').innerText},
          ms: move.loaded === null || move.pressed === null ? null : move.loaded - move.pressed};
}
"""


def show_explorer(page, index):
    """Scroll an explorer to the middle of the notebook view and give it a moment to paint."""
    page.evaluate("(i) => window.jupyterapp.shell.currentWidget.node.querySelectorAll('.logitlab-explorer')[i]"
                  ".scrollIntoView({block: 'center'})", index)
    page.wait_for_timeout(200)


def problems_in(cells):
    """Error and stderr outputs of cells not tagged raises-exception; code cells that never ran."""
    found = []
    for i, cell in enumerate(cells):
        if cell["executionCount"] is None:
            found.append(f"code cell {i} did not run")
        for out in cell["outputs"]:
            if out["output_type"] == "error" and "raises-exception" not in cell["tags"]:
                found.append(f"code cell {i} raised {out['ename']}: {out['evalue'][:200]}")
            if out["output_type"] == "stream" and out["name"] == "stderr":
                found.append(f"code cell {i} wrote to stderr: {''.join(out['text'])[:200]!r}")
    return found


def record_latency(stem, samples):
    """Store this lesson's slider latencies and rewrite the summary over every lesson measured so far."""
    folder = ARTIFACTS / "latency"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.json").write_text(json.dumps(samples))
    per_lesson = {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}
    everything = [ms for values in per_lesson.values() for ms in values]
    lines = ["key press on a slider -> its new picture loaded, in JupyterLab in headless Chromium; "
             "moves 100 ms apart; ms",
             f"{'lesson':<28} {'moves':>5} {'median':>7} {'max':>7}"]
    for name, values in per_lesson.items():
        lines.append(f"{name:<28} {len(values):>5} {statistics.median(values):>7.1f} {max(values):>7.1f}")
    lines.append(f"all lessons: moves={len(everything)} median_ms={statistics.median(everything):.1f} "
                 f"p95_ms={sorted(everything)[int(0.95 * (len(everything) - 1))]:.1f}")
    (ARTIFACTS / "browser-latency.txt").write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("lesson", course.lessons(), ids=lambda lesson: lesson.stem)
def test_lesson_runs_and_its_sliders_redraw(lab, browser, lesson):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        # A workspace of its own, reset: only this lesson is open (not the tabs an earlier test left).
        page.goto(f"{lab}/lab/workspaces/{lesson.stem}/tree/notebooks/{lesson.notebook.name}?reset&token={TOKEN}")
        page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=60000)
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget "
                               "&& window.jupyterapp.shell.currentWidget.sessionContext", timeout=60000)
        cells = page.evaluate(RUN_ALL)
        assert not problems_in(cells), f"{lesson.stem}: " + "; ".join(problems_in(cells))

        # Attached, not necessarily visible: JupyterLab skips painting cells outside the viewport.
        page.wait_for_function("() => window.jupyterapp.shell.currentWidget.node"
                               ".querySelector('.logitlab-explorer .logitlab-picture')", timeout=30000)
        page.wait_for_timeout(300)  # let every widget view finish rendering
        body = page.evaluate("() => window.jupyterapp.shell.currentWidget.node.textContent")
        assert "Error displaying widget" not in body, f"{lesson.stem}: a widget failed to render"
        explorers = page.evaluate("() => window.jupyterapp.shell.currentWidget.node"
                                  ".querySelectorAll('.logitlab-explorer').length")
        assert explorers >= 1, f"{lesson.stem} shows no explorer: every lesson needs at least one slider"

        samples = []
        for index in range(explorers):
            show_explorer(page, index)
            for move in range(LATENCY_MOVES):
                key = "ArrowRight" if move % 2 == 0 else "ArrowLeft"
                page.wait_for_timeout(100)  # a pause between moves, as a hand on the keyboard makes
                page.evaluate(ARM, index)
                page.keyboard.press(key)
                try:
                    page.wait_for_function(CHANGED, arg=index, timeout=10000)
                except PlaywrightTimeout:
                    pass  # the assertions below say what did not change
                result = page.evaluate(RESULT, index)
                assert result["ms"] is not None and result["ms"] > 0, (
                    f"{lesson.stem}: explorer {index}'s picture did not change after {key}")
                assert result["after"]["src"] != result["before"]["src"], f"{lesson.stem}: picture unchanged"
                assert result["after"]["text"] != result["before"]["text"], (
                    f"{lesson.stem}: explorer {index}'s numbers did not change after {key}: "
                    f"{result['after']['text']!r}")
                samples.append(result["ms"])
        record_latency(lesson.stem, samples)

        (ARTIFACTS / "screenshots").mkdir(parents=True, exist_ok=True)
        show_explorer(page, 0)
        page.screenshot(path=str(ARTIFACTS / "screenshots" / f"{lesson.stem}.png"))
    except BaseException:
        (ARTIFACTS / "screenshots").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "screenshots" / f"{lesson.stem}-FAILED.png"))
        raise
    finally:
        try:  # free the kernel (TensorFlow lessons hold ~600 MB each)
            page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
        except Exception:
            pass
        page.close()
