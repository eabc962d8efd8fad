"""Shared fixtures: the project root, and graphs built once per test session."""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kg import pipeline
from kg.pipeline import KnowledgeGraph

ROOT = Path(__file__).resolve().parents[1]


def require_tool(name: str) -> str:
    """The path of a system tool; skips without it, but fails in CI, where .ci/run installs it."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not installed: .ci/run must install it")
        pytest.skip(f"{name} is not installed")
    return path


@pytest.fixture(scope="session")
def seeds_output() -> Iterator[Path]:
    """The seeds' graph built afresh as the README's command builds it: from the project
    root, into a folder beside output/ (so the page's links to the sources match)."""
    output = Path(tempfile.mkdtemp(prefix=".test-build-", dir=ROOT))
    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        pipeline.build(["seeds"]).write(output)
    finally:
        os.chdir(cwd)
    yield output
    shutil.rmtree(output, ignore_errors=True)


@pytest.fixture(scope="session")
def build_texts() -> Callable[..., KnowledgeGraph]:
    """Build a graph from texts keyed by document id."""

    def build(**texts: str) -> KnowledgeGraph:
        return pipeline.build(texts=texts)

    return build
