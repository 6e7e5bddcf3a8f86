"""Grading a class as a whole (issues 16 and 26): no student dropped, submitted files read as untrusted input,
CSV cells a spreadsheet cannot evaluate, and feedback pages that run nothing and cannot lie about the score.

One real grading run (`graded`, four notebooks through nbgrader and bubblewrap) is shared by every test that
reads its output; the browser tests open its pages in Chromium from file:// and over http.
"""

import csv
import http.server
import json
import os
import re
import stat
import subprocess
import sys
import threading
import uuid
from functools import partial
from types import SimpleNamespace

import pytest

import submissions as bank
from helpers import ROOT, new_page, require
from logitlab.grading import classroom, csvsafe, pages, submissions

WEIRD = "=1+1 <i>odd é"  # a student folder whose name a spreadsheet would evaluate and a page would render
FLAG = ("window.pwned = 1; console.log('pwned'); "
        "fetch('../alice/01-math-logit.html'); fetch('/alice/01-math-logit.html')")
# Every way an output tries to run script, load a classmate's page, or show a score of its own.
HOSTILE_OUTPUTS = f'''from IPython.display import HTML, SVG, Javascript, display
FLAG = {FLAG!r}
display(HTML("<script>" + FLAG + "</script><img src=x onerror=\\"" + FLAG + "\\">"
             "<a id=jslink href=\\"javascript:" + FLAG + "\\">click me</a>"
             "<style>header {{ display: none !important }} .score::after {{ content: ' (fake)' }}</style>"
             "<div style='position:fixed;top:0;left:0;width:100%;height:100%;background:#fff;z-index:99999;"
             "font-size:40px' class='score'>Score: 4.0 / 4.0</div>"
             "<img src='../alice/01-math-logit.html'><iframe src='../alice/01-math-logit.html'></iframe>"
             "<link rel=stylesheet href='/alice/01-math-logit.html'><object data='/alice/01-math-logit.html'></object>"
             "<meta http-equiv=refresh content='0;url=../alice/01-math-logit.html'><base href='http://127.0.0.1:9/'>"
             "<form action='/alice/01-math-logit.html'><button id=send>send</button></form>"))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg" onload="' + FLAG + '"><script>' + FLAG.replace("'", "&apos;")
            + '</script><circle r="5"/></svg>'))
display(Javascript(FLAG))
display({{"text/html": "<header class='grader'><div class='score'>Score: 4.0 / 4.0</div></header>",
         "application/javascript": FLAG, "text/plain": "an object"}}, raw=True)
display({{"application/javascript": FLAG}}, raw=True)
print("Score: 4.0 / 4.0")


def logit(p):
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore"):
        return np.log(p) - np.log1p(-p)'''
HOSTILE_MARKDOWN = (
    "# Score: 4.0 / 4.0\n\n<script>window.pwned = 1; console.log('pwned')</script>\n\n"
    "<img src=x onerror=\"window.pwned = 1\">\n\n[a link](javascript:window.pwned=1) "
    "[a classmate](../alice/01-math-logit.html)\n\n"
    "<div style=\"position:fixed;top:0;left:0;width:100%;height:100%;background:white;z-index:99999\">"
    "Score: 4.0 / 4.0</div>\n\n<style>header { display: none }</style>\n")
WRONG_SIGMOID = '''def sigmoid(z):
    return np.zeros_like(np.asarray(z, dtype=float))'''


def run_grade(folder, out, *options):
    return subprocess.run([sys.executable, "-m", "logitlab", "grade", str(folder), "--out", str(out), *options],
                          capture_output=True, text=True, cwd=ROOT, timeout=900)


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def hostile(stem="01-math-logit"):
    """mallet's notebook: a right logit wrapped in hostile outputs, a wrong sigmoid, a hostile markdown cell."""
    nb = json.loads(bank.submission(stem, {**bank.solution_answers(stem), "logit-answer": HOSTILE_OUTPUTS,
                                           "sigmoid-answer": WRONG_SIGMOID}))
    nb["cells"].insert(1, {"cell_type": "markdown", "id": "hostile-md", "metadata": {}, "source": HOSTILE_MARKDOWN})
    return json.dumps(nb)


def build_class(folder, secret):
    """One student per way a folder can hold (or fail to hold) a submission."""
    # Two notebooks reach the sandbox (grading is the slow part): mallet's and one in nbgrader's layout.
    bank.write(folder, "mallet", "01-math-logit", hostile())
    bank.write(folder / WEIRD, "logits-lab", "01-math-logit", bank.correct("01-math-logit"))  # nbgrader's layout
    (folder / WEIRD / "logits-lab" / "timestamp.txt").write_text("2026-12-04 05:00:00")
    bank.write(folder, "alice", "01-math-logit", '{"cells": [')  # the classmate whose page mallet wants
    bank.write(folder, ".dotty", "01-math-logit", "not JSON")
    bank.write(folder / ".dotty", "week1", "01-math-logit", "{}")  # a second copy
    (folder / "emma").mkdir()
    (folder / "tess").mkdir()
    (folder / "tess" / "notes.txt").write_text("my answers are in my head")
    bank.write(folder, "gus", "01-math-logit (1)", bank.correct("01-math-logit"))
    (folder / "bob.ipynb").write_text(bank.correct("01-math-logit"))  # a file where a folder belongs
    (folder / "linky").symlink_to(folder / "alice")  # a student folder that is a link to a classmate's
    (folder / "sym").mkdir()
    (folder / "sym" / "01-math-logit.ipynb").symlink_to(secret)
    (folder / "solly").mkdir()
    (folder / "solly" / "01-math-logit.ipynb").symlink_to(ROOT / "solutions" / "01-math-logit.ipynb")
    (folder / "fifi").mkdir()
    os.mkfifo(folder / "fifi" / "03-softmax.ipynb")  # also makes 03-softmax an exercise of this class
    (folder / "hardy").mkdir()
    os.link(secret, folder / "hardy" / "01-math-logit.ipynb")
    (folder / "biggie").mkdir()
    with open(folder / "biggie" / "01-math-logit.ipynb", "wb") as f:
        f.truncate(30 * 2 ** 20)  # sparse: 30 MB that take no disk
    (folder / "dirry" / "01-math-logit.ipynb").mkdir(parents=True)
    (folder / ".DS_Store").write_text("Finder")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One grading run shared by the tests of this module."""
    require(classroom.sandbox_problem() is None, "bubblewrap (apt-get install bubblewrap)")
    tmp = tmp_path_factory.mktemp("class")
    token = f"SECRET-{uuid.uuid4().hex}"
    secret = tmp / "secret.txt"  # a file of the grader's, which a link in a submission points at
    secret.write_text(f"{token} the grader's private key\n")
    folder, out = tmp / "submissions", tmp / "out"
    build_class(folder, secret)
    result = run_grade(folder, out, "--timeout", "60")
    assert result.returncode == 0, result.stderr[-3000:]
    grades = {(r[0], r[1]): (float(r[2]), float(r[3])) for r in read_rows(out / "grades.csv")[1:]}
    reasons = {(r[0], r[1]): r[2] for r in read_rows(out / "problems.csv")[1:]}
    return SimpleNamespace(folder=folder, out=out, log=result.stderr, token=token, grades=grades, reasons=reasons)


STUDENTS = ["'" + WEIRD, ".dotty", "alice", "biggie", "bob.ipynb", "dirry", "emma", "fifi", "gus", "hardy", "linky",
            "mallet", "solly", "sym", "tess"]


def test_every_entry_gets_a_row_for_every_exercise_found(graded):
    assert read_rows(graded.out / "grades.csv")[0] == ["student", "exercise", "score", "max_score"]
    assert sorted(graded.grades) == sorted((s, e) for s in STUDENTS for e in ("01-math-logit", "03-softmax"))
    earned = {key: value for key, value in graded.grades.items() if value[0] > 0}
    assert earned == {("'" + WEIRD, "01-math-logit"): (4, 4), ("mallet", "01-math-logit"): (2, 4)}
    assert all(top == 4 for _, top in graded.grades.values())  # 01 and 03 are both worth 4 points
    assert "[ 10/10]" in graded.log  # ten notebooks were handed in under an exercise's name; two could be read


def test_every_zero_has_a_reason_in_problems_csv(graded):
    zeros = {key for key, (score, _) in graded.grades.items() if score == 0}
    assert zeros <= set(graded.reasons)
    assert graded.reasons["emma", "01-math-logit"] == "nothing handed in: the folder is empty"
    assert graded.reasons["tess", "01-math-logit"] == "no 01-math-logit.ipynb handed in (the folder holds notes.txt)"
    assert graded.reasons["gus", "01-math-logit"] == (
        "no 01-math-logit.ipynb handed in, but 01-math-logit (1).ipynb: a notebook must keep its exercise's name; "
        "rename it to 01-math-logit.ipynb")
    assert graded.reasons["alice", "03-softmax"] == "no 03-softmax.ipynb handed in"
    assert graded.reasons["bob.ipynb", "01-math-logit"].startswith(
        "SUBMISSIONS/bob.ipynb is a file, not a student's folder: expected SUBMISSIONS/<student>/<NN-slug>.ipynb")
    assert graded.reasons["linky", "01-math-logit"].startswith("SUBMISSIONS/linky is a symbolic link, not a student")
    assert graded.reasons[".dotty", "01-math-logit"] == (
        "01-math-logit.ipynb: not a valid notebook file (not JSON: Expecting value at line 1, column 1); "
        "also handed in as week1/01-math-logit.ipynb; graded 01-math-logit.ipynb")
    assert graded.reasons["alice", "01-math-logit"] == (
        "01-math-logit.ipynb: not a valid notebook file (not JSON: Expecting value at line 1, column 12)")
    assert graded.reasons[".DS_Store", ""].startswith("not a student's folder")
    assert (".DS_Store", "") not in graded.grades


def test_links_pipes_and_odd_files_are_not_read(graded):
    """Each earns 0 with a reason that names the kind of file only; the FIFO did not hang the run."""
    assert graded.reasons["sym", "01-math-logit"] == (
        "01-math-logit.ipynb is a symbolic link, not a regular file: hand in the notebook itself")
    assert graded.reasons["solly", "01-math-logit"] == graded.reasons["sym", "01-math-logit"]
    assert graded.reasons["fifi", "03-softmax"] == (
        "03-softmax.ipynb is a named pipe (FIFO), not a regular file: hand in the notebook itself")
    assert graded.reasons["hardy", "01-math-logit"].startswith(
        "01-math-logit.ipynb is a hard link shared with 1 other name(s)")
    assert graded.reasons["biggie", "01-math-logit"].startswith(
        "01-math-logit.ipynb is 30.0 MB, more than the 20 MB a notebook may be")
    assert graded.reasons["dirry", "01-math-logit"].startswith("01-math-logit.ipynb is a folder, not a regular file")


def test_no_byte_of_a_linked_file_reaches_the_output(graded):
    for path in [*graded.out.rglob("*"), ]:
        if path.is_file():
            assert graded.token not in path.read_text(encoding="utf-8", errors="replace"), path
    assert graded.token not in graded.log
    sym = (graded.out / "feedback" / "sym" / "01-math-logit.html").read_text(encoding="utf-8")
    assert "is a symbolic link" in sym and "Score: 0 / 4" in sym


def test_nbgraders_layout_and_odd_names_are_graded(graded):
    page = (graded.out / "feedback" / WEIRD / "01-math-logit.html").read_text(encoding="utf-8")
    assert "student: =1+1 &lt;i&gt;odd é" in page and "<i>" not in page
    assert "not a valid notebook file" in (graded.out / "feedback" / ".dotty" / "01-math-logit.html").read_text()


def test_csv_cells_cannot_be_formulas_and_names_stay_readable(graded):
    raw = (graded.out / "grades.csv").read_text(encoding="utf-8")
    assert '"\'=1+1 <i>odd é","01-math-logit","4","4"' in raw.splitlines()
    for name in ("grades.csv", "problems.csv"):
        for row in read_rows(graded.out / name):
            for cell in row:
                assert not cell.startswith(csvsafe.FORMULA_START) or csvsafe.NUMBER.fullmatch(cell), (name, cell)


@pytest.mark.parametrize("cell, written", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"), ("\uff1d1+1", "'\uff1d1+1"), ("alice", "alice"), ("4", "4"), ("-1.5", "-1.5"), ("", ""),
    ("é =1", "é =1"),
])
def test_csv_neutralisation(cell, written):
    assert csvsafe.neutralise(cell) == written


def test_grading_with_named_exercises_gives_each_student_a_row_for_each(tmp_path):
    """--exercises: rows for every student and every named exercise even when nothing at all was handed in."""
    folder = tmp_path / "submissions"
    (folder / "emma").mkdir(parents=True)
    (folder / "tess").mkdir()
    (folder / "tess" / "answers.txt").write_text("42")
    result = run_grade(folder, tmp_path / "out", "--exercises", "01", "05-numerical-stability")
    assert result.returncode == 0, result.stderr[-3000:]
    assert read_rows(tmp_path / "out" / "grades.csv")[1:] == [
        ["emma", "01-math-logit", "0", "4"], ["emma", "05-numerical-stability", "0", "6"],
        ["tess", "01-math-logit", "0", "4"], ["tess", "05-numerical-stability", "0", "6"]]
    assert len(read_rows(tmp_path / "out" / "problems.csv")) == 5
    wrong = run_grade(folder, tmp_path / "out", "--exercises", "99")
    assert wrong.returncode == 2 and "'99' is not an exercise of this course" in wrong.stderr


def test_devices_and_pipes_are_never_opened_for_reading():
    """A character device would read forever and a FIFO would block: both are refused after one lstat."""
    for name in ("null", "zero"):
        with pytest.raises(submissions.Unreadable, match=f"^{name} is a device file, not a regular file"):
            submissions.read_notebook("/", ("dev", name))


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    os.mkfifo(tmp_path / "03-softmax.ipynb")
    outcome = []
    reader = threading.Thread(target=lambda: outcome.append(_try_read(tmp_path.parent, (tmp_path.name,
                                                                                       "03-softmax.ipynb"))))
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive() and outcome == ["03-softmax.ipynb is a named pipe (FIFO), not a regular file: "
                                                 "hand in the notebook itself"]


def _try_read(folder, parts):
    try:
        submissions.read_notebook(folder, parts)
    except submissions.Unreadable as err:
        return str(err)
    return "read"


def test_the_sanitizer_keeps_text_and_drops_everything_active():
    dirty = ('<p style="color:red" class="score" id="x" onclick="f()">hi<script>f()</script>'
             '<img src=x onerror=f()><img src="data:image/png;base64,AAAA"><a href="javascript:f()">j</a>'
             '<a href="https://example.org/">ok</a><a href="../alice/01-math-logit.html">r</a>'
             '<svg onload=f()></svg><iframe src=x></iframe><style>p{}</style><base href=x><meta http-equiv=refresh>')
    assert pages.clean_html(dirty) == (
        '<p>hi<img><img src="data:image/png;base64,AAAA"><a rel="noopener noreferrer">j</a>'
        '<a href="https://example.org/" rel="noopener noreferrer">ok</a><a rel="noopener noreferrer">r</a></p>')


def test_every_page_forbids_script_and_styles_but_its_own(graded):
    pages_written = sorted((graded.out / "feedback").rglob("*.html"))
    assert len(pages_written) == len(graded.grades)
    for path in pages_written:
        page = path.read_text(encoding="utf-8")
        policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)[1]
        assert "default-src &#x27;none&#x27;" in policy and "script-src &#x27;none&#x27;" in policy
        tags = re.findall(r"<[^>]*>", page)  # submitted text is escaped, so every real tag starts with "<"
        assert not [t for t in tags if re.match(r"<(script|iframe|object|embed|link|base|form|svg)\b", t, re.I)]
        assert not [t for t in tags if re.search(r"\s(on[a-z]+|style)\s*=", t, re.I)]
        assert page.count("<style>") == 1


# ---------------------------------------------------------------- in Chromium


class Recorder(http.server.SimpleHTTPRequestHandler):
    """Serves the feedback folder and notes every path asked for."""

    def log_message(self, format, *args):
        self.server.paths.append(self.path)


@pytest.fixture(scope="module")
def served(graded):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             partial(Recorder, directory=str(graded.out / "feedback")))
    server.paths = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def open_page(chromium, url):
    """Open a page, wait a moment for anything that might run late, and return it with what it did."""
    page = new_page(chromium, {"width": 1100, "height": 800})
    seen = SimpleNamespace(console=[], errors=[], requests=[])
    page.on("console", lambda message: seen.console.append(message.text))
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    page.on("request", lambda request: seen.requests.append(request.url))
    page.goto(url)
    page.wait_for_timeout(1000)
    return page, seen


def assert_inert_and_truthful(page, seen, url):
    assert seen.console == [] and seen.errors == []
    assert [r for r in seen.requests if "alice" in r or "127.0.0.1:9" in r] == [] and seen.requests[0] == url
    assert page.evaluate("window.pwned") is None and page.url == url
    assert page.inner_text("header.grader .score") == "Score: 2 / 4"
    for _ in range(2):  # at the top, and scrolled down to the hostile outputs
        box = page.locator("header.grader .score").bounding_box()
        on_top = page.evaluate("([x, y]) => document.elementFromPoint(x, y).closest('header.grader') !== null",
                               [box["x"] + 5, box["y"] + box["height"] / 2])
        assert on_top and box["y"] < 60
        page.locator("pre", has_text="Score: 4.0 / 4.0").first.scroll_into_view_if_needed()
    # Nothing from the submission carries a style, a class or a position of its own.
    styled = page.evaluate("""() => [...document.querySelectorAll('main.submission *')]
        .filter(e => !e.closest('div.verdict') && !['cell md', 'cell code', 'cell', 'source', 'out', 'out err',
                                                    'frame-label', 'hidden-output'].includes(e.className)
                     && (e.getAttribute('style') !== null || e.className !== ''
                         || getComputedStyle(e).position !== 'static'))
        .map(e => e.outerHTML.slice(0, 80))""")
    assert styled == []
    assert page.locator("header.grader").count() == 1 and page.locator(".score").count() == 1


def test_a_hostile_page_runs_nothing_from_a_file(chromium, graded):
    url = (graded.out / "feedback" / "mallet" / "01-math-logit.html").as_uri()
    page, seen = open_page(chromium, url)
    assert_inert_and_truthful(page, seen, url)
    page.locator("a", has_text="click me").click()
    page.wait_for_timeout(300)
    assert page.evaluate("window.pwned") is None
    page.close()


def test_a_hostile_page_runs_nothing_over_http_and_never_asks_for_a_classmates_page(chromium, graded, served):
    url = f"http://127.0.0.1:{served.server_address[1]}/mallet/01-math-logit.html"
    page, seen = open_page(chromium, url)
    assert_inert_and_truthful(page, seen, url)
    page.locator("a", has_text="click me").click()
    page.wait_for_timeout(300)
    assert page.evaluate("window.pwned") is None
    page.evaluate("window.scrollTo(0, 0)")
    (ROOT / "artifacts").mkdir(exist_ok=True)
    page.screenshot(path=str(ROOT / "artifacts" / "feedback-hostile-page.png"), full_page=False)
    page.close()
    assert [p for p in served.paths if "alice" in p] == []
    assert set(served.paths) <= {"/mallet/01-math-logit.html", "/favicon.ico"}
    mode = os.stat(graded.out / "feedback" / "alice" / "01-math-logit.html").st_mode
    assert stat.S_ISREG(mode)  # the classmate's page was there to be taken


def test_the_policy_alone_stops_script_and_foreign_style(chromium, tmp_path):
    """Defence in depth: markup that got past the sanitizer (put in by hand here) still neither runs nor restyles."""
    page_html = pages.inert_page("t", '<p class="mine">grader</p>', "p.mine { color: rgb(0, 0, 255); }", {"mine"})
    leaked = ('<script>window.pwned = 1</script><img src="x" onerror="window.pwned = 2">'
              '<style>p.mine { color: rgb(255, 0, 0) !important; }</style><p id="styled" style="color: red">x</p>')
    path = tmp_path / "leaky.html"
    path.write_text(page_html.replace("</body>", leaked + "</body>"), encoding="utf-8")
    page, seen = open_page(chromium, path.as_uri())
    assert page.evaluate("window.pwned") is None
    assert page.evaluate("getComputedStyle(document.querySelector('p.mine')).color") == "rgb(0, 0, 255)"
    assert page.evaluate("getComputedStyle(document.getElementById('styled')).color") == "rgb(0, 0, 0)"
    refused = [m.split(" violates the following Content Security Policy directive")[0] for m in seen.console]
    assert sorted(refused) == sorted(["Executing inline script", "Executing inline event handler",
                                      "Applying inline style", "Applying inline style",
                                      f"Loading the image '{(tmp_path / 'x').as_uri()}'"])
    page.close()
