"""Lecture mode: the slideshow path through lessons 00-04, its speaker notes, and `make slides`."""

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from logitlab import course, lecture

PLANNED = [lesson for lesson in course.lessons() if lesson.number in lecture.PLANS]
TYPES = {"slide", "subslide", "fragment", "-", "skip", "notes"}


def cells_of(lesson):
    return course.read_notebook(lesson.notebook)["cells"]


def test_lessons_00_to_04_have_a_plan():
    assert [lesson.number for lesson in PLANNED] == ["00", "01", "02", "03", "04"]


def test_lecture_metadata_is_current():
    """`python -m logitlab lecture` has been run: rerunning it would change nothing."""
    assert lecture.update_lessons(check=True) == []


@pytest.mark.parametrize("lesson", PLANNED, ids=lambda lesson: lesson.stem)
def test_every_cell_has_a_slide_type_and_every_explorer_a_slide_and_notes(lesson):
    cells = cells_of(lesson)
    types = [c["metadata"].get("slideshow", {}).get("slide_type") for c in cells]
    assert set(types) <= TYPES and None not in types, types
    assert types[0] == "slide", "the title opens the slideshow"
    explorers = [i for i, c in enumerate(cells) if lecture.is_explorer(c)]
    assert explorers
    for i in explorers:
        assert types[i] in ("slide", "subslide"), f"explorer cell {i} shares a slide"
        notes = cells[i + 1]
        text = course.cell_source(notes)
        assert types[i + 1] == "notes" and lecture.NOTES_TAG in notes["metadata"]["tags"], "notes right after it"
        assert all(part in text for part in ("**Ask the room:**", "**Usually predicted:**", "**Answer:**")), text
    assert types.count("skip") >= 3, "the lecture leaves the setup, the Chinese summary and the navigation out"


@pytest.mark.parametrize("lesson", PLANNED, ids=lambda lesson: lesson.stem)
def test_a_learner_reads_the_same_lesson(lesson):
    """Notes are the only added cells, collapsed; nothing is deleted, only marked skip."""
    cells = cells_of(lesson)
    notes = [c for c in cells if lecture.NOTES_TAG in c["metadata"].get("tags", [])]
    assert notes and all(c["metadata"]["jupyter"] == {"source_hidden": True} for c in notes)
    assert all(c["metadata"]["slideshow"]["slide_type"] == "notes" for c in notes)
    assert len(lecture.lesson_cells({"cells": cells})) == len(cells) - len(notes)
    plan = lecture.PLANS[lesson.number]
    ids = {c.get("id") for c in cells}
    assert set(plan.skip_sections) <= ids and set(plan.skip_cells) <= ids, "skipped cells stay in the notebook"


def test_each_lecture_is_45_to_50_minutes():
    lectures = {}
    for plan in lecture.PLANS.values():
        lectures[plan.lecture] = lectures.get(plan.lecture, 0) + sum(plan.minutes.values())
    assert lectures and all(45 <= minutes <= 50 for minutes in lectures.values()), lectures


def test_timing_notes_follow_the_title():
    for lesson in PLANNED:
        cells = cells_of(lesson)
        text = course.cell_source(cells[1])
        plan = lecture.PLANS[lesson.number]
        assert text.startswith("**Speaker notes") and f"({sum(plan.minutes.values())} in all" in text
        assert text.count(" min\n") + text.endswith(" min") == len(plan.minutes)


def test_normalizing_keeps_slideshow_metadata_and_collapsed_notes():
    nb = {"cells": [
        {"cell_type": "markdown", "id": "a", "source": "# T", "metadata": {"slideshow": {"slide_type": "slide"},
                                                                            "jupyter": {"source_hidden": True}}},
        lecture.notes_cell("n", "**Speaker notes**"),
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    plain = course.normalized(json.loads(json.dumps(nb)))
    assert plain["cells"][0]["metadata"] == {"slideshow": {"slide_type": "slide"}}, "a learner's collapse is not kept"
    assert plain["cells"][1]["metadata"] == nb["cells"][1]["metadata"]


def test_a_plan_naming_a_missing_cell_fails_loudly():
    nb = {"cells": [{"cell_type": "markdown", "id": "x", "source": "# T", "metadata": {}}]}
    with pytest.raises(ValueError, match="does not have: gone"):
        lecture.with_lecture(nb, lecture.LessonPlan(lecture="L", minutes={"gone": 1}))


def test_make_slides_builds_a_lesson_with_its_explorer_picture(tmp_path):
    lesson = next(lesson for lesson in PLANNED if lesson.number == "03")
    result = subprocess.run([sys.executable, "-m", "logitlab", "slides", str(lesson.notebook), "--out", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    html = (tmp_path / f"{lesson.stem}.slides.html").read_text(encoding="utf-8")
    explorer = next(c for c in cells_of(lesson) if lecture.is_explorer(c))
    picture = next(out["data"]["image/png"] for out in explorer["outputs"] if "image/png" in out.get("data", {}))
    picture = "".join(picture).replace("\n", "")
    assert base64.b64decode(picture)[:4] == b"\x89PNG"
    assert picture in html, "the explorer's stored picture is on a slide"
    assert "Reveal.initialize" in html and '<aside class="notes">' in html and "Ask the room" in html
    assert "From TensorFlow 1 to TensorFlow 2" not in html, "the TF 1 detour is marked skip"


def test_binder_postbuild_installs_the_course_and_its_jupyterlab_defaults(tmp_path):
    """What repo2docker runs after environment.yml, here into this test's environment and a scratch prefix."""
    env = dict(os.environ, NB_PYTHON_PREFIX=str(tmp_path), PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    result = subprocess.run(["bash", str(ROOT / "postBuild")], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    copied = tmp_path / "etc" / "jupyter" / "labconfig" / "default_setting_overrides.json"
    settings = json.loads(copied.read_text())
    assert settings["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    shown = subprocess.run([sys.executable, "-c", "import logitlab, pathlib; print(pathlib.Path(logitlab.__file__))"],
                           capture_output=True, text=True, timeout=60)
    assert Path(shown.stdout.strip()).parent == ROOT / "logitlab", "logitlab is installed from this repository"
