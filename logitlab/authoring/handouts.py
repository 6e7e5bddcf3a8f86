"""Handouts: static reveal.js slides of every lesson (`make slides`, `python -m logitlab slides`) that work offline.

nbconvert's slides exporter follows the same slideshow metadata as RISE (`logitlab/authoring/lecture.py`); the
pages load reveal.js, MathJax, jQuery and RequireJS from slides/assets/, copied there from npm packages fetched
once at build time, and leave out the speaker notes and the hint to run a kernel a handout does not have.
"""

from pathlib import Path

from logitlab.authoring import course
from logitlab.authoring.lecture import GENERATED_TAGS

# What a handout needs to run as slides without a network, from npm at build time (`make slides` installs them
# once into .venv/handout-assets; nothing is committed): reveal.js 4 (nbconvert 7's reveal template is written for
# it), MathJax 2 (the template calls MathJax.Hub; its SVG output needs no web fonts, which Chromium will not load
# from file:// pages), and the jQuery and RequireJS the template loads reveal.js with.
HANDOUT_PACKAGES = {"reveal.js": "4.6.1", "mathjax": "2.7.9", "jquery": "3.7.1", "requirejs": "2.3.7"}
HANDOUT_FILES = {  # package -> the paths the handouts load (files or whole folders)
    "reveal.js": ("dist", "plugin/notes"),
    "mathjax": ("MathJax.js", "config/TeX-AMS_SVG-full.js", "config/Safe.js", "extensions", "jax/input/TeX",
                "jax/output/SVG", "jax/element"),
    "jquery": ("dist/jquery.min.js",),
    "requirejs": ("require.js",),
}
ASSETS = "assets"  # the folder beside the handouts, so that slides/ can be copied as a whole
MATHJAX_CONFIG = "TeX-AMS_SVG-full,Safe"
# nbconvert's template also imports mermaid (diagrams, which no lesson has) as a module: an empty one, inline.
NO_MERMAID = "data:text/javascript,export default {initialize() {}};"


def handout_packages(cache=course.ROOT / ".venv" / "handout-assets"):
    """The npm packages of HANDOUT_PACKAGES, installed once into `cache` (npm, from its registry); returns
    the node_modules folder."""
    import shutil
    import subprocess

    modules = cache / "node_modules"
    wanted = [f"{name}@{version}" for name, version in HANDOUT_PACKAGES.items()]
    stamp = cache / "installed.txt"
    if stamp.exists() and stamp.read_text() == " ".join(wanted):
        return modules
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("make slides needs npm (Node.js) to fetch reveal.js and MathJax once for the handouts: "
                           "install Node.js (apt-get install npm, or https://nodejs.org) and run it again")
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run([npm, "install", "--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--prefix",
                    str(cache), *wanted], check=True, stdout=subprocess.DEVNULL)
    stamp.write_text(" ".join(wanted))
    return modules


def copy_handout_assets(out, modules=None):
    """Copy what the handouts load into out/assets/ (skipped when it is there already); returns that folder."""
    import shutil

    modules = modules or handout_packages()
    target = Path(out) / ASSETS
    stamp = target / "versions.txt"
    versions = " ".join(f"{name}@{version}" for name, version in HANDOUT_PACKAGES.items())
    if stamp.exists() and stamp.read_text() == versions:
        return target
    shutil.rmtree(target, ignore_errors=True)
    for package, paths in HANDOUT_FILES.items():
        for path in paths:
            source, dest = modules / package / path, target / package / path
            dest.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, dest)
            else:
                shutil.copy2(source, dest)
    stamp.write_text(versions)
    return target


def slides_exporter():
    """nbconvert's reveal.js exporter pointed at the handouts' own copies of reveal.js, MathJax, jQuery and
    RequireJS, with the speaker notes removed (they are the instructor's, not the student's)."""
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    config = Config()
    config.SlidesExporter.reveal_scroll = True
    config.SlidesExporter.reveal_url_prefix = f"{ASSETS}/reveal.js"
    config.SlidesExporter.reveal_theme = "white"  # its fonts are in reveal.js; "simple" imports Google Fonts
    config.SlidesExporter.mathjax_url = f"{ASSETS}/mathjax/MathJax.js?config={MATHJAX_CONFIG}"
    config.SlidesExporter.require_js_url = f"{ASSETS}/requirejs/require.js"
    config.SlidesExporter.jquery_url = f"{ASSETS}/jquery/dist/jquery.min.js"
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = set(GENERATED_TAGS)  # a handout has no kernel to run
    exporter = SlidesExporter(config=config)
    exporter.mermaid_js_url = NO_MERMAID  # not a configurable trait in nbconvert 7.17
    return exporter


def build_slides(notebook, out, exporter=None):
    """Static reveal.js HTML of one lesson with its stored outputs (pictures included); returns the file.

    `nbconvert --to slides` follows the same slideshow metadata as RISE. The page loads reveal.js and MathJax
    from out/assets/ (`copy_handout_assets`), so slides/ works offline, copied anywhere as a whole.
    """
    body, _ = (exporter or slides_exporter()).from_filename(str(notebook))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    target = out / (Path(notebook).stem + ".slides.html")
    target.write_text(body, encoding="utf-8")
    return target


def build_all_slides(notebooks, out, workers=2):
    """Handouts of several lessons, `workers` at a time (each conversion is a few seconds of pure Python in
    nbconvert, BeautifulSoup and bleach), after copying the assets; returns the files in the order given."""
    from concurrent.futures import ProcessPoolExecutor

    copy_handout_assets(out)
    notebooks = [Path(n) for n in notebooks]
    if workers <= 1 or len(notebooks) <= 1:
        exporter = slides_exporter()  # one exporter for all: its templates load once
        return [build_slides(n, out, exporter) for n in notebooks]
    with ProcessPoolExecutor(max_workers=min(workers, len(notebooks))) as pool:
        return list(pool.map(build_slides, notebooks, [Path(out)] * len(notebooks)))
