"""What several test modules share and is not a fixture: the repository's root, skipping only outside CI, a free
port, the fonts a browser drew. Test modules import these from here, never from each other (conftest.py
re-exports them for older imports)."""

import os
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition, what):
    """Skip locally when a tool is missing (saying how to get it); fail under CI=true."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is missing, and under CI=true nothing may be skipped")
    pytest.skip(f"{what} is missing")


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cjk_font_families():
    """The family names (every language's spelling) of the fonts fontconfig has for Chinese, or an empty set."""
    try:
        listed = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout
    except OSError:
        return set()
    return {name.strip() for line in listed.splitlines() for name in line.split(",") if name.strip()}


def rendered_fonts(page, selector):
    """{font family: glyphs drawn} of the text directly inside the first element matching `selector`, as Chromium
    rendered it (the DevTools protocol's CSS.getPlatformFontsForNode: the fonts really used, fallbacks included)."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    finally:
        cdp.detach()
    return {font["familyName"]: font["glyphCount"] for font in fonts}
