"""Entities an analyst can trust: clean labels, one node per real thing, merges that are
visible and reversible."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rdflib import RDF, RDFS, SKOS, Graph, URIRef

from kg import pipeline
from kg.extract.rules import lexicon
from kg.vocab import KGO, KGR

from .conftest import ROOT

ENTITY = "https://w3id.org/newskg/entity/"


def labels_and_types(graph: Graph) -> dict[str, str]:
    return {
        str(graph.value(e, RDFS.label)): str(t).rsplit("#", 1)[1]
        for e, t in graph.subject_objects(RDF.type)
        if str(e).startswith(ENTITY) and "/alias/" not in str(e)
    }


def test_no_name_from_the_seeds_appears_in_code_rules_or_word_lists() -> None:
    gold = [json.loads(line) for line in (ROOT / "tests" / "data" / "seeds.gold.jsonl").read_text().splitlines() if line.strip()]
    names = {n for doc in gold for e in doc["entities"] for n in [e["name"], *e["aliases"]]}
    words = {w for name in names for w in re.findall(r"[A-Za-z0-9][\w\-]+", name) if w.lower() not in GENERIC}
    files = [p for folder in ("kg", "ontology") for p in (ROOT / folder).rglob("*") if p.is_file() and p.suffix in (".py", ".json", ".jsonl", ".ttl", ".txt", ".js", ".html", ".css")]
    hits = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        hits += [f"{path.relative_to(ROOT)}: {word}" for word in sorted(words) if re.search(rf"\b{re.escape(word)}\b", text)]
    assert hits == []


# Words of seed names that are ordinary English or generic vocabulary, not names.
GENERIC = {
    "the", "of", "at", "all", "once", "everything", "everywhere", "zone", "interest", "labs", "wall", "street",
    "journal", "guild", "america", "writers", "reporter", "recent",
}


@pytest.mark.slow
def test_no_entity_of_the_seeds_graph_is_a_generic_word_a_headline_fragment_or_crosses_a_line(seeds_output: Path) -> None:
    graph = Graph().parse(seeds_output / "graph.ttl")
    stop = {w.lower() for w in lexicon().words["stop_names"]}
    headline_lines = {line.strip() for p in (ROOT / "seeds").iterdir() for line in p.read_text().splitlines() if line.strip() and not line.strip().endswith((".", "?", "!"))}
    for label in labels_and_types(graph):
        assert "\n" not in label and label == label.strip()
        assert label.lower() not in stop, label
        assert not re.match(r"(?i)^(the|a|an)\s", label) or label.split()[1][:1].isupper(), label
        assert not label.endswith(("'s", "\u2019s", ",", ".", ":")), label
        assert label not in headline_lines, f"{label!r} is a whole headline"
    names = set(labels_and_types(graph))
    assert not {"AI", "IP", "Massive Investment", "HITL", "Oscar", "Smart Picks", "Goal Workflow"} & names


@pytest.mark.slow
def test_the_seeds_have_one_node_per_real_thing_with_aliases_and_types(seeds_output: Path) -> None:
    graph = Graph().parse(seeds_output / "graph.ttl")
    types = labels_and_types(graph)
    assert types["Google DeepMind"] == types["Google"] == types["A24"] == types["A24 Labs"] == "Organization"
    assert types["OpenAI"] == types["SAG-AFTRA"] == "Organization"
    assert types["Eli Collins"] == types["Scott Belsky"] == "Person"
    assert types["Sora"] == types["Seedance 2.0"] == "Product"
    assert types["Everything Everywhere All at Once"] == types["The Zone of Interest"] == types["Backrooms"] == "CreativeWork"
    deepmind = URIRef(ENTITY + "google-deepmind")
    assert {"DeepMind", "Google's DeepMind"} <= {str(a) for a in graph.objects(deepmind, SKOS.altLabel)}
    assert (URIRef(ENTITY + "writers-guild-of-america"), SKOS.altLabel, None) in graph
    # Why each alias joined is in the graph.
    joins = {str(graph.value(j, KGO.alias)): graph.value(j, KGO.joinedBy) for j in graph.objects(deepmind, KGO.aliasJoin)}
    # "Google's DeepMind" is what shows "DeepMind" to be "Google DeepMind".
    assert joins == {"DeepMind": KGR["possessive-form"], "Google's DeepMind": KGR["possessive-form"]}


def test_overrides_join_and_split_names_on_the_next_build(tmp_path: Path) -> None:
    texts = {
        "a": "Northwind Traders invested $5 million in Fabrikam Robotics.",
        "b": "Analysts said Tailspin Holdings had partnered with Northwind on Friday.",
    }
    before = labels_and_types(pipeline.build(texts=texts).graph)
    assert "Northwind" in before and "Northwind Traders" in before
    overrides = tmp_path / "overrides.csv"
    overrides.write_text("same,Northwind,Northwind Traders\n")
    after = pipeline.build(texts=texts, settings=pipeline.Settings(overrides=pipeline.load_overrides(overrides))).graph
    assert "Northwind" not in labels_and_types(after)
    node = URIRef(ENTITY + "northwind-traders")
    assert [graph_join for graph_join in after.objects(node, KGO.aliasJoin) if after.value(graph_join, KGO.joinedBy) == KGR["user-override"]]


def test_known_entities_set_type_label_aliases_and_wikidata(tmp_path: Path) -> None:
    known = tmp_path / "known.csv"
    known.write_text("name,type,aliases,wikidata\nFabrikam Robotics Inc.,Organization,Fabrikam|Fabrikam Robotics,Q123456\n")
    settings = pipeline.Settings(known_entities=pipeline.load_known_entities(known))
    graph = pipeline.build(texts={"a": "Fabrikam Robotics, a unit of Tailspin Holdings, hired 20 engineers."}, settings=settings).graph
    node = URIRef(ENTITY + "fabrikam-robotics-inc")
    assert str(graph.value(node, RDFS.label)) == "Fabrikam Robotics Inc."
    assert (node, URIRef("http://www.w3.org/2002/07/owl#sameAs"), URIRef("http://www.wikidata.org/entity/Q123456")) in graph
    assert (node, KGO.parentOrganization, URIRef(ENTITY + "tailspin-holdings")) in graph


def test_a_bad_overrides_file_names_its_line(tmp_path: Path) -> None:
    overrides = tmp_path / "overrides.csv"
    overrides.write_text("same,A,B\nmaybe,C,D\n")
    with pytest.raises(pipeline.BuildError, match=r"overrides.csv:2"):
        pipeline.load_overrides(overrides)


def test_sources_that_disagree_on_an_amount_are_both_kept_and_marked() -> None:
    graph = pipeline.build(
        texts={
            "one": "Northwind Traders invested $40 million in Fabrikam Robotics.",
            "two": "Northwind Traders invested $45 million in Fabrikam Robotics, according to The Daily Ledger.",
            "three": "Northwind Traders has made an investment in Fabrikam Robotics. The terms were undisclosed.",
        }
    )
    claims = [c for c in graph.resolution.claims if c.relation == "investsIn"]
    assert sorted(c.details.amount or "-" for c in claims) == ["-", "40000000.0", "45000000.0"]
    one, two = (next(c for c in claims if c.doc_id == d) for d in ("one", "two"))
    assert two.key in one.disputed_by and one.key in two.disputed_by
    assert set(one.corroborated_by) == {c.key for c in claims if c.doc_id != "one"}
