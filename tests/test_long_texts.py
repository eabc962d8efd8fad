"""Long articles are parsed in pieces, with every offset still pointing into the text."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg import nlp, pipeline


@given(st.text(alphabet=st.sampled_from("ab .\n"), max_size=400), st.integers(min_value=5, max_value=60))
@settings(max_examples=200, deadline=None)
def test_pieces_reassemble_the_text_and_respect_the_limit(text: str, limit: int) -> None:
    pieces = nlp.chunks(text, limit)
    assert "".join(part for _, part in pieces) == text
    assert all(len(part) <= limit for _, part in pieces)
    assert all(text[offset : offset + len(part)] == part for offset, part in pieces)


@pytest.mark.slow
def test_a_text_longer_than_a_piece_keeps_exact_offsets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nlp, "CHUNK_CHARS", 500)
    paragraphs = [f"Northwind Traders invested ${n} million in Fabrikam Robotics.\n\nThe weather was fine." for n in range(1, 30)]
    text = "\n\n".join(paragraphs)
    assert len(nlp.chunks(text, nlp.CHUNK_CHARS)) >= 5
    graph = pipeline.build(texts={"long": text})
    (claim,) = [c for c in graph.resolution.claims if c.relation == "investsIn"]
    assert len(claim.evidence) >= 25  # the small model misreads the odd repetition
    assert max(e.span.start for e in claim.evidence) > 4 * nlp.CHUNK_CHARS  # found in later pieces too
    for evidence in claim.evidence:
        assert text[evidence.span.start : evidence.span.end] == evidence.span.text
        assert evidence.span.text.startswith("Northwind Traders invested $")
