"""The page in a real browser (Debian's Chromium driven by Playwright): what a user sees.

Each page is opened from disk with every request, console error, uncaught exception and
dialog recorded. The page's script exposes ``window.newskg`` (the vis-network and the
DataViews of the entities and links it draws, see kg/templates/view.js); the tests read what
is drawn from it and click where the canvas shows things, as a user would.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pyoxigraph as ox
import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from rdflib.namespace import RDF, RDFS, SKOS

from kg import pipeline, vocab
from kg.pipeline import Settings
from kg.resolve import KnownEntity
from kg.types import ENTITY_TYPES
from kg.view import INITIAL_NODE_LIMIT, render_html
from kg.vocab import KGO, OA

from .conftest import ROOT, require_tool
from .test_view import Term, iri, large_graph

pytestmark = pytest.mark.slow

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 860}
COMMITTED_PAGE = ROOT / "output" / "graph.html"
COMMITTED_GRAPH = ROOT / "output" / "graph.ttl"

# Names a user's known-entities file gives, and sentences of the article: all markup.
SCRIPT_NAME = "Fabrikam <script>window.pwned=1</script>"
IMAGE_NAME = "Contoso `Films` <img src=x onerror=alert(3)>"
HOSTILE_ARTICLE = (
    "Northwind Traders invested $75 million in Contoso Films. "
    "\"<img src=x onerror=alert(4)>\" was the headline.\n\n"
    f"Contoso Films partnered with {SCRIPT_NAME}, the company said on Monday."
)


@dataclass
class Visit:
    """An open page and what it did: requests, errors and dialogs."""

    page: Page
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def evaluate(self, script: str, argument: Any = None) -> Any:
        return self.page.evaluate(script, argument)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = require_tool("chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def visit(browser: Browser) -> Iterator[Callable[[Path], Visit]]:
    """Opens a page from disk and waits for its first complete drawing."""
    contexts = []

    def open_page(path: Path) -> Visit:
        context = browser.new_context(viewport=VIEWPORT)
        contexts.append(context)
        page = context.new_page()
        opened = Visit(page)
        page.on("request", lambda request: opened.requests.append(request.url))
        page.on("console", lambda message: _record_error(opened, message.type, message.text))
        page.on("pageerror", lambda error: opened.errors.append(str(error)))
        page.on("dialog", lambda dialog: (opened.dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(path.resolve().as_uri())
        page.evaluate("window.newskg.drawn")
        return opened

    yield open_page
    for context in contexts:
        context.close()


def _record_error(opened: Visit, kind: str, text: str) -> None:
    if kind == "error":
        opened.errors.append(text)


# --- what the Turtle says, and what the page draws -----------------------------------------


@dataclass
class Expected:
    """The entities and facts of a graph, as a user should see them drawn."""

    labels: Counter[str]
    links: Counter[tuple[str, str, str]]  # (subject label, relation label, object label)
    founding_dates: int
    names: dict[str, set[str]]  # each entity's label and aliases, by label
    sentences: dict[tuple[str, str, str], set[str]]  # the evidence of each link's claims


def expected_from(quads: Iterable[ox.Quad | ox.Triple]) -> Expected:
    """Entities are the nodes with a kgo: entity type; a link is an asserted fact between
    two entities (a symmetric one counted once); a founding date is a fact whose object is a
    year, shown on its entity rather than drawn. The graph is the union of the quads' graphs."""
    values: defaultdict[tuple[Term, str], set[Term]] = defaultdict(set)
    for quad in quads:
        values[quad.subject, quad.predicate.value].add(quad.object)

    def objects(subject: Term, predicate: str) -> set[Term]:
        return values.get((subject, str(predicate)), set())

    def value(subject: Term, predicate: str) -> Term:
        [found] = objects(subject, predicate)
        return found

    def pairs(predicate: str) -> list[tuple[Term, Term]]:
        return [
            (subject, obj)
            for (subject, found), objs in values.items()
            if found == str(predicate)
            for obj in objs
        ]

    entity_types = {iri(KGO[name]) for name in ENTITY_TYPES}
    entities = {
        subject
        for subject, kind in pairs(RDF.type)
        if kind in entity_types and isinstance(subject, ox.NamedNode)
    }
    label = {entity: value(entity, RDFS.label).value for entity in entities}

    def link(subject: Term, relation: Term, obj: Term) -> tuple[str, str, str] | None:
        """The link a user sees for a fact; None for a fact that is not drawn."""
        name = relation.value.removeprefix(str(KGO))
        if subject not in entities or obj not in entities or name not in vocab.RELATIONS:
            return None
        ends = sorted((label[subject], label[obj]))
        if name not in vocab.SYMMETRIC_RELATIONS:
            ends = [label[subject], label[obj]]
        return ends[0], str(vocab.ontology().value(KGO[name], RDFS.label)), ends[1]

    facts = {
        link(subject, iri(relation), obj): (subject, relation, obj)
        for relation in (KGO[name] for name in vocab.RELATIONS)
        for subject, obj in pairs(relation)
    }
    facts.pop(None, None)
    links = Counter(facts.keys())
    sentences: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    claim_type = iri(KGO.Claim)
    for claim in (subject for subject, kind in pairs(RDF.type) if kind == claim_type):
        claimed = link(*(value(claim, part) for part in (RDF.subject, RDF.predicate, RDF.object)))
        for evidence in objects(claim, KGO.evidence):
            sentences[claimed].add(value(evidence, OA.exact).value)
    founding_dates = sum(
        1 for _, year in pairs(KGO.foundingDate) if isinstance(year, ox.Literal)
    )
    names = {
        label[entity]: {label[entity], *(alias.value for alias in objects(entity, SKOS.altLabel))}
        for entity in entities
    }
    return Expected(Counter(label.values()), links, founding_dates, names, sentences)


def drawn(opened: Visit) -> dict[str, Any]:
    """The nodes and edges the network draws now, with their labels."""
    return opened.evaluate(
        """() => {
          const { nodes, edges } = window.newskg;
          const label = new Map(nodes.get().map((node) => [node.id, node.label]));
          return {
            nodes: nodes.get().map((node) => ({ id: node.id, label: node.label })),
            edges: edges.get().map((edge) => ({
              id: edge.id, from: label.get(edge.from), to: label.get(edge.to),
              label: edge.label, relation: edge.relation, symmetric: !edge.arrows.to.enabled,
            })),
          };
        }"""
    )


def drawn_links(edges: list[dict[str, Any]]) -> Counter[tuple[str, str, str]]:
    links: Counter[tuple[str, str, str]] = Counter()
    for edge in edges:
        relation = edge["label"].removesuffix(" ⚠")  # the mark of a disputed fact
        ends = sorted((edge["from"], edge["to"])) if edge["symmetric"] else [edge["from"], edge["to"]]
        links[(ends[0], relation, ends[1])] += 1
    return links


def assert_drawn_as_expected(opened: Visit, expected: Expected) -> None:
    shown = drawn(opened)
    assert Counter(node["label"] for node in shown["nodes"]) == expected.labels
    assert drawn_links(shown["edges"]) == expected.links


def assert_offline_and_quiet(opened: Visit) -> None:
    assert opened.errors == []
    assert opened.dialogs == []
    assert opened.requests, "the page itself was not requested"
    assert [url for url in opened.requests if not url.startswith("file://")] == []


# --- acting as a user ----------------------------------------------------------------------


def canvas_point(opened: Visit, point: dict[str, float]) -> tuple[float, float]:
    """Where a point of the network's canvas coordinates is on the screen."""
    box = opened.page.locator("#network canvas").bounding_box()
    assert box is not None
    on_canvas = opened.evaluate("(point) => window.newskg.network.canvasToDOM(point)", point)
    return box["x"] + on_canvas["x"], box["y"] + on_canvas["y"]


def node_id(opened: Visit, label: str) -> int:
    return opened.evaluate(
        "(label) => window.newskg.nodes.get({ filter: (node) => node.label === label })[0].id",
        label,
    )


def click_node(opened: Visit, label: str) -> None:
    position = opened.evaluate(
        "(id) => window.newskg.network.getPositions([id])[id]", node_id(opened, label)
    )
    opened.page.mouse.click(*canvas_point(opened, position))


def edge_midpoint(opened: Visit, edge_id: int) -> dict[str, float] | None:
    """The middle of an edge, if a click there lands on it (no node or other edge on top)."""
    return opened.evaluate(
        """(id) => {
          const { network, edges } = window.newskg;
          const { from, to } = edges.get(id);
          const ends = network.getPositions([from, to]);
          const middle = { x: (ends[from].x + ends[to].x) / 2, y: (ends[from].y + ends[to].y) / 2 };
          const onScreen = network.canvasToDOM(middle);
          const clear = network.getNodeAt(onScreen) === undefined && network.getEdgeAt(onScreen) === id;
          return clear ? middle : null;
        }""",
        edge_id,
    )


def panel_title(opened: Visit) -> str:
    return opened.page.locator("#details h2.title").inner_text()


def evidence_sentences(opened: Visit) -> list[str]:
    return opened.page.locator("#details blockquote").all_inner_texts()


def mentions(sentence: str, names: set[str]) -> bool:
    return any(name.lower() in sentence.lower() for name in names)


# --- the committed page --------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeds() -> Expected:
    return expected_from(ox.parse(path=COMMITTED_GRAPH, format=ox.RdfFormat.TURTLE))


def test_committed_page_draws_every_entity_and_fact_offline(
    visit: Callable[[Path], Visit], seeds: Expected
) -> None:
    opened = visit(COMMITTED_PAGE)
    assert_offline_and_quiet(opened)
    assert_drawn_as_expected(opened, seeds)
    links = sum(seeds.links.values())
    counts = opened.page.locator(".counts").inner_text()
    assert counts.startswith(
        f"{sum(seeds.labels.values())} entities · {links + seeds.founding_dates} facts "
        f"({links} links between entities, {seeds.founding_dates} founding dates) · "
    )
    # Every entity is on screen, its label large enough to read.
    width, height = opened.evaluate(
        "() => [document.querySelector('#network').clientWidth, document.querySelector('#network').clientHeight]"
    )
    positions = opened.evaluate("() => Object.values(window.newskg.network.getPositions())")
    for position in positions:
        x, y = opened.evaluate("(p) => Object.values(window.newskg.network.canvasToDOM(p))", position)
        assert 0 <= x <= width and 0 <= y <= height
    label_px = opened.evaluate("() => window.newskg.network.getScale() * 18")
    assert label_px >= 12


def test_clicking_an_edge_shows_the_sentences_that_state_it(
    visit: Callable[[Path], Visit], seeds: Expected
) -> None:
    opened = visit(COMMITTED_PAGE)
    edges = drawn(opened)["edges"]
    clicked, named_both = 0, 0
    for edge in edges:
        middle = edge_midpoint(opened, edge["id"])
        if middle is None:
            continue  # covered by a node or another edge at this zoom
        opened.page.mouse.click(*canvas_point(opened, middle))
        clicked += 1
        assert panel_title(opened) in (f"{edge['from']} → {edge['to']}", f"{edge['from']} ↔ {edge['to']}")
        # Every sentence the graph holds for the fact, and no other.
        [link] = drawn_links([edge])
        sentences = evidence_sentences(opened)
        assert sorted(sentences) == sorted(seeds.sentences[link])
        named_both += any(
            mentions(sentence, seeds.names[edge["from"]]) and mentions(sentence, seeds.names[edge["to"]])
            for sentence in sentences
        )
        # The names in them are marked, each as the end it names.
        for role, end in (("subject", edge["from"]), ("object", edge["to"])):
            marked = opened.page.locator(f"#details blockquote mark.{role}").all_inner_texts()
            assert all(mentions(name, seeds.names[end]) for name in marked), (role, marked)
        # Each claim's source link opens the article file the graph was built from.
        for href in opened.page.locator("#details article.claim a").evaluate_all(
            "(links) => links.map((link) => link.href)"
        ):
            assert urlparse(href).scheme == "file"
            assert Path(unquote(urlparse(href).path)).is_file(), href
    assert clicked >= len(edges) / 2
    assert named_both >= clicked / 2  # others say "the studio" or "it" for one end
    assert_offline_and_quiet(opened)


def test_unticking_a_relation_hides_exactly_its_edges(visit: Callable[[Path], Visit]) -> None:
    opened = visit(COMMITTED_PAGE)
    before = drawn(opened)
    by_relation = Counter(edge["relation"] for edge in before["edges"])
    relation, _ = by_relation.most_common(1)[0]
    relation_label = str(vocab.ontology().value(KGO[relation], RDFS.label))
    checkbox = opened.page.locator("#relation-filters label", has_text=relation_label).locator("input")
    checkbox.uncheck()
    after = drawn(opened)
    assert {edge["id"] for edge in after["edges"]} == {
        edge["id"] for edge in before["edges"] if edge["relation"] != relation
    }
    assert after["nodes"] == before["nodes"]
    checkbox.check()
    assert drawn(opened) == before


def test_search_selects_and_centres_the_entity_it_names(visit: Callable[[Path], Visit]) -> None:
    opened = visit(COMMITTED_PAGE)
    target = node_id(opened, "Backrooms")
    opened.page.locator("#search").fill("backrooms")
    opened.page.locator("#search").press("Enter")
    opened.page.wait_for_function(
        """(id) => {
          const { network } = window.newskg;
          const node = network.getPositions([id])[id];
          const centre = network.getViewPosition();
          return Math.hypot(node.x - centre.x, node.y - centre.y) < 1;
        }""",
        arg=target,
    )
    assert opened.evaluate("() => window.newskg.network.getSelectedNodes()") == [target]
    assert panel_title(opened) == "Backrooms"
    # An alias finds its entity too.
    opened.page.locator("#search").fill("WGA")
    opened.page.locator("#search").press("Enter")
    assert panel_title(opened) == "Writers Guild of America"
    assert_offline_and_quiet(opened)


def test_reset_layout_puts_a_dragged_entity_back(visit: Callable[[Path], Visit]) -> None:
    opened = visit(COMMITTED_PAGE)
    target = node_id(opened, "A24")
    place = "(id) => window.newskg.network.getPositions([id])[id]"
    original = opened.evaluate(place, target)
    x, y = canvas_point(opened, original)
    opened.page.mouse.move(x, y)
    opened.page.mouse.down()
    opened.page.mouse.move(x + 120, y + 80, steps=8)
    opened.page.mouse.up()
    assert opened.evaluate(place, target) != original
    opened.page.get_by_role("button", name="Reset layout").click()
    assert opened.evaluate(place, target) == original


# --- hostile text --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Expected]:
    """A page built from an article whose sentences, and whose entities' names (from a
    known-entities file), are markup and script."""
    known = (
        KnownEntity(SCRIPT_NAME, "Organization", ("Fabrikam",)),
        KnownEntity(IMAGE_NAME, "Organization", ("Contoso Films",)),
    )
    built = pipeline.build(texts={"hostile": HOSTILE_ARTICLE}, settings=Settings(known_entities=known))
    folder = tmp_path_factory.mktemp("hostile")
    page = folder / "graph.html"
    page.write_text(render_html(built.rdf.quads, title="<b>hostile</b>", html_dir=folder), encoding="utf-8")
    return page, expected_from(built.rdf.quads)


def test_hostile_names_and_sentences_show_as_text_and_run_nothing(
    visit: Callable[[Path], Visit], hostile_page: tuple[Path, Expected]
) -> None:
    path, expected = hostile_page
    assert {SCRIPT_NAME, IMAGE_NAME} <= set(expected.labels)
    opened = visit(path)
    assert_drawn_as_expected(opened, expected)

    click_node(opened, SCRIPT_NAME)
    assert panel_title(opened) == SCRIPT_NAME
    partnership = next(
        edge for edge in drawn(opened)["edges"] if edge["relation"] == "partnersWith"
    )
    # The node panel lists its facts; the relation's name opens the claims behind one.
    opened.page.locator("#details button.relation-name", has_text=partnership["label"]).click()
    assert any(SCRIPT_NAME in sentence for sentence in evidence_sentences(opened))
    marked = opened.page.locator("#details blockquote mark").all_inner_texts()
    assert SCRIPT_NAME in marked

    opened.page.locator("#search").fill(IMAGE_NAME)
    opened.page.locator("#search").press("Enter")
    assert panel_title(opened) == IMAGE_NAME
    assert opened.page.title() == "<b>hostile</b>"

    # Nothing ran, nothing was fetched, and the only elements are the page's own.
    assert opened.evaluate("() => window.pwned") is None
    assert opened.evaluate("() => document.querySelectorAll('img, b, script').length") == 3
    assert_offline_and_quiet(opened)
    assert set(opened.requests) == {path.resolve().as_uri()}


# --- large graphs --------------------------------------------------------------------------


def test_large_graph_opens_on_its_centre_and_expands_on_demand(
    visit: Callable[[Path], Visit], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    page = tmp_path / "large.html"
    page.write_text(render_html(large_graph(1000), html_dir=tmp_path), encoding="utf-8")
    opened = visit(page)
    assert len(drawn(opened)["nodes"]) == INITIAL_NODE_LIMIT
    assert re.search(r"Showing 300 of 1,000 entities", opened.page.locator("#status").inner_text())

    # A leaf's panel offers to show its neighbours that the opening view holds back.
    hidden_leaf = opened.evaluate(
        """() => {
          const data = JSON.parse(document.getElementById("graph-data").textContent);
          const shown = new Set(window.newskg.nodes.getIds());
          const edge = data.edges.find((edge) => shown.has(edge.to) && !shown.has(edge.from));
          return { hub: data.nodes[edge.to].label };
        }"""
    )
    opened.page.locator("#search").fill(hidden_leaf["hub"])
    opened.page.locator("#search").press("Enter")
    reveal = opened.page.locator("#details button.reveal")
    hidden = int(re.search(r"Show (\d+) hidden", reveal.inner_text()).group(1))
    reveal.click()
    assert len(drawn(opened)["nodes"]) == INITIAL_NODE_LIMIT + hidden
    assert opened.page.locator("#details button.reveal").count() == 0

    opened.page.get_by_role("button", name="Show all 1,000 entities").click()
    shown = drawn(opened)
    assert len(shown["nodes"]) == 1000
    assert len(shown["edges"]) == sum(expected_from(large_graph(1000)).links.values())
    assert_offline_and_quiet(opened)
