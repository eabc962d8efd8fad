"""The whole path a user walks: kg build on folders and texts, and the files it writes."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS

from kg import pipeline
from kg.vocab import KGO

from .conftest import ROOT

OUTPUT_FILES = ("graph.ttl", "graph.trig", "graph.nq", "graph.jsonld", "graph.graphml", "graph.html", "report.md")
MIXED = ROOT / "tests" / "data" / "mixed"


def kg(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kg", *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def evidence_problems(graph: Graph, texts: dict[str, str]) -> list[str]:
    """Every evidence quote must equal its source's text between its offsets."""
    query = """
    PREFIX kgo: <https://w3id.org/newskg/ontology#> PREFIX prov: <http://www.w3.org/ns/prov#>
    PREFIX dcterms: <http://purl.org/dc/terms/> PREFIX oa: <http://www.w3.org/ns/oa#>
    SELECT ?doc ?exact ?start ?end WHERE {
      ?claim a kgo:Claim ; prov:wasDerivedFrom/dcterms:identifier ?doc ; kgo:evidence ?ev .
      ?ev oa:exact ?exact ; oa:start ?start ; oa:end ?end . }"""
    problems = []
    rows = list(graph.query(query))
    assert rows, "no evidence at all"
    for doc, exact, start, end in rows:
        if texts[str(doc)][int(start) : int(end)] != str(exact):
            problems.append(f"{doc}[{start}:{end}] != {str(exact)[:40]!r}")
    return problems


def source_texts(folder: Path) -> dict[str, str]:
    return {p.stem: p.read_bytes().decode("utf-8") for p in folder.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_rebuilding_the_seeds_reproduces_the_committed_output_byte_for_byte(seeds_output: Path) -> None:
    for name in OUTPUT_FILES:
        fresh, committed = (seeds_output / name).read_bytes(), (ROOT / "output" / name).read_bytes()
        assert fresh == committed, f"output/{name} differs from a fresh build: rebuild with 'python3.11 dev.py build'"


@pytest.mark.slow
def test_every_claim_of_the_seeds_quotes_its_source_exactly(seeds_output: Path) -> None:
    graph = Graph().parse(seeds_output / "graph.ttl")
    assert evidence_problems(graph, source_texts(ROOT / "seeds")) == []


@pytest.mark.slow
def test_a_folder_mixing_txt_md_and_html_gives_each_article_a_titled_source(tmp_path: Path) -> None:
    result = kg("build", str(MIXED), "-o", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["sources"] == 3 and summary["skipped"] == []
    graph = Graph().parse(tmp_path / "graph.ttl")
    titles = {str(i): str(t) for _, i, t in [(s, graph.value(s, DCTERMS.identifier), graph.value(s, DCTERMS.title)) for s in graph.subjects(DCTERMS.identifier, None)]}
    assert titles == {
        "northwind-invests": "Northwind Traders Invests in Fabrikam Robotics",
        "contoso-films": "Contoso Pictures signs a deal with Litware",
        "adatum-hires": "Adatum names a new research chief",
    }
    formats = {str(graph.value(s, DCTERMS.identifier)): str(graph.value(s, DCTERMS.format)) for s in graph.subjects(DCTERMS.identifier, None)}
    assert formats == {"northwind-invests": "text/plain", "contoso-films": "text/markdown", "adatum-hires": "text/html"}
    # Offsets point into the files as read, markup included.
    assert evidence_problems(graph, source_texts(MIXED)) == []
    # Nothing from the page's script, navigation or footer became a fact or an entity.
    labels = {str(o) for o in graph.objects(None, URIRef("http://www.w3.org/2000/01/rdf-schema#label"))}
    assert not {"Proseware", "Wingtip Toys", "Proseware Daily"} & labels
    assert (URIRef("https://w3id.org/newskg/entity/adatum-corporation"), KGO.acquired, URIRef("https://w3id.org/newskg/entity/wingtip-analytics")) in graph


@pytest.mark.slow
def test_build_writes_every_export_and_each_parses(tmp_path: Path) -> None:
    result = kg("build", str(MIXED), "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "3 sources" in result.stdout and str(tmp_path) in result.stdout
    for name in OUTPUT_FILES:
        assert (tmp_path / name).stat().st_size > 0
    turtle = Graph().parse(tmp_path / "graph.ttl")
    jsonld = Graph().parse(tmp_path / "graph.jsonld", format="json-ld")
    trig = Dataset()
    trig.parse(tmp_path / "graph.trig", format="trig")
    assert len(turtle) == len(jsonld) == len(set(trig.quads((None, None, None, None))) and {(s, p, o) for s, p, o, _ in trig.quads((None, None, None, None))})
    # One named graph per source, named by the source's IRI.
    sources = {URIRef(f"https://w3id.org/newskg/source/{name}") for name in ("northwind-invests", "contoso-films", "adatum-hires")}
    assert sources <= {g.identifier for g in trig.graphs()}
    report = (tmp_path / "report.md").read_text()
    for heading in ("## Sources (3)", "## Entities by type", "## Facts by relation", "## Facts with one source", "## Facts whose sources disagree"):
        assert heading in report


def test_quiet_build_prints_nothing_and_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    result = kg("build", str(tmp_path / "nowhere"), "-o", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "nowhere" in result.stderr and "no such file or folder" in result.stderr
    assert not (tmp_path / "out").exists()


def test_an_unreadable_file_is_skipped_with_a_warning_and_listed_in_the_report(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Contoso Pictures has entered into a partnership with Litware Inc. to build tools.\n")
    (tmp_path / "bad.txt").write_bytes(b"Caf\xe9 au lait, not utf-8")
    result = kg("build", str(tmp_path), "-o", str(tmp_path / "out"), "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "bad.txt" in result.stderr and "UTF-8" in result.stderr
    assert "bad.txt" in (tmp_path / "out" / "report.md").read_text()


def test_the_python_api_builds_from_strings_and_writes_the_exports(tmp_path: Path) -> None:
    graph = pipeline.build(texts={"note-1": "Fabrikam Robotics, a unit of Tailspin Holdings, opened a plant in Ohio."})
    triple = (URIRef("https://w3id.org/newskg/entity/fabrikam-robotics"), KGO.parentOrganization, URIRef("https://w3id.org/newskg/entity/tailspin-holdings"))
    assert triple in graph.graph
    assert graph.summary()["facts"] == 1
    written = graph.write(tmp_path)
    assert {p.name for p in written} == set(OUTPUT_FILES)
    assert triple in Graph().parse(tmp_path / "graph.ttl")


def test_base_iri_is_used_for_every_minted_node() -> None:
    settings = pipeline.Settings(base_iri="http://example.org/kg/")
    graph = pipeline.build(texts={"n": "Northwind Traders acquired Litware Inc. in 2021."}, settings=settings)
    minted = {str(s) for s in graph.graph.subjects() if "/entity/" in str(s) or "/claim/" in str(s)}
    assert minted and all(iri.startswith("http://example.org/kg/") for iri in minted)
    assert (None, KGO.acquired, None) in graph.graph
    assert Literal("n") in set(graph.graph.objects(None, DCTERMS.identifier))
