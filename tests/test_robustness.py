"""Bad files, interrupted runs and concurrent builds never cost a user their graph."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rdflib import Graph

from .conftest import ROOT

GOOD = "Northwind Traders invested $40 million in Fabrikam Robotics on Monday.\n"


def kg(*args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kg", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and ".lock" not in p.name}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty (no text)"),
        ("blank.txt", b"  \n\t\n", "empty (no text)"),
        ("paper.txt", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF file, not text"),
        ("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image, not text"),
        ("latin.txt", b"Caf\xe9 Northwind", "not valid UTF-8 at byte offset 3"),
    ],
)
def test_a_bad_file_is_skipped_with_one_warning_and_the_build_goes_on(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "good.txt").write_text(GOOD)
    (tmp_path / "in" / name).write_bytes(content)
    result = kg("build", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--quiet", "--no-cache")
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and name in warnings[0] and reason in warnings[0]
    assert name in (tmp_path / "out" / "report.md").read_text()
    graph = Graph().parse(tmp_path / "out" / "graph.ttl")
    assert len(list(graph.subjects(None, None))) > 0
    strict = kg("build", str(tmp_path / "in"), "-o", str(tmp_path / "strict"), "--strict", "--no-cache")
    assert strict.returncode == 1 and "--strict" in strict.stderr
    assert not (tmp_path / "strict" / "graph.ttl").exists()


def test_nothing_usable_is_a_clear_failure(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "empty.txt").write_bytes(b"")
    result = kg("build", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--no-cache")
    assert result.returncode == 1
    assert "no readable article" in result.stderr and "empty.txt" in result.stderr


@pytest.mark.slow
def test_another_encoding_is_read_when_asked(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "latin.txt").write_bytes(("Caf\u00e9 Noir SA invested $3 million in Fabrikam Robotics.\n").encode("latin-1"))
    result = kg("build", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--encoding", "latin-1", "--no-cache", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "Caf\u00e9 Noir SA" in (tmp_path / "out" / "graph.ttl").read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_file_over_the_size_limit_is_refused_naming_the_limit(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "good.txt").write_text(GOOD)
    with open(tmp_path / "in" / "huge.txt", "wb") as file:
        file.truncate(50_000_000)  # a 50 MB file (sparse: no disk needed)
    result = kg("build", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--quiet", "--no-cache")
    assert result.returncode == 0, result.stderr
    assert "huge.txt: 50,000,000 bytes is over the limit of 20,000,000 bytes per file (--max-bytes)" in result.stderr


@pytest.mark.slow
def test_a_second_build_into_the_same_folder_is_refused_while_the_first_runs(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    for n in range(40):
        (tmp_path / "in" / f"a{n}.txt").write_text(GOOD * 30)
    first = subprocess.Popen([sys.executable, "-m", "kg", "build", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--quiet", "--no-cache", "--workers", "1"], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "out" / ".lock").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        second = kg("build", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--quiet", "--no-cache")
        assert second.returncode == 1
        assert "is being written by another kg build (process" in second.stderr
    finally:
        _, stderr = first.communicate(timeout=600)
    assert first.returncode == 0, stderr
    assert (tmp_path / "out" / "graph.ttl").exists()


@pytest.mark.slow
@pytest.mark.parametrize("signal_number", [signal.SIGKILL, signal.SIGINT])
def test_a_build_killed_midway_leaves_the_previous_output_untouched(tmp_path: Path, signal_number: int) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "first.txt").write_text(GOOD)
    assert kg("build", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--quiet").returncode == 0
    before = snapshot(tmp_path / "out")
    for n in range(60):
        (tmp_path / "in" / f"more{n}.txt").write_text(f"Litware Inc. partnered with Trey Research {n} to build battery packs.\n" * 40)
    build = subprocess.Popen([sys.executable, "-m", "kg", "build", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--quiet", "--workers", "1"], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    cache = tmp_path / "out" / ".cache"
    deadline = time.monotonic() + 120
    while len(list(cache.glob("*/*.json"))) < 3 and time.monotonic() < deadline:  # well into parsing
        time.sleep(0.05)
    os.kill(build.pid, signal_number)
    _, stderr = build.communicate(timeout=120)
    assert build.returncode != 0
    if signal_number == signal.SIGINT:
        assert "interrupted" in stderr
    assert snapshot(tmp_path / "out") == {k: v for k, v in snapshot(tmp_path / "out").items() if k.startswith(".cache/")} | before
    after = kg("build", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--quiet")
    assert after.returncode == 0, after.stderr
    assert "Trey Research" in (tmp_path / "out" / "graph.ttl").read_text()


def test_an_unreadable_file_is_skipped_naming_the_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kg import pipeline

    (tmp_path / "good.txt").write_text(GOOD)
    (tmp_path / "secret.txt").write_text(GOOD)
    real_read_bytes = Path.read_bytes

    def read_bytes(path: Path) -> bytes:
        if path.name == "secret.txt":  # chmod cannot lock out root, who runs CI
            raise PermissionError(13, "Permission denied")
        return real_read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    graph = pipeline.build([tmp_path])
    assert [doc.id for doc in graph.resolution.documents] == ["good"]
    assert graph.skipped == [((tmp_path / "secret.txt").as_posix(), "cannot read file (Permission denied)")]


@pytest.mark.slow
def test_nested_folders_symlinks_and_a_symlink_loop_read_each_article_once(tmp_path: Path) -> None:
    articles = tmp_path / "in"
    (articles / "2026" / "march").mkdir(parents=True)
    (articles / "2026" / "march" / "deal.txt").write_text(GOOD)
    (articles / "2026" / "loop").symlink_to(articles, target_is_directory=True)  # in/2026/loop -> in
    (articles / "linked.txt").symlink_to(articles / "2026" / "march" / "deal.txt")
    (articles / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    result = kg("build", str(articles), "-o", str(tmp_path / "out"), "--no-cache", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["sources"] == 1 and summary["skipped"] == []
    assert "Fabrikam Robotics" in (tmp_path / "out" / "graph.ttl").read_text()
