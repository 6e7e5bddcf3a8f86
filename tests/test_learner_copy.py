"""A learner's own copy of the course in JupyterLab (headless Chromium): lessons open unmodified, an exercise answered
and saved, a lesson's kernel gone when its tab closes, then a course update (`make update` in a git checkout of the
course: one lesson and one exercise changed, one lesson added) that keeps every answer and brings the new lesson.

The served copy of the repository (tests/helpers.py: serve_lab) stands for the learner's clone; a git clone of it
stands for the course's repository, where the update is committed.
"""

import json
import os
import subprocess
import sys
import urllib.request

import pytest

from helpers import ROOT, new_page, open_notebook, serve_lab

pytestmark = pytest.mark.browser

TOKEN = "logitlab-learner-copy-test"
EXERCISE = "exercises/01-math-logit.ipynb"
SOLUTION = "solutions/01-math-logit.ipynb"

# Runs in the page: wait for the notebook and its kernel, then for the kernel to be idle and JupyterLab to have
# written the kernel's metadata; report whether the notebook is marked modified.
OPENED = """
async () => {
  const panel = window.jupyterapp.shell.currentWidget;
  const deadline = Date.now() + 90000;
  const by_deadline = (promise) => Promise.race(
      [promise, new Promise(r => setTimeout(r, Math.max(0, deadline - Date.now())))]);
  await by_deadline(panel.context.ready);
  await by_deadline(panel.sessionContext.ready);
  const kernel = () => panel.sessionContext.session && panel.sessionContext.session.kernel;
  while (!(kernel() && kernel().status === 'idle') && Date.now() < deadline) {
    await new Promise(r => setTimeout(r, 100));
  }
  await new Promise(r => setTimeout(r, 1500));  // the kernel's info reply reaches the notebook's metadata
  return {dirty: panel.context.model.dirty, tab: panel.title.className,
          language_info: panel.context.model.getMetadata('language_info') || null,
          kernel: kernel() ? kernel().status : 'none'};
}
"""
# Runs in the page: type each answer into its cell (by nbgrader grade id), run every cell, save; report the outputs.
ANSWER_AND_RUN = """
async (answers) => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  for (const cell of panel.content.widgets) {
    const id = (cell.model.getMetadata('nbgrader') || {}).grade_id;
    if (id in answers) cell.model.sharedModel.setSource(answers[id]);
  }
  await app.commands.execute('notebook:run-all-cells');
  const deadline = Date.now() + 120000;
  const cells = () => panel.content.widgets.filter(c => c.model.type === 'code');
  const kernel = () => panel.sessionContext.session && panel.sessionContext.session.kernel;
  while (!(kernel() && kernel().status === 'idle' && cells().every(c => c.model.executionCount !== null))
         && Date.now() < deadline) {
    await new Promise(r => setTimeout(r, 100));
  }
  await panel.context.save();
  return {dirty: panel.context.model.dirty,
          text: JSON.stringify(cells().map(c => c.model.outputs.toJSON()))};
}
"""
SOURCES = "() => window.jupyterapp.shell.currentWidget.content.widgets.map(c => c.model.sharedModel.getSource())"


def git(cwd, *args):
    """Run git quietly in `cwd` (as a fixed author); fail with its output."""
    done = subprocess.run(["git", "-c", "user.name=Course", "-c", "user.email=course@example.org", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout


def open_fresh(page, base, path):
    """Open `path` (relative to the served folder): the first time in a reset workspace of its own, then in the same
    JupyterLab page, as a learner opens one notebook after another (open_notebook's in_place); report as OPENED
    does."""
    open_notebook(page, base, TOKEN, path, in_place=True)
    return page.evaluate(OPENED)


def kernels(base):
    with urllib.request.urlopen(f"{base}/api/kernels?token={TOKEN}", timeout=10) as response:
        return json.loads(response.read())


def answers_from_solution():
    """The worked solution's answer cells, by nbgrader grade id: what a learner who got it right would type."""
    cells = json.loads((ROOT / SOLUTION).read_text())["cells"]
    return {cell["metadata"]["nbgrader"]["grade_id"]: "".join(cell["source"]) for cell in cells
            if cell["metadata"].get("nbgrader", {}).get("solution")}


def add_markdown(path, text):
    """Append a markdown cell to a notebook file: a course correction."""
    nb = json.loads(path.read_text())
    nb["cells"].append({"cell_type": "markdown", "id": f"correction-{len(nb['cells'])}", "metadata": {},
                        "source": text})
    path.write_text(json.dumps(nb, indent=1) + "\n")


def test_learner_copy_opens_unmodified_and_survives_a_course_update(tmp_path, chromium):
    settings = {"@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False}}
    with serve_lab(tmp_path, TOKEN, settings) as base:
        clone = tmp_path / "course"
        git(clone, "init", "-q", "-b", "main")
        git(clone, "add", "-A")
        git(clone, "commit", "-q", "-m", "the course as the learner cloned it")
        upstream = tmp_path / "upstream"
        git(tmp_path, "clone", "-q", str(clone), str(upstream))
        git(clone, "remote", "add", "origin", str(upstream))
        git(clone, "fetch", "-q", "origin")
        git(clone, "branch", "-q", "--set-upstream-to=origin/main")

        made = subprocess.run([sys.executable, "-m", "logitlab.authoring.workspace", "prepare", "--course",
                               str(clone)], capture_output=True, text=True, timeout=120)
        assert made.returncode == 0, made.stderr
        work = clone / "my-work"
        assert (work / EXERCISE).exists() and (work / "notebooks" / "00-start-here.ipynb").exists()
        assert git(clone, "status", "--porcelain") == "", "git sees the learner's copy: it must be ignored"

        page = new_page(chromium, {"width": 1280, "height": 900})
        try:
            # A lesson opened fresh, its kernel started and idle, is not marked modified.
            opened = open_fresh(page, base, "my-work/notebooks/00-start-here.ipynb")
            assert opened["kernel"] == "idle", opened
            assert opened["dirty"] is False and "jp-mod-dirty" not in opened["tab"], opened
            # Closing its tab shuts its kernel down (the course's kernelShutdown setting).
            assert len(kernels(base)) == 1
            page.evaluate("() => window.jupyterapp.shell.currentWidget.close()")
            page.wait_for_function(f"async () => (await (await fetch('{base}/api/kernels?token={TOKEN}')).json())"
                                   ".length === 0", timeout=30000)

            # The exercise: opened unmodified, answered, run, checks pass, saved.
            opened = open_fresh(page, base, f"my-work/{EXERCISE}")
            assert opened["dirty"] is False, opened
            answers = answers_from_solution()
            ran = page.evaluate(ANSWER_AND_RUN, answers)
            assert ran["dirty"] is False and "✓" in ran["text"] and "Error" not in ran["text"], ran["text"][:2000]
            saved = json.loads((work / EXERCISE).read_text())
            assert all(any(answer == "".join(c["source"]) for c in saved["cells"]) for answer in answers.values())
            page.evaluate("() => window.jupyterapp.shell.currentWidget.close()")

            # The course changes lesson 01 and exercise 01, and adds lesson 09.
            add_markdown(upstream / "notebooks" / "01-math-logit.ipynb", "A correction to lesson 01.")
            add_markdown(upstream / EXERCISE, "A correction to exercise 01.")
            new_lesson = json.loads((upstream / "notebooks" / "00-start-here.ipynb").read_text())
            new_lesson["cells"][0]["source"] = "# A new lesson\n"
            (upstream / "notebooks" / "09-new-lesson.ipynb").write_text(json.dumps(new_lesson, indent=1) + "\n")
            git(upstream, "add", "-A")
            git(upstream, "commit", "-q", "-m", "course update: corrections and a new lesson")

            # The learner takes it with `make update`, on this checkout's environment (never a new install).
            os.symlink(ROOT / ".venv", clone / ".venv")
            dry = subprocess.run(["make", "-n", "update"], cwd=clone, capture_output=True, text=True, timeout=60)
            assert "venv" not in dry.stdout.replace(".venv/bin/python", ""), f"make update would install:\n{dry.stdout}"
            updated = subprocess.run(["make", "-s", "update"], cwd=clone, capture_output=True, text=True, timeout=300)
            assert updated.returncode == 0, updated.stdout + updated.stderr
            told = updated.stdout
            assert "new: notebooks/09-new-lesson.ipynb" in told, told
            assert "updated: notebooks/01-math-logit.ipynb" in told, told
            assert f"kept yours: {EXERCISE}" in told and "01-math-logit.updated.ipynb" in told, told

            # The answers are intact, the course's new exercise is beside them, the new lesson is there.
            opened = open_fresh(page, base, f"my-work/{EXERCISE}")
            assert opened["dirty"] is False, opened
            sources = page.evaluate(SOURCES)
            assert all(answer in sources for answer in answers.values()), sources
            assert not any("A correction" in source for source in sources)
            beside = json.loads((work / "exercises" / "01-math-logit.updated.ipynb").read_text())
            assert beside["cells"][-1]["source"] == "A correction to exercise 01."
            page.evaluate("() => window.jupyterapp.shell.currentWidget.close()")
            opened = open_fresh(page, base, "my-work/notebooks/09-new-lesson.ipynb")
            assert opened["dirty"] is False, opened
            assert page.evaluate(SOURCES)[0] == "# A new lesson\n"
            page.evaluate("() => window.jupyterapp.shell.currentWidget.close()")
            opened = open_fresh(page, base, "my-work/notebooks/01-math-logit.ipynb")
            assert opened["dirty"] is False, opened
            assert page.evaluate(SOURCES)[-1] == "A correction to lesson 01."
        finally:
            page.close()


# The update rules, without a browser (workspace.prepare and workspace.update on a small course in tmp_path).

def small_course(root):
    """A course of two notebooks and a README, as the repository lays them out."""
    for rel in ("notebooks/00-start-here.ipynb", "exercises/01-math-logit.ipynb"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text((ROOT / rel).read_text())
    (root / "README.md").write_text("# course\n")
    return root


def edit(path, change):
    """Change a notebook file as JupyterLab would save it: `change(nb)`, then written with another layout."""
    nb = json.loads(path.read_text())
    change(nb)
    path.write_text(json.dumps(nb))


def first_cell(nb, text):
    nb["cells"][0]["source"] = text


def test_update_rules(tmp_path):
    from logitlab.authoring import workspace

    course, work = small_course(tmp_path / "course"), tmp_path / "work"
    workspace.prepare(course, work)
    lesson, exercise = work / "notebooks/00-start-here.ipynb", work / "exercises/01-math-logit.ipynb"
    stored = json.loads(lesson.read_text())["metadata"]["language_info"]
    assert stored == workspace.kernel_language_info() and stored["version"] == sys.version.split()[0]
    assert json.loads((course / "notebooks/00-start-here.ipynb").read_text())["metadata"]["language_info"] == \
        {"name": "python"}, "the course itself pins no Python version"

    # The learner runs the lesson (outputs change, JupyterLab's layout) and answers the exercise.
    edit(lesson, lambda nb: nb["cells"][3].update(outputs=[], execution_count=7))
    edit(exercise, lambda nb: first_cell(nb, "my answer"))
    (work / "README.md").unlink()
    # The course corrects both and adds a lesson.
    edit(course / "notebooks/00-start-here.ipynb", lambda nb: first_cell(nb, "# corrected lesson"))
    edit(course / "exercises/01-math-logit.ipynb", lambda nb: first_cell(nb, "corrected exercise"))
    (course / "notebooks/09-new.ipynb").write_text((course / "notebooks/00-start-here.ipynb").read_text())

    told = "\n".join(workspace.update(course, work))
    assert "new: notebooks/09-new.ipynb" in told and "new: README.md (you had deleted it)" in told, told
    assert "updated: notebooks/00-start-here.ipynb" in told, told
    assert "kept yours: exercises/01-math-logit.ipynb" in told and "01-math-logit.updated.ipynb" in told, told
    assert json.loads(lesson.read_text())["cells"][0]["source"] == "# corrected lesson"
    assert json.loads(exercise.read_text())["cells"][0]["source"] == "my answer"
    beside = work / "exercises/01-math-logit.updated.ipynb"
    assert json.loads(beside.read_text())["cells"][0]["source"] == "corrected exercise"

    # Nothing new: nothing happens. The learner works in the .updated copy; the next correction goes beside it.
    assert "already up to date" in "\n".join(workspace.update(course, work))
    edit(beside, lambda nb: first_cell(nb, "my answer, take two"))
    edit(course / "exercises/01-math-logit.ipynb", lambda nb: first_cell(nb, "corrected again"))
    told = "\n".join(workspace.update(course, work))
    assert "01-math-logit.updated-2.ipynb" in told, told
    assert json.loads(beside.read_text())["cells"][0]["source"] == "my answer, take two"
    assert json.loads(exercise.read_text())["cells"][0]["source"] == "my answer"


def test_unreadable_copy_and_record(tmp_path):
    from logitlab.authoring import workspace

    course, work = small_course(tmp_path / "course"), tmp_path / "work"
    workspace.prepare(course, work)
    # A copy that is no longer a notebook counts as the learner's: never overwritten.
    (work / "exercises/01-math-logit.ipynb").write_text("{not json")
    edit(course / "exercises/01-math-logit.ipynb", lambda nb: first_cell(nb, "corrected"))
    assert "kept yours: exercises/01-math-logit.ipynb" in "\n".join(workspace.update(course, work))
    assert (work / "exercises/01-math-logit.ipynb").read_text() == "{not json"
    # A damaged record stops the update with what to do, not a traceback.
    (work / ".course.json").write_text('{"files": {"README.md": 3}}')
    with pytest.raises(SystemExit, match="is damaged.*Move it away"):
        workspace.update(course, work)


def test_answers_in_the_repository_stay_the_learners(tmp_path):
    """A learner who answered in the repository's exercises/ before my-work existed: the copy keeps the answer, and a
    course update writes the course's version beside it instead of replacing it."""
    from logitlab.authoring import workspace

    course = small_course(tmp_path / "course")
    git(course, "init", "-q", "-b", "main")
    git(course, "add", "-A")
    git(course, "commit", "-q", "-m", "course")
    edit(course / "exercises/01-math-logit.ipynb", lambda nb: first_cell(nb, "answered in the repository"))
    work = course / "my-work"
    workspace.prepare(course, work)
    git(course, "checkout", "-q", "--", "exercises")  # the learner makes way for a git pull
    edit(course / "exercises/01-math-logit.ipynb", lambda nb: first_cell(nb, "the course's correction"))
    told = "\n".join(workspace.update(course, work))
    assert "kept yours: exercises/01-math-logit.ipynb" in told, told
    assert json.loads((work / "exercises/01-math-logit.ipynb").read_text())["cells"][0]["source"] == \
        "answered in the repository"


def test_new_python_restamps_the_copy(tmp_path):
    from logitlab.authoring import workspace

    course, work = small_course(tmp_path / "course"), tmp_path / "work"
    workspace.prepare(course, work)
    record = json.loads((work / ".course.json").read_text())
    record["language_info"]["version"] = "3.10.0"  # as if .venv had been made with another Python
    (work / ".course.json").write_text(json.dumps(record))
    edit(work / "notebooks/00-start-here.ipynb", lambda nb: nb["metadata"]["language_info"].update(version="3.10.0"))
    workspace.prepare(course, work)
    stored = json.loads((work / "notebooks/00-start-here.ipynb").read_text())["metadata"]["language_info"]
    assert stored == workspace.kernel_language_info()
