"""What several test modules share and is not a fixture: the repository's root, skipping only outside CI, a free
port, the JupyterLab-in-Chromium harness (serve_lab, open_notebook, run_all, open_and_run, shut_down_kernel,
RUN_ALL, LAB_SETTINGS) and a local Dask cluster. Test modules and conftest.py import these from here, never from
each other. The `chromium` fixture itself is in conftest.py."""

import contextlib
import html
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
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


# ---------------------------------------------------------------- JupyterLab in headless Chromium


def chromium_path():
    """The system Chromium the browser tests drive, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


# A projector's 720p: the size of the slideshow tests' pages, and of tabs a page opens itself (RISE's slideshow).
PROJECTOR_VIEW = {"width": 1280, "height": 720}
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
# Left out of the copy JupyterLab serves: big, generated, or private to this checkout.
NOT_SERVED = (".venv", ".git", "artifacts", "__pycache__", "slides", ".ipynb_checkpoints", "grading-out", "my-work")
# JupyterLab user settings on top of the course's (jupyter-config/): no autosave, so nothing writes to the
# lessons while a test runs them.
LAB_SETTINGS = {"@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False}}


def page_config(base, token):
    """The page config the JupyterLab at `base` hands the browser with its /lab page (which extensions it loads,
    which it disables)."""
    with urllib.request.urlopen(f"{base}/lab?token={token}", timeout=10) as response:
        page = response.read().decode()
    found = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(html.unescape(found.group(1)))


@contextlib.contextmanager
def serve_lab(home, token, settings=None, **env):
    """JupyterLab on 127.0.0.1 serving a copy of the repository (so autosave never writes into the lessons), with
    the course's JupyterLab settings as `make lab` and `make lecture` start it: jupyter-config/learner/ and then
    jupyter-config/ on JUPYTER_CONFIG_PATH, the learner's view without nbgrader (`make instructor`'s view with it
    is tests/test_lab.py's).

    `home` holds the copy (home/course), the user settings (`settings`: {"plugin/file.jupyterlab-settings":
    values}), workspaces, runtime files and the server log; `env` adds environment variables. Yields the base
    URL; on exit stops the server and every kernel it started.
    """
    served = home / "course"
    shutil.copytree(ROOT, served, ignore=shutil.ignore_patterns(*NOT_SERVED))
    for name, values in (settings or {}).items():
        plugin, file = name.rsplit("/", 1)
        (home / "settings" / plugin).mkdir(parents=True, exist_ok=True)
        (home / "settings" / plugin / file).write_text(json.dumps(values))
    port = free_port()
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTER_CONFIG_PATH=f"{served / 'jupyter-config' / 'learner'}{os.pathsep}{served / 'jupyter-config'}",
               BROWSER="true", **env)
    log = open(home / "lab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", "--LabApp.expose_app_in_browser=True",
         f"--ServerApp.root_dir={served}", "--allow-root"],
        cwd=served, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as response:
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
            proc.wait()
        log.close()


# Runs in the page: wait until the notebook's kernel is ready, run every cell, report each cell's outputs and
# the kernel's status. Every wait ends by a deadline: a kernel that never answers (seen with ipykernel 7.3,
# jupyter-config/README.md) fails the test with the cells that did not run, instead of hanging the whole suite.
RUN_ALL = """
async () => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  const deadline = Date.now() + 180000;
  const by_deadline = (promise) => Promise.race(
      [promise, new Promise(r => setTimeout(r, Math.max(0, deadline - Date.now())))]);
  await by_deadline(panel.context.ready);
  await by_deadline(panel.sessionContext.ready);
  await by_deadline(app.commands.execute('notebook:run-all-cells'));
  const kernel = () => panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = () => panel.content.widgets.filter(c => c.model.type === 'code');
  while (!(kernel() && kernel().status === 'idle' && cells().every(c => c.model.executionCount !== null))
         && Date.now() < deadline) {
    await new Promise(r => setTimeout(r, 100));
  }
  return {kernel: kernel() ? kernel().status : 'none',
          cells: cells().map(c => ({
            tags: c.model.getMetadata('tags') || [],
            executionCount: c.model.executionCount,
            outputs: c.model.outputs.toJSON(),
          }))};
}
"""


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


# Runs in a page showing JupyterLab: close every document (dropping unsaved changes: the test is done with them),
# open `path` and make it the current widget with its kernel session ready.
OPEN_IN_PLACE = """
async (path) => {
  const app = window.jupyterapp;
  for (const widget of [...app.shell.widgets('main')]) {
    if (widget.context) widget.context.model.dirty = false;
    widget.dispose();
  }
  const panel = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
  app.shell.activateById(panel.id);
  await panel.context.ready;
  await panel.sessionContext.ready;
  return app.shell.currentWidget === panel && panel.sessionContext.session !== null;
}
"""


def new_page(chromium, viewport):
    """A new tab in the module's Chromium (tests/conftest.py: chromium), `viewport` ({"width": ..., "height": ...})
    in size."""
    page = chromium.new_page()
    page.set_viewport_size(viewport)
    return page


# reveal.js animates every step between slides (about 0.8 s of frames at 1280x720, drawn by Chromium's CPU here:
# a quarter of a handout's Chromium time, measured); a test that steps through slides turns the animations off.
# What each slide shows, and when it is the present one, are unchanged.
NO_MOTION = "*, *::before, *::after { transition: none !important; animation: none !important; }"


def without_motion(page):
    """CSS transitions and animations off in `page` (a page or a frame) until it is loaded again."""
    page.add_style_tag(content=NO_MOTION)


def open_notebook(page, base, token, path, in_place=False):
    """Open `path` (relative to the served folder) alone in a reset workspace of its own; wait until its panel and
    kernel session are there. With `in_place`, a page already showing this JupyterLab opens it there instead, its
    other documents closed: a JupyterLab page load is about 4 core-seconds of Chromium, this about 1."""
    if in_place and page.url.startswith(f"{base}/lab"):
        assert page.evaluate(OPEN_IN_PLACE, path), f"{path} did not open in the JupyterLab page"
        return
    workspace = re.sub(r"[^a-z0-9]+", "-", path.lower())
    page.goto(f"{base}/lab/workspaces/{workspace}/tree/{path}?reset&token={token}")
    page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=60000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget "
                           "&& window.jupyterapp.shell.currentWidget.sessionContext", timeout=60000)


def run_all(page, name):
    """Run every cell of the open notebook (RUN_ALL); fail, naming `name`, on any problem. Returns what ran."""
    ran = page.evaluate(RUN_ALL)
    problems = problems_in(ran["cells"])
    assert not problems, f"{name} (kernel {ran['kernel']}): " + "; ".join(problems)
    return ran


def open_and_run(page, base, token, lesson, in_place=False):
    """Open the lesson in `page` (open_notebook), run every cell; fail on any problem."""
    open_notebook(page, base, token, f"notebooks/{lesson.notebook.name}", in_place)
    run_all(page, lesson.stem)


def shut_down_kernel(page):
    """Free the lesson's kernel (TensorFlow lessons hold ~600 MB each); give up after 10 s, quietly."""
    try:
        page.evaluate("() => Promise.race([window.jupyterapp.shell.currentWidget.sessionContext.shutdown(), "
                      "new Promise(r => setTimeout(r, 10000))])")
    except Exception:
        pass


# ---------------------------------------------------------------- an explorer in the notebook and on RISE slides

# Runs in the lesson's page: the index of the explorer cell and of the heading cell that opens its section.
FIND_EXPLORER = """
() => {
  const cells = window.jupyterapp.shell.currentWidget.content.widgets;
  for (let i = 0; i < cells.length; i++) {
    if (/^ll\\.widgets\\.\\w+_explorer\\(/m.test(cells[i].model.sharedModel.getSource())) {
      let h = i - 1;
      while (h > 0 && !/^#{1,3} /.test(cells[h].model.sharedModel.getSource())) h--;
      return {explorer: i, heading: h};
    }
  }
  return null;
}
"""
# Runs in the slideshow: what the current slide shows (a live explorer, or its stored picture).
CURRENT = """
() => {
  const slide = document.querySelector('.reveal .slides section.present section.present')
      || document.querySelector('.reveal .slides section.present');
  const live = slide && slide.querySelector('.logitlab-picture');
  const img = live || (slide && slide.querySelector('.jp-RenderedImage img'));
  const explorer = slide && /ll\\.widgets\\.\\w+_explorer\\(/.test(slide.innerText);
  const box = img ? img.getBoundingClientRect() : {width: 0, height: 0, bottom: 0};
  // The picture as drawn: it keeps its proportions inside its box (object-fit: contain) when it has to shrink.
  const width = img && img.naturalHeight ? Math.min(box.width, box.height * img.naturalWidth / img.naturalHeight)
                                         : box.width;
  return {explorer: !!explorer, live: !!live, width, bottom: box.bottom, screen: window.innerHeight,
          natural: img ? img.naturalWidth : 0,
          news: [...document.querySelectorAll('.jp-toast-message, .Toastify__toast')].map(t => t.innerText)};
}
"""
LAB_EXPLORER = "window.jupyterapp.shell.currentWidget.node.querySelector('.logitlab-explorer')"
SLIDE_EXPLORER = "document.querySelector('.reveal .slides section.present section.present .logitlab-explorer')"


def step_to_explorer(slides, what, most=60, down_only=False):
    """Step through the slides as a presenter does (down within a section, else right) to the explorer's slide, at
    most `most` steps (`down_only`: never to the right); fail saying `what` if it is not reached."""
    for step in range(most + 1):
        if slides.evaluate(CURRENT)["explorer"]:
            slides.wait_for_timeout(800)
            return
        if step == most:
            break
        down = slides.locator(".reveal .controls .navigate-down.enabled")
        (down if down_only or down.count() else slides.locator(".reveal .controls .navigate-right.enabled")).click()
        slides.wait_for_timeout(300)
    raise AssertionError(f"{what}: never reached the explorer's slide")


def start_slideshow_at_explorer(context, page, lesson, shots):
    """Save, start RISE on the explorer's heading, step down to the explorer's slide; returns the slides page (a
    screenshot goes to `shots` if the explorer's slide is not reached)."""
    page.evaluate("() => Promise.race([window.jupyterapp.commands.execute('docmanager:save'), "
                  "new Promise(r => setTimeout(r, 20000))])")
    found = page.evaluate(FIND_EXPLORER)
    assert found, f"{lesson.stem}: no explorer cell"
    page.evaluate(f"() => {{ window.jupyterapp.shell.currentWidget.content.activeCellIndex = {found['heading']}; }}")
    with context.expect_page(timeout=30000) as opened:
        page.evaluate("() => window.jupyterapp.commands.execute('RISE:slideshow')")
    slides = opened.value
    slides.wait_for_selector(".reveal .slides section.present", timeout=60000)
    without_motion(slides)
    slides.wait_for_timeout(1500)
    assert not slides.evaluate(CURRENT)["explorer"], "the slideshow starts on the heading, before the explorer"
    try:
        # Down shows the heading slide's fragments (code revealed on a key press) one by one, then moves to the
        # explorer: a slide of its own, below.
        step_to_explorer(slides, lesson.stem, most=6, down_only=True)
        slides.wait_for_function(f"() => ({CURRENT})().width > 0", timeout=15000)
    except BaseException:
        slides.screenshot(path=str(shots / f"{lesson.stem}-slides-FAILED.png"))
        raise
    return slides


def picture_and_numbers(root):
    """JS returning the picture's src and the numbers' text of the explorer `root` (a JS expression)."""
    return (f"() => {{ const e = {root}; return {{src: e.querySelector('.logitlab-picture').src, "
            "text: e.querySelector('.logitlab-numbers').innerText}; }")


def changed_picture_and_numbers(page, root, before):
    """Wait until the explorer `root` shows another picture and other numbers than `before`; return both."""
    state = picture_and_numbers(root)
    page.wait_for_function(f"(b) => ({state})().src !== b.src && ({state})().text !== b.text", arg=before,
                           timeout=15000)
    after = page.evaluate(state)
    assert after["src"] != before["src"] and after["text"] != before["text"], (before, after)
    return before, after


def move_slider(page, root):
    """Press ArrowRight five times on the first slider under `root`; return (before, after) picture and numbers,
    which must differ in both."""
    before = page.evaluate(picture_and_numbers(root))
    page.evaluate(f"() => {root}.querySelector('.noUi-handle').focus()")
    for _ in range(5):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(150)
    return changed_picture_and_numbers(page, root, before)


def drag_slider(page, root, mouse=None, offset=(0, 0)):
    """Drag the first slider's handle under `root` a quarter of its track (towards the roomier end) with the mouse;
    return (before, after) picture and numbers, which must differ in both. `page` may be a frame: then `mouse` is
    its page's and `offset` where the frame sits in the page."""
    mouse = mouse or page.mouse
    before = page.evaluate(picture_and_numbers(root))
    box = page.evaluate(f"""() => {{
      const slider = {root}.querySelector('.noUi-target');
      const track = slider.getBoundingClientRect(), knob = slider.querySelector('.noUi-handle').getBoundingClientRect();
      const x = knob.x + knob.width / 2, y = knob.y + knob.height / 2;
      return {{x, y, dx: (x < track.x + track.width / 2 ? 1 : -1) * track.width / 4}};
    }}""")
    x, y = box["x"] + offset[0], box["y"] + offset[1]
    mouse.move(x, y)
    mouse.down()
    mouse.move(x + box["dx"], y, steps=8)
    mouse.up()
    return changed_picture_and_numbers(page, root, before)


# Moving an explorer's slider with the keyboard (test_browser, test_browser_zh), and the book's CJK font check.
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


def cjk_font_families():
    """The family names (every language's spelling) of the fonts fontconfig has for Chinese, or an empty set."""
    try:
        listed = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout
    except OSError:
        return set()
    return {name.strip() for line in listed.splitlines() for name in line.split(",") if name.strip()}


def rendered_fonts(page, selector):
    """{font family: glyphs drawn} of the text directly inside the first element matching `selector`, as Chromium
    rendered it (the DevTools protocol's CSS.getPlatformFontsForNode: the fonts really used, fallbacks included)."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    finally:
        cdp.detach()
    return {font["familyName"]: font["glyphCount"] for font in fonts}


# ---------------------------------------------------------------- a local Dask cluster


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
