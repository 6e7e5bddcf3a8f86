"""What several test modules share and is not a fixture: the repository's root, skipping only outside CI, a free
port. Test modules import these from here, never from each other (conftest.py re-exports them for older imports)."""

import os
import socket
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
