"""Check a graph against the SHACL shapes of ``ontology/shapes.ttl``.

Validation runs on pyshacl-turbo, a Rust SHACL engine behind pySHACL's own API: on a
corpus of a few hundred articles it takes half a second where pySHACL takes a quarter of
a minute. The tests hold it to pySHACL's findings on every kind of broken graph.

The graph is checked as one graph: claims in a source's named graph point at entities and
at the build in the default graph, and pySHACL would check each named graph on its own.
It reaches the engine as N-Triples text, which pyoxigraph writes and the engine parses in
Rust; handing it an rdflib graph would cost more than the validation itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from kg.graph import LABEL, RdfGraph
from kg.vocab import data_file


@dataclass(frozen=True, slots=True)
class Violation:
    """One result of the validation, in words: which node, which property, what is wrong."""

    focus: str  # the node's rdfs:label when it has one, else its IRI
    path: str  # the property, as a prefixed name when a prefix is bound ("" for node-level checks)
    message: str
    severity: str  # "Violation", "Warning" or "Info"
    value: str = ""  # the offending value, when there is one ("1.5" for a confidence of 1.5)

    def __str__(self) -> str:
        where = " ".join(filter(None, (self.focus, self.path, self.value)))
        return f"{self.severity}: {where}: {self.message}"


class NonConformingGraph(ValueError):
    """A graph that breaks the shapes; carries every violation."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        super().__init__(f"the graph does not conform to {SHAPES_FILE.name} ({len(violations)} violations)")


SHAPES_FILE: Path = data_file("shapes.ttl")


@cache
def shapes() -> Graph:
    """The shapes, parsed once per process."""
    return Graph().parse(SHAPES_FILE, format="turtle")


@cache
def compiled_shapes() -> object:
    from pyshacl_turbo import compile_shapes  # slow to import; only validation needs it

    # "advanced" turns on the SPARQL targets of the two checks SHACL Core cannot express
    # (see shapes.ttl). No inference: the shapes check what the graph states.
    return compile_shapes(shapes(), advanced=True)


def shacl_report(graph: RdfGraph) -> Graph:
    """The SHACL validation report of ``graph`` against the shapes."""
    # pyshacl-turbo reads serialized data through this record of its own (its public entry
    # points would first decode the text into an rdflib graph, slower than the validation).
    from pyshacl_turbo.rdf import Input

    text = ox.serialize(graph.triples(), format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
    _, report, _ = compiled_shapes().validate(Input(text, "nt", None, {}), allow_warnings=True)  # type: ignore[attr-defined]
    return report  # type: ignore[no-any-return]


def validate(graph: RdfGraph) -> list[Violation]:
    """Every violation of the shapes in ``graph``, sorted; an empty list means it conforms."""
    report = shacl_report(graph)
    results = list(report.subjects(SH.focusNode, None))
    if not results:
        return []
    labels = {triple.subject.value: triple.object.value for triple in graph.triples() if triple.predicate == LABEL}
    violations = [_violation(labels, report, result) for result in results]
    return sorted(set(violations), key=lambda v: (v.focus, v.path, v.message))


def conforms(violations: list[Violation]) -> bool:
    """True when nothing of severity Violation was found (warnings and infos pass)."""
    return not any(violation.severity == "Violation" for violation in violations)


def _violation(labels: dict[str, str], report: Graph, result: Node) -> Violation:
    focus = report.value(result, SH.focusNode)
    path = report.value(result, SH.resultPath)
    messages = sorted(str(m) for m in report.objects(result, SH.resultMessage))
    severity = report.value(result, SH.resultSeverity)
    value = report.value(result, SH.value)
    return Violation(
        focus=_name(labels, focus),
        path=_short(path) if isinstance(path, URIRef) else "",
        message="; ".join(messages) or "does not conform",
        severity=str(severity).rsplit("#", 1)[-1] if severity is not None else "Violation",
        value=_value(value) if value is not None and value != focus else "",
    )


def _name(labels: dict[str, str], node: Node | None) -> str:
    if isinstance(node, URIRef) and str(node) in labels:
        return f'"{labels[str(node)]}"'
    return str(node) if isinstance(node, URIRef) else repr(str(node))


def _value(node: Node) -> str:
    """A value as it would read in Turtle: a prefixed name, an <IRI> or a quoted literal."""
    if isinstance(node, URIRef):
        return _short(node)
    return f'"{node}"' if isinstance(node, Literal) and node.datatype is None else str(node)


def _short(iri: URIRef) -> str:
    """``prefix:name`` with the prefixes of the shapes file, whose names the messages use
    (not the data's: a file may bind kgo: as ns1: or not at all)."""
    for prefix, namespace in sorted(shapes().namespaces(), key=lambda item: (-len(item[1]), item[0])):
        local = iri[len(namespace) :]
        if prefix and iri.startswith(namespace) and local.replace("_", "a").isalnum():
            return f"{prefix}:{local}"
    return f"<{iri}>"
