"""What every lesson looks like, one rule for all of them (CONTRIBUTING.md, "A lesson notebook, top to bottom").

The lessons are whatever `course.lessons()` finds in notebooks/: nothing here lists them by hand.
What a lesson teaches is checked in tests/test_lessons_*.py.
"""

import re

import pytest

from logitlab.authoring import course

LESSONS = course.lessons()
IMPORT = re.compile(r"^\s*(import|from) \w", re.M)
EXPLORER_CALL = re.compile(r"^ll\.widgets\.(\w+_explorer)\(")


def cells_of(lesson):
    return course.read_notebook(lesson.notebook)["cells"]


def bullets(text):
    return [line for line in text.splitlines() if line.startswith("- ")]


def explorer_cells(cells):
    """(index, explorer name) of each code cell whose last line shows an explorer: `ll.widgets.x_explorer(...)`."""
    found = []
    for i, cell in enumerate(cells):
        lines = course.cell_source(cell).strip().splitlines()
        match = EXPLORER_CALL.match(lines[-1]) if cell["cell_type"] == "code" and lines else None
        if match:
            found.append((i, match.group(1)))
    return found


def test_there_are_lessons_and_lesson_zero_comes_first():
    assert [lesson.number for lesson in LESSONS][:1] == ["00"] and len(LESSONS) >= 2


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.stem)
def test_lesson_opens_with_its_title_overview_and_goals(lesson):
    first = cells_of(lesson)[0]
    text = course.cell_source(first)
    assert first["cell_type"] == "markdown" and text.startswith("# "), "a lesson opens with its H1 title"
    assert text.count("\n# ") == 0, "one H1 per lesson"
    if lesson.graded:  # lesson 00 is the course's front door: it has no exercise and no goals list
        assert "You will learn to:" in text, "the opening cell lists what the lesson teaches"
        goals = bullets(text.split("You will learn to:", 1)[1])
        assert 3 <= len(goals) <= 5, f"'You will learn to:' lists {len(goals)} items; the style asks for 3-5"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.stem)
def test_one_setup_cell_holds_every_import_logitlab_first(lesson):
    cells = cells_of(lesson)
    headings = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
                and course.cell_source(c).splitlines()[0].strip() == "## Setup"]
    assert len(headings) == 1, f"one '## Setup' heading; found {len(headings)}"
    setup = headings[0] + 1
    assert cells[setup]["cell_type"] == "code", "the Setup heading is followed by the setup code cell"
    assert course.cell_source(cells[setup]).startswith("import logitlab as ll"), "logitlab is imported first"
    importing = [i for i, c in enumerate(cells) if c["cell_type"] == "code" and IMPORT.search(course.cell_source(c))]
    assert importing == [setup], f"imports belong in the setup cell (cell {setup}) only; cells {importing} import"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.stem)
def test_lesson_closes_with_summary_then_chinese_summary_then_navigation(lesson):
    cells = cells_of(lesson)
    assert course.NAV_TAG in cells[-1]["metadata"].get("tags", []), "ends with the generated navigation cell"
    summaries = [c for c in cells if course.cell_source(c).startswith("## Summary")]
    assert summaries == [cells[-3]], "one '## Summary' cell, then the Chinese summary, then the navigation"
    assert 3 <= len(bullets(course.cell_source(cells[-3]))) <= 5, "the summary has 3-5 bullets"
    chinese = [c for c in cells if course.cell_source(c).startswith("## 中文小结")]
    assert chinese == [cells[-2]], "one '## 中文小结' cell, right before the navigation"
    chinese_bullets = bullets(course.cell_source(cells[-2]))
    assert 3 <= len(chinese_bullets) <= 5, "the Chinese summary has 3-5 bullets"
    assert all(re.search(r"[\u4e00-\u9fff]", line) for line in chinese_bullets), "every bullet is written in Chinese"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.stem)
def test_lesson_shows_an_explorer_after_a_try_this(lesson):
    cells = cells_of(lesson)
    shown = explorer_cells(cells)
    assert shown, "every lesson has at least one explorer from ll.widgets"
    for index, name in shown:
        assert "**Try this:**" in course.cell_source(cells[index - 1]), f"say what to try just before {name}"
        data = [out["data"] for out in cells[index]["outputs"] if "data" in out]
        assert data and {"image/png", "text/plain"} <= set(data[0]), \
            f"{name}: the stored output keeps the picture and the summary for viewers without a kernel"
        assert course.WIDGET_VIEW not in data[0], f"{name}: widget view stored (run make notebooks)"
        summary = course.cell_source({"source": data[0]["text/plain"]})
        assert summary.startswith(name.replace("_explorer", "").replace("_", "-") + " explorer: "), summary


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.stem)
def test_every_code_cell_is_stored_executed(lesson):
    unexecuted = [i for i, c in enumerate(cells_of(lesson))
                  if c["cell_type"] == "code" and course.cell_source(c).strip() and c.get("execution_count") is None]
    assert not unexecuted, f"cells {unexecuted} are stored without outputs (nbval would skip them): run make notebooks"
