"""The catalog of the course's own messages (gettext domain `logitlab`): what the checks, the grader's feedback
page and the generators say, in Chinese.

The messages are found in the package's source: every string literal passed to `_()` or `N_()`
(`logitlab/i18n.py`). `python -m logitlab translate` adds new ones to
`logitlab/locale/zh_CN/LC_MESSAGES/logitlab.po` with an empty msgstr, marks obsolete the ones the code no longer
says, and compiles the `.mo` file Python's gettext reads; `make check` refuses a catalog that misses a message, a
fuzzy or untranslated entry, or a translation whose `{placeholders}` differ from the English.
"""

import ast
import re
import string
from pathlib import Path

import polib

from logitlab import i18n
from logitlab.authoring import catalogs

PACKAGE = Path(i18n.__file__).resolve().parent
CATALOG = i18n.LOCALE_DIR / i18n.CHINESE / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
MARKERS = {"_", "N_", "tr"}  # tr: a translation of a given language, `i18n.translation(language).gettext`
BRACES = "python-brace-format"
HEADER = dict(catalogs.HEADER, **{"Project-Id-Version": "Logits Lab messages"})


def messages_in(path):
    """[(message, line)] of the literal strings passed to `_` or `N_` in one Python file."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in MARKERS and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value:
                found.append((arg.value, node.lineno))
    return found


def extracted(package=PACKAGE):
    """{message: [(file, "")]} of every message in the package, in file order.

    Files without line numbers, so that editing a module does not make the catalog stale."""
    found = {}
    for path in sorted(Path(package).rglob("*.py")):
        for message, _line in messages_in(path):
            where = found.setdefault(message, [])
            file = (str(path.relative_to(package.parent)), "")
            if file not in where:
                where.append(file)
    return found


def updated(catalog, found):
    """The catalog with an entry per found message (translations kept), and the others obsolete."""
    fresh = polib.POFile(wrapwidth=catalogs.WRAP)
    fresh.metadata = catalog.metadata or dict(HEADER)
    old = {entry.msgid: entry for entry in catalog}
    for message, where in found.items():
        before = old.get(message)
        entry = polib.POEntry(msgid=message, msgstr=before.msgstr if before else "", occurrences=where,
                              flags=[flag for flag in (before.flags if before else []) if flag != BRACES])
        if "{" in message:
            entry.flags.append(BRACES)
        fresh.append(entry)
    for entry in catalog:
        if entry.msgid not in found and entry.msgstr:
            entry.obsolete = True
            fresh.append(entry)
    return fresh


def placeholders(text):
    """The `{name}` fields of a str.format template (a template that does not parse gives a marker)."""
    try:
        return sorted({field for _, field, _, _ in string.Formatter().parse(text) if field is not None})
    except ValueError as err:
        return [f"unreadable template: {err}"]


def problems(path=CATALOG, package=PACKAGE):
    """What `make check` refuses in the messages' catalog, as strings (empty when none)."""
    found = extracted(package)
    if not Path(path).exists():
        return [f"{path} is missing; run `make translate`"]
    entries = {entry.msgid: entry for entry in polib.pofile(str(path)) if not entry.obsolete}
    shown = Path(path).relative_to(PACKAGE.parent) if Path(path).is_relative_to(PACKAGE.parent) else path
    result = []
    for message, where in found.items():
        entry = entries.get(message)
        place = f"{shown} ({where[0][0]})"
        short = re.sub(r"\s+", " ", message)[:70]
        if entry is None:
            result.append(f"{place}: {short!r} has no entry; run `make translate`")
        elif "fuzzy" in entry.flags:
            result.append(f"{place}: {short!r} is marked fuzzy")
        elif not entry.msgstr:
            result.append(f"{place}: {short!r} is not translated")
        elif "{" in message and placeholders(entry.msgstr) != placeholders(message):
            result.append(f"{place}: {short!r}: the translation's placeholders {placeholders(entry.msgstr)} "
                          f"differ from {placeholders(message)}")
    return result


def update(path=CATALOG, check=False):
    """Bring the messages' catalog up to date with the code and compile its .mo; return the files that changed."""
    path = Path(path)
    catalog = polib.pofile(str(path)) if path.exists() else polib.POFile()
    text = catalogs.text(updated(catalog, extracted()))
    changed = []
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        changed.append(path)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    mo = path.with_suffix(".mo")
    data = compiled(polib.pofile(text))
    if not mo.exists() or mo.read_bytes() != data:
        changed.append(mo)
        if not check:
            mo.write_bytes(data)
    return changed


def compiled(catalog):
    """The .mo bytes of a catalog (fuzzy entries left out, as msgfmt does)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "messages.mo"
        catalog.save_as_mofile(str(target))
        return target.read_bytes()
