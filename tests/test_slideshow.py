"""Lecture mode in a real browser, 1280x720: the paths into a RISE slideshow, and the offline handouts.

JupyterLab is started the way `make lecture` starts it (the course's jupyter-config/ defaults,
LOGITLAB_SIZE=projector) on a copy of the repository. From a freshly opened lesson, every way an instructor
reaches the slideshow shows a live explorer at projector size, or a one-line hint saying what to press. Each
lesson's own explorer slide (projector size, live, filling the slide) is checked by test_browser.py, on the same
Run All as the lesson's notebook checks. Screenshots go to artifacts/slides/.

On a slide the arrow keys belong to reveal.js (they turn the slides), so the tests drag the handle, as an
instructor does (tests/helpers.py: drag_slider).
"""

import contextlib
import shutil

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from helpers import (CURRENT, FIND_EXPLORER, PROJECTOR_VIEW, ROOT, SLIDE_EXPLORER, drag_slider, new_page,
                     open_and_run, serve_lab, shut_down_kernel, step_to_explorer, without_motion)
from logitlab.authoring import course
from logitlab.authoring import lecture

pytestmark = pytest.mark.browser

TOKEN = "logitlab-slideshow-test"
SHOTS = ROOT / "artifacts" / "slides"
PLANNED = [lesson for lesson in course.lessons() if lesson.number in lecture.PLANS]


class Lab(str):
    """A test JupyterLab's base URL; `.course` is the copy of the repository it serves."""


@pytest.fixture(scope="module")
def lecture_lab(tmp_path_factory):
    """JupyterLab as `make lecture` starts it, serving a copy of the repository; yields its base URL (a Lab)."""
    home = tmp_path_factory.mktemp("lecture")
    with serve_lab(home, TOKEN, LOGITLAB_SIZE="projector") as base:
        lab = Lab(base)
        lab.course = home / "course"
        yield lab


# The paths an instructor takes into the slideshow, from a freshly opened lesson (one without TensorFlow: quick).
PATHS_LESSON = next(lesson for lesson in PLANNED if lesson.number == "01")
SLIDE_TEXT = """
() => { const slide = document.querySelector('.reveal .slides section.present section.present')
            || document.querySelector('.reveal .slides section.present');
        return slide ? slide.innerText : ''; }
"""


def says_what_to_press(slides):
    """True when the current slide shows the one-line hint (what to press for live sliders)."""
    text = slides.evaluate(SLIDE_TEXT)
    return "Run → Run All Cells" in text and "Shift+Enter" in text


def press_what_the_hint_says_and_drag(slides, shot):
    """Click the explorer's code on the current slide and press Shift+Enter: the explorer is live, drawn at projector
    size (LOGITLAB_SIZE=projector reached the kernel), and a drag changes its picture and numbers; screenshot."""
    slides.locator(".reveal .slides section.present .jp-CodeCell .cm-content").first.click()
    slides.keyboard.press("Shift+Enter")
    slides.wait_for_function(f"() => ({CURRENT})().live", timeout=60000)
    slides.wait_for_timeout(800)
    shown = slides.evaluate(CURRENT)
    assert shown["natural"] >= 1080, f"`make lecture` draws at projector size (1080 px or more): {shown}"
    drag_slider(slides, SLIDE_EXPLORER)
    slides.screenshot(path=str(SHOTS / shot))


def open_rise_at_explorer(slides, base, name, what):
    """Open the /rise/ page of notebooks/`name` in the tab `slides` and step to the explorer's slide (`what` names
    the path in a failure); return what the slide shows (CURRENT) once a stored picture has had time to decode."""
    slides.goto(f"{base}/rise/notebooks/{name}?token={TOKEN}")
    slides.wait_for_selector(".reveal .slides section.present", timeout=60000)
    without_motion(slides)
    step_to_explorer(slides, what)
    with contextlib.suppress(PlaywrightTimeout):  # the stored picture may still be decoding on a busy machine
        slides.wait_for_function(f"() => ({CURRENT})().width > 0", timeout=15000)
    return slides.evaluate(CURRENT)


def run_all_in_lab(page, base):
    """Open the lesson in JupyterLab (a fresh workspace) and Run All; it joins the kernel session of its path."""
    open_and_run(page, base, TOKEN, PATHS_LESSON)


def api(lab, method, path, body=None):
    """Call the JupyterLab server's REST API; the reply's JSON (None for an empty reply)."""
    import json
    import urllib.request

    request = urllib.request.Request(f"{lab}/api/{path}?token={TOKEN}&content=1", method=method,
                                     data=None if body is None else json.dumps(body).encode())
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
    return json.loads(text) if text else None


def test_a_notebook_is_read_with_only_the_widget_views_its_kernel_can_show(lecture_lab):
    """The course's file manager (logitlab/authoring/contents.py) with the server's own kernel: a saved view whose
    model lives in the notebook's kernel stays (RISE started from the running lesson is live); one drawn by an
    earlier kernel goes, beside a kernel restarted or not yet run (it would say "Error displaying widget: model
    not found"), its picture staying; with the session ended, every view goes."""
    from jupyter_client import BlockingKernelClient

    path = "notebooks/widget-views.ipynb"
    kernel = api(lecture_lab, "POST", "sessions", {"path": path, "type": "notebook", "name": "",
                                                    "kernel": {"name": "python3"}})["kernel"]["id"]
    client = BlockingKernelClient(connection_file=str(lecture_lab.course.parent / "runtime" / f"kernel-{kernel}.json"))
    client.load_connection_file()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        printed = []
        client.execute_interactive("import ipywidgets; print(ipywidgets.IntSlider().model_id)", timeout=60,
                                   output_hook=lambda msg: printed.append(msg["content"].get("text", "")))
    finally:
        client.stop_channels()
    live = "".join(printed).strip()
    assert len(live) == 32, printed

    def explorer(model_id):
        return {"output_type": "display_data", "metadata": {},
                "data": {course.WIDGET_VIEW: {"model_id": model_id, "version_major": 2, "version_minor": 0},
                         "image/png": "iVBORw0KGgo=", "text/plain": "explorer"}}

    nb = {"cells": [{"cell_type": "code", "execution_count": 1, "id": "a", "metadata": {}, "source": "explorer",
                     "outputs": [explorer(live), explorer("0" * 32)]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (lecture_lab.course / path).write_text(course.dumps(nb))

    def views():
        outputs = api(lecture_lab, "GET", f"contents/{path}")["content"]["cells"][0]["outputs"]
        assert all(out["data"]["image/png"] == "iVBORw0KGgo=" for out in outputs), outputs
        return [out["data"].get(course.WIDGET_VIEW, {}).get("model_id") for out in outputs]

    assert views() == [live, None]
    sessions = [s["id"] for s in api(lecture_lab, "GET", "sessions") if s["path"] == path]
    api(lecture_lab, "DELETE", f"sessions/{sessions[0]}")
    assert views() == [None, None]


def test_every_path_into_the_slideshow_shows_live_sliders_or_says_what_to_press(lecture_lab, chromium):
    """From a freshly opened lesson: the /rise/ page opened first (nothing has run); JupyterLab's Run All while
    the slideshow is open in its own tab, unsaved; a kernel restarted mid-lecture; View → Render as slideshow; the
    lesson saved while it ran, opened again once its kernel is gone. Every explorer slide either is live (the drag
    changes picture and numbers) or shows the hint, and pressing what the hint says makes it live."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    stem, name = PATHS_LESSON.stem, PATHS_LESSON.notebook.name
    # A freshly opened lesson: the course's file, whatever another test in this lab may have saved.
    shutil.copy(PATHS_LESSON.notebook, lecture_lab.course / "notebooks" / name)
    slides = lab = None
    try:
        # 1. The /rise/ page in its own tab, before anything ran: the stored picture, and the hint.
        slides = new_page(chromium, PROJECTOR_VIEW)
        shown = open_rise_at_explorer(slides, lecture_lab, name, "fresh /rise/ page")
        assert not shown["live"] and shown["width"] > 0, f"nothing ran, so the stored picture: {shown}"
        assert says_what_to_press(slides), slides.evaluate(SLIDE_TEXT)
        notes = slides.evaluate("() => [...document.querySelectorAll('aside.notes')].map(a => a.textContent)")
        assert any("Ask the room" in text for text in notes), f"the speaker view gets the notes: {notes}"
        slides.screenshot(path=str(SHOTS / "path-1-rise-page-before-run.png"))

        # 2. Run All in the notebook (not saved), then what the hint says on the slide: live.
        lab = new_page(chromium, PROJECTOR_VIEW)
        run_all_in_lab(lab, lecture_lab)
        assert lab.evaluate("() => window.jupyterapp.shell.currentWidget.context.model.dirty"), "not saved"
        press_what_the_hint_says_and_drag(slides, "path-2-rise-page-after-run-all-and-shift-enter.png")

        # 3. The kernel restarted mid-lecture: the hint is still on the slide; Run All, Shift+Enter: live again.
        lab.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart()")
        lab.wait_for_timeout(3000)
        assert says_what_to_press(slides)
        slides.screenshot(path=str(SHOTS / "path-3-after-kernel-restart.png"))
        ran = lab.evaluate(RUN_ALL_AGAIN)
        assert ran == "idle", ran
        press_what_the_hint_says_and_drag(slides, "path-3-after-restart-run-all-and-shift-enter.png")
        slides.close()
        slides = None

        # 4. View → Render as slideshow in the lab (RISE:preview saves, then shows the slides beside the notebook).
        found = lab.evaluate(FIND_EXPLORER)  # the slides start at the selected cell: the explorer's heading
        lab.evaluate(f"() => {{ window.jupyterapp.shell.currentWidget.content.activeCellIndex = {found['heading']}; }}")
        lab.evaluate("() => window.jupyterapp.commands.execute('RISE:preview')")
        lab.wait_for_function("() => [...document.querySelectorAll('iframe')].some(f => f.src.includes('/rise/'))",
                              timeout=60000)
        # The iframe element can be in the page before Playwright has attached its frame: wait for the frame too.
        for _ in range(600):
            frame = next((f for f in lab.frames if "/rise/" in f.url), None)
            if frame is not None:
                break
            lab.wait_for_timeout(100)
        assert frame is not None, "Render as slideshow opened no /rise/ frame within 60 s"
        frame.wait_for_selector(".reveal .slides section.present", timeout=60000)
        without_motion(frame)
        step_to_explorer(frame, "Render as slideshow")
        shown = frame.evaluate(CURRENT)
        assert shown["live"], f"the lesson ran and was saved: the preview's explorer is live: {shown}"
        box = lab.locator("iframe[src*='/rise/']").bounding_box()
        drag_slider(frame, SLIDE_EXPLORER, mouse=lab.mouse, offset=(box["x"], box["y"]))
        lab.screenshot(path=str(SHOTS / "path-4-render-as-slideshow.png"))

        # 5. Another day: the lesson was saved while it ran (Render as slideshow saved it, widget views and all),
        # its kernel is gone, the /rise/ page is opened again: the picture and the hint, no "Error displaying widget"
        # (logitlab/authoring/contents.py).
        saved = course.read_notebook(lecture_lab.course / "notebooks" / name)
        assert any(course.WIDGET_VIEW in out.get("data", {}) for cell in saved["cells"]
                   for out in cell.get("outputs", [])), "JupyterLab saved no widget view: nothing to check"
        lab.evaluate("() => window.jupyterapp.serviceManager.sessions.shutdownAll()")  # the preview is in front
        slides = new_page(chromium, PROJECTOR_VIEW)
        shown = open_rise_at_explorer(slides, lecture_lab, name, "saved lesson opened again")
        assert not shown["live"] and shown["width"] > 0, f"its kernel is gone, so the stored picture: {shown}"
        assert "Error displaying widget" not in slides.evaluate("() => document.body.innerText")
        assert says_what_to_press(slides), slides.evaluate(SLIDE_TEXT)
        slides.screenshot(path=str(SHOTS / "path-5-saved-lesson-opened-again.png"))
    except BaseException:
        for label, target in (("lab", lab), ("slides", slides)):
            if target is not None:
                target.screenshot(path=str(SHOTS / f"paths-{stem}-{label}-FAILED.png"))
        raise
    finally:
        if lab is not None:
            shut_down_kernel(lab)
        for target in (lab, slides):
            if target is not None:
                target.close()


# Run All again in the open notebook (after a restart), waiting for the kernel to be idle with every cell run.
RUN_ALL_AGAIN = """
async () => {
  const app = window.jupyterapp, panel = app.shell.currentWidget;
  await panel.sessionContext.ready;
  await app.commands.execute('notebook:run-all-cells');
  const deadline = Date.now() + 120000;
  const kernel = () => panel.sessionContext.session.kernel;
  while (!(kernel().status === 'idle' && panel.content.widgets.filter(c => c.model.type === 'code')
           .every(c => c.model.executionCount !== null)) && Date.now() < deadline) {
    await new Promise(r => setTimeout(r, 100));
  }
  return kernel().status;
}
"""


HANDOUT_SHOTS = ROOT / "artifacts" / "handouts"


@pytest.mark.parametrize("lesson", PLANNED, ids=lambda lesson: lesson.stem)
def test_a_handout_opened_offline_shows_slides_and_math_and_no_notes(handouts, chromium, lesson):
    """The handout from a USB stick: opened as a file with every request that is not file:// aborted."""
    HANDOUT_SHOTS.mkdir(parents=True, exist_ok=True)
    page = new_page(chromium, PROJECTOR_VIEW)
    blocked = []

    def only_files(route):
        if route.request.url.startswith(("file://", "data:")):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_files)
    try:
        page.goto((handouts / f"{lesson.stem}.slides.html").as_uri())
        page.wait_for_selector(".reveal.ready", timeout=30000)  # reveal.js ran: the page is slides
        without_motion(page)
        assert page.evaluate("() => document.querySelectorAll('.reveal .slides section').length") >= 2
        source = course.read_notebook(lesson.notebook)
        has_math = any(c["cell_type"] == "markdown" and "$" in course.cell_source(c)
                       for c in lecture.lesson_cells(source) if c["metadata"]["slideshow"]["slide_type"] != "skip")
        if has_math:
            page.wait_for_function("() => document.querySelectorAll('.MathJax_SVG svg').length > 0", timeout=30000)
        text = page.evaluate("() => document.body.innerText")
        assert page.evaluate("() => document.querySelectorAll('aside.notes').length") == 0
        assert not any(word in text for word in ("Speaker notes", "Ask the room", "Usually predicted")), "notes"
        assert not blocked, f"the handout asked the network for {blocked}"
        page.screenshot(path=str(HANDOUT_SHOTS / f"{lesson.stem}-title.png"))
        # the first slide with math, shown as a student steps to it
        if has_math:
            for _ in range(40):
                if page.evaluate("() => !!document.querySelector('.reveal .slides section.present .MathJax_SVG svg')"):
                    break
                page.keyboard.press("Space")
                page.wait_for_timeout(250)
            page.wait_for_timeout(500)
            page.screenshot(path=str(HANDOUT_SHOTS / f"{lesson.stem}-math.png"))
    finally:
        page.close()
