"""The seeds' graph holds the line against the gold, and kg eval agrees with the
independent scorer."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

GOLD = ROOT / "tests" / "data" / "seeds.gold.jsonl"
SCORER = ROOT.parent / "shared" / "tools" / "score_kg.py"


def kg_eval(graph: Path) -> dict:
    result = subprocess.run([sys.executable, "-m", "kg", "eval", str(GOLD), "--graph", str(graph), "--json"], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


@pytest.mark.slow
def test_a_fresh_build_of_the_seeds_meets_the_quality_bar(seeds_output: Path) -> None:
    score = kg_eval(seeds_output)
    assert score["micro"]["f"] >= 0.85 and score["micro"]["p"] >= 0.90, score["micro"]
    assert score["entities"]["f"] >= 0.90, score["entities"]
    assert score["entities"]["typed_f"] >= 0.85, score["entities"]


@pytest.mark.slow
def test_kg_eval_agrees_with_the_independent_scorer(seeds_output: Path) -> None:
    if not SCORER.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{SCORER} is missing")
        pytest.skip("../shared/tools/score_kg.py is not beside the project")
    ours = kg_eval(seeds_output / "graph.ttl")
    theirs = json.loads(subprocess.run([sys.executable, str(SCORER), str(seeds_output / "graph.ttl"), str(GOLD), "--json"], capture_output=True, text=True, check=True).stdout)
    for key in ("micro", "relations", "misses", "spurious"):
        assert ours[key] == theirs[key], key
    assert {k: ours["entities"][k] for k in ("p", "r", "f", "typed_f")} == {k: theirs["entities"][k] for k in ("p", "r", "f", "typed_f")}


def test_a_broken_gold_file_names_its_line(tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"id": "a", "entities": [], "relations": []}\n{not json\n')
    result = subprocess.run([sys.executable, "-m", "kg", "eval", str(gold), "--graph", str(ROOT / "output")], capture_output=True, text=True)
    assert result.returncode == 1 and "gold.jsonl:2" in result.stderr
