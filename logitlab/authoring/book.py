"""`make book`: the course as a static website, built with Sphinx and myst-nb from the stored outputs.

Nothing is executed: every page shows what `make notebooks` stored. The notebooks are copied into a
source tree first (`_build/book-src/`) so that the site can differ from the repository where a reader
needs it to: speaker notes and hidden tests are left out, each page gets a "Run this lesson" box, and
each explorer's stored picture is followed by a note that its sliders are live in JupyterLab. Sphinx's
configuration is `book/conf.py`; MathJax comes from a PyPI package and is copied into the site, so the
site works without internet.
"""

import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

from logitlab.authoring import course

BOOK_CONFIG = course.ROOT / "book"
SOURCE = course.ROOT / "_build" / "book-src"
SITE = course.ROOT / "_build" / "book"
HIDDEN_START, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
NOTES_TAG = "lecture-notes"
EXPLORER_CALL = "ll.widgets."

RUN_BOX = """:::{{admonition}} Run this {what}
:class: tip
{why}, run the {what} in JupyterLab:

- **On your computer:** clone the course, then `make lab` (Python 3.10–3.13; the first run installs for
  a few minutes) and open `{path}`.
- **On Binder:** once the course has a public address, its README's Binder badge opens it in the browser
  with nothing to install.
- **On your university's JupyterHub:** ask your instructor; the README's JupyterHub section says how to
  set it up.
:::
"""
WHY = {"lesson": "The sliders on this page are pictures. To move them",
       "exercise": "To write your answers and have them checked at once",
       "solution": "To run the worked solution and its checks"}
LIVE_NOTE = ("*The picture above was stored when the lesson ran. In JupyterLab its sliders are live: "
             "`make lab`, open this lesson, run its cells and drag them.*")


MATHJAX_PARTS = ["tex-chtml.js", "output/chtml/fonts/woff-v2", "input/tex/extensions", "ui", "a11y"]


def copy_mathjax(static):
    """MathJax 3's browser build (from the PyPI package `django-static-mathjax`; no Django is used) into
    `static/mathjax`: the TeX-to-HTML bundle, its fonts, and the parts it loads on demand."""
    es5 = Path(str(resources.files("mathjax"))) / "static" / "mathjax" / "es5"
    for part in MATHJAX_PARTS:
        src, dest = es5 / part, static / "mathjax" / part
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dest)
        else:
            shutil.copy2(src, dest)


def without_hidden_tests(source):
    """A check cell's source with the grader's hidden-test block removed."""
    lines, kept, hidden = source.splitlines(), [], False
    for line in lines:
        if line.strip() == HIDDEN_START:
            hidden = True
        elif line.strip() == HIDDEN_END:
            hidden = False
        elif not hidden:
            kept.append(line)
    return "\n".join(kept).strip("\n")


def book_links(text):
    """Links that lead out of the site in a notebook lead to its pages instead."""
    return (text.replace("(../README.md)", "(../index.md)")
            .replace("(00-start-here.ipynb#Glossary)", "(../glossary.md)")
            .replace("(#Glossary)", "(../glossary.md)"))


def book_notebook(path, folder):
    """The notebook at `path` as the book shows it (see the module docstring)."""
    nb = course.read_notebook(path)
    what = {"notebooks": "lesson", "exercises": "exercise", "solutions": "solution"}[folder]
    cells = []
    for index, cell in enumerate(nb["cells"]):
        meta = cell.get("metadata", {})
        if NOTES_TAG in meta.get("tags", []) or meta.get("slideshow", {}).get("slide_type") == "notes":
            continue
        if cell["cell_type"] == "markdown":
            cell["source"] = book_links(course.cell_source(cell))
        elif cell["cell_type"] == "code" and HIDDEN_START in course.cell_source(cell):
            cell["source"] = without_hidden_tests(course.cell_source(cell))
            if not cell["source"].strip():
                continue
        cells.append(cell)
        if index == 0:
            box = RUN_BOX.format(what=what, why=WHY[what], path=f"{folder}/{path.name}")
            cells.append(markdown_cell(f"run-{index}", box))
        if cell["cell_type"] == "code" and course.cell_source(cell).lstrip().startswith(EXPLORER_CALL):
            cells.append(markdown_cell(f"live-{index}", LIVE_NOTE))
    nb["cells"] = cells
    return nb


def markdown_cell(cell_id, text):
    """A markdown cell the book adds to a notebook page."""
    return {"cell_type": "markdown", "id": f"book-{cell_id}", "metadata": {}, "source": text}


def glossary_page(lesson_zero):
    """The glossary page: lesson 00's Glossary section, the course's one list of terms."""
    nb = course.read_notebook(lesson_zero)
    for cell in nb["cells"]:
        text = course.cell_source(cell)
        if cell["cell_type"] == "markdown" and text.startswith("## Glossary"):
            return "# Glossary · 术语表\n" + text.removeprefix("## Glossary")
    raise ValueError(f"{lesson_zero} has no '## Glossary' cell: the book's glossary page is made from it")


def index_page(all_lessons):
    """The landing page: what the course is, its contents, and how to run it."""
    rows = course.lesson_table(all_lessons, base=course.ROOT)
    readme = (course.ROOT / "README.md").read_text(encoding="utf-8")
    intro = readme.split("\n## ", 1)[0].split("\n", 1)[1].strip()
    toctree = "\n".join(f"notebooks/{lesson.stem}" for lesson in all_lessons)
    exercises = "\n".join(f"exercises/{lesson.stem}" for lesson in all_lessons if lesson.graded)
    solutions = "\n".join(f"solutions/{lesson.stem}" for lesson in all_lessons if lesson.graded)
    return f"""# Logits Lab

{intro}

{rows}

:::{{toctree}}
:caption: Lessons
:maxdepth: 1

{toctree}
:::

:::{{toctree}}
:caption: Exercises
:maxdepth: 1

{exercises}
:::

:::{{toctree}}
:caption: Worked solutions
:maxdepth: 1

{solutions}
:::

:::{{toctree}}
:caption: Reference
:maxdepth: 1

glossary
:::
"""


def write_sources(source=SOURCE):
    """Write the book's source tree from the course's notebooks; returns it."""
    shutil.rmtree(source, ignore_errors=True)
    all_lessons = course.lessons()
    for folder in ("notebooks", "exercises", "solutions"):
        (source / folder).mkdir(parents=True)
    for lesson in all_lessons:
        for folder, path in (("notebooks", lesson.notebook), ("exercises", lesson.exercise),
                             ("solutions", lesson.solution)):
            if path.exists():
                (source / folder / path.name).write_text(course.dumps(book_notebook(path, folder)), encoding="utf-8")
    (source / "index.md").write_text(index_page(all_lessons), encoding="utf-8")
    (source / "glossary.md").write_text(glossary_page(all_lessons[0].notebook), encoding="utf-8")
    copy_mathjax(source / "_static")
    return source


def build(site=SITE, source=SOURCE):
    """Build the site into `site` (Sphinx warnings are errors, so a broken link fails the build)."""
    write_sources(source)
    shutil.rmtree(site, ignore_errors=True)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going", "-c", str(BOOK_CONFIG),
           str(source), str(site)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"the book did not build:\n{result.stderr[-4000:]}")
    return site
