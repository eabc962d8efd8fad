"""The committed page in a real browser: it draws the graph from disk with no network."""
from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from .conftest import ROOT, require_tool

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--virtual-time-budget=5000",
]


def rendered_dom(page: Path) -> str:
    chromium = require_tool("chromium")
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.resolve().as_uri()],
            capture_output=True, text=True, timeout=120,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.slow
def test_the_committed_page_draws_the_seeds_graph_offline() -> None:
    dom = rendered_dom(ROOT / "output" / "graph.html")
    # vis-network ran (it creates its canvas) and the page's own script filled the status line.
    assert "<canvas" in dom
    status = re.search(r"Showing (\d+) entities and (\d+) facts that pass the filters\.", dom)
    assert status is not None, "the page's script did not run"
    assert int(status.group(1)) >= 15 and int(status.group(2)) >= 10
    # Nothing is loaded from outside the file: no external src, href or CSS import.
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", dom)
    assert "@import" not in dom
