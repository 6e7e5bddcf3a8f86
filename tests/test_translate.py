"""The Chinese edition: generated from the English notebooks and the catalogs, refused by `make check` when stale.

The structural tests prove the zh-CN notebooks run the same code and store the same outputs as the English ones
(so one nbval pass over zh-CN/notebooks/03 and zh-CN/solutions/03, in pyproject.toml's testpaths, stands for
all); the generator and the staleness checks are exercised on a copy of two lessons in a tmp folder.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import polib
import pytest

from helpers import ROOT
from logitlab import i18n
from logitlab.authoring import catalogs, course, messages, translate

LINK = re.compile(r"\]\(([^)#\s]+\.(?:ipynb|md))(?:#[^)]*)?\)")


def edition_pairs():
    """(English notebook, its zh-CN notebook) for every lesson and solution."""
    return [(path, ROOT / translate.EDITION / path.parent.name / path.name) for path in course.notebook_paths()]


@pytest.mark.parametrize("english, chinese", edition_pairs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_chinese_notebook_runs_the_same_code_and_stores_the_same_outputs(english, chinese):
    en, zh = course.read_notebook(english), course.read_notebook(chinese)
    assert zh["metadata"]["language"] == "zh-CN"
    en_code = [cell for cell in en["cells"] if cell["cell_type"] == "code"]
    zh_code = [cell for cell in zh["cells"] if cell["cell_type"] == "code"]
    assert [c["id"] for c in zh_code] == [c["id"] for c in en_code]
    for a, b in zip(en_code, zh_code):
        assert catalogs.code_tokens(course.cell_source(b)) == catalogs.code_tokens(course.cell_source(a)), a["id"]
        assert b["execution_count"] == a["execution_count"], a["id"]
        # The stored outputs are the English run's; only a check's tick line is as a Chinese kernel prints it.
        expected = translate.localized_outputs(json.loads(json.dumps(a)))["outputs"]
        assert b["outputs"] == expected, f"{chinese.name} cell {a['id']}: outputs differ from the English run"


def test_chinese_edition_leaves_out_the_chinese_summary_and_translates_navigation():
    nb = course.read_notebook(ROOT / "zh-CN" / "notebooks" / "03-softmax.ipynb")
    text = [course.cell_source(cell) for cell in nb["cells"]]
    assert not any(t.startswith(catalogs.SUMMARY_ZH) for t in text)
    navigation = text[-1]
    assert "**下一课：** [04 · " in navigation and "[术语表 · Glossary](00-start-here.ipynb#cell-id=" in navigation
    assert "[练习 03](../exercises/03-softmax.ipynb)" in navigation
    lesson_zero = course.read_notebook(ROOT / "zh-CN" / "notebooks" / "00-start-here.ipynb")
    assert any("| # | 课程 | 练习 | 参考答案 |" in course.cell_source(c) for c in lesson_zero["cells"])


def test_every_relative_link_of_the_chinese_edition_points_at_a_file():
    broken = []
    for path in sorted((ROOT / "zh-CN").rglob("*.ipynb")):
        cells = course.read_notebook(path)["cells"]
        text = "\n".join(course.cell_source(c) for c in cells if c["cell_type"] == "markdown")
        broken += [f"{path.relative_to(ROOT)} -> {t}" for t in LINK.findall(text) if not (path.parent / t).exists()]
    readme = (ROOT / "README.zh-CN.md").read_text()
    broken += [f"README.zh-CN.md -> {t}" for t in LINK.findall(readme) if not (ROOT / t).exists()]
    assert not broken, broken


def test_links_to_headings_point_at_their_cells():
    """`#Glossary` names an English heading; the Chinese edition links to its cell (`#cell-id=`), which JupyterLab
    finds whatever the heading says (tests/test_browser_zh.py follows such a link)."""
    glossary = translate.heading_cells(ROOT / "notebooks" / "00-start-here.ipynb")["Glossary"]
    lesson = course.read_notebook(ROOT / "zh-CN" / "notebooks" / "03-softmax.ipynb")
    assert f"(00-start-here.ipynb#cell-id={glossary})" in course.cell_source(lesson["cells"][-1])
    zero = course.read_notebook(ROOT / "zh-CN" / "notebooks" / "00-start-here.ipynb")
    assert f"(#cell-id={glossary})" in course.cell_source(zero["cells"][-1])
    assert any(c["id"] == glossary and course.cell_source(c).startswith("## 术语表") for c in zero["cells"])
    nb = {"cells": [{"cell_type": "markdown", "id": "a", "source": "[x](#Glossary) [y](#Nowhere) [z](https://a.b/#c)"}]}
    linked = translate.with_cell_links(nb, ROOT / "notebooks" / "00-start-here.ipynb")
    assert linked["cells"][0]["source"] == f"[x](#cell-id={glossary}) [y](#Nowhere) [z](https://a.b/#c)"


def test_edition_and_messages_are_current_and_complete():
    changed, _ = translate.generate_edition(check=True)
    assert not changed, f"run `make translate`: {changed}"
    assert not translate.stale_translations(), translate.stale_translations()


# ---------------------------------------------------------------- the generator on a copy


@pytest.fixture
def course_copy(tmp_path):
    """Lessons 00 and 03 with solution 03 and their catalogs, as a course of its own."""
    for part in ("notebooks/00-start-here.ipynb", "notebooks/03-softmax.ipynb", "solutions/03-softmax.ipynb"):
        (tmp_path / part).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / part, tmp_path / part)
    (tmp_path / "README.md").write_text(f"# copy\n{course.README_START}\n{course.README_END}\n")
    course.update_navigation(tmp_path)
    return tmp_path


def cell_of(nb, start):
    return next(cell for cell in nb["cells"] if course.cell_source(cell).startswith(start))


def test_generator_starts_a_catalog_falls_back_to_english_and_reports_it(course_copy):
    source = course_copy / "notebooks" / "03-softmax.ipynb"
    path = translate.start_catalog(source, course_copy)
    entries = [e for e in polib.pofile(str(path))]
    nb = course.read_notebook(source)
    assert [e.msgctxt for e in entries] == [c["id"] for c in nb["cells"] if catalogs.translatable(c)]
    assert all(e.msgstr == "" for e in entries)
    kinds = {c["id"]: c["cell_type"] for c in nb["cells"]}
    assert any(kinds[e.msgctxt] == "code" for e in entries) and "navigation" not in kinds.keys() & {
        e.msgctxt for e in entries}
    changed, untranslated = translate.generate_edition(course_copy)
    zh = course_copy / "zh-CN" / "notebooks" / "03-softmax.ipynb"
    assert zh in changed and (course_copy / "zh-CN" / "exercises" / "03-softmax.ipynb") in changed
    assert untranslated[source] == [e.msgctxt for e in entries]
    assert translate.untranslated_report(untranslated, course_copy)
    title = cell_of(course.read_notebook(zh), "# Softmax")  # English, for now
    assert title["id"] == entries[0].msgctxt
    problems = translate.stale_translations(course_copy)
    assert f"notebooks/03-softmax.ipynb cell {entries[0].msgctxt}: not translated" in problems


def test_a_changed_english_cell_is_stale_until_translated_again(course_copy):
    source = course_copy / "notebooks" / "03-softmax.ipynb"
    path = translate.start_catalog(source, course_copy)
    catalog = polib.pofile(str(path))
    code_ids = {c["id"] for c in course.read_notebook(source)["cells"] if c["cell_type"] == "code"}
    for entry in catalog:
        heading = "# " if entry.msgid.startswith("# ") else ""
        entry.msgstr = entry.msgid if entry.msgctxt in code_ids else f"{heading}中文 {entry.msgctxt}"
    catalog.save()
    assert translate.stale_translations(course_copy) == []
    translate.generate_edition(course_copy)
    assert translate.generate_edition(course_copy, check=True)[0] == []

    nb = course.read_notebook(source)
    title = cell_of(nb, "# Softmax")
    title["source"] = course.cell_source(title) + "\n\nA new sentence."
    source.write_text(course.dumps(nb))
    problems = translate.stale_translations(course_copy)
    assert problems == [f"notebooks/03-softmax.ipynb cell {title['id']}: stale: the English cell changed since it "
                        "was translated"]
    changed, untranslated = translate.generate_edition(course_copy, check=True)
    assert path in changed and course_copy / "zh-CN" / "notebooks" / "03-softmax.ipynb" in changed

    translate.generate_edition(course_copy)  # the catalog is updated: the old translation kept, marked fuzzy
    entry = next(e for e in polib.pofile(str(path)) if e.msgctxt == title["id"])
    assert entry.fuzzy and entry.msgstr == f"# 中文 {title['id']}" and entry.msgid.endswith("A new sentence.")
    assert entry.previous_msgid and not entry.previous_msgid.endswith("A new sentence.")
    assert any("marked fuzzy" in p for p in translate.stale_translations(course_copy))
    zh = course.read_notebook(course_copy / "zh-CN" / "notebooks" / "03-softmax.ipynb")
    assert cell_of(zh, "# Softmax")["source"].endswith("A new sentence.")  # shown in English until retranslated

    gone = next(cell for cell in nb["cells"][1:] if cell["cell_type"] == "markdown" and catalogs.translatable(cell))
    nb["cells"] = [cell for cell in nb["cells"] if cell is not gone]  # a removed cell: its entry becomes obsolete
    source.write_text(course.dumps(nb))
    translate.generate_edition(course_copy)
    assert [e.obsolete for e in polib.pofile(str(path)) if e.msgctxt == gone["id"]] == [1]


def test_translated_code_may_change_only_its_comments(course_copy):
    source = course_copy / "notebooks" / "03-softmax.ipynb"
    path = translate.start_catalog(source, course_copy)
    catalog = polib.pofile(str(path))
    code = next(e for e in catalog if "#" in e.msgid and e.msgid.lstrip()[:1] != "#" and "import" in e.msgid
                or e.msgid.startswith("import"))
    comment = re.search(r"#[^\n]*", code.msgid)[0]
    code.msgstr = code.msgid.replace(comment, "# 中文注释")
    catalog.save()
    assert not [p for p in translate.stale_translations(course_copy) if code.msgctxt in p]
    code.msgstr = code.msgid.replace(comment, "# 中文注释").replace("import", "import  ", 1).replace(
        "np", "numpy_renamed", 1)
    catalog.save()
    assert [p for p in translate.stale_translations(course_copy) if code.msgctxt in p] == [
        f"notebooks/03-softmax.ipynb cell {code.msgctxt}: the translated code differs from the English beyond comments"]
    nb, _ = translate.translated_notebook(source, course_copy)
    assert cell_of(nb, code.msgid[:20])["source"] == code.msgid  # such a translation is not used


def test_a_hand_edited_chinese_notebook_is_out_of_date(course_copy):
    translate.generate_edition(course_copy)
    zh = course_copy / "zh-CN" / "solutions" / "03-softmax.ipynb"
    zh.write_text(zh.read_text().replace("softmax", "softmax ", 1))
    assert translate.generate_edition(course_copy, check=True)[0] == [zh]


# ---------------------------------------------------------------- messages


def test_the_language_is_the_folder_the_variable_or_the_block(tmp_path, monkeypatch):
    monkeypatch.delenv(i18n.LANGUAGE_ENV, raising=False)
    (tmp_path / "zh-CN" / "exercises").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert i18n.current_language() == "en" and i18n._("Checks") == "Checks"
    monkeypatch.chdir(tmp_path / "zh-CN" / "exercises")
    assert i18n.current_language() == "zh_CN" and i18n._("Checks") == "检查"
    with i18n.language("en"):
        assert i18n._("Checks") == "Checks"
    monkeypatch.setenv(i18n.LANGUAGE_ENV, "en")
    assert i18n._("Checks") == "Checks"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(i18n.LANGUAGE_ENV, "zh-CN")
    assert i18n._("Checks") == "检查"
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.setenv(i18n.LANGUAGE_ENV, "")
    assert i18n._("Checks") == "Checks", "the system locale must not switch the English edition"


def test_a_check_answers_in_chinese_inside_the_chinese_edition(tmp_path):
    folder = tmp_path / "zh-CN" / "exercises"
    folder.mkdir(parents=True)
    code = ("import numpy as np, logitlab as ll\n"
            "def softmax(z):\n    e = np.exp(z)\n    return e / e.sum(axis=-1, keepdims=True)\n"
            "ll.checks.check_softmax(softmax)\nll.checks.check_softmax(softmax, hard=True)\n")
    env = {k: v for k, v in os.environ.items() if k != i18n.LANGUAGE_ENV}
    run = subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, env=env)
    assert "✓ softmax: 一行和一个 [2, 3] 的批次" in run.stdout, run.stdout + run.stderr
    assert "你的 softmax 在 logits 为 [1000, 0] 时返回 nan：先减去每行的最大值再取 exp。" in run.stderr, run.stderr
    english = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert "your softmax returns nan for logits [1000, 0]: subtract the row max before exp." in english.stderr


def test_every_message_is_translated_with_its_placeholders():
    assert messages.problems() == []
    assert messages.update(check=True) == [], "run `make translate`"
    assert messages.placeholders("{call} returned {got}") == ["call", "got"]


def test_a_translation_with_other_placeholders_is_refused(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "m.py").write_text('from logitlab.i18n import _\nX = _("{name} returned {got}.")\nY = _("new")\n')
    path = tmp_path / "x.po"
    catalog = polib.POFile()
    catalog.append(polib.POEntry(msgid="{name} returned {got}.", msgstr="{name} 返回了 {value}。"))
    catalog.save(str(path))
    found = messages.problems(path, package)
    assert any("placeholders ['name', 'value'] differ from ['got', 'name']" in p for p in found), found
    assert any("'new' has no entry" in p for p in found), found


def test_the_feedback_page_speaks_the_submissions_language():
    from logitlab.grading import feedback

    nb = {"cells": [{"cell_type": "markdown", "source": "# 练习 03"}], "metadata": {"language": "zh-CN"}}
    page = feedback.notebook_page("ana", "03-softmax", 1, 2, "", nb, {})
    assert "得分：1 / 2" in page and "学生：ana" in page and "虚线框" in page
    nb["metadata"] = {}
    page = feedback.notebook_page("ana", "03-softmax", 1, 2, "", nb, {})
    assert "Score: 1 / 2" in page and "student: ana" in page


def test_the_graders_verdicts_speak_the_submissions_language():
    """The grader judges in the language of the submission's notebook (`SandboxedExecute`: `metadata.language`)."""
    import numpy as np

    from logitlab.exercises.tasks import TASKS
    from logitlab.grading import autograde

    task = TASKS["softmax"]
    cases = task.selected(False)
    wrong = [np.exp(np.asarray(case.args[0], dtype=float)) for case in cases]
    right = [task.reference(*case.args) for case in cases]
    assert i18n.notebook_language({"metadata": {"language": "zh-CN"}}) == "zh_CN"
    with i18n.language(i18n.notebook_language({"metadata": {"language": "zh-CN"}})):
        assert "你返回的是 exp(logits)：还要除以它们在这一行上的和。" in autograde.verdict(
            task, cases, wrong, "softmax", set())["evalue"]
        assert autograde.verdict(task, cases, right, "softmax", set())["text"].startswith("✓ softmax: 一行和一个")
    assert "you returned exp(logits)" in autograde.verdict(task, cases, wrong, "softmax", set())["evalue"]
