"""Feedback pages: the grader's score and verdicts, then the student's notebook, as one inert HTML page.

A page is built here from the autograded notebook and the gradebook's scores (not by nbgrader's
feedback template, which copies a submission's HTML and script into the page). The grader's part (a
bar kept at the top of the window with the score, the list of checks with their points, and a box
headed "Grade cell" with the verdict under every check) uses the page's own classes. Everything from
the submission (markdown, code, outputs) is escaped as text or passed through `pages.clean_html`: no
script, no style, no class, no link to another page, so it can neither run, nor restyle, cover or
imitate the grader's part. `pages.inert_page` then sanitizes the whole page again and sets a
Content-Security-Policy that forbids script and requests.
"""

import re

from nbconvert.filters import strip_ansi
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from logitlab import i18n
from logitlab.grading.pages import clean_html, data_image, inert_page, text
from logitlab.i18n import N_, _

ADVICE = N_("Open it in JupyterLab, run every cell from the top, save, and hand it in again.")
IMAGES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")
CLASSES = {"grader", "title", "score", "note", "checks", "pass", "fail", "submission", "frame-label", "cell", "md",
           "code", "source", "out", "err", "verdict", "verdict-head", "verdict-text", "points", "hidden-output"}
CSS = r"""
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d1d1f; background: #fff; }
header.grader { position: sticky; top: 0; z-index: 10; background: #0b3d91; color: #fff; padding: 10px 18px;
  box-shadow: 0 2px 6px rgba(0, 0, 0, .3); }
header.grader .title { font-size: 14px; opacity: .9; }
header.grader .score { font-size: 24px; font-weight: 700; }
header.grader .note { background: #fff3cd; color: #5c4400; padding: 6px 10px; margin-top: 6px; border-radius: 4px; }
section.checks { padding: 8px 18px; border-bottom: 1px solid #ccd; }
section.checks li.pass::marker { content: "\2713  "; color: #176a2b; }
section.checks li.fail::marker { content: "\2717  "; color: #a10000; }
main.submission { margin: 14px 18px 40px; border: 3px dashed #8a8a8a; padding: 10px 14px; }
main.submission p.frame-label { margin: 0 0 10px; color: #555; font-size: 13px; }
main.submission h1, main.submission h2, main.submission h3,
main.submission h4, main.submission h5, main.submission h6 { font-size: 1.05em; margin: .6em 0 .3em; }
main.submission img { max-width: 100%; height: auto; outline: 1px dashed #8a8a8a; }
main.submission table { border-collapse: collapse; }
main.submission td, main.submission th { border: 1px solid #ccc; padding: 2px 6px; }
div.cell { margin: 10px 0; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 4px 0; }
pre.source { background: #f4f4f6; padding: 6px 8px; border-left: 3px solid #b0b0c0; }
pre.out { padding: 2px 8px; }
pre.err { background: #fff0f0; }
p.hidden-output { color: #666; font-style: italic; }
div.verdict { border: 2px solid #0b3d91; border-radius: 4px; margin: 12px 0; }
div.verdict .verdict-head { background: #0b3d91; color: #fff; padding: 4px 8px; font-weight: 600; }
div.verdict.fail .verdict-head { background: #a10000; }
div.verdict.fail { border-color: #a10000; }
div.verdict pre { padding: 4px 8px; }
"""


def _markdown(source):
    """Markdown rendered as nbconvert does, without the ¶ anchors it adds to headings (their links are dropped)."""
    return re.sub(r"<a class=\"anchor-link\" href=\"[^\"]*\">(¶|&#182;)</a>", "", markdown2html_mistune(source))


def _joined(value):
    return "".join(value) if isinstance(value, list) else str(value)


def _score(value):
    return f"{float(value):g}"


def _header(student, exercise, score, max_score, reason):
    note = f'<div class="note"><b>{text(_("Note:"))}</b> {text(reason)}</div>' if reason else ""
    title = _("Logits Lab feedback · {exercise} · student: {student}").format(exercise=exercise, student=student)
    return (f'<header class="grader"><div class="title">{text(title)}</div><div class="score">'
            f'{text(_("Score: {score} / {max_score}").format(score=_score(score), max_score=_score(max_score)))}</div>'
            f"{note}</header>")


def _output(out):
    """One output of a submission's cell: text escaped, HTML sanitized, images as data: images."""
    kind = out.get("output_type")
    if kind == "stream":
        err = " err" if out.get("name") == "stderr" else ""
        return f'<pre class="out{err}">{text(strip_ansi(_joined(out.get("text", ""))))}</pre>'
    if kind == "error":
        lines = out.get("traceback") or [f"{out.get('ename', '')}: {out.get('evalue', '')}"]
        return f'<pre class="out err">{text(strip_ansi(chr(10).join(map(str, lines))))}</pre>'
    data = out.get("data", {})
    for mime in IMAGES:
        if mime in data:
            return data_image(mime, _joined(data[mime]))
    if "text/html" in data:
        return f"<div>{clean_html(_joined(data['text/html']))}</div>"
    if "text/markdown" in data:
        return f"<div>{clean_html(_markdown(_joined(data['text/markdown'])))}</div>"
    for mime in ("text/latex", "text/plain"):
        if mime in data:
            return f'<pre class="out">{text(_joined(data[mime]))}</pre>'
    kinds = ", ".join(sorted(data)) or "empty"
    said = _("(an output of type {kinds}: not shown, feedback pages run no script)").format(kinds=kinds)
    return f'<p class="hidden-output">{text(said)}</p>'


def _verdict(cell, grade_id, points):
    """A check cell: its (restored) code and the grader's verdict, in the grader's own box."""
    score, max_score = points
    state = "pass" if score >= max_score else "fail"
    verdict = "".join(_output(out) for out in cell.get("outputs", []))
    return (f'<div class="verdict {state}" id="check-{text(grade_id)}"><div class="verdict-head">'
            f'{text(_("Grade cell:"))} <code>{text(grade_id)}</code> <span class="points">'
            f'{text(_("Score: {score} / {max_score}").format(score=_score(score), max_score=_score(max_score)))}'
            "</span></div>"
            f'<pre class="source">{text(_joined(cell.get("source", "")))}</pre>{verdict}</div>')


def _cell(cell, cell_scores):
    source = _joined(cell.get("source", ""))
    kind = cell.get("cell_type")
    if kind == "markdown":
        return f'<div class="cell md">{clean_html(_markdown(source))}</div>'
    if kind != "code":
        return f'<div class="cell"><pre class="source">{text(source)}</pre></div>'
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    if cell.get("metadata", {}).get("nbgrader", {}).get("grade") and grade_id in cell_scores:
        return _verdict(cell, grade_id, cell_scores[grade_id])
    outputs = "".join(_output(out) for out in cell.get("outputs", []))
    return f'<div class="cell code"><pre class="source">{text(source)}</pre>{outputs}</div>'


def _checks(cell_scores):
    items = "".join(
        f'<li class="{"pass" if score >= top else "fail"}"><a href="#check-{text(grade_id)}">{text(grade_id)}</a>: '
        f"{_score(score)} / {_score(top)}</li>" for grade_id, (score, top) in cell_scores.items())
    return f'<section class="checks"><b>{text(_("Checks"))}</b><ul>{items}</ul></section>' if items else ""


def notebook_page(student, exercise, score, max_score, reason, nb, cell_scores):
    """The feedback page of a graded notebook.

    `nb` is the autograded notebook (a dict: check cells restored, outputs from the sandbox, verdicts
    in the check cells); `cell_scores` maps each grade cell's id to (points earned, points possible),
    from the gradebook. Only those cells get the grader's verdict box.
    """
    with i18n.language(i18n.notebook_language(nb)):  # the Chinese edition's notebooks say "zh-CN"
        cells = "".join(_cell(cell, cell_scores) for cell in nb.get("cells", []))
        label = _("The notebook as it was handed in and run by the grader. Everything inside this dashed frame "
                  "comes from the submission, shown without its styles, scripts or links; the score is the "
                  "grader's, in the bar at the top, and so are the boxes headed “Grade cell”.")
        body = (_header(student, exercise, score, max_score, reason) + _checks(cell_scores)
                + f'<main class="submission"><p class="frame-label">{label}</p>{cells}</main>')  # our own words
    return inert_page(f"{exercise}: {_score(score)} / {_score(max_score)}", body, CSS, CLASSES)


def plain_page(student, exercise, score, max_score, reason, advice=ADVICE):
    """The feedback page of an exercise that could not be graded: the score and why."""
    advice = f"<p>{text(_(advice))}</p>" if advice else ""
    said = _("This exercise could not be graded: {reason}.").format(reason=reason)
    body = (_header(student, exercise, score, max_score, "")
            + f'<section class="checks"><p>{text(said)}</p>{advice}</section>')
    return inert_page(f"{exercise}: {_score(score)} / {_score(max_score)}", body, CSS, CLASSES)
