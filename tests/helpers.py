"""What several test modules share and is not a fixture: the repository's root, skipping only outside CI, a free
port, what the JupyterLab browser tests run in the page (Run All, a slider move, a kernel's shutdown), and the
fonts a browser drew. Test modules import these from here, never from each other (conftest.py re-exports some
for older imports)."""

import os
import socket
import subprocess
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


# ---------------------------------------------------------------- JupyterLab in the browser (test_browser*.py)

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


def shut_down_kernel(page):
    """Free the lesson's kernel (TensorFlow lessons hold ~600 MB each); give up after 10 s, quietly."""
    try:
        page.evaluate("() => Promise.race([window.jupyterapp.shell.currentWidget.sessionContext.shutdown(), "
                      "new Promise(r => setTimeout(r, 10000))])")
    except Exception:
        pass


# ---------------------------------------------------------------- fonts (test_book.py: the Chinese pages)


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
