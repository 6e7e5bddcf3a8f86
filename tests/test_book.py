"""The book (`make book`): built once from the stored outputs, served on 127.0.0.1, read in Chromium.

Every lesson page must show its math typeset and its explorers' stored pictures, log no console error and ask
no host but 127.0.0.1 for anything; search must find lesson 05 for "logsumexp". Screenshots of three pages at
1366 x 768 go to artifacts/book/.
"""

import functools
import http.server
import threading
import urllib.parse

import pytest
from conftest import ROOT

from logitlab.authoring import book, course

LESSONS = course.lessons()
SHOTS = ROOT / "artifacts" / "book"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The built site, served by a static file server on 127.0.0.1 for this module."""
    out = tmp_path_factory.mktemp("book")
    built = book.build(site=out / "site", source=out / "source")
    handler = functools.partial(QuietHandler, directory=str(built))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield built, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def page(browser, site):
    """One Chromium page that records console errors and every request's host."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    tab = context.new_page()
    tab.problems, tab.hosts = [], set()
    tab.on("console", lambda msg: msg.type == "error" and tab.problems.append(msg.text))
    tab.on("pageerror", lambda err: tab.problems.append(str(err)))
    tab.on("request", lambda req: tab.hosts.add(urllib.parse.urlsplit(req.url).hostname))
    yield tab
    context.close()


def open_page(tab, url):
    """Open `url` and wait until MathJax has typeset the page (when it has math)."""
    tab.problems.clear()
    tab.goto(url, wait_until="load")
    tab.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise.then(() => true) : true")


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.stem for lesson in LESSONS])
def test_every_lesson_page_reads_offline(page, site, lesson):
    built, base = site
    open_page(page, f"{base}/notebooks/{lesson.stem}.html")
    assert page.title().replace("\u2019", "'").startswith(lesson.title), page.title()
    text = page.inner_text("article")
    prose = page.evaluate("""() => { const a = document.querySelector('article').cloneNode(true);
        a.querySelectorAll('pre, mjx-container, script').forEach(e => e.remove()); return a.textContent; }""")
    assert "$$" not in prose and "\\frac" not in prose and "\\log" not in prose, "math left untypeset"
    cells = course.read_notebook(lesson.notebook)["cells"]
    if any(c["cell_type"] == "markdown" and "$" in course.cell_source(c) for c in cells):
        assert page.locator("mjx-container").count() > 0, "no typeset math on a lesson that has math"
    pictures = page.locator("article img")
    assert pictures.count() > 0, "no stored picture"
    widths = pictures.evaluate_all("imgs => imgs.map(img => img.complete ? img.naturalWidth : 0)")
    assert all(w > 0 for w in widths), f"a picture did not load: {widths}"
    explorers = sum(1 for cell in cells
                    if cell["cell_type"] == "code" and course.cell_source(cell).lstrip().startswith("ll.widgets."))
    assert text.count("its sliders are live") == explorers
    assert "Run this lesson" in text and "make lab" in text
    assert "Speaker notes" not in text and "Ask the room" not in text
    assert page.problems == [], page.problems
    assert page.hosts == {"127.0.0.1"}, f"requests left the site: {page.hosts}"
    if lesson.number in {"00", "03", "05"}:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{lesson.stem}.png"))
    if lesson.number == "03":
        page.get_by_text("its sliders are live").first.scroll_into_view_if_needed()
        page.mouse.wheel(0, -500)
        page.screenshot(path=str(SHOTS / f"{lesson.stem}-explorer.png"))


def test_solutions_and_exercises_show_no_hidden_tests(page, site):
    built, base = site
    for lesson in LESSONS:
        if lesson.graded:
            for folder in ("exercises", "solutions"):
                html = (built / folder / f"{lesson.stem}.html").read_text(encoding="utf-8")
                assert "HIDDEN TESTS" not in html, f"{folder}/{lesson.stem}"
    open_page(page, f"{base}/solutions/03-softmax.html")
    assert "check_softmax" in page.inner_text("article")
    assert page.problems == []


def test_search_finds_lesson_05(page, site):
    built, base = site
    open_page(page, f"{base}/search.html?q=logsumexp")
    page.wait_for_selector("#search-results ul.search li", timeout=30_000)
    found = page.locator("#search-results ul.search li a").evaluate_all("links => links.map(a => a.href)")
    assert any("05-numerical-stability" in href for href in found), found
    assert page.problems == []


def test_navigation_links_lead_to_pages_of_the_site(site):
    built, base = site
    html = (built / "notebooks" / "03-softmax.html").read_text(encoding="utf-8")
    for target in ("../exercises/03-softmax.html", "../solutions/03-softmax.html", "04-cross-entropy.html",
                   "../glossary.html"):
        assert f'href="{target}' in html, target
    assert "logit" in (built / "glossary.html").read_text(encoding="utf-8")
