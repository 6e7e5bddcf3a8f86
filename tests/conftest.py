"""Shared test fixtures. Under CI=true a skipped test fails the run: green must mean everything ran.

The browser tests (BROWSER_MODULES below) share one harness: `serve_lab` (tests/helpers.py) runs JupyterLab on a
copy of the repository, `browser` is headless Chromium driven by Playwright's sync API.
"""

import subprocess
import sys
from pathlib import Path

import pytest

import logitlab  # noqa: F401  first: its import sets TensorFlow's quiet, oneDNN-off settings for tests and kernels
# Re-exported: older tests and benches import these from here (tests/helpers.py is their home).
from helpers import CHROMIUM_FLAGS, IN_CI, NOT_SERVED, ROOT, chromium_path, free_port, require, serve_lab  # noqa: F401


# The modules that start JupyterLab and Chromium. `make test` runs them one after another on one pytest-xdist
# worker, never two JupyterLabs, two Chromiums and their kernels at once on two cores. (A file lock did the same
# but held its worker idle while the other ran a browser module.)
BROWSER_MODULES = ("test_browser.py", "test_slideshow.py", "test_book.py", "test_grading_class.py",
                   "test_learner_copy.py", "test_browser_zh.py",
                   "test_grading_report.py")
BROWSER_UNIT = "browser modules"
# The work units that take longest besides the browser unit, longest first (measured with --durations=0, see
# CONTRIBUTING.md): started first on the other worker, so that what is left when the browser unit ends is short.
# (xdist's own order, most tests first, would leave test_lab.py's two 30-second tests for the very end.)
LONG_UNITS = ("tests/test_grading.py", "tests/test_grading_sandbox.py", "tests/test_exercises.py",
              "tests/test_package.py", "tests/test_lab.py")
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
FIXTURE_MARKS = {"browser": ("browser", "kernel"), "tf": ("tensorflow",)}
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


def pytest_collection_modifyitems(config, items):
    """Mark each test by what it needs (pyproject.toml lists the markers)."""
    for item in items:
        for name in sorted(marks_for(item)):
            item.add_marker(name)


def pytest_xdist_make_scheduler(config, log):
    """Under `--dist loadscope`, put every browser module in one work unit, so one worker runs them in turn, and hand
    out the longest units first: the browser unit (the suite's critical path) at once, then LONG_UNITS, then the
    rest (xdist's order: most tests first). The short units left at the end even out the two workers."""
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class BrowserModulesFirst(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            module = nodeid.split("::", 1)[0]
            return BROWSER_UNIT if module.rsplit("/", 1)[-1] in BROWSER_MODULES else super()._split_scope(nodeid)

        def _assign_work_unit(self, node):
            for scope in reversed((BROWSER_UNIT, *LONG_UNITS)):
                if scope in self.workqueue:
                    self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

    return BrowserModulesFirst(config, log)


@pytest.fixture(scope="module")
def browser(request):
    """Headless system Chromium driven by Playwright (its own browser download does not work here).

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
        chromium = p.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def handouts(tmp_path_factory):
    """`make slides` into a scratch folder, once per test process: one real nbconvert run over every lesson
    (reveal.js and MathJax copied beside the pages from npm's packages). test_lecture and test_slideshow read it."""
    out = tmp_path_factory.mktemp("handouts")
    result = subprocess.run([sys.executable, "-m", "logitlab", "slides", "--out", str(out)], cwd=ROOT,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    return out


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
