"""`make book`: the course as a static website, built with Sphinx and myst-nb from the stored outputs.

Nothing is executed: every page shows what `make notebooks` stored. The notebooks are copied into a
source tree first (`_build/book-src/en/`) so that the site can differ from the repository where a reader
needs it to: speaker notes and hidden tests are left out, each page gets a "Run this lesson" box, and
each explorer's stored picture is followed by a note that its sliders are live in JupyterLab. Sphinx's
configuration is `book/conf.py`; MathJax comes from a PyPI package and is copied into the site, so the
site works without internet.

Both editions are published: the English one at the site's root, the Chinese one (the generated `zh-CN/`
notebooks, written by `make translate`) from `_build/book-src/zh-CN/` by a second Sphinx build with
`language = "zh_CN"` into the site's `zh-CN/` folder, so its interface is Sphinx's and the theme's Chinese and
its search index splits Chinese words (jieba, with the glossary's terms as its user dictionary). Every page's
language switch (`book/conf.py`) leads to the same page in the other edition. The book's own sentences are
messages of the `logitlab` gettext domain (`logitlab/i18n.py`).
"""

import re
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

from logitlab import i18n
from logitlab.authoring import course, translate
from logitlab.i18n import N_

BOOK_CONFIG = course.ROOT / "book"
SOURCE = course.ROOT / "_build" / "book-src"
SITE = course.ROOT / "_build" / "book"
HIDDEN_START, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
NOTES_TAG = "lecture-notes"
EXPLORER_CALL = "ll.widgets."

# Where each edition's sources and pages go: the English at the site's root, the Chinese in its zh-CN/ folder.
EDITIONS = {i18n.ENGLISH: "", i18n.CHINESE: i18n.EDITION_FOLDER}
SOURCE_FOLDERS = {i18n.ENGLISH: "en", i18n.CHINESE: i18n.EDITION_FOLDER}
COMMANDS = {i18n.ENGLISH: "make lab", i18n.CHINESE: "make lab LANG=zh-CN"}
READMES = {i18n.ENGLISH: "README.md", i18n.CHINESE: "README.zh-CN.md"}
# The jieba user dictionary of the Chinese search: the glossary's terms, so that 交叉熵 is one searchable word.
SEARCH_WORDS = "search-words.txt"
CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
CELL_LINK = re.compile(r"\(([^)\s#]+\.ipynb)#cell-id=[^)\s]*\)")

RUN_BOX = """:::{{admonition}} {title}
:class: tip
{why}

{where}
:::
"""
TITLES = {"lesson": N_("Run this lesson"), "exercise": N_("Run this exercise"), "solution": N_("Run this solution")}
WHY = {"lesson": N_("The sliders on this page are pictures. To move them, run the lesson in JupyterLab:"),
       "exercise": N_("To write your answers and have them checked at once, run the exercise in JupyterLab:"),
       "solution": N_("To run the worked solution and its checks, run the solution in JupyterLab:")}
WHERE = N_("""- **On your computer:** clone the course, then `{command}` (Python 3.10–3.13; the first run installs for
  a few minutes) and open `{path}`.
- **On Binder:** once the course has a public address, its README's Binder badge opens it in the browser
  with nothing to install.
- **On your university's JupyterHub:** ask your instructor; the README's JupyterHub section says how to
  set it up.""")
LIVE_NOTE = N_("*The picture above was stored when the lesson ran. In JupyterLab its sliders are live: "
               "`{command}`, open this lesson, run its cells and drag them.*")
GLOSSARY_TITLE = N_("Glossary · 术语表")
CAPTIONS = {"lessons": N_("Lessons"), "exercises": N_("Exercises"), "solutions": N_("Worked solutions"),
            "reference": N_("Reference")}
OTHER_EDITION = {i18n.ENGLISH: ('<a href="zh-CN/index.html" hreflang="zh-CN">', "this book in Chinese (中文版)"),
                 i18n.CHINESE: ('<a href="../index.html" hreflang="en">', "English edition")}


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


def book_links(text, glossary_cell=None):
    """Links that lead out of the site in a notebook lead to its pages instead.

    The Chinese edition links a heading by its cell (`00-start-here.ipynb#cell-id=279a3267`, see
    `translate.with_cell_links`): the glossary's cell (`glossary_cell`) becomes the glossary page, and any other
    such link leads to its page (the book's anchors are its headings' words, not cell ids)."""
    if glossary_cell:
        text = re.sub(rf"\((?:00-start-here\.ipynb)?#cell-id={re.escape(glossary_cell)}\)", "(../glossary.md)", text)
    text = CELL_LINK.sub(r"(\1)", text)
    return (text.replace("(../README.md)", "(../index.md)")
            .replace("(../../README.zh-CN.md)", "(../index.md)")
            .replace("(00-start-here.ipynb#Glossary)", "(../glossary.md)")
            .replace("(#Glossary)", "(../glossary.md)"))


def glossary_cell(english_zero):
    """The id of the cell that starts with `## Glossary` in the English lesson 00."""
    for cell in course.read_notebook(english_zero)["cells"]:
        if cell["cell_type"] == "markdown" and course.cell_source(cell).startswith("## Glossary"):
            return cell.get("id")
    raise ValueError(f"{english_zero} has no '## Glossary' cell: the book's glossary page is made from it")


def book_notebook(path, folder, language=i18n.ENGLISH, glossary=None):
    """The notebook at `path` as the book shows it (see the module docstring), its added text in `language`;
    `glossary` is the glossary's cell id (`glossary_cell`)."""
    tr = i18n.translation(language).gettext
    nb = course.read_notebook(path)
    what = {"notebooks": "lesson", "exercises": "exercise", "solutions": "solution"}[folder]
    shown_path = "/".join(filter(None, [EDITIONS[language], folder, path.name]))
    command = COMMANDS[language]
    cells = []
    for index, cell in enumerate(nb["cells"]):
        meta = cell.get("metadata", {})
        if NOTES_TAG in meta.get("tags", []) or meta.get("slideshow", {}).get("slide_type") == "notes":
            continue
        if cell["cell_type"] == "markdown":
            cell["source"] = book_links(course.cell_source(cell), glossary)
        elif cell["cell_type"] == "code" and HIDDEN_START in course.cell_source(cell):
            cell["source"] = without_hidden_tests(course.cell_source(cell))
            if not cell["source"].strip():
                continue
        cells.append(cell)
        if index == 0:
            box = RUN_BOX.format(title=tr(TITLES[what]), why=tr(WHY[what]),
                                 where=tr(WHERE).format(command=command, path=shown_path))
            cells.append(markdown_cell(f"run-{index}", box))
        if cell["cell_type"] == "code" and course.cell_source(cell).lstrip().startswith(EXPLORER_CALL):
            cells.append(markdown_cell(f"live-{index}", tr(LIVE_NOTE).format(command=command)))
    nb["cells"] = cells
    return nb


def markdown_cell(cell_id, text):
    """A markdown cell the book adds to a notebook page."""
    return {"cell_type": "markdown", "id": f"book-{cell_id}", "metadata": {}, "source": text}


def glossary_page(lesson_zero, language=i18n.ENGLISH, english_zero=None):
    """The glossary page: lesson 00's Glossary section, the course's one list of terms.

    The section is the cell that starts with `## Glossary` in the English lesson 00 (`english_zero`, when
    `lesson_zero` is another edition's), found in `lesson_zero` by its cell id."""
    wanted = glossary_cell(english_zero or lesson_zero)
    for cell in course.read_notebook(lesson_zero)["cells"]:
        if cell.get("id") == wanted:
            body = book_links(course.cell_source(cell), wanted).split("\n", 1)[1]
            return f"# {i18n.translation(language).gettext(GLOSSARY_TITLE)}\n{body}"
    raise ValueError(f"{lesson_zero} has no cell {wanted} (the glossary): run `make translate`")


def search_words(glossary):
    """The jieba user dictionary of the Chinese search: every run of two or more Chinese characters in the first
    column of the glossary's table (its terms and their other names), one a line."""
    words = []
    for line in glossary.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            words += [word for word in CJK_RUN.findall(line.split("|")[1]) if word not in words]
    return "".join(f"{word}\n" for word in words)


def readme_intro(language):
    """The title and opening paragraphs of the edition's README (up to its first `##` section)."""
    readme = (course.ROOT / READMES[language]).read_text(encoding="utf-8")
    first, rest = readme.split("\n## ", 1)[0].split("\n", 1)
    # A link to the other edition's README leads to the other edition's book.
    start, words = OTHER_EDITION[language]
    rest = re.sub(r"\[[^\]]*\]\((README(\.zh-CN)?\.md)\)", f"{start}{words}</a>", rest)
    return first.removeprefix("# ").strip(), rest.strip()


def index_page(all_lessons, language=i18n.ENGLISH):
    """The landing page: what the course is, its contents, and how to run it."""
    tr = i18n.translation(language).gettext
    rows = course.lesson_table(all_lessons, base=all_lessons[0].root, language=language)
    title, intro = readme_intro(language)
    toctree = "\n".join(f"notebooks/{lesson.stem}" for lesson in all_lessons)
    exercises = "\n".join(f"exercises/{lesson.stem}" for lesson in all_lessons if lesson.graded)
    solutions = "\n".join(f"solutions/{lesson.stem}" for lesson in all_lessons if lesson.graded)
    return f"""# {title}

{intro}

{rows}

:::{{toctree}}
:caption: {tr(CAPTIONS["lessons"])}
:maxdepth: 1

{toctree}
:::

:::{{toctree}}
:caption: {tr(CAPTIONS["exercises"])}
:maxdepth: 1

{exercises}
:::

:::{{toctree}}
:caption: {tr(CAPTIONS["solutions"])}
:maxdepth: 1

{solutions}
:::

:::{{toctree}}
:caption: {tr(CAPTIONS["reference"])}
:maxdepth: 1

glossary
:::
"""


def edition_lessons(language):
    """The lessons of an edition: the English ones, or the Chinese edition's in `zh-CN/` (titles in Chinese)."""
    return course.lessons() if language == i18n.ENGLISH else translate.chinese_lessons()


def write_sources(source=SOURCE, language=i18n.ENGLISH):
    """Write the book's source tree of one edition from the course's notebooks; returns it."""
    shutil.rmtree(source, ignore_errors=True)
    all_lessons = edition_lessons(language)
    glossary_id = glossary_cell(course.lessons()[0].notebook)
    for folder in ("notebooks", "exercises", "solutions"):
        (source / folder).mkdir(parents=True)
    for lesson in all_lessons:
        for folder, path in (("notebooks", lesson.notebook), ("exercises", lesson.exercise),
                             ("solutions", lesson.solution)):
            if path.exists():
                nb = book_notebook(path, folder, language, glossary_id)
                (source / folder / path.name).write_text(course.dumps(nb), encoding="utf-8")
    (source / "index.md").write_text(index_page(all_lessons, language), encoding="utf-8")
    glossary = glossary_page(all_lessons[0].notebook, language, course.lessons()[0].notebook)
    (source / "glossary.md").write_text(glossary, encoding="utf-8")
    if language != i18n.ENGLISH:
        (source / SEARCH_WORDS).write_text(search_words(glossary), encoding="utf-8")
    copy_mathjax(source / "_static")
    return source


def build(site=SITE, source=SOURCE):
    """Build both editions into `site` (Chinese in its zh-CN/ folder), from source trees under `source`.

    The two Sphinx builds run at once (one core each). Sphinx warnings are errors, so a broken link fails the
    build; each build's doctrees stay in its source tree, out of the published site."""
    shutil.rmtree(site, ignore_errors=True)
    runs = []
    for language, folder in EDITIONS.items():
        tree = write_sources(Path(source) / SOURCE_FOLDERS[language], language)
        cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going", "-c", str(BOOK_CONFIG),
               "-d", str(tree / ".doctrees"), "-D", f"language={language}", str(tree), str(Path(site) / folder)]
        runs.append((language, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    failed = []
    for language, run in runs:
        _, stderr = run.communicate()
        if run.returncode != 0:
            failed.append(f"the {language} book did not build:\n{stderr[-4000:]}")
    if failed:
        raise SystemExit("\n".join(failed))
    return site
