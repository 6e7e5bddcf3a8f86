"""Lecture mode in a real browser, 1280x720: each planned lesson at projector size, in JupyterLab and in RISE.

JupyterLab is started the way `make lecture` starts it (the course's jupyter-config/ defaults,
LOGITLAB_SIZE=projector) on a copy of the repository. For each lesson: run every cell; in the notebook,
move the explorer's slider with the keyboard and see its picture and numbers change; save; select the
"Try it" heading, start the RISE slideshow (a page of its own), step down with reveal's arrow to the
explorer's own slide and check its picture fills the screen. Screenshots go to artifacts/slides/.

Known limit, pinned by an xfail(strict) test: jupyterlab_rise 0.43.1 (the newest) runs its slideshow in
an app built on JupyterLab 4.3, which cannot load JupyterLab 4.6.6's ipywidgets manager (console:
"Failed to create module: package: @jupyter-widgets/jupyterlab-manager"), so in the slideshow the
explorer shows its picture but its sliders are not live. Teach the slider moments from the notebook view.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import ROOT, chromium_path, require
from logitlab import course, lecture
from test_browser import CHROMIUM_FLAGS, RUN_ALL, free_port, problems_in

pytestmark = pytest.mark.browser

TOKEN = "logitlab-slideshow-test"
SHOTS = ROOT / "artifacts" / "slides"
PLANNED = [lesson for lesson in course.lessons() if lesson.number in lecture.PLANS]

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
  return {explorer: !!explorer, live: !!live, width: img ? img.getBoundingClientRect().width : 0,
          news: [...document.querySelectorAll('.jp-toast-message, .Toastify__toast')].map(t => t.innerText)};
}
"""


@pytest.fixture(scope="module")
def lecture_lab(tmp_path_factory):
    """JupyterLab as `make lecture` starts it, serving a copy of the repository; yields its base URL."""
    home = tmp_path_factory.mktemp("lecture")
    served = home / "course"
    shutil.copytree(ROOT, served, ignore=shutil.ignore_patterns(".venv", ".git", "artifacts", "__pycache__", "slides",
                                                                ".ipynb_checkpoints", "grading-out"))
    port = free_port()
    env = dict(os.environ, JUPYTER_CONFIG_PATH=str(served / "jupyter-config"), LOGITLAB_SIZE="projector",
               JUPYTERLAB_SETTINGS_DIR=str(home / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), BROWSER="true")
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
                pytest.fail(f"JupyterLab did not start:\n{(home / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="module")
def chromium():
    path = chromium_path()
    require(path, "Chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def open_and_run(context, base, lesson):
    """The lesson in JupyterLab with every cell run; returns the page."""
    page = context.new_page()
    page.goto(f"{base}/lab/workspaces/{lesson.stem}/tree/notebooks/{lesson.notebook.name}?reset&token={TOKEN}")
    page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=60000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget "
                           "&& window.jupyterapp.shell.currentWidget.sessionContext", timeout=60000)
    cells = page.evaluate(RUN_ALL)
    assert not problems_in(cells), f"{lesson.stem}: " + "; ".join(problems_in(cells))
    return page


def start_slideshow_at_explorer(context, page, lesson):
    """Save, start RISE on the explorer's heading, step down to the explorer's slide; returns the slides page."""
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    found = page.evaluate(FIND_EXPLORER)
    assert found, f"{lesson.stem}: no explorer cell"
    page.evaluate(f"() => {{ window.jupyterapp.shell.currentWidget.content.activeCellIndex = {found['heading']}; }}")
    with context.expect_page(timeout=30000) as opened:
        page.evaluate("() => window.jupyterapp.commands.execute('RISE:slideshow')")
    slides = opened.value
    slides.wait_for_selector(".reveal .slides section.present", timeout=60000)
    slides.wait_for_timeout(1500)
    assert not slides.evaluate(CURRENT)["explorer"], "the slideshow starts on the heading, before the explorer"
    slides.locator(".reveal .controls .navigate-down.enabled").click()  # the explorer: a slide of its own, below
    slides.wait_for_function(f"() => ({CURRENT})().width > 0", timeout=15000)
    slides.wait_for_timeout(800)
    return slides


def move_slider(page, root):
    """Press ArrowRight five times on the first slider under `root`; return (before, after) picture and numbers."""
    state = (f"() => {{ const e = {root}; return {{src: e.querySelector('.logitlab-picture').src, "
             "text: e.querySelector('.logitlab-numbers').innerText}; }")
    before = page.evaluate(state)
    page.evaluate(f"() => {root}.querySelector('.noUi-handle').focus()")
    for _ in range(5):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(150)
    page.wait_for_function(f"(b) => ({state})().src !== b.src && ({state})().text !== b.text", arg=before,
                           timeout=15000)
    return before, page.evaluate(state)


LAB_EXPLORER = "window.jupyterapp.shell.currentWidget.node.querySelector('.logitlab-explorer')"
SLIDE_EXPLORER = "document.querySelector('.reveal .slides section.present section.present .logitlab-explorer')"


@pytest.mark.parametrize("lesson", PLANNED, ids=lambda lesson: lesson.stem)
def test_projector_size_explorer_is_live_and_gets_its_own_slide(lecture_lab, chromium, lesson):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(viewport={"width": 1280, "height": 720})
    page = slides = None
    try:
        page = open_and_run(context, lecture_lab, lesson)
        page.evaluate(f"() => {{ {LAB_EXPLORER}.scrollIntoView({{block: 'start'}}); }}")
        page.wait_for_timeout(300)
        width = page.evaluate(f"() => {LAB_EXPLORER}.querySelector('.logitlab-picture').naturalWidth")
        assert width == 1080, f"{lesson.stem}: the picture is {width} px wide; projector size draws 1080"
        before, after = move_slider(page, LAB_EXPLORER)
        assert after["text"] != before["text"]
        page.wait_for_timeout(300)
        page.screenshot(path=str(SHOTS / f"{lesson.stem}-notebook.png"))

        slides = start_slideshow_at_explorer(context, page, lesson)
        shown = slides.evaluate(CURRENT)
        assert shown["explorer"], f"{lesson.stem}: stepping down did not reach the explorer's slide: {shown}"
        assert shown["width"] >= 900, f"{lesson.stem}: the picture is {shown['width']:.0f} px wide on a 1280 px slide"
        assert not any("news" in text.lower() for text in shown["news"]), shown["news"]
        slides.screenshot(path=str(SHOTS / f"{lesson.stem}-slide.png"))
    except BaseException:
        for name, target in (("lab", page), ("slides", slides)):
            if target is not None:
                target.screenshot(path=str(SHOTS / f"{lesson.stem}-{name}-FAILED.png"))
        raise
    finally:
        try:
            page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
        except Exception:
            pass
        context.close()


@pytest.mark.xfail(strict=True, reason="jupyterlab_rise 0.43.1's slideshow app (JupyterLab 4.3) cannot load the "
                   "ipywidgets manager of JupyterLab 4.6.6: explorers show their picture, not live sliders")
def test_slider_is_live_inside_the_rise_slideshow(lecture_lab, chromium):
    lesson = PLANNED[3]
    context = chromium.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = open_and_run(context, lecture_lab, lesson)
        slides = start_slideshow_at_explorer(context, page, lesson)
        assert slides.evaluate(CURRENT)["live"], "the explorer on the slide is a picture, not a live widget"
        move_slider(slides, SLIDE_EXPLORER)
        slides.screenshot(path=str(SHOTS / f"{lesson.stem}-slide-live.png"))
    finally:
        context.close()
