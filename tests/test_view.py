"""The HTML view: offline, inert with hostile text, faithful to the graph, and deterministic."""
from __future__ import annotations

import json
import math
import re
import statistics
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pyoxigraph as ox
import pytest
from rdflib import Literal, Namespace
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

from kg import cli, vocab
from kg.view import INITIAL_NODE_LIMIT, render_html
from kg.vocab import KGO, KGR, OA

BASE = Namespace("https://w3id.org/newskg/")
HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_SENTENCE = (
    "Contoso Films teamed up with <img src=x onerror=alert(1)> \"Wingtip\" and `Wingtip's` crew."
    "\u2028"
)
VIEW_SCRIPT = Path(vocab.__file__).parent / "templates" / "view.js"

Term = ox.NamedNode | ox.BlankNode | ox.Literal


def iri(term: str) -> ox.NamedNode:
    """An IRI, such as a term of the vocabulary's namespaces, as a pyoxigraph term."""
    return ox.NamedNode(str(term))


class GraphBuilder:
    """Writes the contract's shape as graph.trig has it: entities and facts in the default
    graph; each source's description, claims and evidence in a named graph of its own."""

    def __init__(self) -> None:
        self.quads: list[ox.Quad] = []
        self.claim_count = 0

    def add(
        self, triple: tuple[ox.NamedNode, ox.NamedNode, Term], source: ox.NamedNode | None = None
    ) -> None:
        self.quads.append(ox.Quad(*triple, source))

    def entity(
        self,
        key: str,
        label: str,
        kind: str = "Organization",
        *,
        aliases: tuple[str, ...] = (),
        sources: tuple[ox.NamedNode, ...] = (),
    ) -> ox.NamedNode:
        entity = iri(BASE[f"entity/{key}"])
        self.add((entity, iri(RDF.type), iri(KGO[kind])))
        self.add((entity, iri(RDFS.label), ox.Literal(label)))
        for alias in aliases:
            self.add((entity, iri(SKOS.altLabel), ox.Literal(alias)))
        for source in sources:
            self.add((entity, iri(KGO.mentionedIn), source))
        return entity

    def source(self, key: str, path: str, title: str | None = None) -> ox.NamedNode:
        source = iri(BASE[f"source/{key}"])
        self.add((source, iri(RDF.type), iri(KGO.Source)), source)
        self.add((source, iri(DCTERMS.identifier), ox.Literal(key)), source)
        self.add((source, iri(KGO.path), ox.Literal(path)), source)
        if title is not None:
            self.add((source, iri(DCTERMS.title), ox.Literal(title)), source)
        return source

    def claim(
        self,
        subject: ox.NamedNode,
        relation: str,
        obj: ox.NamedNode,
        source: ox.NamedNode,
        exact: str,
        *,
        start: int = 0,
        confidence: str = "0.8",
        **qualifiers: Term,
    ) -> ox.NamedNode:
        """A claim with one piece of evidence, and the fact it states."""
        self.claim_count += 1
        claim = iri(BASE[f"claim/c{self.claim_count:04d}"])
        evidence = iri(BASE[f"evidence/e{self.claim_count:04d}"])
        rule = iri(KGR["invest-active"])
        self.add((subject, iri(KGO[relation]), obj))
        for triple in (
            (claim, iri(RDF.type), iri(KGO.Claim)),
            (claim, iri(RDF.subject), subject),
            (claim, iri(RDF.predicate), iri(KGO[relation])),
            (claim, iri(RDF.object), obj),
            (claim, iri(PROV.wasDerivedFrom), source),
            (claim, iri(KGO.confidence), ox.Literal(confidence, datatype=iri(XSD.decimal))),
            (claim, iri(KGO.evidence), evidence),
            (claim, iri(KGO.extractedBy), rule),
            (evidence, iri(RDF.type), iri(KGO.Evidence)),
            (evidence, iri(KGO.inSource), source),
            (evidence, iri(OA.exact), ox.Literal(exact)),
            (evidence, iri(OA.start), ox.Literal(start)),
            (evidence, iri(OA.end), ox.Literal(start + len(exact))),
            (evidence, iri(KGO.extractedBy), rule),
            *((claim, iri(KGO[name]), value) for name, value in qualifiers.items()),
        ):
            self.add(triple, source)
        return claim


def newsroom() -> list[ox.Quad]:
    """A small corpus: two sources, a disputed investment, a hedged job, a hostile name."""
    build = GraphBuilder()
    first = build.source("news_001", "seeds/news_001.txt", "Northwind backs Contoso")
    second = build.source("news_002", "seeds/news 002.md")
    both = (first, second)
    northwind = build.entity(
        "northwind-traders", "Northwind Traders", aliases=("Northwind",), sources=both
    )
    build.add((northwind, iri(OWL.sameAs), iri("http://www.wikidata.org/entity/Q4242424242")))
    build.add((northwind, iri(OWL.sameAs), iri("https://example.org/not-wikidata")))
    build.add((northwind, iri(KGO.foundingDate), ox.Literal("1998")))
    contoso = build.entity("contoso-films", "Contoso Films", aliases=("Contoso",), sources=both)
    rivera = build.entity("alex-rivera", "Alex Rivera", "Person", sources=(first,))
    planet = build.entity("daily-planet", "The Daily Planet", sources=(first,))
    hostile = build.entity("wingtip", HOSTILE_NAME, aliases=("Wingtip",), sources=(second,))
    build.entity("port-ellis", "Port Ellis", "Place", sources=(second,))
    investment = build.claim(
        northwind, "investsIn", contoso, first,
        "Northwind invested $75 million in Contoso Films, according to The Daily Planet.",
        start=154,
        confidence="0.82",
        amount=ox.Literal("75000000", datatype=iri(XSD.decimal)),
        currency=ox.Literal("USD"),
        approximate=ox.Literal(True),
        reportedBy=planet,
    )
    rival = build.claim(
        northwind, "investsIn", contoso, second,
        "Northwind Traders reportedly put $80 million into Contoso.",
        confidence="0.6",
        amount=ox.Literal("80000000", datatype=iri(XSD.decimal)),
        currency=ox.Literal("USD"),
        hedged=ox.Literal(True),
    )
    build.add((investment, iri(KGO.disputedBy), rival), first)
    build.add((rival, iri(KGO.disputedBy), investment), second)
    build.claim(
        rivera, "worksFor", contoso, first,
        "Alex Rivera, chief executive of Contoso, is said to be leaving.",
        start=300,
        confidence="0.7",
        role=ox.Literal("chief executive"),
        hedged=ox.Literal(True),
    )
    build.claim(contoso, "partnersWith", hostile, second, HOSTILE_SENTENCE, start=40)
    return build.quads


class PageParser(HTMLParser):
    """The tags of a page with their attributes, and the text of each script with its id."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[str | None, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self.scripts.append((dict(attrs).get("id"), ""))

    def handle_data(self, data: str) -> None:
        if self.tags and self.tags[-1][0] == "script":
            script_id, text = self.scripts[-1]
            self.scripts[-1] = (script_id, text + data)


def parse(page: str) -> PageParser:
    parser = PageParser()
    parser.feed(page)
    parser.close()
    return parser


def embedded_data(page: str) -> dict[str, Any]:
    [text] = [text for script_id, text in parse(page).scripts if script_id == "graph-data"]
    return json.loads(text)


def edge_between(data: dict[str, Any], subject: str, relation: str, obj: str) -> dict[str, Any]:
    ids = {node["label"]: node["id"] for node in data["nodes"]}
    return next(
        edge
        for edge in data["edges"]
        if edge["relation"] == relation and {edge["from"], edge["to"]} == {ids[subject], ids[obj]}
    )


def relation_entry(data: dict[str, Any], relation: str) -> dict[str, Any]:
    return next(entry for entry in data["relations"] if entry["id"] == relation)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Source paths are relative to the working folder; make it a known one."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def page(workdir: Path) -> str:
    return render_html(newsroom(), title="Northwind <news> & co", html_dir=workdir / "output")


def test_page_fetches_nothing_from_the_network(page: str) -> None:
    remote = r"""\s*=?\s*\(?\s*["']?\s*(?:https?:)?//"""
    assert not re.search(rf"\b(?:src|href|srcset|action){remote}", page, re.IGNORECASE)
    assert not re.search(rf"url{remote}", page, re.IGNORECASE)
    assert not re.search(r"<link\b", page, re.IGNORECASE)
    assert not re.search(r"@import", page, re.IGNORECASE)
    assert "sourceMappingURL" not in page
    tags = parse(page).tags
    assert not [attributes for tag, attributes in tags if "src" in attributes or tag == "link"]
    [policy] = [
        attributes["content"]
        for tag, attributes in tags
        if tag == "meta" and attributes.get("http-equiv") == "Content-Security-Policy"
    ]
    assert "default-src 'none'" in (policy or "")


def test_vis_network_is_inlined(page: str) -> None:
    scripts = [text for script_id, text in parse(page).scripts if script_id is None]
    assert any("vis-network" in text and "DataView" in text for text in scripts)
    assert "new vis.Network(" in page
    assert "vis-tooltip" in page  # vis-network's stylesheet


def test_header_shows_title_and_counts(page: str) -> None:
    assert "<title>Northwind &lt;news&gt; &amp; co</title>" in page
    # Three facts between entities, drawn as links, and one founding date, shown on its entity.
    assert "6 entities · 4 facts (3 links between entities, 1 founding date) · 2 sources" in page


def test_data_holds_entities_with_their_details(page: str) -> None:
    data = embedded_data(page)
    sources = [source["id"] for source in data["sources"]]
    northwind = next(node for node in data["nodes"] if node["label"] == "Northwind Traders")
    assert northwind["type"] == "Organization"
    assert northwind["aliases"] == ["Northwind"]
    assert northwind["wikidata"] == ["http://www.wikidata.org/entity/Q4242424242"]
    assert northwind["foundingDate"] == ["1998"]
    assert [sources[index] for index in northwind["sources"]] == ["news_001", "news_002"]
    assert {node["label"]: node["type"] for node in data["nodes"]}["Alex Rivera"] == "Person"
    # The founding date is shown on the node, never as an edge.
    assert {edge["relation"] for edge in data["edges"]} == {"investsIn", "worksFor", "partnersWith"}


def test_data_holds_each_claim_with_its_evidence_and_qualifiers(page: str) -> None:
    data = embedded_data(page)
    investment = edge_between(data, "Northwind Traders", "investsIn", "Contoso Films")
    assert investment["sourceCount"] == 2
    assert investment["disputed"] is True
    assert investment["hedged"] is False  # only one of its two claims is hedged
    first, second = investment["claims"]
    assert data["sources"][first["source"]]["title"] == "Northwind backs Contoso"
    assert first["confidence"] == 0.82
    assert first["amount"] == "75,000,000 USD"
    assert first["approximate"] is True
    assert first["reportedBy"] == "The Daily Planet"
    assert first["patterns"] == ["invest-active"]
    [evidence] = first["evidence"]
    assert evidence["exact"].startswith("Northwind invested $75 million")
    assert (evidence["start"], evidence["end"]) == (154, 154 + len(evidence["exact"]))
    assert evidence["pattern"] == "invest-active"
    assert second["hedged"] is True
    assert second["amount"] == "80,000,000 USD"

    job = edge_between(data, "Alex Rivera", "worksFor", "Contoso Films")
    assert job["hedged"] is True  # its only claim is hedged: drawn dashed
    assert job["claims"][0]["role"] == "chief executive"
    assert job["sourceCount"] == 1


def test_evidence_marks_the_names_of_both_ends(page: str) -> None:
    data = embedded_data(page)
    investment = edge_between(data, "Northwind Traders", "investsIn", "Contoso Films")
    [first], [second] = (claim["evidence"] for claim in investment["claims"])
    marked = [(first["exact"][start:end], role) for start, end, role in first["highlights"]]
    assert marked == [("Northwind", "subject"), ("Contoso Films", "object")]
    marked = [(second["exact"][start:end], role) for start, end, role in second["highlights"]]
    assert marked == [("Northwind Traders", "subject"), ("Contoso", "object")]


def test_names_are_marked_whole_ignoring_case_the_longest_first_in_any_script() -> None:
    # An ASCII quote is searched without a pattern, any other with one: both mark the same.
    build = GraphBuilder()
    source = build.source("wire", "wire.txt")
    fabrikam = build.entity("fabrikam", "Fabrikam", aliases=("Fabrikam Holdings", "FAB_1"), sources=(source,))
    zurich = build.entity("zurich-re", "Zürich Re", aliases=("ZRe",), sources=(source,))
    ascii_quote = "fabrikam holdings, not Fabrikams or FAB_1x, said FABRIKAM and Fabrikam Holdings Ltd agreed."
    build.claim(fabrikam, "partnersWith", zurich, source, ascii_quote)
    other_quote = "ZÜRICH RE, not Zürich Reinsurance, joined fabrikam holdings \u2014 and ZRe\u2019s unit."
    build.claim(fabrikam, "investsIn", zurich, source, other_quote)
    data = embedded_data(render_html(build.quads))

    def marked(relation: str) -> list[tuple[str, str]]:
        [claim] = edge_between(data, "Fabrikam", relation, "Zürich Re")["claims"]
        [evidence] = claim["evidence"]
        return [(evidence["exact"][start:end], role) for start, end, role in evidence["highlights"]]

    assert marked("partnersWith") == [
        ("fabrikam holdings", "subject"),
        ("FABRIKAM", "subject"),
        ("Fabrikam Holdings", "subject"),
    ]
    assert marked("investsIn") == [("ZÜRICH RE", "object"), ("fabrikam holdings", "subject"), ("ZRe", "object")]


def test_sources_link_relative_to_the_page(workdir: Path) -> None:
    build = GraphBuilder()
    for key, path in (
        ("plain", "seeds/news_001.txt"),
        ("spaced", "seeds/news 002.md"),
        ("schemeless", "javascript:alert(1)"),
    ):
        build.entity(f"fabrikam-{key}", "Fabrikam", sources=(build.source(key, path),))

    def links(**options: Any) -> dict[str, str]:
        sources = embedded_data(render_html(build.quads, **options))["sources"]
        return {source["id"]: source["href"] for source in sources}

    from_output = links(html_dir=workdir / "output")
    assert from_output["plain"] == "../seeds/news_001.txt"
    assert from_output["spaced"] == "../seeds/news%20002.md"
    assert not from_output["schemeless"].lower().startswith("javascript:")
    # Without html_dir the page is taken to sit in the working folder.
    assert links()["plain"] == "seeds/news_001.txt"


def test_hostile_text_stays_inert(page: str) -> None:
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "\u2028" not in page  # a line separator ends a JavaScript string in older engines
    assert page.count("</script>") == len(parse(page).scripts)
    data = embedded_data(page)
    assert HOSTILE_NAME in [node["label"] for node in data["nodes"]]
    partnership = edge_between(data, "Contoso Films", "partnersWith", HOSTILE_NAME)
    [evidence] = partnership["claims"][0]["evidence"]
    assert evidence["exact"] == HOSTILE_SENTENCE
    marked = [evidence["exact"][start:end] for start, end, _ in evidence["highlights"]]
    assert marked == ["Contoso Films", "Wingtip", "Wingtip"]


def test_page_script_never_writes_markup() -> None:
    script = VIEW_SCRIPT.read_text(encoding="utf-8")
    markup_sinks = r"\.(?:innerHTML|outerHTML)\b|insertAdjacentHTML|document\.write|\beval\("
    assert not re.search(markup_sinks, script)


def test_symmetric_fact_is_one_edge_without_direction(workdir: Path) -> None:
    build = GraphBuilder()
    news = build.source("news", "seeds/news.txt")
    tailspin = build.entity("tailspin", "Tailspin Toys", sources=(news,))
    litware = build.entity("litware", "Litware", sources=(news,))
    build.claim(tailspin, "partnersWith", litware, news, "Tailspin Toys and Litware partnered.")
    build.claim(litware, "partnersWith", tailspin, news, "Litware partners with Tailspin Toys.")
    data = embedded_data(render_html(build.quads))
    [edge] = data["edges"]
    assert len(edge["claims"]) == 2
    assert relation_entry(data, "partnersWith")["symmetric"] is True
    assert relation_entry(data, "investsIn")["symmetric"] is False


def test_entity_without_a_type_is_drawn_as_an_entity(workdir: Path) -> None:
    build = GraphBuilder()
    news = build.source("news", "seeds/news.txt")
    adventure = build.entity("adventure-works", "Adventure Works", sources=(news,))
    fund = iri(BASE["entity/untyped-fund"])
    build.claim(fund, "investsIn", adventure, news, "A fund invested in Adventure Works.")
    data = embedded_data(render_html(build.quads))
    types = {node["label"]: node["type"] for node in data["nodes"]}
    assert types == {"Adventure Works": "Organization", "untyped-fund": "Entity"}
    assert data["types"][-1] == {
        "id": "Entity", "label": "Entity", "color": "#9e9e9e", "shape": "dot", "count": 1,
    }


def test_empty_graph_gives_an_empty_page(workdir: Path) -> None:
    page = render_html([])
    assert "0 entities · 0 facts · 0 sources" in page
    data = embedded_data(page)
    assert (data["nodes"], data["edges"], data["sources"]) == ([], [], [])


def test_legend_comes_from_the_ontology(page: str) -> None:
    ontology = vocab.ontology()
    data = embedded_data(page)
    for relation in data["relations"]:
        labels = set(ontology.objects(KGO[relation["id"]], RDFS.label))
        assert Literal(relation["label"], lang="en") in labels
        assert relation["color"] == str(ontology.value(KGO[relation["id"]], KGO.color))
    for entity_type in data["types"]:
        assert entity_type["color"] == str(ontology.value(KGO[entity_type["id"]], KGO.color))
        assert entity_type["shape"] == str(ontology.value(KGO[entity_type["id"]], KGO.shape))
    assert "foundingDate" not in [relation["id"] for relation in data["relations"]]


def test_same_graph_gives_the_same_page(workdir: Path) -> None:
    quads = newsroom()
    assert render_html(quads) == render_html(quads)
    # The order in which the quads come does not matter either.
    assert render_html(reversed(quads)) == render_html(quads)


def test_quads_are_read_as_the_union_of_their_graphs(workdir: Path) -> None:
    quads = newsroom()
    assert render_html(quad.triple for quad in quads) == render_html(quads)
    # A triple that several graphs assert, or one graph twice, is one statement.
    again = [ox.Quad(*quad.triple, iri(BASE["source/news_001"])) for quad in quads]
    assert render_html(quads + again + quads) == render_html(quads)


def large_graph(entity_count: int) -> list[ox.Quad]:
    """A tree of 600 entities (past spring_layout's 500-node limit), many stars of ten, and
    twenty entities without any fact."""
    build = GraphBuilder()
    news = build.source("wire", "seeds/wire.txt")
    entities = [
        build.entity(f"org-{index:04d}", f"Woodgrove Unit {index}", sources=(news,))
        for index in range(entity_count)
    ]
    for index in range(1, 600):
        parent = index // 8
        sentence = f"Unit {index} joined unit {parent}."
        build.claim(entities[index], "memberOf", entities[parent], news, sentence)
    for index in range(600, entity_count - 20):
        hub = index - index % 10
        if index != hub:
            sentence = f"Unit {index} works for unit {hub}."
            build.claim(entities[index], "worksFor", entities[hub], news, sentence)
    return build.quads


def test_large_graph_opens_on_its_300_most_central_entities(workdir: Path) -> None:
    data = embedded_data(render_html(large_graph(1000)))
    nodes = data["nodes"]
    assert len(nodes) == 1000
    assert data["initialLimit"] == INITIAL_NODE_LIMIT == 300
    shown_first = [node for node in nodes if node["initial"]]
    held_back = [node for node in nodes if not node["initial"]]
    assert len(shown_first) == 300
    assert min(node["rank"] for node in shown_first) >= max(node["rank"] for node in held_back)
    assert next(node for node in nodes if node["label"] == "Woodgrove Unit 0")["initial"]
    # Laid out in Python: whole pixels, no two entities on the same spot.
    assert all(isinstance(node["x"], int) and isinstance(node["y"], int) for node in nodes)
    assert len({(node["x"], node["y"]) for node in nodes}) == 1000


def test_large_graph_grows_outward_from_the_entities_it_opens_on(workdir: Path) -> None:
    """The opening view's entities are laid out together, and those held back hang off them
    farther out, rather than all of them being spread over the whole graph."""
    nodes = embedded_data(render_html(large_graph(3000)))["nodes"]
    shown_first = [node for node in nodes if node["initial"]]
    centre_x = statistics.mean(node["x"] for node in shown_first)
    centre_y = statistics.mean(node["y"] for node in shown_first)

    def distance(node: dict[str, Any]) -> float:
        return math.hypot(node["x"] - centre_x, node["y"] - centre_y)

    held_back = [node for node in nodes if not node["initial"]]
    assert statistics.median(map(distance, held_back)) > statistics.median(map(distance, shown_first))
    assert len({(node["x"], node["y"]) for node in nodes}) == 3000


def test_small_graph_opens_whole(page: str) -> None:
    assert all(node["initial"] for node in embedded_data(page)["nodes"])


@pytest.mark.parametrize("graph_file", ["graph.ttl", "graph.trig", "graph.nq", "graph.jsonld"])
def test_kg_view_renders_a_graph_file_as_the_build_did(
    graph_file: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`kg view GRAPH -o PAGE` shows the same entities, facts and sources as the page that
    `kg build` wrote beside the graph, with source links relative to the new page."""
    root = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(root)
    page = tmp_path / "view" / "page.html"
    assert cli.main(["view", f"output/{graph_file}", "-o", str(page)]) == 0
    assert capsys.readouterr().out.strip() == str(page)
    built = embedded_data((root / "output" / "graph.html").read_text(encoding="utf-8"))
    viewed = embedded_data(page.read_text(encoding="utf-8"))
    for source in viewed["sources"]:
        href = source.pop("href")
        assert (page.parent / unquote(href)).resolve() == (root / "seeds" / f"{source['id']}.txt")
    for source in built["sources"]:
        source.pop("href")
    assert viewed == built


@pytest.mark.parametrize(
    ("name", "text"),
    [
        # A good statement first: the parser reads lazily, and the error comes mid-render.
        ("broken.ttl", "<https://example.org/a> a <https://example.org/B> .\n<a> <b> .\n"),
        ("broken.nq", "<https://example.org/a> <https://example.org/b> \"c\" <g\n"),
        ("broken.jsonld", '{"@id": "https://example.org/a",'),
        ("missing.trig", None),
    ],
)
def test_kg_view_reports_a_graph_file_it_cannot_read(
    name: str, text: str | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    graph_file = tmp_path / name
    if text is not None:
        graph_file.write_text(text, encoding="utf-8")
    assert cli.main(["view", str(graph_file)]) == cli.EXIT_ERROR
    assert capsys.readouterr().err.startswith(f"kg view: error: {graph_file}: ")
    assert not graph_file.with_suffix(".html").exists()


def test_kg_view_names_the_formats_it_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    graph_file = tmp_path / "graph.rdf"
    graph_file.write_text("<rdf:RDF/>", encoding="utf-8")
    assert cli.main(["view", str(graph_file)]) == cli.EXIT_USAGE
    assert capsys.readouterr().err == (
        f"kg view: error: {graph_file}: unknown graph format (use .ttl, .trig, .nq, .nt, .jsonld)\n"
    )
