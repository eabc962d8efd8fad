"""Text that trips pipelines: whatever comes in, the graph parses, passes its shapes, and
every quote matches its offsets."""
from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Graph

from kg import export, pipeline
from kg.pipeline import KnowledgeGraph
from kg.validate import conforms, validate

TEMPLATES = [
    "{a} invested ${n} million in {b}.",
    "{a} has entered into a partnership with {b}, according to {c}.",
    "{a}, founded in 19{n}, is a unit of {b}.",
    "{c}, chief executive of {a}, said {b} was acquired by {a}.",
    "{a} is known for films such as {b} and {c}.",
]


def assert_sound(graph: KnowledgeGraph, texts: dict[str, str]) -> None:
    """The exports parse in two RDF libraries, the graph conforms, and quotes are exact."""
    turtle = export.turtle(graph.rdf)
    assert len(Graph().parse(data=turtle, format="turtle")) == len(graph.rdf)
    assert len(list(pyoxigraph.parse(turtle, format=pyoxigraph.RdfFormat.TURTLE))) == len(graph.rdf)
    json_ld = Graph().parse(data=export.json_ld(graph.rdf), format="json-ld")
    assert set(json_ld) == set(Graph().parse(data=turtle, format="turtle"))
    assert conforms(validate(graph.rdf)), [str(v) for v in validate(graph.rdf)]
    for claim in graph.resolution.claims:
        for evidence in claim.evidence:
            assert texts[claim.doc_id][evidence.span.start : evidence.span.end] == evidence.span.text


names = st.text(min_size=1, max_size=25).map(lambda s: s.title())
sentences = st.builds(
    lambda template, a, b, c, n: template.format(a=a, b=b, c=c, n=n),
    st.sampled_from(TEMPLATES), names, names, names, st.integers(min_value=10, max_value=99),
)
documents = st.lists(st.one_of(sentences, st.text(max_size=200)), min_size=1, max_size=6).map(lambda parts: " ".join(parts) if len(parts) % 2 else "\n".join(parts))


@pytest.mark.slow
@given(st.dictionaries(st.from_regex(r"[a-z][a-z0-9_-]{0,12}", fullmatch=True), documents, min_size=1, max_size=3))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_random_unicode_through_the_whole_pipeline_gives_a_sound_graph(texts: dict[str, str]) -> None:
    if not any(text.strip() for text in texts.values()):
        texts = {**texts, "filler": "Nothing happened."}
    assert_sound(pipeline.build(texts=texts), texts)


HOSTILE = {
    "no-punctuation": " ".join(["Northwind Traders invested in Fabrikam Robotics and"] * 400),
    "table": "\n".join(f"| Acme {n} | ${n} million | Fabrikam {n} Inc. | 20{n % 30:02d} |" for n in range(300)),
    "repeated": "A" * 10_000 + " Northwind Traders invested $4 million in Fabrikam Robotics. " + "\u00e9" * 10_000,
    "emoji-rtl": "\U0001f680 \u0634\u0631\u0643\u0629 \u05d1\u05e2\u05f4\u05de Northwind Traders \u2764\ufe0f invested $4 million in \u202eFabrikam\u202c Robotics. \U0001f1fa\U0001f1f8",
    "markup-names": 'Acme <script>alert(1)</script> Corp invested $2 million in "Quote" <img src=x onerror=alert(1)> Ltd., according to The `Back` Tick.',
    "crlf": "Northwind Traders Invests\r\n\r\nNorthwind Traders invested $40 million in Fabrikam Robotics.\r\nFabrikam Robotics, a unit of Tailspin Holdings, grew.\r\n",
    "cr": "Northwind Traders invested $40 million in Fabrikam Robotics.\rFabrikam Robotics, a unit of Tailspin Holdings, grew.\r",
    "bom": "\ufeffNorthwind Traders invested $40 million in Fabrikam Robotics.",
    "controls": "Northwind\x00 Traders\x0b invested $40\x1f million in Fabrikam\x7f Robotics.\u2028Next line\u2029.",
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_text_gives_a_sound_graph(name: str) -> None:
    texts = {name: HOSTILE[name]}
    assert_sound(pipeline.build(texts=texts), texts)


@pytest.mark.slow
def test_line_endings_keep_offsets_exact_in_files(tmp_path: Path) -> None:
    texts = {}
    for name in ("crlf", "cr", "bom"):
        (tmp_path / f"{name}.txt").write_bytes(HOSTILE[name].encode("utf-8"))
        texts[name] = HOSTILE[name]
    graph = pipeline.build([tmp_path])
    assert {c.doc_id for c in graph.resolution.claims} == {"crlf", "cr", "bom"}
    assert_sound(graph, texts)


@pytest.mark.slow
def test_a_json_lines_record_with_half_a_surrogate_pair_builds_with_a_replacement_character(tmp_path: Path) -> None:
    # JSON may escape a lone surrogate, which no UTF-8 encoder (spaCy's, pyoxigraph's) takes.
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('{"id": "odd\\udc00", "title": "\\ud800", "text": "Northwind Traders invested $40 million in Fabrikam Robotics. \\ud83d The deal closed \\ud83d\\ude80."}\n')
    graph = pipeline.build([corpus])
    text = "Northwind Traders invested $40 million in Fabrikam Robotics. \ufffd The deal closed \U0001f680."
    (document,) = graph.resolution.documents
    assert (document.id, document.title, document.text) == ("odd\ufffd", "\ufffd", text)
    assert [c.fact[1] for c in graph.resolution.claims] == ["investsIn"]
    assert_sound(graph, {document.id: text})


@pytest.mark.slow
def test_the_same_article_under_two_names_is_two_sources_one_fact(tmp_path: Path) -> None:
    for name in ("copy-a", "copy-b"):
        (tmp_path / f"{name}.txt").write_text("Northwind Traders invested $40 million in Fabrikam Robotics.\n")
    graph = pipeline.build([tmp_path])
    claims = [c for c in graph.resolution.claims if c.relation == "investsIn"]
    assert sorted(c.doc_id for c in claims) == ["copy-a", "copy-b"]
    assert len({c.fact for c in claims}) == 1
    assert all(len(c.corroborated_by) == 1 for c in claims)


@pytest.mark.slow
def test_a_folder_of_ten_thousand_small_files_builds(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    for n in range(10_000):
        sub = folder / f"{n // 1000:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"note-{n:05d}.txt").write_text(f"Note {n}.\n")
    (folder / "00" / "note-00000.txt").write_text("Northwind Traders invested $40 million in Fabrikam Robotics.\n")
    graph = pipeline.build([folder], settings=pipeline.Settings(workers=2, documents_per_batch=500))
    assert len(graph.resolution.documents) == 10_000
    assert any(c.relation == "investsIn" for c in graph.resolution.claims)
