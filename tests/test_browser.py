"""Every lesson in JupyterLab in headless Chromium: run all cells, no errors, and the sliders work.

One JupyterLab server and one browser for the module (tests/conftest.py: serve_lab, browser), serving a
copy of the repository so that JupyterLab's autosave can never write hand-run outputs into the
lessons. Screenshots go to artifacts/screenshots/, slider latency to artifacts/browser-latency.txt.
"""

import json
import statistics

import pytest

from conftest import ROOT, serve_lab
from helpers import ARM, CHANGED, RESULT, RUN_ALL, problems_in, show_explorer, shut_down_kernel
from logitlab.authoring import course

pytestmark = pytest.mark.browser

TOKEN = "logitlab-browser-test"
ARTIFACTS = ROOT / "artifacts"
# JupyterLab user settings on top of the course's (jupyter-config/): no autosave, so nothing writes to the
# lessons while a test runs them.
LAB_SETTINGS = {"@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False}}
LATENCY_MOVES = 8


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab with the course's settings (as `make lab` starts it) serving a copy of the repository; yields its
    base URL."""
    with serve_lab(tmp_path_factory.mktemp("lab"), TOKEN, LAB_SETTINGS) as base:
        yield base


def open_and_run(page, base, token, lesson):
    """Open the lesson in `page` in a workspace of its own, reset, run every cell; fail on any problem."""
    page.goto(f"{base}/lab/workspaces/{lesson.stem}/tree/notebooks/{lesson.notebook.name}?reset&token={token}")
    page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=60000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget "
                           "&& window.jupyterapp.shell.currentWidget.sessionContext", timeout=60000)
    ran = page.evaluate(RUN_ALL)
    problems = problems_in(ran["cells"])
    assert not problems, f"{lesson.stem} (kernel {ran['kernel']}): " + "; ".join(problems)


# Runs in the page: every generated speaker-notes cell as a learner sees it (scrolled into view).
NOTES_AS_SEEN = """
async () => {
  const cells = window.jupyterapp.shell.currentWidget.content.widgets
      .filter(c => (c.model.getMetadata('tags') || []).includes('lecture-notes'));
  const seen = [];
  for (const cell of cells) {
    cell.node.scrollIntoView({block: 'center'});
    // A long lesson's cells are laid out only once scrolled to (JupyterLab's windowed notebook): wait, 3 s at most.
    for (let i = 0; i < 60 && !cell.node.innerText.trim(); i++) {
      await new Promise(r => requestAnimationFrame(() => setTimeout(r, 50)));
    }
    seen.push({text: cell.node.innerText, details: cell.node.querySelectorAll('details').length});
  }
  return seen;
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
    # Asked: a click on the explorer note's line opens it.
    page.locator(".jp-Notebook details summary", has_text=lecture.EXPLORER_FIRST_LINE).first.click()
    page.wait_for_timeout(500)
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
    (ARTIFACTS / "browser-latency.txt").write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("lesson", course.lessons(), ids=lambda lesson: lesson.stem)
def test_lesson_runs_and_its_sliders_redraw(lab, browser, lesson):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        # A workspace of its own, reset: only this lesson is open (not the tabs an earlier test left).
        open_and_run(page, lab, TOKEN, lesson)
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
    finally:
        shut_down_kernel(page)
        page.close()
