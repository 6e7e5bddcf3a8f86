"""Lecture mode in a real browser, 1280x720: each planned lesson at projector size, in JupyterLab and in RISE.

JupyterLab is started the way `make lecture` starts it (the course's jupyter-config/ defaults,
LOGITLAB_SIZE=projector) on a copy of the repository. For each lesson: run every cell; in the notebook,
move the explorer's slider with the keyboard and see its picture and numbers change; save; select the
"Try it" heading, start the RISE slideshow (a page of its own), step down with reveal's arrow to the
explorer's own slide, check its picture fills the screen, then drag the slider there with the mouse and
see the picture and numbers change: the sliders are live on the slides. Screenshots go to artifacts/slides/.

Live sliders in RISE need the widget extension pinned in requirements.txt (jupyterlab_widgets 3.0.10):
3.0.11 and later import @jupyterlab/console, which jupyterlab_rise 0.43.1's slideshow page does not share,
and the page then loads no widget manager at all. On a slide the arrow keys belong to reveal.js (they turn
the slides), so the slideshow test drags the handle, as an instructor does.
"""

import subprocess
import sys

import pytest

from conftest import ROOT, serve_lab
from logitlab.authoring import course
from logitlab.authoring import lecture
from test_browser import open_and_run, shut_down_kernel

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
  const box = img ? img.getBoundingClientRect() : {width: 0, height: 0, bottom: 0};
  // The picture as drawn: it keeps its proportions inside its box (object-fit: contain) when it has to shrink.
  const width = img && img.naturalHeight ? Math.min(box.width, box.height * img.naturalWidth / img.naturalHeight)
                                         : box.width;
  return {explorer: !!explorer, live: !!live, width, bottom: box.bottom, screen: window.innerHeight,
          news: [...document.querySelectorAll('.jp-toast-message, .Toastify__toast')].map(t => t.innerText)};
}
"""


@pytest.fixture(scope="module")
def lecture_lab(tmp_path_factory):
    """JupyterLab as `make lecture` starts it, serving a copy of the repository; yields its base URL."""
    with serve_lab(tmp_path_factory.mktemp("lecture"), TOKEN, LOGITLAB_SIZE="projector") as base:
        yield base


def start_slideshow_at_explorer(context, page, lesson):
    """Save, start RISE on the explorer's heading, step down to the explorer's slide; returns the slides page."""
    page.evaluate("() => Promise.race([window.jupyterapp.commands.execute('docmanager:save'), "
                  "new Promise(r => setTimeout(r, 20000))])")
    found = page.evaluate(FIND_EXPLORER)
    assert found, f"{lesson.stem}: no explorer cell"
    page.evaluate(f"() => {{ window.jupyterapp.shell.currentWidget.content.activeCellIndex = {found['heading']}; }}")
    with context.expect_page(timeout=30000) as opened:
        page.evaluate("() => window.jupyterapp.commands.execute('RISE:slideshow')")
    slides = opened.value
    slides.wait_for_selector(".reveal .slides section.present", timeout=60000)
    slides.wait_for_timeout(1500)
    assert not slides.evaluate(CURRENT)["explorer"], "the slideshow starts on the heading, before the explorer"
    try:
        # Down shows the heading slide's fragments (code revealed on a key press) one by one, then moves to the
        # explorer: a slide of its own, below.
        for _ in range(6):
            slides.locator(".reveal .controls .navigate-down.enabled").click()
            slides.wait_for_timeout(400)
            if slides.evaluate(CURRENT)["explorer"]:
                break
        slides.wait_for_function(f"() => ({CURRENT})().width > 0", timeout=15000)
    except BaseException:
        slides.screenshot(path=str(SHOTS / f"{lesson.stem}-slides-FAILED.png"))
        raise
    slides.wait_for_timeout(800)
    return slides


def picture_and_numbers(root):
    """JS returning the picture's src and the numbers' text of the explorer `root` (a JS expression)."""
    return (f"() => {{ const e = {root}; return {{src: e.querySelector('.logitlab-picture').src, "
            "text: e.querySelector('.logitlab-numbers').innerText}; }")


def move_slider(page, root):
    """Press ArrowRight five times on the first slider under `root`; return (before, after) picture and numbers."""
    state = picture_and_numbers(root)
    before = page.evaluate(state)
    page.evaluate(f"() => {root}.querySelector('.noUi-handle').focus()")
    for _ in range(5):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(150)
    page.wait_for_function(f"(b) => ({state})().src !== b.src && ({state})().text !== b.text", arg=before,
                           timeout=15000)
    return before, page.evaluate(state)


def drag_slider(page, root, mouse=None, offset=(0, 0)):
    """Drag the first slider's handle under `root` a quarter of its track (towards the roomier end) with the mouse;
    return (before, after) picture and numbers. `page` may be a frame: then `mouse` is its page's and `offset`
    where the frame sits in the page."""
    state = picture_and_numbers(root)
    mouse = mouse or page.mouse
    before = page.evaluate(state)
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
    page.wait_for_function(f"(b) => ({state})().src !== b.src && ({state})().text !== b.text", arg=before,
                           timeout=15000)
    return before, page.evaluate(state)


LAB_EXPLORER = "window.jupyterapp.shell.currentWidget.node.querySelector('.logitlab-explorer')"
SLIDE_EXPLORER = "document.querySelector('.reveal .slides section.present section.present .logitlab-explorer')"


@pytest.mark.parametrize("lesson", PLANNED, ids=lambda lesson: lesson.stem)
def test_projector_size_explorer_is_live_in_the_notebook_and_on_its_own_slide(lecture_lab, browser, lesson):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = slides = None
    try:
        page = context.new_page()
        open_and_run(page, lecture_lab, TOKEN, lesson)
        page.evaluate(f"() => {{ {LAB_EXPLORER}.scrollIntoView({{block: 'start'}}); }}")
        page.wait_for_timeout(300)
        width = page.evaluate(f"() => {LAB_EXPLORER}.querySelector('.logitlab-picture').naturalWidth")
        # 1080 px for a two-panel picture (blitting.SIZES), more for a wider one; normal size draws 720-760
        assert width >= 1080, f"{lesson.stem}: the picture is {width} px wide; projector size draws 1080 or more"
        tall, room = page.evaluate(f"() => [{LAB_EXPLORER}.getBoundingClientRect().height, "
                                   "window.jupyterapp.shell.currentWidget.content.node.getBoundingClientRect().height]")
        assert tall <= room, f"{lesson.stem}: the explorer is {tall:.0f} px tall, the notebook shows {room:.0f} px"
        before, after = move_slider(page, LAB_EXPLORER)
        assert after["text"] != before["text"]
        page.wait_for_timeout(300)
        page.screenshot(path=str(SHOTS / f"{lesson.stem}-notebook.png"))

        slides = start_slideshow_at_explorer(context, page, lesson)
        shown = slides.evaluate(CURRENT)
        assert shown["explorer"], f"{lesson.stem}: stepping down did not reach the explorer's slide: {shown}"
        assert shown["live"], f"{lesson.stem}: the explorer on the slide is its stored picture, not a live widget"
        # At least 800 of its 1080 px (lesson 02's six sliders leave it 822): its text is then 18 px or more,
        # above the 14 px of normal size.
        assert shown["width"] >= 800, f"{lesson.stem}: the picture is {shown['width']:.0f} px wide on a 1280 px slide"
        assert shown["bottom"] <= shown["screen"], f"{lesson.stem}: the picture runs below the slide: {shown}"
        assert not any("news" in text.lower() for text in shown["news"]), shown["news"]
        slides.screenshot(path=str(SHOTS / f"{lesson.stem}-slide.png"))

        before, after = drag_slider(slides, SLIDE_EXPLORER)
        assert after["src"] != before["src"] and after["text"] != before["text"], (before, after)
        assert slides.evaluate(CURRENT)["explorer"], f"{lesson.stem}: the drag left the explorer's slide"
        slides.wait_for_timeout(300)
        slides.screenshot(path=str(SHOTS / f"{lesson.stem}-slide-moved.png"))
    except BaseException:
        for name, target in (("lab", page), ("slides", slides)):
            if target is not None:
                target.screenshot(path=str(SHOTS / f"{lesson.stem}-{name}-FAILED.png"))
        raise
    finally:
        if page is not None:
            shut_down_kernel(page)
        context.close()


# The paths an instructor takes into the slideshow, from a freshly opened lesson (one without TensorFlow: quick).
PATHS_LESSON = next(lesson for lesson in PLANNED if lesson.number == "01")
SLIDE_TEXT = """
() => { const slide = document.querySelector('.reveal .slides section.present section.present')
            || document.querySelector('.reveal .slides section.present');
        return slide ? slide.innerText : ''; }
"""


def step_to_explorer(slides, what):
    """Step through the slides as a presenter does (down within a section, else right) to the explorer's slide."""
    for _ in range(60):
        if slides.evaluate(CURRENT)["explorer"]:
            slides.wait_for_timeout(800)
            return
        down = slides.locator(".reveal .controls .navigate-down.enabled")
        (down if down.count() else slides.locator(".reveal .controls .navigate-right.enabled")).click()
        slides.wait_for_timeout(300)
    raise AssertionError(f"{what}: never reached the explorer's slide")


def says_what_to_press(slides):
    """True when the current slide shows the one-line hint (what to press for live sliders)."""
    text = slides.evaluate(SLIDE_TEXT)
    return "Run → Run All Cells" in text and "Shift+Enter" in text


def rerun_explorer_on_the_slide(slides):
    """Click the explorer's code on the current slide and press Shift+Enter; wait for the live explorer."""
    slides.locator(".reveal .slides section.present .jp-CodeCell .cm-content").first.click()
    slides.keyboard.press("Shift+Enter")
    slides.wait_for_function(f"() => ({CURRENT})().live", timeout=60000)
    slides.wait_for_timeout(800)


def run_all_in_lab(page, base):
    """Open the lesson in JupyterLab (a fresh workspace) and Run All; it joins the kernel session of its path."""
    open_and_run(page, base, TOKEN, PATHS_LESSON)


def test_every_path_into_the_slideshow_shows_live_sliders_or_says_what_to_press(lecture_lab, browser):
    """From a freshly opened lesson: the /rise/ page opened first (nothing has run); JupyterLab's Run All while
    the slideshow is open in its own tab, unsaved; a kernel restarted mid-lecture; View → Render as slideshow.
    Every explorer slide either is live (the drag changes picture and numbers) or shows the hint, and pressing
    what the hint says makes it live."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    stem, name = PATHS_LESSON.stem, PATHS_LESSON.notebook.name
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    slides = lab = None
    try:
        # 1. The /rise/ page in its own tab, before anything ran: the stored picture, and the hint.
        slides = context.new_page()
        slides.goto(f"{lecture_lab}/rise/notebooks/{name}?token={TOKEN}")
        slides.wait_for_selector(".reveal .slides section.present", timeout=60000)
        step_to_explorer(slides, "fresh /rise/ page")
        shown = slides.evaluate(CURRENT)
        assert not shown["live"] and shown["width"] > 0, f"nothing ran, so the stored picture: {shown}"
        assert says_what_to_press(slides), slides.evaluate(SLIDE_TEXT)
        notes = slides.evaluate("() => [...document.querySelectorAll('aside.notes')].map(a => a.textContent)")
        assert any("Ask the room" in text for text in notes), f"the speaker view gets the notes: {notes}"
        slides.screenshot(path=str(SHOTS / "path-1-rise-page-before-run.png"))

        # 2. Run All in the notebook (not saved), then what the hint says on the slide: live.
        lab = context.new_page()
        run_all_in_lab(lab, lecture_lab)
        assert lab.evaluate("() => window.jupyterapp.shell.currentWidget.context.model.dirty"), "not saved"
        rerun_explorer_on_the_slide(slides)
        before, after = drag_slider(slides, SLIDE_EXPLORER)
        assert after["src"] != before["src"] and after["text"] != before["text"], (before, after)
        slides.screenshot(path=str(SHOTS / "path-2-rise-page-after-run-all-and-shift-enter.png"))

        # 3. The kernel restarted mid-lecture: the hint is still on the slide; Run All, Shift+Enter: live again.
        lab.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart()")
        lab.wait_for_timeout(3000)
        assert says_what_to_press(slides)
        slides.screenshot(path=str(SHOTS / "path-3-after-kernel-restart.png"))
        ran = lab.evaluate(RUN_ALL_AGAIN)
        assert ran == "idle", ran
        rerun_explorer_on_the_slide(slides)
        before, after = drag_slider(slides, SLIDE_EXPLORER)
        assert after["src"] != before["src"] and after["text"] != before["text"], (before, after)
        slides.screenshot(path=str(SHOTS / "path-3-after-restart-run-all-and-shift-enter.png"))
        slides.close()
        slides = None

        # 4. View → Render as slideshow in the lab (RISE:preview saves, then shows the slides beside the notebook).
        found = lab.evaluate(FIND_EXPLORER)  # the slides start at the selected cell: the explorer's heading
        lab.evaluate(f"() => {{ window.jupyterapp.shell.currentWidget.content.activeCellIndex = {found['heading']}; }}")
        lab.evaluate("() => window.jupyterapp.commands.execute('RISE:preview')")
        lab.wait_for_function("() => [...document.querySelectorAll('iframe')].some(f => f.src.includes('/rise/'))",
                              timeout=60000)
        frame = next(f for f in lab.frames if "/rise/" in f.url)
        frame.wait_for_selector(".reveal .slides section.present", timeout=60000)
        step_to_explorer(frame, "Render as slideshow")
        shown = frame.evaluate(CURRENT)
        assert shown["live"], f"the lesson ran and was saved: the preview's explorer is live: {shown}"
        box = lab.locator("iframe[src*='/rise/']").bounding_box()
        before, after = drag_slider(frame, SLIDE_EXPLORER, mouse=lab.mouse, offset=(box["x"], box["y"]))
        assert after["src"] != before["src"] and after["text"] != before["text"], (before, after)
        lab.screenshot(path=str(SHOTS / "path-4-render-as-slideshow.png"))
    except BaseException:
        for label, target in (("lab", lab), ("slides", slides)):
            if target is not None:
                target.screenshot(path=str(SHOTS / f"paths-{stem}-{label}-FAILED.png"))
        raise
    finally:
        if lab is not None:
            shut_down_kernel(lab)
        context.close()


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


@pytest.fixture(scope="module")
def offline_handouts(tmp_path_factory):
    """`make slides` into a scratch folder (reveal.js and MathJax copied beside the pages from npm's packages)."""
    out = tmp_path_factory.mktemp("handouts")
    result = subprocess.run([sys.executable, "-m", "logitlab", "slides", "--out", str(out)], cwd=ROOT,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.parametrize("lesson", PLANNED, ids=lambda lesson: lesson.stem)
def test_a_handout_opened_offline_shows_slides_and_math_and_no_notes(offline_handouts, browser, lesson):
    """The handout from a USB stick: opened as a file with every request that is not file:// aborted."""
    HANDOUT_SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    blocked = []

    def only_files(route):
        if route.request.url.startswith(("file://", "data:")):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_files)
    page = context.new_page()
    try:
        page.goto((offline_handouts / f"{lesson.stem}.slides.html").as_uri())
        page.wait_for_selector(".reveal.ready", timeout=30000)  # reveal.js ran: the page is slides
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
        context.close()
