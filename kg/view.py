"""The interactive HTML view: one self-contained page that needs no network.

``render_html`` reads the graph's triples (pyoxigraph terms) into plain JSON (entities, the
facts between them with the claims and evidence behind each, the sources, and the ontology's
labels, colours and shapes), lays the entities out here so that the page draws at once with
physics off, and fills ``templates/graph.html`` with that JSON, the page's own script and
style, and vis-network's script and style read from the installed pyvis package.
"""
from __future__ import annotations

import html
import math
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from decimal import Decimal, InvalidOperation
from functools import cache, cached_property, lru_cache
from importlib.resources import files
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import quote

import networkx as nx
import numpy as np
import orjson
import pyoxigraph as ox
import scipy.sparse  # noqa: F401 - networkx's PageRank runs on it: loaded with the view, not mid-render
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

from kg import collector, vocab
from kg.types import ENTITY_TYPES
from kg.vocab import KGO, OA

Json = dict[str, Any]
Term = ox.NamedNode | ox.BlankNode | ox.Literal  # the graphs kg build writes hold no triple terms

# Larger graphs open on their most central entities only; the rest is one click away.
INITIAL_NODE_LIMIT = 300
LAYOUT_SEED = 7
NODE_SPACING_PX = 100.0  # a component of n nodes gets a radius of NODE_SPACING_PX * sqrt(n)
COMPONENT_GAP_PX = 100.0
CHILD_SPACING_PX = 60.0  # between the entities that hang off one anchor
GOLDEN_ANGLE = math.pi * (3 - math.sqrt(5))
PACK_ASPECT = 1.2  # width to height of the packed components, near the canvas's
NUDGE_PX = 12  # how far an entity moves off another that has the same place
LABEL_BOX_PX = 46.0  # the height of a node with its label below it, near enough
SPREAD_ROUNDS = 30
LABEL_MARGIN_PX = 8.0  # kept clear on each side of a label
LABEL_CHAR_PX = 10.5  # the width of a label's character, near enough, at the page's 18 px font
MIN_NODE_SIZE, MAX_NODE_SIZE = 8.0, 32.0

# The fallback type of an entity that has no kgo: entity class; the ontology's root class.
UNTYPED = "Entity"
DEFAULT_COLOR = "#9e9e9e"
DEFAULT_SHAPE = "dot"

ENTITY_RELATIONS = tuple(name for name in vocab.RELATIONS if name not in vocab.LITERAL_RELATIONS)
WIKIDATA_IRI = re.compile(r"^https?://(www\.)?wikidata\.org/")
TEMPLATE_MARKER = re.compile(r"@@([A-Z_]+)@@")
# Article text inside <script type="application/json"> must not be able to end the element or
# open a comment; JSON allows these escapes inside strings, which is the only place they occur.
SCRIPT_SAFE_JSON = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))

# The vocabulary the view reads from the graph, as plain IRIs: a pyoxigraph term gives its IRI
# as a str, and an rdflib term, though a str, never equals one.
RDF_TYPE, RDF_SUBJECT = str(RDF.type), str(RDF.subject)
RDF_PREDICATE, RDF_OBJECT = str(RDF.predicate), str(RDF.object)
RDFS_LABEL, SKOS_ALT_LABEL, OWL_SAME_AS = str(RDFS.label), str(SKOS.altLabel), str(OWL.sameAs)
DCTERMS_IDENTIFIER, DCTERMS_TITLE = str(DCTERMS.identifier), str(DCTERMS.title)
DCTERMS_DATE, PROV_WAS_DERIVED_FROM = str(DCTERMS.date), str(PROV.wasDerivedFrom)
OA_EXACT, OA_START, OA_END = str(OA.exact), str(OA.start), str(OA.end)
KGO_CLAIM, KGO_SOURCE, KGO_PATH = str(KGO.Claim), str(KGO.Source), str(KGO.path)
KGO_MENTIONED_IN, KGO_FOUNDING_DATE = str(KGO.mentionedIn), str(KGO.foundingDate)
KGO_CONFIDENCE, KGO_AMOUNT, KGO_CURRENCY = str(KGO.confidence), str(KGO.amount), str(KGO.currency)
KGO_APPROXIMATE, KGO_UNDISCLOSED = str(KGO.approximate), str(KGO.undisclosed)
KGO_HEDGED, KGO_DISPUTED_BY = str(KGO.hedged), str(KGO.disputedBy)
KGO_REPORTED_BY, KGO_ROLE, KGO_DATE = str(KGO.reportedBy), str(KGO.role), str(KGO.date)
KGO_EVIDENCE, KGO_EXTRACTED_BY = str(KGO.evidence), str(KGO.extractedBy)
XSD_BOOLEAN = ox.NamedNode(str(XSD.boolean))
BOOLEAN_TRUE = frozenset({"true", "1"})  # the lexical forms of xsd:boolean true


def render_html(
    quads: Iterable[ox.Quad | ox.Triple],
    *,
    title: str = "newskg graph",
    html_dir: Path | None = None,
) -> str:
    """The complete, offline HTML page for a graph given as pyoxigraph Quads or Triples.

    The page shows the union of the quads' graphs: claims and evidence sit in per-source
    named graphs, entities in the default graph. ``quads`` is read once, so a parser's output
    can be passed as it is. ``html_dir`` is the folder the page will be written to (default:
    the working folder); each source's ``kgo:path``, relative to the working folder, becomes
    a link relative to it. The same graph always gives the same text, in whatever order its
    triples come.
    """
    page_dir = Path(html_dir) if html_dir is not None else Path.cwd()
    with collector.paused():  # reading a graph makes a set per subject and property
        return _page(title, _graph_data(Properties(quads), page_dir))


def _graph_data(props: Properties, html_dir: Path) -> Json:
    """Everything the page shows, as JSON-ready data, in IRI order."""
    ontology = vocab.ontology()
    sources = _sources(props, html_dir)
    source_index = {source["iri"]: index for index, source in enumerate(sources)}
    facts = _facts(props)
    nodes = _nodes(props, _entity_iris(props, facts), source_index)
    node_index = {node["iri"]: node["id"] for node in nodes}
    ends = {end for subject, _, obj in facts for end in (subject, obj)}
    names = {node["iri"]: _Names(node) for node in nodes if node["iri"] in ends}
    claims = _claims_by_fact(props, source_index, names)
    edges = [
        _edge(index, fact, node_index, claims.get(fact, [])) for index, fact in enumerate(facts)
    ]
    _place(nodes, edges)
    # A founding date is a fact too, but its object is a year: the node panel shows it.
    founding_dates = sum(len(node["foundingDate"]) for node in nodes)
    return {
        "counts": {
            "entities": len(nodes),
            "facts": len(edges) + founding_dates,
            "foundingDates": founding_dates,
            "sources": len(sources),
        },
        "initialLimit": INITIAL_NODE_LIMIT,
        "types": _entity_types(ontology, nodes),
        "relations": _relations(ontology, edges),
        "sources": sources,
        "nodes": nodes,
        "edges": edges,
    }


# --- reading the graph ---------------------------------------------------------------------


EMPTY: AbstractSet[Term] = frozenset()


class Properties:
    """The values of a graph's properties by subject.

    One pass over the triples sorts them by predicate IRI. A predicate's table, which holds
    each subject's values, each once however many of the graphs assert it, is made when first
    asked for: a graph holds many statements that the view does not show (mention counts,
    alias provenance, file formats).
    """

    def __init__(self, quads: Iterable[ox.Quad | ox.Triple]) -> None:
        self._statements: defaultdict[str, list[ox.Quad | ox.Triple]] = defaultdict(list)
        for quad in quads:
            self._statements[quad.predicate.value].append(quad)
        self._tables: dict[str, dict[Term, set[Term]]] = {}
        self._inverses: dict[str, dict[Term, list[Term]]] = {}

    def values(self, subject: Term, predicate: str) -> AbstractSet[Term]:
        table = self._tables.get(predicate)  # asked for a hundred thousand times: no call
        return (self._table(predicate) if table is None else table).get(subject, EMPTY)

    def pairs(self, predicate: str) -> Iterator[tuple[Term, Term]]:
        """(subject, value) of every statement of ``predicate``."""
        for subject, values in self._table(predicate).items():
            for value in values:
                yield subject, value

    def _table(self, predicate: str) -> dict[Term, set[Term]]:
        """Each subject's values of ``predicate``, made on first use."""
        if predicate not in self._tables:
            table: defaultdict[Term, set[Term]] = defaultdict(set)
            for quad in self._statements.pop(predicate, ()):
                table[quad.subject].add(quad.object)
            self._tables[predicate] = table
        return self._tables[predicate]

    def subjects(self, predicate: str, iri: str) -> list[Term]:
        """The subjects that have the IRI ``iri`` among their values of ``predicate``."""
        return list(self._inverse(predicate).get(ox.NamedNode(iri), ()))

    def _inverse(self, predicate: str) -> dict[Term, list[Term]]:
        """The subjects of each value of ``predicate``, indexed on first use: the view asks
        for the entities of each type, the sources and the claims, and each such question
        would otherwise read every typed subject."""
        if predicate not in self._inverses:
            inverse: defaultdict[Term, list[Term]] = defaultdict(list)
            for subject, value in self.pairs(predicate):
                inverse[value].append(subject)
            self._inverses[predicate] = inverse
        return self._inverses[predicate]

    def first(self, subject: Term, predicate: str) -> Term | None:
        """One value, the same one on every run when there are several."""
        values = self.values(subject, predicate)
        if len(values) == 1:  # the usual case; min's keyword arguments cost more than this
            return next(iter(values))
        return min(values, key=_term_text, default=None)

    def text(self, subject: Term, predicate: str) -> str | None:
        value = self.first(subject, predicate)
        return None if value is None else value.value

    def texts(self, subject: Term, predicate: str) -> list[str]:
        return sorted({value.value for value in self.values(subject, predicate)})

    def flag(self, subject: Term, predicate: str) -> bool:
        value = self.first(subject, predicate)
        return (
            isinstance(value, ox.Literal)
            and value.datatype == XSD_BOOLEAN
            and value.value in BOOLEAN_TRUE
        )

    def label(self, iri: Term) -> str:
        return self.text(iri, RDFS_LABEL) or _local_name(iri.value)


def _term_text(term: Term) -> str:
    """The IRI, blank node id or lexical form: what the page shows and sorts terms by."""
    return term.value


def _local_name(iri: str) -> str:
    return re.split(r"[#/]", iri)[-1]


def _sources(props: Properties, html_dir: Path) -> list[Json]:
    """Every source: those described, and those only mentioned by entities or claims."""
    claimed = {
        source
        for claim in props.subjects(RDF_TYPE, KGO_CLAIM)
        for source in props.values(claim, PROV_WAS_DERIVED_FROM)
    }
    mentioned = {source for _, source in props.pairs(KGO_MENTIONED_IN)}
    iris = set(props.subjects(RDF_TYPE, KGO_SOURCE)) | mentioned | claimed
    return [_source(props, iri, html_dir) for iri in sorted(iris, key=_term_text)]


def _source(props: Properties, iri: Term, html_dir: Path) -> Json:
    path = props.text(iri, KGO_PATH)
    return {
        "iri": iri.value,
        "id": props.text(iri, DCTERMS_IDENTIFIER) or _local_name(iri.value),
        "title": props.text(iri, DCTERMS_TITLE),
        "date": props.text(iri, DCTERMS_DATE),
        "href": None if path is None else _relative_link(path, html_dir),
    }


def _relative_link(path: str, html_dir: Path) -> str:
    """A URL relative to the page's folder for a file given relative to the working folder.
    Percent-encoding keeps the link a relative path whatever the file is called (a name
    like ``javascript:x`` would otherwise read as a URL scheme)."""
    folder, name = os.path.split(path)
    return quote(os.path.join(_relative_folder(folder, str(html_dir), os.getcwd()), name).replace(os.sep, "/"))


@lru_cache(maxsize=1024)  # the articles of a corpus share a few folders (a JSON Lines one, one)
def _relative_folder(folder: str, html_dir: str, working_dir: str) -> str:
    relative = os.path.relpath(os.path.join(working_dir, folder), os.path.join(working_dir, html_dir))
    return "" if relative == "." else relative


def _facts(props: Properties) -> list[tuple[str, str, str]]:
    """(subject IRI, relation, object IRI) of each fact between two entities, in IRI order.

    A symmetric fact is kept once, its two ends in IRI order, whichever way it is asserted.
    """
    facts = set()
    for relation in ENTITY_RELATIONS:
        for subject, obj in props.pairs(str(KGO[relation])):
            if isinstance(subject, ox.NamedNode) and isinstance(obj, ox.NamedNode):
                facts.add(_fact_key(subject.value, relation, obj.value))
    return sorted(facts)


def _fact_key(subject: str, relation: str, obj: str) -> tuple[str, str, str]:
    if relation in vocab.SYMMETRIC_RELATIONS:
        subject, obj = sorted((subject, obj))
    return subject, relation, obj


def _entity_iris(props: Properties, facts: list[tuple[str, str, str]]) -> list[str]:
    """Every typed entity, and every end of a fact even if its type is missing."""
    typed = {
        entity.value
        for name in ENTITY_TYPES
        for entity in props.subjects(RDF_TYPE, str(KGO[name]))
        if isinstance(entity, ox.NamedNode)
    }
    ends = {end for subject, _, obj in facts for end in (subject, obj)}
    return sorted(typed | ends)


def _nodes(props: Properties, iris: list[str], source_index: dict[str, int]) -> list[Json]:
    return [_node(props, ox.NamedNode(iri), index, source_index) for index, iri in enumerate(iris)]


def _node(props: Properties, iri: ox.NamedNode, index: int, source_index: dict[str, int]) -> Json:
    types = {_local_name(kind.value) for kind in props.values(iri, RDF_TYPE)}
    return {
        "id": index,
        "iri": iri.value,
        "label": props.label(iri),
        "type": next((name for name in ENTITY_TYPES if name in types), UNTYPED),
        "aliases": props.texts(iri, SKOS_ALT_LABEL),
        "wikidata": [link for link in props.texts(iri, OWL_SAME_AS) if WIKIDATA_IRI.match(link)],
        "foundingDate": props.texts(iri, KGO_FOUNDING_DATE),
        "sources": sorted(
            source_index[source.value] for source in props.values(iri, KGO_MENTIONED_IN)
        ),
    }


class _Names:
    """Finds an entity's label or any alias in a text as whole words, ignoring case, longest
    first, as the pattern ``(?<!\\w)(?:longest|...|shortest)(?!\\w)`` with re.IGNORECASE would.

    Compiling that pattern for every end of a fact cost more than the whole page's searching
    (3,000 ends: 0.3 s), so a text and names in ASCII, where lowercasing is all that ignoring
    case does, are searched with str.find; anything else goes to the pattern, compiled when
    first needed."""

    def __init__(self, node: Json) -> None:
        names = {node["label"], *node["aliases"]} - {""}
        self.names = sorted(names, key=lambda name: (-len(name), name))
        ascii_only = all(name.isascii() for name in names)
        self.lowered = sorted({name.lower() for name in names}) if ascii_only else None

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        alternatives = "|".join(re.escape(name) for name in self.names) or r"(?!)"
        return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of each occurrence, left to right, none overlapping."""
        if self.lowered is None or not text.isascii():
            return [match.span() for match in self.pattern.finditer(text)]
        lowered = text.lower()
        found = []
        for name in self.lowered:
            start = lowered.find(name)
            while start != -1:
                end = start + len(name)
                if not _word_character(lowered, start - 1) and not _word_character(lowered, end):
                    found.append((start, end, ""))
                start = lowered.find(name, start + 1)
        return [(start, end) for start, end, _ in _leftmost_longest(found)]


def _leftmost_longest(found: Iterable[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Of (start, end, tag) occurrences, those left when overlaps are settled: the earliest
    wins, then the longest, then the first tag, as a regex scanning left to right finds them."""
    kept: list[tuple[int, int, str]] = []
    for start, end, tag in sorted(found, key=lambda found: (found[0], found[0] - found[1], found[2])):
        if not kept or start >= kept[-1][1]:
            kept.append((start, end, tag))
    return kept


def _word_character(text: str, index: int) -> bool:
    """What ``\\w`` matches, at ``index`` of ``text`` (False outside it)."""
    return 0 <= index < len(text) and (text[index].isalnum() or text[index] == "_")


def _claims_by_fact(
    props: Properties, source_index: dict[str, int], names: dict[str, _Names]
) -> dict[tuple[str, str, str], list[Json]]:
    """The claims of each fact between two entities, in claim IRI order.

    ``names`` finds each entity's label and aliases, to mark them in the evidence.
    """
    relations = {str(KGO[name]): name for name in ENTITY_RELATIONS}
    claims: dict[tuple[str, str, str], list[Json]] = defaultdict(list)
    for claim in sorted(props.subjects(RDF_TYPE, KGO_CLAIM), key=_term_text):
        subject = props.first(claim, RDF_SUBJECT)
        predicate = props.first(claim, RDF_PREDICATE)
        relation = None if predicate is None else relations.get(predicate.value)
        obj = props.first(claim, RDF_OBJECT)
        if not (relation and isinstance(subject, ox.NamedNode) and isinstance(obj, ox.NamedNode)):
            continue  # a literal-valued claim (foundingDate): the node panel shows the value
        fact = _fact_key(subject.value, relation, obj.value)
        roles = {"subject": names.get(fact[0]), "object": names.get(fact[2])}
        claims[fact].append(_claim(props, claim, source_index, roles))
    return claims


def _claim(
    props: Properties,
    claim: Term,
    source_index: dict[str, int],
    names: dict[str, _Names | None],
) -> Json:
    source = props.first(claim, PROV_WAS_DERIVED_FROM)
    confidence = props.text(claim, KGO_CONFIDENCE)
    reporter = props.first(claim, KGO_REPORTED_BY)
    amount = _amount_text(props.text(claim, KGO_AMOUNT), props.text(claim, KGO_CURRENCY))
    return {
        "iri": claim.value,
        "source": None if source is None else source_index[source.value],
        "confidence": None if confidence is None else round(float(confidence), 4),
        "amount": amount,
        "approximate": props.flag(claim, KGO_APPROXIMATE),
        "undisclosed": props.flag(claim, KGO_UNDISCLOSED),
        "hedged": props.flag(claim, KGO_HEDGED),
        "reportedBy": None if reporter is None else props.label(reporter),
        "role": props.text(claim, KGO_ROLE),
        "date": props.text(claim, KGO_DATE),
        "patterns": sorted(
            {_local_name(rule.value) for rule in props.values(claim, KGO_EXTRACTED_BY)}
        ),
        "disputed": bool(props.values(claim, KGO_DISPUTED_BY)),
        "evidence": sorted(
            (_evidence(props, evidence, names) for evidence in props.values(claim, KGO_EVIDENCE)),
            key=lambda quote: (quote["start"] is None, quote["start"] or 0, quote["iri"]),
        ),
    }


def _evidence(
    props: Properties, evidence: Term, names: dict[str, _Names | None]
) -> Json:
    exact = props.text(evidence, OA_EXACT) or ""
    start = props.text(evidence, OA_START)
    end = props.text(evidence, OA_END)
    pattern = props.text(evidence, KGO_EXTRACTED_BY)
    return {
        "iri": evidence.value,
        "exact": exact,
        "highlights": _highlights(exact, names),
        "start": None if start is None else int(start),
        "end": None if end is None else int(end),
        "pattern": None if pattern is None else _local_name(pattern),
    }


def _amount_text(amount: str | None, currency: str | None) -> str | None:
    """``"75000000"`` and ``"USD"`` as ``"75,000,000 USD"``."""
    if amount is None:
        return None
    try:
        number = f"{Decimal(amount).normalize():,f}"
    except InvalidOperation:
        number = amount
    return number if currency is None else f"{number} {currency}"


# --- facts as edges ------------------------------------------------------------------------


def _edge(
    index: int, fact: tuple[str, str, str], node_index: dict[str, int], claims: list[Json]
) -> Json:
    subject, relation, obj = fact
    sources = {claim["source"] for claim in claims if claim["source"] is not None}
    return {
        "id": index,
        "from": node_index[subject],
        "to": node_index[obj],
        "relation": relation,
        "sourceCount": len(sources),
        "hedged": bool(claims) and all(claim["hedged"] for claim in claims),
        "disputed": any(claim["disputed"] for claim in claims),
        "claims": claims,
    }


def _highlights(text: str, names: dict[str, _Names | None]) -> list[list[Any]]:
    """[start, end, role] of each whole-word occurrence of the two entities' names in ``text``.

    Offsets count code points, like the evidence offsets. Where occurrences overlap, the
    earliest wins, then the longest, so that "Acme Corp" is marked rather than "Acme".
    """
    found = (
        (start, end, role)
        for role, finder in names.items()
        if finder is not None
        for start, end in finder.spans(text)
    )
    return [[start, end, role] for start, end, role in _leftmost_longest(found)]


# --- ontology styles -----------------------------------------------------------------------


def _english_label(ontology: Graph, term: URIRef, fallback: str) -> str:
    labels = sorted(
        ontology.objects(term, RDFS.label),
        key=lambda label: (getattr(label, "language", None) != "en", str(label)),
    )
    return str(labels[0]) if labels else fallback


def _style(ontology: Graph, term: URIRef, prop: URIRef, default: str) -> str:
    return str(min(ontology.objects(term, prop), key=str, default=default))


def _entity_types(ontology: Graph, nodes: list[Json]) -> list[Json]:
    """The legend's entity types: the contract's five, and the root class if one is untyped."""
    counts: dict[str, int] = defaultdict(int)
    for node in nodes:
        counts[node["type"]] += 1
    names = [*ENTITY_TYPES, UNTYPED] if counts[UNTYPED] else list(ENTITY_TYPES)
    return [
        {
            "id": name,
            "label": _english_label(ontology, KGO[name], name),
            "color": _style(ontology, KGO[name], KGO.color, DEFAULT_COLOR),
            "shape": _style(ontology, KGO[name], KGO.shape, DEFAULT_SHAPE),
            "count": counts[name],
        }
        for name in names
    ]


def _relations(ontology: Graph, edges: list[Json]) -> list[Json]:
    counts: dict[str, int] = defaultdict(int)
    for edge in edges:
        counts[edge["relation"]] += 1
    return [
        {
            "id": name,
            "label": _english_label(ontology, KGO[name], name),
            "color": _style(ontology, KGO[name], KGO.color, DEFAULT_COLOR),
            "symmetric": name in vocab.SYMMETRIC_RELATIONS,
            "count": counts[name],
        }
        for name in ENTITY_RELATIONS
    ]


# --- importance and layout -----------------------------------------------------------------


def _place(nodes: list[Json], edges: list[Json]) -> None:
    """Give each node its rank, size, fixed position and whether the page opens showing it."""
    ranks = _pagerank(len(nodes), _directed_links(edges))
    lowest = min(ranks, default=0.0)
    spread = (max(ranks, default=0.0) - lowest) or 1.0
    by_rank = sorted(range(len(nodes)), key=lambda index: (-ranks[index], nodes[index]["iri"]))
    label_widths = [LABEL_CHAR_PX * len(node["label"]) for node in nodes]
    positions = _layout(by_rank, [(edge["from"], edge["to"]) for edge in edges], label_widths)
    shown_first = set(by_rank[:INITIAL_NODE_LIMIT])
    for index, node in enumerate(nodes):
        node["rank"] = round(ranks[index], 6)
        relative = math.sqrt((ranks[index] - lowest) / spread)
        node["size"] = round(MIN_NODE_SIZE + (MAX_NODE_SIZE - MIN_NODE_SIZE) * relative, 1)
        node["x"], node["y"] = positions[index]
        node["initial"] = index in shown_first


def _directed_links(edges: list[Json]) -> list[tuple[int, int]]:
    """Each fact as a link from subject to object; a symmetric fact links both ways."""
    links = [(edge["from"], edge["to"]) for edge in edges]
    links += [
        (edge["to"], edge["from"])
        for edge in edges
        if edge["relation"] in vocab.SYMMETRIC_RELATIONS
    ]
    return links


def _pagerank(node_count: int, links: list[tuple[int, int]]) -> list[float]:
    """PageRank of each node over the facts as directed links (networkx, SciPy backend)."""
    graph = nx.DiGraph()
    graph.add_nodes_from(range(node_count))
    graph.add_edges_from(links)
    ranks = nx.pagerank(graph) if node_count else {}
    return [ranks[index] for index in range(node_count)]


def _layout(
    by_rank: list[int], links: list[tuple[int, int]], label_widths: list[float]
) -> list[tuple[int, int]]:
    """Whole-pixel positions, built outward from the most central entities.

    The page opens on the ``INITIAL_NODE_LIMIT`` most central entities, so they are laid out
    first, by force direction and as close together as their labels allow; every other entity
    then hangs off the most central placed neighbour that reaches it, farther out. Entities
    that none of them reaches form further blocks, laid out the same way, each below the last.
    (Force direction over the whole graph would take minutes at 20,000 entities, and would
    scatter the opening view over all of it.)
    """
    graph = nx.Graph()
    graph.add_nodes_from(by_rank)
    graph.add_edges_from(links)
    rank_order = {node: order for order, node in enumerate(by_rank)}
    positions: dict[int, tuple[float, float]] = {}
    remaining, top = by_rank, 0.0
    while remaining:
        block = _core_layout(graph, remaining[:INITIAL_NODE_LIMIT], label_widths)
        _hang(graph, block, rank_order)
        left, block_top, _, height = _bounds(block, label_widths)
        positions.update(
            (node, (x - left, y - block_top + top)) for node, (x, y) in block.items()
        )
        top += height + COMPONENT_GAP_PX
        remaining = [node for node in remaining if node not in positions]
    return _whole_pixels([positions[node] for node in range(len(by_rank))])


def _whole_pixels(points: list[tuple[float, float]]) -> list[tuple[int, int]]:
    """The points rounded, each moved right past any earlier one on the same pixel: an entity
    exactly on top of another could never be seen or clicked."""
    taken: set[tuple[int, int]] = set()
    rounded = []
    for x, y in points:
        point = (round(x), round(y))
        while point in taken:
            point = (point[0] + NUDGE_PX, point[1])
        taken.add(point)
        rounded.append(point)
    return rounded


def _core_layout(
    graph: nx.Graph, core: list[int], label_widths: list[float]
) -> dict[int, tuple[float, float]]:
    """The core entities' groups, each laid out alone by force direction, packed in rows.

    Two core entities are grouped when a fact links them, or when both are linked to the same
    entity outside the core, which will sit between them once shown.
    """
    core_graph = nx.Graph()
    core_graph.add_nodes_from(sorted(core))
    core_graph.add_edges_from(_core_links(graph, set(core)))
    components = sorted(
        (sorted(component) for component in nx.connected_components(core_graph)),
        key=lambda component: (-len(component), component[0]),
    )
    # An entity alone sits at its block's origin (as force direction would put it), spared
    # the layout's cost: most entities of a large corpus are named once, in no fact.
    blocks = [
        _spread_labels(_component_layout(core_graph, component), label_widths)
        if len(component) > 1
        else {component[0]: (0.0, 0.0)}
        for component in components
    ]
    return _pack(blocks, label_widths)


def _core_links(graph: nx.Graph, core: set[int]) -> set[tuple[int, int]]:
    """Links between core entities: direct, or through one entity outside the core."""
    links = {
        (min(node, other), max(node, other))
        for node in core
        for other in graph[node]
        if other in core and other != node
    }
    outside = sorted({other for node in core for other in graph[node] if other not in core})
    for middle in outside:
        ends = sorted(other for other in graph[middle] if other in core)
        links.update(zip(ends, ends[1:]))  # a chain keeps them together at linear cost
    return links


def _component_layout(
    graph: nx.Graph, component: list[int]
) -> dict[int, tuple[float, float]]:
    """Positions in px around (0, 0), spread in proportion to the component's size."""
    order = {node: index for index, node in enumerate(component)}
    links = sorted(tuple(sorted((order[a], order[b]))) for a, b in graph.edges(component))
    return dict(zip(component, _shape_layout(len(component), tuple(links))))


@lru_cache(maxsize=1024)
def _shape_layout(
    size: int, links: tuple[tuple[int, int], ...]
) -> tuple[tuple[float, float], ...]:
    """The seeded force-directed positions of nodes 0 to ``size - 1`` joined by ``links``.

    They depend on the shape alone, not on which entities fill it, and a large graph's
    components repeat a few shapes (most are two entities and the fact between them): each
    shape is laid out once.
    """
    # A fresh graph with nodes and edges in a fixed order: the seeded layout depends on it.
    subgraph = nx.Graph()
    subgraph.add_nodes_from(range(size))
    subgraph.add_edges_from(links)
    radius = NODE_SPACING_PX * math.sqrt(size)
    positions = nx.spring_layout(subgraph, seed=LAYOUT_SEED, scale=radius)
    return tuple((float(x), float(y)) for x, y in positions.values())


def _spread_labels(
    block: dict[int, tuple[float, float]], label_widths: list[float]
) -> dict[int, tuple[float, float]]:
    """The block's nodes moved apart vertically until no two labels overlap, or for at most
    ``SPREAD_ROUNDS`` rounds. Labels are wide and short: a vertical step parts them cheaply."""
    nodes = sorted(block)
    xy = np.array([block[node] for node in nodes], dtype=float)
    half_widths = np.array([label_widths[node] / 2 + LABEL_MARGIN_PX for node in nodes])
    order = np.arange(len(nodes))
    tie_side = np.sign(order[:, None] - order[None, :])  # for two nodes at the same height
    for _ in range(SPREAD_ROUNDS):
        dx = xy[:, None, 0] - xy[None, :, 0]
        dy = xy[:, None, 1] - xy[None, :, 1]
        overlap = LABEL_BOX_PX - np.abs(dy)
        overlapping = (np.abs(dx) < half_widths[:, None] + half_widths[None, :]) & (overlap > 0)
        np.fill_diagonal(overlapping, False)
        if not overlapping.any():
            break
        side = np.where(dy != 0, np.sign(dy), tie_side)
        # Each of the two moves half the overlap away from the other.
        xy[:, 1] += np.where(overlapping, overlap * side / 2, 0.0).sum(axis=1)
    return {node: (float(x), float(y)) for node, (x, y) in zip(nodes, xy)}


def _hang(
    graph: nx.Graph, positions: dict[int, tuple[float, float]], rank_order: dict[int, int]
) -> None:
    """Place every entity reachable from those in ``positions``, one step further each round.

    Each new entity goes to its most central placed neighbour (its anchor); an anchor's new
    neighbours fill a disc beside it, on the side away from where the anchor itself came
    from, so that the layout grows outward from the core. Linear in the graph's size.
    """
    xs, ys = zip(*positions.values())
    centre = (sum(xs) / len(xs), sum(ys) / len(ys))
    came_from = dict.fromkeys(positions, centre)
    frontier = sorted(positions, key=rank_order.__getitem__)
    while frontier:
        hanging: dict[int, list[int]] = defaultdict(list)
        claimed: set[int] = set()
        for anchor in frontier:  # in rank order: the most central anchor claims first
            for other in sorted(graph[anchor], key=rank_order.__getitem__):
                if other not in positions and other not in claimed:
                    claimed.add(other)
                    hanging[anchor].append(other)
        for anchor, group in hanging.items():
            disc = _disc(positions[anchor], came_from[anchor], len(group))
            for node, point in zip(group, disc):
                positions[node] = point
                came_from[node] = positions[anchor]
        frontier = sorted(claimed, key=rank_order.__getitem__)


def _disc(
    anchor: tuple[float, float], away_from: tuple[float, float], count: int
) -> list[tuple[float, float]]:
    """``count`` evenly spread points (a sunflower spiral) in a disc just beyond ``anchor``."""
    dx, dy = anchor[0] - away_from[0], anchor[1] - away_from[1]
    length = math.hypot(dx, dy)
    ux, uy = (dx / length, dy / length) if length > 0 else (1.0, 0.0)
    reach = CHILD_SPACING_PX * (math.sqrt(count) + 1)
    cx, cy = anchor[0] + ux * reach, anchor[1] + uy * reach
    return [
        (
            cx + CHILD_SPACING_PX * math.sqrt(index + 0.5) * math.cos(index * GOLDEN_ANGLE),
            cy + CHILD_SPACING_PX * math.sqrt(index + 0.5) * math.sin(index * GOLDEN_ANGLE),
        )
        for index in range(count)
    ]


def _pack(
    blocks: list[dict[int, tuple[float, float]]], label_widths: list[float]
) -> dict[int, tuple[float, float]]:
    """Place the components left to right in rows, the whole about as wide as a screen."""
    boxes = [(block, *_bounds(block, label_widths)) for block in blocks]
    area = sum(
        (width + COMPONENT_GAP_PX) * (height + COMPONENT_GAP_PX)
        for _, _, _, width, height in boxes
    )
    row_width = max([math.sqrt(area * PACK_ASPECT), *(width for _, _, _, width, _ in boxes)])
    positions = {}
    x = y = row_height = 0.0
    for block, left, top, width, height in boxes:
        if x > 0 and x + width > row_width:
            x, y, row_height = 0.0, y + row_height + COMPONENT_GAP_PX, 0.0
        for node, (node_x, node_y) in block.items():
            positions[node] = (x + node_x - left, y + node_y - top)
        x += width + COMPONENT_GAP_PX
        row_height = max(row_height, height)
    return positions


def _bounds(
    block: dict[int, tuple[float, float]], label_widths: list[float]
) -> tuple[float, float, float, float]:
    """Left, top, width and height of a block's nodes with their labels (centred below)."""
    left = min(x - label_widths[node] / 2 for node, (x, _) in block.items())
    right = max(x + label_widths[node] / 2 for node, (x, _) in block.items())
    ys = [y for _, y in block.values()]
    return left, min(ys), right - left, max(ys) - min(ys)


# --- the page ------------------------------------------------------------------------------


def _page(title: str, data: Json) -> str:
    vis_script, vis_style = _vis_assets()
    counts = data["counts"]
    values = {
        "TITLE": html.escape(title),
        "COUNTS": _counts_text(counts),
        "VIS_STYLE": vis_style,
        "VIEW_STYLE": _template("view.css"),
        "GRAPH_DATA": _script_json(data),
        "VIS_SCRIPT": vis_script,
        "VIEW_SCRIPT": _template("view.js"),
    }
    # One pass, so that no inserted text (the title, the data) is itself searched for markers.
    return TEMPLATE_MARKER.sub(lambda marker: values[marker.group(1)], _template("graph.html"))


def _script_json(data: Json) -> str:
    text = orjson.dumps(data).decode("utf-8")  # compact, and a fifth of the json module's time
    for character, escape in SCRIPT_SAFE_JSON:  # str.replace scans in C; str.translate maps each character in Python
        text = text.replace(character, escape)
    return text


def _counts_text(counts: dict[str, int]) -> str:
    """"20 entities · 14 facts (12 links between entities, 2 founding dates) · 5 sources"."""
    facts = _count(counts["facts"], "fact", "facts")
    if counts["foundingDates"]:
        between = _count(counts["facts"] - counts["foundingDates"], "link", "links")
        dates = _count(counts["foundingDates"], "founding date", "founding dates")
        facts = f"{facts} ({between} between entities, {dates})"
    entities = _count(counts["entities"], "entity", "entities")
    return " · ".join((entities, facts, _count(counts["sources"], "source", "sources")))


def _count(number: int, singular: str, plural: str) -> str:
    return f"{number:,} {singular if number == 1 else plural}"


def _template(name: str) -> str:
    return files("kg").joinpath("templates", name).read_text(encoding="utf-8")


@cache
def _vis_assets() -> tuple[str, str]:
    """vis-network's script and style, from the copy that pyvis ships.

    pyvis's folder is looked up, not imported: importing pyvis loads IPython, a fifth of a
    second that the page does not need.
    """
    spec = find_spec("pyvis")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("the view reads vis-network from pyvis: not installed")
    folder = Path(spec.origin).parent.joinpath("templates", "lib", "vis-9.1.2")
    script = folder.joinpath("vis-network.min.js").read_text(encoding="utf-8")
    # pyvis does not ship the source map; a browser's developer tools would try to fetch it.
    script = re.sub(r"//# sourceMappingURL=\S+\s*$", "", script)
    return script, folder.joinpath("vis-network.css").read_text(encoding="utf-8")
