"""The class report: OUT/report.html and the CSV files behind it (OUT/report/), from OUT/results.json.

Every grading run writes OUT/results.json: one row per student and exercise (the row of grades.csv, its
reason, and each check's verdict from `verdicts.record` with its points). The report is built from that file
alone, so `python -m logitlab report OUT` rebuilds it without grading again. It answers, in this order:
which named mistakes most students made (and who), which hidden cases failed most, what went wrong while
grading (problems.csv by kind), then per exercise the score distribution and each task's all/some/none.

The page is built like the feedback pages (`pages.inert_page`: sanitized, a policy without script); every
student name is escaped, and verdicts hold only course-written text (`verdicts.py`).
"""

import base64
import json
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path

from logitlab.grading import charts, csvsafe
from logitlab.grading.pages import data_image, inert_page, text

RESULTS = "results.json"
FORMAT = "logitlab grading run"
NAMES_SHOWN = 12  # students named per line on the page; the CSV files name them all
# The kinds of problems.csv rows, by the grader's own sentences (first match wins; a reason may hold several).
PROBLEM_KINDS = [
    ("nothing handed in: the folder is empty", "nothing handed in (empty folder)"),
    ("a notebook must keep its exercise's name", "notebook saved under another name"),
    ("no notebook named after an exercise", "no notebook of this course's exercises"),
    ("handed in", "exercise not handed in"),
    ("not a student's folder (made by", "skipped: not a student's folder"),
    ("not a student's folder", "not a student's folder (a file or a link)"),
    ("not a valid notebook", "not a valid notebook file"),
    ("not a regular file", "file refused (a link, pipe, device or folder)"),
    ("a notebook may be", "file refused (too large)"),
    ("hard link", "file refused (a link, pipe, device or folder)"),
    ("ran longer than", "a cell stopped at the time limit"),
    ("ignored the interrupt", "a cell ignored the interrupt and was killed"),
    ("timed out", "a task's check timed out"),
    ("kernel died", "the kernel died"),
    ("memory", "too much memory"),
    ("processes or threads", "too many processes or threads"),
    ("time budget", "the notebook ran out of time"),
    ("took longer than", "the notebook ran out of time"),
    ("were cut", "long output cut (not fatal)"),
    ("WITHOUT a sandbox", "graded without a sandbox"),
    ("Dask", "grading on the cluster failed"),
    ("nbgrader could not grade it", "nbgrader could not grade it"),
    ("the grading child", "the grading child failed"),
]
CLASSES = {"summary", "lead", "exercise", "num", "who", "none", "picture", "teach"}
CSS = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 0 18px 40px;
  color: #1d1d1f; background: #fff; }
h1 { font-size: 24px; margin: 18px 0 4px; }
h2 { font-size: 19px; margin: 26px 0 6px; border-bottom: 2px solid #0b3d91; }
h3 { font-size: 16px; margin: 18px 0 4px; }
p.lead { color: #444; margin: 0 0 8px; }
table { border-collapse: collapse; margin: 6px 0 10px; }
th:first-child, td:first-child { white-space: nowrap; }
th, td { border: 1px solid #ccd; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #eef1f8; }
td.num, th.num { text-align: right; white-space: nowrap; width: 5em; }
td.who { font-size: 13px; color: #333; }
p.none { color: #555; font-style: italic; }
section.teach { background: #fff8e1; border: 1px solid #f0d48a; border-radius: 6px; padding: 2px 14px 8px; }
section.exercise { margin-top: 20px; }
img { max-width: 100%; height: auto; }
"""


class NotAGradingRun(ValueError):
    """The folder holds no grading run's results.json (or a damaged one)."""


def write_results(out, grades, skipped=()):
    """OUT/results.json: every row of grades.csv with its reason and check verdicts, and the skipped names."""
    rows = [{"student": g.student, "exercise": g.exercise, "score": g.score, "max_score": g.max_score,
             "reason": g.reason, "checks": g.checks} for g in grades]
    data = {"format": FORMAT, "version": 1, "written": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "rows": rows,
            "skipped": list(skipped)}
    (Path(out) / RESULTS).write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def read_results(out):
    """The results of the grading run in OUT, checked; raises NotAGradingRun with what was expected."""
    path = Path(out) / RESULTS
    expected = f"expected the --out folder of `python -m logitlab grade`, which holds {RESULTS}"
    if not Path(out).is_dir():
        raise NotAGradingRun(f"{out} is not a folder: {expected}")
    if not path.is_file():
        raise NotAGradingRun(f"{out} is not a grading run (no {RESULTS}): {expected}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise NotAGradingRun(f"{path} cannot be read as JSON ({err}): {expected}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("rows"), list):
        raise NotAGradingRun(f"{path} is not the results file of a grading run: {expected}")
    for row in data["rows"]:
        if not (isinstance(row, dict) and isinstance(row.get("student"), str) and isinstance(row.get("exercise"), str)
                and all(isinstance(row.get(k), (int, float)) for k in ("score", "max_score"))
                and isinstance(row.get("checks", []), list)):
            raise NotAGradingRun(f"{path} has a malformed row ({str(row)[:120]}): {expected}")
    return data


# ---------------------------------------------------------------- the numbers


def _tasks_of(row):
    """{task: [points, max points, function]} of one graded row (visible and hidden checks added up)."""
    tasks = {}
    for check in row.get("checks", []):
        entry = tasks.setdefault(check["task"], [0.0, 0.0, check.get("function", check["task"])])
        entry[0] += float(check.get("points", 0))
        entry[1] += float(check.get("max_points", 0))
    return tasks


def summarize(data):
    """Every table of the report, as lists of rows (the CSV files and the page both come from these)."""
    rows = data["rows"]
    exercises = sorted({r["exercise"] for r in rows if r["exercise"]})
    summary = {"exercises": [], "distribution": [], "tasks": [], "mistakes": [], "cases": [], "problems": []}
    mistakes, cases = defaultdict(list), defaultdict(list)
    for exercise in exercises:
        mine = [r for r in rows if r["exercise"] == exercise]
        top = max(r["max_score"] for r in mine)
        graded = [r for r in mine if r.get("checks")]
        scores = [r["score"] for r in mine]
        summary["exercises"].append([exercise, len(mine), len(graded), round(statistics.mean(scores), 2),
                                     statistics.median(scores), top, sum(1 for s in scores if s >= top)])
        counts = Counter(scores)
        for score in sorted(set(range(int(top) + 1)) | set(counts)):
            summary["distribution"].append([exercise, score, counts.get(score, 0)])
        per_task = defaultdict(list)
        for r in graded:
            for task, (points, most, function) in _tasks_of(r).items():
                per_task[task, function, most].append(points)
        for (task, function, most), points in per_task.items():
            full = sum(1 for p in points if p >= most)
            none = sum(1 for p in points if p <= 0)
            summary["tasks"].append([exercise, task, function, most, len(points), full, len(points) - full - none,
                                     none, round(statistics.mean(points), 2)])
        for r in graded:
            for check in r["checks"]:
                if check.get("mistake"):
                    mistakes[exercise, check["task"], check["mistake"]].append(r["student"])
                for case in check.get("failed_cases", []):
                    cases[exercise, check["task"], bool(check.get("hidden")), case].append(r["student"])
    for (exercise, task, mistake), who in mistakes.items():
        who = sorted(set(who))
        summary["mistakes"].append([exercise, task, mistake, len(who), who])
    summary["mistakes"].sort(key=lambda m: (-m[3], m[0], m[1], m[2]))
    graded_count = {e[0]: e[2] for e in summary["exercises"]}
    for (exercise, task, hidden, case), who in cases.items():
        who = sorted(set(who))
        summary["cases"].append([exercise, task, "hidden" if hidden else "visible", case, len(who),
                                 graded_count[exercise], who])
    summary["cases"].sort(key=lambda c: (c[2] != "hidden", -c[4], c[0], c[1], c[3]))
    summary["problems"] = problem_kinds(rows, data.get("skipped", []))
    return summary


def problem_kinds(rows, skipped=()):
    """problems.csv by kind: [kind, rows, students] (a reason that names several problems counts for each)."""
    kinds = defaultdict(list)
    for r in rows:
        for note in filter(None, (r.get("reason") or "").split("; ")):
            kind = next((k for needle, k in PROBLEM_KINDS if needle in note), "other")
            if r["student"] not in kinds[kind] or kind == "exercise not handed in":
                kinds[kind].append(r["student"])
    if skipped:
        kinds["skipped: not a student's folder"] += list(skipped)
    table = [[kind, len(who), sorted(set(who))] for kind, who in kinds.items()]
    return sorted(table, key=lambda k: (-k[1], k[0]))


# ---------------------------------------------------------------- the files


def _who(names):
    return ", ".join(names)


def write_csvs(folder, summary):
    """The numbers behind the page, one CSV file per table (cells neutralised like grades.csv)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    csvsafe.write_csv(folder / "exercises.csv", ["exercise", "rows", "graded", "mean", "median", "max_score",
                                                 "full_marks"], summary["exercises"])
    csvsafe.write_csv(folder / "scores.csv", ["exercise", "score", "students"], summary["distribution"])
    csvsafe.write_csv(folder / "tasks.csv", ["exercise", "task", "function", "max_points", "graded", "all_points",
                                             "some_points", "no_points", "mean_points"], summary["tasks"])
    csvsafe.write_csv(folder / "mistakes.csv", ["exercise", "task", "mistake", "students", "who"],
                      [[*m[:4], _who(m[4])] for m in summary["mistakes"]])
    csvsafe.write_csv(folder / "failed-cases.csv", ["exercise", "task", "check", "case", "students", "graded", "who"],
                      [[*c[:6], _who(c[6])] for c in summary["cases"]])
    csvsafe.write_csv(folder / "problems.csv", ["kind", "rows", "who"],
                      [[k[0], k[1], _who(k[2])] for k in summary["problems"]])


def _names(names):
    shown = ", ".join(text(n) for n in names[:NAMES_SHOWN])
    more = len(names) - NAMES_SHOWN
    return shown + (f" and {more} more (report/ CSV files)" if more > 0 else "")


def _table(header, rows, numeric=()):
    head = "".join(f'<th class="num">{text(h)}</th>' if i in numeric else f"<th>{text(h)}</th>"
                   for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell if isinstance(cell, Markup) else
                                    f'<td class="num">{text(_num(cell))}</td>' if i in numeric else
                                    f"<td>{text(cell)}</td>" for i, cell in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class Markup(str):
    """A table cell the report has already escaped."""


def _num(value):
    return f"{value:g}" if isinstance(value, float) else str(value)


def _who_cell(names):
    return Markup(f'<td class="who">{_names(names)}</td>')


def page(data, summary):
    """The report's HTML page (inert: `pages.inert_page`)."""
    rows = data["rows"]
    students = len({r["student"] for r in rows})
    top = summary["mistakes"][:10]
    hidden = [c for c in summary["cases"] if c[2] == "hidden"][:10]
    parts = [f"<h1>Class report</h1><p class=\"lead\">{students} students, {len(summary['exercises'])} "
             f"exercise(s), {len(rows)} rows in grades.csv; graded {text(data.get('written', ''))}. "
             "The numbers are in report/*.csv beside this page.</p>",
             '<section class="teach" id="reteach"><h2>What to re-teach: the named mistakes</h2>']
    if top:
        parts.append(_table(["exercise", "task", "mistake", "students", "who"],
                            [[m[0], m[1], m[2], m[3], _who_cell(m[4])] for m in top], numeric={3}))
    else:
        parts.append('<p class="none">No named mistake was made.</p>')
    parts.append('<h3 id="hidden-cases">The hidden cases failed most</h3>')
    if hidden:
        parts.append(_table(["exercise", "task", "case", "failed", "of graded", "who"],
                            [[c[0], c[1], c[3], c[4], c[5], _who_cell(c[6])] for c in hidden], numeric={3, 4}))
    else:
        parts.append('<p class="none">Every hidden case passed.</p>')
    parts.append("</section>")
    parts.append('<h2 id="problems">What went wrong while grading (problems.csv by kind)</h2>')
    if summary["problems"]:
        parts.append(_table(["kind", "rows", "who"], [[k[0], k[1], _who_cell(k[2])] for k in summary["problems"]],
                            numeric={1}))
    else:
        parts.append('<p class="none">problems.csv is empty.</p>')
    parts.append('<h2 id="exercises">Exercises</h2>')
    parts.append(_table(["exercise", "rows", "graded", "mean", "median", "out of", "full marks"],
                        summary["exercises"], numeric={1, 2, 3, 4, 5, 6}))
    for exercise, count, graded, mean, _, most, _ in summary["exercises"]:
        distribution = [(s, n) for e, s, n in summary["distribution"] if e == exercise]
        tasks = [t for t in summary["tasks"] if t[0] == exercise]
        picture = charts.exercise_png(exercise, distribution, [(t[2], t[5], t[6], t[7]) for t in tasks], most)
        alt = f"{exercise}: scores of {count} students, and per task how many earned all, some or no points"
        image = data_image("image/png", base64.b64encode(picture).decode("ascii"), alt)
        parts.append(f'<section class="exercise" id="exercise-{text(exercise)}"><h3>{text(exercise)}: mean '
                     f"{mean:g} of {most:g} ({graded} of {count} notebooks graded)</h3>"
                     f'<div class="picture">{image}</div>')
        parts.append(_table(["score", "students"], [[s, n] for s, n in distribution], numeric={0, 1}))
        parts.append(_table(["task", "function", "points", "graded", "all", "some", "none", "mean"],
                            [t[1:] for t in tasks], numeric={2, 3, 4, 5, 6, 7}))
        parts.append("</section>")
    return inert_page("Class report", "".join(parts), CSS, CLASSES)


def write_report(out, data=None):
    """Write OUT/report.html and OUT/report/*.csv from `data` (default: OUT/results.json); return the page's path."""
    data = data if data is not None else read_results(out)
    summary = summarize(data)
    write_csvs(Path(out) / "report", summary)
    path = Path(out) / "report.html"
    path.write_text(page(data, summary), encoding="utf-8")
    return path
