"""Entities and claims as RDF quads, in the shape of the graph contract.

The default graph holds what the corpus as a whole says (entities, facts, the rules and
the build); each source's named graph holds what that source states (its description,
its claims and their evidence).

The quads are pyoxigraph terms, made straight from the records: every export, the store
and the validator read them without another conversion, which keeps the corpus-wide stages
cheap next to parsing. Their order is fixed by the records' order (sources by id, entities
and claims by key), so the same records give the same bytes without a sort, and each
subject's statements sit together, as Turtle and TriG group them.
"""
from __future__ import annotations

import datetime
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

import pyoxigraph as ox

from kg import ids
from kg.extract.rules import lexicon, rules, rules_fingerprint
from kg.ids import DEFAULT_BASE_IRI
from kg.resolve import Resolution
from kg.types import Claim, Document, Entity, canonical_decimal
from kg.vocab import KGO, KGR, LITERAL_RELATIONS, OA

FORMATS = {"txt": "text/plain", "md": "text/markdown", "html": "text/html"}
PREFIXES = {
    "kgo": str(KGO),
    "kgr": str(KGR),
    "prov": "http://www.w3.org/ns/prov#",
    "oa": str(OA),
    "dcterms": "http://purl.org/dc/terms/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "schema": "https://schema.org/",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS_NS = "http://www.w3.org/2000/01/rdf-schema#"


@cache
def term(prefix: str, local: str) -> ox.NamedNode:
    """``term("kgo", "Claim")``: a vocabulary IRI, made once."""
    namespace = {"rdf": RDF_NS, "rdfs": RDFS_NS, **PREFIXES}[prefix]
    return ox.NamedNode(namespace + local)


A = term("rdf", "type")
LABEL = term("rdfs", "label")
XSD_DECIMAL, XSD_INTEGER = term("xsd", "decimal"), term("xsd", "integer")
TRUE = ox.Literal("true", datatype=term("xsd", "boolean"))


@dataclass(frozen=True, slots=True)
class BuildInfo:
    """What made the graph, for its provenance: same inputs and settings, same IRI."""

    newskg_version: str
    pipeline: str
    pipeline_version: str
    parameters: Mapping[str, str] = field(default_factory=dict)
    timestamp: str | None = None  # only when the user asks: it makes output differ per run


@dataclass(frozen=True, slots=True)
class Iris:
    """Where each kind of node lives under the base IRI."""

    base: str = DEFAULT_BASE_IRI
    # Each source's IRI, made once: a graph names a source once per entity it mentions.
    _sources: dict[str, ox.NamedNode] = field(default_factory=dict, compare=False, repr=False)

    def entity(self, key: str) -> ox.NamedNode:
        return ox.NamedNode(f"{self.base}entity/{key}")

    def source(self, document_id: str) -> ox.NamedNode:
        node = self._sources.get(document_id)
        if node is None:
            node = self._sources[document_id] = ox.NamedNode(f"{self.base}source/{ids.source_key(document_id)}")
        return node

    def claim(self, key: str) -> ox.NamedNode:
        return ox.NamedNode(f"{self.base}claim/{key}")

    def evidence(self, key: str) -> ox.NamedNode:
        return ox.NamedNode(f"{self.base}evidence/{key}")

    def build(self, key: str) -> ox.NamedNode:
        return ox.NamedNode(f"{self.base}build/{key}")


class RdfGraph:
    """The built graph: its quads (default graph first, then a named graph per source) and,
    for the files that hold one graph, the union of their triples in the same order.

    ``disjoint`` says no triple sits in two graphs, as ``build_graph`` makes them (each
    statement is about a node of its own graph): the union is then the quads' triples as
    they come, made as a file is written rather than kept beside the quads."""

    def __init__(self, quads: Iterable[ox.Quad], *, disjoint: bool = False) -> None:
        self.quads: list[ox.Quad] = list(dict.fromkeys(quads))  # in order, each once
        self.disjoint = disjoint

    def triples(self) -> Iterator[ox.Triple]:
        triples = (quad.triple for quad in self.quads)
        return triples if self.disjoint else iter(dict.fromkeys(triples))

    def __len__(self) -> int:
        """The number of triples in the union."""
        return len(self.quads) if self.disjoint else sum(1 for _ in self.triples())


Value = ox.NamedNode | ox.Literal


class _Writer:
    """Collects quads into one graph at a time (the default graph until told otherwise)."""

    def __init__(self) -> None:
        self.quads: list[ox.Quad] = []
        self.graph: ox.NamedNode | None = None  # None: the default graph

    def add(self, subject: ox.NamedNode, predicate: ox.NamedNode, value: Value) -> None:
        # A quad made without a graph name is in the default graph; pyoxigraph takes about
        # ten times longer to make one from an explicit DefaultGraph.
        if self.graph is None:
            self.quads.append(ox.Quad(subject, predicate, value))
        else:
            self.quads.append(ox.Quad(subject, predicate, value, self.graph))


def build_graph(resolution: Resolution, info: BuildInfo, base_iri: str = DEFAULT_BASE_IRI) -> RdfGraph:
    iris = Iris(base_iri)
    out = _Writer()
    build = _add_build(out, iris, info, resolution.documents)
    _add_rules(out)
    facts: dict[str, list[tuple[ox.NamedNode, Value]]] = defaultdict(list)
    claims: dict[str, list[Claim]] = defaultdict(list)
    for claim in resolution.claims:
        facts[claim.subject].append((term("kgo", claim.relation), _object(iris, claim)))
        claims[claim.doc_id].append(claim)
    for entity in resolution.entities:
        # Sorted, so that a subject's values of one relation sit together, as Turtle lists them.
        _add_entity(out, iris, entity, sorted(facts.get(entity.key, ()), key=lambda fact: (fact[0].value, str(fact[1]))))
    for document in resolution.documents:
        out.graph = iris.source(document.id)
        _add_source(out, iris, document)
        for claim in claims.get(document.id, ()):
            _add_claim(out, iris, claim, build)
    return RdfGraph(out.quads, disjoint=True)


def _add_build(out: _Writer, iris: Iris, info: BuildInfo, documents: Sequence[Document]) -> ox.NamedNode:
    parameters = json.dumps(dict(sorted(info.parameters.items())), sort_keys=True)
    # The inputs, the rules and the time are part of what the build is: two builds of other
    # articles, with edited rules or at other times are other activities, even with the
    # same settings.
    inputs = sorted(f"{document.id}:{ids.digest(document.text)}" for document in documents)
    settings = (parameters, rules_fingerprint(), info.timestamp or "")
    key = ids.digest(info.newskg_version, info.pipeline, info.pipeline_version, *settings, *inputs)
    node = iris.build(key)
    out.add(node, A, term("kgo", "Build"))
    out.add(node, A, term("prov", "Activity"))
    out.add(node, LABEL, ox.Literal(f"newskg {info.newskg_version} build"))
    out.add(node, term("kgo", "newskgVersion"), ox.Literal(info.newskg_version))
    out.add(node, term("kgo", "pipeline"), ox.Literal(info.pipeline))
    out.add(node, term("kgo", "pipelineVersion"), ox.Literal(info.pipeline_version))
    out.add(node, term("kgo", "parameters"), ox.Literal(parameters))
    if info.timestamp:
        out.add(node, term("prov", "endedAtTime"), ox.Literal(info.timestamp, datatype=term("xsd", "dateTime")))
    for document in documents:
        out.add(node, term("prov", "used"), iris.source(document.id))
    return node


def _add_rules(out: _Writer) -> None:
    """Describe every pattern a claim or alias can name, so users can see how it was found."""
    described = [(rule.id, rule.description, rule.reliability) for rule in rules()]
    described += [(rule_id, text, None) for rule_id, text in sorted(lexicon().words["join_rules"].items())]
    for rule_id, description, reliability in described:
        node = term("kgr", rule_id)
        out.add(node, A, term("kgo", "ExtractionPattern"))
        out.add(node, LABEL, ox.Literal(rule_id))
        out.add(node, term("rdfs", "comment"), ox.Literal(description))
        if reliability is not None:
            out.add(node, term("kgo", "reliability"), decimal_literal(reliability))


def _add_entity(out: _Writer, iris: Iris, entity: Entity, facts: Iterable[tuple[ox.NamedNode, Value]]) -> None:
    node = iris.entity(entity.key)
    out.add(node, A, term("kgo", entity.type))
    out.add(node, LABEL, ox.Literal(entity.label))
    out.add(node, term("kgo", "mentionCount"), ox.Literal(str(entity.mention_count), datatype=term("xsd", "nonNegativeInteger")))
    for document_id in entity.mentioned_in:
        out.add(node, term("kgo", "mentionedIn"), iris.source(document_id))
    for alias, _ in entity.aliases:
        out.add(node, term("skos", "altLabel"), ox.Literal(alias))
    for iri in entity.same_as:
        out.add(node, term("owl", "sameAs"), ox.NamedNode(iri))
    for relation, target in facts:
        out.add(node, relation, target)
    joins = [(_alias_join(node, alias), alias, rule) for alias, rule in entity.aliases]
    for join, _, _ in joins:
        out.add(node, term("kgo", "aliasJoin"), join)
    for join, alias, rule in joins:
        out.add(join, A, term("kgo", "AliasJoin"))
        out.add(join, term("kgo", "alias"), ox.Literal(alias))
        out.add(join, term("kgo", "joinedBy"), term("kgr", rule))


def _alias_join(entity: ox.NamedNode, alias: str) -> ox.NamedNode:
    return ox.NamedNode(f"{entity.value}/alias/{ids.slug(alias) or 'name'}-{ids.digest(alias, length=6)}")


def _add_source(out: _Writer, iris: Iris, document: Document) -> None:
    node = iris.source(document.id)
    out.add(node, A, term("kgo", "Source"))
    out.add(node, A, term("prov", "Entity"))
    out.add(node, term("dcterms", "identifier"), ox.Literal(document.id))
    out.add(node, term("dcterms", "format"), ox.Literal(FORMATS[document.format]))
    if document.path:
        out.add(node, term("kgo", "path"), ox.Literal(document.path))
    if document.title:
        out.add(node, term("dcterms", "title"), ox.Literal(document.title))
    if document.date:
        out.add(node, term("dcterms", "date"), date_literal(document.date))


def decimal_literal(value: float | str | Decimal) -> ox.Literal:
    """An xsd:decimal in canonical form ("0.9", "75000000.0"): str(Decimal) can give "1E-7"
    or "0.90", which are not canonical, and the first is not even a decimal."""
    return ox.Literal(canonical_decimal(Decimal(str(value))), datatype=XSD_DECIMAL)


YEAR = re.compile(r"\d{4}")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def date_literal(text: str) -> ox.Literal:
    """An xsd:gYear ("2021") or xsd:date ("2021-03-04") when ``text`` is a real one; anything
    else stays a plain string, which the shapes reject, rather than a false xsd:date."""
    if YEAR.fullmatch(text):
        return ox.Literal(text, datatype=term("xsd", "gYear"))
    if ISO_DATE.fullmatch(text) and _is_calendar_date(text):
        return ox.Literal(text, datatype=term("xsd", "date"))
    return ox.Literal(text)


def _is_calendar_date(text: str) -> bool:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _object(iris: Iris, claim: Claim) -> Value:
    if claim.object is not None:
        return iris.entity(claim.object)
    return date_literal(claim.literal or "")


def _add_claim(out: _Writer, iris: Iris, claim: Claim, build: ox.NamedNode) -> None:
    node = iris.claim(claim.key)
    source = iris.source(claim.doc_id)
    out.add(node, A, term("kgo", "Claim"))
    out.add(node, A, term("prov", "Entity"))
    out.add(node, term("rdf", "subject"), iris.entity(claim.subject))
    out.add(node, term("rdf", "predicate"), term("kgo", claim.relation))
    out.add(node, term("rdf", "object"), _object(iris, claim))
    out.add(node, term("prov", "wasDerivedFrom"), source)
    out.add(node, term("prov", "wasGeneratedBy"), build)
    out.add(node, term("kgo", "confidence"), decimal_literal(claim.confidence))
    details = claim.details
    if details.amount is not None:
        out.add(node, term("kgo", "amount"), decimal_literal(details.amount))
        if details.currency:
            out.add(node, term("kgo", "currency"), ox.Literal(details.currency))
        if details.approximate:
            out.add(node, term("kgo", "approximate"), TRUE)
    if details.undisclosed:
        out.add(node, term("kgo", "undisclosed"), TRUE)
    if details.hedged:
        out.add(node, term("kgo", "hedged"), TRUE)
    if details.role:
        out.add(node, term("kgo", "role"), ox.Literal(details.role))
    if details.date and claim.relation not in LITERAL_RELATIONS:
        out.add(node, term("kgo", "date"), date_literal(details.date))
    if claim.reported_by:
        out.add(node, term("kgo", "reportedBy"), iris.entity(claim.reported_by))
    for other in claim.corroborated_by:
        out.add(node, term("kgo", "corroboratedBy"), iris.claim(other))
    for other in claim.disputed_by:
        out.add(node, term("kgo", "disputedBy"), iris.claim(other))
    evidence = [(iris.evidence(ids.evidence_key(claim.key, e.span.start, e.span.end)), e) for e in claim.evidence]
    for node_of_evidence, _ in evidence:
        out.add(node, term("kgo", "evidence"), node_of_evidence)
    for _, item in evidence:
        out.add(node, term("kgo", "extractedBy"), term("kgr", item.pattern))
    for ev, item in evidence:
        out.add(ev, A, term("kgo", "Evidence"))
        out.add(ev, A, term("oa", "TextQuoteSelector"))
        out.add(ev, A, term("oa", "TextPositionSelector"))
        out.add(ev, term("kgo", "inSource"), source)
        out.add(ev, term("oa", "exact"), ox.Literal(item.span.text))
        out.add(ev, term("oa", "start"), ox.Literal(str(item.span.start), datatype=XSD_INTEGER))
        out.add(ev, term("oa", "end"), ox.Literal(str(item.span.end), datatype=XSD_INTEGER))
        out.add(ev, term("kgo", "extractedBy"), term("kgr", item.pattern))


# The syntax of each graph file kg build writes (and of N-Triples), by suffix.
GRAPH_FORMATS = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".trig": ox.RdfFormat.TRIG,
    ".nq": ox.RdfFormat.N_QUADS,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".jsonld": ox.RdfFormat.JSON_LD,
}


def read_graph(path: Path) -> RdfGraph:
    """A graph file, as kg build writes them; ValueError names an unknown suffix or the
    syntax error, OSError an unreadable file."""
    syntax = GRAPH_FORMATS.get(path.suffix)
    if syntax is None:
        raise ValueError(f"unknown graph format {path.suffix!r} (use {', '.join(GRAPH_FORMATS)})")
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        return RdfGraph(ox.parse(path=str(path), format=syntax))
    except SyntaxError as error:
        raise ValueError(f"not valid {syntax.name}: {error}") from error
