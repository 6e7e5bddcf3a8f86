"""Shared test fixtures. Under CI=true a skipped test fails the run: green must mean everything ran.

The browser tests (BROWSER_MODULES below) share one harness: `serve_lab` (tests/helpers.py) runs JupyterLab on a
copy of the repository, `browser` is headless Chromium driven by Playwright's sync API.
"""

import collections
import fcntl
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import CHROMIUM_FLAGS, IN_CI, PROJECTOR_VIEW, ROOT, chromium_path, require


# The modules that drive Chromium (the `chromium` fixture checks that its module is listed here).
BROWSER_MODULES = ("test_browser.py", "test_slideshow.py", "test_book.py", "test_grading_class.py",
                   "test_learner_copy.py", "test_browser_zh.py", "test_grading_report.py")
# The ones that also start JupyterLab and run lessons in it, the suite's longest chain, in two work units with a
# JupyterLab each, run side by side by two of `make test`'s three pytest-xdist workers: test_browser.py's lessons
# split by number (each half starts its own server; its `ran` fixture is per lesson anyway), with the other
# JupyterLab modules. Balanced by --durations (lesson 07 trains a model in the browser: the later half is longer).
LAB_UNITS = {
    "JupyterLab: lessons 00-04, Chinese, learner's copy": ("test_browser.py[0-4]", "test_browser_zh.py",
                                                            "test_learner_copy.py"),
    "JupyterLab: lessons 05-09, slideshow": ("test_browser.py[5-9]", "test_slideshow.py"),
}
# The work units handed out first, longest first (measured with --durations=0, see CONTRIBUTING.md), so that
# what is left at the end is short. (xdist's own order, most tests first, would start a long unit of few tests
# last: test_grading_dask.py's six tests took the run's last 40 s.)
LONG_UNITS = (*reversed(LAB_UNITS), "tests/test_grading.py", "tests/test_grading_sandbox.py",
              "tests/test_grading_report.py", "tests/test_book.py", "tests/test_grading_dask.py",
              "tests/test_grading_class.py", "tests/test_lab.py", "tests/test_widgets.py", "tests/test_exercises.py",
              "tests/test_package.py")
# What each module needs, for `-m "not browser"` and `make test-fast` (pyproject.toml lists the markers).
MODULE_MARKS = {
    "test_browser.py": ("browser", "kernel"),
    "test_browser_zh.py": ("browser", "kernel"),  # the Chinese edition, with JupyterLab's zh-CN language pack
    "test_slideshow.py": ("browser", "kernel"),
    "test_lab.py": ("kernel",),  # `make lab`: a JupyterLab server
    "test_grading.py": ("grading", "kernel"),  # nbgrader and the sandbox run each submission in a kernel
    "test_grading_sandbox.py": ("grading", "kernel"),
    "test_grading_class.py": ("browser", "grading", "kernel"),
    "test_grading_report.py": ("browser", "grading", "kernel"),
    "test_grading_dask.py": ("grading", "kernel"),  # a Dask scheduler and two workers grade in sandboxed kernels
    "test_learner_copy.py": ("browser", "kernel"),
    "test_book.py": ("browser",),  # builds the book and reads it in Chromium
}
# Fixtures that bring a cost with them, wherever they are used.
FIXTURE_MARKS = {"chromium": ("browser", "kernel"), "tf": ("tensorflow",)}
# Tests that run notebooks in kernels inside an otherwise quick module.
KERNEL_TESTS = ("test_exercise_runs_to_the_end_and_reports_each_task_unanswered",)


def marks_for(item):
    """The markers of what a test needs: by its module, its fixtures, a notebook cell, TensorFlow in its module."""
    names = set(MODULE_MARKS.get(item.path.name, ()))
    for fixture in getattr(item, "fixturenames", ()):
        names.update(FIXTURE_MARKS.get(fixture, ()))
    if item.path.suffix == ".ipynb" or getattr(item, "originalname", None) in KERNEL_TESTS:
        names.add("kernel")  # nbval runs each notebook in a kernel
    if getattr(getattr(getattr(item, "module", None), "tf", None), "__name__", "") == "tensorflow":
        names.add("tensorflow")  # `tf = pytest.importorskip("tensorflow")` at the top of the module
    return names


def work_unit(nodeid):
    """The pytest-xdist work unit of a test: its JupyterLab unit (LAB_UNITS), or else its module or notebook."""
    module = nodeid.split("::", 1)[0]
    name = module.rsplit("/", 1)[-1]
    if name == "test_browser.py" and "[" in nodeid:  # test_browser.py::test_...[07-training-with-logits]
        name += "[0-4]" if int(nodeid.rsplit("[", 1)[1][:2]) <= 4 else "[5-9]"
    return next((unit for unit, members in LAB_UNITS.items() if name in members), module)


def pytest_collection_modifyitems(config, items):
    """Mark each test by what it needs (pyproject.toml lists the markers), then put the longest work units first
    (LONG_UNITS) and the rest in xdist's order (most tests first): under `--no-loadscope-reorder` the workers take
    the units in collection order, and the short ones left at the end even them out."""
    for item in items:
        for name in sorted(marks_for(item)):
            item.add_marker(name)
    units = {item: work_unit(item.nodeid) for item in items}
    size = collections.Counter(units.values())
    seen = {unit: index for index, unit in enumerate(dict.fromkeys(units.values()))}
    long_first = {unit: rank for rank, unit in enumerate(LONG_UNITS)}
    # A stable sort: a notebook's cells stay in order.
    items.sort(key=lambda item: (long_first.get(units[item], len(long_first)), -size[units[item]], seen[units[item]]))


def pytest_xdist_make_scheduler(config, log):
    """Under `--dist loadscope`, a work unit is a test's `work_unit`: the two LAB_UNITS join several modules.

    Not `--dist loadgroup` with `xdist_group` marks, the public way: with pytest 9.2 it groups nothing (xdist 3.8
    appends the group to `item._nodeid`, which pytest 9.2's structured node ids no longer read; pytest-xdist issue
    #1386), so a notebook's cells were spread over the workers and failed. `_split_scope` is the method
    LoadScopeScheduling's own subclasses (loadfile, loadgroup) override to say what a unit is.
    """
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByWorkUnit(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return work_unit(nodeid)

    return ByWorkUnit(config, log)


@pytest.fixture(scope="module")
def chromium(request, tmp_path_factory):
    """Headless system Chromium driven by Playwright (its own browser download does not work here): one persistent
    context, its profile in a temporary folder, in which the module's tests open their tabs (helpers.new_page).

    Persistent rather than Playwright's usual incognito contexts because Chromium then keeps what it fetched and the
    scripts it compiled (V8's code cache) from one page load to the next, as a learner's browser does: a RISE
    slideshow page costs about 5 core-seconds of Chromium instead of 6.6 (measured here, five lessons' slideshows
    in turn; a JupyterLab page load costs about 5.5 either way). Tabs a page opens itself (RISE's slideshow) get
    the context's size, a projector's 1280x720.

    Module scope, on purpose: between two calls Playwright's sync API leaves its asyncio loop marked as running
    in this thread (playwright/_impl/_greenlets.py, wait_for_future), so while it is alive a second
    sync_playwright() fails ("Playwright Sync API inside the asyncio loop") and asyncio code of other tests on the
    same worker (nbval's and nbclient's kernel clients) finds a running loop that is not theirs. Closed at the end
    of each browser module, it is never alive outside one, whichever modules pytest-xdist puts on a worker.
    """
    path = chromium_path()
    require(path, "Chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    if Path(request.module.__file__).name not in BROWSER_MODULES:
        pytest.fail(f"{request.module.__name__} uses the browser: add it to BROWSER_MODULES in tests/conftest.py")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            tmp_path_factory.mktemp("chromium-profile"), executable_path=path, args=CHROMIUM_FLAGS,
            viewport=PROJECTOR_VIEW)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="session")
def handouts(tmp_path_factory, testrun_uid):
    """`make slides` into a scratch folder, once per `make test` run: one real nbconvert run over every lesson
    (reveal.js and MathJax copied beside the pages from npm's packages). test_lecture and test_slideshow read it,
    on whichever pytest-xdist workers: the first to ask builds it under a file lock, the other waits and reads."""
    shared = tmp_path_factory.getbasetemp().parent / f"handouts-{testrun_uid}"  # beside every worker's basetemp
    with open(f"{shared}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / ".built").is_file():
            shutil.rmtree(shared, ignore_errors=True)  # a build that failed half-way is built again
            result = subprocess.run([sys.executable, "-m", "logitlab", "slides", "--out", str(shared)], cwd=ROOT,
                                    capture_output=True, text=True, timeout=900)
            assert result.returncode == 0, result.stderr
            (shared / ".built").touch()
    return shared


@pytest.fixture(scope="session")
def root():
    return ROOT


def pytest_sessionfinish(session, exitstatus):
    """Under CI=true, any skipped test (a missing tool, a stray skip marker) fails the run."""
    if not IN_CI:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(f"CI=true: {len(skipped)} test(s) were skipped; that fails CI", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
