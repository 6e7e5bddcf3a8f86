"""The Chinese edition's catalogs: one gettext `.po` file per English notebook, one entry per cell.

`locale/zh_CN/notebooks/<stem>.po` translates `notebooks/<stem>.ipynb`, `locale/zh_CN/solutions/<stem>.po`
translates `solutions/<stem>.ipynb` (the format is fixed in CONTRIBUTING.md, "The Chinese edition"):
`msgctxt` is the cell's id, `msgid` its exact English source, `msgstr` the Chinese cell. Every markdown cell
has an entry except the `## 中文小结` cell (left out of the Chinese edition) and the cells the navigation
generator writes (`course.NAV_TAG`, `course.MAP_TAG`); a code cell has one when it has `#` comments, and its
msgstr may differ from the English only in its comments (`code_tokens`).
"""

import io
import tokenize
from dataclasses import dataclass
from pathlib import Path

import polib

from logitlab.authoring import course

LOCALE = "locale/zh_CN"
SUMMARY_ZH = "## 中文小结"
HEADER = {"Project-Id-Version": "Logits Lab", "Language": "zh_CN", "MIME-Version": "1.0",
          "Content-Type": "text/plain; charset=UTF-8", "Content-Transfer-Encoding": "8bit"}
WRAP = 0  # no wrapping: one line of a .po string per line of the cell (what the translators write)


def catalog_path(source, root=course.ROOT):
    """The catalog of an English notebook: notebooks/03-softmax.ipynb -> locale/zh_CN/notebooks/03-softmax.po."""
    source = Path(source)
    return Path(root) / LOCALE / source.parent.name / f"{source.stem}.po"


def is_chinese_summary(cell):
    return cell["cell_type"] == "markdown" and course.cell_source(cell).startswith(SUMMARY_ZH)


def is_navigation(cell):
    """A cell the navigation generator writes (in Chinese for the Chinese edition), never in a catalog."""
    tags = cell.get("metadata", {}).get("tags", [])
    return course.NAV_TAG in tags or course.MAP_TAG in tags


def has_comments(source):
    """True when Python source has a `#` comment (what a translator translates in a code cell)."""
    try:
        return any(tok.type == tokenize.COMMENT for tok in tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return "#" in source


def code_tokens(source):
    """Python source's tokens without its comments and line breaks inside brackets: what must not change."""
    skipped = {tokenize.COMMENT, tokenize.NL}
    try:
        return [(tok.type, tok.string) for tok in tokenize.generate_tokens(io.StringIO(source).readline)
                if tok.type not in skipped]
    except (tokenize.TokenError, SyntaxError) as err:
        return [("unreadable", str(err))]


def translatable(cell):
    """True for a cell that has an entry in its notebook's catalog."""
    if is_navigation(cell) or is_chinese_summary(cell):
        return False
    if cell["cell_type"] == "markdown":
        return True
    return cell["cell_type"] == "code" and has_comments(course.cell_source(cell))


def new_catalog():
    catalog = polib.POFile(wrapwidth=WRAP)
    catalog.metadata = dict(HEADER)
    return catalog


def load(path):
    """A catalog from disk (a new empty one when the file does not exist)."""
    path = Path(path)
    return polib.pofile(str(path), wrapwidth=WRAP) if path.exists() else new_catalog()


def text(catalog):
    """A catalog as the file polib's `save` writes."""
    return str(catalog)


def updated(catalog, nb):
    """A new catalog for notebook `nb` that keeps what `catalog` translated.

    A cell whose source is unchanged keeps its entry; a changed one keeps the old msgstr, marked fuzzy, with the
    old English as `#| msgid` (what msgmerge does); a new cell gets an empty entry; an entry whose cell is gone
    becomes obsolete (`#~`), so its translation can still be copied by hand.
    """
    old = {entry.msgctxt: entry for entry in catalog if not entry.obsolete}
    fresh = new_catalog()
    fresh.metadata = catalog.metadata or dict(HEADER)
    fresh.header = catalog.header
    seen = set()
    for cell in nb["cells"]:
        if not translatable(cell):
            continue
        cell_id, source = cell["id"], course.cell_source(cell)
        seen.add(cell_id)
        before = old.get(cell_id)
        entry = polib.POEntry(msgctxt=cell_id, msgid=source, msgstr="")
        if before is not None:
            entry.msgstr, entry.flags, entry.previous_msgid = before.msgstr, list(before.flags), before.previous_msgid
            if before.msgid != source and before.msgstr:
                entry.flags = sorted(set(entry.flags) | {"fuzzy"})
                entry.previous_msgid = before.msgid
        fresh.append(entry)
    for entry in catalog:
        if entry.msgctxt not in seen and entry.msgctxt not in {e.msgctxt for e in fresh}:
            entry.obsolete = True
            fresh.append(entry)
    return fresh


@dataclass(frozen=True)
class Problem:
    """Something `make check` refuses in a catalog: where (lesson file, cell id) and what."""

    source: str
    cell: str
    what: str

    def __str__(self):
        return f"{self.source} cell {self.cell}: {self.what}"


def problems(source, root=course.ROOT):
    """What is wrong with the translation of one English notebook, as `Problem`s (empty when none).

    Stale: a cell whose English changed (the entry's msgid differs, or it is marked fuzzy); missing: a cell
    with no entry or an empty msgstr; and a code msgstr whose tokens other than comments differ from the English.
    """
    source, root = Path(source), Path(root)
    shown = str(source.relative_to(root)) if source.is_relative_to(root) else str(source)
    path = catalog_path(source, root)
    if not path.exists():
        return []  # not in the Chinese edition yet: `python -m logitlab translate --start` starts it
    entries = {entry.msgctxt: entry for entry in load(path) if not entry.obsolete}
    found = []
    for cell in course.read_notebook(source)["cells"]:
        if not translatable(cell):
            continue
        entry, text = entries.get(cell["id"]), course.cell_source(cell)
        if entry is None:
            found.append(Problem(shown, cell["id"], f"no entry in {path.relative_to(root)} (a new cell)"))
        elif entry.msgid != text:
            found.append(Problem(shown, cell["id"], "stale: the English cell changed since it was translated"))
        elif "fuzzy" in entry.flags:
            found.append(Problem(shown, cell["id"], "stale: marked fuzzy (check the translation, drop the flag)"))
        elif not entry.msgstr:
            found.append(Problem(shown, cell["id"], "not translated"))
        elif cell["cell_type"] == "code" and code_tokens(entry.msgstr) != code_tokens(text):
            found.append(Problem(shown, cell["id"], "the translated code differs from the English beyond comments"))
    return found


def untranslated(source, root=course.ROOT):
    """The ids of `source`'s translatable cells that the Chinese edition shows in English (no usable msgstr)."""
    usable = {entry.msgctxt: entry for entry in load(catalog_path(source, root))
              if not entry.obsolete and entry.msgstr and "fuzzy" not in entry.flags}
    return [cell["id"] for cell in course.read_notebook(source)["cells"]
            if translatable(cell) and cell["id"] not in usable]


def translations(source, root=course.ROOT):
    """{cell id: Chinese source} of the usable entries (current, not fuzzy, code tokens intact)."""
    nb = course.read_notebook(source)
    english = {cell["id"]: course.cell_source(cell) for cell in nb["cells"]}
    kinds = {cell["id"]: cell["cell_type"] for cell in nb["cells"]}
    usable = {}
    for entry in load(catalog_path(source, root)):
        if entry.obsolete or not entry.msgstr or "fuzzy" in entry.flags or english.get(entry.msgctxt) != entry.msgid:
            continue
        if kinds[entry.msgctxt] == "code" and code_tokens(entry.msgstr) != code_tokens(entry.msgid):
            continue
        usable[entry.msgctxt] = entry.msgstr
    return usable
