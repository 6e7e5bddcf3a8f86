"""Every lesson in JupyterLab in headless Chromium, run once and checked twice: as a learner's notebook and as a
lecture's slideshow.

One JupyterLab server and one browser for the module on each pytest-xdist worker that runs part of it (`make test`
runs lessons 00-04 and 05-09 side by side: LAB_UNITS in tests/conftest.py; tests/helpers.py: serve_lab;
tests/conftest.py: browser), serving a copy of the repository so that JupyterLab's autosave can never write hand-run
outputs into the lessons.
Each lesson is opened in the same JupyterLab page (`lab_page`; the page is loaded once, a lesson's tab closed
before the next opens) and runs top to bottom once (`ran`, a module-scoped fixture per lesson); two tests read that
run:

- the notebook at the learner's size: no errors, the notes closed until asked, every explorer's slider redraws
  its picture on a key press. Screenshots go to artifacts/screenshots/, slider latency to
  artifacts/browser-latency.txt.
- lecture mode, 1280x720: the explorer drawn again at projector size (`ll.widgets.set_size("projector")` in the
  lesson's kernel, then its cell run again), moved with the keyboard in the notebook; saved; the RISE slideshow
  started on the explorer's heading (a page of its own), stepped down with reveal's arrow to the explorer's own
  slide, its picture filling the screen, then the slider dragged there with the mouse: the sliders are live on
  the slides. Screenshots go to artifacts/slides/. (`make lecture`'s LOGITLAB_SIZE=projector reaching the kernel
  is checked by test_slideshow.py's paths test, whose JupyterLab is started that way.)

Live sliders in RISE need the widget extension pinned in requirements.txt (jupyterlab_widgets 3.0.10):
3.0.11 and later import @jupyterlab/console, which jupyterlab_rise 0.43.1's slideshow page does not share,
and the page then loads no widget manager at all. On a slide the arrow keys belong to reveal.js (they turn
the slides), so the slideshow test drags the handle, as an instructor does.
"""

import json
import os
import statistics
from types import SimpleNamespace

import pytest

from helpers import (ARM, CHANGED, CURRENT, FIND_EXPLORER, LAB_SETTINGS, PROJECTOR_VIEW, RESULT, ROOT, SLIDE_EXPLORER,
                     drag_slider, move_slider, new_page, open_and_run, page_config, serve_lab, show_explorer,
                     shut_down_kernel, start_slideshow_at_explorer)
from logitlab.authoring import course, lecture

pytestmark = pytest.mark.browser

TOKEN = "logitlab-browser-test"
ARTIFACTS = ROOT / "artifacts"
SHOTS = ARTIFACTS / "slides"
LATENCY_MOVES = 8
LEARNER_VIEW = {"width": 1400, "height": 1000}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab with the course's settings (as `make lab` starts it) serving a copy of the repository; yields its
    base URL."""
    with serve_lab(tmp_path_factory.mktemp("lab"), TOKEN, LAB_SETTINGS) as base:
        yield base


@pytest.fixture(scope="module")
def lab_page(lab, chromium):
    """One JupyterLab page for the module's lessons, each opened in it in turn (open_notebook's in_place). Pages
    the slideshow opens are 1280x720 (tests/conftest.py: chromium)."""
    page = new_page(chromium, PROJECTOR_VIEW)
    yield page
    page.close()


@pytest.fixture(scope="module", params=course.lessons(), ids=lambda lesson: lesson.stem)
def ran(request, lab, lab_page, chromium):
    """The lesson opened alone in the JupyterLab page and run top to bottom once, for both tests of the lesson; its
    kernel is shut down after them."""
    lesson, page = request.param, lab_page
    page.set_viewport_size(LEARNER_VIEW)
    try:
        open_and_run(page, lab, TOKEN, lesson, in_place=True)
    except BaseException:
        (ARTIFACTS / "screenshots").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "screenshots" / f"{lesson.stem}-FAILED.png"))
        shut_down_kernel(page)
        raise
    yield SimpleNamespace(lesson=lesson, context=chromium, page=page)
    shut_down_kernel(page)


def test_lessons_are_served_in_the_learners_view(lab):
    """As `make lab` and `make lecture` serve them: without nbgrader's menus and panels."""
    assert "@jupyter/nbgrader" in page_config(lab, TOKEN)["disabledExtensions"]


# Runs in the page: every generated speaker-notes cell as a learner sees it (scrolled into view).
NOTES_AS_SEEN = """
async () => {
  const cells = window.jupyterapp.shell.currentWidget.content.widgets
      .filter(c => (c.model.getMetadata('tags') || []).includes('lecture-notes'));
  const seen = [];
  for (const cell of cells) {
    // A long lesson's cells are laid out only once on screen (JupyterLab's windowed notebook), and cells above
    // can still grow as their outputs arrive and push this one off again: scroll to it until it shows, 10 s at most.
    for (let i = 0; i < 100; i++) {
      cell.node.scrollIntoView({block: 'center'});
      await new Promise(r => requestAnimationFrame(() => setTimeout(r, 100)));
      if (cell.node.innerText.trim()) break;
    }
    seen.push({text: cell.node.innerText, details: cell.node.querySelectorAll('details').length});
  }
  return seen;
}
"""


# Runs on an element: resolves once its box has stayed put for half a second (10 s at most).
STILL = """
async (element) => {
  let last = '', same = 0;
  for (let i = 0; i < 100 && same < 5; i++) {
    const box = JSON.stringify(element.getBoundingClientRect());
    same = box === last ? same + 1 : 0;
    last = box;
    await new Promise(r => setTimeout(r, 100));
  }
}
"""


def check_notes_are_closed_until_asked(page, lesson):
    """After Run All a learner sees one line per notes cell, no note text, until they click it open."""
    from logitlab.authoring import lecture

    seen = page.evaluate(NOTES_AS_SEEN)
    assert len(seen) == 1 + len(lecture.PLANS[lesson.number].notes), seen
    for cell in seen:
        assert cell["details"] == 1, f"{lesson.stem}: a notes cell is not rendered: {cell['text']!r}"
        assert not any(word in cell["text"] for word in ("Ask the room", "Usually predicted", "Answer", " min")), (
            f"{lesson.stem}: a learner sees note text: {cell['text']!r}")
        assert cell["text"].strip() in (lecture.TIMING_FIRST_LINE, lecture.EXPLORER_FIRST_LINE), cell["text"]
    # Asked: a click on the explorer note's line opens it. The click waits until the line has stopped moving: cells
    # above it still settle their heights as JupyterLab lays them out, and a click that lands beside the line only
    # selects the cell.
    summary = page.locator(".jp-Notebook details summary", has_text=lecture.EXPLORER_FIRST_LINE).first
    summary.scroll_into_view_if_needed()
    summary.evaluate(STILL)
    summary.click()
    page.wait_for_function("() => [...document.querySelectorAll('.jp-Notebook details')].some(d => d.open)",
                           polling=100, timeout=5000)
    opened = page.evaluate(NOTES_AS_SEEN)
    assert any("Ask the room" in cell["text"] for cell in opened), opened


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
    # Two workers run lessons side by side (tests/conftest.py, LAB_UNITS): replace the summary whole.
    partial = ARTIFACTS / f"browser-latency.txt.{os.getpid()}"
    partial.write_text("\n".join(lines) + "\n")
    partial.replace(ARTIFACTS / "browser-latency.txt")


def test_lesson_runs_and_its_sliders_redraw(ran):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    lesson, page = ran.lesson, ran.page
    page.set_viewport_size(LEARNER_VIEW)
    try:
        check_notes_are_closed_until_asked(page, lesson)

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


# Runs in the lesson's page: draw explorers at projector size from now on (in the kernel, not in the notebook),
# then run the first explorer's cell again and wait until the kernel is idle with that cell run anew.
REDRAW_AT_PROJECTOR_SIZE = """
async (index) => {
  const app = window.jupyterapp, panel = app.shell.currentWidget;
  const kernel = panel.sessionContext.session.kernel;
  await kernel.requestExecute({code: 'll.widgets.set_size("projector")', silent: true, store_history: false}).done;
  const cell = panel.content.widgets[index];
  const before = cell.model.executionCount;
  panel.content.activeCellIndex = index;
  await app.commands.execute('notebook:run-cell');
  const deadline = Date.now() + 60000;
  while (!(kernel.status === 'idle' && cell.model.executionCount !== null && cell.model.executionCount !== before)
         && Date.now() < deadline) {
    await new Promise(r => setTimeout(r, 100));
  }
  return {kernel: kernel.status, executionCount: cell.model.executionCount, before,
          errors: cell.model.outputs.toJSON().filter(o => o.output_type === 'error' || o.name === 'stderr')};
}
"""


def test_projector_size_explorer_is_live_in_the_notebook_and_on_its_own_slide(ran):
    lesson, page, context = ran.lesson, ran.page, ran.context
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert lesson.number in lecture.PLANS, f"{lesson.stem} has no lecture plan (logitlab/authoring/lecture.py)"
    slides = None
    try:
        page.set_viewport_size(PROJECTOR_VIEW)
        found = page.evaluate(FIND_EXPLORER)
        assert found, f"{lesson.stem}: no explorer cell"
        redrawn = page.evaluate(REDRAW_AT_PROJECTOR_SIZE, found["explorer"])
        assert redrawn["executionCount"] not in (None, redrawn["before"]) and not redrawn["errors"], redrawn
        explorer = ("window.jupyterapp.shell.currentWidget.content.widgets[%d].node.querySelector('.logitlab-explorer')"
                    % found["explorer"])
        page.wait_for_function(f"() => {{ const e = {explorer}; const img = e && e.querySelector('.logitlab-picture');"
                               " return img && img.complete && img.naturalWidth > 0; }", timeout=30000)
        page.evaluate(f"() => {{ {explorer}.scrollIntoView({{block: 'start'}}); }}")
        page.wait_for_timeout(300)
        width = page.evaluate(f"() => {explorer}.querySelector('.logitlab-picture').naturalWidth")
        # 1080 px for a two-panel picture (blitting.SIZES), more for a wider one; normal size draws 720-760
        assert width >= 1080, f"{lesson.stem}: the picture is {width} px wide; projector size draws 1080 or more"
        tall, room = page.evaluate(f"() => [{explorer}.getBoundingClientRect().height, "
                                   "window.jupyterapp.shell.currentWidget.content.node.getBoundingClientRect().height]")
        assert tall <= room, f"{lesson.stem}: the explorer is {tall:.0f} px tall, the notebook shows {room:.0f} px"
        move_slider(page, explorer)
        page.wait_for_timeout(300)
        page.screenshot(path=str(SHOTS / f"{lesson.stem}-notebook.png"))

        slides = start_slideshow_at_explorer(context, page, lesson, SHOTS)
        shown = slides.evaluate(CURRENT)
        assert shown["explorer"], f"{lesson.stem}: stepping down did not reach the explorer's slide: {shown}"
        assert shown["live"], f"{lesson.stem}: the explorer on the slide is its stored picture, not a live widget"
        # At least 800 of its 1080 px (lesson 02's six sliders leave it 822): its text is then 18 px or more,
        # above the 14 px of normal size.
        assert shown["width"] >= 800, f"{lesson.stem}: the picture is {shown['width']:.0f} px wide on a 1280 px slide"
        assert shown["bottom"] <= shown["screen"], f"{lesson.stem}: the picture runs below the slide: {shown}"
        assert not any("news" in text.lower() for text in shown["news"]), shown["news"]
        slides.screenshot(path=str(SHOTS / f"{lesson.stem}-slide.png"))

        drag_slider(slides, SLIDE_EXPLORER)
        assert slides.evaluate(CURRENT)["explorer"], f"{lesson.stem}: the drag left the explorer's slide"
        slides.wait_for_timeout(300)
        slides.screenshot(path=str(SHOTS / f"{lesson.stem}-slide-moved.png"))
    except BaseException:
        for name, target in (("lab", page), ("slides", slides)):
            if target is not None:
                target.screenshot(path=str(SHOTS / f"{lesson.stem}-{name}-FAILED.png"))
        raise
    finally:
        if slides is not None:
            slides.close()
