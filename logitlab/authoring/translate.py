"""`python -m logitlab translate` (`make translate`): the Chinese edition, generated from the English sources.

1. Each catalog in `locale/zh_CN/` is brought up to date with its English notebook (`catalogs.updated`): new
   cells get empty entries, changed ones are marked fuzzy, removed ones become obsolete.
2. `zh-CN/notebooks/` and `zh-CN/solutions/` are written from the English notebooks with each translated cell's
   source replaced by its msgstr, the `## 中文小结` cell left out, the stored outputs copied from the English run,
   the navigation and lesson map written in Chinese by `course.navigated`, and `"language": "zh-CN"` in the
   notebook metadata. A cell with no usable translation stays English and is reported. Links are made right from
   the deeper folder (`relinked`), and a link to a heading points at its cell (`with_cell_links`).
3. `zh-CN/exercises/` is generated from the Chinese solutions by the exercises generator, its own cells in Chinese.
4. The Python messages' catalog (`logitlab/locale/zh_CN/LC_MESSAGES/logitlab.po`) is compiled to its `.mo`.

A lesson joins the Chinese edition when its catalog exists (`--start notebooks/04-cross-entropy.ipynb` makes an
empty one); until then its Chinese notebook is the English one, reported as untranslated.
"""

import json
import os
import re
from pathlib import Path

from logitlab import i18n
from logitlab.authoring import catalogs, course, messages

EDITION = "zh-CN"
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
TICK = re.compile(r"^✓ (\w+): (.*?)((?: \(exact\)| \(largest difference [^)]*\))?)$", re.M)
TARGET = re.compile(r"(\]\()([^)\s#:]+)((?:#[^)\s]*)?\))")
EDITION_PARTS = ("notebooks", "solutions", "exercises")
HEADING_LINK = re.compile(r"\]\(([^)\s#:]*)#([^)\s=]+)\)")


def edition_root(root=course.ROOT):
    return Path(root) / EDITION


def heading_id(text):
    """The anchor JupyterLab gives a Markdown heading: its text with spaces as dashes."""
    return text.strip().replace(" ", "-")


def headings(source):
    """[(level, text)] of a Markdown cell's heading lines, outside code fences."""
    found, fenced = [], False
    for line in source.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        match = None if fenced else HEADING.match(line)
        if match:
            found.append((len(match[1]), match[2]))
    return found


def heading_cells(path):
    """{anchor: cell id} of an English notebook's headings (JupyterLab's anchor: heading text, dashes for spaces)."""
    found = {}
    for cell in course.read_notebook(path)["cells"]:
        if cell["cell_type"] == "markdown":
            for _, text in headings(course.cell_source(cell)):
                found.setdefault(heading_id(text), cell["id"])
    return found


def with_cell_links(nb, source, root=course.ROOT):
    """The Chinese notebook with each link to an English heading (`00-start-here.ipynb#Glossary`) pointing at the
    heading's cell instead (`00-start-here.ipynb#cell-id=279a3267`).

    JupyterLab makes a heading's anchor from its text, so `## 术语表` no longer answers `#Glossary`, and a
    fragment of Chinese text reaches JupyterLab percent-encoded, which it does not match. A `#cell-id=` fragment
    is JupyterLab's own way to a cell, ASCII and the same in both editions.
    """
    folder, cache = Path(source).parent, {}

    def one(match):
        target = (folder / match[1]).resolve() if match[1] else Path(source).resolve()
        if target.suffix != ".ipynb" or not target.exists() or not target.is_relative_to(Path(root).resolve()):
            return match[0]
        anchors = cache.setdefault(target, heading_cells(target))
        cell = anchors.get(match[2])
        return f"]({match[1]}#cell-id={cell})" if cell else match[0]

    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            cell["source"] = HEADING_LINK.sub(one, course.cell_source(cell))
    return nb


def localized_ticks(text):
    """Stored output text with the checks' tick lines as a Chinese kernel prints them.

    The stored outputs are the English run's; a check's "✓ softmax: ... (exact)" line is the one output a
    Chinese kernel prints differently, so it is rewritten with the same catalog the kernel uses.
    """
    from logitlab.exercises.judging import closeness_text
    from logitlab.exercises.tasks import TASKS

    said = {passed for task in TASKS.values() for passed in task.passed if passed}

    def one(match):
        name, passed, close = match.groups()
        if passed not in said:
            return match[0]
        with i18n.language(i18n.CHINESE):
            return f"✓ {name}: {i18n._(passed)}{closeness_text(close)}"

    return TICK.sub(one, text)


def localized_outputs(cell):
    """The cell with its stdout outputs' tick lines in Chinese (`localized_ticks`)."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stdout":
            text = course.cell_source({"source": out["text"]})
            out["text"] = localized_ticks(text)
    return cell


def relinked(text, source, root=course.ROOT):
    """Markdown of the English notebook `source` with its relative links made right from the Chinese edition.

    A link to a lesson, solution or exercise keeps pointing at its Chinese twin (same relative path); a link to
    anything else (docs/, README.md) climbs one folder more, and README.md becomes README.zh-CN.md.
    """
    root, folder = Path(root).resolve(), Path(source).resolve().parent

    def one(match):
        target = (folder / match[2]).resolve()
        if not target.is_relative_to(root) or target.relative_to(root).parts[0] in EDITION_PARTS:
            return match[0]
        if target == root / "README.md":
            target = root / "README.zh-CN.md"
        chinese_folder = edition_root(root) / folder.relative_to(root)
        return f"{match[1]}{os.path.relpath(target, chinese_folder)}{match[3]}"

    return TARGET.sub(one, text)


def translated_notebook(source, root=course.ROOT):
    """The Chinese notebook of an English one (a dict, before navigation), and the ids of cells left in English."""
    nb = course.read_notebook(source)
    chinese = catalogs.translations(source, root)
    cells = []
    for cell in nb["cells"]:
        if catalogs.is_chinese_summary(cell):
            continue
        text = chinese.get(cell["id"])
        if text is not None:
            cell["source"] = text
        if cell["cell_type"] == "markdown" and not catalogs.is_navigation(cell):
            cell["source"] = relinked(course.cell_source(cell), source, root)
        cells.append(localized_outputs(cell))
    nb["cells"] = cells
    nb.setdefault("metadata", {})["language"] = i18n.LANGUAGE_TAGS[i18n.CHINESE]
    return nb, catalogs.untranslated(source, root)


def chinese_lessons(root=course.ROOT):
    """The lessons of the Chinese edition (root `zh-CN/`), each titled by its translated H1."""
    found = []
    for lesson in course.lessons(root):
        nb, _ = translated_notebook(lesson.notebook, root)
        title = course.notebook_title(nb, lesson.notebook)
        found.append(course.Lesson(lesson.number, lesson.slug, title, edition_root(root), lesson.graded))
    return found


def edition_files(root=course.ROOT):
    """{path: text} of every file of the Chinese edition, as the generator writes it; and the untranslated cells.

    Untranslated: {English source path: [cell ids]}.
    """
    from logitlab.exercises import generate

    root = Path(root)
    lessons_zh = chinese_lessons(root)
    files, untranslated = {}, {}
    for index, lesson in enumerate(course.lessons(root)):
        nb, missing = translated_notebook(lesson.notebook, root)
        nb = with_cell_links(course.navigated(nb, lessons_zh, index, i18n.CHINESE), lesson.notebook, root)
        files[lessons_zh[index].notebook] = course.dumps(course.normalized(nb))
        untranslated[lesson.notebook] = missing
    for solution in sorted((root / "solutions").glob("*.ipynb")):
        nb, missing = translated_notebook(solution, root)
        nb = with_cell_links(nb, solution, root)
        files[edition_root(root) / "solutions" / solution.name] = course.dumps(course.normalized(nb))
        untranslated[solution] = missing
    done_ids = {cell["id"] for path in (root / "solutions").glob("*.ipynb")
                for cell in course.read_notebook(path)["cells"] if generate.is_done_cell(cell)}
    for path, text in list(files.items()):
        if path.parent.name == "solutions":
            with i18n.language(i18n.CHINESE):
                files[edition_root(root) / "exercises" / path.name] = generate.exercise_text(
                    text, path.stem, source=f"{EDITION}/solutions/{path.name}", command="make translate",
                    done_ids=done_ids)
    return files, untranslated


def update_catalogs(root=course.ROOT, check=False):
    """Bring every existing catalog up to date with its English notebook; return the catalogs that changed."""
    changed = []
    for source in course.notebook_paths(root):
        path = catalogs.catalog_path(source, root)
        if not path.exists():
            continue
        text = catalogs.text(catalogs.updated(catalogs.load(path), course.read_notebook(source)))
        if text != path.read_text(encoding="utf-8"):
            changed.append(path)
            if not check:
                path.write_text(text, encoding="utf-8")
    return changed


def start_catalog(source, root=course.ROOT):
    """An empty catalog for an English notebook not yet in the Chinese edition; returns its path."""
    path = catalogs.catalog_path(source, root)
    if path.exists():
        raise ValueError(f"{path} exists already: `python -m logitlab translate` keeps it up to date")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(catalogs.text(catalogs.updated(catalogs.new_catalog(), course.read_notebook(source))),
                    encoding="utf-8")
    return path


def generate_edition(root=course.ROOT, check=False):
    """Write (or with `check`, only compare) the Chinese edition and the compiled messages.

    Returns (files that changed or are out of date, {English source: untranslated cell ids}).
    """
    root = Path(root)
    changed = update_catalogs(root, check)
    if root == course.ROOT:
        # First: the notebooks below are written with these messages (gettext reads the .mo once per process).
        changed += messages.update(check=check)
    files, untranslated = edition_files(root)
    for path, text in files.items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            changed.append(path)
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    for folder in ("notebooks", "solutions", "exercises"):
        for path in sorted((edition_root(root) / folder).glob("*.ipynb")):
            if path not in files:
                changed.append(path)  # its English source is gone
                if not check:
                    path.unlink()
    return changed, untranslated


def stale_translations(root=course.ROOT):
    """Every catalog problem `make check` refuses (stale, missing, untranslated, code changed), as strings."""
    found = [str(problem) for source in course.notebook_paths(root) for problem in catalogs.problems(source, root)]
    return found + (messages.problems() if Path(root) == course.ROOT else [])


def untranslated_report(untranslated, root=course.ROOT):
    """Lines saying which lessons' cells the Chinese edition shows in English."""
    lines = []
    for source, ids in untranslated.items():
        if not ids:
            continue
        shown = Path(source).relative_to(root) if Path(source).is_relative_to(root) else source
        started = catalogs.catalog_path(source, root).exists()
        what = f"{len(ids)} cell(s) in English: {', '.join(ids[:8])}{' ...' if len(ids) > 8 else ''}" if started \
            else "no catalog yet (the whole notebook is in English)"
        lines.append(f"{shown}: {what}")
    return lines


def language_of(path):
    """The language a notebook file says it is in ("zh_CN" or "en")."""
    return i18n.notebook_language(json.loads(Path(path).read_text(encoding="utf-8")))
