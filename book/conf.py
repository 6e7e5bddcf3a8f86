"""Sphinx configuration of the course's book (`make book`; see logitlab/authoring/book.py).

The source tree is written by `logitlab.authoring.book.write_sources` from the stored notebooks;
nothing is executed, and nothing is loaded from another host when a page is read.

One configuration for both editions: `make book` builds the Chinese one with `-D language=zh_CN` into the
English site's `zh-CN/` folder (`edition_settings` below), and every page gets a language switch that leads to
the same page in the other edition (`templates/edition-switch.html`, filled in by `edition_switch`).
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
    "article_header_end": ["edition-switch.html", "article-header-buttons.html"],
}
templates_path = ["templates"]
html_static_path = ["static"]  # and the source tree's _static/ (MathJax, copied there by write_sources): see setup()
html_css_files = ["edition-switch.css"]
mathjax_path = "mathjax/tex-chtml.js"
html_last_updated_fmt = None
html_copy_source = False
html_show_sourcelink = False


# Per edition: where the other edition's pages are (from this one's root), its language tag, the switch's words.
OTHER_EDITION = {"en": ("zh-CN/", "zh-CN", "中文", "这一页的中文版"),
                 "zh_CN": ("../", "en", "English", "This page in English")}
# The jieba user dictionary the Chinese source tree carries (logitlab/authoring/book.py, SEARCH_WORDS).
SEARCH_WORDS = "search-words.txt"


def edition_settings(app, config):
    """Serve the source tree's _static/ folder, wherever `make book` or a test wrote the tree; in the Chinese
    edition, title the site in Chinese and give the search's word splitter (jieba) the glossary's terms."""
    config.html_static_path.append(str(Path(app.srcdir) / "_static"))
    if config.language == "zh_CN":
        config.html_title = "Logits Lab 中文版"
        # The theme's one string without a Chinese translation (pydata-sphinx-theme has no zh_CN catalog).
        config.html_theme_options = dict(config.html_theme_options, search_bar_text="搜索本书…")
        config.html_js_files = [*config.html_js_files, "sphinx-zh-messages.js"]  # see the file
        config.html_search_options = {"dict": str(Path(app.srcdir) / SEARCH_WORDS)}


def edition_switch(app, pagename, templatename, context, doctree):
    """The link from this page to the same page in the other edition (both editions have the same page names)."""
    other, tag, label, title = OTHER_EDITION[app.config.language]
    href = "../" * pagename.count("/") + other + pagename + ".html"
    context["edition_switch"] = {"href": href, "lang": tag, "label": label, "title": title}
    context["metatags"] = context.get("metatags", "") + f'\n<link rel="alternate" hreflang="{tag}" href="{href}">'


def setup(app):
    """Connect the edition's settings and the language switch."""
    app.connect("config-inited", edition_settings)
    app.connect("html-page-context", edition_switch)
