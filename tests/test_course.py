"""The course's files: lesson naming, generated navigation, normal JSON, working links, clean outputs, and the
helper package's modules keeping their private names to themselves."""

import copy
import json
import re
import subprocess
import sys

import pytest

from helpers import ROOT
from logitlab.authoring import course

LINK = re.compile(r"\]\(([^)#\s]+\.(?:ipynb|md))(?:#[^)]*)?\)")


def test_lessons_follow_the_syllabus_spine():
    numbers = [lesson.number for lesson in course.lessons()]
    assert numbers[0] == "00" and numbers == sorted(set(numbers))
    for folder in ("solutions", "exercises"):
        stems = {p.stem for p in (ROOT / "notebooks").glob("*.ipynb")}
        strays = [p.name for p in (ROOT / folder).glob("*.ipynb") if p.stem not in stems]
        assert not strays, f"{folder}/ has notebooks with no lesson of the same stem: {strays}"


def test_navigation_is_generated_and_current():
    stale = course.update_navigation(check=True)
    assert not stale, f"navigation out of date in {stale}; run `make notebooks`"


def test_notebooks_are_normalized():
    every = course.notebook_paths() + sorted((ROOT / "exercises").glob("*.ipynb"))
    assert every
    assert not course.unnormalized(every), "run `make notebooks` (exercises: `make exercises`)"


def test_normalizing_strips_editor_state():
    nb = {"cells": [{"cell_type": "code", "id": "a", "execution_count": 1, "source": ["x"],
                     "metadata": {"execution": {"iopub.status.busy": "2026"}, "tags": ["t"], "scrolled": True},
                     "outputs": [{"output_type": "display_data", "metadata": {},
                                  "data": {course.WIDGET_VIEW: {"model_id": "u"}, "text/plain": "VBox()"}},
                                 {"output_type": "display_data", "metadata": {}, "data": {course.WIDGET_VIEW: {}}},
                                 {"output_type": "stream", "name": "stdout", "text": ["a\n", "b"]},
                                 {"output_type": "stream", "name": "stdout", "text": "c\n"}]}],
          "metadata": {"widgets": {"state": {}}, "kernelspec": {"name": "other"}}, "nbformat": 4, "nbformat_minor": 4}
    plain = course.normalized(nb)
    assert plain["metadata"] == {"kernelspec": course.KERNELSPEC, "language_info": {"name": "python"}}
    cell = plain["cells"][0]
    assert cell["metadata"] == {"tags": ["t"]} and cell["source"] == "x"
    assert cell["outputs"] == [{"output_type": "display_data", "metadata": {}, "data": {"text/plain": "VBox()"}},
                               {"output_type": "stream", "name": "stdout", "text": "a\nbc\n"}]


def test_widget_views_go_and_the_picture_beside_them_stays():
    """What the course's file manager (logitlab/authoring/contents.py, named in jupyter-config/) drops from a
    notebook opened without its kernel: a view, and an output that was only a view."""
    config = json.loads((ROOT / "jupyter-config" / "jupyter_server_config.json").read_text())
    assert config["ServerApp"]["contents_manager_class"] == "logitlab.authoring.contents.CourseContentsManager"
    picture = {"output_type": "execute_result", "execution_count": 3, "metadata": {},
               "data": {course.WIDGET_VIEW: {"model_id": "u", "version_major": 2}, "image/png": "iVBO",
                        "text/plain": "p 0.8"}}
    only_a_view = {"output_type": "display_data", "metadata": {}, "data": {course.WIDGET_VIEW: {"model_id": "v"}}}
    printed = {"output_type": "stream", "name": "stdout", "text": "a\n"}
    live = copy.deepcopy([picture, only_a_view])
    assert course.without_widget_views(copy.deepcopy(live), keep={"u"}) == live[:1]  # its model lives in the kernel
    assert course.without_widget_views([picture, only_a_view, printed]) == [
        {"output_type": "execute_result", "execution_count": 3, "metadata": {},
         "data": {"image/png": "iVBO", "text/plain": "p 0.8"}}, printed]
    hand_edited = {"output_type": "display_data", "metadata": {}, "data": {course.WIDGET_VIEW: "u", "text/plain": "x"}}
    assert course.without_widget_views([hand_edited], keep={"u"}) == [
        {"output_type": "display_data", "metadata": {}, "data": {"text/plain": "x"}}]


def test_every_relative_link_points_at_a_file():
    broken = []
    files = [ROOT / "README.md"] + course.notebook_paths() + sorted((ROOT / "exercises").glob("*.ipynb"))
    for path in files:
        if path.suffix == ".ipynb":
            cells = course.read_notebook(path)["cells"]
            text = "\n".join(course.cell_source(c) for c in cells if c["cell_type"] == "markdown")
        else:
            text = path.read_text()
        for target in LINK.findall(text):
            if "://" not in target and not (path.parent / target).exists():
                broken.append(f"{path.relative_to(ROOT)} -> {target}")
    assert not broken, f"broken links: {broken}"


def test_lesson_zero_has_the_map_and_glossary():
    nb = course.read_notebook(ROOT / "notebooks" / "00-start-here.ipynb")
    text = "\n".join(course.cell_source(c) for c in nb["cells"])
    for lesson in course.lessons():
        assert f"]({lesson.stem}.ipynb)" in text, f"lesson map misses {lesson.stem}"
    for english, chinese in [("logit", "对数几率"), ("cross-entropy", "交叉熵"), ("softmax", "softmax"),
                             ("one-hot", "独热"), ("sparse labels", "稀疏标签"), ("fused op", "融合算子")]:
        assert re.search(rf"\| {re.escape(english)}.*\| .*{re.escape(chinese)}", text), \
            f"glossary lacks {english} / {chinese}"


def test_stored_outputs_show_no_noise():
    found = {str(p.relative_to(ROOT)): course.noise(course.read_notebook(p)) for p in course.notebook_paths()}
    assert not {k: v for k, v in found.items() if v}


def test_cli_check_reports_stale_navigation(tmp_path):
    """`python -m logitlab check` must fail on a notebook whose navigation was edited by hand."""
    import shutil
    copy = tmp_path / "course"
    shutil.copytree(ROOT / "notebooks", copy / "notebooks")
    if (ROOT / "solutions").exists():
        shutil.copytree(ROOT / "solutions", copy / "solutions")
    shutil.copy(ROOT / "README.md", copy / "README.md")
    nb_path = copy / "notebooks" / "00-start-here.ipynb"
    nb = json.loads(nb_path.read_text())
    nb["cells"][-1]["source"] = "**Next:** a link typed by hand"
    nb_path.write_text(course.dumps(nb))
    assert course.update_navigation(copy, check=True) == [nb_path]
    assert course.update_navigation(copy) == [nb_path]
    assert course.update_navigation(copy, check=True) == []


def test_bad_notebook_file_gives_a_clear_error(tmp_path):
    bad = tmp_path / "broken.ipynb"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="is not a valid notebook"):
        course.read_notebook(bad)
    result = subprocess.run([sys.executable, "-m", "logitlab", "nope"], capture_output=True, text=True)
    assert result.returncode == 2 and "invalid choice" in result.stderr


def test_navigation_links_the_glossary():
    all_lessons = course.lessons()
    for index in range(len(all_lessons)):
        target = "#Glossary" if index == 0 else "00-start-here.ipynb#Glossary"
        assert f"[Glossary · 术语表]({target})" in course.navigation_markdown(all_lessons, index)


def test_package_modules_use_only_each_others_public_names():
    """A name starting with _ is the module's own business: what another module needs is promoted to public."""
    paths = sorted((ROOT / "logitlab").rglob("*.py"))
    modules = sorted({p.stem for p in paths if not p.stem.startswith("__")})
    reaching = re.compile(rf"\b(?:{'|'.join(modules)})\._(?!_)\w+|from logitlab[\w.]* import [^\n]*\b_(?!_)\w+")
    found = [f"{path.relative_to(ROOT)}: {match}" for path in paths for match in reaching.findall(path.read_text())]
    assert not found, f"private names used across modules: {found}"
