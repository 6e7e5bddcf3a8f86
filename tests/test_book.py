"""The book (`make book`): both editions built once from the stored outputs, served on 127.0.0.1, read in Chromium.

Every lesson page of each edition must show its math typeset and its explorers' stored pictures, log no console
error and ask no host but 127.0.0.1 for anything; search must find lesson 05 for "logsumexp", and the Chinese
search lesson 04 for 交叉熵. A Chinese page reads in Chinese (Sphinx's and the theme's words too), drawn with a
CJK font, and every page's language switch leads to the same page in the other edition. Screenshots at
1366 x 768 go to artifacts/book/ (and artifacts/book/zh-CN/).
"""

import functools
import http.server
import re
import threading
import urllib.parse

import pytest
from helpers import ROOT, new_page
from helpers import cjk_font_families, rendered_fonts, require

from logitlab.authoring import book, course, translate

LESSONS = course.lessons()
LESSONS_ZH = translate.chinese_lessons()
SHOTS = ROOT / "artifacts" / "book"
SHOTS_ZH = SHOTS / "zh-CN"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
SWITCH = re.compile(r'<a class="btn edition-switch" href="([^"$]+)')


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
def page(chromium, site):
    """One Chromium page that records console errors and every request's host."""
    tab = new_page(chromium, {"width": 1366, "height": 768})
    tab.problems, tab.hosts = [], set()
    tab.on("console", lambda msg: msg.type == "error" and tab.problems.append(msg.text))
    tab.on("pageerror", lambda err: tab.problems.append(str(err)))
    tab.on("request", lambda req: tab.hosts.add(urllib.parse.urlsplit(req.url).hostname))
    yield tab
    tab.close()


def open_page(tab, url):
    """Open `url` and wait until MathJax has typeset the page (when it has math)."""
    tab.problems.clear()
    tab.goto(url, wait_until="load")
    tab.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise.then(() => true) : true")


def assert_lesson_page_reads(page, lesson, live_note, run_box):
    """The checks every lesson page passes in either edition (the module docstring); returns the article's text."""
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
    assert text.count(live_note) == explorers
    assert run_box in text and "make lab" in text
    assert "Speaker notes" not in text and "Ask the room" not in text
    assert page.problems == [], page.problems
    assert page.hosts == {"127.0.0.1"}, f"requests left the site: {page.hosts}"
    return text


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.stem for lesson in LESSONS])
def test_every_lesson_page_reads_offline(page, site, lesson):
    built, base = site
    open_page(page, f"{base}/notebooks/{lesson.stem}.html")
    assert_lesson_page_reads(page, lesson, "its sliders are live", "Run this lesson")
    if lesson.number in {"00", "03", "05"}:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{lesson.stem}.png"))
    if lesson.number == "03":
        page.get_by_text("its sliders are live").first.scroll_into_view_if_needed()
        page.mouse.wheel(0, -500)
        page.screenshot(path=str(SHOTS / f"{lesson.stem}-explorer.png"))


@pytest.mark.parametrize("lesson", LESSONS_ZH, ids=[lesson.stem for lesson in LESSONS_ZH])
def test_every_chinese_lesson_page_reads_offline_in_chinese(page, site, lesson):
    built, base = site
    open_page(page, f"{base}/zh-CN/notebooks/{lesson.stem}.html")
    text = assert_lesson_page_reads(page, lesson, "滑块可以拖动", "运行这节课")
    assert "make lab LANG=zh-CN" in text and f"zh-CN/notebooks/{lesson.stem}.ipynb" in text
    assert page.get_attribute("html", "lang") == "zh-CN"
    heading = page.inner_text("article h1")
    assert CHINESE.search(heading), heading
    paragraphs = page.locator("article section p").all_inner_texts()
    assert sum(1 for p in paragraphs if CHINESE.search(p)) > len(paragraphs) / 2, "the prose is not in Chinese"
    # Sphinx's and the theme's own words, in Chinese: the previous/next links, the search field.
    footer = page.inner_text(".prev-next-area")
    assert "下一页" in footer or "上一页" in footer, footer
    placeholders = page.locator("input[placeholder]").evaluate_all("inputs => inputs.map(i => i.placeholder)")
    assert placeholders and not any("Search" in words for words in placeholders), placeholders
    if lesson.number in {"00", "04"}:
        families = cjk_font_families()
        require(families, "a CJK font (apt-get install fonts-wqy-microhei)")
        for selector in ("article h1", "article section p"):
            used = rendered_fonts(page, selector)
            assert any(glyphs > 0 and family in families for family, glyphs in used.items()), \
                f"{selector} was not drawn with a CJK font: {used}"
        SHOTS_ZH.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS_ZH / f"{lesson.stem}.png"))


def test_language_switch_leads_to_the_same_page_in_the_other_edition(page, site):
    built, base = site
    open_page(page, f"{base}/notebooks/03-softmax.html")
    switch = page.locator("a.edition-switch")
    assert switch.is_visible() and switch.inner_text().strip() == "中文"
    switch.click()
    page.wait_for_url(f"{base}/zh-CN/notebooks/03-softmax.html")
    assert page.title().startswith(LESSONS_ZH[3].title), page.title()
    assert page.locator("a.edition-switch").inner_text().strip() == "English"
    SHOTS_ZH.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS_ZH / "03-softmax-switch.png"))
    page.locator("a.edition-switch").click()
    page.wait_for_url(f"{base}/notebooks/03-softmax.html")
    assert page.title().startswith(LESSONS[3].title), page.title()
    assert page.problems == []


def test_every_page_has_a_switch_to_a_page_that_exists(site):
    built, base = site
    pages = sorted(path for path in built.rglob("*.html")
                   if not any(part.startswith("_") for part in path.relative_to(built).parts))  # not _static/
    for path in pages:
        found = SWITCH.findall(path.read_text(encoding="utf-8"))
        assert len(found) == 1, f"{path.relative_to(built)}: {len(found)} language switches"
        target = (path.parent / found[0]).resolve()
        assert target.is_file(), f"{path.relative_to(built)}: the switch leads to {found[0]}, which does not exist"
        assert ("zh-CN" in target.relative_to(built).parts) != ("zh-CN" in path.relative_to(built).parts)
    assert len(pages) > 2 * len(LESSONS)


@pytest.mark.parametrize("term, stem", [("交叉熵", "04-cross-entropy"), ("数值稳定性", "05-numerical-stability")])
def test_chinese_search_finds_the_lesson(page, site, term, stem):
    built, base = site
    open_page(page, f"{base}/zh-CN/search.html?q={urllib.parse.quote(term)}")
    page.wait_for_selector("#search-results ul.search li", timeout=30_000)
    found = page.locator("#search-results ul.search li a").evaluate_all("links => links.map(a => a.href)")
    assert f"{base}/zh-CN/notebooks/{stem}.html" in [href.split("#")[0].split("?")[0] for href in found], found
    assert page.inner_text(".bd-search-container h1").strip() == "搜索", "the search page is not in Chinese"
    # The summary line is written once every result's snippet has been shown.
    page.wait_for_function("() => (document.querySelector('#search-results .search-summary') || {}).innerText",
                           timeout=30_000)
    summary = page.inner_text("#search-results .search-summary")
    assert CHINESE.search(summary) and "Search" not in summary, summary
    snippets = page.locator("#search-results ul.search li p").all_inner_texts()
    assert not any(snippet.lstrip(".").startswith("English") for snippet in snippets), \
        f"the language switch's word in a search summary: {snippets[:3]}"
    assert page.problems == []
    if stem.startswith("04"):
        SHOTS_ZH.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS_ZH / "search.png"))
        page.locator("a.edition-switch").click()  # the English search page, running the same query
        page.wait_for_url(f"{base}/search.html?q={urllib.parse.quote(term)}")


def test_solutions_and_exercises_show_no_hidden_tests(page, site):
    built, base = site
    for lesson in LESSONS:
        if lesson.graded:
            for folder in ("exercises", "solutions", "zh-CN/exercises", "zh-CN/solutions"):
                html = (built / folder / f"{lesson.stem}.html").read_text(encoding="utf-8")
                assert "HIDDEN TESTS" not in html, f"{folder}/{lesson.stem}"
    open_page(page, f"{base}/solutions/03-softmax.html")
    assert "check_softmax" in page.inner_text("article")
    assert page.problems == []
    open_page(page, f"{base}/zh-CN/exercises/03-softmax.html")
    text = page.inner_text("article")
    assert "运行这个练习" in text and "check_softmax" in text and CHINESE.search(page.inner_text("article h1"))
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
        assert f'href="{target}' in (built / "zh-CN" / "notebooks" / "03-softmax.html").read_text(encoding="utf-8")
    assert "logit" in (built / "glossary.html").read_text(encoding="utf-8")
    assert "对数几率" in (built / "zh-CN" / "glossary.html").read_text(encoding="utf-8")
    assert 'href="zh-CN/index.html"' in (built / "index.html").read_text(encoding="utf-8")
