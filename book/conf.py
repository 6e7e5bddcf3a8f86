"""Sphinx configuration of the course's book (`make book`; see logitlab/authoring/book.py).

The source tree is written by `logitlab.authoring.book.write_sources` from the stored notebooks;
nothing is executed, and nothing is loaded from another host when a page is read.
"""

from pathlib import Path

project = "Logits Lab"
author = "The Logits Lab authors"
copyright = "Logits Lab authors, MIT licence"
language = "en"

extensions = ["myst_nb"]
myst_enable_extensions = ["colon_fence", "dollarmath", "amsmath"]
myst_heading_anchors = 3
nb_execution_mode = "off"  # the stored outputs from `make notebooks` are the pages' outputs
nb_merge_streams = True
# A stored explorer is a picture plus its text repr: show the picture, never "Explorer(...)".
nb_mime_priority_overrides = [("html", "text/plain", None)]
exclude_patterns = ["**.ipynb_checkpoints"]
# A stored traceback that Pygments cannot lex is shown as plain text, which is fine.
suppress_warnings = ["mystnb.unknown_mime_type", "misc.highlighting_failure"]

html_theme = "sphinx_book_theme"
html_title = "Logits Lab"
html_favicon = "favicon.svg"
# Without a stored choice the theme logs "Got invalid theme mode" on a first visit; start in light mode.
html_context = {"default_mode": "light"}
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "show_navbar_depth": 1,
}
html_static_path = []  # the source tree's _static/ (MathJax, copied there by write_sources): see setup()
mathjax_path = "mathjax/tex-chtml.js"
html_last_updated_fmt = None
html_copy_source = False
html_show_sourcelink = False


def setup(app):
    """Serve the source tree's _static/ folder, wherever `make book` or a test wrote the tree."""
    app.connect("config-inited", lambda app, config: config.html_static_path.append(str(Path(app.srcdir) / "_static")))
