"""Entities and claims as an RDF dataset, in the shape of the graph contract.

The default graph holds what the corpus as a whole says (entities, facts, the rules and
the build); each source's named graph holds what that source states (its description,
its claims and their evidence).
"""
from __future__ import annotations

import datetime
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from rdflib import OWL, RDF, RDFS, SKOS, XSD, Dataset, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, PROV

from kg import ids
from kg.extract.relations import canonical_decimal
from kg.extract.rules import lexicon, rules, rules_fingerprint
from kg.resolve import Resolution
from kg.types import Claim, Document, Entity
from kg.vocab import DEFAULT_BASE_IRI, KGO, KGR, LITERAL_RELATIONS, OA

FORMATS = {"txt": "text/plain", "md": "text/markdown", "html": "text/html"}
PREFIXES = {
    "kgo": KGO,
    "kgr": KGR,
    "prov": PROV,
    "oa": OA,
    "dcterms": DCTERMS,
    "skos": SKOS,
    "schema": Namespace("https://schema.org/"),
    "owl": OWL,
    "xsd": XSD,
}


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

    def entity(self, key: str) -> URIRef:
        return URIRef(f"{self.base}entity/{key}")

    def source(self, document_id: str) -> URIRef:
        return URIRef(f"{self.base}source/{ids.source_key(document_id)}")

    def claim(self, key: str) -> URIRef:
        return URIRef(f"{self.base}claim/{key}")

    def evidence(self, key: str) -> URIRef:
        return URIRef(f"{self.base}evidence/{key}")

    def build(self, key: str) -> URIRef:
        return URIRef(f"{self.base}build/{key}")


def build_dataset(resolution: Resolution, info: BuildInfo, base_iri: str = DEFAULT_BASE_IRI) -> Dataset:
    iris = Iris(base_iri)
    dataset = Dataset()
    for prefix, namespace in PREFIXES.items():
        dataset.bind(prefix, namespace, replace=True)
    default = dataset.default_graph
    build = _add_build(default, iris, info, resolution.documents)
    _add_rules(default)
    for entity in resolution.entities:
        _add_entity(default, iris, entity)
    for document in resolution.documents:
        _add_source(dataset.graph(iris.source(document.id)), iris, document)
    for claim in resolution.claims:
        _add_claim(dataset.graph(iris.source(claim.doc_id)), iris, claim, build)
        default.add(_fact(iris, claim))
    return dataset


def _add_build(graph: Graph, iris: Iris, info: BuildInfo, documents: Sequence[Document]) -> URIRef:
    parameters = json.dumps(dict(sorted(info.parameters.items())), sort_keys=True)
    # The inputs, the rules and the time are part of what the build is: two builds of other
    # articles, with edited rules or at other times are other activities, even with the
    # same settings.
    inputs = sorted(f"{document.id}:{ids.digest(document.text)}" for document in documents)
    settings = (parameters, rules_fingerprint(), info.timestamp or "")
    key = ids.digest(info.newskg_version, info.pipeline, info.pipeline_version, *settings, *inputs)
    node = iris.build(key)
    graph.add((node, RDF.type, KGO.Build))
    graph.add((node, RDF.type, PROV.Activity))
    graph.add((node, RDFS.label, Literal(f"newskg {info.newskg_version} build")))
    graph.add((node, KGO.newskgVersion, Literal(info.newskg_version)))
    graph.add((node, KGO.pipeline, Literal(info.pipeline)))
    graph.add((node, KGO.pipelineVersion, Literal(info.pipeline_version)))
    graph.add((node, KGO.parameters, Literal(parameters)))
    if info.timestamp:
        graph.add((node, PROV.endedAtTime, Literal(info.timestamp, datatype=XSD.dateTime)))
    for document in documents:
        graph.add((node, PROV.used, iris.source(document.id)))
    return node


def _add_rules(graph: Graph) -> None:
    """Describe every pattern a claim or alias can name, so users can see how it was found."""
    for rule in rules():
        node = KGR[rule.id]
        graph.add((node, RDF.type, KGO.ExtractionPattern))
        graph.add((node, RDFS.label, Literal(rule.id)))
        graph.add((node, RDFS.comment, Literal(rule.description)))
        graph.add((node, KGO.reliability, decimal_literal(rule.reliability)))
    for rule_id, description in sorted(lexicon().words["join_rules"].items()):
        node = KGR[rule_id]
        graph.add((node, RDF.type, KGO.ExtractionPattern))
        graph.add((node, RDFS.label, Literal(rule_id)))
        graph.add((node, RDFS.comment, Literal(description)))


def _add_entity(graph: Graph, iris: Iris, entity: Entity) -> None:
    node = iris.entity(entity.key)
    graph.add((node, RDF.type, KGO[entity.type]))
    graph.add((node, RDFS.label, Literal(entity.label)))
    graph.add((node, KGO.mentionCount, Literal(entity.mention_count, datatype=XSD.nonNegativeInteger)))
    for document_id in entity.mentioned_in:
        graph.add((node, KGO.mentionedIn, iris.source(document_id)))
    for alias, rule in entity.aliases:
        graph.add((node, SKOS.altLabel, Literal(alias)))
        join = URIRef(f"{node}/alias/{ids.slug(alias) or 'name'}-{ids.digest(alias, length=6)}")
        graph.add((node, KGO.aliasJoin, join))
        graph.add((join, RDF.type, KGO.AliasJoin))
        graph.add((join, KGO.alias, Literal(alias)))
        graph.add((join, KGO.joinedBy, KGR[rule]))
    for iri in entity.same_as:
        graph.add((node, OWL.sameAs, URIRef(iri)))


def _add_source(graph: Graph, iris: Iris, document: Document) -> None:
    node = iris.source(document.id)
    graph.add((node, RDF.type, KGO.Source))
    graph.add((node, RDF.type, PROV.Entity))
    graph.add((node, DCTERMS.identifier, Literal(document.id)))
    graph.add((node, DCTERMS.format, Literal(FORMATS[document.format])))
    if document.path:
        graph.add((node, KGO.path, Literal(document.path)))
    if document.title:
        graph.add((node, DCTERMS.title, Literal(document.title)))
    if document.date:
        graph.add((node, DCTERMS.date, date_literal(document.date)))


def decimal_literal(value: float | str | Decimal) -> Literal:
    """An xsd:decimal in canonical form ("0.9", "75000000.0"): str(Decimal) can give "1E-7"
    or "0.90", which are not canonical, and the first is not even a decimal."""
    return Literal(canonical_decimal(Decimal(str(value))), datatype=XSD.decimal)


YEAR = re.compile(r"\d{4}")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def date_literal(text: str) -> Literal:
    """An xsd:gYear ("2021") or xsd:date ("2021-03-04") when ``text`` is a real one; anything
    else stays a plain string, which the shapes reject, rather than a false xsd:date."""
    if YEAR.fullmatch(text):
        return Literal(text, datatype=XSD.gYear)
    if ISO_DATE.fullmatch(text) and _is_calendar_date(text):
        return Literal(text, datatype=XSD.date)
    return Literal(text)


def _is_calendar_date(text: str) -> bool:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _object(iris: Iris, claim: Claim) -> URIRef | Literal:
    if claim.object is not None:
        return iris.entity(claim.object)
    return date_literal(claim.literal or "")


def _fact(iris: Iris, claim: Claim) -> tuple[URIRef, URIRef, URIRef | Literal]:
    return iris.entity(claim.subject), KGO[claim.relation], _object(iris, claim)


def _add_claim(graph: Graph, iris: Iris, claim: Claim, build: URIRef) -> None:
    node = iris.claim(claim.key)
    graph.add((node, RDF.type, KGO.Claim))
    graph.add((node, RDF.type, PROV.Entity))
    graph.add((node, RDF.subject, iris.entity(claim.subject)))
    graph.add((node, RDF.predicate, KGO[claim.relation]))
    graph.add((node, RDF.object, _object(iris, claim)))
    graph.add((node, PROV.wasDerivedFrom, iris.source(claim.doc_id)))
    graph.add((node, PROV.wasGeneratedBy, build))
    graph.add((node, KGO.confidence, decimal_literal(claim.confidence)))
    details = claim.details
    if details.amount is not None:
        graph.add((node, KGO.amount, decimal_literal(details.amount)))
        if details.currency:
            graph.add((node, KGO.currency, Literal(details.currency)))
        if details.approximate:
            graph.add((node, KGO.approximate, Literal(True)))
    if details.undisclosed:
        graph.add((node, KGO.undisclosed, Literal(True)))
    if details.hedged:
        graph.add((node, KGO.hedged, Literal(True)))
    if details.role:
        graph.add((node, KGO.role, Literal(details.role)))
    if details.date and claim.relation not in LITERAL_RELATIONS:
        graph.add((node, KGO.date, date_literal(details.date)))
    if claim.reported_by:
        graph.add((node, KGO.reportedBy, iris.entity(claim.reported_by)))
    for other in claim.corroborated_by:
        graph.add((node, KGO.corroboratedBy, iris.claim(other)))
    for other in claim.disputed_by:
        graph.add((node, KGO.disputedBy, iris.claim(other)))
    for evidence in claim.evidence:
        ev = iris.evidence(ids.evidence_key(claim.key, evidence.span.start, evidence.span.end))
        graph.add((node, KGO.evidence, ev))
        graph.add((node, KGO.extractedBy, KGR[evidence.pattern]))
        graph.add((ev, RDF.type, KGO.Evidence))
        graph.add((ev, RDF.type, OA.TextQuoteSelector))
        graph.add((ev, RDF.type, OA.TextPositionSelector))
        graph.add((ev, KGO.inSource, iris.source(claim.doc_id)))
        graph.add((ev, OA.exact, Literal(evidence.span.text)))
        graph.add((ev, OA.start, Literal(evidence.span.start)))
        graph.add((ev, OA.end, Literal(evidence.span.end)))
        graph.add((ev, KGO.extractedBy, KGR[evidence.pattern]))
