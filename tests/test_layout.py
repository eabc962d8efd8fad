"""Paragraphs and headlines in both layouts news comes in."""
from __future__ import annotations

import pytest

from kg import pipeline
from kg.layout import hard_wrapped, heading_lines, paragraph_starts

WEB = (
    "Northwind Traders Buys a Rival\n"
    "By Staff Writer\n"
    "Northwind Traders has agreed to acquire Fabrikam Robotics for $2 billion, the company said on Monday in a statement.\n"
    "The Deal in Numbers\n"
    "The purchase is the largest in the company's history and is expected to close by the end of the year, analysts said.\n"
)
WIRE = (
    "NORTHWIND TO BUY FABRIKAM\n"
    "\n"
    "Northwind Traders Inc said it has agreed\n"
    "to acquire Fabrikam Robotics Corp of Denver, Colo., for\n"
    "about 2.1 billion dlrs in cash and stock.\n"
    "    The company said the transaction is subject to\n"
    "approval by Fabrikam shareholders and regulators.\n"
)


def test_web_layout_has_a_paragraph_per_line_and_headlines_apart() -> None:
    assert not hard_wrapped(WEB)
    lines = WEB.splitlines(keepends=True)
    assert len(paragraph_starts(WEB)) == len(lines)
    assert [WEB[start:end].strip() for start, end in heading_lines(WEB)] == ["Northwind Traders Buys a Rival", "By Staff Writer", "The Deal in Numbers"]


def test_hard_wrapped_newswire_has_paragraphs_over_several_lines() -> None:
    assert hard_wrapped(WIRE)
    starts = [WIRE[start:].split("\n", 1)[0].strip() for start in paragraph_starts(WIRE)]
    assert starts == ["NORTHWIND TO BUY FABRIKAM", "Northwind Traders Inc said it has agreed", "The company said the transaction is subject to"]
    assert [WIRE[start:end].strip() for start, end in heading_lines(WIRE)] == ["NORTHWIND TO BUY FABRIKAM"]


@pytest.mark.slow
def test_a_sentence_wrapped_over_lines_is_one_piece_of_evidence() -> None:
    graph = pipeline.build(texts={"wire": WIRE})
    (claim,) = [c for c in graph.resolution.claims if c.relation == "acquired"]
    assert claim.evidence[0].span.text.startswith("Northwind Traders Inc said it has agreed\nto acquire Fabrikam Robotics Corp")
    assert claim.evidence[0].span.text.endswith("in cash and stock.")
